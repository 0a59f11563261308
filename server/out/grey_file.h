/*
 * grey_file.h - the policy state file: what greylisting and the rules'
 * per-key attempt counts remember across a restart, as text.
 *
 * The format, one record a line, each line ending in LF:
 *
 *   smtp-mimic state 1                    the first line, exactly
 *   T <first> <last> <key>                a greylist triplet: first and
 *                                         last seen (seconds since epoch)
 *   C <count> <last> <key>                a client's auto-whitelist count
 *   N <count> <last> <key>                a rule's attempts of one key
 *
 * Fields are separated by one space; numbers are decimal, 0 ..
 * INT64_MAX, without sign; a key is 1 .. GREY_KEY_MAX bytes, written with
 * every byte outside "!" .. "~" and "%" itself as %XX (hex), so a key
 * never holds a space, a control character or a NUL. Nothing else is
 * allowed (no comments, no blank lines): the file is written by
 * grey_store.c, atomically, and a damaged one is refused with its line.
 *
 * Does not: read or write files (grey_store.c), decide anything.
 */
#ifndef GREY_FILE_H
#define GREY_FILE_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

/* The first line, without its LF. */
#define GREY_FILE_MAGIC "smtp-mimic state 1"

/* Longest key, decoded. */
#define GREY_KEY_MAX 1024

enum grey_kind {
	GREY_TRIPLET = 'T', /* a: first seen, b: last seen */
	GREY_CLIENT = 'C',  /* a: passed triplets counted, b: last counted */
	GREY_COUNTER = 'N', /* a: attempts, b: last attempt */
};

struct grey_record {
	enum grey_kind kind;
	int64_t a, b;
	const char *key; /* decoded, NUL-terminated */
	size_t key_len;
};

/* Called per record; a non-zero return stops the parse with it. */
typedef int (*grey_record_fn)(const struct grey_record *r, void *arg);

/*
 * grey_file_parse - check and decode len bytes of a state file, calling
 * fn for each record in order. Returns 0; -1 with "line N: what is
 * wrong" in err; or fn's non-zero return.
 */
int grey_file_parse(const char *buf, size_t len, grey_record_fn fn, void *arg,
                    char *err, size_t errlen);

/* grey_file_header - append the first line to out; 0 or -1 */
int grey_file_header(struct evbuffer *out);

/* grey_file_record - append one record's line to out; 0, or -1 (no
 * memory, a key of 0 or more than GREY_KEY_MAX bytes, a negative number) */
int grey_file_record(struct evbuffer *out, const struct grey_record *r);

#endif
