/*
 * schema.c - the words of the profile schema: name tables for choices
 * and the top-level keys with the kinds of file that allow them.
 *
 * Does not: read YAML or check values (values.c, load.c).
 */
#include "profile_int.h"
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

/* The schema's version names (parsed by tls_version_from_str()). */
const struct version_name tls_versions[] = {
    {"ssl3", TLSV_SSL3},  {"tls1.0", TLSV_1_0}, {"tls1.1", TLSV_1_1},
    {"tls1.2", TLSV_1_2}, {"tls1.3", TLSV_1_3},
};

const char *const noshared_names[] = {
    [TLS_NOSHARED_OPENSSL] = "openssl",
    [TLS_NOSHARED_ALERT] = "alert",
    [TLS_NOSHARED_FIN] = "fin",
    [TLS_NOSHARED_RST] = "rst",
};

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

const char *
kind_str(unsigned kind)
{
	return kind == KIND_MBOX ? "middlebox" : "server";
}

/* The middlebox schema's words, indexed by middlebox.h's enums. */
const char *const banner_names[] = {
    [MBOX_BANNER_PASS] = "pass",
    [MBOX_BANNER_MASK] = "mask",
    [MBOX_BANNER_MASK_ALL] = "mask-all",
};

const char *const denied_names[] = {
    [MBOX_DENIED_MASK] = "mask",
    [MBOX_DENIED_NOOP] = "noop",
};

const char *const mbox_action_names[] = {
    [MBOX_ACT_LOG] = "log",
    [MBOX_ACT_DROP] = "drop-connection",
    [MBOX_ACT_RESET] = "reset",
};

/* duplicate_headers.action: a cut is never just logged */
const char *const cut_action_names[] = {
    [MBOX_ACT_LOG] = NULL,
    [MBOX_ACT_DROP] = "drop-connection",
    [MBOX_ACT_RESET] = "reset",
};

const char *const measure_names[MBOX_MEASURE_COUNT] = {
    [MBOX_CMD_LINE] = "cmd_line_length",
    [MBOX_RCPT_COUNT] = "rcpt_count",
    [MBOX_SENDER_LEN] = "sender_length",
    [MBOX_HEADER_LINE] = "header_line_length",
    [MBOX_BODY_LINE] = "body_line_length",
    [MBOX_MIME_FILENAME] = "mime_filename_length",
};

/* ehlo.others and split_end_of_data: index 1 is the bool's true */
const char *const others_names[] = {"pass", "mask"};
const char *const split_eod_names[] = {"pass", "drop"};

const char *const default_keywords[] = {
    "PIPELINING", "SIZE 10485760", "ENHANCEDSTATUSCODES",
    "8BITMIME",   "SMTPUTF8",      "DSN",
    "CHUNKING",
};

/* Top-level keys and the kinds of file that allow them, in the order
 * the "known:" lists show them. */
const struct top_def top_defs[] = {
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
