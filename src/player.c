/*
 * player.c - one item after another, gapless, into the outputs.
 *
 * Items end exactly where their last frame ends and the next item's first
 * frame follows in the same tick, so there is never a gap; each output
 * starts a new logical bitstream (new title) at the boundary. Programme
 * time is start_ms plus the frames sent: the feed is asked what starts at
 * that moment, so a schedule and its audio cannot drift apart. Nothing in
 * the tick allocates: the block buffer is made once.
 *
 * On the wall clock (follow_wall), programme time (progclock.h) is
 * re-based only between items: when the wall clock stepped or audio was
 * lost to an underrun, the next item is asked for at the wall clock's
 * time. The item on air plays on.
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
#include "mixer.h"
#include "output.h"
#include "progclock.h"
#include "source.h"
#include "status.h"

#define DEFAULT_BLOCK_FRAMES 1024
/* In real time, each block is a wake-up (PLAYER_REALTIME_BLOCK_MS): at
 * 23 ms (1024 frames) the daemon streamed on ~20 % more CPU than at
 * 93 ms, and at 93 ms on 11 % more than at 400 ms (1.90 % of a core
 * against 1.70 %, bench/compare.sh, two pairs of runs; most likely
 * each wake-up starts on cold caches). A
 * time, not a frame count (4096 frames were half a second at 8 kHz).
 * Timing does not depend on it: a block ends at every event
 * (next_span()) and at the feed's interrupt deadline; only stop and
 * reload requests, and "now" breaking news, wait up to one block. */
/* Further behind the clock than this and we stop trying to catch up. */
#define MAX_LATE_NS (2LL * 1000000000LL)
/* An item cut short by a hard event fades out over this much at most. */
#define FADE_OUT_MS 2000
/* This many items in a row that fail to open: the feed has nothing. */
#define MAX_FAILS_IN_A_ROW 100

/* Decks: two for items (one fading out, one fading in), the overlay, the
 * bed. */
enum { DECK_A, DECK_B, DECK_OVERLAY, DECK_BED };

/* An item: fetched (src open, waiting), or on its deck (live). */
struct onair {
	struct source *src; /* fetched, not started; the mixer owns it after */
	bool live;
	unsigned deck;
	struct player_item item;
	int64_t start_ms;             /* programme time of its first frame */
	int64_t shift_ms;             /* the clock's shift_ms at that time */
	unsigned long long frames;    /* sent so far */
	unsigned long long limit;     /* frames it may play; 0: to its end */
	unsigned long long fade_from; /* frame where the fade-out starts */
	bool interrupted;             /* cut short */
	unsigned long long wait;      /* an overlay: frames until it starts */
};

/* Everything the loop works with. */
struct play {
	const struct player_feed *feed;
	const struct player_options *opt;
	struct output **outs;
	size_t *n_outs;
	struct mixer *mix;
	struct player_stats st;
	size_t block;
	unsigned ch, rate;
	struct onair cur, nxt, ovl;
	float bed_duck; /* where the bed's duck envelope is going */
	float *buf;
	float quiet_floor;               /* dead_air_db as a peak level */
	unsigned long long quiet_frames; /* dead_air_ms in frames */
	struct progclock clock;          /* programme time */
	int64_t ask_at_ms; /* the feed's interrupt deadline; 0: none */
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

	/* EINTR: a signal came; the caller checks its stop flag. Any other
	 * error must not turn the pacing into a spin: libfaketime 0.9.10
	 * (Debian 12), with the monotonic clock left real, refuses absolute
	 * monotonic deadlines with EINVAL. Sleep for the difference then. */
	int rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);

	if (rc != 0 && rc != EINTR) {
		long long left = t - mono_ns();

		if (left > 0) {
			ts.tv_sec = (time_t)(left / 1000000000LL);
			ts.tv_nsec = (long)(left % 1000000000LL);
			clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
		}
	}
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
static void item_tags(struct onair *a, struct source *src, char *title,
                      size_t title_len, const char **artist)
{
	const char *path = a->item.path, *base = strrchr(path, '/');

	if (a->item.title[0])
		snprintf(title, title_len, "%s", a->item.title);
	else if (source_title(src)[0])
		snprintf(title, title_len, "%s", source_title(src));
	else {
		char *dot;

		/* A long name is cut to fit the tag. */
		snprintf(title, title_len, "%.*s", (int)title_len - 1,
		         base ? base + 1 : path);
		dot = strrchr(title, '.');
		if (dot && dot != title)
			*dot = '\0';
	}
	*artist = a->item.artist[0] ? a->item.artist : source_artist(src);
}

static void count(const struct play *p, enum status_counter c,
                  unsigned long long n)
{
	if (p->opt->status)
		status_add(p->opt->status, c, n);
}

/* At an item boundary: programme time may move (progclock_rebase());
 * the feed hears of a step of the wall clock first. How far, in ms. */
static int64_t rebase(struct play *p)
{
	const struct player_feed *feed = p->feed;
	int64_t step, moved = progclock_rebase(&p->clock, mono_ns(), &step);

	if (step) {
		log_warn(step > -10000 && step < 10000
		             ? "the wall clock stepped %+.1f s; the schedule "
		               "follows it"
		             : "the wall clock stepped %+.0f s; the schedule "
		               "follows it",
		         (double)step / 1000);
		if (feed->clock_step)
			feed->clock_step(feed->ctx, step);
	}
	return moved;
}

/* Fetches the next item that opens into a (not started): 0, 1 at the
 * feed's end, or <0. at_ms: when it is due to start. */
static int fetch(struct play *p, struct onair *a, int64_t at_ms)
{
	const struct player_feed *feed = p->feed;
	unsigned rate = p->rate;

	/* Between items: where programme time may move. */
	at_ms += rebase(p);
	for (int fails = 0; fails < MAX_FAILS_IN_A_ROW; fails++) {
		int rc = feed->next(feed->ctx, at_ms, &a->item);

		if (rc != 0)
			return rc;
		/* source_open logs why it failed, once. */
		if (source_open(&a->src, a->item.path, &p->opt->fmt) == 0) {
			unsigned long long cue =
			    a->item.cue_in_ms > 0
			        ? ms_to_frames(a->item.cue_in_ms, rate)
			        : 0;

			if (skip_frames(a->src, p->buf, p->block, cue) == 0)
				break;
			log_warn("%s: ends before its cue-in", a->item.path);
			source_close(a->src);
			a->src = NULL;
		}
		p->st.skipped++;
		count(p, STATUS_SKIPPED, 1);
		if (feed->failed)
			feed->failed(feed->ctx, &a->item);
	}
	if (!a->src) {
		log_error("%d items in a row could not be played; stopping",
		          MAX_FAILS_IN_A_ROW);
		return -ERR_EMPTY;
	}
	a->live = false;
	a->frames = 0;
	a->limit =
	    a->item.length_ms >= 0 ? ms_to_frames(a->item.length_ms, rate) : 0;
	a->fade_from = 0;
	a->interrupted = false;
	a->wait = 0;
	if (a->item.fade_out && a->limit) {
		unsigned long long fade = ms_to_frames(FADE_OUT_MS, rate);

		if (fade > a->limit / 2)
			fade = a->limit / 2;
		a->fade_from = a->limit - fade;
	}
	return 0;
}

static int64_t now_ms(const struct play *p)
{
	return progclock_at(&p->clock, frames_to_ms(p->st.frames, p->rate));
}

static float item_level(const struct play *p, const struct player_item *it)
{
	/* Measured for stereo; mono loses 3 dB of it. */
	if (it->gain > 0)
		return it->gain * (p->ch == 1 ? 1.4125f : 1.0f);
	return 1.0f;
}

/* The bed that the item on air names: kept if it is the same, started
 * (faded in) if new, stopped if the item names none; ducked under
 * speech. */
static void bed_follow(struct play *p, const struct player_item *it)
{
	unsigned long long fade = ms_to_frames(PLAYER_BED_FADE_MS, p->rate);
	float duck = it->duck_bed ? it->duck_gain : 1.0f;

	if (!it->bed[0]) {
		mixer_clear(p->mix, DECK_BED);
		return;
	}
	if (!mixer_live(p->mix, DECK_BED) ||
	    strcmp(mixer_loop_path(p->mix, DECK_BED), it->bed) != 0) {
		/* The source logged why, if it cannot open. */
		if (mixer_load_loop(p->mix, DECK_BED, it->bed, it->bed_gain,
		                    0.0f) < 0)
			return;
		mixer_ramp(p->mix, DECK_BED, MIXER_FADE, 1.0f, fade,
		           MIXER_LINEAR);
		p->bed_duck = 1.0f;
	}
	if (duck != p->bed_duck) {
		bool down = duck < p->bed_duck;

		mixer_ramp(p->mix, DECK_BED, MIXER_DUCK, duck,
		           ms_to_frames(down ? it->attack_ms : it->release_ms,
		                        p->rate),
		           MIXER_DB);
		p->bed_duck = duck;
	}
}

/* Puts a (fetched) on a free item deck, live from now at fade. */
static void go_live(struct play *p, struct onair *a, float fade, bool announce)
{
	char title[PLAYER_TAG_MAX];
	const char *artist;

	a->deck = mixer_live(p->mix, DECK_A) ? DECK_B : DECK_A;
	if (a == &p->ovl)
		a->deck = DECK_OVERLAY;
	item_tags(a, a->src, title, sizeof(title), &artist);
	log_info("%s: %s%s%s (%s)", a == &p->ovl ? "over it" : "on air", artist,
	         artist[0] ? " - " : "", title, a->item.path);
	if (announce)
		for (size_t i = 0; i < *p->n_outs; i++)
			out_begin_item(p->outs[i], title, artist);
	mixer_load(p->mix, a->deck, a->src, item_level(p, &a->item), fade);
	a->src = NULL;
	a->live = true;
	a->start_ms = now_ms(p);
	a->shift_ms = p->clock.shift_ms;
	p->st.items++;
	count(p, STATUS_ITEMS, 1);
	if (announce && p->opt->status)
		status_on_air(p->opt->status, title, artist, a->item.path,
		              a->start_ms);
}

/* Whether a, not yet started, may be carried under overlay o or fade in
 * over fade frames: music of a known length, long enough. */
static bool can_mix_in(const struct onair *a, unsigned long long need)
{
	return a->item.mix_in && !a->item.overlay && a->limit &&
	       a->limit >= need;
}

static void clear(struct onair *a)
{
	source_close(a->src);
	memset(a, 0, sizeof(*a));
}

/* Starts the fetched item nxt as the item on air, now. An overlay first
 * fetches the item it goes over: that one goes on air, lowered over the
 * attack time, and the overlay starts when it is down. */
static int begin_next(struct play *p)
{
	struct onair *n = &p->nxt;
	int rc;

	if (n->item.overlay && !p->ovl.live && !p->ovl.src) {
		struct onair carrier = {0};
		unsigned long long attack =
		    ms_to_frames(n->item.attack_ms, p->rate);

		rc = fetch(p, &carrier, now_ms(p));
		if (rc != 0) {
			clear(n);
			return rc;
		}
		if (can_mix_in(&carrier,
		               attack +
		                   ms_to_frames(n->item.length_ms, p->rate) +
		                   ms_to_frames(n->item.release_ms, p->rate))) {
			p->ovl = *n;
			p->ovl.wait = attack;
			memset(n, 0, sizeof(*n));
			p->cur = carrier;
			go_live(p, &p->cur, 1.0f, true);
			mixer_ramp(p->mix, p->cur.deck, MIXER_DUCK,
			           p->ovl.item.duck_gain, attack, MIXER_DB);
			bed_follow(p, &p->cur.item);
			return 0;
		}
		/* Nothing to go over: the jingle alone, then that item. */
		p->cur = *n;
		*n = carrier;
		go_live(p, &p->cur, 1.0f, true);
		bed_follow(p, &p->cur.item);
		return 0;
	}
	p->cur = *n;
	memset(n, 0, sizeof(*n));
	go_live(p, &p->cur, 1.0f, true);
	bed_follow(p, &p->cur.item);
	return 0;
}

/* At the mix point of the item on air: fetch what follows (asked for
 * the time the item on air ends) and, if both allow it, start it under
 * the end of this one. */
static int mix_point(struct play *p)
{
	struct onair *c = &p->cur, *n = &p->nxt;
	unsigned long long left = c->limit - c->frames;
	int rc = fetch(p, n,
	               c->start_ms + (p->clock.shift_ms - c->shift_ms) +
	                   frames_to_ms(c->limit, p->rate));

	if (rc != 0)
		return rc;
	if (!can_mix_in(n, 2 * left))
		return 0; /* it waits for the end */
	go_live(p, n, 0.0f, true);
	mixer_ramp(p->mix, n->deck, MIXER_FADE, 1.0f, left, c->item.curve);
	mixer_ramp(p->mix, c->deck, MIXER_FADE, 0.0f, left, c->item.curve);
	return 0;
}

/* Whether the item on air may cross into the next one, where it is:
 * a crossfade out needs a known end, a length of twice the fade, no
 * fade-out of its own, and nothing fetched yet. */
static bool mixes_out(const struct play *p, unsigned long long *mix_at)
{
	const struct onair *c = &p->cur;
	unsigned long long xf = ms_to_frames(c->item.xfade_ms, p->rate);

	if (!c->live || !xf || !c->limit || c->item.fade_out ||
	    c->interrupted || p->nxt.src || p->nxt.live || c->limit < 2 * xf)
		return false;
	*mix_at = c->limit - xf;
	return true;
}

/* Frames from now until the mix point, or 0 when none is ahead. */
static unsigned long long until_mix(const struct play *p)
{
	unsigned long long at;

	if (!mixes_out(p, &at) || p->cur.frames >= at)
		return 0;
	return at - p->cur.frames;
}

static bool at_mix_point(const struct play *p)
{
	unsigned long long at;

	return mixes_out(p, &at) && p->cur.frames == at;
}

static void end_item(struct play *p, struct onair *a, bool early)
{
	const struct player_feed *feed = p->feed;

	if (feed->aired && a->frames > 0)
		feed->aired(feed->ctx, &a->item, a->start_ms,
		            frames_to_ms(a->frames, p->rate), early);
	if (a->item.id < 0 && a->frames > 0 && !early)
		count(p, STATUS_BULLETINS, 1);
	if (a->live)
		mixer_clear(p->mix, a->deck);
	clear(a);
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

/* Ends the item on air after a fade of fade_ms from here. */
static void fade_now(struct play *p, struct onair *a, int64_t fade_ms)
{
	unsigned long long fade = ms_to_frames(fade_ms, p->rate);

	if (a->limit && a->limit - a->frames <= fade)
		return; /* it ends sooner anyway */
	a->interrupted = true;
	a->fade_from = a->frames;
	a->limit = a->frames + fade;
	mixer_ramp(p->mix, a->deck, MIXER_FADE, 0.0f, fade, MIXER_EQUAL_POWER);
}

static unsigned long long min_nz(unsigned long long a, unsigned long long b)
{
	return b && b < a ? b : a;
}

/* How many frames to pull now: a block, cut at the next point where
 * something starts, ends or begins to fade. */
static size_t next_span(const struct play *p, unsigned long long max_left)
{
	const struct onair *c = &p->cur;
	unsigned long long want = p->block, bed_fade;

	want = min_nz(want, max_left);
	if (p->ask_at_ms > now_ms(p))
		want = min_nz(want,
		              ms_to_frames(p->ask_at_ms - now_ms(p), p->rate));
	if (c->limit)
		want = min_nz(want, c->limit - c->frames);
	if (c->fade_from > c->frames)
		want = min_nz(want, c->fade_from - c->frames);
	want = min_nz(want, until_mix(p));
	bed_fade = ms_to_frames(PLAYER_BED_FADE_MS, p->rate);
	if (c->item.bed_ends && c->limit > bed_fade &&
	    c->frames < c->limit - bed_fade)
		want = min_nz(want, c->limit - bed_fade - c->frames);
	if (p->nxt.live && p->nxt.limit)
		want = min_nz(want, p->nxt.limit - p->nxt.frames);
	if (p->ovl.src)
		want = min_nz(want, p->ovl.wait);
	if (p->ovl.live && p->ovl.limit)
		want = min_nz(want, p->ovl.limit - p->ovl.frames);
	return (size_t)want;
}

/* Counts a deck's frames; true when its item is over (its end, an error,
 * or its limit). */
static bool advance(struct onair *a, long got, size_t asked, bool *early)
{
	if (got > 0)
		a->frames += (unsigned long long)got;
	*early = got < 0 || a->interrupted;
	return got < (long)asked || (a->limit && a->frames >= a->limit);
}

/* The overlay ended: the music under it comes back up. */
static void overlay_done(struct play *p)
{
	unsigned long long rel = ms_to_frames(p->ovl.item.release_ms, p->rate);

	for (unsigned d = DECK_A; d <= DECK_B; d++)
		if (mixer_live(p->mix, d) &&
		    mixer_gain(p->mix, d, MIXER_DUCK) < 1.0f)
			mixer_ramp(p->mix, d, MIXER_DUCK, 1.0f, rel, MIXER_DB);
	end_item(p, &p->ovl, false);
}

/* The item on air ended: the one fading in (if any) leads now. */
static int cur_done(struct play *p, bool early, int *empty_in_a_row)
{
	const struct player_feed *feed = p->feed;
	struct onair *c = &p->cur;

	if (c->frames == 0) {
		/* Opened but held no audio: without this a feed of such
		 * files would spin. */
		log_warn("%s: no audio in it; skipped", c->item.path);
		p->st.skipped++;
		count(p, STATUS_SKIPPED, 1);
		if (feed->failed)
			feed->failed(feed->ctx, &c->item);
		if (++*empty_in_a_row == MAX_FAILS_IN_A_ROW) {
			log_error("%d items in a row held no audio; stopping",
			          MAX_FAILS_IN_A_ROW);
			end_item(p, c, true);
			return -ERR_EMPTY;
		}
	} else {
		*empty_in_a_row = 0;
	}
	end_item(p, c, early);
	if (p->nxt.live) {
		p->cur = p->nxt;
		memset(&p->nxt, 0, sizeof(p->nxt));
		bed_follow(p, &p->cur.item);
	}
	return 0;
}

static void end_all(struct play *p)
{
	if (p->ovl.live)
		end_item(p, &p->ovl, true);
	if (p->nxt.live)
		end_item(p, &p->nxt, true);
	if (p->cur.live)
		end_item(p, &p->cur, true);
	clear(&p->ovl);
	clear(&p->nxt);
	clear(&p->cur);
}

/* Waits for the tick's due time in real time. */
static void pace(struct play *p, long long *t0)
{
	long long due =
	    *t0 + (long long)(p->st.frames * 1000000000ULL / p->rate);
	long long now = mono_ns();

	if (now - due > MAX_LATE_NS) {
		log_warn("fell %.1f s behind real time; carrying on from now",
		         (double)(now - due) / 1e9);
		count(p, STATUS_UNDERRUNS, 1);
		*t0 += now - due;
		progclock_lost(&p->clock, now - due);
	} else if (due > now) {
		sleep_until_ns(due);
	}
}

/* One pull of the mix: the decks' ends handled, the block to the
 * outputs. 0, or <0 to stop. */
static int tick(struct play *p, size_t want, unsigned long long *quiet,
                struct limiter *lim, int *empty_in_a_row)
{
	const struct player_options *opt = p->opt;
	struct onair *c = &p->cur;
	long got[MIXER_DECKS];
	size_t n;
	bool early, over;
	int rc;

	/* Points reached: the item's own fade-out, the bed's fade-out, an
	 * overlay's start. */
	if (c->fade_from && c->fade_from == c->frames && !c->interrupted)
		mixer_ramp(p->mix, c->deck, MIXER_FADE, 0.0f,
		           c->limit - c->frames, MIXER_EQUAL_POWER);
	if (c->item.bed_ends && c->limit &&
	    c->frames + ms_to_frames(PLAYER_BED_FADE_MS, p->rate) == c->limit &&
	    mixer_live(p->mix, DECK_BED))
		mixer_ramp(p->mix, DECK_BED, MIXER_FADE, 0.0f,
		           c->limit - c->frames, MIXER_LINEAR);
	if (p->ovl.src && p->ovl.wait == 0)
		go_live(p, &p->ovl, 1.0f, false);
	n = mixer_pull(p->mix, c->deck, p->buf, want, got);
	if (p->ovl.src)
		p->ovl.wait -= n;
	if (p->ovl.live && advance(&p->ovl, got[DECK_OVERLAY], n, &early))
		overlay_done(p);
	if (p->nxt.live && n > 0 &&
	    advance(&p->nxt, got[p->nxt.deck], n, &early))
		end_item(p, &p->nxt, early);
	over = advance(c, got[c->deck], want, &early);
	if (n > 0) {
		if (opt->dead_air_ms > 0 &&
		    dead_air(c, p->buf, n, p->ch, p->rate, p->quiet_floor,
		             quiet, p->quiet_frames)) {
			p->st.skipped++;
			count(p, STATUS_SKIPPED, 1);
			count(p, STATUS_DEAD_AIR, 1);
			if (p->feed->failed)
				p->feed->failed(p->feed->ctx, &c->item);
			if (p->feed->dead_air)
				p->feed->dead_air(p->feed->ctx, &c->item,
				                  now_ms(p));
			/* The silence so far goes out; the item ends here. */
			c->interrupted = true;
			over = early = true;
		}
		if (lim)
			limiter_process(lim, p->buf, n);
		rc = send_block(p->outs, p->n_outs, p->buf, n);
		if (rc < 0)
			return rc;
		p->st.frames += n;
		count(p, STATUS_FRAMES, n);
		/* Counted where it happens: a drop shorter than the once a
		 * second below would not be seen there. */
		for (size_t i = 0; i < *p->n_outs; i++) {
			unsigned back = out_take_reconnects(p->outs[i]);

			if (back)
				count(p, STATUS_RECONNECTS, back);
		}
		if (opt->status &&
		    (p->st.frames == n ||
		     p->st.frames / p->rate != (p->st.frames - n) / p->rate)) {
			/* Once a second of audio: who is listening. */
			status_outputs(opt->status, *p->n_outs);
			for (size_t i = 0; i < *p->n_outs; i++)
				status_output(opt->status, i,
				              out_name(p->outs[i]),
				              out_connected(p->outs[i]));
		}
	}
	if (over)
		return cur_done(p, early, empty_in_a_row);
	return 0;
}

int player_run(const struct player_feed *feed, struct output **outs,
               size_t *n_outs, const struct player_options *opt,
               volatile sig_atomic_t *stop, struct player_stats *stats)
{
	struct play p = {.feed = feed,
	                 .opt = opt,
	                 .outs = outs,
	                 .n_outs = n_outs,
	                 .ch = opt->fmt.channels,
	                 .rate = opt->fmt.rate,
	                 .bed_duck = 1.0f};
	unsigned long long limit =
	    opt->max_seconds > 0
	        ? (unsigned long long)(opt->max_seconds * p.rate + 0.5)
	        : 0;
	struct limiter *lim = NULL;
	unsigned long long quiet = 0; /* frames below the dead-air level */
	unsigned long long stop_at = 0;
	bool stopping = false;
	long long t0;
	int rc = 0, empty_in_a_row = 0;

	p.block =
	    opt->block_frames ? opt->block_frames
	    : opt->realtime
	        ? (size_t)ms_to_frames(PLAYER_REALTIME_BLOCK_MS, opt->fmt.rate)
	        : DEFAULT_BLOCK_FRAMES;
	p.quiet_floor = (float)pow(10.0, opt->dead_air_db / 20.0);
	p.quiet_frames = ms_to_frames(opt->dead_air_ms, p.rate);
	p.buf = malloc(p.block * p.ch * sizeof(*p.buf));
	if (opt->limiter &&
	    (rc = limiter_new(&lim, p.rate, p.ch,
	                      opt->ceiling_dbtp - PLAYER_CODEC_MARGIN_DB)) < 0)
		log_error("limiter: cannot start (%s)", err_str(rc));
	if (rc == 0 && p.buf)
		rc = mixer_new(&p.mix, &opt->fmt, p.block);
	if (!p.buf || rc < 0) {
		free(p.buf);
		limiter_free(lim);
		return rc < 0 ? rc : -ENOMEM;
	}
	t0 = mono_ns();
	progclock_start(&p.clock, opt->start_ms, opt->follow_wall, opt->wall_ms,
	                opt->wall_ctx, t0);
	while (!limit || p.st.frames < limit) {
		size_t want;

		if (*stop && !stopping) {
			if (!opt->stop_fade_ms || !p.cur.live)
				break;
			stopping = true;
			stop_at = p.st.frames +
			          ms_to_frames(opt->stop_fade_ms, p.rate);
			for (unsigned d = 0; d < MIXER_DECKS; d++)
				if (mixer_live(p.mix, d))
					mixer_ramp(p.mix, d, MIXER_FADE, 0.0f,
					           stop_at - p.st.frames,
					           MIXER_EQUAL_POWER);
			log_info("stopping: fading out over %.1f s",
			         (double)opt->stop_fade_ms / 1000);
		}
		if (stopping && (p.st.frames >= stop_at || !p.cur.live))
			break;
		if (!p.cur.live) {
			if (!p.nxt.src)
				rc = fetch(&p, &p.nxt, now_ms(&p));
			if (rc == 0)
				rc = begin_next(&p);
			if (rc != 0)
				break;
		}
		if (!stopping && at_mix_point(&p)) {
			rc = mix_point(&p);
			if (rc != 0)
				break;
		}
		want = next_span(&p, limit ? limit - p.st.frames : 0);
		if (stopping && stop_at - p.st.frames < want)
			want = (size_t)(stop_at - p.st.frames);
		rc = tick(&p, want, &quiet, lim, &empty_in_a_row);
		if (rc < 0)
			break;
		p.ask_at_ms = 0;
		if (!stopping && feed->interrupt && p.cur.live &&
		    !p.cur.interrupted && !p.nxt.src && !p.nxt.live &&
		    !p.ovl.src && !p.ovl.live &&
		    feed->interrupt(feed->ctx, now_ms(&p), &p.ask_at_ms)) {
			fade_now(&p, &p.cur, PLAYER_INTERRUPT_FADE_MS);
			log_info("%s: faded out for what comes next",
			         p.cur.item.path);
		}
		if (feed->idle)
			feed->idle(feed->ctx);
		if (opt->tick)
			opt->tick(opt->tick_ctx);
		if (opt->realtime)
			pace(&p, &t0);
	}
	end_all(&p);
	mixer_free(p.mix);
	limiter_free(lim);
	free(p.buf);
	if (stats)
		*stats = p.st;
	return rc > 0 ? 0 : rc;
}
