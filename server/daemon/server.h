/*
 * server.h - the process: worker threads with their listeners and live
 * sessions, the current profile, signals (stop, reload) and start-up
 * checks.
 *
 * Does: bind and accept (one event base per worker, each with its own
 * SO_REUSEPORT listening sockets; a session never moves between workers),
 * session limits (total and per client address, shared by all workers),
 * graceful stop, profile reload for new sessions. Does not: speak SMTP
 * (session.c) or parse flags (main.c).
 */
#ifndef SERVER_H
#define SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "listen_addr.h"
#include "session.h"

struct grey_store;
struct profile;
struct spool;
struct session;

TAILQ_HEAD(session_list, session);

struct server_config {
	const char *profile_name; /* as given on the command line */
	const char *const *dirs;  /* profile search path */
	size_t ndirs;
	unsigned max_sessions; /* 0: the profile's limit */
	uint64_t seed;
	unsigned grace_ms;          /* how long DATA sessions may finish */
	const char *cert_file;      /* --cert, or NULL: generated */
	const char *key_file;       /* --key */
	bool no_profile_via;        /* --via none: "no inspect esmtp" */
	struct profile *const *via; /* --via middleboxes, client side first */
	size_t nvia;
	unsigned workers;         /* event loops (threads); >= 1 */
	struct grey_store *store; /* policy state for every session, or NULL */
	/* --proxy-protocol: the PROXY_PROTO_* versions a connection's
	 * header may be in (proxy_accept.c); 0: no header expected */
	unsigned proxy_protocol;
};

struct listener; /* one bound address, plain or implicit TLS */
struct control;
struct accept_guard;
struct client_count;
struct proxy_accept;

/* One event loop on its own thread, with its own sessions. */
struct worker {
	struct server *srv;
	unsigned index;
	struct event_base *base;
	pthread_t thread;
	struct profile *profile; /* for new sessions, this worker's ref */
	unsigned long profile_gen;
	struct listener **listeners;
	size_t nlisteners;
	struct session_list sessions;
	bool stopping;
	struct session_env env; /* what this worker's sessions get */
	struct event *wake;     /* the main thread asks us to stop */
	struct event *grace_timer;
	struct accept_guard *guard; /* accept errors: reserve fd, pause */
	struct proxy_accept *proxy; /* --proxy-protocol: headers awaited */
};

struct server {
	struct event_base *base; /* main thread: signals */
	struct server_config cfg;
	struct spool *spool;
	struct worker **workers;
	size_t nworkers;
	pthread_mutex_t lock;           /* profile, profile_gen, clients */
	pthread_barrier_t stop_barrier; /* all listeners closed before 421s */
	struct profile *profile;        /* current; workers take it at accept */
	unsigned long profile_gen;
	struct control *ctl;           /* what makes srv->profile (control.c) */
	bool tls_listener;             /* some listener serves implicit TLS */
	struct client_count **clients; /* per-address session counts */
	atomic_uint nsessions;
	atomic_uint nwaiting; /* connections waiting for a PROXY header */
	atomic_ulong next_id;
	atomic_ullong messages;
	atomic_uint running; /* workers still in their loop */
	atomic_bool stopping;
	atomic_bool stop_requested; /* server_request_stop was called */
	/* server_request_stop once this many messages are accepted (0:
	 * never), then every open session may finish by itself within the
	 * grace period; set before server_run (--exit-after) */
	unsigned long long stop_after;
	struct event *sig_term, *sig_int, *sig_hup, *worker_done;
	struct event *tr_flush; /* JSON transcript lines out, every 100 ms */
};

/*
 * server_new - a server with its profile, spool and cfg->workers event
 * loops; not listening yet. Needs evthread_use_pthreads() first.
 */
struct server *server_new(struct event_base *base,
                          const struct server_config *cfg,
                          struct profile *profile, struct spool *spool);

/*
 * server_listen - bind "[ADDR:]PORT" (IPv6 as "[::1]:PORT", ADDR also
 * "localhost"; port 0: the kernel picks one, shared by every worker), with
 * a "/tls" suffix for implicit TLS (port 465 style), once per worker.
 * Returns 0, or -1 with one line in err naming the address and the reason
 * (and nothing of spec left bound).
 */
int server_listen(struct server *srv, const char *spec, char *err,
                  size_t errlen);

/*
 * server_check_listen - what server_listen would bind for spec under
 * profile p (its tls_policy already prepared), without binding: 0 with la
 * filled in, or -1 with server_listen's one line in err.
 */
int server_check_listen(const struct profile *p, const char *spec,
                        struct listen_addr *la, char *err, size_t errlen);

/* server_bound - how many addresses are bound (each once per worker) */
size_t server_bound(const struct server *srv);

/* server_bound_name - the i-th bound address (i < server_bound()) as
 * "ADDR:PORT[/tls]", with the port the kernel gave for port 0 */
void server_bound_name(const struct server *srv, size_t i, char *buf,
                       size_t len);

/* server_stop - SIGTERM's graceful stop, main thread only; a second call
 * breaks every loop at once (server_stop.c) */
void server_stop(struct server *srv);

/*
 * server_request_stop - the graceful stop of SIGTERM (no new connections,
 * sessions in DATA finish within the grace period), from any thread; a
 * second call, or one after a signal, does nothing more. server_stop.c.
 */
void server_request_stop(struct server *srv);

/* server_run - serve until stopped; returns the exit status */
int server_run(struct server *srv);

void server_free(struct server *srv);

/*
 * server_prepare_tls - build the SSL_CTX of a profile with a tls: section
 * (no-op without one), with the session callbacks installed. Problems
 * OpenSSL cannot provide for are logged as warnings naming the profile.
 * Returns 0, or -1 with one line in err: a cert_file or key_file given to
 * a profile without tls:, or one that does not load (worded as the
 * --cert/--key flags that named them). server_tls.c.
 */
int server_prepare_tls(struct profile *p, const char *cert_file,
                       const char *key_file, char *err, size_t errlen);

#endif
