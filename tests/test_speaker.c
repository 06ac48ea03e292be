/*
 * test_speaker.c - speech through the real helper (pulse-radio-speak, built
 * next to this program) and real espeak-ng: the same audio as speech.c in
 * this process, the same error codes, and a helper that crashes, is
 * killed, hangs, lies or is missing costs one render, never a hang, a
 * zombie or a leaked fd.
 *
 * What "the same" means: rendering a text in the helper gives the same
 * rate, the same frame count and the same samples (bit for bit: the same
 * espeak-ng, fed the same calls) as speech_render() here, for en and af.
 *
 * Misbehaving helpers are tests/tools/fake-speak.sh through
 * PULSE_SPEAK_HELPER (a host shell script, so not under the cross build's
 * emulator). Every wait is bounded: the renders have timeouts and the
 * killer thread gives up after 30 s.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "speaker.h"
#include "speech.h"
#include "testutil.h"

#define BULLETIN "Good morning. Water will be off in Soweto from 9 to 14."
#define AF_TEXT "Goeie more. Die water sal van nege tot twee af wees."

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct speech_voice voice(const char *name, int rate_wpm)
{
	struct speech_voice v;

	memset(&v, 0, sizeof(v));
	snprintf(v.name, sizeof(v.name), "%s", name);
	v.rate_wpm = rate_wpm;
	v.pitch = SPEECH_PITCH_DEFAULT;
	return v;
}

static bool all_finite(const float *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(f[i]) || fabsf(f[i]) > 1.0f)
			return false;
	return true;
}

/* Whether pid is gone for good: no process, no zombie of ours. */
static bool reaped(pid_t pid)
{
	int status;

	return pid > 0 && waitpid(pid, &status, WNOHANG) < 0 &&
	       errno == ECHILD && kill(pid, 0) < 0 && errno == ESRCH;
}

/* The state letter in /proc/PID/stat (R, S, Z, ...), '?' if none. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/* The entries of /proc/PID/WHAT ("fd": open files, "task": threads). */
static size_t count_proc(pid_t pid, const char *what)
{
	char path[64];
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static bool status_has(pid_t pid, const char *line)
{
	char path[64], buf[4096];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, line) != NULL;
}

/* The helper renders as speech.c does here, bit for bit. */
static void test_same_as_speech(struct speaker *spk)
{
	static const struct {
		const char *voice, *text;
	} cases[] = {{"en", BULLETIN}, {"af", AF_TEXT}};
	struct speech *sp = NULL;

	CHECK(speech_new(&sp) == 0);
	if (!sp)
		return;
	/* espeak-ng's output depends a little on what it spoke before (a
	 * few frames): give this one the helper's history, main()'s first
	 * render. */
	{
		struct speech_voice v = voice("en", 175);
		float *f = NULL;
		size_t n;

		CHECK(speech_render(sp, BULLETIN, &v, &f, &n) == 0);
		free(f);
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct speech_voice v = voice(cases[i].voice, 165);
		float *a = NULL, *b = NULL;
		size_t na = 0, nb = 0;
		unsigned rate = 0;
		int ra, rb;

		ra = speech_render(sp, cases[i].text, &v, &a, &na);
		rb = speaker_render(spk, cases[i].text, &v, &b, &nb, &rate);
		CHECKF(ra == 0 && rb == 0, "%s: %d %d (%s)", v.name, ra, rb,
		       speaker_why(spk));
		CHECKF(rate == speech_rate(sp), "%s: rate %u", v.name, rate);
		CHECKF(na == nb && na > (size_t)rate, "%s: %zu vs %zu frames",
		       v.name, na, nb);
		CHECKF(na == nb && a && b && memcmp(a, b, na * sizeof(*a)) == 0,
		       "%s: the samples differ", v.name);
		CHECK(all_finite(b, nb));
		free(a);
		free(b);
	}
	/* The same codes for what espeak (or speech.c) refuses. */
	{
		struct speech_voice bad[] = {
		    voice("xx-nope", 165), voice("../etc/passwd", 165),
		    voice("en", 20), voice("mb-en1", 165)};

		for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
			float *f = NULL;
			size_t n = 0;
			unsigned rate;
			int ra, rb;

			test_capture_begin();
			ra = speech_render(sp, BULLETIN, &bad[i], &f, &n);
			free(f);
			rb = speaker_render(spk, BULLETIN, &bad[i], &f, &n,
			                    &rate);
			test_capture_end();
			CHECKF(ra < 0 && ra == rb && !f && n == 0,
			       "voice '%s' rate %d: %d here, %d in the helper",
			       bad[i].name, bad[i].rate_wpm, ra, rb);
			CHECKF(strcmp(speaker_why(spk), err_str(rb)) == 0,
			       "why: %s", speaker_why(spk));
		}
		CHECK(speech_render(sp, " \x01\x7f ", &bad[0], &(float *){NULL},
		                    &(size_t){0}) == -ERR_INVALID);
	}
	speech_free(sp);
}

static void test_helper_itself(struct speaker *spk)
{
	struct speech_voice v = voice("en", 175);
	float *f = NULL;
	size_t n = 0;
	unsigned rate;
	pid_t pid = speaker_pid(spk);

	CHECK(pid > 0);
	/* It dropped what it does not need. */
	CHECK(status_has(pid, "NoNewPrivs:\t1"));
	/* Nothing but fds 0-2, although this process has more, some
	 * without close-on-exec (qemu, when there, holds fds of its own). */
	if (!getenv("PULSE_SPEAK_EMULATOR"))
		CHECKF(count_proc(pid, "fd") == 3, "the helper has %zu fds",
		       count_proc(pid, "fd"));
	/* Text over the limit: refused here, and the helper is unchanged. */
	{
		char *big = malloc(SPEECH_MAX_TEXT_BYTES + 2);

		CHECK(big != NULL);
		if (big) {
			memset(big, 'a', SPEECH_MAX_TEXT_BYTES + 1);
			big[SPEECH_MAX_TEXT_BYTES + 1] = '\0';
			CHECK(speaker_render(spk, big, &v, &f, &n, &rate) ==
			      -ERR_INVALID);
			CHECK(!f && n == 0 && speaker_pid(spk) == pid);
			/* Exactly at the limit it goes (one long "aaa" word,
			 * spelt out). */
			big[SPEECH_MAX_TEXT_BYTES] = '\0';
			memset(big, ' ', SPEECH_MAX_TEXT_BYTES - 200);
			CHECKF(speaker_render(spk, big, &v, &f, &n, &rate) == 0,
			       "%s", speaker_why(spk));
			free(f);
			free(big);
		}
		CHECK(speaker_render(spk, "", &v, &f, &n, &rate) ==
		      -ERR_INVALID);
	}
	/* Hostile text is read as text: no command, no file, no crash. */
	{
		static const char *const hostile[] = {
		    "Read \x01\x02\x1b[31m this\x7f \xc2\x85 aloud.",
		    "[[h@l'oU]] and [[ still [[ text",
		    "<audio src=\"/etc/passwd\">passwd</audio> and "
		    "<speak><break time=\"99999s\"/></speak>",
		    "\x01"
		    "50S \x01"
		    "999A loud",
		    "\xff\xfe bad UTF-8 \xed\xa0\x80 here",
		};

		for (size_t i = 0; i < sizeof(hostile) / sizeof(*hostile);
		     i++) {
			int rc;

			f = NULL;
			rc = speaker_render(spk, hostile[i], &v, &f, &n, &rate);
			CHECKF(rc == 0 && n > 0 && all_finite(f, n) &&
			           (double)n / rate < 20,
			       "hostile %zu: %d (%s), %zu frames", i, rc,
			       speaker_why(spk), n);
			free(f);
		}
		CHECK(speaker_pid(spk) == pid);
	}
	/* Past the audio limit: espeak's -E2BIG, the helper stays. */
	speaker_set_max_seconds(spk, 1);
	CHECK(speaker_render(spk, BULLETIN BULLETIN, &v, &f, &n, &rate) ==
	      -E2BIG);
	CHECK(speaker_pid(spk) == pid);
	speaker_set_max_seconds(spk, SPEECH_MAX_SECONDS_DEFAULT);
}

/* Killed between two requests: the next request starts a fresh one. */
static void test_killed_idle(struct speaker *spk)
{
	struct speech_voice v = voice("en", 175);
	pid_t pid = speaker_pid(spk);
	float *f = NULL;
	size_t n = 0;
	unsigned rate;
	int rc;

	CHECK(pid > 0 && kill(pid, SIGKILL) == 0);
	/* Dead: a zombie whose threads are all gone (the leader turns Z
	 * while another thread of the helper still exits, and the socket
	 * closes only with the last one). */
	for (int i = 0; i < 2000 &&
	                (proc_state(pid) != 'Z' || count_proc(pid, "task") > 1);
	     i++)
		usleep(1000);
	rc = speaker_render(spk, BULLETIN, &v, &f, &n, &rate);
	CHECKF(rc == 0 && n > 0, "after a kill: %d (%s)", rc, speaker_why(spk));
	CHECK(speaker_pid(spk) > 0 && speaker_pid(spk) != pid);
	CHECK(reaped(pid));
	free(f);
}

struct killer {
	pid_t pid;
	bool fired;
};

/* SIGKILLs the helper once it is busy rendering (state R). */
static void *kill_when_busy(void *arg)
{
	struct killer *k = arg;
	double end = now_s() + 30;

	while (now_s() < end) {
		if (proc_state(k->pid) == 'R') {
			kill(k->pid, SIGKILL);
			k->fired = true;
			break;
		}
		usleep(500);
	}
	return NULL;
}

/* Killed in the middle of a long render: that render fails with -EIO,
 * the helper is reaped, the next render gets a fresh one. */
static void test_killed_busy(struct speaker *spk)
{
	struct speech_voice v = voice("en", 175);
	struct killer k = {.pid = speaker_pid(spk)};
	size_t len = 20000, n = 0;
	char *text = malloc(len + 1);
	pthread_t t;
	float *f = NULL;
	unsigned rate;
	int rc;

	CHECK(text != NULL && k.pid > 0);
	if (!text || k.pid <= 0) {
		free(text);
		return;
	}
	/* Some 20 minutes of speech: over a second of espeak's time. */
	for (size_t i = 0; i < len; i++)
		text[i] = BULLETIN[i % (sizeof(BULLETIN) - 1)];
	text[len] = '\0';
	/* Idle, it sleeps in read(): the killer waits for the work. */
	for (int i = 0; i < 2000 && proc_state(k.pid) != 'S'; i++)
		usleep(1000);
	CHECK(proc_state(k.pid) == 'S');
	CHECK(pthread_create(&t, NULL, kill_when_busy, &k) == 0);
	rc = speaker_render(spk, text, &v, &f, &n, &rate);
	pthread_join(t, NULL);
	CHECKF(k.fired && rc == -EIO && !f && n == 0,
	       "killed mid-render: fired %d, %d (%s)", k.fired, rc,
	       speaker_why(spk));
	CHECKF(strstr(speaker_why(spk), "died") &&
	           strstr(speaker_why(spk), "signal 9"),
	       "why: %s", speaker_why(spk));
	CHECK(speaker_pid(spk) == 0);
	CHECK(reaped(k.pid));
	rc = speaker_render(spk, BULLETIN, &v, &f, &n, &rate);
	CHECKF(rc == 0 && n > 0, "after: %d (%s)", rc, speaker_why(spk));
	free(f);
	free(text);
}

/* A speaker on fake-speak.sh in mode; a render of BULLETIN. */
static int fake_render(const char *mode, unsigned timeout_ms,
                       struct speaker **out, double *secs)
{
	struct speech_voice v = voice("en", 175);
	float *f = NULL;
	size_t n = 0;
	unsigned rate;
	double t0;
	int rc;

	setenv("FAKE_SPEAK_MODE", mode, 1);
	CHECK(speaker_new(out) == 0);
	if (!*out)
		return -ENOMEM;
	speaker_set_timeout_ms(*out, timeout_ms);
	t0 = now_s();
	rc = speaker_render(*out, BULLETIN, &v, &f, &n, &rate);
	*secs = now_s() - t0;
	CHECK(!f && n == 0);
	free(f);
	return rc;
}

static void test_bad_helpers(void)
{
	struct speaker *spk = NULL;
	const char *emu = getenv("PULSE_SPEAK_EMULATOR");
	char *emu_saved = emu ? strdup(emu) : NULL, tool[1024];
	const char *src = getenv("PULSE_SRC");
	double secs, t0;
	pid_t pid;
	int rc;

	/* The fake is a host script: no emulator for it. */
	unsetenv("PULSE_SPEAK_EMULATOR");
	if (src)
		snprintf(tool, sizeof(tool), "%s/tests/tools/fake-speak.sh",
		         src);
	else /* __FILE__ is this file's full path under CMake */
		snprintf(tool, sizeof(tool), "%.*stools/fake-speak.sh",
		         (int)(strrchr(__FILE__, '/') + 1 - __FILE__),
		         __FILE__);
	CHECK(setenv("PULSE_SPEAK_HELPER", tool, 1) == 0);

	/* Hangs on a request: -ETIMEDOUT after the timeout, killed. */
	rc = fake_render("hang", 600, &spk, &secs);
	CHECKF(rc == -ETIMEDOUT && secs >= 0.55 && secs < 5,
	       "hang: %d after %.2f s (%s)", rc, secs, speaker_why(spk));
	CHECKF(strstr(speaker_why(spk), "did not answer in 0.6 s"), "why: %s",
	       speaker_why(spk));
	CHECK(speaker_pid(spk) == 0);
	/* A fresh one for the next request, and free() ends it at once. */
	rc =
	    speaker_render(spk, BULLETIN, &(struct speech_voice){"en", 175, 50},
	                   &(float *){NULL}, &(size_t){0}, &(unsigned){0});
	CHECK(rc == -ETIMEDOUT);
	t0 = now_s();
	speaker_free(spk);
	CHECKF(now_s() - t0 < 1.0, "free took %.2f s", now_s() - t0);

	/* Ignores EOF: free() kills it after a second, and reaps it. */
	rc = fake_render("deaf", 5000, &spk, &secs);
	CHECKF(rc == -ERR_INVALID, "deaf: %d (%s)", rc, speaker_why(spk));
	pid = speaker_pid(spk);
	CHECK(pid > 0);
	t0 = now_s();
	speaker_free(spk);
	secs = now_s() - t0;
	CHECKF(secs >= 0.9 && secs < 4, "free of a deaf helper: %.2f s", secs);
	CHECK(reaped(pid));

	/* Never says hello: cannot start, -ERR_UNSUPPORTED, nothing left. */
	rc = fake_render("mute", 500, &spk, &secs);
	CHECKF(rc == -ERR_UNSUPPORTED && secs < 4 &&
	           strstr(speaker_why(spk), "did not answer") &&
	           strstr(speaker_why(spk), "at start"),
	       "mute: %d (%s)", rc, spk ? speaker_why(spk) : "");
	CHECK(speaker_pid(spk) == 0);
	speaker_free(spk);

	/* Crashes on a request: -EIO naming the signal, reaped. */
	rc = fake_render("crash", 5000, &spk, &secs);
	CHECKF(rc == -EIO && strstr(speaker_why(spk), "died (signal 11"),
	       "crash: %d (%s)", rc, speaker_why(spk));
	CHECK(speaker_pid(spk) == 0);
	speaker_free(spk);

	/* Answers garbage: -EIO, killed. */
	rc = fake_render("garbage", 5000, &spk, &secs);
	CHECKF(rc == -EIO && strstr(speaker_why(spk), "malformed"),
	       "garbage: %d (%s)", rc, speaker_why(spk));
	CHECK(speaker_pid(spk) == 0);
	speaker_free(spk);

	/* Another protocol version: cannot start, and says so. */
	rc = fake_render("oldproto", 5000, &spk, &secs);
	CHECKF(rc == -ERR_UNSUPPORTED &&
	           strstr(speaker_why(spk), "version 2, not 1"),
	       "oldproto: %d (%s)", rc, speaker_why(spk));
	speaker_free(spk);

	/* Missing: one clear reason naming the path. */
	CHECK(setenv("PULSE_SPEAK_HELPER", "/nonexistent/pulse-radio-speak",
	             1) == 0);
	rc = fake_render("hang", 5000, &spk, &secs);
	CHECKF(rc == -ERR_UNSUPPORTED &&
	           strstr(speaker_why(spk), "/nonexistent/pulse-radio-speak"),
	       "missing: %d (%s)", rc, speaker_why(spk));
	speaker_free(spk);

	unsetenv("PULSE_SPEAK_HELPER");
	unsetenv("FAKE_SPEAK_MODE");
	if (emu_saved)
		setenv("PULSE_SPEAK_EMULATOR", emu_saved, 1);
	free(emu_saved);
}

int main(void)
{
	struct speaker *spk = NULL;
	struct speech_voice v = voice("en", 175);
	size_t fds = count_proc(getpid(), "fd");
	FILE *leaky = fopen("/proc/self/status", "r"); /* no O_CLOEXEC */
	float *f = NULL;
	size_t n = 0;
	unsigned rate;
	pid_t pid;

	CHECK(leaky != NULL);
	CHECK(speaker_new(&spk) == 0);
	if (!spk)
		return test_done();
	CHECK(speaker_pid(spk) == 0); /* started on first use */
	CHECKF(speaker_render(spk, BULLETIN, &v, &f, &n, &rate) == 0,
	       "first render: %s", speaker_why(spk));
	CHECK(rate == 22050 && n > rate && speaker_why(spk)[0] == '\0');
	free(f);
	test_same_as_speech(spk);
	test_helper_itself(spk);
	test_killed_idle(spk);
	test_killed_busy(spk);
	pid = speaker_pid(spk);
	speaker_free(spk);
	CHECK(reaped(pid));
	if (leaky)
		fclose(leaky);

	test_bad_helpers();
	CHECKF(count_proc(getpid(), "fd") == fds, "%zu fds, %zu before",
	       count_proc(getpid(), "fd"), fds);
	return test_done();
}
