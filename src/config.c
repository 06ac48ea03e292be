/*
 * config.c - the configuration file, through inih.
 *
 * inih calls one handler per key; the handler checks the key and its value
 * and keeps the first error's words, so the one line logged says the file,
 * the line (inih's count) and what is wrong, never a password.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ini.h>

#include "err.h"
#include "log.h"

#define OUTPUT_PREFIX "output "

/* The parse in progress. */
struct parse {
	struct config *c;
	char why[300]; /* the first error, "" while there is none */
	char section[64];
	struct cfg_output *out; /* the [output NAME] being read */
};

static int fail(struct parse *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->why[0]) {
		va_start(ap, fmt);
		vsnprintf(p->why, sizeof(p->why), fmt, ap);
		va_end(ap);
	}
	return 0;
}

/* Copies v into dst (len); false when it does not fit. */
static bool copy(char *dst, size_t len, const char *v)
{
	size_t n = strlen(v);

	if (n >= len)
		return false;
	memcpy(dst, v, n + 1);
	return true;
}

static bool parse_uint(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || n < lo || n > hi)
		return false;
	*out = (unsigned)n;
	return true;
}

static bool parse_float(const char *v, double lo, double hi, float *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || !(d >= lo && d <= hi))
		return false;
	*out = (float)d;
	return true;
}

/* "HOST:PORT" with a port 1..65535. */
static bool bind_ok(const char *v)
{
	const char *colon = strrchr(v, ':');
	unsigned port;

	return colon && colon != v && parse_uint(colon + 1, 1, 65535, &port);
}

/* A [station] text or path key into its field; -1 not one of them. */
static int station_key(struct parse *p, const char *name, const char *v)
{
	struct config *c = p->c;
	static const struct {
		const char *key;
		size_t off, len;
		bool path;
	} keys[] = {
#define K(f, path)                                                             \
	{#f, offsetof(struct config, f), sizeof(((struct config *)0)->f), path}
	    K(name, false),         K(description, false), K(genre, false),
	    K(url, false),          K(database, true),     K(music_dir, true),
	    K(jingle_dir, true),    K(drop_dir, true),     K(timezone, false),
	    K(encoded_cache, true),
#undef K
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		char *dst = (char *)c + keys[i].off;

		if (strcmp(name, keys[i].key) != 0)
			continue;
		if (!copy(dst, keys[i].len, v))
			return fail(p, "%s: too long", name);
		if (keys[i].path && v[0] != '/' && strcmp(name, "database"))
			return fail(p, "%s: '%s' must be an absolute path",
			            name, v);
		/* The store refuses "" only when the daemon starts: say it
		 * here, with the line, and in --check. */
		if (!v[0] && strcmp(name, "database") == 0)
			return fail(p, "database: empty (give a file name)");
		return 1;
	}
	return -1;
}

static int output_key(struct parse *p, const char *name, const char *v)
{
	struct cfg_output *o = p->out;

	if (strcmp(name, "url") == 0) {
		if (strncmp(v, "icecast://", 10) && strncmp(v, "file:", 5) &&
		    strcmp(v, "null:"))
			return fail(p,
			            "url: not icecast://USER@HOST:PORT/MOUNT, "
			            "file:PATH.ogg or null:");
		if (o->url[0])
			return fail(p,
			            "[output %s]: a second url (two outputs "
			            "with one name?)",
			            o->name);
		if (!copy(o->url, sizeof(o->url), v))
			return fail(p, "url: too long");
		return 1;
	}
	if (strcmp(name, "password_file") == 0) {
		if (v[0] != '/' ||
		    !copy(o->password_file, sizeof(o->password_file), v))
			return fail(p,
			            "password_file: '%s' must be an "
			            "absolute path",
			            v);
		return 1;
	}
	if (strcmp(name, "password_env") == 0) {
		if (!v[0] || !copy(o->password_env, sizeof(o->password_env), v))
			return fail(p,
			            "password_env: '%s' is not a variable "
			            "name",
			            v);
		return 1;
	}
	if (strcmp(name, "quality") == 0) {
		if (!parse_float(v, -0.1, 1.0, &o->quality))
			return fail(p, "quality: '%s' is not -0.1..1.0", v);
		return 1;
	}
	if (strcmp(name, "bitrate") == 0) {
		if (!parse_uint(v, 16, 500, &o->bitrate_kbps))
			return fail(p, "bitrate: '%s' is not 16..500 (kbps)",
			            v);
		return 1;
	}
	if (strcmp(name, "channels") == 0) {
		if (!parse_uint(v, 1, 2, &o->channels))
			return fail(p, "channels: '%s' is not 1 or 2", v);
		return 1;
	}
	return -1;
}

/* A new [output NAME]; 1, or 0 (failed). */
static int new_output(struct parse *p, const char *section)
{
	struct config *c = p->c;
	const char *name = section + strlen("output");

	while (*name == ' ')
		name++;
	if (!*name || strlen(name) >= sizeof(c->out[0].name))
		return fail(p,
		            "[%s]: give each output a short name, as in "
		            "[output main]",
		            section);
	for (size_t i = 0; i < c->n_out; i++)
		if (strcmp(c->out[i].name, name) == 0)
			return fail(p, "[%s]: a second output named '%s'",
			            section, name);
	if (c->n_out == CFG_MAX_OUTPUTS)
		return fail(p, "[%s]: at most 8 outputs", section);
	p->out = &c->out[c->n_out++];
	memset(p->out, 0, sizeof(*p->out));
	snprintf(p->out->name, sizeof(p->out->name), "%s", name);
	p->out->quality = 0.4f;
	return 1;
}

static int handler(void *user, const char *section, const char *name,
                   const char *v)
{
	struct parse *p = user;
	struct config *c = p->c;
	int rc = -1;

	if (p->why[0])
		return 0; /* one error is enough */
	if (strcmp(section, p->section) != 0) {
		snprintf(p->section, sizeof(p->section), "%s", section);
		p->out = NULL;
		if ((strcmp(section, "output") == 0 ||
		     strncmp(section, OUTPUT_PREFIX, strlen(OUTPUT_PREFIX)) ==
		         0) &&
		    !new_output(p, section))
			return 0;
	}
	if (strcmp(section, "station") == 0) {
		rc = station_key(p, name, v);
	} else if (strcmp(section, "audio") == 0) {
		if (strcmp(name, "rate") == 0) {
			rc = parse_uint(v, 44100, 48000, &c->fmt.rate) &&
			             (c->fmt.rate == 44100 ||
			              c->fmt.rate == 48000)
			         ? 1
			         : fail(p, "rate: '%s' is not 44100 or 48000",
			                v);
		} else if (strcmp(name, "channels") == 0) {
			rc = parse_uint(v, 1, 2, &c->fmt.channels)
			         ? 1
			         : fail(p, "channels: '%s' is not 1 or 2", v);
		}
	} else if (p->out) {
		rc = output_key(p, name, v);
	} else if (strcmp(section, "http") == 0) {
		if (strcmp(name, "bind") == 0)
			rc = bind_ok(v) &&
			             copy(c->http_bind, sizeof(c->http_bind), v)
			         ? 1
			         : fail(p, "bind: '%s' is not HOST:PORT", v);
		else if (strcmp(name, "token_file") == 0)
			rc = v[0] == '/' && copy(c->http_token_file,
			                         sizeof(c->http_token_file), v)
			         ? 1
			         : fail(p,
			                "token_file: '%s' must be an "
			                "absolute path",
			                v);
	} else if (strcmp(section, "log") == 0) {
		if (strcmp(name, "level") == 0)
			rc = log_level_parse(v, &c->level) == 0
			         ? 1
			         : fail(p,
			                "level: '%s' is not error, warn, "
			                "info or debug",
			                v);
	} else {
		return fail(p, "unknown section [%s]", section);
	}
	if (rc < 0)
		return fail(p, "unknown key '%s' in [%s]", name, section);
	return rc;
}

static void defaults(struct config *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", path);
	snprintf(c->database, sizeof(c->database), "pulse-radio.db");
	snprintf(c->name, sizeof(c->name), "Pulse Radio");
	c->fmt.rate = PCM_DEFAULT_RATE;
	c->fmt.channels = PCM_DEFAULT_CHANNELS;
	c->level = LOG_LEVEL_INFO;
}

int cfg_load(struct config *c, const char *path)
{
	struct parse p = {.c = c};
	struct stat st;
	FILE *f;
	int line;

	defaults(c, path);
	f = fopen(path, "r");
	if (!f) {
		int rc = -errno;

		log_error("%s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		log_error("%s: a directory, not a configuration file", path);
		return -ERR_USAGE;
	}
	c->world_readable = (st.st_mode & S_IROTH) != 0;
	line = ini_parse_file(f, handler, &p);
	fclose(f);
	if (line != 0 || p.why[0]) {
		if (line > 0 && p.why[0])
			log_error("%s:%d: %s", path, line, p.why);
		else if (line > 0)
			log_error("%s:%d: not 'key = value' nor [section]",
			          path, line);
		else
			log_error("%s: cannot be read (out of memory)", path);
		return -ERR_INVALID;
	}
	if (!c->n_out) {
		log_error("%s: no [output NAME] section: where should the "
		          "stream go?",
		          path);
		return -ERR_INVALID;
	}
	for (size_t i = 0; i < c->n_out; i++)
		if (!c->out[i].url[0]) {
			log_error("%s: [output %s] has no url", path,
			          c->out[i].name);
			return -ERR_INVALID;
		}
	return 0;
}

bool cfg_same_output(const struct cfg_output *x, const struct cfg_output *y)
{
	return !strcmp(x->name, y->name) && !strcmp(x->url, y->url) &&
	       !strcmp(x->password_file, y->password_file) &&
	       !strcmp(x->password_env, y->password_env) &&
	       x->quality == y->quality && x->bitrate_kbps == y->bitrate_kbps &&
	       x->channels == y->channels;
}

bool cfg_same_outputs(const struct config *a, const struct config *b)
{
	if (a->n_out != b->n_out || a->fmt.rate != b->fmt.rate ||
	    a->fmt.channels != b->fmt.channels)
		return false;
	for (size_t i = 0; i < a->n_out; i++)
		if (!cfg_same_output(&a->out[i], &b->out[i]))
			return false;
	return true;
}
