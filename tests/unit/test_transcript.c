/*
 * test_transcript.c - transcript.c: the escaping table, JSON Lines parsed
 * back with jansson (fields, the schema version, invalid UTF-8 as escaped
 * text + hex, append, stdout), the readable lines on stderr, whole lines
 * under threads. Fields and taps: test_transcript_fields.c.
 */
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <limits.h>

#include "transcript.h"
#include "transcript_line.h"
#include "transcript_util.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
test_kind_str(void **state)
{
	static const struct {
		enum tr_kind kind;
		const char *want;
	} cases[] = {
	    {TR_CONNECT, "connect"}, {TR_CLOSE, "close"},   {TR_CLIENT, "C"},
	    {TR_SERVER, "S"},        {TR_RULE, "rule"},     {TR_INFO, "info"},
	    {TR_WARN, "warn"},       {TR_DETAIL, "detail"}, {TR_COUNT, "?"},
	};
	size_t i;
	int failed = 0;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		const char *got = tr_kind_str(cases[i].kind);
		if (strcmp(got, cases[i].want) != 0) {
			print_error("kind %d: got \"%s\", want \"%s\"\n",
			            (int)cases[i].kind, got, cases[i].want);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

struct escape_case {
	const char *label;
	const char *in;
	size_t len;
	size_t outlen;
	const char *want;
};

#define ESC(label, lit, outlen, want)                                          \
	{                                                                      \
		label, lit, sizeof(lit) - 1, outlen, want                      \
	}

static const struct escape_case escape_cases[] = {
    ESC("plain", "EHLO gw.test", 64, "EHLO gw.test"),
    ESC("empty", "", 64, ""),
    ESC("crlf", "QUIT\r\n", 64, "QUIT\\r\\n"),
    ESC("tab", "a\tb", 64, "a\\tb"),
    ESC("backslash", "a\\b", 64, "a\\\\b"),
    ESC("nul", "a\0b", 64, "a\\x00b"),
    ESC("escape", "\x1b[2J", 64, "\\x1b[2J"),
    ESC("del", "\x7f", 64, "\\x7f"),
    ESC("latin1 byte", "caf\xe9", 64, "caf\\xe9"),
    ESC("utf8 2-byte", "caf\xc3\xa9", 64, "caf\xc3\xa9"),
    ESC("utf8 3-byte", "\xe2\x82\xac", 64, "\xe2\x82\xac"),
    ESC("utf8 4-byte", "\xf0\x9f\x93\xa7", 64, "\xf0\x9f\x93\xa7"),
    ESC("C1 control", "\xc2\x85", 64, "\\xc2\\x85"),
    ESC("truncated seq", "a\xc3", 64, "a\\xc3"),
    ESC("bad continuation", "\xc3(", 64, "\\xc3("),
    ESC("overlong", "\xc0\xaf", 64, "\\xc0\\xaf"),
    ESC("overlong 3-byte", "\xe0\x80\xaf", 64, "\\xe0\\x80\\xaf"),
    ESC("surrogate", "\xed\xa0\x80", 64, "\\xed\\xa0\\x80"),
    ESC("past U+10FFFF", "\xf4\x90\x80\x80", 64, "\\xf4\\x90\\x80\\x80"),
    ESC("fits exactly", "abc", 4, "abc"),
    ESC("truncated plain", "abcdef", 4, "abc"),
    ESC("no half \\r", "ab\r", 4, "ab"),
    ESC("no half \\xNN", "a\xff", 4, "a"),
    ESC("no half utf8", "a\xe2\x82\xac", 4, "a"),
    ESC("outlen 1", "abc", 1, ""),
};

/* tr_kind_from_str undoes tr_kind_str for every kind, and only for those */
static void
test_kind_from_str(void **state)
{
	(void)state;
	for (int k = 0; k < TR_COUNT; k++)
		assert_int_equal(tr_kind_from_str(tr_kind_str(k)), k);
	assert_int_equal(tr_kind_from_str("?"), TR_COUNT);
	assert_int_equal(tr_kind_from_str("c"), TR_COUNT);
	assert_int_equal(tr_kind_from_str("connec"), TR_COUNT);
	assert_int_equal(tr_kind_from_str(""), TR_COUNT);
	assert_int_equal(tr_kind_from_str(NULL), TR_COUNT);
}

static void
test_escape(void **state)
{
	char out[64];
	size_t i;
	int failed = 0;

	(void)state;
	for (i = 0; i < NELEM(escape_cases); i++) {
		const struct escape_case *c = &escape_cases[i];
		memset(out, 'Z', sizeof(out));
		char *got = transcript_escape(c->in, c->len, out, c->outlen);
		if (got != out || strcmp(got, c->want) != 0 ||
		    memchr(out, '\0', c->outlen) == NULL) {
			print_error("%s: got \"%s\", want \"%s\"\n", c->label,
			            got, c->want);
			failed++;
		}
	}
	/* outlen 0: nothing written, nothing read */
	out[0] = 'Z';
	assert_ptr_equal(transcript_escape("abc", 3, out, 0), out);
	assert_int_equal(out[0], 'Z');
	assert_int_equal(failed, 0);
}

/* One event, and what its JSON line must hold. */
struct json_case {
	struct tr_event ev;
	const char *text; /* want "text" ... */
	size_t textlen;   /* ... of this many bytes */
	const char *hex;  /* want "hex", or NULL for absent */
};

#define T(s) s, sizeof(s) - 1

static const struct json_case json_cases[] = {
    {{7, TR_CONNECT, T("127.0.0.1:53312 -> 127.0.0.1:2525 profile=esa"), NULL,
      NULL, "esa", NULL, NULL},
     T("127.0.0.1:53312 -> 127.0.0.1:2525 profile=esa"),
     NULL},
    /* text is not NUL-terminated: only len counts */
    {{7, TR_CLIENT, "EHLO gw.test\r\nMAIL", 12, NULL, NULL, "esa", NULL, NULL},
     T("EHLO gw.test"),
     NULL},
    {{7, TR_SERVER, T("250-mx1.lab.test\r\n"), NULL, NULL, NULL, NULL, NULL},
     T("250-mx1.lab.test\r\n"),
     NULL},
    {{7, TR_RULE, T("close fin"), "CSCwh48138", "Schannel drops it", "esa",
      NULL, NULL},
     T("close fin"),
     NULL},
    {{7, TR_SERVER, T("421 4.3.2 bye"), "busy", NULL, "esa", NULL, NULL},
     T("421 4.3.2 bye"),
     NULL},
    {{7, TR_INFO, T("queued as 4F2A"), NULL, NULL, NULL, NULL, NULL},
     T("queued as 4F2A"),
     NULL},
    {{8, TR_WARN, T("line too long"), NULL, NULL, NULL, NULL, NULL},
     T("line too long"),
     NULL},
    {{8, TR_CLIENT, T("MAIL FROM:<\xff\xfe@x>\r\n"), NULL, NULL, NULL, NULL,
      NULL},
     T("MAIL FROM:<\\xff\\xfe@x>\\r\\n"),
     "4d41494c2046524f4d3a3cfffe40783e0d0a"},
    {{8, TR_CLIENT, T("RCPT TO:<jos\xc3\xa9@x>"), NULL, NULL, NULL, NULL, NULL},
     T("RCPT TO:<jos\xc3\xa9@x>"),
     NULL},
    /* NUL: valid UTF-8, but \u0000 breaks strict parsers */
    {{8, TR_CLIENT, T("a\0b"), NULL, NULL, NULL, NULL, NULL},
     T("a\\x00b"),
     "610062"},
    {{9, TR_CLOSE, NULL, 0, NULL, NULL, NULL, NULL, NULL}, T(""), NULL},
    /* lines that never crossed: a cut discarded a reply, a box swallowed
     * a client line */
    {{9, TR_SERVER, T("250 2.1.5 Ok"), NULL, NULL, "esa",
      "middlebox asa-esmtp-inspect: drop-connection", NULL},
     T("250 2.1.5 Ok"),
     NULL},
    {{9, TR_CLIENT, T("."), NULL, NULL, NULL,
      "middlebox pix-fixup: end of data split across packets: dropped", NULL},
     T("."),
     NULL},
    {{9, TR_SERVER, T("250 ok"), "busy", NULL, "esa", "middlebox x: reset",
      NULL},
     T("250 ok"),
     NULL},
};

static void
check_opt(int *failed, size_t i, json_t *o, const char *key, const char *want)
{
	json_t *v = json_object_get(o, key);

	if (want == NULL && v != NULL) {
		print_error("case %zu: \"%s\" present, want absent\n", i, key);
		(*failed)++;
	} else if (want != NULL &&
	           (!json_is_string(v) || strcmp(json_string_value(v), want))) {
		print_error("case %zu: %s got %s, want \"%s\"\n", i, key,
		            json_is_string(v) ? json_string_value(v) : "(none)",
		            want);
		(*failed)++;
	}
}

static int
check_json_line(size_t i, const char *line, const struct json_case *c,
                const regex_t *time_re)
{
	json_error_t jerr;
	json_t *o = json_loads(line, 0, &jerr), *v;
	int failed = 0;
	size_t keys = 5;

	if (o == NULL) {
		print_error("case %zu: line does not parse: %s: %s\n", i,
		            jerr.text, line);
		return 1;
	}
	/* the version first, on both paths (reused object and fresh one) */
	if (strncmp(line, "{\"schema\":1,", 12) != 0) {
		print_error("case %zu: no leading schema 1: %s\n", i, line);
		failed++;
	}
	v = json_object_get(o, "time");
	if (!json_is_string(v) ||
	    regexec(time_re, json_string_value(v), 0, NULL, 0) != 0) {
		print_error("case %zu: bad time in %s\n", i, line);
		failed++;
	}
	v = json_object_get(o, "session");
	if (!json_is_integer(v) ||
	    (unsigned long)json_integer_value(v) != c->ev.session) {
		print_error("case %zu: session got %s, want %lu\n", i, line,
		            c->ev.session);
		failed++;
	}
	check_opt(&failed, i, o, "dir", tr_kind_str(c->ev.kind));
	v = json_object_get(o, "text");
	if (!json_is_string(v) || json_string_length(v) != c->textlen ||
	    memcmp(json_string_value(v), c->text, c->textlen) != 0) {
		print_error("case %zu: text got %s, want \"%s\"\n", i, line,
		            c->text);
		failed++;
	}
	check_opt(&failed, i, o, "hex", c->hex);
	check_opt(&failed, i, o, "rule", c->ev.rule);
	check_opt(&failed, i, o, "why", c->ev.why);
	check_opt(&failed, i, o, "profile", c->ev.profile);
	check_opt(&failed, i, o, "lost", c->ev.lost);
	/* "delivered" is there only when the line did not cross: false */
	v = json_object_get(o, "delivered");
	if (c->ev.lost != NULL ? !json_is_false(v) : v != NULL) {
		print_error("case %zu: delivered wrong in %s\n", i, line);
		failed++;
	}
	keys += (c->hex != NULL) + (c->ev.rule != NULL) + (c->ev.why != NULL) +
	        (c->ev.profile != NULL) + 2 * (c->ev.lost != NULL);
	if (json_object_size(o) != keys) {
		print_error("case %zu: %zu keys, want %zu: %s\n", i,
		            json_object_size(o), keys, line);
		failed++;
	}
	json_decref(o);
	return failed;
}

static void
test_json_sink(void **state)
{
	char path[256], err[256], *buf, *lines[64];
	regex_t time_re;
	size_t i, n;
	int fd, failed = 0;

	(void)state;
	assert_int_equal(
	    regcomp(&time_re,
	            "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
	            "[0-9]{2}\\.[0-9]{3}Z$",
	            REG_EXTENDED | REG_NOSUB),
	    0);
	temp_path(path, sizeof(path));
	assert_int_equal(transcript_open(false, false, path, err, sizeof(err)),
	                 0);
	for (i = 0; i < NELEM(json_cases); i++)
		transcript_emit(&json_cases[i].ev);
	transcript_close();

	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	buf = read_fd(fd);
	close(fd);
	n = split_lines(buf, lines, NELEM(lines));
	assert_int_equal(n, NELEM(json_cases));
	for (i = 0; i < n; i++)
		failed +=
		    check_json_line(i, lines[i], &json_cases[i], &time_re);
	free(buf);

	/* a second open appends */
	assert_int_equal(transcript_open(false, false, path, err, sizeof(err)),
	                 0);
	transcript_printf(10, TR_INFO, NULL, "spooled %d bytes", 42);
	transcript_close();
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	buf = read_fd(fd);
	close(fd);
	n = split_lines(buf, lines, NELEM(lines));
	assert_int_equal(n, NELEM(json_cases) + 1);
	assert_non_null(strstr(lines[n - 1], "\"text\":\"spooled 42 bytes\""));
	free(buf);

	regfree(&time_re);
	remove_temp(path);
	assert_int_equal(failed, 0);
}

/* What event_json() builds for ev, dumped by jansson: the reference the
 * fast line (transcript_line.c) must equal byte for byte. */
static char *
jansson_line(const struct tr_event *ev, const char *when)
{
	json_t *o = json_object();
	char *out;

	json_object_set_new(o, "schema", json_integer(TR_SCHEMA));
	json_object_set_new(o, "time", json_string(when));
	json_object_set_new(o, "session",
	                    json_integer((json_int_t)ev->session));
	json_object_set_new(o, "dir", json_string(tr_kind_str(ev->kind)));
	json_object_set_new(o, "text", json_stringn(ev->text, ev->len));
	if (ev->rule != NULL)
		json_object_set_new(o, "rule", json_string(ev->rule));
	if (ev->why != NULL)
		json_object_set_new(o, "why", json_string(ev->why));
	if (ev->profile != NULL)
		json_object_set_new(o, "profile", json_string(ev->profile));
	if (ev->lost != NULL) {
		json_object_set_new(o, "delivered", json_false());
		json_object_set_new(o, "lost", json_string(ev->lost));
	}
	if (ev->fields != NULL)
		json_object_update(o, (json_t *)ev->fields);
	out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return out;
}

static void
count_tap(const json_t *o, const char *line, size_t len, void *arg)
{
	(void)o;
	(void)line;
	(void)len;
	(*(int *)arg)++;
}

/*
 * Most lines are written without json_dumpb (transcript_line.c): each
 * must still be the bytes jansson writes for the object event_json()
 * builds, on the fast path (plain strings, integers, nested fields) and
 * on the fallback (quotes, controls, UTF-8, a common key as a field, a
 * line past the stack buffer), with and without a tap listening.
 */
/* Every byte value at every place of a text (the fast line checks eight
 * bytes at a time): written as it is exactly when jansson would not
 * escape it, else left to jansson (0). */
static void
test_line_fast_every_byte(void **state)
{
	char text[24], buf[512];

	(void)state;
	for (int c = 0; c < 256; c++)
		for (size_t at = 0; at < sizeof(text); at++) {
			struct tr_event ev = {.session = 1,
			                      .kind = TR_CLIENT,
			                      .profile = "p",
			                      .text = text,
			                      .len = sizeof(text)};
			bool plain =
			    c >= 0x20 && c <= 0x7e && c != '"' && c != '\\';
			size_t n;

			memset(text, 'a', sizeof(text));
			text[at] = (char)c;
			n = tr_line_fast(&ev, "T", buf, sizeof(buf));
			if (plain != (n != 0))
				fail_msg("byte 0x%02x at %zu: %s", c, at,
				         n != 0 ? "written" : "refused");
			if (n != 0)
				assert_non_null(
				    memmem(buf, n, text, sizeof(text)));
		}
}

static void
test_json_fast_same_as_jansson(void **state)
{
	static char big[3000];
	json_t *connect =
	    json_pack("{s:{s:s, s:i}, s:{s:s, s:i}, s:b}", "client", "addr",
	              "127.0.0.1", "port", 33560, "server", "addr", "::1",
	              "port", 25, "tls_listener", 0);
	json_t *closing =
	    json_pack("{s:s, s:n, s:I, s:I, s:[s,s], s:{}}", "how", "rst",
	              "reason", "bytes_in", (json_int_t)-5, "bytes_out",
	              (json_int_t)LLONG_MAX, "rcpts", "a@b", "c@d", "none");
	json_t *real = json_pack("{s:f}", "ratio", 0.5);
	json_t *quoted = json_pack("{s:s}", "reason", "said \"no\"");
	json_t *common = json_pack("{s:s}", "profile", "other");
	const struct {
		unsigned long session;
		enum tr_kind kind;
		const char *profile, *text, *rule, *why, *lost;
		json_t *fields;
	} cases[] = {
	    {.session = 1,
	     .kind = TR_SERVER,
	     .profile = "standard",
	     .text = "220 mx.test ESMTP"},
	    {.session = 0,
	     .kind = TR_CLIENT,
	     .profile = "std",
	     .text = "MAIL FROM:<a@b> SIZE=10"},
	    {.session = ULONG_MAX,
	     .kind = TR_INFO,
	     .profile = "x.y-z_1",
	     .text = ""},
	    {.session = 2,
	     .kind = TR_CLIENT,
	     .profile = NULL,
	     .text = "no profile"},
	    {.session = 7,
	     .kind = TR_CLIENT,
	     .profile = "std",
	     .text = "say \"hi\""},
	    {.session = 7,
	     .kind = TR_CLIENT,
	     .profile = "std",
	     .text = "back\\slash"},
	    {.session = 7,
	     .kind = TR_CLIENT,
	     .profile = "std",
	     .text = "a/b ~ {x}"},
	    {.session = 7,
	     .kind = TR_CLIENT,
	     .profile = "std",
	     .text = "tab\there"},
	    {.session = 7,
	     .kind = TR_SERVER,
	     .profile = "std",
	     .text = "250 caf\xc3\xa9"},
	    {.session = 8, .kind = TR_SERVER, .profile = "std", .text = big},
	    {.session = 9,
	     .kind = TR_RULE,
	     .profile = "std",
	     .text = "fired",
	     .rule = "r1",
	     .why = "because",
	     .lost = NULL},
	    {.session = 9,
	     .kind = TR_CLIENT_SAW,
	     .profile = "std",
	     .text = "XXXX",
	     .rule = "asa",
	     .why = NULL,
	     .lost = "masked"},
	    {.session = 10,
	     .kind = TR_CONNECT,
	     .profile = "std",
	     .text = "1.2.3.4:5 -> 6.7.8.9:25",
	     .rule = NULL,
	     .why = NULL,
	     .lost = NULL,
	     .fields = connect},
	    {.session = 10,
	     .kind = TR_CLOSE,
	     .profile = "std",
	     .text = "rst",
	     .rule = NULL,
	     .why = NULL,
	     .lost = NULL,
	     .fields = closing},
	    {.session = 10,
	     .kind = TR_INFO,
	     .profile = "std",
	     .text = "r",
	     .rule = NULL,
	     .why = NULL,
	     .lost = NULL,
	     .fields = real},
	    {.session = 10,
	     .kind = TR_CLOSE,
	     .profile = "std",
	     .text = "q",
	     .rule = NULL,
	     .why = NULL,
	     .lost = NULL,
	     .fields = quoted},
	    {.session = 10,
	     .kind = TR_INFO,
	     .profile = "std",
	     .text = "c",
	     .rule = NULL,
	     .why = NULL,
	     .lost = NULL,
	     .fields = common},
	};
	char path[256], err[256], *buf, *lines[2 * NELEM(cases)];
	static int taps; /* a tap stays for the process: this test runs last */
	size_t i, n;
	int fd;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	temp_path(path, sizeof(path));
	assert_int_equal(transcript_open(false, false, path, err, sizeof(err)),
	                 0);
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) /* the tap makes the object be built too */
			assert_int_equal(transcript_add_tap(count_tap, &taps),
			                 0);
		for (i = 0; i < NELEM(cases); i++) {
			struct tr_event ev = {.session = cases[i].session,
			                      .kind = cases[i].kind,
			                      .profile = cases[i].profile,
			                      .text = cases[i].text,
			                      .len = strlen(cases[i].text),
			                      .rule = cases[i].rule,
			                      .why = cases[i].why,
			                      .lost = cases[i].lost,
			                      .fields = cases[i].fields};

			transcript_emit(&ev);
		}
	}
	transcript_close();
	assert_int_equal(taps, NELEM(cases));
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	buf = read_fd(fd);
	close(fd);
	n = split_lines(buf, lines, NELEM(lines));
	assert_int_equal(n, 2 * NELEM(cases));
	for (i = 0; i < n; i++) {
		size_t c = i % NELEM(cases);
		struct tr_event ev = {.session = cases[c].session,
		                      .kind = cases[c].kind,
		                      .profile = cases[c].profile,
		                      .text = cases[c].text,
		                      .len = strlen(cases[c].text),
		                      .rule = cases[c].rule,
		                      .why = cases[c].why,
		                      .lost = cases[c].lost,
		                      .fields = cases[c].fields};
		json_t *o = json_loads(lines[i], 0, NULL);
		char *want;

		assert_non_null(o);
		want = jansson_line(
		    &ev, json_string_value(json_object_get(o, "time")));
		assert_string_equal(lines[i], want);
		free(want);
		json_decref(o);
	}
	free(buf);
	remove_temp(path);
	json_decref(connect);
	json_decref(closing);
	json_decref(real);
	json_decref(quoted);
	json_decref(common);
}

static void
stdout_events(void)
{
	char err[256];

	assert_int_equal(transcript_open(false, false, "-", err, sizeof(err)),
	                 0);
	transcript_printf(3, TR_SERVER, "std", "220 %s ESMTP", "mx.test");
	transcript_close();
}

static void
test_json_stdout(void **state)
{
	char *out = capture(STDOUT_FILENO, stdout_events);
	json_t *o = json_loads(out, 0, NULL);

	(void)state;
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "text")),
	                    "220 mx.test ESMTP");
	assert_string_equal(json_string_value(json_object_get(o, "dir")), "S");
	assert_int_equal(out[strlen(out) - 1], '\n');
	json_decref(o);
	free(out);
}

static size_t
file_lines(const char *path)
{
	int fd = open(path, O_RDONLY);
	char *buf, *p;
	size_t n = 0;

	assert_true(fd >= 0);
	buf = read_fd(fd);
	close(fd);
	for (p = buf; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	free(buf);
	return n;
}

/* JSON lines wait in a buffer until transcript_flush() or a session's
 * close line; state lines are only written with -v. */
static void
test_json_buffer_and_state(void **state)
{
	struct tr_event s = {.session = 3,
	                     .kind = TR_SERVER,
	                     .text = "250 ok",
	                     .len = 6,
	                     .profile = "p"};
	struct tr_event c = {.session = 3,
	                     .kind = TR_CLOSE,
	                     .text = "fin",
	                     .len = 3,
	                     .profile = "p"};
	char path[256], err[256];

	(void)state;
	temp_path(path, sizeof(path));
	assert_int_equal(transcript_open(false, false, path, err, sizeof(err)),
	                 0);
	transcript_emit(&s);
	assert_int_equal(file_lines(path), 0); /* buffered */
	transcript_flush();
	assert_int_equal(file_lines(path), 1);
	transcript_printf(3, TR_DETAIL, "p", "state %s -> %s", "MAIL", "RCPT");
	transcript_printf(3, TR_INFO, "p", "accepted as %s", "Q1");
	transcript_emit(&c);                   /* the close flushes */
	assert_int_equal(file_lines(path), 3); /* S, info, close: no state */
	transcript_close();
	assert_int_equal(transcript_open(false, true, path, err, sizeof(err)),
	                 0);
	assert_true(transcript_wants(TR_DETAIL));
	transcript_printf(3, TR_DETAIL, "p", "state %s -> %s", "MAIL", "RCPT");
	transcript_close();
	assert_int_equal(file_lines(path), 4);
	remove_temp(path);
}

static void
test_open_fail(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(transcript_open(true, false, "/nonexistent.d/t.jsonl",
	                                 err, sizeof(err)),
	                 -1);
	assert_string_equal(err, "cannot open it: No such file or directory");
}

/* As root, a symbolic link is refused (its target is left alone); as
 * anyone else it is followed, as any program would. */
static void
test_open_symlink(void **state)
{
	char dir[] = "/tmp/tr-link-XXXXXX", target[64], link[64], err[256];
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(target, sizeof(target), "%s/target", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	close(open(target, O_WRONLY | O_CREAT, 0600));
	assert_int_equal(symlink(target, link), 0);
	if (geteuid() == 0) {
		assert_int_equal(
		    transcript_open(false, false, link, err, sizeof(err)), -1);
		assert_string_equal(err, "it is a symbolic link, which "
		                         "smtp-mimic does not follow as root; "
		                         "name the file itself");
	} else {
		assert_int_equal(
		    transcript_open(false, false, link, err, sizeof(err)), 0);
		transcript_close();
	}
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_size, 0);
	unlink(link);
	unlink(target);
	rmdir(dir);
}

static void
readable_events(void)
{
	char err[256];
	size_t i;

	assert_int_equal(transcript_open(true, false, NULL, err, sizeof(err)),
	                 0);
	for (i = 0; i < NELEM(json_cases); i++)
		transcript_emit(&json_cases[i].ev);
	transcript_printf(9, TR_WARN, NULL, "spool: %s", "disk full");
	transcript_printf(9, TR_DETAIL, NULL, "state %s -> %s", "HELO", "MAIL");
	assert_int_equal(transcript_open(true, true, NULL, err, sizeof(err)),
	                 0);
	transcript_printf(9, TR_DETAIL, NULL, "state %s -> %s", "MAIL", "RCPT");
	transcript_close();
	/* closed: nothing more */
	transcript_printf(9, TR_WARN, NULL, "after close");
}

static const char *const readable_want[] = {
    "[s7] connect 127.0.0.1:53312 -> 127.0.0.1:2525 profile=esa",
    "[s7] C: EHLO gw.test",
    "[s7] S: 250-mx1.lab.test\\r\\n",
    "[s7] ! rule CSCwh48138: Schannel drops it -- close fin",
    "[s7] S: 421 4.3.2 bye (rule busy)",
    /* TR_INFO "queued as" hidden: not verbose */
    "[s8] * warning: line too long",
    "[s8] C: MAIL FROM:<\\xff\\xfe@x>\\r\\n",
    "[s8] C: RCPT TO:<jos\xc3\xa9@x>",
    "[s8] C: a\\x00b",
    "[s9] close ",
    "[s9] S: 250 2.1.5 Ok   [not delivered: middlebox asa-esmtp-inspect: "
    "drop-connection]",
    "[s9] C: .   [not delivered: middlebox pix-fixup: end of data split "
    "across packets: dropped]",
    "[s9] S: 250 ok (rule busy)   [not delivered: middlebox x: reset]",
    "[s9] * warning: spool: disk full",
    "[s9] * state MAIL -> RCPT",
};

static void
test_readable(void **state)
{
	char *out = capture(STDERR_FILENO, readable_events), *lines[64];
	regex_t re;
	size_t i, n;
	int failed = 0;

	(void)state;
	assert_int_equal(regcomp(&re, "^[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} ",
	                         REG_EXTENDED | REG_NOSUB),
	                 0);
	n = split_lines(out, lines, NELEM(lines));
	if (n != NELEM(readable_want))
		print_error("got %zu lines, want %zu\n", n,
		            NELEM(readable_want));
	for (i = 0; i < n && i < NELEM(readable_want); i++) {
		if (regexec(&re, lines[i], 0, NULL, 0) != 0 ||
		    strcmp(lines[i] + 13, readable_want[i]) != 0) {
			print_error("line %zu: got \"%s\", want "
			            "\"HH:MM:SS.mmm %s\"\n",
			            i, lines[i], readable_want[i]);
			failed++;
		}
	}
	regfree(&re);
	free(out);
	assert_int_equal(n, NELEM(readable_want));
	assert_int_equal(failed, 0);
}

#define THREADS    4
#define PER_THREAD 500
#define LONG_TEXT  3000 /* beyond the stack buffer */

static char long_text[LONG_TEXT];

static void *
emitter(void *arg)
{
	unsigned long id = (unsigned long)(uintptr_t)arg;
	struct tr_event ev = {
	    .session = id, .kind = TR_CLIENT, .text = long_text};
	int i;

	for (i = 0; i < PER_THREAD; i++) {
		ev.len = (size_t)(i * 7) % LONG_TEXT;
		transcript_emit(&ev);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	pthread_t t[THREADS];
	char path[256], err[256], *buf, **lines;
	size_t i, n, per[THREADS + 1] = {0};
	int fd, bad = 0;

	(void)state;
	memset(long_text, 'x', sizeof(long_text));
	temp_path(path, sizeof(path));
	assert_int_equal(transcript_open(false, false, path, err, sizeof(err)),
	                 0);
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, emitter,
		                                (void *)(uintptr_t)(i + 1)),
		                 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	transcript_close();

	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	buf = read_fd(fd);
	close(fd);
	lines = calloc(THREADS * PER_THREAD + 1, sizeof(*lines));
	assert_non_null(lines);
	n = split_lines(buf, lines, THREADS * PER_THREAD + 1);
	assert_int_equal(n, THREADS * PER_THREAD);
	for (i = 0; i < n; i++) {
		json_t *o = json_loads(lines[i], 0, NULL);
		json_int_t s =
		    json_integer_value(json_object_get(o, "session"));
		if (o == NULL || s < 1 || s > THREADS) {
			if (bad++ == 0)
				print_error("line %zu: %.80s\n", i, lines[i]);
		} else {
			per[s]++;
		}
		json_decref(o);
	}
	for (i = 1; i <= THREADS; i++)
		assert_int_equal(per[i], PER_THREAD);
	free(lines);
	free(buf);
	remove_temp(path);
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kind_str),
	    cmocka_unit_test(test_kind_from_str),
	    cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_json_sink),
	    cmocka_unit_test(test_json_stdout),
	    cmocka_unit_test(test_json_buffer_and_state),
	    cmocka_unit_test(test_open_fail),
	    cmocka_unit_test(test_open_symlink),
	    cmocka_unit_test(test_readable),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_line_fast_every_byte),
	    cmocka_unit_test(test_json_fast_same_as_jansson), /* adds a tap */
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
