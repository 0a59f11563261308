/*
 * server.h - the process: listeners, the live sessions, the current
 * profile, signals (stop, reload) and start-up checks.
 *
 * Does: bind and accept, session limits (total and per client address),
 * graceful stop, profile reload for new sessions. Does not: speak SMTP
 * (session.c) or parse flags (main.c).
 */
#ifndef SERVER_H
#define SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>

struct profile;
struct spool;
struct session;

TAILQ_HEAD(session_list, session);

struct server_config {
	const char *profile_name;   /* as given on the command line */
	const char *const *dirs;    /* profile search path */
	size_t ndirs;
	unsigned max_sessions;	    /* 0: the profile's limit */
	uint64_t seed;
	unsigned grace_ms;	    /* how long DATA sessions may finish */
	const char *cert_file;	    /* --cert, or NULL: generated */
	const char *key_file;	    /* --key */
	bool no_profile_via;	    /* --via none: "no inspect esmtp" */
};

struct listener; /* one bound address, plain or implicit TLS */

struct server {
	struct event_base *base;
	struct server_config cfg;
	struct profile *profile; /* for new sessions; reloaded on SIGHUP */
	struct profile **via;	 /* --via middleboxes, client side first */
	size_t nvia;
	struct spool *spool;
	struct listener **listeners;
	size_t nlisteners;
	struct session_list sessions;
	unsigned nsessions;
	unsigned long next_id;
	struct client_count **clients; /* per-address session counts */
	size_t nclient_buckets;
	bool stopping;
	struct event *sig_term, *sig_int, *sig_hup, *grace_timer;
	unsigned long long messages; /* accepted, for the exit summary */
};

/* server_new - a server with its profile and spool; not listening yet */
struct server *server_new(struct event_base *base,
    const struct server_config *cfg, struct profile *profile,
    struct spool *spool);

/*
 * server_listen - bind "[ADDR:]PORT" (IPv6 as "[::1]:PORT"), with a "/tls"
 * suffix for implicit TLS (port 465 style). Returns 0, or -1 with one line
 * in err naming the address and the reason.
 */
int server_listen(struct server *srv, const char *spec, char *err,
    size_t errlen);

/* server_run - serve until stopped; returns the exit status */
int server_run(struct server *srv);

void server_free(struct server *srv);

/* server_session_closing - a session started closing: release its slot */
void server_session_closing(struct server *srv, struct session *s);

/* server_session_gone - a session ended; called by the session */
void server_session_gone(struct server *srv, struct session *s);

/*
 * server_prepare_tls - build the SSL_CTX of a profile with a tls: section
 * (no-op without one), with the session callbacks installed. Problems
 * OpenSSL cannot provide for are logged as warnings naming the profile.
 * Returns 0, or -1 with one line in err.
 */
int server_prepare_tls(struct profile *p, const char *cert_file,
    const char *key_file, char *err, size_t errlen);

/* server_max_sessions - effective limit (flag or profile) */
unsigned server_max_sessions(const struct server *srv);

/* server_accepted - count an accepted message */
void server_accepted(struct server *srv);

#endif
