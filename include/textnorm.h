/*
 * textnorm.h - bulletin text made safe and speakable for espeak-ng.
 *
 * Two stages: textnorm_clean() checks and sanitises text as typed by the
 * comms staff (it alone may refuse a bulletin, with a reason a person can
 * read); textnorm_speech() rewrites the clean text into words a voice
 * reads well (amounts, times, dates, units, abbreviations, URLs).
 *
 * The one thing to know: nothing that leaves either stage can steer
 * espeak-ng. Control characters (its embedded commands) and markup tags
 * are gone after textnorm_clean(), and textnorm_speech() output never
 * holds a '<', '>' or control character other than "\n", so it is plain
 * text even if SSML were ever switched on.
 */
#ifndef TEXTNORM_H
#define TEXTNORM_H

#include <stddef.h>

#define TEXTNORM_MAX_BYTES                                                     \
	(64 * 1024) /* the longest bulletin text accepted                      \
	             */

/*
 * textnorm_speech() output is never longer than this for len bytes of
 * clean text (NUL not counted): 8x the input plus 64 bytes.
 */
#define TEXTNORM_SPEECH_MAX(len) ((len)*8 + 64)

/*
 * Checks and cleans a bulletin's text as submitted (len bytes at in, not
 * necessarily NUL-terminated; in may be NULL when len is 0).
 *
 * Refuses with -ERR_INVALID and one human-readable line in why (if why is
 * not NULL; truncated to whylen): text longer than TEXTNORM_MAX_BYTES
 * ("text is longer than 65536 bytes"); invalid UTF-8, including overlong
 * forms, surrogates and code points above U+10FFFF ("text is not valid
 * UTF-8 (byte 17)", counting bytes from 1, at the first byte of the bad
 * sequence); text that is empty ("text is empty") or holds only whitespace
 * and markup ("text has nothing to read (only whitespace or markup)").
 *
 * Cleaning, in this order:
 *  1. removes C0 controls except "\n" and "\t" (so espeak-ng's embedded
 *     commands such as "\x01" never reach it), DEL, C1 controls
 *     (U+0080..U+009F), U+00AD soft hyphen, U+FEFF and the zero-width and
 *     bidi format characters U+200B..U+200F, U+202A..U+202E,
 *     U+2060..U+2064, U+2066..U+2069; "\r\n" and a lone "\r" become "\n",
 *     U+2028/U+2029 become "\n"; no-break and other wide spaces (U+00A0,
 *     U+2000..U+200A, U+202F, U+205F, U+3000) become " ";
 *  2. drops markup: a '<' followed by a letter, "/x", '!' or '?' up to the
 *     next '>' (outside quotes) is a tag and is replaced by one space,
 *     attributes and all; "<!--" runs to "-->". A '<' that starts no tag,
 *     or whose tag never closes, is kept as the words " less than ";
 *  3. decodes only the five XML entities &amp; &lt; &gt; &quot; &apos;
 *     (once, after step 2, so "&lt;audio&gt;" is just text); any other
 *     "&...;" stays as typed;
 *  4. collapses runs of spaces and tabs (and a single line break) into one
 *     space; a blank line (two or more "\n") is a paragraph break, kept as
 *     one "\n"; trims both ends and around "\n".
 *
 * On success returns 0 and *out is a new malloc'd NUL-terminated string
 * owned by the caller. -ENOMEM if memory runs out. *out is NULL on error.
 */
int textnorm_clean(const char *in, size_t len, char **out, char *why,
                   size_t whylen);

/*
 * Rewrites clean text (from textnorm_clean) into words that espeak-ng
 * reads well in lang: "en", "af" or "tn". Numbers stay as digits, so the
 * voice speaks them in its own language; af says its decimal comma as a
 * word ("2 komma 5": espeak-ng's af voice reads "2,5" as "2 5"). The
 * rules (amounts, times, dates, percentages, units, abbreviations, URLs,
 * hashtags, symbols) are listed in textnorm_speech.c.
 *
 * 0 with *out a new malloc'd string (single spaces, paragraphs as one
 * "\n", no other control characters, no '<' or '>'), at most
 * TEXTNORM_SPEECH_MAX(strlen(clean)) bytes long. -ERR_INVALID for an
 * unknown lang, text that is not valid UTF-8, text whose rewriting would
 * pass that bound, or text with nothing left to say; -ENOMEM.
 * *out is NULL on error.
 */
int textnorm_speech(const char *clean, const char *lang, char **out);

#endif
