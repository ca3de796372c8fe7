/*
 * loop.c - the loop facade over libuv.
 *
 * Every handle made here is closed by loop_free() if its owner has not freed
 * it, so a shutdown from any state leaves no handle behind (valgrind-clean).
 * Handles are freed in their close callback, as libuv requires.
 */
#include "loop.h"

#include "err.h"
#include "log.h"
#include "mem.h"
#include "strbuf.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

struct owner;

struct drained {
    struct drained *next;
    void (*fn)(void *);
    void *arg;
};

struct loop {
    uv_loop_t uv;
    struct owner *owned; /* our handles; others (lws) are not ours */
    struct drained *drained;
};

/* Every handle's data points at a struct that starts with this, so
 * loop_free() can release an owner it closes on the owner's behalf. */
struct owner {
    void (*release)(void *self);
    struct owner *next, *prev;
    struct loop *loop;
    uv_handle_t *handle;
};

static void
own(struct loop *l, struct owner *o, uv_handle_t *h, void (*release)(void *))
{
    o->release = release;
    o->loop = l;
    o->handle = h;
    o->prev = NULL;
    o->next = l->owned;
    if (l->owned)
        l->owned->prev = o;
    l->owned = o;
    h->data = o;
}

struct loop_timer {
    struct owner own;
    uv_timer_t h;
    loop_timer_fn *cb;
    void *arg;
};

struct loop_fd {
    struct owner own;
    uv_poll_t h;
    int fd;
    loop_fd_fn *cb;
    void *arg;
};

struct sig {
    struct owner own;
    uv_signal_t h;
    loop_signal_fn *cb;
    void *arg;
};

struct loop_lines {
    struct owner own;
    union {
        uv_handle_t h;
        uv_stream_t stream;
        uv_pipe_t pipe;
        uv_tty_t tty;
        uv_idle_t idle; /* regular files: read a chunk per loop turn */
    } u;
    int fd;
    int is_file;
    size_t max_line;
    struct strbuf line;
    loop_line_fn *cb;
    void *arg;
    char buf[4096];
    int ended;
};

static void
free_on_close(uv_handle_t *h)
{
    struct owner *o = h->data;

    if (o->prev)
        o->prev->next = o->next;
    else
        o->loop->owned = o->next;
    if (o->next)
        o->next->prev = o->prev;
    o->release(o);
}

int
loop_new(struct loop **out)
{
    struct loop *l = bot_calloc(1, sizeof(*l));

    if (!l)
        return BOT_ENOMEM;
    if (uv_loop_init(&l->uv)) {
        bot_free(l);
        return BOT_EIO;
    }
    *out = l;
    return BOT_OK;
}

void
loop_free(struct loop *l)
{
    if (!l)
        return;
    for (struct owner *o = l->owned; o; o = o->next) {
        if (!uv_is_closing(o->handle))
            uv_close(o->handle, free_on_close);
    }
    uv_run(&l->uv, UV_RUN_DEFAULT);
    while (l->drained) {
        struct drained *d = l->drained;

        l->drained = d->next;
        d->fn(d->arg);
        bot_free(d);
    }
    uv_run(&l->uv, UV_RUN_DEFAULT);
    if (uv_loop_close(&l->uv))
        log_warn("loop: handles still open at exit");
    bot_free(l);
}

int
loop_run(struct loop *l)
{
    uv_run(&l->uv, UV_RUN_DEFAULT);
    return BOT_OK;
}

int
loop_run_once(struct loop *l)
{
    return uv_run(&l->uv, UV_RUN_ONCE);
}

void
loop_stop(struct loop *l)
{
    uv_stop(&l->uv);
}

struct work {
    uv_work_t req;
    int (*work)(void *arg);
    void (*after)(void *arg, int rc);
    void *arg;
    int rc;
};

static void
on_work(uv_work_t *req)
{
    struct work *w = req->data;

    w->rc = w->work(w->arg);
}

static void
on_work_done(uv_work_t *req, int status)
{
    struct work *w = req->data;

    w->after(w->arg, status ? BOT_ECANCELED : w->rc);
    bot_free(w);
}

int
loop_work(struct loop *l, int (*work)(void *arg),
          void (*after)(void *arg, int rc), void *arg)
{
    struct work *w = bot_calloc(1, sizeof(*w));

    if (!w)
        return BOT_ENOMEM;
    w->req.data = w;
    w->work = work;
    w->after = after;
    w->arg = arg;
    if (uv_queue_work(&l->uv, &w->req, on_work, on_work_done)) {
        bot_free(w);
        return BOT_EIO;
    }
    return BOT_OK;
}

int
loop_on_drained(struct loop *l, void (*fn)(void *), void *arg)
{
    struct drained *d = bot_calloc(1, sizeof(*d));

    if (!d)
        return BOT_ENOMEM;
    d->fn = fn;
    d->arg = arg;
    d->next = l->drained;
    l->drained = d;
    return BOT_OK;
}

uint64_t
loop_now_ms(struct loop *l)
{
    return uv_now(&l->uv);
}

void *
loop_backend(struct loop *l)
{
    return &l->uv;
}

static void
on_timer(uv_timer_t *h)
{
    struct loop_timer *t = h->data;

    t->cb(t->arg);
}

int
loop_timer_new(struct loop *l, loop_timer_fn *cb, void *arg,
               struct loop_timer **out)
{
    struct loop_timer *t = bot_calloc(1, sizeof(*t));

    if (!t)
        return BOT_ENOMEM;
    uv_timer_init(&l->uv, &t->h);
    own(l, &t->own, (uv_handle_t *)&t->h, bot_free);
    t->cb = cb;
    t->arg = arg;
    *out = t;
    return BOT_OK;
}

void
loop_timer_start(struct loop_timer *t, uint64_t after_ms, uint64_t repeat_ms)
{
    uv_timer_start(&t->h, on_timer, after_ms, repeat_ms);
}

void
loop_timer_stop(struct loop_timer *t)
{
    uv_timer_stop(&t->h);
}

void
loop_timer_free(struct loop_timer *t)
{
    if (!t)
        return;
    uv_timer_stop(&t->h);
    uv_close((uv_handle_t *)&t->h, free_on_close);
}

static void
on_poll(uv_poll_t *h, int status, int events)
{
    struct loop_fd *w = h->data;
    int ev = 0;

    if (status < 0)
        ev = LOOP_ERROR;
    if (events & UV_READABLE)
        ev |= LOOP_READ;
    if (events & UV_WRITABLE)
        ev |= LOOP_WRITE;
    w->cb(w->arg, w->fd, ev);
}

int
loop_fd_new(struct loop *l, int fd, loop_fd_fn *cb, void *arg,
            struct loop_fd **out)
{
    struct loop_fd *w = bot_calloc(1, sizeof(*w));

    if (!w)
        return BOT_ENOMEM;
    if (uv_poll_init_socket(&l->uv, &w->h, fd)) {
        bot_free(w);
        return BOT_EIO;
    }
    own(l, &w->own, (uv_handle_t *)&w->h, bot_free);
    w->fd = fd;
    w->cb = cb;
    w->arg = arg;
    *out = w;
    return BOT_OK;
}

int
loop_fd_set(struct loop_fd *w, int events)
{
    int uvev = 0;

    if (!events)
        return uv_poll_stop(&w->h) ? BOT_EIO : BOT_OK;
    if (events & LOOP_READ)
        uvev |= UV_READABLE;
    if (events & LOOP_WRITE)
        uvev |= UV_WRITABLE;
    return uv_poll_start(&w->h, uvev, on_poll) ? BOT_EIO : BOT_OK;
}

void
loop_fd_free(struct loop_fd *w)
{
    if (!w)
        return;
    uv_poll_stop(&w->h);
    uv_close((uv_handle_t *)&w->h, free_on_close);
}

static void
on_signal(uv_signal_t *h, int signum)
{
    struct sig *s = h->data;

    s->cb(s->arg, signum);
}

int
loop_on_signal(struct loop *l, int signum, loop_signal_fn *cb, void *arg)
{
    struct sig *s = bot_calloc(1, sizeof(*s));

    if (!s)
        return BOT_ENOMEM;
    uv_signal_init(&l->uv, &s->h);
    own(l, &s->own, (uv_handle_t *)&s->h, bot_free);
    s->cb = cb;
    s->arg = arg;
    if (uv_signal_start(&s->h, on_signal, signum)) {
        uv_close((uv_handle_t *)&s->h, free_on_close);
        return BOT_EIO;
    }
    /* a pending signal handler must not keep the loop alive on its own */
    uv_unref((uv_handle_t *)&s->h);
    return BOT_OK;
}

/* feed - split bytes into lines; the final partial line waits for more. */
static void
feed(struct loop_lines *r, const char *p, size_t n)
{
    while (n && !r->ended) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        size_t room = r->max_line - r->line.len;

        strbuf_append(&r->line, p, take < room ? take : room);
        if (!nl)
            return;
        if (r->line.len && r->line.buf[r->line.len - 1] == '\r')
            r->line.buf[--r->line.len] = '\0';
        r->cb(r->arg, strbuf_str(&r->line), r->line.len);
        strbuf_reset(&r->line);
        p = nl + 1;
        n -= take + 1;
    }
}

static void
finish(struct loop_lines *r)
{
    if (r->ended)
        return;
    if (r->line.len)
        r->cb(r->arg, strbuf_str(&r->line), r->line.len);
    r->ended = 1;
    if (r->is_file)
        uv_idle_stop(&r->u.idle);
    else
        uv_read_stop(&r->u.stream);
    r->cb(r->arg, NULL, 0);
}

static void
release_lines(void *self)
{
    struct loop_lines *r = self;

    strbuf_cleanup(&r->line);
    bot_free(r);
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct loop_lines *r = h->data;

    (void)hint;
    buf->base = r->buf;
    buf->len = sizeof(r->buf);
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct loop_lines *r = s->data;

    if (n > 0)
        feed(r, buf->base, (size_t)n);
    else if (n < 0)
        finish(r);
}

static void
on_file_idle(uv_idle_t *h)
{
    struct loop_lines *r = h->data;
    ssize_t n = read(r->fd, r->buf, sizeof(r->buf));

    if (n < 0 && errno == EINTR)
        return;
    if (n > 0)
        feed(r, r->buf, (size_t)n);
    else
        finish(r);
}

int
loop_read_lines(struct loop *l, int fd, size_t max_line, loop_line_fn *cb,
                void *arg, struct loop_lines **out)
{
    struct loop_lines *r = bot_calloc(1, sizeof(*r));
    uv_handle_type type = uv_guess_handle(fd);
    int rc = 0;

    if (!r)
        return BOT_ENOMEM;
    r->fd = fd;
    r->max_line = max_line;
    r->cb = cb;
    r->arg = arg;
    strbuf_init(&r->line, max_line + 1);
    if (type == UV_TTY) {
        rc = uv_tty_init(&l->uv, &r->u.tty, fd, 1);
    } else if (type == UV_NAMED_PIPE || type == UV_TCP) {
        rc = uv_pipe_init(&l->uv, &r->u.pipe, 0);
        if (!rc)
            rc = uv_pipe_open(&r->u.pipe, fd);
    } else {
        r->is_file = 1;
        uv_idle_init(&l->uv, &r->u.idle);
    }
    if (rc) {
        /* a pipe handle is initialised even when opening the fd failed */
        log_err("loop: cannot read fd %d: %s", fd, uv_strerror(rc));
        if (type == UV_TTY) {
            release_lines(r);
            return BOT_EIO;
        }
        own(l, &r->own, &r->u.h, release_lines);
        loop_lines_free(r);
        return BOT_EIO;
    }
    own(l, &r->own, &r->u.h, release_lines);
    if (r->is_file)
        rc = uv_idle_start(&r->u.idle, on_file_idle);
    else
        rc = uv_read_start(&r->u.stream, on_alloc, on_read);
    if (rc) {
        log_err("loop: cannot read fd %d: %s", fd, uv_strerror(rc));
        loop_lines_free(r);
        return BOT_EIO;
    }
    *out = r;
    return BOT_OK;
}


void
loop_lines_free(struct loop_lines *r)
{
    if (!r)
        return;
    if (uv_is_closing(&r->u.h))
        return;
    uv_close(&r->u.h, free_on_close);
}
