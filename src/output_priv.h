/*
 * output_priv.h - what an output implementation gives output.c.
 *
 * output.c parses the spec, owns the encoder and the current item's tags,
 * and asks the implementation, before each block, whether to encode it at
 * all: a mount that is away drops the audio unencoded, and one that has
 * just (re)connected gets a fresh logical bitstream with headers first.
 */
#ifndef OUTPUT_PRIV_H
#define OUTPUT_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include <ogg/ogg.h>

struct encoder;
struct out_options;

/* A parsed output spec; strings are owned by output.c. */
struct out_target {
	/* file:PATH */
	const char *path;
	/* icecast://USER:PASSWORD@HOST:PORT/MOUNT, percent-decoded */
	const char *user;     /* "source" by default */
	const char *password; /* from the URL or out_options */
	const char *host;     /* without the brackets of an IPv6 address */
	unsigned port;        /* 8000 by default */
	const char *mount;    /* starts with '/' */
};

/* What out_write() does with the next block: ops->ready() says. */
enum out_ready {
	OUT_DROP = 0,  /* not connected: drop it unencoded */
	OUT_SEND = 1,  /* encode it and write the pages */
	OUT_FRESH = 2, /* (re)connected: begin a new logical bitstream first */
};

/* Pages queued past this go out before the next one (a block of 400 ms
 * at 500 kbps is 25 KB). */
#define OUT_BATCH_MAX (64 * 1024)

struct output {
	const struct output_ops *ops;
	void *priv;
	struct encoder *enc;
	char *name; /* out_name(): never the password */
	char *title;
	char *artist;
	int failed; /* the negative code once the output failed for good */
	unsigned reconnects; /* since out_take_reconnects() last took them */
	/* Passing pre-encoded packets (out_pass_begin()): the cache's
	 * headers (borrowed), whether a pass link is open on the wire, the
	 * frame it starts at, and this block's verdict of ready(). */
	bool pass;
	bool pass_open;
	const ogg_packet *pass_ident, *pass_setup;
	unsigned long long pass_base;
	int pass_prep;
	/* After a pass link: the next out_write() begins an encoded one
	 * with the current tags (none if nothing is written before the
	 * next item's). */
	bool begin_pending;
	/* The block's pages, for one write (out_flush()). */
	unsigned char *batch;
	size_t batch_len, batch_cap;
};

struct output_ops {
	const char *name;
	/* Opens the destination; on failure logs once, frees what it made
	 * and returns a negative code. */
	int (*open)(struct output *o, const struct out_target *t,
	            const struct out_options *opt);
	/* Writes bytes of an Ogg page. 0, or a negative code when the output
	 * has failed for good (logged once). Must not block. */
	int (*write)(struct output *o, const unsigned char *data, size_t len);
	/* Optional (NULL: always OUT_SEND): polls the connection, at most a
	 * few milliseconds. An enum out_ready, or a negative code. */
	int (*ready)(struct output *o);
	/* Optional (NULL: true unless failed): whether audio arrives. */
	bool (*connected)(const struct output *o);
	/* Sends what is queued (bounded in time), closes, frees priv. The
	 * logical bitstream is already ended. 0 or a negative code. */
	int (*close)(struct output *o);
};

extern const struct output_ops output_file_ops;
extern const struct output_ops output_shout_ops;
extern const struct output_ops output_null_ops;

#endif
