/*
 * mixer.h - decks summed into one programme, each under its own gain
 * envelopes.
 *
 * A deck holds one source (the item on air, the next one fading in, a
 * jingle over the music, the bed under the news) at a fixed level (even
 * loudness) times two envelopes: fade (crossfades, fade-outs) and duck
 * (lowered under an overlay or speech). An envelope holds its value or
 * ramps, sample by sample, to a target over a number of frames along a
 * curve. mixer_pull() reads every live deck and sums them; it never
 * allocates nor blocks beyond the sources' own reads, and a deck without
 * a ramp costs one multiply per sample.
 *
 * The lead deck paces a pull: it is read first, and the others only for
 * as many frames as it gave, so the end of the item on air ends the pull
 * exactly where its last frame is and the next item can follow in the
 * same block.
 */
#ifndef MIXER_H
#define MIXER_H

#include <stdbool.h>
#include <stddef.h>

#include "pcm.h"

struct mixer;
struct source;

#define MIXER_DECKS 4

enum mixer_env {
	MIXER_FADE, /* crossfades, fade-ins and fade-outs */
	MIXER_DUCK, /* lowered under something over it */
	MIXER_ENVS
};

enum mixer_curve {
	/* Gain in a straight line: two of them (out and in) sum to a
	 * constant amplitude, a dip of 3 dB for uncorrelated music. */
	MIXER_LINEAR,
	/* Quarter sine up, quarter cosine down: an out and an in keep the
	 * power constant (g_out^2 + g_in^2 = 1), no dip. */
	MIXER_EQUAL_POWER,
	/* Straight in decibels (exponential gain): ducking. Both ends must
	 * be above zero. */
	MIXER_DB,
};

/* One mixer for blocks of at most max_frames; 0 or -ENOMEM. */
int mixer_new(struct mixer **out, const struct pcm_format *fmt,
              size_t max_frames);

/* Closes every deck's source; accepts NULL. */
void mixer_free(struct mixer *m);

/*
 * Puts src on deck d (the mixer owns it from now: closed by mixer_clear
 * or mixer_free) at level (linear), with the fade envelope at fade and
 * the duck envelope at 1. A deck in use is cleared first.
 */
void mixer_load(struct mixer *m, unsigned d, struct source *src, float level,
                float fade);

/* Like mixer_load, but the deck opens path itself and starts it again
 * from the top whenever it ends (a bed). 0 or the open's code. */
int mixer_load_loop(struct mixer *m, unsigned d, const char *path, float level,
                    float fade);

/* Closes deck d's source; the deck is free. */
void mixer_clear(struct mixer *m, unsigned d);

bool mixer_live(const struct mixer *m, unsigned d);

/* The path of deck d's looping source ("" for a one-shot deck). */
const char *mixer_loop_path(const struct mixer *m, unsigned d);

/*
 * Envelope e of deck d goes from where it is now to `to` over frames
 * (0: at once), along curve; a ramp in progress is replaced from its
 * current value.
 */
void mixer_ramp(struct mixer *m, unsigned d, enum mixer_env e, float to,
                unsigned long long frames, enum mixer_curve curve);

/* Envelope e of deck d now (the gain of its next frame). */
float mixer_gain(const struct mixer *m, unsigned d, enum mixer_env e);

/* Whether deck d plays a file (not a loop) at full gain, with no ramp
 * under way: what it sends is its source times its level, nothing else. */
bool mixer_steady(const struct mixer *m, unsigned d);
/* Deck d's source (NULL: none), borrowed. */
const struct source *mixer_source(const struct mixer *m, unsigned d);
/* Moves deck d's source to frame (source_seek()): 0 or its code. */
int mixer_seek(struct mixer *m, unsigned d, unsigned long long frame);
/*
 * Fills out with n frames (n <= max_frames): the lead deck read first
 * (it may give fewer: its end), then every other live deck for as many
 * frames, each times its level and envelopes, summed. got[d] is what
 * deck d gave: frames (< what was asked at its end), or its source's
 * negative code; -1 for a deck that is not live. A one-shot deck that
 * ends stays loaded until cleared. Returns the frames in out: got[lead]
 * when the lead is live (0 at its end or on error), else n.
 */
size_t mixer_pull(struct mixer *m, unsigned lead, float *out, size_t n,
                  long got[MIXER_DECKS]);

#endif
