/*
 * middlebox.h - a firewall between the client and the emulated server
 * (Cisco PIX "fixup protocol smtp" / Mailguard, ASA "inspect esmtp"),
 * as pure functions over the byte chunks each side sends.
 *
 * A real box inspects each packet and keeps its own view of the SMTP
 * conversation, independent of the server's. So does this one: it gets
 * every chunk as it was read from the client (one read = one "packet")
 * and every chunk of server output as it is flushed, and returns what the
 * other side receives, with a note for every change (for the two-hop
 * transcript). Once TLS is up it passes bytes untouched, as it can no
 * longer read them.
 *
 * Packets. A real box inspects IP packets; this one inspects what the
 * server reads, and "a packet" is defined as the bytes of one read of the
 * client's socket (net/io.c, net/via.c), so that a test can control it:
 *   - one read takes at most 16 KiB (io.c IO_READ_MAX, less when the
 *     session's input is full): a longer write is several packets;
 *   - TCP keeps no write boundaries: whatever the client has written by
 *     the time the server reads is one packet; two writes are two
 *     packets only when the server read the first before the second
 *     arrived (on loopback a race, unless the client waits);
 *   - every packet is in the transcript (an info event "packet N: M
 *     bytes from the client"), so a test sends one piece, waits for its
 *     packet event, then sends the next: the boundary is then certain;
 *   - once TLS is up the boxes read nothing and packets do not matter.
 * What a real client meets: a command or an end of data split over two
 * writes (telnet's character mode; nodemailer writes ".\r\n" on its own
 * after the message) is split for the box only when the server read in
 * between; through a real firewall that depends on how the client's TCP
 * stack cut the segments (Nagle, the peer's ACKs), so the same client can
 * pass one day and time out the next (FACTS.md 6, kb 295725).
 *
 * Not here: sockets, sessions, profiles on disk (profile.c loads "kind:
 * middlebox" files into struct mbox_config).
 */
#ifndef MIDDLEBOX_H
#define MIDDLEBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;

/* What a box does about something it does not like. */
enum mbox_action {
	MBOX_ACT_LOG,  /* note it, pass it on */
	MBOX_ACT_DROP, /* drop-connection: nothing more passes either way,
	                * and neither end is told (no FIN, no RST) */
	MBOX_ACT_RESET /* reset: nothing more passes; RST to the client */
};
const char *mbox_action_str(enum mbox_action a);

enum mbox_banner {
	MBOX_BANNER_PASS,
	MBOX_BANNER_MASK,     /* '*' for all but '2', '0', '0', CR, LF */
	MBOX_BANNER_MASK_ALL, /* '*' for all but CR, LF (PIX 4.4) */
};

enum mbox_denied {
	MBOX_DENIED_MASK, /* X's of the same length: the server answers 500 */
	MBOX_DENIED_NOOP, /* rewritten to NOOP */
};

/* What the box does to an EHLO keyword line it does not allow. */
enum mbox_others {
	MBOX_OTHERS_PASS, /* passes as it is */
	MBOX_OTHERS_MASK, /* X's of the same length */
	/* X's of the same length, the last one replaced by a sequence
	 * letter: 'A' for the first masked keyword of the reply, 'B' for the
	 * second, ... (FACTS.md 5: STARTTLS -> XXXXXXXA as the first,
	 * X-EXPS GSSAPI NTLM LOGIN -> 23 X's and D as the fourth) */
	MBOX_OTHERS_MASK_SEQUENCE,
};

/* What a limit measures. */
enum mbox_measure {
	MBOX_CMD_LINE,      /* command line length, without CRLF */
	MBOX_RCPT_COUNT,    /* RCPT commands in one transaction */
	MBOX_SENDER_LEN,    /* MAIL FROM address length */
	MBOX_HEADER_LINE,   /* message header line length, without CRLF */
	MBOX_BODY_LINE,     /* message body line length, without CRLF */
	MBOX_MIME_FILENAME, /* length of a filename="..." parameter */
	MBOX_MEASURE_COUNT
};
const char *mbox_measure_str(enum mbox_measure m);

struct mbox_limit {
	enum mbox_measure what;
	uint64_t over; /* acts when the measure is greater than this */
	enum mbox_action action;
};

/* An EHLO keyword the box rewrites to an exact string (STARTTLS ->
 * XXXXXXXA), whatever else it does to keywords. It counts as a masked
 * keyword: under MBOX_OTHERS_MASK_SEQUENCE the next masked keyword of the
 * reply gets the letter after it. */
struct mbox_ehlo_mask {
	char *keyword;     /* upper case, first word of the EHLO line */
	char *replacement; /* the whole line text after "250-"/"250 " */
};

struct mbox_config {
	char *name;
	char *description;
	enum mbox_banner banner;
	char **allowed; /* verbs that pass, upper case */
	size_t nallowed;
	enum mbox_denied denied;
	/* EHLO reply: exact masks first, then the allowed keywords pass and
	 * every other keyword line (the whole line, parameters too) goes as
	 * ehlo_mask_others says; STARTTLS without allow_tls is never let
	 * through (masked as the others are, X's if they pass) */
	struct mbox_ehlo_mask *ehlo_masks;
	size_t nehlo_masks;
	char **ehlo_allowed;
	size_t nehlo_allowed;
	enum mbox_others ehlo_mask_others;
	bool allow_tls; /* STARTTLS passes; after its 220 the box is blind */
	struct mbox_limit *limits;
	size_t nlimits;
	bool drop_split_eod; /* Mailguard: CRLF.CRLF split over packets */
	/* The pre-7.2(3) PIX bug: cut the session when the header section
	 * carries a duplicate header, or one of these names. */
	bool cut_on_duplicate;
	char **cut_headers; /* case-insensitive names, e.g. DKIM-Signature */
	size_t ncut_headers;
	enum mbox_action cut_action;
	/* drop-connection: how long the box keeps the dropped connection's
	 * server side before it closes it (ASA "timeout conn") */
	unsigned timeout_conn_ms;
};

enum mbox_dir {
	MBOX_TO_SERVER, /* a client chunk, as the server will get it */
	MBOX_TO_CLIENT, /* a server chunk, as the client will get it */
};

/*
 * A note: the box changed or judged something. orig/now are one line
 * without CRLF (now is NULL when the line was removed, or when the note is
 * a verdict with nothing rewritten); why says which feature did it, e.g.
 * "mask-banner", "no allow-tls", "command not allowed",
 * "cmd_line_length 513 > 512: drop-connection". orig, now and why point
 * into the chunk or the box: valid during the callback only, copy them.
 */
struct mbox_note {
	enum mbox_dir dir;
	const char *orig;
	size_t orig_len;
	const char *now;
	size_t now_len;
	const char *why;
	bool dropped; /* orig did not pass: the box swallowed it or cut */
};
/* A note with why NULL is no change: it reports each complete client
 * command line as the box saw it (orig), so the transcript can show what
 * the client sent before any box touched it. With dropped set it is a
 * client line the box did not pass on (a cut at it, a split end of data
 * dropped; also in DATA, where lines are not reported otherwise); the
 * note that says why follows. */
typedef void (*mbox_note_fn)(void *arg, const struct mbox_config *box,
                             const struct mbox_note *note);

/* What the connection does after a chunk went through. */
enum mbox_verdict {
	MBOX_FORWARD,  /* pass the output on */
	MBOX_CUT_DROP, /* drop-connection: discard the output and everything
	                * after it; the client is told nothing (its read
	                * stalls) until the box's timeout_conn */
	MBOX_CUT_RST,  /* discard the output, reset the client */
};

/*
 * One box's view of one connection. Callers only set it up with mbox_init;
 * every other field is the middlebox layer's own per-connection state.
 */
struct mbox {
	const struct mbox_config *cfg;
	int mode;              /* private: command / data / blind */
	enum mbox_verdict cut; /* not MBOX_FORWARD once cut: nothing passes */
	size_t cut_rest;       /* bytes of the cut chunk after the cut line */
	char why[128];         /* text of the last formatted note */
	/* client side: the line in progress */
	bool line_open;   /* it began in an earlier chunk */
	bool cr_pending;  /* the last chunk ended with CR */
	size_t line_len;  /* its bytes so far, without the line end */
	char line[512];   /* a split command as typed (for the note) */
	size_t line_kept; /* bytes of it in line[] */
	unsigned rcpts;   /* RCPTs in this transaction */
	/* what the replies the server still owes answer, oldest first
	 * (pipelining); runs of the same kind share an entry */
	struct {
		unsigned char ans;
		unsigned short n;
	} fifo[16];
	unsigned fifo_head, fifo_len;
	/* DATA */
	bool in_headers;
	int eod_state;      /* private: progress through CRLF.CRLF */
	bool eod_before;    /* ... which began in an earlier chunk */
	int name_state;     /* private: header name parse */
	uint64_t name_hash; /* header name, lower case (FNV-1a) */
	char name[64];      /* ... as written, truncated */
	size_t name_len;
	uint64_t seen[128]; /* hashes of the header names seen */
	size_t nseen;
	bool has_dup, has_cut; /* a duplicate / a cut_headers name seen */
	char dup[64], cut_name[64];
	size_t dup_len, cut_name_len;
	int fn_state; /* private: filename= scanner */
	size_t fn_match, fn_len;
	unsigned char fn_prev;
	/* server side: reply line assembly */
	bool greeted;     /* the banner went by */
	bool reply_first; /* the next line starts a reply */
	int reply_cont;   /* private: how the rest of a long line goes */
	int cont_code;
	bool cont_final;
	bool cont_held;   /* a masked byte waits: it may be the letter */
	char cont_letter; /* the sequence letter of that long line */
	unsigned masked;  /* keyword lines masked so far in this reply */
	char reply[1024];
	size_t reply_len;
};

/* mbox_init - a fresh view, before the banner */
void mbox_init(struct mbox *b, const struct mbox_config *cfg);

/*
 * mbox_from_client - one client chunk (one read): append what the server
 * gets to out, call note for every change. A line that does not arrive
 * whole in one chunk is masked piece by piece (the server gets "XXXX" for
 * a command typed in telnet's character mode); in DATA the box watches
 * headers, line lengths and the end of data.
 */
enum mbox_verdict mbox_from_client(struct mbox *b, const char *in, size_t len,
                                   struct evbuffer *out, mbox_note_fn note,
                                   void *arg);

/*
 * mbox_from_server - one chunk of server output (the replies to one client
 * chunk): append what the client gets to out. Masks the banner and EHLO
 * keywords, follows 354 (DATA) and 220 after STARTTLS (blind from then).
 */
enum mbox_verdict mbox_from_server(struct mbox *b, const char *in, size_t len,
                                   struct evbuffer *out, mbox_note_fn note,
                                   void *arg);

/* mbox_go_blind - the connection is encrypted from its first byte */
void mbox_go_blind(struct mbox *b);

/* mbox_blind - TLS went by: the box passes everything from now on */
bool mbox_blind(const struct mbox *b);

/* mbox_reading_commands - the box reads what the client sends now as
 * command lines (not message data after a 354, not blind after TLS) */
bool mbox_reading_commands(const struct mbox *b);

/* mbox_config_free - free a config built by the loader */
void mbox_config_free(struct mbox_config *cfg);

#endif
