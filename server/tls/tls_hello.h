/*
 * tls_hello.h - what a client's ClientHello offered: suites in its order
 * (unknown ones included), versions, extensions, SNI, groups, read through
 * OpenSSL's client hello callback API.
 *
 * Not here: installing the callback or deciding anything about a hello
 * (tls_conn.c calls the hooks; rules.c and session_tls.c decide).
 */
#ifndef TLS_HELLO_H
#define TLS_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#define TLS_HELLO_MAX_SUITES 256
#define TLS_HELLO_MAX_EXTS   64
#define TLS_HELLO_MAX_GROUPS 64

/* What a ClientHello offered, captured during the hello callback. */
struct tls_hello {
	uint16_t suites[TLS_HELLO_MAX_SUITES]; /* in the client's order */
	size_t nsuites;
	unsigned versions; /* enum tls_version_bit offered */
	uint16_t legacy_version;
	char sni[256];                /* "" when absent */
	int exts[TLS_HELLO_MAX_EXTS]; /* extension types present */
	size_t nexts;
	/* supported_groups (RFC 8446 4.2.7) in the client's order, when the
	 * extension was sent (has_groups) */
	uint16_t groups[TLS_HELLO_MAX_GROUPS];
	size_t ngroups;
	bool has_groups;
	bool shares_suite; /* one of the suites is enabled on this SSL */
};

/*
 * tls_hello_capture - fill h from an SSL inside its client hello callback
 * (SSL_CTX_set_client_hello_cb). Versions come from supported_versions
 * when present, else from the legacy version (TLS 1.2 and below offer
 * every version up to it that the client supports: we record that one).
 * shares_suite compares the suites with the ones the SSL has enabled.
 */
void tls_hello_capture(SSL *ssl, struct tls_hello *h);

/* tls_hello_offers - does the hello offer suite id? */
bool tls_hello_offers(const struct tls_hello *h, uint16_t id);

/* tls_hello_describe - "TLSv1.2 suites: A, B, 0x5600 sni=x" for logs */
void tls_hello_describe(const struct tls_hello *h, char *buf, size_t len);

#endif
