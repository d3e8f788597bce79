/*
 * fakeip.c - names behind made-up addresses; see fakeip.h.
 *
 * Slot i holds the name of address net + 1 + i (and net6 + 1 + i).  Each
 * slot is on one of two doubly linked lists through the slots: the free
 * ones, in the order they are handed out, and the used ones, oldest use
 * first; a new name takes the first free slot, or when there is none the
 * oldest used one.  A name is found by a hash table of chains through the
 * slots.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/name.h"
#include "proxyd/fakeip.h"

#define FAKEIP_NONE UINT32_MAX

struct fakeip_slot {
	char *name;     /* NULL: free */
	uint32_t next;  /* the next slot of its hash chain */
	uint32_t older; /* neighbours on its list */
	uint32_t newer;
	time_t last_used;
	time_t told; /* the last_used the observer last heard of */
};

/* A list of slots, from its oldest end to its newest. */
struct fakeip_list {
	uint32_t oldest;
	uint32_t newest;
};

struct fakeip {
	uint32_t net; /* host order */
	uint32_t mask;
	bool has_v6;
	uint8_t net6[16];
	uint8_t mask6[16];
	size_t max;   /* slots in use or free */
	size_t count; /* names mapped */
	struct fakeip_slot *slots;
	struct fakeip_list used, free;
	uint32_t *heads; /* n_heads chains */
	size_t n_heads;
	fakeip_observer observer;
	void *observer_arg;
};

/* FNV-1a: names are short, and the table is ours alone. */
static size_t
fakeip_hash(const struct fakeip *f, const char *name)
{
	uint32_t h = 2166136261u;

	while (*name != '\0') {
		h ^= (uint8_t)*name++;
		h *= 16777619u;
	}
	return h % f->n_heads;
}

static void
list_unlink(struct fakeip *f, struct fakeip_list *l, uint32_t i)
{
	struct fakeip_slot *s = &f->slots[i];

	if (s->older != FAKEIP_NONE)
		f->slots[s->older].newer = s->newer;
	else
		l->oldest = s->newer;
	if (s->newer != FAKEIP_NONE)
		f->slots[s->newer].older = s->older;
	else
		l->newest = s->older;
	s->older = s->newer = FAKEIP_NONE;
}

static void
list_append(struct fakeip *f, struct fakeip_list *l, uint32_t i)
{
	struct fakeip_slot *s = &f->slots[i];

	s->older = l->newest;
	s->newer = FAKEIP_NONE;
	if (l->newest != FAKEIP_NONE)
		f->slots[l->newest].newer = i;
	else
		l->oldest = i;
	l->newest = i;
}

/* Every slot free, in address order. */
static void
fakeip_free_all(struct fakeip *f)
{
	uint32_t i;

	f->used.oldest = f->used.newest = FAKEIP_NONE;
	f->free.oldest = f->free.newest = FAKEIP_NONE;
	for (i = 0; i < f->max; i++)
		list_append(f, &f->free, i);
}

struct fakeip *
fakeip_new(struct in_addr net, unsigned prefix, size_t max)
{
	struct fakeip *f;
	size_t i, room;

	if (prefix < 8 || prefix > 30 || max == 0) {
		errno = EINVAL;
		return NULL;
	}
	room = ((size_t)1 << (32 - prefix)) - 2;
	if (max > room)
		max = room;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	f->mask = UINT32_MAX << (32 - prefix);
	f->net = ntohl(net.s_addr) & f->mask;
	f->max = max;
	f->n_heads = max * 2;
	f->slots = calloc(max, sizeof(*f->slots));
	f->heads = malloc(f->n_heads * sizeof(*f->heads));
	if (f->slots == NULL || f->heads == NULL) {
		fakeip_free(f);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < f->n_heads; i++)
		f->heads[i] = FAKEIP_NONE;
	fakeip_free_all(f);
	return f;
}

void
fakeip_free(struct fakeip *f)
{
	size_t i;

	if (f == NULL)
		return;
	if (f->slots != NULL)
		for (i = 0; i < f->max; i++)
			free(f->slots[i].name);
	free(f->slots);
	free(f->heads);
	free(f);
}

int
fakeip_set_range6(struct fakeip *f, const struct in6_addr *net, unsigned prefix)
{
	size_t b, room;
	unsigned bits;

	if (prefix < 8 || prefix > 120) {
		errno = EINVAL;
		return -1;
	}
	if (f->count > 0) {
		errno = EBUSY;
		return -1;
	}
	for (b = 0; b < 16; b++) {
		bits = prefix > b * 8 ? prefix - b * 8 : 0;
		f->mask6[b] = bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);
		f->net6[b] = net->s6_addr[b] & f->mask6[b];
	}
	if (128 - prefix < 32) {
		room = ((size_t)1 << (128 - prefix)) - 2;
		if (f->max > room)
			f->max = room;
	}
	f->has_v6 = true;
	fakeip_free_all(f);
	return 0;
}

bool
fakeip_has_v6(const struct fakeip *f)
{
	return f->has_v6;
}

void
fakeip_set_observer(struct fakeip *f, fakeip_observer fn, void *arg)
{
	f->observer = fn;
	f->observer_arg = arg;
}

static struct in_addr
slot_v4(const struct fakeip *f, uint32_t i)
{
	struct in_addr a = {.s_addr = htonl(f->net + 1 + i)};

	return a;
}

/* net6 + 1 + i: the range holds it, so the carry stays in its host
 * part. */
static struct in6_addr
slot_v6(const struct fakeip *f, uint32_t i)
{
	struct in6_addr a;
	uint64_t add = (uint64_t)i + 1;
	int b;

	memcpy(&a, f->net6, sizeof(a));
	for (b = 15; b >= 0 && add != 0; b--) {
		add += a.s6_addr[b];
		a.s6_addr[b] = (uint8_t)add;
		add >>= 8;
	}
	return a;
}

static void
slot_entry(const struct fakeip *f, uint32_t i, struct fakeip_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->name = f->slots[i].name;
	e->v4 = slot_v4(f, i);
	e->has_v6 = f->has_v6;
	if (f->has_v6)
		e->v6 = slot_v6(f, i);
	e->last_used = f->slots[i].last_used;
}

static void
fakeip_tell(struct fakeip *f, enum fakeip_change what, uint32_t i)
{
	struct fakeip_entry e;

	if (f->observer == NULL)
		return;
	slot_entry(f, i, &e);
	f->slots[i].told = e.last_used;
	f->observer(f->observer_arg, what, &e);
}

static uint32_t
fakeip_find(const struct fakeip *f, const char *name)
{
	uint32_t i;

	for (i = f->heads[fakeip_hash(f, name)]; i != FAKEIP_NONE;
	     i = f->slots[i].next)
		if (strcmp(f->slots[i].name, name) == 0)
			return i;
	return FAKEIP_NONE;
}

/* Unmap slot i's name and free the slot; tell the observer when the name
 * is gone for good. */
static void
slot_clear(struct fakeip *f, uint32_t i, bool tell)
{
	struct fakeip_slot *s = &f->slots[i];
	uint32_t *p = &f->heads[fakeip_hash(f, s->name)];

	if (tell)
		fakeip_tell(f, FAKEIP_REMOVED, i);
	while (*p != FAKEIP_NONE && *p != i)
		p = &f->slots[*p].next;
	if (*p == i)
		*p = s->next;
	list_unlink(f, &f->used, i);
	free(s->name);
	s->name = NULL;
	f->count--;
	list_append(f, &f->free, i);
}

/* Map name (a copy the slot now owns) to free slot i, the newest. */
static void
slot_fill(struct fakeip *f, uint32_t i, char *name, time_t last_used)
{
	struct fakeip_slot *s = &f->slots[i];
	size_t h = fakeip_hash(f, name);

	list_unlink(f, &f->free, i);
	s->name = name;
	s->next = f->heads[h];
	f->heads[h] = i;
	s->last_used = s->told = last_used;
	list_append(f, &f->used, i);
	f->count++;
}

/* The first free slot, freeing the oldest used one when none is. */
static uint32_t
slot_take(struct fakeip *f)
{
	if (f->free.oldest == FAKEIP_NONE)
		slot_clear(f, f->used.oldest, true);
	return f->free.oldest;
}

/* Slot i was used now: the newest, and news now and then. */
static void
slot_touch(struct fakeip *f, uint32_t i)
{
	time_t now = time(NULL);

	list_unlink(f, &f->used, i);
	list_append(f, &f->used, i);
	f->slots[i].last_used = now;
	if (now - f->slots[i].told >= FAKEIP_USED_EVERY)
		fakeip_tell(f, FAKEIP_USED, i);
}

/* The slot of name, mapped now if it was not.  FAKEIP_NONE on error. */
static uint32_t
fakeip_map(struct fakeip *f, const char *name)
{
	uint32_t i;
	char *copy;

	if (strlen(name) > NAME_MAX_LEN)
		return FAKEIP_NONE;
	if ((i = fakeip_find(f, name)) != FAKEIP_NONE) {
		slot_touch(f, i);
		return i;
	}
	/* Copied first: name may be a slot's that slot_take() frees. */
	if ((copy = strdup(name)) == NULL)
		return FAKEIP_NONE;
	i = slot_take(f);
	slot_fill(f, i, copy, time(NULL));
	fakeip_tell(f, FAKEIP_ADDED, i);
	return i;
}

int
fakeip_addr(struct fakeip *f, const char *name, struct in_addr *out)
{
	uint32_t i = fakeip_map(f, name);

	if (i == FAKEIP_NONE)
		return -1;
	*out = slot_v4(f, i);
	return 0;
}

int
fakeip_addr6(struct fakeip *f, const char *name, struct in6_addr *out)
{
	uint32_t i;

	if (!f->has_v6) {
		errno = ENOENT;
		return -1;
	}
	if ((i = fakeip_map(f, name)) == FAKEIP_NONE)
		return -1;
	*out = slot_v6(f, i);
	return 0;
}

/* The slot of a host-order IPv4 address, or FAKEIP_NONE. */
static uint32_t
slot_of_v4(const struct fakeip *f, uint32_t ip)
{
	uint32_t off = ip - f->net;

	if ((ip & f->mask) != f->net || off == 0 || off - 1 >= f->max)
		return FAKEIP_NONE;
	return off - 1;
}

/* Whether a is in the IPv6 range; its slot (or FAKEIP_NONE) in *slot. */
static bool
fakeip_v6_slot(const struct fakeip *f, const struct in6_addr *a, uint32_t *slot)
{
	uint32_t off = 0;
	int b;

	*slot = FAKEIP_NONE;
	if (!f->has_v6)
		return false;
	for (b = 0; b < 16; b++)
		if ((a->s6_addr[b] & f->mask6[b]) != f->net6[b])
			return false;
	for (b = 0; b < 12; b++)
		if ((a->s6_addr[b] & ~f->mask6[b]) != 0)
			return true;
	for (b = 12; b < 16; b++)
		off = off << 8 | (a->s6_addr[b] & (uint8_t)~f->mask6[b]);
	if (off != 0 && off - 1 < f->max)
		*slot = off - 1;
	return true;
}

/* Whether sa is in a range; its slot (or FAKEIP_NONE) in *slot. */
static bool
fakeip_slot_of(const struct fakeip *f, const struct sockaddr *sa,
               uint32_t *slot)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
	uint32_t ip;

	*slot = FAKEIP_NONE;
	if (sa->sa_family == AF_INET)
		ip = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
	else if (sa->sa_family == AF_INET6 &&
	         IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		memcpy(&ip, &sin6->sin6_addr.s6_addr[12], 4);
		ip = ntohl(ip);
	} else if (sa->sa_family == AF_INET6)
		return fakeip_v6_slot(f, &sin6->sin6_addr, slot);
	else
		return false;
	*slot = slot_of_v4(f, ip);
	return (ip & f->mask) == f->net;
}

bool
fakeip_in_range(const struct fakeip *f, const struct sockaddr *sa)
{
	uint32_t i;

	return fakeip_slot_of(f, sa, &i);
}

const char *
fakeip_name(const struct fakeip *f, const struct sockaddr *sa)
{
	uint32_t i;

	if (!fakeip_slot_of(f, sa, &i) || i == FAKEIP_NONE)
		return NULL;
	return f->slots[i].name;
}

const char *
fakeip_use(struct fakeip *f, const struct sockaddr *sa)
{
	uint32_t i;

	if (!fakeip_slot_of(f, sa, &i) || i == FAKEIP_NONE ||
	    f->slots[i].name == NULL)
		return NULL;
	slot_touch(f, i);
	return f->slots[i].name;
}

int
fakeip_restore(struct fakeip *f, const char *name, struct in_addr v4,
               const struct in6_addr *v6, time_t last_used)
{
	struct in6_addr mine;
	uint32_t i;
	bool moved = false;
	char *copy;

	if (strlen(name) > NAME_MAX_LEN || (copy = strdup(name)) == NULL)
		return -1;
	if ((i = fakeip_find(f, name)) != FAKEIP_NONE)
		slot_clear(f, i, false); /* still mapped: no news */
	i = slot_of_v4(f, ntohl(v4.s_addr));
	if (i == FAKEIP_NONE) {
		i = slot_take(f);
		moved = true;
	} else if (f->slots[i].name != NULL)
		slot_clear(f, i, true);
	slot_fill(f, i, copy, last_used);
	if (f->has_v6) {
		mine = slot_v6(f, i);
		if (v6 == NULL || memcmp(&mine, v6, sizeof(mine)) != 0)
			moved = true;
	} else if (v6 != NULL)
		moved = true;
	if (moved)
		fakeip_tell(f, FAKEIP_ADDED, i);
	return moved ? 1 : 0;
}

int
fakeip_each(const struct fakeip *f,
            int (*fn)(void *arg, const struct fakeip_entry *e), void *arg)
{
	struct fakeip_entry e;
	uint32_t i;
	int rc;

	for (i = f->used.oldest; i != FAKEIP_NONE; i = f->slots[i].newer) {
		slot_entry(f, i, &e);
		if ((rc = fn(arg, &e)) != 0)
			return rc;
	}
	return 0;
}

size_t
fakeip_count(const struct fakeip *f)
{
	return f->count;
}
