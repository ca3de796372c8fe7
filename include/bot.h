/*
 * bot.h - the bot: configuration, storage, loop and platform, and the one
 * entry point for inbound chat events.
 *
 * Owns: the store, the platform (once set), the outbox of replies waiting
 * for their transaction to commit, and the set of incidents whose channel
 * is being opened.
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

#include <stddef.h>
#include <stdint.h>

struct config;
struct loop;
struct store;
struct outbox_item;

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
};

/*
 * bot_new - open the database named by cfg and make a bot. On failure *why
 * gets a new one-line reason for the user (free with bot_free) and the
 * return is BOT_ENEWER, BOT_EIO, BOT_EDB or BOT_ENOMEM.
 */
int bot_new(const struct config *cfg, struct loop *loop, struct bot **out,
            char **why);
/* bot_destroy - destroys the platform (cancelling what it has pending),
 * then closes the store. NULL is ok. */
void bot_destroy(struct bot *b);

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
 * bot_batch_begin / bot_batch_end - group commit: events dispatched between
 * the two share one transaction (each still undone alone on failure), and
 * their replies go out after the one commit. An adapter acks the batch's
 * events only when bot_batch_end returns BOT_OK; on failure everything in
 * the batch is rolled back and must not be acked.
 */
int bot_batch_begin(struct bot *b);
int bot_batch_end(struct bot *b);

/* --- for the incident and command code --- */

/* bot_after_commit - flush the outbox and open pending channels, unless an
 * outer transaction (a batch) is still open. */
void bot_after_commit(struct bot *b);

/* bot_reply - queue msg (taken) as the reply to ev: through ev->reply if
 * set, else posted in ev's room. Sent after commit. */
void bot_reply(struct bot *b, const struct chat_event *ev,
               struct chat_msg *msg);
/* bot_post - queue msg (taken) for room, sent after commit. */
void bot_post(struct bot *b, const char *room, struct chat_msg *msg);
/* bot_upload - queue a document for room; takes content (len bytes). */
void bot_upload(struct bot *b, const char *room, const char *filename,
                const char *title, char *content, size_t len);
/* bot_reply_now - send an error reply at once (nothing to commit). */
void bot_reply_now(struct bot *b, const struct chat_event *ev,
                   struct chat_msg *msg);

/* bot_outbox_flush / _drop - after a commit / a rollback. */
void bot_outbox_flush(struct bot *b);
void bot_outbox_drop(struct bot *b);

/* bot_opening_* - the in-memory guard against opening a channel twice. */
int bot_opening_add(struct bot *b, int64_t incident_id);
int bot_opening_has(const struct bot *b, int64_t incident_id);
void bot_opening_remove(struct bot *b, int64_t incident_id);

#endif
