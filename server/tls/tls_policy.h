/*
 * tls_policy.h - a profile's TLS behaviour as an OpenSSL SSL_CTX; the
 * tls layer's public header (it includes the names, ClientHello and
 * connection hook headers).
 *
 * tls_policy builds one SSL_CTX per profile from plain settings (versions,
 * suites by IANA name in the server's order, TLS 1.3 suites, groups, DH
 * size, signature algorithms, security level, key type, encrypt-then-MAC,
 * session resumption, TLS_FALLBACK_SCSV), generating a
 * self-signed certificate in memory unless one is given. Everything the
 * linked OpenSSL cannot provide is reported as a warning naming it, never
 * dropped silently. Every context carries the tls layer's own callbacks
 * (tls_conn.h): a connection's owner attaches hooks to its SSL.
 *
 * The layer's files: tls_policy.c (SSL_CTX from settings), tls_cert.c
 * (certificate and key), tls_describe.c (--check), tls_names.c (version
 * and suite names), tls_hello.c (ClientHello), tls_conn.c (callbacks).
 *
 * Not here: sockets and bufferevents (io.c), deciding what to do about a
 * ClientHello (rules.c, session_tls.c), YAML (the profile layer fills the
 * settings).
 */
#ifndef TLS_POLICY_H
#define TLS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/ssl.h>

#include "tls_conn.h"
#include "tls_hello.h"
#include "tls_names.h"

enum tls_key_type { TLS_KEY_RSA, TLS_KEY_ECDSA };

/* What the server does when it shares no suite or no version. */
enum tls_no_shared {
	TLS_NOSHARED_OPENSSL, /* whatever OpenSSL sends (its alert) */
	TLS_NOSHARED_ALERT,   /* a fatal handshake_failure (40), as Schannel */
	TLS_NOSHARED_FIN,     /* no answer; FIN */
	TLS_NOSHARED_RST,     /* no answer; RST */
};

/* A profile's "tls:" section, as data. */
struct tls_settings {
	bool enabled;
	unsigned versions; /* enum tls_version_bit */
	char **ciphers;    /* IANA names (or 0xHHHH), TLS <= 1.2 */
	size_t nciphers;
	char **ciphersuites; /* IANA names, TLS 1.3 */
	size_t nciphersuites;
	bool server_preference; /* SSL_OP_CIPHER_SERVER_PREFERENCE */
	char **groups;          /* "P-256", "P-384", "X25519", ... */
	size_t ngroups;
	unsigned dh_bits; /* 0: OpenSSL's automatic choice */
	char **sigalgs;   /* "RSA+SHA256", "ECDSA+SHA256", ... */
	size_t nsigalgs;
	int security_level; /* -1: OpenSSL's default */
	enum tls_key_type key_type;
	unsigned key_bits; /* RSA bits (2048) */
	enum tls_no_shared no_shared_cipher;
	enum tls_no_shared no_shared_version;
	/* Extensions and resumption (a zeroed struct: all off). */
	bool encrypt_then_mac; /* RFC 7366; false: SSL_OP_NO_ENCRYPT_THEN_MAC */
	bool session_cache;    /* resume by session ID (server-side cache) */
	bool session_tickets;  /* RFC 5077 tickets (TLS 1.3: stateless PSK) */
	bool fallback_scsv;    /* honour TLS_FALLBACK_SCSV (RFC 7507) */
};

struct tls_policy;

/* Called once per problem found while building (unknown suite, ...). */
typedef void (*tls_warn_fn)(void *arg, const char *msg);

/*
 * tls_policy_new - build the SSL_CTX. hostname goes into a generated
 * certificate's CN and subjectAltName. cert_file/key_file (PEM, chain
 * allowed) replace the generated certificate when both are non-NULL.
 * Returns NULL with one line in err when nothing usable can be built
 * (e.g. no suite at all is available, unreadable key); lesser problems go
 * to warn. The context carries the tls layer's callbacks (tls_conn.h).
 */
struct tls_policy *tls_policy_new(const struct tls_settings *ts,
                                  const char *hostname, const char *cert_file,
                                  const char *key_file, tls_warn_fn warn,
                                  void *warn_arg, char *err, size_t errlen);
void tls_policy_free(struct tls_policy *tp);

/* tls_policy_ctx - the SSL_CTX to create SSL objects from */
SSL_CTX *tls_policy_ctx(const struct tls_policy *tp);

/* tls_policy_settings - the settings it was built from */
const struct tls_settings *tls_policy_settings(const struct tls_policy *tp);

/*
 * tls_policy_describe - what will actually be offered, for --check:
 * versions, then every suite by IANA name in server order (per version),
 * groups, DH size, key type, security level, extensions and resumption,
 * and the known differences: what the linked OpenSSL does that no setting
 * can change.
 */
void tls_policy_describe(const struct tls_policy *tp, FILE *out);

/*
 * tls_policy_write_cert - write cert.pem and key.pem into dir (only on
 * --write-cert). Returns 0 or -1 with err.
 */
int tls_policy_write_cert(const struct tls_policy *tp, const char *dir,
                          char *err, size_t errlen);

#endif
