/*
 * mbox_data.c - the box's client side in DATA: header names counted for
 * the pre-7.2(3) PIX cut on a duplicate or listed header (FACTS.md 6),
 * filename= parameters (RFC 2183 2.3) and header and body line lengths
 * against the limit rows, CRLF.CRLF (RFC 5321 4.1.1.4) back to command
 * mode, and Mailguard's drop of a CRLF.CRLF split over packets.
 *
 * Does not: command lines (mbox_command.c), server replies (mbox_reply.c),
 * keep the message (bytes pass through as they come), I/O.
 */
#include <stdio.h>
#include <string.h>

#include "mbox_int.h"

/* mbox_data_enter - the server took DATA (354): message mode */
void
mbox_data_enter(struct mbox *b)
{
	b->mode = MODE_DATA;
	b->in_headers = true;
	b->eod_state = EOD_CRLF; /* the DATA command's CRLF counts */
	b->cr_pending = false;
	b->nseen = 0;
	b->has_dup = b->has_cut = false;
	b->dup_len = b->cut_name_len = 0;
	mbox_line_reset(b);
}

static void
header_name_end(struct mbox *b)
{
	const struct mbox_config *cfg = b->cfg;
	size_t i, kept = b->name_len < sizeof(b->name) ? b->name_len
	                                               : sizeof(b->name);

	if (!b->has_cut && b->name_len <= sizeof(b->name) &&
	    mbox_word_in(b->name, b->name_len, cfg->cut_headers,
	                 cfg->ncut_headers)) {
		b->has_cut = true;
		memcpy(b->cut_name, b->name, kept);
		b->cut_name_len = kept;
	}
	for (i = 0; i < b->nseen; i++) {
		if (b->seen[i] != b->name_hash)
			continue;
		if (!b->has_dup) {
			b->has_dup = true;
			memcpy(b->dup, b->name, kept);
			b->dup_len = kept;
		}
		return;
	}
	/* more distinct names than seen[] holds: the rest go uncounted */
	if (b->nseen < sizeof(b->seen) / sizeof(b->seen[0]))
		b->seen[b->nseen++] = b->name_hash;
}

/* Header names, counted case-insensitively; a folded continuation line
 * (SP or HTAB first) is not a new name (RFC 5322 2.2.3). */
static void
header_byte(struct mbox *b, int ch)
{
	switch (b->name_state) {
	case NAME_START:
		if (ch == ' ' || ch == '\t') {
			b->name_state = NAME_DONE;
			return;
		}
		if (ch == '\r' || ch == '\n')
			return;
		b->name_state = NAME_IN;
		b->name_hash = 14695981039346656037u; /* FNV-1a offset */
		b->name_len = 0;
		/* FALLTHROUGH */
	case NAME_IN:
		if (ch == ':') {
			b->name_state = NAME_DONE;
			header_name_end(b);
		} else if (ch == '\r' || ch == '\n') {
			b->name_state = NAME_DONE; /* no colon: no header */
		} else if (ch != ' ' && ch != '\t') {
			b->name_hash ^= (uint64_t)mbox_lower(ch);
			b->name_hash *= 1099511628211u; /* FNV-1a prime */
			if (b->name_len < sizeof(b->name))
				b->name[b->name_len] = (char)ch;
			b->name_len++;
		}
		break;
	default:
		break;
	}
}

/*
 * filename="..." and filename=... (RFC 2183 2.3) in header and body
 * lines; returns the length of a value that ended with this byte, or 0.
 * b->fn_len is the length of the value so far.
 */
static size_t
filename_byte(struct mbox *b, int ch)
{
	static const char pat[] = "filename=";
	size_t done = 0;

	switch (b->fn_state) {
	case FN_SEEK:
		if (mbox_lower(ch) == pat[b->fn_match] &&
		    (b->fn_match > 0 || !mbox_is_alnum(b->fn_prev))) {
			if (++b->fn_match == sizeof(pat) - 1) {
				b->fn_state = FN_START;
				b->fn_match = 0;
				b->fn_len = 0;
			}
		} else {
			b->fn_match = (mbox_lower(ch) == 'f' &&
			               !mbox_is_alnum(b->fn_prev))
			                  ? 1
			                  : 0;
		}
		break;
	case FN_START:
		if (ch == '"') {
			b->fn_state = FN_QUOTED;
			break;
		}
		b->fn_state = FN_TOKEN;
		/* FALLTHROUGH */
	case FN_TOKEN:
		if (ch == ';' || ch == ' ' || ch == '\t' || ch == '\r' ||
		    ch == '\n') {
			b->fn_state = FN_SEEK;
			done = b->fn_len;
		} else {
			b->fn_len++;
		}
		break;
	case FN_QUOTED:
	case FN_ESC:
		if (ch == '\r' || ch == '\n' ||
		    (ch == '"' && b->fn_state == FN_QUOTED)) {
			b->fn_state = FN_SEEK;
			done = b->fn_len;
		} else if (ch == '\\' && b->fn_state == FN_QUOTED) {
			b->fn_state = FN_ESC;
		} else {
			b->fn_state = FN_QUOTED;
			b->fn_len++;
		}
		break;
	default:
		break;
	}
	b->fn_prev = (unsigned char)ch;
	return done;
}

/* CRLF.CRLF (RFC 5321 4.1.1.4); true when this byte completes it. */
static bool
eod_byte(struct mbox *b, int ch)
{
	int s = b->eod_state;

	if (ch == '\r') {
		if (s != EOD_DOT) {
			b->eod_state = EOD_CR; /* a new candidate starts */
			b->eod_before = false;
		} else {
			b->eod_state = EOD_DOT_CR;
		}
		return false;
	}
	if (ch == '\n' && (s == EOD_CR || s == EOD_DOT_CR)) {
		b->eod_state = EOD_CRLF;
		return s == EOD_DOT_CR;
	}
	if (ch == '.' && s == EOD_CRLF) {
		b->eod_state = EOD_DOT;
		return false;
	}
	b->eod_state = EOD_NONE;
	b->eod_before = false;
	return false;
}

/* The end of the header section: the pre-7.2(3) PIX cut (FACTS.md 6). */
static enum mbox_verdict
headers_end(struct mbox_pass *p)
{
	struct mbox *b = p->b;
	const struct mbox_config *cfg = b->cfg;

	b->in_headers = false;
	if (!cfg->cut_on_duplicate || (!b->has_dup && !b->has_cut))
		return MBOX_FORWARD;
	if (b->has_dup)
		snprintf(b->why, sizeof(b->why),
		         "duplicate header %.*s (PIX before 7.2(3))",
		         (int)b->dup_len, b->dup);
	else
		snprintf(b->why, sizeof(b->why), "header %.*s present",
		         (int)b->cut_name_len, b->cut_name);
	mbox_emit_note(p, MBOX_TO_SERVER, "", 0, NULL, 0, b->why);
	return mbox_action_verdict(cfg->cut_action);
}

/* CRLF.CRLF went by in in[..end). */
static enum mbox_verdict
data_end(struct mbox_pass *p, size_t pos, size_t end)
{
	struct mbox *b = p->b;
	enum mbox_verdict v;

	mbox_line_reset(b);
	/* a message of headers only: the section ends here */
	if (b->in_headers && (v = headers_end(p)) != MBOX_FORWARD) {
		mbox_flush(p, pos);
		return v;
	}
	if (b->eod_before && b->cfg->drop_split_eod) {
		/*
		 * Mailguard: CRLF.CRLF split over packets is not passed; the
		 * server waits, the client times out and sends the message
		 * again (FACTS.md 6, kb 295725). Everything of this chunk up
		 * to here belongs to the sequence: fwd is still 0.
		 */
		p->fwd = end;
		b->eod_state = EOD_CRLF;
		mbox_emit_line(p, ".", 1, true);
		mbox_emit_note(p, MBOX_TO_SERVER, ".", 1, NULL, 0,
		               "end of data split across packets: dropped");
		return MBOX_FORWARD;
	}
	mbox_flush(p, end);
	b->mode = MODE_COMMAND;
	b->rcpts = 0;
	b->eod_state = EOD_NONE;
	mbox_fifo_push(b, ANS_EOD);
	return MBOX_FORWARD;
}

static bool
fn_in_value(const struct mbox *b)
{
	return b->fn_state == FN_TOKEN || b->fn_state == FN_QUOTED ||
	       b->fn_state == FN_ESC;
}

/* mbox_data_segment - one DATA segment in[pos..end): a message line or a
 * piece of one */
enum mbox_verdict
mbox_data_segment(struct mbox_pass *p, size_t pos, size_t end, bool lf)
{
	struct mbox *b = p->b;
	const char *seg = p->in + pos;
	size_t n = end - pos, i, fn, c;
	enum mbox_measure m = b->in_headers ? MBOX_HEADER_LINE : MBOX_BODY_LINE;
	const struct mbox_limit *l;
	enum mbox_verdict v;
	bool eod = false;

	c = mbox_seg_content(b, seg, n, lf);
	for (i = 0; i < n; i++) {
		int ch = (unsigned char)seg[i];

		if (b->in_headers)
			header_byte(b, ch);
		/* a filename value is judged when it ends */
		fn = filename_byte(b, ch);
		if (fn > 0 &&
		    (l = mbox_over_limit(b->cfg, MBOX_MIME_FILENAME, fn)) !=
		        NULL &&
		    l->action != MBOX_ACT_LOG) {
			mbox_flush(p, pos);
			mbox_emit_line(p, seg, c, true);
			return mbox_limit_note(p, l, fn, seg, c);
		}
		if (fn > 0 && l != NULL)
			mbox_limit_note(p, l, fn, seg, c);
		eod = eod_byte(b, ch);
	}
	/* ... or, to cut, as soon as it is too long */
	if (fn_in_value(b) &&
	    (l = mbox_over_limit(b->cfg, MBOX_MIME_FILENAME, b->fn_len)) !=
	        NULL &&
	    l->action != MBOX_ACT_LOG) {
		mbox_flush(p, pos);
		mbox_emit_line(p, seg, c, true);
		return mbox_limit_note(p, l, b->fn_len, seg, c);
	}
	/* line lengths: a cut as soon as the line is too long, a log entry
	 * when it ends, with its whole length */
	b->line_len += c;
	l = mbox_over_limit(b->cfg, m, b->line_len);
	if (l != NULL && l->action != MBOX_ACT_LOG) {
		mbox_flush(p, pos);
		mbox_emit_line(p, seg, c, true);
		return mbox_limit_note(p, l, b->line_len, seg, c);
	}
	if (lf && l != NULL)
		mbox_limit_note(p, l, b->line_len, seg, c);
	if (eod)
		return data_end(p, pos, end);
	if (lf && b->in_headers && b->line_len == 0) {
		mbox_flush(p, end);
		if ((v = headers_end(p)) != MBOX_FORWARD)
			return v;
	}
	if (lf)
		mbox_line_reset(b);
	/* bytes that may belong to a CRLF.CRLF begun in an earlier chunk
	 * wait (to the end of this chunk at most): dropped if it ends here */
	if (!(b->eod_before && b->eod_state != EOD_NONE))
		mbox_flush(p, end);
	return MBOX_FORWARD;
}
