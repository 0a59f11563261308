/*
 * rules_load.c - a server profile's "rules:": each rule's when (one
 * hook and its conditions) and do (its actions), overlaid by name on
 * inherited rules and checked against each other.
 *
 * Does not: match rules against a session (rules.c).
 */
#include "profile_int.h"
#include "template.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* tls_client_hello: what the ClientHello offers. */
static int
load_when_hello(struct layer *l, struct rule_when *w, const yaml_node_t *v,
                const char *where)
{
	static const struct {
		const char *key;
		size_t off, noff;
	} lists[] = {
	    {"offers_any", offsetof(struct rule_when, offers_any),
	     offsetof(struct rule_when, noffers_any)},
	    {"offers_all", offsetof(struct rule_when, offers_all),
	     offsetof(struct rule_when, noffers_all)},
	    {"offers_none", offsetof(struct rule_when, offers_none),
	     offsetof(struct rule_when, noffers_none)},
	};
	char what[200];
	yaml_node_t *x;
	unsigned u;

	for (size_t i = 0; i < nitems(lists); i++) {
		snprintf(what, sizeof(what), "%s.%s", where, lists[i].key);
		if ((x = map_get(l, v, lists[i].key)) != NULL &&
		    get_suite_ids(
		        l, x, what,
		        (uint16_t **)(void *)((char *)w + lists[i].off),
		        (size_t *)(void *)((char *)w + lists[i].noff)) < 0)
			return -1;
	}
	snprintf(what, sizeof(what), "%s.versions_any", where);
	if ((x = map_get(l, v, "versions_any")) != NULL &&
	    get_versions(l, x, what, &w->versions_any) < 0)
		return -1;
	snprintf(what, sizeof(what), "%s.sni", where);
	if ((x = map_get(l, v, "sni")) != NULL &&
	    get_regex(l, x, what, &w->sni_pattern, &w->sni_re) < 0)
		return -1;
	snprintf(what, sizeof(what), "%s.extension", where);
	if ((x = map_get(l, v, "extension")) != NULL) {
		if (want_scalar(l, x, what, "an extension type") < 0)
			return -1;
		if (get_count(l, x, what, &u) < 0 || u > 65535)
			return err_node(
			    l, x,
			    "bad extension type \"%s\" for \"%s\" "
			    "(use a number from 0 to 65535, e.g. 13 "
			    "for signature_algorithms)",
			    sval(x), what);
		w->extension = (int)u;
	}
	return 0;
}

static int
load_when_hook(struct layer *l, struct rule_when *w, const char *hook,
               const yaml_node_t *v, const char *rname)
{
	static const char *const keys[HOOK_COUNT][6] = {
	    [HOOK_CONNECT] = {"client"},
	    [HOOK_COMMAND] = {"verb", "nth", "arg"},
	    [HOOK_HEADER] = {"name", "duplicate"},
	    [HOOK_DATA] = {"size_over"},
	    [HOOK_TLS_CLIENT_HELLO] = {"offers_any", "offers_all",
	                               "offers_none", "versions_any", "sni",
	                               "extension"},
	    [HOOK_TLS_HANDSHAKE_DONE] = {"version", "suite"},
	    [HOOK_TLS_FAILED] = {"reason"},
	};
	char where[160], what[200];
	yaml_node_t *x;
	uint16_t id;
	int h = 0;

	while (strcmp(hook_names[h], hook) != 0)
		h++; /* check_map() let only hook names through */
	w->hook = (enum hook)h;
	snprintf(where, sizeof(where), "rules.%s.when.%s", rname, hook);
	if (want_map(l, v, where, true) < 0)
		return -1;
	if (is_null(v))
		return 0;
	if (check_map(l, v, where, keys[h], nitems(keys[h])) < 0)
		return -1;
	switch (w->hook) {
	case HOOK_CONNECT:
		snprintf(what, sizeof(what), "%s.client", where);
		if ((x = map_get(l, v, "client")) != NULL &&
		    get_regex(l, x, what, &w->client_pattern, &w->client_re) <
		        0)
			return -1;
		break;
	case HOOK_COMMAND:
		if ((x = map_get(l, v, "verb")) != NULL) {
			snprintf(what, sizeof(what), "%s.verb", where);
			if (want_scalar(l, x, what, "a verb") < 0)
				return -1;
			for (const char *s = sval(x); *s; s++)
				if (!isgraph((unsigned char)*s))
					return err_node(
					    l, x,
					    "bad verb \"%s\" for \"%s\" (a "
					    "verb is one word, e.g. RCPT)",
					    sval(x), what);
			if (sval(x)[0] == '\0')
				return err_node(
				    l, x,
				    "empty verb for \"%s\" (leave \"verb\" "
				    "out to match any command)",
				    what);
			free(w->verb_name);
			w->verb_name = xstrdup(sval(x));
			for (char *s = w->verb_name; *s; s++)
				*s = (char)toupper((unsigned char)*s);
			w->verb =
			    verb_from_str(w->verb_name, strlen(w->verb_name));
		}
		snprintf(what, sizeof(what), "%s.nth", where);
		if ((x = map_get(l, v, "nth")) != NULL &&
		    get_count(l, x, what, &w->nth) < 0)
			return -1;
		snprintf(what, sizeof(what), "%s.arg", where);
		if ((x = map_get(l, v, "arg")) != NULL &&
		    get_regex(l, x, what, &w->arg_pattern, &w->arg_re) < 0)
			return -1;
		break;
	case HOOK_HEADER:
		if ((x = map_get(l, v, "name")) != NULL) {
			snprintf(what, sizeof(what), "%s.name", where);
			if (want_scalar(l, x, what, "a header name") < 0)
				return -1;
			for (const char *s = sval(x); *s; s++)
				if (!isgraph((unsigned char)*s) || *s == ':')
					return err_node(
					    l, x,
					    "bad header name \"%s\" for "
					    "\"%s\" (write the name without "
					    "the colon, e.g. DKIM-Signature)",
					    sval(x), what);
			free(w->header_name);
			w->header_name = xstrdup(sval(x));
		}
		snprintf(what, sizeof(what), "%s.duplicate", where);
		if ((x = map_get(l, v, "duplicate")) != NULL &&
		    get_bool(l, x, what, &w->header_duplicate) < 0)
			return -1;
		break;
	case HOOK_DATA:
		snprintf(what, sizeof(what), "%s.size_over", where);
		if ((x = map_get(l, v, "size_over")) != NULL &&
		    get_bytes(l, x, what, UINT64_MAX, &w->size_over) < 0)
			return -1;
		break;
	case HOOK_TLS_CLIENT_HELLO:
		return load_when_hello(l, w, v, where);
	case HOOK_TLS_HANDSHAKE_DONE:
		snprintf(what, sizeof(what), "%s.version", where);
		if ((x = map_get(l, v, "version")) != NULL &&
		    get_version(l, x, what, &w->version) < 0)
			return -1;
		snprintf(what, sizeof(what), "%s.suite", where);
		if ((x = map_get(l, v, "suite")) != NULL) {
			if (get_suite_id(l, x, what, &id) < 0)
				return -1;
			w->suite = id;
		}
		break;
	case HOOK_TLS_FAILED:
		snprintf(what, sizeof(what), "%s.reason", where);
		if ((x = map_get(l, v, "reason")) != NULL &&
		    get_regex(l, x, what, &w->reason_pattern, &w->reason_re) <
		        0)
			return -1;
		break;
	case HOOK_COUNT:
		break;
	}
	return 0;
}

static int
load_when(struct layer *l, struct rule *r, const yaml_node_t *n)
{
	char where[160];
	yaml_node_pair_t *b;

	snprintf(where, sizeof(where), "rules.%s.when", r->name);
	if (want_map(l, n, where, false) < 0 ||
	    check_map(l, n, where, hook_names, HOOK_COUNT) < 0)
		return -1;
	b = n->data.mapping.pairs.start;
	if (n->data.mapping.pairs.top == b)
		return err_node(
		    l, n,
		    "\"%s\" is empty (give exactly one hook: connect, "
		    "command, header, data, tls_client_hello, "
		    "tls_handshake_done or tls_failed)",
		    where);
	if (n->data.mapping.pairs.top - b > 1)
		return err_node(
		    l, node(l, b[1].key),
		    "\"%s\" has two hooks, \"%s\" and \"%s\" (a rule has "
		    "exactly one hook; split it into two rules)",
		    where, sval(node(l, b[0].key)), sval(node(l, b[1].key)));
	when_free(&r->when);
	return load_when_hook(l, &r->when, sval(node(l, b->key)),
	                      node(l, b->value), r->name);
}

static int
load_do(struct layer *l, struct rule *r, const yaml_node_t *n)
{
	static const char *const keys[] = {"delay", "reply", "close",
	                                   "hang",  "alert", "at"};
	char where[160], what[200];
	struct rule_do *d = &r->act;
	yaml_node_t *x;
	int at;

	snprintf(where, sizeof(where), "rules.%s.do", r->name);
	if (want_map(l, n, where, false) < 0 ||
	    check_map(l, n, where, keys, nitems(keys)) < 0)
		return -1;
	if (n->data.mapping.pairs.top == n->data.mapping.pairs.start)
		return err_node(
		    l, n,
		    "\"%s\" is empty (give at least one of delay, reply, "
		    "close, hang, alert)",
		    where);
	if (n->data.mapping.pairs.top - n->data.mapping.pairs.start == 1 &&
	    map_get(l, n, "at") != NULL)
		return err_node(
		    l, n,
		    "\"%s\" has only \"at\", which says when, not what (give "
		    "at least one of delay, reply, close, hang, alert)",
		    where);
	do_free(d);
	snprintf(what, sizeof(what), "%s.delay", where);
	if ((x = map_get(l, n, "delay")) != NULL &&
	    get_duration(l, x, what, &d->delay_ms) < 0)
		return -1;
	snprintf(what, sizeof(what), "%s.reply", where);
	if ((x = map_get(l, n, "reply")) != NULL) {
		if (get_reply(l, x, what, &d->reply) < 0)
			return -1;
		d->has_reply = true;
	}
	snprintf(what, sizeof(what), "%s.close", where);
	if ((x = map_get(l, n, "close")) != NULL &&
	    get_close(l, x, what, &d->close) < 0)
		return -1;
	snprintf(what, sizeof(what), "%s.hang", where);
	if ((x = map_get(l, n, "hang")) != NULL &&
	    get_bool(l, x, what, &d->hang) < 0)
		return -1;
	snprintf(what, sizeof(what), "%s.alert", where);
	if ((x = map_get(l, n, "alert")) != NULL &&
	    get_alert(l, x, what, &d->alert) < 0)
		return -1;
	snprintf(what, sizeof(what), "%s.at", where);
	if ((x = map_get(l, n, "at")) != NULL) {
		/* "now" is the default, not something to write */
		if (get_choice(l, x, what, at_names + 1, nitems(at_names) - 1,
		               &at) < 0)
			return -1;
		d->at = (enum tls_at)(at + 1);
	}
	return 0;
}

/* The key node of key in map, or NULL. */
static yaml_node_t *
map_key(struct layer *l, const yaml_node_t *map, const char *key)
{
	for (yaml_node_pair_t *pp = map->data.mapping.pairs.start;
	     pp < map->data.mapping.pairs.top; pp++) {
		yaml_node_t *k = node(l, pp->key);

		if (k->type == YAML_SCALAR_NODE && strcmp(sval(k), key) == 0)
			return k;
	}
	return NULL;
}

/*
 * Check "when" against "do", once both are in place (either may come
 * from a parent). n is the rule's mapping in this file: the error points
 * at the offending "do" key when this file gave "do", else at the hook.
 */
static int
check_rule(struct layer *l, const struct rule *r, const yaml_node_t *n)
{
	const struct rule_do *d = &r->act;
	enum hook h = r->when.hook;
	const yaml_node_t *dn = map_get(l, n, "do"),
	                  *wn = map_get(l, n, "when");
	const yaml_node_t *at_node, *alert_node, *reply_node;
	enum tls_at point;
	char name[64];

	if (dn == NULL && wn == NULL)
		return 0; /* both inherited, and checked there */
	if (dn != NULL) {
		at_node = map_key(l, dn, "at");
		alert_node = map_key(l, dn, "alert");
		reply_node = map_key(l, dn, "reply");
	} else {
		at_node = alert_node = reply_node =
		    node(l, wn->data.mapping.pairs.start->key);
	}
	if (!hook_is_tls(h)) {
		if (d->alert >= 0 || d->at != TLS_AT_NOW)
			return err_node(
			    l, d->alert >= 0 ? alert_node : at_node,
			    "\"rules.%s.do.%s\" needs a TLS hook, but the "
			    "rule's hook is \"%s\" (use tls_client_hello, "
			    "tls_handshake_done or tls_failed, or a \"do\" "
			    "without \"%s\")",
			    r->name, d->alert >= 0 ? "alert" : "at",
			    hook_str(h), d->alert >= 0 ? "alert" : "at");
		return 0;
	}
	if (d->has_reply)
		return err_node(
		    l, reply_node,
		    "\"rules.%s.do.reply\" is not allowed with the \"%s\" hook "
		    "(the client is not talking SMTP at that point; use "
		    "alert, close, hang or delay)",
		    r->name, hook_str(h));
	if (d->at == TLS_AT_CLIENT_HELLO && h != HOOK_TLS_CLIENT_HELLO)
		return err_node(
		    l, at_node,
		    "\"rules.%s.do.at\" is client_hello, but the rule's hook "
		    "is \"%s\", which comes after it (use at: client_hello "
		    "only with tls_client_hello)",
		    r->name, hook_str(h));
	if (d->at == TLS_AT_HANDSHAKE_DONE && h == HOOK_TLS_FAILED)
		return err_node(
		    l, at_node,
		    "\"rules.%s.do.at\" is handshake_done, but the rule's hook "
		    "is \"tls_failed\": that handshake never completes (leave "
		    "\"at\" out)",
		    r->name);
	point = d->at != TLS_AT_NOW            ? d->at
	        : h == HOOK_TLS_HANDSHAKE_DONE ? TLS_AT_HANDSHAKE_DONE
	                                       : TLS_AT_NOW;
	if (point == TLS_AT_HANDSHAKE_DONE && d->alert >= 0 &&
	    d->alert != TLS_ALERT_CLOSE_NOTIFY) {
		const char *an = alert_name(d->alert, name, sizeof(name));

		if (an == NULL)
			snprintf(name, sizeof(name), "%d", d->alert);
		return err_node(
		    l, alert_node,
		    "\"rules.%s.do.alert\" is %s at handshake_done, but after "
		    "the handshake only close_notify can be sent (OpenSSL has "
		    "no public API to send another alert then; use "
		    "close_notify, or close: fin or rst)",
		    r->name, name);
	}
	return 0;
}

static int
load_rule(struct layer *l, const yaml_node_t *seq, size_t idx)
{
	static const char *const keys[] = {
	    "name", "why", "enabled", "probability", "times", "when", "do"};
	yaml_node_t *n = node(l, seq->data.sequence.items.start[idx]);
	yaml_node_t *nm, *x;
	struct profile *p = l->p;
	struct rule *r = NULL;
	char what[200];

	if (n->type != YAML_MAPPING_NODE)
		return err_node(
		    l, n,
		    "rule %zu is %s (each rule is a mapping with name, when "
		    "and do)",
		    idx + 1, kind(n));
	if (check_map(l, n, "rules", keys, nitems(keys)) < 0)
		return -1;
	if ((nm = map_get(l, n, "name")) == NULL)
		return err_node(
		    l, n,
		    "rule %zu has no \"name\" (give every rule a unique "
		    "name)",
		    idx + 1);
	if (want_line(l, nm, "rules.name", "keep it on one line") < 0)
		return -1;
	if (sval(nm)[0] == '\0')
		return err_node(l, nm, "empty rule name (name the rule)");
	for (size_t i = 0; i < idx; i++) {
		yaml_node_t *o = node(l, seq->data.sequence.items.start[i]);
		yaml_node_t *on = map_get(l, o, "name");

		if (on != NULL && strcmp(sval(on), sval(nm)) == 0)
			return err_node(
			    l, nm,
			    "duplicate rule name \"%s\" (first at line %zu; "
			    "rule names must be unique)",
			    sval(nm), on->start_mark.line + 1);
	}
	/* A name from a parent: overlay that rule in place. */
	for (size_t i = 0; i < l->rules_before; i++)
		if (strcmp(p->rules[i].name, sval(nm)) == 0)
			r = &p->rules[i];
	if (r == NULL) {
		if (map_get(l, n, "when") == NULL)
			return err_node(
			    l, n,
			    "rule \"%s\" has no \"when\" (say when it fires: "
			    "connect, command, header, data, tls_client_hello, "
			    "tls_handshake_done or tls_failed)",
			    sval(nm));
		if (map_get(l, n, "do") == NULL)
			return err_node(
			    l, n,
			    "rule \"%s\" has no \"do\" (say what it does: "
			    "delay, reply, close, hang or alert)",
			    sval(nm));
		p->rules =
		    xreallocarray(p->rules, p->nrules + 1, sizeof(*p->rules));
		r = &p->rules[p->nrules++];
		memset(r, 0, sizeof(*r));
		atomic_init(&r->fired, 0);
		r->name = xstrdup(sval(nm));
		r->enabled = true;
		r->probability = 1.0;
		when_init(&r->when);
		do_init(&r->act);
	}
	r->line = (int)n->start_mark.line + 1;
	snprintf(what, sizeof(what), "rules.%s.why", r->name);
	if ((x = map_get(l, n, "why")) != NULL &&
	    get_line(l, x, what, &r->why) < 0)
		return -1;
	snprintf(what, sizeof(what), "rules.%s.enabled", r->name);
	if ((x = map_get(l, n, "enabled")) != NULL &&
	    get_bool(l, x, what, &r->enabled) < 0)
		return -1;
	snprintf(what, sizeof(what), "rules.%s.probability", r->name);
	if ((x = map_get(l, n, "probability")) != NULL &&
	    load_probability(l, x, what, &r->probability) < 0)
		return -1;
	snprintf(what, sizeof(what), "rules.%s.times", r->name);
	if ((x = map_get(l, n, "times")) != NULL &&
	    get_count(l, x, what, &r->times) < 0)
		return -1;
	if ((x = map_get(l, n, "when")) != NULL && load_when(l, r, x) < 0)
		return -1;
	if ((x = map_get(l, n, "do")) != NULL && load_do(l, r, x) < 0)
		return -1;
	return check_rule(l, r, n);
}

int
load_rules(struct layer *l, const yaml_node_t *n)
{
	size_t cnt;

	if (is_null(n))
		return 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return wrong_type(l, n, "rules", "a list of rules");
	l->rules_before = l->p->nrules;
	cnt =
	    (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	for (size_t i = 0; i < cnt; i++)
		if (load_rule(l, n, i) < 0)
			return -1;
	return 0;
}
