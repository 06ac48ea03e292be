/*
 * test_library.c - measuring files (loudness, peak, cue points, tags) and
 * scanning a folder into the track table, on real files made here: WAVs
 * written sample by sample, MP3 from lame, Ogg from oggenc.
 *
 * Expected loudness, from ITU BS.1770: a full-scale 997 Hz sine in one
 * channel reads -3.01 LUFS (the K-filter adds ~+0.69 dB at 1 kHz, which the
 * -0.691 offset cancels). Amplitude 0.5 is -6.02 dB of that, and the same
 * tone on both channels doubles the power: -3.01 - 6.02 + 3.01 = -6.02 LUFS.
 */
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "library.h"
#include "log.h"
#include "store.h"
#include "testutil.h"

/* A tone of amplitude amp (0.5 = -6.02 dBFS), between start_s and end_s,
 * fading linearly in dB by fade_db_per_s from fade_s on. */
struct tone {
	unsigned rate, channels;
	double seconds, start_s, end_s, freq_hz, amp;
	double fade_s, fade_db_per_s;
	const char *title, *artist, *album; /* LIST/INFO when set */
};

static void put16(FILE *f, unsigned v)
{
	fputc((int)(v & 0xff), f);
	fputc((int)((v >> 8) & 0xff), f);
}

static void put32(FILE *f, uint32_t v)
{
	put16(f, v & 0xffff);
	put16(f, v >> 16);
}

static size_t info_len(const char *s)
{
	size_t n = strlen(s) + 1;

	return n + (n & 1);
}

static void put_info(FILE *f, const char *id, const char *s)
{
	size_t n = info_len(s);

	fwrite(id, 1, 4, f);
	put32(f, (uint32_t)n);
	fwrite(s, 1, strlen(s), f);
	for (size_t i = strlen(s); i < n; i++)
		fputc(0, f);
}

/* Writes a 16-bit WAV of t; the frame count. */
static size_t write_tone(const char *path, const struct tone *t)
{
	size_t frames = (size_t)llround(t->seconds * t->rate);
	uint32_t data = (uint32_t)(frames * t->channels * 2), list = 0;
	FILE *f = fopen(path, "wb");

	if (!f)
		return 0;
	if (t->title)
		list = (uint32_t)(4 + 24 + info_len(t->title) +
		                  info_len(t->artist) + info_len(t->album));
	fwrite("RIFF", 1, 4, f);
	put32(f, 36 + data + (list ? 8 + list : 0));
	fwrite("WAVEfmt ", 1, 8, f);
	put32(f, 16);
	put16(f, 1);
	put16(f, t->channels);
	put32(f, t->rate);
	put32(f, t->rate * t->channels * 2);
	put16(f, t->channels * 2);
	put16(f, 16);
	if (list) {
		fwrite("LIST", 1, 4, f);
		put32(f, list);
		fwrite("INFO", 1, 4, f);
		put_info(f, "INAM", t->title);
		put_info(f, "IART", t->artist);
		put_info(f, "IPRD", t->album);
	}
	fwrite("data", 1, 4, f);
	put32(f, data);
	for (size_t i = 0; i < frames; i++) {
		double s = (double)i / t->rate, v = 0.0;

		if (s >= t->start_s && s < t->end_s) {
			double gain = t->amp;

			if (t->fade_db_per_s > 0.0 && s > t->fade_s)
				gain *= pow(10.0, -t->fade_db_per_s *
				                      (s - t->fade_s) / 20.0);
			v = gain * sin(2.0 * M_PI * t->freq_hz * s);
		}
		for (unsigned c = 0; c < t->channels; c++)
			put16(f,
			      (unsigned)(uint16_t)(int16_t)lrint(v * 32767.0));
	}
	return fclose(f) == 0 ? frames : 0;
}

static struct tone tone(double seconds)
{
	return (struct tone){.rate = 44100,
	                     .channels = 2,
	                     .seconds = seconds,
	                     .start_s = 0.0,
	                     .end_s = seconds,
	                     .freq_hz = 1000.0,
	                     .amp = 0.5};
}

static bool near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

static void test_sine_loudness(void)
{
	const char *path = test_path("sine.wav");
	struct lib_measure m;

	CHECK(test_write_sine_wav(path, 44100, 2, 10.0, 1000.0) == 0);
	CHECK(lib_measure_file(path, &m) == 0);
	CHECKF(near(m.loudness_lufs, -6.02, 0.5), "%.2f LUFS", m.loudness_lufs);
	CHECKF(near(m.peak_dbfs, -6.02, 0.1), "%.2f dBFS", m.peak_dbfs);
	CHECKF(m.duration_s == 10.0, "%.6f s", m.duration_s);
	CHECK(m.rate == 44100);
	CHECK(!m.silent);
	CHECKF(near(m.cue_in_s, 0.0, 0.011), "in %.3f", m.cue_in_s);
	CHECKF(near(m.cue_out_s, 10.0, 0.011), "out %.3f", m.cue_out_s);
	CHECK(m.title[0] == '\0' && m.artist[0] == '\0' && m.album[0] == '\0');

	/* Mono at 48 kHz: measured at its own rate, as it plays on both
	 * channels, so the same loudness; duration exact. */
	path = test_path("mono48.wav");
	CHECK(test_write_sine_wav(path, 48000, 1, 7.5, 1000.0) == 0);
	CHECK(lib_measure_file(path, &m) == 0);
	CHECK(m.rate == 48000);
	CHECKF(m.duration_s == 7.5, "%.6f s", m.duration_s);
	CHECKF(near(m.loudness_lufs, -6.02, 0.5), "%.2f LUFS", m.loudness_lufs);

	/* 20 dB down is 20 LU down. */
	struct tone t = tone(10.0);
	t.amp = 0.05;
	path = test_path("quiet.wav");
	CHECK(write_tone(path, &t) > 0);
	CHECK(lib_measure_file(path, &m) == 0);
	CHECKF(near(m.loudness_lufs, -26.02, 0.5), "%.2f LUFS",
	       m.loudness_lufs);
}

static void test_cue_silence(void)
{
	const char *path = test_path("padded.wav");
	struct tone t = tone(10.0);
	struct lib_measure m;

	t.start_s = 2.0;
	t.end_s = 7.0; /* 3 s of silence after it */
	CHECK(write_tone(path, &t) > 0);
	CHECK(lib_measure_file(path, &m) == 0);
	CHECKF(near(m.cue_in_s, 2.0, 0.05), "in %.3f", m.cue_in_s);
	CHECKF(near(m.cue_out_s, 7.0, 0.05), "out %.3f", m.cue_out_s);
	CHECKF(m.duration_s == 10.0, "%.6f s", m.duration_s);
	/* Gating leaves the silence out of the integrated loudness. */
	CHECKF(near(m.loudness_lufs, -6.02, 0.5), "%.2f LUFS", m.loudness_lufs);
}

static void test_cue_fade(void)
{
	const char *path = test_path("fade.wav");
	struct tone t = tone(12.0);
	struct lib_measure m;
	double thr, want;

	/* 4 s steady, then down 10 dB a second to -60 dB, then silence. */
	t.end_s = 10.0;
	t.fade_s = 4.0;
	t.fade_db_per_s = 10.0;
	CHECK(write_tone(path, &t) > 0);
	CHECK(lib_measure_file(path, &m) == 0);
	CHECK(!m.silent);
	thr = m.loudness_lufs - LIB_FADE_LU;
	CHECKF(thr > LIB_SILENCE_DBFS, "threshold %.1f", thr);
	/* The RMS of the tone is -9.03 dBFS before the fade. */
	want = 4.0 + (-9.03 - thr) / 10.0;
	CHECKF(near(m.cue_out_s, want, 0.1), "out %.3f, want %.3f", m.cue_out_s,
	       want);
	CHECKF(m.cue_out_s < 7.0, "out %.3f: the fade's tail is cut",
	       m.cue_out_s);
	CHECKF(near(m.cue_in_s, 0.0, 0.011), "in %.3f", m.cue_in_s);
}

static void test_silent(void)
{
	const char *path = test_path("silent.wav");
	struct tone t = tone(3.0);
	struct lib_measure m;

	t.amp = 0.0;
	CHECK(write_tone(path, &t) > 0);
	CHECK(lib_measure_file(path, &m) == 0);
	CHECK(m.silent);
	CHECK(isnan(m.loudness_lufs));
	CHECK(isnan(m.peak_dbfs));
	CHECK(m.cue_in_s == 0.0 && m.cue_out_s == 3.0);
	CHECK(m.duration_s == 3.0);

	/* Hiss at -60 dBFS is silence too (below LIB_SILENCE_DBFS). */
	t.amp = 0.0014;
	CHECK(write_tone(path, &t) > 0);
	CHECK(lib_measure_file(path, &m) == 0);
	CHECK(m.silent);
	CHECK(isnan(m.loudness_lufs));
}

static void test_tags_and_codecs(void)
{
	const char *wav = test_path("tagged.wav");
	const char *mp3 = test_path("tagged.mp3");
	const char *ogg = test_path("tagged.ogg");
	struct tone t = tone(6.0);
	struct lib_measure m;

	t.title = "Wav Title";
	t.artist = "Wav Artist";
	t.album = "Wav Album";
	CHECK(write_tone(wav, &t) > 0);
	CHECK(lib_measure_file(wav, &m) == 0);
	CHECK(strcmp(m.title, "Wav Title") == 0);
	CHECK(strcmp(m.artist, "Wav Artist") == 0);
	CHECK(strcmp(m.album, "Wav Album") == 0);

	if (test_have("lame")) {
		CHECK(test_run("lame --quiet -b 192 --tt 'Mp3 Title' "
		               "--ta 'Mp3 Artist' --tl 'Mp3 Album' '%s' '%s'",
		               wav, mp3) == 0);
		CHECK(lib_measure_file(mp3, &m) == 0);
		CHECK(strcmp(m.title, "Mp3 Title") == 0);
		CHECK(strcmp(m.artist, "Mp3 Artist") == 0);
		CHECK(strcmp(m.album, "Mp3 Album") == 0);
		CHECKF(near(m.loudness_lufs, -6.02, 0.5), "%.2f LUFS",
		       m.loudness_lufs);
		/* Gapless: lame's delay and padding are taken off. */
		CHECKF(near(m.duration_s, 6.0, 0.03), "%.4f s", m.duration_s);
	} else {
		fprintf(stderr, "lame not installed: MP3 not tested\n");
	}
	if (test_have("oggenc")) {
		CHECK(test_run("oggenc --quiet -t 'Ogg Title' -a 'Ogg Artist' "
		               "-l 'Ogg Album' -o '%s' '%s'",
		               ogg, wav) == 0);
		CHECK(lib_measure_file(ogg, &m) == 0);
		CHECK(strcmp(m.title, "Ogg Title") == 0);
		CHECK(strcmp(m.artist, "Ogg Artist") == 0);
		CHECK(strcmp(m.album, "Ogg Album") == 0);
		CHECKF(near(m.loudness_lufs, -6.02, 0.5), "%.2f LUFS",
		       m.loudness_lufs);
		CHECKF(m.duration_s == 6.0, "%.6f s", m.duration_s);
	} else {
		fprintf(stderr, "oggenc not installed: Ogg not tested\n");
	}
}

/* A bad file is refused with one log line naming it. */
static void check_bad(const char *name, const void *data, size_t len)
{
	const char *path = test_path(name);
	struct lib_measure m;
	const char *log;
	int rc;

	CHECK(test_write_file(path, data, len) == 0);
	test_capture_begin();
	rc = lib_measure_file(path, &m);
	log = test_capture_end();
	CHECKF(rc < 0, "%s: %d", name, rc);
	CHECKF(test_count_lines(log) == 1, "%s: %d lines", name,
	       test_count_lines(log));
	CHECKF(strstr(log, path) != NULL, "%s: log names it", name);
}

static void test_bad_files(void)
{
	static const unsigned char png[] = {0x89, 'P',  'N', 'G', '\r', '\n',
	                                    0x1a, '\n', 0,   0,   0,    13,
	                                    'I',  'H',  'D', 'R'};
	static const char text[] = "This is not audio, it is a shopping list.";
	struct lib_measure m;
	unsigned char head[400];
	FILE *f;
	size_t n;

	check_bad("zero.mp3", "", 0);
	check_bad("png.mp3", png, sizeof(png));
	check_bad("text.ogg", text, sizeof(text) - 1);
	/* An MP3 cut inside its first frame: nothing decodes. */
	if (test_have("lame") &&
	    test_run("lame --quiet -b 128 '%s' '%s'", test_path("sine.wav"),
	             test_path("full.mp3")) == 0) {
		f = fopen(test_path("full.mp3"), "rb");
		n = f ? fread(head, 1, sizeof(head), f) : 0;
		if (f)
			fclose(f);
		check_bad("trunc.mp3", head, n > 300 ? 300 : n);
	}
	test_capture_begin();
	CHECK(lib_measure_file(test_path("missing.wav"), &m) == -ENOENT);
	CHECK(test_count_lines(test_capture_end()) == 1);
}

/* Scanning. */

static long long q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
		return -2;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void q_text(sqlite3 *db, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *st;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(buf, len, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

static bool stats_are(const struct lib_scan_stats *s, size_t scanned,
                      size_t added, size_t updated, size_t unchanged,
                      size_t bad, size_t missing)
{
	bool ok = s->scanned == scanned && s->added == added &&
	          s->updated == updated && s->unchanged == unchanged &&
	          s->bad == bad && s->missing == missing;

	if (!ok)
		fprintf(stderr,
		        "stats: %zu scanned, %zu added, %zu updated, %zu "
		        "unchanged, %zu bad, %zu missing\n",
		        s->scanned, s->added, s->updated, s->unchanged, s->bad,
		        s->missing);
	return ok;
}

static void test_scan(void)
{
	char lib[512], real[4096], sql[5000], buf[256], deep[1024];
	struct lib_scan_stats s;
	struct store *st = NULL;
	struct tone t = tone(4.0);
	const char *log;
	sqlite3 *db;

	snprintf(lib, sizeof(lib), "%s", test_path("lib"));
	CHECK(test_run("mkdir -p '%s/sub/.hid' '%s/empty'", lib, lib) == 0);
	t.start_s = 1.0;
	t.title = "A Title";
	t.artist = "An Artist";
	t.album = "An Album";
	CHECK(write_tone(test_path("lib/a.WAV"), &t) > 0);
	t = tone(3.0);
	CHECK(write_tone(test_path("lib/sub/b.wav"), &t) > 0);
	CHECK(write_tone(test_path("lib/.hidden.wav"), &t) > 0);
	CHECK(write_tone(test_path("lib/sub/.hid/c.wav"), &t) > 0);
	CHECK(write_tone(test_path("outside.wav"), &t) > 0);
	CHECK(symlink(test_path("outside.wav"), test_path("lib/link.wav")) ==
	      0);
	CHECK(symlink(test_tmpdir(), test_path("lib/sub/loop")) == 0);
	CHECK(test_write_file(test_path("lib/notes.txt"), "hi", 2) == 0);
	CHECK(test_write_file(test_path("lib/bad.mp3"), "", 0) == 0);
	t.amp = 0.0;
	CHECK(write_tone(test_path("lib/sub/quiet.ogg.wav"), &t) > 0);
	/* One file deeper than a scan goes. */
	snprintf(deep, sizeof(deep), "%s", lib);
	for (int i = 0; i <= LIB_MAX_DEPTH; i++)
		strncat(deep, "/d", sizeof(deep) - strlen(deep) - 1);
	CHECK(test_run("mkdir -p '%s'", deep) == 0);
	strncat(deep, "/deep.wav", sizeof(deep) - strlen(deep) - 1);
	CHECK(write_tone(deep, &t) > 0);
	CHECK(realpath(lib, real) != NULL);

	CHECK(store_open(&st, test_path("lib.db"), STORE_CREATE) == 0);
	if (!st)
		return;
	db = store_db(st);

	test_capture_begin();
	CHECK(lib_scan(db, lib, &s) == 0);
	log = test_capture_end();
	/* a.WAV, sub/b.wav, sub/quiet.ogg.wav (silent), bad.mp3 */
	CHECK(stats_are(&s, 4, 3, 0, 0, 1, 0));
	CHECK(strstr(log, "bad.mp3") != NULL);
	CHECK(strstr(log, "quiet.ogg.wav: silent") != NULL);
	CHECK(strstr(log, "folders deep") != NULL);
	CHECK(strstr(log, "outside") == NULL && strstr(log, "/.hid") == NULL);
	CHECK(test_count_lines(log) == 3);
	CHECK(sqlite3_get_autocommit(db)); /* no transaction left open */
	CHECK(q_int(db, "SELECT count(*) FROM track") == 3);
	CHECK(q_int(db, "SELECT count(*) FROM track WHERE path LIKE "
	                "'%hid%' OR path LIKE '%outside%' OR path LIKE "
	                "'%link%' OR path LIKE '%deep%'") == 0);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM track WHERE path = '%s/a.WAV' AND "
	         "title = 'A Title' AND artist = 'An Artist' AND album = 'An "
	         "Album' AND duration_ms = 4000 AND cue_in_ms BETWEEN 950 AND "
	         "1050 AND cue_out_ms = 4000 AND enabled = 1 AND "
	         "loudness_lufs BETWEEN -6.6 AND -5.5 AND peak_dbfs BETWEEN "
	         "-6.2 AND -5.9 AND last_played IS NULL",
	         real);
	CHECK(q_int(db, sql) == 1);
	/* Title from the file name; no artist. */
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM track WHERE path = '%s/sub/b.wav' AND "
	         "title = 'b' AND artist = '' AND album = ''",
	         real);
	CHECK(q_int(db, sql) == 1);
	/* The silent file is there, off air. */
	CHECK(q_int(db,
	            "SELECT count(*) FROM track WHERE title = "
	            "'quiet.ogg' AND enabled = 0 AND loudness_lufs IS "
	            "NULL AND peak_dbfs IS NULL AND cue_out_ms = 3000") == 1);
	q_text(db, "SELECT added_at FROM track LIMIT 1", buf, sizeof(buf));
	CHECKF(strlen(buf) == 24 && buf[10] == 'T' && buf[23] == 'Z', "'%s'",
	       buf);

	/* Again: nothing to do. */
	test_capture_begin();
	CHECK(lib_scan(db, lib, &s) == 0);
	test_capture_end();
	CHECK(stats_are(&s, 4, 0, 0, 3, 1, 0));

	/* a.WAV changes: measured again, keeping what is not the file's. */
	snprintf(sql, sizeof(sql),
	         "UPDATE track SET enabled = 0, last_played = "
	         "'2026-01-01T00:00:00.000Z', added_at = "
	         "'2020-01-01T00:00:00.000Z' WHERE path = '%s/a.WAV'",
	         real);
	CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	t = tone(5.0);
	t.amp = 0.05;
	CHECK(write_tone(test_path("lib/a.WAV"), &t) > 0);
	snprintf(sql, sizeof(sql),
	         "SELECT id FROM track WHERE path = '%s/a.WAV'", real);
	long long id = q_int(db, sql);
	test_capture_begin();
	CHECK(lib_scan(db, lib, &s) == 0);
	test_capture_end();
	CHECK(stats_are(&s, 4, 0, 1, 2, 1, 0));
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM track WHERE id = %lld AND path = "
	         "'%s/a.WAV' AND title = 'a' AND duration_ms = 5000 AND "
	         "loudness_lufs BETWEEN -26.6 AND -25.5 AND enabled = 0 AND "
	         "last_played = '2026-01-01T00:00:00.000Z' AND added_at = "
	         "'2020-01-01T00:00:00.000Z' AND scanned_at > added_at",
	         id, real);
	CHECK(q_int(db, sql) == 1);

	/* b.wav goes: its row stays, marked missing. */
	CHECK(unlink(test_path("lib/sub/b.wav")) == 0);
	test_capture_begin();
	CHECK(lib_scan(db, lib, &s) == 0);
	log = test_capture_end();
	CHECK(stats_are(&s, 3, 0, 0, 2, 1, 1));
	CHECK(strstr(log, "b.wav: missing") != NULL);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM track WHERE path = '%s/sub/b.wav' AND "
	         "missing = 1",
	         real);
	CHECK(q_int(db, sql) == 1);

	/* A folder with no audio disables nothing (an unmounted disk). */
	CHECK(sqlite3_exec(db, "UPDATE track SET missing = 0", NULL, NULL,
	                   NULL) == SQLITE_OK);
	CHECK(test_run("mv '%s' '%s.away' && mkdir '%s'", lib, lib, lib) == 0);
	test_capture_begin();
	CHECK(lib_scan(db, lib, &s) == 0);
	log = test_capture_end();
	CHECK(stats_are(&s, 0, 0, 0, 0, 0, 0));
	CHECK(strstr(log, "no audio files") != NULL);
	CHECK(q_int(db, "SELECT count(*) FROM track WHERE missing = 0") == 3);

	/* No such folder: an error, one line, nothing changed. */
	test_capture_begin();
	CHECK(lib_scan(db, test_path("nope"), &s) == -ENOENT);
	CHECK(test_count_lines(test_capture_end()) == 1);

	/* list prints one line per track. */
	FILE *f = fopen(test_path("list.txt"), "w+");
	int lines = 0, silent = 0;
	CHECK(f != NULL);
	if (f) {
		CHECK(lib_list(db, f) == 3);
		rewind(f);
		while (fgets(buf, sizeof(buf), f)) {
			lines++;
			if (strstr(buf, "quiet.ogg") && strstr(buf, "silent"))
				silent++;
		}
		CHECK(lines == 3 && silent == 1);
		fclose(f);
	}
	store_close(st);
}

static int count_commit(void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/* Many files: several short transactions, not one long one. */
static void test_scan_batches(void)
{
	struct tone t = tone(0.2);
	struct lib_scan_stats s;
	struct store *st = NULL;
	char name[64];
	int commits = 0;
	size_t files = LIB_TXN_FILES * 2 + 5;

	CHECK(test_run("mkdir -p '%s'", test_path("many")) == 0);
	for (size_t i = 0; i < files; i++) {
		snprintf(name, sizeof(name), "many/t%03zu.wav", i);
		CHECK(write_tone(test_path(name), &t) > 0);
	}
	CHECK(store_open(&st, test_path("many.db"), STORE_CREATE) == 0);
	if (!st)
		return;
	sqlite3_commit_hook(store_db(st), count_commit, &commits);
	CHECK(lib_scan(store_db(st), test_path("many"), &s) == 0);
	CHECK(stats_are(&s, files, files, 0, 0, 0, 0));
	CHECKF(commits >= 3, "%d commits", commits);
	CHECK(q_int(store_db(st), "SELECT count(*) FROM track") ==
	      (long long)files);
	sqlite3_commit_hook(store_db(st), NULL, NULL);
	store_close(st);
}

/* How long a 4-minute stereo file takes (the figure, not a check). */
static void bench(void)
{
	const char *path = test_path("long.wav");
	struct timespec a, b;
	struct lib_measure m;

	if (!getenv("PULSE_BENCH"))
		return;
	CHECK(test_write_sine_wav(path, 44100, 2, 240.0, 1000.0) == 0);
	if (test_have("lame"))
		CHECK(test_run("lame --quiet -b 192 '%s' '%s'", path,
		               test_path("long.mp3")) == 0);
	for (int i = 0; i < 2; i++) {
		const char *p = i ? test_path("long.mp3") : path;

		clock_gettime(CLOCK_MONOTONIC, &a);
		CHECK(lib_measure_file(p, &m) == 0);
		clock_gettime(CLOCK_MONOTONIC, &b);
		fprintf(stderr, "bench: %s: %.3f s\n", p,
		        (double)(b.tv_sec - a.tv_sec) +
		            (double)(b.tv_nsec - a.tv_nsec) / 1e9);
	}
}

int main(void)
{
	test_tmpdir();
	test_sine_loudness();
	test_cue_silence();
	test_cue_fade();
	test_silent();
	test_tags_and_codecs();
	test_bad_files();
	test_scan();
	test_scan_batches();
	bench();
	return test_done();
}
