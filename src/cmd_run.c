/*
 * cmd_run.c - "pulse-radio run --config FILE": the station as a daemon.
 *
 * The one thing to know: everything the configuration says is applied on
 * the thread that plays, between two blocks (the player's tick hook), so a
 * reload never races the audio and never leaves a gap. SIGHUP asks for a
 * reload: a configuration that does not parse is refused with its line
 * and the running one stays; a good one sets the log level and re-reads
 * the schedule and the sound settings at once. SIGTERM fades the
 * programme out and closes every output cleanly. Under systemd
 * (Type=notify) it reports READY, RELOADING, STOPPING (notify.c speaks
 * the protocol) and pets the watchdog from the same hook, so a stuck
 * audio loop is a restart.
 */
#include "commands.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd_priv.h"
#include "config.h"
#include "encfill.h"
#include "err.h"
#include "http.h"
#include "library.h"
#include "listeners.h"
#include "log.h"
#include "notify.h"
#include "output.h"
#include "player.h"
#include "station.h"
#include "status.h"
#include "store.h"

#define STOP_FADE_MS 1000

static volatile sig_atomic_t stop_flag, reload_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	reload_flag = 1;
}

/* What the tick hook works with. */
struct daemon {
	struct config cfg; /* in force */
	struct station *station;
	struct status *status;
	struct http *http;
	struct listeners *listeners; /* NULL: no Icecast output */
	struct encfill *fill;        /* NULL: no encoded cache */
	/* The player's outputs (run()'s array), and which of them is
	 * cfg.out[k]'s (NULL: not open, or the player dropped it). */
	struct output **outs;
	size_t *n_outs;
	struct output *of_cfg[CFG_MAX_OUTPUTS];
	uint64_t watchdog_us; /* 0: no watchdog */
	struct timespec last_pet;
};

static void usage(FILE *f)
{
	fputs("Usage: pulse-radio run --config FILE [--check | --fill-cache]\n"
	      "\n"
	      "Runs the station as configured in FILE (see "
	      "dist/pulse-radio.conf):\n"
	      "the schedule in its database on the wall clock, news from "
	      "its queue\n"
	      "and drop folder, one stream mixed once and encoded for each "
	      "output.\n"
	      "SIGHUP re-reads FILE and the schedule (a bad FILE is refused "
	      "and the\n"
	      "running one stays); SIGTERM fades out and closes the "
	      "outputs.\n"
	      "--check only reads FILE and says whether it is good.\n"
	      "--fill-cache encodes the library into encoded_cache (what the "
	      "daemon\n"
	      "does in the background) and exits.\n",
	      f);
}

/* Opens cfg's output o into *out: 0 or a negative code (logged). */
static int open_output(const struct config *cfg, const struct cfg_output *o,
                       struct output **out)
{
	struct out_options opt = {
	    .fmt = cfg->fmt,
	    .channels = o->channels,
	    .quality = o->quality,
	    .bitrate_kbps = o->bitrate_kbps,
	    .name = cfg->name[0] ? cfg->name : NULL,
	    .genre = cfg->genre[0] ? cfg->genre : NULL,
	    .description = cfg->description[0] ? cfg->description : NULL,
	    .url = cfg->url[0] ? cfg->url : NULL,
	};
	char password[256] = "", what[96];
	int rc = 0;

	snprintf(what, sizeof(what), "[output %s] password_file", o->name);
	if (o->password_file[0])
		rc = cmd_read_password(what, o->password_file, password,
		                       sizeof(password));
	else if (o->password_env[0] && getenv(o->password_env))
		snprintf(password, sizeof(password), "%s",
		         getenv(o->password_env));
	else if (o->password_env[0])
		log_warn("[output %s] password_env: %s is not set", o->name,
		         o->password_env);
	if (password[0])
		opt.password = password;
	if (rc == 0)
		rc = out_open(out, o->url, &opt);
	explicit_bzero(password, sizeof(password));
	if (rc < 0)
		return rc;
	log_info("[output %s] %s: %s, %s", o->name, out_name(*out),
	         (o->channels ? o->channels : cfg->fmt.channels) == 1
	             ? "mono"
	             : "stereo",
	         o->bitrate_kbps ? "nominal bitrate" : "VBR quality");
	return 0;
}

/* Opens every output of d->cfg into outs. 0 or the first failure's code
 * (logged; the ones opened so far are closed). */
static int open_outputs(struct daemon *d, struct output **outs, size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < d->cfg.n_out; i++) {
		int rc = open_output(&d->cfg, &d->cfg.out[i], &outs[*n]);

		if (rc < 0) {
			for (size_t k = 0; k < *n; k++)
				out_close(outs[k]);
			*n = 0;
			return rc;
		}
		d->of_cfg[i] = outs[*n];
		(*n)++;
	}
	return 0;
}

/* Whether o is still among the player's outputs. */
static bool output_alive(const struct daemon *d, const struct output *o)
{
	for (size_t i = 0; o && i < *d->n_outs; i++)
		if (d->outs[i] == o)
			return true;
	return false;
}

/*
 * A reload's outputs, between two blocks: those unchanged keep running
 * (their listeners hear nothing happen), new and changed ones are opened,
 * the ones gone closed. If none of next's outputs opens, the old ones
 * stay. Then d->cfg has next's outputs.
 */
static void reload_outputs(struct daemon *d, const struct config *next)
{
	struct output *by[CFG_MAX_OUTPUTS] = {0}, *fresh[CFG_MAX_OUTPUTS];
	bool kept[CFG_MAX_OUTPUTS] = {false};
	struct status_snapshot *now = malloc(sizeof(*now));
	size_t n = 0;

	for (size_t j = 0; j < next->n_out; j++) {
		for (size_t k = 0; k < d->cfg.n_out && !by[j]; k++) {
			if (!kept[k] &&
			    cfg_same_output(&d->cfg.out[k], &next->out[j]) &&
			    output_alive(d, d->of_cfg[k])) {
				by[j] = d->of_cfg[k];
				kept[k] = true;
			}
		}
		if (!by[j]) {
			if (open_output(next, &next->out[j], &by[j]) < 0) {
				log_error("reload: [output %s] could not be "
				          "opened; left out",
				          next->out[j].name);
				by[j] = NULL;
				continue;
			}
			/* It joins mid-item: the title on air now. */
			if (now) {
				status_get(d->status, now);
				out_begin_item(by[j], now->title, now->artist);
			}
			log_info("reload: [output %s] on air",
			         next->out[j].name);
		}
		fresh[n++] = by[j];
	}
	free(now);
	if (n == 0) {
		log_error("reload: none of the new outputs opened; the "
		          "running ones stay");
		return;
	}
	for (size_t k = 0; k < d->cfg.n_out; k++) {
		if (!kept[k] && output_alive(d, d->of_cfg[k])) {
			log_info("reload: [output %s] closed",
			         d->cfg.out[k].name);
			out_close(d->of_cfg[k]);
		}
	}
	memcpy(d->outs, fresh, n * sizeof(*fresh));
	*d->n_outs = n;
	memset(d->of_cfg, 0, sizeof(d->of_cfg));
	memcpy(d->of_cfg, by, next->n_out * sizeof(*by));
	memcpy(d->cfg.out, next->out, sizeof(d->cfg.out));
	d->cfg.n_out = next->n_out;
}

/* Holds an exclusive lock on the database file for the process's life
 * (the descriptor is left open): a second daemon on it refuses. */
static int lock_database(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		log_error("%s: %s (create it with: pulse-radio db init --db "
		          "%s)",
		          path, strerror(errno), path);
		return -ERR_USAGE;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		log_error("%s: another pulse-radio is already running on this "
		          "database",
		          path);
		close(fd);
		return -ERR_CONFLICT;
	}
	return fd;
}

/* Station settings the configuration owns: the time zone. */
static void apply_station(struct daemon *d)
{
	struct store *st = station_store(d->station);
	char zone[128];

	if (!d->cfg.timezone[0])
		return;
	if (store_setting_get(st, "timezone", zone, sizeof(zone)) == 0 &&
	    strcmp(zone, d->cfg.timezone) == 0)
		return;
	if (store_setting_set(st, "timezone", d->cfg.timezone) == 0)
		log_info("time zone set to %s", d->cfg.timezone);
}

static void reload(struct daemon *d)
{
	struct config *next = malloc(sizeof(*next));

	notify_reloading();
	log_info("reloading %s", d->cfg.path);
	if (!next || cfg_load(next, d->cfg.path) < 0) {
		log_error("reload: %s refused; the running configuration "
		          "stays",
		          d->cfg.path);
		free(next);
		notify_send("READY=1");
		return;
	}
	if (next->world_readable)
		log_warn("%s is readable by every user; chmod 640 it",
		         next->path);
	if (next->fmt.rate != d->cfg.fmt.rate ||
	    next->fmt.channels != d->cfg.fmt.channels ||
	    strcmp(d->cfg.database, next->database) ||
	    strcmp(d->cfg.drop_dir, next->drop_dir))
		log_warn("reload: the audio format, database and drop folder "
		         "change only on a restart; the rest is applied");
	/* The mix keeps its format: outputs opened now encode that. */
	next->fmt = d->cfg.fmt;
	if (!cfg_same_outputs(&d->cfg, next))
		reload_outputs(d, next);
	log_set_level(next->level);
	/* What changes now: the level, the zone, the schedule; the rest
	 * is kept as it runs. */
	snprintf(d->cfg.timezone, sizeof(d->cfg.timezone), "%s",
	         next->timezone);
	d->cfg.level = next->level;
	free(next);
	apply_station(d);
	if (station_reload(d->station) == 0)
		log_info("configuration and schedule reloaded");
	notify_send("READY=1");
}

/* Between two blocks: a reload asked for, the watchdog due. */
static void on_tick(void *ctx)
{
	struct daemon *d = ctx;

	if (reload_flag) {
		reload_flag = 0;
		reload(d);
	}
	if (d->watchdog_us) {
		struct timespec now;
		long long us;

		clock_gettime(CLOCK_MONOTONIC, &now);
		us = (long long)(now.tv_sec - d->last_pet.tv_sec) * 1000000 +
		     (now.tv_nsec - d->last_pet.tv_nsec) / 1000;
		/* Half the interval, as sd_notify(3) advises, at the block
		 * boundary before it rather than the one after. */
		if (us + PLAYER_REALTIME_BLOCK_MS * 1000LL >=
		    (long long)(d->watchdog_us / 2)) {
			notify_send("WATCHDOG=1");
			d->last_pet = now;
		}
	}
}

/* Scans the configured music and jingle folders (new and changed files
 * only) before going on air. */
static void scan_folders(struct daemon *d)
{
	const char *dirs[] = {d->cfg.music_dir, d->cfg.jingle_dir};

	for (size_t i = 0; i < 2; i++) {
		struct lib_scan_stats s = {0};

		if (!dirs[i][0])
			continue;
		if (lib_scan(store_db(station_store(d->station)), dirs[i],
		             &s) == 0)
			log_info("%s: %zu files, %zu added, %zu updated, %zu "
			         "bad",
			         dirs[i], s.scanned, s.added, s.updated, s.bad);
	}
}

/* The player's options before the station's settings. */
static void play_defaults(struct daemon *d, struct player_options *play)
{
	*play = (struct player_options){
	    .fmt = d->cfg.fmt,
	    .limiter = true,
	    .ceiling_dbtp = -1.0,
	    .dead_air_ms = PLAYER_DEAD_AIR_MS_DEFAULT,
	    .dead_air_db = PLAYER_DEAD_AIR_DB_DEFAULT,
	    .stop_fade_ms = STOP_FADE_MS,
	    .tick = on_tick,
	    .tick_ctx = d,
	};
}

/* What cached encodings are made with: the player's limiter and
 * dead-air rule, the first output's encoding (the player passes music
 * through only when every output encodes alike; it says so). */
static bool pass_template(const struct config *cfg,
                          const struct player_options *play,
                          struct enccache_spec *t)
{
	const struct cfg_output *o = &cfg->out[0];

	memset(t, 0, sizeof(*t));
	for (size_t i = 1; i < cfg->n_out; i++) {
		const struct cfg_output *x = &cfg->out[i];

		if (x->channels != o->channels || x->quality != o->quality ||
		    x->bitrate_kbps != o->bitrate_kbps) {
			log_warn("encoded cache: not used: the outputs encode "
			         "differently ([output %s], [output %s])",
			         o->name, x->name);
			return false;
		}
	}
	t->fmt = cfg->fmt;
	t->enc_channels = o->channels ? o->channels : cfg->fmt.channels;
	t->quality = o->quality;
	t->bitrate_kbps = o->bitrate_kbps;
	t->limiter = play->limiter;
	t->ceiling_dbtp = play->ceiling_dbtp - PLAYER_CODEC_MARGIN_DB;
	t->dead_air_ms = play->dead_air_ms;
	t->dead_air_db = play->dead_air_db;
	return cfg->n_out > 0;
}

static void want_encoding(void *ctx, const struct enccache_spec *spec)
{
	struct daemon *d = ctx;

	encfill_want(d->fill, spec);
}

/* run --fill-cache: the daemon's background sweep, here and to its end. */
static int fill_cache(struct daemon *d)
{
	struct station_options so = {.db_path = d->cfg.database,
	                             .render = true};
	struct encfill_options fo = {.dir = d->cfg.encoded_cache,
	                             .db_path = d->cfg.database};
	struct encfill_stats st;
	struct player_options play;
	int rc;

	if (!d->cfg.encoded_cache[0]) {
		log_error("%s: no encoded_cache in [station]", d->cfg.path);
		return -ERR_USAGE;
	}
	play_defaults(d, &play);
	rc = station_open(&d->station, &so);
	if (rc < 0)
		return rc;
	station_player_options(d->station, &play);
	station_close(d->station);
	d->station = NULL;
	if (!pass_template(&d->cfg, &play, &fo.tmpl))
		return -ERR_USAGE;
	rc = encfill_sweep(&fo, (const volatile int *)&stop_flag, &st);
	log_info("encoded cache: %zu tracks ready, %zu encoded now, %zu not "
	         "worth it, %zu failed",
	         st.ready + st.built, st.built, st.skipped, st.failed);
	return rc < 0 ? rc : stop_flag ? -EINTR : 0;
}

static int run(struct daemon *d)
{
	struct station_options so = {
	    .db_path = d->cfg.database,
	    .drop_dir = d->cfg.drop_dir[0] ? d->cfg.drop_dir : NULL};
	struct player_options play;
	struct output *outs[CFG_MAX_OUTPUTS];
	struct player_stats st = {0};
	struct timespec now;
	size_t n_outs = 0;
	int lock, rc;

	play_defaults(d, &play);
	d->outs = outs;
	d->n_outs = &n_outs;
	lock = lock_database(d->cfg.database);
	if (lock < 0)
		return lock;
	clock_gettime(CLOCK_REALTIME, &now);
	rc = status_new(&d->status, d->cfg.fmt.rate,
	                (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	play.status = d->status;
	if (rc == 0)
		rc = station_open(&d->station, &so);
	if (rc == 0) {
		apply_station(d);
		scan_folders(d);
		station_player_options(d->station, &play);
		rc = open_outputs(d, outs, &n_outs);
	}
	/* Passing music through is a saving, not a need: without its
	 * thread (logged) everything is encoded on air. */
	if (rc == 0 && d->cfg.encoded_cache[0]) {
		struct encfill_options fo = {.dir = d->cfg.encoded_cache,
		                             .db_path = d->cfg.database};

		if (pass_template(&d->cfg, &play, &fo.tmpl) &&
		    encfill_start(&d->fill, &fo) == 0) {
			play.pass_dir = d->cfg.encoded_cache;
			play.pass_missing = want_encoding;
			play.pass_ctx = d;
		}
	}
	/* Listener counts are a nicety: when they cannot start (logged),
	 * the station still goes on air. */
	if (rc == 0)
		(void)listeners_start(&d->listeners, d->status, d->cfg.out,
		                      d->cfg.n_out,
		                      LISTENERS_INTERVAL_S_DEFAULT);
	if (rc == 0 && d->cfg.http_bind[0]) {
		struct http_options ho = {.bind = d->cfg.http_bind,
		                          .token_file = d->cfg.http_token_file,
		                          .db_path = d->cfg.database,
		                          .station = d->cfg.name,
		                          .status = d->status};

		rc = http_start(&d->http, &ho);
	}
	if (rc == 0) {
		if (notify_watchdog_usec(&d->watchdog_us) <= 0)
			d->watchdog_us = 0;
		clock_gettime(CLOCK_MONOTONIC, &d->last_pet);
		notify_sendf("READY=1\nSTATUS=On air: %zu output(s)", n_outs);
		log_info("on air: %s, %u Hz %s, %zu output(s)", d->cfg.name,
		         d->cfg.fmt.rate,
		         d->cfg.fmt.channels == 1 ? "mono" : "stereo", n_outs);
		rc = station_play(d->station, outs, &n_outs, &play, &stop_flag,
		                  &st);
		notify_send("STOPPING=1");
		log_info("stopped: %zu items, %.1f s of audio", st.items,
		         (double)st.frames / d->cfg.fmt.rate);
	}
	encfill_stop(d->fill);
	d->fill = NULL;
	http_stop(d->http);
	d->http = NULL;
	listeners_stop(d->listeners);
	d->listeners = NULL;
	for (size_t i = 0; i < n_outs; i++)
		out_close(outs[i]);
	station_close(d->station);
	d->station = NULL;
	status_free(d->status);
	d->status = NULL;
	close(lock);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check", no_argument, NULL, 'k'},
	    {"fill-cache", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct sigaction sa = {0};
	struct daemon *d;
	const char *path = NULL;
	bool check = false, fill = false;
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'k':
			check = true;
			break;
		case 'f':
			fill = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (!path || optind < argc) {
		usage(stderr);
		return 2;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		log_error("run: out of memory");
		return 1;
	}
	if (cfg_load(&d->cfg, path) < 0) {
		free(d);
		return 1;
	}
	if (d->cfg.world_readable)
		log_warn("%s is readable by every user; chmod 640 it", path);
	if (check) {
		printf("%s: good: %zu output(s), database %s\n", path,
		       d->cfg.n_out, d->cfg.database);
		free(d);
		return 0;
	}
	log_set_level(d->cfg.level);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a signal cuts the pacing sleep short. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	/* A send to a server that went away is an error the output handles
	 * (EPIPE), never a reason to die; ignored here, the outputs need
	 * not block and unblock it around every page (output_shout.c). The
	 * speech helper gets it back (speaker.c resets it). */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	rc = fill ? fill_cache(d) : run(d);
	free(d);
	if (rc == -ERR_USAGE)
		return 2;
	return rc < 0 ? 1 : 0;
}
