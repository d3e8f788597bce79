/*
 * fakeip.c - names behind made-up addresses; see fakeip.h.
 *
 * Slot i holds the name of address net + 1 + i.  Slots are handed out in
 * turn, so the next one is always the oldest; a name is found by a hash
 * table of chains through the slots.
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
	char *name;    /* NULL: never handed out */
	uint32_t next; /* the next slot of its hash chain */
};

struct fakeip {
	uint32_t net; /* host order */
	uint32_t mask;
	size_t max;  /* slots */
	size_t turn; /* the next slot to hand out */
	struct fakeip_slot *slots;
	uint32_t *heads; /* n_heads chains */
	size_t n_heads;
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
	f->mask = prefix == 0 ? 0 : UINT32_MAX << (32 - prefix);
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

/* Take slot i out of its name's chain. */
static void
fakeip_unlink(struct fakeip *f, uint32_t i)
{
	uint32_t *p = &f->heads[fakeip_hash(f, f->slots[i].name)];

	while (*p != FAKEIP_NONE && *p != i)
		p = &f->slots[*p].next;
	if (*p == i)
		*p = f->slots[i].next;
}

int
fakeip_addr(struct fakeip *f, const char *name, struct in_addr *out)
{
	size_t h = fakeip_hash(f, name);
	uint32_t i;
	char *copy;

	if (strlen(name) > NAME_MAX_LEN)
		return -1;
	for (i = f->heads[h]; i != FAKEIP_NONE; i = f->slots[i].next)
		if (strcmp(f->slots[i].name, name) == 0)
			goto found;
	if ((copy = strdup(name)) == NULL)
		return -1;
	i = (uint32_t)f->turn;
	f->turn = (f->turn + 1) % f->max;
	if (f->slots[i].name != NULL) {
		fakeip_unlink(f, i);
		free(f->slots[i].name);
	}
	f->slots[i].name = copy;
	f->slots[i].next = f->heads[h];
	f->heads[h] = i;
found:
	out->s_addr = htonl(f->net + 1 + i);
	return 0;
}

/* The IPv4 address of sa in host order; false for anything else. */
static bool
fakeip_v4(const struct sockaddr *sa, uint32_t *ip)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET) {
		*ip = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
		return true;
	}
	if (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		memcpy(ip, &sin6->sin6_addr.s6_addr[12], 4);
		*ip = ntohl(*ip);
		return true;
	}
	return false;
}

bool
fakeip_in_range(const struct fakeip *f, const struct sockaddr *sa)
{
	uint32_t ip;

	return fakeip_v4(sa, &ip) && (ip & f->mask) == f->net;
}

const char *
fakeip_name(const struct fakeip *f, const struct sockaddr *sa)
{
	uint32_t ip, i;

	if (!fakeip_v4(sa, &ip) || (ip & f->mask) != f->net)
		return NULL;
	i = ip - f->net;
	if (i == 0 || i - 1 >= f->max)
		return NULL;
	return f->slots[i - 1].name;
}
