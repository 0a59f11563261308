/*
 * schema_reply.c - the code of the keys that say how a vendor writes its
 * ids and dates (schema_reply.h has their rows): the date formats'
 * load-time check.
 *
 * Does not: make ids or dates (proto/ids.c, proto/template.c).
 */
#include <stdlib.h>

#include "schema_reply.h"
#include "template.h"

/* load_date_format - date_format / date_format_utc: a checked line */
int
load_date_format(struct layer *l, const struct schema_row *r,
                 const yaml_node_t *n, const char *what, void *base)
{
	size_t pos = 0;
	const char *v;

	if (schema_load_value(l, r, n, what, base) < 0)
		return -1;
	v = *(char **)schema_field(r, base);
	if (v != NULL && template_date_check(v, &pos) < 0)
		return err_node(
		    l, n,
		    "%s: bad conversion at byte %zu of \"%s\" (use "
		    "strftime's a A b B h C d D e F g G H I j k l m "
		    "M R s S T u U V w W y Y z Z %%, e.g. \"%s\")",
		    what, pos, v, TEMPLATE_DATE_RFC5322);
	return 0;
}
