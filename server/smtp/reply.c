/*
 * reply.c - the single exit for everything the server says.
 *
 * Expands the profile's template for a situation, records each line in
 * the transcript exactly as it goes out, and queues it with CRLF on the
 * connection (which passes any middleboxes on its way out). Makes the
 * session's {session_id} with its first reply.
 *
 * Does not: choose which reply to send (session.c, commands.c).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <openssl/rand.h>

#include "ids.h"
#include "io.h"
#include "reply.h"
#include "session.h"
#include "template.h"

/* Room for {max_size}, on the caller's stack while the reply expands. */
#define MAX_SIZE_LEN 24

/*
 * {session_id}: made once, with the session's first reply (the greeting,
 * sent at connect), in the profile's session_id_format. Its random bits
 * come from a per-thread generator seeded once from OpenSSL, not from the
 * session's rule generator, so --seed replays the same rule outcomes.
 */
static void
reply_session_id(struct session *s)
{
	static _Thread_local struct rng sids;
	static _Thread_local bool seeded;
	uint64_t r0 = 0, r1 = 0;

	if (s->session_id[0] != '\0')
		return;
	if (s->profile->session_id_format != SID_NUMBER) {
		if (!seeded) {
			uint64_t seed;

			if (RAND_bytes((unsigned char *)&seed, sizeof(seed)) !=
			    1)
				seed = (uint64_t)time(NULL) ^ (uint64_t)s->id;
			rng_seed(&sids, seed, s->id);
			seeded = true;
		}
		r0 = rng_next(&sids);
		r1 = rng_next(&sids);
	}
	ids_session_id(s->profile->session_id_format, s->id, r0, r1,
	               s->session_id, sizeof(s->session_id));
}

/* The template values; before any transaction its strings are empty. */
static void
reply_vars(struct session *s, struct tpl_vars *v, char *max_size,
           struct smtp_path *rcpt)
{
	const struct profile *p = s->profile;
	size_t bad;
	const struct session_txn *t = session_txn_peek(s);

	memset(v, 0, sizeof(*v));
	reply_session_id(s);
	v->v[TPL_SESSION_ID] = s->session_id;
	v->date_format = p->date_format;
	v->date_format_utc = p->date_format_utc;
	v->v[TPL_HOSTNAME] = p->hostname;
	v->v[TPL_CLIENT_IP] = s->client_ip;
	v->v[TPL_CLIENT_PORT] = s->client_port;
	v->v[TPL_SERVER_IP] = s->server_ip;
	v->v[TPL_SERVER_PORT] = s->server_port;
	v->v[TPL_HELO] = s->helo != NULL ? s->helo : "";
	v->v[TPL_SESSION] = s->id_str;
	v->v[TPL_QUEUE_ID] = t->queue_id;
	v->v[TPL_MESSAGE_ID] = t->message_id;
	v->v[TPL_INTERNAL_ID] = t->internal_id;
	v->v[TPL_SIZE] = t->size_str;
	snprintf(max_size, MAX_SIZE_LEN, "%llu",
	         (unsigned long long)p->limits.message_size);
	v->v[TPL_MAX_SIZE] = max_size;
	v->v[TPL_SENDER] = t->mail_from;
	/* During RCPT the address being accepted sits just past the list;
	 * one being refused (a rule's reply, a limit) is read from the RCPT
	 * line itself, so "550 <{recipient}>: ..." names it. */
	if (s->rcpts != NULL && s->rcpts[s->nrcpts] != NULL)
		v->v[TPL_RECIPIENT] = s->rcpts[s->nrcpts];
	else if (strcmp(s->cmd.verb, "RCPT") == 0 && s->cmd.args != NULL &&
	         smtp_parse_path(s->cmd.args, s->cmd.args_len, "TO:", false,
	                         rcpt, &bad) == PATH_OK)
		v->v[TPL_RECIPIENT] = rcpt->addr;
	else
		v->v[TPL_RECIPIENT] =
		    s->nrcpts > 0 ? s->rcpts[s->nrcpts - 1] : "";
	v->v[TPL_VERB] = s->cmd.verb;
	/* e.g. Sendmail's 500 5.5.1 Command unrecognized: "{line}" */
	v->v[TPL_LINE] = s->line != NULL ? s->line : "";
	v->v[TPL_PARAM] = t->param;
	v->v[TPL_PROFILE] = p->name;
}

/* Queue the line now in s->scratch, plus CRLF, and record it. */
static void
reply_flush_line(struct session *s, const char *rule)
{
	/* Through the middleboxes, if any, when the session flushes. */
	struct evbuffer *out = io_output(s->io);
	size_t len = evbuffer_get_length(s->scratch);
	const char *text = (const char *)evbuffer_pullup(s->scratch, -1);

	/* behind a box that has cut, the line never reaches the client */
	struct tr_event ev = {
	    .session = s->id,
	    .kind = TR_SERVER,
	    .text = text,
	    .len = len,
	    .rule = rule,
	    .profile = s->profile->name,
	    .lost = io_lost(s->io),
	};

	transcript_emit(&ev);
	evbuffer_add_buffer(out, s->scratch);
	evbuffer_add(out, "\r\n", 2);
}

/* reply_lines - send a reply given as text lines (templates) */
void
reply_lines(struct session *s, const struct reply_text *t, const char *rule)
{
	struct tpl_vars v;
	char max_size[MAX_SIZE_LEN];
	struct smtp_path rcpt;

	if (io_closing(s->io))
		return;
	reply_vars(s, &v, max_size, &rcpt);
	for (size_t i = 0; i < t->n; i++) {
		template_expand(t->lines[i], &v, s->scratch);
		reply_flush_line(s, rule);
	}
}

/* reply_send - the profile's reply for a situation */
void
reply_send(struct session *s, enum reply_id id)
{
	reply_lines(s, &s->profile->replies[id], NULL);
}

/* reply_raw - one literal line */
void
reply_raw(struct session *s, const char *line)
{
	if (io_closing(s->io))
		return;
	evbuffer_add(s->scratch, line, strlen(line));
	reply_flush_line(s, NULL);
}

/*
 * reply_ehlo - "250-greeting", then the keywords of the session's list
 * (profile_ehlo: inside TLS ehlo.keywords_tls, by default the plain list
 * without STARTTLS, RFC 3207 4.2), the last with "250 "
 */
void
reply_ehlo(struct session *s)
{
	const struct profile *p = s->profile;
	struct ehlo_list l = profile_ehlo(p, s->tls);
	struct tpl_vars v;
	char max_size[MAX_SIZE_LEN];
	struct smtp_path rcpt;

	if (io_closing(s->io))
		return;
	reply_vars(s, &v, max_size, &rcpt);
	evbuffer_add(s->scratch, l.nkeywords == 0 ? "250 " : "250-", 4);
	template_expand(p->ehlo_greeting, &v, s->scratch);
	reply_flush_line(s, NULL);
	for (size_t i = 0; i < l.nkeywords; i++) {
		evbuffer_add(s->scratch, i + 1 == l.nkeywords ? "250 " : "250-",
		             4);
		template_expand(l.keywords[i], &v, s->scratch);
		reply_flush_line(s, NULL);
	}
}
