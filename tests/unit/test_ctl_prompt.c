/*
 * test_ctl_prompt.c - the prompt half of the control protocol
 * (common/ctl.h, docs/control.md "Prompts"): a prompt written by the
 * daemon reads back the same in an agent and in "tollgate prompts", a
 * WITHDRAW line is read or refused, an ANSWER request is parsed or
 * refused with a usage line, the lines after "OK count=N" are read
 * one at a time, and a DENIED line reads back the same or is refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/ctl.h"
#include "common/ctl_client.h"
#include "common/ctl_prompt.h"

/* The prompt of docs/control.md, as tollgated would fill it. */
static void
curl_prompt(struct ctl_prompt *p)
{
	memset(p, 0, sizeof(*p));
	p->id = 7;
	p->uid = 1000;
	snprintf(p->user, sizeof(p->user), "alice");
	p->pid = 4242;
	snprintf(p->app, sizeof(p->app), "/usr/bin/curl");
	snprintf(p->cmdline, sizeof(p->cmdline), "curl https://example.com/");
	snprintf(p->name, sizeof(p->name), "www.example.com");
	snprintf(p->source, sizeof(p->source), "sni");
	snprintf(p->dst, sizeof(p->dst), "93.184.216.34");
	p->port = 443;
	snprintf(p->proto, sizeof(p->proto), "tcp");
	p->created = 1764340000;
	p->expires = 1764340099;
	p->connections = 1;
	p->deflt = ACTION_DENY;
	snprintf(p->domain, sizeof(p->domain), "example.com");
	p->scopes = 1u << CTL_SCOPE_NAME | 1u << CTL_SCOPE_DOMAIN |
	            1u << CTL_SCOPE_APP | 1u << CTL_SCOPE_IP |
	            1u << CTL_SCOPE_PORT;
	p->durations = 1u << CTL_DUR_ONCE | 1u << CTL_DUR_RESTART |
	               1u << CTL_DUR_HOUR | 1u << CTL_DUR_FOREVER |
	               1u << CTL_DUR_HALF_HOUR;
}

/* "PROMPT ..." of p, without its "\n", in buf. */
static size_t
put(const struct ctl_prompt *p, char *buf, size_t cap)
{
	struct ctl_line l;

	ctl_line_init(&l, buf, cap);
	ctl_put_word(&l, "PROMPT");
	ctl_prompt_put(&l, p);
	assert_false(l.over);
	return l.len;
}

static void
assert_prompt_equal(const struct ctl_prompt *a, const struct ctl_prompt *b)
{
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->uid, b->uid);
	assert_string_equal(a->user, b->user);
	assert_int_equal(a->pid, b->pid);
	assert_string_equal(a->app, b->app);
	assert_string_equal(a->cmdline, b->cmdline);
	assert_string_equal(a->name, b->name);
	assert_string_equal(a->source, b->source);
	assert_string_equal(a->dst, b->dst);
	assert_int_equal(a->port, b->port);
	assert_string_equal(a->proto, b->proto);
	assert_int_equal(a->created, b->created);
	assert_int_equal(a->expires, b->expires);
	assert_int_equal(a->connections, b->connections);
	assert_int_equal(a->deflt, b->deflt);
	assert_string_equal(a->domain, b->domain);
	assert_int_equal(a->scopes, b->scopes);
	assert_int_equal(a->durations, b->durations);
}

static int
parse(const char *line, struct ctl_prompt *p, char *err, size_t errlen)
{
	return ctl_prompt_parse(line, strlen(line), p, err, errlen);
}

static void
test_prompt_round_trip(void **state)
{
	struct ctl_prompt p, q;
	char buf[CTL_LINE_MAX + 2], err[CTL_ERRLEN];
	size_t len;

	/* The example of docs/control.md, word for word. */
	curl_prompt(&p);
	len = put(&p, buf, sizeof(buf));
	assert_string_equal(
	    buf, "PROMPT id=7 uid=1000 user=alice pid=4242 app=/usr/bin/curl "
	         "cmdline=\"curl https://example.com/\" name=www.example.com "
	         "source=sni dst=93.184.216.34 port=443 proto=tcp "
	         "created=1764340000 expires=1764340099 connections=1 "
	         "default=deny domain=example.com "
	         "scopes=name,domain,app,ip,port "
	         "durations=once,30m,1h,restart,forever");
	assert_int_equal(ctl_prompt_parse(buf, len, &q, err, sizeof(err)), 0);
	assert_prompt_equal(&p, &q);

	/* Values a program chooses need quoting, and come back the same. */
	snprintf(p.app, sizeof(p.app), "/home/alice/my \"app\"\\x=1");
	snprintf(p.cmdline, sizeof(p.cmdline),
	         "sh -c 'printf \"\\033[2J\"'\t\x01 caf\xc3\xa9 \xff");
	snprintf(p.user, sizeof(p.user), "name with space");
	p.id = UINT64_MAX;
	p.uid = 4294967294u;
	p.pid = 2147483647;
	p.port = 65535;
	p.connections = 64;
	p.deflt = ACTION_REJECT;
	len = put(&p, buf, sizeof(buf));
	assert_null(strchr(buf, '\n'));
	assert_null(strchr(buf, '\x01'));
	assert_int_equal(ctl_prompt_parse(buf, len, &q, err, sizeof(err)), 0);
	assert_prompt_equal(&p, &q);

	/* An unknown process, no name: "-" on the wire, "" again here. */
	curl_prompt(&p);
	p.pid = 0;
	p.app[0] = p.cmdline[0] = p.name[0] = p.domain[0] = '\0';
	snprintf(p.source, sizeof(p.source), "none");
	snprintf(p.dst, sizeof(p.dst), "2001:db8::2");
	p.scopes = 1u << CTL_SCOPE_IP | 1u << CTL_SCOPE_PORT;
	p.durations = 1u << CTL_DUR_ONCE;
	len = put(&p, buf, sizeof(buf));
	assert_non_null(strstr(buf, " app=- cmdline=- name=- "));
	assert_non_null(strstr(buf, " domain=- scopes=ip,port durations=once"));
	assert_int_equal(ctl_prompt_parse(buf, len, &q, err, sizeof(err)), 0);
	assert_prompt_equal(&p, &q);

	/* The longest app and command line, every byte escaped, still fit
	 * one line. */
	curl_prompt(&p);
	memset(p.app, '\x02', sizeof(p.app) - 1);
	p.app[sizeof(p.app) - 1] = '\0';
	memset(p.cmdline, '"', sizeof(p.cmdline) - 1);
	p.cmdline[sizeof(p.cmdline) - 1] = '\0';
	len = put(&p, buf, sizeof(buf));
	assert_true(len <= CTL_LINE_MAX);
	assert_int_equal(ctl_prompt_parse(buf, len, &q, err, sizeof(err)), 0);
	assert_prompt_equal(&p, &q);
}

static void
test_prompt_lines_read(void **state)
{
	struct ctl_prompt p;
	char err[CTL_ERRLEN];

	/* A newer daemon may say more: unknown words are skipped, and a
	 * "\r" before the end is dropped. */
	assert_int_equal(parse("PROMPT id=3 uid=0 dst=192.0.2.2 port=80 "
	                       "scopes=ip durations=once colour=blue "
	                       "extra words=\"a b\"\r",
	                       &p, err, sizeof(err)),
	                 0);
	assert_int_equal(p.id, 3);
	assert_int_equal(p.uid, 0);
	assert_string_equal(p.dst, "192.0.2.2");
	assert_int_equal(p.port, 80);
	assert_int_equal(p.scopes, 1u << CTL_SCOPE_IP);
	assert_int_equal(p.durations, 1u << CTL_DUR_ONCE);
	/* What the line does not say is empty, or -1 for the default. */
	assert_string_equal(p.app, "");
	assert_string_equal(p.name, "");
	assert_int_equal(p.pid, 0);
	assert_int_equal(p.deflt, -1);

	/* Nothing offered is a set of none. */
	assert_int_equal(parse("PROMPT id=3 uid=0 dst=192.0.2.2 port=80 "
	                       "scopes=- durations=-",
	                       &p, err, sizeof(err)),
	                 0);
	assert_int_equal(p.scopes, 0);
	assert_int_equal(p.durations, 0);
}

static void
test_bad_prompt_lines(void **state)
{
	static const struct {
		const char *line;
		const char *says;
	} bad[] = {
	    {"", "not a PROMPT line"},
	    {"WITHDRAW id=7 reason=gone", "not a PROMPT line"},
	    {"prompt id=7 uid=1 dst=a port=1 scopes=ip durations=once",
	     "not a PROMPT line"},
	    {"id=7 uid=1 dst=a port=1 scopes=ip durations=once",
	     "not a PROMPT line"},
	    {"PROMPT", "without id"},
	    {"PROMPT uid=1 dst=a port=1 scopes=ip durations=once", "without"},
	    {"PROMPT id=7 dst=a port=1 scopes=ip durations=once", "without"},
	    {"PROMPT id=7 uid=1 port=1 scopes=ip durations=once", "without"},
	    {"PROMPT id=7 uid=1 dst=a scopes=ip durations=once", "without"},
	    {"PROMPT id=7 uid=1 dst=a port=1 durations=once", "without"},
	    {"PROMPT id=7 uid=1 dst=a port=1 scopes=ip", "without"},
	    {"PROMPT id=0 uid=1 dst=a port=1 scopes=ip durations=once",
	     "bad id=0"},
	    {"PROMPT id=-7 uid=1 dst=a port=1 scopes=ip durations=once",
	     "bad id"},
	    {"PROMPT id=18446744073709551616 uid=1 dst=a port=1 scopes=ip "
	     "durations=once",
	     "bad id"},
	    {"PROMPT id=7 uid=alice dst=a port=1 scopes=ip durations=once",
	     "bad uid"},
	    {"PROMPT id=7 uid=4294967295 dst=a port=1 scopes=ip "
	     "durations=once",
	     "bad uid"},
	    {"PROMPT id=7 uid=1 dst=a port=65536 scopes=ip durations=once",
	     "bad port"},
	    {"PROMPT id=7 uid=1 dst=a port=1 scopes=ip,everywhere "
	     "durations=once",
	     "bad scopes"},
	    {"PROMPT id=7 uid=1 dst=a port=1 scopes=ip durations=2h",
	     "bad durations"},
	    {"PROMPT id=7 uid=1 dst=a port=1 scopes=ip durations=once "
	     "default=maybe",
	     "bad default"},
	    {"PROMPT id=7 uid=1 dst=a port=1 scopes=ip durations=once "
	     "source=carrier-pigeon",
	     "bad source"},
	    {"PROMPT id=7 uid=1 dst=a port=1 scopes=ip durations=once "
	     "created=yesterday",
	     "bad created"},
	    {"PROMPT id=7 uid=1 dst=a port=1 scopes=ip durations=once "
	     "cmdline=\"open",
	     "not closed"},
	    {"PROMPT id=7 uid=1 dst=a port=1 scopes=ip durations=once\x01",
	     "control byte"},
	};
	struct ctl_prompt p;
	char err[CTL_ERRLEN];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (parse(bad[i].line, &p, err, sizeof(err)) != -1)
			fail_msg("\"%s\" was read as a prompt", bad[i].line);
		if (strstr(err, bad[i].says) == NULL)
			fail_msg("\"%s\": \"%s\" does not say \"%s\"",
			         bad[i].line, err, bad[i].says);
	}
}

static void
test_prompt_string_limits(void **state)
{
	char *line, err[CTL_ERRLEN];
	struct ctl_prompt p;
	size_t off;

	/* A name one byte over its buffer is refused, not cut. */
	line = malloc(CTL_LINE_MAX);
	assert_non_null(line);
	off = (size_t)snprintf(line, CTL_LINE_MAX,
	                       "PROMPT id=1 uid=1 dst=a port=1 scopes=ip "
	                       "durations=once name=");
	memset(line + off, 'a', CTL_PROMPT_NAME_MAX);
	line[off + CTL_PROMPT_NAME_MAX] = '\0';
	assert_int_equal(parse(line, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bad name"));
	/* One byte less fits. */
	line[off + CTL_PROMPT_NAME_MAX - 1] = '\0';
	assert_int_equal(parse(line, &p, err, sizeof(err)), 0);
	assert_int_equal(strlen(p.name), CTL_PROMPT_NAME_MAX - 1);
	free(line);
}

static void
test_withdraw(void **state)
{
	static const char *const bad[] = {
	    "",
	    "WITHDRAW",
	    "WITHDRAW reason=gone",
	    "WITHDRAW id=0 reason=gone",
	    "WITHDRAW id=seven reason=gone",
	    "WITHDRAW id=-1 reason=gone",
	    "WITHDRAW id=18446744073709551616",
	    "WITHDRAW id=7 reason=\"longer than sixteen bytes\"",
	    "PROMPT id=7 reason=gone",
	    "withdraw id=7 reason=gone",
	    "WITHDRAW id=7 reason=\"open",
	};
	static const char answered[] = "WITHDRAW id=7 reason=answered "
	                               "verdict=allow";
	static const char no_agent[] = "WITHDRAW id=12 reason=no-agent "
	                               "later=1\r";
	struct ctl_withdraw w;
	char err[CTL_ERRLEN];
	size_t i;

	assert_int_equal(ctl_withdraw_parse(answered, sizeof(answered) - 1, &w,
	                                    err, sizeof(err)),
	                 0);
	assert_int_equal(w.id, 7);
	assert_string_equal(w.reason, "answered");
	assert_int_equal(w.verdict, ACTION_ALLOW);

	/* No verdict: -1; unknown words skipped; "\r" dropped. */
	assert_int_equal(ctl_withdraw_parse(no_agent, sizeof(no_agent) - 1, &w,
	                                    err, sizeof(err)),
	                 0);
	assert_int_equal(w.id, 12);
	assert_string_equal(w.reason, "no-agent");
	assert_int_equal(w.verdict, -1);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (ctl_withdraw_parse(bad[i], strlen(bad[i]), &w, err,
		                       sizeof(err)) != -1)
			fail_msg("\"%s\" was read as a WITHDRAW line", bad[i]);
		assert_true(err[0] != '\0');
	}
}

static void
test_answer_requests(void **state)
{
	static const struct {
		const char *line;
		int64_t id;
		enum action verdict;
		enum ctl_scope scope;
		enum ctl_duration duration;
	} good[] = {
	    {"ANSWER 7 allow name forever", 7, ACTION_ALLOW, CTL_SCOPE_NAME,
	     CTL_DUR_FOREVER},
	    {"answer 12 deny domain once", 12, ACTION_DENY, CTL_SCOPE_DOMAIN,
	     CTL_DUR_ONCE},
	    {"Answer  3   reject app restart\r", 3, ACTION_REJECT,
	     CTL_SCOPE_APP, CTL_DUR_RESTART},
	    {"ANSWER 9223372036854775807 allow ip 1h", INT64_MAX, ACTION_ALLOW,
	     CTL_SCOPE_IP, CTL_DUR_HOUR},
	    {"ANSWER 1 deny port forever", 1, ACTION_DENY, CTL_SCOPE_PORT,
	     CTL_DUR_FOREVER},
	};
	static const char *const bad[] = {
	    "ANSWER",
	    "ANSWER 7",
	    "ANSWER 7 allow",
	    "ANSWER 7 allow name",
	    "ANSWER 0 allow name once",
	    "ANSWER -7 allow name once",
	    "ANSWER 07 allow name once",
	    "ANSWER 9223372036854775808 allow name once",
	    "ANSWER seven allow name once",
	    "ANSWER 7 permit name once",
	    "ANSWER 7 ALLOW name once",
	    "ANSWER 7 allow everywhere once",
	    "ANSWER 7 allow NAME once",
	    "ANSWER 7 allow name 2h",
	    "ANSWER 7 allow name until:2030-01-01T00:00:00Z",
	    "ANSWER 7 allow name once please",
	    "ANSWER 7 allow name once once",
	    "ANSWER id=7 allow name once",
	    "ANSWER 7 verdict=allow name once",
	    "ANSWER 7 allow scope=name once",
	    "ANSWER 7 allow name duration=once",
	    "ANSWER 7 allow \"name\x01\" once",
	};
	struct ctl_req req;
	enum ctl_code code;
	char err[CTL_ERRLEN];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (ctl_req_parse(good[i].line, strlen(good[i].line), &req,
		                  &code, err, sizeof(err)) != 0)
			fail_msg("\"%s\": %s", good[i].line, err);
		assert_int_equal(req.verb, CTL_ANSWER);
		assert_int_equal(req.id, good[i].id);
		assert_int_equal(req.verdict, good[i].verdict);
		assert_int_equal(req.scope, good[i].scope);
		assert_int_equal(req.duration, good[i].duration);
		/* Who may answer is the server's to check. */
		assert_false(ctl_verb_needs_admin(req.verb));
		ctl_req_free(&req);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (ctl_req_parse(bad[i], strlen(bad[i]), &req, &code, err,
		                  sizeof(err)) != -1)
			fail_msg("\"%s\" was taken as a request", bad[i]);
		assert_int_equal(code, CTL_E_USAGE);
		assert_null(req.buf);
		if (strstr(bad[i], "\x01") == NULL &&
		    strstr(err, "usage: ANSWER ID allow|deny|reject") == NULL)
			fail_msg("\"%s\": \"%s\" is not the usage", bad[i],
			         err);
	}
}

static void
test_prompts_and_subscribe_requests(void **state)
{
	struct ctl_req req;
	enum ctl_code code;
	char err[CTL_ERRLEN];

	assert_int_equal(
	    ctl_req_parse("PROMPTS", 7, &req, &code, err, sizeof(err)), 0);
	assert_int_equal(req.verb, CTL_PROMPTS);
	assert_false(ctl_verb_needs_admin(req.verb));
	ctl_req_free(&req);
	assert_int_equal(
	    ctl_req_parse("subscribe", 9, &req, &code, err, sizeof(err)), 0);
	assert_int_equal(req.verb, CTL_SUBSCRIBE);
	ctl_req_free(&req);

	assert_int_equal(
	    ctl_req_parse("PROMPTS 7", 9, &req, &code, err, sizeof(err)), -1);
	assert_int_equal(code, CTL_E_USAGE);
	assert_non_null(strstr(err, "PROMPTS takes no arguments"));
	assert_int_equal(ctl_req_parse("SUBSCRIBE uid=1000", 18, &req, &code,
	                               err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "SUBSCRIBE takes no arguments"));
}

static void
test_scope_and_duration_names(void **state)
{
	int i;

	for (i = 0; i < CTL_N_SCOPES; i++)
		assert_int_equal(ctl_scope_parse(ctl_scope_name(i)), i);
	for (i = 0; i < CTL_N_DURATIONS; i++)
		assert_int_equal(ctl_duration_parse(ctl_duration_name(i)), i);
	assert_string_equal(ctl_duration_name(CTL_DUR_HOUR), "1h");
	assert_int_equal(ctl_scope_parse("Name"), -1);
	assert_int_equal(ctl_duration_parse(""), -1);
	assert_string_equal(ctl_scope_name(CTL_N_SCOPES), "?");
}

/* The reply to PROMPTS as a client reads it: the OK line, then each
 * PROMPT line on its own, and nothing past the last. */
static void
test_reading_the_prompts_reply(void **state)
{
	static const char reply[] =
	    "OK count=2\n"
	    "PROMPT id=7 uid=1000 dst=192.0.2.2 port=443 scopes=ip "
	    "durations=once\n"
	    "PROMPT id=8 uid=1000 dst=192.0.2.3 port=80 scopes=ip,port "
	    "durations=once,forever\r\n"
	    "OK next=1\n";
	struct ctl_reply rep;
	struct ctl_prompt p;
	char err[CTL_ERRLEN], *line, *big;
	size_t len;
	pid_t pid;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], reply, sizeof(reply) - 1),
	                 (ssize_t)sizeof(reply) - 1);
	assert_int_equal(ctl_recv_reply(sv[0], &rep, 1000, err, sizeof(err)),
	                 0);
	assert_true(rep.ok);
	assert_string_equal(ctl_reply_get(&rep, "count"), "2");
	ctl_reply_free(&rep);

	assert_int_equal(
	    ctl_recv_line(sv[0], &line, &len, 1000, err, sizeof(err)), 0);
	assert_int_equal(len, strlen(line));
	assert_int_equal(ctl_prompt_parse(line, len, &p, err, sizeof(err)), 0);
	assert_int_equal(p.id, 7);
	free(line);
	assert_int_equal(
	    ctl_recv_line(sv[0], &line, &len, 1000, err, sizeof(err)), 0);
	assert_int_equal(ctl_prompt_parse(line, len, &p, err, sizeof(err)), 0);
	assert_int_equal(p.id, 8);
	assert_int_equal(p.durations,
	                 1u << CTL_DUR_ONCE | 1u << CTL_DUR_FOREVER);
	free(line);
	/* The next reply is still there, whole. */
	assert_int_equal(ctl_recv_reply(sv[0], &rep, 1000, err, sizeof(err)),
	                 0);
	assert_string_equal(ctl_reply_get(&rep, "next"), "1");
	ctl_reply_free(&rep);

	/* Nothing more: the wait ends, and says so. */
	assert_int_equal(
	    ctl_recv_line(sv[0], &line, &len, 100, err, sizeof(err)), -1);
	assert_null(line);
	assert_non_null(strstr(err, "did not answer"));

	/* A line over the limit is refused, not read on forever. */
	big = malloc(CTL_LINE_MAX + 16);
	assert_non_null(big);
	memset(big, 'x', CTL_LINE_MAX + 16);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		(void)!write(sv[1], big, CTL_LINE_MAX + 16);
		_exit(0);
	}
	assert_int_equal(
	    ctl_recv_line(sv[0], &line, &len, 2000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than"));
	free(big);
	close(sv[0]);
	close(sv[1]);
	waitpid(pid, NULL, 0);

	/* A daemon that goes away mid-line is an error, not a hang. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], "PROMPT id=1", 11), 11);
	close(sv[1]);
	assert_int_equal(
	    ctl_recv_line(sv[0], &line, &len, 1000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "closed"));
	close(sv[0]);
}

/* A DENIED line as tollgated writes it reads back the same; one with a
 * hostile app path (any byte) too; broken ones are refused, each with a
 * message, and unknown keys are skipped. */
static void
test_denied(void **state)
{
	struct ctl_denied d, back;
	struct ctl_line l;
	char buf[CTL_LINE_MAX + 2], err[CTL_ERRLEN];
	static const char *const bad[] = {
	    "DENIED app=/usr/bin/curl port=443 verdict=deny decider=rule "
	    "count=1", /* no uid */
	    "DENIED uid=1 port=443 verdict=deny decider=rule count=1",
	    "DENIED uid=1 app=- verdict=deny decider=rule count=1",
	    "DENIED uid=1 app=- port=443 decider=rule count=1",
	    "DENIED uid=1 app=- port=443 verdict=deny count=1",
	    "DENIED uid=1 app=- port=443 verdict=deny decider=rule",
	    "DENIED uid=1 app=- port=443 verdict=deny decider=rule count=0",
	    "DENIED uid=1 app=- port=65536 verdict=deny decider=rule count=1",
	    "DENIED uid=1 app=- port=443 verdict=maybe decider=rule count=1",
	    "DENIED uid=x app=- port=443 verdict=deny decider=rule count=1",
	    "DENIED uid=1 app=- port=443 verdict=deny decider=- count=1",
	    "DENIED uid=1 app=- port=443 verdict=deny decider=rule count=1 "
	    "rule=-3",
	    "PROMPT uid=1 app=- port=443 verdict=deny decider=rule count=1",
	    "DENIED uid=1 app=- port=443 verdict=deny decider=rule count=1 "
	    "dst=\"unterminated",
	};
	size_t i;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.uid = 1000;
	snprintf(d.app, sizeof(d.app), "/usr/bin/curl");
	snprintf(d.name, sizeof(d.name), "tracker.example.com");
	snprintf(d.dst, sizeof(d.dst), "192.0.2.7");
	d.port = 443;
	snprintf(d.proto, sizeof(d.proto), "tcp");
	d.verdict = ACTION_DENY;
	snprintf(d.decider, sizeof(d.decider), "rule");
	d.rule = 12;
	d.count = 10;
	d.time = 1764340000;
	ctl_line_init(&l, buf, sizeof(buf));
	ctl_put_word(&l, "DENIED");
	ctl_denied_put(&l, &d);
	assert_false(l.over);
	assert_string_equal(buf,
	                    "DENIED uid=1000 app=/usr/bin/curl "
	                    "name=tracker.example.com dst=192.0.2.7 port=443 "
	                    "proto=tcp verdict=deny decider=rule rule=12 "
	                    "count=10 time=1764340000");
	assert_int_equal(ctl_denied_parse(buf, l.len, &back, err, sizeof(err)),
	                 0);
	assert_int_equal(back.uid, 1000);
	assert_string_equal(back.app, d.app);
	assert_string_equal(back.name, d.name);
	assert_string_equal(back.dst, d.dst);
	assert_int_equal(back.port, 443);
	assert_string_equal(back.proto, "tcp");
	assert_int_equal(back.verdict, ACTION_DENY);
	assert_string_equal(back.decider, "rule");
	assert_int_equal(back.rule, 12);
	assert_int_equal(back.count, 10);
	assert_int_equal(back.time, 1764340000);

	/* An unknown process, no name: "-" both ways; a \r and a key of a
	 * newer daemon are fine. */
	assert_int_equal(
	    ctl_denied_parse("DENIED uid=7 app=- name=- dst=- port=80 "
	                     "verdict=reject decider=no-agent count=1 "
	                     "colour=red\r",
	                     strlen("DENIED uid=7 app=- name=- dst=- port=80 "
	                            "verdict=reject decider=no-agent count=1 "
	                            "colour=red\r"),
	                     &back, err, sizeof(err)),
	    0);
	assert_string_equal(back.app, "");
	assert_string_equal(back.name, "");
	assert_int_equal(back.verdict, ACTION_REJECT);
	assert_string_equal(back.decider, "no-agent");

	/* Any byte of a path survives, escaped. */
	snprintf(d.app, sizeof(d.app), "/tmp/x\x1b]0;owned\x07 \"y\"\xff");
	ctl_line_init(&l, buf, sizeof(buf));
	ctl_put_word(&l, "DENIED");
	ctl_denied_put(&l, &d);
	assert_false(l.over);
	assert_null(memchr(buf, '\x1b', l.len));
	assert_int_equal(ctl_denied_parse(buf, l.len, &back, err, sizeof(err)),
	                 0);
	assert_string_equal(back.app, d.app);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (ctl_denied_parse(bad[i], strlen(bad[i]), &back, err,
		                     sizeof(err)) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_true(err[0] != '\0');
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_prompt_round_trip),
	    cmocka_unit_test(test_prompt_lines_read),
	    cmocka_unit_test(test_bad_prompt_lines),
	    cmocka_unit_test(test_prompt_string_limits),
	    cmocka_unit_test(test_withdraw),
	    cmocka_unit_test(test_answer_requests),
	    cmocka_unit_test(test_prompts_and_subscribe_requests),
	    cmocka_unit_test(test_scope_and_duration_names),
	    cmocka_unit_test(test_reading_the_prompts_reply),
	    cmocka_unit_test(test_denied),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
