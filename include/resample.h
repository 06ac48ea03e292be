/*
 * resample.h - one stream of interleaved float frames to another rate.
 *
 * Streaming: feed input as it comes, take output as it is ready, then
 * flush once after the last input so the filter's tail is not lost; the
 * whole output is round(in_frames * out_rate / in_rate) frames, give or
 * take one. Equal rates pass through as a plain copy, with no filter.
 * Buffers are allocated by resample_new(), never while converting.
 */
#ifndef RESAMPLE_H
#define RESAMPLE_H

#include <stdbool.h>
#include <stddef.h>

struct resampler;

/* Rates accepted by resample_new(), frames per second. */
#define RESAMPLE_MIN_RATE 1000
#define RESAMPLE_MAX_RATE 384000
/* Channels accepted by resample_new(). */
#define RESAMPLE_MAX_CHANNELS 8

/*
 * A converter from in_rate to out_rate for frames of channels samples.
 * 0 with *out set; -ERR_UNSUPPORTED (logged) for a rate or channel count
 * out of range or refused by libsoxr; -ENOMEM.
 */
int resample_new(struct resampler **out, unsigned in_rate, unsigned out_rate,
                 unsigned channels);

/* Whether the rates are equal: resample_process() only copies. */
bool resample_passthrough(const struct resampler *rs);

/*
 * Converts up to in_frames frames from in and writes up to out_frames
 * frames to out (which must not overlap in). *in_used is set to the
 * frames taken; the rest were not taken because out is full, so pass them
 * again. Returns the frames written (0 is normal while the filter fills),
 * or -EIO (logged) if libsoxr fails.
 */
long resample_process(struct resampler *rs, const float *in, size_t in_frames,
                      size_t *in_used, float *out, size_t out_frames);

/*
 * After the last input: writes up to out_frames frames of the filter's
 * tail. Call until it returns 0 (drained); or -EIO (logged).
 */
long resample_flush(struct resampler *rs, float *out, size_t out_frames);

/* Frees; accepts NULL. */
void resample_free(struct resampler *rs);

#endif
