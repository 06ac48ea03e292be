/*
 * player.c - the playlist player: one item after another, gapless.
 *
 * Items end exactly where their last frame ends and the next item's first
 * frame follows in the same tick, so there is never a gap; each output
 * starts a new logical bitstream (new title) at the boundary. Nothing in
 * the tick allocates: the block buffer is made once.
 */
#include "player.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "output.h"
#include "playlist.h"
#include "source.h"

#define DEFAULT_BLOCK_FRAMES 1024
/* Further behind the clock than this and we stop trying to catch up. */
#define MAX_LATE_NS (2LL * 1000000000LL)

struct player {
	struct playlist *pl;
	const struct player_options *opt;
	size_t *order;
	size_t pos; /* next index into order */
	unsigned rng;
	size_t last; /* the item that played last, to avoid a repeat */
};

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_until_ns(long long t)
{
	struct timespec ts = {.tv_sec = (time_t)(t / 1000000000LL),
	                      .tv_nsec = (long)(t % 1000000000LL)};

	/* EINTR: a signal came; the caller checks its stop flag. */
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static unsigned rng_next(unsigned *s)
{
	/* xorshift32: shuffling needs no more than this */
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void new_pass(struct player *p)
{
	size_t n = p->pl->count;

	for (size_t i = 0; i < n; i++)
		p->order[i] = i;
	if (p->opt->shuffle && n > 1) {
		for (size_t i = n - 1; i > 0; i--) {
			size_t j = rng_next(&p->rng) % (i + 1);
			size_t t = p->order[i];

			p->order[i] = p->order[j];
			p->order[j] = t;
		}
		/* Do not play the same item twice across the seam. */
		if (p->order[0] == p->last) {
			size_t t = p->order[0];

			p->order[0] = p->order[n - 1];
			p->order[n - 1] = t;
		}
	}
	p->pos = 0;
}

static bool any_playable(const struct playlist *pl)
{
	for (size_t i = 0; i < pl->count; i++)
		if (!pl->items[i].failed)
			return true;
	return false;
}

/* Opens the next playable item; NULL at the end of a pass with once set,
 * or when nothing is playable (*rc set). */
static struct source *next_item(struct player *p, struct playlist_item **it,
                                struct player_stats *st, int *rc)
{
	struct source *src;

	*rc = 0;
	for (;;) {
		struct playlist_item *cand;

		if (!any_playable(p->pl)) {
			log_error("%s: nothing playable", p->pl->path);
			*rc = -ERR_EMPTY;
			return NULL;
		}
		if (p->pos == p->pl->count) {
			if (p->opt->once)
				return NULL;
			new_pass(p);
		}
		cand = &p->pl->items[p->order[p->pos++]];
		if (cand->failed)
			continue;
		/* source_open logs why it failed, once. */
		if (source_open(&src, cand->path, &p->opt->fmt) < 0) {
			cand->failed = true;
			st->skipped++;
			continue;
		}
		*it = cand;
		p->last = (size_t)(cand - p->pl->items);
		return src;
	}
}

static const char *pick(const char *tag, const char *fallback)
{
	return tag && tag[0] ? tag : fallback;
}

static void item_tags(const struct source *src, const struct playlist_item *it,
                      char *title, size_t title_len, const char **artist)
{
	const char *base = strrchr(it->path, '/');
	const char *t = pick(source_title(src), it->title);

	if (t) {
		snprintf(title, title_len, "%s", t);
	} else {
		/* No tag at all: the file name without its extension. */
		char *dot;

		snprintf(title, title_len, "%s", base ? base + 1 : it->path);
		dot = strrchr(title, '.');
		if (dot && dot != title)
			*dot = '\0';
	}
	*artist = pick(source_artist(src), it->artist);
	if (!*artist)
		*artist = "";
}

static void drop_output(struct output **outs, size_t *n, size_t i)
{
	out_close(outs[i]);
	memmove(&outs[i], &outs[i + 1], (*n - i - 1) * sizeof(*outs));
	(*n)--;
}

/* Sends one block to every output; drops those that fail for good. */
static int send_block(struct output **outs, size_t *n, const float *frames,
                      size_t nframes)
{
	int last_rc = 0;

	for (size_t i = 0; i < *n;) {
		int rc = out_write(outs[i], frames, nframes);

		if (rc < 0) {
			/* The output logged why; say what happens now. */
			if (*n > 1)
				log_warn("%s: dropped; %zu other output(s) go "
				         "on",
				         out_name(outs[i]), *n - 1);
			else
				log_error("no output left; stopping");
			drop_output(outs, n, i);
			last_rc = rc;
			continue;
		}
		i++;
	}
	return *n ? 0 : (last_rc ? last_rc : -ERR_USAGE);
}

static void begin_item(struct output **outs, size_t n, const char *title,
                       const char *artist)
{
	for (size_t i = 0; i < n; i++)
		out_begin_item(outs[i], title, artist);
}

int player_run(struct playlist *pl, struct output **outs, size_t *n_outs,
               const struct player_options *opt, volatile sig_atomic_t *stop,
               struct player_stats *stats)
{
	struct player p = {.pl = pl, .opt = opt, .last = (size_t)-1};
	struct player_stats st = {0};
	size_t block =
	    opt->block_frames ? opt->block_frames : DEFAULT_BLOCK_FRAMES;
	unsigned ch = opt->fmt.channels;
	unsigned long long limit =
	    opt->max_seconds > 0
	        ? (unsigned long long)(opt->max_seconds * opt->fmt.rate + 0.5)
	        : 0;
	struct source *src = NULL;
	struct playlist_item *it = NULL;
	float *buf = NULL;
	unsigned long long item_frames = 0;
	long long t0 = 0;
	int rc = 0;

	if (pl->count == 0) {
		log_error("%s: no usable entries", pl->path);
		return -ERR_EMPTY;
	}
	p.order = calloc(pl->count, sizeof(*p.order));
	buf = malloc(block * ch * sizeof(*buf));
	if (!p.order || !buf) {
		rc = -ENOMEM;
		goto out;
	}
	p.rng = opt->seed ? opt->seed
	                  : (unsigned)(mono_ns() ^ ((long long)getpid() << 16));
	if (!p.rng)
		p.rng = 1;
	new_pass(&p);
	t0 = mono_ns();
	while (!*stop && (!limit || st.frames < limit)) {
		size_t want = block;
		long n;

		if (!src) {
			char title[SOURCE_TAG_MAX];
			const char *artist;

			src = next_item(&p, &it, &st, &rc);
			if (!src)
				break;
			item_tags(src, it, title, sizeof(title), &artist);
			log_info("on air: %s%s%s (%s)", artist,
			         artist[0] ? " - " : "", title, it->path);
			begin_item(outs, *n_outs, title, artist);
			st.items++;
			item_frames = 0;
		}
		if (limit && limit - st.frames < want)
			want = (size_t)(limit - st.frames);
		n = source_read(src, buf, want);
		if (n <= 0) {
			/* The end, or a failure part-way that the source
			 * logged; either way the next item follows at once. */
			source_close(src);
			src = NULL;
			if (item_frames == 0) {
				/* Opened but held no audio: without this a
				 * playlist of such files would spin. */
				if (n == 0)
					log_warn("%s: no audio in it; skipped",
					         it->path);
				it->failed = true;
				st.skipped++;
			}
			continue;
		}
		rc = send_block(outs, n_outs, buf, (size_t)n);
		if (rc < 0)
			break;
		st.frames += (unsigned long long)n;
		item_frames += (unsigned long long)n;
		if (opt->realtime) {
			long long due =
			    t0 + (long long)(st.frames * 1000000000ULL /
			                     opt->fmt.rate);
			long long now = mono_ns();

			if (now - due > MAX_LATE_NS) {
				log_warn("fell %.1f s behind real time; "
				         "carrying on from now",
				         (double)(now - due) / 1e9);
				t0 += now - due;
			} else if (due > now) {
				sleep_until_ns(due);
			}
		}
	}
out:
	source_close(src);
	free(buf);
	free(p.order);
	if (stats)
		*stats = st;
	return rc;
}
