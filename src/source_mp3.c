/*
 * source_mp3.c - MPEG audio (layers I-III) through libmpg123.
 *
 * Gapless: the encoder's delay and padding from the LAME/Xing header are
 * cut, so a track is as long as the WAV it was made from, and seek
 * positions count from its first real sample. mpg123 prints nothing
 * itself (MPG123_QUIET); each failure is one line from here.
 */
#include "source_priv.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h> /* SEEK_SET */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mpg123.h>

#include "err.h"
#include "log.h"

/*
 * Bytes mpg123 may search for the next frame header once it lost sync.
 * mpg123's default, set here on purpose: it bridges a damaged frame or
 * two at common bitrates, while a longer stretch of junk ends the track
 * rather than being searched for something that looks like a header and
 * played as noise.
 */
#define MP3_RESYNC_LIMIT 1024

/*
 * mpg123 reads a file a frame at a time, a header and a body: two read()
 * calls per 26 ms of audio while decoding, and some 22000 for the scan of
 * the frame headers a seek makes in a five-minute file (a quarter of the
 * daemon's CPU while it passes cached music through). Its reads go
 * through this buffer instead.
 */
#define MP3_READ_BUF 32768

struct mp3 {
	mpg123_handle *mh;
	int fd;      /* source.c's, for reopening */
	off_t rbase; /* the file offset of rbuf[0] */
	size_t rlen, rpos;
	unsigned char rbuf[MP3_READ_BUF];
	long rate;
	int channels;
	size_t frame_bytes; /* of one output frame */
	int err;            /* a failure to report after the frames before it */
	long long expected; /* frames the LAME/Xing header promises, or 0 */
	long long decoded;  /* frames delivered, to spot a truncated file */
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

/* mpg123 before 1.27 must be initialised once, before any handle. */
static void mp3_init(void)
{
	init_rc = mpg123_init();
}

/* A frame header: sync, a valid version, layer, bitrate and rate. */
static bool frame_header(const unsigned char *h)
{
	return h[0] == 0xff && (h[1] & 0xe0) == 0xe0 &&
	       (h[1] & 0x18) != 0x08 && /* version 01 is reserved */
	       (h[1] & 0x06) != 0x00 && /* layer 00 is reserved */
	       (h[2] & 0xf0) != 0xf0 && /* bitrate 1111 is invalid */
	       (h[2] & 0x0c) != 0x0c;   /* sample rate 11 is reserved */
}

static bool mp3_probe(const unsigned char *head, size_t len)
{
	/* ID3v2: "ID3", then a major version (2..4, never 0xff). */
	if (len >= 4 && memcmp(head, "ID3", 3) == 0 && head[3] != 0xff)
		return true;
	return len >= 4 && frame_header(head);
}

/* mpg123's read(): from the buffer, refilled by one read() at a time. */
static ssize_t buf_read(void *handle, void *dst, size_t n)
{
	struct mp3 *p = handle;
	unsigned char *out = dst;
	size_t got = 0;

	while (got < n) {
		size_t k;

		if (p->rpos == p->rlen) {
			ssize_t r = read(p->fd, p->rbuf, sizeof(p->rbuf));

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return got ? (ssize_t)got : -1;
			if (r == 0)
				break;
			p->rbase += (off_t)p->rlen;
			p->rlen = (size_t)r;
			p->rpos = 0;
		}
		k = p->rlen - p->rpos;
		if (k > n - got)
			k = n - got;
		memcpy(out + got, p->rbuf + p->rpos, k);
		p->rpos += k;
		got += k;
	}
	return (ssize_t)got;
}

/* mpg123's lseek(): within the buffer when it can, else on the file. */
static off_t buf_lseek(void *handle, off_t off, int whence)
{
	struct mp3 *p = handle;
	off_t to;

	if (whence == SEEK_CUR) {
		to = p->rbase + (off_t)p->rpos + off;
		whence = SEEK_SET;
	} else {
		to = off;
	}
	if (whence == SEEK_SET && to >= p->rbase &&
	    to <= p->rbase + (off_t)p->rlen) {
		p->rpos = (size_t)(to - p->rbase);
		return to;
	}
	to = lseek(p->fd, to, whence);
	if (to < 0)
		return -1;
	p->rbase = to;
	p->rlen = p->rpos = 0;
	return to;
}

/* Opens the handle on fd from its start. */
static int open_buffered(struct mp3 *p)
{
	if (lseek(p->fd, 0, SEEK_SET) < 0)
		return -1;
	p->rbase = 0;
	p->rlen = p->rpos = 0;
	return mpg123_open_handle(p->mh, p) == MPG123_OK ? 0 : -1;
}

static void mp3_free(struct mp3 *p)
{
	if (!p)
		return;
	if (p->mh) {
		mpg123_close(p->mh);
		mpg123_delete(p->mh);
	}
	free(p);
}

/* ID3v2 wins over ID3v1 (30 bytes of Latin-1, space-padded). */
static void read_tags(struct source *src, mpg123_handle *mh)
{
	mpg123_id3v1 *v1 = NULL;
	mpg123_id3v2 *v2 = NULL;

	if (!(mpg123_meta_check(mh) & MPG123_ID3) ||
	    mpg123_id3(mh, &v1, &v2) != MPG123_OK)
		return;
	if (v2 && v2->title && v2->title->p)
		source_set_tag(src->title, v2->title->p, v2->title->fill);
	if (v2 && v2->artist && v2->artist->p)
		source_set_tag(src->artist, v2->artist->p, v2->artist->fill);
	if (v2 && v2->album && v2->album->p)
		source_set_tag(src->album, v2->album->p, v2->album->fill);
	if (v1 && !src->title[0])
		source_set_tag(src->title, v1->title, sizeof(v1->title));
	if (v1 && !src->artist[0])
		source_set_tag(src->artist, v1->artist, sizeof(v1->artist));
	if (v1 && !src->album[0])
		source_set_tag(src->album, v1->album, sizeof(v1->album));
}

/* Float output at every rate, in the file's own channel count. */
static int set_formats(mpg123_handle *mh)
{
	const long *rates;
	size_t n;

	if (mpg123_format_none(mh) != MPG123_OK)
		return -1;
	mpg123_rates(&rates, &n);
	for (size_t i = 0; i < n; i++)
		if (mpg123_format(mh, rates[i], MPG123_MONO | MPG123_STEREO,
		                  MPG123_ENC_FLOAT_32) != MPG123_OK)
			return -1;
	return 0;
}

/*
 * The length the file promises, if it says so exactly. Asked at open:
 * mpg123 revises it to what it found once it reaches a premature end.
 */
static long long promised_length(mpg123_handle *mh)
{
	long accurate = 0;
	double unused;
	off_t len;

	/* Only a LAME/Xing header makes the length exact; an estimate from
	 * the file size would cry wolf on every VBR file without one. */
	if (mpg123_getstate(mh, MPG123_ACCURATE, &accurate, &unused) !=
	        MPG123_OK ||
	    !accurate)
		return 0;
	len = mpg123_length(mh);
	return len > 0 ? (long long)len : 0;
}

/* At the end: one line if the file promised more than it held. */
static void check_length(struct source *src, struct mp3 *p)
{
	/* A frame's worth of slack: the count is of whole MPEG frames. */
	if (p->expected && p->decoded + 1152 < p->expected)
		log_warn("mp3: %s: ended after %lld of %lld frames (truncated "
		         "file?)",
		         src->path, p->decoded, p->expected);
}

static int mp3_open(struct source *src, int fd)
{
	struct mp3 *p;
	int enc = 0, rc, err = MPG123_OK;

	pthread_once(&init_once, mp3_init);
	if (init_rc != MPG123_OK) {
		log_error("mp3: %s: %s", src->path,
		          mpg123_plain_strerror(init_rc));
		return -ERR_UNSUPPORTED;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		log_error("mp3: %s: out of memory", src->path);
		return -ENOMEM;
	}
	p->mh = mpg123_new(NULL, &err);
	if (!p->mh) {
		log_error("mp3: %s: %s", src->path, mpg123_plain_strerror(err));
		rc = err == MPG123_OUT_OF_MEM ? -ENOMEM : -ERR_UNSUPPORTED;
		goto fail;
	}
	/* Not MPG123_FUZZY: a seek guessed from the Xing TOC or the byte
	 * rate would resume a passed-through track at the wrong sample. */
	if (mpg123_param(p->mh, MPG123_ADD_FLAGS, MPG123_GAPLESS | MPG123_QUIET,
	                 0) != MPG123_OK ||
	    mpg123_param(p->mh, MPG123_REMOVE_FLAGS, MPG123_FUZZY, 0) !=
	        MPG123_OK ||
	    mpg123_param(p->mh, MPG123_RESYNC_LIMIT, MP3_RESYNC_LIMIT, 0) !=
	        MPG123_OK ||
	    mpg123_replace_reader_handle(p->mh, buf_read, buf_lseek, NULL) !=
	        MPG123_OK ||
	    set_formats(p->mh) < 0) {
		log_error("mp3: %s: %s", src->path, mpg123_strerror(p->mh));
		rc = -ERR_UNSUPPORTED;
		goto fail;
	}
	p->fd = fd;
	if (open_buffered(p) < 0 ||
	    mpg123_getformat(p->mh, &p->rate, &p->channels, &enc) !=
	        MPG123_OK) {
		log_warn("mp3: %s: not playable: %s", src->path,
		         mpg123_strerror(p->mh));
		rc = -ERR_FORMAT;
		goto fail;
	}
	if (enc != MPG123_ENC_FLOAT_32 || p->channels < 1 || p->channels > 2) {
		log_warn("mp3: %s: mpg123 gives no float output for %ld Hz, "
		         "%d channels",
		         src->path, p->rate, p->channels);
		rc = -ERR_UNSUPPORTED;
		goto fail;
	}
	p->frame_bytes = (size_t)p->channels * sizeof(float);
	src->native_rate = (unsigned)p->rate;
	src->native_channels = (unsigned)p->channels;
	/* getformat() parsed the first frame, and ID3v2 before it. */
	read_tags(src, p->mh);
	p->expected = promised_length(p->mh);
	src->priv = p;
	return 0;
fail:
	mp3_free(p);
	return rc;
}

static long mp3_read(struct source *src, float *frames, size_t n)
{
	struct mp3 *p = src->priv;
	unsigned char *out = (unsigned char *)frames;
	size_t want = n * p->frame_bytes, got = 0;

	if (p->err)
		return p->err;
	/* mpg123_read() fills the buffer unless something happens first. */
	while (got < want) {
		size_t done = 0;
		long rate = 0;
		int rc, channels = 0, enc = 0;

		rc = mpg123_read(p->mh, out + got, want - got, &done);
		got += done;
		if (rc == MPG123_OK)
			continue;
		if (rc == MPG123_NEW_FORMAT) {
			if (mpg123_getformat(p->mh, &rate, &channels, &enc) ==
			        MPG123_OK &&
			    rate == p->rate && channels == p->channels &&
			    enc == MPG123_ENC_FLOAT_32)
				continue;
			log_warn("mp3: %s: format changes mid-stream (%ld Hz, "
			         "%d channels to %ld Hz, %d: damaged, or "
			         "files joined); ending there",
			         src->path, p->rate, p->channels, rate,
			         channels);
			p->err = -ERR_UNSUPPORTED;
		} else if (rc == MPG123_DONE || rc == MPG123_NEED_MORE) {
			if (!got)
				check_length(src, p);
		} else {
			log_warn("mp3: %s: %s", src->path,
			         mpg123_strerror(p->mh));
			p->err = -ERR_FORMAT;
		}
		break;
	}
	got /= p->frame_bytes;
	p->decoded += (long long)got;
	if (got)
		return (long)got;
	return p->err;
}

/*
 * A seek restarts decoding this many MPEG frames before the target's (at
 * least), to refill the bit reservoir and the filters: mpg123's default.
 */
#define MP3_PREFRAMES 4
/* Positions of mpg123's synthesis ring buffer; see mp3_seek(). */
#define MP3_SYNTH_RING 16

/* Opens fd again from its start: mpg123's own decoding state as new. */
static int reopen(struct source *src, struct mp3 *p, int fd)
{
	int rc;

	mpg123_close(p->mh);
	if (lseek(fd, 0, SEEK_SET) < 0) {
		rc = -errno;
		log_warn("mp3: %s: cannot seek: %s", src->path, err_str(rc));
		return rc;
	}
	if (open_buffered(p) < 0) {
		log_warn("mp3: %s: cannot reopen to seek: %s", src->path,
		         mpg123_strerror(p->mh));
		return -ERR_FORMAT;
	}
	return 0;
}

/*
 * mpg123_seek() lands on the right sample, but not always on the same
 * value: its synthesis filter is a ring of 16 positions that a seek does
 * not reset, and the float sums depend on where in it a frame starts (a
 * difference of one in the last bit, in half the seeks of a mono file).
 * The ring is at the same position as in a straight read when decoding
 * restarts at a frame that is a multiple of 16 from a fresh open, so:
 * find the target's frame, reopen, and choose the frames decoded ahead
 * of it to start there. That makes MPEG-1 (32-48 kHz) bit-exact; MPEG-2
 * and 2.5 (16-24 kHz) still land on the right sample, but some values
 * differ in the last bit or two (mpg123 1.31), far below hearing.
 */
static int mp3_seek(struct source *src, unsigned long long native_frame)
{
	struct mp3 *p = src->priv;
	/* Where off_t has 32 bits, no MP3 is that long. */
	const unsigned long long off_max =
	    (1ull << (sizeof(off_t) * CHAR_BIT - 1)) - 1;
	off_t at, len, target;
	long ahead;
	int rc;

	if (native_frame > off_max)
		return -ERR_EMPTY;
	/* A full scan of the frame headers (no decoding): the length is
	 * exact then, where the header's is missing or an estimate. */
	if (mpg123_scan(p->mh) != MPG123_OK ||
	    (len = mpg123_length(p->mh)) < 0 ||
	    (at = mpg123_seek(p->mh, (off_t)native_frame, SEEK_SET)) < 0) {
		log_warn("mp3: %s: cannot seek to frame %llu: %s", src->path,
		         native_frame, mpg123_strerror(p->mh));
		return -ERR_FORMAT;
	}
	if ((unsigned long long)len < native_frame)
		return -ERR_EMPTY;
	target = mpg123_tellframe(p->mh);
	rc = reopen(src, p, p->fd);
	if (rc < 0)
		return rc;
	ahead =
	    MP3_PREFRAMES +
	    (long)((target - MP3_PREFRAMES) % MP3_SYNTH_RING + MP3_SYNTH_RING) %
	        MP3_SYNTH_RING;
	if (mpg123_param(p->mh, MPG123_PREFRAMES, ahead, 0) != MPG123_OK ||
	    (at = mpg123_seek(p->mh, (off_t)native_frame, SEEK_SET)) < 0) {
		log_warn("mp3: %s: cannot seek to frame %llu: %s", src->path,
		         native_frame, mpg123_strerror(p->mh));
		return -ERR_FORMAT;
	}
	if ((unsigned long long)at != native_frame) {
		log_warn("mp3: %s: seek to frame %llu landed on %lld",
		         src->path, native_frame, (long long)at);
		return -ERR_FORMAT;
	}
	p->decoded = (long long)at;
	return 0;
}

static void mp3_close(struct source *src)
{
	mp3_free(src->priv);
	src->priv = NULL;
}

const struct source_ops source_mp3_ops = {
    .name = "mp3",
    .probe = mp3_probe,
    .open = mp3_open,
    .read = mp3_read,
    .seek = mp3_seek,
    .close = mp3_close,
};
