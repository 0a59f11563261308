/*
 * tls_json.h - TLS facts as JSON values for the transcript: a suite as
 * {"name","hex"}, a ClientHello's offer, an alert; and the RFC names of
 * alerts and groups those use.
 *
 * Not here: deciding anything, or writing the transcript (the session
 * does; transcript.h lists the fields).
 */
#ifndef TLS_JSON_H
#define TLS_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "tls_hello.h"

/* tls_json_hex - "0x1301" (four upper-case hex digits) into buf[7] */
const char *tls_json_hex(uint16_t id, char buf[7]);

/* tls_json_suite - {"name": IANA name or null (unknown to the linked
 * OpenSSL: GREASE, private, withdrawn), "hex": "0x1301"}; NULL on ENOMEM */
json_t *tls_json_suite(uint16_t id);

/*
 * tls_json_hello - what a ClientHello offered: {"legacy_version":
 * "0x0303", "versions": ["TLSv1.3", ...] newest first, "suites": [suite,
 * ...] in the client's order, "sni": name or null, "groups": [{"name" or
 * null, "hex"}] only when the client sent supported_groups}.
 */
json_t *tls_json_hello(const struct tls_hello *h);

/* tls_json_alert - {"description": "handshake_failure", "level": "fatal"
 * | "warning", "sent": bool} for an alert code and level (1 warning,
 * 2 fatal) */
json_t *tls_json_alert(int code, int level, bool sent);

/* tls_alert_name - RFC 8446 6 / RFC 5246 7.2 name ("handshake_failure"),
 * or NULL for a code no RFC names */
const char *tls_alert_name(int code);

/* tls_group_name - IANA "TLS Supported Groups" name ("x25519",
 * "secp256r1", "ffdhe2048"), or NULL */
const char *tls_group_name(uint16_t id);

#endif
