/*
 * fuzz_playlist.c - M3U/M3U8 text through playlist_load() and
 * playlist_parse_extinf().
 *
 * Input: the playlist's bytes, written as lib/list.m3u in a temp folder
 * that also holds lib/a.mp3, lib/sub/b.ogg, lib/up (a symlink to the
 * folder above lib), lib/loop (a symlink to itself) and outside.mp3 next
 * to lib, so that entries can resolve, escape or loop. Checked, as
 * playlist.h promises: every item is an absolute path inside the library
 * (lib, or lib itself) that exists, in the order of its lines; a failure
 * is a negative code with no playlist.
 */
#include "playlist.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fuzz.h"

static char lib_real[PATH_MAX + 1];

static void make_file(const char *name)
{
	fuzz_write_file(fuzz_path(name), (const uint8_t *)"x", 1);
}

/* The library, once per process. */
static void setup(void)
{
	if (lib_real[0])
		return;
	if (mkdir(fuzz_path("lib"), 0700) < 0 ||
	    mkdir(fuzz_path("lib/sub"), 0700) < 0 ||
	    symlink("..", fuzz_path("lib/up")) < 0 ||
	    symlink("loop", fuzz_path("lib/loop")) < 0) {
		printf("fuzz: cannot make the library: %s\n", strerror(errno));
		exit(2);
	}
	make_file("lib/a.mp3");
	make_file("lib/sub/b.ogg");
	make_file("outside.mp3");
	if (!realpath(fuzz_path("lib"), lib_real)) {
		printf("fuzz: realpath: %s\n", strerror(errno));
		exit(2);
	}
}

static void check_extinf(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1), *artist, *title;
	int rc;

	if (!line)
		return;
	memcpy(line, data, size);
	line[size] = '\0';
	rc = playlist_parse_extinf(line, &artist, &title);
	FUZZ_CHECK(rc == 0 || rc == -ENOMEM);
	FUZZ_CHECK(rc == 0 || (!artist && !title));
	free(artist);
	free(title);
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path;
	struct playlist *pl = (struct playlist *)lib_real; /* must be reset */
	size_t root_len;
	unsigned last_line = 0;
	int rc;

	setup();
	path = fuzz_path("lib/list.m3u");
	fuzz_write_file(path, data, size);
	rc = playlist_load(&pl, path, NULL);
	if (rc < 0) {
		FUZZ_CHECK(pl == NULL);
		FUZZ_CHECK(rc == -ERR_FORMAT || rc == -ENOMEM);
		check_extinf(data, size);
		return 0;
	}
	FUZZ_CHECK(rc == 0 && pl != NULL);
	FUZZ_CHECK(strcmp(pl->path, path) == 0);
	FUZZ_CHECK(pl->count == 0 || pl->items != NULL);
	root_len = strlen(lib_real);
	for (size_t i = 0; i < pl->count; i++) {
		const struct playlist_item *it = &pl->items[i];
		struct stat st;

		FUZZ_CHECK(it->path != NULL);
		/* "." is the library itself: inside, and refused later as
		 * not a regular file (source_open). */
		FUZZ_CHECK(strncmp(it->path, lib_real, root_len) == 0 &&
		           (it->path[root_len] == '/' || !it->path[root_len]));
		FUZZ_CHECK(stat(it->path, &st) == 0);
		FUZZ_CHECK(it->line > last_line);
		FUZZ_CHECK(!it->failed);
		last_line = it->line;
	}
	playlist_free(pl);
	check_extinf(data, size);
	return 0;
}
