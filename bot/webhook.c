/*
 * webhook.c - the HTTP listener: alarm intake, /healthz, /metrics.
 *
 * The listening sockets are ours (getaddrinfo, bind exactly what is
 * configured); each accepted connection is handed to libwebsockets, on a
 * context of the listener's own, for HTTP/1.1 parsing. A connection
 * carries one request (see answer()). We keep every connection in a list,
 * oldest first, with one deadline each: the request, head and body, must
 * arrive within body_timeout seconds of the connection opening, however
 * slowly it trickles. At WEBHOOK_CONN_MAX connections the oldest one that
 * is not being answered is closed to make room, so a flood of idle or slow
 * clients cannot lock out /healthz or a real sender.
 *
 * A request is checked in this order, and each failure answers at once and
 * changes nothing: path (404), method (405), framing (400 for a bad or
 * repeated Content-Length, 411 for a body of unknown length), declared
 * size (413), body size as it arrives (413), credentials on the raw bytes
 * (401), a signature used before (409), payload (400). Only then is the
 * alarm written, in a transaction; the 2xx is sent from that transaction's
 * completion, so it always means "committed".
 */
#define _GNU_SOURCE /* accept4 */
#include "webhook.h"

#include "alarm.h"
#include "bot.h"
#include "chunked.h"
#include "config.h"
#include "err.h"
#include "incident.h"
#include "log.h"
#include "loop.h"
#include "mem.h"
#include "store.h"
#include "strbuf.h"
#include "timeutil.h"
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define REPLAY_WINDOW_S 300
#define LISTEN_MAX 4     /* addresses one name may resolve to */
#define ACCEPT_BATCH 64  /* accepts per wakeup: the loop stays fair */
#define SWEEP_MS 250     /* deadline resolution */
/* a chunked body's framing may add this much to WEBHOOK_BODY_MAX */
#define CHUNKED_RAW_MAX (2 * WEBHOOK_BODY_MAX)
/* the replay memory: a used signature is an event of this "platform" */
#define SIG_DEDUPE "webhook-signature"

enum route {
    ROUTE_NONE = 0,
    ROUTE_HEALTHZ,
    ROUTE_METRICS,
    ROUTE_ALERTMANAGER,
    ROUTE_GRAFANA,
    ROUTE_GENERIC,
    ROUTE_MAPPED
};

static const char *const route_names[] = {
    "none", "healthz", "metrics", "alertmanager", "grafana", "generic",
    "mapped"};

/* One accepted connection, from accept to lws's last word on it. */
struct conn {
    struct conn *next, *prev; /* oldest first */
    struct webhook *w;
    struct lws *wsi;
    uint64_t deadline; /* loop ms; 0 while its answer is being made */
    int killed;        /* asked lws to close it (counted in nkilled) */
};

struct listener {
    int fd;
    struct loop_fd *watch;
};

struct webhook {
    struct bot *b;
    struct loop *loop;
    struct lws_context *ctx;
    struct lws_vhost *vh;
    struct listener ls[LISTEN_MAX];
    int nls;
    struct conn *head, *tail;
    size_t nconns, nkilled; /* all in the list / those closing */
    struct loop_timer *sweep;
    int spare_fd; /* given up to accept-and-close when out of fds */
    int accept_paused; /* out of fds with no spare: the sweep retries */
    int fd_warned;     /* the shortage is logged once until it ends */
    int closing;  /* webhook_free has begun: callbacks only clean up */
    int in_callback; /* inside lws's callback: answers may close at once */
    int crash_after_ack; /* PMBOT_FAULT=crash-after-alarm-ack (tests) */
    struct alarm_severity_map sev;
};

/* An answer waiting for its transaction's commit. The request may be gone
 * by then (the client hung up): wsi is NULLed when it closes. */
struct pending {
    struct lws *wsi;
    struct req *r;
};

/* Per-request state (one request per connection); lws allocates it
 * zeroed (per_session_data_size) at adoption. */
struct req {
    int route;
    int complete; /* the whole body is in: later bytes are ignored */
    int answered;
    struct chunked *chunked; /* Transfer-Encoding: chunked; owned */
    size_t raw;  /* bytes of chunked framing and data seen */
    const struct config_mapping *mapping;
    struct strbuf body;
    char auth[512];
    char sig[160];
    char ts[32];
    int status;
    const char *ctype; /* static */
    char *resp; /* response body, new */
    struct pending *pending;
};

static void accepting(struct webhook *w, int on);

static struct webhook *
wh_of(struct lws *wsi)
{
    return lws_vhost_user(lws_get_vhost(wsi));
}

static struct conn *
conn_of(struct lws *wsi)
{
    return lws_get_opaque_user_data(wsi);
}

static void
count(struct webhook *w, const char *endpoint, int status)
{
    char labels[96];

    snprintf(labels, sizeof(labels), "endpoint=\"%s\",status=\"%d\"",
             endpoint, status);
    metrics_add(&w->b->metrics, "pmbot_webhook_requests_total", labels, 1);
}

/* --- connections and their deadlines --- */

static void
conn_unlink(struct webhook *w, struct conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        w->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        w->tail = c->prev;
    c->next = c->prev = NULL;
}

static void
conn_append(struct webhook *w, struct conn *c)
{
    c->prev = w->tail;
    c->next = NULL;
    if (w->tail)
        w->tail->next = c;
    else
        w->head = c;
    w->tail = c;
}

/* conn_kill - close it now. Only from our own loop callbacks, never from
 * inside lws's: the close runs lws's callbacks (c may be freed by the
 * time the loop turns). An asynchronous kill waits for lws's own timer
 * and did not close a trickling client in time. */
static void
conn_kill(struct conn *c, const char *why)
{
    if (c->killed || !c->wsi)
        return;
    c->killed = 1;
    c->w->nkilled++;
    metrics_add(&c->w->b->metrics, "pmbot_webhook_connections_closed_total",
                why, 1);
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
}

static void
on_sweep(void *arg)
{
    struct webhook *w = arg;
    uint64_t now = loop_now_ms(w->loop);

    for (struct conn *c = w->head, *next; c; c = next) {
        next = c->next; /* c may be gone after the kill */
        if (c->deadline && now >= c->deadline)
            conn_kill(c, "reason=\"timeout\"");
    }
    if (w->accept_paused &&
        (w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0) {
        accepting(w, 1);
        log_info("webhook: file descriptors again: accepting connections");
    }
    if (!w->nconns && !w->accept_paused)
        loop_timer_stop(w->sweep);
}

/* make_room - at the cap, close the oldest connection that is not waiting
 * for its answer */
static void
make_room(struct webhook *w)
{
    if (w->nconns - w->nkilled < WEBHOOK_CONN_MAX)
        return;
    for (struct conn *c = w->head; c; c = c->next) {
        if (!c->killed && c->deadline) {
            conn_kill(c, "reason=\"evicted\"");
            return;
        }
    }
}

int
webhook_adopt(struct webhook *w, int fd)
{
    struct conn *c;
    lws_adopt_desc_t ad;

    make_room(w);
    c = bot_calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return BOT_ENOMEM;
    }
    c->w = w;
    conn_append(w, c);
    w->nconns++;
    c->deadline = loop_now_ms(w->loop) +
                  (uint64_t)w->b->core.cfg->body_timeout * 1000u;
    memset(&ad, 0, sizeof(ad));
    ad.vh = w->vh;
    ad.type = LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP;
    ad.fd.sockfd = fd;
    ad.vh_prot_name = "pmbot-http";
    /* no opaque pointer yet: a late failure inside lws closes a wsi that
     * must not point at c, freed below */
    c->wsi = lws_adopt_descriptor_vhost_via_info(&ad);
    if (!c->wsi) {
        conn_unlink(w, c);
        w->nconns--;
        bot_free(c);
        return BOT_EIO;
    }
    lws_set_opaque_user_data(c->wsi, c);
    if (w->nconns == 1)
        loop_timer_start(w->sweep, SWEEP_MS, SWEEP_MS);
    /* read the request now rather than at the loop's next turn: it is
     * usually there already, and the alarms of one burst of accepts then
     * share one group commit (one fsync). lws may close it in here. */
    {
        struct lws_pollfd pfd = {.fd = fd, .events = POLLIN,
                                 .revents = POLLIN};

        lws_service_fd(w->ctx, &pfd);
    }
    return BOT_OK;
}

unsigned
webhook_connections(const struct webhook *w)
{
    return (unsigned)w->nconns;
}

/* accepting - watch the listening sockets or not; while not, the sweep
 * timer tries to get a spare descriptor back */
static void
accepting(struct webhook *w, int on)
{
    for (int i = 0; i < w->nls; i++)
        loop_fd_set(w->ls[i].watch, on ? LOOP_READ : 0);
    w->accept_paused = !on;
    if (!on)
        loop_timer_start(w->sweep, SWEEP_MS, SWEEP_MS);
}

/* out_of_fds - shed the waiting client with the spare descriptor rather
 * than spin on a listener that stays readable; without a spare, stop
 * listening until the sweep gets one back */
static void
out_of_fds(struct webhook *w, int lfd)
{
    if (w->spare_fd >= 0) {
        int fd;

        close(w->spare_fd);
        fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0)
            close(fd);
        w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    if (w->spare_fd < 0)
        accepting(w, 0);
    metrics_add(&w->b->metrics, "pmbot_webhook_connections_closed_total",
                "reason=\"no_fd\"", 1);
    if (!w->fd_warned) {
        w->fd_warned = 1;
        log_warn("webhook: out of file descriptors: connections are refused "
                 "(raise the limit: ulimit -n)");
    }
}

static void
on_accept(void *arg, int lfd, int events)
{
    struct webhook *w = arg;

    (void)events;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE)
                out_of_fds(w, lfd);
            return; /* EAGAIN, or nothing better to do now */
        }
        w->fd_warned = 0;
        webhook_adopt(w, fd);
    }
}

/* --- answering --- */

/* hold - a request is being answered: its deadline is off */
static void
hold(struct lws *wsi)
{
    struct conn *c = conn_of(wsi);

    if (c)
        c->deadline = 0;
}

/* send_answer - the whole answer, headers and body, in one write (one
 * segment, one syscall); then the connection is closed (-1) */
static int
send_answer(struct lws *wsi, struct req *r)
{
    size_t len = r->resp ? strlen(r->resp) : 0, cap = LWS_PRE + 512 + len;
    unsigned char *buf = bot_malloc(cap), *start, *p, *end;

    if (!buf)
        return -1;
    start = p = buf + LWS_PRE;
    end = buf + cap;
    if (!lws_add_http_common_headers(wsi, (unsigned)r->status, r->ctype, len,
                                     &p, end) &&
        !lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                      (const unsigned char *)"close", 5, &p,
                                      end) &&
        !lws_finalize_http_header(wsi, &p, end) &&
        (size_t)(end - p) >= len) {
        memcpy(p, r->resp ? r->resp : "", len);
        p += len;
        /* as headers: lws counts nothing against Content-Length then, and
         * the connection ends here */
        lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_HEADERS);
    }
    bot_free(buf);
    return -1;
}

/*
 * answer - one request per connection, so every answer says "Connection:
 * close" and the connection ends with it. libwebsockets 4.1 keeps what a
 * read brought past a request (a pipelined one) in a buffer list and frees
 * a segment of it while handing its body to us (a use after free found by
 * fuzz_http: tests/fuzz/regress/http/pipelined-post-after-get); and a
 * connection left open after a refusal goes on with the unread rest and
 * can spin on it. Inside lws's callback the answer is written now and -1
 * closes the connection at once; after a commit (outside it) it is written
 * whole from the writable callback.
 */
static int
answer(struct lws *wsi, struct req *r, int status, const char *ctype,
       char *body)
{
    struct webhook *w = wh_of(wsi);

    count(w, route_names[r->route], status);
    r->answered = 1;
    r->status = status;
    r->ctype = ctype;
    if (r->resp != body)
        bot_free(r->resp);
    r->resp = body;
    hold(wsi);
    if (w->in_callback)
        return send_answer(wsi, r);
    lws_callback_on_writable(wsi);
    return 0;
}

static char *
json_reply(const char *key, const char *value)
{
    json_t *o = json_pack("{s:s}", key, value);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    char *d = s ? bot_strdup(s) : NULL;

    free(s);
    json_decref(o);
    return d;
}

static int
error(struct lws *wsi, struct req *r, int status, const char *why)
{
    return answer(wsi, r, status, "application/json",
                  json_reply("error", why));
}

/* route_of - the endpoint of a path; NULL mapping unless ROUTE_MAPPED */
static int
route_of(struct webhook *w, const char *path, struct req *r)
{
    const struct config *cfg = w->b->core.cfg;

    if (!strcmp(path, "/healthz"))
        return ROUTE_HEALTHZ;
    if (!strcmp(path, "/metrics"))
        return ROUTE_METRICS;
    if (!strcmp(path, "/hooks/alertmanager"))
        return ROUTE_ALERTMANAGER;
    if (!strcmp(path, "/hooks/grafana"))
        return ROUTE_GRAFANA;
    if (!strcmp(path, "/hooks/generic"))
        return ROUTE_GENERIC;
    if (!strncmp(path, "/hooks/generic/", 15)) {
        for (int i = 0; i < cfg->nmappings; i++) {
            if (!strcmp(cfg->mappings[i].name, path + 15)) {
                r->mapping = &cfg->mappings[i];
                return ROUTE_MAPPED;
            }
        }
    }
    return ROUTE_NONE;
}

/* --- credentials --- */

static int
bearer_ok(const char *token, const char *auth)
{
    size_t n = strlen(token);

    if (strncmp(auth, "Bearer ", 7) || strlen(auth + 7) != n)
        return 0;
    return !CRYPTO_memcmp(auth + 7, token, n);
}

/* hmac_ok - X-Pmbot-Signature: v0=<hex HMAC-SHA256(token, v0:ts:body)>,
 * X-Pmbot-Timestamp within the replay window. *why on failure. */
static int
hmac_ok(const char *token, const struct req *r, int64_t now_s,
        const char **why)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    long ts;

    if (parse_long(r->ts, 0, 4000000000L, &ts) ||
        labs(ts - (long)now_s) > REPLAY_WINDOW_S) {
        *why = "stale or invalid X-Pmbot-Timestamp";
        return 0;
    }
    {
        struct strbuf msg;

        strbuf_init(&msg, 0);
        strbuf_printf(&msg, "v0:%s:", r->ts);
        strbuf_append(&msg, strbuf_str(&r->body), r->body.len);
        if (strbuf_error(&msg) ||
            !HMAC(EVP_sha256(), token, (int)strlen(token),
                  (const unsigned char *)strbuf_str(&msg), msg.len, mac,
                  &maclen)) {
            strbuf_cleanup(&msg);
            *why = "signature check failed";
            return 0;
        }
        strbuf_cleanup(&msg);
    }
    for (unsigned int i = 0; i < maclen; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    if (strncmp(r->sig, "v0=", 3) || strlen(r->sig + 3) != 2 * maclen ||
        CRYPTO_memcmp(r->sig + 3, hex, 2 * maclen)) {
        *why = "missing or wrong credentials";
        return 0;
    }
    return 1;
}

/* --- the alarm --- */

static void
on_committed(void *arg, int rc)
{
    struct pending *pd = arg;

    if (pd->wsi) {
        pd->r->pending = NULL;
        if (rc)
            error(pd->wsi, pd->r, 500, "could not be saved; try again");
        else
            answer(pd->wsi, pd->r, pd->r->status, "application/json",
                   pd->r->resp ? pd->r->resp : NULL);
    }
    bot_free(pd);
}

/* claim_signature - a signed request is good once: its signature is
 * remembered, in the alarm's own transaction, as a processed event.
 * *used = 1 (and BOT_EEXIST) when it was used before. */
static int
claim_signature(struct bot *b, const struct req *r, int signed_req,
                int *used)
{
    int first = 1, rc;

    *used = 0;
    if (!signed_req)
        return BOT_OK;
    rc = store_event_claim(b->core.store, SIG_DEDUPE, r->sig + 3, bot_now_ms(b),
                           &first);
    if (rc)
        return rc;
    *used = !first;
    return first ? BOT_OK : BOT_EEXIST;
}

/* The alarm's unit of work: the signature claimed, the alarm taken. */
struct take_work {
    struct bot *b;
    const struct req *r;
    int signed_req;
    const struct alarm *a;
    int replayed;
    const char *status;
    int64_t id;
    struct chat_platform *platform;
};

static int
take_work(void *arg)
{
    struct take_work *tw = arg;
    struct bot *b = tw->b;
    int rc;

    tw->platform = bot_alarm_platform(b);
    if (!tw->platform)
        return BOT_ENOTFOUND;
    rc = claim_signature(b, tw->r, tw->signed_req, &tw->replayed);
    if (!rc)
        rc = incident_take_alarm(b->incidents, tw->platform->ops->name,
                                 tw->a, b->core.cfg->default_severity, &tw->id,
                                 &tw->status);
    return rc;
}

static int
take(struct lws *wsi, struct webhook *w, struct req *r, int signed_req)
{
    struct bot *b = w->b;
    struct alarm a;
    const char *why = NULL, *status = NULL;
    int64_t id = 0;
    int rc, replayed = 0;
    char num[32];
    json_t *o;
    char *s;

    /* never a 2xx into a deleted database or a full disk: the sender
     * keeps the alarm and tries again */
    if (!bot_healthy(b, &why))
        return answer(wsi, r, 503, "application/json",
                      json_reply("unavailable", why));
    why = NULL;
    switch (r->route) {
    case ROUTE_ALERTMANAGER:
        rc = alarm_parse_alertmanager(strbuf_str(&r->body), r->body.len,
                                      &w->sev, &a, &why);
        break;
    case ROUTE_GRAFANA:
        rc = alarm_parse_grafana(strbuf_str(&r->body), r->body.len, &w->sev,
                                 &a, &why);
        break;
    case ROUTE_GENERIC:
        rc = alarm_parse_generic(strbuf_str(&r->body), r->body.len, &a, &why);
        break;
    default: {
        const struct config_mapping *m = r->mapping;
        struct alarm_mapping am = {m->name,        m->title, m->severity,
                                   m->description, m->dedup_key, m->link};

        rc = alarm_parse_mapped(strbuf_str(&r->body), r->body.len, &am,
                                &w->sev, &a, &why);
    }
    }
    if (rc == BOT_EINVAL)
        return error(wsi, r, 400, why ? why : "bad payload");
    if (rc)
        return error(wsi, r, 500, bot_strerror(rc));

    {
        struct take_work tw = {b, r, signed_req, &a, 0, NULL, 0, NULL};
        struct unit u = {0};

        u.fn = take_work;
        u.arg = &tw;
        u.flags = UNIT_GROUPED; /* many requests, one fsync */
        rc = unit_run(b->core.units, &u, NULL);
        replayed = tw.replayed;
        id = tw.id;
        status = tw.status;
        if (rc == BOT_EEXIST && replayed)
            rc = BOT_OK;
        if (!rc && !tw.platform) {
            alarm_clear(&a);
            return error(wsi, r, 503, "no chat platform to open the "
                                      "incident's channel on");
        }
    }
    alarm_clear(&a);
    if (replayed)
        return error(wsi, r, 409,
                     "this signature was already used; sign each request "
                     "anew");
    if (rc) {
        log_err("webhook: alarm not saved: %s", bot_strerror(rc));
        return error(wsi, r, 500, "could not be saved; try again");
    }
    snprintf(num, sizeof(num), "%lld", (long long)id);
    o = json_pack("{s:s,s:s?}", "status", status, "incident",
                  id ? num : NULL);
    s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    r->resp = s ? bot_strdup(s) : NULL;
    free(s);
    r->status = id && !strcmp(status, "opened") ? 201 : 200;
    /* the answer waits for the commit of the group this joined */
    r->pending = bot_calloc(1, sizeof(*r->pending));
    if (!r->pending)
        return -1;
    r->pending->wsi = wsi;
    r->pending->r = r;
    hold(wsi);
    units_finish(b->core.units, on_committed, r->pending, BOT_OK);
    return 0;
}

static int
serve_get(struct lws *wsi, struct webhook *w, struct req *r)
{
    struct bot *b = w->b;
    struct strbuf out;
    const char *why = NULL;
    char today[TIMEUTIL_BUFLEN];
    long open = 0, acts = 0, overdue = 0;

    if (r->route == ROUTE_HEALTHZ) {
        if (bot_healthy(b, &why)) {
            for (size_t i = 0; !why && i < b->core.nplatforms; i++) {
                struct chat_platform *p = b->platforms[i];

                if (p->ops->connected && !p->ops->connected(p, &why) && !why)
                    why = "chat platform not connected";
            }
        }
        if (why)
            return answer(wsi, r, 503, "application/json",
                          json_reply("unavailable", why));
        return answer(wsi, r, 200, "application/json",
                      json_reply("status", "ok"));
    }
    strbuf_init(&out, 0);
    metrics_render(&b->metrics, &out);
    timeutil_fmt_date(bot_now_ms(b), today);
    store_incident_count_open(b->core.store, &open);
    store_action_count_open(b->core.store, today, &acts, &overdue);
    strbuf_printf(&out,
                  "# TYPE pmbot_incidents_open gauge\n"
                  "pmbot_incidents_open %ld\n"
                  "# TYPE pmbot_actions_open gauge\n"
                  "pmbot_actions_open %ld\n"
                  "# TYPE pmbot_actions_overdue gauge\n"
                  "pmbot_actions_overdue %ld\n"
                  "# TYPE pmbot_webhook_connections gauge\n"
                  "pmbot_webhook_connections %zu\n",
                  open, acts, overdue, w->nconns);
    return answer(wsi, r, 200, "text/plain; version=0.0.4",
                  strbuf_steal(&out));
}

/* --- request framing --- */

static void
hdr(struct lws *wsi, char *dst, size_t n, const char *name)
{
    int len = lws_hdr_custom_length(wsi, name, (int)strlen(name));

    dst[0] = '\0';
    if (len > 0 && (size_t)len < n)
        lws_hdr_custom_copy(wsi, dst, (int)n, name, (int)strlen(name));
}

/* content_length - -1 when absent, -2 when not one plain number (signs,
 * spaces, a list, the header repeated), else the declared length */
static long
content_length(struct lws *wsi)
{
    char v[24];
    long n = 0;
    int len;

    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
        return -1;
    /* a repeated header is a second fragment */
    if (lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, 1) > 0)
        return -2;
    len = lws_hdr_copy(wsi, v, sizeof(v), WSI_TOKEN_HTTP_CONTENT_LENGTH);
    if (len <= 0 || len > 15)
        return -2;
    for (int i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -2;
        n = n * 10 + (v[i] - '0');
    }
    return n;
}

static int
on_request(struct lws *wsi, struct webhook *w, struct req *r,
           const char *path)
{
    char te[32];
    long declared;
    int telen;

    strbuf_init(&r->body, WEBHOOK_BODY_MAX);
    r->route = route_of(w, path, r);
    if (r->route == ROUTE_NONE)
        return error(wsi, r, 404, "no such endpoint");
    if (r->route == ROUTE_HEALTHZ || r->route == ROUTE_METRICS) {
        if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0)
            return error(wsi, r, 405, "use GET");
        return serve_get(wsi, w, r);
    }
    if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) <= 0)
        return error(wsi, r, 405, "use POST");
    declared = content_length(wsi);
    telen = lws_hdr_copy(wsi, te, sizeof(te),
                         WSI_TOKEN_HTTP_TRANSFER_ENCODING);
    if (declared == -2)
        return error(wsi, r, 400, "bad Content-Length");
    if (telen != 0) {
        if (declared >= 0)
            return error(wsi, r, 400,
                         "Content-Length and Transfer-Encoding together");
        if (telen < 0 || strcasecmp(te, "chunked"))
            return error(wsi, r, 501, "unsupported Transfer-Encoding");
        if (chunked_new(&r->chunked))
            return error(wsi, r, 500, "out of memory");

    } else if (declared < 0) {
        return error(wsi, r, 411, "send a Content-Length or a chunked body");
    } else if (declared > WEBHOOK_BODY_MAX) {
        return error(wsi, r, 413, "body over 1 MiB");
    }
    if (lws_hdr_copy(wsi, r->auth, sizeof(r->auth),
                     WSI_TOKEN_HTTP_AUTHORIZATION) < 0)
        r->auth[0] = '\0';
    hdr(wsi, r->sig, sizeof(r->sig), "x-pmbot-signature:");
    hdr(wsi, r->ts, sizeof(r->ts), "x-pmbot-timestamp:");
    /* no lws timeout: the connection's one deadline covers the body */
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    return 0;
}

static int
on_body_complete(struct lws *wsi, struct webhook *w, struct req *r)
{
    const char *token = w->b->core.cfg->webhook_token, *why = NULL;
    int signed_req = 0;

    r->complete = 1;
    if (token && !bearer_ok(token, r->auth)) {
        if (!(r->sig[0] &&
              hmac_ok(token, r, bot_now_ms(w->b) / 1000, &why)))
            return error(wsi, r, 401,
                         why ? why : "missing or wrong credentials");
        signed_req = 1;
    }
    return take(wsi, w, r, signed_req);
}

/* body_refused - the body's strbuf said no: over its cap, or no memory */
static int
body_refused(struct lws *wsi, struct req *r)
{
    if (strbuf_error(&r->body) == BOT_EINVAL)
        return error(wsi, r, 413, "body over 1 MiB");
    return error(wsi, r, 500, "out of memory");
}

/* on_body - a piece of the body as lws read it */
static int
on_body(struct lws *wsi, struct webhook *w, struct req *r, const char *in,
        size_t len)
{
    const char *why = NULL;
    int rc;

    if (!r->chunked)
        return strbuf_append(&r->body, in, len) ? body_refused(wsi, r) : 0;
    r->raw += len;
    if (r->raw > CHUNKED_RAW_MAX)
        return error(wsi, r, 413, "body over 1 MiB");
    rc = chunked_feed(r->chunked, in, len, &r->body, &why);
    if (rc == CHUNKED_DONE)
        return on_body_complete(wsi, w, r);
    if (rc && strbuf_error(&r->body))
        return body_refused(wsi, r);
    return rc ? error(wsi, r, 400, why) : 0;
}

static void
req_cleanup(struct req *r)
{
    if (r->pending)
        r->pending->wsi = NULL; /* its commit will find nobody to answer */
    r->pending = NULL;
    strbuf_cleanup(&r->body);
    bot_free(r->resp);
    r->resp = NULL;
    chunked_free(r->chunked);
    r->chunked = NULL;
}

static int
on_writable(struct lws *wsi, struct webhook *w, struct req *r)
{
    if (!r->answered || r->pending)
        return 0;
    send_answer(wsi, r);
    if (w->crash_after_ack && r->status == 201) {
        /* fault injection: die between the 2xx and the channel */
        log_warn("webhook: PMBOT_FAULT: killing pmbot after the 2xx");
        raise(SIGKILL);
    }
    req_cleanup(r);
    memset(r, 0, sizeof(*r));
    return -1; /* one request per connection (see answer) */
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
         void *in, size_t len)
{
    struct req *r = user;
    struct webhook *w = wh_of(wsi);
    struct conn *c;
    int rc;

    switch (reason) {
    case LWS_CALLBACK_WSI_DESTROY:
        /* the last word on a connection: no user data by now */
        c = conn_of(wsi);
        if (c) {
            lws_set_opaque_user_data(wsi, NULL);
            conn_unlink(c->w, c);
            c->w->nconns--;
            c->w->nkilled -= c->killed;
            bot_free(c);
        }
        return 0;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (r)
            req_cleanup(r);
        return 0;
    default:
        break;
    }
    /* a connection can end before lws gave it a request (a bare connect,
     * an oversize or garbage head): no user data then */
    if (!r || !w || w->closing)
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    w->in_callback = 1;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        /* a second request before the first is answered (pipelined, or
         * bytes past a body): not served, and the first's state is kept
         * for its commit, which finds the connection gone */
        if (r->answered || r->pending || r->complete) {
            rc = -1;
            break;
        }
        memset(r, 0, sizeof(*r));
        rc = on_request(wsi, w, r, in);
        break;
    case LWS_CALLBACK_HTTP_BODY:
        if (r->complete)
            rc = 0; /* past the end of a chunked body: not ours to judge */
        else
            rc = r->answered ? -1 : on_body(wsi, w, r, in, len);
        break;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        rc = r->answered || r->chunked ? 0 : on_body_complete(wsi, w, r);
        break;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        rc = on_writable(wsi, w, r);
        break;
    default:
        rc = lws_callback_http_dummy(wsi, reason, user, in, len);
        break;
    }
    w->in_callback = 0;
    return rc;
}

static const struct lws_protocols protocols[] = {
    {"pmbot-http", callback, sizeof(struct req), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* --- listening --- */

static int
addr_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;

        return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

        if (IN6_IS_ADDR_LOOPBACK(a))
            return 1;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return 0;
}

/* split_listen - "host:port", "[v6]:port"; host may be empty (every
 * address). *why static on failure. */
static int
split_listen(const char *listen, char *host, size_t hostlen, char *port,
             size_t portlen, const char **why)
{
    const char *colon, *h = listen, *hend;

    *why = "[webhook] listen: use address:port, e.g. 127.0.0.1:8088 or "
           "[::1]:8088";
    if (!listen)
        return BOT_EINVAL;
    if (*listen == '[') {
        hend = strchr(listen, ']');
        if (!hend || hend[1] != ':')
            return BOT_EINVAL;
        h = listen + 1;
        colon = hend + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon || memchr(listen, ':', (size_t)(colon - listen)))
            return BOT_EINVAL; /* a bare IPv6 address needs brackets */
        hend = colon;
    }
    if ((size_t)(hend - h) >= hostlen || strlen(colon + 1) >= portlen ||
        !colon[1])
        return BOT_EINVAL;
    for (const char *p = colon + 1; *p; p++)
        if (*p < '0' || *p > '9')
            return BOT_EINVAL;
    if (atol(colon + 1) > 65535)
        return BOT_EINVAL;
    memcpy(host, h, (size_t)(hend - h));
    host[hend - h] = '\0';
    strcpy(port, colon + 1);
    return BOT_OK;
}

static void
fmt_addr(const struct sockaddr *sa, char *out, size_t n)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;

        inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof(ip));
        port = ntohs(v4->sin_port);
        snprintf(out, n, "%s:%d", ip, port);
    } else {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;

        inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof(ip));
        port = ntohs(v6->sin6_port);
        snprintf(out, n, "[%s]:%d", ip, port);
    }
}

/* listen_on - a listening socket for each address of host:port (one port
 * for all when port is 0). *why static on failure. */
static int
listen_on(struct webhook *w, const char *host, const char *port,
          int need_loopback, const char **why)
{
    struct addrinfo hints, *res = NULL, *ai;
    char portbuf[8];
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    /* no AI_ADDRCONFIG: it drops ::1 on a machine without global IPv6 */
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(*host ? host : NULL, port, &hints, &res);
    if (rc) {
        *why = "[webhook] listen: the address does not resolve";
        return BOT_EINVAL;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        if (need_loopback && !addr_is_loopback(ai->ai_addr)) {
            freeaddrinfo(res);
            *why = "[webhook] token is required to listen beyond loopback "
                   "(set PMBOT_WEBHOOK_TOKEN)";
            return BOT_EINVAL;
        }
    }
    snprintf(portbuf, sizeof(portbuf), "%s", port);
    for (ai = res; ai && w->nls < LISTEN_MAX; ai = ai->ai_next) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        char shown[INET6_ADDRSTRLEN + 16];
        int fd, one = 1;

        if (strcmp(portbuf, "0")) {
            /* every address on the port the first one got */
            if (ai->ai_family == AF_INET)
                ((struct sockaddr_in *)ai->ai_addr)->sin_port =
                    htons((uint16_t)atoi(portbuf));
            else if (ai->ai_family == AF_INET6)
                ((struct sockaddr_in6 *)ai->ai_addr)->sin6_port =
                    htons((uint16_t)atoi(portbuf));
        }
        fd = socket(ai->ai_family,
                    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 4096) ||
            getsockname(fd, (struct sockaddr *)&ss, &sl)) {
            close(fd);
            continue;
        }
        fmt_addr((struct sockaddr *)&ss, shown, sizeof(shown));
        snprintf(portbuf, sizeof(portbuf), "%d",
                 ntohs(ss.ss_family == AF_INET
                           ? ((struct sockaddr_in *)&ss)->sin_port
                           : ((struct sockaddr_in6 *)&ss)->sin6_port));
        if (loop_fd_new(w->loop, fd, on_accept, w, &w->ls[w->nls].watch)) {
            close(fd);
            continue;
        }
        w->ls[w->nls].fd = fd;
        loop_fd_set(w->ls[w->nls].watch, LOOP_READ);
        w->nls++;
        log_info("webhook: listening on %s", shown);
    }
    if (ai)
        log_warn("webhook: %s resolves to more than %d addresses; listening "
                 "on the first %d only", *host ? host : "*", LISTEN_MAX,
                 LISTEN_MAX);
    freeaddrinfo(res);
    if (!w->nls) {
        *why = "cannot listen on that address (in use, or out of file "
               "descriptors?)";
        return BOT_EIO;
    }
    return BOT_OK;
}

/* new_context - the listener's own libwebsockets context on the loop:
 * its timeouts are longer than ours, so only our deadlines apply */
static int
new_context(struct webhook *w)
{
    struct lws_context_creation_info info;
    struct lws_context_creation_info vinfo;
    void *loops[1];

    memset(&info, 0, sizeof(info));
    loops[0] = loop_backend(w->loop);
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.options = LWS_SERVER_OPTION_LIBUV |
                   LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN |
                   LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.foreign_loops = loops;
    info.fd_limit_per_thread = WEBHOOK_CONN_MAX + 16;
    info.max_http_header_pool = WEBHOOK_CONN_MAX;
    info.timeout_secs = 400; /* beyond body_timeout's bound of 300 */
    info.pcontext = &w->ctx;
    w->ctx = lws_create_context(&info);
    if (!w->ctx)
        return BOT_EIO;
    memset(&vinfo, 0, sizeof(vinfo));
    vinfo.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    vinfo.protocols = protocols;
    vinfo.vhost_name = "pmbot-webhook";
    vinfo.user = w;
    vinfo.timeout_secs = 400;
    vinfo.timeout_secs_ah_idle = 400;
    vinfo.keepalive_timeout = 400;
    w->vh = lws_create_vhost(w->ctx, &vinfo);
    return w->vh ? BOT_OK : BOT_EIO;
}

int
webhook_new(struct bot *b, struct webhook **out, char **why)
{
    const char *swhy, *fault;
    char host[256], port[8];
    struct webhook *w;
    int rc;

    *why = NULL;
    if (split_listen(b->core.cfg->webhook_listen, host, sizeof(host), port,
                     sizeof(port), &swhy)) {
        *why = bot_strdup(swhy);
        return BOT_EINVAL;
    }
    w = bot_calloc(1, sizeof(*w));
    if (!w)
        return BOT_ENOMEM;
    w->b = b;
    w->loop = b->core.loop;
    w->spare_fd = -1;
    if (alarm_severity_map_parse(b->core.cfg->severity_map, &w->sev, &swhy)) {
        bot_free(w);
        *why = bot_strdup(swhy);
        return BOT_EINVAL;
    }
    if (loop_timer_new(w->loop, on_sweep, w, &w->sweep) || new_context(w)) {
        webhook_free(w);
        *why = bot_strdup("cannot start the listener");
        return BOT_EIO;
    }
    rc = listen_on(w, host, port, !b->core.cfg->webhook_token, &swhy);
    if (rc) {
        webhook_free(w);
        *why = bot_strdup(swhy);
        return rc;
    }
    w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    fault = getenv("PMBOT_FAULT");
    w->crash_after_ack = fault && !strcmp(fault, "crash-after-alarm-ack");
    if (w->crash_after_ack)
        bot_hold_channels(b, 1);
    *out = w;
    return BOT_OK;
}

static void
finish_destroy(void *arg)
{
    struct webhook *w = arg;
    struct conn *c;

    if (w->ctx)
        lws_context_destroy(w->ctx);
    while ((c = w->head)) { /* lws said no last word on these */
        conn_unlink(w, c);
        bot_free(c);
    }
    bot_free(w);
}

void
webhook_free(struct webhook *w)
{
    if (!w)
        return;
    w->closing = 1;
    for (int i = 0; i < w->nls; i++) {
        loop_fd_free(w->ls[i].watch);
        close(w->ls[i].fd);
    }
    w->nls = 0;
    loop_timer_free(w->sweep);
    if (w->spare_fd >= 0)
        close(w->spare_fd);
    if (!w->ctx) {
        bot_free(w);
        return;
    }
    /* as in ws.c: lws closes its handles while the loop drains, then a
     * second destroy frees the rest; requests still pending find their
     * wsi NULLed by req_cleanup when lws closes them */
    lws_context_destroy(w->ctx);
    if (!w->ctx || loop_on_drained(w->loop, finish_destroy, w))
        finish_destroy(w);
}
