/*
 * textnorm.c - bulletin text checked and cleaned before anything speaks
 * it; the bounded output buffer shared with textnorm_speech.c.
 *
 * The one thing to know: cleaning runs in a fixed order (controls out,
 * then tags out, then the five XML entities decoded, then whitespace),
 * and each step looks at its input once, so nothing a later step makes
 * (a '<' from "&lt;") is ever seen as markup, and hostile input costs
 * linear time.
 */
#include "textnorm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "textnorm_priv.h"

int tnorm_out_init(struct tnorm_out *o, size_t cap, unsigned para_min)
{
	memset(o, 0, sizeof(*o));
	o->alloc = cap < 256 ? cap : 256;
	o->p = malloc(o->alloc + 1);
	if (!o->p)
		return -ENOMEM;
	o->cap = cap;
	o->para_min = para_min;
	return 0;
}

static void out_put(struct tnorm_out *o, char c)
{
	if (o->len >= o->cap) {
		o->overflow = true;
		return;
	}
	if (o->len >= o->alloc) {
		size_t want = o->alloc * 2 < o->cap ? o->alloc * 2 : o->cap;
		char *p = o->nomem ? NULL : realloc(o->p, want + 1);

		if (!p) {
			o->nomem = true;
			return;
		}
		o->p = p;
		o->alloc = want;
	}
	o->p[o->len++] = c;
}

void tnorm_out_byte(struct tnorm_out *o, char c)
{
	unsigned char u = (unsigned char)c;

	if (c == '\n') {
		o->pend_nl++;
		return;
	}
	if (u <= 0x20 || u == 0x7f) {
		o->pend_space = true;
		return;
	}
	/* Leading whitespace is never flushed, and trailing never reached. */
	if (o->len > 0 && (o->pend_space || o->pend_nl))
		out_put(o, o->pend_nl >= o->para_min ? '\n' : ' ');
	o->pend_space = false;
	o->pend_nl = 0;
	out_put(o, c);
}

void tnorm_out_mem(struct tnorm_out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		tnorm_out_byte(o, s[i]);
}

void tnorm_out_str(struct tnorm_out *o, const char *s)
{
	if (s)
		tnorm_out_mem(o, s, strlen(s));
}

void tnorm_out_space(struct tnorm_out *o)
{
	o->pend_space = true;
}

void tnorm_out_tpl(struct tnorm_out *o, const char *tpl, const char *a1,
                   const char *a2, const char *a3)
{
	for (const char *t = tpl; *t; t++) {
		if (t[0] == '{' && t[1] >= '1' && t[1] <= '3' && t[2] == '}') {
			const char *a = t[1] == '1'   ? a1
			                : t[1] == '2' ? a2
			                              : a3;

			tnorm_out_str(o, a);
			t += 2;
		} else {
			tnorm_out_byte(o, *t);
		}
	}
}

char *tnorm_out_finish(struct tnorm_out *o)
{
	char *s = o->p;

	o->p = NULL;
	if (o->overflow || o->nomem) {
		free(s);
		return NULL;
	}
	s[o->len] = '\0';
	return s;
}

bool tnorm_utf8_next(const unsigned char *s, size_t n, size_t *i, uint32_t *cp)
{
	size_t k = *i, need;
	uint32_t c = s[k], min;

	if (c < 0x80) {
		*cp = c;
		*i = k + 1;
		return true;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1, c &= 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2, c &= 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3, c &= 0x07, min = 0x10000;
	} else {
		return false; /* continuation, 0xc0/0xc1 overlong, 0xf5.. */
	}
	if (n - k <= need)
		return false;
	for (size_t j = 1; j <= need; j++) {
		if ((s[k + j] & 0xc0) != 0x80)
			return false;
		c = (c << 6) | (s[k + j] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return false;
	*cp = c;
	*i = k + need + 1;
	return true;
}

__attribute__((format(printf, 3, 4))) static int
refuse(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -ERR_INVALID;
}

/* Code points that never reach the voice. */
static bool is_removed(uint32_t c)
{
	return (c < 0x20 && c != '\n' && c != '\t' && c != '\r') ||
	       (c >= 0x7f && c <= 0x9f) || c == 0xad || c == 0xfeff ||
	       (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2060 && c <= 0x2064) || (c >= 0x2066 && c <= 0x2069);
}

static bool is_wide_space(uint32_t c)
{
	return c == 0xa0 || (c >= 0x2000 && c <= 0x200a) || c == 0x202f ||
	       c == 0x205f || c == 0x3000;
}

/*
 * Step 1: validates all of in and copies it to a without the removed
 * characters. Returns the length, or the 0-based offset of the bad byte
 * as -(offset + 1).
 */
static long strip_controls(const unsigned char *in, size_t len, char *a)
{
	size_t i = 0, n = 0;

	while (i < len) {
		size_t start = i;
		uint32_t c;

		if (!tnorm_utf8_next(in, len, &i, &c))
			return -(long)start - 1;
		if (is_removed(c))
			continue;
		if (c == '\r') {
			if (i < len && in[i] == '\n')
				continue;
			a[n++] = '\n';
		} else if (c == 0x2028 || c == 0x2029) {
			a[n++] = '\n';
		} else if (is_wide_space(c)) {
			a[n++] = ' ';
		} else {
			memcpy(a + n, in + start, i - start);
			n += i - start;
		}
	}
	return (long)n;
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * If a '<' at a[j] starts a tag, the index just past its '>'; else 0.
 * last_gt and last_cmt (the last "-->" + 1, or 0) keep this linear: a tag
 * that is found is consumed, one that is not fails at once.
 */
static size_t tag_end(const char *a, size_t n, size_t j, size_t last_gt,
                      size_t last_cmt)
{
	char c = j + 1 < n ? a[j + 1] : '\0';
	char quote = 0;

	if (n - j >= 4 && memcmp(a + j, "<!--", 4) == 0 && last_cmt > j + 4) {
		for (size_t k = j + 4; k + 3 <= n; k++)
			if (memcmp(a + k, "-->", 3) == 0)
				return k + 3;
	}
	if (!(is_alpha(c) || c == '!' || c == '?' ||
	      (c == '/' && j + 2 < n && is_alpha(a[j + 2]))))
		return 0;
	if (last_gt <= j)
		return 0;
	for (size_t k = j + 1; k < n; k++) {
		if (quote) {
			if (a[k] == quote)
				quote = 0;
		} else if (a[k] == '"' || a[k] == '\'') {
			quote = a[k];
		} else if (a[k] == '>') {
			return k + 1;
		}
	}
	/* An unbalanced quote: the tag ends at the next '>' regardless. */
	return (size_t)((const char *)memchr(a + j, '>', n - j) - a) + 1;
}

static const struct {
	const char *name;
	char c;
} entities[] = {
    {"&amp;", '&'},  {"&lt;", '<'},    {"&gt;", '>'},
    {"&quot;", '"'}, {"&apos;", '\''},
};

/* Steps 2-4 over the stripped text a. */
static void drop_markup(struct tnorm_out *o, const char *a, size_t n)
{
	size_t last_gt = 0, last_cmt = 0, j = 0;

	for (size_t k = 0; k < n; k++) {
		if (a[k] == '>') {
			last_gt = k + 1;
			if (k >= 2 && a[k - 1] == '-' && a[k - 2] == '-')
				last_cmt = k + 1;
		}
	}
	while (j < n) {
		if (a[j] == '<') {
			size_t e = tag_end(a, n, j, last_gt, last_cmt);

			if (e) {
				tnorm_out_space(o);
				j = e;
			} else {
				tnorm_out_str(o, " less than ");
				j++;
			}
			continue;
		}
		if (a[j] == '&') {
			size_t i;

			for (i = 0; i < sizeof(entities) / sizeof(entities[0]);
			     i++) {
				size_t el = strlen(entities[i].name);

				if (n - j >= el &&
				    memcmp(a + j, entities[i].name, el) == 0) {
					tnorm_out_byte(o, entities[i].c);
					j += el;
					break;
				}
			}
			if (i < sizeof(entities) / sizeof(entities[0]))
				continue;
		}
		tnorm_out_byte(o, a[j]);
		j++;
	}
}

int textnorm_clean(const char *in, size_t len, char **out, char *why,
                   size_t whylen)
{
	struct tnorm_out o;
	char *a;
	long n;
	int rc;

	*out = NULL;
	if (why && whylen > 0)
		why[0] = '\0';
	if (len > TEXTNORM_MAX_BYTES)
		return refuse(why, whylen, "text is longer than %d bytes",
		              TEXTNORM_MAX_BYTES);
	if (len == 0)
		return refuse(why, whylen, "text is empty");
	a = malloc(len);
	if (!a)
		return -ENOMEM;
	n = strip_controls((const unsigned char *)in, len, a);
	if (n < 0) {
		free(a);
		return refuse(why, whylen, "text is not valid UTF-8 (byte %ld)",
		              -n);
	}
	/* The widest step: a lone '<' (1 byte) becomes " less than ". */
	rc = tnorm_out_init(&o, (size_t)n * 11 + 16, 2);
	if (rc < 0) {
		free(a);
		return rc;
	}
	drop_markup(&o, a, (size_t)n);
	free(a);
	*out = tnorm_out_finish(&o);
	if (!*out)
		return -ENOMEM; /* the cap is the worst case: never overflows */
	if (!**out) {
		free(*out);
		*out = NULL;
		return refuse(why, whylen,
		              "text has nothing to read (only "
		              "whitespace or markup)");
	}
	return 0;
}
