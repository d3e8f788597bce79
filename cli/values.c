/*
 * values.c - the values of the tollgate command's options and arguments:
 * numbers, protocol ids, points in time (values.h).
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/values.h"

int
cli_parse_num(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	long long v;

	if ((s[0] < '0' || s[0] > '9') && !(s[0] == '-' && lo < 0))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int
cli_parse_id(const char *s, unsigned long long max, unsigned long long *out)
{
	size_t len = strlen(s);

	if (len == 0 || len > 19 || s[0] == '0' ||
	    strspn(s, "0123456789") != len)
		return -1;
	*out = strtoull(s, NULL, 10);
	return *out <= max ? 0 : -1;
}

int64_t
cli_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* n decimal digits at *p, moved past them.  0 or -1. */
static int
time_digits(const char **p, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return 0;
}

/* "HH:MM[:SS[.fff]]" at *p into tm and *ms.  0 or -1. */
static int
time_parse_clock(const char **p, struct tm *tm, int *ms)
{
	int frac, n;

	if (time_digits(p, 2, &tm->tm_hour) == -1 || **p != ':')
		return -1;
	(*p)++;
	if (time_digits(p, 2, &tm->tm_min) == -1)
		return -1;
	tm->tm_sec = 0;
	*ms = 0;
	if (**p == ':') {
		(*p)++;
		if (time_digits(p, 2, &tm->tm_sec) == -1)
			return -1;
		if (**p == '.' || **p == ',') {
			(*p)++;
			for (n = 0, frac = 0; **p >= '0' && **p <= '9'; n++) {
				if (n < 3)
					frac = frac * 10 + (**p - '0');
				(*p)++;
			}
			if (n == 0)
				return -1;
			for (; n < 3; n++)
				frac *= 10;
			*ms = frac;
		}
	}
	if (tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 60)
		return -1;
	return 0;
}

/* The units of a time back from now, by every name they go by. */
static const struct {
	const char *name;
	int64_t ms;
} time_units[] = {
    {"s", 1000},        {"sec", 1000},       {"secs", 1000},
    {"second", 1000},   {"seconds", 1000},   {"m", 60000},
    {"min", 60000},     {"mins", 60000},     {"minute", 60000},
    {"minutes", 60000}, {"h", 3600000},      {"hr", 3600000},
    {"hrs", 3600000},   {"hour", 3600000},   {"hours", 3600000},
    {"d", 86400000},    {"day", 86400000},   {"days", 86400000},
    {"w", 604800000},   {"week", 604800000}, {"weeks", 604800000},
};

/*
 * "N UNIT" back from now_ms: N decimal digits, optional spaces, a unit of
 * time_units[], and optionally " ago".  1 with *out, 0 when s does not
 * start with a digit (another form), -1 when it does but is not this.
 */
static int
time_parse_ago(const char *s, int64_t now_ms, int64_t *out)
{
	const char *p = s, *unit;
	long long n = 0;
	size_t i, len;

	if (*p < '0' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (INT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (*p - '0');
	}
	while (*p == ' ')
		p++;
	unit = p;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
		p++;
	len = (size_t)(p - unit);
	while (*p == ' ')
		p++;
	if (strcasecmp(p, "ago") != 0 && *p != '\0')
		return -1;
	for (i = 0; i < sizeof(time_units) / sizeof(time_units[0]); i++)
		if (strlen(time_units[i].name) == len &&
		    strncasecmp(unit, time_units[i].name, len) == 0)
			break;
	if (len == 0 || i == sizeof(time_units) / sizeof(time_units[0]) ||
	    n > now_ms / time_units[i].ms)
		return -1;
	*out = now_ms - n * time_units[i].ms;
	return 1;
}

int
cli_parse_time(const char *s, int64_t now_ms, int64_t *out)
{
	time_t now = (time_t)(now_ms / 1000), t;
	const char *p = s;
	struct tm tm;
	int ms = 0, zh, zm, sign;
	bool zone = false, has_date = false;
	int64_t off = 0;

	if (strcmp(s, "now") == 0) {
		*out = now_ms;
		return 0;
	}
	/* 30m, "1 hour", "2 days ago"; not 12:30 nor 2026-12-01. */
	if (strchr(s, ':') == NULL && strchr(s, '-') == NULL) {
		switch (time_parse_ago(s, now_ms, out)) {
		case 1:
			return 0;
		case -1:
			return -1;
		}
	}
	if (localtime_r(&now, &tm) == NULL)
		return -1;
	tm.tm_isdst = -1;
	if (strcmp(s, "today") == 0 || strcmp(s, "yesterday") == 0) {
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		if (s[0] == 'y')
			tm.tm_mday--;
		t = mktime(&tm);
		if (t == (time_t)-1)
			return -1;
		*out = (int64_t)t * 1000;
		return 0;
	}
	if (strlen(s) >= 10 && s[4] == '-') {
		has_date = true;
		if (time_digits(&p, 4, &tm.tm_year) == -1 || *p++ != '-' ||
		    time_digits(&p, 2, &tm.tm_mon) == -1 || *p++ != '-' ||
		    time_digits(&p, 2, &tm.tm_mday) == -1)
			return -1;
		if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
		    tm.tm_mday > 31 || tm.tm_year < 1970)
			return -1;
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		if (*p == 'T' || *p == 't' || *p == ' ') {
			p++;
			if (time_parse_clock(&p, &tm, &ms) == -1)
				return -1;
		}
	} else if (time_parse_clock(&p, &tm, &ms) == -1)
		return -1;
	if (*p == 'Z' || *p == 'z') {
		zone = true;
		p++;
	} else if (has_date && (*p == '+' || *p == '-')) {
		zone = true;
		sign = *p++ == '-' ? -1 : 1;
		if (time_digits(&p, 2, &zh) == -1)
			return -1;
		if (*p == ':')
			p++;
		if (time_digits(&p, 2, &zm) == -1 || zh > 23 || zm > 59)
			return -1;
		off = sign * ((int64_t)zh * 3600 + zm * 60);
	}
	if (*p != '\0')
		return -1;
	t = zone ? timegm(&tm) : mktime(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = ((int64_t)t - off) * 1000 + ms;
	return 0;
}

bool
cli_user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL && strlen(pw->pw_name) < len) {
		snprintf(buf, len, "%s", pw->pw_name);
		return true;
	}
	snprintf(buf, len, "%u", (unsigned)uid);
	return false;
}
