/*
 * fuzz_dropdir.c - a drop-folder file's bytes through dropdir_parse().
 *
 * Input: the file as saved, any bytes. Checked, as dropdir.h promises:
 * a refusal is -ERR_FORMAT with a reason; an accepted file's text is the
 * NUL-terminated tail of the buffer with no NUL inside and not all
 * blank, and every header field is a terminated string that fits.
 */
#include "dropdir.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fuzz.h"

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static bool all_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(" \t\r\n\f\v", s[i]))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct drop_bulletin b;
	char why[256];
	char *buf;
	int rc;

	if (size > DROPDIR_MAX_BYTES) /* refused before it is parsed */
		return 0;
	/* Exactly size + 1 bytes, as dropdir.c reads a file: an overrun
	 * shows at once. */
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	memset(&b, 0x55, sizeof(b)); /* no field may be left unset */
	why[0] = '\0';
	rc = dropdir_parse(buf, size, &b, why, sizeof(why));
	FUZZ_CHECK(buf[size] == '\0');
	if (rc < 0) {
		FUZZ_CHECK(rc == -ERR_FORMAT);
		FUZZ_CHECK(why[0] != '\0' && terminated(why, sizeof(why)));
		free(buf);
		return 0;
	}
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(b.text >= buf && b.text <= buf + size);
	FUZZ_CHECK(b.text + b.text_len == buf + size);
	FUZZ_CHECK(strlen(b.text) == b.text_len);
	FUZZ_CHECK(b.text_len > 0 && !all_blank(b.text, b.text_len));
	FUZZ_CHECK(terminated(b.lang, sizeof(b.lang)));
	FUZZ_CHECK(terminated(b.by, sizeof(b.by)) && b.by[0] != '\0');
	FUZZ_CHECK(terminated(b.not_before, sizeof(b.not_before)));
	FUZZ_CHECK(terminated(b.expires, sizeof(b.expires)));
	for (const char *p = b.lang; *p; p++)
		FUZZ_CHECK((*p >= 'a' && *p <= 'z') ||
		           (*p >= 'A' && *p <= 'Z') ||
		           (*p >= '0' && *p <= '9') || *p == '-' || *p == '_');
	for (const char *p = b.by; *p; p++)
		FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
	FUZZ_CHECK(b.breaking == true || b.breaking == false);
	free(buf);
	return 0;
}
