/*
 * schema_tls.c - the rows of the tls section: versions, suites, groups,
 * signature algorithms, key, the Schannel-shaped switches (encrypt-then-
 * MAC, session cache and tickets, TLS_FALLBACK_SCSV) and what happens when
 * nothing is shared.
 *
 * Does not: build the SSL_CTX (tls/tls_policy.c), load the irregular keys
 * (tls_values.c) or explain them (explain.c).
 */
#include "schema.h"

#define CH(t)   .choices = (t), .nchoices = nitems(t)
#define ROWS(t) .rows = (t), .nrows = nitems(t)

static const char *const yes_no_why_order[] = {"no (the client's order wins)",
                                               "yes (the server's order wins)"};
static const char *const noshared_why[] = {
    [TLS_NOSHARED_OPENSSL] = "openssl (OpenSSL's own alert)",
    [TLS_NOSHARED_ALERT] = "alert (a fatal handshake_failure, 40)",
    [TLS_NOSHARED_FIN] = "fin (no answer, then FIN)",
    [TLS_NOSHARED_RST] = "rst (no answer, then RST)",
};
static const char *const etm_why[] = {"no (SSL_OP_NO_ENCRYPT_THEN_MAC)",
                                      "yes (when a client offers it)"};
static const char *const cache_why[] = {
    "no (nothing is resumed by session ID)",
    "yes (resumed by session ID from a server-side cache)"};
static const char *const tickets_why[] = {"no", "yes (RFC 5077)"};
static const char *const scsv_why[] = {
    "ignored (a fallback goes on at the client's version)",
    "honoured (inappropriate_fallback, 86)"};

static const char *const noshared_names[] = {
    [TLS_NOSHARED_OPENSSL] = "openssl",
    [TLS_NOSHARED_ALERT] = "alert",
    [TLS_NOSHARED_FIN] = "fin",
    [TLS_NOSHARED_RST] = "rst",
};

/* ------------------------------------------------------------------ */
/* tls                                                                 */

#define TF(f) offsetof(struct tls_settings, f)

static const struct schema_row tls_rows[] = {
    {.name = "enabled",
     .type = T_BOOL,
     .flags = SR_HIDDEN,
     .off = TF(enabled),
     .def_doc = "true once a file has \"tls:\" (even \"tls: {}\"); without "
                "one: no TLS, STARTTLS gets tls_unavailable",
     .doc = "false turns off the TLS a parent configured"},
    {.name = "versions",
     .type = T_VERSIONS,
     .off = TF(versions),
     .def = TLSV_1_2 | TLSV_1_3,
     .doc = "the versions offered: ssl3, tls1.0, tls1.1, tls1.2, tls1.3"},
    {.name = "ciphers",
     .type = T_SUITES,
     .off = TF(ciphers),
     .load = load_tls_suites,
     .noff = TF(nciphers),
     .zero = "(OpenSSL's DEFAULT)",
     .def_doc = "none: OpenSSL's DEFAULT",
     .doc = "TLS <= 1.2 suites in server order, IANA names "
            "(TLS_[A-Z0-9_]+) or 0xHHHH; a name the linked OpenSSL has "
            "never heard of is an error, one it cannot offer (RC4, 3DES) a "
            "warning, a list of which it can offer none an error"},
    {.name = "ciphersuites",
     .type = T_SUITES13,
     .off = TF(ciphersuites),
     .load = load_tls_suites,
     .noff = TF(nciphersuites),
     .zero = "(OpenSSL's default)",
     .def_doc = "none: OpenSSL's default",
     .doc = "TLS 1.3 suites, IANA names; unknown names are errors, as "
            "for ciphers"},
    {.name = "server_preference",
     .type = T_BOOL,
     .off = TF(server_preference),
     .def = 1,
     .explain_choice = yes_no_why_order,
     .doc = "true: the server's order of ciphers wins, false: the "
            "client's"},
    {.name = "groups",
     .type = T_NAMES,
     .off = TF(groups),
     .noff = TF(ngroups),
     .example = "P-256",
     .zero = "(OpenSSL's default)",
     .def_doc = "none: OpenSSL's default",
     .doc = "key exchange groups, one per item (P-256, X25519)"},
    {.name = "dh_bits",
     .type = T_DH,
     .off = TF(dh_bits),
     .zero = "auto",
     .doc = "DHE group size: 0 (OpenSSL chooses), 1024, 2048, 3072, 4096 "
            "or 8192"},
    {.name = "sigalgs",
     .type = T_NAMES,
     .off = TF(sigalgs),
     .noff = TF(nsigalgs),
     .example = "RSA+SHA256",
     .zero = "(OpenSSL's default)",
     .def_doc = "none: OpenSSL's default",
     .doc = "signature algorithms, one per item (RSA+SHA256)"},
    {.name = "security_level",
     .type = T_RANGE,
     .off = TF(security_level),
     .def = -1,
     .min = 0,
     .max = 5,
     .zero = "(OpenSSL's default)",
     .def_doc = "OpenSSL's own",
     .doc = "OpenSSL's security level, 0 to 5 (TLS 1.0 and 1.1 need 0)"},
    {.name = "key",
     .type = T_CHOICE,
     .off = TF(key_type),
     .def = TLS_KEY_RSA,
     CH(key_names),
     .explain = explain_tls_key,
     .doc = "the generated certificate's key: rsa or ecdsa"},
    {.name = "key_bits",
     .type = T_RANGE,
     .flags = SR_HIDDEN,
     .off = TF(key_bits),
     .def = 2048,
     .min = 1024,
     .max = 8192,
     .doc = "RSA key size, 1024 to 8192 (RSA only)"},
    {.name = "no_shared_cipher",
     .type = T_CHOICE,
     .off = TF(no_shared_cipher),
     .def = TLS_NOSHARED_OPENSSL,
     CH(noshared_names),
     .explain_choice = noshared_why,
     .doc = "no shared suite: openssl (its alert), alert (a fatal "
            "handshake_failure, 40), fin or rst (no answer, then FIN or "
            "RST)"},
    {.name = "no_shared_version",
     .type = T_CHOICE,
     .off = TF(no_shared_version),
     .def = TLS_NOSHARED_OPENSSL,
     CH(noshared_names),
     .explain_choice = noshared_why,
     .doc = "no shared version: openssl, alert, fin or rst, as for "
            "no_shared_cipher"},
    {.name = "encrypt_then_mac",
     .type = T_BOOL,
     .off = TF(encrypt_then_mac),
     .def = 1,
     .explain_choice = etm_why,
     .doc = "true: encrypt-then-MAC (RFC 7366) when a client offers it "
            "(OpenSSL's default); false: never (SSL_OP_NO_ENCRYPT_THEN_MAC)"},
    {.name = "session_cache",
     .type = T_BOOL,
     .off = TF(session_cache),
     .def = 1,
     .explain_choice = cache_why,
     .doc = "true: a server-side session cache, resumed by session ID "
            "(TLS <= 1.2; OpenSSL's default); false: nothing cached, an "
            "empty session ID"},
    {.name = "session_tickets",
     .type = T_BOOL,
     .off = TF(session_tickets),
     .explain_choice = tickets_why,
     .doc = "true: RFC 5077 session tickets (and TLS 1.3's, its only "
            "resumption); false: none"},
    {.name = "fallback_scsv",
     .type = T_BOOL,
     .off = TF(fallback_scsv),
     .def = 1,
     .explain_choice = scsv_why,
     .doc = "true: honour TLS_FALLBACK_SCSV (RFC 7507: "
            "inappropriate_fallback, 86); false: ignore it"},
};

const struct schema_section schema_tls = {
    .name = "tls",
    ROWS(tls_rows),
    .allow_null = true,
    .present = tls_present,
    .finish = tls_finish,
};
