/*
 * encoder.h - station PCM to Ogg/Vorbis pages.
 *
 * One encoder feeds one output. Each item is its own logical bitstream
 * (chained Ogg) whose Vorbis comments carry TITLE and ARTIST, so players
 * and Icecast show what is on air; enc_begin() ends the previous one.
 */
#ifndef ENCODER_H
#define ENCODER_H

#include <stddef.h>

#include <ogg/ogg.h>

#include "pcm.h"

struct encoder;

struct enc_config {
	struct pcm_format fmt; /* what it encodes */
	float quality;         /* -0.1 .. 1.0, used when bitrate_kbps is 0 */
	unsigned bitrate_kbps; /* nominal (managed ABR off) bitrate, or 0 */
	/* Channels of the frames given to enc_write (0: fmt's): stereo in,
	 * mono out is the average of the two; mono in, stereo out, both. */
	unsigned in_channels;
};

/*
 * Receives each finished Ogg page (header and body, borrowed for the
 * call). Returns 0, or a negative code that the encoder passes back to its
 * caller.
 */
struct enc_sink {
	int (*page)(void *ctx, const unsigned char *head, size_t head_len,
	            const unsigned char *body, size_t body_len);
	void *ctx;
};

/* 0 with *out set, or -ERR_UNSUPPORTED (a rate/quality libvorbisenc
 * refuses; logged), -ENOMEM. The sink is copied. */
int enc_new(struct encoder **out, const struct enc_config *cfg,
            const struct enc_sink *sink);

/*
 * Ends the current logical bitstream (if any) and starts a new one with a
 * new serial number and these tags (NULL or "" for none). Its header pages
 * go to the sink at once, so audio always starts on a fresh page.
 */
int enc_begin(struct encoder *enc, const char *title, const char *artist);

/*
 * Encodes n interleaved frames; pages go to the sink as they fill. Starts a
 * logical bitstream without tags if none is open. Samples are clipped to
 * [-1, 1] (NaN becomes 0). 0, or the sink's negative code.
 */
int enc_write(struct encoder *enc, const float *frames, size_t n);

/* Ends the current logical bitstream (EOS page); no-op if none. One with
 * no audio at all gets a frame of silence, so that it stays valid. */
int enc_end(struct encoder *enc);

/*
 * Drops the current logical bitstream without writing anything more of it
 * (no EOS page): for a connection lost mid-stream, whose server must see
 * the next stream start with its headers. No-op if none.
 */
void enc_discard(struct encoder *enc);

/*
 * Passing through: a logical bitstream of audio packets that an encoder
 * with this one's settings made earlier (enccache.h), not encoded again.
 * enc_pass_begin() ends the current logical bitstream and starts one with
 * ident and setup (copied at once) and a comment header of these tags.
 * enc_pass_packet() adds a packet whose decoded output ends at granule
 * (frames from the link's start: the first packet decodes to nothing, so
 * its granule is 0); each is held back until the next one or
 * enc_pass_end(), which gives the last one its granule position (an end
 * within its output cuts the output there, exactly) and ends the
 * bitstream. enc_end() ends a pass link at the last packet's own end;
 * enc_write() after a pass link starts an encoded one. 0, the sink's
 * negative code, -ERR_INVALID (no pass link, granules going back) or
 * -ENOMEM.
 */
int enc_pass_begin(struct encoder *enc, const ogg_packet *ident,
                   const ogg_packet *setup, const char *title,
                   const char *artist);
int enc_pass_packet(struct encoder *enc, const unsigned char *data, long len,
                    long long granule);
int enc_pass_end(struct encoder *enc, long long granule);
/* The settings it was made with. */
const struct enc_config *enc_get_config(const struct encoder *enc);
/* Frames encoded in the current logical bitstream (or the last one ended;
 * 0 after enc_begin()). */
unsigned long long enc_frames(const struct encoder *enc);

/* Frees without flushing; accepts NULL. Call enc_end() first to finish
 * the stream cleanly. */
void enc_free(struct encoder *enc);

#endif
