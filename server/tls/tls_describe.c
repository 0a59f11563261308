/*
 * tls_describe.c - what the linked OpenSSL will offer, read back from a
 * built SSL_CTX, for --check: versions, suites by IANA name in order (per
 * version, each suite that can never be chosen marked with why), groups,
 * DH, signature algorithms, key and certificate, security level and why,
 * the no-shared behaviours, encrypt-then-MAC, resumption,
 * TLS_FALLBACK_SCSV, the known differences of the linked OpenSSL, and
 * OpenSSL's version. Also the "never chosen" judgement that tls_policy.c
 * turns into warnings.
 *
 * Does not: change the context, or print anything but to the FILE given.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include "tls_build.h"

/* --- what a suite needs --- */

/* Key type a suite's authentication needs; 0 when any will do. */
static int
suite_key_nid(const SSL_CIPHER *c)
{
	switch (SSL_CIPHER_get_auth_nid(c)) {
	case NID_auth_rsa:
		return EVP_PKEY_RSA;
	case NID_auth_ecdsa:
		return EVP_PKEY_EC;
	case NID_auth_dss:
		return EVP_PKEY_DSA;
	default:
		return 0;
	}
}

/* tls_key_name - "RSA", "ECDSA" ... for a key's base id */
const char *
tls_key_name(int nid)
{
	switch (nid) {
	case EVP_PKEY_RSA:
		return "RSA";
	case EVP_PKEY_RSA_PSS:
		return "RSA-PSS";
	case EVP_PKEY_EC:
		return "ECDSA";
	case EVP_PKEY_DSA:
		return "DSA";
	case EVP_PKEY_ED25519:
		return "Ed25519";
	case EVP_PKEY_ED448:
		return "Ed448";
	default:
		return OBJ_nid2sn(nid);
	}
}

/* tls_never_chosen - why OpenSSL will never choose c here, or NULL */
const char *
tls_never_chosen(const struct tls_policy *tp, const SSL_CIPHER *c, char *buf,
                 size_t len)
{
	int need = suite_key_nid(c), kx = SSL_CIPHER_get_kx_nid(c);
	unsigned v = tls_ctx_versions(tp->ctx);
	const char *cv = SSL_CIPHER_get_version(c);

	if (need != 0 && need != tp->key_nid &&
	    !(need == EVP_PKEY_RSA && tp->key_nid == EVP_PKEY_RSA_PSS)) {
		snprintf(
		    buf, len,
		    "needs %s %s certificate; it will never be chosen with "
		    "this %s certificate",
		    need == EVP_PKEY_EC ? "an" : "a", tls_key_name(need),
		    tls_key_name(tp->key_nid));
		return buf;
	}
	if (kx == NID_kx_psk || kx == NID_kx_ecdhe_psk ||
	    kx == NID_kx_dhe_psk || kx == NID_kx_rsa_psk || kx == NID_kx_srp ||
	    kx == NID_kx_gost || kx == NID_kx_gost18) {
		snprintf(
		    buf, len,
		    "needs PSK, SRP or GOST, which this server does not set "
		    "up; it will never be chosen");
		return buf;
	}
	/* TLS 1.2-only suites (SHA-256/384 MACs, AEAD) with max < 1.2. */
	if (cv != NULL && strcmp(cv, "TLSv1.2") == 0 &&
	    !(v & (TLSV_1_2 | TLSV_1_3)) && v != 0) {
		snprintf(buf, len,
		         "needs TLSv1.2; it will never be chosen with these "
		         "versions");
		return buf;
	}
	return NULL;
}

/* --- describe --- */

static const char *
no_shared_str(enum tls_no_shared n)
{
	switch (n) {
	case TLS_NOSHARED_OPENSSL:
		return "OpenSSL's own alert";
	case TLS_NOSHARED_ALERT:
		return "fatal handshake_failure alert (40)";
	case TLS_NOSHARED_FIN:
		return "no answer, then FIN";
	case TLS_NOSHARED_RST:
		return "no answer, then RST";
	}
	return "unknown";
}

static void
describe_suites(const struct tls_policy *tp, FILE *out, bool tls13)
{
	STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(tp->ctx);
	int n = 0;
	char why[160];

	for (int i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
		const SSL_CIPHER *c = sk_SSL_CIPHER_value(sk, i);
		if (tls_suite_is_tls13(c) != tls13)
			continue;
		fprintf(out, "    %2d. %s (%s)", ++n, tls_suite_iana(c),
		        SSL_CIPHER_get_name(c));
		if (tls_never_chosen(tp, c, why, sizeof(why)) != NULL)
			fprintf(out, " [%s]", why);
		fputc('\n', out);
	}
	if (n == 0)
		fprintf(out, "    (none)\n");
}

/* Encrypt-then-MAC, resumption and TLS_FALLBACK_SCSV as the context has
 * them, then what the linked OpenSSL does that no setting changes. */
static void
describe_extensions(const struct tls_policy *tp, FILE *out)
{
	uint64_t op = SSL_CTX_get_options(tp->ctx);
	long mode = SSL_CTX_get_session_cache_mode(tp->ctx);

	fprintf(out, "  encrypt-then-MAC (RFC 7366): %s\n",
	        (op & SSL_OP_NO_ENCRYPT_THEN_MAC)
	            ? "never (SSL_OP_NO_ENCRYPT_THEN_MAC)"
	            : "yes, when the client offers it on a CBC suite");
	fprintf(out, "  resumption: ");
	if (mode & SSL_SESS_CACHE_SERVER)
		fprintf(out, "by session ID (server-side cache, %ld s)",
		        SSL_CTX_get_timeout(tp->ctx));
	else
		fprintf(out, "no session cache (empty session ID)");
	fprintf(out, "; tickets: %s\n",
	        !(op & SSL_OP_NO_TICKET) ? "yes (RFC 5077; TLS 1.3 too)"
	                                 : "none (so no TLS 1.3 resumption)");
	fprintf(out, "  TLS_FALLBACK_SCSV (RFC 7507): %s\n",
	        tp->ts.fallback_scsv
	            ? "honoured (inappropriate_fallback, 86)"
	            : "ignored (the connection's highest version drops to "
	              "the client's)");
	fprintf(out,
	        "  known differences (the linked OpenSSL; no setting changes "
	        "them):\n"
	        "    max_fragment_length (RFC 6066): echoed in the ServerHello "
	        "when a client asks, and records shrink to it (OpenSSL 3.0 "
	        "has no server switch: openssl/openssl#17573)\n");
}

/*
 * tls_policy_describe - what will actually be offered, for --check:
 * versions, then every suite by IANA name in server order (per version),
 * groups, DH size, key type, security level.
 */
void
tls_policy_describe(const struct tls_policy *tp, FILE *out)
{
	const struct tls_settings *ts;
	unsigned v;
	const char *order;

	if (tp == NULL || out == NULL)
		return;
	ts = &tp->ts;
	v = tls_ctx_versions(tp->ctx);
	fprintf(out, "TLS: versions");
	for (size_t i = 0; i < tls_nversion_names; i++)
		if (v & tls_version_names[i].bit)
			fprintf(out, " %s", tls_version_names[i].name);
	fputc('\n', out);
	order = (SSL_CTX_get_options(tp->ctx) & SSL_OP_CIPHER_SERVER_PREFERENCE)
	            ? "in server order"
	            : "in this order, the client's order wins";
	if (v & TLS12_AND_BELOW) {
		fprintf(out, "  suites %s (TLS <= 1.2):\n", order);
		describe_suites(tp, out, false);
	}
	if (v & TLSV_1_3) {
		fprintf(out, "  suites %s (TLS 1.3):\n", order);
		describe_suites(tp, out, true);
	}
	fprintf(out, "  groups:");
	if (ts->ngroups == 0)
		fprintf(out, " OpenSSL's default");
	for (size_t i = 0; i < ts->ngroups; i++)
		fprintf(out, " %s", ts->groups[i]);
	fputc('\n', out);
	if (ts->dh_bits != 0)
		fprintf(out, "  DH: %u bits, %s\n", ts->dh_bits, tp->dh_desc);
	else
		fprintf(out, "  DH: %s\n", tp->dh_desc);
	fprintf(out, "  signature algorithms:");
	if (ts->nsigalgs == 0)
		fprintf(out, " OpenSSL's default");
	for (size_t i = 0; i < ts->nsigalgs; i++)
		fprintf(out, " %s", ts->sigalgs[i]);
	fputc('\n', out);
	fprintf(out, "  key: %s %d bits, %s\n", tls_key_name(tp->key_nid),
	        tp->key_bits,
	        tp->generated ? "self-signed certificate generated in memory"
	                      : "certificate from cert_file");
	if (tp->generated)
		fprintf(out, "  certificate: CN=%s, subjectAltName %s\n",
		        tp->hostname, tp->hostname);
	fprintf(out, "  security level: %d", tp->level);
	if (ts->security_level >= 0)
		fprintf(out, " (set by the profile)\n");
	else if (tp->level_why != NULL)
		fprintf(out, " (lowered from OpenSSL's %d: %s)\n",
		        tp->default_level, tp->level_why);
	else
		fprintf(out, " (OpenSSL's default)\n");
	fprintf(out, "  no shared suite: %s\n",
	        no_shared_str(ts->no_shared_cipher));
	fprintf(out, "  no shared version: %s\n",
	        no_shared_str(ts->no_shared_version));
	describe_extensions(tp, out);
	fprintf(out, "  OpenSSL: %s\n", OpenSSL_version(OPENSSL_VERSION));
}
