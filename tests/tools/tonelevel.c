/*
 * tonelevel.c - the level of given tones over time in an Ogg/Vorbis file
 * (all its chained links as one timeline), for the sound tests.
 *
 * Usage: tonelevel FILE.ogg WINDOW_MS FREQ_HZ...
 *
 * Channels are averaged, then cut into windows of WINDOW_MS; for each
 * window one line:
 *     START_S RMS_DB MAXSTEP PEAK L1_DB L2_DB ...
 * RMS_DB is the window's RMS in dBFS, MAXSTEP the largest difference
 * between two neighbouring samples (a click shows as a jump), PEAK the
 * largest absolute sample of any channel, and Ln_DB the amplitude of the
 * n-th tone in dBFS (a Goertzel filter; choose tones with a whole number
 * of cycles per window, so they do not leak into each other). Exit 1 if
 * the file cannot be decoded.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <vorbis/vorbisfile.h>

#define MAX_TONES 8

static double db(double v)
{
	return 20 * log10(v > 1e-9 ? v : 1e-9);
}

int main(int argc, char **argv)
{
	OggVorbis_File vf;
	double freq[MAX_TONES], *win = NULL, prev = 0, peak = 0, t = 0;
	size_t n = 0, len = 0;
	unsigned rate = 0;
	int ntones = argc - 3, bitstream;

	if (argc < 4 || ntones > MAX_TONES || atof(argv[2]) <= 0) {
		fprintf(stderr,
		        "usage: tonelevel FILE.ogg WINDOW_MS FREQ...\n");
		return 2;
	}
	for (int i = 0; i < ntones; i++)
		freq[i] = atof(argv[3 + i]);
	if (ov_fopen(argv[1], &vf) < 0) {
		fprintf(stderr, "tonelevel: %s: not Ogg/Vorbis\n", argv[1]);
		return 1;
	}
	for (;;) {
		float **pcm;
		long got = ov_read_float(&vf, &pcm, 4096, &bitstream);
		vorbis_info *vi = ov_info(&vf, -1);

		if (got == OV_HOLE)
			continue;
		if (got <= 0)
			break;
		if (!win) {
			rate = (unsigned)vi->rate;
			len = (size_t)(atof(argv[2]) * rate / 1000);
			win = malloc(len * sizeof(*win));
			if (!win || !len)
				return 1;
		}
		for (long i = 0; i < got; i++) {
			double v = 0;

			for (int c = 0; c < vi->channels; c++) {
				double x = pcm[c][i];

				v += x;
				if (fabs(x) > peak)
					peak = fabs(x);
			}
			win[n++] = v / vi->channels;
			if (n < len)
				continue;
			double sum = 0, step = 0;

			for (size_t k = 0; k < len; k++) {
				double d = win[k] - (k ? win[k - 1] : prev);

				sum += win[k] * win[k];
				if (fabs(d) > step)
					step = fabs(d);
			}
			printf("%.3f %.2f %.4f %.4f", t, db(sqrt(sum / len)),
			       step, peak);
			for (int f = 0; f < ntones; f++) {
				double w = 2 * M_PI * freq[f] / rate;
				double c = 2 * cos(w), s0, s1 = 0, s2 = 0;

				for (size_t k = 0; k < len; k++) {
					s0 = win[k] + c * s1 - s2;
					s2 = s1;
					s1 = s0;
				}
				/* |X| = A * N / 2 for a whole-cycle sine. */
				printf(" %.2f", db(2 *
				                   sqrt(s1 * s1 + s2 * s2 -
				                        c * s1 * s2) /
				                   len));
			}
			printf("\n");
			prev = win[len - 1];
			t += (double)len / rate;
			n = 0;
			peak = 0;
		}
	}
	ov_clear(&vf);
	free(win);
	return win ? 0 : 1;
}
