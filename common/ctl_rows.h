/*
 * ctl_rows.h - the row lines of the control protocol's RULES and EVENTS
 * replies (docs/control.md): after "OK count=N ...", N lines, each one
 * rule or one event.  The daemon writes them, the tollgate command reads
 * them back, with these functions only.
 *
 *   RULE names=N|- <the rule's text form without its word "rule">
 *   EVENT id=N kind=decision|gap time_ms=N ... (ctl_event_format())
 *
 * A rule's text form is rules/rule.h's; names is how many names a list
 * rule's list holds, "-" for a rule that is not a list rule.  Values are
 * quoted as every control line's (ctl.h): they come from the guarded
 * programs and may hold any byte.
 */
#ifndef TG_CTL_ROWS_H
#define TG_CTL_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "common/ctl.h"
#include "rules/rule.h"
#include "store/events.h"

/*
 * r as one RULE line with its "\n" into buf[cap] (CTL_LINE_MAX + 2 bytes
 * hold any); n_names < 0 for no list.  Returns the length, or -1 when it
 * does not fit.
 */
int ctl_rule_format(const struct rule *r, int64_t n_names, char *buf,
                    size_t cap);

/*
 * One RULE line (without "\n") into *r and *n_names (-1: no list).  0, or
 * -1 + err when it is not a RULE line or its rule does not parse.
 */
int ctl_rule_parse(const char *line, size_t len, struct rule *r,
                   int64_t *n_names, char *err, size_t errlen);

/*
 * ev as one EVENT line with its "\n" into buf[cap] (CTL_LINE_MAX + 2
 * bytes hold any): every field of struct event_row, by the key of
 * docs/control.md.  Returns the length, or -1 when it does not fit.
 */
int ctl_event_format(const struct event_row *ev, char *buf, size_t cap);

/*
 * One EVENT line (without "\n") into *ev (zeroed first; a key it does
 * not know is skipped, for a newer daemon).  0, or -1 + err when it is not
 * an EVENT line or a value is out of its range.
 */
int ctl_event_parse(const char *line, size_t len, struct event_row *ev,
                    char *err, size_t errlen);

#endif
