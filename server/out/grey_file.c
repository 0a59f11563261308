/*
 * grey_file.c - parse and format the policy state file (grey_file.h has
 * the format).
 *
 * Does not: open, write or rename files (grey_store.c).
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "grey_file.h"

/* Bytes written as themselves in a key; everything else is %XX. */
static int
key_plain(unsigned char c)
{
	return c > ' ' && c < 0x7f && c != '%';
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A number field: 1 .. 19 digits, at most INT64_MAX; the length read. */
static size_t
parse_number(const char *p, size_t n, int64_t *out)
{
	size_t i = 0;
	int64_t v = 0;

	for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
		int d = p[i] - '0';

		if (v > (INT64_MAX - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	*out = v;
	return i;
}

/* Decode a key field of n bytes into key; its length, or 0 if bad. */
static size_t
parse_key(const char *p, size_t n, char *key, const char **why)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (o == GREY_KEY_MAX) {
			*why = "key longer than 1024 bytes";
			return 0;
		}
		if (c == '%') {
			int hi = i + 2 < n ? hex_value(p[i + 1]) : -1;
			int lo = i + 2 < n ? hex_value(p[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				*why = "bad %XX escape in the key";
				return 0;
			}
			if (hi == 0 && lo == 0) {
				*why = "%00 in the key";
				return 0;
			}
			key[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (key_plain(c))
			key[o++] = (char)c;
		else {
			*why = "a byte in the key that must be %XX";
			return 0;
		}
	}
	if (o == 0)
		*why = "empty key";
	key[o] = '\0';
	return o;
}

/* One record line (without its LF): NULL, or what is wrong with it. */
static const char *
parse_line(const char *p, size_t n, struct grey_record *r, char *key)
{
	const char *why = NULL;
	size_t i, k;

	if (n < 2 || (p[0] != GREY_TRIPLET && p[0] != GREY_CLIENT &&
	              p[0] != GREY_COUNTER))
		return "unknown record (T, C or N expected)";
	if (p[1] != ' ')
		return "one space expected after the record type";
	r->kind = (enum grey_kind)p[0];
	i = 2;
	if ((k = parse_number(p + i, n - i, &r->a)) == 0 || k > 19)
		return "bad first number";
	i += k;
	if (i >= n || p[i] != ' ')
		return "one space expected after the first number";
	i++;
	if ((k = parse_number(p + i, n - i, &r->b)) == 0 || k > 19)
		return "bad second number";
	i += k;
	if (i >= n || p[i] != ' ')
		return "one space expected after the second number";
	i++;
	if ((r->key_len = parse_key(p + i, n - i, key, &why)) == 0)
		return why;
	r->key = key;
	return NULL;
}

/* grey_file_parse - check and decode a state file, record by record */
int
grey_file_parse(const char *buf, size_t len, grey_record_fn fn, void *arg,
                char *err, size_t errlen)
{
	static const char magic[] = GREY_FILE_MAGIC "\n";
	char key[GREY_KEY_MAX + 1];
	size_t pos, line = 1;

	if (len < sizeof(magic) - 1 ||
	    memcmp(buf, magic, sizeof(magic) - 1) != 0) {
		snprintf(err, errlen,
		         "line 1: not a state file (\"%s\" "
		         "expected)",
		         GREY_FILE_MAGIC);
		return -1;
	}
	for (pos = sizeof(magic) - 1; pos < len;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		struct grey_record r;
		const char *why;
		int rc;

		line++;
		if (nl == NULL) {
			snprintf(err, errlen,
			         "line %zu: no newline at the "
			         "end (a cut file?)",
			         line);
			return -1;
		}
		if ((why = parse_line(buf + pos, (size_t)(nl - (buf + pos)), &r,
		                      key)) != NULL) {
			snprintf(err, errlen, "line %zu: %s", line, why);
			return -1;
		}
		if ((rc = fn(&r, arg)) != 0)
			return rc;
		pos = (size_t)(nl - buf) + 1;
	}
	return 0;
}

/* grey_file_header - the first line */
int
grey_file_header(struct evbuffer *out)
{
	return evbuffer_add(out, GREY_FILE_MAGIC "\n", sizeof(GREY_FILE_MAGIC));
}

/* grey_file_record - one record's line */
int
grey_file_record(struct evbuffer *out, const struct grey_record *r)
{
	static const char hex[] = "0123456789ABCDEF";
	char line[64 + 3 * GREY_KEY_MAX];
	int n;
	size_t o;

	if (r->key_len == 0 || r->key_len > GREY_KEY_MAX || r->a < 0 ||
	    r->b < 0)
		return -1;
	n = snprintf(line, sizeof(line), "%c %lld %lld ", (char)r->kind,
	             (long long)r->a, (long long)r->b);
	o = (size_t)n;
	for (size_t i = 0; i < r->key_len; i++) {
		unsigned char c = (unsigned char)r->key[i];

		if (c == '\0')
			return -1;
		if (key_plain(c))
			line[o++] = (char)c;
		else {
			line[o++] = '%';
			line[o++] = hex[c >> 4];
			line[o++] = hex[c & 15];
		}
	}
	line[o++] = '\n';
	return evbuffer_add(out, line, o);
}
