/*
 * output.h - where the station's audio goes: an Icecast mount or a file.
 *
 * Each output owns its encoder, so a reconnecting Icecast mount can start
 * a fresh logical bitstream without disturbing a file output beside it.
 * out_write() never blocks: a mount that is away just drops the audio
 * while it reconnects with backoff, so the programme keeps its time.
 */
#ifndef OUTPUT_H
#define OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "pcm.h"

struct output;

struct out_options {
	struct pcm_format fmt;
	float quality;         /* Vorbis quality, -0.1 .. 1.0 */
	unsigned bitrate_kbps; /* nominal bitrate instead, or 0 */
	/* Icecast password when the URL carries none (from --password-file
	 * or the environment); may be NULL. */
	const char *password;
	/* Stream information for Icecast; each may be NULL. */
	const char *name;
	const char *genre;
	const char *description;
	const char *url;
};

/*
 * Opens an output from its spec:
 *   icecast://USER:PASSWORD@HOST:PORT/MOUNT  (user and password optional)
 *   file:PATH.ogg
 * For Icecast the first connection is tried at once: a wrong password
 * (-ERR_AUTH) or an unknown host (-ERR_HOST) fails here, logged once; a
 * server that is not up yet is retried in the background.
 */
int out_open(struct output **out, const char *spec,
             const struct out_options *opt);

/* Ends the current item's logical bitstream and begins the next with
 * these tags. */
int out_begin_item(struct output *o, const char *title, const char *artist);

/* Encodes and sends n frames of the station format. Never blocks. 0, or a
 * negative code when the output has failed for good (logged once). */
int out_write(struct output *o, const float *frames, size_t n);

/* Whether audio written now reaches its destination. */
bool out_connected(const struct output *o);

/* "icecast://host:port/mount" or "file:path" (no password). */
const char *out_name(const struct output *o);

/* Ends the stream cleanly, closes and frees; accepts NULL. */
int out_close(struct output *o);

#endif
