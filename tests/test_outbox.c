/*
 * test_outbox.c - the unit of work, the durable outbox and its fallbacks,
 * the scheduler's review clock, several platforms in one bot, and bare
 * words in a DM.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "alarm.h"
#include "bot.h"
#include "config.h"
#include "err.h"
#include "fake_platform.h"
#include "incident.h"
#include "mem.h"
#include "outbox.h"
#include "report.h"
#include "store.h"
#include "strbuf.h"
#include "unit.h"
#include "world.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1793507880000LL /* 2026-11-01T04:38:00Z */

/* the outbox's retry clock, moved by the tests */
static int64_t test_clock_ms = T0;

static int64_t
test_clock(void)
{
    return test_clock_ms;
}
#define HOUR (3600 * 1000LL)

/* open_world - the world's bot (again, after bot_destroy) with the
 * outbox's retry clock on the tests' */
static void
open_world(struct world *w, int start)
{
    world_open(w, 0);
    outbox_set_clock(w->b->core.outbox, test_clock);
    if (start)
        bot_start(w->b);
}

static int
setup(void **state)
{
    struct world *w = world_begin("outbox", T0, 0);

    outbox_set_clock(w->b->core.outbox, test_clock);
    bot_start(w->b);
    *state = w;
    return 0;
}

static int
teardown(void **state)
{
    world_end(*state);
    return 0;
}

/* Rows a unit writes: two posts in one room with a pin of the first. */
struct rows {
    struct bot *b;
    const char *room;
    int fail; /* the work fails after writing */
};

static int
write_rows(void *arg)
{
    struct rows *r = arg;
    struct chat_target to = {.room = r->room};
    struct chat_msg m;
    int64_t first;
    int rc;

    chat_msg_init(&m);
    chat_msg_text(&m, "first");
    rc = outbox_post(r->b->core.outbox, "fake", &to, &m, &first);
    chat_msg_cleanup(&m);
    if (!rc)
        rc = outbox_pin(r->b->core.outbox, "fake", r->room, first);
    chat_msg_init(&m);
    chat_msg_text(&m, "second");
    if (!rc)
        rc = outbox_post(r->b->core.outbox, "fake", &to, &m, NULL);
    chat_msg_cleanup(&m);
    return rc ? rc : r->fail;
}

static int
run_rows(struct world *w, const char *room, int fail)
{
    struct rows r = {w->b, room, fail};
    struct unit u = {0};

    u.fn = write_rows;
    u.arg = &r;
    return unit_run(w->b->core.units, &u, NULL);
}

/* pending - outbox rows not yet done */
static long
pending(struct world *w)
{
    long n = 0;

    assert_int_equal(store_outbox_count(w->b->core.store, &n), BOT_OK);
    return n;
}

static void
outbox__rolled_back_unit_leaves_no_row_and_sends_nothing(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);

    assert_int_equal(run_rows(w, "C1", BOT_EDB), BOT_EDB);
    assert_int_equal(f->nposts, 0);
    assert_int_equal(f->npins, 0);
    assert_int_equal(pending(w), 0);
}

static void
outbox__after_commit_in_order_and_a_pin_waits_for_its_post(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);

    assert_int_equal(run_rows(w, "C1", BOT_OK), BOT_OK);
    assert_int_equal(f->nposts, 2);
    assert_string_equal(f->posts[0].text, "first");
    assert_string_equal(f->posts[1].text, "second");
    assert_int_equal(f->npins, 1);
    /* each row carries its id as the idempotency key */
    assert_non_null(f->posts[0].key);
    assert_int_equal(strncmp(f->posts[0].key, "pmbot-", 6), 0);
    assert_string_not_equal(f->posts[0].key, f->posts[1].key);
    assert_int_equal(pending(w), 0); /* all marked done */
}

static void
outbox__transient_failure_backs_off_then_sends_once(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);

    f->fail_posts = 1; /* BOT_EIO: may work later */
    assert_int_equal(run_rows(w, "C1", BOT_OK), BOT_OK);
    assert_int_equal(f->nposts, 0);
    assert_int_equal(f->npins, 0); /* its lane waits: order is kept */
    assert_int_equal(pending(w), 3);
    outbox_kick(w->b->core.outbox); /* too early: backing off */
    assert_int_equal(f->nposts, 0);
    /* the retry's time is the outbox's clock, not PMBOT_NOW's: a frozen
     * bot clock must not freeze a backoff */
    w->b->core.fixed_now += 3600 * 1000;
    outbox_start(w->b->core.outbox); /* a pass, as the retry timer's */
    assert_int_equal(f->nposts, 0);
    test_clock_ms += 2000;
    outbox_start(w->b->core.outbox);
    assert_int_equal(f->nposts, 2);
    assert_string_equal(f->posts[0].text, "first");
    assert_int_equal(f->npins, 1);
    assert_int_equal(pending(w), 0);
}

static void
outbox__final_failure_is_not_retried(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);

    f->fail_posts = 1;
    f->fail_rc = BOT_EINVAL; /* channel_not_found and the like */
    assert_int_equal(run_rows(w, "C1", BOT_OK), BOT_OK);
    /* the first failed for good, so its pin has nothing to pin; the
     * second post still goes */
    assert_int_equal(f->nposts, 1);
    assert_string_equal(f->posts[0].text, "second");
    assert_int_equal(f->npins, 0);
    test_clock_ms += 3600 * 1000;
    outbox_start(w->b->core.outbox);
    assert_int_equal(f->nposts, 1);
    assert_int_equal(pending(w), 0);
}

static void
outbox__a_private_reply_becomes_a_dm_without_ephemeral(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);
    struct chat_target to = {.room = "C1", .user = "alice",
                             .flags = CHAT_POST_EPHEMERAL};
    struct chat_msg m;

    chat_msg_init(&m);
    chat_msg_text(&m, "only you");
    outbox_send_now(w->b->core.outbox, w->p, &to, &m);
    assert_int_equal(f->nposts, 1);
    assert_string_equal(f->posts[0].room, "C1");
    assert_int_equal(f->posts[0].flags & CHAT_POST_EPHEMERAL,
                     CHAT_POST_EPHEMERAL);
    assert_string_equal(f->posts[0].user, "alice");
    assert_int_equal(f->ndms, 0);

    f->ops.caps &= ~(unsigned)CHAT_CAN_EPHEMERAL; /* Matrix has none */
    outbox_send_now(w->b->core.outbox, w->p, &to, &m);
    chat_msg_cleanup(&m);
    assert_int_equal(f->ndms, 1);
    assert_int_equal(f->nposts, 2);
    assert_string_equal(f->posts[1].room, "D-alice");
    assert_int_equal(f->posts[1].flags & CHAT_POST_EPHEMERAL, 0);
}

static void
outbox__a_thread_is_the_room_without_threads(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);
    struct chat_target to = {.room = "C1", .thread_id = "t1"};
    struct chat_msg m;

    chat_msg_init(&m);
    chat_msg_text(&m, "in a thread");
    outbox_send_now(w->b->core.outbox, w->p, &to, &m);
    f->ops.caps &= ~(unsigned)CHAT_CAN_THREAD;
    outbox_send_now(w->b->core.outbox, w->p, &to, &m);
    chat_msg_cleanup(&m);
    assert_int_equal(f->nposts, 2);
    assert_string_equal(f->posts[0].thread, "t1");
    assert_null(f->posts[1].thread);
}

/* restart - close the bot as a crash would leave the database, open it
 * again (not started yet) */
static void
restart(struct world *w)
{
    bot_destroy(w->b);
    open_world(w, 0);
}

static void
outbox__rows_left_by_a_crash_are_sent_at_start(void **state)
{
    struct world *w = *state;

    restart(w); /* a bot that never starts performs nothing */
    assert_int_equal(run_rows(w, "C1", BOT_OK), BOT_OK);
    assert_int_equal(fake_of(w->p)->nposts, 0);
    assert_int_equal(pending(w), 3);
    restart(w);
    bot_start(w->b);
    assert_int_equal(fake_of(w->p)->nposts, 2);
    assert_string_equal(fake_of(w->p)->posts[0].text, "first");
    assert_int_equal(fake_of(w->p)->npins, 1);
    assert_int_equal(pending(w), 0);
    bot_start(w->b); /* again: nothing twice */
    assert_int_equal(fake_of(w->p)->nposts, 2);
}

static void
outbox__a_post_found_after_a_crash_is_not_sent_again(void **state)
{
    struct world *w = *state;
    struct fake_platform *f;
    char *msg_id = NULL;
    int st = 0;

    restart(w);
    assert_int_equal(run_rows(w, "C1", BOT_OK), BOT_OK);
    restart(w);
    f = fake_of(w->p);
    /* the crash came after the platform took row 1, before its mark */
    fake_platform_sent_before(w->p, "pmbot-1");
    bot_start(w->b);
    assert_int_equal(f->nfinds, 2); /* both posts were looked for */
    assert_int_equal(f->nposts, 1);
    assert_string_equal(f->posts[0].text, "second");
    assert_int_equal(f->npins, 1); /* the found message is pinned */
    assert_int_equal(store_outbox_result(w->b->core.store, 1, &msg_id, &st),
                     BOT_OK);
    assert_int_equal(st, 1);
    assert_string_equal(msg_id, "m-found");
    bot_free(msg_id);
    /* rows written after the start are new: no looking */
    assert_int_equal(run_rows(w, "C2", BOT_OK), BOT_OK);
    assert_int_equal(f->nfinds, 2);
    assert_int_equal(f->nposts, 3);
}

/* a parent post and a reply in its thread (outbox_reply), in one unit */
static int
write_thread(void *arg)
{
    struct bot *b = arg;
    struct chat_target to = {.room = "C1"};
    struct chat_msg m;
    int64_t parent;
    int rc;

    chat_msg_init(&m);
    chat_msg_text(&m, "parent");
    rc = outbox_post(b->core.outbox, "fake", &to, &m, &parent);
    chat_msg_cleanup(&m);
    chat_msg_init(&m);
    chat_msg_text(&m, "reply");
    if (!rc)
        rc = outbox_reply(b->core.outbox, "fake", "C1", parent, &m, NULL);
    chat_msg_cleanup(&m);
    return rc;
}

static void
outbox__a_reply_left_by_a_crash_is_looked_for_in_its_thread(void **state)
{
    struct world *w = *state;
    struct unit u = {.fn = write_thread};
    struct fake_platform *f;
    char *msg_id = NULL;
    int st = 0;

    /* the parent was sent and marked (m-parent); the reply was taken by
     * the platform, then the crash came before its mark */
    restart(w);
    u.arg = w->b;
    assert_int_equal(unit_run(w->b->core.units, &u, NULL), BOT_OK);
    assert_int_equal(store_outbox_done(w->b->core.store, 1, "m-parent", T0),
                     BOT_OK);
    restart(w);
    f = fake_of(w->p);
    fake_platform_sent_in_thread(w->p, "pmbot-2", "m-parent");
    bot_start(w->b);
    assert_int_equal(f->nfinds, 1);
    assert_non_null(f->last_find_thread);
    assert_string_equal(f->last_find_thread, "m-parent");
    assert_int_equal(f->nposts, 0); /* found there: not sent again */
    assert_int_equal(pending(w), 0);
    assert_int_equal(store_outbox_result(w->b->core.store, 2, &msg_id, &st),
                     BOT_OK);
    assert_int_equal(st, 1);
    assert_string_equal(msg_id, "m-found");
    bot_free(msg_id);
}

static void
outbox__a_reply_not_found_in_its_thread_is_sent_there(void **state)
{
    struct world *w = *state;
    struct unit u = {.fn = write_thread};
    struct fake_platform *f;
    char *msg_id = NULL;
    int st = 0;

    /* neither row was marked: the parent is looked for in the room, sent
     * (m1), then the reply in m1's thread, sent there */
    restart(w);
    u.arg = w->b;
    assert_int_equal(unit_run(w->b->core.units, &u, NULL), BOT_OK);
    restart(w);
    f = fake_of(w->p);
    fake_platform_sent_in_thread(w->p, "pmbot-2", "elsewhere");
    bot_start(w->b);
    assert_int_equal(f->nfinds, 2);
    assert_non_null(f->last_find_thread);
    assert_string_equal(f->last_find_thread, "m1");
    assert_int_equal(f->nposts, 2);
    assert_null(f->posts[0].thread);
    assert_string_equal(f->posts[1].text, "reply");
    assert_string_equal(f->posts[1].thread, "m1");
    /* the reply's own message, not its parent's, is what the row made */
    assert_int_equal(store_outbox_result(w->b->core.store, 2, &msg_id, &st),
                     BOT_OK);
    assert_int_equal(st, 1);
    assert_string_equal(msg_id, "m2");
    bot_free(msg_id);
}

static int msg_seq; /* say_as's message ids: "1", "2", ... */

static void
say_as(struct world *w, struct chat_platform *p, const char *user,
       const char *room, const char *text, int is_dm)
{
    struct chat_event ev = {0};
    int n = ++msg_seq;
    char id[32];

    snprintf(id, sizeof(id), "%d", n);
    ev.kind = CHAT_EV_MESSAGE;
    ev.platform = p;
    ev.room = room;
    ev.user = user;
    ev.msg_id = id;
    ev.text = text;
    ev.is_dm = is_dm;
    ev.at = bot_now_ms(w->b);
    bot_dispatch(w->b, &ev, NULL, NULL);
}

static void
say(struct world *w, struct chat_platform *p, const char *room,
    const char *text, int is_dm)
{
    struct chat_event ev = {0};

    ev.kind = CHAT_EV_MESSAGE;
    ev.platform = p;
    ev.room = room;
    ev.user = "alice";
    ev.text = text;
    ev.is_dm = is_dm;
    ev.at = bot_now_ms(w->b);
    bot_dispatch(w->b, &ev, NULL, NULL);
}

static void
platforms__each_incident_stays_on_its_platform(void **state)
{
    struct world *w = *state;
    struct chat_platform *q = fake_platform_new();
    struct fake_platform *f = fake_of(w->p), *g = fake_of(q);
    struct alarm a = {.title = "DiskFull", .severity = -1,
                      .dedup_key = "k"};
    struct incident one, two;
    const char *status;
    int64_t id;

    g->ops.name = "other";
    bot_set_platform(w->b, q);
    say(w, w->p, "general", "/incident start On the first", 0);
    say(w, q, "lobby", "/incident start On the second", 0);
    assert_int_equal(f->nrooms, 1);
    assert_int_equal(g->nrooms, 1);
    assert_string_equal(f->rooms[0], "inc-20261101-on-the-first");
    assert_string_equal(g->rooms[0], "inc-20261101-on-the-second");
    assert_int_equal(store_incident_get(w->b->core.store, 1, &one), BOT_OK);
    assert_int_equal(store_incident_get(w->b->core.store, 2, &two), BOT_OK);
    assert_string_equal(one.platform, "fake");
    assert_string_equal(two.platform, "other");
    store_incident_clear(&one);
    store_incident_clear(&two);
    /* the reply went where the command came from */
    assert_non_null(strstr(fake_last_post(q), "INC-2"));

    /* alarms open their channel on [pmbot] alarm_platform */
    w->b->alarm_platform = "other";
    assert_ptr_equal(bot_alarm_platform(w->b), q);
    assert_int_equal(store_tx_begin(w->b->core.store), BOT_OK);
    assert_int_equal(incident_take_alarm(w->b->incidents,
                                         bot_alarm_platform(w->b)->ops->name,
                                         &a, 2, &id, &status),
                     BOT_OK);
    assert_int_equal(store_tx_commit(w->b->core.store), BOT_OK);
    bot_start(w->b);
    assert_int_equal(f->nrooms, 1);
    assert_int_equal(g->nrooms, 2);
    w->b->alarm_platform = "absent"; /* not connected: the first */
    assert_ptr_equal(bot_alarm_platform(w->b), w->p);
}

static void
dm__bare_words_are_commands(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);
    struct action a;

    say(w, w->p, "general", "/incident start Database down", 0);
    say(w, w->p, "C1", "/pm action Add an alert @bob 2026-11-20", 0);
    say(w, w->p, "D-bob", "done ACT-1", 1);
    assert_int_equal(store_action_get(w->b->core.store, 1, &a), BOT_OK);
    assert_int_equal(a.status, ACTION_DONE);
    store_action_clear(&a);
    assert_string_equal(f->posts[f->nposts - 1].room, "D-bob");
    assert_non_null(strstr(fake_last_post(w->p), "ACT-1 done"));
    /* chatter in a DM is answered there, not ephemerally */
    say(w, w->p, "D-bob", "hello?", 1);
    assert_non_null(strstr(fake_last_post(w->p), "commands only"));
    assert_int_equal(f->posts[f->nposts - 1].flags, 0);
    say(w, w->p, "D-bob", "help", 1);
    assert_non_null(strstr(fake_last_post(w->p), "pm done <ACT-n>"));
}

static size_t
posts_with(struct fake_platform *f, const char *needle)
{
    size_t n = 0;

    for (size_t i = 0; i < f->nposts; i++)
        n += strstr(f->posts[i].text, needle) != NULL;
    return n;
}

static void
review_clock__each_reminder_once(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);
    struct strbuf dry;
    int ran;

    say(w, w->p, "general", "/incident start Database down", 0);
    say(w, w->p, "C1", "/incident resolve", 0);
    assert_non_null(strstr(fake_last_post(w->p), "by 2026-11-03 04:38 UTC"));
    /* nothing due yet */
    assert_int_equal(bot_remind(w->b, T0 + 23 * HOUR, NULL, &ran), BOT_OK);
    assert_int_equal(ran, 0);
    /* a dry run says what, and changes nothing */
    strbuf_init(&dry, 0);
    assert_int_equal(bot_remind(w->b, T0 + 25 * HOUR, &dry, &ran), BOT_OK);
    assert_int_equal(ran, 1);
    assert_non_null(strstr(strbuf_str(&dry), "in 23 hours"));
    assert_non_null(strstr(strbuf_str(&dry), "DM @alice"));
    strbuf_cleanup(&dry);
    assert_int_equal(posts_with(f, "is due by"), 0);
    /* the 24-hour mark: the channel and the declarer, once */
    assert_int_equal(bot_remind(w->b, T0 + 25 * HOUR, NULL, &ran), BOT_OK);
    assert_int_equal(ran, 1);
    assert_int_equal(posts_with(f, "in 23 hours"), 1);
    assert_int_equal(posts_with(f, "has not started: run it in"), 1);
    assert_int_equal(bot_remind(w->b, T0 + 26 * HOUR, NULL, &ran), BOT_OK);
    assert_int_equal(ran, 0);
    /* across a restart: the 47-hour one once */
    restart(w);
    bot_start(w->b);
    assert_int_equal(bot_remind(w->b, T0 + 47 * HOUR + HOUR / 2, NULL, &ran),
                     BOT_OK);
    assert_int_equal(ran, 1);
    assert_int_equal(posts_with(fake_of(w->p), "in 1 hour,"), 1);
    assert_int_equal(bot_remind(w->b, T0 + 51 * HOUR, NULL, &ran), BOT_OK);
    assert_int_equal(ran, 0);
}

static void
review_clock__late_says_it_once_and_never_after_the_deadline(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);
    int ran;

    say(w, w->p, "general", "/incident start Database down", 0);
    say(w, w->p, "C1", "/incident resolve", 0);
    /* pmbot was down through the 24-hour mark: the 47-hour one says it,
     * once (the channel and the DM), rather than both at once */
    assert_int_equal(bot_remind(w->b, T0 + 47 * HOUR + HOUR / 2, NULL, &ran),
                     BOT_OK);
    assert_int_equal(ran, 1);
    assert_int_equal(posts_with(f, "INC-1 (Database down) is due"), 2);
    assert_int_equal(posts_with(f, "in 1 hour,"), 1);
    /* down through both marks: after the 48 hours, nothing */
    w->b->core.fixed_now = T0 + 100 * HOUR;
    say(w, w->p, "general", "/incident start Cache down", 0);
    say(w, w->p, "C2", "/incident resolve", 0);
    assert_int_equal(bot_remind(w->b, T0 + 160 * HOUR, NULL, &ran), BOT_OK);
    assert_int_equal(ran, 0);
    assert_int_equal(posts_with(f, "INC-2 (Cache down) is due"), 0);
}

static void
review_clock__a_started_review_is_not_nagged(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);
    sqlite3 *db;
    int ran;

    say(w, w->p, "general", "/incident start Database down", 0);
    say(w, w->p, "C1", "/incident resolve", 0);
    /* an answer: the review has started (the review's own writer comes
     * with the review; another connection stands in for it) */
    assert_int_equal(sqlite3_open(w->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO answers VALUES (1, 'what', 1,"
                                  " 'it broke', 'alice', 0)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(bot_remind(w->b, T0 + 48 * HOUR, NULL, &ran), BOT_OK);
    assert_int_equal(ran, 0);
    assert_int_equal(posts_with(f, "is due by"), 0);
}


static void
sql(struct world *w, const char *q)
{
    sqlite3 *db;

    assert_int_equal(sqlite3_open(w->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 2000);
    assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static long
sql_long(struct world *w, const char *q)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    long v = -1;

    assert_int_equal(sqlite3_open(w->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void
outbox__nothing_is_sent_before_its_commit(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);
    struct chat_target to = {.room = "C1"};
    struct chat_msg m;

    /* a row of a transaction still open (a group commit's) */
    assert_int_equal(store_tx_begin(w->b->core.store), BOT_OK);
    chat_msg_init(&m);
    chat_msg_text(&m, "not yet");
    assert_int_equal(outbox_post(w->b->core.outbox, "fake", &to, &m, NULL),
                     BOT_OK);
    chat_msg_cleanup(&m);
    outbox_kick(w->b->core.outbox); /* a timer firing meanwhile */
    assert_int_equal(f->nposts, 0);
    store_tx_rollback(w->b->core.store);
    outbox_kick(w->b->core.outbox);
    assert_int_equal(f->nposts, 0); /* rolled back: never sent */
}

static void
outbox__a_mark_that_cannot_begin_is_retried_not_resent(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);
    sqlite3 *db;

    f->post_defer = 1;
    assert_int_equal(run_rows(w, "C1", BOT_OK), BOT_OK);
    assert_int_equal(f->nposts, 1);
    /* another process holds the write lock while the platform answers:
     * the mark's BEGIN gives up after the busy wait (about 5 s) */
    assert_int_equal(sqlite3_open(w->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
                     SQLITE_OK);
    fake_platform_answer(w->p);
    outbox_start(w->b->core.outbox);
    assert_int_equal(f->nposts, 1); /* its lane waits; nothing resent */
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    test_clock_ms += 2000;
    outbox_start(w->b->core.outbox);
    assert_int_equal(f->nposts, 2);
    assert_string_equal(f->posts[1].text, "second");
    assert_int_equal(f->npins, 1);
    assert_int_equal(pending(w), 0);
}

static void
outbox__a_mark_that_fails_never_sends_twice(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);

    /* the disk refuses the mark (a trigger stands in for it) */
    sql(w, "CREATE TRIGGER no_marks BEFORE UPDATE ON outbox"
           " BEGIN SELECT RAISE(FAIL, 'disk full'); END");
    assert_int_equal(run_rows(w, "C1", BOT_OK), BOT_OK);
    assert_int_equal(f->nposts, 1);
    outbox_start(w->b->core.outbox);
    outbox_start(w->b->core.outbox);
    assert_int_equal(f->nposts, 1); /* sent once; only the mark waits */
    sql(w, "DROP TRIGGER no_marks");
    test_clock_ms += 2000;
    outbox_start(w->b->core.outbox);
    assert_int_equal(f->nposts, 2);
    assert_string_equal(f->posts[0].text, "first");
    assert_string_equal(f->posts[1].text, "second");
    assert_int_equal(f->npins, 1);
    assert_int_equal(pending(w), 0);
}

/* many - a unit writing n posts in room */
struct many {
    struct bot *b;
    const char *platform, *room;
    int n;
};

static int
write_many(void *arg)
{
    struct many *m = arg;
    struct chat_target to = {.room = m->room};
    struct chat_msg msg;
    int rc = BOT_OK;

    for (int i = 0; !rc && i < m->n; i++) {
        chat_msg_init(&msg);
        chat_msg_text(&msg, "%s %d", m->room, i);
        rc = outbox_post(m->b->core.outbox, m->platform, &to, &msg, NULL);
        chat_msg_cleanup(&msg);
    }
    return rc;
}

static void
run_many(struct world *w, const char *platform, const char *room, int n)
{
    struct many m = {w->b, platform, room, n};
    struct unit u = {0};

    u.fn = write_many;
    u.arg = &m;
    assert_int_equal(unit_run(w->b->core.units, &u, NULL), BOT_OK);
}

static void
outbox__a_waiting_lane_holds_up_no_other(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);

    run_many(w, "absent", "C9", 300); /* a platform not connected */
    f->fail_posts = 1;
    run_many(w, "fake", "C1", 300); /* its head backs off */
    assert_int_equal(f->nposts, 0);
    run_many(w, "fake", "C2", 1);
    assert_int_equal(f->nposts, 1);
    assert_string_equal(f->posts[0].text, "C2 0");
}

static void
scheduler__a_job_it_cannot_run_waits(void **state)
{
    struct world *w = *state;
    int ran;

    sql(w, "INSERT INTO jobs (kind, subject, period, due_at)"
           " VALUES ('bogus', 1, 'x', 0)");
    assert_int_equal(bot_remind(w->b, T0, NULL, &ran), BOT_OK);
    assert_int_equal(ran, 0);
    /* postponed an hour, not run again at once: no busy loop */
    assert_true(sql_long(w, "SELECT due_at FROM jobs WHERE kind = 'bogus'") >=
                T0 + 3600 * 1000 - 1);
    assert_int_equal(bot_remind(w->b, T0 + 1000, NULL, &ran), BOT_OK);
    assert_int_equal(ran, 0);
}

static size_t
entries_with(struct world *w, int64_t id, const char *needle)
{
    struct timeline_entry *tl;
    size_t n, k = 0;

    assert_int_equal(store_timeline_list(w->b->core.store, id, &tl, &n), BOT_OK);
    for (size_t i = 0; i < n; i++)
        k += strstr(tl[i].text, needle) != NULL;
    store_timeline_list_free(tl, n);
    return k;
}

static void
roles__the_declarer_leads_and_roles_are_handed_over(void **state)
{
    struct world *w = *state;
    struct roles r;

    say(w, w->p, "general", "/incident start Database down", 0);
    assert_int_equal(store_roles_get(w->b->core.store, 1, &r), BOT_OK);
    assert_string_equal(r.user[ROLE_COMMANDER], "alice");
    assert_null(r.user[ROLE_SCRIBE]);
    store_roles_clear(&r);
    say(w, w->p, "C1", "/incident role", 0);
    assert_non_null(strstr(fake_last_post(w->p),
                           "Commander: @alice \xc2\xb7 Scribe: nobody"));
    say(w, w->p, "C1", "/incident role comms @carol", 0);
    assert_non_null(strstr(fake_last_post(w->p),
                           "@carol is now the comms of INC-1"));
    assert_int_equal(entries_with(w, 1, "Comms: <@carol>"), 1);
    say(w, w->p, "C1", "/incident role COMMANDER @bob", 0);
    say(w, w->p, "C1", "/incident status", 0);
    assert_non_null(strstr(fake_last_post(w->p),
                           "Commander: @bob \xc2\xb7 Scribe: nobody "
                           "\xc2\xb7 Comms: @carol"));
    /* refused, nothing changed */
    say(w, w->p, "C1", "/incident role chef @bob", 0);
    assert_non_null(strstr(fake_last_post(w->p), "Roles are commander"));
    say(w, w->p, "C1", "/incident role scribe bob", 0);
    assert_non_null(strstr(fake_last_post(w->p), "not one user mention"));
    say(w, w->p, "general", "/incident role scribe @bob", 0);
    assert_non_null(strstr(fake_last_post(w->p), "works in an incident"));
    assert_int_equal(store_roles_get(w->b->core.store, 1, &r), BOT_OK);
    assert_null(r.user[ROLE_SCRIBE]);
    store_roles_clear(&r);
}

static void
roles__an_alarm_is_led_by_its_first_responder(void **state)
{
    struct world *w = *state;
    struct alarm a = {.title = "DiskFull", .severity = -1,
                      .dedup_key = "k"};
    const char *status;
    struct roles r;
    int64_t id;

    bot_free(w->cfg.default_commander);
    w->cfg.default_commander = bot_strdup("oncall");
    assert_int_equal(store_tx_begin(w->b->core.store), BOT_OK);
    assert_int_equal(incident_take_alarm(w->b->incidents, "fake", &a, 2, &id,
                                         &status),
                     BOT_OK);
    assert_int_equal(store_tx_commit(w->b->core.store), BOT_OK);
    bot_start(w->b);
    assert_int_equal(store_roles_get(w->b->core.store, id, &r), BOT_OK);
    assert_string_equal(r.user[ROLE_COMMANDER], "oncall");
    assert_int_equal(r.how[ROLE_COMMANDER], ROLE_DEFAULT);
    store_roles_clear(&r);
    say_as(w, w->p, "bob", "C1", "looking at it", 0);
    say_as(w, w->p, "carol", "C1", "me too", 0);
    assert_int_equal(store_roles_get(w->b->core.store, id, &r), BOT_OK);
    assert_string_equal(r.user[ROLE_COMMANDER], "bob");
    store_roles_clear(&r);
    assert_int_equal(entries_with(w, id, "Commander: <@bob>"), 1);
    assert_int_equal(entries_with(w, id, "Commander"), 1);
}

static void
roles__the_review_clock_reminds_the_commander(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);
    int ran;

    say(w, w->p, "general", "/incident start Database down", 0);
    say(w, w->p, "C1", "/incident role commander @carol", 0);
    say(w, w->p, "C1", "/incident resolve", 0);
    assert_int_equal(bot_remind(w->b, T0 + 25 * HOUR, NULL, &ran), BOT_OK);
    assert_int_equal(ran, 1);
    assert_string_equal(f->posts[f->nposts - 1].room, "D-carol");
    assert_non_null(strstr(f->posts[f->nposts - 2].text, "@carol, start"));
}

static void
scrub__what_is_published_holds_no_secret_the_database_keeps_it(void **state)
{
    struct world *w = *state;
    struct timeline_entry *tl;
    struct strbuf doc;
    size_t n;
    int kept = 0;

    say(w, w->p, "general", "/incident start Leak of xoxb-1234567890-abcdefghij",
        0);
    say(w, w->p, "C1", "/incident note rotated AKIAIOSFODNN7EXAMPLE, tx "
                       "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be1"
                       "6dfba1b22060 stays", 0);
    /* the posted summary */
    say(w, w->p, "C1", "/incident status", 0);
    assert_null(strstr(fake_last_post(w->p), "xoxb-1234567890"));
    assert_non_null(strstr(fake_last_post(w->p), "Leak of [redacted]"));
    /* the document */
    strbuf_init(&doc, 0);
    assert_int_equal(report_render(w->b->core.store, 1, REPORT_MD,
                                   bot_now_ms(w->b), &doc),
                     BOT_OK);
    assert_null(strstr(strbuf_str(&doc), "AKIAIOSFODNN7EXAMPLE"));
    assert_null(strstr(strbuf_str(&doc), "xoxb-1234567890"));
    assert_non_null(strstr(strbuf_str(&doc), "0x5c504ed432cb51138bcf09aa5e8a"));
    strbuf_cleanup(&doc);
    /* the database keeps what was said */
    assert_int_equal(store_timeline_list(w->b->core.store, 1, &tl, &n), BOT_OK);
    for (size_t i = 0; i < n; i++)
        kept += strstr(tl[i].text, "AKIAIOSFODNN7EXAMPLE") != NULL;
    store_timeline_list_free(tl, n);
    assert_int_equal(kept, 1);
}

static void
pin(struct world *w, const char *user, const char *room, int msg)
{
    struct chat_event ev = {0};
    char id[32];

    snprintf(id, sizeof(id), "%d", msg);
    ev.kind = CHAT_EV_REACTION_ADDED;
    ev.platform = w->p;
    ev.room = room;
    ev.user = user;
    ev.msg_id = id;
    ev.reaction = "📌";
    ev.at = bot_now_ms(w->b);
    bot_dispatch(w->b, &ev, NULL, NULL);
}

static size_t
nudges_to(struct world *w, const char *user)
{
    return fake_platform_private(w->p, user, "blameless review describes");
}

static void
blame__a_tagged_blaming_message_is_answered_privately_once(void **state)
{
    struct world *w = *state;
    struct fake_platform *f = fake_of(w->p);
    int blaming, harmless;

    say(w, w->p, "general", "/incident start Database down", 0);
    say_as(w, w->p, "bob", "C1", "honestly it's carol's fault, careless", 0);
    blaming = msg_seq;
    say_as(w, w->p, "carol", "C1", "the deploy faulted at 04:20", 0);
    harmless = msg_seq;
    pin(w, "alice", "C1", blaming);
    pin(w, "dave", "C1", blaming); /* a second 📌: no second word */
    pin(w, "alice", "C1", harmless);
    assert_int_equal(nudges_to(w, "bob"), 1);
    assert_int_equal(nudges_to(w, "carol"), 0);
    assert_string_equal(f->posts[f->nposts - 1].room, "C1");
    /* recorded as written */
    assert_int_equal(entries_with(w, 1, "carol's fault, careless"), 1);
}

static void
review__the_key_responders_are_invited_when_it_is_resolved(void **state)
{
    struct world *w = *state;
    say(w, w->p, "general", "/incident start Database down", 0);
    say_as(w, w->p, "bob", "C1", "replica lag is 40 s", 0);
    say_as(w, w->p, "carol", "C1", "failing over", 0);
    say_as(w, w->p, "bob", "C1", "done", 0);
    pin(w, "dave", "C1", msg_seq);
    say(w, w->p, "C1", "/incident resolve", 0);
    /* each once, sorted, whoever posted or tagged */
    assert_int_equal(posts_with(fake_of(w->p),
                                "Blameless review of INC-1 by 2026-11-03 "
                                "04:38 UTC: @bob, @carol, @dave, you were"),
                     1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(outbox__rolled_back_unit_leaves_no_row_and_sends_nothing),
        T(outbox__after_commit_in_order_and_a_pin_waits_for_its_post),
        T(outbox__transient_failure_backs_off_then_sends_once),
        T(outbox__final_failure_is_not_retried),
        T(outbox__a_private_reply_becomes_a_dm_without_ephemeral),
        T(outbox__a_thread_is_the_room_without_threads),
        T(outbox__rows_left_by_a_crash_are_sent_at_start),
        T(outbox__nothing_is_sent_before_its_commit),
        T(outbox__a_mark_that_fails_never_sends_twice),
        T(outbox__a_mark_that_cannot_begin_is_retried_not_resent),
        T(outbox__a_waiting_lane_holds_up_no_other),
        T(scheduler__a_job_it_cannot_run_waits),
        T(outbox__a_post_found_after_a_crash_is_not_sent_again),
        T(outbox__a_reply_left_by_a_crash_is_looked_for_in_its_thread),
        T(outbox__a_reply_not_found_in_its_thread_is_sent_there),
        T(platforms__each_incident_stays_on_its_platform),
        T(dm__bare_words_are_commands),
        T(review_clock__each_reminder_once),
        T(review_clock__late_says_it_once_and_never_after_the_deadline),
        T(review_clock__a_started_review_is_not_nagged),
        T(roles__the_declarer_leads_and_roles_are_handed_over),
        T(roles__an_alarm_is_led_by_its_first_responder),
        T(roles__the_review_clock_reminds_the_commander),
        T(scrub__what_is_published_holds_no_secret_the_database_keeps_it),
        T(blame__a_tagged_blaming_message_is_answered_privately_once),
        T(review__the_key_responders_are_invited_when_it_is_resolved),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
