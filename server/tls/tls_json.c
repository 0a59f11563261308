/*
 * tls_json.c - TLS facts as jansson values for the JSON transcript: suites
 * by IANA name (the linked OpenSSL's table through tls_names, plus the two
 * signalling values it lacks) and hex, a ClientHello's versions, suites,
 * SNI and groups, alerts by their RFC names.
 *
 * Does not: capture anything (tls_hello.c), decide, or write a transcript.
 */
#include <stdio.h>

#include "tls_json.h"
#include "tls_names.h"

/* tls_json_hex - "0x1301" */
const char *
tls_json_hex(uint16_t id, char buf[7])
{
	snprintf(buf, 7, "0x%04X", id);
	return buf;
}

/* Signalling values a client lists among its suites; OpenSSL's table of
 * ciphers has no entry for them. */
static const char *
scsv_name(uint16_t id)
{
	switch (id) {
	case 0x00FF:
		return "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"; /* RFC 5746 */
	case 0x5600:
		return "TLS_FALLBACK_SCSV"; /* RFC 7507 */
	default:
		return NULL;
	}
}

/* {"name", "hex"}, name from name (NULL: null) */
static json_t *
named_hex(const char *name, uint16_t id)
{
	char hex[7];

	return json_pack("{s:s?, s:s}", "name", name, "hex",
	                 tls_json_hex(id, hex));
}

/* tls_json_suite - {"name": IANA or null, "hex": "0x1301"} */
json_t *
tls_json_suite(uint16_t id)
{
	const SSL_CIPHER *c = tls_suite_by_id(id);

	return named_hex(c != NULL ? tls_suite_iana(c) : scsv_name(id), id);
}

/* Append v (stolen) to a; a failure marks *bad. */
static void
append(json_t *a, json_t *v, int *bad)
{
	if (v == NULL || json_array_append_new(a, v) != 0)
		*bad = 1;
}

/* tls_json_hello - the "offered" object of a client_hello event */
json_t *
tls_json_hello(const struct tls_hello *h)
{
	json_t *o, *versions = json_array(), *suites = json_array();
	json_t *groups = NULL;
	char hex[7];
	int bad = versions == NULL || suites == NULL;

	for (size_t i = tls_nversion_names; !bad && i-- > 0;)
		if (h->versions & tls_version_names[i].bit)
			append(versions, json_string(tls_version_names[i].name),
			       &bad);
	for (size_t i = 0; !bad && i < h->nsuites; i++)
		append(suites, tls_json_suite(h->suites[i]), &bad);
	if (!bad && h->has_groups && (groups = json_array()) == NULL)
		bad = 1;
	for (size_t i = 0; groups != NULL && !bad && i < h->ngroups; i++)
		append(groups,
		       named_hex(tls_group_name(h->groups[i]), h->groups[i]),
		       &bad);
	o = bad ? NULL
	        : json_pack("{s:s, s:O, s:O, s:s?}", "legacy_version",
	                    tls_json_hex(h->legacy_version, hex), "versions",
	                    versions, "suites", suites, "sni",
	                    h->sni[0] != '\0' ? h->sni : NULL);
	if (o != NULL && groups != NULL &&
	    json_object_set(o, "groups", groups) != 0) {
		json_decref(o);
		o = NULL;
	}
	json_decref(versions);
	json_decref(suites);
	json_decref(groups);
	return o;
}

/* tls_json_alert - {"description", "level", "sent"} */
json_t *
tls_json_alert(int code, int level, bool sent)
{
	const char *name = tls_alert_name(code);
	char other[16];

	if (name == NULL) {
		snprintf(other, sizeof(other), "alert_%d", code & 0xff);
		name = other;
	}
	return json_pack("{s:s, s:s, s:b}", "description", name, "level",
	                 level == 2 ? "fatal" : "warning", "sent", sent);
}

/* tls_alert_name - RFC name of an alert description, or NULL */
const char *
tls_alert_name(int code)
{
	static const struct {
		int code;
		const char *name;
	} alerts[] = {
	    {0, "close_notify"},
	    {10, "unexpected_message"},
	    {20, "bad_record_mac"},
	    {21, "decryption_failed"},
	    {22, "record_overflow"},
	    {30, "decompression_failure"},
	    {40, "handshake_failure"},
	    {41, "no_certificate"},
	    {42, "bad_certificate"},
	    {43, "unsupported_certificate"},
	    {44, "certificate_revoked"},
	    {45, "certificate_expired"},
	    {46, "certificate_unknown"},
	    {47, "illegal_parameter"},
	    {48, "unknown_ca"},
	    {49, "access_denied"},
	    {50, "decode_error"},
	    {51, "decrypt_error"},
	    {60, "export_restriction"},
	    {70, "protocol_version"},
	    {71, "insufficient_security"},
	    {80, "internal_error"},
	    {86, "inappropriate_fallback"},
	    {90, "user_canceled"},
	    {100, "no_renegotiation"},
	    {109, "missing_extension"},
	    {110, "unsupported_extension"},
	    {111, "certificate_unobtainable"},
	    {112, "unrecognized_name"},
	    {113, "bad_certificate_status_response"},
	    {114, "bad_certificate_hash_value"},
	    {115, "unknown_psk_identity"},
	    {116, "certificate_required"},
	    {120, "no_application_protocol"},
	};

	for (size_t i = 0; i < sizeof(alerts) / sizeof(alerts[0]); i++)
		if (alerts[i].code == code)
			return alerts[i].name;
	return NULL;
}

/* tls_group_name - IANA name of a supported group, or NULL */
const char *
tls_group_name(uint16_t id)
{
	static const char *const ec[] = {
	    NULL,
	    "sect163k1",
	    "sect163r1",
	    "sect163r2",
	    "sect193r1",
	    "sect193r2",
	    "sect233k1",
	    "sect233r1",
	    "sect239k1",
	    "sect283k1",
	    "sect283r1",
	    "sect409k1",
	    "sect409r1",
	    "sect571k1",
	    "sect571r1",
	    "secp160k1",
	    "secp160r1",
	    "secp160r2",
	    "secp192k1",
	    "secp192r1",
	    "secp224k1",
	    "secp224r1",
	    "secp256k1",
	    "secp256r1",
	    "secp384r1",
	    "secp521r1",
	    "brainpoolP256r1",
	    "brainpoolP384r1",
	    "brainpoolP512r1",
	    "x25519",
	    "x448",
	    "brainpoolP256r1tls13",
	    "brainpoolP384r1tls13",
	    "brainpoolP512r1tls13",
	};
	static const char *const ffdhe[] = {
	    "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192",
	};

	if (id < sizeof(ec) / sizeof(ec[0]))
		return ec[id];
	if (id >= 256 && id < 256 + sizeof(ffdhe) / sizeof(ffdhe[0]))
		return ffdhe[id - 256];
	switch (id) {
	case 0x0200:
		return "MLKEM512";
	case 0x0201:
		return "MLKEM768";
	case 0x0202:
		return "MLKEM1024";
	case 0x11EB:
		return "SecP256r1MLKEM768";
	case 0x11EC:
		return "X25519MLKEM768";
	case 0x11ED:
		return "SecP384r1MLKEM1024";
	case 0x6399:
		return "X25519Kyber768Draft00";
	default:
		return NULL;
	}
}
