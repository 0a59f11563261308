/*
 * tls_conn.c - the TLS layer's OpenSSL callbacks and the per-connection
 * hooks they call.
 *
 * Does: one SSL ex_data index holding each connection's hooks, argument
 * and handshake progress (freed with the SSL); a client hello callback
 * that captures the first ClientHello, asks the client_hello hook, and
 * keeps a held handshake suspended (nothing is sent) on every retry; an
 * info callback that passes OpenSSL's events to the info hook.
 *
 * Does not: decide anything about a hello, log, or touch the transcript
 * (the hooks do, from above), or close connections (io.c, the session).
 */
#include <stdbool.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "tls_conn.h"

struct tls_conn {
	struct tls_conn_hooks hooks;
	void *arg;
	bool seen; /* the first ClientHello went to the hook */
	bool held; /* ... which said hold: stay suspended */
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

static int
conn_client_hello(SSL *ssl, int *al, void *arg)
{
	struct tls_conn *c = conn_of(ssl);
	struct tls_hello h;

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

/* tls_conn_install - put the TLS layer's callbacks on ctx */
void
tls_conn_install(SSL_CTX *ctx)
{
	/* The index exists before any worker thread handshakes. */
	(void)CRYPTO_THREAD_run_once(&index_once, index_init);
	SSL_CTX_set_client_hello_cb(ctx, conn_client_hello, NULL);
	SSL_CTX_set_info_callback(ctx, conn_info);
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
