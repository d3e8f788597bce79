/*
 * control_access.c - who may read and change what over the control
 * socket; see control_access.h.
 */
#include <stdio.h>
#include <string.h>

#include "proxyd/control_access.h"

size_t
control_peer_init(struct control_peer *p, const struct config *cfg, uid_t uid,
                  bool admin)
{
	size_t i, left = 0;

	memset(p, 0, sizeof(*p));
	p->uid = uid;
	p->owner = config_uid_owner(cfg, uid);
	p->admin = admin;
	p->guarded = config_uid_guarded(cfg, uid);
	p->may_widen = cfg->prompt_answers == PROMPT_ANSWERS_ALL;
	snprintf(p->group, sizeof(p->group), "%s", cfg->admin_group);
	for (i = 0; i < cfg->n_guard_subuid; i++) {
		if (cfg->guard_subuid[i].owner != p->owner)
			continue;
		if (p->n_sub == CONTROL_PEER_SUBIDS) {
			left++;
			continue;
		}
		p->sub[p->n_sub++] = cfg->guard_subuid[i];
	}
	return left;
}

bool
control_peer_owns(const struct control_peer *p, uid_t uid)
{
	size_t i;

	if (uid == p->owner)
		return true;
	for (i = 0; i < p->n_sub; i++)
		if (uid >= p->sub[i].first && uid <= p->sub[i].last)
			return true;
	return false;
}

/* "root or group tollgate", or "root" when admin_group is not set. */
static const char *
control_admins(const struct control_peer *p, char *buf, size_t len)
{
	if (p->group[0] != '\0')
		snprintf(buf, len, "root or group %s", p->group);
	else
		snprintf(buf, len, "root");
	return buf;
}

bool
control_may_send(const struct control_peer *p, enum ctl_verb verb, char *why,
                 size_t len)
{
	const char *v = ctl_verb_name(verb);
	char who[96];

	if (p->admin)
		return true;
	switch (ctl_verb_access(verb)) {
	case CTL_ACCESS_ANY:
		return true;
	case CTL_ACCESS_OWN:
		if (p->guarded)
			return true;
		snprintf(why, len,
		         "%s: uid %u is not a guarded user, nor %s: you may "
		         "ask STATUS and PROMPTS; rules and events are served "
		         "to guarded users (their own) and to admins",
		         v, (unsigned)p->uid,
		         control_admins(p, who, sizeof(who)));
		return false;
	case CTL_ACCESS_ADMIN:
		break;
	}
	if (p->guarded)
		snprintf(why, len,
		         "%s needs %s (you are uid %u): a guarded user may "
		         "list their own rules and events, and delete, "
		         "enable, disable or change the duration of rules "
		         "bound to their uid, never add or widen one",
		         v, control_admins(p, who, sizeof(who)),
		         (unsigned)p->uid);
	else
		snprintf(why, len, "%s needs %s (you are uid %u%s)", v,
		         control_admins(p, who, sizeof(who)), (unsigned)p->uid,
		         p->group[0] == '\0' ? "; admin_group is not set" : "");
	return false;
}

/*
 * Whether a rule of duration a (and expiry a_exp) surely ends no later
 * than one of b: forever ends last, restart and once only tie with their
 * own kind (a restart may come before or after any time), times compare.
 */
static bool
control_ends_by(enum rule_duration a, time_t a_exp, enum rule_duration b,
                time_t b_exp)
{
	if (b == DUR_FOREVER)
		return true;
	if (a != b)
		return false;
	return a != DUR_UNTIL || a_exp <= b_exp;
}

/* Whether verb (with want for RULE-DURATION) lets through no more than r
 * as stored does. */
static bool
control_stricter(enum ctl_verb verb, const struct rule *r,
                 const struct control_end *want)
{
	bool allow = r->action == ACTION_ALLOW;

	switch (verb) {
	case CTL_RULE_DEL:
	case CTL_RULE_DISABLE:
		return allow;
	case CTL_RULE_ENABLE:
		return !allow;
	case CTL_RULE_DURATION:
		if (want == NULL)
			return false;
		return allow ? control_ends_by(want->duration, want->expires,
		                               r->duration, r->expires)
		             : control_ends_by(r->duration, r->expires,
		                               want->duration, want->expires);
	default:
		return false;
	}
}

bool
control_may_change(const struct control_peer *p, enum ctl_verb verb,
                   const struct rule *r, const struct control_end *want,
                   char *why, size_t len)
{
	char who[96];

	if (p->admin)
		return true;
	if (!control_may_send(p, verb, why, len))
		return false;
	if (ctl_verb_access(verb) != CTL_ACCESS_OWN || verb == CTL_RULES ||
	    verb == CTL_EVENTS) {
		snprintf(why, len, "%s does not change one rule",
		         ctl_verb_name(verb));
		return false;
	}
	if (!r->has_uid) {
		snprintf(why, len,
		         "rule %lld is not yours (uid=any): only %s may "
		         "change it",
		         (long long)r->id, control_admins(p, who, sizeof(who)));
		return false;
	}
	if (!control_peer_owns(p, r->uid)) {
		/* Whose it is, is not told. */
		snprintf(why, len,
		         "rule %lld is not yours (it is bound to another "
		         "user): only %s may change it",
		         (long long)r->id, control_admins(p, who, sizeof(who)));
		return false;
	}
	if (!p->may_widen && !control_stricter(verb, r, want)) {
		snprintf(why, len,
		         "%s would let more through rule %lld (%s) than it "
		         "does, and prompt_answers is not \"all\": you may "
		         "only make your rules stricter (delete, disable or "
		         "shorten an allow rule, enable or lengthen a deny "
		         "rule); ask %s",
		         ctl_verb_name(verb), (long long)r->id,
		         action_name(r->action),
		         control_admins(p, who, sizeof(who)));
		return false;
	}
	return true;
}

bool
control_may_see_rule(const struct control_peer *p, const struct rule *r)
{
	return p->admin ||
	       (p->guarded && r->has_uid && control_peer_owns(p, r->uid));
}
