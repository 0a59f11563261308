/*
 * profile.c - a loaded profile's lifetime: string-vector helpers, freeing,
 * profile_ref / profile_unref.
 *
 * Does not: load (load.c) or describe (explain.c) a profile.
 */
#include "schema.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* impl_of - the loader's view of a profile */
struct profile_impl *
impl_of(const struct profile *p)
{
	return (struct profile_impl *)(void *)p;
}

/* strv_free - free n strings and the array */
void
strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* reply_free - free a reply's lines, leave it empty */
void
reply_free(struct reply_text *r)
{
	strv_free(r->lines, r->n);
	r->lines = NULL;
	r->n = 0;
}

/* reply_set1 - make r the one line given */
void
reply_set1(struct reply_text *r, const char *line)
{
	reply_free(r);
	r->lines = xmalloc(sizeof(char *));
	r->lines[0] = xstrdup(line);
	r->n = 1;
}

/* when_init - empty "when": every field at its "any" value */
void
when_init(struct rule_when *w)
{
	memset(w, 0, sizeof(*w));
	w->verb = VERB_UNKNOWN;
	w->extension = -1;
	w->suite = -1;
}

/* when_free - what a when owns (any hook's rows), then empty */
void
when_free(struct rule_when *w)
{
	for (int h = 0; h < HOOK_COUNT; h++)
		schema_free(&schema_hooks[h], 0, w);
	when_init(w);
}

/* do_init - empty "do": no action, no alert */
void
do_init(struct rule_do *d)
{
	memset(d, 0, sizeof(*d));
	d->alert = -1;
	d->at = TLS_AT_NOW;
}

/* do_free - what a do owns, then empty */
void
do_free(struct rule_do *d)
{
	schema_free(&schema_do, 0, d);
	do_init(d);
}

/* creds_free - free the credentials, leave none */
void
creds_free(struct auth_policy *a)
{
	for (size_t i = 0; i < a->ncreds; i++) {
		free(a->creds[i].user);
		free(a->creds[i].password);
	}
	free(a->creds);
	a->creds = NULL;
	a->ncreds = 0;
}

/* profile_free - free a profile and all it owns (refs are profile_unref's) */
void
profile_free(struct profile_impl *pi)
{
	struct profile *p = &pi->pub;

	free(p->name);
	free(p->description);
	free(p->path);
	schema_free(&schema_top, KIND_SERVER, p);
	if (p->mbox != NULL)
		mbox_config_free(p->mbox);
	origin_free(pi);
	strv_free(pi->chain_names, pi->nchain);
	strv_free(pi->chain_paths, pi->nchain);
	free(pi);
}

/* profile_ehlo - the EHLO list a session gets: inside TLS or not */
struct ehlo_list
profile_ehlo(const struct profile *p, bool tls)
{
	if (tls)
		return (struct ehlo_list){
		    .keywords = p->ehlo_keywords_tls,
		    .nkeywords = p->nehlo_keywords_tls,
		    .ext = p->ext_tls,
		    .ext_size = p->ext_size_tls,
		    .auth_mechs = p->auth_mechs_tls,
		    .nauth_mechs = p->nauth_mechs_tls,
		};
	return (struct ehlo_list){
	    .keywords = p->ehlo_keywords,
	    .nkeywords = p->nehlo_keywords,
	    .ext = p->ext,
	    .ext_size = p->ext_size,
	    .auth_mechs = p->auth_mechs,
	    .nauth_mechs = p->nauth_mechs,
	};
}

/* profile_ref - one more user of p */
struct profile *
profile_ref(struct profile *p)
{
	if (p != NULL)
		atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
	return p;
}

/* profile_unref - one user fewer; the last one frees everything */
void
profile_unref(struct profile *p)
{
	if (p == NULL)
		return;
	if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1) {
		if (impl_of(p)->parts != NULL) {
			composite_free(impl_of(p)); /* shares the rest */
			return;
		}
		tls_policy_free(p->tls_policy); /* built by server.c */
		profile_free(impl_of(p));
	}
}

/* profile_new - a server profile with every key at its row's default */
struct profile_impl *
profile_new(void)
{
	struct profile_impl *pi = xcalloc(1, sizeof(*pi));

	atomic_init(&pi->pub.refs, 1);
	origin_init(pi);
	schema_defaults(&schema_top, KIND_SERVER, &pi->pub);
	return pi;
}
