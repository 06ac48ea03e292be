/*
 * srctest.h - fixtures and measurements shared by the source tests
 * (test_source.c, test_source_wav.c, test_resample.c).
 *
 * A WAV writer with every knob the tests need, decoding a whole file to
 * memory, RMS and peak, and stderr capture to count log lines.
 */
#ifndef SRCTEST_H
#define SRCTEST_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct source;

/* RMS of a sine of amplitude 0.5. */
#define SINE_RMS (0.5 / sqrt(2.0))

struct pcm {
	float *f;
	size_t frames;
	unsigned channels;
	long rc; /* the read that ended it: 0 or negative */
};

struct buf {
	unsigned char *p;
	size_t len, cap;
};

struct wav_spec {
	unsigned tag;   /* 1 PCM, 3 float, 0xfffe extensible */
	unsigned sub;   /* the subformat of extensible */
	unsigned bits;  /* bits per sample as written in the header */
	unsigned bytes; /* container bytes per sample */
	unsigned channels, rate;
	double seconds;
	uint32_t mask; /* extensible channel mask */
	const char *title, *artist;
	bool list_after; /* LIST INFO after the data, not before */
	bool junk;       /* an odd-sized unknown chunk before the data */
	bool lie;        /* write data_len instead of the true size */
	uint32_t data_len;
	bool noise; /* add noise: real music's page sizes, not a sine's */
};

const char *fixture(const char *name);
void read_all(struct source *src, unsigned channels, size_t chunk,
              struct pcm *out);
double rms(const struct pcm *p, unsigned c);
double peak(const struct pcm *p);
bool channels_equal(const struct pcm *p);
bool near(double v, double want, double rel);
int decode_file(const char *path, unsigned rate, unsigned channels,
                struct pcm *out, struct source **keep);
long expect_frames(size_t in, unsigned in_rate, unsigned out_rate);
void capture_begin(void);
int capture_end(char *buf, size_t len);
void expect_refused(const char *path, int want, const char *what);
void put(struct buf *b, const void *data, size_t len);
void put_le(struct buf *b, uint64_t v, unsigned bytes);
void put_le32_at(struct buf *b, size_t at, uint32_t v);
void put_sample(struct buf *b, const struct wav_spec *w, double v);
void put_list(struct buf *b, const struct wav_spec *w);
size_t write_wav(const char *path, const struct wav_spec *w);
struct wav_spec pcm16(unsigned rate, unsigned channels, double seconds);
/* Frees what fixture() kept. */
void srctest_free(void);

#endif
