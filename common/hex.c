/*
 * hex.c - a hexadecimal digit's value; see hex.h.  Locale-free, unlike
 * isxdigit().
 */
#include "common/hex.h"

int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
