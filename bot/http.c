/*
 * http.c - libcurl multi-socket on the loop facade.
 *
 * curl tells us which sockets to watch (socket callback) and when to wake
 * it (timer callback); the loop tells curl what happened through
 * curl_multi_socket_action, and finished transfers are collected after each
 * action. Completion callbacks run from a zero-delay loop timer, never from
 * inside curl's own callbacks, so a callback may start new requests.
 */
#include "http.h"

#include "err.h"
#include "log.h"
#include "loop.h"
#include "mem.h"
#include "strbuf.h"
#include "tls.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BODY_MAX (8u * 1024u * 1024u)
#define POOL_MAX 16 /* idle easy handles kept for reuse */

struct req {
    struct req *next, *prev; /* in flight */
    struct http *h;
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    struct strbuf resp;
    long retry_after;
    http_done_fn *cb;
    void *arg;
    CURLcode result;
    char errbuf[CURL_ERROR_SIZE];
};

struct http {
    struct loop *loop;
    CURLM *multi;
    struct loop_timer *timer; /* curl's timeout */
    struct loop_timer *reap;  /* runs completions outside curl callbacks */
    struct req *live;
    struct req *done; /* finished, callbacks pending */
    CURL *pool[POOL_MAX]; /* reset easy handles: no new one per request */
    int npool;
};

struct sock {
    struct http *h;
    struct loop_fd *w;
};

static void
req_free(struct req *r)
{
    curl_slist_free_all(r->headers);
    if (r->easy && r->h->npool < POOL_MAX) {
        curl_easy_reset(r->easy);
        r->h->pool[r->h->npool++] = r->easy;
    } else if (r->easy) {
        curl_easy_cleanup(r->easy);
    }
    bot_free(r->body);
    strbuf_cleanup(&r->resp);
    bot_free(r);
}

static void
unlink_live(struct http *h, struct req *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        h->live = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->next = r->prev = NULL;
}

static void
complete(struct req *r, int canceled)
{
    struct http_response resp = {0};
    long status = 0;

    if (!canceled && r->result == CURLE_OK)
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    resp.status = status;
    resp.body = strbuf_str(&r->resp);
    resp.len = r->resp.len;
    resp.retry_after = r->retry_after;
    if (canceled)
        resp.error = "canceled";
    else if (r->result != CURLE_OK)
        resp.error = r->errbuf[0] ? r->errbuf
                                  : curl_easy_strerror(r->result);
    if (r->cb)
        r->cb(r->arg, &resp);
}

static void
on_reap(void *arg)
{
    struct http *h = arg;
    struct req *r;

    while ((r = h->done)) {
        h->done = r->next;
        complete(r, 0);
        req_free(r);
    }
}

/* collect - move finished transfers to the done list */
static void
collect(struct http *h)
{
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(h->multi, &left))) {
        struct req *r;

        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        r->result = m->data.result;
        curl_multi_remove_handle(h->multi, r->easy);
        unlink_live(h, r);
        r->next = h->done;
        h->done = r;
        loop_timer_start(h->reap, 0, 0);
    }
}

static void
on_fd(void *arg, int fd, int events)
{
    struct sock *s = arg;
    int flags = 0, running;

    if (events & LOOP_READ)
        flags |= CURL_CSELECT_IN;
    if (events & LOOP_WRITE)
        flags |= CURL_CSELECT_OUT;
    if (events & LOOP_ERROR)
        flags |= CURL_CSELECT_ERR;
    /* s may be freed inside this call (CURL_POLL_REMOVE): keep h */
    struct http *h = s->h;

    curl_multi_socket_action(h->multi, fd, flags, &running);
    collect(h);
}

static int
sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
    struct http *h = userp;
    struct sock *s = sockp;
    int ev = 0;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            loop_fd_free(s->w);
            bot_free(s);
            curl_multi_assign(h->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = bot_calloc(1, sizeof(*s));
        if (!s)
            return -1;
        s->h = h;
        if (loop_fd_new(h->loop, fd, on_fd, s, &s->w)) {
            bot_free(s);
            return -1;
        }
        curl_multi_assign(h->multi, fd, s);
    }
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        ev |= LOOP_READ;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        ev |= LOOP_WRITE;
    loop_fd_set(s->w, ev);
    return 0;
}

static void
on_timeout(void *arg)
{
    struct http *h = arg;
    int running;

    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    collect(h);
}

static int
timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct http *h = userp;

    (void)multi;
    if (timeout_ms < 0)
        loop_timer_stop(h->timer);
    else
        loop_timer_start(h->timer, (uint64_t)timeout_ms, 0);
    return 0;
}

int
http_new(struct loop *loop, struct http **out)
{
    static int global_done;
    struct http *h;

    if (!global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT))
            return BOT_EIO;
        global_done = 1;
    }
    h = bot_calloc(1, sizeof(*h));
    if (!h)
        return BOT_ENOMEM;
    h->loop = loop;
    h->multi = curl_multi_init();
    if (!h->multi || loop_timer_new(loop, on_timeout, h, &h->timer) ||
        loop_timer_new(loop, on_reap, h, &h->reap)) {
        http_free(h);
        return BOT_ENOMEM;
    }
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    *out = h;
    return BOT_OK;
}

void
http_free(struct http *h)
{
    struct req *r;

    if (!h)
        return;
    while ((r = h->live)) {
        unlink_live(h, r);
        curl_multi_remove_handle(h->multi, r->easy);
        complete(r, 1);
        req_free(r);
    }
    while ((r = h->done)) {
        h->done = r->next;
        complete(r, 0);
        req_free(r);
    }
    if (h->multi)
        curl_multi_cleanup(h->multi);
    while (h->npool)
        curl_easy_cleanup(h->pool[--h->npool]);
    loop_timer_free(h->timer);
    loop_timer_free(h->reap);
    bot_free(h);
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
    struct req *r = arg;

    if (strbuf_append(&r->resp, p, size * n))
        return 0; /* over the cap: curl aborts the transfer */
    return size * n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
    struct req *r = arg;
    size_t len = size * n;

    if (len > 12 && !strncasecmp(p, "Retry-After:", 12)) {
        char num[16];
        size_t k = len - 12 < sizeof(num) - 1 ? len - 12 : sizeof(num) - 1;

        memcpy(num, p + 12, k);
        num[k] = '\0';
        r->retry_after = strtol(num, NULL, 10);
    }
    return len;
}

int
http_send(struct http *h, const struct http_request *q, http_done_fn *cb,
          void *arg)
{
    struct req *r = bot_calloc(1, sizeof(*r));
    struct strbuf hdr;
    struct curl_slist *l;

    if (!r)
        return BOT_ENOMEM;
    r->h = h;
    r->cb = cb;
    r->arg = arg;
    r->retry_after = -1;
    strbuf_init(&r->resp, BODY_MAX);
    r->easy = h->npool ? h->pool[--h->npool] : curl_easy_init();
    if (!r->easy)
        goto fail;
    strbuf_init(&hdr, 0);
    if (q->auth_bearer) {
        /* built in a buffer that is wiped: the token must not linger */
        strbuf_printf(&hdr, "Authorization: Bearer %s", q->auth_bearer);
        l = curl_slist_append(r->headers, strbuf_str(&hdr));
        memset(hdr.buf, 0, hdr.len);
        strbuf_cleanup(&hdr);
        if (!l)
            goto fail;
        r->headers = l;
    }
    if (q->content_type) {
        strbuf_printf(&hdr, "Content-Type: %s", q->content_type);
        l = curl_slist_append(r->headers, strbuf_str(&hdr));
        strbuf_cleanup(&hdr);
        if (!l)
            goto fail;
        r->headers = l;
    }
    /* no "Expect: 100-continue" round trip on POST */
    l = curl_slist_append(r->headers, "Expect:");
    if (!l)
        goto fail;
    r->headers = l;
    curl_easy_setopt(r->easy, CURLOPT_URL, q->url);
    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
    curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS,
                     q->timeout_ms ? q->timeout_ms : 30000L);
    curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(r->easy, CURLOPT_USERAGENT, "pmbot");
    /* the same CAs as the websocket (tls.h): the directory by hash
     * rather than the whole bundle in memory, unless a file is asked for */
    if (tls_ca_dir() || tls_ca_file()) {
        curl_easy_setopt(r->easy, CURLOPT_CAINFO, tls_ca_file());
        curl_easy_setopt(r->easy, CURLOPT_CAPATH, tls_ca_dir());
    }
    if (!strcmp(q->method, "POST") || !strcmp(q->method, "PUT")) {
        r->body = bot_malloc(q->body_len + 1);
        if (!r->body)
            goto fail;
        if (q->body_len)
            memcpy(r->body, q->body, q->body_len);
        r->body[q->body_len] = '\0';
        curl_easy_setopt(r->easy, CURLOPT_POST, 1L);
        curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->body);
        curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE, (long)q->body_len);
        if (q->method[1] == 'U') /* a PUT, with its body as POST sends it */
            curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, "PUT");
    }
    if (curl_multi_add_handle(h->multi, r->easy))
        goto fail;
    r->next = h->live;
    if (h->live)
        h->live->prev = r;
    h->live = r;
    /* start it now rather than at curl's next timeout: a channel for an
     * alarm should not wait a timer tick (we are not inside a curl
     * callback here: completions run from the reap timer) */
    {
        int running;

        curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        collect(h);
    }
    return BOT_OK;

fail:
    req_free(r);
    return BOT_ENOMEM;
}

char *
http_url_escape(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0);
    char *d;

    if (!e)
        return NULL;
    d = bot_strdup(e);
    curl_free(e);
    return d;
}
