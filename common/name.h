/*
 * name.h - host names as tollgate compares them: ASCII, lower case, no
 * trailing dot.  The one definition of "a valid name", shared by the peek
 * (names read from clients) and the rules (names typed by the user).
 */
#ifndef TG_NAME_H
#define TG_NAME_H

#include <stdbool.h>

/* The longest name, without its trailing dot (RFC 1035). */
#define NAME_MAX_LEN   253
#define NAME_LABEL_MAX 63

/*
 * Check and normalise a host name in place: lower case, one trailing dot
 * removed, labels of 1-63 letters, digits, '-' or '_', at most
 * NAME_MAX_LEN bytes, the last label not a number (so no IP address in any
 * inet_aton() form passes).  Returns 0, or -1 when s is not a host name.
 */
int name_normalise(char *s);

/*
 * An IPv6 literal, or an IPv4 address in any form inet_aton() takes
 * ("192.0.2.1", "127.1", "0x7f.1"): what a client connects to without a
 * lookup.  One trailing dot is allowed, as in a name.
 */
bool name_is_ip_literal(const char *s);

#endif
