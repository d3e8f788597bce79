/*
 * test_broker.c - the prompt broker alone (proxyd/broker.h): connections
 * are stand-in waiters, the agents a recording sink.  A prompt is opened
 * and announced once per key, answered, timed out, withdrawn when its
 * last client leaves or its last agent goes, rejudged when the rules
 * change, and refused past its bounds; an answer to a prompt that is not
 * there, or with a choice it does not offer, is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <event2/event.h>

#include "common/addr.h"
#include "common/config.h"
#include "common/log.h"
#include "proxyd/broker.h"

#define MAX_SEEN  8
#define N_WAITERS (BROKER_PROMPTS_PER_UID + 4)

/* What the agents were told. */
struct sink_log {
	bool agent; /* has_agent() answers this */
	unsigned announced, withdrawn;
	struct ctl_prompt last; /* the last prompt announced */
	char why[MAX_SEEN][32]; /* each WITHDRAW's reason */
	int verdict[MAX_SEEN];  /* and verdict (-1: none) */
	unsigned denied;        /* DENIED lines */
	struct ctl_denied last_denied;
	bool admin_only; /* the agent there is an admin's, not the user's */
};

/* A stand-in connection. */
struct waiter {
	struct broker_waiter w;
	unsigned decided; /* times decided() ran */
	enum action verdict;
	enum reason reason;
	bool rule_decides; /* rejudge() finds a rule */
	unsigned rejudged;
};

struct fixture {
	struct proxyd pd;
	struct sink_log sink;
	struct app app;
	struct sockaddr_storage dst;
	struct waiter waiters[N_WAITERS];
	struct broker_result answer;
	unsigned answers;
};

static void
sink_announce(void *arg, const struct ctl_prompt *p, bool has_uid)
{
	struct sink_log *s = arg;

	s->announced++;
	s->last = *p;
}

static void
sink_withdraw(void *arg, const struct ctl_prompt *p, bool has_uid,
              const char *why, int verdict)
{
	struct sink_log *s = arg;

	if (s->withdrawn < MAX_SEEN) {
		snprintf(s->why[s->withdrawn], sizeof(s->why[0]), "%s", why);
		s->verdict[s->withdrawn] = verdict;
	}
	s->withdrawn++;
}

static bool
sink_has_agent(void *arg, bool has_uid, uid_t uid)
{
	return ((struct sink_log *)arg)->agent;
}

/* Whom a DENIED line is for: the agent of its user's own (here the one
 * agent, there or not; an admin's agent alone is told nothing). */
static bool
sink_told(void *arg, uid_t uid)
{
	struct sink_log *s = arg;

	return s->agent && !s->admin_only;
}

static void
sink_denied(void *arg, const struct ctl_denied *d)
{
	struct sink_log *s = arg;

	s->denied++;
	s->last_denied = *d;
}

static void
waiter_decided(struct broker_waiter *bw, enum action verdict,
               enum reason reason)
{
	struct waiter *w = (struct waiter *)bw;

	assert_null(bw->prompt);
	w->decided++;
	w->verdict = verdict;
	w->reason = reason;
}

static void
waiter_rejudge(struct broker_waiter *bw)
{
	struct waiter *w = (struct waiter *)bw;

	w->rejudged++;
	if (w->rule_decides)
		broker_unpark(bw, "rule");
}

static const struct broker_waiter_ops waiter_ops = {
    .decided = waiter_decided,
    .rejudge = waiter_rejudge,
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct broker_sink sink = {
	    .announce = sink_announce,
	    .withdraw = sink_withdraw,
	    .has_agent = sink_has_agent,
	    .denied = sink_denied,
	    .told = sink_told,
	};
	char err[256];
	socklen_t dlen;
	int i;

	assert_non_null(f);
	config_defaults(&f->pd.cfg);
	f->pd.cfg.default_action = ACTION_DENY;
	f->pd.cfg.prompt_timeout_ms = 60000;
	f->pd.cfg.max_connections = 4096;
	f->pd.base = event_base_new();
	assert_non_null(f->pd.base);
	if (broker_open(&f->pd, err, sizeof(err)) == -1)
		fail_msg("broker_open: %s", err);
	sink.arg = &f->sink;
	broker_set_sink(&f->pd, &sink);
	f->sink.agent = true;

	f->app.known = f->app.uid_known = true;
	f->app.pid = 4242;
	f->app.uid = 1000;
	snprintf(f->app.user, sizeof(f->app.user), "alice");
	snprintf(f->app.exe, sizeof(f->app.exe), "/usr/bin/curl");
	snprintf(f->app.cmdline, sizeof(f->app.cmdline), "curl https://a/");
	assert_int_equal(addr_parse("192.0.2.2:443", &f->dst, &dlen), 0);
	for (i = 0; i < N_WAITERS; i++)
		f->waiters[i].w.ops = &waiter_ops;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int i;

	for (i = 0; i < N_WAITERS; i++)
		broker_unpark(&f->waiters[i].w, "gone");
	broker_close(&f->pd);
	event_base_free(f->pd.base);
	free(f);
	return 0;
}

static const char *
test_who(const void *owner, char *buf, size_t len)
{
	snprintf(buf, len, "conn test");
	return buf;
}

/* Park waiter i, asking about name (NULL: none) at port 443. */
static enum broker_park
park(struct fixture *f, int i, const char *name, enum action *verdict)
{
	struct broker_ask ask = {
	    .app = &f->app,
	    .name = name,
	    .source = name != NULL ? NAME_SNI : NAME_NONE,
	    .dst = (const struct sockaddr *)&f->dst,
	    .port = addr_port((const struct sockaddr *)&f->dst),
	    .who = test_who,
	};
	enum action v = ACTION_ALLOW;

	return broker_park(&f->pd, &f->waiters[i].w, &ask,
	                   verdict != NULL ? verdict : &v);
}

static void
answered(void *arg, const struct broker_result *r)
{
	struct fixture *f = arg;

	f->answer = *r;
	f->answers++;
}

static void
answer(struct fixture *f, uint64_t id, int64_t uid, int verdict,
       enum ctl_scope scope, enum ctl_duration duration)
{
	broker_answer(&f->pd, id, uid, 0, verdict, scope, duration, answered,
	              f);
}

static void
test_nobody_to_ask(void **state)
{
	struct fixture *f = *state;

	f->sink.agent = false;
	assert_int_equal(park(f, 0, "a.test", NULL), BROKER_NO_AGENT);
	assert_int_equal(f->sink.announced, 0);
	assert_int_equal(broker_pending(&f->pd), 0);
	assert_null(f->waiters[0].w.prompt);
}

static void
test_one_prompt_per_key(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(park(f, 0, "a.test", NULL), BROKER_PARKED);
	assert_int_equal(park(f, 1, "a.test", NULL), BROKER_PARKED);
	assert_int_equal(park(f, 2, "b.test", NULL), BROKER_PARKED);
	/* Two prompts, each announced once, the first with what the user
	 * is shown. */
	assert_int_equal(f->sink.announced, 2);
	assert_int_equal(broker_pending(&f->pd), 2);
	assert_int_equal(broker_parked(&f->pd), 3);
	assert_int_equal(f->waiters[0].w.prompt_id, f->waiters[1].w.prompt_id);
	assert_int_not_equal(f->waiters[0].w.prompt_id,
	                     f->waiters[2].w.prompt_id);
	assert_string_equal(f->sink.last.name, "b.test");
	assert_string_equal(f->sink.last.app, "/usr/bin/curl");
	assert_string_equal(f->sink.last.user, "alice");
	assert_string_equal(f->sink.last.dst, "192.0.2.2");
	assert_int_equal(f->sink.last.port, 443);
	assert_int_equal(f->sink.last.deflt, ACTION_DENY);
	assert_true(f->sink.last.scopes & 1u << CTL_SCOPE_NAME);
	assert_true(f->sink.last.durations & 1u << CTL_DUR_FOREVER);
}

static void
test_answer_once_decides_every_connection(void **state)
{
	struct fixture *f = *state;
	uint64_t id;

	assert_int_equal(park(f, 0, "a.test", NULL), BROKER_PARKED);
	assert_int_equal(park(f, 1, "a.test", NULL), BROKER_PARKED);
	id = f->waiters[0].w.prompt_id;
	answer(f, id, 1000, ACTION_ALLOW, CTL_SCOPE_NAME, CTL_DUR_ONCE);

	assert_int_equal(f->answers, 1);
	assert_true(f->answer.ok);
	assert_int_equal(f->answer.connections, 2);
	assert_int_equal(f->answer.rule_id, 0);
	assert_int_equal(f->waiters[0].decided, 1);
	assert_int_equal(f->waiters[1].decided, 1);
	assert_int_equal(f->waiters[0].verdict, ACTION_ALLOW);
	assert_int_equal(f->waiters[0].reason, REASON_PROMPT);
	assert_int_equal(f->sink.withdrawn, 1);
	assert_string_equal(f->sink.why[0], "answered");
	assert_int_equal(f->sink.verdict[0], ACTION_ALLOW);
	assert_int_equal(broker_pending(&f->pd), 0);
	assert_int_equal(broker_parked(&f->pd), 0);

	/* Once means once: the next connection is asked again. */
	assert_int_equal(park(f, 2, "a.test", NULL), BROKER_PARKED);
	assert_int_equal(f->sink.announced, 2);
}

static void
test_answers_refused(void **state)
{
	struct fixture *f = *state;
	uint64_t id;

	assert_int_equal(park(f, 0, NULL, NULL), BROKER_PARKED);
	id = f->waiters[0].w.prompt_id;

	answer(f, id + 1, -1, ACTION_ALLOW, CTL_SCOPE_IP, CTL_DUR_ONCE);
	assert_false(f->answer.ok);
	assert_int_equal(f->answer.code, RULESVC_E_NOTFOUND);
	/* Another user's prompt is as good as none. */
	answer(f, id, 1001, ACTION_ALLOW, CTL_SCOPE_IP, CTL_DUR_ONCE);
	assert_false(f->answer.ok);
	assert_int_equal(f->answer.code, RULESVC_E_NOTFOUND);
	/* Without a name there is no name to allow. */
	answer(f, id, 1000, ACTION_ALLOW, CTL_SCOPE_NAME, CTL_DUR_ONCE);
	assert_false(f->answer.ok);
	assert_int_equal(f->answer.code, RULESVC_E_INVALID);
	assert_int_equal(f->answers, 3);

	assert_int_equal(f->waiters[0].decided, 0);
	assert_int_equal(broker_pending(&f->pd), 1);
	assert_int_equal(f->sink.withdrawn, 0);
}

static void
test_timeout_applies_default_action(void **state)
{
	struct fixture *f = *state;
	int i;

	f->pd.cfg.prompt_timeout_ms = 20;
	assert_int_equal(park(f, 0, "a.test", NULL), BROKER_PARKED);
	/* Bounded: the timer fires on the first turns of the loop. */
	for (i = 0; i < 1000 && f->waiters[0].decided == 0; i++)
		event_base_loop(f->pd.base, EVLOOP_ONCE);
	assert_int_equal(f->waiters[0].decided, 1);
	assert_int_equal(f->waiters[0].verdict, ACTION_DENY);
	assert_int_equal(f->waiters[0].reason, REASON_PROMPT_TIMEOUT);
	assert_string_equal(f->sink.why[0], "timeout");
	assert_int_equal(f->sink.verdict[0], ACTION_DENY);
	assert_int_equal(broker_pending(&f->pd), 0);
}

static void
test_last_client_leaving_withdraws(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(park(f, 0, "a.test", NULL), BROKER_PARKED);
	assert_int_equal(park(f, 1, "a.test", NULL), BROKER_PARKED);
	broker_unpark(&f->waiters[0].w, "gone");
	assert_int_equal(f->sink.withdrawn, 0);
	assert_int_equal(broker_parked(&f->pd), 1);
	broker_unpark(&f->waiters[1].w, "gone");
	assert_int_equal(f->sink.withdrawn, 1);
	assert_string_equal(f->sink.why[0], "gone");
	assert_int_equal(f->sink.verdict[0], -1);
	assert_int_equal(f->waiters[0].decided + f->waiters[1].decided, 0);
	assert_int_equal(broker_pending(&f->pd), 0);
}

static void
test_last_agent_leaving(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(park(f, 0, "a.test", NULL), BROKER_PARKED);
	broker_agents_changed(&f->pd);
	assert_int_equal(f->waiters[0].decided, 0);
	f->sink.agent = false;
	broker_agents_changed(&f->pd);
	assert_int_equal(f->waiters[0].decided, 1);
	assert_int_equal(f->waiters[0].verdict, ACTION_DENY);
	assert_int_equal(f->waiters[0].reason, REASON_NO_AGENT);
	assert_string_equal(f->sink.why[0], "no-agent");
}

static void
test_rules_changed_rejudges(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(park(f, 0, "a.test", NULL), BROKER_PARKED);
	assert_int_equal(park(f, 1, "a.test", NULL), BROKER_PARKED);
	assert_int_equal(park(f, 2, "b.test", NULL), BROKER_PARKED);
	/* A rule now decides every connection to a.test. */
	f->waiters[0].rule_decides = f->waiters[1].rule_decides = true;
	broker_rules_changed(&f->pd);
	assert_int_equal(f->waiters[0].rejudged, 1);
	assert_int_equal(f->waiters[1].rejudged, 1);
	assert_int_equal(f->waiters[2].rejudged, 1);
	assert_null(f->waiters[0].w.prompt);
	assert_null(f->waiters[1].w.prompt);
	assert_non_null(f->waiters[2].w.prompt);
	assert_int_equal(f->sink.withdrawn, 1);
	assert_string_equal(f->sink.why[0], "rule");
	assert_int_equal(broker_pending(&f->pd), 1);
	assert_int_equal(broker_parked(&f->pd), 1);
}

static void
test_bounds(void **state)
{
	struct fixture *f = *state;
	int i;

	for (i = 0; i < BROKER_PARKED_PER_PROMPT; i++)
		assert_int_equal(park(f, i, "a.test", NULL), BROKER_PARKED);
	assert_int_equal(park(f, i, "a.test", NULL), BROKER_FULL);
	assert_null(f->waiters[i].w.prompt);
	assert_int_equal(broker_parked(&f->pd), BROKER_PARKED_PER_PROMPT);
	/* Another key is still asked. */
	assert_int_equal(park(f, i + 1, "b.test", NULL), BROKER_PARKED);
}

/* One uid's share: half of the prompts.  Past it that uid is not asked,
 * while another uid still is. */
static void
test_share_per_uid(void **state)
{
	struct fixture *f = *state;
	char name[32];
	int i;

	for (i = 0; i < BROKER_PROMPTS_PER_UID; i++) {
		/* BROKER_PROMPTS_PER_APP at most per app: another app for
		 * each of those. */
		snprintf(f->app.exe, sizeof(f->app.exe), "/tmp/py%d",
		         i / BROKER_PROMPTS_PER_APP);
		snprintf(name, sizeof(name), "n%d.test", i);
		assert_int_equal(park(f, i, name, NULL), BROKER_PARKED);
	}
	snprintf(f->app.exe, sizeof(f->app.exe), "/tmp/py-last");
	assert_int_equal(park(f, i, "last.test", NULL), BROKER_FULL);
	assert_null(f->waiters[i].w.prompt);
	f->app.uid = 1001;
	snprintf(f->app.user, sizeof(f->app.user), "bob");
	assert_int_equal(park(f, i + 1, "bob.test", NULL), BROKER_PARKED);
	assert_int_equal(broker_pending(&f->pd), BROKER_PROMPTS_PER_UID + 1);
}

/* prompt_answers: the broker refuses what the answerer may not say,
 * whatever the prompt offers, and the connections still wait. */
static void
test_prompt_answers(void **state)
{
	struct fixture *f = *state;
	uint64_t id;

	f->pd.cfg.prompt_answers = PROMPT_ANSWERS_ADMIN_FOREVER;
	assert_int_equal(park(f, 0, "a.test", NULL), BROKER_PARKED);
	id = f->waiters[0].w.prompt_id;
	answer(f, id, 1000, ACTION_ALLOW, CTL_SCOPE_NAME, CTL_DUR_FOREVER);
	assert_false(f->answer.ok);
	assert_int_equal(f->answer.code, RULESVC_E_PERM);
	assert_string_equal(f->answer.err,
	                    "prompt_answers = admin-forever: you may answer "
	                    "once, 30m, 1h or restart; forever answers need "
	                    "root");
	assert_int_equal(f->waiters[0].decided, 0);
	assert_int_equal(broker_pending(&f->pd), 1);

	f->pd.cfg.prompt_answers = PROMPT_ANSWERS_ONCE_ONLY;
	answer(f, id, -1, ACTION_ALLOW, CTL_SCOPE_NAME, CTL_DUR_HOUR);
	assert_false(f->answer.ok);
	assert_int_equal(f->answer.code, RULESVC_E_PERM);
	assert_non_null(strstr(f->answer.err, "prompt_answers = once-only"));
	assert_int_equal(f->waiters[0].decided, 0);
	answer(f, id, 1000, ACTION_ALLOW, CTL_SCOPE_NAME, CTL_DUR_ONCE);
	assert_true(f->answer.ok);
	assert_int_equal(f->answer.rule_id, 0);
	assert_int_equal(f->waiters[0].decided, 1);
}

/* broker_list()'s collector: the connections of each prompt listed. */
struct listed {
	unsigned n;
	unsigned connections[MAX_SEEN];
};

static void
list_each(void *arg, const struct ctl_prompt *p)
{
	struct listed *l = arg;

	if (l->n < MAX_SEEN)
		l->connections[l->n] = p->connections;
	l->n++;
}

static void
test_list(void **state)
{
	struct fixture *f = *state;
	struct listed mine = {0}, other = {0}, all = {0};

	assert_int_equal(park(f, 0, "a.test", NULL), BROKER_PARKED);
	assert_int_equal(park(f, 1, "a.test", NULL), BROKER_PARKED);
	assert_int_equal(park(f, 2, "b.test", NULL), BROKER_PARKED);
	assert_int_equal(broker_list(&f->pd, 1000, list_each, &mine), 2);
	assert_int_equal(mine.n, 2);
	assert_int_equal(mine.connections[0], 2);
	assert_int_equal(mine.connections[1], 1);
	assert_int_equal(broker_list(&f->pd, 1001, list_each, &other), 0);
	assert_int_equal(broker_list(&f->pd, -1, list_each, &all), 2);
}

/* no_agent_action = wait: with nobody to ask, the prompt is raised all
 * the same; agents leaving deny nothing; an answer (an admin's) or the
 * timeout decides it. */
static void
test_wait_for_an_agent(void **state)
{
	struct fixture *f = *state;

	f->pd.cfg.no_agent_wait = true;
	f->sink.agent = false;
	assert_int_equal(park(f, 0, "a.test", NULL), BROKER_PARKED);
	assert_int_equal(broker_pending(&f->pd), 1);
	assert_int_equal(f->sink.announced, 1); /* to nobody, as yet */
	broker_agents_changed(&f->pd);
	assert_int_equal(f->waiters[0].decided, 0);
	assert_int_equal(f->sink.withdrawn, 0);
	answer(f, f->sink.last.id, -1, ACTION_ALLOW, CTL_SCOPE_NAME,
	       CTL_DUR_ONCE);
	assert_true(f->answer.ok);
	assert_int_equal(f->waiters[0].decided, 1);
	assert_int_equal(f->waiters[0].verdict, ACTION_ALLOW);
	assert_int_equal(f->waiters[0].reason, REASON_PROMPT);
}

/* DENIED lines: only with notify_denials and an agent, rate-limited,
 * count= set by the broker. */
static void
test_refusals_told(void **state)
{
	struct fixture *f = *state;
	struct ctl_denied d = {.uid = 1000,
	                       .port = 443,
	                       .verdict = ACTION_DENY,
	                       .time = 1764340000};
	int i;

	snprintf(d.app, sizeof(d.app), "/usr/bin/curl");
	snprintf(d.name, sizeof(d.name), "a.test");
	snprintf(d.decider, sizeof(d.decider), "rule");
	broker_refused(&f->pd, &d);
	assert_int_equal(f->sink.denied, 0); /* notify_denials = no */
	f->pd.cfg.notify_denials = true;
	f->sink.agent = false;
	broker_refused(&f->pd, &d);
	assert_int_equal(f->sink.denied, 0); /* nobody to tell */
	f->sink.agent = f->sink.admin_only = true;
	broker_refused(&f->pd, &d);
	assert_int_equal(f->sink.denied, 0); /* an admin's agent is not told */
	f->sink.admin_only = false;
	for (i = 0; i < 10; i++)
		broker_refused(&f->pd, &d);
	assert_int_equal(f->sink.denied, 1);
	assert_int_equal(f->sink.last_denied.count, 1);
	assert_string_equal(f->sink.last_denied.name, "a.test");
	d.time += 60;
	broker_refused(&f->pd, &d);
	assert_int_equal(f->sink.denied, 2);
	assert_int_equal(f->sink.last_denied.count, 10);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_nobody_to_ask),
	    T(test_one_prompt_per_key),
	    T(test_answer_once_decides_every_connection),
	    T(test_answers_refused),
	    T(test_timeout_applies_default_action),
	    T(test_last_client_leaving_withdraws),
	    T(test_last_agent_leaving),
	    T(test_rules_changed_rejudges),
	    T(test_bounds),
	    T(test_share_per_uid),
	    T(test_prompt_answers),
	    T(test_list),
	    T(test_wait_for_an_agent),
	    T(test_refusals_told),
	};

	log_init("test_broker", LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
