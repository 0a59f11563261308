/*
 * hub_time.c - hub_time_ms: ISO-8601 times (the transcript's "time" and
 * the ?since= of GET /api/v1/sessions) as milliseconds since the epoch.
 *
 * Does: YYYY-MM-DD[THH:MM[:SS[.fff...]]][Z|+HH:MM|+HHMM|-...], 't' or ' '
 * for 'T', 'z' for 'Z'; no offset means UTC. Does not: week dates,
 * ordinal dates, leap seconds beyond :60 taken as :59.
 */
#include <ctype.h>
#include <string.h>
#include <time.h>

#include "hub.h"

/* n digits at *p into *v; false if not there */
static bool
digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant). */
static long long
days_from_civil(int y, int m, int d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

/* hub_time_ms - parse an ISO-8601 time; 0, or -1 */
int
hub_time_ms(const char *s, long long *ms)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, oh, om;
	long long off = 0;

	if (s == NULL || !digits(&p, 4, &y) || *p++ != '-' ||
	    !digits(&p, 2, &mo) || *p++ != '-' || !digits(&p, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31)
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
			return -1;
		if (*p == ':') {
			p++;
			if (!digits(&p, 2, &sec))
				return -1;
			if (*p == '.' || *p == ',') {
				int n = 0;

				p++;
				if (!isdigit((unsigned char)*p))
					return -1;
				for (; isdigit((unsigned char)*p); p++, n++)
					if (n < 3)
						frac = frac * 10 + (*p - '0');
				for (; n < 3; n++)
					frac *= 10;
			}
		}
		if (h > 24 || mi > 59 || sec > 60 || (h == 24 && (mi || sec)))
			return -1;
		if (sec == 60)
			sec = 59;
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1;

			if (!digits(&p, 2, &oh))
				return -1;
			if (*p == ':')
				p++;
			if (!digits(&p, 2, &om) || oh > 23 || om > 59)
				return -1;
			off = sign * (oh * 3600LL + om * 60LL);
		}
	}
	if (*p != '\0')
		return -1;
	*ms = ((days_from_civil(y, mo, d) * 86400LL + h * 3600LL + mi * 60LL +
	        sec - off) *
	       1000LL) +
	      frac;
	return 0;
}
