/*
 * reply.h - the single exit for everything the server says: a profile's
 * reply expanded, recorded in the transcript and queued on the
 * connection.
 *
 * Does not: choose which reply to send (the session and commands do).
 */
#ifndef REPLY_H
#define REPLY_H

#include "profile.h"
#include "proto.h"

struct evbuffer;
struct session;

/* reply_send - the profile's reply for a situation */
void reply_send(struct session *s, enum reply_id id);

/* reply_lines - a given reply (a rule's), tagged with the rule name */
void reply_lines(struct session *s, const struct reply_text *t,
                 const char *rule);

/* reply_expand - a template with the session's values appended to out,
 * for text that is not a reply (a header line); date replaces {date}'s
 * clock time unless NULL. Nothing is sent or recorded. */
void reply_expand(struct session *s, const char *tpl, const char *date,
                  struct evbuffer *out);

/* reply_raw - one literal line (AUTH's 334 challenges) */
void reply_raw(struct session *s, const char *line);

/* reply_ehlo - the EHLO reply: greeting line + advertised keywords */
void reply_ehlo(struct session *s);

#endif
