/*
 * test_zone.c - unit tests for include/zone.h against the system tz
 * database.
 *
 * Covers: a year (2026) of weekly Monday 09:00 slots and monthly slots,
 * stepping now an hour at a time, in UTC, America/New_York, Asia/Tokyo,
 * Australia/Lord_Howe (half-hour DST) and Europe/Berlin: one slot per ISO
 * week / month, consecutive labels, each at the wall time asked for,
 * cur <= now < next at every step and at every slot's edges; slots on both
 * sides of each zone's two DST changes; a slot inside the spring-forward gap
 * and inside the fall-back overlap (New York, Lord_Howe); the first working
 * day of months whose 1st is a Saturday or a Sunday; zone names refused;
 * bad arguments; TZ put back; zone_date around local midnight; the bounds.
 * Known instants were computed independently with Python's zoneinfo, e.g.
 * datetime(2026, 3, 8, 2, 30, tzinfo=ZoneInfo("America/New_York")) (fold 0,
 * the offset before the gap) is 1772955000000 ms, 07:30Z.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "err.h"
#include "zone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MS_HOUR 3600000LL
#define MS_DAY  86400000LL

#define T_2026 1767225600000LL /* 2026-01-01T00:00:00Z */
#define T_2027 1798761600000LL /* 2027-01-01T00:00:00Z */

#define SLOTS_MAX 64

/* wall - the local calendar of instant at (ms) in zone, by the C library
 * directly; TZ is put back. */
static struct tm
wall(const char *zone, int64_t at)
{
    char val[256];
    char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    time_t t = (time_t)(at / 1000);
    struct tm tm;

    if (!strcmp(zone, "UTC"))
        snprintf(val, sizeof(val), "UTC0");
    else
        snprintf(val, sizeof(val), ":/usr/share/zoneinfo/%s", zone);
    setenv("TZ", val, 1);
    tzset();
    assert_non_null(localtime_r(&t, &tm));
    if (old)
        setenv("TZ", old, 1);
    else
        unsetenv("TZ");
    tzset();
    free(old);
    return tm;
}

/* iso_weeks - how many ISO weeks year has (Dec 28 is always in the last). */
static int
iso_weeks(int year)
{
    struct tm tm = {.tm_year = year - 1900, .tm_mon = 11, .tm_mday = 28};
    time_t t = timegm(&tm);
    char buf[8];

    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%V", &tm);
    return atoi(buf);
}

/* the label that follows label (weekly "YYYY-Www", monthly "YYYY-MM") */
static void
label_after(const char *label, int monthly, char *out, size_t n)
{
    int y, v;

    if (monthly) {
        assert_int_equal(sscanf(label, "%4d-%2d", &y, &v), 2);
        if (++v > 12) {
            v = 1;
            y++;
        }
        snprintf(out, n, "%04d-%02d", y, v);
        return;
    }
    assert_int_equal(sscanf(label, "%4d-W%2d", &y, &v), 2);
    if (++v > iso_weeks(y)) {
        v = 1;
        y++;
    }
    snprintf(out, n, "%04d-W%02d", y, v);
}

/* the slots a walk met, in order */
struct walk {
    struct zone_slot s[SLOTS_MAX];
    int n;
};

static int
call(const char *zone, int monthly, int wday, int minute, int64_t now,
     struct zone_slot *cur, struct zone_slot *next)
{
    if (monthly)
        return zone_monthly(zone, now, minute, cur, next);
    return zone_weekly(zone, now, wday, minute, cur, next);
}

static void
assert_slot_equal(const struct zone_slot *a, const struct zone_slot *b)
{
    assert_int_equal(a->at, b->at);
    assert_string_equal(a->period, b->period);
}

/*
 * walk_year - now from 2026-01-01 to 2027-01-01 an hour at a time: at every
 * step cur <= now < next, and cur and next are the walk's last two slots or
 * it moved on by exactly one; then, for every slot met, the same at its
 * edges (at - 1 ms, at); consecutive slots have consecutive labels.
 */
static void
walk_year(const char *zone, int monthly, int wday, int minute, struct walk *w)
{
    struct zone_slot cur, next;
    char want[ZONE_PERIOD_MAX];

    w->n = 0;
    for (int64_t now = T_2026; now < T_2027; now += MS_HOUR) {
        assert_int_equal(call(zone, monthly, wday, minute, now, &cur, &next),
                         BOT_OK);
        assert_true(cur.at <= now);
        assert_true(now < next.at);
        if (w->n == 0) {
            w->s[w->n++] = cur;
            w->s[w->n++] = next;
            continue;
        }
        if (cur.at == w->s[w->n - 2].at) {
            assert_slot_equal(&cur, &w->s[w->n - 2]);
            assert_slot_equal(&next, &w->s[w->n - 1]);
            continue;
        }
        assert_slot_equal(&cur, &w->s[w->n - 1]);
        assert_true(w->n < SLOTS_MAX);
        w->s[w->n++] = next;
    }
    for (int i = 0; i < w->n; i++) {
        int64_t at = w->s[i].at;

        assert_int_equal(call(zone, monthly, wday, minute, at - 1, &cur,
                              &next), BOT_OK);
        assert_slot_equal(&next, &w->s[i]);
        if (i > 0)
            assert_slot_equal(&cur, &w->s[i - 1]);
        assert_int_equal(call(zone, monthly, wday, minute, at, &cur, &next),
                         BOT_OK);
        assert_slot_equal(&cur, &w->s[i]);
        if (i + 1 < w->n)
            assert_slot_equal(&next, &w->s[i + 1]);
        assert_int_equal(at % 60000, 0);
        if (i > 0) {
            label_after(w->s[i - 1].period, monthly, want, sizeof(want));
            assert_string_equal(w->s[i].period, want);
            assert_true(at > w->s[i - 1].at);
        }
    }
}

/* weekly_year - walk_year for weekly slots, every slot at its wall time on
 * its weekday in the week of its label; gap_at, when not 0, is the one slot
 * allowed off its wall time (a slot in a spring-forward gap). */
static void
weekly_year(const char *zone, int wday, int minute, int64_t gap_at,
            struct walk *w)
{
    walk_year(zone, 0, wday, minute, w);
    assert_int_equal(w->n, 54); /* 53 ISO weeks of 2026 and one either side */
    for (int i = 0; i < w->n; i++) {
        struct tm tm = wall(zone, w->s[i].at);
        char label[ZONE_PERIOD_MAX];

        assert_int_equal(tm.tm_wday, wday);
        strftime(label, sizeof(label), "%G-W%V", &tm);
        assert_string_equal(w->s[i].period, label);
        if (w->s[i].at == gap_at)
            continue;
        assert_int_equal(tm.tm_hour * 60 + tm.tm_min, minute);
        if (i > 0) /* a week apart, give or take one DST change */
            assert_true(llabs(w->s[i].at - w->s[i - 1].at - 7 * MS_DAY) <=
                        MS_HOUR);
    }
}

static int
has_slot(const struct walk *w, int64_t at, const char *period)
{
    for (int i = 0; i < w->n; i++) {
        if (w->s[i].at == at)
            return !strcmp(w->s[i].period, period);
    }
    return 0;
}

/* --- zone_weekly: a year of Monday 09:00 --- */

static void
zone_weekly__year_utc(void **state)
{
    struct walk w;

    (void)state;
    weekly_year("UTC", 1, 9 * 60, 0, &w);
    assert_string_equal(w.s[0].period, "2026-W01"); /* Monday 2025-12-29 */
    assert_string_equal(w.s[53].period, "2027-W01");
    assert_true(has_slot(&w, 1798448400000LL, "2026-W53")); /* 12-28 09Z */
}

static void
zone_weekly__year_new_york(void **state)
{
    struct walk w;

    (void)state;
    weekly_year("America/New_York", 1, 9 * 60, 0, &w);
    assert_string_equal(w.s[0].period, "2026-W01");
    assert_string_equal(w.s[53].period, "2027-W01");
    /* DST from Sunday 2026-03-08: 14:00Z, then 13:00Z */
    assert_true(has_slot(&w, 1772460000000LL, "2026-W10"));
    assert_true(has_slot(&w, 1773061200000LL, "2026-W11"));
    /* back on Sunday 2026-11-01: 13:00Z, then 14:00Z */
    assert_true(has_slot(&w, 1793019600000LL, "2026-W44"));
    assert_true(has_slot(&w, 1793628000000LL, "2026-W45"));
}

static void
zone_weekly__year_tokyo(void **state)
{
    struct walk w;

    (void)state;
    weekly_year("Asia/Tokyo", 1, 9 * 60, 0, &w);
    assert_string_equal(w.s[0].period, "2026-W01");
    assert_string_equal(w.s[53].period, "2027-W01");
    for (int i = 1; i < w.n; i++) /* no DST: exactly a week apart */
        assert_int_equal(w.s[i].at - w.s[i - 1].at, 7 * MS_DAY);
    /* Monday 09:00 JST is Monday 00:00Z */
    assert_int_equal(w.s[1].at % MS_DAY, 0);
}

static void
zone_weekly__year_lord_howe(void **state)
{
    struct walk w;

    (void)state;
    weekly_year("Australia/Lord_Howe", 1, 9 * 60, 0, &w);
    assert_string_equal(w.s[0].period, "2026-W01");
    assert_string_equal(w.s[53].period, "2027-W01");
    /* +11 to +10:30 on Sunday 2026-04-05: half an hour, not an hour */
    assert_true(has_slot(&w, 1774821600000LL, "2026-W14")); /* 03-29 22:00Z */
    assert_true(has_slot(&w, 1775428200000LL, "2026-W15")); /* 04-05 22:30Z */
    /* +10:30 to +11 on Sunday 2026-10-04 */
    assert_true(has_slot(&w, 1790548200000LL, "2026-W40")); /* 09-27 22:30Z */
    assert_true(has_slot(&w, 1791151200000LL, "2026-W41")); /* 10-04 22:00Z */
}

static void
zone_weekly__year_berlin(void **state)
{
    struct walk w;

    (void)state;
    weekly_year("Europe/Berlin", 1, 9 * 60, 0, &w);
    assert_string_equal(w.s[0].period, "2026-W01");
    assert_string_equal(w.s[53].period, "2027-W01");
    /* CEST from Sunday 2026-03-29, CET again from Sunday 2026-10-25 */
    assert_true(has_slot(&w, 1774252800000LL, "2026-W13")); /* 08:00Z */
    assert_true(has_slot(&w, 1774854000000LL, "2026-W14")); /* 07:00Z */
    assert_true(has_slot(&w, 1792393200000LL, "2026-W43")); /* 07:00Z */
    assert_true(has_slot(&w, 1793001600000LL, "2026-W44")); /* 08:00Z */
}

/* --- zone_weekly: wall times a DST change skips or repeats --- */

/* Sunday 02:30 in New York: 2026-03-08 has no 02:30; it is read with EST,
 * the offset before the gap: 07:30Z, which the clock shows as 03:30 EDT. */
static void
zone_weekly__spring_gap_new_york(void **state)
{
    const int64_t gap = 1772955000000LL; /* 2026-03-08T07:30Z */
    struct zone_slot cur, next;
    struct walk w;
    struct tm tm;

    (void)state;
    weekly_year("America/New_York", 0, 2 * 60 + 30, gap, &w);
    assert_true(has_slot(&w, 1772350200000LL, "2026-W09")); /* 03-01 EST */
    assert_true(has_slot(&w, gap, "2026-W10"));
    assert_true(has_slot(&w, 1773556200000LL, "2026-W11")); /* 03-15 EDT */
    tm = wall("America/New_York", gap);
    assert_int_equal(tm.tm_hour * 60 + tm.tm_min, 3 * 60 + 30);

    /* 07:10Z is 03:10 EDT, after 02:30 on the clock but before the slot */
    assert_int_equal(zone_weekly("America/New_York", 1772953800000LL, 0,
                                 150, &cur, &next), BOT_OK);
    assert_int_equal(cur.at, 1772350200000LL);
    assert_int_equal(next.at, gap);
    assert_string_equal(next.period, "2026-W10");
}

/* Sunday 01:30 in New York: 2026-11-01 has it twice (EDT, then EST); the
 * slot is the first, and the second pass is still inside that slot's week. */
static void
zone_weekly__fall_overlap_new_york(void **state)
{
    const int64_t first = 1793511000000LL;  /* 2026-11-01T05:30Z, EDT */
    const int64_t second = 1793514600000LL; /* 2026-11-01T06:30Z, EST */
    struct zone_slot cur, next;
    struct walk w;

    (void)state;
    weekly_year("America/New_York", 0, 90, 0, &w);
    assert_true(has_slot(&w, first, "2026-W44"));
    assert_false(has_slot(&w, second, "2026-W44"));
    for (int64_t now = first; now <= second + MS_HOUR; now += 60000) {
        assert_int_equal(zone_weekly("America/New_York", now, 0, 90, &cur,
                                     &next), BOT_OK);
        assert_int_equal(cur.at, first);
        assert_string_equal(cur.period, "2026-W44");
        assert_int_equal(next.at, 1794119400000LL); /* 11-08 06:30Z */
        assert_string_equal(next.period, "2026-W45");
    }
}

/* Lord_Howe moves half an hour: Sunday 2026-10-04 has no 02:15 (read with
 * +10:30: 15:45Z, 02:45 on the clock), and 2026-04-05 has 01:45 twice (the
 * first, +11: 14:45Z). */
static void
zone_weekly__half_hour_gap_and_overlap_lord_howe(void **state)
{
    const int64_t gap = 1791042300000LL; /* 2026-10-03T15:45Z */
    struct zone_slot cur, next;
    struct walk w;
    struct tm tm;

    (void)state;
    weekly_year("Australia/Lord_Howe", 0, 2 * 60 + 15, gap, &w);
    assert_true(has_slot(&w, gap, "2026-W40"));
    tm = wall("Australia/Lord_Howe", gap);
    assert_int_equal(tm.tm_hour * 60 + tm.tm_min, 2 * 60 + 45);

    weekly_year("Australia/Lord_Howe", 0, 60 + 45, 0, &w);
    assert_true(has_slot(&w, 1775313900000LL, "2026-W14"));
    assert_false(has_slot(&w, 1775315700000LL, "2026-W14"));
    assert_int_equal(zone_weekly("Australia/Lord_Howe", 1775315700000LL, 0,
                                 105, &cur, &next), BOT_OK);
    assert_int_equal(cur.at, 1775313900000LL);
}

/* --- zone_monthly --- */

/* monthly_year - walk_year for monthly slots at minute, each on the first
 * working day of its month; first is the month whose slot was the latest at
 * 2026-01-01T00:00Z, last the one next at 2026-12-31T23:00Z. */
static void
monthly_year(const char *zone, int minute, const char *first,
             const char *last, struct walk *w)
{
    walk_year(zone, 1, 0, minute, w);
    assert_string_equal(w->s[0].period, first);
    assert_string_equal(w->s[w->n - 1].period, last);
    for (int i = 0; i < w->n; i++) {
        struct tm tm = wall(zone, w->s[i].at);
        char label[ZONE_PERIOD_MAX];

        strftime(label, sizeof(label), "%Y-%m", &tm);
        assert_string_equal(w->s[i].period, label);
        assert_int_equal(tm.tm_hour * 60 + tm.tm_min, minute);
        assert_true(tm.tm_wday >= 1 && tm.tm_wday <= 5);
        /* the 1st, or a Monday with only a weekend before it */
        assert_true(tm.tm_mday == 1 ||
                    (tm.tm_wday == 1 && tm.tm_mday <= 3));
    }
}

static void
zone_monthly__year_every_zone(void **state)
{
    struct walk w;

    (void)state;
    monthly_year("UTC", 10 * 60, "2025-12", "2027-01", &w);
    assert_int_equal(w.n, 14);
    monthly_year("America/New_York", 10 * 60, "2025-12", "2027-01", &w);
    /* 2026-01-01T00:00Z is 09:00 JST: January's slot is still to come */
    monthly_year("Asia/Tokyo", 10 * 60, "2025-12", "2027-01", &w);
    /* ... and 11:00 at Lord_Howe (+11): it has passed, as has 2027's at the
     * end (Friday 2027-01-01 10:00 is 2026-12-31T23:00Z) */
    monthly_year("Australia/Lord_Howe", 10 * 60, "2026-01", "2027-02", &w);
    assert_int_equal(w.n, 14);
    monthly_year("Europe/Berlin", 10 * 60, "2025-12", "2027-01", &w);
    /* New York's November slot, Monday the 2nd (the 1st a Sunday), is the
     * day after the change back to EST: 09:00 EST */
    monthly_year("America/New_York", 9 * 60, "2025-12", "2027-01", &w);
    assert_true(has_slot(&w, 1793628000000LL, "2026-11")); /* 14:00Z */
}

/* 2026-08-01 is a Saturday: Monday the 3rd; 2026-02-01 and 2026-11-01 are
 * Sundays: Monday the 2nd; 2026-12-01 is a Tuesday: the 1st. */
static void
zone_monthly__first_working_day(void **state)
{
    struct zone_slot cur, next;

    (void)state;
    assert_int_equal(zone_monthly("America/New_York", 1785600000000LL, 600,
                                  &cur, &next), BOT_OK); /* 2026-08-01T16Z */
    assert_string_equal(cur.period, "2026-07");
    assert_int_equal(next.at, 1785765600000LL); /* 2026-08-03T14:00Z */
    assert_string_equal(next.period, "2026-08");

    assert_int_equal(zone_monthly("America/New_York", 1769990400000LL, 600,
                                  &cur, &next), BOT_OK); /* 2026-02-02T00Z */
    assert_string_equal(cur.period, "2026-01");
    assert_int_equal(next.at, 1770044400000LL); /* 2026-02-02T15:00Z */
    assert_string_equal(next.period, "2026-02");

    assert_int_equal(zone_monthly("UTC", 1793577600000LL, 600, &cur, &next),
                     BOT_OK); /* 2026-11-02T00Z */
    assert_int_equal(next.at, 1793577600000LL + 10 * MS_HOUR);
    assert_string_equal(next.period, "2026-11");

    assert_int_equal(zone_monthly("UTC", 1796169600000LL, 600, &cur, &next),
                     BOT_OK); /* 2026-12-02T00Z */
    assert_int_equal(cur.at, 1796119200000LL); /* 2026-12-01T10:00Z */
    assert_string_equal(cur.period, "2026-12");
}

/* Tokyo's 2026-08-03 10:00 is 01:00Z: at 00:30Z it is still July's turn,
 * though UTC's August first working day has begun. */
static void
zone_monthly__local_date_not_utc(void **state)
{
    struct zone_slot cur, next;

    (void)state;
    assert_int_equal(zone_monthly("Asia/Tokyo", 1785717000000LL, 600, &cur,
                                  &next), BOT_OK);
    assert_string_equal(cur.period, "2026-07");
    assert_int_equal(next.at, 1785718800000LL);
    assert_string_equal(next.period, "2026-08");
}

/* --- zone names and arguments --- */

static void
zone_known__names(void **state)
{
    static const char *bad[] = {
        "", "Mars/Olympus", "America", "America/", "zone.tab", "leapseconds",
        "tzdata.zi", "../../../etc/passwd", "America/../UTC",
        "/usr/share/zoneinfo/UTC", "/etc/localtime", "America//New_York",
        "EST5EDT,M3.2.0,M11.1.0", ":UTC", "america/new_york", "UTC ",
        "Europe/Berlin\n",
    };
    char longname[ZONE_NAME_MAX + 2];

    (void)state;
    assert_true(zone_known("UTC"));
    assert_true(zone_known("America/New_York"));
    assert_true(zone_known("Australia/Lord_Howe"));
    assert_true(zone_known("Etc/GMT+5"));
    assert_false(zone_known(NULL));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (zone_known(bad[i]))
            fail_msg("zone_known accepted '%s'", bad[i]);
    }
    memset(longname, 'A', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_false(zone_known(longname));
}

/* refused - every entry point refuses, zeroes its outputs and leaves TZ */
static void
refused(const char *zone, int64_t now, int wday, int minute)
{
    struct zone_slot cur, next;
    char buf[11];

    memset(&cur, 0x5a, sizeof(cur));
    memset(&next, 0x5a, sizeof(next));
    assert_int_equal(zone_weekly(zone, now, wday, minute, &cur, &next),
                     BOT_EINVAL);
    assert_int_equal(cur.at, 0);
    assert_string_equal(cur.period, "");
    assert_int_equal(next.at, 0);
    assert_string_equal(next.period, "");
    if (wday >= 0 && wday <= 6) {
        memset(&cur, 0x5a, sizeof(cur));
        memset(&next, 0x5a, sizeof(next));
        assert_int_equal(zone_monthly(zone, now, minute, &cur, &next),
                         BOT_EINVAL);
        assert_int_equal(cur.at, 0);
        assert_string_equal(next.period, "");
    }
    if (minute >= 0 && minute < 1440 && wday >= 0 && wday <= 6) {
        memset(buf, 'x', sizeof(buf));
        assert_int_equal(zone_date(zone, now, buf), BOT_EINVAL);
        assert_string_equal(buf, "");
    }
    assert_string_equal(getenv("TZ"), "Asia/Tokyo");
}

static void
zone__unknown_zones_and_bad_arguments_refused(void **state)
{
    struct zone_slot s;

    (void)state;
    setenv("TZ", "Asia/Tokyo", 1);
    refused("Mars/Olympus", T_2026, 1, 540);
    refused("America", T_2026, 1, 540);
    refused("../../../etc/passwd", T_2026, 1, 540);
    refused("/etc/localtime", T_2026, 1, 540);
    refused(NULL, T_2026, 1, 540);
    refused("UTC", T_2026, -1, 540);
    refused("UTC", T_2026, 7, 540);
    refused("UTC", T_2026, 1, -1);
    refused("UTC", T_2026, 1, 1440);
    refused("UTC", -1, 1, 540);
    refused("UTC", ZONE_NOW_END, 1, 540);
    assert_int_equal(zone_weekly("UTC", T_2026, 1, 540, NULL, &s),
                     BOT_EINVAL);
    assert_int_equal(zone_weekly("UTC", T_2026, 1, 540, &s, NULL),
                     BOT_EINVAL);
    assert_int_equal(zone_monthly("UTC", T_2026, 540, &s, NULL), BOT_EINVAL);
    assert_int_equal(zone_date("UTC", T_2026, NULL), BOT_EINVAL);
    unsetenv("TZ");
}

/* TZ and the C library's idea of it are put back, set or unset */
static void
zone__previous_tz_restored(void **state)
{
    struct zone_slot cur, next;
    time_t t = (time_t)(T_2026 / 1000);
    struct tm tm;
    char buf[11];

    (void)state;
    setenv("TZ", "Asia/Tokyo", 1);
    tzset();
    assert_int_equal(zone_weekly("America/New_York", T_2026, 1, 540, &cur,
                                 &next), BOT_OK);
    assert_string_equal(getenv("TZ"), "Asia/Tokyo");
    assert_non_null(localtime_r(&t, &tm));
    assert_int_equal(tm.tm_gmtoff, 9 * 3600);
    assert_int_equal(zone_date("Europe/Berlin", T_2026, buf), BOT_OK);
    assert_string_equal(getenv("TZ"), "Asia/Tokyo");

    unsetenv("TZ");
    assert_int_equal(zone_monthly("Asia/Tokyo", T_2026, 600, &cur, &next),
                     BOT_OK);
    assert_null(getenv("TZ"));
}

/* --- zone_date --- */

static void
zone_date__around_midnight(void **state)
{
    char buf[11];

    (void)state;
    /* Tokyo's midnight is 15:00Z */
    assert_int_equal(zone_date("Asia/Tokyo", 1796137199999LL, buf), BOT_OK);
    assert_string_equal(buf, "2026-12-01");
    assert_int_equal(zone_date("Asia/Tokyo", 1796137200000LL, buf), BOT_OK);
    assert_string_equal(buf, "2026-12-02");
    /* New York in December: 05:00Z */
    assert_int_equal(zone_date("America/New_York", 1796187599999LL, buf),
                     BOT_OK);
    assert_string_equal(buf, "2026-12-01");
    assert_int_equal(zone_date("America/New_York", 1796187600000LL, buf),
                     BOT_OK);
    assert_string_equal(buf, "2026-12-02");
    /* Lord_Howe in summer time, +11: 13:00Z */
    assert_int_equal(zone_date("Australia/Lord_Howe", 1796130000000LL - 1,
                               buf), BOT_OK);
    assert_string_equal(buf, "2026-12-01");
    assert_int_equal(zone_date("Australia/Lord_Howe", 1796130000000LL, buf),
                     BOT_OK);
    assert_string_equal(buf, "2026-12-02");
    /* UTC at the turn of the year */
    assert_int_equal(zone_date("UTC", T_2027 - 1, buf), BOT_OK);
    assert_string_equal(buf, "2026-12-31");
    assert_int_equal(zone_date("UTC", T_2027, buf), BOT_OK);
    assert_string_equal(buf, "2027-01-01");
}

/* --- bounds --- */

static void
zone__bounds(void **state)
{
    struct zone_slot cur, next;
    char buf[11];

    (void)state;
    /* now 0 in New York is 1969-12-31 19:00: the slot before is in 1969 */
    assert_int_equal(zone_date("America/New_York", 0, buf), BOT_OK);
    assert_string_equal(buf, "1969-12-31");
    assert_int_equal(zone_weekly("America/New_York", 0, 1, 540, &cur, &next),
                     BOT_OK);
    assert_int_equal(cur.at, -208800000LL); /* 1969-12-29T14:00Z */
    assert_string_equal(cur.period, "1970-W01");
    assert_int_equal(next.at, -208800000LL + 7 * MS_DAY);
    /* the last now, in the zone furthest east (+14) */
    assert_int_equal(zone_date("Pacific/Kiritimati", ZONE_NOW_END - 1, buf),
                     BOT_OK);
    assert_string_equal(buf, "9999-01-01");
    assert_int_equal(zone_monthly("Pacific/Kiritimati", ZONE_NOW_END - 1, 0,
                                  &cur, &next), BOT_OK);
    assert_string_equal(cur.period, "9999-01");
    assert_string_equal(next.period, "9999-02");
    assert_int_equal(zone_weekly("Pacific/Kiritimati", ZONE_NOW_END - 1, 6,
                                 1439, &cur, &next), BOT_OK);
    assert_true(cur.at <= ZONE_NOW_END - 1 && ZONE_NOW_END - 1 < next.at);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zone_weekly__year_utc),
        cmocka_unit_test(zone_weekly__year_new_york),
        cmocka_unit_test(zone_weekly__year_tokyo),
        cmocka_unit_test(zone_weekly__year_lord_howe),
        cmocka_unit_test(zone_weekly__year_berlin),
        cmocka_unit_test(zone_weekly__spring_gap_new_york),
        cmocka_unit_test(zone_weekly__fall_overlap_new_york),
        cmocka_unit_test(zone_weekly__half_hour_gap_and_overlap_lord_howe),
        cmocka_unit_test(zone_monthly__year_every_zone),
        cmocka_unit_test(zone_monthly__first_working_day),
        cmocka_unit_test(zone_monthly__local_date_not_utc),
        cmocka_unit_test(zone_known__names),
        cmocka_unit_test(zone__unknown_zones_and_bad_arguments_refused),
        cmocka_unit_test(zone__previous_tz_restored),
        cmocka_unit_test(zone_date__around_midnight),
        cmocka_unit_test(zone__bounds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
