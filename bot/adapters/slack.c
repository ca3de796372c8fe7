/*
 * slack.c - the Slack platform: its operations (chat.h), start and
 * destroy, what Slack's Web API answers mean (the descriptor of the queue
 * in bot/webapi.c) and users' names. Socket Mode is in slack_socket.c,
 * fetches from history in slack_history.c (slack_int.h).
 */
#include "slack.h"
#include "slack_int.h"

#include "bot.h"
#include "chat.h"
#include "config.h"
#include "err.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "mem.h"
#include "slack_json.h"
#include "store.h"
#include "strbuf.h"
#include "webapi.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- what Slack's answers mean, for the Web API queue --- */

static struct slack *
sl(struct chat_platform *p)
{
    return p->priv;
}

int
slack_final_error(const char *e)
{
    static const char *const final[] = {
        "invalid_auth",     "not_authed",     "account_inactive",
        "token_revoked",    "missing_scope",  "not_allowed_token_type",
        "team_disabled",    "user_removed_from_team", "invalid_arguments",
        "method_deprecated", "no_permission"};

    for (size_t i = 0; i < sizeof(final) / sizeof(final[0]); i++) {
        if (!strcmp(e, final[i]))
            return 1;
    }
    return 0;
}

static int
transient_error(const char *e)
{
    return !strcmp(e, "internal_error") || !strcmp(e, "fatal_error") ||
           !strcmp(e, "service_unavailable") ||
           !strcmp(e, "request_timeout") || !strcmp(e, "ratelimited") ||
           !strcmp(e, "rate_limited");
}

/* warn_once - one clear line per kind of final failure, naming the fix */
static void
warn_once(struct slack *s, const char *method, const char *error)
{
    char key[64];
    const char *fix = "see the Slack app's configuration";

    snprintf(key, sizeof(key), "%s/%s", method, error);
    for (unsigned i = 0; i < s->nwarned && i < SLACK_WARNED; i++) {
        if (!strcmp(s->warned[i], key))
            return;
    }
    if (s->nwarned < SLACK_WARNED)
        snprintf(s->warned[s->nwarned++], sizeof(key), "%s", key);
    if (!strcmp(error, "missing_scope"))
        fix = "add the missing scope under OAuth & Permissions (see "
              "slack/manifest.yml) and reinstall the app";
    else if (!strcmp(error, "invalid_auth") || !strcmp(error, "not_authed") ||
             !strcmp(error, "token_revoked") ||
             !strcmp(error, "account_inactive"))
        fix = strcmp(method, "apps.connections.open")
                  ? "check SLACK_BOT_TOKEN (the xoxb- bot token)"
                  : "check SLACK_APP_TOKEN (an xapp- token with "
                    "connections:write)";
    else if (!strcmp(error, "not_allowed_token_type"))
        fix = "use the xoxb- bot token for the Web API and the xapp- token "
              "for Socket Mode";
    log_err("slack: %s failed: %s: %s", method, error, fix);
}

/* count_call - pmbot_slack_api_calls_total{method,outcome} */
static void
count_call(void *arg, const char *method, const char *outcome)
{
    struct slack *s = arg;
    char labels[96];

    snprintf(labels, sizeof(labels), "method=\"%s\",outcome=\"%s\"",
             method, outcome);
    metrics_add(&s->p->bot->metrics, "pmbot_slack_api_calls_total", labels,
                1);
}

/* serial - methods sent one at a time: posts keep their order, and a 429
 * stops the next one before it leaves */
static int
serial(const char *method)
{
    return !strcmp(method, "chat.postMessage") ||
           !strcmp(method, "conversations.create");
}

/*
 * error_rc - what an error of Slack's means to the core (chat.h): already
 * so is done; no such thing is BOT_ENOTFOUND; a taken name BOT_EEXIST;
 * anything else Slack refused is final (BOT_EINVAL): its errors are
 * refusals, the transient ones are tried again before it comes to this.
 */
static int
error_rc(const char *e)
{
    static const char *const done[] = {"already_pinned",
                                       "already_in_channel",
                                       "already_reacted"};
    static const char *const gone[] = {
        "channel_not_found", "message_not_found", "user_not_found",
        "users_not_found",   "thread_not_found",  "file_not_found",
        "no_user"};

    for (size_t i = 0; i < sizeof(done) / sizeof(done[0]); i++) {
        if (!strcmp(e, done[i]))
            return BOT_OK;
    }
    for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
        if (!strcmp(e, gone[i]))
            return BOT_ENOTFOUND;
    }
    return !strcmp(e, "name_taken") ? BOT_EEXIST : BOT_EINVAL;
}

/*
 * judge - Slack answers 200 with "ok"; any other status, or a body that is
 * not JSON, is tried again, as are Slack's own transient errors (BOT_EIO
 * once the attempts run out). A final error of the app's setup is logged
 * once with its fix.
 */
static int
judge(void *arg, const struct webapi_call *c, long status, const char *body,
      size_t len, int *rc, char **error)
{
    struct slack *s = arg;
    int ok = 0;

    *error = NULL;
    *rc = BOT_EIO;
    if (status != 200 || slack_status(body, len, &ok, error))
        return 1;
    if (ok) {
        *rc = BOT_OK;
        return 0;
    }
    if (!*error) {
        *rc = BOT_EPROTO; /* "ok":false without an error */
        return 0;
    }
    if (transient_error(*error))
        return 1;
    *rc = error_rc(*error);
    if (slack_final_error(*error))
        warn_once(s, c->method, *error);
    else if (*rc != BOT_OK && *rc != BOT_EEXIST)
        log_warn("slack: %s failed: %s", c->method, *error);
    return 0;
}

struct webapi_call *
slack_api(struct slack *s, const char *method, char *body, int form,
          webapi_fn *fn, void *cb, void *arg)
{
    return webapi_call(s->api, method, body,
                       form ? "application/x-www-form-urlencoded"
                            : "application/json; charset=utf-8",
                       fn, s, cb, arg);
}

struct webapi_call *
slack_api_get(struct slack *s, const char *method, const char *const *pairs,
              webapi_fn *fn, void *cb, void *arg, char *extra)
{
    struct strbuf q;
    struct webapi_call *c;

    strbuf_init(&q, 0);
    for (size_t i = 0; pairs[i] && pairs[i + 1]; i += 2) {
        char *v = http_url_escape(pairs[i + 1]);

        strbuf_printf(&q, "%s%s=%s", i ? "&" : "", pairs[i], v ? v : "");
        bot_free(v);
    }
    c = slack_api(s, method, NULL, 0, fn, cb, arg);
    if (c) {
        c->query = strbuf_steal(&q);
        c->extra = extra;
    } else {
        bot_free(extra);
    }
    strbuf_cleanup(&q);
    return c;
}

/* --- users' names, for showing mentions by name --- */

/* put_clean_user - keep a name (its own transaction, in the group if
 * one is open): a document shows mentions by the latest name, reminders
 * go out in the person's zone. A name from Slack is user text like any
 * other. */
static int
put_clean_user(struct slack *s, const char *id, const char *name,
               const char *tz)
{
    struct strbuf sb;
    int rc;

    strbuf_init(&sb, 0);
    rc = chat_text_clean(&sb, name, strlen(name), 0);
    if (!rc)
        rc = bot_put_user(s->p->bot, s->p, id, strbuf_str(&sb), tz);
    strbuf_cleanup(&sb);
    return rc;
}

static void
user_info_done(struct webapi_call *c, int rc, const char *body, size_t len)
{
    char *id = NULL, *name = NULL, *tz = NULL;

    if (!rc)
        rc = slack_user_of(body, len, 0, &id, &name, &tz);
    if (!rc)
        rc = put_clean_user(c->ctx, id, name, tz);
    if (rc && rc != BOT_ECANCELED)
        log_warn("slack: users.info %s: %s", c->extra ? c->extra : "?",
                 bot_strerror(rc));
    bot_free(id);
    bot_free(name);
    bot_free(tz);
}

/* known_user - 1 if the id was seen this run (then nothing to do), else
 * remembers it */
static int
known_user(struct slack *s, const char *id, size_t n)
{
    char *copy;

    for (size_t i = 0; i < s->nusers; i++) {
        if (strlen(s->users[i]) == n && !memcmp(s->users[i], id, n))
            return 1;
    }
    if (s->nusers == s->capusers) {
        size_t ncap = s->capusers ? s->capusers * 2 : 16;
        char **nu = bot_realloc(s->users, ncap * sizeof(*nu));

        if (!nu)
            return 1; /* the name can wait for another mention */
        s->users = nu;
        s->capusers = ncap;
    }
    copy = bot_strndup(id, n);
    if (!copy)
        return 1;
    s->users[s->nusers++] = copy;
    return 0;
}

/*
 * slack_learn_users - every person mentioned in text whose name pmbot does not
 * have yet is asked for (users.info, once a run); the answer goes to the
 * store, where documents find it. Mentions are rare, so this costs nothing
 * on the ordinary event.
 */
void
slack_learn_users(struct slack *s, const char *text)
{
    struct bot *b = s->p->bot;

    for (const char *p = text ? strchr(text, '<') : NULL; p;
         p = strchr(p + 1, '<')) {
        struct chat_mention m;
        char *id, *name = NULL;
        int rc;

        if (!chat_mention_at(p, &m) || m.kind != CHAT_SPAN_USER ||
            known_user(s, m.id, m.idlen))
            continue;
        id = s->users[s->nusers - 1];
        rc = store_user_name(b->core.store, s->p->ops->name, id, &name);
        bot_free(name);
        if (rc == BOT_ENOTFOUND) {
            const char *const pairs[] = {"user", id, NULL};

            slack_api_get(s, "users.info", pairs, user_info_done, NULL, NULL,
                          bot_strdup(id));
        }
    }
}

int
slack_user_change(struct slack *s, const char *data, size_t len)
{
    char *id = NULL, *name = NULL, *tz = NULL;
    int rc = slack_user_of(data, len, 1, &id, &name, &tz);

    if (!rc) {
        rc = put_clean_user(s, id, name, tz);
        if (!rc)
            known_user(s, id, strlen(id));
    }
    bot_free(id);
    bot_free(name);
    bot_free(tz);
    return rc;
}

/* --- platform operations --- */

static void
room_done(struct webapi_call *c, int rc, const char *body, size_t len)
{
    static const char *const paths[] = {"channel.id", "channel.name"};
    chat_room_fn *cb = c->cb;
    char *v[2] = {NULL, NULL}, *err = NULL;
    int ok;

    if (!rc && slack_result(body, len, &ok, &err, paths, v, 2) == BOT_OK &&
        !v[0])
        rc = BOT_EPROTO;
    if (cb)
        cb(c->arg, rc, rc ? NULL : v[0], rc ? NULL : v[1]);
    bot_free(v[0]);
    bot_free(v[1]);
    bot_free(err);
}

static void
op_open_channel(struct chat_platform *p, const char *name, int flags,
                chat_room_fn *cb, void *arg)
{
    const char *const pairs[] = {
        "name", name, "is_private",
        flags & CHAT_CHANNEL_PRIVATE ? "true" : "false", NULL};

    slack_api(sl(p), "conversations.create", slack_json_body(pairs), 0,
              room_done, cb, arg);
}

static void
done_done(struct webapi_call *c, int rc, const char *body, size_t len)
{
    chat_done_fn *cb = c->cb;

    (void)body;
    (void)len;
    if (cb)
        cb(c->arg, rc);
}

static void
op_invite(struct chat_platform *p, const char *room, const char *const *users,
          size_t n, chat_done_fn *cb, void *arg)
{
    struct strbuf list;
    const char *pairs[] = {"channel", room, "users", NULL, NULL};

    strbuf_init(&list, 0);
    for (size_t i = 0; i < n; i++)
        strbuf_printf(&list, "%s%s", i ? "," : "", users[i]);
    pairs[3] = strbuf_str(&list);
    slack_api(sl(p), "conversations.invite", slack_json_body(pairs), 0,
              done_done, cb, arg);
    strbuf_cleanup(&list);
}

static void
op_set_topic(struct chat_platform *p, const char *room, const char *topic,
             chat_done_fn *cb, void *arg)
{
    struct strbuf t;
    const char *pairs[] = {"channel", room, "topic", NULL, NULL};
    size_t n;

    strbuf_init(&t, 0);
    slack_escape(&t, topic);
    /* 250 characters at most; cut on a UTF-8 boundary */
    n = t.len;
    if (n > 250) {
        n = 250;
        while (n && ((unsigned char)t.buf[n] & 0xc0) == 0x80)
            n--;
        t.buf[n] = '\0';
    }
    pairs[3] = strbuf_str(&t);
    slack_api(sl(p), "conversations.setTopic", slack_json_body(pairs), 0,
              done_done, cb, arg);
    strbuf_cleanup(&t);
}

static void
posted_done(struct webapi_call *c, int rc, const char *body, size_t len)
{
    static const char *const paths[] = {"ts"};
    chat_posted_fn *cb = c->cb;
    char *ts = NULL, *err = NULL;
    int ok;

    if (!rc)
        slack_result(body, len, &ok, &err, paths, &ts, 1);
    if (cb)
        cb(c->arg, rc, ts);
    bot_free(ts);
    bot_free(err);
}

/* ephemeral_done - an ephemeral message has no ts to keep: Slack's
 * message_ts names nothing history, chat.update or pins can find */
static void
ephemeral_done(struct webapi_call *c, int rc, const char *body, size_t len)
{
    chat_posted_fn *cb = c->cb;

    (void)body;
    (void)len;
    if (cb)
        cb(c->arg, rc, NULL);
}

static void
op_post(struct chat_platform *p, const struct chat_target *to,
        const struct chat_msg *msg, chat_posted_fn *cb, void *arg)
{
    if (to->flags & CHAT_POST_EPHEMERAL) {
        if (!to->user) {
            if (cb)
                cb(arg, BOT_EINVAL, NULL);
            return;
        }
        slack_api(sl(p), "chat.postEphemeral",
                  slack_ephemeral_body(to->room, to->user, msg,
                                       to->thread_id),
                  0, ephemeral_done, cb, arg);
        return;
    }
    /* the key rides as metadata: find_sent looks for it after a crash */
    slack_api(sl(p), "chat.postMessage",
              slack_post_body(to->room, msg, to->thread_id, to->key), 0,
              posted_done, cb, arg);
}

static void
dm_done(struct webapi_call *c, int rc, const char *body, size_t len)
{
    static const char *const paths[] = {"channel.id"};
    chat_room_fn *cb = c->cb;
    char *id = NULL, *err = NULL;
    int ok;

    if (!rc && slack_result(body, len, &ok, &err, paths, &id, 1) == BOT_OK &&
        !id)
        rc = BOT_EPROTO;
    if (cb)
        cb(c->arg, rc, rc ? NULL : id, NULL);
    bot_free(id);
    bot_free(err);
}

static void
op_open_dm(struct chat_platform *p, const char *user, chat_room_fn *cb,
           void *arg)
{
    const char *const pairs[] = {"users", user, NULL};

    slack_api(sl(p), "conversations.open", slack_json_body(pairs), 0,
              dm_done, cb, arg);
}

static void
op_update(struct chat_platform *p, const char *room, const char *msg_id,
          const struct chat_msg *msg, const char *key,
          chat_done_fn *cb, void *arg)
{
    (void)key; /* idempotent by itself, or find_sent */
    slack_api(sl(p), "chat.update", slack_update_body(room, msg_id, msg), 0,
              done_done, cb, arg);
}

/*
 * emoji_name - Slack names reactions, the core gives the character: the
 * few pmbot uses, and the configured timeline emoji. NULL for others.
 */
static const char *
emoji_name(const struct slack *s, const char *emoji)
{
    static const struct {
        const char *ch, *name;
    } table[] = {
        {"\u2705", "white_check_mark"}, {"\U0001F4CC", "pushpin"},
        {"\U0001F440", "eyes"},         {"\u274C", "x"},
        {"\U0001F44D", "+1"},           {"\u26A0", "warning"},
        {"\U0001F6A8", "rotating_light"}};
    size_t n = strlen(emoji);

    /* U+FE0F (emoji presentation) changes no name */
    if (n > 3 && !strcmp(emoji + n - 3, "\xEF\xB8\x8F"))
        n -= 3;
    if (s->cfg->timeline_emoji && s->cfg->timeline_emoji_name &&
        strlen(s->cfg->timeline_emoji) == n &&
        !memcmp(s->cfg->timeline_emoji, emoji, n))
        return s->cfg->timeline_emoji_name;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strlen(table[i].ch) == n && !memcmp(table[i].ch, emoji, n))
            return table[i].name;
    }
    return NULL;
}

static void
op_react(struct chat_platform *p, const char *room, const char *msg_id,
         const char *emoji, const char *key, chat_done_fn *cb, void *arg)
{
    (void)key; /* idempotent by itself, or find_sent */
    const char *name = emoji_name(sl(p), emoji);
    const char *const pairs[] = {"channel", room, "timestamp", msg_id,
                                 "name",    name, NULL};

    if (!name) {
        log_warn("slack: no Slack name for the reaction %s", emoji);
        if (cb)
            cb(arg, BOT_EINVAL);
        return;
    }
    slack_api(sl(p), "reactions.add", slack_json_body(pairs), 0, done_done,
              cb, arg);
}

static void
op_redact(struct chat_platform *p, const char *room, const char *msg_id,
          const char *key, chat_done_fn *cb, void *arg)
{
    (void)key; /* idempotent by itself, or find_sent */
    const char *const pairs[] = {"channel", room, "ts", msg_id, NULL};

    slack_api(sl(p), "chat.delete", slack_json_body(pairs), 0, done_done, cb,
              arg);
}

static void
op_find_sent(struct chat_platform *p, const char *room,
             const char *thread_id, const char *key, chat_posted_fn *cb,
             void *arg)
{
    slack_find_sent(sl(p), room, thread_id, key, cb, arg);
}

static void
op_pin(struct chat_platform *p, const char *room, const char *msg_id,
       chat_done_fn *cb, void *arg)
{
    const char *const pairs[] = {"channel", room, "timestamp", msg_id, NULL};

    slack_api(sl(p), "pins.add", slack_json_body(pairs), 0, done_done, cb,
              arg);
}

static void
upload_completed(struct webapi_call *c, int rc, const char *body, size_t len)
{
    done_done(c, rc, body, len);
}

static void
upload_sent(struct webapi_call *c, int rc, const char *body, size_t len)
{
    (void)body;
    (void)len;
    if (!rc && (!c->extra || !c->extra2))
        rc = BOT_ENOMEM;
    if (rc) {
        done_done(c, rc, NULL, 0);
        return;
    }
    /* extra: "file_id\ntitle", extra2: "channel\nthread_ts" */
    char *nl = strchr(c->extra, '\n'), *thread = strchr(c->extra2, '\n');

    *nl = '\0';
    *thread++ = '\0';
    slack_api(c->ctx, "files.completeUploadExternal",
              slack_upload_complete_body(c->extra, nl + 1, c->extra2,
                                         *thread ? thread : NULL),
              0, upload_completed, c->cb, c->arg);
}

static void
upload_url(struct webapi_call *c, int rc, const char *body, size_t len)
{
    static const char *const paths[] = {"upload_url", "file_id"};
    char *v[2] = {NULL, NULL}, *err = NULL;
    struct webapi_call *up;
    struct strbuf meta;
    int ok;

    if (!rc)
        slack_result(body, len, &ok, &err, paths, v, 2);
    bot_free(err);
    if (!rc && (!c->extra || !c->extra2))
        rc = BOT_ENOMEM;
    if (rc || !v[0] || !v[1]) {
        done_done(c, rc ? rc : BOT_EPROTO, NULL, 0);
        bot_free(v[0]);
        bot_free(v[1]);
        return;
    }
    /* c->extra2 is "title\ncontent" */
    char *nl = strchr(c->extra2, '\n');

    *nl = '\0';
    strbuf_init(&meta, 0);
    strbuf_printf(&meta, "%s\n%s", v[1], c->extra2);
    up = webapi_call(((struct slack *)c->ctx)->api, "file upload",
                     bot_strdup(nl + 1), "application/octet-stream",
                     upload_sent, c->ctx, c->cb, c->arg);
    if (up) {
        up->url = v[0]; /* a raw URL: no token, no gate */
        v[0] = NULL;
        up->extra = strbuf_steal(&meta);
        up->extra2 = bot_strdup(c->extra);
    }
    strbuf_cleanup(&meta);
    bot_free(v[0]);
    bot_free(v[1]);
}

static void
op_upload(struct chat_platform *p, const struct chat_target *to,
          const char *filename, const char *title, const char *content,
          size_t len, chat_done_fn *cb, void *arg)
{
    struct slack *s = sl(p);
    struct strbuf form, carry;
    char *fn = http_url_escape(filename), num[32];
    struct webapi_call *c;

    snprintf(num, sizeof(num), "%zu", len);
    strbuf_init(&form, 0);
    strbuf_printf(&form, "filename=%s&length=%s", fn ? fn : "file", num);
    bot_free(fn);
    strbuf_init(&carry, 0);
    strbuf_printf(&carry, "%s\n", title);
    strbuf_append(&carry, content, len);
    c = slack_api(s, "files.getUploadURLExternal", strbuf_steal(&form), 1,
                  upload_url, cb, arg);
    if (c) {
        struct strbuf where;

        strbuf_init(&where, 0);
        strbuf_printf(&where, "%s\n%s", to->room,
                      to->thread_id ? to->thread_id : "");
        c->extra = strbuf_steal(&where);
        c->extra2 = strbuf_steal(&carry);
        strbuf_cleanup(&where);
    }
    strbuf_cleanup(&form);
    strbuf_cleanup(&carry);
}

static int
op_parse_user(struct chat_platform *p, const char *token, char **user_out)
{
    (void)p;
    return slack_parse_user(token, user_out);
}

static void
op_fetch_message(struct chat_platform *p, const char *room,
                 const char *msg_id, chat_fetched_fn *cb, void *arg)
{
    slack_fetch(sl(p), room, msg_id, cb, arg);
}

void
slack_start(struct chat_platform *p)
{
    bot_set_group_commit(p->bot, 1);
    slack_socket_start(sl(p));
}

static void
op_destroy(struct chat_platform *p)
{
    struct slack *s = sl(p);

    s->stopped = 1;
    s->destroying = 1;
    slack_history_cancel(s);
    webapi_free(s->api); /* every call gets BOT_ECANCELED */
    s->api = NULL;
    slack_socket_close(s);
    slack_history_free(s);
    loop_timer_free(s->reconnect);
    bot_free(s->self_user);
    bot_free(s->self_bot);
    for (size_t i = 0; i < s->nusers; i++)
        bot_free(s->users[i]);
    bot_free(s->users);
    bot_free(s);
    bot_free(p);
}

static int
op_connected(struct chat_platform *p, const char **why)
{
    return slack_socket_connected(sl(p), why);
}

static const struct chat_platform_ops slack_ops = {
    .name = "slack",
    .cmd_prefix = '/',
    .caps = CHAT_CAN_EPHEMERAL | CHAT_CAN_THREAD | CHAT_CAN_PRIVATE,
    .open_channel = op_open_channel,
    .invite = op_invite,
    .set_topic = op_set_topic,
    .post = op_post,
    .open_dm = op_open_dm,
    .update = op_update,
    .react = op_react,
    .redact = op_redact,
    .fetch_message = op_fetch_message,
    .pin = op_pin,
    .upload = op_upload,
    .find_sent = op_find_sent,
    .parse_user = op_parse_user,
    .connected = op_connected,
    .destroy = op_destroy,
};

int
slack_new(struct loop *loop, struct ws_ctx *ws, const struct config *cfg,
          struct chat_platform **out)
{
    struct chat_platform *p = bot_calloc(1, sizeof(*p));
    struct slack *s = bot_calloc(1, sizeof(*s));

    if (!p || !s)
        goto fail;
    s->p = p;
    s->loop = loop;
    s->cfg = cfg;
    p->ops = &slack_ops;
    p->priv = s;
    s->ws = ws;
    s->authing = 1; /* who the bot is: auth.test, once started */
    s->desc = (struct webapi_desc){.name = "slack",
                                   .base_url = cfg->slack_api_url,
                                   .token = cfg->slack_bot_token,
                                   .serial = serial,
                                   .judge = judge,
                                   .count = count_call,
                                   .arg = s};
    if (webapi_new(loop, &s->desc, &s->api) ||
        loop_timer_new(loop, slack_socket_timer, s, &s->reconnect))
        goto fail;
    *out = p;
    return BOT_OK;

fail:
    if (s) {
        webapi_free(s->api);
        loop_timer_free(s->reconnect);
        bot_free(s);
    }
    bot_free(p);
    return BOT_ENOMEM;
}
