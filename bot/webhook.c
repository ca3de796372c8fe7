/*
 * webhook.c - the HTTP listener (a libwebsockets server vhost on the bot's
 * loop): alarm intake, /healthz, /metrics.
 *
 * A request is checked in this order, and each failure answers at once and
 * changes nothing: path (404), method (405), declared size (413), body size
 * as it arrives (413), credentials on the raw bytes (401), payload (400).
 * Only then is the alarm written, in a transaction; the 2xx is sent from
 * that transaction's completion, so it always means "committed".
 */
#include "webhook.h"

#include "alarm.h"
#include "bot.h"
#include "config.h"
#include "err.h"
#include "incident.h"
#include "log.h"
#include "mem.h"
#include "store.h"
#include "strbuf.h"
#include "timeutil.h"
#include "ws.h"

#include <jansson.h>
#include <libwebsockets.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLAY_WINDOW_S 300

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

struct webhook {
    struct bot *b;
    struct lws_vhost *vh;
    int crash_after_ack; /* PMBOT_FAULT=crash-after-alarm-ack (tests) */
    struct alarm_severity_map sev;
};

/* An answer waiting for its transaction's commit. The request may be gone
 * by then (the client hung up): wsi is NULLed when it closes. */
struct pending {
    struct lws *wsi;
    struct req *r;
};

/* Per-request state; lws allocates it zeroed (per_session_data_size). */
struct req {
    int route;
    int post;
    int too_big;
    int answered;
    const struct config_mapping *mapping;
    struct strbuf body;
    char auth[512];
    char sig[160];
    char ts[32];
    int status;
    char *resp;       /* response body, new */
    const char *ctype;
    struct pending *pending;
};

static struct webhook *
wh_of(struct lws *wsi)
{
    return lws_vhost_user(lws_get_vhost(wsi));
}

static void
count(struct webhook *w, struct req *r, int status)
{
    char labels[96];

    snprintf(labels, sizeof(labels), "endpoint=\"%s\",status=\"%d\"",
             route_names[r->route], status);
    metrics_add(&w->b->metrics, "pmbot_webhook_requests_total", labels, 1);
}

/* answer - headers now, the body from the writable callback */
static int
answer(struct lws *wsi, struct req *r, int status, const char *ctype,
       char *body)
{
    unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start,
                                        *end = buf + sizeof(buf) - 1;
    size_t len = body ? strlen(body) : 0;

    count(wh_of(wsi), r, status);
    r->answered = 1;
    r->status = status;
    if (r->resp != body)
        bot_free(r->resp);
    r->resp = body;
    if (lws_add_http_common_headers(wsi, (unsigned)status, ctype, len, &p,
                                    end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
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
    const struct config *cfg = w->b->cfg;

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

static int
take(struct lws *wsi, struct webhook *w, struct req *r)
{
    struct bot *b = w->b;
    struct alarm a;
    const char *why = NULL, *status = NULL;
    int64_t id = 0;
    int rc;
    char num[32];
    json_t *o;
    char *s;

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

    rc = bot_tx_begin_grouped(b);
    if (!rc) {
        rc = incident_take_alarm(b, &a, b->cfg->default_severity, &id,
                                 &status);
        if (!rc)
            rc = store_tx_commit(b->store);
        if (rc)
            store_tx_rollback(b->store);
    }
    alarm_clear(&a);
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
    bot_after_commit(b);
    bot_finish(b, on_committed, r->pending, BOT_OK);
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
        if (bot_healthy(b, &why) && b->platform &&
            b->platform->ops->connected &&
                 !b->platform->ops->connected(b->platform, &why) && !why)
            why = "chat platform not connected";
        if (why)
            return answer(wsi, r, 503, "application/json",
                          json_reply("unavailable", why));
        return answer(wsi, r, 200, "application/json",
                      json_reply("status", "ok"));
    }
    strbuf_init(&out, 0);
    metrics_render(&b->metrics, &out);
    timeutil_fmt_date(bot_now_ms(b), today);
    store_incident_count_open(b->store, &open);
    store_action_count_open(b->store, today, &acts, &overdue);
    strbuf_printf(&out,
                  "# TYPE pmbot_incidents_open gauge\n"
                  "pmbot_incidents_open %ld\n"
                  "# TYPE pmbot_actions_open gauge\n"
                  "pmbot_actions_open %ld\n"
                  "# TYPE pmbot_actions_overdue gauge\n"
                  "pmbot_actions_overdue %ld\n",
                  open, acts, overdue);
    return answer(wsi, r, 200, "text/plain; version=0.0.4",
                  strbuf_steal(&out));
}

static void
hdr(struct lws *wsi, char *dst, size_t n, const char *name)
{
    int len = lws_hdr_custom_length(wsi, name, (int)strlen(name));

    dst[0] = '\0';
    if (len > 0 && (size_t)len < n)
        lws_hdr_custom_copy(wsi, dst, (int)n, name, (int)strlen(name));
}

static int
on_request(struct lws *wsi, struct webhook *w, struct req *r,
           const char *path)
{
    char clen[24];
    long declared;

    strbuf_init(&r->body, WEBHOOK_BODY_MAX);
    r->route = route_of(w, path, r);
    r->post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
    if (r->route == ROUTE_NONE)
        return error(wsi, r, 404, "no such endpoint");
    if (r->route == ROUTE_HEALTHZ || r->route == ROUTE_METRICS) {
        if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0)
            return error(wsi, r, 405, "use GET");
        return serve_get(wsi, w, r);
    }
    if (!r->post)
        return error(wsi, r, 405, "use POST");
    if (lws_hdr_copy(wsi, clen, sizeof(clen), WSI_TOKEN_HTTP_CONTENT_LENGTH) >
            0 &&
        (parse_long(clen, 0, 1L << 40, &declared) ||
         declared > WEBHOOK_BODY_MAX)) {
        r->too_big = 1;
        return error(wsi, r, 413, "body over 1 MiB");
    }
    if (lws_hdr_copy(wsi, r->auth, sizeof(r->auth),
                     WSI_TOKEN_HTTP_AUTHORIZATION) < 0)
        r->auth[0] = '\0';
    hdr(wsi, r->sig, sizeof(r->sig), "x-pmbot-signature:");
    hdr(wsi, r->ts, sizeof(r->ts), "x-pmbot-timestamp:");
    /* a client that never finishes its body is dropped */
    lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, w->b->cfg->body_timeout);
    return 0;
}

static int
on_body_complete(struct lws *wsi, struct webhook *w, struct req *r)
{
    const char *token = w->b->cfg->webhook_token, *why = NULL;

    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    if (r->too_big)
        return 0;
    if (token && !bearer_ok(token, r->auth) &&
        !(r->sig[0] && hmac_ok(token, r, bot_now_ms(w->b) / 1000, &why)))
        return error(wsi, r, 401,
                     why ? why : "missing or wrong credentials");
    return take(wsi, w, r);
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
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
         void *in, size_t len)
{
    struct req *r = user;
    struct webhook *w;

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        w = wh_of(wsi);
        memset(r, 0, sizeof(*r));
        return on_request(wsi, w, r, in);
    case LWS_CALLBACK_HTTP_BODY:
        if (r->answered)
            return 0;
        if (strbuf_append(&r->body, in, len)) {
            r->too_big = 1;
            return error(wsi, r, 413, "body over 1 MiB");
        }
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (r->answered)
            return 0;
        return on_body_complete(wsi, wh_of(wsi), r);
    case LWS_CALLBACK_HTTP_WRITEABLE: {
        size_t n = r->resp ? strlen(r->resp) : 0;
        unsigned char *buf;
        int close;

        if (!r->answered || r->pending)
            return 0;
        buf = bot_malloc(LWS_PRE + n + 1);
        if (!buf)
            return -1;
        memcpy(buf + LWS_PRE, r->resp ? r->resp : "", n);
        if (lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_HTTP_FINAL) <
            (int)n) {
            bot_free(buf);
            return -1;
        }
        bot_free(buf);
        w = wh_of(wsi);
        if (w->crash_after_ack && r->status == 201) {
            /* fault injection: die between the 2xx and the channel */
            log_warn("webhook: PMBOT_FAULT: killing pmbot after the 2xx");
            raise(SIGKILL);
        }
        close = r->too_big;
        req_cleanup(r);
        memset(r, 0, sizeof(*r));
        if (close)
            return -1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        req_cleanup(r);
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"pmbot-http", callback, sizeof(struct req), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static int
is_loopback(const char *host)
{
    return !strcmp(host, "127.0.0.1") || !strcmp(host, "::1") ||
           !strcmp(host, "localhost") || !strncmp(host, "127.", 4);
}

int
webhook_new(struct bot *b, struct ws_ctx *ws, struct webhook **out,
            char **why)
{
    struct lws_context_creation_info info;
    const char *listen = b->cfg->webhook_listen, *colon, *fault, *swhy;
    char host[64];
    long port;
    struct webhook *w;

    *why = NULL;
    colon = listen ? strrchr(listen, ':') : NULL;
    if (!colon || (size_t)(colon - listen) >= sizeof(host) ||
        parse_long(colon + 1, 0, 65535, &port)) {
        *why = bot_strdup("[webhook] listen: use address:port, e.g. "
                          "127.0.0.1:8088");
        return BOT_EINVAL;
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    if (!b->cfg->webhook_token && !is_loopback(host)) {
        *why = bot_strdup("[webhook] token is required to listen beyond "
                          "loopback (set PMBOT_WEBHOOK_TOKEN)");
        return BOT_EINVAL;
    }
    w = bot_calloc(1, sizeof(*w));
    if (!w)
        return BOT_ENOMEM;
    w->b = b;
    if (alarm_severity_map_parse(b->cfg->severity_map, &w->sev, &swhy)) {
        bot_free(w);
        *why = bot_strdup(swhy);
        return BOT_EINVAL;
    }
    fault = getenv("PMBOT_FAULT");
    w->crash_after_ack = fault && !strcmp(fault, "crash-after-alarm-ack");
    if (w->crash_after_ack)
        bot_hold_channels(b, 1);
    memset(&info, 0, sizeof(info));
    info.port = (int)port;
    info.iface = host;
    info.protocols = protocols;
    info.vhost_name = "pmbot-webhook";
    info.user = w;
    info.timeout_secs = (unsigned)b->cfg->body_timeout;
    info.keepalive_timeout = 30;
    w->vh = lws_create_vhost(ws_ctx_lws(ws), &info);
    if (!w->vh) {
        bot_free(w);
        *why = bot_strdup("cannot listen on that address (in use?)");
        return BOT_EIO;
    }
    log_info("webhook: listening on %s:%d", host,
             lws_get_vhost_listen_port(w->vh));
    *out = w;
    return BOT_OK;
}

void
webhook_free(struct webhook *w)
{
    if (!w)
        return;
    /* the vhost goes with the context; requests still pending find their
     * wsi NULLed by req_cleanup when lws closes them */
    bot_free(w);
}
