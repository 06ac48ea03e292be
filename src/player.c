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
#include <unistd.h>

#include "enccache.h"
#include "encoder.h"
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
	unsigned long long cue;       /* frames of the file before frame 0 */
	bool seekable;                /* at the station rate: exactly */
};

/* Passing through the item on air (enccache.h): off; armed (live up to
 * the first packet boundary, from); on (packets go out instead of the
 * mix). */
enum pass_state { PASS_OFF, PASS_ARMED, PASS_ON };

/* Everything the loop works with. */
struct play {
	const struct player_feed *feed;
	const struct player_options *opt;
	struct output **outs;
	size_t *n_outs;
	struct mixer *mix;
	struct player_stats st;
	size_t block;
	size_t pass_block; /* frames of a block while passing through */
	unsigned ch, rate;
	struct onair cur, nxt, ovl;
	float bed_duck; /* where the bed's duck envelope is going */
	float *buf;
	float quiet_floor;               /* dead_air_db as a peak level */
	unsigned long long quiet_frames; /* dead_air_ms in frames */
	struct progclock clock;          /* programme time */
	int64_t ask_at_ms;   /* the feed's interrupt deadline; 0: none */
	struct limiter *lim; /* NULL: none */
	size_t lat;          /* its latency: the outputs are this far behind */
	/* Passing through; positions are frames of the file on air (the
	 * outputs' position: the mix less lat). */
	bool pass_ok; /* a cache, and outputs that agree */
	enum pass_state pass;
	bool pass_tried;           /* the item on air's cache looked for */
	struct enccache *cache;    /* the item on air's, or NULL */
	struct enccache_spec spec; /* the item on air's */
	char key[ENCCACHE_KEY_LEN + 1];
	unsigned long long pass_pos, pass_to;
	unsigned long long pass_sent; /* where the last packet sent ends */
	struct enccache_packet first; /* armed: the link's first packet */
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

/* Output i failed for good (it logged why): say what happens now, and
 * drop it. */
static void lost(struct output **outs, size_t *n, size_t i)
{
	if (*n > 1)
		log_warn("%s: dropped; %zu other output(s) go on",
		         out_name(outs[i]), *n - 1);
	else
		log_error("no output left; stopping");
	drop_output(outs, n, i);
}

/* Sends one block to every output; drops those that fail for good. */
static int send_block(struct output **outs, size_t *n, const float *frames,
                      size_t nframes)
{
	int last_rc = 0;

	for (size_t i = 0; i < *n;) {
		int rc = out_write(outs[i], frames, nframes);

		if (rc < 0) {
			lost(outs, n, i);
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

			a->cue = cue;
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

float player_level(float gain, unsigned channels)
{
	/* Measured for stereo; mono loses 3 dB of it. */
	if (gain > 0)
		return gain * (channels == 1 ? 1.4125f : 1.0f);
	return 1.0f;
}

static float item_level(const struct play *p, const struct player_item *it)
{
	return player_level(it->gain, p->ch);
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
	a->seekable = source_native_rate(a->src) == p->rate;
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

static void pass_reset(struct play *p);

static void end_item(struct play *p, struct onair *a, bool early)
{
	const struct player_feed *feed = p->feed;

	if (a == &p->cur)
		pass_reset(p);

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
	unsigned long long want = p->pass == PASS_ON ? p->pass_block : p->block;
	unsigned long long bed_fade;

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

static void sent(struct play *p, size_t n);

/* ---- passing through (enccache.h) ----
 *
 * While the item on air plays alone and steady (no fade, crossfade,
 * overlay, bed or ducking), what the mix sends is the file times its level
 * through the limiter: exactly what its cached encoding holds. From the
 * first packet boundary on, the outputs get those packets in a logical
 * bitstream of their own, and nothing is decoded or encoded, until the
 * next thing that needs the mix. Then the pass link ends on the exact
 * frame, the source is moved there and the limiter primed with its
 * look-ahead, and the mix goes on in a new encoded link: gapless, since
 * every link ends and starts on the frame (granule positions). */

/* A clean stretch shorter than this stays live: each pass adds two links
 * to the stream, and the saving is small. */
#define PASS_MIN_MS 10000

static void pass_reset(struct play *p)
{
	enccache_close(p->cache);
	p->cache = NULL;
	p->pass = PASS_OFF;
	p->pass_tried = false;
}

/* The item on air's position in its file, as the outputs have it. */
static unsigned long long out_pos(const struct play *p)
{
	return p->cur.cue + p->cur.frames - p->lat;
}

/* Whether every output encodes alike: then one cached encoding serves
 * them all. */
static bool outputs_agree(const struct play *p)
{
	const struct enc_config *a;

	if (!*p->n_outs)
		return false;
	a = out_enc_config(p->outs[0]);
	for (size_t i = 1; i < *p->n_outs; i++) {
		const struct enc_config *b = out_enc_config(p->outs[i]);

		if (a->fmt.rate != b->fmt.rate ||
		    a->fmt.channels != b->fmt.channels ||
		    a->quality != b->quality ||
		    a->bitrate_kbps != b->bitrate_kbps)
			return false;
	}
	return true;
}

/* The item on air's cached encoding is broken (it said how): it goes,
 * and is asked for again. */
static void pass_broken(struct play *p)
{
	char path[PLAYER_PATH_MAX + 64];

	enccache_close(p->cache);
	p->cache = NULL;
	snprintf(path, sizeof(path), "%s/%s.ogg", p->opt->pass_dir, p->key);
	if (unlink(path) == 0 && p->opt->pass_missing)
		p->opt->pass_missing(p->opt->pass_ctx, &p->spec);
}

/* The item on air's cached encoding, looked for once; when there is none,
 * opt->pass_missing hears what to make. */
static struct enccache *pass_cache(struct play *p)
{
	const struct player_options *opt = p->opt;
	struct enccache_spec *sp = &p->spec;
	const struct enc_config *ec;
	int rc;

	if (p->pass_tried)
		return p->cache;
	p->pass_tried = true;
	if (!outputs_agree(p))
		return NULL;
	ec = out_enc_config(p->outs[0]);
	memset(sp, 0, sizeof(*sp));
	sp->path = p->cur.item.path;
	if (source_file_id(mixer_source(p->mix, p->cur.deck), &sp->size,
	                   &sp->mtime_ns) < 0)
		return NULL;
	sp->level = item_level(p, &p->cur.item);
	sp->fmt = opt->fmt;
	sp->enc_channels = ec->fmt.channels;
	sp->quality = ec->quality;
	sp->bitrate_kbps = ec->bitrate_kbps;
	sp->limiter = p->lim != NULL;
	sp->ceiling_dbtp = opt->ceiling_dbtp - PLAYER_CODEC_MARGIN_DB;
	sp->dead_air_ms = opt->dead_air_ms;
	sp->dead_air_db = opt->dead_air_db;
	enccache_key(sp, p->key);
	rc = enccache_open(&p->cache, opt->pass_dir, p->key);
	if (rc == -ENOENT && opt->pass_missing)
		opt->pass_missing(opt->pass_ctx, sp);
	else if (rc < 0)
		pass_broken(p);
	return p->cache;
}

static unsigned long long min_set(unsigned long long a, unsigned long long b)
{
	return !a || (b && b < a) ? b : a;
}

/* At a block boundary, with nothing under way: arms a pass when the item
 * on air has a cached encoding and a clean stretch ahead long enough. */
static void pass_try(struct play *p, unsigned long long max_left)
{
	const struct onair *c = &p->cur;
	unsigned long long left = 0, at, total;
	struct enccache *cache;

	if (!p->pass_ok || p->pass != PASS_OFF || !c->live || !c->seekable ||
	    c->interrupted || !c->item.mix_in || c->item.overlay ||
	    p->nxt.src || p->nxt.live || p->ovl.src || p->ovl.live ||
	    mixer_live(p->mix, DECK_BED) || !mixer_steady(p->mix, c->deck) ||
	    c->frames < p->lat || !(cache = pass_cache(p)))
		return;
	/* Frames until the next thing that needs the mix. */
	if (c->limit)
		left = c->limit - c->frames;
	if (c->fade_from > c->frames)
		left = min_set(left, c->fade_from - c->frames);
	left = min_set(left, until_mix(p));
	left = min_set(left, max_left);
	if (p->ask_at_ms > now_ms(p))
		left = min_set(left,
		               ms_to_frames(p->ask_at_ms - now_ms(p), p->rate));
	at = out_pos(p);
	total = enccache_frames(cache);
	if (at >= total)
		return;
	left = min_set(left, total - at);
	if (left < ms_to_frames(PASS_MIN_MS, p->rate) ||
	    enccache_seek(cache, at) < 0 ||
	    enccache_next(cache, &p->first) != 0 ||
	    p->first.end + ms_to_frames(PASS_MIN_MS, p->rate) > at + left)
		return;
	p->pass_to = at + left;
	p->pass = PASS_ARMED;
}

/* What pass_out() does on every output. */
enum pass_call { PASS_BEGIN, PASS_READY, PASS_PACKET, PASS_FLUSH };

/* Calls out_pass_begin(), out_pass_ready(), out_pass_packet() with pk or
 * out_flush() on every output; drops those that fail. 0, or a negative
 * code when none is left. */
static int pass_out(struct play *p, enum pass_call call,
                    const struct enccache_packet *pk)
{
	int last_rc = 0;

	for (size_t i = 0; i < *p->n_outs;) {
		struct output *o = p->outs[i];
		int rc;

		switch (call) {
		case PASS_BEGIN:
			rc = out_pass_begin(o, enccache_header(p->cache, 0),
			                    enccache_header(p->cache, 2));
			break;
		case PASS_READY:
			rc = out_pass_ready(o);
			break;
		case PASS_PACKET:
			rc = out_pass_packet(o, pk->data, pk->len, pk->end);
			break;
		default:
			rc = out_flush(o);
			break;
		}
		if (rc < 0) {
			lost(p->outs, p->n_outs, i);
			last_rc = rc;
			continue;
		}
		i++;
	}
	return *p->n_outs ? 0 : (last_rc ? last_rc : -ERR_USAGE);
}

/* Armed, and the outputs have reached the first packet: the pass link
 * starts. */
static int pass_begin(struct play *p)
{
	int rc = pass_out(p, PASS_BEGIN, NULL);

	if (rc == 0)
		rc = pass_out(p, PASS_PACKET, &p->first);
	if (rc < 0)
		return rc;
	p->pass_pos = p->pass_sent = p->first.end;
	p->pass = PASS_ON;
	log_debug("%s: %.1f s passed through from its cached encoding",
	          p->cur.item.path,
	          (double)(p->pass_to - p->pass_pos) / p->rate);
	return 0;
}

/* want frames of the pass: the packets that cover them. */
static int pass_tick(struct play *p, size_t want)
{
	unsigned long long n = want, target;
	int rc;

	if (n > p->pass_to - p->pass_pos)
		n = p->pass_to - p->pass_pos;
	rc = pass_out(p, PASS_READY, NULL);
	if (rc < 0)
		return rc;
	target = p->pass_pos + n;
	while (p->pass_sent < target) {
		struct enccache_packet pk;

		rc = enccache_next(p->cache, &pk);
		if (rc != 0) {
			/* Cut short (a failure is logged): the mix goes on
			 * from where the packets end. */
			if (rc > 0)
				log_warn("encoded cache: %s/%s.ogg ended "
				         "early",
				         p->opt->pass_dir, p->key);
			target = p->pass_to = p->pass_sent;
			n = target > p->pass_pos ? target - p->pass_pos : 0;
			/* No packet is read after this: the pass ends at
			 * pass_to, and the outputs open no pass link before
			 * out_pass_end(). */
			pass_broken(p);
			break;
		}
		rc = pass_out(p, PASS_PACKET, &pk);
		if (rc < 0)
			return rc;
		p->pass_sent = pk.end;
	}
	rc = pass_out(p, PASS_FLUSH, NULL);
	if (rc < 0)
		return rc;
	p->pass_pos += n;
	p->cur.frames += n;
	p->st.passed += n;
	count(p, STATUS_PASSED, n);
	sent(p, (size_t)n);
	return 0;
}

/* Back to the mix: the pass link ends where the outputs are, the source
 * moves there, and the limiter is primed with its look-ahead. 0; 1 when
 * the item cannot go on (logged); < 0 when no output is left. */
static int pass_end(struct play *p, unsigned long long *quiet)
{
	struct onair *c = &p->cur;
	long got[MIXER_DECKS];
	int last_rc = 0, rc;

	if (p->pass != PASS_ON) {
		p->pass = PASS_OFF;
		return 0;
	}
	p->pass = PASS_OFF;
	for (size_t i = 0; i < *p->n_outs;) {
		/* The mix goes on in an encoded link of its own, with the
		 * item's tags. */
		rc = out_pass_end(p->outs[i], p->pass_pos);
		if (rc < 0) {
			lost(p->outs, p->n_outs, i);
			last_rc = rc;
			continue;
		}
		i++;
	}
	if (!*p->n_outs)
		return last_rc ? last_rc : -ERR_USAGE;
	*quiet = 0;
	rc = mixer_seek(p->mix, c->deck, p->pass_pos);
	if (rc < 0) {
		log_warn("%s: cannot go on after its cached part (%s); it ends "
		         "here",
		         c->item.path, err_str(rc));
		return 1;
	}
	if (p->lim) {
		limiter_reset(p->lim);
		if (mixer_pull(p->mix, c->deck, p->buf, p->lat, got) < p->lat)
			return 1; /* its end, or a failure it logged */
		limiter_process(p->lim, p->buf, p->lat);
	}
	return 0;
}

/* n frames went out: counted, and once a second of audio the outputs'
 * state goes to the status. */
static void sent(struct play *p, size_t n)
{
	const struct player_options *opt = p->opt;

	p->st.frames += n;
	count(p, STATUS_FRAMES, n);
	/* Counted where it happens: a drop shorter than the once a second
	 * below would not be seen there. */
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
			status_output(opt->status, i, out_name(p->outs[i]),
			              out_connected(p->outs[i]));
	}
}

/* One pull of the mix: the decks' ends handled, the block to the
 * outputs. 0, or <0 to stop. */
static int tick(struct play *p, size_t want, unsigned long long *quiet,
                int *empty_in_a_row)
{
	const struct player_options *opt = p->opt;
	struct limiter *lim = p->lim;
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
		sent(p, n);
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
	/* A pass needs no buffer, and its blocks can be longer: fewer
	 * wake-ups, each with the same few system calls. "Now" breaking
	 * news and stop requests wait up to one block (0.6 s more). */
	p.pass_block =
	    opt->realtime && !opt->block_frames
	        ? (size_t)ms_to_frames(PLAYER_PASS_BLOCK_MS, opt->fmt.rate)
	        : p.block;
	p.quiet_floor = (float)pow(10.0, opt->dead_air_db / 20.0);
	p.quiet_frames = ms_to_frames(opt->dead_air_ms, p.rate);
	p.buf = malloc(p.block * p.ch * sizeof(*p.buf));
	if (opt->limiter &&
	    (rc = limiter_new(&p.lim, p.rate, p.ch,
	                      opt->ceiling_dbtp - PLAYER_CODEC_MARGIN_DB)) < 0)
		log_error("limiter: cannot start (%s)", err_str(rc));
	p.lat = p.lim ? limiter_latency(p.lim) : 0;
	p.pass_ok = opt->pass_dir && opt->pass_dir[0];
	if (rc == 0 && p.buf)
		rc = mixer_new(&p.mix, &opt->fmt, p.block);
	if (!p.buf || rc < 0) {
		free(p.buf);
		limiter_free(p.lim);
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
			rc = pass_end(&p, &quiet);
			if (rc < 0)
				break;
			if (rc > 0) {
				rc = cur_done(&p, true, &empty_in_a_row);
				break;
			}
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
		if (p.pass == PASS_ON && p.pass_pos == p.pass_to) {
			rc = pass_end(&p, &quiet);
			if (rc < 0)
				break;
			if (rc > 0) {
				rc = cur_done(&p, true, &empty_in_a_row);
				if (rc < 0)
					break;
				continue;
			}
		}
		if (!stopping && at_mix_point(&p)) {
			rc = mix_point(&p);
			if (rc != 0)
				break;
		}
		if (!stopping)
			pass_try(&p, limit ? limit - p.st.frames : 0);
		want = next_span(&p, limit ? limit - p.st.frames : 0);
		if (stopping && stop_at - p.st.frames < want)
			want = (size_t)(stop_at - p.st.frames);
		if (p.pass == PASS_ARMED) {
			unsigned long long at = out_pos(&p);

			if (at == p.first.end) {
				rc = pass_begin(&p);
				if (rc < 0)
					break;
			} else if (at < p.first.end) {
				want = (size_t)min_set(want, p.first.end - at);
			} else {
				p.pass = PASS_OFF;
			}
		}
		rc = p.pass == PASS_ON
		         ? pass_tick(&p, want)
		         : tick(&p, want, &quiet, &empty_in_a_row);
		if (rc < 0)
			break;
		p.ask_at_ms = 0;
		if (!stopping && feed->interrupt && p.cur.live &&
		    !p.cur.interrupted && !p.nxt.src && !p.nxt.live &&
		    !p.ovl.src && !p.ovl.live &&
		    feed->interrupt(feed->ctx, now_ms(&p), &p.ask_at_ms)) {
			/* The fade needs the mix. */
			rc = pass_end(&p, &quiet);
			if (rc > 0) {
				rc = cur_done(&p, true, &empty_in_a_row);
			} else if (rc == 0) {
				fade_now(&p, &p.cur, PLAYER_INTERRUPT_FADE_MS);
				log_info("%s: faded out for what comes next",
				         p.cur.item.path);
			}
			if (rc < 0)
				break;
		}
		if (feed->idle)
			feed->idle(feed->ctx);
		if (opt->tick)
			opt->tick(opt->tick_ctx);
		if (opt->realtime)
			pace(&p, &t0);
	}
	if (p.pass == PASS_ON) {
		/* The stream ends exactly where the programme does. */
		for (size_t i = 0; i < *n_outs; i++)
			out_pass_end(outs[i], p.pass_pos);
		pass_out(&p, PASS_FLUSH, NULL);
	}
	if (p.st.passed)
		log_info("%.1f s of %.1f s passed through from cached "
		         "encodings",
		         (double)p.st.passed / p.rate,
		         (double)p.st.frames / p.rate);
	end_all(&p);
	mixer_free(p.mix);
	limiter_free(p.lim);
	free(p.buf);
	if (stats)
		*stats = p.st;
	return rc > 0 ? 0 : rc;
}
