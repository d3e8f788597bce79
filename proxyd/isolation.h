/*
 * isolation.h - the upstream username that keeps apps on separate Tor
 * circuits (Tor's IsolateSOCKSAuth: streams whose SOCKS username or
 * password differ never share a circuit).
 *
 * The username is a keyed hash of the app's identity, so it is the same
 * for one app across restarts (same key), different between apps, and
 * says nothing about which program it is to whoever reads the upstream's
 * log.
 */
#ifndef TG_ISOLATION_H
#define TG_ISOLATION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ISOLATION_KEY_LEN  32
#define ISOLATION_USER_MAX 255
/* "tg-" and the hash, the shortest username an app is given. */
#define ISOLATION_PREFIX   "tg-"
#define ISOLATION_HASH_LEN 22

enum isolation {
	ISOLATION_APP,      /* one username per (uid, exe) */
	ISOLATION_APP_NAME, /* one per (uid, exe, registrable domain) */
	ISOLATION_NONE,     /* the client's own username, if any */
};

/* "app", "app-name", "none"; -1 for anything else. */
int isolation_parse(const char *s);

/* The configuration word of i; "?" for a value out of range. */
const char *isolation_name(enum isolation i);

/*
 * The username and password to send upstream for a connection, written
 * NUL-terminated into user (userlen bytes) and pass (passlen bytes).
 *
 * ISOLATION_NONE: the client's own username and password when it sent a
 * username (else none: user[0] = pass[0] = 0).
 * ISOLATION_APP: "tg-" and 22 characters of base64url of
 * HMAC-SHA256(key, uid in decimal, NUL, exe path); exe NULL (an unknown
 * process) hashes as "unknown".
 * ISOLATION_APP_NAME: the same over uid, exe, NUL and the registrable
 * domain of name (the public suffix list: www.example.com and
 * mail.example.com share example.com), or name itself when it has none
 * (an IP text, a public suffix).  The caller passes the IP text as name
 * when it knows no name; NULL hashes as an empty name.
 * Then, for APP and APP_NAME, when the client sent a username of its own,
 * ":" and that username are appended (so that a client's own isolation,
 * such as Tor Browser's per site, survives).
 *
 * The username is cut to ISOLATION_USER_MAX bytes (and to userlen - 1).
 * It never starts with "<torS0X>", the marker of Tor's proposal 351: a
 * client's own username that does (mode NONE) is sent with "tg-" before
 * it.  The password is the client's (cut to 255 bytes) when it gave a
 * non-empty one, else "x": a non-empty fixed string, as RFC 1929 wants.
 *
 * Returns 0, or -1 when the HMAC fails or userlen is below
 * sizeof(ISOLATION_PREFIX) + ISOLATION_HASH_LEN or passlen below 2.
 * Thread-safe.
 */
int isolation_username(enum isolation mode,
                       const uint8_t key[ISOLATION_KEY_LEN], uid_t uid,
                       const char *exe, const char *name,
                       const char *client_user, const char *client_pass,
                       char *user, size_t userlen, char *pass, size_t passlen);

#endif
