/*
 * load.c - finding and loading a profile file: lookup by name or path,
 * "extends" (parent first, then this file on top, cycles and depth
 * checked), "via", the top-level keys, profile_load,
 * profile_load_middlebox and profile_load_text (the outermost file given
 * as text, e.g. an HTTP request body).
 *
 * Does not: read a section's values (server_load.c, mbox_load.c,
 * rules_load.c) or read YAML by hand (yaml_read.c).
 */
#include "schema.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool
is_profile_name(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && strchr(s, '/') == NULL &&
	       !(n >= 5 && strcmp(s + n - 5, ".yaml") == 0);
}

/*
 * Find NAME.yaml: first in first_dir (if any, length fdlen), then in the
 * search dirs. A middlebox (box) is looked for in each directory's
 * "middleboxes" subdirectory first, then in the directory itself.
 * Returns the path, or NULL with the places tried in looked.
 */
static char *
find_profile(struct loader *ld, const char *first_dir, size_t fdlen,
             const char *name, bool box, char *looked, size_t lookedlen)
{
	char *tried[2 * (PROFILE_MAX_DEPTH + 64)];
	size_t ntried = 0, off = 0;
	char *found = NULL, *sub;

	looked[0] = '\0';
	sub = path_join("middleboxes", strlen("middleboxes"), name, "");
	for (size_t i = 0; i <= ld->ndirs && found == NULL; i++) {
		const char *dir = i == 0 ? first_dir : ld->dirs[i - 1];
		size_t dirlen = i == 0 ? fdlen : strlen(dir);

		if (i == 0 && first_dir == NULL)
			continue;
		for (int j = box ? 0 : 1; j < 2 && found == NULL; j++) {
			char *cand = path_join(dir, dirlen, j == 0 ? sub : name,
			                       ".yaml");
			bool dup = false;

			for (size_t k = 0; k < ntried; k++)
				if (strcmp(tried[k], cand) == 0)
					dup = true;
			if (dup || ntried == nitems(tried)) {
				free(cand);
				continue;
			}
			if (is_file(cand)) {
				found = cand;
				break;
			}
			tried[ntried++] = cand;
		}
	}
	free(sub);
	for (size_t j = 0; j < ntried; j++) {
		int w = snprintf(looked + off, lookedlen - off, "%s%s",
		                 off ? ", " : "", tried[j]);

		if (w > 0 && (size_t)w < lookedlen - off)
			off += (size_t)w;
		free(tried[j]);
	}
	if (found == NULL && ntried == 0)
		snprintf(looked, lookedlen, "no profile directories given");
	return found;
}

static int load_file(struct loader *ld, const char *path);

/* Resolve and load the parent named by "extends:" node v. */
static int
load_parent(struct layer *l, const yaml_node_t *v)
{
	struct loader *ld = l->ld;
	const char *slash = strrchr(l->path, '/');
	size_t dirlen = slash ? (size_t)(slash - l->path) : 0;
	char looked[MSG_MAX / 2], chain[MSG_MAX / 2], *parent, *real;
	int rc;

	if (want_line(l, v, "extends", "give one profile name") < 0)
		return -1;
	if (sval(v)[0] == '\0')
		return err_node(
		    l, v,
		    "empty \"extends\" (name a profile, or leave it out)");
	if (is_profile_name(sval(v))) {
		/* a text has no directory of its own: the search dirs */
		parent = find_profile(ld,
		                      l->mem != NULL ? NULL
		                      : slash        ? l->path
		                                     : "",
		                      dirlen, sval(v), l->kind == KIND_MBOX,
		                      looked, sizeof(looked));
		if (parent == NULL)
			return err_node(
			    l, v,
			    "extends: profile \"%s\" not found (looked in: "
			    "%s)",
			    sval(v), looked);
	} else {
		parent = sval(v)[0] == '/'
		             ? xstrdup(sval(v))
		             : path_join(l->path, dirlen, sval(v), "");
		if (!is_file(parent)) {
			err_node(
			    l, v,
			    "extends: profile file \"%s\" not found (looked "
			    "at %s)",
			    sval(v), parent);
			free(parent);
			return -1;
		}
	}
	real = realpath(parent, NULL);
	for (size_t i = 0; real != NULL && i <= ld->depth; i++) {
		size_t off = 0;

		if (strcmp(ld->real[i], real) != 0)
			continue;
		chain[0] = '\0';
		for (size_t j = i; j <= ld->depth; j++) {
			int w = snprintf(chain + off, sizeof(chain) - off,
			                 "%s -> ", ld->names[j]);

			if (w > 0 && (size_t)w < sizeof(chain) - off)
				off += (size_t)w;
		}
		err_node(
		    l, v,
		    "extends cycle: %s%s (remove one of these \"extends\")",
		    chain, ld->names[i]);
		free(real);
		free(parent);
		return -1;
	}
	free(real);
	if (ld->depth + 1 > PROFILE_MAX_DEPTH) {
		err_node(l, v,
		         "extends chain deeper than %d levels (flatten some of "
		         "the profiles)",
		         PROFILE_MAX_DEPTH);
		free(parent);
		return -1;
	}
	ld->depth++;
	rc = load_file(ld, parent);
	ld->depth--;
	free(parent);
	return rc;
}

/*
 * load_via - "via: [box, ...]": load each middlebox (a NAME is looked up
 * like a middlebox's "extends", a path is relative to this file) and replace
 * the parent's list
 */
int
load_via(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
         const char *what, void *base)
{
	struct loader *ld = l->ld;
	struct profile *p = l->p, **boxes;
	const char *slash = strrchr(l->path, '/');
	size_t dirlen = slash ? (size_t)(slash - l->path) : 0;
	yaml_node_item_t *b = NULL;
	size_t cnt = 0, got = 0;
	char looked[MSG_MAX / 2];

	if (want_list(l, n, "via", "a list of middlebox names", &b, &cnt) < 0)
		return -1;
	if (cnt > PROFILE_MAX_VIA)
		return err_node(l, n,
		                "\"via\" names %zu middleboxes (at most %d)",
		                cnt, PROFILE_MAX_VIA);
	boxes = xcalloc(cnt, sizeof(*boxes));
	for (; got < cnt; got++) {
		yaml_node_t *v = node(l, b[got]);
		char *path;

		if (want_line(l, v, "via", "give one middlebox per list item") <
		    0)
			goto fail;
		if (sval(v)[0] == '\0') {
			err_node(
			    l, v,
			    "empty name in \"via\" (name a middlebox, e.g. "
			    "asa-esmtp-inspect)");
			goto fail;
		}
		if (is_profile_name(sval(v))) {
			path = find_profile(ld,
			                    l->mem != NULL ? NULL
			                    : slash        ? l->path
			                                   : "",
			                    dirlen, sval(v), true, looked,
			                    sizeof(looked));
			if (path == NULL) {
				err_node(
				    l, v,
				    "via: middlebox \"%s\" not found (looked "
				    "in: %s)",
				    sval(v), looked);
				goto fail;
			}
		} else {
			path = sval(v)[0] == '/'
			           ? xstrdup(sval(v))
			           : path_join(l->path, dirlen, sval(v), "");
		}
		/* its own loader: the box's errors are reported as they are */
		boxes[got] = profile_load(path, ld->dirs, ld->ndirs, ld->err,
		                          ld->errlen);
		if (boxes[got] != NULL && boxes[got]->mbox == NULL) {
			err_node(l, v,
			         "via: \"%s\" is a server profile (%s), not a "
			         "middlebox (name a file with \"kind: "
			         "middlebox\", e.g. asa-esmtp-inspect)",
			         sval(v), path);
			profile_unref(boxes[got]);
			boxes[got] = NULL;
		}
		free(path);
		if (boxes[got] == NULL)
			goto fail;
	}
	for (size_t i = 0; i < p->nvia; i++)
		profile_unref(p->via[i]);
	free(p->via);
	p->via = boxes;
	p->nvia = cnt;
	return 0;
fail:
	for (size_t i = 0; i < got; i++)
		profile_unref(boxes[i]);
	free(boxes);
	return -1;
}

/*
 * "scenario: true" belongs to the file itself, like its description: a
 * profile that extends a scenario is not one unless it says so. A
 * scenario is defined by what it is laid on, so it must extend.
 */
static int
layer_scenario(struct layer *l, yaml_node_t *root)
{
	yaml_node_t *v = map_get(l, root, "scenario");
	bool on = false;

	if (l->ld->depth == 0)
		l->p->scenario = false;
	if (v == NULL)
		return 0;
	if (get_bool(l, v, "scenario", &on) < 0)
		return -1;
	if (on && map_get(l, root, "extends") == NULL)
		return err_node(
		    l, v,
		    "scenario: true needs \"extends\" (a scenario is a field "
		    "bug laid on top of the profile it extends)");
	if (l->ld->depth == 0)
		l->p->scenario = on;
	return 0;
}

static int
layer_apply(struct layer *l, yaml_node_t *root)
{
	struct loader *ld = l->ld;
	struct profile_impl *pi = ld->pi;
	yaml_node_t *nm, *v;

	if (root == NULL)
		return err_at(
		    l, 0, 0,
		    "empty profile (a profile is a mapping with at least "
		    "\"name:\")");
	if (root->type != YAML_MAPPING_NODE)
		return err_node(
		    l, root,
		    "the profile is %s (a profile is a mapping of keys, "
		    "starting with \"name:\")",
		    kind(root));
	/* "kind" first: it decides which keys the file may hold */
	l->kind = KIND_SERVER;
	if ((v = map_get(l, root, "kind")) != NULL) {
		int choice;

		if (get_choice(l, v, "kind", kind_names, nitems(kind_names),
		               &choice) < 0)
			return -1;
		l->kind = choice == 1 ? KIND_MBOX : KIND_SERVER;
		l->kind_explicit = true;
	}
	if (schema_check_keys(l, &schema_top, root, "", l->kind) < 0)
		return -1;
	if ((nm = map_get(l, root, "name")) == NULL)
		return err_node(
		    l, root,
		    "missing required key \"name\" (add e.g. \"name: "
		    "my-profile\", using a-z, 0-9, \".\", \"_\" and \"-\")");
	if (want_scalar(l, nm, "name", "a string") < 0)
		return -1;
	for (const char *s = sval(nm); *s; s++)
		if (!islower((unsigned char)*s) &&
		    !isdigit((unsigned char)*s) && *s != '.' && *s != '_' &&
		    *s != '-')
			return err_node(
			    l, nm,
			    "bad name \"%s\" (use only a-z, 0-9, \".\", \"_\" "
			    "and \"-\")",
			    sval(nm));

	/* Record this file in the chain, for cycles and the summary. */
	ld->names[ld->depth] = sval(nm);
	ld->real[ld->depth] = l->mem != NULL ? NULL : realpath(l->path, NULL);
	if (ld->real[ld->depth] == NULL)
		ld->real[ld->depth] = xstrdup(l->path);
	pi->chain_names =
	    xreallocarray(pi->chain_names, pi->nchain + 1, sizeof(char *));
	pi->chain_paths =
	    xreallocarray(pi->chain_paths, pi->nchain + 1, sizeof(char *));
	pi->chain_vendors =
	    xreallocarray(pi->chain_vendors, pi->nchain + 1, sizeof(char *));
	pi->chain_names[pi->nchain] = xstrdup(sval(nm));
	pi->chain_vendors[pi->nchain] = NULL; /* "vendor:" sets it */
	l->chain_ix = pi->nchain;
	pi->chain_paths[pi->nchain++] = xstrdup(l->path);

	if ((v = map_get(l, root, "extends")) != NULL) {
		if (load_parent(l, v) < 0)
			return -1;
		if (ld->kind != l->kind)
			return err_node(
			    l, v,
			    "extends: \"%s\" is a %s (kind: %s), but this file "
			    "is a %s (kind: %s%s) (a profile can only extend "
			    "one of its own kind)",
			    sval(v), kind_str(ld->kind), kind_str(ld->kind),
			    kind_str(l->kind), kind_str(l->kind),
			    l->kind_explicit ? "" : ", the default");
	}
	ld->kind = l->kind;
	if (l->kind == KIND_MBOX && l->p->mbox == NULL)
		mbox_new(l->p);

	/* name and description belong to the file itself. */
	if (ld->depth == 0) {
		free(l->p->name);
		l->p->name = xstrdup(sval(nm));
		free(l->p->description);
		l->p->description = NULL;
		free(l->p->path);
		l->p->path = xstrdup(l->path);
		if ((v = map_get(l, root, "description")) != NULL &&
		    get_line(l, v, "description", &l->p->description) < 0)
			return -1;
	} else if ((v = map_get(l, root, "description")) != NULL &&
	           want_line(l, v, "description", "keep it on one line") < 0) {
		return -1;
	}
	if (layer_scenario(l, root) < 0)
		return -1;

	if (schema_walk(l, &schema_top, root, "", l->kind, l->p) < 0)
		return -1;
	if (l->kind == KIND_MBOX && ld->depth == 0)
		return box_finish(l, root);
	return 0;
}

static int
load_file(struct loader *ld, const char *path)
{
	struct layer l = {.ld = ld, .p = &ld->pi->pub, .path = path};
	int rc = -1;

	if (ld->depth == 0 && ld->mem != NULL) {
		l.mem = ld->mem;
		l.memlen = ld->memlen;
	}

	if (layer_read(&l) == 0)
		rc = layer_apply(&l, yaml_document_get_root_node(&l.doc));
	free(ld->real[ld->depth]);
	ld->real[ld->depth] = NULL;
	ld->names[ld->depth] = NULL;
	if (l.have_doc)
		yaml_document_delete(&l.doc);
	free(l.src);
	return rc;
}

/*
 * The one load function of both kinds: find NAME (a box in middleboxes/
 * first) or take the path, load the file and its extends chain, then what
 * follows from the whole chain. want_box: it must be a middlebox.
 */
static struct profile *
load_kind(const char *name_or_path, const char *const *dirs, size_t ndirs,
          char *err, size_t errlen, bool want_box, const char *mem,
          size_t memlen)
{
	const char *what = want_box ? "middlebox" : "profile";
	char dummy[1], looked[MSG_MAX / 2];
	struct loader ld = {.dirs = dirs, .ndirs = ndirs};
	char *path;
	struct profile *p;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	ld.err = err;
	ld.errlen = errlen;
	ld.mem = mem;
	ld.memlen = memlen;
	if (mem != NULL) {
		path = xstrdup(name_or_path);
	} else if (name_or_path == NULL || *name_or_path == '\0') {
		err_plain(&ld, "no %s given (name one, e.g. %s)", what,
		          want_box ? "asa-esmtp-inspect" : "standard");
		return NULL;
	} else if (is_profile_name(name_or_path)) {
		path = find_profile(&ld, NULL, 0, name_or_path, want_box,
		                    looked, sizeof(looked));
		if (path == NULL) {
			err_plain(&ld,
			          "%s: %s not found (looked in: %s; "
			          "--list-profiles shows the known ones)",
			          name_or_path, what, looked);
			return NULL;
		}
	} else {
		path = xstrdup(name_or_path);
	}
	ld.pi = profile_new();
	if (load_file(&ld, path) < 0 || tls_check_available(&ld) < 0) {
		profile_free(ld.pi);
		free(path);
		return NULL;
	}
	p = &ld.pi->pub;
	if (want_box && p->mbox == NULL) {
		err_plain(&ld,
		          "%s: %s is a server profile (kind: server), not a "
		          "middlebox (name a file with \"kind: middlebox\", "
		          "e.g. asa-esmtp-inspect)",
		          name_or_path, path);
		profile_free(ld.pi);
		free(path);
		return NULL;
	}
	free(path);
	/* message_size follows "SIZE n" unless some file set it. */
	if (!ld.size_explicit) {
		p->limits.message_size = (p->ext & EXT_SIZE) ? p->ext_size : 0;
		ld.pi->size_from_keyword = (p->ext & EXT_SIZE) != 0;
	}
	if (ld.size_is_max_size)
		p->ext_size = p->limits.message_size;
	/* what follows from the whole chain: the EHLO list inside TLS,
	 * the NTLM names left out (server_load.c) */
	if (p->mbox == NULL) {
		ehlo_tls_finish(p);
		auth_ntlm_finish(p);
	}
	if (p->mbox != NULL) {
		free(p->mbox->name);
		p->mbox->name = xstrdup(p->name);
		free(p->mbox->description);
		p->mbox->description =
		    p->description ? xstrdup(p->description) : NULL;
	}
	return p;
}

/* profile_load - load and validate a profile by NAME or FILE path */
struct profile *
profile_load(const char *name_or_path, const char *const *dirs, size_t ndirs,
             char *err, size_t errlen)
{
	return load_kind(name_or_path, dirs, ndirs, err, errlen, false, NULL,
	                 0);
}

/* profile_load_middlebox - load a "kind: middlebox" file by NAME or path */
struct profile *
profile_load_middlebox(const char *name_or_path, const char *const *dirs,
                       size_t ndirs, char *err, size_t errlen)
{
	return load_kind(name_or_path, dirs, ndirs, err, errlen, true, NULL, 0);
}

/* profile_load_text - load and validate a profile from its text */
struct profile *
profile_load_text(const char *label, const char *text, size_t len,
                  const char *const *dirs, size_t ndirs, char *err,
                  size_t errlen)
{
	return load_kind(label, dirs, ndirs, err, errlen, false, text, len);
}

/* free_via - the middleboxes in front */
void
free_via(const struct schema_row *r, void *base)
{
	struct profile *p = base;

	for (size_t i = 0; i < p->nvia; i++)
		profile_unref(p->via[i]);
	free(p->via);
	p->via = NULL;
	p->nvia = 0;
}
