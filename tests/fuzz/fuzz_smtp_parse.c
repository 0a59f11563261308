/*
 * fuzz_smtp_parse.c - libFuzzer target for server/proto/smtp_parse.h:
 * one input is one command line (without CRLF). It is split into verb and
 * arguments, and the arguments go through every parser a verb would use:
 * MAIL/RCPT paths and their ESMTP parameters, EHLO domains, BDAT sizes,
 * xtext, and AUTH's base64 initial response with PLAIN splitting.
 *
 * Does not: judge results (the unit tests do); it checks only that every
 * output stays inside its buffers and points into the input.
 */
#include "smtp_parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

static void
inside(const char *p, size_t n, const char *buf, size_t len)
{
	if (p == NULL)
		return;
	CHECK(p >= buf && p + n <= buf + len);
}

static void
paths(const char *args, size_t len)
{
	static const char *const prefixes[] = {"FROM:", "TO:"};

	for (int i = 0; i < 2; i++) {
		struct smtp_path path;
		size_t bad = 0;
		enum path_error e;

		e = smtp_parse_path(args, len, prefixes[i], i == 0, &path,
		                    &bad);
		if (e != PATH_OK && e != PATH_BAD_PARAM)
			continue;
		CHECK(path.addr_len <= SMTP_PATH_MAX);
		CHECK(strlen(path.addr) == path.addr_len);
		CHECK(path.nparams <= SMTP_PARAMS_MAX);
		if (e == PATH_BAD_PARAM) {
			CHECK(bad < path.nparams);
			continue;
		}
		for (size_t k = 0; k < path.nparams; k++)
			inside(path.params[k].value, path.params[k].value_len,
			       args, len);
		if (i == 0) {
			struct mail_params mp;

			if (smtp_mail_params(&path, &mp, &bad) < 0)
				CHECK(bad < path.nparams);
			else
				CHECK(strlen(mp.envid) <= 100);
		} else {
			struct rcpt_params rp;

			if (smtp_rcpt_params(&path, &rp, &bad) < 0)
				CHECK(bad < path.nparams);
		}
	}
}

static void
auth(const char *args, size_t len)
{
	unsigned char out[1024];
	const char *user, *pass;
	size_t ulen, plen;
	long n;

	/* "PLAIN <base64>" or a bare base64 line of a later round trip */
	const char *sp = memchr(args, ' ', len);
	const char *b64 = sp ? sp + 1 : args;
	size_t blen = len - (size_t)(b64 - args);

	n = smtp_base64_decode(b64, blen, out, sizeof(out));
	if (n < 0)
		return;
	CHECK((size_t)n <= sizeof(out));
	if (smtp_auth_plain(out, (size_t)n, &user, &ulen, &pass, &plen) == 0) {
		inside(user, ulen, (const char *)out, (size_t)n);
		inside(pass, plen, (const char *)out, (size_t)n);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct smtp_cmd cmd;
	uint64_t bsize;
	bool last;

	smtp_parse_command(line, size, &cmd);
	CHECK(strlen(cmd.verb) <= SMTP_VERB_MAX);
	inside(cmd.args, cmd.args_len, line, size);
	if (cmd.args == NULL) {
		/* still run the argument parsers over the whole line */
		cmd.args = line;
		cmd.args_len = size;
	}
	paths(cmd.args, cmd.args_len);
	smtp_domain_valid(cmd.args, cmd.args_len);
	smtp_xtext_valid(cmd.args, cmd.args_len);
	smtp_bdat_args(cmd.args, cmd.args_len, &bsize, &last);
	auth(cmd.args, cmd.args_len);
	return 0;
}
