/*
 * listeners.h - how many people listen to each Icecast output, for the
 * status.
 *
 * A thread of its own asks each distinct Icecast server among the outputs
 * for its public status (GET http://HOST:PORT/status-json.xsl, Icecast
 * 2.4, no password) every interval, and hands each output's count to the
 * status module (status_listeners()). The one thing to know: nothing here
 * ever runs on the audio thread, and a server that is away, slow or
 * hostile only makes the count unknown (-1): each request is bounded to
 * 2 s and its reply to 1 MiB, and a server that cannot be read is logged
 * once, and once more when it answers again, never on every poll.
 *
 * Outputs that are not icecast:// (file:, null:) are not polled; their
 * count stays unknown. A mount the server does not list has 0 listeners.
 */
#ifndef LISTENERS_H
#define LISTENERS_H

#include <stddef.h>

#define LISTENERS_INTERVAL_S_DEFAULT 30
#define LISTENERS_HOST_MAX 256
#define LISTENERS_MOUNT_MAX 1024
#define LISTENERS_BODY_MAX (1024 * 1024) /* bytes of a reply, at most */

struct cfg_output;
struct listeners;
struct status;

/* An icecast:// URL's server and mount. */
struct listeners_target {
	char host[LISTENERS_HOST_MAX];   /* an IPv6 address without brackets */
	unsigned port;                   /* 8000 when the URL names none */
	char mount[LISTENERS_MOUNT_MAX]; /* %-decoded, starts with '/' */
};

/*
 * Parses icecast://[USER[:PASSWORD]@]HOST[:PORT]/MOUNT (an IPv6 host in
 * brackets; the user info is skipped, never kept). 0; -ERR_UNSUPPORTED
 * for another scheme (file:, null:); -ERR_USAGE when malformed: no host,
 * a port not in 1..65535, no mount name, a bad %-escape, a control
 * character, a host with characters no host name or address has, or a
 * part too long. Logs nothing.
 */
int listeners_parse_url(const char *url, struct listeners_target *t);

/* The output's name as out_name() gives it and the status shows it:
 * "icecast://HOST:PORT/MOUNT" (IPv6 in brackets). Truncated to size. */
void listeners_name(const struct listeners_target *t, char *out, size_t size);

/*
 * Reads a /status-json.xsl reply (body[0..len), need not end in '\0'):
 * counts[i] gets the listeners of mounts[i], 0 when the mount is not
 * listed, -1 when it is listed without a usable count. 0; or, counts then
 * all -1, -ENOMEM, or -ERR_FORMAT when the body is not JSON with an
 * "icestats" object, is over LISTENERS_BODY_MAX, holds a '\0', or more
 * objects than any status page has. icestats.source may be one object (one
 * mount live) or an array; each source's "listenurl" ends in its mount.
 */
int listeners_from_json(const char *body, size_t len, const char *const *mounts,
                        int *counts, size_t n);

/*
 * Starts polling the Icecast outputs among outs[0..n) every interval_s
 * seconds (0: LISTENERS_INTERVAL_S_DEFAULT), the first poll at once.
 * An icecast:// URL that listeners_parse_url() refuses
 * is skipped with a warning. outs is read during the call only; st is borrowed
 * and must outlive listeners_stop(). 0 with *out (NULL when no output is an
 * Icecast mount: nothing to do); or, logged, -ENOMEM or -errno when the thread
 * cannot start (*out NULL).
 */
int listeners_start(struct listeners **out, struct status *st,
                    const struct cfg_output *outs, size_t n,
                    unsigned interval_s);

/* Stops the thread at once (a request under way is abandoned) and frees;
 * accepts NULL. */
void listeners_stop(struct listeners *l);

#endif
