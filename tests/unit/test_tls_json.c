/*
 * test_tls_json.c - tls_json.c: suites as {"name","hex"} (known, SCSV,
 * GREASE and unknown values), alert and group names, an alert object, and
 * a ClientHello's offer as the transcript writes it, compared as JSON text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "tls_json.h"
#include "tls_names.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* got (stolen) dumped compact with sorted keys equals want; 0 or 1 */
static int
same_json(const char *label, json_t *got, const char *want)
{
	char *text = got != NULL
	                 ? json_dumps(got, JSON_COMPACT | JSON_PRESERVE_ORDER)
	                 : NULL;
	int bad = text == NULL || strcmp(text, want) != 0;

	if (bad)
		print_error("%s:\n got %s\nwant %s\n", label,
		            text ? text : "(NULL)", want);
	free(text);
	json_decref(got);
	return bad;
}

static void
test_suite(void **state)
{
	static const struct {
		const char *label;
		uint16_t id;
		const char *want;
	} cases[] = {
	    {"tls13", 0x1301,
	     "{\"name\":\"TLS_AES_128_GCM_SHA256\",\"hex\":\"0x1301\"}"},
	    {"ecdhe", 0xC02F,
	     "{\"name\":\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\",\"hex\":"
	     "\"0xC02F\"}"},
	    {"fallback scsv", 0x5600,
	     "{\"name\":\"TLS_FALLBACK_SCSV\",\"hex\":\"0x5600\"}"},
	    {"grease", 0x0A0A, "{\"name\":null,\"hex\":\"0x0A0A\"}"},
	    {"unknown", 0xCAFE, "{\"name\":null,\"hex\":\"0xCAFE\"}"},
	};
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++)
		failed += same_json(cases[i].label, tls_json_suite(cases[i].id),
		                    cases[i].want);
	assert_int_equal(failed, 0);
}

static void
test_names(void **state)
{
	static const struct {
		int alert;
		const char *want;
	} alerts[] = {
	    {0, "close_notify"},
	    {40, "handshake_failure"},
	    {70, "protocol_version"},
	    {86, "inappropriate_fallback"},
	    {112, "unrecognized_name"},
	    {3, NULL},
	    {255, NULL},
	};
	static const struct {
		uint16_t id;
		const char *want;
	} groups[] = {
	    {0x001D, "x25519"},    {0x0017, "secp256r1"},
	    {0x0018, "secp384r1"}, {0x0019, "secp521r1"},
	    {0x001E, "x448"},      {0x0100, "ffdhe2048"},
	    {0x0104, "ffdhe8192"}, {0x11EC, "X25519MLKEM768"},
	    {0x0000, NULL},        {0x0A0A, NULL},
	    {0x0105, NULL},
	};
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < NELEM(alerts); i++) {
		const char *got = tls_alert_name(alerts[i].alert);
		if ((got == NULL) != (alerts[i].want == NULL) ||
		    (got != NULL && strcmp(got, alerts[i].want) != 0)) {
			print_error("alert %d: got %s, want %s\n",
			            alerts[i].alert, got ? got : "NULL",
			            alerts[i].want ? alerts[i].want : "NULL");
			failed++;
		}
	}
	for (size_t i = 0; i < NELEM(groups); i++) {
		const char *got = tls_group_name(groups[i].id);
		if ((got == NULL) != (groups[i].want == NULL) ||
		    (got != NULL && strcmp(got, groups[i].want) != 0)) {
			print_error("group 0x%04X: got %s, want %s\n",
			            groups[i].id, got ? got : "NULL",
			            groups[i].want ? groups[i].want : "NULL");
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

static void
test_alert(void **state)
{
	int failed = 0;

	(void)state;
	failed += same_json("fatal sent", tls_json_alert(40, 2, true),
	                    "{\"description\":\"handshake_failure\","
	                    "\"level\":\"fatal\",\"sent\":true}");
	failed += same_json("warning received", tls_json_alert(0, 1, false),
	                    "{\"description\":\"close_notify\","
	                    "\"level\":\"warning\",\"sent\":false}");
	failed += same_json("unnamed", tls_json_alert(200, 2, false),
	                    "{\"description\":\"alert_200\","
	                    "\"level\":\"fatal\",\"sent\":false}");
	assert_int_equal(failed, 0);
}

static void
test_hello(void **state)
{
	struct tls_hello h;
	int failed = 0;

	(void)state;
	memset(&h, 0, sizeof(h));
	h.legacy_version = 0x0303;
	h.versions = TLSV_1_2 | TLSV_1_3;
	h.suites[h.nsuites++] = 0x1A1A; /* GREASE first, as browsers do */
	h.suites[h.nsuites++] = 0x1302;
	h.suites[h.nsuites++] = 0xC030;
	snprintf(h.sni, sizeof(h.sni), "mx.test");
	h.has_groups = true;
	h.groups[h.ngroups++] = 0x001D;
	h.groups[h.ngroups++] = 0x2A2A;
	failed += same_json(
	    "full", tls_json_hello(&h),
	    "{\"legacy_version\":\"0x0303\",\"versions\":[\"TLSv1.3\","
	    "\"TLSv1.2\"],\"suites\":[{\"name\":null,\"hex\":\"0x1A1A\"},"
	    "{\"name\":\"TLS_AES_256_GCM_SHA384\",\"hex\":\"0x1302\"},"
	    "{\"name\":\"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\",\"hex\":"
	    "\"0xC030\"}],\"sni\":\"mx.test\",\"groups\":[{\"name\":"
	    "\"x25519\",\"hex\":\"0x001D\"},{\"name\":null,\"hex\":"
	    "\"0x2A2A\"}]}");
	/* an old client: no SNI, no supported_groups, no suites at all */
	memset(&h, 0, sizeof(h));
	h.legacy_version = 0x0301;
	h.versions = TLSV_1_0;
	failed += same_json("bare", tls_json_hello(&h),
	                    "{\"legacy_version\":\"0x0301\",\"versions\":["
	                    "\"TLSv1\"],\"suites\":[],\"sni\":null}");
	assert_int_equal(failed, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_suite),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_alert),
	    cmocka_unit_test(test_hello),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
