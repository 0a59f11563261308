/*
 * tls_cert.c - the policy's certificate and key: a self-signed one
 * generated in memory (RSA or ECDSA, CN and subjectAltName from the
 * hostname), or a PEM chain and key loaded from files; and writing them
 * out (cert.pem, key.pem, mode 0600) for --write-cert.
 *
 * Does not: decide the security level (tls_policy.c, which runs first:
 * a key refused at that level is an error here), or write anything but
 * on tls_policy_write_cert.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls_build.h"

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
gen_key(struct tls_build *b)
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
			tls_build_error(
			    b, "ECDSA key_bits %u: use 256, 384 or 521",
			    ts->key_bits);
			return NULL;
		}
		if ((k = EVP_EC_gen(curve)) == NULL)
			tls_build_error(b,
			                "cannot generate an ECDSA %s key: %s",
			                curve, tls_ssl_reason(r, sizeof(r)));
	} else {
		unsigned bits = ts->key_bits != 0 ? ts->key_bits : 2048;
		if ((k = EVP_RSA_gen(bits)) == NULL)
			tls_build_error(b,
			                "cannot generate an RSA %u-bit key: %s",
			                bits, tls_ssl_reason(r, sizeof(r)));
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
load_files(struct tls_build *b, const char *cert_file, const char *key_file)
{
	SSL_CTX *ctx = b->tp->ctx;
	char r[256];
	const char *hint;

	ERR_clear_error(); /* only this load's reasons below */
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		hint = security_reason(ERR_peek_last_error())
		           ? " (security_level 0 accepts it)"
		           : "";
		tls_ssl_reason(r, sizeof(r));
		return tls_build_error(b, "cert_file %s: %s%s", cert_file, r,
		                       hint);
	}
	ERR_clear_error();
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		hint = security_reason(ERR_peek_last_error())
		           ? " (security_level 0 accepts it)"
		           : "";
		tls_ssl_reason(r, sizeof(r));
		return tls_build_error(b, "key_file %s: %s%s", key_file, r,
		                       hint);
	}
	ERR_clear_error();
	if (SSL_CTX_check_private_key(ctx) != 1)
		return tls_build_error(
		    b, "key_file %s does not match cert_file %s: %s", key_file,
		    cert_file, tls_ssl_reason(r, sizeof(r)));
	return 0;
}

/* tls_cert_set - load cert_file/key_file, or generate key and
 * certificate in memory; sets generated, key_nid, key_bits */
int
tls_cert_set(struct tls_build *b, const char *cert_file, const char *key_file)
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
			rc = tls_build_error(
			    b, "cannot build a certificate for %s: %s",
			    tp->hostname, tls_ssl_reason(r, sizeof(r)));
		else if (SSL_CTX_use_certificate(tp->ctx, x) != 1 ||
		         SSL_CTX_use_PrivateKey(tp->ctx, key) != 1)
			rc = tls_build_error(
			    b,
			    "generated certificate refused at security level "
			    "%d: %s",
			    tp->level, tls_ssl_reason(r, sizeof(r)));
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
		         ok ? strerror(errno) : tls_ssl_reason(r, sizeof(r)));
		return -1;
	}
	if ((f = open_0600(dir, "key.pem", path, sizeof(path))) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
	if (fclose(f) != 0 || !ok) {
		snprintf(err, errlen, "%s: cannot write: %s", path,
		         ok ? strerror(errno) : tls_ssl_reason(r, sizeof(r)));
		return -1;
	}
	return 0;
}
