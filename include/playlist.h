/*
 * playlist.h - M3U/M3U8 playlists, resolved against the music library.
 *
 * Paths are relative to the playlist's folder. Every entry must resolve
 * inside the library root (by default the playlist's folder): a URL, or a
 * path that leads outside through "../" or a symlink, is skipped with one
 * log line, as is a missing file.
 */
#ifndef PLAYLIST_H
#define PLAYLIST_H

#include <stdbool.h>
#include <stddef.h>

struct playlist_item {
	char *path;    /* resolved absolute path */
	char *title;   /* from #EXTINF, or NULL */
	char *artist;  /* from #EXTINF "Artist - Title", or NULL */
	unsigned line; /* line number in the playlist, for log lines */
	bool failed;   /* could not be played; skipped from now on */
};

struct playlist {
	char *path; /* the playlist file, as given */
	struct playlist_item *items;
	size_t count;
};

/*
 * Reads the playlist at path. library_root may be NULL (the playlist's
 * folder). 0 with *out set, even when no entry was usable (count 0); a
 * negative code if the playlist itself cannot be read (logged once).
 */
int playlist_load(struct playlist **out, const char *path,
                  const char *library_root);

/* Parses one #EXTINF line's display part ("Artist - Title") into fresh
 * strings (either may come back NULL). 0, or -ENOMEM. */
int playlist_parse_extinf(const char *line, char **artist, char **title);

void playlist_free(struct playlist *pl);

#endif
