/*
 * http.c - the HTTP API's server: --http parsing and binding, the token,
 * the HTTP thread, route dispatch and the reply helpers of http.h.
 *
 * Does: bind [ADDR:]PORT (a non-loopback ADDR only with --http-token),
 * one thread running its own event_base with evhttp, the token check on
 * every request but the page's own files (http_route_open; SHA-256 of
 * both sides compared with CRYPTO_memcmp),
 * 413 over 1 MiB (libevent refuses the body, we answer), 404 JSON for an
 * unknown path, 405 for a known path with another method. Does not: the
 * routes themselves (http_sessions.c, http_messages.c, http_stream.c,
 * http_static.c, metrics.c, http_control.c).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "http_int.h"
#include "hub.h"
#include "listen_addr.h"
#include "log.h"
#include "transcript.h"

/* --- reply helpers --- */

static void
common_headers(struct evhttp_request *req, const char *ctype)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_remove_header(h, "Content-Type");
	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
}

static const char *
reason(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 503:
		return "Service Unavailable";
	default:
		return code < 400 ? "OK" : "Error";
	}
}

/* http_reply_text - send code with len bytes of body as ctype */
void
http_reply_text(struct evhttp_request *req, int code, const char *ctype,
                const char *body, size_t len)
{
	struct evbuffer *b = evbuffer_new();

	common_headers(req, ctype);
	if (b != NULL)
		evbuffer_add(b, body, len);
	evhttp_send_reply(req, code, reason(code), b);
	if (b != NULL)
		evbuffer_free(b);
}

/* http_reply_json - send o (stolen) as application/json */
void
http_reply_json(struct evhttp_request *req, int code, json_t *o)
{
	char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	if (s == NULL) {
		http_reply_text(req, 503, "application/json",
		                "{\"error\":\"out of memory\"}\n", 26);
		return;
	}
	{
		size_t n = strlen(s);
		char *t = realloc(s, n + 2);

		if (t != NULL) {
			s = t;
			s[n++] = '\n';
			s[n] = '\0';
		}
		http_reply_text(req, code, "application/json", s, n);
	}
	free(s);
}

/* http_error - send code with {"error": msg} */
void
http_error(struct evhttp_request *req, int code, const char *msg)
{
	json_t *o = json_object();

	json_object_set_new(o, "error", json_string(msg));
	http_reply_json(req, code, o);
}

/* http_body - the request body, NUL-terminated, or NULL after a 413 */
const char *
http_body(struct evhttp_request *req, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	unsigned char *p;

	if (n > HTTP_BODY_MAX) {
		http_error(req, 413, "request body over 1 MiB");
		return NULL;
	}
	evbuffer_add(in, "", 1);
	if ((p = evbuffer_pullup(in, -1)) == NULL) {
		http_error(req, 503, "out of memory");
		return NULL;
	}
	*len = n;
	return (const char *)p;
}

/* The query of the request being handled (handlers are synchronous). */
static struct {
	struct evhttp_request *req;
	struct evkeyvalq q;
	bool parsed;
} cur;

/* http_query - a decoded query parameter of req, or NULL */
const char *
http_query(struct evhttp_request *req, const char *name)
{
	const struct evhttp_uri *u;
	const char *query;

	if (cur.req != req) {
		if (cur.parsed)
			evhttp_clear_headers(&cur.q);
		cur.parsed = false;
		cur.req = req;
		TAILQ_INIT(&cur.q);
		u = evhttp_request_get_evhttp_uri(req);
		query = u != NULL ? evhttp_uri_get_query(u) : NULL;
		if (query != NULL && evhttp_parse_query_str(query, &cur.q) == 0)
			cur.parsed = true;
	}
	return cur.parsed ? evhttp_find_header(&cur.q, name) : NULL;
}

struct server *
http_server(struct http_api *api)
{
	return api->srv;
}

struct hub *
http_hub(struct http_api *api)
{
	return api->hub;
}

struct stats *
http_stats(struct http_api *api)
{
	return api->stats;
}

/* http_route - add a route to the table */
int
http_route(struct http_api *api, const char *method, const char *path,
           http_handler_fn handler, bool exact)
{
	struct http_route_ent *r;

	if (api->nroutes == HTTP_ROUTES_MAX ||
	    strlen(method) >= sizeof(r->method) ||
	    strlen(path) >= sizeof(r->path))
		return -1;
	r = &api->routes[api->nroutes++];
	snprintf(r->method, sizeof(r->method), "%s", method);
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->fn = handler;
	r->exact = exact;
	r->open = false;
	return 0;
}

/* http_route_open - an exact route answered without the token */
int
http_route_open(struct http_api *api, const char *method, const char *path,
                http_handler_fn handler)
{
	if (http_route(api, method, path, handler, true) == -1)
		return -1;
	api->routes[api->nroutes - 1].open = true;
	return 0;
}

/* --- dispatch --- */

static const char *
method_str(enum evhttp_cmd_type t)
{
	switch (t) {
	case EVHTTP_REQ_GET:
	case EVHTTP_REQ_HEAD:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	default:
		return "OTHER";
	}
}

static void
sha256(const void *p, size_t n, unsigned char out[32])
{
	unsigned int len = 32;

	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1)
		memset(out, 0, 32);
}

static bool
authorized(struct http_api *api, struct evhttp_request *req)
{
	const char *h;
	unsigned char got[32];

	if (!api->has_token)
		return true;
	h = evhttp_find_header(evhttp_request_get_input_headers(req),
	                       "Authorization");
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	sha256(h, strlen(h), got);
	return CRYPTO_memcmp(got, api->token_hash, 32) == 0;
}

static bool
route_matches(const struct http_route_ent *r, const char *path)
{
	size_t n = strlen(r->path);

	return r->exact ? strcmp(path, r->path) == 0
	                : strncmp(path, r->path, n) == 0;
}

static void
dispatch(struct evhttp_request *req, void *arg)
{
	struct http_api *api = arg;
	const struct evhttp_uri *u;
	const char *path, *method;
	char allow[64] = "";
	const struct http_route_ent *hit = NULL;

	/* libevent calls us without a URI for a body over the limit */
	if (evhttp_request_get_uri(req) == NULL ||
	    evhttp_request_get_response_code(req) == 413) {
		http_error(req, 413, "request body over 1 MiB");
		return;
	}
	u = evhttp_request_get_evhttp_uri(req);
	path = u != NULL ? evhttp_uri_get_path(u) : NULL;
	if (path == NULL || *path == '\0')
		path = "/";
	method = method_str(evhttp_request_get_command(req));
	for (size_t i = 0; i < api->nroutes && hit == NULL; i++) {
		const struct http_route_ent *r = &api->routes[i];

		if (!route_matches(r, path))
			continue;
		if (strcmp(r->method, method) == 0) {
			hit = r;
		} else if (strstr(allow, r->method) == NULL) {
			size_t n = strlen(allow);

			snprintf(allow + n, sizeof(allow) - n, "%s%s",
			         n ? ", " : "", r->method);
		}
	}
	if ((hit == NULL || !hit->open) && !authorized(api, req)) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		                  "WWW-Authenticate", "Bearer");
		http_error(req, 401,
		           "missing or wrong Authorization: Bearer "
		           "token (--http-token)");
	} else if (hit != NULL) {
		hit->fn(api, req, path + strlen(hit->path));
	} else if (allow[0] != '\0') {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		                  "Allow", allow);
		http_error(req, 405, "method not allowed");
	} else {
		http_error(req, 404, "no such route");
	}
	if (cur.req == req) {
		if (cur.parsed)
			evhttp_clear_headers(&cur.q);
		cur.parsed = false;
		cur.req = NULL;
	}
}

/* --- start and stop --- */

static int
read_token(struct http_api *api, const char *file, char *err, size_t errlen)
{
	char line[1024];
	FILE *f = fopen(file, "r");
	size_t n;

	if (f == NULL) {
		snprintf(err, errlen, "--http-token %s: %s", file,
		         strerror(errno));
		return -1;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, "\r\n");
	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	if (n == 0) {
		snprintf(err, errlen,
		         "--http-token %s: the first line is empty", file);
		return -1;
	}
	sha256(line, n, api->token_hash);
	OPENSSL_cleanse(line, sizeof(line));
	api->has_token = true;
	return 0;
}

static bool
addr_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
		       (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
		        in6->sin6_addr.s6_addr[12] == 127);
	}
	return false;
}

static int
bind_all(struct http_api *api, const struct http_config *cfg, char *err,
         size_t errlen)
{
	struct listen_addr la;
	char e[512];
	unsigned port = 0;

	if (listen_addr_parse(cfg->addr_port, &la, e, sizeof(e)) == -1) {
		/* its lines start "--listen SPEC: "; ours names our flag */
		const char *rest = strncmp(e, "--listen ", 9) == 0 ? e + 9 : e;

		snprintf(err, errlen, "--http %s", rest);
		return -1;
	}
	if (la.tls) {
		snprintf(err, errlen, "--http %s: no /tls for the HTTP API",
		         cfg->addr_port);
		return -1;
	}
	for (size_t i = 0; i < la.n; i++)
		if (!addr_is_loopback(&la.ss[i]) && cfg->token_file == NULL) {
			snprintf(err, errlen,
			         "--http %s: a non-loopback address needs "
			         "--http-token FILE",
			         cfg->addr_port);
			return -1;
		}
	for (size_t i = 0; i < la.n; i++) {
		int fd, on = 1;
		struct sockaddr_storage ss = la.ss[i];
		socklen_t len = sizeof(ss);

		if (port != 0)
			listen_addr_set_port(&la.ss[i], port);
		fd = socket(la.ss[i].ss_family, SOCK_STREAM, 0);
		if (fd != -1)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
			           sizeof(on));
		if (fd == -1 ||
		    bind(fd, (struct sockaddr *)&la.ss[i], la.len[i]) == -1 ||
		    listen(fd, 128) == -1 ||
		    evutil_make_socket_nonblocking(fd) == -1 ||
		    getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
			int saved = errno;

			if (fd != -1)
				close(fd);
			snprintf(err, errlen, "--http %s: cannot bind: %s",
			         cfg->addr_port, strerror(saved));
			return -1;
		}
		evutil_make_socket_closeonexec(fd);
		if (evhttp_accept_socket_with_handle(api->http, fd) == NULL) {
			close(fd);
			snprintf(err, errlen, "--http %s: cannot listen",
			         cfg->addr_port);
			return -1;
		}
		port = listen_addr_port(&ss);
		if (i == 0)
			listen_addr_format(&ss, true, api->bound,
			                   sizeof(api->bound));
	}
	return 0;
}

static void
flush_now(struct http_api *api)
{
	event_base_gettimeofday_cached(api->base, &api->last_flush);
	http_stream_notify(api);
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	flush_now(arg);
}

/*
 * The hub has new lines. The first after a quiet spell goes out at once;
 * under load the lines gather for up to HTTP_FLUSH_MS and leave as one
 * chunk per subscriber. The hub does not wake us again until we take
 * what it holds, so a busy SMTP path costs the workers one wake-up per
 * flush, not one per line, and the HTTP thread a few writes a second.
 */
static void
notify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_api *api = arg;
	struct timeval now, since, wait = {0, HTTP_FLUSH_MS * 1000};

	if (evtimer_pending(api->flush_timer, NULL))
		return;
	event_base_gettimeofday_cached(api->base, &now);
	evutil_timersub(&now, &api->last_flush, &since);
	if (evutil_timercmp(&since, &wait, >=) || since.tv_sec < 0) {
		flush_now(api);
		return;
	}
	evutil_timersub(&wait, &since, &wait);
	evtimer_add(api->flush_timer, &wait);
}

/* hub -> HTTP thread, from a worker: only wakes the HTTP loop */
static void
hub_woke(void *arg)
{
	struct http_api *api = arg;

	event_active(api->notify, EV_READ, 0);
}

static void *
http_thread(void *arg)
{
	struct http_api *api = arg;

	event_base_dispatch(api->base);
	return NULL;
}

static void
api_free(struct http_api *api)
{
	if (api->http != NULL)
		evhttp_free(api->http);
	if (api->notify != NULL)
		event_free(api->notify);
	if (api->flush_timer != NULL)
		event_free(api->flush_timer);
	if (api->base != NULL)
		event_base_free(api->base);
	hub_free(api->hub);
	free(api->spool_dir);
	for (size_t i = 0; i < api->nprofile_dirs; i++)
		free(api->profile_dirs[i]);
	free(api->profile_dirs);
	free(api);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* http_api_start - bind, add the hub tap, start the thread */
struct http_api *
http_api_start(const struct http_config *cfg, struct server *srv,
               struct stats *stats, char *err, size_t errlen)
{
	struct http_api *api = calloc(1, sizeof(*api));

	if (api == NULL) {
		snprintf(err, errlen, "--http: out of memory");
		return NULL;
	}
	api->srv = srv;
	api->stats = stats;
	TAILQ_INIT(&api->subs);
	TAILQ_INIT(&api->waits);
	api->spool_dir = dup_or_null(cfg->spool_dir);
	api->profile_dirs = calloc(cfg->nprofile_dirs + 1, sizeof(char *));
	for (size_t i = 0; api->profile_dirs != NULL && i < cfg->nprofile_dirs;
	     i++)
		api->profile_dirs[api->nprofile_dirs++] =
		    strdup(cfg->profile_dirs[i]);
	if ((api->hub = hub_new(NULL)) == NULL ||
	    (api->base = event_base_new()) == NULL ||
	    (api->http = evhttp_new(api->base)) == NULL ||
	    (api->notify = event_new(api->base, -1, 0, notify_cb, api)) ==
	        NULL ||
	    (api->flush_timer = evtimer_new(api->base, flush_cb, api)) ==
	        NULL) {
		snprintf(err, errlen, "--http: out of memory");
		api_free(api);
		return NULL;
	}
	if ((cfg->token_file != NULL &&
	     read_token(api, cfg->token_file, err, errlen) == -1) ||
	    bind_all(api, cfg, err, errlen) == -1) {
		api_free(api);
		return NULL;
	}
	evhttp_set_max_body_size(api->http, HTTP_BODY_MAX);
	evhttp_set_max_headers_size(api->http, 64 * 1024);
	evhttp_set_timeout(api->http, 60);
	evhttp_set_allowed_methods(
	    api->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
	                   EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	                   EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_default_content_type(api->http, "application/json");
	evhttp_set_gencb(api->http, dispatch, api);
	http_static_find(api, cfg->web_root);
	http_session_routes(api);
	http_message_routes(api);
	http_stream_routes(api);
	metrics_routes(api);
	http_control_routes(api);
	http_static_routes(api); /* last: "/" is its prefix */
	hub_set_notify(api->hub, hub_woke, api);
	if (transcript_add_tap_ev(hub_tap, hub_tap_ev, api->hub) == -1) {
		snprintf(err, errlen,
		         "--http: no room for another transcript "
		         "tap");
		api_free(api);
		return NULL;
	}
	if (pthread_create(&api->thread, NULL, http_thread, api) != 0) {
		snprintf(err, errlen, "--http: cannot start a thread");
		log_fatal("--http: cannot start a thread");
	}
	api->running = true;
	return api;
}

/* http_api_bound - "127.0.0.1:8025" */
int
http_api_bound(struct http_api *api, char *buf, size_t len)
{
	if (api == NULL || api->bound[0] == '\0')
		return -1;
	snprintf(buf, len, "%s", api->bound);
	return 0;
}

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_api *api = arg;

	http_stream_close(api);
	event_base_loopbreak(api->base);
}

/* http_api_stop - stop the thread, close every client, free */
void
http_api_stop(struct http_api *api)
{
	if (api == NULL)
		return;
	if (api->running) {
		/* end the streams on the HTTP thread, then leave its loop */
		event_base_once(api->base, -1, EV_TIMEOUT, stop_cb, api, NULL);
		pthread_join(api->thread, NULL);
	}
	/* No worker is left to call the tap (see http.h). */
	hub_set_notify(api->hub, NULL, NULL);
	api_free(api);
}
