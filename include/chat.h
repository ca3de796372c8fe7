/*
 * chat.h - the one interface between the incident logic and a chat platform.
 *
 * Owns: the platform-neutral message model (struct chat_msg: spans of plain
 * text, bold, code, user and room mentions, links), the normalised inbound
 * event (struct chat_event) and the operations a platform implements
 * (struct chat_platform_ops). The incident code includes this header and
 * never a platform's.
 *
 * Escaping rule: every span holds plain text as a user typed it (an
 * adapter undoes its platform's encoding once, on the way in; the core
 * cleans it with chat_text_clean). Each platform escapes it for its own
 * markup when rendering (Slack mrkdwn, Matrix HTML); the core never writes
 * markup, so hostile text cannot become markup or a mass mention anywhere.
 * The one token user text may hold is a mention (chat_mention_at).
 *
 * Operations are asynchronous: each takes a completion callback (which may
 * be NULL) and the platform calls it exactly once, possibly before the
 * operation returns (the terminal does), with BOT_ECANCELED when the
 * platform shuts down first. Strings passed in are borrowed for the call;
 * a platform copies what it keeps. Strings passed to callbacks are borrowed
 * for the callback.
 */
#ifndef PMBOT_CHAT_H
#define PMBOT_CHAT_H

#include <stddef.h>
#include <stdint.h>

struct strbuf;

/* --- outbound messages --- */

enum chat_span_kind {
    CHAT_SPAN_TEXT = 0,
    CHAT_SPAN_BOLD,
    CHAT_SPAN_CODE,
    CHAT_SPAN_USER,    /* text = platform user id */
    CHAT_SPAN_ROOM,    /* text = platform room id, url = its name */
    CHAT_SPAN_LINK,    /* text = label, url = address */
    CHAT_SPAN_NEWLINE
};

struct chat_span {
    int kind;  /* enum chat_span_kind */
    char *text;
    char *url; /* nullable */
};

struct chat_msg {
    struct chat_span *spans;
    size_t n, cap;
    int err; /* first failure of a builder call; sticky */
};

void chat_msg_init(struct chat_msg *m);
void chat_msg_cleanup(struct chat_msg *m);

/* Builders append one span. They return BOT_OK or BOT_ENOMEM, which also
 * sticks in m->err so a message can be built and checked once. */
int chat_msg_text(struct chat_msg *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int chat_msg_bold(struct chat_msg *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int chat_msg_code(struct chat_msg *m, const char *text);
int chat_msg_user(struct chat_msg *m, const char *user_id);
int chat_msg_room(struct chat_msg *m, const char *room_id, const char *name);
int chat_msg_link(struct chat_msg *m, const char *url, const char *label);
int chat_msg_nl(struct chat_msg *m);

/* chat_msg_plain - append the message as plain text (the fallback every
 * platform can show): users as @id, rooms as #name, no escaping. */
int chat_msg_plain(const struct chat_msg *m, struct strbuf *out);

/* --- user text --- */

/*
 * The one sanitiser of user text (chat messages, commands, alarms), and its
 * counterpart for output. Both read UTF-8 and are driven by one table of
 * code points (chat.c: text_table):
 *  - dropped: C0 controls (NUL included) other than tab and line breaks,
 *    DEL, C1 controls (U+0080-U+009F), the Unicode Bidi_Control set (U+061C,
 *    U+200E/F, U+202A-U+202E, U+2066-U+2069) and the zero-width characters
 *    that never carry meaning in chat text (U+180E, U+200B, U+2060-U+2064,
 *    U+FEFF);
 *  - kept but invisible: ZWNJ and ZWJ (U+200C/D: scripts and emoji need
 *    them), variation selectors, the combining grapheme joiner, Hangul
 *    fillers and tag characters; white space (U+00A0, U+2000-U+200A ...)
 *    is kept and counts as blank.
 * Invalid UTF-8 (a stray byte, a cut, overlong or surrogate sequence)
 * becomes U+FFFD, so what comes out is always valid UTF-8.
 */
enum {
    CHAT_TEXT_MULTILINE = 1 /* keep line breaks as '\n' (else a space) */
};

/* chat_text_clean - append the len bytes at s (NULs included: they are
 * dropped like every C0 control) to out, cleaned as above. CR LF, CR,
 * U+2028 and U+2029 are one line break; tab is a space. Returns
 * strbuf_error(out). */
int chat_text_clean(struct strbuf *out, const char *s, size_t len,
                    int flags);

/* chat_text_visible - 1 when s holds at least one character that shows
 * (not white space, not a dropped or invisible code point), else 0: a title
 * of zero-width characters is an empty title. */
int chat_text_visible(const char *s);

/* chat_text_show - append s to out fit for a terminal or a document, for
 * text that may never have been cleaned (older databases): every code point
 * chat_text_clean would drop, and every invalid byte, becomes U+FFFD, so
 * no escape sequence or bidi override reaches the reader; tab is a space;
 * '\n' is kept with CHAT_TEXT_MULTILINE, else a space. Returns
 * strbuf_error(out). */
int chat_text_show(struct strbuf *out, const char *s, int flags);

/*
 * Mentions in user text. The core holds plain text, with one exception: a
 * mention a platform marked as such is written "<@ID>" (a user) or
 * "<#ID>" / "<#ID|name>" (a room), whatever the platform, so a document
 * can show it by the person's current name and a platform can render it
 * as its own mention. IDs are [A-Za-z0-9._-], 1 to 64 of them; a room
 * name is [a-z0-9_-], at most 80. Anything else with '<' is plain text.
 * Matrix needs no token: its mentions are written as its ids
 * ("@alice:example.org"), which read the same in any document.
 */
struct chat_mention {
    int kind;         /* CHAT_SPAN_USER or CHAT_SPAN_ROOM */
    size_t len;       /* of the whole token */
    const char *id;   /* borrowed from the text, idlen bytes */
    size_t idlen;
    const char *name; /* a room's "|name", namelen bytes; NULL if none */
    size_t namelen;
};

/* chat_mention_at - 1 and *m filled when s starts with a mention token,
 * else 0. */
int chat_mention_at(const char *s, struct chat_mention *m);

/* --- inbound events --- */

enum chat_event_kind {
    CHAT_EV_MESSAGE = 0,     /* text may be a '!'/'/' command */
    CHAT_EV_COMMAND,         /* a slash command: text = "incident start x" */
    CHAT_EV_REACTION_ADDED,  /* msg_id = the message reacted to */
    CHAT_EV_REACTION_REMOVED,
    CHAT_EV_MESSAGE_CHANGED, /* msg_id, text = the new text */
    CHAT_EV_MESSAGE_DELETED  /* msg_id */
};

struct chat_event;

/* chat_reply_fn - deliver a command's reply through the platform's own
 * channel for it (Slack: the slash command's response); msg is borrowed.
 * refusal is 1 for a refused command, which only its author needs to see. */
typedef void chat_reply_fn(void *arg, const struct chat_msg *msg,
                           int refusal);

struct chat_platform;

/* All strings borrowed from the adapter for the duration of dispatch. */
struct chat_event {
    int kind;             /* enum chat_event_kind */
    struct chat_platform *platform; /* where it came from (NULL: the
                                       bot's first platform) */
    const char *event_id; /* platform dedupe id; NULL if the platform has none */
    const char *room;     /* platform room id */
    const char *user;     /* platform user id of the actor */
    const char *text;
    const char *msg_id;
    const char *thread_id; /* nullable */
    const char *reaction;  /* emoji as the platform names it */
    int64_t at;            /* UTC ms: the message's time, or the event's */
    int is_dm;             /* a direct conversation with the bot */
    char cmd_prefix;       /* '/' or '!': how usage lines are shown */
    chat_reply_fn *reply;  /* nullable: replies are posted in room */
    void *reply_arg;
};

/* --- the platform --- */

/* A message as fetched from the platform. */
struct chat_message {
    const char *room;
    const char *id;
    const char *user;
    const char *text;
    const char *thread_id; /* nullable */
    int64_t at;
};

/*
 * Where a post goes (platform interface, version 2).
 *  - room: the room id. NULL with user set: the user's direct room (the
 *    core opens it with open_dm first; a platform never sees room NULL).
 *  - thread_id: nullable; in that thread of room (CHAT_CAN_THREAD).
 *  - user: with CHAT_POST_EPHEMERAL, the one person who sees it.
 *  - key: the idempotency key, "pmbot-<outbox id>" (nullable): the same
 *    key is never a second message where the platform can promise it
 *    (Matrix's txnId); where it cannot (Slack), the platform carries it
 *    so find_sent can look for it.
 */
struct chat_target {
    const char *room;
    const char *thread_id;
    const char *user;
    int flags; /* CHAT_POST_* */
    const char *key;
};

enum {
    CHAT_POST_EPHEMERAL = 1, /* only target.user sees it */
    CHAT_POST_NOTICE = 2,    /* from the bot, not a person (Matrix m.notice) */
    /* meant to reach the people it names (a reminder, an escalation):
     * where the bot's messages notify no one (Matrix's m.notice), it goes
     * as a person's would, notifying its USER spans and no one else */
    CHAT_POST_NOTIFY = 4
};

enum {
    CHAT_CHANNEL_PRIVATE = 1 /* open_channel: invitation only */
};

/*
 * Capabilities beyond the operations themselves (an operation is there
 * when its pointer is not NULL). The core asks chat_can() and falls back
 * in one place (bot/outbox.c): an ephemeral post without
 * CHAT_CAN_EPHEMERAL becomes a DM; a thread without CHAT_CAN_THREAD is
 * the room; a private channel without CHAT_CAN_PRIVATE is refused.
 */
enum chat_cap {
    CHAT_CAN_EPHEMERAL = 1 << 0,
    CHAT_CAN_THREAD = 1 << 1,
    CHAT_CAN_PRIVATE = 1 << 2,
    /* operations, answered from the pointers */
    CHAT_CAN_OPEN_DM = 1 << 8,
    CHAT_CAN_UPDATE = 1 << 9,
    CHAT_CAN_REACT = 1 << 10,
    CHAT_CAN_REDACT = 1 << 11,
    CHAT_CAN_PIN = 1 << 12,
    CHAT_CAN_FIND_SENT = 1 << 13,
    CHAT_CAN_UPLOAD = 1 << 14,
    CHAT_CAN_TOPIC = 1 << 15,
    CHAT_CAN_INVITE = 1 << 16
};

typedef void chat_done_fn(void *arg, int rc);
typedef void chat_room_fn(void *arg, int rc, const char *room_id,
                          const char *room_name);
typedef void chat_posted_fn(void *arg, int rc, const char *msg_id);
typedef void chat_fetched_fn(void *arg, int rc, const struct chat_message *m);

struct chat_platform;

/*
 * What callbacks get: BOT_OK (also for what was already so: already
 * pinned, already in the channel); BOT_EEXIST (open_channel: name taken);
 * BOT_EINVAL or BOT_ENOTFOUND when the platform refused it for good (no
 * such channel, not allowed, a bad argument: the core does not try
 * again); BOT_EIO or BOT_ETIMEDOUT when it may work later (the platform's
 * own retries ran out: the core's outbox tries again with backoff);
 * BOT_ECANCELED at shutdown (tried again at the next start).
 */
struct chat_platform_ops {
    const char *name; /* "terminal", "slack", "matrix": stored with incidents */
    char cmd_prefix;  /* how users type commands here: '/' or '!' */
    unsigned caps;    /* CHAT_CAN_EPHEMERAL | CHAT_CAN_THREAD | ... */

    /* open_channel - create a room named `name` (already valid for every
     * platform: a-z 0-9 - _, at most 80 bytes), private with
     * CHAT_CHANNEL_PRIVATE. BOT_EEXIST if the name is taken, so the caller
     * can try another. */
    void (*open_channel)(struct chat_platform *p, const char *name,
                         int flags, chat_room_fn *cb, void *arg);
    void (*invite)(struct chat_platform *p, const char *room,
                   const char *const *users, size_t n, chat_done_fn *cb,
                   void *arg);
    void (*set_topic)(struct chat_platform *p, const char *room,
                      const char *topic, chat_done_fn *cb, void *arg);
    /* post - to->room is never NULL here; msg_id of the new message. */
    void (*post)(struct chat_platform *p, const struct chat_target *to,
                 const struct chat_msg *msg, chat_posted_fn *cb, void *arg);
    /* open_dm - the direct room with user (room_id; room_name NULL). */
    void (*open_dm)(struct chat_platform *p, const char *user,
                    chat_room_fn *cb, void *arg);
    /* update - replace the text of the bot's own message. key (nullable)
     * as chat_target.key: a platform whose edits are events (Matrix)
     * makes the same key one edit. */
    void (*update)(struct chat_platform *p, const char *room,
                   const char *msg_id, const struct chat_msg *msg,
                   const char *key, chat_done_fn *cb, void *arg);
    /* react - add the bot's reaction emoji (a character, e.g. ✅); key as
     * for update. */
    void (*react)(struct chat_platform *p, const char *room,
                  const char *msg_id, const char *emoji, const char *key,
                  chat_done_fn *cb, void *arg);
    /* redact - delete the bot's own message; key as for update. */
    void (*redact)(struct chat_platform *p, const char *room,
                   const char *msg_id, const char *key, chat_done_fn *cb,
                   void *arg);
    void (*fetch_message)(struct chat_platform *p, const char *room,
                          const char *msg_id, chat_fetched_fn *cb, void *arg);
    void (*pin)(struct chat_platform *p, const char *room, const char *msg_id,
                chat_done_fn *cb, void *arg);
    /* upload - publish a document (content is borrowed, len bytes) in
     * to->room (to->thread_id, to->key as for post). */
    void (*upload)(struct chat_platform *p, const struct chat_target *to,
                   const char *filename, const char *title,
                   const char *content, size_t len, chat_done_fn *cb,
                   void *arg);
    /* find_sent - look in room's recent messages (thread_id set: that
     * thread's, where the post went) for the bot's message carrying key:
     * BOT_OK and its msg_id, or BOT_ENOTFOUND. For the platforms that
     * cannot make a send idempotent themselves: the core asks before
     * sending again what a crash may have sent already. */
    void (*find_sent)(struct chat_platform *p, const char *room,
                      const char *thread_id, const char *key,
                      chat_posted_fn *cb, void *arg);
    /* parse_user - a mention token as the platform writes it ("@alice",
     * "<@U123|alice>") to a user id (new string). BOT_EINVAL if the token
     * is not a mention. Synchronous. */
    int (*parse_user)(struct chat_platform *p, const char *token,
                      char **user_out);
    /* connected - 1 when the platform can deliver (for /healthz), with a
     * static reason in *why when not. NULL: always connected. */
    int (*connected)(struct chat_platform *p, const char **why);
    /* destroy - cancel what is pending (callbacks get BOT_ECANCELED) and free
     * the platform. */
    void (*destroy)(struct chat_platform *p);
};

struct chat_platform {
    const struct chat_platform_ops *ops;
    void *priv;       /* the adapter's state */
    struct bot *bot;  /* where inbound events go (bot_dispatch) */
};

/* chat_can - 1 when p has the capability or operation cap (enum chat_cap). */
int chat_can(const struct chat_platform *p, unsigned cap);

/*
 * chat_channel_name - the incident channel name inc-YYYYMMDD-<slug>[-n]
 * for a title (any UTF-8; transliterated to ASCII where possible, other
 * characters dropped), valid on every platform: lowercase a-z 0-9 and '-',
 * at most 80 bytes. suffix > 1 appends "-<suffix>". Writes a NUL-terminated
 * name into out (at least 81 bytes).
 */
void chat_channel_name(const char *prefix, int64_t day_ms, const char *title,
                       int suffix, char *out, size_t outlen);

#define CHAT_CHANNEL_NAME_MAX 80

#endif
