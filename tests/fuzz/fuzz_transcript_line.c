/*
 * fuzz_transcript_line.c - libFuzzer target for server/out/
 * transcript_line.h: the JSON line written by copying bytes must be the
 * line jansson writes for the same event, or not be written at all.
 *
 * One input: its first byte picks the event kind and whether rule, why,
 * lost and profile are set; the rest is the event's fields when it parses
 * as a JSON object (jansson), else its text. Whenever
 * tr_line_fast() answers, its bytes must equal json_dumps() of the object
 * event_json() would build (the common keys, then the fields merged), else
 * abort().
 *
 * Does not: check jansson, or the readable transcript.
 */
#include "transcript_line.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
reference(const struct tr_event *ev, const char *when)
{
	json_t *o = json_object(), *t = json_stringn(ev->text, ev->len);
	char *out;

	if (o == NULL || t == NULL) {
		json_decref(o);
		json_decref(t);
		return NULL;
	}
	json_object_set_new(o, "schema", json_integer(TR_SCHEMA));
	json_object_set_new(o, "time", json_string(when));
	json_object_set_new(o, "session",
	                    json_integer((json_int_t)ev->session));
	json_object_set_new(o, "dir", json_string(tr_kind_str(ev->kind)));
	json_object_set_new(o, "text", t);
	if (ev->rule != NULL)
		json_object_set_new(o, "rule", json_string(ev->rule));
	if (ev->why != NULL)
		json_object_set_new(o, "why", json_string(ev->why));
	if (ev->profile != NULL)
		json_object_set_new(o, "profile", json_string(ev->profile));
	if (ev->lost != NULL) {
		json_object_set_new(o, "delivered", json_false());
		json_object_set_new(o, "lost", json_string(ev->lost));
	}
	if (ev->fields != NULL)
		json_object_update(o, (json_t *)ev->fields);
	out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char line[4096];
	struct tr_event ev = {0};
	json_t *fields = NULL;
	size_t len;
	char *want;

	if (size == 0)
		return 0;
	ev.kind = (enum tr_kind)(data[0] % TR_COUNT);
	ev.session = (unsigned long)data[0] << 20 | size;
	ev.rule = (data[0] & 0x10) != 0 ? "rule-1" : NULL;
	ev.why = (data[0] & 0x20) != 0 ? "a reason" : NULL;
	ev.lost = (data[0] & 0x40) != 0 ? "masked by asa" : NULL;
	ev.profile = (data[0] & 0x80) != 0 ? "standard" : NULL;
	ev.text = (const char *)data + 1;
	ev.len = size - 1;
	fields = json_loadb(ev.text, ev.len, 0, NULL);
	if (json_is_object(fields)) { /* fields, and a text that is plain */
		ev.fields = fields;
		ev.text = "250 2.0.0 Ok";
		ev.len = strlen(ev.text);
	}
	len = tr_line_fast(&ev, "2026-12-03T21:00:00.000Z", line, sizeof(line));
	if (len != 0) {
		if ((want = reference(&ev, "2026-12-03T21:00:00.000Z")) ==
		        NULL ||
		    strlen(want) != len || memcmp(want, line, len) != 0)
			abort();
		free(want);
	}
	json_decref(fields);
	return 0;
}
