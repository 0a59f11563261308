/*
 * values.h - typed values read from one YAML node, each with its
 * file:line:column error (values.c; the TLS ones in tls_values.c).
 * Private to server/profile/.
 */
#ifndef VALUES_H
#define VALUES_H

#include "yaml_read.h"

enum word_type {
	WORD_VERB,    /* one word of printable characters, upper-cased */
	WORD_KEYWORD, /* an EHLO keyword, upper-cased */
	WORD_HEADER,  /* a header name, kept as written */
};

/* What a list of strings is made of, for get_str_list(). */
enum str_list {
	STR_SUITES,   /* IANA names or 0xHHHH, TLS <= 1.2 */
	STR_SUITES13, /* IANA names, TLS 1.3 */
	STR_NAMES,    /* one OpenSSL list item each */
};

/* values.c */
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
int get_choice(struct layer *l, const yaml_node_t *n, const char *what,
               const char *const *names, size_t nnames, int *out);
int get_range(struct layer *l, const yaml_node_t *n, const char *what, int min,
              int max, int *out);
bool is_ehlo_keyword(const char *s);
char *xstrdup_upper(const char *s);
int get_words(struct layer *l, const yaml_node_t *n, const char *what,
              enum word_type type, char ***dst, size_t *ndst);
int load_probability(struct layer *l, const yaml_node_t *n, const char *what,
                     double *out);

/* tls_values.c */
const char *alert_name(int desc, char *buf, size_t len);
int get_version(struct layer *l, const yaml_node_t *n, const char *what,
                unsigned *bit);
int get_versions(struct layer *l, const yaml_node_t *n, const char *what,
                 unsigned *out);
int bad_suite_form(struct layer *l, const yaml_node_t *n, const char *what);
int get_suite_id(struct layer *l, const yaml_node_t *n, const char *what,
                 uint16_t *id);
int get_suite_ids(struct layer *l, const yaml_node_t *n, const char *what,
                  uint16_t **out, size_t *nout);
int get_alert(struct layer *l, const yaml_node_t *n, const char *what,
              int *out);
int get_str_list(struct layer *l, const yaml_node_t *n, const char *what,
                 enum str_list kind, const char *example, char ***dst,
                 size_t *ndst);
bool suite_available(const char *s, bool tls13);
int get_dh_bits(struct layer *l, const yaml_node_t *v, const char *what,
                unsigned *out);

#endif
