/*
 * test_io.c - io over real loopback TCP: input delivery, output flush, and
 * how the connection ends (FIN after the queued bytes, or RST).
 */
#include <errno.h>
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
	int datain, closed, disconnected;
	char input[64];
};

static void
record(struct io *io, enum io_event ev, void *arg)
{
	struct seen *s = arg;

	switch (ev) {
	case IO_DATAIN:
		s->datain++;
		evbuffer_remove(io_input(io), s->input, sizeof(s->input) - 1);
		break;
	case IO_CLOSED:
		s->closed++;
		break;
	case IO_DISCONNECTED:
		s->disconnected++;
		break;
	default:
		break;
	}
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

static void
test_input_and_fin(void **state)
{
	struct event_base *base = event_base_new();
	struct pair p = tcp_pair();
	struct seen s = {0};
	struct io *io = io_new(base, p.server, record, &s);
	char buf[64] = "";
	int how = -1;

	assert_int_equal(send(p.client, "EHLO x\r\n", 8, 0), 8);
	for (int i = 0; i < 100 && s.datain == 0; i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK),
		    usleep(2000);
	assert_string_equal(s.input, "EHLO x\r\n");
	evbuffer_add(io_output(io), "221 bye\r\n", 9);
	io_close(io, IO_CLOSE_FIN);
	assert_true(io_closing(io));
	/* The client half-closes after reading, as a polite client does. */
	size_t n = 0;
	for (int i = 0; i < 200 && n < 9; i++) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		ssize_t r =
		    recv(p.client, buf + n, sizeof(buf) - n, MSG_DONTWAIT);
		if (r > 0)
			n += (size_t)r;
		usleep(2000);
	}
	assert_int_equal(n, 9);
	assert_memory_equal(buf, "221 bye\r\n", 9);
	n = drain_client(p.client, buf, sizeof(buf), &how);
	assert_int_equal(n, 0);
	assert_int_equal(how, 0); /* FIN, not RST */
	shutdown(p.client, SHUT_WR);
	run_until_closed(base, &s);
	assert_int_equal(s.closed, 1);
	io_free(io);
	close(p.client);
	event_base_free(base);
}

static void
test_rst(void **state)
{
	struct event_base *base = event_base_new();
	struct pair p = tcp_pair();
	struct seen s = {0};
	struct io *io = io_new(base, p.server, record, &s);
	char buf[64];
	int how = -1;

	io_close(io, IO_CLOSE_RST);
	run_until_closed(base, &s);
	assert_int_equal(s.closed, 1);
	drain_client(p.client, buf, sizeof(buf), &how);
	assert_int_equal(how, ECONNRESET);
	io_free(io);
	close(p.client);
	event_base_free(base);
}

static void
test_peer_eof(void **state)
{
	struct event_base *base = event_base_new();
	struct pair p = tcp_pair();
	struct seen s = {0};
	struct io *io = io_new(base, p.server, record, &s);

	shutdown(p.client, SHUT_WR);
	for (int i = 0; i < 100 && s.disconnected == 0; i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK),
		    usleep(2000);
	assert_int_equal(s.disconnected, 1);
	io_free(io);
	close(p.client);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_input_and_fin),
	    cmocka_unit_test(test_rst),
	    cmocka_unit_test(test_peer_eof),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
