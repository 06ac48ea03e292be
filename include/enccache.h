/*
 * enccache.h - music tracks kept encoded once, as Ogg/Vorbis, for passing
 * their clean middle through on air without decoding and encoding again.
 *
 * The one thing to know: a cached file is one Vorbis link of exactly the
 * track's frames, frame i being the station's frame i of the track (level
 * applied, limited, latency compensated). A link made of the three header
 * packets and audio packets k, k+1, ... decodes, from its first sample, to
 * the frames from packet k's `end` on, bit for bit as the whole file does.
 */
#ifndef ENCCACHE_H
#define ENCCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include <ogg/ogg.h>

#include "pcm.h"

/* What a cached encoding depends on: any change gives another key. */
struct enccache_spec {
	const char *path; /* the music file */
	long long size;   /* its st_size and st_mtim (ns) when encoded */
	long long mtime_ns;
	float level;           /* linear gain the player applies to it */
	struct pcm_format fmt; /* the station's rate and channels */
	unsigned enc_channels; /* channels encoded (0: fmt's) */
	float quality;         /* Vorbis quality, used when bitrate_kbps is 0 */
	unsigned bitrate_kbps;
	/* The station limiter: given to limiter_new() as is, so the caller
	 * passes what the player gives it (its ceiling less the codec
	 * margin). */
	bool limiter;
	double ceiling_dbtp;
	int64_t dead_air_ms; /* 0: no dead-air rule */
	double dead_air_db;
};

/* Shorter tracks are not worth a file of their own. */
#define ENCCACHE_MIN_MS 20000

#define ENCCACHE_KEY_LEN 32
/*
 * A hex key of ENCCACHE_KEY_LEN chars + NUL from every field of spec (the
 * path string, numbers; floats by their exact bits), stable across runs
 * and machines. Fields that cannot change the file count as their
 * defaults: enc_channels 0 is fmt.channels, quality is ignored with a
 * bitrate, ceiling_dbtp without the limiter, dead_air_db without the rule.
 */
void enccache_key(const struct enccache_spec *spec,
                  char key[ENCCACHE_KEY_LEN + 1]);

/*
 * Encodes spec->path into DIR/KEY.ogg (KEY from enccache_key()): decoded
 * to spec->fmt, times level, through the limiter with its latency
 * compensated (the output is exactly as long as the input, frame for
 * frame), then encoded as one logical bitstream. Written to a temporary
 * file in DIR (.KEY.ogg.XXXXXX), fsync'ed and renamed into place only when
 * complete, so no reader sees a partial file; a crash may leave the
 * temporary file, never a partial KEY.ogg.
 *
 * *stop (may be NULL) is checked every block: when set, the work is
 * abandoned and -EINTR returned (not logged).
 *
 * Returns 0, built; 1, not worth caching, nothing logged: shorter than
 * ENCCACHE_MIN_MS, or a run of dead air (peak of the levelled audio below
 * dead_air_db for dead_air_ms or more, which the player must see live to
 * skip), or the file's size or mtime is not spec's, before or after
 * (changed: the source may have logged that it did); < 0 an error after
 * one log line naming the file (-ERR_FORMAT a corrupt file, -ENOSPC a full
 * disk, -EACCES, ...). Every outcome but 0 leaves no file behind.
 */
int enccache_build(const char *dir, const struct enccache_spec *spec,
                   const volatile int *stop);

struct enccache; /* an open cached encoding, read sequentially */

struct enccache_packet {
	const unsigned char *data; /* valid until the next call on the cache */
	long len;
	/* Station frame (of the file, from 0) where this packet's decoded
	 * output ends: a link that starts with this packet begins there. At
	 * most enccache_frames(). */
	unsigned long long end;
};

/*
 * Opens DIR/KEY.ogg and reads its three header packets. 0 with *out set;
 * -ENOENT when there is none (not logged); -ERR_FORMAT (one log line) when
 * it is not a complete single-link Ogg/Vorbis file; another -errno (one
 * line) when it cannot be read; -ENOMEM.
 */
int enccache_open(struct enccache **out, const char *dir, const char *key);

/* The header packets, i = 0 (identification), 1 (comment), 2 (setup). */
const ogg_packet *enccache_header(const struct enccache *c, int i);

/* Its rate and channels, from the identification header. */
struct pcm_format enccache_format(const struct enccache *c);

/* Frames of audio in it (the last page's granule position). */
unsigned long long enccache_frames(const struct enccache *c);

/*
 * Positions the cache so that the next enccache_next() returns the first
 * audio packet whose `end` is >= frame: a link starting with it begins at
 * the earliest packet boundary at or after frame. Reads forward from where
 * it is; going back rewinds to the first audio page. 0; -ERR_EMPTY if no
 * packet ends there or later; < 0 on a read error (logged once).
 */
int enccache_seek(struct enccache *c, unsigned long long frame);

/* The next audio packet: 0 with *pkt set; 1 after the last; < 0 on a read
 * error or a damaged file (logged once per cache). */
int enccache_next(struct enccache *c, struct enccache_packet *pkt);

void enccache_close(struct enccache *c); /* accepts NULL */

#endif
