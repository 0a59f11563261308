/*
 * proxy_proto.h - the PROXY protocol header a TCP load balancer (HAProxy
 * "send-proxy" / "send-proxy-v2") puts before the client's first byte:
 * version 1 (text, "PROXY TCP4 ...\r\n", at most 107 bytes) and version 2
 * (binary, 12-byte signature), per haproxy.org doc/proxy-protocol.txt.
 *
 * A pure function over the bytes read so far: it says "need more", "done"
 * (how many bytes the header took, the addresses it carries) or "error"
 * (a reason for the log and the transcript). v2 TLVs are checked to stay
 * inside the header and skipped.
 *
 * Not here: reading from the socket, the timeout, what the session does
 * with the addresses (daemon/proxy_accept.c).
 */
#ifndef PROXY_PROTO_H
#define PROXY_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* which versions a listener accepts (--proxy-protocol=v1|v2|any) */
#define PROXY_PROTO_V1  1u
#define PROXY_PROTO_V2  2u
#define PROXY_PROTO_ANY (PROXY_PROTO_V1 | PROXY_PROTO_V2)

/* the longest header: v2's 16 bytes plus a 16-bit length */
#define PROXY_PROTO_MAX    (16 + 65535)
#define PROXY_PROTO_V1_MAX 107

enum proxy_proto_result {
	PROXY_PROTO_MORE,  /* a valid prefix: read more */
	PROXY_PROTO_DONE,  /* a whole header; see struct proxy_proto_header */
	PROXY_PROTO_ERROR, /* not a (valid) header; close the connection */
};

struct proxy_proto_header {
	int version;     /* 1 or 2 */
	bool addresses;  /* false: LOCAL or UNKNOWN/UNSPEC, keep the socket's */
	size_t consumed; /* bytes of the header, SMTP starts after them */
	struct sockaddr_storage src, dst; /* valid when addresses */
};

/*
 * proxy_proto_parse - look at buf[0..len) for a header of one of the
 * versions in mask; on PROXY_PROTO_ERROR *reason is a static string.
 */
enum proxy_proto_result proxy_proto_parse(const unsigned char *buf, size_t len,
                                          unsigned mask,
                                          struct proxy_proto_header *h,
                                          const char **reason);

/* proxy_proto_result_str - "more", "done", "error" */
const char *proxy_proto_result_str(enum proxy_proto_result r);

#endif
