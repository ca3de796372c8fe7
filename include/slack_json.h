/*
 * slack_json.h - the Slack codec: bytes <-> pmbot structs, no I/O.
 *
 * Owns: every JSON shape pmbot reads from or writes to Slack (Socket Mode
 * envelopes, Events API payloads, Web API bodies and results) and the
 * escaping of user text for mrkdwn (& < > only, as Slack documents), so a
 * title such as "<!channel>" pings no one. Neither a json_t nor a yajl
 * handle leaves this file.
 * Ownership: parse functions fill structs with new strings (free with the
 * matching *_clear); builders return new strings (bot_free).
 * Errors: BOT_EPROTO for JSON that is not what Slack documents, BOT_ENOMEM.
 */
#ifndef PMBOT_SLACK_JSON_H
#define PMBOT_SLACK_JSON_H

#include "chat.h"

#include <stddef.h>
#include <stdint.h>

struct strbuf;

enum slack_env_type {
    SLACK_ENV_OTHER = 0,
    SLACK_ENV_HELLO,
    SLACK_ENV_DISCONNECT,
    SLACK_ENV_EVENTS,
    SLACK_ENV_SLASH,
    SLACK_ENV_INTERACTIVE
};

struct slack_envelope {
    int type; /* enum slack_env_type */
    char *envelope_id;
    int retry_attempt;
    char *reason; /* disconnect */
    /* events_api: event_callback */
    char *event_id;
    char *event_type; /* message, reaction_added, ... */
    char *subtype;
    char *channel;
    char *user;
    char *bot_id;
    char *text;
    char *ts;        /* the message's ts; for message_changed the edited one */
    char *thread_ts;
    char *reaction;
    char *item_type;
    char *deleted_ts;
    char *channel_type; /* message events: channel, group, im, mpim */
    /* slash_commands */
    char *command;
    char *response_url;
};

int slack_envelope_parse(const char *buf, size_t len,
                         struct slack_envelope *out);
void slack_envelope_clear(struct slack_envelope *e);

/*
 * slack_envelope_event - the normalised event of an events_api or
 * slash_commands envelope, borrowing e's strings. BOT_ENOTFOUND when it is
 * nothing pmbot acts on (other event types, its own messages, bot
 * messages). `text_buf` receives the command text of a slash command.
 */
int slack_envelope_event(const struct slack_envelope *e, const char *self_user,
                         const char *self_bot, struct strbuf *text_buf,
                         struct chat_event *ev);

/* slack_ts_ms - "1360782400.498405" -> 1360782400498 (UTC ms). */
int64_t slack_ts_ms(const char *ts);

/* slack_escape - append text with & < > escaped for mrkdwn. */
int slack_escape(struct strbuf *out, const char *text);

/*
 * slack_decode - append text as Slack encodes it (message and command
 * text) as pmbot's plain text, once, on the way in: &amp; &lt; &gt; are
 * the characters; <@U1> and <@U1|name> are the mention <@U1> and <#C1|name>
 * the mention <#C1|name> (chat.h); <!here>, <!channel> and <!everyone> are
 * the words @here, @channel, @everyone (plain text pings no one),
 * <!subteam^S1|@team> and <!date^…|fallback> their label; a link <url> is
 * url and <url|label> is "label (url)" (just label when it is the address).
 * A '<' without its '>' is kept.
 */
int slack_decode(struct strbuf *out, const char *text);

/* slack_render - the message as mrkdwn: user text escaped (& < >, all of
 * them: a mention token in user text, which may come from an alarm, is
 * shown, never sent as a mention), users <@U>, rooms <#C>, links
 * <url|label>; never a <!...> control. pmbot never asks Slack to link
 * plain "@channel" (no link_names, no parse=full). */
int slack_render(const struct chat_msg *m, struct strbuf *out);

/* Builders (new JSON strings; NULL when out of memory). */

/* The message metadata that carries an idempotency key:
 * {"event_type":"pmbot_outbox","event_payload":{"key":"pmbot-42"}}. */
#define SLACK_KEY_EVENT "pmbot_outbox"

/* slack_post_body - chat.postMessage; thread_ts and key nullable (key:
 * carried as metadata, for slack_find_keyed). */
char *slack_post_body(const char *channel, const struct chat_msg *m,
                      const char *thread_ts, const char *key);
/* slack_ephemeral_body - chat.postEphemeral: only user sees it. */
char *slack_ephemeral_body(const char *channel, const char *user,
                           const struct chat_msg *m, const char *thread_ts);
/* slack_update_body - chat.update of the message ts. */
char *slack_update_body(const char *channel, const char *ts,
                        const struct chat_msg *m);
char *slack_ack(const char *envelope_id);
/* slack_reply_body - a slash command reply: ephemeral or in_channel. */
char *slack_reply_body(const struct chat_msg *m, int in_channel);
/* slack_json_body - {"k1":"v1",...} from NULL-terminated pairs. */
char *slack_json_body(const char *const *pairs);
/* slack_upload_complete_body - files.completeUploadExternal arguments;
 * thread_ts nullable. */
char *slack_upload_complete_body(const char *file_id, const char *title,
                                 const char *channel, const char *thread_ts);

/* slack_status - the "ok" (1 only if true) and "error" (new or NULL) of a
 * Web API answer, without building a tree. BOT_EPROTO if the body is not
 * a JSON object. */
int slack_status(const char *body, size_t len, int *ok, char **error);

/*
 * slack_result - the "ok"/"error" of a Web API answer and selected string
 * fields by dotted path ("channel.id", "ts"). values[i] is new or NULL.
 * BOT_EPROTO if the body is not a JSON object.
 */
int slack_result(const char *body, size_t len, int *ok, char **error,
                 const char *const *paths, char **values, size_t n);

/* A message found in a conversations.history / .replies answer. */
struct slack_message {
    char *ts;
    char *user;
    char *text;
    char *thread_ts;
};

/* slack_find_message - the message with this exact ts in the answer's
 * "messages"; BOT_ENOTFOUND if absent (history answers the next older one
 * when the ts is a reply or gone). */
int slack_find_message(const char *body, size_t len, const char *ts,
                       struct slack_message *out);
/* slack_find_messages - several at once, from one history page: out[i]
 * (n of them, caller clears each) gets the message whose ts is ts[i], or
 * stays zeroed (out[i].ts NULL) when the page lacks it. *has_more and the
 * ts of the page's last (oldest) message in oldest ("" for an empty
 * page) say how far the page reached; either may be NULL / 0. BOT_EPROTO
 * without a "messages" array, BOT_ENOMEM (every out[i] cleared). */
int slack_find_messages(const char *body, size_t len, const char *const *ts,
                        size_t n, struct slack_message *out, int *has_more,
                        char *oldest, size_t oldest_size);
void slack_message_clear(struct slack_message *m);

/* slack_find_keyed - the ts (new) of the message of a history answer that
 * carries key in its metadata (SLACK_KEY_EVENT) and was posted by pmbot
 * (bot_id self_bot or user self_user; either may be NULL, both NULL: any
 * poster). BOT_ENOTFOUND when none does, BOT_EPROTO without "messages",
 * BOT_ENOMEM. */
int slack_find_keyed(const char *body, size_t len, const char *key,
                     const char *self_user, const char *self_bot, char **ts);

/* slack_user_of - the id and the name (profile.display_name, else
 * real_name, else name; new strings) of the user object of a users.info
 * answer ("user"), or of a user_change envelope (envelope 1:
 * "payload.event.user"), and its time zone ("tz", a tz database name;
 * *tz NULL when absent; tz itself may be NULL). BOT_EPROTO when the id or
 * the name is missing. */
int slack_user_of(const char *body, size_t len, int envelope, char **id,
                  char **name, char **tz);

/* slack_parse_user - "<@U123>" or "<@U123|name>" -> "U123" (new). */
int slack_parse_user(const char *token, char **user);

#endif
