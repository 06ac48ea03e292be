/*
 * sched_credit.c - artist credits split into artists, and the interning
 * of title and artist keys for the rotation rules.
 *
 * The one thing to know: "feat." and "ft." split only as words (at the
 * start or after a space or bracket), so "Craft." or "Defeat." stay
 * whole; " x " needs its spaces, so "Xzibit" and "Malcolm X" stay whole.
 */
#include "sched.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sched_priv.h"

void sched_fold(const char *in, char *out, size_t len)
{
	size_t n;

	while (*in == ' ' || *in == '\t')
		in++;
	n = strlen(in);
	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
		n--;
	if (n >= len)
		n = len - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[n] = '\0';
}

/* The length of the separator at s (0 if none); start is the credit. */
static size_t separator(const char *start, const char *s)
{
	bool word = s == start || s[-1] == ' ' || s[-1] == '(' || s[-1] == '[';

	if (*s == '&' || *s == ',' || *s == '/')
		return 1;
	if (word && strncasecmp(s, "feat.", 5) == 0)
		return 5;
	if (word && strncasecmp(s, "ft.", 3) == 0)
		return 3;
	if (s[0] == ' ' && (s[1] == 'x' || s[1] == 'X') && s[2] == ' ')
		return 3;
	return 0;
}

/* Copies [a, b) into out without surrounding spaces and brackets. */
static void trim_copy(const char *a, const char *b, char *out, size_t len)
{
	size_t n;

	while (a < b && strchr(" \t()[]", *a))
		a++;
	while (b > a && strchr(" \t()[]", b[-1]))
		b--;
	n = (size_t)(b - a);
	if (n >= len)
		n = len - 1;
	memcpy(out, a, n);
	out[n] = '\0';
}

size_t sched_split_credit(const char *credit, char (*names)[SCHED_TAG_MAX],
                          size_t max)
{
	const char *a = credit;
	size_t count = 0;

	for (const char *s = credit;; s++) {
		size_t sep = *s ? separator(credit, s) : 1;

		if (!sep)
			continue;
		if (count < max) {
			trim_copy(a, s, names[count], SCHED_TAG_MAX);
			if (names[count][0]) {
				bool dup = false;

				for (size_t i = 0; i < count; i++)
					if (strcasecmp(names[i],
					               names[count]) == 0)
						dup = true;
				if (!dup)
					count++;
			}
		}
		if (!*s)
			break;
		s += sep - 1;
		a = s + 1;
	}
	return count;
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static int grow(struct sched_strtab *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64, nslots = cap * 2;
	char **strs = realloc(t->strs, cap * sizeof(*strs));
	uint32_t *slots;

	if (!strs)
		return -ENOMEM;
	t->strs = strs;
	slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		size_t j = hash(t->strs[i]) & (nslots - 1);

		while (slots[j])
			j = (j + 1) & (nslots - 1);
		slots[j] = (uint32_t)i + 1;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	t->cap = cap;
	return 0;
}

long sched_strtab_find(const struct sched_strtab *t, const char *key)
{
	if (!t->nslots)
		return -1;
	for (size_t j = hash(key) & (t->nslots - 1); t->slots[j];
	     j = (j + 1) & (t->nslots - 1))
		if (strcmp(t->strs[t->slots[j] - 1], key) == 0)
			return (long)t->slots[j] - 1;
	return -1;
}

long sched_strtab_add(struct sched_strtab *t, const char *key)
{
	long id = sched_strtab_find(t, key);
	size_t j;

	if (id >= 0)
		return id;
	if (t->n == t->cap && grow(t) < 0)
		return -ENOMEM;
	t->strs[t->n] = strdup(key);
	if (!t->strs[t->n])
		return -ENOMEM;
	j = hash(key) & (t->nslots - 1);
	while (t->slots[j])
		j = (j + 1) & (t->nslots - 1);
	t->slots[j] = (uint32_t)t->n + 1;
	return (long)t->n++;
}

void sched_strtab_clear(struct sched_strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->strs[i]);
	free(t->strs);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}
