/*
 * test_reminders.c - the weekly DMs, the overdue escalation and the
 * monthly review (reminders.h), each once per period, through the bot's
 * reminder pass (bot_remind) on the fake platform with the clock fixed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bot.h"
#include "config.h"
#include "err.h"
#include "fake_platform.h"
#include "mem.h"
#include "store.h"
#include "strbuf.h"
#include "timeutil.h"
#include "world.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sunday 2026-11-01 04:38 UTC */
#define T0 1793507880000LL
#define HOUR (3600 * 1000LL)
#define DAY (24 * HOUR)

static int
setup(void **state)
{
    *state = world_begin("reminders", T0, 1);
    return 0;
}

static int
teardown(void **state)
{
    world_end(*state);
    return 0;
}

static int seq;

static void
send(struct world *w, const char *user, const char *room, const char *text)
{
    struct chat_event ev = {0};
    char id[32];

    snprintf(id, sizeof(id), "r%d", ++seq);
    ev.kind = CHAT_EV_MESSAGE;
    ev.platform = w->p;
    ev.room = room;
    ev.user = user;
    ev.msg_id = id;
    ev.event_id = id;
    ev.text = text;
    ev.is_dm = room[0] == 'D'; /* the fake's DMs are D-<user> */
    ev.at = bot_now_ms(w->b);
    bot_dispatch(w->b, &ev, NULL, NULL);
}

/* at - the clock at an ISO time, and a pass */
static void
at(struct world *w, const char *iso)
{
    int64_t ms;

    assert_int_equal(timeutil_parse_iso(iso, &ms), BOT_OK);
    w->b->core.fixed_now = ms;
    assert_int_equal(bot_remind(w->b, ms, NULL, NULL), BOT_OK);
}

/* to - posts to a room (a DM is "D-<user>" on the fake) holding text */
static size_t
to(struct world *w, const char *room, const char *text)
{
    struct fake_platform *f = fake_of(w->p);
    size_t n = 0;

    for (size_t i = 0; i < f->nposts; i++)
        n += !strcmp(f->posts[i].room, room) &&
             strstr(f->posts[i].text, text) != NULL;
    return n;
}

static void
sql(struct world *w, const char *q)
{
    sqlite3 *db;

    assert_int_equal(sqlite3_open(w->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* an incident (INC-1 in C1, alice commands) with ACT-1 for bob */
static void
incident(struct world *w, const char *due)
{
    char cmd[128];

    send(w, "alice", "general", "/incident start sev2 Cache stampede");
    snprintf(cmd, sizeof(cmd), "/pm action Add jitter to expiry @bob %s",
             due);
    send(w, "alice", "C1", cmd);
}

static void
weekly__one_dm_a_week_at_the_assignees_slot(void **state)
{
    struct world *w = *state;

    incident(w, "2026-12-20");
    at(w, "2026-11-02T08:59:00Z"); /* Monday, before 09:00 UTC */
    assert_int_equal(to(w, "D-bob", "Your open follow-up action"), 0);
    at(w, "2026-11-02T09:00:00Z");
    assert_int_equal(to(w, "D-bob", "Your open follow-up action (1)"), 1);
    assert_int_equal(to(w, "D-bob", "ACT-1 Add jitter to expiry (INC-1) "
                                    "\xc2\xb7 due 2026-12-20"),
                     1);
    assert_int_equal(to(w, "D-bob", "`done ACT-n`, `snooze ACT-n 1w`"), 1);
    at(w, "2026-11-04T12:00:00Z"); /* the same week */
    at(w, "2026-11-08T23:59:00Z");
    assert_int_equal(to(w, "D-bob", "Your open follow-up action"), 1);
    at(w, "2026-11-09T09:00:00Z");
    assert_int_equal(to(w, "D-bob", "Your open follow-up action"), 2);
    /* three weeks down: the current week's, once */
    at(w, "2026-12-02T10:00:00Z");
    at(w, "2026-12-02T11:00:00Z");
    assert_int_equal(to(w, "D-bob", "Your open follow-up action"), 3);
    /* nobody else was written to */
    assert_int_equal(to(w, "D-alice", "Your open"), 0);
}

static void
weekly__opened_later_or_snoozed_waits_and_done_is_not_listed(void **state)
{
    struct world *w = *state;

    at(w, "2026-11-03T10:00:00Z"); /* Tuesday: opened after Monday's slot */
    incident(w, "2026-12-20");
    at(w, "2026-11-03T11:00:00Z");
    assert_int_equal(to(w, "D-bob", "Your open"), 0);
    sql(w, "UPDATE actions SET snoozed_until = '2026-11-12' WHERE id = 1");
    at(w, "2026-11-09T09:00:00Z"); /* snoozed past this Monday */
    assert_int_equal(to(w, "D-bob", "Your open"), 0);
    at(w, "2026-11-16T09:00:00Z");
    assert_int_equal(to(w, "D-bob", "Your open follow-up action (1)"), 1);
    send(w, "alice", "C1", "/pm done ACT-1");
    at(w, "2026-11-23T09:00:00Z");
    assert_int_equal(to(w, "D-bob", "Your open"), 1);
}

static void
weekly__in_the_assignees_own_time_zone(void **state)
{
    struct world *w = *state;

    incident(w, "2026-12-20");
    assert_int_equal(store_user_put(w->b->core.store, "fake", "bob", "Bob",
                                    T0),
                     BOT_OK);
    assert_int_equal(store_user_set_tz(w->b->core.store, "fake", "bob",
                                       "Asia/Tokyo"),
                     BOT_OK);
    /* Monday 09:00 in Tokyo is Monday 00:00 UTC: this week's (opened
     * Sunday) went out at Monday 00:00 UTC, the next one a week on */
    at(w, "2026-11-02T00:00:00Z");
    assert_int_equal(to(w, "D-bob", "Your open"), 1);
    at(w, "2026-11-08T23:59:00Z");
    assert_int_equal(to(w, "D-bob", "Your open"), 1);
    at(w, "2026-11-09T00:00:00Z");
    assert_int_equal(to(w, "D-bob", "Your open"), 2);
}

static void
overdue__the_channel_hears_once_a_week(void **state)
{
    struct world *w = *state;

    incident(w, "2026-11-05");
    at(w, "2026-11-05T23:00:00Z"); /* due today: not yet */
    assert_int_equal(to(w, "C1", "Overdue"), 0);
    at(w, "2026-11-06T00:00:00Z");
    assert_int_equal(to(w, "C1", "Overdue: ACT-1 Add jitter to expiry "
                                 "(INC-1) was due 2026-11-05, 1 day ago. "
                                 "@bob (assignee), @alice (commander)"),
                     1);
    at(w, "2026-11-10T00:00:00Z");
    assert_int_equal(to(w, "C1", "Overdue"), 1);
    at(w, "2026-11-13T00:00:00Z"); /* a week on */
    assert_int_equal(to(w, "C1", "Overdue: ACT-1 Add jitter to expiry "
                                 "(INC-1) was due 2026-11-05, 8 days ago"),
                     1);
}

static void
monthly__on_the_first_working_day_once(void **state)
{
    struct world *w = *state;

    w->cfg.review_channel = bot_strdup("CREV");
    incident(w, "2026-11-20");
    /* 2026-11-01 is a Sunday: the review is Monday 2 at 10:00 UTC */
    at(w, "2026-11-02T09:59:00Z");
    assert_int_equal(to(w, "CREV", "Monthly review"), 0);
    at(w, "2026-11-02T10:00:00Z");
    assert_int_equal(to(w, "CREV", "Monthly review of open follow-up "
                                   "actions, 2026-11"),
                     1);
    assert_int_equal(to(w, "CREV", "1 open, 0 overdue"), 1);
    at(w, "2026-11-03T10:00:00Z");
    assert_int_equal(to(w, "CREV", "Monthly review"), 1);
    /* 2026-08 would start on a Saturday; December starts on a Tuesday */
    at(w, "2026-12-01T10:00:00Z");
    assert_int_equal(to(w, "CREV", "actions, 2026-12"), 1);
    assert_int_equal(to(w, "CREV", "1 open, 1 overdue"), 1);
}

static void
dry_run__describes_and_claims_nothing(void **state)
{
    struct world *w = *state;
    struct strbuf dry;
    int64_t ms;

    incident(w, "2026-12-20");
    assert_int_equal(timeutil_parse_iso("2026-11-09T09:00:00Z", &ms),
                     BOT_OK);
    w->b->core.fixed_now = ms;
    strbuf_init(&dry, 0);
    assert_int_equal(bot_remind(w->b, ms, &dry, NULL), BOT_OK);
    assert_non_null(strstr(strbuf_str(&dry), "fake DM @bob: Your open "
                                             "follow-up action (1)"));
    strbuf_cleanup(&dry);
    assert_int_equal(to(w, "D-bob", "Your open"), 0);
    /* the real pass still sends it */
    at(w, "2026-11-09T09:00:00Z");
    assert_int_equal(to(w, "D-bob", "Your open"), 1);
}

/* react - user puts a ✅ on the fake's post n (1-based, "m<n>") in room */
static void
react_as(struct world *w, const char *user, const char *room, size_t n,
         const char *event_id)
{
    struct chat_event ev = {0};
    char id[32], evid[32];

    snprintf(id, sizeof(id), "m%zu", n);
    snprintf(evid, sizeof(evid), "x%d", ++seq);
    if (event_id)
        snprintf(evid, sizeof(evid), "%s", event_id);
    ev.kind = CHAT_EV_REACTION_ADDED;
    ev.platform = w->p;
    ev.room = room;
    ev.user = user;
    ev.msg_id = id;
    ev.event_id = evid;
    ev.reaction = "\xe2\x9c\x85";
    ev.at = bot_now_ms(w->b);
    bot_dispatch(w->b, &ev, NULL, NULL);
}

static void
react(struct world *w, const char *user, const char *room, size_t n)
{
    react_as(w, user, room, n, NULL);
}

/* post_with - the number (1-based) of the fake's last post holding text */
static size_t
post_with(struct world *w, const char *text)
{
    struct fake_platform *f = fake_of(w->p);

    for (size_t i = f->nposts; i > 0; i--) {
        if (strstr(f->posts[i - 1].text, text))
            return i;
    }
    fail_msg("no post with %s", text);
    return 0;
}

static void
weekly__a_check_mark_on_a_line_completes_that_action(void **state)
{
    struct world *w = *state;
    struct action a;
    size_t line;

    incident(w, "2026-12-20");
    at(w, "2026-11-09T09:00:00Z");
    line = post_with(w, "ACT-1 Add jitter to expiry (INC-1)");
    react(w, "mallory", "D-bob", line); /* not hers to complete */
    assert_int_equal(to(w, "D-bob", "Only ACT-1's assignee @bob or INC-1's "
                                    "commander @alice can change it."),
                     1);
    assert_int_equal(store_action_get(w->b->core.store, 1, &a), BOT_OK);
    assert_int_equal(a.status, ACTION_OPEN);
    store_action_clear(&a);
    react_as(w, "bob", "D-bob", line, "ev-check");
    react_as(w, "bob", "D-bob", line, "ev-check"); /* redelivered: once */
    assert_int_equal(to(w, "D-bob", "ACT-1 done: Add jitter to expiry"), 1);
    assert_int_equal(to(w, "D-bob", "ACT-1 was already done."), 0);
    assert_int_equal(store_action_get(w->b->core.store, 1, &a), BOT_OK);
    assert_int_equal(a.status, ACTION_DONE);
    assert_string_equal(a.completed_by, "bob");
    store_action_clear(&a);
    react(w, "bob", "D-bob", line);
    assert_int_equal(to(w, "D-bob", "ACT-1 was already done."), 1);
    /* a ✅ on the header is about no action: nothing */
    react(w, "bob", "D-bob", post_with(w, "Your open follow-up action"));
    assert_int_equal(to(w, "D-bob", "done"), 3);
}

static void
overdue__a_new_date_starts_again(void **state)
{
    struct world *w = *state;

    incident(w, "2026-11-05");
    at(w, "2026-11-06T00:00:00Z");
    assert_int_equal(to(w, "C1", "Overdue"), 1);
    send(w, "alice", "C1", "/pm due ACT-1 2026-11-08");
    at(w, "2026-11-09T00:00:00Z");
    assert_int_equal(to(w, "C1", "was due 2026-11-08, 1 day ago"), 1);
}

static void
weekly__snooze_1w_leaves_the_next_one_out(void **state)
{
    struct world *w = *state;

    incident(w, "2026-12-20");
    at(w, "2026-11-09T09:00:00Z");
    assert_int_equal(to(w, "D-bob", "Your open"), 1);
    send(w, "bob", "D-bob", "Snooze ACT-1 1w"); /* any case */
    at(w, "2026-11-16T09:00:00Z");
    assert_int_equal(to(w, "D-bob", "Your open"), 1);
    at(w, "2026-11-23T09:00:00Z");
    assert_int_equal(to(w, "D-bob", "Your open"), 2);
}

static void
dm__a_reply_is_no_incident(void **state)
{
    struct world *w = *state;
    long n = -1;

    incident(w, "2026-12-20");
    send(w, "bob", "D-bob", "start working on it tomorrow");
    send(w, "bob", "D-bob", "resolve it later");
    assert_int_equal(store_incident_count_open(w->b->core.store, &n),
                     BOT_OK);
    assert_int_equal(n, 1);
    send(w, "bob", "D-bob", "Done ACT-1");
    assert_int_equal(to(w, "D-bob", "ACT-1 done"), 1);
}

static void
failed__an_unreachable_assignee_and_a_gone_channel(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);

    w->cfg.review_channel = bot_strdup("CREV");
    incident(w, "2026-11-05");
    at(w, "2026-11-01T23:00:00Z"); /* the October review, nothing else */
    f->fail_posts = 1; /* the DM: user_not_found, for good */
    f->fail_rc = BOT_EINVAL;
    at(w, "2026-11-02T09:00:00Z");
    assert_int_equal(to(w, "C1", "@bob cannot be reached by DM"), 1);
    f->fail_posts = 1; /* the escalation: the channel is archived */
    f->fail_rc = BOT_EINVAL;
    at(w, "2026-11-06T00:00:00Z");
    assert_int_equal(to(w, "CREV", "Overdue: ACT-1 Add jitter to expiry"),
                     1);
    f->fail_posts = 1; /* next week's DM fails too: said once */
    f->fail_rc = BOT_EINVAL;
    at(w, "2026-11-09T09:00:00Z");
    assert_int_equal(to(w, "C1", "@bob cannot be reached by DM"), 1);
}

/* a year of passes each hour of every Sunday and Monday (UTC), with
 * assignees in four zones: each gets exactly one DM every ISO week, at the
 * first pass from Monday 09:00 in their zone, across both DST changes */
static void
weekly__a_year_in_four_zones_once_a_week(void **state)
{
    struct world *w = *state;
    static const char *const zones[] = {"UTC", "America/New_York",
                                        "Asia/Tokyo", "Australia/Lord_Howe"};
    static const char *const users[] = {"u1", "u2", "u3", "u4"};
    char cmd[128], room[16];
    int64_t day, start, end;
    size_t before[4] = {0}, weeks = 0;

    send(w, "alice", "general", "/incident start sev2 Zones");
    for (int i = 0; i < 4; i++) {
        snprintf(cmd, sizeof(cmd), "/pm action Check the %s runbook @%s "
                                   "2028-01-01",
                 zones[i], users[i]);
        send(w, "alice", "C1", cmd);
        assert_int_equal(store_user_put(w->b->core.store, "fake", users[i],
                                        users[i], T0),
                         BOT_OK);
        assert_int_equal(store_user_set_tz(w->b->core.store, "fake",
                                           users[i], zones[i]),
                         BOT_OK);
    }
    assert_int_equal(timeutil_parse_iso("2026-11-08T00:00:00Z", &start),
                     BOT_OK); /* a Sunday */
    assert_int_equal(timeutil_parse_iso("2027-11-08T00:00:00Z", &end),
                     BOT_OK);
    /* the week the actions were opened in is said first, once */
    w->b->core.fixed_now = start - HOUR;
    assert_int_equal(bot_remind(w->b, start - HOUR, NULL, NULL), BOT_OK);
    for (int i = 0; i < 4; i++) {
        snprintf(room, sizeof(room), "D-%s", users[i]);
        before[i] = to(w, room, "Your open follow-up action");
        assert_int_equal(before[i], 1);
    }
    for (day = start; day < end; day += 7 * DAY) {
        for (int64_t t = day; t < day + 2 * DAY; t += HOUR) {
            w->b->core.fixed_now = t;
            assert_int_equal(bot_remind(w->b, t, NULL, NULL), BOT_OK);
        }
        weeks++;
        for (int i = 0; i < 4; i++) {
            size_t n;

            snprintf(room, sizeof(room), "D-%s", users[i]);
            n = to(w, room, "Your open follow-up action");
            /* exactly one more this week (a Lord_Howe Monday 09:00 is a
             * Sunday evening in UTC, a Tokyo one Monday 00:00) */
            if (n != before[i] + 1)
                fail_msg("%s: %zu DMs after week %zu", zones[i], n, weeks);
            before[i] = n;
        }
    }
    assert_int_equal(weeks, 53);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(weekly__one_dm_a_week_at_the_assignees_slot),
        T(weekly__opened_later_or_snoozed_waits_and_done_is_not_listed),
        T(weekly__in_the_assignees_own_time_zone),
        T(overdue__the_channel_hears_once_a_week),
        T(monthly__on_the_first_working_day_once),
        T(dry_run__describes_and_claims_nothing),
        T(weekly__a_check_mark_on_a_line_completes_that_action),
        T(overdue__a_new_date_starts_again),
        T(weekly__snooze_1w_leaves_the_next_one_out),
        T(dm__a_reply_is_no_incident),
        T(failed__an_unreachable_assignee_and_a_gone_channel),
        T(weekly__a_year_in_four_zones_once_a_week),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
