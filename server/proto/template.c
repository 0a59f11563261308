/*
 * template.c - {placeholder} expansion for reply texts and banners.
 *
 * Does: the fixed name table, a load-time check (unknown names, unclosed
 * "{"), and expansion into a libevent evbuffer, with {date} formatted as
 * an RFC 5322 3.3 date-time in local time with English names (no locale).
 *
 * Does not: escape values (a value with CR/LF is the caller's problem),
 * choose replies, or allocate beyond what evbuffer does.
 */
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "template.h"

static const char *const tpl_names[TPL_COUNT] = {
    [TPL_HOSTNAME] = "hostname",
    [TPL_DATE] = "date",
    [TPL_CLIENT_IP] = "client_ip",
    [TPL_CLIENT_PORT] = "client_port",
    [TPL_SERVER_IP] = "server_ip",
    [TPL_SERVER_PORT] = "server_port",
    [TPL_HELO] = "helo",
    [TPL_SESSION] = "session",
    [TPL_QUEUE_ID] = "queue_id",
    [TPL_MESSAGE_ID] = "message_id",
    [TPL_INTERNAL_ID] = "internal_id",
    [TPL_SIZE] = "size",
    [TPL_MAX_SIZE] = "max_size",
    [TPL_SENDER] = "sender",
    [TPL_RECIPIENT] = "recipient",
    [TPL_VERB] = "verb",
    [TPL_PARAM] = "param",
    [TPL_PROFILE] = "profile",
    [TPL_RECIPIENT_DOMAIN] = "recipient_domain",
    [TPL_GREYLIST_WAIT] = "greylist_wait",
    [TPL_GREYLIST_DELAY] = "greylist_delay",
};

/* template_var_name - the placeholder name of a variable, or NULL */
const char *
template_var_name(enum tpl_var var)
{
	if ((unsigned)var >= TPL_COUNT)
		return NULL;
	return tpl_names[var];
}

static int
lookup(const char *s, size_t len)
{
	int i;

	for (i = 0; i < TPL_COUNT; i++)
		if (strlen(tpl_names[i]) == len &&
		    memcmp(tpl_names[i], s, len) == 0)
			return i;
	return -1;
}

/*
 * At tpl[i] == '{' not followed by '{': the variable named up to the next
 * "}" and that brace's offset, or -1 (unknown name or no "}").
 */
static int
placeholder(const char *tpl, size_t i, size_t *close)
{
	const char *end = strchr(tpl + i + 1, '}');

	if (end == NULL)
		return -1;
	*close = (size_t)(end - tpl);
	return lookup(tpl + i + 1, *close - i - 1);
}

/* template_check - validate a template once, at profile load */
int
template_check(const char *tpl, size_t *errpos)
{
	size_t i, close;

	for (i = 0; tpl[i] != '\0'; i++) {
		if (tpl[i] != '{')
			continue;
		if (tpl[i + 1] == '{') {
			i++;
			continue;
		}
		if (placeholder(tpl, i, &close) < 0) {
			*errpos = i;
			return -1;
		}
		i = close;
	}
	return 0;
}

/*
 * RFC 5322 3.3 date-time, e.g. "Fri, 5 Aug 2016 16:24:41 -0700": the
 * form Exchange 2013 prints ("%a, %-d %b %Y %H:%M:%S %z"), with fixed
 * English names since strftime's %a/%b follow the locale.
 */
static void
add_date(struct evbuffer *out)
{
	static const char *const wday[7] = {"Sun", "Mon", "Tue", "Wed",
	                                    "Thu", "Fri", "Sat"};
	static const char *const mon[12] = {"Jan", "Feb", "Mar", "Apr",
	                                    "May", "Jun", "Jul", "Aug",
	                                    "Sep", "Oct", "Nov", "Dec"};
	time_t now = time(NULL);
	struct tm tm;
	char zone[16];

	if (localtime_r(&now, &tm) == NULL) {
		evbuffer_add_printf(out, "Thu, 1 Jan 1970 00:00:00 -0000");
		return;
	}
	/* %z is numeric and locale-free; RFC 5322 3.3: "-0000" when the
	 * local zone is unknown */
	if (strftime(zone, sizeof(zone), "%z", &tm) != 5)
		strcpy(zone, "-0000");
	evbuffer_add_printf(out, "%s, %d %s %d %02d:%02d:%02d %s",
	                    wday[tm.tm_wday % 7], tm.tm_mday,
	                    mon[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour,
	                    tm.tm_min, tm.tm_sec, zone);
}

/* template_expand - append tpl to out with placeholders replaced */
void
template_expand(const char *tpl, const struct tpl_vars *vars,
                struct evbuffer *out)
{
	size_t i = 0, lit = 0, close;

	while (tpl[i] != '\0') {
		int v;

		if (tpl[i] != '{') {
			i++;
			continue;
		}
		evbuffer_add(out, tpl + lit, i - lit);
		if (tpl[i + 1] == '{') {
			evbuffer_add(out, "{", 1);
			i += 2;
			lit = i;
			continue;
		}
		if ((v = placeholder(tpl, i, &close)) < 0) {
			/* unchecked template: keep the "{" as text */
			lit = i++;
			continue;
		}
		if (vars != NULL && vars->v[v] != NULL)
			evbuffer_add(out, vars->v[v], strlen(vars->v[v]));
		else if (v == TPL_DATE)
			add_date(out);
		i = lit = close + 1;
	}
	evbuffer_add(out, tpl + lit, i - lit);
}
