/*
 * cmd_slot.c - "pulse-radio slot": the weekly grid of programme slots.
 *
 * The one thing to know: slots never overlap. Each is expanded into the
 * minutes of the week it covers (one ending at or before its start runs
 * past midnight into the next day, and Sunday night runs into Monday),
 * and an add or edit that shares a minute with another slot is refused,
 * naming it, inside the same transaction that would have written it.
 */
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cmd_priv.h"
#include "err.h"
#include "log.h"
#include "store.h"
#include "timeutil.h"

struct slot_def {
	int64_t id; /* 0 for a new one */
	char name[128];
	unsigned days;
	int start_min, end_min;
	int64_t playlist_id, jingle_id; /* jingle_id 0: none */
	long jingle_every;
	char news[200]; /* normalised "0,30", "" for none */
	long crossfade_ms;
	char mode[16];
	long tolerance_s;
	int64_t ids_id; /* top-of-hour station IDs, 0: none */
	char id_mode[16];
	char news_mode[16];
	int64_t bed_id; /* music under the news, 0: none */
	/* Sound; "", NAN, -1: the station's setting. */
	char curve[16];
	double duck_db;
	int jingles_over;
};

/* Options of add and edit, as given (NULL if not). */
struct slot_opts {
	const char *days, *start, *end, *playlist, *jingles, *jingle_every,
	    *news, *crossfade_ms, *mode, *tolerance, *ids, *id_mode, *news_mode,
	    *news_bed, *curve, *duck_db, *jingles_over;
};

static void usage(FILE *f)
{
	fputs(
	    "Usage: pulse-radio slot add NAME --days DAYS --start HH:MM "
	    "--end HH:MM\n"
	    "                      --playlist NAME [options]\n"
	    "       pulse-radio slot edit NAME [any option of add]\n"
	    "       pulse-radio slot list\n"
	    "       pulse-radio slot remove NAME\n"
	    "  every one takes --db FILE\n"
	    "\n"
	    "  --days DAYS          mon-fri, sat,sun, sun, daily, weekdays, "
	    "weekends\n"
	    "  --start, --end HH:MM station local time; an end at or before "
	    "the start\n"
	    "                       runs past midnight; --end 24:00 is "
	    "midnight\n"
	    "  --playlist NAME      what the slot plays\n"
	    "  --jingles NAME --jingle-every N\n"
	    "                       a jingle from NAME after every N tracks "
	    "(--jingles \"\"\n"
	    "                       removes them)\n"
	    "  --news MINUTES       news on the hour and half: 0,30 (\"\" for "
	    "none)\n"
	    "  --news-mode hard|soft|not-before   how the news starts "
	    "(default hard)\n"
	    "  --news-bed NAME      music from NAME under the news (\"\" : "
	    "dry news)\n"
	    "  --crossfade-ms N     0..30000 (default: the crossfade_ms "
	    "setting, 3000)\n"
	    "  --curve equal-power|linear|default   the crossfade's shape\n"
	    "  --jingles-over on|off|default   jingles over the start of the "
	    "next song\n"
	    "  --duck-db N|default  how far music goes down under a "
	    "jingle over it\n"
	    "                       or the news bed under speech (-40..0)\n"
	    "                       default: the station's settings "
	    "(pulse-radio db get)\n"
	    "  --mode hard|soft|not-before   how the slot starts (default "
	    "soft)\n"
	    "  --tolerance S        seconds a not-before start may be late "
	    "(default 0)\n"
	    "  --ids NAME           a station ID from NAME at the top of "
	    "every hour\n"
	    "                       (--ids \"\" for none)\n"
	    "  --id-mode hard|soft|not-before   how the hour's ID starts "
	    "(default hard)\n"
	    "Slots may not overlap; a clash is refused, naming the other "
	    "slot.\n",
	    f);
}

static int db_fail(struct store *st)
{
	log_error("%s: %s", store_path(st), sqlite3_errmsg(store_db(st)));
	return -ERR_DB;
}

/* "0,30" -> sorted, without duplicates; "" stays "". */
static int parse_news(const char *s, char *out, size_t len)
{
	bool minute[60] = {false};
	size_t used = 0;

	out[0] = '\0';
	if (!*s)
		return 0;
	for (;;) {
		const char *comma = strchr(s, ',');
		char item[8];
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		long m;

		if (n == 0 || n >= sizeof(item))
			return -ERR_INVALID;
		memcpy(item, s, n);
		item[n] = '\0';
		if (cmd_parse_count(item, 59, &m) < 0)
			return -ERR_INVALID;
		minute[m] = true;
		if (!comma)
			break;
		s = comma + 1;
	}
	for (int m = 0; m < 60; m++)
		if (minute[m] && used + 4 < len)
			used += (size_t)snprintf(out + used, len - used, "%s%d",
			                         used ? "," : "", m);
	return 0;
}

/* A start mode into out (16 bytes), or one line and -ERR_INVALID. */
static int set_mode(const char *what, const char *opt, const char *mode,
                    char *out)
{
	if (strcmp(mode, "hard") != 0 && strcmp(mode, "soft") != 0 &&
	    strcmp(mode, "not-before") != 0) {
		log_error("%s: bad %s '%s' (hard, soft or not-before)", what,
		          opt, mode);
		return -ERR_INVALID;
	}
	snprintf(out, 16, "%s", mode);
	return 0;
}

/* Applies the options given onto def; playlists are looked up later.
 * Logs one line and returns -ERR_INVALID on a bad value. */
static int apply_opts(const char *what, const struct slot_opts *o,
                      struct slot_def *def)
{
	if (o->days && tu_parse_days(o->days, &def->days) < 0) {
		log_error("%s: bad --days '%s' (e.g. mon-fri, sat,sun, daily)",
		          what, o->days);
		return -ERR_INVALID;
	}
	if (o->start && tu_parse_clock(o->start, false, &def->start_min) < 0) {
		log_error("%s: bad --start '%s' (HH:MM, 00:00..23:59)", what,
		          o->start);
		return -ERR_INVALID;
	}
	if (o->end && tu_parse_clock(o->end, true, &def->end_min) < 0) {
		log_error("%s: bad --end '%s' (HH:MM, 00:00..24:00)", what,
		          o->end);
		return -ERR_INVALID;
	}
	if (def->end_min == def->start_min) {
		log_error("%s: the slot ends when it starts (%s)", what,
		          o->end ? o->end : o->start);
		return -ERR_INVALID;
	}
	if (o->news && parse_news(o->news, def->news, sizeof(def->news)) < 0) {
		log_error("%s: bad --news '%s' (minutes 0..59, e.g. 0,30)",
		          what, o->news);
		return -ERR_INVALID;
	}
	if (o->jingle_every &&
	    cmd_parse_count(o->jingle_every, 1000, &def->jingle_every) < 0) {
		log_error("%s: bad --jingle-every '%s' (0..1000 tracks)", what,
		          o->jingle_every);
		return -ERR_INVALID;
	}
	if (o->crossfade_ms &&
	    cmd_parse_count(o->crossfade_ms, 30000, &def->crossfade_ms) < 0) {
		log_error("%s: bad --crossfade-ms '%s' (0..30000)", what,
		          o->crossfade_ms);
		return -ERR_INVALID;
	}
	if (o->curve) {
		if (strcmp(o->curve, "default") == 0) {
			def->curve[0] = '\0';
		} else if (strcmp(o->curve, "equal-power") == 0 ||
		           strcmp(o->curve, "linear") == 0) {
			snprintf(def->curve, sizeof(def->curve), "%s",
			         o->curve);
		} else {
			log_error("%s: bad --curve '%s' (equal-power, linear "
			          "or default)",
			          what, o->curve);
			return -ERR_INVALID;
		}
	}
	if (o->jingles_over) {
		if (strcmp(o->jingles_over, "default") == 0)
			def->jingles_over = -1;
		else if (strcmp(o->jingles_over, "on") == 0)
			def->jingles_over = 1;
		else if (strcmp(o->jingles_over, "off") == 0)
			def->jingles_over = 0;
		else {
			log_error("%s: bad --jingles-over '%s' (on, off or "
			          "default)",
			          what, o->jingles_over);
			return -ERR_INVALID;
		}
	}
	if (o->duck_db) {
		char *end;
		double v = strtod(o->duck_db, &end);

		if (strcmp(o->duck_db, "default") == 0) {
			def->duck_db = (double)NAN;
		} else if (end == o->duck_db || *end || !(v >= -40 && v <= 0)) {
			log_error("%s: bad --duck-db '%s' (dB, -40..0, or "
			          "default)",
			          what, o->duck_db);
			return -ERR_INVALID;
		} else {
			def->duck_db = v;
		}
	}
	if (o->tolerance &&
	    cmd_parse_count(o->tolerance, 86400, &def->tolerance_s) < 0) {
		log_error("%s: bad --tolerance '%s' (seconds, 0..86400)", what,
		          o->tolerance);
		return -ERR_INVALID;
	}
	if (o->mode && set_mode(what, "--mode", o->mode, def->mode) < 0)
		return -ERR_INVALID;
	if (o->id_mode &&
	    set_mode(what, "--id-mode", o->id_mode, def->id_mode) < 0)
		return -ERR_INVALID;
	if (o->news_mode &&
	    set_mode(what, "--news-mode", o->news_mode, def->news_mode) < 0)
		return -ERR_INVALID;
	return 0;
}

/* Resolves --playlist and --jingles to ids (inside the transaction). */
static int resolve_playlists(struct store *st, const char *what,
                             const struct slot_opts *o, struct slot_def *def)
{
	int rc;

	if (o->playlist) {
		rc = cmd_playlist_id(st, o->playlist, what, &def->playlist_id);
		if (rc < 0)
			return rc;
	}
	if (o->jingles) {
		def->jingle_id = 0;
		if (o->jingles[0]) {
			rc = cmd_playlist_id(st, o->jingles, what,
			                     &def->jingle_id);
			if (rc < 0)
				return rc;
		}
	}
	if (o->news_bed) {
		def->bed_id = 0;
		if (o->news_bed[0]) {
			rc = cmd_playlist_id(st, o->news_bed, what,
			                     &def->bed_id);
			if (rc < 0)
				return rc;
		}
	}
	if (o->ids) {
		def->ids_id = 0;
		if (o->ids[0]) {
			rc = cmd_playlist_id(st, o->ids, what, &def->ids_id);
			if (rc < 0)
				return rc;
		}
	}
	if (def->jingle_id && def->jingle_every < 1) {
		log_error("%s: --jingles needs --jingle-every N (N >= 1)",
		          what);
		return -ERR_INVALID;
	}
	if (!def->jingle_id && def->jingle_every > 0) {
		log_error("%s: --jingle-every needs --jingles PLAYLIST", what);
		return -ERR_INVALID;
	}
	return 0;
}

/* The minutes of the week (Monday 00:00 = 0) covered: one byte each. */
static void occupy(unsigned days, int start_min, int end_min,
                   unsigned char *week)
{
	int len = end_min > start_min ? end_min - start_min
	                              : end_min + TU_DAY_MIN - start_min;

	memset(week, 0, TU_WEEK_MIN);
	for (int d = 0; d < 7; d++) {
		if (!(days & (1u << d)))
			continue;
		for (int m = 0; m < len; m++)
			week[(d * TU_DAY_MIN + start_min + m) % TU_WEEK_MIN] =
			    1;
	}
}

static void describe(unsigned days, int start_min, int end_min, char *buf,
                     size_t len)
{
	char d[64], s[8], e[8];

	tu_format_days(days, d, sizeof(d));
	tu_format_clock(start_min, s, sizeof(s));
	tu_format_clock(end_min, e, sizeof(e));
	snprintf(buf, len, "%s %s-%s", d, s, e);
}

/* Refuses def if it shares a minute with another slot (logged). */
static int check_overlap(struct store *st, const char *what,
                         const struct slot_def *def)
{
	unsigned char *mine = malloc(2 * TU_WEEK_MIN), *other;
	sqlite3_stmt *stmt;
	int rc;

	if (!mine) {
		log_error("%s: out of memory", what);
		return -ENOMEM;
	}
	other = mine + TU_WEEK_MIN;
	occupy(def->days, def->start_min, def->end_min, mine);
	if (sqlite3_prepare_v2(store_db(st),
	                       "SELECT name, days, start_min, end_min FROM "
	                       "slot WHERE id != ?1 ORDER BY name",
	                       -1, &stmt, NULL) != SQLITE_OK) {
		free(mine);
		return db_fail(st);
	}
	sqlite3_bind_int64(stmt, 1, def->id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		unsigned days = (unsigned)sqlite3_column_int(stmt, 1);
		int s = sqlite3_column_int(stmt, 2);
		int e = sqlite3_column_int(stmt, 3);

		occupy(days, s, e, other);
		for (int m = 0; m < TU_WEEK_MIN; m++) {
			char theirs[96], at[8];

			if (!(mine[m] && other[m]))
				continue;
			describe(days, s, e, theirs, sizeof(theirs));
			tu_format_clock(m % TU_DAY_MIN, at, sizeof(at));
			log_error(
			    "%s: '%s' overlaps slot '%s' (%s) on %s at %s",
			    what, def->name,
			    (const char *)sqlite3_column_text(stmt, 0), theirs,
			    tu_day_name(m / TU_DAY_MIN), at);
			sqlite3_finalize(stmt);
			free(mine);
			return -ERR_CONFLICT;
		}
	}
	sqlite3_finalize(stmt);
	free(mine);
	return rc == SQLITE_DONE ? 0 : db_fail(st);
}

static int write_slot(struct store *st, const struct slot_def *def)
{
	static const char insert_sql[] =
	    "INSERT INTO slot(name, days, start_min, end_min, playlist_id, "
	    "jingle_playlist_id, jingle_every, news_minutes, crossfade_ms, "
	    "start_mode, tolerance_s, id_playlist_id, id_mode, news_mode, "
	    "news_bed_playlist_id, crossfade_curve, duck_db, jingles_over) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?13, ?14, "
	    "?15, ?16, ?17, ?18, ?19)";
	static const char update_sql[] =
	    "UPDATE slot SET name = ?1, days = ?2, start_min = ?3, end_min = "
	    "?4, playlist_id = ?5, jingle_playlist_id = ?6, jingle_every = ?7, "
	    "news_minutes = ?8, crossfade_ms = ?9, start_mode = ?10, "
	    "tolerance_s = ?11, id_playlist_id = ?13, id_mode = ?14, "
	    "news_mode = ?15, news_bed_playlist_id = ?16, crossfade_curve = "
	    "?17, duck_db = ?18, jingles_over = ?19 WHERE id = ?12";
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(store_db(st), def->id ? update_sql : insert_sql,
	                       -1, &stmt, NULL) != SQLITE_OK)
		return db_fail(st);
	sqlite3_bind_text(stmt, 1, def->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(stmt, 2, (int)def->days);
	sqlite3_bind_int(stmt, 3, def->start_min);
	sqlite3_bind_int(stmt, 4, def->end_min);
	sqlite3_bind_int64(stmt, 5, def->playlist_id);
	if (def->jingle_id)
		sqlite3_bind_int64(stmt, 6, def->jingle_id);
	else
		sqlite3_bind_null(stmt, 6);
	sqlite3_bind_int64(stmt, 7, def->jingle_every);
	sqlite3_bind_text(stmt, 8, def->news, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 9, def->crossfade_ms);
	sqlite3_bind_text(stmt, 10, def->mode, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 11, def->tolerance_s);
	if (def->id)
		sqlite3_bind_int64(stmt, 12, def->id);
	if (def->ids_id)
		sqlite3_bind_int64(stmt, 13, def->ids_id);
	else
		sqlite3_bind_null(stmt, 13);
	sqlite3_bind_text(stmt, 14, def->id_mode, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 15, def->news_mode, -1, SQLITE_TRANSIENT);
	if (def->bed_id)
		sqlite3_bind_int64(stmt, 16, def->bed_id);
	else
		sqlite3_bind_null(stmt, 16);
	if (def->curve[0])
		sqlite3_bind_text(stmt, 17, def->curve, -1, SQLITE_TRANSIENT);
	if (!isnan(def->duck_db))
		sqlite3_bind_double(stmt, 18, def->duck_db);
	if (def->jingles_over >= 0)
		sqlite3_bind_int(stmt, 19, def->jingles_over);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_CONSTRAINT) {
		log_error("slot: a slot named '%s' already exists", def->name);
		rc = -ERR_CONFLICT;
	} else {
		rc = rc == SQLITE_DONE ? 0 : db_fail(st);
	}
	sqlite3_finalize(stmt);
	return rc;
}

/* Reads slot name into def: 0, -ERR_NOT_FOUND (logged), -ERR_DB. */
static int load_slot(struct store *st, const char *what, const char *name,
                     struct slot_def *def)
{
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(store_db(st),
	                       "SELECT id, days, start_min, end_min, "
	                       "playlist_id, coalesce(jingle_playlist_id, 0), "
	                       "jingle_every, news_minutes, crossfade_ms, "
	                       "start_mode, tolerance_s, "
	                       "coalesce(id_playlist_id, 0), id_mode, "
	                       "news_mode, coalesce(news_bed_playlist_id, 0), "
	                       "coalesce(crossfade_curve, ''), duck_db, "
	                       "coalesce(jingles_over, -1) FROM slot "
	                       "WHERE name = ?1",
	                       -1, &stmt, NULL) != SQLITE_OK)
		return db_fail(st);
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		def->id = sqlite3_column_int64(stmt, 0);
		snprintf(def->name, sizeof(def->name), "%s", name);
		def->days = (unsigned)sqlite3_column_int(stmt, 1);
		def->start_min = sqlite3_column_int(stmt, 2);
		def->end_min = sqlite3_column_int(stmt, 3);
		def->playlist_id = sqlite3_column_int64(stmt, 4);
		def->jingle_id = sqlite3_column_int64(stmt, 5);
		def->jingle_every = sqlite3_column_int(stmt, 6);
		snprintf(def->news, sizeof(def->news), "%s",
		         (const char *)sqlite3_column_text(stmt, 7));
		def->crossfade_ms = sqlite3_column_int(stmt, 8);
		snprintf(def->mode, sizeof(def->mode), "%s",
		         (const char *)sqlite3_column_text(stmt, 9));
		def->tolerance_s = sqlite3_column_int(stmt, 10);
		def->ids_id = sqlite3_column_int64(stmt, 11);
		snprintf(def->id_mode, sizeof(def->id_mode), "%s",
		         (const char *)sqlite3_column_text(stmt, 12));
		snprintf(def->news_mode, sizeof(def->news_mode), "%s",
		         (const char *)sqlite3_column_text(stmt, 13));
		def->bed_id = sqlite3_column_int64(stmt, 14);
		snprintf(def->curve, sizeof(def->curve), "%s",
		         (const char *)sqlite3_column_text(stmt, 15));
		def->duck_db = sqlite3_column_type(stmt, 16) == SQLITE_NULL
		                   ? (double)NAN
		                   : sqlite3_column_double(stmt, 16);
		def->jingles_over = sqlite3_column_int(stmt, 17);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		log_error("%s: no slot '%s' (see: pulse-radio slot list)", what,
		          name);
		rc = -ERR_NOT_FOUND;
	} else {
		rc = db_fail(st);
	}
	sqlite3_finalize(stmt);
	return rc;
}

/* add (edit false) or edit: validate, then check and write in one
 * transaction. */
static int do_save(struct store *st, const char *name,
                   const struct slot_opts *o, bool edit)
{
	const char *what = edit ? "slot edit" : "slot add";
	struct slot_def def = {.crossfade_ms = 3000,
	                       .mode = "soft",
	                       .id_mode = "hard",
	                       .news_mode = "hard",
	                       .duck_db = (double)NAN,
	                       .jingles_over = -1};
	char dflt[16];
	int rc;

	/* A new slot crosses as the station does. */
	if (store_setting_get(st, "crossfade_ms", dflt, sizeof(dflt)) == 0)
		cmd_parse_count(dflt, 30000, &def.crossfade_ms);

	if (!edit && (!o->days || !o->start || !o->end || !o->playlist)) {
		log_error("slot add: --days, --start, --end and --playlist "
		          "are required");
		return -ERR_USAGE;
	}
	if (!cmd_name_ok(what, name))
		return -ERR_INVALID;
	rc = store_begin(st);
	if (rc < 0)
		return rc;
	if (edit)
		rc = load_slot(st, what, name, &def);
	else
		snprintf(def.name, sizeof(def.name), "%s", name);
	if (rc == 0)
		rc = apply_opts(what, o, &def);
	if (rc == 0)
		rc = resolve_playlists(st, what, o, &def);
	if (rc == 0)
		rc = check_overlap(st, what, &def);
	if (rc == 0)
		rc = write_slot(st, &def);
	if (rc == 0)
		rc = store_commit(st);
	if (rc < 0) {
		store_rollback(st);
		return rc;
	}
	{
		char desc[96];

		describe(def.days, def.start_min, def.end_min, desc,
		         sizeof(desc));
		printf("slot '%s' %s: %s\n", name, edit ? "changed" : "added",
		       desc);
	}
	return 0;
}

static int do_remove(struct store *st, const char *name)
{
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(store_db(st), "DELETE FROM slot WHERE name = ?1",
	                       -1, &stmt, NULL) != SQLITE_OK)
		return db_fail(st);
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : db_fail(st);
	sqlite3_finalize(stmt);
	if (rc == 0 && sqlite3_changes(store_db(st)) == 0) {
		log_error("slot remove: no slot '%s' (see: pulse-radio slot "
		          "list)",
		          name);
		rc = -ERR_NOT_FOUND;
	}
	if (rc == 0)
		printf("slot '%s' removed\n", name);
	return rc;
}

/* One line of the grid: the slot as it runs on day d. */
static void print_entry(sqlite3_stmt *stmt, int d)
{
	int s = sqlite3_column_int(stmt, 2), e = sqlite3_column_int(stmt, 3);
	const char *jingles = (const char *)sqlite3_column_text(stmt, 5);
	const char *news = (const char *)sqlite3_column_text(stmt, 7);
	char st[8], en[8];

	tu_format_clock(s, st, sizeof(st));
	tu_format_clock(e, en, sizeof(en));
	printf("%s %s-%s%s%s%s  %s: playlist %s", tu_day_name(d), st, en,
	       e <= s ? " (to " : "", e <= s ? tu_day_name((d + 1) % 7) : "",
	       e <= s ? ")" : "", (const char *)sqlite3_column_text(stmt, 0),
	       (const char *)sqlite3_column_text(stmt, 4));
	if (jingles)
		printf(", jingles %s every %d", jingles,
		       sqlite3_column_int(stmt, 6));
	if (news && news[0])
		printf(", news at %s (%s)", news,
		       (const char *)sqlite3_column_text(stmt, 13));
	printf(", crossfade %d ms", sqlite3_column_int(stmt, 8));
	if (sqlite3_column_text(stmt, 14))
		printf(" %s", (const char *)sqlite3_column_text(stmt, 14));
	if (sqlite3_column_type(stmt, 15) != SQLITE_NULL)
		printf(", duck %g dB", sqlite3_column_double(stmt, 15));
	if (sqlite3_column_type(stmt, 16) != SQLITE_NULL)
		printf(", jingles %s", sqlite3_column_int(stmt, 16)
		                           ? "over songs"
		                           : "between songs");
	printf(", %s start", (const char *)sqlite3_column_text(stmt, 9));
	if (sqlite3_column_int(stmt, 10))
		printf(" (tolerance %d s)", sqlite3_column_int(stmt, 10));
	if (sqlite3_column_text(stmt, 11))
		printf(", IDs %s on the hour (%s)",
		       (const char *)sqlite3_column_text(stmt, 11),
		       (const char *)sqlite3_column_text(stmt, 12));
	putchar('\n');
}

static int do_list(struct store *st)
{
	sqlite3_stmt *stmt;
	int rc = SQLITE_DONE;

	if (sqlite3_prepare_v2(
	        store_db(st),
	        "SELECT s.name, s.days, s.start_min, s.end_min, p.name, "
	        "j.name, "
	        "s.jingle_every, s.news_minutes, s.crossfade_ms, s.start_mode, "
	        "s.tolerance_s, i.name, s.id_mode, s.news_mode, "
	        "s.crossfade_curve, s.duck_db, s.jingles_over FROM slot s "
	        "JOIN "
	        "playlist p "
	        "ON p.id = s.playlist_id LEFT JOIN playlist j ON j.id = "
	        "s.jingle_playlist_id LEFT JOIN playlist i ON i.id = "
	        "s.id_playlist_id ORDER BY s.start_min, s.name",
	        -1, &stmt, NULL) != SQLITE_OK)
		return db_fail(st);
	for (int d = 0; d < 7 && rc == SQLITE_DONE; d++) {
		bool any = false;

		sqlite3_reset(stmt);
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
			if (!(sqlite3_column_int(stmt, 1) & (1 << d)))
				continue;
			print_entry(stmt, d);
			any = true;
		}
		if (!any && rc == SQLITE_DONE)
			printf("%s -\n", tu_day_name(d));
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : db_fail(st);
}

int cmd_slot(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'D'},
	    {"days", required_argument, NULL, 'd'},
	    {"start", required_argument, NULL, 's'},
	    {"end", required_argument, NULL, 'e'},
	    {"playlist", required_argument, NULL, 'p'},
	    {"jingles", required_argument, NULL, 'j'},
	    {"jingle-every", required_argument, NULL, 'J'},
	    {"news", required_argument, NULL, 'n'},
	    {"crossfade-ms", required_argument, NULL, 'c'},
	    {"mode", required_argument, NULL, 'm'},
	    {"tolerance", required_argument, NULL, 't'},
	    {"ids", required_argument, NULL, 'i'},
	    {"id-mode", required_argument, NULL, 'I'},
	    {"news-mode", required_argument, NULL, 'N'},
	    {"news-bed", required_argument, NULL, 'B'},
	    {"curve", required_argument, NULL, 'C'},
	    {"duck-db", required_argument, NULL, 'k'},
	    {"jingles-over", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	enum { LIST, ADD, EDIT, REMOVE };
	static const struct cmd_verb verbs[] = {
	    [LIST] = {"list", 0, false},
	    [ADD] = {"add", 1, true},
	    [EDIT] = {"edit", 1, true},
	    [REMOVE] = {"remove", 1, false},
	};
	struct slot_opts o = {0};
	const char *db_opt = NULL;
	struct store *st = NULL;
	bool any_opt = false;
	int c, verb, rc;
	char **args;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		any_opt |= c != 'D' && c != 'h';
		switch (c) {
		case 'D':
			db_opt = optarg;
			break;
		case 'd':
			o.days = optarg;
			break;
		case 's':
			o.start = optarg;
			break;
		case 'e':
			o.end = optarg;
			break;
		case 'p':
			o.playlist = optarg;
			break;
		case 'j':
			o.jingles = optarg;
			break;
		case 'J':
			o.jingle_every = optarg;
			break;
		case 'n':
			o.news = optarg;
			break;
		case 'c':
			o.crossfade_ms = optarg;
			break;
		case 'm':
			o.mode = optarg;
			break;
		case 't':
			o.tolerance = optarg;
			break;
		case 'i':
			o.ids = optarg;
			break;
		case 'I':
			o.id_mode = optarg;
			break;
		case 'N':
			o.news_mode = optarg;
			break;
		case 'B':
			o.news_bed = optarg;
			break;
		case 'C':
			o.curve = optarg;
			break;
		case 'k':
			o.duck_db = optarg;
			break;
		case 'o':
			o.jingles_over = optarg;
			break;
		case 'h':
			usage(stdout);
			return CMD_OK;
		default:
			return CMD_USAGE;
		}
	}
	verb = cmd_verb("slot", verbs, sizeof(verbs) / sizeof(*verbs), argc,
	                argv, any_opt, &args);
	if (verb < 0)
		return CMD_USAGE;
	if (cmd_open(&st, db_opt) < 0)
		return CMD_FAILED;
	if (verb == LIST)
		rc = do_list(st);
	else if (verb == REMOVE)
		rc = do_remove(st, args[0]);
	else
		rc = do_save(st, args[0], &o, verb == EDIT);
	store_close(st);
	return cmd_status(rc);
}
