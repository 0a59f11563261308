/*
 * hub.h - the HTTP API's memory of what happened: a transcript tap that
 * keeps a bounded index of sessions (a summary and their event lines) and
 * of accepted messages, counts for /api/v1/wait and /metrics, and the
 * lines for the live stream (SSE), handed to the HTTP thread.
 *
 * Does: everything under one mutex held for a few copies per event; wakes
 * the HTTP thread through a callback (event_active there) only while
 * something listens, at most once until the HTTP thread has taken the
 * lines. A worker never waits on an HTTP client: the stream buffer is
 * bounded, and lines past the bound are dropped (and counted). Does not:
 * read the spool (http_messages.c), speak HTTP, or parse the text of an
 * event: it reads the transcript's fields.
 *
 * Limits (HUB_* below): sessions kept, bytes of event lines kept (the
 * oldest closed sessions are dropped first), lines kept per session,
 * messages kept (oldest dropped), bytes waiting for the stream.
 */
#ifndef HUB_H
#define HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct evbuffer;

#define HUB_MAX_SESSIONS      10000
#define HUB_MAX_BYTES         (64u * 1024 * 1024)
#define HUB_MAX_SESSION_BYTES (4u * 1024 * 1024)
#define HUB_MAX_MESSAGES      10000
#define HUB_MAX_STREAM_BYTES  (8u * 1024 * 1024)

struct hub_limits {
	size_t max_sessions;      /* closed ones beyond are dropped */
	size_t max_bytes;         /* event lines of every session kept */
	size_t max_session_bytes; /* one session's lines; later ones dropped */
	size_t max_messages;
	size_t max_stream_bytes; /* waiting for the HTTP thread */
};

struct hub;

/* hub_new - an empty index; lim NULL: the HUB_* defaults */
struct hub *hub_new(const struct hub_limits *lim);
void hub_free(struct hub *hub);

/* hub_tap - the transcript tap (transcript_add_tap_ev(hub_tap,
 * hub_tap_ev, hub)) */
void hub_tap(const json_t *o, const char *line, size_t len, void *arg);
/* hub_tap_ev - the same without JSON (transcript_add_tap_ev) */
struct tr_event;
void hub_tap_ev(const struct tr_event *ev, const char *when, const char *line,
                size_t len, void *arg);

/*
 * hub_set_notify - fn(arg) is called (on a worker thread, without the hub
 * lock) when new lines arrived and something listens; it must only wake
 * the HTTP thread. hub_listen(hub, stream, wake): stream true keeps lines
 * for hub_take_stream; wake true calls fn for any new line.
 */
void hub_set_notify(struct hub *hub, void (*fn)(void *), void *arg);
void hub_listen(struct hub *hub, bool stream, bool wake);

/*
 * hub_take_stream - move the SSE messages ("id: N\ndata: LINE\n\n") that
 * arrived since the last call into out, and allow the next wake-up.
 * Returns how many lines were dropped since the last call (buffer full).
 */
uint64_t hub_take_stream(struct hub *hub, struct evbuffer *out);

/* hub_reset - forget closed sessions and every message, zero the wait
 * counts (open sessions stay: they are still live) */
void hub_reset(struct hub *hub);

/* Session filters of GET /api/v1/sessions; NULL / false: any. */
struct hub_filter {
	const char *profile;
	const char *client; /* "ADDR" or "ADDR:PORT" */
	const char *state;  /* "open" or "closed" */
	const char *rule;   /* fired in the session */
	bool has_since;
	long long since_ms; /* started at or after (ms since the epoch) */
};

/* hub_sessions_json - {"sessions": [summary, ...]} oldest first */
json_t *hub_sessions_json(struct hub *hub, const struct hub_filter *f);

/* hub_session_json - one summary with "events": [objects], or NULL */
json_t *hub_session_json(struct hub *hub, unsigned long id);

/*
 * hub_messages_json - the accepted messages, oldest first, as {"id",
 * "queue_id", "session", "profile", "received", "mail_from", "rcpts"
 * (addresses), "size", "spool"}; the caller adds what the spool knows.
 */
json_t *hub_messages_json(struct hub *hub);

/* hub_drop_messages - forget every message; returns the spool names (a
 * JSON array of strings, null entries for --spool none) */
json_t *hub_drop_messages(struct hub *hub);

/* hub_window - {"messages": n, "sessions_closed": n, "rules": {NAME: n}}
 * counted since start or the last hub_reset */
json_t *hub_window(struct hub *hub);

/*
 * hub_totals - the monotonic counts (never reset): {"sessions_total":
 * {PROFILE: n}, "sessions_open": {PROFILE: n}, "messages": {PROFILE: n},
 * "rules": {PROFILE: {RULE: n}}, "tls": {VERSION: {SUITE: n}}, "closes":
 * {HOW: n}, "bytes_in": n, "bytes_out": n, "lines": n,
 * "stream_dropped": n}
 */
json_t *hub_totals(struct hub *hub);

/*
 * hub_time_ms - parse an ISO-8601 time, "2026-11-23T12:00:01.234Z" (the
 * transcript's) or with seconds only, a fraction of any length, or an
 * offset "+01:00"/"-0500"; a date alone is midnight UTC. Returns 0 with
 * *ms since the epoch, or -1.
 */
int hub_time_ms(const char *s, long long *ms);

#endif
