/*
 * test_actions.c - changing follow-up actions: /pm done, reopen, reassign,
 * due and snooze (and the same bare words in a DM), who may, the history
 * each change leaves, and the report's Last Change column, through the bot
 * on the fake platform.
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
#include "incident.h"
#include "mem.h"
#include "report.h"
#include "store.h"
#include "strbuf.h"
#include "timeutil.h"
#include "world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1793507880000LL /* 2026-11-01T04:38:00Z */
#define DAY (24 * 3600 * 1000LL)

static int seq;

static int
setup(void **state)
{
    struct world *w = world_begin("actions", T0, 1);

    seq = 0;
    bot_free(w->cfg.admins);
    w->cfg.admins = bot_strdup("root, ops");
    *state = w;
    return 0;
}

static int
teardown(void **state)
{
    world_end(*state);
    return 0;
}

static void
send_ev(struct world *w, const char *user, const char *room, int dm,
        const char *text)
{
    struct chat_event ev = {0};
    char id[32], evid[32];

    snprintf(id, sizeof(id), "u%d", ++seq);
    snprintf(evid, sizeof(evid), "e%d", seq);
    ev.kind = CHAT_EV_MESSAGE;
    ev.platform = w->p;
    ev.room = room;
    ev.user = user;
    ev.msg_id = id;
    ev.event_id = evid;
    ev.text = text;
    ev.is_dm = dm;
    ev.at = bot_now_ms(w->b);
    bot_dispatch(w->b, &ev, NULL, NULL);
}

static void
say(struct world *w, const char *user, const char *text)
{
    send_ev(w, user, "C1", 0, text);
}

static void
dm(struct world *w, const char *user, const char *text)
{
    char room[32];

    snprintf(room, sizeof(room), "D-%s", user);
    send_ev(w, user, room, 1, text);
}

static const char *
last(struct world *w)
{
    return fake_last_post(w->p);
}

#define assert_said(w, text)                                                  \
    do {                                                                      \
        if (!strstr(last(w), text))                                           \
            fail_msg("\"%s\" lacks \"%s\"", last(w), text);                   \
    } while (0)

/* incident - INC-1 declared by alice (its commander), channel C1, with
 * ACT-1 "Add a replica" for bob, due 2026-12-01 */
static void
incident(struct world *w)
{
    say(w, "alice", "/incident start sev2 Database down");
    say(w, "alice", "/pm action Add a replica @bob 2026-12-01");
    assert_said(w, "ACT-1 added");
}

static size_t
history(struct world *w, struct action_change **out)
{
    size_t n = 0;

    assert_int_equal(store_action_history(w->b->core.store, 1, out, &n),
                     BOT_OK);
    return n;
}

static size_t
nhistory(struct world *w)
{
    struct action_change *h;
    size_t n = history(w, &h);

    store_action_history_free(h, n);
    return n;
}

/* assert_last_change - the newest history row of ACT-1 */
static void
assert_last_change(struct world *w, int what, const char *by,
                   const char *detail)
{
    struct action_change *h;
    size_t n = history(w, &h);

    assert_true(n > 0);
    assert_int_equal(h[n - 1].what, what);
    assert_string_equal(h[n - 1].by, by);
    if (detail)
        assert_string_equal(h[n - 1].detail, detail);
    else
        assert_null(h[n - 1].detail);
    assert_int_equal(h[n - 1].at, w->b->core.fixed_now);
    store_action_history_free(h, n);
}

static void
get(struct world *w, struct action *a)
{
    assert_int_equal(store_action_get(w->b->core.store, 1, a), BOT_OK);
}

/* --- snooze words (pure) --- */

static void
snooze__weeks_days_and_dates(void **state)
{
    char until[TIMEUTIL_BUFLEN];
    const char *why = NULL;

    (void)state;
    assert_int_equal(action_snooze_date("2026-11-01", "1w", until, &why), BOT_OK);
    assert_string_equal(until, "2026-11-08");
    assert_int_equal(action_snooze_date("2026-11-01", "2w", until, &why), BOT_OK);
    assert_string_equal(until, "2026-11-15");
    assert_int_equal(action_snooze_date("2026-11-01", "3d", until, &why), BOT_OK);
    assert_string_equal(until, "2026-11-04");
    assert_int_equal(action_snooze_date("2026-11-01", "2026-12-24", until, &why),
                     BOT_OK);
    assert_string_equal(until, "2026-12-24");
    assert_int_equal(action_snooze_date("2026-11-01", "52w", until, &why), BOT_OK);
    assert_string_equal(until, "2027-10-31");
}

static void
snooze__bad_words_are_refused_with_a_reason(void **state)
{
    static const char *const bad[] = {
        "", "w", "0w", "0d", "-1w", "1x", "1w2", "1 w", "1W", "53w",
        "367d", "99999999999999999999d", "2635249153387078803w",
        "2026-11-01", "2026-10-31",
        "2026-02-30", "2026-13-01", "20261201", "soon",
    };
    char until[TIMEUTIL_BUFLEN];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *why = NULL;

        strcpy(until, "untouched");
        if (action_snooze_date("2026-11-01", bad[i], until, &why) !=
            BOT_EINVAL)
            fail_msg("snooze \"%s\" was taken", bad[i]);
        assert_non_null(why);
        assert_string_equal(until, "untouched");
    }
}

static void
admins__comma_separated_ids(void **state)
{
    (void)state;
    assert_true(action_is_admin("root, ops", "root"));
    assert_true(action_is_admin("root, ops", "ops"));
    assert_true(action_is_admin(" root ,ops,", "ops"));
    assert_false(action_is_admin("root, ops", "roo"));
    assert_false(action_is_admin("root, ops", "op"));
    assert_false(action_is_admin("rootops", "root"));
    assert_false(action_is_admin(NULL, "root"));
    assert_false(action_is_admin("", "root"));
}

/* --- who may --- */

static void
permissions__someone_else_is_told_who_can_and_nothing_changes(void **state)
{
    static const char *const cmds[] = {
        "/pm done ACT-1", "/pm reassign ACT-1 @carol",
        "/pm due ACT-1 2026-12-24", "/pm snooze ACT-1 1w",
    };
    struct world *w = *state;
    struct action a;

    incident(w);
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        say(w, "carol", cmds[i]);
        assert_said(w, "Only ACT-1's assignee @bob, INC-1's commander "
                       "@alice or an admin (@root, @ops) can change it.");
    }
    dm(w, "carol", "done ACT-1");
    assert_said(w, "Only ACT-1's assignee @bob");
    get(w, &a);
    assert_int_equal(a.status, ACTION_OPEN);
    assert_string_equal(a.assignee, "bob");
    assert_string_equal(a.due_date, "2026-12-01");
    assert_null(a.snoozed_until);
    store_action_clear(&a);
    assert_int_equal(nhistory(w), 1);
    /* nobody to name but the assignee */
    bot_free(w->cfg.admins);
    w->cfg.admins = NULL;
    say(w, "carol", "/pm done ACT-1");
    assert_said(w, "Only ACT-1's assignee @bob or INC-1's commander @alice "
                   "can change it.");
}

static void
permissions__assignee_commander_and_admin_may(void **state)
{
    struct world *w = *state;

    incident(w);
    say(w, "bob", "/pm due ACT-1 2026-12-05"); /* the assignee */
    assert_said(w, "ACT-1 is now due 2026-12-05");
    assert_last_change(w, ACH_DUE, "bob", "2026-12-05");
    say(w, "alice", "/pm snooze ACT-1 3d"); /* the commander */
    assert_said(w, "ACT-1 snoozed until 2026-11-04");
    assert_last_change(w, ACH_SNOOZED, "alice", "2026-11-04");
    say(w, "ops", "/pm done ACT-1"); /* an admin */
    assert_said(w, "ACT-1 done");
    assert_last_change(w, ACH_DONE, "ops", NULL);
    /* a commander handed on: the new one may, the old one no longer */
    say(w, "alice", "/incident role commander @erin");
    say(w, "alice", "/pm reopen ACT-1");
    assert_said(w, "INC-1's commander @erin");
    say(w, "erin", "/pm reopen ACT-1");
    assert_said(w, "ACT-1 reopened");
    assert_last_change(w, ACH_REOPENED, "erin", NULL);
    assert_int_equal(nhistory(w), 5);
}

/* --- each command --- */

static void
commands__each_confirms_and_leaves_its_history(void **state)
{
    struct world *w = *state;
    struct action_change *h;
    struct action a;
    size_t n;

    incident(w);
    assert_last_change(w, ACH_CREATED, "alice", NULL);

    w->b->core.fixed_now += DAY;
    say(w, "bob", "/pm reassign ACT-1 @carol");
    assert_said(w, "ACT-1 reassigned to @carol: Add a replica (INC-1), due "
                   "2026-12-01.");
    assert_last_change(w, ACH_REASSIGNED, "bob", "carol");

    w->b->core.fixed_now += DAY;
    say(w, "carol", "/pm due ACT-1 2027-01-15");
    assert_said(w, "ACT-1 is now due 2027-01-15: Add a replica (INC-1).");
    assert_last_change(w, ACH_DUE, "carol", "2027-01-15");

    say(w, "carol", "/pm snooze ACT-1 2026-11-20");
    assert_said(w, "ACT-1 snoozed until 2026-11-20");
    assert_last_change(w, ACH_SNOOZED, "carol", "2026-11-20");

    say(w, "carol", "/pm done ACT-1");
    assert_said(w, "ACT-1 done: Add a replica (INC-1).");
    assert_last_change(w, ACH_DONE, "carol", NULL);

    say(w, "carol", "/pm reopen ACT-1");
    assert_said(w, "ACT-1 reopened: Add a replica (INC-1), due 2027-01-15.");
    assert_last_change(w, ACH_REOPENED, "carol", NULL);

    get(w, &a);
    assert_int_equal(a.status, ACTION_OPEN);
    assert_int_equal(a.completed_at, 0);
    assert_null(a.completed_by);
    assert_string_equal(a.assignee, "carol");
    assert_string_equal(a.due_date, "2027-01-15");
    assert_string_equal(a.snoozed_until, "2026-11-20");
    assert_true(a.has_last);
    assert_int_equal(a.last.what, ACH_REOPENED);
    store_action_clear(&a);

    n = history(w, &h);
    assert_int_equal(n, 6);
    assert_int_equal(h[0].what, ACH_CREATED);
    assert_int_equal(h[0].at, T0);
    assert_int_equal(h[1].at, T0 + DAY);
    store_action_history_free(h, n);
}

static void
commands__refusals_say_why_and_change_nothing(void **state)
{
    static const struct {
        const char *user, *text, *said;
    } cases[] = {
        {"bob", "/pm done", "Usage: /pm done <ACT-n>"},
        {"bob", "/pm done XYZ", "XYZ is not an action id"},
        {"bob", "/pm done ACT-", "not an action id"},
        {"bob", "/pm done ACT-9", "There is no ACT-9."},
        {"bob", "/pm done ACT-1 now", "Usage: /pm done <ACT-n>"},
        {"bob", "/pm reopen ACT-1", "ACT-1 is open already."},
        {"bob", "/pm reassign ACT-1", "Usage: /pm reassign <ACT-n> @user"},
        {"bob", "/pm reassign ACT-1 @bob", "ACT-1 is already assigned to @bob."},
        {"bob", "/pm reassign ACT-1 carol", "mention the new assignee"},
        {"bob", "/pm reassign ACT-9 @carol", "There is no ACT-9."},
        {"bob", "/pm due ACT-1 2026-10-31", "already past"},
        {"bob", "/pm due ACT-1 2026-02-30", "not a real calendar date"},
        {"bob", "/pm due ACT-1 tomorrow", "not a real calendar date"},
        {"bob", "/pm due ACT-1 2026-12-01", "ACT-1 is already due 2026-12-01."},
        {"bob", "/pm snooze ACT-1 1x", "snooze for 1w, 2w, 3d"},
        {"bob", "/pm snooze ACT-1 2026-11-01", "not in the future"},
    };
    struct world *w = *state;
    struct action a;

    incident(w);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        say(w, cases[i].user, cases[i].text);
        if (!strstr(last(w), cases[i].said))
            fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].text, last(w),
                     cases[i].said);
        assert_int_equal(nhistory(w), 1);
    }
    get(w, &a);
    assert_int_equal(a.status, ACTION_OPEN);
    assert_string_equal(a.assignee, "bob");
    assert_string_equal(a.due_date, "2026-12-01");
    assert_null(a.snoozed_until);
    store_action_clear(&a);

    /* done twice; a done action is reopened before it is changed */
    say(w, "bob", "/pm done ACT-1");
    assert_said(w, "ACT-1 done");
    say(w, "bob", "/pm done 1");
    assert_said(w, "ACT-1 was already done.");
    say(w, "bob", "/pm due ACT-1 2026-12-24");
    assert_said(w, "ACT-1 is unchanged: it is done; reopen it first.");
    say(w, "bob", "/pm reassign ACT-1 @carol");
    assert_said(w, "reopen it first");
    say(w, "bob", "/pm snooze ACT-1 1w");
    assert_said(w, "reopen it first");
    assert_int_equal(nhistory(w), 2);
    say(w, "bob", "/pm snooze ACT-1 1w x");
    assert_said(w, "Usage: /pm snooze");
}

/* --- answers in a DM --- */

static void
dm__bare_words_answer_in_place(void **state)
{
    struct world *w = *state;
    struct action a;

    incident(w);
    dm(w, "bob", "snooze ACT-1 1w");
    assert_said(w, "ACT-1 snoozed until 2026-11-08");
    assert_last_change(w, ACH_SNOOZED, "bob", "2026-11-08");
    dm(w, "bob", "snooze ACT-1 2w");
    assert_last_change(w, ACH_SNOOZED, "bob", "2026-11-15");
    dm(w, "bob", "due ACT-1 2027-01-15");
    assert_said(w, "ACT-1 is now due 2027-01-15");
    assert_last_change(w, ACH_DUE, "bob", "2027-01-15");
    dm(w, "bob", "done ACT-1");
    assert_said(w, "ACT-1 done");
    dm(w, "bob", "done ACT-1");
    assert_said(w, "already done");
    dm(w, "bob", "reopen ACT-1");
    assert_said(w, "ACT-1 reopened");
    dm(w, "bob", "reassign ACT-1 @carol");
    assert_said(w, "ACT-1 reassigned to @carol");
    assert_last_change(w, ACH_REASSIGNED, "bob", "carol");
    dm(w, "bob", "snooze ACT-1 1w"); /* no longer bob's */
    assert_said(w, "Only ACT-1's assignee @carol");
    dm(w, "carol", "snooze ACT-1 soon");
    assert_said(w, "snooze for 1w, 2w, 3d");
    dm(w, "carol", "snooze ACT-7 1w");
    assert_said(w, "There is no ACT-7.");
    dm(w, "carol", "finished ACT-1");
    assert_said(w, "snooze ACT-<n> 1w");
    assert_int_equal(nhistory(w), 7);
    get(w, &a);
    assert_string_equal(a.snoozed_until, "2026-11-15");
    store_action_clear(&a);
}

/* --- the store --- */

static void
store__every_creation_is_history_and_no_change_writes_none(void **state)
{
    struct world *w = *state;
    struct store *s = w->b->core.store;
    struct action a = {0};
    int64_t id;

    incident(w);
    a.incident_id = 1;
    a.text = "Page the DBA";
    a.assignee = "dave";
    a.due_date = "2026-12-02";
    a.created_by = "review";
    a.created_at = T0 + 5;
    assert_int_equal(store_action_add(s, &a, &id), BOT_OK);
    assert_int_equal(id, 2);
    assert_int_equal(store_action_get(s, 2, &a), BOT_OK);
    assert_true(a.has_last);
    assert_int_equal(a.last.what, ACH_CREATED);
    assert_string_equal(a.last.by, "review");
    assert_int_equal(a.last.at, T0 + 5);
    store_action_clear(&a);
    assert_int_equal(store_action_change(s, 9, ACH_DONE, T0, "x", NULL),
                     BOT_ENOTFOUND);
    assert_int_equal(store_action_change(s, 1, ACH_REASSIGNED, T0, "x",
                                         "bob"),
                     BOT_EEXIST);
    assert_int_equal(store_action_change(s, 1, ACH_DUE, T0, "x", NULL),
                     BOT_EINVAL);
    assert_int_equal(store_action_change(s, 1, ACH_CREATED, T0, "x", NULL),
                     BOT_EINVAL);
    assert_int_equal(nhistory(w), 1);
    assert_string_equal(store_action_what_name(ACH_SNOOZED), "snoozed");
}

/* --- the report --- */

static char *
document(struct world *w, int fmt)
{
    struct strbuf sb;

    strbuf_init(&sb, 0);
    assert_int_equal(report_render(w->b->core.store, 1, fmt,
                                   w->b->core.fixed_now, &sb),
                     BOT_OK);
    return strbuf_steal(&sb);
}

static void
report__actions_show_their_last_change(void **state)
{
    struct world *w = *state;
    char *md, *html;

    incident(w);
    say(w, "alice", "/pm action Rotate the keys @carol 2026-12-10");
    say(w, "alice", "/pm action Write the runbook @dave 2026-12-11");
    w->b->core.fixed_now += 19 * DAY;
    say(w, "bob", "/pm reassign ACT-1 @carol");
    w->b->core.fixed_now += DAY;
    say(w, "carol", "/pm done ACT-2");
    md = document(w, REPORT_MD);
    if (!strstr(md, "| Status | Last Change |"))
        fail_msg("%s", md);
    assert_non_null(strstr(md, "| reassigned to @carol by @bob, 2026-11-20 |"));
    assert_non_null(strstr(md, "| done by @carol, 2026-11-21 |"));
    assert_non_null(strstr(md, "| created by @alice, 2026-11-01 |"));
    html = document(w, REPORT_HTML);
    assert_non_null(strstr(html, "Last Change"));
    assert_non_null(strstr(html, "reassigned to @carol by @bob, 2026-11-20"));
    bot_free(md);
    bot_free(html);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(snooze__weeks_days_and_dates),
        cmocka_unit_test(snooze__bad_words_are_refused_with_a_reason),
        cmocka_unit_test(admins__comma_separated_ids),
        cmocka_unit_test_setup_teardown(
            permissions__someone_else_is_told_who_can_and_nothing_changes,
            setup, teardown),
        cmocka_unit_test_setup_teardown(
            permissions__assignee_commander_and_admin_may, setup, teardown),
        cmocka_unit_test_setup_teardown(
            commands__each_confirms_and_leaves_its_history, setup, teardown),
        cmocka_unit_test_setup_teardown(
            commands__refusals_say_why_and_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(dm__bare_words_answer_in_place, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            store__every_creation_is_history_and_no_change_writes_none, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            report__actions_show_their_last_change, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
