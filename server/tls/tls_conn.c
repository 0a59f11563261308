/*
 * tls_conn.c - the TLS layer's OpenSSL callbacks and the per-connection
 * hooks they call.
 *
 * Does: one SSL ex_data index holding each connection's hooks, argument
 * and handshake progress (freed with the SSL); a client hello callback
 * that captures the first ClientHello, asks the client_hello hook, and
 * keeps a held handshake suspended (nothing is sent) on every retry; an
 * info callback that passes OpenSSL's events to the info hook; and, when
 * the context asks, a TLS_FALLBACK_SCSV that OpenSSL will not fail; a
 * message callback that notes, for a DHE key exchange, how many bytes
 * the prime (our ServerKeyExchange) and the client's public value (its
 * ClientKeyExchange) take on the wire (tls_conn_dh_lengths).
 *
 * Does not: decide anything about a hello, log, or touch the transcript
 * (the hooks do, from above), or close connections (io.c, the session).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/objects.h>

#include "tls_conn.h"

struct tls_conn {
	struct tls_conn_hooks hooks;
	void *arg;
	bool seen; /* the first ClientHello went to the hook */
	bool held; /* ... which said hold: stay suspended */
	/* DHE only (RFC 5246 7.4.3 / 7.4.7.2): the encoded length of dh_p
	 * in the ServerKeyExchange we sent and of dh_Yc in the client's
	 * ClientKeyExchange; 0 until seen. */
	unsigned dh_p_len;
	unsigned dh_yc_len;
};

static CRYPTO_ONCE index_once = CRYPTO_ONCE_STATIC_INIT;
static int conn_index = -1;

static void
conn_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
          void *argp)
{
	free(ptr);
}

static void
index_init(void)
{
	conn_index = SSL_get_ex_new_index(0, "tls_conn", NULL, NULL, conn_free);
}

static struct tls_conn *
conn_of(const SSL *ssl)
{
	if (conn_index < 0)
		return NULL;
	return SSL_get_ex_data(ssl, conn_index);
}

/* Does the hello list TLS_FALLBACK_SCSV (0x5600, RFC 7507)? */
static bool
hello_has_fallback_scsv(SSL *ssl)
{
	const unsigned char *p = NULL;
	size_t len = SSL_client_hello_get0_ciphers(ssl, &p);
	size_t step = SSL_client_hello_isv2(ssl) ? 3 : 2; /* SSLv2 specs */

	for (size_t i = 0; p != NULL && i + step <= len; i += step) {
		const unsigned char *s = p + i + step - 2;

		if ((step == 2 || p[i] == 0) && s[0] == 0x56 && s[1] == 0x00)
			return true;
	}
	return false;
}

/* The highest version the hello offers: supported_versions (GREASE and
 * unknown values skipped), else the legacy version. */
static int
hello_max_version(SSL *ssl)
{
	const unsigned char *p = NULL;
	size_t len = 0;
	int hi = 0;

	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_supported_versions, &p,
	                              &len) == 1 &&
	    p != NULL && len >= 1) {
		for (size_t i = 1; i + 1 <= p[0] && i + 1 < len; i += 2) {
			int v = (p[i] << 8) | p[i + 1];

			if (v >= SSL3_VERSION && v <= TLS1_3_VERSION && v > hi)
				hi = v;
		}
		if (hi != 0)
			return hi;
	}
	return (int)SSL_client_hello_get0_legacy_version(ssl);
}

/*
 * OpenSSL honours TLS_FALLBACK_SCSV (inappropriate_fallback, 86, when the
 * client's highest version is below the server's) and has no switch for
 * it. Its check (ssl_check_version_downgrade) compares the negotiated
 * version with this SSL's own highest enabled one, so lowering that to
 * the client's highest -- which changes nothing else: the client offers
 * no more -- lets the handshake go on as a server without RFC 7507 does.
 */
static void
fallback_ignore(SSL *ssl)
{
	int hi, ours, lo;

	if (!hello_has_fallback_scsv(ssl))
		return;
	hi = hello_max_version(ssl);
	ours = SSL_get_max_proto_version(ssl);
	lo = SSL_get_min_proto_version(ssl);
	if (hi < SSL3_VERSION || hi > TLS1_3_VERSION ||
	    (ours != 0 && hi >= ours) || (lo != 0 && hi < lo))
		return; /* no downgrade to hide, or nothing can be shared */
	(void)SSL_set_max_proto_version(ssl, hi);
}

static int
conn_client_hello(SSL *ssl, int *al, void *arg)
{
	struct tls_conn *c = conn_of(ssl);
	struct tls_hello h;

	if ((uintptr_t)arg & TLS_CONN_IGNORE_FALLBACK_SCSV)
		fallback_ignore(ssl);
	if (c == NULL || c->hooks.client_hello == NULL)
		return SSL_CLIENT_HELLO_SUCCESS;
	if (c->held)
		return SSL_CLIENT_HELLO_RETRY; /* stay suspended: send nothing
		                                */
	if (c->seen) /* a second ClientHello after HelloRetryRequest */
		return SSL_CLIENT_HELLO_SUCCESS;
	c->seen = true;
	tls_hello_capture(ssl, &h);
	switch (c->hooks.client_hello(c->arg, &h, al)) {
	case TLS_HELLO_ALERT:
		return SSL_CLIENT_HELLO_ERROR;
	case TLS_HELLO_HOLD:
		c->held = true;
		return SSL_CLIENT_HELLO_RETRY; /* suspends: nothing is sent */
	case TLS_HELLO_CONTINUE:
		break;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

static void
conn_info(const SSL *ssl, int where, int ret)
{
	struct tls_conn *c = conn_of(ssl);

	if (c != NULL && c->hooks.info != NULL)
		c->hooks.info(c->arg, where, ret);
}

/* A handshake message's first two body bytes, big-endian, or 0. */
static unsigned
msg_u16(const unsigned char *m, size_t len)
{
	return len >= 6 ? (unsigned)((m[4] << 8) | m[5]) : 0;
}

/*
 * The message callback: for a DHE suite, the length prefix of dh_p in the
 * ServerKeyExchange we send and of dh_Yc in the ClientKeyExchange we get
 * (each a 4-byte handshake header, then the opaque<1..2^16-1>). TLS 1.3
 * has neither message; ECDHE's ServerKeyExchange is not counted.
 */
static void
conn_msg(int write_p, int version, int content_type, const void *buf,
         size_t len, SSL *ssl, void *arg)
{
	struct tls_conn *c;
	const unsigned char *m = buf;
	const SSL_CIPHER *cipher;

	(void)version;
	(void)arg;
	if (content_type != SSL3_RT_HANDSHAKE || len < 6 ||
	    (c = conn_of(ssl)) == NULL)
		return;
	if (write_p && m[0] == SSL3_MT_SERVER_KEY_EXCHANGE) {
		cipher = SSL_get_pending_cipher(ssl);
		if (cipher != NULL &&
		    SSL_CIPHER_get_kx_nid(cipher) == NID_kx_dhe)
			c->dh_p_len = msg_u16(m, len);
	} else if (!write_p && m[0] == SSL3_MT_CLIENT_KEY_EXCHANGE &&
	           c->dh_p_len != 0) {
		c->dh_yc_len = msg_u16(m, len);
	}
}

/* tls_conn_dh_lengths - the DHE prime's and the client's public value's
 * encoded lengths */
bool
tls_conn_dh_lengths(const SSL *ssl, unsigned *p_len, unsigned *yc_len)
{
	const struct tls_conn *c = ssl != NULL ? conn_of(ssl) : NULL;

	if (c == NULL || c->dh_p_len == 0 || c->dh_yc_len == 0)
		return false;
	*p_len = c->dh_p_len;
	*yc_len = c->dh_yc_len;
	return true;
}

/* tls_conn_install - put the TLS layer's callbacks on ctx, with flags */
void
tls_conn_install(SSL_CTX *ctx, unsigned flags)
{
	/* The index exists before any worker thread handshakes. */
	(void)CRYPTO_THREAD_run_once(&index_once, index_init);
	SSL_CTX_set_client_hello_cb(ctx, conn_client_hello,
	                            (void *)(uintptr_t)flags);
	SSL_CTX_set_info_callback(ctx, conn_info);
	SSL_CTX_set_msg_callback(ctx, conn_msg);
}

/* tls_conn_attach - call hooks (copied) with arg for this SSL's handshake */
int
tls_conn_attach(SSL *ssl, const struct tls_conn_hooks *hooks, void *arg)
{
	struct tls_conn *c;

	if (ssl == NULL || hooks == NULL ||
	    CRYPTO_THREAD_run_once(&index_once, index_init) != 1 ||
	    conn_index < 0 || (c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	free(SSL_get_ex_data(ssl, conn_index)); /* attached twice: the last */
	c->hooks = *hooks;
	c->arg = arg;
	if (SSL_set_ex_data(ssl, conn_index, c) != 1) {
		free(c);
		return -1;
	}
	return 0;
}

/* tls_conn_keep_session - keep ssl's session resumable without a
 * close_notify */
void
tls_conn_keep_session(SSL *ssl)
{
	if (ssl != NULL && SSL_is_init_finished(ssl))
		SSL_set_shutdown(ssl,
		                 SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
}
