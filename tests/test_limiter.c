/*
 * test_limiter.c - the peak limiter: bit-exact below the ceiling, true
 * peaks (measured independently with libebur128) held to the ceiling for
 * loud music and for inter-sample peaks, its delay, and its release;
 * and, on music-like noise, the same output as a plain model of it.
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

/*
 * The limiter as its header comment defines it, frame by frame, with no
 * shortcut: every true peak computed, every state update done the plain
 * way. limiter.c skips work (quiet blocks, frames far from any peak) and
 * must give the same output; compiled alike, bit for bit.
 */
#define R_TAPS 8
#define R_LAG 4
struct ref_limiter {
	unsigned ch;
	float ceiling, coef[3][R_TAPS], hist[CH][R_TAPS], *delay, *mv, *box;
	unsigned long long *mt, t;
	size_t L, D, dpos, mhead, mlen, bpos;
	double boxsum, r, rel;
};

static double ref_lanczos(double x)
{
	double a = R_TAPS / 2.0;

	if (x == 0)
		return 1;
	if (fabs(x) >= a)
		return 0;
	return a * sin(M_PI * x) * sin(M_PI * x / a) / (M_PI * M_PI * x * x);
}

static void ref_init(struct ref_limiter *l, double ceiling_dbtp)
{
	memset(l, 0, sizeof(*l));
	l->ch = CH;
	l->ceiling = (float)pow(10.0, ceiling_dbtp / 20.0);
	l->L = (size_t)RATE * LIMITER_LOOKAHEAD_MS / 1000;
	l->D = R_LAG + l->L - 1;
	l->delay = calloc(l->D * CH, sizeof(*l->delay));
	l->mt = calloc(l->L + 1, sizeof(*l->mt));
	l->mv = calloc(l->L + 1, sizeof(*l->mv));
	l->box = malloc(l->L * sizeof(*l->box));
	for (size_t i = 0; i < l->L; i++)
		l->box[i] = 1.0f;
	l->boxsum = (double)l->L;
	l->r = 1.0;
	l->rel = exp(-1000.0 / (LIMITER_RELEASE_MS * (double)RATE));
	for (int p = 0; p < 3; p++) {
		double f = (p + 1) / 4.0, sum = 0;

		for (int k = 0; k < R_TAPS; k++)
			sum += ref_lanczos(k - 3 - f);
		for (int k = 0; k < R_TAPS; k++)
			l->coef[p][k] = (float)(ref_lanczos(k - 3 - f) / sum);
	}
}

static void ref_process(struct ref_limiter *l, float *frames, size_t n)
{
	size_t cap = l->L + 1;

	for (size_t i = 0; i < n; i++, l->t++) {
		float *x = frames + i * CH, tp = 0, need, m, gain;

		for (unsigned c = 0; c < CH; c++) {
			const float *h = l->hist[c];

			memmove(l->hist[c], l->hist[c] + 1,
			        (R_TAPS - 1) * sizeof(float));
			l->hist[c][R_TAPS - 1] = x[c];
			if (fabsf(h[3]) > tp)
				tp = fabsf(h[3]);
			for (int p = 0; p < 3; p++) {
				float y = 0;

				for (int k = 0; k < R_TAPS; k++)
					y += l->coef[p][k] * h[k];
				if (fabsf(y) > tp)
					tp = fabsf(y);
			}
		}
		need = tp > l->ceiling ? l->ceiling / tp : 1.0f;
		while (l->mlen && l->mv[(l->mhead + l->mlen - 1) % cap] >= need)
			l->mlen--;
		l->mt[(l->mhead + l->mlen) % cap] = l->t;
		l->mv[(l->mhead + l->mlen) % cap] = need;
		l->mlen++;
		if (l->t - l->mt[l->mhead] >= l->L) {
			l->mhead = (l->mhead + 1) % cap;
			l->mlen--;
		}
		m = l->mv[l->mhead];
		if ((double)m < l->r)
			l->r = (double)m;
		else if (l->r < 1.0)
			l->r = (double)m - ((double)m - l->r) * l->rel;
		if (l->r > 0.9999 && m == 1.0f)
			l->r = 1.0;
		l->boxsum += (double)(float)l->r - (double)l->box[l->bpos];
		l->box[l->bpos] = (float)l->r;
		l->bpos = (l->bpos + 1) % l->L;
		gain = l->boxsum >= (double)l->L
		           ? 1.0f
		           : (float)(l->boxsum / (double)l->L);
		for (unsigned c = 0; c < CH; c++) {
			float *d = &l->delay[l->dpos * CH + c], in = x[c];

			x[c] = gain == 1.0f ? *d : *d * gain;
			*d = in;
		}
		l->dpos = (l->dpos + 1) % l->D;
	}
}

static void ref_free(struct ref_limiter *l)
{
	free(l->delay);
	free(l->mt);
	free(l->mv);
	free(l->box);
}

/* Music-like: noise through a one-pole low-pass, its level swinging from
 * -30 to +4 dBFS in bursts a few hundred ms long, some quiet stretches
 * and some hard peaks; then quiet with a lone click every 1.5 s (the limiter
 * has let go), on every position of a block in turn. Cut into blocks of every
 * size from 1 frame up. */
static void test_same_as_reference(void)
{
	size_t n = 20 * RATE, worst = 0;
	float *a = malloc(n * CH * sizeof(*a)),
	      *b = malloc(n * CH * sizeof(*b));
	struct limiter *l = NULL;
	struct ref_limiter ref;
	unsigned seed = 12345;
	double lp[CH] = {0}, level = 0.1, maxdiff = 0;
	size_t differ = 0;

	for (size_t i = 0; i < n; i++) {
		if (i % 9000 == 0 && i < n / 2) {
			seed = seed * 1103515245u + 12345u;
			/* -30 .. +4 dBFS */
			level = pow(10.0, (-30.0 + (seed >> 16) % 35) / 20.0);
		}
		for (int c = 0; c < CH; c++) {
			seed = seed * 1103515245u + 12345u;
			lp[c] +=
			    0.3 * ((double)((seed >> 8) & 0xffff) / 32768.0 -
			           1.0 - lp[c]);
			a[i * CH + c] = (float)(level * 3.0 * lp[c]);
		}
		/* Lone clicks, on every position of a block in turn. */
		if (i == n / 2)
			level = 0.03;
		if (i > n / 2 && i % 72001 == 0)
			a[i * CH + (i / 72001) % CH] = 1.2f;
	}
	memcpy(b, a, n * CH * sizeof(*a));
	CHECK(limiter_new(&l, RATE, CH, -1.0) == 0);
	ref_init(&ref, -1.0);
	for (size_t i = 0, len = 1; i < n; i += len) {
		seed = seed * 1103515245u + 12345u;
		len = (seed >> 16) % 5 == 0 ? 1 + (seed >> 8) % 16
		                            : 8 + (seed >> 8) % 8000;
		if (len > n - i)
			len = n - i;
		limiter_process(l, a + i * CH, len);
	}
	ref_process(&ref, b, n);
	for (size_t i = 0; i < n * CH; i++)
		if (a[i] != b[i]) {
			double d = fabs((double)a[i] - (double)b[i]);

			differ++;
			if (d > maxdiff) {
				maxdiff = d;
				worst = i / CH;
			}
		}
#if defined(__x86_64__) || defined(__i386__)
	CHECKF(differ == 0, "%zu samples differ, by up to %g at frame %zu",
	       differ, maxdiff, worst);
#else
	/* Elsewhere the compiler may fuse a multiply and an add in one of
	 * the two and not the other: then only rounding may differ. */
	CHECKF(maxdiff < 1e-6, "%zu samples differ, by up to %g at frame %zu",
	       differ, maxdiff, worst);
#endif
	/* The signal did make the limiter work. */
	CHECK(limiter_take_max_reduction_db(l) < -3.0);
	limiter_free(l);
	ref_free(&ref);
	free(a);
	free(b);
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
	test_same_as_reference();
	test_bad_args();
	return test_done();
}
