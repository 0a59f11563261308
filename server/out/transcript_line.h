/*
 * transcript_line.h - an event's JSON line by copying bytes, when none of
 * its values needs escaping (transcript_line.c says when and why);
 * transcript.c falls back to json_dumpb for every other event.
 */
#ifndef TRANSCRIPT_LINE_H
#define TRANSCRIPT_LINE_H

#include <stddef.h>

#include "transcript.h"

/* arrays and objects nest at most this deep inside an event's fields */
#define TR_LINE_DEPTH 4

/*
 * tr_line_fast - the JSON line of ev (when: its "time" value) in buf, the
 * bytes json_dumpb(JSON_COMPACT | JSON_PRESERVE_ORDER) writes for the
 * object event_json() builds, without the newline. Returns its length, or
 * 0 when a value needs jansson or the line does not fit in cap bytes.
 */
size_t tr_line_fast(const struct tr_event *ev, const char *when, char *buf,
                    size_t cap);

#endif
