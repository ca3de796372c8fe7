/*
 * webhook.h - the HTTP listener: alarm intake, /healthz and /metrics.
 *
 * Owns: a libwebsockets server vhost on the shared context (so it runs on
 * the bot's loop), each request's body (capped at 1 MiB) until it is
 * answered, and the checking of credentials: a Bearer token compared in
 * constant time, or an HMAC-SHA256 signature over "v0:<ts>:<body>" with a
 * timestamp inside five minutes. Without a configured token it only listens
 * on loopback.
 * Contract: a 2xx to an alarm means the alarm is committed; opening the
 * channel follows from the database. Bad requests change nothing.
 * Errors: webhook_new returns BOT_EINVAL (bad address, or no token on a
 * non-loopback address; *why says which) or BOT_EIO (cannot listen).
 */
#ifndef PMBOT_WEBHOOK_H
#define PMBOT_WEBHOOK_H

struct bot;
struct webhook;
struct ws_ctx;

#define WEBHOOK_BODY_MAX (1024 * 1024)

int webhook_new(struct bot *b, struct ws_ctx *ws, struct webhook **out,
                char **why);
void webhook_free(struct webhook *w);

#endif
