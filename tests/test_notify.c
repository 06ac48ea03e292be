/*
 * test_notify.c - the sd_notify protocol against real sockets: the exact
 * bytes of each datagram on a bound AF_UNIX socket, with our pid attached
 * by the kernel (what NotifyAccess=main checks), by path and in the
 * abstract namespace; nothing without $NOTIFY_SOCKET; a missing socket, a
 * dead one, a full queue (never blocks) and bad addresses are errors
 * logged once per kind; the watchdog variables read as
 * sd_watchdog_enabled(3) reads them.
 */
/* struct ucred and SCM_CREDENTIALS, to see the pid the kernel attaches. */
#define _GNU_SOURCE
#include "notify.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

/* A datagram socket bound to addr ("/path" or "@name"), credentials on;
 * -1 on failure. */
static int listener(const char *addr)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(addr);
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	                              len + (addr[0] == '/'));
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), on = 1;

	if (fd < 0 || len > sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, addr, len);
	if (addr[0] == '@')
		sa.sun_path[0] = '\0';
	if (bind(fd, (struct sockaddr *)&sa, salen) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0) {
		perror("listener");
		close(fd);
		return -1;
	}
	return fd;
}

/* The next datagram on fd within timeout_ms into buf (NUL-terminated):
 * its length, or -1 if none came. *pid: the sender's, from the kernel. */
static long receive(int fd, char *buf, size_t size, int timeout_ms, pid_t *pid)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = size - 1};
	struct msghdr mh = {.msg_iov = &iov,
	                    .msg_iovlen = 1,
	                    .msg_control = ctl.buf,
	                    .msg_controllen = sizeof(ctl.buf)};
	ssize_t n;

	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	n = recvmsg(fd, &mh, MSG_DONTWAIT);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	*pid = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c;
	     c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred cred;

			memcpy(&cred, CMSG_DATA(c), sizeof(cred));
			*pid = cred.pid;
		}
	}
	return (long)n;
}

/* Whether the next datagram on fd is exactly want, from this process. */
static bool got(int fd, const char *want)
{
	char buf[2048];
	pid_t pid;
	long n = receive(fd, buf, sizeof(buf), 1000, &pid);

	if (n != (long)strlen(want) || memcmp(buf, want, (size_t)n) != 0) {
		fprintf(stderr, "got %ld bytes '%s', want '%s'\n", n,
		        n >= 0 ? buf : "", want);
		return false;
	}
	if (pid != getpid()) {
		fprintf(stderr, "sender pid %d, want %d\n", (int)pid,
		        (int)getpid());
		return false;
	}
	return true;
}

static bool nothing_on(int fd)
{
	char buf[64];
	pid_t pid;

	return receive(fd, buf, sizeof(buf), 100, &pid) < 0;
}

static uint64_t mono_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000 + (uint64_t)t.tv_nsec / 1000;
}

static void test_unset_is_a_noop(void)
{
	const char *path = test_path("quiet.sock");
	int fd = listener(path);

	CHECK(fd >= 0);
	unsetenv("NOTIFY_SOCKET");
	CHECK(notify_send("READY=1") == 0);
	CHECK(notify_sendf("STATUS=%d", 1) == 0);
	CHECK(notify_reloading() == 0);
	CHECK(notify_send("WATCHDOG=1") == 0);
	CHECK(nothing_on(fd));
	close(fd);
}

static void test_path_socket(void)
{
	const char *path = test_path("notify.sock");
	int fd = listener(path);
	char buf[256], big[NOTIFY_MSG_MAX + 8];
	uint64_t before, after, at = 0;
	pid_t pid;
	long n;

	CHECK(fd >= 0);
	setenv("NOTIFY_SOCKET", path, 1);
	CHECK(notify_send("READY=1") == 0);
	CHECK(got(fd, "READY=1"));
	CHECK(notify_send("READY=1\nSTATUS=On air: 2 output(s)") == 0);
	CHECK(got(fd, "READY=1\nSTATUS=On air: 2 output(s)"));
	CHECK(notify_sendf("STATUS=%s, %zu", "x", (size_t)3) == 0);
	CHECK(got(fd, "STATUS=x, 3"));
	CHECK(notify_send("WATCHDOG=1") == 0);
	CHECK(got(fd, "WATCHDOG=1"));
	CHECK(notify_send("STOPPING=1") == 0);
	CHECK(got(fd, "STOPPING=1"));

	/* RELOADING=1 carries now on CLOCK_MONOTONIC, in µs. */
	before = mono_us();
	CHECK(notify_reloading() == 0);
	after = mono_us();
	n = receive(fd, buf, sizeof(buf), 1000, &pid);
	CHECKF(n > 0 && sscanf(buf, "RELOADING=1\nMONOTONIC_USEC=%" SCNu64,
	                       &at) == 1,
	       "got '%s'", n > 0 ? buf : "");
	CHECKF(at >= before && at <= after,
	       "%" PRIu64 " not in [%" PRIu64 ", %" PRIu64 "]", at, before,
	       after);
	CHECK(strchr(buf, '\n') == strrchr(buf, '\n')); /* two lines */

	/* Too long to format: refused whole, nothing sent. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(notify_sendf("STATUS=%s", big) == -EMSGSIZE);
	CHECK(notify_send("") == -EINVAL);
	CHECK(nothing_on(fd));
	close(fd);
}

static void test_abstract_socket(void)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@pulse-test-notify-%d", (int)getpid());
	fd = listener(name);
	CHECK(fd >= 0);
	setenv("NOTIFY_SOCKET", name, 1);
	CHECK(notify_send("READY=1") == 0);
	CHECK(got(fd, "READY=1"));
	CHECK(notify_send("WATCHDOG=1") == 0);
	CHECK(got(fd, "WATCHDOG=1"));
	close(fd);
}

/* Runs first of the failing ones: each kind is logged once per process. */
static void test_lost_manager(void)
{
	const char *missing = test_path("no-such.sock");
	const char *stale = test_path("stale.sock");
	const char *log;
	int fd;

	setenv("NOTIFY_SOCKET", missing, 1);
	test_capture_begin();
	for (int i = 0; i < 3; i++)
		CHECK(notify_send("WATCHDOG=1") == -ENOENT);
	CHECK(notify_send("READY=1") == -ENOENT);
	CHECK(notify_sendf("READY=1\nSTATUS=%s", "x") == -ENOENT);
	/* A socket file nobody listens on any more. */
	fd = listener(stale);
	CHECK(fd >= 0);
	close(fd);
	setenv("NOTIFY_SOCKET", stale, 1);
	CHECK(notify_send("WATCHDOG=1") == -ECONNREFUSED);
	log = test_capture_end();
	CHECKF(test_count_lines(log) == 2, "%d lines", test_count_lines(log));
	CHECK(strstr(log, "WATCHDOG to ") && strstr(log, "no-such.sock"));
	CHECK(strstr(log, "READY to "));
}

/* A manager that stops reading: the sends fail at once with -EAGAIN
 * rather than block the caller (the audio thread). */
static void test_full_queue_never_blocks(void)
{
	const char *path = test_path("full.sock");
	int fd = listener(path), rc = 0, sent = 0;
	uint64_t slowest = 0;

	CHECK(fd >= 0);
	setenv("NOTIFY_SOCKET", path, 1);
	test_capture_begin();
	for (int i = 0; i < 100000 && rc == 0; i++) {
		uint64_t t0 = mono_us(), dt;

		rc = notify_send("STATUS=filling the queue");
		dt = mono_us() - t0;
		if (dt > slowest)
			slowest = dt;
		sent += rc == 0;
	}
	CHECKF(rc == -EAGAIN, "rc %d after %d sent", rc, sent);
	CHECK(sent > 0);
	CHECKF(slowest < 200000, "a send took %" PRIu64 " µs", slowest);
	CHECK(notify_send("STATUS=again") == -EAGAIN);
	CHECK(test_count_lines(test_capture_end()) == 1);
	close(fd);
}

static void test_bad_addresses(void)
{
	char addr[256];
	const char *log;

	test_capture_begin();
	/* A path must fit sun_path with its NUL: 107 bytes at most. */
	memset(addr, 'a', sizeof(addr));
	addr[0] = '/';
	addr[108] = '\0';
	setenv("NOTIFY_SOCKET", addr, 1);
	CHECK(notify_send("WATCHDOG=1") == -ENAMETOOLONG);
	CHECK(notify_send("READY=1") == -ENAMETOOLONG);
	addr[107] = '\0';
	setenv("NOTIFY_SOCKET", addr, 1);
	CHECK(notify_send("WATCHDOG=1") == -ENOENT); /* fits; not there */
	/* An abstract name has no NUL: 1 + 107 bytes fit, not one more. */
	snprintf(addr, sizeof(addr), "@pulse-test-%d-", (int)getpid());
	memset(addr + strlen(addr), 'b', 108 - strlen(addr));
	addr[108] = '\0';
	setenv("NOTIFY_SOCKET", addr, 1);
	CHECK(notify_send("WATCHDOG=1") == -ECONNREFUSED);
	addr[108] = 'b';
	addr[109] = '\0';
	setenv("NOTIFY_SOCKET", addr, 1);
	CHECK(notify_send("WATCHDOG=1") == -ENAMETOOLONG);
	setenv("NOTIFY_SOCKET", "relative.sock", 1);
	CHECK(notify_send("READY=1") == -EAFNOSUPPORT);
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	CHECK(notify_send("READY=1") == -EAFNOSUPPORT);
	setenv("NOTIFY_SOCKET", "", 1);
	CHECK(notify_send("READY=1") == -EAFNOSUPPORT);
	setenv("NOTIFY_SOCKET", "@", 1);
	CHECK(notify_send("READY=1") == -EINVAL);
	log = test_capture_end();
	/* One line for all the bad addresses: the first, too long. */
	CHECKF(test_count_lines(log) == 1, "%d lines", test_count_lines(log));
	CHECK(strstr(log, "too long"));
	unsetenv("NOTIFY_SOCKET");
}

/* notify_watchdog_usec() with WATCHDOG_USEC and WATCHDOG_PID as given
 * (NULL: unset); *usec starts at 7 to show when it is left alone. */
static int watchdog(const char *usec_env, const char *pid_env, uint64_t *usec)
{
	int rc;

	if (usec_env)
		setenv("WATCHDOG_USEC", usec_env, 1);
	else
		unsetenv("WATCHDOG_USEC");
	if (pid_env)
		setenv("WATCHDOG_PID", pid_env, 1);
	else
		unsetenv("WATCHDOG_PID");
	*usec = 7;
	rc = notify_watchdog_usec(usec);
	return rc;
}

static void test_watchdog_env(void)
{
	char me[32], other[32];
	uint64_t us;

	snprintf(me, sizeof(me), "%d", (int)getpid());
	snprintf(other, sizeof(other), "%d", (int)getpid() + 1);
	test_capture_begin();
	CHECK(watchdog(NULL, NULL, &us) == 0 && us == 7);
	CHECK(watchdog(NULL, me, &us) == 0 && us == 7);
	CHECK(watchdog("2000000", NULL, &us) == 1 && us == 2000000);
	CHECK(watchdog("2000000", me, &us) == 1 && us == 2000000);
	CHECK(watchdog("2000000", other, &us) == 0 && us == 7);
	CHECK(watchdog(" 30000000", NULL, &us) == 1 && us == 30000000);
	CHECK(watchdog("18446744073709551614", NULL, &us) == 1 &&
	      us == UINT64_MAX - 1);
	CHECK(notify_watchdog_usec(NULL) == 1);
	/* Malformed: an error, as libsystemd; *usec untouched. */
	CHECK(watchdog("abc", NULL, &us) == -EINVAL && us == 7);
	CHECK(watchdog("", NULL, &us) == -EINVAL && us == 7);
	CHECK(watchdog("0", NULL, &us) == -EINVAL && us == 7);
	CHECK(watchdog("-0", NULL, &us) == -EINVAL && us == 7);
	CHECK(watchdog("-1", NULL, &us) == -ERANGE && us == 7);
	CHECK(watchdog("2000000s", NULL, &us) == -EINVAL && us == 7);
	CHECK(watchdog("18446744073709551615", NULL, &us) == -EINVAL);
	CHECK(watchdog("18446744073709551616", NULL, &us) == -ERANGE);
	CHECK(watchdog("99999999999999999999999", me, &us) == -ERANGE);
	CHECK(watchdog("2000000", "abc", &us) == -EINVAL && us == 7);
	CHECK(watchdog("2000000", "", &us) == -EINVAL && us == 7);
	CHECK(watchdog("2000000", "0", &us) == -ERANGE && us == 7);
	CHECK(watchdog("2000000", "-1", &us) == -ERANGE && us == 7);
	CHECK(watchdog("2000000", "4294967296", &us) == -ERANGE);
	CHECK(watchdog("2000000", "99999999999999999999", &us) == -ERANGE);
	/* Each malformed variable is said once, naming it. */
	CHECK(test_count_lines(test_capture_end()) == 15);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

int main(void)
{
	test_unset_is_a_noop();
	test_path_socket();
	test_abstract_socket();
	test_lost_manager();
	test_full_queue_never_blocks();
	test_bad_addresses();
	test_watchdog_env();
	return test_done();
}
