/*
 * cmd_db.c - "pulse-radio db": create and migrate the database, read and
 * change the station settings.
 *
 * A setting is checked before it is written (a known zone, a number, a
 * playlist that exists), so the daemon never finds a value it cannot use.
 */
#include "commands.h"

#include <errno.h>
#include <stdlib.h>

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "cmd_priv.h"
#include "err.h"
#include "log.h"
#include "store.h"
#include "timeutil.h"

static void usage(FILE *f)
{
	fputs(
	    "Usage: pulse-radio db init     [--db FILE]  create (or update) "
	    "the database\n"
	    "       pulse-radio db migrate  [--db FILE]  update an existing "
	    "one\n"
	    "       pulse-radio db version  [--db FILE]\n"
	    "       pulse-radio db get [KEY] [--db FILE] a setting, or all\n"
	    "       pulse-radio db set KEY VALUE [--db FILE]\n"
	    "\n"
	    "Settings: timezone (IANA name, e.g. Africa/Johannesburg),\n"
	    "  title_separation_s, artist_separation_s (seconds, >= 0),\n"
	    "  fallback_playlist (a playlist name, or \"\" for none),\n"
	    "  news: voice_en|af|tn (espeak-ng voice), rate_en|af|tn (words\n"
	    "  per minute), pitch_en|af|tn (0..99), news_intro_playlist,\n"
	    "  news_outro_playlist, news_sting_playlist, news_empty_playlist,\n"
	    "  news_gap_ms, breaking_mode (now|after-item),\n"
	    "  breaking_latency_s, bulletin_dir, bulletin_keep_days,\n"
	    "  speech_idle_s (the speech helper stops after this idle),\n"
	    "  sound: loudness_target_lufs, loudness_max_gain_db,\n"
	    "  limiter_ceiling_dbtp, dead_air_db, dead_air_s, crossfade_ms,\n"
	    "  crossfade_curve (equal-power|linear), duck_db,\n"
	    "  duck_attack_ms, duck_release_ms, jingles_over (0|1)\n"
	    "  (negative values: db set KEY -- -23).\n"
	    "Without --db: $PULSE_RADIO_DB, else ./pulse-radio.db.\n",
	    f);
}

/* Settings whose values are numbers: key, lowest, highest, what. */
static const struct {
	const char *key;
	long lo, hi;
	const char *what;
} numbers[] = {
    {"title_separation_s", 0, 100L * 86400, "seconds"},
    {"artist_separation_s", 0, 100L * 86400, "seconds"},
    {"rate_en", 80, 450, "words per minute"},
    {"rate_af", 80, 450, "words per minute"},
    {"rate_tn", 80, 450, "words per minute"},
    {"pitch_en", 0, 99, "espeak-ng pitch"},
    {"pitch_af", 0, 99, "espeak-ng pitch"},
    {"pitch_tn", 0, 99, "espeak-ng pitch"},
    {"news_gap_ms", 0, 10000, "milliseconds"},
    {"news_bed_db", -60, 0, "dB (0 down to -60)"},
    {"loudness_target_lufs", -70, 0, "LUFS (e.g. -16, or -23)"},
    {"loudness_max_gain_db", 0, 40, "dB"},
    {"limiter_ceiling_dbtp", -20, 0, "dBTP"},
    {"dead_air_db", -90, -20, "dBFS"},
    {"dead_air_s", 0, 600, "seconds (0: never)"},
    {"breaking_latency_s", 1, 3600, "seconds"},
    {"bulletin_keep_days", 0, 36500, "days (0: keep for ever)"},
    {"speech_idle_s", 1, 86400, "seconds"},
    {"crossfade_ms", 0, 30000, "milliseconds (0: none)"},
    {"duck_db", -40, 0, "dB (0 down to -40)"},
    {"duck_attack_ms", 0, 10000, "milliseconds"},
    {"duck_release_ms", 0, 10000, "milliseconds"},
    {"jingles_over", 0, 1, "0 or 1"},
};

static const char *const playlist_keys[] = {
    "fallback_playlist",   "news_intro_playlist", "news_outro_playlist",
    "news_sting_playlist", "news_empty_playlist",
};

static bool voice_name_ok(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 63)
		return false;
	for (; *v; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= '0' && *v <= '9') ||
		      *v == '-' || *v == '+' || *v == '_'))
			return false;
	return true;
}

static int check_setting(struct store *st, const char *key, const char *value)
{
	long n;

	if (strcmp(key, "timezone") == 0) {
		if (!tu_zone_valid(value)) {
			log_error("db set: '%s' is not a known time zone "
			          "(e.g. Africa/Johannesburg)",
			          value);
			return -ERR_INVALID;
		}
		return 0;
	}
	for (size_t i = 0; i < sizeof(numbers) / sizeof(*numbers); i++) {
		char *end;

		if (strcmp(key, numbers[i].key) != 0)
			continue;

		errno = 0;
		n = strtol(value, &end, 10);
		if (!value[0] || *end || errno || n < numbers[i].lo ||
		    n > numbers[i].hi) {
			log_error("db set: %s must be a whole number of %s "
			          "%ld..%ld, not '%s'",
			          key, numbers[i].what, numbers[i].lo,
			          numbers[i].hi, value);
			return -ERR_INVALID;
		}
		return 0;
	}
	for (size_t i = 0; i < sizeof(playlist_keys) / sizeof(*playlist_keys);
	     i++) {
		int64_t id;

		if (strcmp(key, playlist_keys[i]) == 0)
			return value[0]
			           ? cmd_playlist_id(st, value, "db set", &id)
			           : 0;
	}
	if (!strcmp(key, "voice_en") || !strcmp(key, "voice_af") ||
	    !strcmp(key, "voice_tn")) {
		if (!voice_name_ok(value)) {
			log_error("db set: %s must be an espeak-ng voice name "
			          "such as en-gb or af, not '%s'",
			          key, value);
			return -ERR_INVALID;
		}
		return 0;
	}
	if (strcmp(key, "crossfade_curve") == 0) {
		if (strcmp(value, "equal-power") != 0 &&
		    strcmp(value, "linear") != 0) {
			log_error("db set: crossfade_curve is 'equal-power' or "
			          "'linear', not '%s'",
			          value);
			return -ERR_INVALID;
		}
		return 0;
	}
	if (strcmp(key, "breaking_mode") == 0) {
		if (strcmp(value, "now") != 0 &&
		    strcmp(value, "after-item") != 0) {
			log_error("db set: breaking_mode is 'now' or "
			          "'after-item', not '%s'",
			          value);
			return -ERR_INVALID;
		}
		return 0;
	}
	if (strcmp(key, "bulletin_dir") == 0) {
		if (value[0] && value[0] != '/') {
			log_error("db set: bulletin_dir must be an absolute "
			          "path (or \"\" for bulletins/ beside the "
			          "database), not '%s'",
			          value);
			return -ERR_INVALID;
		}
		return 0;
	}
	log_error("db set: unknown setting '%s' (see: pulse-radio db --help)",
	          key);
	return -ERR_INVALID;
}

static int show_settings(struct store *st)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(db,
	                       "SELECT key, value FROM setting ORDER BY key",
	                       -1, &stmt, NULL) != SQLITE_OK) {
		log_error("%s: %s", store_path(st), sqlite3_errmsg(db));
		return -ERR_DB;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		printf("%s=%s\n", (const char *)sqlite3_column_text(stmt, 0),
		       (const char *)sqlite3_column_text(stmt, 1));
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		log_error("%s: %s", store_path(st), sqlite3_errmsg(db));
		return -ERR_DB;
	}
	return 0;
}

static int run(const char *verb, const char *path, int nargs, char **args)
{
	struct store *st = NULL;
	char value[1024];
	int rc;

	if (strcmp(verb, "init") == 0 || strcmp(verb, "migrate") == 0 ||
	    strcmp(verb, "version") == 0) {
		if (nargs)
			return cmd_usage_error("db", "unexpected argument");
		rc = store_open(&st, path,
		                strcmp(verb, "init") == 0 ? STORE_CREATE : 0);
		if (rc < 0)
			return CMD_FAILED;
		if (strcmp(verb, "version") == 0)
			printf("%d (this program knows %d)\n",
			       store_version(st), store_schema_latest());
		else
			printf("%s: schema version %d\n", path,
			       store_version(st));
		store_close(st);
		return CMD_OK;
	}
	if (strcmp(verb, "get") == 0) {
		if (nargs > 1)
			return cmd_usage_error("db", "db get takes one KEY");
		if (store_open(&st, path, 0) < 0)
			return CMD_FAILED;
		if (nargs == 0) {
			rc = show_settings(st);
		} else {
			rc = store_setting_get(st, args[0], value,
			                       sizeof(value));
			if (rc == -ERR_NOT_FOUND)
				log_error("db get: no setting '%s'", args[0]);
			else if (rc == 0)
				printf("%s\n", value);
		}
		store_close(st);
		return rc < 0 ? CMD_FAILED : CMD_OK;
	}
	if (strcmp(verb, "set") == 0) {
		if (nargs != 2)
			return cmd_usage_error("db", "db set takes KEY VALUE");
		if (store_open(&st, path, 0) < 0)
			return CMD_FAILED;
		rc = check_setting(st, args[0], args[1]);
		if (rc == 0)
			rc = store_setting_set(st, args[0], args[1]);
		if (rc == 0)
			printf("%s=%s\n", args[0], args[1]);
		store_close(st);
		return rc < 0 ? CMD_FAILED : CMD_OK;
	}
	return cmd_usage_error("db", "unknown action");
}

int cmd_db(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *db_opt = NULL;
	int c;

	optind = 0; /* GNU: start afresh, options anywhere */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'd') {
			db_opt = optarg;
		} else if (c == 'h') {
			usage(stdout);
			return CMD_OK;
		} else {
			return CMD_USAGE;
		}
	}
	if (optind >= argc)
		return cmd_usage_error("db", "which action?");
	return run(argv[optind], cmd_db_path(db_opt), argc - optind - 1,
	           argv + optind + 1);
}
