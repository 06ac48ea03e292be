/*
 * source_priv.h - what source.c shares with the decoders.
 *
 * source.c opens the file, sniffs its first bytes with each decoder's
 * probe(), and hands the open descriptor to the one that claims it. The
 * decoder fills in the native format and the tags, then delivers native
 * frames; source.c alone converts them to the station format. Decoder
 * state lives behind src->priv, never at file scope.
 */
#ifndef SOURCE_PRIV_H
#define SOURCE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "pcm.h"
#include "source.h"

struct resampler;

/* Native formats a decoder may report; anything else is refused. */
#define SOURCE_MAX_CHANNELS 8
#define SOURCE_MIN_RATE 8000
#define SOURCE_MAX_RATE 192000
/* Bytes of the file's start given to probe(), or all of a shorter one. */
#define SOURCE_HEAD_BYTES 64
/* The most frames source.c asks ops->read() for in one call. */
#define SOURCE_READ_MAX 65536
/* Frames source.c decodes at a time into its own buffer. */
#define SOURCE_BLOCK_FRAMES 1024

/* Where a native channel belongs, for downmixing more than two. */
enum source_pos {
	SOURCE_POS_CENTER, /* also the default: unknown positions */
	SOURCE_POS_LEFT,   /* front, side or back left */
	SOURCE_POS_RIGHT,
	SOURCE_POS_LFE, /* left out of the mix */
};

struct source_ops {
	const char *name; /* source_type(): "mp3", "vorbis", "wav" */
	/* Whether the file's first len bytes look like this format. */
	bool (*probe)(const unsigned char *head, size_t len);
	/*
	 * Starts decoding fd (borrowed: source.c closes it; its offset is
	 * 0) and sets src->priv, native_rate, native_channels, native_pos
	 * (when more than 2 channels) and the tags. 0, or a negative code
	 * after one log line naming src->path; close() is not called then.
	 */
	int (*open)(struct source *src, int fd);
	/*
	 * Fills up to n (1..SOURCE_READ_MAX) native frames: interleaved
	 * float, native channels. The count, 0 at the end, or a negative
	 * code after one log line. Never called again after < 0, nor after
	 * 0 unless a seek() succeeds.
	 */
	long (*read)(struct source *src, float *frames, size_t n);
	/*
	 * Optional (NULL: this format cannot seek). Moves so that the next
	 * read() delivers exactly what a straight read would from native
	 * frame native_frame on (0: the first frame read() gives after
	 * open). The end itself is a valid position. 0; -ERR_EMPTY past the
	 * end, not logged (read() is not called again then); or another
	 * negative code after one log line. Never called after read()
	 * failed.
	 */
	int (*seek)(struct source *src, unsigned long long native_frame);
	/* Frees src->priv. */
	void (*close)(struct source *src);
};

extern const struct source_ops source_mp3_ops;
extern const struct source_ops source_vorbis_ops;
extern const struct source_ops source_wav_ops;

struct source {
	/* Shared with the decoder. */
	const struct source_ops *ops;
	void *priv;           /* the decoder's state */
	char *path;           /* for log lines */
	unsigned native_rate; /* set by open() */
	unsigned native_channels;
	unsigned char native_pos[SOURCE_MAX_CHANNELS]; /* enum source_pos */
	char title[SOURCE_TAG_MAX]; /* UTF-8; set with source_set_tag() */
	char artist[SOURCE_TAG_MAX];
	char album[SOURCE_TAG_MAX];

	/* source.c only. */
	struct pcm_format fmt; /* the station's */
	int fd;
	struct resampler *rs; /* NULL when the rates are equal */
	unsigned rs_channels; /* min(native, station): convert the fewest */
	float *buf;           /* SOURCE_BLOCK_FRAMES native frames */
	size_t buf_frames;    /* decoded into buf, at rs_channels */
	size_t buf_pos;       /* of those, taken by the resampler */
	float mix[PCM_MAX_CHANNELS][SOURCE_MAX_CHANNELS]; /* > 2 channels */
	bool dec_done; /* the decoder ended; dec_rc is its last answer */
	int dec_rc;
	bool done; /* source_read() has nothing more; rc is its answer */
	int rc;
	/* The file as opened: rewritten or truncated since, it ends. */
	long long file_bytes;
	struct timespec file_mtime;
};

/*
 * Sets dst (SOURCE_TAG_MAX bytes) from len bytes of text, which ends
 * early at a NUL: UTF-8 is kept, anything else is read as Latin-1;
 * control characters become spaces, outer spaces are trimmed, and a cut
 * never splits a character.
 */
void source_set_tag(char *dst, const char *text, size_t len);

#endif
