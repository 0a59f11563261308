/*
 * explain.c - profile_summary, the --check explanation of a loaded
 * profile and of the middleboxes in front of it.
 *
 * Does not: describe what OpenSSL makes of the TLS settings (tls_policy).
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

static const char *
fmt_ms(char *buf, size_t len, unsigned ms, const char *zero)
{
	if (ms == 0)
		snprintf(buf, len, "%s", zero);
	else if (ms % 3600000 == 0)
		snprintf(buf, len, "%uh", ms / 3600000);
	else if (ms % 60000 == 0)
		snprintf(buf, len, "%um", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%us", ms / 1000);
	else
		snprintf(buf, len, "%ums", ms);
	return buf;
}

static const char *
fmt_bytes(char *buf, size_t len, uint64_t v, const char *zero)
{
	static const char units[] = "GMK";

	if (v == 0) {
		snprintf(buf, len, "%s", zero);
		return buf;
	}
	for (int i = 0; i < 3; i++) {
		uint64_t m = 1ull << (10 * (3 - i));

		if (v % m == 0) {
			snprintf(buf, len, "%llu bytes (%llu%c)",
			         (unsigned long long)v,
			         (unsigned long long)(v / m), units[i]);
			return buf;
		}
	}
	snprintf(buf, len, "%llu bytes", (unsigned long long)v);
	return buf;
}

static const char *
fmt_count(char *buf, size_t len, unsigned v, const char *zero)
{
	if (v == 0)
		snprintf(buf, len, "%s", zero);
	else
		snprintf(buf, len, "%u", v);
	return buf;
}

static void
summary_reply(FILE *out, const char *label, const struct reply_text *r,
              int width)
{
	for (size_t i = 0; i < r->n; i++)
		fprintf(out, "  %-*s %s\n", width, i == 0 ? label : "",
		        r->lines[i]);
}

/* "tls1.0" for TLSV_1_0 */
static const char *
version_name(unsigned bit)
{
	for (size_t i = 0; i < nitems(tls_versions); i++)
		if (tls_versions[i].bit == bit)
			return tls_versions[i].name;
	return "?";
}

/* " tls1.0 tls1.2" for a set of version bits */
static void
summary_versions(FILE *out, unsigned bits)
{
	for (size_t i = 0; i < nitems(tls_versions); i++)
		if (bits & tls_versions[i].bit)
			fprintf(out, " %s", tls_versions[i].name);
}

static void
summary_ids(FILE *out, const char *label, const uint16_t *ids, size_t n,
            const char **sep)
{
	char b[128];

	if (n == 0)
		return;
	fprintf(out, "%s%s", *sep, label);
	for (size_t i = 0; i < n; i++) {
		const char *name = tls_suite_name(ids[i], b, sizeof(b));

		fprintf(out, "%s%s", i ? ", " : " ", name);
		if (strncmp(name, "0x", 2) != 0)
			fprintf(out, " (0x%04X)", ids[i]);
	}
	*sep = ";";
}

static void
summary_hello(FILE *out, const struct rule_when *w)
{
	const char *sep = "";

	summary_ids(out, " offering any of", w->offers_any, w->noffers_any,
	            &sep);
	summary_ids(out, " offering all of", w->offers_all, w->noffers_all,
	            &sep);
	summary_ids(out, " offering none of", w->offers_none, w->noffers_none,
	            &sep);
	if (w->versions_any != 0) {
		fprintf(out, "%s offering any of the versions", sep);
		summary_versions(out, w->versions_any);
		sep = ";";
	}
	if (w->sni_pattern != NULL) {
		fprintf(out, "%s SNI matching /%s/", sep, w->sni_pattern);
		sep = ";";
	}
	if (w->extension >= 0) {
		fprintf(out, "%s with extension %d", sep, w->extension);
		sep = ";";
	}
	if (*sep == '\0')
		fprintf(out, " (any ClientHello)");
}

static void
summary_list(FILE *out, const char *label, char **v, size_t n, const char *none)
{
	fprintf(out, "  %-18s", label);
	if (n == 0)
		fprintf(out, " %s\n", none);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%*s %s\n", i == 0 ? 0 : 20, "", v[i]);
}

static const char *
noshared_str(enum tls_no_shared how)
{
	switch (how) {
	case TLS_NOSHARED_OPENSSL:
		return "openssl (OpenSSL's own alert)";
	case TLS_NOSHARED_ALERT:
		return "alert (a fatal handshake_failure, 40)";
	case TLS_NOSHARED_FIN:
		return "fin (no answer, then FIN)";
	case TLS_NOSHARED_RST:
		return "rst (no answer, then RST)";
	}
	return "?";
}

/* The "tls:" settings as given; what OpenSSL makes of them is tls_policy's. */
static void
summary_tls(FILE *out, const struct tls_settings *ts)
{
	fprintf(out, "\nTLS (as configured)\n");
	if (!ts->enabled) {
		fprintf(out, "  disabled (STARTTLS gets tls_unavailable)\n");
		return;
	}
	fprintf(out, "  %-18s", "versions");
	summary_versions(out, ts->versions);
	fprintf(out, "\n");
	summary_list(out, "ciphers", ts->ciphers, ts->nciphers,
	             "(OpenSSL's DEFAULT)");
	summary_list(out, "ciphersuites", ts->ciphersuites, ts->nciphersuites,
	             "(OpenSSL's default)");
	fprintf(out, "  %-18s %s\n", "server_preference",
	        ts->server_preference ? "yes (the server's order wins)"
	                              : "no (the client's order wins)");
	summary_list(out, "groups", ts->groups, ts->ngroups,
	             "(OpenSSL's default)");
	if (ts->dh_bits == 0)
		fprintf(out, "  %-18s auto\n", "dh_bits");
	else
		fprintf(out, "  %-18s %u\n", "dh_bits", ts->dh_bits);
	summary_list(out, "sigalgs", ts->sigalgs, ts->nsigalgs,
	             "(OpenSSL's default)");
	if (ts->security_level < 0)
		fprintf(out, "  %-18s (OpenSSL's default)\n", "security_level");
	else
		fprintf(out, "  %-18s %d\n", "security_level",
		        ts->security_level);
	if (ts->key_type == TLS_KEY_RSA)
		fprintf(out, "  %-18s rsa, %u bits\n", "key", ts->key_bits);
	else
		fprintf(out, "  %-18s %s\n", "key", key_names[ts->key_type]);
	fprintf(out, "  %-18s %s\n", "no_shared_cipher",
	        noshared_str(ts->no_shared_cipher));
	fprintf(out, "  %-18s %s\n", "no_shared_version",
	        noshared_str(ts->no_shared_version));
}

static void
summary_rule(FILE *out, const struct rule *r)
{
	const struct rule_when *w = &r->when;
	const struct rule_do *d = &r->act;
	char b[128];
	const char *sep = " ";

	fprintf(out, "  %s (line %d)%s\n", r->name, r->line,
	        r->enabled ? "" : "  [disabled]");
	if (r->why != NULL)
		fprintf(out, "    why: %s\n", r->why);
	fprintf(out, "    when %s", hook_str(w->hook));
	switch (w->hook) {
	case HOOK_CONNECT:
		if (w->client_pattern != NULL)
			fprintf(out, " from a client matching /%s/",
			        w->client_pattern);
		break;
	case HOOK_COMMAND:
		fprintf(out, " %s", w->verb_name ? w->verb_name : "(any verb)");
		if (w->verb_name != NULL && w->verb == VERB_UNKNOWN)
			fprintf(out, " (not an engine verb)");
		if (w->nth != 0)
			fprintf(out, ", use #%u in the session", w->nth);
		if (w->arg_pattern != NULL)
			fprintf(out, ", arguments matching /%s/",
			        w->arg_pattern);
		break;
	case HOOK_HEADER:
		if (w->header_name != NULL)
			fprintf(out, " %s present%s", w->header_name,
			        w->header_duplicate ? " more than once" : "");
		else if (w->header_duplicate)
			fprintf(out, " any header present more than once");
		else
			fprintf(out, " (end of the header section)");
		break;
	case HOOK_DATA:
		if (w->size_over != 0)
			fprintf(out, " size over %s",
			        fmt_bytes(b, sizeof(b), w->size_over, "0"));
		else
			fprintf(out, " at end of data");
		break;
	case HOOK_TLS_CLIENT_HELLO:
		summary_hello(out, w);
		break;
	case HOOK_TLS_HANDSHAKE_DONE:
		if (w->version != 0)
			fprintf(out, " version %s", version_name(w->version));
		if (w->suite >= 0)
			fprintf(
			    out, "%s suite %s (0x%04X)",
			    w->version != 0 ? "," : "",
			    tls_suite_name((uint16_t)w->suite, b, sizeof(b)),
			    (unsigned)w->suite);
		if (w->version == 0 && w->suite < 0)
			fprintf(out, " (any version and suite)");
		break;
	case HOOK_TLS_FAILED:
		if (w->reason_pattern != NULL)
			fprintf(out, " with a reason matching /%s/",
			        w->reason_pattern);
		else
			fprintf(out, " (any reason)");
		break;
	case HOOK_COUNT:
		break;
	}
	fprintf(out, " -> do");
	if (d->delay_ms != 0) {
		fprintf(out, "%sdelay %s", sep,
		        fmt_ms(b, sizeof(b), d->delay_ms, "0"));
		sep = ", ";
	}
	if (d->has_reply) {
		fprintf(out, "%sreply", sep);
		for (size_t i = 0; i < d->reply.n; i++)
			fprintf(out, "%s\"%s\"", i ? " / " : " ",
			        d->reply.lines[i]);
		sep = ", ";
	}
	if (d->close != CLOSE_NONE) {
		fprintf(out, "%sclose %s", sep, close_how_str(d->close));
		sep = ", ";
	}
	if (d->hang) {
		fprintf(out, "%shang", sep);
		sep = ", ";
	}
	if (d->alert >= 0) {
		const char *an = alert_name(d->alert, b, sizeof(b));

		fprintf(out, "%salert %s (%d)", sep, an ? an : "unnamed",
		        d->alert);
		sep = ", ";
	}
	if (d->at != TLS_AT_NOW)
		fprintf(out, ", at %s", at_names[d->at]);
	if (*sep == ' ')
		fprintf(out, " nothing");
	fprintf(out, "\n    probability %g, ", r->probability);
	if (r->times != 0)
		fprintf(out, "at most %u times per process\n", r->times);
	else
		fprintf(out, "no cap on firings\n");
}

/* The middlebox part of --check: what the box does to each direction. */
static void
summary_box(FILE *out, const struct mbox_config *c)
{
	static const char *const banner_why[] = {
	    [MBOX_BANNER_PASS] = "pass (the greeting goes through as sent)",
	    [MBOX_BANNER_MASK] = "mask (every character but \"2\", \"0\", "
	                         "\"0\", CR and LF becomes \"*\")",
	    [MBOX_BANNER_MASK_ALL] = "mask-all (every character but CR and "
	                             "LF becomes \"*\")",
	};
	static const char *const measure_unit[MBOX_MEASURE_COUNT] = {
	    [MBOX_CMD_LINE] = "bytes, without CRLF",
	    [MBOX_RCPT_COUNT] = "RCPTs in one transaction",
	    [MBOX_SENDER_LEN] = "bytes of the MAIL FROM address",
	    [MBOX_HEADER_LINE] = "bytes, without CRLF",
	    [MBOX_BODY_LINE] = "bytes, without CRLF",
	    [MBOX_MIME_FILENAME] = "bytes of a filename=\"...\"",
	};
	static const char *const action_why[] = {
	    [MBOX_ACT_LOG] = "log (noted, passed on)",
	    [MBOX_ACT_DROP] = "drop-connection (nothing more passes; FIN)",
	    [MBOX_ACT_RESET] = "reset (nothing more passes; RST to the "
	                       "client)",
	};

	fprintf(out, "\nBanner (server -> client)\n  %s\n",
	        banner_why[c->banner]);

	fprintf(out, "\nCommands (client -> server)\n  allowed: ");
	for (size_t i = 0; i < c->nallowed; i++)
		fprintf(out, " %s", c->allowed[i]);
	if (c->nallowed == 0)
		fprintf(out, " (none)");
	fprintf(out, "\n  denied:   %s\n",
	        c->denied == MBOX_DENIED_MASK
	            ? "mask (X's of the same length; the server answers "
	              "its unknown-command reply)"
	            : "noop (rewritten to NOOP)");

	fprintf(out, "\nEHLO reply (server -> client)\n");
	for (size_t i = 0; i < c->nehlo_masks; i++)
		fprintf(out, "  mask:     %s -> %s\n", c->ehlo_masks[i].keyword,
		        c->ehlo_masks[i].replacement);
	fprintf(out, "  allowed: ");
	for (size_t i = 0; i < c->nehlo_allowed; i++)
		fprintf(out, " %s", c->ehlo_allowed[i]);
	if (c->nehlo_allowed == 0)
		fprintf(out, " (none listed)");
	fprintf(out, "\n  others:   %s\n",
	        c->ehlo_mask_others ? "mask (X's of the same length)" : "pass");

	fprintf(out, "\nSTARTTLS\n  allow_tls: %s\n",
	        c->allow_tls ? "yes (STARTTLS passes; after its 220 the box "
	                       "passes everything unread)"
	                     : "no (STARTTLS is denied like any verb not "
	                       "allowed)");

	fprintf(out, "\nLimits (%zu)\n", c->nlimits);
	if (c->nlimits == 0)
		fprintf(out, "  (none)\n");
	for (size_t i = 0; i < c->nlimits; i++)
		fprintf(out, "  %-20s > %llu %s: %s\n",
		        measure_names[c->limits[i].what],
		        (unsigned long long)c->limits[i].over,
		        measure_unit[c->limits[i].what],
		        action_why[c->limits[i].action]);

	fprintf(out, "\nEnd of data\n  split_end_of_data: %s\n",
	        c->drop_split_eod
	            ? "drop (a CRLF.CRLF split over packets is dropped; the "
	              "sender times out)"
	            : "pass");

	fprintf(out, "\nDuplicate headers\n");
	if (!c->cut_on_duplicate) {
		fprintf(out, "  cut: no\n");
		return;
	}
	fprintf(out, "  cut: yes, when the header section carries a duplicate "
	             "header");
	for (size_t i = 0; i < c->ncut_headers; i++)
		fprintf(out, "%s%s", i == 0 ? " or any of: " : ", ",
		        c->cut_headers[i]);
	fprintf(out, "\n  action: %s\n", action_why[c->cut_action]);
}

static void
summary_head(const struct profile *p, FILE *out, const char *what)
{
	const struct profile_impl *pi = impl_of(p);

	fprintf(out, "%s %s\n", what, p->name);
	fprintf(out, "  description:   %s\n",
	        p->description ? p->description : "(none)");
	fprintf(out, "  file:          %s\n", p->path);
	fprintf(out, "  extends:       ");
	if (pi->nchain <= 1)
		fprintf(out, "(nothing)");
	for (size_t i = 1; i < pi->nchain; i++)
		fprintf(out, "%s%s (%s)", i > 1 ? " -> " : "",
		        pi->chain_names[i], pi->chain_paths[i]);
	fprintf(out, "\n");
}

/* profile_summary - human-readable explanation for --check */
void
profile_summary(const struct profile *p, bool with_via, FILE *out)
{
	size_t nvia = with_via ? p->nvia : 0;

	const struct profile_impl *pi = impl_of(p);
	const struct limits *lim = &p->limits;
	char b[96];
	int width = 0;

	if (p->mbox != NULL) {
		summary_head(p, out, "Middlebox");
		summary_box(out, p->mbox);
		return;
	}
	summary_head(p, out, "Profile");
	fprintf(out, "  via:           ");
	if (nvia == 0)
		fprintf(out, "(no middlebox: the client talks to the server)");
	for (size_t i = 0; i < nvia; i++)
		fprintf(out, "%s%s", i ? " -> " : "client -> ",
		        p->via[i]->name);
	if (nvia != 0)
		fprintf(out, " -> server");
	fprintf(out, "\n  hostname:      %s\n", p->hostname);
	fprintf(out, "  line endings:  %s\n",
	        p->eol == EOL_STRICT
	            ? "strict (only CRLF ends a line; a bare LF "
	              "gets the bare_lf reply)"
	            : "lenient (LF alone also ends a line)");

	fprintf(out, "\nGreeting\n");
	for (size_t i = 0; i < p->replies[REPLY_GREETING].n; i++)
		fprintf(out, "  %s\n", p->replies[REPLY_GREETING].lines[i]);

	fprintf(out, "\nEHLO reply\n");
	fprintf(out, "  %s%s\n", p->nehlo_keywords ? "250-" : "250 ",
	        p->ehlo_greeting);
	for (size_t i = 0; i < p->nehlo_keywords; i++)
		fprintf(out, "  %s%s\n",
		        i + 1 == p->nehlo_keywords ? "250 " : "250-",
		        p->ehlo_keywords[i]);
	fprintf(out, "  extensions the engine implements:");
	for (size_t i = 0; i < EXT_WORD_COUNT; i++)
		if (p->ext & ext_words[i].bit)
			fprintf(out, " %s", ext_words[i].word);
	if (p->ext == 0)
		fprintf(out, " (none)");
	fprintf(out, "\n");
	if (p->ext & EXT_SIZE)
		fprintf(
		    out, "  SIZE: %s\n",
		    fmt_bytes(b, sizeof(b), p->ext_size, "no fixed maximum"));
	if (p->nauth_mechs != 0) {
		fprintf(out, "  AUTH mechanisms:");
		for (size_t i = 0; i < p->nauth_mechs; i++)
			fprintf(out, " %s", p->auth_mechs[i]);
		fprintf(out, "\n");
	}

	fprintf(out, "\nCommands recognised (others get unknown_command)\n ");
	for (int v = 0; v < VERB_COUNT; v++)
		if (p->commands & (1u << v))
			fprintf(out, " %s", verb_names[v]);
	if (p->commands == 0)
		fprintf(out, " (none)");
	fprintf(out, "\n");

	fprintf(out, "\nLimits\n");
	fprintf(out, "  %-24s %zu bytes incl. CRLF\n", "line_length",
	        lim->line_length);
	fprintf(out, "  %-24s %zu bytes incl. CRLF\n", "text_line_length",
	        lim->text_line_length);
	fprintf(out, "  %-24s %u per transaction\n", "recipients",
	        lim->recipients);
	fprintf(out, "  %-24s %s%s\n", "message_size",
	        fmt_bytes(b, sizeof(b), lim->message_size, "unlimited"),
	        pi->size_from_keyword ? " (from the SIZE keyword)" : "");
	fprintf(out, "  %-24s %s\n", "header_size",
	        fmt_bytes(b, sizeof(b), lim->header_size, "unlimited"));
	fprintf(out, "  %-24s %s\n", "bad_commands",
	        fmt_count(b, sizeof(b), lim->bad_commands, "no limit"));
	fprintf(out, "  %-24s %s\n", "bad_commands_close",
	        close_how_str(lim->bad_commands_close));
	fprintf(out, "  %-24s %s\n", "idle_timeout",
	        fmt_ms(b, sizeof(b), lim->idle_timeout_ms, "none"));
	fprintf(out, "  %-24s %s\n", "connection_timeout",
	        fmt_ms(b, sizeof(b), lim->connection_timeout_ms, "none"));
	fprintf(out, "  %-24s %s\n", "hang_timeout",
	        fmt_ms(b, sizeof(b), lim->hang_timeout_ms, "none"));
	fprintf(out, "  %-24s %s\n", "max_sessions",
	        fmt_count(b, sizeof(b), lim->max_sessions, "unlimited"));
	fprintf(
	    out, "  %-24s %s\n", "max_sessions_per_client",
	    fmt_count(b, sizeof(b), lim->max_sessions_per_client, "unlimited"));

	fprintf(out, "\nAuth\n  credentials:  ");
	for (size_t i = 0; i < p->auth.ncreds; i++)
		fprintf(out, "%s%s", i ? ", " : "", p->auth.creds[i].user);
	if (p->auth.ncreds == 0)
		fprintf(out, "(none)");
	fprintf(out, "\n  accept_any:   %s\n  require_tls:  %s\n",
	        p->auth.accept_any ? "yes" : "no",
	        p->auth.require_tls ? "yes" : "no");

	summary_tls(out, &p->tls);

	fprintf(out, "\nReplies\n");
	for (int i = 0; i < REPLY_COUNT; i++)
		if ((int)strlen(reply_id_names[i]) > width)
			width = (int)strlen(reply_id_names[i]);
	for (int i = 0; i < REPLY_COUNT; i++)
		summary_reply(out, reply_id_names[i], &p->replies[i], width);

	fprintf(out, "\nRules (%zu)\n", p->nrules);
	if (p->nrules == 0)
		fprintf(out, "  (none)\n");
	for (size_t i = 0; i < p->nrules; i++)
		summary_rule(out, &p->rules[i]);

	/* each box in front, client side first */
	for (size_t i = 0; i < nvia; i++) {
		fprintf(out, "\nvia %zu of %zu: ", i + 1, nvia);
		summary_head(p->via[i], out, "Middlebox");
		summary_box(out, p->via[i]->mbox);
	}
}
