/*
 * main.c - the pulse-radio command line: options, signals, wiring.
 *
 * Signal handlers only set a flag; the player finishes its block, then the
 * outputs are closed cleanly so every stream ends with a proper EOS page.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd_priv.h"
#include "commands.h"
#include "err.h"
#include "feed_playlist.h"
#include "limiter.h"
#include "log.h"
#include "output.h"
#include "pcm.h"
#include "player.h"
#include "playlist.h"
#include "station.h"
#include "store.h"
#include "timeutil.h"

#define MAX_OUTPUTS 8
#define PASSWORD_ENV "PULSE_RADIO_PASSWORD"

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(FILE *f)
{
	fputs(
	    "Usage: pulse-radio run --config FILE   (the daemon: see run "
	    "--help)\n"
	    "       pulse-radio play PLAYLIST.m3u --output SPEC [--output SPEC]"
	    " [options]\n"
	    "       pulse-radio air --output SPEC [--output SPEC] [--db FILE]"
	    " [options]\n"
	    "       pulse-radio render --from DATETIME --hours N --output SPEC"
	    " [--asrun] [options]\n"
	    "       pulse-radio db init|migrate|version | get [KEY] | set KEY "
	    "VALUE\n"
	    "       pulse-radio library scan DIR | list\n"
	    "       pulse-radio playlist import FILE.m3u | list | show NAME |"
	    " remove NAME\n"
	    "       pulse-radio slot add|list|remove|edit ...\n"
	    "       pulse-radio override add|list|remove ...\n"
	    "       pulse-radio asrun export --from DATE --to DATE\n"
	    "       pulse-radio bulletin add TEXT | list | show ID | withdraw "
	    "ID\n"
	    "       pulse-radio COMMAND --help   (each command's options)\n"
	    "         (the database: --db FILE, else $PULSE_RADIO_DB, else\n"
	    "          ./pulse-radio.db)\n"
	    "       pulse-radio --help | --version\n"
	    "\n"
	    "play runs a playlist, air runs the schedule in the database on\n"
	    "the wall clock (as-run logged), render runs the schedule from\n"
	    "--from for --hours on a simulated clock, as fast as the CPU\n"
	    "allows (--asrun logs it too). All make one continuous Ogg/Vorbis\n"
	    "stream, gapless, to an Icecast mount and/or a file; each item is\n"
	    "its own logical bitstream, so listeners see its TITLE and "
	    "ARTIST.\n"
	    "\n"
	    "Outputs (one or more):\n"
	    "  -o, --output icecast://USER:PASSWORD@HOST:PORT/MOUNT\n"
	    "                      an Icecast mount (user 'source', port 8000"
	    " if left out)\n"
	    "  -o, --output file:PATH.ogg\n"
	    "                      an Ogg file, written as fast as the CPU"
	    " allows\n"
	    "      --password-file FILE\n"
	    "                      Icecast password, when not in the URL (also"
	    " $" PASSWORD_ENV ")\n"
	    "\n"
	    "Playing:\n"
	    "      --realtime      pace a file output in real time (Icecast"
	    " always is)\n"
	    "      --shuffle       a new random order on every pass\n"
	    "      --once          play the playlist once, then stop (default:"
	    " loop)\n"
	    "      --duration SEC  stop after SEC seconds of audio\n"
	    "      --library DIR   entries must lie inside DIR (default: the"
	    " playlist's folder)\n"
	    "\n"
	    "Sound:\n"
	    "      --rate HZ       station rate, 44100 (default) or 48000\n"
	    "      --channels N    1 or 2 (default 2)\n"
	    "      --quality Q     Vorbis quality -0.1..1.0 (default 0.4)\n"
	    "      --bitrate KBPS  nominal bitrate instead of a quality\n"
	    "\n"
	    "Stream information for Icecast:\n"
	    "      --name, --genre, --description, --url TEXT\n"
	    "\n"
	    "News (air, and render with --asrun):\n"
	    "      --drop DIR      air: queue the bulletin .txt files saved in"
	    " DIR\n"
	    "                      (then moved to DIR/done or DIR/failed)\n"
	    "\n"
	    "      --log-level error|warn|info|debug   (default info)\n"
	    "  -h, --help          this text\n"
	    "  -V, --version       the version\n",
	    f);
}

enum {
	OPT_REALTIME = 256,
	OPT_SHUFFLE,
	OPT_ONCE,
	OPT_DURATION,
	OPT_LIBRARY,
	OPT_RATE,
	OPT_CHANNELS,
	OPT_QUALITY,
	OPT_BITRATE,
	OPT_PASSWORD_FILE,
	OPT_NAME,
	OPT_GENRE,
	OPT_DESCRIPTION,
	OPT_URL,
	OPT_LOG_LEVEL,
	OPT_SEED,
	OPT_DB,
	OPT_FROM,
	OPT_HOURS,
	OPT_ASRUN,
	OPT_DROP,
};

static const struct option long_opts[] = {
    {"output", required_argument, NULL, 'o'},
    {"realtime", no_argument, NULL, OPT_REALTIME},
    {"shuffle", no_argument, NULL, OPT_SHUFFLE},
    {"once", no_argument, NULL, OPT_ONCE},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"library", required_argument, NULL, OPT_LIBRARY},
    {"rate", required_argument, NULL, OPT_RATE},
    {"channels", required_argument, NULL, OPT_CHANNELS},
    {"quality", required_argument, NULL, OPT_QUALITY},
    {"bitrate", required_argument, NULL, OPT_BITRATE},
    {"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
    {"name", required_argument, NULL, OPT_NAME},
    {"genre", required_argument, NULL, OPT_GENRE},
    {"description", required_argument, NULL, OPT_DESCRIPTION},
    {"url", required_argument, NULL, OPT_URL},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"seed", required_argument, NULL, OPT_SEED},
    {"db", required_argument, NULL, OPT_DB},
    {"from", required_argument, NULL, OPT_FROM},
    {"hours", required_argument, NULL, OPT_HOURS},
    {"asrun", no_argument, NULL, OPT_ASRUN},
    {"drop", required_argument, NULL, OPT_DROP},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

struct args {
	const char *command;
	const char *playlist;
	const char *library;
	const char *outputs[MAX_OUTPUTS];
	size_t n_outputs;
	const char *password_file;
	struct out_options out;
	struct player_options play;
	struct feed_playlist_options feed;
	const char *db;   /* air, render: the database */
	const char *from; /* render: local date and time */
	double hours;     /* render: how long */
	bool asrun;       /* render: log as-run too */
	const char *drop; /* air: the bulletin drop folder */
	char password[256];
};

static int parse_double(const char *s, const char *what, double lo, double hi,
                        double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (errno || end == s || *end || *v < lo || *v > hi) {
		log_error("%s: '%s' is not a number from %g to %g", what, s, lo,
		          hi);
		return -ERR_USAGE;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	double v;
	int c;

	a->out.fmt.rate = PCM_DEFAULT_RATE;
	a->out.fmt.channels = PCM_DEFAULT_CHANNELS;
	a->out.quality = 0.4f;
	while ((c = getopt_long(argc, argv, "o:hV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (a->n_outputs == MAX_OUTPUTS) {
				log_error("at most %d outputs", MAX_OUTPUTS);
				return -ERR_USAGE;
			}
			a->outputs[a->n_outputs++] = optarg;
			break;
		case OPT_REALTIME:
			a->play.realtime = true;
			break;
		case OPT_SHUFFLE:
			a->feed.shuffle = true;
			break;
		case OPT_ONCE:
			a->feed.once = true;
			break;
		case OPT_DURATION:
			if (parse_double(optarg, "--duration", 0.001, 1e9,
			                 &a->play.max_seconds) < 0)
				return -ERR_USAGE;
			break;
		case OPT_LIBRARY:
			a->library = optarg;
			break;
		case OPT_RATE:
			if (parse_double(optarg, "--rate", 8000, 192000, &v) <
			    0)
				return -ERR_USAGE;
			a->out.fmt.rate = (unsigned)v;
			break;
		case OPT_CHANNELS:
			if (parse_double(optarg, "--channels", 1, 2, &v) < 0)
				return -ERR_USAGE;
			a->out.fmt.channels = (unsigned)v;
			break;
		case OPT_QUALITY:
			if (parse_double(optarg, "--quality", -0.1, 1.0, &v) <
			    0)
				return -ERR_USAGE;
			a->out.quality = (float)v;
			break;
		case OPT_BITRATE:
			if (parse_double(optarg, "--bitrate", 16, 500, &v) < 0)
				return -ERR_USAGE;
			a->out.bitrate_kbps = (unsigned)v;
			break;
		case OPT_PASSWORD_FILE:
			a->password_file = optarg;
			break;
		case OPT_NAME:
			a->out.name = optarg;
			break;
		case OPT_GENRE:
			a->out.genre = optarg;
			break;
		case OPT_DESCRIPTION:
			a->out.description = optarg;
			break;
		case OPT_URL:
			a->out.url = optarg;
			break;
		case OPT_LOG_LEVEL: {
			enum log_level l;

			if (log_level_parse(optarg, &l) < 0) {
				log_error("--log-level: '%s' is not one of "
				          "error, warn, info, debug",
				          optarg);
				return -ERR_USAGE;
			}
			log_set_level(l);
			break;
		}
		case OPT_SEED:
			if (parse_double(optarg, "--seed", 1, 4294967295.0,
			                 &v) < 0)
				return -ERR_USAGE;
			a->feed.seed = (unsigned)v;
			break;
		case OPT_DB:
			a->db = optarg;
			break;
		case OPT_FROM:
			a->from = optarg;
			break;
		case OPT_HOURS:
			if (parse_double(optarg, "--hours", 0.001, 24 * 366,
			                 &a->hours) < 0)
				return -ERR_USAGE;
			break;
		case OPT_ASRUN:
			a->asrun = true;
			break;
		case OPT_DROP:
			a->drop = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("pulse-radio %s\n", PULSE_VERSION);
			exit(0);
		default:
			fputs("Try 'pulse-radio --help'.\n", stderr);
			return -ERR_USAGE;
		}
	}
	if (optind < argc)
		a->command = argv[optind++];
	if (optind < argc)
		a->playlist = argv[optind++];
	if (optind < argc) {
		log_error("unexpected argument '%s'", argv[optind]);
		return -ERR_USAGE;
	}
	a->play.fmt = a->out.fmt;
	a->play.limiter = true;
	a->play.ceiling_dbtp = LIMITER_CEILING_DEFAULT;
	a->play.dead_air_ms = PLAYER_DEAD_AIR_MS_DEFAULT;
	a->play.dead_air_db = PLAYER_DEAD_AIR_DB_DEFAULT;
	/* Ctrl-C or SIGTERM: a second of fade, not a cut. */
	a->play.stop_fade_ms = 1000;
	return 0;
}

/* Opens the outputs, plays the feed (or the station) into them, closes
 * them. */
static int run_outputs(struct args *a, const struct player_feed *feed,
                       struct station *station)
{
	struct output *outs[MAX_OUTPUTS];
	struct player_stats st = {0};
	size_t n_outs = 0;
	int rc = 0;

	for (size_t i = 0; i < a->n_outputs; i++) {
		rc = out_open(&outs[n_outs], a->outputs[i], &a->out);
		if (rc < 0)
			goto out; /* out_open said why */
		n_outs++;
		/* A live mount must be fed in real time. */
		if (strncmp(a->outputs[i], "icecast://", 10) == 0)
			a->play.realtime = true;
	}
	if (station)
		rc = station_play(station, outs, &n_outs, &a->play, &stop_flag,
		                  &st);
	else
		rc = player_run(feed, outs, &n_outs, &a->play, &stop_flag, &st);
	log_info("played %zu items, %.1f s of audio; %zu skipped", st.items,
	         (double)st.frames / a->play.fmt.rate, st.skipped);
out:
	for (size_t i = 0; i < n_outs; i++)
		out_close(outs[i]);
	return rc;
}

static int run_feed(struct args *a, const struct player_feed *feed)
{
	return run_outputs(a, feed, NULL);
}

static int run_station(struct args *a, struct station *s)
{
	return run_outputs(a, NULL, s);
}

static int cmd_play(struct args *a)
{
	struct playlist *pl = NULL;
	struct feed_playlist *fp = NULL;
	struct player_feed feed;
	int rc;

	if (!a->playlist) {
		log_error("play: which playlist? (pulse-radio play "
		          "PLAYLIST.m3u --output ...)");
		return -ERR_USAGE;
	}
	rc = playlist_load(&pl, a->playlist, a->library);
	if (rc < 0)
		return rc;
	if (pl->count == 0) {
		log_error("%s: no playable entries", a->playlist);
		rc = -ERR_EMPTY;
		goto out;
	}
	rc = feed_playlist_new(&fp, pl, &a->feed, &feed);
	if (rc == 0)
		rc = run_feed(a, &feed);
out:
	feed_playlist_free(fp);
	playlist_free(pl);
	return rc;
}

/*
 * air: the schedule on the wall clock, as-run logged. render: the same
 * schedule from --from on a simulated clock, as fast as the outputs
 * allow, logging as-run only when asked (it did not really air).
 */
static int cmd_schedule(struct args *a, bool render)
{
	struct station_options so = {.db_path = cmd_db_path(a->db),
	                             .render = render,
	                             .log_asrun = !render || a->asrun,
	                             .drop_dir = a->drop};
	struct station *s = NULL;
	int rc;

	if (a->playlist) {
		log_error("%s: unexpected argument '%s'", a->command,
		          a->playlist);
		return -ERR_USAGE;
	}
	if (render && a->drop) {
		log_error("render: --drop is for air only");
		return -ERR_USAGE;
	}
	if (render && (!a->from || a->hours <= 0)) {
		log_error("render: give --from DATETIME and --hours N");
		return -ERR_USAGE;
	}
	rc = station_open(&s, &so);
	if (rc < 0)
		return rc;
	if (render) {
		char zone[128];
		int64_t from_s;

		if (store_setting_get(station_store(s), "timezone", zone,
		                      sizeof(zone)) < 0 ||
		    tu_parse_local(a->from, zone, &from_s) < 0) {
			log_error("render: --from '%s': not a date and time "
			          "(YYYY-MM-DDTHH:MM)",
			          a->from);
			station_close(s);
			return -ERR_USAGE;
		}
		a->play.start_ms = from_s * 1000;
		a->play.max_seconds = a->hours * 3600;
	}
	station_player_options(s, &a->play);
	rc = run_station(a, s);
	station_close(s);
	return rc;
}

int main(int argc, char **argv)
{
	struct args a = {0};
	struct sigaction sa = {0};
	int rc;

	/* A fixed threshold: blocks of 64 KiB or more (a bulletin's speech,
	 * decoder and encoder state) are mapped and given back whole when
	 * freed. glibc's default moves the threshold up to the largest block
	 * freed, after which such blocks stay in the heap, fragmented: a
	 * 48 h soak grew the daemon's own memory by 920 kB that way, by
	 * 252 kB with this (bench/soak.sh). */
	mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a signal cuts the pacing sleep short. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A server that hangs up must be an error code, not our death. */
	signal(SIGPIPE, SIG_IGN);

	/* Operator subcommands parse their own options. */
	if (argc > 1 && cmd_find(argv[1]))
		return cmd_find(argv[1])(argc - 1, argv + 1);
	rc = parse_args(argc, argv, &a);
	if (rc < 0)
		return 2;
	if (!a.command) {
		usage(stderr);
		return 2;
	}
	if (!a.n_outputs) {
		log_error("%s: no --output given (icecast://... or "
		          "file:PATH.ogg)",
		          a.command);
		return 2;
	}
	if (a.password_file) {
		if (cmd_read_password("--password-file", a.password_file,
		                      a.password, sizeof(a.password)) < 0)
			return 1;
		a.out.password = a.password;
	} else if (getenv(PASSWORD_ENV)) {
		a.out.password = getenv(PASSWORD_ENV);
	}
	if (strcmp(a.command, "play") == 0) {
		rc = cmd_play(&a);
	} else if (strcmp(a.command, "air") == 0 ||
	           strcmp(a.command, "render") == 0) {
		rc = cmd_schedule(&a, strcmp(a.command, "render") == 0);
	} else {
		log_error("unknown command '%s' (try 'pulse-radio --help')",
		          a.command);
		return 2;
	}
	explicit_bzero(a.password, sizeof(a.password));
	if (rc == -ERR_USAGE)
		return 2;
	return rc < 0 ? 1 : 0;
}
