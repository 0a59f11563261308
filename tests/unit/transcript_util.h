/*
 * transcript_util.h - what the transcript tests share: temp paths for a
 * JSON sink, reading a file back, splitting it into lines, capturing
 * stdout/stderr while a function runs. Included by test_transcript.c and
 * test_transcript_fields.c; not a module of its own.
 */
#ifndef TRANSCRIPT_UTIL_H
#define TRANSCRIPT_UTIL_H

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* A temp file name for a JSON sink; the file itself is not created. */
static inline void
temp_path(char *path, size_t len)
{
	char dir[] = "/tmp/test_transcript.XXXXXX";

	assert_non_null(mkdtemp(dir));
	snprintf(path, len, "%s/t.jsonl", dir);
}

static inline void
remove_temp(const char *path)
{
	char *dir = strdup(path);

	assert_non_null(dir);
	unlink(path);
	*strrchr(dir, '/') = '\0';
	rmdir(dir);
	free(dir);
}

static inline char *
read_fd(int fd)
{
	off_t len = lseek(fd, 0, SEEK_END);
	char *buf;

	assert_true(len >= 0);
	buf = calloc(1, (size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, (size_t)len, 0), len);
	return buf;
}

/* Split buf into lines in place; returns how many (at most max). */
static inline size_t
split_lines(char *buf, char **lines, size_t max)
{
	size_t n = 0;
	char *p = buf, *nl;

	while (*p != '\0' && n < max && (nl = strchr(p, '\n')) != NULL) {
		*nl = '\0';
		lines[n++] = p;
		p = nl + 1;
	}
	assert_true(*p == '\0'); /* every line ends in \n */
	return n;
}

/* Redirect fd (stdout or stderr) to a temp file while fn runs. */
static inline char *
capture(int target, void (*fn)(void))
{
	char path[] = "/tmp/test_transcript.XXXXXX";
	int fd = mkstemp(path), saved;
	char *buf;

	assert_true(fd >= 0);
	unlink(path);
	fflush(stdout);
	fflush(stderr);
	saved = dup(target);
	assert_true(saved >= 0);
	assert_true(dup2(fd, target) >= 0);
	fn();
	fflush(stdout);
	fflush(stderr);
	assert_true(dup2(saved, target) >= 0);
	close(saved);
	buf = read_fd(fd);
	close(fd);
	return buf;
}

#endif
