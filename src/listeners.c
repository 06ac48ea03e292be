/*
 * listeners.c - Icecast listener counts, polled on a thread of its own.
 *
 * The one thing to know: the thread runs a libevent loop that all its
 * work happens on: every request of a round runs at once (a timer bounds
 * the round to one timeout however many servers there are), the next
 * round is a timer, and listeners_stop() wakes the loop through a pipe, so
 * a slow server, or a slow name server, never holds up a stop. libevent
 * rather than libcurl: the daemon's peak RSS is 3.5 MB lower (libcurl's
 * 30-odd libraries, and the OpenSSL start its libssh2 makes, for a plain
 * GET).
 */
#define _GNU_SOURCE /* pipe2 */
#include "listeners.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <json-c/json.h>

#include "config.h"
#include "err.h"
#include "log.h"
#include "status.h"
#include "worker.h"

#define ICECAST_SCHEME "icecast://"
#define DEFAULT_PORT 8000
#define STATUS_PATH "/status-json.xsl"
#define TIMEOUT_MS 2000L
/* The round's own bound, for what the connection's timeout does not
 * cover (a name server that does not answer). */
#define ROUND_MS (TIMEOUT_MS + 500L)
#define HEADERS_MAX (64 * 1024)
#define JSON_DEPTH 16
/* Objects in a reply, at most: json-c spends some hundred bytes on each,
 * so a megabyte of "{}," would cost far more than the megabyte. Icecast
 * writes about 20 per mount. */
#define JSON_OBJECTS_MAX 20000
#define NAME_MAX_LEN (LISTENERS_HOST_MAX + LISTENERS_MOUNT_MAX + 32)
#define URL_MAX_LEN (LISTENERS_HOST_MAX + 64)

struct listeners;

/* One Icecast server, asked once per round for all its mounts. */
struct server {
	char url[URL_MAX_LEN];         /* of its status page, for the log */
	char host[LISTENERS_HOST_MAX]; /* to connect to (v6: no brackets) */
	char hhost[URL_MAX_LEN];       /* the Host header */
	unsigned port;
	bool down; /* could not be read, and said so */
	struct listeners *l;
	struct evhttp_connection *conn;
	/* The round's request: in flight while req is set. */
	struct evhttp_request *req;
	bool failed; /* libevent said why (err) */
	enum evhttp_request_error err;
};

/* One Icecast output. */
struct watched {
	char name[NAME_MAX_LEN]; /* as out_name() and the status have it */
	char mount[LISTENERS_MOUNT_MAX];
	size_t server;
	int64_t read_ms; /* the last good read; 0: none */
};

struct listeners {
	struct status *st;
	unsigned interval_s;
	struct server srv[CFG_MAX_OUTPUTS];
	size_t n_srv;
	struct watched out[CFG_MAX_OUTPUTS];
	size_t n_out;
	struct event_base *base;
	struct evdns_base *dns; /* NULL when every host is an address */
	struct event *timer;    /* the round's end, then the next round */
	struct event *wake;     /* wake_fd[0] readable: stop */
	int wake_fd[2];
	size_t pending; /* requests of the round still out */
	pthread_t thread;
};

/* ---- URLs ---- */

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

/* Percent-decodes s[0..len) into out; false on a bad escape, a control
 * character or no room. */
static bool decode(char *out, size_t size, const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi = i + 2 < len ? hexval(s[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(s[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				return false;
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || n + 1 >= size)
			return false;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return true;
}

/* Whether host[0..len) can go into an http:// URL as it is: a name or an
 * IPv4 address, or (v6) what an IPv6 address is made of. */
static bool host_ok(const char *host, size_t len, bool v6)
{
	if (len == 0 || len >= LISTENERS_HOST_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = host[i];
		bool ok = v6 ? hexval(c) >= 0 || c == ':' || c == '.'
		             : (c >= 'a' && c <= 'z') ||
		                   (c >= 'A' && c <= 'Z') ||
		                   (c >= '0' && c <= '9') || c == '.' ||
		                   c == '-' || c == '_';

		if (!ok)
			return false;
	}
	return true;
}

int listeners_parse_url(const char *url, struct listeners_target *t)
{
	const char *auth, *slash, *hostp, *hend, *portp = NULL;
	bool v6 = false;

	memset(t, 0, sizeof(*t));
	if (strncmp(url, ICECAST_SCHEME, strlen(ICECAST_SCHEME)) != 0)
		return -ERR_UNSUPPORTED;
	auth = url + strlen(ICECAST_SCHEME);
	slash = strchr(auth, '/');
	if (!slash)
		return -ERR_USAGE;
	/* The last '@' before the path ends the user info, as output.c
	 * reads it: a password may hold a raw '@'. */
	hostp = auth;
	for (const char *c = auth; c < slash; c++)
		if (*c == '@')
			hostp = c + 1;
	if (*hostp == '[') {
		v6 = true;
		hend = memchr(hostp, ']', (size_t)(slash - hostp));
		if (!hend || (hend + 1 < slash && hend[1] != ':'))
			return -ERR_USAGE;
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
	if (!host_ok(hostp, (size_t)(hend - hostp), v6))
		return -ERR_USAGE;
	memcpy(t->host, hostp, (size_t)(hend - hostp));
	t->port = DEFAULT_PORT;
	if (portp) {
		unsigned long port = 0;

		for (const char *c = portp; c < slash && port <= 65535; c++)
			port = *c >= '0' && *c <= '9'
			           ? port * 10 + (unsigned long)(*c - '0')
			           : 65536;
		if (portp == slash || port < 1 || port > 65535)
			return -ERR_USAGE;
		t->port = (unsigned)port;
	}
	if (!slash[1] ||
	    !decode(t->mount, sizeof(t->mount), slash, strlen(slash)))
		return -ERR_USAGE;
	return 0;
}

void listeners_name(const struct listeners_target *t, char *out, size_t size)
{
	bool v6 = strchr(t->host, ':') != NULL;

	snprintf(out, size, "%s%s%s%s:%u%s", ICECAST_SCHEME, v6 ? "[" : "",
	         t->host, v6 ? "]" : "", t->port, t->mount);
}

/* ---- the status page ---- */

/* The path of a listenurl ("http://host:port/live.ogg" -> "/live.ogg"). */
static const char *url_path(const char *u)
{
	const char *p = strstr(u, "://");

	if (!p)
		return u;
	p = strchr(p + 3, '/');
	return p ? p : "";
}

static void count_source(json_object *src, const char *const *mounts,
                         int *counts, size_t n)
{
	json_object *url, *num;
	const char *path;

	if (!json_object_is_type(src, json_type_object) ||
	    !json_object_object_get_ex(src, "listenurl", &url) ||
	    !json_object_is_type(url, json_type_string) ||
	    strlen(json_object_get_string(url)) !=
	        (size_t)json_object_get_string_len(url))
		return;
	path = url_path(json_object_get_string(url));
	for (size_t i = 0; i < n; i++) {
		int64_t v;

		if (strcmp(path, mounts[i]) != 0)
			continue;
		counts[i] = -1;
		if (!json_object_object_get_ex(src, "listeners", &num) ||
		    !json_object_is_type(num, json_type_int))
			continue;
		v = json_object_get_int64(num);
		if (v >= 0)
			counts[i] = v > INT_MAX ? INT_MAX : (int)v;
	}
}

/* Whether body is small enough in objects for json-c to hold. */
static bool few_objects(const char *body, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (body[i] == '{' && ++n > JSON_OBJECTS_MAX)
			return false;
	return true;
}

int listeners_from_json(const char *body, size_t len, const char *const *mounts,
                        int *counts, size_t n)
{
	json_tokener *tok = NULL;
	json_object *root = NULL, *ice, *src;
	int rc = -ERR_FORMAT;
	size_t end;

	for (size_t i = 0; i < n; i++)
		counts[i] = -1;
	if (len > LISTENERS_BODY_MAX || memchr(body, '\0', len) ||
	    !few_objects(body, len))
		return -ERR_FORMAT;
	tok = json_tokener_new_ex(JSON_DEPTH);
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, body, (int)len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success)
		goto done;
	/* Only white space may follow the one value. */
	for (end = json_tokener_get_parse_end(tok); end < len; end++)
		if (!strchr(" \t\r\n", body[end]))
			goto done;
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "icestats", &ice) ||
	    !json_object_is_type(ice, json_type_object))
		goto done;
	if (!json_object_object_get_ex(ice, "source", &src) ||
	    json_object_is_type(src, json_type_null))
		src = NULL; /* nothing live */
	else if (!json_object_is_type(src, json_type_object) &&
	         !json_object_is_type(src, json_type_array))
		goto done;
	for (size_t i = 0; i < n; i++)
		counts[i] = 0;
	/* One mount live: an object; several: an array of them. */
	if (src && json_object_is_type(src, json_type_array)) {
		size_t k = json_object_array_length(src);

		for (size_t i = 0; i < k; i++)
			count_source(json_object_array_get_idx(src, i), mounts,
			             counts, n);
	} else if (src) {
		count_source(src, mounts, counts, n);
	}
	rc = 0;
done:
	json_object_put(root);
	json_tokener_free(tok);
	return rc;
}

/* ---- the thread ---- */

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Why a request that ended gives no counts (req: what libevent handed
 * back, NULL after an error), or NULL when it does. */
static const char *failure(const struct server *sv, struct evhttp_request *req,
                           char *buf, size_t size)
{
	int code;

	if (sv->failed) {
		switch (sv->err) {
		case EVREQ_HTTP_TIMEOUT:
			return "no answer within 2 s";
		case EVREQ_HTTP_EOF:
			return "it closed the connection before the whole "
			       "reply";
		case EVREQ_HTTP_INVALID_HEADER:
			return "not an HTTP reply";
		case EVREQ_HTTP_DATA_TOO_LONG:
			return "the reply is over 1 MiB";
		default:
			return "the connection failed";
		}
	}
	code = req ? evhttp_request_get_response_code(req) : 0;
	if (code == 0)
		return "cannot connect";
	if (code != 200) {
		snprintf(buf, size, "HTTP status %d", code);
		return buf;
	}
	return NULL;
}

/* Hands the counts in sv's reply (or -1s when why says there are none)
 * to the status; logs a change of state. */
static void report(struct listeners *l, struct server *sv,
                   struct evhttp_request *req, const char *why)
{
	size_t s = (size_t)(sv - l->srv);
	const char *mounts[CFG_MAX_OUTPUTS];
	int counts[CFG_MAX_OUTPUTS];
	size_t idx[CFG_MAX_OUTPUTS], n = 0;
	int64_t now = wall_ms();

	for (size_t i = 0; i < l->n_out; i++) {
		if (l->out[i].server == s) {
			idx[n] = i;
			mounts[n++] = l->out[i].mount;
		}
	}
	if (!why) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t len = evbuffer_get_length(in);
		const char *body =
		    len ? (const char *)evbuffer_pullup(in, -1) : "";
		int rc = body
		             ? listeners_from_json(body, len, mounts, counts, n)
		             : -ENOMEM;

		if (rc == -ENOMEM)
			why = "out of memory";
		else if (rc < 0)
			why = "not Icecast's JSON status";
	}
	for (size_t k = 0; k < n; k++) {
		struct watched *w = &l->out[idx[k]];

		if (!why)
			w->read_ms = now;
		status_listeners(l->st, w->name, why ? -1 : counts[k],
		                 w->read_ms);
	}
	if (why && !sv->down)
		log_warn("listeners: %s: %s; listener counts unknown until it "
		         "answers",
		         sv->url, why);
	else if (!why && sv->down)
		log_info("listeners: %s answers again", sv->url);
	sv->down = why != NULL;
}

static void next_round_in(struct listeners *l, long ms)
{
	struct timeval tv = {.tv_sec = ms / 1000,
	                     .tv_usec = (ms % 1000) * 1000};

	evtimer_add(l->timer, &tv);
}

/* One request of the round is over. */
static void settled(struct listeners *l)
{
	if (l->pending > 0 && --l->pending == 0)
		next_round_in(l, (long)l->interval_s * 1000);
}

static void on_error(enum evhttp_request_error err, void *ctx)
{
	struct server *sv = ctx;

	sv->failed = true;
	sv->err = err;
}

/* The request ended, well or not: libevent frees req after this. */
static void on_done(struct evhttp_request *req, void *ctx)
{
	struct server *sv = ctx;
	char buf[64];

	if (!sv->req)
		return; /* cancelled at the round's end */
	sv->req = NULL;
	report(sv->l, sv, req, failure(sv, req, buf, sizeof(buf)));
	settled(sv->l);
}

/* Sends sv's request of this round. false when it could not be made. */
static bool request(struct server *sv)
{
	struct evhttp_request *req = evhttp_request_new(on_done, sv);
	struct evkeyvalq *h;

	sv->failed = false;
	if (!req)
		return false;
	evhttp_request_set_error_cb(req, on_error);
	h = evhttp_request_get_output_headers(req);
	if (evhttp_add_header(h, "Host", sv->hhost) ||
	    evhttp_add_header(h, "User-Agent", "pulse-radio/" PULSE_VERSION) ||
	    evhttp_add_header(h, "Connection", "close")) {
		evhttp_request_free(req);
		return false;
	}
	/* The connection owns the request from here, even on failure;
	 * a connect that fails at once may have ended it already (on_done()
	 * reported it and cleared sv->req). */
	sv->req = req;
	if (evhttp_make_request(sv->conn, req, EVHTTP_REQ_GET, STATUS_PATH)) {
		if (!sv->req)
			return true;
		sv->req = NULL;
		return false;
	}
	return true;
}

static void start_round(struct listeners *l)
{
	l->pending = 0;
	for (size_t s = 0; s < l->n_srv; s++) {
		struct server *sv = &l->srv[s];

		/* Counted first: a request may end inside evhttp's call. */
		l->pending++;
		if (!request(sv)) {
			l->pending--;
			report(l, sv, NULL, "the request could not be made");
		}
	}
	next_round_in(l, l->pending ? ROUND_MS : (long)l->interval_s * 1000);
}

/* The timer: a round is due, or the one under way is out of time. */
static void on_timer(evutil_socket_t fd, short what, void *ctx)
{
	struct listeners *l = ctx;

	(void)fd;
	(void)what;
	if (l->pending == 0) {
		start_round(l);
		return;
	}
	for (size_t s = 0; s < l->n_srv; s++) {
		struct server *sv = &l->srv[s];
		struct evhttp_request *req = sv->req;

		if (!req)
			continue;
		sv->req = NULL;
		evhttp_cancel_request(req);
		report(l, sv, NULL, "no answer within 2 s");
	}
	l->pending = 0;
	next_round_in(l, (long)l->interval_s * 1000);
}

static void on_wake(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(ctx);
}

static void *run(void *arg)
{
	struct listeners *l = arg;

	start_round(l);
	event_base_dispatch(l->base);
	return NULL;
}

/* libevent's own messages (a resolv.conf it cannot read): to our log. */
static void on_libevent_log(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_WARN)
		log_warn("listeners: libevent: %s", msg);
	else
		log_debug("listeners: libevent: %s", msg);
}

/* ---- start and stop ---- */

static bool is_address(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 ||
	       inet_pton(AF_INET6, host, a) == 1;
}

/* The server for t, added if new; its index. */
static size_t server_of(struct listeners *l, const struct listeners_target *t)
{
	char url[URL_MAX_LEN];
	bool v6 = strchr(t->host, ':') != NULL;
	struct server *sv;

	snprintf(url, sizeof(url), "http://%s%s%s:%u" STATUS_PATH,
	         v6 ? "[" : "", t->host, v6 ? "]" : "", t->port);
	for (size_t s = 0; s < l->n_srv; s++)
		if (strcasecmp(l->srv[s].url, url) == 0)
			return s;
	sv = &l->srv[l->n_srv];
	memcpy(sv->url, url, sizeof(url));
	memcpy(sv->host, t->host, sizeof(sv->host));
	snprintf(sv->hhost, sizeof(sv->hhost), "%s%s%s:%u", v6 ? "[" : "",
	         t->host, v6 ? "]" : "", t->port);
	sv->port = t->port;
	sv->l = l;
	return l->n_srv++;
}

/* The loop, its events and a connection per server. false when libevent
 * cannot. */
static bool make_loop(struct listeners *l)
{
	struct timeval timeout = {.tv_sec = TIMEOUT_MS / 1000,
	                          .tv_usec = TIMEOUT_MS % 1000 * 1000};
	bool names = false;

	for (size_t s = 0; s < l->n_srv; s++)
		names = names || !is_address(l->srv[s].host);
	if (pipe2(l->wake_fd, O_CLOEXEC | O_NONBLOCK) < 0) {
		l->wake_fd[0] = l->wake_fd[1] = -1;
		return false;
	}
	l->base = event_base_new();
	if (!l->base)
		return false;
	/* Names are looked up without blocking the loop, with
	 * /etc/resolv.conf and /etc/hosts as the C library would. */
	if (names && !(l->dns = evdns_base_new(
	                   l->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	                                EVDNS_BASE_DISABLE_WHEN_INACTIVE)))
		return false;
	l->timer = evtimer_new(l->base, on_timer, l);
	l->wake = event_new(l->base, l->wake_fd[0], EV_READ | EV_PERSIST,
	                    on_wake, l->base);
	if (!l->timer || !l->wake || event_add(l->wake, NULL) < 0)
		return false;
	for (size_t s = 0; s < l->n_srv; s++) {
		struct server *sv = &l->srv[s];

		/* Plain HTTP only, no proxy, no redirect, no retry. */
		sv->conn = evhttp_connection_base_new(l->base, l->dns, sv->host,
		                                      (ev_uint16_t)sv->port);
		if (!sv->conn)
			return false;
		evhttp_connection_set_timeout_tv(sv->conn, &timeout);
		evhttp_connection_set_max_headers_size(sv->conn, HEADERS_MAX);
		evhttp_connection_set_max_body_size(sv->conn,
		                                    LISTENERS_BODY_MAX);
	}
	return true;
}

static void free_all(struct listeners *l)
{
	/* A connection frees its requests still in flight, untold. */
	for (size_t s = 0; s < l->n_srv; s++)
		if (l->srv[s].conn)
			evhttp_connection_free(l->srv[s].conn);
	if (l->timer)
		event_free(l->timer);
	if (l->wake)
		event_free(l->wake);
	if (l->dns)
		evdns_base_free(l->dns, 0);
	if (l->base)
		event_base_free(l->base);
	for (int i = 0; i < 2; i++)
		if (l->wake_fd[i] >= 0)
			close(l->wake_fd[i]);
	free(l);
}

int listeners_start(struct listeners **out, struct status *st,
                    const struct cfg_output *outs, size_t n,
                    unsigned interval_s)
{
	struct listeners *l;
	int rc;

	*out = NULL;
	l = calloc(1, sizeof(*l));
	if (!l) {
		log_error("listeners: out of memory");
		return -ENOMEM;
	}
	l->wake_fd[0] = l->wake_fd[1] = -1;
	l->st = st;
	l->interval_s = interval_s ? interval_s : LISTENERS_INTERVAL_S_DEFAULT;
	for (size_t i = 0; i < n && l->n_out < CFG_MAX_OUTPUTS; i++) {
		struct listeners_target t;
		struct watched *w = &l->out[l->n_out];

		int bad = listeners_parse_url(outs[i].url, &t);

		if (bad == -ERR_UNSUPPORTED)
			continue; /* file:, null: */
		if (bad < 0) {
			/* Not the URL: it may hold the password. */
			log_warn("listeners: [output %s]: no server to ask in "
			         "its url; its listener count stays unknown",
			         outs[i].name);
			continue;
		}
		listeners_name(&t, w->name, sizeof(w->name));
		memcpy(w->mount, t.mount, sizeof(w->mount));
		w->server = server_of(l, &t);
		l->n_out++;
	}
	if (l->n_out == 0) {
		free(l);
		return 0;
	}
	event_set_log_callback(on_libevent_log);
	if (!make_loop(l)) {
		log_error("listeners: libevent does not start");
		free_all(l);
		return -ENOMEM;
	}
	/* No signal for this thread: they belong to the audio loop. */
	rc = -worker_start(&l->thread, run, l);
	if (rc != 0) {
		log_error("listeners: cannot start its thread: %s",
		          strerror(rc));
		free_all(l);
		return -rc;
	}
	*out = l;
	return 0;
}

void listeners_stop(struct listeners *l)
{
	if (!l)
		return;
	/* The loop is the thread's alone: it is woken, not touched. */
	while (write(l->wake_fd[1], "x", 1) < 0 && errno == EINTR)
		;
	pthread_join(l->thread, NULL);
	free_all(l);
}
