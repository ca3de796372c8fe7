/*
 * matrix.h - the Matrix platform: the client-server API (v3) of any
 * homeserver, /sync long-polling for events, the same Web API queue as
 * Slack (bot/webapi.c) for everything pmbot does.
 *
 * Owns: the login (MATRIX_ACCESS_TOKEN, checked with whoami; or
 * MATRIX_USER_ID + MATRIX_PASSWORD, the token and device then kept in the
 * database's platform_state and reused, never logged), the /sync loop and
 * its position (platform_state "since", written once every event of a
 * batch is committed; bot/adapters/matrix_sync.c), invites (joined when
 * from [matrix] allow_invites_from, else rejected), the bot's DM rooms
 * (its m.direct account data) and the map from reactions to the
 * messages they tag (reaction_refs: a redaction names only the
 * reaction).
 * Operations (chat.h v2): every message is an m.notice with body and
 * escaped formatted_body and "m.mentions": {} (no text from a user pings
 * a room); threads are m.thread relations; private replies have no
 * Matrix form and arrive as DMs (the core's fallback in bot/outbox.c);
 * sends are PUTs whose txnId is the outbox key plus a nonce of this
 * database, so a resend after a crash is the same event. Errors follow
 * chat.h: M_NOT_FOUND BOT_ENOTFOUND, M_ROOM_IN_USE BOT_EEXIST,
 * M_DUPLICATE_ANNOTATION BOT_OK, other refusals BOT_EINVAL, 5xx and
 * transport failures BOT_EIO once retries ran out, M_LIMIT_EXCEEDED
 * waited out (retry_after_ms or Retry-After) per endpoint. A token the
 * homeserver rejects is logged once with the fix; nothing more is sent.
 * Errors: matrix_new returns BOT_ENOMEM or BOT_EINVAL (no homeserver).
 */
#ifndef PMBOT_MATRIX_H
#define PMBOT_MATRIX_H

struct chat_platform;
struct config;
struct loop;

/* matrix_new - the platform; it logs in once matrix_start is called
 * (after bot_set_platform). */
int matrix_new(struct loop *loop, const struct config *cfg,
               struct chat_platform **out);
void matrix_start(struct chat_platform *p);

#endif
