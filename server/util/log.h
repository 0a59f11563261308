/*
 * log.h - the program's own messages (not the SMTP transcript).
 *
 * Three levels as in Postfix's msg.c: fatal (configuration or start-up
 * error: one line, exit 1), fatalx-style bugs (log_panic: abort), and
 * warnings/info that never stop the server. Everything goes to stderr
 * prefixed "smtp-mimic: ".
 */
#ifndef LOG_H
#define LOG_H

#include <stdbool.h>

void log_init(bool verbose, bool quiet);
/* log_journal - stderr is the systemd journal (JOURNAL_STREAM): the
 * journal stamps each line, so the readable transcript leaves out its time */
bool log_journal(void);
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_fatal - print one line and exit(1); for start-up errors */
void log_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
/* log_panic - a program bug: print and abort() */
void log_panic(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
