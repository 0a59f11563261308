/*
 * values.c - typed values: read one YAML node as a bool, count, size,
 * duration, close mode, regex, reply, choice, range, word list or
 * probability, with a file:line:column error naming the key.
 *
 * Does not: know which key is which (the schema rows do), or read TLS
 * values (tls_values.c).
 */
#include "profile_int.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* get_bool - true/yes/on or false/no/off */
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

/*
 * parse_digits - leading decimal digits of s into *v; NULL on overflow or no
 * digits
 */
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

/* get_count - a whole number 0 .. UINT_MAX */
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

/* get_bytes - bytes, with an optional K, M or G suffix (1024-based) */
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

/* get_duration - a duration: a bare number is ms, or with ms, s, m or h */
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

/* get_close - fin, rst or silent */
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

/* get_regex - a POSIX ERE, compiled case-blind */
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

/* get_reply - a reply: a string or a list of lines, each checked */
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

/* get_choice - a word from names[] (NULL entries skipped) -> its index */
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

/* get_range - a whole number min..max (min >= 0) */
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

/*
 * is_ehlo_keyword - RFC 5321 4.1.1.1: ehlo-keyword = (ALPHA / DIGIT) *(ALPHA
 * / DIGIT / "-")
 */
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

/* xstrdup_upper - xstrdup, upper-cased */
char *
xstrdup_upper(const char *s)
{
	char *u = xstrdup(s);

	for (char *c = u; *c != '\0'; c++)
		*c = (char)toupper((unsigned char)*c);
	return u;
}

/*
 * get_words - a list of words (null = empty) replacing *dst. Duplicates
 * are errors, compared without case
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

	if (want_list(l, n, what, "a list of words", &b, &cnt) < 0)
		return -1;
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

/* load_probability - a probability, 0 < p <= 1 */
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
