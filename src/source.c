/*
 * source.c - an audio file, decoded and converted to the station format.
 *
 * The decoder is chosen by the file's first bytes, never by its name. The
 * conversion costs nothing when the file already has the station format:
 * the decoder then writes straight into the caller's buffer. Otherwise
 * the fewest channels are resampled (downmix first, upmix last), and all
 * buffers are allocated at open.
 */
#include "source.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "resample.h"
#include "source_priv.h"

/* Probed in this order; the first to claim the file decodes it. */
static const struct source_ops *const decoders[] = {
    &source_vorbis_ops,
    &source_wav_ops,
    &source_mp3_ops,
};

/* Length of the valid UTF-8 sequence at s (at most len bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0fu;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	/* Overlong forms, surrogates and beyond U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void source_set_tag(char *dst, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	bool utf8 = true;
	size_t out = 0;
	size_t i;

	dst[0] = '\0';
	if (!text)
		return;
	len = strnlen(text, len);
	for (i = 0; i < len && utf8;) {
		size_t n = utf8_seq(s + i, len - i);

		utf8 = n > 0;
		i += n;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = s[i];
		size_t n = utf8 ? utf8_seq(s + i, len - i) : (c < 0x80 ? 1 : 2);

		if (out + n >= SOURCE_TAG_MAX)
			break;
		if (c < 0x20 || c == 0x7f || (!utf8 && c >= 0x80 && c < 0xa0)) {
			dst[out++] = ' ';
			n = 1;
		} else if (utf8 || c < 0x80) {
			memcpy(dst + out, s + i, n);
			out += n;
			i += n - 1;
		} else { /* Latin-1: U+0080..U+00FF in two bytes */
			dst[out++] = (char)(0xc0 | c >> 6);
			dst[out++] = (char)(0x80 | (c & 0x3f));
		}
	}
	while (out > 0 && dst[out - 1] == ' ')
		out--;
	dst[out] = '\0';
	for (i = 0; dst[i] == ' '; i++)
		;
	memmove(dst, dst + i, out - i + 1);
}

/* Reads up to len bytes from the start of fd; the count or -errno. */
static ssize_t read_head(int fd, unsigned char *head, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = pread(fd, head + got, len - got, (off_t)got);

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

/* Gains that fold more than two channels into the station's one or two. */
static void build_mix(struct source *src)
{
	static const float side[4][2] = {
	    [SOURCE_POS_CENTER] = {0.70710678f, 0.70710678f},
	    [SOURCE_POS_LEFT] = {1.0f, 0.0f},
	    [SOURCE_POS_RIGHT] = {0.0f, 1.0f},
	    [SOURCE_POS_LFE] = {0.0f, 0.0f},
	};
	unsigned in = src->native_channels;

	for (unsigned o = 0; o < src->fmt.channels; o++) {
		float sum = 0.0f;

		for (unsigned c = 0; c < in; c++) {
			unsigned pos = src->native_pos[c] < 4
			                   ? src->native_pos[c]
			                   : SOURCE_POS_CENTER;
			float g = src->fmt.channels == 1
			              ? (pos == SOURCE_POS_LFE ? 0.0f : 1.0f)
			              : side[pos][o];

			src->mix[o][c] = g;
			sum += g;
		}
		/* Scaled to sum to 1 so that the fold can never clip. */
		for (unsigned c = 0; c < in; c++)
			src->mix[o][c] = sum > 0.0f ? src->mix[o][c] / sum
			                            : 1.0f / (float)in;
	}
}

/*
 * Folds frames of native channels into out's fewer channels. out may be
 * in: each frame is read whole before it is written, and it is written no
 * further on than it was read from.
 */
static void downmix(const struct source *src, const float *in, float *out,
                    size_t frames)
{
	unsigned ic = src->native_channels, oc = src->fmt.channels;

	if (ic == 2 && oc == 1) {
		for (size_t i = 0; i < frames; i++)
			out[i] = 0.5f * (in[2 * i] + in[2 * i + 1]);
		return;
	}
	for (size_t i = 0; i < frames; i++) {
		const float *f = in + i * ic;
		float acc[PCM_MAX_CHANNELS];

		for (unsigned o = 0; o < oc; o++) {
			acc[o] = 0.0f;
			for (unsigned c = 0; c < ic; c++)
				acc[o] += src->mix[o][c] * f[c];
		}
		for (unsigned o = 0; o < oc; o++)
			out[i * oc + o] = acc[o];
	}
}

/* Mono to stereo in place: backwards, so no frame is overwritten unread. */
static void upmix(float *buf, size_t frames)
{
	for (size_t i = frames; i-- > 0;) {
		buf[2 * i + 1] = buf[i];
		buf[2 * i] = buf[i];
	}
}

/*
 * Decodes up to n frames at the native rate into out, folded to
 * fold_channels (the station's, or fewer when resampling mono). out holds
 * n frames of max(native, fold) channels, or n of fold when folding down,
 * as the decoder then writes to src->buf.
 */
static long decode(struct source *src, float *out, size_t n,
                   unsigned fold_channels)
{
	unsigned ic = src->native_channels;
	float *dst = ic > fold_channels ? src->buf : out;
	long r;

	if (ic > fold_channels && n > SOURCE_BLOCK_FRAMES)
		n = SOURCE_BLOCK_FRAMES;
	if (n > SOURCE_READ_MAX)
		n = SOURCE_READ_MAX;
	r = src->ops->read(src, dst, n);
	if (r <= 0)
		return r;
	assert((size_t)r <= n);
	if (ic > fold_channels)
		downmix(src, dst, out, (size_t)r);
	else if (ic < fold_channels)
		upmix(out, (size_t)r);
	return r;
}

/* Up to n station frames through the resampler: > 0, 0 at end, < 0. */
static long convert(struct source *src, float *out, size_t n)
{
	long w;

	for (;;) {
		size_t used = 0;

		if (src->buf_pos == src->buf_frames && !src->dec_done) {
			long r = decode(src, src->buf, SOURCE_BLOCK_FRAMES,
			                src->rs_channels);

			src->buf_pos = src->buf_frames = 0;
			if (r > 0) {
				src->buf_frames = (size_t)r;
			} else {
				/* Even after a failure the frames decoded
				 * before it are played: drain the filter. */
				src->dec_done = true;
				src->dec_rc = (int)r;
			}
		}
		if (src->dec_done) {
			w = resample_flush(src->rs, out, n);
			if (w == 0)
				return src->dec_rc;
			break;
		}
		w = resample_process(
		    src->rs, src->buf + src->buf_pos * src->rs_channels,
		    src->buf_frames - src->buf_pos, &used, out, n);
		if (w < 0)
			return w;
		src->buf_pos += used;
		if (w > 0)
			break;
	}
	if (w > 0 && src->rs_channels < src->fmt.channels)
		upmix(out, (size_t)w);
	return w;
}

/*
 * Whether the file was written to since it was opened (its size or its
 * modification time differ): rewritten in place or truncated, what the
 * decoder would read next is no longer this item, but the rest of another
 * file or garbage. One line. A file deleted or renamed over while it
 * plays is not changed: the open descriptor still reads the old one.
 */
static bool file_changed(const struct source *src)
{
	struct stat st;

	if (fstat(src->fd, &st) < 0 ||
	    ((long long)st.st_size == src->file_bytes &&
	     st.st_mtim.tv_sec == src->file_mtime.tv_sec &&
	     st.st_mtim.tv_nsec == src->file_mtime.tv_nsec))
		return false;
	log_warn("%s: the file changed on disk while in use (now %lld "
	         "bytes, was %lld); it ends here",
	         src->path, (long long)st.st_size, src->file_bytes);
	return true;
}

long source_read(struct source *src, float *frames, size_t n)
{
	unsigned oc = src->fmt.channels;
	size_t got = 0;

	if (n > LONG_MAX / PCM_MAX_CHANNELS)
		n = LONG_MAX / PCM_MAX_CHANNELS;
	/* Checked before each read: no frame of what replaced it airs. */
	if (!src->done && file_changed(src)) {
		src->done = true;
		src->rc = -ERR_FORMAT;
	}
	/* Fill the whole request: only the end or a failure cuts it short. */
	while (got < n && !src->done) {
		long r = src->rs ? convert(src, frames + got * oc, n - got)
		                 : decode(src, frames + got * oc, n - got, oc);

		if (r > 0) {
			got += (size_t)r;
		} else {
			src->done = true;
			src->rc = (int)r;
		}
	}
	return got ? (long)got : src->rc;
}

int source_seek(struct source *src, unsigned long long frame)
{
	int rc;

	/* A resampler's output frame has no exact native counterpart, and
	 * its filter holds input it has not delivered yet. */
	if (src->rs || !src->ops->seek)
		return -ERR_UNSUPPORTED;
	if (src->done && src->rc < 0)
		return src->rc; /* reported when it happened */
	/* Not the decoder: it would seek into whatever replaced the file. */
	if (file_changed(src)) {
		src->done = true;
		src->rc = -ERR_FORMAT;
		return src->rc;
	}
	rc = src->ops->seek(src, frame);
	/* Without a resampler nothing is held between the decoder and the
	 * caller (buf only stages a downmix within one call), so the end
	 * flags are all there is to reset. */
	src->buf_pos = src->buf_frames = 0;
	src->dec_done = false;
	src->dec_rc = 0;
	src->done = rc < 0;
	src->rc = rc == -ERR_EMPTY ? 0 : rc;
	return rc;
}

/* Opens path and picks its decoder; the fd (*st its stat) or a negative
 * code (logged). */
static int open_and_sniff(const char *path, const struct source_ops **ops,
                          struct stat *st)
{
	unsigned char head[SOURCE_HEAD_BYTES];
	ssize_t len;
	int fd, rc;

	/* O_NONBLOCK: a FIFO in the library must not hang the daemon here. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		log_warn("%s: cannot open: %s", path, err_str(rc));
		return rc;
	}
	if (fstat(fd, st) < 0) {
		rc = -errno;
		log_warn("%s: %s", path, err_str(rc));
		goto fail;
	}
	if (!S_ISREG(st->st_mode)) {
		log_warn("%s: not a regular file", path);
		rc = -ERR_FORMAT;
		goto fail;
	}
	len = read_head(fd, head, sizeof(head));
	if (len < 0) {
		rc = (int)len;
		log_warn("%s: cannot read: %s", path, err_str(rc));
		goto fail;
	}
	if (len == 0) {
		log_warn("%s: empty file", path);
		rc = -ERR_FORMAT;
		goto fail;
	}
	for (size_t i = 0; i < sizeof(decoders) / sizeof(*decoders); i++) {
		if (decoders[i]->probe(head, (size_t)len)) {
			*ops = decoders[i];
			return fd;
		}
	}
	log_warn("%s: not an audio file (unknown format)", path);
	rc = -ERR_FORMAT;
fail:
	close(fd);
	return rc;
}

/* Checks what the decoder found and sets up the conversion. */
static int setup_conversion(struct source *src)
{
	unsigned ic = src->native_channels, oc = src->fmt.channels;
	int rc;

	if (ic < 1 || ic > SOURCE_MAX_CHANNELS) {
		log_warn("%s: %u channels (at most %d are supported)",
		         src->path, ic, SOURCE_MAX_CHANNELS);
		return -ERR_UNSUPPORTED;
	}
	if (src->native_rate < SOURCE_MIN_RATE ||
	    src->native_rate > SOURCE_MAX_RATE) {
		log_warn("%s: sample rate %u Hz is not supported", src->path,
		         src->native_rate);
		return -ERR_UNSUPPORTED;
	}
	src->rs_channels = ic < oc ? ic : oc;
	if (ic > 2)
		build_mix(src);
	/* Equal rates with ic <= oc decode straight into the caller's
	 * buffer; every other case needs one block of native frames. */
	if (src->native_rate != src->fmt.rate || ic > oc) {
		src->buf = malloc(SOURCE_BLOCK_FRAMES * ic * sizeof(float));
		if (!src->buf)
			return -ENOMEM;
	}
	if (src->native_rate != src->fmt.rate) {
		rc = resample_new(&src->rs, src->native_rate, src->fmt.rate,
		                  src->rs_channels);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int source_open(struct source **out, const char *path,
                const struct pcm_format *fmt)
{
	const struct source_ops *ops = NULL;
	struct source *src;
	struct stat st;
	int fd, rc, flags;

	assert(out && path && fmt);
	*out = NULL;
	/* Checked, not asserted: the mix arrays are sized by it, and
	 * release builds drop asserts. */
	if (fmt->channels < 1 || fmt->channels > PCM_MAX_CHANNELS ||
	    fmt->rate < SOURCE_MIN_RATE || fmt->rate > SOURCE_MAX_RATE) {
		log_error("%s: station format %u Hz, %u channels is not "
		          "supported",
		          path, fmt->rate, fmt->channels);
		return -ERR_USAGE;
	}
	fd = open_and_sniff(path, &ops, &st);
	if (fd < 0)
		return fd;
	src = calloc(1, sizeof(*src));
	if (!src || !(src->path = strdup(path))) {
		log_error("%s: out of memory", path);
		free(src);
		close(fd);
		return -ENOMEM;
	}
	src->fd = fd;
	src->fmt = *fmt;
	src->file_bytes = (long long)st.st_size;
	src->file_mtime = st.st_mtim;
	/* Regular files never block; the flag only guarded the open. */
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	rc = ops->open(src, fd);
	if (rc < 0) {
		src->ops = NULL; /* the decoder cleaned up after itself */
		goto fail;
	}
	src->ops = ops;
	rc = setup_conversion(src);
	if (rc == -ENOMEM)
		log_error("%s: out of memory", path);
	if (rc < 0)
		goto fail;
	*out = src;
	return 0;
fail:
	source_close(src);
	return rc;
}

const char *source_title(const struct source *src)
{
	return src->title;
}

const char *source_artist(const struct source *src)
{
	return src->artist;
}

const char *source_album(const struct source *src)
{
	return src->album;
}

const char *source_type(const struct source *src)
{
	return src->ops->name;
}

unsigned source_native_rate(const struct source *src)
{
	return src->native_rate;
}

unsigned source_native_channels(const struct source *src)
{
	return src->native_channels;
}

int source_file_id(const struct source *src, long long *size,
                   long long *mtime_ns)
{
	if (!src)
		return -ERR_INVALID;
	*size = src->file_bytes;
	*mtime_ns = (long long)src->file_mtime.tv_sec * 1000000000LL +
	            src->file_mtime.tv_nsec;
	return 0;
}

void source_close(struct source *src)
{
	if (!src)
		return;
	resample_free(src->rs);
	free(src->buf);
	if (src->ops)
		src->ops->close(src);
	close(src->fd);
	free(src->path);
	free(src);
}
