/*
 * tls_conn.h - the TLS layer's own OpenSSL callbacks, and the hooks a
 * connection's owner registers to hear from them.
 *
 * tls_policy_new installs a client hello callback, an info callback and a
 * message callback on every SSL_CTX it builds. The owner of an SSL (the SMTP
 * session) attaches its hooks and an argument to that SSL with tls_conn_attach;
 * the callbacks capture the ClientHello and call the hooks. An SSL without
 * hooks handshakes as if no callback were installed, but for what the
 * context's flags ask of every ClientHello (TLS_CONN_x).
 *
 * Not here: what a hook decides (session_tls.c, rules.c), bufferevents
 * (io.c).
 */
#ifndef TLS_CONN_H
#define TLS_CONN_H

#include <stdbool.h>

#include <openssl/ssl.h>

#include "tls_hello.h"

/* What the owner wants done with a ClientHello. */
enum tls_hello_verdict {
	TLS_HELLO_CONTINUE, /* go on with the handshake */
	TLS_HELLO_ALERT,    /* fail it with the fatal alert in *alert */
	TLS_HELLO_HOLD,     /* answer nothing, stay suspended: the owner
	                     * ends the connection when the handshake stops */
};

struct tls_conn_hooks {
	/* The connection's first ClientHello, captured (a second one after
	 * a HelloRetryRequest continues without a call). h is valid during
	 * the call only. NULL: continue. */
	enum tls_hello_verdict (*client_hello)(void *arg,
	                                       const struct tls_hello *h,
	                                       int *alert);
	/* OpenSSL's info callback (SSL_CB_ALERT, SSL_CB_HANDSHAKE_DONE, ...:
	 * where and ret as SSL_CTX_set_info_callback gives them). */
	void (*info)(void *arg, int where, int ret);
};

/* What the callbacks do for every connection of a context, hooks or not. */
#define TLS_CONN_IGNORE_FALLBACK_SCSV 0x1u /* as if RFC 7507 did not exist */

/* tls_conn_install - put the TLS layer's callbacks on ctx, with flags
 * (TLS_CONN_x; tls_policy_new does it for every context it builds) */
void tls_conn_install(SSL_CTX *ctx, unsigned flags);

/*
 * tls_conn_attach - call hooks (copied) with arg for this SSL's
 * handshake, until the SSL is freed. Returns 0, or -1 when out of memory.
 */
int tls_conn_attach(SSL *ssl, const struct tls_conn_hooks *hooks, void *arg);

/*
 * tls_conn_dh_lengths - for a DHE key exchange (TLS <= 1.2), how many
 * bytes the prime took in our ServerKeyExchange and the client's public
 * value in its ClientKeyExchange (RFC 5246 7.4.7.2 does not say the value
 * must be padded; some peers strip leading zero bytes, which older
 * Schannel mishandles). false: no DHE exchange seen (yet).
 */
bool tls_conn_dh_lengths(const SSL *ssl, unsigned *p_len, unsigned *yc_len);

/*
 * tls_conn_keep_session - keep ssl's session resumable although the
 * connection ends without a close_notify (OpenSSL drops a session from
 * its cache when the SSL is freed before one was sent): a completed
 * handshake is marked shut down; nothing is sent. NULL: nothing.
 */
void tls_conn_keep_session(SSL *ssl);

#endif
