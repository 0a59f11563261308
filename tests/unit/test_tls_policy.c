/*
 * test_tls_policy.c - tls_policy.c against the linked OpenSSL, in memory:
 * the Schannel 2012 R2 settings of FACTS.md 2 (exact warnings for what
 * OpenSSL lacks, exact suite order left), handshakes over BIO pairs with
 * the three gateway cipher strings of FACTS.md 3 (negotiated suite, and
 * whether the ClientHello offers 0x0039), versions, TLS 1.3, ECDSA, DH
 * sizes, suite names, build errors, --check text, encrypt-then-MAC,
 * resumption and signature algorithms (RSA-PSS or PKCS#1 v1.5 signing the
 * ServerKeyExchange), hand-built and mangled ClientHellos (run under
 * ASan), and certificate files written and read back. No sockets, no
 * network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls_policy.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* --- helpers --- */

#define MAX_WARN 64

struct warns {
	char msg[MAX_WARN][512];
	size_t n;
};

static void
collect(void *arg, const char *msg)
{
	struct warns *w = arg;

	if (w->n < MAX_WARN)
		snprintf(w->msg[w->n], sizeof(w->msg[0]), "%s", msg);
	w->n++;
}

static void
print_warns(const char *label, const struct warns *w)
{
	for (size_t i = 0; i < w->n && i < MAX_WARN; i++)
		print_error("%s: warning %zu: %s\n", label, i, w->msg[i]);
}

static struct tls_policy *
build(const char *label, const struct tls_settings *ts, struct warns *w)
{
	char err[512];
	struct tls_policy *tp;

	memset(w, 0, sizeof(*w));
	tp = tls_policy_new(ts, "mx.example.test", NULL, NULL, collect, w, err,
	                    sizeof(err));
	if (tp == NULL)
		fail_msg("%s: tls_policy_new: %s", label, err);
	return tp;
}

/* The Schannel 2012 R2 default order (FACTS.md 2), RC4 and 3DES included. */
static char *schannel_suites[] = {
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_CBC_SHA256",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256",
    "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256",
    "TLS_DHE_DSS_WITH_AES_256_CBC_SHA",
    "TLS_DHE_DSS_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA",
    "TLS_RSA_WITH_RC4_128_SHA",
    "TLS_RSA_WITH_RC4_128_MD5",
};

static char *schannel_groups[] = {"P-256", "P-384"};

static struct tls_settings
schannel_settings(void)
{
	struct tls_settings ts = {
	    .enabled = true,
	    .versions = TLSV_1_0 | TLSV_1_1 | TLSV_1_2,
	    .ciphers = schannel_suites,
	    .nciphers = NELEM(schannel_suites),
	    .server_preference = true,
	    .groups = schannel_groups,
	    .ngroups = NELEM(schannel_groups),
	    .dh_bits = 1024, /* Schannel on 2012 R2: 1024-bit DHE */
	    .security_level = -1,
	    .key_type = TLS_KEY_RSA,
	    .key_bits = 2048,
	    .no_shared_cipher = TLS_NOSHARED_ALERT,
	    .no_shared_version = TLS_NOSHARED_FIN,
	};
	return ts;
}

/* The three gateway strings of FACTS.md 3. */
#define ASYNCOS_BASE                                                           \
	"ECDH+aRSA:ECDH+ECDSA:DHE+DSS+AES:AES128:AES256:!SRP:!AESGCM+DH+aRSA:" \
	"!AESGCM+RSA:!aNULL:!eNULL:!DES:!3DES:!IDEA:!RC2:-IDEA:-aNULL:-EXPORT"
#define WORKAROUND                                                             \
	ASYNCOS_BASE                                                           \
	":!DHE-RSA-AES256-SHA:!DHE-RSA-AES128-CCM:!DHE-RSA-AES256-CCM:"        \
	"!ECDHE-ECDSA-CAMELLIA128-SHA256:!ECDHE-RSA-CAMELLIA128-SHA256:"       \
	"!ECDHE-ECDSA-CAMELLIA256-SHA384:!ECDHE-RSA-CAMELLIA256-SHA384:"       \
	"!ECDHE-ECDSA-AES128-CCM:!ECDHE-ECDSA-AES256-CCM"

static SSL_CTX *
client_ctx(const char *ciphers, const char *suites13, int min, int max)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());
	char list[2048];

	assert_non_null(c);
	snprintf(list, sizeof(list), "%s:@SECLEVEL=0", ciphers);
	if (SSL_CTX_set_cipher_list(c, list) != 1)
		fail_msg("client cipher list \"%s\" refused", list);
	if (suites13 != NULL && SSL_CTX_set_ciphersuites(c, suites13) != 1)
		fail_msg("client ciphersuites \"%s\" refused", suites13);
	assert_int_equal(SSL_CTX_set_min_proto_version(c, min), 1);
	assert_int_equal(SSL_CTX_set_max_proto_version(c, max), 1);
	return c;
}

struct hs_result {
	bool ok;
	char version[16];
	char suite[128];
	int tmp_bits; /* server's ephemeral key, as the client saw it */
	int sig_nid;  /* the ServerKeyExchange's signature, as it saw it */
	char error[256];
};

/* A full handshake over a BIO pair; no sockets. */
static void
handshake(SSL_CTX *sctx, SSL_CTX *cctx, struct hs_result *r)
{
	SSL *s = SSL_new(sctx), *c = SSL_new(cctx);
	BIO *sb = NULL, *cb = NULL;
	bool sdone = false, cdone = false, failed = false;
	EVP_PKEY *tmp = NULL;

	memset(r, 0, sizeof(*r));
	assert_non_null(s);
	assert_non_null(c);
	assert_int_equal(BIO_new_bio_pair(&sb, 0, &cb, 0), 1);
	SSL_set_bio(s, sb, sb);
	SSL_set_bio(c, cb, cb);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	for (int i = 0; i < 64 && !(sdone && cdone) && !failed; i++) {
		SSL *ends[2] = {c, s};
		bool *done[2] = {&cdone, &sdone};
		for (int k = 0; k < 2 && !failed; k++) {
			int rc, e;
			if (*done[k])
				continue;
			if ((rc = SSL_do_handshake(ends[k])) == 1) {
				*done[k] = true;
				continue;
			}
			e = SSL_get_error(ends[k], rc);
			if (e != SSL_ERROR_WANT_READ &&
			    e != SSL_ERROR_WANT_WRITE) {
				failed = true;
				ERR_error_string_n(ERR_peek_last_error(),
				                   r->error, sizeof(r->error));
			}
		}
	}
	r->ok = sdone && cdone && !failed;
	if (r->ok) {
		snprintf(r->version, sizeof(r->version), "%s",
		         SSL_get_version(c));
		snprintf(r->suite, sizeof(r->suite), "%s",
		         SSL_CIPHER_standard_name(SSL_get_current_cipher(c)));
		if (SSL_get_peer_tmp_key(c, &tmp) == 1) {
			r->tmp_bits = EVP_PKEY_get_bits(tmp);
			EVP_PKEY_free(tmp);
		}
		if (SSL_get_peer_signature_type_nid(c, &r->sig_nid) != 1)
			r->sig_nid = NID_undef;
	}
	ERR_clear_error();
	SSL_free(s);
	SSL_free(c);
}

struct capture {
	struct tls_hello h;
	int calls;
};

static int
hello_cb(SSL *ssl, int *alert, void *arg)
{
	struct capture *cap = arg;

	(void)alert;
	tls_hello_capture(ssl, &cap->h);
	cap->calls++;
	return SSL_CLIENT_HELLO_SUCCESS;
}

/* The suites the context has, TLS <= 1.2 only, as IANA names. */
static size_t
ctx_suites(SSL_CTX *ctx, const char **out, size_t max)
{
	STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(ctx);
	size_t n = 0;

	for (int i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
		const SSL_CIPHER *c = sk_SSL_CIPHER_value(sk, i);
		if (SSL_CIPHER_get_protocol_id(c) >> 8 == 0x13)
			continue;
		if (n < max)
			out[n] = SSL_CIPHER_standard_name(c);
		n++;
	}
	return n;
}

static bool
has_warning(const struct warns *w, const char *needle)
{
	for (size_t i = 0; i < w->n && i < MAX_WARN; i++)
		if (strstr(w->msg[i], needle) != NULL)
			return true;
	return false;
}

/* --- versions and names --- */

static void
test_version_names(void **state)
{
	static const struct {
		const char *in;
		unsigned want;
	} cases[] = {
	    {"ssl3", TLSV_SSL3},   {"tls1.0", TLSV_1_0}, {"tls1.1", TLSV_1_1},
	    {"tls1.2", TLSV_1_2},  {"TLS1.3", TLSV_1_3}, {"TLSv1", TLSV_1_0},
	    {"TLSv1.2", TLSV_1_2}, {"tls1.4", 0},        {"", 0},
	};
	static const struct {
		unsigned bit;
		const char *want;
	} names[] = {
	    {TLSV_SSL3, "SSLv3"},  {TLSV_1_0, "TLSv1"},
	    {TLSV_1_1, "TLSv1.1"}, {TLSV_1_2, "TLSv1.2"},
	    {TLSV_1_3, "TLSv1.3"}, {TLSV_1_0 | TLSV_1_1, "unknown"},
	};
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		unsigned got = tls_version_from_str(cases[i].in);
		if (got != cases[i].want) {
			print_error("from_str(\"%s\"): got 0x%x want 0x%x\n",
			            cases[i].in, got, cases[i].want);
			bad++;
		}
	}
	assert_int_equal(tls_version_from_str(NULL), 0);
	for (size_t i = 0; i < NELEM(names); i++) {
		const char *got = tls_version_str(names[i].bit);
		if (strcmp(got, names[i].want) != 0) {
			print_error("str(0x%x): got \"%s\" want \"%s\"\n",
			            names[i].bit, got, names[i].want);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void
test_suite_names(void **state)
{
	static const struct {
		const char *label;
		const char *name;
		int want_rc;
		uint16_t want_id;
		const char *want_back; /* tls_suite_name(id) */
	} cases[] = {
	    {"ECDHE-RSA SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", 0,
	     0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"},
	    {"DHE-RSA-AES256-SHA", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", 0,
	     0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"},
	    {"CCM (one of the nine)", "TLS_DHE_RSA_WITH_AES_128_CCM", 0, 0xC09E,
	     "TLS_DHE_RSA_WITH_AES_128_CCM"},
	    {"TLS 1.3 default", "TLS_AES_256_GCM_SHA384", 0, 0x1302,
	     "TLS_AES_256_GCM_SHA384"},
	    {"TLS 1.3 not default", "TLS_AES_128_CCM_8_SHA256", 0, 0x1305,
	     "TLS_AES_128_CCM_8_SHA256"},
	    {"SCSV", "TLS_FALLBACK_SCSV", 0, 0x5600, "TLS_FALLBACK_SCSV"},
	    {"hex known", "0xc02f", 0, 0xC02F,
	     "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
	    {"hex GREASE", "0x0A0A", 0, 0x0A0A, "0x0A0A"},
	    {"hex RC4 (gone)", "0x0005", 0, 0x0005, "0x0005"},
	    {"hex short", "0x5", 0, 0x0005, "0x0005"},
	    {"RC4 by name", "TLS_RSA_WITH_RC4_128_SHA", -1, 0, NULL},
	    {"3DES by name", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", -1, 0, NULL},
	    {"OpenSSL name", "ECDHE-RSA-AES256-SHA384", -1, 0, NULL},
	    {"garbage", "TLS_NOPE", -1, 0, NULL},
	    {"hex too long", "0x12345", -1, 0, NULL},
	    {"hex empty", "0x", -1, 0, NULL},
	    {"hex junk", "0xZZ", -1, 0, NULL},
	    {"empty", "", -1, 0, NULL},
	};
	char buf[128];
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		uint16_t id = 0;
		int rc = tls_suite_id(cases[i].name, &id);
		if (rc != cases[i].want_rc ||
		    (rc == 0 && id != cases[i].want_id)) {
			print_error("%s: tls_suite_id(\"%s\") got %d/0x%04X "
			            "want %d/0x%04X\n",
			            cases[i].label, cases[i].name, rc, id,
			            cases[i].want_rc, cases[i].want_id);
			bad++;
			continue;
		}
		if (rc != 0)
			continue;
		tls_suite_name(id, buf, sizeof(buf));
		if (strcmp(buf, cases[i].want_back) != 0) {
			print_error("%s: tls_suite_name(0x%04X) got \"%s\" "
			            "want \"%s\"\n",
			            cases[i].label, id, buf,
			            cases[i].want_back);
			bad++;
		}
	}
	assert_string_equal(tls_suite_name(0xC0FF, buf, sizeof(buf)), "0xC0FF");
	assert_string_equal(tls_suite_name(0xFFFF, buf, 5), "0xFF");
	assert_int_equal(tls_suite_id(NULL, NULL), -1);
	assert_int_equal(bad, 0);
}

/* --- the Schannel 2012 R2 policy --- */

static void
test_schannel_build(void **state)
{
	static const char *const want_warn[] = {
	    "suite TLS_RSA_WITH_3DES_EDE_CBC_SHA is not available in the "
	    "linked OpenSSL; not offered",
	    "suite TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA is not available in the "
	    "linked OpenSSL; not offered",
	    "suite TLS_RSA_WITH_RC4_128_SHA is not available in the linked "
	    "OpenSSL; not offered",
	    "suite TLS_RSA_WITH_RC4_128_MD5 is not available in the linked "
	    "OpenSSL; not offered",
#define ECDSA_W                                                                \
	"needs an ECDSA certificate; it will never be chosen with "            \
	"this RSA certificate"
#define DSA_W                                                                  \
	"needs a DSA certificate; it will never be chosen with this "          \
	"RSA certificate"
	    "suite TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 " ECDSA_W,
	    "suite TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 " ECDSA_W,
	    "suite TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384 " ECDSA_W,
	    "suite TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 " ECDSA_W,
	    "suite TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA " ECDSA_W,
	    "suite TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA " ECDSA_W,
	    "suite TLS_DHE_DSS_WITH_AES_256_CBC_SHA256 " DSA_W,
	    "suite TLS_DHE_DSS_WITH_AES_128_CBC_SHA256 " DSA_W,
	    "suite TLS_DHE_DSS_WITH_AES_256_CBC_SHA " DSA_W,
	    "suite TLS_DHE_DSS_WITH_AES_128_CBC_SHA " DSA_W,
	};
	struct tls_settings ts = schannel_settings();
	struct warns w;
	struct tls_policy *tp = build("schannel", &ts, &w);
	const char *got[64];
	size_t n, bad = 0;

	(void)state;
	if (w.n != NELEM(want_warn)) {
		print_warns("schannel", &w);
		fail_msg("schannel: got %zu warnings, want %zu", w.n,
		         NELEM(want_warn));
	}
	for (size_t i = 0; i < w.n; i++)
		if (strcmp(w.msg[i], want_warn[i]) != 0) {
			print_error("warning %zu: got \"%s\"\n"
			            "            want \"%s\"\n",
			            i, w.msg[i], want_warn[i]);
			bad++;
		}
	/* Every suite but the four OpenSSL lacks, in the profile's order. */
	n = ctx_suites(tls_policy_ctx(tp), got, NELEM(got));
	if (n != NELEM(schannel_suites) - 4)
		fail_msg("SSL_CTX_get_ciphers: got %zu suites, want %zu", n,
		         NELEM(schannel_suites) - 4);
	for (size_t i = 0; i < n; i++)
		if (strcmp(got[i], schannel_suites[i]) != 0) {
			print_error("suite %zu: got %s want %s\n", i + 1,
			            got[i], schannel_suites[i]);
			bad++;
		}
	/* Nothing of TLS 1.3 when TLS 1.3 is not enabled. */
	assert_int_equal(
	    sk_SSL_CIPHER_num(SSL_CTX_get_ciphers(tls_policy_ctx(tp))), (int)n);
	assert_int_equal(SSL_CTX_get_security_level(tls_policy_ctx(tp)), 0);
	assert_true(SSL_CTX_get_options(tls_policy_ctx(tp)) &
	            SSL_OP_CIPHER_SERVER_PREFERENCE);
	assert_true(SSL_CTX_get_options(tls_policy_ctx(tp)) &
	            SSL_OP_NO_COMPRESSION);
	assert_true(SSL_CTX_get_options(tls_policy_ctx(tp)) &
	            SSL_OP_NO_RENEGOTIATION);
	assert_true(SSL_CTX_get_mode(tls_policy_ctx(tp)) &
	            SSL_MODE_RELEASE_BUFFERS);
	/* A deep copy: the caller's arrays may go away. */
	assert_ptr_not_equal(tls_policy_settings(tp)->ciphers, ts.ciphers);
	assert_string_equal(tls_policy_settings(tp)->ciphers[0],
	                    schannel_suites[0]);
	tls_policy_free(tp);
	assert_int_equal(bad, 0);
}

/* The nine suites the workaround excludes (FACTS.md 3), OpenSSL names. */
static const char *const nine[] = {
    "DHE-RSA-AES256-SHA",           "DHE-RSA-AES128-CCM",
    "DHE-RSA-AES256-CCM",           "ECDHE-ECDSA-CAMELLIA128-SHA256",
    "ECDHE-RSA-CAMELLIA128-SHA256", "ECDHE-ECDSA-CAMELLIA256-SHA384",
    "ECDHE-RSA-CAMELLIA256-SHA384", "ECDHE-ECDSA-AES128-CCM",
    "ECDHE-ECDSA-AES256-CCM"};

/* An OpenSSL suite name's id, through a scratch context. */
static uint16_t
openssl_name_id(const char *name)
{
	SSL_CTX *c = SSL_CTX_new(TLS_method());
	char list[128];
	uint16_t id;

	assert_non_null(c);
	snprintf(list, sizeof(list), "%s:@SECLEVEL=0", name);
	if (SSL_CTX_set_cipher_list(c, list) != 1 ||
	    SSL_CTX_set_ciphersuites(c, "") != 1)
		fail_msg("OpenSSL does not know %s", name);
	id = SSL_CIPHER_get_protocol_id(
	    sk_SSL_CIPHER_value(SSL_CTX_get_ciphers(c), 0));
	SSL_CTX_free(c);
	return id;
}

/*
 * The gateway strings against the Schannel policy: all three negotiate
 * the server's first choice; only the workaround offers none of the nine
 * (FACTS.md 3: what tells them apart is the offer). With OpenSSL 3.0,
 * DEFAULT offers only DHE-RSA-AES256-SHA of the nine (no CCM, no
 * CAMELLIA); the long AsyncOS base offers all nine.
 */
static void
test_schannel_gateways(void **state)
{
	static const struct {
		const char *label;
		const char *ciphers;
		const char *want_suite;
		bool want_0039;
		unsigned want_nine; /* how many of the nine are offered */
	} cases[] = {
	    {"AsyncOS 15.0 (DEFAULT:!aNULL:!eNULL)", "DEFAULT:!aNULL:!eNULL",
	     "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", true, 1},
	    {"AsyncOS base", ASYNCOS_BASE,
	     "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", true, 9},
	    {"workaround (base + nine exclusions)", WORKAROUND,
	     "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", false, 0},
	};
	struct tls_settings ts = schannel_settings();
	struct warns w;
	struct tls_policy *tp = build("schannel", &ts, &w);
	struct capture cap;
	uint16_t nine_ids[NELEM(nine)];
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < NELEM(nine); i++)
		nine_ids[i] = openssl_name_id(nine[i]);
	assert_int_equal(nine_ids[0], 0x0039);
	SSL_CTX_set_client_hello_cb(tls_policy_ctx(tp), hello_cb, &cap);
	for (size_t i = 0; i < NELEM(cases); i++) {
		SSL_CTX *c = client_ctx(cases[i].ciphers, NULL, TLS1_VERSION,
		                        TLS1_2_VERSION);
		struct hs_result r;
		char desc[4096];
		unsigned got_nine = 0;

		memset(&cap, 0, sizeof(cap));
		handshake(tls_policy_ctx(tp), c, &r);
		SSL_CTX_free(c);
		tls_hello_describe(&cap.h, desc, sizeof(desc));
		for (size_t k = 0; k < NELEM(nine); k++)
			got_nine += tls_hello_offers(&cap.h, nine_ids[k]);
		if (!r.ok || strcmp(r.suite, cases[i].want_suite) != 0 ||
		    strcmp(r.version, "TLSv1.2") != 0) {
			print_error("%s: got ok=%d %s %s (%s), want %s "
			            "TLSv1.2\n",
			            cases[i].label, r.ok, r.version, r.suite,
			            r.error, cases[i].want_suite);
			bad++;
		}
		if (cap.calls != 1 ||
		    tls_hello_offers(&cap.h, 0x0039) != cases[i].want_0039 ||
		    got_nine != cases[i].want_nine ||
		    (strstr(desc, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA,") !=
		     NULL) != cases[i].want_0039) {
			print_error("%s: hello cb %d, offers 0x0039 got %d "
			            "want %d, of the nine got %u want %u: %s\n",
			            cases[i].label, cap.calls,
			            tls_hello_offers(&cap.h, 0x0039),
			            cases[i].want_0039, got_nine,
			            cases[i].want_nine, desc);
			bad++;
		}
		/* max TLS 1.2: no supported_versions, legacy 0x0303 */
		if (cap.h.versions != TLSV_1_2 ||
		    cap.h.legacy_version != 0x0303 ||
		    strncmp(desc, "TLSv1.2 suites: ", 16) != 0) {
			print_error("%s: versions 0x%x legacy 0x%04X desc "
			            "%.40s\n",
			            cases[i].label, cap.h.versions,
			            cap.h.legacy_version, desc);
			bad++;
		}
	}
	tls_policy_free(tp);
	assert_int_equal(bad, 0);
}

/* --- handshakes: versions, TLS 1.3, ECDSA, DH --- */

static char *s_tls13[] = {"TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"};
static char *s_ecdsa[] = {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                          "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"};
static char *s_dhe[] = {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                        "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"};
static char *s_rsa_only[] = {"TLS_RSA_WITH_AES_128_CBC_SHA"};

enum mod {
	MOD_NONE,
	MOD_TLS10_ONLY,
	MOD_TLS10_LEVEL1,
	MOD_HOLE_10_12,
	MOD_TLS13,
	MOD_ECDSA,
	MOD_DH1024,
	MOD_DH2048,
	MOD_DH_AUTO,
	MOD_RSA_ONLY,
};

static void
apply(struct tls_settings *ts, enum mod m)
{
	switch (m) {
	case MOD_NONE:
		break;
	case MOD_TLS10_ONLY:
		ts->versions = TLSV_1_0;
		break;
	case MOD_TLS10_LEVEL1:
		ts->versions = TLSV_1_0;
		ts->security_level = 1;
		ts->dh_bits = 0;
		break;
	case MOD_HOLE_10_12:
		ts->versions = TLSV_1_0 | TLSV_1_2;
		break;
	case MOD_TLS13:
		ts->versions = TLSV_1_2 | TLSV_1_3;
		ts->ciphersuites = s_tls13;
		ts->nciphersuites = NELEM(s_tls13);
		break;
	case MOD_ECDSA:
		ts->versions = TLSV_1_2;
		ts->key_type = TLS_KEY_ECDSA;
		ts->key_bits = 0;
		ts->ciphers = s_ecdsa;
		ts->nciphers = NELEM(s_ecdsa);
		break;
	case MOD_DH1024:
	case MOD_DH2048:
	case MOD_DH_AUTO:
		ts->versions = TLSV_1_2;
		ts->ciphers = s_dhe;
		ts->nciphers = NELEM(s_dhe);
		ts->dh_bits = m == MOD_DH1024   ? 1024
		              : m == MOD_DH2048 ? 2048
		                                : 0;
		break;
	case MOD_RSA_ONLY:
		ts->ciphers = s_rsa_only;
		ts->nciphers = NELEM(s_rsa_only);
		break;
	}
}

static void
test_handshakes(void **state)
{
	static const struct {
		const char *label;
		enum mod mod;
		const char *ciphers; /* client, TLS <= 1.2 */
		const char *suites13;
		int min, max;
		bool want_ok;
		const char *want_version;
		const char *want_suite;
		int want_tmp_bits; /* 0: not checked */
	} cases[] = {
	    {"TLS1.0 only vs client min 1.2", MOD_TLS10_ONLY, "DEFAULT", NULL,
	     TLS1_2_VERSION, TLS1_3_VERSION, false, NULL, NULL, 0},
	    {"TLS1.0 only vs legacy client", MOD_TLS10_ONLY, "DEFAULT", NULL,
	     TLS1_VERSION, TLS1_2_VERSION, true, "TLSv1",
	     "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", 256},
	    {"TLS1.0 at explicit level 1", MOD_TLS10_LEVEL1, "DEFAULT", NULL,
	     TLS1_VERSION, TLS1_2_VERSION, false, NULL, NULL, 0},
	    {"hole 1.0+1.2 vs client 1.1 only", MOD_HOLE_10_12, "DEFAULT", NULL,
	     TLS1_1_VERSION, TLS1_1_VERSION, false, NULL, NULL, 0},
	    {"hole 1.0+1.2 vs client up to 1.2", MOD_HOLE_10_12, "DEFAULT",
	     NULL, TLS1_VERSION, TLS1_2_VERSION, true, "TLSv1.2",
	     "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", 0},
	    {"TLS1.3 server order", MOD_TLS13, "DEFAULT",
	     "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384", TLS1_2_VERSION,
	     TLS1_3_VERSION, true, "TLSv1.3", "TLS_AES_256_GCM_SHA384", 0},
	    {"ECDSA key, ECDHE_ECDSA suite", MOD_ECDSA,
	     "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256", NULL,
	     TLS1_2_VERSION, TLS1_2_VERSION, true, "TLSv1.2",
	     "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0},
	    {"ECDSA key vs RSA-only client", MOD_ECDSA,
	     "ECDHE-RSA-AES128-GCM-SHA256", NULL, TLS1_2_VERSION,
	     TLS1_2_VERSION, false, NULL, NULL, 0},
	    {"dh_bits 1024, DHE-only client", MOD_DH1024, "DHE-RSA-AES256-SHA",
	     NULL, TLS1_2_VERSION, TLS1_2_VERSION, true, "TLSv1.2",
	     "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", 1024},
	    {"dh_bits 2048, DHE-only client", MOD_DH2048, "DHE-RSA-AES256-SHA",
	     NULL, TLS1_2_VERSION, TLS1_2_VERSION, true, "TLSv1.2",
	     "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", 2048},
	    {"dh_bits 0 (auto), DHE-only client", MOD_DH_AUTO,
	     "DHE-RSA-AES256-SHA", NULL, TLS1_2_VERSION, TLS1_2_VERSION, true,
	     "TLSv1.2", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", 2048},
	    {"dh_bits 1024, ECDHE client still prefers ECDHE", MOD_DH1024,
	     "DEFAULT", NULL, TLS1_2_VERSION, TLS1_2_VERSION, true, "TLSv1.2",
	     "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 0},
	    {"no shared suite", MOD_RSA_ONLY, "ECDHE-RSA-AES256-SHA", NULL,
	     TLS1_VERSION, TLS1_2_VERSION, false, NULL, NULL, 0},
	};
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct tls_settings ts = schannel_settings();
		struct warns w;
		struct tls_policy *tp;
		SSL_CTX *c;
		struct hs_result r;

		apply(&ts, cases[i].mod);
		tp = build(cases[i].label, &ts, &w);
		c = client_ctx(cases[i].ciphers, cases[i].suites13,
		               cases[i].min, cases[i].max);
		handshake(tls_policy_ctx(tp), c, &r);
		if (r.ok != cases[i].want_ok ||
		    (r.ok && (strcmp(r.version, cases[i].want_version) != 0 ||
		              strcmp(r.suite, cases[i].want_suite) != 0)) ||
		    (r.ok && cases[i].want_tmp_bits != 0 &&
		     r.tmp_bits != cases[i].want_tmp_bits)) {
			print_error(
			    "%s: got ok=%d %s %s tmp=%d [%s]; want "
			    "ok=%d %s %s tmp=%d\n",
			    cases[i].label, r.ok, r.version, r.suite,
			    r.tmp_bits, r.error, cases[i].want_ok,
			    cases[i].want_version ? cases[i].want_version : "",
			    cases[i].want_suite ? cases[i].want_suite : "",
			    cases[i].want_tmp_bits);
			bad++;
		}
		SSL_CTX_free(c);
		tls_policy_free(tp);
	}
	assert_int_equal(bad, 0);
}

/* Warnings and levels of settings that build. */
static void
test_build_warnings(void **state)
{
	static char *mixed[] = {
	    "TLS_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	    "0xC014", "0x0A0A", "TLS_PSK_WITH_AES_128_GCM_SHA256"};
	static char *rsa_cbc[] = {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
	                          "TLS_RSA_WITH_AES_128_CBC_SHA"};
	static const struct {
		const char *label;
		unsigned versions;
		int level;
		unsigned dh_bits;
		char **ciphers; /* NULL: rsa_cbc */
		size_t nciphers;
		bool tls13_list;
		int want_level;        /* -2: not checked */
		const char *want_warn; /* NULL: no warning at all */
	} cases[] = {
	    {"SSLv3 asked", TLSV_SSL3 | TLSV_1_0, -1, 0, NULL, 0, false, 0,
	     "SSLv3 is not available in the linked OpenSSL (OpenSSL 3."},
	    {"TLS1.0-1.2, auto level", TLSV_1_0 | TLSV_1_1 | TLSV_1_2, -1, 0,
	     NULL, 0, false, 0, NULL},
	    {"TLS1.0, explicit level 1", TLSV_1_0, 1, 0, NULL, 0, false, 1,
	     "security_level 1: OpenSSL 3.0 refuses"},
	    {"TLS1.2, dh 1024, auto level", TLSV_1_2, -1, 1024, NULL, 0, false,
	     1, NULL},
	    {"TLS1.2, auto level", TLSV_1_2, -1, 0, NULL, 0, false, 2, NULL},
	    {"TLS1.2, explicit level 0", TLSV_1_2, 0, 0, NULL, 0, false, 0,
	     NULL},
	    {"TLS1.3 name in ciphers", TLSV_1_2, -1, 0, mixed, NELEM(mixed),
	     false, -2, "suite TLS_AES_128_GCM_SHA256 is a TLS 1.3 suite"},
	    {"unknown hex in ciphers", TLSV_1_2, -1, 0, mixed, NELEM(mixed),
	     false, -2, "suite 0x0A0A is not known to the linked OpenSSL"},
	    {"PSK suite", TLSV_1_2, -1, 0, mixed, NELEM(mixed), false, -2,
	     "suite TLS_PSK_WITH_AES_128_GCM_SHA256 needs PSK"},
	    {"1.3 list without 1.3", TLSV_1_2, -1, 0, NULL, 0, true, -2,
	     "ciphersuites listed but TLSv1.3 is not enabled"},
	    {"ciphers without TLS <= 1.2", TLSV_1_3, -1, 0, NULL, 0, true, 2,
	     "ciphers listed but no TLS <= 1.2 version is enabled"},
	    {"TLS1.2 suites with TLS1.0 only", TLSV_1_0, -1, 0, mixed,
	     NELEM(mixed), false, 0,
	     "suite TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 needs TLSv1.2"},
	};
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct tls_settings ts = schannel_settings();
		struct warns w;
		struct tls_policy *tp;
		char err[512];
		int level;

		ts.versions = cases[i].versions;
		ts.security_level = cases[i].level;
		ts.dh_bits = cases[i].dh_bits;
		ts.ciphers = cases[i].ciphers ? cases[i].ciphers : rsa_cbc;
		ts.nciphers =
		    cases[i].ciphers ? cases[i].nciphers : NELEM(rsa_cbc);
		if (cases[i].tls13_list) {
			ts.ciphersuites = s_tls13;
			ts.nciphersuites = NELEM(s_tls13);
		}
		memset(&w, 0, sizeof(w));
		tp = tls_policy_new(&ts, NULL, NULL, NULL, collect, &w, err,
		                    sizeof(err));
		if (tp == NULL) {
			print_error("%s: tls_policy_new: %s\n", cases[i].label,
			            err);
			bad++;
			continue;
		}
		level = SSL_CTX_get_security_level(tls_policy_ctx(tp));
		if ((cases[i].want_level != -2 &&
		     level != cases[i].want_level) ||
		    (cases[i].want_warn == NULL && w.n != 0) ||
		    (cases[i].want_warn != NULL &&
		     !has_warning(&w, cases[i].want_warn))) {
			print_error(
			    "%s: level %d (want %d), %zu warnings, "
			    "want \"%s\"\n",
			    cases[i].label, level, cases[i].want_level, w.n,
			    cases[i].want_warn ? cases[i].want_warn : "(none)");
			print_warns(cases[i].label, &w);
			bad++;
		}
		tls_policy_free(tp);
	}
	assert_int_equal(bad, 0);
}

/* Settings that cannot build: NULL and one line naming the problem. */
static void
test_build_errors(void **state)
{
	static char *bad_group[] = {"P-256", "P-999"};
	static char *bad_sigalg[] = {"RSA+SHA256", "RSA+NOPE"};
	static char *gone[] = {"TLS_RSA_WITH_RC4_128_SHA",
	                       "TLS_RSA_WITH_3DES_EDE_CBC_SHA"};
	static char *ecdsa_only[] = {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"};
	static char *bad13[] = {"TLS_NOPE_SHA256"};
	static const struct {
		const char *label;
		int what;
		const char *want_err;
	} cases[] = {
	    {"unknown group", 0, "unknown group \"P-999\""},
	    {"unknown sigalg", 1, "unknown signature algorithm \"RSA+NOPE\""},
	    {"only unavailable suites", 2,
	     "none of the 2 listed TLS <= 1.2 suites is available"},
	    {"dh_bits 777", 3, "dh_bits 777"},
	    {"SSLv3 only", 4, "no TLS version left"},
	    {"ECDSA suites, RSA key", 5,
	     "no listed TLS <= 1.2 suite can be chosen with this RSA"},
	    {"bad TLS 1.3 suite only", 6,
	     "none of the 1 listed TLS 1.3 suites"},
	    {"missing cert file", 7, "cert_file /nonexistent/cert.pem: "},
	    {"ECDSA key_bits 300", 8, "ECDSA key_bits 300"},
	    {"explicit level 2, dh 1024", 9,
	     "dh_bits 1024 refused at "
	     "security level 2"},
	    {"explicit level 3, RSA 2048", 10,
	     "generated certificate refused at security level 3: ee key "
	     "too small"},
	};
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct tls_settings ts = schannel_settings();
		struct warns w;
		struct tls_policy *tp;
		char err[512] = "";
		const char *cert = NULL, *key = NULL;

		switch (cases[i].what) {
		case 0:
			ts.groups = bad_group;
			ts.ngroups = NELEM(bad_group);
			break;
		case 1:
			ts.sigalgs = bad_sigalg;
			ts.nsigalgs = NELEM(bad_sigalg);
			break;
		case 2:
			ts.ciphers = gone;
			ts.nciphers = NELEM(gone);
			break;
		case 3:
			ts.dh_bits = 777;
			break;
		case 4:
			ts.versions = TLSV_SSL3;
			break;
		case 5:
			ts.ciphers = ecdsa_only;
			ts.nciphers = NELEM(ecdsa_only);
			break;
		case 6:
			ts.versions = TLSV_1_3;
			ts.ciphersuites = bad13;
			ts.nciphersuites = NELEM(bad13);
			break;
		case 7:
			cert = "/nonexistent/cert.pem";
			key = "/nonexistent/key.pem";
			break;
		case 8:
			ts.key_type = TLS_KEY_ECDSA;
			ts.key_bits = 300;
			break;
		case 9:
			ts.versions = TLSV_1_2;
			ts.security_level = 2;
			ts.dh_bits = 1024;
			break;
		case 10:
			ts.versions = TLSV_1_2;
			ts.security_level = 3;
			ts.dh_bits = 0;
			break;
		}
		memset(&w, 0, sizeof(w));
		tp = tls_policy_new(&ts, "h", cert, key, collect, &w, err,
		                    sizeof(err));
		if (tp != NULL || strstr(err, cases[i].want_err) == NULL) {
			print_error("%s: got %s \"%s\", want NULL \"%s\"\n",
			            cases[i].label, tp ? "a policy" : "NULL",
			            err, cases[i].want_err);
			bad++;
		}
		tls_policy_free(tp);
	}
	assert_int_equal(bad, 0);
}

/* --check: read back from the SSL_CTX. */
static void
test_describe(void **state)
{
	static const char *const want[] = {
	    "TLS: versions TLSv1 TLSv1.1 TLSv1.2\n",
	    "  suites in server order (TLS <= 1.2):\n",
	    "     1. TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384 "
	    "(ECDHE-RSA-AES256-SHA384)\n",
	    "    24. TLS_DHE_DSS_WITH_AES_128_CBC_SHA (DHE-DSS-AES128-SHA) "
	    "[needs a DSA certificate",
	    "  groups: P-256 P-384\n",
	    "  DH: 1024 bits, RFC 2409 group 2",
	    "  key: RSA 2048 bits, self-signed certificate generated",
	    "  certificate: CN=mx.example.test",
	    "  security level: 0 (lowered from OpenSSL's ",
	    "  no shared suite: fatal handshake_failure alert (40)\n",
	    "  no shared version: no answer, then FIN\n",
	};
	struct tls_settings ts = schannel_settings();
	struct warns w;
	struct tls_policy *tp = build("describe", &ts, &w);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int bad = 0;

	(void)state;
	assert_non_null(f);
	tls_policy_describe(tp, f);
	fclose(f);
	for (size_t i = 0; i < NELEM(want); i++)
		if (strstr(text, want[i]) == NULL) {
			print_error("describe: missing \"%s\"\n", want[i]);
			bad++;
		}
	if (strstr(text, "RC4") != NULL || strstr(text, "3DES") != NULL ||
	    strstr(text, "25. ") != NULL)
		bad++;
	if (bad)
		print_error("describe got:\n%s", text);
	free(text);
	tls_policy_free(tp);
	assert_int_equal(bad, 0);
}

/*
 * encrypt_then_mac, session_cache, session_tickets, fallback_scsv and
 * sigalgs as the SSL_CTX has them, what a TLS 1.2 client offering
 * RSA-PSS first sees signed, and the --check lines.
 */
static void
test_extensions(void **state)
{
	static char *pkcs1[] = {"RSA+SHA256", "RSA+SHA384", "RSA+SHA1"};
	static const struct {
		const char *label;
		bool etm, cache, tickets, scsv, pkcs1_only;
		long want_cache_mode;
		size_t want_tickets; /* TLS 1.3 tickets sent */
		int want_sig;        /* what signs the ServerKeyExchange */
		const char *want[3];
	} cases[] = {
	    {"OpenSSL's defaults, no tickets (standard)",
	     true,
	     true,
	     false,
	     true,
	     false,
	     SSL_SESS_CACHE_SERVER,
	     0,
	     EVP_PKEY_RSA_PSS,
	     {"  encrypt-then-MAC (RFC 7366): yes, when the client offers it",
	      "  resumption: by session ID (server-side cache, ",
	      "  TLS_FALLBACK_SCSV (RFC 7507): honoured (inappropriate_"}},
	    {"Schannel 2012 R2 (exchange2013)",
	     false,
	     true,
	     false,
	     false,
	     true,
	     SSL_SESS_CACHE_SERVER,
	     0,
	     EVP_PKEY_RSA,
	     {"  encrypt-then-MAC (RFC 7366): never "
	      "(SSL_OP_NO_ENCRYPT_THEN_MAC)\n",
	      "; tickets: none (so no TLS 1.3 resumption)\n",
	      "  TLS_FALLBACK_SCSV (RFC 7507): ignored (the connection's"}},
	    {"nothing resumed",
	     true,
	     false,
	     false,
	     true,
	     false,
	     SSL_SESS_CACHE_OFF,
	     0,
	     EVP_PKEY_RSA_PSS,
	     {"  resumption: no session cache (empty session ID); tickets: "
	      "none",
	      "  known differences (the linked OpenSSL; no setting changes "
	      "them):\n    max_fragment_length (RFC 6066): echoed",
	      NULL}},
	    {"tickets",
	     true,
	     false,
	     true,
	     true,
	     false,
	     SSL_SESS_CACHE_OFF,
	     2,
	     EVP_PKEY_RSA_PSS,
	     {"; tickets: yes (RFC 5077; TLS 1.3 too)\n"}},
	};
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct tls_settings ts = schannel_settings();
		struct warns w;
		struct tls_policy *tp;
		SSL_CTX *ctx, *c;
		struct hs_result r;
		uint64_t op;
		char *text = NULL;
		size_t len = 0;
		FILE *f;
		bool ok;

		ts.versions = TLSV_1_2;
		ts.encrypt_then_mac = cases[i].etm;
		ts.session_cache = cases[i].cache;
		ts.session_tickets = cases[i].tickets;
		ts.fallback_scsv = cases[i].scsv;
		if (cases[i].pkcs1_only) {
			ts.sigalgs = pkcs1;
			ts.nsigalgs = NELEM(pkcs1);
		}
		tp = build(cases[i].label, &ts, &w);
		ctx = tls_policy_ctx(tp);
		op = SSL_CTX_get_options(ctx);
		c = client_ctx("ECDHE-RSA-AES256-SHA384", NULL, TLS1_2_VERSION,
		               TLS1_2_VERSION);
		handshake(ctx, c, &r);
		assert_non_null(f = open_memstream(&text, &len));
		tls_policy_describe(tp, f);
		fclose(f);
		ok = r.ok && r.sig_nid == cases[i].want_sig &&
		     !(op & SSL_OP_NO_ENCRYPT_THEN_MAC) == cases[i].etm &&
		     !(op & SSL_OP_NO_TICKET) == cases[i].tickets &&
		     SSL_CTX_get_session_cache_mode(ctx) ==
		         cases[i].want_cache_mode &&
		     SSL_CTX_get_num_tickets(ctx) == cases[i].want_tickets;
		for (size_t k = 0; k < NELEM(cases[i].want); k++)
			if (cases[i].want[k] != NULL &&
			    strstr(text, cases[i].want[k]) == NULL) {
				print_error("%s: describe lacks \"%s\"\n",
				            cases[i].label, cases[i].want[k]);
				ok = false;
			}
		if (!ok) {
			print_error("%s: ok %d sig %s options 0x%llx cache %ld "
			            "tickets %zu [%s]\n%s",
			            cases[i].label, r.ok, OBJ_nid2sn(r.sig_nid),
			            (unsigned long long)op,
			            SSL_CTX_get_session_cache_mode(ctx),
			            SSL_CTX_get_num_tickets(ctx), r.error,
			            text);
			bad++;
		}
		free(text);
		SSL_CTX_free(c);
		tls_policy_free(tp);
	}
	assert_int_equal(bad, 0);
}

/* sigalgs without RSA-PSS leave TLS 1.3 nothing to sign with an RSA key:
 * a warning, and a TLS 1.3 client indeed fails. */
static void
test_sigalgs_no_pss(void **state)
{
	static char *pkcs1[] = {"RSA+SHA256"};
	struct tls_settings ts = schannel_settings();
	struct warns w;
	struct tls_policy *tp;
	SSL_CTX *c;
	struct hs_result r;

	(void)state;
	ts.versions = TLSV_1_2 | TLSV_1_3;
	ts.sigalgs = pkcs1;
	ts.nsigalgs = NELEM(pkcs1);
	tp = build("no PSS", &ts, &w);
	if (!has_warning(&w, "sigalgs lists no RSA-PSS algorithm: TLSv1.3 "
	                     "cannot be negotiated with this RSA key")) {
		print_warns("no PSS", &w);
		fail_msg("no PSS: the warning is missing");
	}
	c = client_ctx("DEFAULT", NULL, TLS1_3_VERSION, TLS1_3_VERSION);
	handshake(tls_policy_ctx(tp), c, &r);
	assert_false(r.ok);
	SSL_CTX_free(c);
	tls_policy_free(tp);
}

/* --- ClientHello built by hand --- */

struct buf {
	unsigned char b[2048];
	size_t n;
};

static void
put(struct buf *b, const void *p, size_t n)
{
	assert_true(b->n + n <= sizeof(b->b));
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void
put8(struct buf *b, unsigned v)
{
	unsigned char c = (unsigned char)v;

	put(b, &c, 1);
}

static void
put16(struct buf *b, unsigned v)
{
	put8(b, v >> 8);
	put8(b, v & 0xFF);
}

static void
put24(struct buf *b, unsigned v)
{
	put8(b, v >> 16);
	put16(b, v & 0xFFFF);
}

static void
ext(struct buf *e, unsigned type, const void *data, size_t len)
{
	put16(e, type);
	put16(e, (unsigned)len);
	put(e, data, len);
}

/* A record holding one ClientHello with these suites and extensions. */
static void
client_hello(struct buf *out, const uint16_t *suites, size_t nsuites,
             const struct buf *exts)
{
	struct buf body = {.n = 0};

	put16(&body, 0x0303);
	for (int i = 0; i < 32; i++)
		put8(&body, (unsigned)i);
	put8(&body, 0); /* session id */
	put16(&body, (unsigned)(nsuites * 2));
	for (size_t i = 0; i < nsuites; i++)
		put16(&body, suites[i]);
	put8(&body, 1);
	put8(&body, 0); /* null compression */
	put16(&body, (unsigned)exts->n);
	put(&body, exts->b, exts->n);
	out->n = 0;
	put8(out, 22);
	put16(out, 0x0301);
	put16(out, (unsigned)(body.n + 4));
	put8(out, 1);
	put24(out, (unsigned)body.n);
	put(out, body.b, body.n);
}

/* SNI extension data: list length, type 0, name length, name. */
static size_t
sni_data(unsigned char *d, const char *name)
{
	size_t n = strlen(name);

	d[0] = (unsigned char)((n + 3) >> 8);
	d[1] = (unsigned char)((n + 3) & 0xFF);
	d[2] = 0;
	d[3] = (unsigned char)(n >> 8);
	d[4] = (unsigned char)(n & 0xFF);
	memcpy(d + 5, name, n);
	return n + 5;
}

/* Feed bytes to a fresh server SSL, then EOF; returns SSL_accept's rc. */
static int
feed_server(SSL_CTX *ctx, const unsigned char *p, size_t n, int *ssl_err)
{
	SSL *s = SSL_new(ctx);
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	int rc;

	assert_non_null(s);
	assert_non_null(rb);
	assert_non_null(wb);
	if (n > 0)
		assert_int_equal(BIO_write(rb, p, (int)n), (int)n);
	BIO_set_mem_eof_return(rb, 0);
	SSL_set_bio(s, rb, wb);
	rc = SSL_accept(s);
	*ssl_err = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(s, rc);
	ERR_clear_error();
	SSL_free(s);
	return rc;
}

static const uint16_t hello_suites[] = {0x0A0A, 0xC02F, 0x0039,
                                        0xC0AE, 0x5600, 0xEEEE};

static void
good_exts(struct buf *e, const char *sni)
{
	static const unsigned char versions[] = {6,    0x3A, 0x3A, 0x03,
	                                         0x04, 0x03, 0x03};
	static const unsigned char groups[] = {0, 4, 0x00, 0x17, 0x00, 0x18};
	unsigned char d[300];

	e->n = 0;
	ext(e, 0x0A0A, "", 0); /* GREASE */
	ext(e, TLSEXT_TYPE_server_name, d, sni_data(d, sni));
	ext(e, TLSEXT_TYPE_supported_groups, groups, sizeof(groups));
	ext(e, TLSEXT_TYPE_supported_versions, versions, sizeof(versions));
}

static void
test_hello_capture(void **state)
{
	struct tls_settings ts = schannel_settings();
	struct warns w;
	struct tls_policy *tp = build("hello", &ts, &w);
	struct capture cap;
	struct buf e, rec;
	char desc[1024];
	int want_exts[] = {TLSEXT_TYPE_server_name,
	                   TLSEXT_TYPE_supported_groups,
	                   TLSEXT_TYPE_supported_versions};
	size_t k = 0;
	int err;

	(void)state;
	SSL_CTX_set_client_hello_cb(tls_policy_ctx(tp), hello_cb, &cap);
	good_exts(&e, "mx1.Example.org");
	client_hello(&rec, hello_suites, NELEM(hello_suites), &e);
	memset(&cap, 0, sizeof(cap));
	assert_true(feed_server(tls_policy_ctx(tp), rec.b, rec.n, &err) <= 0);
	assert_int_equal(cap.calls, 1);
	/* Every suite in the client's order, GREASE and unknown kept. */
	assert_int_equal(cap.h.nsuites, NELEM(hello_suites));
	for (size_t i = 0; i < NELEM(hello_suites); i++)
		assert_int_equal(cap.h.suites[i], hello_suites[i]);
	assert_true(tls_hello_offers(&cap.h, 0x0039));
	assert_false(tls_hello_offers(&cap.h, 0x0035));
	assert_int_equal(cap.h.legacy_version, 0x0303);
	assert_int_equal(cap.h.versions, TLSV_1_2 | TLSV_1_3);
	assert_string_equal(cap.h.sni, "mx1.Example.org");
	/*
	 * Known extensions in wire order. OpenSSL 3.0 leaves out the types
	 * it does not know (the GREASE 0x0A0A one here), so they are not
	 * checked either way.
	 */
	for (size_t i = 0; i < cap.h.nexts && k < NELEM(want_exts); i++)
		if (cap.h.exts[i] == want_exts[k])
			k++;
	if (k != NELEM(want_exts))
		fail_msg("extensions: %zu of %zu known ones in order, %zu "
		         "reported",
		         k, NELEM(want_exts), cap.h.nexts);
	tls_hello_describe(&cap.h, desc, sizeof(desc));
	assert_string_equal(
	    desc,
	    "TLSv1.2,TLSv1.3 suites: 0x0A0A, "
	    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "
	    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA, "
	    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, TLS_FALLBACK_SCSV, 0xEEEE "
	    "sni=mx1.Example.org");
	/* Bounded output. */
	tls_hello_describe(&cap.h, desc, 12);
	assert_string_equal(desc, "TLSv1.2,TLS");
	tls_hello_describe(NULL, desc, sizeof(desc));
	assert_string_equal(desc, "");
	tls_policy_free(tp);
}

/*
 * Malformed input: the server must fail the handshake and never crash
 * (this is what ASan is for). Cases with a hello callback check what the
 * capture made of the broken extensions.
 */
static void
test_hello_malformed(void **state)
{
	static const unsigned char sni_long_list[] = {0x00, 0x40, 0x00, 0x00,
	                                              0x02, 'a',  'b'};
	static const unsigned char sni_long_name[] = {0x00, 0x05, 0x00, 0x00,
	                                              0x09, 'a',  'b'};
	static const unsigned char sni_short[] = {0x00};
	static const unsigned char sni_hdr_only[] = {0x00, 0x02, 0x00, 0x00};
	static const unsigned char sni_ctrl[] = {0x00, 0x06, 0x00, 0x00,
	                                         0x03, 'a',  '\n', 0};
	static const unsigned char sv_odd[] = {3, 0x03, 0x04, 0x03};
	static const unsigned char sv_long[] = {9, 0x03, 0x04};
	static const unsigned char sv_empty[] = {0};
	static const struct {
		const char *label;
		unsigned type;
		const unsigned char *data;
		size_t len;
		const char *want_sni;
		unsigned want_versions;
	} cases[] = {
	    {"SNI list longer than ext", TLSEXT_TYPE_server_name, sni_long_list,
	     sizeof(sni_long_list), "", TLSV_1_2},
	    {"SNI name longer than list", TLSEXT_TYPE_server_name,
	     sni_long_name, sizeof(sni_long_name), "", TLSV_1_2},
	    {"SNI 1 byte", TLSEXT_TYPE_server_name, sni_short,
	     sizeof(sni_short), "", TLSV_1_2},
	    {"SNI entry header cut", TLSEXT_TYPE_server_name, sni_hdr_only,
	     sizeof(sni_hdr_only), "", TLSV_1_2},
	    {"SNI with control bytes", TLSEXT_TYPE_server_name, sni_ctrl,
	     sizeof(sni_ctrl), "a??", TLSV_1_2},
	    {"supported_versions odd", TLSEXT_TYPE_supported_versions, sv_odd,
	     sizeof(sv_odd), "", TLSV_1_2},
	    {"supported_versions too long", TLSEXT_TYPE_supported_versions,
	     sv_long, sizeof(sv_long), "", TLSV_1_2},
	    {"supported_versions empty", TLSEXT_TYPE_supported_versions,
	     sv_empty, sizeof(sv_empty), "", TLSV_1_2},
	};
	static const unsigned char garbage[] = "EHLO gateway.example\r\n";
	static const unsigned char bad_record[] = {22, 3, 1, 0xFF, 0xFF, 1};
	static const unsigned char short_hello[] = {22, 3,    1, 0, 8, 1, 0,
	                                            0,  0x40, 3, 3, 0, 0};
	struct tls_settings ts = schannel_settings();
	struct warns w;
	struct tls_policy *tp = build("malformed", &ts, &w);
	SSL_CTX *ctx = tls_policy_ctx(tp);
	struct capture cap;
	struct buf e, rec, good;
	int err, bad = 0, rc;

	(void)state;
	SSL_CTX_set_client_hello_cb(ctx, hello_cb, &cap);
	for (size_t i = 0; i < NELEM(cases); i++) {
		e.n = 0;
		ext(&e, cases[i].type, cases[i].data, cases[i].len);
		client_hello(&rec, hello_suites, NELEM(hello_suites), &e);
		memset(&cap, 0, sizeof(cap));
		rc = feed_server(ctx, rec.b, rec.n, &err);
		if (rc > 0 || err == SSL_ERROR_WANT_READ || cap.calls != 1 ||
		    strcmp(cap.h.sni, cases[i].want_sni) != 0 ||
		    cap.h.versions != cases[i].want_versions ||
		    cap.h.nsuites != NELEM(hello_suites)) {
			print_error("%s: rc %d err %d calls %d sni \"%s\" "
			            "(want \"%s\") versions 0x%x (want 0x%x)\n",
			            cases[i].label, rc, err, cap.calls,
			            cap.h.sni, cases[i].want_sni,
			            cap.h.versions, cases[i].want_versions);
			bad++;
		}
	}
	/* Not TLS at all, a huge record length, a cut ClientHello. */
	rc = feed_server(ctx, garbage, sizeof(garbage) - 1, &err);
	bad += rc > 0 || err == SSL_ERROR_WANT_READ;
	rc = feed_server(ctx, bad_record, sizeof(bad_record), &err);
	bad += rc > 0 || err == SSL_ERROR_WANT_READ;
	rc = feed_server(ctx, short_hello, sizeof(short_hello), &err);
	bad += rc > 0 || err == SSL_ERROR_WANT_READ;
	rc = feed_server(ctx, NULL, 0, &err);
	bad += rc > 0 || err == SSL_ERROR_WANT_READ;
	/* Every prefix of a good hello, then every byte set to 0x00/0xFF. */
	good_exts(&e, "mx1.example.org");
	client_hello(&good, hello_suites, NELEM(hello_suites), &e);
	for (size_t n = 0; n < good.n; n++) {
		rc = feed_server(ctx, good.b, n, &err);
		if (rc > 0 || err == SSL_ERROR_WANT_READ) {
			print_error("prefix %zu: rc %d err %d\n", n, rc, err);
			bad++;
		}
	}
	for (size_t k = 0; k < good.n; k++)
		for (unsigned v = 0; v <= 0xFF; v += 0xFF) {
			rec = good;
			rec.b[k] = (unsigned char)v;
			(void)feed_server(ctx, rec.b, rec.n, &err);
		}
	tls_policy_free(tp);
	assert_int_equal(bad, 0);
}

/* --- certificate files --- */

static void
test_cert_files(void **state)
{
	char dir[] = "/tmp/test_tls_policy.XXXXXX";
	char cert[300], key[300], err[512], cmd[400];
	struct tls_settings ts = schannel_settings();
	struct tls_settings ec = schannel_settings();
	struct warns w;
	struct tls_policy *tp, *loaded, *other;
	struct stat st;
	struct hs_result r;
	SSL_CTX *c;
	X509 *a, *b;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	tp = build("write", &ts, &w);
	if (tls_policy_write_cert(tp, dir, err, sizeof(err)) != 0)
		fail_msg("tls_policy_write_cert: %s", err);
	assert_int_equal(stat(cert, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* Loaded back: the same certificate, and it serves. */
	memset(&w, 0, sizeof(w));
	loaded = tls_policy_new(&ts, "ignored", cert, key, collect, &w, err,
	                        sizeof(err));
	if (loaded == NULL)
		fail_msg("load back: %s", err);
	a = SSL_CTX_get0_certificate(tls_policy_ctx(tp));
	b = SSL_CTX_get0_certificate(tls_policy_ctx(loaded));
	assert_int_equal(X509_cmp(a, b), 0);
	c = client_ctx("DEFAULT", NULL, TLS1_2_VERSION, TLS1_2_VERSION);
	handshake(tls_policy_ctx(loaded), c, &r);
	SSL_CTX_free(c);
	if (!r.ok)
		fail_msg("handshake with loaded cert: %s", r.error);
	assert_string_equal(r.suite, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384");
	tls_policy_free(loaded);

	/* The generated certificate: CN and subjectAltName. */
	{
		char cn[128] = "";
		GENERAL_NAMES *san;
		X509_NAME_get_text_by_NID(X509_get_subject_name(a),
		                          NID_commonName, cn, sizeof(cn));
		assert_string_equal(cn, "mx.example.test");
		san = X509_get_ext_d2i(a, NID_subject_alt_name, NULL, NULL);
		assert_non_null(san);
		assert_int_equal(sk_GENERAL_NAME_num(san), 1);
		assert_int_equal(sk_GENERAL_NAME_value(san, 0)->type, GEN_DNS);
		GENERAL_NAMES_free(san);
		assert_true(X509_cmp_current_time(X509_get0_notBefore(a)) < 0);
		assert_true(X509_cmp_current_time(X509_get0_notAfter(a)) > 0);
		assert_int_equal(X509_check_issued(a, a), X509_V_OK);
	}

	/* An ECDSA key written over the RSA one: mismatch names both. */
	ec.key_type = TLS_KEY_ECDSA;
	ec.key_bits = 0;
	other = build("ecdsa", &ec, &w);
	snprintf(cmd, sizeof(cmd), "%s/ec", dir);
	assert_int_equal(mkdir(cmd, 0700), 0);
	assert_int_equal(tls_policy_write_cert(other, cmd, err, sizeof(err)),
	                 0);
	snprintf(cmd, sizeof(cmd), "%s/ec/key.pem", dir);
	loaded =
	    tls_policy_new(&ts, "h", cert, cmd, collect, &w, err, sizeof(err));
	assert_null(loaded);
	if (strstr(err, "key_file ") == NULL || strstr(err, cmd) == NULL)
		fail_msg("mismatch error does not name the file: %s", err);
	/* Not a PEM at all. */
	loaded =
	    tls_policy_new(&ts, "h", cmd, key, collect, &w, err, sizeof(err));
	assert_null(loaded);
	if (strncmp(err, "cert_file ", 10) != 0 || strstr(err, cmd) == NULL)
		fail_msg("bad cert error does not name the file: %s", err);
	/* Writing into a missing directory. */
	assert_int_equal(
	    tls_policy_write_cert(tp, "/nonexistent/dir", err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "/nonexistent/dir/cert.pem"));
	tls_policy_free(other);
	tls_policy_free(tp);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_version_names),
	    cmocka_unit_test(test_suite_names),
	    cmocka_unit_test(test_schannel_build),
	    cmocka_unit_test(test_schannel_gateways),
	    cmocka_unit_test(test_handshakes),
	    cmocka_unit_test(test_build_warnings),
	    cmocka_unit_test(test_build_errors),
	    cmocka_unit_test(test_describe),
	    cmocka_unit_test(test_extensions),
	    cmocka_unit_test(test_sigalgs_no_pss),
	    cmocka_unit_test(test_hello_capture),
	    cmocka_unit_test(test_hello_malformed),
	    cmocka_unit_test(test_cert_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
