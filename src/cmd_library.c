/*
 * cmd_library.c - `pulse-radio library scan DIR | list`.
 *
 * scan brings the track table up to date with a folder (library.c does
 * the work and logs each bad file); list prints what the table holds.
 */
#include "commands.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "library.h"
#include "log.h"
#include "store.h"

static void usage(FILE *f)
{
	fputs("Usage: pulse-radio library scan DIR [--db FILE]\n"
	      "       pulse-radio library list [--db FILE]\n"
	      "\n"
	      "scan  walks DIR (sub-folders too; hidden files and symbolic\n"
	      "      links are skipped) for .mp3 .ogg .oga .wav files and\n"
	      "      measures each new or changed one: EBU R128 loudness,\n"
	      "      peak, cue-in and cue-out. Tracks whose file is gone are\n"
	      "      marked missing (off air until they are back), never\n"
	      "      deleted. Bad files cost one line each and do not stop\n"
	      "      the scan.\n"
	      "list  prints every track: artist - title, duration, loudness,\n"
	      "      cue in-out.\n"
	      "\n"
	      "  --db FILE   the database (default $PULSE_RADIO_DB, else\n"
	      "              ./pulse-radio.db); scan creates it if needed\n"
	      "  -h, --help  this text\n",
	      f);
}

static int do_scan(const char *dir, const char *db_path)
{
	struct lib_scan_stats s;
	struct store *st = NULL;
	DIR *d;
	int rc;

	/* Before the database: a typo must not leave an empty file. */
	d = opendir(dir);
	if (!d) {
		log_error("%s: %s", dir, strerror(errno));
		return 1;
	}
	closedir(d);
	if (store_open(&st, db_path, STORE_CREATE) < 0)
		return 1; /* store_open() said why */
	rc = lib_scan(store_db(st), dir, &s);
	store_close(st);
	if (rc < 0)
		return 1;
	printf("scanned %zu files: %zu added, %zu updated, %zu unchanged, "
	       "%zu bad, %zu missing\n",
	       s.scanned, s.added, s.updated, s.unchanged, s.bad, s.missing);
	return 0;
}

static int do_list(const char *db_path)
{
	struct store *st = NULL;
	long n;

	if (store_open(&st, db_path, STORE_READONLY) < 0)
		return 1;
	n = lib_list(store_db(st), stdout);
	store_close(st);
	return n < 0 ? 1 : 0;
}

int cmd_library(int argc, char **argv)
{
	const char *db = NULL, *args[2] = {NULL, NULL};
	int nargs = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--db") == 0) {
			if (++i == argc) {
				log_error("library: --db needs a FILE");
				return 2;
			}
			db = argv[i];
		} else if (strncmp(a, "--db=", 5) == 0) {
			db = a + 5;
		} else if (a[0] == '-' && a[1] && strcmp(a, "--") != 0) {
			log_error("library: unknown option '%s'", a);
			return 2;
		} else if (strcmp(a, "--") != 0) {
			if (nargs == 2) {
				log_error("library: unexpected argument '%s'",
				          a);
				return 2;
			}
			args[nargs++] = a;
		}
	}
	if (nargs == 0) {
		log_error("library: scan DIR or list? (--help)");
	} else if (strcmp(args[0], "scan") == 0) {
		if (nargs == 2)
			return do_scan(args[1], cmd_db_path(db));
		log_error("library scan: which folder? (--help)");
	} else if (strcmp(args[0], "list") == 0) {
		if (nargs == 1)
			return do_list(cmd_db_path(db));
		log_error("library list: unexpected argument '%s'", args[1]);
	} else {
		log_error("library: unknown command '%s' (--help)", args[0]);
	}
	return 2;
}
