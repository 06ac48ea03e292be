/*
 * test_config.c - the daemon's configuration file: the example in dist/
 * reads as documented, every field of a full file lands where it should,
 * and each kind of bad file is refused with exactly one line naming the
 * file and the line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "testutil.h"

static const char *write_conf(const char *name, const char *text)
{
	const char *path = test_path(name);

	test_write_file(path, text, strlen(text));
	chmod(path, 0600);
	return path;
}

static void test_example(void)
{
	struct config c;
	char path[1024];
	const char *src = getenv("PULSE_SRC");

	snprintf(path, sizeof(path), "%s/dist/pulse-radio.conf",
	         src ? src : ".");
	CHECKF(cfg_load(&c, path) == 0, "%s does not load", path);
	CHECK(c.n_out == 2);
	CHECK(strcmp(c.out[0].name, "main") == 0);
	CHECK(c.out[0].bitrate_kbps == 128 && c.out[0].channels == 0);
	CHECK(strcmp(c.out[1].name, "lowdata") == 0);
	CHECK(c.out[1].channels == 1 && c.out[1].bitrate_kbps == 40);
	CHECK(strcmp(c.database, "/var/lib/pulse-radio/pulse.db") == 0);
	CHECK(strcmp(c.http_bind, "127.0.0.1:8080") == 0);
	CHECK(c.fmt.rate == 44100 && c.fmt.channels == 2);
}

static void test_full(void)
{
	struct config c, d;
	const char *path = write_conf(
	    "full.conf", "# a comment\n"
	                 "[station]\n"
	                 "name = City Radio\n"
	                 "description = News and music ; an inline comment\n"
	                 "database = /srv/radio/radio.db\n"
	                 "music_dir = /srv/music\n"
	                 "jingle_dir = /srv/jingles\n"
	                 "drop_dir = /srv/drop\n"
	                 "timezone = Africa/Johannesburg\n"
	                 "[audio]\n"
	                 "rate = 48000\n"
	                 "channels = 1\n"
	                 "[output archive]\n"
	                 "url = file:/srv/archive.ogg\n"
	                 "quality = 0.6\n"
	                 "[output air]\n"
	                 "url = icecast://source@127.0.0.1:8000/air.ogg\n"
	                 "password_env = AIR_PASSWORD\n"
	                 "channels = 2\n"
	                 "[http]\n"
	                 "bind = 127.0.0.1:9090\n"
	                 "token_file = /etc/pulse-radio/tokens\n"
	                 "[log]\n"
	                 "level = debug\n");

	CHECK(cfg_load(&c, path) == 0);
	CHECK(strcmp(c.name, "City Radio") == 0);
	CHECKF(strcmp(c.description, "News and music") == 0, "'%s'",
	       c.description);
	CHECK(strcmp(c.database, "/srv/radio/radio.db") == 0);
	CHECK(strcmp(c.music_dir, "/srv/music") == 0);
	CHECK(strcmp(c.jingle_dir, "/srv/jingles") == 0);
	CHECK(strcmp(c.drop_dir, "/srv/drop") == 0);
	CHECK(strcmp(c.timezone, "Africa/Johannesburg") == 0);
	CHECK(c.fmt.rate == 48000 && c.fmt.channels == 1);
	CHECK(c.n_out == 2);
	CHECK(strcmp(c.out[0].url, "file:/srv/archive.ogg") == 0);
	CHECK(c.out[0].quality > 0.59f && c.out[0].quality < 0.61f);
	CHECK(strcmp(c.out[1].password_env, "AIR_PASSWORD") == 0);
	CHECK(c.out[1].channels == 2 && c.out[1].quality > 0.39f);
	CHECK(strcmp(c.http_bind, "127.0.0.1:9090") == 0);
	CHECK(c.level == LOG_LEVEL_DEBUG);
	CHECK(!c.world_readable);
	/* The same file again: the same outputs; one change: not. */
	CHECK(cfg_load(&d, path) == 0 && cfg_same_outputs(&c, &d));
	d.out[1].channels = 1;
	CHECK(!cfg_same_outputs(&c, &d));
	chmod(path, 0644);
	CHECK(cfg_load(&d, path) == 0 && d.world_readable);
}

/* Each bad file: refused, one line, naming the file:line and the why. */
static void test_refused(void)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"[output a]\nurl = null:\n[station]\nvolume = 11\n",
	     ":4: unknown key 'volume' in [station]"},
	    {"[output a]\nurl = null:\n[studio]\nx = 1\n",
	     ":4: unknown section [studio]"},
	    {"[output a]\nurl = null:\njust words\n",
	     ":3: not 'key = value' nor [section]"},
	    {"[audio]\nrate = 22050\n[output a]\nurl = null:\n",
	     ":2: rate: '22050' is not 44100 or 48000"},
	    {"[audio]\nchannels = 3\n[output a]\nurl = null:\n",
	     ":2: channels: '3' is not 1 or 2"},
	    {"[output a]\nurl = ftp://x/y\n",
	     ":2: url: not icecast://USER@HOST:PORT/MOUNT"},
	    {"[output a]\nurl = null:\nquality = 2\n",
	     ":3: quality: '2' is not -0.1..1.0"},
	    {"[output a]\nurl = null:\nbitrate = 8\n",
	     ":3: bitrate: '8' is not 16..500"},
	    {"[output a]\nurl = null:\n[output a]\nurl = null:\n",
	     ":4: [output a]: a second url"},
	    {"[output a]\nurl = null:\n[output b]\nurl = null:\n"
	     "[output a]\nurl = null:\n",
	     ":6: [output a]: a second output named 'a'"},
	    {"[output]\nurl = null:\n", ":2: [output]: give each output"},
	    {"[output a]\nurl = null:\npassword_file = relative\n",
	     ":3: password_file: 'relative' must be an absolute path"},
	    {"[output a]\nurl = null:\n[station]\nmusic_dir = music\n",
	     ":4: music_dir: 'music' must be an absolute path"},
	    /* Found by fuzz_config: accepted, then refused by the store. */
	    {"[output a]\nurl = null:\n[station]\ndatabase =\n",
	     ":4: database: empty"},
	    {"[output a]\nurl = null:\n[http]\nbind = localhost\n",
	     ":4: bind: 'localhost' is not HOST:PORT"},
	    {"[output a]\nurl = null:\n[log]\nlevel = loud\n",
	     ":4: level: 'loud' is not error, warn, info or debug"},
	    {"[station]\nname = x\n", ": no [output NAME] section"},
	    {"[output a]\nquality = 0.5\n", ": [output a] has no url"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct config c;
		const char *path = write_conf("bad.conf", bad[i].text);
		const char *log;
		int rc;

		test_capture_begin();
		rc = cfg_load(&c, path);
		log = test_capture_end();
		CHECKF(rc < 0, "case %zu accepted", i);
		CHECKF(test_count_lines(log) == 1, "case %zu: %d lines", i,
		       test_count_lines(log));
		CHECKF(strstr(log, path) && strstr(log, bad[i].want),
		       "case %zu: '%s' lacks '%s'", i, log, bad[i].want);
	}
	{
		struct config c;
		const char *log;

		test_capture_begin();
		CHECK(cfg_load(&c, test_path("missing.conf")) < 0);
		log = test_capture_end();
		CHECK(strstr(log, "No such file") != NULL);
	}
}

int main(void)
{
	test_example();
	test_full();
	test_refused();
	return test_done();
}
