/*
 * test_grey_file.c - unit tests for grey_file.c, the policy state file:
 * table-driven good and bad files (each bad one with the line and reason
 * it must report), every prefix of a good file (a cut file is refused
 * unless it ends at a line), the key escapes both ways, and format ->
 * parse round trips. Does not test reading or writing files
 * (test_grey_store.c).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "grey_file.h"

#define NROWS(t) (sizeof(t) / sizeof((t)[0]))

/* What the parse saw: "T 1 2 key|C ..." with the decoded keys. */
struct seen {
	char text[4096];
	size_t n;
};

static int
collect(const struct grey_record *r, void *arg)
{
	struct seen *s = arg;
	size_t o = strlen(s->text);

	snprintf(s->text + o, sizeof(s->text) - o, "%s%c %lld %lld %s",
	         o ? "|" : "", (char)r->kind, (long long)r->a, (long long)r->b,
	         r->key);
	if (strlen(r->key) != r->key_len)
		return 99;
	s->n++;
	return 0;
}

struct file_case {
	const char *label;
	const char *file;
	int rc;
	const char *want; /* records seen, or the error */
};

#define M GREY_FILE_MAGIC "\n"

static const struct file_case cases[] = {
    {"empty state", M, 0, ""},
    {"one of each",
     M "T 10 20 127.0.0.0/a@b/c@d\nC 5 30 127.0.0.1\n"
       "N 3 40 r/x\n",
     0, "T 10 20 127.0.0.0/a@b/c@d|C 5 30 127.0.0.1|N 3 40 r/x"},
    {"escapes decoded", M "T 1 2 a%20b%25c%0Ad%c3%a9\n", 0,
     "T 1 2 a b%c\nd\xc3\xa9"},
    {"largest numbers", M "T 9223372036854775807 0 k\n", 0,
     "T 9223372036854775807 0 k"},
    {"nothing", "", -1,
     "line 1: not a state file (\"smtp-mimic state 1\" "
     "expected)"},
    {"wrong version", "smtp-mimic state 2\n", -1,
     "line 1: not a state file (\"smtp-mimic state 1\" expected)"},
    {"magic without newline", GREY_FILE_MAGIC, -1,
     "line 1: not a state file (\"smtp-mimic state 1\" expected)"},
    {"unknown kind", M "X 1 2 k\n", -1,
     "line 2: unknown record (T, C or N expected)"},
    {"blank line", M "\n", -1,
     "line 2: unknown record (T, C or N "
     "expected)"},
    {"two spaces", M "T  1 2 k\n", -1, "line 2: bad first number"},
    {"negative", M "T -1 2 k\n", -1, "line 2: bad first number"},
    {"overflow", M "T 9223372036854775808 2 k\n", -1,
     "line 2: bad first number"},
    {"second number", M "T 1 x k\n", -1, "line 2: bad second number"},
    {"no key", M "C 1 2\n", -1,
     "line 2: one space expected after the second number"},
    {"empty key", M "C 1 2 \n", -1, "line 2: empty key"},
    {"space in key", M "C 1 2 a b\n", -1,
     "line 2: a byte in the key that must be %XX"},
    {"tab in key", M "C 1 2 a\tb\n", -1,
     "line 2: a byte in the key that must be %XX"},
    {"cr at the end", M "C 1 2 ab\r\n", -1,
     "line 2: a byte in the key that must be %XX"},
    {"bad escape", M "C 1 2 a%g0\n", -1, "line 2: bad %XX escape in the key"},
    {"cut escape", M "C 1 2 a%4\n", -1, "line 2: bad %XX escape in the key"},
    {"nul escape", M "C 1 2 a%00\n", -1, "line 2: %00 in the key"},
    {"no final newline", M "T 1 2 k\nC 1 2 k", -1,
     "line 3: no newline at the end (a cut file?)"},
    {"letter after number", M "T 1a 2 k\n", -1,
     "line 2: one space expected after the first number"},
};

static void
test_cases(void **state)
{
	bool failed = false;

	(void)state;
	for (size_t i = 0; i < NROWS(cases); i++) {
		struct seen s = {{0}, 0};
		char err[256] = "";
		int rc = grey_file_parse(cases[i].file, strlen(cases[i].file),
		                         collect, &s, err, sizeof(err));
		const char *got = rc == 0 ? s.text : err;

		if (rc != cases[i].rc || strcmp(got, cases[i].want) != 0) {
			print_error("%s: got rc %d \"%s\", want rc %d \"%s\"\n",
			            cases[i].label, rc, got, cases[i].rc,
			            cases[i].want);
			failed = true;
		}
	}
	if (failed)
		fail();
}

static void
test_key_too_long(void **state)
{
	char file[4096], err[256];
	struct seen s = {{0}, 0};
	size_t o;

	(void)state;
	o = (size_t)snprintf(file, sizeof(file), M "N 1 2 ");
	memset(file + o, 'k', GREY_KEY_MAX);
	file[o + GREY_KEY_MAX] = '\n';
	assert_int_equal(grey_file_parse(file, o + GREY_KEY_MAX + 1, collect,
	                                 &s, err, sizeof(err)),
	                 0);
	memset(file + o, 'k', GREY_KEY_MAX + 1);
	file[o + GREY_KEY_MAX + 1] = '\n';
	assert_int_equal(grey_file_parse(file, o + GREY_KEY_MAX + 2, collect,
	                                 &s, err, sizeof(err)),
	                 -1);
	assert_string_equal(err, "line 2: key longer than 1024 bytes");
}

/* Every prefix of a good file: whole lines parse, anything else fails. */
static void
test_prefixes(void **state)
{
	static const char good[] = M "T 1000 2000 10.0.0.0/s@x/r@y\n"
	                             "C 5 3000 10.0.0.1\nN 2 4000 rule/a%20b\n";
	size_t len = strlen(good);

	(void)state;
	for (size_t n = 0; n <= len; n++) {
		struct seen s = {{0}, 0};
		char err[256];
		int rc =
		    grey_file_parse(good, n, collect, &s, err, sizeof(err));
		bool at_line = n >= strlen(M) && good[n - 1] == '\n';

		if ((rc == 0) != at_line) {
			print_error("prefix %zu: rc %d (%s)\n", n, rc,
			            rc ? err : "ok");
			fail();
		}
	}
}

/* A callback's non-zero return stops the parse and is returned. */
static int
stop_second(const struct grey_record *r, void *arg)
{
	return ++*(int *)arg == 2 ? 7 : 0;
}

static void
test_callback_stops(void **state)
{
	static const char file[] = M "T 1 2 a\nT 1 2 b\nT 1 2 c\n";
	char err[64];
	int calls = 0;

	(void)state;
	assert_int_equal(grey_file_parse(file, strlen(file), stop_second,
	                                 &calls, err, sizeof(err)),
	                 7);
	assert_int_equal(calls, 2);
}

/* Format, then parse: the same records, the keys escaped on the way. */
static void
test_round_trip(void **state)
{
	static const struct grey_record recs[] = {
	    {GREY_TRIPLET, 1, 2, "192.0.2.0/a@b.test/c@d.test", 27},
	    {GREY_CLIENT, 5, 1000000000, "2001:db8::1", 11},
	    {GREY_COUNTER, 3, 7, "r/\"quoted local\"@x/%\x01\x7f\xff", 27},
	};
	struct evbuffer *b = evbuffer_new();
	struct seen s = {{0}, 0};
	char err[256], *text;
	size_t n;

	(void)state;
	assert_int_equal(grey_file_header(b), 0);
	for (size_t i = 0; i < NROWS(recs); i++) {
		struct grey_record r = recs[i];

		r.key_len = strlen(r.key);
		assert_int_equal(grey_file_record(b, &r), 0);
	}
	n = evbuffer_get_length(b);
	text = (char *)evbuffer_pullup(b, -1);
	{
		static const char want[] =
		    "N 3 7 r/\"quoted%20local\"@x/%25%01%7F%FF\n";

		assert_non_null(memmem(text, n, want, strlen(want)));
	}
	assert_int_equal(
	    grey_file_parse(text, n, collect, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(
	    s.text, "T 1 2 192.0.2.0/a@b.test/c@d.test|C 5 1000000000 "
	            "2001:db8::1|N 3 7 r/\"quoted local\"@x/%\x01\x7f\xff");
	evbuffer_free(b);
}

static void
test_format_refuses(void **state)
{
	struct evbuffer *b = evbuffer_new();
	char big[GREY_KEY_MAX + 2];
	struct grey_record r = {GREY_COUNTER, 1, 2, "", 0};

	(void)state;
	assert_int_equal(grey_file_record(b, &r), -1); /* empty key */
	r.key = "a\0b";
	r.key_len = 3;
	assert_int_equal(grey_file_record(b, &r), -1); /* NUL inside */
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	r.key = big;
	r.key_len = GREY_KEY_MAX + 1;
	assert_int_equal(grey_file_record(b, &r), -1); /* too long */
	r.key = "k";
	r.key_len = 1;
	r.a = -1;
	assert_int_equal(grey_file_record(b, &r), -1); /* negative */
	assert_int_equal(evbuffer_get_length(b), 0);
	evbuffer_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),
	    cmocka_unit_test(test_key_too_long),
	    cmocka_unit_test(test_prefixes),
	    cmocka_unit_test(test_callback_stops),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_format_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
