/*
 * test_newsroom.c - a bulletin whose file cannot be written (the disk is
 * full): it stays queued, the failure is one log line however often it
 * is tried, the tries back off (1, 2, 4, 8, 8 s of the caller's clock; a
 * clock stepped back tries at once), and once files go in again the next
 * try renders it, said in one line.
 *
 * A file size limit (RLIMIT_FSIZE, SIGXFSZ ignored) stands in for the
 * full disk: write(2) fails with EFBIG where a full disk says ENOSPC,
 * through the same fwrite, fflush and unlink path, and it needs no root
 * (tests/it_fault_diskfull.sh fills a real tmpfs). The database is not
 * written while the limit holds (nothing changes in it), and a first
 * bulletin, spoken before, starts the speech helper (pulse-radio-speak,
 * built next to this program), which writes no files.
 *
 * Then the helper fails (tests/tools/fake-speak.sh through
 * PULSE_SPEAK_HELPER): one that dies on a bulletin gets one more try, then
 * the bulletin is failed with the cause; with no helper at all, bulletins
 * stay queued and the failure is one line.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bulletin.h"
#include "err.h"
#include "newsroom.h"
#include "source.h"
#include "store.h"
#include "testutil.h"
#include "timeutil.h"

/* Well under the long bulletin's file (some 150 KB). */
#define LIMIT_BYTES (64 * 1024)

static struct rlimit unlimited;

static void limit(bool on)
{
	struct rlimit r = unlimited;

	if (on)
		r.rlim_cur = LIMIT_BYTES;
	CHECK(setrlimit(RLIMIT_FSIZE, &r) == 0);
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* newsroom_work() at now; lines: how many log lines it wrote. */
static int work(struct newsroom *nr, int64_t now, int *lines, const char **log)
{
	int rc;

	test_capture_begin();
	rc = newsroom_work(nr, now);
	*log = test_capture_end();
	*lines = test_count_lines(*log);
	return rc;
}

static void test_write_fails(struct store *st, const char *db, int64_t t0)
{
	/* About 30 s of speech. */
	static const char text[] =
	    "Water will be off in Soweto, Orlando East and Orlando West from "
	    "nine in the morning until two in the afternoon, while "
	    "Johannesburg "
	    "Water replaces a burst main on Vilakazi Street. Tankers will "
	    "stand "
	    "at the Orlando Stadium, at the Soweto Theatre and at the clinic "
	    "on "
	    "Mooki Street from ten. Residents are asked to store water "
	    "tonight, "
	    "to report leaks on the city's hotline, and to check on elderly "
	    "neighbours. The city apologises for the inconvenience and will "
	    "give an update on this station at noon and again at three.";
	struct bulletin_new add = {
	    .text = text, .text_len = strlen(text), .lang = "en", .by = "test"};
	struct bulletin_new first = {.text = "Roads reopen at ten.",
	                             .text_len = 20,
	                             .lang = "en",
	                             .by = "test"};
	struct newsroom_options opt = {.db_path = db};
	struct newsroom *nr = NULL;
	struct bulletin b = {0};
	const char *log;
	char why[200], path[512], part[600];
	int64_t id = 0, back;
	struct pcm_format fmt = {22050, 1};
	struct source *src = NULL;
	int lines, rc;

	CHECK(store_setting_set(st, "bulletin_dir", test_path("audio")) == 0);
	CHECK(newsroom_new(&nr, st, &opt) == 0);
	if (!nr)
		return;
	/* A first one, short, goes in as it should. */
	CHECK(bulletin_add(st, &first, t0, &id, why, sizeof(why)) == 0);
	rc = work(nr, t0, &lines, &log);
	CHECKF(rc == 1 && lines == 1 && strstr(log, "spoken"), "%d: %s", rc,
	       log);
	CHECK(bulletin_add(st, &add, t0, &id, why, sizeof(why)) == 0);
	snprintf(path, sizeof(path), "%s/bulletin-%lld.ogg", test_path("audio"),
	         (long long)id);
	snprintf(part, sizeof(part), "%s.part", path);

	limit(true);
	rc = work(nr, t0, &lines, &log);
	CHECKF(rc == -EFBIG, "first try: %d (%s)", rc, err_str(rc));
	CHECKF(lines == 1 && strstr(log, "cannot write") && strstr(log, path) &&
	           strstr(log, err_str(-EFBIG)),
	       "first try: %d lines: %s", lines, log);
	CHECK(!exists(path) && !exists(part));
	/* Backing off, quietly: a try is a negative answer, a wait 0. */
	back = t0;
	for (int64_t wait = 1000; wait <= 16000; wait *= 2) {
		int64_t w = wait > 8000 ? 8000 : wait;

		rc = work(nr, back + w - 1, &lines, &log);
		CHECKF(rc == 0 && lines == 0, "%lld ms after: %d, %s",
		       (long long)(w - 1), rc, log);
		rc = work(nr, back + w, &lines, &log);
		CHECKF(rc == -EFBIG && lines == 0, "%lld ms after: %d, %s",
		       (long long)w, rc, log);
		back += w;
	}
	/* The clock steps back a minute: tried at once, not in a minute. */
	back -= 60000;
	rc = work(nr, back, &lines, &log);
	CHECKF(rc == -EFBIG && lines == 0, "clock back: %d, %s", rc, log);
	CHECK(bulletin_get(st, id, &b) == 1 && b.state == BULLETIN_QUEUED);
	bulletin_clear(&b);
	CHECK(!exists(path) && !exists(part));

	/* Space again: the next try renders it, with one line. */
	limit(false);
	rc = work(nr, back + 7999, &lines, &log);
	CHECKF(rc == 0 && lines == 0, "before the next try: %d, %s", rc, log);
	rc = work(nr, back + 8000, &lines, &log);
	CHECKF(rc == 1, "space again: %d", rc);
	CHECKF(lines == 2 && strstr(log, "takes files again") &&
	           strstr(log, "spoken"),
	       "space again: %d lines: %s", lines, log);
	CHECK(bulletin_get(st, id, &b) == 1 && b.state == BULLETIN_RENDERED &&
	      b.audio_path && strcmp(b.audio_path, path) == 0);
	bulletin_clear(&b);
	CHECK(source_open(&src, path, &fmt) == 0);
	source_close(src);
	/* And it goes on as before: nothing to do, nothing said. */
	rc = work(nr, back + 8001, &lines, &log);
	CHECKF(rc == 0 && lines == 0, "after: %d, %s", rc, log);
	newsroom_free(nr);
}

static void test_helper_fails(struct store *st, const char *db, int64_t t0)
{
	struct bulletin_new add = {.text = "Roads reopen at ten.",
	                           .text_len = 20,
	                           .lang = "en",
	                           .by = "test"};
	struct newsroom_options opt = {.db_path = db};
	struct newsroom *nr = NULL;
	struct bulletin b = {0};
	const char *src = getenv("PULSE_SRC"), *log;
	char why[200], tool[1024];
	int64_t id = 0;
	int lines, rc;

	/* A host script: not under a cross build's emulator. */
	unsetenv("PULSE_SPEAK_EMULATOR");
	snprintf(tool, sizeof(tool), "%s/tests/tools/fake-speak.sh",
	         src ? src : "..");
	setenv("PULSE_SPEAK_HELPER", tool, 1);
	setenv("FAKE_SPEAK_MODE", "crash", 1);
	CHECK(newsroom_new(&nr, st, &opt) == 0);
	if (!nr)
		return;
	CHECK(bulletin_add(st, &add, t0, &id, why, sizeof(why)) == 0);
	rc = work(nr, t0, &lines, &log);
	CHECKF(rc == 0 && lines == 2, "crash: %d, %d lines: %s", rc, lines,
	       log);
	CHECKF(strstr(log, "speaking it once more") &&
	           strstr(log, "cannot be spoken: the speech helper") &&
	           strstr(log, "died (signal 11"),
	       "crash: %s", log);
	CHECK(bulletin_get(st, id, &b) == 1 && b.state == BULLETIN_FAILED);
	bulletin_clear(&b);
	newsroom_free(nr);

	/* No helper: queued, one line, and quiet afterwards. */
	setenv("PULSE_SPEAK_HELPER", "/nonexistent/pulse-radio-speak", 1);
	nr = NULL;
	CHECK(newsroom_new(&nr, st, &opt) == 0);
	if (!nr)
		return;
	CHECK(bulletin_add(st, &add, t0, &id, why, sizeof(why)) == 0);
	rc = work(nr, t0, &lines, &log);
	CHECKF(rc == -ERR_UNSUPPORTED && lines == 1 &&
	           strstr(log, "/nonexistent/pulse-radio-speak") &&
	           strstr(log, "stay queued"),
	       "missing: %d, %d lines: %s", rc, lines, log);
	rc = work(nr, t0 + 1000, &lines, &log);
	CHECKF(rc == -ERR_UNSUPPORTED && lines == 0, "again: %d, %s", rc, log);
	CHECK(bulletin_get(st, id, &b) == 1 && b.state == BULLETIN_QUEUED);
	bulletin_clear(&b);
	newsroom_free(nr);
	unsetenv("PULSE_SPEAK_HELPER");
	unsetenv("FAKE_SPEAK_MODE");
}

int main(void)
{
	struct store *st = NULL;
	const char *db;
	int64_t t0;

	/* Over the limit, write(2) says EFBIG instead of killing us. */
	signal(SIGXFSZ, SIG_IGN);
	CHECK(getrlimit(RLIMIT_FSIZE, &unlimited) == 0);
	CHECK(tu_parse_utc("2026-12-01T08:00:00.000Z", &t0) == 0);
	db = test_path("news.db");
	CHECK(store_open(&st, db, STORE_CREATE) == 0);
	if (st)
		test_write_fails(st, db, t0);
	if (st)
		test_helper_fails(st, db, t0 + 60000);
	store_close(st);
	return test_done();
}
