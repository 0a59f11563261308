/*
 * smtp_parse.c - pure parsers for SMTP command lines, MAIL/RCPT paths and
 * their ESMTP parameters, EHLO/HELO domains, BDAT arguments and AUTH
 * payloads.
 *
 * Does: syntax of RFC 5321 4.1.1/4.1.2 (with RFC 6531 UTF-8 in paths and
 * parameter values), the values of RFC 1870 SIZE, RFC 6152/3030 BODY,
 * RFC 6531 SMTPUTF8, RFC 3461 RET/ENVID/NOTIFY/ORCPT, RFC 4954 AUTH=, the
 * BDAT arguments of RFC 3030, strict RFC 4648 base64 and RFC 4616 PLAIN.
 *
 * Does not: decide whether a parameter was advertised or is allowed in
 * this session, require SMTPUTF8 for a non-ASCII path (the caller's
 * concern), decode xtext (values are kept encoded), allocate or do I/O.
 */
#include <arpa/inet.h>
#include <string.h>

#include "smtp_parse.h"
#include "utf8.h"

static int
ascii_upper(int c)
{
	return (c >= 'a' && c <= 'z') ? c - 'a' + 'A' : c;
}

static bool
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Case-insensitive compare of s[0..len) with the NUL-terminated lit. */
static bool
ascii_ieq(const char *s, size_t len, const char *lit)
{
	for (size_t i = 0; i < len; i++)
		if (lit[i] == '\0' ||
		    ascii_upper((unsigned char)s[i]) != ascii_upper(lit[i]))
			return false;
	return lit[len] == '\0';
}

/* RFC 5322 3.2.3 atext, as RFC 5321 4.1.2 Atom uses it. */
static bool
is_atext(int c)
{
	return is_alpha(c) || is_digit(c) ||
	       (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* Digits only, at least one, fits in uint64_t (RFC 1870 size-value). */
static bool
parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* RFC 5321 4.1.3 IPv4-address-literal: four Snum (1*3DIGIT, 0-255). */
static bool
ipv4_ok(const char *s, size_t len)
{
	size_t i = 0;
	int part;

	for (part = 0; part < 4; part++) {
		unsigned v = 0, n = 0;

		if (part > 0) {
			if (i >= len || s[i] != '.')
				return false;
			i++;
		}
		while (i < len && is_digit((unsigned char)s[i]) && n < 3) {
			v = v * 10 + (unsigned)(s[i] - '0');
			i++;
			n++;
		}
		if (n == 0 || v > 255)
			return false;
	}
	return i == len;
}

/*
 * RFC 5321 4.1.3 address-literal. Only the IPv4 and "IPv6:" forms: a
 * General-address-literal needs an IANA-registered tag and none is.
 */
static bool
address_literal_ok(const char *s, size_t len)
{
	char buf[64];
	unsigned char addr[16];

	if (len < 2 || s[0] != '[' || s[len - 1] != ']')
		return false;
	s++;
	len -= 2;
	if (len >= 5 && ascii_ieq(s, 5, "IPv6:")) {
		if (len - 5 >= sizeof(buf))
			return false;
		memcpy(buf, s + 5, len - 5);
		buf[len - 5] = '\0';
		/* RFC 5321 4.1.3 IPv6-addr: the RFC 4291 2.2 text forms */
		return inet_pton(AF_INET6, buf, addr) == 1;
	}
	return ipv4_ok(s, len);
}

/*
 * RFC 5321 4.1.2 Domain (sub-domain *("." sub-domain), Let-dig [Ldh-str])
 * or an address-literal; with utf8, RFC 6531 3.3 U-labels too. Labels of
 * ASCII are limited to 63 octets and the name to 255 (RFC 5321 4.5.3.1.2).
 */
static bool
domain_ok(const char *str, size_t len, bool utf8)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	if (len > 0 && s[0] == '[')
		return address_literal_ok(str, len);
	if (len == 0 || len > 255)
		return false;
	while (i < len) {
		size_t start = i;
		bool ascii = true;

		while (i < len && s[i] != '.') {
			if (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '-') {
				i++;
			} else if (utf8 && s[i] >= 0x80) {
				size_t n = utf8_seq(s + i, len - i);

				if (n == 0)
					return false;
				i += n;
				ascii = false;
			} else {
				return false;
			}
		}
		if (i == start || s[start] == '-' || s[i - 1] == '-' ||
		    (ascii && i - start > 63))
			return false;
		if (i < len) {
			i++; /* the dot; a trailing one leaves an empty label */
			if (i == len)
				return false;
		}
	}
	return true;
}

/*
 * RFC 5321 4.1.2 Local-part = Dot-string / Quoted-string, with RFC 6531
 * 3.3 UTF8-non-ascii allowed in atext and qtextSMTP.
 */
static bool
local_part_ok(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i, n;

	if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
		for (i = 1; i < len - 1;) {
			if (s[i] == '\\') {
				/* quoted-pairSMTP = %d92 %d32-126 */
				if (i + 1 >= len - 1 || s[i + 1] < 32 ||
				    s[i + 1] > 126)
					return false;
				i += 2;
			} else if (s[i] >= 32 && s[i] <= 126 && s[i] != '"') {
				i++;
			} else if (s[i] >= 0x80 &&
			           (n = utf8_seq(s + i, len - 1 - i)) > 0) {
				i += n;
			} else {
				return false;
			}
		}
		return true;
	}
	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (i = 0; i < len;) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return false;
			i++;
		} else if (is_atext(s[i])) {
			i++;
		} else if (s[i] >= 0x80 && (n = utf8_seq(s + i, len - i)) > 0) {
			i += n;
		} else {
			return false;
		}
	}
	return true;
}

/* RFC 5321 4.1.2 Mailbox = Local-part "@" ( Domain / address-literal ) */
static bool
mailbox_ok(const char *s, size_t len)
{
	size_t at;

	if (len > 0 && s[0] == '"') {
		/* the '@' follows the closing quote; '@' may be quoted */
		for (at = 1; at < len && s[at] != '"'; at++)
			if (s[at] == '\\')
				at++;
		at++;
		if (at >= len || s[at] != '@')
			return false;
	} else {
		const char *p = memchr(s, '@', len);

		if (p == NULL)
			return false;
		at = (size_t)(p - s);
	}
	return local_part_ok(s, at) &&
	       domain_ok(s + at + 1, len - at - 1, true);
}

/*
 * Skip an RFC 5321 4.1.2 A-d-l ("@a,@b:") before the mailbox. RFC 5321
 * 4.1.2 and C: receivers must accept source routes and may ignore them.
 * Returns the offset of the mailbox, or -1 on a malformed route.
 */
static long
skip_source_route(const char *s, size_t len)
{
	size_t i = 0;

	if (len == 0 || s[0] != '@')
		return 0;
	for (;;) {
		size_t start;

		if (i >= len || s[i] != '@')
			return -1;
		start = ++i;
		if (i < len && s[i] == '[') {
			while (i < len && s[i] != ']')
				i++;
			if (i < len)
				i++;
		} else {
			while (i < len && s[i] != ',' && s[i] != ':')
				i++;
		}
		if (i >= len || !domain_ok(s + start, i - start, true))
			return -1;
		if (s[i++] == ':')
			return (long)i;
		if (s[i - 1] != ',')
			return -1;
	}
}

/*
 * RFC 5321 4.1.2 esmtp-param = esmtp-keyword ["=" esmtp-value];
 * keyword (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"), value 1*(%d33-60 /
 * %d62-126) plus RFC 6531 3.3 UTF8-non-ascii.
 */
static bool
param_parse(const char *tok, size_t len, struct smtp_param *p)
{
	const char *eq = memchr(tok, '=', len);
	size_t klen = eq ? (size_t)(eq - tok) : len;
	size_t i, n;
	bool ok = klen > 0 && klen < sizeof(p->key);

	for (i = 0; i < klen; i++) {
		int c = (unsigned char)tok[i];

		if (i < sizeof(p->key) - 1)
			p->key[i] = (char)ascii_upper(c);
		if (!is_alpha(c) && !is_digit(c) && (i == 0 || c != '-'))
			ok = false;
	}
	p->key[klen < sizeof(p->key) ? klen : sizeof(p->key) - 1] = '\0';
	if (eq == NULL)
		return ok;
	p->value = eq + 1;
	p->value_len = len - klen - 1;
	if (p->value_len == 0)
		return false;
	for (i = 0; i < p->value_len;) {
		const unsigned char *v = (const unsigned char *)p->value;

		if (v[i] >= 33 && v[i] <= 126 && v[i] != '=')
			i++;
		else if (v[i] >= 0x80 &&
		         (n = utf8_seq(v + i, p->value_len - i)) > 0)
			i += n;
		else
			return false;
	}
	return ok;
}

/* smtp_parse_command - split a command line into verb and arguments */
void
smtp_parse_command(const char *line, size_t len, struct smtp_cmd *cmd)
{
	size_t i = 0, j, n, end;

	memset(cmd, 0, sizeof(*cmd));
	cmd->has_nul = len > 0 && memchr(line, '\0', len) != NULL;
	while (i < len && line[i] != ' ')
		i++;
	cmd->verb_len = i;
	n = i < SMTP_VERB_MAX ? i : SMTP_VERB_MAX;
	for (j = 0; j < n; j++)
		cmd->verb[j] = (char)ascii_upper((unsigned char)line[j]);
	cmd->verb[n] = '\0';
	/* RFC 5321 4.1.1 wants one SP; extra ones are tolerated, as by most
	 * receivers. */
	while (i < len && line[i] == ' ')
		i++;
	end = len;
	while (end > i && (line[end - 1] == ' ' || line[end - 1] == '\t'))
		end--;
	cmd->args = line + i;
	cmd->args_len = end - i;
}

/* smtp_parse_path - parse "FROM:<path> params" or "TO:<path> params" */
enum path_error
smtp_parse_path(const char *args, size_t len, const char *prefix,
                bool allow_null, struct smtp_path *path, size_t *bad)
{
	size_t plen = strlen(prefix), i, start, alen;
	const char *a;
	long off;
	bool rcpt;

	memset(path, 0, sizeof(*path));
	*bad = 0;
	if (len < plen || !ascii_ieq(args, plen, prefix))
		return PATH_BAD_PREFIX;
	i = plen;
	if (plen == 0 || prefix[plen - 1] != ':') {
		if (i >= len || args[i] != ':')
			return PATH_BAD_PREFIX;
		i++;
	}
	/* RCPT TO:<Postmaster> (RFC 5321 4.1.1.3) is the only bare
	 * local part. */
	rcpt = ascii_ieq(prefix, strlen(prefix), "TO:") ||
	       ascii_ieq(prefix, strlen(prefix), "TO");
	while (i < len && args[i] == ' ')
		i++;
	if (i < len && args[i] == '<') {
		bool quoted = false;

		start = ++i;
		for (; i < len; i++) {
			if (quoted) {
				if (args[i] == '\\')
					i++;
				else if (args[i] == '"')
					quoted = false;
			} else if (args[i] == '"') {
				quoted = true;
			} else if (args[i] == '>') {
				break;
			} else if (args[i] == '<') {
				return PATH_BAD_SYNTAX;
			}
		}
		if (i >= len)
			return PATH_BAD_SYNTAX;
		a = args + start;
		alen = i - start;
		i++;
		if (i < len && args[i] != ' ')
			return PATH_BAD_SYNTAX;
	} else {
		start = i;
		while (i < len && args[i] != ' ')
			i++;
		a = args + start;
		alen = i - start;
		if (alen == 0 || memchr(a, '<', alen) || memchr(a, '>', alen))
			return PATH_BAD_SYNTAX;
	}

	if (alen == 0) {
		/* RFC 5321 4.1.1.2 / 4.5.5: "<>" is the null reverse-path */
		if (!allow_null)
			return PATH_NULL_NOT_OK;
	} else {
		if ((off = skip_source_route(a, alen)) < 0)
			return PATH_BAD_SYNTAX;
		a += off;
		alen -= (size_t)off;
		if (alen > SMTP_PATH_MAX)
			return PATH_TOO_LONG;
		if (!(rcpt && off == 0 && ascii_ieq(a, alen, "postmaster")) &&
		    !mailbox_ok(a, alen))
			return PATH_BAD_SYNTAX;
		memcpy(path->addr, a, alen);
	}
	path->addr[alen] = '\0';
	path->addr_len = alen;

	/* RFC 5321 4.1.2 Mail-parameters: esmtp-param *(SP esmtp-param) */
	for (;;) {
		struct smtp_param *p;

		while (i < len && args[i] == ' ')
			i++;
		if (i >= len)
			break;
		if (path->nparams == SMTP_PARAMS_MAX)
			return PATH_TOO_MANY_PARAMS;
		start = i;
		while (i < len && args[i] != ' ')
			i++;
		p = &path->params[path->nparams++];
		if (!param_parse(args + start, i - start, p)) {
			*bad = path->nparams - 1;
			return PATH_BAD_PARAM;
		}
	}
	return PATH_OK;
}

enum { MP_SIZE, MP_BODY, MP_SMTPUTF8, MP_RET, MP_ENVID, MP_AUTH, MP_COUNT };
static const char *const mail_keys[MP_COUNT] = {
    "SIZE", "BODY", "SMTPUTF8", "RET", "ENVID", "AUTH",
};

static int
key_index(const char *key, const char *const *keys, int n)
{
	for (int i = 0; i < n; i++)
		if (ascii_ieq(key, strlen(key), keys[i]))
			return i;
	return -1;
}

/* smtp_mail_params - check and interpret MAIL FROM parameters */
int
smtp_mail_params(const struct smtp_path *path, struct mail_params *mp,
                 size_t *bad)
{
	unsigned seen = 0;
	size_t i;

	memset(mp, 0, sizeof(*mp));
	*bad = 0;
	for (i = 0; i < path->nparams; i++) {
		const struct smtp_param *p = &path->params[i];
		const char *v = p->value;
		size_t vl = p->value_len;
		int k = key_index(p->key, mail_keys, MP_COUNT);
		bool ok = false;

		if (k < 0 || (seen & (1u << k)))
			goto fail;
		seen |= 1u << k;
		/* every MAIL parameter but SMTPUTF8 needs a value */
		if ((v == NULL || vl == 0) != (k == MP_SMTPUTF8))
			goto fail;
		switch (k) {
		case MP_SIZE: /* RFC 1870 3: size-value ::= 1*20DIGIT */
			ok = parse_u64(v, vl, &mp->size);
			mp->has_size = ok;
			break;
		case MP_BODY: /* RFC 6152 2, RFC 3030 3 */
			ok = true;
			if (ascii_ieq(v, vl, "7BIT"))
				mp->body = BODY_7BIT;
			else if (ascii_ieq(v, vl, "8BITMIME"))
				mp->body = BODY_8BITMIME;
			else if (ascii_ieq(v, vl, "BINARYMIME"))
				mp->body = BODY_BINARYMIME;
			else
				ok = false;
			break;
		case MP_SMTPUTF8: /* RFC 6531 3.4: no value */
			ok = mp->smtputf8 = true;
			break;
		case MP_RET: /* RFC 3461 4.3 */
			ok = true;
			if (ascii_ieq(v, vl, "FULL"))
				mp->ret = RET_FULL;
			else if (ascii_ieq(v, vl, "HDRS"))
				mp->ret = RET_HDRS;
			else
				ok = false;
			break;
		case MP_ENVID: /* RFC 3461 4.4: xtext, at most 100 chars */
			ok = vl < sizeof(mp->envid) && smtp_xtext_valid(v, vl);
			if (ok)
				memcpy(mp->envid, v, vl);
			break;
		case MP_AUTH: /* RFC 4954 5: AUTH=xtext / "<>" */
			ok = vl < sizeof(mp->auth) && (ascii_ieq(v, vl, "<>") ||
			                               smtp_xtext_valid(v, vl));
			if (ok)
				memcpy(mp->auth, v, vl);
			break;
		}
		if (!ok)
			goto fail;
	}
	return 0;
fail:
	*bad = i;
	return -1;
}

/* RFC 3461 4.1: "NEVER" / notify-list-element *("," ...) */
static bool
notify_parse(const char *v, size_t len, unsigned *bits)
{
	size_t i = 0;

	*bits = 0;
	if (ascii_ieq(v, len, "NEVER")) {
		*bits = NOTIFY_NEVER;
		return true;
	}
	for (;;) {
		size_t start = i;

		while (i < len && v[i] != ',')
			i++;
		if (ascii_ieq(v + start, i - start, "SUCCESS"))
			*bits |= NOTIFY_SUCCESS;
		else if (ascii_ieq(v + start, i - start, "FAILURE"))
			*bits |= NOTIFY_FAILURE;
		else if (ascii_ieq(v + start, i - start, "DELAY"))
			*bits |= NOTIFY_DELAY;
		else
			return false; /* empty, unknown, or NEVER in a list */
		if (i == len)
			return true;
		i++;
	}
}

/* RFC 3461 4.2: ORCPT=addr-type ";" xtext, addr-type an atom */
static bool
orcpt_ok(const char *v, size_t len)
{
	const char *semi = memchr(v, ';', len);
	size_t tlen;

	if (semi == NULL || semi == v || (size_t)(semi - v) + 1 == len)
		return false;
	tlen = (size_t)(semi - v);
	for (size_t i = 0; i < tlen; i++)
		if (!is_atext((unsigned char)v[i]))
			return false;
	return smtp_xtext_valid(semi + 1, len - tlen - 1);
}

/* smtp_rcpt_params - check and interpret RCPT TO parameters */
int
smtp_rcpt_params(const struct smtp_path *path, struct rcpt_params *rp,
                 size_t *bad)
{
	bool seen_notify = false, seen_orcpt = false;
	size_t i;

	memset(rp, 0, sizeof(*rp));
	*bad = 0;
	for (i = 0; i < path->nparams; i++) {
		const struct smtp_param *p = &path->params[i];
		const char *v = p->value;
		size_t vl = p->value_len;

		if (v == NULL || vl == 0)
			goto fail;
		if (ascii_ieq(p->key, strlen(p->key), "NOTIFY")) {
			if (seen_notify || !notify_parse(v, vl, &rp->notify))
				goto fail;
			seen_notify = true;
		} else if (ascii_ieq(p->key, strlen(p->key), "ORCPT")) {
			if (seen_orcpt || vl >= sizeof(rp->orcpt) ||
			    !orcpt_ok(v, vl))
				goto fail;
			memcpy(rp->orcpt, v, vl);
			seen_orcpt = true;
		} else {
			goto fail;
		}
	}
	return 0;
fail:
	*bad = i;
	return -1;
}

/* RFC 3461 4 hexchar digits: upper case only */
static bool
is_xhex(char c)
{
	return is_digit((unsigned char)c) || (c >= 'A' && c <= 'F');
}

/* smtp_xtext_valid - RFC 3461 4: xchar (33-126 but "+" "=") / "+" HH */
bool
smtp_xtext_valid(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (c == '+') {
			/* hexchar: upper-case hex digits only */
			if (i + 2 >= len || !is_xhex(s[i + 1]) ||
			    !is_xhex(s[i + 2]))
				return false;
			i += 2;
		} else if (c < 33 || c > 126 || c == '=') {
			return false;
		}
	}
	return true;
}

/* smtp_domain_valid - EHLO/HELO argument: ASCII Domain or address-literal */
bool
smtp_domain_valid(const char *s, size_t len)
{
	/* RFC 5321 4.1.1.1; RFC 6531 3.7.1 keeps EHLO in ASCII (A-labels) */
	return domain_ok(s, len, false);
}

/* smtp_bdat_args - RFC 3030 2: chunk-size [SP end-marker] */
int
smtp_bdat_args(const char *args, size_t len, uint64_t *size, bool *last)
{
	size_t i = 0;

	*size = 0;
	*last = false;
	while (i < len && is_digit((unsigned char)args[i]))
		i++;
	if (!parse_u64(args, i, size))
		return -1;
	if (i == len)
		return 0;
	if (args[i] != ' ')
		return -1;
	while (i < len && args[i] == ' ')
		i++;
	if (!ascii_ieq(args + i, len - i, "LAST"))
		return -1;
	*last = true;
	return 0;
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* smtp_base64_decode - strict RFC 4648 4 base64 */
long
smtp_base64_decode(const char *in, size_t len, unsigned char *out,
                   size_t outlen)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i, o = 0;

	/* RFC 4954 4: "=" is an empty initial response */
	if (len == 1 && s[0] == '=')
		return 0;
	if (len % 4 != 0)
		return -1;
	for (i = 0; i < len; i += 4) {
		bool final = i + 4 == len;
		int a = b64_value(s[i]), b = b64_value(s[i + 1]);
		int c = b64_value(s[i + 2]), d = b64_value(s[i + 3]);
		unsigned long v;
		size_t n;

		if (a < 0 || b < 0)
			return -1;
		if (c < 0 && d < 0 && final && s[i + 2] == '=' &&
		    s[i + 3] == '=')
			n = 1;
		else if (c >= 0 && d < 0 && final && s[i + 3] == '=')
			n = 2;
		else if (c >= 0 && d >= 0)
			n = 3;
		else
			return -1;
		v = (unsigned long)a << 18 | (unsigned long)b << 12 |
		    (unsigned long)(c < 0 ? 0 : c) << 6 |
		    (unsigned long)(d < 0 ? 0 : d);
		/* RFC 4648 3.5: pad bits must be zero (canonical encoding) */
		if ((n == 1 && (v & 0xffff)) || (n == 2 && (v & 0xff)))
			return -1;
		if (o + n > outlen)
			return -1;
		out[o++] = (unsigned char)(v >> 16);
		if (n > 1)
			out[o++] = (unsigned char)(v >> 8);
		if (n > 2)
			out[o++] = (unsigned char)v;
	}
	return (long)o;
}

/* smtp_auth_plain - RFC 4616 2: [authzid] NUL authcid NUL passwd */
int
smtp_auth_plain(const unsigned char *msg, size_t len, const char **user,
                size_t *user_len, const char **pass, size_t *pass_len)
{
	const unsigned char *n1, *n2, *end = msg + len;

	if (len == 0 || (n1 = memchr(msg, '\0', len)) == NULL)
		return -1;
	if ((n2 = memchr(n1 + 1, '\0', (size_t)(end - n1 - 1))) == NULL)
		return -1;
	if (memchr(n2 + 1, '\0', (size_t)(end - n2 - 1)) != NULL)
		return -1;
	*user = (const char *)n1 + 1;
	*user_len = (size_t)(n2 - n1 - 1);
	*pass = (const char *)n2 + 1;
	*pass_len = (size_t)(end - n2 - 1);
	return 0;
}
