/*
 * clock.h - the one clock for ages and deadlines in milliseconds.
 */
#ifndef TG_CLOCK_H
#define TG_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC_COARSE in ms: never set back, a tick's resolution (1
 * to 4 ms), the cost of a memory read.  The same clock on every thread. */
int64_t mono_ms(void);

#endif
