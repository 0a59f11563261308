/*
 * log.c - the program's own messages on stderr, "smtp-mimic: " first.
 *
 * Levels as in Postfix's msg.c: info (hidden by --quiet), debug (shown
 * only with --verbose), warning, fatal (exit 1) and panic (abort). Each
 * message is formatted first and written with one fwrite, so lines from
 * several threads do not mix.
 *
 * Not here: the SMTP transcript (transcript.c), syslog, log files.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define LOG_PREFIX "smtp-mimic: "

static bool log_verbose;
static bool log_quiet;

/* log_init - choose what is shown: debug if verbose, no info if quiet */
void
log_init(bool verbose, bool quiet)
{
	log_verbose = verbose;
	log_quiet = quiet;
}

static void
log_vemit(const char *level, const char *fmt, va_list ap)
{
	char stack[1024], *line = stack;
	size_t pre = strlen(LOG_PREFIX) + strlen(level);
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	if (pre + (size_t)n + 2 > sizeof(stack) &&
	    (line = malloc(pre + (size_t)n + 2)) == NULL) {
		/* out of memory: the message still matters more */
		line = stack;
		n = (int)(sizeof(stack) - pre - 2);
	}
	memcpy(line, LOG_PREFIX, strlen(LOG_PREFIX));
	memcpy(line + strlen(LOG_PREFIX), level, strlen(level));
	vsnprintf(line + pre, (size_t)n + 1, fmt, ap);
	line[pre + (size_t)n] = '\n';
	fwrite(line, 1, pre + (size_t)n + 1, stderr);
	fflush(stderr);
	if (line != stack)
		free(line);
}

/* log_warnx - something is wrong, the server keeps going */
void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit("warning: ", fmt, ap);
	va_end(ap);
}

/* log_info - what the server is doing; hidden by --quiet */
void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_quiet)
		return;
	va_start(ap, fmt);
	log_vemit("", fmt, ap);
	va_end(ap);
}

/* log_debug - details for --verbose only */
void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_vemit("debug: ", fmt, ap);
	va_end(ap);
}

/* log_fatal - print one line and exit(1); for start-up errors */
void
log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit("fatal: ", fmt, ap);
	va_end(ap);
	exit(1);
}

/* log_panic - a program bug: print and abort() */
void
log_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit("panic: ", fmt, ap);
	va_end(ap);
	abort();
}
