/*
 * output.h - where the station's audio goes: an Icecast mount or a file.
 *
 * Each output owns its encoder, so a reconnecting Icecast mount can start
 * a fresh logical bitstream without disturbing a file output beside it.
 * out_write() never blocks: a mount that is away just drops the audio
 * while it reconnects with backoff, so the programme keeps its time.
 *
 * Icecast: libshout in non-blocking mode, plain HTTP. A lost or stalled
 * connection (once the socket buffers are full, more than 5 s of audio at
 * the nominal bitrate, or 256 KiB, queued in libshout) is retried after
 * 0.5 s, doubling to 3 s (so a server that returns is found within 3 s),
 * one log line per try; each new connection starts a new logical bitstream
 * with the current item's tags. SIGPIPE is
 * blocked around libshout's calls, so a server that goes away cannot kill
 * the program. Limits: a host name is resolved (by libshout,
 * synchronously) on every try, so name a LAN server by address; libshout's
 * socket is not close-on-exec.
 */
#ifndef OUTPUT_H
#define OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include <ogg/ogg.h>

#include "pcm.h"

struct enc_config;
struct output;

struct out_options {
	struct pcm_format fmt; /* the station's: what out_write() is given */
	/* Channels to encode (0: the station's): a mono mount from a
	 * stereo station is the average of the two. */
	unsigned channels;
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
 *   null:  (discards the audio unencoded: dry runs, benchmarks)
 * In an Icecast URL the user defaults to "source", the port to 8000, the
 * password to opt->password; user, password and mount may be %-escaped,
 * and an IPv6 host goes in brackets. A malformed spec is -ERR_USAGE.
 * For Icecast the first connection is tried at once, for up to 5 s: a
 * wrong password (-ERR_AUTH) or an unknown host (-ERR_HOST) fails here,
 * logged once; a server that is not up yet, or a mount still in use, is
 * retried in the background (0, with a warning). A file that cannot be
 * created is -errno. Every failure is logged once, never the password.
 */
int out_open(struct output **out, const char *spec,
             const struct out_options *opt);

/* Ends the current item's logical bitstream and begins the next with
 * these tags (NULL or "" for none; copied). A mount that is away gets
 * them when it is back. 0, or the output's negative code. */
int out_begin_item(struct output *o, const char *title, const char *artist);

/* Encodes and sends n frames of the station format. Never blocks. 0, or a
 * negative code when the output has failed for good (logged once). */
int out_write(struct output *o, const float *frames, size_t n);

/*
 * Passing through music encoded earlier with this output's settings
 * (enccache.h), instead of encoding: out_pass_begin() ends the encoded
 * logical bitstream; the pass link (ident and setup borrowed until
 * out_pass_end(), the current tags) opens with the first packet. Per
 * block, out_pass_ready() once (it polls the connection), then
 * out_pass_packet() for each packet (end being the file frame where its
 * decoded output ends), then out_flush(); out_pass_end() ends the link
 * exactly at file frame end (within the last packet's output). A
 * reconnect on the way starts a new pass link at the next packet.
 * out_write() and out_begin_item() are not used in between. 0, or a
 * negative code when the output failed for good.
 */
int out_pass_begin(struct output *o, const ogg_packet *ident,
                   const ogg_packet *setup);
int out_pass_ready(struct output *o);
int out_pass_packet(struct output *o, const unsigned char *data, long len,
                    unsigned long long end);
int out_pass_end(struct output *o, unsigned long long end);
/* Sends the pages queued since the last write: all of a block's go out in
 * one write. out_write() and out_close() do it themselves; pages made by
 * out_begin_item() and the out_pass_*() calls wait for it. 0, or a
 * negative code when the output failed for good. */
int out_flush(struct output *o);
/* The encoder settings: what a passed-through encoding must match. */
const struct enc_config *out_enc_config(const struct output *o);
/* Whether audio written now reaches its destination. */
bool out_connected(const struct output *o);

/* How many times it came back after a drop since the last call (0 for
 * outputs that cannot drop), and starts counting again. */
unsigned out_take_reconnects(struct output *o);

/* "icecast://host:port/mount" or "file:path" (no password). */
const char *out_name(const struct output *o);

/* Ends the stream cleanly (EOS page; an Icecast queue gets at most 1 s to
 * drain), closes and frees; accepts NULL. 0, or the negative code of a
 * failed final write. */
int out_close(struct output *o);

#endif
