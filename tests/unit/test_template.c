/*
 * test_template.c - unit tests for template.c: the name table, the
 * load-time check (error offsets), expansion of every placeholder, "{{",
 * the shape of {date} under fixed time zones, date formats (Sendmail's
 * "(IST)", Exim's two-digit day, ctime) and their check, date_format_utc,
 * and the computed {unix_time}, {pid} and {ctime}. Does not test where
 * templates come from (profile.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "template.h"

#define NROWS(t) (sizeof(t) / sizeof((t)[0]))

static const char *const want_names[TPL_COUNT] = {
    "hostname",      "date",  "client_ip", "client_port",      "server_ip",
    "server_port",   "helo",  "session",   "queue_id",         "message_id",
    "internal_id",   "size",  "max_size",  "sender",           "recipient",
    "verb",          "param", "profile",   "session_id",       "unix_time",
    "pid",           "ctime", "line",      "recipient_domain", "greylist_wait",
    "greylist_delay"};

/* expand tpl and return a malloc'ed NUL-terminated copy */
static char *
expand(const char *tpl, const struct tpl_vars *vars)
{
	struct evbuffer *b = evbuffer_new();
	size_t n;
	char *s;

	assert_non_null(b);
	template_expand(tpl, vars, b);
	n = evbuffer_get_length(b);
	s = malloc(n + 1);
	assert_non_null(s);
	evbuffer_remove(b, s, n);
	s[n] = '\0';
	evbuffer_free(b);
	return s;
}

static void
test_names(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < TPL_COUNT; i++) {
		const char *got = template_var_name((enum tpl_var)i);

		if (got == NULL || strcmp(got, want_names[i]) != 0) {
			print_error("name %d: got %s want %s\n", i,
			            got ? got : "NULL", want_names[i]);
			fail();
		}
	}
	assert_null(template_var_name(TPL_COUNT));
}

struct check_case {
	const char *label;
	const char *tpl;
	int rc;
	size_t errpos;
};

static const struct check_case check_cases[] = {
    {"plain text", "250 OK", 0, 0},
    {"empty", "", 0, 0},
    {"one name", "220 {hostname} ready", 0, 0},
    {"all names",
     "{hostname}{date}{client_ip}{client_port}{server_ip}{server_port}"
     "{helo}{session}{queue_id}{message_id}{internal_id}{size}"
     "{max_size}{sender}{recipient}{verb}{param}{profile}"
     "{session_id}{unix_time}{pid}{ctime}{line}",
     0, 0},
    {"escaped brace", "a {{ b", 0, 0},
    {"escaped placeholder", "{{hostname}", 0, 0},
    {"escaped unknown", "{{nope}", 0, 0},
    {"lone close brace", "a } b }", 0, 0},
    {"unknown at start", "{nope}", -1, 0},
    {"unknown later", "ok {hostname} {bad}", -1, 14},
    {"case matters", "{HOSTNAME}", -1, 0},
    {"empty name", "x{}", -1, 1},
    {"unclosed", "abc {host", -1, 4},
    {"unclosed at end", "abc {", -1, 4},
    {"brace inside name", "{host{name}", -1, 0},
    {"space in name", "{ hostname}", -1, 0},
    {"triple brace", "{{{hostname}", 0, 0},
};

static void
test_check(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NROWS(check_cases); i++) {
		const struct check_case *c = &check_cases[i];
		size_t pos = 999;
		int rc = template_check(c->tpl, &pos);

		if (rc != c->rc || (rc < 0 && pos != c->errpos)) {
			print_error("%s: got %d at %zu want %d at %zu\n",
			            c->label, rc, pos, c->rc, c->errpos);
			fail();
		}
	}
}

static void
test_expand_all(void **state)
{
	struct tpl_vars vars = {{NULL}, NULL, NULL};
	char tpl[1024], want[1024];
	size_t t = 0, w = 0;
	char *got;
	int i;

	(void)state;
	for (i = 0; i < TPL_COUNT; i++) {
		static char vals[TPL_COUNT][32];

		snprintf(vals[i], sizeof(vals[i]), "v-%s", want_names[i]);
		vars.v[i] = vals[i];
		t += (size_t)snprintf(tpl + t, sizeof(tpl) - t, "<{%s}>",
		                      want_names[i]);
		w += (size_t)snprintf(want + w, sizeof(want) - w, "<v-%s>",
		                      want_names[i]);
	}
	got = expand(tpl, &vars);
	if (strcmp(got, want) != 0) {
		print_error("all: got \"%s\" want \"%s\"\n", got, want);
		fail();
	}
	free(got);
}

struct expand_case {
	const char *label;
	const char *tpl;
	const char *want;
};

static const struct expand_case expand_cases[] = {
    {"plain", "250 2.0.0 OK", "250 2.0.0 OK"},
    {"empty", "", ""},
    {"value", "220 {hostname} ESMTP", "220 mx.example ESMTP"},
    {"escaped brace", "a {{ b", "a { b"},
    {"escaped placeholder", "{{hostname}", "{hostname}"},
    {"triple brace", "{{{hostname}", "{mx.example"},
    {"lone close brace", "a } b", "a } b"},
    {"NULL value is empty", "[{sender}]", "[]"},
    {"adjacent", "{hostname}{hostname}", "mx.examplemx.example"},
    {"fixed date", "{date}", "Fri, 5 Aug 2016 16:24:41 -0700"},
    {"gmail session id", "250 2.1.0 OK {session_id} - gsmtp",
     "250 2.1.0 OK d75a77b69052e-2b0c4fea3a4si1234567a.2 - gsmtp"},
    /* expand does not fail on an unchecked template: text stays */
    {"unknown stays", "a {nope} b", "a {nope} b"},
    {"unclosed stays", "a {hostname", "a {hostname"},
};

static void
test_expand(void **state)
{
	struct tpl_vars vars = {{NULL}, NULL, NULL};
	size_t i;

	(void)state;
	vars.v[TPL_HOSTNAME] = "mx.example";
	vars.v[TPL_SESSION_ID] = "d75a77b69052e-2b0c4fea3a4si1234567a.2";
	vars.v[TPL_DATE] = "Fri, 5 Aug 2016 16:24:41 -0700";
	for (i = 0; i < NROWS(expand_cases); i++) {
		const struct expand_case *c = &expand_cases[i];
		char *got = expand(c->tpl, &vars);

		if (strcmp(got, c->want) != 0) {
			print_error("%s: got \"%s\" want \"%s\"\n", c->label,
			            got, c->want);
			fail();
		}
		free(got);
	}
}

static void
test_expand_null_vars(void **state)
{
	char *got;

	(void)state;
	got = expand("x{hostname}y", NULL);
	assert_string_equal(got, "xy");
	free(got);
}

/* {date} in zone tz: matches the RFC 5322 shape, ends with zone */
static void
date_in_zone(const char *tz, const char *zone)
{
	static const char *re =
	    "^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [1-9][0-9]? "
	    "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} "
	    "[0-2][0-9]:[0-5][0-9]:[0-6][0-9] [+-][0-9]{4}$";
	regex_t rx;
	char *got = NULL, want[64];
	int tries;

	setenv("TZ", tz, 1);
	tzset();
	assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	for (tries = 0; tries < 5; tries++) {
		time_t t0 = time(NULL), t1;
		struct tm tm;

		free(got);
		got = expand("{date}", NULL);
		t1 = time(NULL);
		if (t0 != t1)
			continue; /* crossed a second: try again */
		/* glibc strftime in the "C" locale gives the same names */
		localtime_r(&t0, &tm);
		strftime(want, sizeof(want), "%a, %-d %b %Y %H:%M:%S %z", &tm);
		break;
	}
	if (regexec(&rx, got, 0, NULL, 0) != 0 || strcmp(got, want) != 0 ||
	    strcmp(got + strlen(got) - 5, zone) != 0) {
		print_error("date TZ=%s: got \"%s\" want \"%s\" (zone %s)\n",
		            tz, got, want, zone);
		fail();
	}
	regfree(&rx);
	free(got);
}

static void
test_date(void **state)
{
	(void)state;
	date_in_zone("UTC", "+0000");
	date_in_zone("UTC0", "+0000");
	date_in_zone("MST7", "-0700"); /* POSIX TZ, no DST */
	date_in_zone("IST-5:30", "+0530");
	unsetenv("TZ");
	tzset();
}

struct date_case {
	const char *label;
	const char *tz;
	time_t t;
	const char *fmt;
	const char *want;
};

/* 984041590 is 2001-03-08 08:53:10 UTC (Sendmail's example, FACTS 8);
 * 1758208088 is 2025-09-18 15:08:08 UTC (Exim's, FACTS 9). */
static const struct date_case date_cases[] = {
    {"sendmail, +0200", "IST-2", 984041590, "%a, %-d %b %Y %H:%M:%S %z (%Z)",
     "Thu, 8 Mar 2001 10:53:10 +0200 (IST)"},
    {"exim two-digit day", "UTC0", 1758208088, "%a, %d %b %Y %H:%M:%S %z",
     "Thu, 18 Sep 2025 15:08:08 +0000"},
    {"exim day 8", "UTC0", 984041590, "%a, %d %b %Y %H:%M:%S %z",
     "Thu, 08 Mar 2001 08:53:10 +0000"},
    {"rfc 5322 default", "MST7", 984041590, TEMPLATE_DATE_RFC5322,
     "Thu, 8 Mar 2001 01:53:10 -0700"},
    {"ctime", "UTC0", 984041590, TEMPLATE_DATE_CTIME,
     "Thu Mar  8 08:53:10 2001"},
    {"ctime two-digit day", "UTC0", 1758208088, TEMPLATE_DATE_CTIME,
     "Thu Sep 18 15:08:08 2025"},
    {"long names, upper", "UTC0", 1758208088, "%A %B %^a %^b %h",
     "Thursday September THU SEP Sep"},
    {"percent and text", "UTC0", 1758208088, "100%% at %H:%M GMT",
     "100% at 15:08 GMT"},
    {"epoch", "UTC0", 1758208088, "%s", "1758208088"},
    {"unchecked stays", "UTC0", 1758208088, "%Q %c", "%Q %c"},
    {"empty", "UTC0", 1758208088, "", ""},
};

static void
set_tz(const char *tz)
{
	if (tz != NULL)
		setenv("TZ", tz, 1);
	else
		unsetenv("TZ");
	tzset();
}

static void
test_date_formats(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(date_cases); i++) {
		const struct date_case *c = &date_cases[i];
		char got[TEMPLATE_DATE_MAX];
		size_t n;

		set_tz(c->tz);
		n = template_date(c->fmt, c->t, got, sizeof(got));
		if (strcmp(got, c->want) != 0 || n != strlen(c->want)) {
			print_error("%s: got \"%s\" (%zu) want \"%s\"\n",
			            c->label, got, n, c->want);
			fail();
		}
	}
	set_tz(NULL);
}

/* A short buffer cuts the date, always NUL-terminated. */
static void
test_date_cut(void **state)
{
	char got[6];

	(void)state;
	set_tz("UTC0");
	assert_int_equal(
	    template_date(TEMPLATE_DATE_RFC5322, 1758208088, got, sizeof(got)),
	    5);
	assert_string_equal(got, "Thu, ");
	assert_int_equal(template_date("%a", 1758208088, got, 0), 0);
	set_tz(NULL);
}

static const struct check_case date_check_cases[] = {
    {"rfc 5322", TEMPLATE_DATE_RFC5322, 0, 0},
    {"sendmail", "%a, %-d %b %Y %H:%M:%S %z (%Z)", 0, 0},
    {"ctime", TEMPLATE_DATE_CTIME, 0, 0},
    {"flags and width", "%_5d %010Y %#Z %^b", 0, 0},
    {"no conversion", "GMT", 0, 0},
    {"percent", "%%", 0, 0},
    {"empty", "", 0, 0},
    {"locale's %c", "x %c", -1, 2},
    {"newline %n", "%H%n", -1, 2},
    {"tab %t", "%t", -1, 0},
    {"unknown %Q", "ok %H %Q", -1, 6},
    {"lone percent", "50%", -1, 2},
    {"flag only", "%-", -1, 0},
    {"control character", "a\tb", -1, 1},
    {"E modifier", "%Ey", -1, 0},
};

static void
test_date_check(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS(date_check_cases); i++) {
		const struct check_case *c = &date_check_cases[i];
		size_t pos = 999;
		int rc = template_date_check(c->tpl, &pos);

		if (rc != c->rc || (rc < 0 && pos != c->errpos)) {
			print_error("%s: got %d at %zu want %d at %zu\n",
			            c->label, rc, pos, c->rc, c->errpos);
			fail();
		}
	}
}

/* {date} follows vars->date_format, and date_format_utc at offset 0. */
static void
test_date_vars(void **state)
{
	struct tpl_vars v = {{NULL}, "%Y|%Z", "%Y GMT"};
	char want[64], *got;
	struct tm tm;
	time_t t0;

	(void)state;
	for (int pass = 0; pass < 2; pass++) {
		set_tz(pass == 0 ? "IST-2" : "UTC0");
		for (int tries = 0; tries < 5; tries++) {
			t0 = time(NULL);
			got = expand("[{date}]", &v);
			if (time(NULL) == t0)
				break;
			free(got); /* crossed a second: again */
			got = NULL;
		}
		assert_non_null(got);
		localtime_r(&t0, &tm);
		snprintf(want, sizeof(want),
		         pass == 0 ? "[%d|IST]" : "[%d GMT]",
		         tm.tm_year + 1900);
		if (strcmp(got, want) != 0) {
			print_error("pass %d: got \"%s\" want \"%s\"\n", pass,
			            got, want);
			fail();
		}
		free(got);
	}
	/* "" for the UTC format: date_format everywhere */
	v.date_format_utc = "";
	got = expand("{date}", &v);
	assert_non_null(strchr(got, '|'));
	free(got);
	set_tz(NULL);
}

/* {unix_time}, {pid}, {ctime}: computed when not given. */
static void
test_computed(void **state)
{
	char want[128], *got;
	long long t0, t;

	(void)state;
	t0 = (long long)time(NULL);
	got = expand("{unix_time}", NULL);
	t = atoll(got);
	if (t < t0 || t > t0 + 2) {
		print_error("unix_time: got %s around %lld\n", got, t0);
		fail();
	}
	free(got);

	snprintf(want, sizeof(want), "qp %ld.", (long)getpid());
	got = expand("qp {pid}.", NULL);
	assert_string_equal(got, want);
	free(got);

	set_tz("UTC0");
	for (int tries = 0; tries < 5; tries++) {
		time_t now = time(NULL);
		char *c, buf[64];

		got = expand("; {ctime}", NULL);
		if (time(NULL) != now) {
			free(got);
			continue;
		}
		c = ctime_r(&now, buf); /* the C library's, with its \n */
		c[strlen(c) - 1] = '\0';
		snprintf(want, sizeof(want), "; %s", c);
		assert_string_equal(got, want);
		free(got);
		break;
	}
	set_tz(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_check),
	    cmocka_unit_test(test_expand_all),
	    cmocka_unit_test(test_expand),
	    cmocka_unit_test(test_expand_null_vars),
	    cmocka_unit_test(test_date),
	    cmocka_unit_test(test_date_formats),
	    cmocka_unit_test(test_date_cut),
	    cmocka_unit_test(test_date_check),
	    cmocka_unit_test(test_date_vars),
	    cmocka_unit_test(test_computed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
