/*
 * bulletin.c - the city news queue in SQLite: intake, states, what is due.
 *
 * The one thing to know: every state change is an UPDATE guarded by the
 * state it leaves ("... WHERE id = ? AND state = 'rendered'"), checked
 * with sqlite3_changes(); a change that found another state is
 * -ERR_CONFLICT and writes nothing. Times are UTC ISO 8601 text with
 * milliseconds, which sort as they compare.
 */
#include "bulletin.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "err.h"
#include "log.h"
#include "store.h"
#include "textnorm.h"
#include "timeutil.h"

static const char *const state_sql[] = {
    [BULLETIN_QUEUED] = "queued",   [BULLETIN_RENDERED] = "rendered",
    [BULLETIN_ON_AIR] = "on_air",   [BULLETIN_AIRED] = "aired",
    [BULLETIN_EXPIRED] = "expired", [BULLETIN_WITHDRAWN] = "withdrawn",
    [BULLETIN_FAILED] = "failed",
};

/* The columns bulletin rows are read with (read_row()). */
#define COLUMNS                                                                \
	"id, lang, priority, state, submitted_by, submitted_at, "              \
	"not_before, expires_at, audio_path, duration_ms, text, "              \
	"loudness_lufs"

const char *bulletin_state_name(enum bulletin_state s)
{
	static const char *const human[] = {"queued", "rendered", "on air",
	                                    "aired",  "expired",  "withdrawn",
	                                    "failed"};

	return (unsigned)s < sizeof(human) / sizeof(*human) ? human[s] : "?";
}

void bulletin_clear(struct bulletin *b)
{
	free(b->text);
	b->text = NULL;
}

/* -ERR_DB_BUSY when another connection held the lock past the busy
 * timeout (the caller may try again), else -ERR_DB; logged either way. */
static int db_fail(struct store *st)
{
	log_error("bulletin: %s: %s", store_path(st),
	          sqlite3_errmsg(store_db(st)));
	return store_busy(st) ? -ERR_DB_BUSY : -ERR_DB;
}

static int prepare(struct store *st, const char *sql, sqlite3_stmt **stmt)
{
	return sqlite3_prepare_v2(store_db(st), sql, -1, stmt, NULL) ==
	               SQLITE_OK
	           ? 0
	           : db_fail(st);
}

static void bind_time(sqlite3_stmt *stmt, int i, int64_t ms)
{
	char buf[40];

	if (!ms) {
		sqlite3_bind_null(stmt, i);
		return;
	}
	tu_format_utc(ms, buf, sizeof(buf));
	sqlite3_bind_text(stmt, i, buf, -1, SQLITE_TRANSIENT);
}

static int64_t col_time(sqlite3_stmt *stmt, int i)
{
	const char *s = (const char *)sqlite3_column_text(stmt, i);
	int64_t ms = 0;

	return s && tu_parse_utc(s, &ms) == 0 ? ms : 0;
}

static enum bulletin_state parse_state(const char *s)
{
	for (size_t i = 0; i < sizeof(state_sql) / sizeof(*state_sql); i++)
		if (s && strcmp(s, state_sql[i]) == 0)
			return (enum bulletin_state)i;
	return BULLETIN_FAILED;
}

/* Fills b from a row of COLUMNS. 0 or -ENOMEM. */
static int read_row(sqlite3_stmt *stmt, struct bulletin *b)
{
	const char *s;

	memset(b, 0, sizeof(*b));
	b->id = sqlite3_column_int64(stmt, 0);
	s = (const char *)sqlite3_column_text(stmt, 1);
	snprintf(b->lang, sizeof(b->lang), "%s", s ? s : "en");
	s = (const char *)sqlite3_column_text(stmt, 2);
	b->breaking = s && strcmp(s, "breaking") == 0;
	b->state = parse_state((const char *)sqlite3_column_text(stmt, 3));
	s = (const char *)sqlite3_column_text(stmt, 4);
	snprintf(b->by, sizeof(b->by), "%s", s ? s : "");
	b->submitted_ms = col_time(stmt, 5);
	b->not_before_ms = col_time(stmt, 6);
	b->expires_ms = col_time(stmt, 7);
	s = (const char *)sqlite3_column_text(stmt, 8);
	snprintf(b->audio_path, sizeof(b->audio_path), "%s", s ? s : "");
	b->duration_ms = sqlite3_column_int64(stmt, 9);
	s = (const char *)sqlite3_column_text(stmt, 10);
	b->text = strdup(s ? s : "");
	b->loudness_lufs = sqlite3_column_type(stmt, 11) == SQLITE_NULL
	                       ? (double)NAN
	                       : sqlite3_column_double(stmt, 11);
	return b->text ? 0 : -ENOMEM;
}

static bool lang_ok(const char *lang)
{
	return strcmp(lang, "en") == 0 || strcmp(lang, "af") == 0 ||
	       strcmp(lang, "tn") == 0;
}

/* Checks what textnorm does not: language, submitter, times. */
static int check_new(const struct bulletin_new *b, int64_t now_ms,
                     const char *lang, char *why, size_t whylen)
{
	char t[40];

	if (!lang_ok(lang)) {
		snprintf(why, whylen, "unknown language '%.16s' (en, af or tn)",
		         lang);
		return -ERR_INVALID;
	}
	if (b->by && strlen(b->by) >= BULLETIN_BY_MAX) {
		snprintf(why, whylen,
		         "the submitter's name is longer than %d "
		         "bytes",
		         BULLETIN_BY_MAX - 1);
		return -ERR_INVALID;
	}
	for (const char *p = b->by; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(why, whylen,
			         "the submitter's name has a "
			         "control character");
			return -ERR_INVALID;
		}
	if (b->expires_ms && b->expires_ms <= now_ms) {
		tu_format_utc(b->expires_ms, t, sizeof(t));
		snprintf(why, whylen, "it expires (%s) before it could air", t);
		return -ERR_INVALID;
	}
	if (b->expires_ms && b->not_before_ms &&
	    b->not_before_ms >= b->expires_ms) {
		snprintf(why, whylen,
		         "its not-before time is not before its "
		         "expiry");
		return -ERR_INVALID;
	}
	return 0;
}

int bulletin_add(struct store *st, const struct bulletin_new *b, int64_t now_ms,
                 int64_t *id, char *why, size_t whylen)
{
	const char *lang = b->lang && b->lang[0] ? b->lang : "en";
	sqlite3_stmt *stmt;
	char *clean = NULL;
	int rc;

	why[0] = '\0';
	rc = check_new(b, now_ms, lang, why, whylen);
	if (rc < 0)
		return rc;
	rc = textnorm_clean(b->text ? b->text : "", b->text ? b->text_len : 0,
	                    &clean, why, whylen);
	if (rc < 0)
		return rc == -ENOMEM ? rc : -ERR_INVALID;
	rc = prepare(st,
	             "INSERT INTO bulletin(text, lang, priority, submitted_by, "
	             "submitted_at, not_before, expires_at, state, state_at) "
	             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', ?5)",
	             &stmt);
	if (rc < 0) {
		free(clean);
		return rc;
	}
	sqlite3_bind_text(stmt, 1, clean, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, lang, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, b->breaking ? "breaking" : "normal", -1,
	                  SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, b->by ? b->by : "", -1, SQLITE_STATIC);
	bind_time(stmt, 5, now_ms);
	bind_time(stmt, 6, b->not_before_ms);
	bind_time(stmt, 7, b->expires_ms);
	rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : db_fail(st);
	sqlite3_finalize(stmt);
	free(clean);
	if (rc == 0)
		*id = sqlite3_last_insert_rowid(store_db(st));
	return rc;
}

/* UPDATE sql, binding ?1 id, ?2 now and, where sql has them, ?3 text,
 * ?4 n and ?5 x (NULL if NAN); -ERR_CONFLICT if it changed no row (the
 * state was another). */
static int change_with(struct store *st, const char *sql, int64_t id,
                       int64_t now_ms, const char *text, int64_t n, double x)
{
	sqlite3_stmt *stmt;
	int rc = prepare(st, sql, &stmt);

	if (rc < 0)
		return rc;
	sqlite3_bind_int64(stmt, 1, id);
	bind_time(stmt, 2, now_ms);
	if (sqlite3_bind_parameter_count(stmt) >= 3)
		sqlite3_bind_text(stmt, 3, text, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(stmt) >= 4)
		sqlite3_bind_int64(stmt, 4, n);
	if (sqlite3_bind_parameter_count(stmt) >= 5 && !isnan(x))
		sqlite3_bind_double(stmt, 5, x);
	rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : db_fail(st);
	sqlite3_finalize(stmt);
	if (rc == 0 && sqlite3_changes(store_db(st)) == 0)
		rc = -ERR_CONFLICT;
	return rc;
}

static int change(struct store *st, const char *sql, int64_t id, int64_t now_ms)
{
	return change_with(st, sql, id, now_ms, NULL, 0, (double)NAN);
}

int bulletin_get(struct store *st, int64_t id, struct bulletin *b)
{
	sqlite3_stmt *stmt;
	int rc = prepare(st, "SELECT " COLUMNS " FROM bulletin WHERE id = ?1",
	                 &stmt);

	if (rc < 0)
		return rc;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		rc = read_row(stmt, b) < 0 ? -ENOMEM : 1;
	else
		rc = rc == SQLITE_DONE ? 0 : db_fail(st);
	sqlite3_finalize(stmt);
	return rc;
}

int bulletin_withdraw(struct store *st, int64_t id, int64_t now_ms, char *why,
                      size_t whylen)
{
	struct bulletin b = {0};
	int rc;

	why[0] = '\0';
	rc = change(st,
	            "UPDATE bulletin SET state = 'withdrawn', state_at = ?2 "
	            "WHERE id = ?1 AND state IN ('queued', 'rendered')",
	            id, now_ms);
	if (rc != -ERR_CONFLICT)
		return rc;
	rc = bulletin_get(st, id, &b);
	if (rc == 0) {
		snprintf(why, whylen, "no bulletin %lld", (long long)id);
		return -ERR_NOT_FOUND;
	}
	if (rc == 1)
		snprintf(why, whylen,
		         "bulletin %lld is %s: too late to "
		         "withdraw",
		         (long long)id, bulletin_state_name(b.state));
	bulletin_clear(&b);
	return rc < 0 ? rc : -ERR_CONFLICT;
}

static int count_changes(struct store *st, const char *sql, int64_t now_ms)
{
	sqlite3_stmt *stmt;
	int rc = prepare(st, sql, &stmt);

	if (rc < 0)
		return rc;
	bind_time(stmt, 1, now_ms);
	rc = sqlite3_step(stmt) == SQLITE_DONE ? sqlite3_changes(store_db(st))
	                                       : db_fail(st);
	sqlite3_finalize(stmt);
	return rc;
}

int bulletin_recover(struct store *st, int64_t now_ms)
{
	int64_t *gone = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *stmt;
	int rc;

	/* A rendered one whose audio file is gone is spoken again. The ids
	 * are gathered first: no writes while the SELECT runs. */
	rc = prepare(st,
	             "SELECT id, audio_path FROM bulletin WHERE state IN "
	             "('on_air', 'rendered')",
	             &stmt);
	if (rc < 0)
		return rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(stmt, 1);

		if (path && access(path, R_OK) == 0)
			continue;
		if (n == cap) {
			int64_t *g =
			    realloc(gone, (cap ? cap * 2 : 16) * sizeof(*gone));

			if (!g) {
				rc = -ENOMEM;
				break;
			}
			gone = g;
			cap = cap ? cap * 2 : 16;
		}
		gone[n++] = sqlite3_column_int64(stmt, 0);
	}
	sqlite3_finalize(stmt);
	rc = rc == SQLITE_DONE ? 0 : rc == -ENOMEM ? rc : db_fail(st);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc =
		    change(st,
		           "UPDATE bulletin SET state = 'queued', state_at = "
		           "?2, audio_path = NULL, duration_ms = NULL WHERE id "
		           "= ?1",
		           gone[i], now_ms);
	free(gone);
	if (rc < 0)
		return rc;
	rc = count_changes(st,
	                   "UPDATE bulletin SET state = 'rendered', state_at = "
	                   "?1 WHERE state = 'on_air'",
	                   now_ms);
	return rc < 0 ? rc : (int)n + rc;
}

int bulletin_expire(struct store *st, int64_t now_ms)
{
	return count_changes(st,
	                     "UPDATE bulletin SET state = 'expired', state_at "
	                     "= ?1 WHERE state IN ('queued', 'rendered') AND "
	                     "expires_at IS NOT NULL AND expires_at <= ?1",
	                     now_ms);
}

int bulletin_next_to_render(struct store *st, int64_t now_ms,
                            int64_t horizon_ms, struct bulletin *b)
{
	sqlite3_stmt *stmt;
	int rc = prepare(st,
	                 "SELECT " COLUMNS " FROM bulletin WHERE state = "
	                 "'queued' AND (expires_at IS NULL OR expires_at > "
	                 "?1) AND (not_before IS NULL OR not_before <= ?2 OR "
	                 "priority = 'breaking') ORDER BY priority = "
	                 "'breaking' DESC, coalesce(not_before, submitted_at), "
	                 "id LIMIT 1",
	                 &stmt);

	if (rc < 0)
		return rc;
	bind_time(stmt, 1, now_ms);
	bind_time(stmt, 2, now_ms + horizon_ms);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		rc = read_row(stmt, b) < 0 ? -ENOMEM : 1;
	else
		rc = rc == SQLITE_DONE ? 0 : db_fail(st);
	sqlite3_finalize(stmt);
	return rc;
}

int bulletin_set_rendered(struct store *st, int64_t id, const char *path,
                          int64_t duration_ms, double lufs, int64_t now_ms)
{
	return change_with(st,
	                   "UPDATE bulletin SET state = 'rendered', state_at = "
	                   "?2, rendered_at = ?2, audio_path = ?3, duration_ms "
	                   "= ?4, loudness_lufs = ?5 WHERE id = ?1 AND state = "
	                   "'queued'",
	                   id, now_ms, path, duration_ms > 0 ? duration_ms : 1,
	                   lufs);
}

int bulletin_set_failed(struct store *st, int64_t id, const char *reason,
                        int64_t now_ms)
{
	return change_with(
	    st,
	    "UPDATE bulletin SET state = 'failed', state_at = ?2, "
	    "reason = ?3 WHERE id = ?1 AND state IN ('queued', "
	    "'rendered')",
	    id, now_ms, reason, 0, (double)NAN);
}

int bulletin_due(struct store *st, int64_t at_ms, bool breaking_only,
                 struct bulletin *out, size_t max)
{
	sqlite3_stmt *stmt;
	size_t n = 0;
	int rc = prepare(st,
	                 "SELECT " COLUMNS " FROM bulletin WHERE state = "
	                 "'rendered' AND submitted_at <= ?1 AND (not_before IS "
	                 "NULL OR not_before <= ?1) AND (expires_at IS NULL OR "
	                 "expires_at > ?1) AND "
	                 "(?2 = 0 OR priority = 'breaking') ORDER BY priority "
	                 "= 'breaking' DESC, submitted_at, id",
	                 &stmt);

	if (rc < 0)
		return rc;
	bind_time(stmt, 1, at_ms);
	sqlite3_bind_int(stmt, 2, breaking_only);
	while (n < max && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (read_row(stmt, &out[n]) < 0) {
			bulletin_clear(&out[n]);
			rc = -ENOMEM;
			break;
		}
		n++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE && rc != -ENOMEM)
		rc = db_fail(st);
	sqlite3_finalize(stmt);
	if (rc < 0) {
		while (n > 0)
			bulletin_clear(&out[--n]);
		return rc;
	}
	return (int)n;
}

int bulletin_pending(struct store *st, int64_t at_ms, bool breaking_only)
{
	sqlite3_stmt *stmt;
	int rc = prepare(st,
	                 "SELECT count(*) FROM bulletin WHERE state IN "
	                 "('queued', 'rendered') AND submitted_at <= ?1 AND "
	                 "(not_before IS NULL OR "
	                 "not_before <= ?1) AND (expires_at IS NULL OR "
	                 "expires_at > ?1) AND (?2 = 0 OR priority = "
	                 "'breaking')",
	                 &stmt);

	if (rc < 0)
		return rc;
	bind_time(stmt, 1, at_ms);
	sqlite3_bind_int(stmt, 2, breaking_only);
	rc = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int(stmt, 0)
	                                      : db_fail(st);
	sqlite3_finalize(stmt);
	return rc;
}

int bulletin_forecast(struct store *st, int64_t since_ms, int64_t at_ms,
                      int64_t *est_ms)
{
	sqlite3_stmt *stmt;
	int rc = prepare(st,
	                 "SELECT count(*), total(coalesce(duration_ms, "
	                 "length(text) * 1000 / 14)) FROM bulletin WHERE state "
	                 "IN ('queued', 'rendered') AND coalesce(not_before, "
	                 "submitted_at) <= ?1 AND coalesce(not_before, "
	                 "submitted_at) > ?2 AND (expires_at IS NULL OR "
	                 "expires_at > ?1)",
	                 &stmt);

	if (rc < 0)
		return rc;
	bind_time(stmt, 1, at_ms);
	sqlite3_bind_text(stmt, 2, "", -1, SQLITE_STATIC);
	if (since_ms)
		bind_time(stmt, 2, since_ms);
	rc = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int(stmt, 0)
	                                      : db_fail(st);
	*est_ms = rc > 0 ? (int64_t)sqlite3_column_double(stmt, 1) : 0;
	sqlite3_finalize(stmt);
	return rc;
}

int bulletin_set_on_air(struct store *st, int64_t id, int64_t at_ms)
{
	return change(st,
	              "UPDATE bulletin SET state = 'on_air', state_at = ?2 "
	              "WHERE id = ?1 AND state = 'rendered'",
	              id, at_ms);
}

int bulletin_aired(struct store *st, int64_t id, const struct bulletin_asrun *a,
                   int64_t now_ms)
{
	/* Inside the caller's transaction, if one is open (the as-run
	 * queue batches its writes); else in one of its own. */
	bool own = sqlite3_get_autocommit(store_db(st)) != 0;
	sqlite3_stmt *stmt = NULL;
	int rc = own ? store_begin(st) : 0;

	if (rc < 0)
		return store_busy(st) ? -ERR_DB_BUSY : rc;
	rc = change(st,
	            a->ended_early
	                ? "UPDATE bulletin SET state = 'rendered', state_at = "
	                  "?2 WHERE id = ?1 AND state = 'on_air'"
	                : "UPDATE bulletin SET state = 'aired', state_at = ?2, "
	                  "aired_at = ?2 WHERE id = ?1 AND state = 'on_air'",
	            id, now_ms);
	if (rc == 0)
		rc = prepare(st,
		             "INSERT INTO asrun(started_at, duration_ms, "
		             "ended_early, path, title, artist, slot_name, "
		             "bulletin_id) VALUES (?1, ?2, ?3, ?4, ?5, 'City "
		             "news', ?6, ?7)",
		             &stmt);
	if (rc == 0) {
		bind_time(stmt, 1, a->started_ms);
		sqlite3_bind_int64(stmt, 2, a->duration_ms);
		sqlite3_bind_int(stmt, 3, a->ended_early);
		sqlite3_bind_text(stmt, 4, a->path, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 5, a->title, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 6, a->slot ? a->slot : "", -1,
		                  SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 7, id);
		rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : db_fail(st);
	}
	sqlite3_finalize(stmt);
	if (!own)
		return rc; /* the caller commits or rolls back */
	if (rc == 0)
		rc = store_commit(st);
	if (rc < 0)
		store_rollback(st);
	return rc;
}

int bulletin_clock_step(struct store *st, int64_t delta_ms, int64_t now_ms)
{
	sqlite3_stmt *stmt;
	char by[48];
	int rc = prepare(st,
	                 "UPDATE bulletin SET submitted_at = strftime('%Y-%m-"
	                 "%dT%H:%M:%fZ', submitted_at, ?2) WHERE state IN "
	                 "('queued', 'rendered', 'on_air') AND submitted_at > "
	                 "?1",
	                 &stmt);

	if (rc < 0)
		return rc;
	snprintf(by, sizeof(by), "%+.3f seconds", (double)delta_ms / 1000);
	bind_time(stmt, 1, now_ms);
	sqlite3_bind_text(stmt, 2, by, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt) == SQLITE_DONE ? sqlite3_changes(store_db(st))
	                                       : db_fail(st);
	sqlite3_finalize(stmt);
	return rc;
}

int bulletin_prune(struct store *st, int64_t before_ms, const char *dir)
{
	size_t dlen = strlen(dir);
	sqlite3_stmt *stmt;
	int rc, n = 0;

	rc = prepare(st,
	             "SELECT id, audio_path FROM bulletin WHERE state IN "
	             "('aired', 'expired', 'withdrawn', 'failed') AND "
	             "audio_path IS NOT NULL AND state_at < ?1",
	             &stmt);
	if (rc < 0)
		return rc;
	bind_time(stmt, 1, before_ms);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(stmt, 1);

		if (p && strncmp(p, dir, dlen) == 0 && p[dlen] == '/' &&
		    !strstr(p + dlen, "/../") && unlink(p) == 0)
			n++;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return db_fail(st);
	rc = count_changes(st,
	                   "UPDATE bulletin SET audio_path = NULL WHERE state "
	                   "IN ('aired', 'expired', 'withdrawn', 'failed') AND "
	                   "audio_path IS NOT NULL AND state_at < ?1",
	                   before_ms);
	return rc < 0 ? rc : n;
}
