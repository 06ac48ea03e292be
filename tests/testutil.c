/*
 * testutil.c - fixtures and checks for the unit test programs.
 */
#include "testutil.h"

#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int test_failures;
int test_checks;

static char tmpdir[256];

const char *test_tmpdir(void)
{
	if (!tmpdir[0]) {
		const char *base = getenv("TMPDIR");

		snprintf(tmpdir, sizeof(tmpdir), "%s/pulse-test-XXXXXX",
		         base ? base : "/tmp");
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			exit(2);
		}
	}
	return tmpdir;
}

const char *test_path(const char *name)
{
	static char bufs[8][512];
	static unsigned next;
	char *b = bufs[next++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", test_tmpdir(), name);
	return b;
}

static void put_le(FILE *f, uint32_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		fputc((int)((v >> (8 * i)) & 0xff), f);
}

int test_write_sine_wav(const char *path, unsigned rate, unsigned channels,
                        double seconds, double freq_hz)
{
	FILE *f = fopen(path, "wb");
	uint32_t frames = (uint32_t)lround(seconds * rate);
	uint32_t data_len = frames * channels * 2;

	if (!f)
		return -1;
	fwrite("RIFF", 1, 4, f);
	put_le(f, 36 + data_len, 4);
	fwrite("WAVEfmt ", 1, 8, f);
	put_le(f, 16, 4);
	put_le(f, 1, 2);
	put_le(f, channels, 2);
	put_le(f, rate, 4);
	put_le(f, rate * channels * 2, 4);
	put_le(f, channels * 2, 2);
	put_le(f, 16, 2);
	fwrite("data", 1, 4, f);
	put_le(f, data_len, 4);
	for (uint32_t i = 0; i < frames; i++) {
		double v = 0.5 * sin(2 * M_PI * freq_hz * i / rate);
		int16_t s = (int16_t)lround(v * 32767);

		for (unsigned c = 0; c < channels; c++)
			put_le(f, (uint16_t)s, 2);
	}
	return fclose(f) == 0 ? 0 : -1;
}

int test_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return -1;
	if (len && fwrite(data, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

int test_run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	return rc == -1 ? -1 : WEXITSTATUS(rc);
}

bool test_have(const char *prog)
{
	return test_run("command -v %s >/dev/null 2>&1", prog) == 0;
}

static int saved_stderr = -1;

void test_capture_begin(void)
{
	int fd =
	    open(test_path("stderr.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

const char *test_capture_end(void)
{
	static char captured[16384];
	FILE *f;
	size_t n = 0;

	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	f = fopen(test_path("stderr.txt"), "r");
	if (f) {
		n = fread(captured, 1, sizeof(captured) - 1, f);
		fclose(f);
	}
	captured[n] = '\0';
	fputs(captured, stderr);
	return captured;
}

int test_count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

int test_done(void)
{
	if (tmpdir[0] && !getenv("PULSE_KEEP_TMP"))
		test_run("rm -rf '%s'", tmpdir);
	printf("%d passed, %d failed\n", test_checks - test_failures,
	       test_failures);
	return test_failures ? 1 : 0;
}
