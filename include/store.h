/*
 * store.h - the station's SQLite database: one handle, schema applied and
 * migrated on open.
 *
 * schema.sql (compiled into the program) is the single truth: store_open()
 * applies every "-- @version N" section above the file's user_version, each
 * in one transaction, so a failed migration leaves the file as it was. WAL
 * mode, foreign keys on, a busy timeout so a second writer waits instead
 * of failing at once. A file that is refused (not SQLite, another
 * program's database, a newer schema) is never written to.
 */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stddef.h>

struct sqlite3;
struct store;

enum {
	STORE_CREATE = 1,   /* create the file if it does not exist */
	STORE_READONLY = 2, /* never write: no migration either */
};

/*
 * Opens the database at path. 0 with *out set; -ENOENT (no file and no
 * STORE_CREATE), -ERR_NOT_DB (the file is not an SQLite database, or one
 * with tables but no Pulse Radio schema version), -ERR_SCHEMA_NEWER (its
 * user_version is above ours; left untouched), -ERR_DB. Every failure is
 * logged once, naming the path.
 */
int store_open(struct store **out, const char *path, int flags);

/*
 * As store_open(), but migrates with schema (text in the format of
 * schema.sql) instead of the compiled-in one. For tests: a broken schema
 * shows that a failed migration leaves the file unchanged.
 */
int store_open_with(struct store **out, const char *path, int flags,
                    const char *schema);

/* The raw handle, for modules that keep their own prepared statements. */
struct sqlite3 *store_db(struct store *st);

/* The path the store was opened with (for log lines). */
const char *store_path(struct store *st);

/* The schema version of the open database, and the newest we know. */
int store_version(struct store *st);
int store_schema_latest(void);

/* Reads setting key into buf (0), or -ERR_NOT_FOUND; -ERR_INVALID if the
 * value does not fit in len bytes. */
int store_setting_get(struct store *st, const char *key, char *buf, size_t len);

/* A number setting: its value if it is there, a number and in lo..hi;
 * otherwise dflt (a value out of range is logged once per call). */
double store_setting_number(struct store *st, const char *key, double lo,
                            double hi, double dflt);
/* Inserts or replaces setting key: 0 or -ERR_DB. */
int store_setting_set(struct store *st, const char *key, const char *value);

/* Runs sql (no results) in a transaction (or inside the caller's, if one
 * is open); -ERR_DB logged on failure (its own transaction rolled back). */
int store_exec(struct store *st, const char *sql);

/* An explicit write transaction (BEGIN IMMEDIATE): 0 or -ERR_DB, logged.
 * store_rollback() is quiet and accepts "no transaction open". */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);

/* Like store_begin(), but a lock held by another connection (after the
 * busy timeout) is -ERR_DB_BUSY and logs nothing: the caller retries. */
int store_try_begin(struct store *st);

/* Whether the last failure on st was a lock held by another connection
 * (SQLITE_BUSY or SQLITE_LOCKED once the busy timeout ran out). */
bool store_busy(struct store *st);

/* How long a statement waits for another connection's lock before it
 * fails: STORE_BUSY_TIMEOUT_MS after store_open(); 0 fails at once. */
void store_busy_timeout(struct store *st, int ms);
#define STORE_BUSY_TIMEOUT_MS 5000

/* SQLite's PRAGMA data_version on st: it changes when another
 * connection (another program, another thread's connection) commits, not
 * on st's own writes. A read of shared memory, cheap enough for every
 * tick; -1 when unreadable for now (an I/O error). */
long long store_data_version(struct store *st);

/* Closes and frees; accepts NULL. */
void store_close(struct store *st);

#endif
