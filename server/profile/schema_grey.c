/*
 * schema_grey.c - the rows of the greylist section: greylisting at RCPT
 * keyed on (client network, sender, recipient) with postgrey 1.37's
 * defaults (delay 300 s, retry window 2 days, auto-whitelist after 5,
 * records forgotten after 35 days; its --delay, --retry-window,
 * --auto-whitelist-clients, --max-age, --lookup-by-host, --ipv4cidr,
 * --ipv6cidr), the reply and the header, and the bounds that every piece
 * of policy state obeys (rules' fail_first counts too).
 *
 * The replies' and header's words are the profile's: the defaults here
 * are RFC 5321 plain words (450, 4.7.1 of RFC 3463/RFC 6647) and no
 * header; profiles/postgrey.yaml has postgrey's.
 *
 * Does not: decide (out/grey_store.c) or act (smtp/greylist.c).
 */
#include "schema.h"
#include "schema_reply.h"

#define CH(t)   .choices = (t), .nchoices = nitems(t)
#define ROWS(t) .rows = (t), .nrows = nitems(t)
#define GF(f)   offsetof(struct greylist_settings, f)

static const char *const lookup_names[] = {
    [GREYLIST_BY_NET] = "net",
    [GREYLIST_BY_HOST] = "host",
};
static const char *const lookup_why[] = {
    [GREYLIST_BY_NET] = "net (the client's network, ipv4_prefix / "
                        "ipv6_prefix)",
    [GREYLIST_BY_HOST] = "host (the client's address)",
};
static const char *const enabled_why[] = {"no", "yes (at RCPT)"};

static const struct schema_row greylist_rows[] = {
    {.name = "enabled",
     .type = T_BOOL,
     .off = GF(enabled),
     .explain_choice = enabled_why,
     .doc = "greylist every RCPT by (client network, sender, recipient)"},
    {.name = "delay",
     .type = T_DURATION,
     .off = GF(delay_ms),
     .def = 300 * 1000,
     .doc = "a new triplet is deferred until this long after its first "
            "attempt (postgrey --delay)"},
    {.name = "retry_window",
     .type = T_DURATION,
     .off = GF(retry_window_ms),
     .def = 48u * 3600 * 1000,
     .doc = "a first retry later than this after the first attempt "
            "starts over (postgrey --retry-window)"},
    {.name = "auto_whitelist",
     .type = T_COUNT,
     .off = GF(auto_whitelist),
     .def = 5,
     .zero = "off",
     .doc = "a client whose triplets passed this often passes at once "
            "(postgrey --auto-whitelist-clients); 0 off"},
    {.name = "auto_whitelist_interval",
     .type = T_DURATION,
     .off = GF(auto_whitelist_interval_ms),
     .def = 3600 * 1000,
     .doc = "a client is counted at most once this long (postgrey: an "
            "hour)"},
    {.name = "max_age",
     .type = T_DURATION,
     .off = GF(max_age_ms),
     .def = 840u * 3600 * 1000,
     .doc = "policy state unseen this long is forgotten (postgrey "
            "--max-age, 35 days; at most about 49 days)"},
    {.name = "max_entries",
     .type = T_COUNT,
     .off = GF(max_entries),
     .def = 100000,
     .zero = "1000000",
     .doc = "records of policy state kept at most (triplets, clients, "
            "fail_first counts); at the bound the least recently seen "
            "goes; 0 the hard limit, 1000000"},
    {.name = "lookup",
     .type = T_CHOICE,
     .off = GF(lookup),
     .def = GREYLIST_BY_NET,
     CH(lookup_names),
     .explain_choice = lookup_why,
     .doc = "net (the client's network) or host (its address) in the "
            "triplet"},
    {.name = "ipv4_prefix",
     .type = T_RANGE,
     .off = GF(ipv4_prefix),
     .def = 24,
     .min = 0,
     .max = 32,
     .doc = "the network of an IPv4 client, in bits (postgrey --ipv4cidr)"},
    {.name = "ipv6_prefix",
     .type = T_RANGE,
     .off = GF(ipv6_prefix),
     .def = 64,
     .min = 0,
     .max = 128,
     .doc = "the network of an IPv6 client, in bits (postgrey --ipv6cidr)"},
    {.name = "sender_substitutions",
     .type = T_BOOL,
     .off = GF(sender_substitutions),
     .def = 1,
     .doc = "in the triplet's sender drop a +extension and write each "
            "number of the local part as # (postgrey's VERP handling)"},
    {.name = "reply",
     .type = T_REPLY,
     .off = GF(reply),
     .def_str = "450 4.7.1 <{recipient}>: greylisted, try again later",
     .doc = "the deferral at RCPT; {greylist_wait} is the seconds still "
            "to wait, {recipient_domain} the recipient's domain"},
    {.name = "header",
     .type = T_TEMPLATE,
     .off = GF(header),
     .zero = "none",
     .def_doc = "none",
     .doc = "a header line prepended to a message whose triplet passed "
            "after its delay, once per message; {greylist_delay} is the "
            "seconds it was delayed, {date} the policy clock's time in "
            "header_date's form"},
    {.name = "header_date",
     .type = T_LINE,
     .off = GF(header_date),
     .load = load_date_format,
     .def_str = "%a, %d %b %Y %T %Z",
     .doc = "strftime(3) form of {date} in the header (postgrey's)"},
};

const struct schema_section schema_greylist = {
    .name = "greylist",
    ROWS(greylist_rows),
    .allow_null = true,
    .doc = "greylisting and the bounds of the state kept across sessions",
};
