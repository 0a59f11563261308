/*
 * test_proxy_proto.c - unit tests for proxy_proto.c: exact v1 and v2
 * headers (HAProxy's own bytes for TCP4, TCP6, LOCAL, UNSPEC, with TLVs)
 * and malformed ones, each run whole and then trickled one byte at a time
 * (every shorter prefix must say "more" or the same error). Does not test
 * the socket side (tests/blackbox/proxy).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "proxy_proto.h"

#define NROWS(t) (sizeof(t) / sizeof((t)[0]))
#define SIG      "\r\n\r\n\0\r\nQUIT\n"

struct pp_case {
	const char *label;
	const char *in;
	size_t len; /* of in */
	unsigned mask;
	enum proxy_proto_result want;
	size_t consumed;
	const char *src; /* "ip port" or NULL: no addresses */
	const char *dst;
	const char *reason;
};

#define B(s) s, sizeof(s) - 1

static const struct pp_case cases[] = {
    {"v1 tcp4", B("PROXY TCP4 203.0.113.7 192.0.2.1 40000 25\r\nEHLO x\r\n"),
     PROXY_PROTO_ANY, PROXY_PROTO_DONE, 43, "203.0.113.7 40000", "192.0.2.1 25",
     NULL},
    {"v1 tcp6", B("PROXY TCP6 2001:db8::7 ::1 65535 0\r\n"), PROXY_PROTO_V1,
     PROXY_PROTO_DONE, 36, "2001:db8::7 65535", "::1 0", NULL},
    {"v1 unknown", B("PROXY UNKNOWN\r\n"), PROXY_PROTO_ANY, PROXY_PROTO_DONE,
     15, NULL, NULL, NULL},
    {"v1 unknown with junk", B("PROXY UNKNOWN ffff::1 x y z\r\nQUIT"),
     PROXY_PROTO_ANY, PROXY_PROTO_DONE, 29, NULL, NULL, NULL},
    {"v1 tcp4 in v6 field", B("PROXY TCP4 ::1 ::1 1 2\r\n"), PROXY_PROTO_ANY,
     PROXY_PROTO_ERROR, 0, NULL, NULL, "v1: bad address"},
    {"v1 leading zero port", B("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"),
     PROXY_PROTO_ANY, PROXY_PROTO_ERROR, 0, NULL, NULL, "v1: bad port"},
    {"v1 port too big", B("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"),
     PROXY_PROTO_ANY, PROXY_PROTO_ERROR, 0, NULL, NULL, "v1: bad port"},
    {"v1 double space", B("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n"),
     PROXY_PROTO_ANY, PROXY_PROTO_ERROR, 0, NULL, NULL,
     "v1: not 4 fields after the protocol"},
    {"v1 five fields", B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"),
     PROXY_PROTO_ANY, PROXY_PROTO_ERROR, 0, NULL, NULL,
     "v1: not 4 fields after the protocol"},
    {"v1 udp", B("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"), PROXY_PROTO_ANY,
     PROXY_PROTO_ERROR, 0, NULL, NULL,
     "v1: protocol is not TCP4, TCP6 or UNKNOWN"},
    {"v1 bare LF", B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), PROXY_PROTO_ANY,
     PROXY_PROTO_ERROR, 0, NULL, NULL, "v1: bad line end"},
    {"v1 lowercase", B("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), PROXY_PROTO_ANY,
     PROXY_PROTO_ERROR, 0, NULL, NULL, "no PROXY protocol header"},
    {"v1 bad signature", B("PROXZ TCP4"), PROXY_PROTO_ANY, PROXY_PROTO_ERROR, 0,
     NULL, NULL, "v1: bad signature"},
    {"v1 only v2 allowed", B("PROXY UNKNOWN\r\n"), PROXY_PROTO_V2,
     PROXY_PROTO_ERROR, 0, NULL, NULL, "no PROXY protocol header"},
    {"v1 too long",
     B("PROXY UNKNOWN "
       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"),
     PROXY_PROTO_ANY, PROXY_PROTO_ERROR, 0, NULL, NULL,
     "v1: no CRLF within 107 bytes"},
    {"v1 107 bytes exactly",
     B("PROXY UNKNOWN "
       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
       "xxxxxxxxxxxxxxxxxxxxxxx\r\n"),
     PROXY_PROTO_ANY, PROXY_PROTO_DONE, 107, NULL, NULL, NULL},
    {"smtp instead", B("EHLO x\r\n"), PROXY_PROTO_ANY, PROXY_PROTO_ERROR, 0,
     NULL, NULL, "no PROXY protocol header"},
    {"tls hello instead", B("\x16\x03\x01\x02\x00"), PROXY_PROTO_ANY,
     PROXY_PROTO_ERROR, 0, NULL, NULL, "no PROXY protocol header"},
    /* v2 TCP4 203.0.113.7:40000 -> 192.0.2.1:25, then SMTP */
    {"v2 tcp4",
     B(SIG "\x21\x11\x00\x0c"
           "\xcb\x00\x71\x07"
           "\xc0\x00\x02\x01"
           "\x9c\x40\x00\x19"
           "EHLO x\r\n"),
     PROXY_PROTO_ANY, PROXY_PROTO_DONE, 28, "203.0.113.7 40000", "192.0.2.1 25",
     NULL},
    /* TLVs: a NOOP of 3 bytes and an ALPN "smtp" */
    {"v2 tcp4 tlvs",
     B(SIG "\x21\x11\x00\x19"
           "\x7f\x00\x00\x01"
           "\x7f\x00\x00\x02"
           "\x04\xd2\x00\x19"
           "\x04\x00\x03"
           "abc"
           "\x01\x00\x04"
           "smtp"),
     PROXY_PROTO_V2, PROXY_PROTO_DONE, 41, "127.0.0.1 1234", "127.0.0.2 25",
     NULL},
    {"v2 tlv past end",
     B(SIG "\x21\x11\x00\x10"
           "\x7f\x00\x00\x01"
           "\x7f\x00\x00\x02"
           "\x04\xd2\x00\x19"
           "\x04\x00\x09"
           "a"),
     PROXY_PROTO_ANY, PROXY_PROTO_ERROR, 0, NULL, NULL,
     "v2: TLV runs past the header"},
    {"v2 tlv cut header",
     B(SIG "\x21\x11\x00\x0e"
           "\x7f\x00\x00\x01"
           "\x7f\x00\x00\x02"
           "\x04\xd2\x00\x19"
           "\x04\x00"),
     PROXY_PROTO_ANY, PROXY_PROTO_ERROR, 0, NULL, NULL,
     "v2: TLV runs past the header"},
    {"v2 tcp6",
     B(SIG "\x21\x21\x00\x24"
           "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x07"
           "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01"
           "\x9c\x40\x00\x19"),
     PROXY_PROTO_ANY, PROXY_PROTO_DONE, 52, "2001:db8::7 40000", "::1 25",
     NULL},
    /* HAProxy's health check: LOCAL, keep the socket's addresses */
    {"v2 local", B(SIG "\x20\x00\x00\x00QUIT\r\n"), PROXY_PROTO_ANY,
     PROXY_PROTO_DONE, 16, NULL, NULL, NULL},
    {"v2 local with bytes",
     B(SIG "\x20\x11\x00\x0c"
           "\x01\x02\x03\x04\x05\x06\x07\x08\x00\x01\x00\x02"),
     PROXY_PROTO_ANY, PROXY_PROTO_DONE, 28, NULL, NULL, NULL},
    {"v2 unspec", B(SIG "\x21\x00\x00\x02xy"), PROXY_PROTO_ANY,
     PROXY_PROTO_DONE, 18, NULL, NULL, NULL},
    {"v2 version 1", B(SIG "\x11\x11\x00\x0c"), PROXY_PROTO_ANY,
     PROXY_PROTO_ERROR, 0, NULL, NULL, "v2: version is not 2"},
    {"v2 command 2", B(SIG "\x22\x11\x00\x0c"), PROXY_PROTO_ANY,
     PROXY_PROTO_ERROR, 0, NULL, NULL, "v2: command is not LOCAL or PROXY"},
    {"v2 udp4", B(SIG "\x21\x12\x00\x0c"), PROXY_PROTO_ANY, PROXY_PROTO_ERROR,
     0, NULL, NULL, "v2: not a stream (UDP/DGRAM)"},
    {"v2 family 0x41", B(SIG "\x21\x41\x00\x0c"), PROXY_PROTO_ANY,
     PROXY_PROTO_ERROR, 0, NULL, NULL, "v2: unknown address family"},
    {"v2 tcp4 short length", B(SIG "\x21\x11\x00\x0b"), PROXY_PROTO_ANY,
     PROXY_PROTO_ERROR, 0, NULL, NULL, "v2: length too short for addresses"},
    {"v2 tcp6 short length", B(SIG "\x21\x21\x00\x0c"), PROXY_PROTO_ANY,
     PROXY_PROTO_ERROR, 0, NULL, NULL, "v2: length too short for addresses"},
    {"v2 bad signature", B("\r\n\r\n\0\r\nQUIX\n"), PROXY_PROTO_ANY,
     PROXY_PROTO_ERROR, 0, NULL, NULL, "v2: bad signature"},
    {"v2 only v1 allowed", B(SIG "\x20\x00\x00\x00"), PROXY_PROTO_V1,
     PROXY_PROTO_ERROR, 0, NULL, NULL, "no PROXY protocol header"},
    {"v2 incomplete", B(SIG "\x21\x11\x00\x0c\x01\x02"), PROXY_PROTO_ANY,
     PROXY_PROTO_MORE, 0, NULL, NULL, NULL},
    {"v1 incomplete", B("PROXY TCP4 1.2.3.4"), PROXY_PROTO_ANY,
     PROXY_PROTO_MORE, 0, NULL, NULL, NULL},
};

/* addr_text - "ip port" of ss */
static void
addr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char ip[64];
	unsigned port;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)ss;
		inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
		port = ntohs(s->sin_port);
	} else {
		const struct sockaddr_in6 *s = (const void *)ss;
		inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
		port = ntohs(s->sin6_port);
	}
	snprintf(buf, len, "%s %u", ip, port);
}

static void
check(const struct pp_case *c, size_t len, bool whole)
{
	struct proxy_proto_header h;
	const char *reason = "unset";
	enum proxy_proto_result r;
	char got[96];

	r = proxy_proto_parse((const unsigned char *)c->in, len, c->mask, &h,
	                      &reason);
	if (!whole) {
		/* a prefix: more, or the case's own error */
		if (r == PROXY_PROTO_MORE)
			return;
		if (r == PROXY_PROTO_DONE && c->want == PROXY_PROTO_DONE &&
		    h.consumed <= len)
			goto done; /* trailing bytes after the header */
		if (r != c->want || reason == NULL ||
		    strcmp(reason, c->reason) != 0)
			fail_msg("%s: prefix %zu: got %s (%s)", c->label, len,
			         proxy_proto_result_str(r),
			         reason ? reason : "-");
		return;
	}
	if (r != c->want)
		fail_msg("%s: got %s (%s), want %s", c->label,
		         proxy_proto_result_str(r), reason ? reason : "-",
		         proxy_proto_result_str(c->want));
	if (r == PROXY_PROTO_ERROR) {
		if (reason == NULL || strcmp(reason, c->reason) != 0)
			fail_msg("%s: reason got '%s' want '%s'", c->label,
			         reason ? reason : "(null)", c->reason);
		return;
	}
	if (r == PROXY_PROTO_MORE)
		return;
done:
	if (h.consumed != c->consumed)
		fail_msg("%s: consumed got %zu want %zu", c->label, h.consumed,
		         c->consumed);
	if (h.addresses != (c->src != NULL))
		fail_msg("%s: addresses got %d", c->label, h.addresses);
	if (c->src == NULL)
		return;
	addr_text(&h.src, got, sizeof(got));
	if (strcmp(got, c->src) != 0)
		fail_msg("%s: src got '%s' want '%s'", c->label, got, c->src);
	addr_text(&h.dst, got, sizeof(got));
	if (strcmp(got, c->dst) != 0)
		fail_msg("%s: dst got '%s' want '%s'", c->label, got, c->dst);
}

static void
test_whole(void **state)
{
	for (size_t i = 0; i < NROWS(cases); i++)
		check(&cases[i], cases[i].len, true);
}

/* trickle: every prefix of each case, as a reader sees them */
static void
test_trickle(void **state)
{
	for (size_t i = 0; i < NROWS(cases); i++)
		for (size_t n = 0; n < cases[i].len; n++)
			check(&cases[i], n, false);
}

static void
test_names(void **state)
{
	assert_string_equal(proxy_proto_result_str(PROXY_PROTO_MORE), "more");
	assert_string_equal(proxy_proto_result_str(PROXY_PROTO_DONE), "done");
	assert_string_equal(proxy_proto_result_str(PROXY_PROTO_ERROR), "error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_whole),
	    cmocka_unit_test(test_trickle),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
