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

/*
 * Turns the news on: news minutes and breaking news air blocks from the
 * bulletin queue, which nr renders (in the feed's thread before each item
 * unless threaded: then nr's own thread does, and the feed only checks
 * for breaking news every tick). Bulletins cut off by an earlier stop go
 * back to be aired. 0 or negative.
 */
struct newsroom;
int feed_sched_news(struct feed_sched *fs, struct newsroom *nr, bool threaded);

/* Re-reads the schedule, the news and sound settings now (an operator's
 * reload). 0, or a negative code with the old schedule kept. */
int feed_sched_reload(struct feed_sched *fs);

/* From now on, each music item handed out publishes into st what the
 * scheduler expects after it (sched_forecast). st is borrowed. */
struct status;
void feed_sched_status(struct feed_sched *fs, struct status *st);

void feed_sched_free(struct feed_sched *fs);

#endif
