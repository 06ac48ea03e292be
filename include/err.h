/*
 * err.h - the project's error codes.
 *
 * Functions return >= 0 (success or a count) or a negative code: -errno for
 * system failures, or -ERR_* below. err_str() names any of them.
 */
#ifndef ERR_H
#define ERR_H

enum {
	ERR_FORMAT = 1000, /* not what its name claims, or undecodable */
	ERR_UNSUPPORTED,   /* valid, but we cannot play it */
	ERR_PROTOCOL,      /* the server said something unexpected */
	ERR_AUTH,          /* the server refused our credentials */
	ERR_HOST,          /* the host name does not resolve */
	ERR_CONNECT,       /* cannot connect (refused, unreachable, timeout) */
	ERR_MOUNT_BUSY,    /* the server says the mount is in use */
	ERR_USAGE,         /* a bad argument or option */
	ERR_EMPTY,         /* nothing playable */
	ERR_OUTSIDE,       /* a path outside the library, or a URL */
	ERR_NOT_DB,        /* the file is not an SQLite database */
	ERR_SCHEMA_NEWER,  /* the database is from a newer Pulse Radio */
	ERR_INVALID,       /* a value out of range or malformed */
	ERR_NOT_FOUND,     /* no such playlist, slot, override, ... */
	ERR_CONFLICT,      /* clashes with what is there (overlapping slots) */
	ERR_DB, /* the database failed (logged with SQLite's words) */
	/* another connection holds the database's lock: try again later */
	ERR_DB_BUSY,
};

/* A short human text for rc (negative or positive, ours or errno). */
const char *err_str(int rc);

#endif
