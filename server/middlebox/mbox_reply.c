/*
 * mbox_reply.c - the box's server side: reply lines assembled across
 * chunks (a line longer than the box's buffer goes out head first, then
 * the rest), the banner mask (FACTS.md 5, 6), EHLO keyword masks and the
 * allowed keywords, and what a final reply means to the box: 354 after
 * DATA enters message mode, 220 after STARTTLS makes it blind.
 *
 * Does not: client input (mbox_command.c, mbox_data.c), I/O.
 */
#include <string.h>

#include "mbox_int.h"

/* The reply code of a line, or -1. */
static int
reply_code(const char *s, size_t n)
{
	if (n < 3 || !mbox_is_digit(s[0]) || !mbox_is_digit(s[1]) ||
	    !mbox_is_digit(s[2]))
		return -1;
	return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

/* The sequence letter of the next masked keyword of this reply: 'A' for
 * the first, 'B' for the second, ... (FACTS.md 5, the pgt replay: TURN ->
 * XXXA ... OK -> XI). model choice: after 'Z' it starts again at 'A'
 * (no capture shows 27 masked keywords). */
static char
next_letter(struct mbox *b)
{
	return (char)('A' + b->masked++ % 26);
}

/*
 * An EHLO keyword line: exact masks, allowed keywords, the others. The
 * keyword is the first word; a masked line is masked whole, parameters
 * too (FACTS.md 5: "X-EXPS GSSAPI NTLM LOGIN" -> 23 X's + "D").
 */
static int
ehlo_rewrite(struct mbox *b, const char *s, size_t n, const char **repl,
             const char **why)
{
	const struct mbox_config *cfg = b->cfg;
	const char *text = s + 4;
	size_t i, kw = mbox_first_word(text, n - 4);
	bool tls = mbox_word_eq(text, kw, "STARTTLS");

	if (kw == 0 || (tls && cfg->allow_tls))
		return RW_PASS;
	for (i = 0; i < cfg->nehlo_masks; i++) {
		const struct mbox_ehlo_mask *m = &cfg->ehlo_masks[i];

		if (mbox_word_eq(text, kw, m->keyword)) {
			*repl = m->replacement;
			/* FACTS.md 5, seed 001: "250 XXXXXXXA" */
			*why = tls ? "no allow-tls" : "ehlo mask";
			b->masked++; /* it takes its place in the sequence */
			return RW_REPLACE;
		}
	}
	if (!tls &&
	    (mbox_word_in(text, kw, cfg->ehlo_allowed, cfg->nehlo_allowed) ||
	     cfg->ehlo_mask_others == MBOX_OTHERS_PASS))
		return RW_PASS;
	/* FACTS.md 5: "no allow-tls" removes STARTTLS from the reply,
	 * whatever happens to the other keywords */
	*why = tls ? "no allow-tls" : "ehlo-reply-parameter others: mask";
	if (cfg->ehlo_mask_others != MBOX_OTHERS_MASK_SEQUENCE)
		return RW_X;
	b->cont_letter = next_letter(b);
	return RW_SEQ;
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
	if (mbox_fifo_peek(b) == ANS_EHLO && code == 250 && !b->reply_first &&
	    n > 4)
		return ehlo_rewrite(b, s, n, repl, why);
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
	case RW_SEQ:
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
	b->masked = 0; /* the sequence starts again with the next reply */
	if (!b->greeted) {
		b->greeted = true; /* the banner answers no command */
		return;
	}
	ans = mbox_fifo_peek(b);
	mbox_fifo_pop(b);
	if (ans == ANS_DATA && code == 354)
		mbox_data_enter(b);
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
reply_line(struct mbox_pass *p, const char *s, size_t n, size_t end_len,
           bool whole)
{
	struct mbox *b = p->b;
	int code = reply_code(s, n);
	bool coded = code >= 0 && (n == 3 || s[3] == ' ' || s[3] == '-');
	bool final = !(coded && n > 3 && s[3] == '-');
	const char *repl = NULL, *why;
	int how = reply_how(b, s, n, coded ? code : -1, &repl, &why);
	struct evbuffer_iovec v;
	size_t i, m;
	bool seq_head = false;
	char *now;

	if (how == RW_PASS) {
		mbox_put(p, s, n + end_len);
	} else {
		m = how == RW_REPLACE ? 4 + strlen(repl) : n;
		/* the head of a long masked line keeps its last byte back:
		 * it becomes the letter if the line ends right after it */
		seq_head = how == RW_SEQ && !whole;
		if (seq_head && s[n - 1] != '\r')
			m--;
		now = mbox_reserve(p, m, &v);
		if (how == RW_REPLACE) {
			memcpy(now, s, 4);
			memcpy(now + 4, repl, m - 4);
		} else {
			for (i = 0; i < m; i++)
				now[i] = rewrite_byte(how, s[i], i, coded);
			if (how == RW_SEQ && (whole || m == n))
				/* a head that ends with CR: its line ends
				 * there (a bare CR in a reply is not seen) */
				now[m - 1 - (m == n && !whole)] =
				    b->cont_letter;
		}
		if (m != n || memcmp(s, now, n) != 0)
			mbox_emit_note(p, MBOX_TO_CLIENT, s, n, now, m, why);
		mbox_commit(p, &v);
		mbox_put(p, s + n, end_len);
	}
	if (whole) {
		reply_effects(b, code, final);
	} else {
		b->reply_cont = how;
		b->cont_code = code;
		b->cont_final = final;
		b->cont_held = seq_head && s[n - 1] != '\r';
	}
}

/* The rest of a long reply line, up to and with its LF if there. */
static void
reply_rest(struct mbox_pass *p, const char *s, size_t n, bool lf)
{
	struct mbox *b = p->b;
	char buf[256];
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		bool end = s[i] == '\r' || s[i] == '\n';

		if (b->reply_cont == RW_REPLACE && !end)
			continue; /* the replacement went out with the head */
		if (b->reply_cont == RW_SEQ) {
			/* one masked byte waits until the next tells whether
			 * it was the last of the line (then: the letter) */
			if (b->cont_held)
				buf[k++] = end ? b->cont_letter : 'X';
			b->cont_held = !end;
			if (end)
				buf[k++] = s[i];
			if (k >= sizeof(buf) - 1) {
				mbox_put(p, buf, k);
				k = 0;
			}
			continue;
		}
		buf[k++] = rewrite_byte(b->reply_cont, s[i], 4, false);
		if (k == sizeof(buf)) {
			mbox_put(p, buf, k);
			k = 0;
		}
	}
	mbox_put(p, buf, k);
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
	struct mbox_pass p = {b, in, len, 0, out, note_fn, arg};
	size_t pos = 0;

	if (b->cut != MBOX_FORWARD)
		return b->cut;
	while (pos < len) {
		const char *lf;
		size_t end, take, e;

		if (b->mode == MODE_BLIND) {
			mbox_put(&p, in + pos, len - pos);
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
