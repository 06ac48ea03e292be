/*
 * source.h - an audio file, decoded and converted to the station format.
 *
 * The format is sniffed from the file's first bytes, never trusted from its
 * name: a PNG named .mp3 is refused, not decoded into noise. Whatever the
 * file's rate and channel count, source_read() delivers the station format
 * (float, interleaved, fmt->rate, fmt->channels) through the resampler;
 * mono is upmixed, stereo downmixed for a mono station.
 */
#ifndef SOURCE_H
#define SOURCE_H

#include <stddef.h>

#include "pcm.h"

struct source;

#define SOURCE_TAG_MAX 256

/*
 * Opens path for reading in format fmt. 0 on success with *out set; on
 * failure a negative code (-ENOENT, -ERR_FORMAT, -ERR_UNSUPPORTED, ...)
 * after one log line naming the path and the reason.
 */
int source_open(struct source **out, const char *path,
                const struct pcm_format *fmt);

/*
 * Fills up to n frames of the station format. Returns the count, 0 at the
 * end, or a negative code when the file fails part-way (logged once; the
 * frames before the failure were delivered). A file rewritten or
 * truncated since it was opened (another size or modification time)
 * fails so, -ERR_FORMAT, before anything of its new content is read; one
 * deleted or renamed over plays on to its end.
 */
long source_read(struct source *src, float *frames, size_t n);

/*
 * Moves to frame `frame` of the file in the station format (frame 0 = the
 * file's first frame, as source_read() delivers it from a fresh open), so
 * that the next source_read() delivers exactly what a straight read would
 * have delivered from that frame on; the end itself is a valid position,
 * and a source that reached its end may seek back. 0; -ERR_UNSUPPORTED
 * (not logged) when the file's native rate differs from the station's (a
 * resampled source cannot seek exactly) or its decoder cannot seek;
 * -ERR_EMPTY (not logged) when frame is past the end, and the source then
 * reads as ended; or a negative code (logged once) when the file fails,
 * -ERR_FORMAT if it changed on disk as for source_read(). After a failure
 * the source is at an undefined position: the caller closes it. After a
 * failed source_read() this returns that failure again.
 */
int source_seek(struct source *src, unsigned long long frame);

/* Tags from the file (ID3, Vorbis comments, WAV LIST/INFO); "" if none.
 * The album is ID3 TALB, Vorbis ALBUM, or WAV IPRD. */
const char *source_title(const struct source *src);
const char *source_artist(const struct source *src);
const char *source_album(const struct source *src);
/* "mp3", "vorbis" or "wav". */
const char *source_type(const struct source *src);
/* The file's own rate and channel count, before conversion. */
unsigned source_native_rate(const struct source *src);
unsigned source_native_channels(const struct source *src);

/* The file as it was opened: its size and modification time (ns), what
 * a cached encoding of it is keyed on. 0, or -ERR_INVALID for NULL. */
int source_file_id(const struct source *src, long long *size,
                   long long *mtime_ns);
/* Closes and frees; accepts NULL. */
void source_close(struct source *src);

#endif
