/*
 * test_commands.c - chat commands and timeline events, end to end through
 * bot_dispatch() with the recording fake platform and a :memory: database.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "alarm.h"
#include "bot.h"
#include "command.h"
#include "config.h"
#include "err.h"
#include "fake_platform.h"
#include "incident.h"
#include "loop.h"
#include "mem.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

#define T0 1793507880000LL /* 2026-11-01T04:38:00Z */

struct world {
    struct config cfg;
    struct bot *b;
    struct chat_platform *p;
};

static int
setup(void **state)
{
    struct world *w = calloc(1, sizeof(*w));

    assert_int_equal(config_defaults(&w->cfg), BOT_OK);
    bot_free(w->cfg.database);
    w->cfg.database = bot_strdup(":memory:");
    assert_int_equal(bot_new(&w->cfg, NULL, &w->b, NULL), BOT_OK);
    w->p = fake_platform_new();
    bot_set_platform(w->b, w->p);
    w->b->core.fixed_now = T0;
    bot_start(w->b);
    *state = w;
    return 0;
}

static int
teardown(void **state)
{
    struct world *w = *state;

    bot_destroy(w->b);
    config_cleanup(&w->cfg);
    free(w);
    return 0;
}

static void
say(struct world *w, const char *room, const char *text)
{
    struct chat_event ev = {0};

    ev.kind = CHAT_EV_MESSAGE;
    ev.room = room;
    ev.user = "alice";
    ev.text = text;
    ev.at = w->b->core.fixed_now;
    bot_dispatch(w->b, &ev, NULL, NULL);
}

static size_t
count_timeline(struct world *w, int64_t id)
{
    struct timeline_entry *tl;
    size_t n;

    assert_int_equal(store_timeline_list(w->b->core.store, id, &tl, &n), BOT_OK);
    store_timeline_list_free(tl, n);
    return n;
}

static size_t
count_actions(struct world *w)
{
    struct action *a;
    size_t n;

    assert_int_equal(store_action_list(w->b->core.store, 0, 1, &a, &n), BOT_OK);
    store_action_list_free(a, n);
    return n;
}

/* start - declare "Database down" from #general; its channel is "C1" */
static void
start(struct world *w)
{
    say(w, "general", "/incident start sev1 Database down");
}

static void
command_is_command__only_our_groups(void **state)
{
    (void)state;
    assert_true(command_is_command("/incident start x"));
    assert_true(command_is_command("!pm help"));
    assert_true(command_is_command("/pm"));
    assert_false(command_is_command("/me waves"));
    assert_false(command_is_command("incident start x"));
    assert_false(command_is_command("!incidents"));
    assert_false(command_is_command(""));
}

static int
parse_at(void *ctx, const char *token, char **user)
{
    (void)ctx;
    if (token[0] != '@')
        return BOT_EINVAL;
    *user = bot_strdup(token + 1);
    return BOT_OK;
}

static void
command_split_action__accepts_and_refuses(void **state)
{
    char *t, *u, *d;
    const char *why = NULL;

    (void)state;
    assert_int_equal(action_split("Add replica lag alert @bob "
                                          "2026-11-15",
                                          parse_at, NULL, &t, &u, &d, &why),
                     BOT_OK);
    assert_string_equal(t, "Add replica lag alert");
    assert_string_equal(u, "bob");
    assert_string_equal(d, "2026-11-15");
    bot_free(t);
    bot_free(u);
    bot_free(d);

    /* the date may come before the assignee */
    assert_int_equal(action_split("Rotate keys 2026-12-01 @carol",
                                          parse_at, NULL, &t, &u, &d, &why),
                     BOT_OK);
    assert_string_equal(t, "Rotate keys");
    assert_string_equal(u, "carol");
    bot_free(t);
    bot_free(u);
    bot_free(d);

    assert_int_equal(action_split("Fix it 2026-12-01", parse_at, NULL,
                                          &t, &u, &d, &why),
                     BOT_EINVAL);
    assert_non_null(strstr(why, "assignee"));
    assert_int_equal(action_split("Fix it @bob 2026-02-30", parse_at,
                                          NULL, &t, &u, &d, &why),
                     BOT_EINVAL);
    assert_non_null(strstr(why, "calendar date"));
    assert_int_equal(action_split("Fix it @bob soon", parse_at, NULL,
                                          &t, &u, &d, &why),
                     BOT_EINVAL);
    assert_non_null(strstr(why, "target date"));
    assert_int_equal(action_split("@bob 2026-12-01", parse_at, NULL,
                                          &t, &u, &d, &why),
                     BOT_EINVAL);
    assert_null(t);
}

static void
incident_start__opens_channel_and_starts_timeline(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);
    struct incident in;

    start(w);
    assert_int_equal(f->nrooms, 1);
    assert_string_equal(f->rooms[0], "inc-20261101-database-down");
    assert_int_equal(store_incident_get(w->b->core.store, 1, &in), BOT_OK);
    assert_int_equal(in.severity, 1);
    assert_string_equal(in.channel, "C1");
    assert_string_equal(in.declared_by, "alice");
    assert_int_equal(count_timeline(w, 1), 2); /* declared, channel open */
    assert_int_equal(f->ninvites, 1);
    assert_int_equal(f->npins, 1);
    assert_int_equal(f->ntopics, 1);
    store_incident_clear(&in);
}

static void
incident_start__takes_a_suffix_when_the_name_is_taken(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);

    f->taken_names = 2;
    start(w);
    assert_int_equal(f->nrooms, 1);
    assert_string_equal(f->rooms[0], "inc-20261101-database-down-3");
    /* a second incident of the same name skips names already in the db */
    start(w);
    assert_string_equal(f->rooms[1], "inc-20261101-database-down");
    start(w);
    assert_string_equal(f->rooms[2], "inc-20261101-database-down-2");
}

static void
incident_start__empty_title_changes_nothing(void **state)
{
    struct world *w = *state;
    struct incident *list;
    size_t n;

    say(w, "general", "/incident start sev1");
    say(w, "general", "/incident start    ");
    assert_int_equal(store_incident_list(w->b->core.store, 0, 0, &list, &n),
                     BOT_OK);
    /* "sev1" alone is taken as the title; blank is refused */
    assert_int_equal(n, 1);
    assert_string_equal(list[0].title, "sev1");
    store_incident_list_free(list, n);
    assert_non_null(strstr(fake_last_post(w->p), "Usage"));
}

static void
incident_sev__outside_an_incident_is_refused(void **state)
{
    struct world *w = *state;

    start(w);
    say(w, "general", "/incident sev 0");
    assert_non_null(strstr(fake_last_post(w->p), "incident channel"));
    say(w, "C1", "/incident sev 7");
    assert_non_null(strstr(fake_last_post(w->p), "0 (worst) to 4"));
    assert_int_equal(count_timeline(w, 1), 2);
    say(w, "C1", "/incident sev 0");
    assert_non_null(strstr(fake_last_post(w->p), "now SEV0 (was SEV1)"));
    assert_int_equal(count_timeline(w, 1), 3);
}

/* a command spread over lines (Slack allows it) is answered: word
 * splitting once stopped on a newline and never moved on (fuzz_commands) */
static void
commands__arguments_over_lines_are_answered(void **state)
{
    struct world *w = *state;
    size_t posts;

    start(w);
    posts = fake_of(w->p)->nposts;
    say(w, "C1", "/incident note first line\nsecond line");
    assert_int_equal(count_timeline(w, 1), 3);
    say(w, "C1", "/pm action Fix the alert\n@bob\n2026-12-05");
    assert_int_equal(count_actions(w), 1);
    posts = fake_of(w->p)->nposts;
    say(w, "C1", "/pm action a\vb");
    assert_true(fake_of(w->p)->nposts > posts); /* answered, not hung */
}

static void
incident_at__backfills_on_the_incident_day(void **state)
{
    struct world *w = *state;
    struct timeline_entry *tl;
    size_t n;

    start(w);
    say(w, "C1", "/incident at 03:55 first page ignored");
    say(w, "C1", "/incident at 25:00 nope");
    say(w, "C1", "/incident at 23:00 in the future");
    assert_int_equal(store_timeline_list(w->b->core.store, 1, &tl, &n), BOT_OK);
    assert_int_equal(n, 3);
    assert_string_equal(tl[0].text, "first page ignored");
    assert_int_equal(tl[0].kind, TIMELINE_BACKFILL);
    assert_int_equal(tl[0].at, T0 - 43 * 60000); /* 03:55 that day */
    store_timeline_list_free(tl, n);
}

static void
pm_action__refused_without_assignee_or_real_date(void **state)
{
    struct world *w = *state;

    start(w);
    say(w, "C1", "/pm action Fix it 2026-12-01");
    assert_non_null(strstr(fake_last_post(w->p), "assignee"));
    say(w, "C1", "/pm action Fix it @bob 2026-02-30");
    assert_non_null(strstr(fake_last_post(w->p), "calendar date"));
    say(w, "general", "/pm action Fix it @bob 2026-12-01");
    assert_non_null(strstr(fake_last_post(w->p), "incident channel"));
    assert_int_equal(count_actions(w), 0);

    say(w, "C1", "/pm action Fix it @bob 2026-12-01");
    assert_non_null(strstr(fake_last_post(w->p), "ACT-1 added"));
    assert_int_equal(count_actions(w), 1);
    say(w, "general", "/pm done ACT-1");
    assert_non_null(strstr(fake_last_post(w->p), "ACT-1 done"));
    say(w, "general", "/pm done 1");
    assert_non_null(strstr(fake_last_post(w->p), "already done"));
    say(w, "general", "/pm done ACT-9");
    assert_non_null(strstr(fake_last_post(w->p), "no ACT-9"));
}

static void
incident_resolve__twice_is_refused(void **state)
{
    struct world *w = *state;

    start(w);
    w->b->core.fixed_now += 2 * 3600 * 1000 + 12 * 60000;
    say(w, "C1", "/incident resolve");
    assert_non_null(strstr(fake_last_post(w->p), "resolved after 2h 12m"));
    say(w, "C1", "/incident resolve");
    assert_non_null(strstr(fake_last_post(w->p), "already resolved"));
    assert_int_equal(count_timeline(w, 1), 3);
}

static void
commands__unknown_and_help(void **state)
{
    struct world *w = *state;

    say(w, "general", "/pm frobnicate");
    assert_non_null(strstr(fake_last_post(w->p), "Unknown command /pm "
                                                 "frobnicate"));
    say(w, "general", "!pm help");
    assert_non_null(strstr(fake_last_post(w->p), "!pm action <text> @user"));
    say(w, "general", "/pm start");
    assert_non_null(strstr(fake_last_post(w->p), "incident channel"));
}

static void
pm_report__uploads_the_document(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);

    start(w);
    say(w, "C1", "/pm report");
    assert_int_equal(f->nuploads, 1);
    assert_non_null(strstr(f->last_upload, "## 1. Incident Timeline"));
    say(w, "general", "/pm report INC-1");
    assert_int_equal(f->nuploads, 2);
    say(w, "general", "/pm report INC-7");
    assert_non_null(strstr(fake_last_post(w->p), "no incident INC-7"));
    assert_int_equal(f->nuploads, 2);
}

/* react_by - a reaction by user; react - by bob */
static void
react_by(struct world *w, int kind, const char *user, const char *room,
         const char *msg, const char *emoji, const char *event_id,
         chat_done_fn *done, void *arg)
{
    struct chat_event ev = {0};

    ev.kind = kind;
    ev.room = room;
    ev.user = user;
    ev.msg_id = msg;
    ev.reaction = emoji;
    ev.event_id = event_id;
    bot_dispatch(w->b, &ev, done, arg);
}

static void
react(struct world *w, int kind, const char *room, const char *msg,
      const char *emoji, const char *event_id, chat_done_fn *done, void *arg)
{
    react_by(w, kind, "bob", room, msg, emoji, event_id, done, arg);
}

static void
reaction__tags_at_the_message_time_once(void **state)
{
    struct world *w = *state;
    struct timeline_entry *tl;
    size_t n;

    start(w);
    fake_platform_add_message(w->p, "C1", "100.1", "carol", "lag is 300s",
                              T0 - 3600 * 1000);
    react(w, CHAT_EV_REACTION_ADDED, "C1", "100.1", "pushpin", "Ev1", NULL,
          NULL);
    react(w, CHAT_EV_REACTION_ADDED, "C1", "100.1", "pushpin", "Ev2", NULL,
          NULL);
    react(w, CHAT_EV_REACTION_ADDED, "C1", "100.1", "thumbsup", "Ev3", NULL,
          NULL);
    react(w, CHAT_EV_REACTION_ADDED, "general", "100.1", "pushpin", "Ev4",
          NULL, NULL);
    assert_int_equal(store_timeline_list(w->b->core.store, 1, &tl, &n), BOT_OK);
    assert_int_equal(n, 3);
    assert_string_equal(tl[0].text, "lag is 300s");
    assert_int_equal(tl[0].at, T0 - 3600 * 1000);
    assert_int_equal(tl[0].kind, TIMELINE_TAGGED);
    store_timeline_list_free(tl, n);

    /* a redelivered removal has no second effect; a new tag after it does */
    react(w, CHAT_EV_REACTION_REMOVED, "C1", "100.1", "pushpin", "Ev5", NULL,
          NULL);
    assert_int_equal(count_timeline(w, 1), 2);
    react(w, CHAT_EV_REACTION_ADDED, "C1", "100.1", ":pushpin:", "Ev6", NULL,
          NULL);
    assert_int_equal(count_timeline(w, 1), 3);
    react(w, CHAT_EV_REACTION_REMOVED, "C1", "100.1", "pushpin", "Ev5", NULL,
          NULL);
    assert_int_equal(count_timeline(w, 1), 3);
}

static void
on_done(void *arg, int rc)
{
    int *calls = arg;

    assert_int_equal(rc, BOT_OK);
    (*calls)++;
}

static void
reaction__acknowledged_only_after_commit(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);
    int calls = 0;

    start(w);
    fake_platform_add_message(w->p, "C1", "7.7", "carol", "db restarted", T0);
    f->fetch_defer = 1;
    react(w, CHAT_EV_REACTION_ADDED, "C1", "7.7", "pushpin", "Ev1", on_done,
          &calls);
    assert_int_equal(calls, 0); /* the fetch is still under way */
    assert_int_equal(count_timeline(w, 1), 2);
    fake_platform_fire(w->p);
    assert_int_equal(calls, 1);
    assert_int_equal(count_timeline(w, 1), 3);
}

static void
reaction__removed_while_fetching_never_lands(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);
    int calls = 0;

    start(w);
    fake_platform_add_message(w->p, "C1", "8.8", "carol", "old news", T0);
    f->fetch_defer = 1;
    react(w, CHAT_EV_REACTION_ADDED, "C1", "8.8", "pushpin", "Ev1", on_done,
          &calls);
    react(w, CHAT_EV_REACTION_REMOVED, "C1", "8.8", "pushpin", "Ev2", NULL,
          NULL);
    fake_platform_fire(w->p);
    assert_int_equal(calls, 1);             /* acked all the same */
    assert_int_equal(count_timeline(w, 1), 2); /* but nothing tagged */
}

/* react_as - user's 📌 on message 7.7 of C1 */
static void
react_as(struct world *w, int kind, const char *user, const char *event_id)
{
    react_by(w, kind, user, "C1", "7.7", "pushpin", event_id, NULL, NULL);
}

static void
reaction__redelivered_costs_no_second_fetch(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);

    start(w);
    fake_platform_add_message(w->p, "C1", "7.7", "carol", "disk full", T0);
    react_as(w, CHAT_EV_REACTION_ADDED, "alice", "Ev1");
    assert_int_equal(f->nfetches, 1);
    /* the fetched message is kept: bob's 📌 needs no fetch either */
    react_as(w, CHAT_EV_REACTION_ADDED, "bob", "Ev2");
    react_as(w, CHAT_EV_REACTION_ADDED, "alice", "Ev1"); /* redelivered */
    assert_int_equal(f->nfetches, 1);
    assert_int_equal(count_timeline(w, 1), 3);
    /* an unseen message's redelivered 📌: known event, no fetch */
    fake_platform_add_message(w->p, "C1", "8.8", "carol", "fixed", T0);
    react_by(w, CHAT_EV_REACTION_ADDED, "bob", "C1", "8.8", "pushpin", "Ev3",
             NULL, NULL);
    assert_int_equal(f->nfetches, 2);
    assert_int_equal(store_message_remove(w->b->core.store, "fake", "C1", "8.8"),
                     BOT_OK); /* as if it had never been kept */
    react_by(w, CHAT_EV_REACTION_ADDED, "bob", "C1", "8.8", "pushpin", "Ev3",
             NULL, NULL);
    assert_int_equal(f->nfetches, 2);
    assert_int_equal(count_timeline(w, 1), 4);
}

static void
reaction__entry_stays_while_any_pin_remains(void **state)
{
    struct world *w = *state;

    start(w);
    fake_platform_add_message(w->p, "C1", "7.7", "carol", "disk full", T0);
    react_as(w, CHAT_EV_REACTION_ADDED, "alice", "Ev1");
    react_as(w, CHAT_EV_REACTION_ADDED, "bob", "Ev2");
    react_as(w, CHAT_EV_REACTION_ADDED, "bob", "Ev3"); /* bob again: once */
    assert_int_equal(count_timeline(w, 1), 3);
    react_as(w, CHAT_EV_REACTION_REMOVED, "bob", "Ev4");
    assert_int_equal(count_timeline(w, 1), 3); /* alice's 📌 is still on */
    react_as(w, CHAT_EV_REACTION_REMOVED, "carol", "Ev5"); /* never pinned */
    assert_int_equal(count_timeline(w, 1), 3);
    react_as(w, CHAT_EV_REACTION_REMOVED, "alice", "Ev6");
    assert_int_equal(count_timeline(w, 1), 2); /* the last one: gone */
    react_as(w, CHAT_EV_REACTION_ADDED, "bob", "Ev7");
    assert_int_equal(count_timeline(w, 1), 3); /* and back */
}

static void
reaction__removed_by_another_while_fetching_still_lands(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);

    start(w);
    fake_platform_add_message(w->p, "C1", "7.7", "carol", "disk full", T0);
    f->fetch_defer = 1;
    react_as(w, CHAT_EV_REACTION_ADDED, "alice", "Ev1");
    /* bob takes off a 📌 of his own: alice's tag is not his to cancel */
    react_as(w, CHAT_EV_REACTION_REMOVED, "bob", "Ev2");
    f->fetch_defer = 0;
    fake_platform_fire(w->p);
    assert_int_equal(count_timeline(w, 1), 3);
    /* alice's own removal while her fetch runs does cancel it */
    react_as(w, CHAT_EV_REACTION_REMOVED, "alice", "Ev3");
    assert_int_equal(count_timeline(w, 1), 2);
    f->fetch_defer = 1;
    react_as(w, CHAT_EV_REACTION_ADDED, "alice", "Ev4");
    react_as(w, CHAT_EV_REACTION_REMOVED, "alice", "Ev5");
    f->fetch_defer = 0;
    fake_platform_fire(w->p);
    assert_int_equal(count_timeline(w, 1), 2);
}

static void
message_changed_and_deleted__follow_the_tagged_entry(void **state)
{
    struct world *w = *state;
    struct chat_event ev = {0};
    struct timeline_entry *tl;
    size_t n;

    start(w);
    fake_platform_add_message(w->p, "C1", "5.5", "carol", "v1", T0);
    react(w, CHAT_EV_REACTION_ADDED, "C1", "5.5", "pushpin", NULL, NULL,
          NULL);
    ev.kind = CHAT_EV_MESSAGE_CHANGED;
    ev.room = "C1";
    ev.msg_id = "5.5";
    ev.text = "v2 | with a pipe";
    bot_dispatch(w->b, &ev, NULL, NULL);
    assert_int_equal(store_timeline_list(w->b->core.store, 1, &tl, &n), BOT_OK);
    assert_string_equal(tl[2].text, "v2 | with a pipe");
    store_timeline_list_free(tl, n);
    ev.kind = CHAT_EV_MESSAGE_DELETED;
    ev.text = NULL;
    bot_dispatch(w->b, &ev, NULL, NULL);
    assert_int_equal(count_timeline(w, 1), 2);
}

static void
bot_start__opens_channels_a_crash_left_unopened(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);
    struct incident in = {0};
    int64_t id;

    in.title = "left behind";
    in.severity = 2;
    in.platform = "fake";
    in.declared_at = T0;
    assert_int_equal(store_incident_insert(w->b->core.store, &in, &id), BOT_OK);
    bot_start(w->b);
    bot_start(w->b); /* idempotent: it has its channel now */
    assert_int_equal(f->nrooms, 1);
    assert_string_equal(f->rooms[0], "inc-20261101-left-behind");
}

static void
commands__redelivered_command_runs_once(void **state)
{
    struct world *w = *state;
    struct chat_event ev = {0};
    struct incident *list;
    size_t n;

    ev.kind = CHAT_EV_COMMAND;
    ev.room = "general";
    ev.user = "alice";
    ev.text = "incident start Twice";
    ev.event_id = "cmd-1";
    bot_dispatch(w->b, &ev, NULL, NULL);
    bot_dispatch(w->b, &ev, NULL, NULL);
    assert_int_equal(store_incident_list(w->b->core.store, 0, 0, &list, &n),
                     BOT_OK);
    assert_int_equal(n, 1);
    store_incident_list_free(list, n);
}

static void
group_commit__a_refused_command_keeps_the_others_replies(void **state)
{
    struct config cfg;
    struct loop *loop;
    struct bot *b;
    struct chat_platform *p = fake_platform_new();
    struct fake_platform *f = fake_of(p);
    struct chat_event ev = {0};
    int calls = 0, declared = 0;

    (void)state;
    assert_int_equal(config_defaults(&cfg), BOT_OK);
    bot_free(cfg.database);
    cfg.database = bot_strdup(":memory:");
    assert_int_equal(loop_new(&loop), BOT_OK);
    assert_int_equal(bot_new(&cfg, loop, &b, NULL), BOT_OK);
    bot_set_platform(b, p);
    bot_set_group_commit(b, 1);
    bot_start(b);
    ev.kind = CHAT_EV_COMMAND;
    ev.room = "general";
    ev.user = "alice";

    /* one loop turn: a command that works, then one that is refused */
    ev.text = "incident start Grouped";
    ev.event_id = "c1";
    bot_dispatch(b, &ev, on_done, &calls);
    ev.text = "pm done ACT-99";
    ev.event_id = "c2";
    bot_dispatch(b, &ev, on_done, &calls);
    assert_int_equal(calls, 0); /* nothing acked before the commit */
    loop_run(loop);

    assert_int_equal(calls, 2);
    for (size_t i = 0; i < f->nposts; i++)
        declared += strstr(f->posts[i].text,
                           "declared; opening its channel") != NULL;
    assert_int_equal(declared, 1); /* the first command's reply survived */
    assert_non_null(strstr(f->posts[0].text, "no ACT-99"));
    assert_int_equal(f->nrooms, 1); /* and its channel opened */
    bot_destroy(b);
    loop_free(loop);
    config_cleanup(&cfg);
}

static void
incident_start__out_of_range_severity_is_refused(void **state)
{
    struct world *w = *state;
    struct incident *list;
    size_t n;

    say(w, "general", "/incident start sev9 x");
    assert_non_null(strstr(fake_last_post(w->p), "Severity is sev0"));
    say(w, "general", "/incident start SEV-1 Database down");
    assert_non_null(strstr(fake_last_post(w->p), "not SEV-1"));
    assert_int_equal(store_incident_list(w->b->core.store, 0, 0, &list, &n),
                     BOT_OK);
    assert_int_equal(n, 0);
    store_incident_list_free(list, n);
}

static void
commands__zero_width_text_is_empty(void **state)
{
    struct world *w = *state;
    struct incident *list;
    size_t n;

    /* ZWSP, ZWJ, word joiner, an RLO: nothing that shows */
    say(w, "general", "/incident start sev1 \xe2\x80\x8b\xe2\x80\x8d"
                      "\xe2\x81\xa0\xe2\x80\xae");
    assert_non_null(strstr(fake_last_post(w->p), "The title is empty"));
    assert_int_equal(store_incident_list(w->b->core.store, 0, 0, &list, &n),
                     BOT_OK);
    assert_int_equal(n, 0);
    store_incident_list_free(list, n);
    start(w);
    say(w, "C1", "/pm action \xe2\x80\x8d\xe2\x80\x8b @bob 2026-12-05");
    assert_non_null(strstr(fake_last_post(w->p), "text is empty"));
    assert_int_equal(count_actions(w), 0);
}

static void
commands__user_text_is_cleaned_before_it_is_kept(void **state)
{
    struct world *w = *state;
    struct timeline_entry *tl;
    struct action *acts;
    struct incident in;
    size_t n;

    /* an RLO, an escape sequence, a BEL and a C1 CSI in the title */
    say(w, "general", "/incident start sev1 DB \xe2\x80\xae" "down\x1b[2J"
                      "\x07\xc2\x9bx");
    assert_int_equal(store_incident_get(w->b->core.store, 1, &in), BOT_OK);
    assert_string_equal(in.title, "DB down[2Jx");
    store_incident_clear(&in);
    say(w, "C1", "!pm action \x1b]0;x\x07\x1b[2J Fix it @bob 2026-12-05");
    assert_int_equal(store_action_list(w->b->core.store, 0, 1, &acts, &n), BOT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(acts[0].text, "]0;x[2J Fix it");
    store_action_list_free(acts, n);
    /* a tagged message: what the timeline keeps is clean too */
    fake_platform_add_message(w->p, "C1", "m1", "bob",
                              "rolled \xe2\x81\xa6" "back\x1b[0m", T0);
    react(w, CHAT_EV_REACTION_ADDED, "C1", "m1", "pushpin", "Ev1", NULL,
          NULL);
    assert_int_equal(store_timeline_list(w->b->core.store, 1, &tl, &n), BOT_OK);
    for (size_t i = 0; i < n; i++) {
        if (tl[i].kind == TIMELINE_TAGGED)
            assert_string_equal(tl[i].text, "rolled back[0m");
    }
    assert_int_equal(n, 3);
    store_timeline_list_free(tl, n);
}

static void
incident_take_alarm__implausible_start_is_receipt_time(void **state)
{
    struct world *w = *state;
    struct alarm_item items[3] = {
        {.title = "Unset", .severity = -1, .starts_at = 1000},
        {.title = "Skewed", .severity = -1,
         .starts_at = T0 + 2 * 86400000LL},
        {.title = "Real", .severity = -1, .starts_at = T0 - 3600000},
    };
    struct alarm a = {.title = "DiskFull", .severity = -1,
                      .dedup_key = "k", .items = items, .nitems = 3};
    struct timeline_entry *tl;
    const char *status;
    int64_t id;
    size_t n;

    assert_int_equal(store_tx_begin(w->b->core.store), BOT_OK);
    assert_int_equal(incident_take_alarm(w->b->incidents, "fake", &a, 2, &id,
                                         &status),
                     BOT_OK);
    assert_int_equal(store_tx_commit(w->b->core.store), BOT_OK);
    assert_string_equal(status, "opened");
    assert_int_equal(store_timeline_list(w->b->core.store, id, &tl, &n), BOT_OK);
    for (size_t i = 0; i < n; i++) {
        if (strstr(tl[i].text, "Unset") || strstr(tl[i].text, "Skewed"))
            assert_int_equal(tl[i].at, T0);
        else if (strstr(tl[i].text, "Real"))
            assert_int_equal(tl[i].at, T0 - 3600000);
    }
    assert_true(n >= 3);
    store_timeline_list_free(tl, n);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(command_is_command__only_our_groups),
        cmocka_unit_test(command_split_action__accepts_and_refuses),
        T(incident_start__opens_channel_and_starts_timeline),
        T(incident_start__takes_a_suffix_when_the_name_is_taken),
        T(incident_start__empty_title_changes_nothing),
        T(incident_sev__outside_an_incident_is_refused),
        T(incident_start__out_of_range_severity_is_refused),
        T(commands__zero_width_text_is_empty),
        T(commands__user_text_is_cleaned_before_it_is_kept),
        T(incident_take_alarm__implausible_start_is_receipt_time),
        T(commands__arguments_over_lines_are_answered),
        T(incident_at__backfills_on_the_incident_day),
        T(pm_action__refused_without_assignee_or_real_date),
        T(incident_resolve__twice_is_refused),
        T(commands__unknown_and_help),
        T(pm_report__uploads_the_document),
        T(reaction__tags_at_the_message_time_once),
        T(reaction__acknowledged_only_after_commit),
        T(reaction__removed_while_fetching_never_lands),
        T(reaction__redelivered_costs_no_second_fetch),
        T(reaction__entry_stays_while_any_pin_remains),
        T(reaction__removed_by_another_while_fetching_still_lands),
        T(message_changed_and_deleted__follow_the_tagged_entry),
        T(bot_start__opens_channels_a_crash_left_unopened),
        T(commands__redelivered_command_runs_once),
        cmocka_unit_test(
            group_commit__a_refused_command_keeps_the_others_replies),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
