/*
 * origin.c - where a profile's words come from: which file of the extends
 * chain set each reply and the source it names for it ("source:"), whose
 * words each file speaks ("vendor:"), what each file says is sourced, a
 * model choice or a known difference ("faithfulness:"), and the
 * faithfulness table --check prints from them.
 *
 * A reply nobody set is the engine's built-in text (proto.c: RFC 5321's
 * wording, model choice). A vendor profile "borrows" a reply when the
 * file that set it speaks for another vendor (or for none): the shipped
 * profiles borrow nothing, and tests/unit/test_profile.c fails if one does.
 *
 * Does not: load the reply texts themselves (server_load.c, values.c) or
 * lay out the rest of --check (explain.c).
 */
#include "schema.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const faith_names[FAITH_KIND_COUNT] = {
    [FAITH_SOURCED] = "sourced",
    [FAITH_MODEL] = "model_choice",
    [FAITH_DIFFERENCE] = "differences",
};

/* origin_init - every reply built-in, no file has spoken yet */
void
origin_init(struct profile_impl *pi)
{
	for (size_t i = 0; i < REPLY_COUNT; i++)
		pi->reply_from[i] = -1;
}

/* origin_free - what origin.c keeps in the profile */
void
origin_free(struct profile_impl *pi)
{
	for (size_t i = 0; i < REPLY_COUNT; i++)
		free(pi->reply_source[i]);
	for (size_t i = 0; i < pi->nfaith; i++) {
		free(pi->faith[i].key);
		free(pi->faith[i].text);
	}
	free(pi->faith);
	strv_free(pi->chain_vendors, pi->chain_vendors ? pi->nchain : 0);
}

/* origin_set - this file set reply id, naming source (or nothing) */
void
origin_set(struct layer *l, int id, const char *source)
{
	struct profile_impl *pi = impl_of(l->p);

	pi->reply_from[id] = (int)l->chain_ix;
	free(pi->reply_source[id]);
	pi->reply_source[id] = source ? xstrdup(source) : NULL;
}

/*
 * reply_with_source - a reply as a string, a list of lines, or a mapping
 * {text: reply, source: "where it comes from"}; records its origin
 */
int
reply_with_source(struct layer *l, const yaml_node_t *n, const char *what,
                  int id, struct reply_text *r)
{
	static const char *const keys[] = {"text", "source"};
	yaml_node_t *t, *src;
	char sub[80];

	if (n->type != YAML_MAPPING_NODE) {
		if (get_reply(l, n, what, r) < 0)
			return -1;
		origin_set(l, id, NULL);
		return 0;
	}
	if (check_map(l, n, what, keys, 2) < 0)
		return -1;
	if ((t = map_get(l, n, "text")) == NULL)
		return err_node(l, n,
		                "\"%s\" has no \"text\" (write {text: \"250 "
		                "OK\", source: \"RFC 5321 4.1.1.5\"})",
		                what);
	snprintf(sub, sizeof(sub), "%s.text", what);
	if (get_reply(l, t, sub, r) < 0)
		return -1;
	src = map_get(l, n, "source");
	snprintf(sub, sizeof(sub), "%s.source", what);
	if (src != NULL &&
	    want_line(l, src, sub, "name the source on one line") < 0)
		return -1;
	if (src != NULL && sval(src)[0] == '\0')
		return err_node(l, src,
		                "empty \"%s\" (name the source, or write "
		                "\"model choice: why\")",
		                sub);
	origin_set(l, id, src ? sval(src) : NULL);
	return 0;
}

/* load_greeting - the greeting, a reply (with its origin) */
int
load_greeting(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
              const char *what, void *base)
{
	return reply_with_source(l, n, "greeting", REPLY_GREETING,
	                         schema_field(r, base));
}

/* load_vendor - vendor: whose words this file speaks, a lower-case word */
int
load_vendor(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
            const char *what, void *base)
{
	struct profile_impl *pi = impl_of(l->p);
	const char *s;

	if (want_line(l, n, "vendor", "give one word, e.g. microsoft") < 0)
		return -1;
	s = sval(n);
	for (const char *c = s; *c != '\0'; c++)
		if (!islower((unsigned char)*c) &&
		    !isdigit((unsigned char)*c) && *c != '-')
			return err_node(
			    l, n,
			    "bad vendor \"%s\" (one word of a-z, 0-9 and "
			    "\"-\", e.g. microsoft or cisco)",
			    s);
	if (*s == '\0')
		return err_node(l, n,
		                "empty \"vendor\" (name one, e.g. microsoft, "
		                "or leave the key out)");
	free(pi->chain_vendors[l->chain_ix]);
	pi->chain_vendors[l->chain_ix] = xstrdup(s);
	return 0;
}

/* One "faithfulness" entry: a key replaces the parent's of that key. */
static void
faith_put(struct profile_impl *pi, enum faith_kind k, const char *key,
          const char *text, size_t from)
{
	struct faith_item *it = NULL;

	for (size_t i = 0; i < pi->nfaith; i++)
		if (strcmp(pi->faith[i].key, key) == 0)
			it = &pi->faith[i];
	if (it == NULL) {
		pi->faith = xreallocarray(pi->faith, pi->nfaith + 1,
		                          sizeof(*pi->faith));
		it = &pi->faith[pi->nfaith++];
		it->key = xstrdup(key);
	} else {
		free(it->text);
	}
	it->kind = k;
	it->text = xstrdup(text);
	it->from = from;
}

/*
 * load_faithfulness - faithfulness: {sourced, model_choice, differences},
 * each a mapping of topic -> one line; merged topic by topic
 */
int
load_faithfulness(struct layer *l, const struct schema_row *r,
                  const yaml_node_t *n, const char *what, void *base)
{
	struct profile_impl *pi = impl_of(l->p);

	if (want_map(l, n, "faithfulness", false) < 0 ||
	    check_map(l, n, "faithfulness", faith_names, FAITH_KIND_COUNT) < 0)
		return -1;
	for (int k = 0; k < FAITH_KIND_COUNT; k++) {
		yaml_node_t *m = map_get(l, n, faith_names[k]);
		char sub[64];

		if (m == NULL)
			continue;
		snprintf(sub, sizeof(sub), "faithfulness.%s", faith_names[k]);
		if (want_map(l, m, sub, true) < 0)
			return -1;
		if (is_null(m))
			continue;
		for (yaml_node_pair_t *pp = m->data.mapping.pairs.start;
		     pp < m->data.mapping.pairs.top; pp++) {
			yaml_node_t *key = node(l, pp->key);
			yaml_node_t *v = node(l, pp->value);

			if (want_scalar(l, key, sub, "a topic word") < 0 ||
			    want_line(l, v, sub,
			              "say it on one line, in quotes") < 0)
				return -1;
			faith_put(pi, (enum faith_kind)k, sval(key), sval(v),
			          l->chain_ix);
		}
	}
	return 0;
}

/* The vendor file i speaks for: its own, else the nearest parent's. */
static const char *
vendor_at(const struct profile_impl *pi, size_t i)
{
	for (; pi->chain_vendors != NULL && i < pi->nchain; i++)
		if (pi->chain_vendors[i] != NULL)
			return pi->chain_vendors[i];
	return NULL;
}

/* profile_vendor - whose words the profile speaks, or NULL */
const char *
profile_vendor(const struct profile *p)
{
	return vendor_at(impl_of(p), 0);
}

/* profile_reply_origin - which file set reply id, and its source */
void
profile_reply_origin(const struct profile *p, enum reply_id id,
                     struct reply_origin *o)
{
	const struct profile_impl *pi = impl_of(p);
	int from = pi->reply_from[id];

	memset(o, 0, sizeof(*o));
	if (from < 0)
		return;
	o->file = pi->chain_names[from];
	o->path = pi->chain_paths[from];
	o->vendor = vendor_at(pi, (size_t)from);
	o->source = pi->reply_source[id];
}

/* profile_borrowed - replies a vendor profile takes from another vendor */
size_t
profile_borrowed(const struct profile *p, enum reply_id *ids, size_t max)
{
	const char *mine = profile_vendor(p);
	size_t n = 0;

	if (mine == NULL)
		return 0;
	for (int i = 0; i < REPLY_COUNT; i++) {
		struct reply_origin o;

		profile_reply_origin(p, (enum reply_id)i, &o);
		if (o.file == NULL ||
		    (o.vendor != NULL && strcmp(o.vendor, mine) == 0))
			continue;
		if (n < max)
			ids[n] = (enum reply_id)i;
		n++;
	}
	return n;
}

static bool
is_model_choice(const char *source)
{
	return strncasecmp(source, "model choice", 12) == 0;
}

/*
 * The replies of one group, by source: "  name, name: source". want_model
 * picks the sources that are model choices; NULL sources are "unstated".
 */
static void
faith_replies(FILE *out, const struct profile_impl *pi, bool want_model)
{
	bool done[REPLY_COUNT] = {false};

	for (int i = 0; i < REPLY_COUNT; i++) {
		const char *src = pi->reply_source[i];
		const char *sep = "";

		if (done[i] || pi->reply_from[i] < 0 || src == NULL ||
		    is_model_choice(src) != want_model)
			continue;
		fprintf(out, "    replies ");
		for (int j = i; j < REPLY_COUNT; j++) {
			if (pi->reply_from[j] < 0 ||
			    pi->reply_source[j] == NULL ||
			    strcmp(pi->reply_source[j], src) != 0)
				continue;
			fprintf(out, "%s%s", sep, reply_id_names[j]);
			done[j] = true;
			sep = ", ";
		}
		/* under "model choice:" the words need not say it again */
		if (want_model) {
			src += 12;
			src += strspn(src, ":; ");
		}
		fprintf(out, ": %s (%s)\n", src,
		        pi->chain_names[pi->reply_from[i]]);
	}
}

/* A list of reply names matching pick, wrapped, after a label. */
static void
faith_names_line(FILE *out, const struct profile_impl *pi, const char *label,
                 bool (*pick)(const struct profile_impl *, int))
{
	const char *sep = "";
	size_t col = 4 + strlen(label);
	bool any = false;

	for (int i = 0; i < REPLY_COUNT; i++) {
		size_t w = strlen(reply_id_names[i]) + 2;

		if (!pick(pi, i))
			continue;
		if (!any)
			fprintf(out, "    %s", label);
		any = true;
		if (col + w > 78) {
			fprintf(out, ",\n      ");
			col = 6;
			sep = "";
		}
		fprintf(out, "%s%s", sep, reply_id_names[i]);
		col += w;
		sep = ", ";
	}
	if (any)
		fprintf(out, "\n");
}

static bool
is_builtin(const struct profile_impl *pi, int i)
{
	return pi->reply_from[i] < 0;
}

static bool
is_unstated(const struct profile_impl *pi, int i)
{
	return pi->reply_from[i] >= 0 && pi->reply_source[i] == NULL;
}

static void
faith_items(FILE *out, const struct profile_impl *pi, enum faith_kind k)
{
	for (size_t i = 0; i < pi->nfaith; i++)
		if (pi->faith[i].kind == k)
			fprintf(out, "    %s: %s (%s)\n", pi->faith[i].key,
			        pi->faith[i].text,
			        pi->chain_names[pi->faith[i].from]);
}

/* profile_faithfulness - the --check table */
void
profile_faithfulness(const struct profile *p, FILE *out)
{
	const struct profile_impl *pi = impl_of(p);
	const char *vendor = profile_vendor(p);
	enum reply_id borrowed[REPLY_COUNT];
	size_t nb = profile_borrowed(p, borrowed, REPLY_COUNT);
	bool any_unstated = false;

	fprintf(out, "\nFaithfulness (vendor: %s)\n",
	        vendor ? vendor : "none stated");
	fprintf(out, "  sourced:\n");
	faith_items(out, pi, FAITH_SOURCED);
	faith_replies(out, pi, false);
	fprintf(out, "  model choice:\n");
	faith_items(out, pi, FAITH_MODEL);
	faith_replies(out, pi, true);
	faith_names_line(
	    out, pi, "built-in (RFC 5321 wording, model choice): ", is_builtin);
	for (int i = 0; i < REPLY_COUNT; i++)
		any_unstated |= is_unstated(pi, i);
	if (any_unstated) {
		fprintf(out, "  source not stated as data:\n");
		faith_names_line(out, pi, "", is_unstated);
	}
	fprintf(out, "  known differences:\n");
	faith_items(out, pi, FAITH_DIFFERENCE);
	fprintf(out, "  borrowed from another vendor's file:");
	for (size_t i = 0; i < nb && i < REPLY_COUNT; i++) {
		struct reply_origin o;

		profile_reply_origin(p, borrowed[i], &o);
		fprintf(out, "\n    %s (from %s, vendor %s)",
		        reply_id_names[borrowed[i]], o.file,
		        o.vendor ? o.vendor : "none stated");
	}
	fprintf(out, "%s\n", nb == 0 ? " none" : "");
}
