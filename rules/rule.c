/*
 * rule.c - the rule model: parsers for what a user types, and the one
 * text form; see rule.h.
 *
 * Locale-free: names are ASCII once libidn2 is done with them, and
 * numbers are read digit by digit so that neither a sign nor white space
 * nor a locale can slip through strtol().
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <idn2.h>

#include "common/errbuf.h"
#include "common/hex.h"
#include "common/log.h"
#include "common/quote.h"
#include "rules/rule.h"

/* 9999-12-31T23:59:59Z: the last time the text form can write. */
#define RULE_TIME_MAX ((time_t)253402300799LL)
/* A name as typed may be longer than the ASCII it becomes, not much. */
#define RULE_NAME_INPUT_MAX 1024

/* The fields of the text form, in the order rule_format() writes them. */
enum rule_key {
	KEY_ID,
	KEY_APP,
	KEY_UID,
	KEY_DEST,
	KEY_PORT,
	KEY_PROTO,
	KEY_ACTION,
	KEY_VIA,
	KEY_DURATION,
	KEY_PRIORITY,
	KEY_ENABLED,
	KEY_CREATED,
	KEY_UPDATED,
	KEY_HITS,
	KEY_LAST_HIT,
	KEY_NOTE,
	KEY_DIGEST,
	KEY_SCRIPT,
	KEY_CMDLINE,
	KEY_COUNT
};

static const char *const rule_keys[KEY_COUNT] = {
    "id",      "app",     "uid",     "dest",     "port",
    "proto",   "action",  "via",     "duration", "priority",
    "enabled", "created", "updated", "hits",     "last_hit",
    "note",    "digest",  "script",  "cmdline",
};

/*
 * Read an unsigned decimal number that is the whole of s: digits only, at
 * most max.  Returns 0 or -1.
 */
static int
rule_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *p;

	if (*s == '\0')
		return -1;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v > (max - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return 0;
}

/* Two digits exactly, at s. */
static int
rule_digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t
rule_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
rule_days_in_month(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30,
	                             31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/*
 * "YYYY-MM-DDTHH:MM[:SS]" then "Z", "+HH:MM", "-HH:MM" or nothing (local
 * time).  Returns 0 or -1 + err naming key.
 */
static int
rule_parse_time(const char *key, const char *s, time_t *out, char *err,
                size_t errlen)
{
	int y, mo, d, h, mi, sec = 0, oh, om;
	const char *p = s;
	int64_t t;
	struct tm tm;

	if (rule_digits(p, 4, &y) == -1 || p[4] != '-' ||
	    rule_digits(p + 5, 2, &mo) == -1 || p[7] != '-' ||
	    rule_digits(p + 8, 2, &d) == -1 || p[10] != 'T' ||
	    rule_digits(p + 11, 2, &h) == -1 || p[13] != ':' ||
	    rule_digits(p + 14, 2, &mi) == -1)
		goto bad;
	p += 16;
	if (*p == ':') {
		if (rule_digits(p + 1, 2, &sec) == -1)
			goto bad;
		p += 3;
	}
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > rule_days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
		goto bad;
	if (*p == '\0') {
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_hour = h;
		tm.tm_min = mi;
		tm.tm_sec = sec;
		tm.tm_isdst = -1;
		t = mktime(&tm);
		if (t == -1)
			goto bad;
	} else {
		t = rule_days_from_civil(y, mo, d) * 86400 + h * 3600 +
		    mi * 60 + sec;
		if (p[0] == 'Z' && p[1] == '\0')
			;
		else if ((p[0] == '+' || p[0] == '-') &&
		         rule_digits(p + 1, 2, &oh) == 0 && p[3] == ':' &&
		         rule_digits(p + 4, 2, &om) == 0 && p[6] == '\0' &&
		         oh <= 23 && om <= 59)
			t -= (p[0] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
		else
			goto bad;
	}
	if (t < 0 || t > RULE_TIME_MAX)
		return errbuf_set(
		    err, errlen,
		    "%s: \"%.40s\" is outside 1970-01-01 to 9999-12-31 UTC",
		    key, s);
	*out = (time_t)t;
	return 0;
bad:
	return errbuf_set(
	    err, errlen,
	    "%s: \"%.40s\" is not a time; expected YYYY-MM-DDTHH:MM:SSZ (or "
	    "an offset +HH:MM instead of Z, or no zone for local time)",
	    key, s);
}

/* A time field of the text form: a time, or "-" for none (0). */
static int
rule_parse_time_field(const char *key, const char *s, time_t *out, char *err,
                      size_t errlen)
{
	if (strcmp(s, "-") == 0) {
		*out = 0;
		return 0;
	}
	return rule_parse_time(key, s, out, err, errlen);
}

const char *
rule_time_str(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (t <= 0 || t > RULE_TIME_MAX || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "-");
	return buf;
}

void
rule_init(struct rule *r)
{
	memset(r, 0, sizeof(*r));
	r->app[0] = '*';
	r->dest_kind = DEST_ANY;
	r->proto = RPROTO_ANY;
	r->action = ACTION_DENY;
	r->duration = DUR_FOREVER;
	r->enabled = true;
}

static bool
rule_is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

int
rule_parse_name(char *out, const char *s, char *err, size_t errlen)
{
	char buf[NAME_MAX_LEN + 2];
	char *ascii = NULL;
	size_t n;
	int rc;

	n = strlen(s);
	if (n == 0)
		return errbuf_set(err, errlen,
		                  "name: empty; expected a host name");
	if (n > RULE_NAME_INPUT_MAX)
		return errbuf_set(err, errlen,
		                  "name: %zu bytes; a host name has at most %d",
		                  n, NAME_MAX_LEN);
	if (!rule_is_ascii(s)) {
		rc = idn2_to_ascii_8z(s, &ascii, IDN2_NONTRANSITIONAL);
		if (rc != IDN2_OK)
			rc = idn2_to_ascii_8z(s, &ascii, IDN2_TRANSITIONAL);
		if (rc != IDN2_OK)
			return errbuf_set(
			    err, errlen,
			    "name: \"%.64s\" is not a valid international "
			    "name (%s)",
			    s, idn2_strerror(rc));
		s = ascii;
		n = strlen(s);
	}
	if (n >= sizeof(buf)) {
		idn2_free(ascii);
		return errbuf_set(err, errlen,
		                  "name: %zu bytes; a host name has at most %d",
		                  n, NAME_MAX_LEN);
	}
	memcpy(buf, s, n + 1);
	idn2_free(ascii);
	if (name_normalise(buf) == -1)
		return errbuf_set(
		    err, errlen,
		    "name: \"%.64s\" is not a host name; expected labels of "
		    "1-63 letters, digits, '-' or '_', dot-separated, at most "
		    "%d bytes, not ending in a number",
		    buf, NAME_MAX_LEN);
	memcpy(out, buf, strlen(buf) + 1);
	return 0;
}

static bool
rule_list_name_ok(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		char c = s[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return n > 0 && n < RULE_LIST_NAME_MAX;
}

static void
rule_mask(uint8_t *addr, size_t alen, unsigned prefix)
{
	size_t i;

	for (i = 0; i < alen; i++) {
		if (prefix >= 8)
			prefix -= 8;
		else {
			addr[i] &= (uint8_t)(0xff << (8 - prefix));
			prefix = 0;
		}
	}
}

/*
 * An address "IP" or "IP/PREFIX" into family, addr (masked) and prefix,
 * an IPv4-mapped IPv6 address taken as IPv4.  Returns 1 when s is an
 * address, 0 when it is not one at all, -1 + err when it is a bad one.
 */
static int
rule_parse_addr(const char *s, int *family, uint8_t addr[16], unsigned *prefix,
                bool *cidr, char *err, size_t errlen)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
	                                   0, 0, 0, 0, 0xff, 0xff};
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash;
	uint64_t v = 0;
	unsigned max;
	size_t n;

	slash = strchr(s, '/');
	n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (n >= INET6_ADDRSTRLEN)
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		*family = AF_INET6;
		max = 128;
	} else
		return 0;
	*cidr = slash != NULL;
	if (slash != NULL) {
		if (strlen(slash + 1) > 3 ||
		    rule_parse_u64(slash + 1, max, &v) == -1)
			return errbuf_set(
			    err, errlen,
			    "dest: prefix \"%.8s\" of %s is not a number "
			    "from 0 to %u",
			    slash + 1, buf, max);
		*prefix = (unsigned)v;
	} else
		*prefix = max;
	if (*family == AF_INET6 && memcmp(addr, mapped, 12) == 0 &&
	    *prefix >= 96) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		*family = AF_INET;
		*prefix -= 96;
	}
	rule_mask(addr, *family == AF_INET ? 4 : 16, *prefix);
	return 1;
}

int
rule_parse_dest(struct rule *r, const char *s, char *err, size_t errlen)
{
	char name[NAME_MAX_LEN + 1], text[INET6_ADDRSTRLEN + 8];
	uint8_t addr[16];
	unsigned prefix = 0;
	int family = 0, rc;
	bool cidr = false;

	if (strcmp(s, "*") == 0) {
		r->dest_kind = DEST_ANY;
		r->dest[0] = '\0';
		goto noaddr;
	}
	if (strncmp(s, "list:", 5) == 0) {
		if (!rule_list_name_ok(s + 5))
			return errbuf_set(
			    err, errlen,
			    "dest: list name \"%.64s\" is not 1-%d letters, "
			    "digits, '.', '_' or '-'",
			    s + 5, RULE_LIST_NAME_MAX - 1);
		r->dest_kind = DEST_LIST;
		snprintf(r->dest, sizeof(r->dest), "%s", s + 5);
		goto noaddr;
	}
	rc = rule_parse_addr(s, &family, addr, &prefix, &cidr, err, errlen);
	if (rc == -1)
		return -1;
	if (rc == 1) {
		inet_ntop(family, addr, text, sizeof(text));
		if (cidr) {
			r->dest_kind = DEST_CIDR;
			snprintf(r->dest, sizeof(r->dest), "%s/%u", text,
			         prefix);
		} else {
			r->dest_kind = DEST_IP;
			snprintf(r->dest, sizeof(r->dest), "%s", text);
		}
		r->family = family;
		memcpy(r->addr, addr, sizeof(r->addr));
		r->prefix = prefix;
		return 0;
	}
	if (strncmp(s, "*.", 2) == 0) {
		if (rule_parse_name(name, s + 2, err, errlen) == -1)
			return errbuf_set(
			    err, errlen,
			    "dest: \"%.64s\" is not *. and a host name", s);
		r->dest_kind = DEST_WILDCARD;
	} else {
		if (name_is_ip_literal(s))
			return errbuf_set(
			    err, errlen,
			    "dest: \"%.64s\" is an address in a short form; "
			    "write it out (192.0.2.1) or as a CIDR",
			    s);
		if (rule_parse_name(name, s, err, errlen) == -1)
			return errbuf_set(
			    err, errlen,
			    "dest: \"%.64s\" is not *, a host name, *.name, "
			    "an IP, a CIDR or list:NAME",
			    s);
		r->dest_kind = DEST_NAME;
	}
	memcpy(r->dest, name, strlen(name) + 1);
noaddr:
	r->family = 0;
	memset(r->addr, 0, sizeof(r->addr));
	r->prefix = 0;
	return 0;
}

static bool
rule_is_any(const char *s)
{
	return strcmp(s, "any") == 0 || strcmp(s, "*") == 0;
}

int
rule_parse_port(struct rule *r, const char *s, char *err, size_t errlen)
{
	char buf[16];
	const char *dash;
	uint64_t lo, hi;
	size_t n;

	if (rule_is_any(s)) {
		r->port_lo = r->port_hi = 0;
		return 0;
	}
	n = strlen(s);
	if (n >= sizeof(buf))
		goto bad;
	memcpy(buf, s, n + 1);
	dash = strchr(buf, '-');
	if (dash != NULL) {
		buf[dash - buf] = '\0';
		if (rule_parse_u64(buf, 65535, &lo) == -1 ||
		    rule_parse_u64(dash + 1, 65535, &hi) == -1)
			goto bad;
	} else {
		if (rule_parse_u64(buf, 65535, &lo) == -1)
			goto bad;
		hi = lo;
	}
	if (lo == 0 || lo > hi)
		goto bad;
	r->port_lo = (uint16_t)lo;
	r->port_hi = (uint16_t)hi;
	return 0;
bad:
	return errbuf_set(
	    err, errlen,
	    "port: \"%.16s\" is not a port; expected N or N-M (1-65535, "
	    "N <= M) or any",
	    s);
}

int
rule_parse_proto(struct rule *r, const char *s, char *err, size_t errlen)
{
	if (rule_is_any(s))
		r->proto = RPROTO_ANY;
	else if (strcmp(s, "tcp") == 0)
		r->proto = RPROTO_TCP;
	else if (strcmp(s, "udp") == 0)
		r->proto = RPROTO_UDP;
	else if (strcmp(s, "dns") == 0)
		r->proto = RPROTO_DNS;
	else
		return errbuf_set(
		    err, errlen, "proto: \"%.16s\" is not tcp, udp, dns or any",
		    s);
	return 0;
}

int
rule_parse_uid(struct rule *r, const char *s, char *err, size_t errlen)
{
	uint64_t v;

	if (rule_is_any(s)) {
		r->has_uid = false;
		r->uid = 0;
		return 0;
	}
	if (rule_parse_u64(s, (uid_t)-1 - 1, &v) == -1)
		return errbuf_set(
		    err, errlen,
		    "uid: \"%.16s\" is not a number from 0 to %u, or any", s,
		    (unsigned)((uid_t)-1 - 1));
	r->has_uid = true;
	r->uid = (uid_t)v;
	return 0;
}

/*
 * s into out (of size max) when it is shorter than max and holds no
 * control byte; 0, or -1 + err naming key and what.
 */
static int
rule_copy_text(char *out, size_t max, const char *s, const char *key,
               const char *what, char *err, size_t errlen)
{
	size_t n = strlen(s);
	const char *p;

	if (n >= max)
		return errbuf_set(err, errlen,
		                  "%s: %zu bytes; a %s has at most %zu", key, n,
		                  what, max - 1);
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return errbuf_set(err, errlen,
			                  "%s: a control character in the %s",
			                  key, what);
	memcpy(out, s, n + 1);
	return 0;
}

int
rule_parse_app(struct rule *r, const char *s, char *err, size_t errlen)
{
	if (strcmp(s, "*") != 0 && s[0] != '/')
		return errbuf_set(err, errlen,
		                  "app: \"%.64s\" is not * or an absolute path",
		                  s);
	return rule_copy_text(r->app, sizeof(r->app), s, "app", "path", err,
	                      errlen);
}

int
rule_parse_script(struct rule *r, const char *s, char *err, size_t errlen)
{
	if (s[0] != '\0' && s[0] != '/')
		return errbuf_set(err, errlen,
		                  "script: \"%.64s\" is not an absolute path",
		                  s);
	return rule_copy_text(r->script, sizeof(r->script), s, "script", "path",
	                      err, errlen);
}

int
rule_parse_cmdline(struct rule *r, const char *s, char *err, size_t errlen)
{
	return rule_copy_text(r->cmdline, sizeof(r->cmdline), s, "cmdline",
	                      "glob", err, errlen);
}

int
rule_parse_duration(struct rule *r, const char *s, time_t now, char *err,
                    size_t errlen)
{
	char num[16];
	uint64_t v, unit;
	size_t n;
	time_t t;

	if (strcmp(s, "once") == 0)
		r->duration = DUR_ONCE;
	else if (strcmp(s, "restart") == 0)
		r->duration = DUR_RESTART;
	else if (strcmp(s, "forever") == 0)
		r->duration = DUR_FOREVER;
	else if (strncmp(s, "until:", 6) == 0) {
		if (rule_parse_time("duration", s + 6, &t, err, errlen) == -1)
			return -1;
		r->duration = DUR_UNTIL;
		r->expires = t;
		return 0;
	} else {
		n = strlen(s);
		if (n < 2 || n >= sizeof(num))
			goto bad;
		switch (s[n - 1]) {
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		default:
			goto bad;
		}
		memcpy(num, s, n - 1);
		num[n - 1] = '\0';
		if (rule_parse_u64(num, RULE_DURATION_MAX / unit, &v) == -1 ||
		    v == 0)
			return errbuf_set(
			    err, errlen,
			    "duration: \"%.16s\" is not 1 to %d days (or as "
			    "many hours or minutes)",
			    s, RULE_DURATION_MAX / 86400);
		if (now < 0 || now > RULE_TIME_MAX - (time_t)(v * unit))
			return errbuf_set(
			    err, errlen,
			    "duration: \"%.16s\" from now is past 9999", s);
		r->duration = DUR_UNTIL;
		r->expires = now + (time_t)(v * unit);
		return 0;
	}
	r->expires = 0;
	return 0;
bad:
	return errbuf_set(
	    err, errlen,
	    "duration: \"%.40s\" is not once, restart, forever, a number "
	    "of minutes, hours or days (30m, 2h, 7d) or until:TIME",
	    s);
}

const char *
rule_dest_str(const struct rule *r, char *buf, size_t len)
{
	switch (r->dest_kind) {
	case DEST_ANY:
		snprintf(buf, len, "*");
		break;
	case DEST_WILDCARD:
		snprintf(buf, len, "*.%s", r->dest);
		break;
	case DEST_LIST:
		snprintf(buf, len, "list:%s", r->dest);
		break;
	default:
		snprintf(buf, len, "%s", r->dest);
		break;
	}
	return buf;
}

const char *
rule_proto_str(enum rule_proto p)
{
	switch (p) {
	case RPROTO_ANY:
		return "any";
	case RPROTO_TCP:
		return "tcp";
	case RPROTO_UDP:
		return "udp";
	case RPROTO_DNS:
		return "dns";
	}
	return "?";
}

const char *
rule_duration_str(const struct rule *r, char *buf, size_t len)
{
	char t[32];

	switch (r->duration) {
	case DUR_ONCE:
		snprintf(buf, len, "once");
		break;
	case DUR_RESTART:
		snprintf(buf, len, "restart");
		break;
	case DUR_UNTIL:
		/* Always a time: 0 (and before) is the epoch, not "-". */
		if (r->expires <= 0)
			snprintf(t, sizeof(t), "1970-01-01T00:00:00Z");
		else
			rule_time_str(r->expires > RULE_TIME_MAX ? RULE_TIME_MAX
			                                         : r->expires,
			              t, sizeof(t));
		snprintf(buf, len, "until:%s", t);
		break;
	default:
		snprintf(buf, len, "forever");
		break;
	}
	return buf;
}

void
rule_format(const struct rule *r, char *buf, size_t len)
{
	rule_format_users(r, NULL, buf, len);
}

void
rule_format_users(const struct rule *r, const struct rule_users *u, char *buf,
                  size_t len)
{
	char v[NAME_MAX_LEN + 64];
	size_t off = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	snprintf(buf, len, "rule");
	off = strlen(buf);
	snprintf(v, sizeof(v), "%lld", (long long)r->id);
	log_kv(buf, len, &off, "id", v);
	log_kv(buf, len, &off, "app", r->app);
	if (r->script[0] != '\0')
		log_kv(buf, len, &off, "script", r->script);
	if (r->cmdline[0] != '\0')
		log_kv(buf, len, &off, "cmdline", r->cmdline);
	if (r->has_uid && (u == NULL || u->name == NULL ||
	                   u->name(r->uid, v, sizeof(v)) == NULL))
		snprintf(v, sizeof(v), "%u", (unsigned)r->uid);
	else if (!r->has_uid)
		snprintf(v, sizeof(v), "any");
	log_kv(buf, len, &off, "uid", v);
	log_kv(buf, len, &off, "dest", rule_dest_str(r, v, sizeof(v)));
	if (r->port_lo == 0 && r->port_hi == 0)
		snprintf(v, sizeof(v), "any");
	else if (r->port_lo == r->port_hi)
		snprintf(v, sizeof(v), "%u", r->port_lo);
	else
		snprintf(v, sizeof(v), "%u-%u", r->port_lo, r->port_hi);
	log_kv(buf, len, &off, "port", v);
	log_kv(buf, len, &off, "proto", rule_proto_str(r->proto));
	log_kv(buf, len, &off, "action", action_name(r->action));
	if (r->via[0] != '\0')
		log_kv(buf, len, &off, "via", r->via);
	if (r->digest[0] != '\0')
		log_kv(buf, len, &off, "digest", r->digest);
	log_kv(buf, len, &off, "duration", rule_duration_str(r, v, sizeof(v)));
	snprintf(v, sizeof(v), "%d", r->priority);
	log_kv(buf, len, &off, "priority", v);
	log_kv(buf, len, &off, "enabled", r->enabled ? "yes" : "no");
	log_kv(buf, len, &off, "created",
	       rule_time_str(r->created, v, sizeof(v)));
	log_kv(buf, len, &off, "updated",
	       rule_time_str(r->updated, v, sizeof(v)));
	snprintf(v, sizeof(v), "%llu", (unsigned long long)r->hits);
	log_kv(buf, len, &off, "hits", v);
	log_kv(buf, len, &off, "last_hit",
	       rule_time_str(r->last_hit, v, sizeof(v)));
	log_kv(buf, len, &off, "note", r->note);
}

/*
 * Read one value at *pp (before end) into val (of size vlen), as
 * rule_format() writes it (common/quote.h), in a line where tabs are
 * white space too.  Returns 0 (with *pp past the value) or -1 + err
 * naming key.
 */
static int
rule_read_value(const char **pp, const char *end, const char *key, char *val,
                size_t vlen, char *err, size_t errlen)
{
	size_t used, n;

	switch (quote_read(*pp, (size_t)(end - *pp),
	                   QUOTE_TAB_SEP | QUOTE_RAW_CTRL, val, vlen - 1, &used,
	                   &n)) {
	case QUOTE_OK:
		val[n] = '\0';
		*pp += used;
		return 0;
	case QUOTE_TOOLONG:
		return errbuf_set(err, errlen,
		                  "%s: value longer than %zu bytes", key,
		                  vlen - 1);
	case QUOTE_BARE_BYTE:
		return errbuf_set(err, errlen,
		                  "%s: a quote, backslash or control "
		                  "character outside double quotes",
		                  key);
	case QUOTE_UNCLOSED:
		return errbuf_set(err, errlen, "%s: no closing double quote",
		                  key);
	case QUOTE_BAD_HEX:
		return errbuf_set(err, errlen,
		                  "%s: \\x needs two hex digits, not 00", key);
	case QUOTE_BAD_ESCAPE:
		return errbuf_set(err, errlen,
		                  "%s: unknown escape; expected \\\", \\\\ "
		                  "or \\xNN",
		                  key);
	case QUOTE_AFTER_CLOSE:
		return errbuf_set(
		    err, errlen, "%s: expected a space after the closing quote",
		    key);
	case QUOTE_CTRL: /* taken as is here */
		break;
	}
	return errbuf_set(err, errlen, "%s: internal: bad quoting", key);
}

/* uid=NAME of a text with users by name (rule_parse_line_users()). */
static int
rule_set_uid(struct rule *r, const char *v, const struct rule_users *u,
             char *err, size_t errlen)
{
	uid_t uid;

	if (u == NULL || u->uid == NULL || rule_is_any(v) ||
	    (v[0] >= '0' && v[0] <= '9'))
		return rule_parse_uid(r, v, err, errlen);
	if (u->uid(v, &uid) == -1)
		return errbuf_set(err, errlen, "uid: no user \"%.32s\"", v);
	r->has_uid = true;
	r->uid = uid;
	return 0;
}

static int
rule_set_field(struct rule *r, enum rule_key k, const char *v,
               const struct rule_users *users, char *err, size_t errlen)
{
	uint64_t u;
	int a;

	switch (k) {
	case KEY_ID:
		if (rule_parse_u64(v, INT64_MAX, &u) == -1)
			return errbuf_set(
			    err, errlen, "id: \"%.24s\" is not a number from 0",
			    v);
		r->id = (int64_t)u;
		return 0;
	case KEY_APP:
		return rule_parse_app(r, v, err, errlen);
	case KEY_UID:
		return rule_set_uid(r, v, users, err, errlen);
	case KEY_DEST:
		return rule_parse_dest(r, v, err, errlen);
	case KEY_PORT:
		return rule_parse_port(r, v, err, errlen);
	case KEY_PROTO:
		return rule_parse_proto(r, v, err, errlen);
	case KEY_ACTION:
		if ((a = action_parse(v)) == -1)
			return errbuf_set(
			    err, errlen,
			    "action: \"%.16s\" is not allow, deny or reject",
			    v);
		r->action = (enum action)a;
		return 0;
	case KEY_VIA:
		return rule_parse_via(r, v, err, errlen);
	case KEY_DIGEST:
		return rule_parse_digest(r, v, err, errlen);
	case KEY_SCRIPT:
		return rule_parse_script(r, v, err, errlen);
	case KEY_CMDLINE:
		return rule_parse_cmdline(r, v, err, errlen);
	case KEY_DURATION:
		if (strcmp(v, "once") != 0 && strcmp(v, "restart") != 0 &&
		    strcmp(v, "forever") != 0 && strncmp(v, "until:", 6) != 0)
			return errbuf_set(
			    err, errlen,
			    "duration: \"%.40s\" is not once, restart, "
			    "forever or until:TIME",
			    v);
		return rule_parse_duration(r, v, 0, err, errlen);
	case KEY_PRIORITY:
		if (v[0] == '-' &&
		    rule_parse_u64(v + 1, -(int64_t)RULE_PRIORITY_MIN, &u) == 0)
			r->priority = -(int)u;
		else if (rule_parse_u64(v, RULE_PRIORITY_MAX, &u) == 0)
			r->priority = (int)u;
		else
			return errbuf_set(
			    err, errlen,
			    "priority: \"%.16s\" is not a number from %d to %d",
			    v, RULE_PRIORITY_MIN, RULE_PRIORITY_MAX);
		return 0;
	case KEY_ENABLED:
		if (strcmp(v, "yes") == 0)
			r->enabled = true;
		else if (strcmp(v, "no") == 0)
			r->enabled = false;
		else
			return errbuf_set(err, errlen,
			                  "enabled: \"%.16s\" is not yes or no",
			                  v);
		return 0;
	case KEY_CREATED:
		return rule_parse_time_field("created", v, &r->created, err,
		                             errlen);
	case KEY_UPDATED:
		return rule_parse_time_field("updated", v, &r->updated, err,
		                             errlen);
	case KEY_HITS:
		if (rule_parse_u64(v, UINT64_MAX, &u) == -1)
			return errbuf_set(
			    err, errlen,
			    "hits: \"%.24s\" is not a number from 0", v);
		r->hits = u;
		return 0;
	case KEY_LAST_HIT:
		return rule_parse_time_field("last_hit", v, &r->last_hit, err,
		                             errlen);
	case KEY_NOTE:
		if (strlen(v) >= RULE_NOTE_MAX)
			return errbuf_set(err, errlen,
			                  "note: %zu bytes; at most %d",
			                  strlen(v), RULE_NOTE_MAX - 1);
		memcpy(r->note, v, strlen(v) + 1);
		return 0;
	case KEY_COUNT:
		break;
	}
	return errbuf_set(err, errlen, "internal: key %d", (int)k);
}

int
rule_parse_line(struct rule *out, const char *line, char *err, size_t errlen)
{
	return rule_parse_line_users(out, line, NULL, err, errlen);
}

int
rule_parse_line_users(struct rule *out, const char *line,
                      const struct rule_users *u, char *err, size_t errlen)
{
	char key[16], val[RULE_APP_MAX];
	const char *p = line, *end = line + strlen(line), *k;
	unsigned seen = 0;
	size_t kn;
	int i;

	rule_init(out);
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, "rule", 4) != 0 ||
	    (p[4] != ' ' && p[4] != '\t' && p[4] != '\0')) {
		return errbuf_set(err, errlen,
		                  "expected a line starting with \"rule\"");
	}
	p += 4;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		k = p;
		while ((*p >= 'a' && *p <= 'z') || *p == '_')
			p++;
		kn = (size_t)(p - k);
		if (*p != '=' || kn == 0 || kn >= sizeof(key))
			return errbuf_set(err, errlen,
			                  "expected key=value at \"%.24s\"", k);
		memcpy(key, k, kn);
		key[kn] = '\0';
		p++;
		for (i = 0; i < KEY_COUNT; i++)
			if (strcmp(key, rule_keys[i]) == 0)
				break;
		if (i == KEY_COUNT)
			return errbuf_set(err, errlen, "%s: unknown key", key);
		if (seen & (1u << i))
			return errbuf_set(err, errlen, "%s: given twice", key);
		seen |= 1u << i;
		if (rule_read_value(&p, end, key, val, sizeof(val), err,
		                    errlen) == -1 ||
		    rule_set_field(out, (enum rule_key)i, val, u, err,
		                   errlen) == -1)
			return -1;
	}
	return rule_check(out, err, errlen);
}

int
rule_parse_via(struct rule *r, const char *s, char *err, size_t errlen)
{
	if (s[0] != '\0' && strcmp(s, "direct") != 0 &&
	    strcmp(s, "upstream") != 0 && !config_upstream_name_ok(s))
		return errbuf_set(
		    err, errlen,
		    "via: \"%.40s\" is not direct, upstream or an "
		    "upstream NAME (1 to %d of a-z, 0-9, _ and -)",
		    s, CONFIG_UPSTREAM_NAME_MAX);
	snprintf(r->via, sizeof(r->via), "%s", s);
	return 0;
}

int
rule_parse_digest(struct rule *r, const char *s, char *err, size_t errlen)
{
	char d[RULE_DIGEST_HEX + 1];
	size_t i;

	if (s[0] == '\0' || strcmp(s, "none") == 0) {
		r->digest[0] = '\0';
		return 0;
	}
	for (i = 0; i < RULE_DIGEST_HEX && s[i] != '\0'; i++) {
		if (hex_digit((unsigned char)s[i]) == -1)
			break;
		d[i] = "0123456789abcdef"[hex_digit((unsigned char)s[i])];
	}
	if (i != RULE_DIGEST_HEX || s[i] != '\0')
		return errbuf_set(err, errlen,
		                  "digest: \"%.70s\" is not %d hex digits "
		                  "(a SHA-256) or none",
		                  s, RULE_DIGEST_HEX);
	d[i] = '\0';
	memcpy(r->digest, d, sizeof(d));
	return 0;
}

int
rule_check(const struct rule *r, char *err, size_t errlen)
{
	if (r->digest[0] != '\0' && strcmp(r->app, "*") == 0)
		return errbuf_set(err, errlen,
		                  "digest: pins one app's file, not any app's");
	if (r->script[0] != '\0' && strcmp(r->app, "*") == 0)
		return errbuf_set(err, errlen,
		                  "script: goes with one interpreter's app "
		                  "(app=/usr/bin/python3), not any app");
	if (r->cmdline[0] != '\0' && strcmp(r->app, "*") == 0)
		return errbuf_set(err, errlen,
		                  "cmdline: goes with one app (app=PATH), not "
		                  "any app");
	if (r->via[0] != '\0' && r->action != ACTION_ALLOW)
		return errbuf_set(err, errlen,
		                  "via: only goes with action=allow (a %s rule "
		                  "sends nothing anywhere)",
		                  action_name(r->action));
	return 0;
}

bool
rule_equal(const struct rule *a, const struct rule *b)
{
	return a->id == b->id && strcmp(a->app, b->app) == 0 &&
	       a->has_uid == b->has_uid && (!a->has_uid || a->uid == b->uid) &&
	       a->dest_kind == b->dest_kind && strcmp(a->dest, b->dest) == 0 &&
	       a->family == b->family &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0 &&
	       a->prefix == b->prefix && a->port_lo == b->port_lo &&
	       a->port_hi == b->port_hi && a->proto == b->proto &&
	       a->action == b->action && a->duration == b->duration &&
	       (a->duration != DUR_UNTIL || a->expires == b->expires) &&
	       a->priority == b->priority && a->enabled == b->enabled &&
	       a->created == b->created && a->updated == b->updated &&
	       a->hits == b->hits && a->last_hit == b->last_hit &&
	       strcmp(a->note, b->note) == 0 && strcmp(a->via, b->via) == 0 &&
	       strcmp(a->digest, b->digest) == 0 &&
	       strcmp(a->script, b->script) == 0 &&
	       strcmp(a->cmdline, b->cmdline) == 0;
}

bool
rule_expired(const struct rule *r, time_t now)
{
	return r->duration == DUR_UNTIL && now >= r->expires;
}
