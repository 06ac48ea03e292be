/*
 * test_schema.c - schema.sql applies to a real SQLite file, twice, and its
 * constraints hold.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = '\0';
	fclose(f);
	return buf;
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

int main(void)
{
	char path[512];
	char *sql;
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/schema.sql",
	         getenv("PULSE_SRC") ? getenv("PULSE_SRC") : ".");
	sql = read_all(path);
	CHECK(sql != NULL);
	CHECK(sqlite3_open(test_path("pulse.db"), &db) == SQLITE_OK);
	if (sql) {
		CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
		/* Applying it again changes nothing and fails on nothing. */
		CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	}
	CHECK(query_int(db, "PRAGMA user_version") == 1);
	CHECK(query_int(db, "SELECT count(*) FROM sqlite_master WHERE "
	                    "type = 'table' AND name IN ('track', "
	                    "'playlist', 'playlist_item')") == 3);
	CHECK(sqlite3_exec(db,
	                   "INSERT INTO track(path, title) VALUES "
	                   "('/music/a.mp3', 'A');"
	                   "INSERT INTO playlist(name) VALUES ('day');"
	                   "INSERT INTO playlist_item VALUES (1, 0, 1);",
	                   NULL, NULL, NULL) == SQLITE_OK);
	/* Constraints: one row per path, no item without its track. */
	CHECK(sqlite3_exec(db,
	                   "INSERT INTO track(path) VALUES ('/music/a.mp3')",
	                   NULL, NULL, NULL) == SQLITE_CONSTRAINT);
	CHECK(sqlite3_exec(db, "INSERT INTO playlist_item VALUES (1, 1, 99)",
	                   NULL, NULL, NULL) == SQLITE_CONSTRAINT);
	CHECK(sqlite3_exec(db, "DELETE FROM track WHERE id = 1", NULL, NULL,
	                   NULL) == SQLITE_OK);
	CHECK(query_int(db, "SELECT count(*) FROM playlist_item") == 0);
	sqlite3_close(db);
	free(sql);
	return test_done();
}
