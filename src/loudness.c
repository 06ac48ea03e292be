/*
 * loudness.c - even loudness: per-item gain to the target, and measuring
 * audio in memory with libebur128.
 */
#include "loudness.h"

#include <math.h>
#include <stdlib.h>

#include <ebur128.h>

#include "store.h"

static double setting(struct store *st, const char *key, double dflt, double lo,
                      double hi)
{
	char buf[32], *end;
	double v;

	if (store_setting_get(st, key, buf, sizeof(buf)) < 0)
		return dflt;
	v = strtod(buf, &end);
	return end != buf && !*end && v >= lo && v <= hi ? v : dflt;
}

void loudness_cfg_load(struct store *st, struct loudness_cfg *c)
{
	c->target_lufs = setting(st, "loudness_target_lufs",
	                         LOUDNESS_TARGET_DEFAULT, -70, 0);
	c->max_gain_db = setting(st, "loudness_max_gain_db",
	                         LOUDNESS_MAX_GAIN_DEFAULT, 0, 40);
}

float loudness_gain(double lufs, const struct loudness_cfg *c)
{
	double db;

	if (isnan(lufs) || isinf(lufs))
		return 0.0f;
	db = c->target_lufs - lufs;
	if (db > c->max_gain_db)
		db = c->max_gain_db;
	return (float)pow(10.0, db / 20.0);
}

double loudness_measure(const float *frames, size_t n, unsigned rate,
                        unsigned channels)
{
	ebur128_state *st = ebur128_init(channels, rate, EBUR128_MODE_I);
	double lufs = (double)NAN;

	if (!st)
		return lufs;
	/* As heard on a stereo station, like the library's scan. */
	if (channels == 1)
		ebur128_set_channel(st, 0, EBUR128_DUAL_MONO);
	if (ebur128_add_frames_float(st, frames, n) == EBUR128_SUCCESS &&
	    ebur128_loudness_global(st, &lufs) != EBUR128_SUCCESS)
		lufs = (double)NAN;
	ebur128_destroy(&st);
	return isinf(lufs) ? (double)NAN : lufs;
}
