/*
 * pace.h - the session's side of the profile's "pace:" section: output
 * paced from the accept, the greeting's wait before its last line, the
 * synchronisation checks and what follows them, the delay before each
 * reply once the client has made enough errors, and a header line (or a
 * forbidden verb) sent as a command.
 *
 * Does not: move paced bytes (net/io_pace.c), count errors or close at
 * limits.bad_commands (session.c), or know which vendor the profile plays.
 */
#ifndef PACE_H
#define PACE_H

#include <stdbool.h>
#include <stddef.h>

struct evbuffer;
struct session;

/* pace_start - at the accept: pace the output as pace.bytes says */
void pace_start(struct session *s);

/* pace_greet - before the greeting: true if pace took it over (its first
 * lines sent and its last held back by greeting_wait, or input already
 * waiting as a synchronisation error) */
bool pace_greet(struct session *s);

/* pace_early - input arrived during the greeting's wait: a sync error if
 * the profile says so; true if commands are read from now on */
bool pace_early(struct session *s);

/* pace_error_wait - a command line is complete: true while the error
 * delay holds it back (the session is woken when it is over) */
bool pace_error_wait(struct session *s);

/* pace_sync_line - the line in s->line was taken from in: true if the
 * input behind it is a synchronisation error (answered here) */
bool pace_sync_line(struct session *s, struct evbuffer *in);

/* pace_command - true if the command in s->line was answered here: a
 * header line or forbidden verb (then closed), or a rejected command */
bool pace_command(struct session *s, int verb);

/* pace_is_header - the line's first word is a header field name and its
 * colon ("Subject:", RFC 5322 2.2 and 3.6.8) */
bool pace_is_header(const char *line, size_t len);

#endif
