/*
 * match.h - the rule matcher: an immutable in-memory index built from a
 * rule set, and the one implementation of rule precedence.
 *
 * Life of an index: the daemon loads a struct rules_set (from the store),
 * builds an index from it aside (on a worker thread), publishes the
 * pointer (an atomic store with release order) and frees the old index
 * once no reader can hold it any more.  An index never changes after
 * rules_index_build() returns, so any number of threads may call
 * rules_match() on it at once without locks; a lookup never sees half a
 * change.
 *
 * The index copies what it needs: the set may be freed right after the
 * build.  It keeps each rule as a compact struct rules_entry (a name rule
 * costs about 250 bytes of index in all, a struct rule over 6 KB), which
 * is what rules_match() returns; rules_entry_rule() turns one back into a full
 * struct rule for display.
 *
 * Cost of a lookup: it grows with the number of labels in the name and
 * the number of CIDR prefix lengths in use, not with the number of rules.
 *
 * Precedence (the first step that tells two matching rules apart decides):
 *   1. the higher priority;
 *   2. the app: this app with a script and a command line glob, then
 *      with a script, then with a command line glob, then this app alone;
 *      then any app; each with this uid before without;
 *   3. the more specific destination: the exact name, then the longest
 *      wildcard or list suffix (a list entry "x.org" ranks as "*.x.org";
 *      "x.org" beats "*.x.org"), then an IP, then the narrowest CIDR,
 *      then any;
 *   4. the narrower port range (one port is the narrowest), then any;
 *   5. a protocol over any;
 *   6. the action: deny, then reject, then allow;
 *   7. the lower id (the older rule); rules without an id (0) come after
 *      rules with one, and among themselves in set order.
 * rules/README.md has an example for each step.
 */
#ifndef TG_MATCH_H
#define TG_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "common/digest.h" /* DIGEST_LEN */
#include "rules/rule.h"

#define RULES_EXPLAIN_MAX 1024       /* rules_explain.text, with its NUL */
#define RULES_INDEX_MAX   (1u << 24) /* rules plus list names in one index */

/* One list rule's names, as given to the set. */
struct rules_set_list {
	const char *const *names; /* normalised names (list.h) */
	size_t n;
};

/*
 * A rule set: what the store loads and what an import carries.  rules[i]
 * is a DEST_LIST rule's list when lists[i].names is set (lists is NULL or
 * has n_rules entries; a DEST_LIST rule without names matches nothing).
 * Filled by rules_set_add(), which copies; freed by rules_set_free().
 * Disabled and expired rules may be in a set; the index leaves them out.
 */
struct rules_set {
	struct rule *rules;
	size_t n_rules;
	struct rules_set_list *lists;
	/* private to match.c */
	size_t cap;
	char **blocks; /* each list's names, one block per rule */
};

void rules_set_init(struct rules_set *set);

/*
 * Append a copy of r, and for a DEST_LIST rule a copy of its names
 * (names[0..n_names), which must be normalised; duplicates are kept as
 * given, the index folds them).  names must be NULL and n_names 0 for any
 * other rule.  Returns 0 or -1 + err (set unchanged).
 */
int rules_set_add(struct rules_set *set, const struct rule *r,
                  const char *const *names, size_t n_names, char *err,
                  size_t errlen);

/*
 * Make room for n more rules at once, before adding them: a set grown by
 * rules_set_add() alone doubles its array, and moves the rules already in
 * it each time (a struct rule is 6 KiB; on this VM the first read of the
 * moved pages cost microseconds each, bench/README.md).  0 or -1 + err
 * (set unchanged, still usable).
 */
int rules_set_reserve(struct rules_set *set, size_t n, char *err,
                      size_t errlen);

/* Free what rules_set_add() allocated and empty the set. */
void rules_set_free(struct rules_set *set);

/*
 * An indexed rule.  Owned by the index; read only; valid until
 * rules_index_free().  The fields are struct rule's, strings interned.
 */
struct rules_entry {
	/* What a lookup reads, together. */
	const char *app; /* exe path or "*" */
	time_t expires;  /* DUR_UNTIL only */
	enum rule_duration duration;
	uint16_t port_lo, port_hi;
	enum rule_proto proto;
	bool has_uid;
	uid_t uid;
	int priority;
	enum rule_dest dest_kind;
	enum action action;
	unsigned prefix;
	int64_t id;
	uint32_t slot; /* 0 .. rules_index_count() - 1 */
	/* The rest of the rule. */
	const char *dest; /* as struct rule's dest */
	int family;
	uint8_t addr[16];
	time_t created, updated, last_hit;
	uint64_t hits; /* as loaded; live counts are the caller's */
	const char *note;
	const char *via; /* the route of an allow rule; "" when none */
	bool pinned;     /* matches only a file of this SHA-256: */
	uint8_t digest[DIGEST_LEN];
	const char *script;  /* the script it runs; "" when any */
	const char *cmdline; /* a glob of its command line; "" when any */
};

/* A question: who connects where. */
struct rules_query {
	const char *app; /* exe path; NULL when the process is unknown
	                  * (then only app "*" rules match) */
	bool has_uid;    /* false: only rules without a uid match */
	uid_t uid;
	const char *name;            /* normalised name (name_normalise()), or
	                              * NULL: only IP, CIDR and any rules match */
	const struct sockaddr *addr; /* AF_INET or AF_INET6 (a v4-mapped
	                              * IPv6 address is taken as IPv4), or NULL:
	                              * no IP or CIDR rule matches */
	uint16_t port;               /* 0: only any-port rules match */
	enum rule_proto proto;       /* RPROTO_TCP, _UDP or _DNS */
	time_t now;                  /* a DUR_UNTIL rule matches while now <
	                              * expires */
	const uint8_t *digest;       /* the SHA-256 of the file the process
	                              * runs (DIGEST_LEN bytes), or NULL: no pinned
	                              * rule matches */
	const char *script;          /* the script an interpreter runs
	                              * (interp.h), or NULL: no rule with a
	                              * script matches */
	const char *cmdline;         /* argv joined by spaces, or NULL: no
	                              * rule with a cmdline glob matches */
	int64_t *pin_missed;         /* when not NULL, set to the id of an
	                              * allow rule pinned to another digest
	                              * that would have matched but for its
	                              * pin (the first such), else left
	                              * alone */
};

/* The precedence steps, as numbered above. */
enum rules_step {
	RULES_STEP_NONE = -1, /* no rule matches */
	RULES_STEP_ONLY = 0,  /* one rule matches */
	RULES_STEP_PRIORITY = 1,
	RULES_STEP_APP,
	RULES_STEP_DEST,
	RULES_STEP_PORT,
	RULES_STEP_PROTO,
	RULES_STEP_ACTION,
	RULES_STEP_ID,
};

/* Why a rule decided: filled by rules_match() when asked for. */
struct rules_explain {
	const struct rules_entry *winner;    /* NULL: none matched */
	const struct rules_entry *runner_up; /* NULL: the only match */
	enum rules_step step;         /* what set winner above runner_up */
	size_t n_matches;             /* rules that matched the query */
	char text[RULES_EXPLAIN_MAX]; /* "decided by rule 12 at step 3:
	                               * more specific destination (exact name
	                               * beats *.example.com, rule 7)" */
};

struct rules_index;

/*
 * Build an index of set's enabled rules that have not expired at now.
 * Returns the index, or NULL + err (out of memory, more than
 * RULES_INDEX_MAX rules and names, a rule that is not valid).
 */
struct rules_index *rules_index_build(const struct rules_set *set, time_t now,
                                      char *err, size_t errlen);
void rules_index_free(struct rules_index *idx);

/*
 * The rule that decides q, or NULL when none matches (the caller then
 * applies its default action).  Never allocates, never fails, safe to
 * call from any thread.  When why is not NULL it is filled (that costs
 * a little more: the runner-up is kept too).
 */
const struct rules_entry *rules_match(const struct rules_index *idx,
                                      const struct rules_query *q,
                                      struct rules_explain *why);

/*
 * Hit counting: each indexed rule has a slot, 0 .. count - 1, so the
 * caller can keep counters in its own array next to the index (the index
 * itself stays read only).  rules_index_entry() maps a slot back to its
 * rule (to write the counts back by id).
 */
size_t rules_index_count(const struct rules_index *idx);
const struct rules_entry *rules_index_entry(const struct rules_index *idx,
                                            size_t slot);

/* Bytes the index holds (for the daemon's status and the bench). */
size_t rules_index_memory(const struct rules_index *idx);

/* The full rule back from an indexed one. */
void rules_entry_rule(const struct rules_entry *e, struct rule *out);

/* "priority", "app", ... for a step; "only match" and "no match". */
const char *rules_step_name(enum rules_step step);

#endif
