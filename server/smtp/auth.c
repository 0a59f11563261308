/*
 * auth.c - the AUTH command (RFC 4954) and its continuation lines: PLAIN
 * (RFC 4616) and LOGIN against the profile's credentials, and the first
 * round trip of NTLM (MS-SMTPNTLM, MS-NLMP) whose answer is refused.
 *
 * A mechanism runs only when the EHLO list of the session's state offers
 * it (profile_ehlo: "AUTH LOGIN" only in ehlo.keywords_tls means LOGIN
 * only inside TLS); otherwise auth_mechanism.
 *
 * NTLM as Microsoft specifies it for SMTP (MS-SMTPNTLM 2.2.1, 4.2):
 * "AUTH NTLM" alone gets auth.ntlm.supported ("334 ntlm supported"); a
 * NEGOTIATE_MESSAGE (type 1), as the initial response or as the next
 * line, gets "334 " and the base64 CHALLENGE_MESSAGE (type 2) with the
 * profile's auth.ntlm names, a challenge from the session's seeded
 * generator and the wall-clock time. The engine keeps no NT hashes, so the
 * AUTHENTICATE_MESSAGE (type 3) that follows gets auth_failed (model
 * choice), as a wrong password does on the real server.
 *
 * Does not: GSSAPI, CRAM-MD5, verify an NTLM response, read input or
 * write to the socket (input.c, reply.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "auth.h"
#include "ntlm.h"
#include "reply.h"
#include "session.h"

/* Largest decoded AUTH response: RFC 4954 4 caps the line at 12288. */
#define AUTH_DECODED_MAX (12288 / 4 * 3)

/* Room for a CHALLENGE_MESSAGE: 56 bytes, the TargetName and five AV
 * pairs; a name that does not fit is a local error (451). */
#define NTLM_CHALLENGE_MAX 2048

/*
 * The CHALLENGE's NegotiateFlags (MS-NLMP 2.2.2.5): those of the
 * MS-SMTPNTLM 4.2 example (0xe28a8235) with TARGET_TYPE_DOMAIN for
 * TARGET_TYPE_SERVER, a server in a domain. model choice: the same flags
 * whatever the NEGOTIATE asked for.
 */
#define NTLM_SERVER_FLAGS                                                      \
	(NTLM_NEGOTIATE_UNICODE | NTLM_REQUEST_TARGET | NTLM_NEGOTIATE_SIGN |  \
	 NTLM_NEGOTIATE_SEAL | NTLM_NEGOTIATE_NTLM |                           \
	 NTLM_NEGOTIATE_ALWAYS_SIGN | NTLM_TARGET_TYPE_DOMAIN |                \
	 NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY |                             \
	 NTLM_NEGOTIATE_TARGET_INFO | NTLM_NEGOTIATE_VERSION |                 \
	 NTLM_NEGOTIATE_128 | NTLM_NEGOTIATE_KEY_EXCH | NTLM_NEGOTIATE_56)

/* The exchange is over (either way): back to command mode. */
static void
auth_end(struct session *s)
{
	s->auth_step = AUTH_NONE;
	session_enter(s, STATE_HELO);
}

/* A response that is not base64 (or not the message expected): 501,
 * counted as a bad command. */
static void
auth_syntax(struct session *s)
{
	auth_end(s);
	reply_send(s, REPLY_SYNTAX_ERROR);
	session_bad_command(s, REPLY_SYNTAX_ERROR);
}

static bool
mech_is(const char *m, size_t len, const char *name)
{
	return strlen(name) == len && strncasecmp(m, name, len) == 0;
}

/* Does the EHLO list of the session's state offer this mechanism? */
static bool
mech_offered(const struct session *s, const char *mech, size_t len)
{
	struct ehlo_list l = profile_ehlo(s->profile, s->tls);

	for (size_t i = 0; i < l.nauth_mechs; i++)
		if (mech_is(mech, len, l.auth_mechs[i]))
			return true;
	return false;
}

static bool
credentials_ok(const struct session *s, const char *user, size_t ulen,
               const char *pass, size_t plen)
{
	const struct auth_policy *a = &s->profile->auth;

	if (a->accept_any)
		return true;
	for (size_t i = 0; i < a->ncreds; i++) {
		if (strlen(a->creds[i].user) == ulen &&
		    memcmp(a->creds[i].user, user, ulen) == 0 &&
		    strlen(a->creds[i].password) == plen &&
		    memcmp(a->creds[i].password, pass, plen) == 0)
			return true;
	}
	return false;
}

static void
auth_event(struct session *s, const char *mech, const char *user, size_t ulen,
           bool ok)
{
	session_eventf(s, TR_INFO, NULL,
	               "authentication %s for user \"%.*s\" (%s)",
	               ok ? "succeeded" : "failed",
	               (int)(ulen > 128 ? 128 : ulen), user, mech);
}

static void
auth_done(struct session *s, const char *mech, const char *user, size_t ulen,
          const char *pass, size_t plen)
{
	auth_end(s);
	if (!credentials_ok(s, user, ulen, pass, plen)) {
		auth_event(s, mech, user, ulen, false);
		reply_send(s, REPLY_AUTH_FAILED);
		return;
	}
	if (ulen >= sizeof(s->auth->user))
		ulen = sizeof(s->auth->user) - 1;
	memcpy(s->auth->user, user, ulen);
	s->auth->user[ulen] = '\0';
	s->authenticated = true;
	auth_event(s, mech, user, ulen, true);
	reply_send(s, REPLY_AUTH_OK);
}

/* Decode a response; on error end the exchange with 501, return -1. */
static long
auth_decode(struct session *s, const char *b64, size_t len, unsigned char *out,
            size_t outlen)
{
	long n = smtp_base64_decode(b64, len, out, outlen);

	if (n < 0)
		auth_syntax(s);
	return n;
}

/* --- PLAIN (RFC 4616) and LOGIN --- */

static void
auth_plain(struct session *s, const char *b64, size_t len)
{
	unsigned char buf[AUTH_DECODED_MAX];
	const char *user, *pass;
	size_t ulen, plen;
	long n;

	if ((n = auth_decode(s, b64, len, buf, sizeof(buf))) < 0)
		return;
	if (smtp_auth_plain(buf, (size_t)n, &user, &ulen, &pass, &plen) == -1) {
		auth_syntax(s);
		return;
	}
	auth_done(s, "PLAIN", user, ulen, pass, plen);
}

/* LOGIN: the username (decoded), then "Password:" */
static void
auth_login_user(struct session *s, const char *b64, size_t len)
{
	long n = auth_decode(s, b64, len, (unsigned char *)s->auth->user,
	                     sizeof(s->auth->user) - 1);

	if (n < 0)
		return;
	s->auth->user[n] = '\0';
	s->auth->user_len = (size_t)n;
	s->auth_step = AUTH_LOGIN_PASS;
	session_enter(s, STATE_AUTH);
	reply_raw(s, "334 UGFzc3dvcmQ6"); /* "Password:" */
}

/* --- NTLM (MS-SMTPNTLM, MS-NLMP) --- */

/* "334 " and the base64 CHALLENGE_MESSAGE for this session. */
static void
ntlm_send_challenge(struct session *s)
{
	const struct ntlm_settings *set = &s->profile->auth.ntlm;
	const struct ntlm_names names = {
	    .netbios_domain = set->netbios_domain,
	    .netbios_computer = set->netbios_computer,
	    .dns_domain = set->dns_domain,
	    .dns_computer = set->dns_computer,
	};
	struct ntlm_version ver = {0};
	unsigned char msg[NTLM_CHALLENGE_MAX], challenge[8];
	char line[4 + (NTLM_CHALLENGE_MAX + 2) / 3 * 4 + 1];
	struct timespec now;
	uint64_t r;
	long n;

	/* From the --seed'ed generator, so a replayed run sends the same
	 * challenge (the timestamp is the clock's, as {date} is). */
	r = rng_next(&s->rng);
	for (int i = 0; i < 8; i++)
		challenge[i] = (unsigned char)(r >> (8 * i));
	clock_gettime(CLOCK_REALTIME, &now);
	(void)ntlm_parse_version(set->os_version, &ver); /* checked at load */
	n = ntlm_challenge(&names, &ver, NTLM_SERVER_FLAGS, challenge,
	                   ntlm_filetime(now.tv_sec, now.tv_nsec), msg,
	                   sizeof(msg));
	if (n < 0) {
		auth_end(s);
		reply_send(s, REPLY_LOCAL_ERROR);
		return;
	}
	memcpy(line, "334 ", 4);
	EVP_EncodeBlock((unsigned char *)line + 4, msg, (int)n);
	s->auth_step = AUTH_NTLM_AUTHENTICATE;
	session_enter(s, STATE_AUTH);
	reply_raw(s, line);
}

/* A decoded NTLM message while the exchange waits for step. */
static void
ntlm_message(struct session *s, const char *b64, size_t len)
{
	unsigned char buf[AUTH_DECODED_MAX];
	char user[128];
	long n;
	int type;

	if ((n = auth_decode(s, b64, len, buf, sizeof(buf))) < 0)
		return;
	type = ntlm_type_of(buf, (size_t)n);
	if (type == NTLM_NEGOTIATE && s->auth_step != AUTH_NTLM_AUTHENTICATE) {
		ntlm_send_challenge(s);
		return;
	}
	if (type == NTLM_AUTHENTICATE) {
		/* model choice: no NT hashes here, every answer fails */
		ntlm_user(buf, (size_t)n, user, sizeof(user));
		auth_end(s);
		auth_event(s, "NTLM", user, strlen(user), false);
		reply_send(s, REPLY_AUTH_FAILED);
		return;
	}
	auth_syntax(s);
}

/* --- The command and its continuation lines --- */

/* auth_check - may AUTH run now (beyond its flags)? */
bool
auth_check(struct session *s)
{
	if (s->profile->auth.require_tls && !s->tls) {
		reply_send(s, REPLY_AUTH_NEEDS_TLS);
		return false;
	}
	return true;
}

/* auth_proceed - "AUTH mechanism [initial-response]" */
void
auth_proceed(struct session *s)
{
	const char *a = s->cmd.args, *sp, *resp = NULL;
	size_t mlen, rlen = 0;

	sp = memchr(a, ' ', s->cmd.args_len);
	mlen = sp ? (size_t)(sp - a) : s->cmd.args_len;
	if (sp) {
		resp = sp + 1;
		rlen = s->cmd.args_len - mlen - 1;
	}
	if (!mech_offered(s, a, mlen) ||
	    !(mech_is(a, mlen, "PLAIN") || mech_is(a, mlen, "LOGIN") ||
	      mech_is(a, mlen, "NTLM"))) {
		/* Not offered now, or offered but not one we can run
		 * (GSSAPI...): the profile's reply for that. */
		reply_send(s, REPLY_AUTH_MECHANISM);
		return;
	}
	/* Made by the first exchange, kept for the session; every path to
	 * auth_done() and STATE_AUTH passes here. */
	if (s->auth == NULL &&
	    (s->auth = calloc(1, sizeof(*s->auth))) == NULL) {
		reply_send(s, REPLY_LOCAL_ERROR);
		return;
	}
	if (mech_is(a, mlen, "NTLM")) {
		s->auth_step = AUTH_NTLM_NEGOTIATE;
		session_enter(s, STATE_AUTH);
		if (resp != NULL)
			ntlm_message(s, resp, rlen);
		else /* MS-SMTPNTLM 2.2.1.2 */
			reply_lines(s, &s->profile->auth.ntlm.supported, NULL);
		return;
	}
	if (mech_is(a, mlen, "PLAIN")) {
		if (resp != NULL) {
			auth_plain(s, resp, rlen);
			return;
		}
		s->auth_step = AUTH_PLAIN_RESPONSE;
		session_enter(s, STATE_AUTH);
		reply_raw(s, "334 ");
		return;
	}
	if (resp != NULL) {
		auth_login_user(s, resp, rlen);
		return;
	}
	s->auth_step = AUTH_LOGIN_USER;
	session_enter(s, STATE_AUTH);
	reply_raw(s, "334 VXNlcm5hbWU6"); /* "Username:" */
}

/* auth_line - a continuation line while in STATE_AUTH */
void
auth_line(struct session *s)
{
	unsigned char buf[AUTH_DECODED_MAX];
	char user[sizeof(s->auth->user)];
	long n;

	/* RFC 4954 4: "*" cancels the exchange. */
	if (s->line_len == 1 && s->line[0] == '*') {
		auth_end(s);
		reply_send(s, REPLY_AUTH_CANCELLED);
		return;
	}
	switch (s->auth_step) {
	case AUTH_PLAIN_RESPONSE:
		auth_plain(s, s->line, s->line_len);
		break;
	case AUTH_LOGIN_USER:
		auth_login_user(s, s->line, s->line_len);
		break;
	case AUTH_LOGIN_PASS:
		if ((n = auth_decode(s, s->line, s->line_len, buf,
		                     sizeof(buf))) < 0)
			return;
		memcpy(user, s->auth->user, s->auth->user_len);
		auth_done(s, "LOGIN", user, s->auth->user_len,
		          (const char *)buf, (size_t)n);
		break;
	case AUTH_NTLM_NEGOTIATE:
	case AUTH_NTLM_AUTHENTICATE:
		ntlm_message(s, s->line, s->line_len);
		break;
	default:
		session_enter(s, STATE_HELO);
		break;
	}
}
