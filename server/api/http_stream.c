/*
 * http_stream.c - the routes that outlive their handler: GET
 * /api/v1/events (Server-Sent Events, the live transcript) and GET
 * /api/v1/wait (answered when its conditions hold, or 408 at the
 * timeout), both woken by the hub (http_stream_notify).
 *
 * Does: fan the hub's SSE messages out to every subscriber; drop a
 * subscriber whose unsent output passes HTTP_SSE_MAX_BACKLOG (a reader
 * too slow for the traffic), with a log line; a comment line every 15 s
 * so a dead client is noticed; re-check every waiter when lines arrive.
 * The counts are stats.c's window (since start or the last POST
 * /api/v1/reset), or the hub's without stats. Does not:
 * block: every write goes to the connection's output buffer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "http_int.h"
#include "hub.h"
#include "log.h"
#include "stats.h"

struct http_sub {
	TAILQ_ENTRY(http_sub) link;
	struct http_api *api;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
};

struct http_wait {
	TAILQ_ENTRY(http_wait) link;
	struct http_api *api;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	struct event *timer;
	long long messages, closed, rule_n; /* -1: not asked */
	char rule[128];
};

static struct event *ping_timer;

static void
update_listen(struct http_api *api)
{
	hub_listen(api->hub, api->nsubs > 0, api->nwaits > 0);
}

/* --- SSE --- */

static void
sub_forget(struct http_api *api, struct http_sub *sub)
{
	TAILQ_REMOVE(&api->subs, sub, link);
	api->nsubs--;
	free(sub);
	update_listen(api);
}

/* The subscriber went away. When the client closed (EOF), libevent has
 * already taken the unfinished reply off the connection and left it to
 * us: ending it frees it (with no connection, evhttp_send_reply_end only
 * frees). When the connection goes for another reason it still holds the
 * request and frees it itself. */
static void
sub_closed(struct evhttp_connection *evcon, void *arg)
{
	struct http_sub *sub = arg;

	if (evhttp_request_get_connection(sub->req) == NULL)
		evhttp_send_reply_end(sub->req);
	sub_forget(sub->api, sub);
}

static void
sub_drop(struct http_api *api, struct http_sub *sub, size_t backlog)
{
	struct evhttp_connection *evcon = sub->evcon;

	log_warnx("http: dropped an events subscriber: %zu bytes unsent "
	          "(limit %u)",
	          backlog, HTTP_SSE_MAX_BACKLOG);
	api->sse_dropped++;
	evhttp_connection_set_closecb(evcon, NULL, NULL);
	sub_forget(api, sub);
	evhttp_connection_free(evcon);
}

static size_t
backlog(struct evhttp_connection *evcon)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);

	return bev != NULL ? evbuffer_get_length(bufferevent_get_output(bev))
	                   : 0;
}

static void
send_all(struct http_api *api, const void *data, size_t len)
{
	struct http_sub *sub, *next;

	for (sub = TAILQ_FIRST(&api->subs); sub != NULL; sub = next) {
		struct evbuffer *chunk;
		size_t n = backlog(sub->evcon);

		next = TAILQ_NEXT(sub, link);
		if (n + len > HTTP_SSE_MAX_BACKLOG) {
			sub_drop(api, sub, n);
			continue;
		}
		if ((chunk = evbuffer_new()) == NULL)
			continue;
		evbuffer_add(chunk, data, len);
		evhttp_send_reply_chunk(sub->req, chunk);
		evbuffer_free(chunk);
	}
}

static void
ping_cb(evutil_socket_t fd, short what, void *arg)
{
	static const char ping[] = ": ping\n\n";

	send_all(arg, ping, sizeof(ping) - 1);
}

static void
events_get(struct http_api *api, struct evhttp_request *req, const char *rest)
{
	struct http_sub *sub;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *hello;

	if (api->nsubs >= HTTP_SUBSCRIBERS_MAX) {
		http_error(req, 503, "too many event subscribers");
		return;
	}
	if ((sub = calloc(1, sizeof(*sub))) == NULL) {
		http_error(req, 503, "out of memory");
		return;
	}
	sub->api = api;
	sub->req = req;
	sub->evcon = evhttp_request_get_connection(req);
	evhttp_remove_header(h, "Content-Type");
	evhttp_add_header(h, "Content-Type", "text/event-stream");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Accel-Buffering", "no");
	evhttp_send_reply_start(req, 200, "OK");
	if ((hello = evbuffer_new()) != NULL) {
		evbuffer_add_printf(hello, ": smtp-mimic events\n\n");
		evhttp_send_reply_chunk(req, hello);
		evbuffer_free(hello);
	}
	evhttp_connection_set_closecb(sub->evcon, sub_closed, sub);
	TAILQ_INSERT_TAIL(&api->subs, sub, link);
	api->nsubs++;
	update_listen(api);
	if (ping_timer == NULL) {
		struct timeval tv = {15, 0};

		ping_timer = event_new(api->base, -1, EV_PERSIST, ping_cb, api);
		if (ping_timer != NULL)
			event_add(ping_timer, &tv);
	}
}

/* --- wait --- */

static long long
rule_count(const json_t *rules, const char *name)
{
	return json_integer_value(json_object_get(rules, name));
}

/* The body of both answers; *ok whether every condition holds. */
static json_t *
wait_body(struct http_api *api, const struct http_wait *w, bool *ok)
{
	json_t *win = api->stats != NULL ? stats_window_json(api->stats)
	                                 : hub_window(api->hub);
	json_t *o = json_object();
	json_t *rules = json_object_get(win, "rules");

	*ok = (w->messages < 0 || json_integer_value(json_object_get(
	                              win, "messages")) >= w->messages) &&
	      (w->closed < 0 || json_integer_value(json_object_get(
	                            win, "sessions_closed")) >= w->closed) &&
	      (w->rule_n < 0 || rule_count(rules, w->rule) >= w->rule_n);
	if (w->rule_n >= 0 && json_object_get(rules, w->rule) == NULL)
		json_object_set_new(rules, w->rule, json_integer(0));
	json_object_set_new(o, "ok", json_boolean(*ok));
	json_object_update(o, win);
	json_decref(win);
	return o;
}

static void
wait_forget(struct http_wait *w)
{
	struct http_api *api = w->api;

	TAILQ_REMOVE(&api->waits, w, link);
	api->nwaits--;
	event_free(w->timer);
	free(w);
	update_listen(api);
}

static void
wait_answer(struct http_wait *w, bool timed_out)
{
	bool ok;
	json_t *o = wait_body(w->api, w, &ok);

	if (!ok && !timed_out) {
		json_decref(o);
		return;
	}
	evhttp_connection_set_closecb(w->evcon, NULL, NULL);
	http_reply_json(w->req, ok ? 200 : 408, o);
	wait_forget(w);
}

static void
wait_timeout(evutil_socket_t fd, short what, void *arg)
{
	wait_answer(arg, true);
}

/* The waiting client went away: as with a subscriber, a request libevent
 * left to us (no connection) is freed by answering it. */
static void
wait_closed(struct evhttp_connection *evcon, void *arg)
{
	struct http_wait *w = arg;

	if (evhttp_request_get_connection(w->req) == NULL)
		evhttp_send_reply(w->req, 408, "Request Timeout", NULL);
	wait_forget(w);
}

/* "N" as a count >= 0, or -1 if absent; -2 if not a number */
static long long
count_param(struct evhttp_request *req, const char *name)
{
	const char *s = http_query(req, name);
	char *end;
	long long v;

	if (s == NULL)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < 0 ||
	    v > 1000000000LL)
		return -2;
	return v;
}

static void
wait_get(struct http_api *api, struct evhttp_request *req, const char *rest)
{
	struct http_wait w0 = {.api = api}, *w;
	const char *rule = http_query(req, "rule");
	const char *ts = http_query(req, "timeout");
	double timeout = HTTP_WAIT_DEFAULT_S;
	struct timeval tv;
	char *end;
	bool ok;
	json_t *o;

	w0.messages = count_param(req, "messages");
	w0.closed = count_param(req, "sessions_closed");
	w0.rule_n = -1;
	if (w0.messages == -2 || w0.closed == -2) {
		http_error(req, 400, "messages and sessions_closed are counts");
		return;
	}
	if (rule != NULL) {
		if (*rule == '\0' || strlen(rule) >= sizeof(w0.rule)) {
			http_error(req, 400, "rule: a rule name");
			return;
		}
		snprintf(w0.rule, sizeof(w0.rule), "%s", rule);
		w0.rule_n = 1;
	}
	if (ts != NULL) {
		errno = 0;
		timeout = strtod(ts, &end);
		if (*ts == '\0' || *end != '\0' || errno != 0 ||
		    !(timeout >= 0) || timeout > HTTP_WAIT_MAX_S) {
			http_error(req, 400,
			           "timeout: seconds between 0 and 3600");
			return;
		}
	}
	o = wait_body(api, &w0, &ok);
	if (ok || timeout == 0) {
		http_reply_json(req, ok ? 200 : 408, o);
		return;
	}
	json_decref(o);
	if (api->nwaits >= HTTP_WAITERS_MAX) {
		http_error(req, 503, "too many waiting requests");
		return;
	}
	if ((w = malloc(sizeof(*w))) == NULL) {
		http_error(req, 503, "out of memory");
		return;
	}
	*w = w0;
	w->req = req;
	w->evcon = evhttp_request_get_connection(req);
	if ((w->timer = evtimer_new(api->base, wait_timeout, w)) == NULL) {
		free(w);
		http_error(req, 503, "out of memory");
		return;
	}
	tv.tv_sec = (time_t)timeout;
	tv.tv_usec = (suseconds_t)((timeout - (double)tv.tv_sec) * 1e6);
	evtimer_add(w->timer, &tv);
	evhttp_connection_set_closecb(w->evcon, wait_closed, w);
	TAILQ_INSERT_TAIL(&api->waits, w, link);
	api->nwaits++;
	update_listen(api);
}

/* http_stream_notify - new lines: to the subscribers, then the waiters */
void
http_stream_notify(struct http_api *api)
{
	struct evbuffer *b = evbuffer_new();
	struct http_wait *w, *next;
	size_t len;

	if (b == NULL)
		return;
	hub_take_stream(api->hub, b);
	if ((len = evbuffer_get_length(b)) > 0 && api->nsubs > 0)
		send_all(api, evbuffer_pullup(b, -1), len);
	evbuffer_free(b);
	for (w = TAILQ_FIRST(&api->waits); w != NULL; w = next) {
		next = TAILQ_NEXT(w, link);
		wait_answer(w, false);
	}
}

/* http_stream_close - end the streams and waits (the API stops) */
void
http_stream_close(struct http_api *api)
{
	struct http_sub *sub;
	struct http_wait *w;

	while ((w = TAILQ_FIRST(&api->waits)) != NULL)
		wait_answer(w, true);
	while ((sub = TAILQ_FIRST(&api->subs)) != NULL) {
		struct evhttp_connection *evcon = sub->evcon;

		evhttp_connection_set_closecb(evcon, NULL, NULL);
		sub_forget(api, sub);
		evhttp_connection_free(evcon);
	}
	if (ping_timer != NULL) {
		event_free(ping_timer);
		ping_timer = NULL;
	}
}

/* http_stream_routes - GET /api/v1/events, GET /api/v1/wait */
void
http_stream_routes(struct http_api *api)
{
	http_route(api, "GET", "/api/v1/events", events_get, true);
	http_route(api, "GET", "/api/v1/wait", wait_get, true);
}
