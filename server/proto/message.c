/*
 * message.c - the message as it streams in: the DATA decoder (end of data
 * and dot unstuffing, RFC 5321 4.1.1.4 and 4.5.2) and a scanner of the
 * header section (RFC 5322 2.2) that counts names, bytes and line lengths.
 *
 * Both are byte-at-a-time state machines, so any split of the input gives
 * the same result as the whole buffer. Does not: allocate, store the
 * message, parse header bodies, decode MIME, or decide what a limit is.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "message.h"

/*
 * Counters: line_len and max_line count decoded bytes. max_line is
 * updated as bytes arrive, so it already covers the line in progress and a
 * caller can enforce a line limit before the line ends. A "." (and the CR
 * after it) held back at the start of a line is not counted until it is
 * known to be content, nor is a CR until the byte after it says whether it
 * is bare. In strict mode a bare LF neither ends a line nor starts one for
 * dot unstuffing (RFC 5321 2.3.8, 4.5.2 speak of CRLF), unless the profile
 * makes it (data_decoder_set).
 */

const char *const bare_action_names[BARE_ACTION_COUNT] = {
    [BARE_KEEP] = "keep",     [BARE_CRLF] = "crlf", [BARE_SPACE] = "space",
    [BARE_REJECT] = "reject", [BARE_EXIT] = "exit",
};

static const char *const eod_eol_names[EOD_EOL_COUNT] = {
    [EOD_CRLF] = "CRLF",
    [EOD_LF] = "LF",
    [EOD_CR] = "CR",
};

/* data_decoder.state */
enum {
	DS_BOL,    /* at the start of a line (prev_eol says after what) */
	DS_DOT,    /* start of line + "." (held back) */
	DS_DOT_CR, /* start of line + ".\r" (both held back) */
	DS_TEXT,   /* inside a line */
	DS_CR,     /* inside a line, a CR held back */
	DS_DONE,   /* end of data consumed, or stopped (exited) */
};

/* eod_seq_from_str - "LF.CRLF" -> EOD_SEQ(EOD_LF, EOD_CRLF) */
unsigned
eod_seq_from_str(const char *s)
{
	for (int a = 0; a < EOD_EOL_COUNT; a++) {
		size_t la = strlen(eod_eol_names[a]);

		if (strncasecmp(s, eod_eol_names[a], la) != 0 || s[la] != '.')
			continue;
		for (int b = 0; b < EOD_EOL_COUNT; b++)
			if (strcasecmp(s + la + 1, eod_eol_names[b]) == 0)
				return EOD_SEQ(a, b);
	}
	return 0;
}

/* eod_seq_str - "CR.CR" for EOD_SEQ(EOD_CR, EOD_CR) */
const char *
eod_seq_str(unsigned bit, char *buf, size_t len)
{
	for (int a = 0; a < EOD_EOL_COUNT; a++)
		for (int b = 0; b < EOD_EOL_COUNT; b++)
			if (bit == EOD_SEQ(a, b)) {
				snprintf(buf, len, "%s.%s", eod_eol_names[a],
				         eod_eol_names[b]);
				return buf;
			}
	if (len > 0)
		buf[0] = '\0';
	return buf;
}

static bool
starts_with(unsigned eod, int eol)
{
	for (int b = 0; b < EOD_EOL_COUNT; b++)
		if (eod & EOD_SEQ(eol, b))
			return true;
	return false;
}

static void
decoder_derive(struct data_decoder *d)
{
	d->lf_breaks =
	    d->lenient || d->on_lf == BARE_CRLF || starts_with(d->eod, EOD_LF);
	d->cr_breaks = d->on_cr == BARE_CRLF || starts_with(d->eod, EOD_CR);
}

/* data_decoder_init - start a message */
void
data_decoder_init(struct data_decoder *d, bool lenient)
{
	memset(d, 0, sizeof(*d));
	/* The DATA command's own CRLF precedes the first line, so the
	 * decoder starts at the start of a line: ".\r\n" is empty. */
	d->state = DS_BOL;
	d->prev_eol = EOD_CRLF;
	d->lenient = lenient;
	d->eod = EOD_STANDARD | (lenient ? EOD_LENIENT : 0);
	d->on_lf = BARE_KEEP;
	d->on_cr = BARE_KEEP;
	decoder_derive(d);
}

/* data_decoder_set - the profile's end-of-data sequences and bare bytes */
void
data_decoder_set(struct data_decoder *d, unsigned eod, enum bare_action on_lf,
                 enum bare_action on_cr)
{
	d->eod |= eod;
	d->on_lf = (int)on_lf;
	d->on_cr = (int)on_cr;
	decoder_derive(d);
}

static void
emit(struct data_decoder *d, char *out, size_t *o, char c)
{
	out[(*o)++] = c;
	d->size++;
	/* RFC 5321 4.5.3.1.6: the line length counts the CRLF but not the
	 * dot added for transparency, i.e. the decoded bytes. */
	if (++d->line_len > d->max_line)
		d->max_line = d->line_len;
	if (c == '\0')
		d->nul = true;
}

static void
line_end(struct data_decoder *d, int eol)
{
	d->lines++;
	d->line_len = 0;
	d->prev_eol = eol;
	d->state = DS_BOL;
}

/* A bare LF or CR (c) in the content: what the profile says it does. */
static void
bare(struct data_decoder *d, char *out, size_t *o, char c)
{
	int act = c == '\n' ? d->on_lf : d->on_cr;
	bool breaks = c == '\n' ? d->lf_breaks : d->cr_breaks;

	if (c == '\n')
		d->bare_lf = true;
	else
		d->bare_cr = true;
	switch (act) {
	case BARE_EXIT:
		d->exited = c;
		d->state = DS_DONE;
		return;
	case BARE_CRLF:
		emit(d, out, o, '\r');
		emit(d, out, o, '\n');
		break;
	case BARE_SPACE:
		emit(d, out, o, ' ');
		break;
	case BARE_REJECT:
		if (d->rejected == 0)
			d->rejected = c;
		/* FALLTHROUGH */
	default:
		emit(d, out, o, c);
		break;
	}
	if (breaks)
		line_end(d, c == '\n' ? EOD_LF : EOD_CR);
	else
		d->state = DS_TEXT;
}

/* The "." at the start of a line was followed by line end eol: true if
 * that ends the data; else the dot is dropped (RFC 5321 4.5.2) and the
 * line end is content. */
static bool
dot_line(struct data_decoder *d, int eol)
{
	unsigned bit = EOD_SEQ(d->prev_eol, eol);

	if ((d->eod & bit) == 0)
		return false;
	d->eod_seen = (int)bit;
	d->state = DS_DONE;
	return true;
}

/* data_decode - consume DATA input up to and including end of data */
size_t
data_decode(struct data_decoder *d, const char *in, size_t len, char *out,
            size_t *outlen, bool *done)
{
	size_t i = 0, o = 0;

	while (i < len && d->state != DS_DONE) {
		char c = in[i];

		/* Fast path: inside a line, everything up to the next CR, LF
		 * or NUL is plain content -- copy the run at once. */
		if (d->state == DS_TEXT && c != '\r' && c != '\n' &&
		    c != '\0') {
			size_t j = i + 1;

			while (j < len && in[j] != '\r' && in[j] != '\n' &&
			       in[j] != '\0')
				j++;
			memcpy(out + o, in + i, j - i);
			o += j - i;
			d->size += j - i;
			d->line_len += j - i;
			if (d->line_len > d->max_line)
				d->max_line = d->line_len;
			i = j;
			continue;
		}
		switch (d->state) {
		case DS_BOL:
			if (c == '.') {
				d->state = DS_DOT;
				i++;
				continue;
			}
			d->state = DS_TEXT;
			continue; /* c as content */
		case DS_DOT:
			if (c == '\r') {
				d->state = DS_DOT_CR;
				i++;
				continue;
			}
			if (c == '\n' && dot_line(d, EOD_LF)) {
				i++;
				continue;
			}
			/* RFC 5321 4.5.2: a line starting with "." and more:
			 * the first "." is deleted. */
			d->state = DS_TEXT;
			continue;
		case DS_DOT_CR:
			if (c == '\n') {
				if (!dot_line(d, EOD_CRLF)) {
					/* ".CRLF", not the end: an empty line
					 */
					emit(d, out, &o, '\r');
					emit(d, out, &o, '\n');
					line_end(d, EOD_CRLF);
				}
				i++;
				continue;
			}
			/* ".CR" and no LF: c is not consumed either way */
			if (!dot_line(d, EOD_CR))
				bare(d, out, &o, '\r');
			continue;
		case DS_CR:
			if (c == '\n') {
				emit(d, out, &o, '\r');
				emit(d, out, &o, '\n');
				line_end(d, EOD_CRLF);
				i++;
			} else {
				bare(d, out, &o, '\r'); /* c comes next */
			}
			continue;
		default: /* DS_TEXT */
			break;
		}
		if (c == '\r')
			d->state = DS_CR;
		else if (c == '\n')
			bare(d, out, &o, '\n');
		else
			emit(d, out, &o, c);
		i++;
	}
	*outlen = o;
	*done = d->state == DS_DONE;
	return i;
}

/*
 * Header size: the bytes of the header fields, folding and line ends
 * included; the empty line that ends the section, and a line that turns
 * out not to be a field (the body starting without one), are not counted.
 *
 * header_scan.state. Private use of the other fields: name_len counts the
 * bytes of the current line so far (during the name it is also the name's
 * length); name[] holds the name lower-cased, NUL-terminated, truncated to
 * HEADER_NAME_MAX.
 */
enum {
	HS_BOL,      /* at the start of a line */
	HS_BOL_CR,   /* start of line + CR (not counted yet) */
	HS_NAME,     /* reading a field name */
	HS_NAME_WSP, /* WSP after the name, before the colon */
	HS_VALUE,    /* in a field body, until LF */
	HS_DONE,
};

/* header_scan_init - start scanning a message */
void
header_scan_init(struct header_scan *h)
{
	memset(h, 0, sizeof(*h));
	h->state = HS_BOL;
}

static char
ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* RFC 5322 3.6.8 ftext: printable US-ASCII except ":" */
static bool
is_ftext(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

static bool
header_end(struct header_scan *h)
{
	h->done = true;
	h->state = HS_DONE;
	return true;
}

static void
line_byte(struct header_scan *h)
{
	h->size++;
	if (++h->name_len > h->max_line)
		h->max_line = h->name_len;
}

/* The colon of a field: the line so far is header, and the name counts. */
static void
field_start(struct header_scan *h)
{
	size_t i;

	h->name_len++; /* the colon */
	h->size += h->name_len;
	if (h->name_len > h->max_line)
		h->max_line = h->name_len;
	h->state = HS_VALUE;
	for (i = 0; i < h->nnames; i++)
		if (strcmp(h->names[i], h->name) == 0) {
			h->counts[i]++;
			return;
		}
	if (h->nnames < HEADER_TRACK_MAX) {
		memcpy(h->names[h->nnames], h->name, sizeof(h->name));
		h->counts[h->nnames++] = 1;
	}
}

/* header_scan_feed - feed decoded message bytes */
bool
header_scan_feed(struct header_scan *h, const char *buf, size_t len)
{
	size_t i;

	if (h->done)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		switch (h->state) {
		case HS_BOL:
			h->name_len = 0;
			if (c == '\r') {
				h->state = HS_BOL_CR;
			} else if (c == '\n') {
				return header_end(h); /* LF LF (lenient) */
			} else if ((c == ' ' || c == '\t') && h->size > 0) {
				/* RFC 5322 2.2.3: folded continuation */
				h->state = HS_VALUE;
				line_byte(h);
			} else if (is_ftext(c)) {
				h->name[0] = ascii_lower((char)c);
				h->name[1] = '\0';
				h->name_len = 1;
				h->state = HS_NAME;
			} else {
				/* not a field: the body starts here */
				return header_end(h);
			}
			break;
		case HS_BOL_CR:
			/* CRLF: the empty line of RFC 5322 2.1; CR and
			 * anything else is no field either. */
			return header_end(h);
		case HS_NAME:
			if (c == ':') {
				field_start(h);
			} else if (is_ftext(c)) {
				if (h->name_len < HEADER_NAME_MAX) {
					h->name[h->name_len] =
					    ascii_lower((char)c);
					h->name[h->name_len + 1] = '\0';
				}
				h->name_len++;
			} else if (c == ' ' || c == '\t') {
				/* RFC 5322 4.5.8 obs-optional: WSP before
				 * the colon must be accepted */
				h->name_len++;
				h->state = HS_NAME_WSP;
			} else {
				return header_end(h);
			}
			break;
		case HS_NAME_WSP:
			if (c == ':')
				field_start(h);
			else if (c == ' ' || c == '\t')
				h->name_len++;
			else
				return header_end(h);
			break;
		case HS_VALUE:
			line_byte(h);
			/* LF ends a line even without CR: data from a
			 * lenient decoder may have bare LF line ends. */
			if (c == '\n')
				h->state = HS_BOL;
			break;
		default:
			break;
		}
	}
	return false;
}

/* header_scan_finish - end of message */
bool
header_scan_finish(struct header_scan *h)
{
	if (h->done)
		return false;
	return header_end(h);
}

/* header_count - how often a header name appeared */
unsigned
header_count(const struct header_scan *h, const char *name)
{
	char key[HEADER_NAME_MAX + 1];
	size_t i;

	for (i = 0; i < HEADER_NAME_MAX && name[i] != '\0'; i++)
		key[i] = ascii_lower(name[i]);
	key[i] = '\0';
	for (i = 0; i < h->nnames; i++)
		if (strcmp(h->names[i], key) == 0)
			return h->counts[i];
	return 0;
}

/* header_any_duplicate - first name seen twice or more, or NULL */
const char *
header_any_duplicate(const struct header_scan *h)
{
	size_t i;

	for (i = 0; i < h->nnames; i++)
		if (h->counts[i] > 1)
			return h->names[i];
	return NULL;
}
