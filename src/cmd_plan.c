/*
 * cmd_plan.c - "pulse-radio plan": the programme ahead, as a station log.
 *
 * The one thing to know: it asks the same scheduler the air asks, on a
 * read-only database, so the history it builds (what it "played") lives
 * in memory only and the file is never written.
 */
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bulletin.h"
#include "cmd_priv.h"
#include "err.h"
#include "log.h"
#include "sched.h"
#include "store.h"
#include "timeutil.h"

#define PLAN_MAX_ITEMS 100000 /* a week of one-second jingles, and more */

static void usage(FILE *f)
{
	fputs("Usage: pulse-radio plan --from TIME --hours N [--db FILE]\n"
	      "\n"
	      "Lists what the scheduler would air from TIME (station local "
	      "time,\n"
	      "\"YYYY-MM-DD HH:MM\" or \"YYYY-MM-DDTHH:MM\") for N hours "
	      "(1..168), one\n"
	      "line per item: start, slot (- for none), kind (music, jingle, "
	      "id, news, fallback),\n"
	      "Artist - Title, length m:ss, and (cut) when a hard start fades "
	      "it out.\n"
	      "A header line names each new day. The database is only read.\n",
	      f);
}

/* The forecast of the queue: each bulletin airs at the first news
 * minute after it is due, so a later one counts only those due since. */
struct forecast {
	struct store *st;
	int64_t last_news_ms; /* 0: none yet */
};

static int forecast_pending(void *ctx, int64_t at_ms)
{
	struct forecast *f = ctx;
	int64_t est;

	return bulletin_forecast(f->st, f->last_news_ms, at_ms, &est);
}

/* One line of the log; *last_yday: the day of the line before. */
static int print_item(const struct sched_item *item, int64_t at,
                      const char *zone, int *last_yday)
{
	int64_t len_s = (item->length_ms + 500) / 1000;
	struct tm tm;
	int rc = tu_local_tm(at / 1000, zone, &tm);

	if (rc < 0)
		return rc;
	if (tm.tm_yday != *last_yday) {
		printf("%s %04d-%02d-%02d\n", tu_day_name((tm.tm_wday + 6) % 7),
		       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
		*last_yday = tm.tm_yday;
	}
	printf("%02d:%02d:%02d  %-16s  %-8s  %s%s%s  %lld:%02d%s\n", tm.tm_hour,
	       tm.tm_min, tm.tm_sec, item->slot[0] ? item->slot : "-",
	       sched_kind_name(item->kind), item->artist,
	       item->artist[0] ? " - " : "", item->title,
	       (long long)(len_s / 60), (int)(len_s % 60),
	       item->cut ? " (cut)" : "");
	return 0;
}

/* The player's rules (player.c), for the times it will give: music
 * crosses out over its slot's crossfade when not cut and at least twice
 * as long; music that is not pinned to an event crosses in when at least
 * twice as long, or carries a talk-over jingle when longer than the
 * jingle and its ramps. */
static bool mixes_out(const struct sched_item *it)
{
	return (it->kind == SCHED_MUSIC || it->kind == SCHED_FALLBACK) &&
	       !it->cut && it->xfade_ms > 0 &&
	       it->length_ms >= 2 * it->xfade_ms;
}

static bool mixes_in(const struct sched_item *it, int64_t need_ms)
{
	return (it->kind == SCHED_MUSIC || it->kind == SCHED_FALLBACK) &&
	       !it->pinned && it->length_ms >= need_ms;
}

static int print_plan(struct store *st, const char *zone, int64_t from_ms,
                      int64_t to_ms)
{
	struct forecast fc = {.st = st};
	struct sched *s = NULL;
	struct sched_item *item = malloc(2 * sizeof(*item)), *under = item + 1;
	int64_t at = from_ms, xf = 0; /* xf: the crossfade out of the last */
	int64_t attack =
	    (int64_t)store_setting_number(st, "duck_attack_ms", 0, 10000, 200);
	int64_t release =
	    (int64_t)store_setting_number(st, "duck_release_ms", 0, 10000, 800);
	int last_yday = -1, rc;

	if (!item) {
		log_error("plan: out of memory");
		return -ENOMEM;
	}
	rc = sched_new(&s, st);
	if (rc == 0)
		sched_set_news(s, forecast_pending, &fc);
	for (long n = 0; rc == 0 && at < to_ms && n < PLAN_MAX_ITEMS; n++) {
		rc = sched_next(s, at, item);
		if (rc < 0)
			break;
		if (item->kind == SCHED_NEWS) {
			int n_due = bulletin_forecast(st, fc.last_news_ms, at,
			                              &item->length_ms);

			snprintf(item->title, sizeof(item->title),
			         "City news: %d bulletin%s", n_due,
			         n_due == 1 ? "" : "s");
			fc.last_news_ms = at;
		}
		if (item->kind == SCHED_JINGLE && item->over) {
			/* Talk-over: the song it goes over starts with it. */
			rc = sched_next(s, at, under);
			if (rc < 0)
				break;
			if (mixes_in(under,
			             attack + item->length_ms + release)) {
				rc = print_item(under, at, zone, &last_yday);
				if (rc == 0)
					rc = print_item(item, at + attack, zone,
					                &last_yday);
				at += under->length_ms > 0 ? under->length_ms
				                           : 1000;
				xf = mixes_out(under) ? under->xfade_ms : 0;
				continue;
			}
			/* Nothing to go over: one after the other. */
			rc = print_item(item, at, zone, &last_yday);
			at += item->length_ms > 0 ? item->length_ms : 1000;
			*item = *under;
			xf = 0;
		}
		if (rc == 0 && xf && !item->over && mixes_in(item, 2 * xf))
			at -= xf;
		if (rc == 0)
			rc = print_item(item, at, zone, &last_yday);
		at += item->length_ms > 0 ? item->length_ms : 1000;
		xf = mixes_out(item) ? item->xfade_ms : 0;
	}
	sched_free(s);
	free(item);
	return rc;
}

int cmd_plan(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'D'},
	    {"from", required_argument, NULL, 'f'},
	    {"hours", required_argument, NULL, 'H'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *db_opt = NULL, *from = NULL, *hours = NULL;
	struct store *st = NULL;
	char zone[128];
	int64_t from_s;
	long n_hours;
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'D':
			db_opt = optarg;
			break;
		case 'f':
			from = optarg;
			break;
		case 'H':
			hours = optarg;
			break;
		case 'h':
			usage(stdout);
			return CMD_OK;
		default:
			return CMD_USAGE;
		}
	}
	if (optind != argc)
		return cmd_usage_error("plan", "unexpected argument");
	if (!from || !hours)
		return cmd_usage_error("plan",
		                       "--from and --hours are required");
	if (cmd_parse_count(hours, 1000, &n_hours) < 0 || n_hours < 1 ||
	    n_hours > 168) {
		log_error("plan: bad --hours '%s' (1..168)", hours);
		return CMD_FAILED;
	}
	if (store_open(&st, cmd_db_path(db_opt), STORE_READONLY) < 0)
		return CMD_FAILED;
	rc = cmd_zone(st, zone, sizeof(zone));
	if (rc == 0 && tu_parse_local(from, zone, &from_s) < 0) {
		log_error("plan: bad --from '%s' (YYYY-MM-DD HH:MM, station "
		          "local time)",
		          from);
		rc = -ERR_INVALID;
	}
	if (rc == 0)
		rc = print_plan(st, zone, from_s * 1000,
		                from_s * 1000 + (int64_t)n_hours * 3600000);
	store_close(st);
	if (fflush(stdout) != 0)
		rc = rc < 0 ? rc : -EIO;
	return rc < 0 ? CMD_FAILED : CMD_OK;
}
