/*
 * sched_load.c - the scheduler's snapshot of the database: settings,
 * eligible tracks, playlists, the week grid, overrides and the seeded
 * rotation history.
 *
 * The one thing to know: this is the only part of the scheduler that
 * runs SQL; it builds a whole new struct sched_data, so a failure leaves
 * the caller's old snapshot untouched.
 */
#include "sched_priv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "err.h"
#include "log.h"
#include "mixer.h"
#include "store.h"
#include "timeutil.h"

void sched_data_free(struct sched_data *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->ntrk; i++) {
		free(d->trk[i].path);
		free(d->trk[i].title);
		free(d->trk[i].artist);
		free(d->trk[i].album);
	}
	for (size_t i = 0; i < d->npl; i++)
		free(d->pl[i].items);
	for (size_t i = 0; i < d->nslot; i++)
		free(d->slot[i].name);
	for (size_t i = 0; i < d->novr; i++)
		free(d->ovr[i].name);
	free(d->trk);
	free(d->pl);
	free(d->slot);
	free(d->ovr);
	sched_strtab_clear(&d->titles);
	sched_strtab_clear(&d->artists);
	free(d->trk_last);
	free(d->title_last);
	free(d->artist_last);
	free(d);
}

static int db_fail(struct store *st)
{
	log_error("sched: %s: %s", store_path(st),
	          sqlite3_errmsg(store_db(st)));
	return -ERR_DB;
}

static char *col_dup(sqlite3_stmt *stmt, int i)
{
	const char *s = (const char *)sqlite3_column_text(stmt, i);

	return strdup(s ? s : "");
}

/* Grows *arr (of *cap elements of size) so that n + 1 fit. */
static int reserve(void *arr, size_t *cap, size_t n, size_t size)
{
	void **p = arr;
	size_t c = *cap ? *cap * 2 : 16;
	void *q;

	if (n < *cap)
		return 0;
	q = realloc(*p, c * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

static long intern(struct sched_strtab *t, const char *s)
{
	char key[SCHED_TAG_MAX];

	sched_fold(s, key, sizeof(key));
	return key[0] ? sched_strtab_add(t, key) : -1;
}

static long lookup(const struct sched_strtab *t, const char *s)
{
	char key[SCHED_TAG_MAX];

	sched_fold(s, key, sizeof(key));
	return key[0] ? sched_strtab_find(t, key) : -1;
}

static int load_tracks(struct store *st, struct sched_data *d)
{
	sqlite3_stmt *stmt;
	size_t cap = 0;
	int rc;

	if (sqlite3_prepare_v2(
	        store_db(st),
	        "SELECT id, path, title, artist, album, cue_in_ms, "
	        "cue_out_ms - cue_in_ms, loudness_lufs, last_played FROM track "
	        "WHERE enabled = 1 AND missing = 0 AND cue_out_ms > cue_in_ms "
	        "ORDER BY id",
	        -1, &stmt, NULL) != SQLITE_OK)
		return db_fail(st);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		char names[SCHED_MAX_CREDIT][SCHED_TAG_MAX];
		struct sched_trk *k;
		size_t n;

		if (reserve(&d->trk, &cap, d->ntrk, sizeof(*d->trk)) < 0)
			goto nomem;
		k = &d->trk[d->ntrk++];
		memset(k, 0, sizeof(*k));
		k->id = sqlite3_column_int64(stmt, 0);
		k->path = col_dup(stmt, 1);
		k->title = col_dup(stmt, 2);
		k->artist = col_dup(stmt, 3);
		k->album = col_dup(stmt, 4);
		if (!k->path || !k->title || !k->artist || !k->album)
			goto nomem;
		k->cue_in_ms = sqlite3_column_int64(stmt, 5);
		k->length_ms = sqlite3_column_int64(stmt, 6);
		k->loudness_lufs = sqlite3_column_type(stmt, 7) == SQLITE_NULL
		                       ? (double)NAN
		                       : sqlite3_column_double(stmt, 7);
		if (k->length_ms > d->max_len_ms)
			d->max_len_ms = k->length_ms;
		k->title_key = intern(&d->titles, k->title);
		n = sched_split_credit(k->artist, names, SCHED_MAX_CREDIT);
		for (size_t i = 0; i < n; i++) {
			long a = intern(&d->artists, names[i]);

			if (a < -1)
				goto nomem;
			if (a >= 0)
				k->artists[k->nartists++] = a;
		}
		if (k->title_key < -1)
			goto nomem;
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : db_fail(st);
nomem:
	sqlite3_finalize(stmt);
	return -ENOMEM;
}

/* Index of the track with id, or -1 (the array is sorted by id). */
static long track_index(const struct sched_data *d, int64_t id)
{
	size_t lo = 0, hi = d->ntrk;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (d->trk[mid].id == id)
			return (long)mid;
		if (d->trk[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int playlist_index(const struct sched_data *d, int64_t id)
{
	for (size_t i = 0; i < d->npl; i++)
		if (d->pl[i].id == id)
			return (int)i;
	return -1;
}

static int load_playlists(struct store *st, struct sched_data *d)
{
	sqlite3_stmt *stmt;
	size_t cap = 0, icap = 0;
	int rc, cur = -1;

	if (sqlite3_prepare_v2(store_db(st),
	                       "SELECT id FROM playlist ORDER BY id", -1, &stmt,
	                       NULL) != SQLITE_OK)
		return db_fail(st);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (reserve(&d->pl, &cap, d->npl, sizeof(*d->pl)) < 0) {
			sqlite3_finalize(stmt);
			return -ENOMEM;
		}
		memset(&d->pl[d->npl], 0, sizeof(*d->pl));
		d->pl[d->npl++].id = sqlite3_column_int64(stmt, 0);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return db_fail(st);
	if (sqlite3_prepare_v2(
	        store_db(st),
	        "SELECT playlist_id, track_id FROM playlist_item "
	        "ORDER BY playlist_id, position",
	        -1, &stmt, NULL) != SQLITE_OK)
		return db_fail(st);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int p = playlist_index(d, sqlite3_column_int64(stmt, 0));
		long t = track_index(d, sqlite3_column_int64(stmt, 1));
		struct sched_plist *pl;

		if (p < 0 || t < 0)
			continue; /* not eligible */
		if (p != cur) {
			cur = p;
			icap = 0;
		}
		pl = &d->pl[p];
		if (reserve(&pl->items, &icap, pl->n, sizeof(*pl->items)) < 0) {
			sqlite3_finalize(stmt);
			return -ENOMEM;
		}
		pl->items[pl->n++] = (size_t)t;
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : db_fail(st);
}

static enum sched_start parse_mode(const char *s)
{
	if (s && strcmp(s, "hard") == 0)
		return SCHED_START_HARD;
	if (s && strcmp(s, "not-before") == 0)
		return SCHED_START_NOT_BEFORE;
	return SCHED_START_SOFT;
}

/* "0,30" -> bits 0 and 30; what is not a minute 0..59 is skipped. */
static uint64_t parse_minutes(const char *s)
{
	uint64_t mask = 0;

	while (s && *s) {
		char *end;
		long m = strtol(s, &end, 10);

		if (end == s)
			break;
		if (m >= 0 && m < 60)
			mask |= (uint64_t)1 << m;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			break;
	}
	return mask;
}

static void mark_week(struct sched_data *d, int idx, unsigned days, int start,
                      int end)
{
	for (int day = 0; day < 7; day++) {
		int from = day * TU_DAY_MIN + start;
		int to =
		    day * TU_DAY_MIN + end + (end > start ? 0 : TU_DAY_MIN);

		if (!(days & (1u << day)))
			continue;
		for (int m = from; m < to; m++)
			if (d->week[m % TU_WEEK_MIN] < 0)
				d->week[m % TU_WEEK_MIN] = (int16_t)idx;
	}
}

static void build_runs(struct sched_data *d)
{
	unsigned r = 0;

	for (int k = 2 * TU_WEEK_MIN - 1; k >= 0; k--) {
		int m = k % TU_WEEK_MIN, next = (k + 1) % TU_WEEK_MIN;

		r = d->week[next] != d->week[m] ? 1 : r ? r + 1 : 0;
		if (k < TU_WEEK_MIN)
			d->run[m] = (uint16_t)(r > TU_WEEK_MIN ? 0 : r);
	}
}

static int parse_curve(const char *s)
{
	return s && strcmp(s, "linear") == 0 ? MIXER_LINEAR : MIXER_EQUAL_POWER;
}

static int load_slots(struct store *st, struct sched_data *d)
{
	sqlite3_stmt *stmt;
	size_t cap = 0;
	int rc;

	for (int m = 0; m < TU_WEEK_MIN; m++)
		d->week[m] = -1;
	if (sqlite3_prepare_v2(store_db(st),
	                       "SELECT name, days, start_min, end_min, "
	                       "playlist_id, jingle_playlist_id, jingle_every, "
	                       "start_mode, tolerance_s, id_playlist_id, "
	                       "id_mode, news_minutes, news_mode, "
	                       "news_bed_playlist_id, crossfade_ms, "
	                       "crossfade_curve, duck_db, jingles_over "
	                       "FROM slot ORDER BY id",
	                       -1, &stmt, NULL) != SQLITE_OK)
		return db_fail(st);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct sched_slot *sl;

		if (d->nslot >= INT16_MAX ||
		    reserve(&d->slot, &cap, d->nslot, sizeof(*d->slot)) < 0 ||
		    !(d->slot[d->nslot].name = col_dup(stmt, 0))) {
			sqlite3_finalize(stmt);
			return -ENOMEM;
		}
		sl = &d->slot[d->nslot];
		sl->pl = playlist_index(d, sqlite3_column_int64(stmt, 4));
		sl->jingle_pl =
		    sqlite3_column_type(stmt, 5) == SQLITE_NULL
		        ? -1
		        : playlist_index(d, sqlite3_column_int64(stmt, 5));
		sl->jingle_every = (long)sqlite3_column_int64(stmt, 6);
		sl->mode =
		    parse_mode((const char *)sqlite3_column_text(stmt, 7));
		sl->tolerance_ms = sqlite3_column_int64(stmt, 8) * 1000;
		sl->id_pl =
		    sqlite3_column_type(stmt, 9) == SQLITE_NULL
		        ? -1
		        : playlist_index(d, sqlite3_column_int64(stmt, 9));
		sl->id_mode =
		    parse_mode((const char *)sqlite3_column_text(stmt, 10));
		sl->news_mask =
		    parse_minutes((const char *)sqlite3_column_text(stmt, 11));
		sl->news_mode =
		    parse_mode((const char *)sqlite3_column_text(stmt, 12));
		sl->news_bed_pl =
		    sqlite3_column_type(stmt, 13) == SQLITE_NULL
		        ? -1
		        : playlist_index(d, sqlite3_column_int64(stmt, 13));
		sl->crossfade_ms = sqlite3_column_int64(stmt, 14);
		sl->curve = sqlite3_column_type(stmt, 15) == SQLITE_NULL
		                ? -1
		                : parse_curve((const char *)sqlite3_column_text(
		                      stmt, 15));
		sl->duck_db = sqlite3_column_type(stmt, 16) == SQLITE_NULL
		                  ? (double)NAN
		                  : sqlite3_column_double(stmt, 16);
		sl->jingles_over = sqlite3_column_type(stmt, 17) == SQLITE_NULL
		                       ? -1
		                       : sqlite3_column_int(stmt, 17) != 0;
		d->news_any |= sl->news_mask;
		mark_week(d, (int)d->nslot,
		          (unsigned)sqlite3_column_int(stmt, 1) & TU_ALL_DAYS,
		          sqlite3_column_int(stmt, 2),
		          sqlite3_column_int(stmt, 3));
		d->nslot++;
	}
	sqlite3_finalize(stmt);
	build_runs(d);
	return rc == SQLITE_DONE ? 0 : db_fail(st);
}

static int load_overrides(struct store *st, struct sched_data *d)
{
	sqlite3_stmt *stmt;
	size_t cap = 0;
	int rc;

	if (sqlite3_prepare_v2(
	        store_db(st),
	        "SELECT name, starts_at, ends_at, playlist_id, "
	        "start_mode FROM override ORDER BY starts_at, id",
	        -1, &stmt, NULL) != SQLITE_OK)
		return db_fail(st);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *from = (const char *)sqlite3_column_text(stmt, 1);
		const char *to = (const char *)sqlite3_column_text(stmt, 2);
		struct sched_ovr o;

		if (!from || !to || tu_parse_utc(from, &o.from_ms) < 0 ||
		    tu_parse_utc(to, &o.to_ms) < 0 || o.to_ms <= o.from_ms) {
			log_warn("sched: override '%s' has bad times; ignored",
			         sqlite3_column_text(stmt, 0));
			continue;
		}
		o.pl = playlist_index(d, sqlite3_column_int64(stmt, 3));
		o.mode = parse_mode((const char *)sqlite3_column_text(stmt, 4));
		if (reserve(&d->ovr, &cap, d->novr, sizeof(*d->ovr)) < 0 ||
		    !(o.name = col_dup(stmt, 0))) {
			sqlite3_finalize(stmt);
			return -ENOMEM;
		}
		d->ovr[d->novr++] = o;
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : db_fail(st);
}

static int64_t setting_s(struct store *st, const char *key, long dflt)
{
	char buf[32], *end;
	long v;

	if (store_setting_get(st, key, buf, sizeof(buf)) < 0)
		return (int64_t)dflt * 1000;
	v = strtol(buf, &end, 10);
	if (end == buf || *end || v < 0)
		return (int64_t)dflt * 1000;
	return (int64_t)v * 1000;
}

static int load_settings(struct store *st, struct sched_data *d)
{
	char name[128];
	sqlite3_stmt *stmt;

	if (store_setting_get(st, "timezone", d->zone, sizeof(d->zone)) < 0 ||
	    !tu_zone_valid(d->zone)) {
		log_error("sched: %s: setting 'timezone' is not a known time "
		          "zone",
		          store_path(st));
		return -ERR_INVALID;
	}
	d->sound.crossfade_ms = setting_s(st, "crossfade_ms", 3000) / 1000;
	if (d->sound.crossfade_ms > 30000)
		d->sound.crossfade_ms = 30000;
	d->sound.curve =
	    store_setting_get(st, "crossfade_curve", name, sizeof(name)) == 0
	        ? parse_curve(name)
	        : MIXER_EQUAL_POWER;
	d->sound.jingles_over = setting_s(st, "jingles_over", 0) != 0;
	d->sound.duck_db = -12.0;
	if (store_setting_get(st, "duck_db", name, sizeof(name)) == 0) {
		char *end;
		double v = strtod(name, &end);

		if (end != name && !*end && v >= -40 && v <= 0)
			d->sound.duck_db = v;
	}
	d->title_sep_ms = setting_s(st, "title_separation_s", 10800);
	d->artist_sep_ms = setting_s(st, "artist_separation_s", 3600);
	d->fallback = -1;
	if (store_setting_get(st, "fallback_playlist", name, sizeof(name)) <
	        0 ||
	    !name[0])
		return 0;
	if (sqlite3_prepare_v2(store_db(st),
	                       "SELECT id FROM playlist WHERE name = ?1", -1,
	                       &stmt, NULL) != SQLITE_OK)
		return db_fail(st);
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		d->fallback = playlist_index(d, sqlite3_column_int64(stmt, 0));
	else
		log_warn("sched: fallback playlist '%s' does not exist", name);
	sqlite3_finalize(stmt);
	return 0;
}

static void note(int64_t *last, int64_t at)
{
	if (*last == SCHED_NEVER || at > *last)
		*last = at;
}

/* The history as the database knows it: track.last_played and the
 * as-run log's last max(separation) before its latest row. */
static int seed_history(struct store *st, struct sched_data *d)
{
	int64_t window = d->title_sep_ms > d->artist_sep_ms ? d->title_sep_ms
	                                                    : d->artist_sep_ms;
	sqlite3_stmt *stmt;
	int64_t latest, ms;
	char from[32];
	int rc;

	if (sqlite3_prepare_v2(store_db(st),
	                       "SELECT id, last_played FROM track WHERE "
	                       "last_played IS NOT NULL",
	                       -1, &stmt, NULL) != SQLITE_OK)
		return db_fail(st);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		long t = track_index(d, sqlite3_column_int64(stmt, 0));
		const char *s = (const char *)sqlite3_column_text(stmt, 1);

		if (t >= 0 && s && tu_parse_utc(s, &ms) == 0)
			note(&d->trk_last[t], ms);
	}
	sqlite3_finalize(stmt);
	if (sqlite3_prepare_v2(store_db(st),
	                       "SELECT max(started_at) FROM asrun", -1, &stmt,
	                       NULL) != SQLITE_OK)
		return db_fail(st);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW || sqlite3_column_type(stmt, 0) == SQLITE_NULL ||
	    tu_parse_utc((const char *)sqlite3_column_text(stmt, 0), &latest) <
	        0) {
		sqlite3_finalize(stmt);
		return 0;
	}
	sqlite3_finalize(stmt);
	tu_format_utc(latest - window, from, sizeof(from));
	if (sqlite3_prepare_v2(
	        store_db(st),
	        "SELECT started_at, track_id, title, artist FROM "
	        "asrun WHERE started_at >= ?1",
	        -1, &stmt, NULL) != SQLITE_OK)
		return db_fail(st);
	sqlite3_bind_text(stmt, 1, from, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *at = (const char *)sqlite3_column_text(stmt, 0);
		const char *title = (const char *)sqlite3_column_text(stmt, 2);
		const char *artist = (const char *)sqlite3_column_text(stmt, 3);
		char names[SCHED_MAX_CREDIT][SCHED_TAG_MAX];
		long t, k;
		size_t n;

		if (!at || tu_parse_utc(at, &ms) < 0)
			continue;
		t = sqlite3_column_type(stmt, 1) == SQLITE_NULL
		        ? -1
		        : track_index(d, sqlite3_column_int64(stmt, 1));
		if (t >= 0)
			note(&d->trk_last[t], ms);
		k = lookup(&d->titles, title ? title : "");
		if (k >= 0)
			note(&d->title_last[k], ms);
		n = sched_split_credit(artist ? artist : "", names,
		                       SCHED_MAX_CREDIT);
		for (size_t i = 0; i < n; i++) {
			k = lookup(&d->artists, names[i]);
			if (k >= 0)
				note(&d->artist_last[k], ms);
		}
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : db_fail(st);
}

static int64_t *history_new(size_t n)
{
	int64_t *h = malloc((n ? n : 1) * sizeof(*h));

	for (size_t i = 0; h && i < n; i++)
		h[i] = SCHED_NEVER;
	return h;
}

int sched_data_load(struct store *st, struct sched_data **out)
{
	struct sched_data *d = calloc(1, sizeof(*d));
	int rc = -ENOMEM;

	if (!d)
		return -ENOMEM;
	if ((rc = load_tracks(st, d)) < 0 || (rc = load_playlists(st, d)) < 0 ||
	    (rc = load_slots(st, d)) < 0 || (rc = load_overrides(st, d)) < 0 ||
	    (rc = load_settings(st, d)) < 0)
		goto fail;
	d->trk_last = history_new(d->ntrk);
	d->title_last = history_new(d->titles.n);
	d->artist_last = history_new(d->artists.n);
	if (!d->trk_last || !d->title_last || !d->artist_last) {
		rc = -ENOMEM;
		goto fail;
	}
	if ((rc = seed_history(st, d)) < 0)
		goto fail;
	*out = d;
	return 0;
fail:
	if (rc == -ENOMEM)
		log_error("sched: out of memory");
	sched_data_free(d);
	return rc;
}

/* Carries the history of old over to d, by track id and by key. What
 * old knows wins over what the database says: it is as new (every pick
 * is noted in both), and after a step of the wall clock it has moved with
 * the clock (sched_clock_step) where the as-run log keeps the old times. */
void sched_data_carry(struct sched_data *d, const struct sched_data *old)
{
	for (size_t i = 0; i < old->ntrk; i++) {
		long t = track_index(d, old->trk[i].id);

		if (t >= 0 && old->trk_last[i] != SCHED_NEVER)
			d->trk_last[t] = old->trk_last[i];
	}
	for (size_t i = 0; i < old->titles.n; i++) {
		long k = sched_strtab_find(&d->titles, old->titles.strs[i]);

		if (k >= 0 && old->title_last[i] != SCHED_NEVER)
			d->title_last[k] = old->title_last[i];
	}
	for (size_t i = 0; i < old->artists.n; i++) {
		long k = sched_strtab_find(&d->artists, old->artists.strs[i]);

		if (k >= 0 && old->artist_last[i] != SCHED_NEVER)
			d->artist_last[k] = old->artist_last[i];
	}
}
