/*
 * progclock.c - programme time, and keeping it to the wall clock on air.
 *
 * The one thing to know: a step is measured as the change of (wall clock
 * - monotonic clock) since the start, less the steps already followed,
 * never as (wall clock - programme time): the pacing may run up to two
 * seconds late on a busy machine and catch up, which is not a step.
 */
#include "progclock.h"

#include <stddef.h>
#include <time.h>

static int64_t wall_now(const struct progclock *pc)
{
	struct timespec ts;

	if (pc->wall_ms)
		return pc->wall_ms(pc->wall_ctx);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void progclock_start(struct progclock *pc, int64_t start_ms, bool follow,
                     int64_t (*wall_ms)(void *ctx), void *wall_ctx,
                     long long mono_ns)
{
	*pc = (struct progclock){.start_ms = start_ms,
	                         .follow = follow,
	                         .wall_ms = wall_ms,
	                         .wall_ctx = wall_ctx,
	                         .mono0_ns = mono_ns};
	if (follow)
		pc->wall0_ms = pc->start_ms = wall_now(pc);
}

int64_t progclock_at(const struct progclock *pc, int64_t frames_ms)
{
	return pc->start_ms + pc->shift_ms + frames_ms;
}

void progclock_lost(struct progclock *pc, long long ns)
{
	pc->lost_ns += ns;
}

int64_t progclock_rebase(struct progclock *pc, long long mono_ns,
                         int64_t *step_ms)
{
	int64_t step, lost;

	*step_ms = 0;
	if (!pc->follow)
		return 0;
	step = wall_now(pc) - pc->wall0_ms -
	       (mono_ns - pc->mono0_ns) / 1000000 - pc->stepped_ms;
	if (step <= -PROGCLOCK_STEP_MS || step >= PROGCLOCK_STEP_MS) {
		pc->stepped_ms += step;
		*step_ms = step;
	} else {
		step = 0;
	}
	lost = (int64_t)(pc->lost_ns / 1000000);
	pc->lost_ns -= (long long)lost * 1000000;
	pc->shift_ms += step + lost;
	return step + lost;
}
