/*
 * hub_query.c - the HTTP thread's reads of the hub (hub.h): session and
 * message summaries made into JSON when asked (the workers keep them as
 * C fields and shared values, hub.c), filtered; the wait counts and the
 * monotonic totals.
 *
 * Does: build every answer under the hub's lock as the caller's own copy
 * (json_deep_copy of shared values: the workers keep using theirs). Does
 * not: change the index (but hub_drop_messages), or speak HTTP.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"
#include "hub_int.h"

/* --- queries (HTTP thread) --- */

static bool
client_matches(const json_t *client, const char *want)
{
	const char *addr = str_field(client, "addr");
	char both[128];

	if (addr == NULL)
		return false;
	if (strcmp(addr, want) == 0)
		return true;
	snprintf(
	    both, sizeof(both), "%s:%lld", addr,
	    (long long)json_integer_value(json_object_get(client, "port")));
	return strcmp(both, want) == 0;
}

static bool
has_rule(const json_t *rules, const char *rule)
{
	size_t i;
	json_t *v;

	json_array_foreach(rules, i, v)
		if (strcmp(json_string_value(v), rule) == 0)
			return true;
	return false;
}

static bool
sess_matches(const struct hub_sess *s, const struct hub_filter *f)
{
	if (f == NULL)
		return true;
	if (f->profile != NULL &&
	    strcmp(or_unknown(s->profile), f->profile) != 0)
		return false;
	if (f->client != NULL && !client_matches(s->client, f->client))
		return false;
	if (f->state != NULL &&
	    strcmp(s->closed ? "closed" : "open", f->state) != 0)
		return false;
	if (f->rule != NULL && !has_rule(s->rules, f->rule))
		return false;
	if (f->has_since && s->started_ms < f->since_ms)
		return false;
	return true;
}

/* A copy of v (the HTTP thread's own), or null */
static json_t *
copy_or_null(const json_t *v)
{
	return or_null(v != NULL ? json_deep_copy(v) : NULL);
}

/* A session's summary as JSON, the HTTP thread's own copy. */
static json_t *
summary_copy(const struct hub_sess *s)
{
	json_t *close = json_null();

	if (s->closed) {
		close =
		    json_pack("{s:o, s:o}", "how", copy_or_null(s->close_how),
		              "reason", copy_or_null(s->close_reason));
		if (close != NULL && s->close_rule != NULL)
			json_object_set_new(close, "rule",
			                    json_deep_copy(s->close_rule));
	}
	return json_pack(
	    "{s:I, s:s?, s:o, s:o, s:s, s:o, s:s, s:o?, s:o, s:I, s:o, s:I}",
	    "id", (json_int_t)s->id, "profile", s->profile, "client",
	    copy_or_null(s->client), "server", copy_or_null(s->server),
	    "started", s->started, "ended",
	    s->closed && s->ended[0] != '\0' ? json_string(s->ended)
	                                     : json_null(),
	    "state", s->closed ? "closed" : "open", "close", close, "rules",
	    s->rules != NULL ? json_deep_copy(s->rules) : json_array(),
	    "messages", (json_int_t)s->messages, "tls", copy_or_null(s->tls),
	    "events", (json_int_t)s->nevents);
}

/* hub_sessions_json - the summaries that pass f, oldest first */
json_t *
hub_sessions_json(struct hub *hub, const struct hub_filter *f)
{
	json_t *list = json_array(), *out;
	struct hub_sess *s;

	pthread_mutex_lock(&hub->lock);
	TAILQ_FOREACH(s, &hub->sessions, link)
		if (sess_matches(s, f))
			json_array_append_new(list, summary_copy(s));
	pthread_mutex_unlock(&hub->lock);
	out = json_object();
	json_object_set_new(out, "sessions", list);
	return out;
}

/* hub_session_json - one session with its events, or NULL */
json_t *
hub_session_json(struct hub *hub, unsigned long id)
{
	struct hub_sess *s;
	json_t *out = NULL, *events;
	char *lines = NULL;
	size_t len = 0;

	pthread_mutex_lock(&hub->lock);
	if ((s = hub_find_session(hub, id)) != NULL) {
		out = summary_copy(s);
		if ((lines = malloc(s->len + 1)) != NULL) {
			memcpy(lines, s->lines, s->len);
			len = s->len;
		}
	}
	pthread_mutex_unlock(&hub->lock);
	if (out == NULL) {
		free(lines);
		return NULL;
	}
	/* Parse outside the lock: the workers go on meanwhile. */
	events = json_array();
	for (size_t at = 0; lines != NULL && at < len;) {
		char *nl = memchr(lines + at, '\n', len - at);
		json_t *e;

		*nl = '\0';
		if ((e = json_loads(lines + at, JSON_DECODE_ANY, NULL)) != NULL)
			json_array_append_new(events, e);
		at = (size_t)(nl - lines) + 1;
	}
	free(lines);
	json_object_set_new(out, "events", events);
	return out;
}

/* A message's summary as JSON, the HTTP thread's own copy. */
static json_t *
msg_json(const struct hub_msg *m)
{
	return json_pack("{s:s, s:s, s:o, s:s?, s:o, s:o, s:o, s:o, s:o}", "id",
	                 m->qid, "queue_id", m->qid, "session",
	                 m->session != 0 ? json_integer((json_int_t)m->session)
	                                 : json_null(),
	                 "profile", m->profile, "received",
	                 m->received[0] != '\0' ? json_string(m->received)
	                                        : json_null(),
	                 "mail_from", copy_or_null(m->mail_from), "rcpts",
	                 copy_or_null(m->rcpts), "size", copy_or_null(m->size),
	                 "spool", copy_or_null(m->spool));
}

/* hub_messages_json - copies of the message summaries, oldest first */
json_t *
hub_messages_json(struct hub *hub)
{
	json_t *list = json_array();
	struct hub_msg *m;

	pthread_mutex_lock(&hub->lock);
	TAILQ_FOREACH(m, &hub->messages, link)
		json_array_append_new(list, msg_json(m));
	pthread_mutex_unlock(&hub->lock);
	return list;
}

/* hub_drop_messages - forget the messages, return their spool names */
json_t *
hub_drop_messages(struct hub *hub)
{
	json_t *names = json_array();

	pthread_mutex_lock(&hub->lock);
	hub_drop_messages_locked(hub, names);
	pthread_mutex_unlock(&hub->lock);
	return names;
}

/* hub_window - the counts since start or reset */
json_t *
hub_window(struct hub *hub)
{
	json_t *o = json_object();

	pthread_mutex_lock(&hub->lock);
	json_object_set_new(o, "messages",
	                    json_integer((json_int_t)hub->w_messages));
	json_object_set_new(o, "sessions_closed",
	                    json_integer((json_int_t)hub->w_closed));
	json_object_set_new(o, "rules", json_deep_copy(hub->w_rules));
	pthread_mutex_unlock(&hub->lock);
	return o;
}

/* hub_totals - the monotonic counts */
json_t *
hub_totals(struct hub *hub)
{
	json_t *o;

	pthread_mutex_lock(&hub->lock);
	json_object_set_new(hub->totals, "stream_dropped",
	                    json_integer((json_int_t)hub->dropped_total));
	json_object_set_new(hub->totals, "lines",
	                    json_integer((json_int_t)hub->seq));
	o = json_deep_copy(hub->totals);
	pthread_mutex_unlock(&hub->lock);
	return o;
}
