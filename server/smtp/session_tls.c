/*
 * session_tls.c - a session's TLS story: STARTTLS (RFC 3207) and implicit
 * TLS, the ClientHello rules, the no-shared-suite/version behaviour, and
 * what the transcript says about it.
 *
 * Does: start TLS on a session's connection, run the tls_client_hello,
 * tls_handshake_done and tls_failed rules exactly like every other rule
 * (first match, probability, times), decide silent drops before any
 * server flight, reset the session after the handshake (RFC 3207 4.2).
 * It hears about the handshake through the hooks it attaches to its SSL
 * (tls_conn.h): the tls layer owns the OpenSSL callbacks and captures the
 * ClientHello.
 * Does not: build SSL_CTXs (tls_policy.c), install OpenSSL callbacks
 * (tls_conn.c) or touch bufferevents (io.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "io.h"
#include "reply.h"
#include "session.h"
#include "session_tls.h"
#include "tls_json.h"
#include "tls_policy.h"
#include "transcript.h"

/* {"event": name} plus, when given, key: v (v stolen; NULL: no key) */
static json_t *
tls_fields(const char *event, const char *key, json_t *v)
{
	json_t *o = json_pack("{s:s}", "event", event);

	if (o != NULL && key != NULL &&
	    (v == NULL || json_object_set_new(o, key, v) != 0)) {
		json_decref(o);
		return NULL;
	}
	if (o == NULL)
		json_decref(v);
	return o;
}

static void
tls_rule_event(struct session *s, struct rule *r)
{
	char what[1024];

	rules_describe(r, what, sizeof(what));
	session_event(s, TR_RULE, r->name, r->why, what, strlen(what));
}

static enum tls_hello_verdict
tls_client_hello(void *arg, const struct tls_hello *h, int *al);
static void tls_info(void *arg, int where, int ret);

/* What the session hears from the tls layer about its handshake. */
static const struct tls_conn_hooks tls_hooks = {
    .client_hello = tls_client_hello,
    .info = tls_info,
};

/* session_tls_begin - hand the connection to TLS (after 220, or at once
 * on an implicit-TLS listener) */
void
session_tls_begin(struct session *s)
{
	SSL *ssl;

	ssl = SSL_new(tls_policy_ctx(s->profile->tls_policy));
	/* The TLS strings are made here, the one way into a handshake. */
	if (ssl == NULL || tls_conn_attach(ssl, &tls_hooks, s) != 0 ||
	    (s->tls_strings == NULL &&
	     (s->tls_strings = calloc(1, sizeof(*s->tls_strings))) == NULL)) {
		SSL_free(ssl);
		session_close(s, CLOSE_FIN, "out of memory starting TLS");
		return;
	}
	session_enter(s, STATE_TLS);
	if (io_starttls(s->io, ssl) == -1) {
		session_close(s, CLOSE_FIN, "cannot start TLS");
		return;
	}
}

/* session_starttls - STARTTLS accepted: 220, then TLS on this connection */
void
session_starttls(struct session *s)
{
	struct evbuffer *in = io_input(s->io);
	size_t junk = evbuffer_get_length(in);

	reply_send(s, REPLY_STARTTLS_READY);
	/* The 220 goes out in plaintext (through any box) before TLS. */
	io_flush(s->io);
	if (s->state == STATE_CLOSING)
		return;
	/* RFC 3207 5 and CVE-2011-0411: whatever the client pipelined after
	 * STARTTLS in plaintext is thrown away, never run inside TLS. */
	if (junk != 0) {
		evbuffer_drain(in, evbuffer_get_length(in));
		session_eventf(
		    s, TR_WARN, NULL,
		    "discarded %zu bytes sent after STARTTLS before the "
		    "handshake (RFC 3207 5)",
		    junk);
	}
	session_tls_begin(s);
}

/* Does the client share at least one version with our policy? */
static bool
hello_shares_version(const struct session *s, const struct tls_hello *h)
{
	unsigned ours = s->profile->tls.versions, upto;

	for (size_t i = 0; i < h->nexts; i++)
		if (h->exts[i] == TLSEXT_TYPE_supported_versions)
			return (h->versions & ours) != 0;
	/* No supported_versions: the client takes any version up to its
	 * legacy_version (RFC 5246 E.1), which says TLS 1.2 at most. */
	upto = tls_version_from_protocol(h->legacy_version);
	if (upto == 0 || upto > TLSV_1_2)
		upto = TLSV_1_2;
	return (ours & ((upto << 1) - 1)) != 0;
}

/* A no_shared event's facts: what is missing, and the answer. */
static json_t *
no_shared_fields(const char *what, const char *response)
{
	json_t *o = tls_fields("no_shared", NULL, NULL);

	if (o != NULL &&
	    (json_object_set_new(o, "missing",
	                         json_string(strstr(what, "version") != NULL
	                                         ? "version"
	                                         : "suite")) != 0 ||
	     json_object_set_new(o, "response", json_string(response)) != 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Apply a no-shared setting; returns the hello hook's verdict. */
static enum tls_hello_verdict
hello_no_shared(struct session *s, enum tls_no_shared how, const char *what,
                int *al)
{
	switch (how) {
	case TLS_NOSHARED_ALERT:
		if (transcript_wants(TR_TLS))
			session_eventj(
			    s, TR_TLS, NULL, no_shared_fields(what, "alert"),
			    "no shared %s: fatal handshake_failure", what);
		*al = SSL_AD_HANDSHAKE_FAILURE;
		return TLS_HELLO_ALERT;
	case TLS_NOSHARED_FIN:
	case TLS_NOSHARED_RST:
		if (transcript_wants(TR_TLS))
			session_eventj(
			    s, TR_TLS, NULL,
			    no_shared_fields(what, "unanswered"),
			    "no shared %s: ClientHello left unanswered", what);
		s->tls_drop = how == TLS_NOSHARED_FIN ? CLOSE_FIN : CLOSE_RST;
		snprintf(s->tls_strings->drop_why,
		         sizeof(s->tls_strings->drop_why), "no shared %s",
		         what);
		return TLS_HELLO_HOLD; /* nothing is sent */
	default:
		return TLS_HELLO_CONTINUE; /* OpenSSL's own alert */
	}
}

/* Name the suites of a rule's offers_any/offers_all that the client
 * actually offered: the evidence a bug report needs. */
static void
tls_offered_from_rule(struct session *s, const struct rule *r,
                      const struct tls_hello *h)
{
	const struct rule_when *w = &r->when;
	char list[2048], name[64];
	size_t o = 0;
	json_t *suites = transcript_wants(TR_TLS) ? json_array() : NULL;

	list[0] = '\0';
	for (size_t k = 0; k < 2; k++) {
		const uint16_t *ids = k == 0 ? w->offers_any : w->offers_all;
		size_t n = k == 0 ? w->noffers_any : w->noffers_all;
		for (size_t i = 0; i < n && o < sizeof(list); i++) {
			if (!tls_hello_offers(h, ids[i]))
				continue;
			o += (size_t)snprintf(
			    list + o, sizeof(list) - o, "%s%s", o ? ", " : "",
			    tls_suite_name(ids[i], name, sizeof(name)));
			if (suites != NULL)
				json_array_append_new(suites,
				                      tls_json_suite(ids[i]));
		}
	}
	if (o != 0)
		session_eventj(
		    s, TR_TLS, r->name,
		    tls_fields("rule_offered", "suites", json_incref(suites)),
		    "offered from the rule's list: %s", list);
	json_decref(suites);
}

/*
 * The client_hello hook: the connection's first ClientHello, as the tls
 * layer captured it. Record what was offered, then rules, then the
 * no-shared policy. Only sets flags: the connection is ended from the io
 * error that follows.
 */
static enum tls_hello_verdict
tls_client_hello(void *arg, const struct tls_hello *h, int *al)
{
	struct session *s = arg;
	struct rule_ctx ctx = {.hook = HOOK_TLS_CLIENT_HELLO, .hello = h};
	char desc[4096];
	struct rule *r;

	if (transcript_wants(TR_TLS)) {
		tls_hello_describe(h, desc, sizeof(desc));
		session_eventj(
		    s, TR_TLS, NULL,
		    tls_fields("client_hello", "offered", tls_json_hello(h)),
		    "ClientHello %s", desc);
	}
	if (s->profile->nrules != 0 &&
	    (r = rules_match(s->profile, &ctx, &s->rng)) != NULL) {
		tls_rule_event(s, r);
		tls_offered_from_rule(s, r, h);
		if (r->act.at == TLS_AT_HANDSHAKE_DONE) {
			s->tls_rule =
			    r; /* carried out once the handshake ends */
		} else if (r->act.alert >= 0) {
			if (transcript_wants(TR_TLS))
				session_eventj(
				    s, TR_TLS, r->name,
				    tls_fields(
				        "sending_alert", "alert",
				        tls_json_alert(r->act.alert, 2, true)),
				    "sending fatal alert %s",
				    SSL_alert_desc_string_long(r->act.alert));
			*al = r->act.alert;
			return TLS_HELLO_ALERT;
		} else if (r->act.close != CLOSE_NONE || r->act.hang) {
			s->tls_drop =
			    r->act.close == CLOSE_RST ? CLOSE_RST : CLOSE_FIN;
			s->tls_drop_rule = r->name;
			snprintf(s->tls_strings->drop_why,
			         sizeof(s->tls_strings->drop_why),
			         "rule %s at ClientHello", r->name);
			return TLS_HELLO_HOLD;
		}
	}
	if (!hello_shares_version(s, h))
		return hello_no_shared(s, s->profile->tls.no_shared_version,
		                       "protocol version", al);
	if (!h->shares_suite)
		return hello_no_shared(s, s->profile->tls.no_shared_cipher,
		                       "cipher suite", al);
	return TLS_HELLO_CONTINUE;
}

/* The info hook: alerts to the transcript. */
static void
tls_info(void *arg, int where, int ret)
{
	struct session *s = arg;

	bool sent = (where & SSL_CB_WRITE) != 0;

	if (!(where & SSL_CB_ALERT) || !transcript_wants(TR_TLS))
		return;
	session_eventj(s, TR_TLS, NULL,
	               tls_fields("alert", "alert",
	                          tls_json_alert(ret & 0xff, ret >> 8, sent)),
	               "alert %s: %s %s", sent ? "sent" : "received",
	               SSL_alert_type_string_long(ret),
	               SSL_alert_desc_string_long(ret));
}

/* Carry out a TLS rule's action now that the handshake is over. */
static void
tls_act(struct session *s, struct rule *r)
{
	if (r->act.alert == SSL_AD_CLOSE_NOTIFY)
		io_close_notify(s->io);
	if (r->act.close == CLOSE_RST) {
		session_close_rule(s, CLOSE_RST, r->name, r->name);
		return;
	}
	/* fin, silent, or an alert: end now; FIN carries no close_notify
	 * unless the rule asked for one. */
	session_close_rule(s, CLOSE_FIN, r->name, r->name);
}

/* A DHE exchange: is the client's public value shorter than the prime?
 * Said in the transcript either way (the evidence for a DHE rule). */
static bool
tls_dh_short(struct session *s, SSL *ssl)
{
	unsigned p_len, yc_len;

	if (!tls_conn_dh_lengths(ssl, &p_len, &yc_len))
		return false;
	session_eventf(
	    s, TR_INFO, NULL,
	    "DHE: client public value %u bytes, prime %u bytes%s", yc_len,
	    p_len, yc_len < p_len ? " (shorter: leading zero stripped)" : "");
	return yc_len < p_len;
}

/* session_tls_ready - the handshake completed */
void
session_tls_ready(struct session *s)
{
	SSL *ssl = io_ssl(s->io);
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	struct rule_ctx ctx = {.hook = HOOK_TLS_HANDSHAKE_DONE};
	struct rule *r = s->tls_rule;
	struct session_tls_strings *ts = s->tls_strings;

	s->tls = true;
	snprintf(ts->version, sizeof(ts->version), "%s", SSL_get_version(ssl));
	snprintf(ts->cipher, sizeof(ts->cipher), "%s",
	         c ? SSL_CIPHER_standard_name(c) : "?");
	if (transcript_wants(TR_TLS)) {
		json_t *f = tls_fields(
		    "handshake_done", "suite",
		    c != NULL ? tls_json_suite(SSL_CIPHER_get_protocol_id(c))
		              : json_null());
		if (f != NULL)
			json_object_set_new(f, "version",
			                    json_string(ts->version));
		session_eventj(s, TR_TLS, NULL, f, "handshake done: %s %s",
		               ts->version, ts->cipher);
	}
	if (r != NULL) {
		s->tls_rule = NULL;
		session_eventj(s, TR_TLS, r->name,
		               transcript_wants(TR_TLS)
		                   ? tls_fields("rule_deferred", NULL, NULL)
		                   : NULL,
		               "carrying out rule %s after the handshake",
		               r->name);
		tls_act(s, r);
		return;
	}
	if (s->profile->nrules != 0) {
		/* OpenSSL's name ("TLSv1.2") is one tls_version_from_str
		 * knows. */
		ctx.tls_version = tls_version_from_str(ts->version);
		ctx.tls_suite = c ? SSL_CIPHER_get_protocol_id(c) : -1;
		ctx.tls_dh_short = tls_dh_short(s, ssl);
		if ((r = rules_match(s->profile, &ctx, &s->rng)) != NULL) {
			tls_rule_event(s, r);
			tls_act(s, r);
			return;
		}
	}
	/* RFC 3207 4.2: forget everything learnt before TLS. */
	session_reset_transaction(s);
	free(s->helo);
	s->helo = NULL;
	s->esmtp = false;
	s->authenticated = false;
	if (s->implicit_tls) {
		if (s->refuse != REPLY_COUNT)
			session_refuse(s);
		else
			session_greet(s);
		return;
	}
	session_enter(s, STATE_INIT);
}

/* session_tls_failed - the handshake failed or was dropped on purpose */
void
session_tls_failed(struct session *s, const char *reason)
{
	struct rule_ctx ctx = {.hook = HOOK_TLS_FAILED};
	struct rule *r;

	if (s->tls_drop != CLOSE_NONE) {
		session_close_rule(s, s->tls_drop, s->tls_strings->drop_why,
		                   s->tls_drop_rule);
		return;
	}
	if (transcript_wants(TR_TLS))
		session_eventj(
		    s, TR_TLS, NULL,
		    tls_fields(
		        "handshake_failed", "reason",
		        json_string(reason ? reason : "connection closed")),
		    "handshake failed: %s",
		    reason ? reason : "connection closed");
	ctx.tls_reason = reason ? reason : "";
	if (s->profile->nrules != 0 &&
	    (r = rules_match(s->profile, &ctx, &s->rng)) != NULL) {
		tls_rule_event(s, r);
		tls_act(s, r);
		return;
	}
	session_close(s, CLOSE_FIN, "TLS handshake failed");
}
