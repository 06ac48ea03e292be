/*
 * status.c - the station's live state behind one mutex.
 */
#include "status.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct status {
	pthread_mutex_t lock;
	struct status_snapshot now;
	/* Listener counts by output name (connected unused): an output's
	 * slot may move or not exist yet when its count comes. */
	struct status_output heard[STATUS_OUTPUTS_MAX];
	size_t n_heard;
};

int status_new(struct status **out, unsigned rate, int64_t now_ms)
{
	struct status *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->now.rate = rate;
	s->now.up_since_ms = now_ms;
	*out = s;
	return 0;
}

void status_free(struct status *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void status_on_air(struct status *s, const char *title, const char *artist,
                   const char *path, int64_t started_ms)
{
	pthread_mutex_lock(&s->lock);
	snprintf(s->now.title, sizeof(s->now.title), "%s", title);
	snprintf(s->now.artist, sizeof(s->now.artist), "%s", artist);
	snprintf(s->now.path, sizeof(s->now.path), "%s", path);
	s->now.started_ms = started_ms;
	pthread_mutex_unlock(&s->lock);
}

void status_add(struct status *s, enum status_counter c, unsigned long long n)
{
	pthread_mutex_lock(&s->lock);
	s->now.count[c] += n;
	pthread_mutex_unlock(&s->lock);
}

void status_output(struct status *s, size_t i, const char *name, bool connected)
{
	struct status_output *o;

	if (i >= STATUS_OUTPUTS_MAX)
		return;
	pthread_mutex_lock(&s->lock);
	o = &s->now.out[i];
	if (i >= s->now.n_out || strcmp(o->name, name) != 0) {
		snprintf(o->name, sizeof(o->name), "%s", name);
		o->connected = connected;
		o->listeners = -1;
		o->listeners_at_ms = 0;
		for (size_t k = 0; k < s->n_heard; k++) {
			if (strcmp(s->heard[k].name, o->name) == 0) {
				o->listeners = s->heard[k].listeners;
				o->listeners_at_ms =
				    s->heard[k].listeners_at_ms;
			}
		}
	}
	o->connected = connected;
	if (i >= s->now.n_out)
		s->now.n_out = i + 1;
	pthread_mutex_unlock(&s->lock);
}

void status_outputs(struct status *s, size_t n)
{
	pthread_mutex_lock(&s->lock);
	if (n < s->now.n_out)
		s->now.n_out = n;
	pthread_mutex_unlock(&s->lock);
}

void status_listeners(struct status *s, const char *name, int listeners,
                      int64_t at_ms)
{
	char key[STATUS_TEXT_MAX];
	struct status_output *h = NULL;

	/* Cut as status_output() cuts, so long names still match. */
	snprintf(key, sizeof(key), "%s", name);
	pthread_mutex_lock(&s->lock);
	for (size_t k = 0; k < s->n_heard && !h; k++)
		if (strcmp(s->heard[k].name, key) == 0)
			h = &s->heard[k];
	if (!h && s->n_heard < STATUS_OUTPUTS_MAX) {
		h = &s->heard[s->n_heard++];
		memcpy(h->name, key, sizeof(key));
	}
	if (h) {
		h->listeners = listeners;
		h->listeners_at_ms = at_ms;
	}
	for (size_t i = 0; i < s->now.n_out; i++) {
		struct status_output *o = &s->now.out[i];

		if (strcmp(o->name, key) == 0) {
			o->listeners = listeners;
			o->listeners_at_ms = at_ms;
		}
	}
	pthread_mutex_unlock(&s->lock);
}

void status_next(struct status *s, const struct status_next *next, size_t n)
{
	if (n > STATUS_NEXT_MAX)
		n = STATUS_NEXT_MAX;
	pthread_mutex_lock(&s->lock);
	memcpy(s->now.next, next, n * sizeof(*next));
	s->now.n_next = n;
	pthread_mutex_unlock(&s->lock);
}

void status_get(struct status *s, struct status_snapshot *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->now;
	pthread_mutex_unlock(&s->lock);
}
