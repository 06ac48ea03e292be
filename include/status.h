/*
 * status.h - what the station is doing, for the status API and the
 * metrics: written by the audio thread, read by the HTTP thread.
 *
 * The one thing to know: writers never wait long (one mutex held for a
 * copy of a few strings or an add), and a reader takes a snapshot, so
 * nothing in the audio path ever waits for a slow client.
 */
#ifndef STATUS_H
#define STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATUS_TEXT_MAX 256
#define STATUS_OUTPUTS_MAX 8

enum status_counter {
	STATUS_FRAMES,     /* frames sent to the outputs */
	STATUS_ITEMS,      /* items that went on air */
	STATUS_SKIPPED,    /* items that could not be played */
	STATUS_DEAD_AIR,   /* dead-air events */
	STATUS_BULLETINS,  /* bulletins that aired whole */
	STATUS_UNDERRUNS,  /* times the audio loop fell behind real time */
	STATUS_RECONNECTS, /* outputs that came back after a drop */
	STATUS_PASSED,     /* frames passed through from cached encodings */
	STATUS_COUNTERS
};

struct status_output {
	char name[STATUS_TEXT_MAX]; /* out_name(): no password */
	bool connected;
	/* On its Icecast server, from the listeners module; -1: unknown (not
	 * an Icecast mount, or its server could not be read). */
	int listeners;
	int64_t listeners_at_ms; /* when last read (wall clock); 0: never */
};

#define STATUS_NEXT_MAX 5

/* An item the scheduler expects to air after the one on air. */
struct status_next {
	char title[STATUS_TEXT_MAX], artist[STATUS_TEXT_MAX];
	const char *kind; /* sched_kind_name(): static */
	int64_t at_ms;    /* when it should start (UTC ms) */
	int64_t length_ms;
};

struct status_snapshot {
	char title[STATUS_TEXT_MAX], artist[STATUS_TEXT_MAX];
	char path[STATUS_TEXT_MAX];
	int64_t started_ms; /* of the item on air; 0: none yet */
	int64_t up_since_ms;
	unsigned rate;
	unsigned long long count[STATUS_COUNTERS];
	struct status_output out[STATUS_OUTPUTS_MAX];
	size_t n_out;
	struct status_next next[STATUS_NEXT_MAX];
	size_t n_next;
};

struct status;

/* 0 or -ENOMEM. rate: the station's, for seconds of audio. */
int status_new(struct status **out, unsigned rate, int64_t now_ms);
void status_free(struct status *s);

/* The item that just went on air. */
void status_on_air(struct status *s, const char *title, const char *artist,
                   const char *path, int64_t started_ms);
void status_add(struct status *s, enum status_counter c, unsigned long long n);
/* Output i's name and whether audio reaches it. (Its reconnects are
 * counted by the player, STATUS_RECONNECTS, from out_take_reconnects().) */
void status_output(struct status *s, size_t i, const char *name,
                   bool connected);
/* The outputs now number n (one failed for good and was dropped). */
void status_outputs(struct status *s, size_t n);
/*
 * The listeners of the output named name (its out_name()), as its Icecast
 * server last told (-1: unknown), and when that read was (wall clock ms).
 * Kept by name, so it follows the output when another one is dropped, and
 * reaches an output the audio thread has not reported yet.
 */
void status_listeners(struct status *s, const char *name, int listeners,
                      int64_t at_ms);

/* What is expected after the item going on air now (n items, at most
 * STATUS_NEXT_MAX are kept). */
void status_next(struct status *s, const struct status_next *next, size_t n);

void status_get(struct status *s, struct status_snapshot *out);

#endif
