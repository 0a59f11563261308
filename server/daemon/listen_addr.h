/*
 * listen_addr.h - the text of one --listen flag, "[ADDR:]PORT[/tls]", as
 * the socket addresses to bind.
 *
 * Does: parse and check it (the port is a decimal number up to 65535, 0
 * letting the kernel pick; ADDR is an IPv4 address, an [IPv6] address or
 * "localhost", resolved with getaddrinfo() to the loopback addresses it
 * names, both families if it names both); format an address for the log
 * and --check; probe whether another server holds an address. Does not:
 * listen (server.c), or look up other host names (start-up must not wait
 * for DNS).
 */
#ifndef LISTEN_ADDR_H
#define LISTEN_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* At most this many addresses for one flag (localhost: 127.0.0.1, ::1). */
#define LISTEN_ADDR_MAX 4

struct listen_addr {
	bool tls;      /* "/tls": implicit TLS from the first byte */
	bool any_port; /* port 0: the kernel picks one at bind */
	bool resolved; /* ADDR was a name (localhost), not a number */
	size_t n;      /* addresses in ss[] (>= 1 once parsed) */
	struct sockaddr_storage ss[LISTEN_ADDR_MAX];
	socklen_t len[LISTEN_ADDR_MAX];
};

/*
 * listen_addr_parse - parse one --listen value into la. Returns 0, or -1
 * with one line in err that starts "--listen SPEC: " and says what is
 * wrong.
 */
int listen_addr_parse(const char *spec, struct listen_addr *la, char *err,
                      size_t errlen);

/*
 * listen_addr_format - "127.0.0.1:2525" or "[::1]:2525" (with_port), or
 * "127.0.0.1" / "[::1]" (without).
 */
void listen_addr_format(const struct sockaddr_storage *ss, bool with_port,
                        char *buf, size_t len);

/* listen_addr_port - the port of an AF_INET or AF_INET6 address */
unsigned listen_addr_port(const struct sockaddr_storage *ss);

/* listen_addr_set_port - set the port of an AF_INET or AF_INET6 address */
void listen_addr_set_port(struct sockaddr_storage *ss, unsigned port);

/*
 * listen_addr_probe - bind a throwaway socket (SO_REUSEADDR only) to ss:
 * 0 when the address is free, -1 with errno when a socket listens there
 * (another server's, or one of ours) or cannot be bound at all.
 */
int listen_addr_probe(const struct sockaddr_storage *ss, socklen_t len);

/* listen_addr_bind_error - the one line for a failed bind of spec
 * (errno e), with the usual fix for EADDRINUSE and EACCES */
void listen_addr_bind_error(const char *spec, int e, char *err, size_t errlen);

#endif
