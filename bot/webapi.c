/*
 * webapi.c - the queue of platform API calls (webapi.h): gates, retries,
 * the calls in flight. Knows HTTP and nothing of any platform.
 */
#include "webapi.h"

#include "err.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "mem.h"
#include "strbuf.h"
#include "timeutil.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct gate {
    char key[48];
    int64_t until; /* Retry-After: nothing of this key before */
    int inflight;
    /* after a 429, calls of the key leave pace_ms apart until pace_end:
     * a server's steady limit is met instead of hit again at once */
    int64_t pace_ms, pace_end;
};

#define PACE_FOR_MS 60000

struct webapi {
    const struct webapi_desc *d;
    struct http *http;
    struct webapi_call *queue; /* waiting to be sent, by not_before */
    struct webapi_call *tail;
    int inflight; /* calls out now */
    struct loop_timer *timer;
    int held; /* webapi_hold */
    struct gate gates[WEBAPI_MAX_GATES];
};

static int64_t
now_ms(void)
{
    return timeutil_now_ms();
}

static int
is_serial(const struct webapi *q, const char *key)
{
    return q->d->serial && q->d->serial(key);
}

static struct gate *
gate_of(struct webapi *q, const struct webapi_call *c)
{
    struct gate *free_g = NULL;

    if (c->url)
        return NULL; /* a raw URL passes no gate */
    for (int i = 0; i < WEBAPI_MAX_GATES; i++) {
        if (!strcmp(q->gates[i].key, c->method))
            return &q->gates[i];
        if (!free_g && !q->gates[i].key[0])
            free_g = &q->gates[i];
    }
    if (free_g)
        snprintf(free_g->key, sizeof(free_g->key), "%s", c->method);
    return free_g;
}

static void
call_free(struct webapi_call *c)
{
    bot_free(c->url);
    bot_free(c->path);
    bot_free(c->query);
    bot_free(c->body);
    bot_free(c->extra);
    bot_free(c->extra2);
    bot_free(c);
}

static void
finish(struct webapi_call *c, int rc, const char *body, size_t len)
{
    c->fn(c, rc, body, len);
    call_free(c);
}

/*
 * queue_at - insert c by not_before. A new call goes behind those due at
 * the same time (O(1) at the tail, the common case); a retried call goes
 * ahead of them (ahead = 1), so a retried post keeps its place.
 */
static void
queue_at(struct webapi *q, struct webapi_call *c, int ahead)
{
    struct webapi_call **pp = &q->queue;

    if (!ahead && q->tail && q->tail->not_before <= c->not_before)
        pp = &q->tail->next;
    while (*pp && ((*pp)->not_before < c->not_before ||
                   (!ahead && (*pp)->not_before == c->not_before)))
        pp = &(*pp)->next;
    c->next = *pp;
    *pp = c;
    if (!c->next)
        q->tail = c;
    loop_timer_start(q->timer, 0, 0);
}

static void
count(struct webapi *q, const struct webapi_call *c, const char *outcome)
{
    if (q->d->count && !c->url)
        q->d->count(q->d->arg, c->method, outcome);
}

static void
on_http(void *arg, const struct http_response *r)
{
    struct webapi_call *c = arg;
    struct webapi *q = c->q;
    struct gate *gt = gate_of(q, c);
    char *error = NULL;
    int rc = BOT_EIO, transient;

    if (gt && gt->inflight > 0)
        gt->inflight--;
    q->inflight--;
    if (q->queue)
        loop_timer_start(q->timer, 0, 0);

    if (r->status == 0 && r->error && !strcmp(r->error, "canceled")) {
        finish(c, BOT_ECANCELED, NULL, 0);
        return;
    }
    count(q, c,
          r->status == 429  ? "ratelimited"
          : r->status == 0  ? "transport_error"
          : r->status < 300 ? "answered"
                            : "http_error");
    if (r->status == 429) {
        /* the body's milliseconds where the platform has them (Synapse
         * rounds its Retry-After up to whole seconds) */
        long ms = q->d->retry_ms ? q->d->retry_ms(q->d->arg, r->body, r->len)
                                 : -1;

        if (ms < 0 && r->retry_after > 0)
            ms = r->retry_after * 1000;
        if (ms < 0)
            ms = 30000;
        if (gt) {
            gt->until = now_ms() + ms;
            if (q->d->pace) {
                gt->pace_ms = ms > 10000 ? 10000 : ms;
                gt->pace_end = gt->until + PACE_FOR_MS;
            }
        } else {
            c->not_before = now_ms() + ms;
        }
        log_warn("%s: %s rate limited, retrying in %ld ms", q->d->name,
                 c->url ? "upload" : c->method, ms);
        /* the gate holds every call of the key; keeping not_before keeps
         * this one ahead of those queued after it */
        queue_at(q, c, 1);
        return;
    }
    if (c->url) {
        rc = r->status >= 200 && r->status < 300 ? BOT_OK : BOT_EIO;
        if (rc && ++c->attempt < WEBAPI_MAX_ATTEMPTS) {
            c->not_before = now_ms() + (1000 << c->attempt);
            queue_at(q, c, 0);
            return;
        }
        finish(c, rc, r->body, r->len);
        return;
    }
    transient = q->d->judge(q->d->arg, c, r->status, r->body, r->len, &rc,
                            &error);
    if (rc == BOT_OK) {
        bot_free(error);
        finish(c, BOT_OK, r->body, r->len);
        return;
    }
    if (transient) {
        const char *why =
            error ? error : (r->error ? r->error : "bad answer");

        if (++c->attempt < WEBAPI_MAX_ATTEMPTS) {
            log_warn("%s: %s: %s; retrying", q->d->name, c->method, why);
            if (is_serial(q, c->method) && gt) {
                gt->until = now_ms() + (500 << c->attempt); /* keep order */
                queue_at(q, c, 1);
            } else {
                c->not_before = now_ms() + (500 << c->attempt);
                queue_at(q, c, 0);
            }
            bot_free(error);
            return;
        }
        log_warn("%s: %s failed: %s", q->d->name, c->method, why);
    }
    bot_free(error);
    finish(c, rc, r->body, r->len);
}

static void
send_call(struct webapi *q, struct webapi_call *c)
{
    struct http_request hr = {0};
    struct strbuf url;

    strbuf_init(&url, 0);
    if (c->url)
        strbuf_puts(&url, c->url);
    else
        strbuf_printf(&url, "%s%s%s%s", q->d->base_url,
                      c->path ? c->path : c->method, c->query ? "?" : "",
                      c->query ? c->query : "");
    hr.method = c->verb ? c->verb : c->body ? "POST" : "GET";
    hr.url = strbuf_str(&url);
    if (!c->url)
        hr.auth_bearer = c->token ? c->token : q->d->token;
    hr.content_type = c->ctype;
    hr.body = c->body;
    hr.body_len = c->len;
    if (strbuf_error(&url) || http_send(q->http, &hr, on_http, c)) {
        struct gate *g = gate_of(q, c);

        if (g && g->inflight > 0)
            g->inflight--;
        q->inflight--;
        finish(c, BOT_ENOMEM, NULL, 0);
    }
    strbuf_cleanup(&url);
}

static void
queue_run(void *arg)
{
    struct webapi *q = arg;
    struct webapi_call **pp = &q->queue, *c;
    int64_t now = now_ms(), next = 0;

    if (q->held)
        return;
    while ((c = *pp) && q->inflight < WEBAPI_INFLIGHT) {
        struct gate *g = gate_of(q, c);
        int64_t at = c->not_before;

        if (g && g->until > at)
            at = g->until;
        if (at <= now && g && g->inflight && is_serial(q, c->method)) {
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
        if (q->tail == c) /* the one before it is the new tail */
            q->tail = pp == &q->queue
                          ? NULL
                          : (struct webapi_call *)((char *)pp -
                                                   offsetof(struct webapi_call,
                                                            next));
        c->next = NULL;
        if (g) {
            g->inflight++;
            if (g->pace_ms && now < g->pace_end)
                g->until = now + g->pace_ms;
        }
        q->inflight++;
        send_call(q, c);
    }
    if (next)
        loop_timer_start(q->timer, (uint64_t)(next - now), 0);
}

struct webapi_call *
webapi_call(struct webapi *q, const char *method, char *body,
            const char *ctype, webapi_fn *fn, void *ctx, void *cb, void *arg)
{
    struct webapi_call *c = bot_calloc(1, sizeof(*c));

    if (!c) {
        bot_free(body);
        fn(&(struct webapi_call){.q = q, .ctx = ctx, .cb = cb, .arg = arg},
           BOT_ENOMEM, NULL, 0);
        return NULL;
    }
    c->q = q;
    snprintf(c->method, sizeof(c->method), "%s", method);
    c->body = body;
    c->len = body ? strlen(body) : 0;
    c->ctype = ctype;
    c->fn = fn;
    c->ctx = ctx;
    c->cb = cb;
    c->arg = arg;
    queue_at(q, c, 0);
    return c;
}

void
webapi_hold(struct webapi *q, int on)
{
    q->held = on;
    if (!on && q->queue)
        loop_timer_start(q->timer, 0, 0);
}

void
webapi_fail_all(struct webapi *q, int rc)
{
    struct webapi_call *c;

    while ((c = q->queue)) {
        q->queue = c->next;
        if (!q->queue)
            q->tail = NULL;
        finish(c, rc, NULL, 0);
    }
}

static void
cancel_queued(struct webapi *q)
{
    struct webapi_call *c;

    while ((c = q->queue)) {
        q->queue = c->next;
        if (!q->queue)
            q->tail = NULL;
        finish(c, BOT_ECANCELED, NULL, 0);
    }
    q->tail = NULL;
}

void
webapi_free(struct webapi *q)
{
    if (!q)
        return;
    cancel_queued(q);
    http_free(q->http); /* in-flight calls complete with BOT_ECANCELED */
    q->http = NULL;
    cancel_queued(q); /* queued by those completions */
    loop_timer_free(q->timer);
    bot_free(q);
}

struct http *
webapi_http(struct webapi *q)
{
    return q->http;
}

int
webapi_new(struct loop *loop, const struct webapi_desc *d,
           struct webapi **out)
{
    struct webapi *q = bot_calloc(1, sizeof(*q));

    if (!q)
        return BOT_ENOMEM;
    q->d = d;
    if (http_new(loop, &q->http) ||
        loop_timer_new(loop, queue_run, q, &q->timer)) {
        http_free(q->http);
        bot_free(q);
        return BOT_ENOMEM;
    }
    *out = q;
    return BOT_OK;
}
