/*
 * cmd_status.c - "pulse-radio status": asks the running daemon (its HTTP
 * status API, from the configuration's [http] bind) what it is doing and
 * prints the answer for a person.
 *
 * A plain HTTP/1.0 GET over one socket: the daemon is on this machine (or
 * the address the operator gives), so no HTTP library is needed here.
 */
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "http.h"
#include "log.h"

#define ANSWER_MAX (256 * 1024)

static void usage(FILE *f)
{
	fputs("Usage: pulse-radio status [--config FILE | --bind HOST:PORT] "
	      "[--json]\n"
	      "\n"
	      "What the running daemon is doing: on air, outputs, the "
	      "bulletin queue,\n"
	      "counters. Asks its HTTP API at the configuration's [http] "
	      "bind\n"
	      "(default /etc/pulse-radio/pulse-radio.conf). --json prints "
	      "the API's JSON.\n",
	      f);
}

/* Connects to "HOST:PORT" (IPv4 or [IPv6]) with a 5 s timeout. */
static int dial(const char *bind)
{
	struct sockaddr_storage a;
	struct timeval tv = {5, 0};
	socklen_t len;
	int fd;

	if (http_parse_addr(bind, &a, &len) < 0)
		return -ERR_USAGE;
	fd = socket(a.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, len) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

int cmd_daemon_status(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"bind", required_argument, NULL, 'b'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = "/etc/pulse-radio/pulse-radio.conf", *bind = NULL;
	char req[256], *ans = NULL, *body;
	struct config *cfg = NULL;
	bool json = false;
	size_t len = 0;
	int c, fd, code = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'b':
			bind = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (!bind) {
		cfg = malloc(sizeof(*cfg));
		if (!cfg || cfg_load(cfg, path) < 0) {
			free(cfg);
			return 1;
		}
		if (!cfg->http_bind[0]) {
			log_error("status: %s has no [http] bind: the daemon "
			          "serves no status",
			          path);
			free(cfg);
			return 1;
		}
		bind = cfg->http_bind;
	}
	fd = dial(bind);
	if (fd < 0) {
		log_error("status: no daemon answers at %s (%s)", bind,
		          err_str(fd));
		free(cfg);
		return 1;
	}
	snprintf(req, sizeof(req),
	         "GET /api/status%s HTTP/1.0\r\nHost: %s\r\n\r\n",
	         json ? "" : "?format=text", bind);
	free(cfg);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		log_error("status: the daemon hung up");
		close(fd);
		return 1;
	}
	ans = malloc(ANSWER_MAX + 1);
	while (ans && len < ANSWER_MAX) {
		ssize_t n = read(fd, ans + len, ANSWER_MAX - len);

		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!ans) {
		log_error("status: out of memory");
		return 1;
	}
	ans[len] = '\0';
	body = strstr(ans, "\r\n\r\n");
	if (sscanf(ans, "HTTP/1.%*d %d", &code) != 1 || !body || code != 200) {
		log_error("status: the daemon answered %d", code);
		free(ans);
		return 1;
	}
	fputs(body + 4, stdout);
	free(ans);
	return 0;
}
