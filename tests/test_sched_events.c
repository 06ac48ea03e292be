/*
 * test_sched_events.c - the top-of-hour station ID as a hard, soft and
 * not-before event, and what airs in the last minute before a hard event
 * (a jingle that fills it, never a fragment of a song), over most of a
 * simulated week from a real database; IDs in a zone half an hour off UTC.
 *
 * The one thing to know: every expectation is re-derived from the rows
 * inserted here (struct tslot), never asked of sched.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched.h"
#include "store.h"
#include "testutil.h"
#include "timeutil.h"

#define NMUSIC 200
#define NJINGLES 6
#define NIDS 3
#define FIRST_JINGLE (NMUSIC + 1)
#define FIRST_ID (NMUSIC + NJINGLES + 1)
#define NTRACKS (NMUSIC + NJINGLES + NIDS)
#define H_MS ((int64_t)3600 * 1000)
#define MAX_ITEMS 8000
#define ZONE "Africa/Johannesburg"

enum { PL_MUSIC = 1, PL_JINGLES = 2, PL_IDS = 3 };

struct tslot {
	const char *name;
	unsigned days;
	int start_h, end_h;
	int jingles;                /* 0 none */
	const char *mode, *id_mode; /* id_mode NULL: no IDs */
	int tolerance_s;
};

/* Mon-Fri 0x1f, Sat+Sun 0x60; weekdays 00:00-06:00 nothing (fallback). */
static const struct tslot slots[] = {
    {"morning", 0x1f, 6, 12, PL_JINGLES, "hard", "hard", 0},
    {"afternoon", 0x1f, 12, 18, 0, "soft", "soft", 0},
    {"evening", 0x1f, 18, 24, PL_JINGLES, "not-before", "not-before", 20},
    {"weekend", 0x60, 0, 24, PL_JINGLES, "soft", NULL, 0},
};
#define NSLOTS (sizeof(slots) / sizeof(*slots))

static struct store *st;

static void sql(const char *s)
{
	char *err = NULL;

	if (sqlite3_exec(store_db(st), s, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "SQL failed: %s: %s\n", s, err);
		test_failures++;
	}
	sqlite3_free(err);
}

static int64_t length_of(int id)
{
	if (id >= FIRST_ID)
		return 5000 + 1000 * (id - FIRST_ID);
	if (id >= FIRST_JINGLE)
		return 4000 + 1500 * (id - FIRST_JINGLE);
	return 150000 + (int64_t)(id * 7919 % 180000);
}

static void make_db(void)
{
	char q[600];

	CHECK(store_open(&st, test_path("events.db"), STORE_CREATE) == 0);
	sql("BEGIN");
	sql("INSERT INTO playlist(id, name) VALUES (1, 'music'), "
	    "(2, 'jingles'), (3, 'ids')");
	for (int id = 1; id <= NTRACKS; id++) {
		int pl = id >= FIRST_ID       ? PL_IDS
		         : id >= FIRST_JINGLE ? PL_JINGLES
		                              : PL_MUSIC;

		snprintf(q, sizeof(q),
		         "INSERT INTO track(id, path, title, artist, "
		         "duration_ms, cue_out_ms, file_size, file_mtime, "
		         "added_at, scanned_at) VALUES (%d, '/m/%d.ogg', "
		         "'%s %d', '%s%02d', %lld, %lld, 1, 1, 'x', 'x'); "
		         "INSERT INTO playlist_item VALUES (%d, %d, %d)",
		         id, id, pl == PL_MUSIC ? "Song" : "Sounder", id,
		         pl == PL_MUSIC ? "Artist " : "",
		         pl == PL_MUSIC ? id % 40 : 0, (long long)length_of(id),
		         (long long)length_of(id), pl, id, id);
		sql(q);
	}
	for (size_t i = 0; i < NSLOTS; i++) {
		const struct tslot *s = &slots[i];

		snprintf(q, sizeof(q),
		         "INSERT INTO slot(name, days, start_min, end_min, "
		         "playlist_id, jingle_playlist_id, jingle_every, "
		         "start_mode, tolerance_s, id_playlist_id, id_mode) "
		         "VALUES ('%s', %u, %d, %d, 1, %s, %d, '%s', %d, %s, "
		         "'%s')",
		         s->name, s->days, s->start_h * 60, s->end_h * 60,
		         s->jingles ? "2" : "NULL", s->jingles ? 3 : 0, s->mode,
		         s->tolerance_s, s->id_mode ? "3" : "NULL",
		         s->id_mode ? s->id_mode : "hard");
		sql(q);
	}
	sql("UPDATE setting SET value = 'music' WHERE key = "
	    "'fallback_playlist'");
	sql("COMMIT");
}

struct sim {
	struct sched_item *items;
	size_t n;
	int64_t reload_at; /* 0: none */
	int failures;
};

static void simulate(struct sched *s, int64_t from, int64_t to, struct sim *sm)
{
	struct sched_item item;
	int64_t at = from;
	bool reloaded = false;

	sm->n = 0;
	while (at < to && sm->n < MAX_ITEMS) {
		if (sm->reload_at && !reloaded && at >= sm->reload_at) {
			CHECK(sched_reload(s) == 0);
			reloaded = true;
		}
		if (sched_next(s, at, &item) < 0) {
			sm->failures++;
			break;
		}
		sm->items[sm->n++] = item;
		at += item.length_ms;
	}
}

static int64_t local_ms(const char *when, const char *zone)
{
	int64_t s = 0;

	CHECK(tu_parse_local(when, zone, &s) == 0);
	return s * 1000;
}

/* The first item starting at or after t, or n. */
static size_t first_from(const struct sim *sm, int64_t t)
{
	size_t i = 0;

	while (i < sm->n && sm->items[i].start_ms < t)
		i++;
	return i;
}

static bool is_id(const struct sched_item *it)
{
	return it->kind == SCHED_ID && it->track_id >= FIRST_ID &&
	       it->track_id <= NTRACKS;
}

/* Every top of the hour in a slot with IDs, checked by its mode. */
static int check_hours(const struct sim *sm, int64_t from, int days)
{
	int expected = 0;

	for (int day = 0; day < days; day++) {
		for (int h = 0; h < 24; h++) {
			const struct tslot *sl = NULL;
			char when[40], buf[40];
			int64_t e;
			size_t i;

			for (size_t k = 0; k < NSLOTS; k++)
				if ((slots[k].days >> day & 1) &&
				    h >= slots[k].start_h && h < slots[k].end_h)
					sl = &slots[k];
			if (!sl || !sl->id_mode)
				continue;
			snprintf(when, sizeof(when), "2026-12-%02d %02d:00",
			         14 + day, h);
			e = local_ms(when, ZONE);
			if (e < from)
				continue;
			expected++;
			tu_format_utc(e, buf, sizeof(buf));
			i = first_from(sm, e);
			CHECKF(i < sm->n && i > 0, "%s: no items", buf);
			if (i >= sm->n || i == 0)
				continue;
			CHECKF(is_id(&sm->items[i]),
			       "%s (%s): item %zu is no ID", buf, sl->id_mode,
			       i);
			CHECKF(!strcmp(sm->items[i].slot, sl->name),
			       "%s: ID in slot '%s'", buf, sm->items[i].slot);
			if (!strcmp(sl->id_mode, "hard")) {
				CHECKF(sm->items[i].start_ms == e,
				       "%s: hard ID %lld ms late", buf,
				       (long long)(sm->items[i].start_ms - e));
			} else if (!strcmp(sl->id_mode, "soft")) {
				/* Waits for the item playing, never cuts it. */
				CHECKF(!sm->items[i - 1].cut,
				       "%s: soft ID cut the item before", buf);
				CHECK(sm->items[i].start_ms - e < 15 * 60000);
			} else {
				CHECKF(sm->items[i].start_ms - e <= 20000,
				       "%s: not-before ID %lld ms late", buf,
				       (long long)(sm->items[i].start_ms - e));
			}
		}
	}
	return expected;
}

static void test_week(void)
{
	struct sim sm = {.items = malloc(MAX_ITEMS * sizeof(*sm.items))};
	int64_t from = local_ms("2026-12-14 00:00", ZONE);
	int64_t to = from + 6 * 24 * H_MS + 12 * H_MS;
	int64_t last_title[NTRACKS + 1];
	int ids = 0, jingles = 0, cut = 0, fragments = 0, run = 0, max_run = 0,
	    repeats = 0, expected;
	struct sched *s = NULL;

	CHECK(sm.items != NULL);
	if (!sm.items)
		return;
	/* A reload just after Wednesday's 09:00 ID must not air it again. */
	sm.reload_at = local_ms("2026-12-16 09:00", ZONE) + 30000;
	CHECK(sched_new(&s, st) == 0);
	simulate(s, from, to, &sm);
	CHECK(sm.failures == 0 && sm.n > 1500);
	for (int i = 0; i <= NTRACKS; i++)
		last_title[i] = INT64_MIN;
	for (size_t i = 0; i < sm.n; i++) {
		const struct sched_item *it = &sm.items[i];
		bool music =
		    it->kind == SCHED_MUSIC || it->kind == SCHED_FALLBACK;

		ids += it->kind == SCHED_ID;
		jingles += it->kind == SCHED_JINGLE;
		cut += it->cut;
		if (music && it->cut && it->length_ms < 60000 &&
		    fragments++ < 5)
			fprintf(stderr, "item %zu: music cut to %lld ms\n", i,
			        (long long)it->length_ms);
		run = music ? 0 : run + 1;
		if (run > max_run)
			max_run = run;
		if (music && last_title[it->track_id] != INT64_MIN &&
		    it->start_ms - last_title[it->track_id] < 3 * H_MS)
			repeats++;
		if (music)
			last_title[it->track_id] = it->start_ms;
		if (it->kind == SCHED_ID)
			CHECK(is_id(it) && strcmp(it->slot, "weekend") != 0 &&
			      it->slot[0]);
	}
	expected = check_hours(&sm, from, 7);
	printf("week: %zu items, %d IDs (%d hours with IDs), %d jingles, "
	       "%d cut, %d music fragments, at most %d jingles in a row\n",
	       sm.n, ids, expected, jingles, cut, fragments, max_run);
	CHECK(expected == 5 * 18);
	CHECKF(ids == expected, "%d IDs for %d hours", ids, expected);
	CHECKF(fragments == 0, "%d songs cut inside a minute", fragments);
	CHECK(max_run <= 3);
	CHECK(repeats == 0);
	CHECK(cut > 20); /* the hard IDs did cut music */
	sched_free(s);
	free(sm.items);
}

/* Asia/Kolkata is UTC+05:30: the top of its hours is :30 UTC. */
static void test_half_hour_zone(void)
{
	struct sim sm = {.items = malloc(MAX_ITEMS * sizeof(*sm.items))};
	int64_t from = local_ms("2026-12-15 06:00", "Asia/Kolkata");
	struct sched *s = NULL;
	int ids = 0;

	CHECK(sm.items != NULL);
	if (!sm.items)
		return;
	sql("UPDATE setting SET value = 'Asia/Kolkata' WHERE key = "
	    "'timezone'");
	CHECK(sched_new(&s, st) == 0);
	simulate(s, from, from + 6 * H_MS, &sm);
	for (size_t i = 0; i < sm.n; i++) {
		struct tm tm;

		if (sm.items[i].kind != SCHED_ID)
			continue;
		ids++;
		CHECK(tu_local_tm(sm.items[i].start_ms / 1000, "Asia/Kolkata",
		                  &tm) == 0);
		CHECKF(tm.tm_min == 0 && tm.tm_sec == 0 &&
		           sm.items[i].start_ms % 1000 == 0,
		       "ID at local %02d:%02d:%02d", tm.tm_hour, tm.tm_min,
		       tm.tm_sec);
	}
	CHECKF(ids == 6, "%d IDs in the morning", ids);
	sched_free(s);
	free(sm.items);
	sql("UPDATE setting SET value = '" ZONE "' WHERE key = 'timezone'");
}

/* IDs from a playlist whose files all fail: the hour passes with music,
 * no error, and no cut for an ID that cannot air is left dangling. */
static void test_broken_ids(void)
{
	int64_t t = local_ms("2026-12-15 09:00", ZONE);
	struct sched_item it;
	struct sched *s = NULL;

	CHECK(sched_new(&s, st) == 0);
	for (int id = FIRST_ID; id <= NTRACKS; id++)
		sched_broken(s, id);
	CHECK(sched_next(s, t, &it) == 0);
	CHECK(it.kind == SCHED_MUSIC && !strcmp(it.slot, "morning"));
	sched_free(s);
}

static int64_t news_from; /* bulletins are pending from this time on */

static int pending(void *ctx, int64_t at_ms)
{
	(void)ctx;
	return news_from && at_ms >= news_from;
}

/* News at :30 in the morning slot: an event only while bulletins are
 * pending; then a SCHED_NEWS item starts on the minute (hard). */
static void test_news_minute(void)
{
	struct sim sm = {.items = malloc(MAX_ITEMS * sizeof(*sm.items))};
	int64_t from = local_ms("2026-12-15 07:00", ZONE), at, t;
	struct sched *s = NULL;
	struct sched_item it;
	int news = 0, on_time = 0;

	CHECK(sm.items != NULL);
	if (!sm.items)
		return;
	sql("UPDATE slot SET news_minutes = '30' WHERE name = 'morning'");
	/* Nothing pending: the news minutes pass unmarked. */
	news_from = 0;
	CHECK(sched_new(&s, st) == 0);
	sched_set_news(s, pending, NULL);
	simulate(s, from, from + 2 * H_MS, &sm);
	for (size_t i = 0; i < sm.n; i++)
		news += sm.items[i].kind == SCHED_NEWS;
	CHECK(news == 0);
	sched_free(s);
	/* Pending from 08:10: 08:30 and 09:30 (not 07:30) are news. */
	news_from = local_ms("2026-12-15 08:10", ZONE);
	CHECK(sched_new(&s, st) == 0);
	sched_set_news(s, pending, NULL);
	at = from;
	for (int i = 0; i < 2000 && at < from + 3 * H_MS; i++) {
		CHECK(sched_next(s, at, &it) == 0);
		if (it.kind == SCHED_NEWS) {
			news++;
			t = it.start_ms;
			on_time += t == local_ms("2026-12-15 08:30", ZONE) ||
			           t == local_ms("2026-12-15 09:30", ZONE);
			CHECK(it.length_ms == 0 && it.path[0] == '\0' &&
			      !strcmp(it.slot, "morning"));
			at += 90000; /* a news block of 90 s */
			continue;
		}
		at += it.length_ms;
	}
	CHECKF(news == 2 && on_time == 2, "%d news items, %d on time", news,
	       on_time);
	sched_free(s);
	free(sm.items);
	sql("UPDATE slot SET news_minutes = '' WHERE name = 'morning'");
}

/* Picks n items from at (each as long as it is), noting each music pick
 * in the as-run log as the daemon does; their track ids into ids. */
static int64_t pick_run(struct store *db, struct sched *s, int64_t at,
                        int64_t *ids, int n, int *n_ids)
{
	struct sched_item it;
	char q[900], when[40];

	for (int i = 0; i < n; i++) {
		CHECK(sched_next(s, at, &it) == 0);
		if (it.kind == SCHED_ID) {
			(*n_ids)++;
		} else {
			tu_format_utc(at, when, sizeof(when));
			snprintf(q, sizeof(q),
			         "INSERT INTO asrun(started_at, duration_ms, "
			         "track_id, path, title, artist) VALUES ('%s', "
			         "%lld, %lld, 'x', '%s', '%s')",
			         when, (long long)it.length_ms,
			         (long long)it.track_id, it.title, it.artist);
			CHECK(sqlite3_exec(store_db(db), q, NULL, NULL, NULL) ==
			      SQLITE_OK);
			ids[i] = it.track_id;
		}
		at += it.length_ms;
	}
	return at;
}

/* Whether the music picks ids[0..n) keep the rotation of three tracks:
 * none twice among any three in a row (0 ids are IDs, skipped). */
static bool rotates(const int64_t *ids, int n)
{
	int64_t m[64];
	int k = 0;

	for (int i = 0; i < n && k < 64; i++)
		if (ids[i])
			m[k++] = ids[i];
	for (int i = 0; i + 1 < k; i++)
		if (m[i] == m[i + 1] || (i + 2 < k && m[i] == m[i + 2]))
			return false;
	return k >= 3;
}

/*
 * A step of the wall clock (sched_clock_step), with no separation: only
 * the rotation order keeps a track of three from coming right back. After
 * an hour back, every track but the next has started "in the future";
 * unless the history moves with the clock, the least recently started is
 * the one just played, again and again (also after a reload, which reads
 * the as-run log's old times). After an hour forward, the ID of the new
 * hour airs at most once.
 */
static void test_clock_step(void)
{
	int64_t at = local_ms("2026-12-15 10:05", ZONE), ids[12] = {0};
	struct store *db = NULL;
	struct sched *s = NULL;
	int n_ids = 0;

	CHECK(store_open(&db, test_path("clock.db"), STORE_CREATE) == 0);
	CHECK(sqlite3_exec(
	          store_db(db),
	          "INSERT INTO playlist(id, name) VALUES (1, 'music'), (3, "
	          "'ids');"
	          "INSERT INTO track(id, path, title, artist, duration_ms, "
	          "cue_out_ms, file_size, file_mtime, added_at, scanned_at) "
	          "VALUES (1, '/m/1', 'One', 'A', 200000, 200000, 1, 1, 'x', "
	          "'x'), (2, '/m/2', 'Two', 'B', 210000, 210000, 1, 1, 'x', "
	          "'x'), (3, '/m/3', 'Three', 'C', 220000, 220000, 1, 1, "
	          "'x', 'x'), (4, '/m/4', 'ID', '', 5000, 5000, 1, 1, 'x', "
	          "'x');"
	          "INSERT INTO playlist_item VALUES (1, 0, 1), (1, 1, 2), (1, "
	          "2, 3), (3, 0, 4);"
	          "INSERT INTO slot(name, days, start_min, end_min, "
	          "playlist_id, id_playlist_id, id_mode) VALUES ('all', 127, "
	          "0, 1440, 1, 3, 'hard');"
	          "UPDATE setting SET value = '0' WHERE key IN "
	          "('title_separation_s', 'artist_separation_s');"
	          "UPDATE setting SET value = '" ZONE "' WHERE key = "
	          "'timezone';",
	          NULL, NULL, NULL) == SQLITE_OK);
	CHECK(sched_new(&s, db) == 0);
	if (!s) {
		store_close(db);
		return;
	}
	at = pick_run(db, s, at, ids, 4, &n_ids);
	CHECKF(rotates(ids, 4), "before: %lld %lld %lld %lld",
	       (long long)ids[0], (long long)ids[1], (long long)ids[2],
	       (long long)ids[3]);
	/* An hour back, a reload (the as-run log has the old times), on. */
	sched_clock_step(s, -H_MS);
	at -= H_MS;
	at = pick_run(db, s, at, ids, 2, &n_ids);
	CHECK(sched_reload(s) == 0);
	at = pick_run(db, s, at, ids + 2, 6, &n_ids);
	CHECKF(rotates(ids, 8), "after an hour back: %lld %lld %lld %lld %lld",
	       (long long)ids[0], (long long)ids[1], (long long)ids[2],
	       (long long)ids[3], (long long)ids[4]);
	/* An hour forward, to 5 minutes past an hour: one ID at most. */
	at += H_MS;
	at = (at / H_MS + 1) * H_MS + 5 * 60000;
	sched_clock_step(s, H_MS);
	n_ids = 0;
	memset(ids, 0, sizeof(ids));
	pick_run(db, s, at, ids, 12, &n_ids);
	CHECKF(n_ids <= 1, "%d IDs after an hour forward", n_ids);
	CHECK(rotates(ids, 12));
	sched_free(s);
	/* Without the step, the track just played comes back at once. */
	CHECK(sched_new(&s, db) == 0);
	at = local_ms("2026-12-15 15:05", ZONE);
	memset(ids, 0, sizeof(ids));
	at = pick_run(db, s, at, ids, 3, &n_ids);
	at -= H_MS;
	memset(ids, 0, sizeof(ids));
	pick_run(db, s, at, ids, 4, &n_ids);
	CHECK(!rotates(ids, 4));
	sched_free(s);
	store_close(db);
}

int main(void)
{
	make_db();
	test_week();
	test_half_hour_zone();
	test_broken_ids();
	test_news_minute();
	test_clock_step();
	store_close(st);
	return test_done();
}
