/*
 * timeutil.h - times of day, days of the week, and local dates in the
 * station's IANA time zone.
 *
 * Instants are UTC: int64_t seconds or milliseconds since the epoch. A
 * local time that does not exist (the spring-forward gap) moves forward
 * by the length of the gap (Europe/Berlin 02:30 on the last Sunday of
 * March is 03:30 CEST); one that exists twice (the autumn overlap) is its
 * first occurrence, in summer time (02:30 on the last Sunday of October
 * is 02:30 CEST, 00:30Z). Zone conversions set $TZ for the moment under a
 * mutex and restore it, since libc has no per-zone API: no other thread
 * may read the environment or convert local time meanwhile.
 */
#ifndef TIMEUTIL_H
#define TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TU_DAY_MIN 1440
#define TU_WEEK_MIN (7 * TU_DAY_MIN)
#define TU_ALL_DAYS 0x7f

/* "HH:MM" (one or two hour digits) to minutes after midnight, 0..1439;
 * "24:00" (1440) too if allow_end. 0 or -ERR_INVALID. */
int tu_parse_clock(const char *s, bool allow_end, int *minutes);
/* minutes (0..1440) as "HH:MM" into buf (6 bytes at least). */
void tu_format_clock(int minutes, char *buf, size_t len);

/*
 * A list of days to a bitmask, bit 0 Monday .. bit 6 Sunday: comma-
 * separated items, each a day ("mon" or "monday"), a range ("mon-fri",
 * "fri-mon" wraps), "daily", "weekdays" or "weekends"; any case. 0 or
 * -ERR_INVALID (unknown word, empty item).
 */
int tu_parse_days(const char *s, unsigned *mask);
/* mask (1..127) as text: "daily", "weekdays", "weekends", else runs of
 * three or more as "mon-fri", others listed: "mon-wed,sat". */
void tu_format_days(unsigned mask, char *buf, size_t len);
/* "Mon".."Sun" for day 0..6. */
const char *tu_day_name(int day);

/* Whether zone names a time zone under /usr/share/zoneinfo ("UTC",
 * "Europe/Berlin"); rejects absolute paths, "..", odd characters. */
bool tu_zone_valid(const char *zone);

/*
 * Parses a local "YYYY-MM-DD" (midnight), "YYYY-MM-DDTHH:MM[:SS]" or
 * "YYYY-MM-DD HH:MM[:SS]" in zone to UTC seconds. 0 or -ERR_INVALID (bad
 * text or zone).
 */
int tu_parse_local(const char *s, const char *zone, int64_t *utc_s);

/* The local broken-down time of utc_s in zone (tm_gmtoff filled; tm_zone
 * NULL, as libc's string may not outlive the call). 0 or -ERR_INVALID. */
int tu_local_tm(int64_t utc_s, const char *zone, struct tm *out);

/* utc_ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" (buf of 25 bytes at least). */
void tu_format_utc(int64_t utc_ms, char *buf, size_t len);
/* Parses that form (the milliseconds optional) back: 0 or -ERR_INVALID. */
int tu_parse_utc(const char *s, int64_t *utc_ms);
/* utc_ms as local "YYYY-MM-DD HH:MM:SS ZONE" ("CEST") into buf. */
int tu_format_local(int64_t utc_ms, const char *zone, char *buf, size_t len);

/* A time as staff type it: "+30m", "+2h", "+1d" from now_ms, or local
 * "YYYY-MM-DD HH:MM[:SS]" in zone. 0 with *utc_ms, or -ERR_INVALID. */
int tu_parse_when(const char *s, const char *zone, int64_t now_ms,
                  int64_t *utc_ms);

#endif
