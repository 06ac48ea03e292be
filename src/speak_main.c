/*
 * speak_main.c - pulse-radio-speak, the daemon's speech helper: espeak-ng
 * in a process of its own.
 *
 * Why a process: (1) memory: espeak-ng and the 34 shared libraries it
 * pulls in (pulseaudio, ALSA, X11, sndfile, FLAC...) cost the daemon about
 * 1.4 MB of resident memory just by being linked, against a 16 MB target;
 * (2) robustness: bulletin text that crashes or hangs espeak-ng kills or
 * hangs this process only; the daemon kills it, starts a fresh one, and the
 * audio never stops. It also frees the daemon from espeak's rule of one
 * initialisation per process (see speech.h): each helper is a new process.
 *
 * The one thing to know: fd 0 is the socket to the daemon (speaker.c
 * starts us with nothing else open but stderr, which is the daemon's log);
 * speak_proto.h is the protocol. We say hello (espeak-ng's rate, or why it
 * cannot start), then answer one request at a time until EOF.
 *
 * Usage (by the daemon only): pulse-radio-speak [--parent PID]
 * With --parent we die with that process (PR_SET_PDEATHSIG), and exit at
 * once if it is already gone.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "speak_proto.h"
#include "speech.h"

#define SOCK_FD 0

/* All of len bytes, or 0 at EOF before the first byte, or -1. */
static int read_full(void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(SOCK_FD, p + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return got ? -1 : 0;
		got += (size_t)n;
	}
	return 1;
}

static int write_full(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len) {
		/* MSG_NOSIGNAL: a daemon gone is an error, not SIGPIPE. */
		ssize_t n = send(SOCK_FD, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int reply(int status, unsigned rate, const float *frames, size_t n)
{
	struct speak_rep rep = {
	    .magic = SPEAK_REP_MAGIC,
	    .version = SPEAK_PROTO_VERSION,
	    .status = status,
	    .rate = rate,
	    .nframes = (uint32_t)n,
	};

	if (write_full(&rep, sizeof(rep)) < 0)
		return -1;
	return n ? write_full(frames, n * sizeof(*frames)) : 0;
}

/* Whether the request header is one we can read the text after. */
static bool req_ok(const struct speak_req *rq)
{
	return rq->magic == SPEAK_REQ_MAGIC &&
	       rq->version == SPEAK_PROTO_VERSION &&
	       memchr(rq->voice, '\0', sizeof(rq->voice)) && rq->text_len &&
	       rq->text_len <= SPEECH_MAX_TEXT_BYTES && rq->max_seconds &&
	       rq->max_seconds <= SPEAK_MAX_SECONDS;
}

/* Answers requests until EOF: 0, or 1 if the daemon broke the protocol
 * or the socket failed. */
static int serve(struct speech *sp, int start_rc, unsigned rate)
{
	for (;;) {
		struct speak_req rq;
		struct speech_voice v;
		float *frames = NULL;
		size_t n = 0;
		char *text;
		int rc = read_full(&rq, sizeof(rq));

		if (rc == 0)
			return 0;
		if (rc < 0)
			return 1;
		if (!req_ok(&rq)) {
			log_error("speak: a malformed request; exiting");
			reply(-ERR_PROTOCOL, rate, NULL, 0);
			return 1;
		}
		text = malloc(rq.text_len + 1);
		if (!text)
			return 1; /* the daemon sees EOF: the helper died */
		if (read_full(text, rq.text_len) <= 0) {
			free(text);
			return 1;
		}
		text[rq.text_len] = '\0';
		if (sp) {
			memset(&v, 0, sizeof(v));
			memcpy(v.name, rq.voice, sizeof(v.name));
			v.rate_wpm = rq.rate_wpm;
			v.pitch = rq.pitch;
			speech_set_max_seconds(sp, rq.max_seconds);
			rc = speech_render(sp, text, &v, &frames, &n);
		} else {
			rc = start_rc;
		}
		free(text);
		rc = reply(rc, rate, frames, rc == 0 ? n : 0);
		free(frames);
		if (rc < 0)
			return 1;
	}
}

int main(int argc, char **argv)
{
	struct speech *sp = NULL;
	unsigned rate = 0;
	int rc;

	if (argc == 3 && strcmp(argv[1], "--parent") == 0) {
		/* The daemon's death ends us; and it may be gone already. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
		    getppid() != (pid_t)atol(argv[2]))
			return 1;
	} else if (argc != 1) {
		fputs("pulse-radio-speak is started by pulse-radio only\n",
		      stderr);
		return 2;
	}
	/* Nothing here needs more rights than it started with, ever. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		log_warn("speak: cannot set no_new_privs: %s", strerror(errno));
	/* A daemon that hangs up is an error code, not a signal. */
	signal(SIGPIPE, SIG_IGN);

	rc = speech_new(&sp);
	if (rc == 0)
		rate = speech_rate(sp);
	if (reply(rc, rate, NULL, 0) < 0) {
		speech_free(sp);
		return 1;
	}
	rc = serve(sp, rc, rate);
	speech_free(sp);
	return rc;
}
