/*
 * speech.h - espeak-ng text to mono float audio, for news bulletins.
 *
 * The daemon never calls this: it runs in the speech helper,
 * pulse-radio-speak (speak_main.c), and the daemon talks to that through
 * speaker.h, so espeak-ng's memory and crashes stay out of the daemon and
 * the rules below bind the helper only (and test_speech, bench-speech).
 *
 * espeak-ng is a process-wide singleton and not thread-safe: ONE thread
 * (the helper's main thread) calls speech_new() and then makes every
 * call on the object, speech_free() included; nothing else in the program
 * may call espeak. Only one struct speech exists at a time, and only once
 * per process: espeak-ng 1.51 can be initialised again after it was
 * terminated, but its second terminate deadlocks, so speech_new() after a
 * speech_free() returns -EBUSY.
 */
#ifndef SPEECH_H
#define SPEECH_H

#include <stddef.h>

struct speech;

/* Bounds of speech_voice and speech_render(). */
#define SPEECH_RATE_MIN_WPM 80
#define SPEECH_RATE_MAX_WPM 450
#define SPEECH_RATE_DEFAULT_WPM 175
#define SPEECH_PITCH_MAX 99
#define SPEECH_PITCH_DEFAULT 50
#define SPEECH_MAX_TEXT_BYTES 65536
#define SPEECH_MAX_SECONDS_DEFAULT 1800
/* Leading and trailing silence is cut to this much. */
#define SPEECH_PAD_MS 50

/*
 * A voice: an espeak-ng voice or language name ("en", "en-gb", "af", "tn",
 * "en+f3" with a variant, ...); letters, digits, '-', '_' and '+' only,
 * and no MBROLA voices ("mb-..."). rate_wpm in words per minute
 * (SPEECH_RATE_MIN_WPM..SPEECH_RATE_MAX_WPM, espeak's default 175),
 * pitch 0..SPEECH_PITCH_MAX (default 50).
 */
struct speech_voice {
	char name[64];
	int rate_wpm;
	int pitch;
};

/*
 * Starts espeak-ng for synchronous synthesis in the calling thread. It
 * never calls exit(); every URI (SSML <audio>) is refused; the process
 * locale is put back as it was (espeak sets LC_CTYPE). 0 with *out;
 * -ERR_UNSUPPORTED (one log line) if espeak-ng cannot start, e.g. its
 * data is missing; -EBUSY if a struct speech exists, or existed (see
 * above); -ENOMEM.
 */
int speech_new(struct speech **out);

/*
 * As speech_new(), with espeak-ng's data taken from data_dir (the
 * directory holding espeak-ng-data/). If NULL, or if data_dir has no
 * espeak-ng-data/, espeak-ng looks in $ESPEAK_DATA_PATH, then its default
 * place.
 */
int speech_new_at(struct speech **out, const char *data_dir);

/* Whether espeak-ng has this voice: 0 yes, -ERR_NOT_FOUND no. */
int speech_voice_ok(struct speech *sp, const char *name);

/*
 * Renders plain text (UTF-8) with voice v into mono float frames in
 * [-1, 1] at speech_rate(sp) Hz. *frames is a new malloc'd array owned by
 * the caller, *nframes its length (0 if espeak found nothing to say, with
 * *frames still to be freed). Leading and trailing silence is cut to
 * SPEECH_PAD_MS.
 *
 * The text is never markup: control characters (C0, DEL, C1, which espeak
 * would read as embedded commands) and invalid UTF-8 become spaces, and
 * "<...>" or "[[...]]" are read as text.
 *
 * Returns 0; -ERR_NOT_FOUND (unknown voice, logged); -ERR_INVALID (rate or
 * pitch out of range, a bad voice name, text empty or longer than
 * SPEECH_MAX_TEXT_BYTES); -E2BIG (the audio would be longer than the
 * limit, SPEECH_MAX_SECONDS_DEFAULT unless set; logged); -ENOMEM; -EIO
 * (espeak failed, logged). On failure *frames is NULL and *nframes 0.
 */
int speech_render(struct speech *sp, const char *text,
                  const struct speech_voice *v, float **frames,
                  size_t *nframes);

/* Frames per second of speech_render()'s output (22050 for espeak-ng). */
unsigned speech_rate(const struct speech *sp);

/* Sets the longest audio speech_render() makes, in seconds (>= 1). */
void speech_set_max_seconds(struct speech *sp, unsigned seconds);

/* Terminates espeak-ng; accepts NULL. See above: no speech_new() after. */
void speech_free(struct speech *sp);

#endif
