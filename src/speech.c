/*
 * speech.c - espeak-ng text to mono float audio, for news bulletins.
 *
 * espeak-ng is one global synthesiser, so this file keeps the one piece of
 * file-scope state in the project: whether it is in use, or was. Text is
 * cleaned here even though the caller cleaned it: in plain-text mode
 * espeak still reads "\x01" as an embedded command, and SSML (never
 * enabled here) would open files named in <audio>.
 */
#include "speech.h"

#include <assert.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>

#include "err.h"
#include "log.h"

/* Samples below this are silence when trimming (about -60 dBFS). */
#define SILENCE_LEVEL 0.001f
/* The first growth of the audio buffer, in seconds. */
#define FIRST_BUFFER_SECONDS 8

struct speech {
	pthread_t owner; /* the one thread that may call espeak */
	unsigned rate;
	size_t max_frames;
	char voice[64]; /* the voice espeak has loaded, "" if unsure */
	/* The render in progress, filled by on_audio(). */
	float *buf;
	size_t len, cap;
	int cb_err; /* 0, -ENOMEM or -E2BIG: on_audio() stopped espeak */
};

static pthread_mutex_t speech_lock = PTHREAD_MUTEX_INITIALIZER;
static bool speech_live;  /* a struct speech exists */
static bool speech_spent; /* espeak was terminated: never again */

/* One log line with espeak's words for status, and the file if it says. */
static void log_status(const char *what, espeak_ng_STATUS status,
                       espeak_ng_ERROR_CONTEXT ctx)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f) {
		espeak_ng_PrintStatusCodeMessage(status, f, ctx);
		if (fclose(f) != 0) {
			free(text);
			text = NULL;
		}
	}
	for (size_t i = 0; text && text[i]; i++)
		if (text[i] == '\n' || text[i] == '\r')
			text[i] = text[i + 1] ? ' ' : '\0';
	log_error("speech: %s: %s", what,
	          text && text[0] ? text : "espeak-ng failed");
	free(text);
}

/* The SSML <audio> hook: 1 means "do not play it". */
static int refuse_uri(int type, const char *uri, const char *base)
{
	(void)type;
	(void)uri;
	(void)base;
	return 1;
}

/* espeak's synth callback: 0 goes on, 1 stops the synthesis. */
static int on_audio(short *wav, int n, espeak_EVENT *events)
{
	struct speech *sp = events ? events->user_data : NULL;
	size_t count;

	if (!sp)
		return 1;
	if (sp->cb_err)
		return 1;
	if (!wav || n <= 0)
		return 0;
	count = (size_t)n;
	if (count > sp->max_frames - sp->len) {
		sp->cb_err = -E2BIG;
		return 1;
	}
	if (count > sp->cap - sp->len) {
		size_t cap = sp->cap ? sp->cap * 2
		                     : (size_t)sp->rate * FIRST_BUFFER_SECONDS;
		float *p;

		while (cap - sp->len < count)
			cap *= 2;
		if (cap > sp->max_frames)
			cap = sp->max_frames;
		p = realloc(sp->buf, cap * sizeof(*p));
		if (!p) {
			sp->cb_err = -ENOMEM;
			return 1;
		}
		sp->buf = p;
		sp->cap = cap;
	}
	for (size_t i = 0; i < count; i++)
		sp->buf[sp->len + i] = (float)wav[i] / 32768.0f;
	sp->len += count;
	return 0;
}

int speech_new(struct speech **out)
{
	return speech_new_at(out, NULL);
}

int speech_new_at(struct speech **out, const char *data_dir)
{
	espeak_ng_ERROR_CONTEXT ctx = NULL;
	espeak_ng_STATUS status;
	struct speech *sp;
	char *locale = NULL;
	const char *now;
	int rc;

	*out = NULL;
	pthread_mutex_lock(&speech_lock);
	if (speech_live || speech_spent) {
		pthread_mutex_unlock(&speech_lock);
		return -EBUSY;
	}
	speech_live = true;
	pthread_mutex_unlock(&speech_lock);

	sp = calloc(1, sizeof(*sp));
	now = setlocale(LC_ALL, NULL);
	if (now)
		locale = strdup(now);
	if (!sp || (now && !locale)) {
		rc = -ENOMEM;
		goto fail;
	}
	espeak_ng_InitializePath(data_dir);
	/* Unlike espeak_Initialize(), this returns errors, never exits. */
	status = espeak_ng_Initialize(&ctx);
	if (status != ENS_OK) {
		log_status("espeak-ng cannot start", status, ctx);
		espeak_ng_ClearErrorContext(&ctx);
		rc = -ERR_UNSUPPORTED;
		goto fail;
	}
	status = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, NULL);
	if (status != ENS_OK) {
		log_status("espeak-ng output", status, NULL);
		espeak_ng_Terminate();
		pthread_mutex_lock(&speech_lock);
		speech_spent = true;
		pthread_mutex_unlock(&speech_lock);
		rc = -ERR_UNSUPPORTED;
		goto fail;
	}
	espeak_SetSynthCallback(on_audio);
	espeak_SetUriCallback(refuse_uri);
	/*
	 * espeak sets LC_CTYPE to C.UTF-8 for the wide-character classes, but
	 * the locale belongs to the whole program. It decodes UTF-8 itself,
	 * and renders the same samples either way (checked for af and en).
	 */
	now = setlocale(LC_ALL, NULL);
	if (locale && (!now || strcmp(now, locale) != 0))
		setlocale(LC_ALL, locale);
	free(locale);
	sp->owner = pthread_self();
	sp->rate = (unsigned)espeak_ng_GetSampleRate();
	sp->max_frames = (size_t)sp->rate * SPEECH_MAX_SECONDS_DEFAULT;
	*out = sp;
	return 0;

fail:
	if (locale) {
		setlocale(LC_ALL, locale);
		free(locale);
	}
	free(sp);
	pthread_mutex_lock(&speech_lock);
	speech_live = false;
	pthread_mutex_unlock(&speech_lock);
	return rc;
}

unsigned speech_rate(const struct speech *sp)
{
	return sp->rate;
}

void speech_set_max_seconds(struct speech *sp, unsigned seconds)
{
	assert(seconds >= 1);
	sp->max_frames = (size_t)sp->rate * seconds;
}

/* Names espeak may look up as files: no paths, nothing but a name. */
static bool name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= sizeof(((struct speech_voice *)0)->name))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '+'))
			return false;
	}
	/* MBROLA voices run an external program and, when it is missing,
	 * leave espeak unable to speak with any voice. */
	if ((name[0] == 'm' || name[0] == 'M') &&
	    (name[1] == 'b' || name[1] == 'B') && name[2] == '-')
		return false;
	return true;
}

static bool is_mbrola(const espeak_VOICE *v)
{
	return v->identifier && strncmp(v->identifier, "mb/", 3) == 0;
}

/*
 * Loads a voice by name, else by language: espeak-ng 1.51 finds "en" and
 * "af" by name but "en-gb" only as a language (as its CLI does).
 */
static int set_voice(struct speech *sp, const char *name)
{
	espeak_VOICE spec;
	const espeak_VOICE **list;

	assert(pthread_equal(pthread_self(), sp->owner));
	if (!name_ok(name))
		return -ERR_INVALID;
	if (strcmp(sp->voice, name) == 0)
		return 0;
	sp->voice[0] = '\0';
	if (espeak_ng_SetVoiceByName(name) == ENS_OK) {
		snprintf(sp->voice, sizeof(sp->voice), "%s", name);
		return 0;
	}
	memset(&spec, 0, sizeof(spec));
	spec.languages = name;
	list = espeak_ListVoices(&spec);
	for (size_t i = 0; list && list[i]; i++) {
		if (is_mbrola(list[i]) || !list[i]->identifier)
			continue;
		if (espeak_ng_SetVoiceByName(list[i]->identifier) != ENS_OK)
			break;
		snprintf(sp->voice, sizeof(sp->voice), "%s", name);
		return 0;
	}
	return -ERR_NOT_FOUND;
}

int speech_voice_ok(struct speech *sp, const char *name)
{
	int rc = set_voice(sp, name);

	return rc == 0 ? 0 : -ERR_NOT_FOUND;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	/* No overlong forms, surrogates or code points past U+10FFFF. */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/*
 * Copies text into out (n + 1 bytes) with control characters and invalid
 * UTF-8 as spaces. Returns whether anything but spaces is left.
 */
static bool clean_text(const char *text, size_t n, char *out)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, o = 0;
	bool any = false;

	while (i < n) {
		size_t len;

		if (s[i] < 0x80) {
			bool ctl = s[i] < 0x20 || s[i] == 0x7f;

			out[o++] = ctl ? ' ' : (char)s[i];
			any |= !ctl && s[i] != ' ';
			i++;
			continue;
		}
		len = utf8_len(s + i, n - i);
		if (len == 0 || (s[i] == 0xc2 && s[i + 1] <= 0x9f)) {
			/* Invalid, or C1 (U+0080..U+009F). */
			out[o++] = ' ';
			i += len ? len : 1;
			continue;
		}
		memcpy(out + o, s + i, len);
		o += len;
		i += len;
		any = true;
	}
	out[o] = '\0';
	return any;
}

/* Cuts leading and trailing silence to SPEECH_PAD_MS. */
static void trim(struct speech *sp)
{
	size_t pad = (size_t)sp->rate * SPEECH_PAD_MS / 1000;
	size_t first = 0, end = sp->len;

	while (first < sp->len && fabsf(sp->buf[first]) < SILENCE_LEVEL)
		first++;
	if (first == sp->len) {
		sp->len = 0;
		return;
	}
	while (end > first && fabsf(sp->buf[end - 1]) < SILENCE_LEVEL)
		end--;
	first = first > pad ? first - pad : 0;
	end = sp->len - end > pad ? end + pad : sp->len;
	sp->len = end - first;
	if (first)
		memmove(sp->buf, sp->buf + first, sp->len * sizeof(float));
}

static int check_voice(const struct speech_voice *v)
{
	if (v->rate_wpm < SPEECH_RATE_MIN_WPM ||
	    v->rate_wpm > SPEECH_RATE_MAX_WPM || v->pitch < 0 ||
	    v->pitch > SPEECH_PITCH_MAX)
		return -ERR_INVALID;
	if (!memchr(v->name, '\0', sizeof(v->name)) || !name_ok(v->name))
		return -ERR_INVALID;
	return 0;
}

int speech_render(struct speech *sp, const char *text,
                  const struct speech_voice *v, float **frames, size_t *nframes)
{
	espeak_ng_STATUS status;
	size_t n = strnlen(text, SPEECH_MAX_TEXT_BYTES + 1);
	char *clean = NULL;
	int rc;

	assert(pthread_equal(pthread_self(), sp->owner));
	*frames = NULL;
	*nframes = 0;
	rc = check_voice(v);
	if (rc < 0)
		return rc;
	if (n > SPEECH_MAX_TEXT_BYTES)
		return -ERR_INVALID;
	clean = malloc(n + 1);
	if (!clean)
		return -ENOMEM;
	if (!clean_text(text, n, clean)) {
		rc = -ERR_INVALID;
		goto fail;
	}
	rc = set_voice(sp, v->name);
	if (rc < 0) {
		log_warn("speech: no espeak-ng voice '%s'", v->name);
		goto fail;
	}
	if (espeak_ng_SetParameter(espeakRATE, v->rate_wpm, 0) != ENS_OK ||
	    espeak_ng_SetParameter(espeakPITCH, v->pitch, 0) != ENS_OK) {
		log_error("speech: espeak-ng refused rate %d, pitch %d",
		          v->rate_wpm, v->pitch);
		rc = -EIO;
		goto fail;
	}
	sp->len = 0;
	sp->cb_err = 0;
	/* UTF-8 only: no espeakSSML, no espeakPHONEMES. */
	status = espeak_ng_Synthesize(clean, n + 1, 0, POS_CHARACTER, 0,
	                              espeakCHARS_UTF8, NULL, sp);
	if (sp->cb_err == -E2BIG) {
		log_warn("speech: %zu bytes of text make more than %zu s of "
		         "audio",
		         n, sp->max_frames / sp->rate);
		rc = -E2BIG;
		goto fail;
	}
	if (sp->cb_err) {
		rc = sp->cb_err;
		goto fail;
	}
	if (status != ENS_OK) {
		log_status("espeak-ng", status, NULL);
		rc = -EIO;
		goto fail;
	}
	free(clean);
	trim(sp);
	if (sp->len == 0) {
		/* Nothing to say: still an array the caller can free. */
		free(sp->buf);
		sp->buf = malloc(sizeof(float));
		if (!sp->buf) {
			sp->cap = 0;
			return -ENOMEM;
		}
	} else if (sp->len < sp->cap) {
		float *p = realloc(sp->buf, sp->len * sizeof(float));

		if (p)
			sp->buf = p;
	}
	*frames = sp->buf;
	*nframes = sp->len;
	sp->buf = NULL;
	sp->len = sp->cap = 0;
	return 0;

fail:
	free(clean);
	free(sp->buf);
	sp->buf = NULL;
	sp->len = sp->cap = 0;
	return rc;
}

void speech_free(struct speech *sp)
{
	if (!sp)
		return;
	assert(pthread_equal(pthread_self(), sp->owner));
	espeak_ng_Terminate();
	free(sp->buf);
	free(sp);
	pthread_mutex_lock(&speech_lock);
	speech_live = false;
	speech_spent = true;
	pthread_mutex_unlock(&speech_lock);
}
