/*
 * fuzz_ntlm.c - libFuzzer target for server/proto/ntlm.h: one input is a
 * decoded NTLM message as a client sends it after AUTH NTLM. Checks that
 * the type detection and the AUTHENTICATE user extraction stay inside the
 * message and write a NUL-terminated string of printable ASCII, for output
 * buffers of several sizes (the fuzzer picks one with the first byte).
 * Also runs the version parser over the bytes as a string, and builds a
 * CHALLENGE_MESSAGE with the bytes cut at '\n' as the four names (into
 * the same choice of buffer sizes): it must fit its buffer, and be a
 * CHALLENGE by ntlm_type_of.
 *
 * Does not: check the challenge's fields (tests/unit, the nmap test).
 */
#include "ntlm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* s: the input as a string, cut into names in place */
static void
challenge(char *s, size_t size, size_t outlen)
{
	static const unsigned char chal[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	static const struct ntlm_version ver = {6, 3, 9600};
	unsigned char out[1024];
	const char *name[4] = {"", "", "", ""};
	struct ntlm_names names;
	char *p = s;
	long n;

	for (int i = 0; i < 4 && p != NULL; i++) {
		name[i] = p;
		p = strchr(p, '\n');
		if (p != NULL)
			*p++ = '\0';
	}
	names.netbios_domain = name[0];
	names.netbios_computer = name[1];
	names.dns_domain = name[2];
	names.dns_computer = name[3];
	outlen = outlen == 300 ? sizeof(out) : outlen * 16;
	n = ntlm_challenge(&names, &ver, 0xa2898205u, chal,
	                   ntlm_filetime((int64_t)size * 1000003, (long)size),
	                   out, outlen);
	if (n > (long)outlen ||
	    (n >= 0 && ntlm_type_of(out, (size_t)n) != NTLM_CHALLENGE))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t outlens[] = {1, 2, 8, 64, 300};
	struct ntlm_version v;
	char user[300];
	size_t outlen;
	char *s;
	int type;

	if (size == 0)
		return 0;
	outlen = outlens[data[0] % 5];
	data++;
	size--;

	type = ntlm_type_of(data, size);
	if (type != -1 && (type < 0 || size < 12))
		abort();
	memset(user, 'Z', sizeof(user));
	ntlm_user(data, size, user, outlen);
	if (memchr(user, '\0', outlen) == NULL)
		abort();
	for (size_t i = 0; user[i] != '\0'; i++)
		if ((unsigned char)user[i] < 0x20 ||
		    (unsigned char)user[i] > 0x7e)
			abort();

	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	ntlm_parse_version(s, &v);
	challenge(s, size, outlen);
	free(s);
	return 0;
}
