/*
 * unit.c - the unit of work and the group commit (see unit.h).
 */
#include "unit.h"

#include "err.h"
#include "log.h"
#include "loop.h"
#include "mem.h"
#include "store.h"

#include <string.h>

struct ack {
    chat_done_fn *done;
    void *arg;
    int rc;
};

struct after {
    unit_after_fn *run, *drop;
    void *arg;
};

#define MAX_HOOKS 8

struct units {
    struct store *store;
    struct loop *loop;
    int group;      /* group commit on */
    int group_open; /* the group's transaction is open */
    struct loop_timer *timer;
    struct ack *acks;
    size_t nacks, capacks;
    struct after *afters; /* waiting for the commit, in order */
    size_t nafters, capafters;
    struct {
        unit_hook_fn *fn;
        void *arg;
    } hooks[MAX_HOOKS];
    size_t nhooks;
    int in_hooks, hooks_again;
    int in_unit;
    uint64_t last_commit_ms; /* loop clock of the last group commit */
    size_t last_group_n;     /* units it held */
    int (*gone)(void *);
    void (*fault)(void *);
    void *health_arg;
};

static void group_commit(void *arg);

int
units_new(struct store *st, struct loop *loop, struct units **out)
{
    struct units *u = bot_calloc(1, sizeof(*u));

    if (!u)
        return BOT_ENOMEM;
    u->store = st;
    u->loop = loop;
    *out = u;
    return BOT_OK;
}

static void
drop_from(struct units *u, size_t mark)
{
    while (u->nafters > mark) {
        struct after *a = &u->afters[--u->nafters];

        if (a->drop)
            a->drop(a->arg);
    }
}

void
units_free(struct units *u)
{
    if (!u)
        return;
    units_commit_now(u);
    loop_timer_free(u->timer);
    drop_from(u, 0);
    bot_free(u->afters);
    bot_free(u->acks);
    bot_free(u);
}

void
units_set_group(struct units *u, int on)
{
    u->group = on && u->loop;
}

int
units_on_commit(struct units *u, unit_hook_fn *fn, void *arg)
{
    if (u->nhooks == MAX_HOOKS)
        return BOT_ENOMEM;
    u->hooks[u->nhooks].fn = fn;
    u->hooks[u->nhooks++].arg = arg;
    return BOT_OK;
}

void
units_drop_hooks(struct units *u)
{
    u->nhooks = 0;
}

void
units_set_health(struct units *u, int (*gone)(void *), void (*fault)(void *),
                 void *arg)
{
    u->gone = gone;
    u->fault = fault;
    u->health_arg = arg;
}

int
units_in_unit(const struct units *u)
{
    return u->in_unit > 0;
}

/* run_hooks - after a commit; a commit inside a hook (an outbox mark in
 * the terminal, which answers at once) runs them again afterwards rather
 * than inside themselves */
static void
run_hooks(struct units *u)
{
    if (u->in_hooks) {
        u->hooks_again = 1;
        return;
    }
    u->in_hooks = 1;
    do {
        u->hooks_again = 0;
        for (size_t i = 0; i < u->nhooks; i++)
            u->hooks[i].fn(u->hooks[i].arg);
    } while (u->hooks_again);
    u->in_hooks = 0;
}

/* committed - the items of the units now on disk, then the hooks. The list
 * is detached first: an item may run units of its own. */
static void
committed(struct units *u)
{
    struct after *a = u->afters;
    size_t n = u->nafters;

    if (store_tx_depth(u->store))
        return; /* an outer transaction still holds them */
    u->afters = NULL;
    u->nafters = u->capafters = 0;
    for (size_t i = 0; i < n; i++)
        a[i].run(a[i].arg);
    bot_free(a);
    run_hooks(u);
}

static void
note_fault(struct units *u)
{
    if (u->fault)
        u->fault(u->health_arg);
}

void
units_finish(struct units *u, chat_done_fn *done, void *arg, int rc)
{
    if (!u->group_open) {
        if (done)
            done(arg, rc);
        return;
    }
    if (u->nacks == u->capacks) {
        size_t nc = u->capacks ? u->capacks * 2 : 64;
        struct ack *na = bot_realloc(u->acks, nc * sizeof(*na));

        if (!na) {
            /* cannot promise an ack after commit: do not ack at all */
            if (done)
                done(arg, BOT_ENOMEM);
            return;
        }
        u->acks = na;
        u->capacks = nc;
    }
    u->acks[u->nacks].done = done;
    u->acks[u->nacks].arg = arg;
    u->acks[u->nacks++].rc = rc;
}

void
units_commit_now(struct units *u)
{
    if (u->group_open)
        group_commit(u);
}

/* group_commit - one commit for every unit in the group, then what waited
 * for it, then the acks, in arrival order */
static void
group_commit(void *arg)
{
    struct units *u = arg;
    struct ack *d = u->acks;
    size_t n = u->nacks;
    int rc;

    if (!u->group_open)
        return;
    u->group_open = 0;
    u->acks = NULL;
    u->nacks = u->capacks = 0;
    rc = store_tx_commit(u->store);
    /* committed into a file the path no longer names: gone at exit, so
     * neither acknowledged nor announced */
    if (!rc && n && u->gone && u->gone(u->health_arg))
        rc = BOT_EIO;
    if (n) {
        /* a group that only read (a 📌 waiting for its fetch) wrote and
         * synced nothing: it does not count */
        u->last_commit_ms = loop_now_ms(u->loop);
        u->last_group_n = n;
    }
    if (rc) {
        store_tx_rollback(u->store);
        drop_from(u, 0);
        log_err("bot: could not commit %zu events (%s); they are not "
                "acknowledged and will be redelivered",
                n, bot_strerror(rc));
    } else {
        committed(u);
    }
    note_fault(u);
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
 * GROUP_BUSY units or more) they are two apart: the fsync and the pages
 * written per commit then spread over twice as many events, at the cost of
 * a millisecond in a queue that is already longer than that. A unit after
 * a quiet spell commits at once.
 */
#define GROUP_BUSY 8

static uint64_t
group_delay(struct units *u)
{
    uint64_t gap = loop_now_ms(u->loop) - u->last_commit_ms;
    uint64_t want = u->last_group_n >= GROUP_BUSY ? 2 : 1;

    return gap >= want ? 0 : want - gap;
}

int
units_busy(const struct units *u)
{
    return u->loop && u->last_group_n >= GROUP_BUSY &&
           loop_now_ms(u->loop) - u->last_commit_ms < 1000;
}

/* group_join - open the group's transaction if none is open */
static int
group_join(struct units *u)
{
    int rc;

    if (u->group_open)
        return BOT_OK;
    if (!u->timer && loop_timer_new(u->loop, group_commit, u, &u->timer))
        return BOT_ENOMEM;
    rc = store_tx_begin(u->store);
    if (rc)
        return rc;
    u->group_open = 1;
    loop_timer_start(u->timer, group_delay(u), 0);
    return BOT_OK;
}

void
units_join(struct units *u)
{
    /* a failure leaves the reads to autocommit: slower, still right */
    if (u->group && u->loop)
        (void)group_join(u);
}

int
unit_after(struct units *u, unit_after_fn *run, unit_after_fn *drop,
           void *arg)
{
    if (!u->in_unit) {
        run(arg);
        return BOT_OK;
    }
    if (u->nafters == u->capafters) {
        size_t nc = u->capafters ? u->capafters * 2 : 16;
        struct after *na = bot_realloc(u->afters, nc * sizeof(*na));

        if (!na) {
            if (drop)
                drop(arg);
            return BOT_ENOMEM;
        }
        u->afters = na;
        u->capafters = nc;
    }
    u->afters[u->nafters].run = run;
    u->afters[u->nafters].drop = drop;
    u->afters[u->nafters++].arg = arg;
    return BOT_OK;
}

static int
refusal(int rc)
{
    return rc == BOT_EINVAL || rc == BOT_ENOTFOUND;
}

int
unit_run(struct units *u, const struct unit *w, int *dup)
{
    size_t mark;
    int rc = BOT_OK, first = 1;

    if (w->flags & UNIT_ALONE)
        units_commit_now(u);
    else if ((u->group || (w->flags & UNIT_GROUPED)) && u->loop)
        rc = group_join(u);
    mark = u->nafters;
    if (!rc)
        rc = store_tx_begin(u->store);
    if (rc) {
        /* nothing of ours to roll back: the group holds other units */
        note_fault(u);
        units_finish(u, w->done, w->done_arg, rc);
        return rc;
    }
    u->in_unit++;
    if (w->id)
        rc = store_event_claim(u->store, w->source, w->id, w->now, &first);
    if (!rc && first)
        rc = w->fn(w->arg);
    u->in_unit--;
    if (!rc)
        rc = store_tx_commit(u->store);
    if (rc) {
        store_tx_rollback(u->store);
        drop_from(u, mark);
        if (!store_tx_depth(u->store))
            note_fault(u);
    } else if (!u->in_unit) {
        committed(u);
    }
    if (dup)
        *dup = !rc && !first;
    units_finish(u, w->done, w->done_arg, refusal(rc) ? BOT_OK : rc);
    return rc;
}
