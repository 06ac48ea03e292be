/*
 * oggcheck.c - what a listener would get from an Ogg/Vorbis file: decodes
 * every logical bitstream with libvorbisfile and prints, for each link,
 *
 *   link N rate R channels C frames F title=T artist=A
 *
 * then "total_frames F" and "peak P". Frames are counted by decoding, not
 * taken from granule positions, so a recording that starts mid-stream is
 * measured right. Exit 1 on a decode error.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <vorbis/vorbisfile.h>

static const char *comment(vorbis_comment *vc, const char *key)
{
	size_t n = strlen(key);

	for (int i = 0; vc && i < vc->comments; i++)
		if (strncasecmp(vc->user_comments[i], key, n) == 0 &&
		    vc->user_comments[i][n] == '=')
			return vc->user_comments[i] + n + 1;
	return "";
}

int main(int argc, char **argv)
{
	OggVorbis_File vf;
	long long link_frames = 0, total = 0;
	int cur = -1, section = 0, holes = 0;
	float peak = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: oggcheck FILE.ogg\n");
		return 2;
	}
	if (ov_fopen(argv[1], &vf) != 0) {
		fprintf(stderr, "oggcheck: %s: not Ogg/Vorbis\n", argv[1]);
		return 1;
	}
	for (;;) {
		float **pcm;
		long n = ov_read_float(&vf, &pcm, 4096, &section);

		if (n == OV_HOLE) {
			holes++;
			continue;
		}
		if (n < 0) {
			fprintf(stderr, "oggcheck: decode error %ld\n", n);
			ov_clear(&vf);
			return 1;
		}
		if (n == 0 || section != cur) {
			if (cur >= 0) {
				vorbis_info *vi = ov_info(&vf, cur);
				vorbis_comment *vc = ov_comment(&vf, cur);

				printf(
				    "link %d rate %ld channels %d frames %lld "
				    "title=%s artist=%s\n",
				    cur, vi ? vi->rate : 0L,
				    vi ? vi->channels : 0, link_frames,
				    comment(vc, "TITLE"),
				    comment(vc, "ARTIST"));
			}
			if (n == 0)
				break;
			cur = section;
			link_frames = 0;
		}
		for (int c = 0; c < ov_info(&vf, section)->channels; c++)
			for (long i = 0; i < n; i++)
				if (fabsf(pcm[c][i]) > peak)
					peak = fabsf(pcm[c][i]);
		link_frames += n;
		total += n;
	}
	printf("total_frames %lld\npeak %.4f\nholes %d\n", total, (double)peak,
	       holes);
	ov_clear(&vf);
	return 0;
}
