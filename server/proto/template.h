/*
 * template.h - {placeholder} expansion for reply texts and banners.
 *
 * A template is plain text with {name} placeholders; "{{" is a literal
 * "{". The names are a fixed table (template_names); profile.c checks a
 * template once at load time, sessions expand it on every reply. Dates
 * ({date}, {ctime}) follow a strftime-like format with English names
 * whatever the locale (template_date); a profile's date_format is checked
 * at load time too (template_date_check).
 *
 * Not here: deciding which reply to send (session.c, commands.c).
 */
#ifndef TEMPLATE_H
#define TEMPLATE_H

#include <stddef.h>
#include <time.h>

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
	TPL_SESSION_ID,  /* per-session id (session_id_format), e.g. Gmail's */
	TPL_UNIX_TIME,   /* seconds since the epoch, computed if NULL */
	TPL_PID,         /* the server's process id, computed if NULL */
	TPL_CTIME,       /* ctime(3) without "\n", computed if NULL */
	TPL_LINE,        /* the command line as received, without CRLF */
	TPL_COUNT
};

struct tpl_vars {
	const char *v[TPL_COUNT];
	/* {date}'s format (template_date); NULL: RFC 5322 as Exchange */
	const char *date_format;
	/* used instead when the local zone's offset is 0 (Sendmail writes
	 * "GMT" there); NULL or "": date_format */
	const char *date_format_utc;
};

/* The RFC 5322 3.3 date-time, {date}'s default format. */
#define TEMPLATE_DATE_RFC5322 "%a, %-d %b %Y %H:%M:%S %z"
/* ctime(3)'s form, {ctime}'s format. */
#define TEMPLATE_DATE_CTIME "%a %b %e %H:%M:%S %Y"
/* Longest date template_date writes, NUL included. */
#define TEMPLATE_DATE_MAX 128

/* template_var_name - "hostname", "date", ... */
const char *template_var_name(enum tpl_var var);

/*
 * template_check - validate a template.
 * Returns 0, or -1 with *errpos set to the byte offset of the bad
 * placeholder (unknown name or unclosed brace).
 */
int template_check(const char *tpl, size_t *errpos);

/*
 * template_date_check - validate a date format: text and %-conversions
 * of strftime(3) that do not follow the locale or break the line
 * (a A b B h C d D e F g G H I j k l m M R s S T u U V w W y Y z Z %),
 * each with optional GNU flags (- _ 0 ^ #) and width.
 * Returns 0, or -1 with *errpos at the bad "%" (or control character).
 */
int template_date_check(const char *fmt, size_t *errpos);

/*
 * template_date - t as local time in format fmt into buf (NUL-terminated,
 * cut at len); %a %A %b %B %h in English, %Z the zone's abbreviation.
 * Returns the length written.
 */
size_t template_date(const char *fmt, time_t t, char *buf, size_t len);

/*
 * template_expand - append tpl with placeholders replaced to out.
 * {date} is the current local time in vars->date_format (by default RFC
 * 5322, "Fri, 5 Aug 2016 16:24:41 -0700") unless vars->v[TPL_DATE] is
 * set; {unix_time}, {pid} and {ctime} likewise are the clock's and the
 * process's unless set.
 */
void template_expand(const char *tpl, const struct tpl_vars *vars,
                     struct evbuffer *out);

#endif
