/*
 * http.c - the status API, the metrics and the bulletin API on
 * libmicrohttpd's own thread.
 *
 * A request's body is gathered into a buffer of at most HTTP_BODY_MAX
 * bytes (beyond that the answer is 413 at once); the answer is built in a
 * growing string and copied into the response. JSON is written by hand
 * with every string escaped; forms are read with percent-decoding and
 * nothing else.
 */
#include "http.h"
#include "http_priv.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <microhttpd.h>
#include <sqlite3.h>

#include "bulletin.h"
#include "err.h"
#include "log.h"
#include "status.h"
#include "store.h"
#include "timeutil.h"

#define TOKEN_MIN 16
#define QUEUE_SHOWN 50
/* A write waits this long for another program's lock on the database,
 * then is refused with 503 and Retry-After: BUSY_RETRY_S. */
#define BUSY_MS 2000
#define BUSY_RETRY_S "5"

void http_sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 1024;
		char *p;

		while (cap - b->len <= (size_t)n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

void http_sb_json(struct sb *b, const char *s)
{
	http_sb_printf(b, "\"");
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\')
			http_sb_printf(b, "\\%c", *c);
		else if (*c < 0x20 || *c == 0x7f)
			http_sb_printf(b, "\\u%04x", *c);
		else
			http_sb_printf(b, "%c", *c);
	}
	http_sb_printf(b, "\"");
}

void http_sb_html(struct sb *b, const char *s)
{
	for (const char *c = s; *c; c++) {
		switch (*c) {
		case '&':
			http_sb_printf(b, "&amp;");
			break;
		case '<':
			http_sb_printf(b, "&lt;");
			break;
		case '>':
			http_sb_printf(b, "&gt;");
			break;
		case '"':
			http_sb_printf(b, "&quot;");
			break;
		case '\'':
			http_sb_printf(b, "&#39;");
			break;
		default:
			http_sb_printf(b, "%c", *c);
		}
	}
}

int64_t http_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum MHD_Result http_respond(struct MHD_Connection *c, unsigned code,
                             const char *type, struct sb *b,
                             const char *const *headers)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	if (b->oom) {
		free(b->p);
		return MHD_NO;
	}
	r = MHD_create_response_from_buffer(b->len, b->p ? b->p : (void *)"",
	                                    MHD_RESPMEM_MUST_COPY);
	free(b->p);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (code == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, "WWW-Authenticate",
		                        "Bearer realm=\"pulse-radio\"");
	for (size_t i = 0; headers && headers[i]; i += 2)
		MHD_add_response_header(r, headers[i], headers[i + 1]);
	rc = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code,
                             const char *type, struct sb *b)
{
	return http_respond(c, code, type, b, NULL);
}

enum MHD_Result http_error(struct MHD_Connection *c, unsigned code,
                           const char *why)
{
	struct sb b = {0};

	http_sb_printf(&b, "{\"error\": ");
	http_sb_json(&b, why);
	http_sb_printf(&b, "}\n");
	return reply(c, code, "application/json", &b);
}

/* 503: the database was locked by another program past BUSY_MS, and
 * nothing was written. No audit row: it would wait for the same lock. */
static enum MHD_Result busy(struct MHD_Connection *c, const char *by,
                            const char *what)
{
	static const char *const retry[] = {"Retry-After", BUSY_RETRY_S, NULL};
	struct sb b = {0};

	log_warn("http: %s by %s refused (503): the database is locked by "
	         "another program",
	         what, by);
	http_sb_printf(&b, "{\"error\": ");
	http_sb_json(&b, "the database is busy (another program holds its "
	                 "lock); nothing was changed: send it again in a few "
	                 "seconds");
	http_sb_printf(&b, "}\n");
	return http_respond(c, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json",
	                    &b, retry);
}

/* ---- status and metrics ---- */

static const char *const counter_name[STATUS_COUNTERS] = {
    [STATUS_FRAMES] = "frames",
    [STATUS_ITEMS] = "items",
    [STATUS_SKIPPED] = "skipped",
    [STATUS_DEAD_AIR] = "dead_air",
    [STATUS_BULLETINS] = "bulletins_aired",
    [STATUS_UNDERRUNS] = "underruns",
    [STATUS_RECONNECTS] = "reconnects",
    [STATUS_PASSED] = "passed_frames",
};

static void json_bulletins(struct http *h, struct sb *b)
{
	sqlite3_stmt *q;
	bool first = true;

	http_sb_printf(b, "[");
	if (sqlite3_prepare_v2(
	        store_db(h->st),
	        "SELECT id, state, lang, priority = 'breaking', submitted_by,"
	        " submitted_at, text FROM bulletin WHERE state IN ('queued',"
	        " 'rendered', 'on_air') ORDER BY priority = 'breaking' DESC,"
	        " id LIMIT ?1",
	        -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_int(q, 1, QUEUE_SHOWN);
		while (sqlite3_step(q) == SQLITE_ROW) {
			http_sb_printf(b, "%s{\"id\": %lld, \"state\": ",
			               first ? "" : ", ",
			               (long long)sqlite3_column_int64(q, 0));
			http_sb_json(b,
			             (const char *)sqlite3_column_text(q, 1));
			http_sb_printf(b, ", \"lang\": ");
			http_sb_json(b,
			             (const char *)sqlite3_column_text(q, 2));
			http_sb_printf(b, ", \"breaking\": %s, \"by\": ",
			               sqlite3_column_int(q, 3) ? "true"
			                                        : "false");
			http_sb_json(b,
			             (const char *)sqlite3_column_text(q, 4));
			http_sb_printf(b, ", \"submitted\": ");
			http_sb_json(b,
			             (const char *)sqlite3_column_text(q, 5));
			http_sb_printf(b, ", \"text\": ");
			http_sb_json(b,
			             (const char *)sqlite3_column_text(q, 6));
			http_sb_printf(b, "}");
			first = false;
		}
	}
	sqlite3_finalize(q);
	http_sb_printf(b, "]");
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* The same as the JSON, for a person (pulse-radio status). */
static enum MHD_Result get_status_text(struct http *h, struct MHD_Connection *c)
{
	struct status_snapshot s;
	struct sb b = {0};
	sqlite3_stmt *q;
	char when[40];
	int64_t now = http_now_ms(), up;

	status_get(h->status, &s);
	up = (now - s.up_since_ms) / 1000;
	http_sb_printf(
	    &b, "%s: up %lldd %02lld:%02lld:%02lld, %.0f s of audio\n",
	    h->station, (long long)(up / 86400), (long long)(up / 3600 % 24),
	    (long long)(up / 60 % 60), (long long)(up % 60),
	    s.rate ? (double)s.count[STATUS_FRAMES] / s.rate : 0.0);
	if (s.started_ms) {
		tu_format_utc(s.started_ms, when, sizeof(when));
		http_sb_printf(&b, "on air: %s%s%s (since %s)\n", s.artist,
		               s.artist[0] ? " - " : "", s.title, when);
	} else {
		http_sb_printf(&b, "on air: nothing yet\n");
	}
	for (size_t i = 0; i < s.n_next; i++) {
		tu_format_utc(s.next[i].at_ms, when, sizeof(when));
		http_sb_printf(&b, "next: %.8s UTC %s%s%s (%s)\n", when + 11,
		               s.next[i].artist,
		               s.next[i].artist[0] ? " - " : "",
		               s.next[i].title, s.next[i].kind);
	}
	for (size_t i = 0; i < s.n_out; i++) {
		http_sb_printf(&b, "output: %s %s", s.out[i].name,
		               s.out[i].connected ? "connected"
		                                  : "NOT CONNECTED");
		if (s.out[i].listeners >= 0)
			http_sb_printf(&b, ", %d listener%s",
			               s.out[i].listeners,
			               s.out[i].listeners == 1 ? "" : "s");
		http_sb_printf(&b, "\n");
	}
	if (sqlite3_prepare_v2(
	        store_db(h->st),
	        "SELECT id, state, lang, priority, submitted_by,"
	        " substr(text, 1, 60) FROM bulletin WHERE state IN"
	        " ('queued', 'rendered', 'on_air') ORDER BY id LIMIT ?1",
	        -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_int(q, 1, QUEUE_SHOWN);
		while (sqlite3_step(q) == SQLITE_ROW)
			http_sb_printf(&b,
			               "bulletin %lld: %s, %s, %s, by %s: %s\n",
			               (long long)sqlite3_column_int64(q, 0),
			               sqlite3_column_text(q, 1),
			               sqlite3_column_text(q, 2),
			               sqlite3_column_text(q, 3),
			               sqlite3_column_text(q, 4),
			               sqlite3_column_text(q, 5));
	}
	sqlite3_finalize(q);
	for (int k = 0; k < STATUS_COUNTERS; k++)
		if (k != STATUS_FRAMES && k != STATUS_PASSED)
			http_sb_printf(&b, "%s%s %llu",
			               k == 1 ? "counts: " : ", ",
			               counter_name[k], s.count[k]);
	http_sb_printf(&b, "\n");
	return reply(c, MHD_HTTP_OK, "text/plain; charset=utf-8", &b);
}

static enum MHD_Result get_status(struct http *h, struct MHD_Connection *c)
{
	struct status_snapshot s;
	struct sb b = {0};
	char when[40];
	int64_t now = http_now_ms();

	status_get(h->status, &s);
	http_sb_printf(&b, "{\"station\": ");
	http_sb_json(&b, h->station);
	http_sb_printf(&b, ", \"uptime_s\": %.1f, \"audio_s\": %.1f",
	               (double)(now - s.up_since_ms) / 1000,
	               s.rate ? (double)s.count[STATUS_FRAMES] / s.rate : 0.0);
	http_sb_printf(&b, ", \"on_air\": ");
	if (s.started_ms) {
		tu_format_utc(s.started_ms, when, sizeof(when));
		http_sb_printf(&b, "{\"title\": ");
		http_sb_json(&b, s.title);
		http_sb_printf(&b, ", \"artist\": ");
		http_sb_json(&b, s.artist);
		http_sb_printf(&b, ", \"started\": ");
		http_sb_json(&b, when);
		http_sb_printf(&b, "}");
	} else {
		http_sb_printf(&b, "null");
	}
	http_sb_printf(&b, ", \"outputs\": [");
	for (size_t i = 0; i < s.n_out; i++) {
		http_sb_printf(&b, "%s{\"name\": ", i ? ", " : "");
		http_sb_json(&b, s.out[i].name);
		http_sb_printf(&b, ", \"connected\": %s, \"listeners\": ",
		               s.out[i].connected ? "true" : "false");
		if (s.out[i].listeners >= 0)
			http_sb_printf(&b, "%d}", s.out[i].listeners);
		else
			http_sb_printf(&b, "null}");
	}
	http_sb_printf(&b, "], \"next\": [");
	for (size_t i = 0; i < s.n_next; i++) {
		tu_format_utc(s.next[i].at_ms, when, sizeof(when));
		http_sb_printf(&b, "%s{\"kind\": \"%s\", \"title\": ",
		               i ? ", " : "", s.next[i].kind);
		http_sb_json(&b, s.next[i].title);
		http_sb_printf(&b, ", \"artist\": ");
		http_sb_json(&b, s.next[i].artist);
		http_sb_printf(&b, ", \"at\": ");
		http_sb_json(&b, when);
		http_sb_printf(&b, ", \"length_s\": %.1f}",
		               (double)s.next[i].length_ms / 1000);
	}
	http_sb_printf(&b, "], \"bulletins\": ");
	json_bulletins(h, &b);
	http_sb_printf(&b, ", \"counters\": {");
	for (int k = 0; k < STATUS_COUNTERS; k++)
		http_sb_printf(&b, "%s\"%s\": %llu", k ? ", " : "",
		               counter_name[k], s.count[k]);
	http_sb_printf(&b, "}}\n");
	return reply(c, MHD_HTTP_OK, "application/json", &b);
}

static void metric(struct sb *b, const char *name, const char *type,
                   const char *help, double v)
{
	http_sb_printf(
	    b, "# HELP pulse_%s %s\n# TYPE pulse_%s %s\npulse_%s %.17g\n", name,
	    help, name, type, name, v);
}

static enum MHD_Result get_metrics(struct http *h, struct MHD_Connection *c)
{
	struct status_snapshot s;
	struct sb b = {0};
	sqlite3_stmt *q;
	int queued = 0;

	status_get(h->status, &s);
	metric(&b, "audio_seconds_total", "counter",
	       "Seconds of programme sent to the outputs.",
	       s.rate ? (double)s.count[STATUS_FRAMES] / s.rate : 0);
	metric(&b, "items_total", "counter", "Items that went on air.",
	       (double)s.count[STATUS_ITEMS]);
	metric(&b, "skipped_total", "counter",
	       "Items that could not be played.",
	       (double)s.count[STATUS_SKIPPED]);
	metric(&b, "dead_air_total", "counter", "Dead-air events.",
	       (double)s.count[STATUS_DEAD_AIR]);
	metric(&b, "bulletins_aired_total", "counter",
	       "News bulletins that aired whole.",
	       (double)s.count[STATUS_BULLETINS]);
	metric(&b, "underruns_total", "counter",
	       "Times the audio loop fell behind real time.",
	       (double)s.count[STATUS_UNDERRUNS]);
	metric(&b, "reconnects_total", "counter",
	       "Outputs that came back after a drop.",
	       (double)s.count[STATUS_RECONNECTS]);
	metric(&b, "passed_seconds_total", "counter",
	       "Seconds of music passed through from cached encodings, not "
	       "encoded again.",
	       s.rate ? (double)s.count[STATUS_PASSED] / s.rate : 0);
	metric(&b, "cpu_seconds_total", "counter",
	       "User and system CPU time of the daemon.", cpu_seconds());
	metric(&b, "uptime_seconds", "gauge", "Seconds since the start.",
	       (double)(http_now_ms() - s.up_since_ms) / 1000);
	if (sqlite3_prepare_v2(store_db(h->st),
	                       "SELECT count(*) FROM bulletin WHERE state IN "
	                       "('queued', 'rendered')",
	                       -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		queued = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	metric(&b, "bulletins_waiting", "gauge",
	       "Bulletins queued or rendered, not yet on air.", queued);
	http_sb_printf(&b,
	               "# HELP pulse_output_connected Whether audio reaches "
	               "the output.\n# TYPE pulse_output_connected gauge\n");
	for (size_t i = 0; i < s.n_out; i++) {
		http_sb_printf(&b, "pulse_output_connected{output=");
		http_sb_json(&b, s.out[i].name);
		http_sb_printf(&b, "} %d\n", s.out[i].connected ? 1 : 0);
	}
	return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4", &b);
}

/* ---- writes ---- */

const char *http_token_name(struct http *h, const char *value)
{
	const char *found = NULL;
	size_t m = strlen(value);

	for (size_t i = 0; i < h->n_tok; i++) {
		const char *t = h->tok[i].value;
		size_t n = strlen(t);
		unsigned char diff = (unsigned char)(n != m);

		for (size_t k = 0; k < n; k++)
			diff |= (unsigned char)(t[k] ^ (k < m ? value[k] : 0));
		if (!diff)
			found = h->tok[i].name;
	}
	return found;
}

/* The token's name for "Authorization: Bearer TOKEN", or NULL. */
static const char *who(struct http *h, struct MHD_Connection *c)
{
	const char *auth =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");

	if (!auth || strncmp(auth, "Bearer ", 7) != 0)
		return NULL;
	return http_token_name(h, auth + 7);
}

void http_audit(struct http *h, const char *by, const char *action,
                int64_t target, unsigned code, const char *detail)
{
	sqlite3_stmt *q;
	char at[40];

	tu_format_utc(http_now_ms(), at, sizeof(at));
	if (sqlite3_prepare_v2(store_db(h->st),
	                       "INSERT INTO audit(at, who, action, target, "
	                       "status, detail) VALUES (?1, ?2, ?3, ?4, ?5, "
	                       "?6)",
	                       -1, &q, NULL) != SQLITE_OK) {
		log_error("audit: %s", sqlite3_errmsg(store_db(h->st)));
		return;
	}
	sqlite3_bind_text(q, 1, at, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, by, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, action, -1, SQLITE_STATIC);
	if (target > 0)
		sqlite3_bind_int64(q, 4, target);
	sqlite3_bind_int(q, 5, (int)code);
	sqlite3_bind_text(q, 6, detail, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE)
		log_error("audit: %s", sqlite3_errmsg(store_db(h->st)));
	sqlite3_finalize(q);
}

static int hexval(int c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	                              : -1;
}

int http_form_field(const char *body, size_t len, const char *key, char **out)
{
	size_t klen = strlen(key), i = 0;

	*out = NULL;
	while (i < len) {
		size_t end = i;

		while (end < len && body[end] != '&')
			end++;
		if (end - i > klen && body[i + klen] == '=' &&
		    memcmp(body + i, key, klen) == 0) {
			char *v = malloc(end - i), *d = v;

			if (!v)
				return -1;
			for (size_t k = i + klen + 1; k < end; k++) {
				if (body[k] == '+') {
					*d++ = ' ';
				} else if (body[k] == '%') {
					int hi = k + 2 < end
					             ? hexval(body[k + 1])
					             : -1;
					int lo =
					    hi >= 0 ? hexval(body[k + 2]) : -1;

					if (hi < 0 || lo < 0) {
						free(v);
						return -1;
					}
					*d++ = (char)(hi * 16 + lo);
					k += 2;
				} else {
					*d++ = body[k];
				}
			}
			*d = '\0';
			if (strlen(v) != (size_t)(d - v)) {
				free(v); /* a NUL inside: not text */
				return -1;
			}
			*out = v;
			return 1;
		}
		i = end + 1;
	}
	return 0;
}

int http_time_field(struct http *h, const struct http_req *r, const char *key,
                    int64_t *ms, char *why, size_t whylen)
{
	char *v, zone[128];
	int rc = http_form_field(r->body, r->len, key, &v);

	*ms = 0;
	if (rc <= 0 || !v[0]) {
		free(v);
		return rc < 0 ? -1 : 0;
	}
	if (store_setting_get(h->st, "timezone", zone, sizeof(zone)) < 0 ||
	    tu_parse_when(v, zone, http_now_ms(), ms) < 0) {
		snprintf(why, whylen,
		         "%s: '%.40s' is not +30m, +2h, +1d or YYYY-MM-DD "
		         "HH:MM",
		         key, v);
		free(v);
		return -1;
	}
	free(v);
	return 0;
}

static enum MHD_Result post_bulletin(struct http *h, struct MHD_Connection *c,
                                     const struct http_req *r, const char *by)
{
	const char *type =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	char *text = NULL, *lang = NULL, *prio = NULL, why[300] = "";
	struct bulletin_new nb = {.by = by};
	struct sb b = {0};
	int64_t id = 0;
	int rc;

	if (!type ||
	    strncmp(type, "application/x-www-form-urlencoded", 33) != 0) {
		snprintf(why, sizeof(why),
		         "send the bulletin as a form "
		         "(application/x-www-form-urlencoded)");
		goto bad;
	}
	if (http_form_field(r->body, r->len, "text", &text) <= 0 ||
	    http_form_field(r->body, r->len, "lang", &lang) < 0 ||
	    http_form_field(r->body, r->len, "priority", &prio) < 0) {
		snprintf(why, sizeof(why),
		         "a form with a text field (and lang, priority, "
		         "expires, not_before), percent-encoded");
		goto bad;
	}
	if (prio && strcmp(prio, "breaking") && strcmp(prio, "normal")) {
		snprintf(why, sizeof(why),
		         "priority is 'normal' or 'breaking', not '%.40s'",
		         prio);
		goto bad;
	}
	if (http_time_field(h, r, "expires", &nb.expires_ms, why, sizeof(why)) <
	        0 ||
	    http_time_field(h, r, "not_before", &nb.not_before_ms, why,
	                    sizeof(why)) < 0)
		goto bad;
	nb.text = text;
	nb.text_len = strlen(text);
	nb.lang = lang;
	nb.breaking = prio && strcmp(prio, "breaking") == 0;
	rc = bulletin_add(h->st, &nb, http_now_ms(), &id, why, sizeof(why));
	if (rc == -ERR_INVALID)
		goto bad;
	if (rc == -ERR_DB_BUSY) {
		free(text);
		free(lang);
		free(prio);
		return busy(c, by, "a bulletin");
	}
	if (rc < 0) {
		http_audit(h, by, "bulletin.add", 0, 500, "database error");
		free(text);
		free(lang);
		free(prio);
		return http_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                  "the database failed; see the log");
	}
	log_info("http: bulletin %lld queued by %s%s", (long long)id, by,
	         nb.breaking ? " (breaking)" : "");
	http_audit(h, by, "bulletin.add", id, 201,
	           nb.breaking ? "breaking" : "");
	free(text);
	free(lang);
	free(prio);
	http_sb_printf(&b, "{\"id\": %lld, \"state\": \"queued\"}\n",
	               (long long)id);
	return reply(c, MHD_HTTP_CREATED, "application/json", &b);
bad:
	http_audit(h, by, "bulletin.add", 0, 400, why);
	free(text);
	free(lang);
	free(prio);
	return http_error(c, MHD_HTTP_BAD_REQUEST, why);
}

static enum MHD_Result delete_bulletin(struct http *h, struct MHD_Connection *c,
                                       const char *idtext, const char *by)
{
	char why[300] = "", *end;
	struct sb b = {0};
	long long id;
	int rc;

	errno = 0;
	id = strtoll(idtext, &end, 10);
	if (errno || end == idtext || *end || id <= 0) {
		http_audit(h, by, "bulletin.withdraw", 0, 404, idtext);
		return http_error(c, MHD_HTTP_NOT_FOUND, "no such bulletin");
	}
	rc = bulletin_withdraw(h->st, id, http_now_ms(), why, sizeof(why));
	if (rc == -ERR_NOT_FOUND) {
		http_audit(h, by, "bulletin.withdraw", id, 404, "");
		return http_error(c, MHD_HTTP_NOT_FOUND, "no such bulletin");
	}
	if (rc == -ERR_CONFLICT) {
		http_audit(h, by, "bulletin.withdraw", id, 409, why);
		return http_error(c, MHD_HTTP_CONFLICT, why);
	}
	if (rc == -ERR_DB_BUSY)
		return busy(c, by, "a withdrawal");
	if (rc < 0) {
		http_audit(h, by, "bulletin.withdraw", id, 500,
		           "database error");
		return http_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                  "the database failed; see the log");
	}
	log_info("http: bulletin %lld withdrawn by %s", id, by);
	http_audit(h, by, "bulletin.withdraw", id, 200, "");
	http_sb_printf(&b, "{\"id\": %lld, \"state\": \"withdrawn\"}\n", id);
	return reply(c, MHD_HTTP_OK, "application/json", &b);
}

/* ---- the request ---- */

static enum MHD_Result route(struct http *h, struct MHD_Connection *c,
                             const char *url, const char *method,
                             const struct http_req *r)
{
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	const char *by;

	if (strcmp(url, "/api/status") == 0) {
		const char *fmt = MHD_lookup_connection_value(
		    c, MHD_GET_ARGUMENT_KIND, "format");

		if (!get)
			return http_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
			                  "use GET");
		return fmt && strcmp(fmt, "text") == 0 ? get_status_text(h, c)
		                                       : get_status(h, c);
	}
	if (strcmp(url, "/metrics") == 0)
		return get ? get_metrics(h, c)
		           : http_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		                        "use GET");
	if (http_page_owns(url))
		return http_page(h, c, url, method, r);
	if (strcmp(url, "/api/bulletins") != 0 &&
	    strncmp(url, "/api/bulletins/", 15) != 0)
		return http_error(c, MHD_HTTP_NOT_FOUND, "no such page");
	by = who(h, c);
	if (!by)
		return http_error(
		    c, MHD_HTTP_UNAUTHORIZED,
		    "a token is needed: Authorization: Bearer TOKEN");
	if (r->too_large) {
		http_audit(h, by, method, 0, 413, url);
		return http_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
		                  "the body is larger than the limit");
	}
	if (strcmp(url, "/api/bulletins") == 0 && strcmp(method, "POST") == 0)
		return post_bulletin(h, c, r, by);
	if (strncmp(url, "/api/bulletins/", 15) == 0 &&
	    strcmp(method, "DELETE") == 0)
		return delete_bulletin(h, c, url + 15, by);
	return http_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
	                  "POST /api/bulletins or DELETE /api/bulletins/ID");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *data_size, void **ctx)
{
	struct http *h = cls;
	struct http_req *r = *ctx;

	(void)version;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		*ctx = r;
		return MHD_YES;
	}
	if (*data_size) {
		if (!r->too_large && r->len + *data_size <= HTTP_BODY_MAX) {
			char *p = realloc(r->body, r->len + *data_size + 1);

			if (!p)
				return MHD_NO;
			r->body = p;
			memcpy(r->body + r->len, data, *data_size);
			r->len += *data_size;
			r->body[r->len] = '\0';
		} else {
			/* Read on and drop it; answer 413 at the end. */
			r->too_large = true;
		}
		*data_size = 0;
		return MHD_YES;
	}
	if (!r->body && !r->too_large) {
		r->body = calloc(1, 1);
		if (!r->body)
			return MHD_NO;
	}
	return route(h, c, url, method, r);
}

static void on_done(void *cls, struct MHD_Connection *c, void **ctx,
                    enum MHD_RequestTerminationCode why)
{
	struct http_req *r = *ctx;

	(void)cls;
	(void)c;
	(void)why;
	if (r) {
		free(r->body);
		free(r);
		*ctx = NULL;
	}
}

/* Lines "NAME TOKEN"; '#' comments. 0, or a negative code (logged). */
static int load_tokens(struct http *h, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int n = 0;

	if (!f) {
		int rc = -errno;

		log_error("http: token_file %s: %s", path, strerror(errno));
		return rc;
	}
	while (fgets(line, sizeof(line), f)) {
		char name[64], value[128], extra;
		int k;

		n++;
		k = sscanf(line, " %63s %127s %c", name, value, &extra);
		if (k <= 0 || name[0] == '#')
			continue;
		if (k != 2 || strlen(value) < TOKEN_MIN ||
		    h->n_tok == HTTP_TOKENS_MAX) {
			log_error("http: %s:%d: want 'NAME TOKEN' with a token "
			          "of %d characters or more",
			          path, n, TOKEN_MIN);
			fclose(f);
			return -ERR_INVALID;
		}
		snprintf(h->tok[h->n_tok].name, sizeof(h->tok[0].name), "%s",
		         name);
		snprintf(h->tok[h->n_tok].value, sizeof(h->tok[0].value), "%s",
		         value);
		h->n_tok++;
	}
	fclose(f);
	explicit_bzero(line, sizeof(line));
	return 0;
}

int http_parse_addr(const char *bind, struct sockaddr_storage *addr,
                    socklen_t *len)
{
	char host[128];
	const char *colon = strrchr(bind, ':');
	size_t hl;
	long port;

	if (!colon || (hl = (size_t)(colon - bind)) == 0 || hl >= sizeof(host))
		return -ERR_USAGE;
	memcpy(host, bind, hl);
	host[hl] = '\0';
	port = strtol(colon + 1, NULL, 10);
	if (port < 1 || port > 65535)
		return -ERR_USAGE;
	memset(addr, 0, sizeof(*addr));
	if (host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;

		host[hl - 1] = '\0';
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
			return -ERR_USAGE;
		*len = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)addr;

		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return -ERR_USAGE;
		*len = sizeof(*a4);
	}
	return 0;
}

int http_start(struct http **out, const struct http_options *opt)
{
	struct http *h = calloc(1, sizeof(*h));
	struct sockaddr_storage addr;
	socklen_t alen;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
	int rc;

	*out = NULL;
	if (!h)
		return -ENOMEM;
	h->status = opt->status;
	snprintf(h->station, sizeof(h->station), "%s",
	         opt->station ? opt->station : "");
	if (http_parse_addr(opt->bind, &addr, &alen) < 0) {
		log_error("http: bind '%s' is not IPv4:PORT or [IPv6]:PORT",
		          opt->bind);
		free(h);
		return -ERR_USAGE;
	}
	rc = opt->token_file && opt->token_file[0]
	         ? load_tokens(h, opt->token_file)
	         : 0;
	if (rc == 0)
		rc = store_open(&h->st, opt->db_path, 0);
	if (rc < 0) {
		free(h);
		return rc;
	}
	/* One thread serves every request: a lock held by another program
	 * must not hold them all for long. */
	store_busy_timeout(h->st, BUSY_MS);
	if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
	                        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
	                        MHD_OPTION_NOTIFY_COMPLETED, on_done, h,
	                        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
	                        MHD_OPTION_CONNECTION_LIMIT, (unsigned)32,
	                        MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	                        (size_t)(64 * 1024), MHD_OPTION_END);
	if (!h->d) {
		log_error("http: cannot listen on %s (in use, or not an "
		          "address of this machine)",
		          opt->bind);
		store_close(h->st);
		free(h);
		return -ERR_USAGE;
	}
	log_info("http: status and API on http://%s/ (%zu token(s))", opt->bind,
	         h->n_tok);
	*out = h;
	return 0;
}

void http_stop(struct http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	store_close(h->st);
	explicit_bzero(h->tok, sizeof(h->tok));
	explicit_bzero(h->sess, sizeof(h->sess));
	free(h);
}
