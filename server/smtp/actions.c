/*
 * actions.c - what a rule does, the same way for every rule at every hook:
 * an optional delay first, then hang, close (FIN, silent, RST) or reply,
 * else the engine's normal behaviour; and the session's timers (the
 * rule delay or hang, limits.connection_timeout).
 *
 * Does not: match rules (rules.c), or know which vendor a rule plays.
 */
#include <string.h>

#include <event2/event.h>

#include "actions.h"
#include "commands.h"
#include "data.h"
#include "greylist.h"
#include "io.h"
#include "reply.h"
#include "session.h"

static void actions_fire(struct session *s, struct rule *r, enum hook h);

static void actions_timer_cb(evutil_socket_t fd, short what, void *arg);

/* Pause input processing (and reading) for a rule's delay or hang. */
static void
actions_pause(struct session *s, unsigned ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	s->paused = true;
	io_pause(s->io);
	/* Made on first use: most sessions never wait. */
	if (s->timer == NULL &&
	    (s->timer = evtimer_new(s->env->base, actions_timer_cb, s)) ==
	        NULL) {
		s->paused = false; /* no memory to wait: go on at once */
		io_resume(s->io);
		return;
	}
	evtimer_add(s->timer, &tv);
}

static void
actions_timer_cb(evutil_socket_t fd, short what, void *arg)
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
		actions_fire(s, r, s->pending_hook); /* the part after delay */
	if (!s->paused && s->state != STATE_CLOSING)
		session_process(s);
	io_flush(s->io);
}

static void
actions_life_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	reply_send(s, REPLY_CONNECTION_TIMEOUT);
	session_close(s, CLOSE_FIN, "connection timeout");
}

/* actions_life_start - limits.connection_timeout runs from the accept */
void
actions_life_start(struct session *s)
{
	unsigned ms = s->profile->limits.connection_timeout_ms;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (ms == 0)
		return;
	s->life_timer = evtimer_new(s->env->base, actions_life_cb, s);
	if (s->life_timer != NULL)
		evtimer_add(s->life_timer, &tv);
}

/* actions_normal - the engine's own behaviour at a hook */
void
actions_normal(struct session *s, enum hook h)
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
			data_message_end(s);
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
actions_fire(struct session *s, struct rule *r, enum hook h)
{
	const struct rule_do *a = &r->act;
	bool mid = hook_midstream(r, h);

	if (s->pending != r) {
		char what[256];

		rules_describe(r, what, sizeof(what));
		session_event(s, TR_RULE, r->name, r->why, what, strlen(what));
		if (a->delay_ms != 0) {
			s->pending = r;
			s->pending_hook = h;
			actions_pause(s, a->delay_ms);
			return;
		}
	}
	s->pending = NULL;

	if (a->hang) {
		if (a->has_reply && !mid)
			reply_lines(s, &a->reply, r->name);
		session_eventf(s, TR_INFO, NULL,
		               "hanging: reading nothing for %u ms",
		               s->profile->limits.hang_timeout_ms);
		s->hanging = true;
		actions_pause(s, s->profile->limits.hang_timeout_ms);
		return;
	}
	if (a->close == CLOSE_SILENT) {
		session_close_rule(s, CLOSE_SILENT, r->name, r->name);
		return;
	}
	if (a->close == CLOSE_RST) {
		if (a->has_reply && !mid)
			reply_lines(s, &a->reply, r->name);
		session_close_rule(s, CLOSE_RST, r->name, r->name);
		return;
	}
	if (mid) {
		if (a->has_reply && s->verdict == MSG_OK) {
			s->verdict = MSG_RULE_REPLY;
			s->verdict_rule = r;
		}
		if (a->close == CLOSE_FIN)
			session_close_rule(s, CLOSE_FIN, r->name, r->name);
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
		actions_normal(s, h);
	if (a->close == CLOSE_FIN && s->state != STATE_CLOSING)
		session_close_rule(s, CLOSE_FIN, r->name, r->name);
}

/* actions_hook - carry out the first matching rule; false if none */
bool
actions_hook(struct session *s, const struct rule_ctx *ctx)
{
	struct rule_ctx c = *ctx;
	struct rule *r;

	if (s->profile->nrules == 0)
		return false;
	/* do.fail_first counts in the policy state (greylist.c) */
	c.attempts = greylist_attempts;
	c.attempts_arg = s;
	if ((r = rules_match(s->profile, &c, &s->rng)) == NULL)
		return false;
	actions_fire(s, r, ctx->hook);
	return true;
}
