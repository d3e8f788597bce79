/*
 * control_access.h - who may read and change what over the control
 * socket (docs/control.md, "Who may connect, who may change"): pure
 * functions of a peer, a verb and a rule, so that one table decides and
 * the unit tests try every case.
 *
 * A peer is an admin (uid 0, or a member of admin_group: everything), a
 * guarded user (their own rules and events: rules bound to a uid of
 * theirs, events of a uid of theirs), or anyone else (STATUS, PROMPTS).
 * A guarded user's uids are their own and those of their subordinate
 * ranges (/etc/subuid), as everywhere in the control server.
 *
 * A guarded user may make their own rules stricter (delete or disable an
 * allow rule, enable a deny rule, shorten an allow rule or lengthen a
 * deny rule).  A change that lets more through (delete, disable or
 * shorten a deny rule, enable or lengthen an allow rule) only when
 * prompt_answers is "all": an answer to a prompt could have made the
 * same; under "once-only" and "admin-forever" it would get round them.
 */
#ifndef TG_CONTROL_ACCESS_H
#define TG_CONTROL_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/config.h"
#include "common/ctl.h"
#include "rules/rule.h"

/* Subordinate ranges of one user kept with a request (more are rare:
 * a user with more has the first ones counted, and a warning logged). */
#define CONTROL_PEER_SUBIDS 16

struct control_peer {
	uid_t uid;    /* as SO_PEERCRED said */
	uid_t owner;  /* the guarded user uid counts as (config_uid_owner()) */
	bool admin;   /* uid 0 or admin_group */
	bool guarded; /* tollgated guards uid */
	bool may_widen; /* prompt_answers = all: see above */
	char group[64]; /* admin_group, "" when not set: for the messages */
	struct subid_range sub[CONTROL_PEER_SUBIDS]; /* owner's */
	size_t n_sub;
};

/*
 * The peer uid as cfg sees it now (guarded users and subordinate ranges
 * change with /etc/subuid); admin is the client's, from its connect.
 * Returns how many of the owner's ranges were left out (0 normally).
 */
size_t control_peer_init(struct control_peer *p, const struct config *cfg,
                         uid_t uid, bool admin);

/* Whether uid is one of p's own (p's owner, or in one of its ranges). */
bool control_peer_owns(const struct control_peer *p, uid_t uid);

/*
 * Whether p may send verb at all (before any rule is looked at).  True,
 * or false with why (one sentence for "ERR perm").
 */
bool control_may_send(const struct control_peer *p, enum ctl_verb verb,
                      char *why, size_t len);

/* When a rule ends: RULE-DURATION's new duration. */
struct control_end {
	enum rule_duration duration;
	time_t expires; /* DUR_UNTIL only */
};

/*
 * Whether p may do verb (RULE-DEL, RULE-ENABLE, RULE-DISABLE,
 * RULE-DURATION) to rule r as stored: an admin any rule; a guarded user
 * a rule bound to a uid of theirs, when the change makes it stricter or
 * p->may_widen (above); never a rule of uid=any nor another's.  want:
 * RULE-DURATION's new duration, else NULL.  True, or false with why ("rule 7 is
 * not yours (uid=any): only an admin may change it").
 */
bool control_may_change(const struct control_peer *p, enum ctl_verb verb,
                        const struct rule *r, const struct control_end *want,
                        char *why, size_t len);

/* Whether p may see rule r in RULES (an admin: all; else its own). */
bool control_may_see_rule(const struct control_peer *p, const struct rule *r);

#endif
