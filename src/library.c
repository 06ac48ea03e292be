/*
 * library.c - measure audio files and keep the track table up to date.
 *
 * A file is decoded once, streaming, at its own rate: libebur128 takes any
 * rate, and skipping the resampler halves the work on a Pi. The cue points
 * come from 10 ms RMS windows whose first and last appearance per 0.5 dB
 * level band is remembered, so the fade threshold, which depends on the
 * integrated loudness known only at the end, costs no second pass and no
 * buffer of the whole file.
 */
#include "library.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <ebur128.h>
#include <sqlite3.h>

#include "err.h"
#include "log.h"
#include "source.h"

#define MEASURE_CHANNELS 2
#define MEASURE_BLOCK 4096 /* frames decoded at a time */
#define WINDOW_PER_S 100   /* 10 ms level windows */
/* Level bands: 0.5 dB from BAND_MIN_DB up; sums of two full-scale
 * channels reach +3 dB. */
#define BAND_MIN_DB (-100.0)
#define BAND_PER_DB 2
#define BAND_COUNT 220
#define NO_FRAME UINT64_MAX
#define TXN_MAX_S 0.5 /* a scan holds the write lock about this long */

/* Where each level band was first and last seen. */
struct levels {
	uint64_t first[BAND_COUNT]; /* start frame of the first window */
	uint64_t last[BAND_COUNT];  /* end frame of the last window */
	size_t window;              /* frames per window */
	size_t fill;                /* frames in the current window */
	double sum;                 /* its sum of squares */
	uint64_t pos;               /* frames before the current window */
};

static void levels_init(struct levels *lv, unsigned rate)
{
	for (size_t i = 0; i < BAND_COUNT; i++) {
		lv->first[i] = NO_FRAME;
		lv->last[i] = 0;
	}
	lv->window = rate / WINDOW_PER_S ? rate / WINDOW_PER_S : 1;
	lv->fill = 0;
	lv->sum = 0.0;
	lv->pos = 0;
}

static void levels_close_window(struct levels *lv)
{
	double ms, db, band;
	size_t b;

	if (lv->fill == 0)
		return;
	ms = lv->sum / (double)(lv->fill * MEASURE_CHANNELS);
	if (ms > 0.0) {
		db = 10.0 * log10(ms);
		band = floor((db - BAND_MIN_DB) * BAND_PER_DB);
		if (band >= 0.0) {
			b = band < BAND_COUNT ? (size_t)band : BAND_COUNT - 1;
			if (lv->first[b] == NO_FRAME)
				lv->first[b] = lv->pos;
			lv->last[b] = lv->pos + lv->fill;
		}
	}
	lv->pos += lv->fill;
	lv->fill = 0;
	lv->sum = 0.0;
}

static void levels_add(struct levels *lv, const float *frames, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		float l = frames[2 * i], r = frames[2 * i + 1];

		lv->sum += (double)(l * l + r * r);
		if (++lv->fill == lv->window)
			levels_close_window(lv);
	}
}

/* The first band whose windows are at or above db. */
static size_t band_of(double db)
{
	double b = ceil((db - BAND_MIN_DB) * BAND_PER_DB);

	if (b <= 0.0)
		return 0;
	return b < BAND_COUNT ? (size_t)b : BAND_COUNT;
}

/* Start of the first window at or above db; NO_FRAME if none. */
static uint64_t levels_first(const struct levels *lv, double db)
{
	uint64_t f = NO_FRAME;

	for (size_t b = band_of(db); b < BAND_COUNT; b++)
		if (lv->first[b] < f)
			f = lv->first[b];
	return f;
}

/* End of the last window at or above db; 0 if none. */
static uint64_t levels_last(const struct levels *lv, double db)
{
	uint64_t f = 0;

	for (size_t b = band_of(db); b < BAND_COUNT; b++)
		if (lv->first[b] != NO_FRAME && lv->last[b] > f)
			f = lv->last[b];
	return f;
}

/* Opens path at its own rate (one reopen when it is not 44.1 kHz). */
static int open_native(struct source **src, const char *path)
{
	struct pcm_format fmt = {.rate = PCM_DEFAULT_RATE,
	                         .channels = MEASURE_CHANNELS};
	unsigned native;
	int rc;

	rc = source_open(src, path, &fmt);
	if (rc < 0)
		return rc;
	native = source_native_rate(*src);
	if (native == fmt.rate)
		return 0;
	source_close(*src);
	fmt.rate = native;
	return source_open(src, path, &fmt);
}

int lib_measure_file(const char *path, struct lib_measure *m)
{
	struct source *src = NULL;
	ebur128_state *r128 = NULL;
	struct levels *lv = NULL;
	float *buf = NULL;
	uint64_t frames = 0, in, out;
	double lufs, peak = 0.0, p, thr;
	long n;
	int rc;

	memset(m, 0, sizeof(*m));
	rc = open_native(&src, path);
	if (rc < 0)
		return rc;
	m->rate = source_native_rate(src);
	snprintf(m->title, sizeof(m->title), "%s", source_title(src));
	snprintf(m->artist, sizeof(m->artist), "%s", source_artist(src));
	snprintf(m->album, sizeof(m->album), "%s", source_album(src));

	/* The histogram keeps memory fixed however long the file. */
	r128 = ebur128_init(MEASURE_CHANNELS, m->rate,
	                    EBUR128_MODE_I | EBUR128_MODE_SAMPLE_PEAK |
	                        EBUR128_MODE_HISTOGRAM);
	buf = malloc(MEASURE_BLOCK * MEASURE_CHANNELS * sizeof(*buf));
	lv = malloc(sizeof(*lv));
	if (!r128 || !buf || !lv) {
		log_error("%s: out of memory", path);
		rc = -ENOMEM;
		goto fail;
	}
	levels_init(lv, m->rate);
	while ((n = source_read(src, buf, MEASURE_BLOCK)) > 0) {
		if (ebur128_add_frames_float(r128, buf, (size_t)n) !=
		    EBUR128_SUCCESS) {
			log_error("%s: out of memory", path);
			rc = -ENOMEM;
			goto fail;
		}
		levels_add(lv, buf, (size_t)n);
		frames += (uint64_t)n;
	}
	if (n < 0) {
		rc = (int)n; /* the source said why */
		goto fail;
	}
	if (frames == 0) {
		log_warn("%s: no audio in the file", path);
		rc = -ERR_EMPTY;
		goto fail;
	}
	levels_close_window(lv);

	m->duration_s = (double)frames / m->rate;
	for (unsigned c = 0; c < MEASURE_CHANNELS; c++)
		if (ebur128_sample_peak(r128, c, &p) == EBUR128_SUCCESS &&
		    p > peak)
			peak = p;
	m->peak_dbfs = peak > 0.0 ? 20.0 * log10(peak) : (double)NAN;
	if (ebur128_loudness_global(r128, &lufs) != EBUR128_SUCCESS ||
	    !isfinite(lufs))
		lufs = (double)NAN;
	m->loudness_lufs = lufs;

	in = levels_first(lv, LIB_SILENCE_DBFS);
	if (in == NO_FRAME) {
		m->silent = true;
		m->loudness_lufs = (double)NAN;
		m->cue_in_s = 0.0;
		m->cue_out_s = m->duration_s;
	} else {
		thr = LIB_SILENCE_DBFS;
		if (isfinite(lufs) && lufs - LIB_FADE_LU > thr)
			thr = lufs - LIB_FADE_LU;
		out = levels_last(lv, thr);
		if (out <= in) /* louder than its loudness nowhere after in */
			out = levels_last(lv, LIB_SILENCE_DBFS);
		m->cue_in_s = (double)in / m->rate;
		m->cue_out_s = (double)out / m->rate;
	}
	rc = 0;
fail:
	free(lv);
	free(buf);
	if (r128)
		ebur128_destroy(&r128);
	source_close(src);
	return rc;
}

/* Scanning. */

struct scan {
	sqlite3 *db;
	sqlite3_stmt *find;
	sqlite3_stmt *upsert;
	struct lib_scan_stats *stats;
	bool in_txn;
	size_t txn_files;
	struct timespec txn_start;
};

static const char find_sql[] =
    "SELECT file_size, file_mtime, missing FROM track WHERE path = ?1";

#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
static const char upsert_sql[] =
    "INSERT INTO track (path, title, artist, album, duration_ms,"
    " loudness_lufs, peak_dbfs, cue_in_ms, cue_out_ms, enabled, file_size,"
    " file_mtime, added_at, scanned_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, " NOW_SQL
    ", " NOW_SQL ")"
    " ON CONFLICT (path) DO UPDATE SET title = excluded.title,"
    " artist = excluded.artist, album = excluded.album,"
    " duration_ms = excluded.duration_ms,"
    " loudness_lufs = excluded.loudness_lufs,"
    " peak_dbfs = excluded.peak_dbfs, cue_in_ms = excluded.cue_in_ms,"
    " cue_out_ms = excluded.cue_out_ms, file_size = excluded.file_size,"
    " file_mtime = excluded.file_mtime, scanned_at = excluded.scanned_at,"
    " missing = 0";

static int db_fail(sqlite3 *db, const char *what)
{
	log_error("%s: %s: %s", sqlite3_db_filename(db, "main"), what,
	          sqlite3_errmsg(db));
	return -ERR_DB;
}

static double elapsed_s(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) +
	       (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

static int txn_begin(struct scan *sc)
{
	if (sc->in_txn)
		return 0;
	/* IMMEDIATE: wait for the write lock now (busy timeout), not fail
	 * half-way when a reader would have to upgrade. */
	if (sqlite3_exec(sc->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return db_fail(sc->db, "begin");
	sc->in_txn = true;
	sc->txn_files = 0;
	clock_gettime(CLOCK_MONOTONIC, &sc->txn_start);
	return 0;
}

static int txn_commit(struct scan *sc)
{
	if (!sc->in_txn)
		return 0;
	sc->in_txn = false;
	if (sqlite3_exec(sc->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		int rc = db_fail(sc->db, "commit");

		sqlite3_exec(sc->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	return 0;
}

static bool is_audio_name(const char *name)
{
	static const char *const exts[] = {".mp3", ".ogg", ".oga", ".wav"};
	const char *dot = strrchr(name, '.');

	if (!dot || dot == name)
		return false;
	for (size_t i = 0; i < sizeof(exts) / sizeof(*exts); i++)
		if (strcasecmp(dot, exts[i]) == 0)
			return true;
	return false;
}

/* The file name without folder and extension, for a missing title. */
static void title_from_path(char *dst, size_t len, const char *path)
{
	const char *base = strrchr(path, '/');
	const char *dot;
	size_t n;

	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	if (n >= len)
		n = len - 1;
	memcpy(dst, base, n);
	dst[n] = '\0';
}

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static long long to_ms(double s)
{
	return s > 0.0 ? llround(s * 1000.0) : 0;
}

static void bind_real(sqlite3_stmt *st, int i, double v)
{
	if (isfinite(v))
		sqlite3_bind_double(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

static int write_track(struct scan *sc, const char *path, const struct stat *st,
                       struct lib_measure *m)
{
	sqlite3_stmt *up = sc->upsert;
	long long dur = to_ms(m->duration_s), in = to_ms(m->cue_in_s);
	long long out = to_ms(m->cue_out_s);
	int rc;

	if (out > dur)
		out = dur;
	if (in > out)
		in = out;
	if (!m->title[0])
		title_from_path(m->title, sizeof(m->title), path);
	rc = txn_begin(sc);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(up, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(up, 2, m->title, -1, SQLITE_STATIC);
	sqlite3_bind_text(up, 3, m->artist, -1, SQLITE_STATIC);
	sqlite3_bind_text(up, 4, m->album, -1, SQLITE_STATIC);
	sqlite3_bind_int64(up, 5, dur);
	bind_real(up, 6, m->loudness_lufs);
	bind_real(up, 7, m->silent ? (double)NAN : m->peak_dbfs);
	sqlite3_bind_int64(up, 8, in);
	sqlite3_bind_int64(up, 9, out);
	sqlite3_bind_int(up, 10, m->silent ? 0 : 1); /* only if new */
	sqlite3_bind_int64(up, 11, (sqlite3_int64)st->st_size);
	sqlite3_bind_int64(up, 12, mtime_ns(st));
	rc = sqlite3_step(up);
	sqlite3_reset(up);
	sqlite3_clear_bindings(up);
	if (rc != SQLITE_DONE)
		return db_fail(sc->db, path);
	if (++sc->txn_files >= LIB_TXN_FILES ||
	    elapsed_s(&sc->txn_start) >= TXN_MAX_S)
		return txn_commit(sc);
	return 0;
}

static int scan_file(struct scan *sc, const char *path, const struct stat *st)
{
	struct lib_measure m;
	bool known = false;
	int rc;

	sc->stats->scanned++;
	sqlite3_bind_text(sc->find, 1, path, -1, SQLITE_STATIC);
	rc = sqlite3_step(sc->find);
	if (rc == SQLITE_ROW) {
		known = true;
		/* A file that comes back after it went missing is
		 * measured again: it may not be the same one. */
		if (sqlite3_column_int64(sc->find, 0) == st->st_size &&
		    sqlite3_column_int64(sc->find, 1) == mtime_ns(st) &&
		    sqlite3_column_int(sc->find, 2) == 0) {
			sqlite3_reset(sc->find);
			sc->stats->unchanged++;
			return 0;
		}
	}
	sqlite3_reset(sc->find);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(sc->db, path);

	/* Not in a transaction while decoding, when it can be helped. */
	if (sc->in_txn && elapsed_s(&sc->txn_start) >= TXN_MAX_S) {
		rc = txn_commit(sc);
		if (rc < 0)
			return rc;
	}
	if (lib_measure_file(path, &m) < 0) {
		sc->stats->bad++; /* the source said why */
		return 0;
	}
	if (m.silent && !known)
		log_warn("%s: silent; added disabled", path);
	rc = write_track(sc, path, st, &m);
	if (rc < 0)
		return rc;
	if (known)
		sc->stats->updated++;
	else
		sc->stats->added++;
	return 0;
}

static char *join_path(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = malloc(a + b + 2);

	if (!p)
		return NULL;
	memcpy(p, dir, a);
	if (a == 0 || dir[a - 1] != '/')
		p[a++] = '/';
	memcpy(p + a, name, b + 1);
	return p;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of dir that are not hidden, sorted; NULL on error (errno
 * set). */
static char **list_dir(const char *dir, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, **more;
	size_t n = 0, cap = 0;
	int err;

	if (!d)
		return NULL;
	while ((errno = 0, e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			more = realloc(names, cap * sizeof(*names));
			if (!more)
				goto fail;
			names = more;
		}
		names[n] = strdup(e->d_name);
		if (!names[n])
			goto fail;
		n++;
	}
	if (errno)
		goto fail;
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	*count = n;
	return names ? names : calloc(1, sizeof(*names));
fail:
	err = errno ? errno : ENOMEM;
	closedir(d);
	while (n)
		free(names[--n]);
	free(names);
	errno = err;
	return NULL;
}

static int walk(struct scan *sc, const char *dir, int depth)
{
	struct stat st;
	size_t n = 0, i;
	char **names = list_dir(dir, &n);
	int rc = 0;

	if (!names) {
		rc = -errno;
		log_warn("%s: %s", dir, strerror(errno));
		return rc;
	}
	for (i = 0; i < n && rc >= 0; i++) {
		char *path = join_path(dir, names[i]);

		if (!path) {
			rc = -ENOMEM;
			break;
		}
		/* lstat: a link is never followed, so the walk stays in
		 * dir, and one that points inside is found directly. */
		if (lstat(path, &st) < 0) {
			log_warn("%s: %s", path, strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			if (depth >= LIB_MAX_DEPTH)
				log_warn("%s: more than %d folders deep; "
				         "skipped",
				         path, LIB_MAX_DEPTH);
			else if (walk(sc, path, depth + 1) == -ERR_DB)
				rc = -ERR_DB;
		} else if (S_ISREG(st.st_mode) && is_audio_name(names[i])) {
			rc = scan_file(sc, path, &st);
		}
		free(path);
	}
	if (rc == -ENOMEM)
		log_error("%s: out of memory", dir);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* Rows under root whose file is gone (or is no longer a plain file). */
static int disable_missing(struct scan *sc, const char *root)
{
	static const char sel_sql[] =
	    "SELECT id, path FROM track WHERE missing = 0"
	    " AND substr(path, 1, length(?1)) = ?1";
	sqlite3_stmt *sel = NULL, *upd = NULL;
	char *prefix = join_path(root, "");
	struct stat st;
	int rc = 0, step;

	if (!prefix)
		return -ENOMEM;
	if (sqlite3_prepare_v2(sc->db, sel_sql, -1, &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(sc->db,
	                       "UPDATE track SET missing = 1 WHERE id = ?1", -1,
	                       &upd, NULL) != SQLITE_OK) {
		rc = db_fail(sc->db, "prepare");
		goto out;
	}
	rc = txn_begin(sc);
	if (rc < 0)
		goto out;
	/* Inside one transaction the SELECT sees a stable table, and the
	 * rows it changes leave its result (missing = 0) harmlessly. */
	sqlite3_bind_text(sel, 1, prefix, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(sel, 1);

		/* Only when it is surely gone: a folder we may not enter
		 * (EACCES) is no reason to take its tracks off air. */
		if (!path)
			continue;
		if (lstat(path, &st) == 0) {
			if (S_ISREG(st.st_mode))
				continue;
		} else if (errno != ENOENT && errno != ENOTDIR) {
			continue;
		}
		sqlite3_bind_int64(upd, 1, sqlite3_column_int64(sel, 0));
		if (sqlite3_step(upd) != SQLITE_DONE) {
			rc = db_fail(sc->db, "disable");
			goto out;
		}
		sqlite3_reset(upd);
		log_info("%s: missing; off air until it is back", path);
		sc->stats->missing++;
	}
	if (step != SQLITE_DONE)
		rc = db_fail(sc->db, "missing files");
out:
	sqlite3_finalize(upd);
	sqlite3_finalize(sel);
	free(prefix);
	return rc;
}

int lib_scan(struct sqlite3 *db, const char *dir, struct lib_scan_stats *stats)
{
	struct scan sc = {.db = db, .stats = stats};
	char *root;
	struct stat st;
	int rc;

	memset(stats, 0, sizeof(*stats));
	root = realpath(dir, NULL);
	if (!root || stat(root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		rc = root ? -ENOTDIR : -errno;
		log_error("%s: %s", dir, strerror(-rc));
		free(root);
		return rc;
	}
	if (sqlite3_prepare_v2(db, find_sql, -1, &sc.find, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, upsert_sql, -1, &sc.upsert, NULL) !=
	        SQLITE_OK) {
		rc = db_fail(db, "prepare");
		goto out;
	}
	rc = walk(&sc, root, 0); /* < 0: the database, or root unreadable */
	if (rc < 0)
		goto out;
	rc = txn_commit(&sc);
	if (rc < 0)
		goto out;
	if (stats->scanned == 0)
		log_warn("%s: no audio files; leaving its tracks enabled (is "
		         "the disk mounted?)",
		         root);
	else
		rc = disable_missing(&sc, root);
	if (rc >= 0)
		rc = txn_commit(&sc);
out:
	if (sc.in_txn)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_finalize(sc.upsert);
	sqlite3_finalize(sc.find);
	free(root);
	return rc;
}

long lib_list(struct sqlite3 *db, FILE *out)
{
	static const char sql[] =
	    "SELECT artist, title, duration_ms, loudness_lufs, cue_in_ms,"
	    " cue_out_ms, enabled, missing FROM track ORDER BY artist COLLATE "
	    "NOCASE,"
	    " title COLLATE NOCASE, path";
	sqlite3_stmt *st;
	long count = 0;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, "list");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *artist = (const char *)sqlite3_column_text(st, 0);
		const char *title = (const char *)sqlite3_column_text(st, 1);
		long long ms = sqlite3_column_int64(st, 2);
		char lufs[32];

		if (sqlite3_column_type(st, 3) == SQLITE_NULL)
			snprintf(lufs, sizeof(lufs), "silent");
		else
			snprintf(lufs, sizeof(lufs), "%.1f LUFS",
			         sqlite3_column_double(st, 3));
		fprintf(out, "%s%s%s  %lld:%04.1f  %s  cue %.2f-%.2f%s%s\n",
		        artist ? artist : "", artist && artist[0] ? " - " : "",
		        title ? title : "", ms / 60000,
		        (double)(ms % 60000) / 1000.0, lufs,
		        (double)sqlite3_column_int64(st, 4) / 1000.0,
		        (double)sqlite3_column_int64(st, 5) / 1000.0,
		        sqlite3_column_int(st, 6) ? "" : "  [disabled]",
		        sqlite3_column_int(st, 7) ? "  [missing]" : "");
		count++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, "list");
	return count;
}
