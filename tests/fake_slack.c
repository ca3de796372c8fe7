/*
 * fake_slack.c - a loopback fake of Slack for integration tests and
 * benchmarks that run the real pmbot binary.
 *
 * Owns: one lws context with one plain-HTTP vhost on 127.0.0.1 that serves
 * the Web API (/api/<method>), the Socket Mode websocket (/link/?ticket=),
 * file uploads (/upload/<n>), slash-command response URLs (/response/<n>)
 * and a control API (/_control/...) through which a test injects events and
 * reads back what the bot did. All state is in memory for the process life.
 * tests/fake_slack.md documents the control API.
 *
 * Does not own: TLS, scopes, real rate-limit accounting (429s are armed by
 * the control API only), Slack's retry schedule (one fixed delay here).
 *
 * Invariants:
 *  - one thread: all work runs in lws callbacks and lws_sul timers;
 *  - lws_write only in WRITEABLE callbacks, one write per callback;
 *  - an envelope not yet acked or expired is in exactly one list: f.pending
 *    (no socket can take it), conn.outq (queued on a socket, not written) or
 *    f.awaiting (written, waiting for its ack). f.awaiting is ordered by
 *    deadline because every deadline is write time plus the same delay;
 *  - tracked envelopes are in f.envs (by id) exactly while in one of those;
 *  - message ts values are unique and, when handed out here, increasing.
 */
#include <libwebsockets.h>
#include <jansson.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define BOT_USER "UBOT"
#define BOT_ID   "BBOT"
#define TEAM_ID  "T1"
#define APP_ID   "A1"

#define MAX_RETRIES    3              /* Slack retries an unacked event 3x */
#define BODY_CAP       (64u << 20)    /* largest HTTP request body */
#define RX_CAP         (16u << 20)    /* largest websocket message */
#define TX_PACKET      65536          /* bytes per lws_write */
#define WS_RX_BUFFER   16384          /* lws rx chunk for the websocket */
#define CLOSE_AFTER_MS 10000          /* Slack closes ~10 s after "warning" */

struct bytes {
    char *p; /* NUL-terminated whenever non-NULL */
    size_t len;
    size_t cap;
};

struct conn;

struct envelope {
    struct lws_dll2 list;    /* in f.pending, conn.outq or f.awaiting */
    struct envelope *hnext;  /* chain in f.envs */
    struct conn *conn;       /* socket queued on or written to; NULL pending */
    char *buf;               /* LWS_PRE bytes of headroom, then JSON text */
    size_t len;              /* JSON text length */
    int64_t deadline_us;     /* monotonic; meaningful while awaiting */
    int retry_attempt;
    int retryable;           /* events_api built here: redeliver on timeout */
    int tracked;             /* in f.envs (ids from /_control/envelope may
                                be missing or duplicate) */
    char type[32];
    char id[64];
};

struct ctl_frame {
    struct lws_dll2 list; /* in conn.ctl */
    char *buf;            /* LWS_PRE bytes of headroom, then JSON text */
    size_t len;
    int is_hello;
};

struct fake;

/* One Socket Mode socket; lws allocates it zeroed as the ws user space. */
struct conn {
    struct lws_dll2 node;          /* in f.conns, oldest first */
    struct fake *f;                /* NULL until established, and after close */
    struct lws *wsi;
    struct lws_dll2_owner ctl;     /* hello/disconnect, written before outq */
    struct lws_dll2_owner outq;    /* envelopes not yet written */
    lws_sorted_usec_list_t close_sul; /* server-side close after "warning" */
    struct bytes rx;               /* one client message being reassembled */
    unsigned id;                   /* 1-based connection number */
    int ready;                     /* hello written: may carry envelopes */
    int closing;                   /* takes no new envelopes */
    int close_frame;               /* send a close frame when writable */
};

/* One HTTP transaction; lws allocates it zeroed as the http user space. */
struct http_req {
    char path[256];
    char *auth;        /* Authorization header or NULL */
    json_t *query;     /* decoded query arguments */
    struct bytes body;
    int64_t t_ms;      /* arrival, ms since start */
    int64_t t_us;      /* arrival, µs since start */
    int is_post;
    int is_json;       /* Content-Type: application/json */
    char *resp;        /* LWS_PRE bytes of headroom, then resp_len bytes */
    size_t resp_len;
    size_t resp_off;   /* bytes of resp already written */
    int status;
    int retry_after;   /* > 0 adds a Retry-After header */
    int64_t hold_until_us; /* /_control/delay: answer no earlier (monotonic) */
    const char *ctype; /* static string */
    int responding;
    int headers_sent;
    int close_after;   /* POST without a body length: close when answered */
    int send_continue; /* client sent Expect: 100-continue */
};

/* A paced /_control/reactions run ("per_second"). */
struct bulk {
    lws_sorted_usec_list_t sul; /* fires when the next event is due */
    json_t *args;               /* the request; NULL when no run is active */
    long long count;            /* events to send in all */
    long long sent;
    long long per_second;
    int64_t t0_us;              /* monotonic start of the run */
};

struct env_table {
    struct envelope **slots;
    size_t nslots; /* 0 or a power of two */
    size_t count;
};

struct fake {
    struct lws_context *ctx;
    const char *bot_token; /* borrowed from argv */
    const char *app_token; /* borrowed from argv */
    int port;
    int redeliver_ms;
    int sigfd;
    int stop;            /* SIGTERM/SIGINT seen */
    int stopping;        /* context being destroyed: requeue nothing */
    int64_t t0_us;       /* monotonic start */
    int64_t last_ts_us;  /* newest message ts seen, wall clock µs */
    unsigned next_ticket, next_channel, next_file, next_event;
    unsigned next_envelope, next_slash, next_msg;
    unsigned connects_total, ws_rejected;
    struct lws_dll2_owner conns;
    struct lws_dll2_owner pending;
    struct lws_dll2_owner awaiting;
    lws_sorted_usec_list_t redeliver_sul; /* armed while awaiting is not
                                             empty, at or before its head */
    struct env_table envs;
    struct bulk bulk;
    json_t *tickets;    /* ticket -> true, issued and unused */
    json_t *channels;   /* [channel record] */
    json_t *messages;   /* channel id -> [message], ts ascending */
    json_t *uploads;    /* file id -> upload record */
    json_t *files;      /* [completed upload] */
    json_t *responses;  /* [response_url POST] */
    json_t *ephemerals; /* [chat.postEphemeral] */
    json_t *users;      /* user id -> fields overriding users.info */
    json_t *ratelimits; /* method -> {retry_after, count} */
    json_t *failures;   /* method -> {error, channel?, count} */
    json_t *delays;     /* method -> {ms, count} */
    json_t *calls, *acks, *delivered, *expired;
};

/* ---------------------------------------------------------------- time */

static int64_t
clock_us(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static json_int_t
since_start_ms(const struct fake *f)
{
    return (json_int_t)((clock_us(CLOCK_MONOTONIC) - f->t0_us) / 1000);
}

/* since_start_us - for latency figures finer than a millisecond */
static json_int_t
since_start_us(const struct fake *f)
{
    return (json_int_t)(clock_us(CLOCK_MONOTONIC) - f->t0_us);
}

static void
ts_format(int64_t us, char *out, size_t n)
{
    snprintf(out, n, "%lld.%06lld", (long long)(us / 1000000),
             (long long)(us % 1000000));
}

/*
 * Slack ts: "<epoch s>.<6 digits>". Strictly increasing even when two are
 * handed out within one microsecond or after a test chose a future ts.
 */
static void
fresh_ts(struct fake *f, char *out, size_t n)
{
    int64_t us = clock_us(CLOCK_REALTIME);

    if (us <= f->last_ts_us)
        us = f->last_ts_us + 1;
    f->last_ts_us = us;
    ts_format(us, out, n);
}

/* "123.456" -> 123000456 µs; rejects anything but digits[.digits] */
static int
ts_parse(const char *s, int64_t *out)
{
    int64_t sec = 0, frac = 0;
    int ndig = 0, nfrac = 0;

    if (!s)
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (++ndig > 12)
            return -1;
        sec = sec * 10 + (*s - '0');
    }
    if (!ndig)
        return -1;
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++) {
            if (++nfrac > 6)
                return -1;
            frac = frac * 10 + (*s - '0');
        }
    }
    if (*s)
        return -1;
    for (; nfrac < 6; nfrac++)
        frac *= 10;
    *out = sec * 1000000 + frac;
    return 0;
}

static int64_t
msg_ts(const json_t *msg)
{
    int64_t us = -1;

    ts_parse(json_string_value(json_object_get(msg, "ts")), &us);
    return us;
}

/* ------------------------------------------------------------- helpers */

static int
bytes_add(struct bytes *b, const void *data, size_t n, size_t limit)
{
    size_t need = b->len + n + 1;

    if (need > limit)
        return -1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        char *p;

        while (cap < need)
            cap *= 2;
        p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static void
bytes_free(struct bytes *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

static int
dump_cb(const char *buf, size_t size, void *data)
{
    return bytes_add(data, buf, size, SIZE_MAX) ? -1 : 0;
}

/*
 * Compact JSON text behind LWS_PRE bytes of headroom, the layout lws_write
 * wants, so frames and replies go out without another copy. New; NULL on
 * allocation failure.
 */
static char *
dump_pre(const json_t *j, size_t *len)
{
    static const char headroom[LWS_PRE];
    struct bytes b = {0};

    if (bytes_add(&b, headroom, sizeof(headroom), SIZE_MAX) ||
        json_dump_callback(j, dump_cb, &b, JSON_COMPACT)) {
        bytes_free(&b);
        return NULL;
    }
    *len = b.len - LWS_PRE;
    return b.p;
}

static const char *
arg_str(const json_t *args, const char *key)
{
    return json_string_value(json_object_get(args, key));
}

/* Form posts carry every value as a string, JSON bodies as real types. */
static int
arg_bool(const json_t *args, const char *key, int dflt)
{
    json_t *v = json_object_get(args, key);

    if (json_is_boolean(v))
        return json_is_true(v);
    if (json_is_integer(v))
        return json_integer_value(v) != 0;
    if (json_is_string(v))
        return !strcmp(json_string_value(v), "true") ||
               !strcmp(json_string_value(v), "1");
    return dflt;
}

static long long
arg_int(const json_t *args, const char *key, long long dflt)
{
    json_t *v = json_object_get(args, key);
    const char *s;
    char *end;
    long long n;

    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v))
        return (long long)json_real_value(v);
    s = json_string_value(v);
    if (!s || !*s)
        return dflt;
    n = strtoll(s, &end, 10);
    return *end ? dflt : n;
}

/* A JSON-valued argument sent either as JSON or as a JSON string. New. */
static json_t *
arg_json(const json_t *args, const char *key)
{
    json_t *v = json_object_get(args, key);

    if (json_is_string(v))
        return json_loads(json_string_value(v), JSON_DECODE_ANY, NULL);
    return json_incref(v);
}

/* json_object_update that takes src */
static void
update_new(json_t *dst, json_t *src)
{
    json_object_update(dst, src);
    json_decref(src);
}

static void
lower_copy(const char *s, char *out, size_t n)
{
    size_t i;

    for (i = 0; s[i] && i + 1 < n; i++)
        out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a')
                                               : s[i];
    out[i] = '\0';
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* x-www-form-urlencoded; out needs n + 1 bytes */
static void
url_decode(const char *s, size_t n, char *out)
{
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
                   hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
}

/* Values that are not UTF-8 are dropped, as jansson cannot hold them. */
static void
form_decode(const char *s, size_t n, json_t *into)
{
    char *buf = malloc(n + 1);
    size_t i = 0;

    if (!buf)
        return;
    while (i < n) {
        size_t end = i, eq;
        char *val;

        while (end < n && s[end] != '&')
            end++;
        for (eq = i; eq < end && s[eq] != '='; eq++)
            ;
        url_decode(s + i, eq - i, buf);
        if (*buf) {
            size_t klen = strlen(buf) + 1;

            val = buf + klen;
            if (eq < end)
                url_decode(s + eq + 1, end - eq - 1, val);
            else
                *val = '\0';
            json_object_set_new(into, buf, json_string(val));
        }
        i = end + 1;
    }
    free(buf);
}

/* ------------------------------------------------------ envelope table */

static size_t
hash_id(const char *s)
{
    uint64_t h = 1469598103934665603ull;

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return (size_t)h;
}

static struct envelope **
env_slot(struct env_table *t, const char *id)
{
    struct envelope **pp = &t->slots[hash_id(id) & (t->nslots - 1)];

    while (*pp && strcmp((*pp)->id, id))
        pp = &(*pp)->hnext;
    return pp;
}

static struct envelope *
env_find(struct env_table *t, const char *id)
{
    return t->nslots ? *env_slot(t, id) : NULL;
}

/* 0 when inserted; -1 on a duplicate id or no memory */
static int
env_insert(struct env_table *t, struct envelope *e)
{
    struct envelope **pp;

    if (t->count + 1 > t->nslots) {
        size_t n = t->nslots ? t->nslots * 2 : 256, i;
        struct envelope **slots = calloc(n, sizeof(*slots));

        if (!slots)
            return -1;
        for (i = 0; i < t->nslots; i++) {
            struct envelope *x = t->slots[i], *next;

            for (; x; x = next) {
                size_t k = hash_id(x->id) & (n - 1);

                next = x->hnext;
                x->hnext = slots[k];
                slots[k] = x;
            }
        }
        free(t->slots);
        t->slots = slots;
        t->nslots = n;
    }
    pp = env_slot(t, e->id);
    if (*pp)
        return -1;
    e->hnext = NULL;
    *pp = e;
    t->count++;
    return 0;
}

static void
env_unlink(struct env_table *t, struct envelope *e)
{
    struct envelope **pp;

    if (!e->tracked)
        return;
    pp = env_slot(t, e->id);
    if (*pp == e) {
        *pp = e->hnext;
        t->count--;
    }
    e->tracked = 0;
}

/* ------------------------------------------------- socket mode delivery */

static void
env_drop(struct fake *f, struct envelope *e)
{
    lws_dll2_remove(&e->list);
    env_unlink(&f->envs, e);
    free(e->buf);
    free(e);
}

/* Slack sends each envelope to one socket; we pick the newest ready one. */
static struct conn *
newest_ready(struct fake *f)
{
    struct lws_dll2 *d;

    for (d = lws_dll2_get_tail(&f->conns); d; d = d->prev) {
        struct conn *c = lws_container_of(d, struct conn, node);

        if (c->ready && !c->closing)
            return c;
    }
    return NULL;
}

static void
deliver(struct fake *f, struct envelope *e)
{
    struct conn *c = f->stopping ? NULL : newest_ready(f);

    lws_dll2_remove(&e->list);
    e->conn = c;
    if (!c) {
        lws_dll2_add_tail(&e->list, &f->pending);
        return;
    }
    lws_dll2_add_tail(&e->list, &c->outq);
    lws_callback_on_writable(c->wsi);
}

static void
flush_pending(struct fake *f)
{
    struct conn *c = newest_ready(f);
    struct lws_dll2 *d;

    if (!c || !f->pending.count)
        return;
    for (d = lws_dll2_get_head(&f->pending); d;
         d = lws_dll2_get_head(&f->pending)) {
        struct envelope *e = lws_container_of(d, struct envelope, list);

        lws_dll2_remove(d);
        e->conn = c;
        lws_dll2_add_tail(d, &c->outq);
    }
    lws_callback_on_writable(c->wsi);
}

static void redeliver_cb(lws_sorted_usec_list_t *sul);

static void
arm_redeliver(struct fake *f)
{
    struct lws_dll2 *d = lws_dll2_get_head(&f->awaiting);
    struct envelope *e;
    int64_t wait;

    if (!d) {
        lws_sul_cancel(&f->redeliver_sul);
        return;
    }
    e = lws_container_of(d, struct envelope, list);
    wait = e->deadline_us - clock_us(CLOCK_MONOTONIC);
    lws_sul_schedule(f->ctx, 0, &f->redeliver_sul, redeliver_cb,
                     wait < 1 ? 1 : wait);
}

/*
 * Redelivery keeps the envelope id (an ack of any attempt settles it) and
 * bumps retry_attempt with retry_reason "timeout", as Slack's retries do.
 */
static int
env_rerender(struct envelope *e)
{
    json_t *j = json_loadb(e->buf + LWS_PRE, e->len, 0, NULL);
    size_t len = 0;
    char *buf;

    if (!j)
        return -1;
    json_object_set_new(j, "retry_attempt", json_integer(e->retry_attempt));
    json_object_set_new(j, "retry_reason", json_string("timeout"));
    buf = dump_pre(j, &len);
    json_decref(j);
    if (!buf)
        return -1;
    free(e->buf);
    e->buf = buf;
    e->len = len;
    return 0;
}

/* An envelope went unacked: its deadline passed or its socket closed. */
static void
retry_or_expire(struct fake *f, struct envelope *e)
{
    if (e->retryable && e->retry_attempt < MAX_RETRIES) {
        e->retry_attempt++;
        if (!env_rerender(e)) {
            deliver(f, e);
            return;
        }
    }
    json_array_append_new(f->expired, json_string(e->id));
    env_drop(f, e);
}

static void
redeliver_cb(lws_sorted_usec_list_t *sul)
{
    struct fake *f = lws_container_of(sul, struct fake, redeliver_sul);
    int64_t now = clock_us(CLOCK_MONOTONIC);
    struct lws_dll2 *d;

    for (d = lws_dll2_get_head(&f->awaiting); d;
         d = lws_dll2_get_head(&f->awaiting)) {
        struct envelope *e = lws_container_of(d, struct envelope, list);

        if (e->deadline_us > now)
            break;
        retry_or_expire(f, e);
    }
    arm_redeliver(f);
}

/* Builds, tracks and routes a new envelope. Takes payload. */
static struct envelope *
envelope_new(struct fake *f, const char *type, json_t *payload,
             int accepts_response, int retryable)
{
    struct envelope *e = calloc(1, sizeof(*e));
    unsigned n = ++f->next_envelope;
    json_t *j;

    if (!e) {
        json_decref(payload);
        return NULL;
    }
    snprintf(e->id, sizeof(e->id), "%08x-fa4e-4%03x-8%03x-%012x",
             n * 2654435761u, n & 0xfff, (n >> 12) & 0xfff, n);
    snprintf(e->type, sizeof(e->type), "%s", type);
    e->retryable = retryable;
    j = json_pack("{s:s,s:s,s:b}", "envelope_id", e->id, "type", type,
                  "accepts_response_payload", accepts_response);
    /* A3: retry fields are present on events_api only */
    if (retryable) {
        json_object_set_new(j, "retry_attempt", json_integer(0));
        json_object_set_new(j, "retry_reason", json_string(""));
    }
    json_object_set_new(j, "payload", payload);
    e->buf = dump_pre(j, &e->len);
    json_decref(j);
    if (!e->buf) {
        free(e);
        return NULL;
    }
    e->tracked = !env_insert(&f->envs, e);
    deliver(f, e);
    return e;
}

/* An envelope supplied whole by the test: sent as is, never redelivered. */
static struct envelope *
envelope_raw(struct fake *f, const json_t *j)
{
    struct envelope *e = calloc(1, sizeof(*e));
    const char *id = arg_str(j, "envelope_id");
    const char *type = arg_str(j, "type");

    if (!e)
        return NULL;
    snprintf(e->id, sizeof(e->id), "%s", id ? id : "");
    snprintf(e->type, sizeof(e->type), "%s", type ? type : "");
    e->buf = dump_pre(j, &e->len);
    if (!e->buf) {
        free(e);
        return NULL;
    }
    e->tracked = id && *id && !env_insert(&f->envs, e);
    deliver(f, e);
    return e;
}

/* Queues a control message (hello, disconnect). Takes j. */
static void
queue_ctl(struct conn *c, json_t *j, int is_hello)
{
    struct ctl_frame *fr = calloc(1, sizeof(*fr));

    if (fr)
        fr->buf = dump_pre(j, &fr->len);
    json_decref(j);
    if (!fr || !fr->buf) {
        free(fr);
        return;
    }
    fr->is_hello = is_hello;
    lws_dll2_add_tail(&fr->list, &c->ctl);
    lws_callback_on_writable(c->wsi);
}

static void
ctl_free(struct ctl_frame *fr)
{
    lws_dll2_remove(&fr->list);
    free(fr->buf);
    free(fr);
}

static void
mark_written(struct fake *f, struct conn *c, struct envelope *e)
{
    json_array_append_new(
        f->delivered,
        json_pack("{s:s,s:I,s:I,s:i,s:s,s:i}", "envelope_id", e->id, "t",
                  since_start_ms(f), "t_us", since_start_us(f),
                  "retry_attempt", e->retry_attempt, "type", e->type,
                  "connection", (int)c->id));
    if (!e->tracked) { /* no ack can find it: forget it once sent */
        env_drop(f, e);
        return;
    }
    lws_dll2_remove(&e->list);
    e->deadline_us =
        clock_us(CLOCK_MONOTONIC) + (int64_t)f->redeliver_ms * 1000;
    lws_dll2_add_tail(&e->list, &f->awaiting);
    if (f->awaiting.count == 1)
        arm_redeliver(f);
}

static int
ws_writeable(struct fake *f, struct conn *c)
{
    struct lws_dll2 *d;

    if (c->close_frame) {
        lws_close_reason(c->wsi, LWS_CLOSE_STATUS_GOINGAWAY,
                         (unsigned char *)"refresh", 7);
        return -1;
    }
    d = lws_dll2_get_head(&c->ctl);
    if (d) {
        struct ctl_frame *fr = lws_container_of(d, struct ctl_frame, list);
        int hello = fr->is_hello;

        if (lws_write(c->wsi, (unsigned char *)fr->buf + LWS_PRE, fr->len,
                      LWS_WRITE_TEXT) < (int)fr->len)
            return -1;
        ctl_free(fr);
        if (hello) {
            c->ready = 1;
            flush_pending(f);
        }
    } else {
        struct envelope *e;

        d = lws_dll2_get_head(&c->outq);
        if (!d)
            return 0;
        e = lws_container_of(d, struct envelope, list);
        if (lws_write(c->wsi, (unsigned char *)e->buf + LWS_PRE, e->len,
                      LWS_WRITE_TEXT) < (int)e->len)
            return -1;
        mark_written(f, c, e);
    }
    if (c->ctl.count || c->outq.count)
        lws_callback_on_writable(c->wsi);
    return 0;
}

static void
ws_message(struct fake *f, struct conn *c, const char *text, size_t len)
{
    json_t *m = json_loadb(text, len, 0, NULL);
    const char *id = arg_str(m, "envelope_id");
    struct envelope *e;

    if (id) {
        json_array_append_new(
            f->acks,
            json_pack("{s:s,s:I,s:I,s:O?,s:i}", "envelope_id", id, "t",
                      since_start_ms(f), "t_us", since_start_us(f),
                      "payload", json_object_get(m, "payload"), "connection",
                      (int)c->id));
        e = env_find(&f->envs, id);
        if (e)
            env_drop(f, e);
    }
    json_decref(m);
}

static void
conn_closed(struct fake *f, struct conn *c)
{
    struct lws_dll2 *d, *next;

    lws_sul_cancel(&c->close_sul);
    lws_dll2_remove(&c->node);
    for (d = lws_dll2_get_head(&c->ctl); d; d = lws_dll2_get_head(&c->ctl))
        ctl_free(lws_container_of(d, struct ctl_frame, list));
    /* the client never saw these: route them again as they are */
    for (d = lws_dll2_get_head(&c->outq); d;
         d = lws_dll2_get_head(&c->outq)) {
        struct envelope *e = lws_container_of(d, struct envelope, list);

        lws_dll2_remove(d);
        e->conn = NULL;
        lws_dll2_add_tail(d, &f->pending);
    }
    /* written but unacked: a lost socket counts as a timeout */
    for (d = lws_dll2_get_head(&f->awaiting); d; d = next) {
        struct envelope *e = lws_container_of(d, struct envelope, list);

        next = d->next;
        if (e->conn != c)
            continue;
        e->conn = NULL;
        if (!f->stopping)
            retry_or_expire(f, e);
    }
    if (!f->stopping)
        flush_pending(f);
    bytes_free(&c->rx);
    c->f = NULL;
}

static void
close_cb(lws_sorted_usec_list_t *sul)
{
    struct conn *c = lws_container_of(sul, struct conn, close_sul);

    c->closing = 1;
    c->close_frame = 1;
    lws_callback_on_writable(c->wsi);
}

/* -------------------------------------------------------------- events */

/* Wraps an event as event_callback and queues it. Takes event. */
static struct envelope *
send_event(struct fake *f, json_t *event, char *event_id, size_t n)
{
    char eid[32];
    json_t *payload;

    snprintf(eid, sizeof(eid), "Ev%u", ++f->next_event);
    if (event_id)
        snprintf(event_id, n, "%s", eid);
    payload = json_pack(
        "{s:s,s:s,s:s,s:s,s:I,s:[{s:s,s:b,s:s}],s:o}", "type",
        "event_callback", "team_id", TEAM_ID, "api_app_id", APP_ID,
        "event_id", eid, "event_time",
        (json_int_t)(clock_us(CLOCK_REALTIME) / 1000000), "authorizations",
        "user_id", BOT_USER, "is_bot", 1, "team_id", TEAM_ID, "event", event);
    if (!payload)
        return NULL;
    return envelope_new(f, "events_api", payload, 0, 1);
}

static void
reply_event(json_t *reply, const struct envelope *e, const char *event_id)
{
    json_object_set_new(reply, "event_id", json_string(event_id));
    json_object_set_new(reply, "envelope_id", json_string(e ? e->id : ""));
}

/* ---------------------------------------------------- channels, messages */

static json_t *
channel_get(struct fake *f, const char *id)
{
    size_t i;
    json_t *ch;

    json_array_foreach(f->channels, i, ch) {
        if (!strcmp(arg_str(ch, "id"), id))
            return ch;
    }
    return NULL;
}

static json_t *
channel_by_name(struct fake *f, const char *name)
{
    size_t i;
    json_t *ch;

    json_array_foreach(f->channels, i, ch) {
        if (!json_is_true(json_object_get(ch, "is_im")) &&
            !strcmp(arg_str(ch, "name"), name))
            return ch;
    }
    return NULL;
}

/* Borrowed. */
static json_t *
channel_add(struct fake *f, const char *id, const char *name, int is_private,
            int is_im)
{
    json_t *ch = json_pack(
        "{s:s,s:s,s:b,s:b,s:I,s:s,s:s,s:[s],s:[]}", "id", id, "name", name,
        "is_private", is_private, "is_im", is_im, "created",
        (json_int_t)(clock_us(CLOCK_REALTIME) / 1000000), "creator",
        BOT_USER, "topic", "", "members", BOT_USER, "pins");

    json_array_append_new(f->channels, ch);
    return ch;
}

/* 1 and *idx set when the string array holds s */
static int
string_index(const json_t *arr, const char *s, size_t *idx)
{
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v) {
        if (json_is_string(v) && !strcmp(json_string_value(v), s)) {
            if (idx)
                *idx = i;
            return 1;
        }
    }
    return 0;
}

static int
members_has(const json_t *members, const char *user)
{
    return string_index(members, user, NULL);
}

/* A DM "D<user>" exists as soon as anything names it. Borrowed. */
static json_t *
dm_ensure(struct fake *f, const char *id)
{
    json_t *ch = channel_get(f, id);

    if (!ch) {
        ch = channel_add(f, id, "", 1, 1);
        if (id[1])
            json_array_append_new(json_object_get(ch, "members"),
                                  json_string(id + 1));
    }
    return ch;
}

/*
 * The test harness may name channels the bot never created (slash commands
 * in #general): the control API registers them so later bot calls on them
 * succeed. Borrowed.
 */
static json_t *
channel_for_control(struct fake *f, const char *id)
{
    char name[96];
    json_t *ch;

    if (id[0] == 'D')
        return dm_ensure(f, id);
    ch = channel_get(f, id);
    if (ch)
        return ch;
    lower_copy(id, name, sizeof(name));
    return channel_add(f, id, name, 0, 0);
}

/* chat.postMessage also takes a user id, meaning the app DM. Borrowed. */
static json_t *
channel_resolve(struct fake *f, const char *id, int allow_user)
{
    char dm[80];

    if (!id || !*id)
        return NULL;
    if (allow_user && (id[0] == 'U' || id[0] == 'W')) {
        snprintf(dm, sizeof(dm), "D%s", id);
        return dm_ensure(f, dm);
    }
    if (id[0] == 'D')
        return dm_ensure(f, id);
    return channel_get(f, id);
}

static const char *
channel_type(struct fake *f, const char *id)
{
    json_t *ch = channel_get(f, id);

    if (id[0] == 'D')
        return "im";
    if (ch && json_is_true(json_object_get(ch, "is_private")))
        return "group";
    return "channel";
}

/* What the Web API shows of a channel record. New. */
static json_t *
channel_view(const json_t *ch)
{
    int im = json_is_true(json_object_get(ch, "is_im"));

    return json_pack(
        "{s:O,s:O,s:b,s:b,s:O,s:O,s:O,s:b,s:{s:O,s:s,s:i},"
        "s:{s:s,s:s,s:i},s:I}",
        "id", json_object_get(ch, "id"), "name", json_object_get(ch, "name"),
        "is_channel", !im, "is_im", im, "is_private",
        json_object_get(ch, "is_private"), "created",
        json_object_get(ch, "created"), "creator",
        json_object_get(ch, "creator"), "is_member", 1, "topic", "value",
        json_object_get(ch, "topic"), "creator", "", "last_set", 0,
        "purpose", "value", "", "creator", "", "last_set", 0, "num_members",
        (json_int_t)json_array_size(json_object_get(ch, "members")));
}

/* The channel's messages, ts ascending, created empty. Borrowed. */
static json_t *
channel_messages(struct fake *f, const char *id)
{
    json_t *a = json_object_get(f->messages, id);

    if (!a) {
        a = json_array();
        json_object_set_new(f->messages, id, a);
    }
    return a;
}

/* Newest messages are the likeliest targets, so search from the end. */
static json_t *
msg_find(const json_t *msgs, int64_t us, size_t *idx)
{
    size_t i = json_array_size(msgs);

    while (i--) {
        json_t *m = json_array_get(msgs, i);

        if (msg_ts(m) == us) {
            if (idx)
                *idx = i;
            return m;
        }
    }
    return NULL;
}

static int
is_reply(const json_t *msg)
{
    const char *t = arg_str(msg, "thread_ts");

    return t && strcmp(t, arg_str(msg, "ts"));
}

/* Slack keeps thread bookkeeping on the parent; so do we. */
static void
thread_attach(json_t *msgs, json_t *msg)
{
    const char *user = arg_str(msg, "user");
    int64_t pus, us = msg_ts(msg);
    json_t *parent, *users;
    const char *latest;
    int64_t lus = -1;

    if (!is_reply(msg) || ts_parse(arg_str(msg, "thread_ts"), &pus))
        return;
    parent = msg_find(msgs, pus, NULL);
    if (!parent)
        return;
    if (arg_str(parent, "user"))
        json_object_set(msg, "parent_user_id",
                        json_object_get(parent, "user"));
    json_object_set(parent, "thread_ts", json_object_get(parent, "ts"));
    json_object_set_new(
        parent, "reply_count",
        json_integer(arg_int(parent, "reply_count", 0) + 1));
    latest = arg_str(parent, "latest_reply");
    if (!latest || ts_parse(latest, &lus) || us > lus)
        json_object_set(parent, "latest_reply", json_object_get(msg, "ts"));
    users = json_object_get(parent, "reply_users");
    if (!users) {
        users = json_array();
        json_object_set_new(parent, "reply_users", users);
    }
    if (user && !members_has(users, user))
        json_array_append_new(users, json_string(user));
    json_object_set_new(parent, "reply_users_count",
                        json_integer((json_int_t)json_array_size(users)));
}

/* Inserts in ts order. Takes msg; returns it borrowed. */
static json_t *
msg_store(struct fake *f, const char *chid, json_t *msg)
{
    json_t *msgs = channel_messages(f, chid);
    int64_t us = msg_ts(msg);
    size_t i = json_array_size(msgs);

    while (i > 0 && msg_ts(json_array_get(msgs, i - 1)) > us)
        i--;
    json_array_insert_new(msgs, i, msg);
    thread_attach(msgs, msg);
    return msg;
}

/* A stored message as a `message` event (B2). New. */
static json_t *
message_event(struct fake *f, const char *chid, const json_t *msg)
{
    json_t *ev = json_deep_copy(msg);

    json_object_set_new(ev, "channel", json_string(chid));
    json_object_set_new(ev, "channel_type",
                        json_string(channel_type(f, chid)));
    json_object_set(ev, "event_ts", json_object_get(msg, "ts"));
    return ev;
}

static json_t *
reaction_find(const json_t *list, const char *name, size_t *idx)
{
    size_t i;
    json_t *r;

    json_array_foreach(list, i, r) {
        if (!strcmp(arg_str(r, "name"), name)) {
            *idx = i;
            return r;
        }
    }
    return NULL;
}

/* Keeps msg.reactions as history shows it: [{name, users, count}]. */
static void
reactions_update(json_t *msg, const char *name, const char *user,
                 int removed)
{
    json_t *list = json_object_get(msg, "reactions"), *r, *users;
    size_t ri = 0, ui = 0;

    r = reaction_find(list, name, &ri);
    if (removed) {
        users = json_object_get(r, "users");
        if (!string_index(users, user, &ui))
            return;
        json_array_remove(users, ui);
        if (json_array_size(users)) {
            json_object_set_new(
                r, "count", json_integer((json_int_t)json_array_size(users)));
            return;
        }
        json_array_remove(list, ri);
        if (!json_array_size(list))
            json_object_del(msg, "reactions");
        return;
    }
    if (!list) {
        list = json_array();
        json_object_set_new(msg, "reactions", list);
    }
    if (!r) {
        r = json_pack("{s:s,s:[],s:i}", "name", name, "users", "count", 0);
        json_array_append_new(list, r);
    }
    users = json_object_get(r, "users");
    if (!members_has(users, user)) {
        json_array_append_new(users, json_string(user));
        json_object_set_new(r, "count",
                            json_integer((json_int_t)json_array_size(users)));
    }
}

/* ------------------------------------------------------------- Web API */

static json_t *edit_event(struct fake *f, const char *chid, json_t *msg,
                          const char *text, json_t *blocks,
                          const char *editor);
static json_t *delete_event(struct fake *f, const char *chid, size_t idx);
static const struct envelope *react(struct fake *f, const char *chid,
                                    const char *ts, const char *user,
                                    const char *reaction, int removed,
                                    char *eid, size_t n);

/* Fills reply (which starts as {"ok":true}); returns NULL or a Slack error. */
typedef const char *api_fn(struct fake *f, json_t *args, json_t *reply);

static const char *
api_connections_open(struct fake *f, json_t *args, json_t *reply)
{
    char ticket[16], url[96];

    (void)args;
    snprintf(ticket, sizeof(ticket), "%u", ++f->next_ticket);
    json_object_set_new(f->tickets, ticket, json_true());
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/link/?ticket=%s", f->port,
             ticket);
    json_object_set_new(reply, "url", json_string(url));
    return NULL;
}

static const char *
api_auth_test(struct fake *f, json_t *args, json_t *reply)
{
    (void)f;
    (void)args;
    update_new(reply, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "url",
                                "https://fake.slack.test/", "team", "Fake",
                                "user", "pmbot", "team_id", TEAM_ID,
                                "user_id", BOT_USER, "bot_id", BOT_ID));
    return NULL;
}

static const char *
api_create(struct fake *f, json_t *args, json_t *reply)
{
    const char *name = arg_str(args, "name");
    size_t i, n, punct = 0;
    char id[16];

    if (!name || !*name)
        return "invalid_name_required";
    n = strlen(name);
    if (n > 80)
        return "invalid_name_maxlength";
    for (i = 0; i < n; i++) {
        char c = name[i];

        if (c == '-' || c == '_')
            punct++;
        else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return "invalid_name_specials";
    }
    if (punct == n)
        return "invalid_name_punctuation";
    if (channel_by_name(f, name))
        return "name_taken";
    do {
        snprintf(id, sizeof(id), "C%07u", ++f->next_channel);
    } while (channel_get(f, id));
    json_object_set_new(
        reply, "channel",
        channel_view(channel_add(f, id, name,
                                 arg_bool(args, "is_private", 0), 0)));
    return NULL;
}

static const char *
api_invite(struct fake *f, json_t *args, json_t *reply)
{
    const char *id = arg_str(args, "channel");
    json_t *ch = id ? channel_get(f, id) : NULL;
    const char *users = arg_str(args, "users");
    json_t *members, *list = json_array();
    size_t i, added = 0;
    const char *p;
    json_t *u;

    if (!ch) {
        json_decref(list);
        return "channel_not_found";
    }
    for (p = users; p && *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);

        while (n && *p == ' ') {
            p++;
            n--;
        }
        while (n && p[n - 1] == ' ')
            n--;
        if (n)
            json_array_append_new(list, json_stringn(p, n));
        p = end ? end + 1 : p + n;
    }
    json_array_foreach(list, i, u) {
        if (!strcmp(json_string_value(u), BOT_USER)) {
            json_decref(list);
            return "cant_invite_self";
        }
    }
    if (!json_array_size(list)) {
        json_decref(list);
        return "no_user";
    }
    members = json_object_get(ch, "members");
    json_array_foreach(list, i, u) {
        if (!members_has(members, json_string_value(u))) {
            json_array_append(members, u);
            added++;
        }
    }
    json_decref(list);
    if (!added)
        return "already_in_channel";
    json_object_set_new(reply, "channel", channel_view(ch));
    return NULL;
}

static const char *
api_set_topic(struct fake *f, json_t *args, json_t *reply)
{
    const char *id = arg_str(args, "channel");
    json_t *ch = id ? channel_get(f, id) : NULL;
    const char *topic = arg_str(args, "topic");
    size_t chars = 0;
    const char *p;
    char ts[32];
    json_t *msg;

    if (!ch)
        return "channel_not_found";
    if (!topic)
        topic = "";
    for (p = topic; *p; p++)
        if (((unsigned char)*p & 0xc0) != 0x80)
            chars++;
    if (chars > 250)
        return "too_long";
    json_object_set_new(ch, "topic", json_string(topic));
    /* Slack records the change as a channel_topic message (C1) */
    fresh_ts(f, ts, sizeof(ts));
    msg = json_pack("{s:s,s:s,s:s,s:o,s:s,s:s}", "type", "message",
                    "subtype", "channel_topic", "user", BOT_USER, "text",
                    json_sprintf("set the channel topic: %s", topic),
                    "topic", topic, "ts", ts);
    msg = msg_store(f, id, msg);
    send_event(f, message_event(f, id, msg), NULL, 0);
    json_object_set_new(reply, "channel", channel_view(ch));
    return NULL;
}

static const char *
api_post_message(struct fake *f, json_t *args, json_t *reply)
{
    json_t *ch = channel_resolve(f, arg_str(args, "channel"), 1);
    const char *text = arg_str(args, "text");
    const char *thread = arg_str(args, "thread_ts");
    json_t *blocks = NULL, *msg;
    const char *id;
    int64_t us;
    char ts[32];

    if (!ch)
        return "channel_not_found";
    id = arg_str(ch, "id");
    if (json_object_get(args, "blocks")) {
        blocks = arg_json(args, "blocks");
        if (!json_is_array(blocks)) {
            json_decref(blocks);
            return "invalid_blocks";
        }
    }
    if ((!text || !*text) && !json_array_size(blocks)) {
        json_decref(blocks);
        return "no_text";
    }
    if (thread && *thread && ts_parse(thread, &us)) {
        json_decref(blocks);
        return "invalid_thread_ts";
    }
    fresh_ts(f, ts, sizeof(ts));
    msg = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type", "message",
                    "user", BOT_USER, "bot_id", BOT_ID, "app_id", APP_ID,
                    "text", text ? text : "", "ts", ts, "team", TEAM_ID);
    if (blocks)
        json_object_set_new(msg, "blocks", blocks);
    if (thread && *thread)
        json_object_set_new(msg, "thread_ts", json_string(thread));
    if (json_object_get(args, "metadata")) {
        json_t *meta = arg_json(args, "metadata");

        if (!json_is_object(meta) ||
            !json_is_string(json_object_get(meta, "event_type")) ||
            !json_is_object(json_object_get(meta, "event_payload"))) {
            json_decref(meta);
            json_decref(msg);
            return "invalid_metadata_format";
        }
        json_object_set_new(msg, "metadata", meta);
    }
    msg = msg_store(f, id, msg);
    json_object_set_new(reply, "channel", json_string(id));
    json_object_set_new(reply, "ts", json_string(ts));
    json_object_set_new(reply, "message", json_deep_copy(msg));
    /* real Slack echoes the bot's own post; pmbot must ignore it */
    send_event(f, message_event(f, id, msg), NULL, 0);
    return NULL;
}

/* find_target - the message ts in ch, for chat.update/delete and
 * reactions.add (borrowed; *idx its place), or the Slack error in *err */
static json_t *
find_target(struct fake *f, json_t *ch, const char *ts, size_t *idx,
            const char **err)
{
    json_t *m;
    int64_t us;

    *err = NULL;
    if (!ch) {
        *err = "channel_not_found";
        return NULL;
    }
    if (!ts || !*ts) {
        *err = "no_item_specified";
        return NULL;
    }
    m = ts_parse(ts, &us) ? NULL
                          : msg_find(json_object_get(f->messages,
                                                     arg_str(ch, "id")),
                                     us, idx);
    if (!m)
        *err = "message_not_found";
    return m;
}

static int
by_bot(const json_t *msg)
{
    const char *u = arg_str(msg, "user");

    return u && !strcmp(u, BOT_USER);
}

static const char *
api_post_ephemeral(struct fake *f, json_t *args, json_t *reply)
{
    json_t *ch = channel_resolve(f, arg_str(args, "channel"), 0);
    const char *user = arg_str(args, "user"), *text = arg_str(args, "text");
    const char *thread = arg_str(args, "thread_ts");
    json_t *members, *rec;
    char ts[32];
    int64_t us;

    if (!ch)
        return "channel_not_found";
    if (!user || !*user)
        return "user_not_found";
    members = json_object_get(ch, "members");
    if (json_array_size(members) && !members_has(members, user))
        return "user_not_in_channel";
    if ((!text || !*text) && !json_array_size(json_object_get(args, "blocks")))
        return "no_text";
    if (thread && *thread && ts_parse(thread, &us))
        return "invalid_thread_ts";
    fresh_ts(f, ts, sizeof(ts));
    rec = json_pack("{s:s,s:s,s:s,s:s,s:I}", "channel", arg_str(ch, "id"),
                    "user", user, "text", text ? text : "", "message_ts", ts,
                    "t", (json_int_t)since_start_ms(f));
    if (thread && *thread)
        json_object_set_new(rec, "thread_ts", json_string(thread));
    json_array_append_new(f->ephemerals, rec);
    json_object_set_new(reply, "message_ts", json_string(ts));
    return NULL;
}

static const char *
api_chat_update(struct fake *f, json_t *args, json_t *reply)
{
    json_t *ch = channel_resolve(f, arg_str(args, "channel"), 0);
    const char *ts = arg_str(args, "ts"), *text = arg_str(args, "text");
    const char *err, *chid;
    json_t *msg = find_target(f, ch, ts, NULL, &err), *blocks = NULL;

    if (!msg)
        return err;
    if (!by_bot(msg))
        return "cant_update_message";
    if (json_object_get(args, "blocks")) {
        blocks = arg_json(args, "blocks");
        if (!json_is_array(blocks)) {
            json_decref(blocks);
            return "invalid_blocks";
        }
    }
    if ((!text || !*text) && !json_array_size(blocks)) {
        json_decref(blocks);
        return "no_text";
    }
    chid = arg_str(ch, "id");
    /* Slack tells the channel, the bot included */
    send_event(f, edit_event(f, chid, msg, text, blocks, BOT_USER), NULL, 0);
    json_object_set_new(reply, "channel", json_string(chid));
    json_object_set_new(reply, "ts", json_string(ts));
    json_object_set_new(reply, "text", json_string(text ? text : ""));
    json_object_set_new(reply, "message", json_deep_copy(msg));
    return NULL;
}

static const char *
api_chat_delete(struct fake *f, json_t *args, json_t *reply)
{
    json_t *ch = channel_resolve(f, arg_str(args, "channel"), 0);
    const char *ts = arg_str(args, "ts"), *err, *chid;
    size_t idx = 0;

    if (!find_target(f, ch, ts, &idx, &err))
        return err;
    if (!by_bot(json_array_get(
            json_object_get(f->messages, arg_str(ch, "id")), idx)))
        return "cant_delete_message";
    chid = arg_str(ch, "id");
    json_object_set_new(reply, "channel", json_string(chid));
    json_object_set_new(reply, "ts", json_string(ts));
    send_event(f, delete_event(f, chid, idx), NULL, 0);
    return NULL;
}

static const char *
api_reactions_add(struct fake *f, json_t *args, json_t *reply)
{
    json_t *ch = channel_resolve(f, arg_str(args, "channel"), 0);
    const char *ts = arg_str(args, "timestamp"), *name = arg_str(args, "name");
    const char *err;
    json_t *msg = find_target(f, ch, ts, NULL, &err), *r;
    size_t i;

    (void)reply;
    if (!msg)
        return err;
    if (!name || !*name || strchr(name, ':'))
        return "invalid_name";
    json_array_foreach(json_object_get(msg, "reactions"), i, r) {
        if (!strcmp(arg_str(r, "name"), name) &&
            members_has(json_object_get(r, "users"), BOT_USER))
            return "already_reacted";
    }
    react(f, arg_str(ch, "id"), ts, BOT_USER, name, 0, NULL, 0);
    return NULL;
}

static const char *
api_pins_add(struct fake *f, json_t *args, json_t *reply)
{
    json_t *ch = channel_resolve(f, arg_str(args, "channel"), 0);
    const char *ts = arg_str(args, "timestamp");
    json_t *pins;
    int64_t us;
    size_t i;
    json_t *p;

    (void)reply;
    if (!ch)
        return "channel_not_found";
    if (!ts || !*ts)
        return "no_item_specified";
    if (ts_parse(ts, &us) ||
        !msg_find(json_object_get(f->messages, arg_str(ch, "id")), us, NULL))
        return "message_not_found";
    pins = json_object_get(ch, "pins");
    json_array_foreach(pins, i, p) {
        if (!strcmp(json_string_value(p), ts))
            return "already_pinned";
    }
    json_array_append_new(pins, json_string(ts));
    return NULL;
}

static const char *
api_conversations_open(struct fake *f, json_t *args, json_t *reply)
{
    const char *users = arg_str(args, "users");
    const char *chan = arg_str(args, "channel");
    char dm[80];
    size_t n;

    if (chan && *chan) {
        if (!channel_resolve(f, chan, 0))
            return "channel_not_found";
        json_object_set_new(reply, "channel", json_pack("{s:s}", "id", chan));
        return NULL;
    }
    if (!users || !*users)
        return "users_list_not_supplied";
    /* one DM per first user; multi-party DMs are not modelled */
    n = strcspn(users, ",");
    snprintf(dm, sizeof(dm), "D%.*s", (int)n, users);
    dm_ensure(f, dm);
    json_object_set_new(reply, "channel", json_pack("{s:s}", "id", dm));
    return NULL;
}

/* Top-level messages only: no thread replies (C1). */
static int
in_history(const json_t *m)
{
    return !is_reply(m);
}

static const char *
api_history(struct fake *f, json_t *args, json_t *reply)
{
    json_t *ch = channel_resolve(f, arg_str(args, "channel"), 0);
    const char *latest = arg_str(args, "latest");
    const char *oldest = arg_str(args, "oldest");
    const char *cursor = arg_str(args, "cursor");
    int incl = arg_bool(args, "inclusive", 0), incl_latest = incl;
    int meta = arg_bool(args, "include_all_metadata", 0);
    long long limit = arg_int(args, "limit", 100);
    int64_t lat = INT64_MAX, old = -1, us;
    json_t *msgs, *out = json_array(), *m;
    int has_more = 0, from_oldest;
    size_t i, n;

    if (!ch) {
        json_decref(out);
        return "channel_not_found";
    }
    if (latest && *latest && ts_parse(latest, &lat)) {
        json_decref(out);
        return "invalid_ts_latest";
    }
    if (oldest && *oldest && ts_parse(oldest, &old)) {
        json_decref(out);
        return "invalid_ts_oldest";
    }
    /* our cursors are "next_ts:<ts>": continue below that ts */
    if (cursor && !strncmp(cursor, "next_ts:", 8) &&
        !ts_parse(cursor + 8, &lat))
        incl_latest = 0;
    if (limit <= 0 || limit > 999)
        limit = limit <= 0 ? 100 : 999;
    /*
     * Slack pages from the oldest end when only `oldest` is given, so
     * oldest=X&inclusive=1&limit=1 returns X or the next newer message;
     * otherwise from latest downwards, so latest=X&inclusive=1&limit=1
     * returns X or the next OLDER message (C1).
     */
    from_oldest = old > 0 && lat == INT64_MAX;
    msgs = json_object_get(f->messages, arg_str(ch, "id"));
    n = json_array_size(msgs);
    i = 0;
    if (!from_oldest && lat != INT64_MAX) {
        /* messages are kept in ts order: skip those newer than latest by
         * bisection (the benchmark asks for old messages of long channels) */
        size_t lo = 0, hi = n;

        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;

            if (msg_ts(json_array_get(msgs, mid)) <= lat)
                lo = mid + 1;
            else
                hi = mid;
        }
        i = n - lo;
    }
    for (; i < n; i++) {
        m = json_array_get(msgs, from_oldest ? i : n - 1 - i);
        us = msg_ts(m);
        if (!from_oldest && us < old)
            break; /* kept in ts order: the rest is older still */
        if (!in_history(m) || us > lat || (us == lat && !incl_latest) ||
            us < old || (us == old && !incl))
            continue;
        if ((long long)json_array_size(out) == limit) {
            has_more = 1;
            break;
        }
        /* like Slack, metadata only to those who ask for it */
        if (!meta && json_object_get(m, "metadata")) {
            json_t *bare = json_copy(m);

            json_object_del(bare, "metadata");
            json_array_append_new(out, bare);
        } else {
            json_array_append(out, m);
        }
    }
    if (from_oldest) {
        json_t *rev = json_array();

        for (i = json_array_size(out); i-- > 0;)
            json_array_append(rev, json_array_get(out, i));
        json_decref(out);
        out = rev;
    }
    json_object_set_new(reply, "messages", out);
    json_object_set_new(reply, "has_more", json_boolean(has_more));
    json_object_set_new(
        reply, "pin_count",
        json_integer((json_int_t)json_array_size(json_object_get(ch, "pins"))));
    if (has_more && !from_oldest) {
        m = json_array_get(out, json_array_size(out) - 1);
        json_object_set_new(
            reply, "response_metadata",
            json_pack("{s:s+}", "next_cursor", "next_ts:", arg_str(m, "ts")));
    } else {
        json_object_set_new(reply, "response_metadata",
                            json_pack("{s:s}", "next_cursor", ""));
    }
    return NULL;
}

static const char *
api_replies(struct fake *f, json_t *args, json_t *reply)
{
    json_t *ch = channel_resolve(f, arg_str(args, "channel"), 0);
    long long limit = arg_int(args, "limit", 1000);
    int meta = arg_bool(args, "include_all_metadata", 0);
    json_t *msgs, *m, *out;
    const char *parent_ts;
    int64_t us, pus;
    int has_more = 0;
    size_t i;

    if (!ch)
        return "channel_not_found";
    msgs = json_object_get(f->messages, arg_str(ch, "id"));
    if (ts_parse(arg_str(args, "ts"), &us))
        return "thread_not_found";
    m = msg_find(msgs, us, NULL);
    if (!m)
        return "thread_not_found";
    /* a reply's ts stands for its whole thread, parent first */
    parent_ts = is_reply(m) ? arg_str(m, "thread_ts") : arg_str(m, "ts");
    if (ts_parse(parent_ts, &pus))
        return "thread_not_found";
    if (limit <= 0)
        limit = 1000;
    out = json_array();
    json_array_foreach(msgs, i, m) {
        const char *t = arg_str(m, "thread_ts");

        if (msg_ts(m) != pus && !(t && !strcmp(t, parent_ts)))
            continue;
        if ((long long)json_array_size(out) == limit) {
            has_more = 1;
            break;
        }
        if (!meta && json_object_get(m, "metadata")) {
            json_t *bare = json_copy(m);

            json_object_del(bare, "metadata");
            json_array_append_new(out, bare);
        } else {
            json_array_append(out, m);
        }
    }
    json_object_set_new(reply, "messages", out);
    json_object_set_new(reply, "has_more", json_boolean(has_more));
    return NULL;
}

static const char *
api_upload_url(struct fake *f, json_t *args, json_t *reply)
{
    const char *filename = arg_str(args, "filename");
    long long length = arg_int(args, "length", -1);
    unsigned n;
    char id[24], url[96];

    if (!filename || !*filename || length <= 0)
        return "invalid_arguments";
    n = ++f->next_file;
    snprintf(id, sizeof(id), "F%u", n);
    json_object_set_new(f->uploads, id,
                        json_pack("{s:s,s:s,s:I,s:b,s:b}", "id", id,
                                  "filename", filename, "length",
                                  (json_int_t)length, "received", 0,
                                  "completed", 0));
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/upload/%u", f->port, n);
    json_object_set_new(reply, "upload_url", json_string(url));
    json_object_set_new(reply, "file_id", json_string(id));
    return NULL;
}

static const char *
api_upload_complete(struct fake *f, json_t *args, json_t *reply)
{
    json_t *files = arg_json(args, "files"), *item, *done;
    const char *chan = arg_str(args, "channel_id");
    json_t *ch = NULL;
    size_t i;

    if (!json_is_array(files) || !json_array_size(files)) {
        json_decref(files);
        return "invalid_arguments";
    }
    if (chan && *chan) {
        ch = channel_resolve(f, chan, 0);
        if (!ch) {
            json_decref(files);
            return "channel_not_found";
        }
    }
    /* check everything first so a failed call changes nothing */
    json_array_foreach(files, i, item) {
        const char *id = arg_str(item, "id");
        json_t *up = id ? json_object_get(f->uploads, id) : NULL;

        if (!up || !arg_bool(up, "received", 0) ||
            arg_bool(up, "completed", 0)) {
            json_decref(files);
            return "file_not_found";
        }
    }
    done = json_array();
    json_array_foreach(files, i, item) {
        json_t *up = json_object_get(f->uploads, arg_str(item, "id"));
        json_t *rec = json_deep_copy(up);
        const char *title = arg_str(item, "title");

        json_object_set_new(up, "completed", json_true());
        json_object_del(rec, "received");
        json_object_del(rec, "completed");
        json_object_set_new(rec, "title",
                            json_string(title ? title
                                              : arg_str(up, "filename")));
        json_object_set(rec, "channel",
                        ch ? json_object_get(ch, "id") : json_null());
        if (json_object_get(args, "thread_ts"))
            json_object_set(rec, "thread_ts",
                            json_object_get(args, "thread_ts"));
        if (json_object_get(args, "initial_comment"))
            json_object_set(rec, "initial_comment",
                            json_object_get(args, "initial_comment"));
        json_object_set_new(rec, "t", json_integer(since_start_ms(f)));
        json_array_append_new(f->files, rec);
        json_array_append_new(done,
                              json_pack("{s:O,s:O}", "id",
                                        json_object_get(rec, "id"), "title",
                                        json_object_get(rec, "title")));
    }
    json_decref(files);
    json_object_set_new(reply, "files", done);
    return NULL;
}

static const char *
api_users_info(struct fake *f, json_t *args, json_t *reply)
{
    const char *id = arg_str(args, "user");
    char name[96];
    json_t *u;

    if (!id || !*id)
        return "user_not_found";
    if (!strcmp(id, BOT_USER))
        snprintf(name, sizeof(name), "pmbot");
    else
        lower_copy(id, name, sizeof(name));
    u = json_pack("{s:s,s:s,s:s,s:b,s:b,s:s,s:s,s:i,s:{s:s,s:s}}", "id", id,
                  "name", name, "real_name", name, "deleted", 0, "is_bot",
                  !strcmp(id, BOT_USER), "tz", "UTC", "tz_label",
                  "Coordinated Universal Time", "tz_offset", 0, "profile",
                  "real_name", name, "display_name", name);
    json_object_update(u, json_object_get(f->users, id));
    json_object_set_new(reply, "user", u);
    return NULL;
}

static const struct api_method {
    const char *name;
    int app_token; /* needs the xapp- token, not the bot token */
    api_fn *fn;
} api_methods[] = {
    {"apps.connections.open", 1, api_connections_open},
    {"auth.test", 0, api_auth_test},
    {"conversations.create", 0, api_create},
    {"conversations.invite", 0, api_invite},
    {"conversations.setTopic", 0, api_set_topic},
    {"chat.postMessage", 0, api_post_message},
    {"chat.postEphemeral", 0, api_post_ephemeral},
    {"chat.update", 0, api_chat_update},
    {"chat.delete", 0, api_chat_delete},
    {"reactions.add", 0, api_reactions_add},
    {"pins.add", 0, api_pins_add},
    {"conversations.open", 0, api_conversations_open},
    {"conversations.history", 0, api_history},
    {"conversations.replies", 0, api_replies},
    {"files.getUploadURLExternal", 0, api_upload_url},
    {"files.completeUploadExternal", 0, api_upload_complete},
    {"users.info", 0, api_users_info},
};

/* ------------------------------------------------------- HTTP responses */

static void
req_reset(struct http_req *r)
{
    free(r->auth);
    json_decref(r->query);
    bytes_free(&r->body);
    free(r->resp);
    memset(r, 0, sizeof(*r));
}

/* Takes buf (LWS_PRE headroom, then len bytes). */
static void
respond_buf(struct http_req *r, int status, const char *ctype, char *buf,
            size_t len)
{
    free(r->resp);
    r->resp = buf;
    r->resp_len = len;
    r->resp_off = 0;
    r->status = status;
    r->ctype = ctype;
    r->responding = 1;
}

static void
respond_text(struct http_req *r, int status, const char *ctype,
             const char *text)
{
    size_t len = strlen(text);
    char *buf = malloc(LWS_PRE + len + 1);

    if (buf)
        memcpy(buf + LWS_PRE, text, len + 1);
    respond_buf(r, status, ctype, buf, buf ? len : 0);
}

/* Takes j. */
static void
respond_json(struct http_req *r, int status, json_t *j)
{
    size_t len = 0;
    char *buf = j ? dump_pre(j, &len) : NULL;

    json_decref(j);
    if (!buf) {
        respond_text(r, 500, "application/json",
                     "{\"ok\":false,\"error\":\"internal_error\"}");
        return;
    }
    respond_buf(r, status, "application/json; charset=utf-8", buf, len);
}

static void
respond_error(struct http_req *r, int status, const char *error)
{
    respond_json(r, status,
                 json_pack("{s:b,s:s}", "ok", 0, "error", error));
}

/* Query arguments plus the body (form or JSON); new, never NULL. */
static json_t *
request_args(struct http_req *r, const char **err)
{
    json_t *args = r->query ? json_copy(r->query) : json_object();
    json_t *b;

    if (!r->body.len)
        return args;
    if (!r->is_json) {
        form_decode(r->body.p, r->body.len, args);
        return args;
    }
    b = json_loadb(r->body.p, r->body.len, 0, NULL);
    if (!b)
        *err = "invalid_json";
    else if (!json_is_object(b))
        *err = "json_not_object";
    else
        json_object_update(args, b);
    json_decref(b);
    return args;
}

static const char *
check_auth(const struct fake *f, const struct http_req *r, int app)
{
    const char *want = app ? f->app_token : f->bot_token;

    if (!r->auth || !*r->auth)
        return "not_authed";
    if (strncasecmp(r->auth, "Bearer ", 7) || strcmp(r->auth + 7, want))
        return "invalid_auth";
    return NULL;
}

/* forced_error - the error /_control/fail armed for this call, if any. It
 * points into f->failures, which only a later control call changes. */
static const char *
forced_error(struct fake *f, const char *method, const json_t *args)
{
    json_t *k = json_object_get(f->failures, method);
    const char *chan = arg_str(k, "channel"), *want;
    long long count = arg_int(k, "count", 0);

    if (count <= 0)
        return NULL;
    want = arg_str(args, "channel");
    if (chan && (!want || strcmp(chan, want)))
        return NULL;
    json_object_set_new(k, "count", json_integer(count - 1));
    return arg_str(k, "error");
}

static void
api_call(struct fake *f, struct http_req *r, const char *method)
{
    const char *err = NULL;
    json_t *args = request_args(r, &err);
    json_t *entry, *rl, *reply = NULL;
    const struct api_method *m = NULL;
    size_t i;

    entry = json_pack("{s:s,s:I,s:I,s:o}", "method", method, "t", r->t_ms,
                      "t_us", (json_int_t)r->t_us,
                      "args", args);
    json_array_append_new(f->calls, entry);

    /* /_control/delay: the answer is decided now and written later */
    rl = json_object_get(f->delays, method);
    if (arg_int(rl, "count", 0) > 0) {
        json_object_set_new(rl, "count",
                            json_integer(arg_int(rl, "count", 0) - 1));
        r->hold_until_us =
            clock_us(CLOCK_MONOTONIC) + arg_int(rl, "ms", 0) * 1000;
        json_object_set_new(entry, "delayed_ms",
                            json_integer(arg_int(rl, "ms", 0)));
    }
    rl = json_object_get(f->ratelimits, method);
    if (arg_int(rl, "count", 0) > 0) {
        json_object_set_new(rl, "count",
                            json_integer(arg_int(rl, "count", 0) - 1));
        update_new(entry, json_pack("{s:i,s:b,s:s}", "status", 429, "ok", 0,
                                    "error", "ratelimited"));
        r->retry_after = (int)arg_int(rl, "retry_after", 1);
        respond_error(r, 429, "ratelimited");
        return;
    }
    for (i = 0; i < LWS_ARRAY_SIZE(api_methods); i++)
        if (!strcmp(api_methods[i].name, method))
            m = &api_methods[i];
    if (!err && !m)
        err = "unknown_method";
    if (!err)
        err = check_auth(f, r, m->app_token);
    if (!err)
        err = forced_error(f, method, args);
    if (!err) {
        reply = json_pack("{s:b}", "ok", 1);
        err = m->fn(f, args, reply);
    }
    if (err) {
        json_decref(reply);
        reply = json_pack("{s:b,s:s}", "ok", 0, "error", err);
    }
    json_object_set_new(entry, "status", json_integer(200));
    json_object_set_new(entry, "ok", json_boolean(!err));
    if (err)
        json_object_set_new(entry, "error", json_string(err));
    respond_json(r, 200, reply);
}

/* ---------------------------------------------------------- control API */

/* Like api_fn; an error becomes HTTP 400 {"ok":false,"error":...}. */
typedef const char *ctl_fn(struct fake *f, json_t *a, json_t *reply);

static const char *
ctl_message(struct fake *f, json_t *a, json_t *reply)
{
    const char *chid = arg_str(a, "channel"), *user = arg_str(a, "user");
    const char *text = arg_str(a, "text"), *ts = arg_str(a, "ts");
    const char *thread = arg_str(a, "thread_ts");
    char tsbuf[32], cm[32], eid[32];
    static const char *const passthrough[] = {"blocks", "bot_id", "subtype",
                                              "files", "metadata"};
    const struct envelope *e;
    json_t *msg;
    int64_t us;
    size_t i;

    if (!chid || !*chid)
        return "channel_required";
    channel_for_control(f, chid);
    if (ts && *ts) {
        if (ts_parse(ts, &us))
            return "invalid_ts";
        if (msg_find(json_object_get(f->messages, chid), us, NULL))
            return "ts_taken";
        if (us > f->last_ts_us)
            f->last_ts_us = us;
        ts_format(us, tsbuf, sizeof(tsbuf));
    } else {
        fresh_ts(f, tsbuf, sizeof(tsbuf));
    }
    if (thread && *thread && ts_parse(thread, &us))
        return "invalid_thread_ts";
    snprintf(cm, sizeof(cm), "cm-%u", ++f->next_msg);
    msg = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", "message", "user",
                    user ? user : "U0USER", "text", text ? text : "", "ts",
                    tsbuf, "team", TEAM_ID, "client_msg_id", cm);
    if (thread && *thread)
        json_object_set_new(msg, "thread_ts", json_string(thread));
    /* optional fields passed through: blocks, another app's bot_id, ... */
    for (i = 0; i < LWS_ARRAY_SIZE(passthrough); i++)
        if (json_object_get(a, passthrough[i]))
            json_object_set(msg, passthrough[i],
                            json_object_get(a, passthrough[i]));
    msg = msg_store(f, chid, msg);
    json_object_set_new(reply, "ts", json_string(tsbuf));
    if (arg_bool(a, "deliver", 1)) {
        json_t *ev = message_event(f, chid, msg);

        if (arg_str(a, "channel_type"))
            json_object_set(ev, "channel_type",
                            json_object_get(a, "channel_type"));
        e = send_event(f, ev, eid, sizeof(eid));
        reply_event(reply, e, eid);
    }
    return NULL;
}

static json_t *
ctl_find(struct fake *f, json_t *a, size_t *idx, const char **err)
{
    const char *chid = arg_str(a, "channel");
    json_t *m;
    int64_t us;

    if (!chid || ts_parse(arg_str(a, "ts"), &us)) {
        *err = "channel_and_ts_required";
        return NULL;
    }
    m = msg_find(json_object_get(f->messages, chid), us, idx);
    if (!m)
        *err = "message_not_found";
    return m;
}

/* edit_event - msg (in chid) gets text (and blocks, taken, when not
 * NULL), edited by editor; the message_changed event (new) */
static json_t *
edit_event(struct fake *f, const char *chid, json_t *msg, const char *text,
           json_t *blocks, const char *editor)
{
    json_t *prev = json_deep_copy(msg);
    char ts[32];

    fresh_ts(f, ts, sizeof(ts));
    json_object_set_new(msg, "text", json_string(text ? text : ""));
    if (blocks)
        json_object_set_new(msg, "blocks", blocks);
    json_object_set_new(msg, "edited",
                        json_pack("{s:s,s:s}", "user", editor, "ts", ts));
    /* the event carries a snapshot, not our live record */
    return json_pack("{s:s,s:s,s:b,s:s,s:s,s:s,s:s,s:o,s:o}", "type",
                     "message", "subtype", "message_changed", "hidden", 1,
                     "channel", chid, "channel_type", channel_type(f, chid),
                     "ts", ts, "event_ts", ts, "message", json_deep_copy(msg),
                     "previous_message", prev);
}

/* delete_event - the message at idx of chid goes (and its pin); the
 * message_deleted event (new) */
static json_t *
delete_event(struct fake *f, const char *chid, size_t idx)
{
    json_t *msgs = json_object_get(f->messages, chid);
    json_t *msg = json_incref(json_array_get(msgs, idx));
    json_t *ch, *pins, *p, *parent;
    char ts[32];
    size_t i;
    int64_t pus;

    json_array_remove(msgs, idx);
    ch = channel_get(f, chid);
    pins = json_object_get(ch, "pins");
    json_array_foreach(pins, i, p) {
        if (!strcmp(json_string_value(p), arg_str(msg, "ts"))) {
            json_array_remove(pins, i);
            break;
        }
    }
    if (is_reply(msg) && !ts_parse(arg_str(msg, "thread_ts"), &pus)) {
        parent = msg_find(msgs, pus, NULL);
        if (parent)
            json_object_set_new(
                parent, "reply_count",
                json_integer(arg_int(parent, "reply_count", 1) - 1));
    }
    fresh_ts(f, ts, sizeof(ts));
    return json_pack("{s:s,s:s,s:b,s:s,s:s,s:s,s:s,s:O,s:o}", "type",
                     "message", "subtype", "message_deleted", "hidden", 1,
                     "channel", chid, "channel_type", channel_type(f, chid),
                     "ts", ts, "event_ts", ts, "deleted_ts",
                     json_object_get(msg, "ts"), "previous_message", msg);
}

static const char *
ctl_edit(struct fake *f, json_t *a, json_t *reply)
{
    const char *err = NULL, *chid = arg_str(a, "channel");
    json_t *msg = ctl_find(f, a, NULL, &err), *ev;
    const struct envelope *e;
    char eid[32];

    if (!msg)
        return err;
    ev = edit_event(f, chid, msg, arg_str(a, "text"), NULL,
                    arg_str(msg, "user") ? arg_str(msg, "user") : "U0USER");
    if (arg_bool(a, "deliver", 1)) {
        e = send_event(f, ev, eid, sizeof(eid));
        reply_event(reply, e, eid);
    } else {
        json_decref(ev);
    }
    return NULL;
}

static const char *
ctl_delete(struct fake *f, json_t *a, json_t *reply)
{
    const char *err = NULL, *chid = arg_str(a, "channel");
    const struct envelope *e;
    size_t idx = 0;
    json_t *ev;
    char eid[32];

    if (!ctl_find(f, a, &idx, &err))
        return err;
    ev = delete_event(f, chid, idx);
    if (arg_bool(a, "deliver", 1)) {
        e = send_event(f, ev, eid, sizeof(eid));
        reply_event(reply, e, eid);
    } else {
        json_decref(ev);
    }
    return NULL;
}

/* One reaction event; stores the reaction on the message if it exists. */
static const struct envelope *
react(struct fake *f, const char *chid, const char *ts, const char *user,
      const char *reaction, int removed, char *eid, size_t n)
{
    json_t *msg = NULL, *ev;
    char ets[32];
    int64_t us;

    if (!ts_parse(ts, &us))
        msg = msg_find(json_object_get(f->messages, chid), us, NULL);
    if (msg)
        reactions_update(msg, reaction, user, removed);
    fresh_ts(f, ets, sizeof(ets));
    ev = json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:s},s:s}", "type",
                   removed ? "reaction_removed" : "reaction_added", "user",
                   user, "reaction", reaction, "item", "type", "message",
                   "channel", chid, "ts", ts, "event_ts", ets);
    /* B3: item_user is absent when no user wrote the message */
    if (msg && json_object_get(msg, "user"))
        json_object_set(ev, "item_user", json_object_get(msg, "user"));
    return send_event(f, ev, eid, n);
}

static const char *
ctl_reaction(struct fake *f, json_t *a, json_t *reply)
{
    const char *chid = arg_str(a, "channel"), *ts = arg_str(a, "ts");
    const char *user = arg_str(a, "user"), *name = arg_str(a, "reaction");
    const struct envelope *e;
    char eid[32];

    if (!chid || !ts || !user || !name)
        return "channel_ts_user_reaction_required";
    channel_for_control(f, chid);
    e = react(f, chid, ts, user, name, arg_bool(a, "removed", 0), eid,
              sizeof(eid));
    reply_event(reply, e, eid);
    return NULL;
}

/* Event i of a bulk run: cycles through ts_list. */
static const struct envelope *
bulk_emit(struct fake *f, const json_t *a, long long i)
{
    const json_t *list = json_object_get(a, "ts_list");
    char eid[32];

    return react(f, arg_str(a, "channel"),
                 json_string_value(json_array_get(
                     list, (size_t)i % json_array_size(list))),
                 arg_str(a, "user"), arg_str(a, "reaction"), 0, eid,
                 sizeof(eid));
}

static void bulk_cb(lws_sorted_usec_list_t *sul);

/* Sends what is due by now, then sleeps on the sul until the next one. */
static void
bulk_step(struct fake *f)
{
    struct bulk *b = &f->bulk;
    int64_t now = clock_us(CLOCK_MONOTONIC);
    long long due = 1 + (now - b->t0_us) * b->per_second / 1000000;
    int64_t next;

    if (due > b->count)
        due = b->count;
    while (b->sent < due)
        bulk_emit(f, b->args, b->sent++);
    if (b->sent == b->count) {
        json_decref(b->args);
        b->args = NULL;
        return;
    }
    next = b->t0_us + b->sent * 1000000 / b->per_second - now;
    lws_sul_schedule(f->ctx, 0, &b->sul, bulk_cb, next < 1 ? 1 : next);
}

static void
bulk_cb(lws_sorted_usec_list_t *sul)
{
    struct bulk *b = lws_container_of(sul, struct bulk, sul);
    struct fake *f = lws_container_of(b, struct fake, bulk);

    bulk_step(f);
}

static const char *
ctl_reactions(struct fake *f, json_t *a, json_t *reply)
{
    const char *chid = arg_str(a, "channel"), *user = arg_str(a, "user");
    const char *name = arg_str(a, "reaction");
    json_t *list = json_object_get(a, "ts_list");
    size_t nts = json_array_size(list);
    long long i, count = arg_int(a, "count", (long long)nts);
    long long per_second = arg_int(a, "per_second", 0);
    const struct envelope *e = NULL;

    if (!chid || !user || !name || !nts)
        return "channel_ts_list_user_reaction_required";
    for (i = 0; i < (long long)nts; i++)
        if (!json_is_string(json_array_get(list, (size_t)i)))
            return "ts_list_not_strings";
    if (per_second > 0 && f->bulk.args)
        return "bulk_busy";
    channel_for_control(f, chid);
    if (count <= 0)
        count = 0;
    if (per_second > 0 && count > 0) {
        /* paced by an lws timer: the first event now, the rest when due */
        f->bulk.args = json_incref(a);
        f->bulk.count = count;
        f->bulk.sent = 0;
        f->bulk.per_second = per_second;
        f->bulk.t0_us = clock_us(CLOCK_MONOTONIC);
        e = bulk_emit(f, a, f->bulk.sent++);
        bulk_step(f);
    } else {
        for (i = 0; i < count; i++) {
            const struct envelope *x = bulk_emit(f, a, i);

            if (!i)
                e = x;
        }
    }
    json_object_set_new(reply, "first_envelope", json_string(e ? e->id : ""));
    json_object_set_new(reply, "n", json_integer(count));
    return NULL;
}

static const char *
ctl_slash(struct fake *f, json_t *a, json_t *reply)
{
    const char *command = arg_str(a, "command"), *text = arg_str(a, "text");
    const char *user = arg_str(a, "user_id"), *chid = arg_str(a, "channel_id");
    char url[96], trigger[48], uname[96];
    const struct envelope *e;
    json_t *ch, *payload;
    unsigned n;

    if (!command || !user || !chid)
        return "command_user_id_channel_id_required";
    ch = channel_for_control(f, chid);
    n = ++f->next_slash;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/response/%u", f->port, n);
    snprintf(trigger, sizeof(trigger), "%u.%u.fake", n, n * 7919u);
    lower_copy(user, uname, sizeof(uname));
    payload = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "token",
        "fake-verification-token", "team_id", TEAM_ID, "team_domain", "fake",
        "channel_id", chid, "channel_name",
        chid[0] == 'D' ? "directmessage" : arg_str(ch, "name"), "user_id",
        user, "user_name", uname, "command", command, "text",
        text ? text : "", "api_app_id", APP_ID, "is_enterprise_install",
        "false", "response_url", url, "trigger_id", trigger);
    e = envelope_new(f, "slash_commands", payload, 1, 0);
    json_object_set_new(reply, "envelope_id", json_string(e ? e->id : ""));
    json_object_set_new(reply, "n", json_integer(n));
    json_object_set_new(reply, "response_url", json_string(url));
    return NULL;
}

static const char *
ctl_envelope(struct fake *f, json_t *a, json_t *reply)
{
    const struct envelope *e = envelope_raw(f, a);

    if (!e)
        return "envelope_failed";
    json_object_set_new(reply, "envelope_id", json_string(e->id));
    return NULL;
}

static struct conn *
newest_open(struct fake *f)
{
    struct lws_dll2 *d;

    for (d = lws_dll2_get_tail(&f->conns); d; d = d->prev) {
        struct conn *c = lws_container_of(d, struct conn, node);

        if (!c->closing)
            return c;
    }
    return NULL;
}

static const char *
ctl_disconnect(struct fake *f, json_t *a, json_t *reply)
{
    const char *reason = arg_str(a, "reason");
    long long ms = arg_int(a, "close_after_ms", CLOSE_AFTER_MS);
    struct conn *c = newest_open(f);
    int closes;

    if (!reason)
        reason = "warning";
    closes = !strcmp(reason, "warning") || !strcmp(reason, "refresh_requested");
    if (!closes && strcmp(reason, "link_disabled"))
        return "bad_reason";
    if (!c)
        return "no_connection";
    queue_ctl(c,
              json_pack("{s:s,s:s,s:{s:s}}", "type", "disconnect", "reason",
                        reason, "debug_info", "host", "fake"),
              0);
    if (closes)
        lws_sul_schedule(f->ctx, 0, &c->close_sul, close_cb,
                         (lws_usec_t)(ms < 0 ? 0 : ms) * 1000);
    json_object_set_new(reply, "connection", json_integer(c->id));
    return NULL;
}

/* No close frame: lws kills the socket as if the network went away. */
static const char *
ctl_drop(struct fake *f, json_t *a, json_t *reply)
{
    struct lws_dll2 *d;
    int n = 0;

    (void)a;
    for (d = lws_dll2_get_head(&f->conns); d; d = d->next) {
        struct conn *c = lws_container_of(d, struct conn, node);

        c->closing = 1;
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        n++;
    }
    json_object_set_new(reply, "dropped", json_integer(n));
    return NULL;
}

static const char *
ctl_ratelimit(struct fake *f, json_t *a, json_t *reply)
{
    const char *method = arg_str(a, "method");
    long long count = arg_int(a, "count", 1);

    (void)reply;
    if (!method)
        return "method_required";
    if (count <= 0) {
        json_object_del(f->ratelimits, method);
        return NULL;
    }
    json_object_set_new(f->ratelimits, method,
                        json_pack("{s:I,s:I}", "retry_after",
                                  (json_int_t)arg_int(a, "retry_after", 1),
                                  "count", (json_int_t)count));
    return NULL;
}

/* ctl_delay - the next calls of a method are answered late */
static const char *
ctl_delay(struct fake *f, json_t *a, json_t *reply)
{
    const char *method = arg_str(a, "method");
    long long count = arg_int(a, "count", 1), ms = arg_int(a, "ms", 0);

    (void)reply;
    if (!method)
        return "method_required";
    if (count <= 0) {
        json_object_del(f->delays, method);
        return NULL;
    }
    if (ms <= 0 || ms > 60000)
        return "bad_ms";
    json_object_set_new(f->delays, method,
                        json_pack("{s:I,s:I}", "ms", (json_int_t)ms, "count",
                                  (json_int_t)count));
    return NULL;
}

/* ctl_fail - the next calls of a method (in one channel) answer an error */
static const char *
ctl_fail(struct fake *f, json_t *a, json_t *reply)
{
    const char *method = arg_str(a, "method"), *error = arg_str(a, "error");
    const char *chan = arg_str(a, "channel");
    long long count = arg_int(a, "count", 1);
    json_t *k;

    (void)reply;
    if (!method)
        return "method_required";
    if (count <= 0) {
        json_object_del(f->failures, method);
        return NULL;
    }
    if (!error || !*error)
        return "error_required";
    k = json_pack("{s:s,s:I}", "error", error, "count", (json_int_t)count);
    if (chan && *chan)
        json_object_set_new(k, "channel", json_string(chan));
    json_object_set_new(f->failures, method, k);
    return NULL;
}

static void
list_ids(const struct lws_dll2_owner *o, json_t *out)
{
    struct lws_dll2 *d;

    for (d = lws_dll2_get_head((struct lws_dll2_owner *)o); d; d = d->next) {
        struct envelope *e = lws_container_of(d, struct envelope, list);

        if (e->tracked)
            json_array_append_new(out, json_string(e->id));
    }
}

static const char *
ctl_state(struct fake *f, json_t *a, json_t *reply)
{
    json_t *unacked = json_array();
    struct lws_dll2 *d;

    (void)a;
    /* written first, then queued on a socket, then waiting for one */
    list_ids(&f->awaiting, unacked);
    for (d = lws_dll2_get_head(&f->conns); d; d = d->next)
        list_ids(&lws_container_of(d, struct conn, node)->outq, unacked);
    list_ids(&f->pending, unacked);
    update_new(
        reply,
        json_pack("{s:i,s:i,s:i,s:O,s:O,s:o,s:O,s:O,s:O,s:O,s:O,s:O,s:O,"
                  "s:O,s:O,s:O,s:O}",
                  "connections", (int)f->conns.count, "connects_total",
                  (int)f->connects_total, "ws_rejected", (int)f->ws_rejected,
                  "calls", f->calls, "acks", f->acks, "unacked", unacked,
                  "delivered", f->delivered, "expired", f->expired,
                  "channels", f->channels, "messages", f->messages, "files",
                  f->files, "uploads", f->uploads, "responses", f->responses,
                  "ratelimits", f->ratelimits, "failures", f->failures,
                  "delays", f->delays, "users", f->users));
    json_object_set(reply, "ephemerals", f->ephemerals);
    /* the wall clock at t = 0, so a client can place its own times */
    json_object_set_new(reply, "t0_epoch_us",
                        json_integer((json_int_t)(clock_us(CLOCK_REALTIME) -
                                                  (clock_us(CLOCK_MONOTONIC) -
                                                   f->t0_us))));
    json_object_set_new(reply, "bulk_remaining",
                        json_integer(f->bulk.args ? f->bulk.count -
                                                        f->bulk.sent
                                                  : 0));
    return NULL;
}

static const char *
ctl_calls(struct fake *f, json_t *a, json_t *reply)
{
    const char *method = arg_str(a, "method");
    json_t *out = json_array(), *c;
    size_t i;

    json_array_foreach(f->calls, i, c) {
        if (!method || !strcmp(arg_str(c, "method"), method))
            json_array_append(out, c);
    }
    json_object_set_new(reply, "calls", out);
    return NULL;
}

static int
count_tracked(const struct lws_dll2_owner *o)
{
    struct lws_dll2 *d;
    int n = 0;

    for (d = lws_dll2_get_head((struct lws_dll2_owner *)o); d; d = d->next)
        n += lws_container_of(d, struct envelope, list)->tracked != 0;
    return n;
}

/* ctl_counts - the sizes of the logs, cheap to poll while a benchmark
 * or a paced run goes on (the full state dump would stall the fake) */
static const char *
ctl_counts(struct fake *f, json_t *a, json_t *reply)
{
    struct lws_dll2 *d;
    int unacked = count_tracked(&f->awaiting) + count_tracked(&f->pending);

    (void)a;
    for (d = lws_dll2_get_head(&f->conns); d; d = d->next) {
        struct conn *c = lws_container_of(d, struct conn, node);

        unacked += count_tracked(&c->outq);
    }
    update_new(reply,
               json_pack("{s:i,s:i,s:i,s:i,s:i,s:I}", "connections",
                         (int)f->conns.count, "acks",
                         (int)json_array_size(f->acks), "delivered",
                         (int)json_array_size(f->delivered), "calls",
                         (int)json_array_size(f->calls), "unacked", unacked,
                         "bulk_remaining",
                         (json_int_t)(f->bulk.args ? f->bulk.count -
                                                         f->bulk.sent
                                                   : 0)));
    return NULL;
}

static const char *
ctl_reset_log(struct fake *f, json_t *a, json_t *reply)
{
    (void)a;
    (void)reply;
    json_array_clear(f->calls);
    json_array_clear(f->acks);
    json_array_clear(f->delivered);
    json_array_clear(f->expired);
    return NULL;
}

/* Test setup: a channel the bot did not create (e.g. #general). */
static const char *
ctl_channel(struct fake *f, json_t *a, json_t *reply)
{
    const char *id = arg_str(a, "id"), *name = arg_str(a, "name");
    json_t *members = json_object_get(a, "members"), *ch, *m;
    char buf[16];
    size_t i;

    if (!name || !*name)
        return "name_required";
    if (channel_by_name(f, name))
        return "name_taken";
    if (!id || !*id) {
        do {
            snprintf(buf, sizeof(buf), "C%07u", ++f->next_channel);
        } while (channel_get(f, buf));
        id = buf;
    } else if (channel_get(f, id)) {
        return "id_taken";
    }
    ch = channel_add(f, id, name, arg_bool(a, "is_private", 0), 0);
    json_array_foreach(members, i, m) {
        if (json_is_string(m) &&
            !members_has(json_object_get(ch, "members"), json_string_value(m)))
            json_array_append(json_object_get(ch, "members"), m);
    }
    json_object_set_new(reply, "channel", channel_view(ch));
    return NULL;
}

/* Test setup: users.info fields (tz, tz_offset, real_name, ...). */
static const char *
ctl_user(struct fake *f, json_t *a, json_t *reply)
{
    const char *id = arg_str(a, "id");
    json_t *u;

    (void)reply;
    if (!id || !*id)
        return "id_required";
    u = json_object_get(f->users, id);
    if (!u) {
        u = json_object();
        json_object_set_new(f->users, id, u);
    }
    json_object_update(u, a);
    return NULL;
}

static const struct ctl_route {
    const char *name;
    ctl_fn *fn;
} ctl_routes[] = {
    {"message", ctl_message},     {"edit", ctl_edit},
    {"delete", ctl_delete},       {"reaction", ctl_reaction},
    {"reactions", ctl_reactions}, {"slash", ctl_slash},
    {"envelope", ctl_envelope},   {"disconnect", ctl_disconnect},
    {"drop", ctl_drop},           {"ratelimit", ctl_ratelimit},
    {"fail", ctl_fail},           {"delay", ctl_delay},
    {"state", ctl_state},         {"calls", ctl_calls},
    {"counts", ctl_counts},
    {"reset_log", ctl_reset_log}, {"channel", ctl_channel},
    {"user", ctl_user},
};

static void
control_call(struct fake *f, struct http_req *r, const char *name)
{
    json_t *a = r->query ? json_copy(r->query) : json_object();
    const struct ctl_route *rt = NULL;
    const char *err = NULL;
    json_t *reply, *b;
    size_t i;

    for (i = 0; i < LWS_ARRAY_SIZE(ctl_routes); i++)
        if (!strcmp(ctl_routes[i].name, name))
            rt = &ctl_routes[i];
    if (!rt) {
        json_decref(a);
        respond_error(r, 404, "unknown_control");
        return;
    }
    if (r->body.len) {
        b = json_loadb(r->body.p, r->body.len, 0, NULL);
        if (!json_is_object(b)) {
            json_decref(b);
            json_decref(a);
            respond_error(r, 400, "invalid_json");
            return;
        }
        json_object_update(a, b);
        json_decref(b);
    }
    reply = json_pack("{s:b}", "ok", 1);
    err = rt->fn(f, a, reply);
    json_decref(a);
    if (err) {
        json_decref(reply);
        respond_error(r, 400, err);
        return;
    }
    respond_json(r, 200, reply);
}

/* ------------------------------------------------- uploads, responses */

static void
upload_post(struct fake *f, struct http_req *r, const char *n)
{
    char id[40];
    json_t *up, *content;

    snprintf(id, sizeof(id), "F%s", n);
    up = json_object_get(f->uploads, id);
    if (!up || !r->is_post) {
        respond_text(r, 404, "text/plain", "not found");
        return;
    }
    content = json_stringn(r->body.p ? r->body.p : "", r->body.len);
    if (content) {
        json_object_set_new(up, "content", content);
    } else {
        /* not UTF-8: keep the bytes readable as base64 */
        size_t cap = r->body.len * 4 / 3 + 8;
        char *b64 = malloc(cap);

        if (b64 && lws_b64_encode_string(r->body.p, (int)r->body.len, b64,
                                         (int)cap) >= 0)
            json_object_set_new(up, "content_base64", json_string(b64));
        free(b64);
    }
    json_object_set_new(up, "received", json_true());
    json_object_set_new(up, "received_length",
                        json_integer((json_int_t)r->body.len));
    respond_text(r, 200, "text/plain", "OK");
}

static void
response_post(struct fake *f, struct http_req *r, const char *s)
{
    char *end;
    long n = strtol(s, &end, 10);
    json_t *body;

    if (*end || n < 1 || n > (long)f->next_slash || !r->is_post) {
        respond_error(r, 404, "no_service");
        return;
    }
    body = json_loadb(r->body.p ? r->body.p : "", r->body.len, 0, NULL);
    if (!body)
        body = json_stringn(r->body.p ? r->body.p : "", r->body.len);
    json_array_append_new(f->responses,
                          json_pack("{s:i,s:I,s:o?}", "n", (int)n, "t",
                                    r->t_ms, "body", body));
    respond_json(r, 200, json_pack("{s:b}", "ok", 1));
}

static void
route(struct fake *f, struct http_req *r)
{
    if (!strncmp(r->path, "/api/", 5))
        api_call(f, r, r->path + 5);
    else if (!strncmp(r->path, "/_control/", 10))
        control_call(f, r, r->path + 10);
    else if (!strncmp(r->path, "/upload/", 8))
        upload_post(f, r, r->path + 8);
    else if (!strncmp(r->path, "/response/", 10))
        response_post(f, r, r->path + 10);
    else
        respond_error(r, 404, "not_found");
}

/* ------------------------------------------------------ lws callbacks */

static char *
hdr_dup(struct lws *wsi, enum lws_token_indexes h)
{
    int n = lws_hdr_total_length(wsi, h);
    char *s;

    if (n <= 0)
        return NULL;
    s = malloc((size_t)n + 1);
    if (s && lws_hdr_copy(wsi, s, n + 1, h) < 0) {
        free(s);
        s = NULL;
    }
    return s;
}

static int
has_body_length(struct lws *wsi)
{
    return lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 ||
           lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
}

/*
 * lws 4.1.6 ignores Expect: 100-continue, and curl then waits a second
 * before sending a body over 1 MB: we answer it ourselves.
 */
static int
expects_continue(struct lws *wsi)
{
    char v[32];

    return lws_hdr_copy(wsi, v, sizeof(v), WSI_TOKEN_HTTP_EXPECT) > 0 &&
           !strcasecmp(v, "100-continue");
}

/* lws has already %-decoded each name=value fragment and turned + into ' ' */
static json_t *
query_args(struct lws *wsi)
{
    int total = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
    json_t *q = json_object();
    char *buf, *eq;
    int i;

    if (total <= 0)
        return q;
    buf = malloc((size_t)total + 1);
    for (i = 0; buf && lws_hdr_copy_fragment(wsi, buf, total + 1,
                                             WSI_TOKEN_HTTP_URI_ARGS, i) >= 0;
         i++) {
        eq = strchr(buf, '=');
        if (eq)
            *eq = '\0';
        if (*buf)
            json_object_set_new(q, buf, json_string(eq ? eq + 1 : ""));
    }
    free(buf);
    return q;
}

/*
 * Headers and body go out in separate WRITEABLE callbacks, the body in
 * TX_PACKET pieces, so there is one lws_write per callback. Each piece is
 * written in place: the LWS_PRE bytes before it are headroom at first and
 * then body bytes already sent, which lws may scribble on.
 */
static int
http_writeable(struct lws *wsi, struct http_req *r)
{
    unsigned char hdr[LWS_PRE + LWS_RECOMMENDED_MIN_HEADER_SPACE];
    unsigned char *start = hdr + LWS_PRE, *p = start;
    unsigned char *end = hdr + sizeof(hdr) - 1;
    size_t chunk;
    int final;

    if (r && r->send_continue && !r->responding) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        unsigned char buf[LWS_PRE + sizeof(cont)];

        r->send_continue = 0;
        memcpy(buf + LWS_PRE, cont, sizeof(cont) - 1);
        return lws_write(wsi, buf + LWS_PRE, sizeof(cont) - 1,
                         LWS_WRITE_RAW) < (int)sizeof(cont) - 1
                   ? -1
                   : 0;
    }
    if (!r || !r->responding)
        return 0;
    if (!r->headers_sent && r->hold_until_us) {
        int64_t left = r->hold_until_us - clock_us(CLOCK_MONOTONIC);

        if (left > 0) {
            /* LWS_CALLBACK_TIMER asks for writable again; closing the
             * connection cancels the timer with the wsi */
            lws_set_timer_usecs(wsi, (lws_usec_t)left);
            return 0;
        }
        r->hold_until_us = 0;
    }
    if (!r->headers_sent) {
        if (lws_add_http_common_headers(wsi, (unsigned int)r->status,
                                        r->ctype, r->resp_len, &p, end))
            return 1;
        if (r->close_after &&
            lws_add_http_header_by_name(wsi,
                                        (const unsigned char *)"connection:",
                                        (const unsigned char *)"close", 5, &p,
                                        end))
            return 1;
        if (r->retry_after > 0) {
            char v[16];
            int n = snprintf(v, sizeof(v), "%d", r->retry_after);

            if (lws_add_http_header_by_name(wsi,
                                            (const unsigned char *)"retry-after:",
                                            (const unsigned char *)v, n, &p,
                                            end))
                return 1;
        }
        if (lws_finalize_write_http_header(wsi, start, &p, end))
            return 1;
        r->headers_sent = 1;
        lws_callback_on_writable(wsi);
        return 0;
    }
    chunk = r->resp_len - r->resp_off;
    if (chunk > TX_PACKET)
        chunk = TX_PACKET;
    final = r->resp_off + chunk == r->resp_len;
    if (lws_write(wsi, (unsigned char *)r->resp + LWS_PRE + r->resp_off,
                  chunk, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) <
        (int)chunk)
        return -1;
    r->resp_off += chunk;
    if (!final) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    if (r->close_after) {
        req_reset(r);
        return -1;
    }
    req_reset(r);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int
callback_http(struct lws *wsi, enum lws_callback_reasons reason, void *user,
              void *in, size_t len)
{
    struct fake *f = lws_context_user(lws_get_context(wsi));
    struct http_req *r = user;
    char *ctype;

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        req_reset(r);
        r->t_ms = since_start_ms(f);
        r->t_us = since_start_us(f);
        snprintf(r->path, sizeof(r->path), "%.*s", (int)len,
                 (const char *)in);
        r->is_post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
        r->auth = hdr_dup(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
        ctype = hdr_dup(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE);
        r->is_json = ctype && !strncasecmp(ctype, "application/json", 16);
        free(ctype);
        r->query = query_args(wsi);
        if (r->is_post && has_body_length(wsi)) {
            r->send_continue = expects_continue(wsi);
            if (r->send_continue)
                lws_callback_on_writable(wsi);
            return 0; /* answered at BODY_COMPLETION */
        }
        /*
         * lws 4.1.6 reads a POST without Content-Length as a 100 MB body
         * (it has no chunked request bodies), so `curl -X POST` without -d
         * would hang: answer at once and close instead of keeping alive.
         */
        r->close_after = r->is_post;
        if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0 || r->is_post)
            route(f, r);
        else
            respond_error(r, 405, "method_not_allowed");
        lws_callback_on_writable(wsi);
        return 0;

    case LWS_CALLBACK_HTTP_BODY:
        return bytes_add(&r->body, in, len, BODY_CAP) ? -1 : 0;

    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        route(f, r);
        lws_callback_on_writable(wsi);
        return 0;

    case LWS_CALLBACK_HTTP_WRITEABLE:
        return http_writeable(wsi, r);

    case LWS_CALLBACK_TIMER: /* a delayed answer is due */
        if (r && r->responding)
            lws_callback_on_writable(wsi);
        return 0;

    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
        if (r)
            req_reset(r);
        break;

    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* Upgrades must be to /link/ and present a ticket issued and not used. */
static int
ws_admit(struct fake *f, struct lws *wsi)
{
    char path[64], arg[64];
    const char *ticket;

    if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) < 0 ||
        (strcmp(path, "/link/") && strcmp(path, "/link")))
        return -1;
    ticket = lws_get_urlarg_by_name(wsi, "ticket=", arg, sizeof(arg));
    if (!ticket || !json_object_get(f->tickets, ticket))
        return -1;
    json_object_del(f->tickets, ticket);
    return 0;
}

static int
callback_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user,
            void *in, size_t len)
{
    struct fake *f = lws_context_user(lws_get_context(wsi));
    struct conn *c = user;

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        if (ws_admit(f, wsi)) {
            f->ws_rejected++;
            return -1;
        }
        return 0;

    case LWS_CALLBACK_ESTABLISHED:
        c->f = f;
        c->wsi = wsi;
        c->id = ++f->connects_total;
        lws_dll2_add_tail(&c->node, &f->conns);
        queue_ctl(c,
                  json_pack("{s:s,s:i,s:{s:s},s:{s:s,s:i,s:i}}", "type",
                            "hello", "num_connections", (int)f->conns.count,
                            "connection_info", "app_id", APP_ID,
                            "debug_info", "host", "fake", "build_number", 1,
                            "approximate_connection_time", 3600),
                  1);
        return 0;

    case LWS_CALLBACK_RECEIVE:
        if (!c->f)
            return 0;
        if (bytes_add(&c->rx, in, len, RX_CAP))
            return -1;
        /* a message may arrive in several frames and rx chunks */
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            ws_message(f, c, c->rx.p ? c->rx.p : "", c->rx.len);
            c->rx.len = 0;
        }
        return 0;

    case LWS_CALLBACK_SERVER_WRITEABLE:
        return c->f ? ws_writeable(f, c) : 0;

    case LWS_CALLBACK_CLOSED:
        if (c->f)
            conn_closed(f, c);
        return 0;

    default:
        return 0;
    }
}

static int
callback_signal(struct lws *wsi, enum lws_callback_reasons reason,
                void *user, void *in, size_t len)
{
    struct fake *f = lws_context_user(lws_get_context(wsi));
    struct signalfd_siginfo si;

    (void)user;
    (void)in;
    (void)len;
    if (reason == LWS_CALLBACK_RAW_RX_FILE &&
        read(f->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        f->stop = 1;
    return 0;
}

/*
 * Plain HTTP without a mount goes to protocols[0]; an upgrade without
 * Sec-WebSocket-Protocol (Slack clients send none) goes to the vhost's
 * default protocol, which pvo "default" below makes the websocket one.
 */
static const struct lws_protocols protocols[] = {
    {"http", callback_http, sizeof(struct http_req), 0, 0, NULL, TX_PACKET},
    {"slack-socket-mode", callback_ws, sizeof(struct conn), WS_RX_BUFFER, 0,
     NULL, TX_PACKET},
    {"fake-signal", callback_signal, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0} /* terminator */
};

static const struct lws_protocol_vhost_options pvo_default = {
    NULL, NULL, "default", "1"};
static const struct lws_protocol_vhost_options pvo_ws = {
    NULL, &pvo_default, "slack-socket-mode", ""};

/* ------------------------------------------------------------- main */

static void
fake_free(struct fake *f)
{
    struct lws_dll2_owner *owners[] = {&f->pending, &f->awaiting};
    struct lws_dll2 *d;
    size_t i;

    for (i = 0; i < LWS_ARRAY_SIZE(owners); i++)
        for (d = lws_dll2_get_head(owners[i]); d;
             d = lws_dll2_get_head(owners[i]))
            env_drop(f, lws_container_of(d, struct envelope, list));
    free(f->envs.slots);
    json_decref(f->bulk.args);
    json_decref(f->tickets);
    json_decref(f->channels);
    json_decref(f->messages);
    json_decref(f->uploads);
    json_decref(f->files);
    json_decref(f->responses);
    json_decref(f->ephemerals);
    json_decref(f->users);
    json_decref(f->ratelimits);
    json_decref(f->failures);
    json_decref(f->delays);
    json_decref(f->calls);
    json_decref(f->acks);
    json_decref(f->delivered);
    json_decref(f->expired);
}

static int
usage(void)
{
    fprintf(stderr, "usage: fake_slack [--port N] [--bot-token T] "
                    "[--app-token T] [--redeliver-ms MS]\n");
    return 2;
}

static int
parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    long v;

    if (!s || !*s)
        return -1;
    v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

int
main(int argc, char **argv)
{
    struct lws_context_creation_info info;
    struct fake f = {0};
    struct lws_vhost *vh;
    lws_sock_file_fd_type fd;
    sigset_t sigs;
    int i, port = 0, rc = 1;

    f.bot_token = "xoxb-test";
    f.app_token = "xapp-test";
    f.redeliver_ms = 3000;
    for (i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (!v)
            return usage();
        if (!strcmp(argv[i], "--port")) {
            if (parse_int(v, 0, 65535, &port))
                return usage();
        } else if (!strcmp(argv[i], "--bot-token")) {
            f.bot_token = v;
        } else if (!strcmp(argv[i], "--app-token")) {
            f.app_token = v;
        } else if (!strcmp(argv[i], "--redeliver-ms")) {
            if (parse_int(v, 1, 86400000, &f.redeliver_ms))
                return usage();
        } else {
            return usage();
        }
        i++;
    }

    f.t0_us = clock_us(CLOCK_MONOTONIC);
    f.tickets = json_object();
    f.channels = json_array();
    f.messages = json_object();
    f.uploads = json_object();
    f.files = json_array();
    f.responses = json_array();
    f.ephemerals = json_array();
    f.users = json_object();
    f.ratelimits = json_object();
    f.failures = json_object();
    f.delays = json_object();
    f.calls = json_array();
    f.acks = json_array();
    f.delivered = json_array();
    f.expired = json_array();

    /* a signalfd in the poll set: no race between a flag check and poll() */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    f.sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    if (f.sigfd < 0) {
        perror("fake_slack: signalfd");
        goto out;
    }

    lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
    memset(&info, 0, sizeof(info));
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.protocols = protocols;
    info.user = &f;
    info.max_http_header_data = 16384; /* long query strings */
    info.keepalive_timeout = 60;
    f.ctx = lws_create_context(&info);
    if (!f.ctx) {
        fprintf(stderr, "fake_slack: lws_create_context failed\n");
        close(f.sigfd);
        goto out;
    }
    info.port = port;
    info.iface = "127.0.0.1";
    info.vhost_name = "fake-slack";
    info.pvo = &pvo_ws;
    vh = lws_create_vhost(f.ctx, &info);
    if (!vh) {
        fprintf(stderr, "fake_slack: cannot listen on 127.0.0.1:%d\n", port);
        close(f.sigfd);
        goto out_ctx;
    }
    f.port = lws_get_vhost_listen_port(vh);
    fd.filefd = f.sigfd;
    /* lws owns the fd from here and closes it with the context */
    if (!lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, fd,
                                    "fake-signal", NULL)) {
        fprintf(stderr, "fake_slack: cannot watch signals\n");
        close(f.sigfd);
        goto out_ctx;
    }

    printf("listening %d\n", f.port);
    fflush(stdout);
    rc = 0;
    while (!f.stop) {
        if (lws_service(f.ctx, 0) < 0) {
            fprintf(stderr, "fake_slack: lws_service failed\n");
            rc = 1;
            break;
        }
    }

out_ctx:
    lws_sul_cancel(&f.redeliver_sul);
    lws_sul_cancel(&f.bulk.sul);
    f.stopping = 1;
    lws_context_destroy(f.ctx);
out:
    fake_free(&f);
    return rc;
}
