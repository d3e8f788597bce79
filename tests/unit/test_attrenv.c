/*
 * test_attrenv.c - loader variables in a process's environment, from
 * hostile bytes, fed all at once and one byte at a time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <setjmp.h>

#include <cmocka.h>

#include "proxyd/attrenv.h"

/* Whether env[0..len) preloads, fed whole; asserts byte by byte agrees. */
static bool
preloads(const char *env, size_t len)
{
	struct attrenv whole, bytes;
	size_t i;

	attrenv_init(&whole);
	attrenv_feed(&whole, (const uint8_t *)env, len);
	attrenv_init(&bytes);
	for (i = 0; i < len; i++)
		attrenv_feed(&bytes, (const uint8_t *)env + i, 1);
	assert_int_equal(attrenv_found(&whole), attrenv_found(&bytes));
	return attrenv_found(&whole);
}

#define PRELOADS(lit) preloads(lit, sizeof(lit) - 1)

static void
test_each_variable_with_a_value_is_found(void **state)
{
	(void)state;
	assert_true(PRELOADS("HOME=/x\0LD_PRELOAD=/tmp/evil.so\0PATH=/bin\0"));
	assert_true(PRELOADS("LD_LIBRARY_PATH=/tmp\0"));
	assert_true(PRELOADS("A=1\0LD_AUDIT=/tmp/a.so\0"));
	/* The last string without its NUL: the kernel shows what is there. */
	assert_true(PRELOADS("A=1\0LD_PRELOAD=x"));
	/* A value of one space is a value (the loader splits on it). */
	assert_true(PRELOADS("LD_PRELOAD= \0"));
}

static void
test_empty_or_other_variables_are_not(void **state)
{
	(void)state;
	assert_false(PRELOADS(""));
	assert_false(PRELOADS("HOME=/x\0PATH=/bin\0"));
	assert_false(PRELOADS("LD_PRELOAD=\0LD_AUDIT=\0"));
	assert_false(PRELOADS("LD_PRELOAD=")); /* cut after '=' */
	assert_false(PRELOADS("LD_PRELOAD\0x\0"));
	assert_false(PRELOADS("XLD_PRELOAD=/x\0"));
	assert_false(PRELOADS("LD_PRELOADX=/x\0"));
	assert_false(PRELOADS("ld_preload=/x\0"));
	assert_false(PRELOADS("LD_LIBRARY=/x\0LD_AUDITS=1\0"));
	/* The name inside another's value is a value. */
	assert_false(PRELOADS("A=LD_PRELOAD=/x\0B= LD_AUDIT=y\0"));
}

static void
test_hostile_bytes(void **state)
{
	static const char nuls[] = "\0\0\0\0LD_AUDIT=1";
	uint8_t junk[512];
	size_t i;

	(void)state;
	assert_false(PRELOADS("LD_PRE\xffLOAD=x\0\xff\xfe=\x01\0"));
	assert_false(PRELOADS("=\0==\0LD_PRELOAD\xff=x\0"));
	assert_true(PRELOADS("\xff\xff\0LD_PRELOAD=\xff"));
	assert_true(preloads(nuls, sizeof(nuls) - 1));
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131 + 7);
	assert_false(preloads((const char *)junk, sizeof(junk)));
}

static void
test_split_anywhere(void **state)
{
	static const char env[] = "A=1\0LD_LIBRARY_PATH=/opt\0";
	struct attrenv e;
	size_t cut;

	(void)state;
	for (cut = 0; cut <= sizeof(env) - 1; cut++) {
		attrenv_init(&e);
		attrenv_feed(&e, (const uint8_t *)env, cut);
		attrenv_feed(&e, (const uint8_t *)env + cut,
		             sizeof(env) - 1 - cut);
		assert_true(attrenv_found(&e));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_each_variable_with_a_value_is_found),
	    cmocka_unit_test(test_empty_or_other_variables_are_not),
	    cmocka_unit_test(test_hostile_bytes),
	    cmocka_unit_test(test_split_anywhere),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
