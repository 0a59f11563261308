/*
 * values.c - typed values: read one YAML node as a bool, count, size,
 * duration, close mode, regex, reply, TLS version or suite, word list ...
 * with a file:line:column error naming the key.
 *
 * Does not: know which key is which (the section loaders do).
 */
#include "profile_int.h"
#include "template.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/*
 * A TLS alert's schema name: SSL_alert_desc_string_long() lower-cased,
 * spaces as "_" ("handshake failure" -> "handshake_failure"); NULL when
 * OpenSSL has no name for it.
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

int
get_bool(struct layer *l, const yaml_node_t *n, const char *what, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};

	if (want_scalar(l, n, what, "true or false") < 0)
		return -1;
	for (size_t i = 0; i < nitems(yes); i++) {
		if (strcasecmp(sval(n), yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(sval(n), no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return err_node(l, n, "bad value \"%s\" for \"%s\" (use true or false)",
	                sval(n), what);
}

/* Leading decimal digits of s into *v; NULL on overflow or no digits. */
const char *
parse_digits(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (!isdigit((unsigned char)*s))
		return NULL;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		if (x > (UINT64_MAX - d) / 10)
			return NULL;
		x = x * 10 + d;
	}
	*v = x;
	return s;
}

int
get_count(struct layer *l, const yaml_node_t *n, const char *what,
          unsigned *out)
{
	uint64_t v;
	const char *end;

	if (want_scalar(l, n, what, "a whole number") < 0)
		return -1;
	end = parse_digits(sval(n), &v);
	if (end == NULL || *end != '\0' || v > UINT_MAX)
		return err_node(
		    l, n,
		    "bad number \"%s\" for \"%s\" (use a whole number from 0 "
		    "to %u)",
		    sval(n), what, UINT_MAX);
	*out = (unsigned)v;
	return 0;
}

/* Bytes, with an optional K, M or G suffix (1024-based). */
int
get_bytes(struct layer *l, const yaml_node_t *n, const char *what, uint64_t max,
          uint64_t *out)
{
	uint64_t v, mul = 1;
	const char *end;

	if (want_scalar(l, n, what, "a size in bytes") < 0)
		return -1;
	end = parse_digits(sval(n), &v);
	if (end != NULL) {
		switch (*end) {
		case 'k':
		case 'K':
			mul = 1024, end++;
			break;
		case 'm':
		case 'M':
			mul = 1024 * 1024, end++;
			break;
		case 'g':
		case 'G':
			mul = 1024 * 1024 * 1024, end++;
			break;
		}
	}
	if (end == NULL || *end != '\0')
		return err_node(
		    l, n,
		    "bad size \"%s\" for \"%s\" (use a number of bytes, "
		    "optionally with K, M or G, e.g. 36M)",
		    sval(n), what);
	if (v > max / mul)
		return err_node(
		    l, n,
		    "size \"%s\" for \"%s\" is too large (at most %llu "
		    "bytes)",
		    sval(n), what, (unsigned long long)max);
	*out = v * mul;
	return 0;
}

/* A duration: a bare number is ms, or with ms, s, m or h. */
int
get_duration(struct layer *l, const yaml_node_t *n, const char *what,
             unsigned *out)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {
	    {"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
	uint64_t v;
	const char *end;

	if (want_scalar(l, n, what, "a duration") < 0)
		return -1;
	end = parse_digits(sval(n), &v);
	for (size_t i = 0; end != NULL && i < nitems(units); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (v > UINT_MAX / units[i].ms)
			return err_node(
			    l, n,
			    "duration \"%s\" for \"%s\" is too long (at "
			    "most %u ms, about 49 days)",
			    sval(n), what, UINT_MAX);
		*out = (unsigned)(v * units[i].ms);
		return 0;
	}
	return err_node(
	    l, n,
	    "bad duration \"%s\" for \"%s\" (use a number with ms, s, m or "
	    "h, e.g. 250ms, 300s, 5m; a bare number is milliseconds)",
	    sval(n), what);
}

int
get_close(struct layer *l, const yaml_node_t *n, const char *what,
          enum close_how *out)
{
	static const enum close_how ok[] = {CLOSE_FIN, CLOSE_RST, CLOSE_SILENT};

	if (want_scalar(l, n, what, "fin, rst or silent") < 0)
		return -1;
	for (size_t i = 0; i < nitems(ok); i++)
		if (strcmp(sval(n), close_how_names[ok[i]]) == 0) {
			*out = ok[i];
			return 0;
		}
	return err_node(l, n,
	                "bad value \"%s\" for \"%s\" (use fin, rst or silent)",
	                sval(n), what);
}

int
get_regex(struct layer *l, const yaml_node_t *n, const char *what,
          char **pattern, regex_t *re)
{
	regex_t tmp;
	int rc;

	if (want_scalar(l, n, what, "a regular expression") < 0)
		return -1;
	rc = regcomp(&tmp, sval(n), REG_EXTENDED | REG_ICASE | REG_NOSUB);
	if (rc != 0) {
		char why[256];

		regerror(rc, &tmp, why, sizeof(why));
		return err_node(
		    l, n,
		    "bad regular expression \"%s\" for \"%s\": %s (use POSIX "
		    "extended syntax, e.g. \"^unknown@\")",
		    sval(n), what, why);
	}
	if (*pattern != NULL)
		regfree(re);
	free(*pattern);
	*re = tmp;
	*pattern = xstrdup(sval(n));
	return 0;
}

/* Check one reply line; i of n lines. */
static int
check_reply_line(struct layer *l, const yaml_node_t *n, const char *what,
                 size_t i, size_t nlines)
{
	const char *s = sval(n);
	char at[32] = "";

	if (want_line(l, n, what, "use a list of strings, one per reply line") <
	    0)
		return -1;
	if (nlines > 1)
		snprintf(at, sizeof(at), "line %zu of ", i + 1);
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    !isdigit((unsigned char)s[2]) || s[0] < '2' || s[0] > '5' ||
	    (s[3] != '\0' && s[3] != ' ' && s[3] != '-'))
		return err_node(
		    l, n,
		    "bad reply code in %s\"%s\": \"%.40s\" (start with a "
		    "three-digit code from 200 to 599, then a space)",
		    at, what, s);
	if (i + 1 < nlines && s[3] != '-')
		return err_node(
		    l, n,
		    "%s\"%s\" needs \"-\" after the code, it is not the last "
		    "line (write \"%.3s-\" on every line but the last)",
		    at, what, s);
	if (i + 1 == nlines && s[3] == '-' && nlines > 1)
		return err_node(
		    l, n,
		    "last line of \"%s\" needs a space after the code, not "
		    "\"-\" (write \"%.3s \" on the last line)",
		    what, s);
	if (i + 1 == nlines && s[3] == '-')
		return err_node(
		    l, n,
		    "\"%s\" is a one-line reply and needs a space after the "
		    "code, not \"-\" (write \"%.3s \", or use a list for "
		    "several lines)",
		    what, s);
	return check_tpl(l, n, what);
}

int
get_reply(struct layer *l, const yaml_node_t *n, const char *what,
          struct reply_text *r)
{
	if (n->type == YAML_SCALAR_NODE && !is_null(n)) {
		if (check_reply_line(l, n, what, 0, 1) < 0)
			return -1;
		reply_set1(r, sval(n));
		return 0;
	}
	if (n->type == YAML_SEQUENCE_NODE) {
		yaml_node_item_t *b = n->data.sequence.items.start;
		size_t cnt = (size_t)(n->data.sequence.items.top - b);

		if (cnt == 0)
			return err_node(
			    l, n,
			    "\"%s\" is an empty list (give at least one "
			    "reply line)",
			    what);
		for (size_t i = 0; i < cnt; i++) {
			yaml_node_t *it = node(l, b[i]);

			if (it->type != YAML_SCALAR_NODE || is_null(it))
				return wrong_type(
				    l, it, what,
				    "a string for each reply line");
			if (check_reply_line(l, it, what, i, cnt) < 0)
				return -1;
		}
		reply_free(r);
		r->lines = xcalloc(cnt, sizeof(char *));
		for (size_t i = 0; i < cnt; i++)
			r->lines[i] = xstrdup(sval(node(l, b[i])));
		r->n = cnt;
		return 0;
	}
	return wrong_type(l, n, what, "a string or a list of strings");
}

/* "ssl3, tls1.0, ..." for messages. */
static const char *
versions_known(char *buf, size_t len)
{
	const char *names[nitems(tls_versions)];

	for (size_t i = 0; i < nitems(tls_versions); i++)
		names[i] = tls_versions[i].name;
	return join(buf, len, names, nitems(names), NULL);
}

/* One version name -> its enum tls_version_bit. */
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

/* A non-empty list of versions -> bits. */
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

/* "0xHHHH": the raw id a ClientHello carries. */
bool
suite_is_hex(const char *s, uint16_t *id)
{
	unsigned v = 0;

	if (s[0] != '0' || s[1] != 'x' || strlen(s) != 6)
		return false;
	for (s += 2; *s != '\0'; s++) {
		if (!isxdigit((unsigned char)*s))
			return false;
		v = v * 16 +
		    (unsigned)(isdigit((unsigned char)*s)
		                   ? *s - '0'
		                   : tolower((unsigned char)*s) - 'a' + 10);
	}
	*id = (uint16_t)v;
	return true;
}

/* "TLS_[A-Z0-9_]+": the form of an IANA suite name. */
bool
suite_is_iana(const char *s)
{
	if (strncmp(s, "TLS_", 4) != 0 || s[4] == '\0')
		return false;
	for (s += 4; *s != '\0'; s++)
		if (!isupper((unsigned char)*s) &&
		    !isdigit((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

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
 * A suite for a rule condition, as the id the ClientHello carries: hex
 * codes always work, names must be known to the linked OpenSSL.
 */
int
get_suite_id(struct layer *l, const yaml_node_t *n, const char *what,
             uint16_t *id)
{
	if (want_scalar(l, n, what, "a cipher suite") < 0)
		return -1;
	if (suite_is_hex(sval(n), id))
		return 0;
	if (!suite_is_iana(sval(n)))
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

/* A non-empty list of suites -> ids, each id once. */
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

/* A word from names[] (NULL entries skipped) -> its index. */
int
get_choice(struct layer *l, const yaml_node_t *n, const char *what,
           const char *const *names, size_t nnames, int *out)
{
	char use[160];
	size_t off = 0, left = 0;

	for (size_t i = 0; i < nnames; i++)
		left += names[i] != NULL;
	/* "a, b or c" */
	use[0] = '\0';
	for (size_t i = 0; i < nnames; i++) {
		int w;

		if (names[i] == NULL)
			continue;
		left--;
		w = snprintf(use + off, sizeof(use) - off, "%s%s",
		             off == 0    ? ""
		             : left == 0 ? " or "
		                         : ", ",
		             names[i]);
		if (w > 0 && (size_t)w < sizeof(use) - off)
			off += (size_t)w;
	}
	if (want_scalar(l, n, what, use) < 0)
		return -1;
	for (size_t i = 0; i < nnames; i++)
		if (names[i] != NULL && strcmp(sval(n), names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	return err_node(l, n, "bad value \"%s\" for \"%s\" (use %s)", sval(n),
	                what, use);
}

/* A whole number min..max (min >= 0). */
int
get_range(struct layer *l, const yaml_node_t *n, const char *what, int min,
          int max, int *out)
{
	uint64_t v;
	const char *end;

	if (want_scalar(l, n, what, "a whole number") < 0)
		return -1;
	end = parse_digits(sval(n), &v);
	if (end == NULL || *end != '\0' || v < (uint64_t)min ||
	    v > (uint64_t)max)
		return err_node(
		    l, n,
		    "bad value \"%s\" for \"%s\" (use a whole number "
		    "from %d to %d)",
		    sval(n), what, min, max);
	*out = (int)v;
	return 0;
}

/* RFC 5321 4.1.1.1: ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
bool
is_ehlo_keyword(const char *s)
{
	if (!isalnum((unsigned char)*s))
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '-')
			return false;
	return true;
}

char *
xstrdup_upper(const char *s)
{
	char *u = xstrdup(s);

	for (char *c = u; *c != '\0'; c++)
		*c = (char)toupper((unsigned char)*c);
	return u;
}

/*
 * A list of words (null = empty) replacing *dst. Duplicates are errors,
 * compared without case.
 */
int
get_words(struct layer *l, const yaml_node_t *n, const char *what,
          enum word_type type, char ***dst, size_t *ndst)
{
	static const char *const hint[] = {
	    [WORD_VERB] = "one verb per list item, e.g. HELO",
	    [WORD_KEYWORD] = "one EHLO keyword per list item, without "
	                     "parameters, e.g. 8BITMIME",
	    [WORD_HEADER] = "one header name per list item, without the "
	                    "colon, e.g. DKIM-Signature",
	};
	yaml_node_item_t *b = NULL;
	size_t cnt = 0;

	if (n->type == YAML_SEQUENCE_NODE) {
		b = n->data.sequence.items.start;
		cnt = (size_t)(n->data.sequence.items.top - b);
	} else if (!is_null(n)) {
		return wrong_type(l, n, what, "a list of words");
	}
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *v = node(l, b[i]);
		const char *s;
		bool ok;

		if (want_scalar(l, v, what, "a word") < 0)
			return -1;
		s = sval(v);
		ok = *s != '\0';
		if (type == WORD_KEYWORD)
			ok = is_ehlo_keyword(s);
		for (const char *c = s; ok && *c != '\0'; c++)
			if (!isgraph((unsigned char)*c) ||
			    (type == WORD_HEADER && *c == ':'))
				ok = false;
		if (!ok)
			return err_node(l, v, "bad word \"%s\" in \"%s\" (%s)",
			                s, what, hint[type]);
		for (size_t j = 0; j < i; j++)
			if (strcasecmp(sval(node(l, b[j])), s) == 0)
				return err_node(
				    l, v,
				    "\"%s\" is listed twice in \"%s\" (keep "
				    "one)",
				    s, what);
	}
	strv_free(*dst, *ndst);
	*dst = xcalloc(cnt, sizeof(char *));
	for (size_t i = 0; i < cnt; i++)
		(*dst)[i] = type == WORD_HEADER
		                ? xstrdup(sval(node(l, b[i])))
		                : xstrdup_upper(sval(node(l, b[i])));
	*ndst = cnt;
	return 0;
}

/* A TLS alert: a schema name or a number 0..255. */
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

int
load_probability(struct layer *l, const yaml_node_t *n, const char *what,
                 double *out)
{
	char *end;
	double v;

	if (want_scalar(l, n, what, "a number") < 0)
		return -1;
	errno = 0;
	v = strtod(sval(n), &end);
	if (errno != 0 || end == sval(n) || *end != '\0' || !(v > 0.0) ||
	    !(v <= 1.0) || isspace((unsigned char)sval(n)[0]))
		return err_node(
		    l, n,
		    "bad probability \"%s\" for \"%s\" (use a number greater "
		    "than 0 and at most 1, e.g. 0.25)",
		    sval(n), what);
	*out = v;
	return 0;
}

/* get_str_list - a list of strings (null = empty), each checked as kind
 * says, replacing *dst */
int
get_str_list(struct layer *l, const yaml_node_t *n, const char *what,
             enum str_list kind, const char *example, char ***dst, size_t *ndst)
{
	yaml_node_item_t *b = NULL;
	size_t cnt = 0;

	if (n->type == YAML_SEQUENCE_NODE) {
		b = n->data.sequence.items.start;
		cnt = (size_t)(n->data.sequence.items.top - b);
	} else if (!is_null(n)) {
		return wrong_type(l, n, what, "a list of strings");
	}
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *v = node(l, b[i]);
		const char *s;
		uint16_t id;

		if (want_scalar(l, v, what, "a string") < 0)
			return -1;
		s = sval(v);
		if (kind == STR_SUITES && !suite_is_hex(s, &id) &&
		    !suite_is_iana(s))
			return bad_suite_form(l, v, what);
		if (kind == STR_SUITES13 && !suite_is_iana(s))
			return err_node(
			    l, v,
			    "bad TLS 1.3 suite \"%s\" in \"%s\" (write its "
			    "IANA name, e.g. TLS_AES_256_GCM_SHA384)",
			    s, what);
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
