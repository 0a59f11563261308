/*
 * transcript_facts.h - the facts (JSON fields) and text of a connection's
 * connect and close events, one definition for every place that opens or
 * ends one: a session (smtp/session.c) and a connection that never became
 * one because its PROXY protocol header was missing (daemon/
 * proxy_accept.c). transcript.h describes the fields.
 *
 * Does not: emit (the caller hands the result to its own event path), or
 * decide what a close is called.
 */
#ifndef TRANSCRIPT_FACTS_H
#define TRANSCRIPT_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct json_t;

/* tr_addr - sa's address as text and its port (AF_INET, AF_INET6; any
 * other family: "" and 0) */
void tr_addr(const struct sockaddr *sa, char *ip, size_t iplen, unsigned *port);

/* What a connect event says: the client and the server the session is
 * about, whether the listener was implicit TLS, and, behind a load
 * balancer, its socket (proxy, NULL: none) and the PROXY header version. */
struct tr_connect {
	const struct sockaddr *client, *server, *proxy;
	int proxy_version;
	bool tls_listener;
	const char *profile;
};

/*
 * tr_connect_fields - the connect event's fields (a new reference, NULL
 * when out of memory) and its text in text[textlen]:
 *   "C:P -> S:P profile=NAME[ proxy=B:P vN]" (IPv6 addresses in [])
 */
struct json_t *tr_connect_fields(const struct tr_connect *c, char *text,
                                 size_t textlen);

/* tr_close_fields - the close event's fields: how ("fin", "rst", "drop"),
 * reason (NULL: "", as the schema wants a string), rule (NULL: none), the
 * socket's bytes and the messages accepted; a new reference, NULL when out
 * of memory */
struct json_t *tr_close_fields(const char *how, const char *reason,
                               const char *rule, uint64_t bytes_in,
                               uint64_t bytes_out, unsigned long messages);

#endif
