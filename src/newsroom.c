/*
 * newsroom.c - bulletins from the queue to audio files, ahead of air time.
 *
 * The one thing to know: a rendered file is complete on disk (written to
 * a temporary name, flushed, fsync'ed, renamed) before the bulletin is
 * marked rendered, so the player can never open half a bulletin; a crash
 * in between leaves it queued, and it is simply spoken again. So does a
 * file that cannot be written (a full disk): the queue waits, retried
 * with backoff, and the failure is one line until a file goes in again.
 *
 * Speech comes from the helper process (speaker.h), not espeak-ng in this
 * process: if it dies on a bulletin, a fresh one tries it once more; if
 * that fails too, or the helper hangs, the bulletin is marked failed with
 * the cause. If no helper can start at all, nothing is lost: bulletins
 * stay queued until the daemon is restarted.
 */
#define _GNU_SOURCE
#include "newsroom.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "bulletin.h"
#include "dropdir.h"
#include "encoder.h"
#include "err.h"
#include "log.h"
#include "loudness.h"
#include "speaker.h"
#include "store.h"
#include "textnorm.h"
#include "timeutil.h"

#define DEFAULT_HORIZON_MS (10 * 60000)
#define TICK_MS 250
/* The queue is read when another connection wrote (PRAGMA data_version),
 * and at least this often for what time alone changes: bulletins coming
 * within the horizon, expiry, pruning. What airs never depends on it: the
 * air's queries check expiry themselves. A write is seen at once when the
 * database's folder can be watched (inotify), else at the next tick. */
#define FULL_EVERY_MS 2000
/* Watched, a bulletin coming within the horizon renders at most this
 * long after it could (and never later than a quarter of the horizon):
 * a full round costs half a millisecond, 10 % of the daemon's CPU while
 * passing music through when it ran every 10 s. */
#define FULL_EVERY_WATCHED_MS 60000
/* The speech helper process is stopped after this long without work
 * (setting speech_idle_s). */
#define SPEAKER_IDLE_S 60
#define PER_ROUND 8 /* bulletins spoken per round: the drop folder waits */
#define PRUNE_EVERY_MS (10 * 60000)
#define LEAD_MS 150 /* silence before the voice */
#define NICE 10     /* the worker thread's niceness */
/* After a file could not be written, the next try waits this long,
 * doubled after each failure: nothing is spoken again in vain 4 times a
 * second, and a bulletin renders at most this long after space returns. */
#define WRITE_RETRY_MIN_MS 1000
#define WRITE_RETRY_MAX_MS 8000

static const char *const langs[] = {"en", "af", "tn"};
#define NLANGS (sizeof(langs) / sizeof(*langs))

struct newsroom {
	struct store *st; /* the working connection (borrowed or own) */
	bool own_st;
	char db_path[4096];
	char drop_dir[4096];
	int64_t horizon_ms;
	char dir[4096]; /* where rendered bulletins go */
	long keep_days, gap_ms;
	long idle_ms; /* the speech helper stops after this long idle */
	char zone[128];
	struct speech_voice voice[NLANGS];
	struct speaker *spk;    /* made on first use, in the working thread */
	bool speech_broken;     /* no helper could start: the queue waits */
	int write_rc;           /* why the last file did not go in; 0: it did */
	int64_t write_wait_ms;  /* the backoff; 0 while files go in */
	int64_t write_retry_ms; /* nothing is spoken before then */
	int64_t last_prune_ms;
	bool more;        /* the worker's next tick reads the queue whatever */
	int64_t spoke_ms; /* the helper's last render (monotonic) */
	pthread_t thread;
	bool started;
	atomic_int stop, breaking;
	int wake[2]; /* written to stop the thread at once */
};

static int64_t wall_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long setting_long(struct store *st, const char *key, long dflt, long lo,
                         long hi)
{
	char buf[32], *end;
	long v;

	if (store_setting_get(st, key, buf, sizeof(buf)) < 0)
		return dflt;
	v = strtol(buf, &end, 10);
	if (end == buf || *end || v < lo || v > hi) {
		log_warn("newsroom: setting %s '%s' is out of range; using %ld",
		         key, buf, dflt);
		return dflt;
	}
	return v;
}

/* Settings into nr; the bulletin folder is made if missing. */
static int load_settings(struct newsroom *nr, struct store *st)
{
	char key[32];

	for (size_t i = 0; i < NLANGS; i++) {
		struct speech_voice *v = &nr->voice[i];

		snprintf(key, sizeof(key), "voice_%s", langs[i]);
		if (store_setting_get(st, key, v->name, sizeof(v->name)) < 0 ||
		    !v->name[0])
			snprintf(v->name, sizeof(v->name), "%s", langs[i]);
		snprintf(key, sizeof(key), "rate_%s", langs[i]);
		v->rate_wpm = (int)setting_long(st, key, 165, 80, 450);
		snprintf(key, sizeof(key), "pitch_%s", langs[i]);
		v->pitch = (int)setting_long(st, key, 50, 0, 99);
	}
	nr->keep_days = setting_long(st, "bulletin_keep_days", 30, 0, 36500);
	nr->gap_ms = setting_long(st, "news_gap_ms", 800, 0, 10000);
	nr->idle_ms =
	    setting_long(st, "speech_idle_s", SPEAKER_IDLE_S, 1, 86400) * 1000;
	if (store_setting_get(st, "timezone", nr->zone, sizeof(nr->zone)) < 0)
		snprintf(nr->zone, sizeof(nr->zone), "UTC");
	if (store_setting_get(st, "bulletin_dir", nr->dir, sizeof(nr->dir)) <
	        0 ||
	    !nr->dir[0]) {
		const char *db = store_path(st), *slash = strrchr(db, '/');

		snprintf(nr->dir, sizeof(nr->dir), "%.*sbulletins",
		         slash ? (int)(slash - db + 1) : 0, db);
	}
	if (mkdir(nr->dir, 0755) < 0 && errno != EEXIST) {
		log_error("newsroom: cannot make the bulletin folder %s: %s",
		          nr->dir, strerror(errno));
		return -errno;
	}
	return 0;
}

int newsroom_new(struct newsroom **out, struct store *st,
                 const struct newsroom_options *opt)
{
	struct newsroom *nr = calloc(1, sizeof(*nr));
	int rc = 0;

	if (!nr)
		return -ENOMEM;
	nr->st = st;
	snprintf(nr->db_path, sizeof(nr->db_path), "%s",
	         opt->db_path ? opt->db_path : "");
	snprintf(nr->drop_dir, sizeof(nr->drop_dir), "%s",
	         opt->drop_dir ? opt->drop_dir : "");
	nr->horizon_ms =
	    opt->horizon_ms > 0 ? opt->horizon_ms : DEFAULT_HORIZON_MS;
	atomic_init(&nr->stop, 0);
	atomic_init(&nr->breaking, 0);
	if (st)
		rc = load_settings(nr, st);
	if (rc < 0) {
		free(nr);
		return rc;
	}
	*out = nr;
	return 0;
}

static int write_page(void *ctx, const unsigned char *head, size_t head_len,
                      const unsigned char *body, size_t body_len)
{
	FILE *f = ctx;

	if (fwrite(head, 1, head_len, f) == head_len &&
	    fwrite(body, 1, body_len, f) == body_len)
		return 0;
	/* write(2)'s errno: ENOSPC says more than EIO. */
	return errno > 0 ? -errno : -EIO;
}

/* frames (mono, rate) as an Ogg/Vorbis file at path, complete on disk. */
/* Writes lead frames of silence, the n frames, then gap of silence:
 * the silences fed from a small block of zeros, so the speech is never
 * copied (a bulletin's frames were held twice, the newsroom's peak). */
static int write_ogg(const char *path, size_t lead, const float *frames,
                     size_t n, size_t gap, unsigned rate, int64_t id)
{
	static const float zeros[1024];
	struct enc_config cfg = {.fmt = {rate, 1}, .quality = 0.4f};
	char tmp[4400], title[64];
	struct encoder *enc = NULL;
	FILE *f;
	int rc;

	snprintf(tmp, sizeof(tmp), "%s.part", path);
	f = fopen(tmp, "wb");
	if (!f)
		return -errno;
	rc = enc_new(&enc, &cfg, &(struct enc_sink){write_page, f});
	snprintf(title, sizeof(title), "City news %lld", (long long)id);
	if (rc == 0)
		rc = enc_begin(enc, title, "Pulse Radio");
	for (size_t i = 0; rc == 0 && i < lead; i += 1024)
		rc = enc_write(enc, zeros, lead - i < 1024 ? lead - i : 1024);
	for (size_t i = 0; rc == 0 && i < n; i += 4096)
		rc = enc_write(enc, frames + i, n - i < 4096 ? n - i : 4096);
	for (size_t i = 0; rc == 0 && i < gap; i += 1024)
		rc = enc_write(enc, zeros, gap - i < 1024 ? gap - i : 1024);
	if (rc == 0)
		rc = enc_end(enc);
	enc_free(enc);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = rc < 0 ? rc : -errno;
	if (fclose(f) != 0)
		rc = rc < 0 ? rc : -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

static const struct speech_voice *voice_for(const struct newsroom *nr,
                                            const char *lang)
{
	for (size_t i = 0; i < NLANGS; i++)
		if (strcmp(lang, langs[i]) == 0)
			return &nr->voice[i];
	return &nr->voice[0];
}

/*
 * words through the helper. One that died on them (a crash, or a kill
 * from outside such as the OOM killer's) gets one more try with a fresh
 * helper: text that kills espeak-ng every time then fails the bulletin,
 * and nothing loops. A hung helper had its generous time: no second try.
 */
static int render(struct newsroom *nr, const struct bulletin *b,
                  const char *words, float **frames, size_t *n, unsigned *rate)
{
	const struct speech_voice *v = voice_for(nr, b->lang);
	int rc = speaker_render(nr->spk, words, v, frames, n, rate);

	if (rc == -EIO) {
		log_warn("bulletin %lld: %s; speaking it once more",
		         (long long)b->id, speaker_why(nr->spk));
		rc = speaker_render(nr->spk, words, v, frames, n, rate);
	}
	nr->spoke_ms = mono_ms();
	return rc;
}

/* Speaks b into its file; marks it rendered (or failed, with why).
 * -ERR_UNSUPPORTED (logged) if no speech helper can start: b stays
 * queued. */
static int speak(struct newsroom *nr, struct bulletin *b, int64_t now)
{
	char *words = NULL, path[4300], why[400];
	float *frames = NULL;
	size_t n = 0, lead, gap, total;
	double lufs;
	unsigned rate = 0;
	int rc;

	rc = textnorm_speech(b->text, b->lang, &words);
	if (rc < 0) {
		snprintf(why, sizeof(why), "cannot be spoken: %s", err_str(rc));
	} else {
		rc = render(nr, b, words, &frames, &n, &rate);
		snprintf(why, sizeof(why), "cannot be spoken: %s",
		         speaker_why(nr->spk));
		if (rc == -ERR_UNSUPPORTED)
			nr->speech_broken = true;
	}
	free(words);
	if (nr->speech_broken) {
		log_error("newsroom: %s; bulletins stay queued until a "
		          "restart",
		          speaker_why(nr->spk));
		return -ERR_UNSUPPORTED;
	}
	if (rc < 0) {
		log_error("bulletin %lld %s", (long long)b->id, why);
		bulletin_set_failed(nr->st, b->id, why, now);
		free(frames);
		return 0;
	}
	lead = (size_t)(LEAD_MS * (int64_t)rate / 1000);
	gap = (size_t)(nr->gap_ms * rate / 1000);
	total = lead + n + gap;
	lufs = loudness_measure(frames, n, rate, 1);
	snprintf(path, sizeof(path), "%s/bulletin-%lld.ogg", nr->dir,
	         (long long)b->id);
	rc = write_ogg(path, lead, frames, n, gap, rate, b->id);
	free(frames);
	if (rc < 0) {
		/* Queued still: one line, not one per try, while it lasts. */
		if (rc != nr->write_rc)
			log_error("bulletin %lld: cannot write %s: %s; it "
			          "stays queued, tried again every few seconds",
			          (long long)b->id, path, err_str(rc));
		nr->write_rc = rc;
		nr->write_wait_ms = nr->write_wait_ms ? 2 * nr->write_wait_ms
		                                      : WRITE_RETRY_MIN_MS;
		if (nr->write_wait_ms > WRITE_RETRY_MAX_MS)
			nr->write_wait_ms = WRITE_RETRY_MAX_MS;
		nr->write_retry_ms = now + nr->write_wait_ms;
		return rc;
	}
	if (nr->write_rc)
		log_info("newsroom: %s takes files again", nr->dir);
	nr->write_rc = 0;
	nr->write_wait_ms = 0;
	rc = bulletin_set_rendered(nr->st, b->id, path,
	                           (int64_t)total * 1000 / rate, lufs, now);
	if (rc == -ERR_CONFLICT) {
		/* Withdrawn (or expired) while it was being spoken. */
		unlink(path);
		return 0;
	}
	if (rc < 0)
		return rc;
	log_info("bulletin %lld spoken (%s, %.1f s)%s", (long long)b->id,
	         b->lang, (double)total / rate,
	         b->breaking ? ": breaking news" : "");
	if (b->breaking)
		atomic_store(&nr->breaking, 1);
	return 1;
}

int newsroom_work(struct newsroom *nr, int64_t now_ms)
{
	int done = 0, rc;

	if (bulletin_expire(nr->st, now_ms) > 0)
		log_info("newsroom: expired bulletins taken off the queue");
	if (nr->keep_days && now_ms - nr->last_prune_ms > PRUNE_EVERY_MS) {
		bulletin_prune(nr->st, now_ms - nr->keep_days * 86400000LL,
		               nr->dir);
		nr->last_prune_ms = now_ms;
	}
	/* Backing off after a failed write; a clock stepped back does not
	 * hold the queue longer. */
	if (nr->write_rc && now_ms < nr->write_retry_ms &&
	    nr->write_retry_ms - now_ms <= WRITE_RETRY_MAX_MS)
		return 0;
	while (done < PER_ROUND) {
		struct bulletin b = {0};

		rc =
		    bulletin_next_to_render(nr->st, now_ms, nr->horizon_ms, &b);
		if (rc <= 0)
			return rc < 0 ? rc : done;
		if (!nr->spk && !nr->speech_broken && speaker_new(&nr->spk) < 0)
			nr->speech_broken = true;
		if (nr->speech_broken) {
			bulletin_clear(&b);
			return -ERR_UNSUPPORTED;
		}
		rc = speak(nr, &b, now_ms);
		bulletin_clear(&b);
		if (rc < 0)
			return rc;
		done += rc;
	}
	return done;
}

/* The drop folder's verdict on a file: queued, or refused with why. */
static int accept(void *ctx, const struct drop_bulletin *d, char *why,
                  size_t whylen)
{
	struct newsroom *nr = ctx;
	int64_t now = wall_ms(), id = 0;
	struct bulletin_new b = {
	    .text = d->text,
	    .text_len = d->text_len,
	    .lang = d->lang,
	    .breaking = d->breaking,
	    .by = d->by,
	};
	int rc;

	if (d->not_before[0] &&
	    tu_parse_when(d->not_before, nr->zone, now, &b.not_before_ms) < 0) {
		snprintf(why, whylen, "bad Not-Before '%s' (YYYY-MM-DD HH:MM)",
		         d->not_before);
		return -ERR_INVALID;
	}
	if (d->expires[0] &&
	    tu_parse_when(d->expires, nr->zone, now, &b.expires_ms) < 0) {
		snprintf(why, whylen, "bad Expires '%s' (YYYY-MM-DD HH:MM)",
		         d->expires);
		return -ERR_INVALID;
	}
	rc = bulletin_add(nr->st, &b, now, &id, why, whylen);
	if (rc == 0)
		nr->more = true; /* our own write: data_version stays */
	if (rc == 0)
		log_info("drop folder: %s queued as bulletin %lld%s", d->file,
		         (long long)id, d->breaking ? " (breaking)" : "");
	else
		log_warn("drop folder: %s refused: %s", d->file, why);
	return rc;
}

/* A watch on the database: a write by anyone wakes the worker, instead of
 * a poll 4 times a second (the daemon's main cost while music is passed
 * through). In WAL mode every write goes to the -wal file, which lives as
 * long as a connection is open (ours); a checkpoint writes the file
 * itself. -1 when it cannot watch (the ticks poll then). */
static int watch_db(const char *db_path)
{
	char wal[4200];
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (fd < 0)
		return -1;
	snprintf(wal, sizeof(wal), "%s-wal", db_path);
	if (inotify_add_watch(fd, db_path, IN_MODIFY) < 0 ||
	    inotify_add_watch(fd, wal, IN_MODIFY) < 0) {
		log_debug("newsroom: cannot watch %s (%s); polling", db_path,
		          strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads every event there is: 1 when the database was written, -1 when a
 * watched file went away (watch again), else 0. */
static int db_written(int fd)
{
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	bool hit = false, gone = false;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *q = buf; q < buf + n;) {
			const struct inotify_event *ev = (void *)q;

			if (ev->mask & (IN_IGNORED | IN_Q_OVERFLOW))
				gone = true;
			else
				hit = true;
			q += sizeof(*ev) + ev->len;
		}
	}
	return gone ? -1 : hit;
}

static void *run(void *arg)
{
	struct newsroom *nr = arg;
	struct dropdir *dd = NULL;
	long long seen = -1;
	int64_t next_full_ms = 0;
	int64_t full_watched = nr->horizon_ms / 4 < FULL_EVERY_WATCHED_MS
	                           ? nr->horizon_ms / 4
	                           : FULL_EVERY_WATCHED_MS;
	int rc, wfd, settle = 0;

	/* Speech comes in bursts of CPU: never at the audio thread's cost
	 * (Linux nices threads one by one). */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), NICE) < 0)
		log_debug("newsroom: cannot lower its priority: %s",
		          strerror(errno));
	rc = store_open(&nr->st, nr->db_path, 0);
	if (rc == 0) {
		nr->own_st = true;
		rc = load_settings(nr, nr->st);
	}
	if (rc == 0 && nr->drop_dir[0] && dropdir_open(&dd, nr->drop_dir) < 0)
		log_error("newsroom: the drop folder %s is not watched",
		          nr->drop_dir);
	wfd = rc == 0 ? watch_db(nr->db_path) : -1;
	while (rc == 0 && !atomic_load(&nr->stop)) {
		struct pollfd p[3] = {
		    {.fd = dd ? dropdir_fd(dd) : -1, .events = POLLIN},
		    {.fd = wfd, .events = POLLIN},
		    {.fd = nr->wake[0], .events = POLLIN}};
		int wait = dd ? dropdir_next_ms(dd, mono_ms()) : -1;
		int tick = TICK_MS;
		bool written = true;
		long long v;
		int done;

		/* Watched, a tick is only for work left over (a full round,
		 * a write to retry) and the full rounds' timer; a stop
		 * wakes it. */
		if (wfd >= 0 && !nr->more && !settle) {
			int64_t left = next_full_ms - mono_ms();
			int64_t idle =
			    nr->spoke_ms + nr->idle_ms + 1 - mono_ms();

			/* ...and the speech helper's idle stop. */
			if (nr->spk && idle < left)
				left = idle;
			tick = left < TICK_MS ? TICK_MS : (int)left;
		}
		poll(p, 3, wait < 0 || wait > tick ? tick : wait);
		if (atomic_load(&nr->stop))
			break;
		if (wfd >= 0 && p[1].revents) {
			int w = db_written(wfd);

			if (w < 0) {
				close(wfd);
				wfd = watch_db(nr->db_path);
			}
			/* The event comes with the first write to the WAL,
			 * the commit after it: look again at the next two
			 * ticks. */
			settle = 2;
		} else if (wfd >= 0 && settle) {
			settle--;
		} else if (wfd >= 0) {
			written = false;
		}
		if (dd && dropdir_poll(dd, mono_ms(), accept, nr) < 0) {
			log_error("newsroom: the drop folder %s is gone",
			          nr->drop_dir);
			dropdir_close(dd);
			dd = NULL;
		}
		/* The helper goes when it has been idle a while (it holds
		 * espeak-ng's voices: 7-11 MB); the next bulletin starts
		 * another, ready in 10-55 ms. */
		if (nr->spk && mono_ms() - nr->spoke_ms > nr->idle_ms) {
			log_info("newsroom: the speech helper was idle %ld s; "
			         "stopped until the next bulletin",
			         nr->idle_ms / 1000);
			speaker_free(nr->spk);
			nr->spk = NULL;
		}
		/* An idle station's tick is at most this one read (none
		 * when the database is watched): the queue's queries ran 4
		 * times a second before, 7 % of the daemon's CPU while
		 * streaming. */
		if (!written && !nr->more && mono_ms() < next_full_ms)
			continue;
		v = store_data_version(nr->st);
		if (v == seen && !nr->more && mono_ms() < next_full_ms)
			continue;
		seen = v;
		next_full_ms =
		    mono_ms() + (wfd >= 0 ? full_watched : FULL_EVERY_MS);
		done = newsroom_work(nr, wall_ms());
		if (done == -ERR_UNSUPPORTED)
			break; /* logged: bulletins wait for a restart */
		/* A full round, a write to retry, or the drop folder's own
		 * bulletins (its writes are this connection's): again at
		 * the next tick. */
		nr->more = done >= PER_ROUND || nr->write_rc != 0;
	}
	if (wfd >= 0)
		close(wfd);
	dropdir_close(dd);
	speaker_free(nr->spk);
	nr->spk = NULL;
	return NULL;
}

int newsroom_start(struct newsroom *nr)
{
	int rc;

	if (!nr->db_path[0]) {
		log_error("newsroom: no database to work from");
		return -ERR_USAGE;
	}
	if (pipe2(nr->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		rc = errno;
		log_error("newsroom: cannot start its thread: %s",
		          strerror(rc));
		return -rc;
	}
	rc = pthread_create(&nr->thread, NULL, run, nr);
	if (rc != 0) {
		log_error("newsroom: cannot start its thread: %s",
		          strerror(rc));
		close(nr->wake[0]);
		close(nr->wake[1]);
		return -rc;
	}
	nr->started = true;
	return 0;
}

bool newsroom_take_breaking(struct newsroom *nr)
{
	return nr && atomic_exchange(&nr->breaking, 0) != 0;
}

void newsroom_free(struct newsroom *nr)
{
	if (!nr)
		return;
	if (nr->started) {
		atomic_store(&nr->stop, 1);
		while (write(nr->wake[1], "x", 1) < 0 && errno == EINTR)
			;
		pthread_join(nr->thread, NULL);
		close(nr->wake[0]);
		close(nr->wake[1]);
	}
	speaker_free(nr->spk);
	if (nr->own_st)
		store_close(nr->st);
	free(nr);
}
