/*
 * cmd_util.c - what the programme subcommands share: opening the store,
 * the station zone, playlist names, numbers and durations.
 */
#include "cmd_priv.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "commands.h"
#include "err.h"
#include "log.h"
#include "store.h"
#include "timeutil.h"

int cmd_open(struct store **st, const char *db_opt)
{
	return store_open(st, cmd_db_path(db_opt), 0);
}

int cmd_zone(struct store *st, char *buf, size_t len)
{
	int rc = store_setting_get(st, "timezone", buf, len);

	if (rc < 0 || !tu_zone_valid(buf)) {
		log_error("%s: setting 'timezone' is not a known time zone "
		          "(set it with: pulse-radio db set timezone ZONE)",
		          store_path(st));
		return rc < 0 ? rc : -ERR_INVALID;
	}
	return 0;
}

int cmd_playlist_id(struct store *st, const char *name, const char *what,
                    int64_t *id)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT id FROM playlist WHERE name = ?1",
	                       -1, &stmt, NULL) != SQLITE_OK) {
		log_error("%s: %s", store_path(st), sqlite3_errmsg(db));
		return -ERR_DB;
	}
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(stmt, 0);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		log_error("%s: no playlist '%s' (see: pulse-radio playlist "
		          "list)",
		          what, name);
		rc = -ERR_NOT_FOUND;
	} else {
		log_error("%s: %s", store_path(st), sqlite3_errmsg(db));
		rc = -ERR_DB;
	}
	sqlite3_finalize(stmt);
	return rc;
}

int cmd_parse_count(const char *s, long max, long *out)
{
	long v = 0;

	if (!s || !*s)
		return -ERR_INVALID;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -ERR_INVALID;
		v = v * 10 + (*s - '0');
		if (v > max)
			return -ERR_INVALID;
	}
	*out = v;
	return 0;
}

void cmd_format_duration(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms < 0 ? 0 : (ms + 500) / 1000;

	snprintf(buf, len, "%lld:%02d:%02d", (long long)(s / 3600),
	         (int)(s / 60 % 60), (int)(s % 60));
}

bool cmd_name_ok(const char *what, const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > 100) {
		log_error("%s: a name must be 1 to 100 bytes long", what);
		return false;
	}
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			log_error("%s: control characters in the name", what);
			return false;
		}
	return true;
}

int cmd_usage_error(const char *what, const char *text)
{
	log_error("%s: %s (see: pulse-radio %s --help)", what, text, what);
	return CMD_USAGE;
}

int cmd_verb(const char *cmd, const struct cmd_verb *verbs, size_t n, int argc,
             char **argv, bool any_opt, char ***args)
{
	if (optind >= argc) {
		cmd_usage_error(cmd, "which action?");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(argv[optind], verbs[i].name) != 0)
			continue;
		if (verbs[i].nargs >= 0 &&
		    argc - optind - 1 != verbs[i].nargs) {
			cmd_usage_error(cmd, "wrong number of arguments");
			return -1;
		}
		if (any_opt && !verbs[i].options) {
			cmd_usage_error(cmd, "those options do not go with "
			                     "that action");
			return -1;
		}
		*args = argv + optind + 1;
		return (int)i;
	}
	cmd_usage_error(cmd, "unknown action");
	return -1;
}

int cmd_status(int rc)
{
	return rc == -ERR_USAGE ? CMD_USAGE : rc < 0 ? CMD_FAILED : CMD_OK;
}

int cmd_read_password(const char *what, const char *path, char *buf, size_t len)
{
	struct stat st;
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		int rc = -errno;

		log_error("%s %s: %s", what, path, strerror(errno));
		return rc;
	}
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & S_IROTH))
		log_warn("%s %s is readable by every user; chmod 600 it", what,
		         path);
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if (!n) {
		log_error("%s %s: empty", what, path);
		return -ERR_USAGE;
	}
	return 0;
}
