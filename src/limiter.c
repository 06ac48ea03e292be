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
 */
#include "limiter.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
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
	float hist[2][TAPS]; /* the last TAPS input samples, oldest first */
	float *delay;        /* D frames */
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
	l->mt = calloc(l->L + 1, sizeof(*l->mt));
	l->mv = calloc(l->L + 1, sizeof(*l->mv));
	l->box = malloc(l->L * sizeof(*l->box));
	if (!l->delay || !l->mt || !l->mv || !l->box) {
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
	*out = l;
	return 0;
}

void limiter_reset(struct limiter *l)
{
	memset(l->hist, 0, sizeof(l->hist));
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

/* The true peak around sample 3 of hist, over the channels. */
static float true_peak(const struct limiter *l)
{
	float peak = 0;

	for (unsigned c = 0; c < l->ch; c++) {
		const float *h = l->hist[c];
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
	size_t cap = l->L + 1;

	/* Drop the values no smaller than the new one from the back. */
	while (l->mlen && l->mv[(l->mhead + l->mlen - 1) % cap] >= need)
		l->mlen--;
	l->mt[(l->mhead + l->mlen) % cap] = l->t;
	l->mv[(l->mhead + l->mlen) % cap] = need;
	l->mlen++;
	/* Drop the front once it is older than the window. */
	if (l->t - l->mt[l->mhead] >= l->L) {
		l->mhead = (l->mhead + 1) % cap;
		l->mlen--;
	}
	return l->mv[l->mhead];
}

/*
 * The common case, cheaply: nothing in the window needs limiting and no
 * sample of the block, even interpolated, can reach the ceiling. Then the
 * output is the delayed input, and the state is what the slow path would
 * have left: the last samples in hist, a window of needs of 1.
 */
static bool quiet_block(struct limiter *l, float *frames, size_t n)
{
	unsigned ch = l->ch;
	float peak = 0;

	if (l->r != 1.0 || l->boxsum < (double)l->L || !l->mlen ||
	    l->mv[l->mhead] != 1.0f)
		return false;
	for (size_t i = 0; i < n * ch; i++)
		if (fabsf(frames[i]) > peak)
			peak = fabsf(frames[i]);
	if (peak * l->bound >= l->ceiling)
		return false;
	for (size_t i = 0; i < n; i++) {
		float *x = frames + i * ch, *d = &l->delay[l->dpos * ch];

		for (unsigned c = 0; c < ch; c++) {
			float in = x[c];

			x[c] = d[c];
			d[c] = in;
		}
		if (++l->dpos == l->D)
			l->dpos = 0;
	}
	/* hist: the last TAPS input samples, which now sit in the delay. */
	for (unsigned c = 0; c < ch; c++)
		for (int k = 0; k < TAPS; k++) {
			size_t back = (size_t)(TAPS - k);
			size_t pos = (l->dpos + l->D - back) % l->D;

			l->hist[c][k] = l->delay[pos * ch + c];
		}
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
		float *x = frames + i * ch, tp, need, m, gain;

		for (unsigned c = 0; c < ch; c++) {
			for (int k = 0; k < TAPS - 1; k++)
				l->hist[c][k] = l->hist[c][k + 1];
			l->hist[c][TAPS - 1] = x[c];
		}
		tp = true_peak(l);
		need = tp > l->ceiling ? l->ceiling / tp : 1.0f;
		m = slide_min(l, need);
		if ((double)m < l->r)
			l->r = (double)m;
		else if (l->r < 1.0)
			l->r = (double)m - ((double)m - l->r) * l->rel;
		if (l->r > 0.9999 && m == 1.0f)
			l->r = 1.0; /* back to exactly 1: bit-exact again */
		l->boxsum += (double)(float)l->r - (double)l->box[l->bpos];
		l->box[l->bpos] = (float)l->r;
		l->bpos = (l->bpos + 1) % l->L;
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
		l->dpos = (l->dpos + 1) % l->D;
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
	free(l->mt);
	free(l->mv);
	free(l->box);
	free(l);
}
