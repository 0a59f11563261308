/*
 * proto.c - the name tables and built-in reply texts of proto.h.
 */
#include <string.h>
#include <strings.h>

#include "proto.h"

const char *const reply_id_names[REPLY_COUNT] = {
    [REPLY_GREETING] = "greeting",
    [REPLY_HELO] = "helo",
    [REPLY_MAIL_OK] = "mail_ok",
    [REPLY_RCPT_OK] = "rcpt_ok",
    [REPLY_DATA_START] = "data_start",
    [REPLY_DATA_OK] = "data_ok",
    [REPLY_BDAT_OK] = "bdat_ok",
    [REPLY_RSET_OK] = "rset_ok",
    [REPLY_NOOP_OK] = "noop_ok",
    [REPLY_QUIT] = "quit",
    [REPLY_VRFY] = "vrfy",
    [REPLY_HELP] = "help",
    [REPLY_STARTTLS_READY] = "starttls_ready",
    [REPLY_TLS_UNAVAILABLE] = "tls_unavailable",
    [REPLY_TLS_ALREADY] = "tls_already",
    [REPLY_AUTH_OK] = "auth_ok",
    [REPLY_AUTH_FAILED] = "auth_failed",
    [REPLY_AUTH_MECHANISM] = "auth_mechanism",
    [REPLY_AUTH_CANCELLED] = "auth_cancelled",
    [REPLY_AUTH_ALREADY] = "auth_already",
    [REPLY_AUTH_NEEDS_TLS] = "auth_needs_tls",
    [REPLY_NEED_HELO] = "need_helo",
    [REPLY_NEED_MAIL] = "need_mail",
    [REPLY_NEED_RCPT] = "need_rcpt",
    [REPLY_NESTED_MAIL] = "nested_mail",
    [REPLY_SYNTAX_ERROR] = "syntax_error",
    [REPLY_EHLO_SYNTAX] = "ehlo_syntax",
    [REPLY_MAIL_SYNTAX] = "mail_syntax",
    [REPLY_RCPT_SYNTAX] = "rcpt_syntax",
    [REPLY_PARAM_UNKNOWN] = "param_unknown",
    [REPLY_UNKNOWN_COMMAND] = "unknown_command",
    [REPLY_TOO_MANY_RCPTS] = "too_many_rcpts",
    [REPLY_LINE_TOO_LONG] = "line_too_long",
    [REPLY_MESSAGE_TOO_BIG] = "message_too_big",
    [REPLY_HEADER_TOO_LARGE] = "header_too_large",
    [REPLY_BARE_LF] = "bare_lf",
    [REPLY_DATA_BARE_LF] = "data_bare_lf",
    [REPLY_DATA_BARE_CR] = "data_bare_cr",
    [REPLY_IDLE_TIMEOUT] = "idle_timeout",
    [REPLY_CONNECTION_TIMEOUT] = "connection_timeout",
    [REPLY_COMMAND_TIMEOUT] = "command_timeout",
    [REPLY_DATA_TIMEOUT] = "data_timeout",
    [REPLY_BAD_COMMAND_LIMIT] = "bad_command_limit",
    [REPLY_TOO_MANY_SESSIONS] = "too_many_sessions",
    [REPLY_TOO_MANY_FROM_CLIENT] = "too_many_from_client",
    [REPLY_SHUTDOWN] = "shutdown",
    [REPLY_LOCAL_ERROR] = "local_error",
    [REPLY_NEED_BDAT] = "need_bdat",
};

/*
 * The built-in replies: the neutral base every profile starts from, and
 * the only fallback of a vendor profile (no vendor's words are built in).
 * Each text is RFC 5321's own wording for that reply code: 4.2.2's list
 * ("503 Bad sequence of commands"), 4.5.3.1's examples ("500 Line too
 * long"), 3.3 / 4.1.1.x ("250 OK"), RFC 3207 / 3030 / 4954 where those
 * give one. Enhanced codes (X.Y.Z) cite RFC 3463. Where a situation has
 * no RFC wording of its own, the nearest one is used: model choice, noted
 * beside it. --check shows these as "built-in (RFC 5321, model choice)".
 */
const char *const reply_id_defaults[REPLY_COUNT] = {
    /* RFC 5321 3.1, 4.2: 220 names the server; "ESMTP smtp-mimic" is
     * smtp-mimic's own word (model choice) */
    [REPLY_GREETING] = "220 {hostname} ESMTP smtp-mimic",
    /* 4.1.1.1: "250 domain" */
    [REPLY_HELO] = "250 {hostname}",
    /* 3.3: "250 OK"; X.1.0 RFC 3463 3.2 */
    [REPLY_MAIL_OK] = "250 2.1.0 OK",
    /* 3.3: "250 OK"; X.1.5 RFC 3463 3.2 (destination address valid) */
    [REPLY_RCPT_OK] = "250 2.1.5 OK",
    /* 4.2.2, 3.3: the 354 text */
    [REPLY_DATA_START] = "354 Start mail input; end with <CRLF>.<CRLF>",
    /* 4.1.1.4, D.1: "250 OK"; X.0.0 RFC 3463 3.1 */
    [REPLY_DATA_OK] = "250 2.0.0 OK",
    /* RFC 3030 2: a 250 for every chunk; RFC 3030 4.2's example text
     * "octets received" (model choice: with the chunk's size) */
    [REPLY_BDAT_OK] = "250 2.0.0 {size} octets received",
    /* 4.1.1.5: "250 OK" */
    [REPLY_RSET_OK] = "250 2.0.0 OK",
    /* 4.1.1.9: "250 OK" */
    [REPLY_NOOP_OK] = "250 2.0.0 OK",
    /* 4.2.2: "221 <domain> Service closing transmission channel" */
    [REPLY_QUIT] = "221 2.0.0 {hostname} Service closing transmission "
                   "channel",
    /* 3.5.3: 252 when the server does not verify; text from 4.2.2 */
    [REPLY_VRFY] = "252 2.0.0 Cannot VRFY user, but will accept message "
                   "and attempt delivery",
    /* 4.1.1.8, 4.2.2: "214 Help message" */
    [REPLY_HELP] = "214 2.0.0 Help message",
    /* RFC 3207 4: "220 Ready to start TLS" */
    [REPLY_STARTTLS_READY] = "220 2.0.0 Ready to start TLS",
    /* RFC 3207 4: its 454 text; X.7.0 RFC 3463 3.8 */
    [REPLY_TLS_UNAVAILABLE] = "454 4.7.0 TLS not available due to "
                              "temporary reason",
    /* model choice: 4.2.2's 503 (RFC 3207 gives no reply); X.5.1 */
    [REPLY_TLS_ALREADY] = "503 5.5.1 Bad sequence of commands",
    /* RFC 4954 6: its 235 text */
    [REPLY_AUTH_OK] = "235 2.7.0 Authentication Succeeded",
    /* RFC 4954 6: its 535 text */
    [REPLY_AUTH_FAILED] = "535 5.7.8 Authentication credentials invalid",
    /* RFC 4954 4: 504; model choice: 4.2.2's 504 text; X.5.4 */
    [REPLY_AUTH_MECHANISM] = "504 5.5.4 Command parameter not implemented",
    /* RFC 4954 4: a "*" gets a 501; model choice: 4.2.2's 501 text */
    [REPLY_AUTH_CANCELLED] = "501 5.7.0 Syntax error in parameters or "
                             "arguments",
    /* RFC 4954 4: 503 after a successful AUTH; 4.2.2's text */
    [REPLY_AUTH_ALREADY] = "503 5.5.1 Bad sequence of commands",
    /* RFC 3207 4 (its text), RFC 4954 6: 530 */
    [REPLY_AUTH_NEEDS_TLS] = "530 5.7.0 Must issue a STARTTLS command first",
    /* 4.1.4, 3.3: "503 Bad sequence of commands"; X.5.1 RFC 3463 3.6 */
    [REPLY_NEED_HELO] = "503 5.5.1 Bad sequence of commands",
    /* 3.3: RCPT without MAIL "MUST return a 503 Bad sequence" */
    [REPLY_NEED_MAIL] = "503 5.5.1 Bad sequence of commands",
    /* 3.3, 4.1.4: DATA without RCPT */
    [REPLY_NEED_RCPT] = "503 5.5.1 Bad sequence of commands",
    /* 4.1.4: MAIL inside a transaction */
    [REPLY_NESTED_MAIL] = "503 5.5.1 Bad sequence of commands",
    /* 4.2.2: 501; X.5.4 RFC 3463 3.6 */
    [REPLY_SYNTAX_ERROR] = "501 5.5.4 Syntax error in parameters or "
                           "arguments",
    /* 4.1.4, 4.2.2: 501 */
    [REPLY_EHLO_SYNTAX] = "501 5.5.4 Syntax error in parameters or "
                          "arguments",
    /* 4.2.2: 501; X.1.7 RFC 3463 3.2 (bad sender mailbox syntax) */
    [REPLY_MAIL_SYNTAX] = "501 5.1.7 Syntax error in parameters or "
                          "arguments",
    /* 4.2.2: 501; X.1.3 RFC 3463 3.2 (bad destination mailbox syntax) */
    [REPLY_RCPT_SYNTAX] = "501 5.1.3 Syntax error in parameters or "
                          "arguments",
    /* 4.1.1.11, 4.2.2: the 555 text; X.5.4 */
    [REPLY_PARAM_UNKNOWN] = "555 5.5.4 MAIL FROM/RCPT TO parameters not "
                            "recognized or not implemented",
    /* 4.2.2: the 500 text; X.5.1 RFC 3463 3.6 (invalid command) */
    [REPLY_UNKNOWN_COMMAND] = "500 5.5.1 Syntax error, command "
                              "unrecognized",
    /* 4.5.3.1, 4.5.3.1.10: "452 Too many recipients"; X.5.3 */
    [REPLY_TOO_MANY_RCPTS] = "452 4.5.3 Too many recipients",
    /* 4.5.3.1: "500 Line too long"; X.5.2 RFC 3463 3.6 */
    [REPLY_LINE_TOO_LONG] = "500 5.5.2 Line too long",
    /* 4.5.3.1: "552 Too much mail data"; X.3.4 RFC 3463 3.4 */
    [REPLY_MESSAGE_TOO_BIG] = "552 5.3.4 Too much mail data",
    /* model choice: as message_too_big (4.5.3.1's 552 text) */
    [REPLY_HEADER_TOO_LARGE] = "552 5.3.4 Too much mail data",
    /* 2.3.8: only CRLF ends a line; model choice: 4.2.2's 500 text */
    [REPLY_BARE_LF] = "500 5.5.2 Syntax error, command unrecognized",
    /* 2.3.8: CR and LF only as CRLF in the content; model choice: 4.2.2's
     * 554 text; X.6.0 RFC 3463 3.7 (media error) */
    [REPLY_DATA_BARE_LF] = "554 5.6.0 Transaction failed",
    [REPLY_DATA_BARE_CR] = "554 5.6.0 Transaction failed",
    /* 3.8, 4.5.3.2.7, 4.2.2's 421 text; X.4.2 RFC 3463 3.5 */
    [REPLY_IDLE_TIMEOUT] = "421 4.4.2 {hostname} Service not available, "
                           "closing transmission channel",
    /* 3.8, 4.2.2's 421 text; X.4.2 RFC 3463 3.5 */
    [REPLY_CONNECTION_TIMEOUT] = "421 4.4.2 {hostname} Service not "
                                 "available, closing transmission "
                                 "channel",
    /* 3.8, 4.5.3.2.7, 4.2.2's 421 text; X.4.2 RFC 3463 3.5; the same
     * words as idle_timeout is a model choice */
    [REPLY_COMMAND_TIMEOUT] = "421 4.4.2 {hostname} Service not available, "
                              "closing transmission channel",
    /* 3.8, 4.2.2's 421 text; X.4.2 RFC 3463 3.5; model choice as above */
    [REPLY_DATA_TIMEOUT] = "421 4.4.2 {hostname} Service not available, "
                           "closing transmission channel",
    /* 4.2.2's 421 text; X.7.0 RFC 3463 3.8 */
    [REPLY_BAD_COMMAND_LIMIT] = "421 4.7.0 {hostname} Service not "
                                "available, closing transmission channel",
    /* 3.8, 4.2.2's 421 text; X.3.2 RFC 3463 3.4 */
    [REPLY_TOO_MANY_SESSIONS] = "421 4.3.2 {hostname} Service not "
                                "available, closing transmission channel",
    /* 4.2.2's 421 text; X.3.2 RFC 3463 3.4 */
    [REPLY_TOO_MANY_FROM_CLIENT] = "421 4.3.2 {hostname} Service not "
                                   "available, closing transmission "
                                   "channel",
    /* 4.2.2: 421 "if the service knows it must shut down"; X.3.2 */
    [REPLY_SHUTDOWN] = "421 4.3.2 {hostname} Service not available, "
                       "closing transmission channel",
    /* 4.2.2: 451 local error; X.3.0 RFC 3463 3.4 */
    [REPLY_LOCAL_ERROR] = "451 4.3.0 Requested action aborted: local "
                          "error in processing",
    /* RFC 3030 2: DATA after BDAT "MUST" get 503 "Bad sequence of
     * commands"; 3: a BODY=BINARYMIME message must go by BDAT, so DATA
     * after it gets the same (model choice: 3 names no reply); X.5.1 */
    [REPLY_NEED_BDAT] = "503 5.5.1 Bad sequence of commands",
};

const char *const verb_names[VERB_COUNT] = {
    [VERB_HELO] = "HELO",         [VERB_EHLO] = "EHLO", [VERB_MAIL] = "MAIL",
    [VERB_RCPT] = "RCPT",         [VERB_DATA] = "DATA", [VERB_BDAT] = "BDAT",
    [VERB_RSET] = "RSET",         [VERB_NOOP] = "NOOP", [VERB_QUIT] = "QUIT",
    [VERB_VRFY] = "VRFY",         [VERB_HELP] = "HELP", [VERB_AUTH] = "AUTH",
    [VERB_STARTTLS] = "STARTTLS",
};

/* The order of commands: RFC 5321 4.1.4 and 3.3, with the section that
 * puts each verb where it is. */
const struct verb_spec verb_specs[VERB_COUNT] = {
    /* 4.1.1.1: the domain's syntax is the check function's */
    [VERB_HELO] = {0, 0},
    [VERB_EHLO] = {0, 0},
    /* 4.1.1.2, 3.3: MAIL starts a transaction, after the greeting */
    [VERB_MAIL] = {CMD_NEEDS_HELO | CMD_NO_TXN, 0},
    /* 4.1.1.3: RCPT only after MAIL */
    [VERB_RCPT] = {CMD_NEEDS_HELO | CMD_NEEDS_MAIL, 0},
    /* 4.1.1.4: DATA takes no arguments, only after a RCPT */
    [VERB_DATA] = {CMD_NO_ARGS | CMD_NEEDS_HELO | CMD_NEEDS_RCPT, 0},
    /* RFC 3030 2: BDAT only with CHUNKING; a refused chunk is read past */
    [VERB_BDAT] = {CMD_UNLESS_EXT | CMD_NEEDS_HELO | CMD_NEEDS_RCPT |
                       CMD_LATE_STATE,
                   EXT_CHUNKING},
    /* 4.1.1.5: RSET takes no arguments, anywhere */
    [VERB_RSET] = {CMD_NO_ARGS, 0},
    /* 4.1.1.9, 4.1.1.10, 4.1.1.8: arguments ignored, anywhere */
    [VERB_NOOP] = {0, 0},
    [VERB_QUIT] = {0, 0},
    [VERB_HELP] = {0, 0},
    /* 4.1.1.6: VRFY names what to verify */
    [VERB_VRFY] = {CMD_NEEDS_ARGS, 0},
    /* RFC 4954 4: after EHLO, once, not inside a transaction */
    [VERB_AUTH] = {CMD_NEEDS_HELO | CMD_ESMTP_EXT | CMD_BEFORE_AUTH |
                       CMD_NO_TXN | CMD_NEEDS_ARGS,
                   EXT_AUTH},
    /* RFC 3207 4: no arguments, not again inside TLS */
    [VERB_STARTTLS] = {CMD_NO_ARGS | CMD_BEFORE_TLS, 0},
};

const char *const close_how_names[CLOSE_HOW_COUNT] = {
    [CLOSE_NONE] = "none",
    [CLOSE_FIN] = "fin",
    [CLOSE_SILENT] = "silent",
    [CLOSE_RST] = "rst",
    /* a middlebox's drop-connection: nothing more, no FIN, no RST */
    [CLOSE_DROP] = "drop",
};

const char *const hook_names[HOOK_COUNT] = {
    [HOOK_CONNECT] = "connect",
    [HOOK_COMMAND] = "command",
    [HOOK_HEADER] = "header",
    [HOOK_DATA] = "data",
    [HOOK_TLS_CLIENT_HELLO] = "tls_client_hello",
    [HOOK_TLS_HANDSHAKE_DONE] = "tls_handshake_done",
    [HOOK_TLS_FAILED] = "tls_failed",
};

/* EHLO keyword <-> extension bit (Postfix's ehlo_mask idea). */
const struct ext_word ext_words[EXT_WORD_COUNT] = {
    {"SIZE", EXT_SIZE},
    {"PIPELINING", EXT_PIPELINING},
    {"8BITMIME", EXT_8BITMIME},
    {"SMTPUTF8", EXT_SMTPUTF8},
    {"DSN", EXT_DSN},
    {"CHUNKING", EXT_CHUNKING},
    {"BINARYMIME", EXT_BINARYMIME},
    {"STARTTLS", EXT_STARTTLS},
    {"AUTH", EXT_AUTH},
    {"ENHANCEDSTATUSCODES", EXT_ENHANCEDSTATUSCODES},
};

/* reply_id_str - the YAML key of a reply ("mail_ok", ...) */
const char *
reply_id_str(enum reply_id id)
{
	if ((unsigned)id >= REPLY_COUNT)
		return "?";
	return reply_id_names[id];
}

/* reply_id_from_str - inverse of reply_id_str; -1 when unknown */
int
reply_id_from_str(const char *key)
{
	for (int i = 0; i < REPLY_COUNT; i++)
		if (reply_id_names[i] != NULL &&
		    strcmp(reply_id_names[i], key) == 0)
			return i;
	return -1;
}

/* close_how_str - "none", "fin", "silent", "rst" */
const char *
close_how_str(enum close_how how)
{
	if ((unsigned)how >= CLOSE_HOW_COUNT)
		return "?";
	return close_how_names[how];
}

/* hook_str - "connect", "command", ..., "tls_failed" */
const char *
hook_str(enum hook h)
{
	if ((unsigned)h >= HOOK_COUNT)
		return "?";
	return hook_names[h];
}

/* verb_str - "EHLO" for VERB_EHLO */
const char *
verb_str(enum smtp_verb v)
{
	if ((int)v < 0 || v >= VERB_COUNT)
		return "UNKNOWN";
	return verb_names[v];
}

/* verb_from_str - VERB_x for s[0..len), case-insensitive; -1 if none */
int
verb_from_str(const char *s, size_t len)
{
	for (int i = 0; i < VERB_COUNT; i++)
		if (strlen(verb_names[i]) == len &&
		    strncasecmp(verb_names[i], s, len) == 0)
			return i;
	return VERB_UNKNOWN;
}

/* ext_from_word - the bit of an EHLO keyword's first word; 0 if none */
unsigned
ext_from_word(const char *word, size_t len)
{
	for (size_t i = 0; i < EXT_WORD_COUNT; i++)
		if (strlen(ext_words[i].word) == len &&
		    strncasecmp(ext_words[i].word, word, len) == 0)
			return ext_words[i].bit;
	return 0;
}

/* hook_is_tls - the tls_* hooks */
bool
hook_is_tls(enum hook h)
{
	return h == HOOK_TLS_CLIENT_HELLO || h == HOOK_TLS_HANDSHAKE_DONE ||
	       h == HOOK_TLS_FAILED;
}
