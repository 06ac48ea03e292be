/*
 * test_bulletin.c - the news queue's states on a real SQLite file: intake
 * checks, due order, withdraw, expiry, recovery after a crash, aired with
 * its as-run row in one transaction, and pruning old audio.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bulletin.h"
#include "err.h"
#include "store.h"
#include "testutil.h"
#include "timeutil.h"

#define MIN_MS 60000LL

static struct store *st;
static int64_t t0; /* 2026-12-01T08:00:00Z */

static int64_t add(const char *text, const char *lang, bool breaking,
                   int64_t at, int64_t not_before, int64_t expires)
{
	struct bulletin_new b = {.text = text,
	                         .text_len = strlen(text),
	                         .lang = lang,
	                         .breaking = breaking,
	                         .by = "test",
	                         .not_before_ms = not_before,
	                         .expires_ms = expires};
	int64_t id = 0;
	char why[200];
	int rc = bulletin_add(st, &b, at, &id, why, sizeof(why));

	CHECKF(rc == 0, "add '%s': %d %s", text, rc, why);
	return id;
}

static int count(const char *sql)
{
	sqlite3_stmt *stmt;
	int n = -1;

	if (sqlite3_prepare_v2(store_db(st), sql, -1, &stmt, NULL) ==
	        SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		n = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return n;
}

static enum bulletin_state state_of(int64_t id)
{
	struct bulletin b = {0};
	enum bulletin_state s = BULLETIN_FAILED;

	if (bulletin_get(st, id, &b) == 1)
		s = b.state;
	bulletin_clear(&b);
	return s;
}

static void test_intake(void)
{
	struct bulletin_new b = {.text = "x", .text_len = 1};
	int64_t id = 0;
	char why[200], by[100];
	int before = count("SELECT count(*) FROM bulletin");

	b.lang = "zu";
	CHECK(bulletin_add(st, &b, t0, &id, why, sizeof(why)) == -ERR_INVALID);
	CHECK(strstr(why, "unknown language") != NULL);
	b.lang = "en";
	b.expires_ms = t0 - 1;
	CHECK(bulletin_add(st, &b, t0, &id, why, sizeof(why)) == -ERR_INVALID);
	CHECK(strstr(why, "expires") != NULL);
	b.expires_ms = t0 + 10 * MIN_MS;
	b.not_before_ms = t0 + 20 * MIN_MS;
	CHECK(bulletin_add(st, &b, t0, &id, why, sizeof(why)) == -ERR_INVALID);
	b.not_before_ms = 0;
	memset(by, 'b', sizeof(by) - 1);
	by[sizeof(by) - 1] = '\0';
	b.by = by;
	CHECK(bulletin_add(st, &b, t0, &id, why, sizeof(why)) == -ERR_INVALID);
	b.by = "a\x01"
	       "b";
	CHECK(bulletin_add(st, &b, t0, &id, why, sizeof(why)) == -ERR_INVALID);
	b.by = NULL;
	b.text = "  \t ";
	b.text_len = 4;
	CHECK(bulletin_add(st, &b, t0, &id, why, sizeof(why)) == -ERR_INVALID);
	b.text = "\xff\xfe";
	b.text_len = 2;
	CHECK(bulletin_add(st, &b, t0, &id, why, sizeof(why)) == -ERR_INVALID);
	CHECK(count("SELECT count(*) FROM bulletin") == before);
}

static void test_flow(void)
{
	int64_t a = add("Alpha", "en", false, t0, 0, 0);
	int64_t b = add("Beta", "af", false, t0 + 1000, 0, 0);
	int64_t c = add("Charlie", "tn", true, t0 + 2000, 0, 0);
	int64_t d = add("Later", "en", false, t0, t0 + 30 * MIN_MS, 0);
	int64_t e = add("Gone soon", "en", false, t0, 0, t0 + 5 * MIN_MS);
	struct bulletin due[8], r = {0};
	struct bulletin_asrun as = {
	    .path = "/x.ogg", .title = "City news", .slot = "day"};
	char why[200];
	int n;

	/* The renderer takes breaking first, then the oldest due. */
	CHECK(bulletin_next_to_render(st, t0, 10 * MIN_MS, &r) == 1);
	CHECK(r.id == c && r.breaking && !strcmp(r.lang, "tn"));
	bulletin_clear(&r);
	CHECK(bulletin_pending(st, t0 + 3000, false) == 4);
	CHECK(bulletin_pending(st, t0 + 3000, true) == 1);
	/* Not yet submitted at that programme time: not due. */
	CHECK(bulletin_pending(st, t0 - 1000, false) == 0);
	for (int i = 0; i < 5; i++) {
		int64_t id = i == 0   ? a
		             : i == 1 ? b
		             : i == 2 ? c
		             : i == 3 ? d
		                      : e;

		CHECK(bulletin_set_rendered(st, id, "/tmp/none.ogg", 4000,
		                            -20.0, t0 + 5000) == 0);
	}
	CHECK(bulletin_set_rendered(st, a, "/tmp/none.ogg", 4000, -20.0, t0) ==
	      -ERR_CONFLICT);
	n = bulletin_due(st, t0 + 3 * MIN_MS, false, due, 8);
	CHECKF(n == 4, "%d due", n);
	if (n == 4) {
		/* a and e came at the same time: by id. */
		CHECK(due[0].id == c && due[1].id == a && due[2].id == e &&
		      due[3].id == b);
		CHECK(!strcmp(due[1].text, "Alpha") &&
		      due[1].duration_ms == 4000 &&
		      due[1].loudness_lufs == -20.0);
	}
	for (int i = 0; i < n; i++)
		bulletin_clear(&due[i]);
	/* Expiry and withdraw: neither may air. */
	CHECK(bulletin_expire(st, t0 + 6 * MIN_MS) == 1);
	CHECK(state_of(e) == BULLETIN_EXPIRED);
	CHECK(bulletin_withdraw(st, b, t0, why, sizeof(why)) == 0);
	CHECK(bulletin_set_on_air(st, b, t0 + 7 * MIN_MS) == -ERR_CONFLICT);
	CHECK(bulletin_withdraw(st, b, t0, why, sizeof(why)) == -ERR_CONFLICT);
	CHECK(strstr(why, "withdrawn") != NULL);
	CHECK(bulletin_withdraw(st, 9999, t0, why, sizeof(why)) ==
	      -ERR_NOT_FOUND);
	/* On air, then a crash: recovery puts it back (its file is gone,
	 * so it is spoken again: queued). */
	CHECK(bulletin_set_on_air(st, a, t0 + 7 * MIN_MS) == 0);
	CHECK(bulletin_withdraw(st, a, t0, why, sizeof(why)) == -ERR_CONFLICT);
	CHECK(bulletin_recover(st, t0 + 8 * MIN_MS) >= 1);
	CHECK(state_of(a) == BULLETIN_QUEUED);
	/* With its file there, it goes back to rendered. */
	CHECK(test_write_file(test_path("c.ogg"), "x", 1) == 0);
	CHECK(bulletin_set_rendered(st, a, test_path("c.ogg"), 4000, -20.0,
	                            t0 + 8 * MIN_MS) == 0);
	CHECK(bulletin_set_on_air(st, a, t0 + 9 * MIN_MS) == 0);
	CHECK(bulletin_recover(st, t0 + 9 * MIN_MS) >= 1);
	CHECK(state_of(a) == BULLETIN_RENDERED);
	/* Aired: the state and the as-run row together. */
	CHECK(bulletin_set_on_air(st, a, t0 + 10 * MIN_MS) == 0);
	as.started_ms = t0 + 10 * MIN_MS;
	as.duration_ms = 4000;
	CHECK(bulletin_aired(st, a, &as, t0 + 10 * MIN_MS + 4000) == 0);
	CHECK(state_of(a) == BULLETIN_AIRED);
	CHECK(count("SELECT count(*) FROM asrun WHERE bulletin_id IS NOT "
	            "NULL") == 1);
	/* Not on air any more: no second as-run row. */
	CHECK(bulletin_aired(st, a, &as, t0 + 11 * MIN_MS) == -ERR_CONFLICT);
	CHECK(count("SELECT count(*) FROM asrun WHERE bulletin_id IS NOT "
	            "NULL") == 1);
	/* Cut off part-way (a stop): back to rendered, to air in full. The
	 * recovery above found its file missing: it was queued again. */
	CHECK(state_of(c) == BULLETIN_QUEUED);
	CHECK(test_write_file(test_path("c2.ogg"), "x", 1) == 0);
	CHECK(bulletin_set_rendered(st, c, test_path("c2.ogg"), 4000, -20.0,
	                            t0 + 11 * MIN_MS) == 0);
	CHECK(bulletin_set_on_air(st, c, t0 + 12 * MIN_MS) == 0);
	as.ended_early = true;
	CHECK(bulletin_aired(st, c, &as, t0 + 12 * MIN_MS) == 0);
	CHECK(state_of(c) == BULLETIN_RENDERED);
	CHECK(bulletin_set_failed(st, d, "cannot be spoken", t0) == 0);
	CHECK(state_of(d) == BULLETIN_FAILED);
	/* Pruning deletes only files inside the folder, of ended ones. */
	CHECK(bulletin_prune(st, t0 + 60 * MIN_MS, test_tmpdir()) == 1);
	CHECK(access(test_path("c.ogg"), F_OK) != 0);
}

static void test_forecast(void)
{
	int64_t est = 0;
	int n;

	CHECK(store_exec(st, "DELETE FROM asrun; DELETE FROM bulletin") == 0);
	add("One two three four five six seven.", "en", false, t0, 0, 0);
	add("Eight.", "en", false, t0, t0 + 20 * MIN_MS, 0);
	n = bulletin_forecast(st, 0, t0 + MIN_MS, &est);
	CHECK(n == 1 && est > 1000 && est < 5000);
	n = bulletin_forecast(st, t0 + MIN_MS, t0 + 30 * MIN_MS, &est);
	CHECK(n == 1);
}

/* The clock went back an hour at t0 + 30 min, to t0 - 30 min: what was
 * sent before the step and is still to air moves by the step, so it is
 * due now (not when the clock comes round to t0 + 20 min again); what is
 * sent earlier or ended stays. */
static void test_clock_step(void)
{
	int64_t early = add("Early.", "en", false, t0 - 40 * MIN_MS, 0, 0);
	int64_t late = add("Late.", "en", true, t0 + 20 * MIN_MS, 0, 0);
	int64_t done = add("Done.", "en", false, t0 + 25 * MIN_MS, 0, 0);
	struct bulletin b = {0};

	CHECK(store_exec(st, "UPDATE bulletin SET state = 'aired' WHERE text "
	                     "= 'Done.'") == 0);
	CHECK(store_exec(st, "DELETE FROM bulletin WHERE text NOT IN "
	                     "('Early.', 'Late.', 'Done.')") == 0);
	CHECK(bulletin_pending(st, t0 - 29 * MIN_MS, true) == 0);
	CHECK(bulletin_clock_step(st, -60 * MIN_MS, t0 - 30 * MIN_MS) == 1);
	CHECK(bulletin_pending(st, t0 - 29 * MIN_MS, true) == 1);
	CHECK(bulletin_get(st, late, &b) == 1 &&
	      b.submitted_ms == t0 - 40 * MIN_MS);
	bulletin_clear(&b);
	CHECK(bulletin_get(st, early, &b) == 1 &&
	      b.submitted_ms == t0 - 40 * MIN_MS);
	bulletin_clear(&b);
	CHECK(bulletin_get(st, done, &b) == 1 &&
	      b.submitted_ms == t0 + 25 * MIN_MS);
	bulletin_clear(&b);
	/* A step forward leaves them all. */
	CHECK(bulletin_clock_step(st, 60 * MIN_MS, t0 + 30 * MIN_MS) == 0);
}

int main(void)
{
	CHECK(tu_parse_utc("2026-12-01T08:00:00.000Z", &t0) == 0);
	CHECK(store_open(&st, test_path("news.db"), STORE_CREATE) == 0);
	if (!st)
		return test_done();
	test_intake();
	test_flow();
	test_forecast();
	test_clock_step();
	store_close(st);
	return test_done();
}
