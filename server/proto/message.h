/*
 * message.h - the message body as it streams in: DATA decoding (dot
 * unstuffing, end-of-data found across any read boundaries, RFC 5321
 * 4.5.2 and 4.1.1.4) and a scan of the header section (RFC 5322 2.2) for
 * rules and limits.
 *
 * Pure state machines over byte chunks: feed them whatever each read
 * brought, in any split, and they give the same answer as for the whole
 * buffer. No I/O and no allocation after init.
 */
#ifndef MESSAGE_H
#define MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- DATA decoder --- */

struct data_decoder {
	int state;       /* private */
	bool lenient;    /* LF alone ends a line (and "LF . LF" ends data) */
	size_t line_len; /* bytes in the current line so far, incl. EOL */
	size_t max_line; /* longest line seen, incl. its EOL */
	uint64_t size;   /* decoded bytes produced so far */
	uint64_t lines;  /* lines produced so far */
	bool bare_lf;    /* a LF without CR was seen in the content */
	bool nul;        /* a NUL byte was seen in the content */
};

/* data_decoder_init - start a message; lenient as in profile line_endings */
void data_decoder_init(struct data_decoder *d, bool lenient);

/*
 * data_decode - consume input up to and including the end-of-data line.
 *
 * Writes the unstuffed message bytes to out (which must hold len + 2
 * bytes: a byte held back at a chunk boundary may come out with the next)
 * and sets *outlen. The terminating "CRLF.CRLF" is consumed but not
 * written; the message's last CRLF is kept, as RFC 5321 4.1.1.4 says it is
 * part of the content. Returns the number of input bytes consumed; *done
 * is set when the end of data was reached (bytes after it belong to the
 * next command and are not consumed).
 */
size_t data_decode(struct data_decoder *d, const char *in, size_t len,
                   char *out, size_t *outlen, bool *done);

/* --- header section scanner --- */

#define HEADER_NAME_MAX  64
#define HEADER_TRACK_MAX 64 /* distinct names remembered for duplicates */

struct header_scan {
	int state;       /* private */
	bool done;       /* the empty line ending the headers was seen */
	uint64_t size;   /* bytes of the header section so far */
	size_t max_line; /* longest header line, incl. EOL */
	char name[HEADER_NAME_MAX + 1]; /* name being read (private) */
	size_t name_len;
	/* lower-cased names seen, with counts */
	char names[HEADER_TRACK_MAX][HEADER_NAME_MAX + 1];
	unsigned counts[HEADER_TRACK_MAX];
	size_t nnames;
};

void header_scan_init(struct header_scan *h);

/*
 * header_scan_feed - feed decoded message bytes (any split). Stops
 * looking once the header section has ended. Returns true exactly once:
 * on the call during which the end of the header section was found (or
 * the message ended with headers only, see header_scan_finish).
 */
bool header_scan_feed(struct header_scan *h, const char *buf, size_t len);

/* header_scan_finish - end of message; true if that ends the headers now */
bool header_scan_finish(struct header_scan *h);

/* header_count - how often a header (case-insensitive) appeared */
unsigned header_count(const struct header_scan *h, const char *name);

/* header_any_duplicate - name of a header seen twice or more, or NULL */
const char *header_any_duplicate(const struct header_scan *h);

#endif
