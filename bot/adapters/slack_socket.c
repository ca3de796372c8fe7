/*
 * slack_socket.c - Socket Mode: auth.test, apps.connections.open, the
 * websockets (make-before-break on refresh, reconnect with capped
 * exponential backoff and jitter), the envelopes between arrival and ack
 * (acked only once their effects are committed), and flow control.
 */
#include "slack_int.h"

#include "bot.h"
#include "command.h"
#include "config.h"
#include "err.h"
#include "http.h"
#include "incident.h"
#include "log.h"
#include "loop.h"
#include "mem.h"
#include "slack_json.h"
#include "strbuf.h"
#include "ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENVS_HIGH      512 /* envelopes in progress: stop reading... */
#define ENVS_LOW       128 /* ...until they are down to this */
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000

struct slack_sock {
    struct slack_sock *next;
    struct slack *s;
    struct ws_conn *ws;
    int ready;    /* hello received */
    int retiring; /* Slack asked us to move to a new socket */
};

/* An envelope between arrival and ack. */
struct slack_env {
    struct slack_env *next, *prev;
    struct slack *s;
    struct slack_sock *sock; /* NULLed if the socket closes first */
    struct slack_envelope e;
    struct strbuf text;
    char *reply; /* slash command reply payload (JSON) */
    int acked;
};

static void connect_socket(struct slack *s);
static void sock_unlink(struct slack *s, struct slack_sock *k);
static void schedule_reconnect(struct slack *s);

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
    for (struct slack_sock *k = s->socks; k; k = k->next) {
        if (k->ws)
            ws_pause(k->ws, pause);
    }
}

static void
env_free(struct slack_env *v)
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
ack(struct slack_env *v)
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
    struct slack_env *v = arg;

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
    struct slack_env *v = arg;
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
        http_send(webapi_http(v->s->api), &q, NULL, NULL);
    }
    bot_free(body);
}

/* dispatch_env - hand an event to the bot; env_done acks it once its
 * effects are committed (the group commit of this turn of the loop). */
static void
dispatch_env(struct slack *s, struct slack_env *v)
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
        slack_learn_users(s, ev.text);
    ev.platform = s->p;
    bot_dispatch(s->p->bot, &ev, env_done, v);
}

/* user_changed - a user_change event: the new name is kept before the
 * event is acknowledged */
static void
user_changed(struct slack *s, struct slack_env *v, const char *data,
             size_t len)
{
    int rc = slack_user_change(s, data, len);

    /* a user_change without a usable user is acked as it is */
    bot_ack(s->p->bot, env_done, v, rc == BOT_EPROTO ? BOT_OK : rc);
}

static void
on_envelope(struct slack *s, struct slack_sock *k, const char *data,
            size_t len)
{
    struct slack_env *v = bot_calloc(1, sizeof(*v));

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
        for (struct slack_sock *o = s->socks, *next; o; o = next) {
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
    struct slack_sock *k = arg;

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
sock_unlink(struct slack *s, struct slack_sock *k)
{
    struct slack_sock **pp = &s->socks;

    while (*pp && *pp != k)
        pp = &(*pp)->next;
    if (*pp)
        *pp = k->next;
    for (struct slack_env *v = s->envs; v; v = v->next) {
        if (v->sock == k)
            v->sock = NULL; /* unacked: Slack redelivers it */
    }
    bot_free(k);
}

static void
sock_on_close(void *arg, struct ws_conn *c)
{
    struct slack_sock *k = arg;
    struct slack *s = k->s;
    int had_ready = k->ready, others = 0;

    (void)c;
    k->ws = NULL;
    if (!k->ready)
        s->connecting = 0;
    sock_unlink(s, k);
    for (struct slack_sock *o = s->socks; o; o = o->next)
        others += o->ready || !o->retiring;
    if (had_ready)
        log_warn("slack: Socket Mode connection closed");
    if (!others)
        schedule_reconnect(s);
}

static const struct ws_handler sock_handler = {sock_on_open, sock_on_message,
                                               sock_on_close};

static void
url_opened(struct webapi_call *c, int rc, const char *body, size_t len)
{
    static const char *const paths[] = {"url"};
    struct slack *s = c->ctx;
    char *url = NULL, *err = NULL;
    struct slack_sock *k;
    int ok;

    if (rc == BOT_ECANCELED)
        return;
    if (!rc)
        slack_result(body, len, &ok, &err, paths, &url, 1);
    if (rc == BOT_EINVAL || (err && slack_final_error(err)))
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
    struct webapi_call *c = NULL;

    if (s->connecting || s->stopped)
        return;
    s->connecting = 1;
    /* every connection needs a fresh URL */
    c = slack_api(s, "apps.connections.open", bot_strdup(""), 1, url_opened,
                  NULL, NULL);
    if (c)
        c->token = s->cfg->slack_app_token;
}

static void start_auth(struct slack *s);

void
slack_socket_timer(void *arg)
{
    struct slack *s = arg;

    if (s->authing)
        start_auth(s);
    else
        connect_socket(s);
}

static void
authed(struct webapi_call *c, int rc, const char *body, size_t len)
{
    static const char *const paths[] = {"user_id", "bot_id"};
    struct slack *s = c->ctx;
    char *v[2] = {NULL, NULL}, *err = NULL;
    int ok;

    if (rc == BOT_ECANCELED)
        return;
    if (rc || slack_result(body, len, &ok, &err, paths, v, 2) || !v[0]) {
        /* a bad token is final (on_http said how to fix it); anything
         * else (Slack unreachable) is tried again with backoff */
        int final = rc == BOT_EINVAL || (err && slack_final_error(err));

        bot_free(err);
        bot_free(v[0]);
        bot_free(v[1]);
        if (final) {
            s->stopped = 1;
            s->authing = 0;
            slack_history_authed(s); /* they fail like every call now */
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
    slack_history_authed(s);
    connect_socket(s);
}

static void
start_auth(struct slack *s)
{
    slack_api(s, "auth.test", bot_strdup("{}"), 0, authed, NULL, NULL);
}

void
slack_socket_start(struct slack *s)
{
    s->authing = 1;
    start_auth(s);
}

void
slack_socket_close(struct slack *s)
{
    s->stopped = 1;
    while (s->socks) {
        if (s->socks->ws)
            ws_close(s->socks->ws);
        sock_unlink(s, s->socks);
    }
    while (s->envs)
        env_free(s->envs);
}

int
slack_socket_connected(struct slack *s, const char **why)
{
    for (struct slack_sock *k = s->socks; k; k = k->next) {
        if (k->ready)
            return 1;
    }
    *why = s->stopped ? "Slack refused the connection (see the log)"
                      : "not connected to Slack";
    return 0;
}
