/*
 * test_dropdir.c - the drop folder, with real inotify on a temp folder.
 *
 * Most cases drive the settle rule with a fake clock (inotify queues an
 * event before the writing call returns, so no waiting is needed); the
 * writer patterns run on the real clock, every wait bounded by a deadline.
 */
#include "dropdir.h"

#include "err.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

struct rec {
	int calls;
	bool refuse; /* refuse every bulletin with why_text */
	const char *why_text;
	char file[256];
	char lang[8];
	bool breaking;
	char by[64];
	char not_before[40];
	char expires[40];
	char text[DROPDIR_MAX_BYTES + 1];
	size_t text_len;
};

static struct rec rec;
static int64_t fake_ms = 1000000;

static int on_bulletin(void *ctx, const struct drop_bulletin *b, char *why,
                       size_t whylen)
{
	struct rec *r = ctx;

	r->calls++;
	snprintf(r->file, sizeof(r->file), "%s", b->file);
	memcpy(r->lang, b->lang, sizeof(r->lang));
	r->breaking = b->breaking;
	memcpy(r->by, b->by, sizeof(r->by));
	memcpy(r->not_before, b->not_before, sizeof(r->not_before));
	memcpy(r->expires, b->expires, sizeof(r->expires));
	r->text_len = b->text_len;
	if (b->text_len < sizeof(r->text))
		memcpy(r->text, b->text, b->text_len + 1);
	if (r->refuse) {
		snprintf(why, whylen, "%s", r->why_text);
		return -1;
	}
	return 0;
}

static int64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A fresh folder tmpdir/name; its path (static rotating buffer). */
static const char *folder(const char *name)
{
	const char *p = test_path(name);

	CHECK(mkdir(p, 0755) == 0);
	return p;
}

static const char *at(const char *dir, const char *name)
{
	static char bufs[4][1024];
	static unsigned next;
	char *b = bufs[next++ % 4];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

static int put(const char *dir, const char *name, const char *text)
{
	return test_write_file(at(dir, name), text, strlen(text));
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* The file's content (static buffer), or NULL. */
static const char *slurp(const char *path)
{
	static char buf[DROPDIR_MAX_BYTES + 16];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static int entries(const char *dir)
{
	char cmd[1200];
	FILE *f;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	f = popen(cmd, "r");
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		pclose(f);
	}
	return n;
}

/* Reads the events now, then polls again once they have settled (fake
 * clock): the files handled in the second poll. */
static int settle(struct dropdir *dd)
{
	int rc = dropdir_poll(dd, fake_ms, on_bulletin, &rec);

	CHECKF(rc == 0, "first poll %d", rc);
	fake_ms += DROPDIR_SETTLE_MS;
	return dropdir_poll(dd, fake_ms, on_bulletin, &rec);
}

static struct dropdir *open_ok(const char *dir)
{
	struct dropdir *dd = NULL;

	CHECK(dropdir_open(&dd, dir) == 0);
	CHECK(dd != NULL);
	memset(&rec, 0, sizeof(rec));
	return dd;
}

static void test_open_errors(void)
{
	struct dropdir *dd = (struct dropdir *)&rec;
	const char *log, *dir;

	test_capture_begin();
	CHECK(dropdir_open(&dd, test_path("no-such-folder")) == -ENOENT);
	log = test_capture_end();
	CHECK(dd == NULL);
	CHECKF(strstr(log, "no-such-folder: No such file or directory") &&
	           test_count_lines(log) == 1,
	       "%s", log);

	CHECK(put(test_tmpdir(), "plain-file", "x") == 0);
	test_capture_begin();
	CHECK(dropdir_open(&dd, test_path("plain-file")) == -ENOTDIR);
	log = test_capture_end();
	CHECK(dd == NULL);
	CHECKF(strstr(log, "plain-file: not a directory") &&
	           test_count_lines(log) == 1,
	       "%s", log);

	/* done/ that is a file, not a folder. */
	dir = folder("bad-done");
	CHECK(put(dir, "done", "x") == 0);
	test_capture_begin();
	CHECK(dropdir_open(&dd, dir) == -ENOTDIR);
	log = test_capture_end();
	CHECKF(strstr(log, "bad-done/done: not a directory") &&
	           test_count_lines(log) == 1,
	       "%s", log);
	/* failed/ as a symlink to elsewhere: not followed. */
	dir = folder("link-failed");
	CHECK(symlink(test_tmpdir(), at(dir, "failed")) == 0);
	test_capture_begin();
	CHECK(dropdir_open(&dd, dir) < 0);
	log = test_capture_end();
	CHECKF(strstr(log, "link-failed/failed: a symlink") &&
	           test_count_lines(log) == 1,
	       "%s", log);
	dropdir_close(NULL);
}

static void test_plain(void)
{
	const char *dir = folder("plain");
	struct dropdir *dd = open_ok(dir);
	struct stat st;

	CHECK(stat(at(dir, "done"), &st) == 0 && S_ISDIR(st.st_mode) &&
	      (st.st_mode & 07777) == 0750);
	CHECK(stat(at(dir, "failed"), &st) == 0 && S_ISDIR(st.st_mode) &&
	      (st.st_mode & 07777) == 0750);
	CHECK(dropdir_fd(dd) >= 0);
	CHECK(put(dir, "a.txt", "Roads are closed.\n") == 0);
	CHECK(dropdir_poll(dd, fake_ms, on_bulletin, &rec) == 0);
	CHECK(dropdir_next_ms(dd, fake_ms) == DROPDIR_SETTLE_MS);
	CHECK(dropdir_poll(dd, fake_ms + DROPDIR_SETTLE_MS - 1, on_bulletin,
	                   &rec) == 0);
	CHECK(rec.calls == 0);
	fake_ms += DROPDIR_SETTLE_MS;
	CHECK(dropdir_next_ms(dd, fake_ms) == 0);
	CHECK(dropdir_poll(dd, fake_ms, on_bulletin, &rec) == 1);
	CHECK(dropdir_next_ms(dd, fake_ms) == -1);
	CHECK(rec.calls == 1);
	CHECK(strcmp(rec.file, "a.txt") == 0);
	CHECK(strcmp(rec.text, "Roads are closed.\n") == 0);
	CHECK(rec.text_len == strlen("Roads are closed.\n"));
	CHECK(rec.lang[0] == '\0' && !rec.breaking);
	CHECK(strcmp(rec.by, "drop folder") == 0);
	CHECK(rec.not_before[0] == '\0' && rec.expires[0] == '\0');
	CHECK(!exists(at(dir, "a.txt")));
	CHECK(slurp(at(dir, "done/a.txt")) &&
	      strcmp(slurp(at(dir, "done/a.txt")), "Roads are closed.\n") == 0);
	CHECK(entries(at(dir, "failed")) == 0);
	/* Our own move out of the folder is no new work. */
	fake_ms += DROPDIR_SETTLE_MS;
	CHECK(dropdir_poll(dd, fake_ms, on_bulletin, &rec) == 0);
	CHECK(rec.calls == 1);
	dropdir_close(dd);
}

static void test_headers(void)
{
	const char *dir = folder("headers");
	struct dropdir *dd = open_ok(dir);

	CHECK(put(dir, "h.txt",
	          "\xef\xbb\xbf"
	          "Language: af\r\n"
	          "PRIORITY:  Breaking \r\n"
	          "by: City Comms\r\n"
	          "Expires: 2024-05-01 12:00\r\n"
	          "Not-Before :2024-05-01T07:00\r\n"
	          "\r\n"
	          "Die paaie is gesluit.\r\n") == 0);
	CHECK(settle(dd) == 1);
	CHECK(rec.calls == 1);
	CHECK(strcmp(rec.lang, "af") == 0);
	CHECK(rec.breaking);
	CHECK(strcmp(rec.by, "City Comms") == 0);
	CHECK(strcmp(rec.expires, "2024-05-01 12:00") == 0);
	CHECK(strcmp(rec.not_before, "2024-05-01T07:00") == 0);
	CHECKF(strcmp(rec.text, "Die paaie is gesluit.\r\n") == 0, "[%s]",
	       rec.text);
	CHECK(exists(at(dir, "done/h.txt")));

	/* A first line that looks like a header but is not ours: text. */
	CHECK(put(dir, "u.txt", "Update: roads closed\n\nThe N1 is shut.\n") ==
	      0);
	CHECK(settle(dd) == 1);
	CHECK(rec.calls == 2);
	CHECK(strcmp(rec.text, "Update: roads closed\n\nThe N1 is shut.\n") ==
	      0);
	CHECK(strcmp(rec.by, "drop folder") == 0 && !rec.breaking);
	dropdir_close(dd);
}

/* dropdir_parse() on a copy of text: its rc, why in why. */
static int parse(const char *text, struct drop_bulletin *b, char *why,
                 size_t whylen)
{
	static char buf[1024];
	size_t n = strlen(text);

	memcpy(buf, text, n);
	why[0] = '\0';
	return dropdir_parse(buf, n, b, why, whylen);
}

static void bad_parse(const char *text, const char *want)
{
	struct drop_bulletin b;
	char why[256];
	int rc = parse(text, &b, why, sizeof(why));

	CHECKF(rc == -ERR_FORMAT && strstr(why, want), "%s -> %d, %s", text, rc,
	       why);
}

static void test_parse(void)
{
	struct drop_bulletin b;
	char why[256];

	CHECK(parse("Language: en-ZA\nPriority: normal\n\n\nText", &b, why,
	            sizeof(why)) == 0);
	CHECK(strcmp(b.lang, "en-ZA") == 0 && !b.breaking);
	CHECK(strcmp(b.text, "\nText") == 0 && b.text_len == 5);
	/* A template's empty fields count as not given. */
	CHECK(parse("Language:\nBy:  \nExpires:\n\nText", &b, why,
	            sizeof(why)) == 0);
	CHECK(b.lang[0] == '\0' && strcmp(b.by, "drop folder") == 0 &&
	      b.expires[0] == '\0' && strcmp(b.text, "Text") == 0);
	/* A blank first line: no headers, all text. */
	CHECK(parse("\nLanguage: af\n\nx", &b, why, sizeof(why)) == 0);
	CHECK(strcmp(b.text, "\nLanguage: af\n\nx") == 0);
	/* No newline at the end, no headers. */
	CHECK(parse("Just one line", &b, why, sizeof(why)) == 0);
	CHECK(strcmp(b.text, "Just one line") == 0);
	CHECK(parse("Language: af\n\nx", &b, why, sizeof(why)) == 0);
	CHECK(strcmp(b.text, "x") == 0);

	bad_parse("Priority: urgent\n\nText", "Priority: \"urgent\"");
	bad_parse("Language: afrikaans\n\nText", "Language:");
	bad_parse("Language: a f\n\nText", "Language:");
	bad_parse("Language: af\nLanguage: en\n\nText", "Language: given");
	bad_parse("Language: af\nExpirse: 2024-05-01\n\nText",
	          "line 2: unknown header \"Expirse\"");
	bad_parse("Language: af\nDie paaie is gesluit.\n", "blank line");
	bad_parse("Language: af\nPriority: breaking\n", "no bulletin text");
	bad_parse("Language: af", "no bulletin text");
	bad_parse("", "no bulletin text");
	bad_parse("\xef\xbb\xbf \r\n\t\n", "no bulletin text");
	bad_parse("\xff\xfeL\0a\0", "UTF-16");
	bad_parse("By: 0123456789012345678901234567890123456789012345678901234"
	          "567890123\n\nx",
	          "By: longer than 63");
	bad_parse("Expires: 2024-05-01 12:00 and then some more words\n\nx",
	          "Expires:");
	bad_parse("By: a\tb\n\nx", "control characters");
	{
		char buf[16] = "ab\0cd";

		CHECK(dropdir_parse(buf, 5, &b, why, sizeof(why)) ==
		      -ERR_FORMAT);
		CHECK(strstr(why, "NUL") != NULL);
	}
	/* Hostile bytes: never a crash, text always inside the buffer. */
	{
		static char buf[2049];

		srand(11);
		for (int round = 0; round < 2000; round++) {
			size_t n = (size_t)(rand() % 2048);
			int rc;

			for (size_t i = 0; i < n; i++) {
				int r = rand() % 8;

				buf[i] = r == 0   ? '\n'
				         : r == 1 ? ':'
				         : r == 2 ? "LPBEN"[rand() % 5]
				                  : (char)(rand() % 255 + 1);
			}
			rc = dropdir_parse(buf, n, &b, why, sizeof(why));
			if (rc == 0)
				CHECK(b.text >= buf &&
				      b.text + b.text_len == buf + n);
			else if (rc != -ERR_FORMAT)
				CHECK(!"unexpected rc");
		}
	}
}

static void test_refused(void)
{
	const char *dir = folder("refused");
	struct dropdir *dd = open_ok(dir);
	const char *reason;

	CHECK(put(dir, "p.txt", "Priority: urgent\n\nText\n") == 0);
	CHECK(settle(dd) == 1);
	CHECK(rec.calls == 0);
	CHECK(!exists(at(dir, "p.txt")));
	CHECK(exists(at(dir, "failed/p.txt")));
	reason = slurp(at(dir, "failed/p.txt.reason"));
	CHECKF(reason && strstr(reason, "Priority") &&
	           test_count_lines(reason) == 1 &&
	           reason[strlen(reason) - 1] == '\n',
	       "%s", reason ? reason : "(none)");
	CHECK(!exists(at(dir, "failed/.reason.tmp")));

	/* The callback says no. */
	rec.refuse = true;
	rec.why_text = "expired before it could air";
	CHECK(put(dir, "r.txt", "Old news.\n") == 0);
	CHECK(settle(dd) == 1);
	CHECK(rec.calls == 1);
	CHECK(exists(at(dir, "failed/r.txt")));
	reason = slurp(at(dir, "failed/r.txt.reason"));
	CHECK(reason && strcmp(reason, "expired before it could air\n") == 0);
	CHECK(entries(at(dir, "done")) == 0);

	/* A why with line breaks still makes one line; none makes one too. */
	rec.why_text = "two\nlines";
	CHECK(put(dir, "s.txt", "x\n") == 0);
	CHECK(settle(dd) == 1);
	reason = slurp(at(dir, "failed/s.txt.reason"));
	CHECK(reason && strcmp(reason, "two lines\n") == 0);
	rec.why_text = "";
	CHECK(put(dir, "t.txt", "x\n") == 0);
	CHECK(settle(dd) == 1);
	reason = slurp(at(dir, "failed/t.txt.reason"));
	CHECK(reason && test_count_lines(reason) == 1 && strlen(reason) > 5);
	dropdir_close(dd);
}

/* Real clock: a writer that holds the file open and writes every 300 ms
 * for 2 s, then closes; the whole text must be handed over, once. */
static void test_half_written(void)
{
	const char *dir = folder("half");
	struct dropdir *dd = open_ok(dir);
	char want[4096] = "";
	int64_t start, next, closed = 0, deadline;
	int fd, chunk = 0, early = 0, handled = 0;

	fd = open(at(dir, "half.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	start = next = real_ms();
	deadline = start + 8000;
	while (real_ms() < deadline && !handled) {
		int64_t now = real_ms();
		int rc;

		if (!closed && now >= next) {
			char line[64];
			int n = snprintf(line, sizeof(line),
			                 "Part %d of the bulletin.\n", chunk++);

			CHECK(write(fd, line, (size_t)n) == n);
			strcat(want, line);
			next += 300;
			if (now - start >= 2000) {
				close(fd);
				closed = real_ms();
			}
		}
		rc = dropdir_poll(dd, real_ms(), on_bulletin, &rec);
		CHECK(rc >= 0);
		if (rc > 0 && !closed)
			early++;
		handled += rc > 0 ? rc : 0;
		usleep(10000);
	}
	if (!closed)
		close(fd);
	CHECK(early == 0);
	CHECK(handled == 1 && rec.calls == 1);
	CHECK(closed && real_ms() - closed >= DROPDIR_SETTLE_MS - 50);
	CHECKF(strcmp(rec.text, want) == 0, "got [%s] want [%s]", rec.text,
	       want);
	CHECK(chunk >= 7);
	CHECK(exists(at(dir, "done/half.txt")));
	dropdir_close(dd);
}

/* Real clock: echo a > f; sleep 0.3; echo b >> f. */
static void test_echo_append(void)
{
	const char *dir = folder("echo");
	struct dropdir *dd = open_ok(dir);
	int64_t start, appended = 0, deadline;
	int handled = 0, early = 0;
	FILE *f;

	CHECK(put(dir, "e.txt", "a\n") == 0);
	start = real_ms();
	deadline = start + 5000;
	while (real_ms() < deadline && !handled) {
		int rc;

		if (!appended && real_ms() - start >= 300) {
			f = fopen(at(dir, "e.txt"), "a");
			CHECK(f != NULL);
			if (f) {
				fputs("b\n", f);
				fclose(f);
			}
			appended = real_ms();
		}
		rc = dropdir_poll(dd, real_ms(), on_bulletin, &rec);
		CHECK(rc >= 0);
		if (rc > 0 && !appended)
			early++;
		handled += rc > 0 ? rc : 0;
		usleep(10000);
	}
	CHECK(early == 0);
	CHECK(handled == 1 && rec.calls == 1);
	CHECK(strcmp(rec.text, "a\nb\n") == 0);
	dropdir_close(dd);
}

/* Fake clock: a writer that keeps the file open is given longer. */
static void test_open_writer(void)
{
	const char *dir = folder("open-writer");
	struct dropdir *dd = open_ok(dir);
	const char *outside = test_path("linked.txt");
	int fd = open(at(dir, "w.txt"), O_WRONLY | O_CREAT, 0644);

	CHECK(fd >= 0);
	CHECK(write(fd, "first half, ", 12) == 12);
	CHECK(dropdir_poll(dd, fake_ms, on_bulletin, &rec) == 0);
	fake_ms += DROPDIR_SETTLE_MS + 500;
	CHECK(dropdir_poll(dd, fake_ms, on_bulletin, &rec) == 0);
	CHECK(write(fd, "second half\n", 12) == 12);
	close(fd);
	CHECK(settle(dd) == 1);
	CHECK(strcmp(rec.text, "first half, second half\n") == 0);

	/* link() sends a create and no close: the longer wait, then read. */
	CHECK(put(test_tmpdir(), "linked.txt", "Linked in.\n") == 0);
	CHECK(link(outside, at(dir, "l.txt")) == 0);
	CHECK(dropdir_poll(dd, fake_ms, on_bulletin, &rec) == 0);
	CHECK(dropdir_poll(dd, fake_ms + DROPDIR_SETTLE_MS + 500, on_bulletin,
	                   &rec) == 0);
	fake_ms += DROPDIR_OPEN_SETTLE_MS;
	CHECK(dropdir_poll(dd, fake_ms, on_bulletin, &rec) == 1);
	CHECK(strcmp(rec.text, "Linked in.\n") == 0);
	CHECK(rec.calls == 2);
	dropdir_close(dd);
}

static void test_rename_in(void)
{
	const char *dir = folder("rename");
	struct dropdir *dd = open_ok(dir);

	CHECK(put(dir, ".draft.txt", "Written as a dotfile.\n") == 0);
	CHECK(settle(dd) == 0);
	CHECK(rec.calls == 0 && exists(at(dir, ".draft.txt")));
	CHECK(rename(at(dir, ".draft.txt"), at(dir, "news.txt")) == 0);
	CHECK(settle(dd) == 1);
	CHECK(rec.calls == 1 && strcmp(rec.file, "news.txt") == 0);
	CHECK(strcmp(rec.text, "Written as a dotfile.\n") == 0);
	/* From another folder on the same filesystem. */
	CHECK(put(test_tmpdir(), "elsewhere.txt", "From elsewhere.\n") == 0);
	CHECK(rename(test_path("elsewhere.txt"), at(dir, "moved.txt")) == 0);
	CHECK(settle(dd) == 1);
	CHECK(strcmp(rec.text, "From elsewhere.\n") == 0);
	CHECK(entries(at(dir, "done")) == 2);
	dropdir_close(dd);
}

static void test_ignored(void)
{
	const char *dir = folder("ignored");
	struct dropdir *dd = open_ok(dir);
	const char *outside = test_path("outside.txt");

	CHECK(put(dir, "notes.doc", "not a bulletin\n") == 0);
	CHECK(put(dir, "readme", "not a bulletin\n") == 0);
	CHECK(put(dir, ".hidden.txt", "not a bulletin\n") == 0);
	CHECK(put(dir, ".txt", "not a bulletin\n") == 0);
	CHECK(mkdir(at(dir, "folder.txt"), 0755) == 0);
	CHECK(put(test_tmpdir(), "outside.txt", "Secret.\n") == 0);
	CHECK(symlink(outside, at(dir, "link.txt")) == 0);
	CHECK(put(dir, "LOUD.TXT", "Upper case name.\n") == 0);
	CHECK(settle(dd) == 1);
	CHECK(rec.calls == 1 && strcmp(rec.file, "LOUD.TXT") == 0);
	CHECK(exists(at(dir, "done/LOUD.TXT")));
	CHECK(exists(at(dir, "notes.doc")) && exists(at(dir, "readme")));
	CHECK(exists(at(dir, ".hidden.txt")) && exists(at(dir, ".txt")));
	CHECK(exists(at(dir, "folder.txt")) && exists(at(dir, "link.txt")));
	CHECK(exists(outside));
	CHECK(entries(at(dir, "failed")) == 0);
	CHECK(entries(at(dir, "done")) == 1);
	/* A later rescan (a new open) ignores them just the same. */
	dropdir_close(dd);
	dd = open_ok(dir);
	CHECK(settle(dd) == 0);
	CHECK(dropdir_poll(dd, fake_ms + DROPDIR_OPEN_SETTLE_MS, on_bulletin,
	                   &rec) == 0);
	CHECK(rec.calls == 0);
	CHECK(exists(at(dir, "link.txt")) && exists(outside));
	dropdir_close(dd);
}

static void test_sizes(void)
{
	const char *dir = folder("sizes");
	struct dropdir *dd = open_ok(dir);
	static char big[DROPDIR_MAX_BYTES + 2];
	const char *reason;

	memset(big, 'a', sizeof(big));
	for (size_t i = 60; i < sizeof(big); i += 61)
		big[i] = '\n';
	CHECK(test_write_file(at(dir, "max.txt"), big, DROPDIR_MAX_BYTES) == 0);
	CHECK(test_write_file(at(dir, "big.txt"), big, DROPDIR_MAX_BYTES + 1) ==
	      0);
	CHECK(settle(dd) == 2);
	CHECK(rec.calls == 1 && strcmp(rec.file, "max.txt") == 0);
	CHECK(rec.text_len == DROPDIR_MAX_BYTES);
	CHECK(exists(at(dir, "done/max.txt")));
	CHECK(exists(at(dir, "failed/big.txt")));
	reason = slurp(at(dir, "failed/big.txt.reason"));
	CHECKF(reason && strstr(reason, "65537 bytes"), "%s",
	       reason ? reason : "(none)");
	dropdir_close(dd);
}

static void test_collisions(void)
{
	const char *dir = folder("collide");
	struct dropdir *dd = open_ok(dir);
	char longname[256];
	const char *s;

	CHECK(put(dir, "done/a.txt", "old\n") == 0);
	CHECK(put(dir, "a.txt", "new one\n") == 0);
	CHECK(settle(dd) == 1);
	CHECK(put(dir, "a.txt", "new two\n") == 0);
	CHECK(settle(dd) == 1);
	CHECK((s = slurp(at(dir, "done/a.txt"))) && strcmp(s, "old\n") == 0);
	CHECK((s = slurp(at(dir, "done/a.1.txt"))) &&
	      strcmp(s, "new one\n") == 0);
	CHECK((s = slurp(at(dir, "done/a.2.txt"))) &&
	      strcmp(s, "new two\n") == 0);

	/* failed/: the file and its .reason both get a free name; a stale
	 * .reason alone also counts as taken. */
	CHECK(put(dir, "failed/b.txt", "old\n") == 0);
	CHECK(put(dir, "failed/c.txt.reason", "old\n") == 0);
	CHECK(put(dir, "b.txt", "Priority: soon\n\nx\n") == 0);
	CHECK(put(dir, "c.txt", "Priority: soon\n\nx\n") == 0);
	CHECK(settle(dd) == 2);
	CHECK(exists(at(dir, "failed/b.1.txt")) &&
	      exists(at(dir, "failed/b.1.txt.reason")));
	CHECK(exists(at(dir, "failed/c.1.txt")) &&
	      exists(at(dir, "failed/c.1.txt.reason")));
	CHECK((s = slurp(at(dir, "failed/c.txt.reason"))) &&
	      strcmp(s, "old\n") == 0);

	/* A 255-byte name still gets its .reason (the stem is cut). */
	memset(longname, 'n', sizeof(longname));
	memcpy(longname + 251, ".txt", 5);
	CHECK(put(dir, longname, "Language: much-too-long\n\nx\n") == 0);
	CHECK(settle(dd) == 1);
	CHECK(!exists(at(dir, longname)));
	CHECK(entries(at(dir, "failed")) == 8);
	dropdir_close(dd);
}

static void test_preexisting(void)
{
	const char *dir = folder("before");
	struct dropdir *dd;

	CHECK(put(dir, "one.txt", "One.\n") == 0);
	CHECK(put(dir, "two.txt", "Two.\n") == 0);
	CHECK(put(dir, ".three.txt", "Three.\n") == 0);
	dd = open_ok(dir);
	CHECK(dropdir_next_ms(dd, fake_ms) == 0);
	CHECK(dropdir_poll(dd, fake_ms, on_bulletin, &rec) == 0);
	CHECK(dropdir_next_ms(dd, fake_ms) == DROPDIR_SETTLE_MS);
	fake_ms += DROPDIR_SETTLE_MS;
	CHECK(dropdir_poll(dd, fake_ms, on_bulletin, &rec) == 2);
	CHECK(rec.calls == 2);
	CHECK(exists(at(dir, "done/one.txt")) &&
	      exists(at(dir, "done/two.txt")));
	CHECK(exists(at(dir, ".three.txt")));
	dropdir_close(dd);
}

/* More files than the table holds: the rest come by a rescan. */
static void test_many(void)
{
	const char *dir = folder("many");
	struct dropdir *dd = open_ok(dir);
	int total = DROPDIR_MAX_PENDING + 44;
	char name[32];

	CHECK(dropdir_poll(dd, fake_ms, on_bulletin, &rec) == 0);
	for (int i = 0; i < total; i++) {
		snprintf(name, sizeof(name), "n%03d.txt", i);
		CHECK(put(dir, name, "Many.\n") == 0);
	}
	CHECK(dropdir_poll(dd, fake_ms, on_bulletin, &rec) == 0);
	fake_ms += DROPDIR_SETTLE_MS;
	CHECK(dropdir_poll(dd, fake_ms, on_bulletin, &rec) ==
	      DROPDIR_MAX_PENDING);
	CHECK(dropdir_next_ms(dd, fake_ms) == DROPDIR_SETTLE_MS);
	fake_ms += DROPDIR_SETTLE_MS;
	CHECK(dropdir_poll(dd, fake_ms, on_bulletin, &rec) == 44);
	CHECK(rec.calls == total);
	CHECK(entries(at(dir, "done")) == total);
	CHECK(entries(dir) == 2);
	dropdir_close(dd);
}

/* Accepted but the move fails: one error line, the file stays, and the
 * folder keeps working. */
static void test_move_fails(void)
{
	const char *dir = folder("nomove");
	struct dropdir *dd = open_ok(dir);
	const char *log;

	CHECK(rmdir(at(dir, "done")) == 0);
	CHECK(put(dir, "a.txt", "Accepted.\n") == 0);
	CHECK(dropdir_poll(dd, fake_ms, on_bulletin, &rec) == 0);
	fake_ms += DROPDIR_SETTLE_MS;
	test_capture_begin();
	CHECK(dropdir_poll(dd, fake_ms, on_bulletin, &rec) == 1);
	log = test_capture_end();
	CHECK(rec.calls == 1);
	CHECKF(strstr(log, "a.txt: accepted, but cannot move it to done/") &&
	           test_count_lines(log) == 1,
	       "%s", log);
	CHECK(exists(at(dir, "a.txt")));
	fake_ms += DROPDIR_SETTLE_MS;
	CHECK(dropdir_poll(dd, fake_ms, on_bulletin, &rec) == 0);
	CHECK(rec.calls == 1);
	CHECK(put(dir, "b.txt", "Priority: later\n\nx\n") == 0);
	CHECK(settle(dd) == 1);
	CHECK(exists(at(dir, "failed/b.txt.reason")));
	dropdir_close(dd);
}

static void test_folder_deleted(void)
{
	const char *dir = folder("deleted");
	struct dropdir *dd = open_ok(dir);
	const char *log;

	CHECK(dropdir_poll(dd, fake_ms, on_bulletin, &rec) == 0);
	CHECK(test_run("rm -rf '%s'", dir) == 0);
	test_capture_begin();
	CHECK(dropdir_poll(dd, fake_ms, on_bulletin, &rec) < 0);
	CHECK(dropdir_poll(dd, fake_ms, on_bulletin, &rec) < 0);
	log = test_capture_end();
	CHECKF(strstr(log, "deleted") && test_count_lines(log) == 1, "%s", log);
	dropdir_close(dd);
}

int main(void)
{
	umask(022);
	if (!getenv("DROPDIR_TEST_VERBOSE"))
		log_set_level(LOG_LEVEL_WARN);
	test_open_errors();
	test_plain();
	test_headers();
	test_parse();
	test_refused();
	test_half_written();
	test_echo_append();
	test_open_writer();
	test_rename_in();
	test_ignored();
	test_sizes();
	test_collisions();
	test_preexisting();
	test_many();
	test_move_fails();
	test_folder_deleted();
	return test_done();
}
