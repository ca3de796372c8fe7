/*
 * bot.c - routing inbound events, one transaction each, and the outbox.
 */
#include "bot.h"

#include "command.h"
#include "config.h"
#include "err.h"
#include "incident.h"
#include "log.h"
#include "loop.h"
#include "mem.h"
#include "store.h"
#include "strbuf.h"
#include "timeutil.h"

#include <string.h>

/* A checkpoint in flight; it may outlive the bot (then b is NULL). */
struct ckpt {
    struct bot *b;
    char path[];
};

static void checkpoint_if_big(struct bot *b);
static int storage_gone(struct bot *b);
static void note_fault(struct bot *b);

struct deferred {
    chat_done_fn *done;
    void *arg;
    int rc;
};

struct outbox_item {
    struct outbox_item *next;
    char *room;            /* post here, or */
    chat_reply_fn *reply;  /* reply through this */
    void *reply_arg;
    struct chat_msg msg;
    int refusal;
    char *filename; /* set: an upload of content to room, not a post */
    char *title;
    char *content;
    size_t len;
};

int
bot_open(const struct config *cfg, struct loop *loop, int mode,
         struct bot **out, char **why)
{
    struct bot *b = bot_calloc(1, sizeof(*b));
    int rc;

    if (!b)
        return BOT_ENOMEM;
    b->cfg = cfg;
    b->loop = loop;
    b->channels_pending = 1; /* a crash may have left one unopened */
    b->outbox_tail = &b->outbox;
    if (mode == BOT_OPEN_READ)
        rc = store_open_readonly(cfg->database, &b->store, why);
    else if (mode == BOT_OPEN_DAEMON)
        rc = store_open_daemon(cfg->database, cfg->synchronous_full,
                               &b->store, why);
    else
        rc = store_open(cfg->database, cfg->synchronous_full, &b->store,
                        why);
    if (rc) {
        bot_free(b);
        return rc;
    }
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
    /* stopping mid-group: commit what is done and answer for it */
    b->hold_channels = 1;
    loop_timer_free(b->ckpt_timer);
    loop_timer_free(b->health_timer);
    loop_timer_free(b->prune_timer);
    if (b->checkpointing)
        b->checkpointing->b = NULL; /* it finishes without us */
    bot_group_commit_now(b);
    loop_timer_free(b->group_timer);
    if (b->platform)
        b->platform->ops->destroy(b->platform);
    bot_outbox_drop(b);
    store_close(b->store);
    for (size_t i = 0; i < b->nrooms; i++)
        bot_free(b->room_names[i]);
    bot_free(b->room_names);
    bot_free(b->room_ids);
    bot_free(b->opening);
    bot_free(b);
}

int
bot_room_add(struct bot *b, const char *room, int64_t id)
{
    char *copy;

    if (b->nrooms == b->caprooms) {
        size_t nc = b->caprooms ? b->caprooms * 2 : 16;
        char **nn = bot_realloc(b->room_names, nc * sizeof(*nn));
        int64_t *ni;

        if (!nn)
            return BOT_ENOMEM;
        b->room_names = nn;
        ni = bot_realloc(b->room_ids, nc * sizeof(*ni));
        if (!ni)
            return BOT_ENOMEM;
        b->room_ids = ni;
        b->caprooms = nc;
    }
    copy = bot_strdup(room);
    if (!copy)
        return BOT_ENOMEM;
    b->room_names[b->nrooms] = copy;
    b->room_ids[b->nrooms++] = id;
    return BOT_OK;
}

int
bot_room_find(const struct bot *b, const char *room, int64_t *id)
{
    /* newest first: the incidents in progress are the recent ones */
    for (size_t i = b->nrooms; i > 0; i--) {
        if (!strcmp(b->room_names[i - 1], room)) {
            *id = b->room_ids[i - 1];
            return BOT_OK;
        }
    }
    return BOT_ENOTFOUND;
}

void
bot_set_platform(struct bot *b, struct chat_platform *p)
{
    b->platform = p;
    p->bot = b;
}

void
bot_start(struct bot *b)
{
    int hold = b->hold_channels;

    b->hold_channels = 0; /* a restart finishes what a crash left */
    incident_open_pending(b);
    b->hold_channels = hold;
}

int64_t
bot_now_ms(const struct bot *b)
{
    return b->fixed_now ? b->fixed_now : timeutil_now_ms();
}

static void
queue(struct bot *b, const char *room, chat_reply_fn *reply, void *reply_arg,
      struct chat_msg *msg)
{
    struct outbox_item *it = bot_calloc(1, sizeof(*it));

    if (!it || msg->err || (room && !(it->room = bot_strdup(room)))) {
        log_err("bot: reply dropped: out of memory");
        bot_free(it);
        chat_msg_cleanup(msg);
        return;
    }
    it->reply = reply;
    it->reply_arg = reply_arg;
    it->msg = *msg;
    chat_msg_init(msg);
    *b->outbox_tail = it;
    b->outbox_tail = &it->next;
}

void
bot_reply(struct bot *b, const struct chat_event *ev, struct chat_msg *msg)
{
    if (ev->reply)
        queue(b, NULL, ev->reply, ev->reply_arg, msg);
    else
        queue(b, ev->room, NULL, NULL, msg);
}

void
bot_upload(struct bot *b, const char *room, const char *filename,
           const char *title, char *content, size_t len)
{
    struct outbox_item *it = bot_calloc(1, sizeof(*it));

    if (!it || !(it->room = bot_strdup(room)) ||
        !(it->filename = bot_strdup(filename)) ||
        !(it->title = bot_strdup(title))) {
        log_err("bot: upload dropped: out of memory");
        if (it) {
            bot_free(it->room);
            bot_free(it->filename);
        }
        bot_free(it);
        bot_free(content);
        return;
    }
    it->content = content;
    it->len = len;
    *b->outbox_tail = it;
    b->outbox_tail = &it->next;
}

static void
send_item(struct bot *b, struct outbox_item *it)
{
    if (it->filename && b->platform)
        b->platform->ops->upload(b->platform,
                                 &(struct chat_target){.room = it->room},
                                 it->filename,
                                 it->title, it->content, it->len, NULL,
                                 NULL);
    else if (it->reply)
        it->reply(it->reply_arg, &it->msg, it->refusal);
    else if (b->platform)
        b->platform->ops->post(b->platform,
                               &(struct chat_target){.room = it->room},
                               &it->msg, NULL, NULL);
}

static void
free_item(struct outbox_item *it)
{
    chat_msg_cleanup(&it->msg);
    bot_free(it->room);
    bot_free(it->filename);
    bot_free(it->title);
    bot_free(it->content);
    bot_free(it);
}

void
bot_reply_now(struct bot *b, const struct chat_event *ev,
              struct chat_msg *msg)
{
    struct outbox_item it = {0};

    if (msg->err) {
        chat_msg_cleanup(msg);
        return;
    }
    it.room = (char *)ev->room;
    it.reply = ev->reply;
    it.reply_arg = ev->reply_arg;
    it.refusal = 1;
    it.msg = *msg;
    send_item(b, &it);
    chat_msg_cleanup(msg);
}

void
bot_outbox_flush(struct bot *b)
{
    /* detach first: a post may (in the terminal) dispatch more events */
    struct outbox_item *it = b->outbox, *next;

    b->outbox = NULL;
    b->outbox_tail = &b->outbox;
    for (; it; it = next) {
        next = it->next;
        send_item(b, it);
        free_item(it);
    }
}

static void
outbox_drop_from(struct bot *b, struct outbox_item **mark)
{
    struct outbox_item *it = *mark, *next;

    for (; it; it = next) {
        next = it->next;
        free_item(it);
    }
    *mark = NULL;
    b->outbox_tail = mark;
}

void
bot_outbox_drop(struct bot *b)
{
    struct outbox_item *it = b->outbox, *next;

    for (; it; it = next) {
        next = it->next;
        free_item(it);
    }
    b->outbox = NULL;
    b->outbox_tail = &b->outbox;
}

void
bot_opening_later(struct bot *b, int64_t id, int64_t at)
{
    for (size_t i = 0; i < b->nlater; i++) {
        if (b->later[i].id == id) {
            b->later[i].at = at;
            return;
        }
    }
    if (b->nlater < sizeof(b->later) / sizeof(b->later[0])) {
        b->later[b->nlater].id = id;
        b->later[b->nlater++].at = at;
    }
}

int
bot_opening_deferred(struct bot *b, int64_t id, int64_t now)
{
    for (size_t i = 0; i < b->nlater; i++) {
        if (b->later[i].id != id)
            continue;
        if (b->later[i].at > now)
            return 1;
        b->later[i] = b->later[--b->nlater]; /* its time has come */
        return 0;
    }
    return 0;
}

int
bot_opening_add(struct bot *b, int64_t id)
{
    if (b->nopening == b->capopening) {
        size_t ncap = b->capopening ? b->capopening * 2 : 4;
        int64_t *n = bot_realloc(b->opening, ncap * sizeof(*n));

        if (!n)
            return BOT_ENOMEM;
        b->opening = n;
        b->capopening = ncap;
    }
    b->opening[b->nopening++] = id;
    return BOT_OK;
}

int
bot_opening_has(const struct bot *b, int64_t id)
{
    for (size_t i = 0; i < b->nopening; i++) {
        if (b->opening[i] == id)
            return 1;
    }
    return 0;
}

void
bot_opening_remove(struct bot *b, int64_t id)
{
    for (size_t i = 0; i < b->nopening; i++) {
        if (b->opening[i] == id) {
            b->opening[i] = b->opening[--b->nopening];
            return;
        }
    }
}

static void
reply_failure(struct bot *b, const struct chat_event *ev, int rc)
{
    struct chat_msg m;

    chat_msg_init(&m);
    chat_msg_text(&m, "Sorry, that could not be saved (%s); nothing was "
                      "changed. Please try again.",
                  bot_strerror(rc));
    bot_reply_now(b, ev, &m);
}

/* run_command - one command, one transaction, replies after commit. */
static void
run_command(struct bot *b, const struct chat_event *ev, chat_done_fn *done,
            void *arg)
{
    struct outbox_item **mark = b->outbox_tail;
    int rc, first = 1;

    rc = bot_tx_begin(b);
    if (!rc && ev->event_id)
        rc = store_event_claim(b->store, b->platform->ops->name,
                               ev->event_id, bot_now_ms(b), &first);
    if (!rc && first)
        rc = command_run(b, ev);
    if (!rc)
        rc = store_tx_commit(b->store);
    if (rc) {
        store_tx_rollback(b->store);
        /* only this command's replies: others in the group stand */
        outbox_drop_from(b, mark);
        /* a refused command was answered by its handler */
        if (rc != BOT_EINVAL && rc != BOT_ENOTFOUND)
            reply_failure(b, ev, rc);
    } else {
        bot_after_commit(b);
    }
    if (rc && !store_tx_depth(b->store))
        note_fault(b);
    bot_finish(b, done, arg,
               rc == BOT_EINVAL || rc == BOT_ENOTFOUND ? BOT_OK : rc);
}

void
bot_after_commit(struct bot *b)
{
    /* inside a batch the outer commit has not happened yet */
    if (store_tx_depth(b->store))
        return;
    checkpoint_if_big(b);
    bot_outbox_flush(b);
    incident_open_pending(b);
}

/* group_commit - end the group: one commit for every event in it, then
 * replies, then the acks (done callbacks), in arrival order. */
static void group_commit(void *arg);

void
bot_group_commit_now(struct bot *b)
{
    if (b->group_open)
        group_commit(b);
}

static void
group_commit(void *arg)
{
    struct bot *b = arg;
    struct deferred *d = b->deferred;
    size_t n = b->ndeferred;
    int rc;

    if (!b->group_open)
        return;
    b->group_open = 0;
    b->deferred = NULL;
    b->ndeferred = b->capdeferred = 0;
    rc = store_tx_commit(b->store);
    /* committed into a file the path no longer names: gone at exit, so
     * neither acknowledged nor announced */
    if (!rc && n && storage_gone(b))
        rc = BOT_EIO;
    if (n) {
        /* a group that only read (a 📌 waiting for its fetch) wrote and
         * synced nothing: it does not count */
        b->last_commit_ms = loop_now_ms(b->loop);
        b->last_group_n = n;
    }
    if (rc) {
        store_tx_rollback(b->store);
        bot_outbox_drop(b);
        if (!b->unhealthy)
            log_err("bot: could not commit %zu events (%s); they are not "
                    "acknowledged and will be redelivered",
                    n, bot_strerror(rc));
    } else {
        bot_after_commit(b);
    }
    note_fault(b);
    for (size_t i = 0; i < n; i++) {
        if (d[i].done)
            d[i].done(d[i].arg, rc ? rc : d[i].rc);
    }
    bot_free(d);
}

/*
 * group_delay - when the group opened now commits. Everything that arrives
 * in this turn of the loop joins in; and commits are at least a
 * millisecond apart, so that events trickling in (fetches completing one
 * by one) share an fsync too. Under a burst (the last group held
 * GROUP_BUSY events or more) they are two apart: the fsync and the
 * pages written per commit then spread over twice as many events, at the
 * cost of a millisecond in a queue that is already longer than that.
 * An event after a quiet spell commits at once.
 */
#define GROUP_BUSY 8

static uint64_t
group_delay(struct bot *b)
{
    uint64_t gap = loop_now_ms(b->loop) - b->last_commit_ms;
    uint64_t want = b->last_group_n >= GROUP_BUSY ? 2 : 1;

    return gap >= want ? 0 : want - gap;
}

/* group_join - open the group's transaction if none is open */
static int
group_join(struct bot *b)
{
    int rc;

    if (b->group_open)
        return BOT_OK;
    if (!b->group_timer &&
        loop_timer_new(b->loop, group_commit, b, &b->group_timer))
        return BOT_ENOMEM;
    rc = store_tx_begin(b->store);
    if (rc)
        return rc;
    b->group_open = 1;
    loop_timer_start(b->group_timer, group_delay(b), 0);
    return BOT_OK;
}

static int
tx_begin(struct bot *b, int group)
{
    int rc;

    if (group && b->loop) {
        rc = group_join(b);
        if (rc)
            return rc;
    }
    return store_tx_begin(b->store);
}

void
bot_tx_join(struct bot *b)
{
    /* a failure leaves the reads to autocommit: slower, still right */
    if (b->group && b->loop)
        (void)group_join(b);
}

int
bot_tx_begin(struct bot *b)
{
    return tx_begin(b, b->group);
}

int
bot_tx_begin_grouped(struct bot *b)
{
    return tx_begin(b, 1);
}

void
bot_hold_channels(struct bot *b, int on)
{
    b->hold_channels = on;
}

void
bot_finish(struct bot *b, chat_done_fn *done, void *arg, int rc)
{
    struct deferred *nd;

    if (!b->group_open) {
        if (done)
            done(arg, rc);
        return;
    }
    if (b->ndeferred == b->capdeferred) {
        size_t nc = b->capdeferred ? b->capdeferred * 2 : 64;

        nd = bot_realloc(b->deferred, nc * sizeof(*nd));
        if (!nd) {
            /* cannot promise an ack after commit: do not ack at all */
            if (done)
                done(arg, BOT_ENOMEM);
            return;
        }
        b->deferred = nd;
        b->capdeferred = nc;
    }
    b->deferred[b->ndeferred].done = done;
    b->deferred[b->ndeferred].arg = arg;
    b->deferred[b->ndeferred].rc = rc;
    b->ndeferred++;
}

void
bot_set_group_commit(struct bot *b, int on)
{
    b->group = on && b->loop;
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
    size_t n = strlen(b->cfg->database) + 1;
    struct ckpt *c;

    if (b->checkpointing)
        return;
    c = bot_malloc(sizeof(*c) + n);
    if (!c)
        return;
    c->b = b;
    memcpy(c->path, b->cfg->database, n);
    if (loop_work(b->loop, checkpoint_work, checkpoint_done, c))
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
checkpoint_if_big(struct bot *b)
{
    /* a failing one (the disk is full) waits for the timer */
    if (b->ckpt_timer && !b->ckpt_failing &&
        store_wal_frames(b->store) >= STORE_WAL_CHECKPOINT_FRAMES)
        start_checkpoint(b);
}

int
bot_checkpoint_in_background(struct bot *b)
{
    if (!b->loop || !strcmp(b->cfg->database, ":memory:"))
        return BOT_OK;
    if (loop_timer_new(b->loop, on_checkpoint_timer, b, &b->ckpt_timer))
        return BOT_ENOMEM;
    store_checkpoint_elsewhere(b->store);
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
 * during a burst (a group of GROUP_BUSY events or more in the last
 * second) it waits.
 */
#define PRUNE_BATCH 100
#define PRUNE_EVERY_MS 1000
#define PRUNE_SOON_MS 200
#define DAY_MS (24 * 3600 * 1000LL)

static void
on_prune_timer(void *arg)
{
    struct bot *b = arg;
    int64_t now = bot_now_ms(b);
    int events = 0, messages = 0, rc;

    if (b->unhealthy || (b->last_group_n >= GROUP_BUSY &&
                         loop_now_ms(b->loop) - b->last_commit_ms < 1000)) {
        loop_timer_start(b->prune_timer, PRUNE_EVERY_MS, 0);
        return;
    }
    /* a failed begin has nothing of ours to roll back (the group's
     * transaction holds other events) */
    rc = bot_tx_begin_grouped(b);
    if (rc) {
        loop_timer_start(b->prune_timer, PRUNE_EVERY_MS, 0);
        return;
    }
    rc = store_prune_events(b->store, now - b->cfg->dedupe_days * DAY_MS,
                                PRUNE_BATCH, &events);
    if (!rc)
        rc = store_prune_messages(b->store,
                                  now - b->cfg->cache_days * DAY_MS,
                                  PRUNE_BATCH, &messages);
    if (!rc)
        rc = store_tx_commit(b->store);
    if (rc) {
        store_tx_rollback(b->store);
        log_warn("bot: pruning failed (%s); trying again later",
                 bot_strerror(rc));
    } else if (events || messages) {
        log_debug("bot: pruned %d event ids and %d cached messages", events,
                  messages);
    }
    loop_timer_start(b->prune_timer,
                     !rc && (events == PRUNE_BATCH || messages == PRUNE_BATCH)
                         ? PRUNE_SOON_MS
                         : PRUNE_EVERY_MS,
                     0);
}

int
bot_prune_in_background(struct bot *b)
{
    if (!b->loop)
        return BOT_OK;
    if (loop_timer_new(b->loop, on_prune_timer, b, &b->prune_timer))
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
storage_gone(struct bot *b)
{
    const char *why;

    if (!store_file_check(b->store, &why))
        return 0;
    health_set(b, why);
    return 1;
}

/* note_fault - a failure that came from the disk, not from the event */
static void
note_fault(struct bot *b)
{
    const char *why = store_fault(b->store);

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
    left = store_disk_free(b->store);
    if (left == 0) {
        b->faulted = 1;
        health_set(b, "disk full");
        return;
    }
    if (b->faulted) {
        /* only a write that works clears a failed one */
        now = b->loop ? loop_now_ms(b->loop) : 0;
        if (store_tx_depth(b->store) || (left > 0 && left < PROBE_MIN_FREE) ||
            (b->loop && b->last_probe_ms &&
             now - b->last_probe_ms < PROBE_EVERY_MS))
            return;
        b->last_probe_ms = now;
        store_fault_clear(b->store);
        if (store_write_probe(b->store)) {
            const char *fault = store_fault(b->store);

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
    if (!b->loop)
        return BOT_OK;
    if (loop_timer_new(b->loop, on_health_timer, b, &b->health_timer))
        return BOT_ENOMEM;
    loop_timer_start(b->health_timer, 1000, 1000);
    return BOT_OK;
}

void
bot_dispatch(struct bot *b, const struct chat_event *ev, chat_done_fn *done,
             void *arg)
{
    /* without the daemon's timer (the shell), look again before refusing */
    if (b->unhealthy && !b->health_timer)
        health_check(b);
    /* nothing is taken that cannot be kept: the platform redelivers */
    if (b->unhealthy) {
        bot_finish(b, done, arg, BOT_EIO);
        return;
    }
    switch (ev->kind) {
    case CHAT_EV_MESSAGE:
        if (ev->text && command_is_command(ev->text)) {
            run_command(b, ev, done, arg);
            return;
        }
        incident_handle_event(b, ev, done, arg);
        return;
    case CHAT_EV_COMMAND:
        run_command(b, ev, done, arg);
        return;
    case CHAT_EV_REACTION_ADDED:
    case CHAT_EV_REACTION_REMOVED:
    case CHAT_EV_MESSAGE_CHANGED:
    case CHAT_EV_MESSAGE_DELETED:
        incident_handle_event(b, ev, done, arg);
        return;
    }
    bot_finish(b, done, arg, BOT_OK);
}
