/*
 * test_stats.c - unit tests for stats.c: transcript events (as the JSON
 * objects a tap receives) in, exact counters out; the summary and window
 * objects; the window reset leaving the totals; events it must ignore;
 * many rows (the hash grows); and four threads feeding it at once.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stats.h"

/* Feed one event given as JSON text. */
static void
feed(struct stats *st, const char *text)
{
	json_error_t e;
	json_t *o = json_loads(text, 0, &e);

	if (o == NULL)
		fail_msg("bad test JSON %s: %s", text, e.text);
	stats_tap(o, text, strlen(text), st);
	json_decref(o);
}

#define CONNECT(p) "{\"dir\":\"connect\",\"session\":1,\"profile\":\"" p "\"}"
#define CLOSE(p, how, in, out)                                                 \
	"{\"dir\":\"close\",\"profile\":\"" p "\",\"how\":\"" how              \
	"\",\"bytes_in\":" #in ",\"bytes_out\":" #out "}"
#define RULE(p, r) "{\"dir\":\"rule\",\"profile\":\"" p "\",\"rule\":\"" r "\"}"
#define ACCEPTED(p)                                                            \
	"{\"dir\":\"info\",\"profile\":\"" p "\",\"event\":\"accepted\"}"
#define HANDSHAKE(v, s)                                                        \
	"{\"dir\":\"tls\",\"profile\":\"esa\",\"event\":\"handshake_done\","   \
	"\"version\":\"" v "\",\"suite\":{\"name\":\"" s                       \
	"\",\"hex\":\"0x1301\"}}"

/* A known sequence over two profiles. */
static void
feed_sequence(struct stats *st)
{
	feed(st, CONNECT("esa"));
	feed(st, CONNECT("esa"));
	feed(st, CONNECT("exchange2013"));
	feed(st, HANDSHAKE("TLSv1.3", "TLS_AES_128_GCM_SHA256"));
	feed(st, HANDSHAKE("TLSv1.3", "TLS_AES_128_GCM_SHA256"));
	feed(st, HANDSHAKE("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"));
	feed(st, RULE("esa", "CSCwh48138"));
	feed(st, RULE("exchange2013", "CSCwh48138"));
	feed(st, RULE("esa", "slow-banner"));
	feed(st, ACCEPTED("esa"));
	feed(st, ACCEPTED("esa"));
	feed(st, ACCEPTED("exchange2013"));
	feed(st, CLOSE("esa", "fin", 100, 2000));
	feed(st, CLOSE("exchange2013", "rst", 5, 7));
}

static void
assert_json(json_t *got, const char *want_text)
{
	json_t *want = json_loads(want_text, 0, NULL);
	char *g = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);
	char *w = json_dumps(want, JSON_SORT_KEYS | JSON_COMPACT);

	assert_non_null(want);
	if (!json_equal(got, want))
		fail_msg("got  %s\nwant %s", g, w);
	free(g);
	free(w);
	json_decref(want);
	json_decref(got);
}

static void
test_counts(void **state)
{
	struct stats *st = stats_new();

	feed_sequence(st);
	assert_int_equal(stats_sessions(st), 3);
	assert_int_equal(stats_messages(st), 3);
	assert_int_equal(stats_rule(st, "CSCwh48138"), 2);
	assert_int_equal(stats_rule(st, "slow-banner"), 1);
	assert_int_equal(stats_rule(st, "never"), 0);
	assert_int_equal(stats_window_messages(st), 3);
	assert_int_equal(stats_window_closed(st), 2);
	assert_int_equal(stats_window_rule(st, "CSCwh48138"), 2);
	stats_free(st);
}

static void
test_summary(void **state)
{
	struct stats *st = stats_new();

	feed_sequence(st);
	assert_json(
	    stats_summary_json(st),
	    "{\"sessions\":{\"total\":3,\"open\":1,\"closed\":2},"
	    "\"messages\":3,"
	    "\"profiles\":{"
	    " \"esa\":{\"sessions\":2,\"open\":1,\"messages\":2,"
	    "  \"rules\":{\"CSCwh48138\":1,\"slow-banner\":1}},"
	    " \"exchange2013\":{\"sessions\":1,\"open\":0,\"messages\":1,"
	    "  \"rules\":{\"CSCwh48138\":1}}},"
	    "\"rules\":{\"CSCwh48138\":2,\"slow-banner\":1},"
	    "\"closes\":{\"fin\":1,\"rst\":1},"
	    "\"tls\":{\"TLSv1.3\":{\"TLS_AES_128_GCM_SHA256\":2},"
	    " \"TLSv1.2\":{\"ECDHE-RSA-AES128-GCM-SHA256\":1}},"
	    "\"bytes\":{\"in\":105,\"out\":2007}}");
	stats_free(st);
}

static void
test_empty_summary(void **state)
{
	struct stats *st = stats_new();

	assert_json(stats_summary_json(st),
	            "{\"sessions\":{\"total\":0,\"open\":0,\"closed\":0},"
	            "\"messages\":0,\"profiles\":{},\"rules\":{},"
	            "\"closes\":{},\"tls\":{},\"bytes\":{\"in\":0,\"out\":0}}");
	assert_json(stats_window_json(st),
	            "{\"messages\":0,\"sessions_closed\":0,\"rules\":{}}");
	stats_free(st);
}

static void
test_window_reset(void **state)
{
	struct stats *st = stats_new();

	feed_sequence(st);
	stats_reset_window(st);
	assert_json(stats_window_json(st),
	            "{\"messages\":0,\"sessions_closed\":0,\"rules\":{}}");
	feed(st, RULE("esa", "slow-banner"));
	feed(st, ACCEPTED("esa"));
	feed(st, CLOSE("esa", "drop", 1, 1));
	assert_json(stats_window_json(st),
	            "{\"messages\":1,\"sessions_closed\":1,"
	            "\"rules\":{\"slow-banner\":1}}");
	assert_int_equal(stats_window_rule(st, "CSCwh48138"), 0);
	/* The totals go on. */
	assert_int_equal(stats_messages(st), 4);
	assert_int_equal(stats_rule(st, "slow-banner"), 2);
	assert_int_equal(stats_rule(st, "CSCwh48138"), 2);
	stats_free(st);
}

/* Events that count nothing, and close facts that are missing. */
static void
test_ignored(void **state)
{
	static const char *const cases[] = {
	    "{\"dir\":\"C\",\"profile\":\"esa\",\"text\":\"EHLO x\"}",
	    "{\"dir\":\"S\",\"profile\":\"esa\",\"text\":\"250 ok\"}",
	    "{\"dir\":\"info\",\"profile\":\"esa\",\"text\":\"accepted\"}",
	    "{\"dir\":\"info\",\"profile\":\"esa\",\"event\":\"auth\"}",
	    "{\"dir\":\"tls\",\"profile\":\"esa\",\"event\":\"client_hello\","
	    "\"version\":\"TLSv1.3\"}",
	    "{\"dir\":\"tls\",\"event\":\"handshake_done\"}",
	    "{\"dir\":\"rule\",\"profile\":\"esa\"}",
	    "{\"dir\":\"client_saw\",\"rule\":\"pix\"}",
	    "{\"dir\":7}",
	    "{\"text\":\"no dir\"}",
	};
	struct stats *st = stats_new();

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		feed(st, cases[i]);
	assert_json(stats_summary_json(st),
	            "{\"sessions\":{\"total\":0,\"open\":0,\"closed\":0},"
	            "\"messages\":0,\"profiles\":{},\"rules\":{},"
	            "\"closes\":{},\"tls\":{},\"bytes\":{\"in\":0,\"out\":0}}");
	/* A close without how or bytes still closes the session. */
	feed(st, CONNECT("esa"));
	feed(st, "{\"dir\":\"close\",\"profile\":\"esa\"}");
	assert_json(stats_summary_json(st),
	            "{\"sessions\":{\"total\":1,\"open\":0,\"closed\":1},"
	            "\"messages\":0,\"profiles\":{\"esa\":{\"sessions\":1,"
	            "\"open\":0,\"messages\":0,\"rules\":{}}},\"rules\":{},"
	            "\"closes\":{},\"tls\":{},\"bytes\":{\"in\":0,\"out\":0}}");
	stats_free(st);
}

struct collect {
	char buf[4096];
	size_t n;
};

static void
collect_row(const struct stats_row *r, void *arg)
{
	struct collect *c = arg;

	c->n += (size_t)snprintf(
	    c->buf + c->n, sizeof(c->buf) - c->n, "%s %s %s %s %llu %llu\n",
	    stats_kind_str(r->kind), r->profile ? r->profile : "-",
	    r->name ? r->name : "-", r->suite ? r->suite : "-",
	    (unsigned long long)r->value, (unsigned long long)r->window);
}

static void
test_each(void **state)
{
	struct stats *st = stats_new();
	struct collect c = {{0}, 0};

	feed(st, CONNECT("esa"));
	feed(st, RULE("esa", "r1"));
	feed(st, HANDSHAKE("TLSv1.3", "TLS_AES_256_GCM_SHA384"));
	feed(st, ACCEPTED("esa"));
	feed(st, CLOSE("esa", "rst", 10, 20));
	stats_each(st, collect_row, &c);
	assert_string_equal(c.buf, "bytes_in - - - 10 0\n"
	                           "bytes_out - - - 20 0\n"
	                           "sessions_total esa - - 1 0\n"
	                           "sessions_open esa - - 0 0\n"
	                           "rule esa r1 - 1 1\n"
	                           "tls - TLSv1.3 TLS_AES_256_GCM_SHA384 1 0\n"
	                           "messages esa - - 1 0\n"
	                           "close - rst - 1 0\n");
	assert_string_equal(stats_kind_str(STATS_CLOSE), "close");
	stats_free(st);
}

/* Enough distinct rules that the hash grows several times. */
static void
test_many_rows(void **state)
{
	struct stats *st = stats_new();
	char ev[128], name[32];

	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 500; i++) {
			snprintf(ev, sizeof(ev),
			         "{\"dir\":\"rule\",\"profile\":\"p%d\","
			         "\"rule\":\"rule-%d\"}",
			         i % 3, i);
			feed(st, ev);
		}
	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "rule-%d", i);
		assert_int_equal(stats_rule(st, name), 3);
	}
	assert_int_equal(stats_rule(st, "rule-500"), 0);
	stats_free(st);
}

#define THREADS    4
#define PER_THREAD 2000

static void *
feeder(void *arg)
{
	struct stats *st = arg;
	json_t *c = json_loads(CONNECT("esa"), 0, NULL);
	json_t *r = json_loads(RULE("esa", "busy"), 0, NULL);
	json_t *a = json_loads(ACCEPTED("esa"), 0, NULL);
	json_t *x = json_loads(CLOSE("esa", "fin", 3, 4), 0, NULL);

	for (int i = 0; i < PER_THREAD; i++) {
		stats_tap(c, "", 0, st);
		stats_tap(r, "", 0, st);
		stats_tap(a, "", 0, st);
		stats_tap(x, "", 0, st);
	}
	json_decref(c);
	json_decref(r);
	json_decref(a);
	json_decref(x);
	return NULL;
}

static void
test_threads(void **state)
{
	struct stats *st = stats_new();
	pthread_t t[THREADS];
	json_t *sum;

	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, feeder, st), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	sum = stats_summary_json(st);
	assert_int_equal(json_integer_value(json_object_get(sum, "messages")),
	                 THREADS * PER_THREAD);
	assert_int_equal(json_integer_value(json_object_get(
	                     json_object_get(sum, "bytes"), "out")),
	                 4 * THREADS * PER_THREAD);
	assert_int_equal(json_integer_value(json_object_get(
	                     json_object_get(sum, "sessions"), "open")),
	                 0);
	json_decref(sum);
	assert_int_equal(stats_rule(st, "busy"), THREADS * PER_THREAD);
	assert_int_equal(stats_window_closed(st), THREADS * PER_THREAD);
	stats_free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counts),
	    cmocka_unit_test(test_summary),
	    cmocka_unit_test(test_empty_summary),
	    cmocka_unit_test(test_window_reset),
	    cmocka_unit_test(test_ignored),
	    cmocka_unit_test(test_each),
	    cmocka_unit_test(test_many_rows),
	    cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
