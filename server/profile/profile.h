/*
 * profile.h - a behaviour profile: everything that makes one emulated peer
 * differ from another, as data.
 *
 * A profile is loaded once from YAML (load.c and the files it uses, with
 * libyaml), validated with file:line:column errors, and then treated as
 * const by every session that uses it. The engine never asks "which vendor
 * is this?": it asks the profile for a reply text, a limit, or the rules to
 * try at a hook point.
 *
 * Not here: matching rules against a live session (rules.c), expanding
 * reply templates (template.c), building an SSL_CTX (tls_policy.c).
 */
#ifndef PROFILE_H
#define PROFILE_H

#include <regex.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ids.h"
#include "message.h"
#include "middlebox.h"
#include "proto.h"
#include "tls_policy.h"

/* One reply: its exact lines (without CRLF), placeholders unexpanded. */
struct reply_text {
	char **lines;
	size_t n;
};

/* The "when:" half of a rule. Unused fields are zero/NULL. */
struct rule_when {
	enum hook hook;
	/* HOOK_CONNECT */
	char *client_pattern; /* POSIX ERE on the client IP, or NULL */
	regex_t client_re;
	/* HOOK_COMMAND */
	int verb;          /* enum smtp_verb; VERB_UNKNOWN = any */
	char *verb_name;   /* verb as written (may be an unknown verb) */
	unsigned nth;      /* 1-based use of that verb in the session; 0 any */
	char *arg_pattern; /* POSIX ERE, REG_ICASE, on the arguments */
	regex_t arg_re;
	/* HOOK_HEADER */
	char *header_name;     /* header that must be present, or NULL */
	bool header_duplicate; /* ...more than once (any header if name NULL) */
	/* HOOK_DATA */
	uint64_t
	    size_over; /* fires when the message grows past this; 0: at end */
	/* HOOK_TLS_CLIENT_HELLO: suites by IANA name or 0xHHHH, as ids */
	uint16_t *offers_any; /* at least one of these offered */
	size_t noffers_any;
	uint16_t *offers_all; /* every one of these offered */
	size_t noffers_all;
	uint16_t *offers_none; /* none of these offered */
	size_t noffers_none;
	unsigned versions_any; /* enum tls_version_bit; 0 = any */
	char *sni_pattern;     /* POSIX ERE on the SNI ("" when none sent) */
	regex_t sni_re;
	int extension; /* extension type that must be present; -1 */
	/* HOOK_TLS_HANDSHAKE_DONE */
	unsigned version; /* negotiated version bit; 0 = any */
	int suite;        /* negotiated suite id; -1 = any */
	bool dh_short;    /* the client's DHE public value encoded shorter
	                   * than the prime (leading zero bytes stripped) */
	/* HOOK_TLS_FAILED */
	char *reason_pattern; /* POSIX ERE on OpenSSL's reason string */
	regex_t reason_re;
};

/* When a TLS action happens. */
enum tls_at {
	TLS_AT_NOW,            /* at the hook that fired */
	TLS_AT_CLIENT_HELLO,   /* before any server flight */
	TLS_AT_HANDSHAKE_DONE, /* right after the handshake completes */
};

/* The "do:" half of a rule. */
struct rule_do {
	unsigned delay_ms; /* wait first, then go on */
	bool has_reply;
	struct reply_text reply; /* sent instead of the engine's reply */
	enum close_how close;
	bool hang;      /* stop reading; ends at limits.hang_timeout */
	int alert;      /* TLS alert number to send; -1 = none */
	enum tls_at at; /* for TLS actions */
	/* "fail_first: N": the rule fires for the first N attempts of each
	 * key (the key parts' values) and not after, so the engine goes on
	 * as if the rule did not exist; counted in the policy state */
	unsigned fail_first; /* 0: no such limit */
	unsigned key;        /* enum rule_key_part bits */
};

/* Parts of the key a rule's "fail_first" counts attempts by. */
enum rule_key_part {
	KEY_CLIENT = 1u << 0,     /* the client's address */
	KEY_CLIENT_NET = 1u << 1, /* its network (greylist.ipv4/6_prefix) */
	KEY_HELO = 1u << 2,       /* the EHLO/HELO argument */
	KEY_SENDER = 1u << 3,     /* the transaction's MAIL FROM */
	KEY_RECIPIENT = 1u << 4,  /* the address of the RCPT being given */
	KEY_ARGS = 1u << 5,       /* the command's arguments */
};

struct rule {
	char *name;
	char *why; /* printed in the transcript when it fires */
	struct rule_when when;
	struct rule_do act;
	double probability; /* 1.0 = always; drawn from the seeded generator */
	unsigned times; /* fires at most this often per process; 0 = no cap */
	bool enabled;
	int line; /* where it was defined, for messages */
	/* A composite's copy of a rule (profile_compose) counts its firings
	 * in the original's counter; NULL: in fired below. */
	atomic_uint *fired_in;
	atomic_uint fired; /* how often it fired (for "times"); last field */
};

/* limits.bad_commands_count holds one bit per reply id */
_Static_assert(REPLY_COUNT <= 64, "bad_commands_count is a uint64_t");

struct limits {
	size_t line_length; /* command line incl. CRLF (RFC 5321 4.5.3.1.4) */
	size_t text_line_length; /* DATA line incl. CRLF (RFC 5321 4.5.3.1.6) */
	unsigned recipients;     /* RCPTs per transaction (4.5.3.1.8) */
	uint64_t message_size;   /* bytes; 0 = unlimited */
	size_t header_size;      /* bytes of header section; 0 = unlimited */
	unsigned bad_commands; /* unknown/bad commands before the 421; 0 off */
	/* which error replies count towards bad_commands: bit (1 << id) */
	uint64_t bad_commands_count;
	enum close_how bad_commands_close; /* after the 421 */
	unsigned idle_timeout_ms; /* no input for this long: 421 + close */
	unsigned connection_timeout_ms; /* whole session; 0 = none */
	unsigned command_timeout_ms;    /* a command line from its first byte */
	unsigned data_timeout_ms;       /* DATA from 354 to the dot; 0 = none */
	unsigned hang_timeout_ms; /* how long "hang" lasts before closing */
	unsigned max_sessions;    /* 0 = unlimited */
	unsigned max_sessions_per_client; /* 0 = unlimited */
};

/*
 * "pace:" when and how fast the server speaks, what it makes of a client
 * that does not wait for it, and how it slows down a client that errs
 * (schema_pace.c). Zero everywhere: none of it.
 */
enum pace_sync_then {
	PACE_SYNC_CLOSE,  /* sync_reply, then FIN */
	PACE_SYNC_REJECT, /* sync_reply (as the greeting), then every command
	                   * but sync_allow gets reject_reply */
};

struct pace_settings {
	unsigned bytes;       /* replies leave n bytes per interval; 0 off */
	unsigned interval_ms; /* the interval */
	unsigned for_ms;      /* pacing ends this long after the accept; 0 */
	unsigned greeting_wait_ms; /* before the greeting's last line */
	bool sync_early;           /* input before the greeting's last line */
	bool sync_pipelining; /* input after a command, PIPELINING unoffered */
	struct reply_text sync_reply;
	enum pace_sync_then sync_then;
	struct reply_text reject_reply; /* sync_then reject */
	char **sync_allow;              /* verbs that run while rejecting */
	size_t nsync_allow;
	unsigned error_delay_after; /* from this many bad commands... */
	unsigned error_delay_ms;    /* ...each reply waits this long; 0 off */
	struct reply_text header_command; /* "Name:" as a verb; n 0 off */
	char **forbidden_commands;        /* verbs answered the same way */
	size_t nforbidden_commands;
};

enum greylist_lookup {
	GREYLIST_BY_NET,  /* the client's network (postgrey's default) */
	GREYLIST_BY_HOST, /* the client's address (--lookup-by-host) */
};

/*
 * "greylist:": greylisting at RCPT keyed on (client network, sender,
 * recipient), postgrey's decision (out/grey_store.h), and the bounds of
 * all policy state (rules' fail_first counts too). Durations in ms.
 */
struct greylist_settings {
	bool enabled;
	unsigned delay_ms;
	unsigned retry_window_ms;
	unsigned max_age_ms;
	unsigned auto_whitelist; /* passed triplets; 0 off */
	unsigned auto_whitelist_interval_ms;
	unsigned max_entries;
	enum greylist_lookup lookup;
	int ipv4_prefix;
	int ipv6_prefix;
	bool sender_substitutions; /* strip +ext, digits -> # */
	struct reply_text reply;   /* the deferral */
	char *header;              /* prepended to a delayed message; "" none */
	char *header_date;         /* strftime for {date} in the header */
};

struct credential {
	char *user;
	char *password;
};

/*
 * "auth.ntlm": what AUTH NTLM's CHALLENGE_MESSAGE says about the server.
 * A name left out is derived from the hostname after the whole extends
 * chain is loaded (server_load.c, auth_ntlm_finish).
 */
struct ntlm_settings {
	char *netbios_domain;   /* MsvAvNbDomainName and TargetName */
	char *netbios_computer; /* MsvAvNbComputerName */
	char *dns_domain;       /* MsvAvDnsDomainName */
	char *dns_computer;     /* MsvAvDnsComputerName */
	char *os_version;       /* VERSION: "major.minor.build" */
	/* MS-SMTPNTLM 2.2.1.2: the 334 to "AUTH NTLM" without a message */
	struct reply_text supported;
};

/* "data:": what ends DATA and what a bare LF or CR in it does (FACTS 13;
 * schema_data.c). line_endings: lenient adds EOD_LENIENT on its own. */
struct data_policy {
	char **end_of_data; /* as written: "LF.LF", ... */
	size_t nend_of_data;
	unsigned eod;                /* their EOD_SEQ bits (message.h) */
	int bare_lf;                 /* enum bare_action */
	int bare_cr;                 /* enum bare_action */
	enum close_how reject_close; /* after a reject's reply */
};

struct auth_policy {
	struct credential *creds;
	size_t ncreds;
	bool accept_any;  /* any user/password pair passes */
	bool require_tls; /* REPLY_AUTH_NEEDS_TLS without TLS */
	struct ntlm_settings ntlm;
};

/*
 * One EHLO keyword list and what the engine derives from it: the
 * extension bits (enum ext_bit) it turns on, the n of "SIZE n" (0 if
 * none), the mechanisms of "AUTH m1 m2" (upper case). A session uses the
 * list of its state (profile_ehlo): what is not in it is neither
 * advertised nor accepted.
 */
struct ehlo_list {
	char *const *keywords; /* templates */
	size_t nkeywords;
	unsigned ext;
	uint64_t ext_size;
	char *const *auth_mechs;
	size_t nauth_mechs;
};

struct profile {
	char *name;
	char *description;
	char *path; /* file it was loaded from */
	/* "scenario: true": this file is one field bug laid on top of the
	 * profile it extends (not inherited; --list-profiles groups it) */
	bool scenario;
	char *hostname;
	/* How the vendor writes its ids and dates (schema_reply.c) */
	enum sid_format session_id_format; /* {session_id} */
	enum qid_format queue_id_format;   /* {queue_id} */
	char *date_format;                 /* {date}, strftime-like */
	char *date_format_utc;             /* {date} at offset 0; "": same */
	/* EHLO: first line and keyword lines, in order, templates */
	char *ehlo_greeting;
	char **ehlo_keywords;
	size_t nehlo_keywords;
	unsigned ext;      /* enum ext_bit, derived from the keywords */
	uint64_t ext_size; /* value of "SIZE n", 0 if none given */
	char **auth_mechs; /* from "AUTH m1 m2", upper case */
	size_t nauth_mechs;
	/* ehlo.keywords_tls: the keywords after STARTTLS and the same derived
	 * fields; without the key (or null) the loader derives them from the
	 * list above without STARTTLS (RFC 3207 4.2) */
	char **ehlo_keywords_tls;
	size_t nehlo_keywords_tls;
	bool ehlo_tls_given; /* some file set keywords_tls */
	unsigned ext_tls;
	uint64_t ext_size_tls;
	char **auth_mechs_tls;
	size_t nauth_mechs_tls;
	unsigned commands; /* bit (1u << verb) for each recognised verb */
	enum eol_mode eol;
	struct reply_text replies[REPLY_COUNT];
	struct limits limits;
	struct auth_policy auth;
	struct data_policy data; /* "data:" */
	struct pace_settings pace;
	struct tls_settings tls; /* "tls:"; tls.enabled false when absent */
	struct greylist_settings greylist;
	struct tls_policy *tls_policy; /* built from tls by the server; freed
	                                * with the profile */
	struct rule *rules;
	size_t nrules;
	/* "kind: middlebox" files: a firewall, not a server. Such a profile
	 * has only name, description, kind and the box settings. */
	struct mbox_config *mbox;
	/* "via: [box, ...]": middleboxes in front of this server, listed from
	 * the client's side; loaded with the profile. */
	struct profile **via;
	size_t nvia;
	atomic_uint refs; /* sessions using it + the server's current pointer */
};

/*
 * profile_load - load and validate a profile by NAME or FILE path.
 *
 * NAME (no '/' and no ".yaml") is looked up as NAME.yaml in each of the
 * search dirs in order. "extends:" names are resolved the same way, first
 * in the directory of the extending file. On error returns NULL and writes
 * one line "file:line:column: what is wrong" to err.
 */
struct profile *profile_load(const char *name_or_path, const char *const *dirs,
                             size_t ndirs, char *err, size_t errlen);

/*
 * profile_load_middlebox - load a "kind: middlebox" file by NAME or FILE
 * path (for --via). A NAME is looked up as middleboxes/NAME.yaml, then
 * NAME.yaml, in each of the search dirs. A server profile is an error.
 */
struct profile *profile_load_middlebox(const char *name_or_path,
                                       const char *const *dirs, size_t ndirs,
                                       char *err, size_t errlen);

/*
 * profile_load_text - load and validate a server or middlebox profile
 * whose outermost file is text (len bytes, e.g. an HTTP request body)
 * rather than a file; errors say "label:line:column: ..." for it.
 * "extends:" and "via:" names are looked up in the search dirs.
 */
struct profile *profile_load_text(const char *label, const char *text,
                                  size_t len, const char *const *dirs,
                                  size_t ndirs, char *err, size_t errlen);

/*
 * profile_rule_text - one rule, as an item of a profile's "rules:" list
 * (a YAML mapping with name, when, do, ...), validated as in a file:
 * returns a rule holder (a server profile whose only content is that
 * rule, for profile_compose), or NULL with "label:line:column: ..." in
 * err. compose.c.
 */
struct profile *profile_rule_text(const char *label, const char *text,
                                  size_t len, char *err, size_t errlen);

/*
 * profile_compose - base with the rules of the holders in front of its
 * own (holders[0]'s first): a profile that is base in every other respect
 * and shares base's memory, TLS context included; it holds a reference on
 * base and on each holder. A rule counts its "times" in the original, so
 * a cap is shared by every composite made from it. nholders 0: base with
 * one more reference. compose.c.
 */
struct profile *profile_compose(struct profile *base,
                                struct profile *const *holders,
                                size_t nholders);

/* profile_ehlo - the EHLO list a session gets: inside TLS or not */
struct ehlo_list profile_ehlo(const struct profile *p, bool tls);

/* profile_ref / profile_unref - share a profile between sessions */
struct profile *profile_ref(struct profile *p);
void profile_unref(struct profile *p);

/* Where a reply's text came from (origin.c). */
struct reply_origin {
	const char *file;   /* name of the file that set it; NULL: built-in */
	const char *path;   /* that file's path; NULL: built-in */
	const char *vendor; /* that file's vendor (its own or inherited) */
	const char *source; /* its "source:" annotation, or NULL */
};

/* profile_reply_origin - which file set reply id, and its source */
void profile_reply_origin(const struct profile *p, enum reply_id id,
                          struct reply_origin *o);
/* profile_vendor - whose words the profile speaks ("vendor:"), or NULL */
const char *profile_vendor(const struct profile *p);
/*
 * profile_borrowed - the replies a vendor profile takes from a file of
 * another vendor (or of no stated vendor); up to max ids into ids, returns
 * how many there are. 0 for a profile without a vendor.
 */
size_t profile_borrowed(const struct profile *p, enum reply_id *ids,
                        size_t max);
/* profile_faithfulness - the --check table: sourced, model choice, known
 * differences, and the replies borrowed from another vendor */
void profile_faithfulness(const struct profile *p, FILE *out);

/* profile_summary - human-readable explanation for --check; with_via
 * false explains the path without the profile's own "via:" (--via none) */
void profile_summary(const struct profile *p, bool with_via, FILE *out);

/* profile_list - "name  description" for every server profile in dirs,
 * then a "scenarios:" group ("name  (on parent)  description": the files
 * with "scenario: true"), then a "middleboxes:" group (each dir's
 * middleboxes/ subdirectory);
 * returns how many profiles and middleboxes it listed */
size_t profile_list(const char *const *dirs, size_t ndirs, FILE *out);
/* profile_list_from - the same, then "from:": for each dir that supplied
 * an entry, origins[i] (e.g. "site", "shipped"), the dir, and the names
 * found there (or how many) */
size_t profile_list_from(const char *const *dirs, const char *const *origins,
                         size_t ndirs, FILE *out);

#endif
