/*
 * middlebox.c - a firewall between the client and the emulated server:
 * Cisco ASA "inspect esmtp" (FACTS.md 5) and PIX "fixup protocol smtp" /
 * Mailguard (FACTS.md 6), as pure functions over the chunks each side
 * sends. This file: the interface of middlebox.h (a chunk from the client
 * cut into lines for the command or DATA side, the state queries, names,
 * freeing a config) and what every side shares (writing the output, notes,
 * the limit rows, the FIFO of replies owed).
 *
 * The layer's files: middlebox.c (this), mbox_command.c (client command
 * lines: allowed verbs, masks, split commands, command limits),
 * mbox_data.c (client DATA: headers, MIME filenames, line lengths, the
 * end of data), mbox_reply.c (server replies: banner and EHLO masks,
 * following 354 and STARTTLS's 220), mbox_int.h (their private header).
 * The box keeps its own view of the conversation and can disagree with
 * the server, as the real ones do.
 *
 * Does not: sockets, timers, the FIN or RST itself (the caller acts on the
 * verdict), loading configs (profile.c), BDAT (the box knows only DATA, so
 * BDAT data is parsed as commands), anything after STARTTLS's 220 (the box
 * is blind then), allocate memory (but for the output buffer).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "mbox_int.h"

/* --- output and notes --- */

/* mbox_put - append s[0..n) to the output */
void
mbox_put(struct mbox_pass *p, const char *s, size_t n)
{
	if (n > 0 && evbuffer_add(p->out, s, n) != 0)
		abort(); /* out of memory: nothing sensible to forward */
}

/* mbox_flush - write in[fwd..upto) as it is */
void
mbox_flush(struct mbox_pass *p, size_t upto)
{
	if (upto > p->fwd)
		mbox_put(p, p->in + p->fwd, upto - p->fwd);
	p->fwd = upto;
}

/* mbox_emit_note - one note to the caller's mbox_note_fn */
void
mbox_emit_note(struct mbox_pass *p, enum mbox_dir dir, const char *orig,
               size_t orig_len, const char *now, size_t now_len,
               const char *why)
{
	struct mbox_note n = {dir, orig, orig_len, now, now_len, why, false};

	if (p->note != NULL)
		p->note(p->arg, p->b->cfg, &n);
}

/* mbox_emit_line - a client line as the box saw it */
void
mbox_emit_line(struct mbox_pass *p, const char *line, size_t len, bool dropped)
{
	struct mbox_note n = {MBOX_TO_SERVER, line,   len, NULL, 0,
	                      NULL,           dropped};

	if (p->note != NULL)
		p->note(p->arg, p->b->cfg, &n);
}

/*
 * Reserve n contiguous bytes at the end of out: the caller fills them,
 * may point a note at them, then commits with mbox_commit().
 */
char *
mbox_reserve(struct mbox_pass *p, size_t n, struct evbuffer_iovec *v)
{
	if (evbuffer_reserve_space(p->out, n, v, 1) != 1 || v->iov_len < n)
		abort();
	v->iov_len = n;
	return v->iov_base;
}

/* mbox_commit - the reserved bytes are written */
void
mbox_commit(struct mbox_pass *p, struct evbuffer_iovec *v)
{
	if (evbuffer_commit_space(p->out, v, 1) != 0)
		abort();
}

/* --- limit rows --- */

/* mbox_action_verdict - what an action does to the connection */
enum mbox_verdict
mbox_action_verdict(enum mbox_action a)
{
	switch (a) {
	case MBOX_ACT_DROP:
		return MBOX_CUT_DROP;
	case MBOX_ACT_RESET:
		return MBOX_CUT_RST;
	case MBOX_ACT_LOG:
		break;
	}
	return MBOX_FORWARD;
}

/* mbox_over_limit - the first limit row for m that value breaks, or NULL */
const struct mbox_limit *
mbox_over_limit(const struct mbox_config *cfg, enum mbox_measure m,
                uint64_t value)
{
	size_t i;

	for (i = 0; i < cfg->nlimits; i++)
		if (cfg->limits[i].what == m)
			return value > cfg->limits[i].over ? &cfg->limits[i]
			                                   : NULL;
	return NULL;
}

/* mbox_limit_note - note a broken limit ("cmd_line_length 513 > 512:
 * drop-connection") and say what happens to the connection */
enum mbox_verdict
mbox_limit_note(struct mbox_pass *p, const struct mbox_limit *l, uint64_t value,
                const char *orig, size_t orig_len)
{
	snprintf(p->b->why, sizeof(p->b->why),
	         "%s %" PRIu64 " > %" PRIu64 ": %s", mbox_measure_str(l->what),
	         value, l->over, mbox_action_str(l->action));
	mbox_emit_note(p, MBOX_TO_SERVER, orig, orig_len, NULL, 0, p->b->why);
	return mbox_action_verdict(l->action);
}

/* --- which reply answers what (pipelining) --- */

/* mbox_fifo_push - one more reply owed, answering ans */
void
mbox_fifo_push(struct mbox *b, int ans)
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

/* mbox_fifo_peek - what the next reply answers, or ANS_NONE */
int
mbox_fifo_peek(const struct mbox *b)
{
	return b->fifo_len > 0 ? b->fifo[b->fifo_head].ans : ANS_NONE;
}

/* mbox_fifo_pop - the next reply went by */
void
mbox_fifo_pop(struct mbox *b)
{
	if (b->fifo_len == 0)
		return;
	if (--b->fifo[b->fifo_head].n == 0) {
		b->fifo_head = (b->fifo_head + 1) % 16;
		b->fifo_len--;
	}
}

/* --- client lines --- */

/*
 * mbox_seg_content - the bytes of seg[0..n) before its line end. A CR that ends
 * a chunk waits for the next chunk to tell whether it ends the line.
 */
size_t
mbox_seg_content(struct mbox *b, const char *seg, size_t n, bool lf)
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

/* mbox_line_reset - a new client line begins */
void
mbox_line_reset(struct mbox *b)
{
	b->line_open = false;
	b->line_len = 0;
	b->line_kept = 0;
	b->name_state = NAME_START;
	b->fn_state = FN_SEEK;
	b->fn_match = 0;
	b->fn_prev = '\n';
}

/* --- the interface --- */

/* mbox_from_client - one client chunk, as the server will get it */
enum mbox_verdict
mbox_from_client(struct mbox *b, const char *in, size_t len,
                 struct evbuffer *out, mbox_note_fn note_fn, void *arg)
{
	struct mbox_pass p = {b, in, len, 0, out, note_fn, arg};
	enum mbox_verdict v = MBOX_FORWARD;
	size_t pos = 0;

	if (b->cut != MBOX_FORWARD)
		return b->cut;
	b->eod_before = b->mode == MODE_DATA && b->eod_state != EOD_NONE;
	while (pos < len && v == MBOX_FORWARD) {
		const char *lf;
		size_t end;

		if (b->mode == MODE_BLIND) {
			mbox_flush(&p, len);
			break;
		}
		lf = memchr(in + pos, '\n', len - pos);
		end = lf != NULL ? (size_t)(lf - in) + 1 : len;
		if (b->mode == MODE_COMMAND)
			v = mbox_command_segment(&p, pos, end, lf != NULL);
		else
			v = mbox_data_segment(&p, pos, end, lf != NULL);
		pos = end;
	}
	if (v == MBOX_FORWARD) {
		mbox_flush(&p, len);
	} else {
		b->cut = v;
		b->cut_rest = len - pos; /* after the line it cut at */
	}
	return v;
}

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
	mbox_line_reset(b);
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

/* mbox_reading_commands - the client's bytes are command lines to the
 * box */
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
