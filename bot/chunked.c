/*
 * chunked.c - a chunked request body through http_parser.
 *
 * http_parser reads whole messages, so each decoder is primed with a
 * request head that declares the framing the real head declared; from
 * then on every byte fed is the body's.
 */
#include "chunked.h"

#include "err.h"
#include "mem.h"
#include "strbuf.h"

#include <http_parser.h>

struct chunked {
    http_parser p;
    struct strbuf *out; /* during a feed */
    int out_err;        /* the strbuf's refusal */
    int done;
    int failed;
};

static int
on_body(http_parser *p, const char *at, size_t len)
{
    struct chunked *c = p->data;
    int rc = strbuf_append(c->out, at, len);

    if (rc) {
        c->out_err = rc;
        return -1;
    }
    return 0;
}

static int
on_done(http_parser *p)
{
    struct chunked *c = p->data;

    c->done = 1;
    http_parser_pause(p, 1); /* anything after the last chunk is refused */
    return 0;
}

static const http_parser_settings settings = {
    .on_body = on_body,
    .on_message_complete = on_done,
};

int
chunked_new(struct chunked **out)
{
    static const char head[] = "POST / HTTP/1.1\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n";
    struct chunked *c = bot_calloc(1, sizeof(*c));

    if (!c)
        return BOT_ENOMEM;
    http_parser_init(&c->p, HTTP_REQUEST);
    c->p.data = c;
    http_parser_execute(&c->p, &settings, head, sizeof(head) - 1);
    *out = c;
    return BOT_OK;
}

void
chunked_free(struct chunked *c)
{
    bot_free(c);
}

int
chunked_feed(struct chunked *c, const char *in, size_t len,
             struct strbuf *out, const char **why)
{
    size_t used;

    if (c->failed) {
        *why = "bad chunked body";
        return BOT_EINVAL;
    }
    if (c->done) {
        if (!len)
            return CHUNKED_DONE;
        c->failed = 1;
        *why = "data after the last chunk";
        return BOT_EINVAL;
    }
    if (!len)
        return CHUNKED_MORE;
    c->out = out;
    used = http_parser_execute(&c->p, &settings, in, len);
    c->out = NULL;
    if (c->out_err) {
        c->failed = 1;
        *why = c->out_err == BOT_EINVAL ? "too big" : "out of memory";
        return c->out_err;
    }
    if (c->done) {
        if (used < len) {
            c->failed = 1;
            *why = "data after the last chunk";
            return BOT_EINVAL;
        }
        return CHUNKED_DONE;
    }
    if (used != len || HTTP_PARSER_ERRNO(&c->p) != HPE_OK) {
        c->failed = 1;
        *why = "bad chunked body";
        return BOT_EINVAL;
    }
    return CHUNKED_MORE;
}
