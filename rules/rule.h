/*
 * rule.h - the rule model shared by tollgated and the tollgate CLI, and
 * its one text form (used by "tollgate rules export/import", by the
 * control socket and by "tollgate rules list").
 *
 * A rule says: this app (exe path or any, optionally only for one uid)
 * going to this destination (a name, a name and everything under it, an
 * IP, a CIDR, a list of names, or anything), on this port (range) and
 * protocol, gets this action, for this long.
 *
 * Names are stored lower case, without a trailing dot, IDNs in their
 * ASCII (punycode) form; see rule_parse_dest().
 *
 * The text form is one line: the word "rule" and key=value fields,
 * values quoted as the daemon's log and control lines are
 * (common/quote.h).  Example:
 *   rule id=12 app=/usr/bin/curl dest=*.example.com port=443 proto=tcp
 *        action=allow duration=forever priority=0 enabled=yes
 *        created=2026-11-28T12:00:00Z note="work proxy"
 * An allow rule may name its route: via=direct, via=upstream or via=NAME
 * (the upstream.NAME key of tollgate.conf), written after action only
 * when the rule has one.  A pinned rule has digest=HEX after that.
 * A list rule has dest=list:NAME; its names follow as lines
 *   list NAME example.org
 * rules/ never includes anything from proxyd/ or prompt/.
 */
#ifndef TG_RULE_H
#define TG_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "common/config.h" /* enum action */
#include "common/name.h"

#define RULE_APP_MAX       4096 /* an exe path, or "*" */
#define RULE_NOTE_MAX      256
#define RULE_LIST_NAME_MAX 64
#define RULE_PRIORITY_MIN  (-1000000)
#define RULE_PRIORITY_MAX  1000000
#define RULE_DURATION_MAX  (10 * 365 * 86400) /* longest "30m"/"2h"/"7d" */
#define RULE_DIGEST_HEX    64                 /* a SHA-256 in hex */
#define RULE_SCRIPT_MAX    1024 /* an interpreter's script, absolute */
#define RULE_CMDLINE_MAX   512  /* a command line glob */
/* The longest rule_format() line: the app, script and glob with every byte
 * escaped ("\\"), the note with every byte escaped ("\xNN"), and the
 * rest. */
#define RULE_LINE_MAX                                                          \
	(2 * RULE_APP_MAX + 2 * RULE_SCRIPT_MAX + 2 * RULE_CMDLINE_MAX +       \
	 4 * RULE_NOTE_MAX + 1024)

enum rule_dest {
	DEST_ANY,      /* "*" */
	DEST_NAME,     /* "example.com": that name only */
	DEST_WILDCARD, /* "*.example.com": that name and every name under it */
	DEST_IP,       /* "192.0.2.1", "2001:db8::1" */
	DEST_CIDR,     /* "192.0.2.0/24", "2001:db8::/32" */
	DEST_LIST, /* "list:NAME": each listed name and every name under it */
};

enum rule_proto {
	RPROTO_ANY,
	RPROTO_TCP,
	RPROTO_UDP,
	RPROTO_DNS,
};

enum rule_duration {
	DUR_ONCE,    /* applies to one decision, then is removed */
	DUR_RESTART, /* until tollgated restarts */
	DUR_UNTIL,   /* until `expires` */
	DUR_FOREVER,
};

struct rule {
	int64_t id;             /* 0 until stored */
	char app[RULE_APP_MAX]; /* absolute exe path, or "*" */
	bool has_uid;
	uid_t uid;
	enum rule_dest dest_kind;
	char dest[NAME_MAX_LEN + 1]; /* name, wildcard base (without
	                              * "*."), list name, or the IP/CIDR
	                              * as text; "" for DEST_ANY */
	int family;                  /* AF_INET/AF_INET6 for DEST_IP/CIDR */
	uint8_t addr[16];            /* network order, masked to prefix */
	unsigned prefix;             /* 32/128 for DEST_IP */
	uint16_t port_lo, port_hi;   /* 0, 0 = any port */
	enum rule_proto proto;
	enum action action;
	enum rule_duration duration;
	time_t expires; /* DUR_UNTIL only */
	int priority;   /* higher wins; default 0 */
	bool enabled;
	time_t created, updated;
	uint64_t hits;
	time_t last_hit; /* 0 = never */
	char note[RULE_NOTE_MAX];
	/* The route of an allow rule: "direct", "upstream" or an upstream
	 * NAME (config_upstream_find()); "" when the rule does not say (the
	 * default upstream).  Always "" unless action is ACTION_ALLOW. */
	char via[CONFIG_UPSTREAM_NAME_MAX + 1];
	/* The SHA-256 of the app's file when the rule was made ("tollgate
	 * rules add --digest pin"), RULE_DIGEST_HEX lower-case hex digits:
	 * the rule matches only a process running a file of that digest.
	 * "" when not pinned.  Only with an app other than "*". */
	char digest[RULE_DIGEST_HEX + 1];
	/* For an interpreter (rules/interp.h): the script it runs, an
	 * absolute path, and a fnmatch(3) glob over its command line (argv
	 * joined by spaces, as events show it).  "" when the rule does not
	 * say.  Only with an app other than "*".  A label of convenience for
	 * the user's own programs: a process can rewrite its argv, so neither
	 * tells a hostile program from another (the app and digest do). */
	char script[RULE_SCRIPT_MAX];
	char cmdline[RULE_CMDLINE_MAX];
};

/* Defaults: app "*", dest any, any port and protocol, deny, forever,
 * priority 0, enabled, no via. */
void rule_init(struct rule *r);

/*
 * Parsers for the parts a user types; each returns 0, or -1 with err
 * naming the key, what was wrong and what was expected (r is then
 * unchanged).
 *   dest:     "*", "NAME", "*.NAME", "IP", "CIDR", "list:NAME"; names go
 *             through rule_parse_name(); an IP or CIDR is stored in its
 *             canonical text, masked to its prefix, an IPv4-mapped IPv6
 *             address as IPv4; a list name is 1-63 of [A-Za-z0-9._-].
 *   port:     "N" or "N-M" (1-65535, N <= M), or "any" (or "*").
 *   proto:    "tcp", "udp", "dns" or "any" (or "*").
 *   uid:      a number, or "any" (or "*").
 *   app:      "*" or an absolute path without control bytes, shorter
 *             than RULE_APP_MAX.
 *   digest:   RULE_DIGEST_HEX hex digits (stored lower case), or "" or
 *             "none": not pinned.
 *   script:   an absolute path without control bytes, shorter than
 *             RULE_SCRIPT_MAX, or "": any script (and none).
 *   cmdline:  a glob without control bytes, shorter than
 *             RULE_CMDLINE_MAX, or "": any command line.
 *   via:      "direct", "upstream", or a NAME as config_upstream_name_ok()
 *             takes it; "" drops the via (the default upstream).  Whether
 *             such an upstream is configured is the daemon's to check.
 *   duration: "once", "restart", "forever"; "30m", "2h", "7d" (minutes,
 *             hours, days from now, at most RULE_DURATION_MAX); or
 *             "until:TIME" with TIME "YYYY-MM-DDTHH:MM[:SS]" and "Z" or
 *             "+HH:MM"/"-HH:MM" (UTC and offsets), or no zone at all:
 *             then it is the local time of the process that parses it.
 *             The text form always writes UTC with "Z", so what crosses
 *             the control socket or sits in an export is never local.
 */
int rule_parse_dest(struct rule *r, const char *s, char *err, size_t errlen);
int rule_parse_port(struct rule *r, const char *s, char *err, size_t errlen);
int rule_parse_proto(struct rule *r, const char *s, char *err, size_t errlen);
int rule_parse_uid(struct rule *r, const char *s, char *err, size_t errlen);
int rule_parse_duration(struct rule *r, const char *s, time_t now, char *err,
                        size_t errlen);
int rule_parse_app(struct rule *r, const char *s, char *err, size_t errlen);
int rule_parse_via(struct rule *r, const char *s, char *err, size_t errlen);
int rule_parse_digest(struct rule *r, const char *s, char *err, size_t errlen);
int rule_parse_script(struct rule *r, const char *s, char *err, size_t errlen);
int rule_parse_cmdline(struct rule *r, const char *s, char *err, size_t errlen);

/*
 * What no single field shows: a via only on an allow rule (a rule that
 * blocks goes nowhere); a digest, script or cmdline only on a rule for one
 * app.  Returns 0, or -1
 * + err ("via: only goes with action=allow ...").
 */
int rule_check(const struct rule *r, char *err, size_t errlen);

/*
 * The one way from a name a user typed (or a list holds) to the form
 * rules compare: UTF-8 IDN to ASCII with libidn2 (UTS#46 non-transitional,
 * then transitional when that fails), then name_normalise().  out holds
 * NAME_MAX_LEN + 1 bytes.  Returns 0 or -1 + err.
 */
int rule_parse_name(char *out, const char *s, char *err, size_t errlen);

/* "2026-12-01T10:00:00Z" for t (UTC); "-" when t is 0 or out of range. */
const char *rule_time_str(time_t t, char *buf, size_t len);

/* The dest as the user writes it ("*.example.com", "list:ads", ...). */
const char *rule_dest_str(const struct rule *r, char *buf, size_t len);
const char *rule_proto_str(enum rule_proto p);
const char *rule_duration_str(const struct rule *r, char *buf, size_t len);

/*
 * The text form.  rule_format() writes one "rule ..." line (no newline)
 * with every field, in this order:
 *   id app script cmdline uid dest port proto action via digest duration
 *   priority enabled created updated hits last_hit note
 * (uid=any when none; script, cmdline, via and digest only when not "";
 * times as
 * rule_time_str(), "-" for 0; enabled=yes|no; duration as rule_duration_str()).
 * A buffer of RULE_LINE_MAX always holds a rule whose app passed
 * rule_parse_app(). rule_parse_line() reads one back: fields it does not find
 * keep rule_init() defaults; an unknown key, a key given twice, a bad value or
 * a rule rule_check() refuses is an error naming the key.  A relative duration
 * ("30m") is for typing only: the text form takes once, restart, forever or
 * until:TIME. rule_format() then rule_parse_line() gives rule_equal() rules.
 * Returns 0, or -1 + err (*r then partly filled: throw it away).
 */
void rule_format(const struct rule *r, char *buf, size_t len);
int rule_parse_line(struct rule *r, const char *line, char *err, size_t errlen);

/*
 * The text form with users by name, for a person's export text (the
 * control socket takes numbers only): rule_format_users() writes uid=NAME
 * when u->name() gives one, else the number; rule_parse_line_users()
 * takes a uid value that is neither a number nor any through u->uid(),
 * "uid: no user \"NAME\"" when it fails.  u NULL: numbers only, as
 * rule_format() and rule_parse_line().
 */
struct rule_users {
	/* uid's name into buf[len]; NULL when it has none */
	const char *(*name)(uid_t uid, char *buf, size_t len);
	/* name's uid into *uid: 0, or -1 when there is no such user */
	int (*uid)(const char *name, uid_t *uid);
};

void rule_format_users(const struct rule *r, const struct rule_users *u,
                       char *buf, size_t len);
int rule_parse_line_users(struct rule *r, const char *line,
                          const struct rule_users *u, char *err, size_t errlen);

/* Every field equal (strings as strings; expires only for DUR_UNTIL). */
bool rule_equal(const struct rule *a, const struct rule *b);

/* True when the rule has expired at now: DUR_UNTIL and now >= expires. */
bool rule_expired(const struct rule *r, time_t now);

#endif
