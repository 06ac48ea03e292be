/*
 * test_limiter.c - the peak limiter: bit-exact below the ceiling, true
 * peaks (measured independently with libebur128) held to the ceiling for
 * loud music and for inter-sample peaks, its delay, and its release.
 */
#include <ebur128.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "limiter.h"
#include "testutil.h"

#define RATE 48000
#define CH 2

/* The true peak of frames in dBTP, by libebur128 (4x oversampling). */
static double true_peak_db(const float *f, size_t n)
{
	ebur128_state *st = ebur128_init(CH, RATE, EBUR128_MODE_TRUE_PEAK);
	double tp = 0, c;

	ebur128_add_frames_float(st, f, n);
	for (unsigned i = 0; i < CH; i++) {
		ebur128_true_peak(st, i, &c);
		if (c > tp)
			tp = c;
	}
	ebur128_destroy(&st);
	return 20 * log10(tp);
}

/* A sine on each channel, the second spread radians later. */
static float *signal2(size_t n, double amp, double freq, double phase,
                      double spread)
{
	float *f = malloc(n * CH * sizeof(*f));

	for (size_t i = 0; f && i < n; i++)
		for (int c = 0; c < CH; c++)
			f[i * CH + c] = (float)(amp * sin(2 * M_PI * freq *
			                                      (double)i / RATE +
			                                  phase + c * spread));
	return f;
}

static float *signal(size_t n, double amp, double freq, double phase)
{
	return signal2(n, amp, freq, phase, 0.3);
}

static void test_quiet_is_untouched(void)
{
	struct limiter *l = NULL;
	size_t n = RATE, d;
	float *in = signal(n, 0.5, 440, 0), *out = malloc(n * CH * 4);
	int diff = 0;

	CHECK(limiter_new(&l, RATE, CH, -1.0) == 0);
	d = limiter_latency(l);
	CHECK(d > 200 && d < 300); /* about 5 ms at 48 kHz */
	memcpy(out, in, n * CH * 4);
	for (size_t i = 0; i < n; i += 1000)
		limiter_process(l, out + i * CH, n - i < 1000 ? n - i : 1000);
	for (size_t i = 0; i < n * CH; i++)
		diff += i < d * CH ? out[i] != 0.0f : out[i] != in[i - d * CH];
	CHECKF(diff == 0, "%d samples differ", diff);
	CHECK(limiter_take_max_reduction_db(l) == 0.0);
	limiter_free(l);
	free(in);
	free(out);
}

static void test_loud_is_held(void)
{
	struct limiter *l = NULL;
	size_t n = 3 * RATE, d, same = 0;
	/* 1 s at +6 dBFS, then 2 s at -6 dBFS. */
	float *f = signal(n, 2.0, 997, 0), *ref = signal(n, 0.5, 997, 0);
	double tp;

	for (size_t i = RATE * CH; i < n * CH; i++)
		f[i] = ref[i];
	CHECK(limiter_new(&l, RATE, CH, -1.0) == 0);
	d = limiter_latency(l);
	limiter_process(l, f, n);
	tp = true_peak_db(f, RATE + d);
	CHECKF(tp <= -1.0 + 0.1, "true peak %.2f dBTP over -1", tp);
	CHECK(limiter_take_max_reduction_db(l) < -6.0);
	/* Released within 1.5 s: the rest is the input again, exactly. */
	for (size_t i = 5 * RATE / 2; i < n - d; i++)
		same += f[(i + d) * CH] == ref[i * CH];
	CHECKF(same == RATE / 2 - d, "%zu of %zu frames restored", same,
	       RATE / 2 - d);
	limiter_free(l);
	free(f);
	free(ref);
}

/* A sine at a quarter of the rate, 45 degrees off: every sample is at
 * 0.707 of the wave's peak, so sample peaks miss 3 dB that a DAC makes. */
static void test_intersample_peaks(void)
{
	struct limiter *l = NULL;
	size_t n = RATE / 2;
	float *f = signal2(n, 0.99, RATE / 4.0, M_PI / 4, 0);
	double before = true_peak_db(f, n), after, sample = 0;

	for (size_t i = 0; i < n * CH; i++)
		if (fabs((double)f[i]) > sample)
			sample = fabs((double)f[i]);
	CHECK(20 * log10(sample) < -2.9); /* samples look safe... */
	CHECK(before > -0.5);             /* ...the true peak is not */
	CHECK(limiter_new(&l, RATE, CH, -1.0) == 0);
	limiter_process(l, f, n);
	after =
	    true_peak_db(f + limiter_latency(l) * CH, n - limiter_latency(l));
	CHECKF(after <= -1.0 + 0.15, "true peak %.2f -> %.2f dBTP", before,
	       after);
	limiter_free(l);
	free(f);
}

static void test_bad_args(void)
{
	struct limiter *l = NULL;

	CHECK(limiter_new(&l, RATE, 3, -1.0) == -ERR_INVALID);
	CHECK(limiter_new(&l, RATE, 2, 1.0) == -ERR_INVALID);
	CHECK(limiter_new(&l, 10, 2, -1.0) == -ERR_INVALID);
	CHECK(l == NULL);
	limiter_free(NULL);
}

int main(void)
{
	test_quiet_is_untouched();
	test_loud_is_held();
	test_intersample_peaks();
	test_bad_args();
	return test_done();
}
