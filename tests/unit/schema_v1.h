/*
 * schema_v1.h - the tables of schema 1 exactly as the first tollgate
 * created them, for the unit tests of the migrations (test_store.c from
 * schema 1, test_events.c from schema 2).  Never edit: a database of that
 * time is what the migrations must keep upgrading.
 */
#ifndef TG_TEST_SCHEMA_V1_H
#define TG_TEST_SCHEMA_V1_H

#define SCHEMA_V1_TABLES                                                       \
	"CREATE TABLE rules ("                                                 \
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"                               \
	" app TEXT NOT NULL,"                                                  \
	" uid INTEGER CHECK (uid IS NULL OR uid BETWEEN 0 AND 4294967294),"    \
	" dest_kind TEXT NOT NULL CHECK (dest_kind IN"                         \
	"  ('any', 'name', 'wildcard', 'ip', 'cidr', 'list')),"                \
	" dest TEXT NOT NULL,"                                                 \
	" addr BLOB CHECK (addr IS NULL OR length(addr) IN (4, 16)),"          \
	" prefix INTEGER NOT NULL DEFAULT 0 CHECK (prefix BETWEEN 0 AND 128)," \
	" port_lo INTEGER NOT NULL DEFAULT 0 CHECK (port_lo BETWEEN 0 AND "    \
	"65535),"                                                              \
	" port_hi INTEGER NOT NULL DEFAULT 0"                                  \
	"  CHECK (port_hi BETWEEN port_lo AND 65535),"                         \
	" proto TEXT NOT NULL CHECK (proto IN ('any', 'tcp', 'udp', 'dns')),"  \
	" action TEXT NOT NULL CHECK (action IN ('allow', 'deny', 'reject'))," \
	" duration TEXT NOT NULL CHECK (duration IN"                           \
	"  ('once', 'restart', 'until', 'forever')),"                          \
	" expires INTEGER NOT NULL DEFAULT 0,"                                 \
	" priority INTEGER NOT NULL DEFAULT 0,"                                \
	" enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),"       \
	" created INTEGER NOT NULL,"                                           \
	" updated INTEGER NOT NULL,"                                           \
	" hits INTEGER NOT NULL DEFAULT 0,"                                    \
	" last_hit INTEGER NOT NULL DEFAULT 0);"                               \
	"CREATE TABLE list_names ("                                            \
	" rule_id INTEGER NOT NULL REFERENCES rules(id) ON DELETE CASCADE,"    \
	" name TEXT NOT NULL,"                                                 \
	" PRIMARY KEY (rule_id, name)) WITHOUT ROWID;"

#endif
