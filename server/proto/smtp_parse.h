/*
 * smtp_parse.h - pure parsers for SMTP command lines (RFC 5321 4.1),
 * their ESMTP parameters (RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 3030
 * BINARYMIME/BDAT, RFC 6531 SMTPUTF8, RFC 3461 DSN) and AUTH payloads
 * (RFC 4954).
 *
 * No I/O, no allocation, no profile: every function takes bytes and fills
 * a caller-owned struct. Whether a parameter is *allowed* (advertised) is
 * the caller's decision; these functions only say what the line says.
 */
#ifndef SMTP_PARSE_H
#define SMTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMTP_VERB_MAX   16  /* longer words are never a known verb */
#define SMTP_PATH_MAX   512 /* reverse/forward path, without brackets */
#define SMTP_PARAMS_MAX 16  /* ESMTP parameters on one MAIL/RCPT */

/* A command line split into verb and arguments. */
struct smtp_cmd {
	char verb[SMTP_VERB_MAX + 1]; /* upper-cased, NUL-terminated */
	size_t verb_len;  /* real length, may exceed SMTP_VERB_MAX */
	const char *args; /* points into the line; after the space */
	size_t args_len;  /* trailing spaces trimmed */
	bool has_nul;     /* the line contains a NUL byte */
};

/*
 * smtp_parse_command - split a line (without its CRLF) at the first space.
 * Never fails: an empty line gives verb_len 0.
 */
void smtp_parse_command(const char *line, size_t len, struct smtp_cmd *cmd);

/* One "KEY[=VALUE]" ESMTP parameter; key upper-cased. */
struct smtp_param {
	char key[32];
	const char *value; /* NULL when there is no '=' */
	size_t value_len;
};

/* A parsed MAIL FROM:<...> or RCPT TO:<...> argument. */
struct smtp_path {
	char addr[SMTP_PATH_MAX + 1]; /* without <>, "" for the null path */
	size_t addr_len;
	struct smtp_param params[SMTP_PARAMS_MAX];
	size_t nparams;
};

enum path_error {
	PATH_OK,
	PATH_BAD_PREFIX, /* no "FROM:" / "TO:" */
	PATH_BAD_SYNTAX, /* unbalanced <>, spaces inside, bad address */
	PATH_TOO_LONG,
	PATH_NULL_NOT_OK, /* "<>" given where not allowed (RCPT) */
	PATH_BAD_PARAM,   /* a parameter is malformed, see *bad */
	PATH_TOO_MANY_PARAMS,
};

/*
 * smtp_parse_path - parse the argument of MAIL ("FROM:") or RCPT ("TO:").
 * prefix is matched case-insensitively; spaces after the colon are
 * tolerated (as most receivers do); brackets are required except around a
 * bare address without spaces. allow_null permits "<>" (MAIL only).
 * RCPT TO:<postmaster> (no domain) is valid. On PATH_BAD_PARAM *bad is
 * the index of the offending parameter in path->params.
 */
enum path_error smtp_parse_path(const char *args, size_t len,
                                const char *prefix, bool allow_null,
                                struct smtp_path *path, size_t *bad);

enum body_type { BODY_NONE, BODY_7BIT, BODY_8BITMIME, BODY_BINARYMIME };
enum dsn_ret { RET_NONE, RET_FULL, RET_HDRS };
enum dsn_notify_bits {
	NOTIFY_NEVER = 1,
	NOTIFY_SUCCESS = 2,
	NOTIFY_FAILURE = 4,
	NOTIFY_DELAY = 8,
};

/* What MAIL parameters mean once checked. */
struct mail_params {
	bool has_size;
	uint64_t size;
	enum body_type body;
	bool smtputf8;
	enum dsn_ret ret;
	char envid[101]; /* xtext, kept encoded; RFC 3461 4.4: <= 100 */
	char auth[SMTP_PATH_MAX + 1]; /* AUTH=<mailbox> (RFC 4954 5) */
};

struct rcpt_params {
	unsigned notify;               /* dsn_notify_bits, 0 when absent */
	char orcpt[SMTP_PATH_MAX + 1]; /* "addr-type;xtext", kept encoded */
};

/*
 * smtp_mail_params / smtp_rcpt_params - interpret parameters.
 * Returns -1 with *bad set to the index of the first parameter that is
 * unknown, duplicated or has a bad value; 0 when all are fine.
 */
int smtp_mail_params(const struct smtp_path *path, struct mail_params *mp,
                     size_t *bad);
int smtp_rcpt_params(const struct smtp_path *path, struct rcpt_params *rp,
                     size_t *bad);

/* smtp_xtext_valid - RFC 3461 4 xtext syntax ("+HH" escapes, no '=') */
bool smtp_xtext_valid(const char *s, size_t len);

/*
 * smtp_domain_valid - argument of EHLO/HELO: a domain (RFC 5321 4.1.2)
 * or an address literal "[1.2.3.4]" / "[IPv6:...]".
 */
bool smtp_domain_valid(const char *s, size_t len);

/*
 * smtp_bdat_args - "BDAT <size> [LAST]" (RFC 3030 2). Returns 0 or -1.
 */
int smtp_bdat_args(const char *args, size_t len, uint64_t *size, bool *last);

/*
 * smtp_base64_decode - strict RFC 4648 base64 (RFC 4954 4) into out.
 * Returns the decoded length or -1 (bad alphabet, bad padding, too long).
 * "=" alone (an empty initial response) decodes to length 0.
 */
long smtp_base64_decode(const char *in, size_t len, unsigned char *out,
                        size_t outlen);

/*
 * smtp_auth_plain - split a decoded PLAIN message "authzid\0user\0pass".
 * Returns 0, or -1 when it does not have exactly two NULs.
 */
int smtp_auth_plain(const unsigned char *msg, size_t len, const char **user,
                    size_t *user_len, const char **pass, size_t *pass_len);

#endif
