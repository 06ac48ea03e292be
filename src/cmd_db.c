/*
 * cmd_db.c - "pulse-radio db": create and migrate the database, read and
 * change the station settings.
 *
 * A setting is checked before it is written (a known zone, a number, a
 * playlist that exists), so the daemon never finds a value it cannot use.
 */
#include "commands.h"

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
	fputs("Usage: pulse-radio db init     [--db FILE]  create (or update) "
	      "the database\n"
	      "       pulse-radio db migrate  [--db FILE]  update an existing "
	      "one\n"
	      "       pulse-radio db version  [--db FILE]\n"
	      "       pulse-radio db get [KEY] [--db FILE] a setting, or all\n"
	      "       pulse-radio db set KEY VALUE [--db FILE]\n"
	      "\n"
	      "Settings: timezone (IANA name, e.g. Africa/Johannesburg),\n"
	      "  title_separation_s, artist_separation_s (seconds, >= 0),\n"
	      "  fallback_playlist (a playlist name, or \"\" for none).\n"
	      "Without --db: $PULSE_RADIO_DB, else ./pulse-radio.db.\n",
	      f);
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
	if (strcmp(key, "title_separation_s") == 0 ||
	    strcmp(key, "artist_separation_s") == 0) {
		if (cmd_parse_count(value, 100L * 86400, &n) < 0) {
			log_error(
			    "db set: %s must be a whole number of seconds "
			    "0..8640000, not '%s'",
			    key, value);
			return -ERR_INVALID;
		}
		return 0;
	}
	if (strcmp(key, "fallback_playlist") == 0) {
		int64_t id;

		return value[0] ? cmd_playlist_id(st, value, "db set", &id) : 0;
	}
	log_error("db set: unknown setting '%s' (timezone, "
	          "title_separation_s, artist_separation_s, fallback_playlist)",
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
