/*
 * cmd_asrun.c - "pulse-radio asrun export": what aired, as CSV.
 *
 * The CSV follows RFC 4180 (CRLF line ends; a field holding a comma, a
 * quote, CR or LF is quoted, quotes doubled). The tags are untrusted text
 * that a spreadsheet may open: a title starting with = + - @, a tab or CR
 * would be read as a formula, so such a field gets a leading apostrophe
 * ("'=cmd()"), which spreadsheets show as text.
 */
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "cmd_priv.h"
#include "err.h"
#include "log.h"
#include "store.h"
#include "timeutil.h"

static void usage(FILE *f)
{
	fputs("Usage: pulse-radio asrun export --from TIME --to TIME "
	      "[--output FILE] [--db FILE]\n"
	      "\n"
	      "Writes what aired from --from up to (not including) --to as "
	      "CSV, to FILE\n"
	      "or standard output. TIME is station local time: \"YYYY-MM-DD\" "
	      "(midnight)\n"
	      "or \"YYYY-MM-DD HH:MM[:SS]\". Columns: "
	      "date,time,duration,title,artist,album;\n"
	      "date and time of the start in station local time, duration as "
	      "H:MM:SS\n"
	      "(rounded to the second). Text fields starting with = + - @ get "
	      "a leading '\n"
	      "so spreadsheets do not run them as formulas.\n",
	      f);
}

static void csv_text(FILE *f, const char *s)
{
	bool formula = s[0] && strchr("=+-@\t\r", s[0]);
	bool quote = strpbrk(s, ",\"\r\n") != NULL;

	putc(',', f);
	if (quote)
		putc('"', f);
	if (formula)
		putc('\'', f);
	for (; *s; s++) {
		if (*s == '"')
			putc('"', f);
		putc(*s, f);
	}
	if (quote)
		putc('"', f);
}

static const char *col_text(sqlite3_stmt *stmt, int i)
{
	const char *s = (const char *)sqlite3_column_text(stmt, i);

	return s ? s : "";
}

/* Writes the rows in [from, to) to f: the row count, or negative. */
static int write_csv(struct store *st, const char *zone, const char *from,
                     const char *to, FILE *f)
{
	sqlite3_stmt *stmt;
	int rc, rows = 0;

	if (sqlite3_prepare_v2(store_db(st),
	                       "SELECT started_at, duration_ms, title, artist, "
	                       "album FROM asrun WHERE started_at >= ?1 AND "
	                       "started_at < ?2 ORDER BY started_at, id",
	                       -1, &stmt, NULL) != SQLITE_OK) {
		log_error("%s: %s", store_path(st),
		          sqlite3_errmsg(store_db(st)));
		return -ERR_DB;
	}
	sqlite3_bind_text(stmt, 1, from, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 2, to, -1, SQLITE_TRANSIENT);
	fputs("date,time,duration,title,artist,album\r\n", f);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *at = col_text(stmt, 0);
		char dur[32];
		struct tm tm;
		int64_t ms;

		if (tu_parse_utc(at, &ms) < 0 ||
		    tu_local_tm(ms / 1000, zone, &tm) < 0) {
			log_warn("asrun export: skipped a row with a bad time "
			         "'%s'",
			         at);
			continue;
		}
		cmd_format_duration(sqlite3_column_int64(stmt, 1), dur,
		                    sizeof(dur));
		fprintf(f, "%04d-%02d-%02d,%02d:%02d:%02d,%s",
		        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		        tm.tm_hour, tm.tm_min, tm.tm_sec, dur);
		csv_text(f, col_text(stmt, 2));
		csv_text(f, col_text(stmt, 3));
		csv_text(f, col_text(stmt, 4));
		fputs("\r\n", f);
		rows++;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		log_error("%s: %s", store_path(st),
		          sqlite3_errmsg(store_db(st)));
		return -ERR_DB;
	}
	return rows;
}

/* Writes to output through a temporary file, renamed into place, so a
 * failed export never leaves half a file. */
static int export_to(struct store *st, const char *zone, const char *from,
                     const char *to, const char *output)
{
	char tmp[4096];
	FILE *f;
	int rc;

	if (!output) {
		rc = write_csv(st, zone, from, to, stdout);
		if (rc >= 0 && fflush(stdout) != 0) {
			log_error("asrun export: standard output: %s",
			          strerror(errno));
			rc = -EIO;
		}
		return rc;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", output) >= (int)sizeof(tmp)) {
		log_error("asrun export: %s: path too long", output);
		return -ENAMETOOLONG;
	}
	f = fopen(tmp, "w");
	if (!f) {
		rc = -errno;
		log_error("asrun export: %s: %s", tmp, strerror(errno));
		return rc;
	}
	rc = write_csv(st, zone, from, to, f);
	if (ferror(f) && rc >= 0)
		rc = -EIO;
	if (fclose(f) != 0 && rc >= 0)
		rc = -errno;
	if (rc >= 0 && rename(tmp, output) < 0)
		rc = -errno;
	if (rc < 0) {
		if (rc != -ERR_DB)
			log_error("asrun export: %s: %s", output, err_str(rc));
		remove(tmp);
		return rc;
	}
	printf("%d rows written to %s\n", rc, output);
	return rc;
}

int cmd_asrun(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'D'},
	    {"from", required_argument, NULL, 'f'},
	    {"to", required_argument, NULL, 't'},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *db_opt = NULL, *from = NULL, *to = NULL, *output = NULL;
	char zone[128], from_utc[32], to_utc[32];
	struct store *st = NULL;
	int64_t f_s, t_s;
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
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
		case 'o':
			output = optarg;
			break;
		case 'h':
			usage(stdout);
			return CMD_OK;
		default:
			return CMD_USAGE;
		}
	}
	if (optind + 1 != argc || strcmp(argv[optind], "export") != 0)
		return cmd_usage_error("asrun", "the action is export");
	if (!from || !to)
		return cmd_usage_error("asrun", "--from and --to are required");
	if (cmd_open(&st, db_opt) < 0)
		return CMD_FAILED;
	rc = cmd_zone(st, zone, sizeof(zone));
	if (rc == 0 && tu_parse_local(from, zone, &f_s) < 0) {
		log_error("asrun export: bad --from '%s' (YYYY-MM-DD or "
		          "YYYY-MM-DD HH:MM)",
		          from);
		rc = -ERR_INVALID;
	}
	if (rc == 0 && tu_parse_local(to, zone, &t_s) < 0) {
		log_error("asrun export: bad --to '%s' (YYYY-MM-DD or "
		          "YYYY-MM-DD HH:MM)",
		          to);
		rc = -ERR_INVALID;
	}
	if (rc == 0 && t_s <= f_s) {
		log_error("asrun export: --to %s is not after --from %s", to,
		          from);
		rc = -ERR_INVALID;
	}
	if (rc == 0) {
		tu_format_utc(f_s * 1000, from_utc, sizeof(from_utc));
		tu_format_utc(t_s * 1000, to_utc, sizeof(to_utc));
		rc = export_to(st, zone, from_utc, to_utc, output);
	}
	store_close(st);
	return rc < 0 ? CMD_FAILED : CMD_OK;
}
