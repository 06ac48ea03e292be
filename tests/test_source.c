/*
 * test_source.c - decoding, sniffing, conversion and hostile files.
 *
 * Fixtures are made on the fly: WAVs by our own writer, MP3 by lame, Ogg
 * by oggenc. Everything is checked by numbers: frame counts after
 * resampling, RMS of a 0.5 sine, channels equal after an upmix, tags, and
 * one log line (captured from stderr) per failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "resample.h"
#include "source.h"
#include "srctest.h"
#include "testutil.h"

static void test_refusals(void)
{
	static const unsigned char png[] = {0x89, 'P',  'N', 'G', '\r', '\n',
	                                    0x1a, '\n', 0,   0,   0,    13,
	                                    'I',  'H',  'D', 'R', 0,    0};
	unsigned char junk[4096];
	char log[1024];
	int lines;

	expect_refused(fixture("missing.mp3"), -ENOENT, "missing file");
	test_write_file(fixture("empty.wav"), "", 0);
	expect_refused(fixture("empty.wav"), -ERR_FORMAT, "empty file");
	capture_begin();
	source_close(NULL);
	{
		struct pcm_format fmt = {44100, 2};
		struct source *src;

		CHECK(source_open(&src, fixture("empty.wav"), &fmt) ==
		      -ERR_FORMAT);
	}
	lines = capture_end(log, sizeof(log));
	CHECKF(lines == 1 && strstr(log, "empty file"), "%s", log);
	test_write_file(fixture("text.ogg"), "This is not audio.\n", 19);
	expect_refused(fixture("text.ogg"), -ERR_FORMAT, "text as .ogg");
	test_write_file(fixture("image.mp3"), png, sizeof(png));
	expect_refused(fixture("image.mp3"), -ERR_FORMAT, "PNG as .mp3");
	expect_refused(test_tmpdir(), -ERR_FORMAT, "a directory");
	/* A FIFO with no writer: refused at once, not waited on. */
	if (mkfifo(fixture("fifo.wav"), 0600) == 0)
		expect_refused(fixture("fifo.wav"), -ERR_FORMAT, "a FIFO");

	/* "OggS" then noise. */
	srand(99);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)rand();
	memcpy(junk, "OggS", 4);
	test_write_file(fixture("noise.ogg"), junk, sizeof(junk));
	expect_refused(fixture("noise.ogg"), -ERR_FORMAT, "OggS + noise");
	/* "ID3" then noise. */
	memcpy(junk, "ID3\x03\0\0\0\0\0\x10", 10);
	test_write_file(fixture("noise.mp3"), junk, sizeof(junk));
	expect_refused(fixture("noise.mp3"), -ERR_FORMAT, "ID3 + noise");
	/* An Ogg page that holds Opus: valid but not ours. */
	memset(junk, 0, 200);
	memcpy(junk, "OggS", 4);
	junk[5] = 2;
	junk[26] = 1;
	junk[27] = 19;
	memcpy(junk + 28, "OpusHead\x01\x02", 10);
	test_write_file(fixture("opus.ogg"), junk, 200);
	expect_refused(fixture("opus.ogg"), -ERR_UNSUPPORTED, "Ogg Opus");
}

/* ---- MP3 and Ogg through lame and oggenc ---- */

static bool have_lame, have_oggenc, have_sox;

/* Runs "cmd 'wav' out_opt 'out'"; whether it worked. */
static bool encode(const char *cmd, const char *wav, const char *out_opt,
                   const char *out)
{
	int rc = test_run("%s '%s' %s '%s'", cmd, wav, out_opt, out);

	CHECKF(rc == 0, "encoder failed (%d): %s", rc, cmd);
	return rc == 0;
}

static void test_mp3(void)
{
	static const struct {
		unsigned in_rate, in_ch, out_rate, out_ch;
	} cases[] = {
	    {44100, 2, 44100, 2}, {48000, 1, 44100, 2}, {22050, 2, 48000, 2},
	    {44100, 2, 48000, 1}, {48000, 2, 48000, 2},
	};
	const char *wav = fixture("mp3src.wav"), *mp3 = fixture("a.mp3");
	const char *sox_wav = fixture("sox.wav");
	struct source *src = NULL;
	struct pcm p, full, ref;
	struct stat st;
	char log[2048];
	int lines, rc;

	if (!have_lame) {
		printf("note: lame is not installed; MP3 tests skipped\n");
		return;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct wav_spec w = pcm16(cases[i].in_rate, cases[i].in_ch, 2);
		size_t frames = write_wav(wav, &w);
		long want =
		    expect_frames(frames, cases[i].in_rate, cases[i].out_rate);

		if (!encode("lame --quiet -b 128 --tt Title --ta Artist", wav,
		            "", mp3))
			continue;
		CHECK(decode_file(mp3, cases[i].out_rate, cases[i].out_ch, &p,
		                  &src) == 0);
		if (!src)
			continue;
		CHECK(strcmp(source_type(src), "mp3") == 0);
		CHECK(source_native_rate(src) == cases[i].in_rate);
		CHECK(source_native_channels(src) == cases[i].in_ch);
		CHECK(strcmp(source_title(src), "Title") == 0);
		CHECK(strcmp(source_artist(src), "Artist") == 0);
		CHECK(p.rc == 0);
		/* Gapless: the LAME header's delay and padding are cut. */
		CHECKF(labs((long)p.frames - want) <= 2,
		       "mp3 %u Hz -> %u Hz: %zu frames, want %ld",
		       cases[i].in_rate, cases[i].out_rate, p.frames, want);
		/* lame itself leaves a 1 kHz sine about 0.6 dB quieter (sox
		 * shows it too), so the level is checked against sox's own
		 * decode, and the conversion against ours at the file's rate.
		 */
		CHECK(decode_file(mp3, cases[i].in_rate, cases[i].out_ch, &ref,
		                  NULL) == 0);
		for (unsigned c = 0; c < cases[i].out_ch; c++) {
			CHECKF(near(rms(&p, c), rms(&ref, c), 0.02),
			       "mp3 %u Hz -> %u Hz: rms %f, %f unconverted",
			       cases[i].in_rate, cases[i].out_rate, rms(&p, c),
			       rms(&ref, c));
			CHECKF(near(rms(&p, c), SINE_RMS, 0.07),
			       "mp3 %u Hz -> %u Hz: rms %f", cases[i].in_rate,
			       cases[i].out_rate, rms(&p, c));
		}
		if (have_sox && test_run("sox '%s' -c %u '%s'", mp3,
		                         cases[i].out_ch, sox_wav) == 0) {
			struct pcm sox;

			CHECK(decode_file(sox_wav, cases[i].in_rate,
			                  cases[i].out_ch, &sox, NULL) == 0);
			CHECKF(near(rms(&ref, 0), rms(&sox, 0), 0.01),
			       "mp3 %u Hz: rms %f, sox says %f",
			       cases[i].in_rate, rms(&ref, 0), rms(&sox, 0));
			free(sox.f);
		}
		if (cases[i].in_ch == 1 && cases[i].out_ch == 2)
			CHECK(channels_equal(&p));
		source_close(src);
		free(p.f);
		free(ref.f);
	}

	/* ID3v1 only; named .ogg, which must not matter. */
	{
		struct wav_spec w = pcm16(44100, 2, 1);

		write_wav(wav, &w);
	}
	if (encode("lame --quiet -b 128 --id3v1-only --tt Old --ta Tag", wav,
	           "", fixture("v1.ogg"))) {
		CHECK(decode_file(fixture("v1.ogg"), 44100, 2, &p, &src) == 0);
		CHECK(src && strcmp(source_type(src), "mp3") == 0);
		CHECK(src && strcmp(source_title(src), "Old") == 0);
		CHECK(src && strcmp(source_artist(src), "Tag") == 0);
		source_close(src);
		free(p.f);
	}

	/* Truncated: plays roughly half, then ends; one line says so. */
	if (!encode("lame --quiet -b 128", wav, "", mp3))
		return;
	CHECK(decode_file(mp3, 44100, 2, &full, NULL) == 0);
	stat(mp3, &st);
	CHECK(truncate(mp3, st.st_size / 2) == 0);
	capture_begin();
	rc = decode_file(mp3, 44100, 2, &p, NULL);
	lines = capture_end(log, sizeof(log));
	CHECK(rc == 0);
	CHECK(p.rc <= 0);
	CHECKF(p.frames > full.frames * 4 / 10 &&
	           p.frames < full.frames * 6 / 10,
	       "truncated mp3: %zu of %zu frames", p.frames, full.frames);
	CHECKF(lines == 1, "truncated mp3: %d lines: %s", lines, log);
	free(p.f);

	/* Noise in the middle: ends there (mpg123 finds a false header
	 * in it), or plays on; never a crash, never more than was there. */
	if (!encode("lame --quiet -b 128", wav, "", mp3))
		return;
	stat(mp3, &st);
	{
		FILE *f = fopen(mp3, "r+b");
		uint32_t seed = 7;

		fseek(f, (long)st.st_size / 2, SEEK_SET);
		for (int i = 0; i < 3000; i++) {
			seed = seed * 1664525u + 1013904223u;
			fputc((int)(seed >> 24), f);
		}
		fclose(f);
	}
	capture_begin();
	rc = decode_file(mp3, 44100, 2, &p, NULL);
	lines = capture_end(log, sizeof(log));
	CHECK(rc == 0);
	CHECKF(p.frames > full.frames * 4 / 10 && p.frames <= full.frames,
	       "noisy mp3: %zu of %zu frames", p.frames, full.frames);
	CHECKF(lines <= 1, "noisy mp3: %d lines: %s", lines, log);
	free(p.f);
	free(full.f);
}

static void test_vorbis(void)
{
	static const struct {
		unsigned in_rate, in_ch, out_rate, out_ch;
	} cases[] = {
	    {44100, 2, 44100, 2}, {22050, 1, 48000, 2}, {48000, 2, 44100, 1},
	    {44100, 1, 44100, 2}, {48000, 2, 48000, 2},
	};
	const char *wav = fixture("oggsrc.wav"), *ogg = fixture("a.ogg");
	struct source *src = NULL;
	struct pcm p;
	char log[2048];
	size_t first, second;
	int lines, rc;

	if (!have_oggenc) {
		printf("note: oggenc is not installed; Ogg tests skipped\n");
		return;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct wav_spec w = pcm16(cases[i].in_rate, cases[i].in_ch, 2);
		size_t frames = write_wav(wav, &w);
		long want =
		    expect_frames(frames, cases[i].in_rate, cases[i].out_rate);

		if (!encode("oggenc -Q -q 4 -t 'A Title' -a 'An Artist'", wav,
		            "-o", ogg))
			continue;
		CHECK(decode_file(ogg, cases[i].out_rate, cases[i].out_ch, &p,
		                  &src) == 0);
		if (!src)
			continue;
		CHECK(strcmp(source_type(src), "vorbis") == 0);
		CHECK(source_native_rate(src) == cases[i].in_rate);
		CHECK(source_native_channels(src) == cases[i].in_ch);
		/* oggenc writes the keys in lower case. */
		CHECK(strcmp(source_title(src), "A Title") == 0);
		CHECK(strcmp(source_artist(src), "An Artist") == 0);
		CHECK(p.rc == 0);
		CHECKF(labs((long)p.frames - want) <= 2,
		       "ogg %u Hz -> %u Hz: %zu frames, want %ld",
		       cases[i].in_rate, cases[i].out_rate, p.frames, want);
		for (unsigned c = 0; c < cases[i].out_ch; c++)
			CHECKF(near(rms(&p, c), SINE_RMS, 0.02),
			       "ogg %u Hz -> %u Hz: rms %f", cases[i].in_rate,
			       cases[i].out_rate, rms(&p, c));
		if (cases[i].in_ch == 1 && cases[i].out_ch == 2)
			CHECK(channels_equal(&p));
		source_close(src);
		free(p.f);
	}

	/* Chained, same format: both links play. */
	{
		struct wav_spec w = pcm16(44100, 2, 1);

		first = write_wav(wav, &w);
		/* Serials of our own: two runs in one second may pick
		 * the same, and a chain needs them to differ. */
		encode("oggenc -Q -s 1", wav, "-o", fixture("l1.ogg"));
		w = pcm16(44100, 2, 0.5);
		second = write_wav(wav, &w);
		encode("oggenc -Q -s 2", wav, "-o", fixture("l2.ogg"));
		w = pcm16(22050, 1, 0.5);
		write_wav(wav, &w);
		encode("oggenc -Q -s 3", wav, "-o", fixture("l3.ogg"));
	}
	test_run("cat '%s' '%s' > '%s'", fixture("l1.ogg"), fixture("l2.ogg"),
	         ogg);
	CHECK(decode_file(ogg, 44100, 2, &p, NULL) == 0);
	CHECKF(labs((long)p.frames - (long)(first + second)) <= 2,
	       "chain: %zu frames, want %zu", p.frames, first + second);
	CHECK(p.rc == 0);
	free(p.f);

	/* Chained, the second link at another rate: ends cleanly there. */
	test_run("cat '%s' '%s' > '%s'", fixture("l1.ogg"), fixture("l3.ogg"),
	         ogg);
	capture_begin();
	rc = decode_file(ogg, 44100, 2, &p, NULL);
	lines = capture_end(log, sizeof(log));
	CHECK(rc == 0);
	CHECKF(labs((long)p.frames - (long)first) <= 2,
	       "chain with new rate: %zu frames, want %zu", p.frames, first);
	CHECK(p.rc == 0);
	CHECKF(lines == 1, "chain with new rate: %d lines: %s", lines, log);
	free(p.f);

	/* Damage in the middle: no crash, what decodes plays. */
	{
		struct wav_spec w = pcm16(44100, 2, 4);
		struct stat st;
		size_t frames;
		FILE *f;

		w.noise = true;
		frames = write_wav(wav, &w);
		encode("oggenc -Q", wav, "-o", ogg);
		stat(ogg, &st);
		f = fopen(ogg, "r+b");
		fseek(f, (long)st.st_size / 2, SEEK_SET);
		for (int i = 0; i < 500; i++)
			fputc((i * 7919) & 0xff, f);
		fclose(f);
		capture_begin();
		rc = decode_file(ogg, 48000, 2, &p, NULL);
		lines = capture_end(log, sizeof(log));
		CHECK(rc == 0);
		CHECKF(p.frames > frames / 2, "damaged ogg: %zu frames",
		       p.frames);
		CHECKF(lines == 1, "damaged ogg: %d lines: %s", lines, log);
		free(p.f);

		/* Truncated to half: plays about half. */
		encode("oggenc -Q", wav, "-o", ogg);
		stat(ogg, &st);
		CHECK(truncate(ogg, st.st_size / 2) == 0);
		CHECK(decode_file(ogg, 44100, 2, &p, NULL) == 0);
		CHECKF(p.frames > frames * 4 / 10 && p.frames < frames * 6 / 10,
		       "truncated ogg: %zu of %zu frames", p.frames, frames);
		CHECK(p.rc == 0);
		free(p.f);
	}
}

/* Reading one frame at a time gives the same audio as in big blocks, and
 * two sources open at once do not disturb each other. */
static void test_read_sizes_and_instances(void)
{
	const char *path = fixture("small.wav");
	struct wav_spec w = pcm16(22050, 1, 0.2);
	struct pcm_format fmt = {48000, 2};
	struct source *a, *b;
	struct pcm big, one;

	write_wav(path, &w);
	CHECK(decode_file(path, 48000, 2, &big, NULL) == 0);
	CHECK(source_open(&a, path, &fmt) == 0);
	CHECK(source_open(&b, path, &fmt) == 0);
	read_all(a, 2, 1, &one);
	CHECK(one.frames == big.frames);
	CHECK(one.frames == big.frames &&
	      memcmp(one.f, big.f, big.frames * 2 * sizeof(float)) == 0);
	free(one.f);
	read_all(b, 2, 999, &one);
	CHECK(one.frames == big.frames &&
	      memcmp(one.f, big.f, big.frames * 2 * sizeof(float)) == 0);
	/* At the end it stays at the end. */
	CHECK(source_read(a, one.f, 10) == 0);
	CHECK(source_read(b, one.f, 10) == 0);
	source_close(a);
	source_close(b);
	free(one.f);
	free(big.f);
}

/* ---- a file changed on disk while it plays ---- */

/* A 1 s sine WAV at path, made an hour old (as a library file is). */
static void old_sine(const char *path, double freq_hz)
{
	struct timespec t[2];

	CHECK(test_write_sine_wav(path, 44100, 2, 1.0, freq_hz) == 0);
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= 3600;
	t[1] = t[0];
	CHECK(utimensat(AT_FDCWD, path, t, 0) == 0);
}

/* Opens path, reads 4096 frames, does what, then reads on: want is the
 * read's answer after it (> 0: the rest of the file), with one log line
 * naming the path when it is a failure, none otherwise. */
static void read_across(const char *what, const char *path,
                        void (*act)(const char *path), long want)
{
	struct pcm_format fmt = {44100, 2};
	struct source *src = NULL;
	float *buf = malloc(44100 * 2 * sizeof(float));
	char log[1024];
	long r, rest = 0;
	int lines;

	CHECK(source_open(&src, path, &fmt) == 0);
	if (!src || !buf) {
		free(buf);
		source_close(src);
		return;
	}
	CHECK(source_read(src, buf, 4096) == 4096);
	act(path);
	capture_begin();
	while ((r = source_read(src, buf, 4096)) > 0)
		rest += r;
	lines = capture_end(log, sizeof(log));
	if (want > 0) {
		CHECKF(r == 0 && rest == want, "%s: read %ld more, end %ld",
		       what, rest, r);
		CHECKF(lines == 0, "%s: %s", what, log);
	} else {
		CHECKF(r == want && rest == 0, "%s: read %ld more, end %ld",
		       what, rest, r);
		CHECKF(lines == 1 && strstr(log, path) &&
		           strstr(log, "changed on disk"),
		       "%s: %d lines: %s", what, lines, log);
		/* And it stays ended, without another line. */
		capture_begin();
		r = source_read(src, buf, 4096);
		lines = capture_end(log, sizeof(log));
		CHECKF(r == want && lines == 0, "%s: again %ld, %s", what, r,
		       log);
	}
	source_close(src);
	free(buf);
}

static void rewrite(const char *path)
{
	/* In place (the same inode, as cp does), same size, other sound. */
	CHECK(test_write_sine_wav(path, 44100, 2, 1.0, 1000.0) == 0);
}

static void truncate_it(const char *path)
{
	CHECK(truncate(path, 0) == 0);
}

static void delete_it(const char *path)
{
	CHECK(unlink(path) == 0);
}

static void rename_over(const char *path)
{
	const char *tmp = fixture("replacement.wav");

	CHECK(test_write_sine_wav(tmp, 44100, 2, 0.5, 1000.0) == 0);
	CHECK(rename(tmp, path) == 0);
}

static void chmod_it(const char *path)
{
	CHECK(chmod(path, 0400) == 0);
}

static void test_changed_on_disk(void)
{
	const char *path = fixture("changing.wav");
	long rest = 44100 - 4096;

	old_sine(path, 440.0);
	read_across("rewritten in place", path, rewrite, -ERR_FORMAT);
	old_sine(path, 440.0);
	read_across("truncated to zero", path, truncate_it, -ERR_FORMAT);
	old_sine(path, 440.0);
	read_across("deleted: it plays on", path, delete_it, rest);
	old_sine(path, 440.0);
	read_across("renamed over: it plays on", path, rename_over, rest);
	old_sine(path, 440.0);
	read_across("chmod: it plays on", path, chmod_it, rest);
}

int main(void)
{
	test_tmpdir();
	have_lame = test_have("lame");
	have_oggenc = test_have("oggenc");
	have_sox = test_have("sox");
	test_refusals();
	test_mp3();
	test_vorbis();
	test_read_sizes_and_instances();
	test_changed_on_disk();
	srctest_free();
	return test_done();
}
