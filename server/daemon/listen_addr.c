/*
 * listen_addr.c - one --listen value, "[ADDR:]PORT[/tls]", parsed into the
 * socket addresses server.c binds.
 *
 * Does: split off "/tls", read the port (decimal, 0 to 65535, nothing
 * after it; 0 = the kernel picks), read ADDR as dotted IPv4, bracketed
 * IPv6 or "localhost" (getaddrinfo(), keeping the loopback addresses it
 * gives, RFC 6761 section 6.3: usually 127.0.0.1 and, where the hosts file
 * lists it, ::1), and say exactly what is wrong otherwise. A bare PORT
 * or ":PORT" means 127.0.0.1:PORT (loopback only, as the man page
 * promises).
 * Also: the probe that tells another server's port from our own shared
 * ones, and the one line for a failed bind.
 * Does not: listen, or look up any other name (no DNS at start-up).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "listen_addr.h"

/* The wording older versions used; tests and users know it. */
#define NOT_AN_ADDRESS                                                         \
	"--listen %s: not an address (use PORT, ADDR:PORT or [IPV6]:PORT, "    \
	"e.g. 127.0.0.1:2525, with /tls for implicit TLS)"

/* listen_addr_port - the port of an AF_INET or AF_INET6 address */
unsigned
listen_addr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

/* listen_addr_set_port - set the port of an AF_INET or AF_INET6 address */
void
listen_addr_set_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
}

/* listen_addr_format - "127.0.0.1:2525" / "[::1]:2525", or without port */
void
listen_addr_format(const struct sockaddr_storage *ss, bool with_port, char *buf,
                   size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6,
		          &((const struct sockaddr_in6 *)ss)->sin6_addr, ip,
		          sizeof(ip));
		if (with_port)
			snprintf(buf, len, "[%s]:%u", ip, listen_addr_port(ss));
		else
			snprintf(buf, len, "[%s]", ip);
		return;
	}
	inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, ip,
	          sizeof(ip));
	if (with_port)
		snprintf(buf, len, "%s:%u", ip, listen_addr_port(ss));
	else
		snprintf(buf, len, "%s", ip);
}

/* "2525" -> 2525; -1 for anything but 1 to 5 digits up to 65535. */
static long
parse_port(const char *s)
{
	long v = 0;
	size_t n = 0;

	for (; s[n] >= '0' && s[n] <= '9'; n++)
		v = v * 10 + (s[n] - '0');
	if (n == 0 || n > 5 || s[n] != '\0' || v > 65535)
		return -1;
	return v;
}

static bool
is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)
		                  ->sin_addr.s_addr) >>
		        24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(
		    &((const struct sockaddr_in6 *)sa)->sin6_addr);
	return false;
}

/* The loopback addresses "localhost" names, without repeats. */
static int
resolve_localhost(const char *spec, const char *host, struct listen_addr *la,
                  char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_STREAM};
	struct addrinfo *res, *ai;
	int r;

	if ((r = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		snprintf(err, errlen, "--listen %s: cannot resolve %s: %s",
		         spec, host, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL && la->n < LISTEN_ADDR_MAX;
	     ai = ai->ai_next) {
		bool seen = false;

		if (!is_loopback(ai->ai_addr) ||
		    ai->ai_addrlen > sizeof(la->ss[0]))
			continue;
		for (size_t i = 0; i < la->n; i++)
			seen |= la->len[i] == ai->ai_addrlen &&
			        memcmp(&la->ss[i], ai->ai_addr,
			               ai->ai_addrlen) == 0;
		if (seen)
			continue;
		memset(&la->ss[la->n], 0, sizeof(la->ss[0]));
		memcpy(&la->ss[la->n], ai->ai_addr, ai->ai_addrlen);
		la->len[la->n++] = (socklen_t)ai->ai_addrlen;
	}
	freeaddrinfo(res);
	if (la->n == 0) {
		snprintf(err, errlen,
		         "--listen %s: %s resolves to no loopback address",
		         spec, host);
		return -1;
	}
	la->resolved = true;
	return 0;
}

/* One numeric address; host is "1.2.3.4" or the inside of "[...]". */
static int
numeric_addr(const char *host, bool bracketed, struct listen_addr *la)
{
	struct sockaddr_storage *ss = &la->ss[0];

	memset(ss, 0, sizeof(*ss));
	if (bracketed) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -1;
		a->sin6_family = AF_INET6;
		la->len[0] = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -1;
		a->sin_family = AF_INET;
		la->len[0] = sizeof(*a);
	}
	la->n = 1;
	return 0;
}

/* listen_addr_parse - "[ADDR:]PORT[/tls]" into la, or one line in err */
int
listen_addr_parse(const char *spec, struct listen_addr *la, char *err,
                  size_t errlen)
{
	char buf[192];
	char *host, *port, *slash;
	bool bracketed = false;
	long portnum;

	memset(la, 0, sizeof(*la));
	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, NOT_AN_ADDRESS, spec);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", spec);
	if ((slash = strrchr(buf, '/')) != NULL) {
		if (strcmp(slash, "/tls") != 0) {
			snprintf(err, errlen,
			         "--listen %s: unknown suffix \"%s\" (the only "
			         "one is /tls, for implicit TLS)",
			         spec, slash);
			return -1;
		}
		*slash = '\0';
		la->tls = true;
	}
	if (buf[0] >= '0' && buf[0] <= '9' && strchr(buf, ':') == NULL &&
	    strchr(buf, '.') == NULL) {
		host = NULL; /* a bare PORT: loopback */
		port = buf;
	} else if (buf[0] == ':' && buf[1] != ':') {
		host = NULL; /* ":PORT", as in ":0": loopback too */
		port = buf + 1;
	} else if (buf[0] == '[') {
		char *close = strstr(buf, "]:");
		if (close == NULL) {
			snprintf(err, errlen, NOT_AN_ADDRESS, spec);
			return -1;
		}
		*close = '\0';
		host = buf + 1;
		port = close + 2;
		bracketed = true;
	} else {
		char *colon = strchr(buf, ':');
		if (colon == NULL || colon == buf) {
			snprintf(err, errlen, NOT_AN_ADDRESS, spec);
			return -1;
		}
		if (strchr(colon + 1, ':') != NULL) {
			snprintf(err, errlen,
			         "--listen %s: not an address: an IPv6 address "
			         "goes in brackets, as [::1]:2525",
			         spec);
			return -1;
		}
		*colon = '\0';
		host = buf;
		port = colon + 1;
	}
	if ((portnum = parse_port(port)) < 0) {
		snprintf(err, errlen,
		         "--listen %s: bad port \"%s\" (a number from 0 to "
		         "65535; 0 lets the kernel pick one)",
		         spec, port);
		return -1;
	}
	la->any_port = portnum == 0;
	if (host == NULL)
		numeric_addr("127.0.0.1", false, la);
	else if (numeric_addr(host, bracketed, la) == 0)
		;
	else if (bracketed) {
		snprintf(err, errlen,
		         "--listen %s: not an address: \"%s\" is not an IPv6 "
		         "address",
		         spec, host);
		return -1;
	} else if (strcasecmp(host, "localhost") == 0) {
		if (resolve_localhost(spec, host, la, err, errlen) == -1)
			return -1;
	} else {
		snprintf(err, errlen,
		         "--listen %s: not an address: \"%s\" is not an IPv4 "
		         "address, an [IPv6] address or localhost (other host "
		         "names are not looked up)",
		         spec, host);
		return -1;
	}
	for (size_t i = 0; i < la->n; i++)
		listen_addr_set_port(&la->ss[i], (unsigned)portnum);
	return 0;
}

/* listen_addr_probe - is ss taken by a socket that does not share it? */
int
listen_addr_probe(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM, 0);
	int one = 1, r, e;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	r = bind(fd, (const struct sockaddr *)ss, len);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

/* listen_addr_bind_error - "--listen SPEC: cannot bind: why (what to do)" */
void
listen_addr_bind_error(const char *spec, int e, char *err, size_t errlen)
{
	snprintf(err, errlen, "--listen %s: cannot bind: %s%s", spec,
	         strerror(e),
	         e == EADDRINUSE ? " (another server has this port; pick "
	                           "another with --listen)"
	         : e == EACCES   ? " (ports below 1024 need root; see --user)"
	                         : "");
}
