/*
 * server.c - listeners, the set of live sessions, and the process's
 * reaction to signals.
 *
 * Does: parse and bind listen addresses, accept (refusing over the
 * profile's total and per-client limits with the profile's 421), SIGTERM /
 * SIGINT graceful stop (sessions in DATA may finish within a grace
 * period), SIGHUP profile reload for new sessions.
 * Does not: speak SMTP, or touch a session's socket.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "log.h"
#include "profile.h"
#include "server.h"
#include "session.h"
#include "tls_policy.h"
#include "transcript.h"

#define CLIENT_BUCKETS 4096

struct listener {
	struct server *srv;
	struct evconnlistener *l;
	bool tls; /* implicit TLS from the first byte */
};

#ifndef TAILQ_FOREACH_SAFE /* glibc's sys/queue.h lacks it */
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)                             \
	for ((var) = TAILQ_FIRST(head);                                        \
	     (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);            \
	     (var) = (tvar))
#endif

struct client_count {
	struct client_count *next;
	unsigned n;
	char ip[INET6_ADDRSTRLEN];
};

static unsigned
client_hash(const char *ip)
{
	unsigned h = 2166136261u; /* FNV-1a */

	for (; *ip; ip++)
		h = (h ^ (unsigned char)*ip) * 16777619u;
	return h % CLIENT_BUCKETS;
}

static struct client_count **
client_find(struct server *srv, const char *ip)
{
	struct client_count **cp = &srv->clients[client_hash(ip)];

	while (*cp != NULL && strcmp((*cp)->ip, ip) != 0)
		cp = &(*cp)->next;
	return cp;
}

/* Count one more session from ip; returns the new count (0 on ENOMEM). */
static unsigned
client_add(struct server *srv, const char *ip)
{
	struct client_count **cp = client_find(srv, ip);

	if (*cp == NULL) {
		if ((*cp = calloc(1, sizeof(**cp))) == NULL)
			return 0;
		snprintf((*cp)->ip, sizeof((*cp)->ip), "%s", ip);
	}
	return ++(*cp)->n;
}

static void
client_del(struct server *srv, const char *ip)
{
	struct client_count **cp = client_find(srv, ip), *c = *cp;

	if (c == NULL)
		return;
	if (--c->n == 0) {
		*cp = c->next;
		free(c);
	}
}

/* server_max_sessions - effective limit (flag or profile) */
unsigned
server_max_sessions(const struct server *srv)
{
	if (srv->cfg.max_sessions != 0)
		return srv->cfg.max_sessions;
	return srv->profile->limits.max_sessions;
}

/* server_accepted - count an accepted message */
void
server_accepted(struct server *srv)
{
	srv->messages++;
}

static void
server_maybe_done(struct server *srv)
{
	if (srv->stopping && TAILQ_EMPTY(&srv->sessions))
		event_base_loopexit(srv->base, NULL);
}

/* server_session_closing - a session is ending: free its slot now, so a
 * peer that is slow to close does not hold a place in the limits */
void
server_session_closing(struct server *srv, struct session *s)
{
	if (!s->counted)
		return;
	s->counted = false;
	srv->nsessions--;
	client_del(srv, s->client_ip);
}

/* server_session_gone - a session ended */
void
server_session_gone(struct server *srv, struct session *s)
{
	server_session_closing(srv, s);
	TAILQ_REMOVE(&srv->sessions, s, entry);
	server_maybe_done(srv);
}

static void
server_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
              int salen, void *arg)
{
	struct listener *lst = arg;
	struct server *srv = lst->srv;
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	enum reply_id refuse = REPLY_COUNT;
	unsigned max = server_max_sessions(srv);
	unsigned per = srv->profile->limits.max_sessions_per_client;
	char ip[INET6_ADDRSTRLEN] = "";
	struct session *s;

	if (srv->stopping) {
		evutil_closesocket(fd);
		return;
	}
	if (getsockname(fd, (struct sockaddr *)&local, &llen) == -1)
		memset(&local, 0, sizeof(local));
	if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, ip,
		          sizeof(ip));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, ip,
		          sizeof(ip));
	if (max != 0 && srv->nsessions >= max)
		refuse = REPLY_TOO_MANY_SESSIONS;
	if (client_add(srv, ip) > per && per != 0 && refuse == REPLY_COUNT)
		refuse = REPLY_TOO_MANY_FROM_CLIENT;
	/* Counted before session_new: the session may end inside it. */
	srv->nsessions++;
	s = session_new(srv, fd, sa, (struct sockaddr *)&local, ++srv->next_id,
	                refuse, lst->tls && refuse == REPLY_COUNT);
	if (s == NULL) {
		srv->nsessions--;
		client_del(srv, ip);
		log_warnx("out of memory accepting a connection from %s", ip);
		return;
	}
	TAILQ_INSERT_TAIL(&srv->sessions, s, entry);
}

static void
server_accept_error(struct evconnlistener *l, void *arg)
{
	int e = EVUTIL_SOCKET_ERROR();

	/* EMFILE and friends: keep serving the sessions we have. */
	log_warnx("accept: %s", evutil_socket_error_to_string(e));
}

/* Parse "[ADDR:]PORT" (IPv6 "[::1]:PORT") into sa; 0 or -1. */
static int
parse_listen(const char *spec, struct sockaddr_storage *ss, int *len)
{
	char buf[160];
	const char *p;

	for (p = spec; *p >= '0' && *p <= '9'; p++)
		;
	if (*p == '\0' && p != spec) {
		snprintf(buf, sizeof(buf), "127.0.0.1:%s", spec);
		spec = buf;
	}
	*len = sizeof(*ss);
	memset(ss, 0, sizeof(*ss));
	if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)ss, len) != 0)
		return -1;
	if (ss->ss_family == AF_INET &&
	    ((struct sockaddr_in *)ss)->sin_port == 0)
		return -1;
	if (ss->ss_family == AF_INET6 &&
	    ((struct sockaddr_in6 *)ss)->sin6_port == 0)
		return -1;
	return 0;
}

/* server_listen - bind one "[ADDR:]PORT[/tls]" */
int
server_listen(struct server *srv, const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct listener *lst, **ls;
	char addr[128];
	const char *slash = strrchr(spec, '/');
	bool tls = false;
	unsigned flags;
	int len;

	snprintf(addr, sizeof(addr), "%s", spec);
	if (slash != NULL) {
		if (strcmp(slash, "/tls") != 0) {
			snprintf(err, errlen,
			         "--listen %s: unknown suffix \"%s\" (the only "
			         "one is /tls, for implicit TLS)",
			         spec, slash);
			return -1;
		}
		addr[slash - spec] = '\0';
		tls = true;
	}
	if (parse_listen(addr, &ss, &len) == -1) {
		snprintf(err, errlen,
		         "--listen %s: not an address (use PORT, ADDR:PORT or "
		         "[IPV6]:PORT, e.g. 127.0.0.1:2525, with /tls for "
		         "implicit TLS)",
		         spec);
		return -1;
	}
	if (tls && srv->profile->tls_policy == NULL) {
		snprintf(err, errlen,
		         "--listen %s: profile %s has no tls: section, so it "
		         "cannot serve implicit TLS",
		         spec, srv->profile->name);
		return -1;
	}
	if ((lst = calloc(1, sizeof(*lst))) == NULL ||
	    (ls = realloc(srv->listeners,
	                  (srv->nlisteners + 1) * sizeof(*ls))) == NULL) {
		free(lst);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	srv->listeners = ls;
	lst->srv = srv;
	lst->tls = tls;
	flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
	        LEV_OPT_REUSEABLE;
	/* [::]:25 and 0.0.0.0:25 can then both be listened on. */
	if (ss.ss_family == AF_INET6)
		flags |= LEV_OPT_BIND_IPV6ONLY;
	lst->l = evconnlistener_new_bind(srv->base, server_accept, lst, flags,
	                                 1024, (struct sockaddr *)&ss, len);
	if (lst->l == NULL) {
		int e = errno;
		free(lst);
		snprintf(
		    err, errlen, "--listen %s: cannot bind: %s%s", spec,
		    strerror(e),
		    e == EADDRINUSE
		        ? " (another server has this port; pick another with "
		          "--listen)"
		    : e == EACCES ? " (ports below 1024 need "
		                    "root; see --user)"
		                  : "");
		return -1;
	}
	evconnlistener_set_error_cb(lst->l, server_accept_error);
	srv->listeners[srv->nlisteners++] = lst;
	return 0;
}

static void
listener_free(struct listener *lst)
{
	evconnlistener_free(lst->l);
	free(lst);
}

struct tls_notes {
	const struct profile *p;
	unsigned never_chosen;
};

/* What OpenSSL cannot offer is a warning; a suite that is offered but can
 * never be chosen (wrong key type or version) is detail for -v / --check. */
static void
tls_warn(void *arg, const char *msg)
{
	struct tls_notes *n = arg;

	if (strstr(msg, "never be chosen") != NULL) {
		n->never_chosen++;
		log_debug("profile %s: %s", n->p->name, msg);
		return;
	}
	log_warnx("profile %s: %s", n->p->name, msg);
}

/* server_prepare_tls - build a profile's SSL_CTX with our callbacks */
int
server_prepare_tls(struct profile *p, const char *cert_file,
                   const char *key_file, char *err, size_t errlen)
{
	char why[512];
	SSL_CTX *ctx;

	if (!p->tls.enabled || p->tls_policy != NULL)
		return 0;
	struct tls_notes notes = {.p = p};

	p->tls_policy = tls_policy_new(&p->tls, p->hostname, cert_file,
	                               key_file, tls_warn, &notes, why,
	                               sizeof(why));
	if (notes.never_chosen != 0)
		log_info("profile %s: %u listed suite(s) can never be chosen "
		         "with this certificate and these versions (-v or "
		         "--check lists them)",
		         p->name, notes.never_chosen);
	if (p->tls_policy == NULL) {
		snprintf(err, errlen, "%s: tls: %s", p->path, why);
		return -1;
	}
	ctx = tls_policy_ctx(p->tls_policy);
	SSL_CTX_set_client_hello_cb(ctx, session_client_hello, NULL);
	SSL_CTX_set_info_callback(ctx, session_tls_info);
	return 0;
}

static void
server_grace_over(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct session *s, *next;

	TAILQ_FOREACH_SAFE(s, &srv->sessions, entry, next)
	session_close(s, CLOSE_FIN, "shutdown grace period over");
	/* Closing sessions drain for a moment; do not wait for them. */
	struct timeval tv = {1, 0};
	event_base_loopexit(srv->base, &tv);
}

static void
server_stop(struct server *srv)
{
	struct session *s, *next;
	struct timeval tv = {srv->cfg.grace_ms / 1000,
	                     (srv->cfg.grace_ms % 1000) * 1000};

	if (srv->stopping) {
		log_info("second signal: exiting now");
		event_base_loopbreak(srv->base);
		return;
	}
	srv->stopping = true;
	log_info("stopping: no new connections; %u session(s) to finish",
	         srv->nsessions);
	for (size_t i = 0; i < srv->nlisteners; i++)
		listener_free(srv->listeners[i]);
	srv->nlisteners = 0;
	TAILQ_FOREACH_SAFE(s, &srv->sessions, entry, next)
	session_shutdown(s);
	srv->grace_timer = evtimer_new(srv->base, server_grace_over, srv);
	evtimer_add(srv->grace_timer, &tv);
	server_maybe_done(srv);
}

static void
server_reload(struct server *srv)
{
	char err[1024];
	struct profile *p;

	p = profile_load(srv->cfg.profile_name, srv->cfg.dirs, srv->cfg.ndirs,
	                 err, sizeof(err));
	if (p != NULL && p->mbox != NULL) {
		snprintf(err, sizeof(err), "%s is a middlebox, not a server",
		         p->path);
		profile_unref(p);
		p = NULL;
	}
	if (p == NULL ||
	    server_prepare_tls(p, srv->cfg.cert_file, srv->cfg.key_file, err,
	                       sizeof(err)) == -1) {
		log_warnx("reload failed, keeping profile %s: %s",
		          srv->profile->name, err);
		if (p != NULL)
			profile_unref(p);
		return;
	}
	log_info("reloaded profile %s from %s for new sessions", p->name,
	         p->path);
	profile_unref(srv->profile);
	srv->profile = p;
}

static void
server_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;

	if (sig == SIGHUP)
		server_reload(srv);
	else
		server_stop(srv);
}

/* server_new - a server with its profile and spool; not listening yet */
struct server *
server_new(struct event_base *base, const struct server_config *cfg,
           struct profile *profile, struct spool *spool)
{
	struct server *srv;

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return NULL;
	srv->base = base;
	srv->cfg = *cfg;
	srv->profile = profile;
	srv->spool = spool;
	TAILQ_INIT(&srv->sessions);
	srv->clients = calloc(CLIENT_BUCKETS, sizeof(*srv->clients));
	srv->sig_term = evsignal_new(base, SIGTERM, server_signal, srv);
	srv->sig_int = evsignal_new(base, SIGINT, server_signal, srv);
	srv->sig_hup = evsignal_new(base, SIGHUP, server_signal, srv);
	if (srv->clients == NULL || srv->sig_term == NULL ||
	    srv->sig_int == NULL || srv->sig_hup == NULL) {
		server_free(srv);
		return NULL;
	}
	evsignal_add(srv->sig_term, NULL);
	evsignal_add(srv->sig_int, NULL);
	evsignal_add(srv->sig_hup, NULL);
	return srv;
}

/* server_run - serve until stopped; returns the exit status */
int
server_run(struct server *srv)
{
	if (event_base_dispatch(srv->base) == -1)
		return 1;
	log_info("stopped; %llu message(s) accepted", srv->messages);
	return 0;
}

/* server_free - release everything (sessions left are abandoned) */
void
server_free(struct server *srv)
{
	if (srv == NULL)
		return;
	/* A second signal or the end of the grace period leaves sessions. */
	while (!TAILQ_EMPTY(&srv->sessions))
		session_abandon(TAILQ_FIRST(&srv->sessions));
	for (size_t i = 0; i < srv->nlisteners; i++)
		listener_free(srv->listeners[i]);
	free(srv->listeners);
	if (srv->clients != NULL) {
		for (size_t i = 0; i < CLIENT_BUCKETS; i++) {
			struct client_count *c = srv->clients[i], *n;
			for (; c != NULL; c = n) {
				n = c->next;
				free(c);
			}
		}
		free(srv->clients);
	}
	if (srv->sig_term)
		event_free(srv->sig_term);
	if (srv->sig_int)
		event_free(srv->sig_int);
	if (srv->sig_hup)
		event_free(srv->sig_hup);
	if (srv->grace_timer)
		event_free(srv->grace_timer);
	if (srv->profile)
		profile_unref(srv->profile);
	free(srv);
}
