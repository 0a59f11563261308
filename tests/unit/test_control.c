/*
 * test_control.c - control.c and the profile layer's compose.c: rules
 * injected for N sessions or until deleted (ids, counts decided at accept,
 * exactly N with four threads accepting), their errors with line:column
 * (the same as the rule's in a file, shifted by where it sits there), the
 * composite profile (injected rules first, newest first, then the
 * profile's own; "times" shared with the original), switching the profile
 * by name or from text (errors, the old one kept), reset, and the SIGHUP
 * reload under injected rules.
 *
 * An accept is simulated as server.c's worker_profile does it: under
 * srv->lock, take srv->profile, then control_session_start().
 * Fixtures: profiles/control/ctl-*.yaml. Not here: the HTTP routes and real
 * sessions (tests/blackbox/standard/test_http_control.py).
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
#include <event2/event.h>
#include <event2/thread.h>
#include <jansson.h>

#include "control.h"
#include "profile.h"
#include "rules.h"
#include "server.h"
#include "spool.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const dirs[] = {"profiles/control"};

#define CUT  "name: cut\nwhy: test\nwhen: {connect: {}}\ndo: {close: rst}\n"
#define SLOW "name: slow\nwhen: {connect: {}}\ndo: {delay: 1s}\n"

struct fx {
	struct event_base *base;
	struct spool *spool;
	struct server *srv;
	struct profile *start;
};

static int
fx_setup(void **state)
{
	static struct fx fx;
	char err[512];
	struct server_config cfg = {
	    .profile_name = "ctl-start",
	    .dirs = dirs,
	    .ndirs = NELEM(dirs),
	    .seed = 1,
	    .grace_ms = 100,
	    .workers = 1,
	};

	memset(&fx, 0, sizeof(fx));
	fx.base = event_base_new();
	fx.spool = spool_open("none", err, sizeof(err));
	fx.start =
	    profile_load("ctl-start", dirs, NELEM(dirs), err, sizeof(err));
	if (fx.start == NULL)
		fail_msg("ctl-start: %s", err);
	fx.srv = server_new(fx.base, &cfg, fx.start, fx.spool);
	assert_non_null(fx.srv);
	*state = &fx;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx *fx = *state;

	server_free(fx->srv);
	spool_close(fx->spool);
	event_base_free(fx->base);
	return 0;
}

/* One accept, as worker_profile does it: the session's profile (a ref). */
static struct profile *
accept_one(struct server *srv)
{
	struct profile *p;

	pthread_mutex_lock(&srv->lock);
	p = profile_ref(srv->profile);
	control_session_start(srv);
	pthread_mutex_unlock(&srv->lock);
	return p;
}

/* The rule names of p, "a,b,c". */
static const char *
names(const struct profile *p, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < p->nrules && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		                        i ? "," : "", p->rules[i].name);
	return buf;
}

/* The names the next session gets (counts it, too). */
static const char *
next_names(struct server *srv, char *buf, size_t len)
{
	struct profile *p = accept_one(srv);

	names(p, buf, len);
	profile_unref(p);
	return buf;
}

static void
add_ok(struct server *srv, const char *yaml, long sessions, const char *want_id)
{
	char id[16], err[1200];

	if (server_add_rule(srv, yaml, strlen(yaml), sessions, id, sizeof(id),
	                    err, sizeof(err)) != 0)
		fail_msg("add %s: %s", want_id, err);
	assert_string_equal(id, want_id);
}

/* Rules for N sessions run out at the Nth accept; until-deleted ones stay
 * until deleted; ids count up and are not reused. */
static void
test_add_count_del(void **state)
{
	struct fx *fx = *state;
	struct server *srv = fx->srv;
	char buf[256];

	assert_string_equal(next_names(srv, buf, sizeof(buf)), "own-once");
	add_ok(srv, CUT, 2, "r1");
	add_ok(srv, SLOW, -1, "r2");
	/* newest first, then the profile's own */
	assert_string_equal(next_names(srv, buf, sizeof(buf)),
	                    "slow,cut,own-once");
	assert_string_equal(next_names(srv, buf, sizeof(buf)),
	                    "slow,cut,own-once");
	assert_string_equal(next_names(srv, buf, sizeof(buf)), "slow,own-once");
	assert_string_equal(next_names(srv, buf, sizeof(buf)), "slow,own-once");
	assert_int_equal(server_del_rule(srv, "r1"), -1); /* used up */
	assert_int_equal(server_del_rule(srv, "r2"), 0);
	assert_int_equal(server_del_rule(srv, "r2"), -1);
	assert_int_equal(server_del_rule(srv, ""), -1);
	assert_string_equal(next_names(srv, buf, sizeof(buf)), "own-once");
	add_ok(srv, CUT, 1, "r3");
	assert_string_equal(next_names(srv, buf, sizeof(buf)), "cut,own-once");
	assert_string_equal(next_names(srv, buf, sizeof(buf)), "own-once");
	/* without injected rules the session gets the start profile itself */
	assert_ptr_equal(srv->profile, fx->start);
}

/* GET /api/v1/rules's body: in the order added, counts as they go. */
static void
test_rules_json(void **state)
{
	struct fx *fx = *state;
	struct server *srv = fx->srv;
	json_t *o;
	char *s;

	add_ok(srv, CUT, 3, "r1");
	add_ok(srv, SLOW, -1, "r2");
	profile_unref(accept_one(srv));
	o = server_rules_json(srv);
	s = json_dumps(o, JSON_COMPACT);
	assert_string_equal(
	    s, "{\"rules\":[{\"id\":\"r1\",\"name\":\"cut\",\"sessions\":3,"
	       "\"sessions_left\":2,\"rule\":\"name: cut\\nwhy: test\\nwhen: "
	       "{connect: {}}\\ndo: {close: rst}\\n\"},{\"id\":\"r2\","
	       "\"name\":\"slow\",\"sessions\":null,\"sessions_left\":null,"
	       "\"rule\":\"name: slow\\nwhen: {connect: {}}\\ndo: {delay: "
	       "1s}\\n\"}]}");
	free(s);
	json_decref(o);
}

struct err_case {
	const char *label;
	const char *text;
	long sessions;
	const char *want;
	bool in_file; /* the same reason in a file, 2 lines and 4 cols on */
};

static const struct err_case err_cases[] = {
    {"no do", "name: x\nwhen: {connect: {}}\n", 1,
     "<request>:1:1: rule \"x\" has no \"do\" (say what it does: delay, "
     "reply, close, hang or alert)",
     true},
    {"bad close", "name: cut\nwhen: {connect: {}}\ndo: {close: sideways}\n", 1,
     "<request>:3:13: bad value \"sideways\" for \"rules.cut.do.close\" "
     "(use fin, rst or silent)",
     true},
    {"unknown key",
     "name: x\nwhen: {connect: {}}\ndo: {close: rst}\ncolour: red\n", -1,
     "<request>:4:1: unknown key \"colour\" under \"rules\" (known: name, "
     "why, enabled, probability, times, when, do)",
     true},
    {"two hooks",
     "name: x\nwhen: {connect: {}, command: {}}\ndo: {close: rst}\n", 1,
     "<request>:2:21: \"rules.x.when\" has two hooks, \"connect\" and "
     "\"command\" (a rule has exactly one hook; split it into two rules)",
     true},
    {"alert without TLS hook",
     "name: x\nwhen: {connect: {}}\ndo: {alert: handshake_failure}\n", 1,
     "<request>:3:6: \"rules.x.do.alert\" needs a TLS hook, but the "
     "rule's hook is \"connect\" (use tls_client_hello, tls_handshake_done "
     "or tls_failed, or a \"do\" without \"alert\")",
     true},
    {"bad regex",
     "name: x\nwhen: {command: {verb: RCPT, arg: \"(\"}}\ndo: {reply: "
     "\"550 no\"}\n",
     1,
     "<request>:2:35: bad regular expression \"(\" for "
     "\"rules.x.when.command.arg\": Unmatched ( or \\( (use POSIX extended "
     "syntax, e.g. \"^unknown@\")",
     true},
    {"a list", "- a\n", 1,
     "<request>:1:1: rule 1 is a list (each rule is a mapping with name, "
     "when and do)",
     true},
    {"syntax", "name: [x\n", 1,
     "<request>:2:1: YAML syntax error: did not find expected ',' or ']' "
     "while parsing a flow sequence at line 1 (check indentation and "
     "quoting)",
     false},
    {"empty", "", 1,
     "<request>:1:1: empty rule (a rule is a mapping with name, when and "
     "do, as an item of a profile's \"rules:\")",
     false},
    {"sessions 0", CUT, 0,
     "sessions 0: give a count of sessions (1 or more), or -1 for until "
     "deleted",
     false},
    {"sessions -2", CUT, -2,
     "sessions -2: give a count of sessions (1 or more), or -1 for until "
     "deleted",
     false},
};

/* The rule as item 1 of a profile's rules: list, in a text. */
static void
file_error(const char *rule, char *err, size_t errlen)
{
	char buf[2048];
	size_t off = (size_t)snprintf(buf, sizeof(buf), "name: t\nrules:\n  -");
	struct profile *p;

	for (const char *s = rule, *e; *s; s = *e ? e + 1 : e) {
		e = strchr(s, '\n');
		if (e == NULL)
			e = s + strlen(s);
		off +=
		    (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%.*s\n",
		                     s == rule ? " " : "    ", (int)(e - s), s);
	}
	p = profile_load_text("<request>", buf, off, NULL, 0, err, errlen);
	assert_null(p);
}

static void
test_rule_errors(void **state)
{
	struct fx *fx = *state;
	struct server *srv = fx->srv;
	char id[16] = "unset", err[1200], ferr[1200], shifted[1300];
	char buf[256];

	for (size_t i = 0; i < NELEM(err_cases); i++) {
		const struct err_case *c = &err_cases[i];
		unsigned line, col;
		int used = 0;

		err[0] = '\0';
		if (server_add_rule(srv, c->text, strlen(c->text), c->sessions,
		                    id, sizeof(id), err, sizeof(err)) != -1)
			fail_msg("%s: accepted as %s", c->label, id);
		if (strcmp(err, c->want) != 0)
			fail_msg("%s:\n got %s\nwant %s", c->label, err,
			         c->want);
		if (!c->in_file)
			continue;
		file_error(c->text, ferr, sizeof(ferr));
		assert_int_equal(
		    sscanf(err, "<request>:%u:%u: %n", &line, &col, &used), 2);
		snprintf(shifted, sizeof(shifted), "<request>:%u:%u: %s",
		         line + 2, col + 4, err + used);
		if (strcmp(ferr, shifted) != 0)
			fail_msg("%s: in a file\n got %s\nwant %s", c->label,
			         ferr, shifted);
	}
	assert_string_equal(id, "unset");
	/* nothing was added: the next session gets the start profile */
	assert_string_equal(next_names(srv, buf, sizeof(buf)), "own-once");
	assert_ptr_equal(srv->profile, fx->start);
}

/* A composite is the base in all but its rules, and shares "times". */
static void
test_composite(void **state)
{
	struct fx *fx = *state;
	struct server *srv = fx->srv;
	struct profile *c;
	struct rng rng;
	struct rule_ctx ctx = {.hook = HOOK_CONNECT, .client_ip = "127.0.0.1"};
	struct rule *r;

	add_ok(srv, SLOW, -1, "r1");
	c = accept_one(srv);
	assert_ptr_not_equal(c, fx->start);
	assert_string_equal(c->name, "ctl-start");
	assert_ptr_equal(c->hostname, fx->start->hostname);
	assert_ptr_equal(c->replies[0].lines, fx->start->replies[0].lines);
	assert_int_equal(c->nrules, 2);
	assert_int_equal(fx->start->nrules, 1);
	rng_seed(&rng, 1, 1);
	/* the injected rule first: a delay only, on connect */
	r = rules_match(c, &ctx, &rng);
	assert_non_null(r);
	assert_string_equal(r->name, "slow");
	assert_int_equal(r->act.delay_ms, 1000);
	/* "own-once" fires once per process: in the composite ... */
	assert_int_equal(server_del_rule(srv, "r1"), 0);
	r = rules_match(c, &ctx, &rng); /* c still has "slow" first */
	assert_string_equal(r->name, "slow");
	c->rules[0].enabled = false; /* (the copy is the test's to spoil) */
	r = rules_match(c, &ctx, &rng);
	assert_non_null(r);
	assert_string_equal(r->name, "own-once");
	/* ... so no more in the start profile, nor in a new composite */
	assert_null(rules_match(fx->start, &ctx, &rng));
	add_ok(srv, CUT, -1, "r2");
	profile_unref(c);
	c = accept_one(srv);
	c->rules[0].enabled = false;
	assert_string_equal(c->rules[1].name, "own-once");
	assert_null(rules_match(c, &ctx, &rng));
	profile_unref(c);
}

struct count_arg {
	struct server *srv;
	unsigned hits;
};

static void *
count_thread(void *arg)
{
	struct count_arg *a = arg;

	for (int i = 0; i < 500; i++) {
		struct profile *p = accept_one(a->srv);

		if (strcmp(p->rules[0].name, "cut") == 0)
			a->hits++;
		profile_unref(p);
	}
	return NULL;
}

/* Four threads accepting at once: exactly N sessions get the rule. */
static void
test_count_threads(void **state)
{
	struct fx *fx = *state;
	struct count_arg a[4];
	pthread_t t[4];
	unsigned total = 0;

	add_ok(fx->srv, CUT, 37, "r1");
	for (size_t i = 0; i < NELEM(t); i++) {
		a[i] = (struct count_arg){.srv = fx->srv};
		assert_int_equal(
		    pthread_create(&t[i], NULL, count_thread, &a[i]), 0);
	}
	for (size_t i = 0; i < NELEM(t); i++) {
		pthread_join(t[i], NULL);
		total += a[i].hits;
	}
	assert_int_equal(total, 37);
	assert_ptr_equal(fx->srv->profile, fx->start);
}

static void
use_fails(struct server *srv, const char *arg, bool is_yaml, const char *want)
{
	char err[1200] = "";

	assert_int_equal(server_use_profile(srv, arg, strlen(arg), is_yaml, err,
	                                    sizeof(err)),
	                 -1);
	if (strcmp(err, want) != 0)
		fail_msg("%s:\n got %s\nwant %s", arg, err, want);
}

/* By name or from text; a broken one changes nothing; rules stay on top;
 * reset brings the start profile back without rules. */
static void
test_use_profile_and_reset(void **state)
{
	struct fx *fx = *state;
	struct server *srv = fx->srv;
	char err[1200], buf[256];
	struct profile *p;
	const char *text = "name: ctl-text\nextends: ctl-other\n"
	                   "greeting: \"220 from text\"\n";

	add_ok(srv, SLOW, -1, "r1");
	assert_int_equal(
	    server_use_profile(srv, "ctl-other", 9, false, err, sizeof(err)),
	    0);
	server_profile_name(srv, buf, sizeof(buf));
	assert_string_equal(buf, "ctl-other");
	p = accept_one(srv);
	assert_string_equal(p->name, "ctl-other");
	assert_string_equal(p->hostname, "other.unit.test");
	assert_string_equal(names(p, buf, sizeof(buf)), "slow");
	profile_unref(p);

	use_fails(srv, "../ctl-other", false,
	          "bad profile name \"../ctl-other\" (give the name of a "
	          "profile in the search path, e.g. standard, or the profile's "
	          "YAML itself)");
	use_fails(srv, "nothere", false,
	          "nothere: profile not found (looked in: "
	          "profiles/control/nothere.yaml; --list-profiles shows the "
	          "known ones)");
	use_fails(
	    srv, "name: t\ngreeting: [\n", true,
	    "<request>:3:1: YAML syntax error: did not find expected node "
	    "content while parsing a flow node at line 3 (check "
	    "indentation and quoting)");
	use_fails(srv, "name: t\nextends: nothere\n", true,
	          "<request>:2:10: extends: profile \"nothere\" not found "
	          "(looked in: profiles/control/nothere.yaml)");
	use_fails(srv, "name: t\nlimits: {max_sessions: lots}\n", true,
	          "<request>:2:24: bad number \"lots\" for "
	          "\"limits.max_sessions\" (use a whole number from 0 to "
	          "4294967295)");
	use_fails(srv, "kind: middlebox\nname: box\n", true,
	          "<request>: box is a middlebox (kind: middlebox), not a "
	          "server profile (choose a server profile; a middlebox goes "
	          "in front of one with \"via:\")");
	use_fails(
	    srv, "ctl-box", false,
	    "profiles/control/ctl-box.yaml: ctl-box is a middlebox (kind: "
	    "middlebox), not a server profile (choose a server profile; a "
	    "middlebox goes in front of one with \"via:\")");
	server_profile_name(srv, buf, sizeof(buf));
	assert_string_equal(buf, "ctl-other");

	assert_int_equal(
	    server_use_profile(srv, text, strlen(text), true, err, sizeof(err)),
	    0);
	p = accept_one(srv);
	assert_string_equal(p->name, "ctl-text");
	assert_string_equal(p->path, "<request>");
	assert_string_equal(p->hostname, "other.unit.test"); /* extends */
	assert_string_equal(p->replies[REPLY_GREETING].lines[0],
	                    "220 from text");
	assert_string_equal(names(p, buf, sizeof(buf)), "slow");
	profile_unref(p);

	server_reset(srv);
	assert_ptr_equal(srv->profile, fx->start);
	assert_string_equal(next_names(srv, buf, sizeof(buf)), "own-once");
	json_t *o = server_rules_json(srv);
	assert_int_equal(json_array_size(json_object_get(o, "rules")), 0);
	json_decref(o);
	/* ids go on counting after a reset */
	add_ok(srv, CUT, 1, "r2");
}

/* SIGHUP: the start profile reloaded, injected rules kept on top; a
 * profile chosen by name is reloaded by that name. */
static void
test_reload(void **state)
{
	struct fx *fx = *state;
	struct server *srv = fx->srv;
	char err[1200], buf[256];
	struct profile *p;

	add_ok(srv, CUT, -1, "r1");
	control_reload(srv);
	p = accept_one(srv);
	assert_ptr_not_equal(p, fx->start);
	assert_string_equal(p->name, "ctl-start");
	assert_string_equal(names(p, buf, sizeof(buf)), "cut,own-once");
	assert_ptr_not_equal(p->rules[1].fired_in, &fx->start->rules[0].fired);
	profile_unref(p);

	assert_int_equal(
	    server_use_profile(srv, "ctl-other", 9, false, err, sizeof(err)),
	    0);
	control_reload(srv);
	p = accept_one(srv);
	assert_string_equal(p->name, "ctl-other");
	assert_string_equal(names(p, buf, sizeof(buf)), "cut");
	profile_unref(p);
	/* reset: the start profile as reloaded, not as first loaded */
	server_reset(srv);
	p = accept_one(srv);
	assert_string_equal(p->name, "ctl-start");
	assert_ptr_not_equal(p, fx->start);
	profile_unref(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_add_count_del, fx_setup,
	                                    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rules_json, fx_setup,
	                                    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rule_errors, fx_setup,
	                                    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_composite, fx_setup,
	                                    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_count_threads, fx_setup,
	                                    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_use_profile_and_reset,
	                                    fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_reload, fx_setup, fx_teardown),
	};

	evthread_use_pthreads();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
