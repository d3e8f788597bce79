/*
 * denials.h - which refusals a user is told of (notify_denials): the rate
 * limit of the DENIED lines the broker sends to that user's agents.
 *
 * At most one line per (uid, app, name) every DENIALS_WINDOW_S seconds,
 * and at most DENIALS_PER_UID lines per uid in any such window (a page
 * with fifty blocked trackers is a few notifications, not fifty).  The
 * refusals not told are counted, and the next line of their pair says how
 * many there were (its count= includes them).  The table is bounded
 * (DENIALS_MAX pairs): a pair not told for a window may be forgotten to
 * make room, with its count; when every pair was told within the window,
 * a new pair is not told at all until one may go.
 *
 * Pure and single-threaded (the event loop's); nothing here sends.
 */
#ifndef TG_DENIALS_H
#define TG_DENIALS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define DENIALS_WINDOW_S 60
#define DENIALS_PER_UID  10
#define DENIALS_MAX      512

struct denials;

/* A new, empty table; NULL when out of memory. */
struct denials *denials_new(void);
void denials_free(struct denials *d);

/*
 * A refusal of uid's app (its path, "" unknown) to name (or the address
 * when none was read) at now (Unix seconds).  True when a line is to be
 * sent now, *count the refusals it tells (this one and those of the pair
 * not told since); false when it is only counted.
 */
bool denials_take(struct denials *d, uid_t uid, const char *app,
                  const char *name, int64_t now, unsigned *count);

#endif
