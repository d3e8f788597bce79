/*
 * isolation.c - the upstream username of a connection: a keyed hash of
 * the app (and, for app-name, of the destination's registrable domain),
 * with the client's own username after it.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <libpsl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common/name.h"
#include "proxyd/isolation.h"

/* Tor's proposal 351: a username starting so asks Tor for more than
 * isolation. */
#define ISOLATION_TOR_MARKER "<torS0X>"
/* The bytes of the HMAC that go into the username: 16 make 22 base64url
 * characters (128 bits; the last character carries 2 bits of padding). */
#define ISOLATION_HASH_BYTES 16
#define ISOLATION_PASS_MAX   255
#define ISOLATION_NO_PASS    "x"

static const char *const isolation_names[] = {
    [ISOLATION_APP] = "app",
    [ISOLATION_APP_NAME] = "app-name",
    [ISOLATION_NONE] = "none",
};

#define ISOLATION_COUNT (sizeof(isolation_names) / sizeof(isolation_names[0]))

static pthread_once_t isolation_psl_once = PTHREAD_ONCE_INIT;
static const psl_ctx_t *isolation_psl;

int
isolation_parse(const char *s)
{
	size_t i;

	for (i = 0; i < ISOLATION_COUNT; i++)
		if (strcmp(s, isolation_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
isolation_name(enum isolation i)
{
	if ((size_t)i >= ISOLATION_COUNT)
		return "?";
	return isolation_names[i];
}

/* The list the prompts use too: Debian's publicsuffix file, kept current
 * by apt, else the copy built into libpsl.  Loaded once, never freed. */
static void
isolation_psl_load(void)
{
	isolation_psl = psl_latest(NULL);
	if (isolation_psl == NULL)
		isolation_psl = psl_builtin();
}

/* What app-name hashes for name: its registrable domain, else itself. */
static const char *
isolation_domain(const char *name, char *buf, size_t len)
{
	const char *reg;

	if (name == NULL)
		return "";
	if (snprintf(buf, len, "%s", name) >= (int)len ||
	    name_normalise(buf) == -1)
		return name; /* an IP text, or not a host name */
	pthread_once(&isolation_psl_once, isolation_psl_load);
	if (isolation_psl == NULL)
		return buf;
	reg = psl_registrable_domain(isolation_psl, buf);
	return reg != NULL ? reg : buf;
}

/* HMAC-SHA256(key, the n strings, each with its NUL but the last). */
static int
isolation_hmac(const uint8_t key[ISOLATION_KEY_LEN], const char **parts,
               size_t n, uint8_t *md, size_t mdlen)
{
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	size_t i, outl;
	int rc = -1;

	if ((mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL)) == NULL)
		return -1;
	if ((ctx = EVP_MAC_CTX_new(mac)) == NULL)
		goto fail;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	                                             (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(ctx, key, ISOLATION_KEY_LEN, params))
		goto fail;
	for (i = 0; i < n; i++)
		if (!EVP_MAC_update(ctx, (const uint8_t *)parts[i],
		                    strlen(parts[i]) + (i + 1 < n)))
			goto fail;
	if (!EVP_MAC_final(ctx, md, &outl, mdlen) || outl != mdlen)
		goto fail;
	rc = 0;
fail:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return rc;
}

/* base64url without padding of n bytes into out (4n/3 rounded up + 1). */
static void
isolation_b64url(const uint8_t *in, size_t n, char *out)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                          "abcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32_t acc = 0;
	size_t i;
	int bits = 0;

	for (i = 0; i < n; i++) {
		acc = acc << 8 | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			*out++ = abc[(acc >> bits) & 0x3f];
		}
	}
	if (bits > 0)
		*out++ = abc[(acc << (6 - bits)) & 0x3f];
	*out = '\0';
}

/* Append s to user[0..*n), stopping at max bytes. */
static void
isolation_append(char *user, size_t max, size_t *n, const char *s)
{
	size_t k = strnlen(s, max - *n);

	memcpy(user + *n, s, k);
	*n += k;
	user[*n] = '\0';
}

/* The password: the client's when it gave one, else a fixed one. */
static void
isolation_pass(const char *client_pass, char *pass, size_t passlen)
{
	size_t n = 0;

	pass[0] = '\0';
	isolation_append(
	    pass,
	    passlen - 1 < ISOLATION_PASS_MAX ? passlen - 1 : ISOLATION_PASS_MAX,
	    &n,
	    client_pass != NULL && client_pass[0] != '\0' ? client_pass
	                                                  : ISOLATION_NO_PASS);
}

int
isolation_username(enum isolation mode, const uint8_t key[ISOLATION_KEY_LEN],
                   uid_t uid, const char *exe, const char *name,
                   const char *client_user, const char *client_pass, char *user,
                   size_t userlen, char *pass, size_t passlen)
{
	uint8_t md[32];
	char uidstr[16], domain[NAME_MAX_LEN + 2];
	char hash[ISOLATION_HASH_LEN + 2];
	const char *parts[3];
	bool own = client_user != NULL && client_user[0] != '\0';
	size_t max, n = 0;

	if (userlen < sizeof(ISOLATION_PREFIX) + ISOLATION_HASH_LEN ||
	    passlen < 2)
		return -1;
	max =
	    userlen - 1 < ISOLATION_USER_MAX ? userlen - 1 : ISOLATION_USER_MAX;
	user[0] = pass[0] = '\0';
	if (mode != ISOLATION_APP && mode != ISOLATION_APP_NAME) {
		if (!own)
			return 0;
		if (strncmp(client_user, ISOLATION_TOR_MARKER,
		            strlen(ISOLATION_TOR_MARKER)) == 0)
			isolation_append(user, max, &n, ISOLATION_PREFIX);
		isolation_append(user, max, &n, client_user);
		isolation_pass(client_pass, pass, passlen);
		return 0;
	}
	snprintf(uidstr, sizeof(uidstr), "%u", (unsigned)uid);
	parts[0] = uidstr;
	parts[1] = exe != NULL ? exe : "unknown";
	parts[2] = isolation_domain(name, domain, sizeof(domain));
	if (isolation_hmac(key, parts, mode == ISOLATION_APP_NAME ? 3 : 2, md,
	                   sizeof(md)) == -1)
		return -1;
	isolation_b64url(md, ISOLATION_HASH_BYTES, hash);
	isolation_append(user, max, &n, ISOLATION_PREFIX);
	isolation_append(user, max, &n, hash);
	if (own) {
		isolation_append(user, max, &n, ":");
		isolation_append(user, max, &n, client_user);
	}
	isolation_pass(client_pass, pass, passlen);
	return 0;
}
