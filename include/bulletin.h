/*
 * bulletin.h - the city news queue in SQLite: intake, states, what is due.
 *
 * The one thing to know: a bulletin's state changes only here, each change
 * one transaction that checks the state it comes from, so two processes
 * (the CLI and the daemon) can never both move the same bulletin. It is
 * marked aired in the same transaction as its as-run row, and only after
 * its last sample went to the outputs; one found on_air at start-up goes
 * back to be aired again. Where a function below says -ERR_DB, it may
 * also be -ERR_DB_BUSY: another connection held the lock past the busy
 * timeout, nothing was written, and the same call may succeed later.
 */
#ifndef BULLETIN_H
#define BULLETIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

#define BULLETIN_BY_MAX 64
#define BULLETIN_PATH_MAX 4096

enum bulletin_state {
	BULLETIN_QUEUED,
	BULLETIN_RENDERED,
	BULLETIN_ON_AIR,
	BULLETIN_AIRED,
	BULLETIN_EXPIRED,
	BULLETIN_WITHDRAWN,
	BULLETIN_FAILED,
};

/* A bulletin as submitted. Times are UTC ms; 0 for none. */
struct bulletin_new {
	const char *text; /* as typed: cleaned by bulletin_add() */
	size_t text_len;
	const char *lang; /* "en", "af" or "tn"; NULL or "" for "en" */
	bool breaking;
	const char *by; /* who submitted it; NULL or "" for "" */
	int64_t not_before_ms, expires_ms;
};

/* A bulletin as the queue holds it. */
struct bulletin {
	int64_t id;
	char lang[4];
	bool breaking;
	enum bulletin_state state;
	char by[BULLETIN_BY_MAX];
	int64_t submitted_ms, not_before_ms, expires_ms; /* 0: none */
	char audio_path[BULLETIN_PATH_MAX];              /* "" until rendered */
	int64_t duration_ms;                             /* 0 until rendered */
	double loudness_lufs; /* of the rendered audio; NAN if unknown */
	char *text; /* malloc'd, owned by the struct: bulletin_clear() */
};

/* "queued", "on air", ... */
const char *bulletin_state_name(enum bulletin_state s);

/*
 * Queues a bulletin submitted at now_ms: its text cleaned (textnorm), its
 * language, length and times checked. 0 with *id; -ERR_INVALID with one
 * line in why (nothing written); -ERR_DB (logged).
 */
int bulletin_add(struct store *st, const struct bulletin_new *b, int64_t now_ms,
                 int64_t *id, char *why, size_t whylen);

/* Withdraws a bulletin that has not gone on air: 0; -ERR_NOT_FOUND;
 * -ERR_CONFLICT (on air, aired or already ended) with why; -ERR_DB. */
int bulletin_withdraw(struct store *st, int64_t id, int64_t now_ms, char *why,
                      size_t whylen);

/* Start-up: on_air ones go back to rendered (their audio still there) or
 * queued. The number moved, or -ERR_DB. */
int bulletin_recover(struct store *st, int64_t now_ms);

/* Queued or rendered ones whose expiry passed become expired (their
 * files are kept). The number, or -ERR_DB. */
int bulletin_expire(struct store *st, int64_t now_ms);

/*
 * The next queued bulletin to speak: breaking first, then those due
 * soonest (not_before at most horizon_ms ahead), oldest first. 1 with *b
 * filled (bulletin_clear() it), 0 if none, -ERR_DB.
 */
int bulletin_next_to_render(struct store *st, int64_t now_ms,
                            int64_t horizon_ms, struct bulletin *b);

/* queued -> rendered, with its audio and its loudness (NAN: unknown).
 * 0, -ERR_CONFLICT (no longer queued: withdrawn meanwhile), -ERR_DB. */
int bulletin_set_rendered(struct store *st, int64_t id, const char *path,
                          int64_t duration_ms, double lufs, int64_t now_ms);

/* queued or rendered -> failed, with the reason. 0, -ERR_CONFLICT,
 * -ERR_DB. */
int bulletin_set_failed(struct store *st, int64_t id, const char *reason,
                        int64_t now_ms);

/*
 * Rendered bulletins that may air at at_ms (not_before passed, not
 * expired), breaking ones only if breaking_only: breaking first, then
 * oldest first. Fills up to max of out (each bulletin_clear()ed by the
 * caller); returns how many, or -ERR_DB.
 */
int bulletin_due(struct store *st, int64_t at_ms, bool breaking_only,
                 struct bulletin *out, size_t max);

/* How many queued or rendered bulletins (breaking ones only if
 * breaking_only) may air at at_ms; -ERR_DB. */
int bulletin_pending(struct store *st, int64_t at_ms, bool breaking_only);

/*
 * For a forecast (`plan`): how many queued or rendered bulletins may air
 * at at_ms that became due after since_ms (their not-before, else their
 * submission), with *est_ms a guess of how long they speak (the rendered
 * length, else about 14 characters a second). -ERR_DB.
 */
int bulletin_forecast(struct store *st, int64_t since_ms, int64_t at_ms,
                      int64_t *est_ms);

/* rendered -> on_air at at_ms. 0, -ERR_CONFLICT (withdrawn or expired
 * meanwhile: do not air it), -ERR_DB. */
int bulletin_set_on_air(struct store *st, int64_t id, int64_t at_ms);

/* What the as-run row of an aired bulletin says. */
struct bulletin_asrun {
	int64_t started_ms, duration_ms;
	bool ended_early;
	const char *path, *title, *slot;
};

/*
 * The bulletin's last sample went out: one transaction writes its as-run
 * row and moves it on_air -> aired, or (ended_early: the daemon stopped
 * part-way) on_air -> rendered, to air again in full. 0, -ERR_CONFLICT
 * (not on air), -ERR_DB. Inside a transaction the caller opened, it
 * writes in that one (and leaves the commit or rollback to the caller).
 */
int bulletin_aired(struct store *st, int64_t id, const struct bulletin_asrun *a,
                   int64_t now_ms);

/* The wall clock stepped by delta_ms to now_ms: bulletins still to air
 * that were submitted later than now (a step back) move by the step, so
 * they are due as they were and do not wait until the clock comes round
 * to their old submission time. The number moved, or -ERR_DB. */
int bulletin_clock_step(struct store *st, int64_t delta_ms, int64_t now_ms);

/* Deletes the audio files (inside dir only) of bulletins that ended
 * (aired, expired, withdrawn, failed) before before_ms, and forgets
 * their paths. The number deleted, or -ERR_DB. */
int bulletin_prune(struct store *st, int64_t before_ms, const char *dir);

/* Reads one bulletin: 1 with *b, 0 if there is none, -ERR_DB. */
int bulletin_get(struct store *st, int64_t id, struct bulletin *b);

/* Frees b->text; accepts a zeroed struct. */
void bulletin_clear(struct bulletin *b);

#endif
