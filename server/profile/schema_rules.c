/*
 * schema_rules.c - the rows of a rule: its own keys, the keys of each
 * "when" hook and the keys of "do".
 *
 * A rule is {name, why, enabled, probability, times, when, do}; "when"
 * holds exactly one hook, "do" at least one action. A rule with the name
 * of an inherited rule is overlaid on it key by key, "when" and "do"
 * each replaced as a whole; "when" and "do" are checked against each
 * other after the overlay (e.g. "alert" needs a tls_* hook).
 *
 * Does not: load or check a rule (rules_load.c) or match one (rules.c).
 */
#include "schema.h"

#define ROWS(t) .rows = (t), .nrows = nitems(t)
#define RF(f)   offsetof(struct rule, f)
#define WF(f)   offsetof(struct rule_when, f)
#define DF(f)   offsetof(struct rule_do, f)

static const struct schema_row rule_rows[] = {
    {.name = "name",
     .flags = SR_SKIP,
     .doc = "required, unique in the file; an inherited name overlays that "
            "rule"},
    {.name = "why",
     .type = T_LINE,
     .off = RF(why),
     .doc = "text for the transcript when the rule fires"},
    {.name = "enabled",
     .type = T_BOOL,
     .off = RF(enabled),
     .def = 1,
     .doc = "false switches an (inherited) rule off"},
    {.name = "probability",
     .type = T_PROB,
     .off = RF(probability),
     .def = 1,
     .doc = "0 < p <= 1: how often it fires when it matches, from the "
            "seeded generator"},
    {.name = "times",
     .type = T_COUNT,
     .off = RF(times),
     .doc = "firings per process, 0 no cap"},
    {.name = "when",
     .load = load_rule_when,
     .free = free_rule_when,
     .doc = "exactly one hook with its conditions: connect, command, "
            "header, data, tls_client_hello, tls_handshake_done or "
            "tls_failed"},
    {.name = "do",
     .load = load_rule_do,
     .free = free_rule_do,
     .sub = &schema_do,
     .doc = "at least one of delay, reply, close, hang, alert"},
};

const struct schema_section schema_rule = {
    .name = "rules",
    ROWS(rule_rows),
};

static const struct schema_row do_rows[] = {
    {.name = "delay",
     .type = T_DURATION,
     .off = DF(delay_ms),
     .doc = "wait this long first, then go on"},
    {.name = "reply",
     .type = T_REPLY,
     .off = DF(reply),
     .load = load_do_reply,
     .doc = "a reply sent instead of the engine's; not with tls_* hooks"},
    {.name = "close",
     .type = T_CLOSE,
     .off = DF(close),
     .doc = "fin, rst or silent"},
    {.name = "hang",
     .type = T_BOOL,
     .off = DF(hang),
     .doc = "stop reading; ends at limits.hang_timeout"},
    {.name = "alert",
     .type = T_ALERT,
     .off = DF(alert),
     .def = -1,
     .def_doc = "none",
     .doc = "tls_* hooks only: a TLS alert by name (handshake_failure) or "
            "0..255; at handshake_done only close_notify"},
    {.name = "at",
     .load = load_do_at,
     .def_doc = "the hook's own point",
     .doc = "tls_* hooks only: client_hello (with tls_client_hello) or "
            "handshake_done"},
    {.name = "fail_first",
     .type = T_COUNT,
     .off = DF(fail_first),
     .zero = "every attempt",
     .doc = "the rule acts on the first N attempts of each key, then "
            "no more: the engine goes on as without it (the count is "
            "policy state: greylist.max_age, max_entries, --state-file)"},
    {.name = "key",
     .off = DF(key),
     .load = load_do_key,
     .init = init_do_key,
     .def_doc = "[client_net, sender, recipient]",
     .doc = "what fail_first counts attempts of: a list of client, "
            "client_net, helo, sender, recipient (the RCPT's address), "
            "args (the command's arguments)"},
};

const struct schema_section schema_do = {
    .name = "do",
    ROWS(do_rows),
};

static const struct schema_row connect_rows[] = {
    {.name = "client",
     .type = T_REGEX,
     .off = WF(client_pattern),
     .noff = WF(client_re),
     .doc = "POSIX ERE on the client IP"},
};

static const struct schema_row command_rows[] = {
    {.name = "verb",
     .type = T_LINE,
     .off = WF(verb_name),
     .load = load_when_verb,
     .def_doc = "any verb",
     .doc = "the verb, any word, upper-cased"},
    {.name = "nth",
     .type = T_COUNT,
     .off = WF(nth),
     .def_doc = "any use",
     .doc = "1-based use of that verb in the session"},
    {.name = "arg",
     .type = T_REGEX,
     .off = WF(arg_pattern),
     .noff = WF(arg_re),
     .doc = "POSIX ERE on the arguments, case-blind"},
};

static const struct schema_row header_rows[] = {
    {.name = "name",
     .type = T_LINE,
     .off = WF(header_name),
     .load = load_when_header,
     .def_doc = "any header",
     .doc = "a header that must be present, without the colon"},
    {.name = "duplicate",
     .type = T_BOOL,
     .off = WF(header_duplicate),
     .doc = "true: present more than once (any header without name)"},
};

static const struct schema_row data_rows[] = {
    {.name = "size_over",
     .type = T_BYTES,
     .off = WF(size_over),
     .def_doc = "0: at the end of data",
     .doc = "fires when the message grows past this size"},
};

static const struct schema_row hello_rows[] = {
    {.name = "offers_any",
     .type = T_SUITE_IDS,
     .off = WF(offers_any),
     .noff = WF(noffers_any),
     .doc = "at least one of these suites offered (IANA names the linked "
            "OpenSSL knows, or 0xHHHH)"},
    {.name = "offers_all",
     .type = T_SUITE_IDS,
     .off = WF(offers_all),
     .noff = WF(noffers_all),
     .doc = "every one of these suites offered"},
    {.name = "offers_none",
     .type = T_SUITE_IDS,
     .off = WF(offers_none),
     .noff = WF(noffers_none),
     .doc = "none of these suites offered"},
    {.name = "versions_any",
     .type = T_VERSIONS,
     .off = WF(versions_any),
     .def_doc = "any",
     .doc = "at least one of these versions offered"},
    {.name = "sni",
     .type = T_REGEX,
     .off = WF(sni_pattern),
     .noff = WF(sni_re),
     .doc = "POSIX ERE on the SNI (\"\" when none was sent)"},
    {.name = "extension",
     .load = load_when_extension,
     .doc = "an extension type (0..65535) that must be present"},
};

static const struct schema_row done_rows[] = {
    {.name = "version",
     .type = T_VERSION,
     .off = WF(version),
     .def_doc = "any",
     .doc = "the negotiated version"},
    {.name = "suite",
     .load = load_when_suite,
     .def_doc = "any",
     .doc = "the negotiated suite"},
    {.name = "client_dh_short",
     .type = T_BOOL,
     .off = WF(dh_short),
     .doc = "true: only when the key exchange was DHE and the client's "
            "public value (ClientKeyExchange dh_Yc) took fewer bytes than "
            "the prime (a stripped leading zero byte)"},
};

static const struct schema_row failed_rows[] = {
    {.name = "reason",
     .type = T_REGEX,
     .off = WF(reason_pattern),
     .noff = WF(reason_re),
     .doc = "POSIX ERE on OpenSSL's reason string"},
};

const struct schema_section schema_hooks[HOOK_COUNT] = {
    [HOOK_CONNECT] = {.name = "connect",
                      ROWS(connect_rows),
                      .allow_null = true},
    [HOOK_COMMAND] = {.name = "command",
                      ROWS(command_rows),
                      .allow_null = true},
    [HOOK_HEADER] = {.name = "header", ROWS(header_rows), .allow_null = true},
    [HOOK_DATA] = {.name = "data", ROWS(data_rows), .allow_null = true},
    [HOOK_TLS_CLIENT_HELLO] = {.name = "tls_client_hello",
                               ROWS(hello_rows),
                               .allow_null = true},
    [HOOK_TLS_HANDSHAKE_DONE] = {.name = "tls_handshake_done",
                                 ROWS(done_rows),
                                 .allow_null = true},
    [HOOK_TLS_FAILED] = {.name = "tls_failed",
                         ROWS(failed_rows),
                         .allow_null = true},
};
