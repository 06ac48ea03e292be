/*
 * test_speech.c - real espeak-ng: bulletins in en, af and tn sound like
 * speech, the rate changes the length, and hostile text is read as text
 * (no embedded commands, no <audio> file played, no crash).
 *
 * One process, one espeak: every check runs on one struct speech, and the
 * end checks that a second speech_new() is refused.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "speech.h"
#include "testutil.h"

#define BULLETIN "Good morning. Water will be off in Soweto from 9 to 14."

struct sound {
	int rc;
	float *f;
	size_t n;
	double secs, peak, rms;
	bool finite;
};

static struct speech_voice voice(const char *name, int rate_wpm, int pitch)
{
	struct speech_voice v;

	memset(&v, 0, sizeof(v));
	snprintf(v.name, sizeof(v.name), "%s", name);
	v.rate_wpm = rate_wpm;
	v.pitch = pitch;
	return v;
}

/* Renders and measures; the caller frees s.f. */
static struct sound say(struct speech *sp, const char *text, const char *name,
                        int rate_wpm)
{
	struct speech_voice v = voice(name, rate_wpm, SPEECH_PITCH_DEFAULT);
	struct sound s;
	double sum = 0;

	memset(&s, 0, sizeof(s));
	s.finite = true;
	s.rc = speech_render(sp, text, &v, &s.f, &s.n);
	for (size_t i = 0; i < s.n; i++) {
		double x = s.f[i];

		if (!isfinite(x) || fabs(x) > 1.0)
			s.finite = false;
		else if (fabs(x) > s.peak)
			s.peak = fabs(x);
		sum += x * x;
	}
	if (s.n) {
		s.secs = (double)s.n / speech_rate(sp);
		s.rms = sqrt(sum / (double)s.n);
	}
	return s;
}

static bool sounds_like_speech(const struct sound *s, double min_secs,
                               double max_secs)
{
	return s->rc == 0 && s->f && s->finite && s->secs >= min_secs &&
	       s->secs <= max_secs && s->peak > 0.05 && s->rms > 0.01 &&
	       s->rms < 0.5;
}

/* Amplitude of the freq_hz component of f (Goertzel over all of it). */
static double tone_level(const float *f, size_t n, unsigned rate,
                         double freq_hz)
{
	double w = 2 * M_PI * freq_hz / rate, c = 2 * cos(w);
	double s1 = 0, s2 = 0, power;

	for (size_t i = 0; i < n; i++) {
		double s0 = (double)f[i] + c * s1 - s2;

		s2 = s1;
		s1 = s0;
	}
	power = s1 * s1 + s2 * s2 - c * s1 * s2;
	return n ? 2 * sqrt(power) / (double)n : 0;
}

static void test_start(char *locale_all, char *locale_num)
{
	struct speech *sp = (struct speech *)locale_all;
	const char *log;

	/* Empty data: refused with one log line, and no exit(). (A missing
	 * directory is not enough: espeak then uses its default one.) */
	CHECK(test_run("mkdir -p '%s'", test_path("empty/espeak-ng-data")) ==
	      0);
	test_capture_begin();
	CHECK(speech_new_at(&sp, test_path("empty")) == -ERR_UNSUPPORTED);
	log = test_capture_end();
	CHECK(sp == NULL);
	CHECKF(test_count_lines(log) == 1, "log: %s", log);
	CHECK(strcmp(setlocale(LC_ALL, NULL), locale_all) == 0);
	CHECK(strcmp(setlocale(LC_NUMERIC, NULL), locale_num) == 0);
}

static void test_voices(struct speech *sp)
{
	static const char *const good[] = {"en", "en-gb", "en-us",
	                                   "af", "tn",    "en+f3"};
	static const char *const bad[] = {
	    "xx-nope",   "zu",     "",      "../../../../etc/passwd",
	    "gmw/en",    "mb-en1", "en gb", "en\n",
	    "default;rm"};

	CHECK(speech_rate(sp) == 22050);
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		CHECKF(speech_voice_ok(sp, good[i]) == 0, "%s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		CHECKF(speech_voice_ok(sp, bad[i]) == -ERR_NOT_FOUND, "%s",
		       bad[i]);
	/* A refused name leaves the voice usable. */
	CHECK(speech_voice_ok(sp, "en") == 0);
}

static void test_bulletins(struct speech *sp)
{
	static const char *const names[] = {"en", "af", "tn", "en-gb"};
	size_t pad = speech_rate(sp) * SPEECH_PAD_MS / 1000;
	struct sound s, slow, fast;

	for (size_t k = 0; k < sizeof(names) / sizeof(*names); k++) {
		s = say(sp, BULLETIN, names[k], SPEECH_RATE_DEFAULT_WPM);
		CHECKF(sounds_like_speech(&s, 2, 10),
		       "%s: rc %d, %.2f s, peak %.3f, rms %.3f", names[k], s.rc,
		       s.secs, s.peak, s.rms);
		/* Trimmed: sound within the pad of either end. */
		if (s.n > 2 * pad) {
			size_t first = 0, last = s.n;

			while (first < s.n && fabsf(s.f[first]) < 0.001f)
				first++;
			while (last > 0 && fabsf(s.f[last - 1]) < 0.001f)
				last--;
			CHECKF(first <= pad && s.n - last <= pad,
			       "%s: %zu and %zu frames of silence", names[k],
			       first, s.n - last);
		}
		free(s.f);
	}

	slow = say(sp, BULLETIN, "en", 80);
	fast = say(sp, BULLETIN, "en", 300);
	CHECK(sounds_like_speech(&slow, 2, 20));
	CHECK(sounds_like_speech(&fast, 0.5, 10));
	CHECKF(slow.secs > 2 * fast.secs, "80 wpm %.2f s, 300 wpm %.2f s",
	       slow.secs, fast.secs);
	free(slow.f);
	free(fast.f);
}

static void test_refusals(struct speech *sp)
{
	struct speech_voice v = voice("en", 175, 50);
	float *f = (float *)&v;
	size_t n = 7;
	char *big;
	const char *log;

	test_capture_begin();
	v = voice("xx-nope", 175, 50);
	CHECK(speech_render(sp, BULLETIN, &v, &f, &n) == -ERR_NOT_FOUND);
	CHECK(f == NULL && n == 0);
	log = test_capture_end();
	CHECK(test_count_lines(log) == 1);

	v = voice("en", 79, 50);
	CHECK(speech_render(sp, BULLETIN, &v, &f, &n) == -ERR_INVALID);
	v = voice("en", 451, 50);
	CHECK(speech_render(sp, BULLETIN, &v, &f, &n) == -ERR_INVALID);
	v = voice("en", 175, -1);
	CHECK(speech_render(sp, BULLETIN, &v, &f, &n) == -ERR_INVALID);
	v = voice("en", 175, 100);
	CHECK(speech_render(sp, BULLETIN, &v, &f, &n) == -ERR_INVALID);
	v = voice("../en", 175, 50);
	CHECK(speech_render(sp, BULLETIN, &v, &f, &n) == -ERR_INVALID);
	memset(v.name, 'e', sizeof(v.name)); /* not terminated */
	CHECK(speech_render(sp, BULLETIN, &v, &f, &n) == -ERR_INVALID);
	v = voice("en", 175, 50);
	CHECK(speech_render(sp, "", &v, &f, &n) == -ERR_INVALID);
	CHECK(speech_render(sp, " \x01\t\x7f\xc2\x85\xff ", &v, &f, &n) ==
	      -ERR_INVALID);
	CHECK(f == NULL && n == 0);

	/* Over 64 KiB: refused before espeak sees it. */
	big = malloc(SPEECH_MAX_TEXT_BYTES + 2);
	memset(big, 'a', SPEECH_MAX_TEXT_BYTES + 1);
	big[SPEECH_MAX_TEXT_BYTES + 1] = '\0';
	CHECK(speech_render(sp, big, &v, &f, &n) == -ERR_INVALID);
	free(big);

	/* Longer than the limit: stopped, and the next render is whole. */
	{
		struct sound before = say(sp, BULLETIN, "en", 175), after;

		speech_set_max_seconds(sp, 1);
		test_capture_begin();
		CHECK(speech_render(sp, BULLETIN, &v, &f, &n) == -E2BIG);
		log = test_capture_end();
		CHECK(test_count_lines(log) == 1);
		CHECK(f == NULL && n == 0);
		speech_set_max_seconds(sp, SPEECH_MAX_SECONDS_DEFAULT);
		after = say(sp, BULLETIN, "en", 175);
		CHECKF(after.rc == 0 && fabs(after.secs - before.secs) < 0.05,
		       "%.2f s before, %.2f s after", before.secs, after.secs);
		free(before.f);
		free(after.f);
	}
}

static void test_hostile(struct speech *sp)
{
	static const char *const texts[] = {
	    "\x01"
	    "50S Water is off.",
	    "<voice name='x'>Water is off.</voice>",
	    "<speak><audio src=\"/etc/passwd\"/>Water</speak>",
	    "Water \xf0\x9f\x92\xa7 is off \xf0\x9f\x9a\xb1 today \xf0\x9f"
	    "\x98\x80.",
	    "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 \xd7\xa9\xd7\x9c\xd7\x95"
	    "\xd7\x9d \xe2\x80\xae reversed \xe2\x80\xac Soweto",
	    "hello \x80 world",
	    "hello \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82 world",
	    "[[h@'loU]] [[ and more",
	    "&amp; &#x41; &lt;b&gt; %s %n \\x01",
	};
	const char *dir = test_tmpdir();
	char secret[512], text[1024];
	char *big;
	struct sound s, plain, ctl;
	double level, near_level = 0;

	for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
		s = say(sp, texts[i], "en", 175);
		CHECKF(s.rc == 0 && s.finite && s.secs > 0.2 && s.secs < 15,
		       "text %zu: rc %d, %.2f s", i, s.rc, s.secs);
		free(s.f);
	}
	s = say(sp, texts[4], "af", 175);
	CHECK(s.rc == 0 && s.finite);
	free(s.f);

	/*
	 * <audio> names a loud 1 kHz WAV. It must not be played: the output
	 * has no 1 kHz tone above its neighbours, and is shorter than the
	 * 10 s file. First, the detector finds that tone in the file itself.
	 */
	snprintf(secret, sizeof(secret), "%s/secret.wav", dir);
	CHECK(test_write_sine_wav(secret, 22050, 1, 10, 1000) == 0);
	{
		size_t n = 22050;
		float *sine = malloc(n * sizeof(float));

		for (size_t i = 0; i < n; i++)
			sine[i] = 0.5f * (float)sin(2 * M_PI * 1000.0 *
			                            (double)i / 22050);
		level = tone_level(sine, n, 22050, 1000);
		CHECKF(fabs(level - 0.5) < 0.01, "detector: %.3f", level);
		CHECK(tone_level(sine, n, 22050, 1100) < 0.01);
		free(sine);
	}
	snprintf(text, sizeof(text), "<audio src=\"%s\"/>hello", secret);
	s = say(sp, text, "en", 175);
	CHECKF(sounds_like_speech(&s, 0.3, 9.5), "<audio>: rc %d, %.2f s", s.rc,
	       s.secs);
	if (s.rc == 0) {
		level = tone_level(s.f, s.n, speech_rate(sp), 1000);
		for (int k = -2; k <= 2; k++)
			if (k)
				near_level +=
				    tone_level(s.f, s.n, speech_rate(sp),
				               1000 + 75.0 * k) /
				    4;
		CHECKF(level < 0.02 && level < 5 * near_level + 0.001,
		       "1 kHz at %.4f, neighbours %.4f", level, near_level);
	}
	free(s.f);

	/*
	 * Embedded commands: "\x01" "0A" would silence the rest (amplitude
	 * 0) and "\x01" "450S" would speed it up. With them cleaned to spaces
	 * the text reads "0A" and "450S" as words: within 10 % of the length
	 * and RMS of the same text with a space for "\x01".
	 */
	snprintf(text, sizeof(text), "%s",
	         "Water is off in Soweto \x01"
	         "0A today and \x01"
	         "450S "
	         "tomorrow.");
	ctl = say(sp, text, "en", 175);
	for (char *p = text; *p; p++)
		if (*p == '\x01')
			*p = ' ';
	plain = say(sp, text, "en", 175);
	CHECK(sounds_like_speech(&plain, 1, 15));
	CHECKF(ctl.rc == 0 && fabs(ctl.secs / plain.secs - 1) < 0.1 &&
	           fabs(ctl.rms / plain.rms - 1) < 0.1,
	       "with \\x01: %.2f s rms %.3f; without: %.2f s rms %.3f",
	       ctl.secs, ctl.rms, plain.secs, plain.rms);
	free(plain.f);
	free(ctl.f);

	/* 64 KiB of "a": bounded, whatever espeak makes of it. */
	big = malloc(SPEECH_MAX_TEXT_BYTES + 1);
	memset(big, 'a', SPEECH_MAX_TEXT_BYTES);
	big[SPEECH_MAX_TEXT_BYTES] = '\0';
	s = say(sp, big, "en", 450);
	CHECKF((s.rc == 0 || s.rc == -E2BIG) && s.finite, "64 KiB: rc %d",
	       s.rc);
	free(s.f);
	free(big);
	/* espeak still works after it. */
	s = say(sp, BULLETIN, "tn", 175);
	CHECK(sounds_like_speech(&s, 2, 10));
	free(s.f);
}

int main(void)
{
	struct speech *sp = NULL, *other;
	char locale_all[1024], locale_num[256];

	test_tmpdir();
	snprintf(locale_all, sizeof(locale_all), "%s", setlocale(LC_ALL, NULL));
	snprintf(locale_num, sizeof(locale_num), "%s",
	         setlocale(LC_NUMERIC, NULL));
	test_start(locale_all, locale_num);

	CHECK(speech_new(&sp) == 0);
	if (!sp)
		return test_done();
	CHECK(strcmp(setlocale(LC_ALL, NULL), locale_all) == 0);
	CHECK(strcmp(setlocale(LC_NUMERIC, NULL), locale_num) == 0);
	other = (struct speech *)locale_all;
	CHECK(speech_new(&other) == -EBUSY);
	CHECK(other == NULL);

	test_voices(sp);
	test_bulletins(sp);
	test_refusals(sp);
	test_hostile(sp);
	CHECK(strcmp(setlocale(LC_ALL, NULL), locale_all) == 0);
	CHECK(strcmp(setlocale(LC_NUMERIC, NULL), locale_num) == 0);

	speech_free(sp);
	speech_free(NULL);
	/* espeak-ng 1.51 deadlocks in a second terminate: never again. */
	other = (struct speech *)locale_all;
	CHECK(speech_new(&other) == -EBUSY);
	CHECK(other == NULL);
	CHECK(strcmp(setlocale(LC_ALL, NULL), locale_all) == 0);
	return test_done();
}
