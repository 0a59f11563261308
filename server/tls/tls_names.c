/*
 * tls_names.c - TLS version names and cipher suite names, one table each.
 *
 * Does: the version table (bit, wire number, OpenSSL's name, the schema's
 * name) and lookups over it; suite ids <-> IANA names through the linked
 * OpenSSL's own cipher table (read once, every id OpenSSL's lookup knows,
 * plus a context holding every suite it can actually offer); the "0xHHHH"
 * and IANA name forms.
 *
 * Does not: keep a suite list of its own, build a server's SSL_CTX
 * (tls_policy.c), or report errors with file positions (profile layer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "tls_names.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* --- versions --- */

const struct tls_version_name tls_version_names[TLS_VERSION_COUNT] = {
    {TLSV_SSL3, SSL3_VERSION, "SSLv3", "ssl3"},
    {TLSV_1_0, TLS1_VERSION, "TLSv1", "tls1.0"},
    {TLSV_1_1, TLS1_1_VERSION, "TLSv1.1", "tls1.1"},
    {TLSV_1_2, TLS1_2_VERSION, "TLSv1.2", "tls1.2"},
    {TLSV_1_3, TLS1_3_VERSION, "TLSv1.3", "tls1.3"},
};
const size_t tls_nversion_names = NELEM(tls_version_names);

/* tls_version_str - "SSLv3", "TLSv1", "TLSv1.1" ... (OpenSSL's names) */
const char *
tls_version_str(unsigned bit)
{
	for (size_t i = 0; i < NELEM(tls_version_names); i++)
		if (tls_version_names[i].bit == bit)
			return tls_version_names[i].name;
	return "unknown";
}

/* tls_version_schema_str - "ssl3", "tls1.0" .. "tls1.3"; "?" unknown */
const char *
tls_version_schema_str(unsigned bit)
{
	for (size_t i = 0; i < NELEM(tls_version_names); i++)
		if (tls_version_names[i].bit == bit)
			return tls_version_names[i].schema;
	return "?";
}

/* tls_version_from_str - "ssl3", "tls1.0" .. "tls1.3", "tls1" or OpenSSL's
 * names, any case -> bit; 0 unknown */
unsigned
tls_version_from_str(const char *s)
{
	if (s == NULL)
		return 0;
	for (size_t i = 0; i < NELEM(tls_version_names); i++)
		if (strcasecmp(s, tls_version_names[i].schema) == 0 ||
		    strcasecmp(s, tls_version_names[i].name) == 0)
			return tls_version_names[i].bit;
	if (strcasecmp(s, "tls1") == 0)
		return TLSV_1_0;
	return 0;
}

/* tls_version_from_protocol - 0x0303 -> TLSV_1_2; 0 unknown */
unsigned
tls_version_from_protocol(int protocol)
{
	for (size_t i = 0; i < NELEM(tls_version_names); i++)
		if (tls_version_names[i].protocol == protocol)
			return tls_version_names[i].bit;
	return 0;
}

/* --- what the linked OpenSSL knows --- */

/*
 * Built once: every suite id OpenSSL's lookup knows (SSL_CIPHER_find over
 * the whole 16-bit space, a few milliseconds), and a context holding every
 * suite it can actually offer ("ALL:COMPLEMENTOFALL" plus every TLS 1.3
 * suite found). Read-only afterwards, so safe from several threads.
 */
static CRYPTO_ONCE known_once = CRYPTO_ONCE_STATIC_INIT;
static SSL_CTX *all_ctx;
static const SSL_CIPHER **known;
static size_t nknown;

static void
known_init(void)
{
	SSL *ssl;
	char tls13[1024] = "";
	size_t n = 0;

	if ((all_ctx = SSL_CTX_new(TLS_method())) == NULL ||
	    (ssl = SSL_new(all_ctx)) == NULL)
		return;
	for (unsigned id = 0; id <= 0xFFFF; id++) {
		const unsigned char b[2] = {id >> 8, id & 0xFF};
		if (SSL_CIPHER_find(ssl, b) != NULL)
			n++;
	}
	if ((known = calloc(n, sizeof(*known))) != NULL) {
		for (unsigned id = 0; id <= 0xFFFF && nknown < n; id++) {
			const unsigned char b[2] = {id >> 8, id & 0xFF};
			const SSL_CIPHER *c = SSL_CIPHER_find(ssl, b);
			if (c == NULL)
				continue;
			known[nknown++] = c;
			if (b[0] == 0x13 &&
			    strlen(tls13) + strlen(SSL_CIPHER_get_name(c)) + 2 <
			        sizeof(tls13)) {
				if (tls13[0] != '\0')
					strcat(tls13, ":");
				strcat(tls13, SSL_CIPHER_get_name(c));
			}
		}
	}
	SSL_free(ssl);
	if (SSL_CTX_set_cipher_list(all_ctx,
	                            "ALL:COMPLEMENTOFALL:@SECLEVEL=0") != 1 ||
	    SSL_CTX_set_ciphersuites(all_ctx, tls13) != 1)
		ERR_clear_error();
}

/* tls_suites_ready - the table of known suites could be built */
bool
tls_suites_ready(void)
{
	return CRYPTO_THREAD_run_once(&known_once, known_init) == 1 &&
	       all_ctx != NULL && known != NULL;
}

/* tls_suite_iana - c's IANA name (OpenSSL's own when it has none) */
const char *
tls_suite_iana(const SSL_CIPHER *c)
{
	const char *s = SSL_CIPHER_standard_name(c);

	return s != NULL && strcmp(s, "(NONE)") != 0 ? s
	                                             : SSL_CIPHER_get_name(c);
}

static uint16_t
cipher_id(const SSL_CIPHER *c)
{
	return SSL_CIPHER_get_protocol_id(c);
}

/* tls_suite_by_id - OpenSSL's entry for id, or NULL */
const SSL_CIPHER *
tls_suite_by_id(uint16_t id)
{
	if (!tls_suites_ready())
		return NULL;
	for (size_t i = 0; i < nknown; i++)
		if (cipher_id(known[i]) == id)
			return known[i];
	return NULL;
}

/* tls_suite_by_name - OpenSSL's entry for an IANA name, or NULL */
const SSL_CIPHER *
tls_suite_by_name(const char *iana)
{
	if (!tls_suites_ready())
		return NULL;
	for (size_t i = 0; i < nknown; i++)
		if (strcmp(tls_suite_iana(known[i]), iana) == 0)
			return known[i];
	return NULL;
}

/* tls_suite_available - can the linked OpenSSL offer c at all (compiled
 * in, algorithms there)? */
bool
tls_suite_available(const SSL_CIPHER *c)
{
	STACK_OF(SSL_CIPHER) * sk;

	if (!tls_suites_ready())
		return false;
	sk = SSL_CTX_get_ciphers(all_ctx);
	for (int i = 0; i < sk_SSL_CIPHER_num(sk); i++)
		if (sk_SSL_CIPHER_value(sk, i) == c)
			return true;
	return false;
}

/* tls_suite_is_tls13 - a TLS 1.3 suite (0x13XX)? */
bool
tls_suite_is_tls13(const SSL_CIPHER *c)
{
	return (cipher_id(c) >> 8) == 0x13;
}

/* --- the written forms --- */

/* "0x" or "0X", then one to four hex digits: the number of digits and
 * *id, or -1. The one hex parser; tls_suite_is_hex narrows it. */
static int
parse_hex_id(const char *s, uint16_t *id)
{
	size_t n;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -1;
	s += 2;
	n = strspn(s, "0123456789abcdefABCDEF");
	if (n == 0 || n > 4 || s[n] != '\0')
		return -1;
	*id = (uint16_t)strtoul(s, NULL, 16);
	return (int)n;
}

/* tls_suite_is_hex - "0x" and exactly four hex digits; true and *id */
bool
tls_suite_is_hex(const char *s, uint16_t *id)
{
	uint16_t v;

	if (s == NULL || s[0] != '0' || s[1] != 'x' || parse_hex_id(s, &v) != 4)
		return false;
	*id = v;
	return true;
}

/* tls_suite_is_iana - the form of an IANA suite name, "TLS_[A-Z0-9_]+" */
bool
tls_suite_is_iana(const char *s)
{
	if (s == NULL || strncmp(s, "TLS_", 4) != 0 || s[4] == '\0')
		return false;
	for (s += 4; *s != '\0'; s++)
		if (!(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') &&
		    *s != '_')
			return false;
	return true;
}

/*
 * tls_suite_id - IANA name ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA") as the
 * linked OpenSSL knows it, or a hex code "0xC013"; 0 and *id, or -1.
 */
int
tls_suite_id(const char *name, uint16_t *id)
{
	const SSL_CIPHER *c;

	if (name == NULL || id == NULL)
		return -1;
	if (parse_hex_id(name, id) > 0)
		return 0;
	if ((c = tls_suite_by_name(name)) == NULL)
		return -1;
	*id = cipher_id(c);
	return 0;
}

/* tls_suite_name - IANA name of an id, or "0xC013" when OpenSSL does not
 * know it; writes into buf and returns it */
const char *
tls_suite_name(uint16_t id, char *buf, size_t len)
{
	const SSL_CIPHER *c = tls_suite_by_id(id);

	if (len == 0)
		return buf;
	if (c != NULL)
		snprintf(buf, len, "%s", tls_suite_iana(c));
	else
		snprintf(buf, len, "0x%04X", id);
	return buf;
}

/*
 * IANA names the linked OpenSSL may not know at all (RC4, 3DES, DES,
 * EXPORT, IDEA, SEED, NULL, static DH/ECDH, PSK/SRP with those): a name
 * here is a real suite this build lacks, so tls.ciphers only warns about
 * it (tls_policy); a name neither here nor in OpenSSL is a typo.
 */
static const char *const iana_legacy[] = {
    "TLS_RSA_WITH_NULL_MD5",
    "TLS_RSA_WITH_NULL_SHA",
    "TLS_RSA_WITH_NULL_SHA256",
    "TLS_RSA_EXPORT_WITH_RC4_40_MD5",
    "TLS_RSA_WITH_RC4_128_MD5",
    "TLS_RSA_WITH_RC4_128_SHA",
    "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5",
    "TLS_RSA_WITH_IDEA_CBC_SHA",
    "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA",
    "TLS_RSA_WITH_DES_CBC_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_DH_DSS_EXPORT_WITH_DES40_CBC_SHA",
    "TLS_DH_DSS_WITH_DES_CBC_SHA",
    "TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA",
    "TLS_DH_RSA_EXPORT_WITH_DES40_CBC_SHA",
    "TLS_DH_RSA_WITH_DES_CBC_SHA",
    "TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA",
    "TLS_DHE_DSS_WITH_DES_CBC_SHA",
    "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA",
    "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA",
    "TLS_DHE_RSA_WITH_DES_CBC_SHA",
    "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5",
    "TLS_DH_anon_WITH_RC4_128_MD5",
    "TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA",
    "TLS_DH_anon_WITH_DES_CBC_SHA",
    "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA",
    "TLS_DH_DSS_WITH_AES_128_CBC_SHA",
    "TLS_DH_RSA_WITH_AES_128_CBC_SHA",
    "TLS_DH_DSS_WITH_AES_256_CBC_SHA",
    "TLS_DH_RSA_WITH_AES_256_CBC_SHA",
    "TLS_DH_DSS_WITH_AES_128_CBC_SHA256",
    "TLS_DH_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_DH_DSS_WITH_AES_256_CBC_SHA256",
    "TLS_DH_RSA_WITH_AES_256_CBC_SHA256",
    "TLS_DH_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_DH_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_DH_DSS_WITH_AES_128_GCM_SHA256",
    "TLS_DH_DSS_WITH_AES_256_GCM_SHA384",
    "TLS_PSK_WITH_RC4_128_SHA",
    "TLS_PSK_WITH_3DES_EDE_CBC_SHA",
    "TLS_DHE_PSK_WITH_RC4_128_SHA",
    "TLS_DHE_PSK_WITH_3DES_EDE_CBC_SHA",
    "TLS_RSA_PSK_WITH_RC4_128_SHA",
    "TLS_RSA_PSK_WITH_3DES_EDE_CBC_SHA",
    "TLS_RSA_WITH_SEED_CBC_SHA",
    "TLS_DH_DSS_WITH_SEED_CBC_SHA",
    "TLS_DH_RSA_WITH_SEED_CBC_SHA",
    "TLS_DHE_DSS_WITH_SEED_CBC_SHA",
    "TLS_DHE_RSA_WITH_SEED_CBC_SHA",
    "TLS_DH_anon_WITH_SEED_CBC_SHA",
    "TLS_ECDH_ECDSA_WITH_NULL_SHA",
    "TLS_ECDH_ECDSA_WITH_RC4_128_SHA",
    "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_NULL_SHA",
    "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDH_RSA_WITH_NULL_SHA",
    "TLS_ECDH_RSA_WITH_RC4_128_SHA",
    "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_NULL_SHA",
    "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDH_anon_WITH_NULL_SHA",
    "TLS_ECDH_anon_WITH_RC4_128_SHA",
    "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDH_anon_WITH_AES_128_CBC_SHA",
    "TLS_ECDH_anon_WITH_AES_256_CBC_SHA",
    "TLS_SRP_SHA_WITH_3DES_EDE_CBC_SHA",
    "TLS_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_PSK_WITH_RC4_128_SHA",
    "TLS_ECDHE_PSK_WITH_3DES_EDE_CBC_SHA",
};

/* tls_suite_is_known - an IANA name the linked OpenSSL or the legacy
 * table knows (so a typo is an error, a suite this build lacks a warning) */
bool
tls_suite_is_known(const char *s)
{
	uint16_t id;

	if (tls_suite_id(s, &id) == 0)
		return true;
	for (size_t i = 0; i < NELEM(iana_legacy); i++)
		if (strcmp(iana_legacy[i], s) == 0)
			return true;
	return false;
}
