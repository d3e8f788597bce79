/*
 * subidwatch.h - follow /etc/subuid and /etc/subgid while tollgated runs.
 *
 * A guarded user's subordinate ids are guarded with it (common/subid.h),
 * and useradd or "usermod --add-subuids" may give it new ones at any
 * time.  An inotify watch on the directory of each file (the tools
 * replace the file by a rename, which a watch on the file itself would
 * not outlive) wakes the loop when either name is written, moved in or
 * removed; then both files are read again, and when the guarded ranges
 * changed the table is replaced in one nftables batch (redirect.h), so
 * there is no moment when a guarded uid passes undecided.  What changed is
 * logged; on any failure the old table and ranges stay and the error is
 * logged (a range beyond CONFIG_MAX_SUBID is then not guarded: the log
 * says so at error level, each time the files change).
 *
 * inotify rather than a stat() of the files on a timer: a change is seen
 * at once instead of up to a period late, nothing runs while nothing
 * changes, and an overflowed event queue (IN_Q_OVERFLOW) is answered by
 * reading the files again, so no change is lost.
 */
#ifndef TG_SUBIDWATCH_H
#define TG_SUBIDWATCH_H

#include <stddef.h>
#include <stdint.h>

#include "proxyd/proxyd.h"

struct subidwatch;

/*
 * Watch the files named by pd->cfg (CONFIG_SUBUID_PATH and
 * CONFIG_SUBGID_PATH); a replaced table logs refused UDP to nflog_group
 * (0: not logged), as the first one did.  Made before the privileges are
 * dropped; served on pd->base.  NULL + err.
 */
struct subidwatch *subidwatch_start(struct proxyd *pd, uint16_t nflog_group,
                                    char *err, size_t errlen);

/*
 * Read both files again now and replace the table if the guarded ranges
 * changed.  Returns 1 when the table was replaced, 0 when nothing
 * changed, -1 on failure (logged; the old table stays).
 */
int subidwatch_check(struct subidwatch *w);

void subidwatch_free(struct subidwatch *w);

#endif
