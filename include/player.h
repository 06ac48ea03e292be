/*
 * player.h - play items one after another, without a gap, into the
 * outputs.
 *
 * The output clock pulls: each tick the player reads one block from the
 * item on air and hands it to every output. What plays next comes from a
 * feed (a playlist, or the scheduler), asked with the programme time at
 * which the item will start. Programme time is start_ms plus the frames
 * sent, so it never drifts from the audio; in real time the ticks are
 * paced from CLOCK_MONOTONIC, never from the wall clock (a Pi's wall clock
 * jumps when NTP syncs). On air (follow_wall) programme time keeps to the
 * wall clock all the same: re-based between items when it steps.
 */
#ifndef PLAYER_H
#define PLAYER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pcm.h"

struct enccache_spec;
struct output;
struct status;

#define PLAYER_PATH_MAX 4096
#define PLAYER_TAG_MAX 256

/* One item, as a feed hands it to the player. A feed asks for the next
 * item with the programme time at which the item on air reaches its end
 * (or cue-out); asked before that, while there is still time to crossfade
 * into it, the answer may then start up to xfade_ms earlier. */
struct player_item {
	char path[PLAYER_PATH_MAX];
	char title[PLAYER_TAG_MAX];  /* "" to use the file's own tag */
	char artist[PLAYER_TAG_MAX]; /* likewise */
	int64_t cue_in_ms;           /* start this far into the file */
	int64_t length_ms;           /* play this long; < 0: to its end */
	bool fade_out;               /* cut short: fade out to its end */
	int64_t id;                  /* the feed's own reference */
	/* Linear gain for even loudness, from a loudness measured as heard
	 * in stereo (a mono station adds +3 dB); 0: as it is. */
	float gain;
	/* Music under the item ("" none), at bed_gain (linear). A bed goes
	 * on from one item to the next with the same bed, fading in over
	 * PLAYER_BED_FADE_MS when it starts; bed_ends fades it out over the
	 * item's last PLAYER_BED_FADE_MS (length_ms must be known). */
	char bed[PLAYER_PATH_MAX];
	float bed_gain;
	bool bed_ends;
	/* Sound (issue 5). Crossfade: the item after this one starts
	 * xfade_ms before this one's end (its cue-out) when it allows it
	 * (mix_in) and both are at least twice that long; 0: the next item
	 * follows this one's end. The fades follow curve (enum
	 * mixer_curve). */
	int64_t xfade_ms;
	int curve;
	/* May start under the end of the item before, or carry an overlay:
	 * music that nothing requires to start on time. */
	bool mix_in;
	/* Talk-over: this item (a jingle) plays over the start of the next
	 * one if that one allows mix_in, which is lowered to duck_gain
	 * (linear) over attack_ms first and raised again over release_ms
	 * after this item ends. Otherwise it plays on its own. */
	bool overlay;
	/* Speech: lowers the bed under it to duck_gain, the same ramps. */
	bool duck_bed;
	float duck_gain;
	int64_t attack_ms, release_ms;
	/* For the feed's own log: the item's album and slot. */
	char album[PLAYER_TAG_MAX];
	char slot[PLAYER_TAG_MAX];
};

#define PLAYER_BED_FADE_MS 1000

struct player_feed {
	/* Fills *item, the one that starts at programme time at_ms. 0; 1
	 * when the feed has ended; or a negative code (-ERR_EMPTY). */
	int (*next)(void *ctx, int64_t at_ms, struct player_item *item);
	/* The item could not be opened (the source logged why). May be
	 * NULL. */
	void (*failed)(void *ctx, const struct player_item *item);
	/* The item aired from at_ms for dur_ms; ended_early when it
	 * stopped before its planned end (a failure part-way, or a stop).
	 * May be NULL. Called between ticks, once per item. */
	void (*aired)(void *ctx, const struct player_item *item, int64_t at_ms,
	              int64_t dur_ms, bool ended_early);
	/* Asked every tick while an item plays, with the programme time:
	 * true fades the item out over PLAYER_INTERRUPT_FADE_MS and ends it
	 * (ended_early), so the next item starts at once (breaking news).
	 * Asked only while one item plays alone (not during a crossfade or
	 * an overlay). Must be cheap. May be NULL. When it says no, it may
	 * set *ask_at_ms to the programme time it wants asking again at (a
	 * deadline): the block on air ends there, so the fade starts on
	 * time, not up to a block late. Left alone, it is asked after the
	 * next block. */
	bool (*interrupt)(void *ctx, int64_t at_ms, int64_t *ask_at_ms);
	/* The item was skipped for dead air (after failed()), at programme
	 * time at_ms. May be NULL. */
	void (*dead_air)(void *ctx, const struct player_item *item,
	                 int64_t at_ms);
	/* Called once per block, between ticks, after the block went out:
	 * housekeeping that must not block (the feed retries writes the
	 * database refused). May be NULL. */
	void (*idle)(void *ctx);
	/* follow_wall: the wall clock stepped by delta_ms, and programme
	 * time moves with it from the item about to be asked for (next() is
	 * called right after). Times the feed keeps in programme time move
	 * too. May be NULL. */
	void (*clock_step)(void *ctx, int64_t delta_ms);
	void *ctx;
};

#define PLAYER_INTERRUPT_FADE_MS 1000

/* In real time a block (a tick, a wake-up) is this long: the hooks
 * between blocks (tick, interrupt, stop) run this often. src/player.c
 * says why this long. */
#define PLAYER_REALTIME_BLOCK_MS 400
/* While music is passed through from its cached encoding (nothing is
 * decoded or encoded), a block is this long. */
#define PLAYER_PASS_BLOCK_MS 1000

struct player_options {
	struct pcm_format fmt;
	size_t block_frames; /* frames per tick; 0: 1024, or in real time
	                      * PLAYER_REALTIME_BLOCK_MS */
	bool realtime;       /* pace to the monotonic clock */
	double max_seconds;  /* stop after this much audio; 0 for no limit */
	int64_t start_ms;    /* programme time of the first frame (UTC ms) */
	/* Real time only: programme time follows the wall clock. It starts
	 * at the wall clock's time of the first frame (start_ms is not
	 * used); between items, a step of the wall clock against the
	 * monotonic one of PROGCLOCK_STEP_MS or more (logged once, and
	 * passed to the feed's clock_step) moves it by the step, and time
	 * the pacing lost to an underrun moves it by that, so the next item
	 * is the one due at the wall clock's time (progclock.h). wall_ms
	 * reads the wall clock (UTC ms; NULL: CLOCK_REALTIME). */
	bool follow_wall;
	int64_t (*wall_ms)(void *ctx);
	void *wall_ctx;
	/* A true-peak limiter before the outputs, at ceiling_dbtp (-20..0)
	 * less PLAYER_CODEC_MARGIN_DB, room for the lossy encoder's own
	 * overshoot (Vorbis adds up to ~1 dB of peak on dense music):
	 * the audio then reaches the outputs limiter_latency() (~5 ms)
	 * late. */
	bool limiter;
	double ceiling_dbtp;
	/* Dead air: when the programme stays below dead_air_db (dBFS peak)
	 * for dead_air_ms (0: never), the item on air is skipped, logged and
	 * reported to the feed as failed. */
	int64_t dead_air_ms;
	double dead_air_db;
	/* When *stop is set, the programme fades out over stop_fade_ms
	 * before the player returns (0: at once, after the block). */
	int64_t stop_fade_ms;
	/* Called once per block on the playing thread, between ticks: a
	 * daemon's reload and watchdog. May be NULL. */
	void (*tick)(void *ctx);
	void *tick_ctx;
	/* Live state for the status API and metrics (status.h). May be
	 * NULL. */
	struct status *status;
	/* Passing through (enccache.h): a directory of music encoded once
	 * at the station's settings (NULL or "": none). While an item plays
	 * alone and steady (a music item with mix_in, at the station rate,
	 * no fade, overlay, bed or ducking) for PASS_MIN_MS or more, and
	 * every output encodes alike, its cached packets go out instead of
	 * the mix: nothing decoded, nothing encoded. The audio is the same
	 * but for the codec's own noise, and gapless. An item without one
	 * is reported to pass_missing (may be NULL), on the playing thread:
	 * it must only take note (spec and its strings are borrowed). */
	const char *pass_dir;
	void (*pass_missing)(void *ctx, const struct enccache_spec *spec);
	void *pass_ctx;
};

#define PLAYER_CODEC_MARGIN_DB 1.0
/* The linear level an item of gain (player_item.gain) plays at on a
 * station of channels. */
float player_level(float gain, unsigned channels);
#define PLAYER_DEAD_AIR_MS_DEFAULT 5000
#define PLAYER_DEAD_AIR_DB_DEFAULT -50.0

struct player_stats {
	unsigned long long frames; /* frames sent to the outputs */
	size_t items;              /* items that went on air */
	size_t skipped;            /* items that could not be played */
	unsigned long long passed; /* of frames, passed through (pass_dir) */
};

/*
 * Plays until *stop becomes non-zero, the feed ends, or max_seconds of
 * audio went out. Outputs are borrowed; one that fails for good is closed
 * and dropped from outs (*n_outs shrinks), and the others go on. 0; the
 * feed's negative code (-ERR_EMPTY when nothing is playable); or the code
 * of the last output that failed when none is left.
 */
int player_run(const struct player_feed *feed, struct output **outs,
               size_t *n_outs, const struct player_options *opt,
               volatile sig_atomic_t *stop, struct player_stats *stats);

#endif
