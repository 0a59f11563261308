/*
 * test_grey_store.c - unit tests for grey_store.c: postgrey's decision
 * step by step (new, early retry, delayed, known, a first retry after the
 * retry window, the auto-whitelist after 5 passes counted once an hour),
 * the bounds (max_entries drops the least recently seen, max_age forgets),
 * fail_first counts, the state file (missing, round trip, damaged, the
 * temporary file gone) and counts from several threads at once.
 * Does not test key building (test_grey_key.c) or sessions (black-box).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "grey_store.h"

#define NROWS(t) (sizeof(t) / sizeof((t)[0]))
#define T0       1000000000

static const struct grey_policy postgrey = {
    .bounds = {100000, 35 * 86400},
    .delay = 300,
    .retry_window = 2 * 86400,
    .awl_clients = 5,
    .awl_interval = 3600,
};

struct step {
	const char *label;
	int64_t at; /* seconds after T0 */
	const char *triplet;
	enum grey_verdict want;
	int64_t wait, delayed;
};

static void
run_steps(struct grey_store *st, const struct grey_policy *p,
          const struct step *steps, size_t n)
{
	bool failed = false;

	for (size_t i = 0; i < n; i++) {
		struct grey_result r;

		grey_store_check(st, p, steps[i].triplet, "192.0.2.1",
		                 T0 + steps[i].at, &r);
		if (r.verdict != steps[i].want || r.wait != steps[i].wait ||
		    r.delayed != steps[i].delayed) {
			print_error(
			    "%s: got %s wait %lld delayed %lld, want %s "
			    "wait %lld delayed %lld\n",
			    steps[i].label, grey_verdict_str(r.verdict),
			    (long long)r.wait, (long long)r.delayed,
			    grey_verdict_str(steps[i].want),
			    (long long)steps[i].wait,
			    (long long)steps[i].delayed);
			failed = true;
		}
	}
	if (failed)
		fail();
}

static void
test_postgrey_steps(void **state)
{
	static const struct step steps[] = {
	    {"first attempt", 0, "n/a/b", GREY_DEFER_NEW, 300, 0},
	    {"same second again", 0, "n/a/b", GREY_DEFER_NEW, 300, 0},
	    {"early retry", 100, "n/a/b", GREY_DEFER_EARLY, 200, 0},
	    {"one second early", 299, "n/a/b", GREY_DEFER_EARLY, 1, 0},
	    {"at the delay", 300, "n/a/b", GREY_PASS_DELAYED, 0, 300},
	    {"afterwards", 301, "n/a/b", GREY_PASS_KNOWN, 0, 0},
	    {"a day later", 86400, "n/a/b", GREY_PASS_KNOWN, 0, 0},
	    {"another triplet", 86400, "n/a/c", GREY_DEFER_NEW, 300, 0},
	    /* the first retry comes after the 2-day window: start over */
	    {"late first retry", 86400 + 2 * 86400 + 1, "n/a/c", GREY_DEFER_NEW,
	     300, 0},
	    {"then in time", 86400 + 2 * 86400 + 400, "n/a/c",
	     GREY_PASS_DELAYED, 0, 399},
	};
	struct grey_store *st = grey_store_open(NULL, NULL, 0);

	(void)state;
	assert_non_null(st);
	run_steps(st, &postgrey, steps, NROWS(steps));
	grey_store_free(st);
}

/* Five triplets pass an hour apart: the client is whitelisted. */
static void
test_auto_whitelist(void **state)
{
	struct grey_store *st = grey_store_open(NULL, NULL, 0);
	struct grey_result r;
	char t[32];

	(void)state;
	for (int i = 0; i < 5; i++) {
		int64_t at = T0 + i * 3600;

		snprintf(t, sizeof(t), "n/a/r%d", i);
		grey_store_check(st, &postgrey, t, "192.0.2.1", at, &r);
		assert_int_equal(r.verdict, GREY_DEFER_NEW);
		grey_store_check(st, &postgrey, t, "192.0.2.1", at + 300, &r);
		assert_int_equal(r.verdict, GREY_PASS_DELAYED);
		assert_int_equal(r.awl_count, i + 1);
		assert_int_equal(r.awl_now, i == 4);
	}
	grey_store_check(st, &postgrey, "n/a/new", "192.0.2.1", T0 + 5 * 3600,
	                 &r);
	assert_int_equal(r.verdict, GREY_PASS_AWL);
	/* another client of the same network is not whitelisted */
	grey_store_check(st, &postgrey, "n/a/new2", "192.0.2.2", T0 + 5 * 3600,
	                 &r);
	assert_int_equal(r.verdict, GREY_DEFER_NEW);
	grey_store_free(st);
}

/* Passes within the hour count once. */
static void
test_awl_once_an_hour(void **state)
{
	struct grey_store *st = grey_store_open(NULL, NULL, 0);
	struct grey_result r;
	char t[32];

	(void)state;
	for (int i = 0; i < 6; i++) {
		snprintf(t, sizeof(t), "n/a/r%d", i);
		grey_store_check(st, &postgrey, t, "c", T0 + i, &r);
		grey_store_check(st, &postgrey, t, "c", T0 + i + 300, &r);
		assert_int_equal(r.verdict, GREY_PASS_DELAYED);
		assert_int_equal(r.awl_count, 1);
	}
	grey_store_free(st);
}

static void
test_awl_off(void **state)
{
	struct grey_policy p = postgrey;
	struct grey_store *st = grey_store_open(NULL, NULL, 0);
	struct grey_result r;

	(void)state;
	p.awl_clients = 0;
	grey_store_check(st, &p, "n/a/b", "c", T0, &r);
	grey_store_check(st, &p, "n/a/b", "c", T0 + 300, &r);
	assert_int_equal(r.verdict, GREY_PASS_DELAYED);
	assert_int_equal(grey_store_size(st), 1); /* no client record */
	grey_store_free(st);
}

static void
test_bounds(void **state)
{
	struct grey_bounds b = {3, 100};
	struct grey_store *st = grey_store_open(NULL, NULL, 0);

	(void)state;
	assert_int_equal(grey_store_count(st, &b, "a", T0), 1);
	assert_int_equal(grey_store_count(st, &b, "b", T0), 1);
	assert_int_equal(grey_store_count(st, &b, "c", T0), 1);
	assert_int_equal(grey_store_count(st, &b, "a", T0),
	                 2); /* a: most recent */
	assert_int_equal(grey_store_count(st, &b, "d", T0), 1); /* b goes */
	assert_int_equal(grey_store_size(st), 3);
	assert_int_equal(grey_store_count(st, &b, "a", T0), 3);
	assert_int_equal(grey_store_count(st, &b, "b", T0), 1);
	/* unseen for longer than max_age: forgotten */
	assert_int_equal(grey_store_count(st, &b, "a", T0 + 100), 4);
	assert_int_equal(grey_store_count(st, &b, "a", T0 + 201), 1);
	/* and the others (last seen at T0) expire on the way */
	assert_int_equal(grey_store_size(st), 1);
	grey_store_clear(st);
	assert_int_equal(grey_store_size(st), 0);
	grey_store_free(st);
}

static void
temp_path(char *buf, size_t len)
{
	char dir[] = "/tmp/test_grey_store.XXXXXX";

	assert_non_null(mkdtemp(dir));
	snprintf(buf, len, "%s/state", dir);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_state_file(void **state)
{
	struct grey_bounds b = postgrey.bounds;
	struct grey_result r;
	struct grey_store *st;
	char path[256], tmp[300], err[512];

	(void)state;
	temp_path(path, sizeof(path));
	/* missing: empty, and nothing to save yet */
	st = grey_store_open(path, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(grey_store_save(st, err, sizeof(err)), 0);
	assert_int_equal(access(path, F_OK), -1);
	grey_store_check(st, &postgrey, "n/a/b", "c", T0, &r);
	assert_int_equal(grey_store_count(st, &b, "rule/x y", T0), 1);
	assert_int_equal(grey_store_save(st, err, sizeof(err)), 0);
	grey_store_free(st);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1);

	/* a restart: the triplet is remembered */
	st = grey_store_open(path, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(grey_store_size(st), 2);
	grey_store_check(st, &postgrey, "n/a/b", "c", T0 + 300, &r);
	assert_int_equal(r.verdict, GREY_PASS_DELAYED);
	assert_int_equal(grey_store_count(st, &b, "rule/x y", T0 + 1), 2);
	assert_int_equal(grey_store_save(st, err, sizeof(err)), 0);
	grey_store_free(st);

	/* damaged: refused with its line */
	write_file(path, "smtp-mimic state 1\nT 1 2 k\nT 1 k\n");
	st = grey_store_open(path, err, sizeof(err));
	assert_null(st);
	assert_non_null(strstr(err, ": line 3: bad second number"));
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	unlink(path);
}

/* Save fails in a directory that does not exist: a reason, no crash. */
static void
test_save_fails(void **state)
{
	struct grey_bounds b = postgrey.bounds;
	struct grey_store *st;
	char err[512];

	(void)state;
	st = grey_store_open("/nonexistent-dir/state", err, sizeof(err));
	assert_non_null(st);
	grey_store_count(st, &b, "k", T0);
	assert_int_equal(grey_store_save(st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent-dir/state.tmp: "));
	grey_store_free(st);
}

struct counter_job {
	struct grey_store *st;
	int n;
};

static void *
count_many(void *arg)
{
	struct counter_job *j = arg;
	struct grey_bounds b = postgrey.bounds;
	char key[32];

	for (int i = 0; i < j->n; i++) {
		grey_store_count(j->st, &b, "shared", T0);
		snprintf(key, sizeof(key), "k%d", i % 50);
		grey_store_count(j->st, &b, key, T0);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	struct grey_bounds b = postgrey.bounds;
	struct grey_store *st = grey_store_open(NULL, NULL, 0);
	struct counter_job job = {st, 2000};
	pthread_t th[4];

	(void)state;
	for (size_t i = 0; i < NROWS(th); i++)
		assert_int_equal(pthread_create(&th[i], NULL, count_many, &job),
		                 0);
	for (size_t i = 0; i < NROWS(th); i++)
		pthread_join(th[i], NULL);
	assert_int_equal(grey_store_count(st, &b, "shared", T0), 8001);
	assert_int_equal(grey_store_size(st), 51);
	grey_store_free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_postgrey_steps),
	    cmocka_unit_test(test_auto_whitelist),
	    cmocka_unit_test(test_awl_once_an_hour),
	    cmocka_unit_test(test_awl_off),
	    cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_state_file),
	    cmocka_unit_test(test_save_fails),
	    cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
