/*
 * http_priv.h - what http.c (the server, the API) and http_page.c (the
 * comms staff's web page) share: the server's state, the request being
 * read, a growing string, and the answers.
 */
#ifndef HTTP_PRIV_H
#define HTTP_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "http.h"

#define HTTP_TOKENS_MAX 32
#define HTTP_SESSIONS_MAX 64

struct http_token {
	char name[64];
	char value[128];
};

/* A browser signed in to the web page: its cookie and its form token
 * (hex of 32 random bytes each), who it is, until when. */
struct http_session {
	char id[65], csrf[65];
	char name[64];
	int64_t expires_ms; /* 0: the slot is free */
	char flash[320];    /* said once on the next page shown */
	bool flash_error;
};

struct http {
	struct MHD_Daemon *d;
	struct store *st; /* used by the MHD thread only */
	struct status *status;
	char station[256];
	struct http_token tok[HTTP_TOKENS_MAX];
	size_t n_tok;
	struct http_session sess[HTTP_SESSIONS_MAX];
	/* Failed sign-ins: after HTTP_LOGIN_FAILS within a minute, none
	 * is tried until login_blocked_ms. */
	unsigned login_fails;
	int64_t login_window_ms, login_blocked_ms;
};

/* One request in progress. */
struct http_req {
	char *body;
	size_t len;
	bool too_large;
};

/* A growing string; out of memory is remembered and the answer dropped. */
struct sb {
	char *p;
	size_t len, cap;
	bool oom;
};

void http_sb_printf(struct sb *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* s as a JSON string, quotes included. */
void http_sb_json(struct sb *b, const char *s);
/* s with & < > " ' escaped for HTML text and attribute values. */
void http_sb_html(struct sb *b, const char *s);

int64_t http_now_ms(void);

/* Sends b (freed here) with code and type, and headers: NULL, or name,
 * value, ..., NULL. */
enum MHD_Result http_respond(struct MHD_Connection *c, unsigned code,
                             const char *type, struct sb *b,
                             const char *const *headers);
/* {"error": why} with code. */
enum MHD_Result http_error(struct MHD_Connection *c, unsigned code,
                           const char *why);

/* The form field key in body (x-www-form-urlencoded), decoded into a new
 * string: 1 with *out, 0 when absent, -1 when malformed. */
int http_form_field(const char *body, size_t len, const char *key, char **out);
/* A time field (expires, not_before): "+2h" or local "YYYY-MM-DD HH:MM"
 * into *ms, 0 when absent or empty; -1 with why. */
int http_time_field(struct http *h, const struct http_req *r, const char *key,
                    int64_t *ms, char *why, size_t whylen);

/* The name of the token equal to value, or NULL; constant time per
 * token. */
const char *http_token_name(struct http *h, const char *value);

/* A row of the audit table. */
void http_audit(struct http *h, const char *by, const char *action,
                int64_t target, unsigned code, const char *detail);

/* The comms page: whether url is one of its paths, and the answer. */
bool http_page_owns(const char *url);
enum MHD_Result http_page(struct http *h, struct MHD_Connection *c,
                          const char *url, const char *method,
                          const struct http_req *r);

#endif
