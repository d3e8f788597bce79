/*
 * quote.h - the one quoting of tollgate's values: the control protocol's
 * lines (common/ctl.h), log lines (log_kv() in common/log.h) and the rule
 * text form (rules/rule.h) write and read a value the same way, here.
 *
 * A value is bare (bytes other than space, '"', '\' and control bytes:
 * those below 0x20, and 0x7f) or quoted: "..." in which \" \\ and \xHH
 * stand for a quote, a backslash and byte HH.  \x00 is refused, so a
 * value read is a C string.  The writer quotes only when it must, and
 * always writes a control byte as \xHH.
 */
#ifndef TG_QUOTE_H
#define TG_QUOTE_H

#include <stdbool.h>
#include <stddef.h>

/* A byte below 0x20, or 0x7f: never bare, never raw on a line. */
bool quote_is_ctrl(unsigned char c);

/* quote_write(): quote a value that holds '=' as well, so that a
 * positional word does not read back as key=value. */
#define QUOTE_EQ 0x1

/*
 * Write value into out (cap bytes), in quotes when it is empty or holds a
 * space, '"', '\' or a control byte (or '=', with QUOTE_EQ).  As
 * snprintf(): returns the length of the whole written value; out is cut
 * to cap - 1 bytes and NUL-terminated when cap > 0.
 */
size_t quote_write(char *out, size_t cap, const char *value, unsigned flags);

/* quote_read(): how the text around a value reads. */
#define QUOTE_TAB_SEP  0x2 /* a tab separates values, as a space does */
#define QUOTE_RAW_CTRL 0x4 /* control bytes in quotes are taken as is */
#define QUOTE_STOP_EQ  0x8 /* '=' ends a bare value (a key is read) */

enum quote_status {
	QUOTE_OK,
	QUOTE_TOOLONG,     /* the value is over cap bytes */
	QUOTE_BARE_BYTE,   /* '"', '\' or a control byte in a bare value */
	QUOTE_UNCLOSED,    /* no closing quote before the end */
	QUOTE_CTRL,        /* a control byte in quotes */
	QUOTE_BAD_ESCAPE,  /* '\' not followed by '"', '\' or 'x' */
	QUOTE_BAD_HEX,     /* \x not followed by two hex digits, or \x00 */
	QUOTE_AFTER_CLOSE, /* the closing quote not followed by a separator */
};

/*
 * Read the value at s[0..len): quoted when s starts with '"', else bare.
 * A value ends at the end of s or at a separator: a space (a tab too,
 * with QUOTE_TAB_SEP; and for a bare value '=', with QUOTE_STOP_EQ).
 * The value, unquoted, goes to out (at most cap bytes; no NUL is
 * added).  out may be s or before it: the unquoting is done in place,
 * out never being written ahead of where s is read.
 *
 * Returns QUOTE_OK with *used the bytes of s read (the separator is not
 * read) and *outlen the bytes written, or the reason the value is
 * refused with *used the offset in s of the byte at fault (the opening
 * quote when it is not closed, the '\' of a bad escape); out is then
 * garbage.
 */
enum quote_status quote_read(const char *s, size_t len, unsigned flags,
                             char *out, size_t cap, size_t *used,
                             size_t *outlen);

#endif
