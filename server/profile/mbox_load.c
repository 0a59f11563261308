/*
 * mbox_load.c - the irregular keys of a "kind: middlebox" file (into a
 * struct mbox_config, middlebox.h): ehlo.masks, the list of limit rows,
 * and the check across keys after the whole chain (STARTTLS and
 * allow_tls).
 *
 * Does not: the regular box keys (schema_rows.c rows, loaded by
 * schema.c), apply a box to traffic (middlebox.c).
 */
#include "schema.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* mbox_new - a fresh box, every key at its row's default: it changes
 * nothing (every engine verb and EHLO keyword passes, STARTTLS too) */
struct mbox_config *
mbox_new(struct profile *p)
{
	p->mbox = xcalloc(1, sizeof(*p->mbox));
	schema_defaults(&schema_top, KIND_MBOX, p);
	return p->mbox;
}

/* load_box_masks - ehlo.masks: keyword -> line, merged keyword by keyword */
int
load_box_masks(struct layer *l, const struct schema_row *r,
               const yaml_node_t *n, const char *what, void *base)
{
	struct mbox_config *c = l->p->mbox;

	if (want_map(l, n, "ehlo.masks", true) < 0)
		return -1;
	if (is_null(n))
		return 0;
	for (yaml_node_pair_t *pp = n->data.mapping.pairs.start;
	     pp < n->data.mapping.pairs.top; pp++) {
		yaml_node_t *k = node(l, pp->key), *v = node(l, pp->value);
		struct mbox_ehlo_mask *m = NULL;

		if (want_scalar(l, k, "ehlo.masks", "an EHLO keyword") < 0)
			return -1;
		if (!is_ehlo_keyword(sval(k)))
			return err_node(
			    l, k,
			    "bad EHLO keyword \"%s\" in \"ehlo.masks\" (a "
			    "keyword alone, without parameters, e.g. "
			    "STARTTLS: XXXXXXXA)",
			    sval(k));
		for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < pp;
		     q++)
			if (strcasecmp(sval(node(l, q->key)), sval(k)) == 0)
				return err_node(
				    l, k,
				    "\"%s\" is listed twice in \"ehlo.masks\" "
				    "(first at line %zu; keep one)",
				    sval(k),
				    node(l, q->key)->start_mark.line + 1);
		if (want_line(l, v, "ehlo.masks",
		              "a mask replaces one EHLO line") < 0)
			return -1;
		if (sval(v)[0] == '\0')
			return err_node(
			    l, v,
			    "empty replacement for \"%s\" in \"ehlo.masks\" "
			    "(give the text the client sees after \"250-\", "
			    "e.g. XXXXXXXA)",
			    sval(k));
		for (size_t i = 0; i < c->nehlo_masks; i++)
			if (strcasecmp(c->ehlo_masks[i].keyword, sval(k)) == 0)
				m = &c->ehlo_masks[i];
		if (m == NULL) {
			c->ehlo_masks =
			    xreallocarray(c->ehlo_masks, c->nehlo_masks + 1,
			                  sizeof(*c->ehlo_masks));
			m = &c->ehlo_masks[c->nehlo_masks++];
			m->keyword = xstrdup_upper(sval(k));
			m->replacement = NULL;
		}
		free(m->replacement);
		m->replacement = xstrdup(sval(v));
	}
	return 0;
}

/* load_box_limit_over - limits[].over: a whole number */
int
load_box_limit_over(struct layer *l, const struct schema_row *r,
                    const yaml_node_t *v, const char *what, void *base)
{
	struct mbox_limit *row = base;
	const char *end;

	if (want_scalar(l, v, what, "a whole number") < 0)
		return -1;
	end = parse_digits(sval(v), &row->over);
	if (end == NULL || *end != '\0')
		return err_node(
		    l, v,
		    "bad number \"%s\" for \"%s\" (use a whole number: the "
		    "limit acts when the measure is greater than this)",
		    sval(v), what);
	return 0;
}

/* load_box_limits - limits: a list of {what, over, action} rows that
 * replaces the parent's list */
int
load_box_limits(struct layer *l, const struct schema_row *r,
                const yaml_node_t *n, const char *what, void *base)
{
	struct mbox_config *c = base;
	struct mbox_limit *rows;
	yaml_node_item_t *b = NULL;
	size_t cnt = 0;

	if (n->type == YAML_MAPPING_NODE)
		return wrong_form(l, n, "limits",
		                  "a middlebox's limits are a list, e.g. - "
		                  "{what: cmd_line_length, over: 512, action: "
		                  "drop-connection}");
	if (want_list(l, n, "limits", "a list of {what, over, action}", &b,
	              &cnt) < 0)
		return -1;
	rows = xcalloc(cnt, sizeof(*rows));
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *it = node(l, b[i]);
		const struct schema_section *s = &schema_box_limit;

		if (want_map(l, it, "limits", false) < 0 ||
		    schema_check_keys(l, s, it, "limits", 0) < 0)
			goto fail;
		for (size_t k = 0; k < s->nrows; k++)
			if (map_get(l, it, s->rows[k].name) == NULL) {
				err_node(
				    l, it,
				    "limit %zu has no \"%s\" (write {what: "
				    "cmd_line_length, over: 512, action: "
				    "drop-connection})",
				    i + 1, s->rows[k].name);
				goto fail;
			}
		if (schema_walk(l, s, it, "limits", 0, &rows[i]) < 0)
			goto fail;
	}
	free(c->limits);
	c->limits = rows;
	c->nlimits = cnt;
	return 0;
fail:
	free(rows);
	return -1;
}

/*
 * box_finish - after the whole chain: STARTTLS passes exactly when allow_tls is
 * true (FACTS.md 5: "+ STARTTLS only with allow-tls"). Listing it with
 * allow_tls false is a contradiction; with allow_tls true it is added to
 * the allowed verbs, so that either field says the same.
 */
int
box_finish(struct layer *l, const yaml_node_t *root)
{
	struct mbox_config *c = l->p->mbox;
	const yaml_node_t *at;
	bool listed = false;

	for (size_t i = 0; i < c->nallowed; i++)
		listed |= strcmp(c->allowed[i], "STARTTLS") == 0;
	if (listed && !c->allow_tls) {
		const yaml_node_t *cmds = map_get(l, root, "commands");

		at = map_get(l, root, "allow_tls");
		if (at == NULL && cmds != NULL &&
		    cmds->type == YAML_MAPPING_NODE)
			at = map_get(l, cmds, "allowed");
		return err_node(
		    l, at != NULL ? at : root,
		    "\"commands.allowed\" lists STARTTLS but allow_tls is "
		    "false (STARTTLS passes only with allow_tls: true; "
		    "remove it from the list, or set allow_tls: true)");
	}
	if (!listed && c->allow_tls) {
		c->allowed =
		    xreallocarray(c->allowed, c->nallowed + 1, sizeof(char *));
		c->allowed[c->nallowed++] = xstrdup("STARTTLS");
	}
	return 0;
}
