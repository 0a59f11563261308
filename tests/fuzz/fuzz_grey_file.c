/*
 * fuzz_grey_file.c - libFuzzer target for server/out/grey_file.h: one
 * input is a policy state file as --state-file would read it. It is
 * parsed; every record it yields is formatted again, and that text must
 * parse back to the same records (kind, numbers, key bytes), so what the
 * server writes it can always read.
 *
 * Does not: open files or fill a store (tests/unit/test_grey_store.c).
 */
#include <event2/buffer.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grey_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct again {
	struct evbuffer *out;
	size_t n;
	const struct grey_record *want; /* NULL: first pass */
	char (*keys)[GREY_KEY_MAX + 1];
	struct grey_record *recs;
	size_t cap;
};

static int
first_pass(const struct grey_record *r, void *arg)
{
	struct again *a = arg;

	if (r->key_len == 0 || r->key_len > GREY_KEY_MAX ||
	    strlen(r->key) != r->key_len || r->a < 0 || r->b < 0)
		abort();
	if (grey_file_record(a->out, r) != 0)
		abort();
	if (a->n < a->cap) {
		memcpy(a->keys[a->n], r->key, r->key_len + 1);
		a->recs[a->n] = *r;
		a->recs[a->n].key = a->keys[a->n];
	}
	a->n++;
	return 0;
}

static int
second_pass(const struct grey_record *r, void *arg)
{
	struct again *a = arg;
	const struct grey_record *w;

	if (a->n < a->cap) {
		w = &a->recs[a->n];
		if (w->kind != r->kind || w->a != r->a || w->b != r->b ||
		    w->key_len != r->key_len ||
		    memcmp(w->key, r->key, r->key_len) != 0)
			abort();
	}
	a->n++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct again a = {0};
	char err[256];
	size_t n;

	a.out = evbuffer_new();
	a.cap = 16;
	a.keys = malloc(a.cap * sizeof(*a.keys));
	a.recs = malloc(a.cap * sizeof(*a.recs));
	if (a.out == NULL || a.keys == NULL || a.recs == NULL ||
	    grey_file_header(a.out) != 0)
		abort();
	if (grey_file_parse((const char *)data, size, first_pass, &a, err,
	                    sizeof(err)) == 0) {
		n = a.n;
		a.n = 0;
		if (grey_file_parse((const char *)evbuffer_pullup(a.out, -1),
		                    evbuffer_get_length(a.out), second_pass, &a,
		                    err, sizeof(err)) != 0 ||
		    a.n != n)
			abort();
	} else if (strncmp(err, "line ", 5) != 0)
		abort();
	evbuffer_free(a.out);
	free(a.keys);
	free(a.recs);
	return 0;
}
