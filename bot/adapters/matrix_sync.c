/*
 * matrix_sync.c - the /sync loop: one long-poll out at a time; its answer
 * is a batch whose events each go through the bot as their own unit of
 * work (claimed by event id, as on Slack); once every one of them is
 * committed, the batch's position (platform_state "since") and the
 * reactions it saw (reaction_refs) are written in one more unit, and the
 * next /sync leaves only after that commit. A crash anywhere replays the
 * batch from the old position, and the claims stop what was done: nothing
 * twice, nothing skipped. A gap (a limited timeline) in an incident room
 * or a DM is read back with /messages to the old position first.
 * Invites are joined or rejected here; homeserver failures back off.
 */
#include "matrix_int.h"

#include "bot.h"
#include "command.h"
#include "config.h"
#include "err.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "mem.h"
#include "store.h"
#include "strbuf.h"
#include "timeutil.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
#define POLL_MS        30000 /* the long-poll's timeout */
#define IDLE_MIN_MS    1000  /* between empty answers */
#define FILL_PAGE      100
#define FILL_MAX       5000  /* events read back in one room's gap */
/* a batch that failed this often, for this long (each after the Web
 * API's own retries) while the database is healthy is one event that
 * cannot succeed: it must not hold up every later one forever */
#define FAIL_STREAK_MAX 8
#define FAIL_STREAK_MS  (3600 * 1000LL)

/* A reaction seen in a batch: a redaction later in it, or in a later
 * batch (reaction_refs), names only its id. */
struct mx_ref {
    char *id, *room, *msg_id, *emoji, *user;
    int64_t at;
    int keep; /* in an incident room: written to reaction_refs */
};

/* An event out in the bot: its done says how it went. */
struct mx_slot {
    struct mx_batch *b;
    const char *id; /* borrowed from the batch's event */
    int ok;         /* done, and redelivery would change nothing */
};

struct mx_batch {
    struct matrix *m; /* NULL once the platform is gone */
    struct mx_slot *slots; /* one an event dispatched */
    size_t nslots, capslots;
    struct mx_sync s;
    int first;        /* the first sync of a database: nothing dispatched */
    size_t pending;   /* dones still due (+1 while dispatching) */
    int failed;       /* what an event answered that redelivery may change */
    int ready;        /* every event done: the position can be written */
    int committing;   /* its position's unit waits for the commit */
    int dropped;      /* that unit was rolled back: read it again */
    size_t filling;   /* rooms being read back */
    int fill_failed;
    struct mx_ref *refs;
    size_t nrefs, caprefs;
};

/* One room's gap being read back with /messages. */
struct mx_fill {
    struct mx_batch *b;
    size_t room;         /* index in b->s.rooms */
    struct mx_event *ev; /* read so far, oldest first */
    size_t nev;
};

/* --- the batch --- */

static void
batch_free(struct mx_batch *b)
{
    bot_free(b->slots);
    mx_sync_clear(&b->s);
    for (size_t i = 0; i < b->nrefs; i++) {
        bot_free(b->refs[i].id);
        bot_free(b->refs[i].room);
        bot_free(b->refs[i].msg_id);
        bot_free(b->refs[i].emoji);
        bot_free(b->refs[i].user);
    }
    bot_free(b->refs);
    bot_free(b);
}

void
mx_backoff(struct matrix *m, long ms)
{
    unsigned jitter;

    if (m->stopped || m->destroying)
        return;
    if (ms <= 0) {
        m->backoff_ms = m->backoff_ms ? m->backoff_ms * 2 : BACKOFF_MIN_MS;
        if (m->backoff_ms > BACKOFF_MAX_MS)
            m->backoff_ms = BACKOFF_MAX_MS;
        jitter = (unsigned)(rand() % (int)(m->backoff_ms / 3 + 1));
        ms = m->backoff_ms - m->backoff_ms / 6 + jitter;
        metrics_add(&m->p->bot->metrics, "pmbot_reconnects_total",
                    "platform=\"matrix\"", 1);
    }
    m->sync_failing = 1;
    log_warn("matrix: trying again in %ld ms", ms);
    loop_timer_start(m->timer, (uint64_t)ms, 0);
}

/* batch_fail - nothing of it is kept: the same position is read again */
/* done_remember - the events of b that went through are not run again
 * when the same position is read again: a refusal's reply (not kept in
 * the outbox) would be sent twice */
static void
done_remember(struct matrix *m, struct mx_batch *b)
{
    for (size_t i = 0; i < b->nslots; i++) {
        char **nd, *id;

        if (!b->slots[i].ok || !b->slots[i].id)
            continue;
        nd = bot_realloc(m->done_ids, (m->ndone + 1) * sizeof(*nd));
        if (!nd)
            return;
        m->done_ids = nd;
        id = bot_strdup(b->slots[i].id);
        if (!id)
            return;
        m->done_ids[m->ndone++] = id;
    }
}

void
mx_done_forget(struct matrix *m)
{
    for (size_t i = 0; i < m->ndone; i++)
        bot_free(m->done_ids[i]);
    bot_free(m->done_ids);
    m->done_ids = NULL;
    m->ndone = 0;
}

static int
done_before(const struct matrix *m, const char *id)
{
    for (size_t i = 0; i < m->ndone; i++) {
        if (!strcmp(m->done_ids[i], id))
            return 1;
    }
    return 0;
}

static void
batch_fail(struct matrix *m, struct mx_batch *b, const char *why)
{
    log_warn("matrix: events not kept (%s); reading them again", why);
    done_remember(m, b);
    m->batch = NULL;
    batch_free(b);
    mx_backoff(m, 0);
}

/* ackable - an answer redelivery would not change (as Slack's acks) */
static int
ackable(int rc)
{
    return rc == BOT_OK || rc == BOT_ENOTFOUND || rc == BOT_EINVAL ||
           rc == BOT_EPROTO;
}

/* give_up - 1 when the batch at this position has failed often and long
 * enough, with the database healthy, to pass it; else counts one more */
static int
give_up(struct matrix *m)
{
    int64_t now = timeutil_now_ms();

    if (!m->fail_streak++)
        m->fail_since_ms = now;
    return m->fail_streak > FAIL_STREAK_MAX &&
           now - m->fail_since_ms >= FAIL_STREAK_MS &&
           bot_healthy(m->p->bot, NULL);
}

/* settle - the last of b's events or gaps is back: 1 when b goes on; 0
 * when it is gone (freed after a shutdown, or to be read again) */
static int
settle(struct mx_batch *b, int failed, const char *what)
{
    if (!b->m) {
        batch_free(b);
        return 0;
    }
    if (failed && !give_up(b->m)) {
        batch_fail(b->m, b, bot_strerror(failed));
        return 0;
    }
    if (failed)
        log_err("matrix: %s failed for an hour (%s) with the database "
                "healthy: skipped, so the rest can go on",
                what, bot_strerror(failed));
    return 1;
}

static void
batch_release(struct mx_batch *b)
{
    if (--b->pending || !settle(b, b->failed, "an event"))
        return;
    /* the position is written from a timer: dones run inside a commit,
     * and a unit is not run from there */
    b->ready = 1;
    loop_timer_start(b->m->cursor, 0, 0);
}

static void
event_done(void *arg, int rc)
{
    struct mx_slot *sl = arg;
    struct mx_batch *b = sl->b;

    sl->ok = ackable(rc);
    if (!ackable(rc) && !b->failed)
        b->failed = rc;
    if (ackable(rc) && b->m)
        metrics_add(&b->m->p->bot->metrics, "pmbot_events_acked_total",
                    "platform=\"matrix\"", 1);
    batch_release(b);
}

/* --- the position --- */

static void cursor_committed(void *arg);
static void cursor_dropped(void *arg);

static int
cursor_work(void *arg)
{
    struct mx_batch *b = arg;
    struct store *st = b->m->p->bot->core.store;
    int64_t now = bot_now_ms(b->m->p->bot);
    int rc = store_state_put(st, "matrix", "since", b->s.next_batch, now);

    /* whose position it is: once a run (self does not change) */
    if (!rc && !b->m->since_user_kept)
        rc = store_state_put(st, "matrix", "since_user", b->m->self, now);
    for (size_t i = 0; !rc && i < b->nrefs; i++) {
        struct mx_ref *r = &b->refs[i];

        if (r->keep)
            rc = store_reaction_put(st, "matrix", r->id, r->room, r->msg_id,
                                    r->emoji, r->user, r->at);
    }
    /* the next /sync waits for this commit (an after item of the unit;
     * its failure has run cursor_dropped) */
    if (!rc)
        rc = unit_after(b->m->p->bot->core.units, cursor_committed,
                        cursor_dropped, b);
    return rc;
}

static void
cursor_committed(void *arg)
{
    struct mx_batch *b = arg;
    struct matrix *m = b->m;
    int idle;

    if (!m) {
        batch_free(b);
        return;
    }
    m->fail_streak = 0;
    m->since_user_kept = 1;
    mx_done_forget(m);
    bot_free(m->since);
    m->since = b->s.next_batch;
    b->s.next_batch = NULL;
    m->batch = NULL;
    idle = !b->first && !b->nslots && !b->s.ninvites;
    batch_free(b);
    /* a homeserver that answers at once with nothing must not make a
     * loop of it: the long-poll should have waited */
    if (idle && timeutil_now_ms() - m->sync_sent_ms < IDLE_MIN_MS)
        loop_timer_start(m->timer, IDLE_MIN_MS, 0);
    else
        mx_sync_start(m);
}

static void
cursor_dropped(void *arg)
{
    struct mx_batch *b = arg;

    b->committing = 0;
    if (!b->m) {
        batch_free(b);
        return;
    }
    /* maybe inside cursor_write's unit_run: the timer reads it again */
    b->dropped = 1;
    loop_timer_start(b->m->cursor, 0, 0);
}

static void
cursor_write(struct matrix *m, struct mx_batch *b)
{
    struct unit w = {0};
    int rc;

    b->ready = 0;
    b->committing = 1;
    w.source = "matrix-sync";
    w.fn = cursor_work;
    w.arg = b;
    w.flags = UNIT_GROUPED;
    w.now = bot_now_ms(m->p->bot);
    rc = unit_run(m->p->bot->core.units, &w, NULL);
    if (rc && !b->dropped) {
        b->committing = 0;
        batch_fail(m, b, bot_strerror(rc));
    }
}

void
mx_cursor_timer(void *arg)
{
    struct matrix *m = arg;
    struct mx_batch *b = m->batch;

    if (b && b->dropped)
        batch_fail(m, b, "the database did not commit");
    else if (b && b->ready)
        cursor_write(m, b);
}

/* --- events --- */

static struct mx_ref *
ref_find(struct mx_batch *b, const char *id)
{
    for (size_t i = b->nrefs; i-- > 0;) {
        if (!strcmp(b->refs[i].id, id))
            return &b->refs[i];
    }
    return NULL;
}

static void
ref_add(struct mx_batch *b, const char *room, const struct mx_event *e,
        int keep)
{
    struct mx_ref *r;

    if (b->nrefs == b->caprefs) {
        size_t ncap = b->caprefs ? b->caprefs * 2 : 16;
        struct mx_ref *nr = bot_realloc(b->refs, ncap * sizeof(*nr));

        if (!nr)
            return; /* the redaction finds it in no map: a lost untag */
        b->refs = nr;
        b->caprefs = ncap;
    }
    r = &b->refs[b->nrefs];
    r->id = bot_strdup(e->event_id);
    r->room = bot_strdup(room);
    r->msg_id = bot_strdup(e->rel_id);
    r->emoji = bot_strdup(e->key);
    r->user = bot_strdup(e->sender);
    r->at = e->ts;
    r->keep = keep;
    if (!r->id || !r->room || !r->msg_id || !r->emoji || !r->user) {
        bot_free(r->id);
        bot_free(r->room);
        bot_free(r->msg_id);
        bot_free(r->emoji);
        bot_free(r->user);
        return;
    }
    b->nrefs++;
}

/* edit_allowed - an edit only counts from the message's author (anyone
 * can send an m.replace; clients hide the others, so must we) */
static int
edit_allowed(struct matrix *m, const char *room, const struct mx_event *e)
{
    struct store_message sm = {0};
    int ok = 1;

    if (store_message_get(m->p->bot->core.store, "matrix", room, e->rel_id,
                          &sm) == BOT_OK) {
        ok = !sm.user || !strcmp(sm.user, e->sender);
        store_message_clear(&sm);
    }
    return ok;
}

static void
dispatch_event(struct mx_batch *b, const char *room, struct mx_event *e)
{
    struct matrix *m = b->m;
    struct bot *bot = m->p->bot;
    struct chat_event ev = {0};
    struct store_reaction sr = {0};
    struct mx_ref *ref;
    struct mx_slot *sl;

    if (e->not_joined)
        return; /* from before the bot was in the room */
    ev.platform = m->p;
    ev.event_id = e->event_id;
    ev.room = room;
    ev.user = e->sender;
    ev.at = e->ts;
    ev.cmd_prefix = '!';
    switch (e->type) {
    case MX_EV_NOTICE:
        /* another bot's notice (an alert) can be tagged; it is never a
         * command, and a DM's notice is never an answer */
        if (!e->text || command_is_command(e->text) || mx_is_dm(m, room) ||
            !bot_is_incident_room(bot, m->p, room))
            return;
        __attribute__((fallthrough));
    case MX_EV_MESSAGE:
        if (!e->text)
            return;
        ev.kind = CHAT_EV_MESSAGE;
        ev.msg_id = e->event_id;
        ev.text = e->text;
        ev.thread_id = e->thread_id;
        break;
    case MX_EV_EDIT:
        if (!e->rel_id || !e->text || !edit_allowed(m, room, e))
            return;
        ev.kind = CHAT_EV_MESSAGE_CHANGED;
        ev.msg_id = e->rel_id;
        ev.text = e->text;
        break;
    case MX_EV_REACTION:
        if (!e->rel_id || !e->key)
            return;
        ev.kind = CHAT_EV_REACTION_ADDED;
        ev.msg_id = e->rel_id;
        ev.reaction = e->key;
        ref_add(b, room, e, bot_is_incident_room(bot, m->p, room));
        break;
    case MX_EV_REDACTION:
        if (!e->rel_id)
            return;
        ref = ref_find(b, e->rel_id);
        if (ref) {
            ev.kind = CHAT_EV_REACTION_REMOVED;
            ev.msg_id = ref->msg_id;
            ev.reaction = ref->emoji;
            ev.user = ref->user; /* whoever redacted it: that one's tag */
        } else if (store_reaction_get(bot->core.store, "matrix", e->rel_id,
                                      &sr) == BOT_OK) {
            ev.kind = CHAT_EV_REACTION_REMOVED;
            ev.msg_id = sr.msg_id;
            ev.reaction = sr.emoji;
            ev.user = sr.user;
        } else {
            ev.kind = CHAT_EV_MESSAGE_DELETED;
            ev.msg_id = e->rel_id;
        }
        break;
    case MX_EV_MEMBER:
        if (e->state_key && e->membership &&
            (!strcmp(e->membership, "leave") ||
             !strcmp(e->membership, "ban")) &&
            strcmp(e->state_key, m->self))
            mx_direct_drop(m, e->state_key, room);
        return;
    case MX_EV_ENCRYPTED: {
        char what[96], line[400];

        snprintf(what, sizeof(what), "encrypted/%.80s", room);
        snprintf(line, sizeof(line),
                 "room %s is encrypted: pmbot cannot read it (use a room "
                 "without encryption for incidents and commands)",
                 room);
        mx_warn_once(m, what, line);
        return;
    }
    default:
        return;
    }
    if (m->ndone && done_before(m, e->event_id)) {
        store_reaction_clear(&sr);
        return; /* went through when this position was read before */
    }
    ev.is_dm = mx_is_dm(m, room);
    metrics_add(&bot->metrics, "pmbot_events_received_total",
                "platform=\"matrix\"", 1);
    if (b->nslots == b->capslots) { /* sized in batch_dispatch */
        store_reaction_clear(&sr);
        return;
    }
    sl = &b->slots[b->nslots++];
    sl->b = b;
    sl->id = e->event_id;
    b->pending++;
    bot_dispatch(bot, &ev, event_done, sl);
    store_reaction_clear(&sr);
}

/* --- invites --- */

/* invite_allowed - [matrix] allow_invites_from lists the inviter or its
 * server; unset, the bot's own server */
static int
invite_allowed(const struct matrix *m, const char *sender)
{
    const char *list = m->cfg->matrix_allow_invites;
    const char *server = mx_server_of(sender);

    if (!list || !*list)
        return server && !strcmp(server, m->server);
    for (const char *s = list; *s;) {
        size_t n;

        while (*s == ',' || *s == ' ')
            s++;
        n = strcspn(s, ", ");
        if (n && ((strlen(sender) == n && !strncmp(s, sender, n)) ||
                  (server && strlen(server) == n && !strncmp(s, server, n))))
            return 1;
        s += n;
    }
    return 0;
}

struct join {
    struct mx_batch *b;
    char *user;  /* the inviter, for m.direct */
    char *room;
    int is_direct;
};

static void
joined(struct webapi_call *c, int rc, const char *body, size_t len)
{
    struct join *j = c->arg;
    struct mx_batch *b = j->b;

    (void)body;
    (void)len;
    if (!rc && b->m) {
        log_info("matrix: joined %s, invited by %s", j->room, j->user);
        if (j->is_direct && !mx_is_dm(b->m, j->room))
            mx_direct_add(b->m, j->user, j->room);
    } else if (rc && rc != BOT_ECANCELED) {
        log_warn("matrix: could not join %s: %s", j->room, bot_strerror(rc));
    }
    /* a join that fails (a room on a server out of reach) is not the
     * batch's: the inviter can invite again; only a shutdown re-reads */
    if (rc == BOT_ECANCELED && !b->failed)
        b->failed = rc;
    bot_free(j->user);
    bot_free(j->room);
    bot_free(j);
    batch_release(b);
}

static void
handle_invite(struct mx_batch *b, const struct mx_invite *iv)
{
    struct matrix *m = b->m;
    struct join *j;

    if (!iv->sender || !invite_allowed(m, iv->sender)) {
        log_info("matrix: rejected the invite to %s from %s: not in "
                 "[matrix] allow_invites_from",
                 iv->room, iv->sender ? iv->sender : "?");
        mx_api(m, "leave", NULL, bot_strdup("{}"), mx_log_failure, NULL,
               "reject an invite", "client/v3/rooms/%s/leave", iv->room);
        return;
    }
    j = bot_calloc(1, sizeof(*j));
    if (j) {
        j->user = bot_strdup(iv->sender);
        j->room = bot_strdup(iv->room);
    }
    if (!j || !j->user || !j->room) {
        if (j) {
            bot_free(j->user);
            bot_free(j->room);
        }
        bot_free(j);
        if (!b->failed)
            b->failed = BOT_ENOMEM;
        return;
    }
    j->b = b;
    j->is_direct = iv->is_direct;
    b->pending++;
    mx_api(m, "join", NULL, bot_strdup("{}"), joined, NULL, j,
           "client/v3/rooms/%s/join", iv->room);
}

/* --- a batch --- */

static void
batch_dispatch(struct mx_batch *b)
{
    struct matrix *m = b->m;
    size_t total = 0;

    b->pending = 1;
    for (size_t i = 0; !b->first && i < b->s.nrooms; i++)
        total += b->s.rooms[i].nev;
    if (total) {
        b->slots = bot_calloc(total, sizeof(*b->slots));
        if (!b->slots) {
            b->failed = BOT_ENOMEM;
            batch_release(b);
            return;
        }
        b->capslots = total;
    }
    for (size_t i = 0; i < b->s.nleft; i++) {
        for (size_t k = m->ndirect; k-- > 0;) {
            if (!strcmp(m->direct[k].room, b->s.left[i]))
                mx_direct_drop(m, m->direct[k].user, b->s.left[i]);
        }
    }
    for (size_t i = 0; i < b->s.ninvites; i++)
        handle_invite(b, &b->s.invites[i]);
    if (!b->first) {
        for (size_t i = 0; i < b->s.nrooms && b->m; i++) {
            struct mx_room *r = &b->s.rooms[i];

            for (size_t k = 0; k < r->nev && b->m; k++)
                dispatch_event(b, r->id, &r->ev[k]);
        }
    }
    batch_release(b);
}

static void fill_page(struct mx_fill *f, const char *from);
static const char *filter_of(struct matrix *m, int which);

/* fill_release - one room's gap is read (or the guard of fill_gaps):
 * after the last, the batch goes */
static void
fill_release(struct mx_batch *b)
{
    if (--b->filling || !settle(b, b->fill_failed, "reading back a gap"))
        return;
    batch_dispatch(b);
}

static void
fill_end(struct mx_fill *f, int rc)
{
    struct mx_batch *b = f->b;
    struct mx_room *r = &b->s.rooms[f->room];

    if (rc && ackable(rc)) {
        /* refused for good (not visible to the bot): no gap to read */
        log_warn("matrix: cannot read back the gap in %s: %s", r->id,
                 bot_strerror(rc));
    } else if (rc) {
        b->fill_failed = rc;
    } else if (f->nev) {
        /* the gap, then the timeline, each event once */
        struct mx_event *all =
            bot_calloc(f->nev + r->nev, sizeof(*all));
        size_t n = 0;

        if (!all) {
            b->fill_failed = BOT_ENOMEM;
        } else {
            for (size_t i = 0; i < f->nev; i++) {
                int dup = 0;

                for (size_t k = 0; k < r->nev && !dup; k++)
                    dup = !strcmp(r->ev[k].event_id, f->ev[i].event_id);
                if (dup) {
                    mx_event_clear(&f->ev[i]);
                    continue;
                }
                all[n++] = f->ev[i];
                memset(&f->ev[i], 0, sizeof(f->ev[i]));
            }
            for (size_t k = 0; k < r->nev; k++)
                all[n++] = r->ev[k];
            bot_free(r->ev);
            r->ev = all;
            r->nev = n;
            log_info("matrix: read back a gap in %s", r->id);
        }
    }
    for (size_t i = 0; i < f->nev; i++)
        mx_event_clear(&f->ev[i]);
    bot_free(f->ev);
    bot_free(f);
    fill_release(b);
}

static void
filled(struct webapi_call *c, int rc, const char *body, size_t len)
{
    struct mx_fill *f = c->arg;
    struct mx_room page = {0};
    char *end = NULL;
    size_t got;

    if (!rc && !f->b->m)
        rc = BOT_ECANCELED;
    if (!rc && mx_messages_parse(body, len, f->b->m->self, &page, &end))
        rc = BOT_EPROTO;
    if (rc) {
        fill_end(f, rc);
        return;
    }
    got = page.nev;
    if (got) {
        /* an older page goes in front */
        struct mx_event *all = bot_calloc(got + f->nev, sizeof(*all));

        if (!all) {
            mx_room_clear(&page);
            bot_free(end);
            fill_end(f, BOT_ENOMEM);
            return;
        }
        memcpy(all, page.ev, got * sizeof(*all));
        if (f->nev)
            memcpy(all + got, f->ev, f->nev * sizeof(*all));
        bot_free(f->ev);
        f->ev = all;
        f->nev += got;
        bot_free(page.ev); /* its events moved */
        page.ev = NULL;
        page.nev = 0;
    }
    mx_room_clear(&page);
    /* an empty page is the old position reached (the bot's own events
     * are filtered out on the server) */
    if (end && got && f->nev < FILL_MAX) {
        fill_page(f, end);
        bot_free(end);
        return;
    }
    if (end && got)
        log_warn("matrix: a gap of more than %d events in %s: the older "
                 "ones are skipped", FILL_MAX, f->b->s.rooms[f->room].id);
    bot_free(end);
    fill_end(f, BOT_OK);
}

static void
fill_page(struct mx_fill *f, const char *from)
{
    struct mx_batch *b = f->b;
    struct matrix *m = b->m;
    struct webapi_call *c;
    char *efrom = http_url_escape(from), *eto = http_url_escape(m->since);
    struct strbuf q;

    strbuf_init(&q, 0);
    strbuf_printf(&q, "dir=b&limit=%d&from=%s&to=%s&filter=%s", FILL_PAGE,
                  efrom ? efrom : "", eto ? eto : "",
                  filter_of(m, FILTER_MESSAGES));
    bot_free(efrom);
    bot_free(eto);
    c = mx_api(m, "messages", NULL, NULL, filled, NULL, f,
               "client/v3/rooms/%s/messages", b->s.rooms[f->room].id);
    if (c)
        c->query = strbuf_steal(&q);
    strbuf_cleanup(&q);
}

/* fill_gaps - read back the gaps of incident rooms and DMs; other rooms'
 * gaps are skipped (an old command there should not run hours later) */
static void
fill_gaps(struct mx_batch *b)
{
    struct matrix *m = b->m;

    b->filling = 1;
    for (size_t i = 0; !b->first && i < b->s.nrooms; i++) {
        struct mx_room *r = &b->s.rooms[i];
        struct mx_fill *f;

        if (!r->limited || !r->prev_batch || !m->since ||
            !(bot_is_incident_room(m->p->bot, m->p, r->id) ||
              mx_is_dm(m, r->id)))
            continue;
        f = bot_calloc(1, sizeof(*f));
        if (!f) {
            b->fill_failed = BOT_ENOMEM;
            continue;
        }
        f->b = b;
        f->room = i;
        b->filling++;
        fill_page(f, r->prev_batch);
    }
    fill_release(b); /* the guard */
}

/* --- the long-poll --- */

/* filter_of - the filter of a request, %-escaped, made once a login */
static const char *
filter_of(struct matrix *m, int which)
{
    char *f;

    if (!m->filters[which]) {
        f = which == FILTER_MESSAGES ? mx_messages_filter(m->self)
                                     : mx_sync_filter(m->self,
                                                      which == FILTER_FIRST
                                                          ? 1
                                                          : 100);
        m->filters[which] = f ? http_url_escape(f) : NULL;
        bot_free(f);
    }
    return m->filters[which] ? m->filters[which] : "";
}

static void
on_sync(void *arg, const struct http_response *r)
{
    struct matrix *m = arg;
    struct mx_batch *b;
    char *e = NULL;
    long retry = -1;

    if (r->status == 0 && r->error && !strcmp(r->error, "canceled"))
        return;
    m->syncing = 0;
    if (m->stopped || m->destroying)
        return;
    if (r->status != 200) {
        if (r->status)
            mx_error_parse(r->body, r->len, &e, &retry);
        if (e && (!strcmp(e, "M_UNKNOWN_TOKEN") ||
                  !strcmp(e, "M_MISSING_TOKEN"))) {
            bot_free(e);
            mx_token_refused(m);
            return;
        }
        if (r->status == 400 && m->since && e) {
            /* a position the homeserver no longer knows (a restored
             * database, a new server): only a fresh start gets past it */
            log_err("matrix: the homeserver refused pmbot's /sync position "
                    "(%s): starting again from now; what was said since "
                    "the last answer is not read",
                    e ? e : "HTTP 400");
            bot_free(e);
            bot_free(m->since);
            m->since = NULL;
            mx_backoff(m, 0);
            return;
        }
        if (r->status == 429 && retry < 0 && r->retry_after > 0)
            retry = r->retry_after * 1000;
        log_warn("matrix: /sync failed: %s",
                 r->status == 0 ? "the homeserver cannot be reached"
                 : e            ? e
                                : "an HTTP error");
        bot_free(e);
        mx_backoff(m, r->status == 429 ? retry : 0);
        return;
    }
    b = bot_calloc(1, sizeof(*b));
    if (!b || mx_sync_parse(r->body, r->len, m->self, &b->s)) {
        if (b)
            log_warn("matrix: an unreadable /sync answer");
        bot_free(b);
        mx_backoff(m, 0);
        return;
    }
    if (!m->synced)
        log_info("matrix: syncing as %s", m->self);
    m->synced = 1;
    m->sync_failing = 0;
    m->backoff_ms = 0;
    m->last_sync_ms = timeutil_now_ms();
    b->m = m;
    b->first = m->since == NULL;
    m->batch = b;
    if (b->s.direct)
        mx_direct_set(m, b->s.direct);
    fill_gaps(b);
}

void
mx_sync_start(struct matrix *m)
{
    struct http_request q = {0};
    struct strbuf url;
    char *es = NULL;
    int first;

    if (m->syncing || m->batch || m->stopped || m->destroying || m->authing)
        return;
    if (!m->since && !m->since_loaded) {
        char *user = NULL;

        m->since_loaded = 1;
        if (store_state_get(m->p->bot->core.store, "matrix", "since_user",
                            &user) == BOT_OK &&
            !strcmp(user, m->self))
            store_state_get(m->p->bot->core.store, "matrix", "since",
                            &m->since);
        bot_free(user);
    }
    first = m->since == NULL;
    /* the first sync of a database reads nothing old: its commands are
     * not for this bot to run; the first of a run does not wait, so the
     * bot is known to be connected at once */
    if (m->since)
        es = http_url_escape(m->since);
    strbuf_init(&url, 0);
    strbuf_printf(&url, "%sclient/v3/sync?timeout=%d&set_presence=offline"
                        "&filter=%s",
                  m->base, first || !m->synced ? 0 : POLL_MS,
                  filter_of(m, first ? FILTER_FIRST : FILTER_SYNC));
    if (es)
        strbuf_printf(&url, "&since=%s", es);
    bot_free(es);
    q.method = "GET";
    q.url = strbuf_str(&url);
    q.auth_bearer = m->token;
    q.timeout_ms = POLL_MS * 2;
    if (strbuf_error(&url) || http_send(webapi_http(m->api), &q, on_sync, m))
        mx_backoff(m, 0);
    else
        m->syncing = 1;
    m->sync_sent_ms = timeutil_now_ms();
    strbuf_cleanup(&url);
}

void
mx_filters_free(struct matrix *m)
{
    for (size_t i = 0; i < sizeof(m->filters) / sizeof(m->filters[0]); i++) {
        bot_free(m->filters[i]);
        m->filters[i] = NULL;
    }
}

void
mx_sync_timer(void *arg)
{
    struct matrix *m = arg;

    if (m->authing) {
        mx_auth_retry(m);
        return;
    }
    mx_sync_start(m);
}

void
mx_sync_cancel(struct matrix *m)
{
    struct mx_batch *b = m->batch;

    m->batch = NULL;
    if (!b)
        return;
    b->m = NULL;
    /* what is still out (events, gaps, the position's commit) frees it
     * when it comes back; a position waiting for its timer never will */
    if (!b->pending && !b->filling && !b->committing)
        batch_free(b);
}

int
mx_sync_connected(struct matrix *m, const char **why)
{
    if (m->stopped) {
        *why = "the homeserver refused the bot's token (see the log)";
        return 0;
    }
    if (m->authing) {
        *why = "logging in to the homeserver";
        return 0;
    }
    if (!m->synced || m->sync_failing) {
        *why = "cannot reach the homeserver";
        return 0;
    }
    if (timeutil_now_ms() - m->last_sync_ms > 3 * POLL_MS) {
        *why = "the homeserver has not answered for 90 s";
        return 0;
    }
    return 1;
}
