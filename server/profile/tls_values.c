/*
 * tls_values.c - the TLS values of a profile: version names, cipher
 * suites (the form of a name, whether it is a real suite at all, whether
 * the linked OpenSSL can offer it), suite lists, DH sizes, alert names.
 *
 * Does not: build anything from them (tls_policy.c), or read the other
 * kinds of value (values.c).
 */
#include "profile_int.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

/*
 * alert_name - a TLS alert's schema name: SSL_alert_desc_string_long()
 * lower-cased, spaces as "_" ("handshake failure" -> "handshake_failure");
 * NULL when OpenSSL has no name for it
 */
const char *
alert_name(int desc, char *buf, size_t len)
{
	const char *s = SSL_alert_desc_string_long(desc);
	size_t i;

	if (desc < 0 || desc > 255 || strcmp(s, "unknown") == 0)
		return NULL;
	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = s[i] == ' ' ? '_' : (char)tolower((unsigned char)s[i]);
	buf[i] = '\0';
	return buf;
}

/* alert_from_name - the alert number of a schema name, or -1 */
static int
alert_from_name(const char *name)
{
	char buf[64];

	for (int i = 0; i < 256; i++) {
		const char *n = alert_name(i, buf, sizeof(buf));

		if (n != NULL && strcmp(n, name) == 0)
			return i;
	}
	return -1;
}

/* "ssl3, tls1.0, ..." for messages. */
static const char *
versions_known(char *buf, size_t len)
{
	const char *names[TLS_VERSION_COUNT];

	for (size_t i = 0; i < TLS_VERSION_COUNT; i++)
		names[i] = tls_version_names[i].schema;
	return join(buf, len, names, nitems(names), NULL);
}

/* get_version - one version name -> its enum tls_version_bit */
int
get_version(struct layer *l, const yaml_node_t *n, const char *what,
            unsigned *bit)
{
	char list[128];

	if (want_scalar(l, n, what, "a TLS version") < 0)
		return -1;
	if ((*bit = tls_version_from_str(sval(n))) == 0)
		return err_node(
		    l, n, "unknown TLS version \"%s\" in \"%s\" (known: %s)",
		    sval(n), what, versions_known(list, sizeof(list)));
	return 0;
}

/* get_versions - a non-empty list of versions -> bits */
int
get_versions(struct layer *l, const yaml_node_t *n, const char *what,
             unsigned *out)
{
	unsigned bits = 0, bit;

	if (n->type != YAML_SEQUENCE_NODE)
		return wrong_type(l, n, what, "a list of TLS versions");
	if (n->data.sequence.items.top == n->data.sequence.items.start)
		return err_node(l, n,
		                "\"%s\" is an empty list (list at least one "
		                "version, e.g. [tls1.2, tls1.3])",
		                what);
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *v = node(l, *it);

		if (get_version(l, v, what, &bit) < 0)
			return -1;
		if (bits & bit)
			return err_node(
			    l, v,
			    "version \"%s\" is listed twice in \"%s\" "
			    "(keep one)",
			    sval(v), what);
		bits |= bit;
	}
	*out = bits;
	return 0;
}

/* bad_suite_form - the error for a suite that is neither IANA name nor 0xHHHH
 */
int
bad_suite_form(struct layer *l, const yaml_node_t *n, const char *what)
{
	return err_node(
	    l, n,
	    "bad cipher suite \"%s\" in \"%s\" (write its IANA name, e.g. "
	    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384, or its hex code, e.g. "
	    "0xC028; OpenSSL's own names are not accepted)",
	    sval(n), what);
}

/*
 * get_suite_id - a suite for a rule condition, as the id the ClientHello
 * carries: hex codes always work, names must be known to the linked OpenSSL
 */
int
get_suite_id(struct layer *l, const yaml_node_t *n, const char *what,
             uint16_t *id)
{
	if (want_scalar(l, n, what, "a cipher suite") < 0)
		return -1;
	if (tls_suite_is_hex(sval(n), id))
		return 0;
	if (!tls_suite_is_iana(sval(n)))
		return bad_suite_form(l, n, what);
	if (tls_suite_id(sval(n), id) < 0)
		return err_node(
		    l, n,
		    "cipher suite \"%s\" in \"%s\" is unknown to the "
		    "linked OpenSSL; give its IANA hex code, e.g. "
		    "0xC0AC",
		    sval(n), what);
	return 0;
}

/* get_suite_ids - a non-empty list of suites -> ids, each id once */
int
get_suite_ids(struct layer *l, const yaml_node_t *n, const char *what,
              uint16_t **out, size_t *nout)
{
	yaml_node_item_t *b;
	size_t cnt;
	uint16_t *ids;

	if (n->type != YAML_SEQUENCE_NODE)
		return wrong_type(l, n, what, "a list of cipher suites");
	b = n->data.sequence.items.start;
	cnt = (size_t)(n->data.sequence.items.top - b);
	if (cnt == 0)
		return err_node(l, n,
		                "\"%s\" is an empty list (list at least one "
		                "cipher suite, or leave it out)",
		                what);
	ids = xcalloc(cnt, sizeof(*ids));
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *v = node(l, b[i]);

		if (get_suite_id(l, v, what, &ids[i]) < 0)
			goto fail;
		for (size_t j = 0; j < i; j++)
			if (ids[j] == ids[i]) {
				err_node(
				    l, v,
				    "cipher suite \"%s\" in \"%s\" is the "
				    "same suite (0x%04X) as \"%s\" before it "
				    "(keep one)",
				    sval(v), what, ids[i], sval(node(l, b[j])));
				goto fail;
			}
	}
	free(*out);
	*out = ids;
	*nout = cnt;
	return 0;
fail:
	free(ids);
	return -1;
}

/* get_alert - a TLS alert: a schema name or a number 0..255 */
int
get_alert(struct layer *l, const yaml_node_t *n, const char *what, int *out)
{
	uint64_t v;
	const char *end;

	if (want_scalar(l, n, what, "a TLS alert name or number") < 0)
		return -1;
	end = parse_digits(sval(n), &v);
	if (end != NULL && *end == '\0' && v <= 255) {
		*out = (int)v;
		return 0;
	}
	if (end == NULL && (*out = alert_from_name(sval(n))) >= 0)
		return 0;
	return err_node(l, n,
	                "unknown TLS alert \"%s\" for \"%s\" (use a name such "
	                "as handshake_failure, protocol_version, "
	                "internal_error or close_notify, or a number from 0 "
	                "to 255)",
	                sval(n), what);
}

/* get_str_list - a list of strings (null = empty), each checked as kind
 * says, replacing *dst */
int
get_str_list(struct layer *l, const yaml_node_t *n, const char *what,
             enum str_list kind, const char *example, char ***dst, size_t *ndst)
{
	yaml_node_item_t *b = NULL;
	size_t cnt = 0;

	if (want_list(l, n, what, "a list of strings", &b, &cnt) < 0)
		return -1;
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *v = node(l, b[i]);
		const char *s;
		uint16_t id;

		if (want_scalar(l, v, what, "a string") < 0)
			return -1;
		s = sval(v);
		if (kind == STR_SUITES && !tls_suite_is_hex(s, &id) &&
		    !tls_suite_is_iana(s))
			return bad_suite_form(l, v, what);
		if (kind == STR_SUITES13 && !tls_suite_is_iana(s))
			return err_node(
			    l, v,
			    "bad TLS 1.3 suite \"%s\" in \"%s\" (write its "
			    "IANA name, e.g. TLS_AES_256_GCM_SHA384)",
			    s, what);
		if (kind != STR_NAMES && !tls_suite_is_hex(s, &id) &&
		    !tls_suite_is_known(s))
			return err_node(
			    l, v,
			    "cipher suite \"%s\" in \"%s\" is unknown to the "
			    "linked OpenSSL and is no IANA suite name (check "
			    "the spelling, e.g. %s)",
			    s, what,
			    kind == STR_SUITES
			        ? "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
			        : "TLS_AES_128_GCM_SHA256");
		if (kind == STR_NAMES &&
		    (*s == '\0' || strpbrk(s, ":, \t") != NULL))
			return err_node(
			    l, v,
			    "bad name \"%s\" in \"%s\" (one name per "
			    "list item, e.g. %s)",
			    s, what, example);
		for (size_t j = 0; j < i; j++)
			if (strcmp(sval(node(l, b[j])), s) == 0)
				return err_node(
				    l, v,
				    "\"%s\" is listed twice in \"%s\" "
				    "(keep one)",
				    s, what);
	}
	strv_free(*dst, *ndst);
	*dst = xcalloc(cnt, sizeof(char *));
	for (size_t i = 0; i < cnt; i++)
		(*dst)[i] = xstrdup(sval(node(l, b[i])));
	*ndst = cnt;
	return 0;
}

/* get_dh_bits - 0 (OpenSSL's choice) or an RFC 7919 / OpenSSL size */
int
get_dh_bits(struct layer *l, const yaml_node_t *v, const char *what,
            unsigned *out)
{
	static const unsigned dh_sizes[] = {0, 1024, 2048, 3072, 4096, 8192};
	uint64_t u64 = 0;
	const char *end;
	bool dh_ok = false;

	if (want_scalar(l, v, what, "a number of bits") < 0)
		return -1;
	end = parse_digits(sval(v), &u64);
	for (size_t i = 0; end != NULL && *end == '\0' && i < nitems(dh_sizes);
	     i++)
		dh_ok |= u64 == dh_sizes[i];
	if (!dh_ok)
		return err_node(l, v,
		                "bad value \"%s\" for \"%s\" (use 0 for "
		                "OpenSSL's automatic choice, or 1024, 2048, "
		                "3072, 4096 or 8192)",
		                sval(v), what);
	*out = (unsigned)u64;
	return 0;
}

/* suite_available - can the linked OpenSSL offer the suite named s (an
 * IANA name or 0xHHHH)? tls13 says whether it must be a TLS 1.3 suite */
bool
suite_available(const char *s, bool tls13)
{
	const SSL_CIPHER *c;
	uint16_t id;

	if (tls_suite_id(s, &id) < 0 || (c = tls_suite_by_id(id)) == NULL)
		return false;
	return tls_suite_is_tls13(c) == tls13 && tls_suite_available(c);
}
