/*
 * hub.c - the session and message index behind the HTTP API, fed by the
 * transcript tap on worker threads (see hub.h).
 *
 * Does: per event, under the lock: append the line to its session, update
 * the session's summary from the event's fields (connect, close, rule,
 * tls handshake_done, info accepted), count, queue the SSE message, and
 * enforce the bounds. The summaries are C fields and shared references to
 * the event's own values: a worker builds no JSON for them (the HTTP
 * thread does, when asked: hub_query.c). Does not: allocate with x* (a
 * failed malloc drops the event from the index, never the session), call
 * the HTTP thread under the lock, or look into "text".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <pthread.h>
#include <time.h>

#include <event2/buffer.h>

#include "hub.h"
#include "hub_int.h"
#include "transcript.h"

static const struct hub_limits default_limits = {
    HUB_MAX_SESSIONS, HUB_MAX_BYTES,        HUB_MAX_SESSION_BYTES,
    HUB_MAX_MESSAGES, HUB_MAX_STREAM_BYTES,
};

static void
msg_free(struct hub_msg *m)
{
	free(m->qid);
	free(m->profile);
	json_decref(m->mail_from);
	json_decref(m->rcpts);
	json_decref(m->size);
	json_decref(m->spool);
	free(m);
}

/* What a session costs besides its lines (the summary), for the bound. */
#define SESS_OVERHEAD 512

static json_t *
new_totals(void)
{
	json_t *t = json_object();

	json_object_set_new(t, "sessions_total", json_object());
	json_object_set_new(t, "sessions_open", json_object());
	json_object_set_new(t, "messages", json_object());
	json_object_set_new(t, "rules", json_object());
	json_object_set_new(t, "tls", json_object());
	json_object_set_new(t, "closes", json_object());
	json_object_set_new(t, "bytes_in", json_integer(0));
	json_object_set_new(t, "bytes_out", json_integer(0));
	json_object_set_new(t, "lines", json_integer(0));
	json_object_set_new(t, "stream_dropped", json_integer(0));
	return t;
}

/* hub_new - an empty index */
struct hub *
hub_new(const struct hub_limits *lim)
{
	struct hub *hub = calloc(1, sizeof(*hub));

	if (hub == NULL)
		return NULL;
	pthread_mutex_init(&hub->lock, NULL);
	hub->lim = lim != NULL ? *lim : default_limits;
	TAILQ_INIT(&hub->sessions);
	TAILQ_INIT(&hub->messages);
	hub->w_rules = json_object();
	hub->totals = new_totals();
	hub->pending = evbuffer_new();
	if (hub->w_rules == NULL || hub->totals == NULL ||
	    hub->pending == NULL) {
		hub_free(hub);
		return NULL;
	}
	return hub;
}

static void
sess_free(struct hub_sess *s)
{
	free(s->profile);
	json_decref(s->client);
	json_decref(s->server);
	json_decref(s->close_how);
	json_decref(s->close_reason);
	json_decref(s->close_rule);
	json_decref(s->rules);
	json_decref(s->tls);
	free(s->lines);
	free(s);
}

static void
drop_session(struct hub *hub, struct hub_sess *s)
{
	struct hub_sess **pp = &hub->byid[s->id % HUB_BUCKETS];

	while (*pp != NULL && *pp != s)
		pp = &(*pp)->hnext;
	if (*pp == s)
		*pp = s->hnext;
	TAILQ_REMOVE(&hub->sessions, s, link);
	hub->nsessions--;
	hub->bytes -= s->cap + SESS_OVERHEAD;
	sess_free(s);
}

void
hub_drop_messages_locked(struct hub *hub, json_t *names)
{
	struct hub_msg *m;

	while ((m = TAILQ_FIRST(&hub->messages)) != NULL) {
		TAILQ_REMOVE(&hub->messages, m, link);
		if (names != NULL)
			json_array_append_new(names, or_null(share(m->spool)));
		msg_free(m);
	}
	hub->nmessages = 0;
}

/* hub_free - free the index; NULL ok */
void
hub_free(struct hub *hub)
{
	struct hub_sess *s;

	if (hub == NULL)
		return;
	while ((s = TAILQ_FIRST(&hub->sessions)) != NULL)
		drop_session(hub, s);
	hub_drop_messages_locked(hub, NULL);
	json_decref(hub->w_rules);
	json_decref(hub->totals);
	if (hub->pending != NULL)
		evbuffer_free(hub->pending);
	pthread_mutex_destroy(&hub->lock);
	free(hub);
}

/* hub_set_notify - the wake-up of the HTTP thread */
void
hub_set_notify(struct hub *hub, void (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&hub->lock);
	hub->notify = fn;
	hub->notify_arg = arg;
	pthread_mutex_unlock(&hub->lock);
}

/* hub_listen - whether lines are kept for the stream, and wake-ups */
void
hub_listen(struct hub *hub, bool stream, bool wake)
{
	pthread_mutex_lock(&hub->lock);
	hub->stream = stream;
	hub->wake = wake || stream;
	if (!stream)
		evbuffer_drain(hub->pending, evbuffer_get_length(hub->pending));
	pthread_mutex_unlock(&hub->lock);
}

/* hub_take_stream - the queued SSE messages into out */
uint64_t
hub_take_stream(struct hub *hub, struct evbuffer *out)
{
	uint64_t dropped;

	pthread_mutex_lock(&hub->lock);
	evbuffer_add_buffer(out, hub->pending);
	dropped = hub->dropped;
	hub->dropped = 0;
	hub->notified = false;
	pthread_mutex_unlock(&hub->lock);
	return dropped;
}

/* --- counting --- */

static void
count_add(json_t *obj, const char *key, json_int_t n)
{
	json_t *v = json_object_get(obj, key);

	if (v != NULL)
		json_integer_set(v, json_integer_value(v) + n);
	else
		json_object_set_new(obj, key, json_integer(n));
}

/* obj[k1][k2] += 1 */
static void
count_add2(json_t *obj, const char *k1, const char *k2)
{
	json_t *inner = json_object_get(obj, k1);

	if (inner == NULL) {
		inner = json_object();
		if (json_object_set_new(obj, k1, inner) != 0)
			return;
	}
	count_add(inner, k2, 1);
}

/* --- the index --- */

struct hub_sess *
hub_find_session(struct hub *hub, unsigned long id)
{
	struct hub_sess *s = hub->byid[id % HUB_BUCKETS];

	while (s != NULL && s->id != id)
		s = s->hnext;
	return s;
}

static struct hub_sess *
new_session(struct hub *hub, unsigned long id, const char *profile,
            const char *time)
{
	struct hub_sess *s = calloc(1, sizeof(*s));

	if (s == NULL ||
	    (profile != NULL && (s->profile = strdup(profile)) == NULL)) {
		free(s);
		return NULL;
	}
	s->id = id;
	snprintf(s->started, sizeof(s->started), "%s", or_unknown(time));
	if (time == NULL || hub_time_ms(time, &s->started_ms) != 0)
		s->started_ms = 0;
	TAILQ_INSERT_TAIL(&hub->sessions, s, link);
	s->hnext = hub->byid[id % HUB_BUCKETS];
	hub->byid[id % HUB_BUCKETS] = s;
	hub->nsessions++;
	hub->bytes += SESS_OVERHEAD;
	return s;
}

/* Keep the line; past the session's own bound it is only counted. */
static void
keep_line(struct hub *hub, struct hub_sess *s, const char *line, size_t len)
{
	size_t need = s->len + len + 1, cap = s->cap;
	char *p;

	if (need > hub->lim.max_session_bytes)
		return;
	if (need > cap) {
		cap = cap ? cap : 1024;
		while (cap < need)
			cap *= 2;
		if (cap > hub->lim.max_session_bytes)
			cap = hub->lim.max_session_bytes;
		if ((p = realloc(s->lines, cap)) == NULL)
			return;
		hub->bytes += cap - s->cap;
		s->lines = p;
		s->cap = cap;
	}
	memcpy(s->lines + s->len, line, len);
	s->lines[s->len + len] = '\n';
	s->len += len + 1;
	s->nevents++; /* into the summary when it is read (summary_copy) */
}

static void
on_connect(struct hub *hub, struct hub_sess *s, const struct hub_ev *e)
{
	const char *profile = e->profile;
	const json_t *o = e->f;

	json_decref(s->client);
	json_decref(s->server);
	s->client = share(json_object_get(o, "client"));
	s->server = share(json_object_get(o, "server"));
	if (profile != NULL) {
		if (s->profile == NULL || strcmp(s->profile, profile) != 0) {
			char *p = strdup(profile);

			if (p == NULL)
				return;
			free(s->profile);
			s->profile = p;
		}
		count_add(json_object_get(hub->totals, "sessions_total"),
		          profile, 1);
		count_add(json_object_get(hub->totals, "sessions_open"),
		          profile, 1);
		s->open_counted = true;
	}
}

static void
on_close(struct hub *hub, struct hub_sess *s, const struct hub_ev *e)
{
	const json_t *o = e->f;
	json_t *t = hub->totals;
	const char *profile = s->profile;
	const char *how = str_field(o, "how");
	json_int_t in = json_integer_value(json_object_get(o, "bytes_in"));
	json_int_t out = json_integer_value(json_object_get(o, "bytes_out"));

	if (s->closed)
		return;
	s->closed = true;
	snprintf(s->ended, sizeof(s->ended), "%s", or_unknown(e->time));
	s->close_how = share(json_object_get(o, "how"));
	s->close_reason = share(json_object_get(o, "reason"));
	if (json_object_get(o, "rule") != NULL)
		s->close_rule = share(json_object_get(o, "rule"));
	else if (e->rule != NULL)
		s->close_rule = json_string(e->rule);
	hub->w_closed++;
	count_add(json_object_get(t, "closes"), or_unknown(how), 1);
	if (s->open_counted && profile != NULL)
		count_add(json_object_get(t, "sessions_open"), profile, -1);
	count_add(t, "bytes_in", in);
	count_add(t, "bytes_out", out);
}

static void
on_rule(struct hub *hub, struct hub_sess *s, const struct hub_ev *e)
{
	const char *rule = e->rule;
	const char *profile = e->profile;
	json_t *rules, *v;
	size_t i;
	bool seen = false;

	if (rule == NULL)
		return;
	if (s->rules == NULL && (s->rules = json_array()) == NULL)
		return;
	rules = s->rules;
	json_array_foreach(rules, i, v)
		if (strcmp(json_string_value(v), rule) == 0)
			seen = true;
	if (!seen)
		json_array_append_new(rules, json_string(rule));
	count_add(hub->w_rules, rule, 1);
	count_add2(json_object_get(hub->totals, "rules"), or_unknown(profile),
	           rule);
}

static void
on_accepted(struct hub *hub, struct hub_sess *s, const struct hub_ev *e)
{
	struct hub_msg *m;
	const json_t *o = e->f;
	const char *qid = str_field(o, "queue_id");
	const char *profile = e->profile;

	hub->w_messages++;
	count_add(json_object_get(hub->totals, "messages"), or_unknown(profile),
	          1);
	if (s != NULL)
		s->messages++;
	if (qid == NULL || (m = calloc(1, sizeof(*m))) == NULL)
		return;
	if ((m->qid = strdup(qid)) == NULL ||
	    (profile != NULL && (m->profile = strdup(profile)) == NULL)) {
		msg_free(m);
		return;
	}
	m->session = e->session;
	snprintf(m->received, sizeof(m->received), "%s", or_unknown(e->time));
	m->mail_from = share(json_object_get(o, "mail_from"));
	m->rcpts = share(json_object_get(o, "rcpts"));
	m->size = share(json_object_get(o, "size"));
	m->spool = share(json_object_get(o, "spool"));
	TAILQ_INSERT_TAIL(&hub->messages, m, link);
	if (++hub->nmessages > hub->lim.max_messages) {
		m = TAILQ_FIRST(&hub->messages);
		TAILQ_REMOVE(&hub->messages, m, link);
		msg_free(m);
		hub->nmessages--;
	}
}

static void
on_tls(struct hub *hub, struct hub_sess *s, const struct hub_ev *e)
{
	const json_t *o = e->f;
	const char *event = str_field(o, "event");
	const char *version = str_field(o, "version");
	const char *suite = str_field(json_object_get(o, "suite"), "name");
	json_t *t;

	if (event == NULL || strcmp(event, "handshake_done") != 0)
		return;
	count_add2(json_object_get(hub->totals, "tls"), or_unknown(version),
	           or_unknown(suite));
	if (s == NULL || (t = json_object()) == NULL)
		return;
	json_object_set_new(t, "version", json_string(or_unknown(version)));
	/* {name, hex} as the line has it, shared (not copied) */
	if (json_is_object(json_object_get(o, "suite")))
		json_object_set(t, "suite", json_object_get(o, "suite"));
	else
		json_object_set_new(t, "suite",
		                    json_pack("{s:n, s:s}", "name", "hex", ""));
	json_decref(s->tls);
	s->tls = t;
}

/* Oldest closed sessions go first; open ones stay (the server bounds how
 * many there are, and keep_line how much each keeps). */
static void
enforce_bounds(struct hub *hub)
{
	struct hub_sess *s, *next;

	for (s = TAILQ_FIRST(&hub->sessions);
	     s != NULL && (hub->nsessions > hub->lim.max_sessions ||
	                   hub->bytes > hub->lim.max_bytes);
	     s = next) {
		next = TAILQ_NEXT(s, link);
		if (s->closed)
			drop_session(hub, s);
	}
}

static void
queue_stream(struct hub *hub, const char *line, size_t len)
{
	char id[40];
	size_t n = sizeof(id);
	uint64_t v = hub->seq;

	/* "id: <seq>\ndata: " without a printf per line */
	n -= 7;
	memcpy(id + n, "\ndata: ", 7);
	do
		id[--n] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	n -= 4;
	memcpy(id + n, "id: ", 4);

	if (evbuffer_get_length(hub->pending) + len + 64 >
	    hub->lim.max_stream_bytes) {
		hub->dropped++;
		hub->dropped_total++;
		return;
	}
	evbuffer_add(hub->pending, id + n, sizeof(id) - n);
	evbuffer_add(hub->pending, line, len);
	evbuffer_add(hub->pending, "\n\n", 2);
}

/* Under the lock: count the line, keep it with session id (0: none), its
 * summary made if new; the session, or NULL. */
static struct hub_sess *
take_line(struct hub *hub, unsigned long id, const char *profile,
          const char *time, const char *line, size_t len)
{
	struct hub_sess *s = NULL;

	hub->seq++; /* = the totals' "lines", set when they are read */
	if (id > 0 && (s = hub_find_session(hub, id)) == NULL)
		s = new_session(hub, id, profile, time);
	if (s != NULL)
		keep_line(hub, s, line, len);
	return s;
}

/* Under the lock, last: queue for the stream, bound, say who to wake. */
static void
end_line(struct hub *hub, const char *line, size_t len, void (**notify)(void *),
         void **notify_arg)
{
	if (hub->stream)
		queue_stream(hub, line, len);
	enforce_bounds(hub);
	if (hub->wake && !hub->notified && hub->notify != NULL) {
		hub->notified = true;
		*notify = hub->notify;
		*notify_arg = hub->notify_arg;
	}
}

/* One event under the lock: keep it, read its facts, stream it. */
static void
hub_event(struct hub *hub, const struct hub_ev *e, const char *line, size_t len)
{
	struct hub_sess *s;
	void (*notify)(void *) = NULL;
	void *notify_arg = NULL;

	pthread_mutex_lock(&hub->lock);
	s = take_line(hub, e->session, e->profile, e->time, line, len);
	switch (e->kind) {
	case TR_CONNECT:
		if (s != NULL)
			on_connect(hub, s, e);
		break;
	case TR_CLOSE:
		if (s != NULL)
			on_close(hub, s, e);
		break;
	case TR_RULE:
		if (s != NULL && e->rule != NULL)
			on_rule(hub, s, e);
		break;
	case TR_TLS:
		on_tls(hub, s, e);
		break;
	case TR_INFO:
		if (strcmp(or_unknown(str_field(e->f, "event")), "accepted") ==
		    0)
			on_accepted(hub, s, e);
		break;
	default:
		break;
	}
	end_line(hub, line, len, &notify, &notify_arg);
	pthread_mutex_unlock(&hub->lock);
	if (notify != NULL)
		notify(notify_arg);
}

/* hub_tap_ev - one event from a worker thread, as it made it */
void
hub_tap_ev(const struct tr_event *ev, const char *when, const char *line,
           size_t len, void *arg)
{
	struct hub_ev e = {ev->kind, ev->session, ev->profile,
	                   when,     ev->rule,    ev->fields};

	hub_event(arg, &e, line, len);
}

/* hub_tap - one event from a worker thread, as its JSON object */
void
hub_tap(const json_t *o, const char *line, size_t len, void *arg)
{
	const char *dir = str_field(o, "dir");
	json_t *sid = json_object_get(o, "session");
	struct hub_ev e = {TR_COUNT,
	                   0,
	                   str_field(o, "profile"),
	                   str_field(o, "time"),
	                   str_field(o, "rule"),
	                   o};

	if (dir == NULL)
		return;
	e.kind = tr_kind_from_str(dir);
	if (json_is_integer(sid) && json_integer_value(sid) > 0)
		e.session = (unsigned long)json_integer_value(sid);
	hub_event(arg, &e, line, len);
}

/* hub_reset - closed sessions, messages and the wait counts go */
void
hub_reset(struct hub *hub)
{
	struct hub_sess *s, *next;
	void (*notify)(void *) = NULL;
	void *notify_arg = NULL;

	pthread_mutex_lock(&hub->lock);
	for (s = TAILQ_FIRST(&hub->sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, link);
		if (s->closed)
			drop_session(hub, s);
	}
	hub_drop_messages_locked(hub, NULL);
	hub->w_messages = hub->w_closed = 0;
	json_object_clear(hub->w_rules);
	/* Tell the stream: an open page forgets its closed sessions too. */
	if (hub->stream) {
		static const char reset[] = "event: reset\ndata: {}\n\n";

		evbuffer_add(hub->pending, reset, sizeof(reset) - 1);
		if (hub->notify != NULL && !hub->notified) {
			hub->notified = true;
			notify = hub->notify;
			notify_arg = hub->notify_arg;
		}
	}
	pthread_mutex_unlock(&hub->lock);
	if (notify != NULL)
		notify(notify_arg);
}
