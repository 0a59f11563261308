/*
 * server_load.c - the sections of a server profile: hostname, ehlo
 * (keywords -> extension bits), commands, line_endings, replies, limits,
 * auth and tls.
 *
 * Does not: rules (rules_load.c), middlebox keys (mbox_load.c), the file
 * as a whole (load.c).
 */
#include "profile_int.h"
#include "template.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/*
 * Derive the extension bits from one keyword. Returns NULL, or what is
 * wrong with it (a message that fits the "(what to do)" part).
 */
const char *
kw_derive(struct kw_state *st, const char *kw, char *why, size_t whylen)
{
	size_t wlen = strcspn(kw, " ");
	const char *rest = kw + wlen;
	unsigned bit = 0;

	while (*rest == ' ')
		rest++;
	bit = ext_from_word(kw, wlen);
	if (bit == 0)
		return NULL; /* advertised only */
	if (st->ext & bit) {
		snprintf(
		    why, whylen,
		    "keyword \"%.*s\" is listed twice in \"ehlo.keywords\" "
		    "(keep one)",
		    (int)wlen, kw);
		return why;
	}
	st->ext |= bit;
	if (bit == EXT_SIZE) {
		char *end;

		if (*rest == '\0')
			return NULL; /* RFC 1870 4: no fixed maximum */
		if (strcmp(rest, "{max_size}") == 0) {
			st->size_is_max_size = true;
			return NULL;
		}
		errno = 0;
		if (!isdigit((unsigned char)*rest))
			goto badsize;
		st->ext_size = strtoull(rest, &end, 10);
		if (errno != 0 || *end != '\0')
			goto badsize;
		return NULL;
	badsize:
		snprintf(
		    why, whylen,
		    "bad \"SIZE\" keyword \"%s\" in \"ehlo.keywords\" (write "
		    "\"SIZE\" and a number of bytes, e.g. \"SIZE 10485760\")",
		    kw);
		return why;
	}
	if (bit == EXT_AUTH) {
		while (*rest != '\0') {
			size_t n = strcspn(rest, " ");

			st->mechs = xreallocarray(st->mechs, st->nmechs + 1,
			                          sizeof(char *));
			st->mechs[st->nmechs] = xmalloc(n + 1);
			for (size_t i = 0; i < n; i++)
				st->mechs[st->nmechs][i] =
				    (char)toupper((unsigned char)rest[i]);
			st->mechs[st->nmechs++][n] = '\0';
			rest += n;
			while (*rest == ' ')
				rest++;
		}
		if (st->nmechs == 0) {
			snprintf(
			    why, whylen,
			    "\"AUTH\" keyword without mechanisms in "
			    "\"ehlo.keywords\" (list them, e.g. \"AUTH PLAIN "
			    "LOGIN\")");
			return why;
		}
	}
	return NULL;
}

/* Replace the profile's keywords and derived fields with st's. */
void
kw_commit(struct profile *p, struct kw_state *st)
{
	strv_free(p->auth_mechs, p->nauth_mechs);
	p->auth_mechs = st->mechs;
	p->nauth_mechs = st->nmechs;
	p->ext = st->ext;
	p->ext_size = st->ext_size;
	st->mechs = NULL;
	st->nmechs = 0;
}

int
load_hostname(struct layer *l, const yaml_node_t *n)
{
	if (want_line(l, n, "hostname", "keep it on one line") < 0)
		return -1;
	for (const char *s = sval(n); *s != '\0'; s++)
		if (isspace((unsigned char)*s) || *s == '{' || *s == '}')
			return err_node(
			    l, n,
			    "bad hostname \"%s\" (a host name has no spaces "
			    "or braces, e.g. mx.lab.test)",
			    sval(n));
	free(l->p->hostname);
	l->p->hostname = xstrdup(sval(n));
	return 0;
}

static int
load_keywords(struct layer *l, const yaml_node_t *n)
{
	struct profile *p = l->p;
	struct kw_state st = {0};
	yaml_node_item_t *b;
	size_t cnt;
	char why[256];
	const char *bad;

	if (is_null(n)) {
		cnt = 0;
		b = NULL;
	} else if (n->type == YAML_SEQUENCE_NODE) {
		b = n->data.sequence.items.start;
		cnt = (size_t)(n->data.sequence.items.top - b);
	} else {
		return wrong_type(l, n, "ehlo.keywords", "a list of strings");
	}
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *it = node(l, b[i]);

		if (want_line(l, it, "ehlo.keywords",
		              "give one keyword per list item") < 0 ||
		    check_tpl(l, it, "ehlo.keywords") < 0)
			goto fail;
		if (sval(it)[0] == '\0' || sval(it)[0] == ' ') {
			err_node(
			    l, it,
			    "empty EHLO keyword in \"ehlo.keywords\" (start "
			    "each keyword with its name, e.g. PIPELINING)");
			goto fail;
		}
		if ((bad = kw_derive(&st, sval(it), why, sizeof(why))) !=
		    NULL) {
			err_node(l, it, "%s", bad);
			goto fail;
		}
	}
	strv_free(p->ehlo_keywords, p->nehlo_keywords);
	p->ehlo_keywords = xcalloc(cnt, sizeof(char *));
	for (size_t i = 0; i < cnt; i++)
		p->ehlo_keywords[i] = xstrdup(sval(node(l, b[i])));
	p->nehlo_keywords = cnt;
	l->ld->size_is_max_size = st.size_is_max_size;
	kw_commit(p, &st);
	return 0;
fail:
	strv_free(st.mechs, st.nmechs);
	return -1;
}

int
load_ehlo(struct layer *l, const yaml_node_t *n)
{
	static const char *const keys[] = {"greeting", "keywords"};
	static const char *const box_keys[] = {"masks", "allowed", "others"};
	static const struct other_keys other = {
	    box_keys, nitems(box_keys), KIND_MBOX,
	    "a server's ehlo has greeting and keywords"};
	yaml_node_t *v;

	if (want_map(l, n, "ehlo", false) < 0 ||
	    check_keys(l, n, "ehlo", keys, nitems(keys), &other) < 0)
		return -1;
	if ((v = map_get(l, n, "greeting")) != NULL &&
	    (get_line(l, v, "ehlo.greeting", &l->p->ehlo_greeting) < 0 ||
	     check_tpl(l, v, "ehlo.greeting") < 0))
		return -1;
	if ((v = map_get(l, n, "keywords")) != NULL && load_keywords(l, v) < 0)
		return -1;
	return 0;
}

int
load_commands(struct layer *l, const yaml_node_t *n)
{
	unsigned mask = 0;
	char list[256];

	if (n->type == YAML_MAPPING_NODE)
		return wrong_form(l, n, "commands",
		                  "a server lists the verbs it recognises, "
		                  "e.g. commands: [HELO, EHLO, MAIL]");
	if (n->type != YAML_SEQUENCE_NODE)
		return wrong_type(l, n, "commands", "a list of verbs");
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *v = node(l, *it);
		int verb;

		if (want_scalar(l, v, "commands", "a verb") < 0)
			return -1;
		verb = verb_from_str(sval(v), strlen(sval(v)));
		if (verb < 0)
			return err_node(
			    l, v,
			    "unknown command \"%s\" in \"commands\" (known: "
			    "%s)",
			    sval(v),
			    join(list, sizeof(list), verb_names, VERB_COUNT,
			         NULL));
		if (mask & (1u << verb))
			return err_node(
			    l, v,
			    "command \"%s\" is listed twice in \"commands\" "
			    "(keep one)",
			    sval(v));
		mask |= 1u << verb;
	}
	l->p->commands = mask;
	return 0;
}

int
load_line_endings(struct layer *l, const yaml_node_t *n)
{
	if (want_scalar(l, n, "line_endings", "strict or lenient") < 0)
		return -1;
	if (strcmp(sval(n), "strict") == 0)
		l->p->eol = EOL_STRICT;
	else if (strcmp(sval(n), "lenient") == 0)
		l->p->eol = EOL_LENIENT;
	else
		return err_node(
		    l, n,
		    "bad value \"%s\" for \"line_endings\" (use strict or "
		    "lenient)",
		    sval(n));
	return 0;
}

int
load_replies(struct layer *l, const yaml_node_t *n)
{
	char what[64];

	if (want_map(l, n, "replies", true) < 0 || is_null(n))
		return is_null(n) ? 0 : -1;
	for (yaml_node_pair_t *pp = n->data.mapping.pairs.start;
	     pp < n->data.mapping.pairs.top; pp++) {
		yaml_node_t *k = node(l, pp->key);

		if (k->type == YAML_SCALAR_NODE &&
		    strcmp(sval(k), "greeting") == 0)
			return err_node(
			    l, k,
			    "\"greeting\" does not go under \"replies\" (move "
			    "it to the top level: greeting: \"220 ...\")");
	}
	if (check_map(l, n, "replies", reply_id_names, REPLY_COUNT) < 0)
		return -1;
	for (yaml_node_pair_t *pp = n->data.mapping.pairs.start;
	     pp < n->data.mapping.pairs.top; pp++) {
		const char *key = sval(node(l, pp->key));
		int id = reply_id_from_str(key);

		snprintf(what, sizeof(what), "replies.%s", key);
		if (get_reply(l, node(l, pp->value), what, &l->p->replies[id]) <
		    0)
			return -1;
	}
	return 0;
}

/* limits: a declarative table (name, type, field). */
enum lim_type { LIM_SIZE, LIM_U64, LIM_COUNT, LIM_MS, LIM_CLOSE };

static const struct limit_def {
	const char *key;
	enum lim_type type;
	size_t off;
	uint64_t min;
} limit_defs[] = {
    {"line_length", LIM_SIZE, offsetof(struct limits, line_length), 3},
    {"text_line_length", LIM_SIZE, offsetof(struct limits, text_line_length),
     3},
    {"recipients", LIM_COUNT, offsetof(struct limits, recipients), 0},
    {"message_size", LIM_U64, offsetof(struct limits, message_size), 0},
    {"header_size", LIM_SIZE, offsetof(struct limits, header_size), 0},
    {"bad_commands", LIM_COUNT, offsetof(struct limits, bad_commands), 0},
    {"bad_commands_close", LIM_CLOSE,
     offsetof(struct limits, bad_commands_close), 0},
    {"idle_timeout", LIM_MS, offsetof(struct limits, idle_timeout_ms), 0},
    {"connection_timeout", LIM_MS,
     offsetof(struct limits, connection_timeout_ms), 0},
    {"hang_timeout", LIM_MS, offsetof(struct limits, hang_timeout_ms), 0},
    {"max_sessions", LIM_COUNT, offsetof(struct limits, max_sessions), 0},
    {"max_sessions_per_client", LIM_COUNT,
     offsetof(struct limits, max_sessions_per_client), 0},
};

int
load_limits(struct layer *l, const yaml_node_t *n)
{
	const char *keys[nitems(limit_defs)];
	char what[64];

	for (size_t i = 0; i < nitems(limit_defs); i++)
		keys[i] = limit_defs[i].key;
	if (n->type == YAML_SEQUENCE_NODE)
		return wrong_form(l, n, "limits",
		                  "a server's limits are a mapping, e.g. "
		                  "limits: {recipients: 100}");
	if (want_map(l, n, "limits", true) < 0 || is_null(n))
		return is_null(n) ? 0 : -1;
	if (check_map(l, n, "limits", keys, nitems(keys)) < 0)
		return -1;
	for (yaml_node_pair_t *pp = n->data.mapping.pairs.start;
	     pp < n->data.mapping.pairs.top; pp++) {
		const char *key = sval(node(l, pp->key));
		yaml_node_t *v = node(l, pp->value);
		const struct limit_def *d = NULL;
		char *field;
		uint64_t u64;
		unsigned u = 0;
		enum close_how how = CLOSE_FIN;

		for (size_t i = 0; i < nitems(limit_defs); i++)
			if (strcmp(limit_defs[i].key, key) == 0)
				d = &limit_defs[i];
		field = (char *)&l->p->limits + d->off;
		snprintf(what, sizeof(what), "limits.%s", key);
		switch (d->type) {
		case LIM_SIZE:
		case LIM_U64:
			if (get_bytes(l, v, what,
			              d->type == LIM_SIZE ? SIZE_MAX
			                                  : UINT64_MAX,
			              &u64) < 0)
				return -1;
			if (u64 < d->min)
				return err_node(
				    l, v,
				    "\"%s\" is too small: %s (use at least "
				    "%llu bytes)",
				    what, sval(v), (unsigned long long)d->min);
			if (d->type == LIM_SIZE)
				*(size_t *)(void *)field = (size_t)u64;
			else
				*(uint64_t *)(void *)field = u64;
			if (d->off == offsetof(struct limits, message_size))
				l->ld->size_explicit = true;
			break;
		case LIM_COUNT:
			if (get_count(l, v, what, &u) < 0)
				return -1;
			*(unsigned *)(void *)field = u;
			break;
		case LIM_MS:
			if (get_duration(l, v, what, &u) < 0)
				return -1;
			*(unsigned *)(void *)field = u;
			break;
		case LIM_CLOSE:
			if (get_close(l, v, what, &how) < 0)
				return -1;
			*(enum close_how *)(void *)field = how;
			break;
		}
	}
	return 0;
}

static int
load_credentials(struct layer *l, const yaml_node_t *n)
{
	static const char *const keys[] = {"user", "password"};
	struct auth_policy *a = &l->p->auth;
	yaml_node_item_t *b;
	size_t cnt;

	if (n->type != YAML_SEQUENCE_NODE)
		return wrong_type(l, n, "auth.credentials",
		                  "a list of {user, password} mappings");
	b = n->data.sequence.items.start;
	cnt = (size_t)(n->data.sequence.items.top - b);
	creds_free(a);
	a->creds = xcalloc(cnt, sizeof(*a->creds));
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *it = node(l, b[i]), *u, *pw;

		if (want_map(l, it, "auth.credentials", false) < 0 ||
		    check_map(l, it, "auth.credentials", keys, nitems(keys)) <
		        0)
			return -1;
		u = map_get(l, it, "user");
		pw = map_get(l, it, "password");
		if (u == NULL || pw == NULL)
			return err_node(
			    l, it,
			    "credential without \"%s\" in \"auth.credentials\" "
			    "(write {user: NAME, password: SECRET})",
			    u == NULL ? "user" : "password");
		a->ncreds++;
		if (get_line(l, u, "auth.credentials.user", &a->creds[i].user) <
		        0 ||
		    get_line(l, pw, "auth.credentials.password",
		             &a->creds[i].password) < 0)
			return -1;
	}
	return 0;
}

int
load_auth(struct layer *l, const yaml_node_t *n)
{
	static const char *const keys[] = {"credentials", "accept_any",
	                                   "require_tls"};
	yaml_node_t *v;

	if (want_map(l, n, "auth", false) < 0 ||
	    check_map(l, n, "auth", keys, nitems(keys)) < 0)
		return -1;
	if ((v = map_get(l, n, "credentials")) != NULL &&
	    load_credentials(l, v) < 0)
		return -1;
	if ((v = map_get(l, n, "accept_any")) != NULL &&
	    get_bool(l, v, "auth.accept_any", &l->p->auth.accept_any) < 0)
		return -1;
	if ((v = map_get(l, n, "require_tls")) != NULL &&
	    get_bool(l, v, "auth.require_tls", &l->p->auth.require_tls) < 0)
		return -1;
	return 0;
}

enum tls_type {
	TT_BOOL,     /* bool */
	TT_VERSIONS, /* unsigned, enum tls_version_bit */
	TT_SUITES,   /* char **, IANA name or 0xHHHH */
	TT_SUITES13, /* char **, IANA name */
	TT_NAMES,    /* char **, one OpenSSL list item each */
	TT_DH,       /* unsigned, one of dh_sizes[] */
	TT_INT,      /* int, min..max */
	TT_UINT,     /* unsigned, min..max */
	TT_KEY,      /* enum tls_key_type */
	TT_NOSHARED, /* enum tls_no_shared */
};

static const struct tls_def {
	const char *key;
	enum tls_type type;
	size_t off;  /* the field in struct tls_settings */
	size_t noff; /* its count, for lists */
	int min, max;
	const char *example; /* for list items */
} tls_defs[] = {
    {"enabled", TT_BOOL, offsetof(struct tls_settings, enabled), 0, 0, 0, NULL},
    {"versions", TT_VERSIONS, offsetof(struct tls_settings, versions), 0, 0, 0,
     NULL},
    {"ciphers", TT_SUITES, offsetof(struct tls_settings, ciphers),
     offsetof(struct tls_settings, nciphers), 0, 0, NULL},
    {"ciphersuites", TT_SUITES13, offsetof(struct tls_settings, ciphersuites),
     offsetof(struct tls_settings, nciphersuites), 0, 0, NULL},
    {"server_preference", TT_BOOL,
     offsetof(struct tls_settings, server_preference), 0, 0, 0, NULL},
    {"groups", TT_NAMES, offsetof(struct tls_settings, groups),
     offsetof(struct tls_settings, ngroups), 0, 0, "P-256"},
    {"dh_bits", TT_DH, offsetof(struct tls_settings, dh_bits), 0, 0, 0, NULL},
    {"sigalgs", TT_NAMES, offsetof(struct tls_settings, sigalgs),
     offsetof(struct tls_settings, nsigalgs), 0, 0, "RSA+SHA256"},
    {"security_level", TT_INT, offsetof(struct tls_settings, security_level), 0,
     0, 5, NULL},
    {"key", TT_KEY, offsetof(struct tls_settings, key_type), 0, 0, 0, NULL},
    {"key_bits", TT_UINT, offsetof(struct tls_settings, key_bits), 0, 1024,
     8192, NULL},
    {"no_shared_cipher", TT_NOSHARED,
     offsetof(struct tls_settings, no_shared_cipher), 0, 0, 0, NULL},
    {"no_shared_version", TT_NOSHARED,
     offsetof(struct tls_settings, no_shared_version), 0, 0, 0, NULL},
};

/* RFC 7919 / OpenSSL's sizes; 0 lets OpenSSL choose (SSL_CTX_set_dh_auto). */
static const unsigned dh_sizes[] = {0, 1024, 2048, 3072, 4096, 8192};

/* A list of strings for tls.<key>; each item checked for its type. */
static int
get_tls_list(struct layer *l, const yaml_node_t *n, const struct tls_def *d,
             const char *what, char ***dst, size_t *ndst)
{
	yaml_node_item_t *b = NULL;
	size_t cnt = 0;

	if (n->type == YAML_SEQUENCE_NODE) {
		b = n->data.sequence.items.start;
		cnt = (size_t)(n->data.sequence.items.top - b);
	} else if (!is_null(n)) {
		return wrong_type(l, n, what, "a list of strings");
	}
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *v = node(l, b[i]);
		const char *s;
		uint16_t id;

		if (want_scalar(l, v, what, "a string") < 0)
			return -1;
		s = sval(v);
		if (d->type == TT_SUITES && !suite_is_hex(s, &id) &&
		    !suite_is_iana(s))
			return bad_suite_form(l, v, what);
		if (d->type == TT_SUITES13 && !suite_is_iana(s))
			return err_node(
			    l, v,
			    "bad TLS 1.3 suite \"%s\" in \"%s\" (write its "
			    "IANA name, e.g. TLS_AES_256_GCM_SHA384)",
			    s, what);
		if (d->type == TT_NAMES &&
		    (*s == '\0' || strpbrk(s, ":, \t") != NULL))
			return err_node(
			    l, v,
			    "bad name \"%s\" in \"%s\" (one name per "
			    "list item, e.g. %s)",
			    s, what, d->example);
		for (size_t j = 0; j < i; j++)
			if (strcmp(sval(node(l, b[j])), s) == 0)
				return err_node(
				    l, v,
				    "\"%s\" is listed twice in \"%s\" "
				    "(keep one)",
				    s, what);
	}
	strv_free(*dst, *ndst);
	*dst = xcalloc(cnt, sizeof(char *));
	for (size_t i = 0; i < cnt; i++)
		(*dst)[i] = xstrdup(sval(node(l, b[i])));
	*ndst = cnt;
	return 0;
}

int
load_tls(struct layer *l, const yaml_node_t *n)
{
	const char *keys[nitems(tls_defs)];
	struct tls_settings *ts = &l->p->tls;
	char what[64];
	yaml_node_t *kb, *kt;
	int choice;

	for (size_t i = 0; i < nitems(tls_defs); i++)
		keys[i] = tls_defs[i].key;
	if (want_map(l, n, "tls", true) < 0)
		return -1;
	ts->enabled = true; /* "tls:" present; "enabled: false" below */
	if (is_null(n))
		return 0;
	if (check_map(l, n, "tls", keys, nitems(keys)) < 0)
		return -1;
	for (yaml_node_pair_t *pp = n->data.mapping.pairs.start;
	     pp < n->data.mapping.pairs.top; pp++) {
		const char *key = sval(node(l, pp->key));
		yaml_node_t *v = node(l, pp->value);
		const struct tls_def *d = NULL;
		char *field;
		uint64_t u64;
		const char *end;
		bool dh_ok = false;

		for (size_t i = 0; i < nitems(tls_defs); i++)
			if (strcmp(tls_defs[i].key, key) == 0)
				d = &tls_defs[i];
		field = (char *)ts + d->off;
		snprintf(what, sizeof(what), "tls.%s", key);
		switch (d->type) {
		case TT_BOOL:
			if (get_bool(l, v, what, (bool *)(void *)field) < 0)
				return -1;
			break;
		case TT_VERSIONS:
			if (get_versions(l, v, what,
			                 (unsigned *)(void *)field) < 0)
				return -1;
			break;
		case TT_SUITES:
		case TT_SUITES13:
		case TT_NAMES:
			if (get_tls_list(
			        l, v, d, what, (char ***)(void *)field,
			        (size_t *)(void *)((char *)ts + d->noff)) < 0)
				return -1;
			break;
		case TT_DH:
			if (want_scalar(l, v, what, "a number of bits") < 0)
				return -1;
			end = parse_digits(sval(v), &u64);
			for (size_t i = 0; end != NULL && *end == '\0' &&
			                   i < nitems(dh_sizes);
			     i++)
				dh_ok |= u64 == dh_sizes[i];
			if (!dh_ok)
				return err_node(
				    l, v,
				    "bad value \"%s\" for \"%s\" (use 0 for "
				    "OpenSSL's automatic choice, or 1024, "
				    "2048, 3072, 4096 or 8192)",
				    sval(v), what);
			*(unsigned *)(void *)field = (unsigned)u64;
			break;
		case TT_INT:
			if (get_range(l, v, what, d->min, d->max,
			              (int *)(void *)field) < 0)
				return -1;
			break;
		case TT_UINT:
			if (get_range(l, v, what, d->min, d->max, &choice) < 0)
				return -1;
			*(unsigned *)(void *)field = (unsigned)choice;
			break;
		case TT_KEY:
			if (get_choice(l, v, what, key_names, nitems(key_names),
			               &choice) < 0)
				return -1;
			*(enum tls_key_type *)(void *)field =
			    (enum tls_key_type)choice;
			break;
		case TT_NOSHARED:
			if (get_choice(l, v, what, noshared_names,
			               nitems(noshared_names), &choice) < 0)
				return -1;
			*(enum tls_no_shared *)(void *)field =
			    (enum tls_no_shared)choice;
			break;
		}
	}
	kb = map_get(l, n, "key_bits");
	kt = map_get(l, n, "key");
	if (kb != NULL && kt != NULL && ts->key_type != TLS_KEY_RSA)
		return err_node(
		    l, kb,
		    "\"tls.key_bits\" is for RSA keys only (leave it "
		    "out with key: %s)",
		    sval(kt));
	/* An ECDSA key has a curve, not RSA bits: whatever key_bits was
	 * inherited, tls_policy picks its default curve (P-256). */
	if (ts->key_type != TLS_KEY_RSA)
		ts->key_bits = 0;
	return 0;
}
