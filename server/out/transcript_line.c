/*
 * transcript_line.c - an event's JSON line without json_dumpb, for the
 * events whose every value needs no escaping.
 *
 * JSON's encoding of a string of printable ASCII without '"' or '\\' is
 * that string between quotes, and of an integer its decimal digits; so an
 * event made only of such strings, integers, true/false/null, and arrays
 * and objects of them is written here by copying bytes, in the order and
 * with the separators json_dumpb(JSON_COMPACT | JSON_PRESERVE_ORDER)
 * gives (event_json() in transcript.c builds the same object). Anything
 * else (a control character, a quote, non-ASCII text, a real number, a
 * field named like a common key, nesting deeper than TR_LINE_DEPTH)
 * returns 0 and the caller hands the object to jansson. test_transcript
 * and fuzz_transcript_line hold both paths to the same bytes.
 *
 * Why: json_dumpb costs about 14,000 instructions a line (a hashtable of
 * parents, a "%p" key per object, a callback per piece): more than a
 * session's own work per line, and once a JSON sink or a tap (--http,
 * --summary) listens, every line of every session is dumped.
 *
 * Does not: escape anything, allocate, or write the line anywhere.
 */
#include "transcript_line.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#define STR_(x) #x
#define STR(x)  STR_(x)

struct line_buf {
	char *p;
	size_t len, cap;
	bool bad; /* full, or a value only jansson can write */
};

static void
put(struct line_buf *b, const char *s, size_t n)
{
	if (b->bad || n > b->cap - b->len) {
		b->bad = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

#define PUTS(b, lit) put((b), (lit), sizeof(lit) - 1)

/* Every byte printable ASCII but '"' and '\\' (what jansson writes as it
 * is): eight at a time, the classic "has a byte less than n / equal to
 * c" word tests, which are exact about whether any byte is. */
static bool
plain_ascii(const char *s, size_t len)
{
	const uint64_t ones = 0x0101010101010101ull;
	const uint64_t high = 0x8080808080808080ull;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t x, q, bs, del;

		memcpy(&x, s + i, 8);
		q = x ^ (ones * '"');
		bs = x ^ (ones * '\\');
		del = x ^ (ones * 0x7f);
		if ((((x - ones * 0x20) & ~x) | x | ((q - ones) & ~q) |
		     ((bs - ones) & ~bs) | ((del - ones) & ~del)) &
		    high)
			return false;
	}
	for (; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			return false;
	}
	return true;
}

/* "s" with its quotes, or bad */
static void
put_str(struct line_buf *b, const char *s, size_t len)
{
	if (!plain_ascii(s, len)) {
		b->bad = true;
		return;
	}
	PUTS(b, "\"");
	put(b, s, len);
	PUTS(b, "\"");
}

/* jansson prints json_int_t with "%" JSON_INTEGER_FORMAT: the same digits */
static void
put_int(struct line_buf *b, long long v)
{
	char num[24];
	size_t n = sizeof(num);
	unsigned long long u =
	    v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;

	do
		num[--n] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		num[--n] = '-';
	put(b, num + n, sizeof(num) - n);
}

static void put_value(struct line_buf *b, const json_t *v, int depth);

static void
put_members(struct line_buf *b, const json_t *o, int depth, bool first)
{
	const char *key;
	const json_t *v;

	json_object_foreach((json_t *)o, key, v) {
		if (!first)
			PUTS(b, ",");
		first = false;
		put_str(b, key, strlen(key));
		PUTS(b, ":");
		put_value(b, v, depth + 1);
		if (b->bad)
			return;
	}
}

static void
put_value(struct line_buf *b, const json_t *v, int depth)
{
	size_t i;
	const json_t *e;

	if (depth > TR_LINE_DEPTH) {
		b->bad = true;
		return;
	}
	switch (json_typeof(v)) {
	case JSON_STRING:
		put_str(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		put_int(b, (long long)json_integer_value(v));
		break;
	case JSON_TRUE:
		PUTS(b, "true");
		break;
	case JSON_FALSE:
		PUTS(b, "false");
		break;
	case JSON_NULL:
		PUTS(b, "null");
		break;
	case JSON_OBJECT:
		PUTS(b, "{");
		put_members(b, v, depth, true);
		PUTS(b, "}");
		break;
	case JSON_ARRAY:
		PUTS(b, "[");
		json_array_foreach(v, i, e) {
			if (i != 0)
				PUTS(b, ",");
			put_value(b, e, depth + 1);
		}
		PUTS(b, "]");
		break;
	default: /* a real: jansson's "%.17g" and its fix-ups */
		b->bad = true;
	}
}

/* The keys event_json() sets itself: a field of the same name would
 * replace the common value in place, so such events go to jansson. */
static bool
common_key(const json_t *fields)
{
	static const char *const keys[] = {"schema",  "time", "session",  "dir",
	                                   "text",    "hex",  "rule",     "why",
	                                   "profile", "lost", "delivered"};
	const char *key;
	const json_t *v;

	json_object_foreach((json_t *)fields, key, v)
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(key, keys[i]) == 0)
				return true;
	return false;
}

/* tr_line_fast - ev as its JSON line (no newline) in buf, or 0 */
size_t
tr_line_fast(const struct tr_event *ev, const char *when, char *buf, size_t cap)
{
	const char *text = ev->text != NULL ? ev->text : "";
	size_t tlen = ev->text != NULL ? ev->len : 0;
	const char *dir = tr_kind_str(ev->kind);
	struct line_buf b = {.p = buf, .cap = cap};

	/* json_int_t is signed: jansson would print a huge number negative */
	if (ev->session > (unsigned long)LLONG_MAX ||
	    (ev->fields != NULL &&
	     (!json_is_object(ev->fields) || common_key(ev->fields))))
		return 0;
	PUTS(&b, "{\"schema\":" STR(TR_SCHEMA) ",\"time\":");
	put_str(&b, when, strlen(when));
	PUTS(&b, ",\"session\":");
	put_int(&b, (long long)ev->session);
	PUTS(&b, ",\"dir\":");
	put_str(&b, dir, strlen(dir));
	PUTS(&b, ",\"text\":");
	put_str(&b, text, tlen);
	if (ev->rule != NULL) {
		PUTS(&b, ",\"rule\":");
		put_str(&b, ev->rule, strlen(ev->rule));
	}
	if (ev->why != NULL) {
		PUTS(&b, ",\"why\":");
		put_str(&b, ev->why, strlen(ev->why));
	}
	if (ev->profile != NULL) {
		PUTS(&b, ",\"profile\":");
		put_str(&b, ev->profile, strlen(ev->profile));
	}
	if (ev->lost != NULL) {
		PUTS(&b, ",\"delivered\":false,\"lost\":");
		put_str(&b, ev->lost, strlen(ev->lost));
	}
	if (ev->fields != NULL)
		put_members(&b, ev->fields, 0, false);
	PUTS(&b, "}");
	return b.bad ? 0 : b.len;
}
