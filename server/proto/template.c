/*
 * template.c - {placeholder} expansion for reply texts and banners.
 *
 * Does: the fixed name table, a load-time check (unknown names, unclosed
 * "{"), and expansion into a libevent evbuffer, with {date} in local time
 * in the profile's date_format (default: an RFC 5322 3.3 date-time),
 * {ctime} as ctime(3), both with English names (no locale), and
 * {unix_time} and {pid} from the clock and the process.
 *
 * Does not: escape values (a value with CR/LF is the caller's problem),
 * choose replies, or allocate beyond what evbuffer does.
 */
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
    [TPL_SESSION_ID] = "session_id",
    [TPL_UNIX_TIME] = "unix_time",
    [TPL_PID] = "pid",
    [TPL_CTIME] = "ctime",
    [TPL_LINE] = "line",
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

static const char *const wday_names[7] = {"Sun", "Mon", "Tue", "Wed",
                                          "Thu", "Fri", "Sat"};
static const char *const wday_long[7] = {"Sunday",    "Monday",   "Tuesday",
                                         "Wednesday", "Thursday", "Friday",
                                         "Saturday"};
static const char *const mon_names[12] = {"Jan", "Feb", "Mar", "Apr",
                                          "May", "Jun", "Jul", "Aug",
                                          "Sep", "Oct", "Nov", "Dec"};
static const char *const mon_long[12] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

/* The conversions template_date passes to strftime (or names itself):
 * none of them follows the locale or writes a line break. */
static const char date_convs[] = "aAbBhCdDeFgGHIjklmMRsSTuUVwWyYzZ%";

/*
 * At fmt[i] == '%': the length of the conversion (flags, width, the
 * letter), or 0 when it is not one template_date allows.
 */
static size_t
date_conv_len(const char *fmt, size_t i)
{
	size_t j = i + 1;

	while (fmt[j] != '\0' && strchr("-_0^#", fmt[j]) != NULL)
		j++;
	while (fmt[j] >= '0' && fmt[j] <= '9' && j - i < 8)
		j++;
	if (fmt[j] == '\0' || strchr(date_convs, fmt[j]) == NULL)
		return 0;
	return j - i + 1;
}

/* template_date_check - validate a date format once, at profile load */
int
template_date_check(const char *fmt, size_t *errpos)
{
	for (size_t i = 0; fmt[i] != '\0'; i++) {
		size_t n;

		if ((unsigned char)fmt[i] < 0x20 || fmt[i] == 0x7f) {
			*errpos = i;
			return -1;
		}
		if (fmt[i] != '%')
			continue;
		if ((n = date_conv_len(fmt, i)) == 0) {
			*errpos = i;
			return -1;
		}
		i += n - 1;
	}
	return 0;
}

/* Append s to buf at *off (cut at len), upper case with the ^ flag. */
static void
date_put(char *buf, size_t len, size_t *off, const char *s, bool upper)
{
	for (; *s != '\0' && *off + 1 < len; s++)
		buf[(*off)++] = upper && *s >= 'a' && *s <= 'z'
		                    ? (char)(*s - 'a' + 'A')
		                    : *s;
}

/* template_date - t in local time, formatted as fmt, English names */
size_t
template_date(const char *fmt, time_t t, char *buf, size_t len)
{
	struct tm tm;
	size_t off = 0;

	if (len == 0)
		return 0;
	if (localtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	for (size_t i = 0; fmt[i] != '\0' && off + 1 < len; i++) {
		char one[16], piece[TEMPLATE_DATE_MAX];
		size_t n;
		char c;
		bool upper;

		if (fmt[i] != '%' || (n = date_conv_len(fmt, i)) == 0) {
			buf[off++] = fmt[i]; /* unchecked: text stays */
			continue;
		}
		c = fmt[i + n - 1];
		upper = memchr(fmt + i, '^', n) != NULL;
		switch (c) {
		case 'a':
			date_put(buf, len, &off, wday_names[tm.tm_wday % 7],
			         upper);
			break;
		case 'A':
			date_put(buf, len, &off, wday_long[tm.tm_wday % 7],
			         upper);
			break;
		case 'b':
		case 'h':
			date_put(buf, len, &off, mon_names[tm.tm_mon % 12],
			         upper);
			break;
		case 'B':
			date_put(buf, len, &off, mon_long[tm.tm_mon % 12],
			         upper);
			break;
		case 'z':
			/* RFC 5322 3.3: "-0000" when the zone is unknown */
			if (strftime(piece, sizeof(piece), "%z", &tm) != 5)
				strcpy(piece, "-0000");
			date_put(buf, len, &off, piece, false);
			break;
		default:
			/* digits and the zone's name: the locale has no say;
			 * a conversion longer than any strftime needs (a
			 * width of many digits) writes nothing */
			if (n >= sizeof(one)) {
				i += n - 1;
				continue;
			}
			memcpy(one, fmt + i, n);
			one[n] = '\0';
			if (strftime(piece, sizeof(piece), one, &tm) == 0)
				piece[0] = '\0';
			date_put(buf, len, &off, piece, false);
			break;
		}
		i += n - 1;
	}
	buf[off] = '\0';
	return off;
}

/* {date}: the profile's format, the UTC one when the offset is 0. */
static void
add_date(struct evbuffer *out, const struct tpl_vars *vars)
{
	const char *fmt = TEMPLATE_DATE_RFC5322;
	time_t now = time(NULL);
	char buf[TEMPLATE_DATE_MAX];
	struct tm tm;

	if (vars != NULL && vars->date_format != NULL)
		fmt = vars->date_format;
	if (vars != NULL && vars->date_format_utc != NULL &&
	    vars->date_format_utc[0] != '\0' &&
	    localtime_r(&now, &tm) != NULL && tm.tm_gmtoff == 0)
		fmt = vars->date_format_utc;
	evbuffer_add(out, buf, template_date(fmt, now, buf, sizeof(buf)));
}

/* A placeholder with no value given: the clock's or the process's. */
static void
add_computed(struct evbuffer *out, int v, const struct tpl_vars *vars)
{
	char buf[TEMPLATE_DATE_MAX];

	switch (v) {
	case TPL_DATE:
		add_date(out, vars);
		break;
	case TPL_UNIX_TIME:
		evbuffer_add_printf(out, "%lld", (long long)time(NULL));
		break;
	case TPL_PID:
		evbuffer_add_printf(out, "%ld", (long)getpid());
		break;
	case TPL_CTIME:
		evbuffer_add(out, buf,
		             template_date(TEMPLATE_DATE_CTIME, time(NULL), buf,
		                           sizeof(buf)));
		break;
	default:
		break;
	}
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
		else
			add_computed(out, v, vars);
		i = lit = close + 1;
	}
	evbuffer_add(out, tpl + lit, i - lit);
}
