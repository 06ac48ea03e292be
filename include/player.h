/*
 * player.h - play a playlist, without a gap, into the outputs.
 *
 * The output clock pulls: each tick the player reads one block from the
 * item on air and hands it to every output. In real time the ticks are
 * paced from CLOCK_MONOTONIC and the count of frames sent, never from the
 * wall clock (a Pi's wall clock jumps when NTP syncs).
 */
#ifndef PLAYER_H
#define PLAYER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "pcm.h"

struct output;
struct playlist;

struct player_options {
	struct pcm_format fmt;
	size_t block_frames; /* frames per tick; 0 for the default */
	bool realtime;       /* pace to the monotonic clock */
	bool shuffle;        /* a new order on every pass */
	bool once;           /* stop after one pass through the playlist */
	double max_seconds;  /* stop after this much audio; 0 for no limit */
	unsigned seed;       /* shuffle seed; 0 picks one */
};

struct player_stats {
	unsigned long long frames; /* frames sent to the outputs */
	size_t items;              /* items that went on air */
	size_t skipped;            /* entries that could not be played */
};

/*
 * Plays until *stop becomes non-zero, the playlist ends (once), or
 * max_seconds of audio went out. Outputs are borrowed; one that fails for
 * good is closed and dropped from outs (*n_outs shrinks), and the others
 * go on. 0, or -ERR_EMPTY when nothing in the playlist is playable, or the
 * code of the last output that failed when none is left.
 */
int player_run(struct playlist *pl, struct output **outs, size_t *n_outs,
               const struct player_options *opt, volatile sig_atomic_t *stop,
               struct player_stats *stats);

#endif
