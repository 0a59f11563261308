/*
 * ids.h - the ids a vendor prints in its replies, in that vendor's shape:
 * queue ids (Postfix hex, Sendmail, Exim, qmail's "<time> qp <pid>") and
 * per-session ids (a number, or Gmail's "<sid>" of "<sid> - gsmtp").
 *
 * Pure formatters: the caller passes the clock, the process id, a counter
 * and random bits, so a unit test gets the same text every time.
 *
 * Not here: where the inputs come from (smtp/data.c, smtp/reply.c), which
 * format a profile chose (profile key queue_id_format, session_id_format).
 */
#ifndef IDS_H
#define IDS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* profile key queue_id_format; names: ids_qid_format_str() */
enum qid_format {
	QID_HEX,      /* %08X seconds + %06X counter (smtp-mimic's own) */
	QID_POSTFIX,  /* %05X microseconds + %lX inode-like number */
	QID_SENDMAIL, /* YMDhms + 2-char sequence (base 60) + %06d pid */
	QID_EXIM,     /* base 62 time-pid-fraction, 4.96: 6-6-2 chars */
	QID_QMAIL,    /* "<unix-time> qp <pid>" */
	QID_FORMAT_COUNT
};

/* profile key session_id_format; names: ids_sid_format_str() */
enum sid_format {
	SID_NUMBER, /* the session number, as {session} */
	SID_GMAIL,  /* d75a77b69052e-2b0c4fea3a4si1234567a.2 */
	SID_FORMAT_COUNT
};

/* Longest id either formatter writes, NUL included. */
#define IDS_MAX 48

/* What a queue id is made of; each format uses the fields it names. */
struct ids_in {
	time_t sec;   /* the clock when the message started */
	long usec;    /* 0 .. 999999 */
	long pid;     /* the server process */
	uint64_t seq; /* a per-process message counter, from 1 */
};

/* The formats' names, as a profile writes them (one table each). */
extern const char *const ids_qid_names[QID_FORMAT_COUNT];
extern const char *const ids_sid_names[SID_FORMAT_COUNT];

/* ids_qid_format_str - "hex", "postfix", ...; NULL out of range */
const char *ids_qid_format_str(enum qid_format f);

/* ids_sid_format_str - "number", "gmail"; NULL out of range */
const char *ids_sid_format_str(enum sid_format f);

/*
 * ids_queue_id - the queue id of format f into buf (at least IDS_MAX
 * bytes are always enough; shorter buffers get a cut, NUL-terminated id).
 */
void ids_queue_id(enum qid_format f, const struct ids_in *in, char *buf,
                  size_t len);

/*
 * ids_session_id - the session id of format f into buf: SID_NUMBER prints
 * number, SID_GMAIL draws its hex, digits and letters from r0 and r1.
 */
void ids_session_id(enum sid_format f, unsigned long number, uint64_t r0,
                    uint64_t r1, char *buf, size_t len);

#endif
