/*
 * grey_store.h - policy state shared by every session of the process and
 * kept across restarts: greylist triplets, the clients' auto-whitelist
 * counts, the rules' per-key attempt counts.
 *
 * One table of keyed records (grey_file.h's kinds) behind one mutex, for
 * the worker threads; bounded: a record unseen for longer than max_age is
 * forgotten, and at max_entries the least recently seen record makes
 * room for a new one. With a state file, the table is read from it at
 * open and written back atomically (a temporary file in the same
 * directory, fsync, rename, fsync of the directory) by grey_store_save(),
 * which does nothing when nothing changed; the server calls it every
 * second and at exit.
 *
 * The greylisting decision is postgrey 1.37's (smtpd_access_policy):
 * a triplet is deferred until delay seconds after it was first seen;
 * a first retry later than retry_window after the first attempt starts
 * over; once passed, the triplet passes on every later attempt without
 * the X-Greylist header; a triplet passing after its delay counts once
 * an hour (awl_interval) for its client, and a client counted awl_clients
 * times passes at once (auto-whitelisted). The time is the caller's
 * (clock.h), so tests inject it.
 *
 * Does not: build keys from a session (smtp/greylist.c), know replies, or
 * run timers.
 */
#ifndef GREY_STORE_H
#define GREY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Records a store holds at most, whatever a profile asks. */
#define GREY_STORE_HARD_MAX 1000000

struct grey_store;

/* How much state there may be. */
struct grey_bounds {
	size_t max_entries; /* 1 .. GREY_STORE_HARD_MAX */
	int64_t max_age;    /* seconds unseen before a record is forgotten */
};

struct grey_policy {
	struct grey_bounds bounds;
	int64_t delay;        /* seconds before a new triplet passes */
	int64_t retry_window; /* seconds for the first retry */
	unsigned awl_clients; /* passed triplets that whitelist; 0 off */
	int64_t awl_interval; /* a client is counted at most this often */
};

enum grey_verdict {
	GREY_DEFER_NEW,    /* first attempt (or again after retry_window) */
	GREY_DEFER_EARLY,  /* a retry before the delay is over */
	GREY_PASS_DELAYED, /* the delay is over: passes, X-Greylist due */
	GREY_PASS_KNOWN,   /* passed before: no header */
	GREY_PASS_AWL,     /* the client is auto-whitelisted */
};

/* grey_verdict_str - "new", "early-retry", "delayed", "known", "awl" */
const char *grey_verdict_str(enum grey_verdict v);

struct grey_result {
	enum grey_verdict verdict;
	int64_t wait;       /* DEFER_*: seconds still to wait */
	int64_t delayed;    /* PASS_DELAYED: seconds since the first attempt */
	unsigned awl_count; /* the client's count after this attempt */
	bool awl_now;       /* this attempt made the client whitelisted */
};

/*
 * grey_store_open - a store, read from path if that file exists (path
 * NULL: in memory only). NULL with a reason in err ("PATH: line 3: ...",
 * "PATH: Permission denied") when it cannot be read or is damaged.
 */
struct grey_store *grey_store_open(const char *path, char *err, size_t errlen);

/* grey_store_free - without saving (call grey_store_save first) */
void grey_store_free(struct grey_store *st);

/*
 * grey_store_save - write the table to the state file if it changed
 * since the last save: 0 (also without a file), or -1 with a reason.
 * Safe from any thread; the table stays usable while the file is
 * written.
 */
int grey_store_save(struct grey_store *st, char *err, size_t errlen);

/* grey_store_path - the state file, or NULL */
const char *grey_store_path(const struct grey_store *st);

/*
 * grey_store_check - one greylisting attempt at time now of triplet
 * (lower-cased "net/sender/recipient") from client (its address), as
 * postgrey decides it; the result in r.
 */
void grey_store_check(struct grey_store *st, const struct grey_policy *p,
                      const char *triplet, const char *client, int64_t now,
                      struct grey_result *r);

/* grey_store_count - count one attempt of key at now; returns the
 * attempts so far, this one included (a forgotten key starts at 1) */
uint64_t grey_store_count(struct grey_store *st, const struct grey_bounds *b,
                          const char *key, int64_t now);

/* grey_store_size - records held now */
size_t grey_store_size(struct grey_store *st);

/* grey_store_clear - forget everything (saved as empty next time) */
void grey_store_clear(struct grey_store *st);

#endif
