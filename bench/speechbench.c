/*
 * speechbench.c - renders a list of bulletins with the speech module, for
 * bench/speech.sh.
 *
 * Usage: bench-speech [--repeat N] LIST
 * LIST has one bulletin a line: "VOICE<TAB>TEXT". Every text is rendered
 * N times (default 1) at 175 wpm, pitch 50, in memory. Prints key=value
 * lines: texts, audio_s (speech made, silence trimmed as the module
 * does), cpu_s_init and cpu_s_render (this process's user+sys for
 * speech_new() and for the renders alone). Exit 1 on any failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "err.h"
#include "speech.h"

static double cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) /
	           1e6;
}

static int render_list(struct speech *sp, FILE *list, double *audio_s,
                       size_t *texts)
{
	char *line = NULL, *tab;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;

	while ((len = getline(&line, &cap, list)) > 0) {
		struct speech_voice v;
		float *frames;
		size_t n;

		if (line[len - 1] == '\n')
			line[--len] = '\0';
		tab = strchr(line, '\t');
		if (!tab || tab == line ||
		    (size_t)(tab - line) >= sizeof(v.name))
			continue;
		memset(&v, 0, sizeof(v));
		memcpy(v.name, line, (size_t)(tab - line));
		v.rate_wpm = SPEECH_RATE_DEFAULT_WPM;
		v.pitch = SPEECH_PITCH_DEFAULT;
		rc = speech_render(sp, tab + 1, &v, &frames, &n);
		if (rc < 0) {
			fprintf(stderr, "bench-speech: %s: %s\n", v.name,
			        err_str(rc));
			break;
		}
		*audio_s += (double)n / speech_rate(sp);
		(*texts)++;
		free(frames);
	}
	free(line);
	return rc;
}

int main(int argc, char **argv)
{
	struct speech *sp;
	long repeat = 1;
	double t0, t1, audio_s = 0;
	size_t texts = 0;
	const char *path;
	int rc = 0;

	if (argc == 4 && strcmp(argv[1], "--repeat") == 0) {
		repeat = strtol(argv[2], NULL, 10);
		path = argv[3];
	} else if (argc == 2) {
		path = argv[1];
	} else {
		fprintf(stderr, "usage: bench-speech [--repeat N] LIST\n");
		return 2;
	}
	if (repeat < 1 || repeat > 1000) {
		fprintf(stderr, "bench-speech: --repeat 1..1000\n");
		return 2;
	}
	t0 = cpu_now();
	rc = speech_new(&sp);
	if (rc < 0) {
		fprintf(stderr, "bench-speech: %s\n", err_str(rc));
		return 1;
	}
	t1 = cpu_now();
	printf("cpu_s_init=%.3f\n", t1 - t0);
	for (long r = 0; r < repeat && rc == 0; r++) {
		FILE *list = fopen(path, "r");

		if (!list) {
			fprintf(stderr, "bench-speech: %s: %s\n", path,
			        strerror(errno));
			rc = -errno;
			break;
		}
		rc = render_list(sp, list, &audio_s, &texts);
		fclose(list);
	}
	printf("cpu_s_render=%.3f\n", cpu_now() - t1);
	printf("texts=%zu\naudio_s=%.2f\n", texts, audio_s);
	speech_free(sp);
	return rc < 0 || texts == 0 ? 1 : 0;
}
