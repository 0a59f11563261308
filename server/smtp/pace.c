/*
 * pace.c - the profile's "pace:" section in a session: output paced from
 * the accept (io_pace), a wait before the greeting's last line, the
 * synchronisation checks (input before the greeting; a command followed
 * by more input when PIPELINING was not offered) answered with
 * pace.sync_reply and a close or a reject mode, the delay before each
 * reply once the client has made pace.error_delay_after errors, and a
 * header line (or a forbidden verb) sent as a command answered and closed.
 *
 * One timer per session, made on first use, serves the greeting's wait
 * and the error delay (the one always ends before the other can start).
 *
 * Does not: move the paced bytes (io_pace.c), count errors or close at
 * limits.bad_commands (session.c), or know which vendor the profile plays.
 */
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "actions.h"
#include "io.h"
#include "pace.h"
#include "reply.h"
#include "session.h"

/* pace_start - pace the output from the accept on */
void
pace_start(struct session *s)
{
	const struct pace_settings *p = &s->profile->pace;

	if (p->bytes != 0 &&
	    io_pace(s->io, p->bytes, p->interval_ms, p->for_ms) == -1)
		session_eventf(
		    s, TR_WARN, NULL,
		    "out of memory for pacing: replies leave at once");
}

/* A synchronisation error: the reply, then a close or the reject mode. */
static void
pace_sync_error(struct session *s, const char *why)
{
	const struct pace_settings *p = &s->profile->pace;

	session_eventf(s, TR_WARN, NULL, "synchronization error: %s", why);
	reply_lines(s, &p->sync_reply, NULL);
	if (p->sync_then == PACE_SYNC_CLOSE) {
		session_close(s, CLOSE_FIN, "synchronization error");
		return;
	}
	s->sync_rejecting = true;
	if (s->state == STATE_CONNECTED)
		session_enter(s, STATE_INIT); /* the reply was the greeting */
}

static bool
pace_input_waiting(struct session *s)
{
	return evbuffer_get_length(io_input(s->io)) != 0;
}

/* The greeting's wait is over: its last line (or a connect rule). */
static void
pace_greet_done(struct session *s)
{
	const struct reply_text *g = &s->profile->replies[REPLY_GREETING];
	struct rule_ctx ctx = {.hook = HOOK_CONNECT, .client_ip = s->client_ip};
	struct reply_text last = {
	    .lines = g->n != 0 ? g->lines + g->n - 1 : NULL,
	    .n = g->n != 0 ? 1 : 0,
	};

	s->greet_waiting = false;
	if (s->profile->pace.sync_early && pace_input_waiting(s)) {
		pace_sync_error(s, "input before the greeting");
		return;
	}
	if (actions_hook(s, &ctx))
		return;
	reply_lines(s, &last, NULL);
	session_enter(s, STATE_INIT);
}

static void
pace_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	if (s->state == STATE_CLOSING)
		return;
	if (s->greet_waiting)
		pace_greet_done(s);
	else if (s->pace_waiting) {
		s->pace_waiting = false;
		s->pace_waited = true; /* the line held back goes on now */
	}
	if (s->state != STATE_CLOSING && !s->paused)
		session_process(s);
	io_flush(s->io);
}

/* Start the timer; false when out of memory (then nobody waits). */
static bool
pace_arm(struct session *s, unsigned ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (s->pace_timer == NULL &&
	    (s->pace_timer = evtimer_new(s->env->base, pace_timer_cb, s)) ==
	        NULL)
		return false;
	return evtimer_add(s->pace_timer, &tv) == 0;
}

/* pace_greet - the greeting's first lines now, its last after the wait */
bool
pace_greet(struct session *s)
{
	const struct pace_settings *p = &s->profile->pace;
	const struct reply_text *g = &s->profile->replies[REPLY_GREETING];
	struct reply_text head = {.lines = g->lines, .n = g->n - 1};

	if (p->greeting_wait_ms == 0) {
		/* input before the greeting, with no wait: what the client
		 * sent before the accept was handled */
		if (!p->sync_early || !pace_input_waiting(s))
			return false;
		pace_sync_error(s, "input before the greeting");
		return true;
	}
	if (g->n == 0 || !pace_arm(s, p->greeting_wait_ms))
		return false;
	if (head.n != 0)
		reply_lines(s, &head, NULL);
	s->greet_waiting = true;
	session_eventf(s, TR_DETAIL, NULL,
	               "greeting: its last line after %u ms",
	               p->greeting_wait_ms);
	return true;
}

/* pace_early - input during the greeting's wait */
bool
pace_early(struct session *s)
{
	if (!s->greet_waiting || !s->profile->pace.sync_early)
		return false; /* read once the greeting is out */
	evtimer_del(s->pace_timer);
	s->greet_waiting = false;
	pace_sync_error(s, "input before the greeting");
	return s->state != STATE_CLOSING;
}

/* pace_error_wait - hold a complete line back for the error delay */
bool
pace_error_wait(struct session *s)
{
	const struct pace_settings *p = &s->profile->pace;

	if (p->error_delay_after == 0 || p->error_delay_ms == 0 ||
	    s->bad_commands < p->error_delay_after)
		return false;
	if (s->pace_waited) {
		s->pace_waited = false;
		return false;
	}
	if (s->pace_waiting)
		return true;
	if (!pace_arm(s, p->error_delay_ms))
		return false;
	s->pace_waiting = true;
	return true;
}

/* Is the line's verb (its first word) in list? */
static bool
pace_verb_in(const struct session *s, char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == s->cmd.verb_len &&
		    strcasecmp(list[i], s->cmd.verb) == 0)
			return true;
	return false;
}

/* pace_sync_line - more input behind a command, PIPELINING not offered */
bool
pace_sync_line(struct session *s, struct evbuffer *in)
{
	const struct profile *p = s->profile;

	if (!p->pace.sync_pipelining || s->sync_rejecting ||
	    s->state == STATE_AUTH || evbuffer_get_length(in) == 0)
		return false;
	if (s->esmtp && (profile_ehlo(p, s->tls).ext & EXT_PIPELINING))
		return false;
	/* a BDAT chunk follows its command line (RFC 3030 2) */
	if (s->line_len >= 4 && strncasecmp(s->line, "BDAT", 4) == 0 &&
	    (s->line_len == 4 || s->line[4] == ' '))
		return false;
	pace_sync_error(s, "a command before the reply to the one before");
	return true;
}

/* pace_is_header - "Name:" as the line's first word */
bool
pace_is_header(const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len && line[i] != ':'; i++) {
		unsigned char c = (unsigned char)line[i];
		/* RFC 5322 2.2: printable US-ASCII but ":" (no space) */
		if (c <= ' ' || c >= 127)
			return false;
	}
	return i > 0 && i < len;
}

/* pace_command - a header line, a forbidden verb, a rejected command */
bool
pace_command(struct session *s, int verb)
{
	const struct pace_settings *p = &s->profile->pace;

	if (verb < 0 && p->header_command.n != 0 &&
	    (pace_is_header(s->line, s->line_len) ||
	     pace_verb_in(s, p->forbidden_commands, p->nforbidden_commands))) {
		session_eventf(s, TR_WARN, NULL, "non-SMTP command: %.100s",
		               s->line);
		reply_lines(s, &p->header_command, NULL);
		session_close(s, CLOSE_FIN, "non-SMTP command");
		return true;
	}
	/* an unknown verb keeps its unknown_command reply */
	if (s->sync_rejecting && verb >= 0 &&
	    !pace_verb_in(s, p->sync_allow, p->nsync_allow)) {
		reply_lines(s, &p->reject_reply, NULL);
		return true;
	}
	return false;
}
