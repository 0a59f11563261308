/*
 * tls_names.h - the one table of TLS names: protocol versions (bit,
 * wire number, OpenSSL's name, the profile schema's name) and cipher
 * suites (IANA name <-> 16-bit id through the linked OpenSSL, the
 * "0xHHHH" form, the IANA name form).
 *
 * Suite names come from the linked OpenSSL's own cipher table, never from
 * a list kept here, so a name means what the running library means by it.
 *
 * Not here: building an SSL_CTX (tls_policy.c), reading a ClientHello
 * (tls_hello.c), YAML or error positions (the profile layer).
 */
#ifndef TLS_NAMES_H
#define TLS_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

enum tls_version_bit {
	TLSV_SSL3 = 1u << 0,
	TLSV_1_0 = 1u << 1,
	TLSV_1_1 = 1u << 2,
	TLSV_1_2 = 1u << 3,
	TLSV_1_3 = 1u << 4,
};

/* One row per version, oldest first. */
struct tls_version_name {
	unsigned bit;       /* enum tls_version_bit */
	int protocol;       /* wire number, OpenSSL's constant: 0x0303 */
	const char *name;   /* OpenSSL's name (SSL_get_version): "TLSv1.2" */
	const char *schema; /* the profile schema's name: "tls1.2" */
};

/* The table itself, for callers that list or join the names. */
#define TLS_VERSION_COUNT 5
extern const struct tls_version_name tls_version_names[TLS_VERSION_COUNT];
extern const size_t tls_nversion_names;

/* tls_version_str - "SSLv3", "TLSv1", "TLSv1.1" ... (OpenSSL's names) */
const char *tls_version_str(unsigned bit);
/* tls_version_schema_str - "ssl3", "tls1.0" .. "tls1.3"; "?" unknown */
const char *tls_version_schema_str(unsigned bit);
/* tls_version_from_str - "ssl3", "tls1.0" .. "tls1.3", "tls1" or OpenSSL's
 * names, any case -> bit; 0 unknown */
unsigned tls_version_from_str(const char *s);
/* tls_version_from_protocol - 0x0303 -> TLSV_1_2; 0 unknown */
unsigned tls_version_from_protocol(int protocol);

/*
 * tls_suite_id - IANA name ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA") as the
 * linked OpenSSL knows it, or a hex code "0xC013"; 0 and *id, or -1.
 */
int tls_suite_id(const char *name, uint16_t *id);

/* tls_suite_name - IANA name of an id, or "0xC013" when OpenSSL does not
 * know it; writes into buf and returns it */
const char *tls_suite_name(uint16_t id, char *buf, size_t len);

/*
 * tls_suite_is_hex - the form a profile writes a raw id in: "0x" and
 * exactly four hex digits ("0xC02F", "0x0a0a"); true and *id. (tls_suite_id
 * also takes "0X" and fewer digits.)
 */
bool tls_suite_is_hex(const char *s, uint16_t *id);

/* tls_suite_is_iana - the form of an IANA suite name, "TLS_[A-Z0-9_]+"
 * (whether the linked OpenSSL knows it: tls_suite_id) */
bool tls_suite_is_iana(const char *s);

/*
 * tls_suite_is_known - a real IANA suite name: one the linked OpenSSL
 * knows, or a legacy one it may lack entirely (RC4, 3DES, DES, EXPORT,
 * NULL, ...). A profile naming neither has a typo.
 */
bool tls_suite_is_known(const char *iana);

/* --- the linked OpenSSL's suites, for tls_policy and tls_describe --- */

/* tls_suite_by_id / tls_suite_by_name - OpenSSL's entry, or NULL */
const SSL_CIPHER *tls_suite_by_id(uint16_t id);
const SSL_CIPHER *tls_suite_by_name(const char *iana);
/* tls_suite_available - can the linked OpenSSL offer c at all? */
bool tls_suite_available(const SSL_CIPHER *c);
/* tls_suite_iana - c's IANA name (OpenSSL's own when it has none) */
const char *tls_suite_iana(const SSL_CIPHER *c);
/* tls_suite_is_tls13 - a TLS 1.3 suite (0x13XX)? */
bool tls_suite_is_tls13(const SSL_CIPHER *c);
/* tls_suites_ready - the table of known suites could be built */
bool tls_suites_ready(void);

#endif
