/*
 * encoder.c - station PCM to Ogg/Vorbis pages (libvorbisenc, libogg).
 *
 * Each item is a fresh logical bitstream: new vorbis_info/dsp/block state,
 * a new serial number and its own header pages, so the result is a valid
 * chained Ogg file or stream. Runs on the clock tick: beyond what libvorbis
 * allocates itself, nothing here allocates per block, and pages go to the
 * sink straight from libogg's buffers.
 */
#include "encoder.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ogg/ogg.h>
#include <vorbis/vorbisenc.h>

#include "err.h"
#include "log.h"

/* Frames handed to libvorbis at a time, so its input buffer stays small
 * whatever block size the caller uses. */
#define ENC_CHUNK_FRAMES 1024
/* At most this much audio per page (libogg alone fills 4 KiB: seconds at a
 * low bitrate), so a live server gets the audio without a lag. */
#define ENC_PAGE_MAX_MS 250

struct encoder {
	struct enc_config cfg;
	struct enc_sink sink;
	uint64_t rng;
	bool have_serial;
	int serial;

	/* The current logical bitstream, valid while active (encoding) or
	 * passing (packets encoded elsewhere: os alone is valid). */
	bool active;
	bool passing;
	/* Passing: the last packet given, held back until the next one or
	 * the end says what its granule position is. */
	unsigned char *held;
	size_t held_cap;
	long held_len;
	ogg_int64_t held_granule;
	bool have_held;
	vorbis_info vi;
	vorbis_dsp_state vd;
	vorbis_block vb;
	ogg_stream_state os;
	unsigned long long frames;
	unsigned long packets;    /* audio packets so far */
	ogg_int64_t page_granule; /* where the last page ended */
	ogg_int64_t page_frames;  /* ENC_PAGE_MAX_MS in frames */
};

static int setup_info(vorbis_info *vi, const struct enc_config *cfg)
{
	long ch = (long)cfg->fmt.channels;
	long rate = (long)cfg->fmt.rate;
	int rc;

	vorbis_info_init(vi);
	if (cfg->bitrate_kbps) {
		/* A nominal bitrate with the management engine off: the
		 * quality mode libvorbis picks for that rate, without the
		 * bit reservoir's quality swings. */
		rc = vorbis_encode_setup_managed(
		    vi, ch, rate, -1, (long)cfg->bitrate_kbps * 1000, -1);
		if (rc == 0)
			rc = vorbis_encode_ctl(vi, OV_ECTL_RATEMANAGE2_SET,
			                       NULL);
		if (rc == 0)
			rc = vorbis_encode_setup_init(vi);
	} else {
		rc = vorbis_encode_init_vbr(vi, ch, rate, cfg->quality);
	}
	if (rc != 0) {
		vorbis_info_clear(vi);
		return -ERR_UNSUPPORTED;
	}
	return 0;
}

static uint64_t next_random(struct encoder *enc)
{
	/* splitmix64: cheap, and good enough to keep serials apart. */
	uint64_t z = (enc->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int next_serial(struct encoder *enc)
{
	int serial;

	do
		serial = (int)(next_random(enc) & 0x7fffffff);
	while (enc->have_serial && serial == enc->serial);
	enc->serial = serial;
	enc->have_serial = true;
	return serial;
}

int enc_new(struct encoder **out, const struct enc_config *cfg,
            const struct enc_sink *sink)
{
	struct encoder *enc;
	struct timespec rt, mt;
	vorbis_info vi;

	*out = NULL;
	if (cfg->fmt.channels < 1 || cfg->fmt.channels > PCM_MAX_CHANNELS ||
	    cfg->fmt.rate == 0 ||
	    (!cfg->bitrate_kbps &&
	     !(cfg->quality >= -0.1f && cfg->quality <= 1.0f)) ||
	    cfg->bitrate_kbps > 1000 || cfg->in_channels > PCM_MAX_CHANNELS ||
	    setup_info(&vi, cfg) < 0) {
		if (cfg->bitrate_kbps)
			log_error("encoder: libvorbisenc cannot encode %u Hz, "
			          "%u channel(s) at %u kbit/s",
			          cfg->fmt.rate, cfg->fmt.channels,
			          cfg->bitrate_kbps);
		else
			log_error("encoder: libvorbisenc cannot encode %u Hz, "
			          "%u channel(s) at quality %.2f",
			          cfg->fmt.rate, cfg->fmt.channels,
			          (double)cfg->quality);
		return -ERR_UNSUPPORTED;
	}
	vorbis_info_clear(&vi);

	enc = calloc(1, sizeof(*enc));
	if (!enc)
		return -ENOMEM;
	enc->cfg = *cfg;
	enc->sink = *sink;
	enc->page_frames = (ogg_int64_t)cfg->fmt.rate * ENC_PAGE_MAX_MS / 1000;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mt);
	enc->rng = ((uint64_t)rt.tv_sec << 32) ^ (uint64_t)rt.tv_nsec ^
	           ((uint64_t)mt.tv_nsec << 20) ^ ((uint64_t)getpid() << 40) ^
	           (uint64_t)(uintptr_t)enc;
	*out = enc;
	return 0;
}

static int emit(struct encoder *enc, const ogg_page *og)
{
	return enc->sink.page(enc->sink.ctx, og->header, (size_t)og->header_len,
	                      og->body, (size_t)og->body_len);
}

/* Puts one packet in the stream and sends the pages it completes. Also
 * ends the first audio page after two packets (the first yields no
 * samples, and a page of granule 0 upsets ogginfo): libvorbisfile 1.3.7
 * skips the whole first link of a chain whose audio is one page. */
static int put_packet(struct encoder *enc, ogg_packet *op)
{
	ogg_page og;
	bool flush = ++enc->packets == 2 || op->e_o_s ||
	             op->granulepos - enc->page_granule >= enc->page_frames;
	int rc;

	ogg_stream_packetin(&enc->os, op);
	while ((flush ? ogg_stream_flush(&enc->os, &og)
	              : ogg_stream_pageout(&enc->os, &og)) > 0) {
		if (ogg_page_granulepos(&og) > 0)
			enc->page_granule = ogg_page_granulepos(&og);
		rc = emit(enc, &og);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Moves every finished block through analysis into pages. */
static int drain(struct encoder *enc)
{
	ogg_packet op;
	int rc;

	while (vorbis_analysis_blockout(&enc->vd, &enc->vb) == 1) {
		vorbis_analysis(&enc->vb, NULL);
		vorbis_bitrate_addblock(&enc->vb);
		while (vorbis_bitrate_flushpacket(&enc->vd, &op) == 1) {
			rc = put_packet(enc, &op);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static void clear_stream(struct encoder *enc)
{
	if (enc->passing) {
		ogg_stream_clear(&enc->os);
		enc->passing = false;
		enc->have_held = false;
	}
	if (!enc->active)
		return;
	ogg_stream_clear(&enc->os);
	vorbis_block_clear(&enc->vb);
	vorbis_dsp_clear(&enc->vd);
	vorbis_info_clear(&enc->vi);
	enc->active = false;
}

/* The comment header's tags: what players and Icecast show. */
static void tags(vorbis_comment *vc, const char *title, const char *artist)
{
	vorbis_comment_init(vc);
	if (title && *title)
		vorbis_comment_add_tag(vc, "TITLE", title);
	if (artist && *artist)
		vorbis_comment_add_tag(vc, "ARTIST", artist);
	vorbis_comment_add_tag(vc, "ENCODER", "pulse-radio");
}

int enc_begin(struct encoder *enc, const char *title, const char *artist)
{
	vorbis_comment vc;
	ogg_packet id, comments, books;
	ogg_page og;
	int rc;

	rc = enc_end(enc);
	if (rc < 0)
		return rc;
	rc = setup_info(&enc->vi, &enc->cfg);
	if (rc < 0)
		return rc;
	if (vorbis_analysis_init(&enc->vd, &enc->vi) != 0) {
		vorbis_info_clear(&enc->vi);
		return -ENOMEM;
	}
	vorbis_block_init(&enc->vd, &enc->vb);
	ogg_stream_init(&enc->os, next_serial(enc));
	enc->active = true;
	enc->frames = 0;
	enc->packets = 0;
	enc->page_granule = 0;

	tags(&vc, title, artist);
	rc = vorbis_analysis_headerout(&enc->vd, &vc, &id, &comments, &books);
	vorbis_comment_clear(&vc);
	if (rc != 0) {
		clear_stream(enc);
		return -ENOMEM;
	}
	ogg_stream_packetin(&enc->os, &id);
	ogg_stream_packetin(&enc->os, &comments);
	ogg_stream_packetin(&enc->os, &books);
	/* Flush so the first audio packet starts a page of its own: a
	 * listener joining there gets whole headers (libogg puts the
	 * identification header alone on the first page). */
	while (ogg_stream_flush(&enc->os, &og) > 0) {
		rc = emit(enc, &og);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static inline float clip(float v)
{
	if (v > 1.0f)
		return 1.0f;
	if (v >= -1.0f)
		return v;
	return v < -1.0f ? -1.0f : 0.0f; /* NaN fails every comparison */
}

int enc_write(struct encoder *enc, const float *frames, size_t n)
{
	unsigned channels = enc->cfg.fmt.channels;
	unsigned in = enc->cfg.in_channels ? enc->cfg.in_channels : channels;
	int rc;

	if (!enc->active) {
		/* After a pass link too: encoding needs a link of its own. */
		rc = enc_begin(enc, NULL, NULL);
		if (rc < 0)
			return rc;
	}
	while (n > 0) {
		size_t chunk = n < ENC_CHUNK_FRAMES ? n : ENC_CHUNK_FRAMES;
		float **buf = vorbis_analysis_buffer(&enc->vd, (int)chunk);

		if (channels == 1 && in == 2) {
			for (size_t i = 0; i < chunk; i++)
				buf[0][i] = clip(
				    0.5f * (frames[2 * i] + frames[2 * i + 1]));
		} else if (channels == 2 && in == 1) {
			for (size_t i = 0; i < chunk; i++)
				buf[0][i] = buf[1][i] = clip(frames[i]);
		} else if (channels == 1) {
			for (size_t i = 0; i < chunk; i++)
				buf[0][i] = clip(frames[i]);
		} else {
			float *l = buf[0], *r = buf[1];

			for (size_t i = 0; i < chunk; i++) {
				l[i] = clip(frames[2 * i]);
				r[i] = clip(frames[2 * i + 1]);
			}
		}
		vorbis_analysis_wrote(&enc->vd, (int)chunk);
		enc->frames += chunk;
		frames += chunk * in;
		n -= chunk;
		rc = drain(enc);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int enc_end(struct encoder *enc)
{
	ogg_page og;
	int rc;

	if (enc->passing)
		return enc_pass_end(enc, enc->held_granule);
	if (!enc->active)
		return 0;
	if (enc->frames == 0) {
		/* A stream without a sample ends on granule position 0,
		 * which players flag as broken: one frame of silence. */
		float **buf = vorbis_analysis_buffer(&enc->vd, 1);

		for (unsigned c = 0; c < enc->cfg.fmt.channels; c++)
			buf[c][0] = 0.0f;
		vorbis_analysis_wrote(&enc->vd, 1);
		enc->frames = 1;
	}
	/* No more input: libvorbis marks the last packet end-of-stream with
	 * the exact sample count as its granule position. */
	vorbis_analysis_wrote(&enc->vd, 0);
	rc = drain(enc);
	while (rc >= 0 && ogg_stream_flush(&enc->os, &og) > 0)
		rc = emit(enc, &og);
	clear_stream(enc);
	return rc < 0 ? rc : 0;
}

void enc_discard(struct encoder *enc)
{
	clear_stream(enc);
}

const struct enc_config *enc_get_config(const struct encoder *enc)
{
	return &enc->cfg;
}

int enc_pass_begin(struct encoder *enc, const ogg_packet *ident,
                   const ogg_packet *setup, const char *title,
                   const char *artist)
{
	vorbis_comment vc;
	ogg_packet id = *ident, comments, books = *setup;
	ogg_page og;
	int rc;

	rc = enc_end(enc);
	if (rc < 0)
		return rc;
	tags(&vc, title, artist);
	rc = vorbis_commentheader_out(&vc, &comments);
	vorbis_comment_clear(&vc);
	if (rc != 0)
		return -ENOMEM;
	ogg_stream_init(&enc->os, next_serial(enc));
	enc->passing = true;
	enc->have_held = false;
	enc->held_granule = 0;
	enc->frames = 0;
	enc->packets = 0;
	enc->page_granule = 0;
	id.b_o_s = 1;
	id.e_o_s = 0;
	id.packetno = 0;
	id.granulepos = 0;
	comments.packetno = 1;
	books.b_o_s = books.e_o_s = 0;
	books.packetno = 2;
	books.granulepos = 0;
	ogg_stream_packetin(&enc->os, &id);
	ogg_stream_packetin(&enc->os, &comments);
	ogg_stream_packetin(&enc->os, &books);
	ogg_packet_clear(&comments);
	/* As enc_begin(): audio starts on a page of its own. */
	while (ogg_stream_flush(&enc->os, &og) > 0) {
		rc = emit(enc, &og);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The held packet into the stream, with granule position granule. */
static int put_held(struct encoder *enc, ogg_int64_t granule, bool last)
{
	ogg_packet op = {.packet = enc->held,
	                 .bytes = enc->held_len,
	                 .granulepos = granule,
	                 .e_o_s = last,
	                 .packetno = 3 + (ogg_int64_t)enc->packets};

	enc->have_held = false;
	if (granule > (ogg_int64_t)enc->frames)
		enc->frames = (unsigned long long)granule;
	return put_packet(enc, &op);
}

int enc_pass_packet(struct encoder *enc, const unsigned char *data, long len,
                    long long granule)
{
	int rc;

	if (!enc->passing || len <= 0 || granule < enc->held_granule)
		return -ERR_INVALID;
	if (enc->have_held) {
		rc = put_held(enc, enc->held_granule, false);
		if (rc < 0)
			return rc;
	}
	if ((size_t)len > enc->held_cap) {
		/* Grows to the largest packet once; Vorbis packets are a
		 * few KiB. */
		unsigned char *b = realloc(enc->held, (size_t)len);

		if (!b)
			return -ENOMEM;
		enc->held = b;
		enc->held_cap = (size_t)len;
	}
	memcpy(enc->held, data, (size_t)len);
	enc->held_len = len;
	enc->held_granule = granule;
	enc->have_held = true;
	return 0;
}

int enc_pass_end(struct encoder *enc, long long granule)
{
	ogg_page og;
	int rc = 0;

	if (!enc->passing)
		return 0;
	if (enc->have_held) {
		/* Granule positions never go back: the end falls within the
		 * held packet's output, or at its end. */
		rc = put_held(enc, granule, true);
	}
	while (rc >= 0 && ogg_stream_flush(&enc->os, &og) > 0)
		rc = emit(enc, &og);
	clear_stream(enc);
	return rc < 0 ? rc : 0;
}

unsigned long long enc_frames(const struct encoder *enc)
{
	return enc->frames;
}

void enc_free(struct encoder *enc)
{
	if (!enc)
		return;
	clear_stream(enc);
	free(enc->held);
	free(enc);
}
