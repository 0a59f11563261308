/*
 * io.h - one client connection's bytes, and the ways it can end.
 *
 * The only module that touches libevent bufferevents (and, with the TLS
 * issue, OpenSSL objects). The session above it never sees a bufferevent:
 * it reads io_input(), writes with io_write(), and is told what happened
 * through one callback (OpenSMTPD's ioev style).
 *
 * A connection may run through a chain of middleboxes (io_via): every
 * read passes them on its way to io_input(), and what is written to
 * io_output() passes them at the next flush on its way to the socket.
 * A box that cuts the connection is reported as IO_CUT: after the
 * IO_DATAIN for what it let through, or from the flush that met it.
 *
 * Ending a connection is explicit because profiles care how it ends:
 * IO_CLOSE_FIN flushes what is queued, sends FIN with shutdown(SHUT_WR)
 * and drains the peer until EOF (so close() never turns into a RST);
 * IO_CLOSE_RST flushes, then closes with SO_LINGER {1, 0};
 * IO_CLOSE_HOLD (a middlebox dropped the connection) sends nothing more.
 */
#ifndef IO_H
#define IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <openssl/ssl.h>

struct evbuffer;
struct io;
struct mbox_config;

enum io_event {
	IO_DATAIN,       /* new input in io_input() */
	IO_LOWAT,        /* the output queue drained below the low mark */
	IO_TIMEOUT,      /* no input (or no output progress) for the timeout */
	IO_DISCONNECTED, /* the peer closed (EOF) */
	IO_ERROR,        /* a socket error; errno-ish reason in io_error() */
	IO_CLOSED,       /* io_close() finished: the fd is gone, free the io */
	IO_TLSREADY,     /* the TLS handshake completed */
	IO_CUT,          /* a middlebox cut the connection (io_cut_reason) */
};

enum io_close {
	IO_CLOSE_FIN,
	IO_CLOSE_RST,
	/* a middlebox's drop-connection: nothing more is sent, neither FIN
	 * nor RST; the socket is held (what the client sends is discarded)
	 * until the client closes it or the box's timeout_conn expires, then
	 * reset (io_via only) */
	IO_CLOSE_HOLD,
};

typedef void (*io_cb)(struct io *io, enum io_event ev, void *arg);

/* io_new - wrap a connected, non-blocking socket */
struct io *io_new(struct event_base *base, evutil_socket_t fd, io_cb cb,
                  void *arg);

/* io_free - release everything now (the fd is closed with FIN/RST as set) */
void io_free(struct io *io);

struct evbuffer *io_input(struct io *io);
struct evbuffer *io_output(struct io *io);

/* io_queued - bytes waiting to be sent */
size_t io_queued(const struct io *io);

/*
 * io_bytes - this connection's socket bytes so far: *in received, *out
 * written to the socket or queued for it (under TLS, bytes still waiting
 * to be encrypted count as their plaintext size). Either may be NULL.
 */
void io_bytes(const struct io *io, uint64_t *in, uint64_t *out);

/* io_pause / io_resume - stop and restart reading (back-pressure, hang) */
void io_pause(struct io *io);
void io_resume(struct io *io);

/*
 * io_via - from now on, the connection runs through n middleboxes, client
 * side first (kept: they must outlive the io). encrypted: it is TLS from
 * its first byte, so they are blind. session and profile name their
 * transcript events. 0, or -1 when out of memory. n == 0 changes nothing.
 */
int io_via(struct io *io, const struct mbox_config *const *boxes, size_t n,
           bool encrypted, unsigned long session, const char *profile);

/*
 * io_flush - what was written to io_output() passes the middleboxes to
 * the socket now, as one chunk (the replies to one client packet travel
 * together). Without boxes, nothing to do: the write follows by itself.
 * May deliver IO_CUT before it returns.
 */
void io_flush(struct io *io);

/* io_cut_how / io_cut_reason - how the connection is to end after an
 * IO_CUT, and why ("middlebox asa: reset") */
enum io_close io_cut_how(const struct io *io);
const char *io_cut_reason(const struct io *io);

/* io_lost - why what is written now never reaches the client (a
 * middlebox cut the connection), or NULL */
const char *io_lost(const struct io *io);

/* io_logs_lines - a middlebox reading commands has put each client line
 * in the transcript as the client sent it */
bool io_logs_lines(const struct io *io);

/*
 * io_pace - from now on what is written to io_output() leaves n bytes per
 * interval_ms, the first at once; for_ms after now (0: never) what is held
 * leaves at once and pacing ends, as it does at io_starttls(). A close
 * waits until the held bytes have left. n 0: nothing. 0, or -1 (no memory).
 */
int io_pace(struct io *io, unsigned n, unsigned interval_ms, unsigned for_ms);

/* io_set_timeout - idle timeout for reads and writes; 0 = none */
void io_set_timeout(struct io *io, unsigned ms);

/* io_set_read_max - high-watermark: read at most this much ahead */
void io_set_read_max(struct io *io, size_t max);

/*
 * io_close - end the connection after what is queued has been sent.
 * The callback then gets IO_CLOSED exactly once (possibly later).
 */
void io_close(struct io *io, enum io_close how);

/* io_closing - io_close() was called */
bool io_closing(const struct io *io);

/* io_error - reason for the last IO_ERROR */
const char *io_error(const struct io *io);

/*
 * io_starttls - from now on, bytes go through TLS as a server (OpenSSL
 * bufferevent filter on the same connection). What waits behind the
 * middleboxes is flushed first, in plaintext. Input already buffered is
 * NOT touched: the caller discards it first (RFC 3207 5, CVE-2011-0411).
 * Takes ownership of ssl. IO_TLSREADY or IO_ERROR follows.
 */
int io_starttls(struct io *io, SSL *ssl);

/* io_ssl - the connection's SSL once io_starttls was called, else NULL */
SSL *io_ssl(const struct io *io);

/* io_tls_error - OpenSSL's reason for the last TLS failure, or NULL */
const char *io_tls_error(const struct io *io);

/*
 * io_close_notify - send a TLS close_notify before the FIN of a later
 * io_close(IO_CLOSE_FIN); without it, TLS sessions end with a bare FIN.
 */
void io_close_notify(struct io *io);

#endif
