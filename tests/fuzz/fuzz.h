/*
 * fuzz.h - what the libFuzzer targets in tests/fuzz/ share.
 *
 * Each fuzz_NAME.c defines LLVMFuzzerTestOneInput(). Linked with libFuzzer
 * (-DPULSE_FUZZ=ON, scripts/fuzz.sh) it is a fuzzer; linked with replay.c
 * it is the unit test test_fuzz_NAME, which feeds it every file of
 * tests/fuzz/corpus/NAME and tests/fuzz/regress/NAME once.
 *
 * The one thing to know: a broken guarantee is reported on stdout, then
 * abort(). scripts/fuzz.sh runs libFuzzer with stderr closed, as the
 * project's log lines (one per bad input) go there; the sanitizers' and
 * libFuzzer's own reports still come out.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks a documented guarantee; never compiled out (unlike assert()). */
#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond))                                                   \
			fuzz_fail(__FILE__, __LINE__, #cond);                  \
	} while (0)

_Noreturn void fuzz_fail(const char *file, int line, const char *what);

/*
 * tmpdir/name, where tmpdir is this process's own temp folder ($TMPDIR,
 * else /dev/shm, else /tmp). Whatever is made at such a path is removed
 * at exit, in the reverse order of the calls. The string stays valid
 * until then.
 */
const char *fuzz_path(const char *name);

/* Writes size bytes to path, replacing it; aborts if it cannot. */
void fuzz_write_file(const char *path, const uint8_t *data, size_t size);

/* Whether s[0..len) is valid UTF-8 (no overlong forms, surrogates or
 * code points above U+10FFFF). */
bool fuzz_utf8_valid(const char *s, size_t len);

#endif
