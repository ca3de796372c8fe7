/*
 * bot.c - routing inbound events to commands or the timeline, each as one
 * unit of work; the platforms; the daemon's storage timers.
 */
#include "bot.h"

#include "command.h"
#include "config.h"
#include "reminders.h"
#include "zone.h"
#include "err.h"
#include "incident.h"
#include "log.h"
#include "loop.h"
#include "mem.h"
#include "outbox.h"
#include "scheduler.h"
#include "store.h"
#include "strbuf.h"
#include "unit.h"

#include <string.h>

/* A checkpoint in flight; it may outlive the bot (then b is NULL). */
struct ckpt {
    struct bot *b;
    char path[];
};

static void checkpoint_if_big(void *arg);
static int storage_gone(void *arg);
static void note_fault(void *arg);
static void health_check(struct bot *b);

static int
review_duty(void *ctx, const struct job *j, int64_t now, struct strbuf *dry,
            int *skipped)
{
    return review_clock_fire(ctx, j->subject, j->period, now, dry, skipped);
}

/* reminders_duty - the weekly DMs, escalations and the monthly review
 * (reminders.h); each pass schedules the next */
static int
reminders_duty(void *ctx, const struct job *j, int64_t now,
               struct strbuf *dry, int *skipped)
{
    int64_t next = 0;
    int sent = 0, rc;

    (void)j;
    if (dry) {
        *skipped = 1; /* bot_remind's dry run makes its own pass */
        return BOT_OK;
    }
    rc = reminders_pass(ctx, now, dry, &sent, &next);
    *skipped = !sent;
    if (!rc && !dry && next)
        rc = reminders_ensure(ctx, next);
    return rc;
}

/* The scheduler's duties: kind -> what it does. */
static struct duty duties[] = {
    {"review-clock", review_duty, NULL},
    {REMINDERS_JOB, reminders_duty, NULL},
};

int
bot_open(const struct config *cfg, struct loop *loop, int mode,
         struct bot **out, char **why)
{
    struct bot *b = bot_calloc(1, sizeof(*b));
    struct duty *d;
    int rc;

    if (!b)
        return BOT_ENOMEM;
    b->core.cfg = cfg;
    b->core.loop = loop;
    if (mode == BOT_OPEN_READ)
        rc = store_open_readonly(cfg->database, &b->core.store, why);
    else if (mode == BOT_OPEN_DAEMON)
        rc = store_open_daemon(cfg->database, cfg->synchronous_full,
                               &b->core.store, why);
    else
        rc = store_open(cfg->database, cfg->synchronous_full, &b->core.store,
                        why);
    if (rc) {
        bot_free(b);
        return rc;
    }
    d = bot_malloc(sizeof(duties));
    rc = d ? units_new(b->core.store, loop, &b->core.units) : BOT_ENOMEM;
    if (!rc)
        rc = outbox_new(&b->core, &b->core.outbox);
    if (!rc)
        rc = incidents_new(&b->core, &b->incidents);
    if (!rc) {
        memcpy(d, duties, sizeof(duties));
        for (size_t i = 0; i < sizeof(duties) / sizeof(duties[0]); i++)
            d[i].ctx = b->incidents;
        rc = scheduler_new(&b->core, d, sizeof(duties) / sizeof(duties[0]),
                           &b->scheduler);
    }
    /* after every commit: the WAL's size, what the commit wrote to the
     * outbox, channels to open, the next duty */
    if (!rc)
        outbox_on_failed(b->core.outbox, reminders_failed, b->incidents);
    if (!rc)
        rc = units_on_commit(b->core.units, checkpoint_if_big, b);
    if (!rc)
        rc = units_on_commit(b->core.units, outbox_kick, b->core.outbox);
    if (!rc)
        rc = units_on_commit(b->core.units, incident_open_pending,
                             b->incidents);
    if (!rc)
        rc = units_on_commit(b->core.units, scheduler_arm, b->scheduler);
    if (rc) {
        if (!b->scheduler)
            bot_free(d);
        *why = bot_strdup("out of memory");
        bot_destroy(b);
        return BOT_ENOMEM;
    }
    b->duties = d;
    units_set_health(b->core.units, storage_gone, note_fault, b);
    *out = b;
    return BOT_OK;
}

int
bot_new(const struct config *cfg, struct loop *loop, struct bot **out,
        char **why)
{
    return bot_open(cfg, loop, BOT_OPEN_WRITE, out, why);
}

void
bot_destroy(struct bot *b)
{
    if (!b)
        return;
    /* stopping: commit what is done and answer for it, start nothing */
    if (b->incidents)
        incident_hold_channels(b->incidents, 1);
    if (b->core.outbox)
        outbox_hold(b->core.outbox, 1);
    loop_timer_free(b->ckpt_timer);
    loop_timer_free(b->health_timer);
    loop_timer_free(b->prune_timer);
    if (b->checkpointing)
        b->checkpointing->b = NULL; /* it finishes without us */
    if (b->core.units)
        units_commit_now(b->core.units);
    /* their cancelled callbacks come back to the outbox and the timeline */
    for (size_t i = 0; i < b->core.nplatforms; i++)
        b->platforms[i]->ops->destroy(b->platforms[i]);
    b->core.nplatforms = 0;
    bot_free(b->platforms);
    /* what a cancelled callback committed, then no hook into what goes */
    if (b->core.units) {
        units_commit_now(b->core.units);
        units_drop_hooks(b->core.units);
    }
    scheduler_free(b->scheduler);
    bot_free(b->duties);
    incidents_free(b->incidents);
    outbox_free(b->core.outbox);
    units_free(b->core.units);
    store_close(b->core.store);
    bot_free(b);
}

int
bot_set_platform(struct bot *b, struct chat_platform *p)
{
    if (b->core.nplatforms == b->capplatforms) {
        size_t nc = b->capplatforms ? b->capplatforms * 2 : 4;
        struct chat_platform **np =
            bot_realloc(b->platforms, nc * sizeof(*np));

        if (!np)
            return BOT_ENOMEM;
        b->platforms = b->core.platforms = np;
        b->capplatforms = nc;
    }
    b->platforms[b->core.nplatforms++] = p;
    p->bot = b;
    incident_channels_pending(b->incidents);
    return BOT_OK;
}

void
bot_take_platform(struct bot *b, struct chat_platform *p)
{
    for (size_t i = 0; i < b->core.nplatforms; i++) {
        if (b->platforms[i] == p) {
            memmove(&b->platforms[i], &b->platforms[i + 1],
                    (b->core.nplatforms - i - 1) * sizeof(*b->platforms));
            b->core.nplatforms--;
            return;
        }
    }
}

struct chat_platform *
bot_alarm_platform(struct bot *b)
{
    struct chat_platform *p = NULL;

    if (b->alarm_platform)
        p = core_platform(&b->core, b->alarm_platform);
    return p ? p : b->core.nplatforms ? b->platforms[0] : NULL;
}

void
bot_start(struct bot *b)
{
    /* a restart finishes what a crash left */
    outbox_start(b->core.outbox);
    incident_channels_pending(b->incidents);
    incident_open_pending(b->incidents);
    bot_remind(b, bot_now_ms(b), NULL, NULL);
}

void
bot_schedule(struct bot *b)
{
    scheduler_start(b->scheduler);
}

int64_t
bot_now_ms(const struct bot *b)
{
    return core_now_ms(&b->core);
}

void
bot_set_now(struct bot *b, int64_t ms)
{
    int64_t was = bot_now_ms(b);

    b->core.fixed_now = ms;
    if (bot_now_ms(b) > was)
        bot_remind(b, bot_now_ms(b), NULL, NULL);
}

struct ensure_work {
    struct bot *b;
    int64_t now;
};

static int
ensure_work(void *arg)
{
    struct ensure_work *w = arg;

    return reminders_ensure(w->b->incidents, w->now);
}

int
bot_remind(struct bot *b, int64_t now, struct strbuf *dry, int *ran)
{
    struct ensure_work ew = {b, now};
    struct unit u = {0};
    int rc;

    /* a reminders pass now, whatever the last one scheduled: its claims
     * keep it from repeating anything */
    if (!dry) {
        u.fn = ensure_work;
        u.arg = &ew;
        rc = unit_run(b->core.units, &u, NULL);
        return rc ? rc : scheduler_run(b->scheduler, now, NULL, ran);
    }
    /* a dry run reads inside a transaction it then drops: nothing it
     * could touch is kept (its store may be read-only: the reminders'
     * pass is made here, not through a job) */
    rc = store_tx_begin(b->core.store);
    if (!rc)
        rc = scheduler_run(b->scheduler, now, dry, ran);
    if (!rc) {
        int sent = 0;

        rc = reminders_pass(b->incidents, now, dry, &sent, NULL);
        if (ran)
            *ran += sent;
    }
    store_tx_rollback(b->core.store);
    return rc;
}

int
bot_watch_outbox(struct bot *b)
{
    return outbox_watch(b->core.outbox, 2000);
}

int
bot_outbox_pending(struct bot *b, long *n)
{
    return store_outbox_count(b->core.store, n);
}

int
bot_outbox_idle(const struct bot *b)
{
    return outbox_idle(b->core.outbox);
}

void
bot_set_group_commit(struct bot *b, int on)
{
    units_set_group(b->core.units, on);
}

void
bot_hold_channels(struct bot *b, int on)
{
    incident_hold_channels(b->incidents, on);
}

/* --- for the adapters --- */

void
bot_ack(struct bot *b, chat_done_fn *done, void *arg, int rc)
{
    units_finish(b->core.units, done, arg, rc);
}

int
bot_is_incident_room(struct bot *b, struct chat_platform *p,
                     const char *room)
{
    int64_t id;

    return incident_id_for_room(b->incidents, p->ops->name, room, &id) ==
           BOT_OK;
}

struct user_work {
    struct bot *b;
    const char *platform, *id, *name, *tz;
};

static int
user_work(void *arg)
{
    struct user_work *uw = arg;
    int rc = store_user_put(uw->b->core.store, uw->platform, uw->id,
                            uw->name, bot_now_ms(uw->b));

    if (!rc && uw->tz)
        rc = store_user_set_tz(uw->b->core.store, uw->platform, uw->id,
                               uw->tz);
    return rc;
}

int
bot_put_user(struct bot *b, struct chat_platform *p, const char *id,
             const char *name, const char *tz)
{
    /* a zone the C library cannot read would be UTC without a word */
    struct user_work uw = {b, p->ops->name, id, name,
                           zone_known(tz) ? tz : NULL};
    struct unit w = {0};

    w.fn = user_work;
    w.arg = &uw;
    return unit_run(b->core.units, &w, NULL);
}

/* --- routing --- */

static void
reply_failure(struct bot *b, struct chat_platform *p,
              const struct chat_event *ev, int rc)
{
    struct asker a = {b->incidents, p, ev};
    struct chat_msg m;

    chat_msg_init(&m);
    chat_msg_text(&m, "Sorry, that could not be saved (%s); nothing was "
                      "changed. Please try again.",
                  bot_strerror(rc));
    incident_refuse(&a, &m);
}

struct command_work {
    struct bot *b;
    struct chat_platform *p;
    const struct chat_event *ev;
};

static int
command_work(void *arg)
{
    struct command_work *cw = arg;

    return command_run(cw->b->incidents, cw->p, cw->ev);
}

/* run_command - one command, one unit: replies after its commit; a refusal
 * was answered by its handler, a failure is answered here */
static void
run_command(struct bot *b, struct chat_platform *p,
            const struct chat_event *ev, chat_done_fn *done, void *arg)
{
    struct command_work cw = {b, p, ev};
    struct unit w = {0};
    int rc;

    w.source = p->ops->name;
    w.id = ev->event_id;
    w.now = bot_now_ms(b);
    w.fn = command_work;
    w.arg = &cw;
    w.done = done;
    w.done_arg = arg;
    rc = unit_run(b->core.units, &w, NULL);
    if (rc && rc != BOT_EINVAL && rc != BOT_ENOTFOUND)
        reply_failure(b, p, ev, rc);
}

void
bot_dispatch(struct bot *b, const struct chat_event *ev, chat_done_fn *done,
             void *arg)
{
    struct chat_platform *p = ev->platform;

    if (!p)
        p = b->core.nplatforms ? b->platforms[0] : NULL;
    /* without the daemon's timer (the shell), look again before refusing */
    if (b->unhealthy && !b->health_timer)
        health_check(b);
    /* nothing is taken that cannot be kept: the platform redelivers */
    if (b->unhealthy || !p) {
        units_finish(b->core.units, done, arg, b->unhealthy ? BOT_EIO
                                                            : BOT_EINVAL);
        return;
    }
    switch (ev->kind) {
    case CHAT_EV_MESSAGE:
        if (ev->text && (command_is_command(ev->text) || ev->is_dm)) {
            run_command(b, p, ev, done, arg);
            return;
        }
        incident_handle_event(b->incidents, p, ev, done, arg);
        return;
    case CHAT_EV_COMMAND:
        run_command(b, p, ev, done, arg);
        return;
    case CHAT_EV_REACTION_ADDED:
        /* ✅ on a reminder's line, in a DM: that action is done */
        if (action_check_emoji(ev->reaction) &&
            !bot_is_incident_room(b, p, ev->room)) {
            action_react(b->incidents, p, ev, done, arg);
            return;
        }
        incident_handle_event(b->incidents, p, ev, done, arg);
        return;
    case CHAT_EV_REACTION_REMOVED:
    case CHAT_EV_MESSAGE_CHANGED:
    case CHAT_EV_MESSAGE_DELETED:
        incident_handle_event(b->incidents, p, ev, done, arg);
        return;
    }
    units_finish(b->core.units, done, arg, BOT_OK);
}

static int
checkpoint_work(void *arg)
{
    struct ckpt *c = arg;

    return store_checkpoint(c->path);
}

static void
checkpoint_done(void *arg, int rc)
{
    struct ckpt *c = arg;

    if (c->b) {
        c->b->checkpointing = NULL;
        if (rc && rc != BOT_ECANCELED && !c->b->ckpt_failing)
            log_warn("bot: WAL checkpoint failed; retrying every 2 s");
        else if (!rc && c->b->ckpt_failing)
            log_info("bot: WAL checkpoints work again");
        if (rc != BOT_ECANCELED)
            c->b->ckpt_failing = rc != BOT_OK;
    }
    bot_free(c);
}

/* start_checkpoint - copy the WAL back into the database on a worker
 * thread, so no commit ever waits for a checkpoint */
static void
start_checkpoint(struct bot *b)
{
    size_t n = strlen(b->core.cfg->database) + 1;
    struct ckpt *c;

    if (b->checkpointing)
        return;
    c = bot_malloc(sizeof(*c) + n);
    if (!c)
        return;
    c->b = b;
    memcpy(c->path, b->core.cfg->database, n);
    if (loop_work(b->core.loop, checkpoint_work, checkpoint_done, c))
        bot_free(c);
    else
        b->checkpointing = c;
}

static void
on_checkpoint_timer(void *arg)
{
    start_checkpoint(arg);
}

/* checkpoint_if_big - under load the timer alone let the WAL reach 25 MB
 * between two checkpoints; a bound in pages keeps it near 4 MiB */
static void
checkpoint_if_big(void *arg)
{
    struct bot *b = arg;

    /* a failing one (the disk is full) waits for the timer */
    if (b->ckpt_timer && !b->ckpt_failing &&
        store_wal_frames(b->core.store) >= STORE_WAL_CHECKPOINT_FRAMES)
        start_checkpoint(b);
}

int
bot_checkpoint_in_background(struct bot *b)
{
    if (!b->core.loop || !strcmp(b->core.cfg->database, ":memory:"))
        return BOT_OK;
    if (loop_timer_new(b->core.loop, on_checkpoint_timer, b, &b->ckpt_timer))
        return BOT_ENOMEM;
    store_checkpoint_elsewhere(b->core.store);
    loop_timer_start(b->ckpt_timer, 2000, 2000);
    return BOT_OK;
}

/*
 * Pruning. A batch of at most PRUNE_BATCH rows of each kind runs inside
 * the group commit (its own savepoint), so it costs no fsync of its own.
 * Measured on 200,000 rows of each: 100 dedupe rows take 0.3-0.5 ms, 100
 * cached messages 2 ms of CPU (each sits on a page of its own: a
 * channel's messages are spread over the table), 500 of them 4-14 ms,
 * too long to hold the write lock. A full batch means more is waiting:
 * the next comes PRUNE_SOON later (500 rows a second), else PRUNE_EVERY;
 * during a burst (units_busy: a group of 8 events or more in the last
 * second) it waits.
 */
#define PRUNE_BATCH 100
#define PRUNE_EVERY_MS 1000
#define PRUNE_SOON_MS 200
#define DAY_MS (24 * 3600 * 1000LL)

struct prune {
    struct bot *b;
    int64_t now;
    int events, messages, rows, jobs, periods;
};

static int
prune_batch(void *arg)
{
    struct prune *p = arg;
    struct bot *b = p->b;
    int rc;

    rc = store_prune_events(b->core.store, p->now - b->core.cfg->dedupe_days * DAY_MS,
                            PRUNE_BATCH, &p->events);
    if (!rc)
        rc = store_prune_outbox(b->core.store,
                                p->now - b->core.cfg->dedupe_days * DAY_MS,
                                PRUNE_BATCH, &p->rows);
    if (!rc)
        rc = store_prune_messages(b->core.store,
                                  p->now - b->core.cfg->cache_days * DAY_MS,
                                  PRUNE_BATCH, &p->messages);
    /* done jobs after a month; periods after 400 days, beyond any pass's
     * look back (a week, a month) */
    if (!rc)
        rc = store_prune_jobs(b->core.store, p->now - 30 * DAY_MS,
                              PRUNE_BATCH, &p->jobs);
    if (!rc)
        rc = store_prune_periods(b->core.store, p->now - 400 * DAY_MS,
                                 PRUNE_BATCH, &p->periods);
    if (!rc)
        rc = store_prune_reactions(b->core.store, p->now - 400 * DAY_MS,
                                   PRUNE_BATCH, &p->periods);
    return rc;
}

static void
on_prune_timer(void *arg)
{
    struct bot *b = arg;
    struct prune p = {b, bot_now_ms(b), 0, 0, 0, 0, 0};
    struct unit w = {0};
    int rc;

    if (b->unhealthy || units_busy(b->core.units)) {
        loop_timer_start(b->prune_timer, PRUNE_EVERY_MS, 0);
        return;
    }
    w.fn = prune_batch;
    w.arg = &p;
    w.flags = UNIT_GROUPED;
    rc = unit_run(b->core.units, &w, NULL);
    if (rc)
        log_warn("bot: pruning failed (%s); trying again later",
                 bot_strerror(rc));
    else if (p.events || p.messages || p.rows)
        log_debug("bot: pruned %d event ids, %d cached messages and %d "
                  "outbox rows", p.events, p.messages, p.rows);
    /* a full batch means more is waiting */
    loop_timer_start(b->prune_timer,
                     !rc && (p.events == PRUNE_BATCH ||
                             p.messages == PRUNE_BATCH ||
                             p.rows == PRUNE_BATCH ||
                             p.jobs == PRUNE_BATCH ||
                             p.periods == PRUNE_BATCH)
                         ? PRUNE_SOON_MS
                         : PRUNE_EVERY_MS,
                     0);
}

int
bot_prune_in_background(struct bot *b)
{
    if (!b->core.loop)
        return BOT_OK;
    if (loop_timer_new(b->core.loop, on_prune_timer, b, &b->prune_timer))
        return BOT_ENOMEM;
    loop_timer_start(b->prune_timer, PRUNE_EVERY_MS, 0);
    return BOT_OK;
}

/* health_set - enter (why) or leave (NULL) the unhealthy state; each
 * change is logged once */
static void
health_set(struct bot *b, const char *why)
{
    if (why == b->unhealthy ||
        (why && b->unhealthy && !strcmp(why, b->unhealthy)))
        return;
    if (why)
        log_err("bot: %s: events are not acknowledged and alarms are "
                "refused until this clears",
                why);
    else
        log_info("bot: storage healthy again (%s cleared); acknowledging "
                 "events",
                 b->unhealthy);
    b->unhealthy = why;
}

static int
storage_gone(void *arg)
{
    struct bot *b = arg;
    const char *why;

    if (!store_file_check(b->core.store, &why))
        return 0;
    health_set(b, why);
    return 1;
}

/* note_fault - a failure that came from the disk, not from the event */
static void
note_fault(void *arg)
{
    struct bot *b = arg;
    const char *why = store_fault(b->core.store);

    if (!why)
        return;
    b->faulted = 1;
    health_set(b, why);
}

/* A faulted store is probed again at most this often, and only when this
 * much space is free (a write squeezed into the last kilobytes would only
 * let the next event fail). */
#define PROBE_EVERY_MS 500
#define PROBE_MIN_FREE (1024 * 1024)

static void
health_check(struct bot *b)
{
    long long left;
    uint64_t now;

    if (storage_gone(b))
        return;
    left = store_disk_free(b->core.store);
    if (left == 0) {
        b->faulted = 1;
        health_set(b, "disk full");
        return;
    }
    if (b->faulted) {
        /* only a write that works clears a failed one */
        now = b->core.loop ? loop_now_ms(b->core.loop) : 0;
        if (store_tx_depth(b->core.store) || (left > 0 && left < PROBE_MIN_FREE) ||
            (b->core.loop && b->last_probe_ms &&
             now - b->last_probe_ms < PROBE_EVERY_MS))
            return;
        b->last_probe_ms = now;
        store_fault_clear(b->core.store);
        if (store_write_probe(b->core.store)) {
            const char *fault = store_fault(b->core.store);

            health_set(b, fault ? fault : "database write failed");
            return;
        }
        b->faulted = 0;
    }
    health_set(b, NULL);
}

int
bot_healthy(struct bot *b, const char **why)
{
    /* the daemon's timer looks every second, and a commit looks again
     * before it acks: no stat()s per request on top of that */
    if (!b->health_timer)
        health_check(b);
    if (why)
        *why = b->unhealthy;
    return !b->unhealthy;
}

static void
on_health_timer(void *arg)
{
    health_check(arg);
}

int
bot_watch_health(struct bot *b)
{
    if (!b->core.loop)
        return BOT_OK;
    if (loop_timer_new(b->core.loop, on_health_timer, b, &b->health_timer))
        return BOT_ENOMEM;
    loop_timer_start(b->health_timer, 1000, 1000);
    return BOT_OK;
}

