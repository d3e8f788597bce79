/*
 * test_prompt_actions.c - what a prompt agent offers and shows
 * (prompt/actions.h): the answers a prompt offers and their words, the
 * default and the keys, a program's hostile command line and path made
 * safe to show, and what the agent says when a prompt is withdrawn or an
 * answer is taken or refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/ctl.h"
#include "common/ctl_prompt.h"
#include "prompt/actions.h"

/* U+202E RIGHT-TO-LEFT OVERRIDE: what follows reads backwards. */
#define RLO "\xe2\x80\xae"

/* p as an agent reads it from line: a PROMPT line of the daemon. */
static void
prompt_of(const char *line, struct ctl_prompt *p)
{
	char err[CTL_ERRLEN];

	if (ctl_prompt_parse(line, strlen(line), p, err, sizeof(err)) != 0)
		fail_msg("\"%s\": %s", line, err);
}

/* The prompt of docs/control.md. */
static void
curl_prompt(struct ctl_prompt *p)
{
	prompt_of("PROMPT id=7 uid=1000 user=alice pid=4242 app=/usr/bin/curl "
	          "cmdline=\"curl https://example.com/\" name=www.example.com "
	          "source=sni dst=93.184.216.34 port=443 proto=tcp "
	          "created=1764340000 expires=1764340099 connections=1 "
	          "default=deny domain=example.com "
	          "scopes=name,domain,app,ip,port "
	          "durations=once,restart,1h,forever",
	          p);
}

/* A connection from a process tollgated could not name, to an IPv6
 * address with no name read: only "once" on the IP or the port. */
static void
unknown_prompt(struct ctl_prompt *p)
{
	prompt_of("PROMPT id=8 uid=1000 user=alice pid=0 app=- cmdline=- "
	          "name=- source=none dst=2001:db8::2 port=443 proto=tcp "
	          "created=1764340000 expires=1764340099 connections=1 "
	          "default=deny domain=- scopes=ip,port durations=once",
	          p);
}

/* The answers p offers as "id label", one a line, in a static buffer. */
static const char *
offered(const struct ctl_prompt *p)
{
	static char out[ACTIONS_N * (ACTIONS_LABEL_MAX + 32)];
	struct actions_choice c[ACTIONS_N];
	size_t i, n, off = 0;

	n = actions_offered(p, c);
	assert_true(n <= ACTIONS_N);
	out[0] = '\0';
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(out + off, sizeof(out) - off, "%s %s\n",
		                        c[i].def->id, c[i].label);
	return out;
}

/*
 * Whether s may reach a screen: valid, shortest-form UTF-8 of scalar
 * values, without control characters (C0, DEL, C1) or the bidirectional
 * overrides and isolates; "\n" only when newlines is set.  Written from
 * RFC 3629, not from actions.c.
 */
static bool
is_safe(const char *s, bool newlines)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned cp;
	size_t n, i;

	while (*u != '\0') {
		if (*u < 0x80) {
			if ((*u < 0x20 && !(newlines && *u == '\n')) ||
			    *u == 0x7f)
				return false;
			u++;
			continue;
		}
		if (*u >= 0xc2 && *u <= 0xdf)
			n = 2, cp = *u & 0x1f;
		else if (*u >= 0xe0 && *u <= 0xef)
			n = 3, cp = *u & 0x0f;
		else if (*u >= 0xf0 && *u <= 0xf4)
			n = 4, cp = *u & 0x07;
		else
			return false;
		for (i = 1; i < n; i++) {
			if ((u[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (u[i] & 0x3f);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		if (cp < 0xa0 || (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			return false;
		u += n;
	}
	return true;
}

static bool
is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* actions_clean() of s into a buffer of len bytes (at most 64). */
static const char *
clean(const char *s, bool ascii, size_t len)
{
	static char buf[64];

	assert_true(len <= sizeof(buf));
	memset(buf, 'Z', sizeof(buf));
	actions_clean(s, ascii, buf, len);
	/* Always terminated inside the buffer. */
	if (len > 0)
		assert_non_null(memchr(buf, '\0', len));
	return buf;
}

static void
test_a_full_prompt_offers_all_six(void **state)
{
	struct actions_choice c[ACTIONS_N];
	struct ctl_prompt p;
	size_t i;

	curl_prompt(&p);
	assert_string_equal(offered(&p),
	                    "allow-once Allow once\n"
	                    "allow-name Allow always (this name)\n"
	                    "allow-domain Allow always (*.example.com)\n"
	                    "deny-once Deny once (default)\n"
	                    "deny-name Deny always (this name)\n"
	                    "deny-app Deny always (this app, anywhere)\n");
	assert_int_equal(actions_offered(&p, c), ACTIONS_N);
	for (i = 0; i < ACTIONS_N; i++) {
		assert_ptr_equal(c[i].def, &actions_table[i]);
		assert_int_equal(c[i].scope, actions_table[i].scope);
		assert_int_equal(c[i].deflt, i == 3);
	}

	/* The longest domain still ends its label. */
	memset(p.domain, 'd', CTL_PROMPT_NAME_MAX - 1);
	p.domain[CTL_PROMPT_NAME_MAX - 1] = '\0';
	assert_true(actions_resolve(&p, &actions_table[2], &c[0]));
	assert_int_equal(strlen(c[0].label),
	                 strlen("Allow always (*.)") + CTL_PROMPT_NAME_MAX - 1);
	assert_int_equal(c[0].label[strlen(c[0].label) - 1], ')');
}

static void
test_no_name_is_this_ip(void **state)
{
	struct actions_choice c;
	struct ctl_prompt p;

	/* Nothing was read but the address: "this name" is the IP. */
	curl_prompt(&p);
	p.name[0] = p.domain[0] = '\0';
	snprintf(p.source, sizeof(p.source), "none");
	assert_string_equal(offered(&p),
	                    "allow-once Allow once\n"
	                    "allow-name Allow always (this IP)\n"
	                    "deny-once Deny once (default)\n"
	                    "deny-name Deny always (this IP)\n"
	                    "deny-app Deny always (this app, anywhere)\n");
	assert_true(actions_resolve(&p, actions_by_id("allow-name"), &c));
	assert_int_equal(c.scope, CTL_SCOPE_IP);
	assert_true(actions_resolve(&p, actions_by_id("deny-once"), &c));
	assert_int_equal(c.scope, CTL_SCOPE_IP);

	/* A name, but a prompt that does not offer the name scope. */
	curl_prompt(&p);
	p.scopes &= ~(1u << CTL_SCOPE_NAME);
	assert_true(actions_resolve(&p, actions_by_id("deny-name"), &c));
	assert_int_equal(c.scope, CTL_SCOPE_IP);
	assert_string_equal(c.label, "Deny always (this IP)");

	/* Neither the name nor the IP: nothing for "this destination". */
	p.scopes &= ~(1u << CTL_SCOPE_IP);
	assert_false(actions_resolve(&p, actions_by_id("deny-name"), &c));
	assert_false(actions_resolve(&p, actions_by_id("allow-once"), &c));
	assert_null(c.def);
	assert_string_equal(offered(&p),
	                    "allow-domain Allow always (*.example.com)\n"
	                    "deny-app Deny always (this app, anywhere)\n");
}

/* prompt_answers: an agent told it may answer once, 1h or restart
 * (admin-forever, not an admin) offers "for 1 hour" where it offered
 * "always", and answers 1h; told once only, it offers once only. */
static void
test_bounded_answers(void **state)
{
	struct actions_choice c;
	struct ctl_prompt p;

	curl_prompt(&p);
	p.durations &= ~(1u << CTL_DUR_FOREVER);
	assert_string_equal(offered(&p),
	                    "allow-once Allow once\n"
	                    "allow-name Allow for 1 hour (this name)\n"
	                    "allow-domain Allow for 1 hour (*.example.com)\n"
	                    "deny-once Deny once (default)\n"
	                    "deny-name Deny for 1 hour (this name)\n"
	                    "deny-app Deny for 1 hour (this app, anywhere)\n");
	assert_true(actions_resolve(&p, actions_by_key('a'), &c));
	assert_int_equal(c.duration, CTL_DUR_HOUR);
	assert_int_equal(c.scope, CTL_SCOPE_NAME);
	assert_true(actions_resolve(&p, actions_by_key('o'), &c));
	assert_int_equal(c.duration, CTL_DUR_ONCE);

	/* All of them, as before: always is forever. */
	curl_prompt(&p);
	assert_true(actions_resolve(&p, actions_by_key('a'), &c));
	assert_int_equal(c.duration, CTL_DUR_FOREVER);
	assert_string_equal(c.label, "Allow always (this name)");

	/* once-only. */
	p.durations = 1u << CTL_DUR_ONCE;
	assert_false(actions_resolve(&p, actions_by_key('a'), &c));
	assert_string_equal(offered(&p), "allow-once Allow once\n"
	                                 "deny-once Deny once (default)\n");
}

static void
test_no_domain_no_domain_answer(void **state)
{
	struct actions_choice c;
	struct ctl_prompt p;

	/* The prompt does not offer the domain scope. */
	curl_prompt(&p);
	p.scopes &= ~(1u << CTL_SCOPE_DOMAIN);
	assert_false(actions_resolve(&p, actions_by_id("allow-domain"), &c));
	assert_null(strstr(offered(&p), "allow-domain"));
	assert_null(strstr(offered(&p), "*."));

	/* It does, but there is no domain to name (an IP, "localhost"). */
	curl_prompt(&p);
	p.domain[0] = '\0';
	assert_false(actions_resolve(&p, actions_by_id("allow-domain"), &c));
	assert_string_equal(offered(&p),
	                    "allow-once Allow once\n"
	                    "allow-name Allow always (this name)\n"
	                    "deny-once Deny once (default)\n"
	                    "deny-name Deny always (this name)\n"
	                    "deny-app Deny always (this app, anywhere)\n");

	/* No app scope: no "Deny always (this app, anywhere)". */
	curl_prompt(&p);
	p.scopes &= ~(1u << CTL_SCOPE_APP);
	assert_null(strstr(offered(&p), "deny-app"));
}

static void
test_once_only_for_an_unknown_process(void **state)
{
	struct actions_choice c[ACTIONS_N];
	struct ctl_prompt p;

	unknown_prompt(&p);
	assert_string_equal(offered(&p), "allow-once Allow once\n"
	                                 "deny-once Deny once (default)\n");
	assert_int_equal(actions_offered(&p, c), 2);
	assert_int_equal(c[0].scope, CTL_SCOPE_IP);
	assert_int_equal(c[1].scope, CTL_SCOPE_IP);
	assert_false(c[0].deflt);
	assert_true(c[1].deflt);

	/* A duration the prompt does not list is never offered. */
	assert_false(actions_resolve(&p, actions_by_id("deny-name"), &c[0]));

	/* Nothing listed: nothing offered. */
	p.durations = 0;
	assert_int_equal(actions_offered(&p, c), 0);
	assert_string_equal(offered(&p), "");
}

static void
test_the_default(void **state)
{
	struct actions_choice c;
	struct ctl_prompt p;

	curl_prompt(&p);
	assert_true(actions_default(&p, &c));
	assert_ptr_equal(c.def, actions_by_id("deny-once"));
	assert_true(c.deflt);
	assert_string_equal(c.label, "Deny once (default)");

	p.deflt = ACTION_ALLOW;
	assert_true(actions_default(&p, &c));
	assert_ptr_equal(c.def, actions_by_id("allow-once"));
	assert_string_equal(c.label, "Allow once (default)");
	assert_non_null(strstr(offered(&p), "deny-once Deny once\n"));

	/* No "Reject once" row: reject has no button. */
	p.deflt = ACTION_REJECT;
	assert_false(actions_default(&p, &c));
	assert_null(strstr(offered(&p), "(default)"));

	/* A prompt without default= (-1) has none either. */
	p.deflt = -1;
	assert_false(actions_default(&p, &c));
	assert_null(strstr(offered(&p), "(default)"));

	/* Deny is the default but "once" is not offered: no such answer. */
	p.deflt = ACTION_DENY;
	p.durations = 1u << CTL_DUR_FOREVER;
	assert_false(actions_default(&p, &c));
	assert_null(strstr(offered(&p), "(default)"));
}

static void
test_keys_and_ids(void **state)
{
	static const struct {
		const char *id;
		char key;
		enum action verdict;
		enum ctl_scope scope;
		enum ctl_duration duration;
	} rows[ACTIONS_N] = {
	    {"allow-once", 'o', ACTION_ALLOW, CTL_SCOPE_NAME, CTL_DUR_ONCE},
	    {"allow-name", 'a', ACTION_ALLOW, CTL_SCOPE_NAME, CTL_DUR_FOREVER},
	    {"allow-domain", 'w', ACTION_ALLOW, CTL_SCOPE_DOMAIN,
	     CTL_DUR_FOREVER},
	    {"deny-once", 'd', ACTION_DENY, CTL_SCOPE_NAME, CTL_DUR_ONCE},
	    {"deny-name", 'n', ACTION_DENY, CTL_SCOPE_NAME, CTL_DUR_FOREVER},
	    {"deny-app", 'x', ACTION_DENY, CTL_SCOPE_APP, CTL_DUR_FOREVER},
	};
	static const char *const bad_ids[] = {
	    "", "allow", "Allow-once", "allow-once ", "default", "reject-once",
	};
	size_t i;

	for (i = 0; i < ACTIONS_N; i++) {
		assert_ptr_equal(actions_by_key(rows[i].key),
		                 &actions_table[i]);
		assert_ptr_equal(actions_by_id(rows[i].id), &actions_table[i]);
		assert_int_equal(actions_table[i].verdict, rows[i].verdict);
		assert_int_equal(actions_table[i].scope, rows[i].scope);
		assert_int_equal(actions_table[i].duration, rows[i].duration);
	}
	assert_null(actions_by_key('q'));
	assert_null(actions_by_key('O'));
	assert_null(actions_by_key(0));
	assert_null(actions_by_key(-1));
	assert_null(actions_by_key(0x1b));
	for (i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++)
		if (actions_by_id(bad_ids[i]) != NULL)
			fail_msg("\"%s\" is taken as an answer", bad_ids[i]);
}

static void
test_clean_control_bytes(void **state)
{
	assert_string_equal(clean("www.example.com", false, 64),
	                    "www.example.com");
	assert_string_equal(clean("", false, 64), "");
	/* C0, including tab and newline, and DEL. */
	assert_string_equal(clean("a\x01g\th\ni\rj\x7fk", false, 64),
	                    "a?g?h?i?j?k");
	/* An escape sequence loses its ESC; what is left is only text. */
	assert_string_equal(clean("\x1b[2J\x1b]0;owned\x07", false, 64),
	                    "?[2J?]0;owned?");
	/* C1 as UTF-8 (U+0080, U+009B CSI, U+009F), one '?' each; U+00A0
	 * is the first that is kept. */
	assert_string_equal(clean("<\xc2\x80\xc2\x9b[2J\xc2\x9f>", false, 64),
	                    "<??[2J?>");
	assert_string_equal(clean("\xc2\xa0", false, 64), "\xc2\xa0");
}

static void
test_clean_bad_utf8(void **state)
{
	static const struct {
		const char *in, *out;
	} bad[] = {
	    {"\x80", "?"}, /* a continuation alone */
	    {"a\xbfz", "a?z"},
	    {"\xff\xfe", "??"}, /* never in UTF-8 */
	    {"\xc3", "?"},      /* cut by the end */
	    {"\xe2\x82", "??"},
	    {"\xe2\x82x", "??x"}, /* cut by another character */
	    {"\xf0\x9f\x98", "???"},
	    {"\xc0\xaf", "??"}, /* '/', overlong */
	    {"\xc1\xbf", "??"},
	    {"\xe0\x80\xaf", "???"},
	    {"\xe0\x9f\xbf", "???"}, /* U+07FF in three bytes */
	    {"\xf0\x80\x80\xaf", "????"},
	    {"\xf0\x8f\xbf\xbf", "????"}, /* U+FFFF in four bytes */
	    {"\xc0\x9b", "??"},           /* ESC, overlong */
	    {"\xed\xa0\x80", "???"},      /* a surrogate, U+D800 */
	    {"\xed\xbf\xbf", "???"},
	    {"\xf4\x90\x80\x80", "????"}, /* past U+10FFFF */
	    {"\xf8\x88\x80\x80\x80", "?????"},
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strcmp(clean(bad[i].in, false, 64), bad[i].out) != 0)
			fail_msg("case %zu: \"%s\", not \"%s\"", i,
			         clean(bad[i].in, false, 64), bad[i].out);

	/* Valid UTF-8 of every length is kept as it is: U+00E9, U+2603,
	 * U+1D11E, the last of each length, and U+10FFFF. */
	assert_string_equal(
	    clean("caf\xc3\xa9 \xe2\x98\x83 \xf0\x9d\x84\x9e", false, 64),
	    "caf\xc3\xa9 \xe2\x98\x83 \xf0\x9d\x84\x9e");
	assert_string_equal(
	    clean("\xdf\xbf\xef\xbf\xbf\xf4\x8f\xbf\xbf", false, 64),
	    "\xdf\xbf\xef\xbf\xbf\xf4\x8f\xbf\xbf");
	assert_string_equal(clean("\xed\x9f\xbf\xee\x80\x80", false, 64),
	                    "\xed\x9f\xbf\xee\x80\x80");
}

static void
test_clean_bidi(void **state)
{
	char in[4], want[4];
	unsigned cp;
	bool bidi;

	/* "exe.txt" would show as "txt.exe". */
	assert_string_equal(clean("invoice" RLO "txt.exe", false, 64),
	                    "invoice?txt.exe");
	/* Every character from U+2000 to U+20FF: the overrides U+202A-E
	 * and the isolates U+2066-9 become '?', the rest stays. */
	for (cp = 0x2000; cp <= 0x20ff; cp++) {
		snprintf(in, sizeof(in), "%c%c%c", 0xe0 | cp >> 12,
		         0x80 | (cp >> 6 & 0x3f), 0x80 | (cp & 0x3f));
		bidi = (cp >= 0x202a && cp <= 0x202e) ||
		       (cp >= 0x2066 && cp <= 0x2069);
		snprintf(want, sizeof(want), "%s", bidi ? "?" : in);
		if (strcmp(clean(in, false, 64), want) != 0)
			fail_msg("U+%04X: \"%s\"", cp, clean(in, false, 64));
	}
}

static void
test_clean_every_two_bytes(void **state)
{
	char in[3], out[8];
	unsigned a, b;

	/* Whatever comes in, what goes out may be shown. */
	for (a = 1; a < 256; a++)
		for (b = 0; b < 256; b++) {
			in[0] = (char)a;
			in[1] = (char)b;
			in[2] = '\0';
			actions_clean(in, false, out, sizeof(out));
			if (!is_safe(out, false))
				fail_msg("%02x %02x: unsafe", a, b);
			actions_clean(in, true, out, sizeof(out));
			if (!is_safe(out, false) || !is_ascii(out))
				fail_msg("%02x %02x: not ASCII", a, b);
		}
}

static void
test_clean_ascii(void **state)
{
	assert_string_equal(clean("www.example.com", true, 64),
	                    "www.example.com");
	/* One '?' a character, whatever its length. */
	assert_string_equal(
	    clean("caf\xc3\xa9 \xe2\x98\x83 \xf0\x9d\x84\x9e!", true, 64),
	    "caf? ? ?!");
	assert_string_equal(clean("\x1b[1m" RLO "\xff", true, 64), "?[1m??");
}

static void
test_clean_into_a_small_buffer(void **state)
{
	const char *out;

	assert_string_equal(clean("abcdef", false, 4), "abc");
	assert_string_equal(clean("abc", false, 4), "abc");
	assert_string_equal(clean("abc", false, 1), "");
	/* Not in the middle of a character: "caf" and no half 'é'. */
	assert_string_equal(clean("caf\xc3\xa9", false, 5), "caf");
	assert_string_equal(clean("caf\xc3\xa9", false, 6), "caf\xc3\xa9");
	assert_string_equal(clean("\xe2\x98\x83\xe2\x98\x83", false, 6),
	                    "\xe2\x98\x83");
	assert_string_equal(clean("\xf0\x9d\x84\x9e", false, 4), "");
	assert_string_equal(clean("\xf0\x9d\x84\x9e", false, 5),
	                    "\xf0\x9d\x84\x9e");
	/* A '?' takes one byte too. */
	assert_string_equal(clean("ab\x1bz", false, 3), "ab");
	assert_string_equal(clean("ab\x1bz", false, 4), "ab?");

	/* No room at all: not a byte written. */
	out = clean("abc", false, 0);
	assert_int_equal(out[0], 'Z');
}

/* The lines of t's body, checked and then joined by '|' (static). */
static const char *
body_of(const struct actions_text *t)
{
	static char out[ACTIONS_BODY_MAX];
	size_t i;

	assert_non_null(memchr(t->body, '\0', sizeof(t->body)));
	assert_non_null(memchr(t->summary, '\0', sizeof(t->summary)));
	if (!is_safe(t->summary, false))
		fail_msg("summary not safe: \"%s\"", t->summary);
	if (!is_safe(t->body, true))
		fail_msg("body not safe: \"%s\"", t->body);
	snprintf(out, sizeof(out), "%s", t->body);
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] == '\n')
			out[i] = '|';
	return out;
}

static void
test_describe_a_prompt(void **state)
{
	struct actions_text t;
	struct ctl_prompt p;

	curl_prompt(&p);
	actions_describe(&p, &t);
	assert_string_equal(t.summary,
	                    "curl wants to connect to www.example.com:443");
	assert_string_equal(body_of(&t),
	                    "App:     curl (/usr/bin/curl)|"
	                    "Command: curl https://example.com/|"
	                    "Process: pid 4242, user alice (uid 1000)|"
	                    "Name:    www.example.com (from TLS SNI)|"
	                    "Address: 93.184.216.34:443 tcp");

	/* Ten connections wait on it. */
	p.connections = 10;
	actions_describe(&p, &t);
	assert_non_null(strstr(body_of(&t), "|Waiting: 10 connections"));

	/* A process tollgated could not name, to an IPv6 address. */
	unknown_prompt(&p);
	p.proto[0] = '\0';
	actions_describe(&p, &t);
	assert_string_equal(t.summary, "An unknown process of uid 1000 wants "
	                               "to connect to [2001:db8::2]:443");
	assert_string_equal(body_of(&t),
	                    "App:     unknown process|"
	                    "Process: pid unknown, user alice (uid 1000)|"
	                    "Name:    none read (a rule can match only the IP)|"
	                    "Address: [2001:db8::2]:443 tcp");
}

static void
test_describe_a_hostile_program(void **state)
{
	struct actions_text t;
	struct ctl_prompt p;

	/* A command line that clears the screen and turns text around, a
	 * file name that reads as a harmless one. */
	curl_prompt(&p);
	snprintf(p.cmdline, sizeof(p.cmdline),
	         "curl \x1b[2J\x1b[H https://" RLO "moc.elpmaxe/ \xc2\x9b[31m");
	snprintf(p.app, sizeof(p.app), "/tmp/\x1b[8mcurl" RLO "fdp.exe");
	snprintf(p.user, sizeof(p.user), "al\x7fice");
	actions_describe(&p, &t);
	assert_null(strchr(t.summary, '\x1b'));
	assert_null(strstr(t.summary, RLO));
	assert_null(strchr(t.body, '\x1b'));
	assert_null(strstr(t.body, RLO));
	assert_string_equal(t.summary, "?[8mcurl?fdp.exe wants to connect to "
	                               "www.example.com:443");
	assert_string_equal(body_of(&t),
	                    "App:     ?[8mcurl?fdp.exe (/tmp/?[8mcurl?fdp.exe)|"
	                    "Command: curl ?[2J?[H https://?moc.elpmaxe/ ?[31m|"
	                    "Process: pid 4242, user al?ice (uid 1000)|"
	                    "Name:    www.example.com (from TLS SNI)|"
	                    "Address: 93.184.216.34:443 tcp");
}

static void
test_describe_the_longest_values(void **state)
{
	struct actions_text t;
	struct ctl_prompt p;
	size_t i;

	/* A path of 'é' as long as a prompt holds: the body is full, and
	 * still whole characters. */
	curl_prompt(&p);
	p.app[0] = '/';
	for (i = 1; i + 2 < sizeof(p.app); i += 2)
		memcpy(p.app + i, "\xc3\xa9", 2);
	p.app[i] = '\0';
	memset(p.cmdline, 'c', sizeof(p.cmdline) - 1);
	p.cmdline[sizeof(p.cmdline) - 1] = '\0';
	for (i = 0; i + 4 < sizeof(p.name); i += 4)
		memcpy(p.name + i, "\xe2\x98\x83.", 4);
	p.name[i] = '\0';
	actions_describe(&p, &t);
	body_of(&t);
	assert_true(strlen(t.body) > ACTIONS_BODY_MAX - 8);
	assert_true(strlen(t.body) < ACTIONS_BODY_MAX);
	assert_int_equal(strncmp(t.summary, "\xc3\xa9\xc3\xa9", 4), 0);
	assert_non_null(
	    strstr(t.summary, " wants to connect to \xe2\x98\x83."));
	assert_non_null(strstr(t.summary, ":443"));

	/* The same for each width of character that could be cut. */
	for (i = 1; i + 4 < sizeof(p.app); i += 4)
		memcpy(p.app + i, "\xf0\x9d\x84\x9e", 4);
	p.app[i] = '\0';
	actions_describe(&p, &t);
	body_of(&t);
	p.app[0] = 'x';
	actions_describe(&p, &t);
	body_of(&t);
}

static void
test_app_and_destination(void **state)
{
	struct ctl_prompt p;
	char buf[ACTIONS_DEST_MAX], small[8];

	curl_prompt(&p);
	actions_dest(&p, buf, sizeof(buf));
	assert_string_equal(buf, "www.example.com:443");
	actions_app(&p, buf, sizeof(buf));
	assert_string_equal(buf, "curl");

	/* No name: the address, IPv6 in brackets before its port. */
	p.name[0] = '\0';
	actions_dest(&p, buf, sizeof(buf));
	assert_string_equal(buf, "93.184.216.34:443");
	snprintf(p.dst, sizeof(p.dst), "2001:db8::2");
	p.port = 8443;
	actions_dest(&p, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::2]:8443");
	actions_dest(&p, small, sizeof(small));
	assert_string_equal(small, "[2001:d");

	/* A name the daemon would not send is cleaned all the same. */
	snprintf(p.name, sizeof(p.name), "evil\x1b[2J.example");
	actions_dest(&p, buf, sizeof(buf));
	assert_string_equal(buf, "evil?[2J.example:8443");

	snprintf(p.app, sizeof(p.app), "curl");
	actions_app(&p, buf, sizeof(buf));
	assert_string_equal(buf, "curl");
	snprintf(p.app, sizeof(p.app), "/usr/bin/");
	actions_app(&p, buf, sizeof(buf));
	assert_string_equal(buf, "/usr/bin/");
	p.app[0] = '\0';
	actions_app(&p, buf, sizeof(buf));
	assert_string_equal(buf, "unknown process");
}

static void
test_time_left(void **state)
{
	struct ctl_prompt p;

	curl_prompt(&p);
	assert_int_equal(actions_left(&p, p.expires - 99), 99);
	assert_int_equal(actions_left(&p, p.expires - 1), 1);
	assert_int_equal(actions_left(&p, p.expires), 0);
	assert_int_equal(actions_left(&p, p.expires + 3600), 0);
	/* No expiry: no countdown. */
	p.expires = 0;
	assert_int_equal(actions_left(&p, 1764340000), -1);
}

/* actions_reply() of the reply line, in a static buffer. */
static const char *
reply(const char *line)
{
	static char out[256];
	struct ctl_reply rep;
	char err[CTL_ERRLEN];

	if (ctl_reply_parse(line, strlen(line), &rep, err, sizeof(err)) != 0)
		fail_msg("\"%s\": %s", line, err);
	memset(out, 'Z', sizeof(out));
	actions_reply(&rep, out, sizeof(out));
	ctl_reply_free(&rep);
	if (!is_safe(out, false))
		fail_msg("\"%s\" is not safe to show", out);
	return out;
}

static void
test_the_reply_to_an_answer(void **state)
{
	assert_string_equal(reply("OK id=7 verdict=allow connections=1 "
	                          "rule=14"),
	                    "allowed (1 connection); rule 14 added");
	/* "once" adds no rule. */
	assert_string_equal(reply("OK id=7 verdict=deny connections=10 rule=0"),
	                    "denied (10 connections); no rule added");
	assert_string_equal(reply("OK id=7 verdict=reject connections=0"),
	                    "rejected (0 connections); no rule added");
	assert_string_equal(reply("OK"), "answered (? connections); no rule "
	                                 "added");
	assert_string_equal(
	    reply("ERR notfound no pending prompt 7 that you may answer"),
	    "answer not taken: notfound no pending prompt 7 that you may "
	    "answer");
	assert_int_equal(
	    strncmp(reply("ERR perm"), "answer not taken: perm", 22), 0);

	/* Nothing in a reply reaches the screen unclean. */
	assert_string_equal(reply("ERR invalid " RLO "evil \\x1b"),
	                    "answer not taken: invalid ?evil \\x1b");
	assert_string_equal(reply("ERR \xc2\x9b[2J \xc2\x9b[2J"),
	                    "answer not taken: ?[2J ?[2J");
	assert_string_equal(
	    reply("OK verdict=allow connections=\"\\x1b[2J\" rule=\"1\\x9b\""),
	    "allowed (?[2J connections); rule 1? added");
}

/* actions_withdrawn() of the WITHDRAW line, in a static buffer. */
static const char *
withdrawn(const char *line)
{
	static char out[256];
	struct ctl_withdraw w;
	char err[CTL_ERRLEN];

	if (ctl_withdraw_parse(line, strlen(line), &w, err, sizeof(err)) != 0)
		fail_msg("\"%s\": %s", line, err);
	actions_withdrawn(&w, out, sizeof(out));
	if (!is_safe(out, false))
		fail_msg("\"%s\" is not safe to show", out);
	return out;
}

static void
test_withdrawn(void **state)
{
	assert_string_equal(
	    withdrawn("WITHDRAW id=7 reason=answered verdict=allow"),
	    "withdrawn, answered elsewhere: allowed");
	assert_string_equal(withdrawn("WITHDRAW id=7 reason=timeout "
	                              "verdict=deny"),
	                    "withdrawn, no answer in time: denied");
	assert_string_equal(withdrawn("WITHDRAW id=7 reason=rule "
	                              "verdict=reject"),
	                    "withdrawn, a rule decided it: rejected");
	assert_string_equal(withdrawn("WITHDRAW id=7 reason=gone"),
	                    "withdrawn, the app gave up");
	assert_string_equal(withdrawn("WITHDRAW id=7 reason=no-agent"),
	                    "withdrawn, no prompt agent left for it");
	/* A reason from a newer daemon is said as it is, made safe. */
	assert_string_equal(withdrawn("WITHDRAW id=7 reason=moved"),
	                    "withdrawn, moved");
	assert_string_equal(withdrawn("WITHDRAW id=7 reason=\"\\x1b[2J\""),
	                    "withdrawn, ?[2J");

	assert_string_equal(actions_verdict_done(ACTION_ALLOW), "allowed");
	assert_string_equal(actions_verdict_done(-1), "decided");
	assert_string_equal(actions_verdict_done(99), "decided");
}

/* The label of *k for p, in a static buffer. */
static const char *
pick_label(const struct ctl_prompt *p, const struct actions_pick *k)
{
	static char buf[ACTIONS_LABEL_MAX];

	actions_pick_label(p, k, buf, sizeof(buf));
	return buf;
}

/* An answer put together part by part: it starts as the default (deny,
 * the name, once), and each part steps through what the prompt offers,
 * in the order shown, round again at the end. */
static void
test_pick_steps(void **state)
{
	struct actions_pick k;
	struct actions_def def;
	struct actions_choice c;
	struct ctl_prompt p;

	curl_prompt(&p);
	p.durations |= 1u << CTL_DUR_HALF_HOUR;
	assert_true(actions_pick_default(&p, &k));
	assert_int_equal(k.verdict, ACTION_DENY);
	assert_int_equal(k.scope, CTL_SCOPE_NAME);
	assert_int_equal(k.duration, CTL_DUR_ONCE);
	assert_true(actions_pick_ok(&p, &k));
	assert_string_equal(pick_label(&p, &k), "Deny once (no rule)");

	actions_pick_verdict(&p, &k);
	assert_int_equal(k.verdict, ACTION_ALLOW);
	actions_pick_verdict(&p, &k);
	assert_int_equal(k.verdict, ACTION_DENY);
	actions_pick_verdict(&p, &k);

	actions_pick_duration(&p, &k);
	assert_string_equal(pick_label(&p, &k),
	                    "Allow for 30 minutes (www.example.com)");
	actions_pick_duration(&p, &k);
	assert_int_equal(k.duration, CTL_DUR_HOUR);
	actions_pick_scope(&p, &k);
	assert_string_equal(pick_label(&p, &k),
	                    "Allow for 1 hour (*.example.com)");
	actions_pick_scope(&p, &k);
	assert_string_equal(pick_label(&p, &k),
	                    "Allow for 1 hour (93.184.216.34)");
	actions_pick_scope(&p, &k);
	actions_pick_duration(&p, &k);
	assert_string_equal(pick_label(&p, &k),
	                    "Allow until tollgated restarts (any address, "
	                    "port 443)");
	actions_pick_scope(&p, &k);
	actions_pick_duration(&p, &k);
	assert_string_equal(pick_label(&p, &k),
	                    "Allow always (this app, anywhere)");
	actions_pick_scope(&p, &k);
	assert_int_equal(k.scope, CTL_SCOPE_NAME);
	actions_pick_duration(&p, &k);
	assert_int_equal(k.duration, CTL_DUR_ONCE);

	/* As a row for agent_answer(): resolved as it is. */
	k.verdict = ACTION_DENY;
	k.scope = CTL_SCOPE_PORT;
	k.duration = CTL_DUR_HOUR;
	actions_pick_def(&k, &def);
	assert_true(actions_resolve(&p, &def, &c));
	assert_int_equal(c.def->verdict, ACTION_DENY);
	assert_int_equal(c.scope, CTL_SCOPE_PORT);
	assert_int_equal(c.duration, CTL_DUR_HOUR);
	assert_int_equal(def.key, '\0');
}

/* What a prompt does not offer is stepped over; a prompt with no name
 * starts on the IP; reject is a verdict only where it is the default. */
static void
test_pick_what_is_offered(void **state)
{
	struct actions_pick k;
	struct ctl_prompt p;

	unknown_prompt(&p);
	assert_true(actions_pick_default(&p, &k));
	assert_int_equal(k.scope, CTL_SCOPE_IP);
	actions_pick_scope(&p, &k);
	assert_int_equal(k.scope, CTL_SCOPE_PORT);
	actions_pick_scope(&p, &k);
	assert_int_equal(k.scope, CTL_SCOPE_IP);
	actions_pick_duration(&p, &k);
	assert_int_equal(k.duration, CTL_DUR_ONCE);
	k.duration = CTL_DUR_FOREVER;
	assert_false(actions_pick_ok(&p, &k));

	/* No 30m in the list (an older tollgated): 1h follows once. */
	curl_prompt(&p);
	assert_true(actions_pick_default(&p, &k));
	actions_pick_duration(&p, &k);
	assert_int_equal(k.duration, CTL_DUR_HOUR);
	/* No domain to name: *.DOMAIN is stepped over. */
	p.domain[0] = '\0';
	actions_pick_scope(&p, &k);
	assert_int_equal(k.scope, CTL_SCOPE_IP);

	p.deflt = ACTION_REJECT;
	assert_true(actions_pick_default(&p, &k));
	assert_int_equal(k.verdict, ACTION_REJECT);
	assert_true(actions_pick_ok(&p, &k));
	actions_pick_verdict(&p, &k);
	assert_int_equal(k.verdict, ACTION_ALLOW);
	actions_pick_verdict(&p, &k);
	actions_pick_verdict(&p, &k);
	assert_int_equal(k.verdict, ACTION_REJECT);
	p.deflt = ACTION_DENY;
	assert_false(actions_pick_ok(&p, &k));
	actions_pick_verdict(&p, &k);
	assert_int_equal(k.verdict, ACTION_ALLOW);

	/* Nothing to answer with. */
	p.durations = 0;
	assert_false(actions_pick_default(&p, &k));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_a_full_prompt_offers_all_six),
	    cmocka_unit_test(test_no_name_is_this_ip),
	    cmocka_unit_test(test_no_domain_no_domain_answer),
	    cmocka_unit_test(test_once_only_for_an_unknown_process),
	    cmocka_unit_test(test_the_default),
	    cmocka_unit_test(test_keys_and_ids),
	    cmocka_unit_test(test_clean_control_bytes),
	    cmocka_unit_test(test_clean_bad_utf8),
	    cmocka_unit_test(test_clean_bidi),
	    cmocka_unit_test(test_clean_every_two_bytes),
	    cmocka_unit_test(test_clean_ascii),
	    cmocka_unit_test(test_clean_into_a_small_buffer),
	    cmocka_unit_test(test_describe_a_prompt),
	    cmocka_unit_test(test_describe_a_hostile_program),
	    cmocka_unit_test(test_describe_the_longest_values),
	    cmocka_unit_test(test_app_and_destination),
	    cmocka_unit_test(test_time_left),
	    cmocka_unit_test(test_the_reply_to_an_answer),
	    cmocka_unit_test(test_withdrawn),
	    cmocka_unit_test(test_bounded_answers),
	    cmocka_unit_test(test_pick_steps),
	    cmocka_unit_test(test_pick_what_is_offered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
