/*
 * enccache.c - music tracks kept encoded once: the key and the writer.
 *
 * The one thing to know: frame i of the file is frame i of the track as
 * the station plays it, so the limiter's delay is dropped at the start and
 * flushed out at the end. The reader, and how a packet's frame is found,
 * are in enccache_read.c.
 */
#include "enccache.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "encoder.h"
#include "err.h"
#include "limiter.h"
#include "log.h"
#include "source.h"

/* Frames decoded, levelled, limited and encoded at a time. */
#define BUILD_BLOCK_FRAMES 4096
/* In the key: a change to what a cached file holds must change this. */
#define KEY_VERSION "pulse-enccache/1"

/* ---- the key: MurmurHash3 x64 128 over the fields, streamed ---- */

struct hash {
	uint64_t h1, h2;
	unsigned char blk[16];
	size_t n, total;
};

static uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static uint64_t fmix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	return k ^ (k >> 33);
}

static uint64_t le64(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = (v << 8) | p[n];
	return v;
}

static const uint64_t C1 = 0x87c37b91114253d5ULL, C2 = 0x4cf5ad432745937fULL;

static void hash_block(struct hash *h)
{
	uint64_t k1 = le64(h->blk, 8), k2 = le64(h->blk + 8, 8);

	k1 *= C1;
	k1 = rotl(k1, 31);
	k1 *= C2;
	h->h1 ^= k1;
	h->h1 = rotl(h->h1, 27) + h->h2;
	h->h1 = h->h1 * 5 + 0x52dce729;
	k2 *= C2;
	k2 = rotl(k2, 33);
	k2 *= C1;
	h->h2 ^= k2;
	h->h2 = rotl(h->h2, 31) + h->h1;
	h->h2 = h->h2 * 5 + 0x38495ab5;
}

static void hash_bytes(struct hash *h, const void *data, size_t len)
{
	const unsigned char *p = data;

	h->total += len;
	while (len-- > 0) {
		h->blk[h->n++] = *p++;
		if (h->n == 16) {
			hash_block(h);
			h->n = 0;
		}
	}
}

/* Little-endian whatever the machine, so a key is the same everywhere. */
static void hash_u64(struct hash *h, uint64_t v)
{
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	hash_bytes(h, b, sizeof(b));
}

static void hash_float(struct hash *h, float v)
{
	uint32_t bits;

	memcpy(&bits, &v, sizeof(bits));
	hash_u64(h, bits);
}

static void hash_double(struct hash *h, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	hash_u64(h, bits);
}

static void hash_end(struct hash *h, char out[ENCCACHE_KEY_LEN + 1])
{
	uint64_t k1 = le64(h->blk, h->n < 8 ? h->n : 8);
	uint64_t k2 = h->n > 8 ? le64(h->blk + 8, h->n - 8) : 0;

	/* The tail, as MurmurHash3 mixes it. */
	if (h->n > 8) {
		k2 *= C2;
		k2 = rotl(k2, 33);
		k2 *= C1;
		h->h2 ^= k2;
	}
	if (h->n > 0) {
		k1 *= C1;
		k1 = rotl(k1, 31);
		k1 *= C2;
		h->h1 ^= k1;
	}
	h->h1 ^= (uint64_t)h->total;
	h->h2 ^= (uint64_t)h->total;
	h->h1 += h->h2;
	h->h2 += h->h1;
	h->h1 = fmix(h->h1);
	h->h2 = fmix(h->h2);
	h->h1 += h->h2;
	h->h2 += h->h1;
	snprintf(out, ENCCACHE_KEY_LEN + 1, "%016llx%016llx",
	         (unsigned long long)h->h1, (unsigned long long)h->h2);
}

void enccache_key(const struct enccache_spec *spec,
                  char key[ENCCACHE_KEY_LEN + 1])
{
	struct hash h = {0};
	size_t plen = strlen(spec->path);
	bool rule = spec->dead_air_ms > 0;

	hash_bytes(&h, KEY_VERSION, sizeof(KEY_VERSION));
	/* The length first: no two paths and what follows hash alike. */
	hash_u64(&h, plen);
	hash_bytes(&h, spec->path, plen);
	hash_u64(&h, (uint64_t)spec->size);
	hash_u64(&h, (uint64_t)spec->mtime_ns);
	hash_float(&h, spec->level);
	hash_u64(&h, spec->fmt.rate);
	hash_u64(&h, spec->fmt.channels);
	hash_u64(&h,
	         spec->enc_channels ? spec->enc_channels : spec->fmt.channels);
	hash_float(&h, spec->bitrate_kbps ? 0.0f : spec->quality);
	hash_u64(&h, spec->bitrate_kbps);
	hash_u64(&h, spec->limiter);
	hash_double(&h, spec->limiter ? spec->ceiling_dbtp : 0.0);
	hash_u64(&h, rule ? (uint64_t)spec->dead_air_ms : 0);
	hash_double(&h, rule ? spec->dead_air_db : 0.0);
	hash_end(&h, key);
}

/* ---- building ---- */

struct build {
	const struct enccache_spec *spec;
	char key[ENCCACHE_KEY_LEN + 1];
	char *final; /* DIR/KEY.ogg */
	char *tmp;   /* DIR/.KEY.ogg.XXXXXX */
	int fd;
	struct source *src;
	struct limiter *lim;
	struct encoder *enc;
	float *buf;
	size_t drop; /* limiter output frames still to drop */
	int write_errno;
};

static int write_page(void *ctx, const unsigned char *head, size_t head_len,
                      const unsigned char *body, size_t body_len)
{
	struct build *b = ctx;
	const unsigned char *parts[2] = {head, body};
	size_t lens[2] = {head_len, body_len};

	for (int i = 0; i < 2; i++) {
		while (lens[i] > 0) {
			ssize_t w = write(b->fd, parts[i], lens[i]);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				b->write_errno = w < 0 ? errno : ENOSPC;
				return -b->write_errno;
			}
			parts[i] += w;
			lens[i] -= (size_t)w;
		}
	}
	return 0;
}

/* Whether path is no longer the file spec describes (or is gone). */
static bool changed(const struct enccache_spec *spec)
{
	struct stat st;

	return stat(spec->path, &st) < 0 ||
	       (long long)st.st_size != spec->size ||
	       (long long)st.st_mtim.tv_sec * 1000000000LL +
	               st.st_mtim.tv_nsec !=
	           spec->mtime_ns;
}

/* Encodes n limited frames, less the limiter's delay still to drop. */
static int encode(struct build *b, const float *frames, size_t n)
{
	unsigned ch = b->spec->fmt.channels;
	size_t skip = b->drop < n ? b->drop : n;

	b->drop -= skip;
	if (skip == n)
		return 0;
	return enc_write(b->enc, frames + skip * ch, n - skip);
}

/* Counts frames whose peak is below floor in *quiet: true when a run of
 * them reaches limit (the player's rule, frame by frame, so no run it
 * could see goes unnoticed here). */
static bool quiet_run(const float *f, size_t n, unsigned ch, float floor,
                      unsigned long long *quiet, unsigned long long limit)
{
	for (size_t i = 0; i < n; i++) {
		float peak = 0.0f;

		for (unsigned c = 0; c < ch; c++)
			if (fabsf(f[i * ch + c]) > peak)
				peak = fabsf(f[i * ch + c]);
		*quiet = peak < floor ? *quiet + 1 : 0;
		if (*quiet >= limit)
			return true;
	}
	return false;
}

static unsigned long long ms_to_frames(int64_t ms, unsigned rate)
{
	return (unsigned long long)((ms * (int64_t)rate + 500) / 1000);
}

/* Reads, levels, checks, limits and encodes the whole file: 0, 1 (not
 * worth caching) or a negative code (logged). */
static int run(struct build *b, const volatile int *stop)
{
	const struct enccache_spec *spec = b->spec;
	unsigned ch = spec->fmt.channels;
	float quiet_floor = (float)pow(10.0, spec->dead_air_db / 20.0);
	unsigned long long quiet = 0, total = 0;
	unsigned long long limit =
	    ms_to_frames(spec->dead_air_ms, spec->fmt.rate);
	size_t tail;
	int rc;

	for (;;) {
		long n;

		if (stop && *stop)
			return -EINTR;
		n = source_read(b->src, b->buf, BUILD_BLOCK_FRAMES);
		if (n < 0)
			return changed(spec) ? 1 : (int)n; /* the source said */
		if (n == 0)
			break;
		total += (unsigned long long)n;
		if (spec->level != 1.0f)
			for (size_t i = 0; i < (size_t)n * ch; i++)
				b->buf[i] *= spec->level;
		if (spec->dead_air_ms > 0 &&
		    quiet_run(b->buf, (size_t)n, ch, quiet_floor, &quiet,
		              limit))
			return 1;
		if (b->lim)
			limiter_process(b->lim, b->buf, (size_t)n);
		rc = encode(b, b->buf, (size_t)n);
		if (rc < 0)
			return rc;
	}
	if (total < ms_to_frames(ENCCACHE_MIN_MS, spec->fmt.rate))
		return 1;
	/* What the limiter still holds: the last frames of the track. */
	tail = b->lim ? limiter_latency(b->lim) : 0;
	while (tail > 0) {
		size_t n =
		    tail < BUILD_BLOCK_FRAMES ? tail : BUILD_BLOCK_FRAMES;

		memset(b->buf, 0, n * ch * sizeof(*b->buf));
		limiter_process(b->lim, b->buf, n);
		rc = encode(b, b->buf, n);
		if (rc < 0)
			return rc;
		tail -= n;
	}
	rc = enc_end(b->enc);
	if (rc < 0)
		return rc;
	if (fsync(b->fd) < 0) {
		b->write_errno = errno;
		return -errno;
	}
	rc = close(b->fd);
	b->fd = -1;
	if (rc < 0) {
		b->write_errno = errno;
		return -b->write_errno;
	}
	return changed(spec) ? 1 : 0;
}

/* DIR/KEY.ogg, or the name of a temporary file for it. */
static char *cache_path(const char *dir, const char *key, bool tmp)
{
	size_t len = strlen(dir) + ENCCACHE_KEY_LEN + 16;
	char *p = malloc(len);

	if (p)
		snprintf(p, len, tmp ? "%s/.%s.ogg.XXXXXX" : "%s/%s.ogg", dir,
		         key);
	return p;
}

static void build_free(struct build *b)
{
	enc_free(b->enc);
	limiter_free(b->lim);
	source_close(b->src);
	if (b->fd >= 0)
		close(b->fd);
	free(b->buf);
	free(b->tmp);
	free(b->final);
}

int enccache_build(const char *dir, const struct enccache_spec *spec,
                   const volatile int *stop)
{
	struct build b = {.spec = spec, .fd = -1};
	unsigned ch = spec->fmt.channels;
	struct enc_config cfg = {
	    .fmt = {spec->fmt.rate,
	            spec->enc_channels ? spec->enc_channels : ch},
	    .quality = spec->quality,
	    .bitrate_kbps = spec->bitrate_kbps,
	    .in_channels = ch,
	};
	struct enc_sink sink = {write_page, &b};
	bool tmp_made = false;
	int rc;

	if (changed(spec) && access(spec->path, F_OK) == 0)
		return 1;
	enccache_key(spec, b.key);
	b.final = cache_path(dir, b.key, false);
	b.tmp = cache_path(dir, b.key, true);
	b.buf = malloc(BUILD_BLOCK_FRAMES * ch * sizeof(*b.buf));
	if (!b.final || !b.tmp || !b.buf) {
		log_error("encoded cache: %s: out of memory", spec->path);
		rc = -ENOMEM;
		goto fail;
	}
	rc = source_open(&b.src, spec->path, &spec->fmt);
	if (rc < 0)
		goto fail; /* the source said why */
	if (spec->limiter) {
		rc =
		    limiter_new(&b.lim, spec->fmt.rate, ch, spec->ceiling_dbtp);
		if (rc < 0) {
			log_error(
			    "encoded cache: %s: no limiter at %.1f dBTP (%s)",
			    spec->path, spec->ceiling_dbtp, err_str(rc));
			goto fail;
		}
		b.drop = limiter_latency(b.lim);
	}
	b.fd = mkstemp(b.tmp);
	if (b.fd < 0) {
		rc = -errno;
		log_error("encoded cache: %s: cannot create a file in %s: %s",
		          spec->path, dir, strerror(errno));
		goto fail;
	}
	tmp_made = true;
	/* The daemon starts helpers: they need not hold cache files open. */
	fcntl(b.fd, F_SETFD, FD_CLOEXEC);
	rc = enc_new(&b.enc, &cfg, &sink);
	if (rc < 0)
		goto fail; /* the encoder said why */
	rc = enc_begin(b.enc, NULL, NULL);
	if (rc < 0 && !b.write_errno) {
		log_error("encoded cache: %s: cannot start encoding (%s)",
		          spec->path, err_str(rc));
		goto fail;
	}
	if (rc >= 0)
		rc = run(&b, stop);
	if (rc == 0 && rename(b.tmp, b.final) < 0) {
		b.write_errno = errno;
		rc = -errno;
	}
	/* Every other failure was logged where it happened (the source,
	 * the encoder's setup), or is a stop asked for (-EINTR). */
	if (rc < 0 && b.write_errno)
		log_error("encoded cache: %s: cannot write %s: %s", spec->path,
		          b.final, strerror(b.write_errno));
fail:
	if (rc != 0 && tmp_made)
		unlink(b.tmp);
	build_free(&b);
	return rc;
}
