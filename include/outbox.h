/*
 * outbox.h - the durable outbox: every message, upload, pin, invite,
 * topic, edit, reaction and deletion the bot will do on a platform is a
 * row written in the transaction of the change that caused it, performed
 * after the commit, marked done when the platform confirms, retried with
 * backoff, and resumed at start after a crash.
 *
 * Owns: the rows in flight (one per lane) and the retry timer. Borrows the
 * core. The one place where a platform's missing capability falls back:
 *  - a post to a user (room NULL), or an ephemeral post on a platform
 *    without ephemeral messages, goes to the user's direct room (open_dm);
 *  - a thread on a platform without threads is the room;
 *  - a pin, topic, edit or reaction the platform cannot do is skipped
 *    (marked done: nothing to retry).
 *
 * Order: rows of one lane (platform and room, or platform and user for a
 * DM) are performed one at a time in id order, so a channel reads in the
 * order things happened; a pin waits for the post it pins.
 * Identity: row n carries the idempotency key "pmbot-n". A crash between a
 * send and its mark can send it again; at start, rows left by an earlier
 * process are looked for first (find_sent) on platforms that offer it.
 * Errors: the outbox_* writers return BOT_ENOMEM / BOT_EDB (roll back);
 * what the platform answers is the outbox's business (chat.h's contract):
 * final errors mark the row failed, with a log line; transient ones retry
 * up to OUTBOX_MAX_ATTEMPTS times, backing off from 1 s to 5 minutes.
 * Fault switches (tests): PMBOT_FAULT=crash-before-send kills the process
 * (SIGKILL) after a commit wrote rows, before any is performed;
 * crash-after-send kills it after the first confirmation, before its mark.
 */
#ifndef PMBOT_OUTBOX_H
#define PMBOT_OUTBOX_H

#include "chat.h"

#include <stddef.h>
#include <stdint.h>

struct core;
struct outbox;

#define OUTBOX_MAX_ATTEMPTS 8

/* outbox_new - BOT_ENOMEM. Nothing is performed before outbox_start. */
int outbox_new(struct core *c, struct outbox **out);
/* outbox_on_failed - fn(arg, about, row, rc) in the transaction that marks
 * a post written with outbox_post_about failed for good (rc the final
 * error: a deactivated user, an archived channel): about is its subject;
 * what fn writes is sent instead. One hook; NULL removes it. */
struct outbox_row;
typedef int outbox_failed_fn(void *arg, const char *about,
                             const struct outbox_row *r, int rc);
void outbox_on_failed(struct outbox *o, outbox_failed_fn *fn, void *arg);
/* outbox_free - what is in flight is forgotten (it stays pending in the
 * database). Destroy the platforms first: their cancelled callbacks come
 * back here. NULL is ok. */
void outbox_free(struct outbox *o);

/* outbox_start - perform what is pending, rows left by a crash first. */
void outbox_start(struct outbox *o);
/* outbox_kick - after a commit: perform what is due (the unit runner's
 * commit hook). */
void outbox_kick(void *o);
/* outbox_set_clock - the clock of retries (UTC ms; default the wall
 * clock: PMBOT_NOW must not freeze a backoff). For tests. */
void outbox_set_clock(struct outbox *o, int64_t (*clock)(void));
/* outbox_hold - perform nothing while on (fault injection, dry runs). */
void outbox_hold(struct outbox *o, int on);
/* outbox_watch - look for rows every ms milliseconds as well: rows that
 * another process (`pmbot remind`) wrote. Needs the core's loop. */
int outbox_watch(struct outbox *o, unsigned ms);
/* outbox_idle - 1 when nothing is in flight (pending rows may wait). */
int outbox_idle(const struct outbox *o);

/* --- in tx: rows (platform is the platform's name) --- */
/* outbox_post - *id (nullable) gets the row id, for a pin or an edit. */
int outbox_post(struct outbox *o, const char *platform,
                const struct chat_target *to, const struct chat_msg *m,
                int64_t *id);
/* outbox_post_about - outbox_post of a message about `about` (e.g.
 * "ACT-3"): a reaction to it later finds that (store_outbox_about). */
int outbox_post_about(struct outbox *o, const char *platform,
                      const struct chat_target *to, const struct chat_msg *m,
                      const char *about, int64_t *id);
/* outbox_reply - a post in the thread of the message row `parent` made
 * (once it is sent; in the room itself where the platform has no threads
 * or the parent made no message). */
int outbox_reply(struct outbox *o, const char *platform, const char *room,
                 int64_t parent, const struct chat_msg *m, int64_t *id);
int outbox_upload(struct outbox *o, const char *platform,
                  const struct chat_target *to, const char *filename,
                  const char *title, const char *content, size_t len);
/* outbox_pin - the message row post_id made. */
int outbox_pin(struct outbox *o, const char *platform, const char *room,
               int64_t post_id);
int outbox_invite(struct outbox *o, const char *platform, const char *room,
                  const char *const *users, size_t n);
int outbox_topic(struct outbox *o, const char *platform, const char *room,
                 const char *topic);
/* outbox_update / _react / _redact - the message row post_id made, or
 * (post_id 0) msg_id. */
int outbox_update(struct outbox *o, const char *platform, const char *room,
                  int64_t post_id, const char *msg_id,
                  const struct chat_msg *m);
int outbox_react(struct outbox *o, const char *platform, const char *room,
                 int64_t post_id, const char *msg_id, const char *emoji);
int outbox_redact(struct outbox *o, const char *platform, const char *room,
                  int64_t post_id, const char *msg_id);

/* outbox_send_now - a post that has nothing to commit (a refusal): sent at
 * once through the same fallbacks, never retried. */
void outbox_send_now(struct outbox *o, struct chat_platform *p,
                     const struct chat_target *to, const struct chat_msg *m);

/* outbox_msg_json / outbox_msg_parse - a message as a row holds it. */
int outbox_msg_json(const struct chat_msg *m, char **out);
int outbox_msg_parse(const char *json, struct chat_msg *m);

#endif
