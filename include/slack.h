/*
 * slack.h - the Slack platform: Socket Mode for events, the Web API for
 * everything pmbot does in Slack.
 *
 * Owns: the Socket Mode connections (make-before-break on refresh,
 * reconnect with capped exponential backoff and jitter;
 * bot/adapters/slack_socket.c), its Web API queue (bot/webapi.c: per-method
 * Retry-After gates, retries of transient failures), the fetches of
 * messages from history (slack_history.c), and the envelopes between
 * arrival and ack. An envelope is acked only after its effects are
 * committed; envelopes that arrive together share one commit. The tokens
 * are read from the configuration and never logged.
 * Operations (chat.h v2): threads, ephemeral posts (no msg_id: Slack's
 * ephemeral messages cannot be found again), the idempotency key carried
 * as message metadata and looked for by find_sent in the channel's newest
 * 100 top-level messages (a post in a thread: the thread's first 100); react knows a few emoji characters (and the
 * configured timeline emoji) by their Slack names and refuses others with
 * BOT_EINVAL. Errors follow chat.h: already_pinned/in_channel/reacted are
 * BOT_OK, *_not_found BOT_ENOTFOUND, name_taken BOT_EEXIST, any other
 * refusal BOT_EINVAL, transient failures BOT_EIO once retries ran out.
 * Errors: slack_new returns BOT_ENOMEM or BOT_EIO.
 */
#ifndef PMBOT_SLACK_H
#define PMBOT_SLACK_H

struct chat_platform;
struct config;
struct loop;
struct ws_ctx;

/* slack_new - the platform; it connects once slack_start is called (after
 * bot_set_platform). ws is borrowed and must outlive the platform. */
int slack_new(struct loop *loop, struct ws_ctx *ws, const struct config *cfg,
              struct chat_platform **out);
void slack_start(struct chat_platform *p);

#endif
