/*
 * fuzz_middlebox.c - libFuzzer target for server/middlebox/middlebox.h:
 * a whole conversation through one of the shipped boxes
 * (profiles/middleboxes/, loaded once at start-up), both directions.
 *
 * Input format: byte 0 picks the box (modulo the number loaded) and
 * whether the connection starts blind; then records of
 *   [flags] [len lo] [len hi] [len bytes]
 * where flags bit 0 is the direction (0: client chunk, 1: server chunk)
 * and the length is cut to what is left. Every chunk goes through
 * mbox_from_client or mbox_from_server; notes are checked to point at
 * real bytes. Once a chunk is cut, later chunks must produce nothing.
 *
 * Does not: check what a box rewrites to (tests/unit, tests/blackbox).
 */
#include "middlebox.h"
#include "profile.h"

#include <event2/buffer.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const box_names[] = {"pix-fixup", "pix-fixup-pre723",
                                        "asa-esmtp-inspect"};
#define NBOXES (sizeof(box_names) / sizeof(box_names[0]))
static struct profile *boxes[NBOXES];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dirs[] = {FUZZ_PROFILE_DIR};
	char err[512];

	for (size_t i = 0; i < NBOXES; i++) {
		boxes[i] = profile_load_middlebox(box_names[i], dirs, 1, err,
		                                  sizeof(err));
		if (boxes[i] == NULL || boxes[i]->mbox == NULL) {
			fprintf(stderr, "fuzz_middlebox: %s: %s\n",
			        box_names[i], err);
			abort();
		}
	}
	return 0;
}

static void
note_cb(void *arg, const struct mbox_config *box, const struct mbox_note *n)
{
	volatile char sink = 0;

	/* touch every byte so ASan sees a bad pointer or length */
	for (size_t i = 0; i < n->orig_len; i++)
		sink ^= n->orig[i];
	for (size_t i = 0; n->now && i < n->now_len; i++)
		sink ^= n->now[i];
	if (n->why)
		sink ^= (char)strlen(n->why);
	(void)sink;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mbox *b;
	struct evbuffer *out;
	size_t off = 1;
	bool cut = false;

	if (size == 0)
		return 0;
	b = malloc(sizeof(*b));
	out = evbuffer_new();
	if (b == NULL || out == NULL)
		abort();
	mbox_init(b, boxes[(data[0] & 0x7f) % NBOXES]->mbox);
	if (data[0] & 0x80)
		mbox_go_blind(b);
	while (off + 3 <= size) {
		bool to_client = data[off] & 1;
		size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
		enum mbox_verdict v;
		size_t before = evbuffer_get_length(out);

		off += 3;
		if (len > size - off)
			len = size - off;
		/* a copy of exactly len bytes, so an over-read is caught */
		char *chunk = malloc(len ? len : 1);
		memcpy(chunk, data + off, len);
		if (to_client)
			v = mbox_from_server(b, chunk, len, out, note_cb, NULL);
		else
			v = mbox_from_client(b, chunk, len, out, note_cb, NULL);
		free(chunk);
		off += len;
		if (cut && evbuffer_get_length(out) != before)
			abort(); /* nothing passes once cut */
		if (v != MBOX_FORWARD)
			cut = true;
		mbox_blind(b);
		mbox_reading_commands(b);
		evbuffer_drain(out, evbuffer_get_length(out));
	}
	evbuffer_free(out);
	free(b);
	return 0;
}
