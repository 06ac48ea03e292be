/*
 * fuzzutil.c - temp files and checks for the fuzz targets.
 *
 * Runs once per fuzzer input, thousands of times a second: the temp
 * folder is made once per process and its files are rewritten in place.
 */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Paths handed out by fuzz_path(), removed at exit. */
#define MAX_PATHS 32

static char tmpdir[256];
static char *paths[MAX_PATHS];
static size_t n_paths;

void fuzz_fail(const char *file, int line, const char *what)
{
	printf("fuzz: %s:%d: check failed: %s\n", file, line, what);
	fflush(stdout);
	abort();
}

static void cleanup(void)
{
	/* Newest first: a folder's files go before the folder. */
	while (n_paths > 0) {
		char *p = paths[--n_paths];

		remove(p);
		free(p);
	}
	if (tmpdir[0])
		rmdir(tmpdir);
}

static const char *temp_base(void)
{
	const char *base = getenv("TMPDIR");
	struct stat st;

	if (base && base[0])
		return base;
	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
	    access("/dev/shm", W_OK) == 0)
		return "/dev/shm";
	return "/tmp";
}

const char *fuzz_path(const char *name)
{
	char buf[512];
	int n;

	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "%s/pulse-fuzz-XXXXXX",
		         temp_base());
		if (!mkdtemp(tmpdir)) {
			printf("fuzz: mkdtemp %s: %s\n", tmpdir,
			       strerror(errno));
			exit(2);
		}
		atexit(cleanup);
	}
	n = snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
	if (n < 0 || (size_t)n >= sizeof(buf))
		fuzz_fail(__FILE__, __LINE__, "temp path too long");
	for (size_t i = 0; i < n_paths; i++)
		if (strcmp(paths[i], buf) == 0)
			return paths[i];
	if (n_paths == MAX_PATHS || !(paths[n_paths] = strdup(buf)))
		fuzz_fail(__FILE__, __LINE__, "too many temp paths");
	return paths[n_paths++];
}

void fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t done = 0;

	if (fd < 0) {
		printf("fuzz: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while (done < size) {
		ssize_t w = write(fd, data + done, size - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			printf("fuzz: %s: %s\n", path, strerror(errno));
			exit(2);
		}
		done += (size_t)w;
	}
	close(fd);
}

bool fuzz_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 2;
			cp = c & 0x1fu;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 3;
			cp = c & 0x0fu;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 4;
			cp = c & 0x07u;
		} else {
			return false;
		}
		if (len - i < n)
			return false;
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3fu);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		i += n;
	}
	return true;
}
