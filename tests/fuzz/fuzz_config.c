/*
 * fuzz_config.c - the daemon's configuration file through cfg_load().
 *
 * Input: the file's bytes, written to a temp file per run (cfg_load reads
 * a path). Checked, as config.h promises: a file that loads has one to
 * CFG_MAX_OUTPUTS outputs, each named once and with a url of a known
 * kind, a station format of 44100 or 48000 Hz and 1 or 2 channels, values
 * in their ranges, and every string terminated inside its field.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"

#define TERMINATED(field) (memchr((field), '\0', sizeof(field)) != NULL)

static void check_output(const struct config *c, size_t i)
{
	const struct cfg_output *o = &c->out[i];

	FUZZ_CHECK(TERMINATED(o->name) && o->name[0] != '\0');
	FUZZ_CHECK(TERMINATED(o->url));
	FUZZ_CHECK(strncmp(o->url, "icecast://", 10) == 0 ||
	           strncmp(o->url, "file:", 5) == 0 ||
	           strcmp(o->url, "null:") == 0);
	FUZZ_CHECK(TERMINATED(o->password_file));
	FUZZ_CHECK(!o->password_file[0] || o->password_file[0] == '/');
	FUZZ_CHECK(TERMINATED(o->password_env));
	FUZZ_CHECK(o->quality >= -0.1f && o->quality <= 1.0f);
	FUZZ_CHECK(o->bitrate_kbps == 0 ||
	           (o->bitrate_kbps >= 16 && o->bitrate_kbps <= 500));
	FUZZ_CHECK(o->channels <= 2);
	for (size_t k = 0; k < i; k++)
		FUZZ_CHECK(strcmp(c->out[k].name, o->name) != 0);
	FUZZ_CHECK(cfg_same_output(o, o));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Static: ASan would map and fault in 20 KB for each input. */
	static struct config conf;
	struct config *c = &conf;
	const char *path = fuzz_path("pulse-radio.conf");

	fuzz_write_file(path, data, size);
	if (cfg_load(c, path) < 0)
		return 0; /* *c is undefined: nothing to check */
	FUZZ_CHECK(strcmp(c->path, path) == 0);
	FUZZ_CHECK(TERMINATED(c->name) && TERMINATED(c->description));
	FUZZ_CHECK(TERMINATED(c->genre) && TERMINATED(c->url));
	FUZZ_CHECK(TERMINATED(c->database) && c->database[0] != '\0');
	FUZZ_CHECK(TERMINATED(c->music_dir) && TERMINATED(c->jingle_dir));
	FUZZ_CHECK(TERMINATED(c->drop_dir) && TERMINATED(c->timezone));
	FUZZ_CHECK(TERMINATED(c->http_bind) && TERMINATED(c->http_token_file));
	FUZZ_CHECK(!c->music_dir[0] || c->music_dir[0] == '/');
	FUZZ_CHECK(!c->jingle_dir[0] || c->jingle_dir[0] == '/');
	FUZZ_CHECK(!c->drop_dir[0] || c->drop_dir[0] == '/');
	FUZZ_CHECK(!c->http_token_file[0] || c->http_token_file[0] == '/');
	FUZZ_CHECK(c->fmt.rate == 44100 || c->fmt.rate == 48000);
	FUZZ_CHECK(c->fmt.channels == 1 || c->fmt.channels == 2);
	FUZZ_CHECK((unsigned)c->level <= LOG_LEVEL_DEBUG);
	FUZZ_CHECK(c->n_out >= 1 && c->n_out <= CFG_MAX_OUTPUTS);
	for (size_t i = 0; i < c->n_out; i++)
		check_output(c, i);
	FUZZ_CHECK(cfg_same_outputs(c, c));
	return 0;
}
