/*
 * rules.h - one generic engine for a profile's "when -> do" rules.
 *
 * At each hook point the session describes what is happening in a
 * struct rule_ctx; rules_match() returns the first enabled rule of the
 * profile whose conditions hold, whose probability draw succeeds and whose
 * "times" cap is not used up. Draws come from a per-session generator
 * derived from --seed and the session number, so a run can be replayed.
 *
 * Not here: carrying the action out (session.c does, the same way for
 * every rule).
 */
#ifndef RULES_H
#define RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"

struct header_scan;

/* splitmix64: small, fast, and good enough for fault odds. */
struct rng {
	uint64_t state;
};

/* rng_seed - seed a generator for one session */
void rng_seed(struct rng *r, uint64_t seed, uint64_t session);
uint64_t rng_next(struct rng *r);
/* rng_unit - uniform double in [0, 1) */
double rng_unit(struct rng *r);

struct rule_ctx {
	enum hook hook;
	const char *client_ip;             /* HOOK_CONNECT */
	const char *verb;                  /* HOOK_COMMAND: upper-cased */
	unsigned nth;                      /* 1-based use of that verb */
	const char *args;                  /* NUL-terminated */
	const struct header_scan *headers; /* HOOK_HEADER */
	uint64_t size_before;          /* HOOK_DATA: size before this read */
	uint64_t size;                 /* HOOK_DATA: size now */
	bool at_end;                   /* HOOK_DATA: end of data */
	const struct tls_hello *hello; /* HOOK_TLS_CLIENT_HELLO */
	unsigned tls_version;          /* HOOK_TLS_HANDSHAKE_DONE: bit */
	int tls_suite;                 /* HOOK_TLS_HANDSHAKE_DONE: id */
	bool tls_dh_short;      /* ...: DHE, client's value shorter than p */
	const char *tls_reason; /* HOOK_TLS_FAILED */
	/* A rule with do.fail_first whose conditions hold: count this
	 * attempt of its key and return the attempts so far (this one
	 * included); the rule fires while that is at most fail_first.
	 * NULL: every attempt is the first. */
	uint64_t (*attempts)(const struct rule *r, const struct rule_ctx *c,
	                     void *arg);
	void *attempts_arg;
};

/* rules_match - the first rule that fires, or NULL */
struct rule *rules_match(struct profile *p, const struct rule_ctx *ctx,
                         struct rng *rng);

/* rules_describe - "command RCPT #3 ~ /unknown@/" for the transcript */
void rules_describe(const struct rule *r, char *buf, size_t len);

#endif
