/*
 * test_grey_key.c - unit tests for grey_key.c (postgrey's key parts) and
 * clock.c (the injectable clock): networks of IPv4, IPv6 and IPv4-mapped
 * addresses at several prefixes, the sender substitutions, the
 * lower-cased triplet, and SMTP_MIMIC_CLOCK_FILE's parse and use.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "grey_key.h"

#define NROWS(t) (sizeof(t) / sizeof((t)[0]))

struct net_case {
	const char *ip;
	int v4, v6;
	int rc;
	const char *want;
};

static void
test_net(void **state)
{
	static const struct net_case cases[] = {
	    {"192.0.2.77", 24, 64, 0, "192.0.2.0"},
	    {"192.0.2.77", 32, 64, 0, "192.0.2.77"},
	    {"192.0.2.77", 20, 64, 0, "192.0.0.0"},
	    {"192.0.2.77", 0, 64, 0, "0.0.0.0"},
	    {"::ffff:192.0.2.77", 24, 64, 0, "192.0.2.0"},
	    {"2001:db8:1:2:3:4:5:6", 24, 64, 0, "2001:db8:1:2::"},
	    {"2001:db8:1:2:3:4:5:6", 24, 48, 0, "2001:db8:1::"},
	    {"2001:db8:1:2:3:4:5:6", 24, 128, 0, "2001:db8:1:2:3:4:5:6"},
	    {"::1", 24, 64, 0, "::"},
	    {"not-an-ip", 24, 64, -1, "not-an-ip"},
	};
	bool failed = false;

	(void)state;
	for (size_t i = 0; i < NROWS(cases); i++) {
		char out[64];
		int rc = grey_key_net(cases[i].ip, cases[i].v4, cases[i].v6,
		                      out, sizeof(out));

		if (rc != cases[i].rc || strcmp(out, cases[i].want) != 0) {
			print_error("%s /%d /%d: got %d %s, want %d %s\n",
			            cases[i].ip, cases[i].v4, cases[i].v6, rc,
			            out, cases[i].rc, cases[i].want);
			failed = true;
		}
	}
	if (failed)
		fail();
}

static void
test_sender(void **state)
{
	static const char *const cases[][2] = {
	    {"user@example.test", "user@example.test"},
	    {"user+ext@example.test", "user@example.test"},
	    {"bounce-1234-x@lists.test", "bounce-#-x@lists.test"},
	    {"123@d.test", "#@d.test"},
	    {"a.42.b@d.test", "a.#.b@d.test"},
	    {"user123@d.test", "user123@d.test"},
	    {"123abc@d.test", "123abc@d.test"},
	    {"a_1@d.test", "a_1@d.test"},
	    {"srs0=ab12=56=x.test=u@fwd.test", "srs0=ab12=#=x.test=u@fwd.test"},
	    {"x+1-2@d.test", "x@d.test"},
	    {"9@1.2", "#@1.2"},
	    {"", ""},
	    {"no-at-12", "no-at-12"},
	};
	bool failed = false;

	(void)state;
	for (size_t i = 0; i < NROWS(cases); i++) {
		char out[128];

		grey_key_sender(cases[i][0], out, sizeof(out));
		if (strcmp(out, cases[i][1]) != 0) {
			print_error("%s: got %s want %s\n", cases[i][0], out,
			            cases[i][1]);
			failed = true;
		}
	}
	if (failed)
		fail();
}

static void
test_join(void **state)
{
	const char *parts[] = {"192.0.2.0", "A@B.Test", "C@D.TEST"};
	char out[64], small[10];

	(void)state;
	assert_int_equal(grey_key_join(parts, 3, out, sizeof(out)), 27);
	assert_string_equal(out, "192.0.2.0/a@b.test/c@d.test");
	assert_int_equal(grey_key_join(parts, 3, small, sizeof(small)), 0);
	parts[1] = "";
	assert_int_equal(grey_key_join(parts, 3, out, sizeof(out)), 19);
	assert_string_equal(out, "192.0.2.0//c@d.test");
}

static void
test_clock_parse(void **state)
{
	static const struct {
		const char *text;
		int rc;
		int64_t want;
	} cases[] = {
	    {"1000000000", 0, 1000000000},
	    {"1000000000\n", 0, 1000000000},
	    {"  42 \r\n", 0, 42},
	    {"0", 0, 0},
	    {"9223372036854775807", 0, INT64_MAX},
	    {"9223372036854775808", -1, 0},
	    {"", -1, 0},
	    {"\n", -1, 0},
	    {"-1", -1, 0},
	    {"12a", -1, 0},
	    {"1 2", -1, 0},
	    {"+5", -1, 0},
	};

	(void)state;
	for (size_t i = 0; i < NROWS(cases); i++) {
		int64_t v = -7;
		int rc = clock_parse(cases[i].text, strlen(cases[i].text), &v);

		if (rc != cases[i].rc || (rc == 0 && v != cases[i].want)) {
			print_error("\"%s\": got %d %lld\n", cases[i].text, rc,
			            (long long)v);
			fail();
		}
	}
}

static void
test_clock_file(void **state)
{
	char dir[] = "/tmp/test_clock.XXXXXX", path[64];
	FILE *f;
	int64_t real;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/clock", dir);
	unsetenv(CLOCK_FILE_ENV);
	real = clock_now();
	assert_true(real >= (int64_t)time(NULL) - 1);
	setenv(CLOCK_FILE_ENV, path, 1);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("1000000000\n", f);
	fclose(f);
	assert_int_equal(clock_now(), 1000000000);
	f = fopen(path, "w");
	fputs("1000000301\n", f);
	fclose(f);
	assert_int_equal(clock_now(), 1000000301); /* read at every call */
	f = fopen(path, "w");
	fputs("soon\n", f);
	fclose(f);
	assert_true(clock_now() >= real); /* garbage: the real clock */
	unlink(path);
	assert_true(clock_now() >= real); /* missing: the real clock */
	unsetenv(CLOCK_FILE_ENV);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_net),
	    cmocka_unit_test(test_sender),
	    cmocka_unit_test(test_join),
	    cmocka_unit_test(test_clock_parse),
	    cmocka_unit_test(test_clock_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
