/*
 * server.c - worker event loops, their listeners and live sessions, and the
 * process's reaction to signals.
 *
 * Does: bind listen addresses (parsed by listen_addr.c; one SO_REUSEPORT
 * socket per worker and address, so the kernel spreads connections over
 * the workers; port 0 is the kernel's pick, shared by all), accept
 * (refusing over the profile's total and per-client limits with the
 * profile's 421; out of descriptors, accept_guard.c pauses accepting
 * rather than spin), SIGTERM / SIGINT graceful stop (sessions in DATA may
 * finish within a grace period), SIGHUP profile reload for new sessions
 * (control.c, which also makes the profile workers take at accept);
 * with --proxy-protocol, a connection's header first (proxy_accept.c).
 * The main thread only handles signals; each worker thread runs its own
 * event base and owns its sessions outright.
 * Does not: speak SMTP, or read a connection's bytes (a session does;
 * before it, proxy_accept.c reads the PROXY header).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <malloc.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "accept_guard.h"
#include "control.h"
#include "listen_addr.h"
#include "log.h"
#include "profile.h"
#include "proxy_accept.h"
#include "reply.h"
#include "server.h"
#include "session.h"
#include "transcript.h"
#include "transcript_facts.h"

#define CLIENT_BUCKETS 4096

struct listener {
	struct worker *w;
	struct evconnlistener *l;
	bool tls; /* implicit TLS from the first byte */
	/* Bound to one address and port: every connection's local end, so
	 * accepting needs no getsockname(). */
	bool known_local;
	struct sockaddr_storage local;
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

/* The next three run with srv->lock held. */
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

/* A session's message got its 250. */
static void
server_accepted(void *owner)
{
	struct worker *w = owner;
	unsigned long long n = atomic_fetch_add(&w->srv->messages, 1) + 1;

	/* The 250 is queued right after this; the stop reaches the session
	 * later, on this thread, and ends it with the shutdown reply. */
	if (w->srv->stop_after != 0 && n == w->srv->stop_after)
		server_request_stop(w->srv);
}

static void
worker_maybe_done(struct worker *w)
{
	if (w->stopping && TAILQ_EMPTY(&w->sessions))
		event_base_loopexit(w->base, NULL);
}

/* A session is ending: free its slot now, so a peer that is slow to
 * close does not hold a place in the limits. */
static void
server_session_closing(struct session *s, void *owner)
{
	struct worker *w = owner;
	struct server *srv = w->srv;

	if (!s->counted)
		return;
	s->counted = false;
	atomic_fetch_sub(&srv->nsessions, 1);
	if (s->counted_client) {
		pthread_mutex_lock(&srv->lock);
		client_del(srv, s->client_ip);
		pthread_mutex_unlock(&srv->lock);
	}
}

/* A session ended. */
static void
server_session_gone(struct session *s, void *owner)
{
	struct worker *w = owner;

	server_session_closing(s, w);
	TAILQ_REMOVE(&w->sessions, s, entry);
	accept_guard_kick(w->guard); /* its descriptor is free now */
	worker_maybe_done(w);
}

/* The profile a new session gets: the server's latest (after SIGHUP or a
 * control change), counted against injected rules in the same lock. */
static struct profile *
worker_profile(struct worker *w)
{
	struct server *srv = w->srv;

	pthread_mutex_lock(&srv->lock);
	if (w->profile_gen != srv->profile_gen) {
		profile_unref(w->profile);
		w->profile = profile_ref(srv->profile);
		w->profile_gen = srv->profile_gen;
	}
	control_session_start(srv);
	pthread_mutex_unlock(&srv->lock);
	return w->profile;
}

/* A listening address that is every connection's local address too. */
static bool
listen_known_local(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		return a->sin_port != 0 && a->sin_addr.s_addr != INADDR_ANY;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		return a->sin6_port != 0 &&
		       !IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr);
	}
	return false;
}

/* A connection becomes a session from peer to local (the real client's,
 * with --proxy-protocol): or a refusal with the profile's 421 (over the
 * limits, or refuse given: no descriptor to spare). */
static void
server_session(struct worker *w, evutil_socket_t fd, const struct sockaddr *sa,
               const struct sockaddr *local, const struct session_proxy *proxy,
               bool tls, enum reply_id refuse)
{
	struct server *srv = w->srv;
	struct profile *p;
	unsigned max, per, port;
	char ip[INET6_ADDRSTRLEN] = "";
	struct session *s;
	bool counted_client = false;

	if (w->stopping) {
		evutil_closesocket(fd);
		return;
	}
	p = worker_profile(w);
	max = srv->cfg.max_sessions ? srv->cfg.max_sessions
	                            : p->limits.max_sessions;
	per = p->limits.max_sessions_per_client;
	tr_addr(sa, ip, sizeof(ip), &port);
	/* Counted before session_new: the session may end inside it. */
	if (atomic_fetch_add(&srv->nsessions, 1) >= max && max != 0 &&
	    refuse == REPLY_COUNT)
		refuse = REPLY_TOO_MANY_SESSIONS;
	if (per != 0) {
		pthread_mutex_lock(&srv->lock);
		if (client_add(srv, ip) > per && refuse == REPLY_COUNT)
			refuse = REPLY_TOO_MANY_FROM_CLIENT;
		pthread_mutex_unlock(&srv->lock);
		counted_client = true;
	}
	s = session_new(&w->env, p, fd, sa, local,
	                atomic_fetch_add(&srv->next_id, 1) + 1, refuse, tls,
	                counted_client, proxy);
	if (s == NULL) {
		atomic_fetch_sub(&srv->nsessions, 1);
		if (counted_client) {
			pthread_mutex_lock(&srv->lock);
			client_del(srv, ip);
			pthread_mutex_unlock(&srv->lock);
		}
		log_warnx("out of memory accepting a connection from %s", ip);
		return;
	}
	TAILQ_INSERT_TAIL(&w->sessions, s, entry);
}

/* The PROXY protocol header came (proxy_accept.c). */
static void
server_proxied(void *owner, evutil_socket_t fd, const struct sockaddr *peer,
               const struct sockaddr *local, const struct session_proxy *proxy,
               bool tls, enum reply_id refuse)
{
	server_session(owner, fd, peer, local, proxy, tls, refuse);
}

/* Connections waiting for their PROXY header hold a descriptor and a
 * buffer each: with them (every worker's) and the sessions at the limit,
 * the next connection is refused at once (the profile's 421, to the
 * balancer's address: no header was read). */
static bool
server_proxy_full(struct worker *w)
{
	unsigned max = w->srv->cfg.max_sessions
	                   ? w->srv->cfg.max_sessions
	                   : w->profile->limits.max_sessions;

	return max != 0 && atomic_load(&w->srv->nsessions) +
	                           atomic_load(&w->srv->nwaiting) >=
	                       max;
}

/* A new connection on lst: a session at once, or first its PROXY
 * protocol header (--proxy-protocol; the limits then count the client
 * the header names). */
static void
server_take(struct listener *lst, evutil_socket_t fd, struct sockaddr *sa,
            enum reply_id refuse)
{
	struct worker *w = lst->w;
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);

	if (w->stopping) {
		evutil_closesocket(fd);
		return;
	}
	if (lst->known_local)
		memcpy(&local, &lst->local, sizeof(local));
	else if (getsockname(fd, (struct sockaddr *)&local, &llen) == -1)
		memset(&local, 0, sizeof(local));
	if (w->proxy != NULL && refuse == REPLY_COUNT && server_proxy_full(w))
		refuse = REPLY_TOO_MANY_SESSIONS;
	/* A refusal does not wait for a header: it would hold the reserve
	 * descriptor (accept_guard.c) or a slot over the limit meanwhile. */
	if (w->proxy == NULL || refuse != REPLY_COUNT) {
		server_session(w, fd, sa, (struct sockaddr *)&local, NULL,
		               lst->tls, refuse);
		return;
	}
	if (proxy_accept_start(
	        w->proxy, fd, sa, (struct sockaddr *)&local, lst->tls, refuse,
	        w->profile->limits.idle_timeout_ms, w->profile->name) == -1)
		log_warnx("out of memory accepting a connection");
}

static void
server_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
              int salen, void *arg)
{
	server_take(arg, fd, sa, REPLY_COUNT);
}

/* EMFILE and friends: keep serving the sessions we have, without retrying
 * at once on a listener that stays readable (accept_guard.c). */
static void
server_accept_error(struct evconnlistener *l, void *arg)
{
	struct listener *lst = arg;

	accept_guard_error(lst->w->guard, evconnlistener_get_fd(l),
	                   EVUTIL_SOCKET_ERROR(), lst);
}

/* The one connection the guard's reserve descriptor made room for. */
static void
server_accept_refuse(void *larg, evutil_socket_t fd, struct sockaddr *sa,
                     int salen)
{
	server_take(larg, fd, sa, REPLY_TOO_MANY_SESSIONS);
}

/* The guard pauses and resumes all of a worker's listeners. */
static void
worker_listen(void *owner, bool on)
{
	struct worker *w = owner;

	for (size_t i = 0; i < w->nlisteners; i++)
		if (on)
			evconnlistener_enable(w->listeners[i]->l);
		else
			evconnlistener_disable(w->listeners[i]->l);
}

static void
listener_free(struct listener *lst)
{
	evconnlistener_free(lst->l);
	free(lst);
}

/* server_check_listen - parse one --listen value for profile p */
int
server_check_listen(const struct profile *p, const char *spec,
                    struct listen_addr *la, char *err, size_t errlen)
{
	if (listen_addr_parse(spec, la, err, errlen) == -1)
		return -1;
	if (la->tls && p->tls_policy == NULL) {
		snprintf(err, errlen,
		         "--listen %s: profile %s has no tls: section, so it "
		         "cannot serve implicit TLS",
		         spec, p->name);
		return -1;
	}
	return 0;
}

/* Bind ss on every worker. A port-0 address gets its port from the
 * kernel at the first bind; the other workers share that port. */
static int
listen_on_workers(struct server *srv, struct sockaddr_storage *ss,
                  socklen_t len, bool tls)
{
	unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
	                 LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT;

	/* [::]:25 and 0.0.0.0:25 can then both be listened on. */
	if (ss->ss_family == AF_INET6)
		flags |= LEV_OPT_BIND_IPV6ONLY;
	for (size_t i = 0; i < srv->nworkers; i++) {
		struct worker *w = srv->workers[i];
		struct listener *lst, **ls;

		if ((lst = calloc(1, sizeof(*lst))) == NULL ||
		    (ls = realloc(w->listeners,
		                  (w->nlisteners + 1) * sizeof(*ls))) == NULL) {
			free(lst);
			errno = ENOMEM;
			return -1;
		}
		w->listeners = ls;
		lst->w = w;
		lst->tls = tls;
		lst->l = evconnlistener_new_bind(
		    w->base, server_accept, lst, flags, 1024,
		    (struct sockaddr *)ss, (int)len);
		if (lst->l == NULL) {
			int e = errno;
			free(lst);
			errno = e;
			return -1;
		}
		if (listen_addr_port(ss) == 0) {
			struct sockaddr_storage got;
			socklen_t glen = sizeof(got);
			if (getsockname(evconnlistener_get_fd(lst->l),
			                (struct sockaddr *)&got, &glen) == -1) {
				int e = errno;
				evconnlistener_free(lst->l);
				free(lst);
				errno = e;
				return -1;
			}
			listen_addr_set_port(ss, listen_addr_port(&got));
		}
		evconnlistener_set_error_cb(lst->l, server_accept_error);
		lst->known_local = listen_known_local(ss);
		lst->local = *ss;
		w->listeners[w->nlisteners++] = lst;
	}
	return 0;
}

/* server_listen - bind one "[ADDR:]PORT[/tls]", once per worker */
int
server_listen(struct server *srv, const char *spec, char *err, size_t errlen)
{
	struct listen_addr la;
	size_t before = srv->workers[0]->nlisteners, bound = 0;
	unsigned port;

	if (server_check_listen(srv->profile, spec, &la, err, errlen) == -1)
		return -1;
	port = listen_addr_port(&la.ss[0]);
	for (size_t a = 0; a < la.n; a++) {
		struct sockaddr_storage *ss = &la.ss[a];
		int e;

		/* localhost:0 is one port on each of its addresses. */
		listen_addr_set_port(ss, port);
		/* SO_REUSEPORT would let us share a port with another server
		 * run by the same user: make sure nobody else has it first.
		 * (A port the kernel picks is never one in use.) */
		if (port != 0 && listen_addr_probe(ss, la.len[a]) == -1)
			e = errno;
		else if (listen_on_workers(srv, ss, la.len[a], la.tls) == -1)
			e = errno;
		else {
			port = listen_addr_port(ss);
			bound++;
			continue;
		}
		/* localhost names ::1, but this host has no IPv6: the other
		 * family serves alone. */
		if (la.resolved && (e == EADDRNOTAVAIL || e == EAFNOSUPPORT) &&
		    srv->workers[0]->nlisteners == before + bound) {
			char addr[64];
			listen_addr_format(ss, false, addr, sizeof(addr));
			log_warnx("--listen %s: skipping %s: %s", spec, addr,
			          strerror(e));
			continue;
		}
		listen_addr_bind_error(spec, e, err, errlen);
		goto fail;
	}
	if (bound > 0) {
		srv->tls_listener |= la.tls;
		return 0;
	}
	snprintf(err, errlen, "--listen %s: cannot bind any address it names",
	         spec);
fail:
	/* Nothing of this flag stays half bound. */
	for (size_t i = 0; i < srv->nworkers; i++) {
		struct worker *w = srv->workers[i];
		while (w->nlisteners > before)
			listener_free(w->listeners[--w->nlisteners]);
	}
	return -1;
}

/* server_bound - how many addresses are bound (each once per worker) */
size_t
server_bound(const struct server *srv)
{
	return srv->nworkers > 0 ? srv->workers[0]->nlisteners : 0;
}

/* server_bound_name - the i-th bound address, "ADDR:PORT[/tls]" */
void
server_bound_name(const struct server *srv, size_t i, char *buf, size_t len)
{
	const struct listener *lst = srv->workers[0]->listeners[i];
	char addr[64];

	listen_addr_format(&lst->local, true, addr, sizeof(addr));
	snprintf(buf, len, "%s%s", addr, lst->tls ? "/tls" : "");
}

/* Stopping because stop_after messages came (not for a signal)? */
static bool
after_enough(struct server *srv)
{
	return srv->stop_after != 0 &&
	       atomic_load(&srv->messages) >= srv->stop_after;
}

static void
worker_grace_over(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct session *s, *next;

	/* Those still in DATA hear why before the FIN (RFC 5321 3.8: a
	 * server that must close sends 421 first), like the ones that had
	 * finished in time; the message is not accepted. */
	TAILQ_FOREACH_SAFE(s, &w->sessions, entry, next) {
		if ((s->shutting_down || after_enough(w->srv)) &&
		    s->state != STATE_CLOSING)
			reply_send(s, REPLY_SHUTDOWN);
		session_close(s, CLOSE_FIN, "shutdown grace period over");
	}
	/* Closing sessions drain for a moment; do not wait for them. */
	struct timeval tv = {1, 0};
	event_base_loopexit(w->base, &tv);
}

/* In the worker's thread: stop accepting, let DATA sessions finish. */
static void
worker_wake(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct server *srv = w->srv;
	struct session *s, *next;
	struct timeval tv = {srv->cfg.grace_ms / 1000,
	                     (srv->cfg.grace_ms % 1000) * 1000};

	if (w->stopping || !atomic_load(&srv->stopping))
		return;
	w->stopping = true;
	accept_guard_stop(w->guard);
	proxy_accept_clear(w->proxy, "server shutting down");
	for (size_t i = 0; i < w->nlisteners; i++)
		listener_free(w->listeners[i]);
	w->nlisteners = 0;
	/* Nobody hears "shutting down" while another worker still accepts:
	 * wait until every worker has closed its listening sockets. */
	pthread_barrier_wait(&srv->stop_barrier);
	/* After stop_after messages, sessions may end by themselves (the
	 * client's QUIT) within the grace period. */
	if (!after_enough(srv))
		TAILQ_FOREACH_SAFE(s, &w->sessions, entry, next)
			session_shutdown(s);
	evtimer_add(w->grace_timer, &tv);
	worker_maybe_done(w);
}

/* Give memory freed after a burst of sessions back to the system: each
 * worker thread has its own malloc arena, which glibc keeps otherwise. */
static void
worker_trim(evutil_socket_t fd, short what, void *arg)
{
	malloc_trim(0);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct server *srv = w->srv;
	struct timeval every = {10, 0};
	struct event *trim = event_new(w->base, -1, EV_PERSIST, worker_trim, w);

	if (trim != NULL)
		event_add(trim, &every);
	event_base_dispatch(w->base);
	if (trim != NULL)
		event_free(trim);
	/* Tell the main thread; the last one out ends it. */
	atomic_fetch_sub(&srv->running, 1);
	event_active(srv->worker_done, EV_TIMEOUT, 0);
	return NULL;
}

static void
server_worker_done(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	if (atomic_load(&srv->running) == 0)
		event_base_loopexit(srv->base, NULL);
}

static void
server_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;

	if (sig == SIGHUP)
		control_reload(srv);
	else
		server_stop(srv);
}

static struct worker *
worker_new(struct server *srv, unsigned index)
{
	struct worker *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->srv = srv;
	w->index = index;
	w->env = (struct session_env){
	    .spool = srv->spool,
	    .store = srv->cfg.store,
	    .seed = srv->cfg.seed,
	    .via = srv->cfg.via,
	    .nvia = srv->cfg.nvia,
	    .no_profile_via = srv->cfg.no_profile_via,
	    .owner = w,
	    .closing = server_session_closing,
	    .gone = server_session_gone,
	    .accepted = server_accepted,
	};
	w->profile = profile_ref(srv->profile);
	w->profile_gen = srv->profile_gen;
	TAILQ_INIT(&w->sessions);
	w->base = event_base_new();
	w->env.base = w->base;
	if (w->base != NULL) {
		w->wake = event_new(w->base, -1, 0, worker_wake, w);
		w->grace_timer = evtimer_new(w->base, worker_grace_over, w);
		w->guard = accept_guard_new(w->base, worker_listen,
		                            server_accept_refuse, w);
		if (srv->cfg.proxy_protocol != 0)
			w->proxy = proxy_accept_new(
			    w->base, srv->cfg.proxy_protocol, &srv->next_id,
			    &srv->nwaiting, server_proxied, w);
	}
	return w;
}

static void
worker_free(struct worker *w)
{
	if (w == NULL)
		return;
	while (!TAILQ_EMPTY(&w->sessions))
		session_abandon(TAILQ_FIRST(&w->sessions));
	proxy_accept_free(w->proxy);
	for (size_t i = 0; i < w->nlisteners; i++)
		listener_free(w->listeners[i]);
	free(w->listeners);
	if (w->wake)
		event_free(w->wake);
	if (w->grace_timer)
		event_free(w->grace_timer);
	accept_guard_free(w->guard);
	if (w->base)
		event_base_free(w->base);
	profile_unref(w->profile);
	free(w);
}

/* Buffered JSON transcript lines reach the file within 100 ms. */
static void
server_tr_flush(evutil_socket_t fd, short what, void *arg)
{
	transcript_flush();
}

/* server_new - a server with its profile, spool and worker loops */
struct server *
server_new(struct event_base *base, const struct server_config *cfg,
           struct profile *profile, struct spool *spool)
{
	struct server *srv;
	unsigned n = cfg->workers ? cfg->workers : 1;
	struct timeval tr_every = {0, 100000};

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return NULL;
	srv->base = base;
	srv->cfg = *cfg;
	srv->profile = profile;
	srv->ctl = control_new(profile);
	srv->spool = spool;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_barrier_init(&srv->stop_barrier, NULL, n);
	srv->clients = calloc(CLIENT_BUCKETS, sizeof(*srv->clients));
	srv->workers = calloc(n, sizeof(*srv->workers));
	srv->sig_term = evsignal_new(base, SIGTERM, server_signal, srv);
	srv->sig_int = evsignal_new(base, SIGINT, server_signal, srv);
	srv->sig_hup = evsignal_new(base, SIGHUP, server_signal, srv);
	srv->worker_done = event_new(base, -1, 0, server_worker_done, srv);
	srv->tr_flush = event_new(base, -1, EV_PERSIST, server_tr_flush, srv);
	if (srv->ctl == NULL || srv->clients == NULL || srv->workers == NULL ||
	    srv->sig_term == NULL || srv->sig_int == NULL ||
	    srv->sig_hup == NULL || srv->worker_done == NULL ||
	    srv->tr_flush == NULL) {
		server_free(srv);
		return NULL;
	}
	for (unsigned i = 0; i < n; i++) {
		struct worker *w = worker_new(srv, i);
		if (w == NULL || w->base == NULL || w->wake == NULL ||
		    w->grace_timer == NULL || w->guard == NULL ||
		    (srv->cfg.proxy_protocol != 0 && w->proxy == NULL)) {
			worker_free(w);
			server_free(srv);
			return NULL;
		}
		srv->workers[srv->nworkers++] = w;
	}
	evsignal_add(srv->sig_term, NULL);
	evsignal_add(srv->sig_int, NULL);
	evsignal_add(srv->sig_hup, NULL);
	event_add(srv->tr_flush, &tr_every);
	return srv;
}

/* server_run - serve until stopped; returns the exit status */
int
server_run(struct server *srv)
{
	size_t started = 0;
	int status = 0;

	atomic_store(&srv->running, (unsigned)srv->nworkers);
	for (; started < srv->nworkers; started++) {
		struct worker *w = srv->workers[started];
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			log_warnx("cannot start worker %zu", started);
			atomic_fetch_sub(&srv->running,
			                 (unsigned)(srv->nworkers - started));
			atomic_store(&srv->stopping, true);
			for (size_t i = 0; i < started; i++)
				event_base_loopbreak(srv->workers[i]->base);
			status = 1;
			break;
		}
	}
	if (status == 0 && event_base_dispatch(srv->base) == -1)
		status = 1;
	for (size_t i = 0; i < started; i++)
		pthread_join(srv->workers[i]->thread, NULL);
	log_info("stopped; %llu message(s) accepted",
	         (unsigned long long)atomic_load(&srv->messages));
	return status;
}

/* server_free - release everything (sessions left are abandoned) */
void
server_free(struct server *srv)
{
	if (srv == NULL)
		return;
	for (size_t i = 0; i < srv->nworkers; i++)
		worker_free(srv->workers[i]);
	free(srv->workers);
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
	if (srv->worker_done)
		event_free(srv->worker_done);
	if (srv->tr_flush)
		event_free(srv->tr_flush);
	if (srv->profile)
		profile_unref(srv->profile);
	control_free(srv->ctl);
	pthread_mutex_destroy(&srv->lock);
	pthread_barrier_destroy(&srv->stop_barrier);
	free(srv);
}
