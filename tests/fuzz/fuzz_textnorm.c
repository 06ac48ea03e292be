/*
 * fuzz_textnorm.c - bulletin text through textnorm_clean(), then
 * textnorm_speech() in each language, as the newsroom does.
 *
 * Input: the text as submitted, any bytes. Checked, as textnorm.h
 * promises: a refusal has a reason and no output; clean text is valid
 * UTF-8 with no control character but "\n", no format character, no
 * double space or blank line, trimmed; speech has no '<', '>' or control
 * character but "\n" and is at most TEXTNORM_SPEECH_MAX(clean) bytes.
 */
#include "textnorm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fuzz.h"

/* Shorter than the longest reason: truncation is exercised too. */
#define WHY_LEN 40

static bool is_c1(const unsigned char *s, size_t i, size_t n)
{
	return s[i] == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 &&
	       s[i + 1] <= 0x9f;
}

/* The code point at s[i] is one that cleaning removes or replaces. */
static bool is_format_char(const unsigned char *s, size_t i, size_t n)
{
	uint32_t c;

	if (s[i] == 0xc2 && i + 1 < n)
		return s[i + 1] == 0xa0 || s[i + 1] == 0xad;
	if (s[i] != 0xe2 && s[i] != 0xe3 && s[i] != 0xef)
		return false;
	if (i + 2 >= n)
		return false;
	c = (uint32_t)(s[i] & 0x0f) << 12 | (uint32_t)(s[i + 1] & 0x3f) << 6 |
	    (s[i + 2] & 0x3f);
	return c == 0xfeff || (c >= 0x2000 && c <= 0x200f) ||
	       (c >= 0x2028 && c <= 0x202f) || (c >= 0x205f && c <= 0x2064) ||
	       (c >= 0x2066 && c <= 0x2069) || c == 0x3000;
}

static void check_clean(const char *clean)
{
	const unsigned char *s = (const unsigned char *)clean;
	size_t n = strlen(clean);

	FUZZ_CHECK(n > 0);
	FUZZ_CHECK(fuzz_utf8_valid(clean, n));
	FUZZ_CHECK(s[0] != ' ' && s[0] != '\n');
	FUZZ_CHECK(s[n - 1] != ' ' && s[n - 1] != '\n');
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(s[i] == '\n' || (s[i] >= 0x20 && s[i] != 0x7f));
		FUZZ_CHECK(!is_c1(s, i, n));
		FUZZ_CHECK(!is_format_char(s, i, n));
		if (i > 0) {
			FUZZ_CHECK(!(s[i] == ' ' && s[i - 1] == ' '));
			FUZZ_CHECK(!(s[i] == '\n' && s[i - 1] == '\n'));
			FUZZ_CHECK(!(s[i] == '\n' && s[i - 1] == ' '));
			FUZZ_CHECK(!(s[i] == ' ' && s[i - 1] == '\n'));
		}
	}
}

static void check_speech(const char *clean, const char *lang)
{
	char *out = (char *)clean; /* must be reset on every path */
	int rc = textnorm_speech(clean, lang, &out);
	const unsigned char *s;
	size_t n;

	if (rc < 0) {
		FUZZ_CHECK(rc == -ERR_INVALID || rc == -ENOMEM);
		FUZZ_CHECK(out == NULL);
		return;
	}
	FUZZ_CHECK(rc == 0 && out != NULL);
	s = (const unsigned char *)out;
	n = strlen(out);
	FUZZ_CHECK(n <= TEXTNORM_SPEECH_MAX(strlen(clean)));
	FUZZ_CHECK(fuzz_utf8_valid(out, n));
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(s[i] != '<' && s[i] != '>');
		FUZZ_CHECK(s[i] == '\n' || (s[i] >= 0x20 && s[i] != 0x7f));
		FUZZ_CHECK(!is_c1(s, i, n));
		if (i > 0) {
			FUZZ_CHECK(!(s[i] == ' ' && s[i - 1] == ' '));
			FUZZ_CHECK(!(s[i] == '\n' && s[i - 1] == '\n'));
		}
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const langs[] = {"en", "af", "tn"};
	char why[WHY_LEN];
	char *clean = (char *)why; /* must be reset on every path */
	int rc;

	rc = textnorm_clean((const char *)data, size, &clean, why, sizeof(why));
	if (rc < 0) {
		FUZZ_CHECK(rc == -ERR_INVALID || rc == -ENOMEM);
		FUZZ_CHECK(clean == NULL);
		FUZZ_CHECK(rc != -ERR_INVALID || why[0] != '\0');
		FUZZ_CHECK(memchr(why, '\0', sizeof(why)) != NULL);
		return 0;
	}
	FUZZ_CHECK(rc == 0 && clean != NULL);
	check_clean(clean);
	for (size_t i = 0; i < sizeof(langs) / sizeof(*langs); i++)
		check_speech(clean, langs[i]);
	free(clean);
	return 0;
}
