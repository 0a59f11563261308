/*
 * mail_headers.h - the header section of a stored message as name/value
 * pairs, for GET /api/v1/messages (subject, header= search) and the
 * message view.
 *
 * Does: RFC 5322 2.2: "Name: value" lines up to the first empty line,
 * folded lines unfolded (CRLF before white space removed), CRLF or LF
 * line ends, values trimmed of leading white space; bytes that are not
 * UTF-8 come out as \xNN. Does not: decode RFC 2047 encoded words, or
 * read past MAIL_HEADERS_BYTES.
 */
#ifndef MAIL_HEADERS_H
#define MAIL_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define MAIL_HEADERS_MAX   500           /* headers returned */
#define MAIL_HEADERS_BYTES (256u * 1024) /* of the message read */

/* mail_headers_json - [["Name","value"], ...] in order (new reference) */
json_t *mail_headers_json(const char *msg, size_t len);

/* mail_header_get - the first value of name (any case), or NULL */
const char *mail_header_get(const json_t *headers, const char *name);

/* mail_header_match - "Name:value" (value a case-insensitive substring
 * of one Name header) or "Name" (present) */
bool mail_header_match(const json_t *headers, const char *spec);

/* mail_contains - needle a case-insensitive substring of hay (NULL hay:
 * false) */
bool mail_contains(const char *hay, const char *needle);

#endif
