/*
 * transcript.h - what crossed the wire, for people and for programs.
 *
 * Every event goes to up to two sinks: a readable live transcript on
 * stderr ("12:00:01.234 [s7] C: EHLO gw.test") unless quiet, and JSON
 * Lines (--transcript FILE|-) built with jansson, one object per event:
 *   {"schema":1,"time":"2026-11-23T12:00:01.234Z","session":7,"dir":"C",
 *    "text":"EHLO gw.test","profile":"esa"}
 * plus "rule"/"why" when a rule fired, "hex" with the raw bytes when
 * the text is not valid UTF-8 (text then shows \xNN escapes), and
 * "delivered":false with "lost" when a C: or S: line never reached the
 * other side (a middlebox swallowed it, or a cut discarded it).
 *
 * "schema" is TR_SCHEMA (1): the version of the field set below, raised
 * when a field changes meaning or goes away (never for a new field).
 * server/out/transcript.schema.json (installed as
 * share/smtp-mimic/transcript.schema.json) is the JSON Schema of a line.
 * Facts travel as fields (struct tr_event.fields), never only in "text";
 * the text and the readable line stay what they always were:
 *   connect  "client":{"addr","port"}, "server":{"addr","port"},
 *            "tls_listener": bool (an implicit-TLS listener); with
 *            --proxy-protocol "proxy":{"addr","port","version"}: the load
 *            balancer (client is then the PROXY header's source)
 *   close    "how": "fin"|"rst"|"drop", "reason": the words in the
 *            parentheses, "rule": NAME when a rule caused it (absent
 *            otherwise), "bytes_in"/"bytes_out": this connection's socket
 *            bytes (out counts what was written or queued for the socket
 *            when it closed; TLS bytes still waiting to be encrypted count
 *            as their plaintext size), "messages": accepted in the session
 *   tls      "event", one of:
 *            client_hello   "offered": {"legacy_version":"0x0303",
 *                           "versions":["TLSv1.3",...] (newest first),
 *                           "suites":[{"name","hex"}] in the client's order
 *                           (name null when unknown: GREASE, private),
 *                           "sni": host or null, "groups":[{"name","hex"}]}
 *            handshake_done "version":"TLSv1.2", "suite":{"name","hex"}
 *            alert          "alert":{"description":"handshake_failure",
 *                           "level":"fatal"|"warning","sent":bool}
 *            sending_alert  a rule's alert about to go: "alert" as above
 *            handshake_failed "reason"
 *            no_shared      "missing":"version"|"suite",
 *                           "response":"alert"|"unanswered"
 *            rule_offered   "rule", "suites" (the rule's that were offered)
 *            rule_deferred  "rule" (carried out after the handshake)
 *   info     an accepted message: "event":"accepted", "queue_id", "size",
 *            "spool": the file name in spool/new/ (null with --spool none),
 *            "mail_from", "rcpts":["a@b",...]
 *   C, S and everything else: the common fields only.
 *
 * Not here: deciding what to log (the session does); it never blocks on
 * anything but the write to the sink.
 */
#ifndef TRANSCRIPT_H
#define TRANSCRIPT_H

#include <stdbool.h>
#include <stddef.h>

/* The "schema" field of every JSON line. */
#define TR_SCHEMA 1

struct json_t;

enum tr_kind {
	TR_CONNECT,    /* "connect 1.2.3.4:5 -> 6.7.8.9:25 profile=x" */
	TR_CLOSE,      /* how the connection ended: "close fin (...)" */
	TR_CLIENT,     /* C: a line the client sent */
	TR_SERVER,     /* S: a line the server sent */
	TR_RULE,       /* !: a rule fired; rule and why set */
	TR_INFO,       /* *: spool ids, AUTH results, notes */
	TR_WARN,       /* *: bad input or a server-side problem */
	TR_TLS,        /* TLS: ClientHello, negotiated, alerts */
	TR_CLIENT_SAW, /* a middlebox changed what the client receives */
	TR_SERVER_GOT, /* a middlebox changed what the server receives */
	TR_DETAIL,     /* *: state changes, data sizes; only with -v (both) */
	TR_COUNT
};

/* tr_kind_str - the "dir" field in JSON: "connect","close","C","S",... */
const char *tr_kind_str(enum tr_kind kind);

/* tr_kind_from_str - the inverse; TR_COUNT for NULL or an unknown dir */
enum tr_kind tr_kind_from_str(const char *dir);

struct tr_event {
	unsigned long session;
	enum tr_kind kind;
	const char *text; /* raw bytes, not NUL-terminated necessarily */
	size_t len;
	const char *rule; /* NULL unless TR_RULE (or a rule caused it); for
	                   * TR_CLIENT_SAW/TR_SERVER_GOT the middlebox */
	const char *why;
	const char *profile;
	/* NULL: the line crossed (or the event is no line). Else the line
	 * did not reach the other side, and this says why: a middlebox
	 * swallowed it, or a cut discarded it before it was written to the
	 * client's socket. JSON: "delivered":false and "lost":WHY; readable:
	 * "   [not delivered: WHY]" after the line. */
	const char *lost;
	/* NULL, or a JSON object whose members join the JSON line after the
	 * common ones (the facts of connect, close, tls and accepted events:
	 * see above). Borrowed: the caller still owns it after the call. Never
	 * shown in the readable line. Build it only when transcript_wants(). */
	const struct json_t *fields;
};

/*
 * transcript_open - set the sinks. readable: print on stderr; verbose
 * also prints TR_INFO there, and TR_DETAIL in both sinks (state changes
 * and data sizes would be half the JSON lines of a message). json_path: NULL
 * for none,
 * "-" for stdout.
 * Returns 0, or -1 with a reason in err.
 */
int transcript_open(bool readable, bool verbose, const char *json_path,
                    char *err, size_t errlen);
void transcript_close(void);

/* transcript_wants - would an event of this kind be written anywhere?
 * (lets callers skip formatting when nobody listens) */
bool transcript_wants(enum tr_kind kind);

/* transcript_emit - record one event */
void transcript_emit(const struct tr_event *ev);

/*
 * transcript_add_tap - also hand every event, as the JSON object the JSON
 * sink would write and that object serialized (no newline), to fn: the
 * HTTP API's session index and live stream, and the counters behind
 * /metrics, --summary and --expect. fn runs on the emitting (worker)
 * thread, outside the sink's lock, and must not keep o or line (copy, or
 * json_incref o). TR_DETAIL reaches a tap only with verbose. Add taps
 * before any worker starts; at most TR_TAPS_MAX. Returns 0, or -1 when
 * full.
 */
#define TR_TAPS_MAX 4
typedef void (*tr_tap_fn)(const struct json_t *o, const char *line, size_t len,
                          void *arg);
int transcript_add_tap(tr_tap_fn fn, void *arg);

/*
 * transcript_add_tap_ev - the same, and evfn(...) instead of fn whenever
 * the line was written without jansson (transcript_line.c: plain ASCII,
 * the common case): no JSON object is built for the tap, the hot path of
 * a message. evfn gets the event as the worker made it (its fields, if
 * any, are the members the line has after the common ones), the time as
 * the line has it, and the line. evfn NULL: fn gets every event.
 */
typedef void (*tr_tap_ev_fn)(const struct tr_event *ev, const char *when,
                             const char *line, size_t len, void *arg);
int transcript_add_tap_ev(tr_tap_fn fn, tr_tap_ev_fn evfn, void *arg);

/* transcript_flush - write out buffered JSON lines (call now and then) */
void transcript_flush(void);

/* transcript_printf - convenience: formatted text for TR_INFO/TR_WARN... */
void transcript_printf(unsigned long session, enum tr_kind kind,
                       const char *profile, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* transcript_escape - printable form of raw bytes (\r \n \t \xNN), for
 * the readable sink; writes at most outlen-1 bytes + NUL, returns out */
char *transcript_escape(const char *in, size_t len, char *out, size_t outlen);

#endif
