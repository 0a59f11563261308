/*
 * proxy_accept.h - accepted connections waiting for their PROXY protocol
 * header (--proxy-protocol): smtp-mimic behind a TCP load balancer
 * (HAProxy "send-proxy" / "send-proxy-v2").
 *
 * Does: one read event per connection (persistent until the header is
 * whole) with a deadline: the profile's idle timeout, counted from the
 * accept; peeks at what arrived, parses it (proto/proxy_proto.c) and
 * takes off the socket exactly the header's bytes, so that what follows
 * (a pipelined EHLO, a TLS ClientHello) stays in the kernel for the
 * session. Then hands the connection on with the header's addresses. A
 * peer that closes, misses the deadline or sends no valid header gets a
 * warning line, a connect and a close event in the transcript, and a FIN
 * without a banner. Does not: count sessions or apply limits (server.c
 * does, for the real client), or speak SMTP.
 */
#ifndef PROXY_ACCEPT_H
#define PROXY_ACCEPT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <event2/util.h>

#include "reply.h"
#include "session.h"

/* The longest header read: v1's 107 bytes, a v2 header with TLVs. */
#define PROXY_ACCEPT_CAP 1024

struct event_base;
struct proxy_accept;

/*
 * The header arrived: go on with fd as a session from peer to local (the
 * header's addresses, or the socket's own for LOCAL / UNKNOWN), with
 * proxy saying where it really came from. tls and refuse are as given to
 * proxy_accept_start.
 */
typedef void (*proxy_accept_done_fn)(void *owner, evutil_socket_t fd,
                                     const struct sockaddr *peer,
                                     const struct sockaddr *local,
                                     const struct session_proxy *proxy,
                                     bool tls, enum reply_id refuse);

/*
 * proxy_accept_new - waiting connections on base, accepting the header
 * versions in mask (PROXY_PROTO_V1, _V2); next_id numbers the transcript
 * events of a connection that fails (the server's session counter);
 * waiting (NULL: none) counts the connections waiting, shared by every
 * worker's proxy_accept, so the server can hold them to its limit.
 */
struct proxy_accept *proxy_accept_new(struct event_base *base, unsigned mask,
                                      atomic_ulong *next_id,
                                      atomic_uint *waiting,
                                      proxy_accept_done_fn done, void *owner);

/*
 * proxy_accept_start - wait (up to timeout_ms, 0: no limit) for fd's
 * header; peer and local are the socket's. profile names the profile in
 * the transcript if it fails. Returns 0, or -1 when out of memory (fd is
 * then closed).
 */
int proxy_accept_start(struct proxy_accept *pa, evutil_socket_t fd,
                       const struct sockaddr *peer,
                       const struct sockaddr *local, bool tls,
                       enum reply_id refuse, unsigned timeout_ms,
                       const char *profile);

/* proxy_accept_pending - connections still waiting for their header */
size_t proxy_accept_pending(const struct proxy_accept *pa);

/* proxy_accept_clear - close every waiting connection (server stopping),
 * with reason in the transcript */
void proxy_accept_clear(struct proxy_accept *pa, const char *reason);

/* proxy_accept_free - clear, then free pa (NULL: nothing) */
void proxy_accept_free(struct proxy_accept *pa);

#endif
