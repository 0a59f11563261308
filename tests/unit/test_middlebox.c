/*
 * test_middlebox.c - unit tests for middlebox.c: the ASA "inspect esmtp"
 * default map (FACTS.md 5), the PIX fixup / Mailguard (FACTS.md 6) in its
 * mask and NOOP flavours, PIX 4.4's banner, and the PIX before 7.2(3).
 *
 * Table-driven: a case is a conversation of chunks ('S' from the server,
 * 'C' and 'D' from the client) with what the other side gets, the verdict
 * and every note ('B' and 'R' check the box's mode). 'S' and 'D' chunks must
 * give the same result however they are cut up, so each case runs again with
 * them whole, trickled a byte at a time, in pieces of 2, 3, 5, 7 and 64 bytes
 * and split in two at every offset ('C' chunks go as written: there the
 * chunking is the point). Configs whose box drops a split CRLF.CRLF are never
 * cut inside one. Does not test the loader (profile.c) or sockets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "middlebox.h"

#define NROWS(t) (sizeof(t) / sizeof((t)[0]))

/* --- the boxes, as FACTS.md describes them --- */

/* ASA _default_esmtp_map (FACTS.md 5): the EHLO keywords that pass are
 * those of the pgt capture; the others are masked with sequence letters */
static char *asa_verbs[] = {"HELO", "MAIL", "RCPT", "DATA", "RSET",
                            "NOOP", "QUIT", "AUTH", "EHLO", "ETRN",
                            "HELP", "SAML", "SEND", "SOML", "VRFY"};
static char *asa_ehlo[] = {
    "SIZE",     "ETRN",       "PIPELINING", "DSN", "ENHANCEDSTATUSCODES",
    "8BITMIME", "BINARYMIME", "AUTH"};
static struct mbox_limit asa_limits[] = {
    {MBOX_CMD_LINE, 512, MBOX_ACT_DROP},
    {MBOX_RCPT_COUNT, 100, MBOX_ACT_DROP},
    {MBOX_BODY_LINE, 998, MBOX_ACT_LOG},
    {MBOX_HEADER_LINE, 998, MBOX_ACT_DROP},
    {MBOX_SENDER_LEN, 320, MBOX_ACT_DROP},
    {MBOX_MIME_FILENAME, 255, MBOX_ACT_DROP},
};

#define ASA_MAP                                                                \
	.banner = MBOX_BANNER_MASK, .allowed = asa_verbs,                      \
	.nallowed = NROWS(asa_verbs), .denied = MBOX_DENIED_MASK,              \
	.ehlo_allowed = asa_ehlo, .nehlo_allowed = NROWS(asa_ehlo),            \
	.ehlo_mask_others = MBOX_OTHERS_MASK_SEQUENCE, .limits = asa_limits,   \
	.nlimits = NROWS(asa_limits)

static struct mbox_config asa = {.name = "asa-esmtp-inspect", ASA_MAP};
/* an exact mask takes its place in the sequence */
static struct mbox_ehlo_mask chunking_mask[] = {{"CHUNKING", "CHUNKXXX"}};
static struct mbox_config asa_exact = {.name = "asa-exact",
                                       ASA_MAP,
                                       .ehlo_masks = chunking_mask,
                                       .nehlo_masks = NROWS(chunking_mask)};
/* others pass: STARTTLS without allow-tls is still masked (plain X's) */
static struct mbox_config box_pass = {.name = "pass-others",
                                      .allowed = asa_verbs,
                                      .nallowed = NROWS(asa_verbs),
                                      .ehlo_mask_others = MBOX_OTHERS_PASS};
static struct mbox_config asa_tls = {
    .name = "asa-allow-tls", ASA_MAP, .allow_tls = true};

/* PIX fixup protocol smtp: RFC 821 verbs only (FACTS.md 6) */
static char *pix_verbs[] = {"HELO", "MAIL", "RCPT", "DATA",
                            "RSET", "NOOP", "QUIT"};
static char *pix_cut[] = {"DKIM-Signature", "DomainKey-Signature"};

#define PIX_FIXUP                                                              \
	.allowed = pix_verbs, .nallowed = NROWS(pix_verbs),                    \
	.drop_split_eod = true

static struct mbox_config pix = {.name = "pix-fixup",
                                 PIX_FIXUP,
                                 .banner = MBOX_BANNER_MASK,
                                 .denied = MBOX_DENIED_MASK};
static struct mbox_config pix_noop = {.name = "pix-fixup-noop",
                                      PIX_FIXUP,
                                      .banner = MBOX_BANNER_MASK,
                                      .denied = MBOX_DENIED_NOOP};
static struct mbox_config pix44 = {.name = "pix-4.4",
                                   PIX_FIXUP,
                                   .denied = MBOX_DENIED_NOOP,
                                   .banner = MBOX_BANNER_MASK_ALL};
static struct mbox_config pix_pre723 = {.name = "pix-fixup-pre723",
                                        PIX_FIXUP,
                                        .banner = MBOX_BANNER_MASK,
                                        .denied = MBOX_DENIED_MASK,
                                        .cut_on_duplicate = true,
                                        .cut_headers = pix_cut,
                                        .ncut_headers = NROWS(pix_cut),
                                        .cut_action = MBOX_ACT_RESET};
static struct mbox_config pix_pre723_fin = {.name = "pix-pre723-fin",
                                            PIX_FIXUP,
                                            .banner = MBOX_BANNER_MASK,
                                            .denied = MBOX_DENIED_MASK,
                                            .cut_on_duplicate = true,
                                            .cut_headers = pix_cut,
                                            .ncut_headers = NROWS(pix_cut),
                                            .cut_action = MBOX_ACT_DROP};

/* --- the harness --- */

struct step {
	char dir;         /* 'S' server, 'C' client as cut, 'D' client any cut;
	                     'B': no chunk, the box must be blind by now;
	                     'R': no chunk, mbox_reading_commands() is
	                     in[0] == '1' */
	const char *in;   /* NUL-free */
	const char *want; /* what the other side gets; NULL: in unchanged */
	enum mbox_verdict verdict;
};

#define MAXSTEPS 16
#define MAXNOTES 12

struct mb_case {
	const char *label;
	const struct mbox_config *cfg;
	struct step steps[MAXSTEPS];
	/* every note in order: "dir|orig|now|why" when it has a '|', else
	 * just the why */
	const char *notes[MAXNOTES];
};

struct rec {
	char *full[64];
	size_t why_at[64];
	size_t n;
	char lines[16][600]; /* client lines reported as seen (why NULL) */
	size_t nlines;
};

static void
rec_note(void *arg, const struct mbox_config *box, const struct mbox_note *nt)
{
	struct rec *r = arg;
	int w;

	assert_non_null(box);
	if (nt->why == NULL) {
		/* no change: a client command line as the box saw it */
		assert_int_equal(nt->dir, MBOX_TO_SERVER);
		assert_null(nt->now);
		/* "!" first: the box did not pass the line on */
		if (r->nlines < NROWS(r->lines))
			snprintf(r->lines[r->nlines++], sizeof(r->lines[0]),
			         "%s%.*s", nt->dropped ? "!" : "",
			         (int)nt->orig_len, nt->orig);
		return;
	}
	if (r->n == NROWS(r->full)) {
		r->n++;
		return;
	}
	if (r->n > NROWS(r->full))
		return;
	w = asprintf(&r->full[r->n], "%c|%.*s|%.*s|%s",
	             nt->dir == MBOX_TO_SERVER ? 'C' : 'S', (int)nt->orig_len,
	             nt->orig, nt->now != NULL ? (int)nt->now_len : 1,
	             nt->now != NULL ? nt->now : "-", nt->why);
	assert_true(w > 0);
	r->why_at[r->n] = strlen(r->full[r->n]) - strlen(nt->why);
	r->n++;
}

static void
rec_free(struct rec *r)
{
	size_t i;

	for (i = 0; i < r->n && i < NROWS(r->full); i++)
		free(r->full[i]);
	r->n = 0;
}

/* Printable, CR and LF shown, long strings cut short. */
static const char *
esc(const char *s, size_t n, char *buf, size_t size)
{
	size_t i, k = 0;

	/* room for the longest escape and the "...(n)" tail */
	for (i = 0; i < n && k + 32 < size; i++) {
		if (s[i] == '\r')
			k += (size_t)snprintf(buf + k, size - k, "\\r");
		else if (s[i] == '\n')
			k += (size_t)snprintf(buf + k, size - k, "\\n");
		else if ((unsigned char)s[i] < 0x20 ||
		         (unsigned char)s[i] >= 0x7f)
			k += (size_t)snprintf(buf + k, size - k, "\\x%02x",
			                      (unsigned char)s[i]);
		else
			buf[k++] = s[i];
	}
	if (i < n)
		k += (size_t)snprintf(buf + k, size - k, "...(%zu)", n);
	buf[k < size ? k : size - 1] = '\0';
	return buf;
}

/*
 * Variants: 0 as written; 1 a byte at a time; 2..6 pieces of 2, 3, 5, 7,
 * 64 bytes; 100 + k split in two at k.
 */
static size_t
next_cut(int variant, size_t start, size_t n)
{
	static const size_t sizes[] = {2, 3, 5, 7, 64};

	if (variant == 0)
		return n;
	if (variant == 1)
		return start + 1;
	if (variant < 100)
		return start + sizes[variant - 2];
	return start < (size_t)(variant - 100) ? (size_t)(variant - 100) : n;
}

/* A box that drops a split CRLF.CRLF must not see one split by us. */
static bool
may_cut(const char *s, size_t n, size_t q, bool eod_rule)
{
	size_t t;

	if (!eod_rule)
		return true;
	for (t = 0; t + 5 <= n; t++)
		if (memcmp(s + t, "\r\n.\r\n", 5) == 0 && t < q && q < t + 5)
			return false;
	return true;
}

static bool
run_case(const struct mb_case *c, int variant)
{
	struct mbox b;
	struct rec r = {0};
	bool ok = true;
	size_t i, k;
	char b1[512], b2[512];

	mbox_init(&b, c->cfg);
	for (i = 0; i < MAXSTEPS && c->steps[i].dir != 0; i++) {
		const struct step *s = &c->steps[i];
		const char *want = s->want != NULL ? s->want : s->in;
		size_t n = strlen(s->in), start = 0, next, glen;
		struct evbuffer *out = evbuffer_new();
		enum mbox_verdict v = MBOX_FORWARD;
		int var = s->dir == 'C' ? 0 : variant;
		const char *got;

		assert_non_null(out);
		if (s->dir == 'R' &&
		    mbox_reading_commands(&b) != (s->in[0] == '1')) {
			print_error("%s [variant %d] step %zu: reading "
			            "commands %d\n",
			            c->label, variant, i, s->in[0] != '1');
			ok = false;
		}
		if (s->dir == 'B' &&
		    (!mbox_blind(&b) || mbox_reading_commands(&b))) {
			print_error("%s [variant %d] step %zu: not blind\n",
			            c->label, variant, i);
			ok = false;
		}
		while (s->dir != 'B' && s->dir != 'R' && start < n) {
			next = next_cut(var, start, n);
			if (next > n)
				next = n;
			while (next < n &&
			       !may_cut(s->in, n, next, c->cfg->drop_split_eod))
				next++;
			if (s->dir == 'S')
				v = mbox_from_server(&b, s->in + start,
				                     next - start, out,
				                     rec_note, &r);
			else
				v = mbox_from_client(&b, s->in + start,
				                     next - start, out,
				                     rec_note, &r);
			start = next;
		}
		glen = evbuffer_get_length(out);
		got = (const char *)evbuffer_pullup(out, -1);
		if (glen != strlen(want) ||
		    (glen > 0 && memcmp(got, want, glen) != 0)) {
			print_error("%s [variant %d] step %zu (%c): got \"%s\" "
			            "want \"%s\"\n",
			            c->label, variant, i, s->dir,
			            esc(got, glen, b1, sizeof(b1)),
			            esc(want, strlen(want), b2, sizeof(b2)));
			ok = false;
		}
		if (v != s->verdict) {
			print_error(
			    "%s [variant %d] step %zu: verdict %d, want "
			    "%d\n",
			    c->label, variant, i, (int)v, (int)s->verdict);
			ok = false;
		}
		evbuffer_free(out);
	}
	for (k = 0; k < MAXNOTES && c->notes[k] != NULL; k++) {
		const char *w = c->notes[k];
		const char *g;

		if (k >= r.n) {
			print_error("%s [variant %d] note %zu missing: want "
			            "\"%s\"\n",
			            c->label, variant, k, w);
			ok = false;
			break;
		}
		g = strchr(w, '|') != NULL ? r.full[k]
		                           : r.full[k] + r.why_at[k];
		if (strcmp(g, w) != 0) {
			print_error("%s [variant %d] note %zu: got \"%s\" want "
			            "\"%s\"\n",
			            c->label, variant, k,
			            esc(g, strlen(g), b1, sizeof(b1)), w);
			ok = false;
		}
	}
	if (k < r.n) {
		print_error("%s [variant %d] %zu notes, want %zu; extra: "
		            "\"%s\"\n",
		            c->label, variant, r.n, k,
		            k < NROWS(r.full) ? r.full[k] : "?");
		ok = false;
	}
	rec_free(&r);
	return ok;
}

/* Every variant the case's 'S' and 'D' chunks allow. */
static bool
run_variants(const struct mb_case *c)
{
	size_t i, longest = 0;
	int v;
	bool ok = run_case(c, 0);

	for (i = 0; i < MAXSTEPS && c->steps[i].dir != 0; i++)
		if (c->steps[i].dir != 'C' && strlen(c->steps[i].in) > longest)
			longest = strlen(c->steps[i].in);
	if (longest == 0)
		return ok;
	for (v = 1; v <= 6 && ok; v++)
		ok = run_case(c, v);
	for (i = 1; i < longest && ok; i++)
		ok = run_case(c, 100 + (int)i);
	return ok;
}

/* --- the conversations --- */

#define ESA_BANNER                                                             \
	{                                                                      \
		'S', "220 esa.lab.test ESMTP\r\n",                             \
		    "220 ******************\r\n", 0                            \
	}
#define MX_BANNER                                                              \
	{                                                                      \
		'S', "220 mx.lab.test ESMTP\r\n", "220 *****************\r\n", \
		    0                                                          \
	}
#define ESA_BANNER_NOTE                                                        \
	"S|220 esa.lab.test ESMTP|220 ******************|mask-banner"
#define OK(dir, s)                                                             \
	{                                                                      \
		dir, s, NULL, 0                                                \
	}
#define TO(s, want)                                                            \
	{                                                                      \
		'C', s, want, 0                                                \
	}
/* a PIX session up to DATA's 354 */
#define PIX_TO_DATA                                                            \
	MX_BANNER, OK('C', "HELO gw.test\r\n"), OK('S', "250 mx\r\n"),         \
	    OK('C', "MAIL FROM:<a@gw.test>\r\n"), OK('S', "250 ok\r\n"),       \
	    OK('C', "RCPT TO:<b@mx.test>\r\n"), OK('S', "250 ok\r\n"),         \
	    OK('C', "DATA\r\n"), OK('S', "354 go ahead\r\n")

static const struct mb_case cases[] = {
    /* seed 001 exactly: STARTTLS masked in the EHLO reply, the command
     * masked to X's, the ESA answers its unknown-command reply */
    {"seed 001: ESA behind ASA without allow-tls",
     &asa,
     {ESA_BANNER,
      OK('C', "EHLO gw.test\r\n"),
      {'S',
       "250-esa.lab.test\r\n250-8BITMIME\r\n250-SIZE "
       "14680064\r\n250 STARTTLS\r\n",
       "250-esa.lab.test\r\n250-8BITMIME\r\n250-SIZE "
       "14680064\r\n250 XXXXXXXA\r\n",
       0},
      TO("STARTTLS\r\n", "XXXXXXXX\r\n"),
      OK('S', "500 #5.5.1 command not recognized\r\n")},
     {ESA_BANNER_NOTE, "S|250 STARTTLS|250 XXXXXXXA|no allow-tls",
      "C|STARTTLS|XXXXXXXX|command not allowed"}},
    {"banner mask: '2' and '0' kept in the text",
     &asa,
     {{'S', "220 mx0.lab.test ESMTP Postfix 2.10\r\n",
       "220 **0************************2**0\r\n", 0}},
     {"mask-banner"}},
    {"banner mask: multi-line banner",
     &pix,
     {{'S', "220-mx.lab.test ESMTP\r\n220 2.0.0 ready\r\n",
       "220-*****************\r\n220 2*0*0******\r\n", 0},
      TO("EHLO gw.test\r\n", "XXXXXXXXXXXX\r\n"),
      OK('S', "500 5.5.1 Unrecognized command\r\n")},
     {"S|220-mx.lab.test ESMTP|220-*****************|mask-banner",
      "S|220 2.0.0 ready|220 2*0*0******|mask-banner", "command not allowed"}},
    {"banner mask: bare LF line ends",
     &pix,
     {{'S', "220 mx ESMTP\n", "220 ********\n", 0}},
     {"mask-banner"}},
    {"banner mask all (PIX 4.4)",
     &pix44,
     {{'S', "220 mx.lab.test ESMTP\r\n", "*********************\r\n", 0}},
     {"mask-banner"}},
    {"only the first reply is the banner",
     &asa,
     {ESA_BANNER, OK('C', "HELO gw.test\r\n"), OK('S', "250 esa.lab.test\r\n")},
     {"mask-banner"}},
    /* the server's EHLO reply as Exchange 2013 lists it (DESIGN.md) */
    {"EHLO keywords: allowed pass, others X's and a sequence letter",
     &asa,
     {ESA_BANNER,
      OK('C', "EHLO gw.test\r\n"),
      {'S',
       "250-ex.lab.test Hello [192.0.2.1]\r\n250-SIZE "
       "37748736\r\n250-PIPELINING\r\n250-DSN\r\n"
       "250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n"
       "250-X-ANONYMOUSTLS\r\n250-AUTH NTLM\r\n250-X-EXPS GSSAPI "
       "NTLM\r\n250-8BITMIME\r\n250-BINARYMIME\r\n250-CHUNKING\r\n"
       "250 XRDST\r\n",
       "250-ex.lab.test Hello [192.0.2.1]\r\n250-SIZE "
       "37748736\r\n250-PIPELINING\r\n250-DSN\r\n"
       "250-ENHANCEDSTATUSCODES\r\n250-XXXXXXXA\r\n"
       "250-XXXXXXXXXXXXXB\r\n250-AUTH NTLM\r\n"
       "250-XXXXXXXXXXXXXXXXXC\r\n250-8BITMIME\r\n250-BINARYMIME\r\n"
       "250-XXXXXXXD\r\n250 XXXXE\r\n",
       0}},
     {ESA_BANNER_NOTE, "S|250-STARTTLS|250-XXXXXXXA|no allow-tls",
      "S|250-X-ANONYMOUSTLS|250-XXXXXXXXXXXXXB|ehlo-reply-parameter "
      "others: mask",
      "S|250-X-EXPS GSSAPI NTLM|250-XXXXXXXXXXXXXXXXXC|ehlo-reply-"
      "parameter others: mask",
      "S|250-CHUNKING|250-XXXXXXXD|ehlo-reply-parameter others: mask",
      "S|250 XRDST|250 XXXXE|ehlo-reply-parameter others: mask"}},
    /* FACTS.md 5 "How masking works": the pgt replay of an Exchange 2003
     * EHLO through Cisco inspection, letter by letter */
    {"EHLO masks: the pgt capture's sequence letters",
     &asa,
     {ESA_BANNER,
      OK('C', "EHLO gw.test\r\n"),
      {'S',
       "250-ex2003 Hello [192.0.2.1]\r\n250-TURN\r\n250-SIZE\r\n"
       "250-ETRN\r\n250-PIPELINING\r\n250-DSN\r\n"
       "250-ENHANCEDSTATUSCODES\r\n250-8bitmime\r\n250-BINARYMIME\r\n"
       "250-CHUNKING\r\n250-VRFY\r\n250-X-EXPS GSSAPI NTLM LOGIN\r\n"
       "250-X-EXPS=LOGIN\r\n250-AUTH GSSAPI NTLM LOGIN\r\n"
       "250-AUTH=LOGIN\r\n250-X-LINK2STATE\r\n250-XEXCH50\r\n"
       "250 OK\r\n",
       "250-ex2003 Hello [192.0.2.1]\r\n250-XXXA\r\n250-SIZE\r\n"
       "250-ETRN\r\n250-PIPELINING\r\n250-DSN\r\n"
       "250-ENHANCEDSTATUSCODES\r\n250-8bitmime\r\n250-BINARYMIME\r\n"
       "250-XXXXXXXB\r\n250-XXXC\r\n250-XXXXXXXXXXXXXXXXXXXXXXXD\r\n"
       "250-XXXXXXXXXXXE\r\n250-AUTH GSSAPI NTLM LOGIN\r\n"
       "250-XXXXXXXXXF\r\n250-XXXXXXXXXXXG\r\n250-XXXXXXH\r\n"
       "250 XI\r\n",
       0}},
     {ESA_BANNER_NOTE, "S|250-TURN|250-XXXA|ehlo-reply-parameter others: mask",
      "S|250-CHUNKING|250-XXXXXXXB|ehlo-reply-parameter others: mask",
      "S|250-VRFY|250-XXXC|ehlo-reply-parameter others: mask",
      "S|250-X-EXPS GSSAPI NTLM LOGIN|250-XXXXXXXXXXXXXXXXXXXXXXXD|"
      "ehlo-reply-parameter others: mask",
      "S|250-X-EXPS=LOGIN|250-XXXXXXXXXXXE|ehlo-reply-parameter others: "
      "mask",
      "S|250-AUTH=LOGIN|250-XXXXXXXXXF|ehlo-reply-parameter others: mask",
      "S|250-X-LINK2STATE|250-XXXXXXXXXXXG|ehlo-reply-parameter others: "
      "mask",
      "S|250-XEXCH50|250-XXXXXXH|ehlo-reply-parameter others: mask",
      "S|250 OK|250 XI|ehlo-reply-parameter others: mask"}},
    {"EHLO masks: every reply starts again at A",
     &asa,
     {ESA_BANNER,
      OK('C', "EHLO gw.test\r\n"),
      {'S', "250-esa\r\n250-VRFY\r\n250 STARTTLS\r\n",
       "250-esa\r\n250-XXXA\r\n250 XXXXXXXB\r\n", 0},
      OK('C', "EHLO gw.test\r\n"),
      {'S', "250-esa\r\n250 STARTTLS\r\n", "250-esa\r\n250 XXXXXXXA\r\n", 0}},
     {ESA_BANNER_NOTE, "ehlo-reply-parameter others: mask", "no allow-tls",
      "no allow-tls"}},
    {"EHLO masks: an exact mask takes a letter's place",
     &asa_exact,
     {ESA_BANNER,
      OK('C', "EHLO gw.test\r\n"),
      {'S', "250-esa\r\n250-CHUNKING\r\n250-SIZE 1\r\n250 STARTTLS\r\n",
       "250-esa\r\n250-CHUNKXXX\r\n250-SIZE 1\r\n250 XXXXXXXB\r\n", 0}},
     {ESA_BANNER_NOTE, "ehlo mask", "no allow-tls"}},
    {"EHLO masks: others pass, STARTTLS without allow-tls does not",
     &box_pass,
     {OK('S', "220 mx\r\n"),
      OK('C', "EHLO gw.test\r\n"),
      {'S', "250-mx\r\n250-CHUNKING\r\n250 STARTTLS\r\n",
       "250-mx\r\n250-CHUNKING\r\n250 XXXXXXXX\r\n", 0}},
     {"no allow-tls"}},
    {"EHLO keyword case-insensitive",
     &asa,
     {ESA_BANNER,
      OK('C', "ehlo gw.test\r\n"),
      {'S', "250-esa\r\n250 starttls\r\n", "250-esa\r\n250 XXXXXXXA\r\n", 0}},
     {ESA_BANNER_NOTE, "no allow-tls"}},
    {"pipelined: only the reply to EHLO is an EHLO reply",
     &asa,
     {ESA_BANNER,
      OK('C', "NOOP\r\nRSET\r\nEHLO gw.test\r\n"),
      {'S',
       "250-first\r\n250 STARTTLS\r\n250 ok\r\n250-esa\r\n250 "
       "STARTTLS\r\n",
       "250-first\r\n250 STARTTLS\r\n250 ok\r\n250-esa\r\n250 "
       "XXXXXXXA\r\n",
       0}},
     {ESA_BANNER_NOTE, "no allow-tls"}},
    {"EHLO reply that is an error is left alone",
     &asa,
     {ESA_BANNER, OK('C', "EHLO gw.test\r\n"),
      OK('S', "550-no\r\n550 STARTTLS\r\n")},
     {ESA_BANNER_NOTE}},
    {"pipelined batch with a denied command in the middle",
     &asa,
     {ESA_BANNER,
      OK('C', "EHLO gw.test\r\n"),
      OK('S', "250-esa.lab.test\r\n250 PIPELINING\r\n"),
      TO("MAIL FROM:<a@gw.test>\r\nRCPT TO:<b@esa.test>\r\nXCLIENT "
         "ADDR=192.0.2.1\r\nRCPT TO:<c@esa.test>\r\nDATA\r\n",
         "MAIL FROM:<a@gw.test>\r\nRCPT "
         "TO:<b@esa.test>\r\nXXXXXXXXXXXXXXXXXXXXXX\r\nRCPT "
         "TO:<c@esa.test>\r\nDATA\r\n"),
      OK('S', "250 ok\r\n250 ok\r\n500 #5.5.1 command not recognized\r\n250 "
              "ok\r\n354 go ahead\r\n"),
      {'R', "0", "", 0},
      /* in DATA: a header line is no command */
      OK('D', "Subject: t\r\nX-Mailer: m\r\n\r\nhello\r\n.\r\n"),
      {'R', "1", "", 0},
      OK('S', "250 ok: queued\r\n"),
      /* and back in command mode */
      TO("XEXPS\r\nQUIT\r\n", "XXXXX\r\nQUIT\r\n"),
      OK('S', "500 #5.5.1 command not recognized\r\n221 bye\r\n")},
     {ESA_BANNER_NOTE,
      "C|XCLIENT ADDR=192.0.2.1|XXXXXXXXXXXXXXXXXXXXXX|command not "
      "allowed",
      "C|XEXPS|XXXXX|command not allowed"}},
    {"DATA refused: no DATA mode",
     &asa,
     {ESA_BANNER, OK('C', "DATA\r\n"), OK('S', "503 5.5.1 need RCPT\r\n"),
      TO("Subject: x\r\n", "XXXXXXXXXX\r\n")},
     {ESA_BANNER_NOTE, "command not allowed"}},
    {"client bytes after DATA are commands until the 354",
     &asa,
     {ESA_BANNER, TO("DATA\r\nSubject: x\r\n", "DATA\r\nXXXXXXXXXX\r\n")},
     {ESA_BANNER_NOTE, "command not allowed"}},
    {"PIX NOOP: denied commands become NOOP",
     &pix_noop,
     {MX_BANNER, TO("EHLO gw.test\r\n", "NOOP\r\n"), OK('S', "250 OK\r\n"),
      OK('C', "HELO gw.test\r\n"), OK('S', "250 mx\r\n"),
      TO("STARTTLS\n", "NOOP\n"), OK('S', "250 OK\r\n"), TO("\r\n", "\r\n")},
     {"mask-banner", "C|EHLO gw.test|NOOP|command not allowed",
      "C|STARTTLS|NOOP|command not allowed"}},
    {"telnet character mode: NOOP typed key by key",
     &pix,
     {MX_BANNER, TO("N", "X"), TO("O", "X"), TO("O", "X"), TO("P", "X"),
      TO("\r\n", "\r\n"), OK('S', "500 5.5.1 Unrecognized command\r\n")},
     {"mask-banner", "C|NOOP|XXXX|command split across packets"}},
    {"telnet character mode: EHLO x",
     &asa,
     {ESA_BANNER, TO("E", "X"), TO("H", "X"), TO("L", "X"), TO("O", "X"),
      TO(" ", "X"), TO("x", "X"), TO("\r\n", "\r\n"),
      /* not an EHLO as the box sees it: STARTTLS would pass */
      OK('S', "500 #5.5.1 command not recognized\r\n")},
     {ESA_BANNER_NOTE, "C|EHLO x|XXXXXX|command split across packets"}},
    {"a line split between two chunks, after a whole one",
     &asa,
     {ESA_BANNER, TO("NOOP\r\nRS", "NOOP\r\nXX"), TO("ET\r\n", "XX\r\n")},
     {ESA_BANNER_NOTE, "C|RSET|XXXX|command split across packets"}},
    {"CR and LF in different chunks",
     &asa,
     {ESA_BANNER, TO("RSET\r", "XXXX\r"), TO("\nQUIT\r\n", "\nQUIT\r\n")},
     {ESA_BANNER_NOTE, "C|RSET|XXXX|command split across packets"}},
    {"pre-7.2(3): DKIM-Signature cuts with RST at the end of headers",
     &pix_pre723,
     {PIX_TO_DATA,
      {'D',
       "DKIM-Signature: v=1; a=rsa-sha256; d=gw.test; s=s1;\r\n\tb=abc\r\n"
       "From: a@gw.test\r\nSubject: t\r\n\r\nbody\r\n.\r\n",
       "DKIM-Signature: v=1; a=rsa-sha256; d=gw.test; s=s1;\r\n\tb=abc\r\n"
       "From: a@gw.test\r\nSubject: t\r\n\r\n",
       MBOX_CUT_RST},
      /* nothing passes afterwards */
      {'S', "250 ok\r\n", "", MBOX_CUT_RST},
      {'C', "QUIT\r\n", "", MBOX_CUT_RST}},
     {"mask-banner", "C||-|header DKIM-Signature present"}},
    {"pre-7.2(3): two DKIM signatures",
     &pix_pre723,
     {PIX_TO_DATA,
      {'D', "dkim-signature: a\r\nDKIM-Signature: b\r\n\r\nbody\r\n.\r\n",
       "dkim-signature: a\r\nDKIM-Signature: b\r\n\r\n", MBOX_CUT_RST}},
     {"mask-banner", "duplicate header DKIM-Signature (PIX before 7.2(3))"}},
    {"pre-7.2(3): duplicate Received, cut with FIN",
     &pix_pre723_fin,
     {PIX_TO_DATA,
      {'D',
       "Received: from a\r\n\tby b\r\nReceived: from c\r\nSubject: "
       "t\r\n\r\nbody\r\n.\r\n",
       "Received: from a\r\n\tby b\r\nReceived: from c\r\nSubject: "
       "t\r\n\r\n",
       MBOX_CUT_DROP}},
     {"mask-banner", "duplicate header Received (PIX before 7.2(3))"}},
    {"pre-7.2(3): a folded line is not a new header",
     &pix_pre723,
     {PIX_TO_DATA,
      OK('D', "Subject: a\r\n Subject: b\r\nsubject-x: c\r\n\r\nSubject: "
              "d\r\n.\r\n"),
      OK('S', "250 ok\r\n"), OK('C', "QUIT\r\n")},
     {"mask-banner"}},
    {"pre-7.2(3): headers only, duplicate seen at end of data",
     &pix_pre723,
     {PIX_TO_DATA,
      {'D', "To: a\r\nTo: b\r\n.\r\n", "To: a\r\nTo: b\r\n", MBOX_CUT_RST}},
     {"mask-banner", "duplicate header To (PIX before 7.2(3))"}},
    {"duplicates do not matter to a box without the bug",
     &pix,
     {PIX_TO_DATA, OK('D', "To: a\r\nTo: b\r\n\r\nx\r\n.\r\n"),
      OK('S', "250 ok\r\n"), TO("VRFY x\r\n", "XXXXXX\r\n")},
     {"mask-banner", "command not allowed"}},
    {"Mailguard: CRLF.CRLF whole in one packet passes",
     &pix,
     {PIX_TO_DATA, OK('D', "Subject: t\r\n\r\nbody\r\n.\r\n"),
      OK('S', "250 ok\r\n"), TO("VRFY x\r\n", "XXXXXX\r\n")},
     {"mask-banner", "command not allowed"}},
    {"Mailguard: \".\\r\\n\" in its own packet is dropped",
     &pix,
     {PIX_TO_DATA, OK('D', "Subject: t\r\n\r\nbody\r\n"), TO(".\r\n", ""),
      /* still DATA as the box sees it: passes as message text */
      OK('C', "VRFY x\r\n")},
     {"mask-banner", "C|.|-|end of data split across packets: dropped"}},
    {"Mailguard: CRLF.CRLF split after the dot",
     &pix,
     {PIX_TO_DATA, OK('C', "Subject: t\r\n\r\nbody\r\n."), TO("\r\n", "")},
     {"mask-banner", "end of data split across packets: dropped"}},
    {"Mailguard: CRLF.CRLF split after the first CR",
     &pix,
     {PIX_TO_DATA, OK('C', "Subject: t\r\n\r\nbody\r"), TO("\n.\r\n", ""),
      OK('C', "VRFY x\r\n")},
     {"mask-banner", "end of data split across packets: dropped"}},
    {"Mailguard: an empty message's dot is split from DATA's CRLF",
     &pix,
     {PIX_TO_DATA, TO(".\r\n", "")},
     {"mask-banner", "end of data split across packets: dropped"}},
    {"Mailguard: a bare LF after a CRLF, then a whole CRLF.CRLF",
     &pix,
     {PIX_TO_DATA, OK('C', "a\r\n"), TO("\nb\r\n.\r\n", "\nb\r\n.\r\n"),
      OK('S', "250 ok\r\n"), TO("VRFY x\r\n", "XXXXXX\r\n")},
     {"mask-banner", "command not allowed"}},
    {"Mailguard: a whole CRLF.CRLF at a packet's start passes",
     &pix,
     {PIX_TO_DATA, OK('C', "Subject: t\r\n\r\nbody\r\n"), OK('C', "\r\n.\r\n"),
      OK('S', "250 ok\r\n"), TO("VRFY x\r\n", "XXXXXX\r\n")},
     {"mask-banner", "command not allowed"}},
    {"ASA: a split CRLF.CRLF passes",
     &asa,
     {ESA_BANNER, OK('C', "DATA\r\n"), OK('S', "354 go\r\n"),
      OK('C', "Subject: t\r\n\r\nbody\r\n"), OK('C', ".\r\n"),
      OK('S', "250 ok\r\n"), TO("XEXPS\r\n", "XXXXX\r\n")},
     {ESA_BANNER_NOTE, "command not allowed"}},
    {"ASA: empty message",
     &asa,
     {ESA_BANNER, OK('C', "DATA\r\n"), OK('S', "354 go\r\n"),
      OK('C', ".\r\nQUIT\r\n"), OK('S', "250 ok\r\n221 bye\r\n")},
     {ESA_BANNER_NOTE}},
    {"DATA: dot-stuffed lines and a bare LF do not end it",
     &asa,
     {ESA_BANNER, OK('C', "DATA\r\n"), OK('S', "354 go\r\n"),
      OK('D', "S: t\r\n\r\n..\r\n.x\r\n\n.\n.\r\r\nXEXPS\r\n"),
      OK('D', "\r\n.\r\n"), OK('C', "NOOP\r\n"),
      OK('S', "250 ok\r\n250 ok\r\n")},
     {ESA_BANNER_NOTE}},
    {"allow-tls: STARTTLS passes, blind after 220",
     &asa_tls,
     {ESA_BANNER,
      OK('C', "EHLO gw.test\r\n"),
      OK('S', "250-esa.lab.test\r\n250-8BITMIME\r\n250 STARTTLS\r\n"),
      OK('C', "STARTTLS\r\n"),
      OK('S', "220 2.0.0 Ready to start TLS\r\n"),
      OK('C', "\x16\x03\x01\x02\x05 XEXPS\r\nEHLO\r\n.\r\n"),
      OK('S', "\x16\x03\x03 250 STARTTLS\r\n220 x\r\n"),
      OK('C', "DKIM-Signature: x\r\nDKIM-Signature: y\r\n\r\n"),
      {'B', "", NULL, 0}},
     {ESA_BANNER_NOTE}},
    {"allow-tls: STARTTLS refused, no blind",
     &asa_tls,
     {ESA_BANNER, OK('C', "STARTTLS\r\n"),
      OK('S', "454 4.7.0 TLS not available\r\n"), TO("XEXPS\r\n", "XXXXX\r\n")},
     {ESA_BANNER_NOTE, "command not allowed"}},
    {"no allow-tls: a 220 after a masked STARTTLS does not blind",
     &asa,
     {ESA_BANNER, TO("STARTTLS\r\n", "XXXXXXXX\r\n"),
      OK('S', "220 2.0.0 Ready\r\n"), TO("XEXPS\r\n", "XXXXX\r\n")},
     {ESA_BANNER_NOTE, "command not allowed", "command not allowed"}},
};

static void
test_cases(void **state)
{
	size_t i;
	bool ok = true;

	(void)state;
	for (i = 0; i < NROWS(cases); i++)
		if (!run_variants(&cases[i]))
			ok = false;
	assert_true(ok);
}

/* --- cases with long lines, built at run time --- */

static char *
repeat(const char *head, char ch, size_t n, const char *tail)
{
	size_t h = strlen(head), t = strlen(tail);
	char *s = malloc(h + n + t + 1);

	assert_non_null(s);
	memcpy(s, head, h);
	memset(s + h, ch, n);
	memcpy(s + h + n, tail, t + 1);
	return s;
}

static char *
cat(const char *a, const char *b)
{
	char *s;

	assert_true(asprintf(&s, "%s%s", a, b) > 0);
	return s;
}

static void
test_cmd_line_length(void **state)
{
	/* "MAIL FROM:<" + 500 + "@b>" = 11 + 500 + 3 = 514: one too many */
	char *l512 = repeat("NOOP ", 'n', 507, "");
	char *l513 = repeat("MAIL FROM:<", 'a', 499, "@b>");
	char *in = NULL, *ok512 = cat(l512, "\r\n");
	struct mb_case c = {
	    "cmd_line_length 513 > 512: drop",
	    &asa,
	    {ESA_BANNER},
	    {ESA_BANNER_NOTE, "cmd_line_length 513 > 512: drop-connection"}};

	(void)state;
	assert_int_equal(strlen(l512), 512);
	assert_int_equal(strlen(l513), 513);
	assert_true(asprintf(&in, "NOOP\r\n%s\r\n%s\r\nQUIT\r\n", l512, l513) >
	            0);
	c.steps[1] = (struct step){'C', in, NULL, MBOX_CUT_DROP};
	c.steps[1].want = cat("NOOP\r\n", ok512);
	assert_true(run_variants(&c));
	free((char *)c.steps[1].want);

	/* split into pieces, the length counts over them */
	c.label = "cmd_line_length over split pieces";
	c.steps[1] = (struct step){'C', l512, NULL, 0};
	c.steps[1].want = repeat("", 'X', 512, "");
	c.steps[2] = (struct step){'C', "x", "", MBOX_CUT_DROP};
	c.notes[1] = "cmd_line_length 513 > 512: drop-connection";
	assert_true(run_variants(&c));
	free((char *)c.steps[1].want);
	free(in);
	free(l512);
	free(l513);
	free(ok512);
}

static void
test_sender_length(void **state)
{
	char *ok = repeat("MAIL FROM:<", 's', 320, ">\r\n");
	char *bad = repeat("MAIL FROM: <", 's', 321, "> SIZE=10\r\n");
	struct mb_case c = {
	    "sender_length",
	    &asa,
	    {ESA_BANNER,
	     {'C', ok, NULL, 0},
	     OK('S', "250 ok\r\n"),
	     {'C', bad, "", MBOX_CUT_DROP}},
	    {ESA_BANNER_NOTE, "sender_length 321 > 320: drop-connection"}};

	(void)state;
	assert_true(run_variants(&c));
	free(ok);
	free(bad);
}

static void
test_rcpt_count(void **state)
{
	char *rcpts = malloc(101 * 32), *oks = malloc(101 * 8 + 1), *in, *want,
	     *p;
	struct mb_case c = {"the 101st RCPT drops",
	                    &asa,
	                    {ESA_BANNER},
	                    {ESA_BANNER_NOTE,
	                     "C|RCPT TO:<u100@d.test>|-|rcpt_count 101 > "
	                     "100: drop-connection"}};
	int i;

	(void)state;
	assert_non_null(rcpts);
	assert_non_null(oks);
	for (p = rcpts, i = 0; i < 101; i++)
		p += sprintf(p, "RCPT TO:<u%d@d.test>\r\n", i);
	for (p = oks, i = 0; i < 101; i++)
		p += sprintf(p, "250 ok\r\n");
	in = cat("MAIL FROM:<a@gw.test>\r\n", rcpts);
	want = strdup(in);
	*strstr(want, "RCPT TO:<u100@") = '\0';
	c.steps[1] = (struct step){'C', in, want, MBOX_CUT_DROP};
	assert_true(run_variants(&c));

	/* RSET starts a new transaction: 100 + 100 pass */
	c.label = "RSET resets the RCPT count";
	*strstr(rcpts, "RCPT TO:<u100@") = '\0';
	free(in);
	assert_true(
	    asprintf(&in, "MAIL FROM:<a@b>\r\n%sRSET\r\n%s", rcpts, rcpts) > 0);
	c.steps[1] = (struct step){'C', in, NULL, 0};
	c.notes[1] = NULL;
	assert_true(run_variants(&c));

	/* and so does the end of a message */
	c.label = "end of data resets the RCPT count";
	c.steps[1] =
	    (struct step){'C', cat("MAIL FROM:<a@b>\r\n", rcpts), NULL, 0};
	c.steps[2] = (struct step){'S', oks, NULL, 0}; /* MAIL + 100 RCPT */
	c.steps[3] = (struct step){'C', "DATA\r\n", NULL, 0};
	c.steps[4] = (struct step){'S', "354 go\r\n", NULL, 0};
	c.steps[5] = (struct step){'D', "S: x\r\n\r\n.\r\n", NULL, 0};
	c.steps[6] = (struct step){'S', "250 ok\r\n", NULL, 0};
	c.steps[7] = (struct step){'C', rcpts, NULL, 0};
	assert_true(run_variants(&c));
	free((char *)c.steps[1].in);
	free(in);
	free(want);
	free(rcpts);
	free(oks);
}

static void
test_data_line_lengths(void **state)
{
	char *body = repeat("Subject: t\r\n\r\n", 'b', 1200, "\r\n.\r\n");
	char *hdr = repeat("Subject: t\r\nX-Long: ", 'h', 991, "\r\n\r\n.\r\n");
	char *hdr_ok =
	    repeat("Subject: t\r\nX-Long: ", 'h', 990, "\r\n\r\n.\r\n");
	struct mb_case c = {"body line > 998 is logged and passes",
	                    &asa,
	                    {ESA_BANNER,
	                     OK('C', "DATA\r\n"),
	                     OK('S', "354 go\r\n"),
	                     {'D', body, NULL, 0},
	                     OK('S', "250 ok\r\n"),
	                     TO("XEXPS\r\n", "XXXXX\r\n")},
	                    {ESA_BANNER_NOTE,
	                     "body_line_length 1200 > 998: log",
	                     "command not allowed"}};

	(void)state;
	assert_true(run_variants(&c));

	/* "X-Long: " + 991 = 999: the header line and all after it go */
	c.label = "header line > 998 drops";
	c.steps[3] = (struct step){'C', hdr, "Subject: t\r\n", MBOX_CUT_DROP};
	c.steps[4] = (struct step){'S', "250 ok\r\n", "", MBOX_CUT_DROP};
	c.steps[5].dir = 0;
	c.notes[1] = "header_line_length 999 > 998: drop-connection";
	c.notes[2] = NULL;
	assert_true(run_variants(&c));

	c.label = "header line of 998 passes";
	c.steps[3] = (struct step){'D', hdr_ok, NULL, 0};
	c.steps[4] = (struct step){'S', "250 ok\r\n", NULL, 0};
	c.notes[1] = NULL;
	assert_true(run_variants(&c));
	free(body);
	free(hdr);
	free(hdr_ok);
}

static void
test_mime_filename(void **state)
{
	char *ok = repeat("Content-Disposition: attachment; filename=", 'f',
	                  255, ";\r\n\r\nx\r\n.\r\n");
	char *body_ok = repeat("S: t\r\n\r\n--b\r\nContent-Type: a/b; "
	                       "name=x\r\n filename=\"",
	                       'f', 254, "\\\"\"\r\n.\r\n");
	char *bad =
	    repeat("Subject: t\r\n\r\n\tfilename=\"", 'f', 256, "\"\r\n.\r\n");
	struct mb_case c = {"filename of 255 passes",
	                    &asa,
	                    {ESA_BANNER,
	                     OK('C', "DATA\r\n"),
	                     OK('S', "354 go\r\n"),
	                     {'D', ok, NULL, 0},
	                     OK('S', "250 ok\r\n")},
	                    {ESA_BANNER_NOTE}};

	(void)state;
	assert_true(run_variants(&c));

	c.label = "quoted filename with an escape, 255";
	c.steps[3].in = body_ok;
	assert_true(run_variants(&c));

	c.label = "filename of 256 drops";
	c.steps[3] =
	    (struct step){'C', bad, "Subject: t\r\n\r\n", MBOX_CUT_DROP};
	c.steps[4].dir = 0;
	c.notes[1] = "mime_filename_length 256 > 255: drop-connection";
	assert_true(run_variants(&c));
	free(ok);
	free(body_ok);
	free(bad);
}

/* model choice: after Z the sequence letters start again at A. */
static void
test_sequence_wraps(void **state)
{
	struct mbox b;
	struct evbuffer *out = evbuffer_new();
	char in[1024], want[1024];
	size_t o = 0, w = 0;
	const char *got;

	(void)state;
	assert_non_null(out);
	mbox_init(&b, &asa);
	mbox_from_server(&b, "220 esa\r\n", 9, out, NULL, NULL);
	mbox_from_client(&b, "EHLO gw\r\n", 9, out, NULL, NULL);
	evbuffer_drain(out, evbuffer_get_length(out));
	o += (size_t)snprintf(in + o, sizeof(in) - o, "250-esa\r\n");
	w += (size_t)snprintf(want + w, sizeof(want) - w, "250-esa\r\n");
	for (int i = 1; i <= 28; i++) {
		o += (size_t)snprintf(in + o, sizeof(in) - o, "250%cK%02d\r\n",
		                      i == 28 ? ' ' : '-', i);
		w += (size_t)snprintf(want + w, sizeof(want) - w,
		                      "250%cXX%c\r\n", i == 28 ? ' ' : '-',
		                      'A' + (i - 1) % 26);
	}
	mbox_from_server(&b, in, o, out, NULL, NULL);
	got = (const char *)evbuffer_pullup(out, -1);
	assert_int_equal(evbuffer_get_length(out), w);
	assert_memory_equal(got, want, w);
	assert_non_null(strstr(want, "250-XXZ\r\n250-XXA\r\n250 XXB\r\n"));
	evbuffer_free(out);
}

/* A reply line longer than the box's line buffer. */
static void
test_long_reply_lines(void **state)
{
	char *kw = repeat("250 XLONG ", 'k', 1500, "\r\n");
	char *kw_x = repeat("250 ", 'X', 1505, "A\r\n");
	char *tls = repeat("250 STARTTLS ", 's', 1500, "\r\n");
	char *tls_x = repeat("250 ", 'X', 1508, "A\r\n");
	char *ban = repeat("220 ", 'a', 1500, " 2020\r\n");
	char *ban_x = repeat("220 ", '*', 1501, "2020\r\n");
	struct mb_case c = {"long banner line",
	                    &asa,
	                    {{'S', ban, ban_x, 0},
	                     OK('C', "EHLO gw\r\n"),
	                     OK('S', "250-esa\r\n"),
	                     {'S', kw, kw_x, 0},
	                     OK('C', "EHLO gw\r\n"),
	                     {'S', tls, NULL, 0}},
	                    {"mask-banner", "ehlo-reply-parameter others: mask",
	                     "no allow-tls"}};

	(void)state;
	c.steps[5].in = cat("250-esa\r\n", tls);
	c.steps[5].want = cat("250-esa\r\n", tls_x);
	assert_true(run_variants(&c));
	free((char *)c.steps[5].in);
	free((char *)c.steps[5].want);
	free(tls_x);
	free(kw);
	free(kw_x);
	free(tls);
	free(ban);
	free(ban_x);
}

/* Each complete client line is reported once, as the client sent it,
 * whether it passed, was masked, or came in pieces. */
static void
test_lines_seen(void **state)
{
	static const char *const chunks[] = {"EHLO client\r\nSTARTTLS\r\n",
	                                     "NO", "OP", "\r\n"};
	static const char *const want[] = {"EHLO client", "STARTTLS", "NOOP"};
	struct evbuffer *out = evbuffer_new();
	struct rec r = {0};
	struct mbox b;

	mbox_init(&b, &asa);
	for (size_t i = 0; i < NROWS(chunks); i++)
		assert_int_equal(mbox_from_client(&b, chunks[i],
		                                  strlen(chunks[i]), out,
		                                  rec_note, &r),
		                 MBOX_FORWARD);
	assert_int_equal(r.nlines, NROWS(want));
	for (size_t i = 0; i < NROWS(want); i++)
		if (strcmp(r.lines[i], want[i]) != 0)
			fail_msg("line %zu: got \"%s\", want \"%s\"", i,
			         r.lines[i], want[i]);
	rec_free(&r);
	evbuffer_free(out);
}

/* A conversation of 'S' and 'C' chunks (each whole), then the client
 * lines the box reported, "!" first for those it did not pass on. */
static void
want_lines(const struct mbox_config *cfg, const char *const *conv, size_t n,
           enum mbox_verdict last, const char *const *want, size_t nwant)
{
	struct evbuffer *out = evbuffer_new();
	struct rec r = {0};
	enum mbox_verdict v = MBOX_FORWARD;
	struct mbox b;

	mbox_init(&b, cfg);
	for (size_t i = 0; i < n; i++) {
		const char *c = conv[i] + 1;

		if (conv[i][0] == 'S')
			v = mbox_from_server(&b, c, strlen(c), out, rec_note,
			                     &r);
		else
			v = mbox_from_client(&b, c, strlen(c), out, rec_note,
			                     &r);
	}
	assert_int_equal(v, last);
	assert_int_equal(r.nlines, nwant);
	for (size_t i = 0; i < nwant; i++)
		if (strcmp(r.lines[i], want[i]) != 0)
			fail_msg("%s line %zu: got \"%s\", want \"%s\"",
			         cfg->name, i, r.lines[i], want[i]);
	rec_free(&r);
	evbuffer_free(out);
}

/* The client line a box cuts at, or swallows, is reported as not passed
 * (the transcript marks it not delivered). */
static void
test_lines_dropped(void **state)
{
	static struct mbox_limit rcpt2[] = {
	    {MBOX_RCPT_COUNT, 2, MBOX_ACT_DROP}};
	static struct mbox_config box_rcpt2 = {.name = "rcpt2",
	                                       .allowed = asa_verbs,
	                                       .nallowed = NROWS(asa_verbs),
	                                       .limits = rcpt2,
	                                       .nlimits = 1};
	char *l513 = repeat("VRFY ", 'v', 508, "");
	char *c513 = cat("C", l513);
	char *in = cat(c513, "\r\nQUIT\r\n");
	char *bang = cat("!", l513);
	const char *const long_conv[] = {"S220 esa\r\n", "CNOOP\r\n", in};
	const char *const long_want[] = {"NOOP", bang};
	/* the rest of the cut packet (QUIT) is not reported: never read */
	const char *const rcpt_conv[] = {
	    "S220 mx\r\n",
	    "CMAIL FROM:<a@b>\r\nRCPT TO:<1@d>\r\nRCPT TO:<2@d>\r\nRCPT "
	    "TO:<3@d>\r\nRCPT TO:<4@d>\r\n"};
	const char *const rcpt_want[] = {"MAIL FROM:<a@b>", "RCPT TO:<1@d>",
	                                 "RCPT TO:<2@d>", "!RCPT TO:<3@d>"};
	const char *const split_conv[] = {"S220 mx\r\n", "CHELO gw\r\n",
	                                  "S250 mx\r\n", "CMAIL FROM:<a@b>\r\n",
	                                  "S250 ok\r\n", "CRCPT TO:<c@d>\r\n",
	                                  "S250 ok\r\n", "CDATA\r\n",
	                                  "S354 go\r\n", "Chi\r\n",
	                                  "C.\r\n"};
	const char *const split_want[] = {"HELO gw", "MAIL FROM:<a@b>",
	                                  "RCPT TO:<c@d>", "DATA", "!."};
	const char *const piece_conv[] = {"S220 esa\r\n", c513};
	char *bang512 = strndup(bang, 1 + 512); /* what the box keeps */
	const char *const piece_want[] = {bang512};

	(void)state;
	want_lines(&asa, long_conv, NROWS(long_conv), MBOX_CUT_DROP, long_want,
	           NROWS(long_want));
	want_lines(&box_rcpt2, rcpt_conv, NROWS(rcpt_conv), MBOX_CUT_DROP,
	           rcpt_want, NROWS(rcpt_want));
	want_lines(&pix, split_conv, NROWS(split_conv), MBOX_FORWARD,
	           split_want, NROWS(split_want));
	/* a line too long before its end arrives: what came of it */
	want_lines(&asa, piece_conv, NROWS(piece_conv), MBOX_CUT_DROP,
	           piece_want, NROWS(piece_want));
	free(l513);
	free(c513);
	free(in);
	free(bang);
	free(bang512);
}

static void
test_strings(void **state)
{
	(void)state;
	assert_string_equal(mbox_action_str(MBOX_ACT_LOG), "log");
	assert_string_equal(mbox_action_str(MBOX_ACT_DROP), "drop-connection");
	assert_string_equal(mbox_action_str(MBOX_ACT_RESET), "reset");
	assert_string_equal(mbox_measure_str(MBOX_CMD_LINE), "cmd_line_length");
	assert_string_equal(mbox_measure_str(MBOX_RCPT_COUNT), "rcpt_count");
	assert_string_equal(mbox_measure_str(MBOX_SENDER_LEN), "sender_length");
	assert_string_equal(mbox_measure_str(MBOX_HEADER_LINE),
	                    "header_line_length");
	assert_string_equal(mbox_measure_str(MBOX_BODY_LINE),
	                    "body_line_length");
	assert_string_equal(mbox_measure_str(MBOX_MIME_FILENAME),
	                    "mime_filename_length");
}

static char **
words(const char *const *w, size_t n)
{
	char **v = calloc(n, sizeof(*v));
	size_t i;

	assert_non_null(v);
	for (i = 0; i < n; i++)
		assert_non_null(v[i] = strdup(w[i]));
	return v;
}

/* A config as the loader builds it; ASan and LSan check the free. */
static void
test_config_free(void **state)
{
	static const char *const verbs[] = {"HELO", "MAIL"};
	struct mbox_config *cfg = calloc(1, sizeof(*cfg));

	(void)state;
	assert_non_null(cfg);
	cfg->name = strdup("x");
	cfg->description = strdup("y");
	cfg->allowed = words(verbs, 2);
	cfg->nallowed = 2;
	cfg->ehlo_masks = calloc(1, sizeof(*cfg->ehlo_masks));
	assert_non_null(cfg->ehlo_masks);
	cfg->ehlo_masks[0].keyword = strdup("STARTTLS");
	cfg->ehlo_masks[0].replacement = strdup("XXXXXXXA");
	cfg->nehlo_masks = 1;
	cfg->ehlo_allowed = words(verbs, 1);
	cfg->nehlo_allowed = 1;
	cfg->limits = calloc(2, sizeof(*cfg->limits));
	cfg->nlimits = 2;
	cfg->cut_headers = words(verbs, 2);
	cfg->ncut_headers = 2;
	mbox_config_free(cfg);
	mbox_config_free(NULL);
	mbox_config_free(calloc(1, sizeof(*cfg)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),
	    cmocka_unit_test(test_cmd_line_length),
	    cmocka_unit_test(test_sender_length),
	    cmocka_unit_test(test_rcpt_count),
	    cmocka_unit_test(test_data_line_lengths),
	    cmocka_unit_test(test_mime_filename),
	    cmocka_unit_test(test_long_reply_lines),
	    cmocka_unit_test(test_sequence_wraps),
	    cmocka_unit_test(test_lines_seen),
	    cmocka_unit_test(test_lines_dropped),
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_config_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
