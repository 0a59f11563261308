/*
 * message_util.h - the DATA decoder cases' harness for test_message.c:
 * a case (input, expected output and counters, and for profile data.*
 * cases the decoder settings), and a runner that feeds it whole, trickled
 * one byte at a time and split in two at every position, checking every
 * run gives the same answer. Not a module of its own.
 */
#ifndef MESSAGE_UTIL_H
#define MESSAGE_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "message.h"

#define B(s) s, sizeof(s) - 1

/* C-escape buf for failure messages (truncated to fit). */
static const char *
esc(const char *buf, size_t len, char *dst, size_t dstlen)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 8 < dstlen; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\r')
			o += (size_t)snprintf(dst + o, dstlen - o, "\\r");
		else if (c == '\n')
			o += (size_t)snprintf(dst + o, dstlen - o, "\\n");
		else if (c < 32 || c > 126 || c == '"' || c == '\\')
			o +=
			    (size_t)snprintf(dst + o, dstlen - o, "\\x%02x", c);
		else
			dst[o++] = (char)c;
	}
	if (i < len)
		o += (size_t)snprintf(dst + o, dstlen - o, "...");
	dst[o] = '\0';
	return dst;
}

struct data_case {
	const char *label;
	bool lenient;
	const char *in;
	size_t in_len;
	const char *want;
	size_t want_len;
	size_t rest; /* bytes left unconsumed (the next command) */
	bool done;
	uint64_t lines;
	size_t max_line;
	bool bare_lf;
	bool nul;
};

/* A case of profile data.*: data_decoder_set's arguments and what more
 * it gives (data_cfg_run sets cur_cfg for data_run and data_check). */
struct data_cfg {
	unsigned eod;
	enum bare_action on_lf, on_cr;
	bool bare_cr;
	unsigned eod_seen;
	int rejected, exited;
};

struct cfg_case {
	struct data_case c;
	struct data_cfg k;
};

static const struct data_cfg *cur_cfg;

struct data_got {
	char *out;
	size_t out_len;
	size_t consumed;
	bool done;
	struct data_decoder d;
};

/*
 * Feed c->in as a first chunk of `first` bytes, then chunks of `step`
 * bytes (0: the rest at once). After done, the rest must not be consumed.
 */
static void
data_run(const struct data_case *c, size_t first, size_t step,
         struct data_got *g)
{
	size_t pos = 0, chunk = first;

	memset(g, 0, sizeof(*g));
	g->out = malloc(2 * c->in_len + 2);
	assert_non_null(g->out);
	data_decoder_init(&g->d, c->lenient);
	if (cur_cfg != NULL)
		data_decoder_set(&g->d, cur_cfg->eod, cur_cfg->on_lf,
		                 cur_cfg->on_cr);
	while (pos < c->in_len) {
		size_t n, outlen = 12345;
		bool done = false;

		if (chunk > c->in_len - pos || chunk == 0)
			chunk = c->in_len - pos;
		n = data_decode(&g->d, c->in + pos, chunk, g->out + g->out_len,
		                &outlen, &done);
		assert_true(n <= chunk);
		/* without normalising, len + 2 is enough (message.h) */
		assert_true(outlen <= 2 * chunk + 2);
		if (cur_cfg == NULL || (cur_cfg->on_lf != BARE_CRLF &&
		                        cur_cfg->on_cr != BARE_CRLF))
			assert_true(outlen <= chunk + 2);
		g->out_len += outlen;
		g->consumed += n;
		pos += n;
		g->done = done;
		if (done)
			break;
		assert_int_equal(n, chunk); /* not done: all consumed */
		chunk = step;
	}
	if (g->done && pos < c->in_len) {
		/* pipelined bytes: a further call consumes nothing */
		size_t outlen = 1;
		bool done = false;

		assert_int_equal(
		    data_decode(&g->d, c->in + pos, c->in_len - pos,
		                g->out + g->out_len, &outlen, &done),
		    0);
		assert_int_equal(outlen, 0);
		assert_true(done);
	}
}

static void
data_check(const struct data_case *c, const char *mode, struct data_got *g)
{
	char b1[512], b2[512];
	bool ok = true;

	if (g->out_len != c->want_len ||
	    memcmp(g->out, c->want, c->want_len) != 0) {
		print_error("%s [%s]: out got \"%s\" want \"%s\"\n", c->label,
		            mode, esc(g->out, g->out_len, b1, sizeof(b1)),
		            esc(c->want, c->want_len, b2, sizeof(b2)));
		ok = false;
	}
#define CHECK(what, got, want)                                                 \
	if ((got) != (want)) {                                                 \
		print_error("%s [%s]: %s got %llu want %llu\n", c->label,      \
		            mode, what, (unsigned long long)(got),             \
		            (unsigned long long)(want));                       \
		ok = false;                                                    \
	}
	CHECK("consumed", g->consumed, c->in_len - c->rest);
	CHECK("done", g->done, c->done);
	CHECK("size", g->d.size, c->want_len);
	CHECK("lines", g->d.lines, c->lines);
	CHECK("max_line", g->d.max_line, c->max_line);
	CHECK("bare_lf", g->d.bare_lf, c->bare_lf);
	CHECK("nul", g->d.nul, c->nul);
	if (cur_cfg != NULL) {
		CHECK("bare_cr", g->d.bare_cr, cur_cfg->bare_cr);
		CHECK("eod_seen", (unsigned)g->d.eod_seen, cur_cfg->eod_seen);
		CHECK("rejected", g->d.rejected, cur_cfg->rejected);
		CHECK("exited", g->d.exited, cur_cfg->exited);
	}
#undef CHECK
	free(g->out);
	g->out = NULL;
	if (!ok)
		fail();
}

/* whole, trickled, and split in two at every position */
static void
data_case_run(const struct data_case *c)
{
	struct data_got g;
	char mode[64];
	size_t k;

	data_run(c, c->in_len, 0, &g);
	data_check(c, "whole", &g);
	data_run(c, 1, 1, &g);
	data_check(c, "trickle", &g);
	for (k = 1; k < c->in_len; k++) {
		data_run(c, k, 0, &g);
		snprintf(mode, sizeof(mode), "split at %zu", k);
		data_check(c, mode, &g);
	}
}

#endif
