/*
 * actions.c - the six answers of a prompt agent and the text of a prompt;
 * see actions.h.
 */
#include <stdio.h>
#include <string.h>

#include "common/utf8.h"
#include "prompt/actions.h"

const struct actions_def actions_table[ACTIONS_N] = {
    {"allow-once", 'o', "Allow once", false, ACTION_ALLOW, CTL_SCOPE_NAME,
     CTL_DUR_ONCE},
    {"allow-name", 'a', "Allow always", true, ACTION_ALLOW, CTL_SCOPE_NAME,
     CTL_DUR_FOREVER},
    {"allow-domain", 'w', "Allow always", true, ACTION_ALLOW, CTL_SCOPE_DOMAIN,
     CTL_DUR_FOREVER},
    {"deny-once", 'd', "Deny once", false, ACTION_DENY, CTL_SCOPE_NAME,
     CTL_DUR_ONCE},
    {"deny-name", 'n', "Deny always", true, ACTION_DENY, CTL_SCOPE_NAME,
     CTL_DUR_FOREVER},
    {"deny-app", 'x', "Deny always", true, ACTION_DENY, CTL_SCOPE_APP,
     CTL_DUR_FOREVER},
};

/* A word of the protocol and what it says to people. */
struct actions_word {
	const char *word;
	const char *text;
};

/* Where the name came from: PROMPT's source=. */
static const struct actions_word actions_sources[] = {
    {"sni", "TLS SNI"},
    {"http", "HTTP Host"},
    {"socks", "SOCKS request"},
    {"fakeip", "tollgate DNS"},
    {"dns", "DNS"},
};

/* Why a prompt went away: WITHDRAW's reason=. */
static const struct actions_word actions_reasons[] = {
    {"answered", "answered elsewhere"},
    {"timeout", "no answer in time"},
    {"rule", "a rule decided it"},
    {"gone", "the app gave up"},
    {"no-agent", "no prompt agent left for it"},
};

#define ACTIONS_LOOKUP(table, word)                                            \
	actions_lookup(table, sizeof(table) / sizeof(table[0]), word)

/* The text for word, or word itself when it is new to this version. */
static const char *
actions_lookup(const struct actions_word *table, size_t n, const char *word)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(table[i].word, word) == 0)
			return table[i].text;
	return word;
}

static bool
actions_has_scope(const struct ctl_prompt *p, enum ctl_scope s)
{
	return (p->scopes & (1u << s)) != 0;
}

/*
 * What scope s covers, in words: the name and the IP themselves when
 * concrete, else "this name", "this IP" (the rows' labels, where the
 * summary names them already).
 */
static void
actions_scope_words(const struct ctl_prompt *p, enum ctl_scope s, bool concrete,
                    char *buf, size_t len)
{
	if (len < 3) {
		if (len > 0)
			buf[0] = '\0';
		return;
	}
	switch (s) {
	case CTL_SCOPE_NAME:
		if (concrete)
			actions_clean(p->name, false, buf, len);
		else
			snprintf(buf, len, "this name");
		break;
	case CTL_SCOPE_DOMAIN:
		/* The daemon checked the name; clean it all the same. */
		memcpy(buf, "*.", 2);
		actions_clean(p->domain, false, buf + 2, len - 2);
		break;
	case CTL_SCOPE_APP:
		snprintf(buf, len, "this app, anywhere");
		break;
	case CTL_SCOPE_IP:
		if (concrete)
			actions_clean(p->dst, false, buf, len);
		else
			snprintf(buf, len, "this IP");
		break;
	case CTL_SCOPE_PORT:
		snprintf(buf, len, "any address, port %u", p->port);
		break;
	}
}

void
actions_scope_text(const struct ctl_prompt *p, enum ctl_scope s, char *buf,
                   size_t len)
{
	actions_scope_words(p, s, true, buf, len);
}

/* The orders in which the parts of a pick are shown and stepped. */
static const int actions_scope_order[] = {
    CTL_SCOPE_NAME, CTL_SCOPE_DOMAIN, CTL_SCOPE_IP,
    CTL_SCOPE_PORT, CTL_SCOPE_APP,
};
#define ACTIONS_N_SCOPES                                                       \
	(sizeof(actions_scope_order) / sizeof(actions_scope_order[0]))

/* Whether p offers scope s with something for it to name. */
static bool
actions_scope_ok(const struct ctl_prompt *p, enum ctl_scope s)
{
	if (!actions_has_scope(p, s))
		return false;
	if (s == CTL_SCOPE_NAME)
		return p->name[0] != '\0';
	if (s == CTL_SCOPE_DOMAIN)
		return p->domain[0] != '\0';
	if (s == CTL_SCOPE_IP)
		return p->dst[0] != '\0';
	return true;
}

static bool
actions_duration_ok(const struct ctl_prompt *p, enum ctl_duration d)
{
	return (p->durations & (1u << d)) != 0;
}

bool
actions_pick_ok(const struct ctl_prompt *p, const struct actions_pick *k)
{
	return actions_scope_ok(p, k->scope) &&
	       actions_duration_ok(p, k->duration) &&
	       (k->verdict == ACTION_ALLOW || k->verdict == ACTION_DENY ||
	        (k->verdict == ACTION_REJECT && p->deflt == ACTION_REJECT));
}

bool
actions_pick_default(const struct ctl_prompt *p, struct actions_pick *k)
{
	size_t i;
	bool scope = false, dur = false;

	k->verdict = p->deflt >= 0 ? (enum action)p->deflt : ACTION_DENY;
	for (i = 0; i < ACTIONS_N_SCOPES && !scope; i++)
		if ((scope = actions_scope_ok(
		         p, (enum ctl_scope)actions_scope_order[i])))
			k->scope = (enum ctl_scope)actions_scope_order[i];
	for (i = 0; i < CTL_N_DURATIONS && !dur; i++)
		if ((dur = actions_duration_ok(
		         p, (enum ctl_duration)ctl_duration_order[i])))
			k->duration = (enum ctl_duration)ctl_duration_order[i];
	return scope && dur;
}

void
actions_pick_verdict(const struct ctl_prompt *p, struct actions_pick *k)
{
	if (k->verdict == ACTION_ALLOW)
		k->verdict = ACTION_DENY;
	else if (k->verdict == ACTION_DENY && p->deflt == ACTION_REJECT)
		k->verdict = ACTION_REJECT;
	else
		k->verdict = ACTION_ALLOW;
}

/*
 * The member after cur in order[n], round again at the end, that p
 * offers (ok); cur when none does.  The orders are the enums', as int.
 */
static int
actions_step(const struct ctl_prompt *p, const int *order, size_t n, int cur,
             bool (*ok)(const struct ctl_prompt *, int))
{
	size_t i, at = 0, step;

	for (i = 0; i < n; i++)
		if (order[i] == cur)
			at = i;
	for (step = 1; step <= n; step++) {
		i = (at + step) % n;
		if (ok(p, order[i]))
			return order[i];
	}
	return cur;
}

static bool
actions_scope_ok_int(const struct ctl_prompt *p, int s)
{
	return actions_scope_ok(p, (enum ctl_scope)s);
}

static bool
actions_duration_ok_int(const struct ctl_prompt *p, int d)
{
	return actions_duration_ok(p, (enum ctl_duration)d);
}

void
actions_pick_scope(const struct ctl_prompt *p, struct actions_pick *k)
{
	k->scope = (enum ctl_scope)actions_step(p, actions_scope_order,
	                                        ACTIONS_N_SCOPES, (int)k->scope,
	                                        actions_scope_ok_int);
}

void
actions_pick_duration(const struct ctl_prompt *p, struct actions_pick *k)
{
	k->duration = (enum ctl_duration)actions_step(
	    p, ctl_duration_order, CTL_N_DURATIONS, (int)k->duration,
	    actions_duration_ok_int);
}

const char *
actions_duration_text(enum ctl_duration d)
{
	switch (d) {
	case CTL_DUR_ONCE:
		return "once";
	case CTL_DUR_HALF_HOUR:
		return "for 30 minutes";
	case CTL_DUR_HOUR:
		return "for 1 hour";
	case CTL_DUR_RESTART:
		return "until tollgated restarts";
	case CTL_DUR_FOREVER:
		return "always";
	}
	return "?";
}

/* "Allow", "Deny", "Reject". */
static const char *
actions_verdict_word(enum action v)
{
	switch (v) {
	case ACTION_ALLOW:
		return "Allow";
	case ACTION_DENY:
		return "Deny";
	case ACTION_REJECT:
		return "Reject";
	}
	return "?";
}

void
actions_pick_label(const struct ctl_prompt *p, const struct actions_pick *k,
                   char *buf, size_t len)
{
	char scope[CTL_PROMPT_NAME_MAX + 8];

	if (k->duration == CTL_DUR_ONCE) {
		snprintf(buf, len, "%s once (no rule)",
		         actions_verdict_word(k->verdict));
		return;
	}
	actions_scope_text(p, k->scope, scope, sizeof(scope));
	snprintf(buf, len, "%s %s (%s)", actions_verdict_word(k->verdict),
	         actions_duration_text(k->duration), scope);
}

void
actions_pick_def(const struct actions_pick *k, struct actions_def *def)
{
	memset(def, 0, sizeof(*def));
	def->id = "pick";
	def->label = actions_verdict_word(k->verdict);
	def->show_scope = k->duration != CTL_DUR_ONCE;
	def->verdict = k->verdict;
	def->scope = k->scope;
	def->duration = k->duration;
}

bool
actions_resolve(const struct ctl_prompt *p, const struct actions_def *def,
                struct actions_choice *c)
{
	char scope[CTL_PROMPT_NAME_MAX + 8];
	enum ctl_scope s = def->scope;
	enum ctl_duration dur = def->duration;
	const char *label = def->label;

	memset(c, 0, sizeof(*c));
	/* Not always, but for an hour, is what this agent may say. */
	if (dur == CTL_DUR_FOREVER && (p->durations & (1u << dur)) == 0 &&
	    (p->durations & (1u << CTL_DUR_HOUR)) != 0) {
		dur = CTL_DUR_HOUR;
		label = def->verdict == ACTION_ALLOW ? "Allow for 1 hour"
		                                     : "Deny for 1 hour";
	}
	if ((p->durations & (1u << dur)) == 0)
		return false;
	/* "This destination" is the name only when there is one to name. */
	if (s == CTL_SCOPE_NAME &&
	    (p->name[0] == '\0' || !actions_has_scope(p, CTL_SCOPE_NAME)))
		s = CTL_SCOPE_IP;
	if (!actions_has_scope(p, s) ||
	    (s == CTL_SCOPE_DOMAIN && p->domain[0] == '\0'))
		return false;
	c->def = def;
	c->scope = s;
	c->duration = dur;
	c->deflt = dur == CTL_DUR_ONCE && p->deflt >= 0 &&
	           def->verdict == (enum action)p->deflt;
	actions_scope_words(p, s, false, scope, sizeof(scope));
	snprintf(c->label, sizeof(c->label), "%s%s%s%s%s", label,
	         def->show_scope ? " (" : "", def->show_scope ? scope : "",
	         def->show_scope ? ")" : "", c->deflt ? " (default)" : "");
	return true;
}

size_t
actions_offered(const struct ctl_prompt *p, struct actions_choice *out)
{
	size_t i, n = 0;

	for (i = 0; i < ACTIONS_N; i++)
		if (actions_resolve(p, &actions_table[i], &out[n]))
			n++;
	return n;
}

bool
actions_default(const struct ctl_prompt *p, struct actions_choice *c)
{
	size_t i;

	for (i = 0; i < ACTIONS_N; i++)
		if (actions_resolve(p, &actions_table[i], c) && c->deflt)
			return true;
	return false;
}

const struct actions_def *
actions_by_key(int key)
{
	size_t i;

	for (i = 0; i < ACTIONS_N; i++)
		if (actions_table[i].key == key)
			return &actions_table[i];
	return NULL;
}

const struct actions_def *
actions_by_id(const char *id)
{
	size_t i;

	for (i = 0; i < ACTIONS_N; i++)
		if (strcmp(actions_table[i].id, id) == 0)
			return &actions_table[i];
	return NULL;
}

/* Characters that must not reach a screen as they are: they move the
 * cursor, change colours, or reorder what follows (U+202A-E, U+2066-9). */
static bool
actions_unsafe(unsigned cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void
actions_clean(const char *s, bool ascii, char *buf, size_t len)
{
	const unsigned char *in = (const unsigned char *)s;
	size_t o = 0, n;
	unsigned cp;

	if (len == 0)
		return;
	while (*in != '\0') {
		n = utf8_decode(in, &cp);
		if (n == 0 || actions_unsafe(cp) || (ascii && n > 1)) {
			if (o + 1 >= len)
				break;
			buf[o++] = '?';
			in += n > 0 ? n : 1;
			continue;
		}
		if (o + n >= len)
			break;
		memcpy(buf + o, in, n);
		o += n;
		in += n;
	}
	buf[o] = '\0';
}

void
actions_app(const struct ctl_prompt *p, char *buf, size_t len)
{
	const char *base;

	if (p->app[0] == '\0') {
		snprintf(buf, len, "unknown process");
		return;
	}
	base = strrchr(p->app, '/');
	actions_clean(base != NULL && base[1] != '\0' ? base + 1 : p->app,
	              false, buf, len);
}

void
actions_dest(const struct ctl_prompt *p, char *buf, size_t len)
{
	char host[CTL_PROMPT_NAME_MAX];

	actions_clean(p->name[0] != '\0' ? p->name : p->dst, false, host,
	              sizeof(host));
	/* An IPv6 address takes brackets before its port. */
	snprintf(buf, len, strchr(host, ':') != NULL ? "[%s]:%u" : "%s:%u",
	         host, p->port);
}

/* Append one "Label: text" line of the body; the text is already clean,
 * and is cut at a character boundary when the body is full. */
static void
actions_row(struct actions_text *t, size_t *off, const char *label,
            const char *text)
{
	int n;

	if (*off >= sizeof(t->body) - 1)
		return;
	n = snprintf(t->body + *off, sizeof(t->body) - *off, "%s%-8s ",
	             *off > 0 ? "\n" : "", label);
	if (n < 0 || (size_t)n >= sizeof(t->body) - *off) {
		t->body[*off] = '\0';
		return;
	}
	*off += (size_t)n;
	/* Not snprintf(): it would cut a long path mid-character. */
	actions_clean(text, false, t->body + *off, sizeof(t->body) - *off);
	*off += strlen(t->body + *off);
}

void
actions_describe(const struct ctl_prompt *p, struct actions_text *t)
{
	char app[ACTIONS_APP_MAX], path[CTL_PROMPT_APP_MAX];
	char cmd[CTL_PROMPT_CMDLINE_MAX], user[64], dest[ACTIONS_DEST_MAX];
	char name[CTL_PROMPT_NAME_MAX], src[16], dst[64], proto[8];
	char line[ACTIONS_APP_MAX + CTL_PROMPT_APP_MAX + 8];
	size_t off = 0;

	actions_app(p, app, sizeof(app));
	actions_dest(p, dest, sizeof(dest));
	actions_clean(p->user, false, user, sizeof(user));
	actions_clean(p->source, false, src, sizeof(src));
	actions_clean(p->dst, false, dst, sizeof(dst));
	actions_clean(p->proto[0] != '\0' ? p->proto : "tcp", false, proto,
	              sizeof(proto));
	memset(t, 0, sizeof(*t));
	if (p->app[0] == '\0')
		snprintf(t->summary, sizeof(t->summary),
		         "An unknown process of uid %u wants to connect to %s",
		         p->uid, dest);
	else
		snprintf(t->summary, sizeof(t->summary),
		         "%s wants to connect to %s", app, dest);

	if (p->app[0] != '\0') {
		actions_clean(p->app, false, path, sizeof(path));
		snprintf(line, sizeof(line), "%s (%s)", app, path);
	} else
		snprintf(line, sizeof(line), "unknown process");
	actions_row(t, &off, "App:", line);
	if (p->cmdline[0] != '\0') {
		actions_clean(p->cmdline, false, cmd, sizeof(cmd));
		actions_row(t, &off, "Command:", cmd);
	}
	if (p->pid > 0)
		snprintf(line, sizeof(line), "pid %ld, user %s (uid %u)",
		         p->pid, user[0] != '\0' ? user : "?", p->uid);
	else
		snprintf(line, sizeof(line), "pid unknown, user %s (uid %u)",
		         user[0] != '\0' ? user : "?", p->uid);
	actions_row(t, &off, "Process:", line);
	if (p->name[0] != '\0') {
		actions_clean(p->name, false, name, sizeof(name));
		snprintf(line, sizeof(line), "%s (from %s)", name,
		         ACTIONS_LOOKUP(actions_sources, src));
	} else
		snprintf(line, sizeof(line),
		         "none read (a rule can match only the IP)");
	actions_row(t, &off, "Name:", line);
	snprintf(line, sizeof(line),
	         strchr(dst, ':') != NULL ? "[%s]:%u %s" : "%s:%u %s", dst,
	         p->port, proto);
	actions_row(t, &off, "Address:", line);
	if (p->connections > 1) {
		snprintf(line, sizeof(line), "%u connections", p->connections);
		actions_row(t, &off, "Waiting:", line);
	}
}

long
actions_left(const struct ctl_prompt *p, int64_t now)
{
	if (p->expires == 0)
		return -1;
	return p->expires > now ? (long)(p->expires - now) : 0;
}

const char *
actions_verdict_done(int verdict)
{
	switch (verdict) {
	case ACTION_ALLOW:
		return "allowed";
	case ACTION_DENY:
		return "denied";
	case ACTION_REJECT:
		return "rejected";
	}
	return "decided";
}

void
actions_withdrawn(const struct ctl_withdraw *w, char *buf, size_t len)
{
	char reason[sizeof(w->reason)];

	actions_clean(w->reason, false, reason, sizeof(reason));
	snprintf(buf, len, "withdrawn, %s%s%s",
	         ACTIONS_LOOKUP(actions_reasons, reason),
	         w->verdict >= 0 ? ": " : "",
	         w->verdict >= 0 ? actions_verdict_done(w->verdict) : "");
}

void
actions_reply(const struct ctl_reply *rep, char *buf, size_t len)
{
	const char *verdict, *v;
	char msg[CTL_MSG_MAX], code[sizeof(rep->codestr)];
	char conns[16], rule[24]; /* a count, a rule id */

	/* Every value is the daemon's: clean it like the PROMPT's. */
	if (!rep->ok) {
		actions_clean(rep->codestr, false, code, sizeof(code));
		actions_clean(rep->msg, false, msg, sizeof(msg));
		snprintf(buf, len, "answer not taken: %s %s", code, msg);
		return;
	}
	verdict = ctl_reply_get(rep, "verdict");
	v = ctl_reply_get(rep, "connections");
	actions_clean(v != NULL ? v : "?", false, conns, sizeof(conns));
	v = ctl_reply_get(rep, "rule");
	actions_clean(v != NULL ? v : "0", false, rule, sizeof(rule));
	snprintf(buf, len, "%s (%s connection%s); %s%s added",
	         verdict != NULL ? actions_verdict_done(action_parse(verdict))
	                         : "answered",
	         conns, strcmp(conns, "1") == 0 ? "" : "s",
	         strcmp(rule, "0") != 0 ? "rule " : "no rule",
	         strcmp(rule, "0") != 0 ? rule : "");
}
