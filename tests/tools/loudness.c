/*
 * loudness.c - the loudness of each link of a chained Ogg/Vorbis file, as
 * a listener's decoder gives it, measured with libebur128.
 *
 * Usage: loudness FILE.ogg
 *
 * Prints one line per link:
 *     link N lufs L peak_dbfs P seconds S title=TITLE
 * (L is -inf for silence). Exit 1 if the file cannot be decoded.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ebur128.h>
#include <vorbis/vorbisfile.h>

static void report(int link, ebur128_state *st, double peak, long frames,
                   long rate, const char *title)
{
	double lufs = -HUGE_VAL;

	ebur128_loudness_global(st, &lufs);
	printf("link %d lufs %.2f peak_dbfs %.2f seconds %.2f title=%s\n", link,
	       lufs, peak > 0 ? 20 * log10(peak) : -HUGE_VAL,
	       (double)frames / (double)rate, title);
}

static const char *title_of(OggVorbis_File *vf, int link, char *buf, size_t len)
{
	vorbis_comment *vc = ov_comment(vf, link);
	const char *t = vc ? vorbis_comment_query(vc, "TITLE", 0) : NULL;

	snprintf(buf, len, "%s", t ? t : "");
	return buf;
}

int main(int argc, char **argv)
{
	OggVorbis_File vf;
	ebur128_state *st = NULL;
	int cur = -1, link, channels = 0;
	long rate = 0, frames = 0;
	double peak = 0;
	char title[256] = "";
	float **pcm;

	if (argc != 2) {
		fprintf(stderr, "usage: loudness FILE.ogg\n");
		return 2;
	}
	if (ov_fopen(argv[1], &vf) < 0) {
		fprintf(stderr, "loudness: %s: not Ogg/Vorbis\n", argv[1]);
		return 1;
	}
	for (;;) {
		long got = ov_read_float(&vf, &pcm, 4096, &link);
		vorbis_info *vi;
		float *buf;

		if (got == OV_HOLE)
			continue;
		if (got <= 0)
			break;
		vi = ov_info(&vf, link);
		if (link != cur) {
			if (st) {
				report(cur, st, peak, frames, rate, title);
				ebur128_destroy(&st);
			}
			cur = link;
			rate = vi->rate;
			channels = vi->channels;
			st = ebur128_init((unsigned)channels,
			                  (unsigned long)rate, EBUR128_MODE_I);
			if (!st)
				return 1;
			peak = 0;
			frames = 0;
			title_of(&vf, link, title, sizeof(title));
		}
		buf = malloc((size_t)got * (size_t)channels * sizeof(*buf));
		if (!buf)
			return 1;
		for (long i = 0; i < got; i++)
			for (int c = 0; c < channels; c++) {
				float x = pcm[c][i];

				buf[i * channels + c] = x;
				if (fabs((double)x) > peak)
					peak = fabs((double)x);
			}
		ebur128_add_frames_float(st, buf, (size_t)got);
		free(buf);
		frames += got;
	}
	if (st) {
		report(cur, st, peak, frames, rate, title);
		ebur128_destroy(&st);
	}
	ov_clear(&vf);
	return 0;
}
