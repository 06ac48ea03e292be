/*
 * encfill.h - fills the encoded-music cache (enccache.h) in the
 * background, so that music can be passed through on air.
 *
 * A sweep goes through the library's tracks (enabled, present, long
 * enough) and encodes each that has no cached encoding yet, as the player
 * would play it: at its loudness gain, through the limiter, with the
 * outputs' settings. A track not worth caching (too short, or dead air in
 * it) gets a KEY.skip marker, so it is not decoded again at every start.
 * In the daemon the sweep runs on a thread of its own at the idle
 * scheduling class (it takes only CPU the audio loop leaves), then the
 * thread builds what the player asks for: a track it met without one
 * (a new file, a changed gain).
 */
#ifndef ENCFILL_H
#define ENCFILL_H

#include <stddef.h>

#include "enccache.h"

struct encfill;

struct encfill_options {
	const char *dir;     /* the cache directory (made if missing) */
	const char *db_path; /* the library to sweep; NULL: none */
	/* Everything of a spec but path, size, mtime_ns and level. */
	struct enccache_spec tmpl;
};

struct encfill_stats {
	size_t ready;   /* had one already */
	size_t built;   /* encoded now */
	size_t skipped; /* not worth caching (marked) */
	size_t failed;  /* could not be encoded (logged) */
};

/*
 * Sweeps the library in the calling thread until done or *stop (may be
 * NULL). 0; -ENOSPC when the disk filled up (logged once; the sweep
 * stops); or a negative code when the database or the directory cannot
 * be used (logged).
 */
int encfill_sweep(const struct encfill_options *opt, const volatile int *stop,
                  struct encfill_stats *st);

/* Starts the thread (options copied): a sweep first, then what is asked
 * for. 0 or a negative code (logged). */
int encfill_start(struct encfill **out, const struct encfill_options *opt);

/* Asks for spec to be built next (copied; a player's pass_missing).
 * Never blocks: when the queue is full, the ask is dropped (the next play
 * asks again). Accepts NULL f. */
void encfill_want(struct encfill *f, const struct enccache_spec *spec);

/* Stops the thread (an encoding under way is abandoned, no partial file
 * left) and frees; accepts NULL. */
void encfill_stop(struct encfill *f);

#endif
