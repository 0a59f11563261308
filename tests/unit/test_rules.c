/*
 * test_rules.c - the rules engine: conditions per hook, first match wins,
 * probability draws replayable from a seed, "times" caps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "message.h"
#include "rules.h"

static struct rule
mkrule(const char *name, enum hook h)
{
	struct rule r;

	memset(&r, 0, sizeof(r));
	r.name = (char *)name;
	r.when.hook = h;
	r.when.verb = VERB_UNKNOWN;
	r.probability = 1.0;
	r.enabled = true;
	return r;
}

static void
set_arg(struct rule *r, const char *re)
{
	r->when.arg_pattern = (char *)re;
	assert_int_equal(
	    regcomp(&r->when.arg_re, re, REG_EXTENDED | REG_ICASE | REG_NOSUB),
	    0);
}

struct command_case {
	const char *label;
	const char *verb;
	unsigned nth;
	const char *args;
	const char *want; /* rule name or NULL */
};

static void
test_command_conditions(void **state)
{
	struct rule rules[3];
	struct profile p = {0};
	struct rng rng;
	static const struct command_case cases[] = {
	    {"verb and arg match", "RCPT", 1, "TO:<unknown1@x>", "tarpit"},
	    {"arg is case-insensitive", "RCPT", 2, "TO:<UNKNOWN@x>", "tarpit"},
	    {"other arg", "RCPT", 1, "TO:<bob@x>", NULL},
	    {"nth use only", "MAIL", 3, "FROM:<a@b>", "third-mail"},
	    {"not nth", "MAIL", 2, "FROM:<a@b>", NULL},
	    {"unknown verb by name", "XEXCH50", 1, "", "xexch"},
	    {"other verb", "NOOP", 1, "", NULL},
	};

	rules[0] = mkrule("tarpit", HOOK_COMMAND);
	rules[0].when.verb_name = "RCPT";
	set_arg(&rules[0], "unknown");
	rules[1] = mkrule("third-mail", HOOK_COMMAND);
	rules[1].when.verb_name = "MAIL";
	rules[1].when.nth = 3;
	rules[2] = mkrule("xexch", HOOK_COMMAND);
	rules[2].when.verb_name = "XEXCH50";
	p.rules = rules;
	p.nrules = 3;
	rng_seed(&rng, 1, 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct command_case *c = &cases[i];
		struct rule_ctx ctx = {
		    .hook = HOOK_COMMAND,
		    .verb = c->verb,
		    .nth = c->nth,
		    .args = c->args,
		};
		struct rule *got = rules_match(&p, &ctx, &rng);
		const char *g = got ? got->name : "(none)";
		const char *w = c->want ? c->want : "(none)";
		if (strcmp(g, w) != 0)
			fail_msg("%s: got %s, want %s", c->label, g, w);
	}
	regfree(&rules[0].when.arg_re);
}

static void
test_first_match_and_disabled(void **state)
{
	struct rule rules[2];
	struct profile p = {0};
	struct rng rng;
	struct rule_ctx ctx = {.hook = HOOK_CONNECT, .client_ip = "10.1.2.3"};

	rules[0] = mkrule("first", HOOK_CONNECT);
	rules[1] = mkrule("second", HOOK_CONNECT);
	p.rules = rules;
	p.nrules = 2;
	rng_seed(&rng, 1, 1);
	assert_string_equal(rules_match(&p, &ctx, &rng)->name, "first");
	rules[0].enabled = false;
	assert_string_equal(rules_match(&p, &ctx, &rng)->name, "second");
	ctx.hook = HOOK_COMMAND;
	ctx.verb = "NOOP";
	ctx.args = "";
	assert_null(rules_match(&p, &ctx, &rng));
}

static void
test_times_cap(void **state)
{
	struct rule r = mkrule("twice", HOOK_CONNECT);
	struct profile p = {.rules = &r, .nrules = 1};
	struct rule_ctx ctx = {.hook = HOOK_CONNECT, .client_ip = "127.0.0.1"};
	struct rng rng;

	r.times = 2;
	rng_seed(&rng, 1, 1);
	assert_non_null(rules_match(&p, &ctx, &rng));
	assert_non_null(rules_match(&p, &ctx, &rng));
	assert_null(rules_match(&p, &ctx, &rng));
	assert_int_equal(atomic_load(&r.fired), 2);
}

/* Same seed and session: same draws; the odds come out near p. */
static void
test_probability_replay(void **state)
{
	struct rule r = mkrule("flaky", HOOK_CONNECT);
	struct profile p = {.rules = &r, .nrules = 1};
	struct rule_ctx ctx = {.hook = HOOK_CONNECT, .client_ip = "127.0.0.1"};
	char a[1000], b[1000];
	struct rng rng;
	int hits = 0;

	r.probability = 0.3;
	rng_seed(&rng, 42, 7);
	for (int i = 0; i < 1000; i++) {
		a[i] = rules_match(&p, &ctx, &rng) != NULL;
		hits += a[i];
	}
	rng_seed(&rng, 42, 7);
	for (int i = 0; i < 1000; i++)
		b[i] = rules_match(&p, &ctx, &rng) != NULL;
	assert_memory_equal(a, b, sizeof(a));
	/* 1000 draws at p=0.3: 300 +- 5 sigma (72) */
	if (hits < 228 || hits > 372)
		fail_msg("hits: got %d, want about 300", hits);
	rng_seed(&rng, 43, 7);
	for (int i = 0; i < 1000; i++)
		b[i] = rules_match(&p, &ctx, &rng) != NULL;
	assert_memory_not_equal(a, b, sizeof(a));
}

static void
feed(struct header_scan *h, const char *s)
{
	header_scan_feed(h, s, strlen(s));
}

static void
test_header_and_data(void **state)
{
	struct rule rules[3];
	struct profile p = {0};
	struct header_scan h;
	struct rng rng;
	struct rule_ctx ctx = {.hook = HOOK_HEADER, .headers = &h};

	rules[0] = mkrule("dkim", HOOK_HEADER);
	rules[0].when.header_name = "DKIM-Signature";
	rules[1] = mkrule("dup", HOOK_HEADER);
	rules[1].when.header_duplicate = true;
	rules[2] = mkrule("big", HOOK_DATA);
	rules[2].when.size_over = 1000;
	p.rules = rules;
	p.nrules = 3;
	rng_seed(&rng, 1, 1);

	header_scan_init(&h);
	feed(&h, "Subject: a\r\nTo: b\r\n\r\n");
	assert_null(rules_match(&p, &ctx, &rng));
	header_scan_init(&h);
	feed(&h, "Received: a\r\nReceived: b\r\n\r\n");
	assert_string_equal(rules_match(&p, &ctx, &rng)->name, "dup");
	header_scan_init(&h);
	feed(&h, "dkim-signature: v=1\r\n\r\n");
	assert_string_equal(rules_match(&p, &ctx, &rng)->name, "dkim");

	/* data: fires on the read that crosses 1000 bytes, once */
	struct rule_ctx d = {.hook = HOOK_DATA, .size_before = 0, .size = 999};
	assert_null(rules_match(&p, &d, &rng));
	d.size_before = 999;
	d.size = 1500;
	assert_string_equal(rules_match(&p, &d, &rng)->name, "big");
	d.size_before = 1500;
	d.size = 3000;
	assert_null(rules_match(&p, &d, &rng));
	d.at_end = true;
	assert_null(rules_match(&p, &d, &rng));
}

static void
test_describe(void **state)
{
	struct rule r = mkrule("x", HOOK_COMMAND);
	char buf[128];

	r.when.verb_name = "RCPT";
	r.when.nth = 2;
	r.when.arg_pattern = "unknown";
	r.probability = 0.5;
	rules_describe(&r, buf, sizeof(buf));
	assert_string_equal(buf, "command RCPT #2 ~ /unknown/ (p=0.5)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_command_conditions),
	    cmocka_unit_test(test_first_match_and_disabled),
	    cmocka_unit_test(test_times_cap),
	    cmocka_unit_test(test_probability_replay),
	    cmocka_unit_test(test_header_and_data),
	    cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
