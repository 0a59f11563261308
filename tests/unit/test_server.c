/*
 * test_server.c - server.c: workers made by server_new, server_listen's
 * parsing, binding (port 0: one port for all workers) and one-line errors,
 * accepting on the workers' loops (sessions counted, the total and per-client
 * limits refused with the profile's 421), server_prepare_tls, a SIGTERM stop
 * through server_run, and server_free releasing everything (run under
 * ASan/LeakSanitizer).
 *
 * The worker loops are run from the test thread (EVLOOP_NONBLOCK) except
 * in the server_run test, which runs the real threads.
 * Fixtures: profiles/engine/server_*.yaml.
 * Not here: what sessions say (test_session.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "profile.h"
#include "server.h"
#include "session.h"
#include "spool.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define WAIT_MS  3000

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct profile *
load(const char *path)
{
	char err[512];
	struct profile *p = profile_load(path, NULL, 0, err, sizeof(err));

	if (p == NULL)
		fail_msg("%s: %s", path, err);
	return p;
}

struct fx {
	struct event_base *base;
	struct spool *spool;
	struct server *srv;
	struct profile *p; /* owned by srv once server_new took it */
};

/* A server on a fresh base with `workers` loops; the profile goes to it. */
static void
fx_open(struct fx *fx, const char *profile, unsigned workers,
        unsigned max_sessions)
{
	char err[256];
	struct server_config cfg = {
	    .profile_name = profile,
	    .seed = 1,
	    .grace_ms = 500,
	    .workers = workers,
	    .max_sessions = max_sessions,
	};

	memset(fx, 0, sizeof(*fx));
	fx->base = event_base_new();
	assert_non_null(fx->base);
	fx->spool = spool_open("none", err, sizeof(err));
	assert_non_null(fx->spool);
	fx->p = load(profile);
	fx->srv = server_new(fx->base, &cfg, fx->p, fx->spool);
	assert_non_null(fx->srv);
}

static void
fx_close(struct fx *fx)
{
	server_free(fx->srv); /* also drops the server's profile reference */
	spool_close(fx->spool);
	event_base_free(fx->base);
}

/* A port nobody listens on now (bound, then closed). */
static unsigned
free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* A plain listening socket (no SO_REUSEPORT) on 127.0.0.1:*port. */
static int
plain_listener(unsigned *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void
test_new_and_free(void **state)
{
	struct fx fx;

	fx_open(&fx, "profiles/engine/server_plain.yaml", 2, 0);
	assert_int_equal(fx.srv->nworkers, 2);
	assert_ptr_equal(fx.srv->profile, fx.p);
	assert_ptr_equal(fx.srv->spool, fx.spool);
	assert_ptr_equal(fx.srv->base, fx.base);
	for (size_t i = 0; i < fx.srv->nworkers; i++) {
		struct worker *w = fx.srv->workers[i];
		assert_ptr_equal(w->srv, fx.srv);
		assert_int_equal(w->index, i);
		assert_non_null(w->base);
		assert_ptr_not_equal(w->base, fx.base);
		assert_ptr_equal(w->profile, fx.p);
		assert_int_equal(w->nlisteners, 0);
		assert_true(TAILQ_EMPTY(&w->sessions));
	}
	assert_ptr_not_equal(fx.srv->workers[0]->base,
	                     fx.srv->workers[1]->base);
	/* loaded (1) + one per worker + control.c's start and base; the
	 * server's own is the loaded one */
	assert_int_equal(atomic_load(&fx.p->refs), 5);
	profile_ref(fx.p);
	fx_close(&fx);
	assert_int_equal(atomic_load(&fx.p->refs), 1);
	profile_unref(fx.p);
	server_free(NULL);
}

struct listen_case {
	const char *label;
	const char *spec; /* %u: a port (taken or free, see below) */
	bool taken;       /* the port has a plain listener on it */
	const char *want; /* %s: the spec as given */
};

static void
test_listen_errors(void **state)
{
	static const struct listen_case cases[] = {
	    {"not an address", "nope", false,
	     "--listen %s: not an address (use PORT, ADDR:PORT or "
	     "[IPV6]:PORT, e.g. 127.0.0.1:2525, with /tls for implicit TLS)"},
	    {"port out of range", "127.0.0.1:65536", false,
	     "--listen %s: bad port \"65536\" (a number from 0 to 65535; 0 "
	     "lets the kernel pick one)"},
	    {"junk after the port", "127.0.0.1:2525junk", false,
	     "--listen %s: bad port \"2525junk\" (a number from 0 to 65535; "
	     "0 lets the kernel pick one)"},
	    {"a host name", "mx.example:25", false,
	     "--listen %s: not an address: \"mx.example\" is not an IPv4 "
	     "address, an [IPv6] address or localhost (other host names are "
	     "not looked up)"},
	    {"empty", "", false,
	     "--listen %s: not an address (use PORT, ADDR:PORT or "
	     "[IPV6]:PORT, e.g. 127.0.0.1:2525, with /tls for implicit TLS)"},
	    {"unknown suffix", "2525/ssl", false,
	     "--listen %s: unknown suffix \"/ssl\" (the only one is /tls, "
	     "for implicit TLS)"},
	    {"suffix without a port", "/tls", false,
	     "--listen %s: not an address (use PORT, ADDR:PORT or "
	     "[IPV6]:PORT, e.g. 127.0.0.1:2525, with /tls for implicit TLS)"},
	    {"port taken", "127.0.0.1:%u", true,
	     "--listen %s: cannot bind: Address already in use (another "
	     "server has this port; pick another with --listen)"},
	    {"bare port taken", "%u", true,
	     "--listen %s: cannot bind: Address already in use (another "
	     "server has this port; pick another with --listen)"},
	    {"implicit TLS without tls:", "127.0.0.1:%u/tls", false,
	     "--listen %s: profile server-plain has no tls: section, so it "
	     "cannot serve implicit TLS"},
	};
	struct fx fx;
	unsigned taken;
	int lfd = plain_listener(&taken);

	fx_open(&fx, "profiles/engine/server_plain.yaml", 2, 0);
	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct listen_case *c = &cases[i];
		char spec[64], want[512], err[512] = "";

		snprintf(spec, sizeof(spec), c->spec,
		         c->taken ? taken : free_port());
		snprintf(want, sizeof(want), c->want, spec);
		if (server_listen(fx.srv, spec, err, sizeof(err)) != -1)
			fail_msg("%s: \"%s\" was accepted", c->label, spec);
		if (strcmp(err, want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", c->label, err,
			         want);
		for (size_t k = 0; k < fx.srv->nworkers; k++)
			assert_int_equal(fx.srv->workers[k]->nlisteners, 0);
	}
	close(lfd);
	fx_close(&fx);
}

/* Run every worker's loop once. */
static void
run_workers(struct server *srv)
{
	for (size_t i = 0; i < srv->nworkers; i++)
		event_base_loop(srv->workers[i]->base, EVLOOP_NONBLOCK);
}

static size_t
nsessions_listed(struct server *srv)
{
	size_t n = 0;

	for (size_t i = 0; i < srv->nworkers; i++) {
		struct session *s;
		TAILQ_FOREACH(s, &srv->workers[i]->sessions, entry)
			n++;
	}
	return n;
}

static int
client_connect(unsigned port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/*
 * Read until want arrived (and, with eof, the close), running the worker
 * loops; compare exactly.
 */
static void
expect(struct server *srv, int fd, const char *label, const char *want,
       bool eof)
{
	char got[512];
	size_t n = 0, wlen = strlen(want);
	bool closed = false;
	long end = now_ms() + WAIT_MS;

	while (now_ms() < end && !closed && (n < wlen || eof)) {
		ssize_t r;

		run_workers(srv);
		r = recv(fd, got + n, sizeof(got) - 1 - n, MSG_DONTWAIT);
		if (r > 0)
			n += (size_t)r;
		else if (r == 0)
			closed = true;
		else
			usleep(500);
	}
	got[n] = '\0';
	if (strcmp(got, want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", label, got, want);
	if (closed != eof)
		fail_msg("%s: got %s, want %s", label,
		         closed ? "EOF" : "no EOF", eof ? "EOF" : "no EOF");
}

static void
wait_no_sessions(struct server *srv)
{
	long end = now_ms() + WAIT_MS;

	while (nsessions_listed(srv) != 0 && now_ms() < end) {
		run_workers(srv);
		usleep(500);
	}
	assert_int_equal(nsessions_listed(srv), 0);
	assert_int_equal(atomic_load(&srv->nsessions), 0);
}

#define GREETING "220 mx.unit.test server test\r\n"

/* A good listen binds once per worker; accepts count sessions and refuse
 * the third from one address (max_sessions_per_client 2). */
static void
test_listen_and_accept(void **state)
{
	struct fx fx;
	char err[256] = "", spec[64];
	unsigned port = free_port();
	int c[3];

	fx_open(&fx, "profiles/engine/server_plain.yaml", 2, 0);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", port);
	if (server_listen(fx.srv, spec, err, sizeof(err)) != 0)
		fail_msg("%s: %s", spec, err);
	for (size_t i = 0; i < fx.srv->nworkers; i++)
		assert_int_equal(fx.srv->workers[i]->nlisteners, 1);
	/* the same address again: our own SO_REUSEPORT sockets hold it */
	assert_int_equal(server_listen(fx.srv, spec, err, sizeof(err)), -1);

	c[0] = client_connect(port);
	expect(fx.srv, c[0], "first session", GREETING, false);
	c[1] = client_connect(port);
	expect(fx.srv, c[1], "second session", GREETING, false);
	assert_int_equal(nsessions_listed(fx.srv), 2);
	assert_int_equal(atomic_load(&fx.srv->nsessions), 2);
	assert_int_equal(atomic_load(&fx.srv->next_id), 2);
	c[2] = client_connect(port);
	expect(fx.srv, c[2], "third from 127.0.0.1",
	       "421 too_many_from_client 127.0.0.1\r\n", true);
	/* the refused one gave its place back as it started closing */
	assert_int_equal(atomic_load(&fx.srv->nsessions), 2);
	close(c[2]);
	close(c[0]);
	/* its place is free again: a new client gets in */
	{
		long end = now_ms() + WAIT_MS;
		while (atomic_load(&fx.srv->nsessions) != 1 && now_ms() < end)
			run_workers(fx.srv), usleep(500);
		assert_int_equal(atomic_load(&fx.srv->nsessions), 1);
	}
	c[0] = client_connect(port);
	expect(fx.srv, c[0], "after one left", GREETING, false);
	close(c[0]);
	close(c[1]);
	wait_no_sessions(fx.srv);
	fx_close(&fx);
}

/* Listening sockets of this process on 127.0.0.1:port. */
static unsigned
listening_on(unsigned port)
{
	unsigned n = 0;

	for (int fd = 0; fd < 4096; fd++) {
		struct sockaddr_in sa;
		socklen_t len = sizeof(sa);
		int on = 0;
		socklen_t olen = sizeof(on);

		if (getsockname(fd, (struct sockaddr *)&sa, &len) == -1 ||
		    sa.sin_family != AF_INET || ntohs(sa.sin_port) != port)
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &olen) ==
		        0 &&
		    on)
			n++;
	}
	return n;
}

/* Port 0: the kernel picks one port at the first worker's bind, the other
 * workers share it, and server_bound_name() reports it. */
static void
test_listen_port_zero(void **state)
{
	static const char *specs[] = {"127.0.0.1:0", "0"};

	for (size_t i = 0; i < NELEM(specs); i++) {
		struct fx fx;
		char err[256] = "", name[64], want[64];
		unsigned port;
		int c;

		fx_open(&fx, "profiles/engine/server_plain.yaml", 3, 0);
		if (server_listen(fx.srv, specs[i], err, sizeof(err)) != 0)
			fail_msg("%s: %s", specs[i], err);
		assert_int_equal(server_bound(fx.srv), 1);
		server_bound_name(fx.srv, 0, name, sizeof(name));
		if (sscanf(name, "127.0.0.1:%u", &port) != 1 || port == 0)
			fail_msg("%s: bound as \"%s\"", specs[i], name);
		snprintf(want, sizeof(want), "127.0.0.1:%u", port);
		assert_string_equal(name, want);
		for (size_t k = 0; k < fx.srv->nworkers; k++)
			assert_int_equal(fx.srv->workers[k]->nlisteners, 1);
		assert_int_equal(listening_on(port), fx.srv->nworkers);
		c = client_connect(port);
		expect(fx.srv, c, specs[i], GREETING, false);
		close(c);
		fx_close(&fx);
	}
}

/* --max-sessions (cfg.max_sessions) over the profile's limit */
static void
test_max_sessions(void **state)
{
	struct fx fx;
	char err[256] = "", spec[64];
	unsigned port = free_port();
	int a, b;

	fx_open(&fx, "profiles/engine/server_plain.yaml", 2, 1);
	snprintf(spec, sizeof(spec), "%u", port); /* bare PORT: 127.0.0.1 */
	if (server_listen(fx.srv, spec, err, sizeof(err)) != 0)
		fail_msg("%s: %s", spec, err);
	a = client_connect(port);
	expect(fx.srv, a, "first", GREETING, false);
	b = client_connect(port);
	expect(fx.srv, b, "second", "421 too_many_sessions\r\n", true);
	close(b);
	close(a);
	wait_no_sessions(fx.srv);
	fx_close(&fx);
}

static void
test_prepare_tls(void **state)
{
	struct fx fx;
	struct profile *p = load("profiles/engine/server_plain.yaml");
	struct profile *t = load("profiles/engine/server_tls.yaml");
	char err[256] = "untouched", spec[64];
	void *policy;

	/* no tls: section: nothing to do */
	assert_int_equal(server_prepare_tls(p, NULL, NULL, err, sizeof(err)),
	                 0);
	assert_null(p->tls_policy);
	assert_string_equal(err, "untouched");
	/* ... unless --cert/--key were given: nothing would serve them */
	assert_int_equal(server_prepare_tls(p, "/some/cert.pem",
	                                    "/some/key.pem", err, sizeof(err)),
	                 -1);
	assert_null(p->tls_policy);
	snprintf(spec, sizeof(spec), "profile %s has no tls: section", p->name);
	if (strncmp(err, "--cert/--key given, but ", 24) != 0 ||
	    strstr(err, spec) == NULL)
		fail_msg("cert without tls: got \"%s\"", err);
	profile_unref(p);

	/* a tls: section: an SSL_CTX, once */
	assert_int_equal(server_prepare_tls(t, NULL, NULL, err, sizeof(err)),
	                 0);
	assert_non_null(t->tls_policy);
	policy = t->tls_policy;
	assert_int_equal(server_prepare_tls(t, NULL, NULL, err, sizeof(err)),
	                 0);
	assert_ptr_equal(t->tls_policy, policy);
	profile_unref(t);

	/* a bad --cert/--key is the flag's fault */
	t = load("profiles/engine/server_tls.yaml");
	assert_int_equal(server_prepare_tls(t, "/nonexistent/cert.pem",
	                                    "/nonexistent/key.pem", err,
	                                    sizeof(err)),
	                 -1);
	{
		static const char want[] = "--cert /nonexistent/cert.pem: ";
		if (strncmp(err, want, sizeof(want) - 1) != 0)
			fail_msg("bad cert: got \"%s\", want \"%s...\"", err,
			         want);
	}
	assert_null(t->tls_policy);
	profile_unref(t);

	/* "/tls" listens once the profile has its SSL_CTX */
	fx_open(&fx, "profiles/engine/server_tls.yaml", 2, 0);
	assert_int_equal(server_prepare_tls(fx.p, NULL, NULL, err, sizeof(err)),
	                 0);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u/tls", free_port());
	if (server_listen(fx.srv, spec, err, sizeof(err)) != 0)
		fail_msg("%s: %s", spec, err);
	for (size_t i = 0; i < fx.srv->nworkers; i++)
		assert_int_equal(fx.srv->workers[i]->nlisteners, 1);
	fx_close(&fx);
}

struct run_arg {
	struct server *srv;
	int status;
};

static void *
run_thread(void *arg)
{
	struct run_arg *r = arg;

	r->status = server_run(r->srv);
	return NULL;
}

/* A blocking read of exactly want (then EOF if eof), with a timeout. */
static void
read_exact(int fd, const char *label, const char *want, bool eof)
{
	struct timeval tv = {WAIT_MS / 1000, 0};
	char got[512];
	size_t n = 0, wlen = strlen(want);
	ssize_t r = -1;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (n < wlen && (r = recv(fd, got + n, wlen - n, 0)) > 0)
		n += (size_t)r;
	got[n] = '\0';
	if (strcmp(got, want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", label, got, want);
	if (eof) {
		r = recv(fd, got, sizeof(got), 0);
		if (r != 0)
			fail_msg("%s: recv %zd (%s), want EOF", label, r,
			         r < 0 ? strerror(errno) : "more bytes");
	}
}

/* server_run with real threads; SIGTERM: an idle session gets the 421,
 * the workers end, server_run returns 0. */
static void
test_run_and_stop(void **state)
{
	struct fx fx;
	struct run_arg r = {0};
	pthread_t th;
	char err[256] = "", spec[64];
	unsigned port = free_port();
	int c;

	fx_open(&fx, "profiles/engine/server_plain.yaml", 2, 0);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", port);
	if (server_listen(fx.srv, spec, err, sizeof(err)) != 0)
		fail_msg("%s: %s", spec, err);
	r.srv = fx.srv;
	assert_int_equal(pthread_create(&th, NULL, run_thread, &r), 0);
	c = client_connect(port);
	read_exact(c, "greeting", GREETING, false);
	assert_int_equal(kill(getpid(), SIGTERM), 0);
	read_exact(c, "after SIGTERM", "421 shutdown\r\n", true);
	close(c);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(r.status, 0);
	assert_true(atomic_load(&fx.srv->stopping));
	assert_int_equal(nsessions_listed(fx.srv), 0);
	fx_close(&fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_and_free),
	    cmocka_unit_test(test_listen_errors),
	    cmocka_unit_test(test_listen_and_accept),
	    cmocka_unit_test(test_listen_port_zero),
	    cmocka_unit_test(test_max_sessions),
	    cmocka_unit_test(test_prepare_tls),
	    cmocka_unit_test(test_run_and_stop),
	};

	/* as main.c: the main thread pokes the workers' bases */
	if (evthread_use_pthreads() == -1)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
