/*
 * cmd_playlist.c - "pulse-radio playlist": M3U files into the database,
 * and back out as lists.
 *
 * An import maps each entry to a scanned track by its resolved path. The
 * rule: entries found are imported in order, each one not in the library
 * costs one warning line; the import fails (exit 1, nothing changed) only
 * when none is found. A re-import replaces the playlist's items in one
 * transaction, so the scheduler sees the old list or the new, never half.
 */
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cmd_priv.h"
#include "err.h"
#include "log.h"
#include "playlist.h"
#include "store.h"

static void usage(FILE *f)
{
	fputs("Usage: pulse-radio playlist import FILE.m3u [--name NAME] "
	      "[--library DIR]\n"
	      "       pulse-radio playlist list\n"
	      "       pulse-radio playlist show NAME\n"
	      "       pulse-radio playlist remove NAME\n"
	      "  every one takes --db FILE\n"
	      "\n"
	      "import: NAME defaults to the file's name without its "
	      "extension.\n"
	      "  Entries resolve inside the playlist's folder (or --library "
	      "DIR) and\n"
	      "  must have been scanned (pulse-radio library scan). Entries "
	      "not in the\n"
	      "  library are reported and left out; the import fails only if "
	      "none is\n"
	      "  found. Importing a name again replaces its items.\n"
	      "remove: refused while a slot, an override or the "
	      "fallback_playlist\n"
	      "  setting uses the playlist.\n",
	      f);
}

static int db_fail(struct store *st)
{
	log_error("%s: %s", store_path(st), sqlite3_errmsg(store_db(st)));
	return -ERR_DB;
}

/* The file's base name without its extension, into buf. */
static void default_name(const char *file, char *buf, size_t len)
{
	const char *base = strrchr(file, '/');
	char *dot;

	snprintf(buf, len, "%s", base ? base + 1 : file);
	dot = strrchr(buf, '.');
	if (dot && dot != buf)
		*dot = '\0';
}

/* Looks up each item's track: ids[] gets the found ones, in order. */
static int find_tracks(struct store *st, const struct playlist *pl,
                       int64_t *ids, size_t *found)
{
	sqlite3_stmt *stmt;
	int rc = 0;

	*found = 0;
	if (sqlite3_prepare_v2(store_db(st),
	                       "SELECT id FROM track WHERE path = ?1", -1,
	                       &stmt, NULL) != SQLITE_OK)
		return db_fail(st);
	for (size_t i = 0; i < pl->count && rc == 0; i++) {
		const struct playlist_item *it = &pl->items[i];

		sqlite3_reset(stmt);
		sqlite3_bind_text(stmt, 1, it->path, -1, SQLITE_TRANSIENT);
		switch (sqlite3_step(stmt)) {
		case SQLITE_ROW:
			ids[(*found)++] = sqlite3_column_int64(stmt, 0);
			break;
		case SQLITE_DONE:
			log_warn("%s:%u: %s is not in the library (run: "
			         "pulse-radio library scan)",
			         pl->path, it->line, it->path);
			break;
		default:
			rc = db_fail(st);
		}
	}
	sqlite3_finalize(stmt);
	return rc;
}

static int replace_items(struct store *st, const char *name, const int64_t *ids,
                         size_t n)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *stmt = NULL;
	int64_t pid;
	int rc;

	rc = store_begin(st);
	if (rc < 0)
		return rc;
	if (sqlite3_prepare_v2(db,
	                       "INSERT INTO playlist(name) VALUES (?1) "
	                       "ON CONFLICT(name) DO NOTHING",
	                       -1, &stmt, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(stmt);
	stmt = NULL;
	rc = cmd_playlist_id(st, name, "playlist import", &pid);
	if (rc < 0)
		goto fail_rc;
	if (sqlite3_prepare_v2(db,
	                       "DELETE FROM playlist_item WHERE "
	                       "playlist_id = ?1",
	                       -1, &stmt, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(stmt, 1, pid);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(stmt);
	if (sqlite3_prepare_v2(db,
	                       "INSERT INTO playlist_item(playlist_id, "
	                       "position, track_id) VALUES (?1, ?2, ?3)",
	                       -1, &stmt, NULL) != SQLITE_OK)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		sqlite3_reset(stmt);
		sqlite3_bind_int64(stmt, 1, pid);
		sqlite3_bind_int64(stmt, 2, (int64_t)i);
		sqlite3_bind_int64(stmt, 3, ids[i]);
		if (sqlite3_step(stmt) != SQLITE_DONE)
			goto fail;
	}
	sqlite3_finalize(stmt);
	stmt = NULL;
	rc = store_commit(st);
	if (rc < 0)
		goto fail_rc;
	return 0;
fail:
	rc = db_fail(st);
fail_rc:
	sqlite3_finalize(stmt);
	store_rollback(st);
	return rc;
}

static int do_import(struct store *st, const char *file, const char *name,
                     const char *library)
{
	struct playlist *pl = NULL;
	int64_t *ids = NULL;
	size_t found = 0;
	int rc;

	rc = playlist_load(&pl, file, library);
	if (rc < 0)
		return rc;
	ids = calloc(pl->count ? pl->count : 1, sizeof(*ids));
	if (!ids) {
		log_error("playlist import: out of memory");
		rc = -ENOMEM;
		goto out;
	}
	rc = find_tracks(st, pl, ids, &found);
	if (rc < 0)
		goto out;
	if (found == 0) {
		log_error("playlist import: %s: no entry is in the library; "
		          "nothing imported",
		          file);
		rc = -ERR_EMPTY;
		goto out;
	}
	rc = replace_items(st, name, ids, found);
	if (rc == 0)
		printf("playlist '%s': %zu tracks imported, %zu not in the "
		       "library\n",
		       name, found, pl->count - found);
out:
	free(ids);
	playlist_free(pl);
	return rc;
}

static int do_list(struct store *st)
{
	sqlite3_stmt *stmt;
	char dur[32];
	int rc;

	if (sqlite3_prepare_v2(
	        store_db(st),
	        "SELECT p.name, count(t.id), coalesce(sum(t.duration_ms), 0) "
	        "FROM playlist p LEFT JOIN playlist_item i ON i.playlist_id "
	        "= p.id LEFT JOIN track t ON t.id = i.track_id GROUP BY p.id "
	        "ORDER BY p.name",
	        -1, &stmt, NULL) != SQLITE_OK)
		return db_fail(st);
	printf("%-30s %6s %10s\n", "NAME", "ITEMS", "DURATION");
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		cmd_format_duration(sqlite3_column_int64(stmt, 2), dur,
		                    sizeof(dur));
		printf("%-30s %6d %10s\n",
		       (const char *)sqlite3_column_text(stmt, 0),
		       sqlite3_column_int(stmt, 1), dur);
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : db_fail(st);
}

static int do_show(struct store *st, const char *name)
{
	sqlite3_stmt *stmt;
	int64_t pid;
	char dur[32];
	int rc;

	rc = cmd_playlist_id(st, name, "playlist show", &pid);
	if (rc < 0)
		return rc;
	if (sqlite3_prepare_v2(store_db(st),
	                       "SELECT i.position, t.artist, t.title, t.path, "
	                       "t.duration_ms FROM playlist_item i JOIN track "
	                       "t ON t.id = i.track_id WHERE i.playlist_id = "
	                       "?1 ORDER BY i.position",
	                       -1, &stmt, NULL) != SQLITE_OK)
		return db_fail(st);
	sqlite3_bind_int64(stmt, 1, pid);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *artist = (const char *)sqlite3_column_text(stmt, 1);
		const char *title = (const char *)sqlite3_column_text(stmt, 2);
		const char *path = (const char *)sqlite3_column_text(stmt, 3);

		cmd_format_duration(sqlite3_column_int64(stmt, 4), dur,
		                    sizeof(dur));
		if (!title || !title[0])
			title =
			    strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		printf("%4d  %s%s%s  %s\n", sqlite3_column_int(stmt, 0) + 1,
		       artist && artist[0] ? artist : "",
		       artist && artist[0] ? " - " : "", title, dur);
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : db_fail(st);
}

/* Who uses playlist pid: logs the first user and returns -ERR_CONFLICT. */
static int check_unused(struct store *st, const char *name, int64_t pid)
{
	sqlite3_stmt *stmt;
	char fallback[256];
	int rc;

	if (store_setting_get(st, "fallback_playlist", fallback,
	                      sizeof(fallback)) == 0 &&
	    strcmp(fallback, name) == 0) {
		log_error("playlist remove: '%s' is the fallback_playlist "
		          "setting; change that first",
		          name);
		return -ERR_CONFLICT;
	}
	if (sqlite3_prepare_v2(
	        store_db(st),
	        "SELECT 'slot', name FROM slot WHERE ?1 IN (playlist_id, "
	        "jingle_playlist_id, id_playlist_id, news_bed_playlist_id) "
	        "UNION ALL SELECT 'override', name FROM override WHERE "
	        "playlist_id = ?1 LIMIT 1",
	        -1, &stmt, NULL) != SQLITE_OK)
		return db_fail(st);
	sqlite3_bind_int64(stmt, 1, pid);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		log_error("playlist remove: '%s' is used by %s '%s'; remove "
		          "or edit that first",
		          name, (const char *)sqlite3_column_text(stmt, 0),
		          (const char *)sqlite3_column_text(stmt, 1));
		rc = -ERR_CONFLICT;
	} else {
		rc = rc == SQLITE_DONE ? 0 : db_fail(st);
	}
	sqlite3_finalize(stmt);
	return rc;
}

static int do_remove(struct store *st, const char *name)
{
	sqlite3_stmt *stmt;
	int64_t pid;
	int rc;

	rc = store_begin(st);
	if (rc < 0)
		return rc;
	rc = cmd_playlist_id(st, name, "playlist remove", &pid);
	if (rc == 0)
		rc = check_unused(st, name, pid);
	if (rc < 0)
		goto fail;
	if (sqlite3_prepare_v2(store_db(st),
	                       "DELETE FROM playlist WHERE id = ?1", -1, &stmt,
	                       NULL) != SQLITE_OK) {
		rc = db_fail(st);
		goto fail;
	}
	sqlite3_bind_int64(stmt, 1, pid);
	rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : db_fail(st);
	sqlite3_finalize(stmt);
	if (rc == 0)
		rc = store_commit(st);
	if (rc < 0)
		goto fail;
	printf("playlist '%s' removed\n", name);
	return 0;
fail:
	store_rollback(st);
	return rc;
}

int cmd_playlist(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"name", required_argument, NULL, 'n'},
	    {"library", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *db_opt = NULL, *name = NULL, *library = NULL;
	enum { LIST, IMPORT, SHOW, REMOVE };
	static const struct cmd_verb verbs[] = {
	    [LIST] = {"list", 0, false},
	    [IMPORT] = {"import", 1, true},
	    [SHOW] = {"show", 1, false},
	    [REMOVE] = {"remove", 1, false},
	};
	char defname[256];
	struct store *st = NULL;
	int c, verb, rc;
	char **args;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db_opt = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'l':
			library = optarg;
			break;
		case 'h':
			usage(stdout);
			return CMD_OK;
		default:
			return CMD_USAGE;
		}
	}
	verb = cmd_verb("playlist", verbs, sizeof(verbs) / sizeof(*verbs), argc,
	                argv, name || library, &args);
	if (verb < 0)
		return CMD_USAGE;
	if (verb == IMPORT) {
		if (!name) {
			default_name(args[0], defname, sizeof(defname));
			name = defname;
		}
		if (!cmd_name_ok("playlist import", name))
			return CMD_FAILED;
	}
	if (cmd_open(&st, db_opt) < 0)
		return CMD_FAILED;
	if (verb == IMPORT)
		rc = do_import(st, args[0], name, library);
	else if (verb == LIST)
		rc = do_list(st);
	else if (verb == SHOW)
		rc = do_show(st, args[0]);
	else
		rc = do_remove(st, args[0]);
	store_close(st);
	return cmd_status(rc);
}
