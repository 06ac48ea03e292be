/*
 * test_source_seek.c - source_seek() lands on the exact sample.
 *
 * Passed-through music hands back to the live decode at a frame; any
 * sample more or less there is a click on air. So each seek is checked
 * against a straight read of the same file (open, read and drop `frame`
 * frames, read on), bit for bit, for WAV in every sample format, Ogg
 * Vorbis (chains too) and MPEG-1 MP3; MPEG-2 MP3 may differ in the last
 * bit, never in position. Fixtures are noise, not a sine, so that a
 * shift of one frame cannot compare equal.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "source.h"
#include "srctest.h"
#include "testutil.h"

/* Frames compared after each seek: several codec frames and blocks. */
#define SEEK_N 5000
/* A few units in the last place of a sample near full scale. */
#define MP3_LSF_TOL 5e-7f

static size_t total_frames(const char *path, unsigned rate, unsigned ch)
{
	struct pcm p;
	size_t n;

	if (decode_file(path, rate, ch, &p, NULL) < 0)
		return 0;
	n = p.frames;
	free(p.f);
	return n;
}

/* Whether n samples agree: bit for bit when tol is 0. */
static bool same(const float *a, const float *b, size_t n, float tol)
{
	if (tol == 0.0f)
		return memcmp(a, b, n * sizeof(float)) == 0;
	for (size_t i = 0; i < n; i++)
		if (fabsf(a[i] - b[i]) > tol)
			return false;
	return true;
}

/* Reads up to n frames (fewer only at the end); the count. */
static size_t read_n(struct source *src, float *buf, unsigned ch, size_t n)
{
	size_t got = 0;
	long r = 1;

	while (got < n && (r = source_read(src, buf + got * ch, n - got)) > 0)
		got += (size_t)r;
	CHECKF(r >= 0, "read failed: %ld", r);
	return got;
}

/* Where got's n frames appear in ref near want: the offset from want in
 * frames, or LONG_MIN if nowhere within two MP3 frames. */
static long find_shift(const float *ref, size_t ref_frames, const float *got,
                       size_t n, unsigned ch, size_t want)
{
	for (long d = 0; d <= 2304; d++) {
		for (int sign = 1; sign >= -1; sign -= 2) {
			long at = (long)want + sign * d;

			if (at < 0 || (size_t)at + n > ref_frames)
				continue;
			if (memcmp(ref + (size_t)at * ch, got,
			           n * ch * sizeof(float)) == 0)
				return sign * d;
		}
	}
	return LONG_MIN;
}

/*
 * Seeks a fresh source to frame and compares SEEK_N frames with a
 * straight read; whether they were identical. A mismatch says by how
 * many frames it is off, if it is a shift.
 */
static bool seek_matches(const char *what, const char *path, unsigned rate,
                         unsigned ch, size_t frame, float tol)
{
	struct pcm_format fmt = {rate, ch};
	struct source *a = NULL, *b = NULL;
	float *ref = malloc((frame + SEEK_N) * ch * sizeof(float));
	float *got = malloc(SEEK_N * ch * sizeof(float));
	size_t dropped, nref, ngot;
	bool ok = false;
	int rc;

	CHECK(source_open(&a, path, &fmt) == 0);
	CHECK(source_open(&b, path, &fmt) == 0);
	if (!a || !b || !ref || !got)
		goto out;
	dropped = read_n(a, ref, ch, frame);
	CHECKF(dropped == frame, "%s: only %zu frames before %zu", what,
	       dropped, frame);
	nref = read_n(a, ref + frame * ch, ch, SEEK_N);
	rc = source_seek(b, frame);
	CHECKF(rc == 0, "%s: seek to %zu: %d (%s)", what, frame, rc,
	       err_str(rc));
	ngot = read_n(b, got, ch, SEEK_N);
	ok = nref == ngot && same(ref + frame * ch, got, ngot * ch, tol);
	if (!ok || !same(ref + frame * ch, got, ngot * ch, 0.0f)) {
		long shift = ngot ? find_shift(ref, frame + nref, got, ngot / 2,
		                               ch, frame)
		                  : LONG_MIN;
		double maxd = 0;

		for (size_t i = 0; i < (nref < ngot ? nref : ngot) * ch; i++)
			maxd = fmax(maxd, fabs((double)ref[frame * ch + i] -
			                       (double)got[i]));
		printf("%s: seek to %zu: %zu frames, straight %zu; max "
		       "difference %g; %s %ld\n",
		       what, frame, ngot, nref, maxd,
		       shift == LONG_MIN ? "no shift found, " : "shifted by",
		       shift == LONG_MIN ? 0 : shift);
	}
out:
	source_close(a);
	source_close(b);
	free(ref);
	free(got);
	return ok;
}

/* One open source: forward, backward, from the end, to the end. */
static void seek_around(const char *what, const char *path, unsigned rate,
                        unsigned ch, size_t total, float tol)
{
	struct pcm_format fmt = {rate, ch};
	struct source *src = NULL;
	struct pcm full, rest;
	float buf[64 * PCM_MAX_CHANNELS];
	size_t at[] = {total / 2 + 3, 1000, total - 777, 7};
	int rc;

	CHECK(decode_file(path, rate, ch, &full, NULL) == 0);
	CHECK(source_open(&src, path, &fmt) == 0);
	if (!src || full.frames != total) {
		source_close(src);
		free(full.f);
		return;
	}
	for (size_t i = 0; i < sizeof(at) / sizeof(*at); i++) {
		size_t n;

		CHECK(source_seek(src, at[i]) == 0);
		n = read_n(src, buf, ch, 64);
		CHECKF(n == 64 && same(buf, full.f + at[i] * ch, n * ch, tol),
		       "%s: seek %zu to %zu: not the straight read's frames",
		       what, i, at[i]);
	}
	/* A sweep of one source, forward, every 997th frame: each codec
	 * frame and block position, and its filters' every phase. */
	for (size_t f = 0; f + 64 <= total; f += 997) {
		CHECK(source_seek(src, f) == 0);
		CHECKF(read_n(src, buf, ch, 64) == 64 &&
		           same(buf, full.f + f * ch, 64 * ch, tol),
		       "%s: sweep: seek to %zu is not exact", what, f);
	}
	/* From a source that reached its end, back to 5000, then to the
	 * end again: the same frames and the same count. */
	read_all(src, ch, 4096, &rest);
	free(rest.f);
	CHECK(source_seek(src, 5000) == 0);
	read_all(src, ch, 999, &rest);
	CHECKF(rest.rc == 0 && rest.frames == total - 5000 &&
	           same(rest.f, full.f + 5000 * ch, rest.frames * ch, tol),
	       "%s: after the end, seek to 5000: %zu frames of %zu", what,
	       rest.frames, total - 5000);
	free(rest.f);
	/* The end is a position; one frame past it is not. */
	CHECK(source_seek(src, total) == 0);
	CHECK(source_read(src, buf, 64) == 0);
	rc = source_seek(src, total + 1);
	CHECKF(rc == -ERR_EMPTY, "%s: seek past the end: %d", what, rc);
	CHECK(source_read(src, buf, 64) == 0);
	CHECK(source_seek(src, 1ull << 62) == -ERR_EMPTY);
	/* And it still seeks after that. */
	CHECK(source_seek(src, 0) == 0);
	CHECK(read_n(src, buf, ch, 64) == 64 &&
	      same(buf, full.f, 64 * ch, tol));
	source_close(src);
	free(full.f);
}

/* The frames every format is checked at: the start, one in, one not on
 * any codec's frame or block boundary, and near the end. tol 0: bit for
 * bit; otherwise the samples may differ by that much, not in position. */
static void seek_points(const char *what, const char *path, unsigned rate,
                        unsigned ch, float tol)
{
	size_t total = total_frames(path, rate, ch);
	size_t at[] = {0, 1, 12345, total / 2 + 1, total - 100};
	int exact = 0;

	CHECKF(total > 20000, "%s: %zu frames", what, total);
	if (total <= 20000)
		return;
	for (size_t i = 0; i < sizeof(at) / sizeof(*at); i++) {
		bool ok = seek_matches(what, path, rate, ch, at[i], tol);

		exact += ok;
		CHECKF(ok, "%s: seek to %zu is not exact", what, at[i]);
	}
	printf("%s: %d of %zu seeks exact%s\n", what, exact,
	       sizeof(at) / sizeof(*at), tol == 0.0f ? "" : " within tol");
	seek_around(what, path, rate, ch, total, tol);
}

static void test_wav(void)
{
	static const struct {
		unsigned tag, bits, bytes;
		const char *name;
	} kinds[] = {
	    {1, 16, 2, "16-bit"}, {3, 32, 4, "float"},  {1, 24, 3, "24-bit"},
	    {1, 8, 1, "8-bit"},   {1, 32, 4, "32-bit"}, {3, 64, 8, "double"},
	};
	const char *path = fixture("seek.wav");

	for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++) {
		struct wav_spec w = pcm16(44100, 2, 1.5);
		char what[64];

		w.tag = kinds[i].tag;
		w.bits = kinds[i].bits;
		w.bytes = kinds[i].bytes;
		w.noise = true;
		w.title = "Tags first";
		write_wav(path, &w);
		snprintf(what, sizeof(what), "wav %s", kinds[i].name);
		seek_points(what, path, 44100, 2, 0.0f);
	}
	/* Channel conversion on the way: upmixed and downmixed. */
	{
		struct wav_spec w = pcm16(44100, 1, 1.5);

		w.noise = true;
		write_wav(path, &w);
		seek_points("wav mono to stereo", path, 44100, 2, 0.0f);
		w = pcm16(44100, 2, 1.5);
		w.noise = true;
		write_wav(path, &w);
		seek_points("wav stereo to mono", path, 44100, 1, 0.0f);
	}
}

static bool encode(const char *cmd, const char *in, const char *out_opt,
                   const char *out)
{
	int rc = test_run("%s '%s' %s '%s'", cmd, in, out_opt, out);

	CHECKF(rc == 0, "encoder failed (%d): %s", rc, cmd);
	return rc == 0;
}

static void test_vorbis(void)
{
	const char *wav = fixture("seek_ogg.wav"), *ogg = fixture("seek.ogg");
	struct wav_spec w = pcm16(44100, 2, 3);
	struct pcm_format fmt = {44100, 2};
	struct source *src = NULL;
	char log[1024];
	size_t first, second;
	float buf[128];
	int lines;

	if (!test_have("oggenc")) {
		printf("note: oggenc is not installed; Ogg tests skipped\n");
		return;
	}
	w.noise = true;
	write_wav(wav, &w);
	if (!encode("oggenc -Q -q 4", wav, "-o", ogg))
		return;
	seek_points("vorbis", ogg, 44100, 2, 0.0f);
	seek_points("vorbis to mono", ogg, 44100, 1, 0.0f);

	/* A chain whose first link is shorter than vorbisfile's read
	 * chunk: seekable, vorbisfile skips it unless it seeks first. */
	w = pcm16(44100, 2, 0.2);
	w.noise = true;
	first = write_wav(wav, &w);
	encode("oggenc -Q -s 1", wav, "-o", fixture("seek_l1.ogg"));
	w = pcm16(44100, 2, 1.5);
	w.noise = true;
	second = write_wav(wav, &w);
	encode("oggenc -Q -s 2", wav, "-o", fixture("seek_l2.ogg"));
	test_run("cat '%s' '%s' > '%s'", fixture("seek_l1.ogg"),
	         fixture("seek_l2.ogg"), ogg);
	CHECK(total_frames(ogg, 44100, 2) == first + second);
	seek_points("vorbis chain", ogg, 44100, 2, 0.0f);
	CHECK(seek_matches("vorbis chain, the link's end", ogg, 44100, 2, first,
	                   0.0f));
	CHECK(seek_matches("vorbis chain, before it", ogg, 44100, 2, first - 1,
	                   0.0f));

	/* The second link at another rate: the chain plays to the first
	 * link's end, so that is as far as a seek goes. */
	w = pcm16(22050, 2, 1);
	write_wav(wav, &w);
	encode("oggenc -Q -s 3", wav, "-o", fixture("seek_l3.ogg"));
	test_run("cat '%s' '%s' > '%s'", fixture("seek_l1.ogg"),
	         fixture("seek_l3.ogg"), ogg);
	CHECK(source_open(&src, ogg, &fmt) == 0);
	if (!src)
		return;
	CHECK(source_seek(src, first + 1) == -ERR_EMPTY);
	CHECK(source_seek(src, first - 10) == 0);
	capture_begin();
	CHECK(read_n(src, buf, 2, 64) == 10);
	lines = capture_end(log, sizeof(log));
	/* The change of format is noticed as on a straight read. */
	CHECKF(lines == 1 && strstr(log, "chained stream changes"), "%d: %s",
	       lines, log);
	source_close(src);
}

static void test_mp3(void)
{
	const char *wav = fixture("seek_mp3.wav"), *mp3 = fixture("seek.mp3");
	struct wav_spec w = pcm16(44100, 2, 3);

	if (!test_have("lame")) {
		printf("note: lame is not installed; MP3 tests skipped\n");
		return;
	}
	w.noise = true;
	write_wav(wav, &w);
	if (!encode("lame --quiet -b 128", wav, "", mp3))
		return;
	seek_points("mp3", mp3, 44100, 2, 0.0f);
	if (!encode("lame --quiet -V 2", wav, "", mp3))
		return;
	seek_points("mp3 vbr", mp3, 44100, 2, 0.0f);
	w = pcm16(44100, 1, 3);
	w.noise = true;
	write_wav(wav, &w);
	if (!encode("lame --quiet -b 64", wav, "", mp3))
		return;
	seek_points("mp3 mono to stereo", mp3, 44100, 2, 0.0f);
	/* MPEG-2 (576 frames a codec frame): the right frames, but mpg123's
	 * filter sums may differ in the last bit (see mp3_seek()). */
	w = pcm16(22050, 2, 3);
	w.noise = true;
	write_wav(wav, &w);
	if (!encode("lame --quiet -b 64", wav, "", mp3))
		return;
	seek_points("mp3 mpeg-2", mp3, 22050, 2, MP3_LSF_TOL);
	/* No LAME/Xing header: not gapless, and the length is not known
	 * until mpg123 has counted the frames. */
	if (!encode("lame --quiet -t -b 128", wav, "", mp3))
		return;
	seek_points("mp3 without its header", mp3, 22050, 2, MP3_LSF_TOL);
}

/* Resampled: refused, and the source plays on undisturbed. */
static void test_resampled(void)
{
	const char *path = fixture("seek48.wav");
	struct wav_spec w = pcm16(48000, 2, 0.5);
	struct pcm_format fmt = {44100, 2};
	struct source *src = NULL;
	struct pcm full, p;
	char log[1024];
	int rc;

	write_wav(path, &w);
	CHECK(decode_file(path, 44100, 2, &full, NULL) == 0);
	CHECK(source_open(&src, path, &fmt) == 0);
	if (!src)
		return;
	capture_begin();
	rc = source_seek(src, 1000);
	CHECKF(capture_end(log, sizeof(log)) == 0, "%s", log);
	CHECKF(rc == -ERR_UNSUPPORTED, "resampled: %d", rc);
	read_all(src, 2, 4096, &p);
	CHECK(p.frames == full.frames &&
	      memcmp(p.f, full.f, p.frames * 2 * sizeof(float)) == 0);
	source_close(src);
	free(p.f);
	free(full.f);
}

/* A file rewritten since open still fails with -ERR_FORMAT, whether the
 * change comes before the seek or after it. */
static void test_changed_on_disk(void)
{
	const char *path = fixture("seek_changing.wav");
	struct pcm_format fmt = {44100, 2};
	struct source *src = NULL;
	float buf[2 * 256];
	char log[1024];
	int lines;

	for (int before = 0; before < 2; before++) {
		CHECK(test_write_sine_wav(path, 44100, 2, 1.0, 440.0) == 0);
		CHECK(source_open(&src, path, &fmt) == 0);
		if (!src)
			return;
		CHECK(source_read(src, buf, 256) == 256);
		if (!before)
			CHECK(source_seek(src, 100) == 0);
		/* Another size, so a coarse mtime cannot hide it. */
		CHECK(test_write_sine_wav(path, 44100, 2, 0.5, 1000.0) == 0);
		capture_begin();
		if (before)
			CHECK(source_seek(src, 100) == -ERR_FORMAT);
		CHECK(source_read(src, buf, 256) == -ERR_FORMAT);
		CHECK(source_seek(src, 0) == -ERR_FORMAT);
		lines = capture_end(log, sizeof(log));
		CHECKF(lines == 1 && strstr(log, "changed on disk"), "%d: %s",
		       lines, log);
		source_close(src);
		src = NULL;
	}
}

int main(void)
{
	test_tmpdir();
	test_wav();
	test_vorbis();
	test_mp3();
	test_resampled();
	test_changed_on_disk();
	srctest_free();
	return test_done();
}
