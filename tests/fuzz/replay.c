/*
 * replay.c - runs a fuzz target once on each given file, without
 * libFuzzer: the unit tests test_fuzz_NAME (any compiler, valgrind).
 *
 * Usage: test_fuzz_NAME DIR|FILE...  A folder's files are run in name
 * order (dotfiles skipped); a folder that does not exist counts as empty,
 * so an empty tests/fuzz/regress/NAME needs no placeholder. A failed
 * check or a crash ends the program; the input's path is printed first.
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Reads path whole into a buffer of exactly its size, so that an
 * over-read shows under valgrind and ASan as it would under libFuzzer. */
static uint8_t *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *buf;

	if (!f || fstat(fileno(f), &st) < 0) {
		printf("replay: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	*size = (size_t)st.st_size;
	buf = malloc(*size ? *size : 1);
	if (!buf || fread(buf, 1, *size, f) != *size) {
		printf("replay: %s: cannot read\n", path);
		exit(2);
	}
	fclose(f);
	return buf;
}

static void run_file(const char *path, size_t *count)
{
	size_t size;
	uint8_t *data = slurp(path, &size);

	printf("replay: %s (%zu bytes)\n", path, size);
	fflush(stdout);
	LLVMFuzzerTestOneInput(data, size);
	free(data);
	(*count)++;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_dir(const char *dir, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!d) {
		printf("replay: %s: %s (nothing to run)\n", dir,
		       strerror(errno));
		return;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
			if (!names)
				exit(2);
		}
		if (!(names[n++] = strdup(e->d_name)))
			exit(2);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			run_file(path, count);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	size_t count = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) == 0 && S_ISREG(st.st_mode))
			run_file(argv[i], &count);
		else
			run_dir(argv[i], &count);
	}
	printf("%zu passed, 0 failed\n", count);
	return 0;
}
