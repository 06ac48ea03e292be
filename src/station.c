/*
 * station.c - the database, the scheduler feed and the newsroom, wired
 * together and played.
 *
 * On air the audio thread's statements wait at most AIR_BUSY_MS for a
 * lock another connection holds: reads go through a writer's lock (WAL),
 * and the writes the database refuses wait in the as-run writer (asrun.h)
 * instead of the audio.
 */
#include "station.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "feed_sched.h"
#include "log.h"
#include "newsroom.h"
#include "store.h"

#define AIR_BUSY_MS 20

struct station {
	struct station_options opt;
	struct store *st;
	struct feed_sched *fs;
	struct newsroom *nr;
	struct player_feed feed;
};

int station_open(struct station **out, const struct station_options *opt)
{
	struct station *s = calloc(1, sizeof(*s));
	bool news = !opt->render || opt->log_asrun;
	int rc;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->opt = *opt;
	rc = store_open(&s->st, opt->db_path,
	                opt->render && !opt->log_asrun ? STORE_READONLY : 0);
	if (rc == 0)
		rc = feed_sched_new(&s->fs, s->st,
		                    !opt->render || opt->log_asrun, &s->feed);
	/* News needs a queue it may write: air, or a render that logs. */
	if (rc == 0 && news) {
		struct newsroom_options no = {.db_path = opt->db_path,
		                              .drop_dir = opt->drop_dir};

		rc = newsroom_new(&s->nr, opt->render ? s->st : NULL, &no);
		if (rc == 0 && !opt->render)
			rc = newsroom_start(s->nr);
		if (rc == 0)
			rc = feed_sched_news(s->fs, s->nr, !opt->render);
	} else if (rc == 0) {
		log_info("render: no news (bulletins air only in a render "
		         "with --asrun)");
	}
	if (rc < 0) {
		station_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void station_player_options(struct station *s, struct player_options *play)
{
	play->ceiling_dbtp = store_setting_number(s->st, "limiter_ceiling_dbtp",
	                                          -20, 0, play->ceiling_dbtp);
	play->dead_air_db = store_setting_number(s->st, "dead_air_db", -90, -20,
	                                         play->dead_air_db);
	play->dead_air_ms =
	    (int64_t)(store_setting_number(s->st, "dead_air_s", 0, 600,
	                                   (double)play->dead_air_ms / 1000.0) *
	              1000);
	if (!s->opt.render) {
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		play->start_ms =
		    (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
		play->realtime = true;
		play->follow_wall = true;
	}
}

int station_play(struct station *s, struct output **outs, size_t *n_outs,
                 const struct player_options *play, volatile sig_atomic_t *stop,
                 struct player_stats *stats)
{
	int rc;

	/* The status (the daemon's) also shows what comes next. */
	if (play->status)
		feed_sched_status(s->fs, play->status);
	if (play->realtime)
		store_busy_timeout(s->st, AIR_BUSY_MS);
	rc = player_run(&s->feed, outs, n_outs, play, stop, stats);
	store_busy_timeout(s->st, STORE_BUSY_TIMEOUT_MS);
	return rc;
}

int station_reload(struct station *s)
{
	return feed_sched_reload(s->fs);
}

struct store *station_store(struct station *s)
{
	return s->st;
}

void station_close(struct station *s)
{
	if (!s)
		return;
	/* The newsroom's thread stops before the feed it reports to. */
	newsroom_free(s->nr);
	feed_sched_free(s->fs);
	store_close(s->st);
	free(s);
}
