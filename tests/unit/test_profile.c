/*
 * test_profile.c - unit tests for the profile layer: loading, validation,
 * extends, the schema rows, --check and --list-profiles.
 *
 * Table-driven: each case names a fixture under profiles/ (the tests run
 * in tests/unit) and either the field values a good profile must have or
 * the exact one-line error a bad one must produce. The shipped profiles
 * in ../../profiles are loaded too when they exist.
 *
 * The schema itself: every row has a doc, the defaults a profile gets are
 * the rows' defaults, a wrong type gives file:line:column, extends merges
 * per type, and the man page's key reference is the rows' rendering.
 *
 * Not here: rule matching (test_rules.c), template expansion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "profile.h"
#include "schema.h"
#include "template.h"

static const char *const fixture_dirs[] = {"profiles"};
static const char *label; /* the running case, for got/want messages */

/* ------------------------------------------------------------------ */
/* got/want helpers                                                    */

static void
want_str(const char *field, const char *got, const char *want)
{
	if (got == NULL && want == NULL)
		return;
	if (got != NULL && want != NULL && strcmp(got, want) == 0)
		return;
	print_error("%s: %s\n  got:  %s\n  want: %s\n", label, field,
	            got ? got : "(null)", want ? want : "(null)");
	fail();
}

static void
want_u64(const char *field, uint64_t got, uint64_t want)
{
	if (got == want)
		return;
	print_error("%s: %s\n  got:  %llu\n  want: %llu\n", label, field,
	            (unsigned long long)got, (unsigned long long)want);
	fail();
}

static void
want_reply(const char *field, const struct reply_text *r, size_t n, ...)
{
	va_list ap;

	want_u64(field, r->n, n);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		want_str(field, r->lines[i], va_arg(ap, const char *));
	va_end(ap);
}

#define WANT_STR(got, want) want_str(#got, got, want)
#define WANT_U64(got, want) want_u64(#got, got, want)
#define WANT_REPLY(p, id, ...)                                                 \
	want_reply(reply_id_str(id), &(p)->replies[id], __VA_ARGS__)

static const struct rule *
rule_named(const struct profile *p, const char *name)
{
	for (size_t i = 0; i < p->nrules; i++)
		if (strcmp(p->rules[i].name, name) == 0)
			return &p->rules[i];
	print_error("%s: no rule named %s\n", label, name);
	fail();
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Good profiles                                                       */

/* The tls: defaults; enabled as given. */
static void
check_tls_defaults(const struct tls_settings *ts, bool enabled)
{
	WANT_U64(ts->enabled, enabled);
	WANT_U64(ts->versions, TLSV_1_2 | TLSV_1_3);
	WANT_U64(ts->nciphers, 0);
	WANT_U64(ts->nciphersuites, 0);
	WANT_U64(ts->server_preference, true);
	WANT_U64(ts->ngroups, 0);
	WANT_U64(ts->dh_bits, 0);
	WANT_U64(ts->nsigalgs, 0);
	WANT_U64((uint64_t)(int64_t)ts->security_level, (uint64_t)(int64_t)-1);
	WANT_U64(ts->key_type, TLS_KEY_RSA);
	WANT_U64(ts->key_bits, 2048);
	WANT_U64(ts->no_shared_cipher, TLS_NOSHARED_OPENSSL);
	WANT_U64(ts->no_shared_version, TLS_NOSHARED_OPENSSL);
}

/* A rule without TLS actions: alert -1 (not 0, close_notify), at now. */
static void
want_no_tls_action(const struct rule *r)
{
	char f[160];

	snprintf(f, sizeof(f), "rule %s: act.alert", r->name);
	want_u64(f, (uint64_t)(int64_t)r->act.alert, (uint64_t)(int64_t)-1);
	snprintf(f, sizeof(f), "rule %s: act.at", r->name);
	want_u64(f, r->act.at, TLS_AT_NOW);
}

static void
check_min(const struct profile *p)
{
	WANT_STR(p->name, "good-min");
	WANT_STR(p->description, NULL);
	WANT_STR(p->path, "profiles/good_min.yaml");
	WANT_STR(p->hostname, "mx.lab.test");
	WANT_REPLY(p, REPLY_GREETING, 1, "220 {hostname} ESMTP smtp-mimic");
	WANT_REPLY(p, REPLY_HELO, 1, "250 {hostname}");
	/* the built-in texts: RFC 5321's own wording (proto.c) */
	WANT_REPLY(p, REPLY_MAIL_OK, 1, "250 2.1.0 OK");
	WANT_REPLY(p, REPLY_DATA_OK, 1, "250 2.0.0 OK");
	WANT_REPLY(p, REPLY_NEED_MAIL, 1, "503 5.5.1 Bad sequence of commands");
	WANT_REPLY(p, REPLY_NEED_BDAT, 1, "503 5.5.1 Bad sequence of commands");
	WANT_REPLY(p, REPLY_LINE_TOO_LONG, 1, "500 5.5.2 Line too long");
	WANT_REPLY(p, REPLY_VRFY, 1,
	           "252 2.0.0 Cannot VRFY user, but will accept message and "
	           "attempt delivery");
	WANT_REPLY(p, REPLY_PARAM_UNKNOWN, 1,
	           "555 5.5.4 MAIL FROM/RCPT TO parameters not recognized or "
	           "not implemented");
	WANT_REPLY(p, REPLY_SHUTDOWN, 1,
	           "421 4.3.2 {hostname} Service not available, closing "
	           "transmission channel");
	WANT_U64(p->limits.bad_commands_count, UINT64_MAX);
	for (int i = 0; i < REPLY_COUNT; i++)
		if (p->replies[i].n != 1)
			fail_msg("%s: reply %s has %zu lines", label,
			         reply_id_str(i), p->replies[i].n);
	WANT_STR(p->ehlo_greeting, "{hostname}");
	WANT_U64(p->nehlo_keywords, 7);
	WANT_STR(p->ehlo_keywords[0], "PIPELINING");
	WANT_STR(p->ehlo_keywords[1], "SIZE 10485760");
	WANT_STR(p->ehlo_keywords[6], "CHUNKING");
	WANT_U64(p->ext, EXT_PIPELINING | EXT_SIZE | EXT_ENHANCEDSTATUSCODES |
	                     EXT_8BITMIME | EXT_SMTPUTF8 | EXT_DSN |
	                     EXT_CHUNKING);
	WANT_U64(p->ext_size, 10485760);
	WANT_U64(p->nauth_mechs, 0);
	WANT_U64(p->commands, (1u << VERB_COUNT) - 1);
	WANT_U64(p->eol, EOL_STRICT);
	WANT_U64(p->limits.line_length, 512);
	WANT_U64(p->limits.text_line_length, 1000);
	WANT_U64(p->limits.recipients, 100);
	WANT_U64(p->limits.message_size, 10485760); /* from SIZE */
	WANT_U64(p->limits.header_size, 0);
	WANT_U64(p->limits.bad_commands, 0);
	WANT_U64(p->limits.bad_commands_close, CLOSE_FIN);
	WANT_U64(p->limits.idle_timeout_ms, 300000);
	WANT_U64(p->limits.connection_timeout_ms, 0);
	WANT_U64(p->limits.hang_timeout_ms, 600000);
	WANT_U64(p->limits.max_sessions, 1000);
	WANT_U64(p->limits.max_sessions_per_client, 0);
	WANT_U64(p->auth.ncreds, 0);
	WANT_U64(p->auth.accept_any, false);
	WANT_U64(p->nrules, 0);
	check_tls_defaults(&p->tls, false);
}

static void
check_full(const struct profile *p)
{
	const struct rule *r;

	WANT_STR(p->name, "good-full");
	WANT_STR(p->description, "every key set");
	WANT_STR(p->hostname, "full.lab.test");
	WANT_REPLY(p, REPLY_GREETING, 2, "220-{hostname} first", "220 second");
	WANT_STR(p->ehlo_greeting, "{hostname} Hello [{client_ip}]");
	WANT_U64(p->nehlo_keywords, 7);
	WANT_STR(p->ehlo_keywords[2], "AUTH plain Login");
	WANT_STR(p->ehlo_keywords[6], "XRDST");
	WANT_U64(p->ext, EXT_SIZE | EXT_PIPELINING | EXT_AUTH | EXT_STARTTLS |
	                     EXT_8BITMIME);
	WANT_U64(p->ext_size, 36700160);
	WANT_U64(p->nauth_mechs, 2);
	WANT_STR(p->auth_mechs[0], "PLAIN");
	WANT_STR(p->auth_mechs[1], "LOGIN");
	WANT_U64(p->commands, 1u << VERB_EHLO | 1u << VERB_HELO |
	                          1u << VERB_MAIL | 1u << VERB_RCPT |
	                          1u << VERB_DATA | 1u << VERB_QUIT);
	WANT_U64(p->eol, EOL_LENIENT);
	WANT_REPLY(p, REPLY_MAIL_OK, 1, "250 2.1.0 Sender OK");
	WANT_REPLY(p, REPLY_HELP, 2,
	           "214-The following commands are recognized",
	           "214 rcpt rset vrfy");
	WANT_REPLY(p, REPLY_QUIT, 1, "221 it's {hostname}");
	WANT_REPLY(p, REPLY_RSET_OK, 1, "250");
	WANT_REPLY(p, REPLY_RCPT_OK, 1, "250 2.1.5 OK"); /* default kept */
	WANT_U64(p->limits.line_length, 1024);
	WANT_U64(p->limits.text_line_length, 2000);
	WANT_U64(p->limits.recipients, 5);
	WANT_U64(p->limits.message_size, 36700160); /* from SIZE */
	WANT_U64(p->limits.header_size, 65536);
	WANT_U64(p->limits.bad_commands, 5);
	WANT_U64(p->limits.bad_commands_close, CLOSE_RST);
	WANT_U64(p->limits.idle_timeout_ms, 300000);
	WANT_U64(p->limits.connection_timeout_ms, 250);
	WANT_U64(p->limits.hang_timeout_ms, 3600000);
	WANT_U64(p->limits.max_sessions, 10);
	WANT_U64(p->limits.max_sessions_per_client, 2);
	WANT_U64(p->auth.ncreds, 2);
	WANT_STR(p->auth.creds[0].user, "alice");
	WANT_STR(p->auth.creds[0].password, "secret");
	WANT_STR(p->auth.creds[1].password, "p w");
	WANT_U64(p->auth.accept_any, true);
	WANT_U64(p->auth.require_tls, true);

	WANT_U64(p->nrules, 6);
	r = rule_named(p, "tarpit");
	WANT_STR(p->rules[0].name, "tarpit");
	WANT_STR(r->why, "tarpit unknown recipients");
	WANT_U64(r->enabled, true);
	WANT_U64((uint64_t)(r->probability * 1000), 500);
	WANT_U64(r->times, 3);
	WANT_U64(r->line, 40);
	WANT_U64(r->when.hook, HOOK_COMMAND);
	WANT_U64(r->when.verb, VERB_RCPT);
	WANT_STR(r->when.verb_name, "RCPT");
	WANT_U64(r->when.nth, 2);
	WANT_STR(r->when.arg_pattern, "unknown@");
	WANT_U64(regexec(&r->when.arg_re, "TO:<UNKNOWN@x>", 0, NULL, 0), 0);
	WANT_U64(r->act.delay_ms, 5000);
	WANT_U64(r->act.has_reply, true);
	WANT_REPLY(p, REPLY_MAIL_OK, 1, "250 2.1.0 Sender OK");
	want_reply("tarpit reply", &r->act.reply, 1, "550 5.1.1 User unknown");
	WANT_U64(r->act.close, CLOSE_NONE);

	r = rule_named(p, "xexch");
	WANT_U64(r->when.verb, (uint64_t)(int64_t)VERB_UNKNOWN);
	WANT_STR(r->when.verb_name, "XEXCH50");
	want_reply("xexch reply", &r->act.reply, 2, "500-a", "500 b");
	WANT_U64(r->act.close, CLOSE_FIN);
	WANT_U64(r->probability == 1.0, true);

	r = rule_named(p, "local");
	WANT_U64(r->enabled, false);
	WANT_U64(r->when.hook, HOOK_CONNECT);
	WANT_STR(r->when.client_pattern, "^127\\.");
	WANT_U64(regexec(&r->when.client_re, "127.0.0.1", 0, NULL, 0), 0);
	WANT_U64(regexec(&r->when.client_re, "10.0.0.1", 0, NULL, 0) != 0,
	         true);
	WANT_U64(r->act.close, CLOSE_SILENT);

	r = rule_named(p, "any-connect");
	WANT_U64(r->when.hook, HOOK_CONNECT);
	WANT_STR(r->when.client_pattern, NULL);
	WANT_U64(r->act.hang, true);
	WANT_U64(r->act.delay_ms, 1500);
	WANT_U64(r->act.has_reply, false);

	r = rule_named(p, "dkim");
	WANT_U64(r->when.hook, HOOK_HEADER);
	WANT_STR(r->when.header_name, "DKIM-Signature");
	WANT_U64(r->when.header_duplicate, true);
	WANT_U64(r->act.close, CLOSE_RST);

	r = rule_named(p, "big");
	WANT_U64(r->when.hook, HOOK_DATA);
	WANT_U64(r->when.size_over, 1048576);
	WANT_U64(p->tls.enabled, false);
	for (size_t i = 0; i < p->nrules; i++)
		want_no_tls_action(&p->rules[i]);
}

static void
check_child(const struct profile *p)
{
	const struct rule *r;

	WANT_STR(p->name, "good-child");
	WANT_STR(p->description, NULL); /* never inherited */
	WANT_STR(p->hostname, "child.lab.test");
	WANT_STR(p->ehlo_greeting, "parent {hostname}"); /* ehlo merged */
	WANT_U64(p->nehlo_keywords, 2);                  /* list replaced */
	WANT_STR(p->ehlo_keywords[0], "DSN");
	WANT_U64(p->ext, EXT_DSN | EXT_SIZE);
	WANT_U64(p->ext_size, 2000);
	WANT_U64(p->limits.message_size, 2000);
	WANT_REPLY(p, REPLY_MAIL_OK, 1, "250 parent mail");
	WANT_REPLY(p, REPLY_RCPT_OK, 1, "250 child rcpt");
	WANT_REPLY(p, REPLY_QUIT, 1,
	           "221 2.0.0 {hostname} Service closing transmission channel");
	WANT_U64(p->limits.recipients, 9);
	WANT_U64(p->limits.idle_timeout_ms, 60000);
	WANT_U64(p->auth.ncreds, 1);
	WANT_STR(p->auth.creds[0].user, "p");
	WANT_U64(p->auth.accept_any, true);
	WANT_U64(p->auth.require_tls, true);
	WANT_U64(p->nrules, 3);
	/* overridden in place: keeps its slot, when, do and why */
	WANT_STR(p->rules[0].name, "first");
	r = &p->rules[0];
	WANT_U64(r->enabled, false);
	WANT_STR(r->why, "parent first");
	WANT_U64(r->when.verb, VERB_RCPT);
	WANT_U64(r->act.delay_ms, 1000);
	WANT_STR(p->rules[1].name, "second");
	WANT_U64(p->rules[1].enabled, true);
	WANT_STR(p->rules[2].name, "third");
	WANT_U64(p->rules[2].when.hook, HOOK_DATA);
	WANT_U64(p->rules[2].when.size_over, 0);
	for (size_t i = 0; i < p->nrules; i++)
		want_no_tls_action(&p->rules[i]);
}

static void
check_grandchild(const struct profile *p)
{
	const struct rule *r;

	WANT_STR(p->name, "good-grandchild");
	WANT_STR(p->description, "grandchild");
	WANT_STR(p->hostname, "child.lab.test");
	WANT_U64(p->limits.recipients, 9);
	WANT_U64(p->nrules, 3);
	r = &p->rules[1];
	WANT_STR(r->name, "second");
	WANT_U64((uint64_t)(r->probability * 100), 25);
	WANT_STR(r->when.client_pattern, "^10\\.");
	WANT_U64(r->act.close, CLOSE_FIN); /* "do" kept from the parent */
	WANT_U64(p->rules[0].enabled, false);
}

/* FACTS.md 2: Windows Server 2012 R2's default order, RC4/3DES kept. */
static const char *const schannel_2012r2[] = {
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_CBC_SHA256",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256",
    "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256",
    "TLS_DHE_DSS_WITH_AES_256_CBC_SHA",
    "TLS_DHE_DSS_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA",
    "TLS_RSA_WITH_RC4_128_SHA",
    "TLS_RSA_WITH_RC4_128_MD5",
};

/* FACTS.md 3: the nine suites of the CSCwh48138 workaround, as ids. */
static const uint16_t cscwh48138_ids[] = {
    0x0039, /* TLS_DHE_RSA_WITH_AES_256_CBC_SHA */
    0xC09E, /* TLS_DHE_RSA_WITH_AES_128_CCM */
    0xC09F, /* TLS_DHE_RSA_WITH_AES_256_CCM */
    0xC072, /* TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256 */
    0xC076, /* TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256 */
    0xC073, /* TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384 */
    0xC077, /* TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384 */
    0xC0AC, /* TLS_ECDHE_ECDSA_WITH_AES_128_CCM */
    0xC0AD, /* TLS_ECDHE_ECDSA_WITH_AES_256_CCM */
};

static void
want_ids(const char *field, const uint16_t *got, size_t ngot,
         const uint16_t *want, size_t nwant)
{
	char f[96];

	want_u64(field, ngot, nwant);
	for (size_t i = 0; i < nwant; i++) {
		snprintf(f, sizeof(f), "%s[%zu]", field, i);
		want_u64(f, got[i], want[i]);
	}
}

#define WANT_IDS(got, n, ...)                                                  \
	do {                                                                   \
		static const uint16_t want_[] = {__VA_ARGS__};                 \
		want_ids(#got, got, n, want_,                                  \
		         sizeof(want_) / sizeof(want_[0]));                    \
	} while (0)

/* The rules of good_tls.yaml that good_tls_child.yaml does not touch. */
static void
check_tls_rules(const struct profile *p)
{
	const struct rule *r;

	r = rule_named(p, "hello-all");
	WANT_U64(r->when.hook, HOOK_TLS_CLIENT_HELLO);
	WANT_IDS(r->when.offers_all, r->when.noffers_all, 0x0005, 0xC0AC,
	         0x002F);
	WANT_IDS(r->when.offers_none, r->when.noffers_none, 0x5600);
	WANT_U64(r->when.noffers_any, 0);
	WANT_U64(r->when.versions_any, TLSV_SSL3 | TLSV_1_0);
	WANT_STR(r->when.sni_pattern, "^mx\\.example\\.");
	WANT_U64(regexec(&r->when.sni_re, "MX.Example.com", 0, NULL, 0), 0);
	WANT_U64(regexec(&r->when.sni_re, "mxaexample.com", 0, NULL, 0) != 0,
	         true);
	WANT_U64(r->when.extension, 13);
	WANT_U64(r->act.alert, 40);
	WANT_U64(r->act.at, TLS_AT_CLIENT_HELLO);
	WANT_U64(r->act.close, CLOSE_NONE);

	r = rule_named(p, "hello-any");
	WANT_U64(r->when.hook, HOOK_TLS_CLIENT_HELLO);
	WANT_U64(r->when.noffers_any + r->when.noffers_all +
	             r->when.noffers_none,
	         0);
	WANT_U64(r->when.versions_any, 0);
	WANT_STR(r->when.sni_pattern, NULL);
	WANT_U64((uint64_t)(int64_t)r->when.extension, (uint64_t)(int64_t)-1);
	WANT_U64(r->act.alert, 70); /* protocol_version, as a number */
	WANT_U64(r->act.delay_ms, 2000);
	WANT_U64(r->act.at, TLS_AT_NOW);

	r = rule_named(p, "done-any");
	WANT_U64(r->when.hook, HOOK_TLS_HANDSHAKE_DONE);
	WANT_U64(r->when.version, 0);
	WANT_U64((uint64_t)(int64_t)r->when.suite, (uint64_t)(int64_t)-1);
	WANT_U64((uint64_t)(int64_t)r->act.alert, (uint64_t)(int64_t)-1);
	WANT_U64(r->act.hang, true);

	r = rule_named(p, "plain");
	WANT_U64(r->when.hook, HOOK_COMMAND);
	want_no_tls_action(r);
}

static void
check_tls(const struct profile *p)
{
	const struct tls_settings *ts = &p->tls;
	const struct rule *r;

	WANT_STR(p->name, "good-tls");
	WANT_U64(ts->enabled, true);
	WANT_U64(ts->versions, TLSV_1_0 | TLSV_1_1 | TLSV_1_2);
	WANT_U64(ts->nciphers, sizeof(schannel_2012r2) / sizeof(char *));
	for (size_t i = 0; i < ts->nciphers; i++)
		WANT_STR(ts->ciphers[i], schannel_2012r2[i]);
	WANT_U64(ts->nciphersuites, 0);
	WANT_U64(ts->server_preference, true);
	WANT_U64(ts->ngroups, 2);
	WANT_STR(ts->groups[0], "P-256");
	WANT_STR(ts->groups[1], "P-384");
	WANT_U64(ts->dh_bits, 1024);
	WANT_U64(ts->nsigalgs, 2);
	WANT_STR(ts->sigalgs[1], "RSA+SHA1");
	WANT_U64(ts->security_level, 0);
	WANT_U64(ts->key_type, TLS_KEY_RSA);
	WANT_U64(ts->key_bits, 2048);
	WANT_U64(ts->no_shared_cipher, TLS_NOSHARED_ALERT);
	WANT_U64(ts->no_shared_version, TLS_NOSHARED_FIN);

	WANT_U64(p->nrules, 7);
	r = rule_named(p, "CSCwh48138");
	WANT_STR(p->rules[0].name, "CSCwh48138");
	WANT_U64(r->enabled, true);
	WANT_U64(r->when.hook, HOOK_TLS_CLIENT_HELLO);
	want_ids("CSCwh48138 offers_any", r->when.offers_any,
	         r->when.noffers_any, cscwh48138_ids,
	         sizeof(cscwh48138_ids) / sizeof(cscwh48138_ids[0]));
	WANT_U64(r->when.noffers_all, 0);
	WANT_U64(r->when.noffers_none, 0);
	WANT_U64(r->act.close, CLOSE_FIN);
	WANT_U64(r->act.at, TLS_AT_HANDSHAKE_DONE);
	WANT_U64((uint64_t)(int64_t)r->act.alert, (uint64_t)(int64_t)-1);
	WANT_U64(r->act.has_reply, false);

	r = rule_named(p, "done");
	WANT_U64(r->when.hook, HOOK_TLS_HANDSHAKE_DONE);
	WANT_U64(r->when.version, TLSV_1_0);
	WANT_U64(r->when.suite, 0x002F);
	WANT_U64(r->act.alert, 0); /* close_notify */
	WANT_U64(r->act.close, CLOSE_RST);

	r = rule_named(p, "failed");
	WANT_U64(r->when.hook, HOOK_TLS_FAILED);
	WANT_STR(r->when.reason_pattern, "no shared cipher");
	WANT_U64(regexec(&r->when.reason_re, "SSL routines::no shared cipher",
	                 0, NULL, 0),
	         0);
	WANT_U64(r->act.close, CLOSE_RST);
	check_tls_rules(p);
}

static void
check_tls_child(const struct profile *p)
{
	const struct tls_settings *ts = &p->tls;
	const struct rule *r;

	WANT_STR(p->name, "good-tls-child");
	WANT_U64(ts->enabled, true);
	WANT_U64(ts->versions, TLSV_1_2 | TLSV_1_3); /* list replaced */
	WANT_U64(ts->nciphers, 2);
	WANT_STR(ts->ciphers[0], "0xC030");
	WANT_STR(ts->ciphers[1], "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384");
	WANT_U64(ts->nciphersuites, 2);
	WANT_STR(ts->ciphersuites[1], "TLS_CHACHA20_POLY1305_SHA256");
	WANT_U64(ts->key_type, TLS_KEY_ECDSA);
	WANT_U64(ts->security_level, 2);
	/* inherited key by key */
	WANT_U64(ts->ngroups, 2);
	WANT_STR(ts->groups[1], "P-384");
	WANT_U64(ts->dh_bits, 1024);
	WANT_U64(ts->nsigalgs, 2);
	/* key: ecdsa drops the parent's RSA bits: the default curve */
	WANT_U64(ts->key_bits, 0);
	WANT_U64(ts->server_preference, true);
	WANT_U64(ts->no_shared_cipher, TLS_NOSHARED_ALERT);
	WANT_U64(ts->no_shared_version, TLS_NOSHARED_FIN);

	WANT_U64(p->nrules, 7);
	r = &p->rules[0];
	WANT_STR(r->name, "CSCwh48138");
	WANT_U64(r->enabled, false);
	WANT_U64(r->when.noffers_any, 9); /* when kept */
	WANT_U64(r->act.at, TLS_AT_HANDSHAKE_DONE);
	r = rule_named(p, "done"); /* do replaced: no alert any more */
	WANT_U64(r->when.suite, 0x002F);
	WANT_U64((uint64_t)(int64_t)r->act.alert, (uint64_t)(int64_t)-1);
	WANT_U64(r->act.close, CLOSE_FIN);
	r = rule_named(p, "failed"); /* when replaced, do kept */
	WANT_U64(r->when.hook, HOOK_TLS_FAILED);
	WANT_STR(r->when.reason_pattern, NULL);
	WANT_U64(r->act.close, CLOSE_RST);
	check_tls_rules(p);
}

static void
check_tls_off(const struct profile *p)
{
	WANT_U64(p->tls.enabled, false);
	/* the settings stay, for a child that turns TLS on again */
	WANT_U64(p->tls.nciphers, sizeof(schannel_2012r2) / sizeof(char *));
	WANT_U64(p->tls.no_shared_cipher, TLS_NOSHARED_ALERT);
}

static void
check_tls_null(const struct profile *p)
{
	check_tls_defaults(&p->tls, true);
}

static void
check_size(const struct profile *p)
{
	WANT_U64(p->limits.message_size, 10485760);
	WANT_U64(p->ext_size, 10485760);
	WANT_U64(p->ext, EXT_SIZE | EXT_8BITMIME);
	WANT_STR(p->ehlo_keywords[0], "SIZE {max_size}");
}

static void
check_size_zero(const struct profile *p)
{
	WANT_U64(p->limits.message_size, 0);
	WANT_U64(p->ext_size, 5000);
}

/* ------------------------------------------------------------------ */
/* Middleboxes ("kind: middlebox") and "via"                           */

static void
want_strv(const char *field, char **got, size_t ngot, size_t nwant, ...)
{
	char f[96];
	va_list ap;

	want_u64(field, ngot, nwant);
	va_start(ap, nwant);
	for (size_t i = 0; i < nwant && i < ngot; i++) {
		snprintf(f, sizeof(f), "%s[%zu]", field, i);
		want_str(f, got[i], va_arg(ap, const char *));
	}
	va_end(ap);
}

#define WANT_STRV(got, n, ...) want_strv(#got, got, n, __VA_ARGS__)

static void
want_limit(const struct mbox_config *c, size_t i, enum mbox_measure what,
           uint64_t over, enum mbox_action action)
{
	char f[64];

	snprintf(f, sizeof(f), "limits[%zu].what", i);
	want_u64(f, c->limits[i].what, what);
	snprintf(f, sizeof(f), "limits[%zu].over", i);
	want_u64(f, c->limits[i].over, over);
	snprintf(f, sizeof(f), "limits[%zu].action", i);
	want_u64(f, c->limits[i].action, action);
}

/* The replacement for keyword in c's EHLO masks, or NULL. */
static const char *
ehlo_mask(const struct mbox_config *c, const char *keyword)
{
	for (size_t i = 0; i < c->nehlo_masks; i++)
		if (strcmp(c->ehlo_masks[i].keyword, keyword) == 0)
			return c->ehlo_masks[i].replacement;
	return NULL;
}

static void
check_box_full(const struct profile *p)
{
	const struct mbox_config *c = p->mbox;

	WANT_STR(p->name, "good-box-full");
	assert_non_null(c);
	WANT_U64(p->nvia, 0);
	WANT_STR(c->name, "good-box-full");
	WANT_STR(c->description, "every middlebox key");
	WANT_U64(c->banner, MBOX_BANNER_MASK_ALL);
	/* upper-cased, any word; STARTTLS listed with allow_tls: true */
	WANT_STRV(c->allowed, c->nallowed, 5, "HELO", "MAIL", "RCPT", "XEXCH50",
	          "STARTTLS");
	WANT_U64(c->denied, MBOX_DENIED_NOOP);
	WANT_U64(c->nehlo_masks, 2);
	WANT_STR(c->ehlo_masks[0].keyword, "STARTTLS");
	WANT_STR(c->ehlo_masks[0].replacement, "XXXXXXXA");
	WANT_STR(c->ehlo_masks[1].keyword, "CHUNKING");
	WANT_STR(c->ehlo_masks[1].replacement, "XXXXXXXX  ");
	WANT_STRV(c->ehlo_allowed, c->nehlo_allowed, 2, "8BITMIME", "SIZE");
	WANT_U64(c->ehlo_mask_others, true);
	WANT_U64(c->allow_tls, true);
	WANT_U64(c->nlimits, 6);
	want_limit(c, 0, MBOX_CMD_LINE, 512, MBOX_ACT_DROP);
	want_limit(c, 1, MBOX_RCPT_COUNT, 100, MBOX_ACT_RESET);
	want_limit(c, 2, MBOX_SENDER_LEN, 320, MBOX_ACT_LOG);
	want_limit(c, 3, MBOX_HEADER_LINE, 998, MBOX_ACT_DROP);
	want_limit(c, 4, MBOX_BODY_LINE, 0, MBOX_ACT_LOG);
	want_limit(c, 5, MBOX_MIME_FILENAME, UINT64_MAX, MBOX_ACT_RESET);
	WANT_U64(c->drop_split_eod, true);
	WANT_U64(c->cut_on_duplicate, true);
	WANT_STRV(c->cut_headers, c->ncut_headers, 2, "DKIM-Signature",
	          "DomainKey-Signature");
	WANT_U64(c->cut_action, MBOX_ACT_DROP);
	WANT_U64(c->timeout_conn_ms, 90000);
}

static void
check_box_child(const struct profile *p)
{
	const struct mbox_config *c = p->mbox;

	WANT_STR(p->name, "good-box-child");
	assert_non_null(c);
	WANT_STR(c->name, "good-box-child");
	WANT_STR(c->description, NULL); /* never inherited */
	WANT_U64(c->banner, MBOX_BANNER_PASS);
	/* lists replace; allow_tls false: no STARTTLS added */
	WANT_STRV(c->allowed, c->nallowed, 5, "HELO", "MAIL", "RCPT", "DATA",
	          "QUIT");
	WANT_U64(c->denied, MBOX_DENIED_NOOP); /* commands merged */
	/* masks merge keyword by keyword */
	WANT_U64(c->nehlo_masks, 2);
	WANT_STR(ehlo_mask(c, "STARTTLS"), "XXXXXXXB");
	WANT_STR(ehlo_mask(c, "CHUNKING"), "XXXXXXXX  ");
	WANT_STRV(c->ehlo_allowed, c->nehlo_allowed, 1, "PIPELINING");
	WANT_U64(c->ehlo_mask_others, true);
	WANT_U64(c->allow_tls, false);
	WANT_U64(c->nlimits, 1);
	want_limit(c, 0, MBOX_RCPT_COUNT, 5, MBOX_ACT_DROP);
	WANT_U64(c->drop_split_eod, true);
	WANT_U64(c->cut_on_duplicate, true); /* duplicate_headers merged */
	WANT_U64(c->ncut_headers, 2);
	WANT_U64(c->cut_action, MBOX_ACT_RESET);
}

/* A box with no settings changes nothing. */
static void
check_box_min(const struct profile *p)
{
	const struct mbox_config *c = p->mbox;

	WANT_STR(p->name, "good-box-min");
	assert_non_null(c);
	WANT_STR(c->name, "good-box-min");
	WANT_U64(c->banner, MBOX_BANNER_PASS);
	WANT_STRV(c->allowed, c->nallowed, 13, "HELO", "EHLO", "MAIL", "RCPT",
	          "DATA", "BDAT", "RSET", "NOOP", "QUIT", "VRFY", "HELP",
	          "AUTH", "STARTTLS");
	WANT_U64(c->denied, MBOX_DENIED_MASK);
	WANT_U64(c->nehlo_masks, 0);
	WANT_U64(c->nehlo_allowed, 0);
	WANT_U64(c->ehlo_mask_others, false);
	WANT_U64(c->allow_tls, true);
	WANT_U64(c->nlimits, 0);
	WANT_U64(c->drop_split_eod, false);
	WANT_U64(c->cut_on_duplicate, false);
	WANT_U64(c->ncut_headers, 0);
	WANT_U64(c->cut_action, MBOX_ACT_RESET);
	WANT_U64(c->timeout_conn_ms, 3600000); /* the ASA's timeout conn */
}

static void
check_via(const struct profile *p)
{
	WANT_STR(p->name, "good-via");
	WANT_U64(p->mbox == NULL, true);
	WANT_U64(p->nvia, 3);
	/* from the middleboxes/ subdirectory, then beside the profiles,
	 * then by path; each a loaded middlebox with its own chain */
	WANT_STR(p->via[0]->name, "good-box-child");
	WANT_STR(p->via[0]->path, "profiles/middleboxes/good_box_child.yaml");
	check_box_child(p->via[0]);
	WANT_STR(p->via[1]->path, "profiles/good_box_min.yaml");
	check_box_min(p->via[1]);
	WANT_STR(p->via[2]->path, "profiles/middleboxes/good_box_full.yaml");
	check_box_full(p->via[2]);
	WANT_U64(p->via[0]->refs, 1);
}

static void
check_via_child(const struct profile *p)
{
	WANT_U64(p->nvia, 1); /* replaces the parent's list */
	check_box_min(p->via[0]);
}

static void
check_via_none(const struct profile *p)
{
	WANT_U64(p->nvia, 0);
	WANT_U64(p->via == NULL || p->nvia == 0, true);
}

static void
check_tls_legacy(const struct profile *p)
{
	want_u64("tls.nciphers", p->tls.nciphers, 2);
	want_str("tls.ciphers[0]", p->tls.ciphers[0],
	         "TLS_RSA_WITH_RC4_128_SHA");
}

static void
check_tls_none_13(const struct profile *p)
{
	want_u64("tls.versions", p->tls.versions, TLSV_1_3);
	want_u64("tls.nciphers", p->tls.nciphers, 1);
}

static void
check_scenario(const struct profile *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	WANT_STR(p->name, "good-scenario");
	WANT_U64(p->scenario, true);
	WANT_STR(p->hostname, "parent.lab.test"); /* the rest is inherited */
	out = open_memstream(&buf, &len);
	profile_summary(p, true, out);
	fclose(out);
	if (strstr(buf, "  scenario:      yes: a field bug laid on top of "
	                "good-parent ") == NULL)
		fail_msg("%s: --check has no scenario line:\n%s", label, buf);
	free(buf);
}

static void
check_scenario_child(const struct profile *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	WANT_STR(p->name, "good-scenario-child");
	WANT_U64(p->scenario, false); /* never inherited */
	out = open_memstream(&buf, &len);
	profile_summary(p, true, out);
	fclose(out);
	if (strstr(buf, "scenario:") != NULL)
		fail_msg("%s: --check names a scenario:\n%s", label, buf);
	free(buf);
}

/* ehlo.keywords_tls given: its own bits, SIZE {max_size} and mechanisms;
 * auth.ntlm: one name given, the rest from the hostname. */
static void
check_ehlo_tls(const struct profile *p)
{
	const struct ntlm_settings *n = &p->auth.ntlm;
	struct ehlo_list plain = profile_ehlo(p, false);
	struct ehlo_list tls = profile_ehlo(p, true);

	WANT_U64(plain.ext, EXT_SIZE | EXT_STARTTLS | EXT_AUTH);
	WANT_U64(plain.ext_size, 1000);
	WANT_STRV((char **)plain.auth_mechs, plain.nauth_mechs, 1, "NTLM");
	WANT_U64(p->ehlo_tls_given, true);
	WANT_STRV((char **)tls.keywords, tls.nkeywords, 3, "SIZE {max_size}",
	          "AUTH NTLM LOGIN", "8BITMIME");
	WANT_U64(tls.ext, EXT_SIZE | EXT_AUTH | EXT_8BITMIME);
	WANT_U64(tls.ext_size, 5000); /* {max_size}: limits.message_size */
	WANT_STRV((char **)tls.auth_mechs, tls.nauth_mechs, 2, "NTLM", "LOGIN");
	WANT_STR(n->netbios_domain, "CORP");
	WANT_STR(n->netbios_computer, "EX");
	WANT_STR(n->dns_domain, "corp.lab.test");
	WANT_STR(n->dns_computer, "ex.corp.lab.test");
	WANT_STR(n->os_version, "6.3.9600");
	want_reply("auth.ntlm.supported", &n->supported, 1,
	           "334 ntlm supported");
}

/* keywords_tls: null over a parent's list: derived again, from the
 * child's keywords; NTLM names not given follow the child's hostname. */
static void
check_ehlo_tls_child(const struct profile *p)
{
	const struct ntlm_settings *n = &p->auth.ntlm;
	struct ehlo_list tls = profile_ehlo(p, true);

	WANT_U64(p->ehlo_tls_given, false);
	WANT_STRV((char **)tls.keywords, tls.nkeywords, 2, "PIPELINING",
	          "AUTH PLAIN");
	WANT_U64(tls.ext, EXT_PIPELINING | EXT_AUTH);
	WANT_STRV((char **)tls.auth_mechs, tls.nauth_mechs, 1, "PLAIN");
	WANT_U64(profile_ehlo(p, false).ext,
	         EXT_PIPELINING | EXT_STARTTLS | EXT_AUTH);
	WANT_STR(n->netbios_domain, "CORP");              /* inherited */
	WANT_STR(n->netbios_computer, "AVERYVERYVERYLO"); /* 15 */
	WANT_STR(n->dns_domain, "x.test");
	WANT_STR(n->dns_computer, "averyveryverylongcomputername.x.test");
	WANT_STR(n->os_version, "10.0.17763");
	want_reply("auth.ntlm.supported", &n->supported, 1, "334 go on");
}

/* No keywords_tls anywhere: the defaults without STARTTLS (there is
 * none), the NTLM names from mx.lab.test. */
static void
check_ehlo_tls_min(const struct profile *p)
{
	struct ehlo_list tls = profile_ehlo(p, true);

	WANT_STRV((char **)tls.keywords, tls.nkeywords, 7, "PIPELINING",
	          "SIZE 10485760", "ENHANCEDSTATUSCODES", "8BITMIME",
	          "SMTPUTF8", "DSN", "CHUNKING");
	WANT_U64(tls.ext, p->ext);
	WANT_U64(tls.ext_size, 10485760);
	WANT_STR(p->auth.ntlm.netbios_domain, "LAB");
	WANT_STR(p->auth.ntlm.netbios_computer, "MX");
	WANT_STR(p->auth.ntlm.dns_domain, "lab.test");
	WANT_STR(p->auth.ntlm.dns_computer, "mx.lab.test");
}

struct good_case {
	const char *label;
	const char *load; /* NAME (looked up in profiles/) or a path */
	void (*check)(const struct profile *p);
};

static const struct good_case good_cases[] = {
    {"defaults", "good_min", check_min},
    {"every key", "good_full", check_full},
    {"every key, by path", "profiles/good_full.yaml", check_full},
    {"extends overlay", "good_child", check_child},
    {"extends by path, two levels", "good_grandchild", check_grandchild},
    {"SIZE {max_size}", "good_size", check_size},
    {"explicit message_size 0", "good_size_zero", check_size_zero},
    {"tls: Schannel 2012 R2, CSCwh48138, every TLS hook", "good_tls",
     check_tls},
    {"tls: extends overlay", "good_tls_child", check_tls_child},
    {"tls: a suite this OpenSSL lacks is not an error",
     "profiles/tls/good_tls_legacy.yaml", check_tls_legacy},
    {"tls: unavailable suites without a version for them",
     "profiles/tls/good_tls_none_13.yaml", check_tls_none_13},
    {"tls: enabled false over a parent", "good_tls_off", check_tls_off},
    {"tls: empty section = defaults, enabled", "good_tls_null", check_tls_null},
    {"middlebox: every key", "profiles/middleboxes/good_box_full.yaml",
     check_box_full},
    {"middlebox: extends another middlebox",
     "profiles/middleboxes/good_box_child.yaml", check_box_child},
    {"middlebox: defaults change nothing", "good_box_min", check_box_min},
    {"via: a subdirectory box, a box beside the profiles, a path", "good_via",
     check_via},
    {"via: replaced by a child", "good_via_child", check_via_child},
    {"via: [] removes the parent's boxes", "good_via_none", check_via_none},
    {"scenario: true on a parent", "good_scenario", check_scenario},
    {"scenario: not inherited", "good_scenario_child", check_scenario_child},
    {"ehlo.keywords_tls and auth.ntlm", "profiles/auth/good_ehlo_tls.yaml",
     check_ehlo_tls},
    {"ehlo.keywords_tls: null over a parent",
     "profiles/auth/good_ehlo_tls_child.yaml", check_ehlo_tls_child},
    {"ehlo.keywords_tls left out", "good_min", check_ehlo_tls_min},
};

static void
test_good(void **state)
{
	const struct good_case *c = *state;
	char err[2048] = "";
	struct profile *p;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	label = c->label;
	p = profile_load(c->load, fixture_dirs, 1, err, sizeof(err));
	if (p == NULL)
		fail_msg("%s: load failed\n  got:  %s\n  want: success", label,
		         err);
	c->check(p);
	/* the summary must not crash or leak */
	out = open_memstream(&buf, &len);
	assert_non_null(out);
	profile_summary(p, true, out);
	fclose(out);
	assert_non_null(strstr(buf, p->name));
	free(buf);
	/* refcount: the second unref frees */
	assert_ptr_equal(profile_ref(p), p);
	profile_unref(p);
	profile_unref(p);
}

/* The reply-format keys (schema_reply.h) land in the profile. */
static void
test_reply_formats(void **state)
{
	char err[2048] = "";
	struct profile *p;

	(void)state;
	label = "reply formats";
	p = profile_load("profiles/reply/good_reply_formats.yaml", fixture_dirs,
	                 1, err, sizeof(err));
	if (p == NULL)
		fail_msg("good_reply_formats: %s", err);
	WANT_U64(p->session_id_format, SID_GMAIL);
	WANT_U64(p->queue_id_format, QID_SENDMAIL);
	WANT_STR(p->date_format, "%a, %-d %b %Y %H:%M:%S %z (%Z)");
	WANT_STR(p->date_format_utc, "%a, %-d %b %Y %H:%M:%S GMT");
	profile_unref(p);
	/* the defaults: today's shapes */
	p = profile_load("good_min", fixture_dirs, 1, err, sizeof(err));
	if (p == NULL)
		fail_msg("good_min: %s", err);
	WANT_U64(p->session_id_format, SID_NUMBER);
	WANT_U64(p->queue_id_format, QID_HEX);
	WANT_STR(p->date_format, "%a, %-d %b %Y %H:%M:%S %z");
	WANT_STR(p->date_format_utc, "");
	profile_unref(p);
	/* the shipped Unix MTAs (FACTS.md 7-10) */
	{
		static const char *const dirs[] = {"../../profiles"};
		static const struct {
			const char *name;
			enum qid_format qid;
			const char *date;
		} mta[] = {
		    {"postfix", QID_POSTFIX, "%a, %-d %b %Y %H:%M:%S %z"},
		    {"sendmail", QID_SENDMAIL,
		     "%a, %-d %b %Y %H:%M:%S %z (%Z)"},
		    {"exim", QID_EXIM, "%a, %d %b %Y %H:%M:%S %z"},
		    {"qmail", QID_QMAIL, "%a, %-d %b %Y %H:%M:%S %z"},
		};

		for (size_t i = 0; i < sizeof(mta) / sizeof(mta[0]); i++) {
			label = mta[i].name;
			p = profile_load(mta[i].name, dirs, 1, err,
			                 sizeof(err));
			if (p == NULL)
				fail_msg("%s: %s", mta[i].name, err);
			WANT_U64(p->queue_id_format, mta[i].qid);
			WANT_U64(p->session_id_format, SID_NUMBER);
			WANT_STR(p->date_format, mta[i].date);
			profile_unref(p);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Bad profiles: the exact error line                                  */

struct bad_case {
	const char *label;
	const char *load;
	const char *want; /* "%s": the known placeholder list */
};

static const struct bad_case bad_cases[] = {
    {"unknown top-level key", "bad_top_key",
     "profiles/bad_top_key.yaml:3:1: unknown key \"hostnme\" (known: "
     "name, description, kind, extends, scenario, vendor, faithfulness,"
     " via, hostname, greeting, session_id_format, queue_id_format,"
     " date_format, date_format_utc, ehlo, "
     "commands, line_endings, data, replies, limits, auth, tls, pace, "
     "greylist, rules)"},
    {"bad end_of_data sequence", "bad_data_eod",
     "profiles/bad_data_eod.yaml:3:24: bad sequence \"LF.X\" in "
     "\"data.end_of_data\" (write A.B with A and B each CRLF, LF or CR, "
     "e.g. LF.LF or CR.CR)"},
    {"bad bare_lf action", "bad_data_bare",
     "profiles/bad_data_bare.yaml:3:12: bad value \"drop\" for "
     "\"data.bare_lf\" (use keep, crlf, space, reject or exit)"},
    {"unknown key in limits", "bad_limits_key",
     "profiles/bad_limits_key.yaml:4:3: unknown key \"repiles\" under "
     "\"limits\" (known: line_length, text_line_length, recipients, "
     "message_size, header_size, bad_commands, bad_commands_count, "
     "bad_commands_close, "
     "idle_timeout, connection_timeout, command_timeout, data_timeout, "
     "hang_timeout, max_sessions, max_sessions_per_client)"},
    {"wrong type: list where string", "bad_type",
     "profiles/bad_type.yaml:2:11: wrong type for \"hostname\": a list "
     "(expected a string)"},
    {"bad duration", "bad_duration",
     "profiles/bad_duration.yaml:3:17: bad duration \"5x\" for "
     "\"limits.idle_timeout\" (use a number with ms, s, m or h, e.g. "
     "250ms, 300s, 5m; a bare number is milliseconds)"},
    {"bad size suffix", "bad_size",
     "profiles/bad_size.yaml:3:17: bad size \"10X\" for "
     "\"limits.message_size\" (use a number of bytes, optionally with K, "
     "M or G, e.g. 36M)"},
    {"bad regex", "bad_regex",
     "profiles/bad_regex.yaml:5:34: bad regular expression \"unknown(@\" "
     "for \"rules.broken.when.command.arg\": Unmatched ( or \\( (use "
     "POSIX extended syntax, e.g. \"^unknown@\")"},
    {"unknown placeholder, plain scalar", "bad_placeholder",
     "profiles/bad_placeholder.yaml:2:32: unknown placeholder "
     "\"{hostnme}\" in \"greeting\" (known: %s; write \"{{\" for a "
     "literal \"{\")"},
    {"unknown placeholder, single-quoted with ''", "bad_placeholder_quoted",
     "profiles/bad_placeholder_quoted.yaml:3:21: unknown placeholder "
     "\"{byebye}\" in \"replies.quit\" (known: %s; write \"{{\" for a "
     "literal \"{\")"},
    {"unknown placeholder after an escape: node position",
     "bad_placeholder_escaped",
     "profiles/bad_placeholder_escaped.yaml:3:26: unknown placeholder "
     "\"{nope}\" in \"ehlo.keywords\" (known: %s; write \"{{\" for a "
     "literal \"{\")"},
    {"unclosed placeholder", "bad_unclosed",
     "profiles/bad_unclosed.yaml:3:27: unclosed \"{\" in "
     "\"replies.data_ok\" (close the placeholder with \"}\", or write "
     "\"{{\" for a literal \"{\")"},
    {"bad reply code", "bad_reply_code",
     "profiles/bad_reply_code.yaml:3:12: bad reply code in "
     "\"replies.mail_ok\": \"25 ok\" (start with a three-digit code from "
     "200 to 599, then a space)"},
    {"multi-line reply without -", "bad_multiline",
     "profiles/bad_multiline.yaml:4:7: line 1 of \"replies.help\" needs "
     "\"-\" after the code, it is not the last line (write \"214-\" on "
     "every line but the last)"},
    {"multi-line reply ending in -", "bad_multiline_last",
     "profiles/bad_multiline_last.yaml:3:23: last line of "
     "\"replies.help\" needs a space after the code, not \"-\" (write "
     "\"214 \" on the last line)"},
    {"reply with a line break", "bad_reply_linebreak",
     "profiles/bad_reply_linebreak.yaml:3:9: \"replies.help\" contains a "
     "line break (use a list of strings, one per reply line)"},
    {"greeting under replies", "bad_greeting_in_replies",
     "profiles/bad_greeting_in_replies.yaml:3:3: \"greeting\" does not go "
     "under \"replies\" (move it to the top level: greeting: \"220 "
     "...\")"},
    {"two hook keys in when", "bad_two_hooks",
     "profiles/bad_two_hooks.yaml:6:7: \"rules.both.when\" has two hooks, "
     "\"command\" and \"connect\" (a rule has exactly one hook; split it "
     "into two rules)"},
    {"rule without when", "bad_rule_no_when",
     "profiles/bad_rule_no_when.yaml:3:5: rule \"lonely\" has no \"when\" "
     "(say when it fires: connect, command, header, data, "
     "tls_client_hello, tls_handshake_done or tls_failed)"},
    {"empty do", "bad_do_empty",
     "profiles/bad_do_empty.yaml:5:9: \"rules.idle.do\" is empty (give at "
     "least one of delay, reply, close, hang, alert)"},
    {"duplicate rule name", "bad_dup_rule",
     "profiles/bad_dup_rule.yaml:6:11: duplicate rule name \"same\" "
     "(first at line 3; rule names must be unique)"},
    {"probability out of range", "bad_probability",
     "profiles/bad_probability.yaml:4:18: bad probability \"1.5\" for "
     "\"rules.maybe.probability\" (use a number greater than 0 and at "
     "most 1, e.g. 0.25)"},
    {"missing name", "bad_no_name",
     "profiles/bad_no_name.yaml:2:1: missing required key \"name\" (add "
     "e.g. \"name: my-profile\", using a-z, 0-9, \".\", \"_\" and "
     "\"-\")"},
    {"bad name", "bad_name",
     "profiles/bad_name.yaml:1:7: bad name \"Bad Name\" (use only a-z, "
     "0-9, \".\", \"_\" and \"-\")"},
    {"unknown command", "bad_command",
     "profiles/bad_command.yaml:2:18: unknown command \"XYZZY\" in "
     "\"commands\" (known: HELO, EHLO, MAIL, RCPT, DATA, BDAT, RSET, "
     "NOOP, QUIT, VRFY, HELP, AUTH, STARTTLS)"},
    {"bad SIZE keyword", "bad_keyword_size",
     "profiles/bad_keyword_size.yaml:3:26: bad \"SIZE\" keyword \"SIZE "
     "lots\" in \"ehlo.keywords\" (write \"SIZE\" and a number of bytes, "
     "e.g. \"SIZE 10485760\")"},
    {"extends cycle", "bad_cycle_a",
     "profiles/bad_cycle_b.yaml:2:10: extends cycle: cycle-a -> cycle-b "
     "-> cycle-a (remove one of these \"extends\")"},
    {"scenario without extends", "bad_scenario_no_extends",
     "profiles/bad_scenario_no_extends.yaml:2:11: scenario: true needs "
     "\"extends\" (a scenario is a field bug laid on top of the profile "
     "it extends)"},
    {"scenario not a bool", "bad_scenario_value",
     "profiles/bad_scenario_value.yaml:3:11: bad value \"maybe\" for "
     "\"scenario\" (use true or false)"},
    {"extends missing parent", "bad_extends_missing",
     "profiles/bad_extends_missing.yaml:2:10: extends: profile "
     "\"no_such_parent\" not found (looked in: "
     "profiles/no_such_parent.yaml)"},
    {"error in the parent", "bad_parent_error",
     "profiles/bad_top_key.yaml:3:1: unknown key \"hostnme\" (known: "
     "name, description, kind, extends, scenario, vendor, faithfulness,"
     " via, hostname, greeting, session_id_format, queue_id_format,"
     " date_format, date_format_utc, ehlo, "
     "commands, line_endings, data, replies, limits, auth, tls, pace, "
     "greylist, rules)"},
    {"duplicate key", "bad_dup_key",
     "profiles/bad_dup_key.yaml:5:1: duplicate key \"hostname\" (first at "
     "line 2; keep one)"},
    {"YAML syntax error", "bad_syntax",
     "profiles/bad_syntax.yaml:4:2: YAML syntax error: did not find "
     "expected key while parsing a block mapping at line 1 (check "
     "indentation and quoting)"},
    {"empty file", "bad_empty",
     "profiles/bad_empty.yaml:1:1: empty profile (a profile is a mapping "
     "with at least \"name:\")"},
    {"two documents", "bad_two_docs",
     "profiles/bad_two_docs.yaml:2:1: a second YAML document (a profile "
     "file holds one document; remove the \"---\" and what follows)"},
    {"profile not found", "no_such_profile",
     "no_such_profile: profile not found (looked in: "
     "profiles/no_such_profile.yaml; --list-profiles shows the known "
     "ones)"},
    {"file not found", "profiles/none.yaml",
     "profiles/none.yaml: cannot open: No such file or directory (check "
     "the path)"},
    {"tls: unknown version", "bad_tls_version",
     "profiles/bad_tls_version.yaml:3:22: unknown TLS version \"tls1.4\" "
     "in \"tls.versions\" (known: ssl3, tls1.0, tls1.1, tls1.2, tls1.3)"},
    {"tls: OpenSSL-style cipher name", "bad_tls_cipher_form",
     "profiles/bad_tls_cipher_form.yaml:5:7: bad cipher suite "
     "\"ECDHE-RSA-AES128-SHA256\" in \"tls.ciphers\" (write its IANA "
     "name, e.g. TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384, or its hex code, "
     "e.g. 0xC028; OpenSSL's own names are not accepted)"},
    {"tls: hex code in ciphersuites", "bad_tls_ciphersuites",
     "profiles/bad_tls_ciphersuites.yaml:3:18: bad TLS 1.3 suite "
     "\"0x1302\" in \"tls.ciphersuites\" (write its IANA name, e.g. "
     "TLS_AES_256_GCM_SHA384)"},
    {"tls: a misspelt suite in ciphers",
     "profiles/tls/bad_tls_cipher_unknown.yaml",
     "profiles/tls/bad_tls_cipher_unknown.yaml:6:7: cipher suite "
     "\"TLS_RSA_WITH_FOO_BAR\" in \"tls.ciphers\" is unknown to the linked "
     "OpenSSL and is no IANA suite name (check the spelling, e.g. "
     "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)"},
    {"tls: a misspelt suite in ciphersuites",
     "profiles/tls/bad_tls_suite13_unknown.yaml",
     "profiles/tls/bad_tls_suite13_unknown.yaml:4:42: cipher suite "
     "\"TLS_AES_512_GCM_SHA768\" in \"tls.ciphersuites\" is unknown to the "
     "linked OpenSSL and is no IANA suite name (check the spelling, e.g. "
     "TLS_AES_128_GCM_SHA256)"},
    {"tls: none of the listed suites available",
     "profiles/tls/bad_tls_none_available.yaml",
     "profiles/tls/bad_tls_none_available.yaml:5:12: none of the 2 listed TLS "
     "<= 1.2 suites in \"tls.ciphers\" is available in the linked OpenSSL "
     "(list one it can offer, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "
     "or leave \"tls.ciphers\" out for OpenSSL's default)"},
    {"tls: none available once a child enables TLS 1.2",
     "profiles/tls/bad_tls_none_child.yaml",
     "profiles/tls/good_tls_none_13.yaml:6:12: none of the 1 listed TLS <= 1.2 "
     "suites in \"tls.ciphers\" is available in the linked OpenSSL (list "
     "one it can offer, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, or "
     "leave \"tls.ciphers\" out for OpenSSL's default)"},
    {"tls: unknown key", "bad_tls_key",
     "profiles/bad_tls_key.yaml:4:3: unknown key \"cipher\" under \"tls\" "
     "(known: enabled, versions, ciphers, ciphersuites, server_preference, "
     "groups, dh_bits, sigalgs, security_level, key, key_bits, "
     "no_shared_cipher, no_shared_version, encrypt_then_mac, "
     "session_cache, session_tickets, fallback_scsv)"},
    {"tls: bad no_shared_cipher", "bad_tls_no_shared",
     "profiles/bad_tls_no_shared.yaml:3:21: bad value \"reset\" for "
     "\"tls.no_shared_cipher\" (use openssl, alert, fin or rst)"},
    {"tls: dh_bits 1000", "bad_tls_dh_bits",
     "profiles/bad_tls_dh_bits.yaml:4:12: bad value \"1000\" for "
     "\"tls.dh_bits\" (use 0 for OpenSSL's automatic choice, or 1024, "
     "2048, 3072, 4096 or 8192)"},
    {"tls: key_bits with an ECDSA key", "bad_tls_key_bits",
     "profiles/bad_tls_key_bits.yaml:3:13: \"tls.key_bits\" is for RSA "
     "keys only (leave it out with key: ecdsa)"},
    {"tls: suite name OpenSSL does not know in offers_any",
     "bad_tls_offers_unknown",
     "profiles/bad_tls_offers_unknown.yaml:6:56: cipher suite "
     "\"TLS_ECDHE_ECDSA_WITH_ARIA_128_CBC_SHA256\" in "
     "\"rules.aria.when.tls_client_hello.offers_any\" is unknown to the "
     "linked OpenSSL; give its IANA hex code, e.g. 0xC0AC"},
    {"tls: unknown alert name", "bad_tls_alert_name",
     "profiles/bad_tls_alert_name.yaml:5:17: unknown TLS alert "
     "\"handshake_fail\" for \"rules.fail.do.alert\" (use a name such as "
     "handshake_failure, protocol_version, internal_error or close_notify, "
     "or a number from 0 to 255)"},
    {"tls: alert with a command hook", "bad_tls_alert_hook",
     "profiles/bad_tls_alert_hook.yaml:5:22: \"rules.rcpt.do.alert\" needs "
     "a TLS hook, but the rule's hook is \"command\" (use "
     "tls_client_hello, tls_handshake_done or tls_failed, or a \"do\" "
     "without \"alert\")"},
    {"tls: alert made impossible by an overlaid when", "bad_tls_overlay",
     "profiles/bad_tls_overlay.yaml:7:12: \"rules.hello-all.do.alert\" "
     "needs a TLS hook, but the rule's hook is \"command\" (use "
     "tls_client_hello, tls_handshake_done or tls_failed, or a \"do\" "
     "without \"alert\")"},
    {"tls: at client_hello with tls_handshake_done", "bad_tls_at_hook",
     "profiles/bad_tls_at_hook.yaml:5:22: \"rules.late.do.at\" is "
     "client_hello, but the rule's hook is \"tls_handshake_done\", which "
     "comes after it (use at: client_hello only with tls_client_hello)"},
    {"tls: at handshake_done with tls_failed", "bad_tls_failed_at",
     "profiles/bad_tls_failed_at.yaml:5:22: \"rules.never.do.at\" is "
     "handshake_done, but the rule's hook is \"tls_failed\": that "
     "handshake never completes (leave \"at\" out)"},
    {"tls: alert other than close_notify after the handshake",
     "bad_tls_alert_done",
     "profiles/bad_tls_alert_done.yaml:5:10: \"rules.after.do.alert\" is "
     "handshake_failure at handshake_done, but after the handshake only "
     "close_notify can be sent (OpenSSL has no public API to send another "
     "alert then; use close_notify, or close: fin or rst)"},
    {"tls: reply with a TLS hook", "bad_tls_reply",
     "profiles/bad_tls_reply.yaml:5:10: \"rules.talk.do.reply\" is not "
     "allowed with the \"tls_client_hello\" hook (the client is not "
     "talking SMTP at that point; use alert, close, hang or delay)"},
    {"middlebox: a server key", "bad_box_server_key",
     "profiles/bad_box_server_key.yaml:4:1: \"greeting\" is a server key, "
     "not allowed in a middlebox profile (only kind: server allows it)"},
    {"middlebox: ehlo.keywords", "bad_box_ehlo_keywords",
     "profiles/bad_box_ehlo_keywords.yaml:5:3: \"ehlo.keywords\" is a "
     "server key, not allowed in a middlebox profile (only kind: server "
     "allows it; a middlebox's ehlo has masks, allowed and others)"},
    {"middlebox: limits as a mapping", "bad_box_limits_map",
     "profiles/bad_box_limits_map.yaml:4:3: \"limits\" as a mapping is the "
     "server form, not allowed in a middlebox profile (only kind: server "
     "allows it; a middlebox's limits are a list, e.g. - {what: "
     "cmd_line_length, over: 512, action: drop-connection})"},
    {"middlebox: via", "bad_box_via",
     "profiles/bad_box_via.yaml:3:1: \"via\" is a server key, not allowed "
     "in a middlebox profile (only kind: server allows it)"},
    {"server: a middlebox key", "bad_server_box_key",
     "profiles/bad_server_box_key.yaml:3:1: \"allow_tls\" is a middlebox "
     "key, not allowed in a server profile (only kind: middlebox allows "
     "it; a server names the middleboxes in front of it in \"via\")"},
    {"server: ehlo.masks", "bad_server_ehlo_masks",
     "profiles/bad_server_ehlo_masks.yaml:4:3: \"ehlo.masks\" is a "
     "middlebox key, not allowed in a server profile (only kind: "
     "middlebox allows it; a server's ehlo has greeting and keywords)"},
    {"server: commands as a mapping", "bad_server_commands_map",
     "profiles/bad_server_commands_map.yaml:3:3: \"commands\" as a mapping "
     "is the middlebox form, not allowed in a server profile (only kind: "
     "middlebox allows it; a server lists the verbs it recognises, e.g. "
     "commands: [HELO, EHLO, MAIL])"},
    {"middlebox: unknown limit measure", "bad_box_measure",
     "profiles/bad_box_measure.yaml:5:12: bad value \"line_length\" for "
     "\"limits.what\" (use cmd_line_length, rcpt_count, sender_length, "
     "header_line_length, body_line_length or mime_filename_length)"},
    {"middlebox: bad limit action", "bad_box_action",
     "profiles/bad_box_action.yaml:4:48: bad value \"mask\" for "
     "\"limits.action\" (use log, drop-connection or reset)"},
    {"middlebox: limit without over", "bad_box_limit_missing",
     "profiles/bad_box_limit_missing.yaml:4:5: limit 1 has no \"over\" "
     "(write {what: cmd_line_length, over: 512, action: "
     "drop-connection})"},
    {"middlebox: bad banner value", "bad_box_banner",
     "profiles/bad_box_banner.yaml:3:9: bad value \"hide\" for \"banner\" "
     "(use pass, mask or mask-all)"},
    {"middlebox: STARTTLS allowed without allow_tls", "bad_box_starttls",
     "profiles/bad_box_starttls.yaml:5:12: \"commands.allowed\" lists "
     "STARTTLS but allow_tls is false (STARTTLS passes only with "
     "allow_tls: true; remove it from the list, or set allow_tls: true)"},
    {"middlebox: duplicate-header cut that only logs", "bad_box_cut_log",
     "profiles/bad_box_cut_log.yaml:3:40: bad value \"log\" for "
     "\"duplicate_headers.action\" (use drop-connection or reset)"},
    {"bad kind", "bad_kind",
     "profiles/bad_kind.yaml:2:7: bad value \"firewall\" for \"kind\" (use "
     "server or middlebox)"},
    {"via: a server profile", "bad_via_server",
     "profiles/bad_via_server.yaml:2:21: via: \"good_min\" is a server "
     "profile (profiles/good_min.yaml), not a middlebox (name a file with "
     "\"kind: middlebox\", e.g. asa-esmtp-inspect)"},
    {"via: a missing box", "bad_via_missing",
     "profiles/bad_via_missing.yaml:3:5: via: middlebox \"no-such-box\" not "
     "found (looked in: profiles/middleboxes/no-such-box.yaml, "
     "profiles/no-such-box.yaml)"},
    {"via: an error in the box", "bad_via_box_error",
     "profiles/bad_box_banner.yaml:3:9: bad value \"hide\" for \"banner\" "
     "(use pass, mask or mask-all)"},
    {"extends: a middlebox extends a server", "bad_box_extends_server",
     "profiles/bad_box_extends_server.yaml:3:10: extends: \"good_min\" is a "
     "server (kind: server), but this file is a middlebox (kind: "
     "middlebox) (a profile can only extend one of its own kind)"},
    {"extends: a server extends a middlebox", "bad_server_extends_box",
     "profiles/bad_server_extends_box.yaml:2:10: extends: \"good_box_min\" "
     "is a middlebox (kind: middlebox), but this file is a server (kind: "
     "server, the default) (a profile can only extend one of its own "
     "kind)"},
    {"ehlo.keywords_tls: AUTH without mechanisms",
     "profiles/auth/bad_keywords_tls_auth.yaml",
     "profiles/auth/bad_keywords_tls_auth.yaml:4:7: \"AUTH\" keyword without "
     "mechanisms in \"ehlo.keywords_tls\" (list them, e.g. \"AUTH PLAIN "
     "LOGIN\")"},
    {"auth.ntlm: a NetBIOS name over 15", "profiles/auth/bad_ntlm_netbios.yaml",
     "profiles/auth/bad_ntlm_netbios.yaml:4:23: bad NetBIOS name "
     "\"WAYTOOLONGCOMPUTERNAME\" in \"auth.ntlm.netbios_computer\" (at "
     "most 15 characters, none of \\ / : * ? \" < > |)"},
    {"auth.ntlm: a version without its build",
     "profiles/auth/bad_ntlm_version.yaml",
     "profiles/auth/bad_ntlm_version.yaml:3:22: bad version \"6.3\" in "
     "\"auth.ntlm.os_version\" (write major.minor.build, each a number, "
     "e.g. 6.3.9600)"},
    {"date_format: locale's %c", "profiles/reply/bad_date_format.yaml",
     "profiles/reply/bad_date_format.yaml:3:14: date_format: bad "
     "conversion at byte 13 of \"%%a, %%d %%b %%Y %%c\" (use strftime's a "
     "A b B h C d D e F g G H I j k l m M R s S T u U V w W y Y z Z %%, "
     "e.g. \"%%a, %%-d %%b %%Y %%H:%%M:%%S %%z\")"},
    {"queue_id_format: unknown", "profiles/reply/bad_queue_id_format.yaml",
     "profiles/reply/bad_queue_id_format.yaml:2:18: bad value \"zmailer\" "
     "for \"queue_id_format\" (use hex, postfix, sendmail, exim or "
     "qmail)"},
    {"tls: do with only at", "bad_tls_only_at",
     "profiles/bad_tls_only_at.yaml:5:9: \"rules.when-only.do\" has only "
     "\"at\", which says when, not what (give at least one of delay, "
     "reply, close, hang, alert)"},
};

static void
test_bad(void **state)
{
	const struct bad_case *c = *state;
	char err[2048] = "", known[512] = "", want[2048];
	struct profile *p;
	size_t off = 0;

	label = c->label;
	for (int i = 0; i < TPL_COUNT; i++)
		off +=
		    (size_t)snprintf(known + off, sizeof(known) - off, "%s{%s}",
		                     i ? ", " : "", template_var_name(i));
	snprintf(want, sizeof(want), c->want, known);
	p = profile_load(c->load, fixture_dirs, 1, err, sizeof(err));
	if (p != NULL) {
		profile_unref(p);
		fail_msg("%s: loaded\n  got:  success\n  want: %s", label,
		         want);
	}
	if (strcmp(err, want) != 0)
		fail_msg("%s\n  got:  %s\n  want: %s", label, err, want);
	if (strchr(err, '\n') != NULL)
		fail_msg("%s: error is not one line", label);
}

/* ------------------------------------------------------------------ */
/* Tables, lookup, listing, shipped profiles                           */

static void
test_names(void **state)
{
	(void)state;
	label = "names";
	for (int i = 0; i < REPLY_COUNT; i++)
		assert_int_equal(reply_id_from_str(reply_id_str(i)), i);
	WANT_STR(reply_id_str(REPLY_GREETING), "greeting");
	WANT_STR(reply_id_str(REPLY_SHUTDOWN), "shutdown");
	assert_int_equal(reply_id_from_str("nope"), -1);
	WANT_STR(close_how_str(CLOSE_NONE), "none");
	WANT_STR(close_how_str(CLOSE_FIN), "fin");
	WANT_STR(close_how_str(CLOSE_SILENT), "silent");
	WANT_STR(close_how_str(CLOSE_RST), "rst");
	WANT_STR(hook_str(HOOK_CONNECT), "connect");
	WANT_STR(hook_str(HOOK_DATA), "data");
	WANT_STR(hook_str(HOOK_TLS_CLIENT_HELLO), "tls_client_hello");
	WANT_STR(hook_str(HOOK_TLS_HANDSHAKE_DONE), "tls_handshake_done");
	WANT_STR(hook_str(HOOK_TLS_FAILED), "tls_failed");
	WANT_STR(hook_str(HOOK_COUNT), "?");
	for (int v = 0; v < VERB_COUNT; v++)
		assert_int_equal(
		    verb_from_str(verb_str(v), strlen(verb_str(v))), v);
	assert_int_equal(verb_from_str("starttls", 8), VERB_STARTTLS);
	assert_int_equal(verb_from_str("MAILX", 4), VERB_MAIL);
	assert_int_equal(verb_from_str("MAI", 3), VERB_UNKNOWN);
	assert_int_equal(verb_from_str("XEXCH50", 7), VERB_UNKNOWN);
}

static void
test_search_order(void **state)
{
	const char *const dirs[] = {"no-such-dir", "profiles"};
	char err[1024];
	struct profile *p;

	(void)state;
	label = "search order";
	p = profile_load("good_min", dirs, 2, err, sizeof(err));
	if (p == NULL)
		fail_msg("%s: %s", label, err);
	WANT_STR(p->path, "profiles/good_min.yaml");
	profile_unref(p);
	p = profile_load("nope", dirs, 2, err, sizeof(err));
	assert_null(p);
	WANT_STR(err, "nope: profile not found (looked in: "
	              "no-such-dir/nope.yaml, profiles/nope.yaml; "
	              "--list-profiles shows the known ones)");
	p = profile_load("nope", NULL, 0, err, sizeof(err));
	assert_null(p);
	WANT_STR(err, "nope: profile not found (looked in: no profile "
	              "directories given; --list-profiles shows the known "
	              "ones)");
}

/* The line of out that starts with "name " (after its indent), or fail;
 * returns where the name starts. */
static const char *
list_line(const char *out, const char *name)
{
	size_t n = strlen(name);

	for (const char *s = out; s != NULL && *s; s = strchr(s, '\n')) {
		if (*s == '\n')
			s++;
		while (*s == ' ')
			s++;
		if (strncmp(s, name, n) == 0 && s[n] == ' ')
			return s;
	}
	fail_msg("profile_list: no line for %s in:\n%s", name, out);
	return NULL;
}

/* profile_list_from: "from:" names each dir's origin and what it
 * supplied; a name in the first dir shadows the second's */
static void
test_list_from(void **state)
{
	char tmp[] = "/tmp/test_list_from.XXXXXX", path[64], want[256];
	const char *dirs[2] = {tmp, "profiles"};
	const char *const origins[] = {"site", "shipped"};
	char *buf = NULL;
	size_t len = 0;
	FILE *out, *f;
	const char *from;

	(void)state;
	assert_non_null(mkdtemp(tmp));
	snprintf(path, sizeof(path), "%s/good_min.yaml", tmp);
	assert_non_null(f = fopen(path, "w"));
	fputs("name: good-min\ndescription: the site's copy\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/site_only.yaml", tmp);
	assert_non_null(f = fopen(path, "w"));
	fputs("name: site-only\n", f);
	fclose(f);
	out = open_memstream(&buf, &len);
	profile_list_from(dirs, origins, 2, out);
	fclose(out);
	assert_non_null(
	    strstr(list_line(buf, "good_min"), "  the site's copy\n"));
	from = strstr(buf, "\n\nfrom:\n");
	assert_non_null(from);
	snprintf(want, sizeof(want),
	         "\n\nfrom:\n  site         %s: good_min, site_only\n"
	         "  shipped      profiles: ",
	         tmp);
	assert_true(strncmp(from, want, strlen(want)) == 0);
	assert_non_null(strstr(from, " profiles and middleboxes\n"));
	assert_int_equal(from[strlen(from) - 1], '\n');
	free(buf);
	/* without origins: no "from:" (profile_list) */
	buf = NULL;
	out = open_memstream(&buf, &len);
	profile_list(dirs, 2, out);
	fclose(out);
	assert_null(strstr(buf, "from:"));
	free(buf);
	snprintf(path, sizeof(path), "%s/good_min.yaml", tmp);
	unlink(path);
	snprintf(path, sizeof(path), "%s/site_only.yaml", tmp);
	unlink(path);
	rmdir(tmp);
}

static void
test_list(void **state)
{
	/* the same dir twice: every name is listed once */
	const char *const dirs[] = {"profiles", "profiles"};
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	const char *l, *l2;
	int lines = 0;

	(void)state;
	profile_list(dirs, 2, out);
	fclose(out);
	l = list_line(buf, "good_full");
	assert_true(strncmp(strchr(l, ' '), "       ", 5) == 0);
	assert_non_null(strstr(l, "  every key set\n"));
	l = list_line(buf, "bad_top_key");
	assert_true(
	    strncmp(strstr(l, "  (invalid: "),
	            "  (invalid: profiles/bad_top_key.yaml:3:1: unknown "
	            "key \"hostnme\"",
	            40) == 0);
	/* sorted */
	l = list_line(buf, "good_child");
	l2 = list_line(buf, "good_min");
	assert_true(l < l2);
	/* then the middleboxes: middleboxes/ and the boxes among the
	 * profiles, indented, each once, after one empty line */
	l = strstr(buf, "\n\nmiddleboxes:\n");
	assert_non_null(l);
	assert_non_null(strstr(l, "\n  good_box_child  \n"));
	assert_non_null(strstr(l, "\n  good_box_full   every middlebox key\n"));
	assert_non_null(strstr(l, "\n  good_box_min    \n"));
	assert_null(strstr(l + 1, "\n\n"));
	/* not servers: nothing before the first empty line names them */
	*strstr(buf, "\n\n") = '\0';
	assert_null(strstr(buf, "\n  good_box_min "));
	assert_null(strstr(buf, "\n  good_box_full "));
	buf[strlen(buf)] = '\n';
	for (const char *s = buf; *s; s++)
		lines += *s == '\n';
	/* grouped by vendor: these files have none; a scenario names the
	 * profile it extends (not a listed peer here: at the vendor's
	 * level); one that extends a scenario without saying so is a peer */
	assert_true(strncmp(buf, "(none):\n  ", 10) == 0);
	assert_non_null(strstr(list_line(buf, "good_scenario"),
	                       "  (scenario on good-parent)  a field bug on "
	                       "good-parent\n"));
	assert_non_null(list_line(buf, "good_scenario_child"));
	assert_non_null(strstr(buf, "\n\ninvalid:\n  bad_"));
	assert_int_equal(lines,
	                 95); /* + the "(none):" and "invalid:" headers */
	free(buf);
}

/* profile_load_middlebox (--via): the lookup, and what it refuses */
static void
test_load_middlebox(void **state)
{
	char err[1024];
	struct profile *p;

	(void)state;
	label = "profile_load_middlebox";
	p = profile_load_middlebox("good_box_child", fixture_dirs, 1, err,
	                           sizeof(err));
	if (p == NULL)
		fail_msg("%s: %s", label, err);
	WANT_STR(p->path, "profiles/middleboxes/good_box_child.yaml");
	check_box_child(p);
	profile_unref(p);
	p = profile_load_middlebox("good_box_min", fixture_dirs, 1, err,
	                           sizeof(err));
	if (p == NULL)
		fail_msg("%s: %s", label, err);
	WANT_STR(p->path, "profiles/good_box_min.yaml");
	profile_unref(p);
	p = profile_load_middlebox("profiles/middleboxes/good_box_full.yaml",
	                           fixture_dirs, 1, err, sizeof(err));
	if (p == NULL)
		fail_msg("%s: %s", label, err);
	check_box_full(p);
	profile_unref(p);

	p = profile_load_middlebox("good_min", fixture_dirs, 1, err,
	                           sizeof(err));
	assert_null(p);
	WANT_STR(err, "good_min: profiles/good_min.yaml is a server profile "
	              "(kind: server), not a middlebox (name a file with "
	              "\"kind: middlebox\", e.g. asa-esmtp-inspect)");
	p = profile_load_middlebox("no-box", fixture_dirs, 1, err, sizeof(err));
	assert_null(p);
	WANT_STR(err, "no-box: middlebox not found (looked in: "
	              "profiles/middleboxes/no-box.yaml, profiles/no-box.yaml; "
	              "--list-profiles shows the known ones)");
	p = profile_load_middlebox("bad_box_banner", fixture_dirs, 1, err,
	                           sizeof(err));
	assert_null(p);
	WANT_STR(err, "profiles/bad_box_banner.yaml:3:9: bad value \"hide\" "
	              "for \"banner\" (use pass, mask or mask-all)");
	/* a server profile by NAME is not looked for among the boxes */
	p = profile_load("good_box_full", fixture_dirs, 1, err, sizeof(err));
	assert_null(p);
	WANT_STR(err, "good_box_full: profile not found (looked in: "
	              "profiles/good_box_full.yaml; --list-profiles shows the "
	              "known ones)");
}

/* FACTS.md 5: the ASA's _default_esmtp_map, as shipped. */
static void
check_asa(const struct profile *p)
{
	const struct mbox_config *c = p->mbox;

	assert_non_null(c);
	WANT_STR(p->name, "asa-esmtp-inspect");
	WANT_STR(c->name, "asa-esmtp-inspect");
	WANT_U64(c->banner, MBOX_BANNER_MASK);
	WANT_STRV(c->allowed, c->nallowed, 15, "HELO", "MAIL", "RCPT", "DATA",
	          "RSET", "NOOP", "QUIT", "AUTH", "EHLO", "ETRN", "HELP",
	          "SAML", "SEND", "SOML", "VRFY");
	WANT_U64(c->denied, MBOX_DENIED_MASK);
	/* FACTS.md 5: masks with sequence letters (STARTTLS masked first is
	 * XXXXXXXA), the keywords that pass are the capture's */
	WANT_U64(c->nehlo_masks, 0);
	WANT_U64(c->ehlo_mask_others, MBOX_OTHERS_MASK_SEQUENCE);
	WANT_U64(c->timeout_conn_ms, 3600000);
	WANT_STRV(c->ehlo_allowed, c->nehlo_allowed, 8, "SIZE", "ETRN",
	          "PIPELINING", "DSN", "ENHANCEDSTATUSCODES", "8BITMIME",
	          "BINARYMIME", "AUTH");
	WANT_U64(c->allow_tls, false);
	WANT_U64(c->nlimits, 6);
	want_limit(c, 0, MBOX_CMD_LINE, 512, MBOX_ACT_DROP);
	want_limit(c, 1, MBOX_RCPT_COUNT, 100, MBOX_ACT_DROP);
	want_limit(c, 2, MBOX_BODY_LINE, 998, MBOX_ACT_LOG);
	want_limit(c, 3, MBOX_HEADER_LINE, 998, MBOX_ACT_DROP);
	want_limit(c, 4, MBOX_SENDER_LEN, 320, MBOX_ACT_DROP);
	want_limit(c, 5, MBOX_MIME_FILENAME, 255, MBOX_ACT_DROP);
	WANT_U64(c->drop_split_eod, false);
	WANT_U64(c->cut_on_duplicate, false);
	/* seed 001: 8BITMIME and SIZE reach the client unmasked */
	for (size_t i = 0; i < 2; i++) {
		static const char *const kw[] = {"8BITMIME", "SIZE"};
		bool found = false;

		for (size_t j = 0; j < c->nehlo_allowed; j++)
			found |= strcmp(c->ehlo_allowed[j], kw[i]) == 0;
		if (!found)
			fail_msg("asa-esmtp-inspect: %s not in ehlo.allowed",
			         kw[i]);
	}
}

/* FACTS.md 6: PIX Mailguard, and the pre-7.2(3) duplicate-header cut. */
static void
check_pix(const struct profile *p, bool pre723)
{
	const struct mbox_config *c = p->mbox;

	assert_non_null(c);
	WANT_U64(c->banner, MBOX_BANNER_MASK);
	WANT_STRV(c->allowed, c->nallowed, 7, "HELO", "MAIL", "RCPT", "DATA",
	          "RSET", "NOOP", "QUIT");
	WANT_U64(c->denied, MBOX_DENIED_MASK);
	WANT_U64(c->allow_tls, false);
	WANT_U64(c->drop_split_eod, true);
	WANT_U64(c->cut_on_duplicate, pre723);
	if (!pre723)
		return;
	WANT_STRV(c->cut_headers, c->ncut_headers, 2, "DKIM-Signature",
	          "DomainKey-Signature");
	WANT_U64(c->cut_action, MBOX_ACT_RESET);
}

static void
test_shipped_middleboxes(void **state)
{
	static const char *const dirs[] = {"../../profiles"};
	static const char *const names[] = {"asa-esmtp-inspect", "pix-fixup",
	                                    "pix-fixup-pre723"};
	char err[2048];
	struct profile *p;
	struct stat st;

	(void)state;
	if (stat("../../profiles/middleboxes", &st) != 0)
		skip();
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *out;

		label = names[i];
		p = profile_load_middlebox(names[i], dirs, 1, err, sizeof(err));
		if (p == NULL)
			fail_msg("shipped %s\n  got:  %s\n  want: success",
			         names[i], err);
		WANT_STR(p->name, names[i]);
		if (i == 0)
			check_asa(p);
		else
			check_pix(p, i == 2);
		out = open_memstream(&buf, &len);
		profile_summary(p, true, out);
		fclose(out);
		assert_non_null(strstr(buf, "Middlebox "));
		free(buf);
		profile_unref(p);
	}

	/* seed 001 end to end: the ESA with TLS behind the ASA */
	label = "esa-behind-asa";
	p = profile_load("esa-behind-asa", dirs, 1, err, sizeof(err));
	if (p == NULL)
		fail_msg("shipped esa-behind-asa\n  got:  %s\n  want: success",
		         err);
	WANT_U64(p->mbox == NULL, true);
	WANT_STRV(p->ehlo_keywords, p->nehlo_keywords, 3, "8BITMIME",
	          "SIZE 14680064", "STARTTLS");
	WANT_U64(p->ext & EXT_STARTTLS, EXT_STARTTLS);
	WANT_U64(p->limits.message_size, 14680064);
	WANT_U64(p->tls.enabled, true);
	WANT_U64(p->tls.versions, TLSV_1_2);
	WANT_U64(p->commands & (1u << VERB_STARTTLS), 1u << VERB_STARTTLS);
	WANT_REPLY(p, REPLY_UNKNOWN_COMMAND, 1,
	           "500 #5.5.1 command not recognized");
	WANT_U64(p->nvia, 1);
	WANT_STR(p->via[0]->path,
	         "../../profiles/middleboxes/asa-esmtp-inspect.yaml");
	check_asa(p->via[0]);
	profile_unref(p);
}

static void
test_shipped(void **state)
{
	static const char *const dirs[] = {"../../profiles"};
	static const char *const names[] = {
	    "standard",           "exchange2013",   "esa",
	    "exchange2013-tls10", "esa-behind-asa", "exchange2013-cscwh48138"};
	int loaded = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[256], err[2048];
		struct stat st;
		struct profile *p;
		char *buf = NULL;
		size_t len = 0;
		FILE *out;

		snprintf(path, sizeof(path), "%s/%s.yaml", dirs[0], names[i]);
		if (stat(path, &st) != 0)
			continue;
		label = names[i];
		p = profile_load(names[i], dirs, 1, err, sizeof(err));
		if (p == NULL)
			fail_msg("shipped %s\n  got:  %s\n  want: success",
			         names[i], err);
		WANT_STR(p->name, names[i]);
		if (strcmp(names[i], "exchange2013") == 0) {
			WANT_U64(p->limits.message_size, 37748736);
			WANT_U64(p->ext & EXT_STARTTLS, EXT_STARTTLS);
			WANT_U64(p->nauth_mechs, 1);
			WANT_STR(p->auth_mechs[0], "NTLM");
			/* FACTS.md 1: LOGIN only inside TLS */
			WANT_STRV(p->auth_mechs_tls, p->nauth_mechs_tls, 2,
			          "NTLM", "LOGIN");
			WANT_U64(p->ext_tls & EXT_STARTTLS, 0);
		}
		/* the healthy server has no CSCwh48138 rule; the scenario has
		 */
		{
			bool has = false;

			for (size_t j = 0; j < p->nrules; j++)
				has |=
				    strcmp(p->rules[j].name, "CSCwh48138") == 0;
			WANT_U64(has, strcmp(names[i],
			                     "exchange2013-cscwh48138") == 0);
		}
		WANT_U64(p->scenario,
		         strcmp(names[i], "exchange2013-cscwh48138") == 0);
		out = open_memstream(&buf, &len);
		profile_summary(p, true, out);
		fclose(out);
		free(buf);
		profile_unref(p);
		loaded++;
	}
	if (loaded == 0)
		skip();
}

/* ------------------------------------------------------------------ */
/* Reply origins and vendors (origin.c)                                */

static const char *const origin_dirs[] = {"profiles/origin"};

static struct profile *
load_origin(const char *name)
{
	char err[2048];
	struct profile *p;

	label = name;
	p = profile_load(name, origin_dirs, 1, err, sizeof(err));
	if (p == NULL)
		fail_msg("%s\n  got:  %s\n  want: success", name, err);
	return p;
}

static void
want_origin(const struct profile *p, enum reply_id id, const char *file,
            const char *source)
{
	struct reply_origin o;
	char f[96];

	profile_reply_origin(p, id, &o);
	snprintf(f, sizeof(f), "origin of %s: file", reply_id_str(id));
	want_str(f, o.file, file);
	snprintf(f, sizeof(f), "origin of %s: source", reply_id_str(id));
	want_str(f, o.source, source);
}

/* Each reply knows the file that set it; the family shares a vendor;
 * another vendor's file lends borrowed words. */
static void
test_origins(void **state)
{
	enum reply_id ids[REPLY_COUNT];
	struct profile *p;
	char err[2048];

	(void)state;
	p = load_origin("acme_child");
	WANT_STR(profile_vendor(p), "acme");
	want_origin(p, REPLY_MAIL_OK, "acme-base", "acme manual 3");
	want_origin(p, REPLY_QUIT, "acme-base", NULL);
	want_origin(p, REPLY_RCPT_OK, "acme-child", "model choice: no source");
	want_origin(p, REPLY_NEED_MAIL, NULL, NULL); /* built-in */
	WANT_U64(profile_borrowed(p, ids, REPLY_COUNT), 0);
	profile_unref(p);

	p = load_origin("other_vendor");
	WANT_STR(profile_vendor(p), "other");
	WANT_U64(profile_borrowed(p, ids, REPLY_COUNT), 2);
	WANT_U64(ids[0], REPLY_MAIL_OK);
	WANT_U64(ids[1], REPLY_QUIT);
	profile_unref(p);

	label = "bad_source_key";
	p = profile_load("bad_source_key", origin_dirs, 1, err, sizeof(err));
	assert_null(p);
	WANT_STR(err, "profiles/origin/bad_source_key.yaml:3:29: unknown key "
	              "\"sauce\" under \"replies.mail_ok\" (known: text, "
	              "source)");
	label = "bad_bad_count";
	p = profile_load("bad_bad_count", origin_dirs, 1, err, sizeof(err));
	assert_null(p);
	WANT_STR(err, "profiles/origin/bad_bad_count.yaml:3:41: unknown reply "
	              "key \"no_such_reply\" in \"limits.bad_commands_count\" "
	              "(name the error replies that count, e.g. "
	              "unknown_command, need_mail, line_too_long)");
}

/* The faithfulness table: topics merged by key, replies by source. */
static void
test_faithfulness_table(void **state)
{
	struct profile *p = load_origin("other_vendor");
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	(void)state;
	profile_faithfulness(p, out);
	fclose(out);
	assert_non_null(strstr(buf, "\nFaithfulness (vendor: other)\n"));
	assert_non_null(
	    strstr(buf, "    replies mail_ok: acme manual 3 (acme-base)\n"));
	assert_non_null(strstr(buf,
	                       "  borrowed from another vendor's file:\n"
	                       "    mail_ok (from acme-base, vendor acme)\n"
	                       "    quit (from acme-base, vendor acme)\n"));
	free(buf);
	profile_unref(p);

	p = load_origin("acme_child");
	buf = NULL;
	out = open_memstream(&buf, &len);
	profile_faithfulness(p, out);
	fclose(out);
	/* the child's topic replaced the parent's, under its own kind */
	assert_non_null(strstr(buf, "  model choice:\n    greeting: the banner "
	                            "is guessed after all (acme-child)\n"));
	assert_null(strstr(buf, "acme manual 1"));
	assert_non_null(strstr(buf, "borrowed from another vendor's file: "
	                            "none\n"));
	free(buf);
	profile_unref(p);
}

/*
 * No shipped vendor profile speaks another vendor's words (FACTS.md 1):
 * every reply comes from a file of its own vendor (its family: the files
 * it extends and that extend it) or is the built-in RFC 5321 text, says
 * its source as data, and (unless it is Postfix) carries none of
 * Postfix's "Error:" texts.
 */
static void
test_shipped_no_borrowed_words(void **state)
{
	static const char *const dirs[] = {"../../profiles"};
	DIR *d = opendir(dirs[0]);
	struct dirent *e;
	int loaded = 0;

	(void)state;
	if (d == NULL)
		skip();
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		char name[256], err[2048];
		enum reply_id ids[REPLY_COUNT];
		const char *vendor;
		struct profile *p;
		size_t nb;

		if (n < 6 || strcmp(e->d_name + n - 5, ".yaml") != 0 ||
		    n - 5 >= sizeof(name))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(n - 5), e->d_name);
		label = name;
		p = profile_load(name, dirs, 1, err, sizeof(err));
		if (p == NULL)
			fail_msg("shipped %s\n  got:  %s\n  want: success",
			         name, err);
		loaded++;
		vendor = profile_vendor(p);
		if (vendor == NULL)
			fail_msg(
			    "%s: no \"vendor:\" in its file or its parents",
			    name);
		nb = profile_borrowed(p, ids, REPLY_COUNT);
		for (size_t i = 0; i < nb; i++) {
			struct reply_origin o;

			profile_reply_origin(p, ids[i], &o);
			print_error("%s (vendor %s): reply %s \"%s\" is %s's "
			            "words (%s, vendor %s)\n",
			            name, vendor, reply_id_str(ids[i]),
			            p->replies[ids[i]].lines[0], o.file, o.path,
			            o.vendor ? o.vendor : "none");
		}
		if (nb != 0)
			fail_msg("%s borrows %zu replies from another vendor's "
			         "file",
			         name, nb);
		for (int i = 0; i < REPLY_COUNT; i++) {
			struct reply_origin o;

			profile_reply_origin(p, (enum reply_id)i, &o);
			if (o.file != NULL && o.source == NULL)
				fail_msg("%s: reply %s set in %s states no "
				         "source (write {text: ..., source: "
				         "\"...\"} or \"model choice: why\")",
				         name, reply_id_str(i), o.path);
			/* Postfix's own words are Postfix's to speak */
			if (strcmp(vendor, "smtp-mimic") == 0 ||
			    strcmp(vendor, "postfix") == 0)
				continue;
			for (size_t j = 0; j < p->replies[i].n; j++)
				if (strstr(p->replies[i].lines[j], "Error:"))
					fail_msg("%s: reply %s \"%s\" is "
					         "Postfix's wording",
					         name, reply_id_str(i),
					         p->replies[i].lines[j]);
		}
		profile_unref(p);
	}
	closedir(d);
	if (loaded == 0)
		skip();
}

/* ------------------------------------------------------------------ */
/* The schema                                                          */

struct row_check {
	size_t rows;
	char bad[2048];
};

/* Every row documents itself and is complete for its type. */
static void
check_row(const char *path, const struct schema_row *r, void *arg)
{
	struct row_check *c = arg;
	const char *why = NULL;
	bool list = r->type == T_SUITES || r->type == T_SUITES13 ||
	            r->type == T_NAMES || r->type == T_WORDS ||
	            r->type == T_SUITE_IDS;

	c->rows++;
	if (r->doc == NULL || r->doc[0] == '\0')
		why = "no doc";
	else if (strchr(r->doc, '\n') != NULL)
		why = "doc is not one line";
	else if ((r->type == T_CHOICE || r->type == T_CHOICE_BOOL) &&
	         (r->choices == NULL || r->nchoices == 0))
		why = "a choice without choices";
	else if (r->type == T_SECTION && r->sub == NULL)
		why = "a section without rows";
	else if (list && r->noff == 0)
		why = "a list without its count";
	else if (r->type == T_CUSTOM && r->load == NULL &&
	         !(r->flags & SR_SKIP))
		why = "a custom row without a loader";
	if (why != NULL && strlen(c->bad) + strlen(path) + 40 < sizeof(c->bad))
		snprintf(c->bad + strlen(c->bad),
		         sizeof(c->bad) - strlen(c->bad), "  %s: %s\n", path,
		         why);
}

static void
test_schema_rows(void **state)
{
	struct row_check c = {0};

	(void)state;
	label = "schema rows";
	schema_each(check_row, &c);
	if (c.bad[0] != '\0')
		fail_msg("%s:\n%s", label, c.bad);
	if (c.rows < 80)
		fail_msg("%s: only %zu rows", label, c.rows);
}

/*
 * The row at path ("limits.recipients") and the struct its offset counts
 * from, in profile p (kind: the top level's kind).
 */
static const struct schema_row *
row_at(const struct profile *p, unsigned kind, const char *path,
       const void **base)
{
	const struct schema_section *s = &schema_top;
	const struct schema_row *r = NULL;
	char buf[128], *save = NULL;

	*base = p;
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *w = strtok_r(buf, ".", &save); w != NULL;
	     w = strtok_r(NULL, ".", &save)) {
		if (s == NULL)
			return NULL;
		r = schema_row_find(s, w, s == &schema_top ? kind : 0);
		if (r == NULL)
			return NULL;
		if (s == &schema_top && (r->flags & SR_BOX))
			*base = p->mbox;
		if (r->type == T_SECTION) {
			*base = schema_field(r, *base);
			s = r->sub;
		} else {
			s = NULL;
		}
	}
	return r;
}

struct defaults_check {
	const struct profile *p;
	unsigned kind;
	char bad[4096];
	size_t checked;
};

/* A row's value in a profile that left it out is the row's default. */
static void
check_default(const char *path, const struct schema_row *r, void *arg)
{
	struct defaults_check *c = arg;
	char got[512], want[512];
	const void *base;
	void *scratch;

	if (strchr(path, '[') != NULL || r->type == T_SECTION ||
	    r->type == T_CUSTOM || r->init != NULL || r->def_doc != NULL ||
	    r->type == T_REPLY)
		return;
	if ((r->kinds & c->kind) == 0 && strchr(path, '.') == NULL)
		return;
	if (row_at(c->p, c->kind, path, &base) != r)
		return; /* the other kind's section of the same name */
	scratch = calloc(1, 4096);
	schema_types[r->type].init(r, scratch);
	schema_fmt_yaml(r, scratch, want, sizeof(want));
	schema_fmt_yaml(r, base, got, sizeof(got));
	if (r->type == T_LINE || r->type == T_TEMPLATE)
		free(*(char **)schema_field(r, scratch));
	else if (r->type >= T_SUITES && r->type <= T_WORDS)
		for (size_t i = 0; i < *(size_t *)((char *)scratch + r->noff);
		     i++)
			free((*(char ***)schema_field(r, scratch))[i]);
	if (r->type >= T_SUITES && r->type <= T_WORDS)
		free(*(char ***)schema_field(r, scratch));
	free(scratch);
	c->checked++;
	if (strcmp(got, want) != 0 &&
	    strlen(c->bad) + strlen(path) + strlen(got) + strlen(want) + 40 <
	        sizeof(c->bad))
		snprintf(c->bad + strlen(c->bad),
		         sizeof(c->bad) - strlen(c->bad),
		         "  %s\n    got:  %s\n    want: %s\n", path, got, want);
}

static void
test_schema_defaults(void **state)
{
	static const struct {
		const char *label, *load;
		unsigned kind;
	} cases[] = {
	    {"server defaults from the rows", "good_min", KIND_SERVER},
	    {"middlebox defaults from the rows", "good_box_min", KIND_MBOX},
	};
	char err[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct defaults_check c = {.kind = cases[i].kind};

		label = cases[i].label;
		c.p = profile_load(cases[i].load, fixture_dirs, 1, err,
		                   sizeof(err));
		if (c.p == NULL)
			fail_msg("%s: %s", label, err);
		schema_each(check_default, &c);
		profile_unref((struct profile *)c.p);
		if (c.bad[0] != '\0')
			fail_msg("%s:\n%s", label, c.bad);
		if (c.checked < 8)
			fail_msg("%s: only %zu rows checked", label, c.checked);
	}
	/* the defaults no literal can say (SIZE's n, every verb, the reply
	 * texts) are check_min's and check_box_min's */
}

/* Write text to dir/name.yaml; returns the path in buf. */
static const char *
write_file(const char *dir, const char *name, const char *text, char *buf,
           size_t len)
{
	FILE *f;

	snprintf(buf, len, "%s/%s.yaml", dir, name);
	if ((f = fopen(buf, "w")) == NULL)
		fail_msg("%s: cannot write %s", label, buf);
	fputs(text, f);
	fclose(f);
	return buf;
}

static char tmpdir[64];

static const char *
make_tmpdir(void)
{
	if (tmpdir[0] == '\0') {
		const char *t = getenv("TMPDIR");

		snprintf(tmpdir, sizeof(tmpdir), "%s/test_profile.XXXXXX",
		         t != NULL && strlen(t) < 30 ? t : "/tmp");
		if (mkdtemp(tmpdir) == NULL)
			fail_msg("mkdtemp: %s", tmpdir);
	}
	return tmpdir;
}

/* A value of the wrong type, per type: the error names file:line:column. */
static void
test_schema_wrong_type(void **state)
{
	static const struct {
		const char *label, *yaml, *want; /* want: "%s" = the file */
	} cases[] = {
	    {"T_BOOL", "name: t\nauth:\n  accept_any: maybe\n",
	     "%s:3:15: bad value \"maybe\" for \"auth.accept_any\" (use true "
	     "or "
	     "false)"},
	    {"T_COUNT", "name: t\nlimits: {recipients: -1}\n",
	     "%s:2:22: bad number \"-1\" for \"limits.recipients\" (use a "
	     "whole "
	     "number from 0 to 4294967295)"},
	    {"T_SIZE", "name: t\nlimits: {line_length: 1T}\n",
	     "%s:2:23: bad size \"1T\" for \"limits.line_length\" (use a "
	     "number "
	     "of bytes, optionally with K, M or G, e.g. 36M)"},
	    {"T_SIZE minimum", "name: t\nlimits: {line_length: 2}\n",
	     "%s:2:23: \"limits.line_length\" is too small: 2 (use at least 3 "
	     "bytes)"},
	    {"T_DURATION", "name: t\nlimits: {idle_timeout: 5 min}\n",
	     "%s:2:24: bad duration \"5 min\" for \"limits.idle_timeout\" (use "
	     "a "
	     "number with ms, s, m or h, e.g. 250ms, 300s, 5m; a bare number "
	     "is "
	     "milliseconds)"},
	    {"T_CLOSE", "name: t\nlimits: {bad_commands_close: later}\n",
	     "%s:2:30: bad value \"later\" for \"limits.bad_commands_close\" "
	     "(use "
	     "fin, rst or silent)"},
	    {"T_CHOICE", "name: t\nline_endings: crlf\n",
	     "%s:2:15: bad value \"crlf\" for \"line_endings\" (use strict or "
	     "lenient)"},
	    {"T_RANGE", "name: t\ntls: {security_level: 6}\n",
	     "%s:2:23: bad value \"6\" for \"tls.security_level\" (use a whole "
	     "number from 0 to 5)"},
	    {"T_DH", "name: t\ntls: {dh_bits: 1536}\n",
	     "%s:2:16: bad value \"1536\" for \"tls.dh_bits\" (use 0 for "
	     "OpenSSL's automatic choice, or 1024, 2048, 3072, 4096 or 8192)"},
	    {"T_VERSIONS", "name: t\ntls: {versions: tls1.2}\n",
	     "%s:2:17: wrong type for \"tls.versions\": a string (expected a "
	     "list of TLS versions)"},
	    {"T_SUITES", "name: t\ntls: {ciphers: {a: b}}\n",
	     "%s:2:16: wrong type for \"tls.ciphers\": a mapping (expected a "
	     "list "
	     "of strings)"},
	    {"T_NAMES", "name: t\ntls: {groups: [\"P-256:P-384\"]}\n",
	     "%s:2:16: bad name \"P-256:P-384\" in \"tls.groups\" (one name "
	     "per "
	     "list item, e.g. P-256)"},
	    {"T_LINE", "name: t\nhostname: [a, b]\n",
	     "%s:2:11: wrong type for \"hostname\": a list (expected a "
	     "string)"},
	    {"T_TEMPLATE", "name: t\nehlo: {greeting: \"{nope}\"}\n",
	     "%s:2:19: unknown placeholder \"{nope}\" in \"ehlo.greeting\" "
	     "(known: "
	     "%s; write \"{{\" for a literal \"{\")"},
	    {"T_REPLY", "name: t\ngreeting: {text: {code: 220}}\n",
	     "%s:2:18: wrong type for \"greeting.text\": a mapping (expected "
	     "a string or a list of strings)"},
	    {"T_REPLY source", "name: t\ngreeting: {code: 220}\n",
	     "%s:2:12: unknown key \"code\" under \"greeting\" (known: text, "
	     "source)"},
	    {"T_SECTION", "name: t\nauth: [a]\n",
	     "%s:2:7: wrong type for \"auth\": a list (expected a mapping)"},
	    {"T_SECTION, other kind's form", "name: t\nlimits: [a]\n",
	     "%s:2:9: \"limits\" as a list is the middlebox form, not allowed "
	     "in "
	     "a server profile (only kind: middlebox allows it; a server's "
	     "limits are a mapping, e.g. limits: {recipients: 100})"},
	    {"T_WORDS",
	     "name: t\nkind: middlebox\nehlo: {allowed: [\"SIZE 1\"]}\n",
	     "%s:3:18: bad word \"SIZE 1\" in \"ehlo.allowed\" (one EHLO "
	     "keyword "
	     "per list item, without parameters, e.g. 8BITMIME)"},
	    {"T_CHOICE_BOOL",
	     "name: t\nkind: middlebox\nsplit_end_of_data: cut\n",
	     "%s:3:20: bad value \"cut\" for \"split_end_of_data\" (use pass "
	     "or "
	     "drop)"},
	    {"T_PROB",
	     "name: t\nrules:\n  - {name: r, probability: 2, when: {connect: "
	     "null}, do: {close: fin}}\n",
	     "%s:3:28: bad probability \"2\" for \"rules.r.probability\" (use "
	     "a "
	     "number greater than 0 and at most 1, e.g. 0.25)"},
	    {"T_REGEX",
	     "name: t\nrules:\n  - {name: r, when: {connect: {client: \"(\"}}, "
	     "do: {close: fin}}\n",
	     "%s:3:40: bad regular expression \"(\" for "
	     "\"rules.r.when.connect.client\": "},
	};
	char path[256], err[2048], known[512] = "", want[2048];
	size_t off = 0;

	(void)state;
	for (int i = 0; i < TPL_COUNT; i++)
		off +=
		    (size_t)snprintf(known + off, sizeof(known) - off, "%s{%s}",
		                     i ? ", " : "", template_var_name(i));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct profile *p;

		label = cases[i].label;
		write_file(make_tmpdir(), "wrong", cases[i].yaml, path,
		           sizeof(path));
		p = profile_load(path, NULL, 0, err, sizeof(err));
		if (p != NULL) {
			profile_unref(p);
			fail_msg(
			    "%s: loaded\n  got:  success\n  want: an error",
			    label);
		}
		snprintf(want, sizeof(want), cases[i].want, path, known);
		/* a want ending in ": " is a prefix (regerror's text varies) */
		if (want[strlen(want) - 1] == ' ' &&
		    strncmp(err, want, strlen(want)) == 0)
			snprintf(want, sizeof(want), "%s", err);
		if (strcmp(err, want) != 0)
			fail_msg("%s\n  got:  %s\n  want: %s", label, err,
			         want);
		unlink(path);
	}
}

/* extends, per type: sections merge key by key, everything else
 * (scalars and lists) replaces. */
static void
test_schema_extends(void **state)
{
	static const char parent[] =
	    "name: parent\n"
	    "hostname: parent.test\n"
	    "limits: {recipients: 5, bad_commands: 3, idle_timeout: 30s}\n"
	    "auth: {accept_any: true}\n"
	    "tls:\n"
	    "  versions: [tls1.2]\n"
	    "  ciphers: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "
	    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]\n"
	    "  groups: [P-256, P-384]\n"
	    "  key_bits: 3072\n";
	static const char child[] =
	    "name: child\n"
	    "extends: parent\n"
	    "limits: {recipients: 7}\n"
	    "auth: {require_tls: true}\n"
	    "tls:\n"
	    "  ciphers: [TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]\n"
	    "  dh_bits: 2048\n";
	static const struct {
		const char *label, *path, *want;
	} cases[] = {
	    {"T_LINE replaced by the parent over the default", "hostname",
	     "\"parent.test\""},
	    {"T_COUNT replaced by the child", "limits.recipients", "7"},
	    {"T_COUNT inherited: limits merge key by key",
	     "limits.bad_commands", "3"},
	    {"T_DURATION inherited", "limits.idle_timeout", "30s"},
	    {"T_BOOL inherited: auth merges key by key", "auth.accept_any",
	     "true"},
	    {"T_BOOL set by the child", "auth.require_tls", "true"},
	    {"T_VERSIONS inherited", "tls.versions", "[tls1.2]"},
	    {"T_SUITES: the child's list replaces the parent's", "tls.ciphers",
	     "[TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]"},
	    {"T_NAMES inherited whole", "tls.groups", "[P-256, P-384]"},
	    {"T_DH set by the child", "tls.dh_bits", "2048"},
	    {"T_RANGE inherited", "tls.key_bits", "3072"},
	    {"T_BOOL: tls in a file turns it on", "tls.enabled", "true"},
	    {"T_SIZE: the default when no file sets it", "limits.line_length",
	     "512"},
	};
	char path[256], err[1024], got[512];
	struct profile *p;

	(void)state;
	label = "extends";
	write_file(make_tmpdir(), "parent", parent, path, sizeof(path));
	write_file(make_tmpdir(), "child", child, path, sizeof(path));
	p = profile_load(path, NULL, 0, err, sizeof(err));
	if (p == NULL)
		fail_msg("%s: %s", label, err);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const void *base;
		const struct schema_row *r =
		    row_at(p, KIND_SERVER, cases[i].path, &base);

		label = cases[i].label;
		if (r == NULL)
			fail_msg("%s: no row %s", label, cases[i].path);
		schema_fmt_yaml(r, base, got, sizeof(got));
		want_str(cases[i].path, got, cases[i].want);
	}
	profile_unref(p);
	unlink(path);
	write_file(make_tmpdir(), "parent", "", path, sizeof(path));
	unlink(path);
}

/* The man page's key reference is the rows, rendered. */
static void
test_man_page(void **state)
{
	static const char begin[] = ".\\\" BEGIN KEY REFERENCE";
	static const char end[] = ".\\\" END KEY REFERENCE";
	char *page = NULL, *want = NULL, *got = NULL, *a, *b;
	size_t len = 0, wlen = 0, line = 1;
	FILE *f, *mem;
	char out[128];

	(void)state;
	label = "man page key reference";
	if ((f = fopen("../../server/man/smtp-mimic.1", "r")) == NULL)
		skip();
	mem = open_memstream(&page, &len);
	for (int c; (c = fgetc(f)) != EOF;)
		fputc(c, mem);
	fclose(f);
	fclose(mem);
	if ((a = strstr(page, begin)) == NULL || (b = strstr(a, end)) == NULL)
		fail_msg("%s: no BEGIN/END KEY REFERENCE markers", label);
	/* the rows start after the comment lines that follow BEGIN */
	while (strncmp(a, ".\\\"", 3) == 0)
		a = strchr(a, '\n') + 1;
	want = strndup(a, (size_t)(b - a));
	mem = open_memstream(&got, &wlen);
	schema_man(mem);
	fclose(mem);
	if (strcmp(got, want) != 0) {
		size_t i = 0;

		for (; got[i] != '\0' && got[i] == want[i]; i++)
			if (got[i] == '\n')
				line++;
		snprintf(out, sizeof(out), "%s/smtp-mimic-keyref.man",
		         make_tmpdir());
		if ((f = fopen(out, "w")) != NULL) {
			fputs(got, f);
			fclose(f);
		}
		fail_msg("%s: server/man/smtp-mimic.1 differs from the schema "
		         "rows at line %zu of the key reference; the rendered "
		         "text is in %s (paste it between the markers)",
		         label, line, out);
	}
	free(page);
	free(want);
	free(got);
}

int
main(void)
{
	struct CMUnitTest tests[sizeof(good_cases) / sizeof(good_cases[0]) +
	                        sizeof(bad_cases) / sizeof(bad_cases[0]) + 20];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++)
		tests[n++] =
		    (struct CMUnitTest){good_cases[i].label, test_good, NULL,
		                        NULL, (void *)&good_cases[i]};
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		tests[n++] =
		    (struct CMUnitTest){bad_cases[i].label, test_bad, NULL,
		                        NULL, (void *)&bad_cases[i]};
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_names);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_search_order);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_list);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_list_from);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_load_middlebox);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_shipped);
	tests[n++] =
	    (struct CMUnitTest)cmocka_unit_test(test_shipped_middleboxes);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_origins);
	tests[n++] =
	    (struct CMUnitTest)cmocka_unit_test(test_faithfulness_table);
	tests[n++] =
	    (struct CMUnitTest)cmocka_unit_test(test_shipped_no_borrowed_words);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_schema_rows);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_schema_defaults);
	tests[n++] =
	    (struct CMUnitTest)cmocka_unit_test(test_schema_wrong_type);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_schema_extends);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_man_page);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_reply_formats);
	return _cmocka_run_group_tests("profile", tests, n, NULL, NULL);
}
