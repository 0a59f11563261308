/*
 * io_via.c - a connection's middlebox chain as io.c sees it: set it up
 * (io_via), flush what the session wrote behind the boxes, and tell the
 * session how a box's cut ends the connection and which lines never
 * crossed.
 *
 * Does not: filter anything itself (via.c runs the boxes), touch sockets.
 */
#include <event2/event.h>

#include "io.h"
#include "io_int.h"
#include "via.h"

/* Output was queued behind the boxes: flush after this callback (unless
 * the session does it first). */
static void
io_via_queued(void *arg)
{
	struct io *io = arg;

	if (io->via_flush_queued)
		return;
	io->via_flush_queued = true;
	event_active(io->aux, EV_WRITE, 0);
}

/* io_via - run this connection through a chain of middleboxes */
int
io_via(struct io *io, const struct mbox_config *const *boxes, size_t n,
       bool encrypted, unsigned long session, const char *profile)
{
	if (n == 0)
		return 0;
	io->via =
	    via_new(boxes, n, encrypted, session, profile, io_via_queued, io);
	return io->via != NULL ? 0 : -1;
}

/* io_cut_how - how the last IO_CUT wants the connection ended */
enum io_close
io_cut_how(const struct io *io)
{
	return io->cut_how;
}

/* io_cut_reason - which box cut, and how */
const char *
io_cut_reason(const struct io *io)
{
	return io->via != NULL ? via_cut_reason(io->via) : "cut";
}

/* io_lost - why what is written now never reaches the client, or NULL */
const char *
io_lost(const struct io *io)
{
	return io->via != NULL ? via_lost(io->via) : NULL;
}

/* io_logs_lines - a box has put the client's lines in the transcript */
bool
io_logs_lines(const struct io *io)
{
	return io->via != NULL && via_logs_lines(io->via);
}
