/*
 * commands.c - the SMTP command table (RFC 5321 4.1, RFC 4954 AUTH in
 * auth.c, RFC 3030 BDAT, RFC 3207 STARTTLS).
 *
 * As in OpenSMTPD: each verb has a check, which only decides whether the
 * command is acceptable now (and sends the profile's error reply when
 * not), and a proceed function, which does the work. The check is data
 * first: the verb's flags (proto.h's verb_specs: before HELO, inside a
 * transaction, before TLS...) go through one table of gates, each with
 * its reply; a verb's check function only judges what flags cannot say.
 * Which verbs exist, which parameters are allowed (what EHLO advertised)
 * and every reply text come from the profile.
 *
 * Does not: read input or write to the socket (input.c, reply.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "commands.h"
#include "data.h"
#include "greylist.h"
#include "io.h"
#include "reply.h"
#include "session.h"
#include "session_tls.h"

/*
 * A row: the verb (its name and flags are proto's verb_names and
 * verb_specs), what only code can judge (check: NULL when the flags say
 * it all; sends the refusal itself), and the work (proceed).
 */
struct command {
	enum smtp_verb verb;
	bool (*check)(struct session *);
	void (*proceed)(struct session *);
};

/* Send an error reply for a bad command and count it. */
static bool
refuse(struct session *s, enum reply_id id)
{
	reply_send(s, id);
	session_bad_command(s, id);
	return false;
}

/* Out of memory for what the command needs: 451, not the client's fault. */
static bool
local_error(struct session *s)
{
	reply_send(s, REPLY_LOCAL_ERROR);
	return false;
}

static bool
has_args(const struct session *s)
{
	return s->cmd.args != NULL && s->cmd.args_len != 0;
}

/* Does the EHLO list of the session's state (inside TLS or not) turn
 * this extension on? What it does not list is not accepted either. */
static bool
advertised(const struct session *s, unsigned ext)
{
	return (profile_ehlo(s->profile, s->tls).ext & ext) != 0;
}

/* --- The flags' checks (proto.h's enum cmd_flag), in their order --- */

static bool
in_init(const struct session *s, const struct verb_spec *v)
{
	return s->state == STATE_INIT;
}

static bool
no_ehlo_ext(const struct session *s, const struct verb_spec *v)
{
	return !advertised(s, v->ext) || !s->esmtp;
}

static bool
is_authenticated(const struct session *s, const struct verb_spec *v)
{
	return s->authenticated;
}

static bool
in_tls(const struct session *s, const struct verb_spec *v)
{
	return s->tls;
}

static bool
in_txn(const struct session *s, const struct verb_spec *v)
{
	return s->state == STATE_MAIL || s->state == STATE_RCPT;
}

static bool
no_txn(const struct session *s, const struct verb_spec *v)
{
	return !in_txn(s, v);
}

static bool
no_rcpt_yet(const struct session *s, const struct verb_spec *v)
{
	return s->state == STATE_MAIL;
}

static bool
with_args(const struct session *s, const struct verb_spec *v)
{
	return has_args(s);
}

static bool
without_args(const struct session *s, const struct verb_spec *v)
{
	return !has_args(s);
}

/*
 * One row per check: the flag that asks for it, whether the command fails
 * it, the reply, and whether that may count towards limits.bad_commands
 * (503s and 501s may; "already authenticated" is not the client's error);
 * the profile's limits.bad_commands_count then says which replies do.
 * The order is the order the replies have always come in.
 */
struct gate {
	unsigned flag;
	bool (*closed)(const struct session *, const struct verb_spec *);
	enum reply_id reply;
	bool bad;
};

static const struct gate gates[] = {
    {CMD_NO_ARGS, with_args, REPLY_SYNTAX_ERROR, true},
    {CMD_NEEDS_HELO, in_init, REPLY_NEED_HELO, true},
    {CMD_ESMTP_EXT, no_ehlo_ext, REPLY_UNKNOWN_COMMAND, true},
    {CMD_BEFORE_AUTH, is_authenticated, REPLY_AUTH_ALREADY, false},
    {CMD_BEFORE_TLS, in_tls, REPLY_TLS_ALREADY, true},
    {CMD_NO_TXN, in_txn, REPLY_NESTED_MAIL, true},
    {CMD_NEEDS_MAIL, no_txn, REPLY_NEED_MAIL, true},
    {CMD_NEEDS_RCPT, no_rcpt_yet, REPLY_NEED_RCPT, true},
    {CMD_NEEDS_RCPT, no_txn, REPLY_NEED_MAIL, true},
    {CMD_NEEDS_ARGS, without_args, REPLY_SYNTAX_ERROR, true},
};

/* The first check of a verb's flags that the command fails, or NULL. */
static const struct gate *
gate_closed(const struct session *s, const struct verb_spec *v)
{
	for (size_t i = 0; i < sizeof(gates) / sizeof(gates[0]); i++)
		if ((v->flags & gates[i].flag) && gates[i].closed(s, v))
			return &gates[i];
	return NULL;
}

/* --- EHLO / HELO (RFC 5321 4.1.1.1) --- */

static bool
check_hello(struct session *s)
{
	if (!has_args(s) || !smtp_domain_valid(s->cmd.args, s->cmd.args_len))
		return refuse(s, REPLY_EHLO_SYNTAX);
	return true;
}

/* Keep the EHLO/HELO argument, cut at HELO_MAX, in a buffer that fits
 * it: reused when the new name fits, reallocated when it is longer. */
static bool
set_helo(struct session *s)
{
	size_t n = s->cmd.args_len < HELO_MAX ? s->cmd.args_len : HELO_MAX;

	if (s->helo == NULL || strlen(s->helo) < n) {
		char *grown = realloc(s->helo, n + 1);
		if (grown == NULL)
			return false;
		s->helo = grown;
	}
	memcpy(s->helo, s->cmd.args, n);
	s->helo[n] = '\0';
	return true;
}

static void
proceed_hello(struct session *s, bool esmtp)
{
	if (!set_helo(s)) {
		local_error(s);
		return;
	}
	/* RFC 5321 4.1.4: EHLO/HELO resets any transaction. */
	session_reset_transaction(s);
	s->esmtp = esmtp;
	if (esmtp)
		reply_ehlo(s);
	else
		reply_send(s, REPLY_HELO);
	session_enter(s, STATE_HELO);
}

static void
proceed_ehlo(struct session *s)
{
	proceed_hello(s, true);
}

static void
proceed_helo(struct session *s)
{
	proceed_hello(s, false);
}

/* --- MAIL (RFC 5321 4.1.1.2, RFC 1870, 6152, 6531, 3461, 4954) --- */

/* Is an ESMTP parameter allowed by what EHLO advertised? */
static bool
mail_param_advertised(const struct session *s, const struct smtp_param *p)
{
	if (!s->esmtp)
		return false; /* RFC 5321 4.1.1.11: no parameters after HELO */
	if (strcmp(p->key, "SIZE") == 0)
		return advertised(s, EXT_SIZE);
	if (strcmp(p->key, "BODY") == 0) {
		if (p->value_len == 4 && strncasecmp(p->value, "7BIT", 4) == 0)
			return advertised(s, EXT_8BITMIME | EXT_BINARYMIME);
		if (p->value_len == 10 &&
		    strncasecmp(p->value, "BINARYMIME", 10) == 0)
			return advertised(s, EXT_BINARYMIME);
		return advertised(s, EXT_8BITMIME);
	}
	if (strcmp(p->key, "SMTPUTF8") == 0)
		return advertised(s, EXT_SMTPUTF8);
	if (strcmp(p->key, "RET") == 0 || strcmp(p->key, "ENVID") == 0 ||
	    strcmp(p->key, "NOTIFY") == 0 || strcmp(p->key, "ORCPT") == 0)
		return advertised(s, EXT_DSN);
	if (strcmp(p->key, "AUTH") == 0)
		return advertised(s, EXT_AUTH);
	return false;
}

/* 555, naming the offending parameter for {param}. */
static bool
refuse_param(struct session *s, const struct smtp_param *p)
{
	struct session_txn *t = session_txn(s);

	if (t == NULL)
		return local_error(s);
	snprintf(t->param, sizeof(t->param), "%s", p->key);
	return refuse(s, REPLY_PARAM_UNKNOWN);
}

/* Check every parameter is advertised; 555 for the first that is not. */
static bool
params_advertised(struct session *s, const struct smtp_path *path)
{
	for (size_t i = 0; i < path->nparams; i++) {
		if (!mail_param_advertised(s, &path->params[i]))
			return refuse_param(s, &path->params[i]);
	}
	return true;
}

static bool
check_mail(struct session *s)
{
	struct session_txn *t;
	struct smtp_path path;
	size_t bad = 0;
	enum path_error e;

	e = smtp_parse_path(s->cmd.args ? s->cmd.args : "", s->cmd.args_len,
	                    "FROM:", true, &path, &bad);
	if (e == PATH_BAD_PARAM)
		return refuse_param(s, &path.params[bad]);
	if (e != PATH_OK)
		return refuse(s, REPLY_MAIL_SYNTAX);
	if (!params_advertised(s, &path))
		return false;
	/* The first MAIL makes the transaction's strings; later ones reuse
	 * them. */
	if ((t = session_txn(s)) == NULL)
		return local_error(s);
	if (smtp_mail_params(&path, &t->mail, &bad) == -1) {
		memset(&t->mail, 0, sizeof(t->mail));
		return refuse_param(s, &path.params[bad]);
	}
	/* RFC 1870 6.2: a declared size over the limit is refused now. */
	if (t->mail.has_size && s->profile->limits.message_size != 0 &&
	    t->mail.size > s->profile->limits.message_size) {
		memset(&t->mail, 0, sizeof(t->mail));
		reply_send(s, REPLY_MESSAGE_TOO_BIG);
		return false;
	}
	memcpy(t->mail_from, path.addr, path.addr_len + 1);
	return true;
}

static void
proceed_mail(struct session *s)
{
	free(s->mail_line);
	s->mail_line = strndup(s->line, s->line_len);
	session_enter(s, STATE_MAIL);
	reply_send(s, REPLY_MAIL_OK);
}

/* --- RCPT (RFC 5321 4.1.1.3, RFC 3461) --- */

/* A parameter's value as received, or NULL when absent. */
static const struct smtp_param *
path_param(const struct smtp_path *path, const char *key)
{
	for (size_t i = 0; i < path->nparams; i++)
		if (strcmp(path->params[i].key, key) == 0)
			return &path->params[i];
	return NULL;
}

/* One recipient as session.h keeps it: "addr\0NOTIFY\0ORCPT\0", the
 * DSN values as received ("" when absent: neither may be empty). */
static char *
rcpt_pack(const struct smtp_path *path)
{
	const struct smtp_param *n = path_param(path, "NOTIFY");
	const struct smtp_param *o = path_param(path, "ORCPT");
	size_t nl = n != NULL && n->value != NULL ? n->value_len : 0;
	size_t ol = o != NULL && o->value != NULL ? o->value_len : 0;
	char *p = malloc(path->addr_len + nl + ol + 3);

	if (p == NULL)
		return NULL;
	memcpy(p, path->addr, path->addr_len);
	p[path->addr_len] = '\0';
	if (nl != 0)
		memcpy(p + path->addr_len + 1, n->value, nl);
	p[path->addr_len + 1 + nl] = '\0';
	if (ol != 0)
		memcpy(p + path->addr_len + 2 + nl, o->value, ol);
	p[path->addr_len + 2 + nl + ol] = '\0';
	return p;
}

static bool
check_rcpt(struct session *s)
{
	struct smtp_path path;
	struct rcpt_params rp;
	size_t bad = 0;
	enum path_error e;

	e = smtp_parse_path(s->cmd.args ? s->cmd.args : "", s->cmd.args_len,
	                    "TO:", false, &path, &bad);
	if (e == PATH_BAD_PARAM)
		return refuse_param(s, &path.params[bad]);
	if (e != PATH_OK)
		return refuse(s, REPLY_RCPT_SYNTAX);
	if (!params_advertised(s, &path))
		return false;
	if (smtp_rcpt_params(&path, &rp, &bad) == -1)
		return refuse_param(s, &path.params[bad]);
	/* RFC 5321 4.5.3.1.10: too many recipients is a 452, not an error
	 * of the client's, so it is not counted as a bad command. */
	if (s->nrcpts >= s->profile->limits.recipients) {
		reply_send(s, REPLY_TOO_MANY_RCPTS);
		return false;
	}
	/* The recipient list exists only once a session has one. */
	if (s->rcpts == NULL &&
	    (s->rcpts = calloc(s->profile->limits.recipients + 1,
	                       sizeof(*s->rcpts))) == NULL)
		return local_error(s);
	if ((s->rcpts[s->nrcpts] = rcpt_pack(&path)) == NULL)
		return local_error(s);
	/* greylist.c: a deferral replies itself (not the client's error) */
	if (!greylist_rcpt(s, s->rcpts[s->nrcpts])) {
		free(s->rcpts[s->nrcpts]);
		s->rcpts[s->nrcpts] = NULL;
		return false;
	}
	return true;
}

static void
proceed_rcpt(struct session *s)
{
	s->nrcpts++;
	session_enter(s, STATE_RCPT);
	reply_send(s, REPLY_RCPT_OK);
}

/* --- DATA (RFC 5321 4.1.1.4) and BDAT (RFC 3030) --- */

static bool
check_data(struct session *s)
{
	/* RFC 3030 2: DATA after BDAT in a transaction is a 503 "Bad
	 * sequence of commands"; 3: a BODY=BINARYMIME body must go by BDAT,
	 * so DATA after it gets the same reply, need_bdat. */
	if (s->bdat_used || session_txn_peek(s)->mail.body == BODY_BINARYMIME)
		return refuse(s, REPLY_NEED_BDAT);
	return true;
}

static void
proceed_data(struct session *s)
{
	if (!data_start(s))
		return;
	reply_send(s, REPLY_DATA_START);
	session_enter(s, STATE_DATA);
}

static bool
check_bdat(struct session *s)
{
	uint64_t size;
	bool last;
	const struct gate *g;

	if (smtp_bdat_args(s->cmd.args ? s->cmd.args : "", s->cmd.args_len,
	                   &size, &last) == -1)
		return refuse(s,
		              REPLY_SYNTAX_ERROR); /* size unknown: no skip */
	if ((g = gate_closed(s, &verb_specs[VERB_BDAT])) != NULL) {
		/* RFC 3030 2: the chunk is read and thrown away, then 503
		 * (counted as a bad command once it has been read). */
		data_start_bdat(s, size, last, true, g->reply);
		return false;
	}
	s->bdat_size_arg = size;
	s->bdat_last_arg = last;
	return true;
}

static void
proceed_bdat(struct session *s)
{
	data_start_bdat(s, s->bdat_size_arg, s->bdat_last_arg, false,
	                REPLY_COUNT);
}

/* --- RSET, NOOP, QUIT, VRFY, HELP (RFC 5321 4.1.1.5-4.1.1.10) --- */

static void
proceed_rset(struct session *s)
{
	session_reset_transaction(s);
	session_enter(s, s->state == STATE_INIT ? STATE_INIT : STATE_HELO);
	reply_send(s, REPLY_RSET_OK);
}

static void
proceed_noop(struct session *s)
{
	reply_send(s, REPLY_NOOP_OK);
}

static void
proceed_quit(struct session *s)
{
	/* RFC 8446 6.1: an orderly close inside TLS sends close_notify
	 * (rules that cut a session send none, as the emulated peers do). */
	if (s->tls)
		io_close_notify(s->io);
	reply_send(s, REPLY_QUIT);
	session_close(s, CLOSE_FIN, "client sent QUIT");
}

static void
proceed_vrfy(struct session *s)
{
	reply_send(s, REPLY_VRFY);
}

static void
proceed_help(struct session *s)
{
	reply_send(s, REPLY_HELP);
}

/* --- AUTH (RFC 4954): auth.c --- */

/* commands_auth_line - a continuation line while in STATE_AUTH */
void
commands_auth_line(struct session *s)
{
	auth_line(s);
}

/* --- STARTTLS (RFC 3207) --- */

static bool
check_starttls(struct session *s)
{
	/* RFC 3207 4: "454 TLS not available due to temporary reason" when
	 * the profile has no TLS. */
	if (s->profile->tls_policy == NULL) {
		reply_send(s, REPLY_TLS_UNAVAILABLE);
		return false;
	}
	return true;
}

static void
proceed_starttls(struct session *s)
{
	session_starttls(s);
}

static const struct command commands[VERB_COUNT] = {
    [VERB_HELO] = {VERB_HELO, check_hello, proceed_helo},
    [VERB_EHLO] = {VERB_EHLO, check_hello, proceed_ehlo},
    [VERB_MAIL] = {VERB_MAIL, check_mail, proceed_mail},
    [VERB_RCPT] = {VERB_RCPT, check_rcpt, proceed_rcpt},
    [VERB_DATA] = {VERB_DATA, check_data, proceed_data},
    [VERB_BDAT] = {VERB_BDAT, check_bdat, proceed_bdat},
    [VERB_RSET] = {VERB_RSET, NULL, proceed_rset},
    [VERB_NOOP] = {VERB_NOOP, NULL, proceed_noop},
    [VERB_QUIT] = {VERB_QUIT, NULL, proceed_quit},
    [VERB_VRFY] = {VERB_VRFY, NULL, proceed_vrfy},
    [VERB_HELP] = {VERB_HELP, NULL, proceed_help},
    [VERB_AUTH] = {VERB_AUTH, auth_check, auth_proceed},
    [VERB_STARTTLS] = {VERB_STARTTLS, check_starttls, proceed_starttls},
};

/* commands_run - handle the command line parsed into s->cmd */
void
commands_run(struct session *s)
{
	int verb = verb_from_str(s->cmd.verb, s->cmd.verb_len);
	const struct verb_spec *v;
	const struct command *c;
	const struct gate *g;

	if (s->cmd.has_nul) {
		refuse(s, REPLY_SYNTAX_ERROR);
		return;
	}
	/* A verb the profile does not recognise is unknown, whatever the
	 * engine could do; so is one whose extension is not offered (BDAT
	 * without CHUNKING). */
	if (verb < 0 || !(s->profile->commands & (1u << verb)) ||
	    ((verb_specs[verb].flags & CMD_UNLESS_EXT) &&
	     !advertised(s, verb_specs[verb].ext))) {
		refuse(s, REPLY_UNKNOWN_COMMAND);
		return;
	}
	v = &verb_specs[verb];
	c = &commands[verb];
	if (!(v->flags & CMD_LATE_STATE) && (g = gate_closed(s, v)) != NULL) {
		reply_send(s, g->reply);
		if (g->bad)
			session_bad_command(s, g->reply);
		return;
	}
	if (c->check == NULL || c->check(s))
		c->proceed(s);
}
