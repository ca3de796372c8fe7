/*
 * slack.h - the Slack platform: Socket Mode for events, the Web API for
 * everything pmbot does in Slack.
 *
 * Owns: the Socket Mode connections (make-before-break on refresh,
 * reconnect with capped exponential backoff and jitter), the queue of Web
 * API calls (per-method Retry-After gates, retries of transient failures),
 * and the envelopes between arrival and ack. An envelope is acked only
 * after its effects are committed; envelopes that arrive together share one
 * commit. The tokens are read from the configuration and never logged.
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
