/*
 * cmd_bulletin.c - "pulse-radio bulletin": comms staff's news queue.
 *
 * The one thing to know: `add` prints the new bulletin's id on success and
 * nothing else on stdout, so scripts can keep it; every refusal is one
 * line on stderr, exit 1, and nothing written (bulletin_add() checks it
 * all before the INSERT).
 */
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <sqlite3.h>

#include "bulletin.h"
#include "cmd_priv.h"
#include "err.h"
#include "log.h"
#include "store.h"
#include "textnorm.h"
#include "timeutil.h"

static void usage(FILE *f)
{
	fputs("Usage: pulse-radio bulletin add [options] TEXT...\n"
	      "       pulse-radio bulletin add [options] --file FILE|-\n"
	      "       pulse-radio bulletin list [--all]\n"
	      "       pulse-radio bulletin show ID\n"
	      "       pulse-radio bulletin withdraw ID\n"
	      "  every one takes --db FILE\n"
	      "\n"
	      "  --lang en|af|tn   the language it is spoken in (default en)\n"
	      "  --breaking        air it as soon as the station allows, not "
	      "at the\n"
	      "                    next news minute\n"
	      "  --not-before TIME not on air before TIME\n"
	      "  --expires TIME    never on air after TIME\n"
	      "  --by NAME         who sent it (default: $USER)\n"
	      "  --file FILE       read the text from FILE (- for stdin)\n"
	      "TIME is station local time \"YYYY-MM-DD HH:MM\", or from now: "
	      "+30m, +2h, +1d.\n"
	      "Put -- before a text that starts with '-'. The text is plain: "
	      "markup and control characters are removed, "
	      "never\n"
	      "interpreted. At most 65536 bytes of UTF-8. `add` prints the "
	      "new id.\n"
	      "`list` shows what is waiting or on air (--all: everything).\n",
	      f);
}

static int64_t now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* "+30m" or local "YYYY-MM-DD HH:MM" into UTC ms. */
static int parse_when(struct store *st, const char *opt, const char *s,
                      int64_t now, int64_t *ms)
{
	char zone[128];

	if (cmd_zone(st, zone, sizeof(zone)) < 0)
		return -ERR_INVALID;
	if (tu_parse_when(s, zone, now, ms) < 0) {
		log_error("bulletin add: bad %s '%s' (YYYY-MM-DD HH:MM station "
		          "time, or +30m, +2h, +1d)",
		          opt, s);
		return -ERR_INVALID;
	}
	return 0;
}

/* Reads at most TEXTNORM_MAX_BYTES + 1 bytes of path ("-": stdin), so an
 * over-long text is refused by the length rule, not read whole. */
static int read_text(const char *path, char **text, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t cap = (size_t)TEXTNORM_MAX_BYTES + 1;
	char *buf;

	if (!f) {
		log_error("bulletin add: cannot read %s: %s", path,
		          strerror(errno));
		return -ERR_INVALID;
	}
	buf = malloc(cap + 1);
	if (!buf) {
		if (f != stdin)
			fclose(f);
		return -ENOMEM;
	}
	*len = fread(buf, 1, cap, f);
	if (ferror(f)) {
		log_error("bulletin add: cannot read %s", path);
		free(buf);
		if (f != stdin)
			fclose(f);
		return -ERR_INVALID;
	}
	if (f != stdin)
		fclose(f);
	buf[*len] = '\0';
	*text = buf;
	return 0;
}

/* The words of argv joined by spaces. */
static char *join(int n, char **words, size_t *len)
{
	size_t total = 1;
	char *s;

	for (int i = 0; i < n; i++)
		total += strlen(words[i]) + 1;
	s = malloc(total);
	if (!s)
		return NULL;
	s[0] = '\0';
	*len = 0;
	for (int i = 0; i < n; i++) {
		size_t w = strlen(words[i]);

		if (i)
			s[(*len)++] = ' ';
		memcpy(s + *len, words[i], w);
		*len += w;
		s[*len] = '\0';
	}
	return s;
}

struct add_opts {
	const char *lang, *not_before, *expires, *by, *file;
	bool breaking;
};

static int do_add(struct store *st, const struct add_opts *o, int nwords,
                  char **words)
{
	struct bulletin_new b = {.lang = o->lang, .breaking = o->breaking};
	int64_t now = now_ms(), id = 0;
	char why[256], *text = NULL;
	size_t len = 0;
	int rc = 0;

	if ((o->file != NULL) == (nwords > 0)) {
		cmd_usage_error("bulletin",
		                "give the text, or --file FILE (one of them)");
		return -ERR_USAGE;
	}
	b.by = o->by ? o->by : getenv("USER");
	if (o->not_before)
		rc = parse_when(st, "--not-before", o->not_before, now,
		                &b.not_before_ms);
	if (rc == 0 && o->expires)
		rc =
		    parse_when(st, "--expires", o->expires, now, &b.expires_ms);
	if (rc == 0 && o->file)
		rc = read_text(o->file, &text, &len);
	else if (rc == 0 && !(text = join(nwords, words, &len)))
		rc = -ENOMEM;
	if (rc < 0) {
		free(text);
		return rc;
	}
	b.text = text;
	b.text_len = len;
	rc = bulletin_add(st, &b, now, &id, why, sizeof(why));
	free(text);
	if (rc == -ERR_INVALID)
		log_error("bulletin add: refused: %s", why);
	if (rc < 0)
		return rc;
	printf("%lld\n", (long long)id);
	return 0;
}

static void print_time(int64_t ms, const char *zone)
{
	char buf[64];

	if (!ms || tu_format_local(ms, zone, buf, sizeof(buf)) < 0)
		printf("-");
	else
		printf("%s", buf);
}

static int do_list(struct store *st, bool all)
{
	sqlite3_stmt *stmt;
	char zone[128];
	int rc;

	if (cmd_zone(st, zone, sizeof(zone)) < 0)
		return -ERR_INVALID;
	if (sqlite3_prepare_v2(
	        store_db(st),
	        "SELECT id FROM bulletin WHERE ?1 OR state IN ('queued', "
	        "'rendered', 'on_air') ORDER BY priority = 'breaking' DESC, "
	        "submitted_at, id",
	        -1, &stmt, NULL) != SQLITE_OK) {
		log_error("%s: %s", store_path(st),
		          sqlite3_errmsg(store_db(st)));
		return -ERR_DB;
	}
	sqlite3_bind_int(stmt, 1, all);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct bulletin b = {0};

		if (bulletin_get(st, sqlite3_column_int64(stmt, 0), &b) != 1)
			continue;
		printf("%-5lld %-9s %-2s %-8s ", (long long)b.id,
		       bulletin_state_name(b.state), b.lang,
		       b.breaking ? "breaking" : "normal");
		print_time(b.submitted_ms, zone);
		printf("  %.60s%s\n", b.text, strlen(b.text) > 60 ? "..." : "");
		bulletin_clear(&b);
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : -ERR_DB;
}

static int parse_id(const char *s, int64_t *id)
{
	long n;

	if (cmd_parse_count(s, 1000000000L, &n) < 0 || n < 1) {
		log_error("bulletin: bad id '%s' (a number from `bulletin "
		          "list`)",
		          s);
		return -ERR_INVALID;
	}
	*id = n;
	return 0;
}

static int do_show(struct store *st, const char *arg)
{
	struct bulletin b = {0};
	char zone[128];
	int64_t id;
	int rc = parse_id(arg, &id);

	if (rc < 0 || (rc = cmd_zone(st, zone, sizeof(zone))) < 0)
		return rc;
	rc = bulletin_get(st, id, &b);
	if (rc == 0) {
		log_error("bulletin show: no bulletin %lld", (long long)id);
		return -ERR_NOT_FOUND;
	}
	if (rc < 0)
		return rc;
	printf("id: %lld\nstate: %s\nlanguage: %s\npriority: %s\nby: %s\n",
	       (long long)b.id, bulletin_state_name(b.state), b.lang,
	       b.breaking ? "breaking" : "normal", b.by);
	printf("submitted: ");
	print_time(b.submitted_ms, zone);
	printf("\nnot before: ");
	print_time(b.not_before_ms, zone);
	printf("\nexpires: ");
	print_time(b.expires_ms, zone);
	printf("\naudio: %s\n\n%s\n", b.audio_path[0] ? b.audio_path : "-",
	       b.text);
	bulletin_clear(&b);
	return 0;
}

static int do_withdraw(struct store *st, const char *arg)
{
	char why[200];
	int64_t id;
	int rc = parse_id(arg, &id);

	if (rc < 0)
		return rc;
	rc = bulletin_withdraw(st, id, now_ms(), why, sizeof(why));
	if (rc == -ERR_NOT_FOUND || rc == -ERR_CONFLICT)
		log_error("bulletin withdraw: %s", why);
	if (rc == 0)
		printf("bulletin %lld withdrawn\n", (long long)id);
	return rc;
}

int cmd_bulletin(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'D'},
	    {"lang", required_argument, NULL, 'l'},
	    {"breaking", no_argument, NULL, 'b'},
	    {"not-before", required_argument, NULL, 'n'},
	    {"expires", required_argument, NULL, 'e'},
	    {"by", required_argument, NULL, 'y'},
	    {"file", required_argument, NULL, 'f'},
	    {"all", no_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	enum { ADD, LIST, SHOW, WITHDRAW };
	static const struct cmd_verb verbs[] = {
	    [ADD] = {"add", -1, true},
	    [LIST] = {"list", 0, true},
	    [SHOW] = {"show", 1, false},
	    [WITHDRAW] = {"withdraw", 1, false},
	};
	struct add_opts o = {0};
	const char *db_opt = NULL;
	struct store *st = NULL;
	bool any_opt = false, all = false;
	int c, verb, rc, nargs;
	char **args;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		any_opt |= c != 'D' && c != 'h' && c != 'a';
		switch (c) {
		case 'D':
			db_opt = optarg;
			break;
		case 'l':
			o.lang = optarg;
			break;
		case 'b':
			o.breaking = true;
			break;
		case 'n':
			o.not_before = optarg;
			break;
		case 'e':
			o.expires = optarg;
			break;
		case 'y':
			o.by = optarg;
			break;
		case 'f':
			o.file = optarg;
			break;
		case 'a':
			all = true;
			break;
		case 'h':
			usage(stdout);
			return CMD_OK;
		default:
			return CMD_USAGE;
		}
	}
	verb = cmd_verb("bulletin", verbs, sizeof(verbs) / sizeof(*verbs), argc,
	                argv, any_opt, &args);
	if (verb < 0)
		return CMD_USAGE;
	nargs = (int)(argc - (args - argv));
	if (cmd_open(&st, db_opt) < 0)
		return CMD_FAILED;
	if (verb == ADD)
		rc = do_add(st, &o, nargs, args);
	else if (verb == LIST)
		rc = do_list(st, all);
	else if (verb == SHOW)
		rc = do_show(st, args[0]);
	else
		rc = do_withdraw(st, args[0]);
	store_close(st);
	return cmd_status(rc);
}
