/*
 * http.h - the HTTP API (--http): evhttp on its own thread with its own
 * event_base; routes for sessions, messages, wait, events (SSE), metrics,
 * profiles, the static web view and the OpenAPI description.
 *
 * Does: bind, the token check, body limits (1 MiB: 413), route dispatch
 * (404 unknown, 405 wrong method), JSON replies. Does not: keep the
 * session index (hub.c), count (stats.c), or change the server's profile
 * and rules (the control routes, http_control.c, call daemon/control.h).
 * Handlers run on the HTTP thread only; worker threads never wait on it.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct evhttp_request;
struct server;
struct stats;
struct hub;
struct http_api;

/* Largest request body accepted; a bigger one gets 413. */
#define HTTP_BODY_MAX (1024 * 1024)

struct http_config {
	const char
	    *addr_port; /* --http "[ADDR:]PORT"; ADDR defaults to 127.0.0.1 */
	const char *token_file; /* --http-token FILE, or NULL */
	const char *web_root;   /* --web-root DIR, or NULL: the usual places */
	const char *spool_dir;  /* --spool DIR, or NULL for --spool none */
	const char *const
	    *profile_dirs; /* profile search path (GET profiles) */
	size_t nprofile_dirs;
};

/*
 * http_api_start - parse addr_port, read the token, bind, add the hub as a
 * transcript tap and start the HTTP thread. Call before the workers start
 * (taps are added before any worker emits). stats may be NULL (no
 * /metrics counters). Returns the API, or NULL with one line in err naming
 * the flag (e.g. "--http 0.0.0.0:8025: a non-loopback address needs
 * --http-token FILE").
 */
struct http_api *http_api_start(const struct http_config *cfg,
                                struct server *srv, struct stats *stats,
                                char *err, size_t errlen);

/* http_api_stop - stop the thread, close every client, free; NULL ok.
 * Call once no worker runs (after server_free): the hub is a tap. */
void http_api_stop(struct http_api *api);

/* http_api_bound - the bound address, "127.0.0.1:8025"; 0 or -1 */
int http_api_bound(struct http_api *api, char *buf, size_t len);

/*
 * The handler of a route: runs on the HTTP thread. rest is the part of the
 * path after the route's prefix ("" for an exact route; "7" for prefix
 * "/api/v1/sessions/" and path "/api/v1/sessions/7"), without the query.
 */
typedef void (*http_handler_fn)(struct http_api *api,
                                struct evhttp_request *req, const char *rest);

/*
 * http_route - register handler for METHOD ("GET", "PUT", "POST",
 * "DELETE") on path: exact (true) matches only that path, else every path
 * that starts with it. A path known for another method answers 405.
 * Call from http_control_routes (before the thread starts). Returns 0 or
 * -1 (table full).
 */
int http_route(struct http_api *api, const char *method, const char *path,
               http_handler_fn handler, bool exact);

/* http_reply_json - send code with o as application/json; steals o */
void http_reply_json(struct evhttp_request *req, int code, json_t *o);

/* http_error - send code with {"error": msg} */
void http_error(struct evhttp_request *req, int code, const char *msg);

/*
 * http_body - the request body (NUL-terminated copy owned by the request,
 * len set), or NULL when it is over HTTP_BODY_MAX: the 413 has been sent
 * then, the handler just returns. An empty body is "" with len 0.
 */
const char *http_body(struct evhttp_request *req, size_t *len);

/* http_query - the value of a query parameter (decoded), or NULL; the
 * string lives until the request is answered */
const char *http_query(struct evhttp_request *req, const char *name);

/* http_server / http_hub / http_stats - what the handlers work on */
struct server *http_server(struct http_api *api);
struct hub *http_hub(struct http_api *api);
struct stats *http_stats(struct http_api *api);

/*
 * http_control_routes - register the control routes (PUT /api/v1/profile,
 * POST/GET /api/v1/rules, DELETE /api/v1/rules/{id}, POST /api/v1/reset);
 * defined in http_control.c (helper control). Called once by
 * http_api_start.
 */
void http_control_routes(struct http_api *api);

/* hub_reset - forget every session and message of the index (POST
 * /api/v1/reset); declared in hub.h too */
void hub_reset(struct hub *hub);

#endif
