/*
 * hex.h - the one reader of a hexadecimal digit: the \xHH escapes of the
 * quoting (common/quote.h) and the numeric labels of host names
 * (common/name.h).
 */
#ifndef TG_HEX_H
#define TG_HEX_H

/* The value of c as a hex digit (0-9, a-f, A-F): 0 to 15, or -1. */
int hex_digit(int c);

#endif
