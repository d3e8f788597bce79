/*
 * addr.h - socket addresses: parse "127.0.0.1:9040" / "[::1]:9040", format
 * them back, compare them.
 */
#ifndef TG_ADDR_H
#define TG_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Long enough for "[ffff:...:ffff%ifname]:65535". */
#define ADDR_STRLEN 64

/*
 * Parse "IPv4:PORT" or "[IPv6]:PORT" into *ss (numeric only, no names).
 * Returns 0, or -1 when s is not of that form or the port is not 1-65535.
 */
int addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len);

/* Format sa as "IP:PORT" or "[IP]:PORT" into buf; returns buf. */
const char *addr_fmt(const struct sockaddr *sa, char *buf, size_t len);

/* Format only the IP of sa into buf; returns buf. */
const char *addr_fmt_ip(const struct sockaddr *sa, char *buf, size_t len);

/* Port of an AF_INET/AF_INET6 address in host order, 0 otherwise. */
uint16_t addr_port(const struct sockaddr *sa);

socklen_t addr_len(const struct sockaddr *sa);

/* 1 when a and b are the same family, IP and port. */
int addr_equal(const struct sockaddr *a, const struct sockaddr *b);

/* 1 for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
int addr_is_loopback(const struct sockaddr *sa);

#endif
