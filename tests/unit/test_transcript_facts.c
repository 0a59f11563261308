/*
 * test_transcript_facts.c - transcript_facts.c: the connect and close
 * events' fields and text, for IPv4, IPv6 (bracketed in the text), a
 * load balancer's socket (proxy), a family with no address, and a close
 * with and without a rule. Compared as whole JSON documents.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cmocka.h>
#include <jansson.h>

#include "transcript_facts.h"

/* ip (IPv4, or IPv6 when it has a ':') and port as a socket address */
static struct sockaddr_storage
addr(const char *ip, unsigned port)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;

	if (strchr(ip, ':') != NULL) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET6, ip, &a6->sin6_addr), 1);
	} else {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET, ip, &a4->sin_addr), 1);
	}
	return ss;
}

/* o serialised with sorted keys equals want */
static void
assert_json(json_t *o, const char *want)
{
	char *got;

	assert_non_null(o);
	got = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	json_decref(o);
}

static void
test_addr(void **state)
{
	struct sockaddr_storage a = addr("192.0.2.7", 2525);
	struct sockaddr_storage b = addr("2001:db8::1", 25);
	struct sockaddr_un u = {.sun_family = AF_UNIX};
	char ip[64];
	unsigned port;

	(void)state;
	tr_addr((struct sockaddr *)&a, ip, sizeof(ip), &port);
	assert_string_equal(ip, "192.0.2.7");
	assert_int_equal(port, 2525);
	tr_addr((struct sockaddr *)&b, ip, sizeof(ip), &port);
	assert_string_equal(ip, "2001:db8::1");
	assert_int_equal(port, 25);
	tr_addr((struct sockaddr *)&u, ip, sizeof(ip), &port);
	assert_string_equal(ip, "");
	assert_int_equal(port, 0);
}

static void
test_connect_v4(void **state)
{
	struct sockaddr_storage c = addr("192.0.2.1", 51000),
	                        s = addr("127.0.0.1", 25);
	struct tr_connect tc = {.client = (struct sockaddr *)&c,
	                        .server = (struct sockaddr *)&s,
	                        .tls_listener = true,
	                        .profile = "esa"};
	char text[128];

	(void)state;
	assert_json(tr_connect_fields(&tc, text, sizeof(text)),
	            "{\"client\":{\"addr\":\"192.0.2.1\",\"port\":51000},"
	            "\"server\":{\"addr\":\"127.0.0.1\",\"port\":25},"
	            "\"tls_listener\":true}");
	assert_string_equal(text,
	                    "192.0.2.1:51000 -> 127.0.0.1:25 profile=esa");
}

static void
test_connect_proxy_v6(void **state)
{
	struct sockaddr_storage c = addr("2001:db8::7", 40000),
	                        s = addr("::1", 2525);
	struct sockaddr_storage p = addr("10.0.0.9", 61000);
	struct tr_connect tc = {.client = (struct sockaddr *)&c,
	                        .server = (struct sockaddr *)&s,
	                        .proxy = (struct sockaddr *)&p,
	                        .proxy_version = 2,
	                        .profile = "standard"};
	char text[128];

	(void)state;
	assert_json(tr_connect_fields(&tc, text, sizeof(text)),
	            "{\"client\":{\"addr\":\"2001:db8::7\",\"port\":40000},"
	            "\"proxy\":{\"addr\":\"10.0.0.9\",\"port\":61000,"
	            "\"version\":2},"
	            "\"server\":{\"addr\":\"::1\",\"port\":2525},"
	            "\"tls_listener\":false}");
	assert_string_equal(text, "[2001:db8::7]:40000 -> [::1]:2525 "
	                          "profile=standard proxy=10.0.0.9:61000 v2");
}

/* A text buffer too small is cut, never overrun. */
static void
test_connect_short_text(void **state)
{
	struct sockaddr_storage c = addr("192.0.2.1", 51000),
	                        s = addr("127.0.0.1", 25);
	struct tr_connect tc = {.client = (struct sockaddr *)&c,
	                        .server = (struct sockaddr *)&s,
	                        .profile = "esa"};
	char text[10];

	(void)state;
	json_decref(tr_connect_fields(&tc, text, sizeof(text)));
	assert_string_equal(text, "192.0.2.1");
}

static void
test_close(void **state)
{
	(void)state;
	assert_json(
	    tr_close_fields("rst", "rule said so", "esa-five", 120, 480, 2),
	    "{\"bytes_in\":120,\"bytes_out\":480,\"how\":\"rst\","
	    "\"messages\":2,\"reason\":\"rule said so\","
	    "\"rule\":\"esa-five\"}");
	assert_json(tr_close_fields("fin", "client QUIT", NULL,
	                            UINT64_C(5000000000), 0, 0),
	            "{\"bytes_in\":5000000000,\"bytes_out\":0,\"how\":\"fin\","
	            "\"messages\":0,\"reason\":\"client QUIT\"}");
	/* No reason: an empty string, as the schema wants one. */
	assert_json(tr_close_fields("drop", NULL, NULL, 0, 0, 0),
	            "{\"bytes_in\":0,\"bytes_out\":0,\"how\":\"drop\","
	            "\"messages\":0,\"reason\":\"\"}");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addr),
	    cmocka_unit_test(test_connect_v4),
	    cmocka_unit_test(test_connect_proxy_v6),
	    cmocka_unit_test(test_connect_short_text),
	    cmocka_unit_test(test_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
