/*
 * utf8.h - the one UTF-8 validator: how long is the well-formed sequence
 * at a byte (RFC 3629 4). Used wherever input may carry UTF-8 (SMTPUTF8
 * addresses, transcript text, profile columns).
 * Does not: decode, normalise or count display width.
 */
#ifndef UTF8_H
#define UTF8_H

#include <stddef.h>

/*
 * utf8_seq - length (1-4) of the well-formed UTF-8 sequence starting at
 * p, of which len bytes are available; 1 for an ASCII byte, 0 when the
 * bytes are not one (overlong forms, surrogates, code points above
 * U+10FFFF and cut-off sequences are refused, as jansson refuses them).
 */
size_t utf8_seq(const unsigned char *p, size_t len);

#endif
