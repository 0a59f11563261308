/*
 * mbox_load.c - the keys of a "kind: middlebox" file, into a struct
 * mbox_config (middlebox.h).
 *
 * Does not: apply a box to traffic (middlebox.c).
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

/*
 * A fresh box: one that changes nothing. Every engine verb passes,
 * STARTTLS included, and every EHLO keyword.
 */
struct mbox_config *
mbox_new(void)
{
	struct mbox_config *c = xcalloc(1, sizeof(*c));

	c->banner = MBOX_BANNER_PASS;
	c->allowed = xcalloc(VERB_COUNT, sizeof(char *));
	for (int v = 0; v < VERB_COUNT; v++)
		c->allowed[c->nallowed++] = xstrdup(verb_names[v]);
	c->denied = MBOX_DENIED_MASK;
	c->ehlo_mask_others = false;
	c->allow_tls = true;
	c->drop_split_eod = false;
	c->cut_on_duplicate = false;
	c->cut_action = MBOX_ACT_RESET;
	return c;
}

/* commands: {allowed: [...], denied: mask | noop}, merged key by key */
static int
load_box_commands(struct layer *l, const yaml_node_t *n)
{
	static const char *const keys[] = {"allowed", "denied"};
	struct mbox_config *c = l->p->mbox;
	yaml_node_t *v;
	int choice;

	if (n->type == YAML_SEQUENCE_NODE)
		return wrong_form(l, n, "commands",
		                  "a middlebox writes commands: {allowed: "
		                  "[HELO, MAIL, ...], denied: mask}");
	if (want_map(l, n, "commands", false) < 0 ||
	    check_map(l, n, "commands", keys, nitems(keys)) < 0)
		return -1;
	if ((v = map_get(l, n, "allowed")) != NULL &&
	    get_words(l, v, "commands.allowed", WORD_VERB, &c->allowed,
	              &c->nallowed) < 0)
		return -1;
	if ((v = map_get(l, n, "denied")) != NULL) {
		if (get_choice(l, v, "commands.denied", denied_names,
		               nitems(denied_names), &choice) < 0)
			return -1;
		c->denied = (enum mbox_denied)choice;
	}
	return 0;
}

/* ehlo.masks: keyword -> replacement, merged keyword by keyword */
static int
load_box_masks(struct layer *l, const yaml_node_t *n)
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

/* ehlo: {masks, allowed, others}, merged key by key */
static int
load_box_ehlo(struct layer *l, const yaml_node_t *n)
{
	static const char *const keys[] = {"masks", "allowed", "others"};
	static const char *const server_keys[] = {"greeting", "keywords"};
	static const struct other_keys other = {
	    server_keys, nitems(server_keys), KIND_SERVER,
	    "a middlebox's ehlo has masks, allowed and others"};
	struct mbox_config *c = l->p->mbox;
	yaml_node_t *v;
	int choice;

	if (want_map(l, n, "ehlo", false) < 0 ||
	    check_keys(l, n, "ehlo", keys, nitems(keys), &other) < 0)
		return -1;
	if ((v = map_get(l, n, "masks")) != NULL && load_box_masks(l, v) < 0)
		return -1;
	if ((v = map_get(l, n, "allowed")) != NULL &&
	    get_words(l, v, "ehlo.allowed", WORD_KEYWORD, &c->ehlo_allowed,
	              &c->nehlo_allowed) < 0)
		return -1;
	if ((v = map_get(l, n, "others")) != NULL) {
		if (get_choice(l, v, "ehlo.others", others_names,
		               nitems(others_names), &choice) < 0)
			return -1;
		c->ehlo_mask_others = choice == 1;
	}
	return 0;
}

/* limits: a list of {what, over, action}; replaces the parent's list */
static int
load_box_limits(struct layer *l, const yaml_node_t *n)
{
	static const char *const keys[] = {"what", "over", "action"};
	struct mbox_config *c = l->p->mbox;
	struct mbox_limit *rows;
	yaml_node_item_t *b = NULL;
	size_t cnt = 0;

	if (n->type == YAML_MAPPING_NODE)
		return wrong_form(l, n, "limits",
		                  "a middlebox's limits are a list, e.g. - "
		                  "{what: cmd_line_length, over: 512, action: "
		                  "drop-connection}");
	if (n->type == YAML_SEQUENCE_NODE) {
		b = n->data.sequence.items.start;
		cnt = (size_t)(n->data.sequence.items.top - b);
	} else if (!is_null(n)) {
		return wrong_type(l, n, "limits",
		                  "a list of {what, over, action}");
	}
	rows = xcalloc(cnt, sizeof(*rows));
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *it = node(l, b[i]), *v;
		const char *end;
		int choice = 0;

		if (want_map(l, it, "limits", false) < 0 ||
		    check_map(l, it, "limits", keys, nitems(keys)) < 0)
			goto fail;
		for (size_t k = 0; k < nitems(keys); k++)
			if (map_get(l, it, keys[k]) == NULL) {
				err_node(
				    l, it,
				    "limit %zu has no \"%s\" (write {what: "
				    "cmd_line_length, over: 512, action: "
				    "drop-connection})",
				    i + 1, keys[k]);
				goto fail;
			}
		if (get_choice(l, map_get(l, it, "what"), "limits.what",
		               measure_names, nitems(measure_names),
		               &choice) < 0)
			goto fail;
		rows[i].what = (enum mbox_measure)choice;
		v = map_get(l, it, "over");
		if (want_scalar(l, v, "limits.over", "a whole number") < 0)
			goto fail;
		end = parse_digits(sval(v), &rows[i].over);
		if (end == NULL || *end != '\0') {
			err_node(
			    l, v,
			    "bad number \"%s\" for \"limits.over\" (use a "
			    "whole number: the limit acts when the measure "
			    "is greater than this)",
			    sval(v));
			goto fail;
		}
		if (get_choice(l, map_get(l, it, "action"), "limits.action",
		               mbox_action_names, nitems(mbox_action_names),
		               &choice) < 0)
			goto fail;
		rows[i].action = (enum mbox_action)choice;
	}
	free(c->limits);
	c->limits = rows;
	c->nlimits = cnt;
	return 0;
fail:
	free(rows);
	return -1;
}

/* duplicate_headers: {cut, headers, action}, merged key by key */
static int
load_box_dup(struct layer *l, const yaml_node_t *n)
{
	static const char *const keys[] = {"cut", "headers", "action"};
	struct mbox_config *c = l->p->mbox;
	yaml_node_t *v;
	int choice;

	if (want_map(l, n, "duplicate_headers", true) < 0)
		return -1;
	if (is_null(n))
		return 0;
	if (check_map(l, n, "duplicate_headers", keys, nitems(keys)) < 0)
		return -1;
	if ((v = map_get(l, n, "cut")) != NULL &&
	    get_bool(l, v, "duplicate_headers.cut", &c->cut_on_duplicate) < 0)
		return -1;
	if ((v = map_get(l, n, "headers")) != NULL &&
	    get_words(l, v, "duplicate_headers.headers", WORD_HEADER,
	              &c->cut_headers, &c->ncut_headers) < 0)
		return -1;
	if ((v = map_get(l, n, "action")) != NULL) {
		if (get_choice(l, v, "duplicate_headers.action",
		               cut_action_names, nitems(cut_action_names),
		               &choice) < 0)
			return -1;
		c->cut_action = (enum mbox_action)choice;
	}
	return 0;
}

/* A middlebox's top-level key (name, description, ...: nothing to do) */
int
load_box_key(struct layer *l, const char *key, const yaml_node_t *v)
{
	struct mbox_config *c = l->p->mbox;
	int choice;

	if (strcmp(key, "banner") == 0) {
		if (get_choice(l, v, "banner", banner_names,
		               nitems(banner_names), &choice) < 0)
			return -1;
		c->banner = (enum mbox_banner)choice;
		return 0;
	}
	if (strcmp(key, "commands") == 0)
		return load_box_commands(l, v);
	if (strcmp(key, "ehlo") == 0)
		return load_box_ehlo(l, v);
	if (strcmp(key, "allow_tls") == 0)
		return get_bool(l, v, "allow_tls", &c->allow_tls);
	if (strcmp(key, "limits") == 0)
		return load_box_limits(l, v);
	if (strcmp(key, "split_end_of_data") == 0) {
		if (get_choice(l, v, "split_end_of_data", split_eod_names,
		               nitems(split_eod_names), &choice) < 0)
			return -1;
		c->drop_split_eod = choice == 1;
		return 0;
	}
	if (strcmp(key, "duplicate_headers") == 0)
		return load_box_dup(l, v);
	return 0;
}

/*
 * After the whole chain: STARTTLS passes exactly when allow_tls is true
 * (FACTS.md 5: "+ STARTTLS only with allow-tls"). Listing it with
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
