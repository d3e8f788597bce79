/*
 * test_match.c - which rule decides a connection, and why: each step of
 * the precedence with two rules that differ there and only there, what
 * each kind of destination matches, and what never matches.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "rules/match.h"

#define NOW  ((time_t)1795867200)
#define CURL "/usr/bin/curl"
#define WGET "/usr/bin/wget"
/* What attribution gives for an interpreter's process (rules/interp.h);
 * the matcher compares whatever it is given, whichever the app. */
#define SCRIPT  "/home/u/bin/sync.py"
#define CMDLINE "python3 -u /home/u/bin/sync.py --daemon"

/* A rule set being written by a test, and its index once built. */
struct fixture {
	struct rules_set set;
	struct rules_index *idx;
	struct sockaddr_storage ss;
	struct rules_query q;
	struct rules_explain why;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	rules_set_init(&f->set);
	f->q.app = CURL;
	f->q.has_uid = true;
	f->q.uid = 1000;
	f->q.proto = RPROTO_TCP;
	f->q.port = 443;
	f->q.now = NOW;
	f->q.script = SCRIPT;
	f->q.cmdline = CMDLINE;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	rules_index_free(f->idx);
	rules_set_free(&f->set);
	free(f);
	return 0;
}

/*
 * Add a rule from its text form fields, e.g.
 *   add(f, "id=3 app=/usr/bin/curl dest=*.x.org action=allow", NULL)
 * with the names of a list rule NULL-terminated in names.
 */
static void
add(struct fixture *f, const char *fields, const char *const *names)
{
	char line[1024], err[256];
	struct rule *r = malloc(sizeof(*r));
	size_t n = 0;

	assert_non_null(r);
	snprintf(line, sizeof(line), "rule %s", fields);
	if (rule_parse_line(r, line, err, sizeof(err)) == -1)
		fail_msg("%s: %s", line, err);
	while (names != NULL && names[n] != NULL)
		n++;
	assert_int_equal(rules_set_add(&f->set, r, names, n, err, sizeof(err)),
	                 0);
	free(r);
}

static void
build(struct fixture *f)
{
	char err[256];

	rules_index_free(f->idx);
	f->idx = rules_index_build(&f->set, NOW, err, sizeof(err));
	if (f->idx == NULL)
		fail_msg("build: %s", err);
}

static void
set_addr(struct fixture *f, const char *ip)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&f->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&f->ss;

	memset(&f->ss, 0, sizeof(f->ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
	}
	f->q.addr = (struct sockaddr *)&f->ss;
}

/* The id of the rule that decides for name, -1 when none does. */
static long long
decide(struct fixture *f, const char *name)
{
	const struct rules_entry *e;

	f->q.name = name;
	e = rules_match(f->idx, &f->q, &f->why);
	assert_ptr_equal(e, f->why.winner);
	/* The same answer without asking why. */
	assert_ptr_equal(rules_match(f->idx, &f->q, NULL), e);
	return e != NULL ? (long long)e->id : -1;
}

/* Rule `winner` beats rule `loser` at `step`, whichever was added first. */
static void
beats(const char *winner, const char *loser, const char *name,
      enum rules_step step, const char *text)
{
	struct fixture *f;
	int order;

	for (order = 0; order < 2; order++) {
		assert_int_equal(setup((void **)&f), 0);
		if (order == 0) {
			add(f, winner, NULL);
			add(f, loser, NULL);
		} else {
			add(f, loser, NULL);
			add(f, winner, NULL);
		}
		build(f);
		if (decide(f, name) != 1)
			fail_msg("rule 1 (%s) should win over %s: %s", winner,
			         loser, f->why.text);
		assert_int_equal(f->why.step, step);
		assert_non_null(f->why.runner_up);
		assert_int_equal(f->why.runner_up->id, 2);
		assert_int_equal(f->why.n_matches, 2);
		if (text != NULL && strcmp(f->why.text, text) != 0)
			fail_msg("explained as \"%s\", not \"%s\"", f->why.text,
			         text);
		teardown((void **)&f);
	}
}

/* Step 1: priority outranks everything below it. */
static void
test_step1_priority(void **state)
{
	beats("id=1 dest=* action=allow priority=10",
	      "id=2 app=" CURL " uid=1000 dest=x.org port=443 proto=tcp "
	      "action=deny",
	      "x.org", RULES_STEP_PRIORITY,
	      "decided by rule 1 at step 1: higher priority (10 beats 0, rule "
	      "2)");
	beats("id=1 dest=* priority=0", "id=2 dest=x.org priority=-1", "x.org",
	      RULES_STEP_PRIORITY, NULL);
}

static void
test_step2_app_over_any_app(void **state)
{
	beats("id=1 app=" CURL " dest=* action=allow",
	      "id=2 app=* dest=x.org port=443 proto=tcp action=deny", "x.org",
	      RULES_STEP_APP,
	      "decided by rule 1 at step 2: this app over any app (this app "
	      "beats any app, rule 2)");
}

static void
test_step2_app_and_uid_over_app(void **state)
{
	/* The query is uid 1000. */
	beats("id=1 app=" CURL " uid=1000 dest=*",
	      "id=2 app=" CURL " dest=x.org", "x.org", RULES_STEP_APP,
	      "decided by rule 1 at step 2: more specific app (this app and "
	      "uid beats this app, rule 2)");
}

/* Step 2, interpreters: a script or a command line makes the app more
 * specific, whatever the destination below. */
static void
test_step2_script_over_app(void **state)
{
	beats("id=1 app=" CURL " script=" SCRIPT " dest=* action=allow",
	      "id=2 app=" CURL " dest=x.org port=443 proto=tcp action=deny",
	      "x.org", RULES_STEP_APP,
	      "decided by rule 1 at step 2: more specific app (this app and "
	      "script beats this app, rule 2)");
	beats("id=1 app=" CURL " script=" SCRIPT " dest=* action=allow",
	      "id=2 app=" CURL " uid=1000 dest=x.org action=deny", "x.org",
	      RULES_STEP_APP, NULL);
	/* any app stays below this app, with a script or not */
	beats("id=1 app=" CURL " script=" SCRIPT " dest=*",
	      "id=2 app=* uid=1000 dest=x.org", "x.org", RULES_STEP_APP,
	      "decided by rule 1 at step 2: this app over any app (this app "
	      "and script beats any app and uid, rule 2)");
}

static void
test_step2_cmdline_over_app(void **state)
{
	beats("id=1 app=" CURL " cmdline=\"*sync.py*\" dest=* action=deny",
	      "id=2 app=" CURL " dest=x.org action=allow", "x.org",
	      RULES_STEP_APP,
	      "decided by rule 1 at step 2: more specific app (this app and "
	      "cmdline beats this app, rule 2)");
	beats("id=1 app=" CURL " cmdline=* uid=1000 dest=*",
	      "id=2 app=" CURL " cmdline=* dest=x.org", "x.org", RULES_STEP_APP,
	      "decided by rule 1 at step 2: more specific app (this app, "
	      "cmdline and uid beats this app and cmdline, rule 2)");
}

static void
test_step2_script_over_cmdline(void **state)
{
	beats("id=1 app=" CURL " script=" SCRIPT " dest=*",
	      "id=2 app=" CURL " cmdline=* uid=1000 dest=x.org", "x.org",
	      RULES_STEP_APP, NULL);
	beats("id=1 app=" CURL " script=" SCRIPT " cmdline=*daemon dest=*",
	      "id=2 app=" CURL " script=" SCRIPT " uid=1000 dest=x.org",
	      "x.org", RULES_STEP_APP,
	      "decided by rule 1 at step 2: more specific app (this app, "
	      "script and cmdline beats this app, script and uid, rule 2)");
	beats("id=1 app=" CURL " script=" SCRIPT " dest=*",
	      "id=2 app=" CURL " cmdline=* dest=x.org", "x.org", RULES_STEP_APP,
	      NULL);
	/* equal at step 2: the destination decides */
	beats("id=1 app=" CURL " cmdline=*sync* dest=x.org",
	      "id=2 app=" CURL " cmdline=*daemon dest=*", "x.org",
	      RULES_STEP_DEST, NULL);
}

/* What script= and cmdline= match, and that they never match without. */
static void
test_script_and_cmdline_match(void **state)
{
	struct fixture *f = *state;

	add(f, "id=1 app=" CURL " script=" SCRIPT " dest=x.com action=allow",
	    NULL);
	add(f, "id=2 app=" CURL " script=/home/u/bin/other.py dest=*", NULL);
	add(f, "id=3 app=" CURL " cmdline=\"python3 -u /home/*\" dest=*.org",
	    NULL);
	add(f, "id=4 app=" CURL " cmdline=\"* --daemon\" dest=x.net", NULL);
	add(f, "id=5 app=" CURL " cmdline=\"*--once*\" dest=y.net", NULL);
	add(f, "id=6 app=" WGET " script=" SCRIPT " dest=z.net", NULL);
	build(f);
	assert_int_equal(decide(f, "x.com"), 1);
	/* * matches '/' too: the glob is no path pattern */
	assert_int_equal(decide(f, "x.org"), 3);
	assert_int_equal(decide(f, "x.net"), 4);
	assert_int_equal(decide(f, "y.net"), -1);
	assert_int_equal(decide(f, "z.net"), -1); /* another app's */
	/* another script: neither script rule */
	f->q.script = "/home/u/bin/third.py";
	assert_int_equal(decide(f, "x.com"), -1);
	assert_int_equal(decide(f, "x.org"), 3);
	/* no script (python3 -m mod, sh -c) and no command line */
	f->q.script = NULL;
	f->q.cmdline = NULL;
	assert_int_equal(decide(f, "x.com"), -1);
	assert_int_equal(decide(f, "x.org"), -1);
	/* a script is compared whole, byte for byte */
	f->q.script = "/home/u/bin/sync.py/";
	assert_int_equal(decide(f, "x.com"), -1);
	f->q.script = "/home/u/bin/sync.p";
	assert_int_equal(decide(f, "x.com"), -1);
}

/* rules_entry_rule() gives the fields back. */
static void
test_entry_carries_script_and_cmdline(void **state)
{
	struct fixture *f = *state;
	const struct rules_entry *e;
	struct rule r;

	add(f, "id=1 app=" CURL " script=" SCRIPT " cmdline=\"*a b*\" dest=*",
	    NULL);
	build(f);
	e = rules_index_entry(f->idx, 0);
	assert_non_null(e);
	assert_string_equal(e->script, SCRIPT);
	assert_string_equal(e->cmdline, "*a b*");
	rules_entry_rule(e, &r);
	assert_string_equal(r.script, SCRIPT);
	assert_string_equal(r.cmdline, "*a b*");
}

static void
test_step2_any_app_and_uid_over_any_app(void **state)
{
	beats("id=1 app=* uid=1000 dest=*", "id=2 app=* dest=x.org", "x.org",
	      RULES_STEP_APP, NULL);
}

static void
test_step2_app_over_any_app_and_uid(void **state)
{
	beats("id=1 app=" CURL " dest=*", "id=2 app=* uid=1000 dest=x.org",
	      "x.org", RULES_STEP_APP, NULL);
}

static void
test_step3_exact_over_wildcard_of_same_name(void **state)
{
	beats("id=1 dest=example.com action=allow",
	      "id=2 dest=*.example.com action=deny", "example.com",
	      RULES_STEP_DEST,
	      "decided by rule 1 at step 3: more specific destination (exact "
	      "name beats *.example.com, rule 2)");
}

static void
test_step3_longest_wildcard_suffix(void **state)
{
	beats("id=1 dest=*.a.example.com action=allow",
	      "id=2 dest=*.example.com port=443 proto=tcp", "x.a.example.com",
	      RULES_STEP_DEST,
	      "decided by rule 1 at step 3: more specific destination "
	      "(*.a.example.com beats *.example.com, rule 2)");
	/* The apex of the longer wildcard too. */
	beats("id=1 dest=*.a.example.com action=allow",
	      "id=2 dest=*.example.com", "a.example.com", RULES_STEP_DEST,
	      NULL);
}

static void
test_step3_list_entry_ranks_as_wildcard(void **state)
{
	static const char *const ads[] = {"example.com", "a.example.com", NULL};
	struct fixture *f;

	/* The list's longest matching entry counts: a.example.com. */
	assert_int_equal(setup((void **)&f), 0);
	add(f, "id=1 dest=list:ads action=deny", ads);
	add(f, "id=2 dest=*.example.com action=allow port=443 proto=tcp", NULL);
	build(f);
	assert_int_equal(decide(f, "x.a.example.com"), 1);
	assert_int_equal(f->why.step, RULES_STEP_DEST);
	assert_string_equal(
	    f->why.text,
	    "decided by rule 1 at step 3: more specific destination "
	    "(list:ads (a.example.com) beats *.example.com, rule 2)");
	/* Through example.com only, the list ties with the wildcard. */
	assert_int_equal(decide(f, "b.example.com"), 2);
	assert_int_equal(f->why.step, RULES_STEP_PORT);
	/* An exact name beats a list entry of the same name. */
	add(f, "id=3 dest=a.example.com action=allow", NULL);
	build(f);
	assert_int_equal(decide(f, "a.example.com"), 3);
	assert_int_equal(f->why.step, RULES_STEP_DEST);
	assert_int_equal(f->why.runner_up->id, 1);
	teardown((void **)&f);
}

static void
test_step3_name_over_ip_over_cidr_over_any(void **state)
{
	struct fixture *f;

	assert_int_equal(setup((void **)&f), 0);
	add(f, "id=1 dest=* action=allow", NULL);
	add(f, "id=2 dest=192.0.2.0/24 action=allow", NULL);
	add(f, "id=3 dest=192.0.2.0/28", NULL);
	add(f, "id=4 dest=192.0.2.7 action=allow", NULL);
	add(f, "id=5 dest=*.com", NULL);
	add(f, "id=6 dest=www.example.com action=allow", NULL);
	build(f);
	set_addr(f, "192.0.2.7");
	assert_int_equal(decide(f, "www.example.com"), 6);
	assert_int_equal(f->why.step, RULES_STEP_DEST);
	assert_int_equal(f->why.runner_up->id, 5);
	assert_int_equal(f->why.n_matches, 6);
	assert_int_equal(decide(f, "www.example.org"), 4);
	assert_string_equal(
	    f->why.text,
	    "decided by rule 4 at step 3: more specific destination (IP "
	    "192.0.2.7 beats 192.0.2.0/28, rule 3)");
	set_addr(f, "192.0.2.8");
	assert_int_equal(decide(f, "www.example.org"), 3);
	assert_int_equal(f->why.runner_up->id, 2);
	set_addr(f, "192.0.2.200");
	assert_int_equal(decide(f, "www.example.org"), 2);
	assert_string_equal(
	    f->why.text,
	    "decided by rule 2 at step 3: more specific destination "
	    "(192.0.2.0/24 beats any destination, rule 1)");
	set_addr(f, "198.51.100.1");
	assert_int_equal(decide(f, "www.example.org"), 1);
	assert_int_equal(f->why.step, RULES_STEP_ONLY);
	assert_string_equal(f->why.text,
	                    "decided by rule 1: the only matching rule");
	teardown((void **)&f);
}

static void
test_step3_narrowest_cidr_v4_and_v6(void **state)
{
	struct fixture *f;

	assert_int_equal(setup((void **)&f), 0);
	add(f, "id=1 dest=10.0.0.0/8", NULL);
	add(f, "id=2 dest=10.1.0.0/16", NULL);
	add(f, "id=3 dest=10.1.2.0/23", NULL);
	add(f, "id=4 dest=2001:db8::/32", NULL);
	add(f, "id=5 dest=2001:db8:1::/48", NULL);
	add(f, "id=6 dest=2001:db8:1:2::/64", NULL);
	add(f, "id=7 dest=0.0.0.0/0", NULL);
	build(f);
	set_addr(f, "10.1.3.4");
	assert_int_equal(decide(f, NULL), 3);
	assert_int_equal(f->why.step, RULES_STEP_DEST);
	assert_int_equal(f->why.runner_up->id, 2);
	set_addr(f, "10.1.4.4");
	assert_int_equal(decide(f, NULL), 2);
	set_addr(f, "10.2.0.1");
	assert_int_equal(decide(f, NULL), 1);
	set_addr(f, "11.0.0.1");
	assert_int_equal(decide(f, NULL), 7);
	set_addr(f, "2001:db8:1:2::99");
	assert_int_equal(decide(f, NULL), 6);
	assert_int_equal(f->why.runner_up->id, 5);
	set_addr(f, "2001:db8:1:3::99");
	assert_int_equal(decide(f, NULL), 5);
	set_addr(f, "2001:db8:2::1");
	assert_int_equal(decide(f, NULL), 4);
	set_addr(f, "2001:db9::1");
	assert_int_equal(decide(f, NULL), -1);
	/* An IPv4-mapped IPv6 address is IPv4. */
	set_addr(f, "::ffff:10.1.3.4");
	assert_int_equal(decide(f, NULL), 3);
	teardown((void **)&f);
}

static void
test_step4_port(void **state)
{
	beats(
	    "id=1 dest=x.org port=443", "id=2 dest=x.org port=400-500", "x.org",
	    RULES_STEP_PORT,
	    "decided by rule 1 at step 4: narrower port (port 443 beats ports "
	    "400-500, rule 2)");
	beats("id=1 dest=x.org port=440-450 action=allow",
	      "id=2 dest=x.org port=1-1024", "x.org", RULES_STEP_PORT, NULL);
	beats("id=1 dest=x.org port=1-65535 action=allow",
	      "id=2 dest=x.org port=any proto=tcp", "x.org", RULES_STEP_PORT,
	      NULL);
}

static void
test_step5_proto(void **state)
{
	beats("id=1 dest=x.org proto=tcp action=allow",
	      "id=2 dest=x.org proto=any", "x.org", RULES_STEP_PROTO,
	      "decided by rule 1 at step 5: specific protocol (tcp beats any, "
	      "rule 2)");
}

/* A pinned rule matches only a process whose file has its digest. */
static void
test_pinned_digest(void **state)
{
	struct fixture *f = *state;
	uint8_t abc[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
	                   0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
	                   0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
	                   0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
	uint8_t other[32];
	struct rule back;

	add(f,
	    "id=1 app=" CURL " dest=x.org action=allow "
	    "digest="
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	    NULL);
	add(f, "id=2 app=* dest=x.org action=deny", NULL);
	build(f);
	f->q.digest = abc;
	assert_int_equal(decide(f, "x.org"), 1);
	memcpy(other, abc, sizeof(other));
	other[31] ^= 1;
	f->q.digest = other;
	assert_int_equal(decide(f, "x.org"), 2);
	f->q.digest = NULL;
	assert_int_equal(decide(f, "x.org"), 2);
	/* Back to the full rule, pin and all. */
	rules_entry_rule(rules_index_entry(f->idx, 0), &back);
	assert_string_equal(
	    back.digest,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void
test_step6_deny_beats_allow(void **state)
{
	beats(
	    "id=1 dest=x.org action=deny", "id=2 dest=x.org action=allow",
	    "x.org", RULES_STEP_ACTION,
	    "decided by rule 1 at step 6: blocking action at equal rank (deny "
	    "beats allow, rule 2)");
}

static void
test_step6_deny_beats_reject_beats_allow(void **state)
{
	struct fixture *f;

	assert_int_equal(setup((void **)&f), 0);
	add(f, "id=1 dest=x.org action=allow", NULL);
	add(f, "id=2 dest=x.org action=reject", NULL);
	build(f);
	assert_int_equal(decide(f, "x.org"), 2);
	assert_string_equal(
	    f->why.text,
	    "decided by rule 2 at step 6: blocking action at equal rank "
	    "(reject beats allow, rule 1)");
	add(f, "id=3 dest=x.org action=deny", NULL);
	build(f);
	assert_int_equal(decide(f, "x.org"), 3);
	assert_int_equal(f->why.step, RULES_STEP_ACTION);
	assert_int_equal(f->why.runner_up->id, 2);
	teardown((void **)&f);
}

static void
test_step7_older_rule(void **state)
{
	beats("id=1 dest=x.org action=allow", "id=2 dest=x.org action=allow",
	      "x.org", RULES_STEP_ID,
	      "decided by rule 1 at step 7: older rule (id 1 beats id 2, rule "
	      "2)");
}

static void
test_step7_unsaved_rules_last_then_set_order(void **state)
{
	struct fixture *f;

	assert_int_equal(setup((void **)&f), 0);
	add(f, "id=0 dest=x.org note=first", NULL);
	add(f, "id=0 dest=x.org note=second", NULL);
	build(f);
	decide(f, "x.org");
	assert_string_equal(f->why.winner->note, "first");
	assert_int_equal(f->why.step, RULES_STEP_ID);
	add(f, "id=9 dest=x.org", NULL);
	build(f);
	assert_int_equal(decide(f, "x.org"), 9);
	assert_int_equal(f->why.step, RULES_STEP_ID);
	teardown((void **)&f);
}

static void
test_wildcard_matches_apex_and_below_only(void **state)
{
	struct fixture *f;

	assert_int_equal(setup((void **)&f), 0);
	add(f, "id=1 dest=*.b.test", NULL);
	build(f);
	assert_int_equal(decide(f, "b.test"), 1);
	assert_int_equal(decide(f, "x.b.test"), 1);
	assert_int_equal(decide(f, "y.x.b.test"), 1);
	assert_int_equal(decide(f, "xb.test"), -1);
	assert_int_equal(decide(f, "test"), -1);
	assert_int_equal(decide(f, "b.test.org"), -1);
	assert_int_equal(f->why.step, RULES_STEP_NONE);
	assert_string_equal(f->why.text, "no rule matches");
	assert_null(f->why.winner);
	teardown((void **)&f);
}

static void
test_exact_name_matches_that_name_only(void **state)
{
	struct fixture *f;

	assert_int_equal(setup((void **)&f), 0);
	add(f, "id=1 dest=b.test", NULL);
	build(f);
	assert_int_equal(decide(f, "b.test"), 1);
	assert_int_equal(decide(f, "x.b.test"), -1);
	assert_int_equal(decide(f, "xb.test"), -1);
	teardown((void **)&f);
}

static void
test_port_ranges(void **state)
{
	struct fixture *f;

	assert_int_equal(setup((void **)&f), 0);
	add(f, "id=1 dest=* port=1000-2000", NULL);
	build(f);
	f->q.port = 999;
	assert_int_equal(decide(f, "x.org"), -1);
	f->q.port = 1000;
	assert_int_equal(decide(f, "x.org"), 1);
	f->q.port = 2000;
	assert_int_equal(decide(f, "x.org"), 1);
	f->q.port = 2001;
	assert_int_equal(decide(f, "x.org"), -1);
	f->q.port = 0; /* unknown: only any-port rules */
	assert_int_equal(decide(f, "x.org"), -1);
	teardown((void **)&f);
}

static void
test_proto(void **state)
{
	struct fixture *f;

	assert_int_equal(setup((void **)&f), 0);
	add(f, "id=1 dest=* proto=udp", NULL);
	add(f, "id=2 dest=* proto=dns", NULL);
	build(f);
	f->q.proto = RPROTO_TCP;
	assert_int_equal(decide(f, "x.org"), -1);
	f->q.proto = RPROTO_UDP;
	assert_int_equal(decide(f, "x.org"), 1);
	f->q.proto = RPROTO_DNS;
	assert_int_equal(decide(f, "x.org"), 2);
	assert_int_equal(f->why.step, RULES_STEP_ONLY);
	teardown((void **)&f);
}

static void
test_uid(void **state)
{
	struct fixture *f;

	assert_int_equal(setup((void **)&f), 0);
	add(f, "id=1 dest=* uid=1000", NULL);
	build(f);
	f->q.has_uid = true;
	f->q.uid = 1000;
	assert_int_equal(decide(f, "x.org"), 1);
	f->q.uid = 1001;
	assert_int_equal(decide(f, "x.org"), -1);
	f->q.has_uid = false;
	f->q.uid = 1000;
	assert_int_equal(decide(f, "x.org"), -1);
	teardown((void **)&f);
}

static void
test_disabled_and_expired_never_match(void **state)
{
	struct fixture *f;

	assert_int_equal(setup((void **)&f), 0);
	add(f, "id=1 dest=x.org enabled=no action=allow", NULL);
	add(f, "id=2 dest=x.org duration=until:2026-11-28T11:59:59Z", NULL);
	add(f, "id=3 dest=x.org duration=until:2026-11-28T12:00:00Z", NULL);
	add(f, "id=4 dest=x.org duration=until:2026-11-28T13:00:00Z", NULL);
	build(f);
	/* Left out of the index: 1 (disabled), 2 and 3 (expired at NOW). */
	assert_int_equal(rules_index_count(f->idx), 1);
	assert_int_equal(decide(f, "x.org"), 4);
	f->q.now = NOW + 3600 - 1;
	assert_int_equal(decide(f, "x.org"), 4);
	/* Expiring after the build: gone at its time. */
	f->q.now = NOW + 3600;
	assert_int_equal(decide(f, "x.org"), -1);
	teardown((void **)&f);
}

static void
test_unknown_app_matches_any_app_rules_only(void **state)
{
	struct fixture *f;

	assert_int_equal(setup((void **)&f), 0);
	add(f, "id=1 app=" CURL " dest=* action=allow", NULL);
	add(f, "id=2 app=" CURL " dest=x.org action=allow", NULL);
	add(f, "id=3 app=" CURL " dest=10.0.0.0/8 action=allow", NULL);
	add(f, "id=4 app=* dest=*.org", NULL);
	build(f);
	set_addr(f, "10.0.0.1");
	assert_int_equal(decide(f, "x.org"), 2);
	f->q.app = NULL;
	assert_int_equal(decide(f, "x.org"), 4);
	assert_int_equal(f->why.step, RULES_STEP_ONLY);
	/* Nor is "*" an app of its own. */
	f->q.app = "*";
	assert_int_equal(decide(f, "x.org"), 4);
	f->q.app = WGET;
	assert_int_equal(decide(f, "x.org"), 4);
	assert_int_equal(decide(f, "x.com"), -1);
	teardown((void **)&f);
}

static void
test_no_name_matches_ip_cidr_and_any_only(void **state)
{
	static const char *const list[] = {"x.org", NULL};
	struct fixture *f;

	assert_int_equal(setup((void **)&f), 0);
	add(f, "id=1 dest=x.org", NULL);
	add(f, "id=2 dest=*.org", NULL);
	add(f, "id=3 dest=list:l", list);
	add(f, "id=4 dest=192.0.2.1", NULL);
	build(f);
	set_addr(f, "192.0.2.1");
	assert_int_equal(decide(f, NULL), 4);
	assert_int_equal(f->why.n_matches, 1);
	add(f, "id=5 dest=192.0.2.0/24", NULL);
	add(f, "id=6 dest=*", NULL);
	build(f);
	assert_int_equal(decide(f, NULL), 4);
	assert_int_equal(f->why.n_matches, 3);
	/* No address either: only any. */
	f->q.addr = NULL;
	assert_int_equal(decide(f, NULL), 6);
	teardown((void **)&f);
}

static void
test_lists(void **state)
{
	static const char *const ads[] = {"ads.test", "track.example",
	                                  "ads.test", NULL};
	struct fixture *f;

	assert_int_equal(setup((void **)&f), 0);
	add(f, "id=1 dest=list:ads", ads);
	add(f, "id=2 dest=list:empty", NULL);
	build(f);
	assert_int_equal(decide(f, "ads.test"), 1);
	/* A duplicate name is one match. */
	assert_int_equal(f->why.n_matches, 1);
	assert_int_equal(decide(f, "x.track.example"), 1);
	assert_int_equal(decide(f, "example"), -1);
	assert_int_equal(decide(f, "empty"), -1);
	teardown((void **)&f);
}

/*
 * Names longer than a node keeps in place match through the rest of the
 * name kept aside.  (That the bytes are compared at all, not only the
 * hash, shows only on a hash collision, which a test cannot make.)
 */
static void
test_long_names_compare_every_byte(void **state)
{
	struct fixture *f = *state;

	add(f, "id=1 dest=*.a-rather-long-label-for-a-name.example.com", NULL);
	add(f, "id=2 dest=www.a-rather-long-label-for-a-name.example.org",
	    NULL);
	build(f);
	assert_int_equal(decide(f, "x.a-rather-long-label-for-a-name.example."
	                           "com"),
	                 1);
	assert_int_equal(
	    decide(f, "x.a-rather-long-label-for-a-name.examplx.com"), -1);
	assert_int_equal(decide(f, "www.a-rather-long-label-for-a-name.example."
	                           "org"),
	                 2);
	assert_int_equal(
	    decide(f, "www.a-rather-long-label-for-a-name.exampl.org"), -1);
	assert_int_equal(
	    decide(f, "www.a-rather-long-label-for-a-name.example.orh"), -1);
}

/* Several rules on one (app, name), from wildcards and lists. */
static void
test_rules_sharing_a_name(void **state)
{
	static const char *const l1[] = {"x.org", "y.org", "x.org", NULL};
	static const char *const l2[] = {"x.org", NULL};
	struct fixture *f = *state;

	add(f, "id=1 dest=*.x.org port=80", NULL);
	add(f, "id=2 dest=list:one port=443", l1);
	add(f, "id=3 dest=list:two port=443 proto=udp", l2);
	add(f, "id=4 dest=x.org port=22", NULL);
	add(f, "id=5 dest=x.org port=443 proto=udp", NULL);
	build(f);
	assert_int_equal(decide(f, "a.x.org"), 2);
	assert_int_equal(f->why.n_matches, 1);
	f->q.port = 80;
	assert_int_equal(decide(f, "a.x.org"), 1);
	f->q.port = 443;
	f->q.proto = RPROTO_UDP;
	assert_int_equal(decide(f, "a.x.org"), 3);
	assert_int_equal(decide(f, "x.org"), 5);
	assert_int_equal(f->why.runner_up->id, 3);
	f->q.port = 22;
	assert_int_equal(decide(f, "x.org"), 4);
	assert_int_equal(decide(f, "y.x.org"), -1);
}

static void
test_slots_and_entries(void **state)
{
	struct fixture *f;
	const struct rules_entry *e;
	struct rule *back = malloc(sizeof(*back)), *orig;
	size_t i;

	assert_non_null(back);
	assert_int_equal(setup((void **)&f), 0);
	add(f, "id=5 dest=x.org enabled=no", NULL);
	add(f,
	    "id=6 app=" CURL " uid=7 dest=*.x.org port=1-9 proto=udp "
	    "action=reject duration=until:2027-01-01T00:00:00Z priority=3 "
	    "created=2026-01-01T00:00:00Z updated=2026-02-01T00:00:00Z "
	    "hits=12 last_hit=2026-03-01T00:00:00Z note=\"a note\"",
	    NULL);
	add(f, "id=7 dest=2001:db8::/32", NULL);
	build(f);
	assert_int_equal(rules_index_count(f->idx), 2);
	for (i = 0; i < rules_index_count(f->idx); i++) {
		e = rules_index_entry(f->idx, i);
		assert_non_null(e);
		assert_int_equal(e->slot, i);
	}
	assert_null(rules_index_entry(f->idx, 2));
	assert_int_equal(rules_index_entry(f->idx, 0)->id, 6);
	assert_int_equal(rules_index_entry(f->idx, 1)->id, 7);
	/* The full rule back from the index. */
	orig = &f->set.rules[1];
	rules_entry_rule(rules_index_entry(f->idx, 0), back);
	assert_true(rule_equal(orig, back));
	orig = &f->set.rules[2];
	rules_entry_rule(rules_index_entry(f->idx, 1), back);
	assert_true(rule_equal(orig, back));
	assert_true(rules_index_memory(f->idx) > 0);
	free(back);
	teardown((void **)&f);
}

/* The route of the deciding rule reaches whoever connects onward. */
static void
test_entry_carries_the_route(void **state)
{
	struct fixture *f = *state;
	struct rule *back = malloc(sizeof(*back));

	assert_non_null(back);
	add(f, "id=1 dest=mail.example.org action=allow via=mail", NULL);
	add(f, "id=2 dest=*.example.org action=allow via=direct", NULL);
	add(f, "id=3 dest=*.example.org port=443 action=allow", NULL);
	build(f);
	assert_int_equal(decide(f, "mail.example.org"), 1);
	assert_string_equal(f->why.winner->via, "mail");
	rules_entry_rule(f->why.winner, back);
	assert_true(rule_equal(&f->set.rules[0], back));
	assert_int_equal(decide(f, "www.example.org"), 3);
	assert_string_equal(f->why.winner->via, "");
	f->q.port = 80;
	assert_int_equal(decide(f, "www.example.org"), 2);
	assert_string_equal(f->why.winner->via, "direct");
	free(back);
}

static void
test_bad_sets_are_refused(void **state)
{
	struct fixture *f;
	struct rule *r = malloc(sizeof(*r));
	const char *names[] = {"x.org"};
	char err[256];

	assert_non_null(r);
	assert_int_equal(setup((void **)&f), 0);
	rule_init(r);
	r->id = 3;
	assert_int_equal(rules_set_add(&f->set, r, names, 1, err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "rule 3: names given"));
	assert_int_equal(f->set.n_rules, 0);
	assert_int_equal(
	    rules_set_reserve(&f->set, RULES_INDEX_MAX + 1u, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "more than"));
	r->dest_kind = DEST_CIDR;
	r->family = AF_INET;
	r->prefix = 33;
	assert_int_equal(rules_set_add(&f->set, r, NULL, 0, err, sizeof(err)),
	                 0);
	assert_null(rules_index_build(&f->set, NOW, err, sizeof(err)));
	assert_non_null(strstr(err, "rule 3: bad address family or prefix"));
	free(r);
	teardown((void **)&f);
}

static void
test_empty_index(void **state)
{
	struct fixture *f = *state;

	build(f);
	assert_int_equal(rules_index_count(f->idx), 0);
	set_addr(f, "192.0.2.1");
	assert_int_equal(decide(f, "x.org"), -1);
	assert_int_equal(f->why.n_matches, 0);
}

/* Many rules: each name finds its own rule, whatever else is there. */
static void
test_many_rules(void **state)
{
	struct fixture *f = *state;
	char fields[256], name[64], err[256];
	const struct rule *room;
	int i;

	/* Room made at once: the rules are never moved as they come. */
	assert_int_equal(rules_set_reserve(&f->set, 5000, err, sizeof(err)), 0);
	room = f->set.rules;
	assert_non_null(room);
	for (i = 1; i <= 5000; i++) {
		snprintf(fields, sizeof(fields),
		         "id=%d app=/bin/app%d dest=%s%d.test", i, i % 7,
		         i % 2 ? "*.d" : "d", i);
		add(f, fields, NULL);
	}
	assert_ptr_equal(f->set.rules, room);
	build(f);
	for (i = 1; i <= 5000; i++) {
		snprintf(name, sizeof(name), "%sd%d.test", i % 2 ? "w." : "",
		         i);
		snprintf(fields, sizeof(fields), "/bin/app%d", i % 7);
		f->q.app = fields;
		assert_int_equal(decide(f, name), i);
		f->q.app = "/bin/app7";
		assert_int_equal(decide(f, name), -1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_step1_priority),
	    cmocka_unit_test(test_step2_app_over_any_app),
	    cmocka_unit_test(test_step2_app_and_uid_over_app),
	    cmocka_unit_test(test_step2_any_app_and_uid_over_any_app),
	    cmocka_unit_test(test_step2_app_over_any_app_and_uid),
	    cmocka_unit_test(test_step3_exact_over_wildcard_of_same_name),
	    cmocka_unit_test(test_step3_longest_wildcard_suffix),
	    cmocka_unit_test(test_step3_list_entry_ranks_as_wildcard),
	    cmocka_unit_test(test_step3_name_over_ip_over_cidr_over_any),
	    cmocka_unit_test(test_step3_narrowest_cidr_v4_and_v6),
	    cmocka_unit_test(test_step4_port),
	    cmocka_unit_test(test_step5_proto),
	    cmocka_unit_test(test_step6_deny_beats_allow),
	    cmocka_unit_test(test_step6_deny_beats_reject_beats_allow),
	    cmocka_unit_test(test_step7_older_rule),
	    cmocka_unit_test(test_step7_unsaved_rules_last_then_set_order),
	    cmocka_unit_test(test_wildcard_matches_apex_and_below_only),
	    cmocka_unit_test(test_exact_name_matches_that_name_only),
	    cmocka_unit_test(test_port_ranges),
	    cmocka_unit_test(test_proto),
	    cmocka_unit_test(test_uid),
	    cmocka_unit_test(test_disabled_and_expired_never_match),
	    cmocka_unit_test(test_unknown_app_matches_any_app_rules_only),
	    cmocka_unit_test(test_no_name_matches_ip_cidr_and_any_only),
	    cmocka_unit_test(test_lists),
	    cmocka_unit_test_setup_teardown(test_long_names_compare_every_byte,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rules_sharing_a_name, setup,
	                                    teardown),
	    cmocka_unit_test(test_slots_and_entries),
	    cmocka_unit_test(test_bad_sets_are_refused),
	    cmocka_unit_test_setup_teardown(test_empty_index, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_entry_carries_the_route, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_many_rules, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pinned_digest, setup,
	                                    teardown),
	    cmocka_unit_test(test_step2_script_over_app),
	    cmocka_unit_test(test_step2_cmdline_over_app),
	    cmocka_unit_test(test_step2_script_over_cmdline),
	    cmocka_unit_test_setup_teardown(test_script_and_cmdline_match,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_entry_carries_script_and_cmdline, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
