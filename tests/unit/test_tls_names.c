/*
 * test_tls_names.c - tls_names.c: the version table (every row found by
 * its bit, its wire number, its OpenSSL name and its schema name), and the
 * written forms of a suite (the strict "0xHHHH" form a profile uses, the
 * IANA name form), against the linked OpenSSL. Table-driven; no sockets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tls_names.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
test_version_table(void **state)
{
	static const struct {
		unsigned bit;
		int protocol;
		const char *name, *schema;
	} want[] = {
	    {TLSV_SSL3, 0x0300, "SSLv3", "ssl3"},
	    {TLSV_1_0, 0x0301, "TLSv1", "tls1.0"},
	    {TLSV_1_1, 0x0302, "TLSv1.1", "tls1.1"},
	    {TLSV_1_2, 0x0303, "TLSv1.2", "tls1.2"},
	    {TLSV_1_3, 0x0304, "TLSv1.3", "tls1.3"},
	};
	int bad = 0;

	(void)state;
	assert_int_equal(tls_nversion_names, NELEM(want));
	for (size_t i = 0; i < NELEM(want); i++) {
		const struct tls_version_name *v = &tls_version_names[i];
		if (v->bit != want[i].bit || v->protocol != want[i].protocol ||
		    strcmp(v->name, want[i].name) != 0 ||
		    strcmp(v->schema, want[i].schema) != 0) {
			print_error("row %zu: got 0x%x 0x%04x %s %s want 0x%x "
			            "0x%04x %s %s\n",
			            i, v->bit, v->protocol, v->name, v->schema,
			            want[i].bit, want[i].protocol, want[i].name,
			            want[i].schema);
			bad++;
		}
		if (tls_version_from_protocol(want[i].protocol) !=
		        want[i].bit ||
		    strcmp(tls_version_schema_str(want[i].bit),
		           want[i].schema) != 0 ||
		    tls_version_from_str(want[i].schema) != want[i].bit ||
		    tls_version_from_str(want[i].name) != want[i].bit) {
			print_error("%s: lookups disagree with the table\n",
			            want[i].schema);
			bad++;
		}
	}
	assert_int_equal(tls_version_from_protocol(0x0305), 0);
	assert_int_equal(tls_version_from_protocol(0), 0);
	assert_string_equal(tls_version_schema_str(TLSV_1_0 | TLSV_1_1), "?");
	assert_string_equal(tls_version_schema_str(0), "?");
	assert_int_equal(bad, 0);
}

static void
test_suite_forms(void **state)
{
	static const struct {
		const char *label, *s;
		bool hex;
		uint16_t id;
		bool iana;
	} cases[] = {
	    {"hex upper", "0xC02F", true, 0xC02F, false},
	    {"hex lower", "0xc02f", true, 0xC02F, false},
	    {"hex GREASE", "0x0a0a", true, 0x0A0A, false},
	    {"hex zero", "0x0000", true, 0x0000, false},
	    {"hex short", "0x5", false, 0, false},
	    {"hex long", "0x12345", false, 0, false},
	    {"hex capital X", "0XC02F", false, 0, false},
	    {"hex no prefix", "C02F", false, 0, false},
	    {"hex junk", "0xC0ZZ", false, 0, false},
	    {"hex sign", "0x-001", false, 0, false},
	    {"empty", "", false, 0, false},
	    {"0x only", "0x", false, 0, false},
	    {"IANA", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", false, 0, true},
	    {"IANA 1.3", "TLS_AES_128_GCM_SHA256", false, 0, true},
	    {"IANA unknown but well formed", "TLS_RSA_WITH_FOO_BAR", false, 0,
	     true},
	    {"TLS_ only", "TLS_", false, 0, false},
	    {"lower case", "tls_aes_128_gcm_sha256", false, 0, false},
	    {"OpenSSL name", "ECDHE-RSA-AES128-GCM-SHA256", false, 0, false},
	    {"space", "TLS_AES 128", false, 0, false},
	};
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		uint16_t id = 0xFFFF;
		bool hex = tls_suite_is_hex(cases[i].s, &id);
		bool iana = tls_suite_is_iana(cases[i].s);
		if (hex != cases[i].hex || (hex && id != cases[i].id) ||
		    iana != cases[i].iana) {
			print_error("%s: \"%s\" got hex %d 0x%04X iana %d, "
			            "want hex %d 0x%04X iana %d\n",
			            cases[i].label, cases[i].s, hex, id, iana,
			            cases[i].hex, cases[i].id, cases[i].iana);
			bad++;
		}
	}
	assert_false(tls_suite_is_hex(NULL, NULL));
	assert_false(tls_suite_is_iana(NULL));
	assert_int_equal(bad, 0);
}

/* The linked OpenSSL's entries agree with the name <-> id functions. */
static void
test_suite_lookup(void **state)
{
	const SSL_CIPHER *c;
	uint16_t id;
	char buf[128];

	(void)state;
	assert_true(tls_suites_ready());
	c = tls_suite_by_name("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
	assert_non_null(c);
	assert_ptr_equal(tls_suite_by_id(0xC02F), c);
	assert_true(tls_suite_available(c));
	assert_false(tls_suite_is_tls13(c));
	assert_string_equal(tls_suite_iana(c),
	                    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
	c = tls_suite_by_id(0x1301);
	assert_non_null(c);
	assert_true(tls_suite_is_tls13(c));
	assert_string_equal(tls_suite_name(0x1301, buf, sizeof(buf)),
	                    "TLS_AES_128_GCM_SHA256");
	assert_null(tls_suite_by_id(0x0A0A));
	assert_null(tls_suite_by_name("TLS_RSA_WITH_FOO_BAR"));
	assert_int_equal(tls_suite_id("TLS_RSA_WITH_FOO_BAR", &id), -1);
	/* what a profile's hex form gives, tls_suite_id gives too */
	assert_true(tls_suite_is_hex("0xc02f", &id));
	assert_int_equal(id, 0xC02F);
	assert_int_equal(tls_suite_id("0xc02f", &id), 0);
	assert_int_equal(id, 0xC02F);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_version_table),
	    cmocka_unit_test(test_suite_forms),
	    cmocka_unit_test(test_suite_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
