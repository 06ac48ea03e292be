/*
 * commands.c - the table of operator subcommands.
 */
#include "commands.h"

#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
    {"db", cmd_db},
    {"library", cmd_library},
    {"playlist", cmd_playlist},
    {"slot", cmd_slot},
    {"override", cmd_override},
    {"asrun", cmd_asrun},
    {"plan", cmd_plan},
    {"bulletin", cmd_bulletin},
    {"run", cmd_run},
    {"status", cmd_daemon_status},
};

const char *cmd_db_path(const char *opt)
{
	const char *env = getenv("PULSE_RADIO_DB");

	if (opt)
		return opt;
	return env && env[0] ? env : "pulse-radio.db";
}

int (*cmd_find(const char *name))(int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return commands[i].run;
	return NULL;
}
