/*
 * sched.h - what airs next: the slot in force, rotation, jingles, fallback.
 *
 * The one scheduler behind both `plan` and the air (or an offline render):
 * given the moment an item will start, it answers with the item. It is
 * deterministic for a given database and history (ties broken by track
 * id), so a plan and a render of the same period list the same items in
 * the same order. It remembers what it picked (rotation history), seeded
 * from the as-run log at sched_new().
 */
#ifndef SCHED_H
#define SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct sched;

enum sched_kind {
	SCHED_MUSIC,    /* from the slot's (or override's) playlist */
	SCHED_JINGLE,   /* from the slot's jingle playlist, at its cadence or
	                   to fill the last seconds before a hard event */
	SCHED_ID,       /* the top-of-hour station ID */
	SCHED_NEWS,     /* the news block at a news minute, length 0: the
	                   caller fills it with the bulletins due; path is
	                   the music bed under it ("" for dry news) */
	SCHED_FALLBACK, /* nothing scheduled, or the slot had nothing */
};

enum sched_start {
	SCHED_START_HARD,      /* must start on time: what is before it ends */
	SCHED_START_SOFT,      /* waits for the item before it to end */
	SCHED_START_NOT_BEFORE /* soft, but never earlier than its time */
};

#define SCHED_PATH_MAX 4096
#define SCHED_TAG_MAX 256

struct sched_item {
	int64_t track_id;
	char path[SCHED_PATH_MAX];
	char title[SCHED_TAG_MAX];
	char artist[SCHED_TAG_MAX];
	char album[SCHED_TAG_MAX];
	enum sched_kind kind;
	/* The slot or override in force at start_ms ("" when none): a
	 * SCHED_FALLBACK item inside a slot whose playlist had nothing
	 * playable keeps the slot's name. */
	char slot[SCHED_TAG_MAX];
	double loudness_lufs; /* from the scan; NAN when unmeasured */
	int64_t cue_in_ms;    /* where to start in the file */
	int64_t start_ms;     /* UTC ms it starts on the stream */
	/* How long it plays from cue_in_ms: to its cue-out, or less when a
	 * hard event comes first (then cut is set and the player fades it
	 * out to end exactly at start_ms + length_ms). */
	int64_t length_ms;
	bool cut;
	/* Its end is planned against an event in view (cut, or the gap it
	 * leaves is one a jingle fills or none): started early by a
	 * crossfade, it would leave a hole before the event. */
	bool pinned;
	/* The sound of the slot in force (or the station's): music crosses
	 * into music over xfade_ms along curve (enum mixer_curve); a
	 * cadence jingle with over set plays over the next song's start,
	 * which is lowered by duck_db. */
	int64_t xfade_ms;
	int curve;
	double duck_db;
	bool over;
};

/*
 * Reads the settings (time zone, separations, fallback playlist), the
 * grid and overrides, and seeds the rotation history from the as-run log.
 * 0 with *out set, or a negative code (logged once).
 */
int sched_new(struct sched **out, struct store *st);

/*
 * The item that starts at at_ms (UTC milliseconds), remembered in the
 * history as played. 0 with *item filled; -ERR_EMPTY (logged once per
 * call) when nothing at all is playable, not even the fallback. An item
 * never runs past a hard start (nor more than its tolerance past a
 * not-before one): one that fits is preferred, else it comes back cut.
 * No SQL and no allocation: O(size of the playlist in force).
 */
int sched_next(struct sched *s, int64_t at_ms, struct sched_item *item);

/* Re-reads settings, tracks, playlists, grid and overrides (an
 * operator's edit), keeping the history (by track id, title and artist).
 * 0, or a negative code (logged once) with the old schedule kept. */
int sched_reload(struct sched *s);

/*
 * Splits an artist credit into its artists, at "feat.", "ft." (as words),
 * "&", ",", "/" and " x " (any case), each trimmed of spaces and brackets;
 * empty parts and repeats (case-insensitive) are dropped. "A feat. B & C"
 * gives {A, B, C}. Writes at most max names; returns how many.
 */
size_t sched_split_credit(const char *credit, char (*names)[SCHED_TAG_MAX],
                          size_t max);

/* The track could not be played (its file is gone or broken): it is not
 * picked again until the next sched_reload(), so a playlist whose files
 * all fail falls back instead of retrying them. */
void sched_broken(struct sched *s, int64_t track_id);

/*
 * News minutes (a slot's news_minutes) are events only while pending
 * says bulletins are due at that time (> 0): then the item before fits or
 * fades as the slot's news_mode says, and the first pick at or after the
 * news minute (at most 15 min late) is a SCHED_NEWS item. Without a
 * pending function (the default), news minutes are ignored.
 */
void sched_set_news(struct sched *s, int (*pending)(void *ctx, int64_t at_ms),
                    void *ctx);

/* Dead air twice in a row: until until_ms, every music pick comes from
 * the fallback playlist (if there is one). */
void sched_use_fallback(struct sched *s, int64_t until_ms);

/* The wall clock stepped by delta_ms and the times given to
 * sched_next() with it: what the scheduler remembers in those times (when
 * each track, title and artist last started, the ID and the news minute
 * handled, the fallback's end) moves by the same, so separations and the
 * rotation order stay as they were in real time. A step back would
 * otherwise leave every track started "in the future", and the least
 * recently started one would be the one just played, again and again. */
void sched_clock_step(struct sched *s, int64_t delta_ms);

/* "music", "jingle", "id", "news" or "fallback". */
const char *sched_kind_name(enum sched_kind kind);

/*
 * What would air after the item after (the last sched_next() gave), as
 * far as is known now: the next n items (at most), picked as sched_next()
 * would on a copy of the history, so s itself is not changed. Start times
 * allow for crossfades; a news block counts as a minute. The number of
 * items (> 0), or a negative code (-ENOMEM; -ERR_EMPTY when nothing is
 * playable).
 */
int sched_forecast(const struct sched *s, const struct sched_item *after,
                   struct sched_item *out, size_t n);

/* Frees; accepts NULL. */
void sched_free(struct sched *s);

#endif
