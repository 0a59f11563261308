/*
 * schema_man.c - every row of the schema, by path: schema_each() and
 * schema_man(), which renders the rows as the man page's key reference
 * (test_profile fails when server/man/smtp-mimic.1 holds another text).
 *
 * Does not: load anything (schema.c) or hold the rows (schema_rows.c).
 */
#include "schema.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct each {
	void (*fn)(const char *path, const struct schema_row *r, void *arg);
	void *arg;
};

static void
each_section(struct each *e, const struct schema_section *s, const char *prefix,
             unsigned kind)
{
	char path[160];

	for (size_t i = 0; i < s->nrows; i++) {
		const struct schema_row *r = &s->rows[i];

		if (kind != 0 && r->kinds != 0 && !(r->kinds & kind))
			continue;
		if (kind == KIND_MBOX && r->kinds == KIND_BOTH)
			continue; /* shown with the server keys */
		snprintf(path, sizeof(path), "%s%s%s", prefix,
		         *prefix ? "." : "", r->name);
		e->fn(path, r, e->arg);
		if (r->sub == NULL)
			continue;
		if (r->flags & SR_LIST)
			strncat(path, "[]", sizeof(path) - strlen(path) - 1);
		each_section(e, r->sub, path, 0);
		if (r->sub == &schema_rule)
			for (int h = 0; h < HOOK_COUNT; h++) {
				char hp[200];

				snprintf(hp, sizeof(hp), "%s.when.%s", path,
				         hook_names[h]);
				each_section(e, &schema_hooks[h], hp, 0);
			}
	}
}

/* schema_each - call fn for every row of every section, with its path */
void
schema_each(void (*fn)(const char *path, const struct schema_row *r, void *arg),
            void *arg)
{
	struct each e = {fn, arg};

	each_section(&e, &schema_top, "", KIND_SERVER);
	each_section(&e, &schema_top, "", KIND_MBOX);
}

/* man(7) text: backslashes and dashes escaped, no line starts with "." */
static void
man_text(FILE *out, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else
			fputc(*s, out);
	}
}

static void
man_row(const char *path, const struct schema_row *r, void *arg)
{
	FILE *out = arg;
	char def[256];
	void *scratch;

	const char *kind =
	    r->kinds == KIND_MBOX ? "kind: middlebox"
	    : r->kinds == KIND_SERVER && strchr(path, '.') == NULL
	        ? "kind: server"
	        : NULL;
	const char *type = r->type == T_CUSTOM ? NULL
	                   : schema_types[r->type].replaces
	                       ? schema_types[r->type].name
	                       : "mapping, merged key by key";

	fputs(".TP\n.B ", out);
	man_text(out, path);
	if (type != NULL || kind != NULL)
		fprintf(out, "\n.RI ( \"%s%s%s\" )", type ? type : "",
		        type && kind ? ", " : "", kind ? kind : "");
	fputc('\n', out);
	fputc(toupper((unsigned char)r->doc[0]), out);
	man_text(out, r->doc + 1);
	fputs(".\n", out);
	if (r->def_doc != NULL) {
		snprintf(def, sizeof(def), "%s", r->def_doc);
	} else if (r->type == T_SECTION || r->type == T_CUSTOM ||
	           r->type == T_SUITE_IDS || r->type == T_REGEX) {
		def[0] = '\0';
	} else {
		/* the default as the type writes it, from a scratch struct */
		scratch = xcalloc(1, 4096);
		schema_types[r->type].init(r, scratch);
		schema_fmt_yaml(r, scratch, def, sizeof(def));
		if (r->type == T_LINE || r->type == T_TEMPLATE)
			free(*(char **)schema_field(r, scratch));
		else if (r->type == T_REPLY)
			reply_free(schema_field(r, scratch));
		else if (r->type >= T_SUITES && r->type <= T_WORDS)
			strv_free(*(char ***)schema_field(r, scratch),
			          *(size_t *)((char *)scratch + r->noff));
		free(scratch);
	}
	if (def[0] != '\0') {
		fputs("Default: ", out);
		man_text(out, def);
		fputs(".\n", out);
	}
}

/* schema_man - the rows as man(7) text, the man page's key reference */
void
schema_man(FILE *out)
{
	schema_each(man_row, out);
}
