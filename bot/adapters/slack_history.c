/*
 * slack_history.c - messages fetched from Slack's history, and find_sent.
 *
 * find_sent reads the channel's newest FIND_SENT_PAGE messages with their
 * metadata (include_all_metadata) for the bot's own message carrying an
 * idempotency key (slack_post_body puts it there); for a post in a thread,
 * the thread's first FIND_SENT_PAGE messages (conversations.replies), as
 * history holds no replies. Asked before auth.test has said who the bot
 * is, it waits for that answer.
 *
 * Messages pmbot must fetch wait per channel, and one conversations.history
 * call asks for all of them at once (oldest..latest of the batch): a burst
 * of 📌 on unseen messages costs a call per hundred, not one each, which
 * matters under the history rate limits of non-Marketplace apps.
 */
#include "slack_int.h"

#include "err.h"
#include "mem.h"
#include "slack_json.h"
#include "strbuf.h"

#include <string.h>

#define FETCH_BATCH 100 /* messages asked for in one call */
#define FETCH_PAGE  "200" /* the page the call reads them from */
#define FIND_SENT_PAGE "100" /* how far back find_sent looks */

struct fetch {
    struct fetch *next;
    char *ts;
    chat_fetched_fn *cb;
    void *arg;
};

struct slack_room {
    struct slack_room *next;
    char *channel;
    struct fetch *wait, **wait_tail;
    struct fetch *below; /* missed below a full page: asked next, alone */
    int busy;            /* its history call is out */
    int delivering;      /* in fetched_batch's callbacks: keep the room */
};

/* a find_sent waiting for auth.test: pmbot's own messages are known by
 * its ids */
struct slack_find {
    struct slack_find *next;
    char *room, *thread, *key; /* thread nullable */
    chat_posted_fn *cb;
    void *arg;
};

static void
fetch_free(struct fetch *f)
{
    bot_free(f->ts);
    bot_free(f);
}

static void
deliver_found(struct slack *s, const char *room,
              const struct slack_message *m, chat_fetched_fn *cb, void *arg)
{
    struct chat_message cm = {0};
    struct strbuf text;

    strbuf_init(&text, 0);
    if (slack_decode(&text, m->text ? m->text : "")) {
        strbuf_cleanup(&text);
        cb(arg, BOT_ENOMEM, NULL);
        return;
    }
    slack_learn_users(s, strbuf_str(&text));
    cm.room = room;
    cm.id = m->ts;
    cm.user = m->user;
    cm.text = strbuf_str(&text);
    cm.thread_id = m->thread_ts;
    cm.at = slack_ts_ms(m->ts);
    cb(arg, BOT_OK, &cm);
    strbuf_cleanup(&text);
}

static void
fetched_one(struct webapi_call *c, int rc, const char *body, size_t len)
{
    chat_fetched_fn *cb = c->cb;
    struct slack_message m;

    if (!rc && (!c->extra || !c->extra2))
        rc = BOT_ENOMEM;
    if (!rc)
        rc = slack_find_message(body, len, c->extra2, &m);
    if (rc) {
        cb(c->arg, rc, NULL); /* thread_not_found: BOT_ENOTFOUND */
        return;
    }
    deliver_found(c->ctx, c->extra, &m, cb, c->arg);
    slack_message_clear(&m);
}

/* fetch_replies - a message a history page should have held but did not:
 * a thread reply (history lists top-level messages only), or gone */
static void
fetch_replies(struct slack *s, const char *room, const char *ts,
              chat_fetched_fn *cb, void *arg)
{
    const char *pairs[] = {"channel", room, "ts", ts, NULL};
    struct webapi_call *c;

    c = slack_api_get(s, "conversations.replies", pairs, fetched_one, cb,
                      arg, bot_strdup(room));
    if (c)
        c->extra2 = bot_strdup(ts);
}

static void fetched_history(struct webapi_call *c, int rc, const char *body,
                            size_t len);

/* fetch_one - one message by itself: the history page ending at its ts,
 * then its thread if history holds an older message instead */
static void
fetch_one(struct slack *s, const char *room, const char *ts,
          chat_fetched_fn *cb, void *arg)
{
    const char *pairs[] = {"channel", room,   "latest", ts, "inclusive",
                           "true",    "limit", "1",     NULL};
    struct webapi_call *c;

    c = slack_api_get(s, "conversations.history", pairs, fetched_history, cb,
                      arg, bot_strdup(room));
    if (c)
        c->extra2 = bot_strdup(ts);
}

static void
fetched_history(struct webapi_call *c, int rc, const char *body, size_t len)
{
    chat_fetched_fn *cb = c->cb;
    struct slack_message m;

    if (!rc && (!c->extra || !c->extra2))
        rc = BOT_ENOMEM;
    if (!rc)
        rc = slack_find_message(body, len, c->extra2, &m);
    if (!rc) {
        deliver_found(c->ctx, c->extra, &m, cb, c->arg);
        slack_message_clear(&m);
    } else if (rc == BOT_ENOTFOUND) {
        fetch_replies(c->ctx, c->extra, c->extra2, cb, c->arg);
    } else {
        cb(c->arg, rc, NULL);
    }
}

/* ts_cmp - the order of two Slack ts ("1360782400.498405") */
static int
ts_cmp(const char *a, const char *b)
{
    size_t na = strcspn(a, "."), nb = strcspn(b, ".");

    if (na != nb)
        return na < nb ? -1 : 1;
    return strcmp(a, b);
}

static void fetch_next(struct slack *s, struct slack_room *r);

/* per_ts_error - an error that belongs to one ts of the batch, not to the
 * channel or the app: the batch is then asked for one by one, so that one
 * bad ts cannot fail its neighbours (any other error would only repeat) */
static int
per_ts_error(const char *body, size_t len)
{
    char *error = NULL;
    int ok, hit;

    if (!body || slack_status(body, len, &ok, &error))
        return 0;
    hit = error && !strncmp(error, "invalid_ts", 10);
    bot_free(error);
    return hit;
}

/*
 * fetched_batch - the page of a batched call (c->cb is the room, c->arg
 * the batch). History lists the newest messages of oldest..latest, so the
 * page covers everything from its last message up: a ts in that span but
 * absent is a thread reply or gone; a ts below it (the page was full)
 * goes into the room's next batch, which holds only such ts, so newer
 * arrivals cannot keep pushing it down.
 */
static void
fetched_batch(struct webapi_call *c, int rc, const char *body, size_t len)
{
    struct slack *s = c->ctx;
    struct slack_room *r = c->cb;
    struct fetch *f, *next, **below_tail = &r->below;
    const char *ts[FETCH_BATCH];
    struct slack_message found[FETCH_BATCH];
    char oldest[32] = "";
    int has_more = 0, alone = 0;
    size_t n = 0, i;

    for (f = c->arg; f && n < FETCH_BATCH; f = f->next)
        ts[n++] = f->ts;
    if (!rc)
        rc = slack_find_messages(body, len, ts, n, found, &has_more, oldest,
                                 sizeof(oldest));
    else if (n > 1)
        alone = per_ts_error(body, len);
    while (*below_tail)
        below_tail = &(*below_tail)->next;
    r->busy = 0;
    r->delivering = 1;
    for (f = c->arg, i = 0; f; f = next, i++) {
        next = f->next;
        if (alone) {
            fetch_one(s, r->channel, f->ts, f->cb, f->arg);
        } else if (rc) {
            f->cb(f->arg, rc, NULL);
        } else if (found[i].ts) {
            deliver_found(s, r->channel, &found[i], f->cb, f->arg);
            slack_message_clear(&found[i]);
        } else if (!has_more || !oldest[0] || ts_cmp(f->ts, oldest) >= 0) {
            fetch_replies(s, r->channel, f->ts, f->cb, f->arg);
        } else {
            f->next = NULL;
            *below_tail = f;
            below_tail = &f->next;
            continue;
        }
        fetch_free(f);
    }
    r->delivering = 0;
    if (!s->destroying)
        fetch_next(s, r);
}

static void
room_free(struct slack *s, struct slack_room *r)
{
    struct slack_room **pp = &s->rooms;

    while (*pp && *pp != r)
        pp = &(*pp)->next;
    if (*pp)
        *pp = r->next;
    bot_free(r->channel);
    bot_free(r);
}

/* fetch_next - the room's next batch, unless one is out: those missed
 * below a full page first, else those waiting; an idle room is freed */
static void
fetch_next(struct slack *s, struct slack_room *r)
{
    struct fetch *f, *batch = NULL, **tail = &batch, **from;
    const char *lo, *hi;
    size_t n = 0;

    if (r->busy || r->delivering)
        return;
    from = r->below ? &r->below : &r->wait;
    if (!*from) {
        room_free(s, r);
        return;
    }
    lo = hi = (*from)->ts;
    while ((f = *from) && n < FETCH_BATCH) {
        *from = f->next;
        f->next = NULL;
        *tail = f;
        tail = &f->next;
        n++;
        if (ts_cmp(f->ts, lo) < 0)
            lo = f->ts;
        if (ts_cmp(f->ts, hi) > 0)
            hi = f->ts;
    }
    if (!r->wait)
        r->wait_tail = &r->wait;
    r->busy = 1;
    if (n == 1) {
        /* the doc-blessed single fetch: the page ending at the ts */
        const char *pairs[] = {"channel", r->channel, "latest",
                               hi,        "inclusive", "true",
                               "limit",   "1",         NULL};

        slack_api_get(s, "conversations.history", pairs, fetched_batch, r,
                      batch, NULL);
    } else {
        const char *pairs[] = {"channel", r->channel, "oldest",    lo,
                               "latest",  hi,         "inclusive", "true",
                               "limit",   FETCH_PAGE, NULL};

        slack_api_get(s, "conversations.history", pairs, fetched_batch, r,
                      batch, NULL);
    }
}

void
slack_fetch(struct slack *s, const char *room, const char *msg_id,
            chat_fetched_fn *cb, void *arg)
{
    struct slack_room *r;
    struct fetch *f = bot_calloc(1, sizeof(*f));

    if (!f || !(f->ts = bot_strdup(msg_id))) {
        bot_free(f);
        cb(arg, BOT_ENOMEM, NULL);
        return;
    }
    f->cb = cb;
    f->arg = arg;
    for (r = s->rooms; r && strcmp(r->channel, room); r = r->next)
        ;
    if (!r) {
        r = bot_calloc(1, sizeof(*r));
        if (!r || !(r->channel = bot_strdup(room))) {
            bot_free(r);
            fetch_free(f);
            cb(arg, BOT_ENOMEM, NULL);
            return;
        }
        r->wait_tail = &r->wait;
        r->next = s->rooms;
        s->rooms = r;
    }
    *r->wait_tail = f;
    r->wait_tail = &f->next;
    fetch_next(s, r);
}

void
slack_history_cancel(struct slack *s)
{
    struct slack_find *w;

    while ((w = s->finds)) {
        s->finds = w->next;
        w->cb(w->arg, BOT_ECANCELED, NULL);
        bot_free(w->room);
        bot_free(w->thread);
        bot_free(w->key);
        bot_free(w);
    }
    for (struct slack_room *r = s->rooms; r; r = r->next) {
        struct fetch **lists[] = {&r->below, &r->wait};

        for (size_t i = 0; i < 2; i++) {
            struct fetch *f;

            while ((f = *lists[i])) {
                *lists[i] = f->next;
                f->cb(f->arg, BOT_ECANCELED, NULL);
                fetch_free(f);
            }
        }
        r->wait_tail = &r->wait;
    }
}

void
slack_history_free(struct slack *s)
{
    while (s->rooms)
        room_free(s, s->rooms); /* their calls were cancelled */
}

static void
found_sent(struct webapi_call *c, int rc, const char *body, size_t len)
{
    struct slack *s = c->ctx;
    chat_posted_fn *cb = c->cb;
    char *ts = NULL;

    if (!rc && !c->extra)
        rc = BOT_ENOMEM;
    if (!rc)
        rc = slack_find_keyed(body, len, c->extra, s->self_user, s->self_bot,
                              &ts);
    cb(c->arg, rc, ts);
    bot_free(ts);
}

static void
find_send(struct slack *s, const char *room, const char *thread,
          const char *key, chat_posted_fn *cb, void *arg)
{
    const char *const history[] = {"channel", room,
                                   "limit",   FIND_SENT_PAGE,
                                   "include_all_metadata", "true",
                                   NULL};
    const char *const replies[] = {"channel", room,
                                   "ts",      thread,
                                   "limit",   FIND_SENT_PAGE,
                                   "include_all_metadata", "true",
                                   NULL};

    if (thread)
        slack_api_get(s, "conversations.replies", replies, found_sent, cb,
                      arg, bot_strdup(key));
    else
        slack_api_get(s, "conversations.history", history, found_sent, cb,
                      arg, bot_strdup(key));
}

void
slack_find_sent(struct slack *s, const char *room, const char *thread,
                const char *key, chat_posted_fn *cb, void *arg)
{
    struct slack_find *f, **pp;

    if (!key || !*key) {
        cb(arg, BOT_EINVAL, NULL);
        return;
    }
    if (!s->authing) {
        find_send(s, room, thread, key, cb, arg);
        return;
    }
    f = bot_calloc(1, sizeof(*f));
    if (!f || !(f->room = bot_strdup(room)) || !(f->key = bot_strdup(key)) ||
        (thread && !(f->thread = bot_strdup(thread)))) {
        if (f) {
            bot_free(f->room);
            bot_free(f->key);
        }
        bot_free(f);
        cb(arg, BOT_ENOMEM, NULL);
        return;
    }
    f->cb = cb;
    f->arg = arg;
    for (pp = &s->finds; *pp; pp = &(*pp)->next)
        ; /* in the order asked */
    *pp = f;
}

void
slack_history_authed(struct slack *s)
{
    struct slack_find *f;

    while ((f = s->finds)) {
        s->finds = f->next;
        find_send(s, f->room, f->thread, f->key, f->cb, f->arg);
        bot_free(f->room);
        bot_free(f->thread);
        bot_free(f->key);
        bot_free(f);
    }
}
