/*
 * table.h - the one table printer of the tollgate command: "rules list",
 * "events" and "prompts" (table.c).
 *
 * A table is columns (struct table_col) and rows of cells.  Rows are
 * held to measure the columns, then printed: each column as wide as its
 * header and widest cell, within its bound; the flexible column gets
 * what the others leave of the terminal's width.  A row may also be
 * printed at once, without holding it ("events" streams what it cannot
 * hold), in the widths the table has then.
 *
 * Cells are copied in their safe form (cli_ev_text(): no control byte or
 * bad UTF-8 reaches the terminal), and measured and cut in characters;
 * with TABLE_RAW they are copied as they are and measured in bytes, as
 * "rules list" has always printed them.
 */
#ifndef TG_CLI_TABLE_H
#define TG_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "cli/cli.h"

#define TABLE_COLS_MAX   20
#define TABLE_CELL_MAX   (4096 + 64) /* bytes of a cell as printed */
#define TABLE_SHRINK_MIN 6           /* a shrinking column, at least */

struct table_col {
	const char *head;
	size_t stream; /* width before rows are measured, and a floor for
	                  the rows streamed after them */
	size_t max;    /* at most this wide (with TABLE_FIT); 0: no bound */
	bool right;    /* a number: flush right, never cut */
	bool cut_left; /* keep the end when cut (a host name) */
	bool flex;     /* takes what the others leave of the width */
	bool shrink;   /* gives width back when the terminal is narrow */
	bool soft;     /* text whose width the rows held predict well: no
	                  floor once there are some */
	bool paint;    /* the column that a row's paint colours */
};

struct table_row {
	bool line;         /* one text across the table, in cell[0] */
	const char *paint; /* escape sequence for the paint column (or the
	                      line), with TABLE_COLOR; NULL: none */
	char *cell[TABLE_COLS_MAX]; /* owned; NULL prints as "" */
};

enum table_flags {
	TABLE_FIT = 1,   /* cut to the widths and the terminal (not --wide) */
	TABLE_COLOR = 2, /* bold header, painted rows */
	TABLE_RAW = 4,   /* cells as they are, widths in bytes */
};

struct table {
	const struct table_col *cols;
	size_t n_cols;
	const struct cli_term *term; /* made safe and fitted for; NULL only
	                               with TABLE_RAW */
	unsigned flags;
	size_t sep;      /* spaces between columns */
	size_t flex_min; /* the flexible column, at least */
	size_t width[TABLE_COLS_MAX];
	size_t floor[TABLE_COLS_MAX]; /* the least widths: see table_fit() */
	bool header_done;
	struct table_row *rows; /* held */
	size_t n_rows, cap;
};

/*
 * Start a table of the columns cols[n_cols] (at most TABLE_COLS_MAX),
 * sep spaces apart, for term (NULL with TABLE_RAW), floors at the
 * columns' stream widths.  The widths are those of table_fit(t, true)
 * with no rows.
 */
void table_init(struct table *t, const struct table_col *cols, size_t n_cols,
                size_t sep, size_t flex_min, const struct cli_term *term,
                unsigned flags);

/* Set cell i of r to a copy of s (its safe form).  0, or -1 when out of
 * memory. */
int table_cell(const struct table *t, struct table_row *r, size_t i,
               const char *s);

/* Hold r: the table owns its cells now, and r is emptied.  0, or -1 when
 * out of memory (r is still the caller's). */
int table_hold(struct table *t, struct table_row *r);

/* Hold a row of the cells cells[n_cols], copied.  0, or -1 when out of
 * memory. */
int table_add(struct table *t, const char *const *cells, const char *paint);

void table_row_free(struct table_row *r);

/*
 * Fit the widths to the header and the rows held.  With more (rows are
 * still to come, streamed), no column is narrower than its floor, but
 * for a soft one when rows are held, and the flexible one takes all that
 * is left rather than what the rows need.
 */
void table_fit(struct table *t, bool more);

/* The header, the first time only. */
void table_header(struct table *t);

/* One row, in the widths the table has. */
void table_print_row(const struct table *t, const struct table_row *r);

/*
 * Fit (table_fit(t, more)), print the header (when there are rows, or
 * more to come) and the rows held, and drop them.
 */
void table_print(struct table *t, bool more);

/* Drop the rows held. */
void table_free(struct table *t);

#endif
