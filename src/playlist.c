/*
 * playlist.c - read M3U/M3U8 playlists.
 *
 * The playlist is untrusted text: a line may name a URL, climb out of the
 * library with "../", or carry control characters. Nothing outside the
 * library root is ever opened, and each bad line costs one log line.
 */
#include "playlist.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"

static char *dup_range(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static void trim(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' ||
	             s[n - 1] == '\t'))
		s[--n] = '\0';
}

/* "scheme://..." with a scheme of letters, digits, '+', '-', '.' */
static bool is_url(const char *s)
{
	const char *p = s;

	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return false;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	       (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.')
		p++;
	return strncmp(p, "://", 3) == 0;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

int playlist_parse_extinf(const char *line, char **artist, char **title)
{
	const char *comma, *sep, *disp;

	*artist = NULL;
	*title = NULL;
	/* #EXTINF:duration [attributes],display: attribute values may hold
	 * commas inside quotes, so find the first comma outside quotes. */
	comma = NULL;
	for (const char *p = line; *p; p++) {
		if (*p == '"') {
			const char *q = strchr(p + 1, '"');

			if (!q)
				break;
			p = q;
		} else if (*p == ',') {
			comma = p;
			break;
		}
	}
	if (!comma)
		return 0;
	disp = comma + 1;
	while (*disp == ' ')
		disp++;
	if (!*disp)
		return 0;
	sep = strstr(disp, " - ");
	if (sep) {
		*artist = dup_range(disp, (size_t)(sep - disp));
		*title = strdup(sep + 3);
	} else {
		*title = strdup(disp);
	}
	if ((sep && !*artist) || !*title) {
		free(*artist);
		free(*title);
		*artist = *title = NULL;
		return -ENOMEM;
	}
	return 0;
}

static bool inside(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (n == 1 && root[0] == '/')
		return true;
	return strncmp(path, root, n) == 0 &&
	       (path[n] == '/' || path[n] == '\0');
}

static int add_item(struct playlist *pl, size_t *cap, char *path, char *artist,
                    char *title, unsigned line)
{
	struct playlist_item *it;

	if (pl->count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct playlist_item *n = realloc(pl->items, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		pl->items = n;
		*cap = ncap;
	}
	it = &pl->items[pl->count++];
	it->path = path;
	it->artist = artist;
	it->title = title;
	it->line = line;
	it->failed = false;
	return 0;
}

/* Past this many bad lines a playlist is clearly not meant for us: log a
 * count at the end instead of a line each. */
#define MAX_SKIP_LINES 10

/*
 * Resolves one entry to an absolute path inside root. NULL if it is a
 * URL, missing or outside, with the reason in why.
 */
static char *resolve(const char *dir, const char *root, const char *entry,
                     char *why, size_t why_len)
{
	char joined[PATH_MAX + 1], real[PATH_MAX + 1];
	int n;

	if (is_url(entry)) {
		snprintf(why, why_len, "URLs are not played (%.80s)", entry);
		return NULL;
	}
	if (has_control(entry)) {
		snprintf(why, why_len, "control characters in the path");
		return NULL;
	}
	if (entry[0] == '/')
		n = snprintf(joined, sizeof(joined), "%s", entry);
	else
		n = snprintf(joined, sizeof(joined), "%s/%s", dir, entry);
	if (n < 0 || (size_t)n >= sizeof(joined)) {
		snprintf(why, why_len, "path too long");
		return NULL;
	}
	if (!realpath(joined, real)) {
		snprintf(why, why_len, "%.200s: %s", entry, strerror(errno));
		return NULL;
	}
	if (!inside(real, root)) {
		snprintf(why, why_len, "%.200s is outside the library %.200s",
		         entry, root);
		return NULL;
	}
	return strdup(real);
}

int playlist_load(struct playlist **out, const char *path,
                  const char *library_root)
{
	char dir[PATH_MAX + 1], root[PATH_MAX + 1], why[512];
	struct playlist *pl;
	FILE *f = NULL;
	char *line = NULL, *artist = NULL, *title = NULL;
	size_t line_cap = 0, cap = 0;
	unsigned lineno = 0, skipped = 0;
	ssize_t len;
	int rc;

	*out = NULL;
	pl = calloc(1, sizeof(*pl));
	if (!pl || !(pl->path = strdup(path))) {
		rc = -ENOMEM;
		goto fail;
	}
	f = fopen(path, "r");
	if (!f) {
		rc = -errno;
		log_error("%s: cannot read the playlist: %s", path,
		          strerror(errno));
		goto fail;
	}
	if (!realpath(path, dir)) {
		rc = -errno;
		log_error("%s: %s", path, strerror(errno));
		goto fail;
	}
	*strrchr(dir, '/') = '\0';
	if (!dir[0])
		strcpy(dir, "/");
	if (!realpath(library_root ? library_root : dir, root)) {
		rc = -errno;
		log_error("%s: library folder: %s", library_root,
		          strerror(errno));
		goto fail;
	}
	while ((len = getline(&line, &line_cap, f)) >= 0) {
		char *s = line, *resolved;

		lineno++;
		if (lineno == 1 && (unsigned char)s[0] == 0xef &&
		    (unsigned char)s[1] == 0xbb && (unsigned char)s[2] == 0xbf)
			s += 3; /* UTF-8 byte order mark (M3U8) */
		if ((size_t)len != strlen(line)) {
			/* Text has no NUL bytes: this is not a playlist. */
			log_error("%s:%u: not a text playlist (NUL byte)", path,
			          lineno);
			rc = -ERR_FORMAT;
			goto fail;
		}
		trim(s);
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			continue;
		if (s[0] == '#') {
			if (strncmp(s, "#EXTINF:", 8) == 0) {
				free(artist);
				free(title);
				rc = playlist_parse_extinf(s + 8, &artist,
				                           &title);
				if (rc < 0)
					goto fail;
			}
			continue;
		}
		resolved = resolve(dir, root, s, why, sizeof(why));
		if (!resolved && ++skipped <= MAX_SKIP_LINES)
			log_warn("%s:%u: skipped: %s", path, lineno, why);
		if (resolved) {
			rc =
			    add_item(pl, &cap, resolved, artist, title, lineno);
			if (rc < 0) {
				free(resolved);
				goto fail;
			}
		} else {
			free(artist);
			free(title);
		}
		artist = title = NULL;
	}
	if (skipped > MAX_SKIP_LINES)
		log_warn("%s: %u more lines skipped", path,
		         skipped - MAX_SKIP_LINES);
	free(line);
	free(artist);
	free(title);
	fclose(f);
	*out = pl;
	return 0;
fail:
	free(line);
	free(artist);
	free(title);
	if (f)
		fclose(f);
	playlist_free(pl);
	return rc;
}

void playlist_free(struct playlist *pl)
{
	if (!pl)
		return;
	for (size_t i = 0; i < pl->count; i++) {
		free(pl->items[i].path);
		free(pl->items[i].title);
		free(pl->items[i].artist);
	}
	free(pl->items);
	free(pl->path);
	free(pl);
}
