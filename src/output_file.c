/*
 * output_file.c - Ogg pages into a file (file:PATH).
 *
 * Buffered writes; the first write error (a full disk, a vanished
 * mount) is logged once and is fatal for this output only, so the
 * Icecast mount beside it keeps going.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "output.h"
#include "output_priv.h"

/* About a second of a typical stream between write(2) calls. */
#define FILE_BUFFER_BYTES (32 * 1024)

struct file_out {
	FILE *f;
	char *buf;
	int err; /* first error, as -errno; logged */
};

static int file_open(struct output *o, const struct out_target *t,
                     const struct out_options *opt)
{
	struct file_out *fo;
	int rc;

	(void)opt;
	fo = calloc(1, sizeof(*fo));
	if (!fo)
		return -ENOMEM;
	fo->buf = malloc(FILE_BUFFER_BYTES);
	if (!fo->buf) {
		rc = -ENOMEM;
		goto fail;
	}
	fo->f = fopen(t->path, "wb");
	if (!fo->f) {
		rc = -errno;
		log_error("%s: cannot open for writing: %s", o->name,
		          strerror(errno));
		goto fail;
	}
	setvbuf(fo->f, fo->buf, _IOFBF, FILE_BUFFER_BYTES);
	o->priv = fo;
	return 0;
fail:
	free(fo->buf);
	free(fo);
	return rc;
}

static int file_failed(struct output *o, struct file_out *fo, int err,
                       const char *what)
{
	if (!fo->err) {
		fo->err = err ? -err : -EIO;
		log_error("%s: %s failed: %s", o->name, what,
		          strerror(-fo->err));
	}
	return fo->err;
}

static int file_write(struct output *o, const unsigned char *data, size_t len)
{
	struct file_out *fo = o->priv;

	if (fo->err)
		return fo->err;
	if (fwrite(data, 1, len, fo->f) != len)
		return file_failed(o, fo, errno, "write");
	return 0;
}

static int file_close(struct output *o)
{
	struct file_out *fo = o->priv;
	int rc;

	if (!fo)
		return 0;
	errno = 0;
	if (fclose(fo->f) != 0)
		file_failed(o, fo, errno, "write");
	rc = fo->err;
	free(fo->buf);
	free(fo);
	o->priv = NULL;
	return rc;
}

static bool file_connected(const struct output *o)
{
	const struct file_out *fo = o->priv;

	return !fo->err;
}

const struct output_ops output_file_ops = {
    .name = "file",
    .open = file_open,
    .write = file_write,
    .connected = file_connected,
    .close = file_close,
};
