/*
 * template.h - {placeholder} expansion for reply texts and banners.
 *
 * A template is plain text with {name} placeholders; "{{" is a literal
 * "{". The names are a fixed table (template_names); profile.c checks a
 * template once at load time, sessions expand it on every reply.
 *
 * Not here: deciding which reply to send (session.c, commands.c).
 */
#ifndef TEMPLATE_H
#define TEMPLATE_H

#include <stddef.h>

struct evbuffer;

/* The values a template can name; NULL fields expand to "". */
enum tpl_var {
	TPL_HOSTNAME, /* profile hostname */
	TPL_DATE,     /* RFC 5322 date, computed by template_expand */
	TPL_CLIENT_IP,
	TPL_CLIENT_PORT,
	TPL_SERVER_IP,
	TPL_SERVER_PORT,
	TPL_HELO,        /* what the client gave EHLO/HELO */
	TPL_SESSION,     /* session number */
	TPL_QUEUE_ID,    /* hex id of the message (spool file name part) */
	TPL_MESSAGE_ID,  /* GUID-like id, e.g. Exchange's <guid@host> */
	TPL_INTERNAL_ID, /* decimal id, e.g. Exchange's InternalId= */
	TPL_SIZE,        /* message or chunk size in bytes */
	TPL_MAX_SIZE,    /* limits.message_size */
	TPL_SENDER,      /* MAIL FROM address */
	TPL_RECIPIENT,   /* last RCPT TO address */
	TPL_VERB,        /* verb of the current command */
	TPL_PARAM,       /* the offending parameter */
	TPL_PROFILE,     /* profile name */

	/* the domain of {recipient}; greylist: seconds still to wait, and
	 * seconds a triplet was delayed */
	TPL_RECIPIENT_DOMAIN,
	TPL_GREYLIST_WAIT,
	TPL_GREYLIST_DELAY,
	TPL_COUNT
};

struct tpl_vars {
	const char *v[TPL_COUNT];
};

/* template_var_name - "hostname", "date", ... */
const char *template_var_name(enum tpl_var var);

/*
 * template_check - validate a template.
 * Returns 0, or -1 with *errpos set to the byte offset of the bad
 * placeholder (unknown name or unclosed brace).
 */
int template_check(const char *tpl, size_t *errpos);

/*
 * template_expand - append tpl with placeholders replaced to out.
 * {date} is the current local time in RFC 5322 form
 * ("Fri, 5 Aug 2016 16:24:41 -0700") unless vars->v[TPL_DATE] is set.
 */
void template_expand(const char *tpl, const struct tpl_vars *vars,
                     struct evbuffer *out);

#endif
