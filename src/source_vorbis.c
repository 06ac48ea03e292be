/*
 * source_vorbis.c - Ogg/Vorbis files through libvorbisfile.
 *
 * A chained file plays on while each link keeps the first one's rate and
 * channels, and ends cleanly (one line) at the first link that changes
 * them. A hole in the data is skipped with one line for the whole file;
 * any other decoding error ends the track. Files are read as streams; the
 * first seek reopens one as seekable (see open_seekable()).
 */
#include "source_priv.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Our own callbacks: keep the header's unused static FILE* ones out. */
#define OV_EXCLUDE_STATIC_CALLBACKS
#include <vorbis/vorbisfile.h>

#include "err.h"
#include "log.h"

struct vorbis {
	OggVorbis_File vf;
	int fd;
	bool vf_open;  /* vf needs ov_clear(); false after a failed reopen */
	bool seekable; /* reopened for seeking */
	int link;      /* the logical bitstream (chain link) being played */
	long rate;
	int channels;
	bool ended;       /* stopped at a link with another format */
	bool hole_logged; /* one line per file, however many holes */
};

/* The order the Vorbis spec gives channels in, by channel count. */
static const unsigned char vorbis_layout[SOURCE_MAX_CHANNELS + 1][8] = {
#define L SOURCE_POS_LEFT
#define C SOURCE_POS_CENTER
#define R SOURCE_POS_RIGHT
#define F SOURCE_POS_LFE
    [3] = {L, C, R},
    [4] = {L, R, L, R},
    [5] = {L, C, R, L, R},
    [6] = {L, C, R, L, R, F},
    [7] = {L, C, R, L, R, C, F},
    [8] = {L, C, R, L, R, L, R, F},
#undef L
#undef C
#undef R
#undef F
};

static size_t cb_read(void *ptr, size_t size, size_t nmemb, void *ds)
{
	struct vorbis *p = ds;
	size_t want, got = 0;

	if (size == 0 || nmemb > SIZE_MAX / size)
		return 0;
	want = size * nmemb;
	/* Like fread(): vorbisfile tells the end from an error by errno. */
	while (got < want) {
		ssize_t r = read(p->fd, (char *)ptr + got, want - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (r == 0) {
			errno = 0;
			break;
		}
		got += (size_t)r;
	}
	return got / size;
}

static int cb_seek(void *ds, ogg_int64_t off, int whence)
{
	struct vorbis *p = ds;

	return lseek(p->fd, (off_t)off, whence) < 0 ? -1 : 0;
}

static long cb_tell(void *ds)
{
	struct vorbis *p = ds;

	return (long)lseek(p->fd, 0, SEEK_CUR);
}

/*
 * No seek_func: vorbisfile then reads the file front to back, as a stream.
 * Seeking costs a bisection of the whole file at open, which most tracks
 * (played start to end) never pay back; worse, libvorbisfile 1.3.7 in
 * seekable mode skips a first link shorter than its read chunk (oggdec
 * shows it too) unless told to seek before it reads.
 */
static const ov_callbacks callbacks = {
    .read_func = cb_read,
    .seek_func = NULL,
    .close_func = NULL, /* the fd belongs to source.c */
    .tell_func = NULL,
};

static const ov_callbacks seek_callbacks = {
    .read_func = cb_read,
    .seek_func = cb_seek,
    .close_func = NULL,
    .tell_func = cb_tell,
};

static const char *ov_str(int rc)
{
	switch (rc) {
	case OV_EREAD:
		return "read error";
	case OV_ENOTVORBIS:
		return "not Vorbis data";
	case OV_EBADHEADER:
		return "corrupt Vorbis header";
	case OV_EVERSION:
		return "unknown Vorbis version";
	case OV_EBADLINK:
		return "corrupt link in the stream";
	case OV_EFAULT:
		return "decoder fault";
	default:
		return "corrupt or invalid data";
	}
}

static bool vorbis_probe(const unsigned char *head, size_t len)
{
	return len >= 4 && memcmp(head, "OggS", 4) == 0;
}

/* Ogg that holds another codec: valid, but not ours to play. */
static const char *other_codec(int fd)
{
	static const struct {
		const char *magic;
		size_t len;
		const char *name;
	} codecs[] = {
	    {"OpusHead", 8, "Opus"},
	    {"\x7f"
	     "FLAC",
	     5, "FLAC"},
	    {"Speex   ", 8, "Speex"},
	    {"\x80theora", 7, "Theora"},
	};
	/* The first page's header is 27 bytes plus one lacing byte for the
	 * one-segment first packet these codecs all have. */
	unsigned char page[36];

	if (pread(fd, page, sizeof(page), 0) != (ssize_t)sizeof(page) ||
	    page[26] != 1)
		return NULL;
	for (size_t i = 0; i < sizeof(codecs) / sizeof(*codecs); i++)
		if (memcmp(page + 28, codecs[i].magic, codecs[i].len) == 0)
			return codecs[i].name;
	return NULL;
}

/* TITLE, ARTIST and ALBUM, keys in any case; the first of each wins. */
static void read_tags(struct source *src, vorbis_comment *vc)
{
	if (!vc)
		return;
	for (int i = 0; i < vc->comments; i++) {
		const char *c = vc->user_comments[i];
		size_t len = (size_t)vc->comment_lengths[i];

		if (!c || vc->comment_lengths[i] < 0)
			continue;
		if (len > 6 && !src->title[0] &&
		    strncasecmp(c, "TITLE=", 6) == 0)
			source_set_tag(src->title, c + 6, len - 6);
		else if (len > 7 && !src->artist[0] &&
		         strncasecmp(c, "ARTIST=", 7) == 0)
			source_set_tag(src->artist, c + 7, len - 7);
		else if (len > 6 && !src->album[0] &&
		         strncasecmp(c, "ALBUM=", 6) == 0)
			source_set_tag(src->album, c + 6, len - 6);
	}
}

static int vorbis_open(struct source *src, int fd)
{
	struct vorbis *p;
	vorbis_info *vi;
	const char *codec;
	int rc;

	p = calloc(1, sizeof(*p));
	if (!p) {
		log_error("vorbis: %s: out of memory", src->path);
		return -ENOMEM;
	}
	p->fd = fd;
	rc = ov_open_callbacks(p, &p->vf, NULL, 0, callbacks);
	if (rc < 0) {
		/* vorbisfile has already cleared vf: no ov_clear() here. */
		codec = other_codec(fd);
		if (codec)
			log_warn("vorbis: %s: Ogg %s is not supported",
			         src->path, codec);
		else
			log_warn("vorbis: %s: not playable: %s", src->path,
			         ov_str(rc));
		free(p);
		return codec ? -ERR_UNSUPPORTED : -ERR_FORMAT;
	}
	vi = ov_info(&p->vf, -1);
	if (!vi || vi->channels < 1 || vi->channels > SOURCE_MAX_CHANNELS) {
		log_warn("vorbis: %s: %d channels are not supported", src->path,
		         vi ? vi->channels : 0);
		ov_clear(&p->vf);
		free(p);
		return -ERR_UNSUPPORTED;
	}
	p->vf_open = true;
	p->rate = vi->rate;
	p->channels = vi->channels;
	/* Out of range becomes 0, which source.c refuses. */
	src->native_rate = vi->rate > 0 && (unsigned long)vi->rate <= UINT_MAX
	                       ? (unsigned)vi->rate
	                       : 0;
	src->native_channels = (unsigned)vi->channels;
	memcpy(src->native_pos, vorbis_layout[vi->channels],
	       sizeof(src->native_pos));
	read_tags(src, ov_comment(&p->vf, -1));
	src->priv = p;
	return 0;
}

/* Whether link (just reached) can play on in the first link's format. */
static bool same_format(struct source *src, struct vorbis *p, int link)
{
	vorbis_info *vi = ov_info(&p->vf, link);

	if (vi && vi->rate == p->rate && vi->channels == p->channels)
		return true;
	log_warn("vorbis: %s: chained stream changes from %ld Hz, %d "
	         "channels to %ld Hz, %d; ending there",
	         src->path, p->rate, p->channels, vi ? vi->rate : 0L,
	         vi ? vi->channels : 0);
	return false;
}

static long vorbis_read(struct source *src, float *frames, size_t n)
{
	struct vorbis *p = src->priv;
	float **pcm = NULL;
	int link = p->link;
	bool hole = false;
	long r;

	if (p->ended)
		return 0;
	for (;;) {
		r = ov_read_float(&p->vf, &pcm, n > INT_MAX ? INT_MAX : (int)n,
		                  &link);
		if (r != OV_HOLE)
			break;
		hole = true;
	}
	if (r < 0) {
		log_warn("vorbis: %s: %s", src->path, ov_str((int)r));
		return -ERR_FORMAT;
	}
	/* Reading as a stream, vorbisfile reports a hole at every link
	 * boundary though nothing is lost there: only one within a link is
	 * damage. */
	if (hole && (r == 0 || link == p->link) && !p->hole_logged) {
		log_warn("vorbis: %s: corrupt data skipped", src->path);
		p->hole_logged = true;
	}
	if (r == 0)
		return 0;
	if (link != p->link) {
		if (!same_format(src, p, link)) {
			p->ended = true;
			return 0;
		}
		p->link = link;
	}
	if ((size_t)r > n) /* never: vorbisfile keeps to the limit */
		r = (long)n;
	for (int c = 0; c < p->channels; c++) {
		const float *in = pcm[c];
		float *out = frames + c;

		for (long i = 0; i < r; i++, out += p->channels)
			*out = in[i];
	}
	return r;
}

/*
 * Reopens the file in seekable mode, once: 0 or a negative code (logged).
 * Read so far as a stream, the file must now be opened again, and the
 * caller seeks before anything is read (which also keeps vorbisfile from
 * skipping a short first link). Seekable, vorbisfile finds the links by
 * their serial numbers: a chain that repeats one (invalid Ogg, say a file
 * concatenated with itself) looks shorter to it than it plays.
 */
static int open_seekable(struct source *src, struct vorbis *p)
{
	vorbis_info *vi;
	int rc;

	ov_clear(&p->vf);
	p->vf_open = false;
	if (lseek(p->fd, 0, SEEK_SET) < 0) {
		rc = -errno;
		log_warn("vorbis: %s: cannot seek: %s", src->path, err_str(rc));
		return rc;
	}
	rc = ov_open_callbacks(p, &p->vf, NULL, 0, seek_callbacks);
	if (rc < 0) {
		log_warn("vorbis: %s: cannot reopen for seeking: %s", src->path,
		         ov_str(rc));
		return -ERR_FORMAT;
	}
	p->vf_open = true;
	vi = ov_info(&p->vf, 0);
	if (!ov_seekable(&p->vf) || !vi || vi->rate != p->rate ||
	    vi->channels != p->channels) {
		log_warn("vorbis: %s: not the same stream when reopened for "
		         "seeking",
		         src->path);
		return -ERR_FORMAT;
	}
	p->seekable = true;
	return 0;
}

/*
 * ov_pcm_seek() counts over the whole chain; only the links up to the
 * first in another format play, so only they count here.
 */
static int vorbis_seek(struct source *src, unsigned long long native_frame)
{
	struct vorbis *p = src->priv;
	unsigned long long total = 0; /* frames in the links that play */
	int link = -1, last = 0, rc;
	long links;

	if (!p->seekable) {
		rc = open_seekable(src, p);
		if (rc < 0)
			return rc;
	}
	links = ov_streams(&p->vf);
	for (int i = 0; i < links; i++) {
		vorbis_info *vi = ov_info(&p->vf, i);
		ogg_int64_t len = ov_pcm_total(&p->vf, i);

		if (!vi || vi->rate != p->rate || vi->channels != p->channels ||
		    len < 0)
			break;
		if (link < 0 && native_frame < total + (unsigned long long)len)
			link = i;
		total += (unsigned long long)len;
		last = i;
	}
	if (native_frame > total)
		return -ERR_EMPTY;
	rc = ov_pcm_seek(&p->vf, (ogg_int64_t)native_frame);
	if (rc < 0) {
		log_warn("vorbis: %s: cannot seek to frame %llu: %s", src->path,
		         native_frame, ov_str(rc));
		return -ERR_FORMAT;
	}
	/* At the very end: in the last link that plays, so that a next
	 * link in another format is still noticed and logged by read. */
	p->link = link < 0 ? last : link;
	p->ended = false;
	return 0;
}

static void vorbis_close(struct source *src)
{
	struct vorbis *p = src->priv;

	if (!p)
		return;
	if (p->vf_open)
		ov_clear(&p->vf);
	free(p);
	src->priv = NULL;
}

const struct source_ops source_vorbis_ops = {
    .name = "vorbis",
    .probe = vorbis_probe,
    .open = vorbis_open,
    .read = vorbis_read,
    .seek = vorbis_seek,
    .close = vorbis_close,
};
