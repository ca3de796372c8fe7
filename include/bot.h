/*
 * bot.h - the bot: the router between the platforms and the domain.
 *
 * Owns: the store, the unit runner, the outbox, the scheduler, the
 * incident domain, the connected platforms (a list: several run at once
 * on one loop), and the daemon's storage timers (checkpoint, health,
 * pruning). Borrows the configuration and the loop, which outlive it.
 *
 * Routing: bot_dispatch sends a command (a slash command, a message
 * beginning with the command prefix, anything in a DM with the bot) to
 * commands/, everything else to the incident timeline; each is one unit of
 * work (unit.h): its changes one transaction, what it says written to the
 * outbox in that transaction and sent after the commit, its ack after the
 * commit too. A redelivered event (same event_id) has no second effect.
 */
#ifndef PMBOT_BOT_H
#define PMBOT_BOT_H

#include "chat.h"
#include "core.h"
#include "metrics.h"

#include <stddef.h>
#include <stdint.h>

struct config;
struct loop;
struct store;
struct loop_timer;
struct incidents;
struct scheduler;
struct duty;
struct strbuf;
struct ckpt;

struct bot {
    struct core core;               /* what the domain modules share; its
                                       store is owned here */
    struct chat_platform **platforms; /* owned; core.platforms */
    size_t capplatforms;
    struct incidents *incidents;    /* owned */
    struct scheduler *scheduler;    /* owned */
    struct duty *duties;            /* owned: the scheduler's table */
    const char *alarm_platform;     /* where alarms open channels; NULL:
                                       the first platform */
    struct metrics metrics;         /* for GET /metrics */
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
 * bot_open - open the database named by cfg and make a bot. On failure
 * *why gets a new one-line reason for the user (free with bot_free) and
 * the return is BOT_ENEWER, BOT_EIO, BOT_EDB, BOT_ENOMEM, BOT_EEXIST
 * (BOT_OPEN_DAEMON: another pmbot runs on it, the reason naming its pid)
 * or BOT_ENOTFOUND (BOT_OPEN_READ: "no database at PATH").
 * BOT_OPEN_WRITE creates and migrates; BOT_OPEN_DAEMON also claims the
 * database for this process alone; BOT_OPEN_READ never creates, migrates
 * or writes, for commands that only read.
 */
enum bot_open_mode { BOT_OPEN_WRITE, BOT_OPEN_DAEMON, BOT_OPEN_READ };
int bot_open(const struct config *cfg, struct loop *loop, int mode,
             struct bot **out, char **why);
/* bot_new - bot_open(BOT_OPEN_WRITE). */
int bot_new(const struct config *cfg, struct loop *loop, struct bot **out,
            char **why);
/* bot_destroy - commits an open group, destroys the platforms (cancelling
 * what they have pending), then the rest. NULL is ok. */
void bot_destroy(struct bot *b);

/* bot_set_platform - add p (taken; destroyed with the bot): events from it
 * are routed here, and incidents on it are served by it. */
int bot_set_platform(struct bot *b, struct chat_platform *p);

/* bot_take_platform - remove p from the bot (the caller destroys it). */
void bot_take_platform(struct bot *b, struct chat_platform *p);

/* bot_start - finish what a crash left undone (the outbox's pending rows,
 * channels not yet opened) and run the duties that fell due while
 * stopped. Nothing is sent before it. */
void bot_start(struct bot *b);
/* bot_schedule - the daemon: run each duty when it falls due, on a timer
 * of the loop. */
void bot_schedule(struct bot *b);

int64_t bot_now_ms(const struct bot *b);

/* bot_set_now - fix the clock (PMBOT_NOW, /clock; 0 = the wall clock);
 * a clock moved forward runs the duties now due. */
void bot_set_now(struct bot *b, int64_t ms);

/*
 * bot_dispatch - handle one inbound event from ev->platform (NULL: the
 * first platform). done (nullable) is called once, after the event's
 * effects are committed (rc BOT_OK) or after they were rolled back (rc <
 * 0; the user was told why where that applies). It may be called before
 * bot_dispatch returns. ev is borrowed for the call only.
 */
void bot_dispatch(struct bot *b, const struct chat_event *ev,
                  chat_done_fn *done, void *arg);

/* --- for the adapters --- */

/* bot_ack - done(arg, rc) now, or after the open group commits: an ack
 * for something an adapter decided itself. */
void bot_ack(struct bot *b, chat_done_fn *done, void *arg, int rc);
/* bot_is_incident_room - 1 when room on p is an incident's channel. */
int bot_is_incident_room(struct bot *b, struct chat_platform *p,
                         const char *room);
/* bot_put_user - keep user id's display name on p and, when tz is not
 * NULL and a zone of the system's tz database, the user's time zone (a
 * unit of work of its own, in the open group if there is one). */
int bot_put_user(struct bot *b, struct chat_platform *p, const char *id,
                 const char *name, const char *tz);

/* bot_set_group_commit - group commit for a platform that acks (Slack);
 * see units_set_group. Needs a loop. */
void bot_set_group_commit(struct bot *b, int on);

/* bot_hold_channels - open no channels (fault injection); bot_start
 * opens them at the next start. */
void bot_hold_channels(struct bot *b, int on);

/* bot_alarm_platform - the platform alarms open channels on: the named
 * one if connected, else the first; NULL with none. */
struct chat_platform *bot_alarm_platform(struct bot *b);

/*
 * bot_remind - one pass of the scheduler at `now` (`pmbot remind`): every
 * duty due then, once. With dry, nothing is claimed, written or sent;
 * what would be sent is appended to dry. *ran (nullable) counts the duties
 * that did something.
 */
int bot_remind(struct bot *b, int64_t now, struct strbuf *dry, int *ran);

/* bot_watch_outbox - the daemon also looks for outbox rows every 2 s:
 * those `pmbot remind` wrote while it ran. */
int bot_watch_outbox(struct bot *b);
/* bot_outbox_pending - *n outbox rows not yet sent (BOT_EDB). */
int bot_outbox_pending(struct bot *b, long *n);
/* bot_outbox_idle - 1 when the outbox has nothing in flight. */
int bot_outbox_idle(const struct bot *b);

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
 * commit looking again before it acks. It serves GET /healthz (503 with
 * the reason) and the alarm listener (503 before taking an alarm). While
 * unhealthy, bot_dispatch refuses every event (done gets BOT_EIO: not
 * acked, redelivered), and a group commit that finds the file gone after
 * committing acknowledges nothing. The change is logged once each way; it
 * clears by itself when the cause does.
 */
int bot_healthy(struct bot *b, const char **why);
/* bot_watch_health - the daemon checks bot_healthy every second. */
int bot_watch_health(struct bot *b);

/* bot_prune_in_background - the daemon deletes, in small batches inside
 * its group commits, dedupe rows older than [storage] dedupe_days, done
 * outbox rows as old, and the cached messages of incidents resolved more
 * than cache_days ago (by bot_now_ms, so PMBOT_NOW applies). */
int bot_prune_in_background(struct bot *b);

#endif
