/*
 * source_wav.c - RIFF/WAVE files: integer PCM, IEEE float, extensible.
 *
 * The header is hostile until checked: every field is validated before it
 * sizes anything, and the data size is believed only as far as the file
 * really goes (streaming writers leave it 0 or 0xFFFFFFFF). Reads use
 * pread() at our own offset, through one buffer allocated at open, so a
 * seek is only a new offset: every sample format has fixed-size frames.
 */
#include "source_priv.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "log.h"

#define WAVE_FORMAT_PCM 0x0001
#define WAVE_FORMAT_IEEE_FLOAT 0x0003
#define WAVE_FORMAT_EXTENSIBLE 0xfffe
/* Frames converted per read; the buffer holds this many raw frames. */
#define WAV_BUF_FRAMES 4096
/* Chunks looked at before giving up on finding "data". */
#define WAV_MAX_CHUNKS 256
/* The most of a LIST chunk read for tags. */
#define WAV_MAX_LIST 65536

/* Bytes 2..15 of every KSDATAFORMAT_SUBTYPE_* GUID we accept. */
static const unsigned char ks_guid_tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10,
                                               0x00, 0x80, 0x00, 0x00, 0xaa,
                                               0x00, 0x38, 0x9b, 0x71};

enum wav_sample { WAV_U8, WAV_S16, WAV_S24, WAV_S32, WAV_F32, WAV_F64 };

/* Offsets are int64_t, not off_t: a hostile size plus an offset must not
 * overflow where off_t has 32 bits. Each is checked against the file's
 * size before it reaches pread(). */
struct wav {
	int fd;
	enum wav_sample sample;
	unsigned block_align; /* bytes per frame */
	int64_t start;        /* the first byte of audio */
	int64_t pos;          /* next byte of audio to read */
	int64_t end;          /* one past the last byte of audio to play */
	unsigned char *buf;   /* WAV_BUF_FRAMES raw frames */
};

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static bool wav_probe(const unsigned char *head, size_t len)
{
	return len >= 12 && memcmp(head, "RIFF", 4) == 0 &&
	       memcmp(head + 8, "WAVE", 4) == 0;
}

/* Reads up to len bytes at off; the count (short only at the end), or
 * -errno. */
static ssize_t read_at(int fd, void *buf, size_t len, int64_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = pread(fd, (char *)buf + got, len - got,
		                  (off_t)(off + (int64_t)got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* The speaker positions of WAVE_FORMAT_EXTENSIBLE's dwChannelMask bits. */
static enum source_pos mask_pos(unsigned bit)
{
	switch (1u << bit) {
	case 0x1:    /* front left */
	case 0x10:   /* back left */
	case 0x40:   /* front left of center */
	case 0x200:  /* side left */
	case 0x1000: /* top front left */
	case 0x8000: /* top back left */
		return SOURCE_POS_LEFT;
	case 0x2:
	case 0x20:
	case 0x80:
	case 0x400:
	case 0x4000:
	case 0x20000:
		return SOURCE_POS_RIGHT;
	case 0x8:
		return SOURCE_POS_LFE;
	default:
		return SOURCE_POS_CENTER;
	}
}

/* Channel i gets the i-th set bit of mask; channels past them, center. */
static void set_positions(struct source *src, uint32_t mask)
{
	/* Microsoft's defaults when a plain WAVE_FORMAT_PCM has > 2. */
	static const uint32_t defaults[SOURCE_MAX_CHANNELS + 1] = {
	    0, 0x4, 0x3, 0x7, 0x33, 0x37, 0x3f, 0x70f, 0x63f};
	unsigned bit = 0;

	if (!mask)
		mask = defaults[src->native_channels];
	for (unsigned c = 0; c < src->native_channels; c++) {
		while (bit < 32 && !(mask & (1u << bit)))
			bit++;
		src->native_pos[c] =
		    (unsigned char)(bit < 32 ? mask_pos(bit)
		                             : SOURCE_POS_CENTER);
		bit++;
	}
}

/* Checks a "fmt " chunk (len bytes at f) and sets up the decoding. */
static int parse_fmt(struct source *src, struct wav *w, const unsigned char *f,
                     size_t len)
{
	unsigned tag = le16(f), channels = le16(f + 2);
	unsigned rate = (unsigned)le32(f + 4);
	unsigned align = le16(f + 12), bits = le16(f + 14);
	unsigned bytes;
	bool is_float;
	uint32_t mask = 0;

	if (tag == WAVE_FORMAT_EXTENSIBLE) {
		if (len < 40 || le16(f + 16) < 22 ||
		    memcmp(f + 26, ks_guid_tail, sizeof(ks_guid_tail)) != 0) {
			log_warn("wav: %s: bad WAVE_FORMAT_EXTENSIBLE header",
			         src->path);
			return -ERR_FORMAT;
		}
		mask = le32(f + 20);
		tag = le16(f + 24);
	}
	if (tag != WAVE_FORMAT_PCM && tag != WAVE_FORMAT_IEEE_FLOAT) {
		log_warn("wav: %s: format 0x%04x is not supported (only PCM "
		         "and float)",
		         src->path, tag);
		return -ERR_UNSUPPORTED;
	}
	if (channels < 1 || channels > SOURCE_MAX_CHANNELS ||
	    rate < SOURCE_MIN_RATE || rate > SOURCE_MAX_RATE) {
		log_warn("wav: %s: bad header: %u channels at %u Hz", src->path,
		         channels, rate);
		return -ERR_FORMAT;
	}
	/* The container is block_align / channels bytes; bits may be fewer
	 * (20 bits in 3 bytes), left-justified, so decode the container. */
	bytes = align / channels;
	is_float = tag == WAVE_FORMAT_IEEE_FLOAT;
	if (align % channels != 0 || bits == 0 || (bits + 7) / 8 != bytes ||
	    (is_float ? (bits != 32 && bits != 64) : bytes > 4)) {
		log_warn("wav: %s: bad header: %u-bit %s samples in %u-byte "
		         "frames of %u channels",
		         src->path, bits, is_float ? "float" : "integer", align,
		         channels);
		return -ERR_FORMAT;
	}
	if (is_float)
		w->sample = bytes == 4 ? WAV_F32 : WAV_F64;
	else
		w->sample = (enum wav_sample)(WAV_U8 + bytes - 1);
	w->block_align = align;
	src->native_rate = rate;
	src->native_channels = channels;
	if (channels > 2)
		set_positions(src, mask);
	return 0;
}

/* Reads INAM, IART and IPRD (the album) from a LIST chunk of len bytes at
 * off, if INFO. */
static void parse_list(struct source *src, struct wav *w, int64_t off,
                       uint32_t len)
{
	unsigned char *list;
	size_t n, i;
	ssize_t r;

	if (len < 4)
		return;
	n = len < WAV_MAX_LIST ? len : WAV_MAX_LIST;
	list = malloc(n);
	if (!list)
		return; /* tags are a nicety: play without them */
	r = read_at(w->fd, list, n, off);
	n = r > 0 ? (size_t)r : 0;
	if (n < 4 || memcmp(list, "INFO", 4) != 0)
		goto out;
	for (i = 4; n - i >= 8;) {
		uint32_t sz = le32(list + i + 4);
		const char *text = (const char *)list + i + 8;
		size_t avail = n - i - 8;

		if (sz > avail)
			sz = (uint32_t)avail;
		if (memcmp(list + i, "INAM", 4) == 0)
			source_set_tag(src->title, text, sz);
		else if (memcmp(list + i, "IART", 4) == 0)
			source_set_tag(src->artist, text, sz);
		else if (memcmp(list + i, "IPRD", 4) == 0)
			source_set_tag(src->album, text, sz);
		/* Sub-chunks are padded to even sizes too. */
		if (avail - sz < (sz & 1u))
			break;
		i += 8 + sz + (sz & 1u);
	}
out:
	free(list);
}

/*
 * Walks the chunks from off to the file's end, at most WAV_MAX_CHUNKS:
 * reads fmt and LIST, stops at data (*data_off, *data_len) unless
 * stop_at_data is false. 0, or a negative code (logged).
 */
static int walk_chunks(struct source *src, struct wav *w, int64_t off,
                       int64_t file_size, bool stop_at_data, bool *have_fmt,
                       int64_t *data_off, uint32_t *data_len)
{
	for (int i = 0; i < WAV_MAX_CHUNKS && file_size - off >= 8; i++) {
		unsigned char ch[8], f[40];
		uint32_t len;
		ssize_t r;
		int rc;

		r = read_at(w->fd, ch, sizeof(ch), off);
		if (r < 0) {
			log_warn("wav: %s: %s", src->path, err_str((int)r));
			return (int)r;
		}
		if (r < 8)
			break;
		len = le32(ch + 4);
		off += 8;
		if (stop_at_data && memcmp(ch, "fmt ", 4) == 0) {
			if (*have_fmt || len < 16 || file_size - off < 16) {
				log_warn("wav: %s: bad fmt chunk", src->path);
				return -ERR_FORMAT;
			}
			r = read_at(w->fd, f, len < 40 ? len : 40, off);
			if (r < 16) {
				log_warn("wav: %s: bad fmt chunk", src->path);
				return r < 0 ? (int)r : -ERR_FORMAT;
			}
			rc = parse_fmt(src, w, f, (size_t)r);
			if (rc < 0)
				return rc;
			*have_fmt = true;
		} else if (memcmp(ch, "LIST", 4) == 0) {
			parse_list(src, w, off, len);
		} else if (stop_at_data && memcmp(ch, "data", 4) == 0) {
			*data_off = off;
			*data_len = len;
			return 0;
		}
		/* Odd-sized chunks are followed by a pad byte. */
		off += (int64_t)len + (len & 1u);
	}
	return 0;
}

/* Whether a chunk header (four printable bytes, a size that fits) is at
 * off: an empty data chunk then has nothing to play. */
static bool next_is_chunk(struct wav *w, int64_t off, int64_t file_size)
{
	unsigned char ch[8];

	if (read_at(w->fd, ch, sizeof(ch), off) != sizeof(ch))
		return false;
	for (int i = 0; i < 4; i++)
		if (ch[i] < 0x20 || ch[i] > 0x7e)
			return false;
	return le32(ch + 4) <= file_size - off - 8;
}

/* Decides how much audio to play, believing the header only so far. */
static void set_data_end(struct source *src, struct wav *w, int64_t data_off,
                         uint32_t data_len, int64_t file_size)
{
	int64_t avail = file_size - data_off;
	int64_t claimed = data_len;

	avail -= avail % w->block_align;
	if (data_len == 0 && next_is_chunk(w, data_off, file_size)) {
		/* Truly empty: what follows is the next chunk, not audio. */
		w->end = data_off;
	} else if (data_len == 0 || data_len == 0xffffffffu) {
		/* Streaming writers cannot know the size when they start. */
		log_info("wav: %s: data size not set in the header; playing "
		         "the %lld bytes there are",
		         src->path, (long long)avail);
		w->end = data_off + avail;
	} else if (claimed > file_size - data_off) {
		log_warn("wav: %s: header claims %lld bytes of audio, the file "
		         "has %lld; playing those",
		         src->path, (long long)claimed, (long long)avail);
		w->end = data_off + avail;
	} else {
		w->end = data_off + claimed - claimed % w->block_align;
	}
	w->start = w->pos = data_off;
}

static void wav_free(struct wav *w)
{
	if (!w)
		return;
	free(w->buf);
	free(w);
}

static int wav_open(struct source *src, int fd)
{
	unsigned char riff[12];
	struct stat st;
	struct wav *w;
	bool have_fmt = false;
	int64_t data_off = 0;
	uint32_t data_len = 0;
	int rc;

	w = calloc(1, sizeof(*w));
	if (!w) {
		log_error("wav: %s: out of memory", src->path);
		return -ENOMEM;
	}
	w->fd = fd;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		log_warn("wav: %s: %s", src->path, err_str(rc));
		goto fail;
	}
	if (read_at(fd, riff, sizeof(riff), 0) != sizeof(riff) ||
	    !wav_probe(riff, sizeof(riff))) {
		log_warn("wav: %s: not a RIFF/WAVE file", src->path);
		rc = -ERR_FORMAT;
		goto fail;
	}
	rc = walk_chunks(src, w, 12, st.st_size, true, &have_fmt, &data_off,
	                 &data_len);
	if (rc < 0)
		goto fail;
	if (!have_fmt || !data_off) {
		log_warn("wav: %s: no %s chunk", src->path,
		         have_fmt ? "data" : "fmt");
		rc = -ERR_FORMAT;
		goto fail;
	}
	set_data_end(src, w, data_off, data_len, st.st_size);
	/* Tags are often written after the audio. */
	if (data_len != 0xffffffffu && data_off + data_len < st.st_size)
		walk_chunks(src, w, data_off + data_len + (data_len & 1u),
		            st.st_size, false, NULL, NULL, NULL);
	w->buf = malloc((size_t)WAV_BUF_FRAMES * w->block_align);
	if (!w->buf) {
		log_error("wav: %s: out of memory", src->path);
		rc = -ENOMEM;
		goto fail;
	}
	src->priv = w;
	return 0;
fail:
	wav_free(w);
	return rc;
}

static float f32_at(const unsigned char *p)
{
	uint32_t u = le32(p);
	float v;

	memcpy(&v, &u, sizeof(v));
	return v;
}

static float f64_at(const unsigned char *p)
{
	uint64_t u = (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
	double v;

	memcpy(&v, &u, sizeof(v));
	return (float)v;
}

/* Float files may hold anything: keep [-1, 1], and NaN is silence. */
static float clamp(float v)
{
	if (v >= -1.0f && v <= 1.0f)
		return v;
	return v > 1.0f ? 1.0f : v < -1.0f ? -1.0f : 0.0f;
}

static void convert(const struct wav *w, const unsigned char *in, float *out,
                    size_t samples)
{
	size_t i;

	switch (w->sample) {
	case WAV_U8: /* 8-bit WAV is unsigned */
		for (i = 0; i < samples; i++)
			out[i] = (float)(in[i] - 128) * (1.0f / 128.0f);
		break;
	case WAV_S16:
		for (i = 0; i < samples; i++, in += 2)
			out[i] = (float)(int16_t)le16(in) * (1.0f / 32768.0f);
		break;
	case WAV_S24:
		/* Into the top of an int32_t: the sign comes for free, and
		 * 24 bits convert to float exactly. */
		for (i = 0; i < samples; i++, in += 3) {
			int32_t s = (int32_t)((uint32_t)in[0] << 8 |
			                      (uint32_t)in[1] << 16 |
			                      (uint32_t)in[2] << 24);

			out[i] = (float)s * (1.0f / 2147483648.0f);
		}
		break;
	case WAV_S32:
		for (i = 0; i < samples; i++, in += 4)
			out[i] =
			    (float)(int32_t)le32(in) * (1.0f / 2147483648.0f);
		break;
	case WAV_F32:
		for (i = 0; i < samples; i++, in += 4)
			out[i] = clamp(f32_at(in));
		break;
	case WAV_F64:
		for (i = 0; i < samples; i++, in += 8)
			out[i] = clamp(f64_at(in));
		break;
	}
}

static long wav_read(struct source *src, float *frames, size_t n)
{
	struct wav *w = src->priv;
	size_t want, got;
	ssize_t r;

	if (n > WAV_BUF_FRAMES)
		n = WAV_BUF_FRAMES;
	if ((int64_t)(n * w->block_align) > w->end - w->pos)
		n = (size_t)(w->end - w->pos) / w->block_align;
	if (n == 0)
		return 0;
	want = n * w->block_align;
	r = read_at(w->fd, w->buf, want, w->pos);
	if (r < 0) {
		log_warn("wav: %s: %s", src->path, err_str((int)r));
		return (long)r;
	}
	got = (size_t)r / w->block_align;
	if (got == 0) {
		/* The file shrank since it was opened. */
		log_warn("wav: %s: ended early", src->path);
		return 0;
	}
	w->pos += (int64_t)(got * w->block_align);
	convert(w, w->buf, frames, got * src->native_channels);
	return (long)got;
}

static int wav_seek(struct source *src, unsigned long long native_frame)
{
	struct wav *w = src->priv;
	uint64_t frames = (uint64_t)(w->end - w->start) / w->block_align;

	if (native_frame > frames)
		return -ERR_EMPTY;
	w->pos = w->start + (int64_t)native_frame * w->block_align;
	return 0;
}

static void wav_close(struct source *src)
{
	wav_free(src->priv);
	src->priv = NULL;
}

const struct source_ops source_wav_ops = {
    .name = "wav",
    .probe = wav_probe,
    .open = wav_open,
    .read = wav_read,
    .seek = wav_seek,
    .close = wav_close,
};
