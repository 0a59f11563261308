/*
 * cli_profile.c - what --check and serving both load first: the server
 * profile, the --via boxes in front of it, its TLS context, and the
 * certificate --write-cert asks for.
 *
 * Does: name the flag at fault in the one line it prints (a middlebox
 * given to --profile, a server given to --via, a bad --cert/--key).
 * Does not: explain or serve (cli_check.c, cli_serve.c).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "profile.h"
#include "server.h"
#include "tls_policy.h"

/* cli_profile_free - drop what cli_profile_load loaded that is still ours */
void
cli_profile_free(struct cli_profile *lp)
{
	while (lp->nboxes > 0)
		profile_unref(lp->boxes[--lp->nboxes]);
	if (lp->profile != NULL)
		profile_unref(lp->profile);
	lp->profile = NULL;
}

/* The server profile, or NULL after its one line. */
static struct profile *
load_server(const struct cli *c)
{
	char err[1024], err2[1024];
	struct profile *p;

	p = profile_load(c->profile_name, c->dirs, c->ndirs, err, sizeof(err));
	/* A middlebox NAME is not found as a server: say what it is. */
	if (p == NULL)
		p = profile_load_middlebox(c->profile_name, c->dirs, c->ndirs,
		                           err2, sizeof(err2));
	if (p == NULL) {
		fprintf(stderr, "smtp-mimic: %s\n", err);
		return NULL;
	}
	if (p->mbox != NULL) {
		fprintf(stderr,
		        "smtp-mimic: --profile %s: %s is a middlebox (kind: "
		        "middlebox), not a server; put it in front of one with "
		        "--via %s\n",
		        c->profile_name, p->path, c->profile_name);
		profile_unref(p);
		return NULL;
	}
	return p;
}

/* cli_profile_load - profile, --via boxes, TLS context, --write-cert */
int
cli_profile_load(const struct cli *c, struct cli_profile *lp)
{
	char err[1024];

	memset(lp, 0, sizeof(*lp));
	if ((lp->profile = load_server(c)) == NULL)
		return 1;
	for (size_t i = 0; i < c->nvia; i++) {
		lp->boxes[i] = profile_load_middlebox(
		    c->via[i], c->dirs, c->ndirs, err, sizeof(err));
		if (lp->boxes[i] == NULL) {
			fprintf(stderr, "smtp-mimic: --via %s: %s\n", c->via[i],
			        err);
			cli_profile_free(lp);
			return 1;
		}
		lp->nboxes++;
	}
	if (server_prepare_tls(lp->profile, c->cert, c->key, err,
	                       sizeof(err)) == -1) {
		fprintf(stderr, "smtp-mimic: %s\n", err);
		cli_profile_free(lp);
		return 1;
	}
	if (c->write_cert != NULL) {
		if (lp->profile->tls_policy == NULL)
			log_fatal(
			    "--write-cert %s: profile %s has no tls: section",
			    c->write_cert, lp->profile->name);
		if (tls_policy_write_cert(lp->profile->tls_policy,
		                          c->write_cert, err,
		                          sizeof(err)) == -1)
			log_fatal("--write-cert %s: %s", c->write_cert, err);
	}
	return 0;
}
