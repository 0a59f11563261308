/*
 * session.c - one SMTP conversation as a receiver (RFC 5321), driven by
 * io events and a profile: its life and its state.
 *
 * Does: create a session on an accepted socket, every state change, the
 * transaction's strings, the bad-command count, the io events (input,
 * back-pressure, idle timeout, the peer's EOF, TLS ready, a middlebox's
 * cut), the middlebox chain handed to io at creation, the loop over
 * buffered input in order (pipelined batches are answered in order), and
 * every way a session ends. The transcript helper of the smtp layer.
 * Does not: assemble command lines (input.c), read message bodies
 * (data.c), carry out rule actions (actions.c), decide per-verb behaviour
 * (commands.c), format replies (reply.c), or know which vendor the
 * profile plays.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>

#include "actions.h"
#include "data.h"
#include "input.h"
#include "io.h"
#include "pace.h"
#include "reply.h"
#include "session.h"
#include "session_tls.h"
#include "spool.h"
#include "transcript_facts.h"

/* Stop reading while this much output waits for a slow reader. */
#define OUTPUT_HIGH (64 * 1024)

static const char *const state_names[] = {
    "CONNECTED", "INIT", "HELO", "MAIL", "RCPT",
    "DATA",      "BDAT", "AUTH", "TLS",  "CLOSING",
};

/* session_state_str - name of a state, for the state-change log */
const char *
session_state_str(enum session_state st)
{
	return state_names[st];
}

/* session_event_with - one transcript event about this session, with its
 * facts as JSON fields (borrowed, may be NULL) */
static void
session_event_with(struct session *s, enum tr_kind kind, const char *rule,
                   const char *why, const char *text, size_t len,
                   const json_t *fields)
{
	struct tr_event ev = {
	    .session = s->id,
	    .kind = kind,
	    .text = text,
	    .len = len,
	    .rule = rule,
	    .why = why,
	    .profile = s->profile->name,
	    .fields = fields,
	};

	transcript_emit(&ev);
}

/* session_event - one transcript event about this session */
void
session_event(struct session *s, enum tr_kind kind, const char *rule,
              const char *why, const char *text, size_t len)
{
	session_event_with(s, kind, rule, why, text, len, NULL);
}

static void
session_veventf(struct session *s, enum tr_kind kind, const char *rule,
                const json_t *fields, const char *fmt, va_list ap)
{
	char buf[4096]; /* a ClientHello's description fits */
	int n;

	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		return;
	session_event_with(
	    s, kind, rule, NULL, buf,
	    (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1, fields);
}

/* session_eventf - the same, formatted; nothing formatted if unheard */
void
session_eventf(struct session *s, enum tr_kind kind, const char *rule,
               const char *fmt, ...)
{
	va_list ap;

	if (!transcript_wants(kind))
		return;
	va_start(ap, fmt);
	session_veventf(s, kind, rule, NULL, fmt, ap);
	va_end(ap);
}

/* session_eventj - session_eventf with facts as fields; takes fields */
void
session_eventj(struct session *s, enum tr_kind kind, const char *rule,
               json_t *fields, const char *fmt, ...)
{
	va_list ap;

	if (transcript_wants(kind)) {
		va_start(ap, fmt);
		session_veventf(s, kind, rule, fields, fmt, ap);
		va_end(ap);
	}
	json_decref(fields);
}

/* session_enter - every state change goes through here */
void
session_enter(struct session *s, enum session_state st)
{
	if (s->state == st)
		return;
	session_eventf(s, TR_DETAIL, NULL, "state %s -> %s",
	               session_state_str(s->state), session_state_str(st));
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
		s->txn->grey_header_due = false;
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
		session_eventf(s, TR_WARN, NULL,
		               "out of memory for a transaction");
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
	if (s->pace_timer)
		evtimer_del(s->pace_timer);
	session_deadline_off(s);
}

/* The command line or the DATA phase outlived its deadline. */
static void
session_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	bool data = s->deadline_why == REPLY_DATA_TIMEOUT;
	unsigned ms = data ? s->profile->limits.data_timeout_ms
	                   : s->profile->limits.command_timeout_ms;

	(void)fd;
	(void)what;
	s->deadline_on = false;
	if (s->state == STATE_CLOSING)
		return;
	if (s->paused) {
		/* A rule's delay or hang is the server's own wait: it does
		 * not count against the client (a hang ends by itself). */
		session_deadline_arm(s, s->deadline_why, ms);
		return;
	}
	session_eventf(s, TR_WARN, NULL, "%s not ended within %u ms",
	               data ? "message data" : "command line", ms);
	reply_send(s, s->deadline_why);
	session_close(s, CLOSE_FIN, data ? "data timeout" : "command timeout");
}

/* session_deadline_arm - start the deadline unless one runs already */
void
session_deadline_arm(struct session *s, enum reply_id why, unsigned ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (ms == 0 || s->deadline_on || s->state == STATE_CLOSING)
		return;
	if (s->deadline == NULL &&
	    (s->deadline = evtimer_new(s->env->base, session_deadline_cb, s)) ==
	        NULL)
		return; /* no memory: the idle timeout still applies */
	s->deadline_why = why;
	s->deadline_on = evtimer_add(s->deadline, &tv) == 0;
}

/* session_deadline_off - the line or the message ended in time */
void
session_deadline_off(struct session *s)
{
	if (!s->deadline_on)
		return;
	evtimer_del(s->deadline);
	s->deadline_on = false;
}

/* The close event's facts (transcript.h). */
static json_t *
close_fields(struct session *s, const char *how, const char *reason,
             const char *rule)
{
	uint64_t in = 0, out = 0;

	io_bytes(s->io, &in, &out);
	return tr_close_fields(how, reason, rule, in, out, s->messages);
}

/* session_close - end the session; reason goes to the transcript */
void
session_close(struct session *s, enum close_how how, const char *reason)
{
	session_close_rule(s, how, reason, NULL);
}

/* session_close_rule - the same, because rule (a name, or NULL) said so */
void
session_close_rule(struct session *s, enum close_how how, const char *reason,
                   const char *rule)
{
	const char *word = how == CLOSE_RST    ? "rst"
	                   : how == CLOSE_DROP ? "drop"
	                                       : "fin";

	if (s->state == STATE_CLOSING)
		return;
	/* What the server already said goes out first (through any
	 * middlebox, which may itself cut the session: IO_CUT). */
	io_flush(s->io);
	if (s->state == STATE_CLOSING)
		return;
	if (s->msg != NULL || s->state == STATE_DATA || s->state == STATE_BDAT)
		session_eventf(
		    s, TR_WARN, NULL,
		    "message not accepted: %llu bytes received are discarded",
		    (unsigned long long)s->msg_size);
	session_reset_transaction(s);
	session_timers_off(s);
	if (s->env->closing != NULL)
		s->env->closing(s, s->env->owner);
	if (transcript_wants(TR_CLOSE))
		session_eventj(s, TR_CLOSE, NULL,
		               close_fields(s, word, reason, rule), "%s (%s)",
		               word, reason);
	s->state = STATE_CLOSING;
	io_close(s->io, how == CLOSE_RST    ? IO_CLOSE_RST
	                : how == CLOSE_DROP ? IO_CLOSE_HOLD
	                                    : IO_CLOSE_FIN);
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
	if (s->deadline)
		event_free(s->deadline);
	if (s->pace_timer)
		event_free(s->pace_timer);
	if (s->scratch)
		evbuffer_free(s->scratch);
	profile_unref(s->profile);
	free(s->rcpts);
	free(s->line);
	free(s->helo);
	free(s->txn);
	free(s->auth);
	free(s->tls_strings);
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
session_bad_command(struct session *s, enum reply_id why)
{
	const struct limits *l = &s->profile->limits;

	/* limits.bad_commands_count: only the errors the profile counts */
	if ((unsigned)why >= REPLY_COUNT ||
	    !(l->bad_commands_count & (UINT64_C(1) << why)))
		return;
	s->bad_commands++;
	if (l->bad_commands == 0 || s->bad_commands < l->bad_commands)
		return;
	session_eventf(s, TR_WARN, NULL, "bad command limit %u reached",
	               l->bad_commands);
	if (l->bad_commands_close != CLOSE_SILENT)
		reply_send(s, REPLY_BAD_COMMAND_LIMIT);
	session_close(s, l->bad_commands_close, "bad command limit");
}

/* Carry out an IO_CUT: the connection ends as the filter said. */
static void
session_cut(struct session *s)
{
	s->cut_pending = false;
	session_close(s,
	              io_cut_how(s->io) == IO_CLOSE_RST    ? CLOSE_RST
	              : io_cut_how(s->io) == IO_CLOSE_HOLD ? CLOSE_DROP
	                                                   : CLOSE_FIN,
	              io_cut_reason(s->io));
}

/*
 * session_process - work through buffered input until it runs out, a rule
 * pauses us, or the client is too slow reading our replies (then wait
 * for IO_LOWAT).
 */
void
session_process(struct session *s)
{
	struct evbuffer *in;
	bool progress = true;

	while (progress && !s->paused && s->state != STATE_CLOSING) {
		if (io_queued(s->io) > OUTPUT_HIGH) {
			s->output_blocked = true;
			io_pause(s->io);
			return;
		}
		in = io_input(s->io);
		switch (s->state) {
		case STATE_CONNECTED:
			/* input during the greeting's wait (pace.c) */
			if (evbuffer_get_length(in) == 0 || !pace_early(s))
				return;
			break;
		case STATE_TLS:
			return; /* TLS owns the bytes */
		case STATE_DATA:
			progress = data_in(s, in);
			break;
		case STATE_BDAT:
			progress = data_bdat_in(s, in);
			break;
		default:
			progress = input_line(s, in);
			break;
		}
	}
	/* The connection was cut: what came before the cut is handled. */
	if (s->cut_pending && !s->paused && s->state != STATE_CLOSING)
		session_cut(s);
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
		session_eventf(s, TR_WARN, NULL, "idle for %u ms",
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
	case IO_CUT:
		/*
		 * A middlebox cut the connection; what it let through before
		 * the cut was just handled (IO_DATAIN). A rule's pause holds
		 * the cut back until the rest is handled, unless the server
		 * speaks meanwhile: that meets the cut box (a second IO_CUT).
		 */
		if (s->state == STATE_CLOSING)
			break;
		if (s->paused && !s->cut_pending) {
			s->cut_pending = true;
			break;
		}
		session_cut(s);
		break;
	}
	io_flush(s->io);
}

static void
sockaddr_text(const struct sockaddr *sa, char *ip, size_t iplen, char *port,
              size_t portlen)
{
	unsigned n;

	tr_addr(sa, ip, iplen, &n);
	snprintf(port, portlen, "%u", n);
}

/* The middleboxes in front of this session, client side first: those
 * given with --via, then the profile's own "via:"; io runs them. */
static int
session_via(struct session *s)
{
	const struct session_env *env = s->env;
	size_t nprof = env->no_profile_via ? 0 : s->profile->nvia;
	size_t n = env->nvia + nprof;
	const struct mbox_config **boxes;
	int rc;

	if (n == 0)
		return 0;
	if ((boxes = calloc(n, sizeof(*boxes))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		boxes[i] = i < env->nvia ? env->via[i]->mbox
		                         : s->profile->via[i - env->nvia]->mbox;
	rc = io_via(s->io, boxes, n, s->implicit_tls, s->id, s->profile->name);
	free(boxes);
	return rc;
}

/* The connect event: the client, the server, and the load balancer a
 * PROXY protocol header came through (proxy, or NULL). */
static void
session_connect_event(struct session *s, const struct sockaddr *peer,
                      const struct sockaddr *local, bool implicit_tls,
                      const struct session_proxy *proxy)
{
	struct tr_connect c = {
	    .client = peer,
	    .server = local,
	    .proxy =
	        proxy != NULL ? (const struct sockaddr *)&proxy->peer : NULL,
	    .proxy_version = proxy != NULL ? proxy->version : 0,
	    .tls_listener = implicit_tls,
	    .profile = s->profile->name};
	char text[512];
	json_t *f = tr_connect_fields(&c, text, sizeof(text));

	session_eventj(s, TR_CONNECT, NULL, f, "%s", text);
}

/* session_new - take over an accepted socket and greet (or not) */
struct session *
session_new(const struct session_env *env, struct profile *p, int fd,
            const struct sockaddr *peer, const struct sockaddr *local,
            unsigned long id, enum reply_id refuse, bool implicit_tls,
            bool counted_client, const struct session_proxy *proxy)
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
	if (transcript_wants(TR_CONNECT))
		session_connect_event(s, peer, local, implicit_tls, proxy);
	s->refuse = refuse;
	s->implicit_tls = implicit_tls;
	pace_start(s);
	if (refuse != REPLY_COUNT) {
		if (!implicit_tls) {
			session_refuse(s);
			return s;
		}
		/* The refusal comes after the handshake. */
		session_tls_begin(s);
		io_flush(s->io);
		return s;
	}
	actions_life_start(s);
	if (session_via(s) == -1) {
		session_close(s, CLOSE_FIN, "out of memory");
		return s;
	}
	if (implicit_tls)
		session_tls_begin(
		    s); /* the greeting comes after the handshake */
	else
		session_greet(s);
	io_flush(s->io);
	return s;
}

/* session_refuse - over a session limit: say so and hang up (RFC 5321
 * 3.1) */
void
session_refuse(struct session *s)
{
	reply_send(s, s->refuse);
	session_close(s, CLOSE_FIN, reply_id_str(s->refuse));
}

/* session_greet - run the connect rules, then greet (or what they say);
 * pace.greeting_wait holds the greeting's last line back (pace.c) */
void
session_greet(struct session *s)
{
	struct rule_ctx ctx = {.hook = HOOK_CONNECT, .client_ip = s->client_ip};

	if (pace_greet(s))
		return; /* its last line (or the rules) after the wait */
	if (!actions_hook(s, &ctx))
		actions_normal(s, HOOK_CONNECT);
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
