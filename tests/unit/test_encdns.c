/*
 * test_encdns.c - encrypted DNS servers: the list as a file, names in
 * any case and with a trailing dot, names under a listed one, port 853,
 * no list, and files that cannot be read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"
#include "proxyd/encdns.h"

/* text in a temporary file; its path (static buffer). */
static const char *
list_file(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/tg-test-encdns-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	return path;
}

static struct encdns *
load(const char *text, char *err, size_t errlen)
{
	const char *path = list_file(text);
	struct encdns *e = encdns_load(path, err, errlen);

	unlink(path);
	return e;
}

static void
test_names_and_names_under(void **state)
{
	char err[512] = "";
	struct encdns *e;

	(void)state;
	e = load("# resolvers\n"
	         "dns.google\n"
	         "\n"
	         "cloudflare-dns.com   # and every name under it\n"
	         "*.nextdns.io\n",
	         err, sizeof(err));
	assert_non_null(e);
	assert_int_equal(encdns_count(e), 3);
	assert_true(encdns_match(e, "dns.google", 443));
	assert_true(encdns_match(e, "DNS.Google.", 443));
	assert_true(encdns_match(e, "mozilla.cloudflare-dns.com", 443));
	assert_true(encdns_match(e, "a.b.cloudflare-dns.com", 8443));
	assert_true(encdns_match(e, "nextdns.io", 443));
	assert_true(encdns_match(e, "x.nextdns.io", 443));
	/* A name that only ends like one, or is above one: no. */
	assert_false(encdns_match(e, "notdns.google", 443));
	assert_false(encdns_match(e, "google", 443));
	assert_false(encdns_match(e, "cloudflare-dns.com.evil.test", 443));
	assert_false(encdns_match(e, "www.example.com", 443));
	/* No name, or not a name: only the port can tell. */
	assert_false(encdns_match(e, NULL, 443));
	assert_false(encdns_match(e, "", 443));
	assert_false(encdns_match(e, "192.0.2.1", 443));
	assert_false(encdns_match(e, "dns..google", 443));
	/* DNS over TLS: whatever the name. */
	assert_true(encdns_match(e, NULL, ENCDNS_DOT_PORT));
	assert_true(encdns_match(e, "www.example.com", 853));
	encdns_free(e);
}

static void
test_no_list(void **state)
{
	char err[512] = "";
	struct encdns *e;

	(void)state;
	e = encdns_load(NULL, err, sizeof(err));
	assert_non_null(e);
	assert_int_equal(encdns_count(e), 0);
	assert_false(encdns_match(e, "dns.google", 443));
	assert_true(encdns_match(e, "dns.google", 853));
	encdns_free(e);
	e = encdns_load("", err, sizeof(err));
	assert_non_null(e);
	encdns_free(e);
	/* Not loaded at all: the port still counts. */
	assert_false(encdns_match(NULL, "dns.google", 443));
	assert_true(encdns_match(NULL, NULL, 853));
	encdns_free(NULL);
}

static void
test_bad_files_name_the_file(void **state)
{
	char err[512] = "";

	(void)state;
	assert_null(
	    encdns_load("/nonexistent/encrypted-dns.list", err, sizeof(err)));
	assert_string_equal(err, "encrypted_dns_list "
	                         "/nonexistent/encrypted-dns.list: cannot "
	                         "open: No such file or directory");
	assert_null(load("dns.google\nnot a name here\n", err, sizeof(err)));
	assert_non_null(strstr(err, "encrypted_dns_list /tmp/tg-test-encdns-"));
	assert_non_null(strstr(err, "line 2"));
	assert_null(encdns_load("/tmp", err, sizeof(err)));
	assert_non_null(strstr(err, "encrypted_dns_list /tmp: "));
}

static void check_shipped(const struct encdns *e);

/* The list the build ships reads, and holds what it says it does: from
 * the tree, and as compiled in (the default, builtin). */
static void
test_shipped_list(void **state)
{
	const char *const sources[] = {"contrib/encrypted-dns.list",
	                               CONFIG_BUILTIN};
	char err[512] = "";
	struct encdns *e;
	size_t i, n[2];

	(void)state;
	for (i = 0; i < 2; i++) {
		e = encdns_load(sources[i], err, sizeof(err));
		if (e == NULL)
			fail_msg("%s", err);
		n[i] = encdns_count(e);
		check_shipped(e);
		encdns_free(e);
	}
	assert_int_equal(n[0], n[1]);
}

static void
check_shipped(const struct encdns *e)
{
	assert_true(encdns_count(e) >= 8);
	assert_true(encdns_match(e, "dns.google", 443));
	assert_true(encdns_match(e, "mozilla.cloudflare-dns.com", 443));
	assert_true(encdns_match(e, "dns.quad9.net", 443));
	assert_true(encdns_match(e, "doh.opendns.com", 443));
	assert_true(encdns_match(e, "dns.nextdns.io", 443));
	assert_true(encdns_match(e, "doh.cleanbrowsing.org", 443));
	assert_true(encdns_match(e, "dns.adguard-dns.com", 443));
	assert_false(encdns_match(e, "www.google.com", 443));
	assert_false(encdns_match(e, "www.cloudflare.com", 443));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_and_names_under),
	    cmocka_unit_test(test_no_list),
	    cmocka_unit_test(test_bad_files_name_the_file),
	    cmocka_unit_test(test_shipped_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
