/*
 * test_utf8.c - unit tests for utf8.c: every row of RFC 3629's table of
 * well-formed sequences at its edges, the forms it refuses (overlongs,
 * surrogates, past U+10FFFF, stray continuation bytes, cut-off
 * sequences), and the length limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "utf8.h"

static const struct {
	const char *label;
	const char *bytes;
	size_t len;  /* bytes available */
	size_t want; /* utf8_seq's answer */
} cases[] = {
    {"ASCII letter", "a", 1, 1},
    {"ASCII NUL", "\0", 1, 1},
    {"nothing available", "", 0, 0},
    {"U+0080 lowest 2-byte", "\xc2\x80", 2, 2},
    {"U+07FF highest 2-byte", "\xdf\xbf", 2, 2},
    {"overlong 2-byte C0", "\xc0\xaf", 2, 0},
    {"overlong 2-byte C1", "\xc1\xbf", 2, 0},
    {"U+0800 lowest 3-byte", "\xe0\xa0\x80", 3, 3},
    {"overlong 3-byte", "\xe0\x9f\xbf", 3, 0},
    {"U+D7FF below surrogates", "\xed\x9f\xbf", 3, 3},
    {"U+D800 surrogate", "\xed\xa0\x80", 3, 0},
    {"U+DFFF surrogate", "\xed\xbf\xbf", 3, 0},
    {"U+E000 above surrogates", "\xee\x80\x80", 3, 3},
    {"U+FFFF highest 3-byte", "\xef\xbf\xbf", 3, 3},
    {"U+10000 lowest 4-byte", "\xf0\x90\x80\x80", 4, 4},
    {"overlong 4-byte", "\xf0\x8f\xbf\xbf", 4, 0},
    {"U+10FFFF highest", "\xf4\x8f\xbf\xbf", 4, 4},
    {"U+110000 past the end", "\xf4\x90\x80\x80", 4, 0},
    {"F5 lead byte", "\xf5\x80\x80\x80", 4, 0},
    {"FF byte", "\xff", 1, 0},
    {"stray continuation", "\x80", 1, 0},
    {"cut-off 2-byte", "\xc3", 1, 0},
    {"cut-off 3-byte", "\xe2\x82", 2, 0},
    {"cut-off 4-byte", "\xf0\x9f\x98", 3, 0},
    {"bad third byte", "\xe2\x82\x41", 3, 0},
    {"bad fourth byte", "\xf0\x9f\x98\xc0", 4, 0},
    {"e-acute then more", "\xc3\xa9xyz", 5, 2},
    {"euro sign", "\xe2\x82\xac", 3, 3},
    {"emoji", "\xf0\x9f\x98\x80", 4, 4},
};

static void
test_table(void **state)
{
	int failed = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t got = utf8_seq((const unsigned char *)cases[i].bytes,
		                      cases[i].len);

		if (got != cases[i].want) {
			print_error("%s: got %zu, want %zu\n", cases[i].label,
			            got, cases[i].want);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
