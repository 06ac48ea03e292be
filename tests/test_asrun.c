/*
 * test_asrun.c - the air's as-run writer against another connection that
 * holds the database's write lock: rows and bulletin changes wait in
 * order and go in once the lock is gone, each call returns at once, a
 * bulletin goes on air on the state it can be read in, one withdrawn
 * meanwhile still gets its row, a full queue and the end log what they
 * cannot keep, and a row the database rejects for good does not hold up
 * the others.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asrun.h"
#include "bulletin.h"
#include "err.h"
#include "store.h"
#include "testutil.h"
#include "timeutil.h"

static struct store *st;
static sqlite3 *other; /* another program's connection */
static int64_t t0;     /* 2026-12-01T08:00:00Z */

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void other_sql(const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(other, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "other: %s: %s\n", sql, err);
		test_failures++;
	}
	sqlite3_free(err);
}

static int count(const char *sql)
{
	sqlite3_stmt *stmt;
	int n = -1;

	/* Through the other connection: what a reader of the file sees. */
	if (sqlite3_prepare_v2(other, sql, -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		n = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return n;
}

static void lock(void)
{
	other_sql("BEGIN IMMEDIATE; INSERT INTO setting(key, value) VALUES "
	          "('lock', 'held') ON CONFLICT(key) DO UPDATE SET value = "
	          "'held'");
}

static void unlock(void)
{
	other_sql("COMMIT");
}

static struct asrun_row row(int64_t started_ms, int64_t track_id,
                            const char *title)
{
	return (struct asrun_row){.started_ms = started_ms,
	                          .duration_ms = 180000,
	                          .track_id = track_id,
	                          .path = "/m/x.ogg",
	                          .title = title,
	                          .artist = "Band",
	                          .album = "",
	                          .slot = "day"};
}

/* Calls asrun_idle() until nothing waits (true) or secs pass. */
static bool drain(struct asrun *q, int secs)
{
	int64_t end = mono_ms() + secs * 1000;

	while (asrun_waiting(q) > 0 && mono_ms() < end) {
		struct timespec ts = {0, 20 * 1000000};

		asrun_idle(q);
		nanosleep(&ts, NULL);
	}
	return asrun_waiting(q) == 0;
}

static int64_t bulletin(const char *text)
{
	struct bulletin_new b = {.text = text, .text_len = strlen(text)};
	int64_t id = 0;
	char why[200];

	CHECK(bulletin_add(st, &b, t0, &id, why, sizeof(why)) == 0);
	CHECK(bulletin_set_rendered(st, id, "/b/x.ogg", 3000, -20.0, t0) == 0);
	return id;
}

static enum bulletin_state state_of(int64_t id)
{
	struct bulletin b = {0};
	enum bulletin_state s = BULLETIN_FAILED;

	if (bulletin_get(st, id, &b) == 1)
		s = b.state;
	bulletin_clear(&b);
	return s;
}

static void test_free(void)
{
	struct asrun *q = NULL;
	struct asrun_row r = row(t0, 1, "One");

	CHECK(asrun_new(&q, st) == 0);
	asrun_item(q, &r);
	CHECK(asrun_waiting(q) == 0);
	CHECK(count("SELECT count(*) FROM asrun WHERE title = 'One' AND "
	            "started_at = '2026-12-01T08:00:00.000Z'") == 1);
	CHECK(count("SELECT count(*) FROM track WHERE id = 1 AND last_played "
	            "= '2026-12-01T08:00:00.000Z'") == 1);
	asrun_free(q, 0);
}

static void test_locked(void)
{
	struct asrun *q = NULL;
	const char *log;
	int64_t start, worst = 0;

	CHECK(asrun_new(&q, st) == 0);
	lock();
	test_capture_begin();
	for (int i = 0; i < 3; i++) {
		struct asrun_row r = row(t0 + 60000 * (i + 1), 1, "Locked");

		start = mono_ms();
		asrun_item(q, &r);
		asrun_idle(q);
		if (mono_ms() - start > worst)
			worst = mono_ms() - start;
	}
	CHECKF(worst < 200, "a call took %lld ms", (long long)worst);
	CHECK(asrun_waiting(q) == 3);
	CHECK(!drain(q, 1));
	unlock();
	CHECK(drain(q, 3));
	log = test_capture_end();
	CHECK(strstr(log, "refuses writes for now") != NULL);
	CHECK(strstr(log, "took the 3 entries that waited") != NULL);
	CHECK(test_count_lines(log) == 2);
	/* In order, each with the time it aired at. */
	CHECK(count("SELECT count(*) FROM asrun WHERE title = 'Locked'") == 3);
	CHECK(count("SELECT count(*) FROM (SELECT started_at, id, row_number() "
	            "OVER (ORDER BY id) AS k FROM asrun WHERE title = "
	            "'Locked') WHERE started_at = strftime('%Y-%m-%dT%H:%M:"
	            "%fZ', '2026-12-01T08:00:00Z', (k * 60) || ' seconds')") ==
	      3);
	asrun_free(q, 0);
}

static void test_bulletins(void)
{
	int64_t a = bulletin("Alpha"), b = bulletin("Bravo"),
	        c = bulletin("Charlie");
	struct bulletin_asrun as = {.started_ms = t0 + 1000,
	                            .duration_ms = 3000,
	                            .path = "/b/x.ogg",
	                            .title = "City news",
	                            .slot = "day"};
	struct asrun *q = NULL;
	char sql[200];

	CHECK(asrun_new(&q, st) == 0);
	/* Free: written at once; withdrawn: not aired. */
	CHECK(asrun_on_air(q, a, t0 + 1000) == 0);
	CHECK(state_of(a) == BULLETIN_ON_AIR);
	asrun_bulletin(q, a, &as, t0 + 4000);
	CHECK(state_of(a) == BULLETIN_AIRED);
	snprintf(sql, sizeof(sql),
	         "UPDATE bulletin SET state = 'withdrawn' WHERE id = %lld",
	         (long long)c);
	other_sql(sql);
	CHECK(asrun_on_air(q, c, t0) == -ERR_CONFLICT);
	/* Locked: it airs on the state it is read in, and stays out of the
	 * next news block while its changes wait. */
	test_capture_begin();
	lock();
	CHECK(asrun_on_air(q, b, t0 + 5000) == 0);
	CHECK(asrun_holds(q, b) && !asrun_holds(q, a));
	as.started_ms = t0 + 5000;
	asrun_bulletin(q, b, &as, t0 + 8000);
	CHECK(asrun_waiting(q) == 2 && state_of(b) == BULLETIN_RENDERED);
	unlock();
	CHECK(drain(q, 3));
	test_capture_end();
	CHECK(!asrun_holds(q, b));
	CHECK(state_of(b) == BULLETIN_AIRED);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM asrun WHERE bulletin_id = %lld AND "
	         "started_at = '2026-12-01T08:00:05.000Z' AND ended_early = 0",
	         (long long)b);
	CHECK(count(sql) == 1);
	/* Withdrawn by the lock's holder while it was on air: the row is
	 * written all the same, without its link. */
	b = bulletin("Delta");
	lock();
	other_sql("UPDATE bulletin SET state = 'withdrawn' WHERE state = "
	          "'rendered'");
	test_capture_begin();
	CHECK(asrun_on_air(q, b, t0 + 9000) == 0);
	as.started_ms = t0 + 9000;
	as.title = "Delta news";
	asrun_bulletin(q, b, &as, t0 + 12000);
	unlock();
	CHECK(drain(q, 3));
	CHECK(strstr(test_capture_end(), "without its link") != NULL);
	CHECK(state_of(b) == BULLETIN_WITHDRAWN);
	CHECK(count("SELECT count(*) FROM asrun WHERE title = 'Delta news' "
	            "AND bulletin_id IS NULL") == 1);
	asrun_free(q, 0);
}

static void test_full_and_end(void)
{
	struct asrun *q = NULL;
	struct asrun_row r = row(t0, 1, "Full");
	const char *log;
	int64_t b = bulletin("Echo");

	CHECK(asrun_new(&q, st) == 0);
	lock();
	test_capture_begin();
	for (int i = 0; i < ASRUN_QUEUE_MAX + 2; i++)
		asrun_item(q, &r);
	CHECK(asrun_waiting(q) == ASRUN_QUEUE_MAX);
	/* No room to wait: it does not go on air now. */
	CHECK(asrun_on_air(q, b, t0) == -ERR_DB_BUSY);
	CHECK(state_of(b) == BULLETIN_RENDERED);
	log = test_capture_end();
	CHECK(strstr(log, "the queue is full") != NULL);
	/* The end, still locked: every row that waits is logged. */
	test_capture_begin();
	asrun_free(q, 50);
	log = test_capture_end();
	CHECKF(test_count_lines(log) == ASRUN_QUEUE_MAX, "%d lines",
	       test_count_lines(log));
	unlock();
	CHECK(count("SELECT count(*) FROM asrun WHERE title = 'Full'") == 0);
}

static void test_rejected(void)
{
	struct asrun *q = NULL;
	struct asrun_row r = row(t0, 1, "Fine");
	struct asrun_row bad = row(t0, 999, "No such track");
	const char *log;

	/* A track that is gone fails the foreign key: logged, dropped, and
	 * the row after it still goes in. */
	CHECK(asrun_new(&q, st) == 0);
	lock();
	test_capture_begin();
	asrun_item(q, &bad);
	asrun_item(q, &r);
	unlock();
	CHECK(drain(q, 3));
	log = test_capture_end();
	CHECK(strstr(log, "not written") != NULL &&
	      strstr(log, "No such track") != NULL);
	CHECK(count("SELECT count(*) FROM asrun WHERE title = 'Fine'") == 1);
	CHECK(count("SELECT count(*) FROM asrun WHERE title = 'No such "
	            "track'") == 0);
	asrun_free(q, 0);
}

int main(void)
{
	const char *path = test_path("asrun.db");

	test_tmpdir();
	CHECK(tu_parse_utc("2026-12-01T08:00:00.000Z", &t0) == 0);
	CHECK(store_open(&st, path, STORE_CREATE) == 0);
	CHECK(sqlite3_open(path, &other) == SQLITE_OK);
	if (!st || !other)
		return test_done();
	/* As on air: a statement waits 20 ms for the lock at most. */
	store_busy_timeout(st, 20);
	sqlite3_busy_timeout(other, 2000);
	other_sql("INSERT INTO track(id, path, title, artist, duration_ms, "
	          "cue_out_ms, file_size, file_mtime, added_at, scanned_at) "
	          "VALUES (1, '/m/x.ogg', 'x', 'Band', 180000, 180000, 1, 1, "
	          "'x', 'x')");
	test_free();
	test_locked();
	test_bulletins();
	test_full_and_end();
	test_rejected();
	sqlite3_close(other);
	store_close(st);
	return test_done();
}
