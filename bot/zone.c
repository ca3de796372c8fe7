/*
 * zone.c - wall-clock slots of a tz database zone, in UTC (include/zone.h).
 *
 * The zone's rules are the C library's: TZ names the zone's file by its
 * absolute path (so TZDIR cannot point the C library elsewhere than the file
 * zone_known() checked), tzset() loads it and localtime_r() gives the UTC
 * offset at any instant. A wall time becomes an instant by trying the
 * offsets in force a day either side of it; dates are day numbers (days
 * since 1970-01-01) turned into calendars with timegm()/gmtime_r().
 */
#include "zone.h"

#include "err.h"
#include "mem.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SEC_PER_DAY 86400

/* TZ as it was before tz_enter(), to put back in tz_leave() */
struct tz_saved {
    int had;   /* TZ was set */
    char *old; /* its value (bot_free); NULL when it was not set */
};

int
zone_known(const char *zone)
{
    char path[sizeof(ZONE_DIR) + 1 + ZONE_NAME_MAX];
    char magic[4];
    struct stat st;
    size_t len;
    int fd, ok;

    if (!zone || !*zone)
        return 0;
    len = strlen(zone);
    if (len > ZONE_NAME_MAX)
        return 0;
    if (!strcmp(zone, "UTC"))
        return 1;
    /* no '.' at all, so no ".."; no ':' or ',' (TZ syntax); no empty part */
    if (zone[0] == '/' || zone[len - 1] == '/' || strstr(zone, "//"))
        return 0;
    if (strspn(zone, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789/_-+") != len)
        return 0;
    snprintf(path, sizeof(path), "%s/%s", ZONE_DIR, zone);
    /* O_NONBLOCK: a FIFO put there must not hang the scheduler */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return 0;
    ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
         read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
         !memcmp(magic, "TZif", sizeof(magic));
    close(fd);
    return ok;
}

/* tz_leave - TZ back to what tz_enter() found, and the C library told. */
static void
tz_leave(struct tz_saved *s)
{
    if (s->had)
        setenv("TZ", s->old, 1);
    else
        unsetenv("TZ");
    tzset();
    bot_free(s->old);
    s->old = NULL;
}

/* tz_enter - TZ to zone (already known) and tzset(); BOT_ENOMEM if the old
 * TZ cannot be saved or the new one set (TZ then unchanged). */
static int
tz_enter(const char *zone, struct tz_saved *s)
{
    char val[1 + sizeof(ZONE_DIR) + 1 + ZONE_NAME_MAX];
    const char *old = getenv("TZ");

    s->had = old != NULL;
    s->old = NULL;
    if (old) {
        s->old = bot_strdup(old);
        if (!s->old)
            return BOT_ENOMEM;
    }
    /* "UTC" works without tzdata; a leading ':' is POSIX for "a file" */
    if (!strcmp(zone, "UTC"))
        snprintf(val, sizeof(val), "UTC0");
    else
        snprintf(val, sizeof(val), ":%s/%s", ZONE_DIR, zone);
    if (setenv("TZ", val, 1)) {
        bot_free(s->old);
        s->old = NULL;
        return BOT_ENOMEM;
    }
    tzset();
    return BOT_OK;
}

/* offset_at - the zone's UTC offset (seconds east) at instant t. */
static int
offset_at(time_t t, long *off)
{
    struct tm tm;

    if (!localtime_r(&t, &tm))
        return BOT_EINVAL;
    *off = tm.tm_gmtoff;
    return BOT_OK;
}

/*
 * wall_to_utc - the instant of minute minute of local day number day, by
 * the rules of zone.h: of the offsets in force a day before and a day after,
 * those that give back this wall time are its occurrences, and the earliest
 * wins (fall-back); when none does, it lies in a gap and the offset from
 * before the gap applies (spring-forward).
 */
static int
wall_to_utc(int64_t day, int minute, time_t *out)
{
    time_t wall = (time_t)(day * SEC_PER_DAY + (int64_t)minute * 60);
    time_t best = 0;
    long offs[2], o;
    int found = 0;

    if (offset_at(wall - SEC_PER_DAY, &offs[0]) ||
        offset_at(wall + SEC_PER_DAY, &offs[1]))
        return BOT_EINVAL;
    for (int i = 0; i < 2; i++) {
        time_t u = wall - offs[i];

        if (offset_at(u, &o))
            return BOT_EINVAL;
        if (o == offs[i] && (!found || u < best)) {
            best = u;
            found = 1;
        }
    }
    *out = found ? best : wall - offs[0];
    return BOT_OK;
}

/* local_day - the local day number of instant t and its calendar in *tm. */
static int
local_day(time_t t, int64_t *day, struct tm *tm)
{
    struct tm d;

    if (!localtime_r(&t, tm))
        return BOT_EINVAL;
    d = (struct tm){.tm_year = tm->tm_year, .tm_mon = tm->tm_mon,
                    .tm_mday = tm->tm_mday};
    *day = (int64_t)timegm(&d) / SEC_PER_DAY;
    return BOT_OK;
}

/* day_tm - the calendar of day number day (UTC, so no zone involved). */
static void
day_tm(int64_t day, struct tm *tm)
{
    time_t t = (time_t)(day * SEC_PER_DAY);

    gmtime_r(&t, tm);
}

/* slot_fill - *s for the instant of minute on day, labelled with the day's
 * month or its ISO 8601 week. */
static int
slot_fill(int64_t day, int minute, int monthly, struct zone_slot *s)
{
    struct tm tm;
    time_t u;

    if (wall_to_utc(day, minute, &u))
        return BOT_EINVAL;
    day_tm(day, &tm);
    s->at = (int64_t)u * 1000;
    if (!strftime(s->period, sizeof(s->period), monthly ? "%Y-%m" : "%G-W%V",
                  &tm))
        return BOT_EINVAL;
    return BOT_OK;
}

/* slot_clear - the error state of an output slot. */
static void
slot_clear(struct zone_slot *s)
{
    if (s)
        memset(s, 0, sizeof(*s));
}

/* check_args - the bounds shared by every entry point. */
static int
check_args(const char *zone, int64_t now, int minute_of_day)
{
    if (now < 0 || now >= ZONE_NOW_END || minute_of_day < 0 ||
        minute_of_day > 1439 || !zone_known(zone))
        return BOT_EINVAL;
    return BOT_OK;
}

/* monthly: k is year * 12 + month (0..11); the month's first working day */
static int64_t
month_first_workday(int64_t k)
{
    struct tm tm = {.tm_year = (int)(k / 12) - 1900, .tm_mon = (int)(k % 12),
                    .tm_mday = 1};
    int64_t day = (int64_t)timegm(&tm) / SEC_PER_DAY;

    /* timegm set tm_wday: Saturday -> Monday the 3rd, Sunday -> the 2nd */
    if (tm.tm_wday == 6)
        return day + 2;
    if (tm.tm_wday == 0)
        return day + 1;
    return day;
}

/*
 * A series of slots: slot k is on day series_day(k), strictly increasing in
 * k. Weekly, k counts weeks and the slot is on day k * 7 + shift, shift
 * putting the slot's weekday on that grid; monthly, k is a month number.
 */
struct series {
    int monthly;
    int64_t shift; /* weekly: 0..6 */
    int minute;    /* 0..1439 */
};

static int
series_slot(const struct series *se, int64_t k, struct zone_slot *s)
{
    int64_t day = se->monthly ? month_first_workday(k) : k * 7 + se->shift;

    return slot_fill(day, se->minute, se->monthly, s);
}

/*
 * find_slots - from a first guess k, step until slot(k) <= now < slot(k+1);
 * the guess is already right unless the wall clock falls back across
 * midnight, where now's local day and the slots' order disagree.
 */
static int
find_slots(const struct series *se, int64_t k, int64_t now,
           struct zone_slot *cur, struct zone_slot *next)
{
    if (series_slot(se, k, cur))
        return BOT_EINVAL;
    while (cur->at > now) {
        k--;
        if (series_slot(se, k, cur))
            return BOT_EINVAL;
    }
    for (;;) {
        if (series_slot(se, k + 1, next))
            return BOT_EINVAL;
        if (next->at > now)
            return BOT_OK;
        *cur = *next;
        k++;
    }
}

/* floor division, for day numbers before 1970 */
static int64_t
div_floor(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int
zone_weekly(const char *zone, int64_t now, int wday, int minute_of_day,
            struct zone_slot *cur, struct zone_slot *next)
{
    struct tz_saved saved;
    struct tm tm;
    int64_t today;
    int rc;

    slot_clear(cur);
    slot_clear(next);
    if (!cur || !next || wday < 0 || wday > 6 ||
        check_args(zone, now, minute_of_day))
        return BOT_EINVAL;
    rc = tz_enter(zone, &saved);
    if (rc)
        return rc;
    rc = local_day((time_t)(now / 1000), &today, &tm);
    if (!rc) {
        /* day 0, 1970-01-01, was a Thursday (4) */
        struct series se = {0, (wday + 3) % 7, minute_of_day};

        rc = find_slots(&se, div_floor(today - se.shift, 7), now, cur, next);
    }
    tz_leave(&saved);
    if (rc) {
        slot_clear(cur);
        slot_clear(next);
    }
    return rc;
}

int
zone_monthly(const char *zone, int64_t now, int minute_of_day,
             struct zone_slot *cur, struct zone_slot *next)
{
    struct tz_saved saved;
    struct tm tm;
    int64_t today;
    int rc;

    slot_clear(cur);
    slot_clear(next);
    if (!cur || !next || check_args(zone, now, minute_of_day))
        return BOT_EINVAL;
    rc = tz_enter(zone, &saved);
    if (rc)
        return rc;
    rc = local_day((time_t)(now / 1000), &today, &tm);
    if (!rc) {
        struct series se = {1, 0, minute_of_day};

        rc = find_slots(&se, (int64_t)(tm.tm_year + 1900) * 12 + tm.tm_mon,
                        now, cur, next);
    }
    tz_leave(&saved);
    if (rc) {
        slot_clear(cur);
        slot_clear(next);
    }
    return rc;
}

int
zone_date(const char *zone, int64_t now, char buf[11])
{
    struct tz_saved saved;
    struct tm tm;
    int64_t today;
    int rc;

    if (buf)
        buf[0] = '\0';
    if (!buf || check_args(zone, now, 0))
        return BOT_EINVAL;
    rc = tz_enter(zone, &saved);
    if (rc)
        return rc;
    rc = local_day((time_t)(now / 1000), &today, &tm);
    if (!rc && !strftime(buf, 11, "%Y-%m-%d", &tm))
        rc = BOT_EINVAL;
    tz_leave(&saved);
    if (rc)
        buf[0] = '\0';
    return rc;
}
