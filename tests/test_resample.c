/*
 * test_resample.c - the resampler alone: exact lengths, level kept, input
 * in odd pieces, bad rates refused.
 */
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
#include "resample.h"
#include "source.h"
#include "srctest.h"
#include "testutil.h"

static void test_resampler(void)
{
	static const unsigned pairs[][2] = {{22050, 44100}, {44100, 48000},
	                                    {48000, 44100}, {22050, 48000},
	                                    {8000, 48000},  {96000, 44100}};
	static const size_t in_chunks[] = {1, 17, 1000, 4096, 333};
	struct resampler *rs;
	float in[2 * 4096], out[2 * 777];
	size_t used;

	/* Equal rates: a plain copy. */
	CHECK(resample_new(&rs, 44100, 44100, 2) == 0);
	CHECK(resample_passthrough(rs));
	for (int i = 0; i < 20; i++)
		in[i] = (float)i;
	CHECK(resample_process(rs, in, 10, &used, out, 4) == 4 && used == 4);
	CHECK(memcmp(in, out, 8 * sizeof(float)) == 0);
	CHECK(resample_flush(rs, out, 4) == 0);
	resample_free(rs);
	resample_free(NULL);

	capture_begin();
	rs = (struct resampler *)&used;
	CHECK(resample_new(&rs, 0, 44100, 2) == -ERR_UNSUPPORTED);
	CHECK(rs == NULL);
	CHECK(resample_new(&rs, 44100, 48000, 0) == -ERR_UNSUPPORTED);
	{
		char log[512];

		CHECK(capture_end(log, sizeof(log)) == 2);
	}

	for (size_t k = 0; k < sizeof(pairs) / sizeof(*pairs); k++) {
		unsigned ir = pairs[k][0], orate = pairs[k][1];
		size_t total = ir + 123, fed = 0, produced = 0, ci = 0;
		float *all = malloc((size_t)(total * 2.0 * orate / ir + 1000) *
		                    sizeof(float));
		struct pcm p;
		long w;

		CHECK(resample_new(&rs, ir, orate, 1) == 0);
		CHECK(!resample_passthrough(rs));
		while (fed < total) {
			size_t n = in_chunks[ci++ % 5], off = 0;

			if (n > total - fed)
				n = total - fed;
			for (size_t i = 0; i < n; i++)
				in[i] =
				    0.5f * (float)sin(2 * M_PI * 1000.0 *
				                      (double)(fed + i) / ir);
			/* Take the output in small pieces: in is re-offered
			 * until it is all taken. */
			while (off < n) {
				w = resample_process(rs, in + off, n - off,
				                     &used, out, 777);
				CHECK(w >= 0);
				if (w < 0)
					break;
				memcpy(all + produced, out,
				       (size_t)w * sizeof(float));
				produced += (size_t)w;
				off += used;
			}
			fed += n;
		}
		while ((w = resample_flush(rs, out, 100)) > 0) {
			memcpy(all + produced, out, (size_t)w * sizeof(float));
			produced += (size_t)w;
		}
		CHECK(w == 0);
		CHECKF(labs((long)produced - expect_frames(total, ir, orate)) <=
		           2,
		       "%u->%u: %zu frames out, want %ld", ir, orate, produced,
		       expect_frames(total, ir, orate));
		p = (struct pcm){all, produced, 1, 0};
		CHECKF(near(rms(&p, 0), SINE_RMS, 0.02), "%u->%u: rms %f", ir,
		       orate, rms(&p, 0));
		resample_free(rs);
		free(all);
	}
}

/* ---- WAV ---- */

/* Every in-rate to every station format, from mono and stereo files. */
int main(void)
{
	test_tmpdir();
	test_resampler();
	srctest_free();
	return test_done();
}
