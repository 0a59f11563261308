/*
 * mbox_command.c - the box's client side in command mode: each command
 * line as the box sees it (one per note), verbs outside the allowed set
 * masked to X's or rewritten to NOOP (FACTS.md 5, 6), commands that arrive
 * in pieces masked piece by piece, the command limits (command line, MAIL
 * FROM address, RCPTs per transaction), and what each command makes the
 * box expect from the server (EHLO, DATA, STARTTLS).
 *
 * Does not: DATA (mbox_data.c), server replies (mbox_reply.c), I/O.
 */
#include <string.h>

#include "mbox_int.h"

static bool
verb_allowed(const struct mbox_config *cfg, const char *verb, size_t n)
{
	/* STARTTLS only with allow-tls (FACTS.md 5) */
	if (cfg->allow_tls && mbox_word_eq(verb, n, "STARTTLS"))
		return true;
	return mbox_word_in(verb, n, cfg->allowed, cfg->nallowed);
}

/* The address of "MAIL FROM:<addr> ...", or of "MAIL FROM:addr". */
static size_t
sender_len(const char *args, size_t n)
{
	size_t i, start;

	if (n < 5 || !mbox_word_eq(args, 5, "FROM:"))
		return 0;
	i = 5;
	while (i < n && args[i] == ' ')
		i++;
	if (i < n && args[i] == '<') {
		start = ++i;
		while (i < n && args[i] != '>')
			i++;
		return i - start;
	}
	start = i;
	while (i < n && args[i] != ' ')
		i++;
	return i - start;
}

/*
 * A denied command (FACTS.md 5, 6): X's of the same length, so the server
 * answers its own unknown-command reply, or NOOP.
 */
static void
command_denied(struct mbox_pass *p, const char *line, size_t c, const char *end,
               size_t end_len)
{
	struct evbuffer_iovec v;
	const struct mbox_config *cfg = p->b->cfg;
	size_t n = cfg->denied == MBOX_DENIED_NOOP ? 4 : c;
	char *now;

	if (c == 0) {
		/* an empty line is no command: nothing to judge */
		mbox_put(p, end, end_len);
		return;
	}
	now = mbox_reserve(p, n, &v);
	if (cfg->denied == MBOX_DENIED_NOOP)
		memcpy(now, "NOOP", 4);
	else
		memset(now, 'X', n);
	if (n != c || memcmp(now, line, c) != 0)
		mbox_emit_note(p, MBOX_TO_SERVER, line, c, now, n,
		               "command not allowed");
	mbox_commit(p, &v);
	mbox_put(p, end, end_len);
}

/* A limit row that cuts (not just logs). */
static bool
cuts(const struct mbox_limit *l)
{
	return l != NULL && l->action != MBOX_ACT_LOG;
}

/* A command line that arrived whole in this chunk. */
static enum mbox_verdict
command_whole(struct mbox_pass *p, const char *line, size_t c, size_t n)
{
	struct mbox *b = p->b;
	const struct mbox_limit *len_l, *arg_l = NULL;
	enum mbox_verdict v;
	size_t vl = mbox_first_word(line, c), a = vl;
	bool allowed = verb_allowed(b->cfg, line, vl);
	bool mail = allowed && mbox_word_eq(line, vl, "MAIL");
	bool rcpt = allowed && mbox_word_eq(line, vl, "RCPT");
	uint64_t arg_v = 0;
	int ans = ANS_OTHER;

	while (a < c && (line[a] == ' ' || line[a] == '\t'))
		a++;
	/* the limits first: the line is reported as the client sent it,
	 * and whether it passed (a cut at it: it did not) */
	len_l = mbox_over_limit(b->cfg, MBOX_CMD_LINE, c);
	if (mail) {
		arg_v = sender_len(line + a, c - a);
		arg_l = mbox_over_limit(b->cfg, MBOX_SENDER_LEN, arg_v);
	} else if (rcpt) {
		arg_v = b->rcpts + 1;
		arg_l = mbox_over_limit(b->cfg, MBOX_RCPT_COUNT, arg_v);
	}
	mbox_emit_line(p, line, c, cuts(len_l) || cuts(arg_l));
	if (len_l != NULL &&
	    (v = mbox_limit_note(p, len_l, c, line, c)) != MBOX_FORWARD)
		return v;
	if (!allowed) {
		command_denied(p, line, c, line + c, n - c);
		mbox_fifo_push(b, ANS_OTHER);
		return MBOX_FORWARD;
	}
	if (mail)
		b->rcpts = 0;
	else if (rcpt)
		b->rcpts++;
	if (arg_l != NULL &&
	    (v = mbox_limit_note(p, arg_l, arg_v, line, c)) != MBOX_FORWARD)
		return v;
	if (mbox_word_eq(line, vl, "RSET") || mbox_word_eq(line, vl, "HELO")) {
		b->rcpts = 0;
	} else if (mbox_word_eq(line, vl, "EHLO")) {
		b->rcpts = 0;
		ans = ANS_EHLO;
	} else if (mbox_word_eq(line, vl, "DATA")) {
		ans = ANS_DATA;
	} else if (mbox_word_eq(line, vl, "STARTTLS")) {
		ans = ANS_STARTTLS;
	}
	mbox_put(p, line, n);
	mbox_fifo_push(b, ans);
	return MBOX_FORWARD;
}

/*
 * A piece of a command line that does not arrive whole in one chunk: the
 * real box inspects each packet and discards the incomplete command, so
 * the server gets X's for every piece (FACTS.md 5, cisco 113423; a
 * telnet in character mode sends "XXXX").
 */
static enum mbox_verdict
command_piece(struct mbox_pass *p, const char *seg, size_t c, size_t n, bool lf)
{
	struct mbox *b = p->b;
	const struct mbox_limit *l;
	struct evbuffer_iovec v;
	char xs[sizeof(b->line)];
	size_t keep;

	b->line_len += c;
	keep = sizeof(b->line) - b->line_kept;
	keep = c < keep ? c : keep;
	memcpy(b->line + b->line_kept, seg, keep);
	b->line_kept += keep;
	l = mbox_over_limit(b->cfg, MBOX_CMD_LINE, b->line_len);
	if (cuts(l)) {
		/* what the client typed so far, not passed as a line */
		mbox_emit_line(p, b->line, b->line_kept, true);
		return mbox_limit_note(p, l, b->line_len, b->line,
		                       b->line_kept);
	}
	if (c > 0) {
		memset(mbox_reserve(p, c, &v), 'X', c);
		mbox_commit(p, &v);
	}
	mbox_put(p, seg + c, n - c); /* the line end, or a CR that may be one */
	if (!lf) {
		b->line_open = true;
		return MBOX_FORWARD;
	}
	mbox_emit_line(p, b->line, b->line_kept, false);
	if (l != NULL)
		mbox_limit_note(p, l, b->line_len, b->line, b->line_kept);
	memset(xs, 'X', b->line_kept);
	mbox_emit_note(p, MBOX_TO_SERVER, b->line, b->line_kept, xs,
	               b->line_kept, "command split across packets");
	mbox_fifo_push(b, ANS_OTHER);
	mbox_line_reset(b);
	return MBOX_FORWARD;
}

/* mbox_command_segment - one command-mode segment in[pos..end): a line or
 * a piece of one */
enum mbox_verdict
mbox_command_segment(struct mbox_pass *p, size_t pos, size_t end, bool lf)
{
	struct mbox *b = p->b;
	const char *seg = p->in + pos;
	size_t n = end - pos;
	size_t c = mbox_seg_content(b, seg, n, lf);
	enum mbox_verdict v;

	p->fwd = end;
	if (!b->line_open && lf) {
		v = command_whole(p, seg, c, n);
		mbox_line_reset(b);
		return v;
	}
	return command_piece(p, seg, c, n, lf);
}
