/*
 * match.c - the rule index and rule precedence; see match.h.
 *
 * Layout of an index (all of it written once, in rules_index_build()):
 *   entries  one struct rules_entry per indexed rule, by slot;
 *   apps     the interned app strings (slot 0 is "*"), each with the
 *            slots of its any-destination rules;
 *   names    one node per (app, name) with the slots of the exact rules
 *            for that name and of the wildcard and list rules whose base
 *            or entry it is; found by a hash of the name computed from
 *            its last byte to its first, so that one pass over a query
 *            name yields the hash of each of its suffixes in turn; table
 *            slots carry a tag of the hash so a miss touches no node, and
 *            a bit filter over the suffix hashes skips the suffixes no
 *            rule of any app names (most of them: "com", "example.com");
 *   nets     per address family, per prefix length in use (longest
 *            first), one node per masked address with the slots of the
 *            IP and CIDR rules for it, of every app.
 * A lookup gathers candidates from those, drops those that do not fit the
 * query (app, uid, port, protocol, expiry) and ranks the rest.
 */
#include <arpa/inet.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/digest.h"
#include "common/errbuf.h"
#include "common/hex.h"
#include "rules/match.h"

#define IX_ARENA_BLOCK 65536
#define IX_NONE        UINT32_MAX
#define IX_FNV_OFFSET  14695981039346656037ULL
#define IX_FNV_PRIME   1099511628211ULL
#define IX_RANKS       8 /* rank fields; see ix_rank() */

struct ix_block {
	struct ix_block *next;
	size_t size, used;
	char data[];
};

struct ix_app {
	const char *name;
	uint64_t hash;
	uint32_t any_off, any_n;
	bool has_names; /* any name node for this app */
};

/* A hash table slot: a tag (the key's top half) before the index, so
 * that a probe that misses never touches a node. */
struct ix_slot {
	uint32_t tag;
	uint32_t idx; /* index + 1; 0 = empty */
};

/*
 * A name node, one cache line: the first IX_HEAD bytes of the name are
 * compared in place, and a node with one rule of a kind holds its slot
 * itself (n_exact or n_wild 1) instead of an offset into name_refs.
 */
#define IX_HEAD 24
struct ix_name {
	uint64_t key;     /* of (app, name) */
	const char *name; /* all of it, in the arena */
	uint32_t app;
	uint32_t len;
	uint32_t exact, n_exact; /* the slot, or the offset of n slots */
	uint32_t wild, n_wild;
	char head[IX_HEAD];
} __attribute__((aligned(64)));

struct ix_net {
	uint8_t addr[16];
	uint32_t off, n;
};

struct ix_plen {
	unsigned prefix;
	struct ix_net *nets;
	size_t n_nets;
	uint32_t *tab; /* index + 1 into nets */
	size_t mask;
};

struct ix_family {
	struct ix_plen *plens; /* longest prefix first */
	size_t n;
};

struct rules_index {
	struct rules_entry *entries;
	size_t n;
	struct ix_app *apps;
	size_t n_apps;
	uint32_t *app_tab; /* index + 1 into apps */
	size_t app_mask;
	struct ix_name *names;
	size_t n_names;
	struct ix_slot *name_tab;
	size_t name_mask;
	uint64_t *filter; /* one bit per suffix hash that has a node */
	size_t filter_mask;
	uint32_t *name_refs;
	uint32_t *any_refs;
	uint32_t *net_refs;
	uint32_t *net_apps;      /* the app of each net_refs slot */
	struct ix_family fam[2]; /* AF_INET, AF_INET6 */
	struct ix_block *arena;
	size_t mem;
};

/* A matching rule and how it matched, ranked. */
struct ix_cand {
	const struct rules_entry *e;
	const char *via; /* the suffix a wildcard or list rule matched */
	int64_t rank[IX_RANKS];
};

/* One (rule, name) to index, gathered before the name nodes are made. */
struct ix_pair {
	const char *name; /* in the set: valid during the build */
	uint32_t slot;
	uint32_t node;
	bool exact;
};

static uint64_t
ix_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t
ix_str_hash(const char *s)
{
	uint64_t h = IX_FNV_OFFSET;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * IX_FNV_PRIME;
	return h;
}

/* The hash of a name from its last byte to its first; see the top. */
static uint64_t
ix_rhash(const char *s, size_t n)
{
	uint64_t h = IX_FNV_OFFSET;

	while (n > 0)
		h = (h ^ (unsigned char)s[--n]) * IX_FNV_PRIME;
	return h;
}

static uint64_t
ix_name_key(uint64_t rhash, uint32_t app)
{
	return ix_mix(rhash ^ ((uint64_t)app * 0x9e3779b97f4a7c15ULL));
}

static uint64_t
ix_addr_hash(const uint8_t *addr)
{
	uint64_t a, b;

	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	return ix_mix(a ^ ix_mix(b));
}

static size_t
ix_pow2(size_t n)
{
	size_t p = 16;

	while (p < n)
		p *= 2;
	return p;
}

/* Allocations that stay with the index are counted in idx->mem. */
static void *
ix_calloc(struct rules_index *idx, size_t n, size_t size)
{
	void *p;

	if (n == 0)
		n = 1;
	if ((p = calloc(n, size)) != NULL)
		idx->mem += n * size;
	return p;
}

static const char *
ix_strdup(struct rules_index *idx, const char *s)
{
	struct ix_block *b = idx->arena;
	size_t n = strlen(s) + 1, size;
	char *p;

	if (n == 1)
		return "";
	if (b == NULL || b->used + n > b->size) {
		size = n > IX_ARENA_BLOCK ? n : IX_ARENA_BLOCK;
		if ((b = malloc(sizeof(*b) + size)) == NULL)
			return NULL;
		idx->mem += sizeof(*b) + size;
		b->size = size;
		b->used = 0;
		b->next = idx->arena;
		idx->arena = b;
	}
	p = b->data + b->used;
	memcpy(p, s, n);
	b->used += n;
	return p;
}

/*
 * Rule sets.
 */

void
rules_set_init(struct rules_set *set)
{
	memset(set, 0, sizeof(*set));
}

void
rules_set_free(struct rules_set *set)
{
	size_t i;

	if (set->blocks != NULL)
		for (i = 0; i < set->n_rules; i++)
			free(set->blocks[i]);
	free(set->blocks);
	free(set->lists);
	free(set->rules);
	rules_set_init(set);
}

/* Room for cap rules in each of set's arrays.  0 or -1 (out of memory;
 * what was grown stays, the set is unchanged otherwise). */
static int
set_grow(struct rules_set *set, size_t cap)
{
	struct rules_set_list *lists;
	struct rule *rules;
	char **blocks;

	if ((rules = realloc(set->rules, cap * sizeof(*rules))) == NULL)
		return -1;
	set->rules = rules;
	if ((lists = realloc(set->lists, cap * sizeof(*lists))) == NULL)
		return -1;
	set->lists = lists;
	if ((blocks = realloc(set->blocks, cap * sizeof(*blocks))) == NULL)
		return -1;
	set->blocks = blocks;
	set->cap = cap;
	return 0;
}

int
rules_set_reserve(struct rules_set *set, size_t n, char *err, size_t errlen)
{
	if (n > RULES_INDEX_MAX ||
	    n > SIZE_MAX / sizeof(*set->rules) - set->n_rules)
		return errbuf_set(err, errlen,
		                  "room for %zu rules: more than %u", n,
		                  RULES_INDEX_MAX);
	if (set->n_rules + n <= set->cap)
		return 0;
	if (set_grow(set, set->n_rules + n) == -1)
		return errbuf_set(err, errlen,
		                  "room for %zu rules: out of memory", n);
	return 0;
}

int
rules_set_add(struct rules_set *set, const struct rule *r,
              const char *const *names, size_t n_names, char *err,
              size_t errlen)
{
	char *block = NULL, *p;
	const char **copy;
	size_t bytes, i, len;

	if (r->dest_kind != DEST_LIST && (names != NULL || n_names > 0))
		return errbuf_set(
		    err, errlen,
		    "rule %lld: names given for a rule that is not a list "
		    "rule",
		    (long long)r->id);
	if (n_names > RULES_INDEX_MAX)
		return errbuf_set(err, errlen, "rule %lld: more than %u names",
		                  (long long)r->id, RULES_INDEX_MAX);
	if (set->n_rules == set->cap &&
	    set_grow(set, set->cap == 0 ? 16 : set->cap * 2) == -1)
		goto nomem;
	if (names != NULL) {
		bytes = n_names * sizeof(char *);
		for (i = 0; i < n_names; i++)
			bytes += strlen(names[i]) + 1;
		if ((block = malloc(bytes == 0 ? 1 : bytes)) == NULL)
			goto nomem;
		copy = (const char **)(void *)block;
		p = block + n_names * sizeof(char *);
		for (i = 0; i < n_names; i++) {
			len = strlen(names[i]) + 1;
			memcpy(p, names[i], len);
			copy[i] = p;
			p += len;
		}
		set->lists[set->n_rules].names = copy;
		set->lists[set->n_rules].n = n_names;
	} else {
		set->lists[set->n_rules].names = NULL;
		set->lists[set->n_rules].n = 0;
	}
	set->blocks[set->n_rules] = block;
	set->rules[set->n_rules++] = *r;
	return 0;
nomem:
	return errbuf_set(err, errlen, "rule %lld: out of memory",
	                  (long long)r->id);
}

/*
 * Building.
 */

static void
ix_free_arena(struct ix_block *b)
{
	struct ix_block *next;

	for (; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
}

void
rules_index_free(struct rules_index *idx)
{
	size_t f, i;

	if (idx == NULL)
		return;
	for (f = 0; f < 2; f++) {
		for (i = 0; i < idx->fam[f].n; i++) {
			free(idx->fam[f].plens[i].nets);
			free(idx->fam[f].plens[i].tab);
		}
		free(idx->fam[f].plens);
	}
	free(idx->entries);
	free(idx->apps);
	free(idx->app_tab);
	free(idx->names);
	free(idx->name_tab);
	free(idx->filter);
	free(idx->name_refs);
	free(idx->any_refs);
	free(idx->net_refs);
	free(idx->net_apps);
	ix_free_arena(idx->arena);
	free(idx);
}

/* The app's index in idx->apps, or IX_NONE. */
static uint32_t
ix_app_find(const struct rules_index *idx, const char *app, uint64_t h)
{
	size_t i;
	uint32_t a;

	for (i = h & idx->app_mask; (a = idx->app_tab[i]) != 0;
	     i = (i + 1) & idx->app_mask)
		if (idx->apps[a - 1].hash == h &&
		    strcmp(idx->apps[a - 1].name, app) == 0)
			return a - 1;
	return IX_NONE;
}

static uint32_t
ix_app_add(struct rules_index *idx, const char *app)
{
	uint64_t h = ix_str_hash(app);
	uint32_t a;
	size_t i;

	if ((a = ix_app_find(idx, app, h)) != IX_NONE)
		return a;
	a = (uint32_t)idx->n_apps;
	if ((idx->apps[a].name = ix_strdup(idx, app)) == NULL)
		return IX_NONE;
	idx->apps[a].hash = h;
	for (i = h & idx->app_mask; idx->app_tab[i] != 0;
	     i = (i + 1) & idx->app_mask)
		;
	idx->app_tab[i] = a + 1;
	idx->n_apps++;
	return a;
}

static const struct ix_name *
ix_name_find(const struct rules_index *idx, uint32_t app, const char *name,
             size_t len, uint64_t key)
{
	const struct ix_name *nd;
	const struct ix_slot *sl;
	uint32_t tag = (uint32_t)(key >> 32);
	size_t i, head = len < IX_HEAD ? len : IX_HEAD;

	for (i = key & idx->name_mask; (sl = &idx->name_tab[i])->idx != 0;
	     i = (i + 1) & idx->name_mask) {
		if (sl->tag != tag)
			continue;
		nd = &idx->names[sl->idx - 1];
		/* The hash is no proof: names are compared byte for byte. */
		if (nd->key == key && nd->app == app && nd->len == len &&
		    memcmp(nd->head, name, head) == 0 &&
		    (len <= IX_HEAD ||
		     memcmp(nd->name + IX_HEAD, name + IX_HEAD,
		            len - IX_HEAD) == 0))
			return nd;
	}
	return NULL;
}

/* The filter bit of a suffix, whatever the app. */
static size_t
ix_filter_bit(const struct rules_index *idx, uint64_t rhash)
{
	return ix_mix(rhash) & idx->filter_mask;
}

/* The node of (app, name), made if new.  Returns its index or IX_NONE. */
static uint32_t
ix_name_add(struct rules_index *idx, uint32_t app, const char *name)
{
	size_t len = strlen(name), i, bit;
	uint64_t rhash = ix_rhash(name, len);
	uint64_t key = ix_name_key(rhash, app);
	const struct ix_name *found;
	struct ix_name *nd;

	if ((found = ix_name_find(idx, app, name, len, key)) != NULL)
		return (uint32_t)(found - idx->names);
	nd = &idx->names[idx->n_names];
	memset(nd, 0, sizeof(*nd));
	if ((nd->name = ix_strdup(idx, name)) == NULL)
		return IX_NONE;
	nd->key = key;
	nd->app = app;
	nd->len = (uint32_t)len;
	memcpy(nd->head, name, len < IX_HEAD ? len : IX_HEAD);
	for (i = key & idx->name_mask; idx->name_tab[i].idx != 0;
	     i = (i + 1) & idx->name_mask)
		;
	idx->name_tab[i].tag = (uint32_t)(key >> 32);
	idx->name_tab[i].idx = (uint32_t)(++idx->n_names);
	bit = ix_filter_bit(idx, rhash);
	idx->filter[bit / 64] |= 1ULL << (bit % 64);
	idx->apps[app].has_names = true;
	return (uint32_t)(idx->n_names - 1);
}

_Static_assert(RULE_DIGEST_HEX + 1 == DIGEST_HEX_LEN,
               "a rule's digest is digest_hex()'s text");

/* Whether d is RULE_DIGEST_HEX hex digits and its end. */
static bool
ix_digest_ok(const char *d)
{
	size_t i;

	for (i = 0; i < RULE_DIGEST_HEX; i++)
		if (hex_digit((unsigned char)d[i]) == -1)
			return false;
	return d[i] == '\0';
}

/* A rule the index can take: 0, or -1 + err naming it. */
static int
ix_rule_check(const struct rule *r, char *err, size_t errlen)
{
	const char *what = NULL;

	if (r->app[0] == '\0' || memchr(r->app, '\0', RULE_APP_MAX) == NULL)
		what = "no app";
	else if (memchr(r->dest, '\0', sizeof(r->dest)) == NULL ||
	         memchr(r->note, '\0', sizeof(r->note)) == NULL ||
	         memchr(r->via, '\0', sizeof(r->via)) == NULL ||
	         memchr(r->script, '\0', sizeof(r->script)) == NULL ||
	         memchr(r->cmdline, '\0', sizeof(r->cmdline)) == NULL)
		what = "dest, note, via, script or cmdline not terminated";
	else if ((r->dest_kind == DEST_NAME || r->dest_kind == DEST_WILDCARD) &&
	         r->dest[0] == '\0')
		what = "no name";
	else if ((r->dest_kind == DEST_IP || r->dest_kind == DEST_CIDR) &&
	         ((r->family != AF_INET && r->family != AF_INET6) ||
	          r->prefix > (r->family == AF_INET ? 32u : 128u)))
		what = "bad address family or prefix";
	else if (r->dest_kind < DEST_ANY || r->dest_kind > DEST_LIST)
		what = "bad destination kind";
	else if (r->digest[0] != '\0' && !ix_digest_ok(r->digest))
		what = "bad digest";
	if (what == NULL)
		return 0;
	return errbuf_set(err, errlen, "rule %lld: %s", (long long)r->id, what);
}

static void
ix_entry_fill(struct rules_entry *e, const struct rule *r, uint32_t slot)
{
	size_t i;

	memset(e, 0, sizeof(*e));
	e->id = r->id;
	e->slot = slot;
	e->action = r->action;
	e->duration = r->duration;
	e->expires = r->duration == DUR_UNTIL ? r->expires : 0;
	e->priority = r->priority;
	e->has_uid = r->has_uid;
	e->uid = r->has_uid ? r->uid : 0;
	e->dest_kind = r->dest_kind;
	e->family = r->family;
	memcpy(e->addr, r->addr, sizeof(e->addr));
	e->prefix = r->prefix;
	e->port_lo = r->port_lo;
	e->port_hi = r->port_hi;
	e->proto = r->proto;
	e->created = r->created;
	e->updated = r->updated;
	e->last_hit = r->last_hit;
	e->hits = r->hits;
	e->pinned = r->digest[0] != '\0';
	for (i = 0; e->pinned && i < sizeof(e->digest); i++)
		e->digest[i] = (uint8_t)(hex_digit(r->digest[2 * i]) << 4 |
		                         hex_digit(r->digest[2 * i + 1]));
}

/*
 * The name nodes from the pairs: make (or find) each pair's node and
 * count its rules, a list's duplicate names (which come one after the
 * other in a node, pairs being in slot order) once; then lay out the slot
 * lists of the nodes with more than one rule of a kind and fill them.
 */
static int
ix_build_names(struct rules_index *idx, struct ix_pair *pairs, size_t n_pairs,
               const uint32_t *rapp)
{
	struct ix_name *nd, *names;
	uint32_t *fill = NULL;
	size_t i, total = 0, bits, n_nodes;
	int rc = -1;

	if (posix_memalign((void **)&names, 64,
	                   (n_pairs == 0 ? 1 : n_pairs) * sizeof(*nd)) != 0)
		return -1;
	idx->names = names;
	idx->name_mask = ix_pow2(2 * n_pairs) - 1;
	idx->name_tab =
	    ix_calloc(idx, idx->name_mask + 1, sizeof(struct ix_slot));
	bits = ix_pow2(8 * n_pairs < 512 ? 512 : 8 * n_pairs);
	idx->filter_mask = bits - 1;
	idx->filter = ix_calloc(idx, bits / 64, sizeof(uint64_t));
	if (idx->name_tab == NULL || idx->filter == NULL)
		return -1;
	for (i = 0; i < n_pairs; i++) {
		pairs[i].node =
		    ix_name_add(idx, rapp[pairs[i].slot], pairs[i].name);
		if (pairs[i].node == IX_NONE)
			return -1;
		nd = &idx->names[pairs[i].node];
		if (idx->entries[pairs[i].slot].dest_kind != DEST_LIST)
			idx->entries[pairs[i].slot].dest = nd->name;
		if (pairs[i].exact) {
			nd->exact = pairs[i].slot;
			nd->n_exact++;
		} else if (nd->n_wild > 0 && nd->wild == pairs[i].slot)
			pairs[i].node = IX_NONE; /* a duplicate */
		else {
			nd->wild = pairs[i].slot;
			nd->n_wild++;
		}
	}
	/* A list with many duplicates leaves room unused: give it back. */
	n_nodes = idx->n_names == 0 ? 1 : idx->n_names;
	if (idx->n_names < n_pairs - n_pairs / 4 &&
	    posix_memalign((void **)&names, 64, n_nodes * sizeof(*nd)) == 0) {
		memcpy(names, idx->names, idx->n_names * sizeof(*nd));
		free(idx->names);
		idx->names = names;
		idx->mem += n_nodes * sizeof(*nd);
	} else
		idx->mem += (n_pairs == 0 ? 1 : n_pairs) * sizeof(*nd);
	if ((fill = calloc(n_nodes, sizeof(*fill))) == NULL)
		return -1;
	for (i = 0; i < idx->n_names; i++) {
		nd = &idx->names[i];
		if (nd->n_exact > 1) {
			nd->exact = (uint32_t)total;
			total += nd->n_exact;
		}
		if (nd->n_wild > 1) {
			nd->wild = (uint32_t)total;
			total += nd->n_wild;
		}
	}
	if ((idx->name_refs = ix_calloc(idx, total, sizeof(uint32_t))) == NULL)
		goto done;
	/* fill[node]: the exact slots placed so far, then the wild ones. */
	for (i = 0; i < n_pairs; i++) {
		if (pairs[i].node == IX_NONE || !pairs[i].exact)
			continue;
		nd = &idx->names[pairs[i].node];
		if (nd->n_exact > 1)
			idx->name_refs[nd->exact + fill[pairs[i].node]++] =
			    pairs[i].slot;
	}
	memset(fill, 0, n_nodes * sizeof(*fill));
	for (i = 0; i < n_pairs; i++) {
		if (pairs[i].node == IX_NONE || pairs[i].exact)
			continue;
		nd = &idx->names[pairs[i].node];
		if (nd->n_wild > 1)
			idx->name_refs[nd->wild + fill[pairs[i].node]++] =
			    pairs[i].slot;
	}
	rc = 0;
done:
	free(fill);
	return rc;
}

static int
ix_fam(int family)
{
	return family == AF_INET ? 0 : 1;
}

/* By family, longest prefix first, address, slot. */
static int
ix_net_cmp(const void *pa, const void *pb, void *arg)
{
	const struct rules_entry *entries = arg;
	const struct rules_entry *a = &entries[*(const uint32_t *)pa];
	const struct rules_entry *b = &entries[*(const uint32_t *)pb];
	int c;

	if (ix_fam(a->family) != ix_fam(b->family))
		return ix_fam(a->family) - ix_fam(b->family);
	if (a->prefix != b->prefix)
		return a->prefix > b->prefix ? -1 : 1;
	if ((c = memcmp(a->addr, b->addr, sizeof(a->addr))) != 0)
		return c;
	return a->slot < b->slot ? -1 : a->slot > b->slot;
}

/*
 * The address nodes: the IP and CIDR slots sorted by family, prefix and
 * address, so that each node's slots are one run of the sorted array.
 */
static int
ix_build_nets(struct rules_index *idx, size_t n_nets, const uint32_t *rapp)
{
	const struct rules_entry *e, *p;
	struct ix_family *fam;
	struct ix_plen *pl;
	struct ix_net *net;
	size_t s, i, j, k, run, h;

	idx->net_refs = ix_calloc(idx, n_nets, sizeof(uint32_t));
	idx->net_apps = ix_calloc(idx, n_nets, sizeof(uint32_t));
	if (idx->net_refs == NULL || idx->net_apps == NULL)
		return -1;
	for (k = 0, s = 0; s < idx->n; s++)
		if (idx->entries[s].dest_kind == DEST_IP ||
		    idx->entries[s].dest_kind == DEST_CIDR)
			idx->net_refs[k++] = (uint32_t)s;
	qsort_r(idx->net_refs, n_nets, sizeof(uint32_t), ix_net_cmp,
	        idx->entries);
	for (k = 0; k < n_nets; k++)
		idx->net_apps[k] = rapp[idx->net_refs[k]];

	for (i = 0; i < n_nets; i = j) {
		/* One (family, prefix) group: [i, j). */
		e = &idx->entries[idx->net_refs[i]];
		fam = &idx->fam[ix_fam(e->family)];
		for (j = i; j < n_nets; j++) {
			p = &idx->entries[idx->net_refs[j]];
			if (p->family != e->family || p->prefix != e->prefix)
				break;
		}
		if (fam->plens == NULL &&
		    (fam->plens = ix_calloc(idx, 129, sizeof(*pl))) == NULL)
			return -1;
		pl = &fam->plens[fam->n++];
		pl->prefix = e->prefix;
		pl->nets = ix_calloc(idx, j - i, sizeof(*net));
		pl->mask = ix_pow2(2 * (j - i)) - 1;
		pl->tab = ix_calloc(idx, pl->mask + 1, sizeof(uint32_t));
		if (pl->nets == NULL || pl->tab == NULL)
			return -1;
		for (k = i; k < j; k += run) {
			e = &idx->entries[idx->net_refs[k]];
			for (run = 1; k + run < j; run++) {
				p = &idx->entries[idx->net_refs[k + run]];
				if (memcmp(p->addr, e->addr, 16) != 0)
					break;
			}
			net = &pl->nets[pl->n_nets++];
			memcpy(net->addr, e->addr, 16);
			net->off = (uint32_t)k;
			net->n = (uint32_t)run;
			for (h = ix_addr_hash(net->addr) & pl->mask;
			     pl->tab[h] != 0; h = (h + 1) & pl->mask)
				;
			pl->tab[h] = (uint32_t)pl->n_nets;
		}
	}
	return 0;
}

/* The any-destination slots, grouped by app. */
static int
ix_build_any(struct rules_index *idx, const uint32_t *rapp, size_t n_any)
{
	size_t s, a, off;

	if ((idx->any_refs = ix_calloc(idx, n_any, sizeof(uint32_t))) == NULL)
		return -1;
	for (s = 0; s < idx->n; s++)
		if (idx->entries[s].dest_kind == DEST_ANY)
			idx->apps[rapp[s]].any_n++;
	for (off = 0, a = 0; a < idx->n_apps; a++) {
		idx->apps[a].any_off = (uint32_t)off;
		off += idx->apps[a].any_n;
		idx->apps[a].any_n = 0;
	}
	for (s = 0; s < idx->n; s++)
		if (idx->entries[s].dest_kind == DEST_ANY) {
			a = rapp[s];
			idx->any_refs[idx->apps[a].any_off +
			              idx->apps[a].any_n++] = (uint32_t)s;
		}
	return 0;
}

/*
 * The app table was sized for one app per rule; most rules share a few
 * apps.  Remake it at their size.  0 or -1.
 */
static int
ix_apps_shrink(struct rules_index *idx)
{
	struct ix_app *apps;
	uint32_t *tab;
	size_t mask, a, i;

	mask = ix_pow2(2 * idx->n_apps) - 1;
	if ((tab = calloc(mask + 1, sizeof(*tab))) == NULL)
		return -1;
	for (a = 0; a < idx->n_apps; a++) {
		for (i = idx->apps[a].hash & mask; tab[i] != 0;
		     i = (i + 1) & mask)
			;
		tab[i] = (uint32_t)a + 1;
	}
	free(idx->app_tab);
	idx->app_tab = tab;
	idx->app_mask = mask;
	if ((apps = realloc(idx->apps, idx->n_apps * sizeof(*apps))) != NULL)
		idx->apps = apps;
	idx->mem += (mask + 1) * sizeof(*tab) + idx->n_apps * sizeof(*apps);
	return 0;
}

/*
 * A struct rule is over 6 KB, so each rule of a set is on pages of its
 * own and no hardware prefetcher sees the next one coming: ask for the
 * lines the build reads a few rules ahead.
 */
#define IX_PREFETCH 4
static void
ix_prefetch_rule(const struct rule *r)
{
	__builtin_prefetch(r);
	__builtin_prefetch(&r->dest_kind);
	__builtin_prefetch(&r->port_lo);
	__builtin_prefetch(&r->expires);
	__builtin_prefetch(&r->last_hit);
}

/* Append a pair, growing the array.  0 or -1. */
static int
ix_pair_push(struct ix_pair **pairs, size_t *n, size_t *cap, const char *name,
             uint32_t slot, bool exact)
{
	struct ix_pair *p;
	size_t c;

	if (*n == *cap) {
		c = *cap == 0 ? 1024 : *cap * 2;
		if ((p = realloc(*pairs, c * sizeof(*p))) == NULL)
			return -1;
		*pairs = p;
		*cap = c;
	}
	p = &(*pairs)[(*n)++];
	p->name = name;
	p->slot = slot;
	p->node = IX_NONE;
	p->exact = exact;
	return 0;
}

/*
 * One pass over the set (a struct rule is large: each is read once) makes
 * the entries, interns the apps and gathers the names; then the name,
 * address and any-destination tables are made from the compact entries.
 */
struct rules_index *
rules_index_build(const struct rules_set *set, time_t now, char *err,
                  size_t errlen)
{
	struct rules_index *idx;
	const struct rules_set_list *l;
	const struct rule *r;
	struct rules_entry *e, *entries;
	struct ix_pair *pairs = NULL;
	size_t i, j, s, n_pairs = 0, cap_pairs = 0, n_nets = 0, n_any = 0;
	uint32_t *rapp = NULL;

	if ((idx = calloc(1, sizeof(*idx))) == NULL)
		goto nomem;
	idx->mem = sizeof(*idx);
	idx->entries = malloc((set->n_rules == 0 ? 1 : set->n_rules) *
	                      sizeof(*idx->entries));
	idx->apps = calloc(set->n_rules + 1, sizeof(*idx->apps));
	idx->app_mask = ix_pow2(2 * (set->n_rules + 1)) - 1;
	idx->app_tab = calloc(idx->app_mask + 1, sizeof(uint32_t));
	rapp = malloc((set->n_rules == 0 ? 1 : set->n_rules) * sizeof(*rapp));
	if (idx->entries == NULL || idx->apps == NULL || idx->app_tab == NULL ||
	    rapp == NULL || ix_app_add(idx, "*") != 0)
		goto nomem;
	for (i = 0; i < set->n_rules; i++) {
		r = &set->rules[i];
		l = set->lists != NULL ? &set->lists[i] : NULL;
		if (i + IX_PREFETCH < set->n_rules)
			ix_prefetch_rule(&set->rules[i + IX_PREFETCH]);
		if (!r->enabled || rule_expired(r, now))
			continue;
		if (ix_rule_check(r, err, errlen) == -1)
			goto fail;
		s = idx->n++;
		e = &idx->entries[s];
		ix_entry_fill(e, r, (uint32_t)s);
		if ((rapp[s] = ix_app_add(idx, r->app)) == IX_NONE ||
		    (e->note = ix_strdup(idx, r->note)) == NULL ||
		    (e->via = ix_strdup(idx, r->via)) == NULL ||
		    (e->script = ix_strdup(idx, r->script)) == NULL ||
		    (e->cmdline = ix_strdup(idx, r->cmdline)) == NULL)
			goto nomem;
		e->app = idx->apps[rapp[s]].name;
		switch (r->dest_kind) {
		case DEST_NAME:
		case DEST_WILDCARD:
			/* dest: the name node's copy, set with the nodes */
			if (ix_pair_push(&pairs, &n_pairs, &cap_pairs, r->dest,
			                 (uint32_t)s,
			                 r->dest_kind == DEST_NAME) == -1)
				goto nomem;
			break;
		case DEST_LIST:
			if (l != NULL && l->names != NULL)
				for (j = 0; j < l->n; j++)
					if (ix_pair_push(
					        &pairs, &n_pairs, &cap_pairs,
					        l->names[j], (uint32_t)s,
					        false) == -1)
						goto nomem;
			/* FALLTHROUGH */
		default:
			if ((e->dest = ix_strdup(idx, r->dest)) == NULL)
				goto nomem;
			if (r->dest_kind == DEST_IP ||
			    r->dest_kind == DEST_CIDR)
				n_nets++;
			else if (r->dest_kind == DEST_ANY)
				n_any++;
			break;
		}
		if (idx->n + n_pairs > RULES_INDEX_MAX) {
			errbuf_set(
			    err, errlen,
			    "more than %u rules and list names in one index",
			    RULES_INDEX_MAX);
			goto fail;
		}
	}
	if (idx->n > 0 &&
	    (entries = realloc(idx->entries, idx->n * sizeof(*entries))) !=
	        NULL)
		idx->entries = entries;
	idx->mem += (idx->n == 0 ? 1 : idx->n) * sizeof(*idx->entries);
	if (ix_apps_shrink(idx) == -1 ||
	    ix_build_names(idx, pairs, n_pairs, rapp) == -1 ||
	    ix_build_nets(idx, n_nets, rapp) == -1 ||
	    ix_build_any(idx, rapp, n_any) == -1)
		goto nomem;
	free(pairs);
	free(rapp);
	return idx;
nomem:
	errbuf_set(err, errlen, "building the rule index: out of memory");
fail:
	free(pairs);
	free(rapp);
	rules_index_free(idx);
	return NULL;
}

size_t
rules_index_count(const struct rules_index *idx)
{
	return idx->n;
}

const struct rules_entry *
rules_index_entry(const struct rules_index *idx, size_t slot)
{
	return slot < idx->n ? &idx->entries[slot] : NULL;
}

size_t
rules_index_memory(const struct rules_index *idx)
{
	return idx->mem;
}

void
rules_entry_rule(const struct rules_entry *e, struct rule *out)
{
	rule_init(out);
	out->id = e->id;
	snprintf(out->app, sizeof(out->app), "%s", e->app);
	out->has_uid = e->has_uid;
	out->uid = e->uid;
	out->dest_kind = e->dest_kind;
	snprintf(out->dest, sizeof(out->dest), "%s", e->dest);
	out->family = e->family;
	memcpy(out->addr, e->addr, sizeof(out->addr));
	out->prefix = e->prefix;
	out->port_lo = e->port_lo;
	out->port_hi = e->port_hi;
	out->proto = e->proto;
	out->action = e->action;
	out->duration = e->duration;
	out->expires = e->expires;
	out->priority = e->priority;
	out->enabled = true;
	out->created = e->created;
	out->updated = e->updated;
	out->hits = e->hits;
	out->last_hit = e->last_hit;
	if (e->pinned)
		digest_hex(e->digest, out->digest);
	snprintf(out->note, sizeof(out->note), "%s", e->note);
	snprintf(out->via, sizeof(out->via), "%s", e->via);
	snprintf(out->script, sizeof(out->script), "%s", e->script);
	snprintf(out->cmdline, sizeof(out->cmdline), "%s", e->cmdline);
}

/*
 * Matching.
 */

/* Destination classes of step 3, most specific highest. */
enum ix_dest_rank {
	IX_DEST_ANY = 1,
	IX_DEST_CIDR,
	IX_DEST_IP,
	IX_DEST_SUFFIX,
	IX_DEST_EXACT,
};

struct ix_search {
	const struct rules_index *idx;
	const struct rules_query *q;
	const char *app;  /* the query's interned app, or NULL */
	const char *star; /* the interned "*" */
	uint32_t app_id;  /* IX_NONE when the app has no rules */
	bool explain;
	struct ix_cand best, second;
	size_t n_matches;
};

/*
 * The rank of a candidate: one field per precedence step, higher is
 * better; the last two are the id step (lower id first, then no id, then
 * set order).  via_len is the length of the suffix a wildcard or list
 * rule matched.
 */
static void
ix_rank(const struct ix_search *sr, struct ix_cand *c, size_t via_len)
{
	const struct rules_entry *e = c->e;
	int64_t d;

	c->rank[0] = e->priority;
	c->rank[1] = (e->app != sr->star) * 8 + (e->script[0] != '\0') * 4 +
	             (e->cmdline[0] != '\0') * 2 + e->has_uid;
	switch (e->dest_kind) {
	case DEST_NAME:
		d = IX_DEST_EXACT * 1024;
		break;
	case DEST_WILDCARD:
	case DEST_LIST:
		d = IX_DEST_SUFFIX * 1024 + (int64_t)via_len;
		break;
	case DEST_IP:
		d = IX_DEST_IP * 1024;
		break;
	case DEST_CIDR:
		d = IX_DEST_CIDR * 1024 + e->prefix;
		break;
	default:
		d = IX_DEST_ANY * 1024;
		break;
	}
	c->rank[2] = d;
	c->rank[3] = e->port_lo == 0 && e->port_hi == 0
	                 ? 0
	                 : 65536 - (e->port_hi - e->port_lo);
	c->rank[4] = e->proto != RPROTO_ANY;
	c->rank[5] = e->action == ACTION_DENY     ? 2
	             : e->action == ACTION_REJECT ? 1
	                                          : 0;
	c->rank[6] = e->id > 0 ? -e->id : INT64_MIN;
	c->rank[7] = -(int64_t)e->slot;
}

/* 0 when a and b rank the same, else the step (1-7) that tells them
 * apart, negative when b ranks higher. */
static int
ix_cmp(const struct ix_cand *a, const struct ix_cand *b)
{
	int i, step;

	for (i = 0; i < IX_RANKS; i++)
		if (a->rank[i] != b->rank[i]) {
			step = i < 6 ? i + 1 : RULES_STEP_ID;
			return a->rank[i] > b->rank[i] ? step : -step;
		}
	return 0;
}

static bool
ix_fits(const struct ix_search *sr, const struct rules_entry *e)
{
	const struct rules_query *q = sr->q;

	if (e->app != sr->star && e->app != sr->app)
		return false;
	if (e->duration == DUR_UNTIL && q->now >= e->expires)
		return false;
	if (e->has_uid && (!q->has_uid || q->uid != e->uid))
		return false;
	if ((e->port_lo != 0 || e->port_hi != 0) &&
	    (q->port < e->port_lo || q->port > e->port_hi))
		return false;
	if (e->proto != RPROTO_ANY && e->proto != q->proto)
		return false;
	if (e->script[0] != '\0' &&
	    (q->script == NULL || strcmp(e->script, q->script) != 0))
		return false;
	if (e->cmdline[0] != '\0' &&
	    (q->cmdline == NULL || fnmatch(e->cmdline, q->cmdline, 0) != 0))
		return false;
	if (e->pinned &&
	    (q->digest == NULL ||
	     memcmp(e->digest, q->digest, sizeof(e->digest)) != 0)) {
		/* Only an allow rule is offered to be pinned anew. */
		if (q->pin_missed != NULL && *q->pin_missed == 0 &&
		    e->action == ACTION_ALLOW)
			*q->pin_missed = e->id;
		return false;
	}
	return true;
}

static void
ix_offer(struct ix_search *sr, uint32_t slot, const char *via, size_t via_len)
{
	const struct rules_entry *e = &sr->idx->entries[slot];
	struct ix_cand c;

	if (!ix_fits(sr, e))
		return;
	c.e = e;
	c.via = via;
	ix_rank(sr, &c, via_len);
	if (sr->best.e == NULL) {
		sr->best = c;
		sr->n_matches++;
		return;
	}
	if (c.e == sr->best.e) {
		/* A list rule matching again, through another entry. */
		if (ix_cmp(&c, &sr->best) > 0)
			sr->best = c;
		return;
	}
	if (c.e == sr->second.e) {
		if (ix_cmp(&c, &sr->best) > 0) {
			sr->second = sr->best;
			sr->best = c;
		} else if (ix_cmp(&c, &sr->second) > 0)
			sr->second = c;
		return;
	}
	sr->n_matches++;
	if (ix_cmp(&c, &sr->best) > 0) {
		if (sr->explain)
			sr->second = sr->best;
		sr->best = c;
	} else if (sr->explain &&
	           (sr->second.e == NULL || ix_cmp(&c, &sr->second) > 0))
		sr->second = c;
}

static void
ix_offer_name(struct ix_search *sr, uint32_t app, const char *suffix,
              size_t len, uint64_t rhash, bool whole)
{
	const struct rules_index *idx = sr->idx;
	const struct ix_name *nd;
	uint32_t i;

	nd = ix_name_find(idx, app, suffix, len, ix_name_key(rhash, app));
	if (nd == NULL)
		return;
	if (whole && nd->n_exact == 1)
		ix_offer(sr, nd->exact, NULL, 0);
	else if (whole)
		for (i = 0; i < nd->n_exact; i++)
			ix_offer(sr, idx->name_refs[nd->exact + i], NULL, 0);
	if (nd->n_wild == 1)
		ix_offer(sr, nd->wild, nd->name, len);
	else
		for (i = 0; i < nd->n_wild; i++)
			ix_offer(sr, idx->name_refs[nd->wild + i], nd->name,
			         len);
}

/*
 * Each suffix of the name, shortest first, for the app and for "*": the
 * hash is carried from one suffix to the next, and the filter skips the
 * suffixes no rule of any app names.
 */
static void
ix_search_name(struct ix_search *sr)
{
	const struct rules_index *idx = sr->idx;
	const char *name = sr->q->name;
	bool app_names, star_names;
	uint64_t h = IX_FNV_OFFSET;
	size_t n = strlen(name), i, bit;

	app_names = sr->app_id != IX_NONE && idx->apps[sr->app_id].has_names;
	star_names = idx->apps[0].has_names;
	if (!app_names && !star_names)
		return;
	for (i = n; i > 0; i--) {
		h = (h ^ (unsigned char)name[i - 1]) * IX_FNV_PRIME;
		if (i > 1 && name[i - 2] != '.')
			continue;
		bit = ix_filter_bit(idx, h);
		if ((idx->filter[bit / 64] & (1ULL << (bit % 64))) == 0)
			continue;
		if (app_names)
			ix_offer_name(sr, sr->app_id, name + i - 1, n - i + 1,
			              h, i == 1);
		if (star_names)
			ix_offer_name(sr, 0, name + i - 1, n - i + 1, h,
			              i == 1);
	}
}

static void
ix_search_addr(struct ix_search *sr)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
	                                   0, 0, 0, 0, 0xff, 0xff};
	const struct rules_index *idx = sr->idx;
	const struct sockaddr *sa = sr->q->addr;
	const struct ix_family *fam;
	const struct ix_plen *pl;
	const struct ix_net *net;
	uint8_t a[16];
	size_t i, h, bytes;
	uint32_t k, j, app;
	unsigned bits;

	memset(a, 0, sizeof(a));
	if (sa->sa_family == AF_INET) {
		memcpy(
		    a,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    4);
		fam = &idx->fam[0];
	} else if (sa->sa_family == AF_INET6) {
		memcpy(
		    a,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    16);
		if (memcmp(a, mapped, 12) == 0) {
			memmove(a, a + 12, 4);
			memset(a + 4, 0, 12);
			fam = &idx->fam[0];
		} else
			fam = &idx->fam[1];
	} else
		return;
	for (i = 0; i < fam->n; i++) {
		pl = &fam->plens[i];
		/* Mask a down to this prefix (prefixes only get shorter). */
		bytes = pl->prefix / 8;
		bits = pl->prefix % 8;
		if (bits != 0)
			a[bytes] &= (uint8_t)(0xff << (8 - bits));
		memset(a + bytes + (bits != 0), 0, 16 - bytes - (bits != 0));
		for (h = ix_addr_hash(a) & pl->mask; (k = pl->tab[h]) != 0;
		     h = (h + 1) & pl->mask) {
			net = &pl->nets[k - 1];
			if (memcmp(net->addr, a, 16) != 0)
				continue;
			for (j = 0; j < net->n; j++) {
				app = idx->net_apps[net->off + j];
				if (app == 0 || app == sr->app_id)
					ix_offer(sr,
					         idx->net_refs[net->off + j],
					         NULL, 0);
			}
			break;
		}
	}
}

static void
ix_search_any(struct ix_search *sr, uint32_t app)
{
	const struct ix_app *ap = &sr->idx->apps[app];
	uint32_t i;

	for (i = 0; i < ap->any_n; i++)
		ix_offer(sr, sr->idx->any_refs[ap->any_off + i], NULL, 0);
}

static const char *const ix_step_names[] = {
    "only match", "priority", "app",    "destination",
    "port",       "protocol", "action", "id",
};

const char *
rules_step_name(enum rules_step step)
{
	if (step == RULES_STEP_NONE)
		return "no match";
	if ((int)step < 0 ||
	    (size_t)step >= sizeof(ix_step_names) / sizeof(*ix_step_names))
		return "?";
	return ix_step_names[step];
}

/* How a candidate matched, for step 3 of an explanation. */
static const char *
ix_dest_desc(const struct ix_cand *c, char *buf, size_t len)
{
	const struct rules_entry *e = c->e;

	switch (e->dest_kind) {
	case DEST_NAME:
		snprintf(buf, len, "exact name");
		break;
	case DEST_WILDCARD:
		snprintf(buf, len, "*.%s", e->dest);
		break;
	case DEST_LIST:
		snprintf(buf, len, "list:%s (%s)", e->dest,
		         c->via != NULL ? c->via : "");
		break;
	case DEST_IP:
		snprintf(buf, len, "IP %s", e->dest);
		break;
	case DEST_CIDR:
		snprintf(buf, len, "%s", e->dest);
		break;
	default:
		snprintf(buf, len, "any destination");
		break;
	}
	return buf;
}

static bool
ix_is_star(const char *app)
{
	return app[0] == '*' && app[1] == '\0';
}

/* "any app", "this app and uid", "this app, script and cmdline", ... */
static const char *
ix_app_desc(const struct rules_entry *e, char *buf, size_t len)
{
	const char *part[3];
	size_t n = 0, i;
	int off;

	if (e->script[0] != '\0')
		part[n++] = "script";
	if (e->cmdline[0] != '\0')
		part[n++] = "cmdline";
	if (e->has_uid)
		part[n++] = "uid";
	off = snprintf(buf, len, "%s",
	               ix_is_star(e->app) ? "any app" : "this app");
	for (i = 0; i < n && off > 0 && (size_t)off < len; i++)
		off += snprintf(buf + off, len - (size_t)off, "%s%s",
		                i + 1 < n ? ", " : " and ", part[i]);
	return buf;
}

static const char *
ix_port_desc(const struct rules_entry *e, char *buf, size_t len)
{
	if (e->port_lo == 0 && e->port_hi == 0)
		snprintf(buf, len, "any port");
	else if (e->port_lo == e->port_hi)
		snprintf(buf, len, "port %u", e->port_lo);
	else
		snprintf(buf, len, "ports %u-%u", e->port_lo, e->port_hi);
	return buf;
}

static void
ix_explain(const struct ix_search *sr, struct rules_explain *why)
{
	const struct rules_entry *w = sr->best.e, *r = sr->second.e;
	char a[NAME_MAX_LEN + 96], b[NAME_MAX_LEN + 96];
	const char *what = "";
	int step;

	memset(why, 0, sizeof(*why));
	why->winner = w;
	why->runner_up = r;
	why->n_matches = sr->n_matches;
	if (w == NULL) {
		why->step = RULES_STEP_NONE;
		snprintf(why->text, sizeof(why->text), "no rule matches");
		return;
	}
	if (r == NULL) {
		why->step = RULES_STEP_ONLY;
		snprintf(why->text, sizeof(why->text),
		         "decided by rule %lld: the only matching rule",
		         (long long)w->id);
		return;
	}
	step = ix_cmp(&sr->best, &sr->second);
	why->step = (enum rules_step)step;
	switch (step) {
	case RULES_STEP_PRIORITY:
		what = "higher priority";
		snprintf(a, sizeof(a), "%d", w->priority);
		snprintf(b, sizeof(b), "%d", r->priority);
		break;
	case RULES_STEP_APP:
		what = !ix_is_star(w->app) && ix_is_star(r->app)
		           ? "this app over any app"
		           : "more specific app";
		ix_app_desc(w, a, sizeof(a));
		ix_app_desc(r, b, sizeof(b));
		break;
	case RULES_STEP_DEST:
		what = "more specific destination";
		ix_dest_desc(&sr->best, a, sizeof(a));
		ix_dest_desc(&sr->second, b, sizeof(b));
		break;
	case RULES_STEP_PORT:
		what = "narrower port";
		ix_port_desc(w, a, sizeof(a));
		ix_port_desc(r, b, sizeof(b));
		break;
	case RULES_STEP_PROTO:
		what = "specific protocol";
		snprintf(a, sizeof(a), "%s", rule_proto_str(w->proto));
		snprintf(b, sizeof(b), "%s", rule_proto_str(r->proto));
		break;
	case RULES_STEP_ACTION:
		what = "blocking action at equal rank";
		snprintf(a, sizeof(a), "%s", action_name(w->action));
		snprintf(b, sizeof(b), "%s", action_name(r->action));
		break;
	default:
		what = "older rule";
		snprintf(a, sizeof(a), "id %lld", (long long)w->id);
		snprintf(b, sizeof(b), "id %lld", (long long)r->id);
		break;
	}
	snprintf(why->text, sizeof(why->text),
	         "decided by rule %lld at step %d: %s (%s beats %s, rule %lld)",
	         (long long)w->id, step, what, a, b, (long long)r->id);
}

const struct rules_entry *
rules_match(const struct rules_index *idx, const struct rules_query *q,
            struct rules_explain *why)
{
	struct ix_search sr;

	sr.idx = idx;
	sr.q = q;
	sr.explain = why != NULL;
	sr.star = idx->apps[0].name;
	sr.app = NULL;
	sr.app_id = IX_NONE;
	sr.best.e = sr.second.e = NULL;
	sr.n_matches = 0;
	if (q->app != NULL) {
		sr.app_id = ix_app_find(idx, q->app, ix_str_hash(q->app));
		if (sr.app_id == 0)
			sr.app_id = IX_NONE; /* "*" is no exe path */
		if (sr.app_id != IX_NONE)
			sr.app = idx->apps[sr.app_id].name;
	}
	if (q->name != NULL)
		ix_search_name(&sr);
	if (q->addr != NULL)
		ix_search_addr(&sr);
	if (sr.app_id != IX_NONE)
		ix_search_any(&sr, sr.app_id);
	ix_search_any(&sr, 0);
	if (why != NULL)
		ix_explain(&sr, why);
	return sr.best.e;
}
