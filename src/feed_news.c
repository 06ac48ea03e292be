/*
 * feed_news.c - the news block: what the scheduler feed airs at a news
 * minute or for breaking news, from the bulletin queue.
 *
 * The one thing to know: a block is planned whole when it starts (intro,
 * the bulletins due in priority then age order with stings between, an
 * outro) and then handed out item by item; each bulletin is moved to
 * on_air only as it starts, and one withdrawn or expired in between is
 * skipped, never aired.
 */
#include "feed_news.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "asrun.h"
#include "bulletin.h"
#include "err.h"
#include "log.h"
#include "player.h"
#include "store.h"

/* A playlist of short items (intro, outro, sting), rotated. */
static int load_list(struct store *st, const char *setting, struct news_list *l)
{
	char name[128];
	sqlite3_stmt *stmt;
	int rc;

	l->n = 0;
	if (store_setting_get(st, setting, name, sizeof(name)) < 0 || !name[0])
		return 0;
	if (sqlite3_prepare_v2(
	        store_db(st),
	        "SELECT t.id, t.path, t.title, t.artist, t.cue_in_ms, "
	        "t.cue_out_ms - t.cue_in_ms, t.loudness_lufs FROM playlist p "
	        "JOIN playlist_item "
	        "i ON i.playlist_id = p.id JOIN track t ON t.id = i.track_id "
	        "WHERE p.name = ?1 AND t.enabled = 1 AND t.missing = 0 ORDER "
	        "BY i.position",
	        -1, &stmt, NULL) != SQLITE_OK) {
		log_error("news: %s", sqlite3_errmsg(store_db(st)));
		return -ERR_DB;
	}
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW &&
	       l->n < NEWS_LIST_MAX) {
		struct news_item *it = &l->items[l->n++];
		const char *s;

		memset(it, 0, sizeof(*it));
		it->track_id = sqlite3_column_int64(stmt, 0);
		s = (const char *)sqlite3_column_text(stmt, 1);
		snprintf(it->path, sizeof(it->path), "%s", s ? s : "");
		s = (const char *)sqlite3_column_text(stmt, 2);
		snprintf(it->title, sizeof(it->title), "%s", s ? s : "");
		s = (const char *)sqlite3_column_text(stmt, 3);
		snprintf(it->artist, sizeof(it->artist), "%s", s ? s : "");
		it->cue_in_ms = sqlite3_column_int64(stmt, 4);
		it->length_ms = sqlite3_column_int64(stmt, 5);
		it->loudness_lufs = sqlite3_column_type(stmt, 6) == SQLITE_NULL
		                        ? (double)NAN
		                        : sqlite3_column_double(stmt, 6);
	}
	sqlite3_finalize(stmt);
	if (l->n == 0)
		log_warn("news: setting %s names '%s', which has nothing "
		         "playable",
		         setting, name);
	return 0;
}

int feed_news_load(struct feed_news *n, struct store *st)
{
	char buf[32];
	int rc;

	n->st = st;
	if ((rc = load_list(st, "news_intro_playlist", &n->intro)) < 0 ||
	    (rc = load_list(st, "news_outro_playlist", &n->outro)) < 0 ||
	    (rc = load_list(st, "news_sting_playlist", &n->sting)) < 0 ||
	    (rc = load_list(st, "news_empty_playlist", &n->empty)) < 0)
		return rc;
	n->breaking_now =
	    store_setting_get(st, "breaking_mode", buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "now") == 0;
	n->latency_ms = 10000;
	n->bed_gain = 0.1f;
	if (store_setting_get(st, "news_bed_db", buf, sizeof(buf)) == 0) {
		double db = strtod(buf, NULL);

		if (db >= -60 && db <= 0)
			n->bed_gain = (float)pow(10.0, db / 20.0);
	}
	if (store_setting_get(st, "breaking_latency_s", buf, sizeof(buf)) ==
	    0) {
		long v = strtol(buf, NULL, 10);

		if (v >= 1 && v <= 3600)
			n->latency_ms = v * 1000;
	}
	return 0;
}

static void add(struct feed_news *n, const struct news_item *it)
{
	if (n->len < NEWS_BLOCK_MAX)
		n->block[n->len++] = *it;
}

static void add_from(struct feed_news *n, struct news_list *l)
{
	if (l->n == 0)
		return;
	add(n, &l->items[l->next++ % l->n]);
}

static bool seen(const struct feed_news *n, int64_t id)
{
	for (size_t i = 0; i < n->nseen; i++)
		if (n->seen[i] == id)
			return true;
	return false;
}

int feed_news_plan(struct feed_news *n, int64_t at_ms, bool breaking_only,
                   const char *bed)
{
	struct bulletin due[NEWS_BULLETINS_MAX];
	size_t k = 0;
	int got;

	n->len = n->pos = 0;
	snprintf(n->bed, sizeof(n->bed), "%s", bed ? bed : "");
	got =
	    bulletin_due(n->st, at_ms, breaking_only, due, NEWS_BULLETINS_MAX);
	if (got < 0)
		return got;
	for (int i = 0; i < got; i++) {
		struct news_item it = {0};

		if (seen(n, due[i].id) || asrun_holds(n->asrun, due[i].id)) {
			bulletin_clear(&due[i]);
			continue;
		}
		if (k++ == 0)
			add_from(n, &n->intro);
		else
			add_from(n, &n->sting);
		it.bulletin_id = due[i].id;
		it.length_ms = due[i].duration_ms > 0 ? due[i].duration_ms : -1;
		it.loudness_lufs = due[i].loudness_lufs;
		it.breaking_sent_ms = due[i].breaking ? due[i].submitted_ms : 0;
		snprintf(it.path, sizeof(it.path), "%s", due[i].audio_path);
		snprintf(it.title, sizeof(it.title), "City news");
		snprintf(it.artist, sizeof(it.artist), "Pulse Radio");
		add(n, &it);
		bulletin_clear(&due[i]);
	}
	if (k > 0)
		add_from(n, &n->outro);
	else if (!breaking_only)
		add_from(n, &n->empty);
	if (k > 0)
		log_info("news: %zu bulletin%s%s", k, k == 1 ? "" : "s",
		         breaking_only ? " (breaking)" : "");
	return (int)k;
}

/* How long a breaking bulletin waited: the operator's check on
 * breaking_latency_s. */
static void say_latency(const struct feed_news *n, const struct news_item *it,
                        int64_t at_ms)
{
	int64_t waited = at_ms - it->breaking_sent_ms;

	if (waited > n->latency_ms)
		log_warn("news: breaking bulletin %lld on air %.1f s after it "
		         "was sent, later than breaking_latency_s (%lld s)",
		         (long long)it->bulletin_id, (double)waited / 1000,
		         (long long)(n->latency_ms / 1000));
	else
		log_info("news: breaking bulletin %lld on air %.1f s after it "
		         "was sent",
		         (long long)it->bulletin_id, (double)waited / 1000);
}

int feed_news_next(struct feed_news *n, int64_t at_ms, bool mark,
                   struct news_item *out, bool *last)
{
	while (n->pos < n->len) {
		const struct news_item *it = &n->block[n->pos++];

		if (it->bulletin_id && mark) {
			int rc =
			    n->asrun
			        ? asrun_on_air(n->asrun, it->bulletin_id, at_ms)
			        : bulletin_set_on_air(n->st, it->bulletin_id,
			                              at_ms);

			if (rc == -ERR_CONFLICT) {
				log_info("news: bulletin %lld was withdrawn "
				         "or expired; skipped",
				         (long long)it->bulletin_id);
				continue;
			}
			if (rc < 0)
				continue;
			if (it->breaking_sent_ms > 0)
				say_latency(n, it, at_ms);
		}
		*out = *it;
		*last = n->pos == n->len;
		return 1;
	}
	return 0;
}

void feed_news_aired(struct feed_news *n, int64_t bulletin_id, bool mark,
                     const struct bulletin_asrun *a, int64_t end_ms)
{
	if (mark && n->asrun) {
		asrun_bulletin(n->asrun, bulletin_id, a, end_ms);
		return;
	}
	if (mark) {
		int rc = bulletin_aired(n->st, bulletin_id, a, end_ms);

		if (rc < 0)
			log_error("news: bulletin %lld: its as-run entry "
			          "could not be written (%s)",
			          (long long)bulletin_id, err_str(rc));
		return;
	}
	/* Not logging (a preview): remember it, so it airs once here too. */
	if (!a->ended_early && n->nseen < NEWS_SEEN_MAX)
		n->seen[n->nseen++] = bulletin_id;
}

void feed_news_breaking(struct feed_news *n, int64_t at_ms)
{
	struct bulletin b[1];
	int64_t since = at_ms;

	if (n->breaking_at)
		return;
	/* The latency counts from when it was sent, not from now. */
	if (bulletin_due(n->st, at_ms, true, b, 1) == 1) {
		if (b[0].submitted_ms && b[0].submitted_ms < since)
			since = b[0].submitted_ms;
		bulletin_clear(&b[0]);
	}
	n->breaking_at = since;
}

/* The longest intro: what must fit between the fade and the deadline. */
static int64_t intro_ms(const struct feed_news *n)
{
	int64_t max = 0;

	for (size_t i = 0; i < n->intro.n; i++)
		if (n->intro.items[i].length_ms > max)
			max = n->intro.items[i].length_ms;
	return max;
}

bool feed_news_interrupt(struct feed_news *n, int64_t at_ms,
                         int64_t item_end_ms, int64_t *ask_at_ms)
{
	/* The bulletin's first sample must go out by the deadline: the fade
	 * and the intro come first, and half a second to spare. */
	int64_t deadline = n->breaking_at + n->latency_ms - intro_ms(n) - 500;

	if (!n->breaking_at)
		return false;
	if (!n->breaking_now && item_end_ms > 0 && item_end_ms <= deadline)
		return false; /* it ends in time: wait for it */
	if (!n->breaking_now && at_ms < deadline - PLAYER_INTERRUPT_FADE_MS) {
		*ask_at_ms = deadline - PLAYER_INTERRUPT_FADE_MS;
		return false;
	}
	n->breaking_at = 0;
	return true;
}
