/*
 * schema.c - the per-type interface and the walk over the schema's rows.
 *
 * Does: one entry per enum schema_type (load a node, set the default,
 * write the value as YAML and as --check shows it), schema_walk() that
 * loads a mapping by its section's rows (unknown and other-kind keys are
 * errors with file:line:column), and schema_defaults().
 *
 * Does not: hold the rows (schema_rows.c, schema_rules.c) or the code of
 * irregular keys (the *_load.c files); read values itself (values.c).
 */
#include "schema.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define F(r, base)  schema_field((r), (base))
#define NF(r, base) ((void *)((char *)(base) + (r)->noff))

/* schema_field - where row r's value lives in base */
void *
schema_field(const struct schema_row *r, const void *base)
{
	return (char *)base + r->off;
}

/* ------------------------------------------------------------------ */

static int
ld_line(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
        const char *what, void *base)
{
	return get_line(l, n, what, F(r, base));
}

static int
ld_template(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
            const char *what, void *base)
{
	if (get_line(l, n, what, F(r, base)) < 0 || check_tpl(l, n, what) < 0)
		return -1;
	return 0;
}

static int
ld_reply(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
         const char *what, void *base)
{
	return get_reply(l, n, what, F(r, base));
}

static int
ld_bool(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
        const char *what, void *base)
{
	return get_bool(l, n, what, F(r, base));
}

static int
ld_count(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
         const char *what, void *base)
{
	return get_count(l, n, what, F(r, base));
}

static int
ld_bytes(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
         const char *what, void *base)
{
	uint64_t v;

	if (get_bytes(l, n, what, r->type == T_SIZE ? SIZE_MAX : UINT64_MAX,
	              &v) < 0)
		return -1;
	if (v < (uint64_t)r->min)
		return err_node(l, n,
		                "\"%s\" is too small: %s (use at least %llu "
		                "bytes)",
		                what, sval(n), (unsigned long long)r->min);
	if (r->type == T_SIZE)
		*(size_t *)F(r, base) = (size_t)v;
	else
		*(uint64_t *)F(r, base) = v;
	return 0;
}

static int
ld_duration(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
            const char *what, void *base)
{
	return get_duration(l, n, what, F(r, base));
}

static int
ld_close(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
         const char *what, void *base)
{
	return get_close(l, n, what, F(r, base));
}

static int
ld_choice(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
          const char *what, void *base)
{
	int c;

	if (get_choice(l, n, what, r->choices, r->nchoices, &c) < 0)
		return -1;
	if (r->type == T_CHOICE_BOOL)
		*(bool *)F(r, base) = c == 1;
	else
		*(int *)F(r, base) = c;
	return 0;
}

static int
ld_range(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
         const char *what, void *base)
{
	return get_range(l, n, what, (int)r->min, (int)r->max, F(r, base));
}

static int
ld_dh(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
      const char *what, void *base)
{
	return get_dh_bits(l, n, what, F(r, base));
}

static int
ld_version(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
           const char *what, void *base)
{
	return get_version(l, n, what, F(r, base));
}

static int
ld_versions(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
            const char *what, void *base)
{
	return get_versions(l, n, what, F(r, base));
}

static int
ld_strings(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
           const char *what, void *base)
{
	enum str_list kind = r->type == T_SUITES     ? STR_SUITES
	                     : r->type == T_SUITES13 ? STR_SUITES13
	                                             : STR_NAMES;

	return get_str_list(l, n, what, kind, r->example, F(r, base),
	                    NF(r, base));
}

static int
ld_words(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
         const char *what, void *base)
{
	return get_words(l, n, what, (enum word_type)r->word, F(r, base),
	                 NF(r, base));
}

static int
ld_suite_ids(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
             const char *what, void *base)
{
	return get_suite_ids(l, n, what, F(r, base), NF(r, base));
}

static int
ld_regex(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
         const char *what, void *base)
{
	return get_regex(l, n, what, F(r, base), NF(r, base));
}

static int
ld_prob(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
        const char *what, void *base)
{
	return load_probability(l, n, what, F(r, base));
}

static int
ld_alert(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
         const char *what, void *base)
{
	return get_alert(l, n, what, F(r, base));
}

static int
ld_section(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
           const char *what, void *base)
{
	return schema_walk(l, r->sub, n, what, l->kind, F(r, base));
}

/* ------------------------------------------------------------------ */
/* Defaults                                                            */

static char **
strv_dup(const char *const *v, size_t *n)
{
	char **out;

	for (*n = 0; v != NULL && v[*n] != NULL; (*n)++)
		;
	out = xcalloc(*n, sizeof(char *));
	for (size_t i = 0; i < *n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

static void
in_str(const struct schema_row *r, void *base)
{
	char **f = F(r, base);

	free(*f);
	*f = r->def_str != NULL ? xstrdup(r->def_str) : NULL;
}

static void
in_reply(const struct schema_row *r, void *base)
{
	if (r->def_str != NULL)
		reply_set1(F(r, base), r->def_str);
}

static void
in_bool(const struct schema_row *r, void *base)
{
	*(bool *)F(r, base) = r->def != 0;
}

static void
in_uint(const struct schema_row *r, void *base)
{
	*(unsigned *)F(r, base) = (unsigned)r->def;
}

static void
in_int(const struct schema_row *r, void *base)
{
	*(int *)F(r, base) = (int)r->def;
}

static void
in_size(const struct schema_row *r, void *base)
{
	if (r->type == T_SIZE)
		*(size_t *)F(r, base) = (size_t)r->def;
	else
		*(uint64_t *)F(r, base) = (uint64_t)r->def;
}

static void
in_list(const struct schema_row *r, void *base)
{
	size_t *n = NF(r, base);
	char ***v = F(r, base);

	strv_free(*v, *n);
	*v = strv_dup(r->def_list, n);
}

static void
in_prob(const struct schema_row *r, void *base)
{
	*(double *)F(r, base) = (double)r->def;
}

static void
in_section(const struct schema_row *r, void *base)
{
	schema_defaults(r->sub, 0, F(r, base));
}

static void
in_none(const struct schema_row *r, void *base)
{
}

/* ------------------------------------------------------------------ */
/* Freeing                                                             */

static void
fr_str(const struct schema_row *r, void *base)
{
	char **f = F(r, base);

	free(*f);
	*f = NULL;
}

static void
fr_reply(const struct schema_row *r, void *base)
{
	reply_free(F(r, base));
}

static void
fr_list(const struct schema_row *r, void *base)
{
	size_t *n = NF(r, base);
	char ***v = F(r, base);

	strv_free(*v, *n);
	*v = NULL;
	*n = 0;
}

static void
fr_ids(const struct schema_row *r, void *base)
{
	uint16_t **v = F(r, base);

	free(*v);
	*v = NULL;
	*(size_t *)NF(r, base) = 0;
}

static void
fr_regex(const struct schema_row *r, void *base)
{
	char **pattern = F(r, base);

	if (*pattern != NULL)
		regfree(NF(r, base));
	free(*pattern);
	*pattern = NULL;
}

static void
fr_section(const struct schema_row *r, void *base)
{
	schema_free(r->sub, 0, F(r, base));
}

static void
fr_none(const struct schema_row *r, void *base)
{
}

/* ------------------------------------------------------------------ */
/* Values as text                                                      */

static unsigned long long
num_of(const struct schema_row *r, const void *base)
{
	const void *f = F(r, base);

	switch (r->type) {
	case T_BOOL:
	case T_CHOICE_BOOL:
		return *(const bool *)f;
	case T_SIZE:
		return *(const size_t *)f;
	case T_BYTES:
		return *(const uint64_t *)f;
	default:
		return *(const unsigned *)f;
	}
}

static void
bytes_yaml(char *buf, size_t len, unsigned long long v)
{
	static const char units[] = "GMK";

	for (int i = 0; i < 3 && v != 0; i++) {
		unsigned long long m = 1ull << (10 * (3 - i));

		if (v % m == 0) {
			snprintf(buf, len, "%llu%c", v / m, units[i]);
			return;
		}
	}
	snprintf(buf, len, "%llu", v);
}

/* schema_fmt_ms - 5m, 30s, 250ms; zero for 0 */
const char *
schema_fmt_ms(char *buf, size_t len, unsigned ms, const char *zero)
{
	if (ms == 0)
		snprintf(buf, len, "%s", zero);
	else if (ms % 3600000 == 0)
		snprintf(buf, len, "%uh", ms / 3600000);
	else if (ms % 60000 == 0)
		snprintf(buf, len, "%um", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%us", ms / 1000);
	else
		snprintf(buf, len, "%ums", ms);
	return buf;
}

/* schema_fmt_bytes - "10485760 bytes (10M)"; zero for 0 */
const char *
schema_fmt_bytes(char *buf, size_t len, uint64_t v, const char *zero)
{
	static const char units[] = "GMK";

	if (v == 0) {
		snprintf(buf, len, "%s", zero);
		return buf;
	}
	for (int i = 0; i < 3; i++) {
		uint64_t m = 1ull << (10 * (3 - i));

		if (v % m == 0) {
			snprintf(buf, len, "%llu bytes (%llu%c)",
			         (unsigned long long)v,
			         (unsigned long long)(v / m), units[i]);
			return buf;
		}
	}
	snprintf(buf, len, "%llu bytes", (unsigned long long)v);
	return buf;
}

static void
join_words(char *buf, size_t len, char *const *v, size_t n, const char *open,
           const char *sep, const char *close)
{
	size_t off = (size_t)snprintf(buf, len, "%s", open);

	for (size_t i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		                        i ? sep : "", v[i]);
	if (off < len)
		snprintf(buf + off, len - off, "%s", close);
}

static void
versions_text(char *buf, size_t len, unsigned bits, const char *open,
              const char *sep, const char *close)
{
	const char *v[TLS_VERSION_COUNT];
	size_t n = 0;

	for (size_t i = 0; i < TLS_VERSION_COUNT; i++)
		if (bits & tls_version_names[i].bit)
			v[n++] = tls_version_names[i].schema;
	join_words(buf, len, (char *const *)v, n, open, sep, close);
}

static const char *
choice_name(const struct schema_row *r, unsigned v, bool human)
{
	if (human && r->explain_choice != NULL)
		return r->explain_choice[v];
	if (r->choices != NULL && v < r->nchoices && r->choices[v] != NULL)
		return r->choices[v];
	return "?";
}

static void
fmt_value(const struct schema_row *r, const void *base, char *buf, size_t len,
          bool human)
{
	const void *f = F(r, base);
	unsigned long long v = 0;

	buf[0] = '\0';
	if (r->type != T_CUSTOM && r->type != T_LINE && r->type != T_TEMPLATE &&
	    r->type != T_REPLY && r->type < T_SUITES)
		v = num_of(r, base);
	if (human && r->unit != NULL) {
		snprintf(buf, len, "%llu%s", v, r->unit);
		return;
	}
	switch (r->type) {
	case T_LINE:
	case T_TEMPLATE: {
		const char *s = *(char *const *)f;

		snprintf(buf, len, human ? "%s" : "\"%s\"",
		         s != NULL ? s : (human ? "(none)" : ""));
		return;
	}
	case T_REPLY: {
		const struct reply_text *rt = f;

		snprintf(buf, len, "\"%s\"", rt->n ? rt->lines[0] : "");
		return;
	}
	case T_BOOL:
	case T_CHOICE_BOOL:
		if (human)
			snprintf(buf, len, "%s",
			         r->explain_choice ? r->explain_choice[v]
			         : r->choices      ? r->choices[v]
			         : v               ? "yes"
			                           : "no");
		else
			snprintf(buf, len, "%s",
			         r->choices ? r->choices[v]
			         : v        ? "true"
			                    : "false");
		return;
	case T_COUNT:
	case T_DH:
		if (human && v == 0 && r->zero)
			snprintf(buf, len, "%s", r->zero);
		else
			snprintf(buf, len, "%llu", v);
		return;
	case T_SIZE:
	case T_BYTES:
		if (human)
			schema_fmt_bytes(buf, len, v, r->zero ? r->zero : "0");
		else
			bytes_yaml(buf, len, v);
		return;
	case T_DURATION:
		schema_fmt_ms(buf, len, (unsigned)v,
		              human && r->zero ? r->zero : "0");
		return;
	case T_CLOSE:
		snprintf(buf, len, "%s", close_how_str((enum close_how)v));
		return;
	case T_CHOICE:
		snprintf(buf, len, "%s", choice_name(r, (unsigned)v, human));
		return;
	case T_RANGE: {
		int i = *(const int *)f;

		if (i < r->min)
			snprintf(buf, len, "%s",
			         human && r->zero ? r->zero : "unset");
		else
			snprintf(buf, len, "%d", i);
		return;
	}
	case T_VERSION:
		versions_text(buf, len, (unsigned)v, "", "", "");
		return;
	case T_VERSIONS:
		versions_text(buf, len, (unsigned)v, human ? "" : "[",
		              human ? " " : ", ", human ? "" : "]");
		return;
	case T_SUITES:
	case T_SUITES13:
	case T_NAMES:
	case T_WORDS: {
		size_t n = *(const size_t *)NF(r, base);

		if (human && n == 0 && r->zero)
			snprintf(buf, len, "%s", r->zero);
		else
			join_words(buf, len, *(char **const *)f, n,
			           human ? "" : "[", human ? " " : ", ",
			           human ? "" : "]");
		return;
	}
	case T_PROB:
		snprintf(buf, len, "%g", *(const double *)f);
		return;
	default:
		return;
	}
}

/* schema_fmt_yaml - the value as a profile would write it */
void
schema_fmt_yaml(const struct schema_row *r, const void *base, char *buf,
                size_t len)
{
	fmt_value(r, base, buf, len, false);
}

static void
fmt_human(const struct schema_row *r, const void *base, char *buf, size_t len)
{
	fmt_value(r, base, buf, len, true);
}

static void
fmt_none(const struct schema_row *r, const void *base, char *buf, size_t len)
{
	buf[0] = '\0';
}

#define VAL(nm, ld, in, fr, rep)                                               \
	{                                                                      \
		nm, ld, in, fr, schema_fmt_yaml, fmt_human, rep                \
	}

const struct schema_type_ops schema_types[T_TYPE_COUNT] = {
    [T_CUSTOM] = {"custom", NULL, in_none, fr_none, fmt_none, fmt_none, true},
    [T_LINE] = VAL("string", ld_line, in_str, fr_str, true),
    [T_TEMPLATE] = VAL("template", ld_template, in_str, fr_str, true),
    [T_REPLY] = VAL("reply", ld_reply, in_reply, fr_reply, true),
    [T_BOOL] = VAL("bool", ld_bool, in_bool, fr_none, true),
    [T_COUNT] = VAL("count", ld_count, in_uint, fr_none, true),
    [T_SIZE] = VAL("size", ld_bytes, in_size, fr_none, true),
    [T_BYTES] = VAL("size", ld_bytes, in_size, fr_none, true),
    [T_DURATION] = VAL("duration", ld_duration, in_uint, fr_none, true),
    [T_CLOSE] = VAL("close", ld_close, in_int, fr_none, true),
    [T_CHOICE] = VAL("choice", ld_choice, in_int, fr_none, true),
    [T_CHOICE_BOOL] = VAL("choice", ld_choice, in_bool, fr_none, true),
    [T_RANGE] = VAL("number", ld_range, in_int, fr_none, true),
    [T_DH] = VAL("bits", ld_dh, in_uint, fr_none, true),
    [T_VERSION] = VAL("version", ld_version, in_uint, fr_none, true),
    [T_VERSIONS] = VAL("versions", ld_versions, in_uint, fr_none, true),
    [T_SUITES] = VAL("suites", ld_strings, in_list, fr_list, true),
    [T_SUITES13] = VAL("suites", ld_strings, in_list, fr_list, true),
    [T_NAMES] = VAL("names", ld_strings, in_list, fr_list, true),
    [T_WORDS] = VAL("words", ld_words, in_list, fr_list, true),
    [T_SUITE_IDS] = VAL("suites", ld_suite_ids, in_none, fr_ids, true),
    [T_REGEX] = VAL("regex", ld_regex, in_none, fr_regex, true),
    [T_PROB] = VAL("probability", ld_prob, in_prob, fr_none, true),
    [T_ALERT] = VAL("alert", ld_alert, in_int, fr_none, true),
    [T_SECTION] = {"mapping", ld_section, in_section, fr_section, fmt_none,
                   fmt_none, false},
};

/* ------------------------------------------------------------------ */
/* The walk                                                            */

static bool
row_in_kind(const struct schema_row *r, unsigned kind)
{
	return kind == 0 || r->kinds == 0 || (r->kinds & kind) != 0;
}

/* schema_row_find - the row named key (for kind, 0 = any), or NULL */
const struct schema_row *
schema_row_find(const struct schema_section *s, const char *key, unsigned kind)
{
	for (size_t i = 0; i < s->nrows; i++)
		if (row_in_kind(&s->rows[i], kind) &&
		    strcmp(s->rows[i].name, key) == 0)
			return &s->rows[i];
	return NULL;
}

static bool
listed(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* schema_check_keys - only the key check of schema_walk */
int
schema_check_keys(struct layer *l, const struct schema_section *s,
                  const yaml_node_t *n, const char *prefix, unsigned kind)
{
	const char *known[64], *others[64];
	size_t nknown = 0, nothers = 0;
	unsigned okind = KIND_BOTH & ~kind;
	struct other_keys other = {others, 0, okind, s->other_hint};

	for (size_t i = 0; i < s->nrows && nknown < nitems(known); i++)
		if (row_in_kind(&s->rows[i], kind) &&
		    !listed(known, nknown, s->rows[i].name))
			known[nknown++] = s->rows[i].name;
	for (size_t i = 0; i < s->nrows && nothers < nitems(others); i++)
		if (!row_in_kind(&s->rows[i], kind) &&
		    !listed(known, nknown, s->rows[i].name))
			others[nothers++] = s->rows[i].name;
	for (size_t i = 0; s->other != NULL && i < s->other->nrows &&
	                   nothers < nitems(others);
	     i++)
		if (!listed(known, nknown, s->other->rows[i].name))
			others[nothers++] = s->other->rows[i].name;
	other.n = nothers;
	if (kind != KIND_SERVER && s == &schema_top)
		other.hint = NULL;
	return check_keys(l, n, prefix, known, nknown,
	                  nothers != 0 ? &other : NULL);
}

/* schema_load_value - load n into r's field with r's type (no row hook) */
int
schema_load_value(struct layer *l, const struct schema_row *r,
                  const yaml_node_t *n, const char *what, void *base)
{
	if (schema_types[r->type].load == NULL)
		return 0;
	return schema_types[r->type].load(l, r, n, what, base);
}

static void *
row_base(const struct schema_row *r, void *base)
{
	return (r->flags & SR_BOX) ? (void *)((struct profile *)base)->mbox
	                           : base;
}

/* schema_walk - load mapping n of section s into base */
int
schema_walk(struct layer *l, const struct schema_section *s,
            const yaml_node_t *n, const char *prefix, unsigned kind, void *base)
{
	char what[200];

	if (n->type == YAML_SEQUENCE_NODE && s->form_hint != NULL)
		return wrong_form(l, n, prefix, s->form_hint);
	if (want_map(l, n, prefix, s->allow_null) < 0)
		return -1;
	if (s->present != NULL)
		s->present(l, base);
	if (is_null(n))
		return 0;
	if (schema_check_keys(l, s, n, prefix, kind) < 0)
		return -1;
	for (yaml_node_pair_t *pp = n->data.mapping.pairs.start;
	     pp < n->data.mapping.pairs.top; pp++) {
		const char *key = sval(node(l, pp->key));
		const yaml_node_t *v = node(l, pp->value);
		const struct schema_row *r = schema_row_find(s, key, kind);
		void *rb;
		int rc;

		if (r == NULL || (r->flags & SR_SKIP))
			continue;
		rb = row_base(r, base);
		snprintf(what, sizeof(what), "%s%s%s", prefix,
		         *prefix ? "." : "", key);
		rc = r->load != NULL ? r->load(l, r, v, what, rb)
		                     : schema_load_value(l, r, v, what, rb);
		if (rc < 0)
			return -1;
	}
	return s->finish != NULL ? s->finish(l, n, base) : 0;
}

/* schema_defaults - every row of s (of kind, 0 any) to its default */
void
schema_defaults(const struct schema_section *s, unsigned kind, void *base)
{
	for (size_t i = 0; i < s->nrows; i++) {
		const struct schema_row *r = &s->rows[i];

		if (!row_in_kind(r, kind) || (r->flags & SR_SKIP))
			continue;
		if (r->init != NULL)
			r->init(r, row_base(r, base));
		else
			schema_types[r->type].init(r, row_base(r, base));
	}
}

/* schema_free - free what every row of s (of kind, 0 any) owns in base */
void
schema_free(const struct schema_section *s, unsigned kind, void *base)
{
	for (size_t i = 0; i < s->nrows; i++) {
		const struct schema_row *r = &s->rows[i];

		if (!row_in_kind(r, kind) || (r->flags & (SR_SKIP | SR_BOX)))
			continue;
		if (r->free != NULL)
			r->free(r, base);
		else
			schema_types[r->type].free(r, base);
	}
}
