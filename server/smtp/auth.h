/*
 * auth.h - the AUTH command (RFC 4954): PLAIN, LOGIN and NTLM's first
 * round trip, each only when the session's EHLO list offers it.
 *
 * Does not: decide the gates every verb passes first (commands.c).
 */
#ifndef AUTH_H
#define AUTH_H

#include <stdbool.h>

struct session;

/* auth_check - may AUTH run now (auth.require_tls); replies when not */
bool auth_check(struct session *s);

/* auth_proceed - "AUTH mechanism [initial-response]" */
void auth_proceed(struct session *s);

/* auth_line - a continuation line while in STATE_AUTH */
void auth_line(struct session *s);

#endif
