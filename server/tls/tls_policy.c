/*
 * tls_policy.c - a profile's TLS settings as an OpenSSL SSL_CTX.
 *
 * Does: versions (min/max plus SSL_OP_NO_* for holes), TLS <= 1.2 suites
 * by IANA name in the server's order (mapped through the linked OpenSSL's
 * own cipher table, tls_names.c), TLS 1.3 suites, groups, DH parameters,
 * signature algorithms, security level (lowered to what the settings need
 * when the profile leaves it at -1), encrypt-then-MAC, resumption (session
 * cache, tickets), the certificate (tls_cert.c), the TLS layer's own
 * callbacks (tls_conn.c, which also ignores TLS_FALLBACK_SCSV when asked),
 * and a warning for everything the linked OpenSSL cannot offer or will
 * never choose.
 *
 * Does not: sockets, bufferevents or the no_shared_* behaviours (io.c and
 * session_tls.c act on them), describe the result (tls_describe.c), read
 * YAML (profile layer), or shell out to openssl(1).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/param_build.h>

#include "tls_build.h"
#include "tls_conn.h"

/* A cipher string or an error line: long enough for every suite. */
#define CIPHER_STR_MAX 8192

/* --- building --- */

/* tls_build_warn - one warning to the caller's tls_warn_fn */
void
tls_build_warn(struct tls_build *b, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (b->warn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	b->warn(b->warn_arg, msg);
}

/* tls_build_error - the error line; clears OpenSSL's queue; returns -1 */
int
tls_build_error(struct tls_build *b, const char *fmt, ...)
{
	va_list ap;

	if (b->err != NULL && b->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(b->err, b->errlen, fmt, ap);
		va_end(ap);
	}
	ERR_clear_error();
	return -1;
}

/* tls_ssl_reason - OpenSSL's reason for the failure -- the first error
 * queued is the root cause ("no start line", a system errno), the last only
 * says where it surfaced ("PEM lib") -- then a clean error queue. */
const char *
tls_ssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	if (e != 0 && ERR_GET_LIB(e) == ERR_LIB_SYS)
		snprintf(buf, len, "%s", strerror(ERR_GET_REASON(e)));
	else if (r != NULL)
		snprintf(buf, len, "%s", r);
	else if (e != 0)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "unknown OpenSSL error");
	ERR_clear_error();
	return buf;
}

/* A copy of s, NULL for NULL; NULL also when out of memory, which the
 * caller reports (a reload must not end the process). */
static char *
strdup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void
free_strv(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static char **
dup_strv(char *const *v, size_t n, bool *oom)
{
	char **d;

	if (v == NULL || n == 0)
		return NULL;
	if ((d = calloc(n, sizeof(*d))) == NULL) {
		*oom = true;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (v[i] != NULL && (d[i] = strdup(v[i])) == NULL)
			*oom = true;
	return d;
}

/* Append s to a ':'-separated list in buf; false when it does not fit. */
static bool
list_add(char *buf, size_t len, const char *s)
{
	size_t used = strlen(buf), need = strlen(s) + (used > 0);

	if (used + need + 1 > len)
		return false;
	if (used > 0)
		buf[used++] = ':';
	memcpy(buf + used, s, strlen(s) + 1);
	return true;
}

static int
set_versions(struct tls_build *b)
{
	SSL_CTX *ctx = b->tp->ctx;
	unsigned want = b->tp->ts.versions, have;
	int lo = 0, hi = 0;

	if (want == 0)
		return 0; /* OpenSSL's defaults */
	if (want &
	    ~(unsigned)(TLSV_SSL3 | TLSV_1_0 | TLSV_1_1 | TLSV_1_2 | TLSV_1_3))
		return tls_build_error(b, "unknown TLS version bits 0x%x",
		                       want);
#ifdef OPENSSL_NO_SSL3
	if (want & TLSV_SSL3) {
		tls_build_warn(b,
		               "SSLv3 is not available in the linked OpenSSL "
		               "(OpenSSL %u.%u.%u); not offered",
		               OPENSSL_version_major(), OPENSSL_version_minor(),
		               OPENSSL_version_patch());
		want &= ~(unsigned)TLSV_SSL3;
	}
#endif
	if (want == 0)
		return tls_build_error(b, "no TLS version left to offer");
	for (size_t i = 0; i < tls_nversion_names; i++) {
		if (!(want & tls_version_names[i].bit))
			continue;
		if (lo == 0)
			lo = tls_version_names[i].protocol;
		hi = tls_version_names[i].protocol;
	}
	if (SSL_CTX_set_min_proto_version(ctx, lo) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, hi) != 1) {
		char r[256];
		return tls_build_error(b, "cannot set TLS versions: %s",
		                       tls_ssl_reason(r, sizeof(r)));
	}
	/* Holes between min and max. */
	have = want;
	if (lo < TLS1_1_VERSION && hi > TLS1_1_VERSION && !(have & TLSV_1_1))
		SSL_CTX_set_options(ctx, SSL_OP_NO_TLSv1_1);
	if (lo < TLS1_VERSION && hi > TLS1_VERSION && !(have & TLSV_1_0))
		SSL_CTX_set_options(ctx, SSL_OP_NO_TLSv1);
	if (lo < TLS1_2_VERSION && hi > TLS1_2_VERSION && !(have & TLSV_1_2))
		SSL_CTX_set_options(ctx, SSL_OP_NO_TLSv1_2);
	b->tp->ts.versions = want;
	return 0;
}

/* tls_ctx_versions - the versions the context will really negotiate */
unsigned
tls_ctx_versions(SSL_CTX *ctx)
{
	int lo = SSL_CTX_get_min_proto_version(ctx);
	int hi = SSL_CTX_get_max_proto_version(ctx);
	uint64_t op = SSL_CTX_get_options(ctx);
	unsigned v = 0;

	for (size_t i = 0; i < tls_nversion_names; i++) {
		int ver = tls_version_names[i].protocol;
#ifdef OPENSSL_NO_SSL3
		if (ver == SSL3_VERSION)
			continue;
#endif
		if ((lo != 0 && ver < lo) || (hi != 0 && ver > hi))
			continue;
		if ((ver == SSL3_VERSION && (op & SSL_OP_NO_SSLv3)) ||
		    (ver == TLS1_VERSION && (op & SSL_OP_NO_TLSv1)) ||
		    (ver == TLS1_1_VERSION && (op & SSL_OP_NO_TLSv1_1)) ||
		    (ver == TLS1_2_VERSION && (op & SSL_OP_NO_TLSv1_2)) ||
		    (ver == TLS1_3_VERSION && (op & SSL_OP_NO_TLSv1_3)))
			continue;
		v |= tls_version_names[i].bit;
	}
	return v;
}

static bool
sigalgs_use_sha1(const struct tls_settings *ts)
{
	for (size_t i = 0; i < ts->nsigalgs; i++)
		if (ts->sigalgs[i] != NULL &&
		    strcasestr(ts->sigalgs[i], "sha1") != NULL)
			return true;
	return false;
}

/*
 * OpenSSL 3.0 refuses SHA-1 and MD5-SHA1 signatures at level 1 and up, so
 * TLS 1.0/1.1 cannot be negotiated there (FACTS.md 2, openssl#15859);
 * 1024-bit DH and RSA keys need level 1 or below. An explicit level wins.
 */
static int
set_security_level(struct tls_build *b)
{
	struct tls_policy *tp = b->tp;
	const struct tls_settings *ts = &tp->ts;
	unsigned v = ts->versions; /* 0: OpenSSL's defaults, none legacy */
	int level = tp->default_level;

	if (ts->security_level >= 0) {
		level = ts->security_level;
		if (level > 0 && (v & TLS_LEGACY_VERSIONS))
			tls_build_warn(
			    b,
			    "security_level %d: OpenSSL %u.%u refuses the "
			    "SHA-1/MD5-SHA1 signatures of TLS < 1.2; TLSv1 "
			    "and TLSv1.1 will not be negotiated (use 0)",
			    level, OPENSSL_version_major(),
			    OPENSSL_version_minor());
	} else if (v & TLS_LEGACY_VERSIONS) {
		level = 0;
		tp->level_why = "TLS < 1.2 needs SHA-1/MD5-SHA1 signatures";
	} else if (sigalgs_use_sha1(ts)) {
		level = 0;
		tp->level_why = "SHA-1 signature algorithms";
	} else if (level > 1 && ((ts->dh_bits > 0 && ts->dh_bits < 2048) ||
	                         (ts->key_type == TLS_KEY_RSA &&
	                          ts->key_bits > 0 && ts->key_bits < 2048))) {
		level = ts->dh_bits > 0 && ts->dh_bits < 1024 ? 0 : 1;
		tp->level_why = "DH or RSA key below 2048 bits";
	}
	SSL_CTX_set_security_level(tp->ctx, level);
	tp->level = level;
	return 0;
}

/* --- DH --- */

static EVP_PKEY *
dh_from_prime(BIGNUM *p)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *g = BN_new();

	if (p == NULL || bld == NULL || g == NULL || !BN_set_word(g, 2) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, p) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, g) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (pctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_KEY_PARAMETERS, params) !=
	        1)
		pkey = NULL;
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(g);
	BN_free(p);
	return pkey;
}

static EVP_PKEY *
dh_named(const char *group)
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM params[2];

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
	                                             (char *)group, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (pctx == NULL || EVP_PKEY_paramgen_init(pctx) != 1 ||
	    EVP_PKEY_CTX_set_params(pctx, params) != 1 ||
	    EVP_PKEY_paramgen(pctx, &pkey) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(pctx);
	return pkey;
}

/*
 * Fixed groups, as OpenSSL 3.0's own automatic choice uses them
 * (ssl_get_auto_dh: RFC 2409 group 2 below 2048 bits, RFC 3526 above).
 * OpenSSL 3.0 has no "modp_1024" group name ("dh_1024_160" is the
 * different RFC 5114 group), so 1024 comes from BN_get_rfc2409_prime_1024.
 */
static int
set_dh(struct tls_build *b)
{
	struct tls_policy *tp = b->tp;
	unsigned bits = tp->ts.dh_bits;
	EVP_PKEY *pkey = NULL;
	char name[32], r[256];

	if (bits == 0) {
		SSL_CTX_set_dh_auto(tp->ctx, 1);
		tp->dh_desc = "automatic (OpenSSL picks by key size)";
		return 0;
	}
	switch (bits) {
	case 1024:
		pkey = dh_from_prime(BN_get_rfc2409_prime_1024(NULL));
		tp->dh_desc = "RFC 2409 group 2 (1024-bit MODP), g=2";
		break;
	case 1536:
	case 2048:
	case 3072:
	case 4096:
	case 6144:
	case 8192:
		snprintf(name, sizeof(name), "modp_%u", bits);
		pkey = dh_named(name);
		tp->dh_desc = "RFC 3526 MODP group (OpenSSL modp_N)";
		break;
	default:
		return tls_build_error(
		    b,
		    "dh_bits %u: use 0 (automatic), 1024, 1536, 2048, 3072, "
		    "4096, 6144 or 8192",
		    bits);
	}
	if (pkey == NULL)
		return tls_build_error(b,
		                       "dh_bits %u: cannot build the group: %s",
		                       bits, tls_ssl_reason(r, sizeof(r)));
	if (SSL_CTX_set0_tmp_dh_pkey(tp->ctx, pkey) != 1) {
		EVP_PKEY_free(pkey);
		return tls_build_error(
		    b, "dh_bits %u refused at security level %d: %s", bits,
		    tp->level, tls_ssl_reason(r, sizeof(r)));
	}
	return 0;
}

/*
 * TLS <= 1.2 suites: each name (or 0xHHHH) through OpenSSL's table, then
 * one cipher string in the profile's order. Unknown and unavailable
 * suites are warned about and left out.
 */
static int
set_ciphers(struct tls_build *b)
{
	struct tls_policy *tp = b->tp;
	const struct tls_settings *ts = &tp->ts;
	char list[CIPHER_STR_MAX] = "", lvl[32], r[256], why[160];
	size_t nlisted = 0, nchoosable = 0;
	STACK_OF(SSL_CIPHER) * sk;

	if (!tls_suites_ready())
		return tls_build_error(
		    b, "cannot read the linked OpenSSL's suites");
	if (!(tls_ctx_versions(tp->ctx) & TLS12_AND_BELOW)) {
		if (ts->nciphers > 0)
			tls_build_warn(
			    b, "ciphers listed but no TLS <= 1.2 version is "
			       "enabled; not offered");
		return 0;
	}
	if (ts->nciphers == 0) {
		snprintf(list, sizeof(list), "DEFAULT");
	} else {
		for (size_t i = 0; i < ts->nciphers; i++) {
			const char *name = ts->ciphers[i];
			const SSL_CIPHER *c = NULL;
			uint16_t id;

			if (name == NULL)
				continue;
			if (tls_suite_id(name, &id) != 0) {
				c = NULL; /* a name the linked OpenSSL lacks */
			} else if ((c = tls_suite_by_id(id)) == NULL) {
				/* only a hex code gets here */
				tls_build_warn(b,
				               "suite %s is not known to the "
				               "linked OpenSSL; not offered",
				               name);
				continue;
			}
			if (c == NULL || !tls_suite_available(c)) {
				tls_build_warn(
				    b,
				    "suite %s is not available in the linked "
				    "OpenSSL; not offered",
				    name);
				continue;
			}
			if (tls_suite_is_tls13(c)) {
				tls_build_warn(
				    b,
				    "suite %s is a TLS 1.3 suite; list it "
				    "under ciphersuites; not offered here",
				    name);
				continue;
			}
			if (!list_add(list, sizeof(list),
			              SSL_CIPHER_get_name(c)))
				return tls_build_error(b, "too many suites");
			nlisted++;
		}
		if (nlisted == 0) {
			if (tls_ctx_versions(tp->ctx) & TLS12_AND_BELOW)
				return tls_build_error(
				    b,
				    "none of the %zu listed TLS <= 1.2 suites "
				    "is available in the linked OpenSSL",
				    ts->nciphers);
			snprintf(list, sizeof(list), "DEFAULT");
		}
	}
	snprintf(lvl, sizeof(lvl), "@SECLEVEL=%d", tp->level);
	if (!list_add(list, sizeof(list), lvl))
		return tls_build_error(b, "too many suites");
	if (SSL_CTX_set_cipher_list(tp->ctx, list) != 1)
		return tls_build_error(b,
		                       "OpenSSL refused the suites \"%s\": %s",
		                       list, tls_ssl_reason(r, sizeof(r)));
	if (ts->nciphers == 0 || nlisted == 0)
		return 0;
	/* What the context has now: warn about what cannot be chosen. */
	sk = SSL_CTX_get_ciphers(tp->ctx);
	for (int i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
		const SSL_CIPHER *c = sk_SSL_CIPHER_value(sk, i);
		if (tls_suite_is_tls13(c))
			continue;
		if (tls_never_chosen(tp, c, why, sizeof(why)) != NULL)
			tls_build_warn(b, "suite %s %s", tls_suite_iana(c),
			               why);
		else
			nchoosable++;
	}
	if (nchoosable == 0 && (tls_ctx_versions(tp->ctx) & TLS12_AND_BELOW))
		return tls_build_error(
		    b,
		    "no listed TLS <= 1.2 suite can be chosen with this %s "
		    "certificate and these versions",
		    tls_key_name(tp->key_nid));
	return 0;
}

static int
set_ciphersuites(struct tls_build *b)
{
	struct tls_policy *tp = b->tp;
	const struct tls_settings *ts = &tp->ts;
	char list[1024] = "", r[256];
	size_t n = 0;

	if (!(tls_ctx_versions(tp->ctx) & TLSV_1_3)) {
		if (ts->nciphersuites > 0)
			tls_build_warn(b,
			               "ciphersuites listed but TLSv1.3 is not "
			               "enabled; not offered");
		/* Nothing of TLS 1.3 in the suite list. */
		if (SSL_CTX_set_ciphersuites(tp->ctx, "") != 1)
			return tls_build_error(
			    b, "cannot clear the TLS 1.3 suites: %s",
			    tls_ssl_reason(r, sizeof(r)));
		return 0;
	}
	if (ts->nciphersuites == 0)
		return 0; /* OpenSSL's default */
	for (size_t i = 0; i < ts->nciphersuites; i++) {
		const char *name = ts->ciphersuites[i];
		const SSL_CIPHER *c = NULL;
		uint16_t id;

		if (name == NULL)
			continue;
		c = tls_suite_id(name, &id) == 0 ? tls_suite_by_id(id) : NULL;
		if (c == NULL || !tls_suite_available(c)) {
			tls_build_warn(
			    b,
			    "suite %s is not available in the linked OpenSSL; "
			    "not offered",
			    name);
			continue;
		}
		if (!tls_suite_is_tls13(c)) {
			tls_build_warn(
			    b,
			    "suite %s is not a TLS 1.3 suite; list it under "
			    "ciphers; not offered here",
			    name);
			continue;
		}
		if (!list_add(list, sizeof(list), SSL_CIPHER_get_name(c)))
			return tls_build_error(b, "too many TLS 1.3 suites");
		n++;
	}
	if (n == 0)
		return tls_build_error(
		    b,
		    "none of the %zu listed TLS 1.3 suites is available in "
		    "the linked OpenSSL",
		    ts->nciphersuites);
	if (SSL_CTX_set_ciphersuites(tp->ctx, list) != 1)
		return tls_build_error(
		    b, "OpenSSL refused the TLS 1.3 suites \"%s\": %s", list,
		    tls_ssl_reason(r, sizeof(r)));
	return 0;
}

/*
 * Groups and signature algorithms: each name alone first so that an
 * error names the one OpenSSL does not know, then the whole list.
 */
static int
set_list(struct tls_build *b, char *const *v, size_t n, const char *what,
         int (*set)(SSL_CTX *, const char *))
{
	char list[2048] = "", r[256];

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == NULL || v[i][0] == '\0' ||
		    strchr(v[i], ':') != NULL || set(b->tp->ctx, v[i]) != 1) {
			ERR_clear_error();
			return tls_build_error(
			    b,
			    "unknown %s \"%s\" (not known to the "
			    "linked OpenSSL)",
			    what, v[i] != NULL ? v[i] : "");
		}
		if (!list_add(list, sizeof(list), v[i]))
			return tls_build_error(b, "too many %ss", what);
	}
	if (set(b->tp->ctx, list) != 1)
		return tls_build_error(b, "OpenSSL refused the %ss \"%s\": %s",
		                       what, list,
		                       tls_ssl_reason(r, sizeof(r)));
	return 0;
}

static int
set_groups(SSL_CTX *ctx, const char *list)
{
	return (int)SSL_CTX_set1_groups_list(ctx, list);
}

static int
set_sigalgs(SSL_CTX *ctx, const char *list)
{
	return (int)SSL_CTX_set1_sigalgs_list(ctx, list);
}

/*
 * Resumption. session_cache: a server-side cache of full sessions, looked
 * up by the session ID a TLS <= 1.2 client sends back; without it the
 * ServerHello carries an empty session ID (RFC 5246 7.4.1.3: not
 * resumable). TLS 1.3 has no session IDs: it resumes by tickets only.
 * session_tickets: RFC 5077 tickets (TLS 1.3: stateless PSK tickets).
 * A session resumes only in the context it was made in (the ID context).
 */
static int
set_resumption(struct tls_build *b)
{
	static const unsigned char sid_ctx[] = "smtp-mimic";
	struct tls_policy *tp = b->tp;
	const struct tls_settings *ts = &tp->ts;
	char r[256];

	SSL_CTX_set_session_cache_mode(tp->ctx, ts->session_cache
	                                            ? SSL_SESS_CACHE_SERVER
	                                            : SSL_SESS_CACHE_OFF);
	if (SSL_CTX_set_session_id_context(tp->ctx, sid_ctx,
	                                   sizeof(sid_ctx) - 1) != 1)
		return tls_build_error(b,
		                       "cannot set the session ID context: %s",
		                       tls_ssl_reason(r, sizeof(r)));
	if (ts->session_tickets)
		SSL_CTX_clear_options(tp->ctx, SSL_OP_NO_TICKET);
	else
		SSL_CTX_set_options(tp->ctx, SSL_OP_NO_TICKET);
	/* TLS 1.3 resumes only by tickets: none are sent without them (not
	 * even the stateful kind that would name a cached session). */
	SSL_CTX_set_num_tickets(tp->ctx, ts->session_tickets ? 2 : 0);
	return 0;
}

/* TLS 1.3 signs with RSA only by RSA-PSS (RFC 8446 4.2.3): a signature
 * list without it leaves no TLS 1.3 handshake for an RSA key. */
static void
warn_no_pss(struct tls_build *b)
{
	const struct tls_settings *ts = &b->tp->ts;

	if (ts->nsigalgs == 0 || !(tls_ctx_versions(b->tp->ctx) & TLSV_1_3) ||
	    (b->tp->key_nid != EVP_PKEY_RSA &&
	     b->tp->key_nid != EVP_PKEY_RSA_PSS))
		return;
	for (size_t i = 0; i < ts->nsigalgs; i++)
		if (ts->sigalgs[i] != NULL &&
		    (strncasecmp(ts->sigalgs[i], "rsa_pss", 7) == 0 ||
		     strncasecmp(ts->sigalgs[i], "RSA-PSS", 7) == 0))
			return;
	tls_build_warn(b, "sigalgs lists no RSA-PSS algorithm: TLSv1.3 "
	                  "cannot be negotiated with this RSA key");
}

static int
copy_settings(struct tls_policy *tp, const struct tls_settings *ts)
{
	bool oom = false;

	tp->ts = *ts;
	tp->ts.ciphers = dup_strv(ts->ciphers, ts->nciphers, &oom);
	tp->ts.ciphersuites =
	    dup_strv(ts->ciphersuites, ts->nciphersuites, &oom);
	tp->ts.groups = dup_strv(ts->groups, ts->ngroups, &oom);
	tp->ts.sigalgs = dup_strv(ts->sigalgs, ts->nsigalgs, &oom);
	if (tp->ts.ciphers == NULL)
		tp->ts.nciphers = 0;
	if (tp->ts.ciphersuites == NULL)
		tp->ts.nciphersuites = 0;
	if (tp->ts.groups == NULL)
		tp->ts.ngroups = 0;
	if (tp->ts.sigalgs == NULL)
		tp->ts.nsigalgs = 0;
	return oom ? -1 : 0;
}

/*
 * tls_policy_new - build the SSL_CTX. hostname goes into a generated
 * certificate's CN and subjectAltName. cert_file/key_file (PEM, chain
 * allowed) replace the generated certificate when both are non-NULL.
 * Returns NULL with one line in err when nothing usable can be built
 * (e.g. no suite at all is available, unreadable key); lesser problems go
 * to warn. The context carries the tls layer's callbacks (tls_conn.h).
 */
struct tls_policy *
tls_policy_new(const struct tls_settings *ts, const char *hostname,
               const char *cert_file, const char *key_file, tls_warn_fn warn,
               void *warn_arg, char *err, size_t errlen)
{
	struct tls_policy *tp;
	struct tls_build b = {NULL, warn, warn_arg, err, errlen};
	char r[256];

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (ts == NULL) {
		tls_build_error(&b, "no TLS settings");
		return NULL;
	}
	if ((tp = calloc(1, sizeof(*tp))) == NULL) {
		tls_build_error(&b, "out of memory");
		return NULL;
	}
	b.tp = tp;
	if (copy_settings(tp, ts) != 0 ||
	    (tp->hostname =
	         strdup_or_null(hostname != NULL && hostname[0] != '\0'
	                            ? hostname
	                            : "localhost")) == NULL) {
		tls_build_error(&b, "out of memory");
		goto fail;
	}
	if ((tp->ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_build_error(&b, "SSL_CTX_new: %s",
		                tls_ssl_reason(r, sizeof(r)));
		goto fail;
	}
	tp->default_level = SSL_CTX_get_security_level(tp->ctx);
	/*
	 * No compression (CRIME), no renegotiation; idle sessions give their
	 * buffers back. Tickets and the session cache: set_resumption().
	 */
	SSL_CTX_set_options(tp->ctx,
	                    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(tp->ctx, SSL_MODE_RELEASE_BUFFERS);
	tls_conn_install(tp->ctx,
	                 ts->fallback_scsv ? 0 : TLS_CONN_IGNORE_FALLBACK_SCSV);
	if (ts->server_preference)
		SSL_CTX_set_options(tp->ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (!ts->encrypt_then_mac)
		SSL_CTX_set_options(tp->ctx, SSL_OP_NO_ENCRYPT_THEN_MAC);
	if (set_versions(&b) != 0 || set_resumption(&b) != 0 ||
	    set_security_level(&b) != 0 ||
	    tls_cert_set(&b, cert_file, key_file) != 0 || set_dh(&b) != 0 ||
	    set_ciphers(&b) != 0 || set_ciphersuites(&b) != 0 ||
	    set_list(&b, tp->ts.groups, tp->ts.ngroups, "group", set_groups) !=
	        0 ||
	    set_list(&b, tp->ts.sigalgs, tp->ts.nsigalgs, "signature algorithm",
	             set_sigalgs) != 0)
		goto fail;
	warn_no_pss(&b);
	ERR_clear_error();
	return tp;
fail:
	tls_policy_free(tp);
	return NULL;
}

/* tls_policy_free - free the policy and its SSL_CTX */
void
tls_policy_free(struct tls_policy *tp)
{
	if (tp == NULL)
		return;
	SSL_CTX_free(tp->ctx);
	free_strv(tp->ts.ciphers, tp->ts.nciphers);
	free_strv(tp->ts.ciphersuites, tp->ts.nciphersuites);
	free_strv(tp->ts.groups, tp->ts.ngroups);
	free_strv(tp->ts.sigalgs, tp->ts.nsigalgs);
	free(tp->hostname);
	free(tp);
}

/* tls_policy_ctx - the SSL_CTX to create SSL objects from */
SSL_CTX *
tls_policy_ctx(const struct tls_policy *tp)
{
	return tp != NULL ? tp->ctx : NULL;
}

/* tls_policy_settings - the settings it was built from */
const struct tls_settings *
tls_policy_settings(const struct tls_policy *tp)
{
	return tp != NULL ? &tp->ts : NULL;
}
