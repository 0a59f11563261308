/*
 * schema_auth.c - the rows of the auth section: what AUTH accepts
 * (credentials, accept_any, require_tls) and what the NTLM challenge says
 * about the server (auth.ntlm).
 *
 * Which mechanisms run is not here: the "AUTH m1 m2" keywords of the
 * session's EHLO list decide it (ehlo.keywords, ehlo.keywords_tls).
 *
 * Does not: load the irregular keys (server_load.c: credentials, the
 * NTLM names and version) or show them (explain.c).
 */
#include "schema.h"

#define ROWS(t) .rows = (t), .nrows = nitems(t)

static const struct schema_row auth_rows[] = {
    {.name = "credentials",
     .type = T_CUSTOM,
     .load = load_credentials,
     .free = free_credentials,
     .explain = explain_credentials,
     .def_doc = "none",
     .doc = "the {user, password} pairs AUTH accepts; the list replaces the "
            "parent's"},
    {.name = "accept_any",
     .type = T_BOOL,
     .off = offsetof(struct auth_policy, accept_any),
     .doc = "true: any user and password pass"},
    {.name = "require_tls",
     .type = T_BOOL,
     .off = offsetof(struct auth_policy, require_tls),
     .doc = "true: AUTH without TLS gets auth_needs_tls"},
    {.name = "ntlm",
     .type = T_SECTION,
     .off = offsetof(struct auth_policy, ntlm),
     .sub = &schema_auth_ntlm,
     .explain = explain_ntlm,
     .doc = "what the NTLM challenge (AUTH NTLM's 334, MS-NLMP 2.2.1.2) "
            "says about the server; the client's answer to it always gets "
            "auth_failed"},
};

#define NTF(f) offsetof(struct ntlm_settings, f)

static const struct schema_row auth_ntlm_rows[] = {
    {.name = "netbios_domain",
     .type = T_LINE,
     .off = NTF(netbios_domain),
     .load = load_ntlm_name,
     .def_doc = "the first label of dns_domain, upper-cased, at most 15 "
                "characters",
     .doc = "the NetBIOS domain: TargetName and MsvAvNbDomainName"},
    {.name = "netbios_computer",
     .type = T_LINE,
     .off = NTF(netbios_computer),
     .load = load_ntlm_name,
     .def_doc = "the first label of the hostname, upper-cased, at most 15 "
                "characters",
     .doc = "the NetBIOS computer name: MsvAvNbComputerName"},
    {.name = "dns_domain",
     .type = T_LINE,
     .off = NTF(dns_domain),
     .load = load_ntlm_name,
     .def_doc = "the hostname after its first dot (the hostname when it "
                "has none)",
     .doc = "the DNS domain: MsvAvDnsDomainName"},
    {.name = "dns_computer",
     .type = T_LINE,
     .off = NTF(dns_computer),
     .load = load_ntlm_name,
     .def_doc = "the hostname",
     .doc = "the computer's DNS name: MsvAvDnsComputerName"},
    {.name = "os_version",
     .type = T_LINE,
     .off = NTF(os_version),
     .load = load_ntlm_version,
     .def_str = "6.3.9600",
     .doc = "the Windows version of the VERSION field, major.minor.build "
            "(6.3.9600: Windows Server 2012 R2)"},
    {.name = "supported",
     .type = T_REPLY,
     .off = NTF(supported),
     .def_str = "334 ntlm supported",
     .doc = "the 334 to \"AUTH NTLM\" without an initial response "
            "(MS-SMTPNTLM 2.2.1.2, its text from 4.2); the NEGOTIATE that "
            "follows gets the challenge"},
};

const struct schema_section schema_auth = {
    .name = "auth",
    ROWS(auth_rows),
};

const struct schema_section schema_auth_ntlm = {
    .name = "ntlm",
    ROWS(auth_ntlm_rows),
};
