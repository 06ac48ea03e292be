/*
 * limiter.c - a look-ahead, true-peak-aware peak limiter.
 *
 * The one thing to know, per frame t:
 *   tp     the true peak of the input around frame t - K: the sample and
 *          three points between it and the next (4x oversampling by an
 *          8-tap Lanczos interpolator; K = 4 frames of sidechain lag)
 *   need   ceiling / tp, at most 1
 *   m      the least need of the last L frames (a sliding minimum)
 *   r      m, but rising back only at the release rate
 *   gain   the mean of r over the last L frames: it falls in a straight
 *          line over L frames and reaches m exactly at the peak
 * and the output is the input of D = K + L - 1 frames ago times gain.
 * With nothing to limit, r and gain stay exactly 1.0: bit-exact output.
 *
 * Cheaply: an interpolated point is at most `bound` (the sum of the
 * interpolator's |coefficients|) times the largest of the 8 samples it is
 * made of, so while none of the last 8 samples reaches ceiling / bound
 * (with a margin for rounding) tp cannot pass the ceiling and need is 1
 * without computing it. Music at broadcast loudness spends most frames
 * there, also while the gain recovers after a peak.
 */
#include "limiter.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#define TAPS 8
#define LAG 4    /* the sidechain's delay: the interpolator looks ahead */
#define PHASES 3 /* points between two samples: 1/4, 1/2, 3/4 */

struct limiter {
	unsigned ch;
	float ceiling;
	size_t L, D;
	float coef[PHASES][TAPS];
	/* The last TAPS input samples, a ring written twice (at hpos and at
	 * hpos + TAPS), so that hist[c] + hpos is always the window, oldest
	 * first, without shifting. */
	float hist[2][2 * TAPS];
	unsigned hpos;
	unsigned since_loud; /* frames since a sample >= quiet, up to TAPS */
	float quiet;         /* below this, a sample cannot make a peak */
	float *delay;        /* D frames */
	float *spare;        /* D frames: the next delay, in a quiet block */
	size_t dpos;
	/* Sliding minimum: a deque of (time, need), needs increasing. */
	unsigned long long *mt;
	float *mv;
	size_t mhead, mlen;
	float *box; /* the last L values of r */
	size_t bpos;
	double boxsum;
	double r, rel; /* double: the release steps are below float's ulp */
	unsigned long long t;
	float min_gain;
	float bound; /* the interpolator's largest gain: sum of |coef| */
};

static double lanczos(double x)
{
	double a = TAPS / 2.0;

	if (x == 0)
		return 1;
	if (fabs(x) >= a)
		return 0;
	return a * sin(M_PI * x) * sin(M_PI * x / a) / (M_PI * M_PI * x * x);
}

int limiter_new(struct limiter **out, unsigned rate, unsigned channels,
                double ceiling_dbtp)
{
	struct limiter *l;

	if (channels < 1 || channels > 2 || rate < 1000 || ceiling_dbtp > 0 ||
	    ceiling_dbtp < -30)
		return -ERR_INVALID;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->ch = channels;
	l->ceiling = (float)pow(10.0, ceiling_dbtp / 20.0);
	l->L = (size_t)rate * LIMITER_LOOKAHEAD_MS / 1000;
	if (l->L < 8)
		l->L = 8;
	l->D = LAG + l->L - 1;
	l->delay = calloc(l->D * channels, sizeof(*l->delay));
	l->spare = calloc(l->D * channels, sizeof(*l->spare));
	l->mt = calloc(l->L + 1, sizeof(*l->mt));
	l->mv = calloc(l->L + 1, sizeof(*l->mv));
	l->box = malloc(l->L * sizeof(*l->box));
	if (!l->delay || !l->spare || !l->mt || !l->mv || !l->box) {
		limiter_free(l);
		return -ENOMEM;
	}
	for (size_t i = 0; i < l->L; i++)
		l->box[i] = 1.0f;
	l->boxsum = (double)l->L;
	l->r = 1.0;
	l->min_gain = 1.0f;
	l->rel = exp(-1000.0 / (LIMITER_RELEASE_MS * (double)rate));
	/* Point p/4 after sample 3 of the 8 in hist (0 is the oldest). */
	for (int p = 0; p < PHASES; p++) {
		double f = (p + 1) / 4.0, sum = 0;

		for (int k = 0; k < TAPS; k++)
			sum += lanczos(k - 3 - f);
		for (int k = 0; k < TAPS; k++)
			l->coef[p][k] = (float)(lanczos(k - 3 - f) / sum);
	}
	for (int p = 0; p < PHASES; p++) {
		float sum = 0;

		for (int k = 0; k < TAPS; k++)
			sum += fabsf(l->coef[p][k]);
		if (sum > l->bound)
			l->bound = sum;
	}
	/* 0.1 % below the exact limit: covers float rounding in the sums. */
	l->quiet = (float)((double)l->ceiling / (double)l->bound / 1.001);
	l->since_loud = TAPS;
	*out = l;
	return 0;
}

void limiter_reset(struct limiter *l)
{
	memset(l->hist, 0, sizeof(l->hist));
	l->hpos = 0;
	l->since_loud = TAPS;
	memset(l->delay, 0, l->D * l->ch * sizeof(*l->delay));
	l->dpos = 0;
	l->mhead = l->mlen = 0;
	for (size_t i = 0; i < l->L; i++)
		l->box[i] = 1.0f;
	l->bpos = 0;
	l->boxsum = (double)l->L;
	l->r = 1.0;
	l->t = 0;
}

/* The true peak around sample 3 of the window, over the channels. */
static float true_peak(const struct limiter *l)
{
	float peak = 0;

	for (unsigned c = 0; c < l->ch; c++) {
		const float *h = l->hist[c] + l->hpos;
		float v = fabsf(h[3]);

		if (v > peak)
			peak = v;
		for (int p = 0; p < PHASES; p++) {
			float y = 0;

			for (int k = 0; k < TAPS; k++)
				y += l->coef[p][k] * h[k];
			if (fabsf(y) > peak)
				peak = fabsf(y);
		}
	}
	return peak;
}

/* The sliding minimum of need over the last L frames, need pushed at t. */
static float slide_min(struct limiter *l, float need)
{
	size_t cap = l->L + 1, back;

	/* Drop the values no smaller than the new one from the back. The
	 * deque's positions wrap by a compare, not a division: i < 2 cap. */
	while (l->mlen) {
		back = l->mhead + l->mlen - 1;
		if (back >= cap)
			back -= cap;
		if (l->mv[back] < need)
			break;
		l->mlen--;
	}
	back = l->mhead + l->mlen;
	if (back >= cap)
		back -= cap;
	l->mt[back] = l->t;
	l->mv[back] = need;
	l->mlen++;
	/* Drop the front once it is older than the window. */
	if (l->t - l->mt[l->mhead] >= l->L) {
		if (++l->mhead == cap)
			l->mhead = 0;
		l->mlen--;
	}
	return l->mv[l->mhead];
}

/* Four samples at a time (GCC's and clang's vector extensions: SSE on
 * x86-64, NEON on a Pi, plain code elsewhere). */
typedef uint32_t u32x4 __attribute__((vector_size(16)));

/* Whether any of n samples is at or above quiet, NaN included: |x| is
 * compared as the bits of the float, which order like the values. */
static bool any_loud(const float *x, size_t n, float quiet)
{
	uint32_t q, b;
	u32x4 acc = {0, 0, 0, 0}, qv,
	      abs = {0x7fffffffu, 0x7fffffffu, 0x7fffffffu, 0x7fffffffu};
	size_t i = 0;

	memcpy(&q, &quiet, sizeof(q));
	qv = (u32x4){q, q, q, q};
	for (; i + 8 <= n; i += 8) {
		u32x4 a, c;

		memcpy(&a, x + i, sizeof(a));
		memcpy(&c, x + i + 4, sizeof(c));
		acc |= (u32x4)((a & abs) >= qv) | (u32x4)((c & abs) >= qv);
	}
	for (; i < n; i++) {
		memcpy(&b, x + i, sizeof(b));
		if ((b & 0x7fffffffu) >= q)
			return true;
	}
	return (acc[0] | acc[1] | acc[2] | acc[3]) != 0;
}

/*
 * The common case, cheaply: nothing in the window needs limiting and no
 * sample of the block, even interpolated, can reach the ceiling. Then the
 * output is the delayed input, and the state is what the slow path would
 * have left: the last samples in hist, a window of needs of 1. A block
 * longer than the delay moves as three copies: the delay out in front,
 * the block on behind it, and its last D frames into the next delay.
 */
static bool quiet_block(struct limiter *l, float *frames, size_t n)
{
	unsigned ch = l->ch;
	size_t dlen = l->D * ch, head = l->dpos * ch;

	if (l->r != 1.0 || l->boxsum < (double)l->L || !l->mlen ||
	    l->mv[l->mhead] != 1.0f || any_loud(frames, n * ch, l->quiet))
		return false;
	if (n >= l->D) {
		float *tmp = l->spare;

		memcpy(tmp, frames + (n - l->D) * ch, dlen * sizeof(*tmp));
		memmove(frames + dlen, frames,
		        (n - l->D) * ch * sizeof(*frames));
		memcpy(frames, l->delay + head, (dlen - head) * sizeof(*tmp));
		memcpy(frames + dlen - head, l->delay, head * sizeof(*tmp));
		l->spare = l->delay;
		l->delay = tmp;
		l->dpos = 0;
	} else {
		for (size_t i = 0; i < n; i++) {
			float *x = frames + i * ch;
			float *d = &l->delay[l->dpos * ch];

			for (unsigned c = 0; c < ch; c++) {
				float in = x[c];

				x[c] = d[c];
				d[c] = in;
			}
			if (++l->dpos == l->D)
				l->dpos = 0;
		}
	}
	/* hist: the last TAPS input samples, which now sit in the delay. */
	l->hpos = 0;
	for (unsigned c = 0; c < ch; c++)
		for (int k = 0; k < TAPS; k++) {
			size_t back = (size_t)(TAPS - k);
			size_t pos = (l->dpos + l->D - back) % l->D;

			l->hist[c][k] = l->hist[c][k + TAPS] =
			    l->delay[pos * ch + c];
		}
	l->since_loud = TAPS;
	l->t += n;
	l->mhead = 0;
	l->mlen = 1;
	l->mt[0] = l->t - 1;
	l->mv[0] = 1.0f;
	return true;
}

void limiter_process(struct limiter *l, float *frames, size_t n)
{
	unsigned ch = l->ch;

	if (n >= TAPS && quiet_block(l, frames, n))
		return;

	for (size_t i = 0; i < n; i++, l->t++) {
		float *x = frames + i * ch, tp, need = 1.0f, m, gain;
		bool loud = false;

		for (unsigned c = 0; c < ch; c++) {
			l->hist[c][l->hpos] = l->hist[c][l->hpos + TAPS] = x[c];
			loud |= fabsf(x[c]) >= l->quiet;
		}
		l->hpos = (l->hpos + 1) & (TAPS - 1);
		if (loud)
			l->since_loud = 0;
		else if (l->since_loud < TAPS)
			l->since_loud++;
		if (l->since_loud < TAPS) {
			tp = true_peak(l);
			if (tp > l->ceiling)
				need = l->ceiling / tp;
		}
		m = slide_min(l, need);
		if ((double)m < l->r)
			l->r = (double)m;
		else if (l->r < 1.0)
			l->r = (double)m - ((double)m - l->r) * l->rel;
		if (l->r > 0.9999 && m == 1.0f)
			l->r = 1.0; /* back to exactly 1: bit-exact again */
		l->boxsum += (double)(float)l->r - (double)l->box[l->bpos];
		l->box[l->bpos] = (float)l->r;
		if (++l->bpos == l->L)
			l->bpos = 0;
		gain = l->boxsum >= (double)l->L
		           ? 1.0f
		           : (float)(l->boxsum / (double)l->L);
		if (gain < l->min_gain)
			l->min_gain = gain;
		for (unsigned c = 0; c < ch; c++) {
			float *d = &l->delay[l->dpos * ch + c], in = x[c];

			x[c] = gain == 1.0f ? *d : *d * gain;
			*d = in;
		}
		if (++l->dpos == l->D)
			l->dpos = 0;
	}
}

size_t limiter_latency(const struct limiter *l)
{
	return l->D;
}

double limiter_take_max_reduction_db(struct limiter *l)
{
	double db = 20.0 * log10((double)l->min_gain);

	l->min_gain = 1.0f;
	return db;
}

void limiter_free(struct limiter *l)
{
	if (!l)
		return;
	free(l->delay);
	free(l->spare);
	free(l->mt);
	free(l->mv);
	free(l->box);
	free(l);
}
