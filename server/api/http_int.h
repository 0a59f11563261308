/*
 * http_int.h - what the http*.c files share: struct http_api and the
 * registration of each file's routes. Not for other layers (http.h is).
 */
#ifndef HTTP_INT_H
#define HTTP_INT_H

#include <limits.h>
#include <pthread.h>
#include <sys/queue.h>

#include "http.h"

struct event;
struct event_base;
struct evhttp;

#define HTTP_ROUTES_MAX  48
#define HTTP_SOCKETS_MAX 4

/* SSE: a subscriber whose unsent output passes this is dropped. */
#define HTTP_SSE_MAX_BACKLOG (4u * 1024 * 1024)
/* the longest a line waits in the hub for the SSE stream and /wait */
#define HTTP_FLUSH_MS 25
/* GET /api/v1/wait: the longest timeout (seconds) and the default. */
#define HTTP_WAIT_MAX_S      3600
#define HTTP_WAIT_DEFAULT_S  30
#define HTTP_WAITERS_MAX     256
#define HTTP_SUBSCRIBERS_MAX 64

struct http_route_ent {
	char method[8];
	char path[64];
	http_handler_fn fn;
	bool exact;
	/* answered without --http-token's token: the page's own files, which
	 * hold no data (the page then sends the token with every call) */
	bool open;
};
/* http_route_open - an exact GET route that needs no token */
int http_route_open(struct http_api *api, const char *method, const char *path,
                    http_handler_fn handler);

struct http_sub;  /* an SSE subscriber (http_stream.c) */
struct http_wait; /* a waiting GET /api/v1/wait (http_stream.c) */
TAILQ_HEAD(http_sub_list, http_sub);
TAILQ_HEAD(http_wait_list, http_wait);

struct http_api {
	struct server *srv;
	struct stats *stats;
	struct hub *hub;
	struct event_base *base;
	struct evhttp *http;
	pthread_t thread;
	bool running;
	struct event *notify; /* hub -> HTTP thread */
	/* At most one flush per HTTP_FLUSH_MS under load: a wake-up that
	 * comes sooner arms this timer instead (see notify_cb). */
	struct event *flush_timer;
	struct timeval last_flush; /* monotonic, of the last flush */
	unsigned char token_hash[32];
	bool has_token;
	char bound[96];
	char *spool_dir; /* NULL: --spool none */
	char **profile_dirs;
	size_t nprofile_dirs;
	char web_dir[PATH_MAX]; /* "" if none was found */
	char openapi[PATH_MAX]; /* the openapi.json to serve */
	struct http_route_ent routes[HTTP_ROUTES_MAX];
	size_t nroutes;
	struct http_sub_list subs;
	size_t nsubs;
	struct http_wait_list waits;
	size_t nwaits;
	unsigned long long sse_dropped; /* subscribers dropped as too slow */
};

/* Each file's routes, registered by http_api_start. */
void http_session_routes(struct http_api *api);
void http_message_routes(struct http_api *api);
void http_stream_routes(struct http_api *api);
void http_static_routes(struct http_api *api);
void metrics_routes(struct http_api *api);

/* http_stream_notify - the hub woke us: feed subscribers, check waits */
void http_stream_notify(struct http_api *api);
/* http_stream_close - end every subscriber and waiter (at stop) */
void http_stream_close(struct http_api *api);

/* http_static_find - fill web_dir and openapi (web_root: --web-root) */
void http_static_find(struct http_api *api, const char *web_root);

/* http_reply_text - send code with body (len bytes) as ctype */
void http_reply_text(struct evhttp_request *req, int code, const char *ctype,
                     const char *body, size_t len);

#endif
