/*
 * feed_sched.c - the scheduler as a player feed, with the as-run log.
 *
 * The as-run row is written when an item ends, with the frames that were
 * really sent, so the log says what listeners heard. That is one small
 * SQLite write per item between ticks, through the as-run writer
 * (asrun.h), which keeps it in memory while another program holds the
 * database's lock; PRAGMA data_version tells, at no cost (a read, which
 * a writer's lock does not stop), whether another connection changed the
 * schedule since.
 *
 * With news on (feed_sched_news), a news minute from the scheduler and
 * breaking news become blocks from the bulletin queue (feed_news.c);
 * player items of bulletins carry the negated bulletin id.
 */
#include "feed_sched.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "asrun.h"
#include "bulletin.h"
#include "err.h"
#include "feed_news.h"
#include "log.h"
#include "loudness.h"
#include "newsroom.h"
#include "player.h"
#include "sched.h"
#include "status.h"
#include "store.h"
#include "timeutil.h"

struct feed_sched {
	struct store *st;
	struct sched *sched;
	bool log_asrun;
	struct asrun *asrun;    /* the as-run writer, if log_asrun */
	long long data_version; /* as of the last (re)load */
	struct sched_item cur;  /* the item last handed out */
	/* News: NULL when off. nr renders in this thread unless threaded. */
	struct feed_news *news;
	struct newsroom *nr;
	bool threaded;
	int64_t cur_end_ms; /* planned end of the item on air, 0: unknown */
	struct loudness_cfg loud;
	int64_t attack_ms, release_ms; /* duck_attack_ms, duck_release_ms */
	int dead_in_a_row;             /* items skipped for dead air */
	struct status *status;         /* NULL: no forecast published */
	struct sched_item ahead[STATUS_NEXT_MAX];
};

/* Dead air this many times in a row: the fallback playlist for a while. */
#define DEAD_AIR_SWITCH 2
#define DEAD_AIR_FALLBACK_MS (15 * 60 * 1000)
/* At the end, how long the as-run writer may wait for a lock. */
#define DRAIN_MS 1000

static void sound_load(struct feed_sched *fs)
{
	loudness_cfg_load(fs->st, &fs->loud);
	fs->attack_ms = (int64_t)store_setting_number(fs->st, "duck_attack_ms",
	                                              0, 10000, 200);
	fs->release_ms = (int64_t)store_setting_number(
	    fs->st, "duck_release_ms", 0, 10000, 800);
}

/* The ducking of item, from the slot's level and the station's ramps. */
static void duck(struct feed_sched *fs, struct player_item *item, double db)
{
	item->duck_gain = (float)pow(10.0, db / 20.0);
	item->attack_ms = fs->attack_ms;
	item->release_ms = fs->release_ms;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether a news minute at at_ms airs: bulletins are due, or there is a
 * news_empty_playlist item to play when none are. */
static int news_pending(void *ctx, int64_t at_ms)
{
	struct feed_sched *fs = ctx;
	int n = bulletin_pending(fs->st, at_ms, false);

	return n == 0 && fs->news && fs->news->empty.n ? 1 : n;
}

/* Hands out the block's next item: 1, or 0 when the block is done. */
static int next_news(struct feed_sched *fs, int64_t at_ms,
                     struct player_item *item)
{
	struct news_item it;
	bool last = false;

	if (!fs->news ||
	    feed_news_next(fs->news, at_ms, fs->log_asrun, &it, &last) <= 0)
		return 0;
	memset(item, 0, sizeof(*item));
	snprintf(item->path, sizeof(item->path), "%s", it.path);
	snprintf(item->title, sizeof(item->title), "%s", it.title);
	snprintf(item->artist, sizeof(item->artist), "%s", it.artist);
	item->cue_in_ms = it.cue_in_ms;
	item->length_ms = it.length_ms;
	item->id = it.bulletin_id ? -it.bulletin_id : it.track_id;
	item->gain = loudness_gain(it.loudness_lufs, &fs->loud);
	snprintf(item->bed, sizeof(item->bed), "%s", fs->news->bed);
	item->bed_gain = fs->news->bed_gain;
	item->bed_ends = last;
	/* Speech lowers the bed; the jingles of the block do not. */
	item->duck_bed = it.bulletin_id != 0;
	duck(fs, item, fs->cur.duck_db);
	snprintf(item->slot, sizeof(item->slot), "%s", fs->cur.slot);
	snprintf(fs->cur.title, sizeof(fs->cur.title), "%s", it.title);
	snprintf(fs->cur.artist, sizeof(fs->cur.artist), "%s", it.artist);
	fs->cur.album[0] = '\0';
	fs->cur_end_ms = 0;
	return 1;
}

/* What the scheduler expects after the item just handed out. */
static void publish_ahead(struct feed_sched *fs)
{
	struct status_next nx[STATUS_NEXT_MAX];
	int n;

	if (!fs->status)
		return;
	n = sched_forecast(fs->sched, &fs->cur, fs->ahead, STATUS_NEXT_MAX);
	for (int i = 0; i < n; i++) {
		const struct sched_item *a = &fs->ahead[i];

		snprintf(nx[i].title, sizeof(nx[i].title), "%s",
		         a->kind == SCHED_NEWS ? "City news" : a->title);
		snprintf(nx[i].artist, sizeof(nx[i].artist), "%s", a->artist);
		nx[i].kind = sched_kind_name(a->kind);
		nx[i].at_ms = a->start_ms;
		nx[i].length_ms = a->length_ms;
	}
	status_next(fs->status, nx, n > 0 ? (size_t)n : 0);
}

static int next(void *ctx, int64_t at_ms, struct player_item *item)
{
	struct feed_sched *fs = ctx;
	long long v;
	int rc;

	if (next_news(fs, at_ms, item))
		return 0;
	v = store_data_version(fs->st);
	/* -1: unreadable for now (an I/O error; a writer's lock does not
	 * stop reads in WAL mode): the schedule in memory goes on, and is
	 * checked again at the next item. */
	if (v >= 0 && v != fs->data_version) {
		/* Someone else wrote: an operator's edit, perhaps. */
		if (sched_reload(fs->sched) == 0)
			log_info("schedule reloaded");
		if (fs->news)
			feed_news_load(fs->news, fs->st);
		sound_load(fs);
		fs->data_version = v;
	}
	if (fs->nr && !fs->threaded)
		newsroom_work(fs->nr, at_ms);
	if (fs->news && feed_news_plan(fs->news, at_ms, true, NULL) > 0) {
		fs->news->breaking_at = 0;
		if (next_news(fs, at_ms, item))
			return 0;
	}
	for (int tries = 0; tries < 4; tries++) {
		rc = sched_next(fs->sched, at_ms, &fs->cur);
		if (rc < 0)
			return rc;
		if (fs->cur.kind != SCHED_NEWS)
			break;
		/* The news minute: its block, or (nothing left due) on. */
		if (fs->news &&
		    feed_news_plan(fs->news, at_ms, false, fs->cur.path) >= 0 &&
		    next_news(fs, at_ms, item))
			return 0;
	}
	if (fs->cur.kind == SCHED_NEWS)
		return -ERR_EMPTY;
	memset(item, 0, sizeof(*item));
	snprintf(item->path, sizeof(item->path), "%s", fs->cur.path);
	snprintf(item->title, sizeof(item->title), "%s", fs->cur.title);
	snprintf(item->artist, sizeof(item->artist), "%s", fs->cur.artist);
	item->cue_in_ms = fs->cur.cue_in_ms;
	item->length_ms = fs->cur.length_ms;
	item->fade_out = fs->cur.cut;
	item->id = fs->cur.track_id;
	item->gain = loudness_gain(fs->cur.loudness_lufs, &fs->loud);
	snprintf(item->album, sizeof(item->album), "%s", fs->cur.album);
	snprintf(item->slot, sizeof(item->slot), "%s", fs->cur.slot);
	if (fs->cur.kind == SCHED_MUSIC || fs->cur.kind == SCHED_FALLBACK) {
		/* Music crosses into music, unless its end is planned
		 * against an event. */
		item->xfade_ms = fs->cur.cut ? 0 : fs->cur.xfade_ms;
		item->mix_in = !fs->cur.pinned;
	}
	item->curve = fs->cur.curve;
	item->overlay = fs->cur.over;
	duck(fs, item, fs->cur.duck_db);
	fs->cur_end_ms = at_ms + fs->cur.length_ms;
	publish_ahead(fs);
	return 0;
}

static bool interrupt(void *ctx, int64_t at_ms, int64_t *ask_at_ms)
{
	struct feed_sched *fs = ctx;

	if (!fs->news)
		return false;
	if (fs->threaded && newsroom_take_breaking(fs->nr))
		feed_news_breaking(fs->news, at_ms);
	/* Never into the middle of the news itself. */
	if (!fs->cur_end_ms)
		return false;
	return feed_news_interrupt(fs->news, at_ms, fs->cur_end_ms, ask_at_ms);
}

static void failed(void *ctx, const struct player_item *item)
{
	struct feed_sched *fs = ctx;

	if (item->id > 0)
		sched_broken(fs->sched, item->id);
}

static void dead_air(void *ctx, const struct player_item *item, int64_t at_ms)
{
	struct feed_sched *fs = ctx;

	(void)item;
	if (++fs->dead_in_a_row < DEAD_AIR_SWITCH)
		return;
	log_warn("dead air %d times in a row: music from the fallback "
	         "playlist for %d minutes",
	         fs->dead_in_a_row, DEAD_AIR_FALLBACK_MS / 60000);
	sched_use_fallback(fs->sched, at_ms + DEAD_AIR_FALLBACK_MS);
	fs->dead_in_a_row = 0;
}

static void aired(void *ctx, const struct player_item *item, int64_t at_ms,
                  int64_t dur_ms, bool ended_early)
{
	struct feed_sched *fs = ctx;

	if (item->id < 0 && fs->news) {
		struct bulletin_asrun a = {
		    .started_ms = at_ms,
		    .duration_ms = dur_ms,
		    .ended_early = ended_early,
		    .path = item->path,
		    .title = item->title,
		    .slot = item->slot,
		};

		feed_news_aired(fs->news, -item->id, fs->log_asrun, &a,
		                at_ms + dur_ms);
		return;
	}
	if (dur_ms > 0 && !ended_early)
		fs->dead_in_a_row = 0;
	if (!fs->asrun)
		return;
	asrun_item(fs->asrun,
	           &(struct asrun_row){.started_ms = at_ms,
	                               .duration_ms = dur_ms,
	                               .ended_early = ended_early,
	                               .track_id = item->id > 0 ? item->id : 0,
	                               .path = item->path,
	                               .title = item->title,
	                               .artist = item->artist,
	                               .album = item->album,
	                               .slot = item->slot});
	/* Our own write does not change data_version; others' do. */
}

/* The wall clock stepped: the times kept in programme time move with
 * it. Bulletins sent before a step back would otherwise wait until the
 * clock comes round to their submission time again. */
static void clock_step(void *ctx, int64_t delta_ms)
{
	struct feed_sched *fs = ctx;
	int n;

	sched_clock_step(fs->sched, delta_ms);
	if (fs->cur_end_ms)
		fs->cur_end_ms += delta_ms;
	if (!fs->news)
		return;
	if (fs->news->breaking_at)
		fs->news->breaking_at += delta_ms;
	if (delta_ms >= 0 || !fs->log_asrun)
		return;
	n = bulletin_clock_step(fs->st, delta_ms, wall_ms());
	if (n > 0)
		log_info("news: %d bulletin%s sent before the step keep their "
		         "place in the queue",
		         n, n == 1 ? "" : "s");
	else if (n < 0)
		log_warn("news: bulletins sent before the step wait until the "
		         "clock reaches their submission time again");
}

/* Between two blocks: what the as-run writer keeps waiting is retried. */
static void idle(void *ctx)
{
	struct feed_sched *fs = ctx;

	asrun_idle(fs->asrun);
}

int feed_sched_new(struct feed_sched **out, struct store *st, bool log_asrun,
                   struct player_feed *feed)
{
	struct feed_sched *fs = calloc(1, sizeof(*fs));
	int rc;

	*out = NULL;
	if (!fs)
		return -ENOMEM;
	fs->st = st;
	fs->log_asrun = log_asrun;
	rc = log_asrun ? asrun_new(&fs->asrun, st) : 0;
	if (rc == 0)
		rc = sched_new(&fs->sched, st);
	if (rc < 0)
		goto fail;
	fs->data_version = store_data_version(fs->st);
	sound_load(fs);
	*feed = (struct player_feed){.next = next,
	                             .failed = failed,
	                             .dead_air = dead_air,
	                             .aired = aired,
	                             .interrupt = interrupt,
	                             .idle = idle,
	                             .clock_step = clock_step,
	                             .ctx = fs};
	*out = fs;
	return 0;
fail:
	feed_sched_free(fs);
	return rc;
}

int feed_sched_news(struct feed_sched *fs, struct newsroom *nr, bool threaded)
{
	int rc;

	fs->news = calloc(1, sizeof(*fs->news));
	if (!fs->news)
		return -ENOMEM;
	rc = feed_news_load(fs->news, fs->st);
	if (rc < 0) {
		free(fs->news);
		fs->news = NULL;
		return rc;
	}
	fs->news->asrun = fs->asrun;
	fs->nr = nr;
	fs->threaded = threaded;
	if (fs->log_asrun && bulletin_recover(fs->st, wall_ms()) > 0)
		log_warn("news: bulletins cut off by a stop will air again");
	/* Breaking news left from before a restart: no render will flag
	 * it, so it waits from now. */
	if (threaded && bulletin_pending(fs->st, wall_ms(), true) > 0)
		feed_news_breaking(fs->news, wall_ms());
	sched_set_news(fs->sched, news_pending, fs);
	return 0;
}

int feed_sched_reload(struct feed_sched *fs)
{
	int rc = sched_reload(fs->sched);

	if (fs->news)
		feed_news_load(fs->news, fs->st);
	sound_load(fs);
	fs->data_version = store_data_version(fs->st);
	return rc;
}

void feed_sched_status(struct feed_sched *fs, struct status *st)
{
	fs->status = st;
}

void feed_sched_free(struct feed_sched *fs)
{
	if (!fs)
		return;
	/* The last rows (the item cut by the stop) go in now, or are
	 * logged. */
	asrun_free(fs->asrun, DRAIN_MS);
	free(fs->news);
	sched_free(fs->sched);
	free(fs);
}
