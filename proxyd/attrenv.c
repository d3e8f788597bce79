/*
 * attrenv.c - loader variables in a process's environment; see attrenv.h.
 */
#include <string.h>

#include "proxyd/attrenv.h"

static const char *const attrenv_names[] = {
    "LD_PRELOAD=",
    "LD_LIBRARY_PATH=",
    "LD_AUDIT=",
};

#define ATTRENV_N   (sizeof(attrenv_names) / sizeof(attrenv_names[0]))
#define ATTRENV_ALL ((1u << ATTRENV_N) - 1)

void
attrenv_init(struct attrenv *e)
{
	memset(e, 0, sizeof(*e));
	e->cand = ATTRENV_ALL;
}

void
attrenv_feed(struct attrenv *e, const uint8_t *buf, size_t len)
{
	size_t i, k, nlen;

	for (i = 0; i < len && !e->found; i++) {
		if (buf[i] == '\0') { /* the next string */
			e->pos = 0;
			e->cand = ATTRENV_ALL;
			e->at_value = false;
			continue;
		}
		if (e->at_value) {
			e->found = true; /* a value's first byte */
			break;
		}
		if (e->cand == 0)
			continue;
		for (k = 0; k < ATTRENV_N; k++) {
			if (!(e->cand & (1u << k)))
				continue;
			nlen = strlen(attrenv_names[k]);
			if (e->pos >= nlen ||
			    attrenv_names[k][e->pos] != buf[i])
				e->cand &= ~(1u << k);
			else if (e->pos + 1 == nlen)
				e->at_value = true;
		}
		e->pos++;
	}
}

bool
attrenv_found(const struct attrenv *e)
{
	return e->found;
}
