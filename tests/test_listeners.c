/*
 * test_listeners.c - Icecast listener counts: the URL parser, the JSON
 * reader on good and hostile bodies, the status keeping counts by output
 * name, fake servers on 127.0.0.1 that answer garbage, truncated JSON, a
 * huge body, a 404, nothing at all, or are not there (-1, logged once
 * each, and once when one answers again), one named "localhost" (looked
 * up, then read like the address), listeners_stop() in the middle
 * of a request, and a real icecast2 (through tests/ice-up.sh) with a real
 * source (output_shout) and two real listeners (sockets): 2, then 1, 0
 * for a mount with none, 0 when the source leaves, -1 when the server
 * goes away.
 *
 * Every wait is bounded; about 15 s in all (more under valgrind).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "listeners.h"
#include "output.h"
#include "status.h"
#include "testutil.h"

static bool valgrind;
static char src_dir[512];

/* ---- clock ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int count_str(const char *s, const char *what)
{
	int n = 0;

	while ((s = strstr(s, what))) {
		n++;
		s += strlen(what);
	}
	return n;
}

static unsigned free_port(void)
{
	struct sockaddr_in a = {0};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port = 0;

	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* ---- the URL parser ---- */

static void test_urls(void)
{
	static const struct {
		const char *url, *host, *mount, *name;
		unsigned port;
	} good[] = {
	    {"icecast://source:pw@127.0.0.1:8000/radio.ogg", "127.0.0.1",
	     "/radio.ogg", "icecast://127.0.0.1:8000/radio.ogg", 8000},
	    {"icecast://source@radio.example-1.org/live", "radio.example-1.org",
	     "/live", "icecast://radio.example-1.org:8000/live", 8000},
	    {"icecast://stream.local:80/a/b.ogg", "stream.local", "/a/b.ogg",
	     "icecast://stream.local:80/a/b.ogg", 80},
	    /* A raw '@' in the password; IPv6; an escaped mount. */
	    {"icecast://u:p@ss@[::1]:8443/a%20b.ogg", "::1", "/a b.ogg",
	     "icecast://[::1]:8443/a b.ogg", 8443},
	    {"icecast://[2001:db8::1]/x.ogg", "2001:db8::1", "/x.ogg",
	     "icecast://[2001:db8::1]:8000/x.ogg", 8000},
	    {"icecast://h:65535/x", "h", "/x", "icecast://h:65535/x", 65535},
	};
	static const char *const other[] = {"file:/tmp/x.ogg",
	                                    "null:", "http://h:8000/x.ogg", "",
	                                    "ICECAST://h/x"};
	static const char *const bad[] = {
	    "icecast://",
	    "icecast://host",
	    "icecast://host:8000",
	    "icecast://host/",
	    "icecast://:8000/x",
	    "icecast://u:p@/x",
	    "icecast://host:0/x",
	    "icecast://host:65536/x",
	    "icecast://host:99999999999999999999/x",
	    "icecast://host:80a/x",
	    "icecast://host:/x",
	    "icecast://[::1/x",
	    "icecast://[::1]x/x",
	    "icecast://[]/x",
	    "icecast://[zz::1]/x",
	    "icecast://ho st/x",
	    "icecast://h#x/y",
	    "icecast://h?x/y",
	    "icecast://h%41/y",
	    "icecast://host/x%0a",
	    "icecast://host/x%zz",
	    "icecast://host/x%2",
	    "icecast://host/a\tb",
	};
	struct listeners_target t;
	char name[2048], url[4096];

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		int rc = listeners_parse_url(good[i].url, &t);

		CHECKF(rc == 0, "'%s': %d", good[i].url, rc);
		CHECKF(strcmp(t.host, good[i].host) == 0, "'%s': host '%s'",
		       good[i].url, t.host);
		CHECKF(t.port == good[i].port, "'%s': port %u", good[i].url,
		       t.port);
		CHECKF(strcmp(t.mount, good[i].mount) == 0, "'%s': mount '%s'",
		       good[i].url, t.mount);
		listeners_name(&t, name, sizeof(name));
		CHECKF(strcmp(name, good[i].name) == 0, "'%s': name '%s'",
		       good[i].url, name);
		CHECK(!strstr(name, "pw") && !strstr(name, "source"));
	}
	for (size_t i = 0; i < sizeof(other) / sizeof(*other); i++)
		CHECKF(listeners_parse_url(other[i], &t) == -ERR_UNSUPPORTED,
		       "'%s'", other[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		int rc = listeners_parse_url(bad[i], &t);

		CHECKF(rc == -ERR_USAGE, "'%s': %d", bad[i], rc);
	}
	/* Too long a host or mount: refused, not cut. */
	snprintf(url, sizeof(url), "icecast://%0300d/x", 0);
	CHECK(listeners_parse_url(url, &t) == -ERR_USAGE);
	snprintf(url, sizeof(url), "icecast://h/%02000d", 0);
	CHECK(listeners_parse_url(url, &t) == -ERR_USAGE);
	snprintf(url, sizeof(url), "icecast://h/%01000d", 0);
	CHECK(listeners_parse_url(url, &t) == 0 && strlen(t.mount) == 1001);
	/* A name cut to a small buffer still ends in '\0'. */
	listeners_parse_url("icecast://127.0.0.1:8000/radio.ogg", &t);
	listeners_name(&t, name, 12);
	CHECK(strcmp(name, "icecast://1") == 0);
}

/* ---- the status page ---- */

static bool counts_are(const int *got, int a, int b, int c)
{
	return got[0] == a && got[1] == b && got[2] == c;
}

static void test_json(void)
{
	static const char *const mounts[] = {"/a.ogg", "/b.ogg", "/c.ogg"};
	static const struct {
		const char *body;
		int a, b, c;
	} good[] = {
	    /* One mount live: an object. */
	    {"{\"icestats\":{\"source\":{\"listenurl\":"
	     "\"http://127.0.0.1:8000/a.ogg\",\"listeners\":3}}}",
	     3, 0, 0},
	    /* Several: an array; a server name other than ours. */
	    {"{\"icestats\":{\"host\":\"x\",\"source\":["
	     "{\"listenurl\":\"http://radio.example:8000/b.ogg\","
	     "\"listeners\":5,\"title\":\"T\"},"
	     "{\"listenurl\":\"http://radio.example:8000/a.ogg\","
	     "\"listeners\":0}]}}\n",
	     0, 5, 0},
	    /* Nothing live. */
	    {"{\"icestats\":{\"admin\":\"a@b\",\"dummy\":null}}", 0, 0, 0},
	    {" {\"icestats\":{\"source\":null}} \r\n", 0, 0, 0},
	    {"{\"icestats\":{\"source\":[]}}", 0, 0, 0},
	    /* Listed, no usable count: unknown; the others still count. */
	    {"{\"icestats\":{\"source\":[{\"listenurl\":\"http://h/a.ogg\"},"
	     "{\"listenurl\":\"http://h/b.ogg\",\"listeners\":\"7\"},"
	     "{\"listenurl\":\"http://h/c.ogg\",\"listeners\":2}]}}",
	     -1, -1, 2},
	    {"{\"icestats\":{\"source\":[{\"listenurl\":\"http://h/a.ogg\","
	     "\"listeners\":-4},{\"listenurl\":\"http://h/b.ogg\","
	     "\"listeners\":2.5},{\"listenurl\":\"http://h/c.ogg\","
	     "\"listeners\":99999999999999}]}}",
	     -1, -1, INT_MAX},
	    /* Not our mounts, or not sources at all. */
	    {"{\"icestats\":{\"source\":[1,\"x\",null,[],{},"
	     "{\"listenurl\":\"http://h/a.ogg.bak\",\"listeners\":1},"
	     "{\"listenurl\":\"http://h/a.ogg\\u0000\",\"listeners\":1},"
	     "{\"listenurl\":7,\"listeners\":1},"
	     "{\"listenurl\":\"http://h\",\"listeners\":1},"
	     "{\"listenurl\":\"/b.ogg\",\"listeners\":6}]}}",
	     0, 6, 0},
	};
	static const char *const bad[] = {
	    "",
	    " ",
	    "not json at all",
	    "<html><body>404</body></html>",
	    "{\"icestats\":{\"source\":{\"listenurl\":\"http://h/a.ogg\",",
	    "{\"icestats\":{\"source\":{\"listenurl\":\"http://h/a.og",
	    "{\"icestats\":",
	    "null",
	    "[]",
	    "3",
	    "{}",
	    "{\"icestats\":[]}",
	    "{\"icestats\":null}",
	    "{\"icestats\":{\"source\":\"a.ogg\"}}",
	    "{\"icestats\":{\"source\":5}}",
	    "{\"icestats\":{}} trailing",
	    "{\"icestats\":{}}{\"icestats\":{}}",
	    "\xff\xfe{\"icestats\":{}}",
	};
	int got[3];
	char *big;
	size_t len;

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		int rc = listeners_from_json(good[i].body, strlen(good[i].body),
		                             mounts, got, 3);

		CHECKF(rc == 0 &&
		           counts_are(got, good[i].a, good[i].b, good[i].c),
		       "good %zu: %d: %d %d %d", i, rc, got[0], got[1], got[2]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		int rc =
		    listeners_from_json(bad[i], strlen(bad[i]), mounts, got, 3);

		CHECKF(rc == -ERR_FORMAT && counts_are(got, -1, -1, -1),
		       "bad %zu: %d: %d %d %d", i, rc, got[0], got[1], got[2]);
	}
	/* Not '\0'-terminated: only len bytes are read. */
	{
		char exact[] = {'{', '"', 'i', 'c', 'e', 's', 't', 'a',
		                't', 's', '"', ':', '{', '}', '}'};

		CHECK(listeners_from_json(exact, sizeof(exact), mounts, got,
		                          3) == 0);
		CHECK(listeners_from_json(exact, sizeof(exact) - 1, mounts, got,
		                          3) == -ERR_FORMAT);
		CHECK(listeners_from_json("{\"icestats\":{}}\0junk", 20, mounts,
		                          got, 3) == -ERR_FORMAT);
	}
	big = malloc(3 * 1024 * 1024);
	if (!big) {
		CHECK(big != NULL);
		return;
	}
	/* Nested beyond any sense. */
	len = 200000;
	memset(big, '[', len);
	CHECK(listeners_from_json(big, len, mounts, got, 3) == -ERR_FORMAT);
	/* Over the cap. */
	len = (size_t)LISTENERS_BODY_MAX + 1;
	memset(big, ' ', len);
	memcpy(big, "{\"icestats\":{}}", 15);
	CHECK(listeners_from_json(big, len, mounts, got, 3) == -ERR_FORMAT);
	CHECK(listeners_from_json(big, len - 1, mounts, got, 3) == 0);
	/* A megabyte of tiny objects: refused before json-c holds them. */
	len = 0;
	len += (size_t)sprintf(big, "{\"icestats\":{\"source\":[");
	while (len < 1000000)
		len += (size_t)sprintf(big + len, "{},");
	len += (size_t)sprintf(big + len, "{}]}}");
	CHECK(listeners_from_json(big, len, mounts, got, 3) == -ERR_FORMAT);
	/* 1000 mounts, as a big real server might have: read. */
	len = (size_t)sprintf(big, "{\"icestats\":{\"source\":[");
	for (int i = 0; i < 1000; i++)
		len += (size_t)sprintf(
		    big + len,
		    "{\"listenurl\":\"http://h:8000/m%d.ogg\",\"listeners\":%d,"
		    "\"title\":\"Song %d\",\"genre\":\"g\"},",
		    i, i, i);
	len +=
	    (size_t)sprintf(big + len, "{\"listenurl\":\"http://h:8000/b.ogg\","
	                               "\"listeners\":12}]}}");
	CHECK(listeners_from_json(big, len, mounts, got, 3) == 0 &&
	      counts_are(got, 0, 12, 0));
	free(big);
}

/* ---- the status keeps counts by output name ---- */

static void test_status(void)
{
	struct status *st;
	struct status_snapshot s;

	if (status_new(&st, 44100, 1) != 0) {
		CHECK(false);
		return;
	}
	/* A count before the audio thread reported the output. */
	status_listeners(st, "icecast://h:8000/b", 7, 1000);
	status_output(st, 0, "file:/x.ogg", true);
	status_output(st, 1, "icecast://h:8000/a", true);
	status_output(st, 2, "icecast://h:8000/b", true);
	status_get(st, &s);
	CHECK(s.n_out == 3);
	CHECK(s.out[0].listeners == -1 && s.out[0].listeners_at_ms == 0);
	CHECK(s.out[1].listeners == -1 && s.out[1].listeners_at_ms == 0);
	CHECK(s.out[2].listeners == 7 && s.out[2].listeners_at_ms == 1000);
	status_listeners(st, "icecast://h:8000/a", 3, 2000);
	status_listeners(st, "icecast://h:8000/b", -1, 1000);
	status_get(st, &s);
	CHECK(s.out[1].listeners == 3 && s.out[1].listeners_at_ms == 2000);
	CHECK(s.out[2].listeners == -1 && s.out[2].listeners_at_ms == 1000);
	/* Output 0 fails for good: the others move down, counts along. */
	status_listeners(st, "icecast://h:8000/b", 4, 3000);
	status_outputs(st, 2);
	status_output(st, 0, "icecast://h:8000/a", true);
	status_output(st, 1, "icecast://h:8000/b", true);
	status_get(st, &s);
	CHECK(s.n_out == 2);
	CHECK(s.out[0].listeners == 3 && s.out[0].listeners_at_ms == 2000);
	CHECK(s.out[1].listeners == 4 && s.out[1].listeners_at_ms == 3000);
	CHECK(s.count[STATUS_RECONNECTS] == 0);
	/* More names than slots: no harm. */
	for (int i = 0; i < 3 * STATUS_OUTPUTS_MAX; i++) {
		char name[32];

		snprintf(name, sizeof(name), "icecast://h:1/%d", i);
		status_listeners(st, name, i, 1);
	}
	status_get(st, &s);
	CHECK(s.out[0].listeners == 3 && s.out[1].listeners == 4);
	status_free(st);
}

/* ---- fake servers on 127.0.0.1 ---- */

enum fake_mode {
	FAKE_GARBAGE, /* text, not JSON; later good JSON (fake.healed) */
	FAKE_TRUNC,   /* JSON cut short */
	FAKE_HUGE,    /* an endless body, no Content-Length */
	FAKE_HUGE_CL, /* Content-Length: 5 MB */
	FAKE_404,     /* Icecast's JSON, but a 404 */
	FAKE_SILENT,  /* reads the request, never answers */
	FAKE_MODES
};

static struct fake {
	int lfd[FAKE_MODES];
	unsigned port[FAKE_MODES];
	atomic_int requests[FAKE_MODES];
	atomic_int healed;
	int held[64]; /* FAKE_SILENT's connections, left unanswered */
	size_t n_held;
	int wake[2];
	pthread_t thread;
} fake;

static void send_all(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

static void send_str(int fd, const char *s)
{
	send_all(fd, s, strlen(s));
}

static void fake_answer(enum fake_mode m, int fd)
{
	static char chunk[65536];
	char buf[4096], body[512];
	size_t got = 0;
	struct timeval tv = {2, 0};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (got < sizeof(buf) - 1) {
		ssize_t n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);

		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			break;
	}
	atomic_fetch_add(&fake.requests[m], 1);
	switch (m) {
	case FAKE_GARBAGE:
		if (atomic_load(&fake.healed)) {
			snprintf(body, sizeof(body),
			         "{\"icestats\":{\"source\":[{\"listenurl\":"
			         "\"http://127.0.0.1:%u/other.ogg\","
			         "\"listeners\":9},{\"listenurl\":"
			         "\"http://127.0.0.1:%u/f.ogg\","
			         "\"listeners\":4}]}}",
			         fake.port[m], fake.port[m]);
			send_str(fd, "HTTP/1.0 200 OK\r\nContent-Type: "
			             "application/json\r\n\r\n");
			send_str(fd, body);
		} else {
			send_str(fd, "HTTP/1.0 200 OK\r\nContent-Type: "
			             "text/html\r\n\r\n<html>\x01\x02 not "
			             "json {{{ \xff\xfe");
		}
		break;
	case FAKE_TRUNC:
		send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\n"
		             "{\"icestats\":{\"source\":{\"listenurl\":"
		             "\"http://127.0.0.1/f.ogg\",\"listeners\":1");
		break;
	case FAKE_HUGE:
		send_str(fd, "HTTP/1.0 200 OK\r\n\r\n{\"icestats\":{\"x\":\"");
		memset(chunk, 'a', sizeof(chunk));
		/* Until the client hangs up (a send fails) or 8 MB. */
		for (int i = 0; i < 128; i++) {
			ssize_t n =
			    send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL);

			if (n <= 0)
				break;
		}
		break;
	case FAKE_HUGE_CL:
		send_str(fd,
		         "HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n"
		         "{\"icestats\":{");
		break;
	case FAKE_404:
		send_str(fd, "HTTP/1.0 404 Not Found\r\n\r\n"
		             "{\"icestats\":{\"dummy\":null}}");
		break;
	case FAKE_SILENT:
		if (fake.n_held < sizeof(fake.held) / sizeof(*fake.held)) {
			fake.held[fake.n_held++] = fd;
			return;
		}
		break;
	case FAKE_MODES:
		break;
	}
	close(fd);
}

static void *fake_run(void *arg)
{
	struct pollfd p[FAKE_MODES + 1];

	(void)arg;
	for (;;) {
		for (int m = 0; m < FAKE_MODES; m++)
			p[m] = (struct pollfd){.fd = fake.lfd[m],
			                       .events = POLLIN};
		p[FAKE_MODES] =
		    (struct pollfd){.fd = fake.wake[0], .events = POLLIN};
		if (poll(p, FAKE_MODES + 1, 5000) < 0 && errno != EINTR)
			break;
		if (p[FAKE_MODES].revents)
			break;
		for (int m = 0; m < FAKE_MODES; m++) {
			int fd;

			if (!(p[m].revents & POLLIN))
				continue;
			fd = accept(fake.lfd[m], NULL, NULL);
			if (fd >= 0)
				fake_answer((enum fake_mode)m, fd);
		}
	}
	return NULL;
}

static bool fake_start(void)
{
	memset(&fake, 0, sizeof(fake));
	if (pipe(fake.wake) < 0)
		return false;
	for (int m = 0; m < FAKE_MODES; m++) {
		struct sockaddr_in a = {0};
		socklen_t len = sizeof(a);

		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fake.lfd[m] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fake.lfd[m] < 0 ||
		    bind(fake.lfd[m], (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    listen(fake.lfd[m], 16) < 0 ||
		    getsockname(fake.lfd[m], (struct sockaddr *)&a, &len) < 0)
			return false;
		fake.port[m] = ntohs(a.sin_port);
	}
	return pthread_create(&fake.thread, NULL, fake_run, NULL) == 0;
}

static void fake_stop(void)
{
	if (write(fake.wake[1], "x", 1) != 1)
		return;
	pthread_join(fake.thread, NULL);
	for (int m = 0; m < FAKE_MODES; m++)
		close(fake.lfd[m]);
	for (size_t i = 0; i < fake.n_held; i++)
		close(fake.held[i]);
	close(fake.wake[0]);
	close(fake.wake[1]);
}

static void set_out(struct cfg_output *o, const char *url)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->name, sizeof(o->name), "o");
	snprintf(o->url, sizeof(o->url), "%s", url);
}

/* The status slot of the output whose url is url; NULL if none. */
static const struct status_output *slot(const struct status_snapshot *s,
                                        const char *url)
{
	struct listeners_target t;
	char name[CFG_PATH_MAX + 64];

	if (listeners_parse_url(url, &t) < 0)
		snprintf(name, sizeof(name), "%s", url);
	else
		listeners_name(&t, name, sizeof(name));
	for (size_t i = 0; i < s->n_out; i++)
		if (strcmp(s->out[i].name, name) == 0)
			return &s->out[i];
	return NULL;
}

/* Status slots for outs, as the audio thread would make them. */
static void report_outputs(struct status *st, const struct cfg_output *outs,
                           size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct listeners_target t;
		char name[CFG_PATH_MAX + 64];

		if (listeners_parse_url(outs[i].url, &t) < 0)
			snprintf(name, sizeof(name), "%s", outs[i].url);
		else
			listeners_name(&t, name, sizeof(name));
		status_output(st, i, name, true);
	}
}

static bool all_asked(int times)
{
	for (int m = 0; m < FAKE_MODES; m++)
		if (m != FAKE_SILENT && atomic_load(&fake.requests[m]) < times)
			return false;
	return true;
}

static void test_fakes(void)
{
	struct cfg_output outs[FAKE_MODES + 2];
	unsigned port[FAKE_MODES + 2]; /* of outs[i]'s server */
	struct status *st;
	struct status_snapshot s;
	struct listeners *l = NULL;
	const struct status_output *o;
	const char *log;
	unsigned dead = free_port();
	size_t n = 0;
	double end;
	int rc;

	for (int m = 0; m < FAKE_MODES; m++) {
		char url[128];

		if (m == FAKE_SILENT)
			continue;
		snprintf(url, sizeof(url),
		         "icecast://source:pw@127.0.0.1:%u/f.ogg",
		         fake.port[m]);
		port[n] = fake.port[m];
		set_out(&outs[n++], url);
	}
	{
		char url[128];

		snprintf(url, sizeof(url), "icecast://127.0.0.1:%u/dead.ogg",
		         dead);
		port[n] = dead;
		set_out(&outs[n++], url);
	}
	set_out(&outs[n++], "null:");
	if (status_new(&st, 44100, 1) != 0) {
		CHECK(false);
		return;
	}
	report_outputs(st, outs, n);
	test_capture_begin();
	rc = listeners_start(&l, st, outs, n, 1);
	/* Three rounds: one line per server, not one per round. */
	end = now_s() + (valgrind ? 30 : 10);
	while (!all_asked(3) && now_s() < end)
		sleep_s(0.05);
	sleep_s(0.3); /* the last round's answers are read */
	status_get(st, &s);
	log = test_capture_end();
	CHECKF(rc == 0 && l, "listeners_start: %d", rc);
	CHECKF(all_asked(3), "not every fake server was asked three times");
	for (size_t i = 0; i + 1 < n; i++) {
		char url[128];

		snprintf(url, sizeof(url),
		         "http://127.0.0.1:%u/status-json.xsl", port[i]);
		o = slot(&s, outs[i].url);
		CHECKF(o && o->listeners == -1 && o->listeners_at_ms == 0,
		       "%s: not unknown", url);
		CHECKF(count_str(log, url) == 1, "%s: %d log lines", url,
		       count_str(log, url));
	}
	CHECKF(test_count_lines(log) == (int)n - 1, "%d log lines",
	       test_count_lines(log));
	CHECK(strstr(log, "over 1 MiB") != NULL);
	CHECK(strstr(log, "HTTP status 404") != NULL);
	CHECK(strstr(log, "not Icecast's JSON status") != NULL);
	CHECK(!strstr(log, "pw"));
	o = slot(&s, "null:");
	CHECK(o && o->listeners == -1);

	/* The garbage server heals: its count, and one line to say so. */
	test_capture_begin();
	atomic_store(&fake.healed, 1);
	end = now_s() + (valgrind ? 20 : 5);
	do {
		sleep_s(0.05);
		status_get(st, &s);
		o = slot(&s, outs[0].url);
	} while (o && o->listeners != 4 && now_s() < end);
	sleep_s(1.5); /* another round: no more lines */
	log = test_capture_end();
	CHECKF(o && o->listeners == 4, "healed: %d", o ? o->listeners : -9);
	CHECK(o && o->listeners_at_ms > wall_ms() - 10000 &&
	      o->listeners_at_ms <= wall_ms());
	CHECKF(count_str(log, "answers again") == 1 &&
	           test_count_lines(log) == 1,
	       "healed: log:\n%s", log);
	status_get(st, &s);
	o = slot(&s, outs[1].url);
	CHECK(o && o->listeners == -1);
	listeners_stop(l);
	status_free(st);
}

/* A status with the one output of url in out; NULL (a failed check) if
 * none. */
static struct status *one_output(struct cfg_output *out, const char *url)
{
	struct status *st;

	set_out(out, url);
	if (status_new(&st, 44100, 1) != 0) {
		CHECK(false);
		return NULL;
	}
	report_outputs(st, out, 1);
	return st;
}

/* A server named, not numbered: "localhost" is looked up (evdns, through
 * /etc/hosts, never a name server) and read like the address. */
static void test_name(void)
{
	struct cfg_output out;
	struct status *st;
	struct status_snapshot s;
	struct listeners *l = NULL;
	const struct status_output *o = NULL;
	char url[128];
	double end;

	snprintf(url, sizeof(url), "icecast://localhost:%u/f.ogg",
	         fake.port[FAKE_GARBAGE]);
	st = one_output(&out, url);
	if (!st)
		return;
	test_capture_begin();
	CHECK(listeners_start(&l, st, &out, 1, 1) == 0 && l);
	end = now_s() + (valgrind ? 20 : 5);
	do {
		sleep_s(0.05);
		status_get(st, &s);
		o = slot(&s, url);
	} while (o && o->listeners != 4 && now_s() < end);
	listeners_stop(l);
	test_capture_end();
	CHECKF(o && o->listeners == 4, "localhost: %d", o ? o->listeners : -9);
	status_free(st);
}

/* Our threads that block SIGTERM (the listeners thread does; this one
 * does not): how many, and how many of them block SIGSEGV too. */
static void sigterm_blockers(int *n, int *segv)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;

	*n = *segv = 0;
	while (d && (e = readdir(d))) {
		char path[300], line[256];
		unsigned long long mask = 0;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status",
		         e->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "SigBlk: %llx", &mask) == 1)
				break;
		if (f)
			fclose(f);
		if (!(mask & 1ULL << (SIGTERM - 1)))
			continue;
		(*n)++;
		if (mask & 1ULL << (SIGSEGV - 1))
			(*segv)++;
	}
	if (d)
		closedir(d);
}

/* A server that never answers: -1 after the 2 s timeout, and a stop in
 * the middle of a request is prompt. The thread takes no signal but the
 * faults: a crash in it must reach the sanitizer's handler. */
static void test_silent(void)
{
	struct cfg_output out;
	struct status *st;
	struct status_snapshot s;
	struct listeners *l = NULL;
	char url[128];
	const char *log;
	double end, t;
	int asked, blockers, segv_blocked;

	snprintf(url, sizeof(url), "icecast://127.0.0.1:%u/f.ogg",
	         fake.port[FAKE_SILENT]);
	st = one_output(&out, url);
	if (!st)
		return;
	test_capture_begin();
	t = now_s();
	CHECK(listeners_start(&l, st, &out, 1, 1) == 0 && l);
	/* The first request times out; wait for the second. */
	end = now_s() + (valgrind ? 20 : 6);
	while (atomic_load(&fake.requests[FAKE_SILENT]) < 2 && now_s() < end)
		sleep_s(0.02);
	asked = atomic_load(&fake.requests[FAKE_SILENT]);
	t = now_s() - t;
	sigterm_blockers(&blockers, &segv_blocked);
	/* At least ours (qemu-user, for the arm64 tests, has one of its
	 * own that blocks SIGTERM too). */
	CHECKF(blockers >= 1 && segv_blocked == 0,
	       "%d threads block SIGTERM, %d of them SIGSEGV too", blockers,
	       segv_blocked);
	sleep_s(0.2);
	{
		double t0 = now_s();

		listeners_stop(l);
		t0 = now_s() - t0;
		CHECKF(t0 < (valgrind ? 2.0 : 0.5),
		       "listeners_stop took %.2f s mid-request", t0);
	}
	log = test_capture_end();
	CHECKF(asked >= 2, "the silent server was asked %d times", asked);
	CHECKF(t >= 2.5, "asked again after %.2f s: no timeout wait?", t);
	CHECKF(count_str(log, "no answer within 2 s") == 1 &&
	           test_count_lines(log) == 1,
	       "silent: log:\n%s", log);
	status_get(st, &s);
	CHECK(s.out[0].listeners == -1);
	status_free(st);
}

/* ---- a real icecast2 ---- */

static struct ice {
	unsigned port;
	int pid;
	char pass[64];
	char dir[512];
} ice;

static bool ice_up(void)
{
	char cmd[1024], line[700];
	FILE *p;
	int rc;

	/* Without the proxy main() sets: its curl must reach the server. */
	snprintf(cmd, sizeof(cmd),
	         "env -u http_proxy -u HTTP_PROXY -u ALL_PROXY bash "
	         "'%s/tests/ice-up.sh' --owner %d",
	         src_dir, (int)getpid());
	p = popen(cmd, "r");
	if (!p)
		return false;
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "ICE_PORT=", 9) == 0)
			ice.port = (unsigned)atoi(line + 9);
		else if (strncmp(line, "ICE_PID=", 8) == 0)
			ice.pid = atoi(line + 8);
		else if (strncmp(line, "ICE_PASS=", 9) == 0)
			snprintf(ice.pass, sizeof(ice.pass), "%.63s", line + 9);
		else if (strncmp(line, "ICE_DIR=", 8) == 0)
			snprintf(ice.dir, sizeof(ice.dir), "%.511s", line + 8);
	}
	rc = pclose(p);
	return rc != -1 && WEXITSTATUS(rc) == 0 && ice.port && ice.pid;
}

static void ice_down(void)
{
	if (!ice.dir[0])
		return;
	test_run("bash '%s/tests/ice-down.sh' '%s'", src_dir, ice.dir);
	ice.dir[0] = '\0';
}

#define RATE 22050
#define BLOCK 1024

/* The source: a sine through output_shout, paced, on a thread; it also
 * drains the listeners' sockets so Icecast keeps them. */
static struct source {
	struct output *o;
	int listener[2];
	atomic_int stop;
	pthread_t thread;
} src;

static void *source_run(void *arg)
{
	static float buf[BLOCK];
	unsigned long long frames = 0;
	double t0 = now_s();

	(void)arg;
	while (!atomic_load(&src.stop)) {
		char sink[16384];
		double due = t0 + (double)frames / RATE;

		for (size_t i = 0; i < BLOCK; i++)
			buf[i] = 0.3f * (float)sin(2 * M_PI * 440.0 *
			                           (double)(frames + i) / RATE);
		out_write(src.o, buf, BLOCK);
		frames += BLOCK;
		for (int k = 0; k < 2; k++)
			while (src.listener[k] >= 0 &&
			       recv(src.listener[k], sink, sizeof(sink),
			            MSG_DONTWAIT) > 0)
				;
		if (due > now_s())
			sleep_s(due - now_s());
	}
	return NULL;
}

static int listen_to(const char *mount)
{
	struct sockaddr_in a = {0};
	char req[256];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)ice.port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	snprintf(req, sizeof(req),
	         "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n"
	         "User-Agent: test_listeners\r\n\r\n",
	         mount);
	send_str(fd, req);
	return fd;
}

/* Waits (bounded) until the slot of url has want listeners. */
static int wait_count(struct status *st, const char *name, int want,
                      double secs)
{
	struct status_snapshot s;
	double end = now_s() + (valgrind ? 3 * secs : secs);
	int got = -9;

	do {
		status_get(st, &s);
		for (size_t i = 0; i < s.n_out; i++)
			if (strcmp(s.out[i].name, name) == 0)
				got = s.out[i].listeners;
		if (got == want)
			break;
		sleep_s(0.05);
	} while (now_s() < end);
	return got;
}

static void test_icecast(void)
{
	struct out_options opt = {.fmt = {RATE, 1}, .quality = 0.0f};
	struct cfg_output outs[4];
	struct status *st;
	struct listeners *l = NULL;
	char live[256], none[256], live_name[256], none_name[256];
	const char *log;
	int got, rc;
	double t;

	snprintf(live, sizeof(live),
	         "icecast://source:%s@127.0.0.1:%u/live.ogg", ice.pass,
	         ice.port);
	snprintf(none, sizeof(none), "icecast://127.0.0.1:%u/none.ogg",
	         ice.port);
	snprintf(none_name, sizeof(none_name), "%s", none);
	set_out(&outs[0], live);
	set_out(&outs[1], none);
	set_out(&outs[2], "null:");
	set_out(&outs[3], "file:/nonexistent/x.ogg");
	if (status_new(&st, RATE, 1) != 0) {
		CHECK(false);
		return;
	}
	rc = out_open(&src.o, live, &opt);
	CHECKF(rc == 0 && out_connected(src.o), "the source: %d", rc);
	if (rc != 0) {
		status_free(st);
		return;
	}
	/* The slots as the audio thread makes them: by out_name(), so the
	 * counts arrive only if listeners_name() says the same. */
	snprintf(live_name, sizeof(live_name), "%s", out_name(src.o));
	status_output(st, 0, live_name, true);
	status_output(st, 1, none_name, true);
	status_output(st, 2, "null:", true);
	status_output(st, 3, "file:/nonexistent/x.ogg", true);
	src.listener[0] = src.listener[1] = -1;
	atomic_store(&src.stop, 0);
	if (pthread_create(&src.thread, NULL, source_run, NULL) != 0) {
		CHECK(false);
		out_close(src.o);
		status_free(st);
		return;
	}
	src.listener[0] = listen_to("/live.ogg");
	src.listener[1] = listen_to("/live.ogg");
	CHECK(src.listener[0] >= 0 && src.listener[1] >= 0);
	CHECK(listeners_start(&l, st, outs, 4, 1) == 0 && l);
	t = now_s();
	got = wait_count(st, live_name, 2, 15);
	printf("two listeners counted after %.1f s\n", now_s() - t);
	CHECKF(got == 2, "live: %d listeners, want 2", got);
	got = wait_count(st, none_name, 0, 1);
	CHECKF(got == 0, "none: %d listeners, want 0", got);
	CHECK(wait_count(st, "null:", -1, 0) == -1);
	CHECK(wait_count(st, "file:/nonexistent/x.ogg", -1, 0) == -1);

	/* One leaves. */
	close(src.listener[1]);
	src.listener[1] = -1;
	got = wait_count(st, live_name, 1, 10);
	CHECKF(got == 1, "live after one left: %d listeners", got);

	/* The source leaves: the mount is not listed, 0. */
	atomic_store(&src.stop, 1);
	pthread_join(src.thread, NULL);
	test_capture_begin();
	out_close(src.o);
	src.o = NULL;
	test_capture_end();
	got = wait_count(st, live_name, 0, 10);
	CHECKF(got == 0, "live without a source: %d listeners", got);

	/* The server goes away: unknown, said once. */
	test_capture_begin();
	ice_down();
	got = wait_count(st, live_name, -1, 10);
	CHECK(wait_count(st, none_name, -1, 2) == -1);
	sleep_s(2.2); /* more rounds: no more lines */
	log = test_capture_end();
	CHECKF(got == -1, "server down: %d listeners", got);
	CHECKF(count_str(log, "listeners: ") == 1, "server down: log:\n%s",
	       log);
	{
		struct status_snapshot s;

		status_get(st, &s);
		/* When it was last read stays. */
		CHECK(s.out[0].listeners_at_ms > 0);
	}
	listeners_stop(l);
	close(src.listener[0]);
	status_free(st);
}

int main(void)
{
	const char *env = getenv("PULSE_SRC");
	const char *preload = getenv("LD_PRELOAD");
	struct listeners *l = (struct listeners *)&l;
	struct cfg_output none[2];

	valgrind = preload && strstr(preload, "vgpreload");
	if (env) {
		snprintf(src_dir, sizeof(src_dir), "%s", env);
	} else {
		snprintf(src_dir, sizeof(src_dir), "%s", __FILE__);
		*strrchr(src_dir, '/') = '\0';
		*strrchr(src_dir, '/') = '\0';
	}
	/* A proxy in the environment must not be used for loopback (the
	 * HTTP client reads none; this keeps it so). */
	setenv("http_proxy", "http://127.0.0.1:9/", 1);
	setenv("HTTP_PROXY", "http://127.0.0.1:9/", 1);
	setenv("ALL_PROXY", "http://127.0.0.1:9/", 1);
	test_urls();
	test_json();
	test_status();
	/* No Icecast output: nothing to do, no thread. */
	set_out(&none[0], "null:");
	set_out(&none[1], "file:/tmp/x.ogg");
	CHECK(listeners_start(&l, NULL, none, 2, 0) == 0 && l == NULL);
	listeners_stop(NULL);
	if (!fake_start()) {
		CHECKF(false, "the fake servers do not start");
		return test_done();
	}
	test_fakes();
	test_name();
	test_silent();
	fake_stop();
	if (!test_have("icecast2")) {
		printf("note: icecast2 missing; the server test did not run\n");
		return test_done();
	}
	if (!ice_up()) {
		CHECKF(false, "tests/ice-up.sh could not start icecast2");
		return test_done();
	}
	test_icecast();
	ice_down();
	return test_done();
}
