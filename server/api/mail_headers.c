/*
 * mail_headers.c - the header section of a message as name/value pairs
 * (see mail_headers.h).
 *
 * Does not: decode encoded words or check header syntax beyond the
 * colon; a line without one (or starting with white space before any
 * header) is skipped.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail_headers.h"
#include "transcript.h"

static json_t *
str_json(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	char *esc;

	if (j != NULL)
		return j;
	if ((esc = malloc(4 * n + 1)) == NULL)
		return json_string("");
	j = json_string(transcript_escape(s, n, esc, 4 * n + 1));
	free(esc);
	return j;
}

static void
add_header(json_t *list, const char *name, size_t nlen, const char *val,
           size_t vlen)
{
	json_t *pair = json_array();

	while (vlen > 0 && (*val == ' ' || *val == '\t')) {
		val++;
		vlen--;
	}
	while (vlen > 0 && (val[vlen - 1] == ' ' || val[vlen - 1] == '\t'))
		vlen--;
	json_array_append_new(pair, str_json(name, nlen));
	json_array_append_new(pair, str_json(val, vlen));
	json_array_append_new(list, pair);
}

/* mail_headers_json - the headers of msg, unfolded */
json_t *
mail_headers_json(const char *msg, size_t len)
{
	json_t *list = json_array();
	char *val = NULL;
	size_t vlen = 0, nlen = 0, at = 0;
	const char *name = NULL;

	if (len > MAIL_HEADERS_BYTES)
		len = MAIL_HEADERS_BYTES;
	if ((val = malloc(len + 1)) == NULL)
		return list;
	while (at < len) {
		const char *line = msg + at, *nl = memchr(line, '\n', len - at);
		size_t llen = nl != NULL ? (size_t)(nl - line) : len - at;
		const char *colon;

		at += llen + (nl != NULL);
		if (llen > 0 && line[llen - 1] == '\r')
			llen--;
		if (llen > 0 && (line[0] == ' ' || line[0] == '\t')) {
			/* a folded line: part of the value before it */
			if (name != NULL) {
				memcpy(val + vlen, line, llen);
				vlen += llen;
			}
			continue;
		}
		if (name != NULL && json_array_size(list) < MAIL_HEADERS_MAX)
			add_header(list, name, nlen, val, vlen);
		name = NULL;
		if (llen == 0)
			break; /* the end of the header section */
		if ((colon = memchr(line, ':', llen)) == NULL || colon == line)
			continue;
		name = line;
		nlen = (size_t)(colon - line);
		while (nlen > 0 &&
		       (name[nlen - 1] == ' ' || name[nlen - 1] == '\t'))
			nlen--;
		vlen = llen - (size_t)(colon + 1 - line);
		memcpy(val, colon + 1, vlen);
	}
	if (name != NULL && json_array_size(list) < MAIL_HEADERS_MAX)
		add_header(list, name, nlen, val, vlen);
	free(val);
	return list;
}

/* mail_header_get - the first value of a header */
const char *
mail_header_get(const json_t *headers, const char *name)
{
	size_t i;
	json_t *pair;

	json_array_foreach(headers, i, pair) {
		const char *n = json_string_value(json_array_get(pair, 0));

		if (n != NULL && strcasecmp(n, name) == 0)
			return json_string_value(json_array_get(pair, 1));
	}
	return NULL;
}

/* mail_contains - case-insensitive substring */
bool
mail_contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (hay == NULL)
		return false;
	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return n == 0;
}

/* mail_header_match - "Name:value" or "Name" */
bool
mail_header_match(const json_t *headers, const char *spec)
{
	const char *colon = strchr(spec, ':'), *want;
	size_t nlen = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
	size_t i;
	json_t *pair;

	want = colon != NULL ? colon + 1 : NULL;
	while (want != NULL && (*want == ' ' || *want == '\t'))
		want++;
	json_array_foreach(headers, i, pair) {
		const char *n = json_string_value(json_array_get(pair, 0));
		const char *v = json_string_value(json_array_get(pair, 1));

		if (n == NULL || strlen(n) != nlen ||
		    strncasecmp(n, spec, nlen) != 0)
			continue;
		if (want == NULL || mail_contains(v, want))
			return true;
	}
	return false;
}
