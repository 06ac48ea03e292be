/*
 * library.h - the music library: measure a file once, keep it in the
 * track table.
 *
 * Measuring decodes the whole file once, streaming (a few dozen KiB
 * whatever its length), at its own rate in stereo: a mono file is measured
 * as it plays on a stereo station, on both channels. Loudness is EBU R128
 * integrated (ITU BS.1770), peak is the sample peak. Levels for the cue
 * points are the RMS of 10 ms windows over both channels, in dBFS:
 *
 *   cue-in   the start of the first window at or above LIB_SILENCE_DBFS;
 *   cue-out  the end of the last window at or above the higher of
 *            LIB_SILENCE_DBFS and (integrated loudness - LIB_FADE_LU),
 *            so a trailing silence or the quiet tail of a fade is cut.
 *
 * A file with no window at or above LIB_SILENCE_DBFS is silent: it keeps
 * cue-in 0 and cue-out at its end, and no loudness or peak.
 */
#ifndef LIBRARY_H
#define LIBRARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "source.h"

struct sqlite3;

#define LIB_SILENCE_DBFS (-50.0) /* below this a window is silence */
#define LIB_FADE_LU 25.0         /* cue-out: this far under the loudness */
#define LIB_MAX_DEPTH 32         /* folders below DIR that a scan enters */
#define LIB_TXN_FILES 64         /* files written per transaction, at most */

struct lib_measure {
	double duration_s;    /* decoded frames / rate */
	double loudness_lufs; /* NAN when it cannot be measured (silent) */
	double peak_dbfs;     /* sample peak; NAN when every sample is 0 */
	double cue_in_s;      /* 0 <= cue_in_s <= cue_out_s <= duration_s */
	double cue_out_s;
	bool silent;
	unsigned rate; /* the rate it was measured at (the file's own) */
	char title[SOURCE_TAG_MAX]; /* the tags; "" if none */
	char artist[SOURCE_TAG_MAX];
	char album[SOURCE_TAG_MAX];
};

/*
 * Decodes path and fills *m. 0; or a negative code after one log line
 * naming path: what source_open() and source_read() return (-ENOENT,
 * -ERR_FORMAT, ...; a file failing part-way is refused too), -ERR_EMPTY
 * when nothing decodes, -ENOMEM.
 */
int lib_measure_file(const char *path, struct lib_measure *m);

struct lib_scan_stats {
	size_t scanned;   /* audio files found (by extension) */
	size_t added;     /* new rows */
	size_t updated;   /* rows whose file changed, measured again */
	size_t unchanged; /* same size and mtime: not decoded */
	size_t bad;       /* could not be measured (one log line each) */
	size_t missing;   /* rows under dir whose file is gone: missing = 1 */
};

/*
 * Walks dir (recursively, at most LIB_MAX_DEPTH folders deep) and brings
 * the track table in db up to date. Files: .mp3 .ogg .oga .wav, any case;
 * hidden files and folders (".name") and symbolic links are skipped, so
 * the walk never leaves dir. Rows are keyed by the real absolute path; a
 * file whose size and mtime (file_mtime: nanoseconds since the epoch)
 * match its row is not decoded again. Changed rows keep their id,
 * added_at, enabled and last_played. A new silent file is added with
 * enabled = 0 (it would be dead air). Rows under dir whose file is gone
 * get enabled = 0, never deleted: playlists and the as-run log refer to
 * them; but when the walk finds no audio file at all, nothing is missing
 * (an unmounted disk must not empty the library).
 *
 * Writes in short transactions (at most LIB_TXN_FILES files or about half
 * a second each), so a crash loses little and other writers wait little.
 * 0 when the scan ran, bad files included, with *stats filled; -errno
 * when dir cannot be read, -ERR_DB when the database fails (logged once).
 */
int lib_scan(struct sqlite3 *db, const char *dir, struct lib_scan_stats *stats);

/*
 * Prints every track in db to out, one line each, by artist and title:
 * "ARTIST - TITLE  M:SS.s  -14.2 LUFS  cue 0.00-183.20  [disabled]".
 * The count of tracks, or -ERR_DB.
 */
long lib_list(struct sqlite3 *db, FILE *out);

#endif
