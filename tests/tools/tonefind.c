/*
 * tonefind.c - where a tone and where sound are in an Ogg/Vorbis file
 * (all its chained links, as one timeline), for the tests.
 *
 * Usage: tonefind FILE.ogg FREQ_HZ
 *
 * Prints one line per stretch of at least 200 ms in which FREQ_HZ (a
 * Goertzel filter over 50 ms windows, all channels mixed) holds more than
 * half the window's energy:
 *     tone START_S END_S
 * and one line per stretch of sound (window RMS above -45 dBFS, gaps
 * under 300 ms bridged):
 *     sound START_S END_S
 * then "total_s SECONDS". Exit 1 if the file cannot be decoded.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <vorbis/vorbisfile.h>

#define WINDOW_S 0.05
#define MIN_TONE_S 0.2
#define GAP_S 0.3
#define SOUND_DB -45.0

struct run {
	const char *name;
	bool on;
	double start, end, last_on;
	double bridge; /* gaps shorter than this join two stretches */
	double min_len;
};

static void run_step(struct run *r, bool on, double t)
{
	if (on) {
		if (!r->on) {
			if (r->end >= 0 && t - r->end < r->bridge) {
				r->on = true; /* bridge the gap */
			} else {
				if (r->end >= 0 &&
				    r->end - r->start >= r->min_len)
					printf("%s %.3f %.3f\n", r->name,
					       r->start, r->end);
				r->start = t;
				r->on = true;
			}
		}
		r->last_on = t + WINDOW_S;
	} else if (r->on) {
		r->on = false;
		r->end = r->last_on;
	}
}

static void run_end(struct run *r)
{
	if (r->on)
		r->end = r->last_on;
	if (r->end >= 0 && r->end - r->start >= r->min_len)
		printf("%s %.3f %.3f\n", r->name, r->start, r->end);
}

int main(int argc, char **argv)
{
	struct run tone = {"tone", false, 0, -1, 0, 0.1, MIN_TONE_S};
	struct run sound = {"sound", false, 0, -1, 0, GAP_S, 0.1};
	double freq, t = 0, s1 = 0, s2 = 0, energy = 0;
	long rate = 0, n = 0, win = 0;
	OggVorbis_File vf;
	float **pcm;
	int link;

	if (argc != 3 || (freq = atof(argv[2])) <= 0) {
		fprintf(stderr, "usage: tonefind FILE.ogg FREQ_HZ\n");
		return 2;
	}
	if (ov_fopen(argv[1], &vf) < 0) {
		fprintf(stderr, "tonefind: %s: not Ogg/Vorbis\n", argv[1]);
		return 1;
	}
	for (;;) {
		long got = ov_read_float(&vf, &pcm, 4096, &link);
		vorbis_info *vi = ov_info(&vf, link);

		if (got == OV_HOLE)
			continue;
		if (got <= 0)
			break;
		if (vi->rate != rate) {
			rate = vi->rate;
			win = (long)(rate * WINDOW_S);
			n = 0;
			s1 = s2 = energy = 0;
		}
		for (long i = 0; i < got; i++) {
			double x = 0,
			       c = 2 * cos(2 * M_PI * freq / (double)rate), s0;

			for (int ch = 0; ch < vi->channels; ch++)
				x += (double)pcm[ch][i];
			x /= vi->channels;
			s0 = x + c * s1 - s2;
			s2 = s1;
			s1 = s0;
			energy += x * x;
			if (++n < win)
				continue;
			{
				double power = s1 * s1 + s2 * s2 - c * s1 * s2;
				/* A pure tone of this frequency gives power =
				 * energy * n / 2. */
				double share =
				    energy > 0
				        ? 2 * power / (energy * (double)n)
				        : 0;
				double rms = sqrt(energy / (double)n);

				run_step(&tone, share > 0.5 && rms > 1e-3, t);
				run_step(&sound, rms > pow(10, SOUND_DB / 20),
				         t);
			}
			t += (double)n / (double)rate;
			n = 0;
			s1 = s2 = energy = 0;
		}
	}
	run_end(&tone);
	run_end(&sound);
	printf("total_s %.3f\n", t);
	ov_clear(&vf);
	return 0;
}
