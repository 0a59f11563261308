/*
 * yaml_read.c - one profile file as a YAML document: reading it, node
 * helpers, key checks, and errors as "file:line:column: what is wrong".
 *
 * Does not: interpret any key (the loaders do).
 */
#include "profile_int.h"
#include "template.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Keep the error on one line, whatever the YAML held. */
static void
one_line(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

static int
verr_at(struct layer *l, size_t line0, size_t col0, const char *fmt, va_list ap)
{
	char msg[MSG_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(l->ld->err, l->ld->errlen, "%s:%zu:%zu: %s", l->path,
	         line0 + 1, col0 + 1, msg);
	one_line(l->ld->err);
	return -1;
}

/* err_at - an error at a 0-based line and column; always -1 */
__attribute__((format(printf, 4, 5))) int
err_at(struct layer *l, size_t line0, size_t col0, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr_at(l, line0, col0, fmt, ap);
	va_end(ap);
	return -1;
}

/* err_node - an error located at node n. Always returns -1 */
__attribute__((format(printf, 3, 4))) int
err_node(struct layer *l, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr_at(l, n->start_mark.line, n->start_mark.column, fmt, ap);
	va_end(ap);
	return -1;
}

/* err_plain - an error without a position; always -1 */
__attribute__((format(printf, 2, 3))) int
err_plain(struct loader *ld, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ld->err, ld->errlen, fmt, ap);
	va_end(ap);
	one_line(ld->err);
	return -1;
}

/* node - the node with id in l's document */
yaml_node_t *
node(struct layer *l, int id)
{
	return yaml_document_get_node(&l->doc, id);
}

/* sval - a scalar node's value */
const char *
sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* is_null - a plain null scalar (~, null, empty) */
bool
is_null(const yaml_node_t *n)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	s = sval(n);
	return *s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	       strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* kind - what a node is, for messages ("a list") */
const char *
kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return is_null(n) ? "null" : "a string";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

/* wrong_type - the "wrong type" error; always -1 */
int
wrong_type(struct layer *l, const yaml_node_t *n, const char *what,
           const char *expected)
{
	return err_node(l, n, "wrong type for \"%s\": %s (expected %s)", what,
	                kind(n), expected);
}

/* want_list - a sequence's items, or none for null; else wrong_type */
int
want_list(struct layer *l, const yaml_node_t *n, const char *what,
          const char *expected, yaml_node_item_t **items, size_t *count)
{
	*items = NULL;
	*count = 0;
	if (n->type == YAML_SEQUENCE_NODE) {
		*items = n->data.sequence.items.start;
		*count = (size_t)(n->data.sequence.items.top - *items);
		return 0;
	}
	return is_null(n) ? 0 : wrong_type(l, n, what, expected);
}

/* want_scalar - a non-null scalar without NUL bytes */
int
want_scalar(struct layer *l, const yaml_node_t *n, const char *what,
            const char *expected)
{
	if (n->type != YAML_SCALAR_NODE || is_null(n))
		return wrong_type(l, n, what, expected);
	if (strlen(sval(n)) != n->data.scalar.length)
		return err_node(
		    l, n,
		    "\"%s\" contains a NUL character (remove the \\0 escape)",
		    what);
	return 0;
}

/* want_line - a string on one line (no CR, LF or other control characters) */
int
want_line(struct layer *l, const yaml_node_t *n, const char *what,
          const char *hint)
{
	if (want_scalar(l, n, what, "a string") < 0)
		return -1;
	for (const char *s = sval(n); *s != '\0'; s++)
		if (*s == '\n' || *s == '\r')
			return err_node(l, n,
			                "\"%s\" contains a line break (%s)",
			                what, hint);
		else if ((unsigned char)*s < 0x20 && *s != '\t')
			return err_node(
			    l, n,
			    "\"%s\" contains a control character (remove "
			    "it)",
			    what);
	return 0;
}

/* get_line - a one-line string into *dst */
int
get_line(struct layer *l, const yaml_node_t *n, const char *what, char **dst)
{
	if (want_line(l, n, what, "keep it on one line") < 0)
		return -1;
	free(*dst);
	*dst = xstrdup(sval(n));
	return 0;
}

/* join - build a "known:" list for a message */
const char *
join(char *buf, size_t len, const char *const *names, size_t n,
     const char *skip)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w;

		if (names[i] == NULL || (skip && strcmp(names[i], skip) == 0))
			continue;
		w = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
		             names[i]);
		if (w < 0 || (size_t)w >= len - off)
			break;
		off += (size_t)w;
	}
	return buf;
}

/*
 * check_keys - check a mapping's keys: strings, no duplicates, all in
 * known[] (or in other->keys: an error naming the kind that allows it).
 * where is the mapping's own name for messages ("" at the top level)
 */
int
check_keys(struct layer *l, const yaml_node_t *map, const char *where,
           const char *const *known, size_t nknown,
           const struct other_keys *other)
{
	const yaml_node_pair_t *b = map->data.mapping.pairs.start;
	const yaml_node_pair_t *e = map->data.mapping.pairs.top;
	char under[160], list[MSG_MAX / 2];

	if (*where)
		snprintf(under, sizeof(under), " under \"%s\"", where);
	else
		under[0] = '\0';
	for (const yaml_node_pair_t *pp = b; pp < e; pp++) {
		yaml_node_t *k = node(l, pp->key);
		bool ok = false;

		if (k->type != YAML_SCALAR_NODE)
			return err_node(l, k,
			                "a key%s is %s (keys are plain words)",
			                under, kind(k));
		for (const yaml_node_pair_t *q = b; q < pp; q++) {
			yaml_node_t *k2 = node(l, q->key);

			if (k2->type == YAML_SCALAR_NODE &&
			    strcmp(sval(k2), sval(k)) == 0)
				return err_node(
				    l, k,
				    "duplicate key \"%s\"%s (first at line "
				    "%zu; keep one)",
				    sval(k), under, k2->start_mark.line + 1);
		}
		for (size_t i = 0; i < nknown; i++)
			if (known[i] != NULL && strcmp(known[i], sval(k)) == 0)
				ok = true;
		if (ok)
			continue;
		for (size_t i = 0; other != NULL && i < other->n; i++)
			if (strcmp(other->keys[i], sval(k)) == 0)
				return err_node(
				    l, k,
				    "\"%s%s%s\" is a %s key, not allowed in a "
				    "%s "
				    "profile (only kind: %s allows it%s%s)",
				    where, *where ? "." : "", sval(k),
				    kind_str(other->kind),
				    kind_str(KIND_BOTH & ~other->kind),
				    kind_str(other->kind),
				    other->hint ? "; " : "",
				    other->hint ? other->hint : "");
		return err_node(l, k, "unknown key \"%s\"%s (known: %s)",
		                sval(k), under,
		                join(list, sizeof(list), known, nknown, NULL));
	}
	return 0;
}

/* check_map - check_keys() without the other kind's keys */
int
check_map(struct layer *l, const yaml_node_t *map, const char *where,
          const char *const *known, size_t nknown)
{
	return check_keys(l, map, where, known, nknown, NULL);
}

/*
 * wrong_form - a key whose form (list or mapping) belongs to the other
 * kind, e.g. "limits" as a list in a server profile. Always returns -1
 */
int
wrong_form(struct layer *l, const yaml_node_t *n, const char *what,
           const char *hint)
{
	unsigned other = KIND_BOTH & ~l->kind;

	return err_node(l, n,
	                "\"%s\" as %s is the %s form, not allowed in a %s "
	                "profile (only kind: %s allows it; %s)",
	                what, kind(n), kind_str(other), kind_str(l->kind),
	                kind_str(other), hint);
}

/* map_get - the value of key in map, or NULL */
yaml_node_t *
map_get(struct layer *l, const yaml_node_t *map, const char *key)
{
	for (yaml_node_pair_t *pp = map->data.mapping.pairs.start;
	     pp < map->data.mapping.pairs.top; pp++) {
		yaml_node_t *k = node(l, pp->key);

		if (k->type == YAML_SCALAR_NODE && strcmp(sval(k), key) == 0)
			return node(l, pp->value);
	}
	return NULL;
}

/* want_map - a mapping, or null (= empty mapping) when allow_null */
int
want_map(struct layer *l, const yaml_node_t *n, const char *what,
         bool allow_null)
{
	if (n->type == YAML_MAPPING_NODE || (allow_null && is_null(n)))
		return 0;
	return wrong_type(l, n, what, "a mapping");
}

/* Byte offset of line0 (0-based) in the source, libyaml's line breaks. */
static const char *
src_line(struct layer *l, size_t line0)
{
	const char *s = l->src, *end = l->src + l->srclen;

	if (l->srclen >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3; /* libyaml does not count the BOM */
	while (line0 > 0 && s < end) {
		if (*s == '\n') {
			line0--;
		} else if (*s == '\r') {
			if (s + 1 < end && s[1] == '\n')
				s++;
			line0--;
		}
		s++;
	}
	return line0 == 0 ? s : NULL;
}

static size_t
utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		return 2;
	if ((c & 0xf0) == 0xe0)
		return 3;
	if ((c & 0xf8) == 0xf0)
		return 4;
	return 1;
}

/*
 * Column (0-based, in characters as libyaml counts them) of byte pos of
 * scalar n's value in the source. Works for plain and quoted scalars on
 * one line without escapes; otherwise leaves *col alone.
 */
static void
scalar_col(struct layer *l, const yaml_node_t *n, size_t pos, size_t *col)
{
	yaml_scalar_style_t st = n->data.scalar.style;
	const char *v = sval(n), *end = l->src + l->srclen, *s;
	size_t c, i = 0;

	if (n->start_mark.line != n->end_mark.line ||
	    (st != YAML_PLAIN_SCALAR_STYLE &&
	     st != YAML_SINGLE_QUOTED_SCALAR_STYLE &&
	     st != YAML_DOUBLE_QUOTED_SCALAR_STYLE))
		return;
	if ((s = src_line(l, n->start_mark.line)) == NULL)
		return;
	for (c = 0; c < n->start_mark.column; c++) {
		if (s >= end)
			return;
		s += utf8_len((unsigned char)*s);
	}
	if (st != YAML_PLAIN_SCALAR_STYLE) {
		if (s >= end ||
		    *s != (st == YAML_SINGLE_QUOTED_SCALAR_STYLE ? '\'' : '"'))
			return;
		s++, c++;
	}
	while (i < pos) {
		size_t k;

		if (s >= end)
			return;
		if (st == YAML_SINGLE_QUOTED_SCALAR_STYLE && *s == '\'') {
			if (s + 1 >= end || s[1] != '\'' || v[i] != '\'')
				return;
			s += 2, c += 2, i++;
			continue;
		}
		if (st == YAML_DOUBLE_QUOTED_SCALAR_STYLE && *s == '\\')
			return;
		k = utf8_len((unsigned char)*s);
		if ((size_t)(end - s) < k || memcmp(s, v + i, k) != 0)
			return;
		s += k, i += k, c++;
	}
	*col = c;
}

/* check_tpl - template-check the scalar node n (whose value is the template) */
int
check_tpl(struct layer *l, const yaml_node_t *n, const char *what)
{
	const char *t = sval(n);
	size_t pos = 0, col = n->start_mark.column, len;
	const char *rb;
	char known[MSG_MAX / 2];
	size_t off = 0;

	if (template_check(t, &pos) == 0)
		return 0;
	len = strlen(t);
	if (pos > len)
		pos = len;
	scalar_col(l, n, pos, &col);
	if (t[pos] == '{' && (rb = strchr(t + pos, '}')) != NULL) {
		known[0] = '\0';
		for (int i = 0; i < TPL_COUNT; i++) {
			int w = snprintf(known + off, sizeof(known) - off,
			                 "%s{%s}", i ? ", " : "",
			                 template_var_name((enum tpl_var)i));

			if (w < 0 || (size_t)w >= sizeof(known) - off)
				break;
			off += (size_t)w;
		}
		return err_at(
		    l, n->start_mark.line, col,
		    "unknown placeholder \"%.*s\" in \"%s\" (known: %s; "
		    "write \"{{\" for a literal \"{\")",
		    (int)(rb - (t + pos) + 1), t + pos, what, known);
	}
	if (t[pos] == '{')
		return err_at(
		    l, n->start_mark.line, col,
		    "unclosed \"{\" in \"%s\" (close the placeholder with "
		    "\"}\", or write \"{{\" for a literal \"{\")",
		    what);
	return err_at(
	    l, n->start_mark.line, col,
	    "bad placeholder at \"%.20s\" in \"%s\" (placeholders look like "
	    "{hostname}; write \"{{\" for a literal \"{\")",
	    t + pos, what);
}

/* layer_read - read and parse l->path (or l->mem) into l->doc (one
 * document) */
int
layer_read(struct layer *l)
{
	struct loader *ld = l->ld;
	yaml_parser_t parser;
	yaml_document_t extra;
	FILE *f;
	size_t cap = 4096;
	int rc = -1;

	if (l->mem != NULL) {
		if (l->memlen > PROFILE_MAX_BYTES)
			return err_plain(
			    ld,
			    "%s: text is larger than %d bytes (a profile is "
			    "a small text file)",
			    l->path, PROFILE_MAX_BYTES);
		l->src = xmalloc(l->memlen + 1);
		memcpy(l->src, l->mem, l->memlen);
		l->srclen = l->memlen;
		goto parse;
	}
	if ((f = fopen(l->path, "rb")) == NULL)
		return err_plain(ld, "%s: cannot open: %s (check the path)",
		                 l->path, strerror(errno));
	l->src = xmalloc(cap);
	for (;;) {
		size_t got = fread(l->src + l->srclen, 1, cap - l->srclen, f);

		l->srclen += got;
		if (l->srclen > PROFILE_MAX_BYTES) {
			fclose(f);
			return err_plain(
			    ld,
			    "%s: file is larger than %d bytes (a profile is "
			    "a small text file)",
			    l->path, PROFILE_MAX_BYTES);
		}
		if (l->srclen < cap) {
			if (ferror(f)) {
				fclose(f);
				return err_plain(ld, "%s: cannot read: %s",
				                 l->path, strerror(errno));
			}
			break;
		}
		cap *= 2;
		l->src = xreallocarray(l->src, cap, 1);
	}
	fclose(f);
parse:
	if (!yaml_parser_initialize(&parser))
		abort();
	yaml_parser_set_input_string(&parser, (const unsigned char *)l->src,
	                             l->srclen);
	if (!yaml_parser_load(&parser, &l->doc))
		goto syntax;
	l->have_doc = true;
	if (!yaml_parser_load(&parser, &extra))
		goto syntax;
	if (yaml_document_get_root_node(&extra) != NULL) {
		err_at(l, extra.start_mark.line, extra.start_mark.column,
		       "a second YAML document (a profile file holds one "
		       "document; remove the \"---\" and what follows)");
		yaml_document_delete(&extra);
		goto out;
	}
	yaml_document_delete(&extra);
	rc = 0;
	goto out;
syntax:
	if (parser.error == YAML_MEMORY_ERROR)
		abort();
	if (parser.context != NULL)
		err_at(
		    l, parser.problem_mark.line, parser.problem_mark.column,
		    "YAML syntax error: %s %s at line %zu (check indentation "
		    "and quoting)",
		    parser.problem ? parser.problem : "error", parser.context,
		    parser.context_mark.line + 1);
	else
		err_at(l, parser.problem_mark.line, parser.problem_mark.column,
		       "YAML syntax error: %s (check indentation and quoting)",
		       parser.problem ? parser.problem : "error");
out:
	yaml_parser_delete(&parser);
	return rc;
}

/* is_file - a regular file at path */
bool
is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* path_join - dir (dirlen bytes), "/", name and ext, allocated */
char *
path_join(const char *dir, size_t dirlen, const char *name, const char *ext)
{
	size_t n = dirlen + strlen(name) + strlen(ext) + 2;
	char *s = xmalloc(n);

	if (dirlen == 0)
		snprintf(s, n, "%s%s", name, ext);
	else if (dir[dirlen - 1] == '/')
		snprintf(s, n, "%.*s%s%s", (int)dirlen, dir, name, ext);
	else
		snprintf(s, n, "%.*s/%s%s", (int)dirlen, dir, name, ext);
	return s;
}
