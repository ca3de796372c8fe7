/*
 * http.h - asynchronous HTTP requests (libcurl's multi interface) driven by
 * the bot's loop, so a slow request never blocks anything else.
 *
 * Owns: the curl multi handle, every request in flight and its buffers.
 * Callbacks: http_send's callback is called exactly once per request, from
 * the loop (never from inside http_send), with the response borrowed for
 * the call; on http_free every request still in flight completes with
 * status 0 and error "canceled".
 * Errors: http_new / http_send return BOT_ENOMEM or BOT_EIO.
 */
#ifndef PMBOT_HTTP_H
#define PMBOT_HTTP_H

#include <stddef.h>

struct http;
struct loop;

struct http_request {
    const char *method; /* "GET", "POST" or "PUT" */
    const char *url;
    const char *auth_bearer;  /* token for Authorization; nullable */
    const char *content_type; /* nullable */
    const char *body;         /* nullable; copied */
    size_t body_len;
    long timeout_ms; /* 0: 30 s */
};

struct http_response {
    long status;      /* HTTP status; 0 when no response arrived */
    const char *body; /* NUL-terminated */
    size_t len;
    long retry_after; /* seconds from Retry-After, or -1 */
    const char *error; /* transport error text when status is 0 */
};

typedef void http_done_fn(void *arg, const struct http_response *r);

int http_new(struct loop *loop, struct http **out);
void http_free(struct http *h);

/* http_send - start a request; the response body is capped at 8 MiB. */
int http_send(struct http *h, const struct http_request *req,
              http_done_fn *cb, void *arg);

/* http_url_escape - new %-escaped copy of s for a query or form value. */
char *http_url_escape(const char *s);

#endif
