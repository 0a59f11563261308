/*
 * fuzz_tls_hello.c - libFuzzer target for the ClientHello reader
 * (server/tls/tls_hello.h): one input is the bytes a client sends after
 * STARTTLS's 220. OpenSSL parses them as a server would; when it gets as
 * far as the client hello callback, tls_hello_capture fills a struct
 * tls_hello, tls_hello_describe formats it and tls_hello_offers is asked
 * about each suite, and the profile rules engine matches it (rules_match
 * at HOOK_TLS_CLIENT_HELLO) against the CSCwh48138 scenario's rule and
 * tests/fuzz/profiles/fuzz-hello.yaml, which uses every hello condition;
 * then the handshake is stopped there (no certificate, no reply: the
 * target is our reading of the hello, not OpenSSL's).
 *
 * Does not: carry a rule's action out (session_tls.c, tls_conn.c).
 */
#include "rules.h"
#include "tls_hello.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static SSL_CTX *ctx;
static struct profile *prof[2];

static int
hello_cb(SSL *ssl, int *alert, void *arg)
{
	struct tls_hello *h = malloc(sizeof(*h));
	char desc[512];

	if (h == NULL)
		abort();
	tls_hello_capture(ssl, h);
	if (h->nsuites > TLS_HELLO_MAX_SUITES ||
	    h->nexts > TLS_HELLO_MAX_EXTS ||
	    memchr(h->sni, '\0', sizeof(h->sni)) == NULL)
		abort();
	tls_hello_describe(h, desc, sizeof(desc));
	if (memchr(desc, '\0', sizeof(desc)) == NULL)
		abort();
	tls_hello_describe(h, desc, 8);
	for (size_t i = 0; i < h->nsuites; i++)
		if (!tls_hello_offers(h, h->suites[i]))
			abort();
	for (int i = 0; i < 2; i++) {
		struct rule_ctx rc = {.hook = HOOK_TLS_CLIENT_HELLO,
		                      .hello = h};
		struct rule *r;
		struct rng rng;

		rng_seed(&rng, 1, 1);
		r = rules_match(prof[i], &rc, &rng);
		if (r != NULL)
			rules_describe(r, desc, sizeof(desc));
	}
	free(h);
	*alert = SSL_AD_HANDSHAKE_FAILURE;
	return SSL_CLIENT_HELLO_ERROR;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dirs[] = {FUZZ_SOURCE_DIR "/profiles", FUZZ_PROFILE_DIR};
	const char *names[] = {"exchange2013-cscwh48138", "fuzz-hello"};
	char err[512];

	for (int i = 0; i < 2; i++) {
		prof[i] = profile_load(names[i], dirs, 2, err, sizeof(err));
		if (prof[i] == NULL) {
			fprintf(stderr, "fuzz_tls_hello: %s\n", err);
			abort();
		}
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL)
		abort();
	/* every version, so old hellos reach the callback too */
	SSL_CTX_set_min_proto_version(ctx, 0);
	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_client_hello_cb(ctx, hello_cb, NULL);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	SSL *ssl = SSL_new(ctx);
	BIO *rbio = BIO_new_mem_buf(data, (int)size);
	BIO *wbio = BIO_new(BIO_s_mem());

	if (ssl == NULL || rbio == NULL || wbio == NULL)
		abort();
	SSL_set_bio(ssl, rbio, wbio);
	SSL_set_accept_state(ssl);
	SSL_do_handshake(ssl);
	SSL_free(ssl);
	ERR_clear_error();
	return 0;
}
