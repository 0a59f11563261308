/* An upward include: util (the lowest layer) uses the smtp layer. The
 * layering test expects server/layers.cmake to reject this tree. */
#include "session.h"
