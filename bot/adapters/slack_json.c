/*
 * slack_json.c - the Slack codec (jansson). Shapes follow Slack's docs as
 * summarised in shared/protocols.md sections A-C.
 */
#include "slack_json.h"

#include "err.h"
#include "mem.h"
#include "strbuf.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* str - new copy of obj[key] if it is a string, else NULL. */
static char *
str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    return json_is_string(v) ? bot_strdup(json_string_value(v)) : NULL;
}

void
slack_envelope_clear(struct slack_envelope *e)
{
    char **fields[] = {&e->envelope_id, &e->reason,     &e->event_id,
                       &e->event_type,  &e->subtype,    &e->channel,
                       &e->user,        &e->bot_id,     &e->text,
                       &e->ts,          &e->thread_ts,  &e->reaction,
                       &e->item_type,   &e->deleted_ts, &e->command,
                       &e->response_url};

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        bot_free(*fields[i]);
    memset(e, 0, sizeof(*e));
}

static void
parse_event(json_t *payload, struct slack_envelope *e)
{
    json_t *ev = json_object_get(payload, "event");
    json_t *msg, *item;

    e->event_id = str(payload, "event_id");
    if (!json_is_object(ev))
        return;
    e->event_type = str(ev, "type");
    e->subtype = str(ev, "subtype");
    e->channel = str(ev, "channel");
    e->user = str(ev, "user");
    e->bot_id = str(ev, "bot_id");
    e->text = str(ev, "text");
    e->ts = str(ev, "ts");
    e->thread_ts = str(ev, "thread_ts");
    e->reaction = str(ev, "reaction");
    e->deleted_ts = str(ev, "deleted_ts");
    item = json_object_get(ev, "item");
    if (json_is_object(item)) {
        bot_free(e->channel);
        bot_free(e->ts);
        e->channel = str(item, "channel");
        e->ts = str(item, "ts");
        e->item_type = str(item, "type");
    }
    /* message_changed: the new version is in "message" */
    msg = json_object_get(ev, "message");
    if (json_is_object(msg)) {
        bot_free(e->text);
        bot_free(e->ts);
        bot_free(e->thread_ts);
        e->text = str(msg, "text");
        e->ts = str(msg, "ts");
        e->thread_ts = str(msg, "thread_ts");
        if (!e->user)
            e->user = str(msg, "user");
        if (!e->bot_id)
            e->bot_id = str(msg, "bot_id");
    }
}

int
slack_envelope_parse(const char *buf, size_t len, struct slack_envelope *out)
{
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, 0, &jerr), *payload, *v;
    const char *type;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(root)) {
        json_decref(root);
        return BOT_EPROTO;
    }
    type = json_string_value(json_object_get(root, "type"));
    if (!type) {
        json_decref(root);
        return BOT_EPROTO;
    }
    if (!strcmp(type, "hello"))
        out->type = SLACK_ENV_HELLO;
    else if (!strcmp(type, "disconnect"))
        out->type = SLACK_ENV_DISCONNECT;
    else if (!strcmp(type, "events_api"))
        out->type = SLACK_ENV_EVENTS;
    else if (!strcmp(type, "slash_commands"))
        out->type = SLACK_ENV_SLASH;
    else if (!strcmp(type, "interactive"))
        out->type = SLACK_ENV_INTERACTIVE;
    out->envelope_id = str(root, "envelope_id");
    out->reason = str(root, "reason");
    v = json_object_get(root, "retry_attempt");
    out->retry_attempt = json_is_integer(v) ? (int)json_integer_value(v) : 0;
    payload = json_object_get(root, "payload");
    if (out->type == SLACK_ENV_EVENTS && json_is_object(payload)) {
        parse_event(payload, out);
    } else if (out->type == SLACK_ENV_SLASH && json_is_object(payload)) {
        out->command = str(payload, "command");
        out->text = str(payload, "text");
        out->user = str(payload, "user_id");
        out->channel = str(payload, "channel_id");
        out->response_url = str(payload, "response_url");
    }
    json_decref(root);
    return BOT_OK;
}

int64_t
slack_ts_ms(const char *ts)
{
    char *end;
    long long sec = strtoll(ts ? ts : "0", &end, 10);
    long long frac = 0;
    int digits = 0;

    if (*end == '.') {
        for (end++; *end >= '0' && *end <= '9' && digits < 3; end++, digits++)
            frac = frac * 10 + (*end - '0');
        for (; digits < 3; digits++)
            frac *= 10;
    }
    return (int64_t)sec * 1000 + frac;
}

int
slack_envelope_event(const struct slack_envelope *e, const char *self_user,
                     const char *self_bot, struct strbuf *text_buf,
                     struct chat_event *ev)
{
    const char *t = e->event_type, *st = e->subtype;

    memset(ev, 0, sizeof(*ev));
    ev->event_id = e->event_id;
    ev->room = e->channel;
    ev->user = e->user;
    ev->cmd_prefix = '/';
    if (e->type == SLACK_ENV_SLASH) {
        if (!e->command || e->command[0] != '/' || !e->channel)
            return BOT_ENOTFOUND;
        /* "/incident" + "start x" -> "incident start x" */
        strbuf_reset(text_buf);
        strbuf_printf(text_buf, "%s %s", e->command + 1,
                      e->text ? e->text : "");
        if (strbuf_error(text_buf))
            return strbuf_error(text_buf);
        ev->kind = CHAT_EV_COMMAND;
        ev->event_id = NULL; /* slash commands are never redelivered */
        ev->text = strbuf_str(text_buf);
        ev->is_dm = e->channel[0] == 'D';
        return BOT_OK;
    }
    if (e->type != SLACK_ENV_EVENTS || !t || !e->channel)
        return BOT_ENOTFOUND;
    /* our own posts come back as events: never act on them */
    if ((self_bot && e->bot_id && !strcmp(e->bot_id, self_bot)) ||
        (self_user && e->user && !strcmp(e->user, self_user)))
        return BOT_ENOTFOUND;
    if (!strcmp(t, "reaction_added") || !strcmp(t, "reaction_removed")) {
        if (!e->ts || (e->item_type && strcmp(e->item_type, "message")))
            return BOT_ENOTFOUND;
        ev->kind = t[9] == 'a' ? CHAT_EV_REACTION_ADDED
                               : CHAT_EV_REACTION_REMOVED;
        ev->msg_id = e->ts;
        ev->reaction = e->reaction;
        return BOT_OK;
    }
    if (strcmp(t, "message"))
        return BOT_ENOTFOUND;
    ev->msg_id = e->ts;
    ev->text = e->text;
    ev->thread_id = e->thread_ts;
    ev->at = slack_ts_ms(e->ts);
    ev->is_dm = e->channel[0] == 'D';
    if (!st || !strcmp(st, "thread_broadcast") || !strcmp(st, "file_share") ||
        !strcmp(st, "me_message")) {
        if (e->bot_id || !e->ts)
            return BOT_ENOTFOUND; /* other bots' messages are not commands */
        ev->kind = CHAT_EV_MESSAGE;
        return BOT_OK;
    }
    if (!strcmp(st, "message_changed") && e->ts) {
        ev->kind = CHAT_EV_MESSAGE_CHANGED;
        return BOT_OK;
    }
    if (!strcmp(st, "message_deleted") && e->deleted_ts) {
        ev->kind = CHAT_EV_MESSAGE_DELETED;
        ev->msg_id = e->deleted_ts;
        return BOT_OK;
    }
    return BOT_ENOTFOUND;
}

int
slack_escape(struct strbuf *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '&')
            strbuf_puts(out, "&amp;");
        else if (*p == '<')
            strbuf_puts(out, "&lt;");
        else if (*p == '>')
            strbuf_puts(out, "&gt;");
        else
            strbuf_putc(out, *p);
    }
    return strbuf_error(out);
}

int
slack_render(const struct chat_msg *m, struct strbuf *out)
{
    for (size_t i = 0; i < m->n; i++) {
        const struct chat_span *s = &m->spans[i];

        switch (s->kind) {
        case CHAT_SPAN_BOLD:
            strbuf_putc(out, '*');
            slack_escape(out, s->text);
            strbuf_putc(out, '*');
            break;
        case CHAT_SPAN_CODE:
            strbuf_putc(out, '`');
            slack_escape(out, s->text);
            strbuf_putc(out, '`');
            break;
        case CHAT_SPAN_USER:
            strbuf_puts(out, "<@");
            slack_escape(out, s->text);
            strbuf_putc(out, '>');
            break;
        case CHAT_SPAN_ROOM:
            strbuf_puts(out, "<#");
            slack_escape(out, s->text);
            strbuf_putc(out, '>');
            break;
        case CHAT_SPAN_LINK:
            /* only web links: "<!channel|x>" would be a mass mention */
            if ((strncmp(s->url, "https://", 8) &&
                 strncmp(s->url, "http://", 7)) ||
                strpbrk(s->url, "|<> \n")) {
                slack_escape(out, s->text);
                break;
            }
            strbuf_putc(out, '<');
            slack_escape(out, s->url);
            strbuf_putc(out, '|');
            slack_escape(out, s->text);
            strbuf_putc(out, '>');
            break;
        case CHAT_SPAN_NEWLINE:
            strbuf_putc(out, '\n');
            break;
        default:
            slack_escape(out, s->text);
        }
    }
    return strbuf_error(out);
}

/* safe_cut - the largest n <= max at which text may be cut: not inside a
 * UTF-8 sequence, a <...> token or an &...; escape; at a newline when one
 * is in the second half. */
static size_t
safe_cut(const char *t, size_t len, size_t max)
{
    size_t n = len <= max ? len : max, i;

    if (n == len)
        return n;
    for (i = n; i > n / 2; i--) {
        if (t[i - 1] == '\n')
            return i;
    }
    for (i = n; i > 0; i--) {
        if (t[i - 1] == '>' || t[i - 1] == ';')
            break;
        if (t[i - 1] == '<' || t[i - 1] == '&') {
            n = i - 1; /* the token starts before the cut: cut before it */
            break;
        }
    }
    while (n > 0 && ((unsigned char)t[n] & 0xc0) == 0x80)
        n--;
    return n ? n : (len < max ? len : max);
}

/* blocks - Block Kit sections of at most 3000 characters each */
static json_t *
blocks(const char *mrkdwn)
{
    json_t *arr = json_array();
    size_t len = strlen(mrkdwn), off = 0;

    while (arr && off < len && json_array_size(arr) < 50) {
        size_t n = safe_cut(mrkdwn + off, len - off, 3000);
        char *part = bot_strndup(mrkdwn + off, n);

        json_array_append_new(
            arr, json_pack("{s:s, s:{s:s, s:s}}", "type", "section", "text",
                           "type", "mrkdwn", "text", part ? part : ""));
        bot_free(part);
        off += n;
    }
    return arr;
}

static char *
dump(json_t *root)
{
    char *s = root ? json_dumps(root, JSON_COMPACT) : NULL;
    char *d = s ? bot_strdup(s) : NULL;

    free(s);
    json_decref(root);
    return d;
}

char *
slack_post_body(const char *channel, const struct chat_msg *m,
                const char *thread_ts)
{
    struct strbuf md, plain;
    json_t *root;

    strbuf_init(&md, 0);
    strbuf_init(&plain, 0);
    slack_render(m, &md);
    slack_render(m, &plain); /* the notification text, escaped the same */
    if (strbuf_error(&md) || strbuf_error(&plain)) {
        strbuf_cleanup(&md);
        strbuf_cleanup(&plain);
        return NULL;
    }
    /* the notification text stays under Slack's 4,000 characters */
    plain.len = safe_cut(plain.buf ? plain.buf : "", plain.len, 3900);
    if (plain.buf)
        plain.buf[plain.len] = '\0';
    root = json_pack("{s:s, s:s, s:o, s:b}", "channel", channel, "text",
                     strbuf_str(&plain), "blocks", blocks(strbuf_str(&md)),
                     "unfurl_links", 0);
    if (root && thread_ts)
        json_object_set_new(root, "thread_ts", json_string(thread_ts));
    strbuf_cleanup(&md);
    strbuf_cleanup(&plain);
    return dump(root);
}

char *
slack_ack(const char *envelope_id)
{
    return dump(json_pack("{s:s}", "envelope_id", envelope_id));
}

char *
slack_reply_body(const struct chat_msg *m, int in_channel)
{
    struct strbuf md;
    json_t *root;

    strbuf_init(&md, 0);
    if (slack_render(m, &md)) {
        strbuf_cleanup(&md);
        return NULL;
    }
    root = json_pack("{s:s, s:s, s:o}", "response_type",
                     in_channel ? "in_channel" : "ephemeral", "text",
                     strbuf_str(&md), "blocks", blocks(strbuf_str(&md)));
    strbuf_cleanup(&md);
    return dump(root);
}

char *
slack_json_body(const char *const *pairs)
{
    json_t *root = json_object();

    for (size_t i = 0; root && pairs[i] && pairs[i + 1]; i += 2)
        json_object_set_new(root, pairs[i], json_string(pairs[i + 1]));
    return dump(root);
}

char *
slack_upload_complete_body(const char *file_id, const char *title,
                           const char *channel)
{
    return dump(json_pack("{s:[{s:s, s:s}], s:s}", "files", "id", file_id,
                          "title", title, "channel_id", channel));
}

static json_t *
at_path(json_t *v, const char *path)
{
    char key[64];

    while (v && *path) {
        size_t n = strcspn(path, ".");

        if (n >= sizeof(key))
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        v = json_object_get(v, key);
        path += n + (path[n] == '.');
    }
    return v;
}

int
slack_result(const char *body, size_t len, int *ok, char **error,
             const char *const *paths, char **values, size_t n)
{
    json_t *root = json_loadb(body, len, 0, NULL);

    for (size_t i = 0; i < n; i++)
        values[i] = NULL;
    *error = NULL;
    if (!json_is_object(root)) {
        json_decref(root);
        return BOT_EPROTO;
    }
    *ok = json_is_true(json_object_get(root, "ok"));
    *error = str(root, "error");
    for (size_t i = 0; i < n; i++) {
        json_t *v = at_path(root, paths[i]);

        if (json_is_string(v))
            values[i] = bot_strdup(json_string_value(v));
    }
    json_decref(root);
    return BOT_OK;
}

void
slack_message_clear(struct slack_message *m)
{
    bot_free(m->ts);
    bot_free(m->user);
    bot_free(m->text);
    bot_free(m->thread_ts);
    memset(m, 0, sizeof(*m));
}

/* fill - one message of a page; BOT_ENOMEM leaves *out cleared */
static int
fill(json_t *m, const char *ts, struct slack_message *out)
{
    out->ts = bot_strdup(ts);
    out->user = str(m, "user");
    if (!out->user)
        out->user = str(m, "bot_id");
    out->text = str(m, "text");
    if (!out->text)
        out->text = bot_strdup("");
    out->thread_ts = str(m, "thread_ts");
    if (out->ts && out->text)
        return BOT_OK;
    slack_message_clear(out);
    return BOT_ENOMEM;
}

int
slack_find_messages(const char *body, size_t len, const char *const *ts,
                    size_t n, struct slack_message *out, int *has_more,
                    char *oldest, size_t oldest_size)
{
    json_t *root = json_loadb(body, len, 0, NULL), *msgs, *m;
    size_t i, j;
    int rc = BOT_OK;

    memset(out, 0, n * sizeof(*out));
    if (oldest_size)
        oldest[0] = '\0';
    msgs = json_object_get(root, "messages");
    if (!json_is_array(msgs)) {
        json_decref(root);
        return BOT_EPROTO;
    }
    if (has_more)
        *has_more = json_is_true(json_object_get(root, "has_more"));
    json_array_foreach(msgs, i, m)
    {
        const char *mts = json_string_value(json_object_get(m, "ts"));

        if (!mts)
            continue;
        if (oldest_size)
            snprintf(oldest, oldest_size, "%s", mts);
        for (j = 0; j < n && rc == BOT_OK; j++) {
            if (!out[j].ts && !strcmp(mts, ts[j]))
                rc = fill(m, mts, &out[j]);
        }
    }
    json_decref(root);
    if (rc) {
        for (j = 0; j < n; j++)
            slack_message_clear(&out[j]);
    }
    return rc;
}

int
slack_find_message(const char *body, size_t len, const char *ts,
                   struct slack_message *out)
{
    int rc = slack_find_messages(body, len, &ts, 1, out, NULL, NULL, 0);

    return rc ? rc : out->ts ? BOT_OK : BOT_ENOTFOUND;
}

int
slack_parse_user(const char *token, char **user)
{
    size_t n;

    if (strncmp(token, "<@", 2))
        return BOT_EINVAL;
    token += 2;
    n = strcspn(token, "|>");
    if (!n || !token[n])
        return BOT_EINVAL;
    /* the mention must end the token: "<@U1>" or "<@U1|name>" */
    if (token[n] == '|') {
        const char *close = strchr(token + n, '>');

        if (!close || close[1])
            return BOT_EINVAL;
    } else if (token[n + 1]) {
        return BOT_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        char c = token[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return BOT_EINVAL;
    }
    *user = bot_strndup(token, n);
    return *user ? BOT_OK : BOT_ENOMEM;
}
