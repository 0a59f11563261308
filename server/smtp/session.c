/*
 * session.c - one SMTP conversation as a receiver (RFC 5321), driven by
 * io events and a profile.
 *
 * Does: the input side (command lines with limits checked before the line
 * ends, strict or lenient line endings, pipelined batches answered in
 * order, DATA and BDAT bodies streamed to the spool), timeouts, back-
 * pressure, and carrying out rule actions -- delay, reply, close (FIN,
 * silent, RST), hang -- the same way for every rule at every hook.
 * Does not: decide per-verb behaviour (commands.c), format replies
 * (reply.c), or know which vendor the profile plays.
 */
#include <errno.h>
#include <stdarg.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/rand.h>

#include "io.h"
#include "log.h"
#include "session.h"
#include "spool.h"
#include "transcript.h"

/* RFC 4954 4: AUTH lines may be up to 12288 octets, whatever the profile's
 * command line limit is. */
#define AUTH_LINE_MAX 12288
/* Stop reading while this much output waits for a slow reader. */
#define OUTPUT_HIGH (64 * 1024)
/* DATA is decoded in chunks of at most this many bytes. */
#define DATA_CHUNK (16 * 1024)

static void session_process(struct session *s);
static void session_fire(struct session *s, struct rule *r, enum hook h);
static void session_message_end(struct session *s);
static void session_data_finish(struct session *s);

static const char *state_names[] = {
    "CONNECTED", "INIT", "HELO", "MAIL", "RCPT",
    "DATA",      "BDAT", "AUTH", "TLS",  "CLOSING",
};

/* session_state_str - name of a state, for the transcript */
const char *
session_state_str(enum session_state st)
{
	return state_names[st];
}

static void session_info(struct session *s, enum tr_kind kind, const char *fmt,
                         ...) __attribute__((format(printf, 3, 4)));

static void
session_info(struct session *s, enum tr_kind kind, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;
	struct tr_event ev = {0};

	if (!transcript_wants(kind))
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	ev.session = s->id;
	ev.kind = kind;
	ev.text = buf;
	ev.len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
	ev.profile = s->profile->name;
	transcript_emit(&ev);
}

/* session_enter - every state change goes through here */
void
session_enter(struct session *s, enum session_state st)
{
	if (s->state == st)
		return;
	session_info(s, TR_DETAIL, "state %s -> %s", state_names[s->state],
	             state_names[st]);
	s->state = st;
}

/* session_reset_transaction - forget MAIL, RCPTs and any message */
void
session_reset_transaction(struct session *s)
{
	for (size_t i = 0; i < s->nrcpts; i++) {
		free(s->rcpts[i]);
		s->rcpts[i] = NULL;
	}
	s->nrcpts = 0;
	free(s->mail_line);
	s->mail_line = NULL;
	if (s->txn != NULL) {
		s->txn->mail_from[0] = '\0';
		memset(&s->txn->mail, 0, sizeof(s->txn->mail));
		s->txn->queue_id[0] = '\0';
	}
	if (s->msg != NULL) {
		spool_abort(s->msg);
		s->msg = NULL;
	}
	s->msg_size = 0;
	free(s->hdr);
	s->hdr = NULL;
	s->data_done = false;
	s->headers_done = false;
	s->end_hook_done = false;
	s->bdat_used = false;
	s->verdict = MSG_OK;
	s->verdict_rule = NULL;
}

/* session_txn - made at the first MAIL (or 555 naming a parameter), then
 * reused: one allocation per session at most, none for one that sends no
 * MAIL */
struct session_txn *
session_txn(struct session *s)
{
	if (s->txn == NULL && (s->txn = calloc(1, sizeof(*s->txn))) == NULL)
		session_info(s, TR_WARN, "out of memory for a transaction");
	return s->txn;
}

/* session_txn_peek - the transaction's strings, all empty before any */
const struct session_txn *
session_txn_peek(const struct session *s)
{
	static const struct session_txn none;

	return s->txn != NULL ? s->txn : &none;
}

static void
session_timers_off(struct session *s)
{
	if (s->timer)
		evtimer_del(s->timer);
	if (s->life_timer)
		evtimer_del(s->life_timer);
}

/* session_close - end the session; reason goes to the transcript */
void
session_close(struct session *s, enum close_how how, const char *reason)
{
	if (s->state == STATE_CLOSING)
		return;
	/* What the server already said goes out through the boxes first;
	 * a box may itself end the session while doing so. */
	session_via_flush(s);
	if (s->state == STATE_CLOSING)
		return;
	if (s->msg != NULL || s->state == STATE_DATA || s->state == STATE_BDAT)
		session_info(
		    s, TR_WARN,
		    "message not accepted: %llu bytes received are discarded",
		    (unsigned long long)s->msg_size);
	session_reset_transaction(s);
	session_timers_off(s);
	if (s->env->closing != NULL)
		s->env->closing(s, s->env->owner);
	session_info(s, TR_CLOSE, "%s (%s)", how == CLOSE_RST ? "rst" : "fin",
	             reason);
	s->state = STATE_CLOSING;
	io_close(s->io, how == CLOSE_RST ? IO_CLOSE_RST : IO_CLOSE_FIN);
}

static void
session_release(struct session *s)
{
	session_reset_transaction(s);
	io_free(s->io);
	if (s->timer)
		event_free(s->timer);
	if (s->life_timer)
		event_free(s->life_timer);
	if (s->scratch)
		evbuffer_free(s->scratch);
	profile_unref(s->profile);
	free(s->rcpts);
	free(s->line);
	free(s->hello);
	free(s->helo);
	free(s->txn);
	free(s->auth);
	free(s->tls_strings);
	session_via_free(s);
	free(s);
}

static void
session_free(struct session *s)
{
	if (s->env->gone != NULL)
		s->env->gone(s, s->env->owner);
	session_release(s);
}

/* session_bad_command - count one; at the profile's limit, 421 and close */
void
session_bad_command(struct session *s)
{
	const struct limits *l = &s->profile->limits;

	s->bad_commands++;
	if (l->bad_commands == 0 || s->bad_commands < l->bad_commands)
		return;
	session_info(s, TR_WARN, "bad command limit %u reached",
	             l->bad_commands);
	if (l->bad_commands_close != CLOSE_SILENT)
		reply_send(s, REPLY_BAD_COMMAND_LIMIT);
	session_close(s, l->bad_commands_close, "bad command limit");
}

static void session_timer_cb(evutil_socket_t fd, short what, void *arg);

/* Pause input processing (and reading) for a rule's delay or hang. */
static void
session_pause(struct session *s, unsigned ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	s->paused = true;
	io_pause(s->io);
	/* Made on first use: most sessions never wait. */
	if (s->timer == NULL &&
	    (s->timer = evtimer_new(s->env->base, session_timer_cb, s)) == NULL) {
		s->paused = false; /* no memory to wait: go on at once */
		io_resume(s->io);
		return;
	}
	evtimer_add(s->timer, &tv);
}

static void
session_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	struct rule *r = s->pending;

	if (s->hanging) {
		session_close(s, CLOSE_FIN, "hang timeout");
		return;
	}
	s->paused = false;
	io_resume(s->io);
	if (r != NULL)
		session_fire(s, r, s->pending_hook); /* the part after delay */
	if (!s->paused && s->state != STATE_CLOSING)
		session_process(s);
	session_via_flush(s);
}

static void
session_life_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	reply_send(s, REPLY_CONNECTION_TIMEOUT);
	session_close(s, CLOSE_FIN, "connection timeout");
}

/* The buffer the engine parses: the socket's, or what the boxes let by. */
static struct evbuffer *
session_in(struct session *s)
{
	return s->nboxes != 0 ? s->via_in : io_input(s->io);
}

/* The engine's own behaviour at a hook when no rule replaces it. */
static void
session_normal(struct session *s, enum hook h)
{
	switch (h) {
	case HOOK_CONNECT:
		reply_send(s, REPLY_GREETING);
		session_enter(s, STATE_INIT);
		break;
	case HOOK_COMMAND:
		commands_run(s);
		break;
	case HOOK_DATA:
		if (s->data_done)
			session_message_end(s);
		break;
	default: /* header and mid-message data: keep receiving */
		break;
	}
}

/* Does this hook fire while the client is still sending the message? */
static bool
hook_midstream(const struct rule *r, enum hook h)
{
	return h == HOOK_HEADER || (h == HOOK_DATA && r->when.size_over != 0);
}

/*
 * Carry out a rule, the same way for every rule and every hook: an
 * optional delay first, then hang, close or reply, else the engine's
 * normal behaviour. A reply at a mid-message hook replaces the reply at
 * the end of the data, because the client is not listening before then.
 */
static void
session_fire(struct session *s, struct rule *r, enum hook h)
{
	const struct rule_do *a = &r->act;
	bool mid = hook_midstream(r, h);

	if (s->pending != r) {
		char what[256];

		rules_describe(r, what, sizeof(what));
		struct tr_event ev = {
		    .session = s->id,
		    .kind = TR_RULE,
		    .text = what,
		    .len = strlen(what),
		    .rule = r->name,
		    .why = r->why,
		    .profile = s->profile->name,
		};
		transcript_emit(&ev);
		if (a->delay_ms != 0) {
			s->pending = r;
			s->pending_hook = h;
			session_pause(s, a->delay_ms);
			return;
		}
	}
	s->pending = NULL;

	if (a->hang) {
		if (a->has_reply && !mid)
			reply_lines(s, &a->reply, r->name);
		session_info(s, TR_INFO, "hanging: reading nothing for %u ms",
		             s->profile->limits.hang_timeout_ms);
		s->hanging = true;
		session_pause(s, s->profile->limits.hang_timeout_ms);
		return;
	}
	if (a->close == CLOSE_SILENT) {
		session_close(s, CLOSE_SILENT, r->name);
		return;
	}
	if (a->close == CLOSE_RST) {
		if (a->has_reply && !mid)
			reply_lines(s, &a->reply, r->name);
		session_close(s, CLOSE_RST, r->name);
		return;
	}
	if (mid) {
		if (a->has_reply && s->verdict == MSG_OK) {
			s->verdict = MSG_RULE_REPLY;
			s->verdict_rule = r;
		}
		if (a->close == CLOSE_FIN)
			session_close(s, CLOSE_FIN, r->name);
		return;
	}
	if (a->has_reply) {
		reply_lines(s, &a->reply, r->name);
		if (h == HOOK_CONNECT)
			session_enter(s, STATE_INIT);
		else if (h == HOOK_DATA) {
			/* The rule's reply took the place of the 250. */
			session_reset_transaction(s);
			session_enter(s, STATE_HELO);
		}
	} else
		session_normal(s, h);
	if (a->close == CLOSE_FIN && s->state != STATE_CLOSING)
		session_close(s, CLOSE_FIN, r->name);
}

/* Try the rules at a hook; false when none fired. */
static bool
session_hook(struct session *s, const struct rule_ctx *ctx)
{
	struct rule *r;

	if (s->profile->nrules == 0)
		return false;
	if ((r = rules_match(s->profile, ctx, &s->rng)) == NULL)
		return false;
	session_fire(s, r, ctx->hook);
	return true;
}

static void
session_transcript_line(struct session *s, enum tr_kind kind, const char *text,
                        size_t len)
{
	struct tr_event ev = {
	    .session = s->id,
	    .kind = kind,
	    .text = text,
	    .len = len,
	    .profile = s->profile->name,
	};

	transcript_emit(&ev);
}

/* A complete command line is in s->line: rules first, then the table. */
static void
session_command(struct session *s)
{
	struct rule_ctx ctx = {.hook = HOOK_COMMAND};
	int verb;

	smtp_parse_command(s->line, s->line_len, &s->cmd);
	verb = verb_from_str(s->cmd.verb, s->cmd.verb_len);
	ctx.verb = s->cmd.verb;
	ctx.nth = verb >= 0 ? ++s->verb_uses[verb] : ++s->unknown_uses;
	ctx.args = s->cmd.args != NULL ? s->cmd.args : "";
	if (!session_hook(s, &ctx))
		commands_run(s);
}

/* Does the buffered line start with "AUTH "? Its limit is RFC 4954's. */
static bool
session_auth_ahead(struct evbuffer *in)
{
	char head[5];

	if (evbuffer_copyout(in, head, sizeof(head)) != sizeof(head))
		return false;
	return strncasecmp(head, "AUTH ", sizeof(head)) == 0;
}

/*
 * Read one line in command (or AUTH) mode. The length limit is checked on
 * what is buffered, before the line ends, so a client can never make us
 * hold more than the limit. Returns true if it consumed anything.
 */
static bool
session_line_in(struct session *s, struct evbuffer *in)
{
	const struct limits *l = &s->profile->limits;
	size_t limit = l->line_length, eol_len, n, len, total;
	struct evbuffer_ptr p;
	bool cr;

	if (s->state == STATE_AUTH || session_auth_ahead(in))
		limit = limit > AUTH_LINE_MAX ? limit : AUTH_LINE_MAX;
	/* The buffer holds an ordinary command line; it grows only for the
	 * rare long AUTH line, so an idle session stays small. */
	if (limit >= s->line_cap) {
		char *grown = realloc(s->line, limit + 1);
		if (grown != NULL) {
			s->line = grown;
			s->line_cap = limit + 1;
		} else
			limit = s->line_cap - 1;
	}
	n = evbuffer_get_length(in);
	if (n == 0)
		return false;
	p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
	if (p.pos < 0) {
		if (!s->skipping && n < limit)
			return false; /* wait for the rest of the line */
		if (!s->skipping)
			session_info(
			    s, TR_WARN,
			    "command line over %zu bytes; discarding it",
			    limit);
		s->skipping = true;
		s->skip_bytes += n;
		evbuffer_drain(in, n);
		return false;
	}
	len = (size_t)p.pos;
	total = len + 1;
	if (s->skipping || total > limit) {
		evbuffer_drain(in, total);
		session_info(s, TR_WARN, "line too long: %zu bytes (limit %zu)",
		             s->skip_bytes + total, limit);
		s->skipping = false;
		s->skip_bytes = 0;
		reply_send(s, REPLY_LINE_TOO_LONG);
		session_bad_command(s);
		return true;
	}
	evbuffer_remove(in, s->line, total);
	cr = len > 0 && s->line[len - 1] == '\r';
	s->line_len = len - (cr ? 1 : 0);
	s->line[s->line_len] = '\0';
	/* With middleboxes, the client's lines were logged as the client
	 * sent them, before the boxes (session_via.c). */
	if (s->nboxes == 0 || mbox_blind(&s->boxes[0]))
		session_transcript_line(s, TR_CLIENT, s->line, s->line_len);
	if (!cr && s->profile->eol == EOL_STRICT) {
		session_info(s, TR_WARN, "bare LF: line not ended by CRLF");
		reply_send(s, REPLY_BARE_LF);
		session_bad_command(s);
		return true;
	}
	if (s->state == STATE_AUTH)
		commands_auth_line(s);
	else
		session_command(s);
	return true;
}

/* New message ids, shared by DATA and BDAT. */
static void
session_new_ids(struct session_txn *t)
{
	static _Atomic unsigned long long counter;
	/* Message-ids must be unique, not secret: a per-thread generator
	 * seeded once from OpenSSL spares a RAND_bytes() (and the getpid()
	 * inside it) per message. Not the session's rule generator, so
	 * --seed replays the same rule outcomes. */
	static _Thread_local struct rng ids;
	static _Thread_local bool seeded;
	unsigned long long n = ++counter;
	unsigned char g[16];
	uint64_t a, b;

	snprintf(t->queue_id, sizeof(t->queue_id), "%08llX%06llX",
	         (unsigned long long)time(NULL) & 0xffffffffull, n & 0xffffff);
	if (!seeded) {
		if (RAND_bytes((unsigned char *)&a, sizeof(a)) != 1)
			a = (uint64_t)time(NULL);
		rng_seed(&ids, a, n);
		seeded = true;
	}
	a = rng_next(&ids);
	b = rng_next(&ids);
	memcpy(g, &a, 8);
	memcpy(g + 8, &b, 8);
	g[6] = (g[6] & 0x0f) | 0x40; /* RFC 4122 version 4 */
	g[8] = (g[8] & 0x3f) | 0x80;
	snprintf(t->message_id, sizeof(t->message_id),
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	         "%02x%02x%02x%02x%02x%02x",
	         g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9],
	         g[10], g[11], g[12], g[13], g[14], g[15]);
	snprintf(t->internal_id, sizeof(t->internal_id), "%llu",
	         (unsigned long long)time(NULL) * 1000ull + n);
}

/* Open the spool file for a new message; false on error, and the caller
 * sends the 451 when the client can take it (BDAT: after the chunk). */
static bool
session_begin_message(struct session *s)
{
	struct session_txn *t = session_txn(s);

	if (t == NULL)
		return false;
	session_new_ids(t);
	/* Only a session receiving a message carries a header scanner. */
	if (s->hdr == NULL && (s->hdr = malloc(sizeof(*s->hdr))) == NULL)
		return false;
	header_scan_init(s->hdr);
	s->msg_size = 0;
	s->verdict = MSG_OK;
	s->verdict_rule = NULL;
	s->headers_done = false;
	s->end_hook_done = false;
	s->data_done = false;
	s->msg = spool_begin(s->env->spool, t->queue_id);
	if (s->msg == NULL) {
		session_info(s, TR_WARN, "spool: cannot start message: %s",
		             strerror(errno));
		return false;
	}
	return true;
}

/* session_start_data - called by DATA before its 354 */
bool
session_start_data(struct session *s)
{
	if (!session_begin_message(s)) {
		reply_send(s, REPLY_LOCAL_ERROR);
		return false;
	}
	data_decoder_init(&s->dec, s->profile->eol == EOL_LENIENT);
	return true;
}

/* session_start_bdat - receive a chunk; discard it if refused */
void
session_start_bdat(struct session *s, uint64_t size, bool last, bool discard,
                   enum reply_id refusal)
{
	s->bdat_left = size;
	s->bdat_last = last;
	s->bdat_discard = discard;
	s->bdat_refusal = refusal;
	s->bdat_chunk = size;
	s->bdat_prev = s->state;
	if (!discard && !s->bdat_used) {
		if (!session_begin_message(s)) {
			/* 451 is sent once the chunk has been read past. */
			s->bdat_discard = true;
			s->bdat_refusal = REPLY_LOCAL_ERROR;
		}
		s->bdat_used = true;
	}
	session_enter(s, STATE_BDAT);
}

static void
session_headers_done(struct session *s)
{
	const struct limits *l = &s->profile->limits;
	struct rule_ctx ctx = {.hook = HOOK_HEADER, .headers = s->hdr};

	s->headers_done = true;
	session_info(s, TR_DETAIL, "header section: %llu bytes",
	             (unsigned long long)s->hdr->size);
	if (l->header_size != 0 && s->hdr->size > l->header_size &&
	    s->verdict == MSG_OK)
		s->verdict = MSG_HEADER_BIG;
	session_hook(s, &ctx);
}

/* Message bytes (unstuffed) arrived: size, spool, header scan, hooks. */
static void
session_body(struct session *s, const char *buf, size_t len)
{
	const struct limits *l = &s->profile->limits;
	uint64_t before = s->msg_size;

	s->msg_size += len;
	if (l->message_size != 0 && s->msg_size > l->message_size &&
	    s->verdict == MSG_OK) {
		session_info(s, TR_WARN, "message over %llu bytes",
		             (unsigned long long)l->message_size);
		s->verdict = MSG_TOO_BIG;
	}
	/* RFC 5321 4.5.3.1.6: 1000 octets per text line, CRLF included. */
	if (s->state == STATE_DATA && l->text_line_length != 0 &&
	    s->dec.max_line > l->text_line_length && s->verdict == MSG_OK) {
		session_info(s, TR_WARN,
		             "message line of %zu bytes (limit %zu)",
		             s->dec.max_line, l->text_line_length);
		s->verdict = MSG_LINE_TOO_LONG;
	}
	if (s->msg != NULL && s->verdict == MSG_OK &&
	    spool_write(s->msg, buf, len) == -1) {
		session_info(s, TR_WARN, "spool: write failed: %s",
		             strerror(errno));
		s->verdict = MSG_LOCAL_ERROR;
	}
	if (s->verdict != MSG_OK && s->msg != NULL) {
		spool_abort(s->msg); /* no need to keep what we refuse */
		s->msg = NULL;
	}
	if (!s->headers_done) {
		if (header_scan_feed(s->hdr, buf, len))
			session_headers_done(s);
		else if (l->header_size != 0 && s->hdr->size > l->header_size &&
		         s->verdict == MSG_OK)
			s->verdict = MSG_HEADER_BIG;
	}
	if (s->state == STATE_CLOSING || s->paused)
		return;
	if (s->profile->nrules != 0) {
		struct rule_ctx ctx = {
		    .hook = HOOK_DATA,
		    .size_before = before,
		    .size = s->msg_size,
		};
		session_hook(s, &ctx);
	}
}

/* Decode what DATA input there is; true if it made progress. */
static bool
session_data_in(struct session *s, struct evbuffer *in)
{
	char out[DATA_CHUNK + 2];
	struct evbuffer_iovec v;
	size_t len, used, outlen;
	bool done = false;

	if (s->data_done) {
		session_data_finish(s);
		return true;
	}
	if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
		return false;
	len = v.iov_len < DATA_CHUNK ? v.iov_len : DATA_CHUNK;
	used = data_decode(&s->dec, v.iov_base, len, out, &outlen, &done);
	evbuffer_drain(in, used);
	if (done)
		s->data_done = true;
	session_body(s, out, outlen);
	if (done) {
		session_info(
		    s, TR_DETAIL,
		    "message data: %llu bytes, %llu lines, longest %zu",
		    (unsigned long long)s->msg_size,
		    (unsigned long long)s->dec.lines, s->dec.max_line);
		session_transcript_line(s, TR_CLIENT, ".", 1);
	}
	if (s->state == STATE_CLOSING || s->paused)
		return false;
	if (s->data_done)
		session_data_finish(s);
	return true;
}

/* {size} for the next reply: the chunk or message just received. */
static void
session_set_size(struct session *s, uint64_t size)
{
	struct session_txn *t = session_txn(s); /* made by MAIL already */

	if (t != NULL)
		snprintf(t->size_str, sizeof(t->size_str), "%llu",
		         (unsigned long long)size);
}

/* Read BDAT chunk bytes; true if it made progress. */
static bool
session_bdat_in(struct session *s, struct evbuffer *in)
{
	struct evbuffer_iovec v;
	size_t len;

	if (s->bdat_left > 0) {
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
			return false;
		len = v.iov_len;
		if (len > s->bdat_left)
			len = (size_t)s->bdat_left;
		if (!s->bdat_discard)
			session_body(s, v.iov_base, len);
		evbuffer_drain(in, len);
		s->bdat_left -= len;
		if (s->state == STATE_CLOSING || s->paused)
			return false;
		if (s->bdat_left > 0)
			return true;
	}
	session_info(s, TR_DETAIL, "BDAT chunk: %llu bytes%s",
	             (unsigned long long)s->bdat_chunk,
	             s->bdat_discard ? " (discarded)" : "");
	if (s->bdat_discard) {
		session_enter(s, s->bdat_prev);
		if (s->bdat_refusal == REPLY_LOCAL_ERROR) {
			session_reset_transaction(s); /* 451 sent just below */
			session_enter(s, STATE_HELO);
		}
		reply_send(s, s->bdat_refusal);
		if (s->bdat_refusal != REPLY_LOCAL_ERROR)
			session_bad_command(s);
		return true;
	}
	if (s->bdat_last) {
		s->data_done = true;
		session_data_finish(s);
		return true;
	}
	session_enter(s, STATE_RCPT);
	if (s->verdict != MSG_OK) {
		/* RFC 3030 2: a failed chunk ends the transaction. */
		session_message_end(s);
		return true;
	}
	session_set_size(s, s->bdat_chunk);
	reply_send(s, REPLY_BDAT_OK);
	return true;
}

/* End of data seen: last header check, end-of-data rules, then the end. */
static void
session_data_finish(struct session *s)
{
	if (!s->headers_done && header_scan_finish(s->hdr)) {
		session_headers_done(s);
		if (s->state == STATE_CLOSING || s->paused)
			return;
	}
	if (!s->end_hook_done) {
		struct rule_ctx ctx = {
		    .hook = HOOK_DATA,
		    .size = s->msg_size,
		    .at_end = true,
		};
		s->end_hook_done = true;
		if (session_hook(s, &ctx))
			return;
	}
	session_message_end(s);
}

/* Answer the end of a message: the verdict's reply, or spool then 250. */
static void
session_message_end(struct session *s)
{
	const struct rule *vr = s->verdict_rule;

	s->data_done = false;
	session_enter(s, STATE_HELO);
	switch (s->verdict) {
	case MSG_LINE_TOO_LONG:
		reply_send(s, REPLY_LINE_TOO_LONG);
		break;
	case MSG_TOO_BIG:
		reply_send(s, REPLY_MESSAGE_TOO_BIG);
		break;
	case MSG_HEADER_BIG:
		reply_send(s, REPLY_HEADER_TOO_LARGE);
		break;
	case MSG_LOCAL_ERROR:
		reply_send(s, REPLY_LOCAL_ERROR);
		break;
	case MSG_RULE_REPLY:
		reply_lines(s, &vr->act.reply, vr->name);
		break;
	case MSG_OK: {
		const struct session_txn *t = session_txn_peek(s);
		struct envelope env = {
		    .queue_id = t->queue_id,
		    .profile = s->profile->name,
		    .session = s->id,
		    .client_ip = s->client_ip,
		    .client_port = (unsigned)atoi(s->client_port),
		    .server_ip = s->server_ip,
		    .server_port = (unsigned)atoi(s->server_port),
		    .helo = s->helo != NULL && s->helo[0] ? s->helo : NULL,
		    .mail_from = t->mail_from,
		    .rcpts = (const char *const *)s->rcpts,
		    .nrcpts = s->nrcpts,
		    .body = t->mail.body == BODY_8BITMIME     ? "8BITMIME"
		            : t->mail.body == BODY_BINARYMIME ? "BINARYMIME"
		            : t->mail.body == BODY_7BIT       ? "7BIT"
		                                              : NULL,
		    .smtputf8 = t->mail.smtputf8,
		    .auth_user = s->authenticated ? s->auth->user : NULL,
		    .tls_version = s->tls ? s->tls_strings->version : NULL,
		    .tls_cipher = s->tls ? s->tls_strings->cipher : NULL,
		    .size = s->msg_size,
		    .mail_line = s->mail_line,
		};
		struct spool_msg *m = s->msg;

		s->msg = NULL;
		if (spool_commit(m, &env) == -1) {
			session_info(s, TR_WARN, "spool: commit failed: %s",
			             strerror(errno));
			reply_send(s, REPLY_LOCAL_ERROR);
			break;
		}
		if (s->env->accepted != NULL)
			s->env->accepted(s->env->owner);
		session_info(s, TR_INFO, "accepted as %s (%llu bytes)",
		             t->queue_id, (unsigned long long)s->msg_size);
		session_set_size(s, s->msg_size);
		reply_send(s, REPLY_DATA_OK);
		break;
	}
	}
	session_reset_transaction(s);
	if (vr != NULL && vr->act.close == CLOSE_FIN)
		session_close(s, CLOSE_FIN, vr->name);
	else if (s->shutting_down) {
		reply_send(s, REPLY_SHUTDOWN);
		session_close(s, CLOSE_FIN, "server shutting down");
	}
}

/*
 * Work through buffered input until it runs out, a rule pauses us, or the
 * client is too slow reading our replies (then wait for IO_LOWAT).
 */
static void
session_process(struct session *s)
{
	struct evbuffer *in;
	bool progress = true;

	/* Raw reads pass the middleboxes first, one read at a time. */
	if (s->nboxes != 0 && s->state != STATE_CLOSING)
		session_via_input(s);
	while (progress && !s->paused && s->state != STATE_CLOSING) {
		if (io_queued(s->io) > OUTPUT_HIGH) {
			s->output_blocked = true;
			io_pause(s->io);
			return;
		}
		in = session_in(s);
		switch (s->state) {
		case STATE_CONNECTED:
		case STATE_TLS:
			return; /* greeting not sent yet / TLS owns the bytes */
		case STATE_DATA:
			progress = session_data_in(s, in);
			break;
		case STATE_BDAT:
			progress = session_bdat_in(s, in);
			break;
		default:
			progress = session_line_in(s, in);
			break;
		}
	}
	/* A box cut the connection: what it let by has been handled. */
	if (!s->paused)
		session_via_cut_pending(s);
}

static void
session_io(struct io *io, enum io_event ev, void *arg)
{
	struct session *s = arg;

	switch (ev) {
	case IO_DATAIN:
		session_process(s);
		break;
	case IO_LOWAT:
		if (s->output_blocked && !s->paused) {
			s->output_blocked = false;
			io_resume(s->io);
			session_process(s);
		}
		break;
	case IO_TIMEOUT:
		if (s->state == STATE_CLOSING)
			break;
		session_info(s, TR_WARN, "idle for %u ms",
		             s->profile->limits.idle_timeout_ms);
		reply_send(s, REPLY_IDLE_TIMEOUT);
		session_close(s, CLOSE_FIN, "idle timeout");
		break;
	case IO_DISCONNECTED:
	case IO_ERROR:
		s->peer_gone = true;
		if (s->state == STATE_TLS) {
			session_tls_failed(s, io_tls_error(io));
			break;
		}
		/* A client may pipeline its last commands and half-close. */
		if (!s->paused)
			session_process(s);
		if (s->state != STATE_CLOSING) {
			session_close(s, CLOSE_FIN,
			              ev == IO_ERROR
			                  ? io_error(io)
			                  : "client closed the connection");
		}
		break;
	case IO_CLOSED:
		session_free(s);
		return; /* s is gone */
	case IO_TLSREADY:
		session_tls_ready(s);
		if (s->state != STATE_CLOSING && !s->paused)
			session_process(s);
		break;
	}
	session_via_flush(s);
}

static void
sockaddr_text(const struct sockaddr *sa, char *ip, size_t iplen, char *port,
              size_t portlen)
{
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, iplen);
		snprintf(port, portlen, "%u", ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const void *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, ip, iplen);
		snprintf(port, portlen, "%u", ntohs(s4->sin_port));
	}
}

/* session_new - take over an accepted socket and greet (or not) */
struct session *
session_new(const struct session_env *env, struct profile *p, int fd,
            const struct sockaddr *peer, const struct sockaddr *local,
            unsigned long id, enum reply_id refuse, bool implicit_tls,
            bool counted_client)
{
	struct session *s;
	size_t cap;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->env = env;
	s->counted = true; /* the server counted us before calling */
	s->counted_client = counted_client;
	s->profile = profile_ref(p);
	s->id = id;
	snprintf(s->id_str, sizeof(s->id_str), "%lu", id);
	sockaddr_text(peer, s->client_ip, sizeof(s->client_ip), s->client_port,
	              sizeof(s->client_port));
	sockaddr_text(local, s->server_ip, sizeof(s->server_ip), s->server_port,
	              sizeof(s->server_port));
	rng_seed(&s->rng, env->seed, id);
	cap = p->limits.line_length;
	s->line_cap = cap + 1;
	s->line = malloc(s->line_cap);
	s->scratch = evbuffer_new();
	s->io = io_new(env->base, fd, session_io, s);
	if (s->line == NULL || s->scratch == NULL || s->io == NULL) {
		if (s->io == NULL)
			evutil_closesocket(fd);
		session_release(s);
		return NULL;
	}
	io_set_read_max(s->io, AUTH_LINE_MAX + DATA_CHUNK);
	io_set_timeout(s->io, p->limits.idle_timeout_ms);
	{
		bool v6 = strchr(s->client_ip, ':') != NULL;
		session_info(s, TR_CONNECT, "%s%s%s:%s -> %s%s%s:%s profile=%s",
		             v6 ? "[" : "", s->client_ip, v6 ? "]" : "",
		             s->client_port, v6 ? "[" : "", s->server_ip,
		             v6 ? "]" : "", s->server_port, p->name);
	}
	if (refuse != REPLY_COUNT) {
		/* Over a session limit: say so and hang up (RFC 5321 3.1). */
		reply_send(s, refuse);
		session_close(s, CLOSE_FIN, reply_id_str(refuse));
		return s;
	}
	if (p->limits.connection_timeout_ms != 0) {
		struct timeval tv = {p->limits.connection_timeout_ms / 1000,
		                     (p->limits.connection_timeout_ms % 1000) *
		                         1000};
		s->life_timer = evtimer_new(env->base, session_life_cb, s);
		if (s->life_timer != NULL)
			evtimer_add(s->life_timer, &tv);
	}
	s->implicit_tls = implicit_tls;
	if (!session_via_init(s)) {
		session_close(s, CLOSE_FIN, "out of memory");
		return s;
	}
	if (implicit_tls)
		session_tls_begin(
		    s); /* the greeting comes after the handshake */
	else
		session_greet(s);
	session_via_flush(s);
	return s;
}

/* session_greet - run the connect rules, then greet (or what they say) */
void
session_greet(struct session *s)
{
	struct rule_ctx ctx = {.hook = HOOK_CONNECT, .client_ip = s->client_ip};

	if (!session_hook(s, &ctx))
		session_normal(s, HOOK_CONNECT);
}

/* session_shutdown - server stopping: 421 now, or after the message */
void
session_shutdown(struct session *s)
{
	if (s->state == STATE_CLOSING)
		return;
	if (s->state == STATE_DATA || s->state == STATE_BDAT) {
		s->shutting_down = true;
		return;
	}
	reply_send(s, REPLY_SHUTDOWN);
	session_close(s, CLOSE_FIN, "server shutting down");
}

/* session_abandon - the process is exiting: close and free it now (a
 * message still in tmp/ is removed) */
void
session_abandon(struct session *s)
{
	session_close(s, CLOSE_FIN, "server exiting");
	session_free(s);
}
