/*
 * station.h - the scheduled station: the database, the scheduler feed and
 * the newsroom, played into outputs the caller opened. Behind `air`,
 * `render` and the daemon's `run`.
 */
#ifndef STATION_H
#define STATION_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "player.h"

struct output;
struct station;
struct store;

struct station_options {
	const char *db_path;
	/* render: a simulated clock from play.start_ms, and news only if
	 * log_asrun; otherwise the wall clock, as-run logged, news on. */
	bool render;
	bool log_asrun;
	const char *drop_dir; /* the bulletin drop folder, NULL none */
};

/*
 * Opens the database (read-only for a render that logs nothing), the
 * scheduler feed and, where news airs, the newsroom (its thread started
 * when not rendering). 0 or a negative code, logged once.
 */
int station_open(struct station **out, const struct station_options *opt);

/*
 * The player's sound settings from the database (limiter ceiling, dead
 * air) into *play, and the programme time: the wall clock now unless
 * rendering (then play->start_ms is kept).
 */
void station_player_options(struct station *s, struct player_options *play);

/* Plays the schedule into outs until *stop (player_run()). */
int station_play(struct station *s, struct output **outs, size_t *n_outs,
                 const struct player_options *play, volatile sig_atomic_t *stop,
                 struct player_stats *stats);

/* Re-reads the schedule and the settings now (an operator's reload);
 * only between ticks, from the thread that plays. 0, or a negative code
 * with the old schedule kept. */
int station_reload(struct station *s);

/* The station's database handle (borrowed). */
struct store *station_store(struct station *s);

/* Stops the newsroom, frees everything; accepts NULL. */
void station_close(struct station *s);

#endif
