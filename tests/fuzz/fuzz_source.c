/*
 * fuzz_source.c - arbitrary bytes opened as an audio file and decoded to
 * the end, through source_open() and source_read() as the player does.
 *
 * Input: one option byte, then the file. The option byte's bits 0-1 pick
 * the station format (44100 or 48000 Hz, stereo or mono), so that the
 * resampler, downmix and upmix all run; bits 2-3 pick the decoder:
 * 0 the file as it is (sniffed, as in the daemon), 1 WAV, 2 Ogg/Vorbis,
 * 3 MP3, each by putting that format's magic in front of the bytes, so
 * that every decoder sees arbitrary data. The corpus keeps real files
 * with option 0.
 *
 * Checked: no crash or hang; an open either fails with a negative code
 * or gives a source whose type, native format and tags make sense; reads
 * never return more than asked, samples are finite, and after the end
 * (0) or a failure (< 0) there is nothing more. At most MAX_FRAMES are
 * read, so a decoder that never ends is cut off, not waited for.
 */
#include "source.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define READ_FRAMES 4096
/* About 24 s at 44.1 kHz: far more than a max_len input holds. */
#define MAX_FRAMES (1u << 20)

static const struct pcm_format formats[4] = {
    {44100, 2},
    {48000, 2},
    {44100, 1},
    {48000, 1},
};

/* The smallest start each decoder's probe claims. */
static const struct {
	const char *bytes;
	size_t len;
} magic[4] = {
    {"", 0},
    {"RIFF\xff\xff\xff\x7fWAVE", 12},
    {"OggS", 4},
    {"\xff\xfb\x90\x00", 4}, /* MPEG-1 layer III, 128 kbps, 44.1 kHz */
};

static void check_tag(const char *tag)
{
	size_t n = strnlen(tag, SOURCE_TAG_MAX);

	FUZZ_CHECK(n < SOURCE_TAG_MAX);
	FUZZ_CHECK(fuzz_utf8_valid(tag, n));
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)tag[i] >= 0x20 && tag[i] != 0x7f);
	FUZZ_CHECK(n == 0 || (tag[0] != ' ' && tag[n - 1] != ' '));
}

static void decode_all(struct source *src, const struct pcm_format *fmt)
{
	static float frames[READ_FRAMES * PCM_MAX_CHANNELS];
	size_t total = 0, n = 1;
	long r;

	while (total < MAX_FRAMES) {
		r = source_read(src, frames, n);
		FUZZ_CHECK(r <= (long)n);
		if (r <= 0)
			break;
		for (size_t i = 0; i < (size_t)r * fmt->channels; i++)
			FUZZ_CHECK(isfinite(frames[i]));
		total += (size_t)r;
		/* Odd sizes too: a read may stop anywhere in a block. */
		n = n * 7 % READ_FRAMES + 1;
	}
	if (total < MAX_FRAMES)
		FUZZ_CHECK(source_read(src, frames, READ_FRAMES) <= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct pcm_format *fmt;
	const char *path = fuzz_path("audio");
	struct source *src = (struct source *)path; /* must be reset */
	unsigned kind;
	uint8_t *file;
	const char *type;
	int rc;

	if (size < 1)
		return 0;
	fmt = &formats[data[0] & 3];
	kind = (data[0] >> 2) & 3;
	file = malloc(magic[kind].len + size - 1 + 1);
	if (!file)
		return 0;
	memcpy(file, magic[kind].bytes, magic[kind].len);
	memcpy(file + magic[kind].len, data + 1, size - 1);
	fuzz_write_file(path, file, magic[kind].len + size - 1);
	free(file);

	rc = source_open(&src, path, fmt);
	if (rc < 0) {
		FUZZ_CHECK(src == NULL);
		return 0;
	}
	FUZZ_CHECK(rc == 0 && src != NULL);
	type = source_type(src);
	FUZZ_CHECK(strcmp(type, "mp3") == 0 || strcmp(type, "vorbis") == 0 ||
	           strcmp(type, "wav") == 0);
	FUZZ_CHECK(source_native_rate(src) >= 8000 &&
	           source_native_rate(src) <= 192000);
	FUZZ_CHECK(source_native_channels(src) >= 1 &&
	           source_native_channels(src) <= 8);
	check_tag(source_title(src));
	check_tag(source_artist(src));
	check_tag(source_album(src));
	decode_all(src, fmt);
	source_close(src);
	return 0;
}
