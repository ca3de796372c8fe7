/*
 * scheduler.h - durable jobs: a duty (kind) for a subject once per period,
 * due at a time, kept in the database (store_job_*). One loop timer is
 * armed for the earliest due job; each firing is a unit of work that
 * claims the job's period (due -> done) and runs the duty in the same
 * transaction, so what the duty writes to the outbox goes out once per
 * period across restarts and concurrent runs (the daemon's timer, `pmbot
 * remind` from cron): the claim is the one row only one of them can move.
 *
 * Owns: its timer and the duty table (borrowed, static). Borrows the core.
 * Errors: BOT_ENOMEM, BOT_EDB.
 */
#ifndef PMBOT_SCHEDULER_H
#define PMBOT_SCHEDULER_H

#include <stddef.h>
#include <stdint.h>

struct core;
struct job;
struct strbuf;
struct scheduler;

/* duty_fn - in tx, the period claimed (dry: not claimed, and the duty
 * only describes to dry what it would send); now is the pass's time. *skipped = 1 when there was
 * nothing to do (the review started meanwhile). */
typedef int duty_fn(void *ctx, const struct job *j, int64_t now,
                    struct strbuf *dry, int *skipped);

struct duty {
    const char *kind;
    duty_fn *fire;
    void *ctx;
};

int scheduler_new(struct core *c, const struct duty *duties, size_t n,
                  struct scheduler **out);
void scheduler_free(struct scheduler *s);

/* scheduler_run - run every job due at `now` once. With dry, nothing is
 * claimed or written: what would be sent goes to dry. *ran (nullable)
 * counts the duties that did something. */
int scheduler_run(struct scheduler *s, int64_t now, struct strbuf *dry,
                  int *ran);

/* scheduler_start - from now on keep the timer armed. */
void scheduler_start(struct scheduler *s);

/* scheduler_arm - (re)arm the timer for the earliest due job (a commit
 * hook: a commit may have added one). Needs a loop; else nothing. */
void scheduler_arm(void *s);

#endif
