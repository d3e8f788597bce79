/*
 * test_rule.c - what a user types for a rule (app, dest with IDNs, port,
 * proto, uid, duration) and the rule's one text form, read back exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <cmocka.h>

#include "rules/rule.h"

/* 2026-11-28T12:00:00Z */
#define NOW ((time_t)1795867200)

static struct rule *
rule_new(void)
{
	struct rule *r = malloc(sizeof(*r));

	assert_non_null(r);
	rule_init(r);
	return r;
}

/* The dest as parsed, written back ("*.x", "list:y", ...), or the error. */
static const char *
dest_of(const char *typed)
{
	static char out[512];
	struct rule *r = rule_new();
	char err[256];

	if (rule_parse_dest(r, typed, err, sizeof(err)) == -1)
		snprintf(out, sizeof(out), "error: %s", err);
	else
		rule_dest_str(r, out, sizeof(out));
	free(r);
	return out;
}

static void
test_defaults_are_any_deny_forever(void **state)
{
	struct rule *r = rule_new();

	assert_string_equal(r->app, "*");
	assert_false(r->has_uid);
	assert_int_equal(r->dest_kind, DEST_ANY);
	assert_int_equal(r->port_lo, 0);
	assert_int_equal(r->port_hi, 0);
	assert_int_equal(r->proto, RPROTO_ANY);
	assert_int_equal(r->action, ACTION_DENY);
	assert_int_equal(r->duration, DUR_FOREVER);
	assert_int_equal(r->priority, 0);
	assert_true(r->enabled);
	free(r);
}

static void
test_dest_kinds(void **state)
{
	struct rule *r = rule_new();
	char err[256];

	assert_int_equal(rule_parse_dest(r, "*", err, sizeof(err)), 0);
	assert_int_equal(r->dest_kind, DEST_ANY);
	assert_string_equal(r->dest, "");

	assert_int_equal(rule_parse_dest(r, "Example.COM.", err, sizeof(err)),
	                 0);
	assert_int_equal(r->dest_kind, DEST_NAME);
	assert_string_equal(r->dest, "example.com");

	assert_int_equal(rule_parse_dest(r, "*.Example.com", err, sizeof(err)),
	                 0);
	assert_int_equal(r->dest_kind, DEST_WILDCARD);
	assert_string_equal(r->dest, "example.com");

	assert_int_equal(rule_parse_dest(r, "list:ads-2", err, sizeof(err)), 0);
	assert_int_equal(r->dest_kind, DEST_LIST);
	assert_string_equal(r->dest, "ads-2");

	assert_int_equal(rule_parse_dest(r, "192.0.2.7", err, sizeof(err)), 0);
	assert_int_equal(r->dest_kind, DEST_IP);
	assert_int_equal(r->family, AF_INET);
	assert_int_equal(r->prefix, 32);
	assert_int_equal(r->addr[0], 192);
	assert_int_equal(r->addr[3], 7);

	assert_int_equal(rule_parse_dest(r, "2001:DB8::1", err, sizeof(err)),
	                 0);
	assert_int_equal(r->dest_kind, DEST_IP);
	assert_int_equal(r->family, AF_INET6);
	assert_int_equal(r->prefix, 128);
	assert_string_equal(r->dest, "2001:db8::1");
	free(r);
}

static void
test_cidr_is_masked_and_canonical(void **state)
{
	struct rule *r = rule_new();
	char err[256];

	assert_int_equal(rule_parse_dest(r, "10.1.2.3/8", err, sizeof(err)), 0);
	assert_int_equal(r->dest_kind, DEST_CIDR);
	assert_string_equal(r->dest, "10.0.0.0/8");
	assert_int_equal(r->prefix, 8);
	assert_int_equal(r->addr[1], 0);
	assert_string_equal(dest_of("2001:db8:ffff::1/33"),
	                    "2001:db8:8000::/33");
	assert_string_equal(dest_of("0.0.0.0/0"), "0.0.0.0/0");
	/* An IPv4-mapped address is IPv4, as the matcher sees it. */
	assert_string_equal(dest_of("::ffff:192.0.2.1"), "192.0.2.1");
	assert_string_equal(dest_of("::ffff:192.0.2.0/120"), "192.0.2.0/24");
	assert_int_equal(rule_parse_dest(r, "10.0.0.0/33", err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "dest: prefix"));
	assert_int_equal(rule_parse_dest(r, "2001:db8::/129", err, sizeof(err)),
	                 -1);
	assert_int_equal(rule_parse_dest(r, "10.0.0.0/", err, sizeof(err)), -1);
	assert_int_equal(rule_parse_dest(r, "10.0.0.0/+8", err, sizeof(err)),
	                 -1);
	free(r);
}

static void
test_idn_becomes_punycode(void **state)
{
	char out[NAME_MAX_LEN + 1], err[256];

	assert_string_equal(dest_of("bücher.de"), "xn--bcher-kva.de");
	assert_string_equal(dest_of("*.BÜCHER.de"), "*.xn--bcher-kva.de");
	/* Non-transitional: ß stays ß (not "ss"). */
	assert_string_equal(dest_of("faß.de"), "xn--fa-hia.de");
	assert_string_equal(dest_of("例え.テスト"), "xn--r8jz45g.xn--zckzah");
	assert_int_equal(
	    rule_parse_name(out, "xn--bcher-kva.de.", err, sizeof(err)), 0);
	assert_string_equal(out, "xn--bcher-kva.de");
	/* Not UTF-8 at all. */
	assert_int_equal(rule_parse_name(out,
	                                 "b\xfc"
	                                 "cher.de",
	                                 err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "name:"));
}

static void
test_bad_dests_say_what_was_expected(void **state)
{
	char longname[5 + RULE_LIST_NAME_MAX + 1];

	assert_non_null(strstr(
	    dest_of("a b.com"),
	    "error: dest: \"a b.com\" is not *, a host name, *.name, an IP, "
	    "a CIDR or list:NAME"));
	assert_non_null(strstr(dest_of(""), "error: dest:"));
	assert_non_null(strstr(dest_of("*."), "error: dest:"));
	assert_non_null(strstr(dest_of("*.*.x.com"), "error: dest:"));
	assert_non_null(strstr(dest_of("a..b"), "error: dest:"));
	assert_non_null(strstr(dest_of("127.1"), "short form"));
	assert_non_null(strstr(dest_of("list:"), "list name"));
	assert_non_null(strstr(dest_of("list:a b"), "list name"));
	memset(longname, 'a', sizeof(longname) - 1);
	memcpy(longname, "list:", 5);
	longname[5 + RULE_LIST_NAME_MAX] = '\0'; /* 64 bytes: one too many */
	assert_non_null(strstr(dest_of(longname), "list name"));
	longname[5 + RULE_LIST_NAME_MAX - 1] = '\0';
	assert_string_equal(dest_of(longname), longname);
	assert_non_null(strstr(dest_of("fe80::1%eth0"), "error: dest:"));
}

static void
test_ports(void **state)
{
	struct rule *r = rule_new();
	char err[256];
	const char *bad[] = {"0",
	                     "65536",
	                     "5-3",
	                     "80x",
	                     "-1",
	                     "",
	                     "1-",
	                     "+80",
	                     " 80",
	                     "1-2-3",
	                     "99999999999999999999"};
	size_t i;

	assert_int_equal(rule_parse_port(r, "443", err, sizeof(err)), 0);
	assert_int_equal(r->port_lo, 443);
	assert_int_equal(r->port_hi, 443);
	assert_int_equal(rule_parse_port(r, "1000-2000", err, sizeof(err)), 0);
	assert_int_equal(r->port_lo, 1000);
	assert_int_equal(r->port_hi, 2000);
	assert_int_equal(rule_parse_port(r, "1-65535", err, sizeof(err)), 0);
	assert_int_equal(rule_parse_port(r, "any", err, sizeof(err)), 0);
	assert_int_equal(r->port_lo, 0);
	assert_int_equal(r->port_hi, 0);
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		rule_init(r);
		err[0] = '\0';
		assert_int_equal(rule_parse_port(r, bad[i], err, sizeof(err)),
		                 -1);
		assert_non_null(strstr(err, "port:"));
		assert_non_null(strstr(err, "expected"));
		assert_int_equal(r->port_lo, 0); /* unchanged */
	}
	free(r);
}

static void
test_proto_uid_app(void **state)
{
	struct rule *r = rule_new();
	char err[256], *longpath;

	assert_int_equal(rule_parse_proto(r, "udp", err, sizeof(err)), 0);
	assert_int_equal(r->proto, RPROTO_UDP);
	assert_int_equal(rule_parse_proto(r, "dns", err, sizeof(err)), 0);
	assert_int_equal(r->proto, RPROTO_DNS);
	assert_int_equal(rule_parse_proto(r, "icmp", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "proto:"));
	assert_int_equal(r->proto, RPROTO_DNS);

	assert_int_equal(rule_parse_uid(r, "1000", err, sizeof(err)), 0);
	assert_true(r->has_uid);
	assert_int_equal(r->uid, 1000);
	assert_int_equal(rule_parse_uid(r, "0", err, sizeof(err)), 0);
	assert_int_equal(r->uid, 0);
	assert_int_equal(rule_parse_uid(r, "4294967295", err, sizeof(err)), -1);
	assert_int_equal(rule_parse_uid(r, "alice", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "uid:"));
	assert_int_equal(rule_parse_uid(r, "any", err, sizeof(err)), 0);
	assert_false(r->has_uid);

	assert_int_equal(rule_parse_app(r, "/usr/bin/curl", err, sizeof(err)),
	                 0);
	assert_string_equal(r->app, "/usr/bin/curl");
	assert_int_equal(rule_parse_app(r, "curl", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "app:"));
	assert_int_equal(rule_parse_app(r, "/bin/a\nb", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "control"));
	longpath = malloc(RULE_APP_MAX + 1);
	assert_non_null(longpath);
	memset(longpath, 'a', RULE_APP_MAX);
	longpath[0] = '/';
	longpath[RULE_APP_MAX] = '\0';
	assert_int_equal(rule_parse_app(r, longpath, err, sizeof(err)), -1);
	longpath[RULE_APP_MAX - 1] = '\0';
	assert_int_equal(rule_parse_app(r, longpath, err, sizeof(err)), 0);
	free(longpath);
	free(r);
}

static void
test_relative_durations_count_from_now(void **state)
{
	struct rule *r = rule_new();
	char err[256];

	assert_int_equal(rule_parse_duration(r, "30m", NOW, err, sizeof(err)),
	                 0);
	assert_int_equal(r->duration, DUR_UNTIL);
	assert_int_equal(r->expires, NOW + 30 * 60);
	assert_int_equal(rule_parse_duration(r, "2h", NOW, err, sizeof(err)),
	                 0);
	assert_int_equal(r->expires, NOW + 2 * 3600);
	assert_int_equal(rule_parse_duration(r, "7d", NOW, err, sizeof(err)),
	                 0);
	assert_int_equal(r->expires, NOW + 7 * 86400);
	assert_int_equal(rule_parse_duration(r, "once", NOW, err, sizeof(err)),
	                 0);
	assert_int_equal(r->duration, DUR_ONCE);
	assert_int_equal(r->expires, 0);
	assert_int_equal(
	    rule_parse_duration(r, "restart", NOW, err, sizeof(err)), 0);
	assert_int_equal(r->duration, DUR_RESTART);
	assert_int_equal(
	    rule_parse_duration(r, "forever", NOW, err, sizeof(err)), 0);
	assert_int_equal(r->duration, DUR_FOREVER);

	assert_int_equal(rule_parse_duration(r, "0m", NOW, err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "duration:"));
	assert_int_equal(rule_parse_duration(r, "3651d", NOW, err, sizeof(err)),
	                 -1);
	assert_int_equal(rule_parse_duration(r, "99999999999999999999d", NOW,
	                                     err, sizeof(err)),
	                 -1);
	assert_int_equal(rule_parse_duration(r, "5s", NOW, err, sizeof(err)),
	                 -1);
	assert_int_equal(rule_parse_duration(r, "m", NOW, err, sizeof(err)),
	                 -1);
	assert_int_equal(rule_parse_duration(r, "-5m", NOW, err, sizeof(err)),
	                 -1);
	assert_int_equal(r->duration, DUR_FOREVER); /* unchanged */
	free(r);
}

static void
test_until_utc_offset_and_local(void **state)
{
	struct rule *r = rule_new();
	char err[256], *tz;

	assert_int_equal(rule_parse_duration(r, "until:2026-12-01T10:00:00Z",
	                                     NOW, err, sizeof(err)),
	                 0);
	assert_int_equal(r->duration, DUR_UNTIL);
	assert_int_equal(r->expires, 1796119200);
	/* Seconds may be left out. */
	assert_int_equal(rule_parse_duration(r, "until:2026-12-01T10:00Z", NOW,
	                                     err, sizeof(err)),
	                 0);
	assert_int_equal(r->expires, 1796119200);
	assert_int_equal(rule_parse_duration(r,
	                                     "until:2026-12-01T11:30:00+01:30",
	                                     NOW, err, sizeof(err)),
	                 0);
	assert_int_equal(r->expires, 1796119200);
	assert_int_equal(rule_parse_duration(r,
	                                     "until:2026-12-01T05:00:00-05:00",
	                                     NOW, err, sizeof(err)),
	                 0);
	assert_int_equal(r->expires, 1796119200);
	/* No zone: the local time of whoever parses it. */
	tz = getenv("TZ") != NULL ? strdup(getenv("TZ")) : NULL;
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	assert_int_equal(rule_parse_duration(r, "until:2026-12-01T11:00:00",
	                                     NOW, err, sizeof(err)),
	                 0);
	assert_int_equal(r->expires, 1796119200);
	if (tz != NULL) {
		setenv("TZ", tz, 1);
		free(tz);
	} else
		unsetenv("TZ");
	tzset();
	/* Leap years. */
	assert_int_equal(rule_parse_duration(r, "until:2028-02-29T00:00:00Z",
	                                     NOW, err, sizeof(err)),
	                 0);
	assert_int_equal(r->expires, 1835395200);
	free(r);
}

static void
test_bad_times(void **state)
{
	const char *bad[] = {
	    "until:2026-02-29T00:00:00Z", /* not a leap year */
	    "until:2026-13-01T00:00:00Z",
	    "until:2026-12-32T00:00:00Z",
	    "until:2026-12-01T24:00:00Z",
	    "until:2026-12-01T10:60:00Z",
	    "until:2026-12-01T10:00:60Z",
	    "until:2026-12-01 10:00:00Z",
	    "until:2026-12-01",
	    "until:1969-12-31T23:59:59Z",
	    "until:2026-12-01T10:00:00+1",
	    "until:2026-12-01T10:00:00+24:00",
	    "until:2026-12-01T10:00:00Zx",
	    "until:",
	    "until:1970-01-01T00:00:00+01:00", /* before 1970 in UTC */
	    "until:9999-12-31T23:59:59-01:00", /* after 9999 in UTC */
	};
	struct rule *r = rule_new();
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		err[0] = '\0';
		if (rule_parse_duration(r, bad[i], NOW, err, sizeof(err)) != -1)
			fail_msg("%s was taken", bad[i]);
		assert_non_null(strstr(err, "duration:"));
	}
	assert_int_equal(r->duration, DUR_FOREVER);
	free(r);
}

static void
test_expiry_with_injected_now(void **state)
{
	struct rule *r = rule_new();
	char err[256];

	assert_false(rule_expired(r, NOW)); /* forever */
	assert_int_equal(rule_parse_duration(r, "30m", NOW, err, sizeof(err)),
	                 0);
	assert_false(rule_expired(r, NOW));
	assert_false(rule_expired(r, NOW + 30 * 60 - 1));
	assert_true(rule_expired(r, NOW + 30 * 60));
	assert_true(rule_expired(r, NOW + 86400));
	r->duration = DUR_ONCE;
	assert_false(rule_expired(r, NOW + 86400));
	free(r);
}

static void
test_time_str(void **state)
{
	char buf[32];

	assert_string_equal(rule_time_str(NOW, buf, sizeof(buf)),
	                    "2026-11-28T12:00:00Z");
	assert_string_equal(rule_time_str(0, buf, sizeof(buf)), "-");
	assert_string_equal(rule_time_str(-5, buf, sizeof(buf)), "-");
}

/* format, then parse: the same rule. */
static void
round_trip(const struct rule *r)
{
	struct rule *back = rule_new();
	char *line = malloc(RULE_LINE_MAX), err[256];

	assert_non_null(line);
	rule_format(r, line, RULE_LINE_MAX);
	assert_true(strlen(line) < RULE_LINE_MAX - 1);
	if (rule_parse_line(back, line, err, sizeof(err)) == -1)
		fail_msg("%s: %s", line, err);
	if (!rule_equal(r, back))
		fail_msg("round trip changed %s", line);
	free(line);
	free(back);
}

static void
test_text_form_every_field(void **state)
{
	struct rule *r = rule_new();
	char line[RULE_LINE_MAX], err[256];

	r->id = 12;
	assert_int_equal(rule_parse_app(r, "/usr/bin/curl", err, sizeof(err)),
	                 0);
	assert_int_equal(rule_parse_dest(r, "*.example.com", err, sizeof(err)),
	                 0);
	assert_int_equal(rule_parse_port(r, "443", err, sizeof(err)), 0);
	r->proto = RPROTO_TCP;
	r->action = ACTION_ALLOW;
	r->created = NOW;
	snprintf(r->note, sizeof(r->note), "work proxy");
	rule_format(r, line, sizeof(line));
	assert_string_equal(
	    line,
	    "rule id=12 app=/usr/bin/curl uid=any dest=*.example.com port=443 "
	    "proto=tcp action=allow duration=forever priority=0 enabled=yes "
	    "created=2026-11-28T12:00:00Z updated=- hits=0 last_hit=- "
	    "note=\"work proxy\"");
	round_trip(r);
	free(r);
}

static void
test_text_form_round_trips(void **state)
{
	const char *dests[] = {"*",          "example.com",     "*.b.test",
	                       "list:ads",   "192.0.2.1",       "2001:db8::/32",
	                       "10.0.0.0/8", "xn--bcher-kva.de"};
	struct rule *r = rule_new();
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(dests) / sizeof(*dests); i++) {
		rule_init(r);
		r->id = (int64_t)i + 1;
		assert_int_equal(rule_parse_dest(r, dests[i], err, sizeof(err)),
		                 0);
		round_trip(r);
	}
	/* Every field away from its default. */
	rule_init(r);
	r->id = INT64_MAX;
	snprintf(r->app, sizeof(r->app), "/opt/my app/\"bin\"\\x");
	r->has_uid = true;
	r->uid = 0;
	assert_int_equal(rule_parse_dest(r, "bücher.de", err, sizeof(err)), 0);
	assert_int_equal(rule_parse_port(r, "1000-2000", err, sizeof(err)), 0);
	r->proto = RPROTO_DNS;
	r->action = ACTION_REJECT;
	assert_int_equal(rule_parse_duration(r, "until:2026-12-01T10:00:00Z",
	                                     NOW, err, sizeof(err)),
	                 0);
	r->priority = RULE_PRIORITY_MIN;
	r->enabled = false;
	r->created = NOW - 100;
	r->updated = NOW;
	r->hits = UINT64_MAX;
	r->last_hit = NOW - 1;
	snprintf(r->note, sizeof(r->note),
	         "a \"quoted\" \\ note\twith tab, \x01, \x7f and ümlaut");
	round_trip(r);
	r->priority = RULE_PRIORITY_MAX;
	r->duration = DUR_ONCE;
	r->expires = 0;
	round_trip(r);
	r->duration = DUR_RESTART;
	round_trip(r);
	free(r);
}

static void
test_longest_line_fits(void **state)
{
	struct rule *r = rule_new();
	char err[256], name[NAME_MAX_LEN + 1];

	/* Every byte of app and note escaped. */
	memset(r->app, '"', RULE_APP_MAX - 1);
	r->app[0] = '/';
	r->app[RULE_APP_MAX - 1] = '\0';
	memset(r->note, '\x01', RULE_NOTE_MAX - 1);
	r->note[RULE_NOTE_MAX - 1] = '\0';
	/* and of an interpreter's script and command line glob */
	memset(r->script, '"', RULE_SCRIPT_MAX - 1);
	r->script[0] = '/';
	r->script[RULE_SCRIPT_MAX - 1] = '\0';
	memset(r->cmdline, '\\', RULE_CMDLINE_MAX - 1);
	r->cmdline[RULE_CMDLINE_MAX - 1] = '\0';
	/* The longest name: 63 + 1 + 63 + 1 + 63 + 1 + 61 bytes. */
	memset(name, 'a', 253);
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	assert_int_equal(rule_parse_dest(r, name, err, sizeof(err)), 0);
	assert_int_equal(strlen(r->dest), 253);
	r->has_uid = true;
	r->uid = 4294967294u;
	r->hits = UINT64_MAX;
	r->id = INT64_MAX;
	r->created = r->updated = r->last_hit = NOW;
	round_trip(r);
	free(r);
}

static void
test_missing_fields_keep_defaults(void **state)
{
	struct rule *r = rule_new();
	char err[256];

	assert_int_equal(rule_parse_line(r,
	                                 "rule dest=example.org action=allow",
	                                 err, sizeof(err)),
	                 0);
	assert_int_equal(r->id, 0);
	assert_string_equal(r->app, "*");
	assert_int_equal(r->dest_kind, DEST_NAME);
	assert_int_equal(r->action, ACTION_ALLOW);
	assert_int_equal(r->duration, DUR_FOREVER);
	assert_true(r->enabled);
	assert_int_equal(rule_parse_line(r, "  rule  ", err, sizeof(err)), 0);
	assert_int_equal(r->dest_kind, DEST_ANY);
	assert_int_equal(
	    rule_parse_line(r, "rule\tnote=\"\"\tenabled=no", err, sizeof(err)),
	    0);
	assert_false(r->enabled);
	free(r);
}

static void
test_bad_lines_name_the_key(void **state)
{
	static const struct {
		const char *line, *says;
	} cases[] = {
	    {"rule colour=red", "colour: unknown key"},
	    {"rule id=1 id=2", "id: given twice"},
	    {"rule id=-1", "id:"},
	    {"rule port=0", "port:"},
	    {"rule proto=icmp", "proto:"},
	    {"rule action=drop", "action:"},
	    {"rule enabled=true", "enabled:"},
	    {"rule priority=1000001", "priority:"},
	    {"rule priority=--1", "priority:"},
	    {"rule hits=18446744073709551616", "hits:"},
	    {"rule created=yesterday", "created:"},
	    {"rule last_hit=2026-11-28", "last_hit:"},
	    {"rule duration=30m", "duration:"},
	    {"rule uid=bob", "uid:"},
	    {"rule app=curl", "app:"},
	    {"rule dest=\"a b\"", "dest:"},
	    {"rule note=\"open", "note: no closing double quote"},
	    {"rule note=\"a\\qb\"", "note: unknown escape"},
	    {"rule note=\"a\\x0\"", "note: \\x"},
	    {"rule note=\"a\\x00\"", "note: \\x"},
	    {"rule note=\"a\"b", "note: expected a space"},
	    {"rule note=a\"b", "note: a quote"},
	    {"rule note=a\\b", "note: a quote"},
	    {"rule note", "expected key=value"},
	    {"rule =x", "expected key=value"},
	    {"rule Dest=x.org", "expected key=value"},
	    {"rules dest=x.org", "starting with \"rule\""},
	    {"list ads x.org", "starting with \"rule\""},
	    {"", "starting with \"rule\""},
	};
	struct rule *r = rule_new();
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		err[0] = '\0';
		if (rule_parse_line(r, cases[i].line, err, sizeof(err)) != -1)
			fail_msg("\"%s\" was taken", cases[i].line);
		if (strstr(err, cases[i].says) == NULL)
			fail_msg("\"%s\": \"%s\" does not say \"%s\"",
			         cases[i].line, err, cases[i].says);
	}
	free(r);
}

static void
test_note_limits(void **state)
{
	struct rule *r = rule_new();
	char line[600], err[256];

	snprintf(line, sizeof(line), "rule note=%0256d", 0);
	assert_int_equal(rule_parse_line(r, line, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "note:"));
	snprintf(line, sizeof(line), "rule note=%0255d", 0);
	assert_int_equal(rule_parse_line(r, line, err, sizeof(err)), 0);
	assert_int_equal(strlen(r->note), 255);
	free(r);
}

/* A pinned digest: 64 hex digits, stored lower case, for one app only. */
static void
test_digest(void **state)
{
	struct rule *r = rule_new(), *other = rule_new();
	char line[RULE_LINE_MAX], err[256];

	(void)state;
	assert_string_equal(r->digest, "");
	assert_int_equal(rule_parse_digest(r,
	                                   "BA7816BF8F01CFEA414140DE5DAE2223"
	                                   "B00361A396177A9CB410FF61F20015AD",
	                                   err, sizeof(err)),
	                 0);
	assert_string_equal(
	    r->digest,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(rule_parse_digest(r, "none", err, sizeof(err)), 0);
	assert_string_equal(r->digest, "");
	assert_int_equal(rule_parse_digest(r,
	                                   "ba7816bf8f01cfea414140de5dae2223b00"
	                                   "361a396177a9cb410ff61f20015ad0",
	                                   err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "is not 64 hex digits"));
	assert_int_equal(rule_parse_digest(r, "ba78", err, sizeof(err)), -1);
	assert_int_equal(rule_parse_digest(r,
	                                   "ggggggggggggggggggggggggggggggggggg"
	                                   "ggggggggggggggggggggggggggggg",
	                                   err, sizeof(err)),
	                 -1);
	assert_string_equal(r->digest, "");

	/* Written after the action (and via), only when pinned. */
	assert_int_equal(
	    rule_parse_line(r,
	                    "rule id=7 app=/usr/bin/curl dest=x.org "
	                    "action=allow "
	                    "digest="
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb4"
	                    "10ff61f20015ad",
	                    err, sizeof(err)),
	    0);
	rule_format(r, line, sizeof(line));
	assert_non_null(strstr(line, " action=allow "
	                             "digest="
	                             "ba7816bf8f01cfea414140de5dae2223b00361a39"
	                             "6177a9cb410ff61f20015ad duration="));
	round_trip(r);
	*other = *r;
	other->digest[0] = '\0';
	assert_false(rule_equal(r, other));
	rule_format(other, line, sizeof(line));
	assert_null(strstr(line, "digest="));

	/* Not for any app. */
	assert_int_equal(rule_parse_line(r,
	                                 "rule app=* "
	                                 "digest="
	                                 "ba7816bf8f01cfea414140de5dae2223b0036"
	                                 "1a396177a9cb410ff61f20015ad",
	                                 err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "digest: pins one app's file"));
	free(r);
	free(other);
}

/* An interpreter's script=PATH and cmdline=GLOB: written after the app,
 * only when set, read back; one app only; what each takes. */
static void
test_script_and_cmdline(void **state)
{
	struct rule *r = rule_new(), *other = rule_new();
	char line[RULE_LINE_MAX], err[256], *big;

	(void)state;
	assert_int_equal(
	    rule_parse_line(r,
	                    "rule id=4 app=/usr/bin/python3.11 "
	                    "script=/home/u/bin/sync.py "
	                    "cmdline=\"python3 -u * --\\\"x\\\"\" dest=x.org "
	                    "action=allow",
	                    err, sizeof(err)),
	    0);
	assert_string_equal(r->script, "/home/u/bin/sync.py");
	assert_string_equal(r->cmdline, "python3 -u * --\"x\"");
	rule_format(r, line, sizeof(line));
	assert_non_null(strstr(line, "rule id=4 app=/usr/bin/python3.11 "
	                             "script=/home/u/bin/sync.py "
	                             "cmdline=\"python3 -u * --\\\"x\\\"\" "
	                             "uid=any "));
	round_trip(r);
	*other = *r;
	other->script[0] = '\0';
	assert_false(rule_equal(r, other));
	*other = *r;
	other->cmdline[0] = '\0';
	assert_false(rule_equal(r, other));
	other->script[0] = '\0';
	rule_format(other, line, sizeof(line));
	assert_null(strstr(line, "script="));
	assert_null(strstr(line, "cmdline="));
	/* an old export (no such fields) reads as no script, no glob */
	assert_int_equal(rule_parse_line(r,
	                                 "rule id=4 app=/usr/bin/python3.11 "
	                                 "dest=x.org action=allow",
	                                 err, sizeof(err)),
	                 0);
	assert_string_equal(r->script, "");
	assert_string_equal(r->cmdline, "");

	/* Not for any app. */
	assert_int_equal(
	    rule_parse_line(r, "rule app=* script=/x.py", err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "script: goes with one interpreter's app"));
	assert_int_equal(
	    rule_parse_line(r, "rule cmdline=*x*", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cmdline: goes with one app"));
	/* A script is an absolute path; neither holds a control byte. */
	assert_int_equal(rule_parse_script(r, "bin/x.py", err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "is not an absolute path"));
	assert_int_equal(rule_parse_script(r, "/x\ty.py", err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "script: a control character"));
	assert_int_equal(rule_parse_cmdline(r, "a\x01b", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cmdline: a control character"));
	/* "" drops either */
	assert_int_equal(rule_parse_script(r, "/x.py", err, sizeof(err)), 0);
	assert_int_equal(rule_parse_script(r, "", err, sizeof(err)), 0);
	assert_string_equal(r->script, "");
	/* and the lengths */
	big = malloc(RULE_SCRIPT_MAX + 1);
	assert_non_null(big);
	memset(big, 'a', RULE_SCRIPT_MAX);
	big[0] = '/';
	big[RULE_SCRIPT_MAX] = '\0';
	assert_int_equal(rule_parse_script(r, big, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "script: 1024 bytes; a path has at most "
	                            "1023"));
	big[RULE_SCRIPT_MAX - 1] = '\0';
	assert_int_equal(rule_parse_script(r, big, err, sizeof(err)), 0);
	big[RULE_CMDLINE_MAX] = '\0';
	assert_int_equal(rule_parse_cmdline(r, big, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cmdline: 512 bytes; a glob has at most "
	                            "511"));
	free(big);
	free(r);
	free(other);
}

/* A route: via=direct|upstream|NAME, on allow rules only. */
static void
test_via(void **state)
{
	static const char *const good[] = {
	    "direct",
	    "upstream",
	    "mail",
	    "tor_9102-b",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 32 */
	};
	static const char *const bad[] = {
	    "Mail",
	    "mail.x",
	    "mail x",
	    "socks5://10.0.0.1:9050",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 33 */
	};
	struct rule *r = rule_new(), *other = rule_new();
	char line[RULE_LINE_MAX], err[256];
	size_t i;

	assert_string_equal(r->via, "");
	for (i = 0; i < sizeof(good) / sizeof(*good); i++) {
		assert_int_equal(rule_parse_via(r, good[i], err, sizeof(err)),
		                 0);
		assert_string_equal(r->via, good[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		rule_init(r);
		err[0] = '\0';
		if (rule_parse_via(r, bad[i], err, sizeof(err)) != -1)
			fail_msg("via \"%s\" was taken", bad[i]);
		assert_string_equal(r->via, "");
		assert_non_null(
		    strstr(err, "is not direct, upstream or an upstream NAME"));
	}
	assert_int_equal(rule_parse_via(r, "mail", err, sizeof(err)), 0);
	assert_int_equal(rule_parse_via(r, "", err, sizeof(err)), 0);
	assert_string_equal(r->via, "");

	/* Written after the action, only when there is one. */
	rule_init(r);
	r->id = 5;
	r->action = ACTION_ALLOW;
	assert_int_equal(rule_parse_dest(r, "*.example.org", err, sizeof(err)),
	                 0);
	rule_format(r, line, sizeof(line));
	assert_null(strstr(line, "via="));
	assert_int_equal(rule_parse_via(r, "mail", err, sizeof(err)), 0);
	rule_format(r, line, sizeof(line));
	assert_string_equal(line, "rule id=5 app=* uid=any dest=*.example.org "
	                          "port=any proto=any action=allow via=mail "
	                          "duration=forever priority=0 enabled=yes "
	                          "created=- updated=- hits=0 last_hit=- "
	                          "note=\"\"");
	round_trip(r);
	*other = *r;
	snprintf(other->via, sizeof(other->via), "direct");
	assert_false(rule_equal(r, other));

	/* In any order of the fields; never on a rule that blocks. */
	assert_int_equal(rule_parse_line(r, "rule via=direct action=allow", err,
	                                 sizeof(err)),
	                 0);
	assert_string_equal(r->via, "direct");
	assert_int_equal(
	    rule_parse_line(r, "rule dest=x.org via=mail", err, sizeof(err)),
	    -1);
	assert_string_equal(err, "via: only goes with action=allow (a deny "
	                         "rule sends nothing anywhere)");
	assert_int_equal(rule_parse_line(r, "rule action=reject via=upstream",
	                                 err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "via: only goes with action=allow"));
	assert_int_equal(
	    rule_parse_line(r, "rule action=allow via=Mail", err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "via: \"Mail\" is not direct"));
	assert_int_equal(rule_parse_line(r, "rule action=allow via=a via=b",
	                                 err, sizeof(err)),
	                 -1);
	assert_string_equal(err, "via: given twice");
	rule_init(r);
	r->action = ACTION_DENY;
	assert_int_equal(rule_check(r, err, sizeof(err)), 0);
	snprintf(r->via, sizeof(r->via), "mail");
	assert_int_equal(rule_check(r, err, sizeof(err)), -1);
	r->action = ACTION_ALLOW;
	assert_int_equal(rule_check(r, err, sizeof(err)), 0);

	/* The longest via on the longest line still fits. */
	memset(r->app, '"', RULE_APP_MAX - 1);
	r->app[0] = '/';
	r->app[RULE_APP_MAX - 1] = '\0';
	memset(r->note, '\x01', RULE_NOTE_MAX - 1);
	r->note[RULE_NOTE_MAX - 1] = '\0';
	memset(r->via, 'v', CONFIG_UPSTREAM_NAME_MAX);
	r->via[CONFIG_UPSTREAM_NAME_MAX] = '\0';
	round_trip(r);
	free(other);
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_are_any_deny_forever),
	    cmocka_unit_test(test_dest_kinds),
	    cmocka_unit_test(test_cidr_is_masked_and_canonical),
	    cmocka_unit_test(test_idn_becomes_punycode),
	    cmocka_unit_test(test_bad_dests_say_what_was_expected),
	    cmocka_unit_test(test_ports),
	    cmocka_unit_test(test_proto_uid_app),
	    cmocka_unit_test(test_relative_durations_count_from_now),
	    cmocka_unit_test(test_until_utc_offset_and_local),
	    cmocka_unit_test(test_bad_times),
	    cmocka_unit_test(test_expiry_with_injected_now),
	    cmocka_unit_test(test_time_str),
	    cmocka_unit_test(test_text_form_every_field),
	    cmocka_unit_test(test_text_form_round_trips),
	    cmocka_unit_test(test_longest_line_fits),
	    cmocka_unit_test(test_missing_fields_keep_defaults),
	    cmocka_unit_test(test_bad_lines_name_the_key),
	    cmocka_unit_test(test_note_limits),
	    cmocka_unit_test(test_via),
	    cmocka_unit_test(test_digest),
	    cmocka_unit_test(test_script_and_cmdline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
