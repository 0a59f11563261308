/*
 * explain.c - profile_summary, the --check explanation of a loaded
 * profile and of the middleboxes in front of it.
 *
 * Does not: describe what OpenSSL makes of the TLS settings (tls_policy).
 */
#include "schema.h"

#include <string.h>
#include <strings.h>

static void
summary_reply(FILE *out, const char *label, const struct reply_text *r,
              int width)
{
	for (size_t i = 0; i < r->n; i++)
		fprintf(out, "  %-*s %s\n", width, i == 0 ? label : "",
		        r->lines[i]);
}

/* "[file: source]" or "[built-in ...]" under a reply (origin.c) */
static void
summary_origin(FILE *out, const struct profile *p, int id, int width)
{
	struct reply_origin o;

	profile_reply_origin(p, (enum reply_id)id, &o);
	if (o.file == NULL)
		fprintf(out, "  %-*s [built-in (RFC 5321, model choice)]\n",
		        width, "");
	else
		fprintf(out, "  %-*s [%s%s%s]\n", width, "", o.file,
		        o.source ? ": " : "", o.source ? o.source : "");
}

/* " tls1.0 tls1.2" for a set of version bits */
static void
summary_versions(FILE *out, unsigned bits)
{
	for (size_t i = 0; i < TLS_VERSION_COUNT; i++)
		if (bits & tls_version_names[i].bit)
			fprintf(out, " %s", tls_version_names[i].schema);
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
			fprintf(
			    out, " size over %s",
			    schema_fmt_bytes(b, sizeof(b), w->size_over, "0"));
		else
			fprintf(out, " at end of data");
		break;
	case HOOK_TLS_CLIENT_HELLO:
		summary_hello(out, w);
		break;
	case HOOK_TLS_HANDSHAKE_DONE:
		if (w->version != 0)
			fprintf(out, " version %s",
			        tls_version_schema_str(w->version));
		if (w->suite >= 0)
			fprintf(
			    out, "%s suite %s (0x%04X)",
			    w->version != 0 ? "," : "",
			    tls_suite_name((uint16_t)w->suite, b, sizeof(b)),
			    (unsigned)w->suite);
		if (w->dh_short)
			fprintf(out,
			        "%s with the client's DH public value "
			        "shorter than the prime",
			        w->version != 0 || w->suite >= 0 ? "," : "");
		else if (w->version == 0 && w->suite < 0)
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
		        schema_fmt_ms(b, sizeof(b), d->delay_ms, "0"));
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
	if (d->fail_first != 0) {
		static const char *const parts[] = {"client",    "client_net",
		                                    "helo",      "sender",
		                                    "recipient", "args"};
		const char *ksep = "";

		fprintf(out, "\n    for the first %u attempts of each key (",
		        d->fail_first);
		for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
			if (d->key & (1u << i)) {
				fprintf(out, "%s%s", ksep, parts[i]);
				ksep = ", ";
			}
		fprintf(out, "), then not");
	}
	fprintf(out, "\n    probability %g, ", r->probability);
	if (r->times != 0)
		fprintf(out, "at most %u times per process\n", r->times);
	else
		fprintf(out, "no cap on firings\n");
}

/* ------------------------------------------------------------------ */
/* Rows                                                                */

static bool
is_str_list(enum schema_type t)
{
	return t == T_SUITES || t == T_SUITES13 || t == T_NAMES;
}

/*
 * One row: "  label value", the label padded to width (no label when
 * width < 0). A list of strings gets one item per line, aligned.
 */
static void
explain_row(const struct schema_row *r, const struct profile *p,
            const void *base, int width, bool colon, FILE *out)
{
	char name[64], label[64], val[1024];

	if (r->flags & SR_HIDDEN)
		return;
	snprintf(name, sizeof(name), "%s%s", r->name, colon ? ":" : "");
	snprintf(label, sizeof(label), "%-*s", width < 0 ? 0 : width, name);
	if (r->explain != NULL) {
		r->explain(r, p, base, label, out);
		return;
	}
	if (is_str_list(r->type)) {
		char **v = *(char **const *)schema_field(r, base);
		size_t n = *(const size_t *)((const char *)base + r->noff);

		fprintf(out, "  %s", label);
		if (n == 0)
			fprintf(out, " %s\n", r->zero);
		for (size_t i = 0; i < n; i++)
			fprintf(out, "%*s %s\n", i == 0 ? 0 : 2 + width, "",
			        v[i]);
		return;
	}
	schema_types[r->type].human(r, base, val, sizeof(val));
	if (width < 0)
		fprintf(out, "  %s\n", val);
	else
		fprintf(out, "  %s %s\n", label, val);
}

/* Every row of section s, in order. */
static void
explain_section(const struct schema_section *s, const struct profile *p,
                const void *base, int width, bool colon, FILE *out)
{
	for (size_t i = 0; i < s->nrows; i++)
		explain_row(&s->rows[i], p, base, width, colon, out);
}

/* explain_message_size - "(from the SIZE keyword)" when it did */
void
explain_message_size(const struct schema_row *r, const struct profile *p,
                     const void *base, const char *label, FILE *out)
{
	char b[96];

	fprintf(out, "  %s %s%s\n", label,
	        schema_fmt_bytes(b, sizeof(b), p->limits.message_size, r->zero),
	        impl_of(p)->size_from_keyword ? " (from the SIZE keyword)"
	                                      : "");
}

/* explain_credentials - the users, not their passwords */
void
explain_credentials(const struct schema_row *r, const struct profile *p,
                    const void *base, const char *label, FILE *out)
{
	fprintf(out, "  %s ", label);
	for (size_t i = 0; i < p->auth.ncreds; i++)
		fprintf(out, "%s%s", i ? ", " : "", p->auth.creds[i].user);
	if (p->auth.ncreds == 0)
		fprintf(out, "(none)");
	fprintf(out, "\n");
}

/* explain_bad_count - which error replies count towards bad_commands */
void
explain_bad_count(const struct schema_row *r, const struct profile *p,
                  const void *base, const char *label, FILE *out)
{
	uint64_t m = ((const struct limits *)base)->bad_commands_count;
	const char *sep = "";

	fprintf(out, "  %s ", label);
	if (m == UINT64_MAX) {
		fprintf(out, "every error reply\n");
		return;
	}
	for (int i = 0; i < REPLY_COUNT; i++)
		if (m & (UINT64_C(1) << i)) {
			fprintf(out, "%s%s", sep, reply_id_names[i]);
			sep = ", ";
		}
	fprintf(out, "%s\n", *sep ? "" : "none (nothing counts)");
}

/* The EHLO list inside TLS (ehlo.keywords_tls) and what it gives; when
 * it is the derived one, one line saying so. */
static void
summary_ehlo_tls(const struct profile *p, FILE *out)
{
	struct ehlo_list t = profile_ehlo(p, true);

	fprintf(out, "\nEHLO reply inside TLS\n");
	if (!p->ehlo_tls_given) {
		fprintf(out,
		        "  the list above without STARTTLS (RFC 3207 4.2)\n");
		return;
	}
	fprintf(out, "  %s%s\n", t.nkeywords ? "250-" : "250 ",
	        p->ehlo_greeting);
	for (size_t i = 0; i < t.nkeywords; i++)
		fprintf(out, "  %s%s\n", i + 1 == t.nkeywords ? "250 " : "250-",
		        t.keywords[i]);
	fprintf(out, "  extensions the engine implements:");
	for (size_t i = 0; i < EXT_WORD_COUNT; i++)
		if (t.ext & ext_words[i].bit)
			fprintf(out, " %s", ext_words[i].word);
	fprintf(out, "%s\n", t.ext == 0 ? " (none)" : "");
	if (t.nauth_mechs != 0) {
		fprintf(out, "  AUTH mechanisms:");
		for (size_t i = 0; i < t.nauth_mechs; i++)
			fprintf(out, " %s", t.auth_mechs[i]);
		fprintf(out, "\n");
	}
}

/* explain_ntlm - the names and version of the NTLM challenge */
void
explain_ntlm(const struct schema_row *r, const struct profile *p,
             const void *base, const char *label, FILE *out)
{
	const struct ntlm_settings *n = &p->auth.ntlm;
	bool offered = false;

	for (int tls = 0; tls <= 1; tls++) {
		struct ehlo_list l = profile_ehlo(p, tls);
		for (size_t i = 0; i < l.nauth_mechs; i++)
			offered |= strcasecmp(l.auth_mechs[i], "NTLM") == 0;
	}
	if (!offered) {
		fprintf(out,
		        "  %s not offered (no \"AUTH ... NTLM\" keyword)\n",
		        label);
		return;
	}
	fprintf(out,
	        "  %s NetBIOS %s\\%s, DNS %s in %s, Windows %s (offered "
	        "with an AUTH NTLM keyword; the answer gets auth_failed)\n",
	        label, n->netbios_domain, n->netbios_computer, n->dns_computer,
	        n->dns_domain, n->os_version);
}

/* explain_tls_key - key and key_bits on one line */
void
explain_tls_key(const struct schema_row *r, const struct profile *p,
                const void *base, const char *label, FILE *out)
{
	const struct tls_settings *ts = base;

	if (ts->key_type == TLS_KEY_RSA)
		fprintf(out, "  %s rsa, %u bits\n", label, ts->key_bits);
	else
		fprintf(out, "  %s %s\n", label, key_names[ts->key_type]);
}

/* explain_box_masks - one line per ehlo.masks entry */
void
explain_box_masks(const struct schema_row *r, const struct profile *p,
                  const void *base, const char *label, FILE *out)
{
	const struct mbox_config *c = base;

	for (size_t i = 0; i < c->nehlo_masks; i++)
		fprintf(out, "  %-9s %s -> %s\n",
		        "mask:", c->ehlo_masks[i].keyword,
		        c->ehlo_masks[i].replacement);
}

/* explain_box_limits - the limit rows, each with its unit */
void
explain_box_limits(const struct schema_row *r, const struct profile *p,
                   const void *base, const char *label, FILE *out)
{
	static const char *const measure_unit[MBOX_MEASURE_COUNT] = {
	    [MBOX_CMD_LINE] = "bytes, without CRLF",
	    [MBOX_RCPT_COUNT] = "RCPTs in one transaction",
	    [MBOX_SENDER_LEN] = "bytes of the MAIL FROM address",
	    [MBOX_HEADER_LINE] = "bytes, without CRLF",
	    [MBOX_BODY_LINE] = "bytes, without CRLF",
	    [MBOX_MIME_FILENAME] = "bytes of a filename=\"...\"",
	};
	const struct mbox_config *c = base;

	fprintf(out, "\nLimits (%zu)\n", c->nlimits);
	if (c->nlimits == 0)
		fprintf(out, "  (none)\n");
	for (size_t i = 0; i < c->nlimits; i++)
		fprintf(out, "  %-20s > %llu %s: %s\n",
		        measure_names[c->limits[i].what],
		        (unsigned long long)c->limits[i].over,
		        measure_unit[c->limits[i].what],
		        mbox_action_why[c->limits[i].action]);
}

/* explain_box_dup - duplicate_headers: cut, the names, the action */
void
explain_box_dup(const struct schema_row *r, const struct profile *p,
                const void *base, const char *label, FILE *out)
{
	const struct mbox_config *c = base;

	if (!c->cut_on_duplicate) {
		fprintf(out, "  cut: no\n");
		return;
	}
	fprintf(out, "  cut: yes, when the header section carries a duplicate "
	             "header");
	for (size_t i = 0; i < c->ncut_headers; i++)
		fprintf(out, "%s%s", i == 0 ? " or any of: " : ", ",
		        c->cut_headers[i]);
	fprintf(out, "\n  action: %s\n", mbox_action_why[c->cut_action]);
}

/* The middlebox part of --check: each top-level row under its title. */
static void
summary_box(FILE *out, const struct profile *p)
{
	static const struct {
		const char *title; /* NULL: the row prints its own */
		const char *key;
		int width; /* of "name:"; -1 no label */
	} blocks[] = {
	    {"Banner (server -> client)", "banner", -1},
	    {"Commands (client -> server)", "commands", 9},
	    {"EHLO reply (server -> client)", "ehlo", 9},
	    {"STARTTLS", "allow_tls", 0},
	    {NULL, "limits", 0},
	    {"End of data", "split_end_of_data", 0},
	    {"Duplicate headers", "duplicate_headers", 0},
	    {"After a drop-connection", "timeout_conn", 0},
	};

	for (size_t i = 0; i < nitems(blocks); i++) {
		const struct schema_row *r =
		    schema_row_find(&schema_top, blocks[i].key, KIND_MBOX);

		if (blocks[i].title != NULL)
			fprintf(out, "\n%s\n", blocks[i].title);
		if (r->type == T_SECTION && r->explain == NULL)
			explain_section(r->sub, p, p->mbox, blocks[i].width,
			                true, out);
		else
			explain_row(r, p, p->mbox, blocks[i].width, true, out);
	}
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
	if (p->scenario && pi->nchain > 1)
		fprintf(out,
		        "  scenario:      yes: a field bug laid on top of %s "
		        "(the file's header says what it catches)\n",
		        pi->chain_names[1]);
}

/* profile_summary - human-readable explanation for --check */
void
profile_summary(const struct profile *p, bool with_via, FILE *out)
{
	size_t nvia = with_via ? p->nvia : 0;

	char b[96];
	int width = 0;

	if (p->mbox != NULL) {
		summary_head(p, out, "Middlebox");
		summary_box(out, p);
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
		fprintf(out, "  SIZE: %s\n",
		        schema_fmt_bytes(b, sizeof(b), p->ext_size,
		                         "no fixed maximum"));
	if (p->nauth_mechs != 0) {
		fprintf(out, "  AUTH mechanisms:");
		for (size_t i = 0; i < p->nauth_mechs; i++)
			fprintf(out, " %s", p->auth_mechs[i]);
		fprintf(out, "\n");
	}

	summary_ehlo_tls(p, out);

	fprintf(out, "\nCommands recognised (others get unknown_command)\n ");
	for (int v = 0; v < VERB_COUNT; v++)
		if (p->commands & (1u << v))
			fprintf(out, " %s", verb_names[v]);
	if (p->commands == 0)
		fprintf(out, " (none)");
	fprintf(out, "\n");

	fprintf(out, "\nLimits\n");
	explain_section(&schema_limits, p, &p->limits, 24, false, out);
	fprintf(out, "\nEnd of data\n");
	explain_section(&schema_data, p, &p->data, 13, false, out);
	fprintf(out, "\nAuth\n");
	explain_section(&schema_auth, p, &p->auth, 13, true, out);
	/* only a profile that paces shows it: the others' text is unchanged */
	if (p->pace.bytes || p->pace.greeting_wait_ms || p->pace.sync_early ||
	    p->pace.sync_pipelining || p->pace.error_delay_after ||
	    p->pace.header_command.n) {
		fprintf(out, "\nPace\n");
		explain_section(&schema_pace, p, &p->pace, 19, false, out);
	}
	/* as given; what OpenSSL makes of them is tls_policy's */
	fprintf(out, "\nTLS (as configured)\n");
	if (!p->tls.enabled)
		fprintf(out, "  disabled (STARTTLS gets tls_unavailable)\n");
	else
		explain_section(&schema_tls, p, &p->tls, 18, false, out);

	/* only what a profile greylists with; rules' fail_first counts use
	 * the bounds (max_age, max_entries) either way */
	fprintf(out, "\nGreylist (policy state across sessions)\n");
	if (!p->greylist.enabled)
		fprintf(out, "  off\n");
	else
		explain_section(&schema_greylist, p, &p->greylist, 24, false,
		                out);

	fprintf(out, "\nReplies (each with the file that set it and its "
	             "source)\n");
	for (int i = 0; i < REPLY_COUNT; i++)
		if ((int)strlen(reply_id_names[i]) > width)
			width = (int)strlen(reply_id_names[i]);
	for (int i = 0; i < REPLY_COUNT; i++) {
		summary_reply(out, reply_id_names[i], &p->replies[i], width);
		summary_origin(out, p, i, width);
	}

	fprintf(out, "\nRules (%zu)\n", p->nrules);
	if (p->nrules == 0)
		fprintf(out, "  (none)\n");
	for (size_t i = 0; i < p->nrules; i++)
		summary_rule(out, &p->rules[i]);

	profile_faithfulness(p, out);

	/* each box in front, client side first */
	for (size_t i = 0; i < nvia; i++) {
		fprintf(out, "\nvia %zu of %zu: ", i + 1, nvia);
		summary_head(p->via[i], out, "Middlebox");
		summary_box(out, p->via[i]);
	}
}
