/*
 * limiter.h - the last stage before the encoders: a look-ahead,
 * true-peak-aware peak limiter, so nothing clips after mixing.
 *
 * The one thing to know: it delays the audio by limiter_latency() frames
 * (about 5 ms), so the gain can come down smoothly *before* a peak; the
 * peak is estimated between samples too (4x oversampled), as a listener's
 * decoder and DAC would reconstruct it. Below the ceiling it changes
 * nothing: the output is the input, delayed, bit for bit.
 */
#ifndef LIMITER_H
#define LIMITER_H

#include <stddef.h>

struct limiter;

#define LIMITER_CEILING_DEFAULT -1.0 /* dBTP */
#define LIMITER_LOOKAHEAD_MS 5
#define LIMITER_RELEASE_MS 150

/* A limiter for interleaved float frames of channels (1 or 2) at rate,
 * holding true peaks to ceiling_dbtp (-30..0). 0 with *out, -ENOMEM or
 * -ERR_INVALID. All memory is allocated here, none while processing. */
int limiter_new(struct limiter **out, unsigned rate, unsigned channels,
                double ceiling_dbtp);

/* Limits n frames in place: what comes out is the input of
 * limiter_latency() frames ago (silence at first). */
void limiter_process(struct limiter *l, float *frames, size_t n);

/* Back to as new (silence in the delay, no gain reduction), as for a
 * stream that starts again: the next latency() frames out are silence. */
void limiter_reset(struct limiter *l);
/* The delay, in frames. */
size_t limiter_latency(const struct limiter *l);

/* The lowest gain applied since the last call, in dB (0: untouched). */
double limiter_take_max_reduction_db(struct limiter *l);

void limiter_free(struct limiter *l); /* accepts NULL */

#endif
