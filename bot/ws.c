/*
 * ws.c - libwebsockets client connections on the loop.
 *
 * libwebsockets runs on the loop's libuv backend as a foreign loop, so the
 * websockets, curl and every timer share one thread and one loop.
 */
#include "ws.h"

#include "err.h"
#include "log.h"
#include "loop.h"
#include "mem.h"
#include "strbuf.h"
#include "tls.h"

#include <libwebsockets.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <string.h>

#define RX_MAX (4u * 1024u * 1024u)

struct frame {
    struct frame *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE bytes of headroom, then the text */
};

struct ws_conn {
    struct ws_conn *next, *prev; /* in the context */
    struct ws_ctx *x;
    struct lws *wsi;
    const struct ws_handler *h; /* NULL once closed by the owner */
    void *arg;
    struct frame *q, **qtail;
    struct strbuf rx;
    int closing;
};

struct ws_ctx {
    struct loop *loop;
    struct lws_context *ctx;
    struct ws_conn *conns;
    struct ws_conn *connecting; /* inside ws_connect; NULLed if freed */
};

/* Ping after 10 s of silence, give up after 30 s: a half-open link (a NAT
 * dropped it) is noticed instead of waiting forever. */
static const lws_retry_bo_t idle_policy = {
    .secs_since_valid_ping = 10,
    .secs_since_valid_hangup = 30,
};

static void
conn_unlink_free(struct ws_conn *c)
{
    struct frame *f, *n;

    if (c->x && c->x->connecting == c)
        c->x->connecting = NULL;
    if (c->prev)
        c->prev->next = c->next;
    else if (c->x)
        c->x->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    for (f = c->q; f; f = n) {
        n = f->next;
        bot_free(f);
    }
    strbuf_cleanup(&c->rx);
    bot_free(c);
}

/*
 * write_queue - every queued message in one send. libwebsockets writes a
 * frame per call, and each costs a send(), a read() of /dev/urandom for
 * its mask and a poll(): at thousands of acks a second that was most of
 * pmbot's time in the kernel. So the frames (RFC 6455 5.2: FIN + text,
 * the length, a mask from OpenSSL's generator, the masked payload) are
 * laid end to end and handed over raw; libwebsockets keeps what the
 * socket does not take and sends it before anything else.
 */
static int
write_queue(struct ws_conn *c, struct lws *wsi)
{
    size_t total = 0, n = 0, off = LWS_PRE;
    unsigned char *buf, *keys;
    struct frame *f;
    int rc = 0;

    for (f = c->q; f; f = f->next, n++)
        total += 2 + (f->len > 65535 ? 8 : f->len > 125 ? 2 : 0) + 4 + f->len;
    buf = bot_malloc(LWS_PRE + total + 4 * n);
    if (!buf)
        return -1;
    keys = buf + LWS_PRE + total;
    if (RAND_bytes(keys, (int)(4 * n)) != 1) {
        bot_free(buf);
        return -1;
    }
    while ((f = c->q)) {
        const unsigned char *mask = keys;

        c->q = f->next;
        buf[off++] = 0x81;
        if (f->len > 65535) {
            buf[off++] = 0x80 | 127;
            for (int i = 7; i >= 0; i--)
                buf[off++] = (unsigned char)((uint64_t)f->len >> (8 * i));
        } else if (f->len > 125) {
            buf[off++] = 0x80 | 126;
            buf[off++] = (unsigned char)(f->len >> 8);
            buf[off++] = (unsigned char)f->len;
        } else {
            buf[off++] = (unsigned char)(0x80 | f->len);
        }
        memcpy(buf + off, mask, 4);
        off += 4;
        for (size_t i = 0; i < f->len; i++)
            buf[off + i] = f->buf[LWS_PRE + i] ^ mask[i & 3];
        off += f->len;
        keys += 4;
        bot_free(f);
    }
    c->qtail = &c->q;
    if (lws_write(wsi, buf + LWS_PRE, total, LWS_WRITE_RAW) < (int)total)
        rc = -1;
    bot_free(buf);
    return rc;
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
         void *in, size_t len)
{
    struct ws_conn *c = lws_get_opaque_user_data(wsi);

    (void)user;
    switch (reason) {
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS:
        tls_load_ca(user); /* lws loads no bundle of its own */
        break;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        /* lws drops a writable request made before the handshake: ask
         * again for anything queued that early */
        if (c && c->q)
            lws_callback_on_writable(wsi);
        if (c && c->h)
            c->h->on_open(c->arg, c);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (!c || !c->h)
            break;
        if (strbuf_append(&c->rx, in, len)) {
            log_warn("ws: message over %u bytes dropped", RX_MAX);
            return -1;
        }
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            c->h->on_message(c->arg, c, strbuf_str(&c->rx), c->rx.len);
            /* the handler may have closed us: c->h is then NULL */
            strbuf_reset(&c->rx);
        }
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (!c)
            break;
        if (c->closing && !c->q) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        if (c->q && write_queue(c, wsi))
            return -1;
        if (c->q || c->closing)
            lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c)
            log_warn("ws: connection failed: %s",
                     in ? (const char *)in : "unknown error");
        __attribute__((fallthrough));
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (!c)
            break;
        lws_set_opaque_user_data(wsi, NULL);
        c->wsi = NULL;
        if (c->h)
            c->h->on_close(c->arg, c);
        conn_unlink_free(c);
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    /* a large receive buffer: more envelopes per read, so more of them
     * share one commit */
    {"pmbot-ws", callback, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void
lws_log(int level, const char *line)
{
    size_t n = strlen(line);

    /* lws lines end in a newline; ours add their own */
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    if (level & LLL_ERR)
        log_err("lws: %.*s", (int)n, line);
    else
        log_debug("lws: %.*s", (int)n, line);
}

int
ws_ctx_new(struct loop *loop, struct ws_ctx **out)
{
    struct lws_context_creation_info info;
    void *loops[1];
    struct ws_ctx *x = bot_calloc(1, sizeof(*x));

    if (!x)
        return BOT_ENOMEM;
    x->loop = loop;
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
    memset(&info, 0, sizeof(info));
    loops[0] = loop_backend(loop);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
                   LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS |
                   LWS_SERVER_OPTION_LIBUV |
                   LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN;
    info.foreign_loops = loops;
    /* lws sizes its fd tables by the process's fd limit (400 KB at a
     * limit of 20,000); 4,096 sockets (Slack's, the listener's clients)
     * cost 64 KB */
    info.fd_limit_per_thread = 4096;
    info.pcontext = &x->ctx; /* NULLed when lws has finished destroying */
    x->ctx = lws_create_context(&info);
    if (!x->ctx) {
        log_err("ws: cannot create the libwebsockets context (is "
                "libwebsockets-evlib-uv installed?)");
        bot_free(x);
        return BOT_EIO;
    }
    *out = x;
    return BOT_OK;
}

static void
finish_destroy(void *arg)
{
    struct ws_ctx *x = arg;

    if (x->ctx)
        lws_context_destroy(x->ctx);
    bot_free(x);
}

void
ws_ctx_free(struct ws_ctx *x)
{
    struct ws_conn *c;

    if (!x)
        return;
    /* detach every connection first: lws reports closes during destroy,
     * and those must find nothing of ours */
    while ((c = x->conns)) {
        x->conns = c->next;
        if (c->wsi)
            lws_set_opaque_user_data(c->wsi, NULL);
        c->x = NULL;
        c->prev = c->next = NULL;
        conn_unlink_free(c);
    }
    /* on a foreign loop lws finishes in two steps: its handles close
     * while the loop drains, then a second destroy frees the rest (and
     * unloads the libuv plugin, so it must come last) */
    lws_context_destroy(x->ctx);
    if (!x->ctx || loop_on_drained(x->loop, finish_destroy, x))
        finish_destroy(x);
}

void *
ws_ctx_lws(struct ws_ctx *x)
{
    return x->ctx;
}

int
ws_connect(struct ws_ctx *x, const char *url, const struct ws_handler *h,
           void *arg, struct ws_conn **out)
{
    struct lws_client_connect_info i;
    char buf[1024], path[1024];
    const char *prot, *addr, *p;
    int port;
    struct ws_conn *c;

    if (strlen(url) >= sizeof(buf))
        return BOT_EINVAL;
    memcpy(buf, url, strlen(url) + 1);
    if (lws_parse_uri(buf, &prot, &addr, &port, &p))
        return BOT_EINVAL;
    if (strcmp(prot, "ws") && strcmp(prot, "wss"))
        return BOT_EINVAL;
    snprintf(path, sizeof(path), "/%s", p); /* lws_parse_uri drops the / */
    c = bot_calloc(1, sizeof(*c));
    if (!c)
        return BOT_ENOMEM;
    c->x = x;
    c->h = NULL; /* no callbacks until ws_connect has returned */
    c->arg = arg;
    c->qtail = &c->q;
    strbuf_init(&c->rx, RX_MAX);
    c->next = x->conns;
    if (x->conns)
        x->conns->prev = c;
    x->conns = c;

    memset(&i, 0, sizeof(i));
    i.context = x->ctx;
    i.address = addr;
    i.port = port;
    i.path = path;
    i.host = addr;
    i.origin = addr;
    i.ssl_connection = strcmp(prot, "wss") ? 0 : LCCSCF_USE_SSL;
    i.protocol = NULL; /* Slack sends no subprotocol */
    i.local_protocol_name = "pmbot-ws";
    i.retry_and_idle_policy = &idle_policy;
    i.opaque_user_data = c;
    i.pwsi = &c->wsi;
    x->connecting = c;
    if (!lws_client_connect_via_info(&i)) {
        /* callback() may have freed c already (connection error) */
        if (x->connecting)
            conn_unlink_free(c);
        x->connecting = NULL;
        return BOT_EIO;
    }
    x->connecting = NULL;
    c->h = h;
    *out = c;
    return BOT_OK;
}

int
ws_send(struct ws_conn *c, const char *text, size_t len)
{
    struct frame *f;

    if (!c->wsi || c->closing)
        return BOT_EIO;
    f = bot_malloc(sizeof(*f) + LWS_PRE + len);
    if (!f)
        return BOT_ENOMEM;
    f->next = NULL;
    f->len = len;
    memcpy(f->buf + LWS_PRE, text, len);
    /* one writable request for the whole queue: each request restarts
     * the socket's poll in libuv (two epoll_ctl calls) */
    if (!c->q)
        lws_callback_on_writable(c->wsi);
    *c->qtail = f;
    c->qtail = &f->next;
    return BOT_OK;
}

void
ws_pause(struct ws_conn *c, int paused)
{
    if (c->wsi)
        lws_rx_flow_control(c->wsi, !paused);
}

void
ws_close(struct ws_conn *c)
{
    c->h = NULL;
    if (!c->wsi) {
        conn_unlink_free(c);
        return;
    }
    c->closing = 1;
    lws_callback_on_writable(c->wsi);
}
