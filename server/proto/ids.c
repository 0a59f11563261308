/*
 * ids.c - queue ids and session ids in each vendor's shape (ids.h).
 *
 * Does: format what the caller measured (clock, pid, counter, random
 * bits) the way each MTA prints it:
 *   hex      "%08X%06X" of seconds and counter (smtp-mimic's own);
 *   postfix  "%05X" of microseconds, then "%lX" of the queue file's inode
 *            (Postfix 3.7 src/global/mail_queue.h, short ids; FACTS 7);
 *            the inode is modelled as 0x100000 + counter;
 *   sendmail year % 60, month, day, hour, minute, second (UTC), then a
 *            two-character sequence, each from Sendmail's 60 characters
 *            0-9A-Za-x, then the pid in six digits ("5BF3ab1t012345",
 *            sendmail/queue.c assign_queueid; FACTS 8);
 *   exim     Exim 4.96's base-62 "tttttt-pppppp-ff": seconds, pid, and
 *            microseconds / 500 (no localhost_number; FACTS 9);
 *   qmail    "<unix-time> qp <pid>" (qmail-smtpd's end of data, FACTS 10);
 *            each message has its own qmail-queue process there, so the
 *            pid here is the server's plus the counter (model choice).
 * Session ids: the session number, or Gmail's shape (FACTS 11; the
 * pieces are random, model choice): 13 hex, "-", 11 hex, "si", 7 digits,
 * a letter, ".", a number 1-999.
 *
 * Does not: read the clock or draw random numbers (the callers do), or
 * make an id safe as a file name (the spool sanitizes names).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ids.h"

const char *const ids_qid_names[QID_FORMAT_COUNT] = {
    [QID_HEX] = "hex",   [QID_POSTFIX] = "postfix", [QID_SENDMAIL] = "sendmail",
    [QID_EXIM] = "exim", [QID_QMAIL] = "qmail",
};

const char *const ids_sid_names[SID_FORMAT_COUNT] = {
    [SID_NUMBER] = "number",
    [SID_GMAIL] = "gmail",
};

/* ids_qid_format_str - the profile's name of a queue id format */
const char *
ids_qid_format_str(enum qid_format f)
{
	return (unsigned)f < QID_FORMAT_COUNT ? ids_qid_names[f] : NULL;
}

/* ids_sid_format_str - the profile's name of a session id format */
const char *
ids_sid_format_str(enum sid_format f)
{
	return (unsigned)f < SID_FORMAT_COUNT ? ids_sid_names[f] : NULL;
}

/* Sendmail's QueueIdChars: 60 characters, base 60. */
static const char sm_chars[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwx";
/* Exim's base_62 digits. */
static const char b62_chars[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* n in base 62, exactly width digits (the high ones dropped), as Exim's
 * string_base62 does for its fixed-width fields */
static void
base62(char *out, uint64_t n, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		out[i] = b62_chars[n % 62];
		n /= 62;
	}
}

static void
qid_sendmail(const struct ids_in *in, char *buf, size_t len)
{
	struct tm tm;
	time_t t = in->sec;
	unsigned cx = (unsigned)(in->seq % (60 * 60));

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	snprintf(buf, len, "%c%c%c%c%c%c%c%c%06ld",
	         sm_chars[(unsigned)tm.tm_year % 60], sm_chars[tm.tm_mon % 12],
	         sm_chars[tm.tm_mday % 32], sm_chars[tm.tm_hour % 24],
	         sm_chars[tm.tm_min % 60], sm_chars[tm.tm_sec % 60],
	         sm_chars[cx / 60], sm_chars[cx % 60],
	         (in->pid < 0 ? -in->pid : in->pid) % 1000000);
}

static void
qid_exim(const struct ids_in *in, char *buf, size_t len)
{
	char id[6 + 1 + 6 + 1 + 2 + 1];
	long usec = in->usec < 0 ? 0 : in->usec % 1000000;

	base62(id, (uint64_t)in->sec, 6);
	id[6] = '-';
	base62(id + 7, (uint64_t)(in->pid < 0 ? -in->pid : in->pid), 6);
	id[13] = '-';
	base62(id + 14, (uint64_t)(usec / 500), 2);
	id[16] = '\0';
	snprintf(buf, len, "%s", id);
}

/* ids_queue_id - a queue id in the shape of format f */
void
ids_queue_id(enum qid_format f, const struct ids_in *in, char *buf, size_t len)
{
	if (len == 0)
		return;
	switch (f) {
	case QID_POSTFIX:
		snprintf(buf, len, "%05lX%" PRIX64,
		         (unsigned long)(in->usec < 0 ? 0 : in->usec % 1000000),
		         (uint64_t)0x100000 + (in->seq & 0xffffffffu));
		break;
	case QID_SENDMAIL:
		qid_sendmail(in, buf, len);
		break;
	case QID_EXIM:
		qid_exim(in, buf, len);
		break;
	case QID_QMAIL:
		snprintf(buf, len, "%lld qp %" PRIu64, (long long)in->sec,
		         (uint64_t)(in->pid < 0 ? 0 : in->pid) +
		             (in->seq & 0xffffffu));
		break;
	case QID_HEX:
	default:
		snprintf(buf, len, "%08llX%06llX",
		         (unsigned long long)in->sec & 0xffffffffull,
		         (unsigned long long)in->seq & 0xffffff);
		break;
	}
}

/* splitmix64's finaliser: more bits from the two the caller gave */
static uint64_t
mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* ids_session_id - a session id in the shape of format f */
void
ids_session_id(enum sid_format f, unsigned long number, uint64_t r0,
               uint64_t r1, char *buf, size_t len)
{
	uint64_t r2 = mix(r0 ^ (r1 << 1) ^ 0x9e3779b97f4a7c15ull);

	if (len == 0)
		return;
	if (f != SID_GMAIL) {
		snprintf(buf, len, "%lu", number);
		return;
	}
	snprintf(buf, len, "%013" PRIx64 "-%011" PRIx64 "si%07" PRIu64 "%c.%u",
	         r0 & (uint64_t)0xfffffffffffff, r1 & (uint64_t)0xfffffffffff,
	         r2 % 10000000u, 'a' + (int)((r2 >> 32) % 26),
	         1 + (unsigned)((r2 >> 40) % 999));
}
