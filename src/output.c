/*
 * output.c - open an output from its spec; encode and hand pages to it.
 *
 * Each output owns its encoder, so an Icecast mount that reconnects starts
 * a fresh logical bitstream (headers first, with the current item's tags)
 * without touching a file output beside it. Nothing logs the password:
 * out_name() and every message use icecast://host:port/mount.
 */
#include "output.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoder.h"
#include "err.h"
#include "log.h"
#include "output_priv.h"

#define ICECAST_SCHEME "icecast://"
#define FILE_SCHEME "file:"
#define NULL_SPEC "null:"
#define DEFAULT_USER "source"
#define DEFAULT_PORT 8000

/* The spec's pieces, decoded into one buffer. */
struct parsed {
	struct out_target t;
	char buf[];
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes s[0..len) into dst; NULL on a bad escape or a control
 * character (which has no business in a user, password or mount). */
static char *decode(char **dst, const char *s, size_t len)
{
	char *start = *dst, *d = *dst;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi = i + 2 < len ? hexval(s[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(s[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				return NULL;
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f)
			return NULL;
		*d++ = (char)c;
	}
	*d++ = '\0';
	*dst = d;
	return start;
}

static int bad_spec(const char *shown, const char *why)
{
	log_error("output '%s': %s", shown, why);
	return -ERR_USAGE;
}

/* icecast://[USER[:PASSWORD]@]HOST[:PORT]/MOUNT. Errors show the spec
 * from the host on: never the user info, which may hold the password. */
static int parse_icecast(struct parsed *p, const char *spec,
                         const struct out_options *opt)
{
	const char *auth = spec + strlen(ICECAST_SCHEME);
	const char *slash = strchr(auth, '/');
	const char *at = NULL, *hostp, *hend, *portp = NULL;
	const char *why;
	bool url_password = false;
	char *d = p->buf;

	if (!slash)
		slash = auth + strlen(auth);
	/* The last '@' before the path ends the user info, so a raw '@' in
	 * a password still works. */
	for (const char *c = auth; c < slash; c++)
		if (*c == '@')
			at = c;
	hostp = at ? at + 1 : auth;
	if (*hostp == '[') {
		hend = memchr(hostp, ']', (size_t)(slash - hostp));
		why = "unclosed '[' in the host";
		if (!hend)
			goto bad;
		why = "junk after the host";
		if (hend + 1 < slash && hend[1] != ':')
			goto bad;
		if (hend + 1 < slash)
			portp = hend + 2;
		hostp++;
	} else {
		hend = memchr(hostp, ':', (size_t)(slash - hostp));
		if (hend)
			portp = hend + 1;
		else
			hend = slash;
	}
	why = "no host (icecast://USER:PASSWORD@HOST:PORT/MOUNT)";
	if (hend == hostp)
		goto bad;
	p->t.port = DEFAULT_PORT;
	if (portp) {
		unsigned long port = 0;

		for (const char *c = portp; c < slash && port <= 65535; c++)
			port = *c >= '0' && *c <= '9'
			           ? port * 10 + (unsigned long)(*c - '0')
			           : 65536;
		why = "the port must be a number from 1 to 65535";
		if (portp == slash || port < 1 || port > 65535)
			goto bad;
		p->t.port = (unsigned)port;
	}
	why = "the mount must start with '/' and have a name, as in /live.ogg";
	if (*slash != '/' || !slash[1])
		goto bad;

	p->t.host = decode(&d, hostp, (size_t)(hend - hostp));
	p->t.mount = decode(&d, slash, strlen(slash));
	p->t.user = DEFAULT_USER;
	p->t.password = opt->password;
	if (at) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));

		if (!colon)
			colon = at;
		if (colon > auth)
			p->t.user = decode(&d, auth, (size_t)(colon - auth));
		if (colon < at) {
			url_password = true;
			p->t.password =
			    decode(&d, colon + 1, (size_t)(at - colon - 1));
		}
	}
	why = "a bad %-escape, or a control character";
	if (!p->t.host || !p->t.mount || !p->t.user ||
	    (url_password && !p->t.password))
		goto bad;
	why = "no source password (give it in the URL or as the password "
	      "option)";
	if (!p->t.password || !*p->t.password)
		goto bad;
	return 0;
bad:
	log_error("output 'icecast://%s%s': %s", at ? "...@" : "",
	          at ? at + 1 : auth, why);
	return -ERR_USAGE;
}

static char *make_name(const struct out_target *t, bool icecast)
{
	size_t len;
	char *name;

	if (!icecast) {
		if (!*t->path)
			return strdup(NULL_SPEC);
		len = strlen(FILE_SCHEME) + strlen(t->path) + 1;
		name = malloc(len);
		if (name)
			snprintf(name, len, "%s%s", FILE_SCHEME, t->path);
		return name;
	}
	len = strlen(ICECAST_SCHEME) + strlen(t->host) + strlen(t->mount) + 16;
	name = malloc(len);
	if (name) {
		bool v6 = strchr(t->host, ':') != NULL;

		snprintf(name, len, "%s%s%s%s:%u%s", ICECAST_SCHEME,
		         v6 ? "[" : "", t->host, v6 ? "]" : "", t->port,
		         t->mount);
	}
	return name;
}

/* Sends what the block queued: one write (one send() to a server) for all
 * its pages, which otherwise go out in a system call each. */
int out_flush(struct output *o)
{
	size_t len = o->batch_len;
	int rc;

	o->batch_len = 0;
	if (!len || o->failed)
		return o->failed;
	rc = o->ops->write(o, o->batch, len);
	if (rc < 0)
		o->failed = rc;
	return rc;
}

/* Queues a page for out_flush(). The buffer grows to the largest block,
 * once; a block that would pass OUT_BATCH_MAX goes out in parts. */
static int out_page(void *ctx, const unsigned char *head, size_t head_len,
                    const unsigned char *body, size_t body_len)
{
	struct output *o = ctx;
	size_t len = head_len + body_len;
	int rc;

	if (o->batch_len && o->batch_len + len > OUT_BATCH_MAX) {
		rc = out_flush(o);
		if (rc < 0)
			return rc;
	}
	if (o->batch_len + len > o->batch_cap) {
		size_t cap = o->batch_len + len;
		unsigned char *b;

		if (cap < OUT_BATCH_MAX)
			cap = OUT_BATCH_MAX < 2 * cap ? OUT_BATCH_MAX : 2 * cap;
		b = realloc(o->batch, cap);
		if (!b) {
			rc = out_flush(o);
			if (rc >= 0)
				rc = o->ops->write(o, head, head_len);
			return rc < 0 ? rc : o->ops->write(o, body, body_len);
		}
		o->batch = b;
		o->batch_cap = cap;
	}
	memcpy(o->batch + o->batch_len, head, head_len);
	memcpy(o->batch + o->batch_len + head_len, body, body_len);
	o->batch_len += len;
	return 0;
}

int out_open(struct output **out, const char *spec,
             const struct out_options *opt)
{
	struct output *o = NULL;
	struct parsed *p;
	struct enc_config ec;
	struct enc_sink sink;
	bool icecast = false;
	int rc;

	*out = NULL;
	p = calloc(1, sizeof(*p) + strlen(spec) + 8);
	if (!p)
		return -ENOMEM;
	if (strncmp(spec, ICECAST_SCHEME, strlen(ICECAST_SCHEME)) == 0) {
		icecast = true;
		rc = parse_icecast(p, spec, opt);
	} else if (strcmp(spec, NULL_SPEC) == 0) {
		p->t.path = "";
		rc = 0;
	} else if (strncmp(spec, FILE_SCHEME, strlen(FILE_SCHEME)) == 0) {
		p->t.path = spec + strlen(FILE_SCHEME);
		rc = *p->t.path ? 0 : bad_spec(spec, "no path after 'file:'");
	} else {
		/* It may hold a password: show none of it. */
		log_error("output: unknown kind of output (use "
		          "icecast://USER:PASSWORD@HOST:PORT/MOUNT, "
		          "file:PATH.ogg or null:)");
		rc = -ERR_USAGE;
	}
	if (rc < 0)
		goto fail;

	rc = -ENOMEM;
	o = calloc(1, sizeof(*o));
	if (!o)
		goto fail;
	o->ops = icecast                        ? &output_shout_ops
	         : strcmp(spec, NULL_SPEC) == 0 ? &output_null_ops
	                                        : &output_file_ops;
	o->name = make_name(&p->t, icecast);
	if (!o->name)
		goto fail;
	ec.fmt = opt->fmt;
	if (opt->channels)
		ec.fmt.channels = opt->channels;
	ec.in_channels = opt->fmt.channels;
	ec.quality = opt->quality;
	ec.bitrate_kbps = opt->bitrate_kbps;
	sink.page = out_page;
	sink.ctx = o;
	rc = enc_new(&o->enc, &ec, &sink);
	if (rc < 0)
		goto fail;
	rc = o->ops->open(o, &p->t, opt);
	if (rc < 0)
		goto fail;
	/* The decoded password lives only as long as the open. */
	memset(p->buf, 0, strlen(spec) + 8);
	free(p);
	*out = o;
	return 0;
fail:
	if (o) {
		enc_free(o->enc);
		free(o->name);
		free(o);
	}
	memset(p->buf, 0, strlen(spec) + 8);
	free(p);
	return rc;
}

static int set_tag(char **dst, const char *s)
{
	char *copy = NULL;

	if (s && *s) {
		copy = strdup(s);
		if (!copy)
			return -ENOMEM;
	}
	free(*dst);
	*dst = copy;
	return 0;
}

/* What out_write() and out_begin_item() do next (or a negative code). */
enum prep {
	PREP_DROP,  /* nobody listens: drop the audio unencoded */
	PREP_SEND,  /* encode into the current logical bitstream */
	PREP_BEGUN, /* a fresh one with the current tags has just begun */
};

static int prepare(struct output *o)
{
	int rc = o->ops->ready ? o->ops->ready(o) : OUT_SEND;

	switch (rc) {
	case OUT_DROP:
		return PREP_DROP;
	case OUT_SEND:
		return PREP_SEND;
	case OUT_FRESH:
		/* Icecast keeps no stream headers across a reconnect, so
		 * start a new logical stream before the first page goes
		 * out; the rest of the old one went with the old
		 * connection. */
		enc_discard(o->enc);
		o->batch_len = 0;
		if (o->pass) {
			/* A pass link starts again at the next packet. */
			o->pass_open = false;
			return PREP_BEGUN;
		}
		rc = enc_begin(o->enc, o->title, o->artist);
		return rc < 0 ? rc : PREP_BEGUN;
	default:
		return rc < 0 ? rc : -ERR_PROTOCOL;
	}
}

int out_begin_item(struct output *o, const char *title, const char *artist)
{
	int rc;

	if (set_tag(&o->title, title) < 0 || set_tag(&o->artist, artist) < 0)
		return -ENOMEM;
	if (o->failed)
		return o->failed;
	o->begin_pending = false;
	rc = prepare(o);
	if (rc == PREP_SEND)
		rc = enc_begin(o->enc, o->title, o->artist);
	/* PREP_DROP: the headers go out, with these tags, on reconnect. */
	if (rc < 0) {
		o->failed = rc;
		return rc;
	}
	return 0;
}

int out_write(struct output *o, const float *frames, size_t n)
{
	int rc;

	if (o->failed)
		return o->failed;
	rc = prepare(o);
	if (rc == PREP_DROP)
		return 0;
	if (rc == PREP_SEND && o->begin_pending)
		rc = enc_begin(o->enc, o->title, o->artist);
	o->begin_pending = false;
	if (rc >= 0)
		rc = enc_write(o->enc, frames, n);
	if (rc >= 0)
		rc = out_flush(o);
	if (rc < 0) {
		o->failed = rc;
		return rc;
	}
	return 0;
}

const struct enc_config *out_enc_config(const struct output *o)
{
	return enc_get_config(o->enc);
}

static int pass_failed(struct output *o, int rc)
{
	o->failed = rc;
	return rc;
}

int out_pass_begin(struct output *o, const ogg_packet *ident,
                   const ogg_packet *setup)
{
	int rc;

	if (o->failed)
		return o->failed;
	o->pass = true;
	o->pass_open = false;
	o->pass_ident = ident;
	o->pass_setup = setup;
	rc = prepare(o);
	o->pass_prep = rc;
	/* The encoded link ends here; the pass link opens with its first
	 * packet. */
	if (rc == PREP_SEND)
		rc = enc_end(o->enc);
	return rc < 0 ? pass_failed(o, rc) : 0;
}

int out_pass_ready(struct output *o)
{
	int rc;

	if (o->failed)
		return o->failed;
	rc = prepare(o);
	o->pass_prep = rc;
	return rc < 0 ? pass_failed(o, rc) : 0;
}

int out_pass_packet(struct output *o, const unsigned char *data, long len,
                    unsigned long long end)
{
	int rc = 0;

	if (o->failed)
		return o->failed;
	if (!o->pass || o->pass_prep == PREP_DROP)
		return 0;
	if (!o->pass_open) {
		/* The first packet decodes to nothing: the link's audio
		 * starts where its output would have ended. */
		rc = enc_pass_begin(o->enc, o->pass_ident, o->pass_setup,
		                    o->title, o->artist);
		o->pass_open = rc >= 0;
		o->pass_base = end;
	}
	if (rc >= 0)
		rc = enc_pass_packet(o->enc, data, len,
		                     (long long)(end - o->pass_base));
	return rc < 0 ? pass_failed(o, rc) : 0;
}

int out_pass_end(struct output *o, unsigned long long end)
{
	int rc = 0;

	if (!o->pass)
		return o->failed;
	o->pass = false;
	if (o->failed)
		return o->failed;
	if (o->pass_open)
		rc = enc_pass_end(o->enc, (long long)(end - o->pass_base));
	o->pass_open = false;
	o->begin_pending = true;
	return rc < 0 ? pass_failed(o, rc) : 0;
}

bool out_connected(const struct output *o)
{
	if (o->failed)
		return false;
	return o->ops->connected ? o->ops->connected(o) : true;
}

unsigned out_take_reconnects(struct output *o)
{
	unsigned n = o->reconnects;

	o->reconnects = 0;
	return n;
}

const char *out_name(const struct output *o)
{
	return o->name;
}

int out_close(struct output *o)
{
	int rc = 0, rc2;

	if (!o)
		return 0;
	/* End the stream cleanly where the pages still arrive. */
	if (!o->failed && out_connected(o))
		rc = enc_end(o->enc);
	if (rc >= 0)
		rc = out_flush(o);
	rc2 = o->ops->close(o);
	if (rc >= 0)
		rc = rc2;
	enc_free(o->enc);
	free(o->batch);
	free(o->title);
	free(o->artist);
	free(o->name);
	free(o);
	return rc;
}
