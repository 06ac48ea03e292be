/*
 * newsroom.h - bulletins from the queue to audio files, ahead of air time.
 *
 * Speaks each queued bulletin (textnorm, then espeak-ng in the helper
 * process through speaker.h) into an Ogg file in the bulletin folder and marks
 * it rendered, so the audio path only ever opens a finished file. It also
 * sweeps expired bulletins, deletes old files, and takes in the drop folder.
 *
 * The one thing to know: one thread does all the work, either
 * newsroom_start()'s thread (on air) or the caller of newsroom_work() (an
 * offline render), never both: a speaker is used from one thread, and its
 * helper dies with the thread that started it.
 */
#ifndef NEWSROOM_H
#define NEWSROOM_H

#include <stdbool.h>
#include <stdint.h>

struct newsroom;

struct newsroom_options {
	const char *db_path;  /* the thread opens its own connection */
	const char *drop_dir; /* a drop folder to watch, or NULL */
	/* Speak bulletins due this far ahead (not-before); 0: 10 minutes. */
	int64_t horizon_ms;
};

/*
 * Reads the settings (voices, bulletin_dir, bulletin_keep_days, gap) from
 * st, which is used by newsroom_work() and must outlive it (pass NULL when
 * only the thread will work: it opens opt->db_path). Creates the bulletin
 * folder. 0 with *out, or negative (logged).
 */
struct store;
int newsroom_new(struct newsroom **out, struct store *st,
                 const struct newsroom_options *opt);

/*
 * One round, in the calling thread: expiry, then speaks every bulletin
 * due by now_ms + horizon (breaking ones first). Returns how many were
 * rendered, or negative if the speech engine cannot start or a file
 * cannot be written. A bulletin that cannot be spoken is marked failed
 * with the reason; one whose file cannot be written (a full disk) stays
 * queued, and no file is tried again for 1 s of now_ms, doubled after
 * each failure up to 8 s (one log line until a file goes in again).
 */
int newsroom_work(struct newsroom *nr, int64_t now_ms);

/* Starts the worker thread: the drop folder, then newsroom_work() when
 * the database file changes (inotify on it and its -wal; every 250 ms
 * where it cannot be watched), and every 60 s (a quarter of the horizon
 * if shorter; every 2 s unwatched) for what time alone changes. 0 or
 * negative (logged). */
int newsroom_start(struct newsroom *nr);

/* Whether a breaking bulletin was rendered since the last call (cleared
 * by the call). Safe from any thread: an atomic flag. */
bool newsroom_take_breaking(struct newsroom *nr);

/* Stops the thread (if started) and frees; accepts NULL. */
void newsroom_free(struct newsroom *nr);

#endif
