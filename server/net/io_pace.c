/*
 * io_pace.c - a connection's output let out slowly: n bytes per interval
 * (a tarpit's stutter), for the whole connection or until a deadline.
 *
 * While pacing, io_output() is a holding buffer; a timer moves n bytes at
 * a time from it to where output went before (the middlebox chain, or the
 * socket's queue), at most one move per interval, the first at once. A
 * close waits until the held bytes have left, then goes on as asked.
 * Once the deadline has passed, or at STARTTLS, what is held leaves at
 * once and pacing ends.
 *
 * Does not: decide who is paced or how fast (the session, from its
 * profile), or touch the socket itself (io.c writes).
 */
#include <stdlib.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "io.h"
#include "io_int.h"
#include "via.h"

struct io_pace {
	struct evbuffer *buf; /* what the session wrote, not yet let out */
	struct event *tick;
	size_t n;             /* bytes per move */
	uint64_t interval_ms; /* between moves */
	uint64_t until_ms;    /* monotonic; 0: pace for ever */
	uint64_t last_ms;     /* the last move; 0: none yet */
	bool close_pending;   /* io_close() waits for buf to empty */
	enum io_close close_how;
};

static uint64_t
io_pace_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Where output goes once it has been let out. */
static struct evbuffer *
io_pace_dst(struct io *io)
{
	return io->via != NULL ? via_output(io->via) : io->wire;
}

/* Arm the next move: at once if none came before or the deadline has
 * passed, else an interval after the last one. */
static void
io_pace_arm(struct io *io)
{
	struct io_pace *pc = io->pace;
	uint64_t now = io_pace_now(), at = now;
	struct timeval tv;

	if (event_pending(pc->tick, EV_TIMEOUT, NULL))
		return;
	if (pc->last_ms != 0 && (pc->until_ms == 0 || now < pc->until_ms))
		at = pc->last_ms + pc->interval_ms;
	at = at < now ? now : at;
	tv.tv_sec = (time_t)((at - now) / 1000);
	tv.tv_usec = (suseconds_t)((at - now) % 1000 * 1000);
	evtimer_add(pc->tick, &tv);
}

/* The session wrote: let it out in time. */
static void
io_pace_added(struct evbuffer *buf, const struct evbuffer_cb_info *info,
              void *arg)
{
	struct io *io = arg;

	(void)buf;
	if (info->n_added != 0)
		io_pace_arm(io);
}

/* io_pace_free - stop pacing, dropping what is held (io_free) */
void
io_pace_free(struct io *io)
{
	struct io_pace *pc = io->pace;

	if (pc == NULL)
		return;
	io->pace = NULL;
	event_free(pc->tick);
	evbuffer_free(pc->buf);
	free(pc);
}

/* io_pace_end - what is held leaves now, and pacing ends */
void
io_pace_end(struct io *io)
{
	struct io_pace *pc = io->pace;

	if (pc == NULL)
		return;
	if (io->bev != NULL)
		evbuffer_add_buffer(io_pace_dst(io), pc->buf);
	io_pace_free(io);
}

static void
io_pace_tick(evutil_socket_t fd, short what, void *arg)
{
	struct io *io = arg;
	struct io_pace *pc = io->pace;
	uint64_t now = io_pace_now();
	bool over = pc->until_ms != 0 && now >= pc->until_ms;
	size_t len = evbuffer_get_length(pc->buf);
	enum io_close how = pc->close_how;
	bool close = pc->close_pending;

	(void)fd;
	(void)what;
	if (io->bev == NULL) /* the connection is gone already */
		return;
	if (io->broken) {
		/* nothing more will leave: a waiting close goes on now */
		io_pace_free(io);
		if (close)
			io_close(io, how);
		return;
	}
	if (over) {
		io_pace_end(io);
		pc = NULL;
	} else {
		evbuffer_remove_buffer(pc->buf, io_pace_dst(io),
		                       len < pc->n ? len : pc->n);
		pc->last_ms = now;
	}
	if (io->via != NULL)
		io_flush(io); /* through the boxes now (a cut may follow) */
	if (pc != NULL && io->pace == pc && evbuffer_get_length(pc->buf) != 0) {
		io_pace_arm(io);
		return;
	}
	if (close) {
		/* the held bytes have all left: the close goes on */
		io_pace_free(io);
		io_close(io, how);
	}
}

/* io_pace - let output out n bytes per interval (see io.h) */
int
io_pace(struct io *io, unsigned n, unsigned interval_ms, unsigned for_ms)
{
	struct io_pace *pc;

	if (n == 0 || io->pace != NULL || io->bev == NULL)
		return 0;
	if ((pc = calloc(1, sizeof(*pc))) == NULL)
		return -1;
	pc->buf = evbuffer_new();
	pc->tick = evtimer_new(io->base, io_pace_tick, io);
	if (pc->buf == NULL || pc->tick == NULL ||
	    evbuffer_add_cb(pc->buf, io_pace_added, io) == NULL) {
		if (pc->buf != NULL)
			evbuffer_free(pc->buf);
		if (pc->tick != NULL)
			event_free(pc->tick);
		free(pc);
		return -1;
	}
	pc->n = n;
	pc->interval_ms = interval_ms;
	pc->until_ms = for_ms != 0 ? io_pace_now() + for_ms : 0;
	io->pace = pc;
	return 0;
}

/* io_pace_output - the holding buffer, or NULL when not pacing */
struct evbuffer *
io_pace_output(struct io *io)
{
	return io->pace != NULL ? io->pace->buf : NULL;
}

/* io_pace_queued - bytes held */
size_t
io_pace_queued(const struct io *io)
{
	return io->pace != NULL ? evbuffer_get_length(io->pace->buf) : 0;
}

/* io_pace_close - a close while bytes are held waits for them: true */
bool
io_pace_close(struct io *io, enum io_close how)
{
	struct io_pace *pc = io->pace;

	if (pc == NULL)
		return false;
	if (evbuffer_get_length(pc->buf) == 0) {
		io_pace_free(io);
		return false;
	}
	if (!pc->close_pending) {
		pc->close_pending = true;
		pc->close_how = how;
	}
	/* nothing is read while the last bytes trickle out */
	io_pause(io);
	return true;
}

/* io_pace_closing - a close waits for the held bytes */
bool
io_pace_closing(const struct io *io)
{
	return io->pace != NULL && io->pace->close_pending;
}
