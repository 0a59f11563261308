/*
 * stats.h - counters since process start, fed by a transcript tap: what
 * /metrics prints, what --summary writes and --expect checks, and the
 * "since the last reset" numbers GET /api/v1/wait waits on.
 *
 * Does: read each event's JSON object (the contracted transcript fields:
 * dir, profile, rule, how, bytes_in, bytes_out, event, version, suite)
 * and count sessions (total and open, per profile), accepted messages
 * (per profile), rule firings (per rule and profile), TLS handshakes (per
 * version and suite), closes (per how) and socket bytes in/out. One mutex
 * around small tables: the tap runs on every worker thread, and returns
 * before locking for the events it does not count (C:, S:, ...).
 * Does not: keep events or sessions (the hub does), format Prometheus text
 * (metrics.c), or decide what an expectation means (the command line).
 */
#ifndef STATS_H
#define STATS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct stats;

/* What one row of stats_each counts. */
enum stats_kind {
	STATS_SESSIONS_TOTAL, /* profile: connections since start */
	STATS_SESSIONS_OPEN,  /* profile: connected, not closed yet */
	STATS_MESSAGES,       /* profile: messages accepted (250, on disk) */
	STATS_RULE,           /* profile, name = the rule: firings */
	STATS_TLS,            /* name = version, suite: handshakes done */
	STATS_CLOSE,          /* name = how ("fin", "rst", "drop") */
	STATS_BYTES_IN,       /* socket bytes received, summed at close */
	STATS_BYTES_OUT,      /* socket bytes sent, summed at close */
};

/* stats_kind_str - "sessions_total", "rule", ... (for logs and tests) */
const char *stats_kind_str(enum stats_kind kind);

struct stats_row {
	enum stats_kind kind;
	const char *profile; /* SESSIONS_*, MESSAGES, RULE; else NULL */
	const char *name;    /* RULE: rule, TLS: version, CLOSE: how */
	const char *suite;   /* TLS: the suite's IANA name; else NULL */
	uint64_t value;      /* since start */
	uint64_t window;     /* since stats_reset_window (RULE only; else 0) */
};

/* stats_new - zeroed counters, or NULL when out of memory */
struct stats *stats_new(void);
void stats_free(struct stats *st);

/*
 * stats_tap - the transcript tap (transcript_add_tap(stats_tap, st)): count
 * one event. Any thread; o is only read, never kept.
 */
void stats_tap(const struct json_t *o, const char *line, size_t len, void *arg);
/* stats_tap_ev - the same without JSON
 * (transcript_add_tap_ev(stats_tap, stats_tap_ev, st)) */
struct tr_event;
void stats_tap_ev(const struct tr_event *ev, const char *when, const char *line,
                  size_t len, void *arg);

/*
 * stats_each - call fn for every row, with the lock held: fn must not call
 * back into st. Order: the order the rows first appeared; the BYTES_* rows
 * come first and always.
 */
void stats_each(const struct stats *st,
                void (*fn)(const struct stats_row *row, void *arg), void *arg);

/* Totals since start. */
uint64_t stats_messages(const struct stats *st);
uint64_t stats_sessions(const struct stats *st);
/* stats_rule - firings of the rule name, summed over the profiles */
uint64_t stats_rule(const struct stats *st, const char *name);

/* Since the last stats_reset_window (or start): for /api/v1/wait. */
uint64_t stats_window_messages(const struct stats *st);
uint64_t stats_window_closed(const struct stats *st);
uint64_t stats_window_rule(const struct stats *st, const char *name);

/* stats_reset_window - zero the window counters, never the totals */
void stats_reset_window(struct stats *st);

/*
 * stats_summary_json - a new object (the caller owns it), NULL when out of
 * memory:
 *   {"sessions": {"total": N, "open": N, "closed": N},
 *    "messages": N,
 *    "profiles": {"NAME": {"sessions": N, "open": N, "messages": N,
 *                          "rules": {"RULE": N}}},
 *    "rules": {"RULE": N},            (summed over the profiles)
 *    "closes": {"fin": N, ...},
 *    "tls": {"TLSv1.3": {"TLS_AES_128_GCM_SHA256": N}},
 *    "bytes": {"in": N, "out": N}}
 * The --summary file is this plus what the command line adds
 * (expectations, exit status).
 */
json_t *stats_summary_json(const struct stats *st);

/*
 * stats_window_json - {"messages": n, "sessions_closed": n, "rules":
 * {"RULE": n}} since the last reset, rules: those fired in the window (the
 * /api/v1/wait body without "ok"); a new object or NULL.
 */
json_t *stats_window_json(const struct stats *st);

#endif
