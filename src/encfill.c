/*
 * encfill.c - the encoded-music cache, filled in the background.
 *
 * One thread: a sweep of the library, then a queue of what the player
 * asked for. It runs at SCHED_IDLE, so on a Pi it takes only what the
 * audio loop leaves; an encoding is abandoned at once on stop
 * (enccache_build() checks the flag every block).
 */
#define _GNU_SOURCE
#include "encfill.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "err.h"
#include "log.h"
#include "loudness.h"
#include "player.h"
#include "store.h"
#include "worker.h"

/* Asks from the player that wait; more are dropped (asked again at the
 * next play). */
#define ENCFILL_QUEUE 8
/* Tracks shorter than this are not looked at (enccache_build() would say
 * no after decoding them). */
#define ENCFILL_MIN_TRACK_MS 20000

struct want {
	char path[4096];
	long long size, mtime_ns;
	float level;
};

struct encfill {
	struct encfill_options opt; /* dir, db_path: the copies below */
	char dir[4096];
	char db_path[4096];
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	volatile int stop;
	struct want q[ENCFILL_QUEUE];
	size_t qn;
	bool full_disk;
};

/* dir/KEY.skip: made once a spec is not worth caching. */
static void skip_path(char *buf, size_t len, const char *dir, const char *key)
{
	snprintf(buf, len, "%s/%s.skip", dir, key);
}

static bool present(const char *dir, const char *key)
{
	char path[4200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s.ogg", dir, key);
	if (stat(path, &st) == 0)
		return true;
	skip_path(path, sizeof(path), dir, key);
	return stat(path, &st) == 0;
}

/* Builds spec unless its encoding (or skip mark) is there. */
static int fill_one(const char *dir, const struct enccache_spec *spec,
                    const volatile int *stop, struct encfill_stats *st)
{
	char key[ENCCACHE_KEY_LEN + 1], path[4200];
	int rc, fd;

	enccache_key(spec, key);
	if (present(dir, key)) {
		st->ready++;
		return 0;
	}
	rc = enccache_build(dir, spec, stop);
	if (rc == 0) {
		st->built++;
	} else if (rc == 1) {
		st->skipped++;
		skip_path(path, sizeof(path), dir, key);
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
	} else if (rc != -EINTR) {
		st->failed++;
	}
	return rc < 0 ? rc : 0;
}

/* Encodings a killed process left half-written (.KEY.ogg.XXXXXX; a
 * complete one is renamed to KEY.ogg): gone after an hour, by when no
 * encoder still writes them. */
static void clean_leftovers(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	time_t now = time(NULL);

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat sb;

		if (e->d_name[0] != '.' || !strstr(e->d_name, ".ogg.") ||
		    fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) !=
		        0 ||
		    !S_ISREG(sb.st_mode) || now - sb.st_mtime < 3600)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			log_info(
			    "encoded cache: removed %s/%s, left half-written",
			    dir, e->d_name);
	}
	closedir(d);
}

static int make_dir(const char *dir)
{
	if (mkdir(dir, 0755) == 0 || errno == EEXIST)
		return 0;
	log_error("encoded cache: cannot make %s: %s", dir, strerror(errno));
	return -errno;
}

int encfill_sweep(const struct encfill_options *opt, const volatile int *stop,
                  struct encfill_stats *st)
{
	static const char sql[] =
	    "SELECT id, path, loudness_lufs FROM track"
	    " WHERE id > ?1 AND enabled = 1 AND missing = 0"
	    " AND cue_out_ms - cue_in_ms >= ?2 ORDER BY id LIMIT 1";
	struct loudness_cfg loud;
	struct store *db = NULL;
	sqlite3_stmt *q = NULL;
	long long last = 0;
	int rc;

	memset(st, 0, sizeof(*st));
	rc = make_dir(opt->dir);
	if (rc < 0)
		return rc;
	clean_leftovers(opt->dir);
	if (!opt->db_path)
		return 0;
	rc = store_open(&db, opt->db_path, STORE_READONLY);
	if (rc < 0)
		return rc;
	loudness_cfg_load(db, &loud);
	if (sqlite3_prepare_v2(store_db(db), sql, -1, &q, NULL) != SQLITE_OK) {
		log_error("encoded cache: %s", sqlite3_errmsg(store_db(db)));
		store_close(db);
		return -ERR_DB;
	}
	/* A row at a time, the statement reset in between: no read
	 * transaction stays open while a track is encoded. */
	while (!(stop && *stop)) {
		struct enccache_spec spec = opt->tmpl;
		char path[4096];
		struct stat sb;
		double lufs;

		sqlite3_bind_int64(q, 1, last);
		sqlite3_bind_int64(q, 2, ENCFILL_MIN_TRACK_MS);
		if (sqlite3_step(q) != SQLITE_ROW) {
			sqlite3_reset(q);
			break;
		}
		last = sqlite3_column_int64(q, 0);
		snprintf(path, sizeof(path), "%s",
		         (const char *)sqlite3_column_text(q, 1));
		lufs = sqlite3_column_type(q, 2) == SQLITE_NULL
		           ? (double)NAN
		           : sqlite3_column_double(q, 2);
		sqlite3_reset(q);
		if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue; /* gone since the scan: the next scan says */
		spec.path = path;
		spec.size = (long long)sb.st_size;
		spec.mtime_ns = (long long)sb.st_mtim.tv_sec * 1000000000LL +
		                sb.st_mtim.tv_nsec;
		spec.level =
		    player_level(loudness_gain(lufs, &loud), spec.fmt.channels);
		rc = fill_one(opt->dir, &spec, stop, st);
		if (rc == -ENOSPC) {
			log_error("encoded cache: %s is full; music is "
			          "encoded on air",
			          opt->dir);
			break;
		}
		rc = 0;
	}
	sqlite3_finalize(q);
	store_close(db);
	return rc;
}

static void *run(void *arg)
{
	struct encfill *f = arg;
	struct encfill_stats st;
	struct sched_param sp = {0};

	/* Only what the audio loop leaves. */
	if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp) != 0)
		(void)setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
	if (encfill_sweep(&f->opt, &f->stop, &st) == -ENOSPC)
		f->full_disk = true;
	if (!f->stop && f->opt.db_path)
		log_info("encoded cache: %zu tracks ready, %zu encoded now, "
		         "%zu not worth it, %zu failed",
		         st.ready + st.built, st.built, st.skipped, st.failed);
	pthread_mutex_lock(&f->mu);
	while (!f->stop) {
		struct enccache_spec spec = f->opt.tmpl;
		struct want w;

		if (f->qn == 0) {
			pthread_cond_wait(&f->cv, &f->mu);
			continue;
		}
		w = f->q[0];
		memmove(&f->q[0], &f->q[1], --f->qn * sizeof(f->q[0]));
		pthread_mutex_unlock(&f->mu);
		spec.path = w.path;
		spec.size = w.size;
		spec.mtime_ns = w.mtime_ns;
		spec.level = w.level;
		memset(&st, 0, sizeof(st));
		if (fill_one(f->dir, &spec, &f->stop, &st) == -ENOSPC)
			f->full_disk = true;
		else if (st.built)
			log_info("encoded cache: %s ready for the next time",
			         w.path);
		pthread_mutex_lock(&f->mu);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

int encfill_start(struct encfill **out, const struct encfill_options *opt)
{
	struct encfill *f = calloc(1, sizeof(*f));
	int rc;

	*out = NULL;
	if (!f)
		return -ENOMEM;
	f->opt = *opt;
	snprintf(f->dir, sizeof(f->dir), "%s", opt->dir);
	f->opt.dir = f->dir;
	if (opt->db_path) {
		snprintf(f->db_path, sizeof(f->db_path), "%s", opt->db_path);
		f->opt.db_path = f->db_path;
	}
	f->opt.tmpl.path = NULL;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	rc = worker_start(&f->thread, run, f);
	if (rc < 0) {
		log_error("encoded cache: cannot start its thread: %s",
		          strerror(-rc));
		pthread_cond_destroy(&f->cv);
		pthread_mutex_destroy(&f->mu);
		free(f);
		return rc;
	}
	*out = f;
	return 0;
}

void encfill_want(struct encfill *f, const struct enccache_spec *spec)
{
	struct want *w;

	if (!f || !spec->path || strlen(spec->path) >= sizeof(w->path))
		return;
	pthread_mutex_lock(&f->mu);
	for (size_t i = 0; i < f->qn; i++)
		if (strcmp(f->q[i].path, spec->path) == 0) {
			pthread_mutex_unlock(&f->mu);
			return;
		}
	if (f->qn < ENCFILL_QUEUE && !f->full_disk) {
		w = &f->q[f->qn++];
		snprintf(w->path, sizeof(w->path), "%s", spec->path);
		w->size = spec->size;
		w->mtime_ns = spec->mtime_ns;
		w->level = spec->level;
		pthread_cond_signal(&f->cv);
	}
	pthread_mutex_unlock(&f->mu);
}

void encfill_stop(struct encfill *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->thread, NULL);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
}
