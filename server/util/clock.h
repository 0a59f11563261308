/*
 * clock.h - the wall clock that state kept across sessions runs on
 * (greylisting, per-key attempt counts), injectable for tests.
 *
 * With SMTP_MIMIC_CLOCK_FILE set in the environment, clock_now() is the
 * number of seconds since the epoch written in that file (decimal, spaces
 * and a newline around it allowed), read again at every call: a test
 * writes 1000000000, talks, writes 1000000301 and talks again, and the
 * server has seen five minutes pass without anyone sleeping. A file that
 * is missing or holds anything else gives the real time (and one warning).
 * Without the variable it is time(NULL).
 *
 * Does not: move timers, timeouts or {date} in replies (those stay on the
 * real clock); only what asks clock_now() sees the injected time.
 */
#ifndef CLOCK_H
#define CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* The environment variable naming the clock file. */
#define CLOCK_FILE_ENV "SMTP_MIMIC_CLOCK_FILE"

/* clock_now - seconds since the epoch, injected or real */
int64_t clock_now(void);

/* clock_parse - the seconds written in text (len bytes): 0 and *out, or
 * -1 when it is not one non-negative decimal number (surrounding blanks
 * and newlines allowed) */
int clock_parse(const char *text, size_t len, int64_t *out);

#endif
