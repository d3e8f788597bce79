/*
 * name.c - host name checks; see name.h.
 *
 * Locale-free on purpose: names are ASCII, and tolower() would depend on
 * the process's locale.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "common/hex.h"
#include "common/name.h"

static bool
name_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
name_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/*
 * A label that URL parsers and inet_aton() read as a number: decimal, or
 * "0x" and hex digits.  No top-level domain looks like that, so a name
 * ending in one is an address or nothing.
 */
static bool
name_label_is_number(const char *s, size_t n)
{
	size_t i;

	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (i = 2; i < n; i++)
			if (hex_digit((unsigned char)s[i]) == -1)
				return false;
		return true;
	}
	for (i = 0; i < n; i++)
		if (!name_is_digit((unsigned char)s[i]))
			return false;
	return n > 0;
}

bool
name_is_ip_literal(const char *s)
{
	char buf[NAME_MAX_LEN + 2];
	struct in6_addr a6;
	struct in_addr a4;
	size_t n, i;

	n = strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return false;
	if (inet_pton(AF_INET6, s, &a6) == 1)
		return true;
	memcpy(buf, s, n + 1);
	if (buf[n - 1] == '.')
		buf[--n] = '\0';
	/* inet_aton() stops at white space; only digits may reach it. */
	for (i = 0; i < n; i++)
		if (hex_digit((unsigned char)buf[i]) == -1 && buf[i] != '.' &&
		    buf[i] != 'x' && buf[i] != 'X')
			return false;
	return n > 0 && inet_aton(buf, &a4) == 1;
}

int
name_normalise(char *s)
{
	size_t n, i, label;
	int c;

	n = strlen(s);
	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || n > NAME_MAX_LEN)
		return -1;
	label = 0;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
			continue;
		}
		c = name_lower(c);
		if (!((c >= 'a' && c <= 'z') || name_is_digit(c) || c == '-' ||
		      c == '_'))
			return -1;
		if (++label > NAME_LABEL_MAX)
			return -1;
	}
	if (label == 0 || name_label_is_number(s + n - label, label))
		return -1;
	for (i = 0; i < n; i++)
		s[i] = name_lower((unsigned char)s[i]);
	s[n] = '\0';
	return 0;
}
