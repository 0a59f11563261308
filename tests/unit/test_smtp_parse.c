/*
 * test_smtp_parse.c - unit tests for smtp_parse.c: command split, MAIL and
 * RCPT paths and parameters, EHLO domains, BDAT arguments, base64 and
 * AUTH PLAIN. Table-driven; each row has a label and failures print
 * got/want. Does not test which parameters a profile allows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smtp_parse.h"

#define B(s)     s, sizeof(s) - 1
#define NROWS(t) (sizeof(t) / sizeof((t)[0]))

/* --- command split --- */

struct cmd_case {
	const char *label;
	const char *line;
	size_t len;
	const char *verb;
	size_t verb_len;
	const char *args;
	bool has_nul;
};

static const struct cmd_case cmd_cases[] = {
    {"mail", B("MAIL FROM:<a@b.c>"), "MAIL", 4, "FROM:<a@b.c>", false},
    {"lower case, trailing spaces", B("ehlo foo.example  "), "EHLO", 4,
     "foo.example", false},
    {"extra spaces after verb", B("HELO   x"), "HELO", 4, "x", false},
    {"empty line", B(""), "", 0, "", false},
    {"verb only", B("NOOP"), "NOOP", 4, "", false},
    {"verb and spaces", B("DATA   "), "DATA", 4, "", false},
    {"long verb truncated", B("VERYLONGVERBNAMEXYZ arg"), "VERYLONGVERBNAME",
     19, "arg", false},
    {"NUL in line", B("QUIT\0x"), "QUIT\0X", 6, "", true},
};

static void
test_command(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NROWS(cmd_cases); i++) {
		const struct cmd_case *c = &cmd_cases[i];
		struct smtp_cmd cmd;
		size_t vl =
		    c->verb_len < SMTP_VERB_MAX ? c->verb_len : SMTP_VERB_MAX;

		smtp_parse_command(c->line, c->len, &cmd);
		if (cmd.verb_len != c->verb_len ||
		    memcmp(cmd.verb, c->verb, vl) != 0 ||
		    cmd.verb[vl] != '\0' || cmd.args_len != strlen(c->args) ||
		    memcmp(cmd.args, c->args, cmd.args_len) != 0 ||
		    cmd.has_nul != c->has_nul) {
			print_error("%s: got verb \"%s\"/%zu args \"%.*s\" nul "
			            "%d; want \"%s\"/%zu \"%s\" %d\n",
			            c->label, cmd.verb, cmd.verb_len,
			            (int)cmd.args_len, cmd.args, cmd.has_nul,
			            c->verb, c->verb_len, c->args, c->has_nul);
			fail();
		}
	}
}

/* --- MAIL/RCPT paths --- */

#define MAILP "FROM:", true
#define RCPTP "TO:", false

struct path_case {
	const char *label;
	const char *args;
	const char *prefix;
	bool allow_null;
	enum path_error err;
	const char *addr; /* when PATH_OK */
	size_t nparams;   /* when PATH_OK; *bad when PATH_BAD_PARAM */
};

static const struct path_case path_cases[] = {
    {"plain", "FROM:<a@example.com>", MAILP, PATH_OK, "a@example.com", 0},
    {"lower-case prefix", "from:<a@example.com>", MAILP, PATH_OK,
     "a@example.com", 0},
    {"null sender", "FROM:<>", MAILP, PATH_OK, "", 0},
    {"null sender with params", "FROM:<> SIZE=10 BODY=8BITMIME", MAILP, PATH_OK,
     "", 2},
    {"space after colon", "FROM: <a@b.example>", MAILP, PATH_OK, "a@b.example",
     0},
    {"spaces after colon", "FROM:   <a@b.example>", MAILP, PATH_OK,
     "a@b.example", 0},
    {"bare address", "FROM:a@b.example", MAILP, PATH_OK, "a@b.example", 0},
    {"bare address with param", "FROM:a@b.example SIZE=1", MAILP, PATH_OK,
     "a@b.example", 1},
    {"params", "FROM:<a@b.c> SIZE=100 BODY=8BITMIME", MAILP, PATH_OK, "a@b.c",
     2},
    {"params, extra spaces", "FROM:<a@b.c>  SIZE=100  SMTPUTF8", MAILP, PATH_OK,
     "a@b.c", 2},
    {"quoted local part", "FROM:<\"john doe\"@b.c>", MAILP, PATH_OK,
     "\"john doe\"@b.c", 0},
    {"quoted with > and @", "FROM:<\"a>b@c\"@d.e>", MAILP, PATH_OK,
     "\"a>b@c\"@d.e", 0},
    {"quoted pair", "FROM:<\"a\\\"b\"@d.e>", MAILP, PATH_OK, "\"a\\\"b\"@d.e",
     0},
    {"atext specials", "FROM:<a!#$%&'*+-/=?^_`{|}~b@c.d>", MAILP, PATH_OK,
     "a!#$%&'*+-/=?^_`{|}~b@c.d", 0},
    {"source route stripped", "FROM:<@r1.example,@r2.example:u@d.example>",
     MAILP, PATH_OK, "u@d.example", 0},
    {"source route with literal", "TO:<@[IPv6:::1]:u@d.example>", RCPTP,
     PATH_OK, "u@d.example", 0},
    {"IPv4 literal domain", "FROM:<u@[192.0.2.1]>", MAILP, PATH_OK,
     "u@[192.0.2.1]", 0},
    {"IPv6 literal domain", "FROM:<u@[IPv6:2001:db8::1]>", MAILP, PATH_OK,
     "u@[IPv6:2001:db8::1]", 0},
    {"UTF-8 local and domain",
     "FROM:<\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9"
     "\xbf\xe5\x91\x8a>",
     MAILP, PATH_OK,
     "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5"
     "\x91\x8a",
     0},
    {"UTF-8 param value", "FROM:<a@b.c> AUTH=\xc3\xa9", MAILP, PATH_OK, "a@b.c",
     1},
    {"rcpt postmaster", "TO:<postmaster>", RCPTP, PATH_OK, "postmaster", 0},
    {"rcpt Postmaster", "TO:<Postmaster>", RCPTP, PATH_OK, "Postmaster", 0},
    {"rcpt with notify", "TO:<a@b.c> NOTIFY=NEVER", RCPTP, PATH_OK, "a@b.c", 1},
    {"rcpt null", "TO:<>", RCPTP, PATH_NULL_NOT_OK, NULL, 0},
    {"mail postmaster without domain", "FROM:<postmaster>", MAILP,
     PATH_BAD_SYNTAX, NULL, 0},
    {"missing >", "FROM:<a@b.c", MAILP, PATH_BAD_SYNTAX, NULL, 0},
    {"missing <", "FROM:a@b.c>", MAILP, PATH_BAD_SYNTAX, NULL, 0},
    {"double <", "FROM:<<a@b.c>>", MAILP, PATH_BAD_SYNTAX, NULL, 0},
    {"no colon", "FROM <a@b.c>", MAILP, PATH_BAD_PREFIX, NULL, 0},
    {"wrong prefix", "TO:<a@b.c>", MAILP, PATH_BAD_PREFIX, NULL, 0},
    {"empty", "", MAILP, PATH_BAD_PREFIX, NULL, 0},
    {"nothing after colon", "FROM:", MAILP, PATH_BAD_SYNTAX, NULL, 0},
    {"space inside", "FROM:<a @b.c>", MAILP, PATH_BAD_SYNTAX, NULL, 0},
    {"space before >", "FROM:<a@b.c >", MAILP, PATH_BAD_SYNTAX, NULL, 0},
    {"param glued to >", "FROM:<a@b.c>SIZE=1", MAILP, PATH_BAD_SYNTAX, NULL, 0},
    {"no domain", "FROM:<a@>", MAILP, PATH_BAD_SYNTAX, NULL, 0},
    {"no local part", "FROM:<@b.c>", MAILP, PATH_BAD_SYNTAX, NULL, 0},
    {"no @", "FROM:<ab.c>", MAILP, PATH_BAD_SYNTAX, NULL, 0},
    {"two @", "FROM:<a@b@c.d>", MAILP, PATH_BAD_SYNTAX, NULL, 0},
    {"double dot local", "FROM:<a..b@c.d>", MAILP, PATH_BAD_SYNTAX, NULL, 0},
    {"leading dot local", "FROM:<.a@c.d>", MAILP, PATH_BAD_SYNTAX, NULL, 0},
    {"hyphen label", "FROM:<a@-b.c>", MAILP, PATH_BAD_SYNTAX, NULL, 0},
    {"empty label", "FROM:<a@b..c>", MAILP, PATH_BAD_SYNTAX, NULL, 0},
    {"trailing dot domain", "FROM:<a@b.c.>", MAILP, PATH_BAD_SYNTAX, NULL, 0},
    {"bad IPv4 literal", "FROM:<a@[1.2.3.256]>", MAILP, PATH_BAD_SYNTAX, NULL,
     0},
    {"bad UTF-8", "FROM:<\xff@b.c>", MAILP, PATH_BAD_SYNTAX, NULL, 0},
    {"overlong UTF-8", "FROM:<\xc0\xaf@b.c>", MAILP, PATH_BAD_SYNTAX, NULL, 0},
    {"unclosed quote", "FROM:<\"ab@c.d>", MAILP, PATH_BAD_SYNTAX, NULL, 0},
    {"bad source route", "FROM:<@r1.example u@d.example>", MAILP,
     PATH_BAD_SYNTAX, NULL, 0},
    {"source route without colon", "FROM:<@r1.example,u@d.example>", MAILP,
     PATH_BAD_SYNTAX, NULL, 0},
    {"empty param value", "FROM:<a@b.c> SIZE=", MAILP, PATH_BAD_PARAM, NULL, 0},
    {"empty param key", "FROM:<a@b.c> SIZE=1 =1", MAILP, PATH_BAD_PARAM, NULL,
     1},
    {"param key starts with -", "FROM:<a@b.c> -X=1", MAILP, PATH_BAD_PARAM,
     NULL, 0},
    {"param key with _", "FROM:<a@b.c> X_Y", MAILP, PATH_BAD_PARAM, NULL, 0},
    {"param value with =", "FROM:<a@b.c> X=a=b", MAILP, PATH_BAD_PARAM, NULL,
     0},
    {"param key too long", "FROM:<a@b.c> ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456=1",
     MAILP, PATH_BAD_PARAM, NULL, 0},
    {"17 params", "FROM:<a@b.c> A B C D E F G H I J K L M N O P Q", MAILP,
     PATH_TOO_MANY_PARAMS, NULL, 0},
    {"16 params", "FROM:<a@b.c> A B C D E F G H I J K L M N O P", MAILP,
     PATH_OK, "a@b.c", 16},
};

static void
path_check(const struct path_case *c, const char *args, size_t len)
{
	struct smtp_path p;
	size_t bad = 999;
	enum path_error e;

	e = smtp_parse_path(args, len, c->prefix, c->allow_null, &p, &bad);
	if (e != c->err ||
	    (e == PATH_OK &&
	     (strcmp(p.addr, c->addr) != 0 || p.addr_len != strlen(c->addr) ||
	      p.nparams != c->nparams)) ||
	    (e == PATH_BAD_PARAM && bad != c->nparams)) {
		print_error("%s: got err %d addr \"%s\" nparams %zu bad %zu; "
		            "want err %d addr \"%s\" nparams/bad %zu\n",
		            c->label, e, e == PATH_OK ? p.addr : "", p.nparams,
		            bad, c->err, c->addr ? c->addr : "", c->nparams);
		fail();
	}
}

static void
test_path(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NROWS(path_cases); i++)
		path_check(&path_cases[i], path_cases[i].args,
		           strlen(path_cases[i].args));
}

/* "FROM:<" + nlocal x 'a' + "@b.c>": SMTP_PATH_MAX is 512 */
static void
path_len_check(size_t nlocal, enum path_error want)
{
	char args[1200], label[64];
	struct path_case c = {NULL, NULL, MAILP, want, NULL, 0};
	size_t n;

	memcpy(args, "FROM:<", 6);
	memset(args + 6, 'a', nlocal);
	n = 6 + nlocal + (size_t)snprintf(args + 6 + nlocal, 8, "@b.c>");
	snprintf(label, sizeof(label), "%zu-byte local part", nlocal);
	c.label = label;
	c.addr = strndup(args + 6, n - 7);
	path_check(&c, args, n);
	free((char *)c.addr);
}

static void
test_path_too_long(void **state)
{
	(void)state;
	path_len_check(508, PATH_OK);
	path_len_check(509, PATH_TOO_LONG);
	path_len_check(600, PATH_TOO_LONG);
}

/* --- MAIL parameters --- */

struct mail_case {
	const char *label;
	const char *args;
	int rc;
	size_t bad;
	bool has_size;
	uint64_t size;
	enum body_type body;
	bool smtputf8;
	enum dsn_ret ret;
	const char *envid;
	const char *auth;
};

static const struct mail_case mail_cases[] = {
    {"no params", "FROM:<a@b.c>", 0, 0, false, 0, BODY_NONE, false, RET_NONE,
     "", ""},
    {"SIZE", "FROM:<a@b.c> SIZE=12345", 0, 0, true, 12345, BODY_NONE, false,
     RET_NONE, "", ""},
    {"SIZE=0", "FROM:<a@b.c> SIZE=0", 0, 0, true, 0, BODY_NONE, false, RET_NONE,
     "", ""},
    {"SIZE max", "FROM:<a@b.c> SIZE=18446744073709551615", 0, 0, true,
     UINT64_MAX, BODY_NONE, false, RET_NONE, "", ""},
    {"SIZE overflow", "FROM:<a@b.c> SIZE=18446744073709551616", -1, 0, false, 0,
     BODY_NONE, false, RET_NONE, NULL, NULL},
    {"SIZE not digits", "FROM:<a@b.c> SIZE=12a", -1, 0, false, 0, BODY_NONE,
     false, RET_NONE, NULL, NULL},
    {"SIZE negative", "FROM:<a@b.c> SIZE=-1", -1, 0, false, 0, BODY_NONE, false,
     RET_NONE, NULL, NULL},
    {"SIZE no value", "FROM:<a@b.c> SIZE", -1, 0, false, 0, BODY_NONE, false,
     RET_NONE, NULL, NULL},
    {"lower-case keys and values", "FROM:<a@b.c> size=10 body=8bitmime", 0, 0,
     true, 10, BODY_8BITMIME, false, RET_NONE, "", ""},
    {"BODY=7BIT", "FROM:<a@b.c> BODY=7BIT", 0, 0, false, 0, BODY_7BIT, false,
     RET_NONE, "", ""},
    {"BODY=BINARYMIME", "FROM:<a@b.c> BODY=BINARYMIME", 0, 0, false, 0,
     BODY_BINARYMIME, false, RET_NONE, "", ""},
    {"BODY=8BIT", "FROM:<a@b.c> BODY=8BIT", -1, 0, false, 0, BODY_NONE, false,
     RET_NONE, NULL, NULL},
    {"SMTPUTF8", "FROM:<a@b.c> SMTPUTF8", 0, 0, false, 0, BODY_NONE, true,
     RET_NONE, "", ""},
    {"SMTPUTF8 with value", "FROM:<a@b.c> SMTPUTF8=YES", -1, 0, false, 0,
     BODY_NONE, false, RET_NONE, NULL, NULL},
    {"RET=FULL", "FROM:<a@b.c> RET=FULL", 0, 0, false, 0, BODY_NONE, false,
     RET_FULL, "", ""},
    {"RET=hdrs", "FROM:<a@b.c> RET=hdrs", 0, 0, false, 0, BODY_NONE, false,
     RET_HDRS, "", ""},
    {"RET=ALL", "FROM:<a@b.c> RET=ALL", -1, 0, false, 0, BODY_NONE, false,
     RET_NONE, NULL, NULL},
    {"ENVID", "FROM:<a@b.c> ENVID=QQ+2Bx", 0, 0, false, 0, BODY_NONE, false,
     RET_NONE, "QQ+2Bx", ""},
    {"ENVID lower hex", "FROM:<a@b.c> ENVID=a+2bx", -1, 0, false, 0, BODY_NONE,
     false, RET_NONE, NULL, NULL},
    {"ENVID short escape", "FROM:<a@b.c> ENVID=a+2", -1, 0, false, 0, BODY_NONE,
     false, RET_NONE, NULL, NULL},
    {"AUTH=<>", "FROM:<a@b.c> AUTH=<>", 0, 0, false, 0, BODY_NONE, false,
     RET_NONE, "", "<>"},
    {"AUTH=xtext", "FROM:<a@b.c> AUTH=user+40example.com", 0, 0, false, 0,
     BODY_NONE, false, RET_NONE, "", "user+40example.com"},
    {"AUTH bad xtext", "FROM:<a@b.c> AUTH=x+ZZ", -1, 0, false, 0, BODY_NONE,
     false, RET_NONE, NULL, NULL},
    {"all", "FROM:<> SIZE=1 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=e AUTH=<>", 0,
     0, true, 1, BODY_8BITMIME, true, RET_HDRS, "e", "<>"},
    {"duplicate SIZE", "FROM:<a@b.c> SIZE=1 SIZE=2", -1, 1, false, 0, BODY_NONE,
     false, RET_NONE, NULL, NULL},
    {"duplicate, different case", "FROM:<a@b.c> BODY=7BIT body=7bit", -1, 1,
     false, 0, BODY_NONE, false, RET_NONE, NULL, NULL},
    {"unknown key", "FROM:<a@b.c> FOO=1", -1, 0, false, 0, BODY_NONE, false,
     RET_NONE, NULL, NULL},
    {"unknown after good", "FROM:<a@b.c> SIZE=1 XFOO", -1, 1, false, 0,
     BODY_NONE, false, RET_NONE, NULL, NULL},
    {"RCPT param on MAIL", "FROM:<a@b.c> NOTIFY=NEVER", -1, 0, false, 0,
     BODY_NONE, false, RET_NONE, NULL, NULL},
};

static void
test_mail_params(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NROWS(mail_cases); i++) {
		const struct mail_case *c = &mail_cases[i];
		struct smtp_path p;
		struct mail_params mp;
		size_t bad = 999;
		int rc;

		assert_int_equal(smtp_parse_path(c->args, strlen(c->args),
		                                 "FROM:", true, &p, &bad),
		                 PATH_OK);
		rc = smtp_mail_params(&p, &mp, &bad);
		if (rc != c->rc || (rc < 0 && bad != c->bad) ||
		    (rc == 0 &&
		     (mp.has_size != c->has_size || mp.size != c->size ||
		      mp.body != c->body || mp.smtputf8 != c->smtputf8 ||
		      mp.ret != c->ret || strcmp(mp.envid, c->envid) ||
		      strcmp(mp.auth, c->auth)))) {
			print_error(
			    "%s: got rc %d bad %zu size %d/%llu body %d "
			    "utf8 %d ret %d envid \"%s\" auth \"%s\"; "
			    "want rc %d bad %zu size %d/%llu body %d "
			    "utf8 %d ret %d envid \"%s\" auth \"%s\"\n",
			    c->label, rc, bad, mp.has_size,
			    (unsigned long long)mp.size, mp.body, mp.smtputf8,
			    mp.ret, mp.envid, mp.auth, c->rc, c->bad,
			    c->has_size, (unsigned long long)c->size, c->body,
			    c->smtputf8, c->ret, c->envid ? c->envid : "",
			    c->auth ? c->auth : "");
			fail();
		}
	}
}

static void
test_envid_length(void **state)
{
	char args[256];
	struct smtp_path p;
	struct mail_params mp;
	size_t bad, n;

	(void)state;
	n = (size_t)snprintf(args, sizeof(args), "FROM:<a@b.c> ENVID=");
	memset(args + n, 'e', 100);
	n += 100;
	assert_int_equal(smtp_parse_path(args, n, "FROM:", true, &p, &bad),
	                 PATH_OK);
	assert_int_equal(smtp_mail_params(&p, &mp, &bad), 0);
	assert_int_equal(strlen(mp.envid), 100);
	args[n++] = 'e';
	assert_int_equal(smtp_parse_path(args, n, "FROM:", true, &p, &bad),
	                 PATH_OK);
	assert_int_equal(smtp_mail_params(&p, &mp, &bad), -1);
	assert_int_equal(bad, 0);
}

/* --- RCPT parameters --- */

struct rcpt_case {
	const char *label;
	const char *args;
	int rc;
	size_t bad;
	unsigned notify;
	const char *orcpt;
};

static const struct rcpt_case rcpt_cases[] = {
    {"none", "TO:<a@b.c>", 0, 0, 0, ""},
    {"NOTIFY=NEVER", "TO:<a@b.c> NOTIFY=NEVER", 0, 0, NOTIFY_NEVER, ""},
    {"NOTIFY list", "TO:<a@b.c> NOTIFY=SUCCESS,FAILURE,DELAY", 0, 0,
     NOTIFY_SUCCESS | NOTIFY_FAILURE | NOTIFY_DELAY, ""},
    {"notify lower case", "TO:<a@b.c> notify=failure", 0, 0, NOTIFY_FAILURE,
     ""},
    {"NEVER combined", "TO:<a@b.c> NOTIFY=NEVER,SUCCESS", -1, 0, 0, NULL},
    {"NEVER after", "TO:<a@b.c> NOTIFY=DELAY,NEVER", -1, 0, 0, NULL},
    {"empty element", "TO:<a@b.c> NOTIFY=SUCCESS,,DELAY", -1, 0, 0, NULL},
    {"trailing comma", "TO:<a@b.c> NOTIFY=SUCCESS,", -1, 0, 0, NULL},
    {"unknown notify", "TO:<a@b.c> NOTIFY=NONE", -1, 0, 0, NULL},
    {"ORCPT", "TO:<a@b.c> ORCPT=rfc822;a+40b.c", 0, 0, 0, "rfc822;a+40b.c"},
    {"both", "TO:<a@b.c> NOTIFY=DELAY ORCPT=rfc822;x", 0, 0, NOTIFY_DELAY,
     "rfc822;x"},
    {"ORCPT no type", "TO:<a@b.c> ORCPT=;x", -1, 0, 0, NULL},
    {"ORCPT no ;", "TO:<a@b.c> ORCPT=rfc822", -1, 0, 0, NULL},
    {"ORCPT no address", "TO:<a@b.c> ORCPT=rfc822;", -1, 0, 0, NULL},
    {"ORCPT bad xtext", "TO:<a@b.c> ORCPT=rfc822;a+4", -1, 0, 0, NULL},
    {"duplicate NOTIFY", "TO:<a@b.c> NOTIFY=DELAY NOTIFY=DELAY", -1, 1, 0,
     NULL},
    {"duplicate ORCPT", "TO:<a@b.c> ORCPT=a;b ORCPT=a;b", -1, 1, 0, NULL},
    {"NOTIFY without value", "TO:<a@b.c> NOTIFY", -1, 0, 0, NULL},
    {"MAIL param on RCPT", "TO:<a@b.c> NOTIFY=NEVER SIZE=1", -1, 1, 0, NULL},
};

static void
test_rcpt_params(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NROWS(rcpt_cases); i++) {
		const struct rcpt_case *c = &rcpt_cases[i];
		struct smtp_path p;
		struct rcpt_params rp;
		size_t bad = 999;
		int rc;

		assert_int_equal(smtp_parse_path(c->args, strlen(c->args),
		                                 "TO:", false, &p, &bad),
		                 PATH_OK);
		rc = smtp_rcpt_params(&p, &rp, &bad);
		if (rc != c->rc || (rc < 0 && bad != c->bad) ||
		    (rc == 0 &&
		     (rp.notify != c->notify || strcmp(rp.orcpt, c->orcpt)))) {
			print_error(
			    "%s: got rc %d bad %zu notify %u orcpt "
			    "\"%s\"; want rc %d bad %zu notify %u orcpt "
			    "\"%s\"\n",
			    c->label, rc, bad, rp.notify, rp.orcpt, c->rc,
			    c->bad, c->notify, c->orcpt ? c->orcpt : "");
			fail();
		}
	}
}

/* --- xtext, domains, BDAT --- */

struct bool_case {
	const char *label;
	const char *s;
	size_t len;
	bool want;
};

static const struct bool_case xtext_cases[] = {
    {"empty", B(""), true},
    {"plain", B("abc"), true},
    {"escape", B("+2B"), true},
    {"lower-case escape", B("+2b"), false},
    {"short escape", B("a+2"), false},
    {"lone plus", B("+"), false},
    {"equals", B("a=b"), false},
    {"space", B("a b"), false},
    {"8-bit", B("\xc3\xa9"), false},
};

static const struct bool_case domain_cases[] = {
    {"domain", B("example.com"), true},
    {"single label", B("localhost"), true},
    {"hyphen inside", B("a-b.c-d"), true},
    {"digits", B("123.example"), true},
    {"IPv4 literal", B("[192.0.2.1]"), true},
    {"IPv4 literal zeros", B("[0.0.0.0]"), true},
    {"IPv6 literal", B("[IPv6:2001:db8::1]"), true},
    {"IPv6 literal lower tag", B("[ipv6:::1]"), true},
    {"IPv6 v4-mapped", B("[IPv6:::ffff:192.0.2.1]"), true},
    {"IPv6 full", B("[IPv6:2001:db8:0:0:0:0:0:1]"), true},
    {"empty", B(""), false},
    {"leading hyphen", B("-a.com"), false},
    {"trailing hyphen", B("a-.com"), false},
    {"empty label", B("a..b"), false},
    {"leading dot", B(".a"), false},
    {"trailing dot", B("a."), false},
    {"underscore", B("exa_mple.com"), false},
    {"space", B("ex ample"), false},
    {"UTF-8 (EHLO wants A-labels)", B("\xe4\xbe\x8b.com"), false},
    {"IPv4 256", B("[256.1.1.1]"), false},
    {"IPv4 three parts", B("[1.2.3]"), false},
    {"IPv4 five parts", B("[1.2.3.4.5]"), false},
    {"IPv4 four digits", B("[1.2.3.0004]"), false},
    {"IPv6 without tag", B("[2001:db8::1]"), false},
    {"IPv6 tag with IPv4", B("[IPv6:1.2.3.4]"), false},
    {"IPv6 bad hex", B("[IPv6:zz::1]"), false},
    {"IPv6 two ::", B("[IPv6:1::2::3]"), false},
    {"unclosed literal", B("[1.2.3.4"), false},
    {"empty literal", B("[]"), false},
    {"general literal", B("[tag:foo]"), false},
    {"NUL", B("a\0b"), false},
};

static void
bool_table(const char *what, const struct bool_case *t, size_t n,
           bool (*fn)(const char *, size_t))
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fn(t[i].s, t[i].len) != t[i].want) {
			print_error("%s %s: got %d want %d\n", what, t[i].label,
			            !t[i].want, t[i].want);
			fail();
		}
}

static void
test_xtext(void **state)
{
	(void)state;
	bool_table("xtext", xtext_cases, NROWS(xtext_cases), smtp_xtext_valid);
}

static void
test_domain(void **state)
{
	char buf[300];

	(void)state;
	bool_table("domain", domain_cases, NROWS(domain_cases),
	           smtp_domain_valid);
	/* RFC 1035 / RFC 5321 4.5.3.1.2: labels <= 63, names <= 255 */
	memset(buf, 'a', 64);
	assert_true(smtp_domain_valid(buf, 63));
	assert_false(smtp_domain_valid(buf, 64));
	memset(buf, 'a', sizeof(buf));
	for (size_t i = 50; i < 250; i += 51)
		buf[i] = '.';
	assert_true(smtp_domain_valid(buf, 255));
	assert_false(smtp_domain_valid(buf, 256));
}

struct bdat_case {
	const char *label;
	const char *args;
	int rc;
	uint64_t size;
	bool last;
};

static const struct bdat_case bdat_cases[] = {
    {"0 LAST", "0 LAST", 0, 0, true},
    {"size only", "100", 0, 100, false},
    {"last lower case", "100 last", 0, 100, true},
    {"two spaces", "100  LAST", 0, 100, true},
    {"max", "18446744073709551615", 0, UINT64_MAX, false},
    {"after LAST", "100 LAST x", -1, 0, false},
    {"LASTX", "100 LASTX", -1, 0, false},
    {"not LAST", "100 MORE", -1, 0, false},
    {"empty", "", -1, 0, false},
    {"LAST only", "LAST", -1, 0, false},
    {"negative", "-1", -1, 0, false},
    {"plus", "+1", -1, 0, false},
    {"trailing junk", "1x", -1, 0, false},
    {"hex", "0x10", -1, 0, false},
    {"overflow", "18446744073709551616", -1, 0, false},
    {"tab", "1\tLAST", -1, 0, false},
};

static void
test_bdat(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NROWS(bdat_cases); i++) {
		const struct bdat_case *c = &bdat_cases[i];
		uint64_t size = 7;
		bool last = true;
		int rc = smtp_bdat_args(c->args, strlen(c->args), &size, &last);

		if (rc != c->rc ||
		    (rc == 0 && (size != c->size || last != c->last))) {
			print_error("%s: got %d %llu %d want %d %llu %d\n",
			            c->label, rc, (unsigned long long)size,
			            last, c->rc, (unsigned long long)c->size,
			            c->last);
			fail();
		}
	}
}

/* --- base64 and AUTH PLAIN --- */

struct b64_case {
	const char *label;
	const char *in;
	long rc;
	const char *want; /* rc bytes */
};

static const struct b64_case b64_cases[] = {
    {"empty", "", 0, ""},
    {"= is empty (RFC 4954 4)", "=", 0, ""},
    {"PLAIN", "AGZvbwBiYXI=", 8, "\0foo\0bar"},
    {"no padding", "Zm9v", 3, "foo"},
    {"two pad", "Zm9vYg==", 4, "foob"},
    {"one pad", "Zm9vYmE=", 5, "fooba"},
    {"one byte", "Zg==", 1, "f"},
    {"+ and /", "+/+/", 3, "\xfb\xff\xbf"},
    {"bad char", "Zm9v*A==", -1, NULL},
    {"URL-safe alphabet", "-_-_", -1, NULL},
    {"length 7", "Zm9vYg=", -1, NULL},
    {"missing padding", "Zm9vYg", -1, NULL},
    {"pad inside", "Zm=vYg==", -1, NULL},
    {"pad then data", "Zm9vYg==Zm9v", -1, NULL},
    {"three pad", "Z===", -1, NULL},
    {"all pad", "====", -1, NULL},
    {"pad only two", "==", -1, NULL},
    {"non-zero pad bits 2", "Zh==", -1, NULL},
    {"non-zero pad bits 1", "Zm9vYh==", -1, NULL},
    {"non-zero pad bits 3", "Zm9vYmF=", -1, NULL},
    {"space", "Zm9v YmE=", -1, NULL},
    {"CRLF", "Zm9v\r\n", -1, NULL},
};

static void
test_base64(void **state)
{
	unsigned char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < NROWS(b64_cases); i++) {
		const struct b64_case *c = &b64_cases[i];
		long rc =
		    smtp_base64_decode(c->in, strlen(c->in), out, sizeof(out));

		if (rc != c->rc ||
		    (rc > 0 && memcmp(out, c->want, (size_t)rc) != 0)) {
			print_error("%s: got %ld want %ld\n", c->label, rc,
			            c->rc);
			fail();
		}
	}
	/* output too small */
	assert_int_equal(smtp_base64_decode("Zm9v", 4, out, 2), -1);
	assert_int_equal(smtp_base64_decode("Zm9v", 4, out, 3), 3);
}

struct plain_case {
	const char *label;
	const char *msg;
	size_t len;
	int rc;
	const char *user;
	const char *pass;
};

static const struct plain_case plain_cases[] = {
    {"no authzid", B("\0user\0pass"), 0, "user", "pass"},
    {"authzid", B("admin\0user\0pass"), 0, "user", "pass"},
    {"empty password", B("\0user\0"), 0, "user", ""},
    {"empty both", B("\0\0"), 0, "", ""},
    {"one NUL", B("user\0pass"), -1, NULL, NULL},
    {"three NULs", B("\0u\0p\0"), -1, NULL, NULL},
    {"no NUL", B("userpass"), -1, NULL, NULL},
    {"empty", B(""), -1, NULL, NULL},
};

static void
test_auth_plain(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NROWS(plain_cases); i++) {
		const struct plain_case *c = &plain_cases[i];
		const char *u = NULL, *p = NULL;
		size_t ul = 0, pl = 0;
		int rc = smtp_auth_plain((const unsigned char *)c->msg, c->len,
		                         &u, &ul, &p, &pl);

		if (rc != c->rc ||
		    (rc == 0 &&
		     (ul != strlen(c->user) || memcmp(u, c->user, ul) != 0 ||
		      pl != strlen(c->pass) || memcmp(p, c->pass, pl) != 0))) {
			print_error("%s: got %d \"%.*s\" \"%.*s\" want %d "
			            "\"%s\" \"%s\"\n",
			            c->label, rc, rc == 0 ? (int)ul : 0,
			            rc == 0 ? u : "", rc == 0 ? (int)pl : 0,
			            rc == 0 ? p : "", c->rc,
			            c->user ? c->user : "",
			            c->pass ? c->pass : "");
			fail();
		}
	}
}

/* decode then split, as the AUTH PLAIN command does */
static void
test_auth_plain_base64(void **state)
{
	unsigned char buf[64];
	const char *u, *p;
	size_t ul, pl;
	long n;

	(void)state;
	n = smtp_base64_decode(B("AHVzZXIAcGFzcw=="), buf, sizeof(buf));
	assert_int_equal(n, 10);
	assert_int_equal(smtp_auth_plain(buf, (size_t)n, &u, &ul, &p, &pl), 0);
	assert_int_equal(ul, 4);
	assert_memory_equal(u, "user", 4);
	assert_int_equal(pl, 4);
	assert_memory_equal(p, "pass", 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_command),
	    cmocka_unit_test(test_path),
	    cmocka_unit_test(test_path_too_long),
	    cmocka_unit_test(test_mail_params),
	    cmocka_unit_test(test_envid_length),
	    cmocka_unit_test(test_rcpt_params),
	    cmocka_unit_test(test_xtext),
	    cmocka_unit_test(test_domain),
	    cmocka_unit_test(test_bdat),
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_auth_plain),
	    cmocka_unit_test(test_auth_plain_base64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
