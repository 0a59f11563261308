/*
 * schema_rows.c - the rows of the profile schema: every key of a server
 * profile and of a "kind: middlebox" file, with its type, field, default,
 * allowed values, --check text and doc (rules' keys: schema_rules.c).
 *
 * A file is a mapping: "name" (required, [a-z0-9._-]+) and the keys
 * below. Maps merge key by key over what "extends" loaded, lists and
 * scalars replace. A reply is a string or a list of strings (one per
 * line, no CRLF): each line starts with a code 200-599, then " " or "-"
 * ("-" on every line but the last). Replies, greetings and keywords may
 * hold {placeholders} (template.h). Sizes take K, M, G (1024-based);
 * durations are ms, or a number with ms, s, m or h.
 *
 * The auth section's rows are in schema_auth.c, the tls section's in
 * schema_tls.c, the data section's in schema_data.c, the pace section's
 * in schema_pace.c, the ids' and dates'
 * top-level rows in schema_reply.h.
 *
 * Does not: load anything itself (schema.c walks these rows), hold the
 * code of the T_CUSTOM rows (server_load.c, mbox_load.c, rules_load.c,
 * load.c) or their --check lines (explain.c).
 */
#include "schema.h"
#include "schema_reply.h"

#include <stdlib.h>

const char *const key_names[] = {
    [TLS_KEY_RSA] = "rsa",
    [TLS_KEY_ECDSA] = "ecdsa",
};

const char *const at_names[] = {
    [TLS_AT_NOW] = "now",
    [TLS_AT_CLIENT_HELLO] = "client_hello",
    [TLS_AT_HANDSHAKE_DONE] = "handshake_done",
};

const char *const kind_names[] = {"server", "middlebox"};

/* kind_str - "server" or "middlebox" */
const char *
kind_str(unsigned kind)
{
	return kind == KIND_MBOX ? "middlebox" : "server";
}

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

/* a cut is never just logged */
static const char *const cut_action_names[] = {
    [MBOX_ACT_LOG] = NULL,
    [MBOX_ACT_DROP] = "drop-connection",
    [MBOX_ACT_RESET] = "reset",
};

const char *const mbox_action_why[] = {
    [MBOX_ACT_LOG] = "log (noted, passed on)",
    [MBOX_ACT_DROP] = ("drop-connection (nothing more passes either way; "
                       "no FIN, no RST: the client's read stalls)"),
    [MBOX_ACT_RESET] = "reset (nothing more passes; RST to the client)",
};

const char *const measure_names[MBOX_MEASURE_COUNT] = {
    [MBOX_CMD_LINE] = "cmd_line_length",
    [MBOX_RCPT_COUNT] = "rcpt_count",
    [MBOX_SENDER_LEN] = "sender_length",
    [MBOX_HEADER_LINE] = "header_line_length",
    [MBOX_BODY_LINE] = "body_line_length",
    [MBOX_MIME_FILENAME] = "mime_filename_length",
};

static const char *const others_names[] = {
    [MBOX_OTHERS_PASS] = "pass",
    [MBOX_OTHERS_MASK] = "mask",
    [MBOX_OTHERS_MASK_SEQUENCE] = "mask-sequence",
};
static const char *const split_eod_names[] = {"pass", "drop"};
static const char *const eol_names[] = {
    [EOL_STRICT] = "strict",
    [EOL_LENIENT] = "lenient",
};

static const char *const default_keywords[] = {
    "PIPELINING",
    "SIZE 10485760",
    "ENHANCEDSTATUSCODES",
    "8BITMIME",
    "SMTPUTF8",
    "DSN",
    "CHUNKING",
    NULL,
};

static const char *const banner_why[] = {
    [MBOX_BANNER_PASS] = "pass (the greeting goes through as sent)",
    [MBOX_BANNER_MASK] = "mask (every character but \"2\", \"0\", \"0\", "
                         "CR and LF becomes \"*\")",
    [MBOX_BANNER_MASK_ALL] = "mask-all (every character but CR and LF "
                             "becomes \"*\")",
};
static const char *const denied_why[] = {
    [MBOX_DENIED_MASK] = "mask (X's of the same length; the server "
                         "answers its unknown-command reply)",
    [MBOX_DENIED_NOOP] = "noop (rewritten to NOOP)",
};
static const char *const others_why[] = {
    [MBOX_OTHERS_PASS] = "pass",
    [MBOX_OTHERS_MASK] = "mask (X's of the same length)",
    [MBOX_OTHERS_MASK_SEQUENCE] =
        ("mask-sequence (X's of the same length, the last one a letter: A "
         "for the reply's first masked keyword, B for the second, ...)"),
};
static const char *const allow_tls_why[] = {
    "no (STARTTLS is denied like any verb not allowed, and masked in "
    "the EHLO reply)",
    "yes (STARTTLS passes; after its 220 the box passes everything "
    "unread)"};
static const char *const split_why[] = {
    "pass", "drop (a CRLF.CRLF split over packets is dropped; the sender "
            "times out)"};

#define CH(t)   .choices = (t), .nchoices = nitems(t)
#define ROWS(t) .rows = (t), .nrows = nitems(t)

/* ------------------------------------------------------------------ */
/* ehlo (server)                                                       */

static void
keywords_init(const struct schema_row *r, void *base)
{
	struct profile *p = base;
	struct kw_state st = {0};
	char why[128];

	strv_free(p->ehlo_keywords, p->nehlo_keywords);
	p->ehlo_keywords = NULL;
	p->nehlo_keywords = 0;
	for (size_t i = 0; default_keywords[i] != NULL; i++) {
		p->ehlo_keywords = xreallocarray(
		    p->ehlo_keywords, p->nehlo_keywords + 1, sizeof(char *));
		p->ehlo_keywords[p->nehlo_keywords++] =
		    xstrdup(default_keywords[i]);
		if (kw_derive(&st, default_keywords[i], why, sizeof(why)))
			abort(); /* a bug in default_keywords[] */
	}
	kw_commit(p, &st);
}

#define PF(f) offsetof(struct profile, f)

static const struct schema_row ehlo_rows[] = {
    {.name = "greeting",
     .type = T_TEMPLATE,
     .off = PF(ehlo_greeting),
     .def_str = "{hostname}",
     .doc = "the first EHLO line, after \"250-\""},
    {.name = "keywords",
     .type = T_CUSTOM,
     .off = PF(ehlo_keywords),
     .load = load_keywords,
     .init = keywords_init,
     .free = free_keywords,
     .def_doc = "PIPELINING, SIZE 10485760, ENHANCEDSTATUSCODES, 8BITMIME, "
                "SMTPUTF8, DSN, CHUNKING",
     .doc = "the EHLO keywords in order, replacing the parent's list; the "
            "first word of SIZE, PIPELINING, 8BITMIME, SMTPUTF8, DSN, "
            "CHUNKING, BINARYMIME, STARTTLS, AUTH, ENHANCEDSTATUSCODES "
            "turns that extension on (\"SIZE n\" gives its maximum, \"AUTH "
            "m1 m2\" the mechanisms), others are only advertised"},
    {.name = "keywords_tls",
     .type = T_CUSTOM,
     .load = load_keywords_tls,
     .free = free_keywords_tls,
     .def_doc = "the keywords without STARTTLS (RFC 3207 4.2)",
     .doc = "the EHLO keywords after STARTTLS, read like keywords; inside "
            "TLS only this list is advertised and accepted (e.g. \"AUTH "
            "LOGIN\" only here: LOGIN only inside TLS); null goes back to "
            "the default"},
};

/* ------------------------------------------------------------------ */
/* limits (server)                                                     */

#define LF(f) offsetof(struct limits, f)

static void
bad_count_init(const struct schema_row *r, void *base)
{
	((struct limits *)base)->bad_commands_count = UINT64_MAX;
}

static const struct schema_row limits_rows[] = {
    {.name = "line_length",
     .type = T_SIZE,
     .off = LF(line_length),
     .def = 512,
     .min = 3,
     .unit = " bytes incl. CRLF",
     .doc = "longest command line in bytes, CRLF included (RFC 5321 "
            "4.5.3.1.4); longer lines get line_too_long"},
    {.name = "text_line_length",
     .type = T_SIZE,
     .off = LF(text_line_length),
     .def = 1000,
     .min = 3,
     .unit = " bytes incl. CRLF",
     .doc = "longest line of message data, CRLF included (RFC 5321 "
            "4.5.3.1.6)"},
    {.name = "recipients",
     .type = T_COUNT,
     .off = LF(recipients),
     .def = 100,
     .unit = " per transaction",
     .doc = "most RCPTs per transaction (RFC 5321 4.5.3.1.8); further ones "
            "get too_many_rcpts"},
    {.name = "message_size",
     .type = T_BYTES,
     .off = LF(message_size),
     .load = load_message_size,
     .zero = "unlimited",
     .explain = explain_message_size,
     .def_doc = "the n of the \"SIZE n\" keyword, else 0",
     .doc = "largest message in bytes, 0 unlimited; a larger SIZE= or "
            "message gets message_too_big"},
    {.name = "header_size",
     .type = T_SIZE,
     .off = LF(header_size),
     .zero = "unlimited",
     .doc = "largest header section in bytes, 0 unlimited; a larger one "
            "gets header_too_large"},
    {.name = "bad_commands",
     .type = T_COUNT,
     .off = LF(bad_commands),
     .zero = "no limit",
     .doc = "bad commands a session may send before bad_command_limit and "
            "the close, 0 no limit"},
    {.name = "bad_commands_count",
     .type = T_CUSTOM,
     .load = load_bad_count,
     .init = bad_count_init,
     .explain = explain_bad_count,
     .def_doc = "every error reply that is the client's fault",
     .doc = "the reply keys whose errors count towards bad_commands, e.g. "
            "[unknown_command]: other errors get their reply and are not "
            "counted; the list replaces the parent's"},
    {.name = "bad_commands_close",
     .type = T_CLOSE,
     .off = LF(bad_commands_close),
     .def = CLOSE_FIN,
     .doc = "how the bad-command close goes: fin (the 421, FIN), rst (the "
            "421, RST) or silent (no 421, FIN)"},
    {.name = "idle_timeout",
     .type = T_DURATION,
     .off = LF(idle_timeout_ms),
     .def = 5 * 60 * 1000,
     .zero = "none",
     .doc = "no input for this long: idle_timeout and FIN (RFC 5321 "
            "4.5.3.2.7)"},
    {.name = "connection_timeout",
     .type = T_DURATION,
     .off = LF(connection_timeout_ms),
     .zero = "none",
     .doc = "a session this old gets connection_timeout and FIN, 0 none"},
    /* A deadline, not an idle timer: a byte every few seconds does not
     * restart it. 5m is RFC 5321 4.5.3.2.7's server timeout (and the
     * per-command default of Postfix's smtpd_timeout and Exim's
     * smtp_receive_timeout): an honest client sends a line in far less. */
    {.name = "command_timeout",
     .type = T_DURATION,
     .off = LF(command_timeout_ms),
     .def = 5 * 60 * 1000,
     .zero = "none",
     .doc = "a command line not ended this long after its first byte gets "
            "command_timeout and FIN, 0 none"},
    /* None by default: how long an honest body takes grows with its size
     * and the link, and no RFC bounds it (4.5.3.2.5 bounds each block,
     * which idle_timeout does). */
    {.name = "data_timeout",
     .type = T_DURATION,
     .off = LF(data_timeout_ms),
     .zero = "none",
     .doc = "DATA not ended by its dot this long after the 354 (or a BDAT "
            "chunk not read this long after its command) gets data_timeout "
            "and FIN, 0 none"},
    {.name = "hang_timeout",
     .type = T_DURATION,
     .off = LF(hang_timeout_ms),
     .def = 10 * 60 * 1000,
     .zero = "none",
     .doc = "how long a rule's hang lasts before the close"},
    {.name = "max_sessions",
     .type = T_COUNT,
     .off = LF(max_sessions),
     .def = 1000,
     .zero = "unlimited",
     .doc = "sessions open at once, 0 unlimited; one more gets "
            "too_many_sessions (--max-sessions overrides it)"},
    {.name = "max_sessions_per_client",
     .type = T_COUNT,
     .off = LF(max_sessions_per_client),
     .zero = "unlimited",
     .doc = "sessions open at once from one client address, 0 unlimited; "
            "one more gets too_many_from_client"},
};

/* ------------------------------------------------------------------ */
/* kind: middlebox                                                     */

#define MF(f) offsetof(struct mbox_config, f)

static void
box_allowed_init(const struct schema_row *r, void *base)
{
	struct mbox_config *c = base;

	strv_free(c->allowed, c->nallowed);
	c->allowed = xcalloc(VERB_COUNT, sizeof(char *));
	c->nallowed = 0;
	for (int v = 0; v < VERB_COUNT; v++)
		c->allowed[c->nallowed++] = xstrdup(verb_names[v]);
}

static const struct schema_row box_commands_rows[] = {
    {.name = "allowed",
     .type = T_WORDS,
     .off = MF(allowed),
     .noff = MF(nallowed),
     .word = WORD_VERB,
     .init = box_allowed_init,
     .zero = "(none)",
     .def_doc = "the engine's verbs",
     .doc = "verbs that pass, upper-cased; STARTTLS passes exactly when "
            "allow_tls is true"},
    {.name = "denied",
     .type = T_CHOICE,
     .off = MF(denied),
     .def = MBOX_DENIED_MASK,
     CH(denied_names),
     .explain_choice = denied_why,
     .doc = "what a verb not allowed becomes: mask (X's) or noop"},
};

static const struct schema_row box_ehlo_rows[] = {
    {.name = "masks",
     .type = T_CUSTOM,
     .load = load_box_masks,
     .explain = explain_box_masks,
     .def_doc = "none",
     .doc = "keyword -> the exact line text after \"250-\" "
            "({STARTTLS: XXXXXXXA}), merged keyword by keyword"},
    {.name = "allowed",
     .type = T_WORDS,
     .off = MF(ehlo_allowed),
     .noff = MF(nehlo_allowed),
     .word = WORD_KEYWORD,
     .zero = "(none listed)",
     .doc = "EHLO keywords that pass"},
    {.name = "others",
     .type = T_CHOICE,
     .off = MF(ehlo_mask_others),
     .def = MBOX_OTHERS_PASS,
     CH(others_names),
     .explain_choice = others_why,
     .doc = "the other keyword lines, parameters and all: pass, mask (X's "
            "of the same length) or mask-sequence (the same, the last X "
            "a letter: A for the reply's first masked keyword, B for the "
            "second, ...; an exact mask takes its place in the sequence)"},
};

static const struct schema_row box_limit_rows[] = {
    {.name = "what",
     .type = T_CHOICE,
     .off = offsetof(struct mbox_limit, what),
     CH(measure_names),
     .doc = "what is measured: cmd_line_length, rcpt_count, sender_length, "
            "header_line_length, body_line_length or mime_filename_length"},
    {.name = "over",
     .type = T_CUSTOM,
     .load = load_box_limit_over,
     .doc = "the limit acts when the measure is greater than this whole "
            "number"},
    {.name = "action",
     .type = T_CHOICE,
     .off = offsetof(struct mbox_limit, action),
     CH(mbox_action_names),
     .doc = "log, drop-connection or reset"},
};

static const struct schema_row box_dup_rows[] = {
    {.name = "cut",
     .type = T_BOOL,
     .off = MF(cut_on_duplicate),
     .doc = "cut the session when the header section carries a duplicate "
            "header (the pre-7.2(3) PIX bug)"},
    {.name = "headers",
     .type = T_WORDS,
     .off = MF(cut_headers),
     .noff = MF(ncut_headers),
     .word = WORD_HEADER,
     .doc = "header names that cut even once, case-blind"},
    {.name = "action",
     .type = T_CHOICE,
     .off = MF(cut_action),
     .def = MBOX_ACT_RESET,
     CH(cut_action_names),
     .explain_choice = mbox_action_why,
     .doc = "how the cut goes: reset or drop-connection"},
};

/* ------------------------------------------------------------------ */
/* The top level                                                       */

static void
greeting_init(const struct schema_row *r, void *base)
{
	reply_set1(schema_field(r, base), reply_id_defaults[REPLY_GREETING]);
}

static void
replies_init(const struct schema_row *r, void *base)
{
	struct profile *p = base;

	for (size_t i = 0; i < REPLY_COUNT; i++) {
		if (reply_id_defaults[i] == NULL || reply_id_names[i] == NULL)
			abort(); /* a reply_id without a key or default */
		reply_set1(&p->replies[i], reply_id_defaults[i]);
	}
}

static void
commands_init(const struct schema_row *r, void *base)
{
	((struct profile *)base)->commands = (1u << VERB_COUNT) - 1;
}

static const struct schema_row top_rows[] = {
    {.name = "name",
     .kinds = KIND_BOTH,
     .flags = SR_SKIP,
     .doc = "required in every file: a-z, 0-9, \".\", \"_\", \"-\""},
    {.name = "description",
     .kinds = KIND_BOTH,
     .flags = SR_SKIP,
     .doc = "one line for --list-profiles; not inherited"},
    {.name = "kind",
     .kinds = KIND_BOTH,
     .flags = SR_SKIP,
     .def_doc = "server",
     .doc = "server or middlebox (a firewall in the path, with its own "
            "keys); each file says its own, extends stays within a kind"},
    {.name = "extends",
     .kinds = KIND_BOTH,
     .flags = SR_SKIP,
     .doc = "load that profile first, then this file over it: a NAME is "
            "looked up in this file's directory, then the search dirs; a "
            "path is relative to this file; at most 8 levels, no cycles"},
    {.name = "scenario",
     .kinds = KIND_BOTH,
     .flags = SR_SKIP,
     .def_doc = "false",
     .doc = "true: this file is a scenario, one field bug laid on top of "
            "the healthy peer it extends (extends is then required); "
            "--list-profiles lists it indented under its "
            "parent, --check names it; not inherited"},
    {.name = "vendor",
     .kinds = KIND_SERVER,
     .load = load_vendor,
     .def_doc = "the parent's; none",
     .doc = "whose words this file speaks (microsoft, cisco, ...): a "
            "vendor profile's replies come from files of its vendor or from "
            "the built-in RFC texts, and --check lists any reply borrowed "
            "from another vendor's file"},
    {.name = "faithfulness",
     .kinds = KIND_SERVER,
     .load = load_faithfulness, /* origin_free frees the entries */
     .def_doc = "none",
     .doc = "what the profile reproduces: sourced, model_choice and "
            "differences, each a mapping of topic -> one line (its source, "
            "the choice and why, or what differs from the real peer); "
            "merged topic by topic; --check prints it with each reply's "
            "source"},
    {.name = "via",
     .kinds = KIND_SERVER,
     .load = load_via,
     .free = free_via,
     .def_doc = "none",
     .doc = "middleboxes in front of this server, client side first, at "
            "most 8; a NAME is looked up as middleboxes/NAME.yaml, then "
            "NAME.yaml; replaces the parent's list"},
    {.name = "hostname",
     .type = T_LINE,
     .kinds = KIND_SERVER,
     .off = PF(hostname),
     .load = load_hostname,
     .def_str = "mx.lab.test",
     .doc = "the server's name, for {hostname}"},
    {.name = "greeting",
     .type = T_REPLY,
     .kinds = KIND_SERVER,
     .off = PF(replies[REPLY_GREETING]),
     .load = load_greeting,
     .init = greeting_init,
     .def_doc = "\"220 {hostname} ESMTP smtp-mimic\"",
     .doc = "the connection greeting, a reply (or {text, source} as in "
            "replies)"},
    SCHEMA_REPLY_ROWS,
    {.name = "banner",
     .type = T_CHOICE,
     .kinds = KIND_MBOX,
     .flags = SR_BOX,
     .off = MF(banner),
     .def = MBOX_BANNER_PASS,
     CH(banner_names),
     .explain_choice = banner_why,
     .doc = "the greeting through the box: pass, mask (all but \"2\", "
            "\"0\", \"0\", CR, LF become \"*\") or mask-all"},
    {.name = "ehlo",
     .type = T_SECTION,
     .kinds = KIND_SERVER,
     .sub = &schema_ehlo,
     .doc = "the EHLO reply"},
    {.name = "ehlo",
     .type = T_SECTION,
     .kinds = KIND_MBOX,
     .flags = SR_BOX,
     .sub = &schema_box_ehlo,
     .doc = "what the box does to the EHLO reply"},
    {.name = "commands",
     .kinds = KIND_SERVER,
     .load = load_commands,
     .init = commands_init,
     .def_doc = "every verb the engine knows",
     .doc = "the verbs the server recognises; others get unknown_command"},
    {.name = "commands",
     .type = T_SECTION,
     .kinds = KIND_MBOX,
     .flags = SR_BOX,
     .sub = &schema_box_commands,
     .doc = "which verbs pass the box"},
    {.name = "allow_tls",
     .type = T_BOOL,
     .kinds = KIND_MBOX,
     .flags = SR_BOX,
     .off = MF(allow_tls),
     .def = 1,
     .explain_choice = allow_tls_why,
     .doc = "STARTTLS passes (and after its 220 the box is blind)"},
    {.name = "line_endings",
     .type = T_CHOICE,
     .kinds = KIND_SERVER,
     .off = PF(eol),
     .def = EOL_STRICT,
     CH(eol_names),
     .doc = "strict (only CRLF ends a line) or lenient (LF alone too)"},
    {.name = "data",
     .type = T_SECTION,
     .kinds = KIND_SERVER,
     .off = PF(data),
     .sub = &schema_data,
     .doc = "what ends DATA and what bare LF / CR in the message do "
            "(schema_data.c)"},
    {.name = "replies",
     .kinds = KIND_SERVER,
     .load = load_replies,
     .init = replies_init,
     .free = free_replies,
     .def_doc = "each reply's built-in text (proto.c)",
     .doc = "reply key -> reply, for every reply key but greeting; merged "
            "key by key; a reply may be written {text: reply, source: "
            "\"where it comes from\"} (or \"model choice: why\")"},
    {.name = "limits",
     .type = T_SECTION,
     .kinds = KIND_SERVER,
     .off = PF(limits),
     .sub = &schema_limits,
     .doc = "the server's limits"},
    {.name = "limits",
     .kinds = KIND_MBOX,
     .flags = SR_BOX | SR_LIST,
     .load = load_box_limits,
     .sub = &schema_box_limit,
     .explain = explain_box_limits,
     .def_doc = "none",
     .doc = "a list of {what, over, action} rows; replaces the parent's"},
    {.name = "split_end_of_data",
     .type = T_CHOICE_BOOL,
     .kinds = KIND_MBOX,
     .flags = SR_BOX,
     .off = MF(drop_split_eod),
     CH(split_eod_names),
     .explain_choice = split_why,
     .doc = "a CRLF.CRLF split over packets: pass or drop"},
    {.name = "duplicate_headers",
     .type = T_SECTION,
     .kinds = KIND_MBOX,
     .flags = SR_BOX,
     .sub = &schema_box_dup,
     .explain = explain_box_dup,
     .doc = "the pre-7.2(3) PIX duplicate-header cut"},
    {.name = "timeout_conn",
     .type = T_DURATION,
     .kinds = KIND_MBOX,
     .flags = SR_BOX,
     .off = MF(timeout_conn_ms),
     .def = 60 * 60 * 1000,
     .zero = "none",
     .doc = "after a drop-connection the client is told nothing; the "
            "server side is closed when this expires (ASA \"timeout "
            "conn\"), the client's socket then reset; 0 none (until the "
            "client closes)"},
    {.name = "auth",
     .type = T_SECTION,
     .kinds = KIND_SERVER,
     .off = PF(auth),
     .sub = &schema_auth,
     .doc = "what AUTH accepts (offered only with an AUTH keyword)"},
    {.name = "tls",
     .type = T_SECTION,
     .kinds = KIND_SERVER,
     .off = PF(tls),
     .sub = &schema_tls,
     .doc = "TLS settings; merged key by key, lists replace"},
    {.name = "pace",
     .type = T_SECTION,
     .kinds = KIND_SERVER,
     .off = PF(pace),
     .sub = &schema_pace,
     .doc = "pacing, synchronisation checks and error pacing "
            "(schema_pace.c)"},
    {.name = "greylist",
     .type = T_SECTION,
     .kinds = KIND_SERVER,
     .off = PF(greylist),
     .sub = &schema_greylist,
     .doc = "greylisting at RCPT and the bounds of policy state "
            "(schema_grey.c)"},
    {.name = "rules",
     .kinds = KIND_SERVER,
     .flags = SR_LIST,
     .load = load_rules,
     .free = free_rules,
     .sub = &schema_rule,
     .def_doc = "none",
     .doc = "behaviours at hook points; merged by name (a rule with an "
            "inherited name is overlaid on it), new names appended"},
};

const struct schema_section schema_top = {
    .name = "",
    ROWS(top_rows),
    .other_hint = "a server names the middleboxes in front of it in \"via\"",
};

const struct schema_section schema_ehlo = {
    .name = "ehlo",
    ROWS(ehlo_rows),
    .other = &schema_box_ehlo,
    .other_hint = "a server's ehlo has greeting and keywords",
};

const struct schema_section schema_box_ehlo = {
    .name = "ehlo",
    ROWS(box_ehlo_rows),
    .other = &schema_ehlo,
    .other_hint = "a middlebox's ehlo has masks, allowed and others",
};

const struct schema_section schema_limits = {
    .name = "limits",
    ROWS(limits_rows),
    .allow_null = true,
    .form_hint = "a server's limits are a mapping, e.g. limits: "
                 "{recipients: 100}",
};

const struct schema_section schema_box_commands = {
    .name = "commands",
    ROWS(box_commands_rows),
    .form_hint = "a middlebox writes commands: {allowed: [HELO, MAIL, ...], "
                 "denied: mask}",
};

const struct schema_section schema_box_limit = {
    .name = "limits",
    ROWS(box_limit_rows),
};

const struct schema_section schema_box_dup = {
    .name = "duplicate_headers",
    ROWS(box_dup_rows),
    .allow_null = true,
};
