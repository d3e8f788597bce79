/*
 * attrenv.h - whether a process's environment asks the dynamic loader to
 * run code of the starter's choice: LD_PRELOAD, LD_LIBRARY_PATH or
 * LD_AUDIT with a value that is not empty.  Pure: fed the bytes of
 * /proc/PID/environ (NUL-separated NAME=VALUE strings, hostile: any byte,
 * no final NUL, names repeated) in pieces of any size.
 *
 * Bounded: the caller reads at most ATTRENV_READ_MAX bytes.  An
 * environment longer than that is taken as preloading (the loader reads
 * all of it; a padded one must not hide a variable past the bound).
 *
 * What /proc/PID/environ shows is the process's own memory: a program
 * may rewrite it after it started, and a preloaded library may erase its
 * variable once loaded.  So this tells only about processes that did not
 * take that trouble.
 */
#ifndef TG_ATTRENV_H
#define TG_ATTRENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ATTRENV_READ_MAX (64 * 1024)

struct attrenv {
	size_t pos;    /* bytes of the current string seen so far */
	unsigned cand; /* watched names the current string may still be */
	bool at_value; /* the current string is NAME= of a watched name */
	bool found;
};

void attrenv_init(struct attrenv *e);

/* Feed the next len bytes of the environment. */
void attrenv_feed(struct attrenv *e, const uint8_t *buf, size_t len);

/* Whether a watched variable with a value was seen in what was fed. */
bool attrenv_found(const struct attrenv *e);

#endif
