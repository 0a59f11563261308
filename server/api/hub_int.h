/*
 * hub_int.h - the hub's insides, shared by hub.c (the workers' side: the
 * tap, the bounds) and hub_query.c (the HTTP thread's reads). Not for
 * anything else: hub.h is the interface.
 */
#ifndef HUB_INT_H
#define HUB_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/queue.h>

#include <jansson.h>

#include "transcript.h"

/* One event as the handlers read it: from the worker's struct tr_event
 * (hub_tap_ev, no JSON built) or from a JSON line's object (hub_tap). */
struct hub_ev {
	enum tr_kind kind;
	unsigned long session; /* 0: none */
	const char *profile, *time, *rule;
	const json_t *f; /* the facts: the event's fields, or the object */
};

struct hub_sess {
	TAILQ_ENTRY(hub_sess) link;
	struct hub_sess *hnext; /* in hub->byid[id % HUB_BUCKETS] */
	unsigned long id;
	/* The summary, made into JSON when read (summary_json): a worker
	 * builds no JSON for it. The json_t members are the event's own
	 * values, shared (json_incref); NULL is null. */
	char *profile;
	json_t *client, *server;
	char started[40], ended[40]; /* "" ended: still open (or unknown) */
	json_t *close_how, *close_reason, *close_rule;
	json_t *rules; /* NULL until one fires */
	json_t *tls;
	size_t messages;
	char *lines; /* the event lines, each ending in '\n' */
	size_t len, cap;
	size_t nevents;
	bool closed;
	bool open_counted; /* in sessions_open until it closes */
	long long started_ms;
};

struct hub_msg {
	TAILQ_ENTRY(hub_msg) link;
	/* made into hub_messages_json's object when read (msg_json) */
	char *qid, *profile;
	unsigned long session;                    /* 0: none */
	char received[40];                        /* "": unknown */
	json_t *mail_from, *rcpts, *size, *spool; /* shared; NULL: null */
};

TAILQ_HEAD(hub_sess_list, hub_sess);
TAILQ_HEAD(hub_msg_list, hub_msg);

/* Sessions by id: every event looks its session up, and a list scan
 * over thousands of kept sessions was half the server's CPU. */
#define HUB_BUCKETS 4096

struct hub {
	pthread_mutex_t lock;
	struct hub_limits lim;
	struct hub_sess_list sessions;
	struct hub_sess *byid[HUB_BUCKETS];
	size_t nsessions, bytes;
	struct hub_msg_list messages;
	size_t nmessages;
	/* since start or reset */
	uint64_t w_messages, w_closed;
	json_t *w_rules;
	/* monotonic */
	json_t *totals;
	uint64_t seq;
	/* the stream */
	bool stream, wake, notified;
	struct evbuffer *pending;
	uint64_t dropped, dropped_total;
	void (*notify)(void *);
	void *notify_arg;
};

/* a shared reference to v, NULL for none */
static inline json_t *
share(const json_t *v)
{
	return v != NULL ? json_incref((json_t *)v) : NULL;
}

static inline json_t *
or_null(json_t *v)
{
	return v != NULL ? v : json_null();
}

static inline const char *
str_field(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static inline const char *
or_unknown(const char *s)
{
	return s != NULL ? s : "";
}

/* hub_find_session - the session with id, or NULL; lock held */
struct hub_sess *hub_find_session(struct hub *hub, unsigned long id);

/* hub_drop_messages_locked - forget every message, their spool names
 * appended to names (NULL: not wanted); lock held */
void hub_drop_messages_locked(struct hub *hub, json_t *names);

#endif
