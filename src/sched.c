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
 *   The top of every local hour inside a slot with station IDs is an
 *   event with the slot's id_mode. 'not-before' with tolerance T behaves
 *   as soft when the item ends at most T after the event, and as hard
 *   otherwise. Before a hard event, a track that fits (leaving no gap, a
 *   gap for more music, or one a jingle fills) beats one that is faded
 *   after a minute or more, which beats one leaving a gap too short to
 *   fill; with less than a minute to go, a jingle fills it, not a
 *   fragment of a song. These never override the rotation rules.
 * - The ID of an hour airs once, at the first pick at or after the top
 *   of the hour (soft: when the item playing ends), as long as the slot
 *   was already in force at the top of the hour and at most 15 min have
 *   passed; it resets the jingle count.
 * - Time zones: the grid follows the local wall clock. A slot starting
 *   in the spring-forward gap (02:30 in Europe/Berlin on the last Sunday
 *   of March) starts when the clocks jump (03:00 CEST), the first instant
 *   its minutes are on the wall clock; in the autumn's repeated hour the
 *   grid is evaluated on the wall clock both times.
 */
#include "sched.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "sched_priv.h"
#include "timeutil.h"

#define WEEK_MS ((int64_t)7 * 24 * 3600 * 1000)
#define HOUR_MS ((int64_t)3600 * 1000)
#define SHORT_MS 60000            /* music cut shorter is a fragment */
#define ID_LATE_MS (15 * 60000)   /* a top-of-hour ID later is dropped */
#define FILL_SLACK_MS 2000        /* a filler's tail that may be faded */
#define NEWS_LATE_MS (15 * 60000) /* news later than this waits */

struct sched {
	struct store *st;
	struct sched_data *d;
	int cur_src;            /* what was in force at the last pick */
	long since_jingle;      /* music items since the last jingle or ID */
	int64_t id_done;        /* the top of the hour whose ID was handled */
	int64_t news_done;      /* the news minute that was handled */
	int64_t fallback_until; /* music from the fallback until then */
	int (*news_pending)(void *ctx, int64_t at_ms);
	void *news_ctx;
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
	s->id_done = SCHED_NEVER;
	s->news_done = SCHED_NEVER;
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

const char *sched_kind_name(enum sched_kind kind)
{
	switch (kind) {
	case SCHED_JINGLE:
		return "jingle";
	case SCHED_FALLBACK:
		return "fallback";
	case SCHED_ID:
		return "id";
	case SCHED_NEWS:
		return "news";
	default:
		return "music";
	}
}

static int64_t *history_copy(const int64_t *h, size_t n)
{
	int64_t *c = malloc((n ? n : 1) * sizeof(*c));

	if (c && n)
		memcpy(c, h, n * sizeof(*c));
	return c;
}

/* Whether it crosses into the next item / may be crossed into (as the
 * player decides: music of a known length, not cut or pinned). */
static bool forecast_mixes_out(const struct sched_item *it)
{
	return (it->kind == SCHED_MUSIC || it->kind == SCHED_FALLBACK) &&
	       !it->cut && it->xfade_ms > 0 &&
	       it->length_ms >= 2 * it->xfade_ms;
}

static bool forecast_mixes_in(const struct sched_item *it, int64_t xf)
{
	return (it->kind == SCHED_MUSIC || it->kind == SCHED_FALLBACK) &&
	       !it->pinned && !it->over && it->length_ms >= 2 * xf;
}

int sched_forecast(const struct sched *s, const struct sched_item *after,
                   struct sched_item *out, size_t n)
{
	struct sched_data d = *s->d;
	struct sched f = *s;
	int64_t at_ms = after->start_ms + after->length_ms;
	int64_t xf = forecast_mixes_out(after) ? after->xfade_ms : 0;
	size_t k = 0;
	int rc = 0;

	d.trk_last = history_copy(s->d->trk_last, d.ntrk);
	d.title_last = history_copy(s->d->title_last, d.titles.n);
	d.artist_last = history_copy(s->d->artist_last, d.artists.n);
	f.d = &d;
	if (!d.trk_last || !d.title_last || !d.artist_last)
		rc = -ENOMEM;
	for (; rc == 0 && k < n; k++) {
		rc = sched_next(&f, at_ms, &out[k]);
		if (rc < 0)
			break;
		if (xf && forecast_mixes_in(&out[k], xf)) {
			out[k].start_ms -= xf;
			at_ms -= xf;
		}
		/* A news block's length is the bulletins': a minute, say. */
		at_ms += out[k].length_ms > 0        ? out[k].length_ms
		         : out[k].kind == SCHED_NEWS ? 60000
		                                     : 1000;
		xf = forecast_mixes_out(&out[k]) ? out[k].xfade_ms : 0;
	}
	free(d.trk_last);
	free(d.title_last);
	free(d.artist_last);
	return k ? (int)k : rc;
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

/* The shortest playable item of playlist pl (-1: none): INT64_MAX if
 * none. */
static int64_t shortest(const struct sched_data *d, int pl)
{
	int64_t min = INT64_MAX;

	for (size_t i = 0; pl >= 0 && i < d->pl[pl].n; i++) {
		const struct sched_trk *k = &d->trk[d->pl[pl].items[i]];

		if (!k->broken && k->length_ms < min)
			min = k->length_ms;
	}
	return min;
}

/* The slot src if it is one and has station IDs to air, else NULL. */
static const struct sched_slot *id_slot(const struct sched_data *d, int src)
{
	if (src < 0 || (size_t)src >= d->nslot ||
	    shortest(d, d->slot[src].id_pl) == INT64_MAX)
		return NULL;
	return &d->slot[src];
}

/* The start of the local hour that t is in. */
static int64_t hour_floor(const struct sched_data *d, int64_t t)
{
	int64_t s = floor_div(t, 1000);
	struct tm tm;

	if (tu_local_tm(s, d->zone, &tm) < 0)
		return floor_div(t, HOUR_MS) * HOUR_MS;
	return (s - tm.tm_min * 60 - (tm.tm_sec > 59 ? 59 : tm.tm_sec)) * 1000;
}

/* The slot src if it is one and airs news at minute m, else NULL. */
static const struct sched_slot *news_slot(const struct sched_data *d, int src,
                                          int m)
{
	if (src < 0 || (size_t)src >= d->nslot ||
	    !(d->slot[src].news_mask >> m & 1))
		return NULL;
	return &d->slot[src];
}

/* Whether a news minute at t has bulletins to air. */
static bool news_pending(struct sched *s, int64_t t)
{
	return s->news_pending && s->news_pending(s->news_ctx, t) > 0;
}

/* An event candidate: kept in *ev if it is the earliest so far that an
 * item starting at at must respect. */
static void consider(int64_t t, enum sched_start mode, int64_t tol, int64_t at,
                     int64_t horizon, bool *found, int64_t *ev,
                     int64_t *tolerance_ms)
{
	if (t <= at || t >= horizon || mode == SCHED_START_SOFT ||
	    (*found && t >= *ev))
		return;
	*ev = t;
	*tolerance_ms = mode == SCHED_START_NOT_BEFORE ? tol : 0;
	*found = true;
}

/*
 * The first event after at and before horizon that an item must not run
 * past (a hard or not-before start of a slot or override, of a slot's
 * top-of-hour ID, or of a news minute with bulletins to air): true with
 * *ev and its tolerance, or false. until is when what is in force at at
 * may change; hour is hour_floor(at).
 */
static bool next_event(struct sched *s, int src, int64_t at, int64_t until,
                       int64_t hour, int64_t horizon, int64_t *ev,
                       int64_t *tolerance_ms)
{
	struct sched_data *d = s->d;
	bool found = false;
	int64_t b = until;

	for (int i = 0; i < 64 && b < horizon && !found; i++) {
		int64_t next;
		int n = source_at(d, b, &next);

		if (n != src && n >= 0 &&
		    src_mode(d, n, tolerance_ms) != SCHED_START_SOFT) {
			*ev = b;
			found = true;
		}
		src = n;
		b = next;
	}
	for (int64_t h = hour; h < horizon && (!found || h < *ev);
	     h += HOUR_MS) {
		int64_t next;
		const struct sched_slot *sl =
		    id_slot(d, source_at(d, h, &next));

		if (sl)
			consider(h, sl->id_mode, sl->tolerance_ms, at, horizon,
			         &found, ev, tolerance_ms);
		for (int m = 0; m < 60 && d->news_any; m++) {
			int64_t t = h + m * 60000;

			if (!(d->news_any >> m & 1) || t <= at)
				continue;
			if (t >= horizon || (found && t >= *ev))
				break;
			sl = news_slot(d, source_at(d, t, &next), m);
			if (sl && sl->news_mode != SCHED_START_SOFT &&
			    news_pending(s, t))
				consider(t, sl->news_mode, sl->tolerance_ms, at,
				         horizon, &found, ev, tolerance_ms);
		}
	}
	return found;
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

/* How much room there is before the next event: an item may play room
 * ms and end on it, or up to limit ms (its tolerance; both INT64_MAX
 * when no event is near); fill is the slot's jingles (NULL: none). */
struct room {
	int64_t room, limit;
	const struct sched_plist *fill;
};

/* Whether a jingle in r->fill covers a gap of gap ms, its tail (at most
 * FILL_SLACK_MS) faded at the event. */
static bool fillable(const struct sched_data *d, const struct room *r,
                     int64_t gap)
{
	for (size_t i = 0; r->fill && i < r->fill->n; i++) {
		const struct sched_trk *k = &d->trk[r->fill->items[i]];

		if (!k->broken && k->length_ms >= gap &&
		    k->length_ms <= gap + FILL_SLACK_MS)
			return true;
	}
	return false;
}

/*
 * How well a track of len ms fits the room, best first: 3 it fits,
 * leaving nothing, room for more music, or a gap one jingle fills; 2 it
 * runs past the event but plays a minute or more before it is faded;
 * 1 it fits but leaves a gap nothing fills; 0 it is cut inside a minute.
 */
static int fit_class(const struct sched_data *d, int64_t len,
                     const struct room *r)
{
	int64_t gap = r->room - len;

	if (len > r->limit)
		return r->room >= SHORT_MS ? 2 : 0;
	return gap <= 0 || gap >= SHORT_MS || fillable(d, r, gap) ? 3 : 1;
}

/* A music pick from p (the rules above): a track index, or -1. Among
 * the tracks that keep the same rules, the better fit wins. */
static long pick_music(const struct sched_data *d, const struct sched_plist *p,
                       int64_t at, const struct room *r)
{
	long best[2][4] = {{-1, -1, -1, -1}, {-1, -1, -1, -1}}, c = -1;

	for (size_t i = 0; i < p->n; i++) {
		long t = (long)p->items[i], *slot;
		const struct sched_trk *k = &d->trk[t];
		bool artist_ok = true;

		if (k->broken)
			continue;
		if (c < 0 || d->trk_last[t] < d->trk_last[c] ||
		    (d->trk_last[t] == d->trk_last[c] && k->id < d->trk[c].id))
			c = t;
		if (recent(d->trk_last[t], at, d->title_sep_ms) ||
		    (k->title_key >= 0 &&
		     recent(d->title_last[k->title_key], at, d->title_sep_ms)))
			continue;
		for (int j = 0; j < k->nartists; j++)
			if (recent(d->artist_last[k->artists[j]], at,
			           d->artist_sep_ms))
				artist_ok = false;
		slot = &best[artist_ok][fit_class(d, k->length_ms, r)];
		if (older(d, t, *slot))
			*slot = t;
	}
	for (int rules = 1; rules >= 0; rules--)
		for (int cls = 3; cls >= 0; cls--)
			if (best[rules][cls] >= 0)
				return best[rules][cls];
	return c;
}

/* A jingle or ID from p: least recently started, preferring one that
 * fits in limit_ms. */
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

/* The jingle that fills the room: the least recently started of those
 * ending inside the tolerance or at most FILL_SLACK_MS past the event,
 * else the shortest that reaches the event, else the longest. */
static long pick_filler(const struct sched_data *d, const struct room *r)
{
	const struct sched_plist *p = r->fill;
	int64_t most = r->limit > r->room + FILL_SLACK_MS
	                   ? r->limit
	                   : r->room + FILL_SLACK_MS;
	long good = -1, reach = -1, longest = -1;

	for (size_t i = 0; i < p->n; i++) {
		long t = (long)p->items[i];
		int64_t len = d->trk[t].length_ms;

		if (d->trk[t].broken)
			continue;
		if (len >= r->room && len <= most && older(d, t, good))
			good = t;
		if (len >= r->room &&
		    (reach < 0 || len < d->trk[reach].length_ms))
			reach = t;
		if (longest < 0 || len > d->trk[longest].length_ms)
			longest = t;
	}
	return good >= 0 ? good : reach >= 0 ? reach : longest;
}

/* The top-of-hour ID due at at (a track index), or -1. Due: the slot in
 * force has IDs, was in force at the top of this hour, the ID of this
 * hour has not aired, and the hour began at most ID_LATE_MS ago. */
static long id_due(struct sched *s, int src, int64_t at, int64_t hour,
                   int64_t limit_ms)
{
	const struct sched_slot *sl = id_slot(s->d, src);
	int64_t next;

	if (!sl || hour <= s->id_done || at - hour > ID_LATE_MS ||
	    source_at(s->d, hour, &next) != src)
		return -1;
	s->id_done = hour;
	return pick_jingle(s->d, &s->d->pl[sl->id_pl], limit_ms);
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

void sched_use_fallback(struct sched *s, int64_t until_ms)
{
	s->fallback_until = until_ms;
}

static void shift(int64_t *t, size_t n, int64_t delta_ms)
{
	for (size_t i = 0; i < n; i++)
		if (t[i] != SCHED_NEVER)
			t[i] += delta_ms;
}

void sched_clock_step(struct sched *s, int64_t delta_ms)
{
	struct sched_data *d = s->d;

	shift(d->trk_last, d->ntrk, delta_ms);
	shift(d->title_last, d->titles.n, delta_ms);
	shift(d->artist_last, d->artists.n, delta_ms);
	shift(&s->id_done, 1, delta_ms);
	shift(&s->news_done, 1, delta_ms);
	if (s->fallback_until)
		s->fallback_until += delta_ms;
}

/* The sound of slot (NULL: none in force), in item. */
static void sound(const struct sched_data *d, const struct sched_slot *slot,
                  struct sched_item *item)
{
	const struct sched_sound *st = &d->sound;

	item->xfade_ms = slot ? slot->crossfade_ms : st->crossfade_ms;
	item->curve = slot && slot->curve >= 0 ? slot->curve : st->curve;
	item->duck_db =
	    slot && !isnan(slot->duck_db) ? slot->duck_db : st->duck_db;
	item->over = slot && slot->jingles_over >= 0 ? slot->jingles_over
	                                             : st->jingles_over;
}

void sched_set_news(struct sched *s, int (*pending)(void *ctx, int64_t at_ms),
                    void *ctx)
{
	s->news_pending = pending;
	s->news_ctx = ctx;
}

/* Whether the news is due at at: the last news minute of the slot in
 * force, at most NEWS_LATE_MS ago (the item before it ran over), not yet
 * handled, with bulletins pending at that minute: one sent after it waits
 * for the next news minute, unless it is breaking news. */
static bool news_due(struct sched *s, int src, int64_t at, int64_t hour)
{
	struct sched_data *d = s->d;

	if (src < 0 || (size_t)src >= d->nslot || !d->slot[src].news_mask)
		return false;
	for (int64_t h = hour; h >= hour - HOUR_MS; h -= HOUR_MS) {
		for (int m = 59; m >= 0; m--) {
			int64_t t = h + m * 60000, next;

			if (t > at || !(d->slot[src].news_mask >> m & 1))
				continue;
			if (at - t > NEWS_LATE_MS || t <= s->news_done ||
			    source_at(d, t, &next) != src ||
			    !news_pending(s, t))
				return false;
			s->news_done = t;
			return true;
		}
	}
	return false;
}

int sched_next(struct sched *s, int64_t at_ms, struct sched_item *item)
{
	struct sched_data *d = s->d;
	const struct sched_slot *slot = NULL;
	struct room r = {INT64_MAX, INT64_MAX, NULL};
	int64_t until, ev = 0, tol = 0, hour;
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
	hour = hour_floor(d, at_ms);
	/* Far enough ahead to see the gap the longest track would leave. */
	if (next_event(s, src, at_ms, until, hour,
	               at_ms + d->max_len_ms + SHORT_MS, &ev, &tol)) {
		r.room = ev - at_ms;
		r.limit = r.room + tol;
		if (slot && slot->jingle_pl >= 0)
			r.fill = &d->pl[slot->jingle_pl];
	}
	t = id_due(s, src, at_ms, hour, r.limit);
	if (t < 0 && news_due(s, src, at_ms, hour)) {
		/* The bed under the news, if the slot has one. */
		t = slot->news_bed_pl >= 0
		        ? pick_jingle(d, &d->pl[slot->news_bed_pl], INT64_MAX)
		        : -1;
		memset(item, 0, sizeof(*item));
		if (t >= 0) {
			fill(item, &d->trk[t]);
			d->trk_last[t] = at_ms;
		}
		item->kind = SCHED_NEWS;
		sound(d, slot, item);
		item->over = false;
		item->pinned = true;
		item->start_ms = at_ms;
		item->length_ms = 0;
		item->loudness_lufs = (double)NAN;
		snprintf(item->slot, sizeof(item->slot), "%s", name);
		s->since_jingle = 0;
		return 0;
	}
	if (t >= 0) {
		kind = SCHED_ID;
	} else if (r.room < SHORT_MS && r.fill) {
		/* Too close to the event for music: a jingle fills it. */
		t = pick_filler(d, &r);
		kind = SCHED_JINGLE;
	} else if (slot && slot->jingle_pl >= 0 && slot->jingle_every > 0 &&
	           s->since_jingle >= slot->jingle_every) {
		t = pick_jingle(d, &d->pl[slot->jingle_pl], r.limit);
		kind = SCHED_JINGLE;
	}
	if (t < 0 && pl >= 0 &&
	    (at_ms >= s->fallback_until || d->fallback < 0)) {
		t = pick_music(d, &d->pl[pl], at_ms, &r);
		kind = SCHED_MUSIC;
	}
	if (t < 0 && d->fallback >= 0) {
		t = pick_music(d, &d->pl[d->fallback], at_ms, &r);
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
	if (item->length_ms > r.limit) {
		item->length_ms = r.room;
		item->cut = true;
	}
	sound(d, slot, item);
	item->over = item->over && kind == SCHED_JINGLE && r.room >= SHORT_MS;
	item->pinned = item->cut || (r.room != INT64_MAX &&
	                             r.room - item->length_ms < SHORT_MS);
	d->trk_last[t] = at_ms;
	if (kind == SCHED_JINGLE || kind == SCHED_ID) {
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
