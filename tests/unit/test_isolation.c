/*
 * test_isolation.c - the username tollgate gives Tor for a connection:
 * apps apart, one app together, the client's own isolation kept, nothing
 * of the program's path in it, never Tor's proposal 351 marker.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proxyd/isolation.h"

#define FIREFOX "/usr/lib/firefox-esr/firefox-esr"
#define APT     "/usr/lib/apt/methods/http"

static const uint8_t key1[ISOLATION_KEY_LEN] =
    "0123456789abcdef0123456789abcde";
static const uint8_t key2[ISOLATION_KEY_LEN] =
    "0123456789abcdef0123456789abcdX";

struct creds {
	char user[ISOLATION_USER_MAX + 1];
	char pass[256];
};

/* The username and password of a connection; each must be one tollgate
 * may send: non-empty (but for mode none without a client username), at
 * most 255 bytes, never the marker of Tor's proposal 351. */
static struct creds
creds(enum isolation mode, const uint8_t *key, uid_t uid, const char *exe,
      const char *name, const char *cuser, const char *cpass)
{
	struct creds c;

	memset(&c, 0x55, sizeof(c));
	assert_int_equal(isolation_username(mode, key, uid, exe, name, cuser,
	                                    cpass, c.user, sizeof(c.user),
	                                    c.pass, sizeof(c.pass)),
	                 0);
	assert_true(strlen(c.user) <= ISOLATION_USER_MAX);
	assert_true(strncmp(c.user, "<torS0X>", 8) != 0);
	if (mode != ISOLATION_NONE) {
		assert_true(strncmp(c.user, "tg-", 3) == 0);
		assert_true(strlen(c.user) >= 3 + 22);
		assert_true(c.pass[0] != '\0');
	}
	return c;
}

static const char *
app_user(const uint8_t *key, uid_t uid, const char *exe)
{
	static char user[ISOLATION_USER_MAX + 1];

	snprintf(user, sizeof(user), "%s",
	         creds(ISOLATION_APP, key, uid, exe, "example.com", NULL, NULL)
	             .user);
	return user;
}

static void
mode_names(void **state)
{
	assert_int_equal(isolation_parse("app"), ISOLATION_APP);
	assert_int_equal(isolation_parse("app-name"), ISOLATION_APP_NAME);
	assert_int_equal(isolation_parse("none"), ISOLATION_NONE);
	assert_int_equal(isolation_parse("App"), -1);
	assert_int_equal(isolation_parse(""), -1);
	assert_int_equal(isolation_parse("app-"), -1);
	assert_string_equal(isolation_name(ISOLATION_APP), "app");
	assert_string_equal(isolation_name(ISOLATION_APP_NAME), "app-name");
	assert_string_equal(isolation_name(ISOLATION_NONE), "none");
	assert_string_equal(isolation_name((enum isolation)7), "?");
}

static void
two_apps_two_users(void **state)
{
	char firefox[ISOLATION_USER_MAX + 1];

	snprintf(firefox, sizeof(firefox), "%s", app_user(key1, 1000, FIREFOX));
	assert_string_not_equal(firefox, app_user(key1, 1000, APT));
	/* the same program run by another user is another app */
	assert_string_not_equal(firefox, app_user(key1, 1001, FIREFOX));
	/* an unknown process is one more app of its own */
	assert_string_not_equal(firefox, app_user(key1, 1000, NULL));
	assert_string_equal(app_user(key1, 1000, NULL),
	                    app_user(key1, 1000, "unknown"));
}

static void
one_app_one_user(void **state)
{
	struct creds a, b;

	a = creds(ISOLATION_APP, key1, 1000, FIREFOX, "example.com", NULL,
	          NULL);
	b = creds(ISOLATION_APP, key1, 1000, FIREFOX, "example.org", NULL,
	          NULL);
	assert_string_equal(a.user, b.user);
	assert_string_equal(a.pass, "x");
	assert_string_equal(b.pass, "x");
	/* "tg-" and 22 characters of base64url */
	assert_int_equal(strlen(a.user), 3 + 22);
	assert_int_equal(strspn(a.user + 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                                    "abcdefghijklmnopqrstuvwxyz"
	                                    "0123456789-_"),
	                 22);
}

/*
 * The same key gives the same usernames in every run and every version:
 * Tor's circuits follow them.  Known answers, computed apart from this
 * code: HMAC-SHA256(key, "1000" NUL exe [NUL domain]), its first 16 bytes
 * in base64url.
 */
static void
stable_across_restarts(void **state)
{
	assert_string_equal(app_user(key1, 1000, FIREFOX),
	                    "tg-8YuP1EEefGFC2LBMoxfClA");
	assert_string_equal(creds(ISOLATION_APP_NAME, key1, 1000, FIREFOX,
	                          "www.example.com", NULL, NULL)
	                        .user,
	                    "tg-6-i4Gnlk61XqJcTWXsONWA");
}

/* Another key (another machine, a reset database) gives other names. */
static void
key_changes_users(void **state)
{
	char one[ISOLATION_USER_MAX + 1];

	snprintf(one, sizeof(one), "%s", app_user(key1, 1000, FIREFOX));
	assert_string_not_equal(one, app_user(key2, 1000, FIREFOX));
	assert_string_equal(one, app_user(key1, 1000, FIREFOX));
}

/* Nothing of the program's path shows in the username. */
static void
path_not_visible(void **state)
{
	const char *user = app_user(key1, 1000, FIREFOX);

	assert_null(strstr(user, "firefox"));
	assert_null(strstr(user, "usr"));
	assert_null(strstr(user, "1000"));
	user = app_user(key1, 1000, "/a");
	assert_null(strstr(user, "/"));
}

/* Tor Browser's own per-site usernames keep their circuits apart. */
static void
client_user_appended(void **state)
{
	struct creds plain, a, b;

	plain = creds(ISOLATION_APP, key1, 1000, FIREFOX, "example.com", NULL,
	              NULL);
	a = creds(ISOLATION_APP, key1, 1000, FIREFOX, "example.com",
	          "example.com", "1f2e3d");
	b = creds(ISOLATION_APP, key1, 1000, FIREFOX, "example.com",
	          "example.org", "4c5b6a");
	assert_int_equal(strlen(a.user), strlen(plain.user) + 1 + 11);
	assert_memory_equal(a.user, plain.user, strlen(plain.user));
	assert_string_equal(a.user + strlen(plain.user), ":example.com");
	assert_string_equal(b.user + strlen(plain.user), ":example.org");
	assert_string_equal(a.pass, "1f2e3d");
	assert_string_equal(b.pass, "4c5b6a");
	/* a username without a password: the fixed one */
	a = creds(ISOLATION_APP, key1, 1000, FIREFOX, "example.com", "site",
	          "");
	assert_string_equal(a.pass, "x");
	/* an empty username is none */
	a = creds(ISOLATION_APP, key1, 1000, FIREFOX, "example.com", "", NULL);
	assert_string_equal(a.user, plain.user);
}

static void
long_client_user_cut(void **state)
{
	char cuser[400], cpass[400];
	struct creds c;

	memset(cuser, 'u', sizeof(cuser) - 1);
	cuser[sizeof(cuser) - 1] = '\0';
	memset(cpass, 'p', sizeof(cpass) - 1);
	cpass[sizeof(cpass) - 1] = '\0';
	c = creds(ISOLATION_APP, key1, 1000, FIREFOX, NULL, cuser, cpass);
	assert_int_equal(strlen(c.user), ISOLATION_USER_MAX);
	assert_int_equal(c.user[3 + 22], ':');
	assert_int_equal(strspn(c.user + 3 + 22 + 1, "u"),
	                 ISOLATION_USER_MAX - 3 - 22 - 1);
	assert_int_equal(strlen(c.pass), 255);
	c = creds(ISOLATION_NONE, key1, 1000, FIREFOX, NULL, cuser, NULL);
	assert_int_equal(strlen(c.user), ISOLATION_USER_MAX);
	assert_string_equal(c.pass, "x");
}

/* app-name: one username per app and site (registrable domain). */
static void
app_name_per_site(void **state)
{
	struct creds www, mail, org, ip, other;

	www = creds(ISOLATION_APP_NAME, key1, 1000, FIREFOX, "www.example.com",
	            NULL, NULL);
	mail = creds(ISOLATION_APP_NAME, key1, 1000, FIREFOX,
	             "mail.example.com", NULL, NULL);
	org = creds(ISOLATION_APP_NAME, key1, 1000, FIREFOX, "example.org",
	            NULL, NULL);
	ip = creds(ISOLATION_APP_NAME, key1, 1000, FIREFOX, "192.0.2.1", NULL,
	           NULL);
	other = creds(ISOLATION_APP_NAME, key1, 1000, APT, "www.example.com",
	              NULL, NULL);
	assert_string_equal(www.user, mail.user);
	assert_string_not_equal(www.user, org.user);
	assert_string_not_equal(www.user, ip.user);
	assert_string_not_equal(www.user, other.user);
	/* a name as a client may write it is the same site */
	assert_string_equal(www.user,
	                    creds(ISOLATION_APP_NAME, key1, 1000, FIREFOX,
	                          "WWW.Example.COM.", NULL, NULL)
	                        .user);
	/* public suffixes: co.uk is no site, its names are */
	assert_string_equal(creds(ISOLATION_APP_NAME, key1, 1000, FIREFOX,
	                          "a.example.co.uk", NULL, NULL)
	                        .user,
	                    creds(ISOLATION_APP_NAME, key1, 1000, FIREFOX,
	                          "b.example.co.uk", NULL, NULL)
	                        .user);
	assert_string_not_equal(creds(ISOLATION_APP_NAME, key1, 1000, FIREFOX,
	                              "a.example.co.uk", NULL, NULL)
	                            .user,
	                        creds(ISOLATION_APP_NAME, key1, 1000, FIREFOX,
	                              "a.other.co.uk", NULL, NULL)
	                            .user);
	/* app-name is not app: the app's own username is another */
	assert_string_not_equal(www.user, app_user(key1, 1000, FIREFOX));
}

static void
none_passes_client_credentials(void **state)
{
	struct creds c;

	c = creds(ISOLATION_NONE, key1, 1000, FIREFOX, "example.com", NULL,
	          NULL);
	assert_string_equal(c.user, "");
	assert_string_equal(c.pass, "");
	c = creds(ISOLATION_NONE, key1, 1000, FIREFOX, "example.com",
	          "example.com", "1f2e3d");
	assert_string_equal(c.user, "example.com");
	assert_string_equal(c.pass, "1f2e3d");
	/* the marker of Tor's proposal 351 is never sent */
	c = creds(ISOLATION_NONE, key1, 1000, FIREFOX, "example.com",
	          "<torS0X>0abc", "p");
	assert_string_equal(c.user, "tg-<torS0X>0abc");
	c = creds(ISOLATION_APP, key1, 1000, FIREFOX, "example.com",
	          "<torS0X>0abc", "p");
	assert_non_null(strstr(c.user, ":<torS0X>0abc"));
}

static void
small_buffers(void **state)
{
	char user[3 + 22 + 1], pass[2];

	assert_int_equal(isolation_username(
	                     ISOLATION_APP, key1, 0, FIREFOX, NULL, NULL, NULL,
	                     user, sizeof(user) - 1, pass, sizeof(pass)),
	                 -1);
	assert_int_equal(isolation_username(ISOLATION_APP, key1, 0, FIREFOX,
	                                    NULL, NULL, NULL, user,
	                                    sizeof(user), pass, 1),
	                 -1);
	/* room for the app's part only: the client's is cut off */
	assert_int_equal(isolation_username(ISOLATION_APP, key1, 0, FIREFOX,
	                                    NULL, "u", "secret", user,
	                                    sizeof(user), pass, sizeof(pass)),
	                 0);
	assert_int_equal(strlen(user), 3 + 22);
	assert_string_equal(pass, "s");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(mode_names),
	    cmocka_unit_test(two_apps_two_users),
	    cmocka_unit_test(one_app_one_user),
	    cmocka_unit_test(stable_across_restarts),
	    cmocka_unit_test(key_changes_users),
	    cmocka_unit_test(path_not_visible),
	    cmocka_unit_test(client_user_appended),
	    cmocka_unit_test(long_client_user_cut),
	    cmocka_unit_test(app_name_per_site),
	    cmocka_unit_test(none_passes_client_credentials),
	    cmocka_unit_test(small_buffers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
