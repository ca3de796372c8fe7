/*
 * outbox.c - performing the outbox's rows (see outbox.h).
 */
#include "outbox.h"

#include "core.h"
#include "err.h"
#include "log.h"
#include "loop.h"
#include "mem.h"
#include "store.h"
#include "strbuf.h"
#include "timeutil.h"
#include "unit.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASS_LANES 512     /* lanes looked at per platform and pass */
#define MARK_RETRY_MS 1000 /* a mark that failed is tried again */
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS (5 * 60 * 1000)

enum { FAULT_NONE, FAULT_BEFORE_SEND, FAULT_AFTER_SEND };

/* A row in flight (or a send_now post, id 0). */
struct flight {
    struct outbox *o;
    struct flight *next;
    struct outbox_row r;
    char key[32];  /* "pmbot-<id>" */
    char *lane;    /* platform '\x1f' room-or-@user */
    char *dm_room; /* the direct room open_dm gave */
    char *thread;  /* a reply's thread: its parent's message; nullable */
    int threaded;  /* a reply's thread resolved (thread NULL: the room) */
    int verified;  /* find_sent asked (or not needed) */
    int cancelled; /* the outbox is gone */
    /* once the platform answered: the row is sent (or failed) and only its
     * mark is left; the lane stays busy until the mark is committed, so a
     * mark that fails, or a group commit that fails, never sends twice */
    int sent;
    int marking;     /* a mark is in a unit, waiting for its commit */
    int rc;          /* the platform's answer */
    char *result;    /* the msg_id it made; nullable */
    int64_t mark_at; /* the next try of a failed mark (outbox clock) */
};

struct outbox {
    struct core *c;
    struct flight *flying;
    int started, hold, fault;
    int kicking;
    int dirty; /* rows may be waiting: a pass is worth its queries */
    int marked; /* lanes came free: a pass is worth it once enough did */
    size_t nflying;
    int64_t (*clock)(void); /* retries: real time, not PMBOT_NOW */
    int64_t start_max; /* rows up to this id may have been sent already */
    struct loop_timer *timer;
    int64_t timer_at;
    struct loop_timer *watch;
    outbox_failed_fn *on_failed;
    void *failed_arg;
};

static void perform(struct flight *f);

void
outbox_on_failed(struct outbox *o, outbox_failed_fn *fn, void *arg)
{
    o->on_failed = fn;
    o->failed_arg = arg;
}

int
outbox_new(struct core *c, struct outbox **out)
{
    struct outbox *o = bot_calloc(1, sizeof(*o));
    const char *fault = getenv("PMBOT_FAULT");

    if (!o)
        return BOT_ENOMEM;
    o->c = c;
    o->clock = timeutil_now_ms;
    o->dirty = 1;
    if (fault && !strcmp(fault, "crash-before-send"))
        o->fault = FAULT_BEFORE_SEND;
    else if (fault && !strcmp(fault, "crash-after-send"))
        o->fault = FAULT_AFTER_SEND;
    *out = o;
    return BOT_OK;
}

static void
flight_free(struct flight *f)
{
    store_outbox_row_clear(&f->r);
    bot_free(f->result);
    bot_free(f->lane);
    bot_free(f->dm_room);
    bot_free(f->thread);
    bot_free(f);
}

static void
unlink_flight(struct outbox *o, struct flight *f)
{
    for (struct flight **pp = &o->flying; *pp; pp = &(*pp)->next) {
        if (*pp == f) {
            *pp = f->next;
            o->nflying--;
            return;
        }
    }
}

void
outbox_free(struct outbox *o)
{
    if (!o)
        return;
    /* the platforms are gone: a flight in a platform call finds itself
     * cancelled when its callback comes; one whose mark waits in a unit is
     * freed when the unit drops it; the others go now. They all stay
     * pending in the database. */
    for (struct flight *f = o->flying, *next; f; f = next) {
        next = f->next;
        f->o = NULL;
        f->cancelled = 1;
        if (f->sent && !f->marking)
            flight_free(f);
    }
    o->flying = NULL;
    o->nflying = 0;
    loop_timer_free(o->timer);
    loop_timer_free(o->watch);
    bot_free(o);
}

void
outbox_set_clock(struct outbox *o, int64_t (*clock)(void))
{
    o->clock = clock;
}

void
outbox_hold(struct outbox *o, int on)
{
    o->hold = on;
}

int
outbox_idle(const struct outbox *o)
{
    return o->flying == NULL;
}

/* --- the message codec: [[kind, text, url], ...] --- */

int
outbox_msg_json(const struct chat_msg *m, char **out)
{
    json_t *a = json_array();
    char *s;

    if (!a || m->err) {
        json_decref(a);
        return BOT_ENOMEM;
    }
    for (size_t i = 0; i < m->n; i++) {
        const struct chat_span *sp = &m->spans[i];
        json_t *e = json_pack("[is?s?]", sp->kind, sp->text, sp->url);

        if (!e || json_array_append_new(a, e)) {
            json_decref(a);
            return BOT_ENOMEM;
        }
    }
    s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    if (!s)
        return BOT_ENOMEM;
    *out = bot_strdup(s);
    free(s);
    return *out ? BOT_OK : BOT_ENOMEM;
}

int
outbox_msg_parse(const char *json, struct chat_msg *m)
{
    json_t *a = json_loads(json, 0, NULL), *e;
    size_t i;
    int rc = BOT_OK;

    chat_msg_init(m);
    if (!json_is_array(a)) {
        json_decref(a);
        return BOT_EPROTO;
    }
    json_array_foreach(a, i, e) {
        int kind = (int)json_integer_value(json_array_get(e, 0));
        const char *text = json_string_value(json_array_get(e, 1));
        const char *url = json_string_value(json_array_get(e, 2));

        switch (kind) {
        case CHAT_SPAN_TEXT: chat_msg_text(m, "%s", text ? text : ""); break;
        case CHAT_SPAN_BOLD: chat_msg_bold(m, "%s", text ? text : ""); break;
        case CHAT_SPAN_CODE: chat_msg_code(m, text ? text : ""); break;
        case CHAT_SPAN_USER: chat_msg_user(m, text ? text : ""); break;
        case CHAT_SPAN_ROOM: chat_msg_room(m, text ? text : "", url); break;
        case CHAT_SPAN_LINK:
            chat_msg_link(m, url ? url : "", text ? text : "");
            break;
        case CHAT_SPAN_NEWLINE: chat_msg_nl(m); break;
        default: rc = BOT_EPROTO;
        }
    }
    json_decref(a);
    if (!rc)
        rc = m->err;
    if (rc)
        chat_msg_cleanup(m);
    return rc;
}

/* --- rows --- */

static int
add(struct outbox *o, struct outbox_row *r, int64_t *id)
{
    o->dirty = 1; /* a rolled-back row costs one pass that finds nothing */
    return store_outbox_add(o->c->store, r, core_now_ms(o->c), id);
}

/* post - a post row; about (nullable) what it is about */
static int
post(struct outbox *o, const char *platform, const struct chat_target *to,
     const struct chat_msg *m, const char *about, int64_t ref, int64_t *id)
{
    struct outbox_row r = {0};
    struct strbuf tag;
    int rc;

    strbuf_init(&tag, 0);
    if (about)
        strbuf_printf(&tag, "about:%s", about);
    r.platform = (char *)platform;
    r.kind = OUTBOX_POST;
    r.room = (char *)to->room;
    r.thread_id = (char *)to->thread_id;
    r.user = (char *)to->user;
    r.flags = to->flags;
    r.ref = ref;
    r.extra = about ? (char *)strbuf_str(&tag) : NULL;
    rc = strbuf_error(&tag);
    if (!rc)
        rc = outbox_msg_json(m, &r.body);
    if (!rc)
        rc = add(o, &r, id);
    bot_free(r.body);
    strbuf_cleanup(&tag);
    return rc;
}

int
outbox_post(struct outbox *o, const char *platform,
            const struct chat_target *to, const struct chat_msg *m,
            int64_t *id)
{
    return post(o, platform, to, m, NULL, 0, id);
}

int
outbox_post_about(struct outbox *o, const char *platform,
                  const struct chat_target *to, const struct chat_msg *m,
                  const char *about, int64_t *id)
{
    return post(o, platform, to, m, about, 0, id);
}

int
outbox_reply(struct outbox *o, const char *platform, const char *room,
             int64_t parent, const struct chat_msg *m, int64_t *id)
{
    struct chat_target to = {0};

    to.room = room;
    return post(o, platform, &to, m, NULL, parent, id);
}

int
outbox_upload(struct outbox *o, const char *platform,
              const struct chat_target *to, const char *filename,
              const char *title, const char *content, size_t len)
{
    struct outbox_row r = {0};
    struct strbuf sb;
    int rc;

    (void)len; /* documents are text: NUL-terminated */
    strbuf_init(&sb, 0);
    strbuf_printf(&sb, "%s\n%s", filename, title);
    rc = strbuf_error(&sb);
    r.platform = (char *)platform;
    r.kind = OUTBOX_UPLOAD;
    r.room = (char *)to->room;
    r.thread_id = (char *)to->thread_id;
    r.body = (char *)content;
    r.extra = (char *)strbuf_str(&sb);
    if (!rc)
        rc = add(o, &r, NULL);
    strbuf_cleanup(&sb);
    return rc;
}

static int
add_simple(struct outbox *o, const char *platform, int kind,
           const char *room, int64_t ref, const char *msg_id,
           const char *body)
{
    struct outbox_row r = {0};

    r.platform = (char *)platform;
    r.kind = kind;
    r.room = (char *)room;
    r.ref = ref;
    r.msg_id = (char *)msg_id;
    r.body = (char *)body;
    return add(o, &r, NULL);
}

int
outbox_pin(struct outbox *o, const char *platform, const char *room,
           int64_t post_id)
{
    return add_simple(o, platform, OUTBOX_PIN, room, post_id, NULL, "");
}

int
outbox_invite(struct outbox *o, const char *platform, const char *room,
              const char *const *users, size_t n)
{
    struct strbuf sb;
    int rc;

    if (!n)
        return BOT_OK;
    strbuf_init(&sb, 0);
    for (size_t i = 0; i < n; i++)
        strbuf_printf(&sb, "%s%s", i ? "," : "", users[i]);
    rc = strbuf_error(&sb);
    if (!rc)
        rc = add_simple(o, platform, OUTBOX_INVITE, room, 0, NULL,
                        strbuf_str(&sb));
    strbuf_cleanup(&sb);
    return rc;
}

int
outbox_topic(struct outbox *o, const char *platform, const char *room,
             const char *topic)
{
    return add_simple(o, platform, OUTBOX_TOPIC, room, 0, NULL, topic);
}

int
outbox_update(struct outbox *o, const char *platform, const char *room,
              int64_t post_id, const char *msg_id, const struct chat_msg *m)
{
    char *body = NULL;
    int rc = outbox_msg_json(m, &body);

    if (!rc)
        rc = add_simple(o, platform, OUTBOX_UPDATE, room, post_id, msg_id,
                        body);
    bot_free(body);
    return rc;
}

int
outbox_react(struct outbox *o, const char *platform, const char *room,
             int64_t post_id, const char *msg_id, const char *emoji)
{
    return add_simple(o, platform, OUTBOX_REACT, room, post_id, msg_id,
                      emoji);
}

int
outbox_redact(struct outbox *o, const char *platform, const char *room,
              int64_t post_id, const char *msg_id)
{
    return add_simple(o, platform, OUTBOX_REDACT, room, post_id, msg_id, "");
}

/* --- marks --- */

static void arm(struct outbox *o, int64_t at);

static int64_t
backoff(int attempts)
{
    int64_t ms = BACKOFF_MIN_MS;

    for (int i = 1; i < attempts && ms < BACKOFF_MAX_MS; i++)
        ms *= 2;
    return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

static int
transient(int rc)
{
    return rc == BOT_EIO || rc == BOT_ETIMEDOUT || rc == BOT_ENOMEM;
}

static const char *const kind_names[] = {
    "post", "upload", "pin", "invite", "topic", "edit", "reaction",
    "deletion"};

/* mark_done - the mark is committed: the lane is free */
static void
mark_done(void *arg)
{
    struct flight *f = arg;
    struct outbox *o = f->o;

    if (f->cancelled || !o) {
        flight_free(f);
        return;
    }
    unlink_flight(o, f);
    flight_free(f);
    /* a pass costs a look at every lane's head: with many in flight, one
     * for every free lane was quadratic (10,000 DMs); refill once half
     * are free */
    o->marked = 1;
    outbox_kick(o);
}

/* mark_lost - the mark was rolled back (its unit, or the group commit,
 * failed): try the mark again later; never the send */
static void
mark_lost(void *arg)
{
    struct flight *f = arg;

    f->marking = 0;
    if (f->cancelled || !f->o) {
        flight_free(f);
        return;
    }
    f->mark_at = f->o->clock() + MARK_RETRY_MS;
    log_warn("outbox: %s was sent but could not be marked; marking it "
             "again in a second", f->key);
    arm(f->o, f->mark_at);
}

static int
do_mark(void *arg)
{
    struct flight *f = arg;
    struct outbox *o = f->o;
    struct store *st = o->c->store;
    int64_t now = core_now_ms(o->c);
    int attempts = f->r.attempts + 1, rc;

    /* first: whatever fails below rolls the unit back and so drops it,
     * which is how the flight learns its mark was lost */
    rc = unit_after(o->c->units, mark_done, mark_lost, f);
    if (rc)
        return rc;
    if (!f->rc)
        rc = store_outbox_done(st, f->r.id, f->result, now);
    else if (transient(f->rc) && attempts < OUTBOX_MAX_ATTEMPTS)
        rc = store_outbox_retry(st, f->r.id, attempts,
                                o->clock() + backoff(attempts));
    else {
        rc = store_outbox_fail(st, f->r.id, now);
        /* a post about something: its writer says what instead */
        if (!rc && o->on_failed && f->r.kind == OUTBOX_POST && f->r.extra &&
            !strncmp(f->r.extra, "about:", 6))
            rc = o->on_failed(o->failed_arg, f->r.extra + 6, &f->r, f->rc);
    }
    return rc;
}

/* mark - record the platform's answer for row f in a unit of its own; with
 * group commit (a platform that acks) it shares the group's fsync */
static void
mark(struct flight *f)
{
    struct unit w = {0};

    f->marking = 1;
    w.fn = do_mark;
    w.arg = f;
    /* a unit that failed after do_mark registered its item has dropped it
     * (mark_lost ran); one that failed before (a BEGIN refused: another
     * process held the lock) has not */
    if (unit_run(f->o->c->units, &w, NULL) && f->marking)
        mark_lost(f);
}

/* finish - the platform answered row f */
static void
finish(struct flight *f, int rc, const char *msg_id)
{
    struct outbox *o = f->o;
    int attempts = f->r.attempts + 1;

    if (f->cancelled || !o) {
        flight_free(f);
        return;
    }
    if (rc == BOT_ECANCELED || !f->r.id) {
        /* shutting down (still pending, done at the next start), or a
         * send_now post: nothing to mark */
        unlink_flight(o, f);
        flight_free(f);
        o->dirty = 1;
        outbox_kick(o);
        return;
    }
    if (!rc && o->fault == FAULT_AFTER_SEND) {
        log_warn("outbox: PMBOT_FAULT: killing pmbot after a send, before "
                 "its mark");
        raise(SIGKILL);
    }
    f->sent = 1;
    f->rc = rc;
    if (!rc && msg_id && !(f->result = bot_strdup(msg_id)))
        log_warn("outbox: %s: out of memory keeping its message id", f->key);
    if (rc && (!transient(rc) || attempts >= OUTBOX_MAX_ATTEMPTS))
        log_warn("outbox: %s %s in %s on %s failed for good (%s)",
                 kind_names[f->r.kind], f->key,
                 f->r.room ? f->r.room : f->r.user, f->r.platform,
                 bot_strerror(rc));
    else if (rc)
        log_info("outbox: %s %s in %s: %s; trying again in %lld s",
                 kind_names[f->r.kind], f->key,
                 f->r.room ? f->r.room : f->r.user, bot_strerror(rc),
                 (long long)(backoff(attempts) / 1000));
    mark(f);
}

static void
on_posted(void *arg, int rc, const char *msg_id)
{
    finish(arg, rc, msg_id);
}

static void
on_done(void *arg, int rc)
{
    finish(arg, rc, NULL);
}

static void
on_found(void *arg, int rc, const char *msg_id)
{
    struct flight *f = arg;

    if (f->cancelled) {
        flight_free(f);
        return;
    }
    if (rc == BOT_ECANCELED) {
        finish(f, rc, NULL); /* shutting down: still pending */
        return;
    }
    if (!rc) {
        log_info("outbox: %s was sent before a restart; not sending it "
                 "again", f->key);
        finish(f, BOT_OK, msg_id);
        return;
    }
    f->verified = 1;
    if (rc != BOT_ENOTFOUND)
        log_warn("outbox: cannot look for %s in %s (%s); sending it",
                 f->key, f->r.room, bot_strerror(rc));
    perform(f);
}

static void
on_dm(void *arg, int rc, const char *room_id, const char *room_name)
{
    struct flight *f = arg;

    (void)room_name;
    if (f->cancelled) {
        flight_free(f);
        return;
    }
    if (!rc && !(f->dm_room = bot_strdup(room_id)))
        rc = BOT_ENOMEM;
    if (rc) {
        finish(f, rc, NULL);
        return;
    }
    perform(f);
}

/* ref_msg - the message row f->r.ref made: BOT_OK and *id (new),
 * BOT_ETIMEDOUT while that row is pending, BOT_EINVAL when it failed or
 * made nothing, or the store's error */
static int
ref_msg(struct flight *f, char **id)
{
    int state = 0, rc;

    *id = NULL;
    rc = store_outbox_result(f->o->c->store, f->r.ref, id, &state);
    if (rc || state == 0) {
        bot_free(*id);
        *id = NULL;
        return rc ? rc : BOT_ETIMEDOUT; /* not yet: waits for its post */
    }
    return *id ? BOT_OK : BOT_EINVAL;
}

/* target_msg - the message a pin, edit, reaction or deletion acts on, in
 * f->r.msg_id (errors as ref_msg) */
static int
target_msg(struct flight *f)
{
    if (f->r.msg_id || !f->r.ref)
        return f->r.msg_id ? BOT_OK : BOT_EINVAL;
    return ref_msg(f, &f->r.msg_id);
}

/* reply_thread - a reply's thread, its parent's message, in f->thread
 * (NULL: the parent failed or made nothing, so the reply goes in the
 * room): BOT_ETIMEDOUT while the parent is pending. Kept apart from
 * f->r.msg_id, which for a post is the message it made. */
static int
reply_thread(struct flight *f)
{
    int rc;

    if (f->threaded)
        return BOT_OK;
    rc = ref_msg(f, &f->thread);
    if (rc == BOT_ETIMEDOUT)
        return rc;
    f->threaded = 1;
    return BOT_OK;
}

/* perform - the one place a row meets the platform, with its fallbacks */
static void
perform(struct flight *f)
{
    struct chat_platform *p = core_platform(f->o->c, f->r.platform);
    struct chat_target to = {0};
    struct chat_msg m;
    int rc;

    if (!p) {
        finish(f, BOT_ECANCELED, NULL);
        return;
    }
    to.room = f->dm_room ? f->dm_room : f->r.room;
    to.thread_id = chat_can(p, CHAT_CAN_THREAD) ? f->r.thread_id : NULL;
    to.user = f->r.user;
    to.flags = f->r.flags;
    to.key = f->r.id ? f->key : NULL;
    if ((to.flags & CHAT_POST_EPHEMERAL) &&
        !chat_can(p, CHAT_CAN_EPHEMERAL)) {
        /* no ephemeral messages here: privately is the user's DM */
        to.flags &= ~CHAT_POST_EPHEMERAL;
        to.thread_id = NULL;
        if (!f->dm_room)
            to.room = NULL;
    }
    if (!to.room) {
        if (!to.user || !chat_can(p, CHAT_CAN_OPEN_DM)) {
            finish(f, BOT_EINVAL, NULL);
            return;
        }
        p->ops->open_dm(p, to.user, on_dm, f);
        return;
    }
    if (f->r.kind == OUTBOX_POST && f->r.ref && !to.thread_id &&
        chat_can(p, CHAT_CAN_THREAD)) {
        /* a reply: in its parent's thread, once the parent is sent; known
         * before find_sent, which must look in that thread */
        if (reply_thread(f)) {
            finish(f, BOT_ETIMEDOUT, NULL);
            return;
        }
        to.thread_id = f->thread;
    }
    if (!f->verified && f->r.id && f->r.id <= f->o->start_max &&
        (f->r.kind == OUTBOX_POST || f->r.kind == OUTBOX_UPLOAD) &&
        !(to.flags & CHAT_POST_EPHEMERAL) &&
        chat_can(p, CHAT_CAN_FIND_SENT)) {
        f->verified = 1;
        p->ops->find_sent(p, to.room, to.thread_id, f->key, on_found, f);
        return;
    }
    switch (f->r.kind) {
    case OUTBOX_POST:
        rc = outbox_msg_parse(f->r.body, &m);
        if (rc) {
            finish(f, BOT_EINVAL, NULL);
            return;
        }
        p->ops->post(p, &to, &m, on_posted, f);
        chat_msg_cleanup(&m);
        return;
    case OUTBOX_UPLOAD: {
        char *nl = f->r.extra ? strchr(f->r.extra, '\n') : NULL;

        if (!chat_can(p, CHAT_CAN_UPLOAD) || !nl) {
            finish(f, nl ? BOT_OK : BOT_EINVAL, NULL);
            return;
        }
        *nl = '\0';
        p->ops->upload(p, &to, f->r.extra, nl + 1, f->r.body,
                       strlen(f->r.body), on_done, f);
        return;
    }
    case OUTBOX_INVITE: {
        const char *users[64];
        size_t n = 0;

        if (!chat_can(p, CHAT_CAN_INVITE)) {
            finish(f, BOT_OK, NULL);
            return;
        }
        for (char *s = f->r.body, *e; s && *s && n < 64; s = e) {
            e = strchr(s, ',');
            if (e)
                *e++ = '\0';
            users[n++] = s;
        }
        p->ops->invite(p, to.room, users, n, on_done, f);
        return;
    }
    case OUTBOX_TOPIC:
        if (!chat_can(p, CHAT_CAN_TOPIC)) {
            finish(f, BOT_OK, NULL);
            return;
        }
        p->ops->set_topic(p, to.room, f->r.body, on_done, f);
        return;
    default:
        break;
    }
    /* the rest act on an earlier message */
    rc = target_msg(f);
    if (rc) {
        finish(f, rc, NULL);
        return;
    }
    switch (f->r.kind) {
    case OUTBOX_PIN:
        if (!chat_can(p, CHAT_CAN_PIN))
            break;
        p->ops->pin(p, to.room, f->r.msg_id, on_done, f);
        return;
    case OUTBOX_UPDATE:
        if (!chat_can(p, CHAT_CAN_UPDATE))
            break;
        if (outbox_msg_parse(f->r.body, &m)) {
            finish(f, BOT_EINVAL, NULL);
            return;
        }
        p->ops->update(p, to.room, f->r.msg_id, &m, to.key, on_done, f);
        chat_msg_cleanup(&m);
        return;
    case OUTBOX_REACT:
        if (!chat_can(p, CHAT_CAN_REACT))
            break;
        p->ops->react(p, to.room, f->r.msg_id, f->r.body, to.key, on_done,
                       f);
        return;
    case OUTBOX_REDACT:
        if (!chat_can(p, CHAT_CAN_REDACT))
            break;
        p->ops->redact(p, to.room, f->r.msg_id, to.key, on_done, f);
        return;
    }
    finish(f, BOT_OK, NULL); /* the platform cannot: nothing to retry */
}

/* --- passes --- */

static char *
lane_of(const struct outbox_row *r)
{
    struct strbuf sb;

    strbuf_init(&sb, 0);
    if (r->room)
        strbuf_printf(&sb, "%s\x1f%s", r->platform, r->room);
    else
        strbuf_printf(&sb, "%s\x1f@%s", r->platform, r->user ? r->user : "");
    if (strbuf_error(&sb)) {
        strbuf_cleanup(&sb);
        return NULL;
    }
    return strbuf_steal(&sb);
}

static int
lane_busy(const struct outbox *o, const char *lane)
{
    for (const struct flight *f = o->flying; f; f = f->next) {
        if (!strcmp(f->lane, lane))
            return 1;
    }
    return 0;
}

static void
on_timer(void *arg)
{
    struct outbox *o = arg;

    o->timer_at = 0;
    o->dirty = 1;
    outbox_kick(o);
}

/* arm - the next pass when the earliest waiting row is due */
static void
arm(struct outbox *o, int64_t at)
{
    int64_t now = o->clock();

    if (!at || !o->c->loop || (o->timer_at && o->timer_at <= at))
        return;
    if (!o->timer && loop_timer_new(o->c->loop, on_timer, o, &o->timer))
        return;
    o->timer_at = at;
    loop_timer_start(o->timer, at > now ? (uint64_t)(at - now) : 0, 0);
}

/* start - a head row of a free lane: into flight */
static void
start(struct outbox *o, struct outbox_row *r, char *lane)
{
    struct flight *f = bot_calloc(1, sizeof(*f));

    if (!f) {
        bot_free(lane);
        return;
    }
    f->o = o;
    f->lane = lane;
    f->r = *r;
    memset(r, 0, sizeof(*r)); /* the flight has its strings now */
    snprintf(f->key, sizeof(f->key), "pmbot-%lld", (long long)f->r.id);
    f->next = o->flying;
    o->flying = f;
    o->nflying++;
    perform(f);
}

/* pass - start the head row of every free lane of every connected
 * platform; marks that failed are tried again first */
static void
pass(struct outbox *o)
{
    int64_t now = o->clock(), wake = 0;
    struct flight *f, *next;

    for (f = o->flying; f; f = next) {
        next = f->next;
        if (!f->sent || f->marking)
            continue;
        if (f->mark_at > now) {
            if (!wake || f->mark_at < wake)
                wake = f->mark_at;
            continue;
        }
        mark(f);
    }
    for (size_t k = 0; k < o->c->nplatforms; k++) {
        struct outbox_row *rows = NULL;
        size_t n = 0;

        if (store_outbox_heads(o->c->store, o->c->platforms[k]->ops->name,
                               PASS_LANES, &rows, &n)) {
            /* the store failed: its timer tries again, no sooner */
            wake = now + MARK_RETRY_MS;
            break;
        }
        for (size_t i = 0; i < n; i++) {
            struct outbox_row *r = &rows[i];
            char *lane = lane_of(r);

            if (!lane || lane_busy(o, lane)) {
                bot_free(lane);
                continue;
            }
            if (r->next_at > now) {
                if (!wake || r->next_at < wake)
                    wake = r->next_at;
                bot_free(lane);
                continue;
            }
            if (o->fault == FAULT_BEFORE_SEND) {
                log_warn("outbox: PMBOT_FAULT: killing pmbot before a send");
                raise(SIGKILL);
            }
            start(o, r, lane);
        }
        store_outbox_list_free(rows, n);
    }
    arm(o, wake);
}

void
outbox_kick(void *arg)
{
    struct outbox *o = arg;

    if (!o->started || o->hold)
        return;
    /* only committed rows and marks count: inside a transaction (a group
     * still open) a pass would see what may yet be rolled back; the
     * commit's hook kicks again */
    if (o->marked && o->nflying < PASS_LANES / 2)
        o->dirty = 1;
    if (!o->dirty || store_tx_depth(o->c->store))
        return;
    /* a platform that answers at once (the terminal) finishes rows inside
     * the pass: their marks ask for another, after this one */
    if (o->kicking)
        return;
    o->kicking = 1;
    do {
        o->dirty = o->marked = 0;
        pass(o);
        if (o->marked && o->nflying < PASS_LANES / 2)
            o->dirty = 1;
    } while (o->dirty && !store_tx_depth(o->c->store));
    o->kicking = 0;
}

static void
on_watch(void *arg)
{
    struct outbox *o = arg;

    o->dirty = 1; /* another process may have written rows */
    outbox_kick(o);
}

int
outbox_watch(struct outbox *o, unsigned ms)
{
    if (!o->c->loop)
        return BOT_OK;
    if (!o->watch && loop_timer_new(o->c->loop, on_watch, o, &o->watch))
        return BOT_ENOMEM;
    loop_timer_start(o->watch, ms, ms);
    return BOT_OK;
}

void
outbox_start(struct outbox *o)
{
    if (store_outbox_max_id(o->c->store, &o->start_max))
        o->start_max = INT64_MAX; /* look for everything rather than
                                      send anything twice */
    o->started = 1;
    o->dirty = 1;
    outbox_kick(o);
}

void
outbox_send_now(struct outbox *o, struct chat_platform *p,
                const struct chat_target *to, const struct chat_msg *m)
{
    struct flight *f;

    if (m->err)
        return;
    f = bot_calloc(1, sizeof(*f));
    if (!f || !(f->r.platform = bot_strdup(p->ops->name)) ||
        outbox_msg_json(m, &f->r.body) ||
        (to->room && !(f->r.room = bot_strdup(to->room))) ||
        (to->thread_id && !(f->r.thread_id = bot_strdup(to->thread_id))) ||
        (to->user && !(f->r.user = bot_strdup(to->user))) ||
        !(f->lane = lane_of(&f->r))) {
        if (f)
            flight_free(f);
        return;
    }
    f->o = o;
    f->r.kind = OUTBOX_POST;
    f->r.flags = to->flags;
    f->next = o->flying;
    o->flying = f;
    o->nflying++;
    perform(f);
}
