/*
 * fuzz_message.c - libFuzzer target for server/proto/message.h: the DATA
 * decoder and the header scanner. Five bytes set it up: the first picks
 * strict or lenient line endings (bit 0) and what a bare LF (bits 1-3)
 * and a bare CR (bits 4-6) do, the next two the extra end-of-data
 * sequences (9 bits of EOD_SEQ), the two after a split point; the rest is
 * what a client sends after 354. The bytes are decoded whole, then again in two
 * chunks cut at the split point (and a third time a byte at a time for
 * short inputs), and every way must give the same decoded bytes, the same
 * end of data and the same header counts: message.h promises any split
 * gives the answer of the whole buffer.
 *
 * Does not: check the decoded text against RFC 5321 by itself.
 */
#include "message.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	char *out; /* decoded bytes */
	size_t outlen;
	size_t consumed;
	bool done;
	struct data_decoder d;
	struct header_scan h;
	bool hdr_end; /* header_scan_feed/finish said "ended" */
	int hdr_ends; /* ... how many times */
};

/* Decode in[0..len) in chunks of at most step bytes (first one cut). */
struct setup {
	bool lenient;
	unsigned eod;
	enum bare_action on_lf, on_cr;
};

static void
decode(struct run *r, const char *in, size_t len, size_t first, size_t step,
       const struct setup *su)
{
	size_t off = 0;
	bool at_first = true;

	data_decoder_init(&r->d, su->lenient);
	data_decoder_set(&r->d, su->eod, su->on_lf, su->on_cr);
	header_scan_init(&r->h);
	r->outlen = 0;
	r->done = false;
	r->hdr_ends = 0;
	while (off < len && !r->done) {
		size_t n = at_first ? first : step;
		size_t got, used;

		at_first = false;
		if (n > len - off)
			n = len - off;
		used = data_decode(&r->d, in + off, n, r->out + r->outlen, &got,
		                   &r->done);
		if (used > n || got > 2 * n + 2)
			abort();
		if (su->on_lf != BARE_CRLF && su->on_cr != BARE_CRLF &&
		    got > n + 2)
			abort();
		if (header_scan_feed(&r->h, r->out + r->outlen, got))
			r->hdr_ends++;
		r->outlen += got;
		off += used;
		if (used < n && !r->done)
			abort(); /* stops early only at the end of data */
	}
	r->consumed = off;
	if (r->done && header_scan_finish(&r->h))
		r->hdr_ends++;
	if (r->hdr_ends > 1)
		abort();
}

static void
same(const struct run *a, const struct run *b)
{
	if (a->done != b->done || a->consumed != b->consumed ||
	    a->outlen != b->outlen || memcmp(a->out, b->out, a->outlen) != 0 ||
	    a->d.size != b->d.size || a->d.lines != b->d.lines ||
	    a->d.max_line != b->d.max_line || a->d.bare_lf != b->d.bare_lf ||
	    a->d.bare_cr != b->d.bare_cr || a->d.eod_seen != b->d.eod_seen ||
	    a->d.rejected != b->d.rejected || a->d.exited != b->d.exited ||
	    a->d.nul != b->d.nul)
		abort();
	if (a->h.done != b->h.done || a->h.size != b->h.size ||
	    a->h.max_line != b->h.max_line || a->h.nnames != b->h.nnames ||
	    a->hdr_ends != b->hdr_ends)
		abort();
	for (size_t i = 0; i < a->h.nnames; i++)
		if (strcmp(a->h.names[i], b->h.names[i]) != 0 ||
		    a->h.counts[i] != b->h.counts[i])
			abort();
	const char *da = header_any_duplicate(&a->h);
	const char *db = header_any_duplicate(&b->h);
	if ((da == NULL) != (db == NULL) || (da && strcmp(da, db) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run whole, split, bytes;
	struct setup su;
	size_t cut;
	const char *in;

	if (size < 5)
		return 0;
	su.lenient = data[0] & 1;
	su.on_lf = (enum bare_action)((data[0] >> 1 & 7) % BARE_ACTION_COUNT);
	su.on_cr = (enum bare_action)((data[0] >> 4 & 7) % BARE_ACTION_COUNT);
	su.eod = ((unsigned)data[1] | (unsigned)(data[2] & 1) << 8);
	cut = ((size_t)data[3] | (size_t)data[4] << 8);
	in = (const char *)data + 5;
	size -= 5;
	cut = size ? cut % (size + 1) : 0;

	whole.out = malloc(2 * size + 2);
	split.out = malloc(2 * size + 2);
	bytes.out = malloc(2 * size + 2);
	if (whole.out && split.out && bytes.out) {
		decode(&whole, in, size, size, size, &su);
		decode(&split, in, size, cut, size, &su);
		same(&whole, &split);
		/* an exit stops at a bare byte that does not end the data */
		if (whole.d.exited && whole.d.eod_seen)
			abort();
		if (size <= 4096) {
			decode(&bytes, in, size, 1, 1, &su);
			same(&whole, &bytes);
		}
		header_count(&whole.h, "subject");
		header_count(&whole.h, "received");
	}
	free(whole.out);
	free(split.out);
	free(bytes.out);
	return 0;
}
