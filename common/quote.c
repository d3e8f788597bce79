/*
 * quote.c - the quoting of values on control lines, log lines and rule
 * lines; see quote.h.
 */
#include "common/hex.h"
#include "common/quote.h"

bool
quote_is_ctrl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* Append c at out[*n] when it fits before the NUL; count it anyway. */
static void
quote_put(char *out, size_t cap, size_t *n, char c)
{
	if (*n + 1 < cap)
		out[*n] = c;
	(*n)++;
}

size_t
quote_write(char *out, size_t cap, const char *value, unsigned flags)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p;
	bool quote = value[0] == '\0';
	size_t n = 0;

	for (p = (const unsigned char *)value; *p != '\0' && !quote; p++)
		if (*p == ' ' || *p == '"' || *p == '\\' || quote_is_ctrl(*p) ||
		    ((flags & QUOTE_EQ) && *p == '='))
			quote = true;
	if (quote)
		quote_put(out, cap, &n, '"');
	for (p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			quote_put(out, cap, &n, '\\');
			quote_put(out, cap, &n, (char)*p);
		} else if (quote_is_ctrl(*p)) {
			quote_put(out, cap, &n, '\\');
			quote_put(out, cap, &n, 'x');
			quote_put(out, cap, &n, digits[*p >> 4]);
			quote_put(out, cap, &n, digits[*p & 0xf]);
		} else
			quote_put(out, cap, &n, (char)*p);
	}
	if (quote)
		quote_put(out, cap, &n, '"');
	if (cap > 0)
		out[n < cap ? n : cap - 1] = '\0';
	return n;
}

static bool
quote_is_sep(unsigned char c, unsigned flags)
{
	return c == ' ' || (c == '\t' && (flags & QUOTE_TAB_SEP));
}

static enum quote_status
quote_fail(enum quote_status why, size_t at, size_t *used)
{
	*used = at;
	return why;
}

/*
 * The escape at s[r] (its '\'): the byte it stands for in *c and the
 * bytes it takes in *adv.  QUOTE_OK or why it is bad.
 */
static enum quote_status
quote_escape(const char *s, size_t len, size_t r, unsigned char *c, size_t *adv)
{
	int hi, lo;

	if (r + 1 < len && (s[r + 1] == '"' || s[r + 1] == '\\')) {
		*c = (unsigned char)s[r + 1];
		*adv = 2;
		return QUOTE_OK;
	}
	if (r + 1 >= len || s[r + 1] != 'x')
		return QUOTE_BAD_ESCAPE;
	hi = r + 2 < len ? hex_digit((unsigned char)s[r + 2]) : -1;
	lo = hi != -1 && r + 3 < len ? hex_digit((unsigned char)s[r + 3]) : -1;
	if (lo == -1 || (hi == 0 && lo == 0))
		return QUOTE_BAD_HEX;
	*c = (unsigned char)(hi * 16 + lo);
	*adv = 4;
	return QUOTE_OK;
}

/* A bare value: up to a separator or the end of s. */
static enum quote_status
quote_read_bare(const char *s, size_t len, unsigned flags, char *out,
                size_t cap, size_t *used, size_t *outlen)
{
	size_t r, w = 0;
	unsigned char c;

	for (r = 0; r < len; r++) {
		c = (unsigned char)s[r];
		if (quote_is_sep(c, flags) ||
		    (c == '=' && (flags & QUOTE_STOP_EQ)))
			break;
		if (c == '"' || c == '\\' || quote_is_ctrl(c))
			return quote_fail(QUOTE_BARE_BYTE, r, used);
		if (w == cap)
			return quote_fail(QUOTE_TOOLONG, r, used);
		out[w++] = (char)c;
	}
	*used = r;
	*outlen = w;
	return QUOTE_OK;
}

/* A quoted value: s[0] is its opening quote. */
static enum quote_status
quote_read_quoted(const char *s, size_t len, unsigned flags, char *out,
                  size_t cap, size_t *used, size_t *outlen)
{
	enum quote_status why;
	size_t r, w = 0, adv;
	unsigned char c;

	for (r = 1;; r += adv) {
		if (r == len)
			return quote_fail(QUOTE_UNCLOSED, 0, used);
		c = (unsigned char)s[r];
		adv = 1;
		if (c == '"')
			break;
		if (quote_is_ctrl(c) && !(flags & QUOTE_RAW_CTRL))
			return quote_fail(QUOTE_CTRL, r, used);
		if (c == '\\' &&
		    (why = quote_escape(s, len, r, &c, &adv)) != QUOTE_OK)
			return quote_fail(why, r, used);
		if (w == cap)
			return quote_fail(QUOTE_TOOLONG, r, used);
		/* In place, w stays behind r: the opening quote is read. */
		out[w++] = (char)c;
	}
	r++;
	if (r < len && !quote_is_sep((unsigned char)s[r], flags))
		return quote_fail(QUOTE_AFTER_CLOSE, r, used);
	*used = r;
	*outlen = w;
	return QUOTE_OK;
}

enum quote_status
quote_read(const char *s, size_t len, unsigned flags, char *out, size_t cap,
           size_t *used, size_t *outlen)
{
	if (len > 0 && s[0] == '"')
		return quote_read_quoted(s, len, flags, out, cap, used, outlen);
	return quote_read_bare(s, len, flags, out, cap, used, outlen);
}
