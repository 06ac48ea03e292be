/*
 * testutil.h - small helpers shared by the unit test programs.
 *
 * CHECK() records a failure and goes on; a test program exits non-zero if
 * any check failed (test_done()). Fixtures are made in a fresh temp dir.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>

extern int test_failures;
extern int test_checks;

#define CHECK(cond)                                                            \
	do {                                                                   \
		test_checks++;                                                 \
		if (!(cond)) {                                                 \
			test_failures++;                                       \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
			        __LINE__, #cond);                              \
		}                                                              \
	} while (0)

#define CHECKF(cond, ...)                                                      \
	do {                                                                   \
		test_checks++;                                                 \
		if (!(cond)) {                                                 \
			test_failures++;                                       \
			fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, \
			        __LINE__, #cond);                              \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
		}                                                              \
	} while (0)

/* Makes a fresh temp dir (removed by test_done()); returns its path. */
const char *test_tmpdir(void);
/* tmpdir/name in a static rotating buffer. */
const char *test_path(const char *name);

/* Writes a 16-bit PCM WAV of a sine at freq_hz, amplitude 0.5. */
int test_write_sine_wav(const char *path, unsigned rate, unsigned channels,
                        double seconds, double freq_hz);
/* Writes bytes to a file. */
int test_write_file(const char *path, const void *data, size_t len);
/* Runs a shell command quietly; its exit status. */
int test_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Whether a program is on PATH. */
bool test_have(const char *prog);

/* Sends stderr (the log) to a file until test_capture_end(), which
 * returns what was written (static buffer, 16 KiB at most) and echoes it. */
void test_capture_begin(void);
const char *test_capture_end(void);
/* Lines in s. */
int test_count_lines(const char *s);

/* Prints "N passed, N failed", removes the temp dir, returns exit code. */
int test_done(void);

#include <stdio.h>

#endif
