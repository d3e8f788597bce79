/*
 * list.h - lists of names for list rules (dest=list:NAME): reading hosts
 * files and plain domain lists, 100k+ names, into one set of names.
 *
 * Accepted lines (a '#' starts a comment; blank lines are skipped; a
 * trailing CR is dropped):
 *   0.0.0.0 ads.example.com [more names]   hosts file: an IPv4 or IPv6
 *   127.0.0.1 tracker.example               address, then names
 *   ::1 name
 *   ads.example.com                         plain list: one name a line
 *   *.ads.example.com                       the same ("*." is dropped: a
 *                                           list entry already means the
 *                                           name and every name under it)
 * Names are normalised like a rule's dest (rule_parse_name(): UTF-8 IDN to
 * punycode, lower case, no trailing dot).  The machine's own entries of a
 * hosts file (localhost, localhost.localdomain, local, broadcasthost,
 * ip6-localhost, ip6-loopback, ip6-localnet, ip6-mcastprefix,
 * ip6-allnodes, ip6-allrouters, ip6-allhosts, 0.0.0.0) are skipped.
 * Duplicates are folded.  Anything else (a plain line with two words, a
 * name that is not valid, a line longer than RULES_LIST_LINE_MAX) is an
 * error naming the line number, and the whole read fails: a list is
 * imported whole or not at all.
 */
#ifndef TG_LIST_H
#define TG_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define RULES_LIST_LINE_MAX 4096 /* bytes in one line, without \n */
#define RULES_LIST_NAMES_MAX                                                   \
	1000000 /* names in one list (the store's                              \
	         * STORE_LIST_NAMES_MAX) */

/* A set of normalised names, in the order first seen. */
struct rules_list;

struct rules_list *rules_list_new(void);
void rules_list_free(struct rules_list *l);

/*
 * Add one name as a user typed it (normalised here).  Returns 1 when
 * added, 0 when already there, -1 + err when the name is not valid or the
 * list is full.
 */
int rules_list_add(struct rules_list *l, const char *name, char *err,
                   size_t errlen);

size_t rules_list_count(const struct rules_list *l);
bool rules_list_contains(const struct rules_list *l, const char *name);

/*
 * The names as an array of n = rules_list_count() strings, valid until the
 * list changes or is freed; what rules_set_add() and store_rule_add()
 * take.
 */
const char *const *rules_list_names(const struct rules_list *l);

/*
 * Streaming reader: feed bytes as they come (any split, even inside a
 * line), then finish.
 *   rules_list_reader_feed():   0  all bytes taken, feed more or finish;
 *                              -1  invalid: err says "line N: ..."; the
 *                                  reader only accepts _free() after.
 *   rules_list_reader_finish(): the list (the reader gives it up; the
 *                               caller frees it), or NULL + err (last
 *                               line invalid, or an earlier feed failed).
 * The reader is freed by rules_list_reader_free() in every case.
 */
struct rules_list_reader;

struct rules_list_reader *rules_list_reader_new(void);
int rules_list_reader_feed(struct rules_list_reader *rd, const char *buf,
                           size_t len, char *err, size_t errlen);
struct rules_list *rules_list_reader_finish(struct rules_list_reader *rd,
                                            char *err, size_t errlen);
void rules_list_reader_free(struct rules_list_reader *rd);

/*
 * Whole reads through the reader.  NULL + err ("line N: ..." or the read
 * error) when anything was wrong.
 */
struct rules_list *rules_list_read_file(FILE *f, char *err, size_t errlen);
struct rules_list *rules_list_read_buf(const char *buf, size_t len, char *err,
                                       size_t errlen);

#endif
