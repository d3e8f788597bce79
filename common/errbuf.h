/*
 * errbuf.h - the one way a function says why it failed: a message in the
 * caller's buffer "char *err, size_t errlen", as the parsers of rules/
 * and common/ do.
 */
#ifndef TG_ERRBUF_H
#define TG_ERRBUF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Format the message into err (errlen bytes, cut to fit; nothing is
 * written when err is NULL or errlen is 0).  Returns -1, so that a
 * failing function can end with "return errbuf_set(err, errlen, ...)".
 */
int errbuf_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int errbuf_vset(char *err, size_t errlen, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
