/*
 * test_pass.c - music passed through from its cached encoding is the same
 * programme, to the frame.
 *
 * A programme of three music items (crossfades, a cue-in) renders to an
 * Ogg file twice: once with an empty cache (the player asks for the
 * encodings it lacks, and the test makes them), once with them. Both
 * decode to the same length, and every 50 ms window of the second is the
 * first's but for the codec's noise: a pass link that started or ended a
 * single frame off would show there (the check is shown to see a shift of
 * one frame). Then the same with breaking news (an interrupt) in the
 * middle of a pass, a stop, and a programme that ends inside a pass.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "enccache.h"
#include "output.h"
#include "player.h"
#include "source.h"
#include "testutil.h"

#define RATE 16000
#define CH 2
#define NITEMS 3
#define MAX_SPECS 8

static const struct pcm_format fmt = {RATE, CH};

struct pfeed {
	int calls;
	int64_t interrupt_at_ms; /* programme time; 0: never */
	bool interrupted;
	volatile sig_atomic_t *stop;
	int64_t stop_at_ms;
	/* What the player asked to have encoded. */
	struct enccache_spec spec[MAX_SPECS];
	char path[MAX_SPECS][256];
	int nspec;
};

static int next(void *ctx, int64_t at_ms, struct player_item *item)
{
	static const char *const files[NITEMS] = {"a.wav", "b.wav", "a.wav"};
	static const int64_t len_ms[NITEMS] = {26000, 23000, 26000};
	struct pfeed *f = ctx;

	(void)at_ms;
	if (f->calls >= NITEMS)
		return 1;
	memset(item, 0, sizeof(*item));
	snprintf(item->path, sizeof(item->path), "%s",
	         test_path(files[f->calls]));
	item->length_ms = len_ms[f->calls];
	item->cue_in_ms = f->calls == 1 ? 1000 : 0;
	item->xfade_ms = 3000;
	item->mix_in = true;
	item->gain = f->calls == 1 ? 0.7f : 0.9f;
	item->id = f->calls + 1;
	f->calls++;
	return 0;
}

static bool interrupt(void *ctx, int64_t at_ms, int64_t *ask_at_ms)
{
	struct pfeed *f = ctx;

	if (f->stop && f->stop_at_ms && at_ms >= f->stop_at_ms)
		*f->stop = 1;
	if (!f->interrupt_at_ms || f->interrupted)
		return false;
	if (at_ms < f->interrupt_at_ms) {
		*ask_at_ms = f->interrupt_at_ms;
		return false;
	}
	f->interrupted = true;
	return true;
}

static void missing(void *ctx, const struct enccache_spec *spec)
{
	struct pfeed *f = ctx;

	for (int i = 0; i < f->nspec; i++)
		if (strcmp(f->path[i], spec->path) == 0 &&
		    f->spec[i].level == spec->level)
			return;
	if (f->nspec == MAX_SPECS)
		return;
	f->spec[f->nspec] = *spec;
	snprintf(f->path[f->nspec], sizeof(f->path[0]), "%s", spec->path);
	f->spec[f->nspec].path = f->path[f->nspec];
	f->nspec++;
}

/* Renders the programme to out (an .ogg in the temp dir); the stats. */
static struct player_stats render(const char *out, struct pfeed *f, bool cache,
                                  double max_seconds)
{
	struct player_feed feed = {
	    .next = next, .interrupt = interrupt, .ctx = f};
	struct player_options opt = {.fmt = fmt,
	                             .limiter = true,
	                             .ceiling_dbtp = -1.0,
	                             .dead_air_ms = 5000,
	                             .dead_air_db = -50,
	                             .stop_fade_ms = 500,
	                             .max_seconds = max_seconds,
	                             .pass_dir =
	                                 cache ? test_path("cache") : NULL,
	                             .pass_missing = missing,
	                             .pass_ctx = f};
	struct out_options oo = {.fmt = fmt, .quality = 0.4f};
	struct player_stats st = {0};
	struct output *outs[1];
	volatile sig_atomic_t stop = 0;
	char spec[512];
	size_t n = 1;

	f->stop = &stop;
	snprintf(spec, sizeof(spec), "file:%s", test_path(out));
	CHECK(out_open(&outs[0], spec, &oo) == 0);
	CHECK(player_run(&feed, outs, &n, &opt, &stop, &st) == 0);
	CHECK(n == 1);
	for (size_t i = 0; i < n; i++)
		CHECK(out_close(outs[i]) == 0);
	f->calls = 0;
	f->interrupted = false;
	f->stop = NULL;
	return st;
}

/* All of an Ogg file, decoded: *frames of them. */
static float *decode(const char *name, size_t *frames)
{
	struct source *src;
	size_t cap = (size_t)RATE * 200, n = 0;
	float *buf = malloc(cap * CH * sizeof(*buf));
	long got;

	*frames = 0;
	if (!buf || source_open(&src, test_path(name), &fmt) != 0) {
		free(buf);
		CHECKF(false, "%s does not open", name);
		return NULL;
	}
	while (n < cap &&
	       (got = source_read(src, buf + n * CH,
	                          cap - n < 4096 ? cap - n : 4096)) > 0)
		n += (size_t)got;
	source_close(src);
	*frames = n;
	return buf;
}

/*
 * The worst signal-to-difference ratio (dB) between a and b (b shifted by
 * shift frames) over 50 ms windows where a is not near silence, and the
 * window where it is.
 */
static double worst_snr(const float *a, const float *b, size_t n, int shift,
                        size_t *at)
{
	size_t win = RATE / 20;
	double worst = 1e9;

	*at = 0;
	for (size_t w = 1; (w + 1) * win + 1 < n; w++) {
		double sig = 0, diff = 0, snr;

		for (size_t i = w * win * CH; i < (w + 1) * win * CH; i++) {
			double d =
			    (double)a[i] - (double)b[(long)i + shift * CH];

			sig += (double)a[i] * (double)a[i];
			diff += d * d;
		}
		if (sig < win * CH * 1e-4)
			continue; /* a fade's tail: too quiet to judge */
		snr = 10 * log10(sig / (diff + 1e-20));
		if (snr < worst) {
			worst = snr;
			*at = w * win;
		}
	}
	return worst;
}

/* Encodes what the player asked for, as the daemon's filler would. */
static void fill(struct pfeed *f)
{
	for (int i = 0; i < f->nspec; i++)
		CHECKF(enccache_build(test_path("cache"), &f->spec[i], NULL) ==
		           0,
		       "%s", f->path[i]);
}

static void compare(const char *ref, const char *got, double min_snr)
{
	size_t na, nb, at;
	float *a = decode(ref, &na), *b = decode(got, &nb);
	double snr;

	CHECKF(na == nb && na > 0, "%s: %zu frames, %s: %zu", ref, na, got, nb);
	if (a && b && na == nb && na > RATE) {
		snr = worst_snr(a, b, na, 0, &at);
		fprintf(stderr, "%s against %s: worst 50 ms %.1f dB at %.3f s",
		        got, ref, snr, (double)at / RATE);
		CHECKF(snr > min_snr, "%s against %s: %.1f dB at %.3f s", got,
		       ref, snr, (double)at / RATE);
		/* The check sees a shift of one frame. */
		snr = worst_snr(a, b, na - 1, 1, &at);
		fprintf(stderr, "; one frame off, %.1f dB\n", snr);
		CHECKF(snr < min_snr, "one frame off still %.1f dB", snr);
	}
	free(a);
	free(b);
}

static void test_same_programme(void)
{
	struct pfeed f = {0};
	struct player_stats cold, warm;

	cold = render("cold.ogg", &f, true, 0);
	CHECK(cold.passed == 0);
	/* Both files, at the level each played at. */
	CHECKF(f.nspec == 2, "%d specs asked for", f.nspec);
	fill(&f);
	warm = render("warm.ogg", &f, true, 0);
	CHECK(warm.frames == cold.frames);
	CHECK(warm.items == NITEMS);
	/* Most of it: all but the crossfades and the edges. */
	CHECKF(warm.passed > cold.frames / 2, "%llu of %llu passed",
	       warm.passed, cold.frames);
	compare("cold.ogg", "warm.ogg", 16);
}

static void test_interrupt_in_pass(void)
{
	struct pfeed f = {.interrupt_at_ms = 15000};
	struct player_stats cold, warm;

	cold = render("icold.ogg", &f, false, 0);
	warm = render("iwarm.ogg", &f, true, 0);
	CHECK(warm.passed > 0);
	/* The fade starts at the deadline either way, give or take the
	 * rounding of a millisecond to frames (and the limiter's look-ahead
	 * when passing): a few frames, not a block. */
	CHECKF(llabs((long long)warm.frames - (long long)cold.frames) < 300,
	       "%llu against %llu frames", warm.frames, cold.frames);
	CHECK(cold.frames < (unsigned long long)RATE * 60);
}

static void test_ends_in_pass(void)
{
	struct pfeed f = {0};
	struct player_stats st = render("short.ogg", &f, true, 20.0);
	size_t n;
	float *a = decode("short.ogg", &n);

	CHECK(st.passed > 0);
	CHECKF(n == (size_t)RATE * 20, "%zu frames", n);
	free(a);
}

static void test_stop_in_pass(void)
{
	struct pfeed f = {.stop_at_ms = 17000};
	struct player_stats st = render("stop.ogg", &f, true, 0);
	size_t n;
	float *a = decode("stop.ogg", &n);

	CHECK(st.passed > 0);
	/* 17 s, a block at most to hear the stop, and the fade. */
	CHECKF(n >= (size_t)RATE * 17 && n < (size_t)RATE * 19, "%zu frames",
	       n);
	CHECK(n == st.frames);
	free(a);
}

static void test_no_cache_dir(void)
{
	struct pfeed f = {0};
	struct player_stats st = render("nocache.ogg", &f, false, 0);

	CHECK(st.passed == 0 && f.nspec == 0);
}

int main(void)
{
	test_tmpdir();
	if (!test_have("sox")) {
		fprintf(stderr, "test_pass: needs sox for its music\n");
		return 1;
	}
	/* Music: sweeps and chords, so that nothing lines up by chance. */
	CHECK(test_run("sox -n -r %d -c 2 -b 16 %s synth 26 sine 200-2400 "
	               "sine 330 tremolo 3 40 gain -8",
	               RATE, test_path("a.wav")) == 0);
	CHECK(test_run("sox -n -r %d -c 2 -b 16 %s synth 25 square 110 "
	               "sine 2000-300 gain -12",
	               RATE, test_path("b.wav")) == 0);
	CHECK(mkdir(test_path("cache"), 0755) == 0);
	test_no_cache_dir();
	test_same_programme();
	test_interrupt_in_pass();
	test_ends_in_pass();
	test_stop_in_pass();
	return test_done();
}
