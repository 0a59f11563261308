/*
 * grey_key.c - key parts for the policy state, postgrey's way
 * (do_client_substitutions, do_sender_substitutions, lc "$net/$s/$r").
 *
 * Does not: keep or decide anything.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "grey_key.h"

/* Clear all but the first bits of n bytes. */
static void
mask_bits(unsigned char *a, size_t n, int bits)
{
	for (size_t i = 0; i < n; i++) {
		int keep = bits - (int)(i * 8);

		if (keep >= 8)
			continue;
		a[i] &= keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
	}
}

/* grey_key_net - the client's network */
int
grey_key_net(const char *ip, int v4_bits, int v6_bits, char *out, size_t len)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0,    0,
	                                         0, 0, 0, 0, 0xff, 0xff};
	unsigned char a[16];

	if (inet_pton(AF_INET6, ip, a) == 1) {
		if (memcmp(a, mapped, sizeof(mapped)) == 0) {
			mask_bits(a + 12, 4, v4_bits);
			return inet_ntop(AF_INET, a + 12, out, (socklen_t)len)
			           ? 0
			           : -1;
		}
		mask_bits(a, 16, v6_bits);
		return inet_ntop(AF_INET6, a, out, (socklen_t)len) ? 0 : -1;
	}
	if (inet_pton(AF_INET, ip, a) == 1) {
		mask_bits(a, 4, v4_bits);
		return inet_ntop(AF_INET, a, out, (socklen_t)len) ? 0 : -1;
	}
	snprintf(out, len, "%s", ip);
	return -1;
}

static int
word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* grey_key_sender - strip +extension, numbers standing alone -> # */
void
grey_key_sender(const char *addr, char *out, size_t len)
{
	const char *at = strrchr(addr, '@');
	size_t o = 0, user_len;

	if (len == 0)
		return;
	if (at == NULL) {
		snprintf(out, len, "%s", addr);
		return;
	}
	user_len = (size_t)(at - addr);
	for (size_t i = 0; i < user_len; i++)
		if (addr[i] == '+') {
			user_len = i;
			break;
		}
	for (size_t i = 0; i < user_len && o + 1 < len;) {
		size_t j = i;

		while (j < user_len && addr[j] >= '0' && addr[j] <= '9')
			j++;
		/* a run of digits with no word character on either side */
		if (j > i && (i == 0 || !word_char(addr[i - 1])) &&
		    (j == user_len || !word_char(addr[j]))) {
			out[o++] = '#';
			i = j;
		} else if (j > i) {
			for (; i < j && o + 1 < len; i++)
				out[o++] = addr[i];
		} else
			out[o++] = addr[i++];
	}
	out[o] = '\0';
	snprintf(out + o, len - o, "%s", at);
}

/* grey_key_join - "a/b/c", lower-cased */
size_t
grey_key_join(const char *const *parts, size_t n, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		const char *p = parts[i] != NULL ? parts[i] : "";
		size_t pl = strlen(p);

		if (o + pl + (i ? 1 : 0) + 1 > len)
			return 0;
		if (i)
			out[o++] = '/';
		for (size_t k = 0; k < pl; k++)
			out[o++] = (p[k] >= 'A' && p[k] <= 'Z')
			               ? (char)(p[k] - 'A' + 'a')
			               : p[k];
	}
	if (len == 0)
		return 0;
	out[o] = '\0';
	return o;
}
