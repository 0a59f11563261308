/*
 * test_transcript_fields.c - transcript.c: an event's facts merged into
 * its JSON line as fields (after the common keys, never in the readable
 * line, the reused object of plain lines untouched), and taps (every event
 * as JSON to in-process consumers, with no sink open).
 */
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "transcript.h"
#include "transcript_util.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Emit ev as it is, then with fields: the readable line is the same. */
static const struct tr_event fields_ev = {.session = 3,
                                          .kind = TR_CONNECT,
                                          .text = "1.2.3.4:5 -> 6.7.8.9:25 "
                                                  "profile=esa",
                                          .len = 35,
                                          .profile = "esa"};
static json_t *fields_obj;

static void
fields_events(void)
{
	struct tr_event ev = fields_ev;
	struct tr_event c = {.session = 3,
	                     .kind = TR_CLIENT,
	                     .text = "EHLO x",
	                     .len = 6,
	                     .profile = "esa"};

	transcript_emit(&c); /* the reused object */
	transcript_emit(&ev);
	ev.fields = fields_obj;
	transcript_emit(&ev);
	transcript_emit(&c); /* reused again: no trace of the fields */
}

/* Fields join the JSON line after the common keys, in their order; the
 * caller keeps its object; the readable line never shows them; the
 * reused object of plain lines is not touched. */
static void
test_fields(void **state)
{
	char path[256], err[256], *buf, *lines[8], *out;
	const char *want[] = {
	    "{\"schema\":1,\"time\":\"T\",\"session\":3,\"dir\":\"C\",\"text\":"
	    "\"EHLO x\",\"profile\":\"esa\"}",
	    "{\"schema\":1,\"time\":\"T\",\"session\":3,\"dir\":\"connect\","
	    "\"text\":\"1.2.3.4:5 -> 6.7.8.9:25 profile=esa\",\"profile\":"
	    "\"esa\"}",
	    "{\"schema\":1,\"time\":\"T\",\"session\":3,\"dir\":\"connect\","
	    "\"text\":\"1.2.3.4:5 -> 6.7.8.9:25 profile=esa\",\"profile\":"
	    "\"esa\",\"client\":{\"addr\":\"1.2.3.4\",\"port\":5},"
	    "\"tls_listener\":false}",
	    "{\"schema\":1,\"time\":\"T\",\"session\":3,\"dir\":\"C\",\"text\":"
	    "\"EHLO x\",\"profile\":\"esa\"}",
	};
	size_t n;
	int fd, failed = 0;

	(void)state;
	fields_obj = json_pack("{s:{s:s, s:i}, s:b}", "client", "addr",
	                       "1.2.3.4", "port", 5, "tls_listener", 0);
	assert_non_null(fields_obj);
	temp_path(path, sizeof(path));
	assert_int_equal(transcript_open(false, false, path, err, sizeof(err)),
	                 0);
	fields_events();
	transcript_close();
	assert_int_equal(fields_obj->refcount, 1); /* still only ours */
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	buf = read_fd(fd);
	close(fd);
	n = split_lines(buf, lines, NELEM(lines));
	assert_int_equal(n, NELEM(want));
	for (size_t i = 0; i < n; i++) {
		/* the time varies: "time":"..." becomes "time":"T" */
		char *t = strstr(lines[i], "\"time\":\""), *end, cut[512];
		assert_non_null(t);
		end = strchr(t + 8, '"');
		assert_non_null(end);
		snprintf(cut, sizeof(cut), "%.*sT%s", (int)(t + 8 - lines[i]),
		         lines[i], end);
		lines[i] = strcpy(lines[i], cut); /* never longer */
		if (strcmp(lines[i], want[i]) != 0) {
			print_error("line %zu:\n got %s\nwant %s\n", i,
			            lines[i], want[i]);
			failed++;
		}
	}
	free(buf);
	remove_temp(path);

	/* readable: the connect line is the same with and without fields */
	assert_int_equal(transcript_open(true, false, NULL, err, sizeof(err)),
	                 0);
	out = capture(STDERR_FILENO, fields_events);
	transcript_close();
	n = split_lines(out, lines, NELEM(lines));
	assert_int_equal(n, 4);
	assert_string_equal(lines[1] + 13,
	                    "[s3] connect 1.2.3.4:5 -> 6.7.8.9:25 profile=esa");
	assert_string_equal(lines[2] + 13, lines[1] + 13);
	free(out);
	json_decref(fields_obj);
	assert_int_equal(failed, 0);
}

struct tap_seen {
	int n;
	char dir[16];
	char line[256];
	json_int_t session;
};

static void
tap_record(const struct json_t *o, const char *line, size_t len, void *arg)
{
	struct tap_seen *seen = arg;
	const char *dir = json_string_value(json_object_get(o, "dir"));

	seen->n++;
	snprintf(seen->dir, sizeof(seen->dir), "%s", dir != NULL ? dir : "");
	snprintf(seen->line, sizeof(seen->line), "%.*s", (int)len, line);
	seen->session = json_integer_value(json_object_get(o, "session"));
}

/* A tap sees every event as JSON even with no sink open; last, since a
 * tap stays for the life of the process. */
static void
test_tap(void **state)
{
	struct tap_seen seen = {0};
	char err[256];

	(void)state;
	assert_int_equal(transcript_open(false, false, NULL, err, sizeof(err)),
	                 0);
	assert_false(transcript_wants(TR_SERVER));
	assert_int_equal(transcript_add_tap(tap_record, &seen), 0);
	assert_true(transcript_wants(TR_SERVER));
	assert_true(transcript_wants(TR_INFO));
	assert_false(transcript_wants(TR_DETAIL)); /* only with verbose */
	transcript_printf(9, TR_SERVER, "std", "250 %s", "OK");
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.dir, "S");
	assert_int_equal(seen.session, 9);
	assert_non_null(strstr(seen.line, "\"text\":\"250 OK\""));
	assert_null(strchr(seen.line, '\n'));
	transcript_printf(9, TR_DETAIL, "std", "state %s", "mail");
	assert_int_equal(seen.n, 1);
	{
		/* a tap gets the fields too, in the object and the line */
		json_t *f =
		    json_pack("{s:s, s:i}", "how", "rst", "messages", 2);
		struct tr_event ev = {.session = 9,
		                      .kind = TR_CLOSE,
		                      .text = "rst (x)",
		                      .len = 7,
		                      .profile = "std",
		                      .fields = f};
		assert_non_null(f);
		transcript_emit(&ev);
		assert_int_equal(seen.n, 2);
		assert_string_equal(seen.dir, "close");
		assert_non_null(
		    strstr(seen.line, "\"how\":\"rst\",\"messages\":2}"));
		assert_non_null(strstr(seen.line, "{\"schema\":1,"));
		json_decref(f);
	}
	for (int i = 1; i < TR_TAPS_MAX; i++)
		assert_int_equal(transcript_add_tap(tap_record, &seen), 0);
	assert_int_equal(transcript_add_tap(tap_record, &seen), -1);
	transcript_close();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_tap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
