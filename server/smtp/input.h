/*
 * input.h - a session's command lines: assembled from the connection's
 * input with the line limit checked before the line ends, strict or
 * lenient line endings, then handed to the rules and the command table.
 *
 * Does not: read DATA or BDAT bodies (data.h), or judge a command.
 */
#ifndef INPUT_H
#define INPUT_H

#include <stdbool.h>

/* RFC 4954 4: AUTH lines may be up to 12288 octets, whatever the profile's
 * command line limit is. */
#define AUTH_LINE_MAX 12288

struct evbuffer;
struct session;

/* input_line - take one command (or AUTH) line from in and handle it;
 * true if anything was consumed */
bool input_line(struct session *s, struct evbuffer *in);

#endif
