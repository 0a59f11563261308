/*
 * log.c - the program's own messages on stderr, "smtp-mimic: " first.
 *
 * Levels as in Postfix's msg.c: info (hidden by --quiet), debug (shown
 * only with --verbose), warning, fatal (exit 1) and panic (abort). Each
 * message is formatted first and written with one fwrite, so lines from
 * several threads do not mix.
 *
 * When stderr is the systemd journal (JOURNAL_STREAM names stderr's device
 * and inode, as sd_journal_stream_fd(3) says), each line starts with its
 * syslog priority ("<4>" for a warning), which the journal strips and
 * records, and log_journal() tells the readable transcript to leave out
 * its own time of day: the journal stamps every line.
 *
 * Not here: the SMTP transcript (transcript.c), syslog, log files.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"

#define LOG_PREFIX "smtp-mimic: "

static bool log_verbose;
static bool log_quiet;
static bool log_to_journal;

/* Is stderr the journal stream systemd set up (JOURNAL_STREAM=DEV:INO)? */
static bool
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(2, &st) == -1)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

/* log_init - choose what is shown: debug if verbose, no info if quiet;
 * and notice whether stderr is the journal (log_journal) */
void
log_init(bool verbose, bool quiet)
{
	log_verbose = verbose;
	log_quiet = quiet;
	log_to_journal = stderr_is_journal();
}

/* log_journal - stderr is the journal: lines need no time of day */
bool
log_journal(void)
{
	return log_to_journal;
}

/* The journal's priority prefix for a level ("<3>" error ... "<7>") */
static const char *
log_priority(const char *level)
{
	if (level[0] == '\0')
		return "<6>";
	if (strcmp(level, "debug: ") == 0)
		return "<7>";
	if (strcmp(level, "warning: ") == 0)
		return "<4>";
	if (strcmp(level, "panic: ") == 0)
		return "<2>";
	return "<3>";
}

static void
log_vemit(const char *level, const char *fmt, va_list ap)
{
	char stack[1024], *line = stack;
	const char *prio = log_to_journal ? log_priority(level) : "";
	size_t plen = strlen(prio);
	size_t pre = plen + strlen(LOG_PREFIX) + strlen(level);
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
	memcpy(line, prio, plen);
	memcpy(line + plen, LOG_PREFIX, strlen(LOG_PREFIX));
	memcpy(line + plen + strlen(LOG_PREFIX), level, strlen(level));
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
