/*
 * control_prompts.c - the verbs of prompts: SUBSCRIBE (become a prompt
 * agent), PROMPTS (list those pending) and ANSWER (docs/control.md,
 * "Prompts").  Who may subscribe is control_agent.c's to say; what an
 * agent is sent afterwards, the broker's through its sink: PROMPT and
 * WITHDRAW lines, and DENIED lines for the agents of the refused uid.
 */
#include <stdint.h>
#include <stdio.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "common/config.h"
#include "common/ctl.h"
#include "common/ctl_prompt.h"
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

/*
 * The one buffer PROMPT lines are made in (on the loop; each is sent
 * before the next is made).  A line of the longest values, every byte
 * escaped as \xHH, fits a control line (tests/unit/test_ctl_prompt.c).
 */
static char prompt_buf[CTL_LINE_MAX + 2];

/* The durations c may answer with (prompt_answers). */
static unsigned
client_durations(const struct control_client *c)
{
	return broker_answer_durations(&c->ctl->pd->cfg, c->admin);
}

/* p's "PROMPT ..." line for agent c, with its "\n", in prompt_buf: its
 * durations= are those c may answer with.  Its length, or -1 (logged). */
static int
prompt_line(const struct control_client *c, const struct ctl_prompt *p)
{
	struct ctl_prompt view = *p;
	struct ctl_line l;
	int n;

	view.durations &= client_durations(c);
	ctl_line_init(&l, prompt_buf, sizeof(prompt_buf));
	ctl_put_word(&l, "PROMPT");
	ctl_prompt_put(&l, &view);
	if ((n = ctl_line_end(&l)) == -1)
		log_error("prompt %llu: its line is too long",
		          (unsigned long long)p->id);
	return n;
}

/* A pending prompt, as SUBSCRIBE sends it after its OK. */
static void
client_emit(void *arg, const struct ctl_prompt *p)
{
	int n = prompt_line(arg, p);

	if (n > 0)
		control_reply_raw(arg, prompt_buf, (size_t)n);
}

/* PROMPTS' lines, made before its OK line, which counts them. */
struct prompt_lines {
	const struct control_client *c;
	struct evbuffer *buf;
	unsigned n;
};

static void
lines_emit(void *arg, const struct ctl_prompt *p)
{
	struct prompt_lines *pl = arg;
	int n = prompt_line(pl->c, p);

	if (n > 0 && evbuffer_add(pl->buf, prompt_buf, (size_t)n) == 0)
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
	ctl_put_kv(&l, "answers", prompt_answers_name(pd->cfg.prompt_answers));
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
	struct prompt_lines pl = {c, evbuffer_new(), 0};

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
	control_pending_reply(p, r->ok ? &l : NULL, control_code(r->code),
	                      r->err);
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
	/* The broker decides what c may answer (prompt_answers) and says
	 * why not.  done() may run before this returns; p is not ours
	 * after it. */
	broker_answer(c->ctl->pd, (uint64_t)req->id, client_sees(c), c->uid,
	              req->verdict, req->scope, req->duration, control_answered,
	              p);
}

static void
announce_send(struct control_client *c, void *arg)
{
	int n = prompt_line(c, arg);

	if (n > 0)
		control_reply_raw(c, prompt_buf, (size_t)n);
}

/* The broker's sink: a new prompt goes to the agents that may see it,
 * each told the durations it may answer with. */
static void
control_announce(void *arg, const struct ctl_prompt *p, bool has_uid)
{
	control_notify_each(arg, CONTROL_SEE, has_uid, p->uid, announce_send,
	                    (void *)p);
}

/* The broker's sink: a prompt ended; its WITHDRAW line. */
static void
control_withdraw(void *arg, const struct ctl_prompt *p, bool has_uid,
                 const char *why, int verdict)
{
	struct ctl_line l;
	char buf[256];
	int len;

	ctl_line_init(&l, buf, sizeof(buf));
	ctl_put_word(&l, "WITHDRAW");
	ctl_put_kvf(&l, "id", "%llu", (unsigned long long)p->id);
	ctl_put_kv(&l, "reason", why);
	if (verdict != -1)
		ctl_put_kv(&l, "verdict", action_name((enum action)verdict));
	if ((len = ctl_line_end(&l)) > 0)
		control_notify(arg, CONTROL_SEE, has_uid, p->uid, buf,
		               (size_t)len);
}

/* The broker's sink: a refusal, for the agents of its uid's own user. */
static void
control_denied(void *arg, const struct ctl_denied *d)
{
	struct ctl_line l;
	int n;

	ctl_line_init(&l, prompt_buf, sizeof(prompt_buf));
	ctl_put_word(&l, "DENIED");
	ctl_denied_put(&l, d);
	if ((n = ctl_line_end(&l)) == -1) {
		log_error("a DENIED line is too long");
		return;
	}
	control_notify(arg, CONTROL_TOLD, true, (uid_t)d->uid, prompt_buf,
	               (size_t)n);
}

static bool
control_sink_has_agent(void *arg, bool has_uid, uid_t uid)
{
	return control_has_agent(arg, has_uid, uid);
}

/* The broker's sink: whether control_denied() would tell anyone. */
static bool
control_sink_told(void *arg, uid_t uid)
{
	return control_has_agents(arg, CONTROL_TOLD, true, uid);
}

void
control_broker_sink(struct control *ctl, struct broker_sink *sink)
{
	sink->announce = control_announce;
	sink->withdraw = control_withdraw;
	sink->has_agent = control_sink_has_agent;
	sink->denied = control_denied;
	sink->told = control_sink_told;
	sink->arg = ctl;
}
