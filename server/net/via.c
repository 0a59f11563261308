/*
 * via.c - the middlebox chain between a connection's client and its
 * server engine, as a filter on the bytes (io.c calls it).
 *
 * Does: run every client read (one "packet") through the boxes from the
 * client's side inwards, and every flush of server output through them
 * outwards; record the client's lines as the outermost box saw them and
 * every change a box makes (the two-hop transcript), a line a box did not
 * pass marked as not delivered; say which box cut the connection and how
 * (after a cut nothing passes: what the server still writes is
 * discarded, and the session records it as not delivered, via_lost); log
 * each packet (one read) so that tests can shape them; after a
 * drop-connection hold the socket silently until the client closes it or
 * the box's timeout_conn expires (via_hold), and record how that ended.
 *
 * Does not: rewrite anything itself (middlebox.c does), decide how the
 * session ends (io reports the cut, the session closes, io resets the
 * socket or hands it to via_hold), or know which firewall it plays. In a chain,
 * the client's lines are the outermost box's view: a line an inner box swallows
 * shows as that box's "server got" note, not on the C: line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "transcript.h"
#include "via.h"

struct via {
	struct mbox *boxes; /* client side first */
	size_t n;
	struct evbuffer *in;    /* what the boxes let through to the server */
	struct evbuffer *out;   /* the server's output, not yet written */
	struct evbuffer *chunk; /* one read, on its way through */
	struct evbuffer *tmp;
	struct evbuffer_cb_entry *out_cb;
	bool writing; /* the boxes add to out themselves: not "queued" */
	void (*queued)(void *arg);
	void *arg;
	unsigned long session; /* for the transcript */
	const char *profile;
	const char *cut_box; /* the box that cut, or NULL */
	const struct mbox_config *cut_cfg;
	enum mbox_verdict cut_verdict; /* MBOX_FORWARD until a box cuts */
	char cut_why[160];
	/* a client line the outermost box did not pass, waiting for the
	 * note that says why */
	struct evbuffer *dropped;
	bool has_dropped;
	unsigned long packets; /* client reads the boxes have seen */
	size_t sent_ok;        /* bytes in out written before a cut */
	/* via_hold: the held socket, its event, since when, what the client
	 * sent meanwhile, and whom to tell when it is over */
	evutil_socket_t hold_fd;
	struct event *hold_ev;
	struct timespec hold_t0;
	size_t hold_bytes;
	void (*hold_done)(void *arg);
	void *hold_arg;
};

/* The outermost box's client line that did not pass, now with why. */
static void
via_dropped_out(struct via *v, const char *why)
{
	char lost[256];
	struct tr_event ev = {
	    .session = v->session,
	    .kind = TR_CLIENT,
	    .profile = v->profile,
	    .lost = lost,
	};

	if (!v->has_dropped)
		return;
	v->has_dropped = false;
	snprintf(lost, sizeof(lost), "middlebox %s%s%s", v->boxes[0].cfg->name,
	         why != NULL ? ": " : "", why != NULL ? why : "");
	ev.len = evbuffer_get_length(v->dropped);
	ev.text = (const char *)evbuffer_pullup(v->dropped, -1);
	transcript_emit(&ev);
	evbuffer_drain(v->dropped, ev.len);
}

static void
via_note(void *arg, const struct mbox_config *box, const struct mbox_note *n)
{
	struct via *v = arg;

	if (n->why == NULL) {
		/* A client line: logged once, as the outermost box saw it. */
		if (box != v->boxes[0].cfg)
			return;
		if (n->dropped) {
			/* logged with the reason, which the next note gives */
			via_dropped_out(v, NULL);
			evbuffer_add(v->dropped, n->orig, n->orig_len);
			v->has_dropped = true;
			return;
		}
		struct tr_event line = {
		    .session = v->session,
		    .kind = TR_CLIENT,
		    .text = n->orig,
		    .len = n->orig_len,
		    .profile = v->profile,
		};
		transcript_emit(&line);
		return;
	}
	if (box == v->boxes[0].cfg)
		via_dropped_out(v, n->why);
	struct tr_event ev = {
	    .session = v->session,
	    .kind = n->dir == MBOX_TO_CLIENT ? TR_CLIENT_SAW : TR_SERVER_GOT,
	    .text = n->now != NULL ? n->now : "",
	    .len = n->now != NULL ? n->now_len : 0,
	    .rule = box->name,
	    .why = n->why,
	    .profile = v->profile,
	};

	transcript_emit(&ev);
}

/* Output was written: tell the owner, unless the boxes wrote it. */
static void
via_out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct via *v = arg;

	if (info->n_added == 0 || v->writing)
		return;
	/* written before any cut: recorded as crossing (via_lost NULL) */
	if (v->cut_box == NULL)
		v->sent_ok += info->n_added;
	v->queued(v->arg);
}

/* via_new - the boxes of one connection, client side first */
struct via *
via_new(const struct mbox_config *const *boxes, size_t n, bool encrypted,
        unsigned long session, const char *profile, void (*queued)(void *),
        void *arg)
{
	struct via *v;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return NULL;
	v->boxes = calloc(n, sizeof(*v->boxes));
	v->in = evbuffer_new();
	v->out = evbuffer_new();
	v->chunk = evbuffer_new();
	v->tmp = evbuffer_new();
	v->dropped = evbuffer_new();
	if (v->boxes == NULL || v->in == NULL || v->out == NULL ||
	    v->chunk == NULL || v->tmp == NULL || v->dropped == NULL ||
	    (v->out_cb = evbuffer_add_cb(v->out, via_out_cb, v)) == NULL) {
		via_free(v);
		return NULL;
	}
	v->queued = queued;
	v->arg = arg;
	v->hold_fd = -1;
	for (size_t i = 0; i < n; i++) {
		mbox_init(&v->boxes[i], boxes[i]);
		/* A box cannot read a connection that is TLS from the
		 * start (an implicit-TLS listener). */
		if (encrypted)
			mbox_go_blind(&v->boxes[i]);
	}
	v->n = n;
	v->session = session;
	v->profile = profile;
	return v;
}

/* via_free - release a chain */
void
via_free(struct via *v)
{
	if (v == NULL)
		return;
	/* the process is ending a held connection: let it go */
	if (v->hold_ev != NULL)
		event_free(v->hold_ev);
	if (v->hold_fd >= 0)
		close(v->hold_fd);
	free(v->boxes);
	if (v->out != NULL)
		evbuffer_free(v->out); /* and its callback */
	if (v->in != NULL)
		evbuffer_free(v->in);
	if (v->chunk != NULL)
		evbuffer_free(v->chunk);
	if (v->tmp != NULL)
		evbuffer_free(v->tmp);
	if (v->dropped != NULL)
		evbuffer_free(v->dropped);
	free(v);
}

/* Run one chunk through the boxes in order (to_server: 0..n-1, else
 * n-1..0), in place. */
static enum mbox_verdict
via_pass(struct via *v, struct evbuffer *chunk, bool to_server)
{
	enum mbox_verdict verdict = MBOX_FORWARD, vi;

	for (size_t k = 0; k < v->n; k++) {
		size_t i = to_server ? k : v->n - 1 - k;
		size_t len = evbuffer_get_length(chunk);
		const char *p = (const char *)evbuffer_pullup(chunk, -1);

		evbuffer_drain(v->tmp, evbuffer_get_length(v->tmp));
		if (to_server)
			vi = mbox_from_client(&v->boxes[i], p, len, v->tmp,
			                      via_note, v);
		else
			vi = mbox_from_server(&v->boxes[i], p, len, v->tmp,
			                      via_note, v);
		evbuffer_drain(chunk, len);
		evbuffer_add_buffer(chunk, v->tmp);
		if (vi != MBOX_FORWARD) {
			verdict = vi;
			v->cut_box = v->boxes[i].cfg->name;
			v->cut_cfg = v->boxes[i].cfg;
			v->cut_verdict = vi;
			/* never read by the box: discarded with the cut */
			if (to_server)
				v->hold_bytes = v->boxes[i].cut_rest;
			snprintf(v->cut_why, sizeof(v->cut_why),
			         "middlebox %s: %s", v->cut_box,
			         vi == MBOX_CUT_RST ? "reset"
			                            : "drop-connection");
			break; /* nothing goes past a box that cut */
		}
	}
	return verdict;
}

/* via_input - what the boxes let through, not yet read */
struct evbuffer *
via_input(struct via *v)
{
	return v->in;
}

/* via_output - the server's output, waiting for via_write */
struct evbuffer *
via_output(struct via *v)
{
	return v->out;
}

/* via_read - one client read, as the server engine will get it */
enum mbox_verdict
via_read(struct via *v, struct evbuffer *raw)
{
	enum mbox_verdict verdict;

	if (evbuffer_get_length(raw) == 0)
		return MBOX_FORWARD;
	/* A packet, for the boxes, is the bytes of one read: say where each
	 * one ends, so that a test can wait for it before it sends the next
	 * (middlebox.h, "packets"). Blind boxes read none. */
	if (!mbox_blind(&v->boxes[0]) && transcript_wants(TR_INFO)) {
		transcript_printf(v->session, TR_INFO, v->profile,
		                  "packet %lu: %zu bytes from the client",
		                  ++v->packets, evbuffer_get_length(raw));
		/* out now: a reply the client gets is proof its packet
		 * event is in the file */
		transcript_flush();
	}
	evbuffer_add_buffer(v->chunk, raw);
	verdict = via_pass(v, v->chunk, true);
	via_dropped_out(v, NULL); /* a box that gave no reason */
	evbuffer_add_buffer(v->in, v->chunk);
	return verdict;
}

/* via_write - the server's output, as the client will get it */
enum mbox_verdict
via_write(struct via *v, struct evbuffer *out)
{
	enum mbox_verdict verdict;

	if (evbuffer_get_length(v->out) == 0)
		return MBOX_FORWARD;
	v->writing = true;
	verdict = via_pass(v, v->out, false);
	v->writing = false;
	if (verdict != MBOX_FORWARD) {
		/* after a cut nothing reaches the client: the lines were
		 * recorded as not delivered when written (via_lost), but for
		 * any written before the cut and not yet flushed (a timer's
		 * reply meeting a read that cut in the same loop turn) */
		if (v->sent_ok != 0)
			transcript_printf(
			    v->session, TR_WARN, v->profile,
			    "%s: %zu bytes of server output written before the "
			    "cut were discarded with it (the S: lines above "
			    "them did not reach the client)",
			    v->cut_why, v->sent_ok);
		v->sent_ok = 0;
		evbuffer_drain(v->out, evbuffer_get_length(v->out));
		return verdict;
	}
	v->sent_ok = 0;
	evbuffer_add_buffer(out, v->out);
	return verdict;
}

/* via_cut_reason - which box cut, and how */
const char *
via_cut_reason(const struct via *v)
{
	return v->cut_box != NULL ? v->cut_why : "middlebox";
}

/* via_cut - how a box cut the connection: MBOX_FORWARD if none did */
enum mbox_verdict
via_cut(const struct via *v)
{
	return v->cut_verdict;
}

/* via_lost - why what the server writes now never reaches the client
 * (a box cut), or NULL */
const char *
via_lost(const struct via *v)
{
	return v->cut_box != NULL ? v->cut_why : NULL;
}

/* via_timeout_conn - how long the box that dropped the connection keeps
 * its server side (ms) */
unsigned
via_timeout_conn(const struct via *v)
{
	return v->cut_cfg != NULL ? v->cut_cfg->timeout_conn_ms : 0;
}

/* A dropped connection's hold is over: record how */
static void
via_held(struct via *v, bool timed_out, unsigned long ms, size_t discarded)
{
	const char *box = v->cut_box != NULL ? v->cut_box : "?";

	if (timed_out)
		transcript_printf(
		    v->session, TR_WARN, v->profile,
		    "middlebox %s: timeout_conn %u ms expired: the server "
		    "side is closed; the client, told nothing until now, "
		    "gets a RST (model choice); %zu bytes it sent after the "
		    "line the box dropped at were discarded",
		    box, via_timeout_conn(v), discarded);
	else
		transcript_printf(
		    v->session, TR_WARN, v->profile,
		    "middlebox %s: the client gave up on the dropped "
		    "connection after %lu ms (it closed; it never saw a FIN "
		    "or RST); %zu bytes it sent after the line the box "
		    "dropped at were discarded",
		    box, ms, discarded);
}

/*
 * The held socket is readable, or timeout_conn expired: discard what the
 * client sent; at its EOF (it gave up; our close() then reaches a closed
 * socket) or at the timeout (model choice: then reset, the mock must let
 * the socket go some time) the hold is over.
 */
static void
via_hold_cb(evutil_socket_t fd, short what, void *arg)
{
	struct via *v = arg;
	struct linger lg = {1, 0};
	struct timespec now;
	char buf[4096];
	ssize_t n;

	if (!(what & EV_TIMEOUT)) {
		while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
			v->hold_bytes += (size_t)n;
		if (n < 0 &&
		    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (what & EV_TIMEOUT)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	via_held(v, (what & EV_TIMEOUT) != 0,
	         (unsigned long)((now.tv_sec - v->hold_t0.tv_sec) * 1000 +
	                         (now.tv_nsec - v->hold_t0.tv_nsec) / 1000000),
	         v->hold_bytes);
	event_free(v->hold_ev);
	v->hold_ev = NULL;
	close(v->hold_fd);
	v->hold_fd = -1;
	v->hold_done(v->hold_arg);
}

/* via_hold - hold a dropped connection's socket until the client closes
 * it or the box's timeout_conn expires */
int
via_hold(struct via *v, struct event_base *base, evutil_socket_t fd,
         void (*done)(void *arg), void *arg)
{
	unsigned ms = v != NULL ? via_timeout_conn(v) : 0;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (v == NULL || fd < 0 || v->hold_fd >= 0)
		return -1;
	v->hold_ev = event_new(base, fd, EV_READ | EV_PERSIST, via_hold_cb, v);
	/* timeout_conn 0: no timeout (as on the ASA) */
	if (v->hold_ev == NULL ||
	    event_add(v->hold_ev, ms != 0 ? &tv : NULL) == -1) {
		if (v->hold_ev != NULL)
			event_free(v->hold_ev);
		v->hold_ev = NULL;
		return -1;
	}
	v->hold_fd = fd;
	v->hold_done = done;
	v->hold_arg = arg;
	clock_gettime(CLOCK_MONOTONIC, &v->hold_t0);
	return 0;
}

/* via_logs_lines - the outermost box logs the client's lines */
bool
via_logs_lines(const struct via *v)
{
	return v->n != 0 && !mbox_blind(&v->boxes[0]);
}
