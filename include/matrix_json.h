/*
 * matrix_json.h - the Matrix codec: client-server API JSON <-> pmbot
 * structs, no I/O (jansson: /sync's keys are room ids, which no fixed key
 * table can express).
 *
 * Owns: every JSON shape pmbot reads from a homeserver (/sync, /event,
 * /messages, error answers, m.direct) or writes to it (message, edit,
 * reaction and file contents, createRoom), the HTML of formatted_body both
 * ways, and Matrix user ids. Neither a json_t nor jansson leaves this file.
 *
 * User text: what a parse hands out is cleaned (chat_text_clean,
 * multiline): valid UTF-8, no controls or bidi overrides. Mentions stay
 * plain text as Matrix writes them ("@alice:example.org"): a pill in
 * formatted_body becomes its user id, so a command's "@alice" argument
 * reads the same whatever the client showed. Outbound, every span is
 * escaped for HTML (& < > " '), "@room" is broken in body and HTML
 * (U+2060 after '@') and every content carries "m.mentions": {}, so no
 * text from a user can notify a room.
 *
 * Ownership: parse functions fill structs with new strings (free with the
 * matching *_clear, which also zeroes them; clearing a zeroed struct is a
 * no-op); builders return new NUL-terminated strings (bot_free).
 * Errors: BOT_EPROTO for JSON that is not what the spec documents (on
 * error *out is cleared: nothing to free), BOT_ENOMEM.
 */
#ifndef PMBOT_MATRIX_JSON_H
#define PMBOT_MATRIX_JSON_H

#include "chat.h"

#include <stddef.h>
#include <stdint.h>

struct strbuf;

/* Bounds: a longer id or text is refused (BOT_EPROTO for the event, which
 * is dropped; the rest of the answer is kept). */
#define MX_ID_MAX   255    /* user, room and event ids, as the spec says */
#define MX_TEXT_MAX 65536  /* bytes of a message's text */

/* --- errors --- */

/*
 * mx_error_parse - the error answer {"errcode","error","retry_after_ms",
 * "soft_logout"}: *errcode a new string or NULL when the body has none (not
 * JSON, or JSON without errcode); *retry_ms the retry_after_ms rounded up
 * (-1 when absent). Never fails but for BOT_ENOMEM; errcode is nullable
 * in the arguments (then only retry_ms is read). A negative
 * retry_after_ms counts as absent; more than an hour is an hour.
 */
int mx_error_parse(const char *buf, size_t len, char **errcode,
                   long *retry_ms);

/* mx_answer_string - the top-level string `key` of a JSON object answer
 * ({"event_id"}, {"room_id"}, {"content_uri"}, whoami's "user_id" and
 * "device_id", login's "access_token"): new string in *out, BOT_EPROTO if
 * it is not there or not a string. */
int mx_answer_string(const char *buf, size_t len, const char *key,
                     char **out);

/* --- inbound events --- */

enum mx_event_type {
    MX_EV_OTHER = 0,  /* nothing pmbot acts on (kept so ids still count) */
    MX_EV_MESSAGE,    /* m.room.message from a person (not m.notice) */
    MX_EV_NOTICE,     /* m.room.message with msgtype m.notice: ignored */
    MX_EV_EDIT,       /* m.room.message with rel_type m.replace */
    MX_EV_REACTION,   /* m.reaction, rel_type m.annotation */
    MX_EV_REDACTION,  /* m.room.redaction */
    MX_EV_MEMBER,     /* m.room.member */
    MX_EV_ENCRYPTED   /* m.room.encrypted: pmbot cannot read it */
};

struct mx_event {
    int type;          /* enum mx_event_type */
    char *event_id;
    char *sender;
    int64_t ts;        /* origin_server_ts, UTC ms (0..2^53) */
    /*
     * MESSAGE: the text (formatted_body made plain when the format is
     *   org.matrix.custom.html, else body without its "> " reply
     *   fallback); thread_id from an m.thread relation (nullable).
     * EDIT: text from m.new_content; rel_id the edited event.
     * REACTION: rel_id the event reacted to; key the emoji with U+FE0F
     *   removed (so "📌\uFE0F" is "📌").
     * REDACTION: rel_id the redacted event (content.redacts, else the
     *   top-level redacts).
     * MEMBER: state_key the member, membership ("invite", "join",
     *   "leave", "ban"), is_direct from the content.
     */
    char *text;
    char *thread_id;
    char *rel_id;
    char *key;
    char *state_key;
    char *membership;
    int is_direct;
    int redacted;      /* unsigned.redacted_because is there (a fetch) */
    /* unsigned.membership (the bot's, when the event was sent) is there
     * and not "join": an event from before the bot joined, which the
     * homeserver shows it once it is in (an old command is not for it) */
    int not_joined;
};

void mx_event_clear(struct mx_event *e);

/* A joined room's part of one /sync answer, or one /messages answer. */
struct mx_room {
    char *id;
    int limited;       /* events between since and these were left out */
    char *prev_batch;  /* nullable: where the gap ends (limited) */
    int encrypted;     /* m.room.encryption in its state or timeline */
    struct mx_event *ev; /* in timeline order (oldest first) */
    size_t nev;
};

/* An invite of the bot (rooms.invite, from invite_state). */
struct mx_invite {
    char *room;
    char *sender;   /* who invited: the m.room.member for self's sender
                     * (NULL when invite_state has none: refuse it) */
    int is_direct;
    int encrypted;  /* m.room.encryption in invite_state */
};

struct mx_sync {
    char *next_batch;
    struct mx_room *rooms; /* rooms.join */
    size_t nrooms;
    struct mx_invite *invites;
    size_t ninvites;
    char **left;     /* rooms.leave ids: the bot is no longer there */
    size_t nleft;
    /* account_data m.direct content as JSON text (mx_direct_parse), or
     * NULL when this answer does not carry it */
    char *direct;
};

/*
 * mx_sync_parse - one /sync answer. self is the bot's user id: its own
 * events are dropped, as are events without event_id/sender or with
 * bounds broken (they do not fail the answer). BOT_EPROTO without
 * next_batch or when the top level is not an object.
 */
int mx_sync_parse(const char *buf, size_t len, const char *self,
                  struct mx_sync *out);
void mx_sync_clear(struct mx_sync *s);

/*
 * mx_messages_parse - a GET /rooms/{id}/messages?dir=b answer: out->ev
 * in timeline order (the chunk reversed, so oldest first), out->id NULL,
 * *end (nullable) the "end" token or NULL when there is no more.
 * Self's events are dropped as in mx_sync_parse.
 */
int mx_messages_parse(const char *buf, size_t len, const char *self,
                      struct mx_room *out, char **end);
void mx_room_clear(struct mx_room *r);

/*
 * mx_event_parse - a GET /rooms/{id}/event/{eventId} answer: a message's
 * text is its latest edit (unsigned["m.relations"]["m.replace"]
 * .content["m.new_content"]) when one is bundled; redacted set when
 * unsigned.redacted_because is there. Self's events are kept (a fetch asks
 * for one event on purpose).
 */
int mx_event_parse(const char *buf, size_t len, struct mx_event *out);

/* mx_html_to_text - append formatted_body HTML as plain text: tags
 * dropped (<br>, and where a block such as <p>, <li>, <tr> starts or ends,
 * a line break), an
 * <mx-reply>…</mx-reply> dropped whole, entities decoded (the named ones
 * HTML has for & < > " ' and nbsp, and numeric ones; others kept as
 * written), a matrix.to user link becoming its user id. Not cleaned (the
 * caller cleans). BOT_ENOMEM. */
int mx_html_to_text(struct strbuf *out, const char *html, size_t len);

/* --- m.direct --- */

/* One (user, room) pair of the m.direct map. */
struct mx_direct {
    char *user;
    char *room;
};

/* mx_direct_parse - the m.direct content {"@u:hs": ["!r", ...]} as pairs
 * (*out new array of *n; invalid entries skipped). */
int mx_direct_parse(const char *json, size_t len, struct mx_direct **out,
                    size_t *n);
void mx_direct_free(struct mx_direct *d, size_t n);
/* mx_direct_body - the m.direct content for PUT account_data: json (the
 * current content; NULL or invalid = {}) with room added to user's list
 * (once). */
char *mx_direct_body(const char *json, const char *user, const char *room);

/* --- outbound --- */

/* mx_render - the message as body (plain text) and formatted_body
 * (HTML), appended. BOLD <b>, CODE <code>, NEWLINE '\n' / <br>, USER a
 * matrix.to pill (its id as text), ROOM a matrix.to link shown "#name"
 * (or the id), LINK an <a> for http, https and mailto only (others are
 * text). Returns strbuf_error. */
int mx_render(const struct chat_msg *m, struct strbuf *body,
              struct strbuf *html);

/*
 * mx_message_content - the content of the bot's m.room.message: msgtype
 * m.notice, body, format and formatted_body, "m.mentions": {}, and with
 * thread_id an m.thread relation (is_falling_back, m.in_reply_to the
 * root). NULL on ENOMEM.
 */
char *mx_message_content(const struct chat_msg *m, const char *thread_id);
/* mx_notify_content - mx_message_content as msgtype m.text whose
 * m.mentions names the message's USER spans (valid ids, once each) and
 * never the room: a message meant to reach those people (CHAT_POST_NOTIFY;
 * a notice notifies no one). NULL on ENOMEM. */
char *mx_notify_content(const struct chat_msg *m, const char *thread_id);
/* mx_edit_content - an m.replace of event_id with msg as m.new_content
 * (body "* " + the plain text). NULL on ENOMEM. */
char *mx_edit_content(const struct chat_msg *m, const char *event_id);
/* mx_reaction_content - an m.annotation of event_id with key. */
char *mx_reaction_content(const char *event_id, const char *key);
/* mx_file_content - an m.file: body title, filename, url the mxc:// uri,
 * info {mimetype, size}, m.mentions {}, thread as for messages. */
char *mx_file_content(const char *title, const char *filename,
                      const char *mxc, const char *mimetype, size_t size,
                      const char *thread_id);
/* mx_topic_content - {"topic": t, "m.topic": {"m.text": [{"body": t}]}}
 * with t cut to 250 bytes on a UTF-8 boundary and "@room" broken. */
char *mx_topic_content(const char *topic);
/*
 * mx_create_room_body - createRoom for an incident room: preset
 * private_chat, visibility private, name, room_alias_name alias (nullable:
 * none), topic (nullable), history_visibility shared in initial_state,
 * power levels with m.room.pinned_events and m.room.topic at 50 so the
 * creator pins. With is_direct (a DM with invite, one user): preset
 * trusted_private_chat, is_direct true, no name or alias.
 */
char *mx_create_room_body(const char *name, const char *alias,
                          const char *topic, const char *const *invite,
                          size_t ninvite, int is_direct);
/* mx_pinned_body - {"pinned": [...]} : the current content's list (json
 * nullable or invalid = empty) with event_id appended, or NULL in *out
 * and BOT_OK when it is there already (nothing to send). */
int mx_pinned_body(const char *json, size_t len, const char *event_id,
                   char **out);
/* mx_login_body - m.login.password for user (a localpart or a full id)
 * with device_id (nullable: the server picks one). */
char *mx_login_body(const char *user, const char *password,
                    const char *device_id);
/* mx_sync_filter - the inline /sync filter (JSON text, not escaped):
 * presence and ephemeral off, m.direct account data only, lazy-loaded
 * members, the timeline types pmbot reads, timeline limit `limit`, self's
 * events left out (not_senders). */
char *mx_sync_filter(const char *self, int limit);
/* mx_messages_filter - the filter of /messages: the timeline's types,
 * self's events left out, lazy-loaded members (JSON text). */
char *mx_messages_filter(const char *self);

/* --- ids --- */

/* mx_user_valid - 1 when s is a Matrix user id "@local:server" (at most
 * MX_ID_MAX bytes, localpart of printable ASCII without ':' , server a
 * host name, IPv4, [IPv6], with an optional :port). */
int mx_user_valid(const char *s);

/*
 * mx_parse_user - a mention as a person writes it in a command to a user
 * id (new string): "@alice:example.org", "https://matrix.to/#/@alice:hs",
 * or "@alice", which is "@alice:<server>" (the bot's server). A trailing
 * ',' or ':' (how clients end a pill) is not part of it. BOT_EINVAL for
 * anything else.
 */
int mx_parse_user(const char *token, const char *server, char **out);

/* mx_server_of - the server part of a user id (borrowed, after the first
 * ':'), or NULL. */
const char *mx_server_of(const char *user_id);

#endif
