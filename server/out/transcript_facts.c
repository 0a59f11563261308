/*
 * transcript_facts.c - the fields and text of connect and close events
 * (transcript_facts.h), built with jansson.
 *
 * Does: format addresses (inet_ntop), pack the fields transcript.h lists.
 * Does not: emit, or know what a session is.
 */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <jansson.h>

#include "transcript_facts.h"

/* tr_addr - sa's address as text and its port */
void
tr_addr(const struct sockaddr *sa, char *ip, size_t iplen, unsigned *port)
{
	ip[0] = '\0';
	*port = 0;
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)sa;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, iplen);
		*port = ntohs(a->sin6_port);
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)sa;
		inet_ntop(AF_INET, &a->sin_addr, ip, iplen);
		*port = ntohs(a->sin_port);
	}
}

/* "ip:port", with an IPv6 address in brackets */
static void
endpoint(const struct sockaddr *sa, char *out, size_t outlen, char *ip,
         size_t iplen, unsigned *port)
{
	bool v6;

	tr_addr(sa, ip, iplen, port);
	v6 = strchr(ip, ':') != NULL;
	snprintf(out, outlen, "%s%s%s:%u", v6 ? "[" : "", ip, v6 ? "]" : "",
	         *port);
}

/* tr_connect_fields - the connect event's fields and text */
json_t *
tr_connect_fields(const struct tr_connect *c, char *text, size_t textlen)
{
	char cip[INET6_ADDRSTRLEN], sip[INET6_ADDRSTRLEN];
	char pip[INET6_ADDRSTRLEN], cend[64], send[64], pend[64];
	char via[96] = "";
	unsigned cport, sport, pport;
	json_t *f;

	endpoint(c->client, cend, sizeof(cend), cip, sizeof(cip), &cport);
	endpoint(c->server, send, sizeof(send), sip, sizeof(sip), &sport);
	f = json_pack("{s:{s:s, s:i}, s:{s:s, s:i}, s:b}", "client", "addr",
	              cip, "port", (int)cport, "server", "addr", sip, "port",
	              (int)sport, "tls_listener", c->tls_listener);
	if (c->proxy != NULL) {
		endpoint(c->proxy, pend, sizeof(pend), pip, sizeof(pip),
		         &pport);
		if (f != NULL)
			json_object_set_new(
			    f, "proxy",
			    json_pack("{s:s, s:i, s:i}", "addr", pip, "port",
			              (int)pport, "version", c->proxy_version));
		snprintf(via, sizeof(via), " proxy=%s v%d", pend,
		         c->proxy_version);
	}
	snprintf(text, textlen, "%s -> %s profile=%s%s", cend, send, c->profile,
	         via);
	return f;
}

/* tr_close_fields - the close event's fields */
json_t *
tr_close_fields(const char *how, const char *reason, const char *rule,
                uint64_t bytes_in, uint64_t bytes_out, unsigned long messages)
{
	json_t *o;

	o = json_pack("{s:s, s:s, s:I, s:I, s:I}", "how", how, "reason",
	              reason != NULL ? reason : "", "bytes_in",
	              (json_int_t)bytes_in, "bytes_out", (json_int_t)bytes_out,
	              "messages", (json_int_t)messages);
	if (o != NULL && rule != NULL)
		json_object_set_new(o, "rule", json_string(rule));
	return o;
}
