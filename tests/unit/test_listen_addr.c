/*
 * test_listen_addr.c - listen_addr.c: every accepted form of a --listen
 * value with the addresses it gives (bare port, IPv4, [IPv6], localhost,
 * port 0, /tls), and every refused one with its exact one-line error.
 * Does not bind anything (test_server.c does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "listen_addr.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct good_case {
	const char *label, *spec;
	const char *want; /* the addresses, formatted and joined by " " */
	bool tls, any_port;
};

static void
test_accepted(void **state)
{
	static const struct good_case cases[] = {
	    {"bare port: loopback", "2525", "127.0.0.1:2525", false, false},
	    {"IPv4", "192.0.2.1:25", "192.0.2.1:25", false, false},
	    {"any IPv4", "0.0.0.0:25", "0.0.0.0:25", false, false},
	    {"IPv6", "[::1]:2525", "[::1]:2525", false, false},
	    {"any IPv6", "[::]:25", "[::]:25", false, false},
	    {"implicit TLS", "127.0.0.1:465/tls", "127.0.0.1:465", true, false},
	    {"bare port TLS", "465/tls", "127.0.0.1:465", true, false},
	    {"port 0", "127.0.0.1:0", "127.0.0.1:0", false, true},
	    {"bare port 0", "0", "127.0.0.1:0", false, true},
	    {"colon and port: loopback", ":25", "127.0.0.1:25", false, false},
	    {"colon and port 0", ":0", "127.0.0.1:0", false, true},
	    {"colon, port 0, TLS", ":0/tls", "127.0.0.1:0", true, true},
	    {"IPv6 port 0 TLS", "[::1]:0/tls", "[::1]:0", true, true},
	    {"highest port", "127.0.0.1:65535", "127.0.0.1:65535", false,
	     false},
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct good_case *c = &cases[i];
		struct listen_addr la;
		char err[512] = "", got[256] = "";

		if (listen_addr_parse(c->spec, &la, err, sizeof(err)) != 0)
			fail_msg("%s: \"%s\" refused: %s", c->label, c->spec,
			         err);
		for (size_t k = 0; k < la.n; k++) {
			char one[64];
			listen_addr_format(&la.ss[k], true, one, sizeof(one));
			snprintf(got + strlen(got), sizeof(got) - strlen(got),
			         "%s%s", k ? " " : "", one);
		}
		if (strcmp(got, c->want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", c->label, got,
			         c->want);
		if (la.tls != c->tls || la.any_port != c->any_port ||
		    la.resolved)
			fail_msg("%s: got tls %d any_port %d resolved %d",
			         c->label, la.tls, la.any_port, la.resolved);
	}
}

/* localhost: whatever loopback addresses this host's resolver names,
 * each once, 127.0.0.1 among them on any usual host. */
static void
test_localhost(void **state)
{
	struct listen_addr la;
	char err[512] = "", addr[64];
	bool v4 = false;

	if (listen_addr_parse("localhost:2525", &la, err, sizeof(err)) != 0)
		fail_msg("localhost refused: %s", err);
	assert_true(la.resolved);
	assert_true(la.n >= 1 && la.n <= LISTEN_ADDR_MAX);
	for (size_t k = 0; k < la.n; k++) {
		listen_addr_format(&la.ss[k], true, addr, sizeof(addr));
		if (strcmp(addr, "127.0.0.1:2525") == 0)
			v4 = true;
		else if (strcmp(addr, "[::1]:2525") != 0)
			fail_msg("localhost gave \"%s\"", addr);
		for (size_t j = 0; j < k; j++)
			assert_false(la.len[j] == la.len[k] &&
			             memcmp(&la.ss[j], &la.ss[k], la.len[k]) ==
			                 0);
	}
	assert_true(v4);
	/* The name is not case-sensitive; port 0 stays 0 for every one. */
	assert_int_equal(
	    listen_addr_parse("LocalHost:0/tls", &la, err, sizeof(err)), 0);
	assert_true(la.any_port && la.tls);
	for (size_t k = 0; k < la.n; k++)
		assert_int_equal(listen_addr_port(&la.ss[k]), 0);
}

struct bad_case {
	const char *label, *spec, *want; /* want: %s is the spec */
};

#define NOT_AN_ADDRESS                                                         \
	"--listen %s: not an address (use PORT, ADDR:PORT or [IPV6]:PORT, "    \
	"e.g. 127.0.0.1:2525, with /tls for implicit TLS)"
#define BAD_PORT(p)                                                            \
	"--listen %s: bad port \"" p "\" (a number from 0 to 65535; 0 lets "   \
	"the kernel pick one)"

static void
test_refused(void **state)
{
	static const struct bad_case cases[] = {
	    {"empty", "", NOT_AN_ADDRESS},
	    {"a word", "nope", NOT_AN_ADDRESS},
	    {"no port", "127.0.0.1", NOT_AN_ADDRESS},
	    {"only a suffix", "/tls", NOT_AN_ADDRESS},
	    {"only a colon", ":", BAD_PORT("")},
	    {"two colons", "::25", NOT_AN_ADDRESS},
	    {"brackets without a port", "[::1]", NOT_AN_ADDRESS},
	    {"IPv6 without brackets", "fe80::1:25",
	     "--listen %s: not an address: an IPv6 address goes in brackets, "
	     "as [::1]:2525"},
	    {"junk after the port", "127.0.0.1:2525junk", BAD_PORT("2525junk")},
	    {"junk after a bare port", "2525junk", BAD_PORT("2525junk")},
	    {"port too big", "127.0.0.1:65536", BAD_PORT("65536")},
	    {"six digits", "127.0.0.1:000025", BAD_PORT("000025")},
	    {"empty port", "127.0.0.1:", BAD_PORT("")},
	    {"signed port", "127.0.0.1:+25", BAD_PORT("+25")},
	    {"IPv6 junk port", "[::1]:25x", BAD_PORT("25x")},
	    {"short IPv4", "1.2.3:25",
	     "--listen %s: not an address: \"1.2.3\" is not an IPv4 address, "
	     "an [IPv6] address or localhost (other host names are not "
	     "looked up)"},
	    {"a host name", "mx.example:25",
	     "--listen %s: not an address: \"mx.example\" is not an IPv4 "
	     "address, an [IPv6] address or localhost (other host names are "
	     "not looked up)"},
	    {"bad IPv6", "[::g]:25",
	     "--listen %s: not an address: \"::g\" is not an IPv6 address"},
	    {"unknown suffix", "25/ssl",
	     "--listen %s: unknown suffix \"/ssl\" (the only one is /tls, "
	     "for implicit TLS)"},
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct bad_case *c = &cases[i];
		struct listen_addr la;
		char err[512] = "", want[512];

		snprintf(want, sizeof(want), c->want, c->spec);
		if (listen_addr_parse(c->spec, &la, err, sizeof(err)) != -1)
			fail_msg("%s: \"%s\" was accepted", c->label, c->spec);
		if (strcmp(err, want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", c->label, err,
			         want);
	}
}

static void
test_format_without_port(void **state)
{
	struct listen_addr la;
	char err[256], buf[64];

	assert_int_equal(listen_addr_parse("[::1]:0", &la, err, sizeof(err)),
	                 0);
	listen_addr_format(&la.ss[0], false, buf, sizeof(buf));
	assert_string_equal(buf, "[::1]");
	listen_addr_set_port(&la.ss[0], 4242);
	listen_addr_format(&la.ss[0], true, buf, sizeof(buf));
	assert_string_equal(buf, "[::1]:4242");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepted),
	    cmocka_unit_test(test_localhost),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_format_without_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
