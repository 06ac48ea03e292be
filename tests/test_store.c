/*
 * test_store.c - the database opens, migrates and refuses as store.h
 * says, leaving refused files byte for byte as they were; and the time
 * helpers convert clock times, day lists and local dates right, across
 * daylight-saving changes.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "store.h"
#include "testutil.h"
#include "timeutil.h"

extern const char store_schema_sql[];

struct snapshot {
	char *data;
	size_t len;
	struct timespec mtime;
};

static void snap(const char *path, struct snapshot *s)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;

	memset(s, 0, sizeof(*s));
	if (!f || stat(path, &sb) < 0) {
		if (f)
			fclose(f);
		return;
	}
	s->len = (size_t)sb.st_size;
	s->mtime = sb.st_mtim;
	s->data = malloc(s->len + 1);
	if (s->data && fread(s->data, 1, s->len, f) != s->len) {
		free(s->data);
		s->data = NULL;
	}
	fclose(f);
}

/* Whether path still has the bytes and mtime of s, and (if no_wal) no
 * -wal file beside it. */
static bool same_file(const char *path, struct snapshot *s, bool no_wal)
{
	struct snapshot now;
	char wal[600];
	bool same;

	snap(path, &now);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	same = s->data && now.data && now.len == s->len &&
	       memcmp(now.data, s->data, s->len) == 0 &&
	       now.mtime.tv_sec == s->mtime.tv_sec &&
	       now.mtime.tv_nsec == s->mtime.tv_nsec &&
	       (!no_wal || access(wal, F_OK) != 0);
	free(now.data);
	free(s->data);
	s->data = NULL;
	return same;
}

static bool unchanged(const char *path, struct snapshot *s)
{
	return same_file(path, s, true);
}

static int query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static bool query_is(sqlite3 *db, const char *sql, const char *want)
{
	sqlite3_stmt *st;
	bool ok = false;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return false;
	if (sqlite3_step(st) == SQLITE_ROW)
		ok =
		    strcmp((const char *)sqlite3_column_text(st, 0), want) == 0;
	sqlite3_finalize(st);
	return ok;
}

/* A plain SQLite file made by "another program". */
static void make_foreign(const char *path, const char *sql)
{
	sqlite3 *db;

	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
}

static void test_new_db(void)
{
	const char *path = test_path("new.db");
	struct store *st = NULL;
	struct snapshot s;
	sqlite3 *db;

	CHECK(store_schema_latest() >= 1);
	CHECK(store_open(&st, path, 0) == -ENOENT);
	CHECK(access(path, F_OK) != 0);
	CHECK(store_open(&st, path, STORE_CREATE) == 0);
	if (!st)
		return;
	db = store_db(st);
	CHECK(store_version(st) == store_schema_latest());
	CHECK(query_int(db, "PRAGMA user_version") == store_schema_latest());
	CHECK(query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = "
	                    "'table' AND name IN ('setting', 'track', "
	                    "'playlist', 'playlist_item', 'slot', "
	                    "'override', 'asrun')") == 7);
	CHECK(query_is(db, "PRAGMA journal_mode", "wal"));
	CHECK(query_int(db, "PRAGMA foreign_keys") == 1);
	/* Constraints: one row per path, no item without its track,
	 * items go with their track. */
	CHECK(store_exec(st, "INSERT INTO track(path, duration_ms, "
	                     "cue_out_ms, file_size, file_mtime, added_at, "
	                     "scanned_at) VALUES ('/m/a.ogg', 1, 1, 1, 1, "
	                     "'x', 'x'); INSERT INTO playlist(name) VALUES "
	                     "('day'); INSERT INTO playlist_item VALUES (1, "
	                     "0, 1);") == 0);
	test_capture_begin();
	CHECK(store_exec(st, "INSERT INTO playlist_item VALUES (1, 1, 99)") ==
	      -ERR_DB);
	CHECK(test_count_lines(test_capture_end()) == 1);
	CHECK(store_exec(st, "DELETE FROM track WHERE id = 1") == 0);
	CHECK(query_int(db, "SELECT count(*) FROM playlist_item") == 0);
	store_close(st);

	/* Opening again changes nothing. */
	snap(path, &s);
	CHECK(store_open(&st, path, 0) == 0);
	CHECK(st && store_version(st) == store_schema_latest());
	store_close(st);
	CHECK(unchanged(path, &s));

	/* Read-only works on it, and writes nothing to it (SQLite may leave
	 * an empty -wal and a -shm beside it). */
	snap(path, &s);
	CHECK(store_open(&st, path, STORE_READONLY) == 0);
	if (st) {
		CHECK(store_version(st) == store_schema_latest());
		CHECK(query_int(store_db(st), "SELECT count(*) FROM track") ==
		      0);
	}
	store_close(st);
	CHECK(same_file(path, &s, false));
	store_close(NULL);
}

static void test_empty_file(void)
{
	const char *path = test_path("empty.db");
	struct store *st = NULL;

	CHECK(test_write_file(path, "", 0) == 0);
	CHECK(store_open(&st, path, 0) == 0);
	CHECK(st && store_version(st) == store_schema_latest());
	store_close(st);
}

static void test_refused(void)
{
	static const char text[] = "just some text, long enough to have a "
	                           "header's worth of bytes in it, and more "
	                           "than that: 0123456789abcdefghijklmnop\n";
	const char *path = test_path("text.db");
	struct store *st = NULL;
	struct snapshot s;
	const char *log;

	CHECK(test_write_file(path, text, sizeof(text) - 1) == 0);
	snap(path, &s);
	test_capture_begin();
	CHECK(store_open(&st, path, STORE_CREATE) == -ERR_NOT_DB);
	log = test_capture_end();
	CHECK(strstr(log, "not an SQLite database") != NULL);
	CHECK(test_count_lines(log) == 1);
	CHECK(st == NULL);
	CHECK(unchanged(path, &s));

	/* A short file too. */
	path = test_path("short.db");
	CHECK(test_write_file(path, "hello\n", 6) == 0);
	snap(path, &s);
	test_capture_begin();
	CHECK(store_open(&st, path, 0) == -ERR_NOT_DB);
	test_capture_end();
	CHECK(unchanged(path, &s));

	/* From a newer Pulse Radio. */
	path = test_path("newer.db");
	make_foreign(path, "CREATE TABLE future(a); PRAGMA user_version = 99");
	snap(path, &s);
	test_capture_begin();
	CHECK(store_open(&st, path, 0) == -ERR_SCHEMA_NEWER);
	log = test_capture_end();
	CHECK(strstr(log, "schema 99") != NULL);
	CHECK(strstr(log, "not touched") != NULL);
	CHECK(test_count_lines(log) == 1);
	CHECK(unchanged(path, &s));

	/* Another program's database: tables, no user_version. */
	path = test_path("other.db");
	make_foreign(path, "CREATE TABLE contacts(name TEXT); INSERT INTO "
	                   "contacts VALUES ('Ann')");
	snap(path, &s);
	test_capture_begin();
	CHECK(store_open(&st, path, 0) == -ERR_NOT_DB);
	log = test_capture_end();
	CHECK(strstr(log, "not a Pulse Radio database") != NULL);
	CHECK(test_count_lines(log) == 1);
	CHECK(unchanged(path, &s));

	/* Names SQLite would turn into a throw-away database. */
	test_capture_begin();
	CHECK(store_open(&st, "", STORE_CREATE) == -EINVAL);
	CHECK(store_open(&st, ":memory:", STORE_CREATE) == -EINVAL);
	test_capture_end();

	/* A directory. */
	test_capture_begin();
	CHECK(store_open(&st, test_tmpdir(), 0) == -ERR_NOT_DB);
	test_capture_end();
}

static void test_migration(void)
{
	const char *path = test_path("migrate.db");
	size_t n = strlen(store_schema_sql);
	char *bad = malloc(n + 200), *good = malloc(n + 200);
	struct store *st = NULL;
	struct snapshot s;
	const char *log;
	int next = store_schema_latest() + 1;

	if (!bad || !good) {
		CHECK(!"out of memory");
		free(bad);
		free(good);
		return;
	}
	/* The next version fails half-way: its first statement worked. The
	 * schema is copied, not printed with %s: on a 32-bit target GCC
	 * cannot bound its length and warns that the output may pass INT_MAX
	 * (-Wformat-truncation, an error with -Werror). */
	memcpy(bad, store_schema_sql, n);
	snprintf(bad + n, 200,
	         "\n-- @version %d\nCREATE TABLE extra(a);\n"
	         "INSERT INTO no_such_table VALUES (1);\n",
	         next);
	memcpy(good, store_schema_sql, n);
	snprintf(good + n, 200, "\n-- @version %d\nCREATE TABLE extra(a);\n",
	         next);
	CHECK(store_open(&st, path, STORE_CREATE) == 0);
	store_close(st);
	snap(path, &s);
	test_capture_begin();
	CHECK(store_open_with(&st, path, 0, bad) == -ERR_DB);
	log = test_capture_end();
	CHECK(strstr(log, "no_such_table") != NULL);
	CHECK(test_count_lines(log) == 1);
	CHECK(st == NULL);
	CHECK(unchanged(path, &s));
	CHECK(store_open(&st, path, 0) == 0);
	if (st) {
		CHECK(store_version(st) == next - 1);
		CHECK(query_int(store_db(st), "SELECT count(*) FROM "
		                              "sqlite_master WHERE name = "
		                              "'extra'") == 0);
	}
	store_close(st);

	/* The good one applies, and then our schema is "older". */
	CHECK(store_open_with(&st, path, 0, good) == 0);
	CHECK(st && store_version(st) == next);
	store_close(st);
	snap(path, &s);
	test_capture_begin();
	CHECK(store_open(&st, path, 0) == -ERR_SCHEMA_NEWER);
	test_capture_end();
	CHECK(unchanged(path, &s));

	/* A malformed version line is refused before anything is written. */
	test_capture_begin();
	CHECK(store_open_with(&st, test_path("m2.db"), STORE_CREATE,
	                      "-- @version x\nCREATE TABLE a(b);\n") < 0);
	test_capture_end();
	free(bad);
	free(good);
}

static void test_settings(void)
{
	struct store *st = NULL;
	char buf[64], tiny[4];

	CHECK(store_open(&st, test_path("settings.db"), STORE_CREATE) == 0);
	if (!st)
		return;
	CHECK(store_setting_get(st, "timezone", buf, sizeof(buf)) == 0);
	CHECK(strcmp(buf, "Africa/Johannesburg") == 0);
	CHECK(store_setting_set(st, "timezone", "Europe/Berlin") == 0);
	CHECK(store_setting_get(st, "timezone", buf, sizeof(buf)) == 0);
	CHECK(strcmp(buf, "Europe/Berlin") == 0);
	CHECK(store_setting_get(st, "nope", buf, sizeof(buf)) ==
	      -ERR_NOT_FOUND);
	CHECK(store_setting_get(st, "timezone", tiny, sizeof(tiny)) ==
	      -ERR_INVALID);
	CHECK(store_setting_set(st, "new_key", "v") == 0);
	CHECK(store_setting_get(st, "new_key", buf, sizeof(buf)) == 0);
	CHECK(strcmp(buf, "v") == 0);
	/* A failing store_exec keeps nothing of its SQL. */
	test_capture_begin();
	CHECK(store_exec(st, "INSERT INTO setting VALUES ('half', '1'); "
	                     "INSERT INTO nowhere VALUES (1)") == -ERR_DB);
	test_capture_end();
	CHECK(store_setting_get(st, "half", buf, sizeof(buf)) ==
	      -ERR_NOT_FOUND);
	/* An explicit transaction rolls back too. */
	CHECK(store_begin(st) == 0);
	CHECK(store_setting_set(st, "gone", "1") == 0);
	store_rollback(st);
	store_rollback(st); /* none open: quiet */
	CHECK(store_setting_get(st, "gone", buf, sizeof(buf)) ==
	      -ERR_NOT_FOUND);
	store_close(st);
}

static void test_clock_and_days(void)
{
	static const char *const bad_clock[] = {
	    "25:00", "6am",    "06:60", "",  "06:0",  "006:00",
	    "-1:00", "06:00 ", "24:01", "6", "06-00", "0x:00",
	};
	static const char *const bad_days[] = {
	    "funday",   "",     "mon,", ",mon",    "mon-",
	    "mon--fri", "-fri", "mo",   "mon fri", "weekday",
	};
	unsigned mask = 0;
	char buf[64];
	int m = -1;

	CHECK(tu_parse_clock("06:00", false, &m) == 0 && m == 360);
	CHECK(tu_parse_clock("6:05", false, &m) == 0 && m == 365);
	CHECK(tu_parse_clock("00:00", false, &m) == 0 && m == 0);
	CHECK(tu_parse_clock("23:59", false, &m) == 0 && m == 1439);
	CHECK(tu_parse_clock("24:00", false, &m) == -ERR_INVALID);
	CHECK(tu_parse_clock("24:00", true, &m) == 0 && m == 1440);
	for (size_t i = 0; i < sizeof(bad_clock) / sizeof(*bad_clock); i++)
		CHECKF(tu_parse_clock(bad_clock[i], true, &m) == -ERR_INVALID,
		       "'%s'", bad_clock[i]);
	tu_format_clock(1440, buf, sizeof(buf));
	CHECK(strcmp(buf, "24:00") == 0);
	tu_format_clock(65, buf, sizeof(buf));
	CHECK(strcmp(buf, "01:05") == 0);

	CHECK(tu_parse_days("mon-fri", &mask) == 0 && mask == 0x1f);
	CHECK(tu_parse_days("sat,sun", &mask) == 0 && mask == 0x60);
	CHECK(tu_parse_days("daily", &mask) == 0 && mask == 0x7f);
	CHECK(tu_parse_days("weekdays", &mask) == 0 && mask == 0x1f);
	CHECK(tu_parse_days("weekends", &mask) == 0 && mask == 0x60);
	CHECK(tu_parse_days("sun", &mask) == 0 && mask == 0x40);
	CHECK(tu_parse_days("Monday, WED", &mask) == 0 && mask == 0x05);
	CHECK(tu_parse_days("fri-mon", &mask) == 0 && mask == 0x71);
	CHECK(tu_parse_days("mon-mon", &mask) == 0 && mask == 0x01);
	for (size_t i = 0; i < sizeof(bad_days) / sizeof(*bad_days); i++)
		CHECKF(tu_parse_days(bad_days[i], &mask) == -ERR_INVALID,
		       "'%s'", bad_days[i]);
	tu_format_days(0x1f, buf, sizeof(buf));
	CHECK(strcmp(buf, "weekdays") == 0);
	tu_format_days(0x7f, buf, sizeof(buf));
	CHECK(strcmp(buf, "daily") == 0);
	tu_format_days(0x40, buf, sizeof(buf));
	CHECK(strcmp(buf, "sun") == 0);
	tu_format_days(0x07, buf, sizeof(buf));
	CHECK(strcmp(buf, "mon-wed") == 0);
	tu_format_days(0x45, buf, sizeof(buf));
	CHECK(strcmp(buf, "mon,wed,sun") == 0);
	tu_format_days(0x4f, buf, sizeof(buf));
	CHECK(strcmp(buf, "mon-thu,sun") == 0);
	tu_format_days(0x03, buf, sizeof(buf));
	CHECK(strcmp(buf, "mon,tue") == 0);
	/* Every mask survives a round trip. */
	for (unsigned d = 1; d < 128; d++) {
		tu_format_days(d, buf, sizeof(buf));
		CHECKF(tu_parse_days(buf, &mask) == 0 && mask == d, "%u %s", d,
		       buf);
	}
}

/* UTC text to seconds, for readable expectations. */
static int64_t utc(const char *s)
{
	int64_t ms = -1;

	CHECKF(tu_parse_utc(s, &ms) == 0, "%s", s);
	return ms / 1000;
}

static bool local_is(const char *text, const char *zone, const char *want)
{
	int64_t t;

	if (tu_parse_local(text, zone, &t) < 0)
		return false;
	if (t != utc(want)) {
		char got[32];

		tu_format_utc(t * 1000, got, sizeof(got));
		fprintf(stderr, "%s in %s: got %s, want %s\n", text, zone, got,
		        want);
		return false;
	}
	return true;
}

static void test_zones(void)
{
	static const char *const bad_zones[] = {
	    "../etc/passwd",
	    "/etc/localtime",
	    "Europe/../Europe/Berlin",
	    "Nowhere/City",
	    "",
	    "Europe/",
	    "Europe//Berlin",
	    "Europe",
	    "./UTC",
	    "Europe/Berlin\n",
	    "Europe/Berlin ",
	};
	static const char *const bad_dates[] = {
	    "2026-02-29",          "2026-13-01",       "2026-00-10",
	    "2026-12-32",          "2026-12-16 24:00", "2026-12-16x",
	    "16/12/2026",          "2026-12-16 6:00",  "2026-12-16T06:00:",
	    "2026-12-16T06:00:60", "26-12-16",         "",
	    "2026-12-16 06:00Z",
	};
	const char *berlin = "Europe/Berlin", *jnb = "Africa/Johannesburg";
	char buf[64];
	struct tm tm;
	int64_t t;

	CHECK(tu_zone_valid(berlin));
	CHECK(tu_zone_valid(jnb));
	CHECK(tu_zone_valid("UTC"));
	for (size_t i = 0; i < sizeof(bad_zones) / sizeof(*bad_zones); i++)
		CHECKF(!tu_zone_valid(bad_zones[i]), "'%s'", bad_zones[i]);
	CHECK(!tu_zone_valid(NULL));

	/* Johannesburg: UTC+2 all year. */
	CHECK(local_is("2026-11-26 08:00", jnb, "2026-11-26T06:00:00.000Z"));
	CHECK(local_is("2026-07-01T08:00:30", jnb, "2026-07-01T06:00:30Z"));
	CHECK(local_is("2026-12-16", jnb, "2026-12-15T22:00:00.000Z"));
	/* Berlin: CET (+1) and CEST (+2). */
	CHECK(local_is("2026-01-15T12:00", berlin, "2026-01-15T11:00:00Z"));
	CHECK(local_is("2026-07-01 12:00:30", berlin, "2026-07-01T10:00:30Z"));
	CHECK(local_is("2028-02-29", berlin, "2028-02-28T23:00:00Z"));
	/* Spring gap, 2026-03-29 02:00 CET -> 03:00 CEST: a time in it moves
	 * forward by the hour. */
	CHECK(local_is("2026-03-29 01:59", berlin, "2026-03-29T00:59:00Z"));
	CHECK(local_is("2026-03-29 02:00", berlin, "2026-03-29T01:00:00Z"));
	CHECK(local_is("2026-03-29 02:30", berlin, "2026-03-29T01:30:00Z"));
	CHECK(local_is("2026-03-29 03:00", berlin, "2026-03-29T01:00:00Z"));
	CHECK(local_is("2026-03-29 03:30", berlin, "2026-03-29T01:30:00Z"));
	/* Autumn overlap, 2026-10-25 03:00 CEST -> 02:00 CET: the first
	 * (summer-time) 02:30. */
	CHECK(local_is("2026-10-25 01:59", berlin, "2026-10-24T23:59:00Z"));
	CHECK(local_is("2026-10-25 02:00", berlin, "2026-10-25T00:00:00Z"));
	CHECK(local_is("2026-10-25 02:30", berlin, "2026-10-25T00:30:00Z"));
	CHECK(local_is("2026-10-25 03:00", berlin, "2026-10-25T02:00:00Z"));
	for (size_t i = 0; i < sizeof(bad_dates) / sizeof(*bad_dates); i++)
		CHECKF(tu_parse_local(bad_dates[i], berlin, &t) == -ERR_INVALID,
		       "'%s'", bad_dates[i]);
	CHECK(tu_parse_local("2026-12-16", "Mars/Olympus", &t) == -ERR_INVALID);

	/* Back to local. */
	CHECK(tu_format_local(utc("2026-03-29T01:30:00Z") * 1000, berlin, buf,
	                      sizeof(buf)) == 0);
	CHECK(strcmp(buf, "2026-03-29 03:30:00 CEST") == 0);
	CHECK(tu_format_local(utc("2026-10-25T01:30:00Z") * 1000, berlin, buf,
	                      sizeof(buf)) == 0);
	CHECK(strcmp(buf, "2026-10-25 02:30:00 CET") == 0);
	CHECK(tu_format_local(0, jnb, buf, sizeof(buf)) == 0);
	CHECK(strcmp(buf, "1970-01-01 02:00:00 SAST") == 0);
	CHECK(tu_local_tm(utc("2026-07-01T10:00:00Z"), berlin, &tm) == 0);
	CHECK(tm.tm_hour == 12 && tm.tm_gmtoff == 7200 && tm.tm_wday == 3);
	CHECK(tu_local_tm(0, "../../etc/passwd", &tm) == -ERR_INVALID);

	/* UTC text. */
	tu_format_utc(0, buf, sizeof(buf));
	CHECK(strcmp(buf, "1970-01-01T00:00:00.000Z") == 0);
	tu_format_utc(-1, buf, sizeof(buf));
	CHECK(strcmp(buf, "1969-12-31T23:59:59.999Z") == 0);
	tu_format_utc(1795680000123LL, buf, sizeof(buf));
	CHECK(tu_parse_utc(buf, &t) == 0 && t == 1795680000123LL);
	CHECK(tu_parse_utc("2026-11-26T06:00:00.000", &t) == -ERR_INVALID);
	CHECK(tu_parse_utc("2026-11-26 06:00:00.000Z", &t) == -ERR_INVALID);
	CHECK(tu_parse_utc("2026-11-26T06:00:00.00Z", &t) == -ERR_INVALID);

	/* $TZ is put back: set, and unset. */
	setenv("TZ", "UTC", 1);
	CHECK(tu_format_local(0, berlin, buf, sizeof(buf)) == 0);
	CHECK(getenv("TZ") && strcmp(getenv("TZ"), "UTC") == 0);
	unsetenv("TZ");
	CHECK(tu_parse_local("2026-12-16", berlin, &t) == 0);
	CHECK(getenv("TZ") == NULL);
}

int main(void)
{
	test_new_db();
	test_empty_file();
	test_refused();
	test_migration();
	test_settings();
	test_clock_and_days();
	test_zones();
	return test_done();
}
