/*
 * list.c - profile_list, --list-profiles: every profile and middlebox
 * in the search dirs with its description, or why it does not load, in
 * three groups: the peers themselves, "scenarios:" (files that say
 * "scenario: true": a field bug on top of a peer, shown with the profile
 * they extend) and "middleboxes:".
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
	bool scenario; /* "scenario: true": listed with the scenarios */
	char *text;    /* description, or why it does not load */
};

static int
list_cmp(const void *a, const void *b)
{
	return strcmp(((const struct list_ent *)a)->name,
	              ((const struct list_ent *)b)->name);
}

/* 0: a peer, 1: a scenario on a peer, 2: a middlebox (a middlebox
 * scenario stays with the boxes; its text names what it is laid on) */
static int
list_group(const struct list_ent *e)
{
	return e->box ? 2 : e->scenario ? 1 : 0;
}

/* Append the *.yaml files of dir (length dirlen) to *ents. */
static void
list_scan(const char *dir, size_t dirlen, bool box_dir, struct list_ent **ents,
          size_t *n)
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
		(*ents)[*n] =
		    (struct list_ent){.path = path, .box_dir = box_dir};
		(*ents)[*n].name = xmalloc(len - 4);
		memcpy((*ents)[*n].name, de->d_name, len - 5);
		(*ents)[(*n)++].name[len - 5] = '\0';
	}
	closedir(dh);
}

/*
 * profile_list - "name  description" for every server profile in dirs,
 * then a "scenarios:" group, "name  (on parent)  description" for each
 * file that says "scenario: true", then a "middleboxes:" group: the files
 * of each dir's "middleboxes" subdirectory and any middlebox found among
 * the profiles. A name is listed once as a server and once as a box, from
 * the place a lookup would find it first.
 */
size_t
profile_list(const char *const *dirs, size_t ndirs, FILE *out)
{
	struct list_ent *ents = NULL;
	size_t n = 0, keep = 0;
	int width[3] = {0, 0, 0};
	bool any[3] = {false, false, false};

	for (size_t d = 0; d < ndirs; d++) {
		char *sub =
		    path_join(dirs[d], strlen(dirs[d]), "middleboxes", "");

		list_scan(sub, strlen(sub), true, &ents, &n);
		list_scan(dirs[d], strlen(dirs[d]), false, &ents, &n);
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
		} else if (p->scenario) {
			const struct profile_impl *pi = impl_of(p);
			const char *on =
			    pi->nchain > 1 ? pi->chain_names[1] : "?";
			const char *d = p->description ? p->description : "";

			e->scenario = true;
			len = strlen(on) + strlen(d) + 16;
			e->text = xmalloc(len);
			snprintf(e->text, len, "(on %s)  %s", on, d);
		} else {
			e->text = xstrdup(p->description ? p->description : "");
		}
		profile_unref(p);
		if (seen) {
			free(e->name);
			free(e->path);
			free(e->text);
			continue;
		}
		if ((int)strlen(e->name) > width[list_group(e)])
			width[list_group(e)] = (int)strlen(e->name);
		any[list_group(e)] = true;
		ents[keep++] = *e;
	}
	if (keep > 0)
		qsort(ents, keep, sizeof(*ents), list_cmp);
	for (int g = 0; g < 3; g++) {
		if (g > 0 && any[g])
			fprintf(out, "%s%s:\n",
			        any[0] || (g == 2 && any[1]) ? "\n" : "",
			        g == 1 ? "scenarios" : "middleboxes");
		for (size_t i = 0; i < keep; i++)
			if (list_group(&ents[i]) == g)
				fprintf(out, "%s%-*s  %s\n", g > 0 ? "  " : "",
				        width[g], ents[i].name, ents[i].text);
	}
	for (size_t i = 0; i < keep; i++) {
		free(ents[i].name);
		free(ents[i].path);
		free(ents[i].text);
	}
	free(ents);
	return keep;
}
