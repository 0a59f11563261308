/*
 * profile_int.h - what the files of the profile loader share: the loader
 * and layer state, memory helpers, the schema's name tables and each
 * file's functions. Private to server/profile/.
 */
#ifndef PROFILE_INT_H
#define PROFILE_INT_H

#include "profile.h"

#include <limits.h>
#include <yaml.h>

#define nitems(a)              (sizeof(a) / sizeof((a)[0]))
#define PROFILE_MAX_DEPTH      8         /* levels of "extends" */
#define PROFILE_MAX_BYTES      (1 << 20) /* a profile is a small text file */
#define PROFILE_MAX_VIA        8 /* middleboxes in front of one server */
#define MSG_MAX                1024
#define TLS_ALERT_CLOSE_NOTIFY 0 /* RFC 5246 7.2.1 */

enum profile_kind {
	KIND_SERVER = 1u << 0,
	KIND_MBOX = 1u << 1,
};
#define KIND_BOTH (KIND_SERVER | KIND_MBOX)
/* What the loader knows beyond struct profile, for the summary. */
struct profile_impl {
	struct profile pub; /* first: &impl->pub == (void *)impl */
	char **chain_names; /* this file, its parent, ... */
	char **chain_paths;
	size_t nchain;
	bool size_from_keyword; /* message_size came from "SIZE n" */
};
struct kw_state {
	unsigned ext;
	uint64_t ext_size;
	bool size_is_max_size; /* "SIZE {max_size}" */
	char **mechs;
	size_t nmechs;
};
struct loader {
	struct profile_impl *pi;
	const char *const *dirs;
	size_t ndirs;
	char *err;
	size_t errlen;
	/* the files being loaded, outermost first, for cycles */
	char *real[PROFILE_MAX_DEPTH + 1];
	const char *names[PROFILE_MAX_DEPTH + 1];
	size_t depth;
	bool size_explicit;    /* some file set limits.message_size */
	bool size_is_max_size; /* current keywords say "SIZE {max_size}" */
	unsigned kind;         /* KIND_x of the files loaded so far */
	/* "file:line:column" of the tls.ciphers / tls.ciphersuites in force */
	char ciphers_at[PATH_MAX + 48];
	char ciphersuites_at[PATH_MAX + 48];
};
/* One file being loaded. */
struct layer {
	struct loader *ld;
	struct profile *p;
	const char *path;
	char *src;
	size_t srclen;
	yaml_document_t doc;
	bool have_doc;
	size_t rules_before; /* p->nrules before this file's rules */
	unsigned kind;       /* this file's KIND_x */
	bool kind_explicit;  /* it says "kind:" */
};
struct other_keys {
	const char *const *keys;
	size_t n;
	unsigned kind;    /* the kind that allows them */
	const char *hint; /* what this kind writes instead, or NULL */
};
enum word_type {
	WORD_VERB,    /* one word of printable characters, upper-cased */
	WORD_KEYWORD, /* an EHLO keyword, upper-cased */
	WORD_HEADER,  /* a header name, kept as written */
};

struct version_name {
	const char *name;
	unsigned bit;
};

extern const struct version_name tls_versions[5];
extern const char *const noshared_names[4];
extern const char *const key_names[2];
extern const char *const at_names[3];
extern const char *const kind_names[2];
extern const char *const banner_names[3];
extern const char *const denied_names[2];
extern const char *const mbox_action_names[3];
extern const char *const cut_action_names[3];
extern const char *const mbox_action_why[3];
extern const char *const measure_names[MBOX_MEASURE_COUNT];

/* What a list of strings is made of, for get_str_list(). */
enum str_list {
	STR_SUITES,   /* IANA names or 0xHHHH, TLS <= 1.2 */
	STR_SUITES13, /* IANA names, TLS 1.3 */
	STR_NAMES,    /* one OpenSSL list item each */
};

struct schema_row;

/* profile.c */
struct profile_impl *impl_of(const struct profile *p);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *old, size_t n, size_t size);
char *xstrdup(const char *s);
void strv_free(char **v, size_t n);
void reply_free(struct reply_text *r);
void reply_set1(struct reply_text *r, const char *line);
void when_init(struct rule_when *w);
void when_free(struct rule_when *w);
void do_init(struct rule_do *d);
void do_free(struct rule_do *d);
void creds_free(struct auth_policy *a);
void profile_free(struct profile_impl *pi);
struct profile_impl *profile_new(void);

/* yaml_read.c */
__attribute__((format(printf, 4, 5))) int
err_at(struct layer *l, size_t line0, size_t col0, const char *fmt, ...);
__attribute__((format(printf, 3, 4))) int
err_node(struct layer *l, const yaml_node_t *n, const char *fmt, ...);
__attribute__((format(printf, 2, 3))) int err_plain(struct loader *ld,
                                                    const char *fmt, ...);
yaml_node_t *node(struct layer *l, int id);
const char *sval(const yaml_node_t *n);
bool is_null(const yaml_node_t *n);
const char *kind(const yaml_node_t *n);
int wrong_type(struct layer *l, const yaml_node_t *n, const char *what,
               const char *expected);
int want_scalar(struct layer *l, const yaml_node_t *n, const char *what,
                const char *expected);
int want_line(struct layer *l, const yaml_node_t *n, const char *what,
              const char *hint);
int get_line(struct layer *l, const yaml_node_t *n, const char *what,
             char **dst);
const char *join(char *buf, size_t len, const char *const *names, size_t n,
                 const char *skip);
int check_keys(struct layer *l, const yaml_node_t *map, const char *where,
               const char *const *known, size_t nknown,
               const struct other_keys *other);
int check_map(struct layer *l, const yaml_node_t *map, const char *where,
              const char *const *known, size_t nknown);
int wrong_form(struct layer *l, const yaml_node_t *n, const char *what,
               const char *hint);
yaml_node_t *map_get(struct layer *l, const yaml_node_t *map, const char *key);
int want_map(struct layer *l, const yaml_node_t *n, const char *what,
             bool allow_null);
int check_tpl(struct layer *l, const yaml_node_t *n, const char *what);
int layer_read(struct layer *l);

/* values.c */
const char *alert_name(int desc, char *buf, size_t len);
int get_bool(struct layer *l, const yaml_node_t *n, const char *what,
             bool *out);
const char *parse_digits(const char *s, uint64_t *v);
int get_count(struct layer *l, const yaml_node_t *n, const char *what,
              unsigned *out);
int get_bytes(struct layer *l, const yaml_node_t *n, const char *what,
              uint64_t max, uint64_t *out);
int get_duration(struct layer *l, const yaml_node_t *n, const char *what,
                 unsigned *out);
int get_close(struct layer *l, const yaml_node_t *n, const char *what,
              enum close_how *out);
int get_regex(struct layer *l, const yaml_node_t *n, const char *what,
              char **pattern, regex_t *re);
int get_reply(struct layer *l, const yaml_node_t *n, const char *what,
              struct reply_text *r);
int get_version(struct layer *l, const yaml_node_t *n, const char *what,
                unsigned *bit);
int get_versions(struct layer *l, const yaml_node_t *n, const char *what,
                 unsigned *out);
bool suite_is_hex(const char *s, uint16_t *id);
bool suite_is_iana(const char *s);
int bad_suite_form(struct layer *l, const yaml_node_t *n, const char *what);
int get_suite_id(struct layer *l, const yaml_node_t *n, const char *what,
                 uint16_t *id);
int get_suite_ids(struct layer *l, const yaml_node_t *n, const char *what,
                  uint16_t **out, size_t *nout);
int get_choice(struct layer *l, const yaml_node_t *n, const char *what,
               const char *const *names, size_t nnames, int *out);
int get_range(struct layer *l, const yaml_node_t *n, const char *what, int min,
              int max, int *out);
bool is_ehlo_keyword(const char *s);
char *xstrdup_upper(const char *s);
int get_words(struct layer *l, const yaml_node_t *n, const char *what,
              enum word_type type, char ***dst, size_t *ndst);
int get_alert(struct layer *l, const yaml_node_t *n, const char *what,
              int *out);
int load_probability(struct layer *l, const yaml_node_t *n, const char *what,
                     double *out);
int get_str_list(struct layer *l, const yaml_node_t *n, const char *what,
                 enum str_list kind, const char *example, char ***dst,
                 size_t *ndst);
bool suite_available(const char *s, bool tls13);
bool suite_is_known(const char *s);
int get_dh_bits(struct layer *l, const yaml_node_t *v, const char *what,
                unsigned *out);

/* schema_rows.c */
const char *kind_str(unsigned kind);

/* server_load.c */
const char *kw_derive(struct kw_state *st, const char *kw, char *why,
                      size_t whylen);
void kw_commit(struct profile *p, struct kw_state *st);
int load_hostname(struct layer *l, const struct schema_row *r,
                  const yaml_node_t *n, const char *what, void *base);
int load_keywords(struct layer *l, const struct schema_row *r,
                  const yaml_node_t *n, const char *what, void *base);
int load_commands(struct layer *l, const struct schema_row *r,
                  const yaml_node_t *n, const char *what, void *base);
int load_replies(struct layer *l, const struct schema_row *r,
                 const yaml_node_t *n, const char *what, void *base);
int load_credentials(struct layer *l, const struct schema_row *r,
                     const yaml_node_t *n, const char *what, void *base);
int load_message_size(struct layer *l, const struct schema_row *r,
                      const yaml_node_t *n, const char *what, void *base);
void tls_present(struct layer *l, void *base);
int tls_finish(struct layer *l, const yaml_node_t *n, void *base);
int load_tls_suites(struct layer *l, const struct schema_row *r,
                    const yaml_node_t *n, const char *what, void *base);
int tls_check_available(struct loader *ld);

/* mbox_load.c */
struct mbox_config *mbox_new(struct profile *p);
int load_box_masks(struct layer *l, const struct schema_row *r,
                   const yaml_node_t *n, const char *what, void *base);
int load_box_limit_over(struct layer *l, const struct schema_row *r,
                        const yaml_node_t *v, const char *what, void *base);
int load_box_limits(struct layer *l, const struct schema_row *r,
                    const yaml_node_t *n, const char *what, void *base);
int box_finish(struct layer *l, const yaml_node_t *root);

/* rules_load.c */
int load_when_verb(struct layer *l, const struct schema_row *r,
                   const yaml_node_t *x, const char *what, void *base);
int load_when_header(struct layer *l, const struct schema_row *r,
                     const yaml_node_t *x, const char *what, void *base);
int load_when_extension(struct layer *l, const struct schema_row *r,
                        const yaml_node_t *x, const char *what, void *base);
int load_when_suite(struct layer *l, const struct schema_row *r,
                    const yaml_node_t *x, const char *what, void *base);
int load_rule_when(struct layer *l, const struct schema_row *row,
                   const yaml_node_t *n, const char *where, void *base);
int load_do_reply(struct layer *l, const struct schema_row *r,
                  const yaml_node_t *x, const char *what, void *base);
int load_do_at(struct layer *l, const struct schema_row *r,
               const yaml_node_t *x, const char *what, void *base);
int load_rule_do(struct layer *l, const struct schema_row *row,
                 const yaml_node_t *n, const char *where, void *base);
int load_rules(struct layer *l, const struct schema_row *row,
               const yaml_node_t *n, const char *what, void *base);

/* load.c */
bool is_file(const char *path);
char *path_join(const char *dir, size_t dirlen, const char *name,
                const char *ext);
int load_via(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
             const char *what, void *base);

/* explain.c: the --check lines of rows a type alone cannot show */
#define EXPLAIN_FN(name)                                                       \
	void name(const struct schema_row *r, const struct profile *p,         \
	          const void *base, const char *label, FILE *out)
EXPLAIN_FN(explain_message_size);
EXPLAIN_FN(explain_credentials);
EXPLAIN_FN(explain_tls_key);
EXPLAIN_FN(explain_box_masks);
EXPLAIN_FN(explain_box_limits);
EXPLAIN_FN(explain_box_dup);

/* schema.c */
const char *schema_fmt_ms(char *buf, size_t len, unsigned ms, const char *zero);
const char *schema_fmt_bytes(char *buf, size_t len, uint64_t v,
                             const char *zero);

#endif
