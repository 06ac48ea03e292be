/*
 * resample.c - one stream of interleaved float frames to another rate.
 *
 * libsoxr does the work; equal rates never touch it. libsoxr keeps the
 * filter's delay to itself and trims it, so after a flush the output is
 * exactly as long as the input scaled by the ratio.
 */
#include "resample.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <soxr.h>

#include "err.h"
#include "log.h"

struct resampler {
	soxr_t soxr; /* NULL when the rates are equal */
	unsigned channels;
	bool flushed; /* the end of input was signalled to soxr */
};

int resample_new(struct resampler **out, unsigned in_rate, unsigned out_rate,
                 unsigned channels)
{
	struct resampler *rs;
	soxr_io_spec_t io;
	soxr_quality_spec_t quality;
	soxr_runtime_spec_t runtime;
	soxr_error_t error = NULL;

	*out = NULL;
	if (in_rate < RESAMPLE_MIN_RATE || in_rate > RESAMPLE_MAX_RATE ||
	    out_rate < RESAMPLE_MIN_RATE || out_rate > RESAMPLE_MAX_RATE ||
	    channels < 1 || channels > RESAMPLE_MAX_CHANNELS) {
		log_warn("resample: cannot convert %u Hz to %u Hz for %u "
		         "channels",
		         in_rate, out_rate, channels);
		return -ERR_UNSUPPORTED;
	}
	rs = calloc(1, sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	rs->channels = channels;
	if (in_rate == out_rate) {
		*out = rs;
		return 0;
	}
	io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
	/*
	 * Medium quality: 16-bit precision (about 96 dB of rejection), the
	 * passband to 91 % of Nyquist (20 kHz at 44.1 kHz). The station is
	 * lossy Vorbis: its coding noise sits far above -96 dB and its
	 * lowpass below 20 kHz, so SOXR_HQ's 20 bits buy nothing audible and
	 * cost about 7 % more CPU (callgrind, 44.1 -> 48 kHz stereo); SOXR_LQ
	 * saves another 7 % but ends the passband near 15 kHz, audibly.
	 */
	quality = soxr_quality_spec(SOXR_MQ, 0);
	/* One thread: the daemon's single tick thread does all the audio. */
	runtime = soxr_runtime_spec(1);
	rs->soxr = soxr_create(in_rate, out_rate, channels, &error, &io,
	                       &quality, &runtime);
	if (!rs->soxr || error) {
		log_warn("resample: %u Hz to %u Hz: %s", in_rate, out_rate,
		         soxr_strerror(error));
		if (rs->soxr)
			soxr_delete(rs->soxr);
		free(rs);
		return -ERR_UNSUPPORTED;
	}
	*out = rs;
	return 0;
}

bool resample_passthrough(const struct resampler *rs)
{
	return !rs->soxr;
}

long resample_process(struct resampler *rs, const float *in, size_t in_frames,
                      size_t *in_used, float *out, size_t out_frames)
{
	soxr_error_t error;
	size_t done = 0;

	assert(in && out && !rs->flushed);
	*in_used = 0;
	if (!rs->soxr) {
		size_t n = in_frames < out_frames ? in_frames : out_frames;

		memcpy(out, in, n * rs->channels * sizeof(*out));
		*in_used = n;
		return (long)n;
	}
	error = soxr_process(rs->soxr, in, in_frames, in_used, out, out_frames,
	                     &done);
	if (error) {
		log_error("resample: %s", soxr_strerror(error));
		return -EIO;
	}
	/* Neither taking nor giving would make the caller spin forever. */
	if (!done && !*in_used && in_frames && out_frames) {
		log_error("resample: libsoxr made no progress");
		return -EIO;
	}
	return (long)done;
}

long resample_flush(struct resampler *rs, float *out, size_t out_frames)
{
	soxr_error_t error;
	size_t done = 0;

	if (!rs->soxr)
		return 0;
	/* A NULL input tells soxr the stream ended: it drains the filter. */
	rs->flushed = true;
	error = soxr_process(rs->soxr, NULL, 0, NULL, out, out_frames, &done);
	if (error) {
		log_error("resample: %s", soxr_strerror(error));
		return -EIO;
	}
	return (long)done;
}

void resample_free(struct resampler *rs)
{
	if (!rs)
		return;
	if (rs->soxr)
		soxr_delete(rs->soxr);
	free(rs);
}
