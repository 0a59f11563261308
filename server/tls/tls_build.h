/*
 * tls_build.h - private to the tls layer: the policy's fields and the
 * helpers the files that build and describe it share (tls_policy.c,
 * tls_cert.c, tls_describe.c).
 *
 * Not for other layers: they see struct tls_policy only as an opaque
 * pointer through tls_policy.h.
 */
#ifndef TLS_BUILD_H
#define TLS_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "tls_policy.h"

struct tls_policy {
	SSL_CTX *ctx;
	struct tls_settings ts; /* deep copy */
	int default_level;      /* OpenSSL's level before we touched it */
	int level;              /* the level in effect */
	const char *level_why;  /* why it was lowered; NULL if not */
	bool generated;         /* certificate generated in memory */
	char *hostname;
	const char *dh_desc; /* "RFC 2409 group 2 (MODP)" ... */
	int key_nid;         /* EVP_PKEY_RSA, EVP_PKEY_EC, ... */
	int key_bits;
};

/* One tls_policy_new: where warnings and the error go. */
struct tls_build {
	struct tls_policy *tp;
	tls_warn_fn warn;
	void *warn_arg;
	char *err;
	size_t errlen;
};

#define TLS_LEGACY_VERSIONS (TLSV_SSL3 | TLSV_1_0 | TLSV_1_1)
#define TLS12_AND_BELOW     (TLS_LEGACY_VERSIONS | TLSV_1_2)

/* tls_build_warn - one warning to the caller's tls_warn_fn */
void tls_build_warn(struct tls_build *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* tls_build_error - the error line; clears OpenSSL's queue; returns -1 */
int tls_build_error(struct tls_build *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* tls_ssl_reason - OpenSSL's root cause in buf, then a clean queue */
const char *tls_ssl_reason(char *buf, size_t len);

/* tls_cert_set - load cert_file/key_file, or generate key and
 * certificate in memory; sets generated, key_nid, key_bits */
int tls_cert_set(struct tls_build *b, const char *cert_file,
                 const char *key_file);

/* tls_ctx_versions - the versions the context will really negotiate */
unsigned tls_ctx_versions(SSL_CTX *ctx);
/* tls_key_name - "RSA", "ECDSA" ... for a key's base id */
const char *tls_key_name(int nid);
/* tls_never_chosen - why OpenSSL will never choose c here, or NULL */
const char *tls_never_chosen(const struct tls_policy *tp, const SSL_CIPHER *c,
                             char *buf, size_t len);

#endif
