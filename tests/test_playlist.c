/*
 * test_playlist.c - M3U parsing against hostile playlists.
 */
#include "playlist.h"

#include "err.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static void test_extinf(void)
{
	char *a, *t;

	CHECK(playlist_parse_extinf("123,Artist - Song", &a, &t) == 0);
	CHECK(a && strcmp(a, "Artist") == 0);
	CHECK(t && strcmp(t, "Song") == 0);
	free(a);
	free(t);
	CHECK(playlist_parse_extinf("-1 tvg-name=\"x, y\",Only Title", &a,
	                            &t) == 0);
	CHECK(a == NULL);
	CHECK(t && strcmp(t, "Only Title") == 0);
	free(t);
	CHECK(playlist_parse_extinf("42", &a, &t) == 0);
	CHECK(a == NULL && t == NULL);
	CHECK(playlist_parse_extinf("42,", &a, &t) == 0);
	CHECK(a == NULL && t == NULL);
}

static void test_load(void)
{
	struct playlist *pl;
	char lib[512], list[600], outside[600];
	const char *m3u = "\xef\xbb\xbf#EXTM3U\r\n"
	                  "#EXTINF:10,Band - First\r\n"
	                  "a.wav\r\n"
	                  "\n"
	                  "  # a comment\n"
	                  "sub/b.wav\n"
	                  "http://example.invalid/stream.mp3\n"
	                  "../secret.wav\n"
	                  "missing.wav\n"
	                  "sub/../a.wav\n"
	                  "link.wav\n"
	                  "#EXTINF:5,Dropped Title\n"
	                  "also-missing.wav\n"
	                  "c.wav\n";

	snprintf(lib, sizeof(lib), "%s/lib", test_tmpdir());
	CHECK(test_run("mkdir -p '%s/sub'", lib) == 0);
	CHECK(test_write_sine_wav(test_path("lib/a.wav"), 8000, 1, 0.1, 440) ==
	      0);
	CHECK(test_write_sine_wav(test_path("lib/sub/b.wav"), 8000, 1, 0.1,
	                          440) == 0);
	CHECK(test_write_sine_wav(test_path("lib/c.wav"), 8000, 1, 0.1, 440) ==
	      0);
	snprintf(outside, sizeof(outside), "%s/secret.wav", test_tmpdir());
	CHECK(test_write_sine_wav(outside, 8000, 1, 0.1, 440) == 0);
	/* A symlink inside the library that leads outside it. */
	CHECK(symlink(outside, test_path("lib/link.wav")) == 0);
	snprintf(list, sizeof(list), "%s/list.m3u8", lib);
	CHECK(test_write_file(list, m3u, strlen(m3u)) == 0);

	CHECK(playlist_load(&pl, list, NULL) == 0);
	CHECKF(pl && pl->count == 4, "count %zu", pl ? pl->count : 0);
	if (pl && pl->count == 4) {
		CHECK(strcmp(base(pl->items[0].path), "a.wav") == 0);
		CHECK(pl->items[0].artist &&
		      strcmp(pl->items[0].artist, "Band") == 0);
		CHECK(pl->items[0].title &&
		      strcmp(pl->items[0].title, "First") == 0);
		CHECK(pl->items[0].line == 3);
		CHECK(strcmp(base(pl->items[1].path), "b.wav") == 0);
		CHECK(pl->items[1].title == NULL);
		/* sub/../a.wav stays inside: allowed. */
		CHECK(strcmp(base(pl->items[2].path), "a.wav") == 0);
		/* The EXTINF of a skipped entry does not stick to the next. */
		CHECK(strcmp(base(pl->items[3].path), "c.wav") == 0);
		CHECK(pl->items[3].title == NULL);
	}
	playlist_free(pl);

	/* With the parent as the library, ../secret.wav and the link are in. */
	CHECK(playlist_load(&pl, list, test_tmpdir()) == 0);
	CHECKF(pl && pl->count == 6, "count %zu", pl ? pl->count : 0);
	playlist_free(pl);

	/* A playlist that cannot be read is an error, not an empty list. */
	CHECK(playlist_load(&pl, test_path("nope.m3u"), NULL) < 0);
	CHECK(pl == NULL);

	/* Binary junk: refused as a whole, no crash. */
	{
		unsigned char junk[4096];

		srand(7);
		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (unsigned char)rand();
		junk[100] = 0;
		CHECK(test_write_file(test_path("lib/junk.m3u"), junk,
		                      sizeof(junk)) == 0);
		CHECK(playlist_load(&pl, test_path("lib/junk.m3u"), NULL) ==
		      -ERR_FORMAT);
		CHECK(pl == NULL);
	}
	/* Text junk: every line skipped, nothing usable, no crash. */
	{
		char text[8192];
		size_t n = 0;

		for (int i = 0; i < 200; i++)
			n += (size_t)snprintf(text + n, sizeof(text) - n,
			                      "../../etc/passwd%d\n", i);
		CHECK(test_write_file(test_path("lib/text.m3u"), text, n) == 0);
		CHECK(playlist_load(&pl, test_path("lib/text.m3u"), NULL) == 0);
		CHECK(pl && pl->count == 0);
		playlist_free(pl);
	}
}

int main(void)
{
	test_extinf();
	test_load();
	return test_done();
}
