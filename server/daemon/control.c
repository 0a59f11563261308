/*
 * control.c - the profile and the injected rules new sessions get, changed
 * while the server runs (the HTTP API's PUT profile, rules and reset) and
 * on SIGHUP.
 *
 * How an injected rule reaches a session: as a composite profile. The
 * server keeps a base profile (the start one, or one chosen since) and a
 * list of injected rules, each a rule holder read by the profile loader
 * (profile_rule_text: the same code and errors as a rule in a file).
 * srv->profile, which workers take at accept (server.c, worker_profile),
 * is profile_compose(base, injected rules, newest first): the base with
 * those rules in front of its own. The session and rules code see an
 * ordinary profile, so an injected rule behaves exactly like the same rule
 * written first in the profile, and nothing in the engine knows about
 * injection. Every change builds a new composite and bumps profile_gen,
 * like a reload; running sessions keep the composite they hold.
 *
 * "The next N sessions" is decided under srv->lock at accept: a worker
 * takes srv->profile and counts the session down in the same critical
 * section (control_session_start), and a rule whose count runs out leaves
 * the composite before the lock is released, so N sessions get it however
 * many workers accept at once. A refused session (over the session limits)
 * counts too: it was accepted with the profile.
 *
 * Loading (YAML, TLS contexts) happens outside the lock; only the swap and
 * the composite (an array of rule copies) are built under it.
 * Does not: parse HTTP or JSON bodies (api/http_control.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "log.h"
#include "profile.h"
#include "server.h"

enum base_from {
	BASE_START, /* the command line's profile */
	BASE_NAME,  /* chosen by name: a SIGHUP reloads that name too */
	BASE_TEXT,  /* chosen as YAML text: no file to reload */
};

struct injected {
	char id[16];
	char *name;
	char *text;             /* as given */
	struct profile *holder; /* the one rule */
	long sessions;          /* as given; -1 until deleted */
	long left;              /* sessions left; -1 until deleted */
};

struct control {
	struct profile *start; /* cfg.profile_name as last loaded */
	struct profile *base;  /* under the injected rules */
	enum base_from from;
	char *base_name;         /* BASE_NAME */
	unsigned long base_gen;  /* bumped on every change of base */
	struct injected **rules; /* oldest first */
	size_t nrules;
	size_t nlimited; /* of them with a session count */
	unsigned long next_id;
};

/* control_new - the control state of a server starting with profile */
struct control *
control_new(struct profile *start)
{
	struct control *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->start = profile_ref(start);
	c->base = profile_ref(start);
	c->from = BASE_START;
	return c;
}

static void
injected_free(struct injected *r)
{
	if (r == NULL)
		return;
	profile_unref(r->holder);
	free(r->name);
	free(r->text);
	free(r);
}

void
control_free(struct control *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nrules; i++)
		injected_free(c->rules[i]);
	free(c->rules);
	profile_unref(c->start);
	profile_unref(c->base);
	free(c->base_name);
	free(c);
}

/*
 * Make srv->profile the base with the injected rules in front, newest
 * first, for the next accept. srv->lock held. Returns the old profile,
 * for the caller to unref (outside the lock where it can).
 */
static struct profile *
recompose(struct server *srv)
{
	struct control *c = srv->ctl;
	struct profile *holders[c->nrules > 0 ? c->nrules : 1], *old;

	for (size_t i = 0; i < c->nrules; i++)
		holders[i] = c->rules[c->nrules - 1 - i]->holder;
	old = srv->profile;
	srv->profile = profile_compose(c->base, holders, c->nrules);
	srv->profile_gen++;
	return old;
}

/* Remove rule i from the list (srv->lock held); the caller frees it. */
static struct injected *
take_rule(struct control *c, size_t i)
{
	struct injected *r = c->rules[i];

	memmove(&c->rules[i], &c->rules[i + 1],
	        (c->nrules - i - 1) * sizeof(*c->rules));
	c->nrules--;
	if (r->sessions > 0)
		c->nlimited--;
	return r;
}

/* control_session_start - count an accepted session (srv->lock held) */
void
control_session_start(struct server *srv)
{
	struct control *c = srv->ctl;
	bool spent = false;

	if (c == NULL || c->nlimited == 0)
		return;
	for (size_t i = 0; i < c->nrules; i++)
		if (c->rules[i]->left > 0 && --c->rules[i]->left == 0)
			spent = true;
	if (!spent)
		return;
	for (size_t i = c->nrules; i-- > 0;)
		if (c->rules[i]->left == 0)
			injected_free(take_rule(c, i));
	/* The worker holds its own reference to the old one. */
	profile_unref(recompose(srv));
}

/* Whether s is a profile name (not a path): a-z, 0-9, ".", "_", "-". */
static bool
good_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) &&
		    !isdigit((unsigned char)*s) && *s != '.' && *s != '_' &&
		    *s != '-')
			return false;
	return true;
}

/*
 * A server profile for new sessions, by name or from text, with its TLS
 * context built: the one place start-up's checks are repeated. NULL with
 * one line in err.
 */
static struct profile *
load_server(struct server *srv, const char *name, const char *text, size_t len,
            char *err, size_t errlen)
{
	struct profile *p;

	if (text != NULL)
		p = profile_load_text(CONTROL_LABEL, text, len, srv->cfg.dirs,
		                      srv->cfg.ndirs, err, errlen);
	else
		p = profile_load(name, srv->cfg.dirs, srv->cfg.ndirs, err,
		                 errlen);
	if (p == NULL)
		return NULL;
	if (p->mbox != NULL) {
		snprintf(
		    err, errlen,
		    "%s: %s is a middlebox (kind: middlebox), not a server "
		    "profile (choose a server profile; a middlebox goes in "
		    "front of one with \"via:\")",
		    p->path, p->name);
		profile_unref(p);
		return NULL;
	}
	if (server_prepare_tls(p, srv->cfg.cert_file, srv->cfg.key_file, err,
	                       errlen) == -1) {
		profile_unref(p);
		return NULL;
	}
	if (srv->tls_listener && p->tls_policy == NULL) {
		snprintf(err, errlen,
		         "%s: profile %s has no tls: section, but a --listen "
		         "address serves implicit TLS (/tls)",
		         p->path, p->name);
		profile_unref(p);
		return NULL;
	}
	return p;
}

/* What a base switch replaced, to be released outside the lock. */
struct retired {
	struct profile *base, *composite;
	char *name;
};

/* Make p (a reference the call takes) the base, with srv->lock held. */
static void
swap_base_locked(struct server *srv, struct profile *p, enum base_from from,
                 const char *name, struct retired *r)
{
	struct control *c = srv->ctl;

	r->base = c->base;
	r->name = c->base_name;
	c->base = p;
	c->from = from;
	c->base_name = name != NULL ? strdup(name) : NULL;
	c->base_gen++;
	r->composite = recompose(srv);
}

static void
retired_free(struct retired *r)
{
	profile_unref(r->composite);
	profile_unref(r->base);
	free(r->name);
}

/* Make p (a reference the call takes) the base. */
static void
set_base(struct server *srv, struct profile *p, enum base_from from,
         const char *name)
{
	struct retired r;

	pthread_mutex_lock(&srv->lock);
	swap_base_locked(srv, p, from, name, &r);
	pthread_mutex_unlock(&srv->lock);
	retired_free(&r);
}

/* server_use_profile - new sessions get another profile */
int
server_use_profile(struct server *srv, const char *name_or_yaml, size_t len,
                   bool is_yaml, char *err, size_t errlen)
{
	struct profile *p;
	char name[128];

	if (!is_yaml) {
		bool ok = len < sizeof(name);

		if (ok) {
			memcpy(name, name_or_yaml, len);
			name[len] = '\0';
			ok = strlen(name) == len && good_name(name);
		}
		if (!ok) {
			snprintf(
			    err, errlen,
			    "bad profile name \"%.*s\" (give the name of a "
			    "profile in the search path, e.g. standard, or "
			    "the profile's YAML itself)",
			    (int)(len < 64 ? len : 64), name_or_yaml);
			return -1;
		}
		p = load_server(srv, name, NULL, 0, err, errlen);
	} else {
		p = load_server(srv, NULL, name_or_yaml, len, err, errlen);
	}
	if (p == NULL)
		return -1;
	log_info("profile %s from %s for new sessions", p->name, p->path);
	set_base(srv, p, is_yaml ? BASE_TEXT : BASE_NAME,
	         is_yaml ? NULL : name);
	return 0;
}

/* server_add_rule - a rule in front of the profile's, for a while */
int
server_add_rule(struct server *srv, const char *yaml, size_t len, long sessions,
                char *id_out, size_t idlen, char *err, size_t errlen)
{
	return server_inject_rule(srv, yaml, len, sessions, id_out, idlen, NULL,
	                          0, err, errlen);
}

/* server_inject_rule - server_add_rule, telling the rule's name too */
int
server_inject_rule(struct server *srv, const char *yaml, size_t len,
                   long sessions, char *id_out, size_t idlen, char *name_out,
                   size_t namelen, char *err, size_t errlen)
{
	struct control *c = srv->ctl;
	struct injected *r, **rules;
	struct profile *old;
	char base[128], name[128];

	if (sessions == 0 || sessions < -1) {
		snprintf(err, errlen,
		         "sessions %ld: give a count of sessions (1 or more), "
		         "or -1 for until deleted",
		         sessions);
		return -1;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->text = malloc(len + 1)) == NULL) {
		free(r);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(r->text, yaml, len);
	r->text[len] = '\0';
	r->sessions = r->left = sessions;
	r->holder = profile_rule_text(CONTROL_LABEL, yaml, len, err, errlen);
	if (r->holder == NULL ||
	    (r->name = strdup(r->holder->rules[0].name)) == NULL) {
		injected_free(r);
		return -1;
	}
	/* Once listed, r is the lock's: a session may use it up. */
	snprintf(name, sizeof(name), "%s", r->name);
	if (name_out != NULL)
		snprintf(name_out, namelen, "%s", r->name);
	pthread_mutex_lock(&srv->lock);
	rules = realloc(c->rules, (c->nrules + 1) * sizeof(*rules));
	if (rules == NULL) {
		pthread_mutex_unlock(&srv->lock);
		injected_free(r);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->rules = rules;
	snprintf(r->id, sizeof(r->id), "r%lu", ++c->next_id);
	c->rules[c->nrules++] = r;
	if (r->sessions > 0)
		c->nlimited++;
	old = recompose(srv);
	snprintf(id_out, idlen, "%s", r->id);
	snprintf(base, sizeof(base), "%s", c->base->name);
	pthread_mutex_unlock(&srv->lock);
	profile_unref(old);
	if (sessions < 0)
		log_info("rule %s (%s) in front of profile %s until deleted",
		         id_out, name, base);
	else
		log_info("rule %s (%s) in front of profile %s for the next %ld "
		         "session(s)",
		         id_out, name, base, sessions);
	return 0;
}

/* server_del_rule - remove an injected rule: 0, or -1 if not found */
int
server_del_rule(struct server *srv, const char *id)
{
	struct control *c = srv->ctl;
	struct injected *r = NULL;
	struct profile *old = NULL;

	pthread_mutex_lock(&srv->lock);
	for (size_t i = 0; i < c->nrules && r == NULL; i++)
		if (strcmp(c->rules[i]->id, id) == 0) {
			r = take_rule(c, i);
			old = recompose(srv);
		}
	pthread_mutex_unlock(&srv->lock);
	if (r == NULL)
		return -1;
	profile_unref(old);
	injected_free(r);
	return 0;
}

static json_t *
count_json(long n)
{
	return n < 0 ? json_null() : json_integer(n);
}

/* server_rules_json - the injected rules, oldest first */
json_t *
server_rules_json(struct server *srv)
{
	struct control *c = srv->ctl;
	json_t *a = json_array();

	pthread_mutex_lock(&srv->lock);
	for (size_t i = 0; i < c->nrules; i++) {
		const struct injected *r = c->rules[i];

		json_array_append_new(
		    a, json_pack("{s:s, s:s, s:o, s:o, s:s}", "id", r->id,
		                 "name", r->name, "sessions",
		                 count_json(r->sessions), "sessions_left",
		                 count_json(r->left), "rule", r->text));
	}
	pthread_mutex_unlock(&srv->lock);
	return json_pack("{s:o}", "rules", a);
}

/* server_reset - injected rules gone, the start profile back */
void
server_reset(struct server *srv)
{
	struct control *c = srv->ctl;
	struct injected **rules;
	struct retired r;
	size_t n;
	char start[128];

	pthread_mutex_lock(&srv->lock);
	rules = c->rules;
	n = c->nrules;
	c->rules = NULL;
	c->nrules = c->nlimited = 0;
	snprintf(start, sizeof(start), "%s", c->start->name);
	swap_base_locked(srv, profile_ref(c->start), BASE_START, NULL, &r);
	pthread_mutex_unlock(&srv->lock);
	retired_free(&r);
	for (size_t i = 0; i < n; i++)
		injected_free(rules[i]);
	free(rules);
	log_info("reset: profile %s, no injected rules", start);
}

/* server_profile_name - the name of the profile new sessions get */
void
server_profile_name(struct server *srv, char *buf, size_t len)
{
	pthread_mutex_lock(&srv->lock);
	snprintf(buf, len, "%s", srv->ctl->base->name);
	pthread_mutex_unlock(&srv->lock);
}

/* control_reload - SIGHUP: reload the start profile (and a chosen one) */
void
control_reload(struct server *srv)
{
	struct control *c = srv->ctl;
	char err[1024], cur[128], *name = NULL;
	struct profile *p, *q = NULL, *old_start, *old_base = NULL, *old;
	enum base_from from;
	unsigned long gen;

	pthread_mutex_lock(&srv->lock);
	from = c->from;
	gen = c->base_gen;
	if (from == BASE_NAME)
		name = strdup(c->base_name);
	snprintf(cur, sizeof(cur), "%s", c->base->name);
	pthread_mutex_unlock(&srv->lock);

	p = load_server(srv, srv->cfg.profile_name, NULL, 0, err, sizeof(err));
	if (p == NULL) {
		log_warnx("reload failed, keeping profile %s: %s", cur, err);
		free(name);
		return;
	}
	if (name != NULL &&
	    (q = load_server(srv, name, NULL, 0, err, sizeof(err))) == NULL)
		log_warnx("reload of profile %s failed, keeping it: %s", name,
		          err);
	free(name);

	pthread_mutex_lock(&srv->lock);
	old_start = c->start;
	c->start = p;
	if (c->base_gen == gen && (from == BASE_START || q != NULL)) {
		old_base = c->base;
		c->base = profile_ref(from == BASE_START ? p : q);
		c->base_gen++;
	}
	old = recompose(srv);
	pthread_mutex_unlock(&srv->lock);
	profile_unref(old);
	profile_unref(old_base);
	profile_unref(old_start);
	if (from == BASE_START && old_base != NULL)
		log_info("reloaded profile %s from %s for new sessions",
		         p->name, p->path);
	else if (q != NULL && old_base != NULL)
		log_info("reloaded profile %s from %s (the start profile), and "
		         "%s from %s for new sessions",
		         p->name, p->path, q->name, q->path);
	else
		log_info("reloaded profile %s from %s (the start profile); new "
		         "sessions keep profile %s",
		         p->name, p->path, cur);
	profile_unref(q);
}
