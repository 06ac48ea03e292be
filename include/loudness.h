/*
 * loudness.h - even loudness: the gain that brings an item to the
 * station's target, and measuring audio in memory (EBU R128).
 *
 * The one thing to know: loudness is measured once (at scan time for
 * files, at render time for bulletins) and stored; on air it is only a
 * gain per item, so the audio path does no analysis.
 */
#ifndef LOUDNESS_H
#define LOUDNESS_H

#include <stddef.h>

struct store;

#define LOUDNESS_TARGET_DEFAULT -16.0  /* LUFS */
#define LOUDNESS_MAX_GAIN_DEFAULT 15.0 /* dB */

struct loudness_cfg {
	double target_lufs;
	double max_gain_db; /* a quiet item is raised by at most this */
};

/* Reads loudness_target_lufs and loudness_max_gain_db (defaults when
 * missing or out of range, -70..0 LUFS and 0..40 dB). */
void loudness_cfg_load(struct store *st, struct loudness_cfg *c);

/* The linear gain for an item measured at lufs, as heard in stereo; 0
 * when it is unmeasured (NAN): play it as it is. */
float loudness_gain(double lufs, const struct loudness_cfg *c);

/* Integrated loudness (LUFS) of n frames of channels interleaved float
 * samples at rate, as heard on a stereo station (mono counts as dual
 * mono, +3 dB); NAN if silent or it cannot be measured. */
double loudness_measure(const float *frames, size_t n, unsigned rate,
                        unsigned channels);

#endif
