/*
 * slack_json.c - the Slack codec. Shapes follow Slack's docs as summarised
 * in shared/protocols.md sections A-C. What is read per event (envelopes,
 * the ok/error of answers, history pages) is parsed as a stream with yajl;
 * everything else goes through jansson trees.
 */
#include "slack_json.h"

#include "err.h"
#include "mem.h"
#include "strbuf.h"

#include <jansson.h>
#include <yajl/yajl_parse.h>
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
                       &e->response_url, &e->channel_type};

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        bot_free(*fields[i]);
    memset(e, 0, sizeof(*e));
}

/*
 * Envelopes are parsed as a stream with yajl: they are the hot path (one
 * per event), and building a jansson tree of an 860-byte envelope cost
 * 10 µs where yajl's callbacks take under 2. Each string of interest is
 * kept in a slot named by where it sits; the rules (an item's channel
 * wins over the event's, message_changed carries the new version in
 * "message") are applied once the whole envelope is read, so key order
 * does not matter. A repeated key keeps its last value, a value of the
 * wrong type counts as absent, as with jansson. yajl allocates with plain
 * malloc: it does not check its allocations, so the test builds' failure
 * injection (mem.h) must not reach it; the strings kept here go through
 * bot_malloc as everything else.
 */
enum slot {
    S_TYPE, S_ENVELOPE_ID, S_REASON,
    S_P_EVENT_ID, S_P_COMMAND, S_P_TEXT, S_P_USER_ID, S_P_CHANNEL_ID,
    S_P_RESPONSE_URL,
    S_E_TYPE, S_E_SUBTYPE, S_E_CHANNEL, S_E_USER, S_E_BOT_ID, S_E_TEXT,
    S_E_TS, S_E_THREAD_TS, S_E_REACTION, S_E_DELETED_TS, S_E_CHANNEL_TYPE,
    S_I_CHANNEL, S_I_TS, S_I_TYPE,
    S_M_TEXT, S_M_TS, S_M_THREAD_TS, S_M_USER, S_M_BOT_ID,
    NSLOTS
};

/* where a map sits; also what the next value is for */
enum ctx { C_NONE, C_ROOT, C_PAYLOAD, C_EVENT, C_ITEM, C_MSG, C_RETRY };

struct key {
    enum ctx in;
    const char *name;
    size_t len;
    int slot;     /* a string slot, or -1 */
    enum ctx map; /* or the map it opens (C_RETRY: retry_attempt) */
};

#define K(in, name, slot, map) {in, name, sizeof(name) - 1, slot, map}

static const struct key keys[] = {
    K(C_ROOT, "type", S_TYPE, C_NONE),
    K(C_ROOT, "envelope_id", S_ENVELOPE_ID, C_NONE),
    K(C_ROOT, "reason", S_REASON, C_NONE),
    K(C_ROOT, "retry_attempt", -1, C_RETRY),
    K(C_ROOT, "payload", -1, C_PAYLOAD),
    K(C_PAYLOAD, "event_id", S_P_EVENT_ID, C_NONE),
    K(C_PAYLOAD, "command", S_P_COMMAND, C_NONE),
    K(C_PAYLOAD, "text", S_P_TEXT, C_NONE),
    K(C_PAYLOAD, "user_id", S_P_USER_ID, C_NONE),
    K(C_PAYLOAD, "channel_id", S_P_CHANNEL_ID, C_NONE),
    K(C_PAYLOAD, "response_url", S_P_RESPONSE_URL, C_NONE),
    K(C_PAYLOAD, "event", -1, C_EVENT),
    K(C_EVENT, "type", S_E_TYPE, C_NONE),
    K(C_EVENT, "subtype", S_E_SUBTYPE, C_NONE),
    K(C_EVENT, "channel", S_E_CHANNEL, C_NONE),
    K(C_EVENT, "user", S_E_USER, C_NONE),
    K(C_EVENT, "bot_id", S_E_BOT_ID, C_NONE),
    K(C_EVENT, "text", S_E_TEXT, C_NONE),
    K(C_EVENT, "ts", S_E_TS, C_NONE),
    K(C_EVENT, "thread_ts", S_E_THREAD_TS, C_NONE),
    K(C_EVENT, "reaction", S_E_REACTION, C_NONE),
    K(C_EVENT, "deleted_ts", S_E_DELETED_TS, C_NONE),
    K(C_EVENT, "channel_type", S_E_CHANNEL_TYPE, C_NONE),
    K(C_EVENT, "item", -1, C_ITEM),
    K(C_EVENT, "message", -1, C_MSG),
    K(C_ITEM, "channel", S_I_CHANNEL, C_NONE),
    K(C_ITEM, "ts", S_I_TS, C_NONE),
    K(C_ITEM, "type", S_I_TYPE, C_NONE),
    K(C_MSG, "text", S_M_TEXT, C_NONE),
    K(C_MSG, "ts", S_M_TS, C_NONE),
    K(C_MSG, "thread_ts", S_M_THREAD_TS, C_NONE),
    K(C_MSG, "user", S_M_USER, C_NONE),
    K(C_MSG, "bot_id", S_M_BOT_ID, C_NONE),
};

#define SAX_DEPTH 16

struct sax {
    char *slot[NSLOTS];
    int is_map[C_RETRY + 1]; /* payload, event, item, message: a map */
    long long retry;
    int has_retry;
    int depth;                  /* open maps and arrays */
    enum ctx stack[SAX_DEPTH];  /* what each open container is (C_NONE) */
    const struct key *next;     /* what the coming value is for, or NULL */
    int enomem;
};

/* forget - the map ctx and everything under it: a repeated key starts over */
static void
forget(struct sax *x, enum ctx c)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (keys[i].in != c)
            continue;
        if (keys[i].slot >= 0) {
            bot_free(x->slot[keys[i].slot]);
            x->slot[keys[i].slot] = NULL;
        } else if (keys[i].map != C_RETRY) {
            forget(x, keys[i].map);
        }
    }
    x->is_map[c] = 0;
    if (c == C_RETRY)
        x->has_retry = 0;
}

/* value - a value other than a string or a map arrives for x->next */
static void
value(struct sax *x)
{
    const struct key *k = x->next;

    x->next = NULL;
    if (!k)
        return;
    if (k->slot >= 0) {
        bot_free(x->slot[k->slot]);
        x->slot[k->slot] = NULL;
    } else {
        forget(x, k->map);
    }
}

static int
on_null(void *ctx)
{
    value(ctx);
    return 1;
}

static int
on_bool(void *ctx, int b)
{
    (void)b;
    value(ctx);
    return 1;
}

static int
on_double(void *ctx, double d)
{
    (void)d;
    value(ctx);
    return 1;
}

static int
on_integer(void *ctx, long long v)
{
    struct sax *x = ctx;

    if (x->next && x->next->map == C_RETRY) {
        x->retry = v;
        x->has_retry = 1;
        x->next = NULL;
        return 1;
    }
    value(x);
    return 1;
}

static int
on_string(void *ctx, const unsigned char *s, size_t len)
{
    struct sax *x = ctx;
    const struct key *k = x->next;

    if (memchr(s, '\0', len))
        return 0; /* jansson refuses \u0000 too: keep one rule */
    if (!k || k->slot < 0) {
        value(x);
        return 1;
    }
    x->next = NULL;
    bot_free(x->slot[k->slot]);
    x->slot[k->slot] = bot_strndup((const char *)s, len);
    if (!x->slot[k->slot]) {
        x->enomem = 1;
        return 0;
    }
    return 1;
}

static int
on_key(void *ctx, const unsigned char *s, size_t len)
{
    struct sax *x = ctx;
    enum ctx in = x->depth <= SAX_DEPTH ? x->stack[x->depth - 1] : C_NONE;

    if (memchr(s, '\0', len))
        return 0;
    x->next = NULL;
    if (in == C_NONE)
        return 1;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (keys[i].in == in && keys[i].len == len &&
            !memcmp(keys[i].name, s, len)) {
            x->next = &keys[i];
            break;
        }
    }
    return 1;
}

static int
open_container(struct sax *x, int map)
{
    enum ctx c = C_NONE;

    if (x->depth == 0 && map) {
        c = C_ROOT;
    } else if (x->next && x->next->slot < 0 && x->next->map != C_RETRY &&
               map) {
        c = x->next->map;
        forget(x, c);
        x->is_map[c] = 1;
        x->next = NULL;
    } else {
        value(x);
    }
    if (x->depth < SAX_DEPTH)
        x->stack[x->depth] = c;
    x->depth++;
    return 1;
}

static int
on_start_map(void *ctx)
{
    return open_container(ctx, 1);
}

static int
on_start_array(void *ctx)
{
    return open_container(ctx, 0);
}

static int
on_end(void *ctx)
{
    struct sax *x = ctx;

    x->depth--;
    x->next = NULL;
    return 1;
}

static const yajl_callbacks sax_callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_bool,
    .yajl_integer = on_integer,
    .yajl_double = on_double,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

/* stream - run a yajl parser over buf with these callbacks; BOT_ENOMEM if
 * a callback ran out (*enomem), BOT_EPROTO if buf is not one JSON text */
static int
stream(const yajl_callbacks *cb, void *ctx, const int *enomem,
       const char *buf, size_t len)
{
    yajl_handle h = yajl_alloc(cb, NULL, ctx);
    yajl_status st;

    if (!h)
        return BOT_ENOMEM;
    st = yajl_parse(h, (const unsigned char *)buf, len);
    if (st == yajl_status_ok)
        st = yajl_complete_parse(h);
    yajl_free(h);
    return *enomem ? BOT_ENOMEM : st == yajl_status_ok ? BOT_OK : BOT_EPROTO;
}

/* take - move a slot's string out */
static char *
take(struct sax *x, enum slot s)
{
    char *v = x->slot[s];

    x->slot[s] = NULL;
    return v;
}

/* over - a later, more precise field replaces an earlier one */
static void
over(char **field, struct sax *x, enum slot s)
{
    bot_free(*field);
    *field = take(x, s);
}

int
slack_envelope_parse(const char *buf, size_t len, struct slack_envelope *out)
{
    struct sax x = {0};
    const char *type;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = stream(&sax_callbacks, &x, &x.enomem, buf, len);
    type = x.slot[S_TYPE];
    if (!rc && !type)
        rc = BOT_EPROTO; /* not an object, or no "type" */
    if (rc)
        goto out;
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
    out->envelope_id = take(&x, S_ENVELOPE_ID);
    out->reason = take(&x, S_REASON);
    out->retry_attempt = x.has_retry ? (int)x.retry : 0;
    if (out->type == SLACK_ENV_EVENTS && x.is_map[C_PAYLOAD]) {
        out->event_id = take(&x, S_P_EVENT_ID);
        if (x.is_map[C_EVENT]) {
            out->event_type = take(&x, S_E_TYPE);
            out->subtype = take(&x, S_E_SUBTYPE);
            out->channel = take(&x, S_E_CHANNEL);
            out->user = take(&x, S_E_USER);
            out->bot_id = take(&x, S_E_BOT_ID);
            out->text = take(&x, S_E_TEXT);
            out->ts = take(&x, S_E_TS);
            out->thread_ts = take(&x, S_E_THREAD_TS);
            out->reaction = take(&x, S_E_REACTION);
            out->deleted_ts = take(&x, S_E_DELETED_TS);
            out->channel_type = take(&x, S_E_CHANNEL_TYPE);
        }
        if (x.is_map[C_EVENT] && x.is_map[C_ITEM]) {
            over(&out->channel, &x, S_I_CHANNEL);
            over(&out->ts, &x, S_I_TS);
            out->item_type = take(&x, S_I_TYPE);
        }
        /* message_changed: the new version is in "message" */
        if (x.is_map[C_EVENT] && x.is_map[C_MSG]) {
            over(&out->text, &x, S_M_TEXT);
            over(&out->ts, &x, S_M_TS);
            over(&out->thread_ts, &x, S_M_THREAD_TS);
            if (!out->user)
                out->user = take(&x, S_M_USER);
            if (!out->bot_id)
                out->bot_id = take(&x, S_M_BOT_ID);
        }
    } else if (out->type == SLACK_ENV_SLASH && x.is_map[C_PAYLOAD]) {
        out->command = take(&x, S_P_COMMAND);
        out->text = take(&x, S_P_TEXT);
        out->user = take(&x, S_P_USER_ID);
        out->channel = take(&x, S_P_CHANNEL_ID);
        out->response_url = take(&x, S_P_RESPONSE_URL);
    }
out:
    for (int i = 0; i < NSLOTS; i++)
        bot_free(x.slot[i]);
    return rc;
}

int64_t
slack_ts_ms(const char *ts)
{
    /* 9999-12-31T23:59:59Z: seconds * 1000 must not overflow, and no ts
     * Slack sends is before 1970 or after this; such a ts is unknown (0) */
    const long long max_sec = 253402300799LL;
    char *end;
    long long sec = strtoll(ts ? ts : "0", &end, 10);
    long long frac = 0;
    int digits = 0;

    if (sec < 0 || sec > max_sec)
        return 0;
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
        strbuf_printf(text_buf, "%s ", e->command + 1);
        slack_decode(text_buf, e->text ? e->text : "");
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
    if (e->text) {
        /* decoded once, here: the core holds plain text */
        strbuf_reset(text_buf);
        if (slack_decode(text_buf, e->text))
            return strbuf_error(text_buf);
        ev->text = strbuf_str(text_buf);
    }
    ev->thread_id = e->thread_ts;
    ev->at = slack_ts_ms(e->ts);
    /* message.im says "im"; a DM's id starts with D where it does not */
    ev->is_dm = e->channel_type ? !strcmp(e->channel_type, "im")
                                : e->channel[0] == 'D';
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

/* slack_id - a Slack id of this kind: the letter, then A-Z 0-9 */
static int
slack_id(const char *id, size_t n, const char *first)
{
    if (n < 2 || !strchr(first, id[0]))
        return 0;
    for (size_t i = 1; i < n; i++) {
        if (!((id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= '0' && id[i] <= '9')))
            return 0;
    }
    return 1;
}

int
slack_decode(struct strbuf *out, const char *text)
{
    static const struct {
        const char *in, *out;
    } ents[] = {{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}};
    const char *p = text;

    while (*p) {
        const char *close, *bar, *body;
        size_t n = strcspn(p, "&<"), i;
        struct strbuf part;

        strbuf_append(out, p, n);
        p += n;
        if (*p == '&') {
            for (i = 0; i < 3; i++) {
                size_t el = strlen(ents[i].in);

                if (!strncmp(p, ents[i].in, el)) {
                    strbuf_puts(out, ents[i].out);
                    p += el;
                    break;
                }
            }
            if (i == 3)
                strbuf_putc(out, *p++);
            continue;
        }
        if (!*p)
            break;
        close = strchr(p, '>');
        if (!close) {
            strbuf_append(out, p, strlen(p)); /* not markup: kept */
            break;
        }
        /* <body> or <body|label>; label and body may hold entities */
        body = p + 1;
        n = (size_t)(close - body);
        if (!n || *body == ' ' || memchr(body, '<', n)) {
            strbuf_putc(out, *p++); /* Slack sends &lt;: this is no markup */
            continue;
        }
        bar = memchr(body, '|', n);
        strbuf_init(&part, 0);
        if ((*body == '@' || *body == '#') &&
            slack_id(body + 1, (size_t)((bar ? bar : close) - body - 1),
                     *body == '@' ? "UWB" : "CGD")) {
            struct chat_mention m;

            /* a mention as chat.h writes it: a user's name is looked up
             * when shown (it changes); a channel keeps the name it came
             * with, when that is a channel name */
            strbuf_putc(&part, '<');
            strbuf_append(&part, body, (size_t)((bar ? bar : close) - body));
            if (*body == '#' && bar) {
                strbuf_putc(&part, '|');
                strbuf_append(&part, bar + 1, (size_t)(close - bar - 1));
            }
            strbuf_putc(&part, '>');
            if (!chat_mention_at(strbuf_str(&part), &m)) {
                strbuf_reset(&part); /* a name that is not one: dropped */
                strbuf_putc(&part, '<');
                strbuf_append(&part, body,
                              (size_t)((bar ? bar : close) - body));
                strbuf_putc(&part, '>');
            }
            strbuf_puts(out, strbuf_str(&part));
        } else if (*body == '!') {
            /* <!here>, <!channel>, <!subteam^S1|@team>, <!date^…|fallback>:
             * the words they stand for, which ping no one as plain text */
            if (bar) {
                strbuf_append(&part, bar + 1, (size_t)(close - bar - 1));
                slack_decode(out, strbuf_str(&part));
            } else {
                size_t w = strcspn(body + 1, "^>");

                strbuf_putc(out, '@');
                strbuf_append(out, body + 1, w);
            }
        } else {
            /* a link: <url> or <url|label>, shown as the label and the
             * address unless the label is the address */
            size_t ul = (size_t)((bar ? bar : close) - body);
            struct strbuf url;

            strbuf_init(&url, 0);
            strbuf_append(&part, body, ul);
            slack_decode(&url, strbuf_str(&part));
            strbuf_reset(&part);
            if (bar) {
                const char *u = strbuf_str(&url), *colon = strstr(u, "://");
                const char *bare = !strncmp(u, "mailto:", 7) ? u + 7
                                   : colon ? colon + 3 : u;
                struct strbuf label;

                strbuf_init(&label, 0);
                strbuf_append(&part, bar + 1, (size_t)(close - bar - 1));
                slack_decode(&label, strbuf_str(&part));
                if (!strcmp(strbuf_str(&label), u) ||
                    !strcmp(strbuf_str(&label), bare))
                    strbuf_puts(out, strbuf_str(&label));
                else
                    strbuf_printf(out, "%s (%s)", strbuf_str(&label), u);
                if (strbuf_error(&label))
                    out->err = out->err ? out->err : strbuf_error(&label);
                strbuf_cleanup(&label);
            } else {
                strbuf_puts(out, strbuf_str(&url));
            }
            if (strbuf_error(&url))
                out->err = out->err ? out->err : strbuf_error(&url);
            strbuf_cleanup(&url);
        }
        if (strbuf_error(&part))
            out->err = out->err ? out->err : strbuf_error(&part);
        strbuf_cleanup(&part);
        p = close + 1;
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

/* msg_root - {"channel", "text", "blocks"} of a message (new) */
static json_t *
msg_root(const char *channel, const struct chat_msg *m)
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
    root = json_pack("{s:s, s:s, s:o}", "channel", channel, "text",
                     strbuf_str(&plain), "blocks", blocks(strbuf_str(&md)));
    strbuf_cleanup(&md);
    strbuf_cleanup(&plain);
    return root;
}

/* set - root[k] = v (taken); a failure drops root, so dump gives NULL */
static json_t *
set(json_t *root, const char *k, json_t *v)
{
    if (root && (!v || json_object_set_new(root, k, v))) {
        json_decref(root);
        return NULL;
    }
    if (!root)
        json_decref(v);
    return root;
}

char *
slack_post_body(const char *channel, const struct chat_msg *m,
                const char *thread_ts, const char *key)
{
    json_t *root = set(msg_root(channel, m), "unfurl_links", json_false());

    if (thread_ts)
        root = set(root, "thread_ts", json_string(thread_ts));
    if (key)
        root = set(root, "metadata",
                   json_pack("{s:s, s:{s:s}}", "event_type",
                             SLACK_KEY_EVENT, "event_payload", "key", key));
    return dump(root);
}

char *
slack_ephemeral_body(const char *channel, const char *user,
                     const struct chat_msg *m, const char *thread_ts)
{
    json_t *root = set(msg_root(channel, m), "user", json_string(user));

    if (thread_ts)
        root = set(root, "thread_ts", json_string(thread_ts));
    return dump(root);
}

char *
slack_update_body(const char *channel, const char *ts,
                  const struct chat_msg *m)
{
    return dump(set(msg_root(channel, m), "ts", json_string(ts)));
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
                           const char *channel, const char *thread_ts)
{
    json_t *root = json_pack("{s:[{s:s, s:s}], s:s}", "files", "id", file_id,
                             "title", title, "channel_id", channel);

    if (thread_ts)
        root = set(root, "thread_ts", json_string(thread_ts));
    return dump(root);
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

/* The "ok" and "error" of an answer, read as a stream: every Web API
 * answer is checked, and a history page is large, so this skips building
 * a tree the handler builds anyway. */
struct status {
    int depth;
    int next; /* 1: the coming value is "ok", 2: "error" */
    int ok;
    char *error;
    int enomem;
};

/* st_value - a value that is not the expected type: the last "ok" or
 * "error" key counts, so it clears what an earlier one set */
static int
st_value(void *ctx)
{
    struct status *x = ctx;

    if (x->next == 1)
        x->ok = 0;
    if (x->next == 2) {
        bot_free(x->error);
        x->error = NULL;
    }
    x->next = 0;
    return 1;
}

static int
st_bool(void *ctx, int b)
{
    struct status *x = ctx;

    if (x->next != 1)
        return st_value(ctx);
    x->ok = b;
    x->next = 0;
    return 1;
}

static int
st_int(void *ctx, long long v)
{
    (void)v;
    return st_value(ctx);
}

static int
st_double(void *ctx, double d)
{
    (void)d;
    return st_value(ctx);
}

static int
st_string(void *ctx, const unsigned char *s, size_t len)
{
    struct status *x = ctx;

    if (x->next != 2)
        return st_value(ctx);
    bot_free(x->error);
    x->error = bot_strndup((const char *)s, len);
    x->next = 0;
    if (!x->error) {
        x->enomem = 1;
        return 0;
    }
    return 1;
}

static int
st_key(void *ctx, const unsigned char *s, size_t len)
{
    struct status *x = ctx;

    x->next = 0;
    if (x->depth == 1 && len == 2 && !memcmp(s, "ok", 2))
        x->next = 1;
    else if (x->depth == 1 && len == 5 && !memcmp(s, "error", 5))
        x->next = 2;
    return 1;
}

static int
st_open(void *ctx)
{
    st_value(ctx);
    ((struct status *)ctx)->depth++;
    return 1;
}

static int
st_close(void *ctx)
{
    struct status *x = ctx;

    x->depth--;
    x->next = 0;
    return 1;
}



static const yajl_callbacks status_callbacks = {
    .yajl_null = st_value,
    .yajl_boolean = st_bool,
    .yajl_integer = st_int,
    .yajl_double = st_double,
    .yajl_string = st_string,
    .yajl_start_map = st_open,
    .yajl_map_key = st_key,
    .yajl_end_map = st_close,
    .yajl_start_array = st_open,
    .yajl_end_array = st_close,
};

int
slack_status(const char *body, size_t len, int *ok, char **error)
{
    struct status x = {0};
    int is_object = len > 0, rc;

    *ok = 0;
    *error = NULL;
    /* the answer must be an object: skip leading blanks to see it */
    for (size_t i = 0; i < len; i++) {
        if (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' ||
            body[i] == '\n')
            continue;
        is_object = body[i] == '{';
        break;
    }
    if (!is_object)
        return BOT_EPROTO;
    rc = stream(&status_callbacks, &x, &x.enomem, body, len);
    if (rc) {
        bot_free(x.error);
        return rc;
    }
    *ok = x.ok;
    *error = x.error;
    return BOT_OK;
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

/*
 * History pages are read as a stream too (a page of a batched fetch holds
 * dozens of messages with their blocks and reactions, and building a tree
 * of it cost more than the rest of a tag). The top-level string fields of
 * each message are kept in reusable buffers; when the message closes, it
 * is matched against the ts asked for.
 */
enum { F_TS, F_USER, F_BOT_ID, F_TEXT, F_THREAD_TS, NFIELDS };
static const char *const field_names[NFIELDS] = {"ts", "user", "bot_id",
                                                 "text", "thread_ts"};

struct page {
    const char *const *want;
    size_t n;
    struct slack_message *out;
    char *oldest;
    size_t oldest_size;
    int depth;
    int in_messages; /* inside the top-level "messages" array */
    int saw_messages;  /* ... and it was an array */
    int has_more;
    int next; /* the coming value: 1 messages, 2 has_more; 10 + field */
    struct strbuf f[NFIELDS];
    int set[NFIELDS];
    int enomem;
};

static int
pg_value(void *ctx)
{
    struct page *x = ctx;

    if (x->next >= 10)
        x->set[x->next - 10] = 0;
    if (x->next == 1)
        x->saw_messages = 0;
    if (x->next == 2)
        x->has_more = 0;
    x->next = 0;
    return 1;
}

static int
pg_bool(void *ctx, int b)
{
    struct page *x = ctx;

    if (x->next == 2) {
        x->has_more = b;
        x->next = 0;
        return 1;
    }
    return pg_value(ctx);
}

static int
pg_int(void *ctx, long long v)
{
    (void)v;
    return pg_value(ctx);
}

static int
pg_double(void *ctx, double d)
{
    (void)d;
    return pg_value(ctx);
}

static int
pg_string(void *ctx, const unsigned char *s, size_t len)
{
    struct page *x = ctx;
    int f = x->next - 10;

    if (memchr(s, '\0', len))
        return 0; /* as jansson: no \u0000 */
    if (f < 0)
        return pg_value(ctx);
    strbuf_reset(&x->f[f]);
    if (strbuf_append(&x->f[f], (const char *)s, len)) {
        x->enomem = 1;
        return 0;
    }
    x->set[f] = 1;
    x->next = 0;
    return 1;
}

static int
pg_key(void *ctx, const unsigned char *s, size_t len)
{
    struct page *x = ctx;

    if (memchr(s, '\0', len))
        return 0;
    x->next = 0;
    if (x->depth == 1) {
        if (len == 8 && !memcmp(s, "messages", 8))
            x->next = 1;
        else if (len == 8 && !memcmp(s, "has_more", 8))
            x->next = 2;
    } else if (x->depth == 3 && x->in_messages) {
        for (int i = 0; i < NFIELDS; i++) {
            if (strlen(field_names[i]) == len &&
                !memcmp(field_names[i], s, len)) {
                x->next = 10 + i;
                break;
            }
        }
    }
    return 1;
}

static int
pg_start_map(void *ctx)
{
    struct page *x = ctx;

    if (x->depth == 2 && x->in_messages)
        memset(x->set, 0, sizeof(x->set)); /* a message begins */
    else
        pg_value(x);
    x->next = 0;
    x->depth++;
    return 1;
}

static int
pg_start_array(void *ctx)
{
    struct page *x = ctx;

    if (x->depth == 1 && x->next == 1) {
        x->in_messages = 1;
        x->saw_messages = 1;
    } else {
        pg_value(x);
    }
    x->next = 0;
    x->depth++;
    return 1;
}

/* message_end - a message of the page is complete: is it one asked for? */
static int
message_end(struct page *x)
{
    const char *ts = strbuf_str(&x->f[F_TS]);
    struct slack_message *m;

    if (!x->set[F_TS])
        return 1;
    if (x->oldest_size)
        snprintf(x->oldest, x->oldest_size, "%s", ts);
    for (size_t j = 0; j < x->n; j++) {
        if (x->out[j].ts || strcmp(ts, x->want[j]))
            continue;
        m = &x->out[j];
        m->ts = bot_strdup(ts);
        m->user = x->set[F_USER]     ? bot_strdup(strbuf_str(&x->f[F_USER]))
                  : x->set[F_BOT_ID] ? bot_strdup(strbuf_str(&x->f[F_BOT_ID]))
                                     : NULL;
        m->text = bot_strdup(x->set[F_TEXT] ? strbuf_str(&x->f[F_TEXT]) : "");
        m->thread_ts = x->set[F_THREAD_TS]
                           ? bot_strdup(strbuf_str(&x->f[F_THREAD_TS]))
                           : NULL;
        if (!m->ts || !m->text ||
            (!m->user && (x->set[F_USER] || x->set[F_BOT_ID])) ||
            (!m->thread_ts && x->set[F_THREAD_TS])) {
            x->enomem = 1;
            return 0;
        }
    }
    return 1;
}

static int
pg_end_map(void *ctx)
{
    struct page *x = ctx;

    x->depth--;
    x->next = 0;
    if (x->depth == 2 && x->in_messages)
        return message_end(x);
    return 1;
}

static int
pg_end_array(void *ctx)
{
    struct page *x = ctx;

    x->depth--;
    x->next = 0;
    if (x->depth == 1)
        x->in_messages = 0;
    return 1;
}

static const yajl_callbacks page_callbacks = {
    .yajl_null = pg_value,
    .yajl_boolean = pg_bool,
    .yajl_integer = pg_int,
    .yajl_double = pg_double,
    .yajl_string = pg_string,
    .yajl_start_map = pg_start_map,
    .yajl_map_key = pg_key,
    .yajl_end_map = pg_end_map,
    .yajl_start_array = pg_start_array,
    .yajl_end_array = pg_end_array,
};

int
slack_find_messages(const char *body, size_t len, const char *const *ts,
                    size_t n, struct slack_message *out, int *has_more,
                    char *oldest, size_t oldest_size)
{
    struct page x = {0};
    int rc;

    memset(out, 0, n * sizeof(*out));
    if (oldest_size)
        oldest[0] = '\0';
    x.want = ts;
    x.n = n;
    x.out = out;
    x.oldest = oldest;
    x.oldest_size = oldest_size;
    for (int i = 0; i < NFIELDS; i++)
        strbuf_init(&x.f[i], 0);
    rc = stream(&page_callbacks, &x, &x.enomem, body, len);
    for (int i = 0; i < NFIELDS; i++)
        strbuf_cleanup(&x.f[i]);
    if (!rc && !x.saw_messages)
        rc = BOT_EPROTO; /* no "messages" array */
    if (rc) {
        for (size_t j = 0; j < n; j++)
            slack_message_clear(&out[j]);
        if (oldest_size)
            oldest[0] = '\0';
        return rc;
    }
    if (has_more)
        *has_more = x.has_more;
    return BOT_OK;
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

/* user_name - the name a person goes by: profile.display_name, else
 * real_name, else name */
static const char *
user_name(json_t *u)
{
    json_t *prof = json_object_get(u, "profile");
    const char *cand[] = {
        json_string_value(json_object_get(prof, "display_name")),
        json_string_value(json_object_get(prof, "real_name")),
        json_string_value(json_object_get(u, "real_name")),
        json_string_value(json_object_get(u, "name")),
    };

    for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
        if (cand[i] && *cand[i])
            return cand[i];
    }
    return NULL;
}

int
slack_user_of(const char *body, size_t len, int envelope, char **id,
              char **name, char **tz)
{
    json_t *root = json_loadb(body, len, 0, NULL), *u;
    const char *i, *n, *z;
    int rc = BOT_EPROTO;

    *id = *name = NULL;
    if (tz)
        *tz = NULL;
    if (!json_is_object(root))
        goto done;
    u = envelope ? json_object_get(
                       json_object_get(json_object_get(root, "payload"),
                                       "event"),
                       "user")
                 : json_object_get(root, "user");
    i = json_string_value(json_object_get(u, "id"));
    n = user_name(u);
    if (!i || !n)
        goto done;
    *id = bot_strdup(i);
    *name = bot_strdup(n);
    z = json_string_value(json_object_get(u, "tz"));
    rc = *id && *name ? BOT_OK : BOT_ENOMEM;
    if (!rc && tz && z && *z && !(*tz = bot_strdup(z)))
        rc = BOT_ENOMEM;
    if (rc) {
        bot_free(*id);
        bot_free(*name);
        *id = *name = NULL;
    }
done:
    json_decref(root);
    return rc;
}

int
slack_find_keyed(const char *body, size_t len, const char *key,
                 const char *self_user, const char *self_bot, char **ts)
{
    json_t *root = json_loadb(body, len, 0, NULL), *msgs, *m;
    size_t i;
    int rc = BOT_ENOTFOUND;

    *ts = NULL;
    msgs = json_object_get(root, "messages");
    if (!json_is_array(msgs)) {
        json_decref(root);
        return BOT_EPROTO;
    }
    json_array_foreach(msgs, i, m) {
        json_t *meta = json_object_get(m, "metadata");
        const char *t = json_string_value(json_object_get(m, "ts"));
        const char *et =
            json_string_value(json_object_get(meta, "event_type"));
        const char *k = json_string_value(
            at_path(meta, "event_payload.key"));
        const char *bot = json_string_value(json_object_get(m, "bot_id"));
        const char *user = json_string_value(json_object_get(m, "user"));

        if (!t || !et || !k || strcmp(et, SLACK_KEY_EVENT) || strcmp(k, key))
            continue;
        /* pmbot's own message: another app may copy the shape */
        if ((self_bot || self_user) &&
            !(self_bot && bot && !strcmp(bot, self_bot)) &&
            !(self_user && user && !strcmp(user, self_user)))
            continue;
        *ts = bot_strdup(t);
        rc = *ts ? BOT_OK : BOT_ENOMEM;
        break;
    }
    json_decref(root);
    return rc;
}
