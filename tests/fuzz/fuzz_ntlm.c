/*
 * fuzz_ntlm.c - libFuzzer target for server/proto/ntlm.h: one input is a
 * decoded NTLM message as a client sends it after AUTH NTLM. Checks that
 * the type detection and the AUTHENTICATE user extraction stay inside the
 * message and write a NUL-terminated string of printable ASCII, for output
 * buffers of several sizes (the fuzzer picks one with the first byte).
 * Also runs the version parser over the bytes as a string.
 *
 * Does not: build challenges from fuzzed names (the names come from a
 * profile the loader has checked).
 */
#include "ntlm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	free(s);
	return 0;
}
