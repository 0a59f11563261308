/*
 * io.c - a connection's bytes over a libevent bufferevent, and the exact
 * way it ends (FIN after a flush, or RST).
 *
 * Does: buffering, watermarks, idle timeouts, TLS on the same connection
 * (libevent's OpenSSL filter), and closing: wait until every queued byte
 * has left (bounded), then either RST (SO_LINGER 0) or shutdown(SHUT_WR)
 * and keep reading until the peer's EOF on a dup of the socket, so that
 * the close() never turns our FIN into a RST. Closing a TLS connection
 * sends no close_notify unless asked (io_close_notify); IO_CLOSE_HOLD none.
 *
 * Plaintext takes a shorter path than the bufferevent's own (which costs
 * an ioctl(FIONREAD) per read and two epoll_ctl per reply): one persistent
 * read event that recv()s into the input buffer, and replies written with
 * one writev() right after the callback that queued them (an active
 * event, no syscall to schedule). Only a write that would block hands the
 * rest to the bufferevent's write event. TLS: the bufferevent (io_tls_flush).
 *
 * With a middlebox chain (io_via), every read passes the boxes before the
 * session sees it (io_input is then what they let through), and what the
 * session writes waits in io_output until a flush (io_flush, io_close,
 * io_starttls, or the loop turn after it was written) passes it through
 * them to the socket. A box's cut reaches the session as IO_CUT
 * (io_via.c holds the chain's entry points). It counts the socket's bytes
 * both ways (io_bytes), for the transcript's close event. Paced output
 * (io_pace) waits in io_pace.c's buffer before all of this.
 * Does not: parse anything, know about SMTP or profiles.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include "io.h"
#include "io_int.h"
#include "log.h"
#include "tls_conn.h"
#include "via.h"

static void io_eventcb(struct bufferevent *bev, short what, void *arg);
static void io_readcb(struct bufferevent *bev, void *arg);
static void io_close_step(struct io *io);
static void io_direct_stop(struct io *io);

/* Deliver IO_CLOSED from the loop, never from inside a caller. */
static void
io_notify_closed(void *arg)
{
	struct io *io = arg;

	io->closed_pending = true;
	event_active(io->aux, EV_TIMEOUT, 0);
}

static void
io_drain_done(struct io *io)
{
	if (io->drain_ev != NULL) {
		event_free(io->drain_ev);
		io->drain_ev = NULL;
	}
	if (io->drain_fd >= 0) {
		close(io->drain_fd);
		io->drain_fd = -1;
	}
	io_notify_closed(io);
}

/* The drain's clock: monotonic, so a clock step cannot stretch it. */
static void
io_drain_now(struct timeval *now)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now->tv_sec = ts.tv_sec;
	now->tv_usec = ts.tv_nsec / 1000;
}

/* Wait for the peer's next bytes, but only until IO_DRAIN_MS after our
 * FIN: a deadline, not an idle timer, so a client that trickles bytes
 * cannot hold the descriptor past max_sessions for long. -1: time is up. */
static int
io_drain_rearm(struct io *io)
{
	struct timeval now, left;

	io_drain_now(&now);
	if (!timercmp(&now, &io->drain_until, <))
		return -1;
	timersub(&io->drain_until, &now, &left);
	return event_add(io->drain_ev, &left);
}

/* After our FIN: discard what the peer still sends until its EOF. */
static void
io_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct io *io = arg;
	char buf[4096];
	ssize_t n;

	if (what & EV_TIMEOUT) {
		io_drain_done(io);
		return;
	}
	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		if (++io->drain_reads > 256) /* a peer that never stops */
			break;
	if (n == 0 || io->drain_reads > 256 ||
	    (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
	     errno != EINTR) ||
	    io_drain_rearm(io) == -1)
		io_drain_done(io);
}

/* Everything queued has left (or the wait is over): end the connection. */
static void
io_final(struct io *io)
{
	struct linger lg = {1, 0};
	struct timeval tv = {IO_DRAIN_MS / 1000, (IO_DRAIN_MS % 1000) * 1000};

	if (io->bev == NULL)
		return;
	event_del(io->aux); /* no flush or poll from now on */
	io->flush_queued = false;
	if (io->how == IO_CLOSE_RST) {
		setsockopt(io->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		io->drain_fd = -1;
	} else if (io->how == IO_CLOSE_HOLD) {
		io->drain_fd = dup(io->fd); /* no FIN: the socket lives on */
	} else if (shutdown(io->fd, SHUT_WR) == 0 && !io->rd_done)
		io->drain_fd = dup(io->fd); /* the FIN is out: drain */
	else
		/* Nothing to drain: the peer has sent its FIN (nothing can
		 * follow it, so close() sends no RST), or the connection is
		 * gone already (ENOTCONN: a client that closed without
		 * waiting for the 221). */
		io->drain_fd = -1;
	io_direct_stop(io);
	tls_conn_keep_session(io->ssl); /* no close_notify */
	/* BEV_OPT_CLOSE_ON_FREE: close(fd); a TLS filter also frees the
	 * socket's bufferevent and the SSL, and sends nothing by itself. */
	bufferevent_free(io->bev);
	io->bev = NULL;
	io->under = NULL;
	io->ssl = NULL;
	if (io->drain_fd < 0) {
		io_notify_closed(io);
		return;
	}
	if (io->how == IO_CLOSE_HOLD &&
	    via_hold(io->via, io->base, io->drain_fd, io_notify_closed, io) ==
	        0) {
		io->drain_fd = -1; /* the chain's now: it closes it */
		return;
	}
	/* Not EV_PERSIST: a persistent event restarts its timeout on every
	 * read; io_drain_cb re-adds it with what is left until drain_until. */
	io->drain_ev =
	    event_new(io->base, io->drain_fd, EV_READ, io_drain_cb, io);
	io_drain_now(&io->drain_until);
	timeradd(&io->drain_until, &tv, &io->drain_until);
	if (io->drain_ev == NULL || event_add(io->drain_ev, &tv) == -1)
		io_drain_done(io);
}

/* Closing: poll until the output (and, under TLS, the socket's buffer
 * below the filter) is empty, at most IO_DRAIN_MS. */
static void
io_close_step(struct io *io)
{
	struct timeval poll = {0, 5000};

	if (io->bev == NULL)
		return;
	/* After a reset (say) the queue never drains: do not poll for it. */
	if (!io->broken && io_queued(io) != 0 &&
	    io->flush_waited++ < IO_DRAIN_MS / 5) {
		evtimer_add(io->aux, &poll);
		return;
	}
	io_final(io);
}

/* A box cut the connection: tell the session how. */
static void
io_cut(struct io *io, enum mbox_verdict v)
{
	io->cut_how = v == MBOX_CUT_RST ? IO_CLOSE_RST : IO_CLOSE_HOLD;
	io->cb(io, IO_CUT, io->arg);
}

static void
io_readcb(struct bufferevent *bev, void *arg)
{
	struct io *io = arg;
	enum mbox_verdict v = MBOX_FORWARD;

	if (io->closing) {
		struct evbuffer *in = bufferevent_get_input(bev);
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if (io->via != NULL)
		v = via_read(io->via, bufferevent_get_input(bev));
	io->cb(io, IO_DATAIN, io->arg);
	/* What the boxes let through before the cut came first. */
	if (v != MBOX_FORWARD && !io->closing)
		io_cut(io, v);
}

static void
io_writecb(struct bufferevent *bev, void *arg)
{
	struct io *io = arg;

	/* Plaintext: the write event was only borrowed for a full socket. */
	if (io->direct && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_disable(bev, EV_WRITE);
	if (io->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			io_close_step(io); /* maybe done already */
		return;
	}
	io->cb(io, IO_LOWAT, io->arg);
}

static void
io_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct io *io = arg;
	unsigned long e;

	if (what & BEV_EVENT_ERROR) {
		int se = EVUTIL_SOCKET_ERROR();

		/* The socket failed. (A TLS error leaves it whole, with an
		 * alert to send: that one still flushes.) */
		io->broken = true;
		snprintf(io->error, sizeof(io->error), "%s",
		         evutil_socket_error_to_string(se));
		if (io->ssl != NULL &&
		    (e = bufferevent_get_openssl_error(bev)) != 0) {
			ERR_error_string_n(e, io->error, sizeof(io->error));
			io->tls_failed = true;
			io->broken = false;
			while (bufferevent_get_openssl_error(bev) != 0)
				;
		}
	}
	if ((what & BEV_EVENT_CONNECTED) && io->ssl != NULL && !io->closing) {
		io->cb(io, IO_TLSREADY, io->arg);
		return;
	}
	if (io->closing) {
		/* An error or EOF while flushing: nothing more will leave. */
		io_final(io);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		io->cb(io, IO_TIMEOUT, io->arg);
	else if (what & BEV_EVENT_EOF)
		io->cb(io, IO_DISCONNECTED, io->arg);
	else if (what & BEV_EVENT_ERROR)
		io->cb(io, IO_ERROR, io->arg);
}

/*
 * Plaintext path. Reading is armed unless paused, full, done or closing;
 * re-adding only on a change keeps epoll_ctl off the per-command path.
 */
static void
io_direct_arm(struct io *io)
{
	bool want = io->direct && io->bev != NULL && !io->closing &&
	            !io->rd_paused && !io->rd_full && !io->rd_done;
	bool on = event_pending(io->rd_ev, EV_READ, NULL);

	if (want && !on)
		event_add(io->rd_ev, io->idle.tv_sec || io->idle.tv_usec
		                         ? &io->idle
		                         : NULL);
	else if (!want && on)
		event_del(io->rd_ev);
}

/* The socket is readable (or idle too long): one recv() into the input. */
static void
io_direct_read(evutil_socket_t fd, short what, void *arg)
{
	struct io *io = arg;
	/* Not room reserved in the input: a fresh 16 KiB chain per read. */
	static _Thread_local char rbuf[IO_READ_MAX];
	struct evbuffer *in = bufferevent_get_input(io->bev);
	size_t len = evbuffer_get_length(in), room = IO_READ_MAX;
	ssize_t n;
	int e;

	if (what & EV_TIMEOUT) {
		/* As a bufferevent does: reading stops until io_resume(). */
		io->rd_paused = true;
		io_direct_arm(io);
		io_eventcb(io->bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT, io);
		return;
	}
	if (io->read_max != 0 && len + room > io->read_max)
		room = len >= io->read_max ? 0 : io->read_max - len;
	/* A socket bufferevent freezes its input's end (and its output's
	 * start) against its user; its own reads and writes thaw them so. */
	evbuffer_unfreeze(in, 0);
	if (room == 0) {
		evbuffer_freeze(in, 0);
		io->rd_full = true; /* wait until the session drains it */
		evbuffer_cb_set_flags(in, io->in_cb, EVBUFFER_CB_ENABLED);
		io_direct_arm(io);
		return;
	}
	n = recv(fd, rbuf, room, 0);
	e = errno;
	if (n > 0) {
		io->bytes_in += (uint64_t)n;
		if (evbuffer_add(in, rbuf, (size_t)n) == -1) {
			n = -1; /* no memory: an error, not bytes lost quietly
			         */
			e = ENOMEM;
		}
	}
	evbuffer_freeze(in, 0);
	if (n <= 0) {
		if (n < 0 && (e == EAGAIN || e == EWOULDBLOCK || e == EINTR))
			return;
		io->rd_done = true;
		io_direct_arm(io);
		errno = e; /* io_eventcb reads it */
		io_eventcb(io->bev,
		           BEV_EVENT_READING |
		               (n == 0 ? BEV_EVENT_EOF : BEV_EVENT_ERROR),
		           io);
		return;
	}
	io_readcb(io->bev, io);
}

/* The session drained input that had reached read_max: read again. */
static void
io_direct_inbuf(struct evbuffer *buf, const struct evbuffer_cb_info *info,
                void *arg)
{
	struct io *io = arg;

	if (!io->rd_full || info->n_deleted == 0 ||
	    (io->read_max != 0 && evbuffer_get_length(buf) >= io->read_max))
		return;
	io->rd_full = false;
	evbuffer_cb_clear_flags(buf, io->in_cb, EVBUFFER_CB_ENABLED);
	io_direct_arm(io);
}

/* Write what is queued now; 0, or -1 on a socket error (errno). */
static int
io_direct_write(struct io *io)
{
	struct evbuffer *out = bufferevent_get_output(io->bev);
	int n, rc = 0;

	evbuffer_unfreeze(out, 1);
	while (evbuffer_get_length(out) != 0) {
		if ((n = evbuffer_write(out, io->fd)) > 0) {
			io->bytes_out += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			rc = -1;
		break;
	}
	evbuffer_freeze(out, 1);
	return rc;
}

/* After the callback that queued replies: send them with one writev().
 * What the socket does not take goes to the bufferevent's write event. */
static void
io_direct_flush(struct io *io)
{
	if (!io->direct || io->bev == NULL ||
	    (bufferevent_get_enabled(io->bev) & EV_WRITE))
		return; /* gone, TLS now, or the bufferevent is on it */
	if (io_direct_write(io) == -1) {
		io_eventcb(io->bev, BEV_EVENT_WRITING | BEV_EVENT_ERROR, io);
		return;
	}
	if (evbuffer_get_length(bufferevent_get_output(io->bev)) != 0) {
		bufferevent_enable(io->bev, EV_WRITE);
		return;
	}
	io_writecb(io->bev, io); /* drained: IO_LOWAT, or the close goes on */
}

/* TLS: one chain per flush, one record (the filter makes one a chain) */
static void
io_tls_flush(struct io *io)
{
	if (io->tls_out != NULL && io->bev != NULL &&
	    evbuffer_pullup(io->tls_out, -1) != NULL) /* NULL: empty */
		evbuffer_add_buffer(bufferevent_get_output(io->bev),
		                    io->tls_out);
}

/* Output was queued: flush once the current callback has returned. */
static void
io_direct_outbuf(struct evbuffer *buf, const struct evbuffer_cb_info *info,
                 void *arg)
{
	struct io *io = arg;

	if (info->n_added == 0 || io->flush_queued)
		return;
	io->flush_queued = true;
	event_active(io->aux, EV_WRITE, 0);
}

/* The aux event ran: IO_CLOSED, or a flush, or the close's poll. */
static void
io_aux(evutil_socket_t fd, short what, void *arg)
{
	struct io *io = arg;

	if (io->bev == NULL) {
		if (io->closed_pending) {
			io->closed_pending = false;
			io->cb(io, IO_CLOSED, io->arg);
		}
		return;
	}
	if (io->via_flush_queued) {
		io->via_flush_queued = false;
		io_flush(io); /* may cut the connection */
		if (io->bev == NULL)
			return;
	}
	if (io->flush_queued) {
		io->flush_queued = false;
		io_direct_flush(io); /* may end the connection */
		io_tls_flush(io);
	}
	/* A run also cancels the poll timer: a close must keep polling. */
	if (io->bev != NULL && io->closing &&
	    !event_pending(io->aux, EV_TIMEOUT, NULL))
		io_close_step(io);
}

/* Leave the plaintext path (TLS from now on, or the end). */
static void
io_direct_stop(struct io *io)
{
	if (!io->direct)
		return;
	io->direct = false;
	evbuffer_remove_cb_entry(bufferevent_get_output(io->bev), io->out_cb);
	evbuffer_remove_cb_entry(bufferevent_get_input(io->bev), io->in_cb);
	event_free(io->rd_ev);
	io->rd_ev = NULL;
}

/* io_new - wrap a connected, non-blocking socket */
struct io *
io_new(struct event_base *base, evutil_socket_t fd, io_cb cb, void *arg)
{
	struct io *io;

	if ((io = calloc(1, sizeof(*io))) == NULL)
		return NULL;
	io->base = base;
	io->fd = fd;
	io->cb = cb;
	io->arg = arg;
	io->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	io->wire = io->bev != NULL ? bufferevent_get_output(io->bev) : NULL;
	io->drain_fd = -1;
	io->aux = event_new(base, -1, 0, io_aux, io);
	io->rd_ev =
	    event_new(base, fd, EV_READ | EV_PERSIST, io_direct_read, io);
	if (io->bev != NULL) {
		io->out_cb = evbuffer_add_cb(bufferevent_get_output(io->bev),
		                             io_direct_outbuf, io);
		io->in_cb = evbuffer_add_cb(bufferevent_get_input(io->bev),
		                            io_direct_inbuf, io);
	}
	if (io->bev == NULL || io->aux == NULL || io->rd_ev == NULL ||
	    io->out_cb == NULL || io->in_cb == NULL) {
		if (io->bev)
			bufferevent_free(io->bev);
		if (io->aux)
			event_free(io->aux);
		if (io->rd_ev)
			event_free(io->rd_ev);
		free(io);
		return NULL;
	}
	evbuffer_cb_clear_flags(bufferevent_get_input(io->bev), io->in_cb,
	                        EVBUFFER_CB_ENABLED);
	/* The bufferevent's own events stay off until TLS (io_direct_*). */
	io->direct = true;
	bufferevent_disable(io->bev, EV_WRITE); /* on from birth */
	bufferevent_setcb(io->bev, io_readcb, io_writecb, io_eventcb, io);
	io_direct_arm(io);
	return io;
}

/* io_free - release everything now */
void
io_free(struct io *io)
{
	if (io == NULL)
		return;
	if (io->bev != NULL) {
		if (io->closing && io->how == IO_CLOSE_RST) {
			struct linger lg = {1, 0};
			setsockopt(io->fd, SOL_SOCKET, SO_LINGER, &lg,
			           sizeof(lg));
		}
		io_direct_stop(io);
		bufferevent_free(io->bev);
	}
	if (io->rd_ev != NULL)
		event_free(io->rd_ev);
	if (io->tls_out != NULL)
		evbuffer_free(io->tls_out);
	if (io->drain_ev != NULL)
		event_free(io->drain_ev);
	if (io->drain_fd >= 0)
		close(io->drain_fd);
	event_free(io->aux);
	io_pace_free(io);
	via_free(io->via);
	free(io);
}

/* io_input - bytes received (and let through) and not yet consumed */
struct evbuffer *
io_input(struct io *io)
{
	return io->via != NULL ? via_input(io->via)
	                       : bufferevent_get_input(io->bev);
}

/* io_output - where to queue bytes for sending */
struct evbuffer *
io_output(struct io *io)
{
	if (io->pace != NULL)
		return io_pace_output(io);
	return io->via != NULL ? via_output(io->via) : io->wire;
}

/* io_queued - bytes waiting to be sent */
size_t
io_queued(const struct io *io)
{
	size_t n;

	if (io->bev == NULL)
		return 0;
	n = evbuffer_get_length(bufferevent_get_output(io->bev));
	n += io_pace_queued(io);
	n += io->tls_out != NULL ? evbuffer_get_length(io->tls_out) : 0;
	if (io->under != NULL)
		n += evbuffer_get_length(bufferevent_get_output(io->under));
	return n;
}

/* TLS: the socket's bufferevent reads and writes by itself; its buffers
 * tell what came in (added to input) and what left (drained from output). */
static void
io_count_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
            void *arg)
{
	struct io *io = arg;

	if (io->under != NULL && buf == bufferevent_get_input(io->under))
		io->bytes_in += info->n_added;
	else
		io->bytes_out += info->n_deleted;
}

/* io_bytes - socket bytes so far, in and out (written or queued) */
void
io_bytes(const struct io *io, uint64_t *in, uint64_t *out)
{
	if (in != NULL)
		*in = io->bytes_in;
	if (out != NULL)
		*out = io->bytes_out + io_queued(io);
}

/* io_pause - stop reading */
void
io_pause(struct io *io)
{
	if (io->direct) {
		io->rd_paused = true;
		io_direct_arm(io);
	} else if (io->bev != NULL && !io->closing)
		bufferevent_disable(io->bev, EV_READ);
}

/* io_resume - read again */
void
io_resume(struct io *io)
{
	if (io->direct) {
		io->rd_paused = false;
		io_direct_arm(io);
	} else if (io->bev != NULL && !io->closing)
		bufferevent_enable(io->bev, EV_READ);
}

/* io_set_timeout - idle timeout for reads and writes; 0 = none */
void
io_set_timeout(struct io *io, unsigned ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (io->bev == NULL || io->closing)
		return;
	io->idle = tv;
	if (io->direct) {
		/* Reading: our event; a full socket: the bufferevent's. */
		if (!event_pending(io->rd_ev, EV_READ, NULL))
			; /* armed with io->idle when reading starts again */
		else if (ms == 0)
			event_remove_timer(io->rd_ev); /* add(NULL) keeps it */
		else
			event_add(io->rd_ev, &tv);
		bufferevent_set_timeouts(io->bev, NULL, ms == 0 ? NULL : &tv);
	} else if (ms == 0)
		bufferevent_set_timeouts(io->bev, NULL, NULL);
	else
		bufferevent_set_timeouts(io->bev, &tv, &tv);
}

/* io_set_read_max - high-watermark for reading ahead */
void
io_set_read_max(struct io *io, size_t max)
{
	io->read_max = max;
	if (!io->direct)
		bufferevent_setwatermark(io->bev, EV_READ, 0, max);
}

/* io_close - end the connection after what is queued has been sent */
void
io_close(struct io *io, enum io_close how)
{
	if (io->closing || io->bev == NULL || io_pace_close(io, how))
		return;
	/* What is still on its way through the boxes leaves first (the
	 * caller has flushed: a cut found here only changes how). */
	if (io->via != NULL) {
		via_write(io->via, io->wire);
		/* after a cut the connection ends the cut's way (a
		 * drop-connection sends no FIN, whatever the caller says) */
		if (via_cut(io->via) != MBOX_FORWARD)
			how = via_cut(io->via) == MBOX_CUT_RST ? IO_CLOSE_RST
			                                       : IO_CLOSE_HOLD;
	}
	io_tls_flush(io); /* before a close_notify */
	io->closing = true;
	io->how = how;
	/* close_notify only when a rule asked for it; otherwise a TLS
	 * session ends with a bare FIN, as the emulated peers do. */
	if (io->ssl != NULL && how == IO_CLOSE_FIN && io->close_notify)
		SSL_shutdown(io->ssl);
	/* Read no more: nothing is delivered from now on. */
	bufferevent_disable(io->bev, EV_READ);
	if (io->direct) {
		io_direct_arm(io);
		/* The last reply leaves now, not after another loop turn. */
		if (!(bufferevent_get_enabled(io->bev) & EV_WRITE) &&
		    io_direct_write(io) != 0) {
			io_final(io); /* nothing more will leave */
			return;
		}
	}
	evbuffer_drain(bufferevent_get_input(io->bev),
	               evbuffer_get_length(bufferevent_get_input(io->bev)));
	if (io->via != NULL)
		evbuffer_drain(via_input(io->via),
		               evbuffer_get_length(via_input(io->via)));
	bufferevent_set_timeouts(io->bev, NULL, NULL);
	io_close_step(io);
}

/* io_closing - io_close() was called */
bool
io_closing(const struct io *io)
{
	return io->closing || io_pace_closing(io);
}

/* io_error - reason for the last IO_ERROR */
const char *
io_error(const struct io *io)
{
	return io->error[0] ? io->error : "connection error";
}

/* io_starttls - switch the connection to TLS, as a server */
int
io_starttls(struct io *io, SSL *ssl)
{
	struct bufferevent *f;

	/* The 220 (say) passes the boxes in plaintext, before TLS. */
	io_pace_end(io);
	io_flush(io);
	if (io->bev == NULL || io->closing || io->ssl != NULL) {
		SSL_free(ssl);
		return -1;
	}
	if (io->direct) {
		/* The bufferevent takes over: the 220 (if still queued)
		 * leaves first, then the filter's handshake bytes. */
		io_direct_stop(io);
		bufferevent_setwatermark(io->bev, EV_READ, 0, io->read_max);
		if (io->idle.tv_sec || io->idle.tv_usec)
			bufferevent_set_timeouts(io->bev, &io->idle, &io->idle);
		bufferevent_enable(io->bev, EV_READ | EV_WRITE);
	}
	f = bufferevent_openssl_filter_new(io->base, io->bev, ssl,
	                                   BUFFEREVENT_SSL_ACCEPTING,
	                                   BEV_OPT_CLOSE_ON_FREE);
	if (f == NULL) {
		SSL_free(ssl);
		return -1;
	}
	/* A peer that drops TCP without close_notify is ordinary here. */
	bufferevent_openssl_set_allow_dirty_shutdown(f, 1);
	io->under = io->bev;
	io->bev = f;
	io->ssl = ssl;
	/* Count the socket's bytes from now on (direct reads counted so far;
	 * anything still queued leaves through the bufferevent: counted). */
	evbuffer_add_cb(bufferevent_get_input(io->under), io_count_cb, io);
	evbuffer_add_cb(bufferevent_get_output(io->under), io_count_cb, io);
	if ((io->tls_out = evbuffer_new()) == NULL ||
	    evbuffer_add_cb(io->tls_out, io_direct_outbuf, io) == NULL)
		return -1; /* the caller closes; io_free frees tls_out */
	io->wire = io->tls_out;
	bufferevent_setcb(f, io_readcb, io_writecb, io_eventcb, io);
	bufferevent_enable(f, EV_READ | EV_WRITE);
	return 0;
}

/* io_ssl - the connection's SSL, or NULL */
SSL *
io_ssl(const struct io *io)
{
	return io->ssl;
}

/* io_tls_error - OpenSSL's reason for the last TLS failure, or NULL */
const char *
io_tls_error(const struct io *io)
{
	return io->tls_failed ? io->error : NULL;
}

/* io_close_notify - send close_notify before a later FIN */
void
io_close_notify(struct io *io)
{
	io->close_notify = true;
}

/* io_flush - pass what was written through the boxes now */
void
io_flush(struct io *io)
{
	enum mbox_verdict v;

	if (io->via == NULL || io->bev == NULL || io->closing)
		return;
	io->via_flush_queued = false;
	v = via_write(io->via, io->wire); /* TLS: a record at the aux run */
	if (v != MBOX_FORWARD)
		io_cut(io, v);
}
