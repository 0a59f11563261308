/*
 * test_log.c - log.c: line format per level, quiet and verbose filters,
 * fatal's exit status and panic's abort (in a child process).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* Run fn with stderr sent to a temp file; returns what it wrote. */
static char *
capture_stderr(void (*fn)(const void *), const void *arg)
{
	char path[] = "/tmp/test_log.XXXXXX";
	int fd = mkstemp(path), saved;
	char *buf;
	off_t len;

	assert_true(fd >= 0);
	unlink(path);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	fn(arg);
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	len = lseek(fd, 0, SEEK_END);
	assert_true(len >= 0);
	buf = calloc(1, (size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, (size_t)len, 0), len);
	close(fd);
	return buf;
}

enum level { L_INFO, L_DEBUG, L_WARN };

struct log_case {
	const char *label;
	bool verbose, quiet;
	enum level level;
	const char *want;
};

static const struct log_case log_cases[] = {
    {"info", false, false, L_INFO, "smtp-mimic: listening on 2525\n"},
    {"info quiet", false, true, L_INFO, ""},
    {"debug hidden", false, false, L_DEBUG, ""},
    {"debug verbose", true, false, L_DEBUG,
     "smtp-mimic: debug: listening on 2525\n"},
    {"warning", false, false, L_WARN,
     "smtp-mimic: warning: listening on 2525\n"},
    {"warning quiet", false, true, L_WARN,
     "smtp-mimic: warning: listening on 2525\n"},
};

static void
run_case(const void *arg)
{
	const struct log_case *c = arg;

	log_init(c->verbose, c->quiet);
	switch (c->level) {
	case L_INFO:
		log_info("listening on %d", 2525);
		break;
	case L_DEBUG:
		log_debug("listening on %d", 2525);
		break;
	case L_WARN:
		log_warnx("listening on %d", 2525);
		break;
	}
}

static void
test_levels(void **state)
{
	size_t i;
	int failed = 0;

	(void)state;
	for (i = 0; i < sizeof(log_cases) / sizeof(log_cases[0]); i++) {
		const struct log_case *c = &log_cases[i];
		char *got = capture_stderr(run_case, c);
		if (strcmp(got, c->want) != 0) {
			print_error("%s: got \"%s\", want \"%s\"\n", c->label,
			            got, c->want);
			failed++;
		}
		free(got);
	}
	log_init(false, false);
	assert_int_equal(failed, 0);
}

static void
long_message(const void *arg)
{
	log_init(false, false);
	log_info("%s", (const char *)arg);
}

static void
test_long_message(void **state)
{
	size_t n = 5000;
	char *msg = malloc(n + 1), *got, *want;

	(void)state;
	assert_non_null(msg);
	memset(msg, 'x', n);
	msg[n] = '\0';
	got = capture_stderr(long_message, msg);
	assert_true(asprintf(&want, "smtp-mimic: %s\n", msg) > 0);
	assert_string_equal(got, want);
	free(got);
	free(want);
	free(msg);
}

/* Run fatal or panic in a child with stderr on a pipe. */
static void
run_child(bool panic, int *status, char *out, size_t outlen)
{
	int p[2];
	pid_t pid;
	size_t o = 0;
	ssize_t n;

	assert_int_equal(pipe(p), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		if (panic)
			log_panic("bug in %s", "session.c");
		log_fatal("%s:%d:%d: unknown key", "x.yaml", 3, 7);
	}
	close(p[1]);
	while (o + 1 < outlen && (n = read(p[0], out + o, outlen - 1 - o)) > 0)
		o += (size_t)n;
	out[o] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, status, 0), pid);
}

static void
test_fatal_panic(void **state)
{
	char out[256];
	int status;

	(void)state;
	run_child(false, &status, out, sizeof(out));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_string_equal(out,
	                    "smtp-mimic: fatal: x.yaml:3:7: unknown key\n");

	run_child(true, &status, out, sizeof(out));
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	assert_string_equal(out, "smtp-mimic: panic: bug in session.c\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_levels),
	    cmocka_unit_test(test_long_message),
	    cmocka_unit_test(test_fatal_panic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
