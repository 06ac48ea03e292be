/*
 * listeners.c - Icecast listener counts, polled on a thread of its own.
 *
 * The one thing to know: every request of a round runs at once on one
 * curl multi handle, so a round takes at most one timeout however many
 * servers there are, and listeners_stop() wakes the thread out of a
 * transfer (curl_multi_wakeup()) or its wait (a condition variable) and
 * is never held up by a slow server.
 */
#include "listeners.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "config.h"
#include "err.h"
#include "log.h"
#include "status.h"

#define ICECAST_SCHEME "icecast://"
#define DEFAULT_PORT 8000
#define STATUS_PATH "/status-json.xsl"
#define TIMEOUT_MS 2000L
#define JSON_DEPTH 16
/* Objects in a reply, at most: json-c spends some hundred bytes on each,
 * so a megabyte of "{}," would cost far more than the megabyte. Icecast
 * writes about 20 per mount. */
#define JSON_OBJECTS_MAX 20000
#define NAME_MAX_LEN (LISTENERS_HOST_MAX + LISTENERS_MOUNT_MAX + 32)
#define URL_MAX_LEN (LISTENERS_HOST_MAX + 64)

/* One Icecast server, asked once per round for all its mounts. */
struct server {
	char url[URL_MAX_LEN]; /* of its status page */
	bool down;             /* could not be read, and said so */
	/* The round's request. */
	CURL *easy;
	bool done;
	CURLcode result;
	char *body;
	size_t len, cap;
	bool too_big;
	char why[CURL_ERROR_SIZE];
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
	CURLM *multi;
	bool curl_up; /* curl_global_init() done: cleanup owed */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop; /* under lock */
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

static bool stopping(struct listeners *l)
{
	bool stop;

	pthread_mutex_lock(&l->lock);
	stop = l->stop;
	pthread_mutex_unlock(&l->lock);
	return stop;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct server *sv = ctx;
	size_t n = size * nmemb;

	if (n > LISTENERS_BODY_MAX - sv->len) {
		sv->too_big = true;
		return 0; /* not n: curl ends the transfer */
	}
	if (sv->len + n > sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 16384;
		char *p;

		while (cap < sv->len + n)
			cap *= 2;
		if (cap > LISTENERS_BODY_MAX)
			cap = LISTENERS_BODY_MAX;
		p = realloc(sv->body, cap);
		if (!p)
			return 0;
		sv->body = p;
		sv->cap = cap;
	}
	memcpy(sv->body + sv->len, data, n);
	sv->len += n;
	return n;
}

/* Readies sv's request of this round. false when curl cannot. */
static bool request(struct listeners *l, struct server *sv)
{
	CURL *e = curl_easy_init();

	sv->done = false;
	sv->len = 0;
	sv->too_big = false;
	sv->why[0] = '\0';
	if (!e)
		return false;
	/* An http:// URL only, never through a proxy from the environment
	 * (a status on loopback must not go out), never redirected. */
	if (curl_easy_setopt(e, CURLOPT_URL, sv->url) ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http") ||
	    curl_easy_setopt(e, CURLOPT_PROXY, "") ||
	    curl_easy_setopt(e, CURLOPT_NOPROXY, "*") ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, TIMEOUT_MS) ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, TIMEOUT_MS) ||
	    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
	                     (curl_off_t)LISTENERS_BODY_MAX) ||
	    curl_easy_setopt(e, CURLOPT_USERAGENT,
	                     "pulse-radio/" PULSE_VERSION) ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, sv) ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, sv->why) ||
	    curl_easy_setopt(e, CURLOPT_PRIVATE, sv) ||
	    curl_multi_add_handle(l->multi, e)) {
		curl_easy_cleanup(e);
		return false;
	}
	sv->easy = e;
	return true;
}

/* Runs the round's requests until all are done or a stop. */
static void transfer(struct listeners *l)
{
	int running = 1;

	while (running && !stopping(l)) {
		CURLMsg *m;
		int left;

		if (curl_multi_perform(l->multi, &running) != CURLM_OK)
			break;
		while ((m = curl_multi_info_read(l->multi, &left))) {
			struct server *sv;
			char *priv = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
			                  &priv);
			sv = (struct server *)(void *)priv;
			if (sv) {
				sv->done = true;
				sv->result = m->data.result;
			}
		}
		if (running)
			curl_multi_poll(l->multi, NULL, 0, 1000, NULL);
	}
}

/* Why sv's reply gives no counts, or NULL when it does. */
static const char *failure(struct server *sv)
{
	long code = 0;

	if (!sv->done)
		return "libcurl could not make the request";
	if (sv->too_big || sv->result == CURLE_FILESIZE_EXCEEDED)
		return "the reply is over 1 MiB";
	if (sv->result != CURLE_OK)
		return sv->why[0] ? sv->why : curl_easy_strerror(sv->result);
	curl_easy_getinfo(sv->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		snprintf(sv->why, sizeof(sv->why), "HTTP status %ld", code);
		return sv->why;
	}
	return NULL;
}

/* Hands sv's counts (or -1s) to the status; logs a change of state. */
static void report(struct listeners *l, size_t s)
{
	struct server *sv = &l->srv[s];
	const char *mounts[CFG_MAX_OUTPUTS];
	int counts[CFG_MAX_OUTPUTS];
	size_t idx[CFG_MAX_OUTPUTS], n = 0;
	const char *why = failure(sv);
	int64_t now = wall_ms();

	for (size_t i = 0; i < l->n_out; i++) {
		if (l->out[i].server == s) {
			idx[n] = i;
			mounts[n++] = l->out[i].mount;
		}
	}
	if (!why) {
		int rc = listeners_from_json(sv->body ? sv->body : "", sv->len,
		                             mounts, counts, n);

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

static void poll_round(struct listeners *l)
{
	bool asked[CFG_MAX_OUTPUTS];

	for (size_t s = 0; s < l->n_srv; s++)
		asked[s] = request(l, &l->srv[s]);
	transfer(l);
	for (size_t s = 0; s < l->n_srv; s++) {
		struct server *sv = &l->srv[s];

		if (!stopping(l))
			report(l, s);
		if (asked[s]) {
			curl_multi_remove_handle(l->multi, sv->easy);
			curl_easy_cleanup(sv->easy);
			sv->easy = NULL;
		}
	}
}

static void *run(void *arg)
{
	struct listeners *l = arg;

	while (!stopping(l)) {
		struct timespec until;

		poll_round(l);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)l->interval_s;
		pthread_mutex_lock(&l->lock);
		while (!l->stop && pthread_cond_timedwait(&l->wake, &l->lock,
		                                          &until) != ETIMEDOUT)
			;
		pthread_mutex_unlock(&l->lock);
	}
	return NULL;
}

/* ---- start and stop ---- */

/* The server for t, added if new; its index. */
static size_t server_of(struct listeners *l, const struct listeners_target *t)
{
	char url[URL_MAX_LEN];
	bool v6 = strchr(t->host, ':') != NULL;

	snprintf(url, sizeof(url), "http://%s%s%s:%u" STATUS_PATH,
	         v6 ? "[" : "", t->host, v6 ? "]" : "", t->port);
	for (size_t s = 0; s < l->n_srv; s++)
		if (strcasecmp(l->srv[s].url, url) == 0)
			return s;
	memcpy(l->srv[l->n_srv].url, url, sizeof(url));
	return l->n_srv++;
}

static void free_all(struct listeners *l)
{
	for (size_t s = 0; s < l->n_srv; s++)
		free(l->srv[s].body);
	curl_multi_cleanup(l->multi);
	pthread_cond_destroy(&l->wake);
	pthread_mutex_destroy(&l->lock);
	if (l->curl_up)
		curl_global_cleanup();
	free(l);
}

int listeners_start(struct listeners **out, struct status *st,
                    const struct cfg_output *outs, size_t n,
                    unsigned interval_s)
{
	struct listeners *l;
	pthread_condattr_t ca;
	sigset_t all, old;
	int rc;

	*out = NULL;
	l = calloc(1, sizeof(*l));
	if (!l) {
		log_error("listeners: out of memory");
		return -ENOMEM;
	}
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
	pthread_mutex_init(&l->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->wake, &ca);
	pthread_condattr_destroy(&ca);
	/* Counted by curl: paired with the cleanup in free_all(). */
	l->curl_up = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
	if (!l->curl_up || !(l->multi = curl_multi_init())) {
		log_error("listeners: libcurl does not start");
		free_all(l);
		return -ENOMEM;
	}
	/* No signal for this thread: they belong to the audio loop, whose
	 * pacing sleep they cut short. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&l->thread, NULL, run, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
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
	pthread_mutex_lock(&l->lock);
	l->stop = true;
	pthread_cond_signal(&l->wake);
	pthread_mutex_unlock(&l->lock);
	curl_multi_wakeup(l->multi);
	pthread_join(l->thread, NULL);
	free_all(l);
}
