/*
 * test_mixer.c - decks and envelopes, sample by sample: equal-power and
 * linear crossfades follow their curves, a duck reaches its level in its
 * attack and comes back in its release, levels multiply, the lead deck
 * paces a pull without losing the other decks' frames, a looping deck
 * starts again, and a ramp replaced part-way has no jump.
 *
 * The sources are real WAV files of constant values, one deck on the left
 * channel and one on the right, so each output sample is one deck's gain.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mixer.h"
#include "source.h"
#include "srctest.h"
#include "testutil.h"

#define RATE 8000
#define CH 2

static const struct pcm_format FMT = {RATE, CH};

/* A float WAV of frames frames holding (l, r) in every frame. */
static const char *const_wav(const char *name, float l, float r, size_t frames)
{
	const char *path = test_path(name);
	struct buf b = {0};
	FILE *f;

	put(&b, "RIFF", 4);
	put_le(&b, 36 + frames * CH * 4, 4);
	put(&b, "WAVEfmt ", 8);
	put_le(&b, 16, 4);
	put_le(&b, 3, 2);
	put_le(&b, CH, 2);
	put_le(&b, RATE, 4);
	put_le(&b, RATE * CH * 4, 4);
	put_le(&b, CH * 4, 2);
	put_le(&b, 32, 2);
	put(&b, "data", 4);
	put_le(&b, frames * CH * 4, 4);
	for (size_t i = 0; i < frames; i++) {
		put(&b, &l, 4);
		put(&b, &r, 4);
	}
	f = fopen(path, "wb");
	if (f) {
		fwrite(b.p, 1, b.len, f);
		fclose(f);
	}
	free(b.p);
	return path;
}

static struct source *open_wav(const char *path)
{
	struct source *src = NULL;

	CHECKF(source_open(&src, path, &FMT) == 0, "open %s", path);
	return src;
}

static double db(double g)
{
	return 20 * log10(g > 1e-9 ? g : 1e-9);
}

/* Pulls n frames in pulls of block, into out (n * CH). */
static size_t pull_all(struct mixer *m, unsigned lead, float *out, size_t n,
                       size_t block)
{
	long got[MIXER_DECKS];
	size_t done = 0;

	while (done < n) {
		size_t want = n - done < block ? n - done : block;
		size_t r = mixer_pull(m, lead, out + done * CH, want, got);

		if (r == 0)
			break;
		done += r;
	}
	return done;
}

/* Out (deck 0 on the left) and in (deck 1 on the right) across a fade of
 * len frames: each frame's gain within 0.5 dB of the curve (and far
 * closer), and no step between frames larger than the curve's own. */
static void check_crossfade(enum mixer_curve curve, const char *what)
{
	struct mixer *m = NULL;
	size_t len = 3 * RATE, n = len + 1000;
	float *out = malloc(n * CH * sizeof(*out));
	double worst = 0, worst_power = 0;

	CHECK(mixer_new(&m, &FMT, 1024) == 0);
	mixer_load(m, 0, open_wav(const_wav("out.wav", 1, 0, n)), 1.0f, 1.0f);
	mixer_load(m, 1, open_wav(const_wav("in.wav", 0, 1, n)), 1.0f, 0.0f);
	mixer_ramp(m, 0, MIXER_FADE, 0.0f, len, curve);
	mixer_ramp(m, 1, MIXER_FADE, 1.0f, len, curve);
	CHECK(pull_all(m, 0, out, n, 700) == n);
	for (size_t i = 0; i < len; i++) {
		double t = (double)i / (double)len, want_out, want_in;
		double g_out = (double)out[i * CH],
		       g_in = (double)out[i * CH + 1];

		if (curve == MIXER_EQUAL_POWER) {
			want_out = cos(M_PI_2 * t);
			want_in = sin(M_PI_2 * t);
		} else {
			want_out = 1 - t;
			want_in = t;
		}
		/* Compared in dB where the gain is audible (above -60 dB). */
		if (want_out > 1e-3 && fabs(db(g_out) - db(want_out)) > worst)
			worst = fabs(db(g_out) - db(want_out));
		if (want_in > 1e-3 && fabs(db(g_in) - db(want_in)) > worst)
			worst = fabs(db(g_in) - db(want_in));
		if (curve == MIXER_EQUAL_POWER &&
		    fabs(g_out * g_out + g_in * g_in - 1) > worst_power)
			worst_power = fabs(g_out * g_out + g_in * g_in - 1);
	}
	CHECKF(worst < 0.05, "%s: gains off the curve by %.3f dB", what, worst);
	CHECKF(worst_power < 1e-3, "%s: power off by %g", what, worst_power);
	/* After the fade: out silent, in at full. */
	CHECK((double)out[(len + 10) * CH] == 0.0 &&
	      (double)out[(len + 10) * CH + 1] == 1.0);
	CHECK(mixer_gain(m, 0, MIXER_FADE) == 0.0f &&
	      mixer_gain(m, 1, MIXER_FADE) == 1.0f);
	printf("%s crossfade: worst %.4f dB off the curve\n", what, worst);
	mixer_free(m);
	free(out);
}

/* The duck: down 12 dB along a straight line in dB over the attack, then
 * held, then back over the release. */
static void test_duck(void)
{
	struct mixer *m = NULL;
	size_t attack = RATE / 5, hold = RATE, release = RATE * 4 / 5;
	size_t n = attack + hold + release + 100;
	float *out = malloc(n * CH * sizeof(*out));
	float down = (float)pow(10, -12 / 20.0);
	double worst = 0;

	CHECK(mixer_new(&m, &FMT, 1024) == 0);
	mixer_load(m, 0, open_wav(const_wav("music.wav", 0.5f, 0.5f, n)), 1.0f,
	           1.0f);
	mixer_ramp(m, 0, MIXER_DUCK, down, attack, MIXER_DB);
	CHECK(pull_all(m, 0, out, attack + hold, 333) == attack + hold);
	mixer_ramp(m, 0, MIXER_DUCK, 1.0f, release, MIXER_DB);
	CHECK(pull_all(m, 0, out + (attack + hold) * CH, n - attack - hold,
	               333) == n - attack - hold);
	for (size_t i = 0; i < attack; i++) {
		double want = -12.0 * (double)i / (double)attack;
		double got = db((double)out[i * CH] / 0.5);

		if (fabs(got - want) > worst)
			worst = fabs(got - want);
	}
	CHECKF(worst < 0.01, "attack off the dB line by %.4f dB", worst);
	CHECKF(fabs(db((double)out[attack * CH] / 0.5) + 12) < 0.01,
	       "down by the end of the attack (%.3f dB)",
	       db((double)out[attack * CH] / 0.5));
	CHECK(fabs(db((double)out[(attack + hold - 1) * CH] / 0.5) + 12) <
	      0.01);
	CHECK(fabs(db((double)out[(attack + hold + release / 2) * CH] / 0.5) +
	           6) < 0.05);
	CHECKF(fabs((double)out[(attack + hold + release) * CH] - 0.5) < 1e-6,
	       "back by the end of the release (%g)",
	       (double)out[(attack + hold + release) * CH]);
	mixer_free(m);
	free(out);
}

/* Level, fade and duck multiply. */
static void test_levels_multiply(void)
{
	struct mixer *m = NULL;
	float out[64 * CH];
	long got[MIXER_DECKS];

	CHECK(mixer_new(&m, &FMT, 64) == 0);
	mixer_load(m, 2, open_wav(const_wav("one.wav", 1, 1, 1000)), 0.5f,
	           0.5f);
	mixer_ramp(m, 2, MIXER_DUCK, 0.25f, 0, MIXER_DB);
	CHECK(mixer_pull(m, 2, out, 64, got) == 64);
	CHECK(got[2] == 64 && got[0] == -1 && got[1] == -1 && got[3] == -1);
	CHECKF(fabs((double)out[10] - 0.0625) < 1e-7, "0.5 x 0.5 x 0.25 = %g",
	       (double)out[10]);
	mixer_free(m);
}

/* The lead ends part-way through a pull: the pull stops there, the other
 * deck gave only as many, and its next frames follow on with none lost. */
static void test_lead_paces(void)
{
	struct mixer *m = NULL;
	float out[1000 * CH];
	long got[MIXER_DECKS];
	size_t n;

	CHECK(mixer_new(&m, &FMT, 1000) == 0);
	mixer_load(m, 0, open_wav(const_wav("lead.wav", 0.25f, 0, 300)), 1.0f,
	           1.0f);
	/* A ramp over 600 frames on the other deck: its position shows
	 * whether frames went missing. */
	mixer_load(m, 1, open_wav(const_wav("tail.wav", 0, 1, 2000)), 1.0f,
	           0.0f);
	mixer_ramp(m, 1, MIXER_FADE, 1.0f, 600, MIXER_LINEAR);
	n = mixer_pull(m, 0, out, 1000, got);
	CHECKF(n == 300 && got[0] == 300 && got[1] == 300,
	       "lead of 300: pull %zu, got %ld/%ld", n, got[0], got[1]);
	CHECK(fabs((double)out[299 * CH + 1] - 299.0 / 600) < 1e-5);
	n = mixer_pull(m, 0, out, 1000, got);
	CHECK(n == 0 && got[0] == 0 && got[1] == 0);
	mixer_clear(m, 0);
	/* Deck 1 leads now, from frame 300 of its ramp. */
	n = mixer_pull(m, 1, out, 1000, got);
	CHECK(n == 1000 && got[1] == 1000);
	CHECKF(fabs((double)out[1] - 300.0 / 600) < 1e-5,
	       "the ramp goes on from 300 (%g)", (double)out[1]);
	CHECK((double)out[400 * CH + 1] == 1.0);
	mixer_free(m);
}

/* A looping deck (a bed) shorter than a pull starts again, seamlessly;
 * one whose file is gone ends and frees its deck. */
static void test_loop(void)
{
	struct mixer *m = NULL;
	float out[500 * CH];
	long got[MIXER_DECKS];
	const char *path = const_wav("bed.wav", 0.5f, 0.5f, 120);
	size_t zeros = 0;

	CHECK(mixer_new(&m, &FMT, 500) == 0);
	CHECK(mixer_load_loop(m, 3, path, 1.0f, 1.0f) == 0);
	CHECK(strcmp(mixer_loop_path(m, 3), path) == 0);
	for (int k = 0; k < 5; k++) {
		CHECK(mixer_pull(m, MIXER_DECKS, out, 500, got) == 500);
		for (size_t i = 0; i < 500 * CH; i++)
			zeros += (double)out[i] != 0.5;
	}
	CHECKF(zeros == 0, "%zu samples missing in the loop", zeros);
	CHECK(remove(path) == 0);
	/* The file is gone: at its next end the deck is cleared. */
	for (int k = 0; k < 3; k++)
		mixer_pull(m, MIXER_DECKS, out, 500, got);
	CHECK(!mixer_live(m, 3));
	CHECK(mixer_load_loop(m, 3, path, 1.0f, 1.0f) < 0);
	mixer_free(m);
}

/* A ramp replaced part-way goes on from where the gain is: no jump. */
static void test_ramp_replaced(void)
{
	struct mixer *m = NULL;
	float out[2000 * CH];
	long got[MIXER_DECKS];
	float before, after;

	CHECK(mixer_new(&m, &FMT, 2000) == 0);
	mixer_load(m, 0, open_wav(const_wav("r.wav", 1, 1, 5000)), 1.0f, 1.0f);
	mixer_ramp(m, 0, MIXER_FADE, 0.0f, 1000, MIXER_EQUAL_POWER);
	CHECK(mixer_pull(m, 0, out, 400, got) == 400);
	before = out[399 * CH];
	mixer_ramp(m, 0, MIXER_FADE, 1.0f, 1000, MIXER_LINEAR);
	CHECK(mixer_pull(m, 0, out, 2000, got) == 2000);
	after = out[0];
	CHECKF(fabs((double)after - (double)before) < 0.002, "jump %g -> %g",
	       (double)before, (double)after);
	CHECK((double)out[1500 * CH] == 1.0);
	mixer_free(m);
}

int main(void)
{
	check_crossfade(MIXER_EQUAL_POWER, "equal-power");
	check_crossfade(MIXER_LINEAR, "linear");
	test_duck();
	test_levels_multiply();
	test_lead_paces();
	test_loop();
	test_ramp_replaced();
	return test_done();
}
