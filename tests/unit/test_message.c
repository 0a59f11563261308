/*
 * test_message.c - unit tests for message.c: the DATA decoder (with the
 * profile's data.* settings: end-of-data sequences, bare LF and CR
 * actions, FACTS 13) and the header scanner. The runner is message_util.h.
 *
 * Every case runs whole, trickled one byte at a time, and split in two
 * at every position; all runs must give the same output, consumed count,
 * done flag and counters. Does not test I/O or the session around them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "message.h"
#include "message_util.h"

/* --- DATA decoder --- */

static const struct data_case data_cases[] = {
    {"empty message", false, B(".\r\n"), B(""), 0, true, 0, 0, false, false},
    {"empty message, lenient", true, B(".\r\n"), B(""), 0, true, 0, 0, false,
     false},
    {"one line", false, B("hello\r\n.\r\n"), B("hello\r\n"), 0, true, 1, 7,
     false, false},
    {"dot-stuffed line", false, B("..hidden\r\n.\r\n"), B(".hidden\r\n"), 0,
     true, 1, 9, false, false},
    {"\"..\" alone is one dot", false, B("a\r\n..\r\n.\r\n"), B("a\r\n.\r\n"),
     0, true, 2, 3, false, false},
    {"\"...\" keeps two", false, B("...\r\n.\r\n"), B("..\r\n"), 0, true, 1, 4,
     false, false},
    {"dot then text is unstuffed", false, B(".x\r\n.\r\n"), B("x\r\n"), 0, true,
     1, 3, false, false},
    {"dot inside a line stays", false, B("a.\r\n.b.\r\n.\r\n"),
     B("a.\r\nb.\r\n"), 0, true, 2, 4, false, false},
    {"pipelined next command left", false, B("hi\r\n.\r\nQUIT\r\n"),
     B("hi\r\n"), 6, true, 1, 4, false, false},
    {"second end-of-data left", false, B(".\r\n.\r\n"), B(""), 3, true, 0, 0,
     false, false},
    {"not ended yet", false, B("hi\r\n"), B("hi\r\n"), 0, false, 1, 4, false,
     false},
    {"not ended, dot held back", false, B("hi\r\n."), B("hi\r\n"), 0, false, 1,
     4, false, false},
    {"not ended, dot CR held back", false, B("hi\r\n.\r"), B("hi\r\n"), 0,
     false, 1, 4, false, false},
    {"dot CR then text", false, B("a\r\n.\rb\r\n.\r\n"), B("a\r\n\rb\r\n"), 0,
     true, 2, 4, false, false},
    {"dot CR CR LF", false, B(".\r\r\n.\r\n"), B("\r\r\n"), 0, true, 1, 3,
     false, false},
    {"empty lines", false, B("\r\n\r\n.\r\n"), B("\r\n\r\n"), 0, true, 2, 2,
     false, false},
    {"CR without LF is content", false, B("a\rb\r\n.\r\n"), B("a\rb\r\n"), 0,
     true, 1, 5, false, false},
    {"CR CR LF", false, B("a\r\r\n.\r\n"), B("a\r\r\n"), 0, true, 1, 4, false,
     false},
    {"NUL", false, B("a\0b\r\n.\r\n"), B("a\0b\r\n"), 0, true, 1, 5, false,
     true},
    {"NUL after leading dot", false, B(".\0\r\n.\r\n"), B("\0\r\n"), 0, true, 1,
     3, false, true},
    /* strict: a bare LF is content and never ends a line */
    {"strict bare LF is content", false, B("a\nb\r\n.\r\n"), B("a\nb\r\n"), 0,
     true, 1, 5, true, false},
    {"strict LF.LF does not end", false, B("a\n.\nb\r\n.\r\n"),
     B("a\n.\nb\r\n"), 0, true, 1, 7, true, false},
    {"strict CRLF.LF does not end", false, B("a\r\n.\n\r\n.\r\n"),
     B("a\r\n\n\r\n"), 0, true, 2, 3, true, false},
    {"strict LF.CRLF does not end", false, B("a\n.\r\nb\r\n.\r\n"),
     B("a\n.\r\nb\r\n"), 0, true, 2, 5, true, false},
    {"strict LF only never ends", false, B("a\n.\n"), B("a\n.\n"), 0, false, 0,
     4, true, false},
    /* lenient: a bare LF ends a line and can end the data */
    {"lenient LF.LF ends", true, B("a\n.\n"), B("a\n"), 0, true, 1, 2, true,
     false},
    {"lenient CRLF.LF ends", true, B("a\r\n.\nNEXT"), B("a\r\n"), 4, true, 1, 3,
     false, false},
    {"lenient LF.CRLF ends", true, B("a\n.\r\n"), B("a\n"), 0, true, 1, 2, true,
     false},
    {"lenient empty LF", true, B(".\n"), B(""), 0, true, 0, 0, false, false},
    {"lenient unstuffs after LF", true, B("a\n..b\n.\n"), B("a\n.b\n"), 0, true,
     2, 3, true, false},
    {"lenient CR alone is no line end", true, B("a\r.\n.\n"), B("a\r.\n"), 0,
     true, 1, 4, true, false},
    {"lenient CRLF still works", true, B("x\r\n..\r\n.\r\n"), B("x\r\n.\r\n"),
     0, true, 2, 3, false, false},
};

static void
test_data_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(data_cases) / sizeof(data_cases[0]); i++)
		data_case_run(&data_cases[i]);
}

/* RFC 5321 4.5.3.1.6: 1000 octets incl. CRLF, stuffing dot not counted */
static void
test_data_long_lines(void **state)
{
	char *in = malloc(2100), *want = malloc(2100);
	struct data_case c = {0};
	size_t n = 0, w = 0;

	(void)state;
	assert_non_null(in);
	assert_non_null(want);
	/* 999 x + CRLF = 1001 */
	memset(in, 'x', 999);
	memcpy(in + 999, "\r\n", 2);
	n = 1001;
	memcpy(want, in, n);
	w = n;
	/* ".." + 998 x + CRLF: decoded "." + 998 x + CRLF = 1001 too */
	memcpy(in + n, "..", 2);
	memset(in + n + 2, 'y', 998);
	memcpy(in + n + 1000, "\r\n", 2);
	memcpy(want + w, in + n + 1, 1001);
	n += 1002;
	w += 1001;
	memcpy(in + n, ".\r\n", 3);
	n += 3;
	c.label = "1001-byte lines";
	c.in = in;
	c.in_len = n;
	c.want = want;
	c.want_len = w;
	c.done = true;
	c.lines = 2;
	c.max_line = 1001;
	data_case_run(&c);
	free(in);
	free(want);
}

/* --- profile data.*: end-of-data sequences and bare LF / CR --- */

#define IN(s)   .in = s, .in_len = sizeof(s) - 1
#define WANT(s) .want = s, .want_len = sizeof(s) - 1
#define S(a, b) EOD_SEQ(EOD_##a, EOD_##b)
#define STD     EOD_STANDARD
/* FACTS 13: what Postfix, Sendmail and Exim took before their fixes */
#define UNIX_EODS (S(LF, LF) | S(LF, CRLF) | S(CRLF, LF))
/* FACTS 13: Cisco ESA's "Clean" CR/LF handling */
#define ESA_EODS (S(CR, CR) | S(LF, CRLF))

static const struct cfg_case cfg_cases[] = {
    {{.label = "unix: CRLF.LF ends, rest is commands",
      IN("a\r\n.\nMAIL FROM:<x>\r\n"),
      WANT("a\r\n"),
      .rest = 15,
      .done = true,
      .lines = 1,
      .max_line = 3,
      .bare_lf = false},
     {.eod = UNIX_EODS, .on_lf = BARE_CRLF, .eod_seen = S(CRLF, LF)}},
    {{.label = "unix: LF.CRLF ends, bare LF normalised",
      IN("a\n.\r\nNEXT"),
      WANT("a\r\n"),
      .rest = 4,
      .done = true,
      .lines = 1,
      .max_line = 3,
      .bare_lf = true},
     {.eod = UNIX_EODS, .on_lf = BARE_CRLF, .eod_seen = S(LF, CRLF)}},
    {{.label = "unix: LF.LF ends",
      IN("a\n.\nX"),
      WANT("a\r\n"),
      .rest = 1,
      .done = true,
      .lines = 1,
      .max_line = 3,
      .bare_lf = true},
     {.eod = UNIX_EODS, .on_lf = BARE_CRLF, .eod_seen = S(LF, LF)}},
    {{.label = "unix: LF.LF ends, bare LF kept",
      IN("a\nb\n.\nX"),
      WANT("a\nb\n"),
      .rest = 1,
      .done = true,
      .lines = 2,
      .max_line = 2,
      .bare_lf = true},
     {.eod = UNIX_EODS, .eod_seen = S(LF, LF)}},
    {{.label = "unix: CR.CR does not end",
      IN("a\r.\rX\r\n.\r\n"),
      WANT("a\r.\rX\r\n"),
      .rest = 0,
      .done = true,
      .lines = 1,
      .max_line = 7,
      .bare_lf = false},
     {.eod = UNIX_EODS, .on_lf = BARE_CRLF, .bare_cr = true, .eod_seen = STD}},
    {{.label = "unix: unstuffing after a bare LF",
      IN("a\n..b\r\n.\r\n"),
      WANT("a\r\n.b\r\n"),
      .rest = 0,
      .done = true,
      .lines = 2,
      .max_line = 4,
      .bare_lf = true},
     {.eod = UNIX_EODS, .on_lf = BARE_CRLF, .eod_seen = STD}},
    {{.label = "first line: CRLF.LF right after DATA",
      IN(".\nX"),
      WANT(""),
      .rest = 1,
      .done = true,
      .lines = 0,
      .max_line = 0,
      .bare_lf = false},
     {.eod = S(CRLF, LF), .eod_seen = S(CRLF, LF)}},
    {{.label = "normalize: LF.LF is a line with a dot, unstuffed",
      IN("a\n.\nb\r\n.\r\n"),
      WANT("a\r\n\r\nb\r\n"),
      .rest = 0,
      .done = true,
      .lines = 3,
      .max_line = 3,
      .bare_lf = true},
     {.on_lf = BARE_CRLF, .eod_seen = STD}},
    {{.label = "normalize: CRLF.LF does not end",
      IN("a\r\n.\nb\r\n.\r\n"),
      WANT("a\r\n\r\nb\r\n"),
      .rest = 0,
      .done = true,
      .lines = 3,
      .max_line = 3,
      .bare_lf = true},
     {.on_lf = BARE_CRLF, .eod_seen = STD}},
    {{.label = "esa clean: CR.CR ends",
      IN("a\r.\rMAIL"),
      WANT("a\r\n"),
      .rest = 4,
      .done = true,
      .lines = 1,
      .max_line = 3,
      .bare_lf = false},
     {.eod = ESA_EODS,
      .on_lf = BARE_CRLF,
      .on_cr = BARE_CRLF,
      .bare_cr = true,
      .eod_seen = S(CR, CR)}},
    {{.label = "esa clean: LF.CRLF ends",
      IN("a\n.\r\nX"),
      WANT("a\r\n"),
      .rest = 1,
      .done = true,
      .lines = 1,
      .max_line = 3,
      .bare_lf = true},
     {.eod = ESA_EODS,
      .on_lf = BARE_CRLF,
      .on_cr = BARE_CRLF,
      .eod_seen = S(LF, CRLF)}},
    {{.label = "esa clean: LF.LF does not end",
      IN("a\n.\nb\r\n.\r\n"),
      WANT("a\r\n\r\nb\r\n"),
      .rest = 0,
      .done = true,
      .lines = 3,
      .max_line = 3,
      .bare_lf = true},
     {.eod = ESA_EODS,
      .on_lf = BARE_CRLF,
      .on_cr = BARE_CRLF,
      .eod_seen = STD}},
    {{.label = "esa clean: CR CR LF",
      IN("a\r\r\n.\r\n"),
      WANT("a\r\n\r\n"),
      .rest = 0,
      .done = true,
      .lines = 2,
      .max_line = 3,
      .bare_lf = false},
     {.eod = ESA_EODS,
      .on_lf = BARE_CRLF,
      .on_cr = BARE_CRLF,
      .bare_cr = true,
      .eod_seen = STD}},
    {{.label = "esa clean: CR.CR waits for the byte after",
      IN("a\r.\r"),
      WANT("a\r\n"),
      .rest = 0,
      .done = false,
      .lines = 1,
      .max_line = 3,
      .bare_lf = false},
     {.eod = ESA_EODS,
      .on_lf = BARE_CRLF,
      .on_cr = BARE_CRLF,
      .bare_cr = true}},
    {{.label = "esa clean: CR.CRLF is not CR.CR",
      IN("a\r.\r\nb\r\n.\r\n"),
      WANT("a\r\n\r\nb\r\n"),
      .rest = 0,
      .done = true,
      .lines = 3,
      .max_line = 3,
      .bare_lf = false},
     {.eod = ESA_EODS,
      .on_lf = BARE_CRLF,
      .on_cr = BARE_CRLF,
      .bare_cr = true,
      .eod_seen = STD}},
    {{.label = "CR.CR, CR kept: a bare CR ends a line",
      IN("a\r..b\r\n.\r\n"),
      WANT("a\r.b\r\n"),
      .rest = 0,
      .done = true,
      .lines = 2,
      .max_line = 4,
      .bare_lf = false},
     {.eod = S(CR, CR), .bare_cr = true, .eod_seen = STD}},
    {{.label = "space: bare LF",
      IN("a\nb\r\n.\r\n"),
      WANT("a b\r\n"),
      .rest = 0,
      .done = true,
      .lines = 1,
      .max_line = 5,
      .bare_lf = true},
     {.on_lf = BARE_SPACE, .eod_seen = STD}},
    {{.label = "space: LF.LF is text",
      IN("a\n.\nb\r\n.\r\n"),
      WANT("a . b\r\n"),
      .rest = 0,
      .done = true,
      .lines = 1,
      .max_line = 7,
      .bare_lf = true},
     {.on_lf = BARE_SPACE, .eod_seen = STD}},
    {{.label = "space: bare CR",
      IN("a\rb\r\n.\r\n"),
      WANT("a b\r\n"),
      .rest = 0,
      .done = true,
      .lines = 1,
      .max_line = 5,
      .bare_lf = false},
     {.on_cr = BARE_SPACE, .bare_cr = true, .eod_seen = STD}},
    {{.label = "reject: bare LF, read to the end",
      IN("a\nb\n\r\n.\r\nQUIT"),
      WANT("a\nb\n\r\n"),
      .rest = 4,
      .done = true,
      .lines = 1,
      .max_line = 6,
      .bare_lf = true},
     {.on_lf = BARE_REJECT, .eod_seen = STD, .rejected = '\n'}},
    {{.label = "reject: bare CR",
      IN("a\rb\r\n.\r\n"),
      WANT("a\rb\r\n"),
      .rest = 0,
      .done = true,
      .lines = 1,
      .max_line = 5,
      .bare_lf = false},
     {.on_cr = BARE_REJECT,
      .bare_cr = true,
      .eod_seen = STD,
      .rejected = '\r'}},
    {{.label = "reject: CRLF alone is fine",
      IN("a\r\n.\r\n"),
      WANT("a\r\n"),
      .rest = 0,
      .done = true,
      .lines = 1,
      .max_line = 3,
      .bare_lf = false},
     {.on_lf = BARE_REJECT, .on_cr = BARE_REJECT, .eod_seen = STD}},
    {{.label = "exit: the first bare LF stops",
      IN("ok\r\nbad\nmore\r\n.\r\n"),
      WANT("ok\r\nbad"),
      .rest = 9,
      .done = true,
      .lines = 1,
      .max_line = 4,
      .bare_lf = true},
     {.on_lf = BARE_EXIT, .exited = '\n'}},
    {{.label = "exit: LF.LF stops at the first LF",
      IN("a\n.\n"),
      WANT("a"),
      .rest = 2,
      .done = true,
      .lines = 0,
      .max_line = 1,
      .bare_lf = true},
     {.on_lf = BARE_EXIT, .exited = '\n'}},
    {{.label = "exit: bare CR stops before the next byte",
      IN("a\rb\r\n.\r\n"),
      WANT("a"),
      .rest = 6,
      .done = true,
      .lines = 0,
      .max_line = 1,
      .bare_lf = false},
     {.on_cr = BARE_EXIT, .bare_cr = true, .exited = '\r'}},
    {{.label = "exit: CRLF is not bare",
      IN("a\r\n.\r\n"),
      WANT("a\r\n"),
      .rest = 0,
      .done = true,
      .lines = 1,
      .max_line = 3,
      .bare_lf = false},
     {.on_lf = BARE_EXIT, .on_cr = BARE_EXIT, .eod_seen = STD}},
    {{.label = "lenient plus CR.CR",
      .lenient = true,
      IN("a\n.\n"),
      WANT("a\n"),
      .done = true,
      .lines = 1,
      .max_line = 2,
      .bare_lf = true},
     {.eod = S(CR, CR), .eod_seen = S(LF, LF)}},
};

static void
test_data_profile_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cfg_cases) / sizeof(cfg_cases[0]); i++) {
		cur_cfg = &cfg_cases[i].k;
		data_case_run(&cfg_cases[i].c);
	}
	cur_cfg = NULL;
}

static void
test_eod_names(void **state)
{
	static const struct {
		const char *in;
		unsigned want;
	} cases[] = {
	    {"LF.LF", S(LF, LF)},
	    {"lf.crlf", S(LF, CRLF)},
	    {"CRLF.LF", S(CRLF, LF)},
	    {"CR.CR", S(CR, CR)},
	    {"CRLF.CRLF", STD},
	    {"Cr.Lf", S(CR, LF)},
	    {"LF", 0},
	    {"LF.", 0},
	    {".LF", 0},
	    {"X.LF", 0},
	    {"LF.LFX", 0},
	    {"LF LF", 0},
	    {"", 0},
	    {"CRLF.CRLF.", 0},
	};
	char buf[16];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned got = eod_seq_from_str(cases[i].in);

		if (got != cases[i].want) {
			print_error(
			    "eod_seq_from_str(\"%s\") got %#x want %#x\n",
			    cases[i].in, got, cases[i].want);
			fail();
		}
	}
	for (int a = 0; a < EOD_EOL_COUNT; a++)
		for (int b = 0; b < EOD_EOL_COUNT; b++) {
			unsigned bit = EOD_SEQ(a, b);

			assert_int_equal(eod_seq_from_str(eod_seq_str(
			                     bit, buf, sizeof(buf))),
			                 bit);
		}
	assert_string_equal(eod_seq_str(S(LF, CRLF), buf, sizeof(buf)),
	                    "LF.CRLF");
	assert_string_equal(eod_seq_str(3, buf, sizeof(buf)), "");
	assert_string_equal(bare_action_names[BARE_CRLF], "crlf");
}

/* --- header scanner --- */

struct hdr_case {
	const char *label;
	const char *in;
	size_t in_len;
	bool ends_in_feed; /* feed finds the end; else finish does */
	uint64_t size;
	size_t max_line;
	const char *names; /* "name:count ..." in first-seen order */
	const char *dup;   /* header_any_duplicate(), NULL for none */
};

static void
render_names(const struct header_scan *h, char *buf, size_t len)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < h->nnames && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s:%u", i ? " " : "",
		                      h->names[i], h->counts[i]);
}

/* feed in a first chunk of `first` bytes, then `step` (0: the rest) */
static void
hdr_run(const struct hdr_case *c, size_t first, size_t step, const char *mode)
{
	struct header_scan h;
	size_t pos = 0, chunk = first;
	unsigned feed_trues = 0;
	bool fin;
	char names[4096];
	const char *dup;
	bool ok = true;

	header_scan_init(&h);
	while (pos < c->in_len) {
		if (chunk > c->in_len - pos || chunk == 0)
			chunk = c->in_len - pos;
		if (header_scan_feed(&h, c->in + pos, chunk))
			feed_trues++;
		pos += chunk;
		chunk = step;
	}
	fin = header_scan_finish(&h);
	render_names(&h, names, sizeof(names));
	dup = header_any_duplicate(&h);
	if (feed_trues != (c->ends_in_feed ? 1u : 0u) ||
	    fin == c->ends_in_feed || !h.done) {
		print_error("%s [%s]: feed true %u times, finish %d, done %d; "
		            "want end in feed %d\n",
		            c->label, mode, feed_trues, fin, h.done,
		            c->ends_in_feed);
		ok = false;
	}
	if (h.size != c->size || h.max_line != c->max_line) {
		print_error("%s [%s]: size/max_line got %llu/%zu want "
		            "%llu/%zu\n",
		            c->label, mode, (unsigned long long)h.size,
		            h.max_line, (unsigned long long)c->size,
		            c->max_line);
		ok = false;
	}
	if (strcmp(names, c->names) != 0) {
		print_error("%s [%s]: names got \"%s\" want \"%s\"\n", c->label,
		            mode, names, c->names);
		ok = false;
	}
	if ((dup == NULL) != (c->dup == NULL) ||
	    (dup && strcmp(dup, c->dup) != 0)) {
		print_error("%s [%s]: dup got %s want %s\n", c->label, mode,
		            dup ? dup : "NULL", c->dup ? c->dup : "NULL");
		ok = false;
	}
	if (!ok)
		fail();
}

static void
hdr_case_run(const struct hdr_case *c)
{
	char mode[64];
	size_t k;

	hdr_run(c, c->in_len, 0, "whole");
	hdr_run(c, 1, 1, "trickle");
	for (k = 1; k < c->in_len; k++) {
		snprintf(mode, sizeof(mode), "split at %zu", k);
		hdr_run(c, k, 0, mode);
	}
}

static const struct hdr_case hdr_cases[] = {
    {"simple", B("Subject: hi\r\nFrom: a@b\r\n\r\nbody\r\n"), true, 24, 13,
     "subject:1 from:1", NULL},
    {"folded", B("Subject: a\r\n b\r\n\tc\r\nTo: x\r\n\r\n"), true, 27, 12,
     "subject:1 to:1", NULL},
    {"duplicate DKIM-Signature",
     B("DKIM-Signature: a\r\nDKIM-Signature: b\r\nFrom: x\r\n\r\nbody"), true,
     47, 19, "dkim-signature:2 from:1", "dkim-signature"},
    {"case-insensitive names",
     B("Received: a\r\nRECEIVED: b\r\nreceived: c\r\n\r\n"), true, 39, 13,
     "received:3", "received"},
    {"headers only", B("Subject: x\r\n"), false, 12, 12, "subject:1", NULL},
    {"headers only, no final EOL", B("Subject: x"), false, 10, 10, "subject:1",
     NULL},
    {"empty message", B(""), false, 0, 0, "", NULL},
    {"body without blank line", B("Subject: x\r\nHello world\r\n"), true, 12,
     12, "subject:1", NULL},
    {"body line with a word only", B("A: 1\r\nHello\r\n"), true, 6, 6, "a:1",
     NULL},
    {"LF line ends", B("Subject: x\nTo: y\n\nbody\n"), true, 17, 11,
     "subject:1 to:1", NULL},
    {"folded with LF", B("A: 1\n 2\n\n"), true, 8, 5, "a:1", NULL},
    {"WSP before colon (obs)", B("Subject : x\r\n\r\n"), true, 13, 13,
     "subject:1", NULL},
    {"first line indented is body", B(" x: y\r\n"), true, 0, 0, "", NULL},
    {"line starting with colon", B(":x\r\n"), true, 0, 0, "", NULL},
    {"8-bit in value", B("Subject: \xc3\xa9\r\n\r\n"), true, 13, 13,
     "subject:1", NULL},
    {"8-bit in name ends",
     B("S\xc3\xbc"
       "bject: x\r\n"),
     true, 0, 0, "", NULL},
    {"CR alone at line start", B("A: b\r\n\rX\r\n"), true, 6, 6, "a:1", NULL},
    {"empty value", B("X:\r\n\r\n"), true, 4, 4, "x:1", NULL},
    {"headers after blank line ignored", B("A: 1\r\n\r\nB: 2\r\n"), true, 6, 6,
     "a:1", NULL},
    {"long folded line", B("A: 1\r\n 234567890\r\n\r\n"), true, 18, 12, "a:1",
     NULL},
};

static void
test_header_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(hdr_cases) / sizeof(hdr_cases[0]); i++)
		hdr_case_run(&hdr_cases[i]);
}

static void
test_header_count(void **state)
{
	struct header_scan h;
	const char *m = "DKIM-Signature: a\r\ndkim-signature: b\r\n\r\n";

	(void)state;
	header_scan_init(&h);
	assert_true(header_scan_feed(&h, m, strlen(m)));
	assert_int_equal(header_count(&h, "DKIM-SIGNATURE"), 2);
	assert_int_equal(header_count(&h, "dkim-signature"), 2);
	assert_int_equal(header_count(&h, "From"), 0);
	assert_false(header_scan_feed(&h, "X: y\r\n", 6));
	assert_false(header_scan_finish(&h));
	assert_int_equal(header_count(&h, "x"), 0);
}

/* names over HEADER_NAME_MAX are tracked by their first 64 bytes */
static void
test_header_long_name(void **state)
{
	char in[256], name[80], want[HEADER_NAME_MAX + 8];
	char trunc[HEADER_NAME_MAX + 1];
	struct hdr_case c = {0};
	struct header_scan h;
	size_t n;

	(void)state;
	memset(name, 'n', 70);
	name[70] = '\0';
	memset(trunc, 'n', HEADER_NAME_MAX);
	trunc[HEADER_NAME_MAX] = '\0';
	snprintf(want, sizeof(want), "%s:2", trunc);
	n = (size_t)snprintf(in, sizeof(in), "%s: 1\r\n%s: 2\r\n\r\n", name,
	                     name);
	c.label = "70-byte name";
	c.in = in;
	c.in_len = n;
	c.ends_in_feed = true;
	c.size = 2 * 75; /* 70 + ": 1" + CRLF */
	c.max_line = 75;
	c.names = want;
	c.dup = trunc;
	hdr_case_run(&c);
	header_scan_init(&h);
	header_scan_feed(&h, in, n);
	assert_int_equal(header_count(&h, name), 2);
}

/* more than HEADER_TRACK_MAX names: the rest count only in size */
static void
test_header_many_names(void **state)
{
	char in[4096], want[4096];
	struct hdr_case c = {0};
	size_t n = 0, w = 0;
	int i;

	(void)state;
	for (i = 0; i < HEADER_TRACK_MAX + 6; i++) {
		n +=
		    (size_t)snprintf(in + n, sizeof(in) - n, "H%03d: x\r\n", i);
		if (i < HEADER_TRACK_MAX)
			w += (size_t)snprintf(want + w, sizeof(want) - w,
			                      "%sh%03d:1", i ? " " : "", i);
	}
	c.size = n;
	n += (size_t)snprintf(in + n, sizeof(in) - n, "H000: again\r\n\r\n");
	c.size += 13;
	/* h000 was tracked, so the repeat counts */
	memcpy(want + 5, "2", 1);
	c.label = "70 distinct names";
	c.in = in;
	c.in_len = n;
	c.ends_in_feed = true;
	c.max_line = 13;
	c.names = want;
	c.dup = "h000";
	hdr_case_run(&c);
}

/* decoder output fed to the scanner, lenient LF-only input */
static void
test_pipeline_lenient(void **state)
{
	const char *in = "Subject: x\n..dot: y\n\n..body\n.\nQUIT\r\n";
	char out[64];
	size_t outlen, n;
	bool done;
	struct data_decoder d;
	struct header_scan h;

	(void)state;
	data_decoder_init(&d, true);
	n = data_decode(&d, in, strlen(in), out, &outlen, &done);
	assert_true(done);
	assert_int_equal(n, strlen(in) - 6);
	assert_int_equal(outlen, strlen("Subject: x\n.dot: y\n\n.body\n"));
	assert_memory_equal(out, "Subject: x\n.dot: y\n\n.body\n", outlen);
	header_scan_init(&h);
	assert_true(header_scan_feed(&h, out, outlen));
	assert_int_equal(header_count(&h, ".dot"), 1);
	assert_int_equal(h.size, 19);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_data_table),
	    cmocka_unit_test(test_data_long_lines),
	    cmocka_unit_test(test_data_profile_table),
	    cmocka_unit_test(test_eod_names),
	    cmocka_unit_test(test_header_table),
	    cmocka_unit_test(test_header_count),
	    cmocka_unit_test(test_header_long_name),
	    cmocka_unit_test(test_header_many_names),
	    cmocka_unit_test(test_pipeline_lenient),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
