/*
 * output_shout.c - Ogg pages to an Icecast mount (libshout, non-blocking).
 *
 * Nothing here may stall the clock tick: libshout runs non-blocking, and
 * while the mount is away the audio is dropped (output.c does not even
 * encode it) and shout_open() is retried with exponential backoff from
 * CLOCK_MONOTONIC, one log line per try. libshout's own pacing
 * (shout_sync, shout_delay) reads the wall clock and is never used: the
 * player paces. libshout reports a wrong password and a busy mount alike
 * (SHOUTERR_NOLOGIN), so at open a small request of our own tells a 401
 * from a 403; later, any refusal is retried.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <shout/shout.h>

#include "err.h"
#include "log.h"
#include "output.h"
#include "output_priv.h"

#define BACKOFF_MIN_S 0.5
#define BACKOFF_MAX_S 3.0
/* A connection that lasted this long resets the backoff when lost. */
#define STABLE_S 10.0
/* A try that has neither succeeded nor failed by then has failed. */
#define CONNECT_TIMEOUT_S 10.0
/* out_open() waits this long for the first connection. */
#define FIRST_CONNECT_S 5.0
#define PROBE_TIMEOUT_S 2.0
/* out_close() sends what is queued for at most this long. */
#define CLOSE_FLUSH_S 1.0
/* Queued bytes past which the server counts as stalled: 5 s of audio at
 * the nominal bitrate, or this much when only a quality is known. */
#define STALL_SECONDS 5
#define STALL_DEFAULT_BYTES (256 * 1024)
#define STALL_MIN_BYTES (64 * 1024)

enum shout_state {
	ST_WAITING,    /* disconnected; next try at next_try_s */
	ST_CONNECTING, /* shout_open() in progress since try_s */
	ST_CONNECTED,
};

struct shout_out {
	shout_t *sh;
	enum shout_state state;
	bool fresh; /* connected, and no logical bitstream sent yet */
	bool ever_connected;
	bool opening; /* connect_first() words its own failures */
	int last_rc;  /* libshout's code for the last failed try */
	double next_try_s;
	double try_s;
	double connected_s;
	double lost_s;
	double backoff_s;
	size_t stall_bytes;
	bool pipe_off; /* SIGPIPE ignored by the process: no guards */
};

/*
 * libshout 2.4.6's shout_free() frees nothing unless the shout_t is still
 * connected (its test is the wrong way round), and a connected one must
 * not be freed. What it leaves, about 1 KiB per output, stays reachable
 * from here, so leak checkers (valgrind, LeakSanitizer) do not report the
 * library's bug as ours; past the table's end it is simply lost. A fixed
 * libshout frees it, and the stale pointer is never used.
 */
#define GRAVES 64
static shout_t *volatile graves[GRAVES]; /* volatile: kept though never read */
static size_t n_graves;
static pthread_mutex_t graves_lock = PTHREAD_MUTEX_INITIALIZER;

#if defined(__SANITIZE_ADDRESS__)
/* Nor does libshout 2.4.6 free what is still queued when it closes a
 * connection (up to the stall limit, after a lost or stalled server; a
 * page or two, usually): nothing we can reach. Weak: a program may bring
 * its own suppressions. */
const char *__lsan_default_suppressions(void) __attribute__((weak));
const char *__lsan_default_suppressions(void)
{
	return "leak:shout_queue_data\n";
}
#endif

static void shout_bury(shout_t *sh)
{
	shout_free(sh);
	pthread_mutex_lock(&graves_lock);
	if (n_graves < GRAVES)
		graves[n_graves++] = sh;
	pthread_mutex_unlock(&graves_lock);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = {.tv_sec = (time_t)s,
	                      .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};

	nanosleep(&ts, NULL);
}

/*
 * libshout writes with send(2) without MSG_NOSIGNAL: a server that went
 * away would kill the whole daemon with SIGPIPE unless the program ignores
 * it. Block it around libshout calls and swallow one that was raised.
 */
struct pipe_guard {
	sigset_t old;
	bool pending_before;
	bool off; /* SIGPIPE is ignored (pipe_off): nothing to guard */
};

/* The daemon ignores SIGPIPE (cmd_run.c): then a send to a closed socket
 * is just EPIPE, and the four system calls a guard costs (per page) are
 * saved. Looked at when the output opens. */
static bool pipe_ignored(void)
{
	struct sigaction sa;

	return sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN;
}

static void pipe_block(struct pipe_guard *g)
{
	sigset_t set, pending;

	if (g->off)
		return;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &g->old);
	g->pending_before =
	    sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
}

static void pipe_unblock(struct pipe_guard *g)
{
	sigset_t set, pending;
	struct timespec zero = {0, 0};

	if (g->off)
		return;
	if (!g->pending_before && sigpending(&pending) == 0 &&
	    sigismember(&pending, SIGPIPE)) {
		sigemptyset(&set);
		sigaddset(&set, SIGPIPE);
		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* ---- telling a wrong password from a busy mount ---- */

static void base64(char *out, const unsigned char *in, size_t len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                          "abcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		*out++ = tab[(v >> 18) & 63];
		*out++ = tab[(v >> 12) & 63];
		*out++ = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		*out++ = i + 2 < len ? tab[v & 63] : '=';
	}
	*out = '\0';
}

/* As libshout sends it: RFC 3986 unreserved, sub-delims it keeps, '/'. */
static void url_path(char *out, size_t size, const char *path)
{
	static const char keep[] = "-_.!~*'()/";
	size_t n = 0;

	for (; *path && n + 4 < size; path++) {
		unsigned char c = (unsigned char)*path;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr(keep, c))
			out[n++] = (char)c;
		else
			n += (size_t)snprintf(out + n, size - n, "%%%02X", c);
	}
	out[n] = '\0';
}

static int wait_fd(int fd, short events, double deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	double left = deadline - now_s();

	if (left <= 0)
		return 0;
	return poll(&p, 1, (int)(left * 1000) + 1);
}

static int probe_connect(const struct out_target *t, double deadline)
{
	struct addrinfo hints = {0}, *ai, *a;
	char port[8];
	int fd = -1;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%u", t->port);
	if (getaddrinfo(t->host, port, &hints, &ai) != 0)
		return -1;
	for (a = ai; a && fd < 0; a = a->ai_next) {
		int err = 0;
		socklen_t len = sizeof(err);

		fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
		if (fd < 0)
			continue;
		fcntl(fd, F_SETFL, O_NONBLOCK);
		if ((connect(fd, a->ai_addr, a->ai_addrlen) < 0 &&
		     (errno != EINPROGRESS ||
		      wait_fd(fd, POLLOUT, deadline) <= 0 ||
		      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 ||
		      err))) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	return fd;
}

/*
 * Asks the server, the way libshout does, whether it takes this source:
 * the HTTP status (401: the password; 403: the mount, with the server's
 * words in why), or -1 when it cannot tell. On a 200 (the mount just came
 * free) the connection closes at once and the server ends that source.
 */
static int probe_login(const struct out_target *t, char *why, size_t why_len)
{
	double deadline = now_s() + PROBE_TIMEOUT_S;
	char cred[512], auth[700], mount[1024], req[2048], resp[1024];
	size_t got = 0, sent = 0, req_len;
	int fd, code = -1, n;
	char *body;

	why[0] = '\0';
	n = snprintf(cred, sizeof(cred), "%s:%s", t->user, t->password);
	if (n < 0 || (size_t)n >= sizeof(cred))
		return -1;
	base64(auth, (const unsigned char *)cred, (size_t)n);
	memset(cred, 0, sizeof(cred));
	url_path(mount, sizeof(mount), t->mount);
	n = snprintf(req, sizeof(req),
	             "SOURCE %s HTTP/1.0\r\n"
	             "Authorization: Basic %s\r\n"
	             "Host: %s:%u\r\n"
	             "User-Agent: pulse-radio/" PULSE_VERSION "\r\n"
	             "Content-Type: audio/ogg\r\n\r\n",
	             mount, auth, t->host, t->port);
	memset(auth, 0, sizeof(auth));
	if (n < 0 || (size_t)n >= sizeof(req))
		goto out;
	req_len = (size_t)n;
	fd = probe_connect(t, deadline);
	if (fd < 0)
		goto out;
	while (sent < req_len) {
		ssize_t w = send(fd, req + sent, req_len - sent, MSG_NOSIGNAL);

		if (w > 0)
			sent += (size_t)w;
		else if (w < 0 && errno == EAGAIN &&
		         wait_fd(fd, POLLOUT, deadline) > 0)
			continue;
		else
			break;
	}
	/* Read to the end: Icecast closes after its answer and body. */
	while (sent == req_len && got + 1 < sizeof(resp)) {
		ssize_t r = recv(fd, resp + got, sizeof(resp) - 1 - got, 0);

		if (r > 0)
			got += (size_t)r;
		else if (r < 0 && errno == EAGAIN &&
		         wait_fd(fd, POLLIN, deadline) > 0)
			continue;
		else
			break;
		/* A 200 has no body to wait for. */
		if (got >= 12 && memcmp(resp + 9, "200", 3) == 0)
			break;
	}
	close(fd);
	resp[got] = '\0';
	if (got >= 12 && strncmp(resp, "HTTP/1.", 7) == 0 && resp[8] == ' ')
		code = atoi(resp + 9);
	body = strstr(resp, "\r\n\r\n");
	if (body) {
		body += 4;
		body[strcspn(body, "\r\n")] = '\0';
		snprintf(why, why_len, "%s", body);
	}
out:
	memset(req, 0, sizeof(req));
	return code;
}

/* ---- connection state ---- */

static const char *shout_why(struct shout_out *s, int rc)
{
	switch (rc) {
	case SHOUTERR_NOCONNECT:
	case SHOUTERR_SOCKET:
		return "cannot connect to the server";
	case SHOUTERR_NOLOGIN:
		return "the server refused the login (a wrong password, or "
		       "the mount is still in use)";
	default:
		return shout_get_error(s->sh);
	}
}

static void shout_reset(struct shout_out *s)
{
	struct pipe_guard g = {.off = s->pipe_off};

	pipe_block(&g);
	shout_close(s->sh); /* drops libshout's queue with the socket */
	pipe_unblock(&g);
}

/* Schedules the next try after one that failed, with one line (unless
 * why is NULL: the caller words it). */
static void try_failed(struct output *o, const char *why)
{
	struct shout_out *s = o->priv;

	shout_reset(s);
	s->state = ST_WAITING;
	s->next_try_s = now_s() + s->backoff_s;
	if (why)
		log_warn("%s: %s; next try in %.1f s", o->name, why,
		         s->backoff_s);
	s->backoff_s *= 2;
	if (s->backoff_s > BACKOFF_MAX_S)
		s->backoff_s = BACKOFF_MAX_S;
}

/* The connection broke or stalled: drop it and retry with backoff. */
static void conn_lost(struct output *o, const char *why)
{
	struct shout_out *s = o->priv;
	double t = now_s();

	if (t - s->connected_s >= STABLE_S)
		s->backoff_s = BACKOFF_MIN_S;
	s->lost_s = t;
	shout_reset(s);
	s->state = ST_WAITING;
	s->next_try_s = t + s->backoff_s;
	log_warn("%s: %s; dropping audio, reconnecting in %.1f s", o->name, why,
	         s->backoff_s);
	s->backoff_s *= 2;
	if (s->backoff_s > BACKOFF_MAX_S)
		s->backoff_s = BACKOFF_MAX_S;
}

static void conn_up(struct output *o)
{
	struct shout_out *s = o->priv;
	double t = now_s();

	if (s->ever_connected) {
		log_info("%s: connected again (%.1f s of audio dropped)",
		         o->name, t - s->lost_s);
		o->reconnects++;
	} else {
		log_info("%s: connected", o->name);
	}
	s->ever_connected = true;
	s->state = ST_CONNECTED;
	s->connected_s = t;
	s->fresh = true;
}

static bool still_trying(int rc)
{
	return rc == SHOUTERR_BUSY || rc == SHOUTERR_RETRY;
}

/* Moves a connection attempt on; never waits. */
static void advance(struct output *o)
{
	struct shout_out *s = o->priv;
	struct pipe_guard g = {.off = s->pipe_off};
	int rc;

	pipe_block(&g);
	if (s->state == ST_WAITING) {
		s->state = ST_CONNECTING;
		s->try_s = now_s();
		rc = shout_open(s->sh);
	} else {
		rc = shout_get_connected(s->sh);
	}
	pipe_unblock(&g);
	if (rc == SHOUTERR_SUCCESS || rc == SHOUTERR_CONNECTED) {
		conn_up(o);
	} else if (still_trying(rc)) {
		if (now_s() - s->try_s > CONNECT_TIMEOUT_S)
			try_failed(o, "no answer from the server");
	} else {
		s->last_rc = rc;
		try_failed(o, s->opening && rc == SHOUTERR_NOLOGIN
		                  ? NULL
		                  : shout_why(s, rc));
	}
}

/* Sends what libshout has queued; false (after conn_lost) if the
 * connection is gone or stalled. */
static bool flush_queue(struct output *o)
{
	struct shout_out *s = o->priv;
	struct pipe_guard g = {.off = s->pipe_off};
	ssize_t queued;
	int rc;
	char why[128];

	queued = shout_queuelen(s->sh);
	if (queued <= 0)
		return true;
	pipe_block(&g);
	rc = shout_send(s->sh, NULL, 0);
	pipe_unblock(&g);
	if (rc != SHOUTERR_SUCCESS && !still_trying(rc)) {
		conn_lost(o, "the connection to the server broke");
		return false;
	}
	queued = shout_queuelen(s->sh);
	if (queued > 0 && (size_t)queued > s->stall_bytes) {
		snprintf(why, sizeof(why),
		         "the server is not taking the stream (%zd KiB "
		         "queued)",
		         queued / 1024);
		conn_lost(o, why);
		return false;
	}
	return true;
}

static int shout_ready(struct output *o)
{
	struct shout_out *s = o->priv;

	if (s->state == ST_WAITING && now_s() < s->next_try_s)
		return OUT_DROP;
	if (s->state != ST_CONNECTED)
		advance(o);
	if (s->state != ST_CONNECTED || !flush_queue(o))
		return OUT_DROP;
	if (s->fresh) {
		s->fresh = false;
		return OUT_FRESH;
	}
	return OUT_SEND;
}

static int shout_write(struct output *o, const unsigned char *data, size_t len)
{
	struct shout_out *s = o->priv;
	struct pipe_guard g = {.off = s->pipe_off};
	ssize_t sent;

	if (s->state != ST_CONNECTED)
		return 0; /* lost within this block: drop the rest */
	pipe_block(&g);
	sent = shout_send_raw(s->sh, data, len);
	pipe_unblock(&g);
	if (sent != (ssize_t)len) {
		conn_lost(o, "the connection to the server broke");
		return 0;
	}
	/* shout_send_raw() queues what the socket did not take and hides a
	 * failed send until the next call: look now. */
	flush_queue(o);
	return 0;
}

static bool shout_connected(const struct output *o)
{
	const struct shout_out *s = o->priv;

	return s->state == ST_CONNECTED;
}

/* ---- open and close ---- */

static int configure(struct output *o, const struct out_target *t,
                     const struct out_options *opt)
{
	struct shout_out *s = o->priv;
	char num[32];
	int rc = SHOUTERR_SUCCESS;

	if (shout_set_host(s->sh, t->host) ||
	    shout_set_port(s->sh, (unsigned short)t->port) ||
	    shout_set_user(s->sh, t->user) ||
	    shout_set_password(s->sh, t->password) ||
	    shout_set_mount(s->sh, t->mount) ||
	    shout_set_agent(s->sh, "pulse-radio/" PULSE_VERSION) ||
	    shout_set_protocol(s->sh, SHOUT_PROTOCOL_HTTP) ||
	    shout_set_content_format(s->sh, SHOUT_FORMAT_OGG, SHOUT_USAGE_AUDIO,
	                             NULL) ||
	    /* icecast:// is plain HTTP: no TLS upgrade round trip. */
	    shout_set_tls(s->sh, SHOUT_TLS_DISABLED) ||
	    shout_set_nonblocking(s->sh, 1))
		rc = shout_get_errno(s->sh);
	if (rc == SHOUTERR_SUCCESS && opt->name)
		rc = shout_set_meta(s->sh, SHOUT_META_NAME, opt->name);
	if (rc == SHOUTERR_SUCCESS && opt->genre)
		rc = shout_set_meta(s->sh, SHOUT_META_GENRE, opt->genre);
	if (rc == SHOUTERR_SUCCESS && opt->description)
		rc = shout_set_meta(s->sh, SHOUT_META_DESCRIPTION,
		                    opt->description);
	if (rc == SHOUTERR_SUCCESS && opt->url)
		rc = shout_set_meta(s->sh, SHOUT_META_URL, opt->url);
	if (rc == SHOUTERR_SUCCESS) {
		snprintf(num, sizeof(num), "%u", opt->fmt.rate);
		rc = shout_set_audio_info(s->sh, SHOUT_AI_SAMPLERATE, num);
	}
	if (rc == SHOUTERR_SUCCESS) {
		snprintf(num, sizeof(num), "%u",
		         opt->channels ? opt->channels : opt->fmt.channels);
		rc = shout_set_audio_info(s->sh, SHOUT_AI_CHANNELS, num);
	}
	if (rc == SHOUTERR_SUCCESS) {
		if (opt->bitrate_kbps)
			snprintf(num, sizeof(num), "%u", opt->bitrate_kbps);
		else
			snprintf(num, sizeof(num), "%.2f",
			         (double)opt->quality);
		rc = shout_set_audio_info(s->sh,
		                          opt->bitrate_kbps ? SHOUT_AI_BITRATE
		                                            : SHOUT_AI_QUALITY,
		                          num);
	}
	if (rc == SHOUTERR_MALLOC)
		return -ENOMEM;
	if (rc != SHOUTERR_SUCCESS) {
		/* Meta with a line break, and the like. */
		log_error("%s: libshout refuses the settings (%s)", o->name,
		          shout_get_error(s->sh));
		return -ERR_USAGE;
	}
	return 0;
}

/* 0 when the name resolves or may later; -ERR_HOST when it never will. */
static int check_host(struct output *o, const struct out_target *t)
{
	struct addrinfo hints = {0}, *ai;
	char port[8];
	int rc;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%u", t->port);
	rc = getaddrinfo(t->host, port, &hints, &ai);
	if (rc == 0) {
		freeaddrinfo(ai);
		return 0;
	}
	if (rc == EAI_NONAME) {
		log_error("%s: unknown host '%s' (%s)", o->name, t->host,
		          gai_strerror(rc));
		return -ERR_HOST;
	}
	/* EAI_AGAIN and friends: DNS not up yet at boot; shout_open()
	 * resolves again on every try. */
	log_warn("%s: cannot resolve '%s' yet (%s)", o->name, t->host,
	         gai_strerror(rc));
	return 0;
}

/* The first connection, waited for at most FIRST_CONNECT_S. Only a wrong
 * password or an unknown host fails; anything else goes on retrying in
 * the background (a daemon must come up before its Icecast). */
static int connect_first(struct output *o, const struct out_target *t)
{
	struct shout_out *s = o->priv;
	double deadline = now_s() + FIRST_CONNECT_S;
	char server[96];
	int code;

	s->opening = true;
	advance(o);
	while (s->state == ST_CONNECTING && now_s() < deadline) {
		sleep_s(0.01);
		advance(o);
	}
	s->opening = false;
	if (s->state == ST_CONNECTING)
		log_warn("%s: no answer within %.0f s; still trying", o->name,
		         FIRST_CONNECT_S);
	if (s->state != ST_WAITING || s->last_rc != SHOUTERR_NOLOGIN)
		return 0; /* connected, or try_failed() said why and when */
	/* libshout has one code for both: ask the server which it is. */
	code = probe_login(t, server, sizeof(server));
	if (code == 401) {
		log_error("%s: the server refused the password for user '%s'",
		          o->name, t->user);
		return -ERR_AUTH;
	}
	if (code == 403)
		log_warn("%s: the server refused the mount (%s); next try in "
		         "%.1f s",
		         o->name, server[0] ? server : "403 Forbidden",
		         s->next_try_s - now_s());
	else
		log_warn("%s: %s; next try in %.1f s", o->name,
		         shout_why(s, SHOUTERR_NOLOGIN),
		         s->next_try_s - now_s());
	return 0;
}

static int shout_open_out(struct output *o, const struct out_target *t,
                          const struct out_options *opt)
{
	struct shout_out *s;
	int rc;

	shout_init();
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	o->priv = s;
	rc = -ENOMEM;
	s->sh = shout_new();
	if (!s->sh)
		goto fail;
	s->backoff_s = BACKOFF_MIN_S;
	s->state = ST_WAITING;
	s->pipe_off = pipe_ignored();
	s->stall_bytes = STALL_DEFAULT_BYTES;
	if (opt->bitrate_kbps)
		s->stall_bytes =
		    (size_t)opt->bitrate_kbps * 1000 / 8 * STALL_SECONDS;
	if (s->stall_bytes < STALL_MIN_BYTES)
		s->stall_bytes = STALL_MIN_BYTES;
	rc = configure(o, t, opt);
	if (rc < 0)
		goto fail;
	rc = check_host(o, t);
	if (rc < 0)
		goto fail;
	rc = connect_first(o, t);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	if (s->sh) {
		shout_reset(s);
		shout_bury(s->sh);
	}
	free(s);
	o->priv = NULL;
	return rc;
}

static int shout_close_out(struct output *o)
{
	struct shout_out *s = o->priv;
	double deadline = now_s() + CLOSE_FLUSH_S;

	if (!s)
		return 0;
	while (s->state == ST_CONNECTED && shout_queuelen(s->sh) > 0 &&
	       now_s() < deadline) {
		if (!flush_queue(o))
			break;
		sleep_s(0.01);
	}
	shout_reset(s);
	shout_bury(s->sh);
	free(s);
	o->priv = NULL;
	return 0;
}

const struct output_ops output_shout_ops = {
    .name = "icecast",
    .open = shout_open_out,
    .write = shout_write,
    .ready = shout_ready,
    .connected = shout_connected,
    .close = shout_close_out,
};
