/*
 * accept_guard.h - what a worker's listeners do when accept() fails, so
 * that a full descriptor table (EMFILE, ENFILE) never turns into a loop
 * on a listener that stays readable.
 *
 * Does: keep one reserve descriptor (/dev/null) per worker; on EMFILE or
 * ENFILE give it up to accept one waiting connection and hand it over to
 * be refused (the profile's 421), then pause the worker's listeners and
 * retry every ACCEPT_GUARD_PAUSE_MS, and whenever a session ends, until
 * the reserve can be had again (descriptors are free: accepting resumes); pause
 * the same way on any other accept error; log at most one warning a second for
 * the whole process, with the count of those left out. Does not: own the
 * listeners (server.c enables and disables them) or speak SMTP (the refusal is
 * an ordinary session).
 */
#ifndef ACCEPT_GUARD_H
#define ACCEPT_GUARD_H

#include <stdbool.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/util.h>

/* How long accepting pauses after an error before it is tried again. */
#define ACCEPT_GUARD_PAUSE_MS 100

struct accept_guard;

/* Turn every listener of the worker on (true) or off (false). */
typedef void (*accept_guard_listen_fn)(void *owner, bool on);
/* Refuse connection fd, accepted on the listener whose arg is larg. */
typedef void (*accept_guard_refuse_fn)(void *larg, evutil_socket_t fd,
                                       struct sockaddr *sa, int salen);

/*
 * accept_guard_new - a guard for one worker's listeners on base, with its
 * reserve descriptor open (NULL: out of memory).
 */
struct accept_guard *accept_guard_new(struct event_base *base,
                                      accept_guard_listen_fn listen,
                                      accept_guard_refuse_fn refuse,
                                      void *owner);

/*
 * accept_guard_error - accept() on listening socket lfd failed with errno
 * err (the listener's arg is larg): maybe refuse one connection with the
 * reserve, pause the listeners, warn (rate-limited).
 */
void accept_guard_error(struct accept_guard *g, evutil_socket_t lfd, int err,
                        void *larg);

/* accept_guard_kick - a session ended: resume now if a descriptor is free */
void accept_guard_kick(struct accept_guard *g);

/* accept_guard_stop - the listeners are gone: never turn them on again */
void accept_guard_stop(struct accept_guard *g);

/* accept_guard_free - close the reserve, drop the timer (NULL: no-op) */
void accept_guard_free(struct accept_guard *g);

#endif
