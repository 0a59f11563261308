/*
 * tls_policy.c - a profile's TLS settings as an OpenSSL SSL_CTX, suite
 * names through OpenSSL, and what a ClientHello offered.
 *
 * Does: versions (min/max plus SSL_OP_NO_* for holes), TLS <= 1.2 suites
 * by IANA name in the server's order (mapped through the linked OpenSSL's
 * own cipher table, never a table kept here), TLS 1.3 suites, groups, DH
 * parameters, signature algorithms, security level (lowered to what the
 * settings need when the profile leaves it at -1), a self-signed
 * certificate generated in memory or one loaded from PEM files, warnings
 * for everything the linked OpenSSL cannot offer or will never choose,
 * a --check description read back from the SSL_CTX, and a bounded parse
 * of the ClientHello (suites, versions, extensions, SNI) inside OpenSSL's
 * client hello callback.
 *
 * Does not: sockets, bufferevents or the no_shared_* behaviours (io.c and
 * session.c act on them; here they are only described), decide anything
 * about a ClientHello (rules.c), read YAML (profile.c), write files except
 * on tls_policy_write_cert, or shell out to openssl(1).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls_policy.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A cipher string or an error line: long enough for every suite. */
#define CIPHER_STR_MAX 8192

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

/* --- versions --- */

static const struct {
	unsigned bit;
	int version;      /* OpenSSL's constant */
	const char *name; /* OpenSSL's name (SSL_get_version) */
	const char *alias;
} versions[] = {
    {TLSV_SSL3, SSL3_VERSION, "SSLv3", "ssl3"},
    {TLSV_1_0, TLS1_VERSION, "TLSv1", "tls1.0"},
    {TLSV_1_1, TLS1_1_VERSION, "TLSv1.1", "tls1.1"},
    {TLSV_1_2, TLS1_2_VERSION, "TLSv1.2", "tls1.2"},
    {TLSV_1_3, TLS1_3_VERSION, "TLSv1.3", "tls1.3"},
};

/* tls_version_str - "SSLv3", "TLSv1", "TLSv1.1" ... (OpenSSL's names) */
const char *
tls_version_str(unsigned bit)
{
	for (size_t i = 0; i < NELEM(versions); i++)
		if (versions[i].bit == bit)
			return versions[i].name;
	return "unknown";
}

/* tls_version_from_str - "ssl3", "tls1.0" .. "tls1.3" -> bit; 0 unknown */
unsigned
tls_version_from_str(const char *s)
{
	if (s == NULL)
		return 0;
	for (size_t i = 0; i < NELEM(versions); i++)
		if (strcasecmp(s, versions[i].alias) == 0 ||
		    strcasecmp(s, versions[i].name) == 0)
			return versions[i].bit;
	if (strcasecmp(s, "tls1") == 0)
		return TLSV_1_0;
	return 0;
}

static unsigned
version_bit(int version)
{
	for (size_t i = 0; i < NELEM(versions); i++)
		if (versions[i].version == version)
			return versions[i].bit;
	return 0;
}

/* --- what the linked OpenSSL knows --- */

/*
 * Built once: every suite id OpenSSL's lookup knows (SSL_CIPHER_find over
 * the whole 16-bit space, a few milliseconds), and a context holding every
 * suite it can actually offer ("ALL:COMPLEMENTOFALL" plus every TLS 1.3
 * suite found). Read-only afterwards, so safe from several threads.
 */
static CRYPTO_ONCE known_once = CRYPTO_ONCE_STATIC_INIT;
static SSL_CTX *all_ctx;
static const SSL_CIPHER **known;
static size_t nknown;

static void
known_init(void)
{
	SSL *ssl;
	char tls13[1024] = "";
	size_t n = 0;

	if ((all_ctx = SSL_CTX_new(TLS_method())) == NULL ||
	    (ssl = SSL_new(all_ctx)) == NULL)
		return;
	for (unsigned id = 0; id <= 0xFFFF; id++) {
		const unsigned char b[2] = {id >> 8, id & 0xFF};
		if (SSL_CIPHER_find(ssl, b) != NULL)
			n++;
	}
	if ((known = calloc(n, sizeof(*known))) != NULL) {
		for (unsigned id = 0; id <= 0xFFFF && nknown < n; id++) {
			const unsigned char b[2] = {id >> 8, id & 0xFF};
			const SSL_CIPHER *c = SSL_CIPHER_find(ssl, b);
			if (c == NULL)
				continue;
			known[nknown++] = c;
			if (b[0] == 0x13 &&
			    strlen(tls13) + strlen(SSL_CIPHER_get_name(c)) + 2 <
			        sizeof(tls13)) {
				if (tls13[0] != '\0')
					strcat(tls13, ":");
				strcat(tls13, SSL_CIPHER_get_name(c));
			}
		}
	}
	SSL_free(ssl);
	if (SSL_CTX_set_cipher_list(all_ctx,
	                            "ALL:COMPLEMENTOFALL:@SECLEVEL=0") != 1 ||
	    SSL_CTX_set_ciphersuites(all_ctx, tls13) != 1)
		ERR_clear_error();
}

static bool
known_ready(void)
{
	return CRYPTO_THREAD_run_once(&known_once, known_init) == 1 &&
	       all_ctx != NULL && known != NULL;
}

static const char *
std_name(const SSL_CIPHER *c)
{
	const char *s = SSL_CIPHER_standard_name(c);

	return s != NULL && strcmp(s, "(NONE)") != 0 ? s
	                                             : SSL_CIPHER_get_name(c);
}

static uint16_t
cipher_id(const SSL_CIPHER *c)
{
	return SSL_CIPHER_get_protocol_id(c);
}

static const SSL_CIPHER *
known_by_id(uint16_t id)
{
	if (!known_ready())
		return NULL;
	for (size_t i = 0; i < nknown; i++)
		if (cipher_id(known[i]) == id)
			return known[i];
	return NULL;
}

static const SSL_CIPHER *
known_by_name(const char *name)
{
	if (!known_ready())
		return NULL;
	for (size_t i = 0; i < nknown; i++)
		if (strcmp(std_name(known[i]), name) == 0)
			return known[i];
	return NULL;
}

/* Can the linked OpenSSL offer c at all (compiled in, algorithms there)? */
static bool
available(const SSL_CIPHER *c)
{
	STACK_OF(SSL_CIPHER) * sk;

	if (!known_ready())
		return false;
	sk = SSL_CTX_get_ciphers(all_ctx);
	for (int i = 0; i < sk_SSL_CIPHER_num(sk); i++)
		if (sk_SSL_CIPHER_value(sk, i) == c)
			return true;
	return false;
}

static bool
is_tls13(const SSL_CIPHER *c)
{
	return (cipher_id(c) >> 8) == 0x13;
}

/* "0xC013", "0xc013", "C013" (with 0x only): 0 and *id, or -1. */
static int
parse_hex_id(const char *s, uint16_t *id)
{
	unsigned long v = 0;
	size_t n;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -1;
	s += 2;
	n = strspn(s, "0123456789abcdefABCDEF");
	if (n == 0 || n > 4 || s[n] != '\0')
		return -1;
	v = strtoul(s, NULL, 16);
	*id = (uint16_t)v;
	return 0;
}

/*
 * tls_suite_id - IANA name ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA") as the
 * linked OpenSSL knows it, or a hex code "0xC013"; 0 and *id, or -1.
 */
int
tls_suite_id(const char *name, uint16_t *id)
{
	const SSL_CIPHER *c;

	if (name == NULL || id == NULL)
		return -1;
	if (parse_hex_id(name, id) == 0)
		return 0;
	if ((c = known_by_name(name)) == NULL)
		return -1;
	*id = cipher_id(c);
	return 0;
}

/* tls_suite_name - IANA name of an id, or "0xC013" when OpenSSL does not
 * know it; writes into buf and returns it */
const char *
tls_suite_name(uint16_t id, char *buf, size_t len)
{
	const SSL_CIPHER *c = known_by_id(id);

	if (len == 0)
		return buf;
	if (c != NULL)
		snprintf(buf, len, "%s", std_name(c));
	else
		snprintf(buf, len, "0x%04X", id);
	return buf;
}

/* --- building --- */

struct build {
	struct tls_policy *tp;
	tls_warn_fn warn;
	void *warn_arg;
	char *err;
	size_t errlen;
};

static void __attribute__((format(printf, 2, 3)))
warnf(struct build *b, const char *fmt, ...)
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

static int __attribute__((format(printf, 2, 3)))
errorf(struct build *b, const char *fmt, ...)
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

/* OpenSSL's reason for the failure -- the first error queued is the root
 * cause ("no start line", a system errno), the last only says where it
 * surfaced ("PEM lib") -- then a clean error queue. */
static const char *
ssl_reason(char *buf, size_t len)
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

static char *
xstrdup(const char *s)
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
set_versions(struct build *b)
{
	SSL_CTX *ctx = b->tp->ctx;
	unsigned want = b->tp->ts.versions, have;
	int lo = 0, hi = 0;

	if (want == 0)
		return 0; /* OpenSSL's defaults */
	if (want &
	    ~(unsigned)(TLSV_SSL3 | TLSV_1_0 | TLSV_1_1 | TLSV_1_2 | TLSV_1_3))
		return errorf(b, "unknown TLS version bits 0x%x", want);
#ifdef OPENSSL_NO_SSL3
	if (want & TLSV_SSL3) {
		warnf(b,
		      "SSLv3 is not available in the linked OpenSSL "
		      "(OpenSSL %u.%u.%u); not offered",
		      OPENSSL_version_major(), OPENSSL_version_minor(),
		      OPENSSL_version_patch());
		want &= ~(unsigned)TLSV_SSL3;
	}
#endif
	if (want == 0)
		return errorf(b, "no TLS version left to offer");
	for (size_t i = 0; i < NELEM(versions); i++) {
		if (!(want & versions[i].bit))
			continue;
		if (lo == 0)
			lo = versions[i].version;
		hi = versions[i].version;
	}
	if (SSL_CTX_set_min_proto_version(ctx, lo) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, hi) != 1) {
		char r[256];
		return errorf(b, "cannot set TLS versions: %s",
		              ssl_reason(r, sizeof(r)));
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

/* Versions the context will really negotiate, as bits. */
static unsigned
ctx_versions(SSL_CTX *ctx)
{
	int lo = SSL_CTX_get_min_proto_version(ctx);
	int hi = SSL_CTX_get_max_proto_version(ctx);
	uint64_t op = SSL_CTX_get_options(ctx);
	unsigned v = 0;

	for (size_t i = 0; i < NELEM(versions); i++) {
		int ver = versions[i].version;
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
		v |= versions[i].bit;
	}
	return v;
}

#define LEGACY_VERSIONS (TLSV_SSL3 | TLSV_1_0 | TLSV_1_1)
#define TLS12_AND_BELOW (LEGACY_VERSIONS | TLSV_1_2)

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
set_security_level(struct build *b)
{
	struct tls_policy *tp = b->tp;
	const struct tls_settings *ts = &tp->ts;
	unsigned v = ts->versions; /* 0: OpenSSL's defaults, none legacy */
	int level = tp->default_level;

	if (ts->security_level >= 0) {
		level = ts->security_level;
		if (level > 0 && (v & LEGACY_VERSIONS))
			warnf(b,
			      "security_level %d: OpenSSL %u.%u refuses the "
			      "SHA-1/MD5-SHA1 signatures of TLS < 1.2; TLSv1 "
			      "and TLSv1.1 will not be negotiated (use 0)",
			      level, OPENSSL_version_major(),
			      OPENSSL_version_minor());
	} else if (v & LEGACY_VERSIONS) {
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

/* --- certificate --- */

static int
add_san(X509 *x, const char *host)
{
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_OCTET_STRING *ip = a2i_IPADDRESS(host);
	int ok = 0;

	if (gens == NULL || gn == NULL)
		goto out;
	if (ip != NULL) {
		GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
		ip = NULL;
	} else {
		ASN1_IA5STRING *dns = ASN1_IA5STRING_new();
		if (dns == NULL || !ASN1_STRING_set(dns, host, -1)) {
			ASN1_IA5STRING_free(dns);
			goto out;
		}
		GENERAL_NAME_set0_value(gn, GEN_DNS, dns);
	}
	if (!sk_GENERAL_NAME_push(gens, gn))
		goto out;
	gn = NULL;
	ok = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
	                       X509V3_ADD_DEFAULT) == 1;
out:
	ASN1_OCTET_STRING_free(ip);
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(gens);
	return ok ? 0 : -1;
}

static EVP_PKEY *
gen_key(struct build *b)
{
	const struct tls_settings *ts = &b->tp->ts;
	EVP_PKEY *k = NULL;
	char r[256];

	if (ts->key_type == TLS_KEY_ECDSA) {
		const char *curve;
		switch (ts->key_bits) {
		case 0:
		case 256:
			curve = "P-256";
			break;
		case 384:
			curve = "P-384";
			break;
		case 521:
			curve = "P-521";
			break;
		default:
			errorf(b, "ECDSA key_bits %u: use 256, 384 or 521",
			       ts->key_bits);
			return NULL;
		}
		if ((k = EVP_EC_gen(curve)) == NULL)
			errorf(b, "cannot generate an ECDSA %s key: %s", curve,
			       ssl_reason(r, sizeof(r)));
	} else {
		unsigned bits = ts->key_bits != 0 ? ts->key_bits : 2048;
		if ((k = EVP_RSA_gen(bits)) == NULL)
			errorf(b, "cannot generate an RSA %u-bit key: %s", bits,
			       ssl_reason(r, sizeof(r)));
	}
	return k;
}

static X509 *
gen_cert(EVP_PKEY *key, const char *host)
{
	X509 *x = X509_new();
	BIGNUM *serial = BN_new();
	X509_NAME *name;

	if (x == NULL || serial == NULL || !X509_set_version(x, X509_VERSION_3))
		goto fail;
	/* 159 random bits, top bit set: positive, non-zero, <= 20 bytes. */
	if (!BN_rand(serial, 159, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) ||
	    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) == NULL)
		goto fail;
	if (X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400 - 3600) == NULL)
		goto fail;
	if (!X509_set_pubkey(x, key) ||
	    (name = X509_get_subject_name(x)) == NULL)
		goto fail;
	/* A CN holds at most 64 characters (RFC 5280 ub-common-name). */
	if (strlen(host) <= 64 &&
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	                                (const unsigned char *)host, -1, -1, 0))
		goto fail;
	if (!X509_set_issuer_name(x, name) || add_san(x, host) != 0 ||
	    X509_sign(x, key, EVP_sha256()) <= 0)
		goto fail;
	BN_free(serial);
	return x;
fail:
	BN_free(serial);
	X509_free(x);
	return NULL;
}

static bool
security_reason(unsigned long e)
{
	int r = ERR_GET_REASON(e);

	return ERR_GET_LIB(e) == ERR_LIB_SSL &&
	       (r == SSL_R_EE_KEY_TOO_SMALL || r == SSL_R_CA_KEY_TOO_SMALL ||
	        r == SSL_R_CA_MD_TOO_WEAK);
}

static int
load_files(struct build *b, const char *cert_file, const char *key_file)
{
	SSL_CTX *ctx = b->tp->ctx;
	char r[256];
	const char *hint;

	ERR_clear_error(); /* only this load's reasons below */
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		hint = security_reason(ERR_peek_last_error())
		           ? " (security_level 0 accepts it)"
		           : "";
		ssl_reason(r, sizeof(r));
		return errorf(b, "cert_file %s: %s%s", cert_file, r, hint);
	}
	ERR_clear_error();
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		hint = security_reason(ERR_peek_last_error())
		           ? " (security_level 0 accepts it)"
		           : "";
		ssl_reason(r, sizeof(r));
		return errorf(b, "key_file %s: %s%s", key_file, r, hint);
	}
	ERR_clear_error();
	if (SSL_CTX_check_private_key(ctx) != 1)
		return errorf(b, "key_file %s does not match cert_file %s: %s",
		              key_file, cert_file, ssl_reason(r, sizeof(r)));
	return 0;
}

static int
set_cert(struct build *b, const char *cert_file, const char *key_file)
{
	struct tls_policy *tp = b->tp;
	EVP_PKEY *key;
	X509 *x;
	char r[256];
	int rc = 0;

	if (cert_file != NULL && key_file != NULL) {
		if (load_files(b, cert_file, key_file) != 0)
			return -1;
	} else {
		if ((key = gen_key(b)) == NULL)
			return -1;
		if ((x = gen_cert(key, tp->hostname)) == NULL)
			rc = errorf(b, "cannot build a certificate for %s: %s",
			            tp->hostname, ssl_reason(r, sizeof(r)));
		else if (SSL_CTX_use_certificate(tp->ctx, x) != 1 ||
		         SSL_CTX_use_PrivateKey(tp->ctx, key) != 1)
			rc = errorf(
			    b,
			    "generated certificate refused at security level "
			    "%d: %s",
			    tp->level, ssl_reason(r, sizeof(r)));
		X509_free(x);
		EVP_PKEY_free(key);
		if (rc != 0)
			return rc;
		tp->generated = true;
	}
	key = SSL_CTX_get0_privatekey(tp->ctx);
	tp->key_nid = EVP_PKEY_get_base_id(key);
	tp->key_bits = EVP_PKEY_get_bits(key);
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
set_dh(struct build *b)
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
		return errorf(
		    b,
		    "dh_bits %u: use 0 (automatic), 1024, 1536, 2048, 3072, "
		    "4096, 6144 or 8192",
		    bits);
	}
	if (pkey == NULL)
		return errorf(b, "dh_bits %u: cannot build the group: %s", bits,
		              ssl_reason(r, sizeof(r)));
	if (SSL_CTX_set0_tmp_dh_pkey(tp->ctx, pkey) != 1) {
		EVP_PKEY_free(pkey);
		return errorf(b, "dh_bits %u refused at security level %d: %s",
		              bits, tp->level, ssl_reason(r, sizeof(r)));
	}
	return 0;
}

/* --- suites --- */

/* Key type a suite's authentication needs; 0 when any will do. */
static int
suite_key_nid(const SSL_CIPHER *c)
{
	switch (SSL_CIPHER_get_auth_nid(c)) {
	case NID_auth_rsa:
		return EVP_PKEY_RSA;
	case NID_auth_ecdsa:
		return EVP_PKEY_EC;
	case NID_auth_dss:
		return EVP_PKEY_DSA;
	default:
		return 0;
	}
}

static const char *
key_name(int nid)
{
	switch (nid) {
	case EVP_PKEY_RSA:
		return "RSA";
	case EVP_PKEY_RSA_PSS:
		return "RSA-PSS";
	case EVP_PKEY_EC:
		return "ECDSA";
	case EVP_PKEY_DSA:
		return "DSA";
	case EVP_PKEY_ED25519:
		return "Ed25519";
	case EVP_PKEY_ED448:
		return "Ed448";
	default:
		return OBJ_nid2sn(nid);
	}
}

/* Why OpenSSL will never choose c here, or NULL. */
static const char *
never_chosen(const struct tls_policy *tp, const SSL_CIPHER *c, char *buf,
             size_t len)
{
	int need = suite_key_nid(c), kx = SSL_CIPHER_get_kx_nid(c);
	unsigned v = ctx_versions(tp->ctx);
	const char *cv = SSL_CIPHER_get_version(c);

	if (need != 0 && need != tp->key_nid &&
	    !(need == EVP_PKEY_RSA && tp->key_nid == EVP_PKEY_RSA_PSS)) {
		snprintf(
		    buf, len,
		    "needs %s %s certificate; it will never be chosen with "
		    "this %s certificate",
		    need == EVP_PKEY_EC ? "an" : "a", key_name(need),
		    key_name(tp->key_nid));
		return buf;
	}
	if (kx == NID_kx_psk || kx == NID_kx_ecdhe_psk ||
	    kx == NID_kx_dhe_psk || kx == NID_kx_rsa_psk || kx == NID_kx_srp ||
	    kx == NID_kx_gost || kx == NID_kx_gost18) {
		snprintf(
		    buf, len,
		    "needs PSK, SRP or GOST, which this server does not set "
		    "up; it will never be chosen");
		return buf;
	}
	/* TLS 1.2-only suites (SHA-256/384 MACs, AEAD) with max < 1.2. */
	if (cv != NULL && strcmp(cv, "TLSv1.2") == 0 &&
	    !(v & (TLSV_1_2 | TLSV_1_3)) && v != 0) {
		snprintf(buf, len,
		         "needs TLSv1.2; it will never be chosen with these "
		         "versions");
		return buf;
	}
	return NULL;
}

/*
 * TLS <= 1.2 suites: each name (or 0xHHHH) through OpenSSL's table, then
 * one cipher string in the profile's order. Unknown and unavailable
 * suites are warned about and left out.
 */
static int
set_ciphers(struct build *b)
{
	struct tls_policy *tp = b->tp;
	const struct tls_settings *ts = &tp->ts;
	char list[CIPHER_STR_MAX] = "", lvl[32], r[256], why[160];
	size_t nlisted = 0, nchoosable = 0;
	STACK_OF(SSL_CIPHER) * sk;

	if (!known_ready())
		return errorf(b, "cannot read the linked OpenSSL's suites");
	if (!(ctx_versions(tp->ctx) & TLS12_AND_BELOW)) {
		if (ts->nciphers > 0)
			warnf(b, "ciphers listed but no TLS <= 1.2 version is "
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
			if (parse_hex_id(name, &id) == 0) {
				if ((c = known_by_id(id)) == NULL) {
					warnf(b,
					      "suite %s is not known to the "
					      "linked OpenSSL; not offered",
					      name);
					continue;
				}
			} else {
				c = known_by_name(name);
			}
			if (c == NULL || !available(c)) {
				warnf(b,
				      "suite %s is not available in the linked "
				      "OpenSSL; not offered",
				      name);
				continue;
			}
			if (is_tls13(c)) {
				warnf(b,
				      "suite %s is a TLS 1.3 suite; list it "
				      "under ciphersuites; not offered here",
				      name);
				continue;
			}
			if (!list_add(list, sizeof(list),
			              SSL_CIPHER_get_name(c)))
				return errorf(b, "too many suites");
			nlisted++;
		}
		if (nlisted == 0) {
			if (ctx_versions(tp->ctx) & TLS12_AND_BELOW)
				return errorf(
				    b,
				    "none of the %zu listed TLS <= 1.2 suites "
				    "is available in the linked OpenSSL",
				    ts->nciphers);
			snprintf(list, sizeof(list), "DEFAULT");
		}
	}
	snprintf(lvl, sizeof(lvl), "@SECLEVEL=%d", tp->level);
	if (!list_add(list, sizeof(list), lvl))
		return errorf(b, "too many suites");
	if (SSL_CTX_set_cipher_list(tp->ctx, list) != 1)
		return errorf(b, "OpenSSL refused the suites \"%s\": %s", list,
		              ssl_reason(r, sizeof(r)));
	if (ts->nciphers == 0 || nlisted == 0)
		return 0;
	/* What the context has now: warn about what cannot be chosen. */
	sk = SSL_CTX_get_ciphers(tp->ctx);
	for (int i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
		const SSL_CIPHER *c = sk_SSL_CIPHER_value(sk, i);
		if (is_tls13(c))
			continue;
		if (never_chosen(tp, c, why, sizeof(why)) != NULL)
			warnf(b, "suite %s %s", std_name(c), why);
		else
			nchoosable++;
	}
	if (nchoosable == 0 && (ctx_versions(tp->ctx) & TLS12_AND_BELOW))
		return errorf(
		    b,
		    "no listed TLS <= 1.2 suite can be chosen with this %s "
		    "certificate and these versions",
		    key_name(tp->key_nid));
	return 0;
}

static int
set_ciphersuites(struct build *b)
{
	struct tls_policy *tp = b->tp;
	const struct tls_settings *ts = &tp->ts;
	char list[1024] = "", r[256];
	size_t n = 0;

	if (!(ctx_versions(tp->ctx) & TLSV_1_3)) {
		if (ts->nciphersuites > 0)
			warnf(b, "ciphersuites listed but TLSv1.3 is not "
			         "enabled; not offered");
		/* Nothing of TLS 1.3 in the suite list. */
		if (SSL_CTX_set_ciphersuites(tp->ctx, "") != 1)
			return errorf(b, "cannot clear the TLS 1.3 suites: %s",
			              ssl_reason(r, sizeof(r)));
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
		c = parse_hex_id(name, &id) == 0 ? known_by_id(id)
		                                 : known_by_name(name);
		if (c == NULL || !available(c)) {
			warnf(
			    b,
			    "suite %s is not available in the linked OpenSSL; "
			    "not offered",
			    name);
			continue;
		}
		if (!is_tls13(c)) {
			warnf(b,
			      "suite %s is not a TLS 1.3 suite; list it under "
			      "ciphers; not offered here",
			      name);
			continue;
		}
		if (!list_add(list, sizeof(list), SSL_CIPHER_get_name(c)))
			return errorf(b, "too many TLS 1.3 suites");
		n++;
	}
	if (n == 0)
		return errorf(
		    b,
		    "none of the %zu listed TLS 1.3 suites is available in "
		    "the linked OpenSSL",
		    ts->nciphersuites);
	if (SSL_CTX_set_ciphersuites(tp->ctx, list) != 1)
		return errorf(b,
		              "OpenSSL refused the TLS 1.3 suites \"%s\": %s",
		              list, ssl_reason(r, sizeof(r)));
	return 0;
}

/*
 * Groups and signature algorithms: each name alone first so that an
 * error names the one OpenSSL does not know, then the whole list.
 */
static int
set_list(struct build *b, char *const *v, size_t n, const char *what,
         int (*set)(SSL_CTX *, const char *))
{
	char list[2048] = "", r[256];

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == NULL || v[i][0] == '\0' ||
		    strchr(v[i], ':') != NULL || set(b->tp->ctx, v[i]) != 1) {
			ERR_clear_error();
			return errorf(b,
			              "unknown %s \"%s\" (not known to the "
			              "linked OpenSSL)",
			              what, v[i] != NULL ? v[i] : "");
		}
		if (!list_add(list, sizeof(list), v[i]))
			return errorf(b, "too many %ss", what);
	}
	if (set(b->tp->ctx, list) != 1)
		return errorf(b, "OpenSSL refused the %ss \"%s\": %s", what,
		              list, ssl_reason(r, sizeof(r)));
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
 * to warn.
 */
struct tls_policy *
tls_policy_new(const struct tls_settings *ts, const char *hostname,
               const char *cert_file, const char *key_file, tls_warn_fn warn,
               void *warn_arg, char *err, size_t errlen)
{
	struct tls_policy *tp;
	struct build b = {NULL, warn, warn_arg, err, errlen};
	char r[256];

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (ts == NULL) {
		errorf(&b, "no TLS settings");
		return NULL;
	}
	if ((tp = calloc(1, sizeof(*tp))) == NULL) {
		errorf(&b, "out of memory");
		return NULL;
	}
	b.tp = tp;
	if (copy_settings(tp, ts) != 0 ||
	    (tp->hostname = xstrdup(hostname != NULL && hostname[0] != '\0'
	                                ? hostname
	                                : "localhost")) == NULL) {
		errorf(&b, "out of memory");
		goto fail;
	}
	if ((tp->ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		errorf(&b, "SSL_CTX_new: %s", ssl_reason(r, sizeof(r)));
		goto fail;
	}
	tp->default_level = SSL_CTX_get_security_level(tp->ctx);
	/*
	 * No compression (CRIME), no renegotiation, no tickets (a mock needs
	 * no resumption across processes); idle sessions give their buffers
	 * back.
	 */
	SSL_CTX_set_options(tp->ctx, SSL_OP_NO_COMPRESSION |
	                                 SSL_OP_NO_RENEGOTIATION |
	                                 SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(tp->ctx, 0);
	SSL_CTX_set_mode(tp->ctx, SSL_MODE_RELEASE_BUFFERS);
	if (ts->server_preference)
		SSL_CTX_set_options(tp->ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (set_versions(&b) != 0 || set_security_level(&b) != 0 ||
	    set_cert(&b, cert_file, key_file) != 0 || set_dh(&b) != 0 ||
	    set_ciphers(&b) != 0 || set_ciphersuites(&b) != 0 ||
	    set_list(&b, tp->ts.groups, tp->ts.ngroups, "group", set_groups) !=
	        0 ||
	    set_list(&b, tp->ts.sigalgs, tp->ts.nsigalgs, "signature algorithm",
	             set_sigalgs) != 0)
		goto fail;
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

/* --- describe --- */

static const char *
no_shared_str(enum tls_no_shared n)
{
	switch (n) {
	case TLS_NOSHARED_OPENSSL:
		return "OpenSSL's own alert";
	case TLS_NOSHARED_ALERT:
		return "fatal handshake_failure alert (40)";
	case TLS_NOSHARED_FIN:
		return "no answer, then FIN";
	case TLS_NOSHARED_RST:
		return "no answer, then RST";
	}
	return "unknown";
}

static void
describe_suites(const struct tls_policy *tp, FILE *out, bool tls13)
{
	STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(tp->ctx);
	int n = 0;
	char why[160];

	for (int i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
		const SSL_CIPHER *c = sk_SSL_CIPHER_value(sk, i);
		if (is_tls13(c) != tls13)
			continue;
		fprintf(out, "    %2d. %s (%s)", ++n, std_name(c),
		        SSL_CIPHER_get_name(c));
		if (never_chosen(tp, c, why, sizeof(why)) != NULL)
			fprintf(out, " [%s]", why);
		fputc('\n', out);
	}
	if (n == 0)
		fprintf(out, "    (none)\n");
}

/*
 * tls_policy_describe - what will actually be offered, for --check:
 * versions, then every suite by IANA name in server order (per version),
 * groups, DH size, key type, security level.
 */
void
tls_policy_describe(const struct tls_policy *tp, FILE *out)
{
	const struct tls_settings *ts;
	unsigned v;
	const char *order;

	if (tp == NULL || out == NULL)
		return;
	ts = &tp->ts;
	v = ctx_versions(tp->ctx);
	fprintf(out, "TLS: versions");
	for (size_t i = 0; i < NELEM(versions); i++)
		if (v & versions[i].bit)
			fprintf(out, " %s", versions[i].name);
	fputc('\n', out);
	order = (SSL_CTX_get_options(tp->ctx) & SSL_OP_CIPHER_SERVER_PREFERENCE)
	            ? "in server order"
	            : "in this order, the client's order wins";
	if (v & TLS12_AND_BELOW) {
		fprintf(out, "  suites %s (TLS <= 1.2):\n", order);
		describe_suites(tp, out, false);
	}
	if (v & TLSV_1_3) {
		fprintf(out, "  suites %s (TLS 1.3):\n", order);
		describe_suites(tp, out, true);
	}
	fprintf(out, "  groups:");
	if (ts->ngroups == 0)
		fprintf(out, " OpenSSL's default");
	for (size_t i = 0; i < ts->ngroups; i++)
		fprintf(out, " %s", ts->groups[i]);
	fputc('\n', out);
	if (ts->dh_bits != 0)
		fprintf(out, "  DH: %u bits, %s\n", ts->dh_bits, tp->dh_desc);
	else
		fprintf(out, "  DH: %s\n", tp->dh_desc);
	fprintf(out, "  signature algorithms:");
	if (ts->nsigalgs == 0)
		fprintf(out, " OpenSSL's default");
	for (size_t i = 0; i < ts->nsigalgs; i++)
		fprintf(out, " %s", ts->sigalgs[i]);
	fputc('\n', out);
	fprintf(out, "  key: %s %d bits, %s\n", key_name(tp->key_nid),
	        tp->key_bits,
	        tp->generated ? "self-signed certificate generated in memory"
	                      : "certificate from cert_file");
	if (tp->generated)
		fprintf(out, "  certificate: CN=%s, subjectAltName %s\n",
		        tp->hostname, tp->hostname);
	fprintf(out, "  security level: %d", tp->level);
	if (ts->security_level >= 0)
		fprintf(out, " (set by the profile)\n");
	else if (tp->level_why != NULL)
		fprintf(out, " (lowered from OpenSSL's %d: %s)\n",
		        tp->default_level, tp->level_why);
	else
		fprintf(out, " (OpenSSL's default)\n");
	fprintf(out, "  no shared suite: %s\n",
	        no_shared_str(ts->no_shared_cipher));
	fprintf(out, "  no shared version: %s\n",
	        no_shared_str(ts->no_shared_version));
	fprintf(out, "  OpenSSL: %s\n", OpenSSL_version(OPENSSL_VERSION));
}

/* --- writing the certificate --- */

static FILE *
open_0600(const char *dir, const char *name, char *path, size_t plen)
{
	int fd;
	FILE *f;

	snprintf(path, plen, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	          0600);
	if (fd < 0)
		return NULL;
	if (fchmod(fd, 0600) != 0 || (f = fdopen(fd, "w")) == NULL) {
		int e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	return f;
}

/*
 * tls_policy_write_cert - write cert.pem and key.pem into dir (only on
 * --write-cert). Returns 0 or -1 with err.
 */
int
tls_policy_write_cert(const struct tls_policy *tp, const char *dir, char *err,
                      size_t errlen)
{
	X509 *x;
	EVP_PKEY *key;
	STACK_OF(X509) *chain = NULL;
	char path[4096], r[256];
	FILE *f;
	int ok;

	if (tp == NULL || dir == NULL ||
	    (x = SSL_CTX_get0_certificate(tp->ctx)) == NULL ||
	    (key = SSL_CTX_get0_privatekey(tp->ctx)) == NULL) {
		snprintf(err, errlen, "no certificate to write");
		return -1;
	}
	if ((f = open_0600(dir, "cert.pem", path, sizeof(path))) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	ok = PEM_write_X509(f, x) == 1;
	if (ok && SSL_CTX_get0_chain_certs(tp->ctx, &chain) == 1)
		for (int i = 0; ok && i < sk_X509_num(chain); i++)
			ok = PEM_write_X509(f, sk_X509_value(chain, i)) == 1;
	if (fclose(f) != 0 || !ok) {
		snprintf(err, errlen, "%s: cannot write: %s", path,
		         ok ? strerror(errno) : ssl_reason(r, sizeof(r)));
		return -1;
	}
	if ((f = open_0600(dir, "key.pem", path, sizeof(path))) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
	if (fclose(f) != 0 || !ok) {
		snprintf(err, errlen, "%s: cannot write: %s", path,
		         ok ? strerror(errno) : ssl_reason(r, sizeof(r)));
		return -1;
	}
	return 0;
}

/* --- ClientHello --- */

/* supported_versions (RFC 8446 4.2.1): 1 length byte, then pairs. */
static unsigned
parse_supported_versions(const unsigned char *p, size_t len)
{
	unsigned v = 0;
	size_t n;

	if (len < 1)
		return 0;
	n = p[0];
	if (n + 1 > len || n % 2 != 0)
		return 0;
	for (size_t i = 1; i + 1 <= n; i += 2)
		v |= version_bit((p[i] << 8) | p[i + 1]);
	return v;
}

/*
 * server_name (RFC 6066 3): a 2-byte list length, then entries of a
 * 1-byte type, a 2-byte length and the name. The first host_name (0)
 * wins; bytes outside printable ASCII become '?' (it reaches logs).
 */
static void
parse_sni(const unsigned char *p, size_t len, char *out, size_t outlen)
{
	size_t list, off = 2;

	out[0] = '\0';
	if (len < 2 || outlen == 0)
		return;
	list = ((size_t)p[0] << 8) | p[1];
	if (list + 2 > len)
		return;
	len = list + 2;
	while (off + 3 <= len) {
		unsigned type = p[off];
		size_t n = ((size_t)p[off + 1] << 8) | p[off + 2];
		off += 3;
		if (n > len - off)
			return;
		if (type == TLSEXT_NAMETYPE_host_name) {
			size_t k = n < outlen - 1 ? n : outlen - 1;
			for (size_t i = 0; i < k; i++) {
				unsigned char ch = p[off + i];
				out[i] =
				    ch > 0x20 && ch < 0x7f ? (char)ch : '?';
			}
			out[k] = '\0';
			return;
		}
		off += n;
	}
}

/*
 * tls_hello_capture - fill h from an SSL inside its client hello callback
 * (SSL_CTX_set_client_hello_cb). Versions come from supported_versions
 * when present, else from the legacy version (TLS 1.2 and below offer
 * every version up to it that the client supports: we record that one).
 */
void
tls_hello_capture(SSL *ssl, struct tls_hello *h)
{
	const unsigned char *p;
	size_t len;
	int *exts = NULL;

	if (h == NULL)
		return;
	memset(h, 0, sizeof(*h));
	if (ssl == NULL)
		return;
	len = SSL_client_hello_get0_ciphers(ssl, &p);
	if (SSL_client_hello_isv2(ssl)) {
		/* An SSLv2-format hello (RFC 5246 E.2) lists 3-byte cipher
		 * specs; those starting with 0 are the TLS suites. */
		for (size_t i = 0; p != NULL && i + 2 < len &&
		                   h->nsuites < TLS_HELLO_MAX_SUITES;
		     i += 3)
			if (p[i] == 0)
				h->suites[h->nsuites++] =
				    (uint16_t)((p[i + 1] << 8) | p[i + 2]);
	} else {
		for (size_t i = 0; p != NULL && i + 1 < len &&
		                   h->nsuites < TLS_HELLO_MAX_SUITES;
		     i += 2)
			h->suites[h->nsuites++] =
			    (uint16_t)((p[i] << 8) | p[i + 1]);
	}
	h->legacy_version = (uint16_t)SSL_client_hello_get0_legacy_version(ssl);
	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_supported_versions, &p,
	                              &len) == 1 &&
	    p != NULL)
		h->versions = parse_supported_versions(p, len);
	if (h->versions == 0)
		h->versions = version_bit(h->legacy_version);
	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &len) ==
	        1 &&
	    p != NULL)
		parse_sni(p, len, h->sni, sizeof(h->sni));
	if (SSL_client_hello_get1_extensions_present(ssl, &exts, &len) == 1) {
		for (size_t i = 0; i < len && h->nexts < TLS_HELLO_MAX_EXTS;
		     i++)
			h->exts[h->nexts++] = exts[i];
		OPENSSL_free(exts);
	}
}

/* tls_hello_offers - does the hello offer suite id? */
bool
tls_hello_offers(const struct tls_hello *h, uint16_t id)
{
	if (h == NULL)
		return false;
	for (size_t i = 0; i < h->nsuites; i++)
		if (h->suites[i] == id)
			return true;
	return false;
}

/* Append to buf at *off, never past len; keeps buf terminated. */
static void __attribute__((format(printf, 4, 5)))
bappend(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*off = (size_t)n >= len - *off ? len : *off + (size_t)n;
}

/* tls_hello_describe - "TLSv1.2 suites: A, B, 0x5600 sni=x" for logs */
void
tls_hello_describe(const struct tls_hello *h, char *buf, size_t len)
{
	size_t off = 0;
	bool first = true;
	char name[128];

	if (buf == NULL || len == 0)
		return;
	buf[0] = '\0';
	if (h == NULL)
		return;
	for (size_t i = 0; i < NELEM(versions); i++)
		if (h->versions & versions[i].bit) {
			bappend(buf, len, &off, "%s%s", first ? "" : ",",
			        versions[i].name);
			first = false;
		}
	if (first)
		bappend(buf, len, &off, "0x%04X", h->legacy_version);
	bappend(buf, len, &off, " suites:");
	for (size_t i = 0; i < h->nsuites; i++)
		bappend(buf, len, &off, "%s %s", i > 0 ? "," : "",
		        tls_suite_name(h->suites[i], name, sizeof(name)));
	if (h->sni[0] != '\0')
		bappend(buf, len, &off, " sni=%s", h->sni);
}
