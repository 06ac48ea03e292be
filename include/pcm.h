/*
 * pcm.h - the station's one audio format.
 *
 * Past the resampler every stage speaks interleaved float frames in
 * [-1, 1] at the station rate and channel count.
 */
#ifndef PCM_H
#define PCM_H

#include <stddef.h>

#define PCM_MAX_CHANNELS 2
#define PCM_DEFAULT_RATE 44100
#define PCM_DEFAULT_CHANNELS 2

struct pcm_format {
	unsigned rate;     /* frames per second: 44100 or 48000 */
	unsigned channels; /* 1 or 2 */
};

struct pcm_block {
	float *frames;  /* interleaved; owned by whoever passes the block */
	size_t nframes; /* frames, not samples */
	unsigned channels;
};

#endif
