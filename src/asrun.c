/*
 * asrun.c - the air's as-run log and bulletin state changes, written
 * without making the audio wait for the database.
 *
 * The one thing to know: the queue is written strictly in order, in one
 * transaction per attempt with a savepoint per entry, and an entry leaves
 * the queue only once the transaction that wrote it has committed. An
 * entry the database rejects for good (a constraint) is logged whole and
 * dropped; one it refuses for now (locked, disk full, I/O) stops the
 * attempt, and what came before it is committed. Nothing here allocates
 * after asrun_new(): the entries are a fixed ring.
 */
#include "asrun.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "bulletin.h"
#include "err.h"
#include "log.h"
#include "store.h"
#include "timeutil.h"

#define RETRY_MS 250      /* while another program holds the lock */
#define RETRY_MAX_MS 4000 /* backing off on other errors */
#define BATCH_MAX 32      /* entries written per attempt */
#define PATH_MAX_ 4096
#define TEXT_MAX 256

enum kind { ITEM, ON_AIR, AIRED };

struct entry {
	enum kind kind;
	bool gone;      /* rejected for good: logged, skipped */
	int64_t id;     /* the track (ITEM, 0: none) or the bulletin */
	int64_t at_ms;  /* ITEM, AIRED: start; ON_AIR: when it went on */
	int64_t dur_ms; /* ITEM, AIRED */
	int64_t end_ms; /* AIRED: its last sample */
	bool ended_early;
	char path[PATH_MAX_];
	char title[TEXT_MAX], artist[TEXT_MAX], album[TEXT_MAX], slot[TEXT_MAX];
};

struct asrun {
	struct store *st;
	sqlite3_stmt *insert, *played;
	struct entry *q; /* ring of ASRUN_QUEUE_MAX */
	size_t head, n;
	int64_t retry_at_ms, backoff_ms; /* monotonic */
	/* An episode: from the first entry that had to wait to the moment
	 * the queue is empty again; one log line at each end. */
	bool waiting;
	int64_t since_ms;
	size_t written;
	/* The last failure, as SQLite said it when it happened (a rollback
	 * clears it): whether it was a lock, and its words. */
	bool busy;
	char why[160];
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct entry *at(const struct asrun *q, size_t k)
{
	return &q->q[(q->head + k) % ASRUN_QUEUE_MAX];
}

static void pop(struct asrun *q, size_t k)
{
	q->head = (q->head + k) % ASRUN_QUEUE_MAX;
	q->n -= k;
	/* Empty: start at the first entry again, so that a station whose
	 * database takes every write at once only ever touches that one
	 * (the ring is 128 x 5 KB of pages never touched otherwise). */
	if (q->n == 0)
		q->head = 0;
}

/* A free entry at the tail, cleared, or NULL when the queue is full. */
static struct entry *push(struct asrun *q, enum kind kind, int64_t id)
{
	struct entry *e;

	if (q->n == ASRUN_QUEUE_MAX)
		return NULL;
	e = at(q, q->n++);
	e->kind = kind;
	e->gone = false;
	e->id = id;
	e->at_ms = e->dur_ms = e->end_ms = 0;
	e->ended_early = false;
	e->path[0] = e->title[0] = e->artist[0] = e->album[0] = '\0';
	e->slot[0] = '\0';
	return e;
}

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* One line with everything the entry would have written. */
static void log_lost(const struct entry *e, const char *why)
{
	char when[40];

	tu_format_utc(e->at_ms, when, sizeof(when));
	if (e->kind == ON_AIR)
		log_error("as-run: not written (%s): bulletin %lld went on air "
		          "at %s",
		          why, (long long)e->id, when);
	else
		log_error("as-run: not written (%s): %s%s, %.3f s%s: %s%s%s "
		          "(%s)",
		          why, e->kind == AIRED ? "bulletin, " : "", when,
		          (double)e->dur_ms / 1000,
		          e->ended_early ? ", ended early" : "", e->artist,
		          e->artist[0] ? " - " : "", e->title, e->path);
}

/* Whether the last failure may go away by itself: a lock, a full disk,
 * an I/O error. Anything else (a constraint) fails the same way again. */
static bool transient(struct store *st)
{
	switch (sqlite3_errcode(store_db(st)) & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_NOMEM:
	case SQLITE_READONLY:
	case SQLITE_PROTOCOL:
		return true;
	default:
		return false;
	}
}

/* Notes the failure SQLite reports now; -ERR_DB_BUSY when it may go
 * away by itself, -ERR_DB when it will not. */
static int fail(struct asrun *q)
{
	q->busy = store_busy(q->st);
	snprintf(q->why, sizeof(q->why), "%s", sqlite3_errmsg(store_db(q->st)));
	return transient(q->st) ? -ERR_DB_BUSY : -ERR_DB;
}

/* The row of an item (or of a bulletin that lost its link). */
static int write_row(struct asrun *q, const struct entry *e)
{
	char started[40];
	int rc;

	tu_format_utc(e->at_ms, started, sizeof(started));
	sqlite3_bind_text(q->insert, 1, started, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q->insert, 2, e->dur_ms);
	sqlite3_bind_int(q->insert, 3, e->ended_early);
	if (e->kind == ITEM && e->id > 0)
		sqlite3_bind_int64(q->insert, 4, e->id);
	else
		sqlite3_bind_null(q->insert, 4);
	sqlite3_bind_text(q->insert, 5, e->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(q->insert, 6, e->title, -1, SQLITE_STATIC);
	sqlite3_bind_text(q->insert, 7, e->artist, -1, SQLITE_STATIC);
	sqlite3_bind_text(q->insert, 8, e->album, -1, SQLITE_STATIC);
	sqlite3_bind_text(q->insert, 9, e->slot, -1, SQLITE_STATIC);
	rc = sqlite3_step(q->insert);
	sqlite3_reset(q->insert);
	if (rc == SQLITE_DONE && e->kind == ITEM && e->id > 0) {
		sqlite3_bind_text(q->played, 1, started, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q->played, 2, e->id);
		rc = sqlite3_step(q->played);
		sqlite3_reset(q->played);
	}
	return rc == SQLITE_DONE ? 0 : fail(q);
}

static int write_aired(struct asrun *q, const struct entry *e)
{
	struct bulletin_asrun a = {
	    .started_ms = e->at_ms,
	    .duration_ms = e->dur_ms,
	    .ended_early = e->ended_early,
	    .path = e->path,
	    .title = e->title,
	    .slot = e->slot,
	};
	int rc = bulletin_aired(q->st, e->id, &a, e->end_ms);

	if (rc != -ERR_CONFLICT)
		return rc == 0 ? 0 : fail(q);
	/* Not on air any more: withdrawn or expired while its going on air
	 * waited for the lock. It did air; the log says so. */
	log_warn("as-run: bulletin %lld aired but was withdrawn or expired "
	         "meanwhile; its as-run row is written without its link",
	         (long long)e->id);
	return write_row(q, e);
}

static int write_one(struct asrun *q, const struct entry *e)
{
	int rc;

	switch (e->kind) {
	case ITEM:
		return write_row(q, e);
	case ON_AIR:
		rc = bulletin_set_on_air(q->st, e->id, e->at_ms);
		if (rc == -ERR_CONFLICT) {
			log_warn("as-run: bulletin %lld went on air while the "
			         "database was locked, and was withdrawn or "
			         "expired meanwhile",
			         (long long)e->id);
			return 0;
		}
		return rc == 0 ? 0 : fail(q);
	case AIRED:
		return write_aired(q, e);
	}
	return -ERR_DB;
}

static bool exec_quiet(struct asrun *q, const char *sql)
{
	return sqlite3_exec(store_db(q->st), sql, NULL, NULL, NULL) ==
	       SQLITE_OK;
}

/* The next attempt: soon while the lock is held, later on other
 * errors (fail() noted which). The first time, one line says what
 * happens. */
static void defer(struct asrun *q)
{
	int64_t now = mono_ms();

	if (q->busy)
		q->backoff_ms = RETRY_MS;
	else
		q->backoff_ms = q->backoff_ms < RETRY_MS ? RETRY_MS
		                : q->backoff_ms * 2 > RETRY_MAX_MS
		                    ? RETRY_MAX_MS
		                    : q->backoff_ms * 2;
	q->retry_at_ms = now + q->backoff_ms;
	if (q->waiting)
		return;
	q->waiting = true;
	q->since_ms = now;
	q->written = 0;
	log_warn("as-run: the database refuses writes for now (%s); what "
	         "airs is kept in memory and written when it can be",
	         q->why);
}

/* One attempt at what waits; see the top of the file. */
static void flush(struct asrun *q)
{
	size_t k = 0;
	int rc = store_try_begin(q->st);

	if (rc < 0) {
		fail(q);
		defer(q);
		return;
	}
	for (; k < q->n && k < BATCH_MAX; k++) {
		struct entry *e = at(q, k);

		if (e->gone)
			continue;
		if (!exec_quiet(q, "SAVEPOINT asrun_entry")) {
			rc = fail(q);
			break;
		}
		rc = write_one(q, e);
		if (rc < 0)
			exec_quiet(q, "ROLLBACK TO asrun_entry");
		exec_quiet(q, "RELEASE asrun_entry");
		if (rc == -ERR_DB_BUSY)
			break; /* it and those after it wait */
		if (rc < 0) {
			e->gone = true;
			log_lost(e, q->why);
		}
		rc = 0;
	}
	if (!exec_quiet(q, "COMMIT")) {
		fail(q);
		store_rollback(q->st);
		defer(q);
		return;
	}
	for (size_t i = 0; i < k; i++)
		q->written += !at(q, i)->gone;
	pop(q, k);
	if (rc < 0) {
		defer(q);
		return;
	}
	if (q->n > 0) {
		q->retry_at_ms = 0; /* more than a batch: the next tick */
		return;
	}
	if (q->waiting)
		log_info("as-run: the database took the %zu entr%s that waited "
		         "%.1f s",
		         q->written, q->written == 1 ? "y" : "ies",
		         (double)(mono_ms() - q->since_ms) / 1000);
	q->waiting = false;
	q->backoff_ms = 0;
}

/* A new entry is in: write now, unless others wait for their retry. */
static void kick(struct asrun *q)
{
	if (q->n == 1 || mono_ms() >= q->retry_at_ms)
		flush(q);
}

int asrun_new(struct asrun **out, struct store *st)
{
	struct asrun *q = calloc(1, sizeof(*q));
	sqlite3 *db = store_db(st);

	*out = NULL;
	if (!q)
		return -ENOMEM;
	q->st = st;
	q->q = calloc(ASRUN_QUEUE_MAX, sizeof(*q->q));
	if (!q->q) {
		free(q);
		return -ENOMEM;
	}
	if (sqlite3_prepare_v2(
	        db,
	        "INSERT INTO asrun (started_at, duration_ms, ended_early,"
	        " track_id, path, title, artist, album, slot_name)"
	        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	        -1, &q->insert, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
	                       "UPDATE track SET last_played = ?1"
	                       " WHERE id = ?2",
	                       -1, &q->played, NULL) != SQLITE_OK) {
		log_error("%s: %s", store_path(st), sqlite3_errmsg(db));
		asrun_free(q, 0);
		return -ERR_DB;
	}
	*out = q;
	return 0;
}

void asrun_item(struct asrun *q, const struct asrun_row *r)
{
	struct entry *e = push(q, ITEM, r->track_id);

	if (!e) {
		struct entry lost = {.kind = ITEM,
		                     .at_ms = r->started_ms,
		                     .dur_ms = r->duration_ms,
		                     .ended_early = r->ended_early};

		copy(lost.path, sizeof(lost.path), r->path);
		copy(lost.title, sizeof(lost.title), r->title);
		copy(lost.artist, sizeof(lost.artist), r->artist);
		log_lost(&lost, "the queue is full");
		return;
	}
	e->at_ms = r->started_ms;
	e->dur_ms = r->duration_ms;
	e->ended_early = r->ended_early;
	copy(e->path, sizeof(e->path), r->path);
	copy(e->title, sizeof(e->title), r->title);
	copy(e->artist, sizeof(e->artist), r->artist);
	copy(e->album, sizeof(e->album), r->album);
	copy(e->slot, sizeof(e->slot), r->slot);
	kick(q);
}

int asrun_on_air(struct asrun *q, int64_t id, int64_t at_ms)
{
	struct bulletin b = {0};
	struct entry *e;
	int rc;

	if (q->n == 0) {
		/* The usual case: written now, in a transaction of its own
		 * (a withdrawal in between is seen). */
		rc = store_try_begin(q->st);
		if (rc < 0)
			fail(q);
		if (rc == 0) {
			rc = bulletin_set_on_air(q->st, id, at_ms);
			if (rc == 0 && !exec_quiet(q, "COMMIT"))
				rc = fail(q);
			if (rc < 0)
				store_rollback(q->st);
		}
		if (rc != -ERR_DB_BUSY)
			return rc;
	}
	/* Writes must wait: it airs on the state it can be read in (or,
	 * unreadable too, on the one it was planned with). */
	rc = bulletin_get(q->st, id, &b);
	bulletin_clear(&b);
	if (rc == 0 || (rc == 1 && b.state != BULLETIN_RENDERED))
		return -ERR_CONFLICT;
	e = push(q, ON_AIR, id);
	if (!e)
		return -ERR_DB_BUSY;
	e->at_ms = at_ms;
	if (q->n == 1)
		defer(q); /* as the try above failed */
	return 0;
}

void asrun_bulletin(struct asrun *q, int64_t id, const struct bulletin_asrun *a,
                    int64_t end_ms)
{
	struct entry *e = push(q, AIRED, id);
	struct entry tmp;

	if (!e) {
		memset(&tmp, 0, sizeof(tmp));
		e = &tmp;
		e->kind = AIRED;
		e->id = id;
	}
	e->at_ms = a->started_ms;
	e->dur_ms = a->duration_ms;
	e->end_ms = end_ms;
	e->ended_early = a->ended_early;
	copy(e->path, sizeof(e->path), a->path);
	copy(e->title, sizeof(e->title), a->title);
	copy(e->artist, sizeof(e->artist), "City news");
	copy(e->slot, sizeof(e->slot), a->slot);
	if (e == &tmp) {
		log_lost(e, "the queue is full");
		return;
	}
	kick(q);
}

bool asrun_holds(const struct asrun *q, int64_t id)
{
	for (size_t k = 0; q && k < q->n; k++) {
		const struct entry *e = at(q, k);

		if (e->kind != ITEM && e->id == id && !e->gone)
			return true;
	}
	return false;
}

size_t asrun_waiting(const struct asrun *q)
{
	return q ? q->n : 0;
}

void asrun_idle(struct asrun *q)
{
	if (q && q->n > 0 && mono_ms() >= q->retry_at_ms)
		flush(q);
}

void asrun_free(struct asrun *q, int drain_ms)
{
	if (!q)
		return;
	if (q->n > 0 && q->insert) {
		store_busy_timeout(q->st, drain_ms);
		flush(q);
	}
	for (size_t k = 0; k < q->n; k++)
		if (!at(q, k)->gone)
			log_lost(at(q, k), "the database still refuses writes");
	sqlite3_finalize(q->insert);
	sqlite3_finalize(q->played);
	free(q->q);
	free(q);
}
