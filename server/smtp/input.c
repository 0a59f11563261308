/*
 * input.c - a session's command lines.
 *
 * Does: assemble a line from the connection's input with the profile's
 * line limit checked on what is buffered, before the line ends (RFC 4954's
 * 12288 for AUTH), strict or lenient line endings, the command hook's
 * rules, then the command table or the AUTH exchange; the deadline of
 * limits.command_timeout from a line's first byte to its LF; the hooks
 * of pace.c (the error delay before a line, the synchronisation check
 * after it, a header line or a rejected command instead of the table).
 * Does not: read message bodies (data.c) or judge a command (commands.c).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "actions.h"
#include "commands.h"
#include "input.h"
#include "io.h"
#include "pace.h"
#include "reply.h"
#include "session.h"

/* A complete command line is in s->line: rules first, then the table. */
static void
input_command(struct session *s)
{
	struct rule_ctx ctx = {.hook = HOOK_COMMAND};
	int verb;

	smtp_parse_command(s->line, s->line_len, &s->cmd);
	verb = verb_from_str(s->cmd.verb, s->cmd.verb_len);
	ctx.verb = s->cmd.verb;
	ctx.nth = verb >= 0 ? ++s->verb_uses[verb] : ++s->unknown_uses;
	ctx.args = s->cmd.args != NULL ? s->cmd.args : "";
	if (!actions_hook(s, &ctx) && !pace_command(s, verb))
		commands_run(s);
}

/* Does the buffered line start with "AUTH "? Its limit is RFC 4954's. */
static bool
input_auth_ahead(struct evbuffer *in)
{
	char head[5];

	if (evbuffer_copyout(in, head, sizeof(head)) != sizeof(head))
		return false;
	return strncasecmp(head, "AUTH ", sizeof(head)) == 0;
}

/*
 * input_line - read one line in command (or AUTH) mode. The length limit is
 * checked on what is buffered, before the line ends, so a client can never make
 * us hold more than the limit. Returns true if it consumed anything.
 */
bool
input_line(struct session *s, struct evbuffer *in)
{
	const struct limits *l = &s->profile->limits;
	size_t limit = l->line_length, eol_len, n, len, total;
	struct evbuffer_ptr p;
	bool cr;

	if (s->state == STATE_AUTH || input_auth_ahead(in))
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
		/* limits.command_timeout runs from the line's first byte; a
		 * line that arrives whole never arms it */
		session_deadline_arm(s, REPLY_COMMAND_TIMEOUT,
		                     l->command_timeout_ms);
		if (!s->skipping && n < limit)
			return false; /* wait for the rest of the line */
		if (!s->skipping)
			session_eventf(
			    s, TR_WARN, NULL,
			    "command line over %zu bytes; discarding it",
			    limit);
		s->skipping = true;
		s->skip_bytes += n;
		evbuffer_drain(in, n);
		return false;
	}
	len = (size_t)p.pos;
	total = len + 1;
	session_deadline_off(s); /* the line ended in time */
	if (pace_error_wait(s))
		return false; /* pace.error_delay: woken when it is over */
	if (s->skipping || total > limit) {
		evbuffer_drain(in, total);
		session_eventf(s, TR_WARN, NULL,
		               "line too long: %zu bytes (limit %zu)",
		               s->skip_bytes + total, limit);
		s->skipping = false;
		s->skip_bytes = 0;
		reply_send(s, REPLY_LINE_TOO_LONG);
		session_bad_command(s, REPLY_LINE_TOO_LONG);
		return true;
	}
	evbuffer_remove(in, s->line, total);
	cr = len > 0 && s->line[len - 1] == '\r';
	s->line_len = len - (cr ? 1 : 0);
	s->line[s->line_len] = '\0';
	/* A middlebox that reads commands logged the client's lines as the
	 * client sent them, before any box changed them (net/via.c). */
	if (!io_logs_lines(s->io))
		session_event(s, TR_CLIENT, NULL, NULL, s->line, s->line_len);
	if (!cr && s->profile->eol == EOL_STRICT) {
		session_eventf(s, TR_WARN, NULL,
		               "bare LF: line not ended by CRLF");
		reply_send(s, REPLY_BARE_LF);
		session_bad_command(s, REPLY_BARE_LF);
		return true;
	}
	if (pace_sync_line(s, in))
		return true;
	if (s->state == STATE_AUTH)
		commands_auth_line(s);
	else
		input_command(s);
	return true;
}
