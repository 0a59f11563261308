/*
 * compose.c - rules added to a loaded profile from outside its files: one
 * rule read from text (profile_rule_text), and a composite profile that is
 * a base profile with such rules in front of its own (profile_compose).
 *
 * A rule from text goes through the same code as an item of a file's
 * "rules:" list (load_rule), so it is checked the same way and its errors
 * read the same, with the text's label for the file name. A composite is
 * a shallow copy of the base: the same replies, limits, TLS context and
 * middleboxes, with its own array of rules (copies of the holders' rules,
 * then of the base's). The copies share the originals' strings, patterns
 * and "times" counters (rule.fired_in), so the rules engine treats a
 * composite like any profile and a cap is not reset by a new composite.
 *
 * Does not: decide which rules are in force or for how long (the daemon's
 * control.c does), or match rules (rules.c).
 */
#include "schema.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* profile_rule_text - one rule in profile syntax, as a rule holder */
struct profile *
profile_rule_text(const char *label, const char *text, size_t len, char *err,
                  size_t errlen)
{
	char dummy[1];
	struct loader ld = {.kind = KIND_SERVER};
	struct layer l;
	yaml_node_t *root;
	int rc = -1;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	ld.err = err;
	ld.errlen = errlen;
	ld.pi = profile_new();
	l = (struct layer){
	    .ld = &ld,
	    .p = &ld.pi->pub,
	    .path = label,
	    .mem = text != NULL ? text : "",
	    .memlen = text != NULL ? len : 0,
	    .kind = KIND_SERVER,
	};
	if (layer_read(&l) == 0) {
		root = yaml_document_get_root_node(&l.doc);
		if (root == NULL)
			err_at(
			    &l, 0, 0,
			    "empty rule (a rule is a mapping with name, when "
			    "and do, as an item of a profile's \"rules:\")");
		else
			rc = load_rule(&l, NULL, root, 0);
	}
	if (l.have_doc)
		yaml_document_delete(&l.doc);
	free(l.src);
	if (rc < 0) {
		profile_free(ld.pi);
		return NULL;
	}
	ld.pi->pub.name = xstrdup(ld.pi->pub.rules[0].name);
	ld.pi->pub.path = xstrdup(label);
	return &ld.pi->pub;
}

/* Copy rule src into dst, sharing what it owns and its counter. */
static void
rule_share(struct rule *dst, struct rule *src)
{
	/* Everything but the counter, which other threads may be changing
	 * (fired is the last field). */
	memcpy(dst, src, offsetof(struct rule, fired));
	atomic_init(&dst->fired, 0);
	dst->fired_in = src->fired_in != NULL ? src->fired_in : &src->fired;
}

/* profile_compose - base with the holders' rules in front of its own */
struct profile *
profile_compose(struct profile *base, struct profile *const *holders,
                size_t nholders)
{
	struct profile_impl *bi = impl_of(base), *ci;
	struct profile *c;
	size_t n = base->nrules, k = 0;

	if (nholders == 0)
		return profile_ref(base);
	for (size_t i = 0; i < nholders; i++)
		n += holders[i]->nrules;
	ci = xcalloc(1, sizeof(*ci));
	/* All of the base but its reference count (the last field of struct
	 * profile, changed by other threads), then the loader's part. */
	memcpy(&ci->pub, &bi->pub, offsetof(struct profile, refs));
	atomic_init(&ci->pub.refs, 1);
	memcpy((char *)ci + sizeof(ci->pub), (char *)bi + sizeof(bi->pub),
	       sizeof(*ci) - sizeof(ci->pub));
	c = &ci->pub;
	c->rules = xcalloc(n, sizeof(*c->rules));
	for (size_t i = 0; i < nholders; i++)
		for (size_t j = 0; j < holders[i]->nrules; j++)
			rule_share(&c->rules[k++], &holders[i]->rules[j]);
	for (size_t j = 0; j < base->nrules; j++)
		rule_share(&c->rules[k++], &base->rules[j]);
	c->nrules = n;
	ci->nparts = nholders + 1;
	ci->parts = xcalloc(ci->nparts, sizeof(*ci->parts));
	ci->parts[0] = profile_ref(base);
	for (size_t i = 0; i < nholders; i++)
		ci->parts[i + 1] = profile_ref(holders[i]);
	return c;
}

/* composite_free - a composite's own memory, and its references */
void
composite_free(struct profile_impl *ci)
{
	free(ci->pub.rules);
	for (size_t i = 0; i < ci->nparts; i++)
		profile_unref(ci->parts[i]);
	free(ci->parts);
	free(ci);
}
