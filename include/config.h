/*
 * config.h - the daemon's configuration file, read once into a struct that
 * nothing changes afterwards (a reload reads a new one and swaps).
 *
 * INI, parsed with inih. Sections and keys (dist/pulse-radio.conf is the
 * commented example):
 *   [station]  name, description, genre, url, database, music_dir,
 *              jingle_dir, drop_dir, timezone
 *   [audio]    rate (44100 | 48000), channels (1 | 2)
 *   [output NAME]  one or more: url (icecast://USER@HOST:PORT/MOUNT,
 *              file:PATH.ogg or null:), password_file, password_env,
 *              quality (-0.1..1) or bitrate (kbps), channels (1 | 2)
 *   [http]     bind (HOST:PORT), token_file
 *   [log]      level (error | warn | info | debug)
 * An unknown section or key, a bad value, a repeated output name or no
 * output at all is refused with one line naming the file and line.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"
#include "pcm.h"

#define CFG_MAX_OUTPUTS 8
#define CFG_PATH_MAX 1024
#define CFG_TEXT_MAX 256

struct cfg_output {
	char name[64]; /* NAME of [output NAME] */
	char url[CFG_PATH_MAX];
	char password_file[CFG_PATH_MAX]; /* "" none */
	char password_env[64];            /* "" none */
	float quality;                    /* when bitrate_kbps is 0 */
	unsigned bitrate_kbps;
	unsigned channels; /* 0: the station's */
};

struct config {
	char path[CFG_PATH_MAX];
	/* [station] */
	char name[CFG_TEXT_MAX], description[CFG_TEXT_MAX];
	char genre[CFG_TEXT_MAX], url[CFG_TEXT_MAX];
	char database[CFG_PATH_MAX];
	char music_dir[CFG_PATH_MAX], jingle_dir[CFG_PATH_MAX];
	char drop_dir[CFG_PATH_MAX];
	/* Music encoded once, passed through on air (enccache.h); "": off. */
	char encoded_cache[CFG_PATH_MAX];
	char timezone[128]; /* "" : keep the database's */
	/* [audio] */
	struct pcm_format fmt;
	/* [output NAME] */
	struct cfg_output out[CFG_MAX_OUTPUTS];
	size_t n_out;
	/* [http] */
	char http_bind[128];
	char http_token_file[CFG_PATH_MAX];
	/* [log] */
	enum log_level level;
	/* Set by cfg_load: others may read the file. */
	bool world_readable;
};

/*
 * Reads path into *c (defaults first: 44100 Hz stereo, quality 0.4,
 * database pulse-radio.db, log level info). 0; or a negative code with
 * one line logged ("FILE:LINE: why"), *c then undefined.
 */
int cfg_load(struct config *c, const char *path);

/* Whether x and y are the same output (name, target, password source,
 * encoding). */
bool cfg_same_output(const struct cfg_output *x, const struct cfg_output *y);

/* Whether a and b have the same outputs (names, targets, encoding). */
bool cfg_same_outputs(const struct config *a, const struct config *b);

#endif
