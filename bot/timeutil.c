/*
 * timeutil.c - UTC formatting and strict parsers.
 *
 * Calendar arithmetic uses the days-from-civil algorithm so that nothing
 * depends on TZ or on timegm() being present.
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

static int64_t
days_from_civil(int y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int
days_in_month(int y, int m)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 ? 28 + leap : dim[m - 1];
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
    if (*y < 1970 || *m < 1 || *m > 12 || *d < 1)
        return BOT_EINVAL;
    if (*d > days_in_month(*y, *m))
        return BOT_EINVAL;
    return BOT_OK;
}

int
timeutil_parse_date(const char *s, int64_t *ms_out)
{
    int y, m, d;

    if (strlen(s) != 10 || parse_ymd(s, &y, &m, &d))
        return BOT_EINVAL;
    *ms_out = days_from_civil(y, m, d) * MS_PER_DAY;
    return BOT_OK;
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

int
timeutil_parse_iso(const char *s, int64_t *ms_out)
{
    int y, mo, d, mins, sec = 0, ms = 0;
    const char *p;
    char hm[6];

    if (strlen(s) < 16 || parse_ymd(s, &y, &mo, &d) ||
        (s[10] != 'T' && s[10] != ' '))
        return BOT_EINVAL;
    memcpy(hm, s + 11, 5);
    hm[5] = '\0';
    if (timeutil_parse_hhmm(hm, &mins))
        return BOT_EINVAL;
    p = s + 16;
    if (*p == ':') {
        sec = digits(p + 1, 2);
        if (sec < 0 || sec > 59)
            return BOT_EINVAL;
        p += 3;
        if (*p == '.') {
            int n = 0;

            p++;
            while (isdigit((unsigned char)*p)) {
                if (n < 3)
                    ms = ms * 10 + (*p - '0');
                n++;
                p++;
            }
            if (n == 0)
                return BOT_EINVAL;
            for (; n < 3; n++)
                ms *= 10;
        }
    }
    if (*p == 'Z' || *p == 'z')
        p++;
    else if (!strcmp(p, "+00:00"))
        p += 6;
    if (*p)
        return BOT_EINVAL;
    *ms_out = days_from_civil(y, mo, d) * MS_PER_DAY +
              (int64_t)mins * 60000 + sec * 1000 + ms;
    return BOT_OK;
}

int64_t
timeutil_day_start(int64_t ms)
{
    int64_t day = ms >= 0 ? ms / MS_PER_DAY : (ms - MS_PER_DAY + 1) / MS_PER_DAY;

    return day * MS_PER_DAY;
}

static void
split(int64_t ms, int *y, int *mo, int *d, int *h, int *mi, int *s)
{
    int64_t day = timeutil_day_start(ms) / MS_PER_DAY;
    int64_t rest = (ms - day * MS_PER_DAY) / 1000;

    civil_from_days(day, y, mo, d);
    *h = (int)(rest / 3600);
    *mi = (int)(rest / 60 % 60);
    *s = (int)(rest % 60);
}

char *
timeutil_fmt_minute(int64_t ms, char *buf)
{
    int y, mo, d, h, mi, s;

    split(ms, &y, &mo, &d, &h, &mi, &s);
    snprintf(buf, TIMEUTIL_BUFLEN, "%04d-%02d-%02d %02d:%02d", y, mo, d, h,
             mi);
    return buf;
}

char *
timeutil_fmt_date(int64_t ms, char *buf)
{
    int y, mo, d, h, mi, s;

    split(ms, &y, &mo, &d, &h, &mi, &s);
    snprintf(buf, TIMEUTIL_BUFLEN, "%04d-%02d-%02d", y, mo, d);
    return buf;
}

char *
timeutil_fmt_compact(int64_t ms, char *buf)
{
    int y, mo, d, h, mi, s;

    split(ms, &y, &mo, &d, &h, &mi, &s);
    snprintf(buf, TIMEUTIL_BUFLEN, "%04d%02d%02d", y, mo, d);
    return buf;
}

char *
timeutil_fmt_iso(int64_t ms, char *buf)
{
    int y, mo, d, h, mi, s;

    split(ms, &y, &mo, &d, &h, &mi, &s);
    snprintf(buf, TIMEUTIL_BUFLEN, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d,
             h, mi, s);
    return buf;
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
