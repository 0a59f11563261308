/*
 * via.h - the middlebox chain of one connection ("--via", a profile's
 * "via:") as a filter: io runs every client read through it before the
 * session sees the bytes, and every flush of the session's output before
 * it reaches the socket.
 *
 * Does not: rewrite anything itself (middlebox.h's pure functions do),
 * touch sockets (io.c), or know which firewall it plays.
 */
#ifndef VIA_H
#define VIA_H

#include <stdbool.h>
#include <stddef.h>

#include "middlebox.h"

struct evbuffer;
struct event_base;
struct via;

/*
 * via_new - a chain of n boxes, client side first. encrypted: the
 * connection is TLS from its first byte, so the boxes can read none of
 * it. session and profile (kept, not copied) name the transcript events:
 * the client's lines as the outermost box saw them, and every change a
 * box makes. queued(arg) is called when something is written to
 * via_output(), so that the owner schedules a via_write. NULL when out
 * of memory.
 */
struct via *via_new(const struct mbox_config *const *boxes, size_t n,
                    bool encrypted, unsigned long session, const char *profile,
                    void (*queued)(void *arg), void *arg);

/* via_free - release a chain (NULL is fine) */
void via_free(struct via *v);

/* via_input - what the boxes let through to the server, not yet read */
struct evbuffer *via_input(struct via *v);

/* via_output - where the server's output waits for via_write */
struct evbuffer *via_output(struct via *v);

/*
 * via_read - one client read (all of raw, drained) through the boxes from
 * the client's side inwards, appended to via_input(). Nothing goes past a
 * box that cut the connection; the verdict says whether one did.
 */
enum mbox_verdict via_read(struct via *v, struct evbuffer *raw);

/*
 * via_write - what waits in via_output(), as one chunk, through the
 * boxes outwards, appended to out (the socket's buffer). The verdict
 * says whether a box cut; after a cut (reset or drop-connection) the
 * chunk is discarded.
 */
enum mbox_verdict via_write(struct via *v, struct evbuffer *out);

/* via_cut_reason - "middlebox NAME: reset" (or drop-connection) for the
 * last cut */
const char *via_cut_reason(const struct via *v);

/* via_cut - MBOX_CUT_DROP or MBOX_CUT_RST once a box has cut the
 * connection (the first cut), MBOX_FORWARD before */
enum mbox_verdict via_cut(const struct via *v);

/* via_lost - "middlebox NAME: drop-connection" (or reset) once a box has
 * cut: what the server writes from now on never reaches the client. NULL
 * before a cut. */
const char *via_lost(const struct via *v);

/* via_timeout_conn - ms the box that dropped the connection (action
 * drop-connection) keeps its server side: the box's timeout_conn */
unsigned via_timeout_conn(const struct via *v);

/*
 * via_hold - after a drop-connection: hold the socket fd (a dup, now the
 * chain's): send nothing, discard what the client sends, until it closes
 * or the box's timeout_conn expires (then RST, a model choice); record
 * how it ended in the transcript, close fd, call done(arg). via_free
 * during the hold closes fd and calls nothing. -1 if it cannot (fd is
 * still the caller's).
 */
int via_hold(struct via *v, struct event_base *base, int fd,
             void (*done)(void *arg), void *arg);

/* via_logs_lines - the outermost box reads commands, and so has put each
 * client line in the transcript as the client sent it */
bool via_logs_lines(const struct via *v);

#endif
