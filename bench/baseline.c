/*
 * baseline.c - the bare decode -> encode reference for the benchmarks.
 *
 * Usage: bench-baseline OUT.ogg IN1.mp3 [IN2.mp3 ...]
 *
 * Decodes each MP3 with libmpg123 (float output) and encodes all of them,
 * back to back, into one Ogg/Vorbis logical bitstream at quality 0.4 with
 * libvorbisenc. No mixing, no resampling, no tags: inputs must already be
 * 44.1 kHz stereo (anything else is an error). bench/render.sh compares
 * the CPU time of `pulse-radio play --output file:` against this.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mpg123.h>
#include <ogg/ogg.h>
#include <vorbis/vorbisenc.h>

#define RATE 44100
#define CHANNELS 2
#define QUALITY 0.4f
#define BLOCK_FRAMES 4096

struct enc {
	FILE *fp;
	ogg_stream_state os;
	vorbis_info vi;
	vorbis_comment vc;
	vorbis_dsp_state vd;
	vorbis_block vb;
};

static int write_page(struct enc *e, const ogg_page *og)
{
	if (fwrite(og->header, 1, (size_t)og->header_len, e->fp) !=
	        (size_t)og->header_len ||
	    fwrite(og->body, 1, (size_t)og->body_len, e->fp) !=
	        (size_t)og->body_len)
		return -1;
	return 0;
}

/* Moves every finished block through the encoder to the file. */
static int drain(struct enc *e)
{
	ogg_packet op;
	ogg_page og;

	while (vorbis_analysis_blockout(&e->vd, &e->vb) == 1) {
		vorbis_analysis(&e->vb, NULL);
		vorbis_bitrate_addblock(&e->vb);
		while (vorbis_bitrate_flushpacket(&e->vd, &op)) {
			ogg_stream_packetin(&e->os, &op);
			while (ogg_stream_pageout(&e->os, &og))
				if (write_page(e, &og) < 0)
					return -1;
		}
	}
	return 0;
}

/* Opens the file and writes the headers: 0; -1 if nothing was started;
 * 1 if the headers could not be written (enc_finish() still cleans up). */
static int enc_start(struct enc *e, const char *path)
{
	ogg_packet hdr, hdr_comm, hdr_code;
	ogg_page og;

	e->fp = fopen(path, "wb");
	if (!e->fp) {
		fprintf(stderr, "bench-baseline: %s: %s\n", path,
		        strerror(errno));
		return -1;
	}
	vorbis_info_init(&e->vi);
	if (vorbis_encode_init_vbr(&e->vi, CHANNELS, RATE, QUALITY) != 0) {
		fprintf(stderr, "bench-baseline: vorbis_encode_init_vbr\n");
		vorbis_info_clear(&e->vi);
		fclose(e->fp);
		return -1;
	}
	vorbis_comment_init(&e->vc);
	vorbis_analysis_init(&e->vd, &e->vi);
	vorbis_block_init(&e->vd, &e->vb);
	srand((unsigned)time(NULL));
	ogg_stream_init(&e->os, rand());

	vorbis_analysis_headerout(&e->vd, &e->vc, &hdr, &hdr_comm, &hdr_code);
	ogg_stream_packetin(&e->os, &hdr);
	ogg_stream_packetin(&e->os, &hdr_comm);
	ogg_stream_packetin(&e->os, &hdr_code);
	while (ogg_stream_flush(&e->os, &og))
		if (write_page(e, &og) < 0)
			return 1; /* started: the caller still finishes */
	return 0;
}

/* Signals the end of the stream, writes the last pages, frees. */
static int enc_finish(struct enc *e)
{
	int rc;

	vorbis_analysis_wrote(&e->vd, 0);
	rc = drain(e);
	ogg_stream_clear(&e->os);
	vorbis_block_clear(&e->vb);
	vorbis_dsp_clear(&e->vd);
	vorbis_comment_clear(&e->vc);
	vorbis_info_clear(&e->vi);
	if (fclose(e->fp) != 0)
		rc = -1;
	return rc;
}

/* Decodes one MP3 into the encoder. */
static int encode_file(struct enc *e, mpg123_handle *mh, float *pcm,
                       const char *path)
{
	long rate;
	int channels, encoding, err;
	size_t got;

	if (mpg123_open(mh, path) != MPG123_OK) {
		fprintf(stderr, "bench-baseline: %s: %s\n", path,
		        mpg123_strerror(mh));
		return -1;
	}
	if (mpg123_getformat(mh, &rate, &channels, &encoding) != MPG123_OK) {
		fprintf(stderr, "bench-baseline: %s: %s\n", path,
		        mpg123_strerror(mh));
		goto fail;
	}
	if (rate != RATE || channels != CHANNELS ||
	    encoding != MPG123_ENC_FLOAT_32) {
		fprintf(stderr,
		        "bench-baseline: %s: %ld Hz, %d channels: "
		        "need %d Hz stereo\n",
		        path, rate, channels, RATE);
		goto fail;
	}

	for (;;) {
		err = mpg123_read(mh, pcm,
		                  BLOCK_FRAMES * CHANNELS * sizeof(*pcm), &got);
		size_t frames = got / (CHANNELS * sizeof(*pcm));
		if (frames > 0) {
			float **buf =
			    vorbis_analysis_buffer(&e->vd, (int)frames);
			for (size_t i = 0; i < frames; i++) {
				buf[0][i] = pcm[2 * i];
				buf[1][i] = pcm[2 * i + 1];
			}
			vorbis_analysis_wrote(&e->vd, (int)frames);
			if (drain(e) < 0) {
				fprintf(stderr, "bench-baseline: write: %s\n",
				        strerror(errno));
				goto fail;
			}
		}
		if (err == MPG123_DONE)
			break;
		if (err == MPG123_NEW_FORMAT) {
			fprintf(stderr, "bench-baseline: %s: format changes\n",
			        path);
			goto fail;
		}
		if (err != MPG123_OK) {
			fprintf(stderr, "bench-baseline: %s: %s\n", path,
			        mpg123_strerror(mh));
			goto fail;
		}
	}
	mpg123_close(mh);
	return 0;
fail:
	mpg123_close(mh);
	return -1;
}

int main(int argc, char **argv)
{
	static float pcm[BLOCK_FRAMES * CHANNELS];
	struct enc e;
	mpg123_handle *mh = NULL;
	int err, rc = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: bench-baseline OUT.ogg IN.mp3...\n");
		return 2;
	}
	mpg123_init();
	mh = mpg123_new(NULL, &err);
	if (!mh) {
		fprintf(stderr, "bench-baseline: mpg123_new: %s\n",
		        mpg123_plain_strerror(err));
		goto fail;
	}
	/* Float samples at the file's own rate and channel count, so that
	 * mpg123 converts nothing; a wrong format is refused per file. */
	mpg123_param(mh, MPG123_ADD_FLAGS, MPG123_FORCE_FLOAT | MPG123_QUIET,
	             0.0);

	memset(&e, 0, sizeof(e));
	err = enc_start(&e, argv[1]);
	if (err < 0)
		goto fail;
	if (err > 0) {
		fprintf(stderr, "bench-baseline: %s: %s\n", argv[1],
		        strerror(errno));
		enc_finish(&e);
		goto fail;
	}
	for (int i = 2; i < argc; i++) {
		if (encode_file(&e, mh, pcm, argv[i]) < 0) {
			enc_finish(&e);
			goto fail;
		}
	}
	if (enc_finish(&e) < 0) {
		fprintf(stderr, "bench-baseline: %s: write failed\n", argv[1]);
		goto fail;
	}
	rc = 0;
fail:
	mpg123_delete(mh);
	mpg123_exit();
	return rc;
}
