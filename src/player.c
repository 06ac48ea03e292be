/*
 * player.c - one item after another, gapless, into the outputs.
 *
 * Items end exactly where their last frame ends and the next item's first
 * frame follows in the same tick, so there is never a gap; each output
 * starts a new logical bitstream (new title) at the boundary. Programme
 * time is start_ms plus the frames sent: the feed is asked what starts at
 * that moment, so a schedule and its audio cannot drift apart. Nothing in
 * the tick allocates: the block buffer is made once.
 */
#include "player.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "limiter.h"
#include "log.h"
#include "output.h"
#include "source.h"

#define DEFAULT_BLOCK_FRAMES 1024
/* Further behind the clock than this and we stop trying to catch up. */
#define MAX_LATE_NS (2LL * 1000000000LL)
/* An item cut short by a hard event fades out over this much at most. */
#define FADE_OUT_MS 2000
/* This many items in a row that fail to open: the feed has nothing. */
#define MAX_FAILS_IN_A_ROW 100

/* The music bed under the items that name it. */
struct bed {
	struct source *src;
	char path[PLAYER_PATH_MAX];
	unsigned long long frames; /* played since it started */
	float *buf;                /* one block */
};

/* The item on air. */
struct onair {
	struct source *src;
	struct player_item item;
	int64_t start_ms;             /* programme time of its first frame */
	unsigned long long frames;    /* sent so far */
	unsigned long long limit;     /* frames it may play; 0: to its end */
	unsigned long long fade_from; /* frame where the fade-out starts */
	bool interrupted;             /* cut short by the feed */
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

static unsigned long long ms_to_frames(int64_t ms, unsigned rate)
{
	return (unsigned long long)((ms * (int64_t)rate + 500) / 1000);
}

static int64_t frames_to_ms(unsigned long long frames, unsigned rate)
{
	return (int64_t)((frames * 1000ULL + rate / 2) / rate);
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

/* Reads and drops the first frames of an item (its leading silence). */
static int skip_frames(struct source *src, float *buf, size_t block,
                       unsigned long long n)
{
	while (n > 0) {
		long got = source_read(src, buf, n < block ? (size_t)n : block);

		if (got <= 0)
			return got < 0 ? (int)got : -ERR_EMPTY;
		n -= (unsigned long long)got;
	}
	return 0;
}

/* The tags that go on air: the feed's, else the file's, else its name. */
static void item_tags(struct onair *a, char *title, size_t title_len,
                      const char **artist)
{
	const char *path = a->item.path, *base = strrchr(path, '/');

	if (a->item.title[0])
		snprintf(title, title_len, "%s", a->item.title);
	else if (source_title(a->src)[0])
		snprintf(title, title_len, "%s", source_title(a->src));
	else {
		char *dot;

		/* A long name is cut to fit the tag. */
		snprintf(title, title_len, "%.*s", (int)title_len - 1,
		         base ? base + 1 : path);
		dot = strrchr(title, '.');
		if (dot && dot != title)
			*dot = '\0';
	}
	*artist = a->item.artist[0] ? a->item.artist : source_artist(a->src);
}

/* Opens the next item that opens; 0, 1 at the feed's end, or <0. */
static int start_item(const struct player_feed *feed, struct onair *a,
                      int64_t at_ms, const struct player_options *opt,
                      float *buf, size_t block, struct player_stats *st)
{
	for (int fails = 0; fails < MAX_FAILS_IN_A_ROW; fails++) {
		int rc = feed->next(feed->ctx, at_ms, &a->item);

		if (rc != 0)
			return rc;
		/* source_open logs why it failed, once. */
		if (source_open(&a->src, a->item.path, &opt->fmt) == 0) {
			unsigned long long cue =
			    a->item.cue_in_ms > 0
			        ? ms_to_frames(a->item.cue_in_ms, opt->fmt.rate)
			        : 0;

			if (skip_frames(a->src, buf, block, cue) == 0)
				break;
			log_warn("%s: ends before its cue-in", a->item.path);
			source_close(a->src);
			a->src = NULL;
		}
		st->skipped++;
		if (feed->failed)
			feed->failed(feed->ctx, &a->item);
	}
	if (!a->src) {
		log_error("%d items in a row could not be played; stopping",
		          MAX_FAILS_IN_A_ROW);
		return -ERR_EMPTY;
	}
	a->start_ms = at_ms;
	a->frames = 0;
	a->limit = a->item.length_ms >= 0
	               ? ms_to_frames(a->item.length_ms, opt->fmt.rate)
	               : 0;
	a->fade_from = 0;
	a->interrupted = false;
	if (a->item.fade_out && a->limit) {
		unsigned long long fade =
		    ms_to_frames(FADE_OUT_MS, opt->fmt.rate);

		if (fade > a->limit / 2)
			fade = a->limit / 2;
		a->fade_from = a->limit - fade;
	}
	return 0;
}

/* Fades the frames of buf that lie past the item's fade start. */
static void apply_fade(const struct onair *a, float *buf, size_t n,
                       unsigned channels)
{
	unsigned long long len = a->limit - a->fade_from;

	for (size_t i = 0; i < n; i++) {
		unsigned long long pos = a->frames + i;
		float g;

		if (pos < a->fade_from)
			continue;
		g = 1.0f - (float)(pos - a->fade_from) / (float)len;
		for (unsigned c = 0; c < channels; c++)
			buf[i * channels + c] *= g * g;
	}
}

static void bed_close(struct bed *b)
{
	source_close(b->src);
	b->src = NULL;
	b->path[0] = '\0';
}

/* Mixes the bed that a's item names under the n frames in buf. A bed
 * that ends starts again; one that cannot be read is dropped (logged by
 * the source). */
static void bed_mix(struct bed *b, const struct onair *a, float *buf, size_t n,
                    const struct player_options *opt)
{
	unsigned ch = opt->fmt.channels, rate = opt->fmt.rate;
	unsigned long long fade = ms_to_frames(PLAYER_BED_FADE_MS, rate);
	size_t got = 0;

	if (!b->src || strcmp(b->path, a->item.bed) != 0) {
		bed_close(b);
		if (source_open(&b->src, a->item.bed, &opt->fmt) < 0)
			return;
		snprintf(b->path, sizeof(b->path), "%s", a->item.bed);
		b->frames = 0;
	}
	for (int again = 0; got < n && again < 2;) {
		long r = source_read(b->src, b->buf + got * ch, n - got);

		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		/* The end: from the top (once per block), or give up. */
		source_close(b->src);
		b->src = NULL;
		again++;
		if (r < 0 || source_open(&b->src, b->path, &opt->fmt) < 0)
			break;
	}
	if (!b->src) {
		bed_close(b);
		return;
	}
	for (size_t i = 0; i < got; i++) {
		unsigned long long pos = a->frames + i, end = a->limit;
		float g = a->item.bed_gain;

		if (b->frames + i < fade)
			g *= (float)(b->frames + i) / (float)fade;
		if (a->item.bed_ends && end && pos + fade > end)
			g *=
			    pos < end ? (float)(end - pos) / (float)fade : 0.0f;
		for (unsigned c = 0; c < ch; c++)
			buf[i * ch + c] += b->buf[i * ch + c] * g;
	}
	b->frames += got;
}

/* Counts the frames of programme below floor (a peak level) in *quiet:
 * true when they reach limit frames, logged as dead air. */
static bool dead_air(const struct onair *a, const float *buf, size_t n,
                     unsigned ch, unsigned rate, float floor,
                     unsigned long long *quiet, unsigned long long limit)
{
	float peak = 0;

	for (size_t i = 0; i < n * ch; i++)
		if (fabsf(buf[i]) > peak)
			peak = fabsf(buf[i]);
	if (peak >= floor) {
		*quiet = 0;
		return false;
	}
	*quiet += n;
	if (*quiet < limit)
		return false;
	log_warn("dead air: %.1f s of silence in %s; skipping it",
	         (double)*quiet / rate, a->item.path);
	*quiet = 0;
	return true;
}

/* Ends the item on air after a fade from here. */
static void interrupt(struct onair *a, unsigned rate)
{
	unsigned long long fade = ms_to_frames(PLAYER_INTERRUPT_FADE_MS, rate);

	if (a->limit && a->limit - a->frames <= fade)
		return; /* it ends sooner anyway */
	a->fade_from = a->frames;
	a->limit = a->frames + fade;
	a->interrupted = true;
	log_info("%s: faded out for what comes next", a->item.path);
}

static void end_item(const struct player_feed *feed, struct onair *a,
                     unsigned rate, bool early)
{
	if (feed->aired && a->frames > 0)
		feed->aired(feed->ctx, &a->item, a->start_ms,
		            frames_to_ms(a->frames, rate), early);
	source_close(a->src);
	a->src = NULL;
}

int player_run(const struct player_feed *feed, struct output **outs,
               size_t *n_outs, const struct player_options *opt,
               volatile sig_atomic_t *stop, struct player_stats *stats)
{
	struct player_stats st = {0};
	size_t block =
	    opt->block_frames ? opt->block_frames : DEFAULT_BLOCK_FRAMES;
	unsigned ch = opt->fmt.channels, rate = opt->fmt.rate;
	unsigned long long limit =
	    opt->max_seconds > 0
	        ? (unsigned long long)(opt->max_seconds * rate + 0.5)
	        : 0;
	struct onair a = {0};
	struct bed bed = {0};
	struct limiter *lim = NULL;
	unsigned long long quiet = 0; /* frames below the dead-air level */
	float floor = (float)pow(10.0, opt->dead_air_db / 20.0);
	float *buf = malloc(block * ch * sizeof(*buf));
	long long t0;
	int rc = 0, empty_in_a_row = 0;

	bed.buf = malloc(block * ch * sizeof(*bed.buf));
	if (opt->limiter &&
	    (rc = limiter_new(&lim, rate, ch, opt->ceiling_dbtp)) < 0)
		log_error("limiter: cannot start (%s)", err_str(rc));
	if (!buf || !bed.buf || rc < 0) {
		free(buf);
		free(bed.buf);
		return rc < 0 ? rc : -ENOMEM;
	}
	t0 = mono_ns();
	while (!*stop && (!limit || st.frames < limit)) {
		size_t want = block;
		long n;

		if (!a.src) {
			char title[PLAYER_TAG_MAX];
			const char *artist;

			rc = start_item(feed, &a,
			                opt->start_ms +
			                    frames_to_ms(st.frames, rate),
			                opt, buf, block, &st);
			if (rc != 0)
				break;
			if (!a.item.bed[0] && bed.src)
				bed_close(&bed);
			item_tags(&a, title, sizeof(title), &artist);
			log_info("on air: %s%s%s (%s)", artist,
			         artist[0] ? " - " : "", title, a.item.path);
			for (size_t i = 0; i < *n_outs; i++)
				out_begin_item(outs[i], title, artist);
			st.items++;
		}
		if (limit && limit - st.frames < want)
			want = (size_t)(limit - st.frames);
		if (a.limit && a.limit - a.frames < want)
			want = (size_t)(a.limit - a.frames);
		n = want ? source_read(a.src, buf, want) : 0;
		if (n <= 0 && a.frames == 0) {
			/* Opened but held no audio: without this a feed of
			 * such files would spin. */
			if (n == 0)
				log_warn("%s: no audio in it; skipped",
				         a.item.path);
			st.skipped++;
			if (feed->failed)
				feed->failed(feed->ctx, &a.item);
			end_item(feed, &a, rate, true);
			if (++empty_in_a_row == MAX_FAILS_IN_A_ROW) {
				log_error("%d items in a row held no audio; "
				          "stopping",
				          MAX_FAILS_IN_A_ROW);
				rc = -ERR_EMPTY;
				break;
			}
			continue;
		}
		if (n <= 0) {
			/* The end, or a failure part-way that the source
			 * logged; either way the next item follows at once. */
			end_item(feed, &a, rate, n < 0 || a.interrupted);
			continue;
		}
		empty_in_a_row = 0;
		if (a.item.gain > 0) {
			/* Measured for stereo; mono loses 3 dB of it. */
			float g = a.item.gain * (ch == 1 ? 1.4125f : 1.0f);

			for (size_t i = 0; i < (size_t)n * ch; i++)
				buf[i] *= g;
		}
		if (a.fade_from)
			apply_fade(&a, buf, (size_t)n, ch);
		if (a.item.bed[0])
			bed_mix(&bed, &a, buf, (size_t)n, opt);
		if (opt->dead_air_ms > 0 &&
		    dead_air(&a, buf, (size_t)n, ch, rate, floor, &quiet,
		             ms_to_frames(opt->dead_air_ms, rate))) {
			st.skipped++;
			if (feed->failed)
				feed->failed(feed->ctx, &a.item);
			/* The silence so far goes out; the item ends here. */
			a.limit = a.frames + (unsigned long long)n;
			a.interrupted = true;
		}
		if (lim)
			limiter_process(lim, buf, (size_t)n);
		rc = send_block(outs, n_outs, buf, (size_t)n);
		if (rc < 0)
			break;
		st.frames += (unsigned long long)n;
		a.frames += (unsigned long long)n;
		if (feed->interrupt && !a.interrupted &&
		    feed->interrupt(feed->ctx,
		                    opt->start_ms +
		                        frames_to_ms(st.frames, rate)))
			interrupt(&a, rate);
		if (opt->realtime) {
			long long due =
			    t0 + (long long)(st.frames * 1000000000ULL / rate);
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
	if (a.src)
		end_item(feed, &a, rate, true);
	bed_close(&bed);
	free(bed.buf);
	limiter_free(lim);
	free(buf);
	if (stats)
		*stats = st;
	return rc > 0 ? 0 : rc;
}
