/*
 * srctest.c - fixtures and measurements shared by the source tests.
 */
#include "srctest.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "source.h"
#include "testutil.h"
/* tmpdir/name, kept for the whole run: test_path() reuses its buffers. */
static char *fixtures[64];
static size_t nfixtures;

const char *fixture(const char *name)
{
	const char *path = test_path(name);

	for (size_t i = 0; i < nfixtures; i++)
		if (strcmp(fixtures[i], path) == 0)
			return fixtures[i];
	if (nfixtures == sizeof(fixtures) / sizeof(*fixtures)) {
		fprintf(stderr, "too many fixtures\n");
		exit(2);
	}
	fixtures[nfixtures] = strdup(path);
	return fixtures[nfixtures++];
}

/* ---- reading and measuring ---- */

/* Reads src to its end, chunk frames at a time. */
void read_all(struct source *src, unsigned channels, size_t chunk,
              struct pcm *out)
{
	size_t cap = 1 << 16;

	out->f = malloc(cap * channels * sizeof(float));
	out->frames = 0;
	out->channels = channels;
	for (;;) {
		long r;

		if (out->frames + chunk > cap) {
			cap = 2 * (out->frames + chunk);
			out->f =
			    realloc(out->f, cap * channels * sizeof(float));
		}
		r = source_read(src, out->f + out->frames * channels, chunk);
		if (r <= 0) {
			out->rc = r;
			break;
		}
		CHECKF((size_t)r <= chunk, "read %ld of %zu", r, chunk);
		out->frames += (size_t)r;
	}
}

/* RMS of one channel over the middle 80 % (away from edge effects). */
double rms(const struct pcm *p, unsigned c)
{
	size_t from = p->frames / 10, to = p->frames - p->frames / 10;
	double sum = 0;

	if (to <= from)
		return 0;
	for (size_t i = from; i < to; i++) {
		double v = p->f[i * p->channels + c];

		sum += v * v;
	}
	return sqrt(sum / (double)(to - from));
}

double peak(const struct pcm *p)
{
	double m = 0;

	for (size_t i = 0; i < p->frames * p->channels; i++)
		if (fabs((double)p->f[i]) > m)
			m = fabs((double)p->f[i]);
	return m;
}

bool channels_equal(const struct pcm *p)
{
	if (p->channels != 2)
		return false;
	for (size_t i = 0; i < p->frames; i++)
		if (p->f[2 * i] != p->f[2 * i + 1])
			return false;
	return true;
}

bool near(double v, double want, double rel)
{
	return fabs(v - want) <= rel * want;
}

/* Opens path at rate/channels and reads it all; the open's code. */
int decode_file(const char *path, unsigned rate, unsigned channels,
                struct pcm *out, struct source **keep)
{
	struct pcm_format fmt = {rate, channels};
	struct source *src;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = source_open(&src, path, &fmt);
	if (rc < 0)
		return rc;
	read_all(src, channels, 4096, out);
	if (keep)
		*keep = src;
	else
		source_close(src);
	return 0;
}

long expect_frames(size_t in, unsigned in_rate, unsigned out_rate)
{
	return lround((double)in * out_rate / in_rate);
}

/* ---- stderr capture: one log line per failure ---- */

void capture_begin(void)
{
	test_capture_begin();
}

/* Ends the capture; the lines written, text (if any) in buf. */
int capture_end(char *buf, size_t len)
{
	const char *log = test_capture_end();

	snprintf(buf, len, "%s", log);
	return test_count_lines(log);
}

/* Opens path expecting failure code want and exactly one log line. */
void expect_refused(const char *path, int want, const char *what)
{
	struct pcm_format fmt = {44100, 2};
	struct source *src = NULL;
	char log[2048];
	int rc, lines;

	capture_begin();
	rc = source_open(&src, path, &fmt);
	lines = capture_end(log, sizeof(log));
	CHECKF(rc == want, "%s: rc %d (%s), want %d", what, rc, err_str(rc),
	       want);
	CHECKF(src == NULL, "%s: source set on failure", what);
	CHECKF(lines == 1, "%s: %d log lines: %s", what, lines, log);
	CHECKF(strstr(log, path) != NULL, "%s: log names no path: %s", what,
	       log);
	source_close(src);
}

/* ---- WAV writer with every knob the tests need ---- */

void put(struct buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		b->cap = 2 * (b->len + len) + 64;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

void put_le(struct buf *b, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++) {
		unsigned char c = (unsigned char)(v >> (8 * i));

		put(b, &c, 1);
	}
}

void put_le32_at(struct buf *b, size_t at, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		b->p[at + i] = (unsigned char)(v >> (8 * i));
}

void put_sample(struct buf *b, const struct wav_spec *w, double v)
{
	bool is_float = w->tag == 3 || (w->tag == 0xfffe && w->sub == 3);

	if (is_float && w->bytes == 4) {
		float f = (float)v;
		uint32_t u;

		memcpy(&u, &f, 4);
		put_le(b, u, 4);
	} else if (is_float) {
		uint64_t u;

		memcpy(&u, &v, 8);
		put_le(b, u, 8);
	} else if (w->bytes == 1) {
		put_le(b, (uint64_t)(128 + lround(v * 127)), 1);
	} else {
		double full = ldexp(1.0, 8 * (int)w->bytes - 1) - 1;

		put_le(b, (uint64_t)llround(v * full), w->bytes);
	}
}

void put_list(struct buf *b, const struct wav_spec *w)
{
	size_t at;

	put(b, "LIST", 4);
	at = b->len;
	put_le(b, 0, 4);
	put(b, "INFO", 4);
	if (w->title) {
		size_t n = strlen(w->title) + 1;

		put(b, "INAM", 4);
		put_le(b, n, 4);
		put(b, w->title, n);
		if (n & 1)
			put(b, "", 1);
	}
	if (w->artist) {
		size_t n = strlen(w->artist) + 1;

		put(b, "IART", 4);
		put_le(b, n, 4);
		put(b, w->artist, n);
		if (n & 1)
			put(b, "", 1);
	}
	put_le32_at(b, at, (uint32_t)(b->len - at - 4));
}

/* A 1 kHz sine of amplitude 0.5 in every channel; its frame count. */
size_t write_wav(const char *path, const struct wav_spec *w)
{
	struct buf b = {0};
	size_t frames = (size_t)lround(w->seconds * w->rate), data_at;
	unsigned align = w->channels * w->bytes;
	uint32_t seed = 1;

	put(&b, "RIFF", 4);
	put_le(&b, 0, 4);
	put(&b, "WAVEfmt ", 8);
	put_le(&b, w->tag == 0xfffe ? 40 : 16, 4);
	put_le(&b, w->tag, 2);
	put_le(&b, w->channels, 2);
	put_le(&b, w->rate, 4);
	put_le(&b, (uint64_t)w->rate * align, 4);
	put_le(&b, align, 2);
	put_le(&b, w->bits, 2);
	if (w->tag == 0xfffe) {
		static const unsigned char tail[14] = {
		    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
		    0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71};

		put_le(&b, 22, 2);
		put_le(&b, w->bits, 2);
		put_le(&b, w->mask, 4);
		put_le(&b, w->sub, 2);
		put(&b, tail, sizeof(tail));
	}
	if (w->junk) {
		put(&b, "junk", 4);
		put_le(&b, 13, 4);
		put(&b, "thirteen byte", 13);
		put(&b, "", 1); /* the pad byte */
	}
	if ((w->title || w->artist) && !w->list_after)
		put_list(&b, w);
	put(&b, "data", 4);
	put_le(&b, w->lie ? w->data_len : frames * align, 4);
	data_at = b.len;
	for (size_t i = 0; i < frames; i++) {
		double v = 0.5 * sin(2 * M_PI * 1000.0 * (double)i / w->rate);

		if (w->noise) {
			seed = seed * 1664525u + 1013904223u;
			v = 0.8 * v +
			    0.2 * ((double)(seed >> 8) / 8388608.0 - 1);
		}

		for (unsigned c = 0; c < w->channels; c++)
			put_sample(&b, w, v);
	}
	if ((b.len - data_at) & 1)
		put(&b, "", 1);
	if ((w->title || w->artist) && w->list_after)
		put_list(&b, w);
	put_le32_at(&b, 4, (uint32_t)(b.len - 8));
	test_write_file(path, b.p, b.len);
	free(b.p);
	return frames;
}

struct wav_spec pcm16(unsigned rate, unsigned channels, double seconds)
{
	struct wav_spec w = {.tag = 1,
	                     .bits = 16,
	                     .bytes = 2,
	                     .channels = channels,
	                     .rate = rate,
	                     .seconds = seconds};

	return w;
}

/* ---- the resampler alone ---- */

void srctest_free(void)
{
	for (size_t i = 0; i < nfixtures; i++)
		free(fixtures[i]);
	nfixtures = 0;
}
