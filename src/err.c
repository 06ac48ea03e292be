/*
 * err.c - names for the project's error codes and errno values.
 */
#include "err.h"

#include <stdlib.h>
#include <string.h>

const char *err_str(int rc)
{
	int code = abs(rc);

	switch (code) {
	case ERR_FORMAT:
		return "not a playable audio file";
	case ERR_UNSUPPORTED:
		return "unsupported format";
	case ERR_PROTOCOL:
		return "unexpected answer from the server";
	case ERR_AUTH:
		return "the server refused the user name or password";
	case ERR_HOST:
		return "unknown host";
	case ERR_CONNECT:
		return "cannot connect";
	case ERR_MOUNT_BUSY:
		return "the mount is in use";
	case ERR_USAGE:
		return "bad usage";
	case ERR_EMPTY:
		return "nothing playable";
	case ERR_OUTSIDE:
		return "outside the library";
	case ERR_NOT_DB:
		return "not a Pulse Radio database";
	case ERR_SCHEMA_NEWER:
		return "database from a newer Pulse Radio";
	case ERR_INVALID:
		return "invalid value";
	case ERR_NOT_FOUND:
		return "not found";
	case ERR_CONFLICT:
		return "conflicts with the schedule";
	case ERR_DB:
		return "database error";
	case ERR_DB_BUSY:
		return "the database is locked by another program";
	default:
		return strerror(code);
	}
}
