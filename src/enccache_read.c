/*
 * enccache_read.c - a cached encoding read back packet by packet, each with
 * the station frame its decoded output ends at.
 *
 * The one thing to know: a Vorbis packet's output is the overlap of its
 * first half with the previous packet's second half, so the first packet
 * of a link decodes to nothing and packet i to blocksize(i-1)/4 +
 * blocksize(i)/4 frames, ending at end(i). A new link that starts at
 * packet k therefore decodes, bit for bit as the file does, to the frames
 * from end(k) on. The ends are summed from the block sizes and anchored on
 * the granule position of the first page that is not the last one (the
 * last page's granule may cut its final packet short); every later page's
 * granule is checked against them, so a file that disagrees is refused,
 * not spliced wrongly. Memory is fixed after the open: libogg's buffers of
 * a page or two.
 */
#include "enccache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vorbis/codec.h>

#include "err.h"
#include "log.h"

/* Bytes read from the file at a time: at 128 kbps, a read every 4 s of a
 * pass (8 KB was a read() every 0.5 s, 7 % of the daemon's CPU while
 * passing through). */
#define READ_CHUNK 65536
/* An Ogg page is at most 27 + 255 + 255 * 255 bytes: the last one lies
 * entirely within this many bytes of the end. */
#define TAIL_BYTES 65536

struct enccache {
	int fd;
	char *path;
	ogg_sync_state oy;
	ogg_stream_state os;
	vorbis_info vi;
	vorbis_comment vc;
	ogg_packet hdr[3]; /* their data ours */
	off_t audio_at;    /* where the first audio page starts */
	unsigned long long frames;
	int64_t anchor; /* end(i) = R(i) + anchor */

	/* Where reading is: R of the last packet taken, its block size. */
	int64_t r;
	long prev_bs;
	bool eos;     /* the last packet was taken */
	bool started; /* a packet was taken since the rewind */
	int64_t last_end;
	bool have_prev; /* prev_end is the end before the last packet */
	int64_t prev_end;
	bool pending; /* the last packet taken is the next to return */
	ogg_packet pend;
	int err; /* sticky, once logged */
};

/* Logs the first failure of the cache and keeps returning it. */
static int fail_read(struct enccache *c, int rc, const char *why)
{
	if (!c->err)
		log_error("encoded cache: %s: %s", c->path,
		          why ? why : err_str(rc));
	c->err = rc;
	return rc;
}

/* The next page: 1, 0 at the end of the file, < 0 on an error. */
static int read_page(struct enccache *c, ogg_page *og)
{
	for (;;) {
		int rc = ogg_sync_pageout(&c->oy, og);
		char *p;
		ssize_t n;

		if (rc == 1)
			return 1;
		if (rc < 0)
			return fail_read(c, -ERR_FORMAT,
			                 "not a clean Ogg page");
		p = ogg_sync_buffer(&c->oy, READ_CHUNK);
		if (!p)
			return fail_read(c, -ENOMEM, NULL);
		do
			n = read(c->fd, p, READ_CHUNK);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return fail_read(c, -errno, NULL);
		if (n == 0)
			return 0;
		ogg_sync_wrote(&c->oy, (long)n);
	}
}

/*
 * Takes the next audio packet out of the stream into *op, with R(i) in
 * c->r: 0, 1 past the end, < 0 on damage. op's data stays valid until the
 * next page goes in, that is until the next call.
 */
static int take_packet(struct enccache *c, ogg_packet *op)
{
	long bs;

	if (c->err)
		return c->err;
	if (c->eos)
		return 1;
	for (;;) {
		ogg_page og;
		int rc = ogg_stream_packetout(&c->os, op);

		if (rc == 1)
			break;
		if (rc < 0)
			return fail_read(c, -ERR_FORMAT, "a packet is missing");
		rc = read_page(c, &og);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return fail_read(c, -ERR_FORMAT,
			                 "the file ends before its last page");
		if (ogg_stream_pagein(&c->os, &og) < 0)
			return fail_read(c, -ERR_FORMAT,
			                 "a page of another stream");
	}
	bs = vorbis_packet_blocksize(&c->vi, op);
	if (bs <= 0)
		return fail_read(c, -ERR_FORMAT, "not a Vorbis audio packet");
	/* The first packet only primes the overlap; each later one ends a
	 * quarter of its own block and of the previous one further on. */
	if (c->prev_bs)
		c->r += c->prev_bs / 4 + bs / 4;
	c->prev_bs = bs;
	c->eos = op->e_o_s != 0;
	return 0;
}

/* Back to the first audio packet. */
static int rewind_audio(struct enccache *c)
{
	if (lseek(c->fd, c->audio_at, SEEK_SET) < 0)
		return fail_read(c, -errno, NULL);
	ogg_sync_reset(&c->oy);
	ogg_stream_reset(&c->os);
	c->r = 0;
	c->prev_bs = 0;
	c->eos = c->started = c->have_prev = c->pending = false;
	return 0;
}

/* Takes the next packet and works out where it ends, checking it against
 * the page's granule position where the page has one. */
static int take(struct enccache *c, ogg_packet *op)
{
	int rc = take_packet(c, op);

	if (rc != 0)
		return rc;
	if (c->started) {
		c->prev_end = c->last_end;
		c->have_prev = true;
	}
	c->started = true;
	c->last_end = c->r + c->anchor;
	if (op->granulepos >= 0 && !op->e_o_s && op->granulepos != c->last_end)
		return fail_read(c, -ERR_FORMAT,
		                 "granule positions disagree with block sizes");
	return 0;
}

static unsigned long long clamp_end(const struct enccache *c, int64_t end)
{
	if (end < 0)
		return 0;
	return (unsigned long long)end < c->frames ? (unsigned long long)end
	                                           : c->frames;
}

int enccache_next(struct enccache *c, struct enccache_packet *pkt)
{
	int rc;

	if (!c->pending) {
		rc = take(c, &c->pend);
		if (rc != 0)
			return rc;
	}
	c->pending = false;
	pkt->data = c->pend.packet;
	pkt->len = c->pend.bytes;
	pkt->end = clamp_end(c, c->last_end);
	return 0;
}

int enccache_seek(struct enccache *c, unsigned long long frame)
{
	int64_t f = frame > INT64_MAX ? INT64_MAX : (int64_t)frame;
	int rc;

	if (c->err)
		return c->err;
	if (frame > c->frames) {
		/* Nothing ends there: at the end without reading to it, so
		 * the next packet is none and any seek back rewinds. */
		c->started = c->eos = true;
		c->pending = false;
		c->last_end = INT64_MAX;
		return -ERR_EMPTY;
	}
	if (c->started && f <= c->last_end) {
		/* The packet wanted was taken already: the pending one, or
		 * one before it. */
		if (c->pending && (!c->have_prev || c->prev_end < f))
			return 0;
		rc = rewind_audio(c);
		if (rc < 0)
			return rc;
	}
	c->pending = false;
	do {
		rc = take(c, &c->pend);
		if (rc < 0)
			return rc;
		if (rc > 0)
			return -ERR_EMPTY;
	} while (c->last_end < f);
	c->pending = true;
	return 0;
}

/* The last page of the file must end it, be the stream's last (EOS) and
 * carry its length: else the file is cut short or has more after it. */
static int check_tail(struct enccache *c, int serial)
{
	ogg_sync_state oy;
	struct stat st;
	off_t from;
	size_t len, at = 0, last_end = 0;
	ogg_page og, last = {0};
	bool found = false;
	char *p;
	int rc = 0;

	if (fstat(c->fd, &st) < 0)
		return fail_read(c, -errno, NULL);
	from = st.st_size > TAIL_BYTES ? st.st_size - TAIL_BYTES : 0;
	len = (size_t)(st.st_size - from);
	ogg_sync_init(&oy);
	p = ogg_sync_buffer(&oy, (long)len);
	if (!p) {
		ogg_sync_clear(&oy);
		return fail_read(c, -ENOMEM, NULL);
	}
	if (pread(c->fd, p, len, from) != (ssize_t)len) {
		ogg_sync_clear(&oy);
		return fail_read(c, -EIO, NULL);
	}
	ogg_sync_wrote(&oy, (long)len);
	for (;;) {
		long n = ogg_sync_pageseek(&oy, &og);

		if (n == 0)
			break;
		if (n > 0) {
			found = true;
			last = og;
			last_end = at + (size_t)n;
		}
		at += (size_t)(n < 0 ? -n : n);
	}
	if (!found || last_end != len || !ogg_page_eos(&last) ||
	    ogg_page_serialno(&last) != serial ||
	    ogg_page_granulepos(&last) <= 0)
		rc = fail_read(c, -ERR_FORMAT,
		               "cut short, or not one whole Vorbis stream");
	else
		c->frames = (unsigned long long)ogg_page_granulepos(&last);
	ogg_sync_clear(&oy);
	return rc;
}

/* The three headers, each copied: they outlive the pages they came in. */
static int read_headers(struct enccache *c, int *serial)
{
	ogg_page og;
	ogg_packet op;
	int n = 0, rc;

	rc = read_page(c, &og);
	if (rc <= 0 || !ogg_page_bos(&og))
		return fail_read(c, -ERR_FORMAT, "not an Ogg stream");
	*serial = ogg_page_serialno(&og);
	ogg_stream_init(&c->os, *serial);
	c->audio_at = og.header_len + og.body_len;
	if (ogg_stream_pagein(&c->os, &og) < 0)
		return fail_read(c, -ERR_FORMAT, "not an Ogg stream");
	while (n < 3) {
		rc = ogg_stream_packetout(&c->os, &op);
		if (rc == 0) {
			rc = read_page(c, &og);
			if (rc <= 0 || ogg_stream_pagein(&c->os, &og) < 0)
				return fail_read(c, -ERR_FORMAT,
				                 "its headers are cut short");
			c->audio_at += og.header_len + og.body_len;
			continue;
		}
		if (rc < 0 ||
		    vorbis_synthesis_headerin(&c->vi, &c->vc, &op) != 0)
			return fail_read(c, -ERR_FORMAT, "not Ogg/Vorbis");
		c->hdr[n] = op;
		c->hdr[n].packet = malloc((size_t)op.bytes);
		if (!c->hdr[n].packet)
			return fail_read(c, -ENOMEM, NULL);
		memcpy(c->hdr[n].packet, op.packet, (size_t)op.bytes);
		n++;
	}
	/* Vorbis starts the audio on a page of its own, where a rewind
	 * comes back to. */
	if (c->os.lacing_returned != c->os.lacing_fill)
		return fail_read(c, -ERR_FORMAT,
		                 "audio on the setup header's page");
	return 0;
}

/* end(i) = R(i) + anchor, from the first page that ends a packet and is
 * not the last: the last one's granule may cut its final packet short. */
static int find_anchor(struct enccache *c)
{
	ogg_packet op;
	int rc;

	do {
		rc = take_packet(c, &op);
		if (rc < 0)
			return rc;
		if (rc > 0 || op.e_o_s)
			return fail_read(c, -ERR_FORMAT,
			                 "too short to place its packets");
	} while (op.granulepos < 0);
	c->anchor = op.granulepos - c->r;
	return rewind_audio(c);
}

int enccache_open(struct enccache **out, const char *dir, const char *key)
{
	struct enccache *c;
	int serial, rc;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = -1;
	c->path = malloc(strlen(dir) + ENCCACHE_KEY_LEN + 6);
	ogg_sync_init(&c->oy);
	vorbis_info_init(&c->vi);
	vorbis_comment_init(&c->vc);
	if (!c->path) {
		rc = -ENOMEM;
		goto fail;
	}
	sprintf(c->path, "%s/%.*s.ogg", dir, ENCCACHE_KEY_LEN, key);
	c->fd = open(c->path, O_RDONLY | O_CLOEXEC);
	if (c->fd < 0) {
		rc = -errno;
		if (rc != -ENOENT)
			fail_read(c, rc, NULL);
		goto fail;
	}
	rc = read_headers(c, &serial);
	if (rc == 0)
		rc = check_tail(c, serial);
	if (rc == 0)
		rc = find_anchor(c);
	if (rc < 0)
		goto fail;
	*out = c;
	return 0;
fail:
	enccache_close(c);
	return rc;
}

const ogg_packet *enccache_header(const struct enccache *c, int i)
{
	return i >= 0 && i < 3 ? &c->hdr[i] : NULL;
}

struct pcm_format enccache_format(const struct enccache *c)
{
	struct pcm_format fmt = {(unsigned)c->vi.rate,
	                         (unsigned)c->vi.channels};

	return fmt;
}

unsigned long long enccache_frames(const struct enccache *c)
{
	return c->frames;
}

void enccache_close(struct enccache *c)
{
	if (!c)
		return;
	for (int i = 0; i < 3; i++)
		free(c->hdr[i].packet);
	ogg_stream_clear(&c->os);
	ogg_sync_clear(&c->oy);
	vorbis_comment_clear(&c->vc);
	vorbis_info_clear(&c->vi);
	if (c->fd >= 0)
		close(c->fd);
	free(c->path);
	free(c);
}
