/*
 * bot.h - the bot: configuration, storage, loop and platform, and the one
 * entry point for inbound chat events.
 *
 * Owns: the store, the platform (once set), the outbox of replies waiting
 * for their transaction to commit, the set of incidents whose channel
 * is being opened, and the daemon's storage timers (checkpoint, health,
 * pruning).
 * Borrows: the configuration and the loop, which outlive it.
 *
 * The rule that keeps data safe: an event's database changes are one
 * transaction; replies and other chat side effects are queued and sent only
 * after it commits; the adapter's `done` callback (its ack) fires only after
 * the commit too. A redelivered event (same event_id) has no second effect.
 */
#ifndef PMBOT_BOT_H
#define PMBOT_BOT_H

#include "chat.h"
#include "metrics.h"

#include <stddef.h>
#include <stdint.h>

struct config;
struct loop;
struct store;
struct outbox_item;
struct deferred;
struct loop_timer;
struct tagging;
struct ckpt;

struct bot {
    const struct config *cfg;       /* borrowed */
    struct loop *loop;              /* borrowed; NULL in unit tests */
    struct store *store;            /* owned */
    struct chat_platform *platform; /* owned once set; NULL before */
    int64_t fixed_now;              /* UTC ms; 0 = the wall clock */
    struct outbox_item *outbox;     /* queued until commit, FIFO */
    struct outbox_item **outbox_tail;
    int64_t *opening;               /* incident ids with an open pending */
    size_t nopening, capopening;
    int group;                      /* group commit on (see below) */
    int group_open;                 /* the group's transaction is open */
    struct deferred *deferred;      /* done callbacks waiting for it */
    size_t ndeferred, capdeferred;
    struct loop_timer *group_timer;
    uint64_t last_commit_ms;        /* loop clock of the last group commit */
    size_t last_group_n;            /* events it held */
    struct metrics metrics;         /* for GET /metrics */
    int hold_channels;              /* see bot_hold_channels */
    int channels_pending;           /* an incident may lack its channel */
    char **room_names;              /* incident channels, newest last */
    int64_t *room_ids;
    size_t nrooms, caprooms;
    int rooms_loaded;
    struct {
        int64_t id, at;
    } later[32];                    /* failed openings: not before at */
    size_t nlater;
    struct tagging *taggings;       /* tags waiting for a fetched message */
    struct loop_timer *ckpt_timer;  /* see bot_checkpoint_in_background */
    struct ckpt *checkpointing;     /* the checkpoint in flight, if any */
    int ckpt_failing;               /* the last one failed */
    const char *unhealthy;          /* see bot_healthy; NULL = healthy */
    int faulted;                    /* a write failed: probe before trusting */
    uint64_t last_probe_ms;
    struct loop_timer *health_timer;
    struct loop_timer *prune_timer;
};

/*
 * bot_new - open the database named by cfg and make a bot. On failure *why
 * gets a new one-line reason for the user (free with bot_free) and the
 * return is BOT_ENEWER, BOT_EIO, BOT_EDB or BOT_ENOMEM.
 */
int bot_new(const struct config *cfg, struct loop *loop, struct bot **out,
            char **why);
/*
 * bot_open - bot_new with a say in how the database is opened:
 * BOT_OPEN_WRITE is bot_new's; BOT_OPEN_DAEMON also claims the database for
 * this process alone (BOT_EEXIST while another pmbot runs on it, the
 * reason naming its pid); BOT_OPEN_READ never creates, migrates or writes
 * (BOT_ENOTFOUND: "no database at PATH"), for commands that only read.
 */
enum bot_open_mode { BOT_OPEN_WRITE, BOT_OPEN_DAEMON, BOT_OPEN_READ };
int bot_open(const struct config *cfg, struct loop *loop, int mode,
             struct bot **out, char **why);
/* bot_destroy - destroys the platform (cancelling what it has pending),
 * then closes the store. NULL is ok. */
void bot_destroy(struct bot *b);

/* bot_checkpoint_in_background - the daemon's WAL checkpoints run on a
 * worker thread instead of inside commits: every 2 s, and after a commit
 * that left STORE_WAL_CHECKPOINT_FRAMES pages in the WAL. */
int bot_checkpoint_in_background(struct bot *b);

/*
 * bot_healthy - 1 when events can be taken and kept; 0 with *why (if not
 * NULL) a static reason ("database file was deleted", "database file was
 * replaced", "disk full", "database I/O error", ...) when not. It looks
 * (a stat of the database and its -wal, a statvfs; after a failed write,
 * a tiny real commit at most every 500 ms once 1 MiB is free) each call,
 * or, in the daemon (bot_watch_health), once a second on its timer, a
 * commit looking again before it acks. It serves GET /healthz (503 with the reason) and the alarm
 * listener (503 before taking an alarm). While unhealthy, bot_dispatch
 * refuses every event (done gets BOT_EIO: not acked, redelivered), and a
 * group commit that finds the file gone after committing acknowledges
 * nothing. The change is logged once each way; it clears by itself when
 * the cause does (space freed, the file back under its name).
 */
int bot_healthy(struct bot *b, const char **why);
/* bot_watch_health - the daemon checks bot_healthy every second, so it
 * recovers without being asked. */
int bot_watch_health(struct bot *b);

/* bot_prune_in_background - the daemon deletes, in small batches inside
 * its group commits, dedupe rows older than [storage] dedupe_days and the
 * cached messages of incidents resolved more than cache_days ago (by
 * bot_now_ms, so PMBOT_NOW applies). */
int bot_prune_in_background(struct bot *b);

/* bot_set_platform - takes p (destroyed with the bot). */
void bot_set_platform(struct bot *b, struct chat_platform *p);

/* bot_start - finish what a crash left undone: open the channels of
 * incidents that have none yet. */
void bot_start(struct bot *b);

int64_t bot_now_ms(const struct bot *b);

/*
 * bot_dispatch - handle one inbound event. done (nullable) is called once,
 * after the event's effects are committed (rc BOT_OK) or after they were
 * rolled back (rc < 0; the user was told why where that applies). It may be
 * called before bot_dispatch returns. ev is borrowed for the call only.
 */
void bot_dispatch(struct bot *b, const struct chat_event *ev,
                  chat_done_fn *done, void *arg);

/*
 * bot_set_group_commit - group commit for a platform that acks (Slack):
 * the events of one turn of the loop share one transaction (each still
 * undone alone on failure, as a savepoint), and their done callbacks run
 * after that one commit. Without it (the terminal) each event commits and
 * answers at once. Needs a loop.
 */
void bot_set_group_commit(struct bot *b, int on);

/* --- for the incident and command code --- */

/* bot_tx_begin - begin an event's transaction (joining the open group). */
int bot_tx_begin(struct bot *b);
/* bot_tx_begin_grouped - the same, always joining a group commit when
 * there is a loop (the alarm listener: many requests, one fsync). */
int bot_tx_begin_grouped(struct bot *b);
/* bot_tx_join - reads are coming: with group commit they run inside the
 * group's transaction (opened if need be) rather than each taking and
 * dropping a read lock of its own. Without group commit, nothing. */
void bot_tx_join(struct bot *b);
/* bot_hold_channels - do not open channels after commits (fault
 * injection); bot_start still opens them at the next start. */
void bot_hold_channels(struct bot *b, int on);
/* bot_finish - an event is done: call done now, or after the group's
 * commit when one is open. */
void bot_finish(struct bot *b, chat_done_fn *done, void *arg, int rc);

/* bot_room_add / bot_room_find - the in-memory map of incident channels
 * to incident ids (the incident code fills it). */
int bot_room_add(struct bot *b, const char *room, int64_t id);
int bot_room_find(const struct bot *b, const char *room, int64_t *id);

/* bot_after_commit - flush the outbox and open pending channels, unless an
 * outer transaction (a batch) is still open. */
void bot_after_commit(struct bot *b);

/* bot_reply - queue msg (taken) as the reply to ev: through ev->reply if
 * set, else posted in ev's room. Sent after commit. */
void bot_reply(struct bot *b, const struct chat_event *ev,
               struct chat_msg *msg);
/* bot_upload - queue a document for room; takes content (len bytes). */
void bot_upload(struct bot *b, const char *room, const char *filename,
                const char *title, char *content, size_t len);
/* bot_reply_now - send an error reply at once (nothing to commit). */
void bot_reply_now(struct bot *b, const struct chat_event *ev,
                   struct chat_msg *msg);

/* bot_outbox_flush / _drop - after a commit / a rollback. */
void bot_outbox_flush(struct bot *b);
void bot_outbox_drop(struct bot *b);

/* bot_opening_later / _deferred - a failed opening waits until `at`
 * instead of being tried again at every commit. */
void bot_opening_later(struct bot *b, int64_t id, int64_t at);
int bot_opening_deferred(struct bot *b, int64_t id, int64_t now);
/* bot_group_commit_now - end the open group at once (if any). */
void bot_group_commit_now(struct bot *b);

/* bot_opening_* - the in-memory guard against opening a channel twice. */
int bot_opening_add(struct bot *b, int64_t incident_id);
int bot_opening_has(const struct bot *b, int64_t incident_id);
void bot_opening_remove(struct bot *b, int64_t incident_id);

#endif
