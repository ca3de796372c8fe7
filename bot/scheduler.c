/*
 * scheduler.c - durable jobs on one timer (see scheduler.h).
 */
#include "scheduler.h"

#include "core.h"
#include "err.h"
#include "log.h"
#include "loop.h"
#include "mem.h"
#include "store.h"
#include "strbuf.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>

#define BATCH 64
#define MAX_WAIT_MS (3600 * 1000LL) /* look again at least hourly */
#define MIN_WAIT_MS 100             /* never a busy loop on the timer */
#define FAILED_WAIT_MS (60 * 1000LL)  /* a duty that failed tries again */
#define UNKNOWN_WAIT_MS (3600 * 1000LL) /* a kind this pmbot lacks */

struct scheduler {
    struct core *c;
    const struct duty *duties;
    size_t n;
    struct loop_timer *timer;
    int64_t armed_at; /* 0: not armed */
    int running;
    int started; /* the timer is the daemon's: armed after bot_start */
};

int
scheduler_new(struct core *c, const struct duty *duties, size_t n,
              struct scheduler **out)
{
    struct scheduler *s = bot_calloc(1, sizeof(*s));

    if (!s)
        return BOT_ENOMEM;
    s->c = c;
    s->duties = duties;
    s->n = n;
    *out = s;
    return BOT_OK;
}

void
scheduler_free(struct scheduler *s)
{
    if (!s)
        return;
    loop_timer_free(s->timer);
    bot_free(s);
}

static const struct duty *
duty_of(const struct scheduler *s, const char *kind)
{
    for (size_t i = 0; i < s->n; i++) {
        if (!strcmp(s->duties[i].kind, kind))
            return &s->duties[i];
    }
    return NULL;
}

struct firing {
    struct scheduler *s;
    const struct duty *d;
    const struct job *j;
    int skipped;
    int64_t now;
};

/* fire - the unit: claim the period, then the duty; lost to another
 * process (or this one, earlier), it does nothing */
static int
fire(void *arg)
{
    struct firing *f = arg;
    int claimed;
    int rc = store_job_claim(f->s->c->store, f->j, core_now_ms(f->s->c),
                             &claimed);

    f->skipped = 1;
    if (rc || !claimed)
        return rc;
    return f->d->fire(f->d->ctx, f->j, f->now, NULL, &f->skipped);
}

struct postpone {
    struct store *st;
    const struct job *j;
    int64_t at;
};

static int
do_postpone(void *arg)
{
    struct postpone *p = arg;

    return store_job_postpone(p->st, p->j, p->at);
}

/* postpone - a job that cannot run now waits, so it is not run again at
 * once (a busy loop) nor holds up the batch */
static int
postpone(struct scheduler *s, const struct job *j, int64_t at)
{
    struct postpone p = {s->c->store, j, at};
    struct unit w = {0};

    w.fn = do_postpone;
    w.arg = &p;
    w.flags = UNIT_ALONE;
    return unit_run(s->c->units, &w, NULL);
}

int
scheduler_run(struct scheduler *s, int64_t now, struct strbuf *dry, int *ran)
{
    struct job *jobs = NULL;
    size_t n = 0;
    int rc, count = 0, failed = 0;

    if (ran)
        *ran = 0;
    if (s->running)
        return BOT_OK;
    s->running = 1;
    rc = store_job_due(s->c->store, now, BATCH, &jobs, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        struct firing f = {s, duty_of(s, jobs[i].kind), &jobs[i], 1, now};
        struct unit w = {0};
        int frc;

        if (!f.d) {
            log_warn("scheduler: no duty %s (a newer pmbot's?); it waits an "
                     "hour", jobs[i].kind);
            if (!dry)
                rc = postpone(s, &jobs[i], now + UNKNOWN_WAIT_MS);
            continue;
        }
        if (dry) {
            frc = f.d->fire(f.d->ctx, &jobs[i], now, dry, &f.skipped);
        } else {
            w.fn = fire;
            w.arg = &f;
            w.flags = UNIT_ALONE; /* claimed and written before the next */
            frc = unit_run(s->c->units, &w, NULL);
        }
        if (frc && !dry) {
            /* rolled back, claim included: it is due again, in a minute */
            log_err("scheduler: %s for %lld (%s) failed (%s); trying again "
                    "in a minute",
                    jobs[i].kind, (long long)jobs[i].subject, jobs[i].period,
                    bot_strerror(frc));
            if (!failed)
                failed = frc; /* said after the batch */
            rc = postpone(s, &jobs[i], now + FAILED_WAIT_MS);
            continue;
        }
        rc = frc;
        if (!rc && !f.skipped)
            count++;
    }
    /* a full batch: more may be due (each job of it was claimed or
     * postponed, so the next batch holds others) */
    if (!rc && n == BATCH && !dry) {
        int more = 0;

        store_job_list_free(jobs, n);
        s->running = 0;
        rc = scheduler_run(s, now, dry, &more);
        if (ran)
            *ran = count + more;
        return rc ? rc : failed;
    }
    store_job_list_free(jobs, n);
    s->running = 0;
    if (ran)
        *ran = count;
    if (rc)
        log_err("scheduler: a duty failed (%s); it stays due and is tried "
                "again", bot_strerror(rc));
    return rc ? rc : failed;
}

static void
on_timer(void *arg)
{
    struct scheduler *s = arg;

    s->armed_at = 0;
    scheduler_run(s, core_now_ms(s->c), NULL, NULL);
    scheduler_arm(s); /* armed_at 0: it looks */
}

void
scheduler_start(struct scheduler *s)
{
    s->started = 1;
    scheduler_arm(s);
}

void
scheduler_arm(void *arg)
{
    struct scheduler *s = arg;
    int64_t now, at, wait;

    if (!s->c->loop || s->running || !s->started)
        return;
    /* after every commit: only one that scheduled a duty can change the
     * earliest (the timer itself re-arms after running) */
    if (s->armed_at && !s->c->jobs_added)
        return;
    s->c->jobs_added = 0;
    if (store_job_next(s->c->store, &at))
        at = 0; /* none waits (or the look failed): look again later */
    now = core_now_ms(s->c);
    wait = at ? at - now : MAX_WAIT_MS;
    if (wait < MIN_WAIT_MS)
        wait = MIN_WAIT_MS;
    if (wait > MAX_WAIT_MS)
        wait = MAX_WAIT_MS; /* a clock moved by PMBOT_NOW, or NTP */
    if (s->armed_at && s->armed_at <= now + wait)
        return;
    if (!s->timer && loop_timer_new(s->c->loop, on_timer, s, &s->timer))
        return;
    s->armed_at = now + wait;
    loop_timer_start(s->timer, (uint64_t)wait, 0);
}
