/*
 * interp.h - the script an interpreter runs, from its argv: what a rule's
 * script= field (rules/rule.h) is compared with.
 *
 * Pure: no file system, no /proc.  tollgated reads the argv
 * (/proc/PID/cmdline) and the working directory (/proc/PID/cwd) and
 * resolves the symbolic links of what interp_script() gives
 * (proxyd/attr.c); "tollgate rules add --script" resolves what the user
 * typed the same way.
 *
 * The interpreters, known by the last component of the resolved exe
 * with any version suffix of digits and dots dropped (python3.11 is
 * python, perl5.36.0 perl, ruby3.1 ruby): python, perl, ruby, node (and
 * nodejs), sh, bash, dash.  The script is the first word after the
 * interpreter's options (those that take a value skip it: python3 -W
 * ignore x.py), or the word after "--".  There is none when the program
 * comes from elsewhere: code on the command line (python -c, perl -e/-E,
 * ruby -e, node -e/-p, sh -c), a module (python -m: the module is no
 * file; cmdline= matches it), standard input ("-", sh -s) or no word at
 * all.  An argv[0] of "env" (a "#!/usr/bin/env python3" line caught
 * before env's exec) skips to the first word naming the same
 * interpreter.
 *
 * Not a security boundary: a process can rewrite its own argv.  The exe
 * and its digest say what runs; the script is a label of convenience for
 * the user's own programs.
 */
#ifndef TG_INTERP_H
#define TG_INTERP_H

#include <stdbool.h>
#include <stddef.h>

#define INTERP_SCRIPT_MAX 1024 /* a script's path, with its NUL */
#define INTERP_ARGV_MAX   64   /* words of a command line looked at */

/* Whether exe (a path or a bare name) is a known interpreter. */
bool interp_known(const char *exe);

/*
 * The script of a process running exe with argv[0 .. argc), relative
 * words joined to cwd (absolute, or NULL when unknown), the result
 * cleaned of "//", "." and ".." lexically (symbolic links are the
 * caller's).  Returns 1 with the path in out[len], 0 when there is no
 * script (exe is no interpreter, the program is not a file, a relative
 * word with no cwd), -1 when the path does not fit in len.
 */
int interp_script(const char *exe, const char *const *argv, size_t argc,
                  const char *cwd, char *out, size_t len);

/*
 * The words of a /proc/PID/cmdline read of n bytes in buf (buf[n] must be
 * a NUL the caller put there): pointers into buf, at most max of them.
 * Returns how many.
 */
size_t interp_split(const char *buf, size_t n, const char **argv, size_t max);

/* path (absolute) cleaned in place of "//", "/./" and "/../", lexically;
 * "/" at least. */
void interp_clean(char *path);

#endif
