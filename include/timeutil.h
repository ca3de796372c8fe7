/*
 * timeutil.h - UTC times and strict parsing of dates, times and numbers.
 *
 * Owns: the formats pmbot reads and writes. All times are UTC epoch
 * milliseconds (int64_t); nothing here consults the local time zone.
 * Errors: parsers return BOT_EINVAL for anything that is not exactly the
 * format, including dates that are not on the calendar (2026-02-30).
 */
#ifndef PMBOT_TIMEUTIL_H
#define PMBOT_TIMEUTIL_H

#include <stdint.h>

#define TIMEUTIL_BUFLEN 32

/* timeutil_now_ms - the wall clock, UTC epoch ms. */
int64_t timeutil_now_ms(void);

/* timeutil_parse_date - "YYYY-MM-DD", a real calendar date; *ms_out is its
 * 00:00 UTC. */
int timeutil_parse_date(const char *s, int64_t *ms_out);

/* timeutil_parse_hhmm - "HH:MM" (00:00 to 23:59); minutes since midnight. */
int timeutil_parse_hhmm(const char *s, int *minutes_out);

/* timeutil_parse_iso - "YYYY-MM-DDTHH:MM[:SS[.f...]][Z|z|+00:00]" (a space
 * may stand for the T), read as UTC: what a person types (PMBOT_NOW, /clock,
 * /incident at). Other offsets are refused. */
int timeutil_parse_iso(const char *s, int64_t *ms_out);

/*
 * timeutil_parse_rfc3339 - a strict RFC 3339 date-time, what machines send:
 * "YYYY-MM-DD" then 'T', 't' or a space, then "HH:MM:SS" (seconds required),
 * an optional fraction of any length (cut, not rounded, to milliseconds),
 * then 'Z', 'z' or an offset "+HH:MM" / "-HH:MM" (HH 00-23, MM 00-59)
 * -> UTC epoch ms. Refused (BOT_EINVAL, *ms_out untouched): s NULL, a date
 * not on the calendar (2026-02-30, 2025-02-29), a leap second (:60, which
 * epoch time cannot hold), anything after the zone, and a time before
 * 1970-01-01T00:00:00Z once the offset is applied.
 */
int timeutil_parse_rfc3339(const char *s, int64_t *ms_out);

/* timeutil_day_start - 00:00 UTC of the day that contains ms. */
int64_t timeutil_day_start(int64_t ms);

/* Formatters write into buf (at least TIMEUTIL_BUFLEN bytes), return buf. */
char *timeutil_fmt_minute(int64_t ms, char *buf); /* 2026-11-22 04:18 */
char *timeutil_fmt_date(int64_t ms, char *buf);   /* 2026-11-22 */
char *timeutil_fmt_compact(int64_t ms, char *buf); /* 20261122 */
char *timeutil_fmt_iso(int64_t ms, char *buf);    /* 2026-11-22T04:18:00Z */

/* timeutil_plausible - 1 when at can be the time of something that
 * happened, as pmbot is told it at now: not before 2000 (a zero or unset
 * clock, "0001-01-01"), not more than a day ahead (a skewed sender). */
#define TIMEUTIL_EPOCH_2000 946684800000LL /* 2000-01-01T00:00:00Z */
int timeutil_plausible(int64_t at, int64_t now);

/* timeutil_fmt_duration - "2h 12m", "3d 4h", "45s". */
char *timeutil_fmt_duration(int64_t ms, char *buf);

/* parse_long - a whole decimal number in [min, max], nothing else around. */
int parse_long(const char *s, long min, long max, long *out);

#endif
