/*
 * loaders.h - the code of the schema rows no type alone can load or show:
 * their load functions (server_load.c, mbox_load.c, rules_load.c,
 * load.c) and --check lines (explain.c). Private to server/profile/.
 */
#ifndef LOADERS_H
#define LOADERS_H

#include "profile_int.h"

struct schema_row;

/* server_load.c */
const char *kw_derive(struct kw_state *st, const char *kw, char *why,
                      size_t whylen);
void kw_commit(struct profile *p, struct kw_state *st);
int load_hostname(struct layer *l, const struct schema_row *r,
                  const yaml_node_t *n, const char *what, void *base);
int load_keywords(struct layer *l, const struct schema_row *r,
                  const yaml_node_t *n, const char *what, void *base);
int load_keywords_tls(struct layer *l, const struct schema_row *r,
                      const yaml_node_t *n, const char *what, void *base);
void ehlo_tls_finish(struct profile *p);
int load_ntlm_name(struct layer *l, const struct schema_row *r,
                   const yaml_node_t *n, const char *what, void *base);
int load_ntlm_version(struct layer *l, const struct schema_row *r,
                      const yaml_node_t *n, const char *what, void *base);
void auth_ntlm_finish(struct profile *p);
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

int load_bad_count(struct layer *l, const struct schema_row *r,
                   const yaml_node_t *n, const char *what, void *base);

/* origin.c */
int reply_with_source(struct layer *l, const yaml_node_t *n, const char *what,
                      int id, struct reply_text *r);
int load_greeting(struct layer *l, const struct schema_row *r,
                  const yaml_node_t *n, const char *what, void *base);
int load_vendor(struct layer *l, const struct schema_row *r,
                const yaml_node_t *n, const char *what, void *base);
int load_faithfulness(struct layer *l, const struct schema_row *r,
                      const yaml_node_t *n, const char *what, void *base);

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
int load_do_key(struct layer *l, const struct schema_row *r,
                const yaml_node_t *x, const char *what, void *base);
void init_do_key(const struct schema_row *r, void *base);
int load_rule_do(struct layer *l, const struct schema_row *row,
                 const yaml_node_t *n, const char *where, void *base);
int load_rule(struct layer *l, const yaml_node_t *seq, yaml_node_t *n,
              size_t idx);
int load_rules(struct layer *l, const struct schema_row *row,
               const yaml_node_t *n, const char *what, void *base);

/* load.c */
int load_via(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
             const char *what, void *base);

/* explain.c: the --check lines of rows a type alone cannot show */
#define EXPLAIN_FN(name)                                                       \
	void name(const struct schema_row *r, const struct profile *p,         \
	          const void *base, const char *label, FILE *out)
EXPLAIN_FN(explain_message_size);
EXPLAIN_FN(explain_credentials);
EXPLAIN_FN(explain_ntlm);
EXPLAIN_FN(explain_tls_key);
EXPLAIN_FN(explain_box_masks);
EXPLAIN_FN(explain_box_limits);
EXPLAIN_FN(explain_box_dup);
EXPLAIN_FN(explain_bad_count);

/* the frees of the rows above that own memory */
void free_keywords(const struct schema_row *r, void *base);
void free_keywords_tls(const struct schema_row *r, void *base);
void free_replies(const struct schema_row *r, void *base);
void free_credentials(const struct schema_row *r, void *base);
void free_via(const struct schema_row *r, void *base);
void free_rule_when(const struct schema_row *r, void *base);
void free_rule_do(const struct schema_row *r, void *base);
void free_rules(const struct schema_row *r, void *base);

#endif
