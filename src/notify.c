/*
 * notify.c - the sd_notify(3) protocol, without libsystemd.
 *
 * The one thing to know: the protocol is the interface, and it is small:
 * one AF_UNIX datagram per message to $NOTIFY_SOCKET ("@" first means the
 * abstract namespace), the kernel attaching our pid. sd_notify(3) itself
 * recommends reimplementing it rather than linking libsystemd, which
 * brings lzma, zstd, lz4, gcrypt, gpg-error and cap along, for it. Sends
 * use MSG_DONTWAIT, so a stuck manager costs us a lost message (reported
 * as -EAGAIN), never a stalled audio thread.
 *
 * Which failures were logged is process-wide state, on purpose: there is
 * one $NOTIFY_SOCKET per process, and the point is one line per kind.
 */
#include "notify.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"

/* The kinds a failure is logged once for: a bad $NOTIFY_SOCKET, then one
 * per message name (what comes before the first '='). */
static const char *const kinds[] = {
    "NOTIFY_SOCKET", "READY", "RELOADING", "STOPPING", "WATCHDOG", "STATUS",
};
#define KIND_ADDRESS 0
#define KIND_OTHER (sizeof(kinds) / sizeof(kinds[0]))

static atomic_uint logged; /* bit k: kind k (KIND_OTHER too) was logged */

static unsigned kind_of(const char *msg)
{
	size_t n = strcspn(msg, "=\n");

	for (unsigned k = 1; k < KIND_OTHER; k++)
		if (strlen(kinds[k]) == n && strncmp(msg, kinds[k], n) == 0)
			return k;
	return KIND_OTHER;
}

/* Whether kind k is to be logged now: only the first time. */
static int first_time(unsigned k)
{
	unsigned bit = 1u << k;

	return !(atomic_fetch_or(&logged, bit) & bit);
}

/* $NOTIFY_SOCKET e as a socket address: its length, or a negative code. */
static int socket_address(const char *e, struct sockaddr_un *sa)
{
	size_t len = strlen(e);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (e[0] != '/' && e[0] != '@')
		return -EAFNOSUPPORT; /* e.g. systemd's "vsock:CID:PORT" */
	if (len < 2)
		return -EINVAL;
	/* A path needs its terminating NUL in sun_path; an abstract name
	 * has none, its '@' becoming the leading NUL. */
	if (len > sizeof(sa->sun_path) - (e[0] == '/'))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, e, len);
	if (e[0] == '@') {
		sa->sun_path[0] = '\0';
		return (int)(offsetof(struct sockaddr_un, sun_path) + len);
	}
	return (int)(offsetof(struct sockaddr_un, sun_path) + len + 1);
}

int notify_send(const char *msg)
{
	const char *e = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t len;
	ssize_t n;
	int fd, salen;
	unsigned k;

	assert(msg);
	if (!e)
		return 0;
	len = strlen(msg);
	if (len == 0)
		return -EINVAL;
	salen = socket_address(e, &sa);
	if (salen < 0) {
		if (first_time(KIND_ADDRESS))
			log_error("NOTIFY_SOCKET=%s: %s; systemd will not hear "
			          "from this process",
			          e,
			          salen == -ENAMETOOLONG
			              ? "too long for a socket address (at "
			                "most 107 bytes)"
			              : "not an AF_UNIX socket (\"/path\" or "
			                "\"@name\")");
		return salen;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		n = -errno;
	} else {
		do
			n = sendto(fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL,
			           (const struct sockaddr *)&sa,
			           (socklen_t)salen);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			n = -errno;
		else if ((size_t)n != len)
			n = -EIO; /* a datagram goes whole or not at all */
		close(fd);
	}
	if (n >= 0)
		return 0;
	k = kind_of(msg);
	if (first_time(k))
		log_warn("notify: %s to %s: %s (further %s failures are not "
		         "logged)",
		         k < KIND_OTHER ? kinds[k] : "message", e,
		         err_str((int)n), k < KIND_OTHER ? kinds[k] : "such");
	return (int)n;
}

int notify_sendf(const char *fmt, ...)
{
	char msg[NOTIFY_MSG_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof(msg))
		return -EMSGSIZE;
	return notify_send(msg);
}

int notify_reloading(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return notify_sendf("RELOADING=1\nMONOTONIC_USEC=%llu",
	                    (unsigned long long)now.tv_sec * 1000000ULL +
	                        (unsigned long long)now.tv_nsec / 1000);
}

/* s as a decimal number, as systemd's safe_atou64() reads it: leading
 * blanks allowed, nothing after, no minus sign. 0 or -EINVAL / -ERANGE. */
static int parse_u64(const char *s, uint64_t *v)
{
	unsigned long long u;
	char *end;

	s += strspn(s, " \t\n\r");
	errno = 0;
	u = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == s || *end)
		return -EINVAL;
	if (u != 0 && s[0] == '-')
		return -ERANGE; /* strtoull() negates: "-1" is ULLONG_MAX */
	*v = u;
	return 0;
}

int notify_watchdog_usec(uint64_t *usec)
{
	const char *s = getenv("WATCHDOG_USEC"), *p;
	uint64_t us, pid;
	int rc;

	if (!s)
		return 0;
	rc = parse_u64(s, &us);
	/* 0 and "infinity" (all ones) are not a timeout. */
	if (rc == 0 && (us == 0 || us == UINT64_MAX))
		rc = -EINVAL;
	if (rc < 0) {
		log_warn("WATCHDOG_USEC=%s: not a time in µs; no watchdog", s);
		return rc;
	}
	p = getenv("WATCHDOG_PID");
	if (!p) {
		if (usec)
			*usec = us;
		return 1;
	}
	rc = parse_u64(p, &pid);
	if (rc == 0 && (pid == 0 || pid > INT32_MAX))
		rc = -ERANGE;
	if (rc < 0) {
		log_warn("WATCHDOG_PID=%s: not a process id; no watchdog", p);
		return rc;
	}
	/* Set for another process: the watchdog is not ours to pet. */
	if ((pid_t)pid != getpid())
		return 0;
	if (usec)
		*usec = us;
	return 1;
}
