/*
 * test_hub.c - unit tests for hub.c, hub_time.c, mail_headers.c and the
 * pure half of metrics.c: transcript events (as the JSON objects a tap
 * receives) in, exact summaries, filters, bounds, counts and stream out;
 * ISO-8601 times; header parsing whole and trickled; label escaping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "hub.h"
#include "mail_headers.h"
#include "metrics.h"
#include "transcript.h"

static void
feed(struct hub *hub, const char *text)
{
	json_error_t e;
	json_t *o = json_loads(text, 0, &e);

	if (o == NULL)
		fail_msg("bad test JSON %s: %s", text, e.text);
	hub_tap(o, text, strlen(text), hub);
	json_decref(o);
}

static void
feedf(struct hub *hub, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	feed(hub, buf);
}

/* one whole session: connect, a rule, an accepted message, close */
static void
session(struct hub *hub, int id, const char *profile, const char *time,
        int port, const char *rule)
{
	feedf(hub,
	      "{\"time\":\"%s\",\"session\":%d,\"dir\":\"connect\","
	      "\"profile\":\"%s\",\"client\":{\"addr\":\"10.0.0.%d\","
	      "\"port\":%d},\"server\":{\"addr\":\"127.0.0.1\",\"port\":25}}",
	      time, id, profile, id, port);
	if (rule != NULL)
		feedf(hub,
		      "{\"time\":\"%s\",\"session\":%d,\"dir\":\"rule\","
		      "\"profile\":\"%s\",\"rule\":\"%s\",\"why\":\"w\"}",
		      time, id, profile, rule);
	feedf(hub,
	      "{\"time\":\"%s\",\"session\":%d,\"dir\":\"info\",\"profile\":"
	      "\"%s\",\"event\":\"accepted\",\"queue_id\":\"Q%d\",\"size\":"
	      "10,\"spool\":\"f%d\",\"mail_from\":\"a@b\",\"rcpts\":[\"c@d\"]}",
	      time, id, profile, id, id);
}

static void
close_session(struct hub *hub, int id, const char *how)
{
	feedf(hub,
	      "{\"time\":\"2026-01-01T00:00:09.000Z\",\"session\":%d,\"dir\":"
	      "\"close\",\"how\":\"%s\",\"reason\":\"r\",\"bytes_in\":100,"
	      "\"bytes_out\":50,\"profile\":\"p\"}",
	      id, how);
}

static size_t
count_sessions(struct hub *hub, const struct hub_filter *f)
{
	json_t *o = hub_sessions_json(hub, f);
	size_t n = json_array_size(json_object_get(o, "sessions"));

	json_decref(o);
	return n;
}

/* The line as a worker hands it over without JSON (hub_tap_ev): the
 * common members into a struct tr_event, the rest as its fields. */
static void
feed_ev(struct hub *hub, const char *text)
{
	static const char *common[] = {"time",    "session", "dir",
	                               "profile", "rule",    "why"};
	json_t *o = json_loads(text, 0, NULL), *f = json_copy(o);
	const char *dir = json_string_value(json_object_get(o, "dir"));
	struct tr_event ev = {0};

	assert_non_null(dir);
	ev.kind = TR_COUNT;
	for (int k = 0; k < TR_COUNT; k++)
		if (strcmp(dir, tr_kind_str(k)) == 0)
			ev.kind = k;
	ev.session =
	    (unsigned long)json_integer_value(json_object_get(o, "session"));
	ev.profile = json_string_value(json_object_get(o, "profile"));
	ev.rule = json_string_value(json_object_get(o, "rule"));
	ev.why = json_string_value(json_object_get(o, "why"));
	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		json_object_del(f, common[i]);
	ev.fields = json_object_size(f) != 0 ? f : NULL;
	hub_tap_ev(&ev, json_string_value(json_object_get(o, "time")), text,
	           strlen(text), hub);
	json_decref(f);
	json_decref(o);
}

static char *
dump_all(struct hub *hub)
{
	json_t *all = json_pack("{s:o, s:o, s:o, s:o}", "sessions",
	                        hub_sessions_json(hub, NULL), "messages",
	                        hub_messages_json(hub), "totals",
	                        hub_totals(hub), "window", hub_window(hub));
	char *text = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);

	json_decref(all);
	return text;
}

/* Both ways in (hub_tap's JSON object, hub_tap_ev's event) index alike. */
static void
test_tap_ev_same_as_json(void **state)
{
	static const char *lines[] = {
	    "{\"time\":\"2026-01-01T00:00:01.000Z\",\"session\":3,\"dir\":"
	    "\"connect\",\"profile\":\"esa\",\"client\":{\"addr\":"
	    "\"10.0.0.3\",\"port\":4000},\"server\":{\"addr\":"
	    "\"127.0.0.1\",\"port\":25}}",
	    "{\"time\":\"2026-01-01T00:00:01.100Z\",\"session\":3,\"dir\":"
	    "\"S\",\"profile\":\"esa\",\"text\":\"220 hi\"}",
	    "{\"time\":\"2026-01-01T00:00:01.200Z\",\"session\":3,\"dir\":"
	    "\"rule\",\"profile\":\"esa\",\"rule\":\"r1\",\"why\":\"w\"}",
	    "{\"time\":\"2026-01-01T00:00:01.300Z\",\"session\":3,\"dir\":"
	    "\"tls\",\"profile\":\"esa\",\"event\":\"handshake_done\","
	    "\"version\":\"TLSv1.2\",\"suite\":{\"name\":\"TLS_X\","
	    "\"hex\":\"0xC02F\"}}",
	    "{\"time\":\"2026-01-01T00:00:02.000Z\",\"session\":3,\"dir\":"
	    "\"info\",\"profile\":\"esa\",\"event\":\"accepted\","
	    "\"queue_id\":\"Q3\",\"size\":10,\"spool\":\"f3\","
	    "\"mail_from\":\"a@b\",\"rcpts\":[\"c@d\"]}",
	    "{\"time\":\"2026-01-01T00:00:03.000Z\",\"session\":3,\"dir\":"
	    "\"close\",\"profile\":\"esa\",\"rule\":\"r1\",\"how\":"
	    "\"rst\",\"reason\":\"r1\",\"bytes_in\":100,\"bytes_out\":50}",
	};
	struct hub *a = hub_new(NULL), *b = hub_new(NULL);
	char *ta, *tb;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		feed(a, lines[i]);
		feed_ev(b, lines[i]);
	}
	ta = dump_all(a);
	tb = dump_all(b);
	assert_string_equal(ta, tb);
	/* and it is the session: not two empty indexes alike */
	assert_non_null(strstr(ta, "\"close\":{\"how\":\"rst\",\"reason\":"
	                           "\"r1\",\"rule\":\"r1\"}"));
	assert_non_null(strstr(ta, "\"queue_id\":\"Q3\""));
	free(ta);
	free(tb);
	hub_free(a);
	hub_free(b);
}

static void
test_summary(void **state)
{
	struct hub *hub = hub_new(NULL);
	json_t *o, *s;
	char *text;

	session(hub, 7, "esa", "2026-01-01T00:00:01.000Z", 5000, "r1");
	feed(hub, "{\"session\":7,\"dir\":\"tls\",\"event\":\"handshake_done\","
	          "\"version\":\"TLSv1.2\",\"suite\":{\"name\":\"TLS_X\","
	          "\"hex\":\"0xC02F\"}}");
	close_session(hub, 7, "rst");
	o = hub_sessions_json(hub, NULL);
	s = json_array_get(json_object_get(o, "sessions"), 0);
	json_object_del(s, "client"); /* checked by the filters */
	text = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(
	    text, "{\"close\":{\"how\":\"rst\",\"reason\":\"r\"},\"ended\":"
	          "\"2026-01-01T00:00:09.000Z\",\"events\":5,\"id\":7,"
	          "\"messages\":1,\"profile\":\"esa\",\"rules\":[\"r1\"],"
	          "\"server\":{\"addr\":\"127.0.0.1\",\"port\":25},\"started\":"
	          "\"2026-01-01T00:00:01.000Z\",\"state\":\"closed\",\"tls\":"
	          "{\"suite\":{\"hex\":\"0xC02F\",\"name\":\"TLS_X\"},"
	          "\"version\":\"TLSv1.2\"}}");
	free(text);
	json_decref(o);
	o = hub_session_json(hub, 7);
	assert_int_equal(json_array_size(json_object_get(o, "events")), 5);
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(o, "events"), 4), "dir")),
	    "close");
	json_decref(o);
	assert_null(hub_session_json(hub, 8));
	hub_free(hub);
}

static void
test_filters(void **state)
{
	struct hub *hub = hub_new(NULL);
	struct {
		const char *label;
		struct hub_filter f;
		size_t want;
	} cases[] = {
	    {"all", {0}, 3},
	    {"profile esa", {.profile = "esa"}, 2},
	    {"profile none", {.profile = "x"}, 0},
	    {"client addr", {.client = "10.0.0.2"}, 1},
	    {"client addr:port", {.client = "10.0.0.2:6000"}, 1},
	    {"client wrong port", {.client = "10.0.0.2:1"}, 0},
	    {"open", {.state = "open"}, 1},
	    {"closed", {.state = "closed"}, 2},
	    {"rule", {.rule = "r1"}, 2},
	    {"rule and profile", {.rule = "r1", .profile = "std"}, 1},
	    {"since", {.has_since = true, .since_ms = 0}, 3},
	};

	session(hub, 1, "esa", "2026-01-01T00:00:01.000Z", 5000, "r1");
	session(hub, 2, "esa", "2026-01-01T00:00:02.000Z", 6000, NULL);
	session(hub, 3, "std", "2026-01-01T00:00:03.500Z", 7000, "r1");
	close_session(hub, 1, "fin");
	close_session(hub, 2, "fin");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t got = count_sessions(hub, &cases[i].f);

		if (got != cases[i].want)
			fail_msg("%s: got %zu, want %zu", cases[i].label, got,
			         cases[i].want);
	}
	{
		struct hub_filter f = {.has_since = true};

		assert_int_equal(
		    hub_time_ms("2026-01-01T00:00:02Z", &f.since_ms), 0);
		assert_int_equal(count_sessions(hub, &f), 2);
		f.since_ms += 1501;
		assert_int_equal(count_sessions(hub, &f), 0);
	}
	hub_free(hub);
}

static void
test_bounds(void **state)
{
	struct hub_limits lim = {3, 1 << 20, 1 << 16, 2, 1 << 16};
	struct hub *hub = hub_new(&lim);
	json_t *o;

	for (int i = 1; i <= 5; i++) {
		session(hub, i, "p", "2026-01-01T00:00:01Z", 1, NULL);
		if (i != 2)
			close_session(hub, i, "fin");
	}
	/* 5 sessions, at most 3 kept: the oldest closed ones (1, 3) go;
	 * the open session 2 stays though older */
	o = hub_sessions_json(hub, NULL);
	assert_int_equal(json_array_size(json_object_get(o, "sessions")), 3);
	assert_int_equal(
	    json_integer_value(json_object_get(
	        json_array_get(json_object_get(o, "sessions"), 0), "id")),
	    2);
	json_decref(o);
	/* 5 messages, 2 kept: the newest */
	o = hub_messages_json(hub);
	assert_int_equal(json_array_size(o), 2);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(o, 0), "id")),
	    "Q4");
	json_decref(o);
	hub_free(hub);

	/* bytes: a session's own bound stops keeping its lines */
	lim = (struct hub_limits){100, 1 << 20, 600, 10, 1 << 16};
	hub = hub_new(&lim);
	session(hub, 1, "p", "2026-01-01T00:00:01Z", 1, NULL);
	for (int i = 0; i < 20; i++)
		feed(hub, "{\"session\":1,\"dir\":\"C\",\"text\":\"NOOP\"}");
	{
		json_t *list = hub_sessions_json(hub, NULL);
		json_int_t kept = json_integer_value(json_object_get(
		    json_array_get(json_object_get(list, "sessions"), 0),
		    "events"));

		o = hub_session_json(hub, 1);
		/* 22 events, lines up to 600 bytes kept */
		assert_true(kept > 2 && kept < 22);
		assert_int_equal(json_array_size(json_object_get(o, "events")),
		                 kept);
		json_decref(list);
	}
	json_decref(o);
	hub_free(hub);

	/* total bytes: closed sessions dropped, oldest first */
	lim = (struct hub_limits){100, 3000, 100000, 10, 1 << 16};
	hub = hub_new(&lim);
	for (int i = 1; i <= 10; i++) {
		session(hub, i, "p", "2026-01-01T00:00:01Z", 1, NULL);
		close_session(hub, i, "fin");
	}
	o = hub_sessions_json(hub, NULL);
	assert_true(json_array_size(json_object_get(o, "sessions")) < 10);
	assert_int_equal(
	    json_integer_value(json_object_get(
	        json_array_get(json_object_get(o, "sessions"),
	                       json_array_size(json_object_get(o, "sessions")) -
	                           1),
	        "id")),
	    10);
	json_decref(o);
	hub_free(hub);
}

static void
test_window_reset_totals(void **state)
{
	struct hub *hub = hub_new(NULL);
	json_t *o, *names;
	char *text;

	session(hub, 1, "p", "2026-01-01T00:00:01Z", 1, "r1");
	session(hub, 2, "p", "2026-01-01T00:00:01Z", 1, "r1");
	close_session(hub, 1, "fin");
	o = hub_window(hub);
	text = json_dumps(o, JSON_COMPACT);
	assert_string_equal(text, "{\"messages\":2,\"sessions_closed\":1,"
	                          "\"rules\":{\"r1\":2}}");
	free(text);
	json_decref(o);
	hub_reset(hub);
	o = hub_window(hub);
	text = json_dumps(o, JSON_COMPACT);
	assert_string_equal(text, "{\"messages\":0,\"sessions_closed\":0,"
	                          "\"rules\":{}}");
	free(text);
	json_decref(o);
	assert_int_equal(count_sessions(hub, NULL), 1); /* 2 is open */
	o = hub_totals(hub);
	assert_int_equal(json_integer_value(json_object_get(
	                     json_object_get(o, "sessions_total"), "p")),
	                 2);
	assert_int_equal(json_integer_value(json_object_get(
	                     json_object_get(o, "sessions_open"), "p")),
	                 1);
	assert_int_equal(json_integer_value(json_object_get(o, "bytes_in")),
	                 100);
	json_decref(o);
	session(hub, 3, "p", "2026-01-01T00:00:01Z", 1, NULL);
	names = hub_drop_messages(hub);
	assert_int_equal(json_array_size(names), 1);
	assert_string_equal(json_string_value(json_array_get(names, 0)), "f3");
	json_decref(names);
	hub_free(hub);
}

static int wakes;

static void
wake(void *arg)
{
	wakes++;
}

static void
test_stream(void **state)
{
	struct hub_limits lim = {100, 1 << 20, 1 << 16, 10, 180};
	struct hub *hub = hub_new(&lim);
	struct evbuffer *b = evbuffer_new();
	const char *line = "{\"session\":1,\"dir\":\"C\",\"text\":\"x\"}";
	char want[256];

	hub_set_notify(hub, wake, NULL);
	wakes = 0;
	feed(hub, line); /* nobody listens: no wake, nothing kept */
	assert_int_equal(wakes, 0);
	hub_listen(hub, true, false);
	feed(hub, line);
	feed(hub, line); /* one wake until the HTTP thread took the lines */
	assert_int_equal(wakes, 1);
	assert_int_equal(hub_take_stream(hub, b), 0);
	snprintf(want, sizeof(want), "id: 2\ndata: %s\n\nid: 3\ndata: %s\n\n",
	         line, line);
	assert_int_equal(evbuffer_get_length(b), strlen(want));
	assert_memory_equal(evbuffer_pullup(b, -1), want, strlen(want));
	evbuffer_drain(b, evbuffer_get_length(b));
	for (int i = 0; i < 10; i++)
		feed(hub, line); /* 180 bytes hold two */
	assert_int_equal(wakes, 2);
	assert_int_equal(hub_take_stream(hub, b), 8);
	assert_int_equal(evbuffer_get_length(b), 2 * (strlen(want) / 2));
	evbuffer_free(b);
	hub_free(hub);
}

static void
test_time(void **state)
{
	struct {
		const char *in;
		int rc;
		long long ms;
	} cases[] = {
	    {"1970-01-01T00:00:00Z", 0, 0},
	    {"1970-01-01", 0, 0},
	    {"2026-11-23T12:00:01.234Z", 0, 1795435201234LL},
	    {"2026-11-23T12:00:01Z", 0, 1795435201000LL},
	    {"2026-11-23T12:00:01.2Z", 0, 1795435201200LL},
	    {"2026-11-23T12:00:01.23456Z", 0, 1795435201234LL},
	    {"2026-11-23T13:00:01+01:00", 0, 1795435201000LL},
	    {"2026-11-23T07:00:01-0500", 0, 1795435201000LL},
	    {"2026-11-23 12:00", 0, 1795435200000LL},
	    {"2000-02-29T00:00:00Z", 0, 951782400000LL},
	    {"2026-13-01", -1, 0},
	    {"2026-11-23T25:00Z", -1, 0},
	    {"2026-11-23T12:00:01.Z", -1, 0},
	    {"2026-11-23Tx", -1, 0},
	    {"soon", -1, 0},
	    {"", -1, 0},
	    {"2026-11-23T12:00:01Zjunk", -1, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long ms = -7;
		int rc = hub_time_ms(cases[i].in, &ms);

		if (rc != cases[i].rc || (rc == 0 && ms != cases[i].ms))
			fail_msg("%s: got %d %lld, want %d %lld", cases[i].in,
			         rc, ms, cases[i].rc, cases[i].ms);
	}
}

static void
check_headers(const char *msg, size_t len, const char *want)
{
	json_t *h = mail_headers_json(msg, len);
	char *got = json_dumps(h, JSON_COMPACT);

	if (strcmp(got, want) != 0)
		fail_msg("got %s, want %s", got, want);
	free(got);
	json_decref(h);
}

static void
test_headers(void **state)
{
	struct {
		const char *label, *msg, *want;
	} cases[] = {
	    {"plain", "Subject: hi\r\nX-A:b\r\n\r\nbody: no\r\n",
	     "[[\"Subject\",\"hi\"],[\"X-A\",\"b\"]]"},
	    {"folded", "Subject: a\r\n  b\r\n\tc\r\nTo: x\r\n\r\n",
	     "[[\"Subject\",\"a  b\\tc\"],[\"To\",\"x\"]]"},
	    {"LF only", "A: 1\nB: 2\n\nC: 3\n",
	     "[[\"A\",\"1\"],[\"B\",\"2\"]]"},
	    {"no body", "A: 1\r\nB: 2", "[[\"A\",\"1\"],[\"B\",\"2\"]]"},
	    {"junk line", "A: 1\r\nnot a header\r\n: x\r\nB: 2\r\n\r\n",
	     "[[\"A\",\"1\"],[\"B\",\"2\"]]"},
	    {"leading fold", "  x\r\nA: 1\r\n\r\n", "[[\"A\",\"1\"]]"},
	    {"8bit", "S: \xff\r\n\r\n", "[[\"S\",\"\\\\xff\"]]"},
	    {"empty", "", "[]"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *h =
		    mail_headers_json(cases[i].msg, strlen(cases[i].msg));
		char *got = json_dumps(h, JSON_COMPACT);

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s: got %s, want %s", cases[i].label, got,
			         cases[i].want);
		free(got);
		json_decref(h);
	}
	/* a prefix of the message: never more than it holds */
	check_headers("A: 1\r\nB: 2\r\n\r\n", 5, "[[\"A\",\"1\"]]");
	{
		json_t *h = mail_headers_json("Subject: Hello\r\nX-T: Abc-1\r\n"
		                              "\r\n",
		                              29);

		assert_string_equal(mail_header_get(h, "subject"), "Hello");
		assert_null(mail_header_get(h, "From"));
		assert_true(mail_header_match(h, "x-t:abc"));
		assert_true(mail_header_match(h, "X-T"));
		assert_false(mail_header_match(h, "X-T:zzz"));
		assert_false(mail_header_match(h, "X"));
		assert_true(mail_contains("Alice@One", "one"));
		assert_false(mail_contains(NULL, "x"));
		json_decref(h);
	}
}

static void
test_metrics(void **state)
{
	char out[64];
	struct evbuffer *b = evbuffer_new();
	struct hub *hub = hub_new(NULL);
	json_t *t;
	const char *want =
	    "smtp_mimic_rule_firings_total{profile=\"p\\\"q\",rule=\"a\\\\b\"}"
	    " 1\n";

	assert_string_equal(metrics_escape("a\"b\\c\nd", out, sizeof(out)),
	                    "a\\\"b\\\\c\\nd");
	assert_string_equal(metrics_escape("abcdef", out, 5), "ab");
	feed(hub, "{\"session\":1,\"dir\":\"rule\",\"profile\":\"p\\\"q\","
	          "\"rule\":\"a\\\\b\"}");
	t = hub_totals(hub);
	metrics_format(t, b);
	evbuffer_add(b, "", 1);
	assert_non_null(strstr((char *)evbuffer_pullup(b, -1), want));
	assert_non_null(strstr((char *)evbuffer_pullup(b, -1),
	                       "# TYPE smtp_mimic_sessions_open gauge\n"));
	json_decref(t);
	evbuffer_free(b);
	hub_free(hub);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_summary),
	    cmocka_unit_test(test_tap_ev_same_as_json),
	    cmocka_unit_test(test_filters),
	    cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_window_reset_totals),
	    cmocka_unit_test(test_stream),
	    cmocka_unit_test(test_time),
	    cmocka_unit_test(test_headers),
	    cmocka_unit_test(test_metrics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
