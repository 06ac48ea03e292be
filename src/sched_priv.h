/*
 * sched_priv.h - what the scheduler's files share: the snapshot that
 * sched_load.c builds and sched.c picks from, and (sched_credit.c) folded
 * keys and the table that interns them.
 *
 * The one thing to know: titles and artists become small integers at
 * load, so the rotation rules compare numbers, never strings, per pick.
 */
#ifndef SCHED_PRIV_H
#define SCHED_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched.h"
#include "timeutil.h"

struct store;

#define SCHED_NEVER INT64_MIN /* a history entry never started */
#define SCHED_MAX_CREDIT 8    /* artists kept per credit */

/* Interned strings: ids 0..n-1 in order of first insertion. */
struct sched_strtab {
	char **strs;
	size_t n, cap;
	uint32_t *slots; /* open addressing: id + 1, 0 empty */
	size_t nslots;   /* a power of two, at least 2 * cap */
};

/* One eligible track (enabled, not missing, longer than 0 ms). */
struct sched_trk {
	int64_t id, cue_in_ms, length_ms;
	double loudness_lufs;
	char *path, *title, *artist, *album;
	long title_key; /* -1: no title */
	bool broken;    /* failed to play: skipped until the next reload */
	int nartists;
	long artists[SCHED_MAX_CREDIT];
};

/* A playlist: indexes into sched_data.trk of its eligible tracks, in
 * playlist order. */
struct sched_plist {
	int64_t id;
	size_t *items; /* indexes into trk, eligible only, in order */
	size_t n;
};

/* A slot of the grid; where it sits in the week is in sched_data.week. */
struct sched_slot {
	char *name;
	int pl, jingle_pl; /* indexes into pl, -1 none */
	long jingle_every;
	enum sched_start mode;
	int64_t tolerance_ms; /* of its not-before events */
	int id_pl;            /* top-of-hour station IDs, -1 none */
	enum sched_start id_mode;
	uint64_t news_mask; /* bit m: news at minute m of every hour */
	enum sched_start news_mode;
	int news_bed_pl; /* music under the news, -1 none */
	/* Sound: the slot's own, or -1 / NAN for the station's. */
	int64_t crossfade_ms;
	int curve, jingles_over;
	double duck_db;
};

/* The station's sound settings (the slot columns' defaults). */
struct sched_sound {
	int64_t crossfade_ms;
	int curve; /* enum mixer_curve */
	bool jingles_over;
	double duck_db;
};

/* A dated override, [from_ms, to_ms) UTC. */
struct sched_ovr {
	char *name;
	int64_t from_ms, to_ms;
	int pl;
	enum sched_start mode;
};

/* The snapshot of the database that sched_next() works from. */
struct sched_data {
	char zone[128];
	int64_t title_sep_ms, artist_sep_ms, max_len_ms;
	int fallback;      /* index into pl, -1 none */
	uint64_t news_any; /* the news minutes of all slots, or'ed */
	struct sched_sound sound;
	struct sched_trk *trk;
	size_t ntrk;
	struct sched_plist *pl;
	size_t npl;
	struct sched_slot *slot;
	size_t nslot;
	struct sched_ovr *ovr;
	size_t novr;
	struct sched_strtab titles, artists;
	int16_t week[TU_WEEK_MIN]; /* slot index per local minute, -1 */
	uint16_t run[TU_WEEK_MIN]; /* minutes until it changes; 0 never */
	int64_t *trk_last, *title_last, *artist_last;
	/* Answers of source_at(), each good for [from, until): a pick
	 * mostly asks about the same two segments, and a zone conversion
	 * costs a system call. */
	struct {
		int64_t from, until;
		int src;
	} seg[4];
	unsigned next_seg;
};

/* Reads the settings, tracks, playlists, grid and overrides and seeds the
 * history (track.last_played, the as-run log): 0 with *out, or negative
 * (logged once). */
int sched_data_load(struct store *st, struct sched_data **out);
/* Copies the history of old into d (by track id, title and artist). */
void sched_data_carry(struct sched_data *d, const struct sched_data *old);
/* Frees; accepts NULL. */
void sched_data_free(struct sched_data *d);

/* The key of a title or artist: spaces trimmed, ASCII folded to lower
 * case, into out (truncated to len - 1 bytes). */
void sched_fold(const char *in, char *out, size_t len);

/* The id of key (already folded), added if new: >= 0, or -ENOMEM. */
long sched_strtab_add(struct sched_strtab *t, const char *key);
/* The id of key (already folded), or -1. */
long sched_strtab_find(const struct sched_strtab *t, const char *key);
void sched_strtab_clear(struct sched_strtab *t);

#endif
