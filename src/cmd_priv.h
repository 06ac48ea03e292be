/*
 * cmd_priv.h - helpers shared by the programme subcommands (db, playlist,
 * slot, override, asrun).
 *
 * Each logs its own failure as one line, so a command only maps the
 * return value to its exit status (1).
 */
#ifndef CMD_PRIV_H
#define CMD_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

/* Exit statuses of a subcommand. */
enum { CMD_OK = 0, CMD_FAILED = 1, CMD_USAGE = 2 };

/* Opens the database named by --db (db_opt may be NULL): an existing
 * file, migrated. 0 or negative (logged). */
int cmd_open(struct store **st, const char *db_opt);

/* The station's time zone (setting 'timezone') into buf: 0, or negative
 * (logged) if unset or not a known zone. */
int cmd_zone(struct store *st, char *buf, size_t len);

/* The id of the playlist called name: 0, -ERR_NOT_FOUND (logged as
 * "what: no playlist NAME"), -ERR_DB. */
int cmd_playlist_id(struct store *st, const char *name, const char *what,
                    int64_t *id);

/* A whole number 0..max, digits only: 0 or -ERR_INVALID. */
int cmd_parse_count(const char *s, long max, long *out);

/* ms as "H:MM:SS" (rounded to the nearest second). */
void cmd_format_duration(int64_t ms, char *buf, size_t len);

/* Whether name is a usable name for a playlist, slot or override
 * (1..100 bytes, no control characters); logs why not. */
bool cmd_name_ok(const char *what, const char *name);

/* Logs "what: TEXT" for a usage error and returns CMD_USAGE. */
int cmd_usage_error(const char *what, const char *text);

/* One action of a command ("slot add NAME"): its name, how many
 * arguments follow it, and whether the command's options go with it. */
struct cmd_verb {
	const char *name;
	int nargs; /* arguments after the verb; -1: any number */
	bool options;
};

/*
 * Finds the action at argv[optind] (after getopt) among verbs[n] and
 * checks its argument count and whether options were given (any_opt).
 * Its index, with *args pointing at its arguments; or -1 after one usage
 * line naming cmd.
 */
int cmd_verb(const char *cmd, const struct cmd_verb *verbs, size_t n, int argc,
             char **argv, bool any_opt, char ***args);

/* The exit status for an action's result code. */
int cmd_status(int rc);

/* The first line of the password file at path into buf (len), for what
 * ("--password-file", "[output main] password_file"); warns when every
 * user may read the file. 0, or a negative code (logged). */
int cmd_read_password(const char *what, const char *path, char *buf,
                      size_t len);

#endif
