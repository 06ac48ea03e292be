/*
 * feed_sched.c - the scheduler as a player feed, with the as-run log.
 *
 * The as-run row is written when an item ends, with the frames that were
 * really sent, so the log says what listeners heard. That is one small
 * SQLite write per item between ticks; PRAGMA data_version tells, at no
 * cost, whether another connection changed the schedule since.
 */
#include "feed_sched.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "err.h"
#include "log.h"
#include "player.h"
#include "sched.h"
#include "store.h"
#include "timeutil.h"

struct feed_sched {
	struct store *st;
	struct sched *sched;
	bool log_asrun;
	sqlite3_stmt *version;  /* PRAGMA data_version */
	sqlite3_stmt *insert;   /* the as-run row */
	sqlite3_stmt *played;   /* track.last_played */
	long long data_version; /* as of the last (re)load */
	struct sched_item cur;  /* the item last handed out */
};

static long long data_version(struct feed_sched *fs)
{
	long long v = -1;

	if (sqlite3_step(fs->version) == SQLITE_ROW)
		v = sqlite3_column_int64(fs->version, 0);
	sqlite3_reset(fs->version);
	return v;
}

static int next(void *ctx, int64_t at_ms, struct player_item *item)
{
	struct feed_sched *fs = ctx;
	long long v = data_version(fs);
	int rc;

	if (v != fs->data_version) {
		/* Someone else wrote: an operator's edit, perhaps. */
		if (sched_reload(fs->sched) == 0)
			log_info("schedule reloaded");
		fs->data_version = v;
	}
	rc = sched_next(fs->sched, at_ms, &fs->cur);
	if (rc < 0)
		return rc;
	memset(item, 0, sizeof(*item));
	snprintf(item->path, sizeof(item->path), "%s", fs->cur.path);
	snprintf(item->title, sizeof(item->title), "%s", fs->cur.title);
	snprintf(item->artist, sizeof(item->artist), "%s", fs->cur.artist);
	item->cue_in_ms = fs->cur.cue_in_ms;
	item->length_ms = fs->cur.length_ms;
	item->fade_out = fs->cur.cut;
	item->id = fs->cur.track_id;
	return 0;
}

static void failed(void *ctx, const struct player_item *item)
{
	struct feed_sched *fs = ctx;

	sched_broken(fs->sched, item->id);
}

static void aired(void *ctx, const struct player_item *item, int64_t at_ms,
                  int64_t dur_ms, bool ended_early)
{
	struct feed_sched *fs = ctx;
	sqlite3_stmt *ins = fs->insert;
	char started[40];
	int rc;

	if (!fs->log_asrun)
		return;
	tu_format_utc(at_ms, started, sizeof(started));
	sqlite3_bind_text(ins, 1, started, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 2, dur_ms);
	sqlite3_bind_int(ins, 3, ended_early);
	sqlite3_bind_int64(ins, 4, item->id);
	sqlite3_bind_text(ins, 5, item->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 6, fs->cur.title, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 7, fs->cur.artist, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 8, fs->cur.album, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 9, fs->cur.slot, -1, SQLITE_STATIC);
	rc = sqlite3_step(ins);
	sqlite3_reset(ins);
	if (rc == SQLITE_DONE) {
		sqlite3_bind_text(fs->played, 1, started, -1, SQLITE_STATIC);
		sqlite3_bind_int64(fs->played, 2, item->id);
		rc = sqlite3_step(fs->played);
		sqlite3_reset(fs->played);
	}
	if (rc != SQLITE_DONE)
		log_error("as-run log: %s: %s", item->path,
		          sqlite3_errmsg(store_db(fs->st)));
	/* Our own write does not change data_version; others' do. */
}

int feed_sched_new(struct feed_sched **out, struct store *st, bool log_asrun,
                   struct player_feed *feed)
{
	struct feed_sched *fs = calloc(1, sizeof(*fs));
	sqlite3 *db = store_db(st);
	int rc;

	*out = NULL;
	if (!fs)
		return -ENOMEM;
	fs->st = st;
	fs->log_asrun = log_asrun;
	if (sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &fs->version,
	                       NULL) != SQLITE_OK ||
	    (log_asrun &&
	     (sqlite3_prepare_v2(
	          db,
	          "INSERT INTO asrun (started_at, duration_ms, ended_early,"
	          " track_id, path, title, artist, album, slot_name)"
	          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	          -1, &fs->insert, NULL) != SQLITE_OK ||
	      sqlite3_prepare_v2(db,
	                         "UPDATE track SET last_played = ?1"
	                         " WHERE id = ?2",
	                         -1, &fs->played, NULL) != SQLITE_OK))) {
		log_error("%s: %s", store_path(st), sqlite3_errmsg(db));
		rc = -ERR_DB;
		goto fail;
	}
	rc = sched_new(&fs->sched, st);
	if (rc < 0)
		goto fail;
	fs->data_version = data_version(fs);
	*feed = (struct player_feed){
	    .next = next, .failed = failed, .aired = aired, .ctx = fs};
	*out = fs;
	return 0;
fail:
	feed_sched_free(fs);
	return rc;
}

void feed_sched_free(struct feed_sched *fs)
{
	if (!fs)
		return;
	sched_free(fs->sched);
	sqlite3_finalize(fs->version);
	sqlite3_finalize(fs->insert);
	sqlite3_finalize(fs->played);
	free(fs);
}
