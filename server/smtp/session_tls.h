/*
 * session_tls.h - a session's TLS: STARTTLS (RFC 3207), implicit TLS,
 * and the TLS rules (session_tls.c).
 *
 * Does not: build SSL_CTXs (tls_policy.h) or touch bufferevents (io.h).
 */
#ifndef SESSION_TLS_H
#define SESSION_TLS_H

#include <openssl/ssl.h>

struct session;

/* session_starttls - STARTTLS accepted: 220, discard pipelined input, TLS */
void session_starttls(struct session *s);
/* session_tls_begin - start the TLS handshake on the connection */
void session_tls_begin(struct session *s);
/* session_tls_ready / session_tls_failed - handshake outcome */
void session_tls_ready(struct session *s);
void session_tls_failed(struct session *s, const char *reason);

#endif
