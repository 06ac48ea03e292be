/*
 * speaker.c - text to speech through the helper process, for the daemon.
 *
 * espeak-ng runs in pulse-radio-speak, never here: it would cost the
 * daemon about 1.4 MB of resident memory for its 34 libraries (the target
 * is 16 MB), and text that crashes or hangs it would take the audio down.
 * See speaker.h for the contract and speak_proto.h for the protocol.
 *
 * The one thing to know: every wait here has an end. Reads and writes run
 * non-blocking against a deadline; a helper past it is SIGKILLed; reaping
 * polls waitpid(WNOHANG) for a bounded time, SIGKILL included, so neither
 * a render nor speaker_free() can hang on a helper, and none is left a
 * zombie.
 */
/* posix_spawn_file_actions_addclosefrom_np() (glibc 2.34). */
#define _GNU_SOURCE
#include "speaker.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "speak_proto.h"

/* The installed helper, and its directory from the program's (CMake). */
#ifndef PULSE_SPEAK_PATH
#define PULSE_SPEAK_PATH "/usr/libexec/pulse-radio/pulse-radio-speak"
#endif
#ifndef PULSE_SPEAK_REL
#define PULSE_SPEAK_REL "../libexec/pulse-radio"
#endif
#define HELPER_NAME "pulse-radio-speak"
/* A helper told to go (EOF), or one that hung up, gets this long to exit
 * by itself before SIGKILL; after SIGKILL, reaping waits this long. */
#define EXIT_WAIT_MS 1000
#define KILL_WAIT_MS 2000
#define MAX_EMULATOR_ARGS 8

extern char **environ;

struct speaker {
	pid_t pid; /* the helper, 0 if none */
	int fd;    /* our end of the socketpair, -1 if none */
	unsigned rate;
	unsigned max_seconds;
	unsigned timeout_ms; /* 0: scaled to the text */
	char why[320];
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void set_why(struct speaker *spk, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_why(struct speaker *spk, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(spk->why, sizeof(spk->why), fmt, ap);
	va_end(ap);
}

int speaker_new(struct speaker **out)
{
	struct speaker *spk = calloc(1, sizeof(*spk));

	*out = NULL;
	if (!spk)
		return -ENOMEM;
	spk->fd = -1;
	spk->max_seconds = SPEECH_MAX_SECONDS_DEFAULT;
	*out = spk;
	return 0;
}

void speaker_set_max_seconds(struct speaker *spk, unsigned seconds)
{
	if (seconds < 1)
		seconds = 1;
	if (seconds > SPEAK_MAX_SECONDS)
		seconds = SPEAK_MAX_SECONDS;
	spk->max_seconds = seconds;
}

void speaker_set_timeout_ms(struct speaker *spk, unsigned ms)
{
	spk->timeout_ms = ms;
}

pid_t speaker_pid(const struct speaker *spk)
{
	return spk->pid;
}

const char *speaker_why(const struct speaker *spk)
{
	return spk->why;
}

/* How a wait status ended a process, e.g. "signal 11, Segmentation
 * fault" or "exit status 127". */
static void describe(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "signal %d, %s", WTERMSIG(status),
		         strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	else
		snprintf(buf, len, "wait status %#x", (unsigned)status);
}

/*
 * Closes our end (EOF tells the helper to exit), gives it wait_ms to do so,
 * then SIGKILLs it; reaps it either way. How it ended goes into how.
 */
static void reap(struct speaker *spk, long wait_ms, char *how, size_t len)
{
	int64_t end = mono_ms() + wait_ms;
	bool killed = false;

	if (spk->fd >= 0)
		close(spk->fd);
	spk->fd = -1;
	snprintf(how, len, "unknown");
	while (spk->pid > 0) {
		int status;
		pid_t r = waitpid(spk->pid, &status, WNOHANG);

		if (r == spk->pid) {
			describe(status, how, len);
			break;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			/* ECHILD: someone else reaped it (SIGCHLD ignored). */
			snprintf(how, len, "gone: %s", strerror(errno));
			break;
		}
		if (mono_ms() >= end) {
			if (killed) {
				/* Unkillable (stuck in the kernel): give up
				 * rather than hang the newsroom. */
				snprintf(how, len, "would not die");
				break;
			}
			kill(spk->pid, SIGKILL);
			killed = true;
			end = mono_ms() + KILL_WAIT_MS;
			continue;
		}
		sleep_ms(5);
	}
	spk->pid = 0;
}

/* Waits until fd is ready for events, or the deadline: 0 or -ETIMEDOUT. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int64_t left = deadline - mono_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n > 0)
			return 0; /* POLLHUP and POLLERR too: send/recv say */
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* len bytes to the helper: 0, -EIO (it is gone), -ETIMEDOUT. */
static int send_full(struct speaker *spk, const void *buf, size_t len,
                     int64_t deadline)
{
	const unsigned char *p = buf;

	while (len) {
		ssize_t n = send(spk->fd, p, len, MSG_NOSIGNAL);
		int rc;

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -EIO;
		rc = wait_fd(spk->fd, POLLOUT, deadline);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* len bytes from the helper: 0, -EIO (EOF or an error), -ETIMEDOUT. */
static int recv_full(struct speaker *spk, void *buf, size_t len,
                     int64_t deadline)
{
	unsigned char *p = buf;

	while (len) {
		ssize_t n = recv(spk->fd, p, len, 0);
		int rc;

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == 0)
			return -EIO;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -EIO;
		rc = wait_fd(spk->fd, POLLIN, deadline);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * The helper failed us (rc -EIO: it hung up; -ETIMEDOUT: it is too slow;
 * else it said something malformed): it is killed and reaped, and why
 * says so. Returns -ETIMEDOUT for a timeout, else -EIO.
 */
static int lost(struct speaker *spk, int rc, unsigned timeout_ms)
{
	pid_t pid = spk->pid;
	char how[128];

	if (rc == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		reap(spk, 0, how, sizeof(how));
		set_why(spk,
		        "the speech helper (pid %d) did not answer in %.1f s; "
		        "killed",
		        (int)pid, timeout_ms / 1000.0);
		return -ETIMEDOUT;
	}
	if (rc == -EIO) {
		reap(spk, EXIT_WAIT_MS, how, sizeof(how));
		set_why(spk, "the speech helper (pid %d) died (%s)", (int)pid,
		        how);
		return -EIO;
	}
	kill(pid, SIGKILL);
	reap(spk, 0, how, sizeof(how));
	set_why(spk, "the speech helper (pid %d) answered something malformed",
	        (int)pid);
	return -EIO;
}

static bool executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, X_OK) == 0;
}

/* The helper's path into path (see speaker.h for the order). */
static int find_helper(struct speaker *spk, char *path, size_t len)
{
	const char *env = getenv("PULSE_SPEAK_HELPER");
	char exe[PATH_MAX], *slash;
	ssize_t n;

	if (env && env[0]) {
		snprintf(path, len, "%s", env);
		if (executable(path))
			return 0;
		set_why(spk, "PULSE_SPEAK_HELPER=%s is not an executable file",
		        env);
		return -ERR_UNSUPPORTED;
	}
	/* The build tree and an unpacked package: where we are. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(path, len, "%s/" HELPER_NAME, exe);
			if (executable(path))
				return 0;
			snprintf(path, len,
			         "%s/" PULSE_SPEAK_REL "/" HELPER_NAME, exe);
			if (executable(path))
				return 0;
		}
	}
	snprintf(path, len, "%s", PULSE_SPEAK_PATH);
	if (executable(path))
		return 0;
	set_why(spk,
	        "no speech helper: " HELPER_NAME " is not next to the program, "
	        "nor in " PULSE_SPEAK_REL " from it, nor at " PULSE_SPEAK_PATH);
	return -ERR_UNSUPPORTED;
}

/* The process side of start(): spawns argv[0] with our socket end as its
 * fd 0, /dev/null as 1, our stderr as 2, and nothing else. */
static int spawn(char *const *argv, bool search, int child_fd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dflt;
	static const int reset[] = {SIGPIPE, SIGINT,  SIGTERM, SIGHUP,
	                            SIGCHLD, SIGXFSZ, SIGALRM, SIGUSR1,
	                            SIGUSR2, SIGQUIT};
	int rc;

	sigemptyset(&none);
	sigemptyset(&dflt);
	for (size_t i = 0; i < sizeof(reset) / sizeof(*reset); i++)
		sigaddset(&dflt, reset[i]);
	if (posix_spawn_file_actions_init(&fa) != 0)
		return ENOMEM;
	if (posix_spawnattr_init(&at) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return ENOMEM;
	}
	/* The daemon's other fds (database, sockets, the log) never reach
	 * the helper, O_CLOEXEC or not. */
	rc = posix_spawn_file_actions_adddup2(&fa, child_fd, 0);
	if (rc == 0)
		rc = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null",
		                                      O_WRONLY, 0);
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	/* The newsroom thread's signal mask and the daemon's ignored
	 * SIGPIPE are not the helper's; its own process group keeps a
	 * terminal's ^C for the daemon, which then ends it. */
	if (rc == 0)
		rc = posix_spawnattr_setsigmask(&at, &none);
	if (rc == 0)
		rc = posix_spawnattr_setsigdefault(&at, &dflt);
	if (rc == 0)
		rc = posix_spawnattr_setpgroup(&at, 0);
	if (rc == 0)
		rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
		                                       POSIX_SPAWN_SETSIGDEF |
		                                       POSIX_SPAWN_SETPGROUP);
	if (rc == 0)
		rc = search
		         ? posix_spawnp(pid, argv[0], &fa, &at, argv, environ)
		         : posix_spawn(pid, argv[0], &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

/* Starts a helper and takes its hello: 0, or -ERR_UNSUPPORTED (why says
 * why). */
static int start(struct speaker *spk)
{
	char path[PATH_MAX + 64], parent[24], emu[512];
	char *argv[MAX_EMULATOR_ARGS + 4];
	const char *env = getenv("PULSE_SPEAK_EMULATOR");
	unsigned timeout_ms =
	    spk->timeout_ms ? spk->timeout_ms : SPEAKER_TIMEOUT_BASE_MS;
	struct speak_rep hello;
	size_t argc = 0;
	int sv[2], child_fd, rc;
	pid_t pid;

	rc = find_helper(spk, path, sizeof(path));
	if (rc < 0)
		return rc;
	if (env && env[0]) {
		char *save = NULL, *w;

		snprintf(emu, sizeof(emu), "%s", env);
		for (w = strtok_r(emu, " ", &save);
		     w && argc < MAX_EMULATOR_ARGS;
		     w = strtok_r(NULL, " ", &save))
			argv[argc++] = w;
	}
	snprintf(parent, sizeof(parent), "%ld", (long)getpid());
	argv[argc++] = path;
	argv[argc++] = "--parent";
	argv[argc++] = parent;
	argv[argc] = NULL;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		set_why(spk, "no socketpair for the speech helper: %s",
		        strerror(errno));
		return -ERR_UNSUPPORTED;
	}
	/* dup2() onto fd 0 clears close-on-exec only if the fd moves. */
	child_fd = sv[1];
	if (child_fd < 3) {
		child_fd = fcntl(sv[1], F_DUPFD_CLOEXEC, 3);
		close(sv[1]);
	}
	rc = child_fd < 0 ? errno : spawn(argv, argc > 3, child_fd, &pid);
	if (child_fd >= 0)
		close(child_fd);
	if (rc != 0) {
		close(sv[0]);
		set_why(spk, "cannot start the speech helper %s: %s", argv[0],
		        strerror(rc));
		return -ERR_UNSUPPORTED;
	}
	spk->pid = pid;
	spk->fd = sv[0];
	if (fcntl(spk->fd, F_SETFL, O_NONBLOCK) < 0)
		rc = -EIO;
	else
		rc = recv_full(spk, &hello, sizeof(hello),
		               mono_ms() + timeout_ms);
	if (rc < 0) {
		char how[128];

		if (rc == -ETIMEDOUT)
			kill(pid, SIGKILL);
		reap(spk, EXIT_WAIT_MS, how, sizeof(how));
		set_why(spk, "the speech helper %s %s at start (%s)", path,
		        rc == -ETIMEDOUT ? "did not answer" : "died", how);
		return -ERR_UNSUPPORTED;
	}
	if (hello.magic != SPEAK_REP_MAGIC ||
	    hello.version != SPEAK_PROTO_VERSION) {
		char how[128];

		kill(pid, SIGKILL);
		reap(spk, 0, how, sizeof(how));
		set_why(spk,
		        "the speech helper %s speaks another protocol (version "
		        "%u, not %u): is it from another Pulse Radio?",
		        path, (unsigned)hello.version, SPEAK_PROTO_VERSION);
		return -ERR_UNSUPPORTED;
	}
	if (hello.status < 0 || hello.rate < SPEAK_RATE_MIN ||
	    hello.rate > SPEAK_RATE_MAX || hello.nframes) {
		char how[128];

		reap(spk, EXIT_WAIT_MS, how, sizeof(how));
		set_why(spk, "espeak-ng cannot start in the speech helper: %s",
		        hello.status < 0 ? err_str(hello.status)
		                         : "a bad sample rate");
		return -ERR_UNSUPPORTED;
	}
	spk->rate = hello.rate;
	return 0;
}

/* A helper that hung up (died) or spoke while idle is replaced. */
static void check_idle(struct speaker *spk)
{
	struct pollfd p = {.fd = spk->fd, .events = POLLIN};
	char how[128];

	if (poll(&p, 1, 0) == 0)
		return;
	reap(spk, EXIT_WAIT_MS, how, sizeof(how));
}

static unsigned timeout_for(const struct speaker *spk, size_t text_len)
{
	uint64_t ms;

	if (spk->timeout_ms)
		return spk->timeout_ms;
	ms = SPEAKER_TIMEOUT_BASE_MS +
	     (uint64_t)text_len * SPEAKER_TIMEOUT_MS_PER_KB / 1024;
	return ms > SPEAKER_TIMEOUT_MAX_MS ? SPEAKER_TIMEOUT_MAX_MS
	                                   : (unsigned)ms;
}

static bool reply_ok(const struct speaker *spk, const struct speak_rep *rep)
{
	if (rep->magic != SPEAK_REP_MAGIC ||
	    rep->version != SPEAK_PROTO_VERSION || rep->rate != spk->rate)
		return false;
	if (rep->status != 0)
		return rep->status < 0 && rep->status > -65536 &&
		       rep->nframes == 0;
	/* So its bytes fit even a 32-bit size_t (speak_proto.h). */
	return (uint64_t)rep->nframes <= (uint64_t)spk->rate * spk->max_seconds;
}

int speaker_render(struct speaker *spk, const char *text,
                   const struct speech_voice *v, float **frames,
                   size_t *nframes, unsigned *rate)
{
	size_t len = strnlen(text, SPEECH_MAX_TEXT_BYTES + 1);
	struct speak_req rq;
	struct speak_rep rep;
	unsigned timeout_ms;
	int64_t deadline;
	float *buf;
	int rc;

	*frames = NULL;
	*nframes = 0;
	*rate = 0;
	spk->why[0] = '\0';
	if (len == 0 || len > SPEECH_MAX_TEXT_BYTES ||
	    !memchr(v->name, '\0', sizeof(v->name))) {
		set_why(spk, "%s", err_str(-ERR_INVALID));
		return -ERR_INVALID;
	}
	if (spk->pid)
		check_idle(spk);
	if (!spk->pid) {
		rc = start(spk);
		if (rc < 0)
			return rc;
	}
	memset(&rq, 0, sizeof(rq));
	rq.magic = SPEAK_REQ_MAGIC;
	rq.version = SPEAK_PROTO_VERSION;
	memcpy(rq.voice, v->name, sizeof(rq.voice));
	rq.rate_wpm = v->rate_wpm;
	rq.pitch = v->pitch;
	rq.max_seconds = spk->max_seconds;
	rq.text_len = (uint32_t)len;
	timeout_ms = timeout_for(spk, len);
	deadline = mono_ms() + timeout_ms;
	rc = send_full(spk, &rq, sizeof(rq), deadline);
	if (rc == 0)
		rc = send_full(spk, text, len, deadline);
	if (rc == 0)
		rc = recv_full(spk, &rep, sizeof(rep), deadline);
	if (rc < 0)
		return lost(spk, rc, timeout_ms);
	if (!reply_ok(spk, &rep))
		return lost(spk, -ERR_PROTOCOL, timeout_ms);
	if (rep.status < 0) {
		/* espeak's own refusal (the helper logged the details). */
		set_why(spk, "%s", err_str(rep.status));
		return rep.status;
	}
	buf = malloc(rep.nframes ? rep.nframes * sizeof(*buf) : sizeof(*buf));
	if (!buf) {
		/* The frames are on their way: the helper must go. */
		lost(spk, -ERR_PROTOCOL, timeout_ms);
		set_why(spk, "%s", err_str(-ENOMEM));
		return -ENOMEM;
	}
	rc = recv_full(spk, buf, rep.nframes * sizeof(*buf), deadline);
	for (size_t i = 0; rc == 0 && i < rep.nframes; i++)
		if (!(fabsf(buf[i]) <= 1.0f))
			rc = -ERR_PROTOCOL; /* NaN, or out of [-1, 1] */
	if (rc < 0) {
		free(buf);
		return lost(spk, rc, timeout_ms);
	}
	*frames = buf;
	*nframes = rep.nframes;
	*rate = spk->rate;
	return 0;
}

void speaker_free(struct speaker *spk)
{
	char how[128];

	if (!spk)
		return;
	if (spk->pid)
		reap(spk, EXIT_WAIT_MS, how, sizeof(how));
	free(spk);
}
