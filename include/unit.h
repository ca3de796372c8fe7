/*
 * unit.h - the unit of work: every inbound thing (a chat event, a slash
 * command, an alarm, a scheduled duty, a review answer, an outbox mark)
 * runs through unit_run, which owns its transaction, its dedupe claim, the
 * work that must wait for its commit, and its ack.
 *
 * The shape (redis's call()): begin a savepoint inside the group commit;
 * claim (source, id) in processed_events, a redelivery stopping there;
 * run the work; release or roll back the savepoint; queue what waits for
 * the commit (after-commit items of this unit, the acks); the group's one
 * commit then runs them in arrival order, and the commit hooks (the
 * outbox, channel openings) after them.
 *
 * Owns: the group commit (its transaction, its timer), the deferred acks
 * and after-commit items, the list of commit hooks. Borrows the store and
 * the loop. Knows nothing of incidents, commands or platforms: a source is
 * a name ("slack", "webhook-signature", "scheduler").
 *
 * Invariants:
 *  - an ack (done) runs once, after the commit that holds the unit's
 *    effects, or at once with an error when they were rolled back;
 *  - an after-commit item runs only once its unit is committed; a unit
 *    rolled back (or a group that fails to commit) drops it instead;
 *  - a duplicate (the id claimed before) commits nothing and acks BOT_OK.
 * Errors: what the work returned; BOT_EDB / BOT_EIO / BOT_ENOMEM from the
 * store; BOT_EINVAL and BOT_ENOTFOUND are refusals (the work told the user
 * why): rolled back, and acked BOT_OK, since a redelivery would be refused
 * again.
 */
#ifndef PMBOT_UNIT_H
#define PMBOT_UNIT_H

#include "chat.h"

#include <stddef.h>
#include <stdint.h>

struct units;
struct store;
struct loop;

/* unit_fn - the work, inside the unit's transaction. */
typedef int unit_fn(void *arg);
/* unit_after_fn - an after-commit item (run) or its disposal (drop). */
typedef void unit_after_fn(void *arg);
/* unit_hook_fn - runs after every commit that leaves no transaction open. */
typedef void unit_hook_fn(void *arg);

enum {
    UNIT_GROUPED = 1, /* join a group commit even without group mode */
    UNIT_ALONE = 2    /* commit on its own, now: the group is ended first */
};

struct unit {
    const char *source; /* dedupe namespace; with id */
    const char *id;     /* NULL: nothing to claim */
    int64_t now;        /* when it is claimed (UTC ms) */
    int flags;          /* UNIT_* */
    unit_fn *fn;
    void *arg;
    chat_done_fn *done; /* the ack; nullable */
    void *done_arg;
};

/* units_new - BOT_ENOMEM; loop may be NULL (no group commit then). */
int units_new(struct store *st, struct loop *loop, struct units **out);
/* units_free - commits an open group first (its acks run). NULL is ok. */
void units_free(struct units *u);

/* units_set_group - group commit (a platform that acks, Slack): the units
 * of one turn of the loop share one transaction and one fsync. */
void units_set_group(struct units *u, int on);

/* units_on_commit - add a commit hook (at most 8). */
int units_on_commit(struct units *u, unit_hook_fn *fn, void *arg);

/* units_drop_hooks - run no hook any more (shutdown: what they call is
 * about to be freed). */
void units_drop_hooks(struct units *u);

/* units_set_health - gone(arg) after a group commit: nonzero means the file
 * committed into is no longer the database (nothing is acked); fault(arg)
 * after any failure, to look at the store's last error. Nullable. */
void units_set_health(struct units *u, int (*gone)(void *),
                      void (*fault)(void *), void *arg);

/* unit_run - run w as described above; *dup (nullable) = 1 when the id was
 * claimed before. Returns the work's rc (BOT_OK for a duplicate). */
int unit_run(struct units *u, const struct unit *w, int *dup);

/* unit_after - inside a unit's work: run(arg) after its commit, or
 * drop(arg) if it is rolled back (drop may be NULL). BOT_ENOMEM (drop has
 * been called). Outside a unit it runs at once. */
int unit_after(struct units *u, unit_after_fn *run, unit_after_fn *drop,
               void *arg);

/* units_finish - an ack outside unit_run: done(arg, rc) now, or after the
 * open group commits (its failure replacing rc). */
void units_finish(struct units *u, chat_done_fn *done, void *arg, int rc);

/* units_join - reads are coming: inside the group's transaction if group
 * commit is on (one read lock instead of one per read). */
void units_join(struct units *u);

/* units_commit_now - end the open group at once (if any). */
void units_commit_now(struct units *u);

/* units_busy - 1 during a burst: the last group held 8 or more units and
 * committed less than a second ago (background work waits). */
int units_busy(const struct units *u);

/* units_in_unit - 1 while a unit's work runs. */
int units_in_unit(const struct units *u);

#endif
