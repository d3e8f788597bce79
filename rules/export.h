/*
 * export.h - the export text of "tollgate rules export" and "tollgate
 * rules import", which is also what follows the control socket's IMPORT
 * request.  One reader for the daemon and the CLI, one writer.
 *
 *   # tollgate rules v1                          the first line, always
 *   rule id=3 app=* ... dest=list:ads ...         rule_format() lines
 *   list ads ads.example.com                      one name of list "ads"
 *   list ads tracker.example
 *   # a comment                                   ignored, as blank lines
 *
 * A list line belongs to every rule whose dest is list:NAME; a list rule
 * without list lines has an empty list.  A list that no rule names is an
 * error (its rule line is missing).  Ids in rule lines are kept in the set
 * (the store gives imported rules new ids).  Reading is all or nothing:
 * any bad line fails the whole read, with "line N: ...".
 */
#ifndef TG_EXPORT_H
#define TG_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "rules/match.h"

#define EXPORT_HEADER    "# tollgate rules v1"
#define EXPORT_RULES_MAX 10000 /* rules in one text (STORE_RULES_MAX) */
#define EXPORT_LINE_MAX  (RULE_LINE_MAX + 2)
#define EXPORT_ERRLEN    512

/*
 * True when buf, the start of a file, is export text of some version: it
 * starts "# tollgate rules v".  (A newer version is then refused by the
 * reader, not mistaken for a name list.)
 */
bool export_is_export(const char *buf, size_t len);

/*
 * Streaming reader: one line at a time (without its "\n"; a trailing "\r"
 * is dropped), in order.
 *   export_reader_line():   0, or -1 + err "line N: ..."; after -1 only
 *                           export_reader_free() may be called.
 *   export_reader_finish(): move what was read into set (which the caller
 *                           has made empty with rules_set_init()) and
 *                           count the rules and the names of all lists.
 *                           0, or -1 + err (set empty again).
 */
struct export_reader;

struct export_reader *export_reader_new(void);
int export_reader_line(struct export_reader *rd, const char *line, size_t len,
                       char *err, size_t errlen);
int export_reader_finish(struct export_reader *rd, struct rules_set *set,
                         size_t *n_rules, size_t *n_names, char *err,
                         size_t errlen);
void export_reader_free(struct export_reader *rd);

/* Take uid=NAME in rule lines from now on (rule_parse_line_users()); u
 * must outlive the reader. */
void export_reader_users(struct export_reader *rd, const struct rule_users *u);

/* A whole text from a stream through the reader.  0, or -1 + err (the read
 * error, or "line N: ..."). */
int export_read_file(FILE *f, struct rules_set *set, size_t *n_rules,
                     size_t *n_names, char *err, size_t errlen);

/* The same, taking uid=NAME through u (NULL: numbers only). */
int export_read_file_users(FILE *f, const struct rule_users *u,
                           struct rules_set *set, size_t *n_rules,
                           size_t *n_names, char *err, size_t errlen);

/*
 * Write the header, then each rule of set with, after a list rule, its
 * names.  Returns the number of lines written, or -1 with errno set when
 * the stream failed.
 */
long export_write(FILE *out, const struct rules_set *set);

/* The same, with users by name where u gives one (rule_format_users()). */
long export_write_users(FILE *out, const struct rules_set *set,
                        const struct rule_users *u);

#endif
