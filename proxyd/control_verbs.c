/*
 * control_verbs.c - the control server's verb table, and STATUS; see
 * control_int.h.  A verb's name, arguments and need for root or
 * admin_group are the protocol's (common/ctl.c); a row here says which
 * handler runs it.  Adding a verb: its parser in common/ctl.c, its
 * handler in a control_*.c file, its row here, its page in
 * docs/control.md.
 */
#include <stddef.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/ctl.h"
#include "proxyd/broker.h"
#include "proxyd/appcache.h"
#include "proxyd/connbpf.h"
#include "proxyd/control_int.h"
#include "proxyd/fakeip.h"
#include "proxyd/rulesvc.h"

static const struct control_verb control_verbs[] = {
    {CTL_STATUS, 0, control_status},
    {CTL_RULE_ADD, 0, control_rule},
    {CTL_RULE_EDIT, 0, control_rule},
    {CTL_RULE_DEL, 0, control_rule_simple},
    {CTL_RULE_ENABLE, 0, control_rule_simple},
    {CTL_RULE_DISABLE, 0, control_rule_simple},
    {CTL_RELOAD, 0, control_rule_simple},
    {CTL_IMPORT, CONTROL_VERB_BODY, control_import},
    {CTL_SUBSCRIBE, 0, control_subscribe},
    {CTL_PROMPTS, 0, control_prompts},
    {CTL_ANSWER, 0, control_answer},
    {CTL_RULE_DURATION, 0, control_rule_duration},
    {CTL_RULES, 0, control_rules_list},
    {CTL_EVENTS, 0, control_events},
};

#define CONTROL_N_VERBS (sizeof(control_verbs) / sizeof(control_verbs[0]))

const struct control_verb *
control_verb_find(enum ctl_verb verb)
{
	size_t i;

	for (i = 0; i < CONTROL_N_VERBS; i++)
		if (control_verbs[i].verb == verb)
			return &control_verbs[i];
	return NULL;
}

/* STATUS: the daemon's counters, open to everyone. */
void
control_status(struct control_client *c, const struct ctl_req *req)
{
	struct proxyd *pd = c->ctl->pd;
	char buf[2048], gbuf[512];
	struct connbpf_stats cst;
	struct appcache_stats ast;
	struct ctl_line l;

	ctl_line_init(&l, buf, sizeof(buf));
	ctl_put_word(&l, "OK");
	ctl_put_kvf(&l, "pid", "%d", (int)getpid());
	ctl_put_kvf(&l, "uptime", "%lld",
	            (long long)(time(NULL) - c->ctl->started));
	ctl_put_kvf(&l, "rules", "%u", rulesvc_count(pd));
	ctl_put_kvf(&l, "connections", "%u", pd->n_conns);
	ctl_put_kvf(&l, "accepted", "%llu",
	            (unsigned long long)pd->stats.accepted);
	ctl_put_kvf(&l, "allowed", "%llu",
	            (unsigned long long)pd->stats.allowed);
	ctl_put_kvf(&l, "refused", "%llu",
	            (unsigned long long)pd->stats.refused);
	ctl_put_kvf(&l, "bytes_up", "%llu",
	            (unsigned long long)pd->stats.bytes_up);
	ctl_put_kvf(&l, "bytes_down", "%llu",
	            (unsigned long long)pd->stats.bytes_down);
	ctl_put_kv(&l, "default_action", action_name(pd->cfg.default_action));
	ctl_put_kvf(&l, "guarded", "%zu", pd->cfg.n_guard);
	ctl_put_kv(&l, "guarded_ids",
	           config_describe_guarded(&pd->cfg, gbuf, sizeof(gbuf)));
	ctl_put_kvf(&l, "clients", "%u", c->ctl->n_clients);
	ctl_put_kvf(&l, "agents", "%u", control_agents(c->ctl));
	ctl_put_kvf(&l, "prompts", "%u", broker_pending(pd));
	ctl_put_kvf(&l, "parked", "%u", broker_parked(pd));
	ctl_put_kv(&l, "admin", c->admin ? "yes" : "no");
	ctl_put_kv(&l, "prompt_answers",
	           prompt_answers_name(pd->cfg.prompt_answers));
	ctl_put_kvf(&l, "dns_answered", "%llu",
	            (unsigned long long)pd->dns_stats.answered);
	ctl_put_kvf(&l, "dns_denied", "%llu",
	            (unsigned long long)pd->dns_stats.denied);
	ctl_put_kvf(&l, "dns_forwarded", "%llu",
	            (unsigned long long)pd->dns_stats.forwarded);
	ctl_put_kvf(&l, "dns_other", "%llu",
	            (unsigned long long)pd->dns_stats.other);
	ctl_put_kvf(&l, "dns_mappings", "%zu",
	            pd->fakeip != NULL ? fakeip_count(pd->fakeip) : 0);
	connbpf_stats(pd->connbpf, &cst);
	ctl_put_kv(&l, "connect_tracking", pd->connbpf != NULL ? "on" : "off");
	ctl_put_kvf(&l, "connect_answered", "%llu",
	            (unsigned long long)cst.answered);
	ctl_put_kvf(&l, "connect_fallback", "%llu",
	            (unsigned long long)cst.fallback);
	ctl_put_kv(&l, "connect_syn",
	           connbpf_syn_tracked(pd->connbpf) ? "on" : "off");
	ctl_put_kvf(&l, "connect_syn_taken", "%llu",
	            (unsigned long long)cst.syn_taken);
	appcache_stats(pd->appcache, &ast);
	ctl_put_kvf(&l, "attr_cached", "%llu", (unsigned long long)ast.hits);
	control_reply_ok(c, &l);
}
