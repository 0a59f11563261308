/*
 * cli_check.c - --check: load everything serving would load, explain it,
 * and exit 0 (it would start) or 1 (the one line saying why not).
 *
 * Does: the --via boxes (nearest the client first), the profile with the
 * path its sessions will really have, what the linked OpenSSL will offer,
 * and, when --listen is given, each address it would bind (port 0 shown
 * as chosen at start). Does not: bind, open the spool or the transcript,
 * or explain a profile's sections itself (profile_summary).
 */
#include <stdio.h>

#include "cli.h"
#include "listen_addr.h"
#include "profile.h"
#include "server.h"
#include "tls_policy.h"

/* "  SPEC  ADDR[:PORT][ and ADDR[:PORT]][ (...)][, port ...][, TLS]" */
static void
explain_listen(const char *spec, const struct listen_addr *la)
{
	printf("  %-24s", spec);
	for (size_t i = 0; i < la->n; i++) {
		char addr[64];

		listen_addr_format(&la->ss[i], !la->any_port, addr,
		                   sizeof(addr));
		printf("%s%s", i == 0 ? " " : " and ", addr);
	}
	if (la->resolved)
		printf(" (localhost's loopback address%s)",
		       la->n > 1 ? "es" : "");
	if (la->any_port)
		printf(la->n == 1 ? ", port chosen at start"
		                  : ", one port chosen at start for all");
	if (la->tls)
		printf(", implicit TLS");
	printf("\n");
}

/* Every --listen value, parsed as serving would: 0, or 1 after its line. */
static int
parse_listen(const struct cli *c, const struct profile *p,
             struct listen_addr *la)
{
	char err[512];

	for (size_t i = 0; i < c->nlisten; i++) {
		if (server_check_listen(p, c->listen[i], &la[i], err,
		                        sizeof(err)) == -1) {
			fprintf(stderr, "smtp-mimic: %s\n", err);
			return 1;
		}
	}
	return 0;
}

/* cli_check - --check: explain what would serve, exit status 0 or 1 */
int
cli_check(const struct cli *c)
{
	struct listen_addr la[CLI_MAX_LISTEN];
	struct cli_profile lp;
	const struct profile *p;
	int status;

	if ((status = cli_profile_load(c, &lp)) != 0)
		return status;
	p = lp.profile;
	if (parse_listen(c, p, la) != 0) {
		cli_profile_free(&lp);
		return 1;
	}
	for (size_t i = 0; i < lp.nboxes; i++) {
		printf("Middlebox --via %s (nearest the client first)\n",
		       c->via[i]);
		profile_summary(lp.boxes[i], true, stdout);
		printf("\n");
	}
	if (c->no_profile_via && p->nvia != 0) {
		/* Explain the path the sessions will really have. */
		profile_summary(p, false, stdout);
		printf("  (--via none: the profile's own middleboxes are not "
		       "in the path)\n");
	} else
		profile_summary(p, true, stdout);
	if (p->tls_policy != NULL) {
		printf("\nWhat the linked OpenSSL will offer\n");
		tls_policy_describe(p->tls_policy, stdout);
	}
	if (c->nlisten > 0) {
		printf("\nListening (--listen)\n");
		for (size_t i = 0; i < c->nlisten; i++)
			explain_listen(c->listen[i], &la[i]);
	}
	printf("\nprofile %s: OK\n", p->name);
	cli_profile_free(&lp);
	return 0;
}
