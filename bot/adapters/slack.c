/*
 * slack.c - the Slack transport: Socket Mode over libwebsockets, the Web API
 * over libcurl, both on the bot's loop.
 *
 * Web API calls wait in one queue ordered by when they may go: a 429 closes
 * the gate of its method until Retry-After has passed (later calls of that
 * method wait behind it, so posts keep their order), a transient failure
 * retries the call with backoff, and a final answer (bad token, missing
 * scope) fails it with one log line naming the fix.
 */
#include "slack.h"

#include "bot.h"
#include "chat.h"
#include "command.h"
#include "config.h"
#include "err.h"
#include "http.h"
#include "incident.h"
#include "log.h"
#include "loop.h"
#include "mem.h"
#include "slack_json.h"
#include "store.h"
#include "strbuf.h"
#include "timeutil.h"
#include "ws.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ATTEMPTS   5
#define MAX_INFLIGHT   16 /* Web API calls out at once; the rest queue */
#define ENVS_HIGH      512 /* envelopes in progress: stop reading... */
#define ENVS_LOW       128 /* ...until they are down to this */
#define MAX_GATES      32
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000

struct slack;
struct call;

typedef void call_fn(struct call *c, int rc, const char *body, size_t len);

/* A Web API call, from queueing to its answer. */
struct call {
    struct call *next;
    struct slack *s;
    char method[48];
    char *url_extra; /* query string of a GET; nullable */
    char *body;      /* POST body; nullable */
    size_t len;
    const char *ctype;
    int app_token; /* apps.connections.open uses the app-level token */
    int raw_url;   /* method is a full URL (file upload), no token */
    int attempt;
    int64_t not_before;
    call_fn *fn;
    /* what the caller of the platform op wants back */
    void *cb;
    void *arg;
    char *extra; /* per-op state: a channel, a title... */
    char *extra2;
};

/*
 * Messages pmbot must fetch wait per channel, and one conversations.history
 * call asks for all of them at once (oldest..latest of the batch): a burst
 * of 📌 on unseen messages costs a call per hundred, not one each, which
 * matters under the history rate limits of non-Marketplace apps.
 */
#define FETCH_BATCH 100 /* messages asked for in one call */
#define FETCH_PAGE  "200" /* the page the call reads them from */

struct fetch {
    struct fetch *next;
    char *ts;
    chat_fetched_fn *cb;
    void *arg;
};

struct fetch_room {
    struct fetch_room *next;
    char *channel;
    struct fetch *wait, **wait_tail;
    struct fetch *below; /* missed below a full page: asked next, alone */
    int busy;            /* its history call is out */
    int delivering;      /* in fetched_batch's callbacks: keep the room */
};

struct gate {
    char method[48];
    int64_t until;  /* Retry-After: nothing of this method before */
    int inflight;
};

/* serial - methods sent one at a time: posts keep their order, and a 429
 * stops the next one before it leaves */
static int
serial(const char *method)
{
    return !strcmp(method, "chat.postMessage") ||
           !strcmp(method, "conversations.create");
}

struct sock {
    struct sock *next;
    struct slack *s;
    struct ws_conn *ws;
    int ready;    /* hello received */
    int retiring; /* Slack asked us to move to a new socket */
};

/* An envelope between arrival and ack. */
struct env {
    struct env *next, *prev;
    struct slack *s;
    struct sock *sock; /* NULLed if the socket closes first */
    struct slack_envelope e;
    struct strbuf text;
    char *reply; /* slash command reply payload (JSON) */
    int acked;
};

struct slack {
    struct chat_platform *p;
    struct loop *loop;
    const struct config *cfg;
    struct http *http;
    struct ws_ctx *ws; /* borrowed: shared with the webhook listener */
    char *self_user, *self_bot;
    struct sock *socks;
    int connecting; /* apps.connections.open or a handshake under way */
    int stopped;    /* link_disabled or bad token: no more reconnects */
    int authing;    /* auth.test has not answered yet */
    unsigned backoff_ms;
    struct loop_timer *reconnect;
    struct call *queue; /* waiting to be sent, by not_before */
    struct call *queue_tail;
    int inflight;       /* calls out now */
    struct loop_timer *queue_timer;
    struct gate gates[MAX_GATES];
    struct env *envs; /* not yet acked */
    size_t nenvs;
    int paused;       /* reading stopped: too many envelopes in progress */
    char warned[8][64]; /* final errors already logged */
    unsigned nwarned;
    struct fetch_room *rooms; /* channels with messages to fetch */
    int destroying;           /* op_destroy: no new calls */
    char **users;             /* ids whose name is known or asked for */
    size_t nusers, capusers;
};

static void queue_run(void *arg);
static void connect_socket(struct slack *s);
static void sock_unlink(struct slack *s, struct sock *k);
static void schedule_reconnect(struct slack *s);

static struct slack *
sl(struct chat_platform *p)
{
    return p->priv;
}

static int64_t
now_ms(void)
{
    return timeutil_now_ms();
}

/* --- the Web API queue --- */

static struct gate *
gate_of(struct slack *s, const char *method)
{
    struct gate *free_g = NULL;

    for (int i = 0; i < MAX_GATES; i++) {
        if (!strcmp(s->gates[i].method, method))
            return &s->gates[i];
        if (!free_g && !s->gates[i].method[0])
            free_g = &s->gates[i];
    }
    if (free_g)
        snprintf(free_g->method, sizeof(free_g->method), "%s", method);
    return free_g;
}

static void
call_free(struct call *c)
{
    bot_free(c->url_extra);
    bot_free(c->body);
    bot_free(c->extra);
    bot_free(c->extra2);
    bot_free(c);
}

static void
fetch_free(struct fetch *f)
{
    bot_free(f->ts);
    bot_free(f);
}

/*
 * queue_at - insert c by not_before. A new call goes behind those due at
 * the same time (O(1) at the tail, the common case); a retried call goes
 * ahead of them (ahead = 1), so a retried post keeps its place.
 */
static void
queue_at(struct slack *s, struct call *c, int ahead)
{
    struct call **pp = &s->queue;

    if (!ahead && s->queue_tail &&
        s->queue_tail->not_before <= c->not_before)
        pp = &s->queue_tail->next;
    while (*pp && ((*pp)->not_before < c->not_before ||
                   (!ahead && (*pp)->not_before == c->not_before)))
        pp = &(*pp)->next;
    c->next = *pp;
    *pp = c;
    if (!c->next)
        s->queue_tail = c;
    loop_timer_start(s->queue_timer, 0, 0);
}

static void
queue_insert(struct slack *s, struct call *c)
{
    queue_at(s, c, 0);
}

static void
queue_retry(struct slack *s, struct call *c)
{
    queue_at(s, c, 1);
}

static int
final_error(const char *e)
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
           !strcmp(e, "request_timeout") || !strcmp(e, "ratelimited");
}

/* warn_once - one clear line per kind of final failure, naming the fix */
static void
warn_once(struct slack *s, const char *method, const char *error)
{
    char key[64];
    const char *fix = "see the Slack app's configuration";

    snprintf(key, sizeof(key), "%s/%s", method, error);
    for (unsigned i = 0; i < s->nwarned && i < 8; i++) {
        if (!strcmp(s->warned[i], key))
            return;
    }
    if (s->nwarned < 8)
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
count_call(struct slack *s, const char *method, const char *outcome)
{
    char labels[96];

    snprintf(labels, sizeof(labels), "method=\"%s\",outcome=\"%s\"",
             method, outcome);
    metrics_add(&s->p->bot->metrics, "pmbot_slack_api_calls_total", labels,
                1);
}

static void
on_http(void *arg, const struct http_response *r)
{
    struct call *c = arg;
    struct slack *s = c->s;
    struct gate *gt = c->raw_url ? NULL : gate_of(s, c->method);
    char *error = NULL;
    int ok = 0, rc;

    if (gt && gt->inflight > 0)
        gt->inflight--;
    s->inflight--;
    if (s->queue)
        loop_timer_start(s->queue_timer, 0, 0);

    if (r->status == 0 && r->error && !strcmp(r->error, "canceled")) {
        c->fn(c, BOT_ECANCELED, NULL, 0);
        call_free(c);
        return;
    }
    if (!c->raw_url)
        count_call(s, c->method,
                   r->status == 429  ? "ratelimited"
                   : r->status == 0  ? "transport_error"
                   : r->status < 300 ? "answered"
                                     : "http_error");
    if (r->status == 429) {
        struct gate *g = gate_of(s, c->method);
        long secs = r->retry_after > 0 ? r->retry_after : 30;

        if (g)
            g->until = now_ms() + secs * 1000;
        log_warn("slack: %s rate limited, retrying in %ld s", c->method,
                 secs);
        /* the gate holds every call of the method; keeping not_before
         * keeps this one ahead of those queued after it */
        if (!g)
            c->not_before = now_ms() + secs * 1000;
        queue_retry(s, c);
        return;
    }
    if (c->raw_url) {
        rc = r->status >= 200 && r->status < 300 ? BOT_OK : BOT_EIO;
        if (rc && ++c->attempt < MAX_ATTEMPTS) {
            c->not_before = now_ms() + (1000 << c->attempt);
            queue_insert(s, c);
            return;
        }
        c->fn(c, rc, r->body, r->len);
        call_free(c);
        return;
    }
    rc = r->status == 200 ? slack_status(r->body, r->len, &ok, &error)
                          : BOT_EIO;
    if (!rc && ok) {
        bot_free(error);
        c->fn(c, BOT_OK, r->body, r->len);
        call_free(c);
        return;
    }
    if ((rc || (error && transient_error(error)) || r->status >= 500) &&
        ++c->attempt < MAX_ATTEMPTS) {
        log_warn("slack: %s: %s; retrying", c->method,
                 error ? error : (r->error ? r->error : "bad answer"));
        if (serial(c->method) && gt) {
            gt->until = now_ms() + (500 << c->attempt); /* keep order */
            queue_retry(s, c);
        } else {
            c->not_before = now_ms() + (500 << c->attempt);
            queue_insert(s, c);
        }
        bot_free(error);
        return;
    }
    if (error && final_error(error))
        warn_once(s, c->method, error);
    else if (error && strcmp(error, "name_taken") &&
             strcmp(error, "already_in_channel") &&
             strcmp(error, "already_pinned"))
        log_warn("slack: %s failed: %s", c->method, error);
    c->fn(c, error && !strcmp(error, "name_taken") ? BOT_EEXIST : BOT_EIO,
          r->body, r->len);
    bot_free(error);
    call_free(c);
}

static void
send_call(struct slack *s, struct call *c)
{
    struct http_request q = {0};
    struct strbuf url;

    strbuf_init(&url, 0);
    if (c->raw_url)
        strbuf_puts(&url, c->url_extra);
    else
        strbuf_printf(&url, "%s%s%s%s", s->cfg->slack_api_url, c->method,
                      c->url_extra ? "?" : "",
                      c->url_extra ? c->url_extra : "");
    q.method = c->body ? "POST" : "GET";
    q.url = strbuf_str(&url);
    if (!c->raw_url)
        q.auth_bearer = c->app_token ? s->cfg->slack_app_token
                                     : s->cfg->slack_bot_token;
    q.content_type = c->ctype;
    q.body = c->body;
    q.body_len = c->len;
    if (strbuf_error(&url) || http_send(s->http, &q, on_http, c)) {
        struct gate *g = c->raw_url ? NULL : gate_of(s, c->method);

        if (g && g->inflight > 0)
            g->inflight--;
        s->inflight--;
        c->fn(c, BOT_ENOMEM, NULL, 0);
        call_free(c);
    }
    strbuf_cleanup(&url);
}

static void
queue_run(void *arg)
{
    struct slack *s = arg;
    struct call **pp = &s->queue, *c;
    int64_t now = now_ms(), next = 0;

    while ((c = *pp) && s->inflight < MAX_INFLIGHT) {
        struct gate *g = c->raw_url ? NULL : gate_of(s, c->method);
        int64_t at = c->not_before;

        if (g && g->until > at)
            at = g->until;
        if (at <= now && g && serial(c->method) && g->inflight) {
            pp = &c->next; /* its turn comes when the one out returns */
            continue;
        }
        if (at > now) {
            if (!next || at < next)
                next = at;
            pp = &c->next;
            continue;
        }
        *pp = c->next;
        if (s->queue_tail == c) /* the one before it is the new tail */
            s->queue_tail = pp == &s->queue
                                ? NULL
                                : (struct call *)((char *)pp -
                                                  offsetof(struct call, next));
        c->next = NULL;
        if (g)
            g->inflight++;
        s->inflight++;
        send_call(s, c);
    }
    if (next)
        loop_timer_start(s->queue_timer, (uint64_t)(next - now), 0);
}

/* api - queue a Web API call; fn always runs (BOT_ENOMEM when the call
 * could not even be made). The body is JSON unless form is set. */
static int
api(struct slack *s, const char *method, char *body, int form, call_fn *fn,
    void *cb, void *arg, struct call **out)
{
    struct call *c = bot_calloc(1, sizeof(*c));

    if (!c) {
        bot_free(body);
        fn(&(struct call){.s = s, .cb = cb, .arg = arg}, BOT_ENOMEM, NULL, 0);
        return BOT_ENOMEM;
    }
    c->s = s;
    snprintf(c->method, sizeof(c->method), "%s", method);
    c->body = body;
    c->len = body ? strlen(body) : 0;
    c->ctype = form ? "application/x-www-form-urlencoded"
                    : "application/json; charset=utf-8";
    c->fn = fn;
    c->cb = cb;
    c->arg = arg;
    if (out)
        *out = c;
    queue_insert(s, c);
    return BOT_OK;
}

/* api_get - a read method, arguments in the query string (they take no
 * JSON body); pairs are NULL-terminated name, value. */
static struct call *
api_get(struct slack *s, const char *method, const char *const *pairs,
        call_fn *fn, void *cb, void *arg, char *extra)
{
    struct strbuf q;
    struct call *c = NULL;

    strbuf_init(&q, 0);
    for (size_t i = 0; pairs[i] && pairs[i + 1]; i += 2) {
        char *v = http_url_escape(pairs[i + 1]);

        strbuf_printf(&q, "%s%s=%s", i ? "&" : "", pairs[i], v ? v : "");
        bot_free(v);
    }
    api(s, method, NULL, 0, fn, cb, arg, &c);
    if (c) {
        c->url_extra = strbuf_steal(&q);
        c->extra = extra;
    } else {
        bot_free(extra);
    }
    strbuf_cleanup(&q);
    return c;
}

/* --- users' names, for showing mentions by name --- */

/* put_user - keep a name (its own transaction, in the group if one is
 * open): a document shows mentions by the latest name */
static int
put_user(struct slack *s, const char *id, const char *name)
{
    return bot_put_user(s->p->bot, s->p, id, name);
}

/* put_clean_user - a name from Slack is user text like any other */
static int
put_clean_user(struct slack *s, const char *id, const char *name)
{
    struct strbuf sb;
    int rc;

    strbuf_init(&sb, 0);
    rc = chat_text_clean(&sb, name, strlen(name), 0);
    if (!rc)
        rc = put_user(s, id, strbuf_str(&sb));
    strbuf_cleanup(&sb);
    return rc;
}

static void
user_info_done(struct call *c, int rc, const char *body, size_t len)
{
    char *id = NULL, *name = NULL;

    if (!rc)
        rc = slack_user_of(body, len, 0, &id, &name);
    if (!rc)
        rc = put_clean_user(c->s, id, name);
    if (rc && rc != BOT_ECANCELED)
        log_warn("slack: users.info %s: %s", c->extra ? c->extra : "?",
                 bot_strerror(rc));
    bot_free(id);
    bot_free(name);
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
 * learn_users - every person mentioned in text whose name pmbot does not
 * have yet is asked for (users.info, once a run); the answer goes to the
 * store, where documents find it. Mentions are rare, so this costs nothing
 * on the ordinary event.
 */
static void
learn_users(struct slack *s, const char *text)
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
        rc = store_user_name(b->store, s->p->ops->name, id, &name);
        bot_free(name);
        if (rc == BOT_ENOTFOUND) {
            const char *const pairs[] = {"user", id, NULL};

            api_get(s, "users.info", pairs, user_info_done, NULL, NULL,
                    bot_strdup(id));
        }
    }
}

/* --- platform operations --- */

static void
room_done(struct call *c, int rc, const char *body, size_t len)
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

    api(sl(p), "conversations.create", slack_json_body(pairs), 0, room_done,
        cb, arg, NULL);
}

static void
done_done(struct call *c, int rc, const char *body, size_t len)
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
    api(sl(p), "conversations.invite", slack_json_body(pairs), 0, done_done,
        cb, arg, NULL);
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
    api(sl(p), "conversations.setTopic", slack_json_body(pairs), 0, done_done,
        cb, arg, NULL);
    strbuf_cleanup(&t);
}

static void
posted_done(struct call *c, int rc, const char *body, size_t len)
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

static void
op_post(struct chat_platform *p, const struct chat_target *to,
        const struct chat_msg *msg, chat_posted_fn *cb, void *arg)
{
    api(sl(p), "chat.postMessage", slack_post_body(to->room, msg, NULL), 0,
        posted_done, cb, arg, NULL);
}

static void
deliver_found(struct slack *s, const char *room,
              const struct slack_message *m, chat_fetched_fn *cb, void *arg)
{
    struct chat_message cm = {0};
    struct strbuf text;

    strbuf_init(&text, 0);
    if (slack_decode(&text, m->text ? m->text : "")) {
        strbuf_cleanup(&text);
        cb(arg, BOT_ENOMEM, NULL);
        return;
    }
    learn_users(s, strbuf_str(&text));
    cm.room = room;
    cm.id = m->ts;
    cm.user = m->user;
    cm.text = strbuf_str(&text);
    cm.thread_id = m->thread_ts;
    cm.at = slack_ts_ms(m->ts);
    cb(arg, BOT_OK, &cm);
    strbuf_cleanup(&text);
}

static void
fetched_one(struct call *c, int rc, const char *body, size_t len)
{
    chat_fetched_fn *cb = c->cb;
    struct slack_message m;

    if (!rc && (!c->extra || !c->extra2))
        rc = BOT_ENOMEM;
    if (!rc)
        rc = slack_find_message(body, len, c->extra2, &m);
    if (rc) {
        cb(c->arg, rc == BOT_EIO ? BOT_ENOTFOUND : rc, NULL);
        return;
    }
    deliver_found(c->s, c->extra, &m, cb, c->arg);
    slack_message_clear(&m);
}

/* fetch_replies - a message a history page should have held but did not:
 * a thread reply (history lists top-level messages only), or gone */
static void
fetch_replies(struct slack *s, const char *room, const char *ts,
              chat_fetched_fn *cb, void *arg)
{
    const char *pairs[] = {"channel", room, "ts", ts, NULL};
    struct call *c;

    c = api_get(s, "conversations.replies", pairs, fetched_one, cb, arg,
                bot_strdup(room));
    if (c)
        c->extra2 = bot_strdup(ts);
}

static void fetched_history(struct call *c, int rc, const char *body,
                            size_t len);

/* fetch_one - one message by itself: the history page ending at its ts,
 * then its thread if history holds an older message instead */
static void
fetch_one(struct slack *s, const char *room, const char *ts,
          chat_fetched_fn *cb, void *arg)
{
    const char *pairs[] = {"channel", room,   "latest", ts, "inclusive",
                           "true",    "limit", "1",     NULL};
    struct call *c;

    c = api_get(s, "conversations.history", pairs, fetched_history, cb, arg,
                bot_strdup(room));
    if (c)
        c->extra2 = bot_strdup(ts);
}

static void
fetched_history(struct call *c, int rc, const char *body, size_t len)
{
    chat_fetched_fn *cb = c->cb;
    struct slack_message m;

    if (!rc && (!c->extra || !c->extra2))
        rc = BOT_ENOMEM;
    if (!rc)
        rc = slack_find_message(body, len, c->extra2, &m);
    if (!rc) {
        deliver_found(c->s, c->extra, &m, cb, c->arg);
        slack_message_clear(&m);
    } else if (rc == BOT_ENOTFOUND) {
        fetch_replies(c->s, c->extra, c->extra2, cb, c->arg);
    } else {
        cb(c->arg, rc, NULL);
    }
}

/* ts_cmp - the order of two Slack ts ("1360782400.498405") */
static int
ts_cmp(const char *a, const char *b)
{
    size_t na = strcspn(a, "."), nb = strcspn(b, ".");

    if (na != nb)
        return na < nb ? -1 : 1;
    return strcmp(a, b);
}

static void fetch_next(struct slack *s, struct fetch_room *r);

/* per_ts_error - an error that belongs to one ts of the batch, not to the
 * channel or the app: the batch is then asked for one by one, so that one
 * bad ts cannot fail its neighbours (any other error would only repeat) */
static int
per_ts_error(const char *body, size_t len)
{
    char *error = NULL;
    int ok, hit;

    if (!body || slack_status(body, len, &ok, &error))
        return 0;
    hit = error && !strncmp(error, "invalid_ts", 10);
    bot_free(error);
    return hit;
}

/*
 * fetched_batch - the page of a batched call (c->cb is the room, c->arg
 * the batch). History lists the newest messages of oldest..latest, so the
 * page covers everything from its last message up: a ts in that span but
 * absent is a thread reply or gone; a ts below it (the page was full)
 * goes into the room's next batch, which holds only such ts, so newer
 * arrivals cannot keep pushing it down.
 */
static void
fetched_batch(struct call *c, int rc, const char *body, size_t len)
{
    struct slack *s = c->s;
    struct fetch_room *r = c->cb;
    struct fetch *f, *next, **below_tail = &r->below;
    const char *ts[FETCH_BATCH];
    struct slack_message found[FETCH_BATCH];
    char oldest[32] = "";
    int has_more = 0, alone = 0;
    size_t n = 0, i;

    for (f = c->arg; f && n < FETCH_BATCH; f = f->next)
        ts[n++] = f->ts;
    if (!rc)
        rc = slack_find_messages(body, len, ts, n, found, &has_more, oldest,
                                 sizeof(oldest));
    else if (n > 1 && rc == BOT_EIO)
        alone = per_ts_error(body, len);
    while (*below_tail)
        below_tail = &(*below_tail)->next;
    r->busy = 0;
    r->delivering = 1;
    for (f = c->arg, i = 0; f; f = next, i++) {
        next = f->next;
        if (alone) {
            fetch_one(s, r->channel, f->ts, f->cb, f->arg);
        } else if (rc) {
            f->cb(f->arg, rc, NULL);
        } else if (found[i].ts) {
            deliver_found(s, r->channel, &found[i], f->cb, f->arg);
            slack_message_clear(&found[i]);
        } else if (!has_more || !oldest[0] || ts_cmp(f->ts, oldest) >= 0) {
            fetch_replies(s, r->channel, f->ts, f->cb, f->arg);
        } else {
            f->next = NULL;
            *below_tail = f;
            below_tail = &f->next;
            continue;
        }
        fetch_free(f);
    }
    r->delivering = 0;
    if (!s->destroying)
        fetch_next(s, r);
}

static void
room_free(struct slack *s, struct fetch_room *r)
{
    struct fetch_room **pp = &s->rooms;

    while (*pp && *pp != r)
        pp = &(*pp)->next;
    if (*pp)
        *pp = r->next;
    bot_free(r->channel);
    bot_free(r);
}

/* fetch_next - the room's next batch, unless one is out: those missed
 * below a full page first, else those waiting; an idle room is freed */
static void
fetch_next(struct slack *s, struct fetch_room *r)
{
    struct fetch *f, *batch = NULL, **tail = &batch, **from;
    const char *lo, *hi;
    size_t n = 0;

    if (r->busy || r->delivering)
        return;
    from = r->below ? &r->below : &r->wait;
    if (!*from) {
        room_free(s, r);
        return;
    }
    lo = hi = (*from)->ts;
    while ((f = *from) && n < FETCH_BATCH) {
        *from = f->next;
        f->next = NULL;
        *tail = f;
        tail = &f->next;
        n++;
        if (ts_cmp(f->ts, lo) < 0)
            lo = f->ts;
        if (ts_cmp(f->ts, hi) > 0)
            hi = f->ts;
    }
    if (!r->wait)
        r->wait_tail = &r->wait;
    r->busy = 1;
    if (n == 1) {
        /* the doc-blessed single fetch: the page ending at the ts */
        const char *pairs[] = {"channel", r->channel, "latest",
                               hi,        "inclusive", "true",
                               "limit",   "1",         NULL};

        api_get(s, "conversations.history", pairs, fetched_batch, r, batch,
                NULL);
    } else {
        const char *pairs[] = {"channel", r->channel, "oldest",    lo,
                               "latest",  hi,         "inclusive", "true",
                               "limit",   FETCH_PAGE, NULL};

        api_get(s, "conversations.history", pairs, fetched_batch, r, batch,
                NULL);
    }
}

static void
op_fetch_message(struct chat_platform *p, const char *room,
                 const char *msg_id, chat_fetched_fn *cb, void *arg)
{
    struct slack *s = sl(p);
    struct fetch_room *r;
    struct fetch *f = bot_calloc(1, sizeof(*f));

    if (!f || !(f->ts = bot_strdup(msg_id))) {
        bot_free(f);
        cb(arg, BOT_ENOMEM, NULL);
        return;
    }
    f->cb = cb;
    f->arg = arg;
    for (r = s->rooms; r && strcmp(r->channel, room); r = r->next)
        ;
    if (!r) {
        r = bot_calloc(1, sizeof(*r));
        if (!r || !(r->channel = bot_strdup(room))) {
            bot_free(r);
            fetch_free(f);
            cb(arg, BOT_ENOMEM, NULL);
            return;
        }
        r->wait_tail = &r->wait;
        r->next = s->rooms;
        s->rooms = r;
    }
    *r->wait_tail = f;
    r->wait_tail = &f->next;
    fetch_next(s, r);
}

static void
op_pin(struct chat_platform *p, const char *room, const char *msg_id,
       chat_done_fn *cb, void *arg)
{
    const char *const pairs[] = {"channel", room, "timestamp", msg_id, NULL};

    api(sl(p), "pins.add", slack_json_body(pairs), 0, done_done, cb, arg,
        NULL);
}

static void
upload_completed(struct call *c, int rc, const char *body, size_t len)
{
    done_done(c, rc, body, len);
}

static void
upload_sent(struct call *c, int rc, const char *body, size_t len)
{
    (void)body;
    (void)len;
    if (rc) {
        done_done(c, rc, NULL, 0);
        return;
    }
    /* extra: "file_id\ntitle", extra2: channel */
    char *nl = strchr(c->extra, '\n');

    *nl = '\0';
    api(c->s, "files.completeUploadExternal",
        slack_upload_complete_body(c->extra, nl + 1, c->extra2), 0,
        upload_completed, c->cb, c->arg, NULL);
}

static void
upload_url(struct call *c, int rc, const char *body, size_t len)
{
    static const char *const paths[] = {"upload_url", "file_id"};
    char *v[2] = {NULL, NULL}, *err = NULL;
    struct call *up = NULL;
    struct strbuf meta;
    int ok;

    if (!rc)
        slack_result(body, len, &ok, &err, paths, v, 2);
    bot_free(err);
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
    api(c->s, "file upload", bot_strdup(nl + 1), 1, upload_sent, c->cb,
        c->arg, &up);
    if (up) {
        up->raw_url = 1;
        up->ctype = "application/octet-stream";
        up->extra = strbuf_steal(&meta);
        up->extra2 = bot_strdup(c->extra);
        /* the URL is longer than method[]: keep it in url_extra */
        up->url_extra = v[0];
        v[0] = NULL;
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
    const char *room = to->room;
    struct slack *s = sl(p);
    struct strbuf form, carry;
    char *fn = http_url_escape(filename), num[32];
    struct call *c = NULL;

    snprintf(num, sizeof(num), "%zu", len);
    strbuf_init(&form, 0);
    strbuf_printf(&form, "filename=%s&length=%s", fn ? fn : "file", num);
    bot_free(fn);
    strbuf_init(&carry, 0);
    strbuf_printf(&carry, "%s\n", title);
    strbuf_append(&carry, content, len);
    api(s, "files.getUploadURLExternal", strbuf_steal(&form), 1, upload_url,
        cb, arg, &c);
    if (c) {
        c->extra = bot_strdup(room);
        c->extra2 = strbuf_steal(&carry);
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

/* --- envelopes --- */

/* flow - pause or resume reading every socket as envelopes pile up */
static void
flow(struct slack *s)
{
    int pause = s->paused ? s->nenvs > ENVS_LOW : s->nenvs >= ENVS_HIGH;

    if (pause == s->paused)
        return;
    s->paused = pause;
    if (pause)
        metrics_add(&s->p->bot->metrics, "pmbot_slack_read_pauses_total",
                    "", 1);
    for (struct sock *k = s->socks; k; k = k->next) {
        if (k->ws)
            ws_pause(k->ws, pause);
    }
}

static void
env_free(struct env *v)
{
    v->s->nenvs--;
    flow(v->s);
    if (v->prev)
        v->prev->next = v->next;
    else if (v->s->envs == v)
        v->s->envs = v->next;
    if (v->next)
        v->next->prev = v->prev;
    slack_envelope_clear(&v->e);
    strbuf_cleanup(&v->text);
    bot_free(v->reply);
    bot_free(v);
}

static void
ack(struct env *v)
{
    struct strbuf sb;

    if (v->acked || !v->sock || !v->sock->ws || !v->e.envelope_id)
        return;
    strbuf_init(&sb, 0);
    if (v->reply)
        strbuf_printf(&sb, "{\"envelope_id\":\"%s\",\"payload\":%s}",
                      v->e.envelope_id, v->reply);
    else
        strbuf_printf(&sb, "{\"envelope_id\":\"%s\"}", v->e.envelope_id);
    if (!strbuf_error(&sb) && !ws_send(v->sock->ws, sb.buf, sb.len))
        v->acked = 1;
    strbuf_cleanup(&sb);
}

/* ackable - a result that redelivery would not change */
static int
ackable(int rc)
{
    return rc == BOT_OK || rc == BOT_ENOTFOUND || rc == BOT_EINVAL ||
           rc == BOT_EPROTO;
}

static void
env_done(void *arg, int rc)
{
    struct env *v = arg;

    /* not ackable (the commit failed): Slack redelivers it */
    if (ackable(rc)) {
        ack(v);
        if (v->acked)
            metrics_add(&v->s->p->bot->metrics, "pmbot_events_acked_total",
                        "platform=\"slack\"", 1);
    }
    else
        log_warn("slack: event not acknowledged: %s", bot_strerror(rc));
    env_free(v);
}

static void
env_reply(void *arg, const struct chat_msg *msg, int refusal)
{
    struct env *v = arg;
    char *body = slack_reply_body(msg, !refusal);
    struct http_request q = {0};

    if (!body)
        return;
    if (!v->acked && !v->reply) {
        v->reply = body;
        return;
    }
    /* a second reply, or one after the ack: the response_url takes it */
    if (v->e.response_url) {
        q.method = "POST";
        q.url = v->e.response_url;
        q.content_type = "application/json";
        q.body = body;
        q.body_len = strlen(body);
        http_send(v->s->http, &q, NULL, NULL);
    }
    bot_free(body);
}

/* dispatch_env - hand an event to the bot; env_done acks it once its
 * effects are committed (the group commit of this turn of the loop). */
static void
dispatch_env(struct slack *s, struct env *v)
{
    struct chat_event ev;

    if (slack_envelope_event(&v->e, s->self_user, s->self_bot, &v->text,
                             &ev)) {
        env_done(v, BOT_OK); /* nothing of ours: ack as it is */
        return;
    }
    if (v->e.type == SLACK_ENV_SLASH) {
        ev.reply = env_reply;
        ev.reply_arg = v;
    }
    /* names serve documents: mentions in incident channels and commands */
    if (ev.text && (command_is_command(ev.text) ||
                    bot_is_incident_room(s->p->bot, s->p, ev.room)))
        learn_users(s, ev.text);
    ev.platform = s->p;
    bot_dispatch(s->p->bot, &ev, env_done, v);
}

/* user_changed - a user_change event: the new name is kept before the
 * event is acknowledged */
static void
user_changed(struct slack *s, struct env *v, const char *data, size_t len)
{
    char *id = NULL, *name = NULL;
    int rc = slack_user_of(data, len, 1, &id, &name);

    if (!rc) {
        rc = put_clean_user(s, id, name);
        if (!rc)
            known_user(s, id, strlen(id));
    }
    bot_free(id);
    bot_free(name);
    /* a user_change without a usable user is acked as it is */
    bot_ack(s->p->bot, env_done, v, rc == BOT_EPROTO ? BOT_OK : rc);
}

static void
on_envelope(struct slack *s, struct sock *k, const char *data, size_t len)
{
    struct env *v = bot_calloc(1, sizeof(*v));

    if (!v)
        return;
    v->s = s;
    v->sock = k;
    strbuf_init(&v->text, 0);
    if (slack_envelope_parse(data, len, &v->e)) {
        log_warn("slack: unreadable message from Socket Mode dropped");
        slack_envelope_clear(&v->e);
        bot_free(v);
        return;
    }
    v->next = s->envs;
    if (s->envs)
        s->envs->prev = v;
    s->envs = v;
    s->nenvs++;
    flow(s);
    switch (v->e.type) {
    case SLACK_ENV_HELLO:
        k->ready = 1;
        s->connecting = 0;
        s->backoff_ms = 0;
        log_info("slack: connected (Socket Mode)");
        /* make-before-break: the new socket is up, drop the old ones;
         * what they delivered and we have not acked, Slack redelivers */
        for (struct sock *o = s->socks, *next; o; o = next) {
            next = o->next;
            if (o != k && o->retiring) {
                if (o->ws)
                    ws_close(o->ws);
                sock_unlink(s, o);
            }
        }
        env_free(v);
        return;
    case SLACK_ENV_DISCONNECT:
        if (v->e.reason && !strcmp(v->e.reason, "link_disabled")) {
            log_err("slack: Socket Mode was disabled for this app "
                    "(link_disabled): turn it on under Socket Mode in the "
                    "app's settings, then restart pmbot");
            s->stopped = 1;
        } else {
            k->retiring = 1;
            connect_socket(s);
        }
        env_free(v);
        return;
    case SLACK_ENV_EVENTS:
    case SLACK_ENV_SLASH:
    case SLACK_ENV_INTERACTIVE:
        metrics_add(&s->p->bot->metrics, "pmbot_events_received_total",
                    "platform=\"slack\"", 1);
        if (v->e.event_type && !strcmp(v->e.event_type, "user_change"))
            user_changed(s, v, data, len);
        else
            dispatch_env(s, v);
        return;
    default:
        env_free(v);
    }
}

/* --- Socket Mode connections --- */

static void
sock_on_open(void *arg, struct ws_conn *c)
{
    (void)arg;
    (void)c;
    log_debug("slack: websocket open, waiting for hello");
}

static void
sock_on_message(void *arg, struct ws_conn *c, const char *data, size_t len)
{
    struct sock *k = arg;

    (void)c;
    on_envelope(k->s, k, data, len);
}

static void
schedule_reconnect(struct slack *s)
{
    unsigned ms, jitter;

    if (s->stopped)
        return;
    s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (s->backoff_ms > BACKOFF_MAX_MS)
        s->backoff_ms = BACKOFF_MAX_MS;
    jitter = (unsigned)(rand() % (int)(s->backoff_ms / 3 + 1));
    ms = s->backoff_ms - s->backoff_ms / 6 + jitter;
    log_warn("slack: reconnecting in %u ms", ms);
    metrics_add(&s->p->bot->metrics, "pmbot_reconnects_total",
                "platform=\"slack\"", 1);
    loop_timer_start(s->reconnect, ms, 0);
}

static void
sock_unlink(struct slack *s, struct sock *k)
{
    struct sock **pp = &s->socks;

    while (*pp && *pp != k)
        pp = &(*pp)->next;
    if (*pp)
        *pp = k->next;
    for (struct env *v = s->envs; v; v = v->next) {
        if (v->sock == k)
            v->sock = NULL; /* unacked: Slack redelivers it */
    }
    bot_free(k);
}

static void
sock_on_close(void *arg, struct ws_conn *c)
{
    struct sock *k = arg;
    struct slack *s = k->s;
    int had_ready = k->ready, others = 0;

    (void)c;
    k->ws = NULL;
    if (!k->ready)
        s->connecting = 0;
    sock_unlink(s, k);
    for (struct sock *o = s->socks; o; o = o->next)
        others += o->ready || !o->retiring;
    if (had_ready)
        log_warn("slack: Socket Mode connection closed");
    if (!others)
        schedule_reconnect(s);
}

static const struct ws_handler sock_handler = {sock_on_open, sock_on_message,
                                               sock_on_close};

static void
url_opened(struct call *c, int rc, const char *body, size_t len)
{
    static const char *const paths[] = {"url"};
    struct slack *s = c->s;
    char *url = NULL, *err = NULL;
    struct sock *k;
    int ok;

    if (rc == BOT_ECANCELED)
        return;
    if (!rc)
        slack_result(body, len, &ok, &err, paths, &url, 1);
    if (err && final_error(err))
        s->stopped = 1; /* a bad app token: retrying cannot help */
    bot_free(err);
    k = url ? bot_calloc(1, sizeof(*k)) : NULL;
    if (!k) {
        bot_free(url);
        s->connecting = 0;
        schedule_reconnect(s);
        return;
    }
    k->s = s;
    k->next = s->socks;
    s->socks = k;
    if (ws_connect(s->ws, url, &sock_handler, k, &k->ws)) {
        log_warn("slack: cannot connect to the Socket Mode URL");
        sock_unlink(s, k);
        s->connecting = 0;
        schedule_reconnect(s);
    } else if (s->paused) {
        ws_pause(k->ws, 1);
    }
    bot_free(url);
}

static void
connect_socket(struct slack *s)
{
    struct call *c = NULL;

    if (s->connecting || s->stopped)
        return;
    s->connecting = 1;
    /* every connection needs a fresh URL */
    api(s, "apps.connections.open", NULL, 1, url_opened, NULL, NULL, &c);
    if (c) {
        c->app_token = 1;
        c->body = bot_strdup("");
        c->len = 0;
    }
}

static void start_auth(struct slack *s);

static void
on_reconnect_timer(void *arg)
{
    struct slack *s = arg;

    if (s->authing)
        start_auth(s);
    else
        connect_socket(s);
}

static void
authed(struct call *c, int rc, const char *body, size_t len)
{
    static const char *const paths[] = {"user_id", "bot_id"};
    struct slack *s = c->s;
    char *v[2] = {NULL, NULL}, *err = NULL;
    int ok;

    if (rc == BOT_ECANCELED)
        return;
    if (rc || slack_result(body, len, &ok, &err, paths, v, 2) || !v[0]) {
        /* a bad token is final (on_http said how to fix it); anything
         * else (Slack unreachable) is tried again with backoff */
        int final = err && final_error(err);

        bot_free(err);
        bot_free(v[0]);
        bot_free(v[1]);
        if (final) {
            s->stopped = 1;
            return;
        }
        log_warn("slack: auth.test failed; trying again");
        s->authing = 1;
        schedule_reconnect(s);
        return;
    }
    s->authing = 0;
    bot_free(err);
    s->self_user = v[0];
    s->self_bot = v[1];
    connect_socket(s);
}

static void
start_auth(struct slack *s)
{
    api(s, "auth.test", bot_strdup("{}"), 0, authed, NULL, NULL, NULL);
}

void
slack_start(struct chat_platform *p)
{
    struct slack *s = sl(p);

    bot_set_group_commit(p->bot, 1);
    s->authing = 1;
    start_auth(s);
}

static void
op_destroy(struct chat_platform *p)
{
    struct slack *s = sl(p);
    struct call *c;

    s->stopped = 1;
    s->destroying = 1;
    for (struct fetch_room *r = s->rooms; r; r = r->next) {
        struct fetch **lists[] = {&r->below, &r->wait};

        for (size_t i = 0; i < 2; i++) {
            struct fetch *f;

            while ((f = *lists[i])) {
                *lists[i] = f->next;
                f->cb(f->arg, BOT_ECANCELED, NULL);
                fetch_free(f);
            }
        }
        r->wait_tail = &r->wait;
    }
    s->queue_tail = NULL;
    while ((c = s->queue)) {
        s->queue = c->next;
        c->fn(c, BOT_ECANCELED, NULL, 0);
        call_free(c);
    }
    http_free(s->http); /* in-flight calls complete with BOT_ECANCELED */
    s->http = NULL;
    while ((c = s->queue)) { /* queued by those completions */
        s->queue = c->next;
        c->fn(c, BOT_ECANCELED, NULL, 0);
        call_free(c);
    }
    s->queue_tail = NULL;
    while (s->socks) {
        if (s->socks->ws)
            ws_close(s->socks->ws);
        sock_unlink(s, s->socks);
    }
    while (s->envs)
        env_free(s->envs);
    while (s->rooms)
        room_free(s, s->rooms); /* their calls were cancelled above */
    loop_timer_free(s->reconnect);
    loop_timer_free(s->queue_timer);
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
    struct slack *s = sl(p);

    for (struct sock *k = s->socks; k; k = k->next) {
        if (k->ready)
            return 1;
    }
    *why = s->stopped ? "Slack refused the connection (see the log)"
                      : "not connected to Slack";
    return 0;
}

static const struct chat_platform_ops slack_ops = {
    .name = "slack",
    .cmd_prefix = '/',
    .caps = CHAT_CAN_PRIVATE,
    .open_channel = op_open_channel,
    .invite = op_invite,
    .set_topic = op_set_topic,
    .post = op_post,
    .fetch_message = op_fetch_message,
    .pin = op_pin,
    .upload = op_upload,
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
    if (http_new(loop, &s->http) ||
        loop_timer_new(loop, on_reconnect_timer, s, &s->reconnect) ||
        loop_timer_new(loop, queue_run, s, &s->queue_timer))
        goto fail;
    *out = p;
    return BOT_OK;

fail:
    if (s) {
        http_free(s->http);
        loop_timer_free(s->reconnect);
        loop_timer_free(s->queue_timer);
        bot_free(s);
    }
    bot_free(p);
    return BOT_ENOMEM;
}
