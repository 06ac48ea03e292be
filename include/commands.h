/*
 * commands.h - the operator's subcommands of pulse-radio.
 *
 * Each takes its own argv (argv[0] is the subcommand's name) and returns
 * the process exit status: 0 done, 1 failed (one clear line said why and
 * nothing was changed), 2 bad usage. Every one takes --db PATH; without
 * it, $PULSE_RADIO_DB, else ./pulse-radio.db.
 */
#ifndef COMMANDS_H
#define COMMANDS_H

int cmd_db(int argc, char **argv);       /* db init|migrate|version|get|set */
int cmd_library(int argc, char **argv);  /* library scan DIR|list */
int cmd_playlist(int argc, char **argv); /* playlist import|list|show|remove */
int cmd_slot(int argc, char **argv);     /* slot add|list|remove|edit */
int cmd_override(int argc, char **argv); /* override add|list|remove */
int cmd_asrun(int argc, char **argv);    /* asrun export --from --to */
int cmd_plan(int argc, char **argv);     /* plan --from --hours */
int cmd_bulletin(int argc, char **argv); /* bulletin add|list|show|withdraw */
int cmd_run(int argc, char **argv);      /* run --config FILE: the daemon */
int cmd_daemon_status(int argc, char **argv); /* status: ask the daemon */

/* The database path: opt if given, else $PULSE_RADIO_DB, else
 * "pulse-radio.db". */
const char *cmd_db_path(const char *opt);

/* Finds the subcommand called name, or NULL. */
int (*cmd_find(const char *name))(int argc, char **argv);

#endif
