/*
 * test_pace.c - the pace capability's own pieces: a header line as a
 * command (pace_is_header, table-driven), and paced output over real
 * loopback TCP (io_pace): the bytes leave in order and unchanged, no more
 * than n of them before the next interval, a close waits for the held
 * bytes and then ends with FIN, and once the pacing period is over what is
 * written leaves at once.
 *
 * No assertion on how long anything takes: only on what has arrived when.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "io.h"
#include "pace.h"

/* ------------------------------------------------------------------ */
/* pace_is_header */

static const struct {
	const char *label;
	const char *line;
	bool want;
} header_cases[] = {
    {"Subject with text", "Subject: hello", true},
    {"colon glued to the value", "Subject:hello", true},
    {"lower case", "x-mailer: a", true},
    {"name alone with colon", "From:", true},
    {"MAIL FROM is a command", "MAIL FROM:<a@b>", false},
    {"RCPT TO is a command", "RCPT TO:<a@b>", false},
    {"space before the colon", "Subject : x", false},
    {"no colon", "XYZZY", false},
    {"empty", "", false},
    {"colon first", ":x", false},
    {"control char in the name", "Sub\x01ject: x", false},
    {"8-bit in the name", "Sub\xc3\xa9: x", false},
    {"tab before the colon", "Subject\t: x", false},
};

static void
test_is_header(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(header_cases) / sizeof(header_cases[0]);
	     i++) {
		bool got = pace_is_header(header_cases[i].line,
		                          strlen(header_cases[i].line));
		if (got != header_cases[i].want)
			fail_msg("%s: got %d want %d", header_cases[i].label,
			         got, header_cases[i].want);
	}
}

/* ------------------------------------------------------------------ */
/* io_pace over loopback TCP */

struct conn {
	struct event_base *base;
	struct io *io;
	int client;
	bool closed;
};

static void
record(struct io *io, enum io_event ev, void *arg)
{
	struct conn *c = arg;

	if (ev == IO_CLOSED) {
		c->closed = true;
		io_free(io);
		c->io = NULL;
	}
}

static void
conn_open(struct conn *c)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM, 0), server;

	memset(c, 0, sizeof(*c));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &len), 0);
	c->client = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(c->client, (struct sockaddr *)&sa, sizeof(sa)),
	                 0);
	server = accept(l, NULL, NULL);
	assert_true(server >= 0);
	evutil_make_socket_nonblocking(server);
	close(l);
	c->base = event_base_new();
	assert_non_null(c->base);
	c->io = io_new(c->base, server, record, c);
	assert_non_null(c->io);
}

static void
conn_done(struct conn *c)
{
	if (c->io != NULL)
		io_free(c->io);
	event_base_free(c->base);
	close(c->client);
}

/* What the client can read now, without waiting. */
static size_t
read_now(struct conn *c, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while (got < cap &&
	       (n = recv(c->client, buf + got, cap - got, MSG_DONTWAIT)) > 0)
		got += (size_t)n;
	return got;
}

/* Run the loop until the io is closed (bounded by 2000 turns of 5 ms). */
static void
run_until_closed(struct conn *c)
{
	struct timeval tv = {0, 5000};

	for (int i = 0; i < 2000 && !c->closed; i++) {
		event_base_loopexit(c->base, &tv);
		event_base_dispatch(c->base);
	}
	assert_true(c->closed);
}

/* Read until EOF (the client socket is blocking). */
static size_t
read_all(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while (got < cap && (n = recv(fd, buf + got, cap - got, 0)) > 0)
		got += (size_t)n;
	return got;
}

static void
test_paced_bytes_in_order_then_fin(void **state)
{
	static const char text[] = "220 mx.lab.test ESMTP paced\r\n";
	struct conn c;
	char buf[256];
	size_t first, rest;

	(void)state;
	conn_open(&c);
	assert_int_equal(io_pace(c.io, 2, 20, 0), 0);
	evbuffer_add(io_output(c.io), text, strlen(text));
	/* one loop turn: the first move (n bytes) at most */
	event_base_loop(c.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	event_base_loop(c.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	usleep(2000);
	first = read_now(&c, buf, sizeof(buf));
	assert_true(first <= 2);
	/* the close waits for what is held, then FIN */
	io_close(c.io, IO_CLOSE_FIN);
	assert_true(io_closing(c.io));
	run_until_closed(&c);
	rest = read_all(c.client, buf + first, sizeof(buf) - first);
	assert_int_equal(first + rest, strlen(text));
	assert_memory_equal(buf, text, strlen(text));
	conn_done(&c);
}

static void
test_pacing_period_over(void **state)
{
	static const char text[] = "250 all at once after the period\r\n";
	struct conn c;
	char buf[256];
	size_t got;

	(void)state;
	conn_open(&c);
	/* 1 byte a minute, for 1 ms: over before anything is written */
	assert_int_equal(io_pace(c.io, 1, 60000, 1), 0);
	usleep(5000);
	evbuffer_add(io_output(c.io), text, strlen(text));
	io_close(c.io, IO_CLOSE_FIN);
	run_until_closed(&c);
	got = read_all(c.client, buf, sizeof(buf));
	assert_int_equal(got, strlen(text));
	assert_memory_equal(buf, text, strlen(text));
	conn_done(&c);
}

static void
test_pace_zero_is_off(void **state)
{
	static const char text[] = "250 unpaced\r\n";
	struct conn c;
	char buf[64];

	(void)state;
	conn_open(&c);
	assert_int_equal(io_pace(c.io, 0, 1000, 0), 0);
	evbuffer_add(io_output(c.io), text, strlen(text));
	event_base_loop(c.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	usleep(2000);
	assert_int_equal(read_now(&c, buf, sizeof(buf)), strlen(text));
	io_close(c.io, IO_CLOSE_FIN);
	run_until_closed(&c);
	conn_done(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_is_header),
	    cmocka_unit_test(test_paced_bytes_in_order_then_fin),
	    cmocka_unit_test(test_pacing_period_over),
	    cmocka_unit_test(test_pace_zero_is_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
