/*
 * control_prompts.c - the verbs of prompts: SUBSCRIBE (become a prompt
 * agent), PROMPTS (list those pending) and ANSWER (docs/control.md,
 * "Prompts").  Who may subscribe is control_agent.c's to say; what an
 * agent is sent afterwards, the broker's (control_notify()).
 */
#include <stdint.h>
#include <stdio.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "common/config.h"
#include "common/ctl.h"
#include "common/log.h"
#include "proxyd/broker.h"
#include "proxyd/control_agent.h"
#include "proxyd/control_int.h"

/* An agent sees the prompts of its own uid, an admin's every prompt. */
static int64_t
client_sees(const struct control_client *c)
{
	return c->admin ? -1 : (int64_t)c->uid;
}

static void
client_emit(void *arg, const char *line, size_t len)
{
	control_reply_raw(arg, line, len);
}

/* PROMPTS' lines, made before its OK line, which counts them. */
struct prompt_lines {
	struct evbuffer *buf;
	unsigned n;
};

static void
lines_emit(void *arg, const char *line, size_t len)
{
	struct prompt_lines *pl = arg;

	if (evbuffer_add(pl->buf, line, len) == 0)
		pl->n++;
}

void
control_subscribe(struct control_client *c, const struct ctl_req *req)
{
	struct proxyd *pd = c->ctl->pd;
	char err[CTL_ERRLEN], buf[256], d[64];
	struct ctl_line l;

	control_client_desc(c, d, sizeof(d));
	if (c->agent.subscribed) {
		control_reply_err(c, CTL_E_INVALID, "already subscribed");
		return;
	}
	if (control_agent_subscribe(&c->agent, &pd->cfg, c->pid, c->uid, c->gid,
	                            c->admin, err, sizeof(err)) == -1) {
		log_info("control: %s: SUBSCRIBE refused: %s", d, err);
		control_reply_err(c, CTL_E_PERM, err);
		return;
	}
	/* An agent waits for prompts: no idle timeout from now on. */
	control_client_timeouts(c, true);
	ctl_line_init(&l, buf, sizeof(buf));
	ctl_put_word(&l, "OK");
	ctl_put_kvf(&l, "agent", "%llu", (unsigned long long)c->id);
	ctl_put_kvf(&l, "uid", "%u", (unsigned)c->uid);
	ctl_put_kvf(&l, "timeout", "%u", pd->cfg.prompt_timeout_ms / 1000);
	ctl_put_kv(&l, "default_action", action_name(pd->cfg.default_action));
	control_reply_ok(c, &l);
	log_info("control: %s: prompt agent subscribed%s", d,
	         c->admin ? " (sees every prompt)" : "");
	/* What is pending already, after the OK. */
	broker_list(pd, client_sees(c), client_emit, c);
}

void
control_prompts(struct control_client *c, const struct ctl_req *req)
{
	struct proxyd *pd = c->ctl->pd;
	char buf[64];
	struct ctl_line l;
	struct prompt_lines pl = {evbuffer_new(), 0};

	if (pl.buf == NULL) {
		control_reply_err(c, CTL_E_INTERNAL, "out of memory");
		return;
	}
	broker_list(pd, client_sees(c), lines_emit, &pl);
	ctl_line_init(&l, buf, sizeof(buf));
	ctl_put_word(&l, "OK");
	ctl_put_kvf(&l, "count", "%u", pl.n);
	control_reply_ok(c, &l);
	if (bufferevent_write_buffer(c->bev, pl.buf) == -1)
		control_reply_fail(c, CTL_E_INTERNAL,
		                   "cannot queue the prompts");
	evbuffer_free(pl.buf);
}

static void
control_answered(void *arg, const struct broker_result *r)
{
	struct control_pending *p = arg;
	char buf[256];
	struct ctl_line l;

	log_info("control: client %llu (uid %u, pid %d): ANSWER %llu: %s%s",
	         (unsigned long long)p->client_id, (unsigned)p->uid,
	         (int)p->pid, (unsigned long long)r->id,
	         r->ok ? "done" : "failed: ", r->ok ? "" : r->err);
	ctl_line_init(&l, buf, sizeof(buf));
	ctl_put_word(&l, "OK");
	ctl_put_kvf(&l, "id", "%llu", (unsigned long long)r->id);
	ctl_put_kv(&l, "verdict", action_name((enum action)r->verdict));
	ctl_put_kvf(&l, "connections", "%u", r->connections);
	ctl_put_kvf(&l, "rule", "%lld", (long long)r->rule_id);
	control_pending_reply(p, r->ok ? &l : NULL, r->code, r->err);
}

void
control_answer(struct control_client *c, const struct ctl_req *req)
{
	struct control_pending *p;

	if (!c->admin && !c->agent.subscribed) {
		control_reply_err(c, CTL_E_PERM,
		                  "ANSWER needs root, admin_group, or "
		                  "tollgate-prompt subscribed as the prompt's "
		                  "user");
		return;
	}
	p = control_client_wait(c, CTL_ANSWER, req->id);
	if (p == NULL)
		return;
	/* done() may run before this returns; p is not ours after it. */
	broker_answer(c->ctl->pd, (uint64_t)req->id, client_sees(c), c->uid,
	              req->verdict, req->scope, req->duration, control_answered,
	              p);
}
