/*
 * test_interp.c - the script an interpreter runs, from its argv and cwd:
 * each interpreter's options, code and modules that are no script, env,
 * relative paths, and the words of a /proc/PID/cmdline read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rules/interp.h"

#define CWD "/home/u/work"

/*
 * The script of exe running the words of line (split at spaces; "_"
 * stands for a space inside a word), cwd CWD: the path, "-" when there
 * is none, "!" when it did not fit.
 */
static const char *
script_of(const char *exe, const char *line)
{
	static char out[INTERP_SCRIPT_MAX];
	char buf[1024], *argv[32], *p;
	size_t argc = 0;
	int rc;

	snprintf(buf, sizeof(buf), "%s", line);
	for (p = strtok(buf, " "); p != NULL && argc < 32;
	     p = strtok(NULL, " ")) {
		for (char *q = p; *q != '\0'; q++)
			if (*q == '_')
				*q = ' ';
		argv[argc++] = p;
	}
	rc = interp_script(exe, (const char *const *)argv, argc, CWD, out,
	                   sizeof(out));
	if (rc == 0)
		return "-";
	if (rc == -1)
		return "!";
	return out;
}

static void
test_python(void **state)
{
	const char *py = "/usr/bin/python3.11";

	(void)state;
	assert_string_equal(script_of(py, "python3 x.py"), CWD "/x.py");
	assert_string_equal(script_of(py, "python3 -u x.py a b"), CWD "/x.py");
	assert_string_equal(script_of(py, "/usr/bin/python3 -u -B ../bin/x.py"),
	                    "/home/u/bin/x.py");
	assert_string_equal(script_of(py, "python3 -W ignore -X dev /opt/s.py"),
	                    "/opt/s.py");
	assert_string_equal(script_of(py, "python3 -Wignore -uX dev /opt/s.py"),
	                    "/opt/s.py");
	assert_string_equal(
	    script_of(py, "python3 --check-hash-based-pycs never s.py"),
	    CWD "/s.py");
	assert_string_equal(script_of(py, "python3 -- -x.py"), CWD "/-x.py");
	/* a module, code, stdin, the REPL: no script */
	assert_string_equal(script_of(py, "python3 -m http.server 8000"), "-");
	assert_string_equal(script_of(py, "python3 -um mod"), "-");
	assert_string_equal(script_of(py, "python3 -c import_os x.py"), "-");
	assert_string_equal(script_of(py, "python3 - x.py"), "-");
	assert_string_equal(script_of(py, "python3 -i"), "-");
	/* version suffixes, and not an interpreter */
	assert_string_equal(script_of("/usr/bin/python3", "p x.py"),
	                    CWD "/x.py");
	assert_string_equal(script_of("/usr/bin/python2.7", "p x.py"),
	                    CWD "/x.py");
	assert_string_equal(script_of("/usr/bin/pythonista", "p x.py"), "-");
	assert_string_equal(script_of("/usr/bin/curl", "curl x.py"), "-");
	assert_string_equal(
	    script_of("/usr/bin/python3.11 (deleted)", "p x.py"), "-");
}

/* env caught before its exec ("#!/usr/bin/env python3"): the exe is then
 * the interpreter's already. */
static void
test_env(void **state)
{
	const char *py = "/usr/bin/python3.11";

	(void)state;
	assert_string_equal(script_of(py, "/usr/bin/env python3 x.py"),
	                    CWD "/x.py");
	assert_string_equal(script_of(py, "env -i A=1 python3 -u /s/x.py"),
	                    "/s/x.py");
	assert_string_equal(script_of(py, "env perl x.pl"), "-");
	/* argv[0] is whatever the process says: its first word is skipped */
	assert_string_equal(script_of(py, "my-daemon x.py"), CWD "/x.py");
}

static void
test_perl_ruby_node(void **state)
{
	(void)state;
	assert_string_equal(script_of("/usr/bin/perl", "perl -w x.pl"),
	                    CWD "/x.pl");
	assert_string_equal(script_of("/usr/bin/perl5.36.0", "perl -Tw x.pl"),
	                    CWD "/x.pl");
	assert_string_equal(
	    script_of("/usr/bin/perl", "perl -I /opt/lib -Mstrict x.pl"),
	    CWD "/x.pl");
	assert_string_equal(script_of("/usr/bin/perl", "perl -i.bak x.pl f"),
	                    CWD "/x.pl");
	assert_string_equal(script_of("/usr/bin/perl", "perl -e print x.pl"),
	                    "-");
	assert_string_equal(script_of("/usr/bin/perl", "perl -lne print"), "-");
	assert_string_equal(script_of("/usr/bin/ruby3.1", "ruby -r json x.rb"),
	                    CWD "/x.rb");
	assert_string_equal(script_of("/usr/bin/ruby3.1", "ruby -W0 x.rb"),
	                    CWD "/x.rb");
	assert_string_equal(script_of("/usr/bin/ruby3.1", "ruby -e puts"), "-");
	assert_string_equal(script_of("/usr/bin/node", "node x.js"),
	                    CWD "/x.js");
	assert_string_equal(
	    script_of("/usr/bin/node", "node --inspect -r dotenv/config x.js"),
	    CWD "/x.js");
	assert_string_equal(
	    script_of("/usr/bin/node", "node --require=m --import m2 /a/x.mjs"),
	    "/a/x.mjs");
	assert_string_equal(script_of("/usr/bin/node", "node -e 1"), "-");
	assert_string_equal(script_of("/usr/bin/node", "node --eval 1 x.js"),
	                    "-");
	assert_string_equal(script_of("/usr/bin/node", "node"), "-");
}

static void
test_shells(void **state)
{
	(void)state;
	assert_string_equal(script_of("/usr/bin/dash", "sh x.sh"), CWD "/x.sh");
	assert_string_equal(
	    script_of("/usr/bin/bash", "bash -e -o pipefail x.sh"),
	    CWD "/x.sh");
	assert_string_equal(script_of("/usr/bin/bash", "bash +x --norc ./x.sh"),
	                    CWD "/x.sh");
	assert_string_equal(
	    script_of("/usr/bin/bash", "bash --rcfile /etc/rc x.sh"),
	    CWD "/x.sh");
	assert_string_equal(script_of("/usr/bin/dash", "sh -c curl_x.org"),
	                    "-");
	assert_string_equal(script_of("/usr/bin/bash", "bash -ec curl_x.org"),
	                    "-");
	assert_string_equal(script_of("/usr/bin/bash", "bash -s x.sh"), "-");
	assert_string_equal(script_of("/usr/bin/dash", "-sh"), "-");
}

/* Relative words are joined to cwd and cleaned; without a cwd only an
 * absolute word is named; a path too long is said so. */
static void
test_paths(void **state)
{
	const char *argv[] = {"python3", "../../x/./y//z.py"};
	const char *abs[] = {"python3", "/a/../../b/./c.py"};
	char out[INTERP_SCRIPT_MAX], small[8];

	(void)state;
	assert_int_equal(interp_script("/usr/bin/python3", argv, 2, "/home/u",
	                               out, sizeof(out)),
	                 1);
	assert_string_equal(out, "/x/y/z.py");
	assert_int_equal(
	    interp_script("/usr/bin/python3", argv, 2, NULL, out, sizeof(out)),
	    0);
	assert_int_equal(
	    interp_script("/usr/bin/python3", abs, 2, NULL, out, sizeof(out)),
	    1);
	assert_string_equal(out, "/b/c.py");
	assert_int_equal(interp_script("/usr/bin/python3", abs, 2, NULL, small,
	                               sizeof(small)),
	                 -1);
	assert_int_equal(
	    interp_script("/usr/bin/python3", abs, 0, NULL, out, sizeof(out)),
	    0);
}

static void
test_clean(void **state)
{
	const char *cases[][2] = {
	    {"/", "/"},
	    {"//", "/"},
	    {"/a/b/", "/a/b"},
	    {"/a/./b", "/a/b"},
	    {"/a/../b", "/b"},
	    {"/..", "/"},
	    {"/a/b/../..", "/"},
	    {"/a//b///c", "/a/b/c"},
	    {"/a/.b/..c", "/a/.b/..c"},
	};
	char buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		snprintf(buf, sizeof(buf), "%s", cases[i][0]);
		interp_clean(buf);
		if (strcmp(buf, cases[i][1]) != 0)
			fail_msg("%s cleaned to %s, not %s", cases[i][0], buf,
			         cases[i][1]);
	}
}

/* A /proc/PID/cmdline read: NUL-separated words, empty ones kept. */
static void
test_split(void **state)
{
	const char raw[] = "python3\0-u\0\0x y.py";
	const char *argv[4];

	(void)state;
	assert_int_equal(interp_split(raw, sizeof(raw) - 1, argv, 4), 4);
	assert_string_equal(argv[0], "python3");
	assert_string_equal(argv[1], "-u");
	assert_string_equal(argv[2], "");
	assert_string_equal(argv[3], "x y.py");
	assert_int_equal(interp_split(raw, sizeof(raw) - 1, argv, 2), 2);
	assert_int_equal(interp_split(raw, 0, argv, 4), 0);
	assert_true(interp_known("/usr/bin/bash"));
	assert_true(interp_known("nodejs"));
	assert_false(interp_known("/usr/bin/zsh"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_python),
	    cmocka_unit_test(test_env),
	    cmocka_unit_test(test_perl_ruby_node),
	    cmocka_unit_test(test_shells),
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_clean),
	    cmocka_unit_test(test_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
