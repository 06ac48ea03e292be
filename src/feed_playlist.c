/*
 * feed_playlist.c - the playlist as a player feed.
 *
 * Each pass is a fresh order (shuffled when asked, never the same item
 * twice across the seam). Entries that failed stay skipped, so a playlist
 * of broken files ends in -ERR_EMPTY instead of spinning.
 */
#include "feed_playlist.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "player.h"
#include "playlist.h"

struct feed_playlist {
	struct playlist *pl;
	struct feed_playlist_options opt;
	size_t *order;
	size_t pos; /* next index into order */
	unsigned rng;
	size_t last; /* the item that played last, to avoid a repeat */
};

static unsigned rng_next(unsigned *s)
{
	/* xorshift32: shuffling needs no more than this */
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void new_pass(struct feed_playlist *fp)
{
	size_t n = fp->pl->count;

	for (size_t i = 0; i < n; i++)
		fp->order[i] = i;
	if (fp->opt.shuffle && n > 1) {
		for (size_t i = n - 1; i > 0; i--) {
			size_t j = rng_next(&fp->rng) % (i + 1);
			size_t t = fp->order[i];

			fp->order[i] = fp->order[j];
			fp->order[j] = t;
		}
		/* Do not play the same item twice across the seam. */
		if (fp->order[0] == fp->last) {
			size_t t = fp->order[0];

			fp->order[0] = fp->order[n - 1];
			fp->order[n - 1] = t;
		}
	}
	fp->pos = 0;
}

static bool any_playable(const struct playlist *pl)
{
	for (size_t i = 0; i < pl->count; i++)
		if (!pl->items[i].failed)
			return true;
	return false;
}

static int next(void *ctx, int64_t at_ms, struct player_item *item)
{
	struct feed_playlist *fp = ctx;
	struct playlist_item *it;

	(void)at_ms;
	for (;;) {
		if (!any_playable(fp->pl)) {
			log_error("%s: nothing playable", fp->pl->path);
			return -ERR_EMPTY;
		}
		if (fp->pos == fp->pl->count) {
			if (fp->opt.once)
				return 1;
			new_pass(fp);
		}
		it = &fp->pl->items[fp->order[fp->pos++]];
		if (!it->failed)
			break;
	}
	fp->last = (size_t)(it - fp->pl->items);
	memset(item, 0, sizeof(*item));
	snprintf(item->path, sizeof(item->path), "%s", it->path);
	snprintf(item->title, sizeof(item->title), "%s",
	         it->title ? it->title : "");
	snprintf(item->artist, sizeof(item->artist), "%s",
	         it->artist ? it->artist : "");
	item->length_ms = -1;
	item->id = (int64_t)fp->last;
	return 0;
}

static void failed(void *ctx, const struct player_item *item)
{
	struct feed_playlist *fp = ctx;

	fp->pl->items[item->id].failed = true;
}

int feed_playlist_new(struct feed_playlist **out, struct playlist *pl,
                      const struct feed_playlist_options *opt,
                      struct player_feed *feed)
{
	struct feed_playlist *fp = calloc(1, sizeof(*fp));
	struct timespec ts;

	*out = NULL;
	if (!fp)
		return -ENOMEM;
	fp->order = calloc(pl->count ? pl->count : 1, sizeof(*fp->order));
	if (!fp->order) {
		free(fp);
		return -ENOMEM;
	}
	fp->pl = pl;
	fp->opt = *opt;
	fp->last = (size_t)-1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	fp->rng = opt->seed ? opt->seed
	                    : (unsigned)(ts.tv_nsec ^ ((long)getpid() << 16));
	if (!fp->rng)
		fp->rng = 1;
	new_pass(fp);
	*feed = (struct player_feed){.next = next, .failed = failed, .ctx = fp};
	*out = fp;
	return 0;
}

void feed_playlist_free(struct feed_playlist *fp)
{
	if (!fp)
		return;
	free(fp->order);
	free(fp);
}
