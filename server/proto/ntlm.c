/*
 * ntlm.c - NTLM message type and the CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2),
 * as pure functions over byte buffers (see ntlm.h).
 *
 * Every multi-byte field is little-endian (MS-NLMP 2.2). Strings in the
 * payload are UTF-16LE, as NTLMSSP_NEGOTIATE_UNICODE asks; the names are
 * taken as UTF-8 and each code point up to U+FFFF becomes one 16-bit
 * unit (a profile's names are ASCII; anything else is cut at the first
 * byte that is not valid UTF-8 of that range).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ntlm.h"

static const unsigned char signature[8] = {'N', 'T', 'L', 'M',
                                           'S', 'S', 'P', '\0'};

/* MS-NLMP 2.2.2.10: NTLMSSP_REVISION_W2K3, what Windows sends */
#define NTLM_REVISION_W2K3 0x0f

/* FILETIME of 1970-01-01 (MS-DTYP 2.3.3): 100 ns units since 1601. */
#define FILETIME_UNIX_EPOCH 116444736000000000ull

static void
put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v & 0xff);
	p[1] = (unsigned char)((v >> 8) & 0xff);
}

static void
put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)((v >> (8 * i)) & 0xff);
}

static void
put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)((v >> (8 * i)) & 0xff);
}

/*
 * UTF-8 s as UTF-16LE into out (room for cap bytes); the number of bytes
 * written, or -1 when it does not fit. Stops at an invalid sequence.
 */
static long
utf16le(const char *s, unsigned char *out, size_t cap)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = 0;

	while (*u != '\0') {
		unsigned cp;
		int more;

		if (u[0] < 0x80) {
			cp = u[0];
			more = 0;
		} else if ((u[0] & 0xe0) == 0xc0) {
			cp = u[0] & 0x1f;
			more = 1;
		} else if ((u[0] & 0xf0) == 0xe0) {
			cp = u[0] & 0x0f;
			more = 2;
		} else {
			break;
		}
		for (int i = 1; i <= more; i++) {
			if ((u[i] & 0xc0) != 0x80)
				return (long)n;
			cp = (cp << 6) | (u[i] & 0x3f);
		}
		if (n + 2 > cap)
			return -1;
		put16(out + n, cp);
		n += 2;
		u += 1 + more;
	}
	return (long)n;
}

/* ntlm_type_of - the MessageType of a decoded NTLM message, or -1 */
int
ntlm_type_of(const unsigned char *msg, size_t len)
{
	uint32_t t;

	if (len < 12 || memcmp(msg, signature, sizeof(signature)) != 0)
		return -1;
	t = (uint32_t)msg[8] | (uint32_t)msg[9] << 8 | (uint32_t)msg[10] << 16 |
	    (uint32_t)msg[11] << 24;
	if (t < NTLM_NEGOTIATE || t > NTLM_AUTHENTICATE)
		return -1;
	return (int)t;
}

/* One AV_PAIR holding a name: AvId, AvLen, the UTF-16LE value. */
static long
av_name(unsigned char *p, size_t cap, enum ntlm_av_id id, const char *name)
{
	long n;

	if (cap < 4 || (n = utf16le(name, p + 4, cap - 4)) < 0 || n > 0xffff)
		return -1;
	put16(p, id);
	put16(p + 2, (unsigned)n);
	return 4 + n;
}

/* ntlm_challenge - write a CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2) to out */
long
ntlm_challenge(const struct ntlm_names *names,
               const struct ntlm_version *version, uint32_t flags,
               const unsigned char challenge[8], uint64_t filetime,
               unsigned char *out, size_t outlen)
{
	const struct {
		enum ntlm_av_id id;
		const char *name;
	} avs[] = {
	    {NTLM_AV_NB_DOMAIN_NAME, names->netbios_domain},
	    {NTLM_AV_NB_COMPUTER_NAME, names->netbios_computer},
	    {NTLM_AV_DNS_DOMAIN_NAME, names->dns_domain},
	    {NTLM_AV_DNS_COMPUTER_NAME, names->dns_computer},
	};
	size_t at = NTLM_CHALLENGE_HEADER, target_at, info_at;
	long n;

	if (outlen < NTLM_CHALLENGE_HEADER)
		return -1;
	memset(out, 0, NTLM_CHALLENGE_HEADER);
	memcpy(out, signature, sizeof(signature));
	put32(out + 8, NTLM_CHALLENGE);

	/* Payload 1: TargetName, the NetBIOS domain (TARGET_TYPE_DOMAIN). */
	target_at = at;
	if ((n = utf16le(names->netbios_domain, out + at, outlen - at)) < 0 ||
	    n > 0xffff)
		return -1;
	at += (size_t)n;
	put16(out + 12, (unsigned)n); /* TargetNameLen */
	put16(out + 14, (unsigned)n); /* TargetNameMaxLen */
	put32(out + 16, (uint32_t)target_at);

	put32(out + 20, flags);
	memcpy(out + 24, challenge, 8); /* ServerChallenge */
	/* out + 32: Reserved, 8 zero bytes */

	/* Payload 2: TargetInfo, the AV pairs (MS-NLMP 2.2.2.1). */
	info_at = at;
	for (size_t i = 0; i < sizeof(avs) / sizeof(avs[0]); i++) {
		if ((n = av_name(out + at, outlen - at, avs[i].id,
		                 avs[i].name)) < 0)
			return -1;
		at += (size_t)n;
	}
	if (outlen - at < 12 + 4)
		return -1;
	put16(out + at, NTLM_AV_TIMESTAMP);
	put16(out + at + 2, 8);
	put64(out + at + 4, filetime);
	at += 12;
	put16(out + at, NTLM_AV_EOL); /* MsvAvEOL, AvLen 0 */
	put16(out + at + 2, 0);
	at += 4;
	if (at - info_at > 0xffff)
		return -1;
	put16(out + 40, (unsigned)(at - info_at)); /* TargetInfoLen */
	put16(out + 42, (unsigned)(at - info_at)); /* TargetInfoMaxLen */
	put32(out + 44, (uint32_t)info_at);

	/* VERSION (MS-NLMP 2.2.2.10): major, minor, build, 3 reserved
	 * bytes, NTLMRevisionCurrent. */
	out[48] = version->major;
	out[49] = version->minor;
	put16(out + 50, version->build);
	out[55] = NTLM_REVISION_W2K3;
	return (long)at;
}

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

/* Append the string of the fields at msg + at to out (used bytes *o). */
static void
append_field(const unsigned char *msg, size_t len, size_t at, bool unicode,
             char *out, size_t outlen, size_t *o)
{
	size_t flen = get16(msg + at), off = get32(msg + at + 4);
	size_t step = unicode ? 2 : 1;

	if (off > len || flen > len - off)
		return;
	for (size_t i = 0; i + step <= flen && *o + 1 < outlen; i += step) {
		unsigned c = unicode ? get16(msg + off + i) : msg[off + i];

		out[(*o)++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
}

/* ntlm_user - "DOMAIN\\user" of an AUTHENTICATE_MESSAGE */
void
ntlm_user(const unsigned char *msg, size_t len, char *out, size_t outlen)
{
	size_t o = 0;
	bool unicode;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (len < 64 || ntlm_type_of(msg, len) != NTLM_AUTHENTICATE)
		return;
	unicode = (get32(msg + 60) & NTLM_NEGOTIATE_UNICODE) != 0;
	append_field(msg, len, 28, unicode, out, outlen, &o); /* domain */
	if (o != 0 && o + 1 < outlen)
		out[o++] = '\\';
	append_field(msg, len, 36, unicode, out, outlen, &o); /* user */
	out[o] = '\0';
}

/* ntlm_filetime - Unix time as a FILETIME (MS-DTYP 2.3.3) */
uint64_t
ntlm_filetime(int64_t unix_sec, long nsec)
{
	return FILETIME_UNIX_EPOCH + (uint64_t)unix_sec * 10000000ull +
	       (uint64_t)(nsec / 100);
}

/* ntlm_parse_version - "major.minor.build" into v */
int
ntlm_parse_version(const char *s, struct ntlm_version *v)
{
	unsigned long part[3];
	char *end;

	for (int i = 0; i < 3; i++) {
		if (*s < '0' || *s > '9')
			return -1;
		part[i] = strtoul(s, &end, 10);
		if (*end != (i < 2 ? '.' : '\0'))
			return -1;
		s = end + (i < 2);
	}
	if (part[0] > 255 || part[1] > 255 || part[2] > 65535)
		return -1;
	v->major = (uint8_t)part[0];
	v->minor = (uint8_t)part[1];
	v->build = (uint16_t)part[2];
	return 0;
}
