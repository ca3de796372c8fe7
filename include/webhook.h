/*
 * webhook.h - the HTTP listener: alarm intake, /healthz and /metrics.
 *
 * Owns: the listening sockets (every address the configured name resolves
 * to, bound exactly: 127.0.0.1, [::1], a host name), a libwebsockets
 * context of its own on the bot's loop for HTTP parsing, every accepted
 * connection, each request's body (capped at WEBHOOK_BODY_MAX, chunked or
 * not) until it is answered, and the checking of credentials: a Bearer
 * token compared in constant time, or an HMAC-SHA256 signature over
 * "v0:<ts>:<body>" with a timestamp inside five minutes, each signature
 * accepted once. Without a configured token it only listens when every
 * address is loopback.
 * Bounds: one request per connection (every answer closes it); at most
 * WEBHOOK_CONN_MAX connections (the oldest one not being answered is
 * closed to admit a new one); the request, head and body, must arrive
 * within body_timeout seconds of the connection opening, or the connection
 * is closed.
 * Contract: a 2xx to an alarm means the alarm is committed; opening the
 * channel follows from the database. Bad requests change nothing.
 * Errors: webhook_new returns BOT_EINVAL (bad address, or no token on a
 * non-loopback address; *why, new, says which) or BOT_EIO (cannot listen).
 */
#ifndef PMBOT_WEBHOOK_H
#define PMBOT_WEBHOOK_H

struct bot;
struct webhook;

#define WEBHOOK_BODY_MAX (1024 * 1024)
#define WEBHOOK_CONN_MAX 512

/* webhook_new - listen on b->cfg's [webhook] listen, on b's loop. */
int webhook_new(struct bot *b, struct webhook **out, char **why);
/* webhook_free - closes the listener and every connection; NULL is ok.
 * Call it before the bot is destroyed. */
void webhook_free(struct webhook *w);

/* webhook_adopt - serve an accepted, connected socket (taken: closed on
 * failure) as the listener serves its own; for tests and the fuzzer.
 * BOT_ENOMEM or BOT_EIO. */
int webhook_adopt(struct webhook *w, int fd);
/* webhook_connections - connections open now. */
unsigned webhook_connections(const struct webhook *w);

#endif
