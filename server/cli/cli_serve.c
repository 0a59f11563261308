/*
 * cli_serve.c - serving: the order of set-up and tear-down around the
 * server (libevent's sample/hello-world.c style).
 *
 * Does: load (cli_profile.c), check every --listen before anything is
 * created, then the seed, the event loops, spool, transcript, server and
 * its listeners, dropping root (--user), the start-up lines ("listening
 * on" with the address and port really bound), the ready file, and
 * tear-down after the last signal (or --exit-after), with --expect and
 * --summary last (cli_ci.c). Does not: accept or speak SMTP (daemon/, smtp/).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/rand.h>

#include "cli.h"
#include "grey_store.h"
#include "http.h"
#include "listen_addr.h"
#include "log.h"
#include "profile.h"
#include "server.h"
#include "spool.h"
#include "stats.h"
#include "transcript.h"

/* Who --user names, looked up once (before spool_open_as gives it the
 * directories it creates). */
static struct spool_owner
lookup_user(const char *user)
{
	struct passwd *pw;

	if ((pw = getpwnam(user)) == NULL)
		log_fatal("--user %s: no such user", user);
	return (struct spool_owner){pw->pw_uid, pw->pw_gid, user};
}

/* Drop root for good; the listeners are bound, no client byte read yet.
 * The spool was made fit for the user by spool_open_as; nothing is
 * chowned here. */
static void
drop_privileges(const struct spool_owner *own, const struct spool *spool,
                const char *spool_flag)
{
	char err[512];

	if (initgroups(own->name, own->gid) == -1 || setgid(own->gid) == -1 ||
	    setuid(own->uid) == -1)
		log_fatal("--user %s: cannot drop privileges: %s", own->name,
		          strerror(errno));
	if (own->uid != 0 && setuid(0) != -1)
		log_fatal("--user %s: could regain root; refusing to run",
		          own->name);
	if (spool_check_access(spool, err, sizeof(err)) == -1)
		log_fatal("--spool %s: %s", spool_flag, err);
}

/* libevent's own messages: into our log. Suspending a handshake from the
 * ClientHello callback (a silent drop) is reported by libevent's OpenSSL
 * layer as an unexpected error code 11; it is expected here. */
static void
libevent_log(int severity, const char *msg)
{
	if (strstr(msg, "Unexpected OpenSSL error code 11") != NULL ||
	    severity < EVENT_LOG_WARN)
		log_debug("libevent: %s", msg);
	else
		log_warnx("libevent: %s", msg);
}

/* --state-file: written when it changed, once a second (main thread) */
static void
state_save_cb(evutil_socket_t fd, short what, void *arg)
{
	static bool failing;
	char err[512];

	if (grey_store_save(arg, err, sizeof(err)) == -1) {
		if (!failing)
			log_warnx("--state-file: %s", err);
		failing = true;
	} else
		failing = false;
}

/*
 * Half the CPUs, at least one, at most 32: the other half is the load
 * client's, which in CI and on a tester's laptop shares the machine. On
 * 2 CPUs with the client beside it, 2 workers lost to 1 (0.89x connection
 * per message, scripts/bench.sh --workers-sweep); 1 of 2 never lost.
 */
static unsigned
default_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN) / 2;

	return n > 1 ? (unsigned)(n < 32 ? n : 32) : 1;
}

/* cli_serve - serve until stopped; returns the exit status */
int
cli_serve(const struct cli *c)
{
	const char *listen[CLI_MAX_LISTEN];
	size_t nlisten = c->nlisten, bound[CLI_MAX_LISTEN + 1];
	unsigned long long seed = c->seed;
	unsigned workers = c->workers ? c->workers : default_workers();
	struct listen_addr la;
	struct cli_profile lp;
	struct server_config cfg;
	struct spool *spool;
	struct spool_owner own;
	struct event_base *base;
	struct server *srv;
	struct http_api *api = NULL;
	struct grey_store *store;
	struct event *state_timer = NULL;
	const struct timeval every_second = {1, 0};
	struct stats *stats = NULL; /* --summary, --expect (and --http) */
	char err[1024], http_name[96];
	int status;

	if ((status = cli_profile_load(c, &lp)) != 0)
		return status;
	/* Rules may be added later over --http (POST /api/v1/rules). */
	if ((status = cli_ci_start(c, &lp, c->http != NULL)) != 0) {
		cli_profile_free(&lp);
		return status;
	}
	for (size_t i = 0; i < nlisten; i++)
		listen[i] = c->listen[i];
	if (nlisten == 0)
		listen[nlisten++] = CLI_DEFAULT_LISTEN;
	/* A mistyped --listen stops us before the spool is created. */
	for (size_t i = 0; i < nlisten; i++)
		if (server_check_listen(lp.profile, listen[i], &la, err,
		                        sizeof(err)) == -1)
			log_fatal("%s", err);
	if (!c->seed_given &&
	    RAND_bytes((unsigned char *)&seed, sizeof(seed)) != 1)
		seed = (unsigned long long)getpid() ^
		       (unsigned long long)time(NULL);

	signal(SIGPIPE, SIG_IGN);
	event_set_log_callback(libevent_log);
	/* Every event base may be poked from another thread (stop). */
	if (evthread_use_pthreads() == -1)
		log_fatal("cannot set up libevent for threads");
	if ((base = event_base_new()) == NULL)
		log_fatal("cannot create the event loop");
	cfg = (struct server_config){
	    .profile_name = c->profile_name,
	    .dirs = c->dirs,
	    .ndirs = c->ndirs,
	    .max_sessions = c->max_sessions,
	    .seed = seed,
	    .grace_ms = c->grace_s * 1000,
	    .cert_file = c->cert,
	    .key_file = c->key,
	    .no_profile_via = c->no_profile_via,
	    .via = lp.boxes,
	    .nvia = lp.nboxes,
	    .workers = workers,
	    .proxy_protocol = c->proxy_protocol,
	};
	if (c->user != NULL)
		own = lookup_user(c->user);
	if ((spool = spool_open_as(c->spool_dir, c->user ? &own : NULL, err,
	                           sizeof(err))) == NULL)
		log_fatal("--spool %s: %s", c->spool_dir, err);
	/* Greylisting and fail_first state, shared by every worker. */
	if ((store = grey_store_open(c->state_file, err, sizeof(err))) == NULL)
		log_fatal("--state-file %s", err);
	cfg.store = store;
	if (c->state_file != NULL &&
	    ((state_timer = event_new(base, -1, EV_PERSIST, state_save_cb,
	                              store)) == NULL ||
	     event_add(state_timer, &every_second) == -1))
		log_fatal("cannot set up the state file's timer");
	if (transcript_open(!c->quiet, c->verbose, c->transcript_path, err,
	                    sizeof(err)) == -1)
		log_fatal("--transcript %s: %s", c->transcript_path, err);
	/* A tap makes every event a JSON object: only when counted. */
	if ((cli_ci_wants_stats(c) || c->http != NULL) &&
	    ((stats = stats_new()) == NULL ||
	     transcript_add_tap_ev(stats_tap, stats_tap_ev, stats) == -1))
		log_fatal("cannot set up the counters");
	/* The server owns the profile from here on. */
	if ((srv = server_new(base, &cfg, lp.profile, spool)) == NULL)
		log_fatal("out of memory");
	lp.profile = NULL;
	srv->stop_after = c->exit_after;
	bound[0] = 0;
	for (size_t i = 0; i < nlisten; i++) {
		if (server_listen(srv, listen[i], err, sizeof(err)) == -1)
			log_fatal("%s", err);
		bound[i + 1] = server_bound(srv);
	}
	/* --http: bound as root too, before any worker emits an event */
	if (c->http != NULL) {
		struct http_config hc = {
		    .addr_port = c->http,
		    .token_file = c->http_token,
		    .web_root = c->web_root,
		    .spool_dir = spool_is_sink(spool) ? NULL : c->spool_dir,
		    .profile_dirs = c->dirs,
		    .nprofile_dirs = c->ndirs,
		};

		if ((api = http_api_start(&hc, srv, stats, err, sizeof(err))) ==
		    NULL)
			log_fatal("%s", err);
	}
	/* Before server_run: workers and the first accept come after. */
	if (c->user != NULL)
		drop_privileges(&own, spool, c->spool_dir);

	log_info("%s: profile %s (%s), spool %s, seed %llu", SMTP_MIMIC_VERSION,
	         srv->profile->name, srv->profile->path, c->spool_dir, seed);
	for (size_t i = 0; i < nlisten; i++) {
		for (size_t k = bound[i]; k < bound[i + 1]; k++) {
			char name[96];

			server_bound_name(srv, k, name, sizeof(name));
			/* The flag's text too when it is not what was bound
			 * (a bare port, localhost, port 0). */
			if (strcmp(name, listen[i]) == 0)
				log_info("listening on %s (%u worker%s)", name,
				         workers, workers == 1 ? "" : "s");
			else
				log_info("listening on %s (--listen %s, %u "
				         "worker%s)",
				         name, listen[i], workers,
				         workers == 1 ? "" : "s");
		}
	}
	http_name[0] = '\0';
	if (api != NULL) {
		http_api_bound(api, http_name, sizeof(http_name));
		if (strcmp(http_name, c->http) == 0)
			log_info("listening on http://%s (HTTP API)",
			         http_name);
		else
			log_info("listening on http://%s (HTTP API, --http %s)",
			         http_name, c->http);
	}
	cli_ci_ready(c, srv, api != NULL ? http_name : NULL);
	status = server_run(srv);

	server_free(srv);
	if (state_timer != NULL)
		event_free(state_timer);
	if (grey_store_save(store, err, sizeof(err)) == -1)
		log_warnx("--state-file: %s", err);
	grey_store_free(store);
	http_api_stop(api);
	/* Sessions abandoned by server_free have closed: count them too. */
	status = cli_ci_finish(c, stats, status);
	cli_profile_free(&lp);
	spool_close(spool);
	transcript_close();
	stats_free(stats);
	event_base_free(base);
	return status;
}
