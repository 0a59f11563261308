/*
 * rules.c - match a profile's rules at a hook point.
 *
 * Does: conditions, probability draws, fail_first (through the caller's
 * attempts count), per-process "times" caps.
 * Does not: perform actions or keep per-session state beyond the
 * generator the caller owns.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "message.h"
#include "rules.h"

/* rng_seed - seed a generator for one session */
void
rng_seed(struct rng *r, uint64_t seed, uint64_t session)
{
	r->state = seed ^ (session * 0x9E3779B97F4A7C15ull);
	(void)rng_next(r);
}

/* rng_next - splitmix64 step */
uint64_t
rng_next(struct rng *r)
{
	uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* rng_unit - uniform double in [0, 1) */
double
rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* What the ClientHello offers, against the rule's suite/version sets. */
static bool
hello_conditions(const struct rule_when *w, const struct tls_hello *h)
{
	bool any = w->noffers_any == 0;

	for (size_t i = 0; i < w->noffers_any && !any; i++)
		any = tls_hello_offers(h, w->offers_any[i]);
	if (!any)
		return false;
	for (size_t i = 0; i < w->noffers_all; i++)
		if (!tls_hello_offers(h, w->offers_all[i]))
			return false;
	for (size_t i = 0; i < w->noffers_none; i++)
		if (tls_hello_offers(h, w->offers_none[i]))
			return false;
	if (w->versions_any != 0 && (w->versions_any & h->versions) == 0)
		return false;
	if (w->sni_pattern != NULL &&
	    regexec(&w->sni_re, h->sni, 0, NULL, 0) != 0)
		return false;
	if (w->extension >= 0) {
		size_t i;
		for (i = 0; i < h->nexts; i++)
			if (h->exts[i] == w->extension)
				break;
		if (i == h->nexts)
			return false;
	}
	return true;
}

static bool
rule_conditions(const struct rule *r, const struct rule_ctx *c)
{
	const struct rule_when *w = &r->when;

	switch (c->hook) {
	case HOOK_CONNECT:
		return w->client_pattern == NULL ||
		       regexec(&w->client_re, c->client_ip, 0, NULL, 0) == 0;
	case HOOK_COMMAND:
		if (w->verb_name != NULL && strcmp(w->verb_name, c->verb) != 0)
			return false;
		if (w->nth != 0 && w->nth != c->nth)
			return false;
		return w->arg_pattern == NULL ||
		       regexec(&w->arg_re, c->args, 0, NULL, 0) == 0;
	case HOOK_HEADER:
		if (w->header_name == NULL)
			return !w->header_duplicate ||
			       header_any_duplicate(c->headers) != NULL;
		return header_count(c->headers, w->header_name) >=
		       (w->header_duplicate ? 2u : 1u);
	case HOOK_DATA:
		if (w->size_over == 0)
			return c->at_end;
		/* Fires once, on the read that crosses the threshold. */
		return !c->at_end && c->size_before <= w->size_over &&
		       c->size > w->size_over;
	case HOOK_TLS_CLIENT_HELLO:
		return hello_conditions(w, c->hello);
	case HOOK_TLS_HANDSHAKE_DONE:
		return (w->version == 0 || w->version == c->tls_version) &&
		       (w->suite < 0 || w->suite == c->tls_suite) &&
		       (!w->dh_short || c->tls_dh_short);
	case HOOK_TLS_FAILED:
		return w->reason_pattern == NULL ||
		       regexec(&w->reason_re, c->tls_reason, 0, NULL, 0) == 0;
	default:
		return false;
	}
}

/* Take one firing from the rule's "times" budget; false when used up. */
static bool
rule_take(struct rule *r)
{
	atomic_uint *fired = r->fired_in != NULL ? r->fired_in : &r->fired;
	unsigned n = atomic_load(fired);

	do {
		if (r->times != 0 && n >= r->times)
			return false;
	} while (!atomic_compare_exchange_weak(fired, &n, n + 1));
	return true;
}

/* rules_match - the first rule that fires, or NULL */
struct rule *
rules_match(struct profile *p, const struct rule_ctx *ctx, struct rng *rng)
{
	for (size_t i = 0; i < p->nrules; i++) {
		struct rule *r = &p->rules[i];

		if (!r->enabled || r->when.hook != ctx->hook)
			continue;
		if (!rule_conditions(r, ctx))
			continue;
		/* Draw only for rules whose conditions hold, so the sequence
		 * of draws depends on the conversation alone. */
		if (r->probability < 1.0 && rng_unit(rng) >= r->probability)
			continue;
		/* fail_first: past the first N attempts of its key the rule
		 * steps aside (before "times", which it does not use up) */
		if (r->act.fail_first != 0 && ctx->attempts != NULL &&
		    ctx->attempts(r, ctx, ctx->attempts_arg) >
		        r->act.fail_first)
			continue;
		if (!rule_take(r))
			continue;
		return r;
	}
	return NULL;
}

/* Append " name, name" for a suite set; returns the new length. */
static size_t
describe_suites(char *buf, size_t len, size_t o, const char *label,
                const uint16_t *ids, size_t n)
{
	char name[64];

	if (n == 0 || o >= len)
		return o;
	o += (size_t)snprintf(buf + o, len - o, " %s", label);
	for (size_t i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(
		    buf + o, len - o, "%s%s", i ? ", " : " ",
		    tls_suite_name(ids[i], name, sizeof(name)));
	return o;
}

static int
describe_hello(const struct rule_when *w, char *buf, size_t len)
{
	size_t o = (size_t)snprintf(buf, len, "ClientHello");

	o = describe_suites(buf, len, o, "offers any of", w->offers_any,
	                    w->noffers_any);
	o = describe_suites(buf, len, o, "offers all of", w->offers_all,
	                    w->noffers_all);
	o = describe_suites(buf, len, o, "offers none of", w->offers_none,
	                    w->noffers_none);
	if (w->sni_pattern != NULL && o < len)
		o += (size_t)snprintf(buf + o, len - o, " sni ~ /%s/",
		                      w->sni_pattern);
	return (int)(o < len ? o : len - 1);
}

/* rules_describe - a one-line account of a rule's trigger */
void
rules_describe(const struct rule *r, char *buf, size_t len)
{
	const struct rule_when *w = &r->when;
	int n = 0;

	switch (w->hook) {
	case HOOK_CONNECT:
		n = snprintf(buf, len, "connect%s%s",
		             w->client_pattern ? " from ~" : "",
		             w->client_pattern ? w->client_pattern : "");
		break;
	case HOOK_COMMAND:
		n = snprintf(buf, len, "command %s",
		             w->verb_name ? w->verb_name : "(any)");
		if (w->nth && n >= 0 && (size_t)n < len)
			n += snprintf(buf + n, len - n, " #%u", w->nth);
		if (w->arg_pattern && n >= 0 && (size_t)n < len)
			n += snprintf(buf + n, len - n, " ~ /%s/",
			              w->arg_pattern);
		break;
	case HOOK_HEADER:
		n = snprintf(buf, len, "header %s%s",
		             w->header_name ? w->header_name : "(any)",
		             w->header_duplicate ? " duplicated" : "");
		break;
	case HOOK_DATA:
		if (w->size_over)
			n = snprintf(buf, len, "data size > %llu",
			             (unsigned long long)w->size_over);
		else
			n = snprintf(buf, len, "end of data");
		break;
	case HOOK_TLS_CLIENT_HELLO:
		n = describe_hello(w, buf, len);
		break;
	case HOOK_TLS_HANDSHAKE_DONE: {
		char name[64] = "any suite";
		if (w->suite >= 0)
			tls_suite_name((uint16_t)w->suite, name, sizeof(name));
		n = snprintf(buf, len, "TLS handshake done: %s, %s%s",
		             w->version ? tls_version_str(w->version)
		                        : "any version",
		             name,
		             w->dh_short ? ", client DH public value shorter "
		                           "than the prime"
		                         : "");
		break;
	}
	case HOOK_TLS_FAILED:
		n = snprintf(buf, len, "TLS handshake failed%s%s%s",
		             w->reason_pattern ? " ~ /" : "",
		             w->reason_pattern ? w->reason_pattern : "",
		             w->reason_pattern ? "/" : "");
		break;
	default:
		snprintf(buf, len, "?");
	}
	(void)n;
	if (r->probability < 1.0) {
		size_t l = strlen(buf);
		snprintf(buf + l, len - l, " (p=%.3g)", r->probability);
	}
}
