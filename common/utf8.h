/*
 * utf8.h - the one UTF-8 decoder of the programs that show untrusted
 * bytes: the tollgate command (tables and JSON) and tollgate-prompt.
 */
#ifndef TG_UTF8_H
#define TG_UTF8_H

#include <stddef.h>

/*
 * Decode the character at s into *cp: its length (1 to 4), or 0 when s
 * does not start valid, shortest-form UTF-8 of a scalar value (no
 * surrogates, nothing past U+10FFFF).  A NUL is never a continuation
 * byte, so reading stops at the end of a string.
 */
size_t utf8_decode(const unsigned char *s, unsigned *cp);

#endif
