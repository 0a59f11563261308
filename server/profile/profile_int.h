/*
 * profile_int.h - what every file of the profile loader shares: the kinds
 * of file, struct profile_impl, memory helpers and freeing (profile.c),
 * the schema's name tables (schema_rows.c); it pulls in yaml_read.h and
 * values.h. Private to server/profile/.
 */
#ifndef PROFILE_INT_H
#define PROFILE_INT_H

#include "profile.h"
#include "xalloc.h"
#include "values.h"
#include "yaml_read.h"

#define nitems(a)              (sizeof(a) / sizeof((a)[0]))
#define PROFILE_MAX_VIA        8 /* middleboxes in front of one server */
#define TLS_ALERT_CLOSE_NOTIFY 0 /* RFC 5246 7.2.1 */

enum profile_kind {
	KIND_SERVER = 1u << 0,
	KIND_MBOX = 1u << 1,
};
#define KIND_BOTH (KIND_SERVER | KIND_MBOX)

/* "faithfulness:" entries: what a file says is sourced, a model choice,
 * or a known difference (origin.c). */
enum faith_kind {
	FAITH_SOURCED,
	FAITH_MODEL,
	FAITH_DIFFERENCE,
	FAITH_KIND_COUNT
};

struct faith_item {
	enum faith_kind kind;
	char *key;   /* a later file's entry with the same key replaces it */
	char *text;  /* the source, the choice and why, or the difference */
	size_t from; /* chain index of the file that said it */
};

/* What the loader knows beyond struct profile, for the summary. */
struct profile_impl {
	struct profile pub; /* first: &impl->pub == (void *)impl */
	char **chain_names; /* this file, its parent, ... */
	char **chain_paths;
	char **chain_vendors; /* each file's own "vendor:", or NULL */
	size_t nchain;
	bool size_from_keyword; /* message_size came from "SIZE n" */
	/* per reply: chain index of the file that set it (-1: built-in),
	 * and that file's "source:" for it */
	int reply_from[REPLY_COUNT];
	char *reply_source[REPLY_COUNT];
	struct faith_item *faith;
	size_t nfaith;
	/* a composite (compose.c): base first, then the rule holders; it
	 * owns only pub.rules and these references. NULL otherwise. */
	struct profile **parts;
	size_t nparts;
};

/* What ehlo.keywords give (server_load.c). */
struct kw_state {
	unsigned ext;
	uint64_t ext_size;
	bool size_is_max_size; /* "SIZE {max_size}" */
	char **mechs;
	size_t nmechs;
	const char *key; /* the list's key for messages; NULL: ehlo.keywords */
};

extern const char *const key_names[2];
extern const char *const at_names[3];
extern const char *const kind_names[2];
extern const char *const mbox_action_why[3];
extern const char *const measure_names[MBOX_MEASURE_COUNT];

/* schema_rows.c */
const char *kind_str(unsigned kind);

/* origin.c */
void origin_init(struct profile_impl *pi);
void origin_free(struct profile_impl *pi);
void origin_set(struct layer *l, int id, const char *source);

/* profile.c */
struct profile_impl *impl_of(const struct profile *p);
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

/* compose.c */
void composite_free(struct profile_impl *ci);

#endif
