/*
 * cli.h - smtp-mimic's command line: the flags, and the three things the
 * program does with them (check, list, serve).
 *
 * Does: parse and check the flags into struct cli (cli.c), build the
 * profile search path, load the profile and its --via boxes (cli_profile.c),
 * and run one mode: --check (cli_check.c), --list-profiles (cli_list.c) or
 * serve (cli_serve.c), with the CI extras: ready file, --exit-after,
 * --expect, --summary (cli_ci.c). Every start-up problem ends in one line
 * on stderr and exit status 1 (2 for a usage error); an unmet --expect
 * is exit status 3. Does not: load or explain a
 * profile itself (profile/), or serve a connection (daemon/, smtp/).
 */
#ifndef CLI_H
#define CLI_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define CLI_MAX_LISTEN    32
#define CLI_MAX_FLAG_DIRS 12 /* --profile-path */
#define CLI_MAX_DIRS      (CLI_MAX_FLAG_DIRS + 3)
#define CLI_MAX_VIA       8
#define CLI_MAX_EXPECT    32
#define CLI_RULE_NAME_MAX 256

/* Exit statuses: 0 fine, 1 a start-up or serving error, 2 a usage error,
 * 3 an --expect not met (the server itself ran fine). */
#define CLI_EXIT_EXPECT 3

/* The CI flags' getopt values (cli_ci.c), apart from cli.c's own. */
enum cli_ci_opt {
	CLI_OPT_READY_FILE = 512,
	CLI_OPT_EXIT_AFTER,
	CLI_OPT_EXPECT,
	CLI_OPT_SUMMARY,
};

/* One --expect: the rule NAME fired at least once, exactly COUNT times
 * (NAME=COUNT), or never (!NAME). */
enum cli_expect_kind {
	EXPECT_AT_LEAST,
	EXPECT_EXACTLY,
	EXPECT_NEVER,
};

struct cli_expect {
	const char *arg; /* as given */
	char name[CLI_RULE_NAME_MAX];
	enum cli_expect_kind kind;
	unsigned long long count; /* AT_LEAST: 1; EXACTLY: COUNT; NEVER: 0 */
};

enum cli_mode {
	CLI_SERVE,
	CLI_CHECK, /* --check */
	CLI_LIST,  /* --list-profiles */
};

/* What the flags asked for. Strings point into argv or into the struct. */
struct cli {
	enum cli_mode mode;
	const char *profile_name; /* --profile, default "standard" */
	/* The profile search path: each --profile-path, then the install dir
	 * (next to the binary if there is one there, then the configured
	 * one), then the source tree's profiles/ (cli_dirs in cli.c). */
	const char *dirs[CLI_MAX_DIRS];
	const char *origins[CLI_MAX_DIRS]; /* "-P", "site", "shipped" ... */
	size_t ndirs;
	const char *listen[CLI_MAX_LISTEN]; /* as given; none: the default */
	size_t nlisten;
	const char *via[CLI_MAX_VIA]; /* --via, nearest the client first */
	size_t nvia;
	bool no_profile_via; /* --via none */
	const char *spool_dir, *transcript_path, *user;
	const char *state_file; /* --state-file: policy state; NULL: memory */
	const char *http, *http_token, *web_root; /* --http, NULL: off */
	const char *cert, *key, *write_cert;
	bool verbose, quiet, seed_given;
	unsigned long long seed;
	unsigned max_sessions, workers; /* 0: the profile's / half the CPUs */
	unsigned grace_s; /* --grace: DATA sessions may finish (seconds) */
	/* --proxy-protocol: PROXY_PROTO_V1 | _V2 (proxy_proto.h); 0: off */
	unsigned proxy_protocol;
	char share_dir[PATH_MAX + 64]; /* BIN/../share/smtp-mimic/profiles */
	/* For CI (cli_ci.c): --ready-file, --summary, --exit-after N
	 * (0: never), --expect. */
	const char *ready_file, *summary_file;
	unsigned long long exit_after;
	struct cli_expect expect[CLI_MAX_EXPECT];
	size_t nexpect;
};

/* The default when no --listen is given. */
#define CLI_DEFAULT_LISTEN "127.0.0.1:2525"

/*
 * cli_parse - read argv into c. Returns -1 when the program should go on
 * with c->mode, else the exit status (0 after --help or --version, 1 for a
 * --profile-path that is not a directory, 2 for a usage error, each with
 * its message printed).
 */
int cli_parse(struct cli *c, int argc, char *argv[]);

struct profile;

/* A loaded server profile and the --via boxes in front of it. */
struct cli_profile {
	struct profile *profile;
	struct profile *boxes[CLI_MAX_VIA];
	size_t nboxes;
};

/*
 * cli_profile_load - load c's profile and --via boxes, build the TLS
 * context and write --write-cert. Returns 0, or 1 with one line on stderr
 * and nothing left loaded.
 */
int cli_profile_load(const struct cli *c, struct cli_profile *lp);

/* cli_profile_free - drop what cli_profile_load loaded that is still ours */
void cli_profile_free(struct cli_profile *lp);

/* cli_check - --check: explain what would serve, exit status 0 or 1 */
int cli_check(const struct cli *c);

/* cli_list - --list-profiles: list them, or say where none was found */
int cli_list(const struct cli *c);

/* cli_serve - serve until stopped; returns the exit status */
int cli_serve(const struct cli *c);

/* cli_ci_flag - one CI flag (enum cli_ci_opt) into c: -1 to go on, or 2
 * after one line naming the flag. cli_ci.c. */
int cli_ci_flag(struct cli *c, int opt, const char *arg);

struct server;
struct stats;

/* cli_ci_wants_stats - do the CI flags need the counters (a tap)? */
bool cli_ci_wants_stats(const struct cli *c);

/*
 * cli_ci_start - before anything is bound: each --expect NAME must name a
 * rule of the loaded profile or its boxes (an error, 1; only a warning
 * when rules_later, rules may then be added over HTTP), the directories of
 * --ready-file and --summary must be writable, and an old ready file is
 * removed so that nobody mistakes it for this run's. 0, or 1 after one line.
 */
int cli_ci_start(const struct cli *c, const struct cli_profile *lp,
                 bool rules_later);

/*
 * cli_ci_ready - every listener is listening: write --ready-file (if
 * given), {"pid", "smtp": [bound addresses], "http": http_addr or null,
 * "profile"}, atomically (a temporary file in the same directory, then
 * rename). Ends the program (status 1) when it cannot.
 */
void cli_ci_ready(const struct cli *c, const struct server *srv,
                  const char *http_addr);

/*
 * cli_ci_finish - at exit, after the server is gone: check each --expect
 * against st (one line on stderr per unmet one), write --summary. Returns
 * the exit status: status when it is not 0, else CLI_EXIT_EXPECT when an
 * expectation failed, 1 when the summary could not be written, else 0.
 */
int cli_ci_finish(const struct cli *c, const struct stats *st, int status);

#endif
