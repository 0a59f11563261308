/*
 * server_load.c - the irregular keys of a server profile, the ones a
 * schema row cannot load by its type alone: hostname, ehlo.keywords (and
 * the extension bits, SIZE and AUTH mechanisms they give), commands,
 * replies, auth.credentials, limits.message_size and the tls section's
 * presence and cross-key check.
 *
 * Does not: the regular keys (schema_rows.c rows, loaded by schema.c),
 * rules (rules_load.c), middlebox keys (mbox_load.c), the file as a whole
 * (load.c).
 */
#include "schema.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ntlm.h"

/*
 * kw_derive - derive the extension bits from one keyword. Returns NULL, or what
 * is wrong with it (a message that fits the "(what to do)" part).
 */
const char *
kw_derive(struct kw_state *st, const char *kw, char *why, size_t whylen)
{
	size_t wlen = strcspn(kw, " ");
	const char *rest = kw + wlen;
	const char *key = st->key != NULL ? st->key : "ehlo.keywords";
	unsigned bit = 0;

	while (*rest == ' ')
		rest++;
	bit = ext_from_word(kw, wlen);
	if (bit == 0)
		return NULL; /* advertised only */
	if (st->ext & bit) {
		snprintf(
		    why, whylen,
		    "keyword \"%.*s\" is listed twice in \"%s\" (keep one)",
		    (int)wlen, kw, key);
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
		    "bad \"SIZE\" keyword \"%s\" in \"%s\" (write \"SIZE\" "
		    "and a number of bytes, e.g. \"SIZE 10485760\")",
		    kw, key);
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
			    "\"AUTH\" keyword without mechanisms in \"%s\" "
			    "(list them, e.g. \"AUTH PLAIN LOGIN\")",
			    key);
			return why;
		}
	}
	return NULL;
}

/* kw_commit - the profile's derived fields become st's */
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

/* load_hostname - hostname: one word without spaces or braces */
int
load_hostname(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
              const char *what, void *base)
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

/*
 * Check a keyword list (key names it in messages) and derive st from it;
 * 0, or -1 with the error at the item.
 */
static int
check_keywords(struct layer *l, const char *key, yaml_node_item_t *b,
               size_t cnt, struct kw_state *st)
{
	char why[256];
	const char *bad;

	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *it = node(l, b[i]);

		if (want_line(l, it, key, "give one keyword per list item") <
		        0 ||
		    check_tpl(l, it, key) < 0)
			return -1;
		if (sval(it)[0] == '\0' || sval(it)[0] == ' ')
			return err_node(
			    l, it,
			    "empty EHLO keyword in \"%s\" (start each keyword "
			    "with its name, e.g. PIPELINING)",
			    key);
		if ((bad = kw_derive(st, sval(it), why, sizeof(why))) != NULL)
			return err_node(l, it, "%s", bad);
	}
	return 0;
}

/* The strings of a checked keyword list, as a new vector. */
static char **
keywords_dup(struct layer *l, yaml_node_item_t *b, size_t cnt)
{
	char **v = xcalloc(cnt, sizeof(char *));

	for (size_t i = 0; i < cnt; i++)
		v[i] = xstrdup(sval(node(l, b[i])));
	return v;
}

/* load_keywords - ehlo.keywords, and the extension bits they give */
int
load_keywords(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
              const char *what, void *base)
{
	struct profile *p = l->p;
	struct kw_state st = {0};
	yaml_node_item_t *b;
	size_t cnt;

	if (want_list(l, n, "ehlo.keywords", "a list of strings", &b, &cnt) < 0)
		return -1;
	if (check_keywords(l, "ehlo.keywords", b, cnt, &st) < 0) {
		strv_free(st.mechs, st.nmechs);
		return -1;
	}
	strv_free(p->ehlo_keywords, p->nehlo_keywords);
	p->ehlo_keywords = keywords_dup(l, b, cnt);
	p->nehlo_keywords = cnt;
	l->ld->size_is_max_size = st.size_is_max_size;
	kw_commit(p, &st);
	return 0;
}

/*
 * load_keywords_tls - ehlo.keywords_tls: checked like ehlo.keywords; what
 * it gives is derived once the chain is loaded (ehlo_tls_finish). null
 * goes back to the derived list.
 */
int
load_keywords_tls(struct layer *l, const struct schema_row *r,
                  const yaml_node_t *n, const char *what, void *base)
{
	struct profile *p = l->p;
	struct kw_state st = {.key = "ehlo.keywords_tls"};
	yaml_node_item_t *b = NULL;
	size_t cnt = 0;
	int rc;

	if (want_list(l, n, "ehlo.keywords_tls", "a list of strings", &b,
	              &cnt) < 0)
		return -1;
	rc = check_keywords(l, "ehlo.keywords_tls", b, cnt, &st);
	strv_free(st.mechs, st.nmechs);
	if (rc < 0)
		return -1;
	free_keywords_tls(r, p);
	p->ehlo_tls_given = !is_null(n);
	if (p->ehlo_tls_given) {
		p->ehlo_keywords_tls = keywords_dup(l, b, cnt);
		p->nehlo_keywords_tls = cnt;
	}
	return 0;
}

/*
 * ehlo_tls_finish - after the whole chain: the TLS list, given or derived
 * (the plain list without STARTTLS, RFC 3207 4.2), and what it gives;
 * "SIZE {max_size}" is the final limits.message_size.
 */
void
ehlo_tls_finish(struct profile *p)
{
	struct kw_state st = {0};
	char why[256];

	if (!p->ehlo_tls_given) {
		strv_free(p->ehlo_keywords_tls, p->nehlo_keywords_tls);
		p->ehlo_keywords_tls =
		    xcalloc(p->nehlo_keywords, sizeof(char *));
		p->nehlo_keywords_tls = 0;
		for (size_t i = 0; i < p->nehlo_keywords; i++)
			if (strcasecmp(p->ehlo_keywords[i], "STARTTLS") != 0)
				p->ehlo_keywords_tls[p->nehlo_keywords_tls++] =
				    xstrdup(p->ehlo_keywords[i]);
	}
	for (size_t i = 0; i < p->nehlo_keywords_tls; i++)
		if (kw_derive(&st, p->ehlo_keywords_tls[i], why, sizeof(why)))
			abort(); /* checked when loaded */
	strv_free(p->auth_mechs_tls, p->nauth_mechs_tls);
	p->auth_mechs_tls = st.mechs;
	p->nauth_mechs_tls = st.nmechs;
	p->ext_tls = st.ext;
	p->ext_size_tls =
	    st.size_is_max_size ? p->limits.message_size : st.ext_size;
}

/* free_keywords_tls - ehlo.keywords_tls and what it gave */
void
free_keywords_tls(const struct schema_row *r, void *base)
{
	struct profile *p = base;

	strv_free(p->ehlo_keywords_tls, p->nehlo_keywords_tls);
	strv_free(p->auth_mechs_tls, p->nauth_mechs_tls);
	p->ehlo_keywords_tls = p->auth_mechs_tls = NULL;
	p->nehlo_keywords_tls = p->nauth_mechs_tls = 0;
	p->ehlo_tls_given = false;
	p->ext_tls = 0;
	p->ext_size_tls = 0;
}

/* load_commands - a server's commands: the verbs it recognises */
int
load_commands(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
              const char *what, void *base)
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

/* load_replies - replies: reply key -> reply, merged key by key */
int
load_replies(struct layer *l, const struct schema_row *r, const yaml_node_t *n,
             const char *what, void *base)
{
	char kw[64];

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

		snprintf(kw, sizeof(kw), "replies.%s", key);
		if (reply_with_source(l, node(l, pp->value), kw, id,
		                      &l->p->replies[id]) < 0)
			return -1;
	}
	return 0;
}

/*
 * load_bad_count - limits.bad_commands_count: the reply keys whose errors
 * count towards limits.bad_commands ([] none); replaces the parent's
 */
int
load_bad_count(struct layer *l, const struct schema_row *r,
               const yaml_node_t *n, const char *what, void *base)
{
	struct limits *lim = base;
	yaml_node_item_t *b;
	size_t cnt;
	uint64_t mask = 0;

	if (want_list(l, n, "limits.bad_commands_count",
	              "a list of reply keys, e.g. [unknown_command]", &b,
	              &cnt) < 0)
		return -1;
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *v = node(l, b[i]);
		int id;

		if (want_scalar(l, v, "limits.bad_commands_count",
		                "a reply key") < 0)
			return -1;
		id = reply_id_from_str(sval(v));
		if (id < 0 || id == REPLY_GREETING)
			return err_node(
			    l, v,
			    "unknown reply key \"%s\" in "
			    "\"limits.bad_commands_count\" (name the error "
			    "replies that count, e.g. unknown_command, "
			    "need_mail, line_too_long)",
			    sval(v));
		mask |= UINT64_C(1) << id;
	}
	lim->bad_commands_count = mask;
	return 0;
}

/* load_credentials - auth.credentials: {user, password} pairs */
int
load_credentials(struct layer *l, const struct schema_row *r,
                 const yaml_node_t *n, const char *what, void *base)
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

/*
 * load_message_size - limits.message_size: a size; left out everywhere,
 * "SIZE n" gives it
 */
int
load_message_size(struct layer *l, const struct schema_row *r,
                  const yaml_node_t *n, const char *what, void *base)
{
	if (schema_load_value(l, r, n, what, base) < 0)
		return -1;
	l->ld->size_explicit = true;
	return 0;
}

/* tls_present - a "tls:" key turns TLS on unless it says enabled: false */
void
tls_present(struct layer *l, void *base)
{
	((struct tls_settings *)base)->enabled = true;
}

/* tls_finish - key_bits is for RSA keys only */
int
tls_finish(struct layer *l, const yaml_node_t *n, void *base)
{
	struct tls_settings *ts = base;
	yaml_node_t *kb = map_get(l, n, "key_bits"), *kt = map_get(l, n, "key");

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

/* load_tls_suites - tls.ciphers / ciphersuites, and where they were set */
int
load_tls_suites(struct layer *l, const struct schema_row *r,
                const yaml_node_t *n, const char *what, void *base)
{
	bool tls13 = r->type == T_SUITES13;
	char *at = tls13 ? l->ld->ciphersuites_at : l->ld->ciphers_at;

	if (schema_load_value(l, r, n, what, base) < 0)
		return -1;
	snprintf(at, sizeof(l->ld->ciphers_at), "%s:%zu:%zu", l->path,
	         n->start_mark.line + 1, n->start_mark.column + 1);
	return 0;
}

/* One list: an error when it names suites and none can be offered. */
static int
none_available(struct loader *ld, char *const *v, size_t n, bool tls13,
               const char *at)
{
	for (size_t i = 0; i < n; i++)
		if (suite_available(v[i], tls13))
			return 0;
	return err_plain(
	    ld,
	    "%s: none of the %zu listed %s suites in \"tls.%s\" is available "
	    "in the linked OpenSSL (list one it can offer, e.g. %s, or leave "
	    "\"tls.%s\" out for OpenSSL's default)",
	    at, n, tls13 ? "TLS 1.3" : "TLS <= 1.2",
	    tls13 ? "ciphersuites" : "ciphers",
	    tls13 ? "TLS_AES_128_GCM_SHA256"
	          : "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	    tls13 ? "ciphersuites" : "ciphers");
}

/*
 * tls_check_available - after the whole chain: a suite list of which the
 * linked OpenSSL can offer nothing, for a version that is enabled, is an
 * error at the list (single suites it lacks stay tls_policy's warnings).
 */
int
tls_check_available(struct loader *ld)
{
	const struct tls_settings *ts = &ld->pi->pub.tls;

	if (!ts->enabled)
		return 0;
	if (ts->nciphers > 0 &&
	    (ts->versions & (TLSV_1_0 | TLSV_1_1 | TLSV_1_2)) &&
	    none_available(ld, ts->ciphers, ts->nciphers, false,
	                   ld->ciphers_at) < 0)
		return -1;
	if (ts->nciphersuites > 0 && (ts->versions & TLSV_1_3) &&
	    none_available(ld, ts->ciphersuites, ts->nciphersuites, true,
	                   ld->ciphersuites_at) < 0)
		return -1;
	return 0;
}

/* NetBIOS names are at most 15 characters (MS-NLMP 2.2.2.1 carries
 * them; [MS-NBTE] 15 + a type byte). */
#define NETBIOS_MAX 15

/*
 * load_ntlm_name - auth.ntlm's names: one word; the NetBIOS ones at most
 * 15 characters, none of \ / : * ? " < > |
 */
int
load_ntlm_name(struct layer *l, const struct schema_row *r,
               const yaml_node_t *n, const char *what, void *base)
{
	bool netbios = strncmp(r->name, "netbios_", 8) == 0;
	const char *v;

	if (want_line(l, n, what, "keep it on one line") < 0)
		return -1;
	v = sval(n);
	if (*v == '\0' || strpbrk(v, " \t{}") != NULL)
		return err_node(l, n,
		                "bad name \"%s\" in \"%s\" (one word, e.g. "
		                "%s)",
		                v, what, netbios ? "LAB" : "lab.test");
	if (netbios &&
	    (strlen(v) > NETBIOS_MAX || strpbrk(v, "\\/:*?\"<>|") != NULL))
		return err_node(l, n,
		                "bad NetBIOS name \"%s\" in \"%s\" (at most 15 "
		                "characters, none of \\ / : * ? \" < > |)",
		                v, what);
	return schema_load_value(l, r, n, what, base);
}

/* load_ntlm_version - auth.ntlm.os_version: "major.minor.build" */
int
load_ntlm_version(struct layer *l, const struct schema_row *r,
                  const yaml_node_t *n, const char *what, void *base)
{
	struct ntlm_version v;

	if (want_line(l, n, what, "keep it on one line") < 0)
		return -1;
	if (ntlm_parse_version(sval(n), &v) < 0)
		return err_node(
		    l, n,
		    "bad version \"%s\" in \"%s\" (write "
		    "major.minor.build, each a number, e.g. 6.3.9600)",
		    sval(n), what);
	return schema_load_value(l, r, n, what, base);
}

/* An upper-cased copy of s[0..len), at most NETBIOS_MAX characters. */
static char *
netbios_of(const char *s, size_t len)
{
	char *out;

	if (len > NETBIOS_MAX)
		len = NETBIOS_MAX;
	out = xmalloc(len + 1);
	for (size_t i = 0; i < len; i++)
		out[i] = (char)toupper((unsigned char)s[i]);
	out[len] = '\0';
	return out;
}

/*
 * auth_ntlm_finish - after the whole chain: the auth.ntlm names left out,
 * from the hostname: dns_computer the hostname, dns_domain what follows
 * its first dot (the hostname itself when it has none), netbios_computer
 * and netbios_domain the first label of each, upper-cased, cut at 15.
 */
void
auth_ntlm_finish(struct profile *p)
{
	struct ntlm_settings *n = &p->auth.ntlm;
	const char *h = p->hostname != NULL ? p->hostname : "";
	const char *dot = strchr(h, '.');

	if (n->dns_computer == NULL)
		n->dns_computer = xstrdup(h);
	if (n->dns_domain == NULL)
		n->dns_domain =
		    xstrdup(dot != NULL && dot[1] != '\0' ? dot + 1 : h);
	if (n->netbios_computer == NULL)
		n->netbios_computer =
		    netbios_of(n->dns_computer, strcspn(n->dns_computer, "."));
	if (n->netbios_domain == NULL)
		n->netbios_domain =
		    netbios_of(n->dns_domain, strcspn(n->dns_domain, "."));
}

/* free_keywords - ehlo.keywords and the AUTH mechanisms they gave */
void
free_keywords(const struct schema_row *r, void *base)
{
	struct profile *p = base;

	strv_free(p->ehlo_keywords, p->nehlo_keywords);
	strv_free(p->auth_mechs, p->nauth_mechs);
	p->ehlo_keywords = p->auth_mechs = NULL;
	p->nehlo_keywords = p->nauth_mechs = 0;
}

/* free_replies - every reply text */
void
free_replies(const struct schema_row *r, void *base)
{
	struct profile *p = base;

	for (size_t i = 0; i < REPLY_COUNT; i++)
		reply_free(&p->replies[i]);
}

/* free_credentials - auth.credentials */
void
free_credentials(const struct schema_row *r, void *base)
{
	creds_free(base);
}
