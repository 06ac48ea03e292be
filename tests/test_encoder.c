/*
 * test_encoder.c - the encoder and the file output, checked by decoding.
 *
 * A sine made in memory is encoded as three chained items; the result is
 * decoded with libvorbisfile (links, tags, exact frame counts, RMS) and
 * checked with the real client ogginfo, at 44100 and 48000 Hz, mono and
 * stereo, quality and bitrate modes. The file output gets the same checks
 * plus its failures: a missing directory, a full disk (/dev/full).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vorbis/vorbisfile.h>

#include "encoder.h"
#include "err.h"
#include "log.h"
#include "output.h"
#include "testutil.h"

#define FREQ_HZ 440.0
#define AMPLITUDE 0.5
#define MAX_PAGES 4096
#define MAX_LINKS 8

struct item {
	const char *title;
	const char *artist;
	size_t frames;
};

/* ---- signals ---- */

/* A sine continuing across calls; frames from frame index pos. */
static void make_sine(float *buf, size_t n, unsigned channels, unsigned rate,
                      size_t pos)
{
	for (size_t i = 0; i < n; i++) {
		double t = (double)(pos + i) / rate;
		float v = (float)(AMPLITUDE * sin(2 * M_PI * FREQ_HZ * t));

		for (unsigned c = 0; c < channels; c++)
			buf[i * channels + c] = v;
	}
}

static void make_noise(float *buf, size_t n, unsigned channels, uint32_t *seed)
{
	for (size_t i = 0; i < n * channels; i++) {
		*seed = *seed * 1664525u + 1013904223u;
		buf[i] = (float)((double)(*seed >> 8) / (1 << 24) - 0.5) * 0.6f;
	}
}

/* ---- a sink that writes pages to a file and remembers their headers ---- */

struct page_info {
	unsigned flags; /* 1 continued, 2 BOS, 4 EOS */
	uint32_t serial;
	int64_t granule;
	unsigned packets_done; /* lacing values < 255 */
	unsigned last_lacing;
};

struct collect {
	FILE *f;
	size_t n;
	struct page_info pages[MAX_PAGES];
	long fail_from; /* page index from which the sink fails, or -1 */
};

static int collect_page(void *ctx, const unsigned char *head, size_t head_len,
                        const unsigned char *body, size_t body_len)
{
	struct collect *c = ctx;
	struct page_info *p;
	unsigned segs;

	if (c->fail_from >= 0 && (long)c->n >= c->fail_from)
		return -EIO;
	if (head_len < 27 || c->n >= MAX_PAGES)
		return -ERR_FORMAT;
	p = &c->pages[c->n++];
	p->flags = head[5];
	p->granule = 0;
	for (int i = 7; i >= 0; i--)
		p->granule = (p->granule << 8) | head[6 + i];
	p->serial = (uint32_t)head[14] | (uint32_t)head[15] << 8 |
	            (uint32_t)head[16] << 16 | (uint32_t)head[17] << 24;
	segs = head[26];
	p->packets_done = 0;
	for (unsigned i = 0; i < segs; i++)
		p->packets_done += head[27 + i] < 255;
	p->last_lacing = segs ? head[27 + segs - 1] : 0;
	if (c->f && (fwrite(head, 1, head_len, c->f) != head_len ||
	             fwrite(body, 1, body_len, c->f) != body_len))
		return -EIO;
	return 0;
}

/* ---- checks on a finished file ---- */

static bool ogginfo_clean(const char *path)
{
	char out[600];
	int rc;

	if (!test_have("ogginfo")) {
		printf("note: ogginfo missing; skipped\n");
		return true;
	}
	snprintf(out, sizeof(out), "%s.ogginfo", path);
	rc = test_run("ogginfo '%s' >'%s' 2>&1", path, out);
	if (rc != 0 || test_run("grep -qiE 'warning|error' '%s'", out) == 0) {
		test_run("cat '%s' >&2", out);
		return false;
	}
	return true;
}

static const char *comment(vorbis_comment *vc, const char *tag)
{
	const char *v = vorbis_comment_query(vc, tag, 0);

	return v ? v : "";
}

/* Decodes path and checks every link against items. */
static void check_file(const char *path, unsigned rate, unsigned channels,
                       const struct item *items, size_t n_items,
                       const char *what)
{
	OggVorbis_File vf;
	double sumsq[MAX_LINKS] = {0};
	size_t got[MAX_LINKS] = {0};
	int link = -1;
	long n;

	if (ov_fopen(path, &vf) != 0) {
		CHECKF(false, "%s: libvorbisfile cannot open %s", what, path);
		return;
	}
	CHECKF(ov_streams(&vf) == (long)n_items, "%s: %ld links", what,
	       ov_streams(&vf));
	for (size_t i = 0; i < n_items && i < (size_t)ov_streams(&vf); i++) {
		vorbis_info *vi = ov_info(&vf, (int)i);
		vorbis_comment *vc = ov_comment(&vf, (int)i);
		const char *title = items[i].title ? items[i].title : "";
		const char *artist = items[i].artist ? items[i].artist : "";

		CHECKF(vi->rate == (long)rate && vi->channels == (int)channels,
		       "%s link %zu: %ld Hz %d ch", what, i, vi->rate,
		       vi->channels);
		CHECKF(strcmp(comment(vc, "TITLE"), title) == 0,
		       "%s link %zu: TITLE '%s'", what, i,
		       comment(vc, "TITLE"));
		CHECKF(strcmp(comment(vc, "ARTIST"), artist) == 0,
		       "%s link %zu: ARTIST '%s'", what, i,
		       comment(vc, "ARTIST"));
		CHECKF(strcmp(comment(vc, "ENCODER"), "pulse-radio") == 0,
		       "%s link %zu: ENCODER '%s'", what, i,
		       comment(vc, "ENCODER"));
		CHECKF(ov_pcm_total(&vf, (int)i) ==
		           (ogg_int64_t)items[i].frames,
		       "%s link %zu: %lld frames, wrote %zu", what, i,
		       (long long)ov_pcm_total(&vf, (int)i), items[i].frames);
	}
	for (;;) {
		float **pcm;

		n = ov_read_float(&vf, &pcm, 4096, &link);
		if (n == OV_HOLE)
			continue;
		if (n <= 0 || link < 0 || link >= MAX_LINKS)
			break;
		for (long i = 0; i < n; i++)
			for (unsigned c = 0; c < channels; c++) {
				double v = pcm[c][i];

				sumsq[link] += v * v;
			}
		got[link] += (size_t)n;
	}
	CHECKF(n == 0, "%s: decoding ended with %ld", what, n);
	for (size_t i = 0; i < n_items; i++) {
		double rms =
		    got[i] ? sqrt(sumsq[i] / ((double)got[i] * channels)) : 0;

		CHECKF(got[i] == items[i].frames,
		       "%s link %zu: decoded %zu frames, wrote %zu", what, i,
		       got[i], items[i].frames);
		CHECKF(fabs(rms - AMPLITUDE / sqrt(2)) < 0.01,
		       "%s link %zu: RMS %.4f, want %.4f", what, i, rms,
		       AMPLITUDE / sqrt(2));
	}
	ov_clear(&vf);
	CHECKF(ogginfo_clean(path), "%s: ogginfo complains about %s", what,
	       path);
}

/* ---- the encoder ---- */

static const size_t chunk_sizes[] = {1, 441, 1024, 4096, 3000, 17};

static void init_items(struct item *items, unsigned rate)
{
	items[0] = (struct item){"First Song", "Artist One", rate + 17};
	items[1] = (struct item){"Caf\xc3\xa9 \xe2\x80\x93 \xc3\x9cn\xc3\xaf"
	                         "code",
	                         "Zo\xc3\xab", rate / 2 + 3};
	items[2] = (struct item){"Third", NULL, rate * 3 / 2 + 1001};
}

static void test_chain(unsigned rate, unsigned channels, unsigned kbps)
{
	struct enc_config cfg = {{rate, channels}, 0.3f, kbps, 0};
	static struct collect col;
	struct enc_sink sink = {collect_page, &col};
	struct encoder *enc = NULL;
	struct item items[3];
	size_t begin_at[3], begin_end[3], pos = 0;
	float *buf = malloc(4096 * channels * sizeof(float));
	char what[64], name[64];
	const char *path;
	int rc;

	snprintf(what, sizeof(what), "%u Hz %u ch %s", rate, channels,
	         kbps ? "bitrate" : "quality");
	snprintf(name, sizeof(name), "chain-%u-%u-%u.ogg", rate, channels,
	         kbps);
	path = test_path(name);
	memset(&col, 0, sizeof(col));
	col.fail_from = -1;
	col.f = fopen(path, "wb");
	init_items(items, rate);
	rc = enc_new(&enc, &cfg, &sink);
	CHECKF(rc == 0, "%s: enc_new %d", what, rc);
	if (rc < 0 || !col.f || !buf)
		goto out;
	for (size_t k = 0; k < 3; k++) {
		size_t left = items[k].frames, ci = k;

		begin_at[k] = col.n;
		rc = enc_begin(enc, items[k].title, items[k].artist);
		begin_end[k] = col.n;
		CHECKF(rc == 0, "%s: enc_begin %d", what, rc);
		CHECK(enc_frames(enc) == 0);
		while (left) {
			size_t n = chunk_sizes[ci++ % 6];

			if (n > left)
				n = left;
			make_sine(buf, n, channels, rate, pos);
			rc = enc_write(enc, buf, n);
			if (rc < 0)
				break;
			pos += n;
			left -= n;
		}
		CHECKF(rc == 0, "%s: enc_write %d", what, rc);
		CHECK(enc_frames(enc) == items[k].frames);
	}
	rc = enc_end(enc);
	CHECKF(rc == 0, "%s: enc_end %d", what, rc);
	CHECK(enc_end(enc) == 0); /* no stream: a no-op */
	CHECK(enc_frames(enc) == items[2].frames);
	fclose(col.f);
	col.f = NULL;

	/* enc_begin() first ends the previous link: its header pages start
	 * at the BOS page among what it sent. */
	for (size_t k = 0; k < 3; k++) {
		while (begin_at[k] < begin_end[k] &&
		       !(col.pages[begin_at[k]].flags & 2))
			begin_at[k]++;
		CHECKF(begin_at[k] < begin_end[k], "%s link %zu: no BOS page",
		       what, k);
	}
	/* Each link: one BOS page, then its three headers on pages of
	 * their own (granule 0), and audio starting on a fresh page. */
	for (size_t k = 0; k < 3; k++) {
		unsigned packets = 0;
		size_t b = begin_at[k], e = begin_end[k];
		size_t last = (k < 2 ? begin_at[k + 1] : col.n) - 1;

		CHECKF(e - b >= 2, "%s link %zu: %zu header pages", what, k,
		       e - b);
		if (e - b < 2 || e >= col.n)
			continue;
		for (size_t i = b; i < e; i++) {
			packets += col.pages[i].packets_done;
			CHECK(col.pages[i].granule == 0);
			CHECK(i == b || !(col.pages[i].flags & 2));
			CHECK(col.pages[i].serial == col.pages[b].serial);
		}
		CHECKF(packets == 3, "%s link %zu: %u header packets", what, k,
		       packets);
		CHECK(col.pages[e - 1].last_lacing < 255);
		CHECK(!(col.pages[e].flags & 1));
		CHECK(col.pages[e].granule > 0);
		CHECK(!(col.pages[e - 1].flags & 4));
		if (k > 0)
			CHECKF(col.pages[b].serial !=
			           col.pages[begin_at[k - 1]].serial,
			       "%s: link %zu reuses serial %u", what, k,
			       (unsigned)col.pages[b].serial);
		/* Its last page, just before the next BOS, ends it. */
		CHECK(col.pages[last].flags & 4);
		CHECK(col.pages[last].serial == col.pages[b].serial);
		CHECK(col.pages[last].granule == (int64_t)items[k].frames);
		for (size_t i = b; i < last; i++)
			CHECK(!(col.pages[i].flags & 4));
		/* No page holds more than 250 ms (and a packet) of audio:
		 * a live listener gets the sound without a lag. */
		for (size_t i = e; i <= last; i++) {
			int64_t prev = i > e ? col.pages[i - 1].granule : 0;

			CHECKF(col.pages[i].granule - prev <=
			           (int64_t)(rate / 4 + 1024),
			       "%s link %zu: a page of %lld frames", what, k,
			       (long long)(col.pages[i].granule - prev));
		}
	}
	check_file(path, rate, channels, items, 3, what);
out:
	if (col.f)
		fclose(col.f);
	enc_free(enc);
	free(buf);
}

/* The nominal bitrate reaches the header and steers the real rate. */
static void test_bitrate(void)
{
	unsigned kbps[2] = {64, 192};
	long bytes[2] = {0, 0};
	const size_t frames = 44100 * 4;
	float *buf = malloc(1024 * 2 * sizeof(float));

	for (int k = 0; k < 2 && buf; k++) {
		struct enc_config cfg = {{44100, 2}, 0.0f, kbps[k], 0};
		static struct collect col;
		struct enc_sink sink = {collect_page, &col};
		struct encoder *enc = NULL;
		uint32_t seed = 1;
		char name[32];
		const char *path;
		OggVorbis_File vf;

		snprintf(name, sizeof(name), "noise-%u.ogg", kbps[k]);
		path = test_path(name);
		memset(&col, 0, sizeof(col));
		col.fail_from = -1;
		col.f = fopen(path, "wb");
		if (!col.f || enc_new(&enc, &cfg, &sink) < 0) {
			CHECK(false);
			if (col.f)
				fclose(col.f);
			break;
		}
		CHECK(enc_begin(enc, "noise", NULL) == 0);
		for (size_t done = 0; done < frames; done += 1024) {
			make_noise(buf, 1024, 2, &seed);
			CHECK(enc_write(enc, buf, 1024) == 0);
		}
		CHECK(enc_end(enc) == 0);
		enc_free(enc);
		bytes[k] = ftell(col.f);
		fclose(col.f);
		if (ov_fopen(path, &vf) == 0) {
			vorbis_info *vi = ov_info(&vf, 0);

			CHECKF(vi->bitrate_nominal == (long)kbps[k] * 1000,
			       "nominal %ld, want %u000", vi->bitrate_nominal,
			       kbps[k]);
			/* Bitrate management is off: no hard limits. */
			CHECKF(vi->bitrate_upper <= 0 && vi->bitrate_lower <= 0,
			       "limits %ld/%ld", vi->bitrate_upper,
			       vi->bitrate_lower);
			ov_clear(&vf);
		} else {
			CHECK(false);
		}
		CHECK(ogginfo_clean(path));
	}
	printf("noise at 64 kbit/s: %ld bytes (%.0f kbit/s); at 192: %ld "
	       "bytes (%.0f kbit/s)\n",
	       bytes[0], bytes[0] * 8 / 4000.0, bytes[1],
	       bytes[1] * 8 / 4000.0);
	CHECKF(bytes[1] > bytes[0] * 2, "64 kbit/s: %ld bytes, 192: %ld",
	       bytes[0], bytes[1]);
	free(buf);
}

static void test_refused_configs(void)
{
	static const struct enc_config bad[] = {
	    {{44100, 0}, 0.4f, 0, 0},    {{44100, 3}, 0.4f, 0, 0},
	    {{0, 2}, 0.4f, 0, 0},        {{44100, 2}, 1.5f, 0, 0},
	    {{44100, 2}, -0.5f, 0, 0},   {{44100, 2}, NAN, 0, 0},
	    {{44100, 2}, 0.4f, 5000, 0}, {{44100, 2}, 0.4f, 1, 0},
	};
	struct collect col = {0};
	struct enc_sink sink = {collect_page, &col};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct encoder *enc = (struct encoder *)&col;
		int rc;

		test_capture_begin();
		rc = enc_new(&enc, &bad[i], &sink);
		CHECKF(rc == -ERR_UNSUPPORTED, "bad config %zu: %d", i, rc);
		CHECKF(test_count_lines(test_capture_end()) == 1,
		       "bad config %zu: not one log line", i);
		CHECK(enc == NULL);
		enc_free(enc);
	}
}

/* The sink's error comes back from enc_write(); nothing crashes after. */
static void test_sink_failure(void)
{
	struct enc_config cfg = {{44100, 2}, 0.4f, 0, 0};
	static struct collect col;
	struct enc_sink sink = {collect_page, &col};
	struct encoder *enc = NULL;
	float buf[1024 * 2];
	int rc = 0;

	memset(&col, 0, sizeof(col));
	col.fail_from = 3;
	if (enc_new(&enc, &cfg, &sink) < 0) {
		CHECK(false);
		return;
	}
	CHECK(enc_begin(enc, "x", "y") == 0);
	for (int i = 0; i < 1000 && rc == 0; i++) {
		make_sine(buf, 1024, 2, 44100, (size_t)i * 1024);
		rc = enc_write(enc, buf, 1024);
	}
	CHECKF(rc == -EIO, "sink failure gave %d", rc);
	CHECK(enc_end(enc) == -EIO);
	enc_free(enc);
	enc_free(NULL);
}

/* enc_write() without enc_begin(), hostile samples, and an item with no
 * audio at all: still a valid stream. */
static void test_edges(void)
{
	struct enc_config cfg = {{48000, 2}, 0.4f, 0, 0};
	static struct collect col;
	struct enc_sink sink = {collect_page, &col};
	struct encoder *enc = NULL;
	struct item items[3] = {
	    {NULL, NULL, 4800}, {"Empty", "Nobody", 0}, {"After", "", 9600}};
	float buf[4800 * 2];
	const char *path = test_path("edges.ogg");

	memset(&col, 0, sizeof(col));
	col.fail_from = -1;
	col.f = fopen(path, "wb");
	if (!col.f || enc_new(&enc, &cfg, &sink) < 0) {
		CHECK(false);
		if (col.f)
			fclose(col.f);
		return;
	}
	make_sine(buf, 4800, 2, 48000, 0);
	CHECK(enc_write(enc, buf, 4800) == 0); /* begins untagged */
	CHECK(enc_begin(enc, "Empty", "Nobody") == 0);
	CHECK(enc_begin(enc, "After", "") == 0);
	make_sine(buf, 4800, 2, 48000, 0);
	CHECK(enc_write(enc, buf, 4800) == 0);
	CHECK(enc_write(enc, buf, 0) == 0);
	make_sine(buf, 4800, 2, 48000, 4800);
	CHECK(enc_write(enc, buf, 4800) == 0);
	CHECK(enc_end(enc) == 0);
	enc_free(enc);
	fclose(col.f);
	{
		OggVorbis_File vf;

		CHECK(ov_fopen(path, &vf) == 0);
		CHECKF(ov_streams(&vf) == 3, "edges: %ld links",
		       ov_streams(&vf));
		CHECK(ov_pcm_total(&vf, 0) == 4800);
		CHECK(ov_pcm_total(&vf, 1) == 1); /* one frame of silence */
		CHECK(ov_pcm_total(&vf, 2) == 9600);
		CHECK(vorbis_comment_query(ov_comment(&vf, 0), "TITLE", 0) ==
		      NULL);
		CHECK(vorbis_comment_query(ov_comment(&vf, 2), "ARTIST", 0) ==
		      NULL);
		ov_clear(&vf);
	}
	CHECK(ogginfo_clean(path));
	(void)items;

	/* NaN, infinities and overshoot must not upset libvorbis. */
	memset(&col, 0, sizeof(col));
	col.fail_from = -1;
	if (enc_new(&enc, &cfg, &sink) == 0) {
		for (size_t i = 0; i < 4800 * 2; i++)
			buf[i] = i % 7 == 0   ? NAN
			         : i % 7 == 1 ? INFINITY
			         : i % 7 == 2 ? -INFINITY
			                      : (float)(i % 5) - 2.0f;
		CHECK(enc_write(enc, buf, 4800) == 0);
		CHECK(enc_end(enc) == 0);
		enc_free(enc);
	}
}

/* ---- the file output ---- */

static void test_file_output(unsigned rate, unsigned channels, unsigned kbps)
{
	struct out_options opt = {
	    .fmt = {rate, channels}, .quality = 0.5f, .bitrate_kbps = kbps};
	struct output *o = NULL;
	struct item items[3];
	float *buf = malloc(4096 * channels * sizeof(float));
	char spec[600], what[64];
	size_t pos = 0;
	int rc;

	snprintf(what, sizeof(what), "file output %u Hz %u ch", rate, channels);
	snprintf(spec, sizeof(spec), "file:%s", test_path("out.ogg"));
	init_items(items, rate);
	rc = out_open(&o, spec, &opt);
	CHECKF(rc == 0, "%s: out_open %d", what, rc);
	if (rc < 0 || !buf) {
		free(buf);
		return;
	}
	CHECK(strcmp(out_name(o), spec) == 0);
	CHECK(out_connected(o));
	for (size_t k = 0; k < 3; k++) {
		size_t left = items[k].frames;

		CHECK(out_begin_item(o, items[k].title, items[k].artist) == 0);
		while (left) {
			size_t n = left < 4096 ? left : 4096;

			make_sine(buf, n, channels, rate, pos);
			CHECK(out_write(o, buf, n) == 0);
			pos += n;
			left -= n;
		}
	}
	CHECK(out_close(o) == 0);
	CHECK(out_close(NULL) == 0);
	check_file(test_path("out.ogg"), rate, channels, items, 3, what);
	free(buf);
}

static void test_file_failures(void)
{
	struct out_options opt = {.fmt = {44100, 2}, .quality = 0.4f};
	struct output *o = (struct output *)&opt;
	float buf[1024 * 2];
	const char *log;
	int rc = 0, i;

	test_capture_begin();
	rc = out_open(&o, "file:/no/such/dir/x.ogg", &opt);
	log = test_capture_end();
	CHECKF(rc == -ENOENT, "missing dir: %d", rc);
	CHECK(o == NULL);
	CHECK(test_count_lines(log) == 1);
	CHECK(strstr(log, "file:/no/such/dir/x.ogg") != NULL);

	test_capture_begin();
	rc = out_open(&o, "file:", &opt);
	log = test_capture_end();
	CHECK(rc == -ERR_USAGE);
	CHECK(test_count_lines(log) == 1);

	/* A full disk: writes fail with ENOSPC once the buffer flushes. */
	rc = out_open(&o, "file:/dev/full", &opt);
	CHECKF(rc == 0, "/dev/full: out_open %d", rc);
	if (rc < 0)
		return;
	test_capture_begin();
	CHECK(out_begin_item(o, "Full", "Disk") == 0);
	rc = 0;
	for (i = 0; i < 44100 * 20 / 1024 && rc == 0; i++) {
		make_sine(buf, 1024, 2, 44100, (size_t)i * 1024);
		rc = out_write(o, buf, 1024);
	}
	CHECKF(rc == -ENOSPC, "/dev/full: out_write gave %d after %d blocks",
	       rc, i);
	CHECK(!out_connected(o));
	CHECK(out_write(o, buf, 1024) == rc); /* stays failed, quietly */
	CHECK(out_begin_item(o, "Next", NULL) == rc);
	CHECK(out_close(o) == -ENOSPC);
	log = test_capture_end();
	CHECKF(test_count_lines(log) == 1, "/dev/full: %d log lines",
	       test_count_lines(log));
	CHECK(strstr(log, "No space left on device") != NULL);
	CHECK(strstr(log, "file:/dev/full") != NULL);
}

/* The RMS of the first second of an Ogg file's only channel, or -1 when
 * it is not mono. */
static double mono_rms(const char *path)
{
	OggVorbis_File vf;
	double sum = 0;
	long n = 0;
	int bs;

	if (ov_fopen(path, &vf) < 0)
		return -1;
	if (ov_info(&vf, -1)->channels != 1) {
		ov_clear(&vf);
		return -1;
	}
	while (n < 44100) {
		float **pcm;
		long got = ov_read_float(&vf, &pcm, 4096, &bs);

		if (got <= 0)
			break;
		for (long i = 0; i < got; i++)
			sum += (double)pcm[0][i] * (double)pcm[0][i];
		n += got;
	}
	ov_clear(&vf);
	return n ? sqrt(sum / (double)n) : -1;
}

/* A mono mount from a stereo station: the two channels averaged (a sine
 * on both comes through whole; in opposite phase it cancels), and the
 * file says one channel. */
static void test_downmix(void)
{
	struct out_options opt = {
	    .fmt = {44100, 2}, .quality = 0.4f, .channels = 1};
	float *buf = malloc(44100 * 2 * sizeof(float));
	char spec[600];

	for (int flip = 0; flip < 2 && buf; flip++) {
		struct output *o = NULL;
		const char *path = test_path(flip ? "anti.ogg" : "mono.ogg");
		double r;

		make_sine(buf, 44100, 2, 44100, 0);
		for (size_t i = 0; flip && i < 44100; i++)
			buf[2 * i + 1] = -buf[2 * i];
		snprintf(spec, sizeof(spec), "file:%s", path);
		CHECK(out_open(&o, spec, &opt) == 0);
		if (!o)
			continue;
		CHECK(out_write(o, buf, 44100) == 0);
		CHECK(out_close(o) == 0);
		r = mono_rms(path);
		if (flip)
			CHECKF(r >= 0 && r < 0.01, "opposite phase: rms %g", r);
		else
			CHECKF(fabs(r - AMPLITUDE / sqrt(2)) < 0.02,
			       "in phase: rms %g, want %g", r,
			       AMPLITUDE / sqrt(2));
	}
	free(buf);
}

int main(void)
{
	static const unsigned rates[] = {44100, 48000};

	for (size_t r = 0; r < 2; r++)
		for (unsigned ch = 1; ch <= 2; ch++) {
			test_chain(rates[r], ch, 0);
			test_chain(rates[r], ch, ch == 1 ? 64 : 128);
		}
	test_bitrate();
	test_refused_configs();
	test_sink_failure();
	test_edges();
	test_file_output(48000, 2, 0);
	test_file_output(44100, 1, 96);
	test_file_failures();
	test_downmix();
	return test_done();
}
