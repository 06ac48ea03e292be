/*
 * dropdir.h - the drop folder that comms staff save news bulletins into.
 *
 * The daemon watches one folder with inotify; every *.txt file saved
 * there becomes one bulletin, handed to the caller's accept callback and
 * then moved to done/ (accepted) or failed/ (refused, with NAME.reason
 * saying why). Nothing in the folder is ever overwritten or deleted.
 *
 * The one thing to know: a file is read only once it has been quiet for
 * DROPDIR_SETTLE_MS (no inotify event, size and mtime unchanged), so a
 * writer that opens and closes the file several times is waited for; but
 * a writer that keeps the file open and pauses for longer may be read
 * half-way. The safe way to drop a file is to write it elsewhere on the
 * same filesystem (or as a dotfile, ".draft.txt", in the folder) and
 * rename() it in: the rename is atomic and the file is complete.
 *
 * File format (UTF-8; a BOM is skipped; LF or CRLF line ends):
 *
 *     Language: af
 *     Priority: breaking
 *     By: City Comms
 *     Not-Before: 2024-05-01 07:00
 *     Expires: 2024-05-01 12:00
 *
 *     The text to read on air...
 *
 * Header lines are optional and come first; keys are case-insensitive,
 * values trimmed; an empty value counts as not given. A blank line ends
 * them. If the first line is not one of these five headers, the whole
 * file is text ("Update: roads closed" is text). Once headers have begun,
 * every line up to the blank one must be a known header.
 */
#ifndef DROPDIR_H
#define DROPDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DROPDIR_MAX_BYTES (64 * 1024) /* a bigger file is refused */
/* Quiet time after a file's last event (close, rename-in, or a scan). */
#define DROPDIR_SETTLE_MS 1000
/* Quiet time when the last event was a create or write with no close
 * after it: the writer still holds the file open. Also covers files
 * made by link(), which send no close. */
#define DROPDIR_OPEN_SETTLE_MS 10000
#define DROPDIR_MAX_PENDING 256 /* files tracked at once; more wait */

struct dropdir;

/* One bulletin as read from a file: header lines, then the text. */
struct drop_bulletin {
	const char *file;    /* its name inside the folder */
	const char *text;    /* the body, NUL-terminated, not yet cleaned */
	size_t text_len;     /* bytes in text (no NUL inside it) */
	char lang[8];        /* "Language:" header, default "" (caller's) */
	bool breaking;       /* "Priority: breaking" (or "normal") */
	char by[64];         /* "By:" header, default "drop folder" */
	char not_before[40]; /* "Not-Before:" value as typed, "" if none */
	char expires[40];    /* "Expires:" value as typed, "" if none */
};

/*
 * The caller's verdict: 0 accepted (the file goes to done/), or negative
 * with one human line in why (the file goes to failed/ with NAME.reason
 * holding why and a newline). b and its strings are borrowed for the call.
 * The dates are not checked here: parse them in the station's zone
 * (tu_parse_local) and refuse with a reason if they are bad.
 *
 * If the callback accepts but the move to done/ then fails, one error is
 * logged and the file stays in the folder, where a later rescan (queue
 * overflow, restart) may offer it again: the callback must not queue the
 * same bulletin twice (it is the queue that makes delivery exactly-once).
 */
typedef int (*dropdir_accept_fn)(void *ctx, const struct drop_bulletin *b,
                                 char *why, size_t whylen);

/*
 * Watches dir, which must exist and be a directory, for *.txt files;
 * creates dir/done and dir/failed (mode 0750) if missing. Files already
 * in the folder are picked up by the first dropdir_poll(), with the same
 * settle rule. 0 with *out set, or a negative code (one log line).
 */
int dropdir_open(struct dropdir **out, const char *dir);

/* The inotify descriptor, for poll() with POLLIN. */
int dropdir_fd(const struct dropdir *dd);

/*
 * Reads pending inotify events (non-blocking) and handles every *.txt
 * file that is complete: parsed, handed to accept, then moved. Files the
 * module refuses itself (too big, bad header, not text, no text) go to
 * failed/ without the callback. Returns the number of files handled
 * (accepted or refused), or a negative code on a fatal error (the folder
 * was deleted). Never blocks. now_ms is CLOCK_MONOTONIC milliseconds,
 * passed in so that tests can drive the settle rule.
 *
 * Only regular files named *.txt (any case) directly in the folder count;
 * dotfiles, other names, directories and symlinks (never followed) are
 * left where they are.
 */
int dropdir_poll(struct dropdir *dd, int64_t now_ms, dropdir_accept_fn accept,
                 void *ctx);

/* Milliseconds from now_ms until a tracked file may be due (0 if one is,
 * or a rescan is waiting), or -1 if nothing is pending: a poll() timeout,
 * since settling files send no event when they become due. */
int dropdir_next_ms(const struct dropdir *dd, int64_t now_ms);

/*
 * Parses a file's bytes (buf[len] must be writable: it becomes the NUL
 * after the text) into b; b->text points into buf, b->file is left alone.
 * 0, or -ERR_FORMAT with one human line in why (a bad or unknown header,
 * UTF-16, NUL bytes, no text).
 */
int dropdir_parse(char *buf, size_t len, struct drop_bulletin *b, char *why,
                  size_t whylen);

void dropdir_close(struct dropdir *dd); /* accepts NULL */

#endif
