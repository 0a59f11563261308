/*
 * accept_guard.c - a worker's listeners when accept() fails.
 *
 * With the open-files limit reached, a listening socket stays readable and
 * every accept() fails with EMFILE: retried at once, that is a loop that
 * burns a CPU and floods the log while clients wait. Here an error pauses
 * the worker's listeners for ACCEPT_GUARD_PAUSE_MS (the waiting
 * connections stay in the kernel's backlog), and EMFILE/ENFILE first
 * spends the reserve descriptor on one waiting connection so that it hears
 * the profile's too_many_sessions 421 rather than nothing (the way libuv
 * and nginx shed load; the reply costs no descriptor beyond the
 * connection's own, and that is closed as soon as the 421 is out).
 * Accepting resumes once the reserve can be opened again, which is when a
 * descriptor is free: tried at the end of each pause, and whenever a
 * session ends (accept_guard_kick), so that a backlog of connections is
 * refused as fast as their sessions close, not one per pause.
 * Does not: enable or disable a listener itself (the worker's callback),
 * or build the refusal (server.c, as for a session over max_sessions).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accept_guard.h"
#include "log.h"

struct accept_guard {
	struct event *timer; /* the pause */
	struct event *flush; /* the count of errors not logged */
	int reserve;         /* /dev/null, closed to make room for one accept */
	bool paused, stopped;
	accept_guard_listen_fn listen;
	accept_guard_refuse_fn refuse;
	void *owner;
};

/* One warning a second at most, for all workers together; the errors in
 * between are counted, and the count is logged with the next line (or by
 * a guard's flush timer, when no error follows). */
static pthread_mutex_t warn_lock = PTHREAD_MUTEX_INITIALIZER;
static bool warned;
static struct timespec warn_last;
static unsigned long warn_left_out;
static int warn_left_err;

/* Milliseconds until a line may be logged again (0: now). */
static long
warn_wait_ms(const struct timespec *now)
{
	long ms;

	if (!warned)
		return 0;
	ms = (long)(now->tv_sec - warn_last.tv_sec) * 1000 +
	     (now->tv_nsec - warn_last.tv_nsec) / 1000000;
	return ms >= 1000 ? 0 : 1000 - ms;
}

/* Log accept's errno err, or count it; err 0: log only the count. */
static void
guard_warn(struct accept_guard *g, int err)
{
	struct timespec now;
	unsigned long left_out;
	long wait;
	int left_err;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&warn_lock);
	wait = warn_wait_ms(&now);
	if (wait > 0 || (err == 0 && warn_left_out == 0)) {
		if (err != 0) {
			warn_left_out++;
			warn_left_err = err;
		}
		left_out = warn_left_out;
		pthread_mutex_unlock(&warn_lock);
		if (left_out != 0 && !evtimer_pending(g->flush, NULL)) {
			long ms = wait + 1;
			struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
			evtimer_add(g->flush, &tv);
		}
		return;
	}
	left_out = warn_left_out;
	left_err = warn_left_err;
	warn_left_out = 0;
	warn_last = now;
	warned = true;
	pthread_mutex_unlock(&warn_lock);
	if (err == 0)
		log_warnx("accept: %s: %lu more such error(s) in the last "
		          "second, not logged",
		          strerror(left_err), left_out);
	else if (left_out != 0)
		log_warnx("accept: %s: accepting paused, retried every %d ms "
		          "(%lu more error(s) in the last second, not logged)",
		          strerror(err), ACCEPT_GUARD_PAUSE_MS, left_out);
	else
		log_warnx("accept: %s: accepting paused, retried every %d ms",
		          strerror(err), ACCEPT_GUARD_PAUSE_MS);
}

/* The errors counted but not logged get their line. */
static void
guard_flush(evutil_socket_t fd, short what, void *arg)
{
	guard_warn(arg, 0);
}

static int
guard_open_reserve(void)
{
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void
guard_arm(struct accept_guard *g)
{
	struct timeval tv = {ACCEPT_GUARD_PAUSE_MS / 1000,
	                     (ACCEPT_GUARD_PAUSE_MS % 1000) * 1000};

	evtimer_add(g->timer, &tv);
}

/* The pause is over: resume if a descriptor is free (the reserve can be
 * had again), else wait another pause. */
static void
guard_retry(evutil_socket_t fd, short what, void *arg)
{
	struct accept_guard *g = arg;

	if (g->stopped)
		return;
	if (g->reserve < 0 && (g->reserve = guard_open_reserve()) < 0 &&
	    (errno == EMFILE || errno == ENFILE)) {
		guard_arm(g);
		return;
	}
	/* (A reserve that cannot be had for another reason, no /dev/null in
	 * a chroot say, only costs the 421: pausing still works.) */
	g->paused = false;
	g->listen(g->owner, true);
}

/* accept_guard_new - a guard with its reserve descriptor */
struct accept_guard *
accept_guard_new(struct event_base *base, accept_guard_listen_fn listen,
                 accept_guard_refuse_fn refuse, void *owner)
{
	struct accept_guard *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	g->timer = evtimer_new(base, guard_retry, g);
	g->flush = evtimer_new(base, guard_flush, g);
	if (g->timer == NULL || g->flush == NULL) {
		if (g->timer != NULL)
			event_free(g->timer);
		free(g);
		return NULL;
	}
	g->listen = listen;
	g->refuse = refuse;
	g->owner = owner;
	g->reserve = guard_open_reserve();
	return g;
}

/* accept_guard_error - accept() failed: refuse one, pause, warn */
void
accept_guard_error(struct accept_guard *g, evutil_socket_t lfd, int err,
                   void *larg)
{
	guard_warn(g, err);
	if ((err == EMFILE || err == ENFILE) && g->reserve >= 0) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd;

		close(g->reserve);
		g->reserve = -1;
		fd = accept4(lfd, (struct sockaddr *)&ss, &len,
		             SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			g->refuse(larg, fd, (struct sockaddr *)&ss, (int)len);
	}
	if (g->stopped)
		return;
	if (!g->paused) {
		g->paused = true;
		g->listen(g->owner, false);
	}
	if (!evtimer_pending(g->timer, NULL))
		guard_arm(g);
}

/* accept_guard_kick - a session ended (its descriptor is free): if
 * paused, try to resume now rather than at the end of the pause */
void
accept_guard_kick(struct accept_guard *g)
{
	if (!g->paused || g->stopped)
		return;
	evtimer_del(g->timer);
	guard_retry(-1, 0, g);
}

/* accept_guard_stop - the listeners are gone: never turn them on again */
void
accept_guard_stop(struct accept_guard *g)
{
	g->stopped = true;
	evtimer_del(g->timer);
}

/* accept_guard_free - close the reserve, drop the timer */
void
accept_guard_free(struct accept_guard *g)
{
	if (g == NULL)
		return;
	event_free(g->timer);
	event_free(g->flush);
	if (g->reserve >= 0)
		close(g->reserve);
	free(g);
}
