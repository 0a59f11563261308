/*
 * test_ntlm.c - unit tests for ntlm.c: the CHALLENGE_MESSAGE decoded
 * field by field as MS-NLMP 2.2.1.2 lays it out (signature, type,
 * TargetName, flags, challenge, reserved, TargetInfo and each AV pair,
 * VERSION), the sizes that do not fit, the message type of client
 * messages, the user of an AUTHENTICATE_MESSAGE, FILETIME and the version
 * parser. Does not test the SMTP exchange (tests/blackbox).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ntlm.h"

#define NROWS(t) (sizeof(t) / sizeof((t)[0]))

static unsigned
get16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t
get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* The UTF-16LE of an ASCII string, as a fresh buffer of 2 * strlen. */
static unsigned char *
utf16(const char *s)
{
	size_t n = strlen(s);
	unsigned char *out = calloc(n ? 2 * n : 1, 1);

	assert_non_null(out);
	for (size_t i = 0; i < n; i++)
		out[2 * i] = (unsigned char)s[i];
	return out;
}

/* The field at msg + at ({len, maxlen, offset}) holds want (ASCII). */
static void
want_field(const unsigned char *msg, size_t len, size_t at, const char *want,
           const char *label)
{
	size_t flen = get16(msg + at), off = get32(msg + at + 4);
	unsigned char *w = utf16(want);

	if (flen != 2 * strlen(want) || get16(msg + at + 2) != flen ||
	    off + flen > len || memcmp(msg + off, w, flen) != 0) {
		print_error("%s: got len %zu max %u off %zu, want \"%s\"\n",
		            label, flen, get16(msg + at + 2), off, want);
		free(w);
		fail();
	}
	free(w);
}

static const struct ntlm_names lab = {
    .netbios_domain = "LAB",
    .netbios_computer = "EX2013",
    .dns_domain = "lab.test",
    .dns_computer = "ex2013.lab.test",
};
static const struct ntlm_version v2012r2 = {6, 3, 9600};
static const unsigned char chal[8] = {0x01, 0x23, 0x45, 0x67,
                                      0x89, 0xab, 0xcd, 0xef};
#define FLAGS 0xe2898235u
#define WHEN  0x01d0a1b2c3d4e5f6ull

static void
test_challenge_fields(void **state)
{
	unsigned char msg[1024];
	long n =
	    ntlm_challenge(&lab, &v2012r2, FLAGS, chal, WHEN, msg, sizeof(msg));
	size_t info, ilen, at;
	/* MS-NLMP 2.2.2.1, in the order the message carries them */
	static const struct {
		unsigned id;
		const char *value; /* NULL: not a name */
	} avs[] = {
	    {NTLM_AV_NB_DOMAIN_NAME, "LAB"},
	    {NTLM_AV_NB_COMPUTER_NAME, "EX2013"},
	    {NTLM_AV_DNS_DOMAIN_NAME, "lab.test"},
	    {NTLM_AV_DNS_COMPUTER_NAME, "ex2013.lab.test"},
	    {NTLM_AV_TIMESTAMP, NULL},
	    {NTLM_AV_EOL, NULL},
	};

	(void)state;
	assert_true(n > NTLM_CHALLENGE_HEADER);
	/* Signature, MessageType */
	assert_memory_equal(msg, "NTLMSSP\0", 8);
	assert_int_equal(get32(msg + 8), NTLM_CHALLENGE);
	assert_int_equal(ntlm_type_of(msg, (size_t)n), NTLM_CHALLENGE);
	/* TargetNameFields: the NetBIOS domain, first in the payload */
	want_field(msg, (size_t)n, 12, "LAB", "TargetName");
	assert_int_equal(get32(msg + 16), NTLM_CHALLENGE_HEADER);
	/* NegotiateFlags, ServerChallenge, Reserved */
	assert_int_equal(get32(msg + 20), FLAGS);
	assert_true(get32(msg + 20) & NTLM_NEGOTIATE_UNICODE);
	assert_true(get32(msg + 20) & NTLM_NEGOTIATE_NTLM);
	assert_true(get32(msg + 20) & NTLM_NEGOTIATE_TARGET_INFO);
	assert_true(get32(msg + 20) & NTLM_TARGET_TYPE_DOMAIN);
	assert_true(get32(msg + 20) & NTLM_NEGOTIATE_VERSION);
	assert_memory_equal(msg + 24, chal, 8);
	assert_int_equal(get64(msg + 32), 0);
	/* TargetInfoFields: right after TargetName, up to the end */
	ilen = get16(msg + 40);
	info = get32(msg + 44);
	assert_int_equal(get16(msg + 42), ilen);
	assert_int_equal(info, NTLM_CHALLENGE_HEADER + 6);
	assert_int_equal(info + ilen, (size_t)n);
	/* VERSION: 6.3 build 9600, reserved zero, NTLMSSP_REVISION_W2K3 */
	assert_int_equal(msg[48], 6);
	assert_int_equal(msg[49], 3);
	assert_int_equal(get16(msg + 50), 9600);
	assert_int_equal(msg[52] | msg[53] | msg[54], 0);
	assert_int_equal(msg[55], 0x0f);
	/* Each AV pair */
	at = info;
	for (size_t i = 0; i < NROWS(avs); i++) {
		unsigned id = get16(msg + at), alen = get16(msg + at + 2);

		if (id != avs[i].id) {
			print_error("AV pair %zu: got id %u want %u\n", i, id,
			            avs[i].id);
			fail();
		}
		if (avs[i].value != NULL) {
			unsigned char *w = utf16(avs[i].value);

			assert_int_equal(alen, 2 * strlen(avs[i].value));
			assert_memory_equal(msg + at + 4, w, alen);
			free(w);
		} else if (id == NTLM_AV_TIMESTAMP) {
			assert_int_equal(alen, 8);
			assert_true(get64(msg + at + 4) == WHEN);
		} else {
			assert_int_equal(alen, 0); /* MsvAvEOL */
		}
		at += 4 + alen;
	}
	assert_int_equal(at, (size_t)n);
}

/* Every buffer shorter than the message is refused, never overrun. */
static void
test_challenge_too_small(void **state)
{
	unsigned char full[1024], *small;
	long n = ntlm_challenge(&lab, &v2012r2, FLAGS, chal, WHEN, full,
	                        sizeof(full));

	(void)state;
	assert_true(n > 0);
	for (long cap = 0; cap < n; cap++) {
		small = malloc(cap ? (size_t)cap : 1);
		assert_non_null(small);
		if (ntlm_challenge(&lab, &v2012r2, FLAGS, chal, WHEN, small,
		                   (size_t)cap) != -1) {
			print_error("cap %ld: accepted, needs %ld\n", cap, n);
			free(small);
			fail();
		}
		free(small);
	}
	small = malloc((size_t)n);
	assert_non_null(small);
	assert_int_equal(
	    ntlm_challenge(&lab, &v2012r2, FLAGS, chal, WHEN, small, (size_t)n),
	    n);
	assert_memory_equal(small, full, (size_t)n);
	free(small);
}

/* A two-byte UTF-8 character is one UTF-16 unit. */
static void
test_challenge_utf8(void **state)
{
	const struct ntlm_names n = {"D\xc3\xa9", "C", "d.test", "c.d.test"};
	unsigned char msg[512];
	long len =
	    ntlm_challenge(&n, &v2012r2, FLAGS, chal, 0, msg, sizeof(msg));

	(void)state;
	assert_true(len > 0);
	assert_int_equal(get16(msg + 12), 4);
	assert_int_equal(get16(msg + 56), 'D');
	assert_int_equal(get16(msg + 58), 0xe9);
}

static void
test_type_of(void **state)
{
	static const struct {
		const char *label;
		const char *bytes;
		size_t len;
		int want;
	} cases[] = {
	    {"negotiate", "NTLMSSP\0\1\0\0\0", 12, NTLM_NEGOTIATE},
	    {"challenge", "NTLMSSP\0\2\0\0\0", 12, NTLM_CHALLENGE},
	    {"authenticate", "NTLMSSP\0\3\0\0\0", 12, NTLM_AUTHENTICATE},
	    {"type 4", "NTLMSSP\0\4\0\0\0", 12, -1},
	    {"type 0", "NTLMSSP\0\0\0\0\0", 12, -1},
	    {"high bytes", "NTLMSSP\0\1\0\0\1", 12, -1},
	    {"short", "NTLMSSP\0\1\0\0", 11, -1},
	    {"signature", "NTLMSSPX\1\0\0\0", 12, -1},
	    {"empty", "", 0, -1},
	};

	(void)state;
	for (size_t i = 0; i < NROWS(cases); i++) {
		int got = ntlm_type_of((const unsigned char *)cases[i].bytes,
		                       cases[i].len);
		if (got != cases[i].want) {
			print_error("%s: got %d want %d\n", cases[i].label, got,
			            cases[i].want);
			fail();
		}
	}
}

/* An AUTHENTICATE_MESSAGE with domain and user at given places. */
static size_t
make_authenticate(unsigned char *m, uint32_t flags, const char *dom,
                  const char *user)
{
	size_t at = 64;
	bool uni = flags & NTLM_NEGOTIATE_UNICODE;
	const char *v[2] = {dom, user};
	size_t fields[2] = {28, 36};

	memset(m, 0, 64);
	memcpy(m, "NTLMSSP\0\3\0\0\0", 12);
	m[60] = (unsigned char)(flags & 0xff);
	for (int i = 0; i < 2; i++) {
		size_t n = strlen(v[i]) * (uni ? 2 : 1);

		m[fields[i]] = (unsigned char)n;
		m[fields[i] + 2] = (unsigned char)n;
		m[fields[i] + 4] = (unsigned char)at;
		for (size_t k = 0; k < strlen(v[i]); k++) {
			m[at++] = (unsigned char)v[i][k];
			if (uni)
				m[at++] = 0;
		}
	}
	return at;
}

static void
test_user(void **state)
{
	unsigned char m[256];
	char out[64];
	size_t n;

	(void)state;
	n = make_authenticate(m, NTLM_NEGOTIATE_UNICODE, "LAB", "tester");
	ntlm_user(m, n, out, sizeof(out));
	assert_string_equal(out, "LAB\\tester");
	n = make_authenticate(m, NTLM_NEGOTIATE_OEM, "", "oem");
	ntlm_user(m, n, out, sizeof(out));
	assert_string_equal(out, "oem");
	/* cut to the buffer */
	n = make_authenticate(m, NTLM_NEGOTIATE_UNICODE, "LAB", "tester");
	ntlm_user(m, n, out, 6);
	assert_string_equal(out, "LAB\\t");
	/* fields pointing past the end: nothing */
	ntlm_user(m, 70, out, sizeof(out));
	assert_string_equal(out, "LAB\\");
	ntlm_user(m, 40, out, sizeof(out));
	assert_string_equal(out, "");
	/* not an AUTHENTICATE */
	m[8] = 1;
	ntlm_user(m, n, out, sizeof(out));
	assert_string_equal(out, "");
}

static void
test_filetime(void **state)
{
	(void)state;
	/* MS-DTYP 2.3.3: 1970-01-01 is 116444736000000000 */
	assert_true(ntlm_filetime(0, 0) == 116444736000000000ull);
	assert_true(ntlm_filetime(1, 500) == 116444736010000005ull);
}

static void
test_parse_version(void **state)
{
	static const struct {
		const char *in;
		int rc;
		unsigned major, minor, build;
	} cases[] = {
	    {"6.3.9600", 0, 6, 3, 9600},
	    {"10.0.17763", 0, 10, 0, 17763},
	    {"255.255.65535", 0, 255, 255, 65535},
	    {"256.0.1", -1, 0, 0, 0},
	    {"6.3.65536", -1, 0, 0, 0},
	    {"6.3", -1, 0, 0, 0},
	    {"6.3.9600.1", -1, 0, 0, 0},
	    {"6.x.9600", -1, 0, 0, 0},
	    {"", -1, 0, 0, 0},
	    {" 6.3.9600", -1, 0, 0, 0},
	    {"6.3.-1", -1, 0, 0, 0},
	};

	(void)state;
	for (size_t i = 0; i < NROWS(cases); i++) {
		struct ntlm_version v = {0};
		int rc = ntlm_parse_version(cases[i].in, &v);

		if (rc != cases[i].rc ||
		    (rc == 0 &&
		     (v.major != cases[i].major || v.minor != cases[i].minor ||
		      v.build != cases[i].build))) {
			print_error("\"%s\": got %d %u.%u.%u want %d\n",
			            cases[i].in, rc, v.major, v.minor, v.build,
			            cases[i].rc);
			fail();
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_challenge_fields),
	    cmocka_unit_test(test_challenge_too_small),
	    cmocka_unit_test(test_challenge_utf8),
	    cmocka_unit_test(test_type_of),
	    cmocka_unit_test(test_user),
	    cmocka_unit_test(test_filetime),
	    cmocka_unit_test(test_parse_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
