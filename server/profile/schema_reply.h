/*
 * schema_reply.h - the top-level keys that say how a vendor writes its
 * ids and dates: session_id_format, queue_id_format, date_format,
 * date_format_utc (capability 6 of issue 13).
 *
 * The rows are top-level keys, and the top level is one table
 * (schema_rows.c): SCHEMA_REPLY_ROWS is that table's share, placed there
 * by name so this file keeps the rows and their code together.
 *
 * Does not: make the ids (proto/ids.c) or expand the dates (template.c).
 */
#ifndef SCHEMA_REPLY_H
#define SCHEMA_REPLY_H

#include "schema.h"
#include "template.h"

/* load_date_format - a date_format(_utc) line, checked conversion by
 * conversion (template_date_check) */
int load_date_format(struct layer *l, const struct schema_row *r,
                     const yaml_node_t *n, const char *what, void *base);

/* clang-format off */
#define SCHEMA_REPLY_ROWS                                                      \
	{.name = "session_id_format",                                          \
	 .type = T_CHOICE,                                                     \
	 .kinds = KIND_SERVER,                                                 \
	 .off = offsetof(struct profile, session_id_format),                   \
	 .def = SID_NUMBER,                                                    \
	 .choices = ids_sid_names,                                             \
	 .nchoices = SID_FORMAT_COUNT,                                         \
	 .doc = "the shape of {session_id}, made once per session with its "   \
	        "greeting: number (the session number, as {session}) or "      \
	        "gmail (d75a77b69052e-2b0c4fea3a4si1234567a.2, random "        \
	        "pieces)"},                                                    \
	{.name = "queue_id_format",                                            \
	 .type = T_CHOICE,                                                     \
	 .kinds = KIND_SERVER,                                                 \
	 .off = offsetof(struct profile, queue_id_format),                     \
	 .def = QID_HEX,                                                       \
	 .choices = ids_qid_names,                                             \
	 .nchoices = QID_FORMAT_COUNT,                                         \
	 .doc = "the shape of {queue_id} and of the accepted event's "         \
	        "queue_id: hex (8+6 hex digits), postfix (691C961ADE2), "      \
	        "sendmail (5BF3ab1t012345), exim (1p01gJ-001s6W-2R) or "       \
	        "qmail (<unix-time> qp <pid>); spool file names stay "         \
	        "safe whatever the shape"},                                    \
	{.name = "date_format",                                                \
	 .type = T_LINE,                                                       \
	 .kinds = KIND_SERVER,                                                 \
	 .off = offsetof(struct profile, date_format),                         \
	 .load = load_date_format,                                             \
	 .def_str = TEMPLATE_DATE_RFC5322,                                     \
	 .doc = "{date} in local time, a strftime(3) format limited to "       \
	        "the conversions that ignore the locale (%a %b in "            \
	        "English; %-d GNU flags as in glibc); the default is "         \
	        "RFC 5322 3.3's \"Fri, 5 Aug 2016 16:24:41 -0700\""},          \
	{.name = "date_format_utc",                                            \
	 .type = T_LINE,                                                       \
	 .kinds = KIND_SERVER,                                                 \
	 .off = offsetof(struct profile, date_format_utc),                     \
	 .load = load_date_format,                                             \
	 .def_str = "",                                                        \
	 .zero = "(date_format)",                                              \
	 .doc = "{date} when the local offset is 0, e.g. Sendmail's "          \
	        "\"... 10:53:10 GMT\" in place of \"+0000 (zone)\"; "          \
	        "empty: date_format"}
/* clang-format on */

#endif
