/*
 * store.c - open the station database and bring its schema up to date.
 *
 * The one thing to know: nothing is written to a file until it has been
 * recognised as ours (or as empty). WAL mode changes the file header, so
 * it is switched on only after the version checks; a refused file keeps
 * every byte.
 */
#include "store.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "err.h"
#include "log.h"

extern const char store_schema_sql[];

#define VERSION_MARK "-- @version "

struct store {
	sqlite3 *db;
	char *path;
	int version;
	sqlite3_stmt *data_version; /* made on first use */
};

/* One "-- @version N" section of a schema: the SQL up to the next one. */
struct section {
	int version;
	const char *sql;
	size_t len;
};

/* Finds the section after *pos in schema base: 1 found, 0 none left,
 * -ERR_INVALID for a malformed marker. A marker counts only at the start
 * of a line. */
static int next_section(const char *base, const char **pos, struct section *sec)
{
	const char *p = *pos, *start, *end;
	size_t mlen = strlen(VERSION_MARK);
	char *num_end;
	long v;

	/* Find a marker at the start of a line. */
	for (;;) {
		const char *m = strstr(p, VERSION_MARK);

		if (!m)
			return 0;
		if (m == base || m[-1] == '\n') {
			p = m;
			break;
		}
		p = m + mlen;
	}
	errno = 0;
	v = strtol(p + mlen, &num_end, 10);
	if (errno || v < 1 || v > INT_MAX || num_end == p + mlen)
		return -ERR_INVALID;
	start = strchr(num_end, '\n');
	start = start ? start + 1 : num_end + strlen(num_end);
	end = start;
	for (;;) {
		const char *m = strstr(end, VERSION_MARK);

		if (!m) {
			end += strlen(end);
			break;
		}
		if (m[-1] == '\n') {
			end = m;
			break;
		}
		end = m + mlen;
	}
	sec->version = (int)v;
	sec->sql = start;
	sec->len = (size_t)(end - start);
	*pos = end;
	return 1;
}

static int schema_latest(const char *schema)
{
	const char *pos = schema;
	struct section sec;
	int latest = 0, rc;

	while ((rc = next_section(schema, &pos, &sec)) > 0)
		if (sec.version > latest)
			latest = sec.version;
	return rc < 0 ? rc : latest;
}

int store_schema_latest(void)
{
	int v = schema_latest(store_schema_sql);

	return v < 0 ? 0 : v;
}

/* One integer from a one-row query; -ERR_NOT_DB or -ERR_DB on failure. */
static int query_int(struct store *st, const char *sql, int *out)
{
	sqlite3_stmt *stmt;
	int rc;

	rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(stmt);
		if (rc == SQLITE_ROW) {
			*out = sqlite3_column_int(stmt, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(stmt);
	if (rc == SQLITE_NOTADB) {
		log_error("%s: not an SQLite database", st->path);
		return -ERR_NOT_DB;
	}
	if (rc != SQLITE_OK) {
		log_error("%s: %s", st->path, sqlite3_errmsg(st->db));
		return -ERR_DB;
	}
	return 0;
}

static int exec_logged(struct store *st, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("%s: %s", st->path,
		          msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return -ERR_DB;
	}
	return 0;
}

int store_begin(struct store *st)
{
	return exec_logged(st, "BEGIN IMMEDIATE");
}

bool store_busy(struct store *st)
{
	int rc = sqlite3_errcode(st->db) & 0xff;

	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

int store_try_begin(struct store *st)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) ==
	    SQLITE_OK)
		return 0;
	if (store_busy(st)) {
		sqlite3_free(msg);
		return -ERR_DB_BUSY;
	}
	log_error("%s: %s", st->path, msg ? msg : sqlite3_errmsg(st->db));
	sqlite3_free(msg);
	return -ERR_DB;
}

void store_busy_timeout(struct store *st, int ms)
{
	sqlite3_busy_timeout(st->db, ms > 0 ? ms : 0);
}

int store_commit(struct store *st)
{
	return exec_logged(st, "COMMIT");
}

void store_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Applies one section and its version number in one transaction; one
 * log line if it fails. */
static int apply_section(struct store *st, const struct section *sec)
{
	char *sql, vsql[64], *msg = NULL;
	int rc;

	sql = malloc(sec->len + 1);
	if (!sql)
		return -ENOMEM;
	memcpy(sql, sec->sql, sec->len);
	sql[sec->len] = '\0';
	rc = store_begin(st);
	if (rc < 0)
		goto out;
	snprintf(vsql, sizeof(vsql), "PRAGMA user_version = %d", sec->version);
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(st->db, vsql, NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(st->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
		log_error("%s: migration to schema %d failed (%s); file "
		          "unchanged",
		          st->path, sec->version,
		          msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		store_rollback(st);
		rc = -ERR_DB;
	}
out:
	free(sql);
	return rc;
}

static int migrate(struct store *st, const char *schema)
{
	const char *pos = schema;
	struct section sec;
	int rc;

	while ((rc = next_section(schema, &pos, &sec)) > 0) {
		if (sec.version <= st->version)
			continue;
		rc = apply_section(st, &sec);
		if (rc < 0)
			return rc;
		st->version = sec.version;
	}
	if (rc < 0)
		log_error("schema: malformed version line");
	return rc;
}

/* Decides whether the open file is ours, then configures and migrates. */
static int check_and_migrate(struct store *st, int flags, const char *schema)
{
	int latest = schema_latest(schema), uv = 0, objects = 0, header, rc;

	if (latest < 0) {
		log_error("schema: malformed version line");
		return -ERR_INVALID;
	}
	/* The first read of the header: a non-SQLite file fails here. */
	rc = query_int(st, "PRAGMA schema_version", &header);
	if (rc == 0)
		rc = query_int(st, "PRAGMA user_version", &uv);
	if (rc == 0)
		rc = query_int(st, "SELECT count(*) FROM sqlite_master",
		               &objects);
	if (rc < 0)
		return rc;
	if (uv > latest) {
		log_error("%s: made by a newer Pulse Radio (schema %d, this "
		          "program knows %d); not touched",
		          st->path, uv, latest);
		return -ERR_SCHEMA_NEWER;
	}
	if (uv == 0 && objects > 0) {
		log_error("%s: not a Pulse Radio database (it has tables but "
		          "no schema version); not touched",
		          st->path);
		return -ERR_NOT_DB;
	}
	st->version = uv;
	rc = exec_logged(st, "PRAGMA foreign_keys = ON");
	if (rc < 0 || (flags & STORE_READONLY))
		return rc;
	rc = exec_logged(st, "PRAGMA journal_mode = WAL");
	if (rc < 0)
		return rc;
	return migrate(st, schema);
}

int store_open_with(struct store **out, const char *path, int flags,
                    const char *schema)
{
	struct store *st;
	struct stat sb;
	int oflags, rc;

	*out = NULL;
	/* SQLite gives these two a private database that vanishes on
	 * close: never what an operator meant. */
	if (!path[0] || strcmp(path, ":memory:") == 0) {
		log_error("'%s': not a database file name", path);
		return -EINVAL;
	}
	if (stat(path, &sb) < 0) {
		if (errno != ENOENT || !(flags & STORE_CREATE) ||
		    (flags & STORE_READONLY)) {
			rc = -errno;
			log_error("%s: %s", path, strerror(errno));
			return rc;
		}
	} else if (!S_ISREG(sb.st_mode)) {
		log_error("%s: not a regular file", path);
		return -ERR_NOT_DB;
	}
	st = calloc(1, sizeof(*st));
	if (!st || !(st->path = strdup(path))) {
		free(st);
		log_error("%s: out of memory", path);
		return -ENOMEM;
	}
	if (flags & STORE_READONLY)
		oflags = SQLITE_OPEN_READONLY;
	else
		oflags = SQLITE_OPEN_READWRITE |
		         ((flags & STORE_CREATE) ? SQLITE_OPEN_CREATE : 0);
	if (sqlite3_open_v2(path, &st->db, oflags | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		log_error("%s: %s", path,
		          st->db ? sqlite3_errmsg(st->db) : "cannot open");
		rc = -ERR_DB;
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 0);
	sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
	rc = check_and_migrate(st, flags, schema);
	if (rc < 0)
		goto fail;
	*out = st;
	return 0;
fail:
	store_close(st);
	return rc;
}

int store_open(struct store **out, const char *path, int flags)
{
	return store_open_with(out, path, flags, store_schema_sql);
}

struct sqlite3 *store_db(struct store *st)
{
	return st->db;
}

const char *store_path(struct store *st)
{
	return st->path;
}

int store_version(struct store *st)
{
	return st->version;
}

int store_setting_get(struct store *st, const char *key, char *buf, size_t len)
{
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(st->db,
	                       "SELECT value FROM setting WHERE key = ?1", -1,
	                       &stmt, NULL) != SQLITE_OK) {
		log_error("%s: %s", st->path, sqlite3_errmsg(st->db));
		return -ERR_DB;
	}
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(stmt, 0);
		size_t n = v ? strlen(v) : 0;

		if (n >= len) {
			rc = -ERR_INVALID;
		} else {
			memcpy(buf, v ? v : "", n + 1);
			rc = 0;
		}
	} else if (rc == SQLITE_DONE) {
		rc = -ERR_NOT_FOUND;
	} else {
		log_error("%s: %s", st->path, sqlite3_errmsg(st->db));
		rc = -ERR_DB;
	}
	sqlite3_finalize(stmt);
	return rc;
}

int store_setting_set(struct store *st, const char *key, const char *value)
{
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(
	        st->db,
	        "INSERT INTO setting(key, value) VALUES (?1, ?2) "
	        "ON CONFLICT(key) DO UPDATE SET value = ?2",
	        -1, &stmt, NULL) != SQLITE_OK) {
		log_error("%s: %s", st->path, sqlite3_errmsg(st->db));
		return -ERR_DB;
	}
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 2, value, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : -ERR_DB;
	if (rc < 0)
		log_error("%s: %s", st->path, sqlite3_errmsg(st->db));
	sqlite3_finalize(stmt);
	return rc;
}

int store_exec(struct store *st, const char *sql)
{
	bool own = sqlite3_get_autocommit(st->db) != 0;
	int rc;

	if (own && (rc = store_begin(st)) < 0)
		return rc;
	rc = exec_logged(st, sql);
	if (own) {
		if (rc == 0)
			rc = store_commit(st);
		if (rc < 0)
			store_rollback(st);
	}
	return rc;
}

long long store_data_version(struct store *st)
{
	long long v = -1;

	if (!st->data_version &&
	    sqlite3_prepare_v2(st->db, "PRAGMA data_version", -1,
	                       &st->data_version, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st->data_version) == SQLITE_ROW)
		v = sqlite3_column_int64(st->data_version, 0);
	sqlite3_reset(st->data_version);
	return v;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	sqlite3_finalize(st->data_version);
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

double store_setting_number(struct store *st, const char *key, double lo,
                            double hi, double dflt)
{
	char buf[64], *end;
	double v;

	if (store_setting_get(st, key, buf, sizeof(buf)) < 0)
		return dflt;
	v = strtod(buf, &end);
	if (end == buf || *end || !(v >= lo && v <= hi)) {
		log_warn("setting %s: '%s' is not a number from %g to %g; "
		         "using %g",
		         key, buf, lo, hi, dflt);
		return dflt;
	}
	return v;
}
