/*
 * feed_sched.h - the scheduler as a player feed, with the as-run log.
 *
 * Asks the scheduler what starts at each programme time. Between items it
 * checks whether another process changed the database (an operator's
 * slot edit) and reloads the schedule then, so edits take effect on air
 * without a restart or a gap. Each item that aired is written to the
 * as-run log (and its track's last_played) when log_asrun is set.
 */
#ifndef FEED_SCHED_H
#define FEED_SCHED_H

#include <stdbool.h>

struct feed_sched;
struct player_feed;
struct store;

/* Borrows st for its lifetime; fills *feed. 0, or a negative code (the
 * scheduler's, logged). */
int feed_sched_new(struct feed_sched **out, struct store *st, bool log_asrun,
                   struct player_feed *feed);

void feed_sched_free(struct feed_sched *fs);

#endif
