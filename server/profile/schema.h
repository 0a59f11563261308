/*
 * schema.h - the profile schema as data: one row per key, per section.
 *
 * A row says what a key is called, what type of value it holds, where the
 * value lands (offsetof into the section's struct), its default, what
 * values are allowed, which kind of file allows it (server, middlebox),
 * how --check shows it and a one-line doc. One table of types (schema.c)
 * gives every type the same interface: load a YAML node (errors as
 * file:line:column), set the default, free it, write the value back as
 * YAML (for the man page) and as --check shows it. Loading a file walks the
 * rows: unknown keys and keys of the other kind come out of the rows, a section
 * is merged key by key over what "extends" loaded before it, every other
 * type replaces the inherited value (a list replaces the whole list).
 * Irregular keys (rules, via, extends, ehlo.keywords, credentials,
 * middlebox masks and limit rows ...) are rows of type T_CUSTOM, or a type
 * with a row's own load function, and keep their code in the loaders.
 *
 * Adding a key is one row plus the code that uses it:
 *   1. add the field to its struct (profile.h, tls_policy.h, middlebox.h);
 *   2. add one row to its section in schema_rows.c (or schema_rules.c):
 *      name, type, offsetof, default, allowed values, doc, and for --check
 *      its unit or zero text; loading, the type check with
 *      file:line:column, the "unknown key" list, extends merging, the
 *      default, the --check line and the man page's key reference follow;
 *   3. run test_profile: while the man page's key reference differs from
 *      the rows it fails and writes the rendered text (schema_man()) to a
 *      file to paste between the markers in server/man/smtp-mimic.1;
 *   4. use the field where it acts (a session, tls_policy, a middlebox).
 * --check shows a row-shaped section (Limits, Auth, TLS, a middlebox's)
 * row by row: "name value unit", the zero text for 0 or empty, or the
 * choice's explain_choice text; a row that needs more gets an explain
 * function (explain.c). A key no type fits keeps a type for its default
 * and gets a load function; a new type of value is one entry in
 * schema.c's type table.
 *
 * Does not: hold the code of the irregular keys (server_load.c,
 * mbox_load.c, rules_load.c, load.c) or the --check layout (explain.c).
 */
#ifndef SCHEMA_H
#define SCHEMA_H

#include "loaders.h"
#include "profile_int.h"

enum schema_type {
	T_CUSTOM,      /* nothing generic: the row's load/init do it */
	T_LINE,        /* char *, one line */
	T_TEMPLATE,    /* char *, one line with {placeholders} */
	T_REPLY,       /* struct reply_text */
	T_BOOL,        /* bool */
	T_COUNT,       /* unsigned, 0 .. UINT_MAX */
	T_SIZE,        /* size_t bytes, K/M/G suffixes, at least min */
	T_BYTES,       /* uint64_t bytes, K/M/G suffixes */
	T_DURATION,    /* unsigned ms: 250ms, 30s, 5m, 1h */
	T_CLOSE,       /* enum close_how: fin, rst, silent */
	T_CHOICE,      /* an enum: index into choices[] */
	T_CHOICE_BOOL, /* bool: choices[1] is true */
	T_RANGE,       /* int (or unsigned) min .. max; below min: unset */
	T_DH,          /* unsigned DH bits: 0 or 1024 .. 8192 */
	T_VERSION,     /* unsigned, one enum tls_version_bit */
	T_VERSIONS,    /* unsigned, a non-empty set of tls_version_bit */
	T_SUITES,      /* char ** + count: IANA names or 0xHHHH, TLS <= 1.2 */
	T_SUITES13,    /* char ** + count: IANA names, TLS 1.3 */
	T_NAMES,       /* char ** + count: OpenSSL list items (groups ...) */
	T_WORDS,       /* char ** + count: verbs, keywords or header names */
	T_SUITE_IDS,   /* uint16_t * + count: suites as ClientHello ids */
	T_REGEX,       /* char * pattern + regex_t at noff */
	T_PROB,        /* double, 0 < p <= 1 */
	T_ALERT,       /* int TLS alert, by name or 0..255; -1 none */
	T_SECTION,     /* a mapping: sub's rows, merged key by key */
	T_TYPE_COUNT
};

struct schema_row;
struct schema_section;

/* A row's own loader: replaces the type's, may call schema_load_value(). */
typedef int (*schema_load_fn)(struct layer *l, const struct schema_row *r,
                              const yaml_node_t *n, const char *what,
                              void *base);
/* A row's own default (T_CUSTOM, or a default no literal can say). */
typedef void (*schema_init_fn)(const struct schema_row *r, void *base);
/* A row's own free (T_CUSTOM rows that own memory). */
typedef void (*schema_free_fn)(const struct schema_row *r, void *base);
/* A row's own --check line(s); label already padded by the caller. */
typedef void (*schema_explain_fn)(const struct schema_row *r,
                                  const struct profile *p, const void *base,
                                  const char *label, FILE *out);

/* Row flags */
#define SR_HIDDEN 0x1 /* not shown by --check (another row shows it) */
#define SR_BOX    0x2 /* top level: lands in p->mbox, not in p */
#define SR_SKIP   0x4 /* loaded before the walk (name, kind, extends ...) */
#define SR_LIST   0x8 /* a list of sub's mappings (rules, box limits) */

struct schema_row {
	const char *name;
	enum schema_type type;
	unsigned kinds; /* top level: KIND_SERVER, KIND_MBOX or both */
	unsigned flags; /* SR_x */
	size_t off;     /* the field, from the section's base */
	size_t noff;    /* a list's count (a regex's regex_t) */
	/* default */
	long long def;               /* numbers, bools, choices */
	const char *def_str;         /* T_LINE, T_TEMPLATE, T_REPLY */
	const char *const *def_list; /* lists, NULL-terminated */
	const char *def_doc;         /* the default in words (man page) */
	/* allowed values */
	const char *const *choices; /* T_CHOICE(_BOOL); NULL entries skipped */
	size_t nchoices;
	long long min, max;  /* T_SIZE min, T_RANGE */
	int word;            /* T_WORDS: enum word_type */
	const char *example; /* T_NAMES: an item, for the message */
	const struct schema_section *sub; /* T_SECTION */
	schema_load_fn load;              /* instead of the type's load */
	schema_init_fn init;              /* instead of the type's default */
	schema_free_fn free;              /* instead of the type's free */
	/* --check */
	const char *unit;                  /* after the bare number */
	const char *zero;                  /* instead of 0 / empty / unset */
	const char *const *explain_choice; /* per choice (bool: no, yes) */
	schema_explain_fn explain;
	const char *doc; /* one line: what the key does */
};

struct schema_section {
	const char *name; /* "limits"; "" at the top level */
	const struct schema_row *rows;
	size_t nrows;
	bool allow_null;       /* "limits:" alone means {} */
	const char *form_hint; /* a list here is the other kind's form */
	const struct schema_section *other; /* the other kind's keys */
	const char *other_hint;
	/* a "tls:" key is present (before its keys load) */
	void (*present)(struct layer *l, void *base);
	/* after its keys: checks across keys */
	int (*finish)(struct layer *l, const yaml_node_t *map, void *base);
	const char *doc; /* man page: one line about the section */
};

/* One entry per enum schema_type: the per-type interface. */
struct schema_type_ops {
	const char *name; /* for the man page: "size", "duration" ... */
	int (*load)(struct layer *l, const struct schema_row *r,
	            const yaml_node_t *n, const char *what, void *base);
	void (*init)(const struct schema_row *r, void *base);
	/* free what the value owns and zero it (safe to call twice) */
	void (*free)(const struct schema_row *r, void *base);
	/* the value as a profile would write it ("512", "5m", "[a, b]") */
	void (*yaml)(const struct schema_row *r, const void *base, char *buf,
	             size_t len);
	/* the value as --check shows it (one line; lists: see explain.c) */
	void (*human)(const struct schema_row *r, const void *base, char *buf,
	              size_t len);
	bool replaces; /* extends: replaces (true) or merges key by key */
};

extern const struct schema_type_ops schema_types[T_TYPE_COUNT];

/* The sections (schema_rows.c, schema_rules.c). */
extern const struct schema_section schema_top;
extern const struct schema_section schema_ehlo, schema_box_ehlo;
extern const struct schema_section schema_limits, schema_auth, schema_tls;
extern const struct schema_section schema_greylist; /* schema_grey.c */
extern const struct schema_section schema_auth_ntlm;
extern const struct schema_section schema_data;
extern const struct schema_section schema_pace; /* schema_pace.c */
extern const struct schema_section schema_box_commands, schema_box_dup;
extern const struct schema_section schema_box_limit;
extern const struct schema_section schema_rule, schema_do;
extern const struct schema_section schema_hooks[HOOK_COUNT];

/* schema_field - where row r's value lives in base */
void *schema_field(const struct schema_row *r, const void *base);

/* schema_row_find - the row named key (for kind, 0 = any), or NULL */
const struct schema_row *schema_row_find(const struct schema_section *s,
                                         const char *key, unsigned kind);

/* schema_load_value - load n into r's field with r's type (no row hook) */
int schema_load_value(struct layer *l, const struct schema_row *r,
                      const yaml_node_t *n, const char *what, void *base);

/*
 * schema_walk - load mapping n of section s into base: its keys checked
 * against the rows of kind (unknown keys and the other kind's keys are
 * errors), each present key loaded by its row in document order, keys
 * left out keep what base holds (the parent's value, or the default).
 * prefix names the mapping in messages ("limits", "rules.x.do").
 */
int schema_walk(struct layer *l, const struct schema_section *s,
                const yaml_node_t *n, const char *prefix, unsigned kind,
                void *base);

/* schema_check_keys - only the key check of schema_walk */
int schema_check_keys(struct layer *l, const struct schema_section *s,
                      const yaml_node_t *n, const char *prefix, unsigned kind);

/* schema_defaults - every row of s (of kind, 0 any) to its default */
void schema_defaults(const struct schema_section *s, unsigned kind, void *base);

/* schema_fmt_ms - 5m, 30s, 250ms; zero for 0 */
const char *schema_fmt_ms(char *buf, size_t len, unsigned ms, const char *zero);
/* schema_fmt_bytes - "10485760 bytes (10M)"; zero for 0 */
const char *schema_fmt_bytes(char *buf, size_t len, uint64_t v,
                             const char *zero);

/* schema_fmt_yaml - row r's value in base as a profile would write it */
void schema_fmt_yaml(const struct schema_row *r, const void *base, char *buf,
                     size_t len);

/* schema_free - free what every row of s (of kind, 0 any) owns in base;
 * the top level's middlebox rows are mbox_config_free()'s */
void schema_free(const struct schema_section *s, unsigned kind, void *base);

/* schema_man - the rows as man(7) text, the man page's key reference */
void schema_man(FILE *out);

/* schema_each - call fn for every row of every section, with its path */
void schema_each(void (*fn)(const char *path, const struct schema_row *r,
                            void *arg),
                 void *arg);

#endif
