/*
 * list.c - profile_list, --list-profiles: every profile and middlebox
 * in the search dirs with its description, or why it does not load.
 * Server profiles are grouped by vendor (the "vendor:" key, inherited
 * along "extends"), each scenario ("scenario: true": a field bug on top
 * of a peer) indented under the profile it extends; then the files that
 * do not load ("invalid:") and the "middleboxes:".
 *
 * Does not: look a profile up by name (load.c).
 */
#include "profile_int.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

struct list_ent {
	char *name;
	char *path;
	bool box_dir;  /* found in a "middleboxes" subdirectory */
	bool box;      /* listed with the middleboxes */
	bool scenario; /* "scenario: true": listed under its parent */
	bool invalid;  /* does not load: listed with the invalid */
	bool shown;    /* printed already */
	char *vendor;  /* "vendor:" (inherited), "(none)" without one */
	char *parent;  /* a scenario's profile (what it extends), or NULL */
	char *text;    /* description, or why it does not load */
	size_t dir;    /* index of the search dir it was found in */
};

static int
list_cmp(const void *a, const void *b)
{
	const struct list_ent *x = a, *y = b;
	int c = strcmp(x->vendor ? x->vendor : "", y->vendor ? y->vendor : "");

	return c != 0 ? c : strcmp(x->name, y->name);
}

/* 0: a peer or a scenario (by vendor), 1: invalid, 2: a middlebox (a
 * middlebox scenario stays with the boxes; its text names its base) */
static int
list_group(const struct list_ent *e)
{
	return e->box ? 2 : e->invalid ? 1 : 0;
}

/* Append the *.yaml files of dir (length dirlen) to *ents. */
static void
list_scan(const char *dir, size_t dirlen, bool box_dir, size_t dirno,
          struct list_ent **ents, size_t *n)
{
	char *d = xmalloc(dirlen + 1);
	DIR *dh;
	struct dirent *de;

	memcpy(d, dir, dirlen);
	d[dirlen] = '\0';
	dh = opendir(d);
	free(d);
	if (dh == NULL)
		return;
	while ((de = readdir(dh)) != NULL) {
		size_t len = strlen(de->d_name);
		char *path;

		if (de->d_name[0] == '.' || len <= 5 ||
		    strcmp(de->d_name + len - 5, ".yaml") != 0)
			continue;
		path = path_join(dir, dirlen, de->d_name, "");
		if (!is_file(path)) {
			free(path);
			continue;
		}
		*ents = xreallocarray(*ents, *n + 1, sizeof(**ents));
		(*ents)[*n] = (struct list_ent){
		    .path = path, .box_dir = box_dir, .dir = dirno};
		(*ents)[*n].name = xmalloc(len - 4);
		memcpy((*ents)[*n].name, de->d_name, len - 5);
		(*ents)[(*n)++].name[len - 5] = '\0';
	}
	closedir(dh);
}

/* Does a peer (not a box, not invalid) of this name exist? */
static bool
list_has_peer(const struct list_ent *ents, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (list_group(&ents[i]) == 0 &&
		    strcmp(ents[i].name, name) == 0)
			return true;
	return false;
}

/* The column width of the names of a vendor's tree (indent included). */
static int
list_width(const struct list_ent *ents, size_t n, const struct list_ent *e,
           int depth)
{
	int w = 2 * depth + (int)strlen(e->name);

	for (size_t i = 0; i < n && depth < 8; i++)
		if (ents[i].scenario && list_group(&ents[i]) == 0 &&
		    ents[i].parent != NULL &&
		    strcmp(ents[i].parent, e->name) == 0) {
			int c = list_width(ents, n, &ents[i], depth + 1);
			if (c > w)
				w = c;
		}
	return w;
}

/* Print e at depth, then the scenarios laid on it, one level deeper. */
static void
list_tree(struct list_ent *ents, size_t n, struct list_ent *e, int depth,
          int width, FILE *out)
{
	int indent = 2 * depth;

	e->shown = true;
	fprintf(out, "%*s%-*s  %s\n", indent, "", width - indent, e->name,
	        e->text);
	for (size_t i = 0; i < n && depth < 8; i++)
		if (!ents[i].shown && ents[i].scenario &&
		    list_group(&ents[i]) == 0 && ents[i].parent != NULL &&
		    strcmp(ents[i].parent, e->name) == 0)
			list_tree(ents, n, &ents[i], depth + 1, width, out);
}

/* Is e a top-level line of its vendor: a peer, or a scenario whose base
 * is not listed as a peer (then its text names the base)? */
static bool
list_top(const struct list_ent *ents, size_t n, const struct list_ent *e)
{
	return list_group(e) == 0 && (!e->scenario || e->parent == NULL ||
	                              !list_has_peer(ents, n, e->parent));
}

/* The peers and scenarios, "vendor:" by vendor. */
static void
list_vendors(struct list_ent *ents, size_t n, FILE *out)
{
	const char *last = NULL;
	int width = 0;

	for (size_t i = 0; i < n; i++)
		if (list_top(ents, n, &ents[i])) {
			int w = list_width(ents, n, &ents[i], 1);
			if (w > width)
				width = w;
		}
	for (size_t i = 0; i < n; i++) {
		if (!list_top(ents, n, &ents[i]))
			continue;
		/* sorted by vendor: a vendor's peers follow each other */
		if (last == NULL || strcmp(last, ents[i].vendor) != 0)
			fprintf(out, "%s:\n", ents[i].vendor);
		last = ents[i].vendor;
		list_tree(ents, n, &ents[i], 1, width, out);
	}
}

/* A loaded profile's line: its description; a scenario's says so, and
 * names its base. */
static void
list_describe(struct list_ent *e, struct profile *p)
{
	const struct profile_impl *pi = impl_of(p);
	const char *d = p->description ? p->description : "";
	const char *v = profile_vendor(p);
	size_t len;

	e->vendor = xstrdup(v != NULL ? v : "(none)");
	if (!p->scenario) {
		e->text = xstrdup(d);
		return;
	}
	e->scenario = true;
	e->parent = xstrdup(pi->nchain > 1 ? pi->chain_names[1] : "?");
	len = strlen(e->parent) + strlen(d) + 32;
	e->text = xmalloc(len);
	snprintf(e->text, len, "(scenario on %s)  %s", e->parent, d);
}

/*
 * profile_list - the server profiles by vendor ("microsoft:", then
 * "  name  description" for each peer, "    name  (scenario on peer)
 * description" under it for each scenario laid on it), "invalid:" for the
 * files that do not load, then "middleboxes:": the files of each dir's
 * "middleboxes" subdirectory and any middlebox found among the profiles.
 * A name is listed once as a server and once as a box, from the place a
 * lookup would find it first.
 */
/* "from:": each search dir that supplied an entry, with its origin and
 * the names listed from it (a count past LIST_FROM_NAMES of them). */
#define LIST_FROM_NAMES 8
static void
list_from(const struct list_ent *ents, size_t n, const char *const *dirs,
          const char *const *origins, size_t ndirs, FILE *out)
{
	fprintf(out, "\nfrom:\n");
	for (size_t d = 0; d < ndirs; d++) {
		size_t count = 0, shown = 0;

		for (size_t i = 0; i < n; i++)
			count += ents[i].dir == d;
		if (count == 0)
			continue;
		fprintf(out, "  %-11s  %s: ", origins[d] ? origins[d] : "",
		        dirs[d]);
		if (count > LIST_FROM_NAMES) {
			fprintf(out, "%zu profiles and middleboxes\n", count);
			continue;
		}
		for (size_t i = 0; i < n; i++)
			if (ents[i].dir == d)
				fprintf(out, "%s%s", shown++ ? ", " : "",
				        ents[i].name);
		fputc('\n', out);
	}
}

size_t
profile_list(const char *const *dirs, size_t ndirs, FILE *out)
{
	return profile_list_from(dirs, NULL, ndirs, out);
}

size_t
profile_list_from(const char *const *dirs, const char *const *origins,
                  size_t ndirs, FILE *out)
{
	struct list_ent *ents = NULL;
	size_t n = 0, keep = 0;
	int width[3] = {0, 0, 0};
	bool any[3] = {false, false, false};

	for (size_t d = 0; d < ndirs; d++) {
		char *sub =
		    path_join(dirs[d], strlen(dirs[d]), "middleboxes", "");

		list_scan(sub, strlen(sub), true, d, &ents, &n);
		list_scan(dirs[d], strlen(dirs[d]), false, d, &ents, &n);
		free(sub);
	}
	for (size_t i = 0; i < n; i++) {
		struct list_ent *e = &ents[i];
		char err[MSG_MAX];
		struct profile *p =
		    profile_load(e->path, dirs, ndirs, err, sizeof(err));
		bool seen = false;
		size_t len;

		e->box = e->box_dir || (p != NULL && p->mbox != NULL);
		for (size_t j = 0; j < keep; j++)
			if (ents[j].box == e->box &&
			    strcmp(ents[j].name, e->name) == 0)
				seen = true;
		if (p == NULL) {
			e->invalid = !e->box;
			len = strlen(err) + 16;
			e->text = xmalloc(len);
			snprintf(e->text, len, "(invalid: %s)", err);
		} else if (e->box && p->mbox == NULL) {
			len = strlen(e->path) + 96;
			e->text = xmalloc(len);
			snprintf(e->text, len,
			         "(invalid: %s is a server profile (kind: "
			         "server), not a middlebox)",
			         e->path);
		} else if (p->scenario && e->box) {
			const struct profile_impl *pi = impl_of(p);
			const char *on =
			    pi->nchain > 1 ? pi->chain_names[1] : "?";
			const char *d = p->description ? p->description : "";

			len = strlen(on) + strlen(d) + 16;
			e->text = xmalloc(len);
			snprintf(e->text, len, "(on %s)  %s", on, d);
		} else if (e->box) {
			e->text = xstrdup(p->description ? p->description : "");
		} else {
			list_describe(e, p);
		}
		if (e->vendor == NULL)
			e->vendor = xstrdup("");
		profile_unref(p);
		if (seen) {
			free(e->name);
			free(e->path);
			free(e->text);
			free(e->vendor);
			free(e->parent);
			continue;
		}
		if ((int)strlen(e->name) > width[list_group(e)])
			width[list_group(e)] = (int)strlen(e->name);
		any[list_group(e)] = true;
		ents[keep++] = *e;
	}
	if (keep > 0)
		qsort(ents, keep, sizeof(*ents), list_cmp);
	if (any[0])
		list_vendors(ents, keep, out);
	for (int g = 1; g < 3; g++) {
		if (!any[g])
			continue;
		fprintf(out, "%s%s:\n",
		        any[0] || (g == 2 && any[1]) ? "\n" : "",
		        g == 1 ? "invalid" : "middleboxes");
		for (size_t i = 0; i < keep; i++)
			if (list_group(&ents[i]) == g)
				fprintf(out, "  %-*s  %s\n", width[g],
				        ents[i].name, ents[i].text);
	}
	if (origins != NULL && keep > 0)
		list_from(ents, keep, dirs, origins, ndirs, out);
	for (size_t i = 0; i < keep; i++) {
		free(ents[i].name);
		free(ents[i].path);
		free(ents[i].text);
		free(ents[i].vendor);
		free(ents[i].parent);
	}
	free(ents);
	return keep;
}
