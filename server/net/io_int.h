/*
 * io_int.h - struct io, shared by io.c (the connection) and io_via.c (its
 * middlebox chain). Not for use outside server/net/.
 */
#ifndef IO_INT_H
#define IO_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "io.h"

/* After our FIN, how long we keep draining the peer before close(), in
 * all (a deadline from the FIN, however often the peer sends). */
#define IO_DRAIN_MS 3000
/* Most bytes one plaintext read takes (libevent's default as well). */
#define IO_READ_MAX 16384

struct io {
	struct event_base *base;
	struct bufferevent *bev;   /* the socket's, or the TLS filter */
	struct bufferevent *under; /* the socket's, once TLS filters it */
	SSL *ssl;
	bool close_notify; /* SSL_shutdown() before the FIN */
	unsigned flush_waited;
	evutil_socket_t drain_fd; /* after our FIN: read until EOF */
	struct event *drain_ev;
	unsigned drain_reads;
	struct timeval drain_until; /* FIN + IO_DRAIN_MS (monotonic) */
	evutil_socket_t fd;
	io_cb cb;
	void *arg;
	bool closing; /* io_close() called */
	enum io_close how;
	/* One event, three jobs (an event costs ~140 bytes a session):
	 * activated to flush replies, a timer while a close waits for the
	 * output to drain, activated to deliver IO_CLOSED. */
	struct event *aux;
	bool closed_pending; /* the next aux run delivers IO_CLOSED */
	char error[160];     /* reason for IO_ERROR */
	bool tls_failed;     /* error holds OpenSSL's reason */
	bool broken; /* a socket or TLS error: nothing more will leave */
	/* Plaintext ("direct"): our own read event and write flush. */
	bool direct;
	struct event *rd_ev; /* EV_READ | EV_PERSIST, idle timeout */
	struct evbuffer_cb_entry *out_cb;
	struct evbuffer_cb_entry *in_cb; /* enabled while the input is full */
	bool flush_queued;
	bool rd_paused; /* io_pause() */
	bool rd_full;   /* input at read_max */
	bool rd_done;   /* EOF or a read error: read no more */
	size_t read_max;
	struct timeval idle;      /* 0 = none */
	struct evbuffer *wire;    /* where output goes past the boxes */
	struct evbuffer *tls_out; /* TLS: output until io_tls_flush */
	/* The middlebox chain, if any (io_via). */
	struct via *via;
	bool via_flush_queued;
	enum io_close cut_how; /* the last IO_CUT's */
	struct io_pace *pace;  /* io_pace.c: output let out slowly */
	/* Socket bytes: received, and written to the socket (not queued). */
	uint64_t bytes_in, bytes_out;
};

/* io_pace.c: the holding buffer (NULL: not pacing), bytes held, a close
 * that waits for them (true), what is held leaving at once, the end. */
struct evbuffer *io_pace_output(struct io *io);
size_t io_pace_queued(const struct io *io);
bool io_pace_close(struct io *io, enum io_close how);
bool io_pace_closing(const struct io *io);
void io_pace_end(struct io *io);
void io_pace_free(struct io *io);

#endif
