/*
 * via.c - the middlebox chain between a connection's client and its
 * server engine, as a filter on the bytes (io.c calls it).
 *
 * Does: run every client read (one "packet") through the boxes from the
 * client's side inwards, and every flush of server output through them
 * outwards; record the client's lines as the outermost box saw them and
 * every change a box makes (the two-hop transcript); say which box cut
 * the connection and how. Does not: rewrite anything itself (middlebox.c
 * does), carry out a cut (io reports it, the session closes), or know
 * which firewall it plays.
 */
#include <stdio.h>
#include <stdlib.h>

#include <event2/buffer.h>

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
	char cut_why[160];
};

static void
via_note(void *arg, const struct mbox_config *box, const struct mbox_note *n)
{
	struct via *v = arg;

	if (n->why == NULL) {
		/* A client line: logged once, as the outermost box saw it. */
		if (box != v->boxes[0].cfg)
			return;
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

	if (info->n_added != 0 && !v->writing)
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
	if (v->boxes == NULL || v->in == NULL || v->out == NULL ||
	    v->chunk == NULL || v->tmp == NULL ||
	    (v->out_cb = evbuffer_add_cb(v->out, via_out_cb, v)) == NULL) {
		via_free(v);
		return NULL;
	}
	v->queued = queued;
	v->arg = arg;
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
	free(v->boxes);
	if (v->out != NULL)
		evbuffer_free(v->out); /* and its callback */
	if (v->in != NULL)
		evbuffer_free(v->in);
	if (v->chunk != NULL)
		evbuffer_free(v->chunk);
	if (v->tmp != NULL)
		evbuffer_free(v->tmp);
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
	evbuffer_add_buffer(v->chunk, raw);
	verdict = via_pass(v, v->chunk, true);
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
	if (verdict == MBOX_CUT_RST) {
		evbuffer_drain(v->out, evbuffer_get_length(v->out));
		return verdict;
	}
	evbuffer_add_buffer(out, v->out);
	return verdict;
}

/* via_cut_reason - which box cut, and how */
const char *
via_cut_reason(const struct via *v)
{
	return v->cut_box != NULL ? v->cut_why : "middlebox";
}

/* via_logs_lines - the outermost box logs the client's lines */
bool
via_logs_lines(const struct via *v)
{
	return v->n != 0 && !mbox_blind(&v->boxes[0]);
}
