/*
 * webapi.h - the queue of calls to a chat platform's HTTP API (Slack's Web
 * API today, Matrix's client-server API next), on the bot's loop.
 *
 * Owns: the calls from queueing to their answer (at most WEBAPI_INFLIGHT
 * out at once, the rest wait in one queue ordered by when they may go),
 * the rate-limit gates (a 429 closes the gate of its key until
 * Retry-After has passed; later calls of that key wait behind it), the
 * retries of transient failures with backoff, and the order of serial
 * keys (one call out at a time, a retried one keeps its place). Also the
 * libcurl handle (struct http) the calls go through.
 * Does not own: what an answer means. The platform says it through a
 * struct webapi_desc: its base URL and token, which keys are serial, and
 * judge(), which reads an answer as done (with the result for the caller)
 * or transient (tried again while attempts remain).
 *
 * Callbacks: a call's fn runs exactly once, from the loop (inside
 * webapi_call only when the call cannot be made: BOT_ENOMEM), with
 * BOT_ECANCELED when the queue is freed first; the
 * answer's body is borrowed for the call (NULL when there is none). The
 * call and its extra strings are freed after fn returns.
 * Errors: webapi_new returns BOT_ENOMEM or BOT_EIO.
 */
#ifndef PMBOT_WEBAPI_H
#define PMBOT_WEBAPI_H

#include <stddef.h>
#include <stdint.h>

struct http;
struct loop;
struct webapi;
struct webapi_call;

#define WEBAPI_INFLIGHT     16 /* calls out at once */
#define WEBAPI_MAX_ATTEMPTS 5
#define WEBAPI_MAX_GATES    32

typedef void webapi_fn(struct webapi_call *c, int rc, const char *body,
                       size_t len);

/* What the platform tells the queue. Borrowed; must outlive the queue. */
struct webapi_desc {
    const char *name;     /* log prefix: "slack" */
    const char *base_url; /* the method is appended: ".../api/" */
    const char *token;    /* the default bearer token; never logged */
    /* serial - keys sent one at a time, in order (posts) */
    int (*serial)(const char *key);
    /*
     * judge - an HTTP answer (status, body) of call c. Sets *rc to what
     * the caller gets (BOT_OK or the platform's error as a BOT_* code) and
     * *error to a new string naming the platform's error for logs (or
     * NULL); returns 1 when the failure is transient (tried again while
     * attempts remain; then *rc is what the caller gets when they run
     * out), else 0. The desc logs final failures itself.
     */
    int (*judge)(void *arg, const struct webapi_call *c, long status,
                 const char *body, size_t len, int *rc, char **error);
    /* count - one answer of key with outcome "answered", "ratelimited",
     * "transport_error" or "http_error" (metrics); nullable */
    void (*count)(void *arg, const char *key, const char *outcome);
    /* retry_ms - a 429's wait read from its body (Matrix's
     * retry_after_ms), in ms, or -1; nullable. It wins over Retry-After,
     * which is whole seconds. */
    long (*retry_ms)(void *arg, const char *body, size_t len);
    /* pace - after a 429, the key's calls leave that wait apart for a
     * minute (a token bucket such as Synapse's: met, not hit again at
     * once); 0 for limits averaged over minutes (Slack's) */
    int pace;
    void *arg;
};

/* A call. The queue owns it; the caller's fields may be set until the
 * caller returns to the loop (the call leaves at the next turn at the
 * earliest). */
struct webapi_call {
    struct webapi_call *next;
    struct webapi *q;
    char method[48]; /* also the gate's key */
    char *path;      /* appended to base_url instead of method (taken;
                        already %-escaped): a Matrix room's path */
    const char *verb; /* "PUT", or NULL: POST with a body, else GET */
    char *url;       /* raw: the whole URL (an upload), no token, no gate */
    char *query;     /* query string of a GET; nullable */
    char *body;      /* POST body; nullable (then a GET) */
    size_t len;
    const char *ctype;
    const char *token; /* borrowed: another bearer than desc->token */
    int attempt;
    int64_t not_before;
    webapi_fn *fn;
    /* the caller's: what the platform op wants back, per-op state */
    void *ctx;
    void *cb;
    void *arg;
    char *extra, *extra2; /* freed with the call */
};

int webapi_new(struct loop *loop, const struct webapi_desc *d,
               struct webapi **out);

/* webapi_free - cancel: queued calls and those in flight get
 * BOT_ECANCELED (calls their fns queue meanwhile too), then free. */
void webapi_free(struct webapi *q);

/* webapi_http - the queue's HTTP client, for a request outside the queue
 * (a reply to a URL Slack gave). Borrowed. */
struct http *webapi_http(struct webapi *q);

/*
 * webapi_call - queue method with body (taken; NULL for a GET, then set
 * c->query), ctype its content type. Returns the call to fill in, or NULL
 * when it could not be made: fn has then run with BOT_ENOMEM (on a stack
 * call carrying ctx, cb and arg).
 */
struct webapi_call *webapi_call(struct webapi *q, const char *method,
                                char *body, const char *ctype, webapi_fn *fn,
                                void *ctx, void *cb, void *arg);

/* webapi_hold - on: calls are queued but none leaves (a login under way);
 * off: they go. */
void webapi_hold(struct webapi *q, int on);

/* webapi_fail_all - every queued call gets rc now (a token refused for
 * good: they would all fail the same way). */
void webapi_fail_all(struct webapi *q, int rc);

#endif
