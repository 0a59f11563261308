/*
 * greylist.c - greylisting at RCPT, the header of a delayed message and
 * the rules' fail_first counts, for one session, on the shared policy
 * state (out/grey_store.c, which decides as postgrey 1.37 does).
 *
 * The triplet is postgrey's: lower-cased "network/sender/recipient", the
 * network the client's address with its host bits cleared
 * (greylist.ipv4_prefix, ipv6_prefix; greylist.lookup: host keeps the
 * whole address), the sender with postgrey's substitutions; the
 * auto-whitelist counts the client's address.
 *
 * Does not: parse RCPT (commands.c), keep state (grey_store.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "clock.h"
#include "grey_file.h"
#include "grey_key.h"
#include "grey_store.h"
#include "greylist.h"
#include "reply.h"
#include "session.h"
#include "spool.h"
#include "template.h"

/* The policy's numbers in seconds, from the profile's ms. */
static void
policy_of(const struct greylist_settings *g, struct grey_policy *p)
{
	p->bounds.max_entries = g->max_entries;
	p->bounds.max_age = g->max_age_ms / 1000;
	p->delay = g->delay_ms / 1000;
	p->retry_window = g->retry_window_ms / 1000;
	p->awl_clients = g->auto_whitelist;
	p->awl_interval = g->auto_whitelist_interval_ms / 1000;
}

/* The client's part of a triplet: its network, or its address. */
static void
client_part(const struct session *s, char *out, size_t len)
{
	const struct greylist_settings *g = &s->profile->greylist;

	if (g->lookup == GREYLIST_BY_HOST)
		snprintf(out, len, "%s", s->client_ip);
	else
		(void)grey_key_net(s->client_ip, g->ipv4_prefix, g->ipv6_prefix,
		                   out, len);
}

/* greylist_rcpt - greylist one recipient */
bool
greylist_rcpt(struct session *s, const char *rcpt)
{
	const struct greylist_settings *g = &s->profile->greylist;
	struct session_txn *t;
	struct grey_policy pol;
	struct grey_result r;
	char net[64], sender[SMTP_PATH_MAX + 1], key[GREY_KEY_MAX + 1];
	const char *parts[3];

	if (!g->enabled || s->env->store == NULL)
		return true;
	if ((t = session_txn(s)) == NULL)
		return true; /* no memory: not greylisted rather than lost */
	client_part(s, net, sizeof(net));
	if (g->sender_substitutions)
		grey_key_sender(t->mail_from, sender, sizeof(sender));
	else
		snprintf(sender, sizeof(sender), "%s", t->mail_from);
	parts[0] = net;
	parts[1] = sender;
	parts[2] = rcpt;
	if (grey_key_join(parts, 3, key, sizeof(key)) == 0)
		return true; /* longer than a key: postgrey has no such case */
	policy_of(g, &pol);
	grey_store_check(s->env->store, &pol, key, s->client_ip, clock_now(),
	                 &r);
	if (r.awl_now)
		session_eventf(s, TR_INFO, NULL,
		               "greylist: %s auto-whitelisted after %u passes",
		               s->client_ip, r.awl_count);
	switch (r.verdict) {
	case GREY_DEFER_NEW:
	case GREY_DEFER_EARLY:
		snprintf(t->grey_wait, sizeof(t->grey_wait), "%" PRId64,
		         r.wait);
		session_eventf(s, TR_INFO, NULL,
		               "greylist: %s: %s, %" PRId64 " s to wait", key,
		               grey_verdict_str(r.verdict), r.wait);
		reply_lines(s, &g->reply, NULL);
		return false;
	case GREY_PASS_DELAYED:
		session_eventf(s, TR_INFO, NULL,
		               "greylist: %s: passed after %" PRId64 " s", key,
		               r.delayed);
		/* one header per message, the first recipient's delay */
		if (!t->grey_header_due) {
			snprintf(t->grey_delay, sizeof(t->grey_delay),
			         "%" PRId64, r.delayed);
			t->grey_header_due =
			    g->header != NULL && g->header[0] != '\0';
		}
		return true;
	case GREY_PASS_KNOWN:
	case GREY_PASS_AWL:
		session_eventf(s, TR_DETAIL, NULL, "greylist: %s: %s", key,
		               grey_verdict_str(r.verdict));
		return true;
	}
	return true;
}

/* greylist_header - write the header due, if any, to the open message */
int
greylist_header(struct session *s)
{
	const struct greylist_settings *g = &s->profile->greylist;
	struct session_txn *t = s->txn;
	struct evbuffer *b;
	char date[TEMPLATE_DATE_MAX];
	time_t now;
	int rc;

	if (t == NULL || !t->grey_header_due || s->msg == NULL)
		return 0;
	t->grey_header_due = false;
	now = (time_t)clock_now();
	if (template_date(g->header_date, now, date, sizeof(date)) == 0)
		date[0] = '\0';
	if ((b = evbuffer_new()) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	reply_expand(s, g->header, date, b);
	evbuffer_add(b, "\r\n", 2);
	rc =
	    spool_write(s->msg, evbuffer_pullup(b, -1), evbuffer_get_length(b));
	if (rc == 0)
		session_event(s, TR_DETAIL, NULL, NULL,
		              (const char *)evbuffer_pullup(b, -1),
		              evbuffer_get_length(b) - 2);
	evbuffer_free(b);
	return rc;
}

/* greylist_attempts - count one attempt of rule r's key */
uint64_t
greylist_attempts(const struct rule *r, const struct rule_ctx *c, void *arg)
{
	struct session *s = arg;
	const struct session_txn *t = session_txn_peek(s);
	const struct greylist_settings *g = &s->profile->greylist;
	struct grey_bounds b = {g->max_entries, g->max_age_ms / 1000};
	char net[64], rcpt[SMTP_PATH_MAX + 1], key[GREY_KEY_MAX + 1];
	const char *parts[8];
	size_t n = 0;

	if (s->env->store == NULL)
		return 1;
	parts[n++] = r->name;
	if (r->act.key & KEY_CLIENT)
		parts[n++] = s->client_ip;
	if (r->act.key & KEY_CLIENT_NET) {
		client_part(s, net, sizeof(net));
		parts[n++] = net;
	}
	if (r->act.key & KEY_HELO)
		parts[n++] = s->helo != NULL ? s->helo : "";
	if (r->act.key & KEY_SENDER)
		parts[n++] = t->mail_from;
	if (r->act.key & KEY_RECIPIENT) {
		struct smtp_path path;
		size_t bad;

		rcpt[0] = '\0';
		if (c->hook == HOOK_COMMAND && c->args != NULL &&
		    smtp_parse_path(c->args, strlen(c->args), "TO:", false,
		                    &path, &bad) == PATH_OK)
			snprintf(rcpt, sizeof(rcpt), "%.*s", (int)path.addr_len,
			         path.addr);
		parts[n++] = rcpt;
	}
	if (r->act.key & KEY_ARGS)
		parts[n++] = c->args != NULL ? c->args : "";
	if (grey_key_join(parts, n, key, sizeof(key)) == 0)
		return 1;
	return grey_store_count(s->env->store, &b, key, clock_now());
}
