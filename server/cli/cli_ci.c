/*
 * cli_ci.c - what a CI job needs around serving: --ready-file (the bound
 * addresses, once listening), --exit-after N, --expect NAME[=COUNT] /
 * '!NAME' (checked at exit: status 3 when unmet) and --summary FILE (the
 * counters as JSON at exit).
 *
 * Does: parse those flags, check them against the loaded profile before
 * anything is bound, write both files atomically (a temporary file in the
 * same directory, then rename), print one line per unmet expectation.
 * Does not: count (api/stats.c, a transcript tap) or stop the server
 * itself (--exit-after is server.c's stop_after, set by cli_serve.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "log.h"
#include "profile.h"
#include "server.h"
#include "stats.h"

#define EXPECT_FORMS "use NAME, NAME=COUNT or !NAME"

/* One line naming the flag, exit status 2 (a usage error). */
static int flag_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
flag_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "smtp-mimic: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

/* Decimal digits only, within unsigned long long: 0, or -1. */
static int
read_count(const char *s, unsigned long long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return *end != '\0' || errno != 0 ? -1 : 0;
}

/* "NAME", "NAME=COUNT" or "!NAME" into e; -1 or 2 as cli_ci_flag. */
static int
parse_expect(struct cli_expect *e, const char *arg)
{
	const char *name = arg, *eq = strchr(arg, '=');
	size_t len;

	e->arg = arg;
	e->kind = EXPECT_AT_LEAST;
	e->count = 1;
	if (*arg == '!') {
		name = arg + 1;
		e->kind = EXPECT_NEVER;
		e->count = 0;
		if (eq != NULL)
			return flag_error("--expect %s: !NAME takes no count "
			                  "(" EXPECT_FORMS ")",
			                  arg);
	} else if (eq != NULL) {
		e->kind = EXPECT_EXACTLY;
		if (read_count(eq + 1, &e->count) == -1)
			return flag_error("--expect %s: bad count \"%s\" (a "
			                  "number, 0 or more; " EXPECT_FORMS
			                  ")",
			                  arg, eq + 1);
	}
	len = eq != NULL ? (size_t)(eq - name) : strlen(name);
	if (len == 0)
		return flag_error(
		    "--expect %s: no rule name (" EXPECT_FORMS ")", arg);
	if (len >= sizeof(e->name))
		return flag_error("--expect %s: rule name too long", arg);
	memcpy(e->name, name, len);
	e->name[len] = '\0';
	return -1;
}

/* cli_ci_flag - one CI flag into c: -1 to go on, or 2 */
int
cli_ci_flag(struct cli *c, int opt, const char *arg)
{
	switch (opt) {
	case CLI_OPT_READY_FILE:
		if (*arg == '\0')
			return flag_error("--ready-file: empty file name");
		c->ready_file = arg;
		return -1;
	case CLI_OPT_SUMMARY:
		if (*arg == '\0')
			return flag_error("--summary: empty file name");
		c->summary_file = arg;
		return -1;
	case CLI_OPT_EXIT_AFTER:
		if (read_count(arg, &c->exit_after) == -1 || c->exit_after == 0)
			return flag_error("--exit-after %s: not a number of "
			                  "messages (1 or more)",
			                  arg);
		return -1;
	case CLI_OPT_EXPECT:
		if (c->nexpect == CLI_MAX_EXPECT)
			return flag_error("--expect %s: too many --expect "
			                  "(max %d)",
			                  arg, CLI_MAX_EXPECT);
		return parse_expect(&c->expect[c->nexpect++], arg);
	}
	return flag_error("unknown CI flag %d", opt);
}

/* cli_ci_wants_stats - do the CI flags need the counters? */
bool
cli_ci_wants_stats(const struct cli *c)
{
	return c->summary_file != NULL || c->nexpect > 0;
}

static bool
has_rule(const struct profile *p, const char *name)
{
	for (size_t i = 0; p != NULL && i < p->nrules; i++)
		if (strcmp(p->rules[i].name, name) == 0)
			return true;
	for (size_t i = 0; p != NULL && i < p->nvia; i++)
		if (has_rule(p->via[i], name))
			return true;
	return false;
}

/* The directory of path ("." for a bare name) must take a new file. */
static int
check_dir(const char *flag, const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (access(dir, W_OK | X_OK) == -1) {
		fprintf(stderr, "smtp-mimic: %s %s: cannot write in %s: %s\n",
		        flag, path, dir, strerror(errno));
		return 1;
	}
	return 0;
}

/* cli_ci_start - check the CI flags before anything is bound */
int
cli_ci_start(const struct cli *c, const struct cli_profile *lp,
             bool rules_later)
{
	for (size_t i = 0; i < c->nexpect; i++) {
		const struct cli_expect *e = &c->expect[i];
		bool known = has_rule(lp->profile, e->name);

		for (size_t k = 0; !known && k < lp->nboxes; k++)
			known = has_rule(lp->boxes[k], e->name);
		if (known)
			continue;
		if (!rules_later) {
			fprintf(stderr,
			        "smtp-mimic: --expect %s: profile %s has no "
			        "rule named %s\n",
			        e->arg, lp->profile->name, e->name);
			return 1;
		}
		log_warnx("--expect %s: profile %s has no rule named %s (yet: "
		          "one may be added over --http)",
		          e->arg, lp->profile->name, e->name);
	}
	if (c->ready_file != NULL) {
		if (check_dir("--ready-file", c->ready_file) != 0)
			return 1;
		if (unlink(c->ready_file) == -1 && errno != ENOENT) {
			fprintf(stderr,
			        "smtp-mimic: --ready-file %s: cannot remove "
			        "the old one: %s\n",
			        c->ready_file, strerror(errno));
			return 1;
		}
	}
	if (c->summary_file != NULL &&
	    check_dir("--summary", c->summary_file) != 0)
		return 1;
	return 0;
}

/* Write o (with a newline) to path through a temporary file in the same
 * directory and a rename: a reader sees no file or all of it. 0, or -1
 * with errno set. */
static int
write_json_atomic(const char *path, const json_t *o, size_t flags)
{
	char tmp[PATH_MAX], *text;
	const char *slash = strrchr(path, '/');
	size_t len;
	int fd, saved;
	bool ok;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%.*s.%s.XXXXXX",
	                     slash ? (int)(slash - path + 1) : 0, path,
	                     slash ? slash + 1 : path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((text = json_dumps(o, flags)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	len = strlen(text);
	text[len++] = '\n'; /* over the NUL: written by length */
	if ((fd = mkstemp(tmp)) == -1) {
		free(text);
		return -1;
	}
	ok = fchmod(fd, 0644) == 0 && write(fd, text, len) == (ssize_t)len;
	saved = errno;
	free(text);
	if (close(fd) == -1 && ok) {
		ok = false;
		saved = errno;
	}
	if (ok && rename(tmp, path) == 0)
		return 0;
	if (ok)
		saved = errno;
	unlink(tmp);
	errno = saved;
	return -1;
}

/* cli_ci_ready - write --ready-file: every listener is listening */
void
cli_ci_ready(const struct cli *c, const struct server *srv,
             const char *http_addr)
{
	json_t *o, *smtp;

	if (c->ready_file == NULL)
		return;
	smtp = json_array();
	for (size_t i = 0; smtp != NULL && i < server_bound(srv); i++) {
		char name[96];

		server_bound_name(srv, i, name, sizeof(name));
		json_array_append_new(smtp, json_string(name));
	}
	o = json_pack("{s:I,s:o,s:s?,s:s}", "pid", (json_int_t)getpid(), "smtp",
	              smtp, "http", http_addr, "profile", srv->profile->name);
	if (o == NULL)
		log_fatal("--ready-file %s: out of memory", c->ready_file);
	if (write_json_atomic(c->ready_file, o, JSON_COMPACT) == -1)
		log_fatal("--ready-file %s: cannot write it: %s", c->ready_file,
		          strerror(errno));
	json_decref(o);
}

static const char *
expect_kind_str(enum cli_expect_kind kind)
{
	switch (kind) {
	case EXPECT_AT_LEAST:
		return "at_least";
	case EXPECT_EXACTLY:
		return "exactly";
	case EXPECT_NEVER:
		return "never";
	}
	return "?";
}

/* One expectation: met, or its line on stderr. */
static bool
expect_check(const struct cli_expect *e, unsigned long long fired)
{
	char want[64];
	bool met;

	switch (e->kind) {
	case EXPECT_AT_LEAST:
		met = fired >= e->count;
		snprintf(want, sizeof(want), "at least %llu", e->count);
		break;
	case EXPECT_EXACTLY:
		met = fired == e->count;
		snprintf(want, sizeof(want), "exactly %llu", e->count);
		break;
	case EXPECT_NEVER:
	default:
		met = fired == 0;
		snprintf(want, sizeof(want), "never");
		break;
	}
	if (!met)
		fprintf(stderr,
		        "smtp-mimic: expectation failed: rule %s fired %llu "
		        "time%s, expected %s\n",
		        e->name, fired, fired == 1 ? "" : "s", want);
	return met;
}

/* cli_ci_finish - --expect and --summary at exit; the exit status */
int
cli_ci_finish(const struct cli *c, const struct stats *st, int status)
{
	json_t *sum = NULL, *list = NULL;
	bool all_met = true;

	if (st == NULL)
		return status;
	if (c->summary_file != NULL && (sum = stats_summary_json(st)) != NULL)
		list = json_array();
	for (size_t i = 0; i < c->nexpect; i++) {
		const struct cli_expect *e = &c->expect[i];
		unsigned long long fired = stats_rule(st, e->name);
		bool met = expect_check(e, fired);

		all_met &= met;
		if (list != NULL)
			json_array_append_new(
			    list, json_pack("{s:s,s:s,s:s,s:I,s:I,s:b}", "arg",
			                    e->arg, "rule", e->name, "kind",
			                    expect_kind_str(e->kind), "count",
			                    (json_int_t)e->count, "fired",
			                    (json_int_t)fired, "met", met));
	}
	if (status == 0 && !all_met)
		status = CLI_EXIT_EXPECT;
	if (c->summary_file == NULL)
		return status;
	if (sum == NULL || list == NULL ||
	    json_object_set_new(sum, "expectations", list) != 0 ||
	    json_object_set_new(sum, "exit_status", json_integer(status)) !=
	        0 ||
	    write_json_atomic(c->summary_file, sum, JSON_INDENT(2)) == -1) {
		fprintf(stderr,
		        "smtp-mimic: --summary %s: cannot write it: %s\n",
		        c->summary_file,
		        sum == NULL || list == NULL ? "out of memory"
		                                    : strerror(errno));
		json_decref(sum);
		return status == 0 ? 1 : status;
	}
	json_decref(sum);
	return status;
}
