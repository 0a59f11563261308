/*
 * data.c - a message's body: DATA (RFC 5321 4.1.1.4) and BDAT chunks
 * (RFC 3030).
 *
 * Does: new message ids (the queue id in the profile's queue_id_format,
 * ids.h; the spool's own hex name), the spool file, unstuffing (message.h), the
 * size, text-line and header limits, the header and data hooks while the
 * body streams in, and the reply at the end of the data: the verdict's,
 * or the 250 once the spool has the message.
 * Does not: decide whether DATA or BDAT may start (commands.c), or read
 * command lines (input.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <jansson.h>
#include <openssl/rand.h>

#include "actions.h"
#include "data.h"
#include "greylist.h"
#include "ids.h"
#include "reply.h"
#include "session.h"
#include "spool.h"

static void data_finish(struct session *s);

/* New message ids, shared by DATA and BDAT. */
static void
data_new_ids(struct session_txn *t, enum qid_format fmt)
{
	static _Atomic unsigned long long counter;
	/* Message-ids must be unique, not secret: a per-thread generator
	 * seeded once from OpenSSL spares a RAND_bytes() (and the getpid()
	 * inside it) per message. Not the session's rule generator, so
	 * --seed replays the same rule outcomes. */
	static _Thread_local struct rng ids;
	static _Thread_local bool seeded;
	static _Thread_local long pid; /* workers start after any fork */
	unsigned long long n = ++counter;
	unsigned char g[16];
	uint64_t a, b;
	struct timeval tv;
	struct ids_in in;

	gettimeofday(&tv, NULL);
	in.sec = tv.tv_sec;
	in.usec = (long)tv.tv_usec;
	if (pid == 0)
		pid = (long)getpid(); /* glibc makes a syscall of each call */
	in.pid = pid;
	in.seq = n;
	/* The spool's name part stays hex; {queue_id} and the accepted
	 * event carry the profile's shape (queue_id_format). */
	ids_queue_id(QID_HEX, &in, t->spool_id, sizeof(t->spool_id));
	ids_queue_id(fmt, &in, t->queue_id, sizeof(t->queue_id));
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
data_begin_message(struct session *s)
{
	struct session_txn *t = session_txn(s);

	if (t == NULL)
		return false;
	data_new_ids(t, s->profile->queue_id_format);
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
	s->msg = spool_begin(s->env->spool, t->spool_id);
	if (s->msg == NULL || greylist_header(s) == -1) {
		session_eventf(s, TR_WARN, NULL,
		               "spool: cannot start message: %s",
		               strerror(errno));
		return false;
	}
	return true;
}

/* data_start - called by DATA before its 354 */
bool
data_start(struct session *s)
{
	if (!data_begin_message(s)) {
		reply_send(s, REPLY_LOCAL_ERROR);
		return false;
	}
	data_decoder_init(&s->dec, s->profile->eol == EOL_LENIENT);
	/* data: what ends the message, what bare LF / CR do (FACTS 13) */
	data_decoder_set(&s->dec, s->profile->data.eod,
	                 (enum bare_action)s->profile->data.bare_lf,
	                 (enum bare_action)s->profile->data.bare_cr);
	/* limits.data_timeout: from the 354 (sent next) to the dot */
	session_deadline_arm(s, REPLY_DATA_TIMEOUT,
	                     s->profile->limits.data_timeout_ms);
	return true;
}

/* data_start_bdat - receive a chunk; discard it if refused */
void
data_start_bdat(struct session *s, uint64_t size, bool last, bool discard,
                enum reply_id refusal)
{
	s->bdat_left = size;
	s->bdat_last = last;
	s->bdat_discard = discard;
	s->bdat_refusal = refusal;
	s->bdat_chunk = size;
	s->bdat_prev = s->state;
	/* limits.data_timeout: the chunk's bytes, from its command on */
	if (size > 0)
		session_deadline_arm(s, REPLY_DATA_TIMEOUT,
		                     s->profile->limits.data_timeout_ms);
	if (!discard && !s->bdat_used) {
		if (!data_begin_message(s)) {
			/* 451 is sent once the chunk has been read past. */
			s->bdat_discard = true;
			s->bdat_refusal = REPLY_LOCAL_ERROR;
		}
		s->bdat_used = true;
	}
	session_enter(s, STATE_BDAT);
}

static void
data_headers_done(struct session *s)
{
	const struct limits *l = &s->profile->limits;
	struct rule_ctx ctx = {.hook = HOOK_HEADER, .headers = s->hdr};

	s->headers_done = true;
	session_eventf(s, TR_DETAIL, NULL, "header section: %llu bytes",
	               (unsigned long long)s->hdr->size);
	if (l->header_size != 0 && s->hdr->size > l->header_size &&
	    s->verdict == MSG_OK)
		s->verdict = MSG_HEADER_BIG;
	actions_hook(s, &ctx);
}

/* Message bytes (unstuffed) arrived: size, spool, header scan, hooks. */
static void
data_body(struct session *s, const char *buf, size_t len)
{
	const struct limits *l = &s->profile->limits;
	uint64_t before = s->msg_size;

	s->msg_size += len;
	if (l->message_size != 0 && s->msg_size > l->message_size &&
	    s->verdict == MSG_OK) {
		session_eventf(s, TR_WARN, NULL, "message over %llu bytes",
		               (unsigned long long)l->message_size);
		s->verdict = MSG_TOO_BIG;
	}
	/* RFC 5321 4.5.3.1.6: 1000 octets per text line, CRLF included. */
	if (s->state == STATE_DATA && l->text_line_length != 0 &&
	    s->dec.max_line > l->text_line_length && s->verdict == MSG_OK) {
		session_eventf(s, TR_WARN, NULL,
		               "message line of %zu bytes (limit %zu)",
		               s->dec.max_line, l->text_line_length);
		s->verdict = MSG_LINE_TOO_LONG;
	}
	if (s->msg != NULL && s->verdict == MSG_OK &&
	    spool_write(s->msg, buf, len) == -1) {
		session_eventf(s, TR_WARN, NULL, "spool: write failed: %s",
		               strerror(errno));
		s->verdict = MSG_LOCAL_ERROR;
	}
	if (s->verdict != MSG_OK && s->msg != NULL) {
		spool_abort(s->msg); /* no need to keep what we refuse */
		s->msg = NULL;
	}
	if (!s->headers_done) {
		if (header_scan_feed(s->hdr, buf, len))
			data_headers_done(s);
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
		actions_hook(s, &ctx);
	}
}

/* The reply to a bare LF or CR the profile refuses (data.bare_lf/cr). */
static enum reply_id
data_bare_reply(int c)
{
	return c == '\r' ? REPLY_DATA_BARE_CR : REPLY_DATA_BARE_LF;
}

/* data.bare_lf/bare_cr exit: the reply at once, then FIN, as qmail-smtpd's
 * straynewline() does (FACTS 10); the rest of the input is never read. */
static void
data_exit(struct session *s)
{
	int c = s->dec.exited;

	session_eventf(s, TR_WARN, NULL, "bare %s in message data: exit",
	               c == '\r' ? "CR" : "LF");
	reply_send(s, data_bare_reply(c));
	session_close(s, CLOSE_FIN,
	              c == '\r' ? "bare CR in message data"
	                        : "bare LF in message data");
}

/* data_in - decode what DATA input there is; true if it made progress */
bool
data_in(struct session *s, struct evbuffer *in)
{
	/* a bare LF or CR may become CRLF: twice the input, plus held bytes */
	char out[2 * DATA_CHUNK + 2];
	struct evbuffer_iovec v;
	size_t len, used, outlen;
	bool done = false;

	if (s->data_done) {
		data_finish(s);
		return true;
	}
	if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
		return false;
	len = v.iov_len < DATA_CHUNK ? v.iov_len : DATA_CHUNK;
	used = data_decode(&s->dec, v.iov_base, len, out, &outlen, &done);
	evbuffer_drain(in, used);
	if (s->dec.rejected != 0 && s->verdict == MSG_OK) {
		session_eventf(s, TR_WARN, NULL,
		               "bare %s in message data: refused at its end",
		               s->dec.rejected == '\r' ? "CR" : "LF");
		s->verdict = MSG_BARE_REJECT;
	}
	if (done && s->dec.exited != 0) {
		session_deadline_off(s);
		data_exit(s);
		return false;
	}
	if (done) {
		s->data_done = true;
		session_deadline_off(s); /* the dot came in time */
	}
	data_body(s, out, outlen);
	if (done) {
		char seq[16];

		session_eventf(
		    s, TR_DETAIL, NULL,
		    "message data: %llu bytes, %llu lines, longest %zu",
		    (unsigned long long)s->msg_size,
		    (unsigned long long)s->dec.lines, s->dec.max_line);
		if (s->dec.eod_seen != EOD_STANDARD)
			session_eventf(s, TR_WARN, NULL,
			               "end of data by %s (data.end_of_data): "
			               "what follows is read as commands",
			               eod_seq_str((unsigned)s->dec.eod_seen,
			                           seq, sizeof(seq)));
		session_event(s, TR_CLIENT, NULL, NULL, ".", 1);
	}
	if (s->state == STATE_CLOSING || s->paused)
		return false;
	if (s->data_done)
		data_finish(s);
	return true;
}

/* {size} for the next reply: the chunk or message just received. */
static void
data_set_size(struct session *s, uint64_t size)
{
	struct session_txn *t = session_txn(s); /* made by MAIL already */

	if (t != NULL)
		snprintf(t->size_str, sizeof(t->size_str), "%llu",
		         (unsigned long long)size);
}

/* data_bdat_in - read BDAT chunk bytes; true if it made progress */
bool
data_bdat_in(struct session *s, struct evbuffer *in)
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
			data_body(s, v.iov_base, len);
		evbuffer_drain(in, len);
		s->bdat_left -= len;
		if (s->bdat_left == 0)
			session_deadline_off(s); /* the chunk came in time */
		if (s->state == STATE_CLOSING || s->paused)
			return false;
		if (s->bdat_left > 0)
			return true;
	}
	session_eventf(s, TR_DETAIL, NULL, "BDAT chunk: %llu bytes%s",
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
			session_bad_command(s, s->bdat_refusal);
		return true;
	}
	if (s->bdat_last) {
		s->data_done = true;
		data_finish(s);
		return true;
	}
	session_enter(s, STATE_RCPT);
	if (s->verdict != MSG_OK) {
		/* RFC 3030 2: a failed chunk ends the transaction. */
		data_message_end(s);
		return true;
	}
	data_set_size(s, s->bdat_chunk);
	reply_send(s, REPLY_BDAT_OK);
	return true;
}

/* End of data seen: last header check, end-of-data rules, then the end. */
static void
data_finish(struct session *s)
{
	if (!s->headers_done && header_scan_finish(s->hdr)) {
		data_headers_done(s);
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
		if (actions_hook(s, &ctx))
			return;
	}
	data_message_end(s);
}

/* data_message_end - the verdict's reply, or spool then 250 */
/* The MAIL parameters as received, parsed again from the MAIL line (it
 * stays until the transaction is reset); *n 0 when there is none. */
static void
data_mail_params(const struct session *s, struct smtp_path *path,
                 struct envelope_param *out, size_t *n)
{
	struct smtp_cmd cmd;
	size_t bad;

	*n = 0;
	if (s->mail_line == NULL)
		return;
	smtp_parse_command(s->mail_line, strlen(s->mail_line), &cmd);
	if (smtp_parse_path(cmd.args ? cmd.args : "", cmd.args_len,
	                    "FROM:", true, path, &bad) != PATH_OK)
		return;
	for (size_t i = 0; i < path->nparams; i++) {
		out[i].key = path->params[i].key;
		out[i].value = path->params[i].value;
		out[i].value_len = path->params[i].value_len;
	}
	*n = path->nparams;
}

/* A JSON string of s; bytes that are not UTF-8 escaped, as in "text". */
static json_t *
data_json_text(const char *s)
{
	char esc[4 * SMTP_PATH_MAX + 1];
	json_t *j = json_string(s);

	return j != NULL ? j
	                 : json_string(transcript_escape(s, strlen(s), esc,
	                                                 sizeof(esc)));
}

/* The accepted event's facts (transcript.h). */
static json_t *
data_accepted_fields(const struct session *s, const char *queue_id,
                     const char *spool_name)
{
	const struct session_txn *t = session_txn_peek(s);
	json_t *rcpts = json_array(), *o;

	for (size_t i = 0; rcpts != NULL && i < s->nrcpts; i++)
		if (json_array_append_new(rcpts, data_json_text(s->rcpts[i])) !=
		    0) {
			json_decref(rcpts);
			return NULL;
		}
	o = json_pack("{s:s, s:s, s:I, s:s?, s:o, s:o}", "event", "accepted",
	              "queue_id", queue_id, "size", (json_int_t)s->msg_size,
	              "spool", spool_name, "mail_from",
	              data_json_text(t->mail_from), "rcpts", rcpts);
	return o;
}

/* Commit the message with its envelope; 0, or -1 with errno. The spool
 * file's name goes to name (NUL: sink mode). */
static int
data_commit(struct session *s, char *name, size_t namelen)
{
	const struct session_txn *t = session_txn_peek(s);
	struct smtp_path path;
	struct envelope_param params[SMTP_PARAMS_MAX];
	const char *dsn_stack[2 * 16], **dsn = dsn_stack;
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
	    .mail_params = params,
	};
	struct spool_msg *m = s->msg;
	const char *mname = spool_msg_name(m);
	int rc;

	snprintf(name, namelen, "%s", mname != NULL ? mname : "");
	data_mail_params(s, &path, params, &env.nmail_params);
	/* Each recipient is "addr\0NOTIFY\0ORCPT\0" (session.h). */
	if (s->nrcpts > sizeof(dsn_stack) / sizeof(dsn_stack[0]) / 2 &&
	    (dsn = malloc(2 * s->nrcpts * sizeof(*dsn))) == NULL)
		dsn = NULL; /* the envelope goes without them */
	for (size_t i = 0; dsn != NULL && i < s->nrcpts; i++) {
		dsn[i] = s->rcpts[i] + strlen(s->rcpts[i]) + 1;
		dsn[s->nrcpts + i] = dsn[i] + strlen(dsn[i]) + 1;
	}
	if (dsn != NULL) {
		env.rcpt_notify = dsn;
		env.rcpt_orcpt = dsn + s->nrcpts;
	}
	s->msg = NULL;
	rc = spool_commit(m, &env);
	if (dsn != dsn_stack)
		free(dsn);
	return rc;
}

void
data_message_end(struct session *s)
{
	const struct rule *vr = s->verdict_rule;
	bool bare_refused = s->verdict == MSG_BARE_REJECT;

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
	case MSG_BARE_REJECT:
		reply_send(s, data_bare_reply(s->dec.rejected));
		break;
	case MSG_RULE_REPLY:
		reply_lines(s, &vr->act.reply, vr->name);
		break;
	case MSG_OK: {
		const struct session_txn *t = session_txn_peek(s);
		char name[256];

		if (data_commit(s, name, sizeof(name)) == -1) {
			session_eventf(s, TR_WARN, NULL,
			               "spool: commit failed: %s",
			               strerror(errno));
			reply_send(s, REPLY_LOCAL_ERROR);
			break;
		}
		s->messages++;
		if (s->env->accepted != NULL)
			s->env->accepted(s->env->owner);
		if (transcript_wants(TR_INFO))
			session_eventj(
			    s, TR_INFO, NULL,
			    data_accepted_fields(s, t->queue_id,
			                         name[0] ? name : NULL),
			    "accepted as %s (%llu bytes)", t->queue_id,
			    (unsigned long long)s->msg_size);
		data_set_size(s, s->msg_size);
		reply_send(s, REPLY_DATA_OK);
		break;
	}
	}
	session_reset_transaction(s);
	if (bare_refused && s->profile->data.reject_close != CLOSE_NONE)
		session_close(s, s->profile->data.reject_close,
		              s->dec.rejected == '\r'
		                  ? "bare CR in message data"
		                  : "bare LF in message data");
	else if (vr != NULL && vr->act.close == CLOSE_FIN)
		session_close_rule(s, CLOSE_FIN, vr->name, vr->name);
	else if (s->shutting_down) {
		reply_send(s, REPLY_SHUTDOWN);
		session_close(s, CLOSE_FIN, "server shutting down");
	}
}
