/*
 * feed_playlist.h - a player feed that plays an M3U playlist: in order or
 * shuffled anew on every pass, looping or once.
 *
 * An entry that cannot be played is skipped from then on; when none is
 * left, the feed answers -ERR_EMPTY (logged once).
 */
#ifndef FEED_PLAYLIST_H
#define FEED_PLAYLIST_H

#include <stdbool.h>

struct player_feed;
struct playlist;
struct feed_playlist;

struct feed_playlist_options {
	bool shuffle;  /* a new order on every pass */
	bool once;     /* end after one pass */
	unsigned seed; /* shuffle seed; 0 picks one */
};

/* Borrows pl for its lifetime; fills *feed. 0, or -ENOMEM. */
int feed_playlist_new(struct feed_playlist **out, struct playlist *pl,
                      const struct feed_playlist_options *opt,
                      struct player_feed *feed);

void feed_playlist_free(struct feed_playlist *fp);

#endif
