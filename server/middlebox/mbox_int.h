/*
 * mbox_int.h - private to the middlebox layer: the box's modes and
 * scanner states, one pass over a chunk (struct mbox_pass), and the
 * helpers the client side (mbox_command.c, mbox_data.c), the server side
 * (mbox_reply.c) and the interface (middlebox.c) share.
 *
 * Not for other layers: they use middlebox.h only.
 */
#ifndef MBOX_INT_H
#define MBOX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

#include "middlebox.h"

/* What the box reads the client's bytes as (struct mbox.mode). */
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
	RW_SEQ,    /* ... the last X replaced by the sequence letter */
	RW_REPLACE /* the text after the code: an exact replacement */
};

/* One call: the chunk, how far it went out, where the output goes. */
struct mbox_pass {
	struct mbox *b;
	const char *in;
	size_t len;
	size_t fwd; /* in[0..fwd) is dealt with (written or dropped) */
	struct evbuffer *out;
	mbox_note_fn note;
	void *arg;
};

/* --- ASCII and words --- */

static inline int
mbox_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static inline bool
mbox_is_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

static inline bool
mbox_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* s[0..n) equals the NUL-terminated word, ignoring ASCII case. */
static inline bool
mbox_word_eq(const char *s, size_t n, const char *word)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (word[i] == '\0' || mbox_lower((unsigned char)s[i]) !=
		                           mbox_lower((unsigned char)word[i]))
			return false;
	return word[n] == '\0';
}

static inline bool
mbox_word_in(const char *s, size_t n, char *const *list, size_t nlist)
{
	size_t i;

	for (i = 0; i < nlist; i++)
		if (list[i] != NULL && mbox_word_eq(s, n, list[i]))
			return true;
	return false;
}

/* The first word of s[0..n): up to SP or HTAB. */
static inline size_t
mbox_first_word(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] != ' ' && s[i] != '\t')
		i++;
	return i;
}

/* --- middlebox.c: output, notes, limits, the reply FIFO, lines --- */

/* mbox_put - append s[0..n) to the output (aborts when out of memory) */
void mbox_put(struct mbox_pass *p, const char *s, size_t n);
/* mbox_flush - write in[fwd..upto) as it is */
void mbox_flush(struct mbox_pass *p, size_t upto);
/* mbox_emit_note - one note to the caller's mbox_note_fn */
void mbox_emit_note(struct mbox_pass *p, enum mbox_dir dir, const char *orig,
                    size_t orig_len, const char *now, size_t now_len,
                    const char *why);
/* mbox_emit_line - a client line as the box saw it (a note with why
 * NULL); dropped: the box does not pass it on */
void mbox_emit_line(struct mbox_pass *p, const char *line, size_t len,
                    bool dropped);
/* mbox_reserve / mbox_commit - n contiguous bytes at the end of the
 * output: filled (and maybe noted) by the caller, then committed */
char *mbox_reserve(struct mbox_pass *p, size_t n, struct evbuffer_iovec *v);
void mbox_commit(struct mbox_pass *p, struct evbuffer_iovec *v);

/* mbox_action_verdict - what an action does to the connection */
enum mbox_verdict mbox_action_verdict(enum mbox_action a);
/* mbox_over_limit - the first limit row for m that value breaks, or NULL */
const struct mbox_limit *mbox_over_limit(const struct mbox_config *cfg,
                                         enum mbox_measure m, uint64_t value);
/* mbox_limit_note - note a broken limit, say what happens to the
 * connection */
enum mbox_verdict mbox_limit_note(struct mbox_pass *p,
                                  const struct mbox_limit *l, uint64_t value,
                                  const char *orig, size_t orig_len);

/* mbox_fifo_push / peek / pop - what the replies the server still owes
 * answer (ANS_*), oldest first */
void mbox_fifo_push(struct mbox *b, int ans);
int mbox_fifo_peek(const struct mbox *b);
void mbox_fifo_pop(struct mbox *b);

/* mbox_seg_content - the bytes of a segment before its line end */
size_t mbox_seg_content(struct mbox *b, const char *seg, size_t n, bool lf);
/* mbox_line_reset - a new client line begins */
void mbox_line_reset(struct mbox *b);

/* --- the client side --- */

/* mbox_command_segment - one command-mode segment in[pos..end): a line or
 * a piece of one (mbox_command.c) */
enum mbox_verdict mbox_command_segment(struct mbox_pass *p, size_t pos,
                                       size_t end, bool lf);
/* mbox_data_enter - the server took DATA (354): message mode */
void mbox_data_enter(struct mbox *b);
/* mbox_data_segment - one DATA segment in[pos..end) (mbox_data.c) */
enum mbox_verdict mbox_data_segment(struct mbox_pass *p, size_t pos, size_t end,
                                    bool lf);

#endif
