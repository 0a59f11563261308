/*
 * clock.c - clock_now(): the injected time of SMTP_MIMIC_CLOCK_FILE, else
 * time(NULL).
 *
 * Does not: cache the file's contents (a test rewrites it between two
 * commands) or touch any timer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

static atomic_bool warned;

/* clock_parse - one non-negative decimal number, blanks around it */
int
clock_parse(const char *text, size_t len, int64_t *out)
{
	size_t i = 0, digits = 0;
	int64_t v = 0;

	while (i < len && (text[i] == ' ' || text[i] == '\t' ||
	                   text[i] == '\r' || text[i] == '\n'))
		i++;
	for (; i < len && text[i] >= '0' && text[i] <= '9'; i++, digits++) {
		int d = text[i] - '0';

		if (v > (INT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	while (i < len && (text[i] == ' ' || text[i] == '\t' ||
	                   text[i] == '\r' || text[i] == '\n'))
		i++;
	if (digits == 0 || i != len)
		return -1;
	*out = v;
	return 0;
}

/* The file's seconds, or -1. */
static int64_t
clock_file(const char *path)
{
	char buf[64];
	ssize_t n;
	int64_t v;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0 || (size_t)n == sizeof(buf) ||
	    clock_parse(buf, (size_t)n, &v) == -1)
		return -1;
	return v;
}

/* clock_now - seconds since the epoch, injected or real */
int64_t
clock_now(void)
{
	const char *path = getenv(CLOCK_FILE_ENV);
	int64_t v;

	if (path == NULL || path[0] == '\0')
		return (int64_t)time(NULL);
	if ((v = clock_file(path)) >= 0)
		return v;
	if (!atomic_exchange(&warned, true))
		log_warnx("%s=%s: not a number of seconds; using the real "
		          "clock",
		          CLOCK_FILE_ENV, path);
	return (int64_t)time(NULL);
}
