/*
 * asrun.h - the air's as-run log and bulletin state changes, written
 * without making the audio wait for the database.
 *
 * The one thing to know: each write is tried at once, with the short busy
 * timeout the air's connection has; one that the database refuses for now
 * (another program holds its lock, the disk is full) waits, in order, in a
 * fixed queue in memory, and is retried from the tick (asrun_idle()) until
 * it goes in. A row carries the times it aired at, so it is right whenever
 * it is written. A bulletin goes on air on the state it can be read in
 * (WAL lets reads through a writer's lock) and is kept out of the next
 * news blocks while its changes wait (asrun_holds()). What still waits
 * when the process dies is lost: a bulletin then airs again after the
 * restart (its state says it did not air), a music row is missing;
 * asrun_free() tries once more and logs every entry it could not write.
 */
#ifndef ASRUN_H
#define ASRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct asrun;
struct store;
struct bulletin_asrun;

/* How many entries may wait; past that a row is logged, not kept. */
#define ASRUN_QUEUE_MAX 128

/* An item that aired (music, a jingle): its as-run row, and its track's
 * last_played. Strings are copied. */
struct asrun_row {
	int64_t started_ms, duration_ms; /* UTC ms; ms */
	bool ended_early;
	int64_t track_id; /* 0: none */
	const char *path, *title, *artist, *album, *slot;
};

/* Writes through st (borrowed; it must outlive the writer). 0, -ENOMEM,
 * or -ERR_DB (logged). */
int asrun_new(struct asrun **out, struct store *st);

/* Queues r's row and tries to write what waits if nothing did before.
 * Returns at once; a row that cannot even wait (the queue is full) is
 * logged at error level. */
void asrun_item(struct asrun *q, const struct asrun_row *r);

/*
 * Bulletin id goes on air at at_ms (rendered -> on_air). 0: written, or
 * (the database refuses writes for now) read as rendered and queued;
 * -ERR_CONFLICT: withdrawn or expired, do not air it; -ERR_DB_BUSY: the
 * queue is full, do not air it now; -ERR_DB.
 */
int asrun_on_air(struct asrun *q, int64_t id, int64_t at_ms);

/* Bulletin id's last sample went out at end_ms: bulletin_aired(), now or
 * once the database takes it, in order after everything queued before.
 * Should the bulletin have left on_air meanwhile (withdrawn while its
 * going on air waited), the row is written without the bulletin's link,
 * so the log still says what aired. */
void asrun_bulletin(struct asrun *q, int64_t id, const struct bulletin_asrun *a,
                    int64_t end_ms);

/* Whether a state change of bulletin id waits in the queue. */
bool asrun_holds(const struct asrun *q, int64_t id);

/* How many entries wait. */
size_t asrun_waiting(const struct asrun *q);

/* From the tick: retries what waits when its time has come (every
 * 250 ms while the database is locked, backing off to 4 s on other
 * errors). Cheap when nothing waits. */
void asrun_idle(struct asrun *q);

/* Tries what waits once more, waiting up to drain_ms for the lock, logs
 * each entry still unwritten, and frees; accepts NULL. */
void asrun_free(struct asrun *q, int drain_ms);

#endif
