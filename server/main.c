/*
 * main.c - smtp-mimic's command line: flags, start-up checks, and the
 * order of set-up and tear-down (libevent's sample/hello-world.c style).
 *
 * Every start-up problem ends here with one line naming the file, line and
 * column or the flag, and exit status 1 (2 for a usage error). Does not:
 * serve anything itself (server.c).
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/rand.h>

#include "log.h"
#include "mem.h"
#include "profile.h"
#include "server.h"
#include "spool.h"
#include "tls_policy.h"
#include "transcript.h"

#define MAX_LISTEN 32
#define MAX_DIRS   16
#define MAX_VIA    8

static const char usage_text[] =
    "usage: smtp-mimic [options]\n"
    "\n"
    "A mock SMTP server that plays a specific mail peer, byte for byte, from "
    "a\n"
    "profile file, and writes a transcript that proves what crossed the wire.\n"
    "\n"
    "Profile:\n"
    "  -p, --profile NAME|FILE   behaviour profile (default: standard)\n"
    "  -P, --profile-path DIR    search DIR for profiles first (repeatable)\n"
    "  -L, --list-profiles       list the profiles found, with descriptions\n"
    "      --via NAME|FILE       put a middlebox (firewall) between the client "
    "and\n"
    "                            the server, e.g. asa-esmtp-inspect "
    "(repeatable:\n"
    "                            the first is nearest the client; these come "
    "in\n"
    "                            front of the profile's own via: list)\n"
    "      --via none            drop the profile's own middleboxes (the\n"
    "                            firewall fixed: \"no inspect esmtp\")\n"
    "  -c, --check               validate the profile, explain it, exit 0 or "
    "1\n"
    "\n"
    "Network:\n"
    "  -l, --listen [ADDR:]PORT  listen here (repeatable; IPv6 as [::1]:2525;\n"
    "                            default 127.0.0.1:2525, loopback only)\n"
    "      --max-sessions N      override the profile's limits.max_sessions\n"
    "      --workers N           event loops, one thread each (default: one "
    "per\n"
    "                            CPU); a session stays on the loop that took "
    "it\n"
    "  -u, --user NAME           drop root to NAME after binding (port 25)\n"
    "      PORT/tls              (as a --listen suffix) implicit TLS, port 465 "
    "style\n"
    "\n"
    "TLS (for profiles with a tls: section):\n"
    "      --cert FILE           PEM certificate (chain allowed) instead of "
    "the\n"
    "                            self-signed one generated in memory at start\n"
    "      --key FILE            PEM private key for --cert\n"
    "      --write-cert DIR      write the certificate and key in use to DIR\n"
    "                            (keys are never written unless asked)\n"
    "\n"
    "Output:\n"
    "  -s, --spool DIR|none      maildir for accepted messages (default "
    "./spool;\n"
    "                            envelopes in DIR/envelope); none = discard\n"
    "  -t, --transcript FILE|-   also write JSON Lines events (- = stdout)\n"
    "  -v, --verbose             also state changes, data sizes (both\n"
    "                            transcripts) and spool ids (stderr)\n"
    "  -q, --quiet               no readable transcript on stderr\n"
    "      --seed N              seed for rule probabilities (printed at "
    "start)\n"
    "\n"
    "  -V, --version             print the version\n"
    "  -h, --help                this text\n"
    "\n"
    "Examples:\n"
    "  smtp-mimic --profile esa                 # a Cisco ESA on "
    "127.0.0.1:2525\n"
    "  swaks --server 127.0.0.1:2525 --to a@b.test\n"
    "  smtp-mimic --profile exchange2013 --check   # what will it say?\n"
    "  smtp-mimic -q --spool none -t events.jsonl  # sink for load tests\n"
    "\n"
    "Signals: TERM/INT stop (sessions in DATA may finish); HUP reloads the\n"
    "profile for new sessions. See smtp-mimic(1) for the profile schema.\n";

enum {
	OPT_MAX_SESSIONS = 256,
	OPT_SEED,
	OPT_CERT,
	OPT_KEY,
	OPT_WRITE_CERT,
	OPT_VIA,
	OPT_WORKERS,
};

static const struct option long_options[] = {
    {"profile", required_argument, NULL, 'p'},
    {"profile-path", required_argument, NULL, 'P'},
    {"list-profiles", no_argument, NULL, 'L'},
    {"check", no_argument, NULL, 'c'},
    {"listen", required_argument, NULL, 'l'},
    {"max-sessions", required_argument, NULL, OPT_MAX_SESSIONS},
    {"user", required_argument, NULL, 'u'},
    {"spool", required_argument, NULL, 's'},
    {"transcript", required_argument, NULL, 't'},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"seed", required_argument, NULL, OPT_SEED},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"write-cert", required_argument, NULL, OPT_WRITE_CERT},
    {"via", required_argument, NULL, OPT_VIA},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "smtp-mimic: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'smtp-mimic --help'.\n");
	exit(2);
}

static unsigned long long
parse_number(const char *flag, const char *s, unsigned long long max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0 || v > max) {
		fprintf(stderr,
		        "smtp-mimic: %s %s: not a number between 0 and %llu\n",
		        flag, s, max);
		exit(2);
	}
	return v;
}

/* Directories searched for profile NAMEs, in order. */
static size_t
profile_dirs(const char **dirs, size_t n, size_t max)
{
	static char share[PATH_MAX + 64], tree[PATH_MAX + 64];
	char exe[PATH_MAX];
	ssize_t len;

	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len > 0) {
		exe[len] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash != NULL)
			*slash = '\0';
		snprintf(share, sizeof(share),
		         "%s/../share/smtp-mimic/profiles", exe);
		snprintf(tree, sizeof(tree), "%s/../profiles", exe);
		if (n < max)
			dirs[n++] = share;
		if (n < max)
			dirs[n++] =
			    tree; /* a build directory inside the repo */
	}
	if (n < max)
		dirs[n++] = SMTP_MIMIC_PROFILE_DIR;
	return n;
}

/* Give the spool to the user we drop to, then drop root for good. */
static void
drop_privileges(const char *user, const char *spool)
{
	static const char *sub[] = {"", "/tmp", "/new", "/cur", "/envelope"};
	struct passwd *pw;
	char path[PATH_MAX];

	if ((pw = getpwnam(user)) == NULL)
		log_fatal("--user %s: no such user", user);
	if (spool != NULL && strcmp(spool, "none") != 0) {
		for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
			snprintf(path, sizeof(path), "%s%s", spool, sub[i]);
			if (chown(path, pw->pw_uid, pw->pw_gid) == -1)
				log_fatal("--user %s: cannot give %s to it: %s",
				          user, path, strerror(errno));
		}
	}
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1)
		log_fatal("--user %s: cannot drop privileges: %s", user,
		          strerror(errno));
	if (setuid(0) != -1)
		log_fatal("--user %s: could regain root; refusing to run",
		          user);
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

int
main(int argc, char *argv[])
{
	const char *profile_name = "standard", *spool_dir = "spool";
	const char *transcript_path = NULL, *user = NULL;
	const char *cert = NULL, *key = NULL, *write_cert = NULL;
	const char *listen[MAX_LISTEN], *dirs[MAX_DIRS];
	const char *via[MAX_VIA];
	size_t nlisten = 0, ndirs = 0, nvia = 0;
	bool no_profile_via = false;
	struct profile *boxes[MAX_VIA];
	bool check = false, list = false, verbose = false, quiet = false;
	bool seed_given = false;
	unsigned long long seed = 0;
	unsigned max_sessions = 0, workers = 0;
	char err[1024];
	struct profile *profile;
	struct spool *spool;
	struct event_base *base;
	struct server *srv;
	struct server_config cfg;
	int ch, status;

	/* Before anything of libevent's is allocated. */
	mem_libevent();
	while ((ch = getopt_long(argc, argv, "p:P:Lcl:u:s:t:vqVh", long_options,
	                         NULL)) != -1) {
		switch (ch) {
		case 'p':
			profile_name = optarg;
			break;
		case 'P':
			if (ndirs == MAX_DIRS - 4)
				usage_error("too many --profile-path (max %s)",
				            "12");
			dirs[ndirs++] = optarg;
			break;
		case 'L':
			list = true;
			break;
		case 'c':
			check = true;
			break;
		case 'l':
			if (nlisten == MAX_LISTEN)
				usage_error("too many --listen (max %s)", "32");
			listen[nlisten++] = optarg;
			break;
		case OPT_MAX_SESSIONS:
			max_sessions = (unsigned)parse_number("--max-sessions",
			                                      optarg, 10000000);
			break;
		case 'u':
			user = optarg;
			break;
		case 's':
			spool_dir = optarg;
			break;
		case 't':
			transcript_path = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'q':
			quiet = true;
			break;
		case OPT_SEED:
			seed = parse_number("--seed", optarg, ULLONG_MAX);
			seed_given = true;
			break;
		case OPT_CERT:
			cert = optarg;
			break;
		case OPT_KEY:
			key = optarg;
			break;
		case OPT_WRITE_CERT:
			write_cert = optarg;
			break;
		case OPT_WORKERS:
			workers =
			    (unsigned)parse_number("--workers", optarg, 256);
			if (workers == 0)
				usage_error("--workers %s: at least 1", optarg);
			break;
		case OPT_VIA:
			if (strcmp(optarg, "none") == 0) {
				no_profile_via = true;
				break;
			}
			if (nvia == MAX_VIA)
				usage_error("too many --via (max %s)", "8");
			via[nvia++] = optarg;
			break;
		case 'V':
			printf("smtp-mimic %s\n", SMTP_MIMIC_VERSION);
			return 0;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'smtp-mimic --help'.\n");
			return 2;
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s' (flags start with -)",
		            argv[optind]);
	log_init(verbose, quiet);
	ndirs = profile_dirs(dirs, ndirs, MAX_DIRS);

	if (list) {
		profile_list(dirs, ndirs, stdout);
		return 0;
	}
	profile = profile_load(profile_name, dirs, ndirs, err, sizeof(err));
	if (profile == NULL) {
		/* A middlebox NAME is not found as a server: say what it is. */
		char err2[1024];
		profile = profile_load_middlebox(profile_name, dirs, ndirs,
		                                 err2, sizeof(err2));
		if (profile == NULL) {
			fprintf(stderr, "smtp-mimic: %s\n", err);
			return 1;
		}
	}
	if (profile->mbox != NULL) {
		fprintf(stderr,
		        "smtp-mimic: --profile %s: %s is a middlebox (kind: "
		        "middlebox), not a server; put it in front of one with "
		        "--via %s\n",
		        profile_name, profile->path, profile_name);
		profile_unref(profile);
		return 1;
	}
	for (size_t i = 0; i < nvia; i++) {
		boxes[i] = profile_load_middlebox(via[i], dirs, ndirs, err,
		                                  sizeof(err));
		if (boxes[i] == NULL) {
			fprintf(stderr, "smtp-mimic: --via %s: %s\n", via[i],
			        err);
			while (i > 0)
				profile_unref(boxes[--i]);
			profile_unref(profile);
			return 1;
		}
	}
	if ((cert == NULL) != (key == NULL))
		usage_error("%s needs both --cert and --key",
		            cert ? "--cert" : "--key");
	if (server_prepare_tls(profile, cert, key, err, sizeof(err)) == -1) {
		fprintf(stderr, "smtp-mimic: %s\n", err);
		for (size_t i = 0; i < nvia; i++)
			profile_unref(boxes[i]);
		profile_unref(profile);
		return 1;
	}
	if (write_cert != NULL) {
		if (profile->tls_policy == NULL)
			log_fatal(
			    "--write-cert %s: profile %s has no tls: section",
			    write_cert, profile->name);
		if (tls_policy_write_cert(profile->tls_policy, write_cert, err,
		                          sizeof(err)) == -1)
			log_fatal("--write-cert %s: %s", write_cert, err);
	}
	if (check) {
		for (size_t i = 0; i < nvia; i++) {
			printf(
			    "Middlebox --via %s (nearest the client first)\n",
			    via[i]);
			profile_summary(boxes[i], true, stdout);
			printf("\n");
		}
		if (no_profile_via && profile->nvia != 0) {
			/* Explain the path the sessions will really have. */
			profile_summary(profile, false, stdout);
			printf(
			    "  (--via none: the profile's own middleboxes are "
			    "not in the path)\n");
		} else
			profile_summary(profile, true, stdout);
		if (profile->tls_policy != NULL) {
			printf("\nWhat the linked OpenSSL will offer\n");
			tls_policy_describe(profile->tls_policy, stdout);
		}
		printf("\nprofile %s: OK\n", profile->name);
		for (size_t i = 0; i < nvia; i++)
			profile_unref(boxes[i]);
		profile_unref(profile);
		return 0;
	}
	if (!seed_given &&
	    RAND_bytes((unsigned char *)&seed, sizeof(seed)) != 1)
		seed = (unsigned long long)getpid() ^
		       (unsigned long long)time(NULL);
	if (nlisten == 0)
		listen[nlisten++] = "127.0.0.1:2525";

	signal(SIGPIPE, SIG_IGN);
	if (workers == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		workers = n > 0 ? (unsigned)(n < 64 ? n : 64) : 1;
	}
	event_set_log_callback(libevent_log);
	/* Every event base may be poked from another thread (stop). */
	if (evthread_use_pthreads() == -1)
		log_fatal("cannot set up libevent for threads");
	if ((base = event_base_new()) == NULL)
		log_fatal("cannot create the event loop");
	cfg = (struct server_config){
	    .profile_name = profile_name,
	    .dirs = dirs,
	    .ndirs = ndirs,
	    .max_sessions = max_sessions,
	    .seed = seed,
	    .grace_ms = 10000,
	    .cert_file = cert,
	    .key_file = key,
	    .no_profile_via = no_profile_via,
	    .via = boxes,
	    .nvia = nvia,
	    .workers = workers,
	};
	if ((spool = spool_open(spool_dir, err, sizeof(err))) == NULL)
		log_fatal("--spool %s: %s", spool_dir, err);
	if (transcript_open(!quiet, verbose, transcript_path, err,
	                    sizeof(err)) == -1)
		log_fatal("--transcript %s: %s", transcript_path, err);
	if ((srv = server_new(base, &cfg, profile, spool)) == NULL)
		log_fatal("out of memory");
	for (size_t i = 0; i < nlisten; i++) {
		if (server_listen(srv, listen[i], err, sizeof(err)) == -1)
			log_fatal("%s", err);
	}
	if (user != NULL)
		drop_privileges(user, spool_dir);

	log_info("%s: profile %s (%s), spool %s, seed %llu", SMTP_MIMIC_VERSION,
	         profile->name, profile->path, spool_dir, seed);
	for (size_t i = 0; i < nlisten; i++)
		log_info("listening on %s (%u worker%s)", listen[i], workers,
		         workers == 1 ? "" : "s");
	status = server_run(srv);

	server_free(srv);
	for (size_t i = 0; i < nvia; i++)
		profile_unref(boxes[i]);
	spool_close(spool);
	transcript_close();
	event_base_free(base);
	return status;
}
