/*
 * errbuf.c - a failure's message in the caller's buffer; see errbuf.h.
 */
#include <stdio.h>

#include "common/errbuf.h"

int
errbuf_vset(char *err, size_t errlen, const char *fmt, va_list ap)
{
	if (err != NULL && errlen > 0)
		vsnprintf(err, errlen, fmt, ap);
	return -1;
}

int
errbuf_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errbuf_vset(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}
