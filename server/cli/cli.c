/*
 * cli.c - the flags: --help's text, getopt, the numbers and directories
 * they name, and the profile search path.
 *
 * Does: read argv into struct cli, reject usage errors (exit 2, "Try
 * 'smtp-mimic --help'") and a --profile-path that is not a directory
 * (exit 1), and append the built-in search directories after the flags'.
 * The CI flags' values are read by cli_ci.c.
 * Does not: load a profile or open anything (cli_profile.c, cli_serve.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <yaml.h>

#include "cli.h"
#include "log.h"
#include "proxy_proto.h"

static const char usage_text[] =
    "usage: smtp-mimic [options]\n"
    "\n"
    "A mock SMTP server that plays a specific mail peer, byte for byte, from "
    "a\n"
    "profile file, and writes a transcript that proves what crossed the wire.\n"
    "\n"
    "Profile:\n"
    "  -p, --profile NAME|FILE   behaviour profile (default: standard)\n"
    "  -P, --profile-path DIR    search DIR for profiles first (repeatable; "
    "DIR\n"
    "                            must exist; the built-in places are listed\n"
    "                            at the end of this text)\n"
    "  -L, --list-profiles       list the profiles found, with descriptions\n"
    "                            (exit 1, naming each place, if none is)\n"
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
    "1;\n"
    "                            with --listen, also the addresses it would\n"
    "                            bind\n"
    "\n"
    "Network:\n"
    "  -l, --listen [ADDR:]PORT  listen here (repeatable; IPv6 as [::1]:2525;\n"
    "                            default 127.0.0.1:2525, loopback only)\n"
    "                            ADDR: an IPv4 address, [IPv6] or localhost\n"
    "                            (every loopback address it resolves to);\n"
    "                            PORT 0 (or :0): the kernel picks one, shown\n"
    "                            in the \"listening on\" line and the "
    "ready file\n"
    "      --max-sessions N      override the profile's limits.max_sessions\n"
    "      --workers N           event loops, one thread each (default: half "
    "the\n"
    "                            CPUs, the rest left to a load client); a "
    "session\n"
    "                            stays on the loop that took it\n"
    "      --grace SECONDS       after TERM/INT, how long a session in DATA "
    "may\n"
    "                            finish before it gets the profile's "
    "shutdown\n"
    "                            reply and is closed (default 10)\n"
    "  -u, --user NAME           drop root to NAME after binding (port 25)\n"
    "      PORT/tls              (as a --listen suffix) implicit TLS, port 465 "
    "style\n"
    "      --proxy-protocol[=v1|v2|any]\n"
    "                            behind a TCP load balancer (HAProxy\n"
    "                            send-proxy / send-proxy-v2): every "
    "connection\n"
    "                            starts with a PROXY protocol header, whose\n"
    "                            source is the client (transcript, limits);\n"
    "                            no version given: any (v1 or v2)\n"
    "\n"
    "HTTP API (off by default; see smtp-mimic(1)):\n"
    "      --http [ADDR:]PORT    serve the HTTP API and web view (ADDR "
    "default\n"
    "                            127.0.0.1; PORT 0: the kernel picks one)\n"
    "      --http-token FILE     every request needs Authorization: Bearer\n"
    "                            TOKEN (FILE's first line); needed for a\n"
    "                            non-loopback ADDR\n"
    "      --web-root DIR        serve the web view from DIR\n"
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
    "      --state-file FILE     keep greylisting and fail_first counts in "
    "FILE\n"
    "                            across restarts (written atomically)\n"
    "  -v, --verbose             also state changes, data sizes (both\n"
    "                            transcripts) and spool ids (stderr)\n"
    "  -q, --quiet               no readable transcript on stderr\n"
    "      --seed N              seed for rule probabilities (printed at "
    "start)\n"
    "\n"
    "For CI (exit status 3: an --expect was not met; 1: an error; 2: a bad\n"
    "flag):\n"
    "      --ready-file FILE     once listening, write FILE (atomically) "
    "with\n"
    "                            the bound addresses as JSON, also with -q:\n"
    "                            --listen 127.0.0.1:0 --ready-file "
    "ready.json\n"
    "      --exit-after N        stop gracefully after N messages accepted,\n"
    "                            exit 0: --exit-after 2\n"
    "      --expect NAME[=N]     at exit, rule NAME must have fired (exactly "
    "N\n"
    "                            times); '!NAME': never (repeatable):\n"
    "                            --expect CSCwh48138 --expect '!other'\n"
    "      --summary FILE        at exit, write the counters as JSON "
    "(sessions,\n"
    "                            messages, rule firings, closes, TLS, "
    "bytes,\n"
    "                            expectations): --summary summary.json\n"
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
    "  smtp-mimic --listen localhost:0          # any free port on "
    "loopback\n"
    "  smtp-mimic -q -p exchange2013 --listen :0 --ready-file r.json \\\n"
    "      --exit-after 1 --expect '!tarpit-unknown-recipient'  # in CI\n"
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
	OPT_GRACE,
	OPT_HTTP,
	OPT_HTTP_TOKEN,
	OPT_WEB_ROOT,
	OPT_STATE_FILE,
	OPT_PROXY_PROTOCOL,
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
    {"state-file", required_argument, NULL, OPT_STATE_FILE},
    {"proxy-protocol", optional_argument, NULL, OPT_PROXY_PROTOCOL},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"seed", required_argument, NULL, OPT_SEED},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"write-cert", required_argument, NULL, OPT_WRITE_CERT},
    {"via", required_argument, NULL, OPT_VIA},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"grace", required_argument, NULL, OPT_GRACE},
    {"http", required_argument, NULL, OPT_HTTP},
    {"http-token", required_argument, NULL, OPT_HTTP_TOKEN},
    {"web-root", required_argument, NULL, OPT_WEB_ROOT},
    {"ready-file", required_argument, NULL, CLI_OPT_READY_FILE},
    {"exit-after", required_argument, NULL, CLI_OPT_EXIT_AFTER},
    {"expect", required_argument, NULL, CLI_OPT_EXPECT},
    {"summary", required_argument, NULL, CLI_OPT_SUMMARY},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "smtp-mimic: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'smtp-mimic --help'.\n");
	return 2;
}

/* 0 with *v set, or 2 after the message. */
static int
parse_number(const char *flag, const char *s, unsigned long long max,
             unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0 || *v > max) {
		fprintf(stderr,
		        "smtp-mimic: %s %s: not a number between 0 and %llu\n",
		        flag, s, max);
		return 2;
	}
	return 0;
}

/* --proxy-protocol[=v1|v2|any]: the header versions accepted (bare: any),
 * as PROXY_PROTO_V1 and _V2 bits. */
static int
parse_proxy_protocol(struct cli *c, const char *arg)
{
	if (arg == NULL || strcmp(arg, "any") == 0)
		c->proxy_protocol = PROXY_PROTO_ANY;
	else if (strcmp(arg, "v1") == 0)
		c->proxy_protocol = PROXY_PROTO_V1;
	else if (strcmp(arg, "v2") == 0)
		c->proxy_protocol = PROXY_PROTO_V2;
	else
		return usage_error("--proxy-protocol=%s: not v1, v2 or any",
		                   arg);
	return -1;
}

/* Two names for one directory? (Either may not exist.) */
static bool
same_dir(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];

	if (strcmp(a, b) == 0)
		return true;
	return realpath(a, ra) != NULL && realpath(b, rb) != NULL &&
	       strcmp(ra, rb) == 0;
}

static void
add_dir(struct cli *c, const char *dir, const char *origin)
{
	for (size_t i = 0; i < c->ndirs; i++)
		if (same_dir(c->dirs[i], dir))
			return;
	if (c->ndirs < CLI_MAX_DIRS) {
		c->origins[c->ndirs] = origin;
		c->dirs[c->ndirs++] = dir;
	}
}

/*
 * After the --profile-path dirs: the site's own profiles (SYSCONFDIR/
 * smtp-mimic/profiles, kept across upgrades), then the install dir, first
 * as seen from the
 * binary if it is there (an install moved to another prefix), then the
 * configured one; then the source tree's profiles/, so that a binary built
 * anywhere (cmake -B /elsewhere) still finds the shipped profiles.
 */
static void
cli_dirs(struct cli *c)
{
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	add_dir(c, SMTP_MIMIC_SITE_PROFILE_DIR, "site");
	if (len > 0) {
		char *slash;
		exe[len] = '\0';
		/* BIN/smtp-mimic -> the prefix above BIN */
		for (int up = 0; up < 2; up++)
			if ((slash = strrchr(exe, '/')) != NULL)
				*slash = '\0';
		snprintf(c->share_dir, sizeof(c->share_dir),
		         "%s/share/smtp-mimic/profiles", exe);
		if (access(c->share_dir, F_OK) == 0)
			add_dir(c, c->share_dir, "shipped");
	}
	add_dir(c, SMTP_MIMIC_PROFILE_DIR, "shipped");
	add_dir(c, SMTP_MIMIC_SOURCE_PROFILE_DIR, "source tree");
}

/* A --profile-path that names no directory is a mistake worth stopping
 * for: it would otherwise hide the profile the user meant. */
static int
check_flag_dir(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) == -1) {
		if (errno == ENOENT)
			fprintf(stderr,
			        "smtp-mimic: --profile-path %s: no such "
			        "directory\n",
			        dir);
		else
			fprintf(stderr, "smtp-mimic: --profile-path %s: %s\n",
			        dir, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr,
		        "smtp-mimic: --profile-path %s: not a directory\n",
		        dir);
		return 1;
	}
	return 0;
}

/* --version: ours, then the libraries as linked at run time (not the
 * headers built against); the OpenSSL line is the one --check prints. */
static void
print_version(void)
{
	printf("smtp-mimic %s\n", SMTP_MIMIC_VERSION);
	printf("  OpenSSL: %s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("  libevent: %s\n", event_get_version());
	printf("  libyaml: %s\n", yaml_get_version_string());
	printf("  jansson: %s\n", jansson_version_str());
}

static void
print_help(struct cli *c)
{
	size_t flag_dirs = c->ndirs;

	fputs(usage_text, stdout);
	cli_dirs(c);
	printf("\nProfiles are looked up in each --profile-path DIR, then "
	       "in:\n");
	for (size_t i = flag_dirs; i < c->ndirs; i++)
		printf("  %s\n", c->dirs[i]);
}

/* One flag; -1 to go on, else the exit status. */
static int
cli_flag(struct cli *c, int ch, const char *arg)
{
	unsigned long long v;

	switch (ch) {
	case 'p':
		c->profile_name = arg;
		return -1;
	case 'P':
		if (c->ndirs == CLI_MAX_FLAG_DIRS)
			return usage_error("too many --profile-path (max %s)",
			                   "12");
		c->origins[c->ndirs] = "-P";
		c->dirs[c->ndirs++] = arg;
		return -1;
	case 'L':
		c->mode = CLI_LIST;
		return -1;
	case 'c':
		c->mode = CLI_CHECK;
		return -1;
	case 'l':
		if (c->nlisten == CLI_MAX_LISTEN)
			return usage_error("too many --listen (max %s)", "32");
		c->listen[c->nlisten++] = arg;
		return -1;
	case OPT_MAX_SESSIONS:
		if (parse_number("--max-sessions", arg, 10000000, &v) != 0)
			return 2;
		c->max_sessions = (unsigned)v;
		return -1;
	case 'u':
		c->user = arg;
		return -1;
	case 's':
		c->spool_dir = arg;
		return -1;
	case 't':
		c->transcript_path = arg;
		return -1;
	case OPT_STATE_FILE:
		c->state_file = arg;
		return -1;
	case OPT_PROXY_PROTOCOL:
		return parse_proxy_protocol(c, arg);
	case 'v':
		c->verbose = true;
		return -1;
	case 'q':
		c->quiet = true;
		return -1;
	case OPT_SEED:
		if (parse_number("--seed", arg, ULLONG_MAX, &c->seed) != 0)
			return 2;
		c->seed_given = true;
		return -1;
	case OPT_CERT:
		c->cert = arg;
		return -1;
	case OPT_KEY:
		c->key = arg;
		return -1;
	case OPT_WRITE_CERT:
		c->write_cert = arg;
		return -1;
	case OPT_WORKERS:
		if (parse_number("--workers", arg, 256, &v) != 0)
			return 2;
		if (v == 0)
			return usage_error("--workers %s: at least 1", arg);
		c->workers = (unsigned)v;
		return -1;
	case OPT_GRACE:
		if (parse_number("--grace", arg, 3600, &v) != 0)
			return 2;
		c->grace_s = (unsigned)v;
		return -1;
	case OPT_HTTP:
		c->http = arg;
		return -1;
	case OPT_HTTP_TOKEN:
		c->http_token = arg;
		return -1;
	case OPT_WEB_ROOT:
		c->web_root = arg;
		return -1;
	case OPT_VIA:
		if (strcmp(arg, "none") == 0) {
			c->no_profile_via = true;
			return -1;
		}
		if (c->nvia == CLI_MAX_VIA)
			return usage_error("too many --via (max %s)", "8");
		c->via[c->nvia++] = arg;
		return -1;
	case CLI_OPT_READY_FILE:
	case CLI_OPT_EXIT_AFTER:
	case CLI_OPT_EXPECT:
	case CLI_OPT_SUMMARY:
		return cli_ci_flag(c, ch, arg);
	case 'V':
		print_version();
		return 0;
	case 'h':
		print_help(c);
		return 0;
	default:
		fprintf(stderr, "Try 'smtp-mimic --help'.\n");
		return 2;
	}
}

/* cli_parse - argv into c; -1 to go on, else the exit status */
int
cli_parse(struct cli *c, int argc, char *argv[])
{
	int ch, status;

	memset(c, 0, sizeof(*c));
	c->mode = CLI_SERVE;
	c->profile_name = "standard";
	c->spool_dir = "spool";
	c->grace_s = 10;
	while ((ch = getopt_long(argc, argv, "p:P:Lcl:u:s:t:vqVh", long_options,
	                         NULL)) != -1) {
		if ((status = cli_flag(c, ch, optarg)) != -1)
			return status;
	}
	if (optind < argc && c->proxy_protocol != 0 &&
	    (strcmp(argv[optind], "v1") == 0 ||
	     strcmp(argv[optind], "v2") == 0 ||
	     strcmp(argv[optind], "any") == 0))
		/* %1$s twice: the value both as given and as it should be */
		return usage_error(
		    "unexpected argument '%1$s': --proxy-protocol "
		    "takes its value after '=' "
		    "(--proxy-protocol=%1$s)",
		    argv[optind]);
	if (optind < argc)
		return usage_error(
		    "unexpected argument '%s' (flags start with -)",
		    argv[optind]);
	if ((c->cert == NULL) != (c->key == NULL))
		return usage_error("%s needs both --cert and --key",
		                   c->cert ? "--cert" : "--key");
	for (size_t i = 0; i < c->ndirs; i++)
		if (check_flag_dir(c->dirs[i]) != 0)
			return 1;
	cli_dirs(c);
	log_init(c->verbose, c->quiet);
	return -1;
}
