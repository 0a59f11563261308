/*
 * middlebox.c - a firewall between the client and the emulated server:
 * Cisco ASA "inspect esmtp" (FACTS.md 5) and PIX "fixup protocol smtp" /
 * Mailguard (FACTS.md 6), as pure functions over the chunks each side
 * sends.
 *
 * Does: per chunk ("packet"), what the other side receives and a note for
 * every change. Client side: commands outside the allowed set masked to
 * X's or rewritten to NOOP, commands that arrive in pieces masked piece by
 * piece, the limit rows (command line, RCPT count, sender, header and body
 * lines, MIME filenames), the pre-7.2(3) PIX cut on duplicate headers, the
 * Mailguard drop of a CRLF.CRLF split over packets. Server side: the
 * banner mask, EHLO keyword masks, and following 354 and STARTTLS's 220.
 * The box keeps its own view of the conversation and can disagree with the
 * server, as the real ones do.
 *
 * Does not: sockets, timers, the FIN or RST itself (the caller acts on the
 * verdict), loading configs (profile.c), BDAT (the box knows only DATA, so
 * BDAT data is parsed as commands), anything after STARTTLS's 220 (the box
 * is blind then), allocate memory.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "middlebox.h"

enum { MODE_COMMAND, MODE_DATA, MODE_BLIND };

/* What the box thinks a server reply answers (struct mbox.fifo). */
enum { ANS_NONE = -1, ANS_OTHER, ANS_EHLO, ANS_DATA, ANS_STARTTLS, ANS_EOD };

/* Progress through CRLF.CRLF in DATA. */
enum { EOD_NONE, EOD_CR, EOD_CRLF, EOD_DOT, EOD_DOT_CR };

/* Header name parse, per header line. */
enum { NAME_START, NAME_IN, NAME_DONE };

/* filename= scanner. */
enum { FN_SEEK, FN_START, FN_TOKEN, FN_QUOTED, FN_ESC };

/*
 * How a reply line is rewritten; for a line longer than reply[] also how
 * the rest of it goes once the head went out.
 */
enum {
	RW_NONE,   /* no long line in progress */
	RW_PASS,   /* as it is */
	RW_BANNER, /* '*' but for the code, '2', '0' (FACTS.md 5) */
	RW_STARS,  /* '*' for everything (PIX 4.4, FACTS.md 6) */
	RW_X,      /* the text after the code: X's of the same length */
	RW_REPLACE /* the text after the code: an exact replacement */
};

/* One call: the chunk, how far it went out, where the output goes. */
struct pass {
	struct mbox *b;
	const char *in;
	size_t len;
	size_t fwd; /* in[0..fwd) is dealt with (written or dropped) */
	struct evbuffer *out;
	mbox_note_fn note;
	void *arg;
};

static int
lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static bool
is_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* s[0..n) equals the NUL-terminated word, ignoring ASCII case. */
static bool
word_eq(const char *s, size_t n, const char *word)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (word[i] == '\0' ||
		    lower((unsigned char)s[i]) != lower((unsigned char)word[i]))
			return false;
	return word[n] == '\0';
}

static bool
word_in(const char *s, size_t n, char *const *list, size_t nlist)
{
	size_t i;

	for (i = 0; i < nlist; i++)
		if (list[i] != NULL && word_eq(s, n, list[i]))
			return true;
	return false;
}

/* The first word of s[0..n): up to SP or HTAB. */
static size_t
first_word(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] != ' ' && s[i] != '\t')
		i++;
	return i;
}

static void
put(struct pass *p, const char *s, size_t n)
{
	if (n > 0 && evbuffer_add(p->out, s, n) != 0)
		abort(); /* out of memory: nothing sensible to forward */
}

/* Write in[fwd..upto) as it is. */
static void
flush(struct pass *p, size_t upto)
{
	if (upto > p->fwd)
		put(p, p->in + p->fwd, upto - p->fwd);
	p->fwd = upto;
}

static void
note(struct pass *p, enum mbox_dir dir, const char *orig, size_t orig_len,
     const char *now, size_t now_len, const char *why)
{
	struct mbox_note n = {dir, orig, orig_len, now, now_len, why};

	if (p->note != NULL)
		p->note(p->arg, p->b->cfg, &n);
}

/*
 * Reserve n contiguous bytes at the end of out: the caller fills them,
 * may point a note at them, then commits with commit().
 */
static char *
reserve(struct pass *p, size_t n, struct evbuffer_iovec *v)
{
	if (evbuffer_reserve_space(p->out, n, v, 1) != 1 || v->iov_len < n)
		abort();
	v->iov_len = n;
	return v->iov_base;
}

static void
commit(struct pass *p, struct evbuffer_iovec *v)
{
	if (evbuffer_commit_space(p->out, v, 1) != 0)
		abort();
}

static enum mbox_verdict
action_verdict(enum mbox_action a)
{
	switch (a) {
	case MBOX_ACT_DROP:
		return MBOX_CUT_FIN;
	case MBOX_ACT_RESET:
		return MBOX_CUT_RST;
	case MBOX_ACT_LOG:
		break;
	}
	return MBOX_FORWARD;
}

/* The first limit row for m that value breaks, or NULL. */
static const struct mbox_limit *
over_limit(const struct mbox_config *cfg, enum mbox_measure m, uint64_t value)
{
	size_t i;

	for (i = 0; i < cfg->nlimits; i++)
		if (cfg->limits[i].what == m)
			return value > cfg->limits[i].over ? &cfg->limits[i]
			                                   : NULL;
	return NULL;
}

/* Note a broken limit ("cmd_line_length 513 > 512: drop-connection") and
 * say what happens to the connection. */
static enum mbox_verdict
limit_note(struct pass *p, const struct mbox_limit *l, uint64_t value,
           const char *orig, size_t orig_len)
{
	snprintf(p->b->why, sizeof(p->b->why),
	         "%s %" PRIu64 " > %" PRIu64 ": %s", mbox_measure_str(l->what),
	         value, l->over, mbox_action_str(l->action));
	note(p, MBOX_TO_SERVER, orig, orig_len, NULL, 0, p->b->why);
	return action_verdict(l->action);
}

/* --- which reply answers what (pipelining) --- */

static void
fifo_push(struct mbox *b, int ans)
{
	unsigned last;

	if (b->fifo_len > 0) {
		last = (b->fifo_head + b->fifo_len - 1) % 16;
		/* a full queue folds further entries into the last one: the
		 * box loses track of 16+ interleaved kinds, as a real one
		 * would lose track somewhere */
		if ((b->fifo[last].ans == ans || b->fifo_len == 16) &&
		    b->fifo[last].n < 0xffff) {
			b->fifo[last].n++;
			return;
		}
		if (b->fifo_len == 16)
			return;
	}
	last = (b->fifo_head + b->fifo_len) % 16;
	b->fifo[last].ans = (unsigned char)ans;
	b->fifo[last].n = 1;
	b->fifo_len++;
}

static int
fifo_peek(const struct mbox *b)
{
	return b->fifo_len > 0 ? b->fifo[b->fifo_head].ans : ANS_NONE;
}

static void
fifo_pop(struct mbox *b)
{
	if (b->fifo_len == 0)
		return;
	if (--b->fifo[b->fifo_head].n == 0) {
		b->fifo_head = (b->fifo_head + 1) % 16;
		b->fifo_len--;
	}
}

/* --- client side: lines --- */

/*
 * The bytes of seg[0..n) before its line end. A CR that ends a chunk
 * waits for the next chunk to tell whether it ends the line.
 */
static size_t
seg_content(struct mbox *b, const char *seg, size_t n, bool lf)
{
	if (b->cr_pending) {
		b->cr_pending = false;
		if (n == 0 || seg[0] != '\n')
			b->line_len++; /* it was a bare CR inside the line */
	}
	if (lf)
		return n - 1 - (n >= 2 && seg[n - 2] == '\r');
	if (n > 0 && seg[n - 1] == '\r') {
		b->cr_pending = true;
		return n - 1;
	}
	return n;
}

static void
line_reset(struct mbox *b)
{
	b->line_open = false;
	b->line_len = 0;
	b->line_kept = 0;
	b->name_state = NAME_START;
	b->fn_state = FN_SEEK;
	b->fn_match = 0;
	b->fn_prev = '\n';
}

static bool
verb_allowed(const struct mbox_config *cfg, const char *verb, size_t n)
{
	/* STARTTLS only with allow-tls (FACTS.md 5) */
	if (cfg->allow_tls && word_eq(verb, n, "STARTTLS"))
		return true;
	return word_in(verb, n, cfg->allowed, cfg->nallowed);
}

/* The address of "MAIL FROM:<addr> ...", or of "MAIL FROM:addr". */
static size_t
sender_len(const char *args, size_t n)
{
	size_t i, start;

	if (n < 5 || !word_eq(args, 5, "FROM:"))
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
command_denied(struct pass *p, const char *line, size_t c, const char *end,
               size_t end_len)
{
	struct evbuffer_iovec v;
	const struct mbox_config *cfg = p->b->cfg;
	size_t n = cfg->denied == MBOX_DENIED_NOOP ? 4 : c;
	char *now;

	if (c == 0) {
		/* an empty line is no command: nothing to judge */
		put(p, end, end_len);
		return;
	}
	now = reserve(p, n, &v);
	if (cfg->denied == MBOX_DENIED_NOOP)
		memcpy(now, "NOOP", 4);
	else
		memset(now, 'X', n);
	if (n != c || memcmp(now, line, c) != 0)
		note(p, MBOX_TO_SERVER, line, c, now, n, "command not allowed");
	commit(p, &v);
	put(p, end, end_len);
}

/* A command line that arrived whole in this chunk. */
static enum mbox_verdict
command_whole(struct pass *p, const char *line, size_t c, size_t n)
{
	struct mbox *b = p->b;
	const struct mbox_limit *l;
	enum mbox_verdict v;
	size_t vl = first_word(line, c), a = vl;
	int ans = ANS_OTHER;

	/* the line as the client sent it, for the two-hop transcript */
	note(p, MBOX_TO_SERVER, line, c, NULL, 0, NULL);
	if ((l = over_limit(b->cfg, MBOX_CMD_LINE, c)) != NULL &&
	    (v = limit_note(p, l, c, line, c)) != MBOX_FORWARD)
		return v;
	if (!verb_allowed(b->cfg, line, vl)) {
		command_denied(p, line, c, line + c, n - c);
		fifo_push(b, ANS_OTHER);
		return MBOX_FORWARD;
	}
	while (a < c && (line[a] == ' ' || line[a] == '\t'))
		a++;
	if (word_eq(line, vl, "MAIL")) {
		size_t s = sender_len(line + a, c - a);

		b->rcpts = 0;
		if ((l = over_limit(b->cfg, MBOX_SENDER_LEN, s)) != NULL &&
		    (v = limit_note(p, l, s, line, c)) != MBOX_FORWARD)
			return v;
	} else if (word_eq(line, vl, "RCPT")) {
		b->rcpts++;
		if ((l = over_limit(b->cfg, MBOX_RCPT_COUNT, b->rcpts)) !=
		        NULL &&
		    (v = limit_note(p, l, b->rcpts, line, c)) != MBOX_FORWARD)
			return v;
	} else if (word_eq(line, vl, "RSET") || word_eq(line, vl, "HELO")) {
		b->rcpts = 0;
	} else if (word_eq(line, vl, "EHLO")) {
		b->rcpts = 0;
		ans = ANS_EHLO;
	} else if (word_eq(line, vl, "DATA")) {
		ans = ANS_DATA;
	} else if (word_eq(line, vl, "STARTTLS")) {
		ans = ANS_STARTTLS;
	}
	put(p, line, n);
	fifo_push(b, ans);
	return MBOX_FORWARD;
}

/*
 * A piece of a command line that does not arrive whole in one chunk: the
 * real box inspects each packet and discards the incomplete command, so
 * the server gets X's for every piece (FACTS.md 5, cisco 113423; a
 * telnet in character mode sends "XXXX").
 */
static enum mbox_verdict
command_piece(struct pass *p, const char *seg, size_t c, size_t n, bool lf)
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
	l = over_limit(b->cfg, MBOX_CMD_LINE, b->line_len);
	if (l != NULL && l->action != MBOX_ACT_LOG)
		return limit_note(p, l, b->line_len, b->line, b->line_kept);
	if (c > 0) {
		memset(reserve(p, c, &v), 'X', c);
		commit(p, &v);
	}
	put(p, seg + c, n - c); /* the line end, or a CR that may be one */
	if (!lf) {
		b->line_open = true;
		return MBOX_FORWARD;
	}
	note(p, MBOX_TO_SERVER, b->line, b->line_kept, NULL, 0, NULL);
	if (l != NULL)
		limit_note(p, l, b->line_len, b->line, b->line_kept);
	memset(xs, 'X', b->line_kept);
	note(p, MBOX_TO_SERVER, b->line, b->line_kept, xs, b->line_kept,
	     "command split across packets");
	fifo_push(b, ANS_OTHER);
	line_reset(b);
	return MBOX_FORWARD;
}

/* One command-mode segment in[pos..end): a line or a piece of one. */
static enum mbox_verdict
client_command(struct pass *p, size_t pos, size_t end, bool lf)
{
	struct mbox *b = p->b;
	const char *seg = p->in + pos;
	size_t n = end - pos;
	size_t c = seg_content(b, seg, n, lf);
	enum mbox_verdict v;

	p->fwd = end;
	if (!b->line_open && lf) {
		v = command_whole(p, seg, c, n);
		line_reset(b);
		return v;
	}
	return command_piece(p, seg, c, n, lf);
}

/* --- client side: DATA --- */

static void
enter_data(struct mbox *b)
{
	b->mode = MODE_DATA;
	b->in_headers = true;
	b->eod_state = EOD_CRLF; /* the DATA command's CRLF counts */
	b->cr_pending = false;
	b->nseen = 0;
	b->has_dup = b->has_cut = false;
	b->dup_len = b->cut_name_len = 0;
	line_reset(b);
}

static void
header_name_end(struct mbox *b)
{
	const struct mbox_config *cfg = b->cfg;
	size_t i, kept = b->name_len < sizeof(b->name) ? b->name_len
	                                               : sizeof(b->name);

	if (!b->has_cut && b->name_len <= sizeof(b->name) &&
	    word_in(b->name, b->name_len, cfg->cut_headers,
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
			b->name_hash ^= (uint64_t)lower(ch);
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
		if (lower(ch) == pat[b->fn_match] &&
		    (b->fn_match > 0 || !is_alnum(b->fn_prev))) {
			if (++b->fn_match == sizeof(pat) - 1) {
				b->fn_state = FN_START;
				b->fn_match = 0;
				b->fn_len = 0;
			}
		} else {
			b->fn_match =
			    (lower(ch) == 'f' && !is_alnum(b->fn_prev)) ? 1 : 0;
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
headers_end(struct pass *p)
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
	note(p, MBOX_TO_SERVER, "", 0, NULL, 0, b->why);
	return action_verdict(cfg->cut_action);
}

/* CRLF.CRLF went by in in[..end). */
static enum mbox_verdict
data_end(struct pass *p, size_t pos, size_t end)
{
	struct mbox *b = p->b;
	enum mbox_verdict v;

	line_reset(b);
	/* a message of headers only: the section ends here */
	if (b->in_headers && (v = headers_end(p)) != MBOX_FORWARD) {
		flush(p, pos);
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
		note(p, MBOX_TO_SERVER, ".", 1, NULL, 0,
		     "end of data split across packets: dropped");
		return MBOX_FORWARD;
	}
	flush(p, end);
	b->mode = MODE_COMMAND;
	b->rcpts = 0;
	b->eod_state = EOD_NONE;
	fifo_push(b, ANS_EOD);
	return MBOX_FORWARD;
}

static bool
fn_in_value(const struct mbox *b)
{
	return b->fn_state == FN_TOKEN || b->fn_state == FN_QUOTED ||
	       b->fn_state == FN_ESC;
}

/* One DATA segment in[pos..end): a message line or a piece of one. */
static enum mbox_verdict
client_data(struct pass *p, size_t pos, size_t end, bool lf)
{
	struct mbox *b = p->b;
	const char *seg = p->in + pos;
	size_t n = end - pos, i, fn, c;
	enum mbox_measure m = b->in_headers ? MBOX_HEADER_LINE : MBOX_BODY_LINE;
	const struct mbox_limit *l;
	enum mbox_verdict v;
	bool eod = false;

	c = seg_content(b, seg, n, lf);
	for (i = 0; i < n; i++) {
		int ch = (unsigned char)seg[i];

		if (b->in_headers)
			header_byte(b, ch);
		/* a filename value is judged when it ends */
		fn = filename_byte(b, ch);
		if (fn > 0 &&
		    (l = over_limit(b->cfg, MBOX_MIME_FILENAME, fn)) != NULL &&
		    (v = limit_note(p, l, fn, seg, c)) != MBOX_FORWARD) {
			flush(p, pos);
			return v;
		}
		eod = eod_byte(b, ch);
	}
	/* ... or, to cut, as soon as it is too long */
	if (fn_in_value(b) &&
	    (l = over_limit(b->cfg, MBOX_MIME_FILENAME, b->fn_len)) != NULL &&
	    l->action != MBOX_ACT_LOG) {
		flush(p, pos);
		return limit_note(p, l, b->fn_len, seg, c);
	}
	/* line lengths: a cut as soon as the line is too long, a log entry
	 * when it ends, with its whole length */
	b->line_len += c;
	l = over_limit(b->cfg, m, b->line_len);
	if (l != NULL && l->action != MBOX_ACT_LOG) {
		flush(p, pos);
		return limit_note(p, l, b->line_len, seg, c);
	}
	if (lf && l != NULL)
		limit_note(p, l, b->line_len, seg, c);
	if (eod)
		return data_end(p, pos, end);
	if (lf && b->in_headers && b->line_len == 0) {
		flush(p, end);
		if ((v = headers_end(p)) != MBOX_FORWARD)
			return v;
	}
	if (lf)
		line_reset(b);
	/* bytes that may belong to a CRLF.CRLF begun in an earlier chunk
	 * wait (to the end of this chunk at most): dropped if it ends here */
	if (!(b->eod_before && b->eod_state != EOD_NONE))
		flush(p, end);
	return MBOX_FORWARD;
}

/* mbox_from_client - one client chunk, as the server will get it */
enum mbox_verdict
mbox_from_client(struct mbox *b, const char *in, size_t len,
                 struct evbuffer *out, mbox_note_fn note_fn, void *arg)
{
	struct pass p = {b, in, len, 0, out, note_fn, arg};
	enum mbox_verdict v = MBOX_FORWARD;
	size_t pos = 0;

	if (b->cut != MBOX_FORWARD)
		return b->cut;
	b->eod_before = b->mode == MODE_DATA && b->eod_state != EOD_NONE;
	while (pos < len && v == MBOX_FORWARD) {
		const char *lf;
		size_t end;

		if (b->mode == MODE_BLIND) {
			flush(&p, len);
			break;
		}
		lf = memchr(in + pos, '\n', len - pos);
		end = lf != NULL ? (size_t)(lf - in) + 1 : len;
		if (b->mode == MODE_COMMAND)
			v = client_command(&p, pos, end, lf != NULL);
		else
			v = client_data(&p, pos, end, lf != NULL);
		pos = end;
	}
	if (v == MBOX_FORWARD)
		flush(&p, len);
	else
		b->cut = v;
	return v;
}

/* --- server side --- */

/* The reply code of a line, or -1. */
static int
reply_code(const char *s, size_t n)
{
	if (n < 3 || !is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2]))
		return -1;
	return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

/* An EHLO keyword line: exact masks, allowed keywords, the others. */
static int
ehlo_rewrite(const struct mbox_config *cfg, const char *s, size_t n,
             const char **repl, const char **why)
{
	const char *text = s + 4;
	size_t i, kw = first_word(text, n - 4);

	for (i = 0; i < cfg->nehlo_masks; i++) {
		const struct mbox_ehlo_mask *m = &cfg->ehlo_masks[i];
		bool tls = word_eq(m->keyword, strlen(m->keyword), "STARTTLS");

		if (tls && cfg->allow_tls)
			continue;
		if (word_eq(text, kw, m->keyword)) {
			*repl = m->replacement;
			/* FACTS.md 5, seed 001: "250 XXXXXXXA" */
			*why = tls ? "no allow-tls" : "ehlo mask";
			return RW_REPLACE;
		}
	}
	if (word_in(text, kw, cfg->ehlo_allowed, cfg->nehlo_allowed) ||
	    (cfg->allow_tls && word_eq(text, kw, "STARTTLS")) ||
	    !cfg->ehlo_mask_others || kw == 0)
		return RW_PASS;
	*why = "ehlo-reply-parameter others: mask";
	return RW_X;
}

/* How a reply line is rewritten (see RW_*), from its head s[0..n). */
static int
reply_how(struct mbox *b, const char *s, size_t n, int code, const char **repl,
          const char **why)
{
	const struct mbox_config *cfg = b->cfg;

	*why = NULL;
	if (!b->greeted) {
		*why = "mask-banner";
		if (cfg->banner == MBOX_BANNER_MASK)
			return RW_BANNER;
		return cfg->banner == MBOX_BANNER_MASK_ALL ? RW_STARS : RW_PASS;
	}
	/* after EHLO: the keyword lines of a 250, not its first line */
	if (fifo_peek(b) == ANS_EHLO && code == 250 && !b->reply_first && n > 4)
		return ehlo_rewrite(cfg, s, n, repl, why);
	return RW_PASS;
}

/* One byte of a rewritten reply line at offset i (not for RW_REPLACE). */
static char
rewrite_byte(int how, char ch, size_t i, bool coded)
{
	if (ch == '\r' || ch == '\n')
		return ch;
	switch (how) {
	case RW_BANNER:
		/*
		 * FACTS.md 5: all but '2', '0', CR and LF becomes '*'. Both
		 * sources (kb 295725, appriver a238) show "220 " kept whole
		 * and stray '0'/'2' kept in the text: the code and the
		 * character after it pass, then '2' and '0' wherever.
		 */
		if ((coded && i < 4) || ch == '2' || ch == '0')
			return ch;
		return '*';
	case RW_STARS:
		return '*';
	case RW_X:
		return i < 4 && coded ? ch : 'X';
	default:
		return ch;
	}
}

static void
reply_effects(struct mbox *b, int code, bool final)
{
	int ans;

	if (!final) {
		b->reply_first = false;
		return;
	}
	b->reply_first = true;
	if (!b->greeted) {
		b->greeted = true; /* the banner answers no command */
		return;
	}
	ans = fifo_peek(b);
	fifo_pop(b);
	if (ans == ANS_DATA && code == 354)
		enter_data(b);
	else if (ans == ANS_STARTTLS && code == 220)
		/* the box cannot read TLS: blind for both directions from
		 * here, whatever allow_tls said */
		b->mode = MODE_BLIND;
}

/*
 * A reply line s[0..n) without its end (end_len bytes at s + n); whole is
 * false for the head of a line longer than reply[], whose rest goes
 * through reply_rest().
 */
static void
reply_line(struct pass *p, const char *s, size_t n, size_t end_len, bool whole)
{
	struct mbox *b = p->b;
	int code = reply_code(s, n);
	bool coded = code >= 0 && (n == 3 || s[3] == ' ' || s[3] == '-');
	bool final = !(coded && n > 3 && s[3] == '-');
	const char *repl = NULL, *why;
	int how = reply_how(b, s, n, coded ? code : -1, &repl, &why);
	struct evbuffer_iovec v;
	size_t i, m;
	char *now;

	if (how == RW_PASS) {
		put(p, s, n + end_len);
	} else {
		m = how == RW_REPLACE ? 4 + strlen(repl) : n;
		now = reserve(p, m, &v);
		if (how == RW_REPLACE) {
			memcpy(now, s, 4);
			memcpy(now + 4, repl, m - 4);
		} else {
			for (i = 0; i < n; i++)
				now[i] = rewrite_byte(how, s[i], i, coded);
		}
		if (m != n || memcmp(s, now, n) != 0)
			note(p, MBOX_TO_CLIENT, s, n, now, m, why);
		commit(p, &v);
		put(p, s + n, end_len);
	}
	if (whole) {
		reply_effects(b, code, final);
	} else {
		b->reply_cont = how;
		b->cont_code = code;
		b->cont_final = final;
	}
}

/* The rest of a long reply line, up to and with its LF if there. */
static void
reply_rest(struct pass *p, const char *s, size_t n, bool lf)
{
	struct mbox *b = p->b;
	char buf[256];
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (b->reply_cont == RW_REPLACE && s[i] != '\r' && s[i] != '\n')
			continue; /* the replacement went out with the head */
		buf[k++] = rewrite_byte(b->reply_cont, s[i], 4, false);
		if (k == sizeof(buf)) {
			put(p, buf, k);
			k = 0;
		}
	}
	put(p, buf, k);
	if (lf) {
		b->reply_cont = RW_NONE;
		reply_effects(b, b->cont_code, b->cont_final);
	}
}

/* mbox_from_server - one chunk of server output, as the client will get it */
enum mbox_verdict
mbox_from_server(struct mbox *b, const char *in, size_t len,
                 struct evbuffer *out, mbox_note_fn note_fn, void *arg)
{
	struct pass p = {b, in, len, 0, out, note_fn, arg};
	size_t pos = 0;

	if (b->cut != MBOX_FORWARD)
		return b->cut;
	while (pos < len) {
		const char *lf;
		size_t end, take, e;

		if (b->mode == MODE_BLIND) {
			put(&p, in + pos, len - pos);
			break;
		}
		lf = memchr(in + pos, '\n', len - pos);
		end = lf != NULL ? (size_t)(lf - in) + 1 : len;
		if (b->reply_cont != RW_NONE) {
			reply_rest(&p, in + pos, end - pos, lf != NULL);
			pos = end;
			continue;
		}
		take = end - pos;
		if (take > sizeof(b->reply) - b->reply_len)
			take = sizeof(b->reply) - b->reply_len;
		memcpy(b->reply + b->reply_len, in + pos, take);
		b->reply_len += take;
		pos += take;
		if (b->reply[b->reply_len - 1] == '\n') {
			e = 1 + (b->reply_len >= 2 &&
			         b->reply[b->reply_len - 2] == '\r');
			reply_line(&p, b->reply, b->reply_len - e, e, true);
			b->reply_len = 0;
		} else if (b->reply_len == sizeof(b->reply)) {
			reply_line(&p, b->reply, b->reply_len, 0, false);
			b->reply_len = 0;
		}
	}
	return MBOX_FORWARD;
}

/* --- the rest of the interface --- */

/* mbox_init - a fresh view, before the banner */
void
mbox_init(struct mbox *b, const struct mbox_config *cfg)
{
	memset(b, 0, sizeof(*b));
	b->cfg = cfg;
	b->mode = MODE_COMMAND;
	b->cut = MBOX_FORWARD;
	b->reply_first = true;
	b->reply_cont = RW_NONE;
	line_reset(b);
}

/* mbox_go_blind - the connection is TLS from its first byte (an
 * implicit-TLS port): the box can read none of it */
void
mbox_go_blind(struct mbox *b)
{
	b->mode = MODE_BLIND;
}

/* mbox_blind - TLS went by: the box passes everything from now on */
bool
mbox_blind(const struct mbox *b)
{
	return b->mode == MODE_BLIND;
}

/* mbox_reading_commands - the client's bytes are command lines to the box */
bool
mbox_reading_commands(const struct mbox *b)
{
	return b->mode == MODE_COMMAND;
}

/* mbox_action_str - the action as the ASA CLI names it */
const char *
mbox_action_str(enum mbox_action a)
{
	switch (a) {
	case MBOX_ACT_LOG:
		return "log";
	case MBOX_ACT_DROP:
		return "drop-connection";
	case MBOX_ACT_RESET:
		return "reset";
	}
	return "?";
}

/* mbox_measure_str - the measure's name in profiles and notes */
const char *
mbox_measure_str(enum mbox_measure m)
{
	switch (m) {
	case MBOX_CMD_LINE:
		return "cmd_line_length";
	case MBOX_RCPT_COUNT:
		return "rcpt_count";
	case MBOX_SENDER_LEN:
		return "sender_length";
	case MBOX_HEADER_LINE:
		return "header_line_length";
	case MBOX_BODY_LINE:
		return "body_line_length";
	case MBOX_MIME_FILENAME:
		return "mime_filename_length";
	case MBOX_MEASURE_COUNT:
		break;
	}
	return "?";
}

static void
free_words(char **w, size_t n)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < n; i++)
		free(w[i]);
	free(w);
}

/* mbox_config_free - free a config built by the loader */
void
mbox_config_free(struct mbox_config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	free(cfg->name);
	free(cfg->description);
	free_words(cfg->allowed, cfg->nallowed);
	if (cfg->ehlo_masks != NULL) {
		for (i = 0; i < cfg->nehlo_masks; i++) {
			free(cfg->ehlo_masks[i].keyword);
			free(cfg->ehlo_masks[i].replacement);
		}
		free(cfg->ehlo_masks);
	}
	free_words(cfg->ehlo_allowed, cfg->nehlo_allowed);
	free(cfg->limits);
	free_words(cfg->cut_headers, cfg->ncut_headers);
	free(cfg);
}
