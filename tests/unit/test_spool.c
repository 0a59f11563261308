/*
 * test_spool.c - spool.c in a mkdtemp directory: the maildir layout, exact
 * bytes in new/ with an envelope that jansson parses back, abort, failed
 * commits leaving nothing, open errors, sink mode, unique names (also
 * from several threads), the start-up sweep of tmp/ left by a dead
 * writer, and (as root) which directories --user's owner gets.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "spool.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static char base[] = "/tmp/test_spool.XXXXXX";

static int
setup(void **state)
{
	(void)state;
	umask(022);
	return mkdtemp(base) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

/* Names in dir (without . and ..), sorted; returns how many. */
static size_t
list_dir(const char *dir, char names[][256], size_t max)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n < max)
			snprintf(names[n], 256, "%s", de->d_name);
		n++;
	}
	closedir(d);
	return n;
}

static size_t
count_dir(const char *sp, const char *sub)
{
	char path[512];
	DIR *d;
	struct dirent *de;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/%s", sp, sub);
	assert_non_null(d = opendir(path));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static char *
read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	char *buf;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static void
test_open_layout(void **state)
{
	static const char *const subs[] = {"", "/tmp", "/new", "/cur",
	                                   "/envelope"};
	char dir[256], path[300], err[256];
	struct spool *sp;
	struct stat st;
	size_t i;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/a//b/spool/", base);
	sp = spool_open(dir, err, sizeof(err));
	if (sp == NULL)
		fail_msg("spool_open(%s): %s", dir, err);
	assert_false(spool_is_sink(sp));
	assert_string_equal(spool_dir(sp), dir);
	for (i = 0; i < NELEM(subs); i++) {
		snprintf(path, sizeof(path), "%s/a/b/spool%s", base, subs[i]);
		if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode) ||
		    (st.st_mode & 0777) != 0750)
			fail_msg("%s: got mode %o, want directory 0750", path,
			         (unsigned)(st.st_mode & 0777));
	}
	spool_close(sp);
	/* again, over the existing layout */
	assert_non_null(sp = spool_open(dir, err, sizeof(err)));
	spool_close(sp);
}

static const char *const rcpts[] = {"a@x.test", "b@y.test", "c@z.test"};
static const char *const notify[] = {"SUCCESS,FAILURE", "", NULL};
static const char *const orcpt[] = {"rfc822;a@x.test", NULL, "rfc822;c+2B@z"};
static const struct envelope_param mparams[] = {
    {"BODY", "8BITMIMExx", 8}, /* value_len counts, not the NUL */
    {"SMTPUTF8", NULL, 0},
};

static const struct envelope test_env = {
    .queue_id = "4F2A9C",
    .profile = "exchange2013",
    .session = 7,
    .client_ip = "127.0.0.1",
    .client_port = 53312,
    .server_ip = "::1",
    .server_port = 2525,
    .helo = NULL,
    .mail_from = "",
    .rcpts = rcpts,
    .nrcpts = 3,
    .body = "8BITMIME",
    .smtputf8 = 1,
    .auth_user = NULL,
    .tls_version = NULL,
    .tls_cipher = NULL,
    .size = 123456,
    .mail_line = "MAIL FROM:<> BODY=8BITMIME SMTPUTF8",
    .rcpt_notify = notify,
    .rcpt_orcpt = orcpt,
    .mail_params = mparams,
    .nmail_params = 2,
};

/* Expected envelope fields: a path of keys and the JSON it must equal. */
struct field_case {
	const char *key;
	const char *sub; /* NULL: top level */
	const char *want_json;
};

static const struct field_case field_cases[] = {
    {"queue_id", NULL, "\"4F2A9C\""},
    {"profile", NULL, "\"exchange2013\""},
    {"session", NULL, "7"},
    {"client", "ip", "\"127.0.0.1\""},
    {"client", "port", "53312"},
    {"server", "ip", "\"::1\""},
    {"server", "port", "2525"},
    {"helo", NULL, "null"},
    {"mail_from", NULL, "\"\""},
    {"rcpt_to", NULL, "[\"a@x.test\", \"b@y.test\", \"c@z.test\"]"},
    {"mail_params", NULL, "{\"BODY\": \"8BITMIME\", \"SMTPUTF8\": null}"},
    {"rcpts", NULL,
     "[{\"addr\": \"a@x.test\", \"notify\": \"SUCCESS,FAILURE\", "
     "\"orcpt\": \"rfc822;a@x.test\"}, {\"addr\": \"b@y.test\", "
     "\"notify\": null, \"orcpt\": null}, {\"addr\": \"c@z.test\", "
     "\"notify\": null, \"orcpt\": \"rfc822;c+2B@z\"}]"},
    {"body", NULL, "\"8BITMIME\""},
    {"smtputf8", NULL, "true"},
    {"auth_user", NULL, "null"},
    {"tls", NULL, "null"},
    {"size", NULL, "123456"},
    {"mail_line", NULL, "\"MAIL FROM:<> BODY=8BITMIME SMTPUTF8\""},
};

static int
check_fields(json_t *env, const struct field_case *cases, size_t n)
{
	size_t i;
	int failed = 0;

	for (i = 0; i < n; i++) {
		const struct field_case *c = &cases[i];
		json_t *got = json_object_get(env, c->key);
		json_t *want = json_loads(c->want_json, JSON_DECODE_ANY, NULL);
		assert_non_null(want);
		if (c->sub != NULL)
			got = json_object_get(got, c->sub);
		if (got == NULL || !json_equal(got, want)) {
			char *s = got ? json_dumps(got, JSON_ENCODE_ANY) : NULL;
			print_error("%s%s%s: got %s, want %s\n", c->key,
			            c->sub ? "." : "", c->sub ? c->sub : "",
			            s ? s : "(absent)", c->want_json);
			free(s);
			failed++;
		}
		json_decref(want);
	}
	return failed;
}

static void
test_commit(void **state)
{
	char dir[256], path[600], err[256], names[4][256];
	char *expect, *got, *big;
	size_t elen = 0, glen, i, biglen = 200 * 1024;
	struct spool *sp;
	struct spool_msg *m;
	json_t *env;
	json_error_t jerr;
	regex_t re;
	const char *when;
	int failed;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/commit", base);
	assert_non_null(sp = spool_open(dir, err, sizeof(err)));
	expect = malloc(20 * 20000 + biglen);
	big = malloc(biglen);
	assert_non_null(expect);
	assert_non_null(big);
	for (i = 0; i < biglen; i++)
		big[i] = (char)(i * 31 + 7);

	assert_non_null(m = spool_begin(sp, test_env.queue_id));
	for (i = 0; i < 20000; i++) {
		char line[32];
		int n = snprintf(line, sizeof(line), "line %zu\r\n", i);
		assert_int_equal(spool_write(m, line, (size_t)n), 0);
		memcpy(expect + elen, line, (size_t)n);
		elen += (size_t)n;
		if (i == 5000) { /* one large write mid-stream */
			assert_int_equal(spool_write(m, big, biglen), 0);
			memcpy(expect + elen, big, biglen);
			elen += biglen;
		}
	}
	assert_int_equal(spool_write(m, "", 0), 0);
	assert_non_null(spool_msg_name(m));
	snprintf(names[1], sizeof(names[1]), "%s", spool_msg_name(m));
	assert_int_equal(spool_commit(m, &test_env), 0);

	/* exactly one file in new/, the exact bytes; tmp/ empty */
	snprintf(path, sizeof(path), "%s/new", dir);
	assert_int_equal(list_dir(path, names, NELEM(names)), 1);
	assert_int_equal(count_dir(dir, "tmp"), 0);
	assert_int_equal(count_dir(dir, "cur"), 0);
	assert_int_equal(regcomp(&re,
	                         "^[0-9]+\\.M[0-9]+P[0-9]+Q[0-9]+_4F2A9C\\."
	                         "[A-Za-z0-9._-]+$",
	                         REG_EXTENDED | REG_NOSUB),
	                 0);
	if (regexec(&re, names[0], 0, NULL, 0) != 0)
		fail_msg("name %s: want <sec>.M<usec>P<pid>Q<n>_<qid>.<host>",
		         names[0]);
	regfree(&re);
	/* spool_msg_name named the file that is now in new/ */
	assert_string_equal(names[1], names[0]);
	snprintf(path, sizeof(path), "%s/new/%s", dir, names[0]);
	got = read_file(path, &glen);
	assert_int_equal(glen, elen);
	assert_memory_equal(got, expect, elen);
	free(got);

	/* the envelope, and only it, in envelope/ */
	snprintf(path, sizeof(path), "%s/envelope", dir);
	{
		char enames[4][256];
		char want[300];
		assert_int_equal(list_dir(path, enames, NELEM(enames)), 1);
		snprintf(want, sizeof(want), "%s.json", names[0]);
		assert_string_equal(enames[0], want);
	}
	snprintf(path, sizeof(path), "%s/envelope/%s.json", dir, names[0]);
	env = json_load_file(path, 0, &jerr);
	if (env == NULL)
		fail_msg("%s: %s", path, jerr.text);
	failed = check_fields(env, field_cases, NELEM(field_cases));
	assert_string_equal(json_string_value(json_object_get(env, "file")),
	                    names[0]);
	assert_int_equal(
	    regcomp(&re,
	            "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
	            "[0-9]{2}\\.[0-9]{3}Z$",
	            REG_EXTENDED | REG_NOSUB),
	    0);
	when = json_string_value(json_object_get(env, "received"));
	if (when == NULL || regexec(&re, when, 0, NULL, 0) != 0) {
		print_error("received: bad RFC 3339 time\n");
		failed++;
	}
	regfree(&re);
	assert_int_equal(json_object_size(env), 18); /* no more, no less */
	json_decref(env);
	free(expect);
	free(big);
	spool_close(sp);
	assert_int_equal(failed, 0);
}

static void
test_commit_tls_and_8bit(void **state)
{
	static const struct field_case cases[] = {
	    {"tls", "version", "\"TLSv1.2\""},
	    {"tls", "cipher", "\"ECDHE-RSA-AES256-GCM-SHA384\""},
	    {"helo", NULL, "\"gw.test\""},
	    {"auth_user", NULL, "\"alice\""},
	    {"rcpt_to", NULL, "[]"},
	    {"rcpts", NULL, "[]"},
	    {"mail_params", NULL, "{}"},
	    {"smtputf8", NULL, "false"},
	    {"body", NULL, "null"},
	    /* not UTF-8: escaped, the message is not lost over it */
	    {"mail_from", NULL, "\"caf\\\\xe9@x.test\""},
	};
	struct envelope e = test_env;
	char dir[256], path[600], err[256], names[2][256];
	struct spool *sp;
	struct spool_msg *m;
	json_t *env;

	(void)state;
	e.tls_version = "TLSv1.2";
	e.tls_cipher = "ECDHE-RSA-AES256-GCM-SHA384";
	e.helo = "gw.test";
	e.auth_user = "alice";
	e.rcpts = NULL;
	e.nrcpts = 0;
	e.rcpt_notify = NULL;
	e.rcpt_orcpt = NULL;
	e.mail_params = NULL;
	e.nmail_params = 0;
	e.smtputf8 = 0;
	e.body = NULL;
	e.mail_from = "caf\xe9@x.test";
	snprintf(dir, sizeof(dir), "%s/tls", base);
	assert_non_null(sp = spool_open(dir, err, sizeof(err)));
	assert_non_null(m = spool_begin(sp, "Q1"));
	assert_int_equal(spool_write(m, "x\r\n", 3), 0);
	assert_int_equal(spool_commit(m, &e), 0);
	snprintf(path, sizeof(path), "%s/new", dir);
	assert_int_equal(list_dir(path, names, NELEM(names)), 1);
	snprintf(path, sizeof(path), "%s/envelope/%s.json", dir, names[0]);
	assert_non_null(env = json_load_file(path, 0, NULL));
	assert_int_equal(check_fields(env, cases, NELEM(cases)), 0);
	json_decref(env);
	spool_close(sp);
}

static void
test_abort(void **state)
{
	char dir[256], err[256];
	struct spool *sp;
	struct spool_msg *m;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/abort", base);
	assert_non_null(sp = spool_open(dir, err, sizeof(err)));
	assert_non_null(m = spool_begin(sp, "AB"));
	assert_int_equal(spool_write(m, "Subject: x\r\n", 12), 0);
	assert_int_equal(count_dir(dir, "tmp"), 1);
	spool_abort(m);
	assert_int_equal(count_dir(dir, "tmp"), 0);
	assert_int_equal(count_dir(dir, "new"), 0);
	assert_int_equal(count_dir(dir, "envelope"), 0);
	spool_close(sp);
}

/* A commit that cannot write its envelope leaves nothing behind. */
static void
test_commit_fails_cleanly(void **state)
{
	char dir[256], path[300], err[256];
	struct spool *sp;
	struct spool_msg *m;
	int rc, e;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/failing", base);
	assert_non_null(sp = spool_open(dir, err, sizeof(err)));
	assert_non_null(m = spool_begin(sp, "F1"));
	assert_int_equal(spool_write(m, "hello\r\n", 7), 0);
	snprintf(path, sizeof(path), "%s/envelope", dir);
	assert_int_equal(rmdir(path), 0);
	errno = 0;
	rc = spool_commit(m, &test_env);
	e = errno;
	assert_int_equal(rc, -1);
	assert_int_equal(e, ENOENT);
	assert_int_equal(count_dir(dir, "tmp"), 0);
	assert_int_equal(count_dir(dir, "new"), 0);
	spool_close(sp);
}

struct open_fail_case {
	const char *label;
	const char *sub; /* under base; "file" is a regular file */
	const char *want_fmt;
};

static const struct open_fail_case open_fail_cases[] = {
    {"file in the way", "file",
     "spool: cannot create %s/file: Not a directory"},
    /* the message names the component in the way */
    {"file as a parent", "file/spool",
     "spool: cannot create %s/file: Not a directory"},
    {"empty name", NULL, "spool: empty directory name"},
};

static void
test_open_fails(void **state)
{
	char path[300], err[256], want[512];
	size_t i;
	int fd, failed = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/file", base);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	close(fd);
	for (i = 0; i < NELEM(open_fail_cases); i++) {
		const struct open_fail_case *c = &open_fail_cases[i];
		struct spool *sp;

		if (c->sub != NULL)
			snprintf(path, sizeof(path), "%s/%s", base, c->sub);
		else
			path[0] = '\0';
		snprintf(want, sizeof(want), c->want_fmt, base);
		err[0] = 'Z';
		err[1] = '\0';
		sp = spool_open(path, err, sizeof(err));
		if (sp != NULL || strcmp(err, want) != 0) {
			print_error("%s: got %p \"%s\", want NULL \"%s\"\n",
			            c->label, (void *)sp, err, want);
			failed++;
			spool_close(sp);
		}
	}
	assert_int_equal(failed, 0);
}

static void
test_sink(void **state)
{
	char cwd[512], err[256], here[300];
	struct spool *sp;
	struct spool_msg *m, *m2;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(here, sizeof(here), "%s/sink", base);
	assert_int_equal(mkdir(here, 0700), 0);
	assert_int_equal(chdir(here), 0);

	assert_non_null(sp = spool_open("none", err, sizeof(err)));
	assert_true(spool_is_sink(sp));
	assert_string_equal(spool_dir(sp), "none");
	assert_non_null(m = spool_begin(sp, "S1"));
	assert_non_null(m2 = spool_begin(sp, "S2"));
	assert_null(spool_msg_name(m)); /* nothing is written: no name */
	assert_int_equal(spool_write(m, "data\r\n", 6), 0);
	assert_int_equal(spool_commit(m, &test_env), 0);
	spool_abort(m2);
	spool_close(sp);

	assert_int_equal(count_dir(here, "."), 0); /* no "none" dir */
	assert_int_equal(chdir(cwd), 0);
}

#define UNIQUE_N 1000
#define THREADS  4

/* Commit n one-byte messages; returns how many failed (no cmocka
 * asserts here: this runs in threads too). */
static int
commit_many(struct spool *sp, int n)
{
	int i, failed = 0;

	for (i = 0; i < n; i++) {
		struct spool_msg *m = spool_begin(sp, "SAME");
		if (m == NULL || spool_write(m, "x", 1) != 0 ||
		    spool_commit(m, &test_env) != 0)
			failed++;
	}
	return failed;
}

static void
test_unique_names(void **state)
{
	char dir[256], err[256];
	struct spool *sp;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/unique", base);
	assert_non_null(sp = spool_open(dir, err, sizeof(err)));
	/* rename() would replace a duplicate: the count tells */
	assert_int_equal(commit_many(sp, UNIQUE_N), 0);
	assert_int_equal(count_dir(dir, "new"), UNIQUE_N);
	assert_int_equal(count_dir(dir, "envelope"), UNIQUE_N);
	assert_int_equal(count_dir(dir, "tmp"), 0);
	spool_close(sp);
}

static void *
committer(void *arg)
{
	return (void *)(intptr_t)commit_many(arg, UNIQUE_N / THREADS);
}

static void
test_unique_threads(void **state)
{
	char dir[256], err[256];
	struct spool *sp;
	pthread_t t[THREADS];
	int i, failed = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/threads", base);
	assert_non_null(sp = spool_open(dir, err, sizeof(err)));
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, committer, sp), 0);
	for (i = 0; i < THREADS; i++) {
		void *rv;
		pthread_join(t[i], &rv);
		failed += (int)(intptr_t)rv;
	}
	assert_int_equal(failed, 0);
	assert_int_equal(count_dir(dir, "new"), UNIQUE_N);
	assert_int_equal(count_dir(dir, "envelope"), UNIQUE_N);
	assert_int_equal(count_dir(dir, "tmp"), 0);
	spool_close(sp);
}

/* Make an empty file dir/sub/name, mtime age seconds ago. */
static void
touch_old(const char *dir, const char *sub, const char *name, long age)
{
	char path[700];
	struct timespec ts[2];
	int fd;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0640)) >= 0);
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= age;
	ts[1] = ts[0];
	assert_int_equal(futimens(fd, ts), 0);
	close(fd);
}

static int
exists(const char *dir, const char *sub, const char *name)
{
	char path[700];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	return lstat(path, &st) == 0;
}

/* A writer killed mid-DATA (a child that _exits with messages open, one
 * of them with its envelope already renamed into envelope/) leaves tmp/
 * files; the next open removes those, and those older than 36 hours from
 * anyone, and keeps what a live writer or another host may still own. */
static void
test_recover_tmp(void **state)
{
	char dir[256], err[256], names[8][256], name[300], live[300];
	struct spool *sp;
	struct spool_msg *m;
	pid_t pid;
	int st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/recover", base);
	assert_non_null(sp = spool_open(dir, err, sizeof(err)));
	spool_close(sp);
	if ((pid = fork()) == 0) {
		if ((sp = spool_open(dir, err, sizeof(err))) == NULL)
			_exit(2);
		for (int i = 0; i < 3; i++) {
			m = spool_begin(sp, i == 0 ? "DONE" : "PART");
			if (m == NULL || spool_write(m, "x\r\n", 3) != 0 ||
			    (i == 0 && spool_commit(m, &test_env) != 0))
				_exit(3);
		}
		_exit(0); /* as SIGKILL would: nothing closed or unlinked */
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(list_dir(strcat(strcpy(name, dir), "/tmp"), names, 8),
	                 2);
	/* the crash came between the envelope's rename and new/'s */
	snprintf(name, sizeof(name), "%s.json", names[0]);
	touch_old(dir, "envelope", name, 0);
	snprintf(name, sizeof(name), "%s.json.tmp", names[1]);
	touch_old(dir, "envelope", name, 0);
	/* a live writer (our parent) on this host: kept */
	snprintf(live, sizeof(live), "%s", names[0]);
	snprintf(strchr(live, 'P') + 1, 40, "%ldQ1_L.%s", (long)getppid(),
	         strrchr(names[0], '.') + 1);
	touch_old(dir, "tmp", live, 0);
	/* another host's, fresh: kept; stale (40 h): removed */
	touch_old(dir, "tmp", "1.M1P999999Q1_X.elsewhere", 0);
	touch_old(dir, "tmp", "1.M1P999999Q2_X.elsewhere", 40 * 3600);
	touch_old(dir, "tmp", "not-ours", 0);

	assert_non_null(sp = spool_open(dir, err, sizeof(err)));
	assert_int_equal(spool_removed(sp), 3);
	spool_close(sp);
	assert_false(exists(dir, "tmp", names[0]));
	assert_false(exists(dir, "tmp", names[1]));
	assert_true(exists(dir, "tmp", live));
	assert_true(exists(dir, "tmp", "1.M1P999999Q1_X.elsewhere"));
	assert_false(exists(dir, "tmp", "1.M1P999999Q2_X.elsewhere"));
	assert_true(exists(dir, "tmp", "not-ours"));
	assert_int_equal(count_dir(dir, "tmp"), 3);
	/* the committed one and its envelope only */
	assert_int_equal(count_dir(dir, "new"), 1);
	assert_int_equal(list_dir(strcat(strcpy(name, dir), "/new"), names, 8),
	                 1);
	snprintf(name, sizeof(name), "%s.json", names[0]);
	assert_true(exists(dir, "envelope", name));
	assert_int_equal(count_dir(dir, "envelope"), 1);
	assert_non_null(strstr(names[0], "_DONE."));
}

static void
stat_owner(const char *path, uid_t *uid)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	*uid = st.st_uid;
}

/* As root: directories made here go to the owner, pre-existing ones and
 * symlinks' targets keep theirs; one the owner cannot use is refused. */
static void
test_owner(void **state)
{
	static const char *const subs[] = {"", "/tmp", "/new", "/cur",
	                                   "/envelope"};
	char dir[256], path[300], err[512], want[512];
	struct spool_owner own;
	struct passwd *pw;
	struct spool *sp;
	uid_t u;

	(void)state;
	if (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL) {
		print_message("skipped: needs root and a user nobody\n");
		skip();
	}
	own = (struct spool_owner){pw->pw_uid, pw->pw_gid, "nobody"};
	snprintf(dir, sizeof(dir), "%s/own/made", base);
	assert_non_null(sp = spool_open_as(dir, &own, err, sizeof(err)));
	spool_close(sp);
	for (size_t i = 0; i < NELEM(subs); i++) {
		snprintf(path, sizeof(path), "%s%s", dir, subs[i]);
		stat_owner(path, &u);
		assert_int_equal(u, pw->pw_uid);
	}
	snprintf(path, sizeof(path), "%s/own", base); /* a parent: root's */
	stat_owner(path, &u);
	assert_int_equal(u, 0);

	/* root's 0755: refused, nothing created in it */
	snprintf(dir, sizeof(dir), "%s/own/rootdir", base);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_null(spool_open_as(dir, &own, err, sizeof(err)));
	assert_string_equal(err, "owned by root, not writable by nobody; "
	                         "chown it or pick another directory");
	assert_int_equal(count_dir(dir, "."), 0);

	/* root's 1777: used, keeps its owner; subdirectories are nobody's */
	snprintf(dir, sizeof(dir), "%s/own/shared", base);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(chmod(dir, 01777), 0);
	assert_non_null(sp = spool_open_as(dir, &own, err, sizeof(err)));
	spool_close(sp);
	stat_owner(dir, &u);
	assert_int_equal(u, 0);
	snprintf(path, sizeof(path), "%s/tmp", dir);
	stat_owner(path, &u);
	assert_int_equal(u, pw->pw_uid);

	/* a symlinked tmp/ into root's directory: refused, target kept */
	snprintf(dir, sizeof(dir), "%s/own/link", base);
	assert_int_equal(mkdir(dir, 01777), 0);
	assert_int_equal(chmod(dir, 01777), 0);
	snprintf(path, sizeof(path), "%s/tmp", dir);
	assert_int_equal(symlink("../rootdir", path), 0);
	assert_null(spool_open_as(dir, &own, err, sizeof(err)));
	snprintf(want, sizeof(want),
	         "spool: cannot open %s/tmp: it is a symbolic link", dir);
	assert_string_equal(err, want);
	snprintf(path, sizeof(path), "%s/own/rootdir", base);
	stat_owner(path, &u);
	assert_int_equal(u, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_layout),
	    cmocka_unit_test(test_commit),
	    cmocka_unit_test(test_commit_tls_and_8bit),
	    cmocka_unit_test(test_abort),
	    cmocka_unit_test(test_commit_fails_cleanly),
	    cmocka_unit_test(test_open_fails),
	    cmocka_unit_test(test_sink),
	    cmocka_unit_test(test_unique_names),
	    cmocka_unit_test(test_unique_threads),
	    cmocka_unit_test(test_recover_tmp),
	    cmocka_unit_test(test_owner),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
