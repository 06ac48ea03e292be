/*
 * mixer.c - decks under gain envelopes, summed.
 *
 * The first deck of a pull is read straight into the output and scaled
 * there; each other deck is read aside and added, times its gain. While both
 * envelopes of a deck hold still, its gain is one number for the whole block;
 * during a ramp the gains of the block are worked out frame by frame into a
 * scratch array first. All buffers are made in mixer_new, so a pull never
 * allocates.
 */
#include "mixer.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "source.h"

struct env {
	float from, to, now;
	unsigned long long len, pos; /* pos == len: holding at `to` */
	enum mixer_curve curve;
	float step; /* MIXER_DB: the ratio from one frame to the next */
};

struct deck {
	struct source *src;
	float level;
	struct env env[MIXER_ENVS];
	bool loop;
	char path[4096]; /* a looping deck's file */
};

struct mixer {
	struct pcm_format fmt;
	size_t max_frames;
	struct deck deck[MIXER_DECKS];
	float *tmp;  /* one deck's frames */
	float *gain; /* per-frame gains of one deck during a ramp */
};

int mixer_new(struct mixer **out, const struct pcm_format *fmt,
              size_t max_frames)
{
	struct mixer *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->fmt = *fmt;
	m->max_frames = max_frames;
	m->tmp = malloc(max_frames * fmt->channels * sizeof(*m->tmp));
	m->gain = malloc(max_frames * sizeof(*m->gain));
	if (!m->tmp || !m->gain) {
		mixer_free(m);
		return -ENOMEM;
	}
	*out = m;
	return 0;
}

void mixer_free(struct mixer *m)
{
	if (!m)
		return;
	for (unsigned d = 0; d < MIXER_DECKS; d++)
		mixer_clear(m, d);
	free(m->tmp);
	free(m->gain);
	free(m);
}

static void env_hold(struct env *e, float g)
{
	*e = (struct env){.from = g, .to = g, .now = g};
}

void mixer_load(struct mixer *m, unsigned d, struct source *src, float level,
                float fade)
{
	struct deck *k = &m->deck[d];

	mixer_clear(m, d);
	k->src = src;
	k->level = level;
	env_hold(&k->env[MIXER_FADE], fade);
	env_hold(&k->env[MIXER_DUCK], 1.0f);
}

int mixer_load_loop(struct mixer *m, unsigned d, const char *path, float level,
                    float fade)
{
	struct source *src;
	int rc = source_open(&src, path, &m->fmt);

	if (rc < 0)
		return rc;
	mixer_load(m, d, src, level, fade);
	m->deck[d].loop = true;
	snprintf(m->deck[d].path, sizeof(m->deck[d].path), "%s", path);
	return 0;
}

void mixer_clear(struct mixer *m, unsigned d)
{
	struct deck *k = &m->deck[d];

	source_close(k->src);
	k->src = NULL;
	k->loop = false;
	k->path[0] = '\0';
}

bool mixer_live(const struct mixer *m, unsigned d)
{
	return m->deck[d].src != NULL;
}

const char *mixer_loop_path(const struct mixer *m, unsigned d)
{
	return m->deck[d].path;
}

void mixer_ramp(struct mixer *m, unsigned d, enum mixer_env e, float to,
                unsigned long long frames, enum mixer_curve curve)
{
	struct env *v = &m->deck[d].env[e];
	float from = v->now;

	if (frames == 0 || from == to) {
		env_hold(v, to);
		return;
	}
	if (curve == MIXER_DB && (from <= 0.0f || to <= 0.0f))
		curve = MIXER_LINEAR;
	*v = (struct env){
	    .from = from, .to = to, .now = from, .len = frames, .curve = curve};
	if (curve == MIXER_DB)
		v->step =
		    (float)pow((double)to / (double)from, 1.0 / (double)frames);
}

float mixer_gain(const struct mixer *m, unsigned d, enum mixer_env e)
{
	return m->deck[d].env[e].now;
}

bool mixer_steady(const struct mixer *m, unsigned d)
{
	const struct deck *k = &m->deck[d];

	if (!k->src || k->loop)
		return false;
	for (unsigned e = 0; e < MIXER_ENVS; e++)
		if (k->env[e].pos != k->env[e].len || k->env[e].now != 1.0f)
			return false;
	return true;
}

const struct source *mixer_source(const struct mixer *m, unsigned d)
{
	return m->deck[d].src;
}

int mixer_seek(struct mixer *m, unsigned d, unsigned long long frame)
{
	struct deck *k = &m->deck[d];

	return k->src ? source_seek(k->src, frame) : -ERR_INVALID;
}

/* The envelope's value after pos of len frames. */
static float env_at(const struct env *v, unsigned long long pos)
{
	float t = (float)pos / (float)v->len;

	switch (v->curve) {
	case MIXER_EQUAL_POWER:
		/* Up along a quarter sine, down along a quarter cosine. */
		if (v->to > v->from)
			return v->from +
			       (v->to - v->from) * sinf((float)M_PI_2 * t);
		return v->to + (v->from - v->to) * cosf((float)M_PI_2 * t);
	case MIXER_DB:
		return v->from * powf(v->to / v->from, t);
	case MIXER_LINEAR:
	default:
		return v->from + (v->to - v->from) * t;
	}
}

/* Writes the next n values of v into g (times g's own), advancing it. */
static void env_run(struct env *v, float *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (v->pos >= v->len) {
			g[i] *= v->to;
			continue;
		}
		/* The gain of this frame; the ramp's end is exact. */
		if (v->curve == MIXER_DB)
			v->now = v->pos ? v->now * v->step : v->from;
		else
			v->now = env_at(v, v->pos);
		g[i] *= v->now;
		v->pos++;
	}
	if (v->pos >= v->len)
		env_hold(v, v->to);
}

static bool ramping(const struct deck *k)
{
	return k->env[MIXER_FADE].pos < k->env[MIXER_FADE].len ||
	       k->env[MIXER_DUCK].pos < k->env[MIXER_DUCK].len;
}

/* Reads up to n frames of deck k into dst: a count, or <0. */
static long deck_read(struct mixer *m, struct deck *k, float *dst, size_t n)
{
	size_t got = 0;
	bool fresh = false; /* just opened again, nothing read since */

	while (got < n) {
		long r =
		    source_read(k->src, dst + got * m->fmt.channels, n - got);

		if (r > 0) {
			got += (size_t)r;
			fresh = false;
			continue;
		}
		if (r < 0 && got == 0)
			return r;
		if (!k->loop || fresh)
			break;
		/* A bed: from the top, as often as it gives audio. */
		source_close(k->src);
		k->src = NULL;
		if (source_open(&k->src, k->path, &m->fmt) < 0)
			break;
		fresh = true;
	}
	if (!k->src) {
		/* The bed could not be opened again: it is over. */
		k->loop = false;
		k->path[0] = '\0';
	}
	return (long)got;
}

/* out = in * gains (first: out is empty so far), or out += in * gains,
 * for n frames; in may be out. */
static void deck_apply(struct mixer *m, struct deck *k, const float *in,
                       float *out, size_t n, bool first)
{
	unsigned ch = m->fmt.channels;

	if (!ramping(k)) {
		float g =
		    k->level * k->env[MIXER_FADE].to * k->env[MIXER_DUCK].to;

		if (first)
			for (size_t i = 0; i < n * ch; i++)
				out[i] = in[i] * g;
		else if (g != 0.0f)
			for (size_t i = 0; i < n * ch; i++)
				out[i] += in[i] * g;
		return;
	}
	for (size_t i = 0; i < n; i++)
		m->gain[i] = k->level;
	env_run(&k->env[MIXER_FADE], m->gain, n);
	env_run(&k->env[MIXER_DUCK], m->gain, n);
	for (size_t i = 0; i < n; i++)
		for (unsigned c = 0; c < ch; c++) {
			float v = in[i * ch + c] * m->gain[i];

			out[i * ch + c] = first ? v : out[i * ch + c] + v;
		}
}

/* Mixes n frames of deck d into out. The first deck of a pull reads
 * straight into out (no clearing, no copy); later ones add. *first:
 * nothing is in out yet; cleared once something is. */
static long pull_deck(struct mixer *m, unsigned d, float *out, size_t n,
                      bool *first)
{
	struct deck *k = &m->deck[d];
	long r;

	if (n == 0)
		return 0;
	r = deck_read(m, k, *first ? out : m->tmp, n);
	if (r > 0) {
		deck_apply(m, k, *first ? out : m->tmp, out, (size_t)r, *first);
		if (*first && (size_t)r < n)
			memset(out + (size_t)r * m->fmt.channels, 0,
			       (n - (size_t)r) * m->fmt.channels *
			           sizeof(*out));
		*first = false;
	}
	if (!k->src) {
		/* A bed that is gone keeps no deck. */
		mixer_clear(m, d);
	}
	return r;
}

size_t mixer_pull(struct mixer *m, unsigned lead, float *out, size_t n,
                  long got[MIXER_DECKS])
{
	size_t len = n;
	bool first = true;

	if (n > m->max_frames)
		n = len = m->max_frames;
	for (unsigned d = 0; d < MIXER_DECKS; d++)
		got[d] = -1;
	if (lead < MIXER_DECKS && m->deck[lead].src) {
		long r = pull_deck(m, lead, out, n, &first);

		got[lead] = r;
		len = r > 0 ? (size_t)r : 0;
	}
	for (unsigned d = 0; d < MIXER_DECKS; d++)
		if (d != lead && m->deck[d].src)
			got[d] = pull_deck(m, d, out, len, &first);
	if (first)
		memset(out, 0, len * m->fmt.channels * sizeof(*out));
	return len;
}
