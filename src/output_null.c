/*
 * output_null.c - an output that discards the audio unencoded.
 *
 * For a dry run of a whole period (render --output null:) that proves the
 * schedule plays through, and for benchmarks of everything but the
 * encoder. ready() answers OUT_DROP, so output.c never encodes for it.
 */
#include <stdbool.h>
#include <stddef.h>

#include "output.h"
#include "output_priv.h"

static int null_open(struct output *o, const struct out_target *t,
                     const struct out_options *opt)
{
	(void)o;
	(void)t;
	(void)opt;
	return 0;
}

static int null_write(struct output *o, const unsigned char *data, size_t len)
{
	(void)o;
	(void)data;
	(void)len;
	return 0;
}

static int null_ready(struct output *o)
{
	(void)o;
	return OUT_DROP;
}

static int null_close(struct output *o)
{
	(void)o;
	return 0;
}

const struct output_ops output_null_ops = {
    .name = "null",
    .open = null_open,
    .write = null_write,
    .ready = null_ready,
    .close = null_close,
};
