/*
 * matrix.c - the Matrix platform: its operations (chat.h), start and
 * destroy, what a homeserver's answers mean (the descriptor of the queue
 * in bot/webapi.c), the login and the DM rooms. The /sync loop is in
 * matrix_sync.c, the JSON in matrix_json.c (matrix_int.h).
 */
#include "matrix.h"
#include "matrix_int.h"

#include "bot.h"
#include "chat.h"
#include "config.h"
#include "err.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "mem.h"
#include "store.h"
#include "strbuf.h"
#include "timeutil.h"
#include "unit.h"
#include "webapi.h"

#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a token refused again this soon after a login is not an expiry: stop
 * rather than log in in a loop (homeservers allow a few logins a minute) */
#define RELOGIN_MS (10 * 60 * 1000)

/* An open_dm waiting for the room of its user (one createRoom a user). */
struct mx_dm_wait {
    struct mx_dm_wait *next;
    char *user;
    chat_room_fn *cb;
    void *arg;
    int started; /* its user's room is being made */
};

static struct matrix *
mx(struct chat_platform *p)
{
    return p->priv;
}

/* --- what a homeserver's answers mean --- */

void
mx_warn_once(struct matrix *m, const char *what, const char *line)
{
    for (unsigned i = 0; i < m->nwarned && i < MX_WARNED; i++) {
        if (!strcmp(m->warned[i], what))
            return;
    }
    if (m->nwarned < MX_WARNED)
        snprintf(m->warned[m->nwarned++], sizeof(m->warned[0]), "%s", what);
    log_err("matrix: %s", line);
}

static int
token_error(const char *e)
{
    return !strcmp(e, "M_UNKNOWN_TOKEN") || !strcmp(e, "M_MISSING_TOKEN") ||
           !strcmp(e, "M_USER_DEACTIVATED");
}

/*
 * judge - 2xx is done; errcode before the status (but M_UNKNOWN, which
 * says nothing, goes by the status): a 5xx or no answer is tried again; a
 * refused token stops the platform; the rest are refusals (chat.h).
 */
static int
judge(void *arg, const struct webapi_call *c, long status, const char *body,
      size_t len, int *rc, char **error)
{
    struct matrix *m = arg;
    char *e = NULL;
    long retry;

    *error = NULL;
    *rc = BOT_EIO;
    if (status >= 200 && status < 300) {
        *rc = BOT_OK;
        return 0;
    }
    if (status == 0 || mx_error_parse(body, len, &e, &retry))
        return 1;
    if (!e || !strcmp(e, "M_UNKNOWN")) {
        if (status >= 500 || status == 408) {
            *error = e;
            return 1;
        }
        *rc = status == 404 ? BOT_ENOTFOUND : BOT_EINVAL;
    } else if (!strcmp(e, "M_NOT_FOUND")) {
        *rc = BOT_ENOTFOUND;
    } else if (!strcmp(e, "M_ROOM_IN_USE")) {
        *rc = BOT_EEXIST;
    } else if (!strcmp(e, "M_DUPLICATE_ANNOTATION")) {
        *rc = BOT_OK;
    } else if (token_error(e)) {
        *rc = BOT_EIO; /* kept in the outbox for a valid token */
        mx_token_refused(m);
    } else if (status >= 500) {
        *error = e;
        return 1;
    } else {
        *rc = BOT_EINVAL;
    }
    if (*rc == BOT_EINVAL) {
        char what[96], line[256];

        snprintf(what, sizeof(what), "%s/%s", c->method, e ? e : "?");
        snprintf(line, sizeof(line),
                 "%s refused (%s, HTTP %ld)%s", c->method,
                 e ? e : "no errcode", status,
                 e && !strcmp(e, "M_FORBIDDEN")
                     ? ": invite the bot, or give it power level 50 there"
                     : "");
        mx_warn_once(m, what, line);
    }
    *error = e;
    return 0;
}

static long
retry_ms(void *arg, const char *body, size_t len)
{
    long ms = -1;

    (void)arg;
    if (mx_error_parse(body, len, NULL, &ms))
        return -1;
    return ms;
}

/* count_call - pmbot_matrix_api_calls_total{endpoint,outcome} */
static void
count_call(void *arg, const char *key, const char *outcome)
{
    struct matrix *m = arg;
    char labels[96];

    snprintf(labels, sizeof(labels), "endpoint=\"%s\",outcome=\"%s\"", key,
             outcome);
    metrics_add(&m->p->bot->metrics, "pmbot_matrix_api_calls_total", labels,
                1);
}

/* serial - createRoom is not idempotent: one at a time, so a 429 or a
 * retry never races another room into being; account data likewise */
static int
serial(const char *key)
{
    /* m.direct is written whole: an older write must not land last */
    return !strcmp(key, "createRoom") || !strcmp(key, "account_data");
}

/* mx_pathv - fmt with every %s argument %-escaped */
static char *
mx_pathv(const char *fmt, va_list ap)
{
    struct strbuf sb;

    strbuf_init(&sb, 0);
    for (const char *f = fmt; *f; f++) {
        if (f[0] == '%' && f[1] == 's') {
            char *v = http_url_escape(va_arg(ap, const char *));

            if (!v) {
                strbuf_cleanup(&sb);
                return NULL;
            }
            strbuf_puts(&sb, v);
            bot_free(v);
            f++;
        } else {
            strbuf_putc(&sb, *f);
        }
    }
    if (strbuf_error(&sb)) {
        strbuf_cleanup(&sb);
        return NULL;
    }
    return strbuf_steal(&sb);
}

struct webapi_call *
mx_api(struct matrix *m, const char *key, const char *verb, char *body,
       webapi_fn *fn, void *cb, void *arg, const char *fmt, ...)
{
    struct webapi_call *c;
    va_list ap;
    char *path;

    if (m->stopped || m->destroying) {
        bot_free(body);
        fn(&(struct webapi_call){.q = m->api, .ctx = m, .cb = cb, .arg = arg},
           m->destroying ? BOT_ECANCELED : BOT_EIO, NULL, 0);
        return NULL;
    }
    va_start(ap, fmt);
    path = mx_pathv(fmt, ap);
    va_end(ap);
    if (!path) {
        bot_free(body);
        fn(&(struct webapi_call){.q = m->api, .ctx = m, .cb = cb, .arg = arg},
           BOT_ENOMEM, NULL, 0);
        return NULL;
    }
    c = webapi_call(m->api, key, body, "application/json", fn, m, cb, arg);
    if (!c) {
        bot_free(path);
        return NULL;
    }
    c->path = path;
    c->verb = verb;
    return c;
}

/* txn_id - the txnId of a send: the outbox key with this database's
 * nonce (row ids come back after pruning or in another database on the
 * same device); without a key, unique to this run */
static char *
txn_id(struct matrix *m, const char *key)
{
    struct strbuf sb;

    strbuf_init(&sb, 0);
    if (key)
        strbuf_printf(&sb, "%s.%s", key, m->nonce);
    else
        strbuf_printf(&sb, "pmbot-now-%lld-%llu", (long long)m->started_ms,
                      (unsigned long long)++m->txn_seq);
    if (strbuf_error(&sb)) {
        strbuf_cleanup(&sb);
        return NULL;
    }
    return strbuf_steal(&sb);
}

/* --- platform operations --- */

static void
done_done(struct webapi_call *c, int rc, const char *body, size_t len)
{
    chat_done_fn *cb = c->cb;

    (void)body;
    (void)len;
    if (cb)
        cb(c->arg, rc);
}

static void create_room(struct matrix *m, const char *name, int alias,
                        chat_room_fn *cb, void *arg);

static void
room_mine(struct webapi_call *c, int rc, const char *body, size_t len)
{
    chat_room_fn *cb = c->cb;

    (void)body;
    (void)len;
    /* joined: the room an earlier attempt of this call made */
    if (cb)
        cb(c->arg, rc ? BOT_EEXIST : BOT_OK, rc ? NULL : c->extra2,
           rc ? NULL : c->extra);
}

static void
room_alias(struct webapi_call *c, int rc, const char *body, size_t len)
{
    struct matrix *m = c->ctx;
    chat_room_fn *cb = c->cb;
    char *id = NULL;
    struct webapi_call *j;

    if (!rc && mx_answer_string(body, len, "room_id", &id))
        rc = BOT_EPROTO;
    if (rc) {
        if (cb)
            cb(c->arg, BOT_EEXIST, NULL, NULL);
        return;
    }
    j = mx_api(m, "state", NULL, NULL, room_mine, cb, c->arg,
               "client/v3/rooms/%s/joined_members", id);
    if (j) {
        j->extra = c->extra;
        c->extra = NULL;
        j->extra2 = id;
        id = NULL;
    }
    bot_free(id);
}

static void
room_done(struct webapi_call *c, int rc, const char *body, size_t len)
{
    struct matrix *m = c->ctx;
    chat_room_fn *cb = c->cb;
    char *id = NULL;

    if (rc == BOT_EEXIST && c->attempt > 0 && c->extra && !c->extra2) {
        /* taken, after an attempt that may have made it (a timeout): the
         * alias's room is ours if the bot is in it */
        struct webapi_call *a;
        struct strbuf alias;

        strbuf_init(&alias, 0);
        strbuf_printf(&alias, "#%s:%s", c->extra, m->server);
        a = strbuf_error(&alias)
                ? NULL
                : mx_api(m, "directory", NULL, NULL, room_alias, cb, c->arg,
                         "client/v3/directory/room/%s", strbuf_str(&alias));
        if (strbuf_error(&alias) && cb)
            cb(c->arg, BOT_ENOMEM, NULL, NULL);
        strbuf_cleanup(&alias);
        if (a) {
            a->extra = c->extra;
            c->extra = NULL;
        }
        return;
    }
    if (rc == BOT_EINVAL && c->extra && !c->extra2) {
        /* a server that gives the bot no aliases: the room without one */
        create_room(m, c->extra, 0, cb, c->arg);
        return;
    }
    if (!rc && mx_answer_string(body, len, "room_id", &id))
        rc = BOT_EPROTO;
    if (cb)
        cb(c->arg, rc, rc ? NULL : id, rc ? NULL : c->extra);
    bot_free(id);
}

static void
create_room(struct matrix *m, const char *name, int alias, chat_room_fn *cb,
            void *arg)
{
    struct webapi_call *c =
        mx_api(m, "createRoom", NULL,
               mx_create_room_body(name, alias ? name : NULL, NULL, NULL, 0,
                                   0),
               room_done, cb, arg, "client/v3/createRoom");

    if (c) {
        c->extra = bot_strdup(name);
        c->extra2 = alias ? NULL : bot_strdup("no alias");
    }
}

static void
op_open_channel(struct chat_platform *p, const char *name, int flags,
                chat_room_fn *cb, void *arg)
{
    /* always private: a public Matrix room is open to the federation */
    (void)flags;
    create_room(mx(p), name, 1, cb, arg);
}

/* One invite call per user; the worst answer is the result. */
struct invites {
    chat_done_fn *cb;
    void *arg;
    size_t left;
    int rc;
};

static void
invite_done(struct webapi_call *c, int rc, const char *body, size_t len)
{
    struct invites *iv = c->arg;

    (void)body;
    (void)len;
    /* 403 for someone already in the room: M_FORBIDDEN with the text
     * "already in the room"; taken as done */
    if (rc == BOT_EINVAL && body && strstr(body, "already in the room"))
        rc = BOT_OK;
    if (rc && (!iv->rc || rc == BOT_EIO || rc == BOT_ECANCELED))
        iv->rc = rc;
    if (--iv->left)
        return;
    if (iv->cb)
        iv->cb(iv->arg, iv->rc);
    bot_free(iv);
}

static void
op_invite(struct chat_platform *p, const char *room, const char *const *users,
          size_t n, chat_done_fn *cb, void *arg)
{
    struct invites *iv;
    size_t valid = 0;

    for (size_t i = 0; i < n; i++)
        valid += mx_user_valid(users[i]);
    if (!valid) {
        if (cb)
            cb(arg, n ? BOT_EINVAL : BOT_OK);
        return;
    }
    iv = bot_calloc(1, sizeof(*iv));
    if (!iv) {
        if (cb)
            cb(arg, BOT_ENOMEM);
        return;
    }
    iv->cb = cb;
    iv->arg = arg;
    iv->left = valid;
    for (size_t i = 0; i < n; i++) {
        const char *const pairs[] = {"user_id", users[i]};
        struct strbuf sb;

        if (!mx_user_valid(users[i]))
            continue;
        strbuf_init(&sb, 0);
        /* a user id holds no '"' or '\\' (mx_user_valid) */
        strbuf_printf(&sb, "{\"%s\":\"%s\"}", pairs[0], pairs[1]);
        mx_api(mx(p), "invite", NULL, strbuf_steal(&sb), invite_done, NULL,
               iv, "client/v3/rooms/%s/invite", room);
        strbuf_cleanup(&sb);
    }
}

static void
op_set_topic(struct chat_platform *p, const char *room, const char *topic,
             chat_done_fn *cb, void *arg)
{
    mx_api(mx(p), "state", "PUT", mx_topic_content(topic), done_done, cb, arg,
           "client/v3/rooms/%s/state/m.room.topic/", room);
}

static void
posted_done(struct webapi_call *c, int rc, const char *body, size_t len)
{
    chat_posted_fn *cb = c->cb;
    char *id = NULL;

    if (!rc && mx_answer_string(body, len, "event_id", &id))
        rc = BOT_EPROTO;
    if (cb)
        cb(c->arg, rc, rc ? NULL : id);
    bot_free(id);
}

/* send - PUT an event of type into room, content taken */
static void
send_event(struct matrix *m, const char *room, const char *type,
           const char *key, char *content, webapi_fn *fn, void *cb,
           void *arg)
{
    char *txn = txn_id(m, key);

    if (!txn || !content) {
        bot_free(txn);
        bot_free(content);
        fn(&(struct webapi_call){.q = m->api, .ctx = m, .cb = cb, .arg = arg},
           BOT_ENOMEM, NULL, 0);
        return;
    }
    mx_api(m, "send", "PUT", content, fn, cb, arg,
           "client/v3/rooms/%s/send/%s/%s", room, type, txn);
    bot_free(txn);
}

static void
op_post(struct chat_platform *p, const struct chat_target *to,
        const struct chat_msg *msg, chat_posted_fn *cb, void *arg)
{
    send_event(mx(p), to->room, "m.room.message", to->key,
               to->flags & CHAT_POST_NOTIFY
                   ? mx_notify_content(msg, to->thread_id)
                   : mx_message_content(msg, to->thread_id),
               posted_done, cb, arg);
}

static void
op_update(struct chat_platform *p, const char *room, const char *msg_id,
          const struct chat_msg *msg, const char *key, chat_done_fn *cb,
          void *arg)
{
    send_event(mx(p), room, "m.room.message", key,
               mx_edit_content(msg, msg_id), done_done, cb, arg);
}

static void
op_react(struct chat_platform *p, const char *room, const char *msg_id,
         const char *emoji, const char *key, chat_done_fn *cb, void *arg)
{
    send_event(mx(p), room, "m.reaction", key,
               mx_reaction_content(msg_id, emoji), done_done, cb, arg);
}

static void
op_redact(struct chat_platform *p, const char *room, const char *msg_id,
          const char *key, chat_done_fn *cb, void *arg)
{
    struct matrix *m = mx(p);
    char *txn = txn_id(m, key);

    if (!txn) {
        if (cb)
            cb(arg, BOT_ENOMEM);
        return;
    }
    mx_api(m, "redact", "PUT", bot_strdup("{}"), done_done, cb, arg,
           "client/v3/rooms/%s/redact/%s/%s", room, msg_id, txn);
    bot_free(txn);
}

static void
pinned_read(struct webapi_call *c, int rc, const char *body, size_t len)
{
    struct matrix *m = c->ctx;
    char *content = NULL;

    if (!rc && (!c->extra || !c->extra2))
        rc = BOT_ENOMEM; /* op_pin could not keep them */
    if (rc == BOT_ENOTFOUND) { /* never pinned anything here */
        rc = BOT_OK;
        body = NULL;
        len = 0;
    }
    if (!rc)
        rc = mx_pinned_body(body, len, c->extra2, &content);
    if (rc || !content) {
        done_done(c, rc, NULL, 0);
        return;
    }
    mx_api(m, "state", "PUT", content, done_done, c->cb, c->arg,
           "client/v3/rooms/%s/state/m.room.pinned_events/", c->extra);
}

static void
op_pin(struct chat_platform *p, const char *room, const char *msg_id,
       chat_done_fn *cb, void *arg)
{
    struct webapi_call *c =
        mx_api(mx(p), "state", NULL, NULL, pinned_read, cb, arg,
               "client/v3/rooms/%s/state/m.room.pinned_events/", room);

    if (c) {
        c->extra = bot_strdup(room);
        c->extra2 = bot_strdup(msg_id);
    }
}

/* upload: the media first, then the m.file event in the room */
static void
uploaded(struct webapi_call *c, int rc, const char *body, size_t len)
{
    struct matrix *m = c->ctx;
    char *mxc = NULL, *content;
    /* extra: "room\nthread\nkey\nfilename\ntitle" (the title may hold
     * line breaks: it is last) */
    char *f[5] = {0};
    char *s = c->extra;

    if (!rc && mx_answer_string(body, len, "content_uri", &mxc))
        rc = BOT_EPROTO;
    if (!rc && !s)
        rc = BOT_ENOMEM;
    for (int i = 0; !rc && i < 4; i++) {
        f[i] = s;
        s = strchr(s, '\n');
        *s++ = '\0'; /* op_upload wrote four */
    }
    f[4] = s;
    if (rc) {
        bot_free(mxc);
        done_done(c, rc, NULL, 0);
        return;
    }
    content = mx_file_content(f[4], f[3], mxc, "text/markdown", c->len,
                              *f[1] ? f[1] : NULL);
    send_event(m, f[0], "m.room.message", *f[2] ? f[2] : NULL, content,
               done_done, c->cb, c->arg);
    bot_free(mxc);
}

static void
op_upload(struct chat_platform *p, const struct chat_target *to,
          const char *filename, const char *title, const char *content,
          size_t len, chat_done_fn *cb, void *arg)
{
    struct webapi_call *c;
    struct strbuf carry, q;
    char *fn = http_url_escape(filename);

    strbuf_init(&carry, 0);
    strbuf_printf(&carry, "%s\n%s\n%s\n%s\n%s", to->room,
                  to->thread_id ? to->thread_id : "", to->key ? to->key : "",
                  filename, title);
    strbuf_init(&q, 0);
    strbuf_printf(&q, "filename=%s", fn ? fn : "document.md");
    bot_free(fn);
    /* the body is the document up to a NUL: its size is the call's len */
    c = mx_api(mx(p), "upload", NULL, bot_strndup(content, len), uploaded, cb,
               arg, "media/v3/upload");
    if (c) {
        c->ctype = "text/markdown; charset=utf-8";
        c->query = strbuf_steal(&q);
        c->extra = strbuf_steal(&carry);
    }
    strbuf_cleanup(&carry);
    strbuf_cleanup(&q);
}

static void
fetched(struct webapi_call *c, int rc, const char *body, size_t len)
{
    chat_fetched_fn *cb = c->cb;
    struct mx_event e = {0};
    struct chat_message msg = {0};

    /* not visible to the bot (before it joined) is not there for it */
    if (rc == BOT_EINVAL)
        rc = BOT_ENOTFOUND;
    if (!rc)
        rc = mx_event_parse(body, len, &e);
    if (!rc && (e.redacted || !e.text ||
                (e.type != MX_EV_MESSAGE && e.type != MX_EV_NOTICE)))
        rc = BOT_ENOTFOUND;
    if (!rc) {
        msg.room = c->extra;
        msg.id = e.event_id;
        msg.user = e.sender;
        msg.text = e.text;
        msg.thread_id = e.thread_id;
        msg.at = e.ts;
    }
    if (cb)
        cb(c->arg, rc, rc ? NULL : &msg);
    mx_event_clear(&e);
}

static void
op_fetch_message(struct chat_platform *p, const char *room,
                 const char *msg_id, chat_fetched_fn *cb, void *arg)
{
    struct webapi_call *c =
        mx_api(mx(p), "event", NULL, NULL, fetched, cb, arg,
               "client/v3/rooms/%s/event/%s", room, msg_id);

    if (c)
        c->extra = bot_strdup(room);
}

static int
op_parse_user(struct chat_platform *p, const char *token, char **user_out)
{
    struct matrix *m = mx(p);

    return mx_parse_user(token, m->server ? m->server : "localhost",
                         user_out);
}

static int
op_connected(struct chat_platform *p, const char **why)
{
    return mx_sync_connected(mx(p), why);
}

/* --- DMs: the m.direct account data --- */

int
mx_is_dm(const struct matrix *m, const char *room)
{
    for (size_t i = 0; i < m->ndirect; i++) {
        if (!strcmp(m->direct[i].room, room))
            return 1;
    }
    return 0;
}

static const char *
dm_room_of(const struct matrix *m, const char *user)
{
    /* the newest: m.direct lists a user's rooms oldest first */
    for (size_t i = m->ndirect; i-- > 0;) {
        if (!strcmp(m->direct[i].user, user))
            return m->direct[i].room;
    }
    return NULL;
}

void
mx_direct_set(struct matrix *m, const char *json)
{
    struct mx_direct *d = NULL;
    size_t n = 0;
    char *copy = bot_strdup(json);

    if (!copy || mx_direct_parse(json, strlen(json), &d, &n)) {
        bot_free(copy);
        return;
    }
    mx_direct_free(m->direct, m->ndirect);
    bot_free(m->direct_json);
    m->direct = d;
    m->ndirect = n;
    m->direct_json = copy;
}

void
mx_log_failure(struct webapi_call *c, int rc, const char *body, size_t len)
{
    (void)body;
    (void)len;
    if (rc && rc != BOT_ECANCELED)
        log_warn("matrix: could not %s: %s", (const char *)c->arg,
                 bot_strerror(rc));
}

void
mx_direct_add(struct matrix *m, const char *user, const char *room)
{
    char *json;

    if (!m->direct_ready) {
        /* written whole: not before the account's own is read */
        struct mx_direct *np =
            bot_realloc(m->direct_later, (m->nlater + 1) * sizeof(*np));

        if (!np)
            return;
        m->direct_later = np;
        np[m->nlater].user = bot_strdup(user);
        np[m->nlater].room = bot_strdup(room);
        if (!np[m->nlater].user || !np[m->nlater].room) {
            bot_free(np[m->nlater].user);
            bot_free(np[m->nlater].room);
            return;
        }
        m->nlater++;
        return;
    }
    json = mx_direct_body(m->direct_json, user, room);
    if (!json)
        return;
    mx_direct_set(m, json);
    mx_api(m, "account_data", "PUT", json, mx_log_failure, NULL,
           "record the DM in m.direct",
           "client/v3/user/%s/account_data/m.direct", m->self);
}

void
mx_direct_drop(struct matrix *m, const char *user, const char *room)
{
    for (size_t i = 0; i < m->ndirect; i++) {
        if (!strcmp(m->direct[i].user, user) &&
            !strcmp(m->direct[i].room, room)) {
            bot_free(m->direct[i].user);
            bot_free(m->direct[i].room);
            m->direct[i] = m->direct[--m->ndirect];
            return;
        }
    }
}

static void
dm_answer(struct matrix *m, const char *name, int rc, const char *room)
{
    struct mx_dm_wait **pp = &m->dm_waits;
    char *user = bot_strdup(name); /* name may be a waiter's, freed here */

    if (!user) { /* compare by hand rather than lose the waiters */
        while (*pp && strcmp((*pp)->user, name))
            pp = &(*pp)->next;
        if (*pp) {
            struct mx_dm_wait *w = *pp;

            *pp = w->next;
            if (w->cb)
                w->cb(w->arg, BOT_ENOMEM, NULL, NULL);
            bot_free(w->user);
            bot_free(w);
        }
        return;
    }
    while (*pp) {
        struct mx_dm_wait *w = *pp;

        if (strcmp(w->user, user)) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        if (w->cb)
            w->cb(w->arg, rc, rc ? NULL : room, NULL);
        bot_free(w->user);
        bot_free(w);
        pp = &m->dm_waits; /* a callback may have changed the list */
    }
    bot_free(user);
}

static void
dm_created(struct webapi_call *c, int rc, const char *body, size_t len)
{
    struct matrix *m = c->ctx;
    char *room = NULL;

    if (!c->extra)
        return; /* made no call: dm_start answers its waiters */
    if (!rc && mx_answer_string(body, len, "room_id", &room))
        rc = BOT_EPROTO;
    if (!rc && !m->destroying)
        mx_direct_add(m, c->extra, room);
    dm_answer(m, c->extra, rc, room);
    bot_free(room);
}

static void
dm_start(struct matrix *m, const char *user)
{
    const char *invite[1] = {user};
    struct webapi_call *c;

    for (struct mx_dm_wait *w = m->dm_waits; w; w = w->next)
        w->started |= !strcmp(w->user, user);
    if (m->stopped || m->destroying) {
        dm_answer(m, user, m->destroying ? BOT_ECANCELED : BOT_EIO, NULL);
        return;
    }
    c = mx_api(m, "createRoom", NULL,
               mx_create_room_body(NULL, NULL, NULL, invite, 1, 1),
               dm_created, NULL, NULL, "client/v3/createRoom");
    if (c)
        c->extra = bot_strdup(user);
    if (!c || !c->extra) /* dm_created will not find the waiters */
        dm_answer(m, user, BOT_ENOMEM, NULL);
}

static void
op_open_dm(struct chat_platform *p, const char *user, chat_room_fn *cb,
           void *arg)
{
    struct matrix *m = mx(p);
    const char *room = m->direct_ready ? dm_room_of(m, user) : NULL;
    struct mx_dm_wait *w;
    int asked = 0;

    if (room) {
        if (cb)
            cb(arg, BOT_OK, room, NULL);
        return;
    }
    if (!mx_user_valid(user)) {
        if (cb)
            cb(arg, BOT_EINVAL, NULL, NULL);
        return;
    }
    for (w = m->dm_waits; w; w = w->next)
        asked |= !strcmp(w->user, user) ? 1 + w->started : 0;
    w = bot_calloc(1, sizeof(*w));
    if (w)
        w->user = bot_strdup(user);
    if (!w || !w->user) {
        bot_free(w);
        if (cb)
            cb(arg, BOT_ENOMEM, NULL, NULL);
        return;
    }
    w->cb = cb;
    w->arg = arg;
    w->started = asked > 1; /* its user's room is being made */
    w->next = m->dm_waits;
    m->dm_waits = w;
    /* one room a user: the call out answers every waiter; until m.direct
     * is read, none (the room may be there already) */
    if (!asked && m->direct_ready)
        dm_start(m, user);
}

/* direct_now_ready - m.direct is known: the DMs waiting for it go */
static void
direct_now_ready(struct matrix *m)
{
    if (m->direct_ready)
        return;
    m->direct_ready = 1;
    for (size_t i = 0; i < m->nlater; i++)
        mx_direct_add(m, m->direct_later[i].user, m->direct_later[i].room);
    mx_direct_free(m->direct_later, m->nlater);
    m->direct_later = NULL;
    m->nlater = 0;
    /* one user at a time: answering takes that user's waiters off */
    for (;;) {
        struct mx_dm_wait *w = m->dm_waits;
        const char *room;
        char *user;

        while (w && w->started)
            w = w->next;
        if (!w)
            return;
        room = dm_room_of(m, w->user);
        if (room) {
            user = bot_strdup(w->user);
            if (!user) {
                dm_answer(m, w->user, BOT_ENOMEM, NULL);
                continue;
            }
            dm_answer(m, user, BOT_OK, room);
            bot_free(user);
            continue;
        }
        user = bot_strdup(w->user);
        if (!user) {
            dm_answer(m, w->user, BOT_ENOMEM, NULL);
            continue;
        }
        dm_start(m, user); /* marks them started */
        bot_free(user);
    }
}

static void load_direct(struct matrix *m);

static void
direct_loaded(struct webapi_call *c, int rc, const char *body, size_t len)
{
    struct matrix *m = c->ctx;

    if (rc == BOT_ECANCELED)
        return;
    if (m->stopped) { /* nothing more will be sent: the DMs neither */
        while (m->dm_waits)
            dm_answer(m, m->dm_waits->user, BOT_EIO, NULL);
        return;
    }
    if (!rc && body) {
        char *json = bot_strndup(body, len);

        if (json)
            mx_direct_set(m, json);
        bot_free(json);
    } else if (rc == BOT_EIO || rc == BOT_ETIMEDOUT || rc == BOT_ENOMEM) {
        /* not known yet: a DM made now could be a second one */
        log_warn("matrix: could not read m.direct (%s); trying again",
                 bot_strerror(rc));
        load_direct(m);
        return;
    } else if (rc != BOT_ENOTFOUND) {
        log_warn("matrix: could not read m.direct: %s", bot_strerror(rc));
    }
    if (!m->direct_json)
        mx_direct_set(m, "{}");
    direct_now_ready(m);
}

static void
load_direct(struct matrix *m)
{
    mx_api(m, "account_data", NULL, NULL, direct_loaded, NULL, NULL,
           "client/v3/user/%s/account_data/m.direct", m->self);
}

/* --- the login --- */

static void login(struct matrix *m);

/* put_state - keep key = value in platform_state (a unit of its own) */
struct state_put {
    struct matrix *m;
    const char *const *kv;
};

static int
state_work(void *arg)
{
    struct state_put *s = arg;
    int rc = BOT_OK;

    for (size_t i = 0; !rc && s->kv[i]; i += 2)
        rc = store_state_put(s->m->p->bot->core.store, "matrix", s->kv[i],
                             s->kv[i + 1], bot_now_ms(s->m->p->bot));
    return rc;
}

static int
put_state(struct matrix *m, const char *const *kv)
{
    struct state_put s = {m, kv};
    struct unit w = {0};

    w.source = "matrix";
    w.fn = state_work;
    w.arg = &s;
    w.flags = UNIT_ALONE; /* on disk before it is relied on */
    w.now = bot_now_ms(m->p->bot);
    return unit_run(m->p->bot->core.units, &w, NULL);
}

static char *
get_state(struct matrix *m, const char *key)
{
    char *v = NULL;

    if (store_state_get(m->p->bot->core.store, "matrix", key, &v))
        return NULL;
    return v;
}

/* load_nonce - this database's txnId nonce, made once */
static int
load_nonce(struct matrix *m)
{
    unsigned char r[8];
    char hex[17];
    const char *kv[] = {"txn_nonce", hex, NULL};

    m->nonce = get_state(m, "txn_nonce");
    if (m->nonce)
        return BOT_OK;
    if (RAND_bytes(r, sizeof(r)) != 1)
        return BOT_EIO;
    for (int i = 0; i < 8; i++)
        snprintf(hex + 2 * i, 3, "%02x", r[i]);
    if (put_state(m, kv))
        return BOT_EDB;
    m->nonce = bot_strdup(hex);
    return m->nonce ? BOT_OK : BOT_ENOMEM;
}

void
mx_logged_in(struct matrix *m)
{
    m->authing = 0;
    m->backoff_ms = 0;
    if (!mx_user_valid(m->self)) {
        char line[400];

        snprintf(line, sizeof(line),
                 "the homeserver says the bot is \"%.255s\", which is not "
                 "a Matrix user id", m->self);
        mx_warn_once(m, "self", line);
        m->stopped = 1;
        m->authing = 0;
        webapi_hold(m->api, 0);
        webapi_fail_all(m->api, BOT_EIO);
        return;
    }
    m->server = mx_server_of(m->self);
    m->desc.token = m->token;
    mx_filters_free(m); /* they name self */
    webapi_hold(m->api, 0);
    if (!m->direct_ready)
        load_direct(m);
    mx_sync_start(m);
}

/* can_relogin - a password to log in with, and no good login in the last
 * RELOGIN_MS (last_login_ms is 0 before the first) */
static int
can_relogin(const struct matrix *m)
{
    return m->cfg->matrix_password && m->cfg->matrix_user_id &&
           timeutil_now_ms() - m->last_login_ms >= RELOGIN_MS;
}

void
mx_token_refused(struct matrix *m)
{
    if (m->stopped || m->authing)
        return;
    if (can_relogin(m)) {
        log_warn("matrix: the access token was refused; logging in again");
        m->authing = 1;
        m->relogin = 1; /* a retry logs in, it does not ask whoami */
        webapi_hold(m->api, 1);
        login(m);
        return;
    }
    mx_warn_once(m, "token",
                 m->cfg->matrix_password
                     ? "the homeserver refused the login's token "
                       "(M_UNKNOWN_TOKEN): check MATRIX_USER_ID and "
                       "MATRIX_PASSWORD, then restart pmbot"
                     : "the homeserver refused the access token "
                       "(M_UNKNOWN_TOKEN): set MATRIX_ACCESS_TOKEN to a "
                       "valid token of the bot's account (or MATRIX_USER_ID "
                       "and MATRIX_PASSWORD), then restart pmbot");
    m->stopped = 1;
    webapi_hold(m->api, 0);
    webapi_fail_all(m->api, BOT_EIO);
}

/* direct - a login call outside the queue (which waits for it) */
static int
direct(struct matrix *m, const char *method, const char *path, char *body,
       const char *token, http_done_fn *fn)
{
    struct http_request q = {0};
    struct strbuf url;
    int rc;

    strbuf_init(&url, 0);
    strbuf_printf(&url, "%s%s", m->base, path);
    q.method = method;
    q.url = strbuf_str(&url);
    q.auth_bearer = token;
    q.content_type = body ? "application/json" : NULL;
    q.body = body;
    q.body_len = body ? strlen(body) : 0;
    q.timeout_ms = 30000;
    rc = strbuf_error(&url) ? BOT_ENOMEM
                            : http_send(webapi_http(m->api), &q, fn, m);
    strbuf_cleanup(&url);
    bot_free(body);
    m->auth_out = !rc;
    return rc;
}

/* answer_error - an answer that is not a 2xx: 1 when it is final (token or
 * password refused), having said so; 0 when it may work later */
static int
answer_final(struct matrix *m, const struct http_response *r,
             const char *what)
{
    char *e = NULL;
    long retry = -1;

    if (r->status == 0 || r->status >= 500 || r->status == 429) {
        if (r->status == 429) {
            mx_error_parse(r->body, r->len, NULL, &retry);
            mx_backoff(m, retry > 0 ? retry
                                    : r->retry_after > 0
                                          ? r->retry_after * 1000
                                          : 0);
        } else {
            log_warn("matrix: %s: %s; trying again", what,
                     r->status ? "the homeserver failed"
                               : "the homeserver cannot be reached");
            mx_backoff(m, 0);
        }
        return 0;
    }
    mx_error_parse(r->body, r->len, &e, &retry);
    if (!strcmp(what, "login")) {
        mx_warn_once(m, "login",
                     "the homeserver refused the login (check "
                     "MATRIX_USER_ID and MATRIX_PASSWORD), then restart "
                     "pmbot");
    } else if (e && token_error(e) && can_relogin(m)) {
        bot_free(e);
        m->relogin = 1;
        login(m); /* a stored token that expired: log in again */
        return 2;
    } else {
        char line[256];

        snprintf(line, sizeof(line),
                 "the homeserver refused the access token (%s): set "
                 "MATRIX_ACCESS_TOKEN to a valid token of the bot's "
                 "account (or MATRIX_USER_ID and MATRIX_PASSWORD), then "
                 "restart pmbot",
                 e ? e : "no errcode");
        mx_warn_once(m, "token", line);
    }
    bot_free(e);
    m->stopped = 1;
    m->authing = 0;
    webapi_hold(m->api, 0);
    webapi_fail_all(m->api, BOT_EIO);
    return 1;
}

static void
on_login(void *arg, const struct http_response *r)
{
    struct matrix *m = arg;
    char *token = NULL, *user = NULL, *device = NULL;

    m->auth_out = 0;
    if (r->status == 0 && r->error && !strcmp(r->error, "canceled"))
        return;
    if (r->status < 200 || r->status >= 300) {
        answer_final(m, r, "login");
        return;
    }
    if (mx_answer_string(r->body, r->len, "access_token", &token) ||
        mx_answer_string(r->body, r->len, "user_id", &user)) {
        log_warn("matrix: login: an answer without a token; trying again");
        bot_free(token);
        bot_free(user);
        mx_backoff(m, 0);
        return;
    }
    mx_answer_string(r->body, r->len, "device_id", &device);
    {
        const char *kv[] = {"access_token", token, "user_id", user,
                            "device_id", device ? device : "", NULL};

        /* kept before it is used: a crash now must not log in again */
        if (put_state(m, kv)) {
            log_err("matrix: cannot keep the login in the database");
            bot_free(token);
            bot_free(user);
            bot_free(device);
            mx_backoff(m, 0);
            return;
        }
    }
    m->relogin = 0;
    m->last_login_ms = timeutil_now_ms();
    bot_free(m->token);
    bot_free(m->self);
    bot_free(m->device);
    m->token = token;
    m->self = user;
    m->device = device;
    log_info("matrix: logged in as %s (device %s)", m->self,
             m->device ? m->device : "?");
    mx_logged_in(m);
}

static void
login(struct matrix *m)
{
    if (m->auth_out)
        return;
    char *body = mx_login_body(m->cfg->matrix_user_id,
                               m->cfg->matrix_password,
                               m->device ? m->device
                                         : m->cfg->matrix_device_id);

    m->authing = 1;
    if (!body || direct(m, "POST", "client/v3/login", body, NULL, on_login))
        mx_backoff(m, 0);
}

static void
on_whoami(void *arg, const struct http_response *r)
{
    struct matrix *m = arg;
    char *user = NULL, *device = NULL;

    m->auth_out = 0;
    if (r->status == 0 && r->error && !strcmp(r->error, "canceled"))
        return;
    if (r->status < 200 || r->status >= 300) {
        answer_final(m, r, "whoami");
        return;
    }
    if (mx_answer_string(r->body, r->len, "user_id", &user)) {
        log_warn("matrix: whoami: an answer without user_id; trying again");
        mx_backoff(m, 0);
        return;
    }
    mx_answer_string(r->body, r->len, "device_id", &device);
    if (m->cfg->matrix_user_id && strcmp(m->cfg->matrix_user_id, user)) {
        char line[600];

        snprintf(line, sizeof(line),
                 "MATRIX_ACCESS_TOKEN belongs to %s, not MATRIX_USER_ID %s: "
                 "set one of them right, then restart pmbot",
                 user, m->cfg->matrix_user_id);
        mx_warn_once(m, "whoami", line);
        bot_free(user);
        bot_free(device);
        m->stopped = 1;
        m->authing = 0;
        webapi_hold(m->api, 0);
        webapi_fail_all(m->api, BOT_EIO);
        return;
    }
    bot_free(m->self);
    bot_free(m->device);
    m->self = user;
    m->device = device;
    mx_logged_in(m);
}

/* mx_login_start - who the bot is: whoami with a token (given, or kept
 * from a password login), else log in */
static void
login_start(struct matrix *m)
{
    m->authing = 1;
    if (!m->token && m->cfg->matrix_access_token) {
        m->token = bot_strdup(m->cfg->matrix_access_token);
    } else if (!m->token) {
        char *user = get_state(m, "user_id");

        /* a token kept for another account is not this one's */
        if (user && m->cfg->matrix_user_id &&
            !strcmp(user, m->cfg->matrix_user_id)) {
            m->token = get_state(m, "access_token");
            m->device = get_state(m, "device_id");
            if (m->device && !*m->device) {
                bot_free(m->device);
                m->device = NULL;
            }
        }
        bot_free(user);
    }
    if (!m->token) {
        login(m);
        return;
    }
    if (direct(m, "GET", "client/v3/account/whoami", NULL, m->token,
               on_whoami))
        mx_backoff(m, 0);
}

void
mx_auth_retry(struct matrix *m)
{
    if (m->auth_out) /* one login or whoami at a time */
        return;
    if (m->relogin)
        login(m);
    else
        login_start(m);
}

/* --- start and destroy --- */

void
matrix_start(struct chat_platform *p)
{
    struct matrix *m = mx(p);

    bot_set_group_commit(p->bot, 1);
    m->started_ms = timeutil_now_ms();
    /* before any send is queued: the outbox resends what a crash left
     * as soon as the bot starts, and its txnIds must be those of before */
    if (load_nonce(m)) {
        log_err("matrix: cannot keep the send nonce in the database; "
                "nothing is sent");
        m->stopped = 1;
        webapi_hold(m->api, 0);
        webapi_fail_all(m->api, BOT_EIO);
        return;
    }
    login_start(m);
}

static void
op_destroy(struct chat_platform *p)
{
    struct matrix *m = mx(p);

    m->destroying = 1;
    mx_sync_cancel(m);
    webapi_free(m->api); /* every call gets BOT_ECANCELED, the sync too */
    m->api = NULL;
    while (m->dm_waits)
        dm_answer(m, m->dm_waits->user, BOT_ECANCELED, NULL);
    loop_timer_free(m->timer);
    loop_timer_free(m->cursor);
    mx_done_forget(m);
    mx_filters_free(m);
    mx_direct_free(m->direct, m->ndirect);
    mx_direct_free(m->direct_later, m->nlater);
    bot_free(m->direct_json);
    bot_free(m->base);
    bot_free(m->token);
    bot_free(m->self);
    bot_free(m->device);
    bot_free(m->nonce);
    bot_free(m->since);
    bot_free(m);
    bot_free(p);
}

static const struct chat_platform_ops matrix_ops = {
    .name = "matrix",
    .cmd_prefix = '!',
    .caps = CHAT_CAN_THREAD | CHAT_CAN_PRIVATE,
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
    .parse_user = op_parse_user,
    .connected = op_connected,
    .destroy = op_destroy,
};

int
matrix_new(struct loop *loop, const struct config *cfg,
           struct chat_platform **out)
{
    struct chat_platform *p;
    struct matrix *m;
    struct strbuf base;
    size_t n;

    if (!cfg->matrix_homeserver || !*cfg->matrix_homeserver)
        return BOT_EINVAL;
    p = bot_calloc(1, sizeof(*p));
    m = bot_calloc(1, sizeof(*m));
    if (!p || !m)
        goto fail;
    m->p = p;
    m->cfg = cfg;
    p->ops = &matrix_ops;
    p->priv = m;
    n = strlen(cfg->matrix_homeserver);
    while (n && cfg->matrix_homeserver[n - 1] == '/')
        n--;
    strbuf_init(&base, 0);
    strbuf_append(&base, cfg->matrix_homeserver, n);
    strbuf_puts(&base, "/_matrix/");
    if (strbuf_error(&base)) {
        strbuf_cleanup(&base);
        goto fail;
    }
    m->base = strbuf_steal(&base);
    m->desc = (struct webapi_desc){.name = "matrix",
                                   .base_url = m->base,
                                   .token = NULL,
                                   .serial = serial,
                                   .judge = judge,
                                   .count = count_call,
                                   .retry_ms = retry_ms,
                                   .pace = 1,
                                   .arg = m};
    if (webapi_new(loop, &m->desc, &m->api) ||
        loop_timer_new(loop, mx_sync_timer, m, &m->timer) ||
        loop_timer_new(loop, mx_cursor_timer, m, &m->cursor))
        goto fail;
    webapi_hold(m->api, 1); /* until the bot knows who it is */
    *out = p;
    return BOT_OK;

fail:
    if (m) {
        webapi_free(m->api);
        loop_timer_free(m->timer);
        loop_timer_free(m->cursor);
        bot_free(m->base);
        bot_free(m);
    }
    bot_free(p);
    return BOT_ENOMEM;
}
