/*
 * tls_hello.c - a bounded parse of the ClientHello inside OpenSSL's
 * client hello callback: suites (SSLv2-format hellos too), versions from
 * supported_versions or the legacy version, extension types, SNI,
 * supported_groups; and a
 * one-line description for logs and transcripts.
 *
 * Does not: install callbacks (tls_conn.c), judge the hello (rules.c,
 * session_tls.c), or parse raw records: OpenSSL has framed the hello.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tls_hello.h"
#include "tls_names.h"

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
		v |= tls_version_from_protocol((p[i] << 8) | p[i + 1]);
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

/* supported_groups (RFC 8446 4.2.7): a 2-byte length, then 2-byte ids. */
static void
parse_groups(const unsigned char *p, size_t len, struct tls_hello *h)
{
	size_t n;

	if (len < 2)
		return;
	n = ((size_t)p[0] << 8) | p[1];
	if (n + 2 > len || n % 2 != 0)
		return;
	h->has_groups = true;
	for (size_t i = 2; i + 1 < n + 2 && h->ngroups < TLS_HELLO_MAX_GROUPS;
	     i += 2)
		h->groups[h->ngroups++] = (uint16_t)((p[i] << 8) | p[i + 1]);
}

/* Does the client offer at least one suite the SSL has enabled? */
static bool
shares_suite(const SSL *ssl, const struct tls_hello *h)
{
	STACK_OF(SSL_CIPHER) *ours = SSL_get_ciphers(ssl);

	for (int i = 0; ours != NULL && i < sk_SSL_CIPHER_num(ours); i++) {
		uint16_t id =
		    SSL_CIPHER_get_protocol_id(sk_SSL_CIPHER_value(ours, i));
		if (tls_hello_offers(h, id))
			return true;
	}
	return false;
}

/*
 * tls_hello_capture - fill h from an SSL inside its client hello callback
 * (SSL_CTX_set_client_hello_cb). Versions come from supported_versions
 * when present, else from the legacy version (TLS 1.2 and below offer
 * every version up to it that the client supports: we record that one).
 * shares_suite compares the suites with the ones the SSL has enabled.
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
		h->versions = tls_version_from_protocol(h->legacy_version);
	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &len) ==
	        1 &&
	    p != NULL)
		parse_sni(p, len, h->sni, sizeof(h->sni));
	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_supported_groups, &p,
	                              &len) == 1 &&
	    p != NULL)
		parse_groups(p, len, h);
	if (SSL_client_hello_get1_extensions_present(ssl, &exts, &len) == 1) {
		for (size_t i = 0; i < len && h->nexts < TLS_HELLO_MAX_EXTS;
		     i++)
			h->exts[h->nexts++] = exts[i];
		OPENSSL_free(exts);
	}
	h->shares_suite = shares_suite(ssl, h);
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
	for (size_t i = 0; i < tls_nversion_names; i++)
		if (h->versions & tls_version_names[i].bit) {
			bappend(buf, len, &off, "%s%s", first ? "" : ",",
			        tls_version_names[i].name);
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
