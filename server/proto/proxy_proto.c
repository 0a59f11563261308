/*
 * proxy_proto.c - parse a PROXY protocol v1 or v2 header (see
 * proxy_proto.h and haproxy.org doc/proxy-protocol.txt, sections 2.1
 * and 2.2). Strict: v1 needs single spaces, addresses inet_pton takes,
 * ports 0-65535 without leading zeros; v2 needs version 2, command LOCAL
 * or PROXY, a TCP (or UNSPEC / UNIX, treated as "no address") family and
 * a length that holds the addresses and whole TLVs.
 *
 * Does not: read sockets, look into TLV values (SSL, ALPN, CRC32C).
 */
#include "proxy_proto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static const unsigned char v2_sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                         0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
static const char v1_sig[] = "PROXY ";

static enum proxy_proto_result
fail(const char **reason, const char *why)
{
	*reason = why;
	return PROXY_PROTO_ERROR;
}

/* set_in - an IPv4 address (network order bytes) and port into ss */
static void
set_in(struct sockaddr_storage *ss, const unsigned char *a,
       const unsigned char *p)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	memcpy(&sin->sin_addr, a, 4);
	memcpy(&sin->sin_port, p, 2);
}

static void
set_in6(struct sockaddr_storage *ss, const unsigned char *a,
        const unsigned char *p)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	sin6->sin6_family = AF_INET6;
	memcpy(&sin6->sin6_addr, a, 16);
	memcpy(&sin6->sin6_port, p, 2);
}

/* v2_tlvs - every TLV in t[0..n) fits: type, 16-bit length, value */
static bool
v2_tlvs(const unsigned char *t, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t l;

		if (n - i < 3)
			return false;
		l = ((size_t)t[i + 1] << 8) | t[i + 2];
		if (n - i - 3 < l)
			return false;
		i += 3 + l;
	}
	return true;
}

static enum proxy_proto_result
parse_v2(const unsigned char *b, size_t len, struct proxy_proto_header *h,
         const char **reason)
{
	size_t n, alen;
	unsigned cmd, fam;

	if (len < 16) {
		if (len > 12 && (b[12] & 0xf0) != 0x20)
			return fail(reason, "v2: version is not 2");
		if (len > 12 && (b[12] & 0x0f) > 1)
			return fail(reason,
			            "v2: command is not LOCAL or PROXY");
		return PROXY_PROTO_MORE;
	}
	if ((b[12] & 0xf0) != 0x20)
		return fail(reason, "v2: version is not 2");
	cmd = b[12] & 0x0f;
	if (cmd > 1)
		return fail(reason, "v2: command is not LOCAL or PROXY");
	fam = b[13];
	n = ((size_t)b[14] << 8) | b[15];
	if (cmd == 1) {
		switch (fam) {
		case 0x00: /* UNSPEC */
		case 0x31: /* UNIX stream: no IP to show */
			alen = fam == 0x31 ? 216 : 0;
			break;
		case 0x11:
			alen = 12;
			break; /* TCP over IPv4 */
		case 0x21:
			alen = 36;
			break; /* TCP over IPv6 */
		case 0x12:
		case 0x22:
		case 0x32:
			return fail(reason, "v2: not a stream (UDP/DGRAM)");
		default:
			return fail(reason, "v2: unknown address family");
		}
		if (n < alen)
			return fail(reason,
			            "v2: length too short for addresses");
	} else {
		alen = 0; /* LOCAL: addresses, if any, are ignored */
	}
	if (len < 16 + n)
		return PROXY_PROTO_MORE;
	/* LOCAL and UNSPEC carry no meaning in the bytes after the
	 * addresses (spec 2.2: "the receiver must ignore" them) */
	if (cmd == 1 && fam != 0x00 && !v2_tlvs(b + 16 + alen, n - alen))
		return fail(reason, "v2: TLV runs past the header");
	memset(h, 0, sizeof(*h));
	h->version = 2;
	h->consumed = 16 + n;
	if (cmd == 1 && fam == 0x11) {
		set_in(&h->src, b + 16, b + 24);
		set_in(&h->dst, b + 20, b + 26);
		h->addresses = true;
	} else if (cmd == 1 && fam == 0x21) {
		set_in6(&h->src, b + 16, b + 48);
		set_in6(&h->dst, b + 32, b + 50);
		h->addresses = true;
	}
	return PROXY_PROTO_DONE;
}

/* v1_port - decimal 0..65535, no sign, no leading zero; -1 if not */
static long
v1_port(const char *s, size_t n)
{
	long v = 0;

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= 65535 ? v : -1;
}

/* v1_addr - field [s, s+n) as an address of af, port into ss */
static bool
v1_addr(int af, const char *s, size_t n, struct sockaddr_storage *ss)
{
	char tmp[64];
	unsigned char a[16];

	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (inet_pton(af, tmp, a) != 1)
		return false;
	if (af == AF_INET)
		set_in(ss, a, (const unsigned char *)"\0\0");
	else
		set_in6(ss, a, (const unsigned char *)"\0\0");
	return true;
}

static void
set_port(struct sockaddr_storage *ss, long port)
{
	in_port_t p = htons((in_port_t)port);

	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = p;
	else
		((struct sockaddr_in6 *)ss)->sin6_port = p;
}

static enum proxy_proto_result
parse_v1(const unsigned char *b, size_t len, struct proxy_proto_header *h,
         const char **reason)
{
	const char *s = (const char *)b, *f[5];
	size_t end, fl[5], nf = 0, i;
	long sport, dport;
	int af;

	for (end = 0; end + 1 < len && end + 2 <= PROXY_PROTO_V1_MAX; end++) {
		if (b[end] == '\r' && b[end + 1] == '\n')
			break;
		if (b[end] == '\n' || b[end] == '\0' || b[end] == '\r')
			return fail(reason, "v1: bad line end");
	}
	if (end + 1 >= len || end + 2 > PROXY_PROTO_V1_MAX) {
		if (len >= PROXY_PROTO_V1_MAX)
			return fail(reason, "v1: no CRLF within 107 bytes");
		if (b[len - 1] == '\n' || b[len - 1] == '\0')
			return fail(reason, "v1: bad line end");
		return PROXY_PROTO_MORE;
	}
	memset(h, 0, sizeof(*h));
	h->version = 1;
	h->consumed = end + 2;
	i = 6; /* after "PROXY " */
	if (end - i >= 7 && memcmp(s + i, "UNKNOWN", 7) == 0 &&
	    (end - i == 7 || s[i + 7] == ' '))
		return PROXY_PROTO_DONE; /* the rest is ignored (2.1) */
	if (end - i >= 5 && memcmp(s + i, "TCP4 ", 5) == 0)
		af = AF_INET;
	else if (end - i >= 5 && memcmp(s + i, "TCP6 ", 5) == 0)
		af = AF_INET6;
	else
		return fail(reason,
		            "v1: protocol is not TCP4, TCP6 or UNKNOWN");
	i += 5;
	while (nf < 5) {
		size_t j = i;

		while (j < end && s[j] != ' ')
			j++;
		f[nf] = s + i;
		fl[nf++] = j - i;
		if (j == end)
			break;
		i = j + 1;
	}
	if (nf != 4 || f[3] + fl[3] != s + end)
		return fail(reason, "v1: not 4 fields after the protocol");
	if (!v1_addr(af, f[0], fl[0], &h->src) ||
	    !v1_addr(af, f[1], fl[1], &h->dst))
		return fail(reason, "v1: bad address");
	if ((sport = v1_port(f[2], fl[2])) < 0 ||
	    (dport = v1_port(f[3], fl[3])) < 0)
		return fail(reason, "v1: bad port");
	set_port(&h->src, sport);
	set_port(&h->dst, dport);
	h->addresses = true;
	return PROXY_PROTO_DONE;
}

/* proxy_proto_parse - v1 or v2 header at buf; see proxy_proto.h */
enum proxy_proto_result
proxy_proto_parse(const unsigned char *buf, size_t len, unsigned mask,
                  struct proxy_proto_header *h, const char **reason)
{
	size_t k;

	*reason = NULL;
	if (len == 0)
		return PROXY_PROTO_MORE;
	if ((mask & PROXY_PROTO_V2) && buf[0] == v2_sig[0]) {
		k = len < sizeof(v2_sig) ? len : sizeof(v2_sig);
		if (memcmp(buf, v2_sig, k) != 0)
			return fail(reason, "v2: bad signature");
		if (len < sizeof(v2_sig))
			return PROXY_PROTO_MORE;
		return parse_v2(buf, len, h, reason);
	}
	if ((mask & PROXY_PROTO_V1) && buf[0] == (unsigned char)v1_sig[0]) {
		k = len < 6 ? len : 6;
		if (memcmp(buf, v1_sig, k) != 0)
			return fail(reason, "v1: bad signature");
		if (len < 6)
			return PROXY_PROTO_MORE;
		return parse_v1(buf, len, h, reason);
	}
	return fail(reason, "no PROXY protocol header");
}

/* proxy_proto_result_str - the enum's name for logs */
const char *
proxy_proto_result_str(enum proxy_proto_result r)
{
	switch (r) {
	case PROXY_PROTO_MORE:
		return "more";
	case PROXY_PROTO_DONE:
		return "done";
	case PROXY_PROTO_ERROR:
		return "error";
	}
	return "?";
}
