/*
 * test_transcript_tap_ev.c - transcript.c: a tap added with an event
 * function (transcript_add_tap_ev) gets the worker's struct tr_event and
 * no JSON object whenever the line was written without jansson, and its
 * JSON function only for a line that needed jansson (non-ASCII text). Its
 * own process: a tap stays for the life of one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "transcript.h"

struct seen {
	int json, ev;
	enum tr_kind kind;
	unsigned long session;
	const json_t *fields;
	char when[64];
	char line[512];
};

static void
tap_json(const struct json_t *o, const char *line, size_t len, void *arg)
{
	struct seen *s = arg;

	s->json++;
	s->session =
	    (unsigned long)json_integer_value(json_object_get(o, "session"));
	snprintf(s->line, sizeof(s->line), "%.*s", (int)len, line);
}

static void
tap_ev(const struct tr_event *ev, const char *when, const char *line,
       size_t len, void *arg)
{
	struct seen *s = arg;

	s->ev++;
	s->kind = ev->kind;
	s->session = ev->session;
	s->fields = ev->fields;
	snprintf(s->when, sizeof(s->when), "%s", when);
	snprintf(s->line, sizeof(s->line), "%.*s", (int)len, line);
}

static void
test_tap_ev(void **state)
{
	struct seen s = {0};
	char err[256], want[128];
	json_t *f = json_pack("{s:s, s:i}", "how", "fin", "messages", 1);

	(void)state;
	assert_non_null(f);
	assert_int_equal(transcript_open(false, false, NULL, err, sizeof(err)),
	                 0);
	assert_int_equal(transcript_add_tap_ev(tap_json, tap_ev, &s), 0);
	/* a plain line: the event, the time the line has */
	transcript_printf(4, TR_CLIENT, "std", "EHLO %s", "x");
	assert_int_equal(s.ev, 1);
	assert_int_equal(s.json, 0);
	assert_int_equal(s.kind, TR_CLIENT);
	assert_int_equal(s.session, 4);
	snprintf(want, sizeof(want), "{\"schema\":1,\"time\":\"%s\",", s.when);
	assert_int_equal(strncmp(s.line, want, strlen(want)), 0);
	assert_non_null(strstr(s.line, "\"text\":\"EHLO x\""));
	/* an event with fields: still no JSON object, the fields as made */
	{
		struct tr_event ev = {.session = 4,
		                      .kind = TR_CLOSE,
		                      .text = "fin (x)",
		                      .len = 7,
		                      .profile = "std",
		                      .fields = f};

		transcript_emit(&ev);
	}
	assert_int_equal(s.ev, 2);
	assert_int_equal(s.json, 0);
	assert_int_equal(s.kind, TR_CLOSE);
	assert_ptr_equal(s.fields, f);
	assert_non_null(strstr(s.line, "\"how\":\"fin\",\"messages\":1}"));
	/* text jansson must escape: the JSON function, with the object */
	transcript_printf(5, TR_CLIENT, "std", "HELO caf\xc3\xa9");
	assert_int_equal(s.ev, 2);
	assert_int_equal(s.json, 1);
	assert_int_equal(s.session, 5);
	assert_non_null(strstr(s.line, "\"text\":\"HELO caf\\u00e9\"") != NULL
	                    ? s.line
	                    : strstr(s.line, "\"text\":\"HELO caf\xc3\xa9\""));
	transcript_close();
	json_decref(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tap_ev),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
