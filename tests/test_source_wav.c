/*
 * test_source_wav.c - WAV files: every sample format, conversions to the
 * station format, chunks and tags, multichannel fold-down, and headers that
 * lie or attack.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "resample.h"
#include "source.h"
#include "srctest.h"
#include "testutil.h"

static void test_wav_conversions(void)
{
	static const unsigned in_rates[] = {22050, 44100, 48000};
	static const unsigned out_rates[] = {44100, 48000};
	const char *path = fixture("conv.wav");

	for (size_t i = 0; i < 3; i++) {
		for (unsigned ic = 1; ic <= 2; ic++) {
			struct wav_spec w = pcm16(in_rates[i], ic, 1.0);
			size_t frames = write_wav(path, &w);

			for (size_t o = 0; o < 2; o++) {
				for (unsigned oc = 1; oc <= 2; oc++) {
					struct source *src = NULL;
					struct pcm p;
					long want = expect_frames(
					    frames, in_rates[i], out_rates[o]);

					CHECK(decode_file(path, out_rates[o],
					                  oc, &p, &src) == 0);
					if (!src)
						continue;
					CHECK(strcmp(source_type(src), "wav") ==
					      0);
					CHECK(source_native_rate(src) ==
					      in_rates[i]);
					CHECK(source_native_channels(src) ==
					      ic);
					CHECK(p.rc == 0);
					CHECKF(
					    labs((long)p.frames - want) <= 2,
					    "%u Hz %u ch -> %u Hz %u ch: %zu "
					    "frames, want %ld",
					    in_rates[i], ic, out_rates[o], oc,
					    p.frames, want);
					for (unsigned c = 0; c < oc; c++)
						CHECKF(near(rms(&p, c),
						            SINE_RMS, 0.02),
						       "%u Hz %u ch -> %u Hz "
						       "%u ch: rms %f",
						       in_rates[i], ic,
						       out_rates[o], oc,
						       rms(&p, c));
					if (oc == 2)
						CHECK(channels_equal(&p));
					if (in_rates[i] == out_rates[o])
						CHECK(p.frames == frames);
					source_close(src);
					free(p.f);
				}
			}
		}
	}
}

/* Sample formats: each decodes to the same sine. */
static void test_wav_formats(void)
{
	static const struct {
		unsigned tag, sub, bits, bytes;
		const char *name;
	} fmts[] = {
	    {1, 0, 8, 1, "8-bit"},
	    {1, 0, 16, 2, "16-bit"},
	    {1, 0, 24, 3, "24-bit"},
	    {1, 0, 32, 4, "32-bit"},
	    {1, 0, 20, 3, "20-bit in 24"},
	    {3, 0, 32, 4, "float32"},
	    {3, 0, 64, 8, "float64"},
	    {0xfffe, 1, 24, 3, "extensible 24-bit"},
	    {0xfffe, 3, 32, 4, "extensible float32"},
	};
	const char *path = fixture("fmt.wav");

	for (size_t i = 0; i < sizeof(fmts) / sizeof(*fmts); i++) {
		struct wav_spec w = {.tag = fmts[i].tag,
		                     .sub = fmts[i].sub,
		                     .bits = fmts[i].bits,
		                     .bytes = fmts[i].bytes,
		                     .channels = 2,
		                     .rate = 44100,
		                     .seconds = 0.5,
		                     .mask = 0x3};
		size_t frames = write_wav(path, &w);
		struct pcm p;

		CHECKF(decode_file(path, 44100, 2, &p, NULL) == 0, "%s",
		       fmts[i].name);
		CHECKF(p.frames == frames && p.rc == 0, "%s: %zu frames",
		       fmts[i].name, p.frames);
		CHECKF(near(rms(&p, 0), SINE_RMS, 0.02), "%s: rms %f",
		       fmts[i].name, rms(&p, 0));
		CHECKF(near(peak(&p), 0.5, 0.02), "%s: peak %f", fmts[i].name,
		       peak(&p));
		free(p.f);
	}
}

static void test_wav_chunks_and_tags(void)
{
	const char *path = fixture("tags.wav");
	struct wav_spec w = pcm16(44100, 2, 0.3);
	struct source *src = NULL;
	struct pcm p;
	char log[512];
	size_t frames;

	/* LIST INFO before the data, an odd junk chunk with its pad;
	 * control characters and outer spaces do not survive. */
	w.title = " Morning\tShow  ";
	w.artist = "Thab\xc3\xa9";
	w.junk = true;
	frames = write_wav(path, &w);
	CHECK(decode_file(path, 44100, 2, &p, &src) == 0);
	CHECK(p.frames == frames);
	CHECK(src && strcmp(source_title(src), "Morning Show") == 0);
	CHECK(src && strcmp(source_artist(src), "Thab\xc3\xa9") == 0);
	source_close(src);
	free(p.f);

	/* LIST after the data, Latin-1 text made UTF-8; odd data size. */
	w = pcm16(44100, 1, 0.3);
	w.seconds = 13231.0 / 44100;
	w.bits = 8;
	w.bytes = 1;
	w.title = "Caf\xe9";
	w.artist = "Artist";
	w.list_after = true;
	frames = write_wav(path, &w);
	CHECK(frames % 2 == 1);
	CHECK(decode_file(path, 44100, 2, &p, &src) == 0);
	CHECK(p.frames == frames);
	CHECK(src && strcmp(source_title(src), "Caf\xc3\xa9") == 0);
	CHECK(src && strcmp(source_artist(src), "Artist") == 0);
	source_close(src);
	free(p.f);

	/* An empty data chunk, then tags: nothing to play, nothing said. */
	w = pcm16(44100, 2, 0);
	w.title = "Silence";
	w.list_after = true;
	write_wav(path, &w);
	capture_begin();
	CHECK(decode_file(path, 48000, 2, &p, &src) == 0);
	CHECK(capture_end(log, sizeof(log)) == 0);
	CHECK(p.frames == 0 && p.rc == 0);
	CHECK(src && strcmp(source_title(src), "Silence") == 0);
	source_close(src);
	free(p.f);

	/* No tags: "". */
	w = pcm16(44100, 2, 0.1);
	write_wav(path, &w);
	CHECK(decode_file(path, 44100, 2, &p, &src) == 0);
	CHECK(src && strcmp(source_title(src), "") == 0);
	CHECK(src && strcmp(source_artist(src), "") == 0);
	source_close(src);
	free(p.f);
}

/* 5.1 and 8 channels fold down without clipping, keeping the level. */
static void test_wav_multichannel(void)
{
	const char *path = fixture("surround.wav");
	struct wav_spec w = {.tag = 0xfffe,
	                     .sub = 1,
	                     .bits = 16,
	                     .bytes = 2,
	                     .channels = 6,
	                     .rate = 48000,
	                     .seconds = 0.5,
	                     .mask = 0x3f};
	struct source *src = NULL;
	struct pcm p;

	write_wav(path, &w);
	for (unsigned oc = 1; oc <= 2; oc++) {
		CHECK(decode_file(path, 44100, oc, &p, &src) == 0);
		CHECK(src && source_native_channels(src) == 6);
		CHECKF(near(rms(&p, 0), SINE_RMS, 0.02), "5.1 -> %u: rms %f",
		       oc, rms(&p, 0));
		CHECK(peak(&p) <= 0.52);
		source_close(src);
		free(p.f);
	}
	w = pcm16(44100, 8, 0.3);
	write_wav(path, &w);
	CHECK(decode_file(path, 44100, 2, &p, NULL) == 0);
	CHECK(near(rms(&p, 1), SINE_RMS, 0.02));
	free(p.f);
}

/* Headers that lie about the size: play what is really there. */
static void test_wav_lying_sizes(void)
{
	static const uint32_t lies[] = {100000000, 0xffffffffu, 0};
	const char *path = fixture("lie.wav");

	for (size_t i = 0; i < 3; i++) {
		struct wav_spec w = pcm16(44100, 2, 0.25);
		struct pcm p;
		char log[1024];
		size_t frames;
		int rc, lines;

		w.lie = true;
		w.data_len = lies[i];
		frames = write_wav(path, &w);
		capture_begin();
		rc = decode_file(path, 44100, 2, &p, NULL);
		lines = capture_end(log, sizeof(log));
		CHECK(rc == 0);
		CHECKF(p.frames == frames, "data size %u: %zu frames, want %zu",
		       lies[i], p.frames, frames);
		CHECK(p.rc == 0);
		CHECKF(lines == 1, "data size %u: %d lines: %s", lies[i], lines,
		       log);
		free(p.f);
	}
}

/* Corrupt a valid header field by field: refused, never a crash. */
static void test_wav_hostile(void)
{
	static const struct {
		size_t at;
		unsigned bytes;
		uint32_t value;
		int rc;
		const char *what;
	} cuts[] = {
	    {22, 2, 0, -ERR_FORMAT, "0 channels"},
	    {24, 4, 0, -ERR_FORMAT, "rate 0"},
	    {22, 2, 200, -ERR_FORMAT, "200 channels"},
	    {24, 4, 4000000000u, -ERR_FORMAT, "rate 4e9"},
	    {32, 2, 0, -ERR_FORMAT, "block align 0"},
	    {32, 2, 3, -ERR_FORMAT, "block align 3 for stereo"},
	    {34, 2, 0, -ERR_FORMAT, "0 bits"},
	    {34, 2, 24, -ERR_FORMAT, "24 bits in 2 bytes"},
	    {20, 2, 2, -ERR_UNSUPPORTED, "ADPCM"},
	    {20, 2, 0xfffe, -ERR_FORMAT, "extensible in 16 bytes"},
	    {16, 4, 4, -ERR_FORMAT, "fmt chunk of 4 bytes"},
	    {16, 4, 0xfffffff0u, -ERR_FORMAT, "fmt chunk of 4 GB"},
	    {36, 4, 0x00746164, -ERR_FORMAT, "no data chunk"},
	};
	const char *path = fixture("hostile.wav");
	struct wav_spec w = pcm16(44100, 2, 0.05);
	struct buf b = {0};
	FILE *f;

	/* Both fields absurd at once, as the brief has it. */
	write_wav(path, &w);
	f = fopen(path, "r+b");
	fseek(f, 22, SEEK_SET);
	fwrite("\0\0\0\0\0\0", 1, 6, f);
	fclose(f);
	expect_refused(path, -ERR_FORMAT, "channels 0 and rate 0");

	for (size_t i = 0; i < sizeof(cuts) / sizeof(*cuts); i++) {
		write_wav(path, &w);
		f = fopen(path, "r+b");
		fseek(f, (long)cuts[i].at, SEEK_SET);
		for (unsigned k = 0; k < cuts[i].bytes; k++)
			fputc((int)(cuts[i].value >> (8 * k)) & 0xff, f);
		fclose(f);
		expect_refused(path, cuts[i].rc, cuts[i].what);
	}

	/* Cut off inside the header. */
	put(&b, "RIFF\x24\0\0\0WAVEfmt \x10\0\0\0\x01\0", 22);
	test_write_file(path, b.p, b.len);
	expect_refused(path, -ERR_FORMAT, "header cut short");
	test_write_file(path, "RIFF", 4);
	expect_refused(path, -ERR_FORMAT, "RIFF alone");
	free(b.p);

	/* Random damage to the first 64 bytes: any outcome but a crash
	 * (the sanitizer build watches every byte read). */
	srand(1234);
	log_set_level(LOG_LEVEL_ERROR);
	for (int i = 0; i < 400; i++) {
		struct pcm p;
		int rc;

		write_wav(path, &w);
		f = fopen(path, "r+b");
		for (int k = 0; k < 1 + i % 6; k++) {
			fseek(f, rand() % 64, SEEK_SET);
			fputc(rand() & 0xff, f);
		}
		fclose(f);
		rc = decode_file(path, 48000, 2, &p, NULL);
		CHECK(rc <= 0);
		/* At most 8820 bytes of 8-bit mono at 8 kHz, made 48 kHz. */
		CHECK(p.frames <= 53000);
		free(p.f);
	}
	log_set_level(LOG_LEVEL_INFO);
}

/* ---- refusals shared by every format ---- */

int main(void)
{
	test_tmpdir();
	test_wav_conversions();
	test_wav_formats();
	test_wav_chunks_and_tags();
	test_wav_multichannel();
	test_wav_lying_sizes();
	test_wav_hostile();
	srctest_free();
	return test_done();
}
