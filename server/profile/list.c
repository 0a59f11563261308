/*
 * list.c - profile_list, --list-profiles: every profile and middlebox
 * in the search dirs with its description, or why it does not load.
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
	bool box_dir; /* found in a "middleboxes" subdirectory */
	bool box;     /* listed with the middleboxes */
	char *text;   /* description, or why it does not load */
};

static int
list_cmp(const void *a, const void *b)
{
	return strcmp(((const struct list_ent *)a)->name,
	              ((const struct list_ent *)b)->name);
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
 * then a "middleboxes:" group: the files of each dir's "middleboxes"
 * subdirectory and any middlebox found among the profiles. A name is
 * listed once per group, from the place a lookup would find it first.
 */
size_t
profile_list(const char *const *dirs, size_t ndirs, FILE *out)
{
	struct list_ent *ents = NULL;
	size_t n = 0, keep = 0;
	int width[2] = {0, 0};
	bool any_box = false;

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
		if ((int)strlen(e->name) > width[e->box])
			width[e->box] = (int)strlen(e->name);
		any_box |= e->box;
		ents[keep++] = *e;
	}
	if (keep > 0)
		qsort(ents, keep, sizeof(*ents), list_cmp);
	for (int box = 0; box < 2; box++) {
		if (box && any_box)
			fprintf(out, "%smiddleboxes:\n",
			        keep > 0 && width[0] > 0 ? "\n" : "");
		for (size_t i = 0; i < keep; i++)
			if (ents[i].box == box)
				fprintf(out, "%s%-*s  %s\n", box ? "  " : "",
				        width[box], ents[i].name, ents[i].text);
	}
	for (size_t i = 0; i < keep; i++) {
		free(ents[i].name);
		free(ents[i].path);
		free(ents[i].text);
	}
	free(ents);
	return keep;
}
