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

/*
 * What a bare LF (no CR before it) or a bare CR (no LF after it) inside
 * the message does (profile data.bare_lf / data.bare_cr). RFC 5321 2.3.8
 * allows neither; real servers keep, normalise, blank, refuse them or
 * give up on the client (FACTS 13).
 */
enum bare_action {
	BARE_KEEP,   /* stays as it came */
	BARE_CRLF,   /* becomes CRLF, and so a line end */
	BARE_SPACE,  /* becomes a space */
	BARE_REJECT, /* stays; the caller refuses the message at its end */
	BARE_EXIT,   /* decoding stops right after it: reply and close */
	BARE_ACTION_COUNT
};
extern const char *const bare_action_names[BARE_ACTION_COUNT];

/*
 * The line ends around the "." of an end of data: <before> "." <after>.
 * CRLF.CRLF always ends data (RFC 5321 4.1.1.4); a profile may add any of
 * the others (data.end_of_data), as the servers of FACTS 13 did.
 */
enum eod_eol { EOD_CRLF, EOD_LF, EOD_CR, EOD_EOL_COUNT };
#define EOD_SEQ(before, after) (1u << ((before)*EOD_EOL_COUNT + (after)))
#define EOD_STANDARD           EOD_SEQ(EOD_CRLF, EOD_CRLF)
/* what line_endings: lenient always ended data with (a bare LF ends a
 * line, so "." between any two line ends of CRLF and LF) */
#define EOD_LENIENT                                                            \
	(EOD_SEQ(EOD_LF, EOD_LF) | EOD_SEQ(EOD_LF, EOD_CRLF) |                 \
	 EOD_SEQ(EOD_CRLF, EOD_LF))

/* eod_seq_from_str - "LF.CRLF" (any case) -> its EOD_SEQ bit; 0 if none */
unsigned eod_seq_from_str(const char *s);
/* eod_seq_str - the name of one EOD_SEQ bit ("CR.CR"), "" if not one */
const char *eod_seq_str(unsigned bit, char *buf, size_t len);

struct data_decoder {
	int state;       /* private */
	int prev_eol;    /* private: the line end before this line */
	unsigned eod;    /* EOD_SEQ bits that end the data */
	int on_lf;       /* enum bare_action for a bare LF */
	int on_cr;       /* enum bare_action for a bare CR */
	bool lf_breaks;  /* a bare LF ends a line (unstuffing, counting) */
	bool cr_breaks;  /* a bare CR ends a line */
	bool lenient;    /* LF alone ends a line (and "LF . LF" ends data) */
	size_t line_len; /* bytes in the current line so far, incl. EOL */
	size_t max_line; /* longest line seen, incl. its EOL */
	uint64_t size;   /* decoded bytes produced so far */
	uint64_t lines;  /* lines produced so far */
	bool bare_lf;    /* a LF without CR was seen in the content */
	bool bare_cr;    /* a CR without LF was seen in the content */
	bool nul;        /* a NUL byte was seen in the content */
	int eod_seen;    /* the EOD_SEQ bit that ended the data, 0 if none */
	/* '\n' or '\r': the first bare byte whose action is BARE_REJECT
	 * (decoding goes on to the end of data), 0 if none */
	int rejected;
	/* '\n' or '\r': decoding stopped at a BARE_EXIT byte, 0 if not;
	 * done is then set, but the data did not end */
	int exited;
};

/* data_decoder_init - start a message; lenient as in profile line_endings:
 * CRLF.CRLF (and lenient's EOD_LENIENT) end it, bare LF and CR are kept */
void data_decoder_init(struct data_decoder *d, bool lenient);

/* data_decoder_set - after init: more sequences that end the data (added
 * to the standard one) and what a bare LF and a bare CR do. A bare LF ends
 * a line when lenient, normalised, or some sequence starts with it; a bare
 * CR when normalised or some sequence starts with it. */
void data_decoder_set(struct data_decoder *d, unsigned eod,
                      enum bare_action on_lf, enum bare_action on_cr);

/*
 * data_decode - consume input up to and including the end-of-data line.
 *
 * Writes the unstuffed message bytes to out (which must hold 2 * len + 2
 * bytes: a bare LF or CR may become CRLF, and a byte held back at a chunk
 * boundary may come out with the next; without BARE_CRLF len + 2 do) and
 * sets *outlen. The terminating "CRLF.CRLF" (or another sequence of
 * data_decoder_set) is consumed but not written; the line end before it is
 * kept, as RFC 5321 4.1.1.4 says it is part of the content. Returns the
 * number of input bytes consumed; *done is set when the end of data was
 * reached (bytes after it belong to the next command and are not
 * consumed) or decoding stopped at a BARE_EXIT byte (d->exited).
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
