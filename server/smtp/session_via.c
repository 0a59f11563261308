/*
 * session_via.c - the middleboxes between a session's client and its
 * server engine ("--via", or a profile's "via:").
 *
 * Does: run every client read (one "packet") through the boxes from the
 * client's side inwards before the engine parses it, and every flush of
 * server output through them outwards before it reaches the socket; log
 * the client's lines and every change a box makes (the two-hop
 * transcript); carry out a box's verdict (drop-connection: FIN, reset:
 * RST). Does not: rewrite anything itself (middlebox.c does), or know
 * which firewall it plays.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "io.h"
#include "middlebox.h"
#include "session.h"
#include "session_via.h"

static void
via_note(void *arg, const struct mbox_config *box, const struct mbox_note *n)
{
	struct session *s = arg;

	if (n->why == NULL) {
		/* A client line: logged once, as the outermost box saw it. */
		if (box != s->boxes[0].cfg)
			return;
		struct tr_event line = {
		    .session = s->id,
		    .kind = TR_CLIENT,
		    .text = n->orig,
		    .len = n->orig_len,
		    .profile = s->profile->name,
		};
		transcript_emit(&line);
		return;
	}
	struct tr_event ev = {
	    .session = s->id,
	    .kind = n->dir == MBOX_TO_CLIENT ? TR_CLIENT_SAW : TR_SERVER_GOT,
	    .text = n->now != NULL ? n->now : "",
	    .len = n->now != NULL ? n->now_len : 0,
	    .rule = box->name,
	    .why = n->why,
	    .profile = s->profile->name,
	};

	transcript_emit(&ev);
}

/* session_via_init - the boxes of this session, client side first: those
 * given with --via, then the profile's own "via:" */
bool
session_via_init(struct session *s)
{
	const struct session_env *env = s->env;
	size_t nprof = env->no_profile_via ? 0 : s->profile->nvia;
	size_t n = env->nvia + nprof;

	if (n == 0)
		return true;
	s->boxes = calloc(n, sizeof(*s->boxes));
	s->via_in = evbuffer_new();
	s->via_out = evbuffer_new();
	s->via_tmp = evbuffer_new();
	if (s->boxes == NULL || s->via_in == NULL || s->via_out == NULL ||
	    s->via_tmp == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct profile *b = i < env->nvia
		                              ? env->via[i]
		                              : s->profile->via[i - env->nvia];
		mbox_init(&s->boxes[i], b->mbox);
	}
	s->nboxes = n;
	return true;
}

/* session_via_free - release the boxes' buffers */
void
session_via_free(struct session *s)
{
	free(s->boxes);
	if (s->via_in)
		evbuffer_free(s->via_in);
	if (s->via_out)
		evbuffer_free(s->via_out);
	if (s->via_tmp)
		evbuffer_free(s->via_tmp);
}

/* Run one chunk through the boxes in order (to_server: 0..n-1, else
 * n-1..0); the result is left in s->via_tmp. */
static enum mbox_verdict
via_pass(struct session *s, struct evbuffer *chunk, bool to_server)
{
	enum mbox_verdict v = MBOX_FORWARD, vi;

	for (size_t k = 0; k < s->nboxes; k++) {
		size_t i = to_server ? k : s->nboxes - 1 - k;
		size_t len = evbuffer_get_length(chunk);
		const char *p = (const char *)evbuffer_pullup(chunk, -1);

		evbuffer_drain(s->via_tmp, evbuffer_get_length(s->via_tmp));
		if (to_server)
			vi = mbox_from_client(&s->boxes[i], p, len, s->via_tmp,
			                      via_note, s);
		else
			vi = mbox_from_server(&s->boxes[i], p, len, s->via_tmp,
			                      via_note, s);
		evbuffer_drain(chunk, len);
		evbuffer_add_buffer(chunk, s->via_tmp);
		if (vi != MBOX_FORWARD) {
			v = vi;
			s->via_cut_box = s->boxes[i].cfg->name;
			break; /* nothing goes past a box that cut */
		}
	}
	return v;
}

static void
via_cut(struct session *s, enum mbox_verdict v)
{
	char why[160];

	snprintf(why, sizeof(why), "middlebox %s: %s", s->via_cut_box,
	         v == MBOX_CUT_RST ? "reset" : "drop-connection");
	session_close(s, v == MBOX_CUT_RST ? CLOSE_RST : CLOSE_FIN, why);
}

/*
 * session_via_input - a client read arrived in io_input: pass it through
 * the boxes into s->via_in, where the engine parses it. Returns false if a
 * box cut the connection (the engine still gets what came before the cut
 * first, so e.g. headers already passed reach it).
 */
bool
session_via_input(struct session *s)
{
	struct evbuffer *raw = io_input(s->io);
	struct evbuffer *chunk = evbuffer_new();
	enum mbox_verdict v;
	size_t len = evbuffer_get_length(raw);

	if (chunk == NULL || len == 0) {
		if (chunk)
			evbuffer_free(chunk);
		return true;
	}
	evbuffer_add_buffer(chunk, raw);
	v = via_pass(s, chunk, true);
	evbuffer_add_buffer(s->via_in, chunk);
	evbuffer_free(chunk);
	if (v != MBOX_FORWARD)
		s->via_verdict = v;
	return v == MBOX_FORWARD;
}

/* session_via_cut_pending - a box cut the connection: carry it out now */
void
session_via_cut_pending(struct session *s)
{
	enum mbox_verdict v = s->via_verdict;

	if (v == MBOX_FORWARD || s->state == STATE_CLOSING)
		return;
	s->via_verdict = MBOX_FORWARD;
	via_cut(s, v);
}

/*
 * session_via_flush - what the server said since the last flush goes
 * through the boxes to the socket, as one chunk (the replies to one client
 * packet travel together, as a real server's would).
 */
void
session_via_flush(struct session *s)
{
	enum mbox_verdict v;

	if (s->nboxes == 0 || evbuffer_get_length(s->via_out) == 0)
		return;
	v = via_pass(s, s->via_out, false);
	if (v == MBOX_CUT_RST) {
		evbuffer_drain(s->via_out, evbuffer_get_length(s->via_out));
		via_cut(s, v);
		return;
	}
	evbuffer_add_buffer(io_output(s->io), s->via_out);
	if (v == MBOX_CUT_FIN)
		via_cut(s, v);
}
