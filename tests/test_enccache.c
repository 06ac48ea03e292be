/*
 * test_enccache.c - the encoding cache, on real audio, checked by decoding.
 *
 * A 35 s WAV of tones, noise and clicks (the clicks make libvorbis switch
 * between short and long blocks) is built into the cache; the file is
 * decoded with libvorbisfile and compared with the source, levelled, frame
 * for frame (not shifted by the limiter's delay). The crux: links made of
 * the cache's headers and its packets from any seek point decode bit for
 * bit to the full decode's frames from that packet's `end` on. Then what
 * is not worth caching, failures, and damaged cache files.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ogg/ogg.h>
#include <vorbis/codec.h>
#include <vorbis/vorbisfile.h>

#include "enccache.h"
#include "err.h"
#include "limiter.h"
#include "log.h"
#include "srctest.h"
#include "testutil.h"

#define RATE 44100
#define CH 2
#define LEVEL 0.8f
#define SECONDS 35.0
/* Lags tried for the alignment (the limiter delays by 223 frames). */
#define MAX_LAG 500
#define WINDOW (RATE / 4)

/* ---- fixtures ---- */

/* Tones under a slow swell, a little noise, and a click every 0.7 s. */
static double signal(size_t i, unsigned c, uint32_t *seed)
{
	double t = (double)i / RATE;
	double swell = 0.6 + 0.4 * sin(2 * M_PI * 0.3 * t);
	double v = c == 0 ? 0.25 * sin(2 * M_PI * 440 * t) +
	                        0.10 * sin(2 * M_PI * 1250 * t)
	                  : 0.20 * sin(2 * M_PI * 660 * t) +
	                        0.10 * sin(2 * M_PI * 3100 * t);
	double noise;

	*seed = *seed * 1664525u + 1013904223u;
	noise = ((double)(*seed >> 8) / (1 << 24) - 0.5) * 0.06;
	v = v * swell + noise;
	if (i % (RATE * 7 / 10) < RATE / 200)
		v += noise * 8;
	return v;
}

/* A 16-bit WAV of the signal, silent over [quiet_from, quiet_to) s. */
static void write_fixture(const char *path, double seconds, double quiet_from,
                          double quiet_to)
{
	size_t frames = (size_t)lround(seconds * RATE);
	uint32_t data_len = (uint32_t)(frames * CH * 2), seed = 1;
	struct buf b = {0};

	put(&b, "RIFF", 4);
	put_le(&b, 36 + data_len, 4);
	put(&b, "WAVEfmt ", 8);
	put_le(&b, 16, 4);
	put_le(&b, 1, 2);
	put_le(&b, CH, 2);
	put_le(&b, RATE, 4);
	put_le(&b, RATE * CH * 2, 4);
	put_le(&b, CH * 2, 2);
	put_le(&b, 16, 2);
	put(&b, "data", 4);
	put_le(&b, data_len, 4);
	for (size_t i = 0; i < frames; i++) {
		double t = (double)i / RATE;

		for (unsigned c = 0; c < CH; c++) {
			double v = signal(i, c, &seed);

			if (t >= quiet_from && t < quiet_to)
				v = 0;
			put_le(&b, (uint16_t)(int16_t)lround(v * 32767), 2);
		}
	}
	CHECK(test_write_file(path, b.p, b.len) == 0);
	free(b.p);
}

static struct enccache_spec spec_for(const char *path)
{
	struct enccache_spec s = {
	    .path = path,
	    .level = LEVEL,
	    .fmt = {RATE, CH},
	    .quality = 0.4f,
	    .limiter = true,
	    .ceiling_dbtp = -2.0,
	    .dead_air_ms = 5000,
	    .dead_air_db = -50,
	};
	struct stat st;

	if (stat(path, &st) == 0) {
		s.size = (long long)st.st_size;
		s.mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL +
		             st.st_mtim.tv_nsec;
	}
	return s;
}

/* Files in dir (if a dir) but keep; prints each. */
static int stray_files(const char *dir, const char *keep)
{
	char cmd[1024];
	struct stat st;
	FILE *p;
	int n = 0;

	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	snprintf(cmd, sizeof(cmd), "ls -A '%s'", dir);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(cmd, sizeof(cmd), p)) {
		cmd[strcspn(cmd, "\n")] = '\0';
		if (keep && strcmp(cmd, keep) == 0)
			continue;
		printf("  in %s: %s\n", dir, cmd);
		n++;
	}
	pclose(p);
	return n;
}

/* Decodes a whole Ogg/Vorbis file (its first link) to interleaved floats. */
static bool decode_ogg(const char *path, struct pcm *out)
{
	OggVorbis_File vf;
	size_t cap = 1 << 16;
	int bs;

	memset(out, 0, sizeof(*out));
	if (ov_fopen(path, &vf) != 0)
		return false;
	out->channels = (unsigned)ov_info(&vf, -1)->channels;
	out->f = malloc(cap * out->channels * sizeof(float));
	for (;;) {
		float **pcm;
		long n = ov_read_float(&vf, &pcm, 4096, &bs);

		if (n == OV_HOLE)
			continue;
		if (n <= 0) {
			out->rc = n;
			break;
		}
		if (bs != 0)
			break; /* a second link: not ours */
		if (out->frames + (size_t)n > cap) {
			cap = 2 * (out->frames + (size_t)n);
			out->f = realloc(out->f,
			                 cap * out->channels * sizeof(float));
		}
		for (long i = 0; i < n; i++)
			for (unsigned c = 0; c < out->channels; c++)
				out->f[(out->frames + (size_t)i) *
				           out->channels +
				       c] = pcm[c][i];
		out->frames += (size_t)n;
	}
	ov_clear(&vf);
	return true;
}

/* Squared error of out against level * in shifted by lag frames, over
 * frames [from, from + n) of out. */
static double error_at(const struct pcm *out, const struct pcm *in, long lag,
                       size_t from, size_t n)
{
	double e = 0;

	for (size_t i = from; i < from + n; i++)
		for (unsigned c = 0; c < CH; c++) {
			double d =
			    (double)out->f[i * CH + c] -
			    (double)LEVEL *
			        (double)in->f[(size_t)((long)i + lag) * CH + c];
			e += d * d;
		}
	return e;
}

static double energy(const struct pcm *p, size_t from, size_t n)
{
	double e = 0;

	for (size_t i = from * CH; i < (from + n) * CH; i++)
		e += (double)p->f[i] * (double)p->f[i];
	return e;
}

/* ---- 1. keys ---- */

static void test_key(void)
{
	struct enccache_spec a = spec_for("/music/a.mp3"), b;
	char ka[ENCCACHE_KEY_LEN + 1], kb[ENCCACHE_KEY_LEN + 1];
	int changes = 0;

	a.size = 1234567;
	a.mtime_ns = 1700000000123456789LL;
	enccache_key(&a, ka);
	CHECKF(strlen(ka) == ENCCACHE_KEY_LEN &&
	           strspn(ka, "0123456789abcdef") == ENCCACHE_KEY_LEN,
	       "key %s", ka);
	/* Stable: the same spec (another copy of the path) gives it again,
	 * and this one always gives this value. */
	b = a;
	b.path = strdup("/music/a.mp3");
	enccache_key(&b, kb);
	CHECK(strcmp(ka, kb) == 0);
	free((char *)b.path);
	printf("key of the reference spec: %s\n", ka);
	CHECKF(strcmp(ka, "7cd7e9c5bc5a3c9798951a619d013e80") == 0,
	       "the key changed: %s (cache files would all be rebuilt)", ka);

#define DIFFERS(field_change)                                                  \
	do {                                                                   \
		b = a;                                                         \
		field_change;                                                  \
		enccache_key(&b, kb);                                          \
		CHECKF(strcmp(ka, kb) != 0, "same key after %s",               \
		       #field_change);                                         \
		changes++;                                                     \
	} while (0)
	DIFFERS(b.path = "/music/b.mp3");
	DIFFERS(b.path = "/music/a.mp");
	DIFFERS(b.size++);
	DIFFERS(b.mtime_ns++);
	DIFFERS(b.level = nextafterf(b.level, 2.0f));
	DIFFERS(b.fmt.rate = 48000);
	DIFFERS(b.fmt.channels = 1);
	DIFFERS(b.enc_channels = 1);
	DIFFERS(b.quality = 0.5f);
	DIFFERS(b.bitrate_kbps = 128);
	DIFFERS(b.limiter = false);
	DIFFERS(b.ceiling_dbtp = -1.0);
	DIFFERS(b.dead_air_ms = 4000);
	DIFFERS(b.dead_air_db = -60);
	DIFFERS(b.dead_air_ms = 0);
#undef DIFFERS
	/* What cannot change the file does not change the key. */
	b = a;
	b.enc_channels = CH;
	enccache_key(&b, kb);
	CHECK(strcmp(ka, kb) == 0);
	a.bitrate_kbps = b.bitrate_kbps = 128;
	b.quality = 0.9f;
	enccache_key(&a, ka);
	enccache_key(&b, kb);
	CHECK(strcmp(ka, kb) == 0);
	a.limiter = b.limiter = false;
	b.ceiling_dbtp = -5;
	enccache_key(&a, ka);
	enccache_key(&b, kb);
	CHECK(strcmp(ka, kb) == 0);
	printf("keys: %d changes, each another key\n", changes);
}

/* ---- 2. a build, decoded ---- */

static char built_key[ENCCACHE_KEY_LEN + 1];
static const char *cache_dir;
static struct pcm full; /* the cache file, decoded */
static int splices;     /* links checked */
static bool verbose = true;

static void test_build(const char *wav)
{
	struct enccache_spec s = spec_for(wav);
	struct pcm in;
	char path[600];
	struct stat st;
	struct timespec t0, t1;
	double e_self, best = INFINITY;
	long best_lag = 99999;
	struct limiter *lim;
	int rc;

	cache_dir = fixture("cache");
	CHECK(mkdir(cache_dir, 0755) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = enccache_build(cache_dir, &s, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECKF(rc == 0, "build: %d (%s)", rc, err_str(rc));
	enccache_key(&s, built_key);
	snprintf(path, sizeof(path), "%s/%s.ogg", cache_dir, built_key);
	CHECK(stat(path, &st) == 0);
	printf("build of %.0f s: %.2f s, %lld bytes (%.0f kbit/s)\n", SECONDS,
	       (double)(t1.tv_sec - t0.tv_sec) +
	           (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	       (long long)st.st_size, (double)st.st_size * 8 / SECONDS / 1000);
	snprintf(path, sizeof(path), "%s.ogg", built_key);
	CHECK(stray_files(cache_dir, path) == 0);

	snprintf(path, sizeof(path), "%s/%s.ogg", cache_dir, built_key);
	CHECK(decode_ogg(path, &full));
	CHECK(decode_file(wav, RATE, CH, &in, NULL) == 0);
	CHECKF(full.frames == in.frames && in.frames == SECONDS * RATE,
	       "decoded %zu frames, source %zu", full.frames, in.frames);
	CHECK(full.channels == CH);
	/* The lags tried include the limiter's delay, twice over. */
	if (limiter_new(&lim, RATE, CH, -2.0) == 0) {
		CHECK(2 * limiter_latency(lim) < MAX_LAG);
		limiter_free(lim);
	}
	if (full.frames != in.frames || full.frames < 30 * RATE) {
		free(in.f);
		return;
	}
	/* Frame i is the source's frame i, levelled: the error is least at
	 * lag 0 among all lags within MAX_LAG, in a window at the start, in
	 * the middle and at the very end. */
	for (int w = 0; w < 3; w++) {
		size_t from = w == 0   ? MAX_LAG
		              : w == 1 ? full.frames / 2
		                       : full.frames - WINDOW - MAX_LAG;

		best = INFINITY;
		for (long lag = -MAX_LAG; lag <= MAX_LAG; lag++) {
			double e = error_at(&full, &in, lag, from, WINDOW);

			if (e < best) {
				best = e;
				best_lag = lag;
			}
		}
		e_self = energy(&full, from, WINDOW);
		CHECKF(best_lag == 0, "window %d: best lag %ld", w, best_lag);
		CHECKF(10 * log10(e_self / best) > 15, "window %d: SNR %.1f dB",
		       w, 10 * log10(e_self / best));
		printf("window %d: SNR %.1f dB at lag %ld\n", w,
		       10 * log10(e_self / best), best_lag);
	}
	/* And the whole file's level is the source's times LEVEL. */
	CHECKF(near(sqrt(energy(&full, 0, full.frames)),
	            (double)LEVEL * sqrt(energy(&in, 0, in.frames)), 0.05),
	       "level");
	free(in.f);
}

/* ---- 3. links from any packet: exact ---- */

static void put_pages(ogg_stream_state *os, FILE *f, bool flush)
{
	ogg_page og;

	while (flush ? ogg_stream_flush(os, &og) : ogg_stream_pageout(os, &og))
		CHECK(fwrite(og.header, 1, (size_t)og.header_len, f) ==
		          (size_t)og.header_len &&
		      fwrite(og.body, 1, (size_t)og.body_len, f) ==
		          (size_t)og.body_len);
}

/*
 * From a seek to frame f: a link of the packets from there up to frame e
 * (0: the end of the file), decoded, equals full[end(k), e).
 */
static void splice(struct enccache *c, unsigned long long f,
                   unsigned long long e, int serial)
{
	const char *path = fixture("link.ogg");
	struct enccache_packet pk;
	ogg_stream_state os;
	ogg_packet op;
	unsigned long long k_end = 0, prev = 0;
	long block = 0, n = 0;
	struct pcm link;
	FILE *out;
	int rc;
	vorbis_info vi;
	vorbis_comment vc;

	/* The long block, from the headers as a consumer would have them. */
	vorbis_info_init(&vi);
	vorbis_comment_init(&vc);
	for (int i = 0; i < 3; i++) {
		ogg_packet h = *enccache_header(c, i);

		CHECK(vorbis_synthesis_headerin(&vi, &vc, &h) == 0);
	}
	block = vorbis_info_blocksize(&vi, 1);
	vorbis_comment_clear(&vc);
	vorbis_info_clear(&vi);

	if (!e)
		e = enccache_frames(c);
	rc = enccache_seek(c, f);
	CHECKF(rc == 0, "seek %llu: %d", f, rc);
	if (rc != 0)
		return;
	out = fopen(path, "wb");
	ogg_stream_init(&os, serial);
	for (int i = 0; i < 3; i++) {
		op = *enccache_header(c, i);
		ogg_stream_packetin(&os, &op);
	}
	put_pages(&os, out, true);
	while ((rc = enccache_next(c, &pk)) == 0) {
		if (n == 0) {
			k_end = pk.end;
			CHECKF(
			    k_end >= f && k_end - f < (unsigned long long)block,
			    "seek %llu: first packet ends at %llu", f, k_end);
		} else {
			CHECKF(pk.end > prev || pk.end == enccache_frames(c),
			       "ends %llu then %llu", prev, pk.end);
		}
		memset(&op, 0, sizeof(op));
		op.packet = (unsigned char *)pk.data;
		op.bytes = pk.len;
		op.packetno = 3 + n++;
		op.e_o_s = pk.end >= e;
		op.granulepos = (ogg_int64_t)((op.e_o_s ? e : pk.end) - k_end);
		ogg_stream_packetin(&os, &op);
		put_pages(&os, out, false);
		prev = pk.end;
		if (op.e_o_s)
			break;
	}
	CHECKF(rc == 0, "next: %d before frame %llu", rc, e);
	put_pages(&os, out, true);
	ogg_stream_clear(&os);
	fclose(out);

	CHECK(decode_ogg(path, &link));
	CHECKF(link.frames == e - k_end, "link from %llu to %llu: %zu frames",
	       k_end, e, link.frames);
	if (link.frames == e - k_end && e <= full.frames) {
		bool same = memcmp(link.f, full.f + k_end * CH,
		                   link.frames * CH * sizeof(float)) == 0;
		CHECKF(same, "link from %llu to %llu differs from the file",
		       k_end, e);
		if (verbose || !same)
			printf("seek %llu: %ld packets, link [%llu, %llu) %s\n",
			       f, n, k_end, e, same ? "bit exact" : "DIFFERS");
		splices++;
	}
	free(link.f);
}

static void test_packets(void)
{
	struct enccache *c = NULL;
	struct enccache_packet pk;
	struct pcm_format fmt;
	unsigned long long prev = 0, first_end = 0;
	size_t n = 0, bad = 0, blocks[2] = {0, 0};
	vorbis_info vi;
	vorbis_comment vc;
	ogg_packet op;
	uint32_t seed = 3;
	int rc;

	rc = enccache_open(&c, cache_dir, built_key);
	CHECKF(rc == 0, "open: %d", rc);
	if (rc != 0)
		return;
	vorbis_info_init(&vi);
	vorbis_comment_init(&vc);
	for (int i = 0; i < 3; i++) {
		op = *enccache_header(c, i);
		CHECK(vorbis_synthesis_headerin(&vi, &vc, &op) == 0);
	}
	memset(&op, 0, sizeof(op));
	fmt = enccache_format(c);
	CHECK(fmt.rate == RATE && fmt.channels == CH);
	CHECKF(enccache_frames(c) == full.frames, "frames %llu",
	       enccache_frames(c));
	/* Every packet in order: ends rising to the file's length. */
	while ((rc = enccache_next(c, &pk)) == 0) {
		if (n++ == 0)
			first_end = pk.end;
		else if (pk.end <= prev && pk.end != enccache_frames(c))
			bad++;
		CHECK(pk.len > 0 && pk.data);
		op.packet = (unsigned char *)pk.data;
		op.bytes = pk.len;
		blocks[vorbis_packet_blocksize(&vi, &op) ==
		       vorbis_info_blocksize(&vi, 1)]++;
		prev = pk.end;
	}
	vorbis_comment_clear(&vc);
	vorbis_info_clear(&vi);
	CHECK(rc == 1);
	CHECK(bad == 0);
	/* Both block sizes, so the links below start on either. */
	CHECKF(blocks[0] > 10 && blocks[1] > 10, "%zu short, %zu long blocks",
	       blocks[0], blocks[1]);
	CHECKF(first_end == 0, "the first packet ends at %llu", first_end);
	CHECKF(prev == enccache_frames(c), "the last ends at %llu", prev);
	printf("%zu packets (%zu short, %zu long blocks), the last ending at "
	       "%llu\n",
	       n, blocks[0], blocks[1], prev);

	/* Forward, back (a rewind) and forward again; a frame exactly on a
	 * packet's end, inside one, the start, the very end. */
	splice(c, 3 * RATE, 6 * RATE, 11);
	splice(c, (unsigned long long)(10.001 * RATE), 14 * RATE + 77, 12);
	splice(c, 20 * RATE, 23 * RATE, 13);
	splice(c, 3 * RATE, 3 * RATE + 5000, 14);
	splice(c, 0, 2 * RATE, 15);
	splice(c, 30 * RATE, 0, 16);
	splice(c, 30 * RATE + 1, 0, 17);
	/* Anywhere, back and forth: short links from 30 random frames. */
	verbose = false;
	for (int i = 0; i < 30; i++) {
		unsigned long long f;

		seed = seed * 1664525u + 1013904223u;
		f = (seed >> 8) % (unsigned long long)(full.frames - RATE);
		splice(c, f, f + RATE / 2 + i * 97, 100 + i);
	}
	verbose = true;
	printf("%d links checked\n", splices);
	/* Seeking to the frame a packet ends at gives that packet. */
	CHECK(enccache_seek(c, 12 * RATE) == 0 && enccache_next(c, &pk) == 0);
	prev = pk.end;
	CHECK(enccache_seek(c, prev) == 0 && enccache_next(c, &pk) == 0 &&
	      pk.end == prev);
	CHECK(enccache_seek(c, prev + 1) == 0 && enccache_next(c, &pk) == 0 &&
	      pk.end > prev);
	CHECK(enccache_seek(c, enccache_frames(c) + 1) == -ERR_EMPTY);
	CHECK(enccache_next(c, &pk) == 1);
	enccache_close(c);
}

/* ---- 4. not worth caching, and failures ---- */

static void expect_build(const char *what, const char *dir,
                         const struct enccache_spec *s, const int *stop,
                         int want, int want_lines)
{
	char log[4096];
	int rc, lines;

	capture_begin();
	rc = enccache_build(dir, s, (const volatile int *)stop);
	lines = capture_end(log, sizeof(log));
	CHECKF(want < 0 && want != -EINTR ? rc < 0 : rc == want,
	       "%s: %d (%s), want %d", what, rc, err_str(rc), want);
	CHECKF(lines == want_lines, "%s: %d log lines", what, lines);
	if (want_lines)
		CHECKF(strstr(log, s->path) != NULL, "%s: no path in the log",
		       what);
	CHECKF(stray_files(dir, NULL) == 0, "%s: files left", what);
}

static void test_refusals(const char *wav)
{
	const char *dir = fixture("refused");
	const char *shortwav = fixture("short.wav");
	const char *quiet = fixture("quiet.wav");
	const char *junk = fixture("junk.mp3");
	const char *cut = fixture("cut.wav");
	struct enccache_spec s;
	unsigned char bytes[50000];
	uint32_t seed = 7;
	int stop = 1;

	CHECK(mkdir(dir, 0755) == 0);
	write_fixture(shortwav, 19.5, 0, 0);
	s = spec_for(shortwav);
	expect_build("19.5 s", dir, &s, NULL, 1, 0);

	write_fixture(quiet, SECONDS, 12, 18);
	s = spec_for(quiet);
	expect_build("6 s of silence", dir, &s, NULL, 1, 0);
	/* The rule is the player's: 6 s is not 7 s. */
	s.dead_air_ms = 7000;
	CHECK(enccache_build(dir, &s, NULL) == 0);
	CHECK(test_run("rm '%s'/*.ogg", dir) == 0);

	s = spec_for(wav);
	s.mtime_ns++;
	expect_build("changed", dir, &s, NULL, 1, 0);
	s = spec_for(wav);
	expect_build("stopped", dir, &s, &stop, -EINTR, 0);

	for (size_t i = 0; i < sizeof(bytes); i++) {
		seed = seed * 1664525u + 1013904223u;
		bytes[i] = (unsigned char)(seed >> 24);
	}
	CHECK(test_write_file(junk, bytes, sizeof(bytes)) == 0);
	s = spec_for(junk);
	expect_build("random bytes", dir, &s, NULL, -ERR_FORMAT, 1);
	write_fixture(cut, SECONDS, 0, 0);
	CHECK(truncate(cut, 30) == 0);
	s = spec_for(cut);
	expect_build("WAV cut in its header", dir, &s, NULL, -ERR_FORMAT, 1);

	s = spec_for(wav);
	expect_build("no such dir", fixture("nowhere"), &s, NULL, -ENOENT, 1);
}

/* A full disk: /dev/full is no dir, so a cache on a tiny tmpfs would be
 * needed (root and mount); the sink's -ENOSPC path is the same write()
 * failing as for the file output (test_encoder.c). Here: unwritable. */
static void test_unwritable(const char *wav)
{
	struct enccache_spec s = spec_for(wav);
	const char *file = fixture("plain-file");

	CHECK(test_write_file(file, "x", 1) == 0);
	expect_build("a file for a dir", file, &s, NULL, -ENOTDIR, 1);
}

/* ---- 5. opening what is not a good cache file ---- */

static void expect_open(const char *what, const char *dir, const char *key,
                        int want, int want_lines)
{
	struct enccache *c = NULL;
	char log[2048];
	int rc, lines;

	capture_begin();
	rc = enccache_open(&c, dir, key);
	lines = capture_end(log, sizeof(log));
	CHECKF(rc == want, "%s: %d (%s), want %d", what, rc, err_str(rc), want);
	CHECK(c == NULL);
	CHECKF(lines == want_lines, "%s: %d log lines", what, lines);
	enccache_close(c);
}

static void test_damaged(void)
{
	const char *dir = fixture("damaged");
	char src[600], dst[600], log[2048];
	const char *cut = "00000000000000000000000000000001";
	const char *junk = "00000000000000000000000000000002";
	const char *flip = "00000000000000000000000000000003";
	struct enccache *c = NULL;
	struct enccache_packet pk;
	struct stat st;
	int rc, lines;
	FILE *f;

	CHECK(mkdir(dir, 0755) == 0);
	expect_open("missing", dir, built_key, -ENOENT, 0);

	snprintf(src, sizeof(src), "%s/%s.ogg", cache_dir, built_key);
	CHECK(stat(src, &st) == 0);
	snprintf(dst, sizeof(dst), "%s/%s.ogg", dir, cut);
	CHECK(test_run("cp '%s' '%s'", src, dst) == 0);
	CHECK(truncate(dst, st.st_size / 2) == 0);
	expect_open("cut in half", dir, cut, -ERR_FORMAT, 1);

	snprintf(dst, sizeof(dst), "%s/%s.ogg", dir, junk);
	CHECK(test_write_file(dst, "OggS but not really, no", 24) == 0);
	expect_open("garbage", dir, junk, -ERR_FORMAT, 1);

	/* Damage in the middle: it opens (its ends are whole), and reading
	 * stops with an error there, once logged. */
	snprintf(dst, sizeof(dst), "%s/%s.ogg", dir, flip);
	CHECK(test_run("cp '%s' '%s'", src, dst) == 0);
	f = fopen(dst, "r+b");
	fseek(f, st.st_size / 2, SEEK_SET);
	fwrite("damage", 1, 6, f);
	fclose(f);
	capture_begin();
	rc = enccache_open(&c, dir, flip);
	if (rc == 0) {
		while ((rc = enccache_next(c, &pk)) == 0)
			;
		CHECK(enccache_next(c, &pk) == rc);
		CHECK(enccache_seek(c, 0) == rc);
	}
	lines = capture_end(log, sizeof(log));
	CHECKF(rc == -ERR_FORMAT, "damaged in the middle: %d", rc);
	CHECKF(lines == 1, "damaged in the middle: %d lines", lines);
	enccache_close(c);
	enccache_close(NULL);
}

int main(void)
{
	const char *wav = fixture("music.wav");

	log_set_level(LOG_LEVEL_INFO);
	test_key();
	write_fixture(wav, SECONDS, 0, 0);
	test_build(wav);
	if (full.frames)
		test_packets();
	test_refusals(wav);
	test_unwritable(wav);
	if (full.frames)
		test_damaged();
	free(full.f);
	srctest_free();
	return test_done();
}
