/*
 * speaker.h - text to speech through a helper process, for the daemon.
 *
 * The daemon does not link espeak-ng: speech is rendered by
 * pulse-radio-speak (src/speak_main.c, espeak-ng through speech.c), a
 * child process started on the first render and kept for the next ones,
 * talking over a socketpair. Two reasons: (1) memory: espeak-ng and its 34
 * shared libraries (pulseaudio, ALSA, X11, sndfile, FLAC...) cost about
 * 1.4 MB of the daemon's resident memory just by being linked, against a
 * 16 MB target; (2) robustness: text that crashes or hangs espeak-ng takes
 * down the helper, never the audio. A helper that dies or does not answer
 * in time is killed (SIGKILL) and reaped, the render fails, and the next
 * one starts a fresh helper. espeak-ng's rule of one initialisation per
 * process (speech.h) binds the helper, not the daemon: a struct speaker
 * may be made and freed any number of times.
 *
 * One thread makes every call on a struct speaker: the helper is killed
 * when the thread that started it exits (PR_SET_PDEATHSIG), and it dies
 * with the daemon too.
 *
 * Where the helper is, first found wins:
 *   $PULSE_SPEAK_HELPER (tests, operators), else pulse-radio-speak in the
 *   running program's directory (the build tree), else in
 *   ../libexec/pulse-radio/ from there (an unpacked or relocated install),
 *   else the installed path (/usr/libexec/pulse-radio/pulse-radio-speak
 *   in the package).
 * $PULSE_SPEAK_EMULATOR, if set, is a program (and space-separated
 * arguments) the helper runs under: qemu-aarch64-static when the tests of
 * a cross build run under qemu-user without binfmt_misc.
 */
#ifndef SPEAKER_H
#define SPEAKER_H

#include <stddef.h>
#include <sys/types.h>

#include "speech.h"

struct speaker;

/* No answer in this long is a hung helper: SPEAKER_TIMEOUT_BASE_MS plus
 * SPEAKER_TIMEOUT_MS_PER_KB per KiB of text, at most SPEAKER_TIMEOUT_MAX_MS
 * (espeak-ng renders 50-1000 times faster than real time). */
#define SPEAKER_TIMEOUT_BASE_MS 10000
#define SPEAKER_TIMEOUT_MS_PER_KB 5000
#define SPEAKER_TIMEOUT_MAX_MS 120000

/* A speaker with no helper yet (it starts on the first render). 0 with
 * *out, or -ENOMEM. */
int speaker_new(struct speaker **out);

/*
 * As speech_render() (the same text cleaning, voice rules, limits and
 * codes), done by the helper; *rate is the frames per second of *frames.
 * Extra codes, each with speaker_why() saying what happened:
 *  -ERR_UNSUPPORTED  no helper could start: none found, it would not run,
 *                    it exited before its hello, it speaks another
 *                    protocol version, or espeak-ng cannot start in it
 *                    (it logs espeak's words); the next call tries again;
 *  -EIO              the helper died during the render (a crash, a kill)
 *                    or answered something malformed; also espeak-ng
 *                    failing (as speech_render());
 *  -ETIMEDOUT        no complete answer in time (see above).
 * After -EIO or -ETIMEDOUT the helper has been killed and reaped; the
 * next call starts a fresh one. Text over SPEECH_MAX_TEXT_BYTES is
 * refused (-ERR_INVALID) before anything is sent. Logs nothing itself.
 */
int speaker_render(struct speaker *spk, const char *text,
                   const struct speech_voice *v, float **frames,
                   size_t *nframes, unsigned *rate);

/* Why the last speaker_render() failed, one line ("" after a success). */
const char *speaker_why(const struct speaker *spk);

/* The longest audio a render makes, seconds, 1..7200 (default
 * SPEECH_MAX_SECONDS_DEFAULT). */
void speaker_set_max_seconds(struct speaker *spk, unsigned seconds);

/* Every render's timeout, in ms, instead of the scaled one above; 0 goes
 * back to that. Also bounds the helper's start. For tests. */
void speaker_set_timeout_ms(struct speaker *spk, unsigned ms);

/* The helper's process id, 0 if none is running. For tests. */
pid_t speaker_pid(const struct speaker *spk);

/* Ends the helper (EOF on its socket; SIGKILL if it is not gone within a
 * second), reaps it, and frees. Never hangs. Accepts NULL. */
void speaker_free(struct speaker *spk);

#endif
