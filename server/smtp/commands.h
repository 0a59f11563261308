/*
 * commands.h - the SMTP command table: for each verb, whether it may run
 * now (check) and what it does (proceed). RFC 5321 4.1, RFC 4954 AUTH,
 * RFC 3030 BDAT, RFC 3207 STARTTLS.
 *
 * Does not: read lines (input.c) or say anything itself (reply.h).
 */
#ifndef COMMANDS_H
#define COMMANDS_H

struct session;

/* commands_run - handle the complete command line parsed into s->cmd */
void commands_run(struct session *s);

/* commands_auth_line - a continuation line while in STATE_AUTH */
void commands_auth_line(struct session *s);

#endif
