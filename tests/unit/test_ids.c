/*
 * test_ids.c - unit tests for ids.c: each queue id format from fixed
 * inputs against the vendor's own example (FACTS 7-10), the format names,
 * the Gmail session id's shape, and cut buffers. Does not test which
 * format a profile picks (test_profile) or the ids on the wire (the
 * black-box tests).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ids.h"

#define NROWS(t) (sizeof(t) / sizeof((t)[0]))

struct qid_case {
	const char *label;
	enum qid_format f;
	struct ids_in in;
	const char *want;
};

static const struct qid_case qid_cases[] = {
    /* smtp-mimic's own: seconds then counter */
    {"hex",
     QID_HEX,
     {1758208088, 5, 100, 0x2a},
     "68CC2058"
     "00002A"},
    {"hex counter wraps",
     QID_HEX,
     {1758208088, 5, 100, 0x1000001},
     "68CC2058000001"},
    /* FACTS 7: 691C961ADE2 = %05X of 430537 us + %lX of the inode */
    {"postfix example",
     QID_POSTFIX,
     {1758208088, 430537, 100, 5352930},
     "691C961ADE2"},
    {"postfix small usec",
     QID_POSTFIX,
     {1758208088, 10, 100, 1},
     "0000A100001"},
    /* FACTS 8: 5BF3ab1t012345 = 2025-12-15 03:36:37 UTC, sequence 115
     * ("1t"), pid 12345 */
    {"sendmail example",
     QID_SENDMAIL,
     {1765769797, 0, 12345, 115},
     "5BF3ab1t012345"},
    {"sendmail sequence wraps at 3600",
     QID_SENDMAIL,
     {1765769797, 0, 12345, 3600 + 115},
     "5BF3ab1t012345"},
    {"sendmail big pid",
     QID_SENDMAIL,
     {1765769797, 0, 4194304, 0},
     "5BF3ab00194304"},
    /* FACTS 9: 1p01gJ-001s6W-2R = time 1669732435, pid 446308,
     * 151 * 500 us */
    {"exim example",
     QID_EXIM,
     {1669732435, 75500, 446308, 9},
     "1p01gJ-001s6W-2R"},
    {"exim fraction rounds down",
     QID_EXIM,
     {1669732435, 75999, 446308, 9},
     "1p01gJ-001s6W-2R"},
    {"exim zero", QID_EXIM, {0, 0, 0, 0}, "000000-000000-00"},
    /* FACTS 10: "<unix-time> qp <pid>", each message its own pid */
    {"qmail", QID_QMAIL, {1700000000, 1, 4000, 5}, "1700000000 qp 4005"},
};

static void
test_queue_ids(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(qid_cases); i++) {
		const struct qid_case *c = &qid_cases[i];
		char got[IDS_MAX];

		memset(got, 'x', sizeof(got));
		ids_queue_id(c->f, &c->in, got, sizeof(got));
		if (strcmp(got, c->want) != 0) {
			print_error("%s: got \"%s\" want \"%s\"\n", c->label,
			            got, c->want);
			fail();
		}
	}
}

static void
test_names(void **state)
{
	static const char *const qids[] = {"hex", "postfix", "sendmail", "exim",
	                                   "qmail"};
	static const char *const sids[] = {"number", "gmail"};

	(void)state;
	assert_int_equal(NROWS(qids), QID_FORMAT_COUNT);
	assert_int_equal(NROWS(sids), SID_FORMAT_COUNT);
	for (size_t i = 0; i < NROWS(qids); i++)
		assert_string_equal(ids_qid_format_str((enum qid_format)i),
		                    qids[i]);
	for (size_t i = 0; i < NROWS(sids); i++)
		assert_string_equal(ids_sid_format_str((enum sid_format)i),
		                    sids[i]);
	assert_null(ids_qid_format_str(QID_FORMAT_COUNT));
	assert_null(ids_sid_format_str(SID_FORMAT_COUNT));
}

static void
test_session_ids(void **state)
{
	static const char *re = "^[0-9a-f]{13}-[0-9a-f]{11}si[0-9]{7}[a-z]\\."
	                        "[1-9][0-9]{0,2}$";
	static const uint64_t rs[][2] = {
	    {0, 0},
	    {~0ull, ~0ull},
	    {0xd75a77b69052eull, 0x2b0c4fea3a4ull},
	    {12345, 67890},
	};
	regex_t rx;
	char got[IDS_MAX], prev[IDS_MAX] = "";

	(void)state;
	ids_session_id(SID_NUMBER, 42, 1, 2, got, sizeof(got));
	assert_string_equal(got, "42");
	assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	for (size_t i = 0; i < NROWS(rs); i++) {
		ids_session_id(SID_GMAIL, 42, rs[i][0], rs[i][1], got,
		               sizeof(got));
		if (regexec(&rx, got, 0, NULL, 0) != 0 ||
		    strcmp(got, prev) == 0) {
			print_error("gmail %zu: got \"%s\"\n", i, got);
			fail();
		}
		snprintf(prev, sizeof(prev), "%s", got);
	}
	/* the hex pieces are the caller's bits */
	ids_session_id(SID_GMAIL, 1, 0xd75a77b69052eull, 0x2b0c4fea3a4ull, got,
	               sizeof(got));
	assert_memory_equal(got, "d75a77b69052e-2b0c4fea3a4si", 27);
	/* same bits, same id */
	ids_session_id(SID_GMAIL, 9, 7, 8, got, sizeof(got));
	ids_session_id(SID_GMAIL, 9, 7, 8, prev, sizeof(prev));
	assert_string_equal(got, prev);
	regfree(&rx);
}

/* A short buffer gets a cut id, NUL-terminated; 0 bytes: untouched. */
static void
test_cut(void **state)
{
	struct ids_in in = {1700000000, 1, 4000, 5};
	char got[8];

	(void)state;
	for (int f = 0; f < QID_FORMAT_COUNT; f++) {
		memset(got, 'x', sizeof(got));
		ids_queue_id((enum qid_format)f, &in, got, 5);
		assert_int_equal(strlen(got), 4);
	}
	got[0] = 'x';
	ids_queue_id(QID_QMAIL, &in, got, 0);
	ids_session_id(SID_GMAIL, 1, 2, 3, got, 0);
	assert_int_equal(got[0], 'x');
	ids_session_id(SID_GMAIL, 1, 2, 3, got, sizeof(got));
	assert_int_equal(strlen(got), sizeof(got) - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_queue_ids),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_session_ids),
	    cmocka_unit_test(test_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
