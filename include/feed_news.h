/*
 * feed_news.h - the news block: what the scheduler feed airs at a news
 * minute or for breaking news, from the bulletin queue.
 *
 * The one thing to know: a block is planned whole (feed_news_plan), then
 * handed out one item at a time (feed_news_next); a bulletin goes on_air
 * only as it starts and is marked aired, with its as-run row, only after
 * its last sample went out (feed_news_aired). With mark false (a render
 * that logs nothing) the queue is only read, and the block remembers what
 * it played so each bulletin still airs once.
 */
#ifndef FEED_NEWS_H
#define FEED_NEWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct asrun;
struct store;
struct bulletin_asrun;

#define NEWS_LIST_MAX 16
#define NEWS_BULLETINS_MAX 24
#define NEWS_BLOCK_MAX (2 * NEWS_BULLETINS_MAX + 2)
#define NEWS_SEEN_MAX 512

struct news_item {
	char path[4096];
	char title[256];
	char artist[256];
	int64_t track_id;             /* a jingle's track, or 0 */
	int64_t bulletin_id;          /* a bulletin, or 0 */
	int64_t cue_in_ms, length_ms; /* length < 0: to its end */
	double loudness_lufs;         /* NAN: unmeasured */
	int64_t breaking_sent_ms;     /* a breaking bulletin's submission */
};

struct news_list {
	struct news_item items[NEWS_LIST_MAX];
	size_t n, next;
};

struct feed_news {
	struct store *st;
	struct news_list intro, outro, sting, empty;
	bool breaking_now;  /* breaking_mode 'now' (else 'after-item') */
	int64_t latency_ms; /* breaking_latency_s */
	/* Programme time a rendered breaking bulletin was first known to
	 * the air, 0: none waiting. */
	int64_t breaking_at;
	struct news_item block[NEWS_BLOCK_MAX];
	size_t len, pos;
	char bed[4096]; /* the block's music bed, "" for dry news */
	float bed_gain; /* news_bed_db, linear */
	int64_t seen[NEWS_SEEN_MAX]; /* aired without marking */
	size_t nseen;
	/* The air's writer (asrun.h): with it, marking goes through its
	 * queue and bulletins whose changes wait there stay out of new
	 * blocks; NULL: straight to the queue (bulletin.h). */
	struct asrun *asrun;
};

/* Reads the news settings and playlists from st (kept for the queue).
 * 0 or -ERR_DB. */
int feed_news_load(struct feed_news *n, struct store *st);

/* Plans a block of the bulletins due at at_ms (breaking ones only if
 * breaking_only), over the music bed at path bed (NULL or "": dry). The
 * number of bulletins in it (0: the block is empty, or holds the
 * news_empty_playlist item), or -ERR_DB. */
int feed_news_plan(struct feed_news *n, int64_t at_ms, bool breaking_only,
                   const char *bed);

/* The block's next item that may air: 1 with *out, 0 when the block is
 * done. mark: move bulletins to on_air. *last: nothing follows it. */
int feed_news_next(struct feed_news *n, int64_t at_ms, bool mark,
                   struct news_item *out, bool *last);

/* A bulletin of the block ended: see above. */
void feed_news_aired(struct feed_news *n, int64_t bulletin_id, bool mark,
                     const struct bulletin_asrun *a, int64_t end_ms);

/* A breaking bulletin is ready (rendered): remember since when it waits
 * (its submission, if earlier than at_ms). */
void feed_news_breaking(struct feed_news *n, int64_t at_ms);

/* Whether to fade out what is playing for waiting breaking news: at once
 * (breaking_mode 'now'), or in 'after-item' mode only if the item would
 * end too late for the latency (item_end_ms, 0 if unknown), just in time
 * for the bulletin to start within the latency of its submission.
 * Clears the waiting mark when it says yes. When it says "not yet" for
 * waiting news, *ask_at_ms is when it will say yes (the fade's start). */
bool feed_news_interrupt(struct feed_news *n, int64_t at_ms,
                         int64_t item_end_ms, int64_t *ask_at_ms);

#endif
