/*
 * yaml_read.h - one profile file as a YAML document (yaml_read.c): the
 * loader and layer state, node helpers, key checks, errors as
 * "file:line:column: what is wrong". Private to server/profile/.
 */
#ifndef YAML_READ_H
#define YAML_READ_H

#include "profile.h"

#include <limits.h>
#include <yaml.h>

#define PROFILE_MAX_DEPTH 8         /* levels of "extends" */
#define PROFILE_MAX_BYTES (1 << 20) /* a profile is a small text file */
#define MSG_MAX           1024

struct profile_impl;

/* One profile_load(): the chain of files, outermost first. */
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
	/* profile_load_text: the outermost file's text (path its label) */
	const char *mem;
	size_t memlen;
	/* "file:line:column" of the tls.ciphers / tls.ciphersuites in force */
	char ciphers_at[PATH_MAX + 48];
	char ciphersuites_at[PATH_MAX + 48];
};

/* One file being loaded. */
struct layer {
	struct loader *ld;
	struct profile *p;
	const char *path; /* a file, or a label ("<request>") for mem */
	const char *mem;  /* the text itself (a request body), or NULL */
	size_t memlen;
	char *src;
	size_t srclen;
	yaml_document_t doc;
	bool have_doc;
	size_t rules_before; /* p->nrules before this file's rules */
	unsigned kind;       /* this file's KIND_x */
	bool kind_explicit;  /* it says "kind:" */
	size_t chain_ix;     /* this file's index in the profile's chain */
};

/* The other kind's keys of a mapping, for "only kind: X allows it". */
struct other_keys {
	const char *const *keys;
	size_t n;
	unsigned kind;    /* the kind that allows them */
	const char *hint; /* what this kind writes instead, or NULL */
};

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
int want_list(struct layer *l, const yaml_node_t *n, const char *what,
              const char *expected, yaml_node_item_t **items, size_t *count);
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
bool is_file(const char *path);
char *path_join(const char *dir, size_t dirlen, const char *name,
                const char *ext);

#endif
