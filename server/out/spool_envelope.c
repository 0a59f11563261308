/*
 * spool_envelope.c - what the server knew about an accepted message, as
 * the JSON object of spool/envelope/NAME.json: ids, client and server,
 * HELO, MAIL FROM with every MAIL parameter as received ("mail_params"),
 * the recipients (as "rcpt_to", the plain list older readers know, and as
 * "rcpts" objects with each one's NOTIFY and ORCPT), body type, AUTH, TLS,
 * size and the MAIL line. Strings that are not UTF-8 are kept escaped.
 *
 * Does not: write files (spool.c), or decide anything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "spool.h"
#include "transcript.h"

/*
 * A JSON string, or null for NULL. Bytes that are not UTF-8 (8-bit junk
 * in MAIL FROM without SMTPUTF8, say) must not cost the message: they
 * are recorded escaped, as the transcript shows them.
 */
static json_t *
jstr(const char *s)
{
	json_t *j;
	char *esc;
	size_t len;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	len = strlen(s);
	if ((esc = malloc(4 * len + 1)) == NULL)
		return NULL;
	j = json_string(transcript_escape(s, len, esc, 4 * len + 1));
	free(esc);
	return j;
}

/* Set key to a new value; a NULL value (out of memory) fails. */
static int
jset(json_t *o, const char *key, json_t *v)
{
	return v != NULL ? json_object_set_new(o, key, v) : -1;
}

static json_t *
jaddr(const char *ip, unsigned port)
{
	json_t *o = json_object();

	if (o != NULL && (jset(o, "ip", jstr(ip)) != 0 ||
	                  jset(o, "port", json_integer(port)) != 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* "" or NULL: null; else the string */
static json_t *
jopt(const char *s)
{
	return s == NULL || s[0] == '\0' ? json_null() : jstr(s);
}

/* {"SIZE": "1234", "SMTPUTF8": null, ...}: every MAIL parameter */
static json_t *
mail_params_json(const struct envelope *env)
{
	json_t *o = json_object();
	char *v;

	for (size_t i = 0; o != NULL && i < env->nmail_params; i++) {
		const struct envelope_param *p = &env->mail_params[i];
		json_t *j = json_null();

		if (p->value != NULL) {
			if ((v = strndup(p->value, p->value_len)) == NULL) {
				json_decref(o);
				return NULL;
			}
			j = jstr(v);
			free(v);
		}
		if (jset(o, p->key, j) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* [{"addr", "notify", "orcpt"}, ...]: each RCPT with its DSN values */
static json_t *
rcpts_json(const struct envelope *env)
{
	json_t *a = json_array(), *r;

	for (size_t i = 0; a != NULL && i < env->nrcpts; i++) {
		if ((r = json_object()) == NULL ||
		    jset(r, "addr", jstr(env->rcpts[i])) != 0 ||
		    jset(r, "notify",
		         jopt(env->rcpt_notify ? env->rcpt_notify[i] : NULL)) !=
		        0 ||
		    jset(r, "orcpt",
		         jopt(env->rcpt_orcpt ? env->rcpt_orcpt[i] : NULL)) !=
		        0) {
			json_decref(r);
			json_decref(a);
			return NULL;
		}
		if (json_array_append_new(a, r) != 0) { /* r is gone too */
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* spool_envelope_json - the envelope/NAME.json object */
json_t *
spool_envelope_json(const char *name, const struct envelope *env)
{
	struct timespec ts;
	struct tm tm;
	char when[64];
	json_t *o, *rcpts, *tls, *params, *dsn;
	size_t i, len;
	int bad = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	len = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + len, sizeof(when) - len, ".%03dZ",
	         (int)(ts.tv_nsec / 1000000));

	if ((rcpts = json_array()) != NULL)
		for (i = 0; i < env->nrcpts; i++)
			bad |=
			    json_array_append_new(rcpts, jstr(env->rcpts[i]));
	params = mail_params_json(env);
	dsn = rcpts_json(env);
	tls = json_null();
	if (env->tls_version != NULL && (tls = json_object()) != NULL) {
		bad |= jset(tls, "version", jstr(env->tls_version));
		bad |= jset(tls, "cipher", jstr(env->tls_cipher));
	}

	/* One statement per key: PRESERVE_ORDER keeps this order. */
	if ((o = json_object()) == NULL) {
		json_decref(rcpts);
		json_decref(tls);
		json_decref(params);
		json_decref(dsn);
		return NULL;
	}
	bad |= jset(o, "queue_id", jstr(env->queue_id));
	bad |= jset(o, "file", jstr(name));
	bad |= jset(o, "profile", jstr(env->profile));
	bad |= jset(o, "session", json_integer((json_int_t)env->session));
	bad |= jset(o, "received", json_string(when));
	bad |= jset(o, "client", jaddr(env->client_ip, env->client_port));
	bad |= jset(o, "server", jaddr(env->server_ip, env->server_port));
	bad |= jset(o, "helo", jstr(env->helo));
	bad |= jset(o, "mail_from", jstr(env->mail_from));
	bad |= jset(o, "mail_params", json_incref(params));
	bad |= jset(o, "rcpt_to", json_incref(rcpts));
	bad |= jset(o, "rcpts", json_incref(dsn));
	bad |= jset(o, "body", jstr(env->body));
	bad |= jset(o, "smtputf8", json_boolean(env->smtputf8));
	bad |= jset(o, "auth_user", jstr(env->auth_user));
	bad |= jset(o, "tls", json_incref(tls));
	bad |= jset(o, "size", json_integer((json_int_t)env->size));
	bad |= jset(o, "mail_line", jstr(env->mail_line));
	json_decref(rcpts);
	json_decref(tls);
	json_decref(params);
	json_decref(dsn);
	if (bad != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}
