/*
 * profile.c - load, validate and describe behaviour profiles.
 *
 * Does: find a profile file by name or path, parse it with libyaml's
 * document API, follow "extends:" (parent first, then this file on top),
 * check every key, type and value, and fill a struct profile that the
 * sessions then share read-only. Every error is one line
 * "file:line:column: what is wrong (what to do)", with 1-based positions.
 * Also: "kind: middlebox" files (struct mbox_config, for middlebox.c)
 * and a server's "via" list of them, the name tables (replies, verbs,
 * hooks, close modes), the --check summary and the --list-profiles
 * listing.
 *
 * Does not: match rules (rules.c), expand templates (template.c; only
 * template_check() is used here), or read any YAML by hand.
 *
 * The schema, every key ("|" separates the choices):
 *
 *   name: standard                # required in every file; [a-z0-9._-]+
 *   description: "one line"       # for --list-profiles; not inherited
 *   kind: server                  # server | middlebox (see the end of
 *                                 # this list); default server. Each file
 *                                 # says its own kind; extends across
 *                                 # kinds is an error
 *   via: [asa-esmtp-inspect]      # middleboxes in front of this server,
 *                                 # client side first; replaces the
 *                                 # parent's list. A NAME is looked up as
 *                                 # middleboxes/NAME.yaml, then NAME.yaml,
 *                                 # in this file's directory, then in
 *                                 # each search dir; a path is relative
 *                                 # to this file. Each must be kind
 *                                 # middlebox; at most 8
 *   extends: standard             # load that profile first, then overlay
 *                                 # this one. A NAME is looked up as
 *                                 # NAME.yaml in this file's directory,
 *                                 # then in the search dirs; a path
 *                                 # (with "/" or ending ".yaml") is taken
 *                                 # relative to this file's directory.
 *                                 # At most 8 levels; cycles are errors.
 *   hostname: mx.lab.test         # {hostname}; default "mx.lab.test"
 *   greeting: "220 {hostname} ESMTP smtp-mimic"   # a reply (see below)
 *   ehlo:
 *     greeting: "{hostname}"      # first EHLO line, after "250-"
 *     keywords: [PIPELINING, "SIZE 10485760", ...] # in order; replaces
 *                                 # the parent's list as a whole. The first
 *                                 # word sets the engine's extension bits
 *                                 # (SIZE PIPELINING 8BITMIME SMTPUTF8 DSN
 *                                 # CHUNKING BINARYMIME STARTTLS AUTH
 *                                 # ENHANCEDSTATUSCODES); others are only
 *                                 # advertised. "SIZE n" gives ext_size,
 *                                 # "AUTH m1 m2" the mechanisms.
 *   commands: [HELO, EHLO, ...]   # recognised verbs; default: all of them
 *   line_endings: strict          # strict | lenient
 *   replies:                      # any reply key but "greeting" (see
 *     mail_ok: "250 2.1.0 Ok"     # reply_id_names[] below); merged key by key
 *   limits:                       # merged key by key
 *     line_length: 512            # bytes incl. CRLF; byte sizes take
 *     text_line_length: 1000      # K, M, G suffixes (1024-based): 36M
 *     recipients: 100
 *     message_size: 10M           # 0 = unlimited; absent in every file:
 *                                 # the "SIZE n" keyword's n, else 0
 *     header_size: 0              # 0 = unlimited
 *     bad_commands: 0             # 0 = no limit
 *     bad_commands_close: fin     # fin | rst | silent
 *     idle_timeout: 5m            # durations: a bare number is ms, or
 *     connection_timeout: 0       # with ms, s, m or h: 250ms, 300s, 5m
 *     hang_timeout: 10m
 *     max_sessions: 1000          # 0 = unlimited
 *     max_sessions_per_client: 0  # 0 = unlimited
 *   auth:                         # merged key by key
 *     credentials: [{user: alice, password: secret}]   # list replaces
 *     accept_any: false
 *     require_tls: false
 *   tls:                          # merged key by key; lists replace.
 *                                 # Absent everywhere: no TLS (STARTTLS
 *                                 # gets tls_unavailable). A "tls:" in a
 *                                 # file (even "tls: {}" or "tls:") turns
 *                                 # TLS on unless it says enabled: false.
 *     enabled: true
 *     versions: [tls1.2, tls1.3]  # ssl3 tls1.0 tls1.1 tls1.2 tls1.3
 *     ciphers: [TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384, 0xC028, ...]
 *                                 # TLS <= 1.2, server order; IANA names
 *                                 # (TLS_[A-Z0-9_]+) or 0xHHHH, kept as
 *                                 # strings: names the linked OpenSSL
 *                                 # lacks (RC4, 3DES) are tls_policy's to
 *                                 # report. Empty: OpenSSL's DEFAULT
 *     ciphersuites: [TLS_AES_256_GCM_SHA384]   # TLS 1.3, IANA names;
 *                                 # empty: OpenSSL's default
 *     server_preference: true
 *     groups: [P-256, P-384]      # empty: OpenSSL's default
 *     dh_bits: 0                  # 0 (auto) | 1024 | 2048 | 3072 | 4096
 *                                 # | 8192
 *     sigalgs: [RSA+SHA256]       # empty: OpenSSL's default
 *     security_level: 0           # 0..5; absent: OpenSSL's default (-1)
 *     key: rsa                    # rsa | ecdsa
 *     key_bits: 2048              # RSA only, 1024..8192
 *     no_shared_cipher: openssl   # openssl | alert | fin | rst; alert is
 *     no_shared_version: openssl  # a fatal handshake_failure (40)
 *   rules:                        # merged by name, see below
 *     - name: tarpit-unknown      # required, unique in the file
 *       why: "text for the transcript"
 *       enabled: true             # default true
 *       probability: 1.0          # 0 < p <= 1, default 1
 *       times: 0                  # firings per process; 0 = no cap
 *       when:                     # exactly one hook:
 *         command: {verb: RCPT, nth: 0, arg: "unknown@"}
 *                                 # all optional; verb is any word, upper-
 *                                 # cased; arg a POSIX ERE, case-blind
 *         # connect: {client: "^127\\."}    (or {} or null)
 *         # header: {name: DKIM-Signature, duplicate: false}
 *         # data: {size_over: 1M}  (0 or absent: at end of data)
 *         # tls_client_hello: {offers_any: [SUITE, ...], offers_all: [..],
 *         #   offers_none: [..], versions_any: [tls1.0, ..], sni: "ERE",
 *         #   extension: 13}      all optional; a SUITE is an IANA name
 *         #                       the linked OpenSSL knows, or 0xHHHH
 *         # tls_handshake_done: {version: tls1.2, suite: SUITE}
 *         # tls_failed: {reason: "ERE"}     (OpenSSL's reason string)
 *       do:                       # at least one of:
 *         delay: 5s
 *         reply: "550 5.1.1 User unknown"   # a reply; not with tls_* hooks
 *         close: fin              # fin | rst | silent
 *         hang: true
 *         alert: handshake_failure   # tls_* hooks only: a TLS alert by
 *                                 # SSL_alert_desc_string_long() name,
 *                                 # lower case, "_" for spaces, or 0..255;
 *                                 # at handshake_done only close_notify
 *         at: handshake_done      # tls_* hooks only: client_hello (with
 *                                 # tls_client_hello) | handshake_done;
 *                                 # default: the hook's own point
 *
 * A "kind: middlebox" file (a firewall in the path, middlebox.h) has
 * name, description, kind, extends and only these keys; a server key in
 * it is an error naming the kind that allows it, and so is a middlebox
 * key in a server profile. Its "extends" NAME is looked up like a "via"
 * NAME. Maps merge key by key, lists replace:
 *
 *   banner: mask                  # pass | mask (all but "2", "0", "0",
 *                                 # CR, LF become "*") | mask-all
 *   commands:
 *     allowed: [HELO, MAIL, ...]  # verbs that pass, any words, upper-
 *                                 # cased; default: the engine's verbs.
 *                                 # STARTTLS passes exactly when
 *                                 # allow_tls is true (added here then;
 *                                 # listing it with false is an error)
 *     denied: mask                # mask (X's) | noop
 *   ehlo:
 *     masks: {STARTTLS: XXXXXXXA} # keyword -> the exact line text after
 *                                 # "250-"; merged keyword by keyword
 *     allowed: [8BITMIME, SIZE]   # keywords that pass
 *     others: pass                # pass | mask (X's of the same length)
 *   allow_tls: true
 *   limits:                       # a list (a server's is a mapping)
 *     - {what: cmd_line_length, over: 512, action: drop-connection}
 *                                 # what: cmd_line_length | rcpt_count
 *                                 # | sender_length | header_line_length
 *                                 # | body_line_length
 *                                 # | mime_filename_length; over: a whole
 *                                 # number; action: log
 *                                 # | drop-connection | reset
 *   split_end_of_data: pass       # pass | drop
 *   duplicate_headers:            # the pre-7.2(3) PIX bug
 *     cut: false
 *     headers: [DKIM-Signature]   # names, case-blind
 *     action: reset               # reset | drop-connection
 *
 * A box without settings changes nothing: banner pass, every engine verb
 * allowed, allow_tls true, others pass, no limits.
 *
 * A reply is a string or a list of strings (one per line, no CRLF). Each
 * line starts with a three-digit code 200-599 followed by the end, " " or
 * "-"; every line but the last has "-", the last has " " or nothing.
 * Replies, greetings and keywords may hold {placeholders} (template.h).
 *
 * Overlay ("extends"): scalars replace; replies, limits, auth, tls and
 * ehlo merge key by key; commands, ehlo.keywords and the tls lists
 * replace; a rule with the name of an inherited rule is overlaid on it in
 * place, key by key, with "when" and "do" each replaced as a whole (so
 * "{name: x, enabled: false}" disables rule x); rules with new names are
 * appended. "when" and "do" are checked against each other after the
 * overlay (e.g. "alert" needs a tls_* hook).
 */
#include "profile.h"
#include "template.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#define nitems(a)         (sizeof(a) / sizeof((a)[0]))
#define PROFILE_MAX_DEPTH 8         /* levels of "extends" */
#define PROFILE_MAX_BYTES (1 << 20) /* a profile is a small text file */
#define MSG_MAX           1024

/* ------------------------------------------------------------------ */
/* Name tables                                                         */


/* The schema's version names (parsed by tls_version_from_str()). */
static const struct {
	const char *name;
	unsigned bit;
} tls_versions[] = {
    {"ssl3", TLSV_SSL3},  {"tls1.0", TLSV_1_0}, {"tls1.1", TLSV_1_1},
    {"tls1.2", TLSV_1_2}, {"tls1.3", TLSV_1_3},
};

static const char *const noshared_names[] = {
    [TLS_NOSHARED_OPENSSL] = "openssl",
    [TLS_NOSHARED_ALERT] = "alert",
    [TLS_NOSHARED_FIN] = "fin",
    [TLS_NOSHARED_RST] = "rst",
};

static const char *const key_names[] = {
    [TLS_KEY_RSA] = "rsa",
    [TLS_KEY_ECDSA] = "ecdsa",
};

static const char *const at_names[] = {
    [TLS_AT_NOW] = "now",
    [TLS_AT_CLIENT_HELLO] = "client_hello",
    [TLS_AT_HANDSHAKE_DONE] = "handshake_done",
};

#define TLS_ALERT_CLOSE_NOTIFY 0 /* RFC 5246 7.2.1 */

/* "kind:" - which keys a file may hold (bits, so a key can allow both) */
enum profile_kind {
	KIND_SERVER = 1u << 0,
	KIND_MBOX = 1u << 1,
};
#define KIND_BOTH (KIND_SERVER | KIND_MBOX)

static const char *const kind_names[] = {"server", "middlebox"};

static const char *
kind_str(unsigned kind)
{
	return kind == KIND_MBOX ? "middlebox" : "server";
}

/* The middlebox schema's words, indexed by middlebox.h's enums. */
static const char *const banner_names[] = {
    [MBOX_BANNER_PASS] = "pass",
    [MBOX_BANNER_MASK] = "mask",
    [MBOX_BANNER_MASK_ALL] = "mask-all",
};

static const char *const denied_names[] = {
    [MBOX_DENIED_MASK] = "mask",
    [MBOX_DENIED_NOOP] = "noop",
};

static const char *const mbox_action_names[] = {
    [MBOX_ACT_LOG] = "log",
    [MBOX_ACT_DROP] = "drop-connection",
    [MBOX_ACT_RESET] = "reset",
};

/* duplicate_headers.action: a cut is never just logged */
static const char *const cut_action_names[] = {
    [MBOX_ACT_LOG] = NULL,
    [MBOX_ACT_DROP] = "drop-connection",
    [MBOX_ACT_RESET] = "reset",
};

static const char *const measure_names[MBOX_MEASURE_COUNT] = {
    [MBOX_CMD_LINE] = "cmd_line_length",
    [MBOX_RCPT_COUNT] = "rcpt_count",
    [MBOX_SENDER_LEN] = "sender_length",
    [MBOX_HEADER_LINE] = "header_line_length",
    [MBOX_BODY_LINE] = "body_line_length",
    [MBOX_MIME_FILENAME] = "mime_filename_length",
};

/* ehlo.others and split_end_of_data: index 1 is the bool's true */
static const char *const others_names[] = {"pass", "mask"};
static const char *const split_eod_names[] = {"pass", "drop"};

#define PROFILE_MAX_VIA 8 /* middleboxes in front of one server */


static const char *const default_keywords[] = {
    "PIPELINING", "SIZE 10485760", "ENHANCEDSTATUSCODES",
    "8BITMIME",   "SMTPUTF8",      "DSN",
    "CHUNKING",
};



/*
 * A TLS alert's schema name: SSL_alert_desc_string_long() lower-cased,
 * spaces as "_" ("handshake failure" -> "handshake_failure"); NULL when
 * OpenSSL has no name for it.
 */
static const char *
alert_name(int desc, char *buf, size_t len)
{
	const char *s = SSL_alert_desc_string_long(desc);
	size_t i;

	if (desc < 0 || desc > 255 || strcmp(s, "unknown") == 0)
		return NULL;
	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = s[i] == ' ' ? '_' : (char)tolower((unsigned char)s[i]);
	buf[i] = '\0';
	return buf;
}

/* alert_from_name - the alert number of a schema name, or -1 */
static int
alert_from_name(const char *name)
{
	char buf[64];

	for (int i = 0; i < 256; i++) {
		const char *n = alert_name(i, buf, sizeof(buf));

		if (n != NULL && strcmp(n, name) == 0)
			return i;
	}
	return -1;
}


/* ------------------------------------------------------------------ */
/* Memory                                                              */

/* What the loader knows beyond struct profile, for the summary. */
struct profile_impl {
	struct profile pub; /* first: &impl->pub == (void *)impl */
	char **chain_names; /* this file, its parent, ... */
	char **chain_paths;
	size_t nchain;
	bool size_from_keyword; /* message_size came from "SIZE n" */
};

static struct profile_impl *
impl_of(const struct profile *p)
{
	return (struct profile_impl *)(void *)p;
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		abort();
	return p;
}

static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		abort();
	return p;
}

static void *
xreallocarray(void *old, size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size)
		abort();
	p = realloc(old, n * size != 0 ? n * size : 1);
	if (p == NULL)
		abort();
	return p;
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		abort();
	return p;
}

static void
strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
reply_free(struct reply_text *r)
{
	strv_free(r->lines, r->n);
	r->lines = NULL;
	r->n = 0;
}

static void
reply_set1(struct reply_text *r, const char *line)
{
	reply_free(r);
	r->lines = xmalloc(sizeof(char *));
	r->lines[0] = xstrdup(line);
	r->n = 1;
}

/* Empty "when": every field at its "any" value. */
static void
when_init(struct rule_when *w)
{
	memset(w, 0, sizeof(*w));
	w->verb = VERB_UNKNOWN;
	w->extension = -1;
	w->suite = -1;
}

static void
when_free(struct rule_when *w)
{
	if (w->client_pattern != NULL)
		regfree(&w->client_re);
	if (w->arg_pattern != NULL)
		regfree(&w->arg_re);
	if (w->sni_pattern != NULL)
		regfree(&w->sni_re);
	if (w->reason_pattern != NULL)
		regfree(&w->reason_re);
	free(w->client_pattern);
	free(w->arg_pattern);
	free(w->verb_name);
	free(w->header_name);
	free(w->sni_pattern);
	free(w->reason_pattern);
	free(w->offers_any);
	free(w->offers_all);
	free(w->offers_none);
	when_init(w);
}

/* Empty "do": no action, no alert. */
static void
do_init(struct rule_do *d)
{
	memset(d, 0, sizeof(*d));
	d->alert = -1;
	d->at = TLS_AT_NOW;
}

static void
do_free(struct rule_do *d)
{
	reply_free(&d->reply);
	do_init(d);
}

static void
rule_free(struct rule *r)
{
	free(r->name);
	free(r->why);
	when_free(&r->when);
	do_free(&r->act);
}

static void
creds_free(struct auth_policy *a)
{
	for (size_t i = 0; i < a->ncreds; i++) {
		free(a->creds[i].user);
		free(a->creds[i].password);
	}
	free(a->creds);
	a->creds = NULL;
	a->ncreds = 0;
}

static void
profile_free(struct profile_impl *pi)
{
	struct profile *p = &pi->pub;

	free(p->name);
	free(p->description);
	free(p->path);
	free(p->hostname);
	free(p->ehlo_greeting);
	strv_free(p->ehlo_keywords, p->nehlo_keywords);
	strv_free(p->auth_mechs, p->nauth_mechs);
	for (size_t i = 0; i < REPLY_COUNT; i++)
		reply_free(&p->replies[i]);
	creds_free(&p->auth);
	strv_free(p->tls.ciphers, p->tls.nciphers);
	strv_free(p->tls.ciphersuites, p->tls.nciphersuites);
	strv_free(p->tls.groups, p->tls.ngroups);
	strv_free(p->tls.sigalgs, p->tls.nsigalgs);
	for (size_t i = 0; i < p->nrules; i++)
		rule_free(&p->rules[i]);
	free(p->rules);
	if (p->mbox != NULL)
		mbox_config_free(p->mbox);
	for (size_t i = 0; i < p->nvia; i++)
		profile_unref(p->via[i]);
	free(p->via);
	strv_free(pi->chain_names, pi->nchain);
	strv_free(pi->chain_paths, pi->nchain);
	free(pi);
}

/* profile_ref - one more user of p */
struct profile *
profile_ref(struct profile *p)
{
	if (p != NULL)
		atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
	return p;
}

/* profile_unref - one user fewer; the last one frees everything */
void
profile_unref(struct profile *p)
{
	if (p == NULL)
		return;
	if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1) {
		tls_policy_free(p->tls_policy); /* built by server.c */
		profile_free(impl_of(p));
	}
}

/* ------------------------------------------------------------------ */
/* EHLO keywords -> extension bits                                     */

struct kw_state {
	unsigned ext;
	uint64_t ext_size;
	bool size_is_max_size; /* "SIZE {max_size}" */
	char **mechs;
	size_t nmechs;
};

/*
 * Derive the extension bits from one keyword. Returns NULL, or what is
 * wrong with it (a message that fits the "(what to do)" part).
 */
static const char *
kw_derive(struct kw_state *st, const char *kw, char *why, size_t whylen)
{
	size_t wlen = strcspn(kw, " ");
	const char *rest = kw + wlen;
	unsigned bit = 0;

	while (*rest == ' ')
		rest++;
	bit = ext_from_word(kw, wlen);
	if (bit == 0)
		return NULL; /* advertised only */
	if (st->ext & bit) {
		snprintf(
		    why, whylen,
		    "keyword \"%.*s\" is listed twice in \"ehlo.keywords\" "
		    "(keep one)",
		    (int)wlen, kw);
		return why;
	}
	st->ext |= bit;
	if (bit == EXT_SIZE) {
		char *end;

		if (*rest == '\0')
			return NULL; /* RFC 1870 4: no fixed maximum */
		if (strcmp(rest, "{max_size}") == 0) {
			st->size_is_max_size = true;
			return NULL;
		}
		errno = 0;
		if (!isdigit((unsigned char)*rest))
			goto badsize;
		st->ext_size = strtoull(rest, &end, 10);
		if (errno != 0 || *end != '\0')
			goto badsize;
		return NULL;
	badsize:
		snprintf(
		    why, whylen,
		    "bad \"SIZE\" keyword \"%s\" in \"ehlo.keywords\" (write "
		    "\"SIZE\" and a number of bytes, e.g. \"SIZE 10485760\")",
		    kw);
		return why;
	}
	if (bit == EXT_AUTH) {
		while (*rest != '\0') {
			size_t n = strcspn(rest, " ");

			st->mechs = xreallocarray(st->mechs, st->nmechs + 1,
			                          sizeof(char *));
			st->mechs[st->nmechs] = xmalloc(n + 1);
			for (size_t i = 0; i < n; i++)
				st->mechs[st->nmechs][i] =
				    (char)toupper((unsigned char)rest[i]);
			st->mechs[st->nmechs++][n] = '\0';
			rest += n;
			while (*rest == ' ')
				rest++;
		}
		if (st->nmechs == 0) {
			snprintf(
			    why, whylen,
			    "\"AUTH\" keyword without mechanisms in "
			    "\"ehlo.keywords\" (list them, e.g. \"AUTH PLAIN "
			    "LOGIN\")");
			return why;
		}
	}
	return NULL;
}

/* Replace the profile's keywords and derived fields with st's. */
static void
kw_commit(struct profile *p, struct kw_state *st)
{
	strv_free(p->auth_mechs, p->nauth_mechs);
	p->auth_mechs = st->mechs;
	p->nauth_mechs = st->nmechs;
	p->ext = st->ext;
	p->ext_size = st->ext_size;
	st->mechs = NULL;
	st->nmechs = 0;
}

/* ------------------------------------------------------------------ */
/* Loader state and errors                                             */

struct loader {
	struct profile_impl *pi;
	const char *const *dirs;
	size_t ndirs;
	char *err;
	size_t errlen;
	/* the files being loaded, outermost first, for cycles */
	char *real[PROFILE_MAX_DEPTH + 1];
	const char *names[PROFILE_MAX_DEPTH + 1];
	size_t depth;
	bool size_explicit;    /* some file set limits.message_size */
	bool size_is_max_size; /* current keywords say "SIZE {max_size}" */
	unsigned kind;         /* KIND_x of the files loaded so far */
};

/* One file being loaded. */
struct layer {
	struct loader *ld;
	struct profile *p;
	const char *path;
	char *src;
	size_t srclen;
	yaml_document_t doc;
	bool have_doc;
	size_t rules_before; /* p->nrules before this file's rules */
	unsigned kind;       /* this file's KIND_x */
	bool kind_explicit;  /* it says "kind:" */
};

/* Keep the error on one line, whatever the YAML held. */
static void
one_line(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

static int
verr_at(struct layer *l, size_t line0, size_t col0, const char *fmt, va_list ap)
{
	char msg[MSG_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(l->ld->err, l->ld->errlen, "%s:%zu:%zu: %s", l->path,
	         line0 + 1, col0 + 1, msg);
	one_line(l->ld->err);
	return -1;
}

__attribute__((format(printf, 4, 5))) static int
err_at(struct layer *l, size_t line0, size_t col0, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr_at(l, line0, col0, fmt, ap);
	va_end(ap);
	return -1;
}

/* An error located at node n. Always returns -1. */
__attribute__((format(printf, 3, 4))) static int
err_node(struct layer *l, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr_at(l, n->start_mark.line, n->start_mark.column, fmt, ap);
	va_end(ap);
	return -1;
}

__attribute__((format(printf, 2, 3))) static int
err_plain(struct loader *ld, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ld->err, ld->errlen, fmt, ap);
	va_end(ap);
	one_line(ld->err);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Node helpers                                                        */

static yaml_node_t *
node(struct layer *l, int id)
{
	return yaml_document_get_node(&l->doc, id);
}

static const char *
sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static bool
is_null(const yaml_node_t *n)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	s = sval(n);
	return *s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	       strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static const char *
kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return is_null(n) ? "null" : "a string";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

static int
wrong_type(struct layer *l, const yaml_node_t *n, const char *what,
           const char *expected)
{
	return err_node(l, n, "wrong type for \"%s\": %s (expected %s)", what,
	                kind(n), expected);
}

/* A non-null scalar without NUL bytes. */
static int
want_scalar(struct layer *l, const yaml_node_t *n, const char *what,
            const char *expected)
{
	if (n->type != YAML_SCALAR_NODE || is_null(n))
		return wrong_type(l, n, what, expected);
	if (strlen(sval(n)) != n->data.scalar.length)
		return err_node(
		    l, n,
		    "\"%s\" contains a NUL character (remove the \\0 escape)",
		    what);
	return 0;
}

/* A string on one line (no CR, LF or other control characters). */
static int
want_line(struct layer *l, const yaml_node_t *n, const char *what,
          const char *hint)
{
	if (want_scalar(l, n, what, "a string") < 0)
		return -1;
	for (const char *s = sval(n); *s != '\0'; s++)
		if (*s == '\n' || *s == '\r')
			return err_node(l, n,
			                "\"%s\" contains a line break (%s)",
			                what, hint);
		else if ((unsigned char)*s < 0x20 && *s != '\t')
			return err_node(
			    l, n,
			    "\"%s\" contains a control character (remove "
			    "it)",
			    what);
	return 0;
}

static int
get_line(struct layer *l, const yaml_node_t *n, const char *what, char **dst)
{
	if (want_line(l, n, what, "keep it on one line") < 0)
		return -1;
	free(*dst);
	*dst = xstrdup(sval(n));
	return 0;
}

/* Build a "known:" list for a message. */
static const char *
join(char *buf, size_t len, const char *const *names, size_t n,
     const char *skip)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w;

		if (names[i] == NULL || (skip && strcmp(names[i], skip) == 0))
			continue;
		w = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
		             names[i]);
		if (w < 0 || (size_t)w >= len - off)
			break;
		off += (size_t)w;
	}
	return buf;
}

/*
 * The keys the other kind of profile allows under the same mapping, so
 * that a key in the wrong kind of file says so instead of "unknown".
 */
struct other_keys {
	const char *const *keys;
	size_t n;
	unsigned kind;    /* the kind that allows them */
	const char *hint; /* what this kind writes instead, or NULL */
};

/*
 * Check a mapping's keys: strings, no duplicates, all in known[] (or in
 * other->keys: an error naming the kind that allows it). where is the
 * mapping's own name for messages ("" at the top level).
 */
static int
check_keys(struct layer *l, const yaml_node_t *map, const char *where,
           const char *const *known, size_t nknown,
           const struct other_keys *other)
{
	const yaml_node_pair_t *b = map->data.mapping.pairs.start;
	const yaml_node_pair_t *e = map->data.mapping.pairs.top;
	char under[160], list[MSG_MAX / 2];

	if (*where)
		snprintf(under, sizeof(under), " under \"%s\"", where);
	else
		under[0] = '\0';
	for (const yaml_node_pair_t *pp = b; pp < e; pp++) {
		yaml_node_t *k = node(l, pp->key);
		bool ok = false;

		if (k->type != YAML_SCALAR_NODE)
			return err_node(l, k,
			                "a key%s is %s (keys are plain words)",
			                under, kind(k));
		for (const yaml_node_pair_t *q = b; q < pp; q++) {
			yaml_node_t *k2 = node(l, q->key);

			if (k2->type == YAML_SCALAR_NODE &&
			    strcmp(sval(k2), sval(k)) == 0)
				return err_node(
				    l, k,
				    "duplicate key \"%s\"%s (first at line "
				    "%zu; keep one)",
				    sval(k), under, k2->start_mark.line + 1);
		}
		for (size_t i = 0; i < nknown; i++)
			if (known[i] != NULL && strcmp(known[i], sval(k)) == 0)
				ok = true;
		if (ok)
			continue;
		for (size_t i = 0; other != NULL && i < other->n; i++)
			if (strcmp(other->keys[i], sval(k)) == 0)
				return err_node(
				    l, k,
				    "\"%s%s%s\" is a %s key, not allowed in a "
				    "%s "
				    "profile (only kind: %s allows it%s%s)",
				    where, *where ? "." : "", sval(k),
				    kind_str(other->kind),
				    kind_str(KIND_BOTH & ~other->kind),
				    kind_str(other->kind),
				    other->hint ? "; " : "",
				    other->hint ? other->hint : "");
		return err_node(l, k, "unknown key \"%s\"%s (known: %s)",
		                sval(k), under,
		                join(list, sizeof(list), known, nknown, NULL));
	}
	return 0;
}

/* check_keys() without the other kind's keys */
static int
check_map(struct layer *l, const yaml_node_t *map, const char *where,
          const char *const *known, size_t nknown)
{
	return check_keys(l, map, where, known, nknown, NULL);
}

/*
 * A key whose form (list or mapping) belongs to the other kind, e.g.
 * "limits" as a list in a server profile. Always returns -1.
 */
static int
wrong_form(struct layer *l, const yaml_node_t *n, const char *what,
           const char *hint)
{
	unsigned other = KIND_BOTH & ~l->kind;

	return err_node(l, n,
	                "\"%s\" as %s is the %s form, not allowed in a %s "
	                "profile (only kind: %s allows it; %s)",
	                what, kind(n), kind_str(other), kind_str(l->kind),
	                kind_str(other), hint);
}

/* The value of key in map, or NULL. */
static yaml_node_t *
map_get(struct layer *l, const yaml_node_t *map, const char *key)
{
	for (yaml_node_pair_t *pp = map->data.mapping.pairs.start;
	     pp < map->data.mapping.pairs.top; pp++) {
		yaml_node_t *k = node(l, pp->key);

		if (k->type == YAML_SCALAR_NODE && strcmp(sval(k), key) == 0)
			return node(l, pp->value);
	}
	return NULL;
}

/* A mapping, or null (= empty mapping) when allow_null. */
static int
want_map(struct layer *l, const yaml_node_t *n, const char *what,
         bool allow_null)
{
	if (n->type == YAML_MAPPING_NODE || (allow_null && is_null(n)))
		return 0;
	return wrong_type(l, n, what, "a mapping");
}

/* ------------------------------------------------------------------ */
/* Values                                                              */

static int
get_bool(struct layer *l, const yaml_node_t *n, const char *what, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};

	if (want_scalar(l, n, what, "true or false") < 0)
		return -1;
	for (size_t i = 0; i < nitems(yes); i++) {
		if (strcasecmp(sval(n), yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(sval(n), no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return err_node(l, n, "bad value \"%s\" for \"%s\" (use true or false)",
	                sval(n), what);
}

/* Leading decimal digits of s into *v; NULL on overflow or no digits. */
static const char *
parse_digits(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (!isdigit((unsigned char)*s))
		return NULL;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		if (x > (UINT64_MAX - d) / 10)
			return NULL;
		x = x * 10 + d;
	}
	*v = x;
	return s;
}

static int
get_count(struct layer *l, const yaml_node_t *n, const char *what,
          unsigned *out)
{
	uint64_t v;
	const char *end;

	if (want_scalar(l, n, what, "a whole number") < 0)
		return -1;
	end = parse_digits(sval(n), &v);
	if (end == NULL || *end != '\0' || v > UINT_MAX)
		return err_node(
		    l, n,
		    "bad number \"%s\" for \"%s\" (use a whole number from 0 "
		    "to %u)",
		    sval(n), what, UINT_MAX);
	*out = (unsigned)v;
	return 0;
}

/* Bytes, with an optional K, M or G suffix (1024-based). */
static int
get_bytes(struct layer *l, const yaml_node_t *n, const char *what, uint64_t max,
          uint64_t *out)
{
	uint64_t v, mul = 1;
	const char *end;

	if (want_scalar(l, n, what, "a size in bytes") < 0)
		return -1;
	end = parse_digits(sval(n), &v);
	if (end != NULL) {
		switch (*end) {
		case 'k':
		case 'K':
			mul = 1024, end++;
			break;
		case 'm':
		case 'M':
			mul = 1024 * 1024, end++;
			break;
		case 'g':
		case 'G':
			mul = 1024 * 1024 * 1024, end++;
			break;
		}
	}
	if (end == NULL || *end != '\0')
		return err_node(
		    l, n,
		    "bad size \"%s\" for \"%s\" (use a number of bytes, "
		    "optionally with K, M or G, e.g. 36M)",
		    sval(n), what);
	if (v > max / mul)
		return err_node(
		    l, n,
		    "size \"%s\" for \"%s\" is too large (at most %llu "
		    "bytes)",
		    sval(n), what, (unsigned long long)max);
	*out = v * mul;
	return 0;
}

/* A duration: a bare number is ms, or with ms, s, m or h. */
static int
get_duration(struct layer *l, const yaml_node_t *n, const char *what,
             unsigned *out)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {
	    {"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
	uint64_t v;
	const char *end;

	if (want_scalar(l, n, what, "a duration") < 0)
		return -1;
	end = parse_digits(sval(n), &v);
	for (size_t i = 0; end != NULL && i < nitems(units); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (v > UINT_MAX / units[i].ms)
			return err_node(
			    l, n,
			    "duration \"%s\" for \"%s\" is too long (at "
			    "most %u ms, about 49 days)",
			    sval(n), what, UINT_MAX);
		*out = (unsigned)(v * units[i].ms);
		return 0;
	}
	return err_node(
	    l, n,
	    "bad duration \"%s\" for \"%s\" (use a number with ms, s, m or "
	    "h, e.g. 250ms, 300s, 5m; a bare number is milliseconds)",
	    sval(n), what);
}

static int
get_close(struct layer *l, const yaml_node_t *n, const char *what,
          enum close_how *out)
{
	static const enum close_how ok[] = {CLOSE_FIN, CLOSE_RST, CLOSE_SILENT};

	if (want_scalar(l, n, what, "fin, rst or silent") < 0)
		return -1;
	for (size_t i = 0; i < nitems(ok); i++)
		if (strcmp(sval(n), close_how_names[ok[i]]) == 0) {
			*out = ok[i];
			return 0;
		}
	return err_node(l, n,
	                "bad value \"%s\" for \"%s\" (use fin, rst or silent)",
	                sval(n), what);
}

static int
get_regex(struct layer *l, const yaml_node_t *n, const char *what,
          char **pattern, regex_t *re)
{
	regex_t tmp;
	int rc;

	if (want_scalar(l, n, what, "a regular expression") < 0)
		return -1;
	rc = regcomp(&tmp, sval(n), REG_EXTENDED | REG_ICASE | REG_NOSUB);
	if (rc != 0) {
		char why[256];

		regerror(rc, &tmp, why, sizeof(why));
		return err_node(
		    l, n,
		    "bad regular expression \"%s\" for \"%s\": %s (use POSIX "
		    "extended syntax, e.g. \"^unknown@\")",
		    sval(n), what, why);
	}
	if (*pattern != NULL)
		regfree(re);
	free(*pattern);
	*re = tmp;
	*pattern = xstrdup(sval(n));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Templates, with the column of a bad placeholder                     */

/* Byte offset of line0 (0-based) in the source, libyaml's line breaks. */
static const char *
src_line(struct layer *l, size_t line0)
{
	const char *s = l->src, *end = l->src + l->srclen;

	if (l->srclen >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3; /* libyaml does not count the BOM */
	while (line0 > 0 && s < end) {
		if (*s == '\n') {
			line0--;
		} else if (*s == '\r') {
			if (s + 1 < end && s[1] == '\n')
				s++;
			line0--;
		}
		s++;
	}
	return line0 == 0 ? s : NULL;
}

static size_t
utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		return 2;
	if ((c & 0xf0) == 0xe0)
		return 3;
	if ((c & 0xf8) == 0xf0)
		return 4;
	return 1;
}

/*
 * Column (0-based, in characters as libyaml counts them) of byte pos of
 * scalar n's value in the source. Works for plain and quoted scalars on
 * one line without escapes; otherwise leaves *col alone.
 */
static void
scalar_col(struct layer *l, const yaml_node_t *n, size_t pos, size_t *col)
{
	yaml_scalar_style_t st = n->data.scalar.style;
	const char *v = sval(n), *end = l->src + l->srclen, *s;
	size_t c, i = 0;

	if (n->start_mark.line != n->end_mark.line ||
	    (st != YAML_PLAIN_SCALAR_STYLE &&
	     st != YAML_SINGLE_QUOTED_SCALAR_STYLE &&
	     st != YAML_DOUBLE_QUOTED_SCALAR_STYLE))
		return;
	if ((s = src_line(l, n->start_mark.line)) == NULL)
		return;
	for (c = 0; c < n->start_mark.column; c++) {
		if (s >= end)
			return;
		s += utf8_len((unsigned char)*s);
	}
	if (st != YAML_PLAIN_SCALAR_STYLE) {
		if (s >= end ||
		    *s != (st == YAML_SINGLE_QUOTED_SCALAR_STYLE ? '\'' : '"'))
			return;
		s++, c++;
	}
	while (i < pos) {
		size_t k;

		if (s >= end)
			return;
		if (st == YAML_SINGLE_QUOTED_SCALAR_STYLE && *s == '\'') {
			if (s + 1 >= end || s[1] != '\'' || v[i] != '\'')
				return;
			s += 2, c += 2, i++;
			continue;
		}
		if (st == YAML_DOUBLE_QUOTED_SCALAR_STYLE && *s == '\\')
			return;
		k = utf8_len((unsigned char)*s);
		if ((size_t)(end - s) < k || memcmp(s, v + i, k) != 0)
			return;
		s += k, i += k, c++;
	}
	*col = c;
}

/* Template-check the scalar node n (whose value is the template). */
static int
check_tpl(struct layer *l, const yaml_node_t *n, const char *what)
{
	const char *t = sval(n);
	size_t pos = 0, col = n->start_mark.column, len;
	const char *rb;
	char known[MSG_MAX / 2];
	size_t off = 0;

	if (template_check(t, &pos) == 0)
		return 0;
	len = strlen(t);
	if (pos > len)
		pos = len;
	scalar_col(l, n, pos, &col);
	if (t[pos] == '{' && (rb = strchr(t + pos, '}')) != NULL) {
		known[0] = '\0';
		for (int i = 0; i < TPL_COUNT; i++) {
			int w = snprintf(known + off, sizeof(known) - off,
			                 "%s{%s}", i ? ", " : "",
			                 template_var_name((enum tpl_var)i));

			if (w < 0 || (size_t)w >= sizeof(known) - off)
				break;
			off += (size_t)w;
		}
		return err_at(
		    l, n->start_mark.line, col,
		    "unknown placeholder \"%.*s\" in \"%s\" (known: %s; "
		    "write \"{{\" for a literal \"{\")",
		    (int)(rb - (t + pos) + 1), t + pos, what, known);
	}
	if (t[pos] == '{')
		return err_at(
		    l, n->start_mark.line, col,
		    "unclosed \"{\" in \"%s\" (close the placeholder with "
		    "\"}\", or write \"{{\" for a literal \"{\")",
		    what);
	return err_at(
	    l, n->start_mark.line, col,
	    "bad placeholder at \"%.20s\" in \"%s\" (placeholders look like "
	    "{hostname}; write \"{{\" for a literal \"{\")",
	    t + pos, what);
}

/* ------------------------------------------------------------------ */
/* Replies                                                             */

/* Check one reply line; i of n lines. */
static int
check_reply_line(struct layer *l, const yaml_node_t *n, const char *what,
                 size_t i, size_t nlines)
{
	const char *s = sval(n);
	char at[32] = "";

	if (want_line(l, n, what, "use a list of strings, one per reply line") <
	    0)
		return -1;
	if (nlines > 1)
		snprintf(at, sizeof(at), "line %zu of ", i + 1);
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    !isdigit((unsigned char)s[2]) || s[0] < '2' || s[0] > '5' ||
	    (s[3] != '\0' && s[3] != ' ' && s[3] != '-'))
		return err_node(
		    l, n,
		    "bad reply code in %s\"%s\": \"%.40s\" (start with a "
		    "three-digit code from 200 to 599, then a space)",
		    at, what, s);
	if (i + 1 < nlines && s[3] != '-')
		return err_node(
		    l, n,
		    "%s\"%s\" needs \"-\" after the code, it is not the last "
		    "line (write \"%.3s-\" on every line but the last)",
		    at, what, s);
	if (i + 1 == nlines && s[3] == '-' && nlines > 1)
		return err_node(
		    l, n,
		    "last line of \"%s\" needs a space after the code, not "
		    "\"-\" (write \"%.3s \" on the last line)",
		    what, s);
	if (i + 1 == nlines && s[3] == '-')
		return err_node(
		    l, n,
		    "\"%s\" is a one-line reply and needs a space after the "
		    "code, not \"-\" (write \"%.3s \", or use a list for "
		    "several lines)",
		    what, s);
	return check_tpl(l, n, what);
}

static int
get_reply(struct layer *l, const yaml_node_t *n, const char *what,
          struct reply_text *r)
{
	if (n->type == YAML_SCALAR_NODE && !is_null(n)) {
		if (check_reply_line(l, n, what, 0, 1) < 0)
			return -1;
		reply_set1(r, sval(n));
		return 0;
	}
	if (n->type == YAML_SEQUENCE_NODE) {
		yaml_node_item_t *b = n->data.sequence.items.start;
		size_t cnt = (size_t)(n->data.sequence.items.top - b);

		if (cnt == 0)
			return err_node(
			    l, n,
			    "\"%s\" is an empty list (give at least one "
			    "reply line)",
			    what);
		for (size_t i = 0; i < cnt; i++) {
			yaml_node_t *it = node(l, b[i]);

			if (it->type != YAML_SCALAR_NODE || is_null(it))
				return wrong_type(
				    l, it, what,
				    "a string for each reply line");
			if (check_reply_line(l, it, what, i, cnt) < 0)
				return -1;
		}
		reply_free(r);
		r->lines = xcalloc(cnt, sizeof(char *));
		for (size_t i = 0; i < cnt; i++)
			r->lines[i] = xstrdup(sval(node(l, b[i])));
		r->n = cnt;
		return 0;
	}
	return wrong_type(l, n, what, "a string or a list of strings");
}

/* ------------------------------------------------------------------ */
/* Sections                                                            */

static int
load_hostname(struct layer *l, const yaml_node_t *n)
{
	if (want_line(l, n, "hostname", "keep it on one line") < 0)
		return -1;
	for (const char *s = sval(n); *s != '\0'; s++)
		if (isspace((unsigned char)*s) || *s == '{' || *s == '}')
			return err_node(
			    l, n,
			    "bad hostname \"%s\" (a host name has no spaces "
			    "or braces, e.g. mx.lab.test)",
			    sval(n));
	free(l->p->hostname);
	l->p->hostname = xstrdup(sval(n));
	return 0;
}

static int
load_keywords(struct layer *l, const yaml_node_t *n)
{
	struct profile *p = l->p;
	struct kw_state st = {0};
	yaml_node_item_t *b;
	size_t cnt;
	char why[256];
	const char *bad;

	if (is_null(n)) {
		cnt = 0;
		b = NULL;
	} else if (n->type == YAML_SEQUENCE_NODE) {
		b = n->data.sequence.items.start;
		cnt = (size_t)(n->data.sequence.items.top - b);
	} else {
		return wrong_type(l, n, "ehlo.keywords", "a list of strings");
	}
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *it = node(l, b[i]);

		if (want_line(l, it, "ehlo.keywords",
		              "give one keyword per list item") < 0 ||
		    check_tpl(l, it, "ehlo.keywords") < 0)
			goto fail;
		if (sval(it)[0] == '\0' || sval(it)[0] == ' ') {
			err_node(
			    l, it,
			    "empty EHLO keyword in \"ehlo.keywords\" (start "
			    "each keyword with its name, e.g. PIPELINING)");
			goto fail;
		}
		if ((bad = kw_derive(&st, sval(it), why, sizeof(why))) !=
		    NULL) {
			err_node(l, it, "%s", bad);
			goto fail;
		}
	}
	strv_free(p->ehlo_keywords, p->nehlo_keywords);
	p->ehlo_keywords = xcalloc(cnt, sizeof(char *));
	for (size_t i = 0; i < cnt; i++)
		p->ehlo_keywords[i] = xstrdup(sval(node(l, b[i])));
	p->nehlo_keywords = cnt;
	l->ld->size_is_max_size = st.size_is_max_size;
	kw_commit(p, &st);
	return 0;
fail:
	strv_free(st.mechs, st.nmechs);
	return -1;
}

static int
load_ehlo(struct layer *l, const yaml_node_t *n)
{
	static const char *const keys[] = {"greeting", "keywords"};
	static const char *const box_keys[] = {"masks", "allowed", "others"};
	static const struct other_keys other = {
	    box_keys, nitems(box_keys), KIND_MBOX,
	    "a server's ehlo has greeting and keywords"};
	yaml_node_t *v;

	if (want_map(l, n, "ehlo", false) < 0 ||
	    check_keys(l, n, "ehlo", keys, nitems(keys), &other) < 0)
		return -1;
	if ((v = map_get(l, n, "greeting")) != NULL &&
	    (get_line(l, v, "ehlo.greeting", &l->p->ehlo_greeting) < 0 ||
	     check_tpl(l, v, "ehlo.greeting") < 0))
		return -1;
	if ((v = map_get(l, n, "keywords")) != NULL && load_keywords(l, v) < 0)
		return -1;
	return 0;
}

static int
load_commands(struct layer *l, const yaml_node_t *n)
{
	unsigned mask = 0;
	char list[256];

	if (n->type == YAML_MAPPING_NODE)
		return wrong_form(l, n, "commands",
		                  "a server lists the verbs it recognises, "
		                  "e.g. commands: [HELO, EHLO, MAIL]");
	if (n->type != YAML_SEQUENCE_NODE)
		return wrong_type(l, n, "commands", "a list of verbs");
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *v = node(l, *it);
		int verb;

		if (want_scalar(l, v, "commands", "a verb") < 0)
			return -1;
		verb = verb_from_str(sval(v), strlen(sval(v)));
		if (verb < 0)
			return err_node(
			    l, v,
			    "unknown command \"%s\" in \"commands\" (known: "
			    "%s)",
			    sval(v),
			    join(list, sizeof(list), verb_names, VERB_COUNT,
			         NULL));
		if (mask & (1u << verb))
			return err_node(
			    l, v,
			    "command \"%s\" is listed twice in \"commands\" "
			    "(keep one)",
			    sval(v));
		mask |= 1u << verb;
	}
	l->p->commands = mask;
	return 0;
}

static int
load_line_endings(struct layer *l, const yaml_node_t *n)
{
	if (want_scalar(l, n, "line_endings", "strict or lenient") < 0)
		return -1;
	if (strcmp(sval(n), "strict") == 0)
		l->p->eol = EOL_STRICT;
	else if (strcmp(sval(n), "lenient") == 0)
		l->p->eol = EOL_LENIENT;
	else
		return err_node(
		    l, n,
		    "bad value \"%s\" for \"line_endings\" (use strict or "
		    "lenient)",
		    sval(n));
	return 0;
}

static int
load_replies(struct layer *l, const yaml_node_t *n)
{
	char what[64];

	if (want_map(l, n, "replies", true) < 0 || is_null(n))
		return is_null(n) ? 0 : -1;
	for (yaml_node_pair_t *pp = n->data.mapping.pairs.start;
	     pp < n->data.mapping.pairs.top; pp++) {
		yaml_node_t *k = node(l, pp->key);

		if (k->type == YAML_SCALAR_NODE &&
		    strcmp(sval(k), "greeting") == 0)
			return err_node(
			    l, k,
			    "\"greeting\" does not go under \"replies\" (move "
			    "it to the top level: greeting: \"220 ...\")");
	}
	if (check_map(l, n, "replies", reply_id_names, REPLY_COUNT) < 0)
		return -1;
	for (yaml_node_pair_t *pp = n->data.mapping.pairs.start;
	     pp < n->data.mapping.pairs.top; pp++) {
		const char *key = sval(node(l, pp->key));
		int id = reply_id_from_str(key);

		snprintf(what, sizeof(what), "replies.%s", key);
		if (get_reply(l, node(l, pp->value), what, &l->p->replies[id]) <
		    0)
			return -1;
	}
	return 0;
}

/* limits: a declarative table (name, type, field). */
enum lim_type { LIM_SIZE, LIM_U64, LIM_COUNT, LIM_MS, LIM_CLOSE };

static const struct limit_def {
	const char *key;
	enum lim_type type;
	size_t off;
	uint64_t min;
} limit_defs[] = {
    {"line_length", LIM_SIZE, offsetof(struct limits, line_length), 3},
    {"text_line_length", LIM_SIZE, offsetof(struct limits, text_line_length),
     3},
    {"recipients", LIM_COUNT, offsetof(struct limits, recipients), 0},
    {"message_size", LIM_U64, offsetof(struct limits, message_size), 0},
    {"header_size", LIM_SIZE, offsetof(struct limits, header_size), 0},
    {"bad_commands", LIM_COUNT, offsetof(struct limits, bad_commands), 0},
    {"bad_commands_close", LIM_CLOSE,
     offsetof(struct limits, bad_commands_close), 0},
    {"idle_timeout", LIM_MS, offsetof(struct limits, idle_timeout_ms), 0},
    {"connection_timeout", LIM_MS,
     offsetof(struct limits, connection_timeout_ms), 0},
    {"hang_timeout", LIM_MS, offsetof(struct limits, hang_timeout_ms), 0},
    {"max_sessions", LIM_COUNT, offsetof(struct limits, max_sessions), 0},
    {"max_sessions_per_client", LIM_COUNT,
     offsetof(struct limits, max_sessions_per_client), 0},
};

static int
load_limits(struct layer *l, const yaml_node_t *n)
{
	const char *keys[nitems(limit_defs)];
	char what[64];

	for (size_t i = 0; i < nitems(limit_defs); i++)
		keys[i] = limit_defs[i].key;
	if (n->type == YAML_SEQUENCE_NODE)
		return wrong_form(l, n, "limits",
		                  "a server's limits are a mapping, e.g. "
		                  "limits: {recipients: 100}");
	if (want_map(l, n, "limits", true) < 0 || is_null(n))
		return is_null(n) ? 0 : -1;
	if (check_map(l, n, "limits", keys, nitems(keys)) < 0)
		return -1;
	for (yaml_node_pair_t *pp = n->data.mapping.pairs.start;
	     pp < n->data.mapping.pairs.top; pp++) {
		const char *key = sval(node(l, pp->key));
		yaml_node_t *v = node(l, pp->value);
		const struct limit_def *d = NULL;
		char *field;
		uint64_t u64;
		unsigned u = 0;
		enum close_how how = CLOSE_FIN;

		for (size_t i = 0; i < nitems(limit_defs); i++)
			if (strcmp(limit_defs[i].key, key) == 0)
				d = &limit_defs[i];
		field = (char *)&l->p->limits + d->off;
		snprintf(what, sizeof(what), "limits.%s", key);
		switch (d->type) {
		case LIM_SIZE:
		case LIM_U64:
			if (get_bytes(l, v, what,
			              d->type == LIM_SIZE ? SIZE_MAX
			                                  : UINT64_MAX,
			              &u64) < 0)
				return -1;
			if (u64 < d->min)
				return err_node(
				    l, v,
				    "\"%s\" is too small: %s (use at least "
				    "%llu bytes)",
				    what, sval(v), (unsigned long long)d->min);
			if (d->type == LIM_SIZE)
				*(size_t *)(void *)field = (size_t)u64;
			else
				*(uint64_t *)(void *)field = u64;
			if (d->off == offsetof(struct limits, message_size))
				l->ld->size_explicit = true;
			break;
		case LIM_COUNT:
			if (get_count(l, v, what, &u) < 0)
				return -1;
			*(unsigned *)(void *)field = u;
			break;
		case LIM_MS:
			if (get_duration(l, v, what, &u) < 0)
				return -1;
			*(unsigned *)(void *)field = u;
			break;
		case LIM_CLOSE:
			if (get_close(l, v, what, &how) < 0)
				return -1;
			*(enum close_how *)(void *)field = how;
			break;
		}
	}
	return 0;
}

static int
load_credentials(struct layer *l, const yaml_node_t *n)
{
	static const char *const keys[] = {"user", "password"};
	struct auth_policy *a = &l->p->auth;
	yaml_node_item_t *b;
	size_t cnt;

	if (n->type != YAML_SEQUENCE_NODE)
		return wrong_type(l, n, "auth.credentials",
		                  "a list of {user, password} mappings");
	b = n->data.sequence.items.start;
	cnt = (size_t)(n->data.sequence.items.top - b);
	creds_free(a);
	a->creds = xcalloc(cnt, sizeof(*a->creds));
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *it = node(l, b[i]), *u, *pw;

		if (want_map(l, it, "auth.credentials", false) < 0 ||
		    check_map(l, it, "auth.credentials", keys, nitems(keys)) <
		        0)
			return -1;
		u = map_get(l, it, "user");
		pw = map_get(l, it, "password");
		if (u == NULL || pw == NULL)
			return err_node(
			    l, it,
			    "credential without \"%s\" in \"auth.credentials\" "
			    "(write {user: NAME, password: SECRET})",
			    u == NULL ? "user" : "password");
		a->ncreds++;
		if (get_line(l, u, "auth.credentials.user", &a->creds[i].user) <
		        0 ||
		    get_line(l, pw, "auth.credentials.password",
		             &a->creds[i].password) < 0)
			return -1;
	}
	return 0;
}

static int
load_auth(struct layer *l, const yaml_node_t *n)
{
	static const char *const keys[] = {"credentials", "accept_any",
	                                   "require_tls"};
	yaml_node_t *v;

	if (want_map(l, n, "auth", false) < 0 ||
	    check_map(l, n, "auth", keys, nitems(keys)) < 0)
		return -1;
	if ((v = map_get(l, n, "credentials")) != NULL &&
	    load_credentials(l, v) < 0)
		return -1;
	if ((v = map_get(l, n, "accept_any")) != NULL &&
	    get_bool(l, v, "auth.accept_any", &l->p->auth.accept_any) < 0)
		return -1;
	if ((v = map_get(l, n, "require_tls")) != NULL &&
	    get_bool(l, v, "auth.require_tls", &l->p->auth.require_tls) < 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* TLS values                                                          */

/* "ssl3, tls1.0, ..." for messages. */
static const char *
versions_known(char *buf, size_t len)
{
	const char *names[nitems(tls_versions)];

	for (size_t i = 0; i < nitems(tls_versions); i++)
		names[i] = tls_versions[i].name;
	return join(buf, len, names, nitems(names), NULL);
}

/* One version name -> its enum tls_version_bit. */
static int
get_version(struct layer *l, const yaml_node_t *n, const char *what,
            unsigned *bit)
{
	char list[128];

	if (want_scalar(l, n, what, "a TLS version") < 0)
		return -1;
	if ((*bit = tls_version_from_str(sval(n))) == 0)
		return err_node(
		    l, n, "unknown TLS version \"%s\" in \"%s\" (known: %s)",
		    sval(n), what, versions_known(list, sizeof(list)));
	return 0;
}

/* A non-empty list of versions -> bits. */
static int
get_versions(struct layer *l, const yaml_node_t *n, const char *what,
             unsigned *out)
{
	unsigned bits = 0, bit;

	if (n->type != YAML_SEQUENCE_NODE)
		return wrong_type(l, n, what, "a list of TLS versions");
	if (n->data.sequence.items.top == n->data.sequence.items.start)
		return err_node(l, n,
		                "\"%s\" is an empty list (list at least one "
		                "version, e.g. [tls1.2, tls1.3])",
		                what);
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *v = node(l, *it);

		if (get_version(l, v, what, &bit) < 0)
			return -1;
		if (bits & bit)
			return err_node(
			    l, v,
			    "version \"%s\" is listed twice in \"%s\" "
			    "(keep one)",
			    sval(v), what);
		bits |= bit;
	}
	*out = bits;
	return 0;
}

/* "0xHHHH": the raw id a ClientHello carries. */
static bool
suite_is_hex(const char *s, uint16_t *id)
{
	unsigned v = 0;

	if (s[0] != '0' || s[1] != 'x' || strlen(s) != 6)
		return false;
	for (s += 2; *s != '\0'; s++) {
		if (!isxdigit((unsigned char)*s))
			return false;
		v = v * 16 +
		    (unsigned)(isdigit((unsigned char)*s)
		                   ? *s - '0'
		                   : tolower((unsigned char)*s) - 'a' + 10);
	}
	*id = (uint16_t)v;
	return true;
}

/* "TLS_[A-Z0-9_]+": the form of an IANA suite name. */
static bool
suite_is_iana(const char *s)
{
	if (strncmp(s, "TLS_", 4) != 0 || s[4] == '\0')
		return false;
	for (s += 4; *s != '\0'; s++)
		if (!isupper((unsigned char)*s) &&
		    !isdigit((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static int
bad_suite_form(struct layer *l, const yaml_node_t *n, const char *what)
{
	return err_node(
	    l, n,
	    "bad cipher suite \"%s\" in \"%s\" (write its IANA name, e.g. "
	    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384, or its hex code, e.g. "
	    "0xC028; OpenSSL's own names are not accepted)",
	    sval(n), what);
}

/*
 * A suite for a rule condition, as the id the ClientHello carries: hex
 * codes always work, names must be known to the linked OpenSSL.
 */
static int
get_suite_id(struct layer *l, const yaml_node_t *n, const char *what,
             uint16_t *id)
{
	if (want_scalar(l, n, what, "a cipher suite") < 0)
		return -1;
	if (suite_is_hex(sval(n), id))
		return 0;
	if (!suite_is_iana(sval(n)))
		return bad_suite_form(l, n, what);
	if (tls_suite_id(sval(n), id) < 0)
		return err_node(
		    l, n,
		    "cipher suite \"%s\" in \"%s\" is unknown to the "
		    "linked OpenSSL; give its IANA hex code, e.g. "
		    "0xC0AC",
		    sval(n), what);
	return 0;
}

/* A non-empty list of suites -> ids, each id once. */
static int
get_suite_ids(struct layer *l, const yaml_node_t *n, const char *what,
              uint16_t **out, size_t *nout)
{
	yaml_node_item_t *b;
	size_t cnt;
	uint16_t *ids;

	if (n->type != YAML_SEQUENCE_NODE)
		return wrong_type(l, n, what, "a list of cipher suites");
	b = n->data.sequence.items.start;
	cnt = (size_t)(n->data.sequence.items.top - b);
	if (cnt == 0)
		return err_node(l, n,
		                "\"%s\" is an empty list (list at least one "
		                "cipher suite, or leave it out)",
		                what);
	ids = xcalloc(cnt, sizeof(*ids));
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *v = node(l, b[i]);

		if (get_suite_id(l, v, what, &ids[i]) < 0)
			goto fail;
		for (size_t j = 0; j < i; j++)
			if (ids[j] == ids[i]) {
				err_node(
				    l, v,
				    "cipher suite \"%s\" in \"%s\" is the "
				    "same suite (0x%04X) as \"%s\" before it "
				    "(keep one)",
				    sval(v), what, ids[i], sval(node(l, b[j])));
				goto fail;
			}
	}
	free(*out);
	*out = ids;
	*nout = cnt;
	return 0;
fail:
	free(ids);
	return -1;
}

/* ------------------------------------------------------------------ */
/* tls: a declarative table (name, type, field)                        */

enum tls_type {
	TT_BOOL,     /* bool */
	TT_VERSIONS, /* unsigned, enum tls_version_bit */
	TT_SUITES,   /* char **, IANA name or 0xHHHH */
	TT_SUITES13, /* char **, IANA name */
	TT_NAMES,    /* char **, one OpenSSL list item each */
	TT_DH,       /* unsigned, one of dh_sizes[] */
	TT_INT,      /* int, min..max */
	TT_UINT,     /* unsigned, min..max */
	TT_KEY,      /* enum tls_key_type */
	TT_NOSHARED, /* enum tls_no_shared */
};

static const struct tls_def {
	const char *key;
	enum tls_type type;
	size_t off;  /* the field in struct tls_settings */
	size_t noff; /* its count, for lists */
	int min, max;
	const char *example; /* for list items */
} tls_defs[] = {
    {"enabled", TT_BOOL, offsetof(struct tls_settings, enabled), 0, 0, 0, NULL},
    {"versions", TT_VERSIONS, offsetof(struct tls_settings, versions), 0, 0, 0,
     NULL},
    {"ciphers", TT_SUITES, offsetof(struct tls_settings, ciphers),
     offsetof(struct tls_settings, nciphers), 0, 0, NULL},
    {"ciphersuites", TT_SUITES13, offsetof(struct tls_settings, ciphersuites),
     offsetof(struct tls_settings, nciphersuites), 0, 0, NULL},
    {"server_preference", TT_BOOL,
     offsetof(struct tls_settings, server_preference), 0, 0, 0, NULL},
    {"groups", TT_NAMES, offsetof(struct tls_settings, groups),
     offsetof(struct tls_settings, ngroups), 0, 0, "P-256"},
    {"dh_bits", TT_DH, offsetof(struct tls_settings, dh_bits), 0, 0, 0, NULL},
    {"sigalgs", TT_NAMES, offsetof(struct tls_settings, sigalgs),
     offsetof(struct tls_settings, nsigalgs), 0, 0, "RSA+SHA256"},
    {"security_level", TT_INT, offsetof(struct tls_settings, security_level), 0,
     0, 5, NULL},
    {"key", TT_KEY, offsetof(struct tls_settings, key_type), 0, 0, 0, NULL},
    {"key_bits", TT_UINT, offsetof(struct tls_settings, key_bits), 0, 1024,
     8192, NULL},
    {"no_shared_cipher", TT_NOSHARED,
     offsetof(struct tls_settings, no_shared_cipher), 0, 0, 0, NULL},
    {"no_shared_version", TT_NOSHARED,
     offsetof(struct tls_settings, no_shared_version), 0, 0, 0, NULL},
};

/* RFC 7919 / OpenSSL's sizes; 0 lets OpenSSL choose (SSL_CTX_set_dh_auto). */
static const unsigned dh_sizes[] = {0, 1024, 2048, 3072, 4096, 8192};

/* A list of strings for tls.<key>; each item checked for its type. */
static int
get_tls_list(struct layer *l, const yaml_node_t *n, const struct tls_def *d,
             const char *what, char ***dst, size_t *ndst)
{
	yaml_node_item_t *b = NULL;
	size_t cnt = 0;

	if (n->type == YAML_SEQUENCE_NODE) {
		b = n->data.sequence.items.start;
		cnt = (size_t)(n->data.sequence.items.top - b);
	} else if (!is_null(n)) {
		return wrong_type(l, n, what, "a list of strings");
	}
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *v = node(l, b[i]);
		const char *s;
		uint16_t id;

		if (want_scalar(l, v, what, "a string") < 0)
			return -1;
		s = sval(v);
		if (d->type == TT_SUITES && !suite_is_hex(s, &id) &&
		    !suite_is_iana(s))
			return bad_suite_form(l, v, what);
		if (d->type == TT_SUITES13 && !suite_is_iana(s))
			return err_node(
			    l, v,
			    "bad TLS 1.3 suite \"%s\" in \"%s\" (write its "
			    "IANA name, e.g. TLS_AES_256_GCM_SHA384)",
			    s, what);
		if (d->type == TT_NAMES &&
		    (*s == '\0' || strpbrk(s, ":, \t") != NULL))
			return err_node(
			    l, v,
			    "bad name \"%s\" in \"%s\" (one name per "
			    "list item, e.g. %s)",
			    s, what, d->example);
		for (size_t j = 0; j < i; j++)
			if (strcmp(sval(node(l, b[j])), s) == 0)
				return err_node(
				    l, v,
				    "\"%s\" is listed twice in \"%s\" "
				    "(keep one)",
				    s, what);
	}
	strv_free(*dst, *ndst);
	*dst = xcalloc(cnt, sizeof(char *));
	for (size_t i = 0; i < cnt; i++)
		(*dst)[i] = xstrdup(sval(node(l, b[i])));
	*ndst = cnt;
	return 0;
}

/* A word from names[] (NULL entries skipped) -> its index. */
static int
get_choice(struct layer *l, const yaml_node_t *n, const char *what,
           const char *const *names, size_t nnames, int *out)
{
	char use[160];
	size_t off = 0, left = 0;

	for (size_t i = 0; i < nnames; i++)
		left += names[i] != NULL;
	/* "a, b or c" */
	use[0] = '\0';
	for (size_t i = 0; i < nnames; i++) {
		int w;

		if (names[i] == NULL)
			continue;
		left--;
		w = snprintf(use + off, sizeof(use) - off, "%s%s",
		             off == 0    ? ""
		             : left == 0 ? " or "
		                         : ", ",
		             names[i]);
		if (w > 0 && (size_t)w < sizeof(use) - off)
			off += (size_t)w;
	}
	if (want_scalar(l, n, what, use) < 0)
		return -1;
	for (size_t i = 0; i < nnames; i++)
		if (names[i] != NULL && strcmp(sval(n), names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	return err_node(l, n, "bad value \"%s\" for \"%s\" (use %s)", sval(n),
	                what, use);
}

/* A whole number min..max (min >= 0). */
static int
get_range(struct layer *l, const yaml_node_t *n, const char *what, int min,
          int max, int *out)
{
	uint64_t v;
	const char *end;

	if (want_scalar(l, n, what, "a whole number") < 0)
		return -1;
	end = parse_digits(sval(n), &v);
	if (end == NULL || *end != '\0' || v < (uint64_t)min ||
	    v > (uint64_t)max)
		return err_node(
		    l, n,
		    "bad value \"%s\" for \"%s\" (use a whole number "
		    "from %d to %d)",
		    sval(n), what, min, max);
	*out = (int)v;
	return 0;
}

static int
load_tls(struct layer *l, const yaml_node_t *n)
{
	const char *keys[nitems(tls_defs)];
	struct tls_settings *ts = &l->p->tls;
	char what[64];
	yaml_node_t *kb, *kt;
	int choice;

	for (size_t i = 0; i < nitems(tls_defs); i++)
		keys[i] = tls_defs[i].key;
	if (want_map(l, n, "tls", true) < 0)
		return -1;
	ts->enabled = true; /* "tls:" present; "enabled: false" below */
	if (is_null(n))
		return 0;
	if (check_map(l, n, "tls", keys, nitems(keys)) < 0)
		return -1;
	for (yaml_node_pair_t *pp = n->data.mapping.pairs.start;
	     pp < n->data.mapping.pairs.top; pp++) {
		const char *key = sval(node(l, pp->key));
		yaml_node_t *v = node(l, pp->value);
		const struct tls_def *d = NULL;
		char *field;
		uint64_t u64;
		const char *end;
		bool dh_ok = false;

		for (size_t i = 0; i < nitems(tls_defs); i++)
			if (strcmp(tls_defs[i].key, key) == 0)
				d = &tls_defs[i];
		field = (char *)ts + d->off;
		snprintf(what, sizeof(what), "tls.%s", key);
		switch (d->type) {
		case TT_BOOL:
			if (get_bool(l, v, what, (bool *)(void *)field) < 0)
				return -1;
			break;
		case TT_VERSIONS:
			if (get_versions(l, v, what,
			                 (unsigned *)(void *)field) < 0)
				return -1;
			break;
		case TT_SUITES:
		case TT_SUITES13:
		case TT_NAMES:
			if (get_tls_list(
			        l, v, d, what, (char ***)(void *)field,
			        (size_t *)(void *)((char *)ts + d->noff)) < 0)
				return -1;
			break;
		case TT_DH:
			if (want_scalar(l, v, what, "a number of bits") < 0)
				return -1;
			end = parse_digits(sval(v), &u64);
			for (size_t i = 0; end != NULL && *end == '\0' &&
			                   i < nitems(dh_sizes);
			     i++)
				dh_ok |= u64 == dh_sizes[i];
			if (!dh_ok)
				return err_node(
				    l, v,
				    "bad value \"%s\" for \"%s\" (use 0 for "
				    "OpenSSL's automatic choice, or 1024, "
				    "2048, 3072, 4096 or 8192)",
				    sval(v), what);
			*(unsigned *)(void *)field = (unsigned)u64;
			break;
		case TT_INT:
			if (get_range(l, v, what, d->min, d->max,
			              (int *)(void *)field) < 0)
				return -1;
			break;
		case TT_UINT:
			if (get_range(l, v, what, d->min, d->max, &choice) < 0)
				return -1;
			*(unsigned *)(void *)field = (unsigned)choice;
			break;
		case TT_KEY:
			if (get_choice(l, v, what, key_names, nitems(key_names),
			               &choice) < 0)
				return -1;
			*(enum tls_key_type *)(void *)field =
			    (enum tls_key_type)choice;
			break;
		case TT_NOSHARED:
			if (get_choice(l, v, what, noshared_names,
			               nitems(noshared_names), &choice) < 0)
				return -1;
			*(enum tls_no_shared *)(void *)field =
			    (enum tls_no_shared)choice;
			break;
		}
	}
	kb = map_get(l, n, "key_bits");
	kt = map_get(l, n, "key");
	if (kb != NULL && kt != NULL && ts->key_type != TLS_KEY_RSA)
		return err_node(
		    l, kb,
		    "\"tls.key_bits\" is for RSA keys only (leave it "
		    "out with key: %s)",
		    sval(kt));
	/* An ECDSA key has a curve, not RSA bits: whatever key_bits was
	 * inherited, tls_policy picks its default curve (P-256). */
	if (ts->key_type != TLS_KEY_RSA)
		ts->key_bits = 0;
	return 0;
}

/* ------------------------------------------------------------------ */
/* kind: middlebox                                                     */

/*
 * A fresh box: one that changes nothing. Every engine verb passes,
 * STARTTLS included, and every EHLO keyword.
 */
static struct mbox_config *
mbox_new(void)
{
	struct mbox_config *c = xcalloc(1, sizeof(*c));

	c->banner = MBOX_BANNER_PASS;
	c->allowed = xcalloc(VERB_COUNT, sizeof(char *));
	for (int v = 0; v < VERB_COUNT; v++)
		c->allowed[c->nallowed++] = xstrdup(verb_names[v]);
	c->denied = MBOX_DENIED_MASK;
	c->ehlo_mask_others = false;
	c->allow_tls = true;
	c->drop_split_eod = false;
	c->cut_on_duplicate = false;
	c->cut_action = MBOX_ACT_RESET;
	return c;
}

/* RFC 5321 4.1.1.1: ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
static bool
is_ehlo_keyword(const char *s)
{
	if (!isalnum((unsigned char)*s))
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '-')
			return false;
	return true;
}

static char *
xstrdup_upper(const char *s)
{
	char *u = xstrdup(s);

	for (char *c = u; *c != '\0'; c++)
		*c = (char)toupper((unsigned char)*c);
	return u;
}

/* What a list of words is made of, for get_words(). */
enum word_type {
	WORD_VERB,    /* one word of printable characters, upper-cased */
	WORD_KEYWORD, /* an EHLO keyword, upper-cased */
	WORD_HEADER,  /* a header name, kept as written */
};

/*
 * A list of words (null = empty) replacing *dst. Duplicates are errors,
 * compared without case.
 */
static int
get_words(struct layer *l, const yaml_node_t *n, const char *what,
          enum word_type type, char ***dst, size_t *ndst)
{
	static const char *const hint[] = {
	    [WORD_VERB] = "one verb per list item, e.g. HELO",
	    [WORD_KEYWORD] = "one EHLO keyword per list item, without "
	                     "parameters, e.g. 8BITMIME",
	    [WORD_HEADER] = "one header name per list item, without the "
	                    "colon, e.g. DKIM-Signature",
	};
	yaml_node_item_t *b = NULL;
	size_t cnt = 0;

	if (n->type == YAML_SEQUENCE_NODE) {
		b = n->data.sequence.items.start;
		cnt = (size_t)(n->data.sequence.items.top - b);
	} else if (!is_null(n)) {
		return wrong_type(l, n, what, "a list of words");
	}
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *v = node(l, b[i]);
		const char *s;
		bool ok;

		if (want_scalar(l, v, what, "a word") < 0)
			return -1;
		s = sval(v);
		ok = *s != '\0';
		if (type == WORD_KEYWORD)
			ok = is_ehlo_keyword(s);
		for (const char *c = s; ok && *c != '\0'; c++)
			if (!isgraph((unsigned char)*c) ||
			    (type == WORD_HEADER && *c == ':'))
				ok = false;
		if (!ok)
			return err_node(l, v, "bad word \"%s\" in \"%s\" (%s)",
			                s, what, hint[type]);
		for (size_t j = 0; j < i; j++)
			if (strcasecmp(sval(node(l, b[j])), s) == 0)
				return err_node(
				    l, v,
				    "\"%s\" is listed twice in \"%s\" (keep "
				    "one)",
				    s, what);
	}
	strv_free(*dst, *ndst);
	*dst = xcalloc(cnt, sizeof(char *));
	for (size_t i = 0; i < cnt; i++)
		(*dst)[i] = type == WORD_HEADER
		                ? xstrdup(sval(node(l, b[i])))
		                : xstrdup_upper(sval(node(l, b[i])));
	*ndst = cnt;
	return 0;
}

/* commands: {allowed: [...], denied: mask | noop}, merged key by key */
static int
load_box_commands(struct layer *l, const yaml_node_t *n)
{
	static const char *const keys[] = {"allowed", "denied"};
	struct mbox_config *c = l->p->mbox;
	yaml_node_t *v;
	int choice;

	if (n->type == YAML_SEQUENCE_NODE)
		return wrong_form(l, n, "commands",
		                  "a middlebox writes commands: {allowed: "
		                  "[HELO, MAIL, ...], denied: mask}");
	if (want_map(l, n, "commands", false) < 0 ||
	    check_map(l, n, "commands", keys, nitems(keys)) < 0)
		return -1;
	if ((v = map_get(l, n, "allowed")) != NULL &&
	    get_words(l, v, "commands.allowed", WORD_VERB, &c->allowed,
	              &c->nallowed) < 0)
		return -1;
	if ((v = map_get(l, n, "denied")) != NULL) {
		if (get_choice(l, v, "commands.denied", denied_names,
		               nitems(denied_names), &choice) < 0)
			return -1;
		c->denied = (enum mbox_denied)choice;
	}
	return 0;
}

/* ehlo.masks: keyword -> replacement, merged keyword by keyword */
static int
load_box_masks(struct layer *l, const yaml_node_t *n)
{
	struct mbox_config *c = l->p->mbox;

	if (want_map(l, n, "ehlo.masks", true) < 0)
		return -1;
	if (is_null(n))
		return 0;
	for (yaml_node_pair_t *pp = n->data.mapping.pairs.start;
	     pp < n->data.mapping.pairs.top; pp++) {
		yaml_node_t *k = node(l, pp->key), *v = node(l, pp->value);
		struct mbox_ehlo_mask *m = NULL;

		if (want_scalar(l, k, "ehlo.masks", "an EHLO keyword") < 0)
			return -1;
		if (!is_ehlo_keyword(sval(k)))
			return err_node(
			    l, k,
			    "bad EHLO keyword \"%s\" in \"ehlo.masks\" (a "
			    "keyword alone, without parameters, e.g. "
			    "STARTTLS: XXXXXXXA)",
			    sval(k));
		for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < pp;
		     q++)
			if (strcasecmp(sval(node(l, q->key)), sval(k)) == 0)
				return err_node(
				    l, k,
				    "\"%s\" is listed twice in \"ehlo.masks\" "
				    "(first at line %zu; keep one)",
				    sval(k),
				    node(l, q->key)->start_mark.line + 1);
		if (want_line(l, v, "ehlo.masks",
		              "a mask replaces one EHLO line") < 0)
			return -1;
		if (sval(v)[0] == '\0')
			return err_node(
			    l, v,
			    "empty replacement for \"%s\" in \"ehlo.masks\" "
			    "(give the text the client sees after \"250-\", "
			    "e.g. XXXXXXXA)",
			    sval(k));
		for (size_t i = 0; i < c->nehlo_masks; i++)
			if (strcasecmp(c->ehlo_masks[i].keyword, sval(k)) == 0)
				m = &c->ehlo_masks[i];
		if (m == NULL) {
			c->ehlo_masks =
			    xreallocarray(c->ehlo_masks, c->nehlo_masks + 1,
			                  sizeof(*c->ehlo_masks));
			m = &c->ehlo_masks[c->nehlo_masks++];
			m->keyword = xstrdup_upper(sval(k));
			m->replacement = NULL;
		}
		free(m->replacement);
		m->replacement = xstrdup(sval(v));
	}
	return 0;
}

/* ehlo: {masks, allowed, others}, merged key by key */
static int
load_box_ehlo(struct layer *l, const yaml_node_t *n)
{
	static const char *const keys[] = {"masks", "allowed", "others"};
	static const char *const server_keys[] = {"greeting", "keywords"};
	static const struct other_keys other = {
	    server_keys, nitems(server_keys), KIND_SERVER,
	    "a middlebox's ehlo has masks, allowed and others"};
	struct mbox_config *c = l->p->mbox;
	yaml_node_t *v;
	int choice;

	if (want_map(l, n, "ehlo", false) < 0 ||
	    check_keys(l, n, "ehlo", keys, nitems(keys), &other) < 0)
		return -1;
	if ((v = map_get(l, n, "masks")) != NULL && load_box_masks(l, v) < 0)
		return -1;
	if ((v = map_get(l, n, "allowed")) != NULL &&
	    get_words(l, v, "ehlo.allowed", WORD_KEYWORD, &c->ehlo_allowed,
	              &c->nehlo_allowed) < 0)
		return -1;
	if ((v = map_get(l, n, "others")) != NULL) {
		if (get_choice(l, v, "ehlo.others", others_names,
		               nitems(others_names), &choice) < 0)
			return -1;
		c->ehlo_mask_others = choice == 1;
	}
	return 0;
}

/* limits: a list of {what, over, action}; replaces the parent's list */
static int
load_box_limits(struct layer *l, const yaml_node_t *n)
{
	static const char *const keys[] = {"what", "over", "action"};
	struct mbox_config *c = l->p->mbox;
	struct mbox_limit *rows;
	yaml_node_item_t *b = NULL;
	size_t cnt = 0;

	if (n->type == YAML_MAPPING_NODE)
		return wrong_form(l, n, "limits",
		                  "a middlebox's limits are a list, e.g. - "
		                  "{what: cmd_line_length, over: 512, action: "
		                  "drop-connection}");
	if (n->type == YAML_SEQUENCE_NODE) {
		b = n->data.sequence.items.start;
		cnt = (size_t)(n->data.sequence.items.top - b);
	} else if (!is_null(n)) {
		return wrong_type(l, n, "limits",
		                  "a list of {what, over, action}");
	}
	rows = xcalloc(cnt, sizeof(*rows));
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *it = node(l, b[i]), *v;
		const char *end;
		int choice = 0;

		if (want_map(l, it, "limits", false) < 0 ||
		    check_map(l, it, "limits", keys, nitems(keys)) < 0)
			goto fail;
		for (size_t k = 0; k < nitems(keys); k++)
			if (map_get(l, it, keys[k]) == NULL) {
				err_node(
				    l, it,
				    "limit %zu has no \"%s\" (write {what: "
				    "cmd_line_length, over: 512, action: "
				    "drop-connection})",
				    i + 1, keys[k]);
				goto fail;
			}
		if (get_choice(l, map_get(l, it, "what"), "limits.what",
		               measure_names, nitems(measure_names),
		               &choice) < 0)
			goto fail;
		rows[i].what = (enum mbox_measure)choice;
		v = map_get(l, it, "over");
		if (want_scalar(l, v, "limits.over", "a whole number") < 0)
			goto fail;
		end = parse_digits(sval(v), &rows[i].over);
		if (end == NULL || *end != '\0') {
			err_node(
			    l, v,
			    "bad number \"%s\" for \"limits.over\" (use a "
			    "whole number: the limit acts when the measure "
			    "is greater than this)",
			    sval(v));
			goto fail;
		}
		if (get_choice(l, map_get(l, it, "action"), "limits.action",
		               mbox_action_names, nitems(mbox_action_names),
		               &choice) < 0)
			goto fail;
		rows[i].action = (enum mbox_action)choice;
	}
	free(c->limits);
	c->limits = rows;
	c->nlimits = cnt;
	return 0;
fail:
	free(rows);
	return -1;
}

/* duplicate_headers: {cut, headers, action}, merged key by key */
static int
load_box_dup(struct layer *l, const yaml_node_t *n)
{
	static const char *const keys[] = {"cut", "headers", "action"};
	struct mbox_config *c = l->p->mbox;
	yaml_node_t *v;
	int choice;

	if (want_map(l, n, "duplicate_headers", true) < 0)
		return -1;
	if (is_null(n))
		return 0;
	if (check_map(l, n, "duplicate_headers", keys, nitems(keys)) < 0)
		return -1;
	if ((v = map_get(l, n, "cut")) != NULL &&
	    get_bool(l, v, "duplicate_headers.cut", &c->cut_on_duplicate) < 0)
		return -1;
	if ((v = map_get(l, n, "headers")) != NULL &&
	    get_words(l, v, "duplicate_headers.headers", WORD_HEADER,
	              &c->cut_headers, &c->ncut_headers) < 0)
		return -1;
	if ((v = map_get(l, n, "action")) != NULL) {
		if (get_choice(l, v, "duplicate_headers.action",
		               cut_action_names, nitems(cut_action_names),
		               &choice) < 0)
			return -1;
		c->cut_action = (enum mbox_action)choice;
	}
	return 0;
}

/* A middlebox's top-level key (name, description, ...: nothing to do) */
static int
load_box_key(struct layer *l, const char *key, const yaml_node_t *v)
{
	struct mbox_config *c = l->p->mbox;
	int choice;

	if (strcmp(key, "banner") == 0) {
		if (get_choice(l, v, "banner", banner_names,
		               nitems(banner_names), &choice) < 0)
			return -1;
		c->banner = (enum mbox_banner)choice;
		return 0;
	}
	if (strcmp(key, "commands") == 0)
		return load_box_commands(l, v);
	if (strcmp(key, "ehlo") == 0)
		return load_box_ehlo(l, v);
	if (strcmp(key, "allow_tls") == 0)
		return get_bool(l, v, "allow_tls", &c->allow_tls);
	if (strcmp(key, "limits") == 0)
		return load_box_limits(l, v);
	if (strcmp(key, "split_end_of_data") == 0) {
		if (get_choice(l, v, "split_end_of_data", split_eod_names,
		               nitems(split_eod_names), &choice) < 0)
			return -1;
		c->drop_split_eod = choice == 1;
		return 0;
	}
	if (strcmp(key, "duplicate_headers") == 0)
		return load_box_dup(l, v);
	return 0;
}

/*
 * After the whole chain: STARTTLS passes exactly when allow_tls is true
 * (FACTS.md 5: "+ STARTTLS only with allow-tls"). Listing it with
 * allow_tls false is a contradiction; with allow_tls true it is added to
 * the allowed verbs, so that either field says the same.
 */
static int
box_finish(struct layer *l, const yaml_node_t *root)
{
	struct mbox_config *c = l->p->mbox;
	const yaml_node_t *at;
	bool listed = false;

	for (size_t i = 0; i < c->nallowed; i++)
		listed |= strcmp(c->allowed[i], "STARTTLS") == 0;
	if (listed && !c->allow_tls) {
		const yaml_node_t *cmds = map_get(l, root, "commands");

		at = map_get(l, root, "allow_tls");
		if (at == NULL && cmds != NULL &&
		    cmds->type == YAML_MAPPING_NODE)
			at = map_get(l, cmds, "allowed");
		return err_node(
		    l, at != NULL ? at : root,
		    "\"commands.allowed\" lists STARTTLS but allow_tls is "
		    "false (STARTTLS passes only with allow_tls: true; "
		    "remove it from the list, or set allow_tls: true)");
	}
	if (!listed && c->allow_tls) {
		c->allowed =
		    xreallocarray(c->allowed, c->nallowed + 1, sizeof(char *));
		c->allowed[c->nallowed++] = xstrdup("STARTTLS");
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Rules                                                               */

/* tls_client_hello: what the ClientHello offers. */
static int
load_when_hello(struct layer *l, struct rule_when *w, const yaml_node_t *v,
                const char *where)
{
	static const struct {
		const char *key;
		size_t off, noff;
	} lists[] = {
	    {"offers_any", offsetof(struct rule_when, offers_any),
	     offsetof(struct rule_when, noffers_any)},
	    {"offers_all", offsetof(struct rule_when, offers_all),
	     offsetof(struct rule_when, noffers_all)},
	    {"offers_none", offsetof(struct rule_when, offers_none),
	     offsetof(struct rule_when, noffers_none)},
	};
	char what[200];
	yaml_node_t *x;
	unsigned u;

	for (size_t i = 0; i < nitems(lists); i++) {
		snprintf(what, sizeof(what), "%s.%s", where, lists[i].key);
		if ((x = map_get(l, v, lists[i].key)) != NULL &&
		    get_suite_ids(
		        l, x, what,
		        (uint16_t **)(void *)((char *)w + lists[i].off),
		        (size_t *)(void *)((char *)w + lists[i].noff)) < 0)
			return -1;
	}
	snprintf(what, sizeof(what), "%s.versions_any", where);
	if ((x = map_get(l, v, "versions_any")) != NULL &&
	    get_versions(l, x, what, &w->versions_any) < 0)
		return -1;
	snprintf(what, sizeof(what), "%s.sni", where);
	if ((x = map_get(l, v, "sni")) != NULL &&
	    get_regex(l, x, what, &w->sni_pattern, &w->sni_re) < 0)
		return -1;
	snprintf(what, sizeof(what), "%s.extension", where);
	if ((x = map_get(l, v, "extension")) != NULL) {
		if (want_scalar(l, x, what, "an extension type") < 0)
			return -1;
		if (get_count(l, x, what, &u) < 0 || u > 65535)
			return err_node(
			    l, x,
			    "bad extension type \"%s\" for \"%s\" "
			    "(use a number from 0 to 65535, e.g. 13 "
			    "for signature_algorithms)",
			    sval(x), what);
		w->extension = (int)u;
	}
	return 0;
}

static int
load_when_hook(struct layer *l, struct rule_when *w, const char *hook,
               const yaml_node_t *v, const char *rname)
{
	static const char *const keys[HOOK_COUNT][6] = {
	    [HOOK_CONNECT] = {"client"},
	    [HOOK_COMMAND] = {"verb", "nth", "arg"},
	    [HOOK_HEADER] = {"name", "duplicate"},
	    [HOOK_DATA] = {"size_over"},
	    [HOOK_TLS_CLIENT_HELLO] = {"offers_any", "offers_all",
	                               "offers_none", "versions_any", "sni",
	                               "extension"},
	    [HOOK_TLS_HANDSHAKE_DONE] = {"version", "suite"},
	    [HOOK_TLS_FAILED] = {"reason"},
	};
	char where[160], what[200];
	yaml_node_t *x;
	uint16_t id;
	int h = 0;

	while (strcmp(hook_names[h], hook) != 0)
		h++; /* check_map() let only hook names through */
	w->hook = (enum hook)h;
	snprintf(where, sizeof(where), "rules.%s.when.%s", rname, hook);
	if (want_map(l, v, where, true) < 0)
		return -1;
	if (is_null(v))
		return 0;
	if (check_map(l, v, where, keys[h], nitems(keys[h])) < 0)
		return -1;
	switch (w->hook) {
	case HOOK_CONNECT:
		snprintf(what, sizeof(what), "%s.client", where);
		if ((x = map_get(l, v, "client")) != NULL &&
		    get_regex(l, x, what, &w->client_pattern, &w->client_re) <
		        0)
			return -1;
		break;
	case HOOK_COMMAND:
		if ((x = map_get(l, v, "verb")) != NULL) {
			snprintf(what, sizeof(what), "%s.verb", where);
			if (want_scalar(l, x, what, "a verb") < 0)
				return -1;
			for (const char *s = sval(x); *s; s++)
				if (!isgraph((unsigned char)*s))
					return err_node(
					    l, x,
					    "bad verb \"%s\" for \"%s\" (a "
					    "verb is one word, e.g. RCPT)",
					    sval(x), what);
			if (sval(x)[0] == '\0')
				return err_node(
				    l, x,
				    "empty verb for \"%s\" (leave \"verb\" "
				    "out to match any command)",
				    what);
			free(w->verb_name);
			w->verb_name = xstrdup(sval(x));
			for (char *s = w->verb_name; *s; s++)
				*s = (char)toupper((unsigned char)*s);
			w->verb =
			    verb_from_str(w->verb_name, strlen(w->verb_name));
		}
		snprintf(what, sizeof(what), "%s.nth", where);
		if ((x = map_get(l, v, "nth")) != NULL &&
		    get_count(l, x, what, &w->nth) < 0)
			return -1;
		snprintf(what, sizeof(what), "%s.arg", where);
		if ((x = map_get(l, v, "arg")) != NULL &&
		    get_regex(l, x, what, &w->arg_pattern, &w->arg_re) < 0)
			return -1;
		break;
	case HOOK_HEADER:
		if ((x = map_get(l, v, "name")) != NULL) {
			snprintf(what, sizeof(what), "%s.name", where);
			if (want_scalar(l, x, what, "a header name") < 0)
				return -1;
			for (const char *s = sval(x); *s; s++)
				if (!isgraph((unsigned char)*s) || *s == ':')
					return err_node(
					    l, x,
					    "bad header name \"%s\" for "
					    "\"%s\" (write the name without "
					    "the colon, e.g. DKIM-Signature)",
					    sval(x), what);
			free(w->header_name);
			w->header_name = xstrdup(sval(x));
		}
		snprintf(what, sizeof(what), "%s.duplicate", where);
		if ((x = map_get(l, v, "duplicate")) != NULL &&
		    get_bool(l, x, what, &w->header_duplicate) < 0)
			return -1;
		break;
	case HOOK_DATA:
		snprintf(what, sizeof(what), "%s.size_over", where);
		if ((x = map_get(l, v, "size_over")) != NULL &&
		    get_bytes(l, x, what, UINT64_MAX, &w->size_over) < 0)
			return -1;
		break;
	case HOOK_TLS_CLIENT_HELLO:
		return load_when_hello(l, w, v, where);
	case HOOK_TLS_HANDSHAKE_DONE:
		snprintf(what, sizeof(what), "%s.version", where);
		if ((x = map_get(l, v, "version")) != NULL &&
		    get_version(l, x, what, &w->version) < 0)
			return -1;
		snprintf(what, sizeof(what), "%s.suite", where);
		if ((x = map_get(l, v, "suite")) != NULL) {
			if (get_suite_id(l, x, what, &id) < 0)
				return -1;
			w->suite = id;
		}
		break;
	case HOOK_TLS_FAILED:
		snprintf(what, sizeof(what), "%s.reason", where);
		if ((x = map_get(l, v, "reason")) != NULL &&
		    get_regex(l, x, what, &w->reason_pattern, &w->reason_re) <
		        0)
			return -1;
		break;
	case HOOK_COUNT:
		break;
	}
	return 0;
}

static int
load_when(struct layer *l, struct rule *r, const yaml_node_t *n)
{
	char where[160];
	yaml_node_pair_t *b;

	snprintf(where, sizeof(where), "rules.%s.when", r->name);
	if (want_map(l, n, where, false) < 0 ||
	    check_map(l, n, where, hook_names, HOOK_COUNT) < 0)
		return -1;
	b = n->data.mapping.pairs.start;
	if (n->data.mapping.pairs.top == b)
		return err_node(
		    l, n,
		    "\"%s\" is empty (give exactly one hook: connect, "
		    "command, header, data, tls_client_hello, "
		    "tls_handshake_done or tls_failed)",
		    where);
	if (n->data.mapping.pairs.top - b > 1)
		return err_node(
		    l, node(l, b[1].key),
		    "\"%s\" has two hooks, \"%s\" and \"%s\" (a rule has "
		    "exactly one hook; split it into two rules)",
		    where, sval(node(l, b[0].key)), sval(node(l, b[1].key)));
	when_free(&r->when);
	return load_when_hook(l, &r->when, sval(node(l, b->key)),
	                      node(l, b->value), r->name);
}

/* A TLS alert: a schema name or a number 0..255. */
static int
get_alert(struct layer *l, const yaml_node_t *n, const char *what, int *out)
{
	uint64_t v;
	const char *end;

	if (want_scalar(l, n, what, "a TLS alert name or number") < 0)
		return -1;
	end = parse_digits(sval(n), &v);
	if (end != NULL && *end == '\0' && v <= 255) {
		*out = (int)v;
		return 0;
	}
	if (end == NULL && (*out = alert_from_name(sval(n))) >= 0)
		return 0;
	return err_node(l, n,
	                "unknown TLS alert \"%s\" for \"%s\" (use a name such "
	                "as handshake_failure, protocol_version, "
	                "internal_error or close_notify, or a number from 0 "
	                "to 255)",
	                sval(n), what);
}

static int
load_do(struct layer *l, struct rule *r, const yaml_node_t *n)
{
	static const char *const keys[] = {"delay", "reply", "close",
	                                   "hang",  "alert", "at"};
	char where[160], what[200];
	struct rule_do *d = &r->act;
	yaml_node_t *x;
	int at;

	snprintf(where, sizeof(where), "rules.%s.do", r->name);
	if (want_map(l, n, where, false) < 0 ||
	    check_map(l, n, where, keys, nitems(keys)) < 0)
		return -1;
	if (n->data.mapping.pairs.top == n->data.mapping.pairs.start)
		return err_node(
		    l, n,
		    "\"%s\" is empty (give at least one of delay, reply, "
		    "close, hang, alert)",
		    where);
	if (n->data.mapping.pairs.top - n->data.mapping.pairs.start == 1 &&
	    map_get(l, n, "at") != NULL)
		return err_node(
		    l, n,
		    "\"%s\" has only \"at\", which says when, not what (give "
		    "at least one of delay, reply, close, hang, alert)",
		    where);
	do_free(d);
	snprintf(what, sizeof(what), "%s.delay", where);
	if ((x = map_get(l, n, "delay")) != NULL &&
	    get_duration(l, x, what, &d->delay_ms) < 0)
		return -1;
	snprintf(what, sizeof(what), "%s.reply", where);
	if ((x = map_get(l, n, "reply")) != NULL) {
		if (get_reply(l, x, what, &d->reply) < 0)
			return -1;
		d->has_reply = true;
	}
	snprintf(what, sizeof(what), "%s.close", where);
	if ((x = map_get(l, n, "close")) != NULL &&
	    get_close(l, x, what, &d->close) < 0)
		return -1;
	snprintf(what, sizeof(what), "%s.hang", where);
	if ((x = map_get(l, n, "hang")) != NULL &&
	    get_bool(l, x, what, &d->hang) < 0)
		return -1;
	snprintf(what, sizeof(what), "%s.alert", where);
	if ((x = map_get(l, n, "alert")) != NULL &&
	    get_alert(l, x, what, &d->alert) < 0)
		return -1;
	snprintf(what, sizeof(what), "%s.at", where);
	if ((x = map_get(l, n, "at")) != NULL) {
		/* "now" is the default, not something to write */
		if (get_choice(l, x, what, at_names + 1, nitems(at_names) - 1,
		               &at) < 0)
			return -1;
		d->at = (enum tls_at)(at + 1);
	}
	return 0;
}

/* The key node of key in map, or NULL. */
static yaml_node_t *
map_key(struct layer *l, const yaml_node_t *map, const char *key)
{
	for (yaml_node_pair_t *pp = map->data.mapping.pairs.start;
	     pp < map->data.mapping.pairs.top; pp++) {
		yaml_node_t *k = node(l, pp->key);

		if (k->type == YAML_SCALAR_NODE && strcmp(sval(k), key) == 0)
			return k;
	}
	return NULL;
}

/*
 * Check "when" against "do", once both are in place (either may come
 * from a parent). n is the rule's mapping in this file: the error points
 * at the offending "do" key when this file gave "do", else at the hook.
 */
static int
check_rule(struct layer *l, const struct rule *r, const yaml_node_t *n)
{
	const struct rule_do *d = &r->act;
	enum hook h = r->when.hook;
	const yaml_node_t *dn = map_get(l, n, "do"),
	                  *wn = map_get(l, n, "when");
	const yaml_node_t *at_node, *alert_node, *reply_node;
	enum tls_at point;
	char name[64];

	if (dn == NULL && wn == NULL)
		return 0; /* both inherited, and checked there */
	if (dn != NULL) {
		at_node = map_key(l, dn, "at");
		alert_node = map_key(l, dn, "alert");
		reply_node = map_key(l, dn, "reply");
	} else {
		at_node = alert_node = reply_node =
		    node(l, wn->data.mapping.pairs.start->key);
	}
	if (!hook_is_tls(h)) {
		if (d->alert >= 0 || d->at != TLS_AT_NOW)
			return err_node(
			    l, d->alert >= 0 ? alert_node : at_node,
			    "\"rules.%s.do.%s\" needs a TLS hook, but the "
			    "rule's hook is \"%s\" (use tls_client_hello, "
			    "tls_handshake_done or tls_failed, or a \"do\" "
			    "without \"%s\")",
			    r->name, d->alert >= 0 ? "alert" : "at",
			    hook_str(h), d->alert >= 0 ? "alert" : "at");
		return 0;
	}
	if (d->has_reply)
		return err_node(
		    l, reply_node,
		    "\"rules.%s.do.reply\" is not allowed with the \"%s\" hook "
		    "(the client is not talking SMTP at that point; use "
		    "alert, close, hang or delay)",
		    r->name, hook_str(h));
	if (d->at == TLS_AT_CLIENT_HELLO && h != HOOK_TLS_CLIENT_HELLO)
		return err_node(
		    l, at_node,
		    "\"rules.%s.do.at\" is client_hello, but the rule's hook "
		    "is \"%s\", which comes after it (use at: client_hello "
		    "only with tls_client_hello)",
		    r->name, hook_str(h));
	if (d->at == TLS_AT_HANDSHAKE_DONE && h == HOOK_TLS_FAILED)
		return err_node(
		    l, at_node,
		    "\"rules.%s.do.at\" is handshake_done, but the rule's hook "
		    "is \"tls_failed\": that handshake never completes (leave "
		    "\"at\" out)",
		    r->name);
	point = d->at != TLS_AT_NOW            ? d->at
	        : h == HOOK_TLS_HANDSHAKE_DONE ? TLS_AT_HANDSHAKE_DONE
	                                       : TLS_AT_NOW;
	if (point == TLS_AT_HANDSHAKE_DONE && d->alert >= 0 &&
	    d->alert != TLS_ALERT_CLOSE_NOTIFY) {
		const char *an = alert_name(d->alert, name, sizeof(name));

		if (an == NULL)
			snprintf(name, sizeof(name), "%d", d->alert);
		return err_node(
		    l, alert_node,
		    "\"rules.%s.do.alert\" is %s at handshake_done, but after "
		    "the handshake only close_notify can be sent (OpenSSL has "
		    "no public API to send another alert then; use "
		    "close_notify, or close: fin or rst)",
		    r->name, name);
	}
	return 0;
}

static int
load_probability(struct layer *l, const yaml_node_t *n, const char *what,
                 double *out)
{
	char *end;
	double v;

	if (want_scalar(l, n, what, "a number") < 0)
		return -1;
	errno = 0;
	v = strtod(sval(n), &end);
	if (errno != 0 || end == sval(n) || *end != '\0' || !(v > 0.0) ||
	    !(v <= 1.0) || isspace((unsigned char)sval(n)[0]))
		return err_node(
		    l, n,
		    "bad probability \"%s\" for \"%s\" (use a number greater "
		    "than 0 and at most 1, e.g. 0.25)",
		    sval(n), what);
	*out = v;
	return 0;
}

static int
load_rule(struct layer *l, const yaml_node_t *seq, size_t idx)
{
	static const char *const keys[] = {
	    "name", "why", "enabled", "probability", "times", "when", "do"};
	yaml_node_t *n = node(l, seq->data.sequence.items.start[idx]);
	yaml_node_t *nm, *x;
	struct profile *p = l->p;
	struct rule *r = NULL;
	char what[200];

	if (n->type != YAML_MAPPING_NODE)
		return err_node(
		    l, n,
		    "rule %zu is %s (each rule is a mapping with name, when "
		    "and do)",
		    idx + 1, kind(n));
	if (check_map(l, n, "rules", keys, nitems(keys)) < 0)
		return -1;
	if ((nm = map_get(l, n, "name")) == NULL)
		return err_node(
		    l, n,
		    "rule %zu has no \"name\" (give every rule a unique "
		    "name)",
		    idx + 1);
	if (want_line(l, nm, "rules.name", "keep it on one line") < 0)
		return -1;
	if (sval(nm)[0] == '\0')
		return err_node(l, nm, "empty rule name (name the rule)");
	for (size_t i = 0; i < idx; i++) {
		yaml_node_t *o = node(l, seq->data.sequence.items.start[i]);
		yaml_node_t *on = map_get(l, o, "name");

		if (on != NULL && strcmp(sval(on), sval(nm)) == 0)
			return err_node(
			    l, nm,
			    "duplicate rule name \"%s\" (first at line %zu; "
			    "rule names must be unique)",
			    sval(nm), on->start_mark.line + 1);
	}
	/* A name from a parent: overlay that rule in place. */
	for (size_t i = 0; i < l->rules_before; i++)
		if (strcmp(p->rules[i].name, sval(nm)) == 0)
			r = &p->rules[i];
	if (r == NULL) {
		if (map_get(l, n, "when") == NULL)
			return err_node(
			    l, n,
			    "rule \"%s\" has no \"when\" (say when it fires: "
			    "connect, command, header, data, tls_client_hello, "
			    "tls_handshake_done or tls_failed)",
			    sval(nm));
		if (map_get(l, n, "do") == NULL)
			return err_node(
			    l, n,
			    "rule \"%s\" has no \"do\" (say what it does: "
			    "delay, reply, close, hang or alert)",
			    sval(nm));
		p->rules =
		    xreallocarray(p->rules, p->nrules + 1, sizeof(*p->rules));
		r = &p->rules[p->nrules++];
		memset(r, 0, sizeof(*r));
		atomic_init(&r->fired, 0);
		r->name = xstrdup(sval(nm));
		r->enabled = true;
		r->probability = 1.0;
		when_init(&r->when);
		do_init(&r->act);
	}
	r->line = (int)n->start_mark.line + 1;
	snprintf(what, sizeof(what), "rules.%s.why", r->name);
	if ((x = map_get(l, n, "why")) != NULL &&
	    get_line(l, x, what, &r->why) < 0)
		return -1;
	snprintf(what, sizeof(what), "rules.%s.enabled", r->name);
	if ((x = map_get(l, n, "enabled")) != NULL &&
	    get_bool(l, x, what, &r->enabled) < 0)
		return -1;
	snprintf(what, sizeof(what), "rules.%s.probability", r->name);
	if ((x = map_get(l, n, "probability")) != NULL &&
	    load_probability(l, x, what, &r->probability) < 0)
		return -1;
	snprintf(what, sizeof(what), "rules.%s.times", r->name);
	if ((x = map_get(l, n, "times")) != NULL &&
	    get_count(l, x, what, &r->times) < 0)
		return -1;
	if ((x = map_get(l, n, "when")) != NULL && load_when(l, r, x) < 0)
		return -1;
	if ((x = map_get(l, n, "do")) != NULL && load_do(l, r, x) < 0)
		return -1;
	return check_rule(l, r, n);
}

static int
load_rules(struct layer *l, const yaml_node_t *n)
{
	size_t cnt;

	if (is_null(n))
		return 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return wrong_type(l, n, "rules", "a list of rules");
	l->rules_before = l->p->nrules;
	cnt =
	    (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	for (size_t i = 0; i < cnt; i++)
		if (load_rule(l, n, i) < 0)
			return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Files and "extends"                                                 */

static bool
is_profile_name(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && strchr(s, '/') == NULL &&
	       !(n >= 5 && strcmp(s + n - 5, ".yaml") == 0);
}

static bool
is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static char *
path_join(const char *dir, size_t dirlen, const char *name, const char *ext)
{
	size_t n = dirlen + strlen(name) + strlen(ext) + 2;
	char *s = xmalloc(n);

	if (dirlen == 0)
		snprintf(s, n, "%s%s", name, ext);
	else if (dir[dirlen - 1] == '/')
		snprintf(s, n, "%.*s%s%s", (int)dirlen, dir, name, ext);
	else
		snprintf(s, n, "%.*s/%s%s", (int)dirlen, dir, name, ext);
	return s;
}

/*
 * Find NAME.yaml: first in first_dir (if any, length fdlen), then in the
 * search dirs. A middlebox (box) is looked for in each directory's
 * "middleboxes" subdirectory first, then in the directory itself.
 * Returns the path, or NULL with the places tried in looked.
 */
static char *
find_profile(struct loader *ld, const char *first_dir, size_t fdlen,
             const char *name, bool box, char *looked, size_t lookedlen)
{
	char *tried[2 * (PROFILE_MAX_DEPTH + 64)];
	size_t ntried = 0, off = 0;
	char *found = NULL, *sub;

	looked[0] = '\0';
	sub = path_join("middleboxes", strlen("middleboxes"), name, "");
	for (size_t i = 0; i <= ld->ndirs && found == NULL; i++) {
		const char *dir = i == 0 ? first_dir : ld->dirs[i - 1];
		size_t dirlen = i == 0 ? fdlen : strlen(dir);

		if (i == 0 && first_dir == NULL)
			continue;
		for (int j = box ? 0 : 1; j < 2 && found == NULL; j++) {
			char *cand = path_join(dir, dirlen, j == 0 ? sub : name,
			                       ".yaml");
			bool dup = false;

			for (size_t k = 0; k < ntried; k++)
				if (strcmp(tried[k], cand) == 0)
					dup = true;
			if (dup || ntried == nitems(tried)) {
				free(cand);
				continue;
			}
			if (is_file(cand)) {
				found = cand;
				break;
			}
			tried[ntried++] = cand;
		}
	}
	free(sub);
	for (size_t j = 0; j < ntried; j++) {
		int w = snprintf(looked + off, lookedlen - off, "%s%s",
		                 off ? ", " : "", tried[j]);

		if (w > 0 && (size_t)w < lookedlen - off)
			off += (size_t)w;
		free(tried[j]);
	}
	if (found == NULL && ntried == 0)
		snprintf(looked, lookedlen, "no profile directories given");
	return found;
}

static int load_file(struct loader *ld, const char *path);

/* Resolve and load the parent named by "extends:" node v. */
static int
load_parent(struct layer *l, const yaml_node_t *v)
{
	struct loader *ld = l->ld;
	const char *slash = strrchr(l->path, '/');
	size_t dirlen = slash ? (size_t)(slash - l->path) : 0;
	char looked[MSG_MAX / 2], chain[MSG_MAX / 2], *parent, *real;
	int rc;

	if (want_line(l, v, "extends", "give one profile name") < 0)
		return -1;
	if (sval(v)[0] == '\0')
		return err_node(
		    l, v,
		    "empty \"extends\" (name a profile, or leave it out)");
	if (is_profile_name(sval(v))) {
		parent =
		    find_profile(ld, slash ? l->path : "", dirlen, sval(v),
		                 l->kind == KIND_MBOX, looked, sizeof(looked));
		if (parent == NULL)
			return err_node(
			    l, v,
			    "extends: profile \"%s\" not found (looked in: "
			    "%s)",
			    sval(v), looked);
	} else {
		parent = sval(v)[0] == '/'
		             ? xstrdup(sval(v))
		             : path_join(l->path, dirlen, sval(v), "");
		if (!is_file(parent)) {
			err_node(
			    l, v,
			    "extends: profile file \"%s\" not found (looked "
			    "at %s)",
			    sval(v), parent);
			free(parent);
			return -1;
		}
	}
	real = realpath(parent, NULL);
	for (size_t i = 0; real != NULL && i <= ld->depth; i++) {
		size_t off = 0;

		if (strcmp(ld->real[i], real) != 0)
			continue;
		chain[0] = '\0';
		for (size_t j = i; j <= ld->depth; j++) {
			int w = snprintf(chain + off, sizeof(chain) - off,
			                 "%s -> ", ld->names[j]);

			if (w > 0 && (size_t)w < sizeof(chain) - off)
				off += (size_t)w;
		}
		err_node(
		    l, v,
		    "extends cycle: %s%s (remove one of these \"extends\")",
		    chain, ld->names[i]);
		free(real);
		free(parent);
		return -1;
	}
	free(real);
	if (ld->depth + 1 > PROFILE_MAX_DEPTH) {
		err_node(l, v,
		         "extends chain deeper than %d levels (flatten some of "
		         "the profiles)",
		         PROFILE_MAX_DEPTH);
		free(parent);
		return -1;
	}
	ld->depth++;
	rc = load_file(ld, parent);
	ld->depth--;
	free(parent);
	return rc;
}

/*
 * "via: [box, ...]": load each middlebox (a NAME is looked up like a
 * middlebox's "extends", a path is relative to this file) and replace
 * the parent's list.
 */
static int
load_via(struct layer *l, const yaml_node_t *n)
{
	struct loader *ld = l->ld;
	struct profile *p = l->p, **boxes;
	const char *slash = strrchr(l->path, '/');
	size_t dirlen = slash ? (size_t)(slash - l->path) : 0;
	yaml_node_item_t *b = NULL;
	size_t cnt = 0, got = 0;
	char looked[MSG_MAX / 2];

	if (n->type == YAML_SEQUENCE_NODE) {
		b = n->data.sequence.items.start;
		cnt = (size_t)(n->data.sequence.items.top - b);
	} else if (!is_null(n)) {
		return wrong_type(l, n, "via", "a list of middlebox names");
	}
	if (cnt > PROFILE_MAX_VIA)
		return err_node(l, n,
		                "\"via\" names %zu middleboxes (at most %d)",
		                cnt, PROFILE_MAX_VIA);
	boxes = xcalloc(cnt, sizeof(*boxes));
	for (; got < cnt; got++) {
		yaml_node_t *v = node(l, b[got]);
		char *path;

		if (want_line(l, v, "via", "give one middlebox per list item") <
		    0)
			goto fail;
		if (sval(v)[0] == '\0') {
			err_node(
			    l, v,
			    "empty name in \"via\" (name a middlebox, e.g. "
			    "asa-esmtp-inspect)");
			goto fail;
		}
		if (is_profile_name(sval(v))) {
			path =
			    find_profile(ld, slash ? l->path : "", dirlen,
			                 sval(v), true, looked, sizeof(looked));
			if (path == NULL) {
				err_node(
				    l, v,
				    "via: middlebox \"%s\" not found (looked "
				    "in: %s)",
				    sval(v), looked);
				goto fail;
			}
		} else {
			path = sval(v)[0] == '/'
			           ? xstrdup(sval(v))
			           : path_join(l->path, dirlen, sval(v), "");
		}
		/* its own loader: the box's errors are reported as they are */
		boxes[got] = profile_load(path, ld->dirs, ld->ndirs, ld->err,
		                          ld->errlen);
		if (boxes[got] != NULL && boxes[got]->mbox == NULL) {
			err_node(l, v,
			         "via: \"%s\" is a server profile (%s), not a "
			         "middlebox (name a file with \"kind: "
			         "middlebox\", e.g. asa-esmtp-inspect)",
			         sval(v), path);
			profile_unref(boxes[got]);
			boxes[got] = NULL;
		}
		free(path);
		if (boxes[got] == NULL)
			goto fail;
	}
	for (size_t i = 0; i < p->nvia; i++)
		profile_unref(p->via[i]);
	free(p->via);
	p->via = boxes;
	p->nvia = cnt;
	return 0;
fail:
	for (size_t i = 0; i < got; i++)
		profile_unref(boxes[i]);
	free(boxes);
	return -1;
}

static int
layer_read(struct layer *l)
{
	struct loader *ld = l->ld;
	yaml_parser_t parser;
	yaml_document_t extra;
	FILE *f;
	size_t cap = 4096;
	int rc = -1;

	if ((f = fopen(l->path, "rb")) == NULL)
		return err_plain(ld, "%s: cannot open: %s (check the path)",
		                 l->path, strerror(errno));
	l->src = xmalloc(cap);
	for (;;) {
		size_t got = fread(l->src + l->srclen, 1, cap - l->srclen, f);

		l->srclen += got;
		if (l->srclen > PROFILE_MAX_BYTES) {
			fclose(f);
			return err_plain(
			    ld,
			    "%s: file is larger than %d bytes (a profile is "
			    "a small text file)",
			    l->path, PROFILE_MAX_BYTES);
		}
		if (l->srclen < cap) {
			if (ferror(f)) {
				fclose(f);
				return err_plain(ld, "%s: cannot read: %s",
				                 l->path, strerror(errno));
			}
			break;
		}
		cap *= 2;
		l->src = xreallocarray(l->src, cap, 1);
	}
	fclose(f);

	if (!yaml_parser_initialize(&parser))
		abort();
	yaml_parser_set_input_string(&parser, (const unsigned char *)l->src,
	                             l->srclen);
	if (!yaml_parser_load(&parser, &l->doc))
		goto syntax;
	l->have_doc = true;
	if (!yaml_parser_load(&parser, &extra))
		goto syntax;
	if (yaml_document_get_root_node(&extra) != NULL) {
		err_at(l, extra.start_mark.line, extra.start_mark.column,
		       "a second YAML document (a profile file holds one "
		       "document; remove the \"---\" and what follows)");
		yaml_document_delete(&extra);
		goto out;
	}
	yaml_document_delete(&extra);
	rc = 0;
	goto out;
syntax:
	if (parser.error == YAML_MEMORY_ERROR)
		abort();
	if (parser.context != NULL)
		err_at(
		    l, parser.problem_mark.line, parser.problem_mark.column,
		    "YAML syntax error: %s %s at line %zu (check indentation "
		    "and quoting)",
		    parser.problem ? parser.problem : "error", parser.context,
		    parser.context_mark.line + 1);
	else
		err_at(l, parser.problem_mark.line, parser.problem_mark.column,
		       "YAML syntax error: %s (check indentation and quoting)",
		       parser.problem ? parser.problem : "error");
out:
	yaml_parser_delete(&parser);
	return rc;
}

/* Top-level keys and the kinds of file that allow them, in the order
 * the "known:" lists show them. */
static const struct {
	const char *key;
	unsigned kinds;
} top_defs[] = {
    {"name", KIND_BOTH},
    {"description", KIND_BOTH},
    {"kind", KIND_BOTH},
    {"extends", KIND_BOTH},
    {"via", KIND_SERVER},
    {"hostname", KIND_SERVER},
    {"greeting", KIND_SERVER},
    {"banner", KIND_MBOX},
    {"ehlo", KIND_BOTH},
    {"commands", KIND_BOTH},
    {"allow_tls", KIND_MBOX},
    {"line_endings", KIND_SERVER},
    {"replies", KIND_SERVER},
    {"limits", KIND_BOTH},
    {"split_end_of_data", KIND_MBOX},
    {"duplicate_headers", KIND_MBOX},
    {"auth", KIND_SERVER},
    {"tls", KIND_SERVER},
    {"rules", KIND_SERVER},
};

/* The top-level keys of l's kind, the other kind's only keys after. */
static int
check_top(struct layer *l, const yaml_node_t *root)
{
	const char *known[nitems(top_defs)], *others[nitems(top_defs)];
	size_t nknown = 0, nothers = 0;
	struct other_keys other = {
	    others, 0, KIND_BOTH & ~l->kind,
	    l->kind == KIND_SERVER
	        ? "a server names the middleboxes in front of it in \"via\""
	        : NULL};

	for (size_t i = 0; i < nitems(top_defs); i++)
		if (top_defs[i].kinds & l->kind)
			known[nknown++] = top_defs[i].key;
		else
			others[nothers++] = top_defs[i].key;
	other.n = nothers;
	return check_keys(l, root, "", known, nknown, &other);
}

static int
layer_apply(struct layer *l, yaml_node_t *root)
{
	struct loader *ld = l->ld;
	struct profile_impl *pi = ld->pi;
	yaml_node_t *nm, *v;

	if (root == NULL)
		return err_at(
		    l, 0, 0,
		    "empty profile (a profile is a mapping with at least "
		    "\"name:\")");
	if (root->type != YAML_MAPPING_NODE)
		return err_node(
		    l, root,
		    "the profile is %s (a profile is a mapping of keys, "
		    "starting with \"name:\")",
		    kind(root));
	/* "kind" first: it decides which keys the file may hold */
	l->kind = KIND_SERVER;
	if ((v = map_get(l, root, "kind")) != NULL) {
		int choice;

		if (get_choice(l, v, "kind", kind_names, nitems(kind_names),
		               &choice) < 0)
			return -1;
		l->kind = choice == 1 ? KIND_MBOX : KIND_SERVER;
		l->kind_explicit = true;
	}
	if (check_top(l, root) < 0)
		return -1;
	if ((nm = map_get(l, root, "name")) == NULL)
		return err_node(
		    l, root,
		    "missing required key \"name\" (add e.g. \"name: "
		    "my-profile\", using a-z, 0-9, \".\", \"_\" and \"-\")");
	if (want_scalar(l, nm, "name", "a string") < 0)
		return -1;
	for (const char *s = sval(nm); *s; s++)
		if (!islower((unsigned char)*s) &&
		    !isdigit((unsigned char)*s) && *s != '.' && *s != '_' &&
		    *s != '-')
			return err_node(
			    l, nm,
			    "bad name \"%s\" (use only a-z, 0-9, \".\", \"_\" "
			    "and \"-\")",
			    sval(nm));

	/* Record this file in the chain, for cycles and the summary. */
	ld->names[ld->depth] = sval(nm);
	ld->real[ld->depth] = realpath(l->path, NULL);
	if (ld->real[ld->depth] == NULL)
		ld->real[ld->depth] = xstrdup(l->path);
	pi->chain_names =
	    xreallocarray(pi->chain_names, pi->nchain + 1, sizeof(char *));
	pi->chain_paths =
	    xreallocarray(pi->chain_paths, pi->nchain + 1, sizeof(char *));
	pi->chain_names[pi->nchain] = xstrdup(sval(nm));
	pi->chain_paths[pi->nchain++] = xstrdup(l->path);

	if ((v = map_get(l, root, "extends")) != NULL) {
		if (load_parent(l, v) < 0)
			return -1;
		if (ld->kind != l->kind)
			return err_node(
			    l, v,
			    "extends: \"%s\" is a %s (kind: %s), but this file "
			    "is a %s (kind: %s%s) (a profile can only extend "
			    "one of its own kind)",
			    sval(v), kind_str(ld->kind), kind_str(ld->kind),
			    kind_str(l->kind), kind_str(l->kind),
			    l->kind_explicit ? "" : ", the default");
	}
	ld->kind = l->kind;
	if (l->kind == KIND_MBOX && l->p->mbox == NULL)
		l->p->mbox = mbox_new();

	/* name and description belong to the file itself. */
	if (ld->depth == 0) {
		free(l->p->name);
		l->p->name = xstrdup(sval(nm));
		free(l->p->description);
		l->p->description = NULL;
		free(l->p->path);
		l->p->path = xstrdup(l->path);
		if ((v = map_get(l, root, "description")) != NULL &&
		    get_line(l, v, "description", &l->p->description) < 0)
			return -1;
	} else if ((v = map_get(l, root, "description")) != NULL &&
	           want_line(l, v, "description", "keep it on one line") < 0) {
		return -1;
	}

	for (yaml_node_pair_t *pp = root->data.mapping.pairs.start;
	     pp < root->data.mapping.pairs.top; pp++) {
		const char *key = sval(node(l, pp->key));
		yaml_node_t *val = node(l, pp->value);
		int rc = 0;

		if (l->kind == KIND_MBOX) {
			if (load_box_key(l, key, val) < 0)
				return -1;
			continue;
		}
		if (strcmp(key, "via") == 0)
			rc = load_via(l, val);
		else if (strcmp(key, "hostname") == 0)
			rc = load_hostname(l, val);
		else if (strcmp(key, "greeting") == 0)
			rc = get_reply(l, val, "greeting",
			               &l->p->replies[REPLY_GREETING]);
		else if (strcmp(key, "ehlo") == 0)
			rc = load_ehlo(l, val);
		else if (strcmp(key, "commands") == 0)
			rc = load_commands(l, val);
		else if (strcmp(key, "line_endings") == 0)
			rc = load_line_endings(l, val);
		else if (strcmp(key, "replies") == 0)
			rc = load_replies(l, val);
		else if (strcmp(key, "limits") == 0)
			rc = load_limits(l, val);
		else if (strcmp(key, "auth") == 0)
			rc = load_auth(l, val);
		else if (strcmp(key, "tls") == 0)
			rc = load_tls(l, val);
		else if (strcmp(key, "rules") == 0)
			rc = load_rules(l, val);
		if (rc < 0)
			return -1;
	}
	if (l->kind == KIND_MBOX && ld->depth == 0)
		return box_finish(l, root);
	return 0;
}

static int
load_file(struct loader *ld, const char *path)
{
	struct layer l = {.ld = ld, .p = &ld->pi->pub, .path = path};
	int rc = -1;

	if (layer_read(&l) == 0)
		rc = layer_apply(&l, yaml_document_get_root_node(&l.doc));
	free(ld->real[ld->depth]);
	ld->real[ld->depth] = NULL;
	ld->names[ld->depth] = NULL;
	if (l.have_doc)
		yaml_document_delete(&l.doc);
	free(l.src);
	return rc;
}

static struct profile_impl *
profile_new(void)
{
	struct profile_impl *pi = xcalloc(1, sizeof(*pi));
	struct profile *p = &pi->pub;
	struct kw_state st = {0};
	char why[128];

	atomic_init(&p->refs, 1);
	p->hostname = xstrdup("mx.lab.test");
	p->ehlo_greeting = xstrdup("{hostname}");
	p->nehlo_keywords = nitems(default_keywords);
	p->ehlo_keywords = xcalloc(p->nehlo_keywords, sizeof(char *));
	for (size_t i = 0; i < nitems(default_keywords); i++) {
		p->ehlo_keywords[i] = xstrdup(default_keywords[i]);
		if (kw_derive(&st, default_keywords[i], why, sizeof(why)))
			abort(); /* a bug in the table above */
	}
	kw_commit(p, &st);
	p->commands = (1u << VERB_COUNT) - 1;
	p->eol = EOL_STRICT;
	for (size_t i = 0; i < REPLY_COUNT; i++) {
		if (reply_id_defaults[i] == NULL || reply_id_names[i] == NULL)
			abort(); /* a reply_id without a key or default */
		reply_set1(&p->replies[i], reply_id_defaults[i]);
	}
	p->limits = (struct limits){
	    .line_length = 512,       /* RFC 5321 4.5.3.1.4 */
	    .text_line_length = 1000, /* RFC 5321 4.5.3.1.6 */
	    .recipients = 100,        /* RFC 5321 4.5.3.1.8 */
	    .message_size = 0,        /* from SIZE, see profile_load */
	    .header_size = 0,
	    .bad_commands = 0,
	    .bad_commands_close = CLOSE_FIN,
	    .idle_timeout_ms = 5 * 60 * 1000, /* RFC 5321 4.5.3.2.7 */
	    .connection_timeout_ms = 0,
	    .hang_timeout_ms = 10 * 60 * 1000,
	    .max_sessions = 1000,
	    .max_sessions_per_client = 0,
	};
	p->tls = (struct tls_settings){
	    .enabled = false, /* until some file has "tls:" */
	    .versions = TLSV_1_2 | TLSV_1_3,
	    .server_preference = true,
	    .dh_bits = 0,
	    .security_level = -1,
	    .key_type = TLS_KEY_RSA,
	    .key_bits = 2048,
	    .no_shared_cipher = TLS_NOSHARED_OPENSSL,
	    .no_shared_version = TLS_NOSHARED_OPENSSL,
	};
	return pi;
}

/* profile_load - load and validate a profile by NAME or FILE path */
struct profile *
profile_load(const char *name_or_path, const char *const *dirs, size_t ndirs,
             char *err, size_t errlen)
{
	char dummy[1], looked[MSG_MAX / 2];
	struct loader ld = {.dirs = dirs, .ndirs = ndirs};
	char *path;
	struct profile *p;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	ld.err = err;
	ld.errlen = errlen;
	if (name_or_path == NULL || *name_or_path == '\0') {
		err_plain(&ld, "no profile given (name one, e.g. standard)");
		return NULL;
	}
	if (is_profile_name(name_or_path)) {
		path = find_profile(&ld, NULL, 0, name_or_path, false, looked,
		                    sizeof(looked));
		if (path == NULL) {
			err_plain(&ld,
			          "%s: profile not found (looked in: %s; "
			          "--list-profiles shows the known ones)",
			          name_or_path, looked);
			return NULL;
		}
	} else {
		path = xstrdup(name_or_path);
	}
	ld.pi = profile_new();
	if (load_file(&ld, path) < 0) {
		profile_free(ld.pi);
		free(path);
		return NULL;
	}
	free(path);
	p = &ld.pi->pub;
	/* message_size follows "SIZE n" unless some file set it. */
	if (!ld.size_explicit) {
		p->limits.message_size = (p->ext & EXT_SIZE) ? p->ext_size : 0;
		ld.pi->size_from_keyword = (p->ext & EXT_SIZE) != 0;
	}
	if (ld.size_is_max_size)
		p->ext_size = p->limits.message_size;
	if (p->mbox != NULL) {
		free(p->mbox->name);
		p->mbox->name = xstrdup(p->name);
		free(p->mbox->description);
		p->mbox->description =
		    p->description ? xstrdup(p->description) : NULL;
	}
	return p;
}

/* profile_load_middlebox - load a "kind: middlebox" file by NAME or path */
struct profile *
profile_load_middlebox(const char *name_or_path, const char *const *dirs,
                       size_t ndirs, char *err, size_t errlen)
{
	char dummy[1], looked[MSG_MAX / 2];
	struct loader ld = {.dirs = dirs, .ndirs = ndirs};
	char *path;
	struct profile *p;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	ld.err = err;
	ld.errlen = errlen;
	if (name_or_path == NULL || *name_or_path == '\0') {
		err_plain(&ld, "no middlebox given (name one, e.g. "
		               "asa-esmtp-inspect)");
		return NULL;
	}
	if (is_profile_name(name_or_path)) {
		path = find_profile(&ld, NULL, 0, name_or_path, true, looked,
		                    sizeof(looked));
		if (path == NULL) {
			err_plain(&ld,
			          "%s: middlebox not found (looked in: %s; "
			          "--list-profiles shows the known ones)",
			          name_or_path, looked);
			return NULL;
		}
	} else {
		path = xstrdup(name_or_path);
	}
	p = profile_load(path, dirs, ndirs, err, errlen);
	if (p != NULL && p->mbox == NULL) {
		err_plain(&ld,
		          "%s: %s is a server profile (kind: server), not a "
		          "middlebox (name a file with \"kind: middlebox\", "
		          "e.g. asa-esmtp-inspect)",
		          name_or_path, path);
		profile_unref(p);
		p = NULL;
	}
	free(path);
	return p;
}

/* ------------------------------------------------------------------ */
/* --check and --list-profiles                                         */

static const char *
fmt_ms(char *buf, size_t len, unsigned ms, const char *zero)
{
	if (ms == 0)
		snprintf(buf, len, "%s", zero);
	else if (ms % 3600000 == 0)
		snprintf(buf, len, "%uh", ms / 3600000);
	else if (ms % 60000 == 0)
		snprintf(buf, len, "%um", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%us", ms / 1000);
	else
		snprintf(buf, len, "%ums", ms);
	return buf;
}

static const char *
fmt_bytes(char *buf, size_t len, uint64_t v, const char *zero)
{
	static const char units[] = "GMK";

	if (v == 0) {
		snprintf(buf, len, "%s", zero);
		return buf;
	}
	for (int i = 0; i < 3; i++) {
		uint64_t m = 1ull << (10 * (3 - i));

		if (v % m == 0) {
			snprintf(buf, len, "%llu bytes (%llu%c)",
			         (unsigned long long)v,
			         (unsigned long long)(v / m), units[i]);
			return buf;
		}
	}
	snprintf(buf, len, "%llu bytes", (unsigned long long)v);
	return buf;
}

static const char *
fmt_count(char *buf, size_t len, unsigned v, const char *zero)
{
	if (v == 0)
		snprintf(buf, len, "%s", zero);
	else
		snprintf(buf, len, "%u", v);
	return buf;
}

static void
summary_reply(FILE *out, const char *label, const struct reply_text *r,
              int width)
{
	for (size_t i = 0; i < r->n; i++)
		fprintf(out, "  %-*s %s\n", width, i == 0 ? label : "",
		        r->lines[i]);
}

/* "tls1.0" for TLSV_1_0 */
static const char *
version_name(unsigned bit)
{
	for (size_t i = 0; i < nitems(tls_versions); i++)
		if (tls_versions[i].bit == bit)
			return tls_versions[i].name;
	return "?";
}

/* " tls1.0 tls1.2" for a set of version bits */
static void
summary_versions(FILE *out, unsigned bits)
{
	for (size_t i = 0; i < nitems(tls_versions); i++)
		if (bits & tls_versions[i].bit)
			fprintf(out, " %s", tls_versions[i].name);
}

static void
summary_ids(FILE *out, const char *label, const uint16_t *ids, size_t n,
            const char **sep)
{
	char b[128];

	if (n == 0)
		return;
	fprintf(out, "%s%s", *sep, label);
	for (size_t i = 0; i < n; i++) {
		const char *name = tls_suite_name(ids[i], b, sizeof(b));

		fprintf(out, "%s%s", i ? ", " : " ", name);
		if (strncmp(name, "0x", 2) != 0)
			fprintf(out, " (0x%04X)", ids[i]);
	}
	*sep = ";";
}

static void
summary_hello(FILE *out, const struct rule_when *w)
{
	const char *sep = "";

	summary_ids(out, " offering any of", w->offers_any, w->noffers_any,
	            &sep);
	summary_ids(out, " offering all of", w->offers_all, w->noffers_all,
	            &sep);
	summary_ids(out, " offering none of", w->offers_none, w->noffers_none,
	            &sep);
	if (w->versions_any != 0) {
		fprintf(out, "%s offering any of the versions", sep);
		summary_versions(out, w->versions_any);
		sep = ";";
	}
	if (w->sni_pattern != NULL) {
		fprintf(out, "%s SNI matching /%s/", sep, w->sni_pattern);
		sep = ";";
	}
	if (w->extension >= 0) {
		fprintf(out, "%s with extension %d", sep, w->extension);
		sep = ";";
	}
	if (*sep == '\0')
		fprintf(out, " (any ClientHello)");
}

static void
summary_list(FILE *out, const char *label, char **v, size_t n, const char *none)
{
	fprintf(out, "  %-18s", label);
	if (n == 0)
		fprintf(out, " %s\n", none);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%*s %s\n", i == 0 ? 0 : 20, "", v[i]);
}

static const char *
noshared_str(enum tls_no_shared how)
{
	switch (how) {
	case TLS_NOSHARED_OPENSSL:
		return "openssl (OpenSSL's own alert)";
	case TLS_NOSHARED_ALERT:
		return "alert (a fatal handshake_failure, 40)";
	case TLS_NOSHARED_FIN:
		return "fin (no answer, then FIN)";
	case TLS_NOSHARED_RST:
		return "rst (no answer, then RST)";
	}
	return "?";
}

/* The "tls:" settings as given; what OpenSSL makes of them is tls_policy's. */
static void
summary_tls(FILE *out, const struct tls_settings *ts)
{
	fprintf(out, "\nTLS (as configured)\n");
	if (!ts->enabled) {
		fprintf(out, "  disabled (STARTTLS gets tls_unavailable)\n");
		return;
	}
	fprintf(out, "  %-18s", "versions");
	summary_versions(out, ts->versions);
	fprintf(out, "\n");
	summary_list(out, "ciphers", ts->ciphers, ts->nciphers,
	             "(OpenSSL's DEFAULT)");
	summary_list(out, "ciphersuites", ts->ciphersuites, ts->nciphersuites,
	             "(OpenSSL's default)");
	fprintf(out, "  %-18s %s\n", "server_preference",
	        ts->server_preference ? "yes (the server's order wins)"
	                              : "no (the client's order wins)");
	summary_list(out, "groups", ts->groups, ts->ngroups,
	             "(OpenSSL's default)");
	if (ts->dh_bits == 0)
		fprintf(out, "  %-18s auto\n", "dh_bits");
	else
		fprintf(out, "  %-18s %u\n", "dh_bits", ts->dh_bits);
	summary_list(out, "sigalgs", ts->sigalgs, ts->nsigalgs,
	             "(OpenSSL's default)");
	if (ts->security_level < 0)
		fprintf(out, "  %-18s (OpenSSL's default)\n", "security_level");
	else
		fprintf(out, "  %-18s %d\n", "security_level",
		        ts->security_level);
	if (ts->key_type == TLS_KEY_RSA)
		fprintf(out, "  %-18s rsa, %u bits\n", "key", ts->key_bits);
	else
		fprintf(out, "  %-18s %s\n", "key", key_names[ts->key_type]);
	fprintf(out, "  %-18s %s\n", "no_shared_cipher",
	        noshared_str(ts->no_shared_cipher));
	fprintf(out, "  %-18s %s\n", "no_shared_version",
	        noshared_str(ts->no_shared_version));
}

static void
summary_rule(FILE *out, const struct rule *r)
{
	const struct rule_when *w = &r->when;
	const struct rule_do *d = &r->act;
	char b[128];
	const char *sep = " ";

	fprintf(out, "  %s (line %d)%s\n", r->name, r->line,
	        r->enabled ? "" : "  [disabled]");
	if (r->why != NULL)
		fprintf(out, "    why: %s\n", r->why);
	fprintf(out, "    when %s", hook_str(w->hook));
	switch (w->hook) {
	case HOOK_CONNECT:
		if (w->client_pattern != NULL)
			fprintf(out, " from a client matching /%s/",
			        w->client_pattern);
		break;
	case HOOK_COMMAND:
		fprintf(out, " %s", w->verb_name ? w->verb_name : "(any verb)");
		if (w->verb_name != NULL && w->verb == VERB_UNKNOWN)
			fprintf(out, " (not an engine verb)");
		if (w->nth != 0)
			fprintf(out, ", use #%u in the session", w->nth);
		if (w->arg_pattern != NULL)
			fprintf(out, ", arguments matching /%s/",
			        w->arg_pattern);
		break;
	case HOOK_HEADER:
		if (w->header_name != NULL)
			fprintf(out, " %s present%s", w->header_name,
			        w->header_duplicate ? " more than once" : "");
		else if (w->header_duplicate)
			fprintf(out, " any header present more than once");
		else
			fprintf(out, " (end of the header section)");
		break;
	case HOOK_DATA:
		if (w->size_over != 0)
			fprintf(out, " size over %s",
			        fmt_bytes(b, sizeof(b), w->size_over, "0"));
		else
			fprintf(out, " at end of data");
		break;
	case HOOK_TLS_CLIENT_HELLO:
		summary_hello(out, w);
		break;
	case HOOK_TLS_HANDSHAKE_DONE:
		if (w->version != 0)
			fprintf(out, " version %s", version_name(w->version));
		if (w->suite >= 0)
			fprintf(
			    out, "%s suite %s (0x%04X)",
			    w->version != 0 ? "," : "",
			    tls_suite_name((uint16_t)w->suite, b, sizeof(b)),
			    (unsigned)w->suite);
		if (w->version == 0 && w->suite < 0)
			fprintf(out, " (any version and suite)");
		break;
	case HOOK_TLS_FAILED:
		if (w->reason_pattern != NULL)
			fprintf(out, " with a reason matching /%s/",
			        w->reason_pattern);
		else
			fprintf(out, " (any reason)");
		break;
	case HOOK_COUNT:
		break;
	}
	fprintf(out, " -> do");
	if (d->delay_ms != 0) {
		fprintf(out, "%sdelay %s", sep,
		        fmt_ms(b, sizeof(b), d->delay_ms, "0"));
		sep = ", ";
	}
	if (d->has_reply) {
		fprintf(out, "%sreply", sep);
		for (size_t i = 0; i < d->reply.n; i++)
			fprintf(out, "%s\"%s\"", i ? " / " : " ",
			        d->reply.lines[i]);
		sep = ", ";
	}
	if (d->close != CLOSE_NONE) {
		fprintf(out, "%sclose %s", sep, close_how_str(d->close));
		sep = ", ";
	}
	if (d->hang) {
		fprintf(out, "%shang", sep);
		sep = ", ";
	}
	if (d->alert >= 0) {
		const char *an = alert_name(d->alert, b, sizeof(b));

		fprintf(out, "%salert %s (%d)", sep, an ? an : "unnamed",
		        d->alert);
		sep = ", ";
	}
	if (d->at != TLS_AT_NOW)
		fprintf(out, ", at %s", at_names[d->at]);
	if (*sep == ' ')
		fprintf(out, " nothing");
	fprintf(out, "\n    probability %g, ", r->probability);
	if (r->times != 0)
		fprintf(out, "at most %u times per process\n", r->times);
	else
		fprintf(out, "no cap on firings\n");
}

/* The middlebox part of --check: what the box does to each direction. */
static void
summary_box(FILE *out, const struct mbox_config *c)
{
	static const char *const banner_why[] = {
	    [MBOX_BANNER_PASS] = "pass (the greeting goes through as sent)",
	    [MBOX_BANNER_MASK] = "mask (every character but \"2\", \"0\", "
	                         "\"0\", CR and LF becomes \"*\")",
	    [MBOX_BANNER_MASK_ALL] = "mask-all (every character but CR and "
	                             "LF becomes \"*\")",
	};
	static const char *const measure_unit[MBOX_MEASURE_COUNT] = {
	    [MBOX_CMD_LINE] = "bytes, without CRLF",
	    [MBOX_RCPT_COUNT] = "RCPTs in one transaction",
	    [MBOX_SENDER_LEN] = "bytes of the MAIL FROM address",
	    [MBOX_HEADER_LINE] = "bytes, without CRLF",
	    [MBOX_BODY_LINE] = "bytes, without CRLF",
	    [MBOX_MIME_FILENAME] = "bytes of a filename=\"...\"",
	};
	static const char *const action_why[] = {
	    [MBOX_ACT_LOG] = "log (noted, passed on)",
	    [MBOX_ACT_DROP] = "drop-connection (nothing more passes; FIN)",
	    [MBOX_ACT_RESET] = "reset (nothing more passes; RST to the "
	                       "client)",
	};

	fprintf(out, "\nBanner (server -> client)\n  %s\n",
	        banner_why[c->banner]);

	fprintf(out, "\nCommands (client -> server)\n  allowed: ");
	for (size_t i = 0; i < c->nallowed; i++)
		fprintf(out, " %s", c->allowed[i]);
	if (c->nallowed == 0)
		fprintf(out, " (none)");
	fprintf(out, "\n  denied:   %s\n",
	        c->denied == MBOX_DENIED_MASK
	            ? "mask (X's of the same length; the server answers "
	              "its unknown-command reply)"
	            : "noop (rewritten to NOOP)");

	fprintf(out, "\nEHLO reply (server -> client)\n");
	for (size_t i = 0; i < c->nehlo_masks; i++)
		fprintf(out, "  mask:     %s -> %s\n", c->ehlo_masks[i].keyword,
		        c->ehlo_masks[i].replacement);
	fprintf(out, "  allowed: ");
	for (size_t i = 0; i < c->nehlo_allowed; i++)
		fprintf(out, " %s", c->ehlo_allowed[i]);
	if (c->nehlo_allowed == 0)
		fprintf(out, " (none listed)");
	fprintf(out, "\n  others:   %s\n",
	        c->ehlo_mask_others ? "mask (X's of the same length)" : "pass");

	fprintf(out, "\nSTARTTLS\n  allow_tls: %s\n",
	        c->allow_tls ? "yes (STARTTLS passes; after its 220 the box "
	                       "passes everything unread)"
	                     : "no (STARTTLS is denied like any verb not "
	                       "allowed)");

	fprintf(out, "\nLimits (%zu)\n", c->nlimits);
	if (c->nlimits == 0)
		fprintf(out, "  (none)\n");
	for (size_t i = 0; i < c->nlimits; i++)
		fprintf(out, "  %-20s > %llu %s: %s\n",
		        measure_names[c->limits[i].what],
		        (unsigned long long)c->limits[i].over,
		        measure_unit[c->limits[i].what],
		        action_why[c->limits[i].action]);

	fprintf(out, "\nEnd of data\n  split_end_of_data: %s\n",
	        c->drop_split_eod
	            ? "drop (a CRLF.CRLF split over packets is dropped; the "
	              "sender times out)"
	            : "pass");

	fprintf(out, "\nDuplicate headers\n");
	if (!c->cut_on_duplicate) {
		fprintf(out, "  cut: no\n");
		return;
	}
	fprintf(out, "  cut: yes, when the header section carries a duplicate "
	             "header");
	for (size_t i = 0; i < c->ncut_headers; i++)
		fprintf(out, "%s%s", i == 0 ? " or any of: " : ", ",
		        c->cut_headers[i]);
	fprintf(out, "\n  action: %s\n", action_why[c->cut_action]);
}

static void
summary_head(const struct profile *p, FILE *out, const char *what)
{
	const struct profile_impl *pi = impl_of(p);

	fprintf(out, "%s %s\n", what, p->name);
	fprintf(out, "  description:   %s\n",
	        p->description ? p->description : "(none)");
	fprintf(out, "  file:          %s\n", p->path);
	fprintf(out, "  extends:       ");
	if (pi->nchain <= 1)
		fprintf(out, "(nothing)");
	for (size_t i = 1; i < pi->nchain; i++)
		fprintf(out, "%s%s (%s)", i > 1 ? " -> " : "",
		        pi->chain_names[i], pi->chain_paths[i]);
	fprintf(out, "\n");
}

/* profile_summary - human-readable explanation for --check */
void
profile_summary(const struct profile *p, bool with_via, FILE *out)
{
	size_t nvia = with_via ? p->nvia : 0;

	const struct profile_impl *pi = impl_of(p);
	const struct limits *lim = &p->limits;
	char b[96];
	int width = 0;

	if (p->mbox != NULL) {
		summary_head(p, out, "Middlebox");
		summary_box(out, p->mbox);
		return;
	}
	summary_head(p, out, "Profile");
	fprintf(out, "  via:           ");
	if (nvia == 0)
		fprintf(out, "(no middlebox: the client talks to the server)");
	for (size_t i = 0; i < nvia; i++)
		fprintf(out, "%s%s", i ? " -> " : "client -> ",
		        p->via[i]->name);
	if (nvia != 0)
		fprintf(out, " -> server");
	fprintf(out, "\n  hostname:      %s\n", p->hostname);
	fprintf(out, "  line endings:  %s\n",
	        p->eol == EOL_STRICT
	            ? "strict (only CRLF ends a line; a bare LF "
	              "gets the bare_lf reply)"
	            : "lenient (LF alone also ends a line)");

	fprintf(out, "\nGreeting\n");
	for (size_t i = 0; i < p->replies[REPLY_GREETING].n; i++)
		fprintf(out, "  %s\n", p->replies[REPLY_GREETING].lines[i]);

	fprintf(out, "\nEHLO reply\n");
	fprintf(out, "  %s%s\n", p->nehlo_keywords ? "250-" : "250 ",
	        p->ehlo_greeting);
	for (size_t i = 0; i < p->nehlo_keywords; i++)
		fprintf(out, "  %s%s\n",
		        i + 1 == p->nehlo_keywords ? "250 " : "250-",
		        p->ehlo_keywords[i]);
	fprintf(out, "  extensions the engine implements:");
	for (size_t i = 0; i < EXT_WORD_COUNT; i++)
		if (p->ext & ext_words[i].bit)
			fprintf(out, " %s", ext_words[i].word);
	if (p->ext == 0)
		fprintf(out, " (none)");
	fprintf(out, "\n");
	if (p->ext & EXT_SIZE)
		fprintf(
		    out, "  SIZE: %s\n",
		    fmt_bytes(b, sizeof(b), p->ext_size, "no fixed maximum"));
	if (p->nauth_mechs != 0) {
		fprintf(out, "  AUTH mechanisms:");
		for (size_t i = 0; i < p->nauth_mechs; i++)
			fprintf(out, " %s", p->auth_mechs[i]);
		fprintf(out, "\n");
	}

	fprintf(out, "\nCommands recognised (others get unknown_command)\n ");
	for (int v = 0; v < VERB_COUNT; v++)
		if (p->commands & (1u << v))
			fprintf(out, " %s", verb_names[v]);
	if (p->commands == 0)
		fprintf(out, " (none)");
	fprintf(out, "\n");

	fprintf(out, "\nLimits\n");
	fprintf(out, "  %-24s %zu bytes incl. CRLF\n", "line_length",
	        lim->line_length);
	fprintf(out, "  %-24s %zu bytes incl. CRLF\n", "text_line_length",
	        lim->text_line_length);
	fprintf(out, "  %-24s %u per transaction\n", "recipients",
	        lim->recipients);
	fprintf(out, "  %-24s %s%s\n", "message_size",
	        fmt_bytes(b, sizeof(b), lim->message_size, "unlimited"),
	        pi->size_from_keyword ? " (from the SIZE keyword)" : "");
	fprintf(out, "  %-24s %s\n", "header_size",
	        fmt_bytes(b, sizeof(b), lim->header_size, "unlimited"));
	fprintf(out, "  %-24s %s\n", "bad_commands",
	        fmt_count(b, sizeof(b), lim->bad_commands, "no limit"));
	fprintf(out, "  %-24s %s\n", "bad_commands_close",
	        close_how_str(lim->bad_commands_close));
	fprintf(out, "  %-24s %s\n", "idle_timeout",
	        fmt_ms(b, sizeof(b), lim->idle_timeout_ms, "none"));
	fprintf(out, "  %-24s %s\n", "connection_timeout",
	        fmt_ms(b, sizeof(b), lim->connection_timeout_ms, "none"));
	fprintf(out, "  %-24s %s\n", "hang_timeout",
	        fmt_ms(b, sizeof(b), lim->hang_timeout_ms, "none"));
	fprintf(out, "  %-24s %s\n", "max_sessions",
	        fmt_count(b, sizeof(b), lim->max_sessions, "unlimited"));
	fprintf(
	    out, "  %-24s %s\n", "max_sessions_per_client",
	    fmt_count(b, sizeof(b), lim->max_sessions_per_client, "unlimited"));

	fprintf(out, "\nAuth\n  credentials:  ");
	for (size_t i = 0; i < p->auth.ncreds; i++)
		fprintf(out, "%s%s", i ? ", " : "", p->auth.creds[i].user);
	if (p->auth.ncreds == 0)
		fprintf(out, "(none)");
	fprintf(out, "\n  accept_any:   %s\n  require_tls:  %s\n",
	        p->auth.accept_any ? "yes" : "no",
	        p->auth.require_tls ? "yes" : "no");

	summary_tls(out, &p->tls);

	fprintf(out, "\nReplies\n");
	for (int i = 0; i < REPLY_COUNT; i++)
		if ((int)strlen(reply_id_names[i]) > width)
			width = (int)strlen(reply_id_names[i]);
	for (int i = 0; i < REPLY_COUNT; i++)
		summary_reply(out, reply_id_names[i], &p->replies[i], width);

	fprintf(out, "\nRules (%zu)\n", p->nrules);
	if (p->nrules == 0)
		fprintf(out, "  (none)\n");
	for (size_t i = 0; i < p->nrules; i++)
		summary_rule(out, &p->rules[i]);

	/* each box in front, client side first */
	for (size_t i = 0; i < nvia; i++) {
		fprintf(out, "\nvia %zu of %zu: ", i + 1, nvia);
		summary_head(p->via[i], out, "Middlebox");
		summary_box(out, p->via[i]->mbox);
	}
}

struct list_ent {
	char *name;
	char *path;
	bool box_dir; /* found in a "middleboxes" subdirectory */
	bool box;     /* listed with the middleboxes */
	char *text;   /* description, or why it does not load */
};

static int
list_cmp(const void *a, const void *b)
{
	return strcmp(((const struct list_ent *)a)->name,
	              ((const struct list_ent *)b)->name);
}

/* Append the *.yaml files of dir (length dirlen) to *ents. */
static void
list_scan(const char *dir, size_t dirlen, bool box_dir, struct list_ent **ents,
          size_t *n)
{
	char *d = xmalloc(dirlen + 1);
	DIR *dh;
	struct dirent *de;

	memcpy(d, dir, dirlen);
	d[dirlen] = '\0';
	dh = opendir(d);
	free(d);
	if (dh == NULL)
		return;
	while ((de = readdir(dh)) != NULL) {
		size_t len = strlen(de->d_name);
		char *path;

		if (de->d_name[0] == '.' || len <= 5 ||
		    strcmp(de->d_name + len - 5, ".yaml") != 0)
			continue;
		path = path_join(dir, dirlen, de->d_name, "");
		if (!is_file(path)) {
			free(path);
			continue;
		}
		*ents = xreallocarray(*ents, *n + 1, sizeof(**ents));
		(*ents)[*n] =
		    (struct list_ent){.path = path, .box_dir = box_dir};
		(*ents)[*n].name = xmalloc(len - 4);
		memcpy((*ents)[*n].name, de->d_name, len - 5);
		(*ents)[(*n)++].name[len - 5] = '\0';
	}
	closedir(dh);
}

/*
 * profile_list - "name  description" for every server profile in dirs,
 * then a "middleboxes:" group: the files of each dir's "middleboxes"
 * subdirectory and any middlebox found among the profiles. A name is
 * listed once per group, from the place a lookup would find it first.
 */
size_t
profile_list(const char *const *dirs, size_t ndirs, FILE *out)
{
	struct list_ent *ents = NULL;
	size_t n = 0, keep = 0;
	int width[2] = {0, 0};
	bool any_box = false;

	for (size_t d = 0; d < ndirs; d++) {
		char *sub =
		    path_join(dirs[d], strlen(dirs[d]), "middleboxes", "");

		list_scan(sub, strlen(sub), true, &ents, &n);
		list_scan(dirs[d], strlen(dirs[d]), false, &ents, &n);
		free(sub);
	}
	for (size_t i = 0; i < n; i++) {
		struct list_ent *e = &ents[i];
		char err[MSG_MAX];
		struct profile *p =
		    profile_load(e->path, dirs, ndirs, err, sizeof(err));
		bool seen = false;
		size_t len;

		e->box = e->box_dir || (p != NULL && p->mbox != NULL);
		for (size_t j = 0; j < keep; j++)
			if (ents[j].box == e->box &&
			    strcmp(ents[j].name, e->name) == 0)
				seen = true;
		if (p == NULL) {
			len = strlen(err) + 16;
			e->text = xmalloc(len);
			snprintf(e->text, len, "(invalid: %s)", err);
		} else if (e->box && p->mbox == NULL) {
			len = strlen(e->path) + 96;
			e->text = xmalloc(len);
			snprintf(e->text, len,
			         "(invalid: %s is a server profile (kind: "
			         "server), not a middlebox)",
			         e->path);
		} else {
			e->text = xstrdup(p->description ? p->description : "");
		}
		profile_unref(p);
		if (seen) {
			free(e->name);
			free(e->path);
			free(e->text);
			continue;
		}
		if ((int)strlen(e->name) > width[e->box])
			width[e->box] = (int)strlen(e->name);
		any_box |= e->box;
		ents[keep++] = *e;
	}
	if (keep > 0)
		qsort(ents, keep, sizeof(*ents), list_cmp);
	for (int box = 0; box < 2; box++) {
		if (box && any_box)
			fprintf(out, "%smiddleboxes:\n",
			        keep > 0 && width[0] > 0 ? "\n" : "");
		for (size_t i = 0; i < keep; i++)
			if (ents[i].box == box)
				fprintf(out, "%s%-*s  %s\n", box ? "  " : "",
				        width[box], ents[i].name, ents[i].text);
	}
	for (size_t i = 0; i < keep; i++) {
		free(ents[i].name);
		free(ents[i].path);
		free(ents[i].text);
	}
	free(ents);
	return keep;
}
