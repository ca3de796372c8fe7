/*
 * timeline.c - the timeline in step with incident channels: messages kept
 * (so a 📌 needs no platform call), 📌 reactions tag and untag, edits and
 * deletions follow. Each event is one unit of work; a 📌 on a message
 * pmbot never saw waits for its fetch, and its unit runs when it lands.
 */
#include "incident_int.h"

#include "blame.h"
#include "config.h"
#include "core.h"
#include "err.h"
#include "log.h"
#include "mem.h"
#include "outbox.h"
#include "review.h"
#include "strbuf.h"
#include "unit.h"

#include <string.h>

struct tagging {
    struct tagging *next, *prev; /* in in->taggings while the fetch runs */
    int cancelled;               /* untagged or deleted meanwhile */
    struct incidents *in;
    struct chat_platform *p;
    int64_t incident_id;
    char *event_id;
    char *room;
    char *msg_id;
    char *user; /* who put the 📌; nullable */
    chat_done_fn *done;
    void *arg;
};

static void
tagging_free(struct tagging *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else if (t->in && t->in->taggings == t)
        t->in->taggings = t->next;
    if (t->next)
        t->next->prev = t->prev;
    bot_free(t->event_id);
    bot_free(t->room);
    bot_free(t->msg_id);
    bot_free(t->user);
    bot_free(t);
}

void
timeline_cancel_all(struct incidents *in)
{
    /* the fetches' callbacks come back (cancelled) after this: detached,
     * they free themselves without the incidents */
    for (struct tagging *t = in->taggings, *next; t; t = next) {
        next = t->next;
        t->in = NULL;
        t->prev = t->next = NULL;
    }
    in->taggings = NULL;
}

/* One event's work: what it is, on which incident, with what. */
struct work {
    struct incidents *in;
    struct chat_platform *p;
    const struct chat_event *ev;
    int64_t incident_id;
    const void *arg;
    int (*fn)(struct work *w);
};

static int
run_work(void *arg)
{
    struct work *w = arg;

    return w->fn(w);
}

/*
 * event_tx - one event, one unit of work: its id claimed (a redelivered
 * event does nothing more), fn run, committed; any failure rolls it all
 * back, the claim included, so the event can be tried again.
 */
static int
event_tx(struct incidents *in, struct chat_platform *p,
         int (*fn)(struct work *), const struct chat_event *ev,
         int64_t incident_id, const void *arg)
{
    struct work w = {in, p, ev, incident_id, arg, fn};
    struct unit u = {0};

    u.source = p->ops->name;
    u.id = ev->event_id;
    u.now = core_now_ms(in->c);
    u.fn = run_work;
    u.arg = &w;
    return unit_run(in->c->units, &u, NULL);
}

/* nudge - in tx: the private word to whoever wrote a blaming message */
static int
nudge(struct work *w, const char *author)
{
    return incident_nudge(w->in, w->p->ops->name, w->ev->room, author,
                          "Your message is on the timeline as you wrote "
                          "it. A blameless review describes conditions and "
                          "systems, not people: what made this possible (a "
                          "missing check, an unclear runbook, an alert that "
                          "did not fire)? You can edit the message to say "
                          "so.");
}

/* tag - in tx: record the message on the timeline once, at its own time,
 * and remember that the event's user put a 📌 on it. */
static int
tag(struct work *w, const char *author, const char *text, int64_t at)
{
    struct store *st = w->in->c->store;
    struct timeline_entry e = {0};
    int64_t id;
    int rc, created;

    e.incident_id = w->incident_id;
    e.at = at;
    e.kind = TIMELINE_TAGGED;
    e.text = (char *)text;
    e.msg_room = (char *)w->ev->room;
    e.msg_id = (char *)w->ev->msg_id;
    e.author = (char *)author;
    e.created_at = core_now_ms(w->in->c);
    /* tagged already (another 📌 on it): still one entry */
    rc = store_timeline_tag(st, &e, &id, &created);
    if (!rc && w->ev->user)
        rc = store_tagger_add(st, id, w->ev->user);
    /* recorded as written; its author hears, privately and once, how a
     * blameless review puts it */
    if (!rc && created && author && blame_found(text))
        rc = nudge(w, author);
    return rc;
}

/* keep_and_tag - a fetched message: remember it, then tag it */
static int
keep_and_tag(struct work *w)
{
    const struct chat_message *m = w->arg;
    struct store_message sm = {0};
    int rc;

    sm.room = (char *)w->ev->room;
    sm.msg_id = (char *)w->ev->msg_id;
    sm.user = (char *)m->user;
    sm.text = (char *)m->text;
    sm.thread_id = (char *)m->thread_id;
    sm.at = m->at;
    rc = store_message_put(w->in->c->store, w->p->ops->name, &sm);
    if (!rc)
        rc = tag(w, m->user, m->text, m->at);
    return rc;
}

/* nothing - a cancelled tag: its event is claimed, nothing else */
static int
nothing(struct work *w)
{
    (void)w;
    return BOT_OK;
}

/* cancel_taggings - a 📌 removed (user: by whom), or its message deleted
 * (user NULL: everyone's), while the message was being fetched: that tag
 * must not land afterwards */
static void
cancel_taggings(struct incidents *in, const char *room, const char *msg_id,
                const char *user)
{
    for (struct tagging *t = in->taggings; t; t = t->next) {
        if (!strcmp(t->room, room) && !strcmp(t->msg_id, msg_id) &&
            (!user || !t->user || !strcmp(t->user, user)))
            t->cancelled = 1;
    }
}

static void
on_tag_fetched(void *arg, int rc, const struct chat_message *m)
{
    struct tagging *t = arg;
    struct chat_event ev = {0};

    if (!t->in) {
        /* the incidents are gone (shutdown): not acked, redelivered */
        if (t->done)
            t->done(t->arg, BOT_ECANCELED);
        tagging_free(t);
        return;
    }
    ev.room = t->room;
    ev.msg_id = t->msg_id;
    ev.user = t->user;
    ev.event_id = t->event_id;
    if (rc && rc != BOT_ECANCELED)
        log_warn("incident: INC-%lld: cannot fetch tagged message %s: %s",
                 (long long)t->incident_id, t->msg_id, bot_strerror(rc));
    else if (!rc) {
        struct chat_message clean = *m;
        struct strbuf sb;

        strbuf_init(&sb, 0);
        rc = m->text ? chat_text_clean(&sb, m->text, strlen(m->text),
                                       CHAT_TEXT_MULTILINE)
                     : BOT_OK;
        clean.text = strbuf_str(&sb);
        if (!rc)
            rc = event_tx(t->in, t->p, t->cancelled ? nothing : keep_and_tag,
                          &ev, t->incident_id, &clean);
        strbuf_cleanup(&sb);
    }
    units_finish(t->in->c->units, t->done, t->arg, rc);
    tagging_free(t);
}

/* tag_seen - a message pmbot has seen (arg: it, from the cache) */
static int
tag_seen(struct work *w)
{
    const struct store_message *m = w->arg;

    return tag(w, m->user, m->text, m->at);
}

/*
 * tag_or_fetch - a 📌 added. A message pmbot has seen is tagged at once;
 * one it has not must be fetched first (*fetch = 1: the caller fetches),
 * unless the event was handled before (a redelivery costs no API call).
 * The lookups change nothing, so a fetch leaves nothing to roll back.
 */
static int
tag_or_fetch(struct incidents *in, struct chat_platform *p,
             const struct chat_event *ev, int64_t incident_id, int *fetch)
{
    const char *pl = p->ops->name;
    struct store_message m;
    int rc, seen = 0;

    *fetch = 0;
    units_join(in->c->units);
    rc = store_message_get(in->c->store, pl, ev->room, ev->msg_id, &m);
    if (!rc) {
        rc = event_tx(in, p, tag_seen, ev, incident_id, &m);
        store_message_clear(&m);
        return rc;
    }
    if (rc != BOT_ENOTFOUND)
        return rc;
    rc = BOT_OK;
    if (ev->event_id)
        rc = store_event_seen(in->c->store, pl, ev->event_id, &seen);
    *fetch = !rc && !seen;
    return rc;
}

/* remember - keep a message of an incident channel */
static int
remember(struct work *w)
{
    const struct chat_event *ev = w->ev;
    struct store_message m = {0};
    int rc;

    m.room = (char *)ev->room;
    m.msg_id = (char *)ev->msg_id;
    m.user = (char *)ev->user;
    m.text = (char *)(ev->text ? ev->text : "");
    m.thread_id = (char *)ev->thread_id;
    m.at = ev->at;
    rc = store_message_put(w->in->c->store, w->p->ops->name, &m);
    /* an alarm's incident is led by the first responder who writes */
    if (!rc)
        rc = incident_first_responder(w->in, w->incident_id, ev->user);
    if (!rc)
        rc = review_hear(w->in, w->p, ev, w->incident_id, NULL);
    return rc;
}

static int
is_timeline_emoji(const struct config *cfg, const char *r)
{
    size_t n;

    if (!r)
        return 0;
    if (!strcmp(r, cfg->timeline_emoji) ||
        !strcmp(r, cfg->timeline_emoji_name))
        return 1;
    n = strlen(cfg->timeline_emoji_name);
    return r[0] == ':' && !strncmp(r + 1, cfg->timeline_emoji_name, n) &&
           !strcmp(r + 1 + n, ":");
}

/* change_entry - untag or delete (arg NULL) or edit (arg: the new text)
 * the entry recorded from ev->msg_id, if there is one; the message cache
 * follows edits and deletions. */
static int
change_entry(struct work *w)
{
    const struct chat_event *ev = w->ev;
    struct store *st = w->in->c->store;
    const char *text = w->arg, *pl = w->p->ops->name;
    struct timeline_entry e;
    int rc = BOT_OK;

    if (ev->kind == CHAT_EV_MESSAGE_CHANGED)
        rc = store_message_set_text(st, pl, ev->room, ev->msg_id, text);
    else if (ev->kind == CHAT_EV_MESSAGE_DELETED)
        rc = store_message_remove(st, pl, ev->room, ev->msg_id);
    if (!rc)
        rc = store_timeline_by_msg(st, w->incident_id, ev->room, ev->msg_id,
                                   &e);
    if (rc == BOT_ENOTFOUND)
        return BOT_OK; /* not a tagged message: nothing to do */
    if (rc)
        return rc;
    if (ev->kind == CHAT_EV_REACTION_REMOVED && ev->user) {
        int left;

        /* one 📌 of several: the entry stays while any remains */
        rc = store_tagger_remove(st, e.id, ev->user, &left);
        if (rc || left) {
            store_timeline_clear(&e);
            return rc;
        }
    }
    if (text)
        rc = store_timeline_set_text(st, e.id, text, core_now_ms(w->in->c));
    else
        rc = store_timeline_remove(st, e.id);
    store_timeline_clear(&e);
    return rc;
}

static void
handle_event(struct incidents *in, struct chat_platform *p,
             const struct chat_event *ev, int64_t inc_id, chat_done_fn *done,
             void *arg)
{
    const struct config *cfg = in->c->cfg;
    struct units *u = in->c->units;
    struct tagging *t;
    int rc = BOT_OK, fetch;

    switch (ev->kind) {
    case CHAT_EV_MESSAGE:
        rc = event_tx(in, p, remember, ev, inc_id, NULL);
        break;
    case CHAT_EV_REACTION_ADDED:
        if (!is_timeline_emoji(cfg, ev->reaction))
            break;
        rc = tag_or_fetch(in, p, ev, inc_id, &fetch);
        if (rc || !fetch)
            break;
        t = bot_calloc(1, sizeof(*t));
        if (!t || !(t->room = bot_strdup(ev->room)) ||
            !(t->msg_id = bot_strdup(ev->msg_id)) ||
            (ev->user && !(t->user = bot_strdup(ev->user))) ||
            (ev->event_id && !(t->event_id = bot_strdup(ev->event_id)))) {
            if (t)
                tagging_free(t);
            rc = BOT_ENOMEM;
            break;
        }
        t->in = in;
        t->p = p;
        t->incident_id = inc_id;
        t->done = done;
        t->arg = arg;
        t->next = in->taggings;
        if (in->taggings)
            in->taggings->prev = t;
        in->taggings = t;
        p->ops->fetch_message(p, ev->room, ev->msg_id, on_tag_fetched, t);
        return;
    case CHAT_EV_REACTION_REMOVED:
        if (is_timeline_emoji(cfg, ev->reaction)) {
            cancel_taggings(in, ev->room, ev->msg_id, ev->user);
            rc = event_tx(in, p, change_entry, ev, inc_id, NULL);
        }
        break;
    case CHAT_EV_MESSAGE_CHANGED:
        rc = event_tx(in, p, change_entry, ev, inc_id,
                      ev->text ? ev->text : "");
        break;
    case CHAT_EV_MESSAGE_DELETED:
        cancel_taggings(in, ev->room, ev->msg_id, NULL);
        rc = event_tx(in, p, change_entry, ev, inc_id, NULL);
        break;
    }
    units_finish(u, done, arg, rc);
}

void
incident_handle_event(struct incidents *in, struct chat_platform *p,
                      const struct chat_event *ev, chat_done_fn *done,
                      void *arg)
{
    struct chat_event clean;
    struct strbuf sb;
    int64_t id;
    int rc;

    rc = incident_id_for_room(in, p->ops->name, ev->room, &id);
    if (rc || !ev->msg_id) {
        /* not an incident channel: nothing of ours */
        units_finish(in->c->units, done, arg,
                     rc == BOT_ENOTFOUND || !ev->msg_id ? BOT_OK : rc);
        return;
    }
    if (!ev->text) {
        handle_event(in, p, ev, id, done, arg);
        return;
    }
    /* what reaches the timeline and the message cache is clean text */
    strbuf_init(&sb, 0);
    if (chat_text_clean(&sb, ev->text, strlen(ev->text),
                        CHAT_TEXT_MULTILINE)) {
        strbuf_cleanup(&sb);
        units_finish(in->c->units, done, arg, BOT_ENOMEM);
        return;
    }
    clean = *ev;
    clean.text = strbuf_str(&sb);
    handle_event(in, p, &clean, id, done, arg);
    strbuf_cleanup(&sb);
}
