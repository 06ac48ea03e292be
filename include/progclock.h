/*
 * progclock.h - programme time: when, in UTC ms, each frame the player
 * sends is on air; and, on air, keeping it to the wall clock.
 *
 * The one thing to know: programme time is start + shift + the frames
 * sent, so it never drifts from the audio, and the shift changes only
 * when the player asks (progclock_rebase(), between items). Following the
 * wall clock, it starts at the wall clock's time of the first frame, and
 * a rebase moves it by what the wall clock stepped against the monotonic
 * clock the audio is paced by (PROGCLOCK_STEP_MS or more: NTP at boot,
 * an operator's date -s) and by the real time the pacing gave up on
 * (progclock_lost(): underruns). No allocation, no locks: one owner.
 */
#ifndef PROGCLOCK_H
#define PROGCLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* A smaller difference is not a step (NTP slews such offsets away). */
#define PROGCLOCK_STEP_MS 2000

struct progclock {
	int64_t start_ms, shift_ms;
	bool follow;
	int64_t (*wall_ms)(void *ctx); /* NULL: CLOCK_REALTIME */
	void *wall_ctx;
	/* Following: the wall clock is expected at wall0_ms + the
	 * monotonic time since mono0_ns + stepped_ms; lost_ns waits for the
	 * next rebase. */
	int64_t wall0_ms, stepped_ms;
	long long mono0_ns, lost_ns;
};

/* Starts at start_ms, or (follow) at the wall clock now, with the
 * monotonic clock at mono_ns. wall_ms reads the wall clock in UTC ms
 * (NULL: CLOCK_REALTIME), for tests. */
void progclock_start(struct progclock *pc, int64_t start_ms, bool follow,
                     int64_t (*wall_ms)(void *ctx), void *wall_ctx,
                     long long mono_ns);

/* The programme time after frames_ms of audio. */
int64_t progclock_at(const struct progclock *pc, int64_t frames_ms);

/* The pacing gave up on ns of real time (an underrun). */
void progclock_lost(struct progclock *pc, long long ns);

/* Between items: moves programme time as above (following only; else
 * 0) and returns by how much (ms); *step_ms is the part that is a step
 * of the wall clock (0: none), which the caller logs and passes on. */
int64_t progclock_rebase(struct progclock *pc, long long mono_ns,
                         int64_t *step_ms);

#endif
