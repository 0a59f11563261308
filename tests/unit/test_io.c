/*
 * test_io.c - io over real loopback TCP: input delivery, output flush, and
 * how the connection ends (FIN after the queued bytes, or RST). Also the
 * plaintext path's own work: replies in order, a slow reader's
 * back-pressure, read_max, pause/resume, the idle timeout, a peer reset.
 * And the middlebox chain as io's filter (io_via): reads pass the boxes
 * before IO_DATAIN, flushes pass them before the socket, a box's cut is
 * IO_CUT after the IO_DATAIN of what it let through.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "io.h"
#include "middlebox.h"

struct pair {
	int client;
	int server;
};

static struct pair
tcp_pair(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	struct pair p;
	int l = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &len), 0);
	p.client = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(p.client, (struct sockaddr *)&sa, sizeof(sa)),
	                 0);
	p.server = accept(l, NULL, NULL);
	assert_true(p.server >= 0);
	evutil_make_socket_nonblocking(p.server);
	close(l);
	return p;
}

struct seen {
	int datain, lowat, timeout, disconnected, error, closed, cut;
	char order[16];        /* 'D' per IO_DATAIN, 'X' per IO_CUT */
	enum io_close cut_how; /* at the last IO_CUT */
	char cut_reason[64];
	bool keep_input; /* IO_DATAIN: leave the input in io_input() */
	const char *const *replies; /* IO_DATAIN: queue these, in order */
	size_t in_max;              /* most input buffered at any IO_DATAIN */
	size_t queued_at_lowat;     /* io_queued() at the last IO_LOWAT */
	size_t inlen;               /* bytes taken into input */
	char input[16384];          /* what IO_DATAIN took, NUL-terminated */
};

/* Move what io_input() holds into s->input. */
static void
take_input(struct io *io, struct seen *s)
{
	int n = evbuffer_remove(io_input(io), s->input + s->inlen,
	                        sizeof(s->input) - 1 - s->inlen);

	if (n > 0)
		s->inlen += (size_t)n;
	s->input[s->inlen] = '\0';
}

static void
record(struct io *io, enum io_event ev, void *arg)
{
	struct seen *s = arg;
	size_t len;

	switch (ev) {
	case IO_DATAIN:
		s->datain++;
		if (strlen(s->order) < sizeof(s->order) - 1)
			strcat(s->order, "D");
		len = evbuffer_get_length(io_input(io));
		if (len > s->in_max)
			s->in_max = len;
		for (size_t i = 0; s->replies != NULL && s->replies[i]; i++)
			evbuffer_add(io_output(io), s->replies[i],
			             strlen(s->replies[i]));
		if (!s->keep_input)
			take_input(io, s);
		break;
	case IO_LOWAT:
		s->lowat++;
		s->queued_at_lowat = io_queued(io);
		break;
	case IO_TIMEOUT:
		s->timeout++;
		break;
	case IO_CLOSED:
		s->closed++;
		break;
	case IO_DISCONNECTED:
		s->disconnected++;
		break;
	case IO_ERROR:
		s->error++;
		break;
	case IO_CUT:
		s->cut++;
		if (strlen(s->order) < sizeof(s->order) - 1)
			strcat(s->order, "X");
		s->cut_how = io_cut_how(io);
		snprintf(s->cut_reason, sizeof(s->cut_reason), "%s",
		         io_cut_reason(io));
		break;
	default:
		break;
	}
}

/* A byte of a stream that shows any loss, duplication or reordering. */
static unsigned char
pattern(size_t i)
{
	return (unsigned char)(((uint32_t)i * 2654435761u) >> 24);
}

static void
fill_pattern(unsigned char *buf, size_t off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(off + i);
}

static bool
is_pattern(const unsigned char *buf, size_t off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != pattern(off + i))
			return false;
	return true;
}

/*
 * One non-blocking read by the client into buf[*got..cap): -1 while the
 * connection is open, 0 on EOF, else the errno that ended it.
 */
static int
client_poll(int fd, void *buf, size_t cap, size_t *got)
{
	ssize_t n;

	if (*got == cap)
		return -1; /* the caller's buffer is full: leave it queued */
	n = recv(fd, (char *)buf + *got, cap - *got, MSG_DONTWAIT);
	if (n > 0) {
		*got += (size_t)n;
		return -1;
	}
	if (n == 0)
		return 0;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return -1;
	return errno;
}

static void
loop_once(struct event_base *base)
{
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

/* Read everything until the end; return bytes read, *how = 0/ECONNRESET */
static size_t
drain_client(int fd, char *buf, size_t len, int *how)
{
	size_t got = 0;
	struct timeval tv = {5, 0};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (;;) {
		ssize_t n = recv(fd, buf + got, len - got, 0);
		if (n == 0) {
			*how = 0;
			return got;
		}
		if (n < 0) {
			*how = errno;
			return got;
		}
		got += (size_t)n;
	}
}

static void
run_until_closed(struct event_base *base, struct seen *s)
{
	for (int i = 0; i < 200 && s->closed == 0; i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK),
		    usleep(5000);
}

/* One server-side io over a fresh loopback pair, and its event loop. */
struct conn {
	struct event_base *base;
	struct pair p;
	struct seen s;
	struct io *io;
};

static void
conn_open(struct conn *c)
{
	memset(c, 0, sizeof(*c));
	c->base = event_base_new();
	assert_non_null(c->base);
	c->p = tcp_pair();
	c->io = io_new(c->base, c->p.server, record, &c->s);
	assert_non_null(c->io);
}

/* The io (and with it the server's socket), the client's, the loop. */
static void
conn_close(struct conn *c)
{
	io_free(c->io);
	if (c->p.client >= 0)
		close(c->p.client);
	event_base_free(c->base);
}

static void
test_input_and_fin(void **state)
{
	struct conn c;
	char buf[64] = "";
	int how = -1;

	conn_open(&c);
	assert_int_equal(send(c.p.client, "EHLO x\r\n", 8, 0), 8);
	for (int i = 0; i < 100 && c.s.datain == 0; i++)
		event_base_loop(c.base, EVLOOP_ONCE | EVLOOP_NONBLOCK),
		    usleep(2000);
	assert_string_equal(c.s.input, "EHLO x\r\n");
	evbuffer_add(io_output(c.io), "221 bye\r\n", 9);
	io_close(c.io, IO_CLOSE_FIN);
	assert_true(io_closing(c.io));
	/* The client half-closes after reading, as a polite client does. */
	size_t n = 0;
	for (int i = 0; i < 200 && n < 9; i++) {
		event_base_loop(c.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		ssize_t r =
		    recv(c.p.client, buf + n, sizeof(buf) - n, MSG_DONTWAIT);
		if (r > 0)
			n += (size_t)r;
		usleep(2000);
	}
	assert_int_equal(n, 9);
	assert_memory_equal(buf, "221 bye\r\n", 9);
	n = drain_client(c.p.client, buf, sizeof(buf), &how);
	assert_int_equal(n, 0);
	assert_int_equal(how, 0); /* FIN, not RST */
	shutdown(c.p.client, SHUT_WR);
	run_until_closed(c.base, &c.s);
	assert_int_equal(c.s.closed, 1);
	conn_close(&c);
}

static void
test_rst(void **state)
{
	struct conn c;
	char buf[64];
	int how = -1;

	conn_open(&c);
	io_close(c.io, IO_CLOSE_RST);
	run_until_closed(c.base, &c.s);
	assert_int_equal(c.s.closed, 1);
	drain_client(c.p.client, buf, sizeof(buf), &how);
	assert_int_equal(how, ECONNRESET);
	conn_close(&c);
}

static void
test_peer_eof(void **state)
{
	struct conn c;

	conn_open(&c);

	shutdown(c.p.client, SHUT_WR);
	for (int i = 0; i < 100 && c.s.disconnected == 0; i++)
		event_base_loop(c.base, EVLOOP_ONCE | EVLOOP_NONBLOCK),
		    usleep(2000);
	assert_int_equal(c.s.disconnected, 1);
	conn_close(&c);
}

/* Several replies queued in one callback leave as one ordered stream, and
 * so do the next callback's. */
static void
test_replies_in_order(void **state)
{
	static const char *const replies[] = {
	    "250-mimic\r\n",    "250-PIPELINING\r\n", "250-SIZE 1000\r\n",
	    "250-8BITMIME\r\n", "250 SMTPUTF8\r\n",   NULL,
	};
	struct conn c;
	char want[256] = "", buf[512];
	size_t got = 0, n;
	int how = -1;

	conn_open(&c);
	c.s.replies = replies;
	for (size_t i = 0; replies[i] != NULL; i++)
		strcat(want, replies[i]);
	n = strlen(want);
	for (int round = 1; round <= 2; round++) {
		assert_int_equal(send(c.p.client, "EHLO x\r\n", 8, 0), 8);
		for (int i = 0; i < 500 && got < round * n; i++) {
			loop_once(c.base);
			assert_int_equal(
			    client_poll(c.p.client, buf, sizeof(buf), &got),
			    -1);
			if (got < round * n)
				usleep(1000);
		}
		assert_int_equal(c.s.datain, round);
		assert_int_equal(got, round * n);
		assert_memory_equal(buf + (round - 1) * n, want, n);
	}
	/* Nothing more than the replies: the FIN comes next. */
	io_close(c.io, IO_CLOSE_FIN);
	n = drain_client(c.p.client, buf, sizeof(buf), &how);
	assert_int_equal(n, 0);
	assert_int_equal(how, 0);
	shutdown(c.p.client, SHUT_WR);
	run_until_closed(c.base, &c.s);
	assert_int_equal(c.s.closed, 1);
	assert_int_equal(c.s.error, 0);
	conn_close(&c);
}

/* 4 MiB queued for a client that does not read: the socket takes part of
 * it, the rest waits; once the client reads, every byte arrives in order
 * and IO_LOWAT says the output drained. */
static void
test_slow_reader(void **state)
{
	const size_t total = 4u << 20;
	struct conn c;
	unsigned char *out = malloc(total), *buf = malloc(total + 1);
	size_t got = 0;
	int small = 65536, how = -1;

	conn_open(&c);
	assert_non_null(out);
	assert_non_null(buf);
	/* Small fixed socket buffers: 4 MiB cannot fit, whatever the
	 * autotuning would have grown them to. */
	setsockopt(c.p.server, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	setsockopt(c.p.client, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	fill_pattern(out, 0, total);
	assert_int_equal(evbuffer_add(io_output(c.io), out, total), 0);
	for (int i = 0; i < 20; i++) {
		loop_once(c.base);
		usleep(1000);
	}
	/* The direct write was partial; the rest is queued, not lost. */
	assert_true(io_queued(c.io) > 0);
	assert_true(io_queued(c.io) < total);
	assert_int_equal(c.s.lowat, 0);
	assert_int_equal(c.s.error, 0);
	for (int i = 0; i < 40000 && (got < total || c.s.lowat == 0); i++) {
		size_t before = got;
		loop_once(c.base);
		assert_int_equal(client_poll(c.p.client, buf, total + 1, &got),
		                 -1);
		if (got == before)
			usleep(500);
	}
	assert_int_equal(got, total);
	assert_true(is_pattern(buf, 0, total));
	assert_true(c.s.lowat >= 1);
	assert_int_equal(c.s.queued_at_lowat, 0);
	assert_int_equal(io_queued(c.io), 0);
	assert_int_equal(c.s.error, 0);
	/* And not one byte more. */
	io_close(c.io, IO_CLOSE_FIN);
	assert_int_equal(drain_client(c.p.client, (char *)buf, total, &how), 0);
	assert_int_equal(how, 0);
	shutdown(c.p.client, SHUT_WR);
	run_until_closed(c.base, &c.s);
	assert_int_equal(c.s.closed, 1);
	conn_close(&c);
	free(out);
	free(buf);
}

/* Input nobody consumes stops at read_max, exactly; reading goes on when
 * the input is drained below it, and no byte is lost or reordered. */
static void
test_read_max(void **state)
{
	const size_t total = 10000, max = 100;
	struct conn c;
	unsigned char data[10000];
	int datain;

	conn_open(&c);
	c.s.keep_input = true;
	io_set_read_max(c.io, max);
	fill_pattern(data, 0, total);
	assert_int_equal(send(c.p.client, data, total, 0), (ssize_t)total);
	/* Twice: from empty, then after a partial drain (50 bytes). */
	for (int round = 0; round < 2; round++) {
		for (int i = 0;
		     i < 500 && evbuffer_get_length(io_input(c.io)) < max;
		     i++) {
			loop_once(c.base);
			usleep(1000);
		}
		assert_int_equal(evbuffer_get_length(io_input(c.io)), max);
		/* Full: no more reads, so no more IO_DATAIN (and no
		 * zero-byte read taken for an EOF). */
		datain = c.s.datain;
		for (int i = 0; i < 30; i++) {
			loop_once(c.base);
			usleep(1000);
		}
		assert_int_equal(c.s.datain, datain);
		assert_int_equal(evbuffer_get_length(io_input(c.io)), max);
		assert_true(c.s.in_max <= max);
		assert_int_equal(c.s.disconnected, 0);
		assert_int_equal(c.s.error, 0);
		if (round == 0) {
			assert_int_equal(
			    evbuffer_remove(io_input(c.io), c.s.input, 50), 50);
			c.s.inlen = 50;
		}
	}
	/* From now on the callback consumes what arrives. */
	c.s.keep_input = false;
	take_input(c.io, &c.s);
	assert_int_equal(c.s.inlen, 50 + max);
	for (int i = 0; i < 2000 && c.s.inlen < total; i++) {
		loop_once(c.base);
		if (c.s.inlen < total)
			usleep(500);
	}
	assert_int_equal(c.s.inlen, total);
	assert_true(is_pattern((unsigned char *)c.s.input, 0, total));
	assert_true(c.s.in_max <= max);
	assert_int_equal(evbuffer_get_length(io_input(c.io)), 0);
	/* The EOF still comes through after all that. */
	shutdown(c.p.client, SHUT_WR);
	for (int i = 0; i < 500 && c.s.disconnected == 0; i++) {
		loop_once(c.base);
		usleep(1000);
	}
	assert_int_equal(c.s.disconnected, 1);
	for (int i = 0; i < 20; i++) /* and only once */
		loop_once(c.base);
	assert_int_equal(c.s.disconnected, 1);
	assert_int_equal(c.s.inlen, total);
	conn_close(&c);
}

/* While paused nothing is read; on resume the bytes come as IO_DATAIN. */
static void
test_pause_resume(void **state)
{
	struct conn c;

	conn_open(&c);

	io_pause(c.io);
	assert_int_equal(send(c.p.client, "NOOP\r\n", 6, 0), 6);
	for (int i = 0; i < 50; i++) {
		loop_once(c.base);
		usleep(1000);
	}
	assert_int_equal(c.s.datain, 0);
	assert_int_equal(evbuffer_get_length(io_input(c.io)), 0);
	io_resume(c.io);
	for (int i = 0; i < 500 && c.s.datain == 0; i++) {
		loop_once(c.base);
		usleep(1000);
	}
	assert_int_equal(c.s.datain, 1);
	assert_string_equal(c.s.input, "NOOP\r\n");
	/* Paused again, even the EOF waits. */
	io_pause(c.io);
	assert_int_equal(send(c.p.client, "QUIT\r\n", 6, 0), 6);
	shutdown(c.p.client, SHUT_WR);
	for (int i = 0; i < 50; i++) {
		loop_once(c.base);
		usleep(1000);
	}
	assert_int_equal(c.s.datain, 1);
	assert_int_equal(c.s.disconnected, 0);
	io_resume(c.io);
	for (int i = 0; i < 500 && c.s.disconnected == 0; i++) {
		loop_once(c.base);
		usleep(1000);
	}
	assert_int_equal(c.s.datain, 2);
	assert_string_equal(c.s.input, "NOOP\r\nQUIT\r\n");
	assert_int_equal(c.s.disconnected, 1);
	conn_close(&c);
}

/* No input for the idle timeout: IO_TIMEOUT. */
static void
test_idle_timeout(void **state)
{
	struct conn c;

	conn_open(&c);

	io_set_timeout(c.io, 50);
	for (int i = 0; i < 400 && c.s.timeout == 0; i++) {
		loop_once(c.base);
		usleep(5000);
	}
	assert_true(c.s.timeout >= 1);
	assert_int_equal(c.s.datain, 0);
	assert_int_equal(c.s.disconnected, 0);
	assert_int_equal(c.s.error, 0);
	conn_close(&c);
}

/* Set while paused, the idle timeout counts once reading resumes (not
 * while paused: a paused connection is not idle by the client's fault). */
static void
test_idle_timeout_after_pause(void **state)
{
	struct conn c;

	conn_open(&c);

	io_pause(c.io);
	io_set_timeout(c.io, 20);
	for (int i = 0; i < 30; i++) {
		loop_once(c.base);
		usleep(5000);
	}
	assert_int_equal(c.s.timeout, 0);
	io_resume(c.io);
	for (int i = 0; i < 400 && c.s.timeout == 0; i++) {
		loop_once(c.base);
		usleep(5000);
	}
	assert_true(c.s.timeout >= 1);
	assert_int_equal(c.s.datain, 0);
	assert_int_equal(c.s.error, 0);
	conn_close(&c);
}

/* The peer resets while a reply is queued: IO_ERROR or IO_DISCONNECTED,
 * and io_close() still ends in IO_CLOSED. */
static void
test_peer_reset(void **state)
{
	struct conn c;
	struct linger lg = {1, 0};

	conn_open(&c);
	assert_int_equal(
	    setsockopt(c.p.client, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	close(c.p.client);
	c.p.client = -1; /* gone: conn_close() must not close it again */
	evbuffer_add(io_output(c.io), "250 ok\r\n", 8);
	for (int i = 0; i < 500 && c.s.error + c.s.disconnected == 0; i++) {
		loop_once(c.base);
		usleep(1000);
	}
	assert_true(c.s.error + c.s.disconnected >= 1);
	for (int i = 0; i < 20; i++) /* whatever else it has to say */
		loop_once(c.base);
	assert_true(c.s.error <= 2);
	assert_true(c.s.disconnected <= 1);
	assert_int_equal(c.s.closed, 0);
	if (c.s.error != 0)
		assert_non_null(io_error(c.io));
	io_close(c.io, IO_CLOSE_FIN);
	run_until_closed(c.base, &c.s);
	assert_int_equal(c.s.closed, 1);
	for (int i = 0; i < 20; i++)
		loop_once(c.base);
	assert_int_equal(c.s.closed, 1);
	conn_close(&c);
}

/* A reply queued right before io_close(IO_CLOSE_RST) leaves before the
 * RST: the client reads it, then ECONNRESET. */
static void
test_reply_then_rst(void **state)
{
	struct conn c;
	char buf[64];
	size_t n;
	int how = -1;

	conn_open(&c);
	evbuffer_add(io_output(c.io), "421 go away\r\n", 13);
	io_close(c.io, IO_CLOSE_RST);
	assert_true(io_closing(c.io));
	run_until_closed(c.base, &c.s);
	assert_int_equal(c.s.closed, 1);
	n = drain_client(c.p.client, buf, sizeof(buf), &how);
	assert_int_equal(n, 13);
	assert_memory_equal(buf, "421 go away\r\n", 13);
	assert_int_equal(how, ECONNRESET);
	conn_close(&c);
}

/* io_close(IO_CLOSE_RST) with more queued than the socket takes: the RST
 * waits until the output has been written. Only what is still in our
 * kernel send buffer when the RST leaves may be lost (TCP discards it). */
static void
test_rst_waits_for_output(void **state)
{
	const size_t total = 1u << 20;
	struct conn c;
	unsigned char *buf = malloc(total + 1);
	size_t got = 0;
	int small = 16384, how = -1;

	conn_open(&c);
	assert_non_null(buf);
	setsockopt(c.p.server, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	setsockopt(c.p.client, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	fill_pattern(buf, 0, total);
	evbuffer_add(io_output(c.io), buf, total);
	memset(buf, 0, total);
	io_close(c.io, IO_CLOSE_RST);
	/* The client does not read: nothing can end yet. */
	for (int i = 0; i < 20; i++) {
		loop_once(c.base);
		usleep(1000);
	}
	assert_int_equal(c.s.closed, 0);
	assert_true(io_queued(c.io) > 0);
	for (int i = 0; i < 40000 && how == -1; i++) {
		size_t before = got;
		loop_once(c.base);
		how = client_poll(c.p.client, buf, total + 1, &got);
		if (got == before)
			usleep(500);
	}
	assert_int_equal(how, ECONNRESET);
	assert_true(got <= total);
	/* Far more than the socket took at io_close(): the RST waited. */
	assert_true(got >= total - (256u << 10));
	assert_true(is_pattern(buf, 0, got));
	run_until_closed(c.base, &c.s);
	assert_int_equal(c.s.closed, 1);
	conn_close(&c);
	free(buf);
}

/* A timeout set and then cleared (0) never fires. */
static void
test_timeout_off(void **state)
{
	struct conn c;

	conn_open(&c);

	io_set_timeout(c.io, 20);
	io_set_timeout(c.io, 0);
	for (int i = 0; i < 40; i++) {
		loop_once(c.base);
		usleep(5000);
	}
	assert_int_equal(c.s.timeout, 0);
	conn_close(&c);
}

/* --- the middlebox chain as a filter (io_via) --- */

static char *box_verbs[] = {"HELO", "QUIT"};
static struct mbox_limit box_limits[] = {{MBOX_CMD_LINE, 20, MBOX_ACT_RESET}};
static const struct mbox_config box = {
    .name = "box",
    .banner = MBOX_BANNER_PASS,
    .allowed = box_verbs,
    .nallowed = 2,
    .denied = MBOX_DENIED_MASK,
    .limits = box_limits,
    .nlimits = 1,
};

/* Loop until the client has n bytes (or give up), then NUL-terminate. */
static size_t
client_read(struct conn *c, char *buf, size_t cap, size_t n)
{
	size_t got = 0;

	for (int i = 0; i < 200 && got < n; i++) {
		loop_once(c->base);
		client_poll(c->p.client, buf, cap - 1, &got);
		usleep(2000);
	}
	buf[got] = '\0';
	return got;
}

static void
via_open(struct conn *c, bool encrypted)
{
	const struct mbox_config *chain[] = {&box};

	conn_open(c);
	assert_int_equal(io_via(c->io, chain, 1, encrypted, 1, "unit"), 0);
}

static void
test_via_filters_both_ways(void **state)
{
	struct conn c;
	char buf[64];

	via_open(&c, false);
	assert_true(io_logs_lines(c.io));
	/* Output waits behind the boxes until a flush. */
	evbuffer_add(io_output(c.io), "220 mx\r\n", 8);
	assert_int_equal(io_queued(c.io), 0);
	io_flush(c.io);
	assert_int_equal(client_read(&c, buf, sizeof(buf), 8), 8);
	assert_string_equal(buf, "220 mx\r\n");
	/* A verb the box does not allow reaches the server masked. */
	assert_int_equal(send(c.p.client, "NOOP\r\nQUIT\r\n", 12, 0), 12);
	for (int i = 0; i < 100 && c.s.datain == 0; i++)
		loop_once(c.base), usleep(2000);
	assert_string_equal(c.s.input, "XXXX\r\nQUIT\r\n");
	assert_int_equal(c.s.cut, 0);
	/* Written and not flushed by the caller: the loop flushes it. */
	evbuffer_add(io_output(c.io), "221 bye\r\n", 9);
	assert_int_equal(client_read(&c, buf, sizeof(buf), 9), 9);
	assert_string_equal(buf, "221 bye\r\n");
	conn_close(&c);
}

static void
test_via_cut(void **state)
{
	struct conn c;
	char buf[64];
	int how = -1;

	via_open(&c, false);
	evbuffer_add(io_output(c.io), "220 mx\r\n", 8);
	io_flush(c.io);
	assert_int_equal(client_read(&c, buf, sizeof(buf), 8), 8);
	/* Over the box's 20-byte line: what came before passes, then the
	 * cut, after the IO_DATAIN. */
	assert_int_equal(
	    send(c.p.client, "HELO a\r\nHELO aaaaaaaaaaaaaaaaaa\r\n", 34, 0),
	    34);
	for (int i = 0; i < 100 && c.s.cut == 0; i++)
		loop_once(c.base), usleep(2000);
	assert_string_equal(c.s.order, "DX");
	assert_string_equal(c.s.input, "HELO a\r\n");
	assert_int_equal(c.s.cut_how, IO_CLOSE_RST);
	assert_string_equal(c.s.cut_reason, "middlebox box: reset");
	/* The server's answer meets the cut box: discarded, IO_CUT again. */
	evbuffer_add(io_output(c.io), "250 ok\r\n", 8);
	io_flush(c.io);
	assert_string_equal(c.s.order, "DXX");
	io_close(c.io, io_cut_how(c.io));
	run_until_closed(c.base, &c.s);
	assert_int_equal(drain_client(c.p.client, buf, sizeof(buf), &how), 0);
	assert_int_equal(how, ECONNRESET);
	conn_close(&c);
}

static void
test_via_blind_when_encrypted(void **state)
{
	struct conn c;

	/* TLS from the first byte: the boxes can read nothing (here the
	 * bytes are plaintext, so what they let through shows it). */
	via_open(&c, true);
	assert_false(io_logs_lines(c.io));
	assert_int_equal(send(c.p.client, "NOOP\r\n", 6, 0), 6);
	for (int i = 0; i < 100 && c.s.datain == 0; i++)
		loop_once(c.base), usleep(2000);
	assert_string_equal(c.s.input, "NOOP\r\n");
	conn_close(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_input_and_fin),
	    cmocka_unit_test(test_rst),
	    cmocka_unit_test(test_peer_eof),
	    cmocka_unit_test(test_replies_in_order),
	    cmocka_unit_test(test_slow_reader),
	    cmocka_unit_test(test_read_max),
	    cmocka_unit_test(test_pause_resume),
	    cmocka_unit_test(test_idle_timeout),
	    cmocka_unit_test(test_timeout_off),
	    cmocka_unit_test(test_idle_timeout_after_pause),
	    cmocka_unit_test(test_peer_reset),
	    cmocka_unit_test(test_reply_then_rst),
	    cmocka_unit_test(test_rst_waits_for_output),
	    cmocka_unit_test(test_via_filters_both_ways),
	    cmocka_unit_test(test_via_cut),
	    cmocka_unit_test(test_via_blind_when_encrypted),
	};

	/* As the server's main() does: a write to a reset peer is EPIPE. */
	signal(SIGPIPE, SIG_IGN);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
