/*
 * test_player.c - programme time on the wall clock (follow_wall), in real
 * time: it starts at the wall clock's time of the first frame; a step of
 * the wall clock an hour forward and back moves the next item's time by
 * the step (logged once each, the feed told), while the item on air keeps
 * its start; time lost to an underrun is caught up at the next item; and
 * without follow_wall nothing moves.
 *
 * And an interrupt deadline the feed names ends a block there: the fade
 * starts on time, not up to a block late (breaking news).
 *
 * The wall clock is the player's wall_ms hook: the real one plus an
 * offset the feed changes as a test step, so the machine's clock is never
 * touched; the pacing runs on the real monotonic clock.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "player.h"
#include "testutil.h"

#define RATE 8000
#define ITEM_MS 500
#define NITEMS 8
#define HOUR_MS 3600000LL

struct tfeed {
	const char *path;
	int calls;
	int64_t at[NITEMS];      /* the programme time each item was asked at */
	int64_t started[NITEMS]; /* and what aired() said */
	int naired;
	int64_t step[4]; /* what clock_step() was told */
	int nstep;
	int64_t offset_ms; /* the fake wall clock's */
	struct {
		int call;
		int64_t offset_ms; /* the wall clock steps to this... */
		int stall_ms;      /* ...or the feed stalls this long */
	} ev[3];
};

static int64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t fake_wall(void *ctx)
{
	const struct tfeed *f = ctx;

	return real_ms() + f->offset_ms;
}

static int next(void *ctx, int64_t at_ms, struct player_item *item)
{
	struct tfeed *f = ctx;

	if (f->calls >= NITEMS)
		return 1;
	f->at[f->calls] = at_ms;
	memset(item, 0, sizeof(*item));
	snprintf(item->path, sizeof(item->path), "%s", f->path);
	item->length_ms = ITEM_MS;
	item->id = f->calls + 1;
	/* What happens while this item plays. */
	for (size_t i = 0; i < sizeof(f->ev) / sizeof(*f->ev); i++) {
		if (f->ev[i].call != f->calls)
			continue;
		if (f->ev[i].stall_ms) {
			struct timespec ts = {f->ev[i].stall_ms / 1000,
			                      f->ev[i].stall_ms % 1000 *
			                          1000000L};

			nanosleep(&ts, NULL);
		} else {
			f->offset_ms = f->ev[i].offset_ms;
		}
	}
	f->calls++;
	return 0;
}

static void aired(void *ctx, const struct player_item *item, int64_t at_ms,
                  int64_t dur_ms, bool ended_early)
{
	struct tfeed *f = ctx;

	(void)dur_ms;
	(void)ended_early;
	if (item->id >= 1 && item->id <= NITEMS)
		f->started[item->id - 1] = at_ms;
	f->naired++;
}

static void clock_step(void *ctx, int64_t delta_ms)
{
	struct tfeed *f = ctx;

	if (f->nstep < 4)
		f->step[f->nstep] = delta_ms;
	f->nstep++;
}

static int64_t gap(const struct tfeed *f, int k)
{
	return f->at[k] - f->at[k - 1] - ITEM_MS;
}

static bool near(int64_t a, int64_t b, int64_t tol)
{
	return a - b <= tol && b - a <= tol;
}

/* Plays NITEMS items: the clock steps an hour forward while item 1 plays
 * and back while item 3 does; the feed stalls 2.3 s asking for item 5. */
static void play(bool follow, struct tfeed *f)
{
	struct player_feed feed = {
	    .next = next, .aired = aired, .clock_step = clock_step, .ctx = f};
	struct player_options opt = {.fmt = {RATE, 1},
	                             .block_frames = 256,
	                             .realtime = true,
	                             .start_ms = 1000,
	                             .follow_wall = follow,
	                             .wall_ms = fake_wall,
	                             .wall_ctx = f};
	struct out_options oo = {.fmt = {RATE, 1}};
	struct output *outs[1];
	size_t n = 0;
	volatile sig_atomic_t stop = 0;

	f->ev[0].call = 1;
	f->ev[0].offset_ms = HOUR_MS;
	f->ev[1].call = 3;
	f->ev[1].offset_ms = 0;
	f->ev[2].call = 5;
	f->ev[2].stall_ms = 2300;
	CHECK(out_open(&outs[0], "null:", &oo) == 0);
	n = 1;
	CHECK(player_run(&feed, outs, &n, &opt, &stop, NULL) == 0);
	for (size_t i = 0; i < n; i++)
		out_close(outs[i]);
	CHECK(f->calls == NITEMS && f->naired == NITEMS);
	/* An item keeps the start it aired at, whatever came after. */
	for (int k = 0; k < NITEMS; k++)
		CHECKF(f->started[k] == f->at[k], "item %d: %lld, asked %lld",
		       k, (long long)f->started[k], (long long)f->at[k]);
}

static void test_follow(void)
{
	struct tfeed f = {.path = test_path("tone.wav")};
	int64_t start = real_ms();
	const char *log;

	test_capture_begin();
	play(true, &f);
	log = test_capture_end();
	/* The first frame at the wall clock's time, not at start_ms. */
	CHECKF(near(f.at[0], start, 300), "first at %lld, wall %lld",
	       (long long)f.at[0], (long long)start);
	CHECK(gap(&f, 1) == 0);
	/* The step while item 1 played moves item 2, not item 1. */
	CHECKF(near(gap(&f, 2), HOUR_MS, 5), "step: %lld",
	       (long long)gap(&f, 2));
	CHECK(gap(&f, 3) == 0);
	CHECKF(near(gap(&f, 4), -HOUR_MS, 5), "step back: %lld",
	       (long long)gap(&f, 4));
	CHECK(gap(&f, 5) == 0);
	/* The stall asking for item 5 was lost to an underrun: item 6 is
	 * asked for at the wall clock's time, and no step is said. */
	CHECKF(near(gap(&f, 6), 2300, 200), "caught up %lld ms",
	       (long long)gap(&f, 6));
	CHECK(gap(&f, 7) == 0);
	CHECKF(f.nstep == 2 && near(f.step[0], HOUR_MS, 5) &&
	           near(f.step[1], -HOUR_MS, 5),
	       "%d steps", f.nstep);
	CHECK(strstr(log, "the wall clock stepped +3600 s; the schedule "
	                  "follows it") != NULL);
	CHECK(strstr(log, "the wall clock stepped -3600 s") != NULL);
	CHECK(strstr(log, "behind real time") != NULL);
}

static void test_fixed(void)
{
	struct tfeed f = {.path = test_path("tone.wav")};

	test_capture_begin();
	play(false, &f);
	test_capture_end();
	/* Programme time is start_ms plus the frames: nothing moves it. */
	CHECK(f.at[0] == 1000);
	for (int k = 1; k < NITEMS; k++)
		CHECKF(gap(&f, k) == 0, "item %d: %lld", k,
		       (long long)gap(&f, k));
	CHECK(f.nstep == 0);
}

/* A feed of one long item and a deadline: interrupt() says "not yet,
 * ask me at deadline_ms" until then. */
struct ifeed {
	const char *path;
	int calls, asked;
	int64_t start_ms, deadline_ms, faded_at_ms;
	int64_t dur_ms;
	bool early;
	bool tell; /* whether interrupt() names its deadline */
};

static int inext(void *ctx, int64_t at_ms, struct player_item *item)
{
	struct ifeed *f = ctx;

	if (f->calls++ > 0)
		return 1; /* the end of the feed */
	f->start_ms = at_ms;
	memset(item, 0, sizeof(*item));
	snprintf(item->path, sizeof(item->path), "%s", f->path);
	item->length_ms = 5000;
	item->id = 1;
	return 0;
}

static bool iinterrupt(void *ctx, int64_t at_ms, int64_t *ask_at_ms)
{
	struct ifeed *f = ctx;

	f->asked++;
	if (at_ms < f->deadline_ms) {
		if (f->tell)
			*ask_at_ms = f->deadline_ms;
		return false;
	}
	f->faded_at_ms = at_ms;
	return true;
}

static void iaired(void *ctx, const struct player_item *item, int64_t at_ms,
                   int64_t dur_ms, bool ended_early)
{
	struct ifeed *f = ctx;

	(void)item;
	(void)at_ms;
	f->dur_ms = dur_ms;
	f->early = ended_early;
}

/* Blocks of half a second: the fade starts at the deadline the feed
 * named, not at the end of the block it falls in. */
static void run_interrupt(struct ifeed *f)
{
	struct player_feed feed = {
	    .next = inext, .aired = iaired, .interrupt = iinterrupt, .ctx = f};
	struct player_options opt = {
	    .fmt = {RATE, 1}, .block_frames = RATE / 2, .start_ms = 1000};
	struct out_options oo = {.fmt = {RATE, 1}};
	struct output *outs[1];
	size_t n = 0;
	volatile sig_atomic_t stop = 0;

	CHECK(out_open(&outs[0], "null:", &oo) == 0);
	n = 1;
	CHECK(player_run(&feed, outs, &n, &opt, &stop, NULL) == 0);
	for (size_t i = 0; i < n; i++)
		out_close(outs[i]);
}

static void test_interrupt_deadline(void)
{
	struct ifeed f = {.path = test_path("long.wav"),
	                  .deadline_ms = 1000 + 1730,
	                  .tell = true};
	struct ifeed g = f;

	test_capture_begin();
	run_interrupt(&f);
	g.tell = false;
	run_interrupt(&g);
	test_capture_end();
	CHECKF(f.faded_at_ms == f.deadline_ms, "faded at %lld, deadline %lld",
	       (long long)f.faded_at_ms, (long long)f.deadline_ms);
	CHECKF(f.early && f.dur_ms == 1730 + PLAYER_INTERRUPT_FADE_MS,
	       "aired %lld ms", (long long)f.dur_ms);
	/* Asked after each of the first three blocks, then at the deadline. */
	CHECKF(f.asked == 4, "asked %d times", f.asked);
	/* Untold, it is asked after each block: the fade comes at the end
	 * of the block the deadline falls in. */
	CHECKF(g.faded_at_ms == 1000 + 2000, "untold: faded at %lld",
	       (long long)g.faded_at_ms);
}

int main(void)
{
	test_tmpdir();
	CHECK(test_write_sine_wav(test_path("tone.wav"), RATE, 1,
	                          (double)ITEM_MS / 1000, 440) == 0);
	CHECK(test_write_sine_wav(test_path("long.wav"), RATE, 1, 5.0, 440) ==
	      0);
	test_follow();
	test_fixed();
	test_interrupt_deadline();
	return test_done();
}
