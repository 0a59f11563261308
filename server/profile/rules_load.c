/*
 * rules_load.c - a server profile's "rules:": each rule's when (one
 * hook and its conditions) and do (its actions), overlaid by name on
 * inherited rules and checked against each other.
 *
 * Does not: match rules against a session (rules.c).
 */
#include "schema.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/*
 * load_when_verb - when.command.verb: any word, upper-cased; an engine verb
 * or not
 */
int
load_when_verb(struct layer *l, const struct schema_row *r,
               const yaml_node_t *x, const char *what, void *base)
{
	struct rule_when *w = base;

	if (want_scalar(l, x, what, "a verb") < 0)
		return -1;
	for (const char *s = sval(x); *s; s++)
		if (!isgraph((unsigned char)*s))
			return err_node(l, x,
			                "bad verb \"%s\" for \"%s\" (a verb is "
			                "one word, e.g. RCPT)",
			                sval(x), what);
	if (sval(x)[0] == '\0')
		return err_node(l, x,
		                "empty verb for \"%s\" (leave \"verb\" out to "
		                "match any command)",
		                what);
	free(w->verb_name);
	w->verb_name = xstrdup_upper(sval(x));
	w->verb = verb_from_str(w->verb_name, strlen(w->verb_name));
	return 0;
}

/* load_when_header - when.header.name: a header name without the colon */
int
load_when_header(struct layer *l, const struct schema_row *r,
                 const yaml_node_t *x, const char *what, void *base)
{
	struct rule_when *w = base;

	if (want_scalar(l, x, what, "a header name") < 0)
		return -1;
	for (const char *s = sval(x); *s; s++)
		if (!isgraph((unsigned char)*s) || *s == ':')
			return err_node(
			    l, x,
			    "bad header name \"%s\" for \"%s\" (write the name "
			    "without the colon, e.g. DKIM-Signature)",
			    sval(x), what);
	free(w->header_name);
	w->header_name = xstrdup(sval(x));
	return 0;
}

/*
 * load_when_extension - when.tls_client_hello.extension: an extension type
 * 0..65535
 */
int
load_when_extension(struct layer *l, const struct schema_row *r,
                    const yaml_node_t *x, const char *what, void *base)
{
	struct rule_when *w = base;
	unsigned u;

	if (want_scalar(l, x, what, "an extension type") < 0)
		return -1;
	if (get_count(l, x, what, &u) < 0 || u > 65535)
		return err_node(l, x,
		                "bad extension type \"%s\" for \"%s\" (use a "
		                "number from 0 to 65535, e.g. 13 for "
		                "signature_algorithms)",
		                sval(x), what);
	w->extension = (int)u;
	return 0;
}

/* load_when_suite - when.tls_handshake_done.suite: one suite, as its id */
int
load_when_suite(struct layer *l, const struct schema_row *r,
                const yaml_node_t *x, const char *what, void *base)
{
	struct rule_when *w = base;
	uint16_t id;

	if (get_suite_id(l, x, what, &id) < 0)
		return -1;
	w->suite = id;
	return 0;
}

/* load_rule_when - when: exactly one hook, its keys by schema_hooks[] */
int
load_rule_when(struct layer *l, const struct schema_row *row,
               const yaml_node_t *n, const char *where, void *base)
{
	struct rule *r = base;
	yaml_node_pair_t *b;
	const char *hook;
	char what[200];
	int h = 0;

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
	hook = sval(node(l, b->key));
	while (strcmp(hook_names[h], hook) != 0)
		h++; /* check_map() let only hook names through */
	r->when.hook = (enum hook)h;
	snprintf(what, sizeof(what), "%s.%s", where, hook);
	return schema_walk(l, &schema_hooks[h], node(l, b->value), what, 0,
	                   &r->when);
}

/* load_do_reply - do.reply: a reply, and the flag that there is one */
int
load_do_reply(struct layer *l, const struct schema_row *r, const yaml_node_t *x,
              const char *what, void *base)
{
	struct rule_do *d = base;

	if (schema_load_value(l, r, x, what, base) < 0)
		return -1;
	d->has_reply = true;
	return 0;
}

/* load_do_at - do.at: client_hello or handshake_done ("now" is the default) */
int
load_do_at(struct layer *l, const struct schema_row *r, const yaml_node_t *x,
           const char *what, void *base)
{
	struct rule_do *d = base;
	int at;

	if (get_choice(l, x, what, at_names + 1, nitems(at_names) - 1, &at) < 0)
		return -1;
	d->at = (enum tls_at)(at + 1);
	return 0;
}

/* The names of enum rule_key_part's bits, in bit order. */
static const char *const key_part_names[] = {
    "client", "client_net", "helo", "sender", "recipient", "args",
};

/* load_do_key - do.key: a non-empty list of key part names */
int
load_do_key(struct layer *l, const struct schema_row *r, const yaml_node_t *x,
            const char *what, void *base)
{
	struct rule_do *d = base;
	unsigned bits = 0;

	if (x->type != YAML_SEQUENCE_NODE ||
	    x->data.sequence.items.top == x->data.sequence.items.start)
		return err_node(l, x,
		                "\"%s\" must be a list of client, client_net, "
		                "helo, sender, recipient, args",
		                what);
	for (yaml_node_item_t *it = x->data.sequence.items.start;
	     it < x->data.sequence.items.top; it++) {
		int c;

		if (get_choice(l, node(l, *it), what, key_part_names,
		               nitems(key_part_names), &c) < 0)
			return -1;
		bits |= 1u << c;
	}
	d->key = bits;
	return 0;
}

/* init_do_key - postgrey's triplet */
void
init_do_key(const struct schema_row *r, void *base)
{
	((struct rule_do *)base)->key =
	    KEY_CLIENT_NET | KEY_SENDER | KEY_RECIPIENT;
}

/* load_rule_do - do: at least one action, its keys by schema_do */
int
load_rule_do(struct layer *l, const struct schema_row *row,
             const yaml_node_t *n, const char *where, void *base)
{
	struct rule *r = base;

	if (want_map(l, n, where, false) < 0 ||
	    schema_check_keys(l, &schema_do, n, where, 0) < 0)
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
	do_free(&r->act);
	return schema_walk(l, &schema_do, n, where, 0, &r->act);
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

/*
 * load_rule - item idx of a rules: list (seq NULL: n alone, as rule 1 of
 * a list of one): a new rule, or one overlaid on an inherited rule of the
 * same name
 */
int
load_rule(struct layer *l, const yaml_node_t *seq, yaml_node_t *n, size_t idx)
{
	yaml_node_t *nm;
	struct profile *p = l->p;
	struct rule *r = NULL;
	char what[200];

	if (n->type != YAML_MAPPING_NODE)
		return err_node(
		    l, n,
		    "rule %zu is %s (each rule is a mapping with name, when "
		    "and do)",
		    idx + 1, kind(n));
	if (schema_check_keys(l, &schema_rule, n, "rules", 0) < 0)
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
	for (size_t i = 0; seq != NULL && i < idx; i++) {
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
		schema_defaults(&schema_rule, 0, r);
		when_init(&r->when);
		do_init(&r->act);
	}
	r->line = (int)n->start_mark.line + 1;
	snprintf(what, sizeof(what), "rules.%s", r->name);
	if (schema_walk(l, &schema_rule, n, what, 0, r) < 0)
		return -1;
	return check_rule(l, r, n);
}

/*
 * load_rules - rules: a list of rules, merged by name into the inherited
 * ones
 */
int
load_rules(struct layer *l, const struct schema_row *row, const yaml_node_t *n,
           const char *what, void *base)
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
		if (load_rule(l, n, node(l, n->data.sequence.items.start[i]),
		              i) < 0)
			return -1;
	return 0;
}

/* free_rule_when - a rule's when: what any hook's rows own */
void
free_rule_when(const struct schema_row *r, void *base)
{
	when_free(&((struct rule *)base)->when);
}

/* free_rule_do - a rule's do */
void
free_rule_do(const struct schema_row *r, void *base)
{
	do_free(&((struct rule *)base)->act);
}

/* free_rules - every rule */
void
free_rules(const struct schema_row *r, void *base)
{
	struct profile *p = base;

	for (size_t i = 0; i < p->nrules; i++) {
		free(p->rules[i].name);
		schema_free(&schema_rule, 0, &p->rules[i]);
	}
	free(p->rules);
	p->rules = NULL;
	p->nrules = 0;
}
