/*
 * dropdir_parse.c - a drop-folder file's header lines and text.
 *
 * The one thing to know: the bytes come from whoever can write into the
 * folder, so nothing here trusts a length or a terminator: every line is
 * a [start, end) range inside the buffer, and whatever is refused gets a
 * reason a newsroom editor can act on ("Priority: \"urgent\" is not
 * breaking or normal"), as it ends up in failed/NAME.reason.
 */
#include "dropdir.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "err.h"

#define DEFAULT_BY "drop folder"

enum { H_LANG, H_PRIO, H_EXPIRES, H_NOT_BEFORE, H_BY, H_COUNT };

static const char *const header_names[H_COUNT] = {
    [H_LANG] = "Language",   [H_PRIO] = "Priority",
    [H_EXPIRES] = "Expires", [H_NOT_BEFORE] = "Not-Before",
    [H_BY] = "By",
};

static bool is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
	       c == '\v';
}

static bool all_blank(const char *s, const char *e)
{
	for (; s < e; s++)
		if (!is_blank((unsigned char)*s))
			return false;
	return true;
}

static const char *skip_blank(const char *s, const char *e)
{
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

/* The header that line [s, e) is, with its value trimmed into [*v, *ve),
 * or -1 if it is not one of ours. */
static int header_key(const char *s, const char *e, const char **v,
                      const char **ve)
{
	s = skip_blank(s, e);
	for (int k = 0; k < H_COUNT; k++) {
		size_t klen = strlen(header_names[k]);
		const char *q;

		if ((size_t)(e - s) <= klen ||
		    strncasecmp(s, header_names[k], klen) != 0)
			continue;
		q = skip_blank(s + klen, e);
		if (q == e || *q != ':')
			continue;
		*v = skip_blank(q + 1, e);
		*ve = e;
		while (*ve > *v && is_blank((unsigned char)(*ve)[-1]))
			(*ve)--;
		return k;
	}
	return -1;
}

/* "Word:" or "Some-Word :" at the start of [s, e): its key length. */
static size_t header_like(const char *s, const char *e)
{
	const char *q = s;

	if (q == e || !isalpha((unsigned char)*q))
		return 0;
	while (q < e && (isalnum((unsigned char)*q) || *q == '-'))
		q++;
	return skip_blank(q, e) < e && *skip_blank(q, e) == ':'
	           ? (size_t)(q - s)
	           : 0;
}

static int bad(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -ERR_FORMAT;
}

/* At most this much of a bad value is quoted back in a reason. */
#define QUOTE_MAX 40
#define QUOTE(n) ((int)((n) < QUOTE_MAX ? (n) : QUOTE_MAX))

static int set_header(struct drop_bulletin *b, int k, const char *v, size_t n,
                      char *why, size_t whylen)
{
	const char *name = header_names[k];

	if (n == 0) /* a template's empty field: as if not given */
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return bad(why, whylen,
			           "%s: the value holds control characters",
			           name);
	switch (k) {
	case H_LANG:
		if (n >= sizeof(b->lang))
			return bad(why, whylen,
			           "Language: \"%.*s\" is longer than %zu "
			           "characters",
			           QUOTE(n), v, sizeof(b->lang) - 1);
		for (size_t i = 0; i < n; i++)
			if (!isalnum((unsigned char)v[i]) && v[i] != '-' &&
			    v[i] != '_')
				return bad(
				    why, whylen,
				    "Language: \"%.*s\" is not a language "
				    "code (like af or en-ZA)",
				    QUOTE(n), v);
		memcpy(b->lang, v, n);
		b->lang[n] = '\0';
		break;
	case H_PRIO:
		if (n == 8 && strncasecmp(v, "breaking", 8) == 0)
			b->breaking = true;
		else if (n == 6 && strncasecmp(v, "normal", 6) == 0)
			b->breaking = false;
		else
			return bad(
			    why, whylen,
			    "Priority: \"%.*s\" is not breaking or normal",
			    QUOTE(n), v);
		break;
	case H_BY:
		if (n >= sizeof(b->by))
			return bad(why, whylen, "By: longer than %zu bytes",
			           sizeof(b->by) - 1);
		memcpy(b->by, v, n);
		b->by[n] = '\0';
		break;
	default: {
		char *dst = k == H_EXPIRES ? b->expires : b->not_before;

		/* Both fields are 40 bytes; the caller parses the date. */
		if (n >= sizeof(b->expires))
			return bad(
			    why, whylen,
			    "%s: \"%.*s\" is too long for a date and time",
			    name, QUOTE(n), v);
		memcpy(dst, v, n);
		dst[n] = '\0';
		break;
	}
	}
	return 0;
}

int dropdir_parse(char *buf, size_t len, struct drop_bulletin *b, char *why,
                  size_t whylen)
{
	const char *p = buf, *end = buf + len, *body;
	bool seen[H_COUNT] = {false};
	unsigned line = 0;

	buf[len] = '\0';
	b->text = NULL;
	b->text_len = 0;
	b->lang[0] = '\0';
	b->breaking = false;
	snprintf(b->by, sizeof(b->by), "%s", DEFAULT_BY);
	b->not_before[0] = '\0';
	b->expires[0] = '\0';
	if (len >= 2 &&
	    (((unsigned char)buf[0] == 0xff && (unsigned char)buf[1] == 0xfe) ||
	     ((unsigned char)buf[0] == 0xfe && (unsigned char)buf[1] == 0xff)))
		return bad(why, whylen,
		           "saved as UTF-16: save it as UTF-8 text");
	if (memchr(buf, '\0', len))
		return bad(why, whylen, "holds NUL bytes: not a text file");
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	body = p;
	while (p < end) {
		const char *s = p, *e = memchr(p, '\n', (size_t)(end - p));
		const char *next, *v, *ve;
		size_t klen;
		int k;

		if (!e)
			e = end;
		next = e < end ? e + 1 : end;
		if (e > s && e[-1] == '\r')
			e--;
		line++;
		if (all_blank(s, e)) {
			if (line > 1) /* the blank line that ends the headers */
				body = next;
			break;
		}
		k = header_key(s, e, &v, &ve);
		if (k < 0) {
			if (line == 1) /* no headers: all of it is text */
				break;
			s = skip_blank(s, e);
			klen = header_like(s, e);
			if (klen)
				return bad(
				    why, whylen,
				    "line %u: unknown header \"%.*s\" "
				    "(known: Language, Priority, Expires, "
				    "Not-Before, By)",
				    line, QUOTE(klen), s);
			return bad(why, whylen,
			           "line %u: put a blank line between the "
			           "headers and the text",
			           line);
		}
		if (seen[k])
			return bad(why, whylen, "%s: given twice",
			           header_names[k]);
		seen[k] = true;
		if (set_header(b, k, v, (size_t)(ve - v), why, whylen) < 0)
			return -ERR_FORMAT;
		body = p = next; /* headers with no text after them: empty */
	}
	if (all_blank(body, end))
		return bad(why, whylen, "no bulletin text");
	b->text = body;
	b->text_len = (size_t)(end - body);
	return 0;
}
