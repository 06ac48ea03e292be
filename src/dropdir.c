/*
 * dropdir.c - watch the drop folder and turn settled *.txt files into
 * bulletins.
 *
 * The one thing to know: the folder is written by people, not programs
 * we control. Every file operation goes through descriptors of the
 * folder, done/ and failed/ (openat, renameat) with O_NOFOLLOW, so a
 * symlink dropped in is never followed; a file is opened only after it
 * has been quiet for the settle time (see dropdir.h); moves never
 * replace anything: a clash gets ".1", ".2", ... before the ".txt".
 */
#include "dropdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "err.h"
#include "log.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

#define NAME_BYTES 256   /* a name of up to 255 bytes and its NUL */
#define MAX_SUFFIX 9999  /* name.9999.txt, then give up */
#define REASON ".reason" /* failed/NAME.reason */
#define WHY_BYTES 512    /* a refusal's one line */

#define WATCH_MASK                                                             \
	(IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO |                \
	 IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_ONLYDIR)

/* A *.txt file seen in the folder, waiting to settle. */
struct pending {
	char name[NAME_BYTES]; /* "" once handled (removed at the poll's end) */
	int64_t last_ms;       /* the last event or change seen */
	bool open;             /* last event a create or write, no close yet */
	bool stat_ok;          /* size and mtime below are known */
	off_t size;
	struct timespec mtime;
};

struct dropdir {
	char *dir;
	int ifd, wd;
	int dir_fd, done_fd, failed_fd;
	bool rescan; /* scan the folder: at start, overflow, table full */
	bool rescan_failed; /* the last scan failed (logged once) */
	bool dead;          /* the folder went away */
	size_t npend;
	struct pending pend[DROPDIR_MAX_PENDING];
	char buf[DROPDIR_MAX_BYTES + 2]; /* one file, one byte over, a NUL */
};

/* ---- the pending table ------------------------------------------------ */

static bool is_candidate(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 4 && n < NAME_BYTES &&
	       strcasecmp(name + n - 4, ".txt") == 0;
}

static struct pending *find(struct dropdir *dd, const char *name)
{
	for (size_t i = 0; i < dd->npend; i++)
		if (strcmp(dd->pend[i].name, name) == 0)
			return &dd->pend[i];
	return NULL;
}

static void take_stat(struct pending *p, const struct stat *st)
{
	p->stat_ok = true;
	p->size = st->st_size;
	p->mtime = st->st_mtim;
}

static void snap(struct dropdir *dd, struct pending *p)
{
	struct stat st;

	p->stat_ok = false;
	if (fstatat(dd->dir_fd, p->name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		take_stat(p, &st);
}

/* Something happened to name: (re)start its wait. */
static void touch(struct dropdir *dd, const char *name, int64_t now_ms,
                  bool open)
{
	struct pending *p = find(dd, name);

	if (!p) {
		if (dd->npend == DROPDIR_MAX_PENDING) {
			dd->rescan = true; /* picked up once there is room */
			return;
		}
		p = &dd->pend[dd->npend++];
		snprintf(p->name, sizeof(p->name), "%s", name);
	}
	p->last_ms = now_ms;
	p->open = open;
	snap(dd, p);
}

static void forget(struct dropdir *dd, const char *name)
{
	struct pending *p = find(dd, name);
	size_t i;

	if (!p)
		return;
	i = (size_t)(p - dd->pend);
	memmove(p, p + 1, (dd->npend - i - 1) * sizeof(*p));
	dd->npend--;
}

/* Drops the handled entries, keeping the order files were seen in. */
static void compact(struct dropdir *dd)
{
	size_t j = 0;

	for (size_t i = 0; i < dd->npend; i++)
		if (dd->pend[i].name[0]) {
			if (i != j)
				dd->pend[j] = dd->pend[i];
			j++;
		}
	dd->npend = j;
}

static void on_event(struct dropdir *dd, const struct inotify_event *ev,
                     int64_t now_ms)
{
	if (ev->mask & IN_Q_OVERFLOW) {
		log_warn("dropdir: %s: inotify queue overflow, rescanning",
		         dd->dir);
		dd->rescan = true;
		/* Events were lost, a close among them perhaps: every file
		 * starts its wait again, as if just scanned. */
		for (size_t i = 0; i < dd->npend; i++) {
			dd->pend[i].last_ms = now_ms;
			dd->pend[i].open = false;
		}
		return;
	}
	if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_UNMOUNT)) {
		dd->dead = true;
		return;
	}
	if (ev->wd != dd->wd || !ev->len || (ev->mask & IN_ISDIR) ||
	    !is_candidate(ev->name))
		return;
	if (ev->mask & (IN_DELETE | IN_MOVED_FROM))
		forget(dd, ev->name);
	else
		touch(dd, ev->name, now_ms,
		      (ev->mask & (IN_CREATE | IN_MODIFY)) != 0);
}

static int read_events(struct dropdir *dd, int64_t now_ms)
{
	_Alignas(struct inotify_event) char buf[4096];

	for (;;) {
		ssize_t n = read(dd->ifd, buf, sizeof(buf));
		const char *p = buf;

		if (n < 0) {
			int rc = -errno;

			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			log_error("dropdir: %s: reading inotify: %s", dd->dir,
			          err_str(rc));
			return rc;
		}
		if (n == 0)
			return 0;
		while (p < buf + n) {
			const struct inotify_event *ev = (const void *)p;

			on_event(dd, ev, now_ms);
			p += sizeof(*ev) + ev->len;
		}
	}
}

static int rescan(struct dropdir *dd, int64_t now_ms)
{
	int fd = openat(dd->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		int rc = -errno;

		if (fd >= 0)
			close(fd);
		if (!dd->rescan_failed)
			log_warn("dropdir: %s: cannot scan: %s", dd->dir,
			         err_str(rc));
		dd->rescan_failed = true;
		return rc;
	}
	dd->rescan = false;
	dd->rescan_failed = false;
	while ((de = readdir(d))) {
		/* Symlinks and folders are left out here without a word;
		 * DT_UNKNOWN gets its lstat() when it is due. */
		if ((de->d_type != DT_REG && de->d_type != DT_UNKNOWN) ||
		    !is_candidate(de->d_name) || find(dd, de->d_name))
			continue;
		if (dd->npend == DROPDIR_MAX_PENDING) {
			dd->rescan = true;
			break;
		}
		touch(dd, de->d_name, now_ms, false);
	}
	closedir(d);
	return 0;
}

/* ---- moving ----------------------------------------------------------- */

static int rename_noreplace(int from_dir, const char *from, int to_dir,
                            const char *to)
{
	struct stat st;

#ifdef SYS_renameat2
	if (syscall(SYS_renameat2, from_dir, from, to_dir, to,
	            RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
#endif
	/* No RENAME_NOREPLACE here: look, then rename. Only this daemon
	 * writes into done/ and failed/, so nothing slips in between. */
	if (fstatat(to_dir, to, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return -EEXIST;
	if (errno != ENOENT)
		return -errno;
	return renameat(from_dir, from, to_dir, to) < 0 ? -errno : 0;
}

/* name with ".n" before its ".txt" (nothing for n 0), the part before it
 * shortened at a UTF-8 character boundary so that the name plus reserve
 * more bytes still fits in 255. */
static void target_name(const char *name, unsigned n, size_t reserve,
                        char out[NAME_BYTES])
{
	size_t len = strlen(name), stem = len - 4, room;
	char suffix[16] = "";

	if (n)
		snprintf(suffix, sizeof(suffix), ".%u", n);
	room = NAME_BYTES - 1 - reserve - strlen(suffix) - 4;
	if (stem > room) {
		stem = room;
		while (stem && ((unsigned char)name[stem] & 0xc0) == 0x80)
			stem--;
	}
	snprintf(out, NAME_BYTES, "%.*s%s%s", (int)stem, name, suffix,
	         name + len - 4);
}

/* target's .reason name; target_name() left room for the suffix. */
static void reason_name(const char *target, char out[NAME_BYTES])
{
	size_t n = strnlen(target, NAME_BYTES - 1 - strlen(REASON));

	memcpy(out, target, n);
	memcpy(out + n, REASON, sizeof(REASON));
}

/* Moves name out of the folder into to_fd under a name not taken there
 * (nor its .reason, if with_reason), left in target. 0 or -errno. */
static int move_into(struct dropdir *dd, int to_fd, const char *name,
                     bool with_reason, char target[NAME_BYTES])
{
	size_t reserve = with_reason ? strlen(REASON) : 0;

	for (unsigned n = 0; n <= MAX_SUFFIX; n++) {
		char reason[NAME_BYTES];
		struct stat st;
		int rc;

		target_name(name, n, reserve, target);
		if (with_reason) {
			reason_name(target, reason);
			if (fstatat(to_fd, reason, &st, AT_SYMLINK_NOFOLLOW) ==
			    0)
				continue;
		}
		rc = rename_noreplace(dd->dir_fd, name, to_fd, target);
		if (rc != -EEXIST)
			return rc;
	}
	return -EEXIST;
}

/* failed/TARGET.reason: why and a newline, via a temp file and rename. */
static int write_reason(struct dropdir *dd, const char *target, const char *why)
{
	static const char tmp[] = ".reason.tmp";
	char name[NAME_BYTES], text[WHY_BYTES + 1];
	size_t len = (size_t)snprintf(text, sizeof(text), "%s\n", why), off = 0;
	int fd, rc = 0;

	reason_name(target, name);
	fd =
	    openat(dd->failed_fd, tmp,
	           O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc)
		rc = rename_noreplace(dd->failed_fd, tmp, dd->failed_fd, name);
	if (rc)
		unlinkat(dd->failed_fd, tmp, 0);
	return rc;
}

/* One line of printable text: control characters become spaces. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

static void to_failed(struct dropdir *dd, const char *name, char *why)
{
	char target[NAME_BYTES];
	int rc;

	one_line(why);
	rc = move_into(dd, dd->failed_fd, name, true, target);
	if (rc < 0) {
		log_error("dropdir: %s: refused (%s), but cannot move it to "
		          "failed/: %s",
		          name, why, err_str(rc));
		return;
	}
	log_warn("dropdir: %s: refused, moved to failed/%s: %s", name, target,
	         why);
	rc = write_reason(dd, target, why);
	if (rc < 0)
		log_error("dropdir: failed/%s%s: %s", target, REASON,
		          err_str(rc));
}

static void to_done(struct dropdir *dd, const char *name)
{
	char target[NAME_BYTES];
	int rc = move_into(dd, dd->done_fd, name, false, target);

	if (rc < 0)
		log_error("dropdir: %s: accepted, but cannot move it to done/: "
		          "%s (it stays in the folder)",
		          name, err_str(rc));
	else
		log_info("dropdir: %s: accepted, moved to done/%s", name,
		         target);
}

/* ---- handling one file ------------------------------------------------ */

static bool same_stat(const struct pending *p, const struct stat *st)
{
	return p->stat_ok && p->size == st->st_size &&
	       p->mtime.tv_sec == st->st_mtim.tv_sec &&
	       p->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* Reads the whole file (up to one byte over the limit) into dd->buf: its
 * length, or -errno. */
static long read_all(struct dropdir *dd, int fd)
{
	size_t len = 0;

	while (len < DROPDIR_MAX_BYTES + 1) {
		ssize_t n =
		    read(fd, dd->buf + len, DROPDIR_MAX_BYTES + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (long)len;
}

/* Handles a due file: 1 if handled (accepted or refused), 0 if it is not
 * ready after all or not ours (its entry cleared unless it is to wait). */
static int handle(struct dropdir *dd, struct pending *p, int64_t now_ms,
                  dropdir_accept_fn accept, void *ctx)
{
	struct drop_bulletin b;
	struct stat st, now_st;
	char why[WHY_BYTES] = "";
	long len;
	int fd, rc;

	if (fstatat(dd->dir_fd, p->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			log_warn("dropdir: %s: %s", p->name, strerror(errno));
		goto ignore;
	}
	if (!S_ISREG(st.st_mode)) {
		log_info("dropdir: %s: not a regular file, left alone",
		         p->name);
		goto ignore;
	}
	if (!same_stat(p, &st)) /* changed with no event we saw */
		goto wait;
	if (st.st_size > DROPDIR_MAX_BYTES) {
		snprintf(why, sizeof(why),
		         "%lld bytes, more than the %d allowed",
		         (long long)st.st_size, DROPDIR_MAX_BYTES);
		goto refuse;
	}
	fd = openat(dd->dir_fd, p->name,
	            O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ELOOP)
			goto ignore; /* gone, or swapped for a symlink */
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			goto wait; /* a writer holds a lease (Samba) */
		snprintf(why, sizeof(why), "cannot open it: %s",
		         strerror(errno));
		goto refuse;
	}
	len = read_all(dd, fd);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		goto ignore;
	}
	if (len < 0) {
		close(fd);
		snprintf(why, sizeof(why), "cannot read it: %s",
		         err_str((int)len));
		goto refuse;
	}
	if (len != (long)st.st_size || !same_stat(p, &st)) {
		close(fd); /* written to while we read: wait again */
		goto wait;
	}
	memset(&b, 0, sizeof(b));
	rc = dropdir_parse(dd->buf, (size_t)len, &b, why, sizeof(why));
	b.file = p->name;
	if (rc == 0) {
		rc = accept(ctx, &b, why, sizeof(why));
		why[sizeof(why) - 1] = '\0';
		if (rc < 0 && !why[0])
			snprintf(why, sizeof(why), "refused (no reason given)");
	}
	/* Only move the file we read: if another was renamed over it
	 * meanwhile, that one has its own event and is read on its own. */
	if (fstatat(dd->dir_fd, p->name, &now_st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    now_st.st_dev != st.st_dev || now_st.st_ino != st.st_ino) {
		close(fd);
		log_warn("dropdir: %s: deleted or replaced while being read "
		         "(the file read was %s)",
		         p->name, rc < 0 ? "refused" : "accepted");
		p->name[0] = '\0';
		return 1;
	}
	close(fd);
	if (rc < 0)
		to_failed(dd, p->name, why);
	else
		to_done(dd, p->name);
	p->name[0] = '\0';
	return 1;

refuse:
	to_failed(dd, p->name, why);
	p->name[0] = '\0';
	return 1;
ignore:
	p->name[0] = '\0';
	return 0;
wait:
	take_stat(p, &st);
	p->last_ms = now_ms;
	return 0;
}

/* ---- the public side -------------------------------------------------- */

/* dir/name as a real directory (made if missing), opened in *fd. */
static int open_sub(struct dropdir *dd, const char *name, int *fd)
{
	int rc;

	if (mkdirat(dd->dir_fd, name, 0750) < 0 && errno != EEXIST) {
		rc = -errno;
		log_error("dropdir: %s/%s: cannot create: %s", dd->dir, name,
		          err_str(rc));
		return rc;
	}
	*fd = openat(dd->dir_fd, name,
	             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0) {
		struct stat st;

		rc = -errno;
		if (fstatat(dd->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			log_error("dropdir: %s/%s: a symlink (not followed; "
			          "make it a folder)",
			          dd->dir, name);
		else if (rc == -ENOTDIR)
			log_error("dropdir: %s/%s: not a directory", dd->dir,
			          name);
		else
			log_error("dropdir: %s/%s: %s", dd->dir, name,
			          err_str(rc));
		return rc;
	}
	return 0;
}

int dropdir_open(struct dropdir **out, const char *dir)
{
	struct dropdir *dd;
	struct stat st;
	int rc;

	*out = NULL;
	if (stat(dir, &st) < 0) {
		rc = -errno;
		log_error("dropdir: %s: %s", dir, err_str(rc));
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_error("dropdir: %s: not a directory", dir);
		return -ENOTDIR;
	}
	dd = malloc(sizeof(*dd));
	if (!dd)
		return -ENOMEM;
	memset(dd, 0, offsetof(struct dropdir, pend));
	dd->ifd = dd->dir_fd = dd->done_fd = dd->failed_fd = -1;
	dd->dir = strdup(dir);
	if (!dd->dir) {
		rc = -ENOMEM;
		goto fail;
	}
	dd->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dd->dir_fd < 0) {
		rc = -errno;
		log_error("dropdir: %s: %s", dir, err_str(rc));
		goto fail;
	}
	rc = open_sub(dd, "done", &dd->done_fd);
	if (rc < 0)
		goto fail;
	rc = open_sub(dd, "failed", &dd->failed_fd);
	if (rc < 0)
		goto fail;
	dd->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (dd->ifd < 0) {
		rc = -errno;
		log_error("dropdir: inotify: %s", err_str(rc));
		goto fail;
	}
	dd->wd = inotify_add_watch(dd->ifd, dir, WATCH_MASK);
	if (dd->wd < 0) {
		rc = -errno;
		log_error("dropdir: %s: cannot watch: %s", dir, err_str(rc));
		goto fail;
	}
	dd->rescan = true; /* what is already there, on the first poll */
	*out = dd;
	return 0;

fail:
	dropdir_close(dd);
	return rc;
}

int dropdir_fd(const struct dropdir *dd)
{
	return dd->ifd;
}

int dropdir_poll(struct dropdir *dd, int64_t now_ms, dropdir_accept_fn accept,
                 void *ctx)
{
	struct stat st;
	int handled = 0, rc;

	if (dd->dead)
		return -ENOENT;
	rc = read_events(dd, now_ms);
	if (rc < 0)
		return rc;
	/* Our open descriptors keep a deleted folder's inode alive, so
	 * inotify says nothing: a link count of 0 tells. */
	if (fstat(dd->dir_fd, &st) == 0 && st.st_nlink == 0)
		dd->dead = true;
	if (dd->dead) {
		log_error("dropdir: %s: the folder was deleted or unmounted",
		          dd->dir);
		return -ENOENT;
	}
	for (size_t i = 0; i < dd->npend; i++) {
		struct pending *p = &dd->pend[i];
		int64_t settle =
		    p->open ? DROPDIR_OPEN_SETTLE_MS : DROPDIR_SETTLE_MS;

		if (now_ms - p->last_ms >= settle)
			handled += handle(dd, p, now_ms, accept, ctx);
	}
	compact(dd);
	if (dd->rescan && dd->npend < DROPDIR_MAX_PENDING)
		rescan(dd, now_ms); /* failure logged; retried next poll */
	return handled;
}

int dropdir_next_ms(const struct dropdir *dd, int64_t now_ms)
{
	int64_t best = -1;

	if (dd->rescan && !dd->rescan_failed && dd->npend < DROPDIR_MAX_PENDING)
		return 0;
	for (size_t i = 0; i < dd->npend; i++) {
		const struct pending *p = &dd->pend[i];
		int64_t due =
		    p->last_ms - now_ms +
		    (p->open ? DROPDIR_OPEN_SETTLE_MS : DROPDIR_SETTLE_MS);

		if (due < 0)
			due = 0;
		if (best < 0 || due < best)
			best = due;
	}
	return (int)best;
}

void dropdir_close(struct dropdir *dd)
{
	if (!dd)
		return;
	if (dd->ifd >= 0)
		close(dd->ifd);
	if (dd->failed_fd >= 0)
		close(dd->failed_fd);
	if (dd->done_fd >= 0)
		close(dd->done_fd);
	if (dd->dir_fd >= 0)
		close(dd->dir_fd);
	free(dd->dir);
	free(dd);
}
