/*
 * timeutil.c - clock times, day lists and zone conversions.
 *
 * The one thing to know: libc converts only in the zone named by $TZ, so
 * every conversion takes zone_lock, points $TZ at the zone, and puts the
 * old value back before letting go. Nothing else in the program may
 * depend on $TZ while a conversion runs.
 */
#include "timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "err.h"

#define ZONEINFO_DIR "/usr/share/zoneinfo"

static pthread_mutex_t zone_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const day_short[7] = {"mon", "tue", "wed", "thu",
                                         "fri", "sat", "sun"};
static const char *const day_long[7] = {"monday",   "tuesday", "wednesday",
                                        "thursday", "friday",  "saturday",
                                        "sunday"};
static const char *const day_title[7] = {"Mon", "Tue", "Wed", "Thu",
                                         "Fri", "Sat", "Sun"};

const char *tu_day_name(int day)
{
	return day >= 0 && day < 7 ? day_title[day] : "?";
}

/* n decimal digits at s, no sign: value or -1. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int tu_parse_clock(const char *s, bool allow_end, int *minutes)
{
	int h, m, hlen;

	if (!s)
		return -ERR_INVALID;
	hlen = isdigit((unsigned char)s[0]) && s[1] == ':' ? 1 : 2;
	h = digits(s, hlen);
	if (h < 0 || s[hlen] != ':')
		return -ERR_INVALID;
	m = digits(s + hlen + 1, 2);
	if (m < 0 || s[hlen + 3] != '\0' || m > 59)
		return -ERR_INVALID;
	if (h == 24 && m == 0 && allow_end) {
		*minutes = TU_DAY_MIN;
		return 0;
	}
	if (h > 23)
		return -ERR_INVALID;
	*minutes = h * 60 + m;
	return 0;
}

void tu_format_clock(int minutes, char *buf, size_t len)
{
	snprintf(buf, len, "%02d:%02d", minutes / 60, minutes % 60);
}

static int day_index(const char *w, size_t n)
{
	for (int d = 0; d < 7; d++)
		if ((n == 3 && strncasecmp(w, day_short[d], 3) == 0) ||
		    (n == strlen(day_long[d]) &&
		     strncasecmp(w, day_long[d], n) == 0))
			return d;
	return -1;
}

static bool word_is(const char *w, size_t n, const char *name)
{
	return n == strlen(name) && strncasecmp(w, name, n) == 0;
}

/* One comma-separated item of a day list: a mask, or 0 if unknown. */
static unsigned parse_day_item(const char *w, size_t n)
{
	const char *dash = memchr(w, '-', n);
	int a, b;
	unsigned mask = 0;

	if (word_is(w, n, "daily"))
		return TU_ALL_DAYS;
	if (word_is(w, n, "weekdays"))
		return 0x1f;
	if (word_is(w, n, "weekends"))
		return 0x60;
	if (!dash) {
		a = day_index(w, n);
		return a < 0 ? 0 : 1u << a;
	}
	a = day_index(w, (size_t)(dash - w));
	b = day_index(dash + 1, n - (size_t)(dash - w) - 1);
	if (a < 0 || b < 0)
		return 0;
	for (int d = a;; d = (d + 1) % 7) {
		mask |= 1u << d;
		if (d == b)
			break;
	}
	return mask;
}

int tu_parse_days(const char *s, unsigned *mask)
{
	unsigned m = 0;

	if (!s || !*s)
		return -ERR_INVALID;
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		unsigned item;

		while (n && *s == ' ') {
			s++;
			n--;
		}
		while (n && s[n - 1] == ' ')
			n--;
		item = n ? parse_day_item(s, n) : 0;
		if (!item)
			return -ERR_INVALID;
		m |= item;
		if (!comma)
			break;
		s = comma + 1;
	}
	*mask = m;
	return 0;
}

void tu_format_days(unsigned mask, char *buf, size_t len)
{
	size_t used = 0;

	mask &= TU_ALL_DAYS;
	if (len)
		buf[0] = '\0';
	if (mask == TU_ALL_DAYS || mask == 0x1f || mask == 0x60) {
		snprintf(buf, len, "%s",
		         mask == TU_ALL_DAYS ? "daily"
		         : mask == 0x1f      ? "weekdays"
		                             : "weekends");
		return;
	}
	for (int d = 0; d < 7;) {
		int e = d;
		int n;

		if (!(mask & (1u << d))) {
			d++;
			continue;
		}
		while (e + 1 < 7 && (mask & (1u << (e + 1))))
			e++;
		if (e - d >= 2)
			n = snprintf(buf + used, len - used, "%s%s-%s",
			             used ? "," : "", day_short[d],
			             day_short[e]);
		else if (e > d)
			n = snprintf(buf + used, len - used, "%s%s,%s",
			             used ? "," : "", day_short[d],
			             day_short[e]);
		else
			n = snprintf(buf + used, len - used, "%s%s",
			             used ? "," : "", day_short[d]);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
		d = e + 1;
	}
}

bool tu_zone_valid(const char *zone)
{
	char path[512];
	char magic[4];
	struct stat sb;
	FILE *f;
	bool ok;

	if (!zone || !*zone || strlen(zone) > 100 || zone[0] == '/' ||
	    zone[0] == '.')
		return false;
	for (const char *p = zone; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p))
			return false;
		if (p[0] == '/' && (p[1] == '/' || p[1] == '.' || !p[1]))
			return false;
	}
	snprintf(path, sizeof(path), "%s/%s", ZONEINFO_DIR, zone);
	if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode))
		return false;
	f = fopen(path, "rb");
	if (!f)
		return false;
	ok = fread(magic, 1, 4, f) == 4 && memcmp(magic, "TZif", 4) == 0;
	fclose(f);
	return ok;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int dm[12] = {31, 28, 31, 30, 31, 30,
	                           31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dm[m - 1];
}

/* Runs with $TZ = zone; the caller holds zone_lock. Returns the old
 * value (to give to tz_restore) through *old, NULL if unset. */
static int tz_enter(const char *zone, char **old)
{
	const char *cur = getenv("TZ");
	char spec[128];

	*old = NULL;
	if (!tu_zone_valid(zone))
		return -ERR_INVALID;
	if (cur && !(*old = strdup(cur)))
		return -ENOMEM;
	/* A leading ':' makes glibc read the zone file, never a POSIX rule. */
	snprintf(spec, sizeof(spec), ":%s", zone);
	if (setenv("TZ", spec, 1) < 0) {
		free(*old);
		*old = NULL;
		return -errno;
	}
	tzset();
	return 0;
}

static void tz_leave(char *old)
{
	if (old)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(old);
}

/* The zone's UTC offset (seconds east) at utc_s; $TZ already set. */
static long offset_at(int64_t utc_s)
{
	time_t t = (time_t)utc_s;
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return 0;
	return tm.tm_gmtoff;
}

/* Local wall-clock seconds (as if UTC) to an instant, $TZ already set. */
static int64_t local_to_utc(int64_t wall)
{
	/* The offsets in force a day either side cover any one transition:
	 * try each, keep those that map back to themselves. */
	long before = offset_at(wall - 86400), after = offset_at(wall + 86400);
	bool ok_before = offset_at(wall - before) == before;
	bool ok_after = offset_at(wall - after) == after;

	if (ok_before && ok_after) /* overlap: the earlier instant */
		return before > after ? wall - before : wall - after;
	if (ok_before)
		return wall - before;
	if (ok_after)
		return wall - after;
	/* The gap: read with the offset before it, which lands past it. */
	return wall - before;
}

int tu_parse_local(const char *s, const char *zone, int64_t *utc_s)
{
	int y, mo, d, h = 0, mi = 0, sec = 0;
	const char *p;
	char *old;
	int rc;

	if (!s || strlen(s) < 10)
		return -ERR_INVALID;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	if (y < 1970 || s[4] != '-' || s[7] != '-' || mo < 1 || mo > 12 ||
	    d < 1 || d > days_in_month(y, mo))
		return -ERR_INVALID;
	p = s + 10;
	if (*p == 'T' || *p == ' ') {
		h = digits(p + 1, 2);
		mi = digits(p + 4, 2);
		if (h < 0 || h > 23 || p[3] != ':' || mi < 0 || mi > 59)
			return -ERR_INVALID;
		p += 6;
		if (*p == ':') {
			sec = digits(p + 1, 2);
			if (sec < 0 || sec > 59)
				return -ERR_INVALID;
			p += 3;
		}
	}
	if (*p)
		return -ERR_INVALID;
	pthread_mutex_lock(&zone_lock);
	rc = tz_enter(zone, &old);
	if (rc == 0) {
		*utc_s = local_to_utc(days_from_civil(y, mo, d) * 86400 +
		                      h * 3600 + mi * 60 + sec);
		tz_leave(old);
	}
	pthread_mutex_unlock(&zone_lock);
	return rc;
}

int tu_local_tm(int64_t utc_s, const char *zone, struct tm *out)
{
	time_t t = (time_t)utc_s;
	char *old;
	int rc;

	pthread_mutex_lock(&zone_lock);
	rc = tz_enter(zone, &old);
	if (rc == 0) {
		if (!localtime_r(&t, out))
			rc = -ERR_INVALID;
		tz_leave(old);
	}
	pthread_mutex_unlock(&zone_lock);
	/* libc's zone name may not outlive the $TZ it came from. */
	if (rc == 0)
		out->tm_zone = NULL;
	return rc;
}

/* Floor division, so instants before 1970 format right too. */
static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

void tu_format_utc(int64_t utc_ms, char *buf, size_t len)
{
	time_t t = (time_t)floor_div(utc_ms, 1000);
	int ms = (int)(utc_ms - (int64_t)t * 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	         tm.tm_min, tm.tm_sec, ms);
}

int tu_parse_utc(const char *s, int64_t *utc_ms)
{
	int y, mo, d, h, mi, sec, ms = 0;
	const char *p;

	if (!s || strlen(s) < 20)
		return -ERR_INVALID;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (y < 0 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo) || h < 0 || h > 23 || mi < 0 || mi > 59 ||
	    sec < 0 || sec > 60)
		return -ERR_INVALID;
	p = s + 19;
	if (*p == '.') {
		ms = digits(p + 1, 3);
		if (ms < 0)
			return -ERR_INVALID;
		p += 4;
	}
	if (strcmp(p, "Z") != 0)
		return -ERR_INVALID;
	*utc_ms =
	    (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) *
	        1000 +
	    ms;
	return 0;
}

int tu_format_local(int64_t utc_ms, const char *zone, char *buf, size_t len)
{
	time_t t = (time_t)floor_div(utc_ms, 1000);
	struct tm tm;
	char *old;
	int rc;

	pthread_mutex_lock(&zone_lock);
	rc = tz_enter(zone, &old);
	if (rc == 0) {
		/* Formatted under the lock: tm_zone points into libc's
		 * state for this $TZ. */
		if (localtime_r(&t, &tm))
			snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d %s",
			         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			         tm.tm_hour, tm.tm_min, tm.tm_sec,
			         tm.tm_zone ? tm.tm_zone : "");
		else
			rc = -ERR_INVALID;
		tz_leave(old);
	}
	pthread_mutex_unlock(&zone_lock);
	return rc;
}

int tu_parse_when(const char *s, const char *zone, int64_t now_ms,
                  int64_t *utc_ms)
{
	char unit = 0, extra;
	long n;
	int64_t t;

	if (!s)
		return -ERR_INVALID;
	if (s[0] == '+') {
		if (sscanf(s + 1, "%ld%c%c", &n, &unit, &extra) != 2 || n < 1 ||
		    n > 100000 || !isdigit((unsigned char)s[1]) ||
		    (unit != 'm' && unit != 'h' && unit != 'd'))
			return -ERR_INVALID;
		*utc_ms = now_ms + (int64_t)n * (unit == 'm'   ? 60000
		                                 : unit == 'h' ? 3600000
		                                               : 86400000);
		return 0;
	}
	if (tu_parse_local(s, zone, &t) < 0)
		return -ERR_INVALID;
	*utc_ms = t * 1000;
	return 0;
}
