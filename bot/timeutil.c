/*
 * timeutil.c - UTC formatting and strict parsers.
 *
 * The calendar is the C library's: timegm() and gmtime_r() (UTC, whatever
 * TZ says) and strftime(); the parsers only check the shape of the digits.
 */
#include "timeutil.h"

#include "err.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MS_PER_DAY 86400000LL

int64_t
timeutil_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * from_fields - the UTC ms of a broken-down date and time, through timegm();
 * BOT_EINVAL when the fields are not on the calendar (2026-02-30), which
 * timegm() would quietly normalise: normalising must change nothing.
 */
static int
from_fields(int y, int mo, int d, int h, int mi, int s, int64_t *ms_out)
{
    struct tm tm = {0};
    time_t t;

    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    t = timegm(&tm);
    if (tm.tm_year != y - 1900 || tm.tm_mon != mo - 1 || tm.tm_mday != d ||
        tm.tm_hour != h || tm.tm_min != mi || tm.tm_sec != s)
        return BOT_EINVAL;
    *ms_out = (int64_t)t * 1000;
    return BOT_OK;
}

/* digits - n ASCII digits at s as a number, or -1. */
static int
digits(const char *s, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int
parse_ymd(const char *s, int *y, int *m, int *d)
{
    if (strlen(s) < 10 || s[4] != '-' || s[7] != '-')
        return BOT_EINVAL;
    *y = digits(s, 4);
    *m = digits(s + 5, 2);
    *d = digits(s + 8, 2);
    if (*y < 1970 || *m < 1 || *m > 12 || *d < 1 || *d > 31)
        return BOT_EINVAL;
    return BOT_OK;
}

int
timeutil_parse_date(const char *s, int64_t *ms_out)
{
    int y, m, d;

    if (strlen(s) != 10 || parse_ymd(s, &y, &m, &d))
        return BOT_EINVAL;
    return from_fields(y, m, d, 0, 0, 0, ms_out);
}

int
timeutil_parse_hhmm(const char *s, int *minutes_out)
{
    int h, m;

    if (strlen(s) != 5 || s[2] != ':')
        return BOT_EINVAL;
    h = digits(s, 2);
    m = digits(s + 3, 2);
    if (h < 0 || h > 23 || m < 0 || m > 59)
        return BOT_EINVAL;
    *minutes_out = h * 60 + m;
    return BOT_OK;
}

/* The two forms the datetime parser reads. */
enum dt_form {
    DT_UTC,     /* timeutil_parse_iso: seconds optional, UTC zone optional */
    DT_RFC3339, /* timeutil_parse_rfc3339: seconds and a zone required */
};

/*
 * parse_datetime - "YYYY-MM-DD" 'T' "HH:MM[:SS[.f...]]" and a zone, in one
 * of the two forms; the calendar is checked by from_fields (timegm), the
 * offset applied afterwards (local = UTC + offset).
 */
static int
parse_datetime(const char *s, enum dt_form form, int64_t *ms_out)
{
    int y, mo, d, mins, sec = 0, frac = 0, off = 0;
    const char *p;
    char hm[6];
    int64_t ms;

    if (strlen(s) < 16 || parse_ymd(s, &y, &mo, &d) ||
        (s[10] != 'T' && s[10] != ' ' && !(form == DT_RFC3339 && s[10] == 't')))
        return BOT_EINVAL;
    memcpy(hm, s + 11, 5);
    hm[5] = '\0';
    if (timeutil_parse_hhmm(hm, &mins))
        return BOT_EINVAL;
    p = s + 16;
    if (*p == ':') {
        /* 60 (a leap second) is refused: epoch time has no room for it */
        sec = digits(p + 1, 2);
        if (sec < 0 || sec > 59)
            return BOT_EINVAL;
        p += 3;
        if (*p == '.') {
            int n = 0;

            /* any number of digits, cut (not rounded) to milliseconds */
            for (p++; isdigit((unsigned char)*p); p++, n++) {
                if (n < 3)
                    frac = frac * 10 + (*p - '0');
            }
            if (n == 0)
                return BOT_EINVAL;
            for (; n < 3; n++)
                frac *= 10;
        }
    } else if (form == DT_RFC3339) {
        return BOT_EINVAL;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (form == DT_UTC) {
        if (!strcmp(p, "+00:00"))
            p += 6;
    } else if (*p == '+' || *p == '-') {
        int hh = digits(p + 1, 2), mm;

        if (hh < 0 || hh > 23 || p[3] != ':')
            return BOT_EINVAL;
        mm = digits(p + 4, 2);
        if (mm < 0 || mm > 59)
            return BOT_EINVAL;
        off = (hh * 60 + mm) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return BOT_EINVAL;
    }
    if (*p)
        return BOT_EINVAL;
    if (from_fields(y, mo, d, mins / 60, mins % 60, sec, &ms))
        return BOT_EINVAL;
    ms += frac - (int64_t)off * 60000;
    if (ms < 0)
        return BOT_EINVAL;
    *ms_out = ms;
    return BOT_OK;
}

int
timeutil_parse_iso(const char *s, int64_t *ms_out)
{
    return parse_datetime(s, DT_UTC, ms_out);
}

int
timeutil_parse_rfc3339(const char *s, int64_t *ms_out)
{
    return s ? parse_datetime(s, DT_RFC3339, ms_out) : BOT_EINVAL;
}

int64_t
timeutil_day_start(int64_t ms)
{
    int64_t day = ms >= 0 ? ms / MS_PER_DAY : (ms - MS_PER_DAY + 1) / MS_PER_DAY;

    return day * MS_PER_DAY;
}

/* to_tm - ms (floored to the second) broken down by gmtime_r(). */
static struct tm *
to_tm(int64_t ms, struct tm *tm)
{
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);

    return gmtime_r(&t, tm);
}

/* Each formatter hands strftime() a literal, so the compiler checks it. */
#define FMT(ms, format, buf)                                                 \
    do {                                                                     \
        struct tm tm_;                                                       \
                                                                             \
        if (!to_tm(ms, &tm_) || !strftime(buf, TIMEUTIL_BUFLEN, format, &tm_)) \
            snprintf(buf, TIMEUTIL_BUFLEN, "?");                             \
        return buf;                                                          \
    } while (0)

char *
timeutil_fmt_minute(int64_t ms, char *buf)
{
    FMT(ms, "%Y-%m-%d %H:%M", buf);
}

char *
timeutil_fmt_date(int64_t ms, char *buf)
{
    FMT(ms, "%Y-%m-%d", buf);
}

char *
timeutil_fmt_compact(int64_t ms, char *buf)
{
    FMT(ms, "%Y%m%d", buf);
}

char *
timeutil_fmt_iso(int64_t ms, char *buf)
{
    FMT(ms, "%Y-%m-%dT%H:%M:%SZ", buf);
}

int
timeutil_plausible(int64_t at, int64_t now)
{
    return at >= TIMEUTIL_EPOCH_2000 && at <= now + 86400000LL;
}

char *
timeutil_fmt_duration(int64_t ms, char *buf)
{
    int64_t s = ms < 0 ? 0 : ms / 1000;

    if (s < 60)
        snprintf(buf, TIMEUTIL_BUFLEN, "%llds", (long long)s);
    else if (s < 3600)
        snprintf(buf, TIMEUTIL_BUFLEN, "%lldm", (long long)(s / 60));
    else if (s < 86400)
        snprintf(buf, TIMEUTIL_BUFLEN, "%lldh %lldm", (long long)(s / 3600),
                 (long long)(s / 60 % 60));
    else
        snprintf(buf, TIMEUTIL_BUFLEN, "%lldd %lldh", (long long)(s / 86400),
                 (long long)(s / 3600 % 24));
    return buf;
}

int
parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (!s || !*s || isspace((unsigned char)*s))
        return BOT_EINVAL;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return BOT_EINVAL;
    *out = v;
    return BOT_OK;
}
