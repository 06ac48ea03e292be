/*
 * notify.h - tell the service manager (systemd) how the daemon is doing.
 *
 * The one thing to know: this is the sd_notify(3) protocol itself, not
 * libsystemd's wrapper of it: each message is one datagram to the AF_UNIX
 * socket named by $NOTIFY_SOCKET (a path, or "@name" in Linux's abstract
 * namespace), and the environment is read afresh on every call. Without
 * $NOTIFY_SOCKET every call is a no-op returning 0, so the daemon behaves
 * the same outside systemd. Sending never blocks and never allocates: it
 * is safe on the audio thread.
 */
#ifndef NOTIFY_H
#define NOTIFY_H

#include <stdint.h>

/* The longest message notify_sendf() formats, in bytes. */
#define NOTIFY_MSG_MAX 1024

/*
 * Sends msg ("READY=1", "WATCHDOG=1", "STATUS=text", several joined by
 * '\n') as one datagram. 0 when sent or when $NOTIFY_SOCKET is unset, or a
 * negative errno: -EINVAL for an empty message or a $NOTIFY_SOCKET too
 * short to be an address, -EAFNOSUPPORT for one that is neither "/path"
 * nor "@name", -ENAMETOOLONG for one that does not fit a socket address,
 * or what socket() or sendto() said (-ENOENT, -ECONNREFUSED, -EAGAIN when
 * the manager's queue is full, ...). Failures are logged once per kind of
 * message (READY, WATCHDOG, ...) and once for a bad $NOTIFY_SOCKET, for
 * the life of the process: a lost manager never floods the log.
 */
int notify_send(const char *msg);

/* notify_send() of a printf-style message; -EMSGSIZE (nothing sent) if it
 * would be longer than NOTIFY_MSG_MAX bytes. */
int notify_sendf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "RELOADING=1" with "MONOTONIC_USEC=" CLOCK_MONOTONIC now, in µs, which
 * Type=notify-reload (systemd 253 and later) requires and older systemd
 * ignores. Returns as notify_send(). */
int notify_reloading(void);

/*
 * Whether the manager expects "WATCHDOG=1" from this process, as
 * sd_watchdog_enabled(3): $WATCHDOG_USEC is set and $WATCHDOG_PID is unset
 * or this process's id. 1 with *usec (may be NULL; written only then) the
 * timeout in µs (pet at half of it), 0 when not, or -EINVAL / -ERANGE when
 * either variable is malformed (logged): "abc", "", 0, a negative number,
 * more than 64 bits, an invalid pid. Meant for once at start.
 */
int notify_watchdog_usec(uint64_t *usec);

#endif
