/*
 * server_tls.c - a profile's TLS context as the server builds it, at
 * start-up and on every reload, with --cert/--key.
 *
 * Does: build the SSL_CTX (tls_policy), log what OpenSSL cannot offer,
 * refuse --cert/--key for a profile without a tls: section, and word a
 * bad certificate or key as the flag that named it (--cert FILE, --key
 * FILE), never as the tls layer's parameter names.
 * Does not: read the flags (cli/) or handshake (net/, smtp/).
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "profile.h"
#include "server.h"
#include "tls_policy.h"

struct tls_notes {
	const struct profile *p;
	unsigned never_chosen;
};

/* What OpenSSL cannot offer is a warning; a suite that is offered but can
 * never be chosen (wrong key type or version) is detail for -v / --check. */
static void
tls_warn(void *arg, const char *msg)
{
	struct tls_notes *n = arg;

	if (strstr(msg, "never be chosen") != NULL) {
		n->never_chosen++;
		log_debug("profile %s: %s", n->p->name, msg);
		return;
	}
	log_warnx("profile %s: %s", n->p->name, msg);
}

/* The tls layer names the files by its parameters (cert_file, key_file):
 * here they came from the flags, so name those. */
static void
flag_words(const char *why, char *err, size_t errlen)
{
	static const struct {
		const char *from, *to;
	} words[] = {{"cert_file ", "--cert "}, {"key_file ", "--key "}};
	size_t used = 0;

	while (*why != '\0' && used + 1 < errlen) {
		size_t i, n = sizeof(words) / sizeof(words[0]);

		for (i = 0; i < n; i++)
			if (strncmp(why, words[i].from,
			            strlen(words[i].from)) == 0)
				break;
		if (i < n) {
			used += (size_t)snprintf(err + used, errlen - used,
			                         "%s", words[i].to);
			why += strlen(words[i].from);
		} else
			err[used++] = *why++;
		if (used >= errlen)
			used = errlen - 1;
	}
	err[used] = '\0';
}

/* server_prepare_tls - build a profile's SSL_CTX (the tls layer puts its
 * own callbacks on it; sessions attach their hooks per connection) */
int
server_prepare_tls(struct profile *p, const char *cert_file,
                   const char *key_file, char *err, size_t errlen)
{
	char why[512];

	if (!p->tls.enabled) {
		/* A certificate nothing would serve: the user meant another
		 * profile, or forgot its tls: section. */
		if (cert_file != NULL || key_file != NULL) {
			snprintf(err, errlen,
			         "--cert/--key given, but profile %s has no "
			         "tls: section (TLS disabled); add one or drop "
			         "the flags",
			         p->name);
			return -1;
		}
		return 0;
	}
	if (p->tls_policy != NULL)
		return 0;
	struct tls_notes notes = {.p = p};

	p->tls_policy =
	    tls_policy_new(&p->tls, p->hostname, cert_file, key_file, tls_warn,
	                   &notes, why, sizeof(why));
	if (notes.never_chosen != 0)
		log_info("profile %s: %u listed suite(s) can never be chosen "
		         "with this certificate and these versions (-v or "
		         "--check lists them)",
		         p->name, notes.never_chosen);
	if (p->tls_policy == NULL) {
		/* A bad --cert/--key is the flag's fault, not the profile's. */
		if (cert_file != NULL && (strncmp(why, "cert_file", 9) == 0 ||
		                          strncmp(why, "key_file", 8) == 0))
			flag_words(why, err, errlen);
		else
			snprintf(err, errlen, "%s: tls: %s", p->path, why);
		return -1;
	}
	return 0;
}
