/*
 * test_tls_conn.c - tls_conn.c: the tls layer's own OpenSSL callbacks on
 * a context from tls_policy_new, and the hooks a connection attaches.
 * Handshakes over BIO pairs, no sockets: an SSL without hooks handshakes
 * as before; the client_hello hook is called once with the captured hello
 * (also across a HelloRetryRequest); its verdicts continue, fail with the
 * alert it names, or hold the handshake with nothing sent; the info hook
 * sees the alerts; attaching twice keeps the last hooks (run under ASan);
 * TLS_FALLBACK_SCSV honoured or ignored as the context says; a session
 * ended without close_notify stays cached only when kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls_policy.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* What the hooks saw. */
struct seen {
	enum tls_hello_verdict verdict; /* what client_hello answers */
	int alert;                      /* ... with this alert */
	int hellos;
	struct tls_hello h;
	int alerts_sent, alerts_received;
	int last_alert; /* low byte of ret: the description */
	int done;       /* SSL_CB_HANDSHAKE_DONE */
};

static enum tls_hello_verdict
on_hello(void *arg, const struct tls_hello *h, int *alert)
{
	struct seen *s = arg;

	s->hellos++;
	s->h = *h;
	if (s->verdict == TLS_HELLO_ALERT)
		*alert = s->alert;
	return s->verdict;
}

static void
on_info(void *arg, int where, int ret)
{
	struct seen *s = arg;

	if (where & SSL_CB_ALERT) {
		if (where & SSL_CB_WRITE)
			s->alerts_sent++;
		else
			s->alerts_received++;
		s->last_alert = ret & 0xFF;
	}
	if (where & SSL_CB_HANDSHAKE_DONE)
		s->done++;
}

static const struct tls_conn_hooks hooks = {on_hello, on_info};

static struct tls_policy *
policy(unsigned versions, char **groups, size_t ngroups, char **ciphers,
       size_t nciphers)
{
	struct tls_settings ts = {
	    .enabled = true,
	    .versions = versions,
	    .ciphers = ciphers,
	    .nciphers = nciphers,
	    .groups = groups,
	    .ngroups = ngroups,
	    .security_level = -1,
	    .key_type = TLS_KEY_RSA,
	    .key_bits = 2048,
	};
	char err[256];
	struct tls_policy *tp = tls_policy_new(
	    &ts, "mx.example.test", NULL, NULL, NULL, NULL, err, sizeof(err));

	if (tp == NULL)
		fail_msg("tls_policy_new: %s", err);
	return tp;
}

static SSL_CTX *
client_ctx(const char *ciphers, const char *groups, int max)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());

	assert_non_null(c);
	if (ciphers != NULL)
		assert_int_equal(SSL_CTX_set_cipher_list(c, ciphers), 1);
	if (groups != NULL)
		assert_int_equal(SSL_CTX_set1_groups_list(c, groups), 1);
	assert_int_equal(SSL_CTX_set_max_proto_version(c, max), 1);
	return c;
}

struct run {
	bool ok;          /* both ends finished */
	int server_err;   /* SSL_get_error of the server's last step */
	size_t to_client; /* bytes the server wrote */
};

/* Drive both ends over a BIO pair for a few rounds. */
static void
handshake(SSL *s, SSL_CTX *cctx, struct run *r)
{
	SSL *c = SSL_new(cctx);
	BIO *sb = NULL, *cb = NULL;
	bool sdone = false, cdone = false, failed = false;

	memset(r, 0, sizeof(*r));
	assert_non_null(c);
	assert_int_equal(BIO_new_bio_pair(&sb, 0, &cb, 0), 1);
	SSL_set_bio(s, sb, sb);
	SSL_set_bio(c, cb, cb);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	for (int i = 0; i < 16 && !(sdone && cdone) && !failed; i++) {
		int rc;

		if (!cdone) {
			if ((rc = SSL_do_handshake(c)) == 1)
				cdone = true;
			else if (SSL_get_error(c, rc) != SSL_ERROR_WANT_READ &&
			         SSL_get_error(c, rc) != SSL_ERROR_WANT_WRITE)
				failed = true;
		}
		if (!sdone && !failed) {
			if ((rc = SSL_do_handshake(s)) == 1) {
				sdone = true;
			} else {
				r->server_err = SSL_get_error(s, rc);
				if (r->server_err != SSL_ERROR_WANT_READ &&
				    r->server_err != SSL_ERROR_WANT_WRITE &&
				    r->server_err !=
				        SSL_ERROR_WANT_CLIENT_HELLO_CB)
					failed = true;
			}
		}
	}
	r->ok = sdone && cdone && !failed;
	r->to_client = (size_t)BIO_number_written(sb);
	ERR_clear_error();
	SSL_free(c);
}

static void
test_no_hooks(void **state)
{
	struct tls_policy *tp = policy(TLSV_1_2 | TLSV_1_3, NULL, 0, NULL, 0);
	SSL_CTX *cctx = client_ctx(NULL, NULL, TLS1_3_VERSION);
	SSL *s = SSL_new(tls_policy_ctx(tp));
	struct run r;

	(void)state;
	handshake(s, cctx, &r);
	assert_true(r.ok);
	SSL_free(s);
	SSL_CTX_free(cctx);
	tls_policy_free(tp);
}

static void
test_verdicts(void **state)
{
	static const struct {
		const char *label;
		enum tls_hello_verdict verdict;
		int alert;
		const char *client_ciphers; /* TLS 1.2 client; NULL: 1.3 */
		bool want_ok;
		bool want_shares;
		int want_server_err; /* when not ok */
		bool want_silent;    /* nothing at all reached the client */
		int want_alert_sent; /* description, -1 none */
	} cases[] = {
	    {"continue, TLS 1.3", TLS_HELLO_CONTINUE, 0, NULL, true, true, 0,
	     false, -1},
	    {"continue, TLS 1.2", TLS_HELLO_CONTINUE, 0,
	     "ECDHE-RSA-AES128-GCM-SHA256", true, true, 0, false, -1},
	    {"alert 40", TLS_HELLO_ALERT, SSL_AD_HANDSHAKE_FAILURE, NULL, false,
	     true, SSL_ERROR_SSL, false, SSL_AD_HANDSHAKE_FAILURE},
	    {"alert 70", TLS_HELLO_ALERT, SSL_AD_PROTOCOL_VERSION,
	     "ECDHE-RSA-AES128-GCM-SHA256", false, true, SSL_ERROR_SSL, false,
	     SSL_AD_PROTOCOL_VERSION},
	    {"hold", TLS_HELLO_HOLD, 0, NULL, false, true,
	     SSL_ERROR_WANT_CLIENT_HELLO_CB, true, -1},
	    {"no shared suite, OpenSSL's alert", TLS_HELLO_CONTINUE, 0,
	     "ECDHE-RSA-AES256-GCM-SHA384", false, false, SSL_ERROR_SSL, false,
	     SSL_AD_HANDSHAKE_FAILURE},
	};
	/* One TLS <= 1.2 suite, so that a client can share none. */
	static char *one[] = {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"};
	struct tls_policy *tp =
	    policy(TLSV_1_2 | TLSV_1_3, NULL, 0, one, NELEM(one));
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct seen seen = {.verdict = cases[i].verdict,
		                    .alert = cases[i].alert,
		                    .last_alert = -1};
		SSL_CTX *cctx = client_ctx(
		    cases[i].client_ciphers, NULL,
		    cases[i].client_ciphers ? TLS1_2_VERSION : TLS1_3_VERSION);
		SSL *s = SSL_new(tls_policy_ctx(tp));
		struct run r;

		assert_int_equal(tls_conn_attach(s, &hooks, &seen), 0);
		handshake(s, cctx, &r);
		if (r.ok != cases[i].want_ok || seen.hellos != 1 ||
		    seen.h.nsuites == 0 ||
		    seen.h.shares_suite != cases[i].want_shares ||
		    (!r.ok && r.server_err != cases[i].want_server_err) ||
		    (r.to_client == 0) != cases[i].want_silent ||
		    (cases[i].want_alert_sent < 0) != (seen.alerts_sent == 0) ||
		    (cases[i].want_alert_sent >= 0 &&
		     seen.last_alert != cases[i].want_alert_sent) ||
		    (r.ok && seen.done == 0)) {
			print_error("%s: got ok %d hellos %d suites %zu shares "
			            "%d err %d sent %zu bytes, %d alerts (last "
			            "%d), done %d\n",
			            cases[i].label, r.ok, seen.hellos,
			            seen.h.nsuites, seen.h.shares_suite,
			            r.server_err, r.to_client, seen.alerts_sent,
			            seen.last_alert, seen.done);
			bad++;
		}
		SSL_free(s);
		SSL_CTX_free(cctx);
	}
	tls_policy_free(tp);
	assert_int_equal(bad, 0);
}

/* A key share the server does not take: HelloRetryRequest, a second
 * ClientHello, one call. */
static void
test_hello_retry(void **state)
{
	static char *p384[] = {"P-384"};
	struct tls_policy *tp = policy(TLSV_1_3, p384, NELEM(p384), NULL, 0);
	SSL_CTX *cctx = client_ctx(NULL, "X25519:P-384", TLS1_3_VERSION);
	SSL *s = SSL_new(tls_policy_ctx(tp));
	struct seen seen = {.verdict = TLS_HELLO_CONTINUE};
	struct run r;

	(void)state;
	assert_int_equal(tls_conn_attach(s, &hooks, &seen), 0);
	handshake(s, cctx, &r);
	assert_true(r.ok);
	assert_int_equal(SSL_get_negotiated_group(s), NID_secp384r1);
	assert_int_equal(seen.hellos, 1);
	assert_true(seen.h.versions & TLSV_1_3);
	/* supported_groups as the client listed them: x25519, secp384r1 */
	assert_true(seen.h.has_groups);
	assert_int_equal(seen.h.ngroups, 2);
	assert_int_equal(seen.h.groups[0], 0x001D);
	assert_int_equal(seen.h.groups[1], 0x0018);
	SSL_free(s);
	SSL_CTX_free(cctx);
	tls_policy_free(tp);
}

/* Attaching again replaces the hooks (the first argument hears nothing);
 * the hook with no client_hello continues. */
static void
test_attach_twice(void **state)
{
	static const struct tls_conn_hooks info_only = {NULL, on_info};
	struct tls_policy *tp = policy(TLSV_1_2 | TLSV_1_3, NULL, 0, NULL, 0);
	SSL_CTX *cctx = client_ctx(NULL, NULL, TLS1_3_VERSION);
	SSL *s = SSL_new(tls_policy_ctx(tp));
	struct seen first = {.verdict = TLS_HELLO_ALERT, .alert = 40};
	struct seen second = {.verdict = TLS_HELLO_ALERT, .alert = 40};
	struct run r;

	(void)state;
	assert_int_equal(tls_conn_attach(s, &hooks, &first), 0);
	assert_int_equal(tls_conn_attach(s, &info_only, &second), 0);
	assert_int_equal(tls_conn_attach(NULL, &hooks, &first), -1);
	assert_int_equal(tls_conn_attach(s, NULL, &first), -1);
	handshake(s, cctx, &r);
	assert_true(r.ok);
	assert_int_equal(first.hellos + first.done, 0);
	assert_int_equal(second.hellos, 0);
	assert_true(second.done > 0);
	SSL_free(s);
	SSL_CTX_free(cctx);
	tls_policy_free(tp);
}

/* A TLS 1.0-1.2 server, fallback_scsv and session_cache as given. */
static struct tls_policy *
legacy_policy(bool fallback_scsv, bool session_cache)
{
	struct tls_settings ts = {
	    .enabled = true,
	    .versions = TLSV_1_0 | TLSV_1_1 | TLSV_1_2,
	    .security_level = -1,
	    .key_type = TLS_KEY_RSA,
	    .key_bits = 2048,
	    .session_cache = session_cache,
	    .fallback_scsv = fallback_scsv,
	};
	char err[256];
	struct tls_policy *tp = tls_policy_new(
	    &ts, "mx.example.test", NULL, NULL, NULL, NULL, err, sizeof(err));

	if (tp == NULL)
		fail_msg("tls_policy_new: %s", err);
	return tp;
}

/*
 * TLS_FALLBACK_SCSV (RFC 7507): honoured, a client capped below the
 * server's highest version that sends it gets inappropriate_fallback
 * (86); ignored, it is served at its version. A client that is not below
 * (or sends no SCSV) is served either way, at the same version; the hook
 * still sees the hello.
 */
static void
test_fallback_scsv(void **state)
{
	static const struct {
		const char *label;
		bool honour;
		int client_max;
		bool scsv;
		bool want_ok;
		int want_version; /* when ok */
	} cases[] = {
	    {"honoured, 1.1 + SCSV", true, TLS1_1_VERSION, true, false, 0},
	    {"ignored, 1.1 + SCSV", false, TLS1_1_VERSION, true, true,
	     TLS1_1_VERSION},
	    {"ignored, 1.0 + SCSV", false, TLS1_VERSION, true, true,
	     TLS1_VERSION},
	    {"honoured, 1.2 + SCSV", true, TLS1_2_VERSION, true, true,
	     TLS1_2_VERSION},
	    {"ignored, 1.2 + SCSV", false, TLS1_2_VERSION, true, true,
	     TLS1_2_VERSION},
	    {"honoured, 1.1 no SCSV", true, TLS1_1_VERSION, false, true,
	     TLS1_1_VERSION},
	};
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct tls_policy *tp = legacy_policy(cases[i].honour, false);
		SSL_CTX *cctx = client_ctx("ECDHE-RSA-AES128-SHA:@SECLEVEL=0",
		                           NULL, cases[i].client_max);
		SSL *s = SSL_new(tls_policy_ctx(tp));
		struct seen seen = {.verdict = TLS_HELLO_CONTINUE,
		                    .last_alert = -1};
		struct run r;

		SSL_CTX_set_min_proto_version(cctx, TLS1_VERSION);
		if (cases[i].scsv)
			SSL_CTX_set_mode(cctx, SSL_MODE_SEND_FALLBACK_SCSV);
		assert_int_equal(tls_conn_attach(s, &hooks, &seen), 0);
		handshake(s, cctx, &r);
		if (r.ok != cases[i].want_ok || seen.hellos != 1 ||
		    (r.ok && SSL_version(s) != cases[i].want_version) ||
		    (!r.ok &&
		     (seen.alerts_sent == 0 ||
		      seen.last_alert != SSL_AD_INAPPROPRIATE_FALLBACK))) {
			print_error("%s: got ok %d version 0x%04x hellos %d "
			            "alerts %d (last %d)\n",
			            cases[i].label, r.ok, SSL_version(s),
			            seen.hellos, seen.alerts_sent,
			            seen.last_alert);
			bad++;
		}
		SSL_free(s);
		SSL_CTX_free(cctx);
		tls_policy_free(tp);
	}
	assert_int_equal(bad, 0);
}

/*
 * A session ended without close_notify: OpenSSL takes it out of the cache
 * when the SSL is freed, unless tls_conn_keep_session marked it; with no
 * cache (session_cache false) there is nothing to keep.
 */
static void
test_keep_session(void **state)
{
	static const struct {
		const char *label;
		bool cache, keep;
		long want_cached;
	} cases[] = {
	    {"cache, kept", true, true, 1},
	    {"cache, bare FIN", true, false, 0},
	    {"no cache, kept", false, true, 0},
	};
	int bad = 0;

	(void)state;
	tls_conn_keep_session(NULL); /* nothing */
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct tls_policy *tp = legacy_policy(true, cases[i].cache);
		SSL_CTX *cctx =
		    client_ctx("ECDHE-RSA-AES128-SHA", NULL, TLS1_2_VERSION);
		SSL *s = SSL_new(tls_policy_ctx(tp));
		struct run r;
		long n;

		handshake(s, cctx, &r);
		assert_true(r.ok);
		if (cases[i].keep)
			tls_conn_keep_session(s);
		SSL_free(s);
		n = SSL_CTX_sess_number(tls_policy_ctx(tp));
		if (n != cases[i].want_cached) {
			print_error("%s: %ld sessions cached, want %ld\n",
			            cases[i].label, n, cases[i].want_cached);
			bad++;
		}
		SSL_CTX_free(cctx);
		tls_policy_free(tp);
	}
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_hooks),
	    cmocka_unit_test(test_verdicts),
	    cmocka_unit_test(test_hello_retry),
	    cmocka_unit_test(test_attach_twice),
	    cmocka_unit_test(test_fallback_scsv),
	    cmocka_unit_test(test_keep_session),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
