/*
 * zone.h - the reminder scheduler's local-time arithmetic: when, in UTC, a
 * weekly or monthly slot given in a time zone's wall clock falls, and which
 * period (ISO week, month) it belongs to. No I/O beyond reading the tz
 * database, no logging, no clock: "now" is always an argument.
 *
 * Owns: turning wall-clock times of a tz database zone into UTC instants,
 * with the rules for times that a DST change skips or repeats; the period
 * labels the scheduler claims reminders under ("2026-W49", "2026-12"); and
 * which zone names are accepted.
 * Does not own: which zone a user is in (config, platforms), holidays (a
 * "working day" is Monday to Friday), what is sent in a slot, nor claiming
 * it (storage).
 *
 * The calendar is the C library's: the system tz database
 * (/usr/share/zoneinfo, the tzdata package) read through TZ, tzset() and
 * localtime_r(); date arithmetic through timegm()/gmtime_r(). There is no
 * zone table here.
 *
 * Threads: every function here sets the process's TZ, calls tzset(), and
 * puts the previous TZ (or its absence) back before returning. The
 * environment and the C library's zone state are process-wide, so call these
 * only from the one thread of the event loop (pmbot's, which is single
 * threaded where this runs), never while another thread may read the
 * environment or call localtime()/mktime()/strftime(). Not async-signal-safe.
 *
 * Wall-clock rules (for weekly and monthly slots):
 *  - a wall time that does not exist (the hour skipped when clocks spring
 *    forward, e.g. 02:30 on 2026-03-08 in America/New_York, or 02:15 on
 *    2026-10-04 in Australia/Lord_Howe, which moves half an hour) is read
 *    with the UTC offset in force just before the gap, as RFC 5545 (iCalendar)
 *    does: it lands as far after the end of the gap as it was after its start,
 *    so the clock then shows the slot's time plus the gap (New York 03:30 EDT,
 *    07:30Z; Lord_Howe 02:45 +11). A slot in a gap is never dropped.
 *  - a wall time that happens twice (clocks falling back, e.g. 01:30 on
 *    2026-11-01 in America/New_York) is its FIRST occurrence (01:30 EDT,
 *    05:30Z); the repeat does not get a second slot.
 *  - so every period has exactly one slot: slot k is built from the k-th
 *    calendar date (a weekday of each ISO week, the first working day of each
 *    month), and its period label comes from that local date, not from the
 *    instant, so a DST change can move a slot by the size of the change but
 *    never into another period or out of its own.
 *  Assumed of the zone (true of every zone's rules in use): its UTC offset
 *  changes at most once within a day either side of a slot.
 *
 * Zones: a tz database name ("UTC", "Europe/Berlin", "America/New_York",
 * "Etc/GMT+5") of at most ZONE_NAME_MAX bytes made only of ASCII letters,
 * digits, '/', '_', '-' and '+', not starting with '/', with no empty path
 * part, naming a readable regular file under ZONE_DIR that begins with the
 * TZif magic. "UTC" is always known, tzdata or not. Refused with BOT_EINVAL:
 * unknown names (the C library would silently use UTC for them), directories
 * ("America"), the database's text files ("zone.tab", "leapseconds"), ".."
 * and absolute paths, and POSIX rule strings ("EST5EDT,M3.2.0,M11.1.0"
 * contains ',' and '.'); names are case-sensitive, as the files are.
 *
 * Bounds: now is UTC epoch ms in [0, ZONE_NOW_END) (1970 up to 9999-01-01).
 * Slots are on whole minutes, so at is a multiple of 60000; cur.at may be
 * before 1970 (negative) when now is near 0.
 *
 * Errors: BOT_OK, or BOT_EINVAL for an unknown zone or an argument out of
 * bounds (NULL pointers included), or BOT_ENOMEM when the previous TZ cannot
 * be saved. On any error every output is zeroed (at 0, period ""; buf "")
 * when its pointer is not NULL, and TZ is as it was.
 * Ownership: nothing is allocated for the caller; zone is borrowed.
 * Cost: each call reloads two zone files through tzset() (the requested one
 * and the previous TZ's): about 15 us a zone_weekly() call, 7 us a
 * zone_date() (-O2, one core); a pass over many users should compute slots
 * once per distinct zone rather than once per user.
 */
#ifndef PMBOT_ZONE_H
#define PMBOT_ZONE_H

#include <stdint.h>

#define ZONE_DIR      "/usr/share/zoneinfo"
#define ZONE_NAME_MAX 128                /* bytes of a zone name, no NUL */
#define ZONE_NOW_END  253370764800000LL  /* 9999-01-01T00:00:00Z, excluded */
#define ZONE_PERIOD_MAX 16               /* bytes of a period label, NUL in */

struct zone_slot {
    int64_t at;                   /* UTC epoch ms of the slot */
    char period[ZONE_PERIOD_MAX]; /* the period it belongs to, from the
                                     slot's local date: "2026-W49" (ISO 8601
                                     week-numbering year and week, %G-W%V)
                                     for weekly, "2026-12" for monthly */
};

/*
 * zone_known - 1 when zone is a name this module accepts (see "Zones"
 * above), else 0. Reads the start of the zone's file; touches no TZ.
 */
int zone_known(const char *zone);

/*
 * zone_weekly - weekly slots at local weekday wday (0 Sunday .. 6 Saturday)
 * and minute_of_day (0 .. 1439, minutes after local midnight) in zone.
 * *cur: the latest slot at or before now; *next: the first slot after now;
 * so cur->at <= now < next->at, and next is cur's successor: the same
 * weekday of the following ISO week. Each ISO week has exactly one slot
 * (see the wall-clock rules above); its period is that week's label.
 * Errors: BOT_EINVAL for an unknown zone, wday or minute_of_day out of range,
 * now out of bounds, or a NULL pointer; see the file comment.
 */
int zone_weekly(const char *zone, int64_t now, int wday, int minute_of_day,
                struct zone_slot *cur, struct zone_slot *next);

/*
 * zone_monthly - one slot a month: the first working day (Monday to Friday;
 * holidays are not known) of each local calendar month at minute_of_day in
 * zone: the 1st, or Monday the 3rd when the 1st is a Saturday, or Monday the
 * 2nd when it is a Sunday. *cur and *next as for zone_weekly; period
 * "YYYY-MM" of the slot's month. Errors as for zone_weekly.
 */
int zone_monthly(const char *zone, int64_t now, int minute_of_day,
                 struct zone_slot *cur, struct zone_slot *next);

/*
 * zone_date - the local calendar date of now in zone, "YYYY-MM-DD" with its
 * NUL (11 bytes) into buf. Errors as for zone_weekly, with buf "".
 */
int zone_date(const char *zone, int64_t now, char buf[11]);

#endif
