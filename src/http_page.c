/*
 * http_page.c - the news desk: the web page comms staff use to queue a
 * bulletin, hear how it will be read (the normalised text), see the queue
 * and what aired today, and withdraw one.
 *
 *   GET  /                 -> /comms
 *   GET  /comms            the page (the sign-in form without a session)
 *   GET  /comms.css        its style sheet
 *   POST /comms/login      token=...
 *   POST /comms/logout
 *   POST /comms/bulletin   text, lang, priority, expires, action=preview|queue
 *   POST /comms/withdraw   id
 *
 * Plain HTML forms, no JavaScript. Staff sign in with a token from the
 * token file (the same ones the API takes; its NAME is who the audit log
 * names); the browser then holds a session cookie (HttpOnly,
 * SameSite=Strict, 12 hours) and every form carries the session's own
 * random CSRF token, checked before anything is done. A POST whose Origin
 * is another site is refused too. Five failed sign-ins within a minute
 * close sign-in for a minute. After a write the browser is sent back to
 * the page (303), which says once what happened.
 */
#include "http_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <sqlite3.h>

#include "bulletin.h"
#include "err.h"
#include "log.h"
#include "status.h"
#include "store.h"
#include "textnorm.h"
#include "timeutil.h"

#define SESSION_MS (12 * 3600 * 1000LL)
#define LOGIN_FAILS 5
#define LOGIN_WINDOW_MS (60 * 1000LL)
#define COOKIE "pulse_session"
#define QUEUE_SHOWN 50
#define TODAY_SHOWN 100
#define SHOWN_BYTES 400 /* of a bulletin's text in a list */

static const char *const html_headers[] = {
    "Content-Security-Policy",
    "default-src 'none'; style-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options",
    "DENY",
    "Referrer-Policy",
    "same-origin",
    NULL};

static const struct {
	const char *code, *name;
} langs[] = {{"en", "English"}, {"af", "Afrikaans"}, {"tn", "Setswana"}};

static const struct {
	const char *value, *name;
} expiries[] = {{"", "never"},           {"+1h", "in 1 hour"},
                {"+3h", "in 3 hours"},   {"+6h", "in 6 hours"},
                {"+12h", "in 12 hours"}, {"+1d", "in a day"},
                {"+2d", "in 2 days"},    {"+7d", "in a week"}};

/* What the bulletin form held, to show it again. */
struct form {
	const char *text, *lang, *prio, *expires;
};

bool http_page_owns(const char *url)
{
	return strcmp(url, "/") == 0 || strcmp(url, "/comms") == 0 ||
	       strcmp(url, "/comms.css") == 0 ||
	       strncmp(url, "/comms/", 7) == 0;
}

/* ---- sessions ---- */

static bool same_secret(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	unsigned char diff = (unsigned char)(n != m);

	for (size_t k = 0; k < n; k++)
		diff |= (unsigned char)(a[k] ^ (k < m ? b[k] : 0));
	return !diff;
}

/* 32 random bytes as 64 hex digits; -1 if the kernel gave none. */
static int random_hex(char out[65])
{
	unsigned char raw[32];
	size_t got = 0;

	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);

		if (n < 0 && errno != EINTR)
			return -1;
		if (n > 0)
			got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

/* The live session whose cookie the browser sent, or NULL. */
static struct http_session *session_of(struct http *h, struct MHD_Connection *c)
{
	const char *id =
	    MHD_lookup_connection_value(c, MHD_COOKIE_KIND, COOKIE);
	int64_t now = http_now_ms();

	if (!id || strlen(id) != 64)
		return NULL;
	for (size_t i = 0; i < HTTP_SESSIONS_MAX; i++) {
		struct http_session *s = &h->sess[i];

		if (s->expires_ms > now && same_secret(s->id, id))
			return s;
	}
	return NULL;
}

/* A new session for name: a free slot, else the one ending soonest. */
static struct http_session *session_new(struct http *h, const char *name)
{
	struct http_session *s = &h->sess[0];
	int64_t now = http_now_ms();

	for (size_t i = 0; i < HTTP_SESSIONS_MAX; i++) {
		if (h->sess[i].expires_ms <= now) {
			s = &h->sess[i];
			break;
		}
		if (h->sess[i].expires_ms < s->expires_ms)
			s = &h->sess[i];
	}
	memset(s, 0, sizeof(*s));
	if (random_hex(s->id) < 0 || random_hex(s->csrf) < 0) {
		memset(s, 0, sizeof(*s));
		return NULL;
	}
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->expires_ms = now + SESSION_MS;
	return s;
}

static void flash(struct http_session *s, bool is_error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void flash(struct http_session *s, bool is_error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->flash, sizeof(s->flash), fmt, ap);
	va_end(ap);
	s->flash_error = is_error;
}

/* Whether a POST may be from this page: no Origin (not a browser), or
 * http(s)://HOST of the Host header. */
static bool same_origin(struct MHD_Connection *c)
{
	const char *origin =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	const char *host =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	const char *rest;

	if (!origin)
		return true;
	if (!host)
		return false;
	if (strncmp(origin, "http://", 7) == 0)
		rest = origin + 7;
	else if (strncmp(origin, "https://", 8) == 0)
		rest = origin + 8;
	else
		return false;
	return strcmp(rest, host) == 0;
}

/* ---- answers ---- */

static enum MHD_Result send_html(struct MHD_Connection *c, unsigned code,
                                 struct sb *b)
{
	return http_respond(c, code, "text/html; charset=utf-8", b,
	                    html_headers);
}

/* 303 to /comms, with a cookie to set (or NULL). */
static enum MHD_Result see_page(struct MHD_Connection *c, const char *cookie)
{
	struct sb b = {0};
	const char *hdr[] = {"Location", "/comms", cookie ? "Set-Cookie" : NULL,
	                     cookie, NULL};

	http_sb_printf(&b, "<!doctype html><a href=\"/comms\">news desk</a>\n");
	return http_respond(c, MHD_HTTP_SEE_OTHER, "text/html; charset=utf-8",
	                    &b, hdr);
}

static void head(struct http *h, struct sb *b, const char *what)
{
	http_sb_printf(b, "<!doctype html>\n<html lang=\"en\"><head>"
	                  "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	                  "content=\"width=device-width, initial-scale=1\">\n"
	                  "<title>");
	http_sb_html(b, what);
	http_sb_printf(b, " - ");
	http_sb_html(b, h->station[0] ? h->station : "Pulse Radio");
	http_sb_printf(b, "</title>\n<link rel=\"stylesheet\" "
	                  "href=\"/comms.css\"></head>\n<body>\n");
}

/* A page with a message only (a refusal), and a way back. */
static enum MHD_Result message_page(struct http *h, struct MHD_Connection *c,
                                    unsigned code, const char *msg)
{
	struct sb b = {0};

	head(h, &b, "News desk");
	http_sb_printf(&b, "<main><h1>News desk</h1>\n<p class=\"error\" "
	                   "role=\"alert\">");
	http_sb_html(&b, msg);
	http_sb_printf(&b, "</p>\n<p><a href=\"/comms\">Back to the news "
	                   "desk</a></p></main></body></html>\n");
	return send_html(c, code, &b);
}

static enum MHD_Result login_page(struct http *h, struct MHD_Connection *c,
                                  unsigned code, const char *msg)
{
	struct sb b = {0};

	head(h, &b, "Sign in");
	http_sb_printf(&b, "<main class=\"narrow\"><h1>");
	http_sb_html(&b, h->station[0] ? h->station : "Pulse Radio");
	http_sb_printf(&b, " news desk</h1>\n");
	if (msg) {
		http_sb_printf(&b, "<p class=\"error\" role=\"alert\">");
		http_sb_html(&b, msg);
		http_sb_printf(&b, "</p>\n");
	}
	if (h->n_tok == 0)
		http_sb_printf(&b, "<p class=\"error\">No access tokens are "
		                   "set up (token_file in the [http] section "
		                   "of the configuration): nobody can sign "
		                   "in.</p>\n");
	http_sb_printf(&b,
	               "<form method=\"post\" action=\"/comms/login\">\n"
	               "<label for=\"token\">Access token</label>\n"
	               "<input type=\"password\" id=\"token\" name=\"token\" "
	               "autocomplete=\"current-password\" required>\n"
	               "<button type=\"submit\">Sign in</button>\n</form>\n"
	               "</main></body></html>\n");
	return send_html(c, code, &b);
}

/* A UTC time from the database as local "HH:MM", or "Mon 27 HH:MM" when
 * not today. */
static void local_time(const char *utc, const char *zone, int today_yday,
                       char *buf, size_t len)
{
	int64_t ms;
	struct tm tm;

	if (!utc || tu_parse_utc(utc, &ms) < 0 ||
	    tu_local_tm(ms / 1000, zone, &tm) < 0) {
		snprintf(buf, len, "-");
		return;
	}
	if (tm.tm_yday == today_yday)
		snprintf(buf, len, "%02d:%02d", tm.tm_hour, tm.tm_min);
	else
		snprintf(buf, len, "%s %d %02d:%02d",
		         tu_day_name((tm.tm_wday + 6) % 7), tm.tm_mday,
		         tm.tm_hour, tm.tm_min);
}

/* At most SHOWN_BYTES of text, cut at a character, with an ellipsis. */
static void html_excerpt(struct sb *b, const char *text)
{
	size_t n = strlen(text);
	char *cut;

	if (n <= SHOWN_BYTES) {
		http_sb_html(b, text);
		return;
	}
	n = SHOWN_BYTES;
	while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
		n--;
	cut = strndup(text, n);
	if (!cut) {
		b->oom = true;
		return;
	}
	http_sb_html(b, cut);
	http_sb_printf(b, "\xe2\x80\xa6");
	free(cut);
}

static void csrf_field(struct sb *b, const struct http_session *s)
{
	http_sb_printf(b, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">",
	               s->csrf);
}

static void bulletin_form(struct sb *b, const struct http_session *s,
                          const struct form *f)
{
	const char *lang = f->lang ? f->lang : "en";
	const char *exp = f->expires ? f->expires : "";
	bool breaking = f->prio && strcmp(f->prio, "breaking") == 0;

	http_sb_printf(b, "<section><h2>New bulletin</h2>\n<form "
	                  "method=\"post\" action=\"/comms/bulletin\">\n");
	csrf_field(b, s);
	http_sb_printf(b, "\n<label for=\"text\">Text</label>\n<textarea "
	                  "id=\"text\" name=\"text\" rows=\"8\" "
	                  "maxlength=\"65536\" required>");
	http_sb_html(b, f->text ? f->text : "");
	http_sb_printf(b, "</textarea>\n<div class=\"row\"><div><label "
	                  "for=\"lang\">Language</label>\n<select id=\"lang\" "
	                  "name=\"lang\">");
	for (size_t i = 0; i < sizeof(langs) / sizeof(langs[0]); i++)
		http_sb_printf(
		    b, "<option value=\"%s\"%s>%s</option>", langs[i].code,
		    strcmp(lang, langs[i].code) == 0 ? " selected" : "",
		    langs[i].name);
	http_sb_printf(b, "</select></div>\n<div><label "
	                  "for=\"expires\">Expires</label>\n<select "
	                  "id=\"expires\" name=\"expires\">");
	for (size_t i = 0; i < sizeof(expiries) / sizeof(expiries[0]); i++)
		http_sb_printf(
		    b, "<option value=\"%s\"%s>%s</option>", expiries[i].value,
		    strcmp(exp, expiries[i].value) == 0 ? " selected" : "",
		    expiries[i].name);
	http_sb_printf(
	    b,
	    "</select></div></div>\n<fieldset><legend>When</legend>\n"
	    "<label><input type=\"radio\" name=\"priority\" "
	    "value=\"normal\"%s> at the next news slot</label>\n"
	    "<label><input type=\"radio\" name=\"priority\" "
	    "value=\"breaking\"%s> breaking: on air at once</label>\n"
	    "</fieldset>\n<div class=\"buttons\"><button type=\"submit\" "
	    "name=\"action\" value=\"preview\" class=\"quiet\">Preview</button>"
	    "\n<button type=\"submit\" name=\"action\" value=\"queue\">Queue "
	    "it</button></div>\n</form>\n",
	    breaking ? "" : " checked", breaking ? " checked" : "");
}

static void queue_list(struct http *h, struct sb *b,
                       const struct http_session *s, const char *zone, int yday)
{
	sqlite3_stmt *q;
	int n = 0;

	http_sb_printf(b, "<section><h2>Queue</h2>\n");
	if (sqlite3_prepare_v2(
	        store_db(h->st),
	        "SELECT id, state, lang, priority = 'breaking', submitted_by,"
	        " submitted_at, not_before, expires_at, text FROM bulletin"
	        " WHERE state IN ('queued', 'rendered', 'on_air') ORDER BY"
	        " priority = 'breaking' DESC, id LIMIT ?1",
	        -1, &q, NULL) != SQLITE_OK) {
		log_error("http: the queue: %s",
		          sqlite3_errmsg(store_db(h->st)));
		http_sb_printf(b, "<p class=\"error\">The queue cannot be read "
		                  "(see the log).</p></section>\n");
		return;
	}
	sqlite3_bind_int(q, 1, QUEUE_SHOWN);
	while (sqlite3_step(q) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(q, 0);
		const char *state = (const char *)sqlite3_column_text(q, 1);
		char sub[40], nb[40], ex[40];

		if (n++ == 0)
			http_sb_printf(b,
			               "<ul class=\"items\" id=\"queue\">\n");
		local_time((const char *)sqlite3_column_text(q, 5), zone, yday,
		           sub, sizeof(sub));
		local_time((const char *)sqlite3_column_text(q, 6), zone, yday,
		           nb, sizeof(nb));
		local_time((const char *)sqlite3_column_text(q, 7), zone, yday,
		           ex, sizeof(ex));
		http_sb_printf(
		    b,
		    "<li id=\"b%lld\"><p class=\"meta\">#%lld "
		    "<span class=\"state\">%s</span>%s, ",
		    id, id, strcmp(state, "on_air") == 0 ? "on air" : state,
		    sqlite3_column_int(q, 3) ? " <strong>breaking</strong>"
		                             : "");
		http_sb_html(b, (const char *)sqlite3_column_text(q, 2));
		http_sb_printf(b, ", by ");
		http_sb_html(b, (const char *)sqlite3_column_text(q, 4));
		http_sb_printf(b, " at %s", sub);
		if (sqlite3_column_type(q, 6) != SQLITE_NULL)
			http_sb_printf(b, ", not before %s", nb);
		if (sqlite3_column_type(q, 7) != SQLITE_NULL)
			http_sb_printf(b, ", expires %s", ex);
		http_sb_printf(b, "</p>\n<p class=\"text\">");
		html_excerpt(b, (const char *)sqlite3_column_text(q, 8));
		http_sb_printf(b, "</p>\n");
		if (strcmp(state, "on_air") != 0) {
			http_sb_printf(b, "<form method=\"post\" "
			                  "action=\"/comms/withdraw\">");
			csrf_field(b, s);
			http_sb_printf(b,
			               "<input type=\"hidden\" name=\"id\" "
			               "value=\"%lld\"><button type=\"submit\" "
			               "class=\"quiet\">Withdraw #%lld</button>"
			               "</form>\n",
			               id, id);
		}
		http_sb_printf(b, "</li>\n");
	}
	sqlite3_finalize(q);
	http_sb_printf(b, n ? "</ul></section>\n"
	                    : "<p id=\"queue\">Nothing is waiting.</p>"
	                      "</section>\n");
}

/* What ended today (station time): aired, withdrawn, expired, failed. */
static void today_list(struct http *h, struct sb *b, const char *zone,
                       int64_t midnight_ms, int yday)
{
	sqlite3_stmt *q;
	char since[40];
	int n = 0;

	tu_format_utc(midnight_ms, since, sizeof(since));
	http_sb_printf(b, "<section><h2>Today</h2>\n");
	if (sqlite3_prepare_v2(
	        store_db(h->st),
	        "SELECT id, state, lang, priority = 'breaking', submitted_by,"
	        " state_at, reason, text FROM bulletin WHERE state IN"
	        " ('aired', 'withdrawn', 'expired', 'failed') AND state_at"
	        " >= ?1 ORDER BY state_at DESC LIMIT ?2",
	        -1, &q, NULL) != SQLITE_OK) {
		log_error("http: today's bulletins: %s",
		          sqlite3_errmsg(store_db(h->st)));
		http_sb_printf(b, "<p class=\"error\">Today's bulletins cannot "
		                  "be read (see the log).</p></section>\n");
		return;
	}
	sqlite3_bind_text(q, 1, since, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 2, TODAY_SHOWN);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *reason = (const char *)sqlite3_column_text(q, 6);
		char at[40];

		if (n++ == 0)
			http_sb_printf(b,
			               "<ul class=\"items\" id=\"today\">\n");
		local_time((const char *)sqlite3_column_text(q, 5), zone, yday,
		           at, sizeof(at));
		http_sb_printf(b,
		               "<li id=\"t%lld\"><p class=\"meta\">#%lld "
		               "<span class=\"state\">%s</span> at %s%s, ",
		               (long long)sqlite3_column_int64(q, 0),
		               (long long)sqlite3_column_int64(q, 0),
		               sqlite3_column_text(q, 1), at,
		               sqlite3_column_int(q, 3)
		                   ? " <strong>breaking</strong>"
		                   : "");
		http_sb_html(b, (const char *)sqlite3_column_text(q, 2));
		http_sb_printf(b, ", by ");
		http_sb_html(b, (const char *)sqlite3_column_text(q, 4));
		if (reason && reason[0]) {
			http_sb_printf(b, " (");
			http_sb_html(b, reason);
			http_sb_printf(b, ")");
		}
		http_sb_printf(b, "</p>\n<p class=\"text\">");
		html_excerpt(b, (const char *)sqlite3_column_text(q, 7));
		http_sb_printf(b, "</p></li>\n");
	}
	sqlite3_finalize(q);
	http_sb_printf(b, n ? "</ul></section>\n"
	                    : "<p id=\"today\">No bulletin has aired or "
	                      "ended yet today.</p></section>\n");
}

/*
 * The news desk for session s: its message, the form (holding f), the
 * preview or the error, the queue, today.
 */
static enum MHD_Result desk_page(struct http *h, struct MHD_Connection *c,
                                 struct http_session *s, unsigned code,
                                 const struct form *f, const char *preview,
                                 const char *err)
{
	struct status_snapshot now;
	struct sb b = {0};
	char zone[128] = "UTC";
	int64_t t = http_now_ms(), midnight = t;
	struct tm tm;
	int yday = -1;

	if (store_setting_get(h->st, "timezone", zone, sizeof(zone)) < 0)
		snprintf(zone, sizeof(zone), "UTC");
	if (tu_local_tm(t / 1000, zone, &tm) == 0) {
		yday = tm.tm_yday;
		midnight =
		    t -
		    (int64_t)(tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec) *
		        1000 -
		    t % 1000;
	}
	status_get(h->status, &now);
	head(h, &b, "News desk");
	http_sb_printf(&b, "<header><h1>");
	http_sb_html(&b, h->station[0] ? h->station : "Pulse Radio");
	http_sb_printf(&b, " news desk</h1>\n<form method=\"post\" "
	                   "action=\"/comms/logout\" class=\"who\">");
	csrf_field(&b, s);
	http_sb_printf(&b, "<span>Signed in as <strong id=\"who\">");
	http_sb_html(&b, s->name);
	http_sb_printf(&b, "</strong></span> <button type=\"submit\" "
	                   "class=\"quiet\">Sign out</button></form>\n"
	                   "<p class=\"onair\">On air: ");
	if (now.started_ms) {
		http_sb_html(&b, now.artist);
		http_sb_printf(&b, "%s", now.artist[0] ? " - " : "");
		http_sb_html(&b, now.title);
	} else {
		http_sb_printf(&b, "nothing yet");
	}
	http_sb_printf(&b, "</p></header>\n<main>\n");
	if (s->flash[0]) {
		http_sb_printf(&b,
		               "<p class=\"%s\" role=\"status\" "
		               "id=\"flash\">",
		               s->flash_error ? "error" : "done");
		http_sb_html(&b, s->flash);
		http_sb_printf(&b, "</p>\n");
		s->flash[0] = '\0';
	}
	bulletin_form(&b, s, f);
	if (err) {
		http_sb_printf(&b, "<p class=\"error\" role=\"alert\" "
		                   "id=\"problem\">");
		http_sb_html(&b, err);
		http_sb_printf(&b, "</p>\n");
	}
	if (preview) {
		http_sb_printf(&b, "<div class=\"preview\"><h3>How it will be "
		                   "read</h3>\n<p id=\"preview\">");
		http_sb_html(&b, preview);
		http_sb_printf(&b, "</p><p class=\"hint\">Numbers are read in "
		                   "the bulletin's language. Nothing is queued "
		                   "until you press Queue it.</p></div>\n");
	}
	http_sb_printf(&b, "</section>\n");
	queue_list(h, &b, s, zone, yday);
	today_list(h, &b, zone, midnight, yday);
	http_sb_printf(&b, "</main></body></html>\n");
	return send_html(c, code, &b);
}

static const char css[] =
    "*{box-sizing:border-box}\n"
    "body{font:16px/1.45 system-ui,sans-serif;margin:0;color:#1a1a1a;"
    "background:#f6f6f3}\n"
    "header,main{max-width:46rem;margin:0 auto;padding:0 1rem}\n"
    "header{padding-top:.75rem;border-bottom:1px solid #ccc}\n"
    "h1{font-size:1.35rem;margin:.5rem 0}\n"
    "h2{font-size:1.1rem;margin:1.5rem 0 .5rem}\n"
    "h3{font-size:1rem;margin:0 0 .25rem}\n"
    ".narrow{max-width:24rem;padding-top:2rem}\n"
    "label,legend{display:block;font-weight:600;margin:.75rem 0 .25rem}\n"
    "fieldset{border:0;padding:0;margin:0}\n"
    "fieldset label{font-weight:normal;margin:.25rem 0}\n"
    "textarea,select,input[type=password]{width:100%;font:inherit;"
    "padding:.5rem;border:1px solid #888;border-radius:4px;"
    "background:#fff}\n"
    ".row{display:flex;gap:1rem;flex-wrap:wrap}\n"
    ".row>div{flex:1 1 10rem}\n"
    "button{font:inherit;padding:.55rem 1.1rem;margin:.75rem .5rem 0 0;"
    "border:1px solid #0b4f8a;border-radius:4px;background:#0b4f8a;"
    "color:#fff;min-height:2.75rem}\n"
    "button.quiet{background:#fff;color:#0b4f8a}\n"
    ".who{float:right;margin:.6rem 0 0}\n"
    ".who button{margin:0 0 0 .5rem;min-height:0;padding:.2rem .6rem}\n"
    ".onair{color:#555;margin:.25rem 0 .75rem;clear:both}\n"
    ".done,.error{padding:.6rem .8rem;border-radius:4px}\n"
    ".done{background:#e3f3e0;border:1px solid #4a8f3c}\n"
    ".error{background:#fbe4e2;border:1px solid #b3261e}\n"
    ".preview{background:#fff;border:1px dashed #888;padding:.6rem .8rem;"
    "margin-top:1rem;border-radius:4px}\n"
    ".preview p{white-space:pre-wrap}\n"
    ".hint{color:#555;font-size:.9rem}\n"
    ".items{list-style:none;padding:0;margin:0}\n"
    ".items li{background:#fff;border:1px solid #ddd;border-radius:4px;"
    "padding:.5rem .75rem;margin:.5rem 0}\n"
    ".items p{margin:.2rem 0}\n"
    ".items form button{margin-top:.25rem}\n"
    ".meta{color:#555;font-size:.9rem}\n"
    ".state{font-weight:600}\n"
    ".text{white-space:pre-wrap;overflow-wrap:anywhere}\n"
    "@media (max-width:30rem){.who{float:none}}\n";

/* ---- the forms ---- */

static char *field(const struct http_req *r, const char *key)
{
	char *v = NULL;

	return http_form_field(r->body, r->len, key, &v) > 0 ? v : NULL;
}

static enum MHD_Result do_login(struct http *h, struct MHD_Connection *c,
                                const struct http_req *r)
{
	int64_t now = http_now_ms();
	char *token = field(r, "token");
	const char *name = token ? http_token_name(h, token) : NULL;
	struct http_session *s;
	char cookie[160];

	if (token)
		explicit_bzero(token, strlen(token));
	free(token);
	if (now < h->login_blocked_ms) {
		http_audit(h, "-", "login", 0, 429, "web: sign-in closed");
		return login_page(h, c, MHD_HTTP_TOO_MANY_REQUESTS,
		                  "Too many wrong tokens: sign-in is closed "
		                  "for a minute.");
	}
	if (!name) {
		if (now - h->login_window_ms > LOGIN_WINDOW_MS) {
			h->login_window_ms = now;
			h->login_fails = 0;
		}
		if (++h->login_fails >= LOGIN_FAILS) {
			h->login_blocked_ms = now + LOGIN_WINDOW_MS;
			log_warn("http: %u wrong tokens within a minute: "
			         "sign-in closed for a minute",
			         h->login_fails);
		}
		http_audit(h, "-", "login", 0, 401, "web: wrong token");
		return login_page(h, c, MHD_HTTP_UNAUTHORIZED,
		                  "That token is not valid.");
	}
	s = session_new(h, name);
	if (!s)
		return message_page(h, c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                    "No random numbers for a session; see the "
		                    "log.");
	log_info("http: %s signed in to the news desk", name);
	http_audit(h, name, "login", 0, 303, "web");
	snprintf(cookie, sizeof(cookie),
	         COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld",
	         s->id, SESSION_MS / 1000);
	return see_page(c, cookie);
}

static enum MHD_Result do_bulletin(struct http *h, struct MHD_Connection *c,
                                   struct http_session *s,
                                   const struct http_req *r)
{
	char *text = field(r, "text"), *lang = field(r, "lang");
	char *prio = field(r, "priority"), *exp = field(r, "expires");
	char *action = field(r, "action"), *clean = NULL, *speech = NULL;
	struct form f = {text, lang, prio, exp};
	struct bulletin_new nb = {.by = s->name};
	char why[300] = "";
	enum MHD_Result ret;
	int64_t id = 0;
	int rc;

	if (!text) {
		snprintf(why, sizeof(why), "The text is missing.");
		goto refuse;
	}
	if (prio && strcmp(prio, "breaking") && strcmp(prio, "normal")) {
		snprintf(why, sizeof(why),
		         "Priority is 'normal' or 'breaking'.");
		goto refuse;
	}
	if (action && strcmp(action, "preview") == 0) {
		rc = textnorm_clean(text, strlen(text), &clean, why,
		                    sizeof(why));
		if (rc == 0)
			rc = textnorm_speech(
			    clean, lang && lang[0] ? lang : "en", &speech);
		if (rc == -ERR_INVALID && !why[0])
			snprintf(why, sizeof(why),
			         "The text cannot be read in that language.");
		if (rc < 0 && !why[0])
			snprintf(why, sizeof(why), "Out of memory.");
		if (rc < 0)
			goto refuse;
		ret = desk_page(h, c, s, MHD_HTTP_OK, &f, speech, NULL);
		goto out;
	}
	if (!action || strcmp(action, "queue") != 0) {
		snprintf(why, sizeof(why), "Press Preview or Queue it.");
		goto refuse;
	}
	if (http_time_field(h, r, "expires", &nb.expires_ms, why, sizeof(why)) <
	    0)
		goto refuse_audit;
	nb.text = text;
	nb.text_len = strlen(text);
	nb.lang = lang;
	nb.breaking = prio && strcmp(prio, "breaking") == 0;
	rc = bulletin_add(h->st, &nb, http_now_ms(), &id, why, sizeof(why));
	if (rc == -ERR_INVALID)
		goto refuse_audit;
	if (rc == -ERR_DB_BUSY) {
		/* No audit row: it would wait for the same lock. */
		log_warn("http: a bulletin by %s on the news desk refused "
		         "(503): the database is locked by another program",
		         s->name);
		snprintf(why, sizeof(why),
		         "The database is busy (another program holds it); "
		         "nothing was queued. Press Queue it again in a few "
		         "seconds.");
		ret = desk_page(h, c, s, MHD_HTTP_SERVICE_UNAVAILABLE, &f, NULL,
		                why);
		goto out;
	}
	if (rc < 0) {
		http_audit(h, s->name, "bulletin.add", 0, 500,
		           "web: database error");
		snprintf(why, sizeof(why),
		         "The database failed; nothing was queued. Try again, "
		         "or tell the operator (see the log).");
		ret = desk_page(h, c, s, MHD_HTTP_INTERNAL_SERVER_ERROR, &f,
		                NULL, why);
		goto out;
	}
	log_info("http: bulletin %lld queued by %s on the news desk%s",
	         (long long)id, s->name, nb.breaking ? " (breaking)" : "");
	http_audit(h, s->name, "bulletin.add", id, 303,
	           nb.breaking ? "web: breaking" : "web");
	flash(s, false, "Bulletin #%lld is queued%s.", (long long)id,
	      nb.breaking ? ": breaking, it goes on air at once"
	                  : " for the next news slot");
	ret = see_page(c, NULL);
	goto out;
refuse_audit:
	http_audit(h, s->name, "bulletin.add", 0, 400, why);
refuse:
	ret = desk_page(h, c, s, MHD_HTTP_BAD_REQUEST, &f, NULL, why);
out:
	free(text);
	free(lang);
	free(prio);
	free(exp);
	free(action);
	free(clean);
	free(speech);
	return ret;
}

static enum MHD_Result do_withdraw(struct http *h, struct MHD_Connection *c,
                                   struct http_session *s,
                                   const struct http_req *r)
{
	char *idtext = field(r, "id"), *end = NULL, why[300] = "";
	long long id = 0;
	int rc = -ERR_NOT_FOUND;

	if (idtext) {
		errno = 0;
		id = strtoll(idtext, &end, 10);
		if (!errno && end != idtext && !*end && id > 0)
			rc = bulletin_withdraw(h->st, id, http_now_ms(), why,
			                       sizeof(why));
	}
	free(idtext);
	if (rc == 0) {
		log_info("http: bulletin %lld withdrawn by %s on the news desk",
		         id, s->name);
		http_audit(h, s->name, "bulletin.withdraw", id, 303, "web");
		flash(s, false, "Bulletin #%lld is withdrawn: it will not air.",
		      id);
	} else if (rc == -ERR_NOT_FOUND) {
		http_audit(h, s->name, "bulletin.withdraw", id, 404, "web");
		flash(s, true, "There is no bulletin #%lld.", id);
	} else if (rc == -ERR_CONFLICT) {
		http_audit(h, s->name, "bulletin.withdraw", id, 409, why);
		flash(s, true, "Bulletin #%lld cannot be withdrawn: %s", id,
		      why);
	} else if (rc == -ERR_DB_BUSY) {
		log_warn("http: a withdrawal by %s on the news desk refused: "
		         "the database is locked by another program",
		         s->name);
		flash(
		    s, true,
		    "The database is busy (another program holds it); "
		    "bulletin #%lld is unchanged. Try again in a few seconds.",
		    id);
	} else {
		http_audit(h, s->name, "bulletin.withdraw", id, 500,
		           "web: database error");
		flash(s, true,
		      "The database failed; bulletin #%lld is unchanged.", id);
	}
	return see_page(c, NULL);
}

enum MHD_Result http_page(struct http *h, struct MHD_Connection *c,
                          const char *url, const char *method,
                          const struct http_req *r)
{
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	bool post = strcmp(method, "POST") == 0;
	struct http_session *s;
	struct form empty = {0};
	char *csrf;
	bool csrf_ok;

	if (strcmp(url, "/comms.css") == 0) {
		struct sb b = {0};

		if (!get)
			return message_page(h, c, MHD_HTTP_METHOD_NOT_ALLOWED,
			                    "Use GET.");
		http_sb_printf(&b, "%s", css);
		return http_respond(c, MHD_HTTP_OK, "text/css; charset=utf-8",
		                    &b, NULL);
	}
	if (strcmp(url, "/") == 0 || strcmp(url, "/comms/") == 0)
		return get ? see_page(c, NULL)
		           : message_page(h, c, MHD_HTTP_METHOD_NOT_ALLOWED,
		                          "Use GET.");
	s = session_of(h, c);
	if (strcmp(url, "/comms") == 0) {
		if (!get)
			return message_page(h, c, MHD_HTTP_METHOD_NOT_ALLOWED,
			                    "Use GET.");
		return s ? desk_page(h, c, s, MHD_HTTP_OK, &empty, NULL, NULL)
		         : login_page(h, c, MHD_HTTP_OK, NULL);
	}
	if (strcmp(url, "/comms/login") != 0 &&
	    strcmp(url, "/comms/logout") != 0 &&
	    strcmp(url, "/comms/bulletin") != 0 &&
	    strcmp(url, "/comms/withdraw") != 0)
		return message_page(h, c, MHD_HTTP_NOT_FOUND, "No such page.");
	if (!post)
		return message_page(h, c, MHD_HTTP_METHOD_NOT_ALLOWED,
		                    "Use the forms of the news desk.");
	if (r->too_large)
		return message_page(h, c, MHD_HTTP_CONTENT_TOO_LARGE,
		                    "That is more text than a bulletin may "
		                    "hold (64 KB): nothing was queued.");
	if (!same_origin(c))
		return message_page(h, c, MHD_HTTP_FORBIDDEN,
		                    "That form came from another site: "
		                    "refused.");
	if (strcmp(url, "/comms/login") == 0)
		return do_login(h, c, r);
	if (!s)
		return login_page(h, c, MHD_HTTP_UNAUTHORIZED,
		                  "Your session has ended: sign in again. "
		                  "Nothing was changed.");
	csrf = field(r, "csrf");
	csrf_ok = csrf && same_secret(s->csrf, csrf);
	free(csrf);
	if (!csrf_ok) {
		http_audit(h, s->name, url, 0, 403, "web: bad form token");
		return message_page(h, c, MHD_HTTP_FORBIDDEN,
		                    "That form is out of date or not from this "
		                    "page: nothing was changed.");
	}
	if (strcmp(url, "/comms/logout") == 0) {
		log_info("http: %s signed out of the news desk", s->name);
		http_audit(h, s->name, "logout", 0, 303, "web");
		memset(s, 0, sizeof(*s));
		return see_page(c, COOKIE "=; Path=/; HttpOnly; "
		                          "SameSite=Strict; Max-Age=0");
	}
	if (strcmp(url, "/comms/bulletin") == 0)
		return do_bulletin(h, c, s, r);
	return do_withdraw(h, c, s, r);
}
