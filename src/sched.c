/*
 * sched.c - what airs next: the slot in force, rotation, jingles, hard
 * starts and the fallback.
 *
 * The one thing to know: all SQL runs in sched_new() and sched_reload()
 * (sched_load.c), which build a snapshot (struct sched_data: eligible tracks,
 * playlists as arrays of track indexes, the week as one slot index per local
 * minute, overrides, and the rotation history as one "last started"
 * instant per track, per title and per artist). sched_next() only reads
 * the snapshot and updates the history: O(playlist size), no allocation,
 * and the history is bounded by the size of the library.
 *
 * Rules (see also sched.h):
 * - "The same title" is the same track, or a title equal after trimming
 *   spaces and folding ASCII case, whoever the artist ("Intro" by two
 *   acts counts as the same title: the cautious choice).
 * - Among the tracks that keep both separations, the least recently
 *   started wins, ties by playlist position: a fresh library airs in
 *   playlist order, after that in order of rest. If none keeps both, the
 *   artist rule is dropped; if still none, the least recently started
 *   track of all (never started first, ties by lowest track id).
 * - Jingles rotate least recently started first and touch only their
 *   own track's history, not the title and artist rules.
 * - Events: a change of what is in force into a slot or override is an
 *   event with its start mode; an end into "nothing scheduled" is not.
 *   'not-before' with tolerance T behaves as soft when the item ends at
 *   most T after the event, and as hard otherwise.
 * - Time zones: the grid follows the local wall clock. A slot starting
 *   in the spring-forward gap (02:30 in Europe/Berlin on the last Sunday
 *   of March) starts when the clocks jump (03:00 CEST), the first instant
 *   its minutes are on the wall clock; in the autumn's repeated hour the
 *   grid is evaluated on the wall clock both times.
 */
#include "sched.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "sched_priv.h"
#include "timeutil.h"

#define WEEK_MS ((int64_t)7 * 24 * 3600 * 1000)

struct sched {
	struct store *st;
	struct sched_data *d;
	int cur_src;       /* what was in force at the last pick */
	long since_jingle; /* music items since the last jingle */
};

int sched_new(struct sched **out, struct store *st)
{
	struct sched *s = calloc(1, sizeof(*s));
	int rc;

	if (!s) {
		log_error("sched: out of memory");
		return -ENOMEM;
	}
	rc = sched_data_load(st, &s->d);
	if (rc < 0) {
		free(s);
		return rc;
	}
	s->st = st;
	s->cur_src = -2;
	*out = s;
	return 0;
}

/* The name of what src is in d ("" for nothing scheduled). */
static const char *src_name(const struct sched_data *d, int src)
{
	if (src < 0)
		return "";
	if ((size_t)src < d->nslot)
		return d->slot[src].name;
	return d->ovr[(size_t)src - d->nslot].name;
}

int sched_reload(struct sched *s)
{
	struct sched_data *d;
	int rc = sched_data_load(s->st, &d), cur = -1;

	if (rc < 0)
		return rc;
	sched_data_carry(d, s->d);
	/* Indexes may move with an edit: keep the jingle count running
	 * only if what was in force still exists under its name. */
	if (s->cur_src >= 0) {
		const char *name = src_name(s->d, s->cur_src);
		size_t n = d->nslot + d->novr;

		cur = -2;
		for (size_t i = 0; i < n && cur == -2; i++)
			if (strcmp(src_name(d, (int)i), name) == 0)
				cur = (int)i;
	}
	s->cur_src = s->cur_src == -1 ? -1 : cur;
	sched_data_free(s->d);
	s->d = d;
	return 0;
}

void sched_broken(struct sched *s, int64_t track_id)
{
	for (size_t i = 0; i < s->d->ntrk; i++)
		if (s->d->trk[i].id == track_id)
			s->d->trk[i].broken = true;
}

void sched_free(struct sched *s)
{
	if (!s)
		return;
	sched_data_free(s->d);
	free(s);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static long offset_at(const struct sched_data *d, int64_t utc_s, bool *ok)
{
	struct tm tm;

	*ok = tu_local_tm(utc_s, d->zone, &tm) == 0;
	return *ok ? tm.tm_gmtoff : 0;
}

/* The first whole second after lo_s, up to hi_s, whose UTC offset is not
 * off (there is one: the offset at hi_s differs). */
static int64_t transition(const struct sched_data *d, int64_t lo_s,
                          int64_t hi_s, long off)
{
	bool ok;

	while (hi_s - lo_s > 1) {
		int64_t mid = lo_s + (hi_s - lo_s) / 2;

		if (offset_at(d, mid, &ok) == off && ok)
			lo_s = mid;
		else
			hi_s = mid;
	}
	return hi_s;
}

/*
 * What is in force at t: an override (nslot + its index), a slot (its
 * index) or nothing (-1); *until is the next instant it may change (a
 * grid change, an override's start or end, or a change of UTC offset).
 */
static int source_at_uncached(const struct sched_data *d, int64_t t,
                              int64_t *until)
{
	int64_t next_ovr = INT64_MAX, cand;
	struct tm tm;
	int m, sec;
	bool ok;

	for (size_t k = 0; k < d->novr; k++) {
		if (d->ovr[k].from_ms <= t && t < d->ovr[k].to_ms) {
			*until = d->ovr[k].to_ms;
			return (int)(d->nslot + k);
		}
		if (d->ovr[k].from_ms > t && d->ovr[k].from_ms < next_ovr)
			next_ovr = d->ovr[k].from_ms;
	}
	if (tu_local_tm(floor_div(t, 1000), d->zone, &tm) < 0) {
		*until = t + 60000 < next_ovr ? t + 60000 : next_ovr;
		return -1;
	}
	m = ((tm.tm_wday + 6) % 7) * TU_DAY_MIN + tm.tm_hour * 60 + tm.tm_min;
	sec = tm.tm_sec > 59 ? 59 : tm.tm_sec;
	cand = floor_div(t, 1000) * 1000 - (int64_t)sec * 1000;
	cand += d->run[m] ? (int64_t)d->run[m] * 60000 : WEEK_MS;
	if (offset_at(d, cand / 1000, &ok) != tm.tm_gmtoff && ok)
		cand = transition(d, floor_div(t, 1000), cand / 1000,
		                  tm.tm_gmtoff) *
		       1000;
	*until = cand < next_ovr ? cand : next_ovr;
	return d->week[m];
}

static int source_at(struct sched_data *d, int64_t t, int64_t *until)
{
	unsigned i;

	for (i = 0; i < 4; i++)
		if (d->seg[i].from <= t && t < d->seg[i].until) {
			*until = d->seg[i].until;
			return d->seg[i].src;
		}
	i = d->next_seg++ % 4;
	d->seg[i].src = source_at_uncached(d, t, until);
	d->seg[i].from = t;
	d->seg[i].until = *until;
	return d->seg[i].src;
}

static enum sched_start src_mode(const struct sched_data *d, int src,
                                 int64_t *tolerance_ms)
{
	*tolerance_ms = 0;
	if (src < 0)
		return SCHED_START_SOFT;
	if ((size_t)src >= d->nslot)
		return d->ovr[(size_t)src - d->nslot].mode;
	*tolerance_ms = d->slot[src].tolerance_ms;
	return d->slot[src].mode;
}

/* The first event after at and before horizon that an item must not
 * run past: true with *ev and its tolerance, or false. */
static bool next_event(struct sched_data *d, int src, int64_t until,
                       int64_t horizon, int64_t *ev, int64_t *tolerance_ms)
{
	int64_t b = until;

	for (int i = 0; i < 64 && b < horizon; i++) {
		int64_t next;
		int n = source_at(d, b, &next);

		if (n != src && n >= 0 &&
		    src_mode(d, n, tolerance_ms) != SCHED_START_SOFT) {
			*ev = b;
			return true;
		}
		src = n;
		b = next;
	}
	return false;
}

static bool recent(int64_t last, int64_t at, int64_t sep_ms)
{
	return last != SCHED_NEVER && at >= last && at - last < sep_ms;
}

/* Whether a is a better "least recently started" choice than b. */
static bool older(const struct sched_data *d, long a, long b)
{
	return b < 0 || d->trk_last[a] < d->trk_last[b];
}

/* A music pick from p (the rules above): a track index, or -1. Prefers
 * a rule-keeping track no longer than limit_ms to one that is longer. */
static long pick_music(const struct sched_data *d, const struct sched_plist *p,
                       int64_t at, int64_t limit_ms)
{
	long a = -1, afit = -1, b = -1, bfit = -1, c = -1, pick;

	for (size_t i = 0; i < p->n; i++) {
		long t = (long)p->items[i];
		const struct sched_trk *k = &d->trk[t];
		bool fits = k->length_ms <= limit_ms, artist_ok = true;

		if (k->broken)
			continue;
		if (c < 0 || d->trk_last[t] < d->trk_last[c] ||
		    (d->trk_last[t] == d->trk_last[c] && k->id < d->trk[c].id))
			c = t;
		if (recent(d->trk_last[t], at, d->title_sep_ms) ||
		    (k->title_key >= 0 &&
		     recent(d->title_last[k->title_key], at, d->title_sep_ms)))
			continue;
		if (older(d, t, b))
			b = t;
		if (fits && older(d, t, bfit))
			bfit = t;
		for (int j = 0; j < k->nartists; j++)
			if (recent(d->artist_last[k->artists[j]], at,
			           d->artist_sep_ms))
				artist_ok = false;
		if (!artist_ok)
			continue;
		if (older(d, t, a))
			a = t;
		if (fits && older(d, t, afit))
			afit = t;
	}
	pick = a >= 0 ? a : b >= 0 ? b : c;
	if (pick >= 0 && d->trk[pick].length_ms > limit_ms) {
		long alt = afit >= 0 ? afit : a < 0 ? bfit : -1;

		if (alt >= 0)
			pick = alt;
	}
	return pick;
}

/* A jingle: least recently started, preferring one that fits. */
static long pick_jingle(const struct sched_data *d, const struct sched_plist *p,
                        int64_t limit_ms)
{
	long any = -1, fit = -1;

	for (size_t i = 0; i < p->n; i++) {
		long t = (long)p->items[i];

		if (d->trk[t].broken)
			continue;
		if (older(d, t, any))
			any = t;
		if (d->trk[t].length_ms <= limit_ms && older(d, t, fit))
			fit = t;
	}
	return fit >= 0 ? fit : any;
}

static void fill(struct sched_item *item, const struct sched_trk *k)
{
	item->track_id = k->id;
	snprintf(item->path, sizeof(item->path), "%s", k->path);
	snprintf(item->title, sizeof(item->title), "%s", k->title);
	snprintf(item->artist, sizeof(item->artist), "%s", k->artist);
	snprintf(item->album, sizeof(item->album), "%s", k->album);
	item->loudness_lufs = k->loudness_lufs;
	item->cue_in_ms = k->cue_in_ms;
	item->length_ms = k->length_ms;
	item->cut = false;
}

int sched_next(struct sched *s, int64_t at_ms, struct sched_item *item)
{
	struct sched_data *d = s->d;
	const struct sched_slot *slot = NULL;
	int64_t until, ev = 0, tol = 0, limit = INT64_MAX;
	enum sched_kind kind = SCHED_MUSIC;
	const char *name = "";
	long t = -1;
	int src = source_at(d, at_ms, &until), pl = -1;

	if (src != s->cur_src) {
		s->cur_src = src;
		s->since_jingle = 0;
	}
	if (src >= 0 && (size_t)src < d->nslot) {
		slot = &d->slot[src];
		pl = slot->pl;
		name = slot->name;
	} else if (src >= 0) {
		pl = d->ovr[(size_t)src - d->nslot].pl;
		name = d->ovr[(size_t)src - d->nslot].name;
	}
	if (next_event(d, src, until, at_ms + d->max_len_ms, &ev, &tol))
		limit = ev - at_ms + tol;
	if (slot && slot->jingle_pl >= 0 && slot->jingle_every > 0 &&
	    s->since_jingle >= slot->jingle_every) {
		t = pick_jingle(d, &d->pl[slot->jingle_pl], limit);
		kind = SCHED_JINGLE;
	}
	if (t < 0 && pl >= 0) {
		t = pick_music(d, &d->pl[pl], at_ms, limit);
		kind = SCHED_MUSIC;
	}
	if (t < 0 && d->fallback >= 0) {
		t = pick_music(d, &d->pl[d->fallback], at_ms, limit);
		kind = SCHED_FALLBACK;
	}
	if (t < 0) {
		char when[32];

		tu_format_utc(at_ms, when, sizeof(when));
		log_error("sched: nothing playable at %s, not even the "
		          "fallback playlist",
		          when);
		return -ERR_EMPTY;
	}
	fill(item, &d->trk[t]);
	item->kind = kind;
	item->start_ms = at_ms;
	snprintf(item->slot, sizeof(item->slot), "%s", name);
	if (item->length_ms > limit) {
		item->length_ms = ev - at_ms;
		item->cut = true;
	}
	d->trk_last[t] = at_ms;
	if (kind == SCHED_JINGLE) {
		s->since_jingle = 0;
		return 0;
	}
	s->since_jingle++;
	if (d->trk[t].title_key >= 0)
		d->title_last[d->trk[t].title_key] = at_ms;
	for (int j = 0; j < d->trk[t].nartists; j++)
		d->artist_last[d->trk[t].artists[j]] = at_ms;
	return 0;
}
