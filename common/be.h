/*
 * be.h - 16-bit big-endian (network order) fields of wire formats, read
 * and written byte by byte: no alignment needed, no byte-order macros.
 */
#ifndef TG_BE_H
#define TG_BE_H

#include <stdint.h>

static inline uint16_t
be16_get(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
be16_put(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

#endif
