/*
 * server_stop.c - stopping the server: the graceful stop a signal starts
 * (no new connections; sessions told, or allowed to finish within the
 * grace period), and the same stop asked for from any thread
 * (--exit-after, through server_request_stop).
 *
 * Does: mark the server stopping and wake every worker (worker_wake in
 * server.c closes its listeners and tells its sessions). Does not: touch
 * a session itself (only its worker's thread does).
 */
#include <stdatomic.h>

#include <event2/event.h>

#include "log.h"
#include "server.h"

/* server_stop - the stop of SIGTERM, on the main thread; a second one
 * breaks every loop at once */
void
server_stop(struct server *srv)
{
	if (atomic_load(&srv->stopping)) {
		log_info("second signal: exiting now");
		for (size_t i = 0; i < srv->nworkers; i++)
			event_base_loopbreak(srv->workers[i]->base);
		return;
	}
	atomic_store(&srv->stopping, true);
	log_info("stopping: no new connections; %u session(s) to finish",
	         atomic_load(&srv->nsessions));
	for (size_t i = 0; i < srv->nworkers; i++)
		event_active(srv->workers[i]->wake, EV_TIMEOUT, 0);
}

/* On the main thread, once: a stop asked for by server_request_stop. */
static void
server_stop_requested(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	if (!atomic_load(&srv->stopping))
		server_stop(srv);
}

/* server_request_stop - a graceful stop, from any thread */
void
server_request_stop(struct server *srv)
{
	if (atomic_exchange(&srv->stop_requested, true))
		return;
	if (event_base_once(srv->base, -1, EV_TIMEOUT, server_stop_requested,
	                    srv, NULL) == -1)
		log_warnx("cannot ask the main loop to stop");
}
