/*
 * http.h - the daemon's HTTP side (libmicrohttpd), on loopback by default:
 *
 *   GET    /api/status         JSON: on air, next, outputs, listeners,
 *                              bulletin queue, counters
 *   GET    /metrics            Prometheus text format
 *   POST   /api/bulletins      a bulletin (form fields: text, lang,
 *                              priority normal|breaking, expires,
 *                              not_before): 201 with its id
 *   DELETE /api/bulletins/ID   withdraws it
 *   GET    /  and  /comms      the news desk, a web page for comms staff
 *                              (http_page.c: sign in with a token, queue,
 *                              preview, withdraw; session cookie + CSRF)
 *
 * Writes need "Authorization: Bearer TOKEN" with a token from the token
 * file (lines "NAME TOKEN"; NAME is who the audit log names): 401 without
 * one. A malformed or refused bulletin is 400 with one line of why, a body
 * over HTTP_BODY_MAX is 413, any other path 404. Every write that passed
 * the token check is recorded in the audit table (who, when, what, the
 * answer). Requests run on one thread of their own with their own
 * database connection: nothing here touches the audio thread but the
 * status snapshot.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stdint.h>
#include <sys/socket.h>

struct http;
struct status;

#define HTTP_BODY_MAX (80 * 1024)

struct http_options {
	const char *bind;       /* "HOST:PORT" (IPv4 or [IPv6]) */
	const char *token_file; /* NULL or "": writes are refused (401) */
	const char *db_path;
	const char *station;   /* its name, for the status */
	struct status *status; /* borrowed */
};

/* Starts serving. 0, or a negative code (logged once: a bad bind
 * address, a port in use, an unreadable token file). */
int http_start(struct http **out, const struct http_options *opt);

/* Stops serving (waits for the request in progress); accepts NULL. */
void http_stop(struct http *h);

/* "HOST:PORT" (an IPv4 address, or an IPv6 one in brackets) into *addr
 * and *len: 0, or -ERR_USAGE. */
int http_parse_addr(const char *hostport, struct sockaddr_storage *addr,
                    socklen_t *len);

#endif
