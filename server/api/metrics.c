/*
 * metrics.c - GET /metrics in Prometheus text format and GET /healthz
 * (see metrics.h). The counts are stats.c's when the command line
 * passed its counters to http_api_start, else the hub's.
 *
 * Families: smtp_mimic_sessions_open{profile}, _sessions_total{profile},
 * _messages_accepted_total{profile}, _rule_firings_total{profile,rule},
 * _tls_handshakes_total{version,suite}, _closes_total{how},
 * _bytes_received_total, _bytes_sent_total, and the API's own:
 * _transcript_lines_total, _events_dropped_total (lines the live stream
 * lost to a full buffer), _events_subscribers_dropped_total.
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "http_int.h"
#include "hub.h"
#include "metrics.h"
#include "stats.h"

/* metrics_escape - \\, \" and \n, as the text format wants */
char *
metrics_escape(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in != '\0' && o + 3 < len; in++) {
		if (*in == '\\' || *in == '"') {
			out[o++] = '\\';
			out[o++] = *in;
		} else if (*in == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *in;
		}
	}
	out[o] = '\0';
	return out;
}

static void
family(struct evbuffer *out, const char *name, const char *type,
       const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	                    name, type);
}

/* name{label="KEY"} VALUE for each key of obj */
static void
by_one(struct evbuffer *out, const char *name, const char *label,
       const json_t *obj)
{
	const char *key;
	json_t *v;
	char esc[512];

	json_object_foreach((json_t *)obj, key, v)
		evbuffer_add_printf(out, "%s{%s=\"%s\"} %lld\n", name, label,
		                    metrics_escape(key, esc, sizeof(esc)),
		                    (long long)json_integer_value(v));
}

/* name{l1="K1",l2="K2"} VALUE for obj[K1][K2] */
static void
by_two(struct evbuffer *out, const char *name, const char *l1, const char *l2,
       const json_t *obj)
{
	const char *k1, *k2;
	json_t *inner, *v;
	char e1[512], e2[512];

	json_object_foreach((json_t *)obj, k1, inner) {
		metrics_escape(k1, e1, sizeof(e1));
		json_object_foreach(inner, k2, v)
			evbuffer_add_printf(
			    out, "%s{%s=\"%s\",%s=\"%s\"} %lld\n", name, l1, e1,
			    l2, metrics_escape(k2, e2, sizeof(e2)),
			    (long long)json_integer_value(v));
	}
}

static void
plain(struct evbuffer *out, const char *name, const json_t *t, const char *key)
{
	evbuffer_add_printf(
	    out, "%s %lld\n", name,
	    (long long)json_integer_value(json_object_get(t, key)));
}

/* One metric family: where its values are in the totals, and how they
 * are labelled (no label: a plain integer). */
static const struct family_row {
	const char *name, *type, *help;
	const char *key;            /* in the totals object */
	const char *label, *label2; /* NULL: fewer labels */
} families[] = {
    {"smtp_mimic_sessions_open", "gauge",
     "SMTP sessions open now, per profile.", "sessions_open", "profile", NULL},
    {"smtp_mimic_sessions_total", "counter",
     "SMTP sessions since start, per profile.", "sessions_total", "profile",
     NULL},
    {"smtp_mimic_messages_accepted_total", "counter",
     "Messages accepted (250 after DATA), per profile.", "messages", "profile",
     NULL},
    {"smtp_mimic_rule_firings_total", "counter",
     "Rule firings, per profile and rule.", "rules", "profile", "rule"},
    {"smtp_mimic_tls_handshakes_total", "counter",
     "Completed TLS handshakes, per version and suite.", "tls", "version",
     "suite"},
    {"smtp_mimic_closes_total", "counter",
     "Closed sessions, per way the server closed (fin, rst, drop).", "closes",
     "how", NULL},
    {"smtp_mimic_bytes_received_total", "counter",
     "Bytes read from SMTP clients (closed sessions).", "bytes_in", NULL, NULL},
    {"smtp_mimic_bytes_sent_total", "counter",
     "Bytes written to SMTP clients (closed sessions).", "bytes_out", NULL,
     NULL},
    {"smtp_mimic_transcript_lines_total", "counter",
     "Transcript events seen by the HTTP API.", "lines", NULL, NULL},
    {"smtp_mimic_events_dropped_total", "counter",
     "Transcript lines the live stream dropped (buffer full).",
     "stream_dropped", NULL, NULL},
    {"smtp_mimic_events_subscribers_dropped_total", "counter",
     "Live stream subscribers dropped as too slow.", "subscribers_dropped",
     NULL, NULL},
};

/* metrics_format - the exposition text of totals */
void
metrics_format(const json_t *t, struct evbuffer *out)
{
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		const struct family_row *f = &families[i];

		family(out, f->name, f->type, f->help);
		if (f->label == NULL)
			plain(out, f->name, t, f->key);
		else if (f->label2 == NULL)
			by_one(out, f->name, f->label,
			       json_object_get(t, f->key));
		else
			by_two(out, f->name, f->label, f->label2,
			       json_object_get(t, f->key));
	}
}

static void
count_set(json_t *obj, const char *key, uint64_t v)
{
	json_object_set_new(obj, key, json_integer((json_int_t)v));
}

static json_t *
inner(json_t *obj, const char *key)
{
	json_t *o = json_object_get(obj, key);

	if (o == NULL)
		json_object_set_new(obj, key, o = json_object());
	return o;
}

/* One stats row into the totals shape metrics_format reads. */
static void
stats_row_cb(const struct stats_row *r, void *arg)
{
	json_t *t = arg;
	const char *p = r->profile != NULL ? r->profile : "";
	const char *n = r->name != NULL ? r->name : "";

	switch (r->kind) {
	case STATS_SESSIONS_TOTAL:
		count_set(inner(t, "sessions_total"), p, r->value);
		break;
	case STATS_SESSIONS_OPEN:
		count_set(inner(t, "sessions_open"), p, r->value);
		break;
	case STATS_MESSAGES:
		count_set(inner(t, "messages"), p, r->value);
		break;
	case STATS_RULE:
		count_set(inner(inner(t, "rules"), p), n, r->value);
		break;
	case STATS_TLS:
		count_set(inner(inner(t, "tls"), n),
		          r->suite != NULL ? r->suite : "", r->value);
		break;
	case STATS_CLOSE:
		count_set(inner(t, "closes"), n, r->value);
		break;
	case STATS_BYTES_IN:
		count_set(t, "bytes_in", r->value);
		break;
	case STATS_BYTES_OUT:
		count_set(t, "bytes_out", r->value);
		break;
	}
}

/* The counts: the stats' when the command line keeps them (the same
 * numbers --summary writes), else the hub's own. */
static json_t *
totals(struct http_api *api)
{
	json_t *t = hub_totals(api->hub), *s;
	static const char *const keys[] = {
	    "sessions_total", "sessions_open", "messages",
	    "rules",          "tls",           "closes"};

	if (t == NULL || api->stats == NULL)
		return t;
	if ((s = json_object()) == NULL) {
		json_decref(t);
		return NULL;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		json_object_set_new(s, keys[i], json_object());
	stats_each(api->stats, stats_row_cb, s);
	json_object_update(t, s);
	json_decref(s);
	return t;
}

static void
metrics_get(struct http_api *api, struct evhttp_request *req, const char *rest)
{
	json_t *t = totals(api);
	struct evbuffer *b = evbuffer_new();

	if (t == NULL || b == NULL) {
		json_decref(t);
		if (b != NULL)
			evbuffer_free(b);
		http_error(req, 503, "out of memory");
		return;
	}
	json_object_set_new(t, "subscribers_dropped",
	                    json_integer((json_int_t)api->sse_dropped));
	metrics_format(t, b);
	json_decref(t);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	                  "Content-Type",
	                  "text/plain; version=0.0.4; charset=utf-8");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	                  "Cache-Control", "no-store");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void
healthz_get(struct http_api *api, struct evhttp_request *req, const char *rest)
{
	http_reply_text(req, 200, "text/plain; charset=utf-8", "ok\n", 3);
}

/* metrics_routes - /metrics and /healthz */
void
metrics_routes(struct http_api *api)
{
	http_route(api, "GET", "/metrics", metrics_get, true);
	http_route(api, "GET", "/healthz", healthz_get, true);
}
