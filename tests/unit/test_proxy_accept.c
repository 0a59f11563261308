/*
 * test_proxy_accept.c - proxy_accept.c: connections waiting for their
 * PROXY protocol header, over a socketpair (the addresses handed to
 * proxy_accept_start are made up: 127.0.0.1:40000 -> 127.0.0.1:2525).
 *
 * A v1 and a v2 header, whole with the client's EHLO behind it and
 * trickled one byte at a time: the connection is handed on once, when the
 * last header byte arrives, with the header's addresses, the socket's
 * peer as the balancer, tls and refuse passed through, and exactly the
 * header's bytes taken off the socket. A v2 LOCAL header keeps the
 * socket's addresses. Garbage, a header for a version the mask leaves
 * out, a v2 length past PROXY_ACCEPT_CAP, EOF mid-header, the idle
 * timeout, proxy_accept_clear and proxy_accept_free each end the
 * connection: no hand-on, a warning naming the socket's peer (none when
 * the server stops), a connect and a close event numbered from next_id
 * in the JSON transcript, and a FIN (read returns 0, not ECONNRESET).
 *
 * Not here: the parser's cases (test_proxy_proto.c), what server.c does
 * with the connection (tests/blackbox/proxy).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
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
#include <event2/util.h>
#include <jansson.h>

#include "log.h"
#include "proxy_accept.h"
#include "proxy_proto.h"
#include "transcript.h"
#include "transcript_util.h"

#define NELEM(a)   (sizeof(a) / sizeof((a)[0]))
#define B(s)       s, sizeof(s) - 1
#define FIRST_ID   41ul /* next_id before: a failure's events are 42 */
#define PROFILE    "standard"
#define REFUSE     REPLY_TOO_MANY_SESSIONS /* any but the first */
#define MAX_EVENTS 8

/* The v2 signature, as a string literal (it holds a NUL). */
#define SIG "\r\n\r\n\0\r\nQUIT\n"
/* v2 PROXY, TCP over IPv4, 12 bytes of addresses: 203.0.113.9:61000 ->
 * 192.0.2.25:587 */
#define V2_TCP4                                                                \
	SIG "\x21\x11\x00\x0c"                                                 \
	    "\xcb\x00\x71\x09"                                                 \
	    "\xc0\x00\x02\x19"                                                 \
	    "\xee\x48"                                                         \
	    "\x02\x4b"
#define V1_TCP4 "PROXY TCP4 192.0.2.1 198.51.100.2 51000 25\r\n"

/* What the done callback was given. */
struct done_rec {
	int calls;
	evutil_socket_t fd;
	struct sockaddr_storage peer, local;
	struct session_proxy proxy;
	bool tls;
	enum reply_id refuse;
};

struct fx {
	int sv[2]; /* sv[0] the client's (blocking), sv[1] proxy_accept's */
	struct event_base *base;
	struct proxy_accept *pa;
	atomic_ulong next_id;
	atomic_uint waiting;
	struct done_rec rec;
	char path[256]; /* the JSON transcript */
	int log_fd;     /* stderr while the loop runs */
	bool tls;
};

static void
done_cb(void *owner, evutil_socket_t fd, const struct sockaddr *peer,
        const struct sockaddr *local, const struct session_proxy *proxy,
        bool tls, enum reply_id refuse)
{
	struct done_rec *r = owner;
	size_t plen = peer->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                          : sizeof(struct sockaddr_in);
	size_t llen = local->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                           : sizeof(struct sockaddr_in);

	r->calls++;
	r->fd = fd;
	memset(&r->peer, 0, sizeof(r->peer));
	memset(&r->local, 0, sizeof(r->local));
	memcpy(&r->peer, peer, plen);
	memcpy(&r->local, local, llen);
	r->proxy = *proxy;
	r->tls = tls;
	r->refuse = refuse;
}

static void
set_sin(struct sockaddr_in *sin, const char *ip, unsigned port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((in_port_t)port);
	assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
}

/* A socketpair, a base, a quiet log, a JSON transcript, proxy_accept
 * for the versions in mask. */
static void
fx_open(struct fx *fx, unsigned mask)
{
	char err[256], logpath[] = "/tmp/test_proxy_accept.XXXXXX";

	memset(fx, 0, sizeof(*fx));
	fx->rec.fd = -1;
	fx->tls = true;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fx->sv), 0);
	assert_int_equal(evutil_make_socket_nonblocking(fx->sv[1]), 0);
	fx->base = event_base_new();
	assert_non_null(fx->base);
	unsetenv("JOURNAL_STREAM"); /* plain log lines, no <4> prefix */
	log_init(false, true);
	temp_path(fx->path, sizeof(fx->path));
	if (transcript_open(false, false, fx->path, err, sizeof(err)) != 0)
		fail_msg("transcript_open %s: %s", fx->path, err);
	fx->log_fd = mkstemp(logpath);
	assert_true(fx->log_fd >= 0);
	unlink(logpath);
	atomic_init(&fx->next_id, FIRST_ID);
	atomic_init(&fx->waiting, 0);
	fx->pa = proxy_accept_new(fx->base, mask, &fx->next_id, &fx->waiting,
	                          done_cb, &fx->rec);
	assert_non_null(fx->pa);
}

/* Hand sv[1] to proxy_accept as accepted from 127.0.0.1:40000 on
 * 127.0.0.1:2525. */
static void
fx_start_fd(struct fx *fx, int fd, unsigned timeout_ms)
{
	struct sockaddr_in peer, local;

	set_sin(&peer, "127.0.0.1", 40000);
	set_sin(&local, "127.0.0.1", 2525);
	assert_int_equal(proxy_accept_start(fx->pa, fd,
	                                    (struct sockaddr *)&peer,
	                                    (struct sockaddr *)&local, fx->tls,
	                                    REFUSE, timeout_ms, PROFILE),
	                 0);
}

static void
fx_start(struct fx *fx, unsigned timeout_ms)
{
	fx_start_fd(fx, fx->sv[1], timeout_ms);
	assert_int_equal(proxy_accept_pending(fx->pa), 1);
	assert_int_equal(atomic_load(&fx->waiting), 1);
}

static void
fx_close(struct fx *fx)
{
	proxy_accept_free(fx->pa); /* closes sv[1] if still waiting */
	if (fx->rec.fd != -1)
		close(fx->rec.fd);
	close(fx->sv[0]);
	event_base_free(fx->base);
	transcript_close();
	remove_temp(fx->path);
	close(fx->log_fd);
}

/* Run the loop (flags as event_base_loop) n times with stderr going to
 * the fixture's log, so that warnings can be read back. */
static void
pump_flags(struct fx *fx, int flags, int n)
{
	int saved;

	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_true(dup2(fx->log_fd, 2) >= 0);
	for (int i = 0; i < n; i++)
		event_base_loop(fx->base, flags);
	fflush(stderr);
	assert_true(dup2(saved, 2) >= 0);
	close(saved);
}

static void
pump(struct fx *fx)
{
	pump_flags(fx, EVLOOP_ONCE | EVLOOP_NONBLOCK, 4);
}

/* What the loop wrote to stderr so far (caller frees). */
static char *
fx_log(struct fx *fx)
{
	return read_fd(fx->log_fd);
}

static void
send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n <= 0)
			fail_msg("write: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

/* Wait (at most a second) for fd to be readable, then read once. */
static ssize_t
read_once(int fd, char *buf, size_t len)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	if (poll(&p, 1, 1000) != 1)
		fail_msg("fd %d: nothing to read within a second", fd);
	return recv(fd, buf, len, MSG_DONTWAIT);
}

/* fd holds exactly want, and then nothing more. */
static void
check_reads(int fd, const char *want)
{
	char got[256];
	size_t have = 0, wlen = strlen(want);
	ssize_t n;

	while (have < wlen) {
		n = read_once(fd, got + have, sizeof(got) - 1 - have);
		if (n <= 0)
			fail_msg("read after %zu bytes: %zd (%s)", have, n,
			         n < 0 ? strerror(errno) : "EOF");
		have += (size_t)n;
	}
	got[have] = '\0';
	if (have != wlen || memcmp(got, want, wlen) != 0)
		fail_msg("fd read got \"%s\", want \"%s\"", got, want);
	n = recv(fd, got, sizeof(got), MSG_DONTWAIT);
	if (n != -1 || (errno != EAGAIN && errno != EWOULDBLOCK))
		fail_msg("after \"%s\": recv %zd (%s), want EAGAIN", want, n,
		         n < 0 ? strerror(errno) : "more bytes or EOF");
}

/* The client's side sees a FIN: read returns 0, not ECONNRESET. */
static void
check_fin(const char *label, int fd)
{
	char c;
	ssize_t n = read_once(fd, &c, 1);

	if (n != 0)
		fail_msg("%s: client read %zd (%s), want 0 (a FIN)", label, n,
		         n < 0 ? strerror(errno) : "a byte");
}

static void
check_sa(const char *what, const struct sockaddr_storage *ss, const char *ip,
         unsigned port)
{
	const struct sockaddr_in *sin = (const void *)ss;
	char got[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family != AF_INET)
		fail_msg("%s: family %d, want AF_INET", what, ss->ss_family);
	inet_ntop(AF_INET, &sin->sin_addr, got, sizeof(got));
	if (strcmp(got, ip) != 0 || ntohs(sin->sin_port) != port)
		fail_msg("%s: got %s:%u, want %s:%u", what, got,
		         ntohs(sin->sin_port), ip, port);
}

/* The JSON transcript so far, one object per line; returns how many. */
static size_t
events_load(struct fx *fx, json_t **ev, size_t max)
{
	char *buf, *lines[MAX_EVENTS];
	size_t n;
	json_error_t jerr;
	int fd;

	transcript_flush();
	fd = open(fx->path, O_RDONLY);
	if (fd == -1) /* nothing written yet */
		return 0;
	buf = read_fd(fd);
	close(fd);
	n = split_lines(buf, lines, max < MAX_EVENTS ? max : MAX_EVENTS);
	for (size_t i = 0; i < n; i++)
		if ((ev[i] = json_loads(lines[i], 0, &jerr)) == NULL)
			fail_msg("line %zu not JSON (%s): %s", i + 1, jerr.text,
			         lines[i]);
	free(buf);
	return n;
}

static void
events_free(json_t **ev, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(ev[i]);
}

static void
check_str(const char *label, json_t *o, const char *key, const char *want)
{
	const char *got = json_string_value(json_object_get(o, key));

	if (got == NULL || strcmp(got, want) != 0)
		fail_msg("%s: \"%s\" is \"%s\", want \"%s\"", label, key,
		         got != NULL ? got : "(missing)", want);
}

static void
check_int(const char *label, json_t *o, const char *key, json_int_t want)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) != want)
		fail_msg("%s: \"%s\" is %lld, want %lld", label, key,
		         v != NULL ? (long long)json_integer_value(v) : -1LL,
		         (long long)want);
}

static void
check_endpoint(const char *label, json_t *o, const char *key, const char *addr,
               json_int_t port)
{
	json_t *e = json_object_get(o, key);

	if (!json_is_object(e))
		fail_msg("%s: no \"%s\" object", label, key);
	check_str(label, e, "addr", addr);
	check_int(label, e, "port", port);
}

/* ev[0..1] are the connect and close of a connection that failed with
 * reason, as session id, with bytes_in socket bytes read. */
static void
check_fail_pair(const char *label, json_t **ev, bool tls, unsigned long id,
                const char *reason, json_int_t bytes_in)
{
	char why[256], text[300];

	snprintf(why, sizeof(why), "proxy protocol: %s", reason);
	check_str(label, ev[0], "dir", "connect");
	check_int(label, ev[0], "session", (json_int_t)id);
	check_str(label, ev[0], "profile", PROFILE);
	check_str(label, ev[0], "text",
	          "127.0.0.1:40000 -> 127.0.0.1:2525 profile=" PROFILE);
	check_endpoint(label, ev[0], "client", "127.0.0.1", 40000);
	check_endpoint(label, ev[0], "server", "127.0.0.1", 2525);
	if (!json_is_boolean(json_object_get(ev[0], "tls_listener")) ||
	    json_is_true(json_object_get(ev[0], "tls_listener")) != tls)
		fail_msg("%s: tls_listener is not %s", label,
		         tls ? "true" : "false");
	if (json_object_get(ev[0], "proxy") != NULL)
		fail_msg("%s: a connect with no header has a \"proxy\"", label);

	check_str(label, ev[1], "dir", "close");
	check_int(label, ev[1], "session", (json_int_t)id);
	check_str(label, ev[1], "profile", PROFILE);
	check_str(label, ev[1], "how", "fin");
	check_str(label, ev[1], "reason", why);
	snprintf(text, sizeof(text), "fin (%s)", why);
	check_str(label, ev[1], "text", text);
	check_int(label, ev[1], "bytes_in", bytes_in);
	check_int(label, ev[1], "bytes_out", 0);
	check_int(label, ev[1], "messages", 0);
}

/* The transcript is exactly one failed connection, session 42. */
static void
check_fail_events(struct fx *fx, const char *label, const char *reason,
                  json_int_t bytes_in)
{
	json_t *ev[MAX_EVENTS];
	size_t n = events_load(fx, ev, NELEM(ev));

	if (n != 2)
		fail_msg("%s: %zu transcript events, want 2", label, n);
	check_fail_pair(label, ev, fx->tls, FIRST_ID + 1, reason, bytes_in);
	events_free(ev, n);
	if (atomic_load(&fx->next_id) != FIRST_ID + 1)
		fail_msg("%s: next_id %lu, want %lu", label,
		         atomic_load(&fx->next_id), FIRST_ID + 1);
}

/* The loop's stderr is the one warning for reason (or nothing). */
static void
check_warning(struct fx *fx, const char *label, const char *reason)
{
	char want[512], *got = fx_log(fx);

	if (reason == NULL)
		want[0] = '\0';
	else
		snprintf(want, sizeof(want),
		         "smtp-mimic: warning: proxy protocol: closing the "
		         "connection from 127.0.0.1:40000 without a banner: "
		         "%s\n",
		         reason);
	if (strcmp(got, want) != 0)
		fail_msg("%s: log got \"%s\", want \"%s\"", label, got, want);
	free(got);
}

/* A hand-on leaves next_id and the transcript alone. */
static void
check_no_events(struct fx *fx)
{
	json_t *ev[MAX_EVENTS];
	size_t n = events_load(fx, ev, NELEM(ev));

	events_free(ev, n);
	assert_int_equal(n, 0);
	assert_int_equal(atomic_load(&fx->next_id), FIRST_ID);
}

/* done ran once, with the header's addresses, the socket's peer as the
 * balancer, the given tls and refuse; fd is sv[1]. */
static void
check_done(struct fx *fx, const char *peer_ip, unsigned peer_port,
           const char *local_ip, unsigned local_port, int version)
{
	assert_int_equal(fx->rec.calls, 1);
	assert_int_equal(fx->rec.fd, fx->sv[1]);
	check_sa("peer", &fx->rec.peer, peer_ip, peer_port);
	check_sa("local", &fx->rec.local, local_ip, local_port);
	assert_int_equal(fx->rec.proxy.version, version);
	check_sa("proxy.peer", &fx->rec.proxy.peer, "127.0.0.1", 40000);
	assert_true(fx->rec.tls == fx->tls);
	assert_int_equal(fx->rec.refuse, REFUSE);
	assert_int_equal(proxy_accept_pending(fx->pa), 0);
	assert_int_equal(atomic_load(&fx->waiting), 0);
	check_no_events(fx);
	check_warning(fx, "handed on", NULL);
}

/* v1 header and the client's EHLO in one write: handed on with the
 * header's addresses; the EHLO stays on the socket. */
static void
test_v1_whole(void **state)
{
	struct fx fx;

	fx_open(&fx, PROXY_PROTO_V1 | PROXY_PROTO_V2);
	fx_start(&fx, 0);
	send_all(fx.sv[0], B(V1_TCP4 "EHLO a\r\n"));
	pump(&fx);
	check_done(&fx, "192.0.2.1", 51000, "198.51.100.2", 25, 1);
	check_reads(fx.rec.fd, "EHLO a\r\n");
	fx_close(&fx);
}

/* Header and EHLO one byte at a time: waiting until the header's last
 * byte, handed on then (not before, not twice); what follows is on fd. */
static void
trickle(const char *label, unsigned mask, const char *in, size_t len,
        size_t hdrlen, const char *peer_ip, unsigned peer_port,
        const char *local_ip, unsigned local_port, int version)
{
	struct fx fx;

	fx_open(&fx, mask);
	fx_start(&fx, 0);
	for (size_t i = 0; i < hdrlen; i++) {
		send_all(fx.sv[0], in + i, 1);
		pump(&fx);
		if (i + 1 < hdrlen &&
		    (fx.rec.calls != 0 || proxy_accept_pending(fx.pa) != 1))
			fail_msg("%s: after byte %zu of %zu: %d calls, %zu "
			         "pending, want 0 and 1",
			         label, i + 1, hdrlen, fx.rec.calls,
			         proxy_accept_pending(fx.pa));
	}
	check_done(&fx, peer_ip, peer_port, local_ip, local_port, version);
	/* nothing of the header is left behind on the socket */
	{
		char c;

		assert_int_equal(recv(fx.rec.fd, &c, 1, MSG_DONTWAIT), -1);
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	}
	for (size_t i = hdrlen; i < len; i++) {
		send_all(fx.sv[0], in + i, 1);
		pump(&fx);
	}
	assert_int_equal(fx.rec.calls, 1);
	check_reads(fx.rec.fd, in + hdrlen);
	fx_close(&fx);
}

static void
test_v2_trickled(void **state)
{
	static const char in[] = V2_TCP4 "EHLO b\r\n";

	assert_int_equal(sizeof(V2_TCP4) - 1, 28);
	trickle("v2 tcp4", PROXY_PROTO_ANY, in, sizeof(in) - 1, 28,
	        "203.0.113.9", 61000, "192.0.2.25", 587, 2);
}

static void
test_v1_trickled(void **state)
{
	static const char in[] = V1_TCP4 "EHLO a\r\n";

	trickle("v1 tcp4", PROXY_PROTO_V1, in, sizeof(in) - 1,
	        sizeof(V1_TCP4) - 1, "192.0.2.1", 51000, "198.51.100.2", 25, 1);
}

/* v2 LOCAL (the balancer's health check): the socket's own addresses. */
static void
test_v2_local(void **state)
{
	struct fx fx;

	fx_open(&fx, PROXY_PROTO_ANY);
	fx.tls = false;
	fx_start(&fx, 0);
	send_all(fx.sv[0], B(SIG "\x20\x00\x00\x00"));
	pump(&fx);
	check_done(&fx, "127.0.0.1", 40000, "127.0.0.1", 2525, 2);
	send_all(fx.sv[0], B("QUIT\r\n"));
	check_reads(fx.rec.fd, "QUIT\r\n");
	fx_close(&fx);
}

/* Bytes that end the connection before a whole header. */
struct fail_case {
	const char *label;
	unsigned mask;
	const char *in;
	size_t len;   /* of in */
	bool shut_wr; /* then EOF */
	const char *reason;
	json_int_t bytes_in; /* all of in: taken as header, or drained */
};

static const struct fail_case fail_cases[] = {
    {"garbage", PROXY_PROTO_ANY, B("GET / HTTP/1.0\r\n"), false,
     "no PROXY protocol header", 16},
    {"eof mid-header", PROXY_PROTO_ANY, B("PROXY TCP4 1"), true,
     "connection closed before the header", 12},
    {"eof before a byte", PROXY_PROTO_ANY, "", 0, true,
     "connection closed before the header", 0},
    {"v2 length past the cap", PROXY_PROTO_ANY, B(SIG "\x21\x11\x04\x00"),
     false, "header longer than 1024 bytes", 16},
    {"v2 with only v1 allowed", PROXY_PROTO_V1, B(V2_TCP4), false,
     "no PROXY protocol header", 28},
    {"v1 with only v2 allowed", PROXY_PROTO_V2, B(V1_TCP4), false,
     "no PROXY protocol header", sizeof(V1_TCP4) - 1},
    {"v1 bad port", PROXY_PROTO_ANY,
     B("PROXY TCP4 192.0.2.1 198.51.100.2 051000 25\r\nEHLO a\r\n"), false,
     "v1: bad port", 53},
    {"v2 version 1", PROXY_PROTO_ANY, B(SIG "\x11\x11\x00\x0c"), false,
     "v2: version is not 2", 16},
};

static void
test_fail(void **state)
{
	for (size_t i = 0; i < NELEM(fail_cases); i++) {
		const struct fail_case *c = &fail_cases[i];
		struct fx fx;

		fx_open(&fx, c->mask);
		fx.tls = i % 2 == 0; /* both values reach tls_listener */
		fx_start(&fx, 0);
		if (c->len > 0)
			send_all(fx.sv[0], c->in, c->len);
		if (c->shut_wr)
			assert_int_equal(shutdown(fx.sv[0], SHUT_WR), 0);
		pump(&fx);
		if (fx.rec.calls != 0)
			fail_msg("%s: handed on", c->label);
		if (proxy_accept_pending(fx.pa) != 0)
			fail_msg("%s: %zu pending, want 0", c->label,
			         proxy_accept_pending(fx.pa));
		check_fin(c->label, fx.sv[0]);
		check_fail_events(&fx, c->label, c->reason, c->bytes_in);
		check_warning(&fx, c->label, c->reason);
		fx_close(&fx);
	}
}

/* Nothing within timeout_ms: the idle timeout ends the connection; a
 * second connection with a longer timeout keeps waiting. (No check on a
 * least time: a loaded machine may stall the test past 10 ms anywhere.) */
static void
test_timeout(void **state)
{
	struct fx fx;
	struct timeval guard = {2, 0};
	int sv2[2];

	fx_open(&fx, PROXY_PROTO_ANY);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv2), 0);
	assert_int_equal(evutil_make_socket_nonblocking(sv2[1]), 0);
	fx_start(&fx, 10);
	fx_start_fd(&fx, sv2[1], 60000);
	/* block until the timer; the guard ends the loop if it never fires */
	event_base_loopexit(fx.base, &guard);
	pump_flags(&fx, EVLOOP_ONCE, 1);
	assert_int_equal(proxy_accept_pending(fx.pa), 1); /* the 60 s one */
	assert_int_equal(atomic_load(&fx.waiting), 1);
	assert_int_equal(fx.rec.calls, 0);
	check_fin("timeout", fx.sv[0]);
	check_fail_events(&fx, "timeout", "no header before the idle timeout",
	                  0);
	check_warning(&fx, "timeout", "no header before the idle timeout");
	fx_close(&fx); /* and sv2[1], still waiting */
	check_fin("timeout, the 60 s one", sv2[0]);
	close(sv2[0]);
}

/* A byte every 30 ms never lets a 100 ms deadline start over: the
 * connection ends long before its 44-byte header is in (were the timeout
 * restarted by each byte, the header would arrive after 1.3 s and be
 * handed on). Only a machine too slow to write a byte in 100 ms could
 * make this pass when it should not; none can make it fail. */
static void
test_deadline_not_stretched(void **state)
{
	static const char hdr[] =
	    "PROXY TCP4 192.0.2.1 198.51.100.2 51000 25\r\n";
	struct fx fx;
	size_t sent = 0;

	fx_open(&fx, PROXY_PROTO_ANY);
	fx_start(&fx, 100);
	while (sent < sizeof(hdr) - 1 && proxy_accept_pending(fx.pa) == 1) {
		send_all(fx.sv[0], hdr + sent, 1);
		sent++;
		usleep(30 * 1000);
		pump(&fx);
	}
	assert_int_equal(fx.rec.calls, 0);
	assert_int_equal(proxy_accept_pending(fx.pa), 0);
	assert_int_equal(atomic_load(&fx.waiting), 0);
	assert_true(sent < sizeof(hdr) - 1);
	check_fin("deadline", fx.sv[0]);
	check_fail_events(&fx, "deadline", "no header before the idle timeout",
	                  sent);
	fx_close(&fx);
}

/* proxy_accept_free with a connection half-way through its header: a
 * FIN (the unread bytes drained), "server shutting down", no warning. */
static void
test_free_pending(void **state)
{
	struct fx fx;

	fx_open(&fx, PROXY_PROTO_ANY);
	fx_start(&fx, 0);
	send_all(fx.sv[0], B("PROXY TCP4 ")); /* taken off: 11 bytes */
	pump(&fx);
	assert_int_equal(proxy_accept_pending(fx.pa), 1);
	send_all(fx.sv[0], B("1.2")); /* still unread in the kernel */
	fflush(stderr);
	{
		int saved = dup(2);

		assert_true(saved >= 0);
		assert_true(dup2(fx.log_fd, 2) >= 0);
		proxy_accept_free(fx.pa);
		fflush(stderr);
		assert_true(dup2(saved, 2) >= 0);
		close(saved);
	}
	fx.pa = NULL;
	assert_int_equal(fx.rec.calls, 0);
	check_fin("free", fx.sv[0]);
	check_fail_events(&fx, "free", "server shutting down", 14);
	check_warning(&fx, "free", NULL);
	fx_close(&fx);
}

/* proxy_accept_clear: every waiting connection closed with the reason,
 * numbered in the order they came; pa stays usable. */
static void
test_clear(void **state)
{
	struct fx fx;
	int sv2[2];
	json_t *ev[MAX_EVENTS];
	size_t n;

	fx_open(&fx, PROXY_PROTO_ANY);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv2), 0);
	assert_int_equal(evutil_make_socket_nonblocking(sv2[1]), 0);
	fx_start(&fx, 0);
	fx_start_fd(&fx, sv2[1], 0);
	assert_int_equal(proxy_accept_pending(fx.pa), 2);
	assert_int_equal(atomic_load(&fx.waiting), 2);
	proxy_accept_clear(fx.pa, "test says so");
	assert_int_equal(proxy_accept_pending(fx.pa), 0);
	assert_int_equal(atomic_load(&fx.waiting), 0);
	check_fin("clear first", fx.sv[0]);
	check_fin("clear second", sv2[0]);
	close(sv2[0]);
	n = events_load(&fx, ev, NELEM(ev));
	assert_int_equal(n, 4);
	check_fail_pair("clear first", ev, fx.tls, 42, "test says so", 0);
	check_fail_pair("clear second", ev + 2, fx.tls, 43, "test says so", 0);
	events_free(ev, n);
	assert_int_equal(atomic_load(&fx.next_id), 43);
	close(fx.sv[0]);

	/* still working: a new connection is handed on */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fx.sv), 0);
	assert_int_equal(evutil_make_socket_nonblocking(fx.sv[1]), 0);
	fx_start(&fx, 0);
	send_all(fx.sv[0], B(V1_TCP4));
	pump(&fx);
	assert_int_equal(fx.rec.calls, 1);
	assert_int_equal(fx.rec.fd, fx.sv[1]);
	check_sa("peer", &fx.rec.peer, "192.0.2.1", 51000);
	fx_close(&fx);
}

/* NULL: nothing pending, nothing to free. */
static void
test_null(void **state)
{
	assert_int_equal(proxy_accept_pending(NULL), 0);
	proxy_accept_free(NULL);
	proxy_accept_clear(NULL, "nothing");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v1_whole),
	    cmocka_unit_test(test_v2_trickled),
	    cmocka_unit_test(test_v1_trickled),
	    cmocka_unit_test(test_v2_local),
	    cmocka_unit_test(test_fail),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_deadline_not_stretched),
	    cmocka_unit_test(test_free_pending),
	    cmocka_unit_test(test_clear),
	    cmocka_unit_test(test_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
