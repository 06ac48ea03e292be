/*
 * cmd_override.c - "pulse-radio override": dated one-off programming.
 *
 * The operator speaks station local time; the database keeps UTC text
 * ("2026-12-16T00:00:00.000Z"), which sorts and compares as strings, so
 * the overlap check is one query. Overrides may not overlap each other.
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
	fputs("Usage: pulse-radio override add NAME --from TIME --to TIME "
	      "--playlist NAME\n"
	      "                          [--mode hard|soft|not-before]\n"
	      "       pulse-radio override list\n"
	      "       pulse-radio override remove ID|NAME\n"
	      "  every one takes --db FILE\n"
	      "\n"
	      "TIME is station local time (setting 'timezone'): \"YYYY-MM-DD\" "
	      "(midnight),\n"
	      "\"YYYY-MM-DD HH:MM[:SS]\" or \"YYYY-MM-DDTHH:MM[:SS]\"; the "
	      "override runs\n"
	      "from --from up to (not including) --to. A local time skipped "
	      "by a clock\n"
	      "change moves forward by the gap; one that happens twice is "
	      "the first.\n"
	      "The default mode is hard. Overrides may not overlap.\n",
	      f);
}

static int db_fail(struct store *st)
{
	log_error("%s: %s", store_path(st), sqlite3_errmsg(store_db(st)));
	return -ERR_DB;
}

static int parse_time(const char *what, const char *opt, const char *s,
                      const char *zone, char *utc, size_t len)
{
	int64_t t;

	if (tu_parse_local(s, zone, &t) < 0) {
		log_error("%s: bad %s '%s' (YYYY-MM-DD or YYYY-MM-DD HH:MM)",
		          what, opt, s);
		return -ERR_INVALID;
	}
	tu_format_utc(t * 1000, utc, len);
	return 0;
}

static int check_overlap(struct store *st, const char *from, const char *to)
{
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(store_db(st),
	                       "SELECT id, name FROM override WHERE starts_at "
	                       "< ?2 AND ends_at > ?1 ORDER BY starts_at "
	                       "LIMIT 1",
	                       -1, &stmt, NULL) != SQLITE_OK)
		return db_fail(st);
	sqlite3_bind_text(stmt, 1, from, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 2, to, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		log_error("override add: overlaps override %lld '%s'",
		          (long long)sqlite3_column_int64(stmt, 0),
		          (const char *)sqlite3_column_text(stmt, 1));
		rc = -ERR_CONFLICT;
	} else {
		rc = rc == SQLITE_DONE ? 0 : db_fail(st);
	}
	sqlite3_finalize(stmt);
	return rc;
}

static int do_add(struct store *st, const char *name, const char *from,
                  const char *to, const char *playlist, const char *mode)
{
	const char *what = "override add";
	char zone[128], from_utc[32], to_utc[32];
	sqlite3_stmt *stmt;
	int64_t pid;
	int rc;

	if (!from || !to || !playlist) {
		log_error("override add: --from, --to and --playlist are "
		          "required");
		return -ERR_USAGE;
	}
	if (!cmd_name_ok(what, name))
		return -ERR_INVALID;
	if (strcmp(mode, "hard") != 0 && strcmp(mode, "soft") != 0 &&
	    strcmp(mode, "not-before") != 0) {
		log_error("%s: bad --mode '%s' (hard, soft or not-before)",
		          what, mode);
		return -ERR_INVALID;
	}
	rc = cmd_zone(st, zone, sizeof(zone));
	if (rc == 0)
		rc = parse_time(what, "--from", from, zone, from_utc,
		                sizeof(from_utc));
	if (rc == 0)
		rc = parse_time(what, "--to", to, zone, to_utc, sizeof(to_utc));
	if (rc < 0)
		return rc;
	if (strcmp(to_utc, from_utc) <= 0) {
		log_error("%s: --to %s is not after --from %s", what, to, from);
		return -ERR_INVALID;
	}
	rc = store_begin(st);
	if (rc < 0)
		return rc;
	rc = cmd_playlist_id(st, playlist, what, &pid);
	if (rc == 0)
		rc = check_overlap(st, from_utc, to_utc);
	if (rc < 0)
		goto fail;
	if (sqlite3_prepare_v2(store_db(st),
	                       "INSERT INTO override(name, starts_at, ends_at, "
	                       "playlist_id, start_mode) VALUES (?1, ?2, ?3, "
	                       "?4, ?5)",
	                       -1, &stmt, NULL) != SQLITE_OK) {
		rc = db_fail(st);
		goto fail;
	}
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 2, from_utc, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 3, to_utc, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 4, pid);
	sqlite3_bind_text(stmt, 5, mode, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : db_fail(st);
	sqlite3_finalize(stmt);
	if (rc == 0)
		rc = store_commit(st);
	if (rc < 0)
		goto fail;
	printf("override %lld '%s' added: %s .. %s\n",
	       (long long)sqlite3_last_insert_rowid(store_db(st)), name,
	       from_utc, to_utc);
	return 0;
fail:
	store_rollback(st);
	return rc;
}

static int do_list(struct store *st)
{
	char zone[128], lf[64], lt[64];
	sqlite3_stmt *stmt;
	int rc;

	rc = cmd_zone(st, zone, sizeof(zone));
	if (rc < 0)
		return rc;
	if (sqlite3_prepare_v2(store_db(st),
	                       "SELECT o.id, o.name, o.starts_at, o.ends_at, "
	                       "p.name, o.start_mode FROM override o JOIN "
	                       "playlist p ON p.id = o.playlist_id ORDER BY "
	                       "o.starts_at",
	                       -1, &stmt, NULL) != SQLITE_OK)
		return db_fail(st);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *f = (const char *)sqlite3_column_text(stmt, 2);
		const char *t = (const char *)sqlite3_column_text(stmt, 3);
		int64_t fms, tms;

		if (tu_parse_utc(f, &fms) < 0 ||
		    tu_format_local(fms, zone, lf, sizeof(lf)) < 0)
			snprintf(lf, sizeof(lf), "?");
		if (tu_parse_utc(t, &tms) < 0 ||
		    tu_format_local(tms, zone, lt, sizeof(lt)) < 0)
			snprintf(lt, sizeof(lt), "?");
		printf("%lld  %s: %s .. %s (%s .. %s), playlist %s, %s "
		       "start\n",
		       (long long)sqlite3_column_int64(stmt, 0),
		       (const char *)sqlite3_column_text(stmt, 1), lf, lt, f, t,
		       (const char *)sqlite3_column_text(stmt, 4),
		       (const char *)sqlite3_column_text(stmt, 5));
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : db_fail(st);
}

/* By id if key is all digits, else by name (refused if two share it). */
static int do_remove(struct store *st, const char *key)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *stmt;
	long id;
	int n = 0, rc;

	rc = store_begin(st);
	if (rc < 0)
		return rc;
	if (cmd_parse_count(key, 1000000000L, &id) < 0) {
		if (sqlite3_prepare_v2(db,
		                       "SELECT count(*), max(id) FROM override "
		                       "WHERE name = ?1",
		                       -1, &stmt, NULL) != SQLITE_OK) {
			rc = db_fail(st);
			goto fail;
		}
		sqlite3_bind_text(stmt, 1, key, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(stmt) == SQLITE_ROW) {
			n = sqlite3_column_int(stmt, 0);
			id = (long)sqlite3_column_int64(stmt, 1);
		}
		sqlite3_finalize(stmt);
		if (n > 1) {
			log_error("override remove: %d overrides are called "
			          "'%s'; give the id (see: pulse-radio "
			          "override list)",
			          n, key);
			rc = -ERR_CONFLICT;
			goto fail;
		}
		if (n == 0)
			id = 0;
	}
	if (sqlite3_prepare_v2(db, "DELETE FROM override WHERE id = ?1", -1,
	                       &stmt, NULL) != SQLITE_OK) {
		rc = db_fail(st);
		goto fail;
	}
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : db_fail(st);
	sqlite3_finalize(stmt);
	if (rc == 0 && sqlite3_changes(db) == 0) {
		log_error("override remove: no override '%s' (see: "
		          "pulse-radio override list)",
		          key);
		rc = -ERR_NOT_FOUND;
	}
	if (rc == 0)
		rc = store_commit(st);
	if (rc < 0)
		goto fail;
	printf("override %ld removed\n", id);
	return 0;
fail:
	store_rollback(st);
	return rc;
}

int cmd_override(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'D'},
	    {"from", required_argument, NULL, 'f'},
	    {"to", required_argument, NULL, 't'},
	    {"playlist", required_argument, NULL, 'p'},
	    {"mode", required_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *db_opt = NULL, *from = NULL, *to = NULL, *playlist = NULL;
	const char *mode = "hard";
	enum { LIST, ADD, REMOVE };
	static const struct cmd_verb verbs[] = {
	    [LIST] = {"list", 0, false},
	    [ADD] = {"add", 1, true},
	    [REMOVE] = {"remove", 1, false},
	};
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
		case 'f':
			from = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'p':
			playlist = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'h':
			usage(stdout);
			return CMD_OK;
		default:
			return CMD_USAGE;
		}
	}
	verb = cmd_verb("override", verbs, sizeof(verbs) / sizeof(*verbs), argc,
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
		rc = do_add(st, args[0], from, to, playlist, mode);
	store_close(st);
	return cmd_status(rc);
}
