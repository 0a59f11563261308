/*
 * schema_pace.c - the rows of the pace section: how fast replies leave
 * (n bytes per interval, for the whole session or its first seconds), a
 * wait before the greeting's last line, the synchronisation checks (input
 * before the greeting, a command followed by more input when PIPELINING
 * was not offered) with what follows them, the error pacing (a delay
 * before every reply once the client has made N errors; the close at M
 * errors stays limits.bad_commands) and a header line sent as a command.
 *
 * Every key is generic: which vendor writes its banner a byte a second
 * or talks of "synchronization" is the profile's business.
 *
 * Does not: act on any of it (net/io_pace.c paces the bytes, smtp/pace.c
 * does the rest).
 */
#include "schema.h"

#define ROWS(t) .rows = (t), .nrows = nitems(t)
#define CH(t)   .choices = (t), .nchoices = nitems(t)
#define PC(f)   offsetof(struct pace_settings, f)

static const char *const sync_then_names[] = {
    [PACE_SYNC_CLOSE] = "close",
    [PACE_SYNC_REJECT] = "reject",
};

static const char *const sync_allow_default[] = {"QUIT", "HELO", "EHLO",
                                                 "NOOP", "RSET", NULL};

static const struct schema_row pace_rows[] = {
    {.name = "bytes",
     .type = T_COUNT,
     .off = PC(bytes),
     .zero = "off (replies leave at once)",
     .doc = "replies leave this many bytes per interval (a tarpit's "
            "stutter); 0 off"},
    {.name = "interval",
     .type = T_DURATION,
     .off = PC(interval_ms),
     .def = 1000,
     .doc = "the interval of bytes"},
    {.name = "for",
     .type = T_DURATION,
     .off = PC(for_ms),
     .zero = "the whole session",
     .doc = "pacing ends this long after the connection was accepted (what "
            "waits then leaves at once); 0 the whole session"},
    {.name = "greeting_wait",
     .type = T_DURATION,
     .off = PC(greeting_wait_ms),
     .zero = "none",
     .doc = "the greeting's lines but the last leave at once (\"220-\" "
            "continuation lines), the last after this wait; a one-line "
            "greeting waits whole; 0 none"},
    {.name = "sync_early",
     .type = T_BOOL,
     .off = PC(sync_early),
     .doc = "true: input before the greeting's last line left is a "
            "synchronisation error (RFC 5321 4.3.1: the client waits for "
            "the greeting)"},
    {.name = "sync_pipelining",
     .type = T_BOOL,
     .off = PC(sync_pipelining),
     .doc = "true: a command line followed by more input when PIPELINING "
            "was not offered (RFC 2920 3) is a synchronisation error; a "
            "BDAT chunk is not more input"},
    {.name = "sync_reply",
     .type = T_REPLY,
     .off = PC(sync_reply),
     .def_str = "554 5.5.0 SMTP synchronization error",
     .doc = "the reply to a synchronisation error (model choice: RFC 5321 "
            "4.2.2's 554, RFC 3463's 5.5.0)"},
    {.name = "sync_then",
     .type = T_CHOICE,
     .off = PC(sync_then),
     .def = PACE_SYNC_CLOSE,
     CH(sync_then_names),
     .doc = "after sync_reply: close (FIN), or reject (before the greeting "
            "sync_reply replaces it; then every known verb but sync_allow gets "
            "reject_reply, unknown verbs unknown_command)"},
    {.name = "reject_reply",
     .type = T_REPLY,
     .off = PC(reject_reply),
     .def_str = "550 5.5.1 Command rejected",
     .doc = "sync_then reject: the reply to each known verb but sync_allow "
            "(model choice: RFC 5321 4.2.2's 550)"},
    {.name = "sync_allow",
     .type = T_WORDS,
     .off = PC(sync_allow),
     .noff = PC(nsync_allow),
     .word = WORD_VERB,
     .def_list = sync_allow_default,
     .zero = "(none)",
     .def_doc = "[QUIT, HELO, EHLO, NOOP, RSET]",
     .doc = "sync_then reject: the verbs that still run as usual"},
    {.name = "error_delay_after",
     .type = T_COUNT,
     .off = PC(error_delay_after),
     .zero = "off",
     .doc = "once the client has made this many bad commands (those "
            "limits.bad_commands_count counts), every reply waits "
            "error_delay; the close stays limits.bad_commands; 0 off"},
    {.name = "error_delay",
     .type = T_DURATION,
     .off = PC(error_delay_ms),
     .zero = "none",
     .doc = "how long each reply waits from error_delay_after on"},
    {.name = "header_command",
     .type = T_REPLY,
     .off = PC(header_command),
     .zero = "off",
     .def_doc = "none (off)",
     .doc = "an unknown verb that is a header field name and its colon "
            "(\"Subject:\", RFC 5322 2.2) gets this reply, then FIN; unset "
            "off"},
    {.name = "forbidden_commands",
     .type = T_WORDS,
     .off = PC(forbidden_commands),
     .noff = PC(nforbidden_commands),
     .word = WORD_VERB,
     .zero = "(none)",
     .def_doc = "none",
     .doc = "unknown verbs (an HTTP client's GET, POST, CONNECT) answered "
            "as header_command is, then FIN"},
};

const struct schema_section schema_pace = {
    .name = "pace",
    ROWS(pace_rows),
    .doc = "when and how fast the server speaks, and what it makes of a "
           "client that does not wait",
};
