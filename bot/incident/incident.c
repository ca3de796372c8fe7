/*
 * incident.c - declaring incidents, opening their channels, and keeping the
 * timeline in step with reactions, edits and deletions.
 *
 * Opening a channel follows from the database, never from the command that
 * asked for it: an incident without a channel is opened after every commit
 * and at start. So a crash between the commit and the platform call is
 * finished at restart, and the in-memory `opening` set keeps two openings
 * of the same incident from running at once.
 */
#include "incident.h"

#include "alarm.h"
#include "bot.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "mem.h"
#include "strbuf.h"
#include "timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_NAME_ATTEMPTS 50

static const char *const sev_names[] = {"SEV0", "SEV1", "SEV2", "SEV3",
                                        "SEV4"};

const char *
incident_sev_name(int severity)
{
    if (severity < 0 || severity > 4)
        return "SEV?";
    return sev_names[severity];
}

int
incident_parse_sev(const char *s, int *severity)
{
    long v;

    if (!strncasecmp(s, "sev", 3))
        s += 3;
    if (parse_long(s, 0, 4, &v))
        return BOT_EINVAL;
    *severity = (int)v;
    return BOT_OK;
}

int
incident_looks_like_sev(const char *s)
{
    if (strncasecmp(s, "sev", 3))
        return 0;
    s += 3;
    if (*s == '-' || *s == '+')
        s++;
    return *s && strspn(s, "0123456789") == strlen(s);
}

int
incident_parse_ref(const char *s, const char *prefix, int64_t *id)
{
    size_t n = strlen(prefix);
    long v;

    if (!strncasecmp(s, prefix, n) && s[n] == '-')
        s += n + 1;
    if (parse_long(s, 1, 2147483647L, &v))
        return BOT_EINVAL;
    *id = v;
    return BOT_OK;
}

int
incident_add_entry(struct bot *b, int64_t incident_id, int64_t at, int kind,
                   const char *text)
{
    struct timeline_entry e = {0};

    e.incident_id = incident_id;
    e.at = at;
    e.kind = kind;
    e.text = (char *)text;
    e.created_at = bot_now_ms(b);
    return store_timeline_add(b->store, &e, NULL);
}

int
incident_declare(struct bot *b, const char *title, int severity,
                 const char *user, const char *origin_room,
                 const char *alarm_key, int64_t at, int64_t *id_out)
{
    struct incident in = {0};
    struct strbuf sb;
    int64_t id;
    int rc;

    in.title = (char *)title;
    in.severity = severity;
    in.state = INCIDENT_OPEN;
    in.platform = (char *)b->platform->ops->name;
    in.origin_room = (char *)origin_room;
    in.declared_by = (char *)user;
    in.alarm_key = (char *)alarm_key;
    in.declared_at = at;
    rc = store_incident_insert(b->store, &in, &id);
    if (rc)
        return rc;
    b->channels_pending = 1;
    strbuf_init(&sb, 0);
    strbuf_printf(&sb, "Incident declared (%s): %s",
                  incident_sev_name(severity), title);
    rc = strbuf_error(&sb);
    if (!rc)
        rc = incident_add_entry(b, id, at, TIMELINE_AUTO, strbuf_str(&sb));
    strbuf_cleanup(&sb);
    if (rc)
        return rc;
    *id_out = id;
    return BOT_OK;
}

/*
 * alarm_entry - "Alarm fired: title" / "Alarm resolved: title" at the
 * alarm's own time. A time that cannot be true (before 2000: an unset
 * clock; more than a day ahead: a skewed sender) falls back to the time
 * pmbot received the alarm, rather than refusing the alarm: the page is
 * real even when the sender's clock is not, and the timeline stays in order.
 */
static int
alarm_entry(struct bot *b, int64_t id, const char *verb, const char *title,
            int64_t at)
{
    int64_t now = bot_now_ms(b);
    struct strbuf sb;
    int rc;

    if (at && !timeutil_plausible(at, now)) {
        char t[TIMEUTIL_BUFLEN];

        log_warn("alarm: INC-%lld: start time %s is implausible; using the "
                 "time it was received", (long long)id,
                 timeutil_fmt_iso(at, t));
        at = 0;
    }
    strbuf_init(&sb, 0);
    strbuf_printf(&sb, "Alarm %s: %s", verb, title);
    rc = strbuf_error(&sb);
    if (!rc)
        rc = incident_add_entry(b, id, at ? at : now, TIMELINE_AUTO,
                                strbuf_str(&sb));
    strbuf_cleanup(&sb);
    return rc;
}

/* alarm_details - what the channel is told about the alarm */
static char *
alarm_details(const struct alarm *a)
{
    const size_t budget = 32 * 1024; /* a channel message, not an archive */
    struct strbuf sb;
    size_t i;

    strbuf_init(&sb, 0);
    strbuf_printf(&sb, "Source: %s", a->source ? a->source : "alarm");
    if (a->description)
        strbuf_printf(&sb, "\n%s", a->description);
    for (i = 0; i < a->nitems; i++) {
        const struct alarm_item *it = &a->items[i];
        size_t need = strlen(it->title) + 32 +
                      (it->details ? strlen(it->details) + 1 : 0);

        if (i == 20 || sb.len + need > budget)
            break;
        strbuf_printf(&sb, "\n\u2022 %s (%s)", it->title,
                      it->resolved ? "resolved" : "firing");
        if (it->details)
            strbuf_printf(&sb, "\n%s", it->details);
    }
    if (i < a->nitems)
        strbuf_printf(&sb, "\n\u2026 and %zu more alerts", a->nitems - i);
    if (strbuf_error(&sb)) {
        strbuf_cleanup(&sb);
        return NULL;
    }
    return strbuf_steal(&sb);
}

int
incident_take_alarm(struct bot *b, const struct alarm *a,
                    int default_severity, int64_t *id, const char **status)
{
    struct incident open = {0}, in = {0};
    const char *verb = a->resolved ? "resolved" : "fired again";
    int rc;

    *id = 0;
    rc = store_incident_open_by_alarm(b->store, a->dedup_key, &open);
    if (!rc) {
        *id = open.id;
        *status = "updated";
        if (a->nitems > 1)
            rc = alarm_entry(b, open.id, verb, a->title, 0);
        for (size_t i = 0; !rc && i < a->nitems && a->nitems == 1; i++)
            rc = alarm_entry(b, open.id, a->items[i].resolved
                                             ? "resolved"
                                             : "fired again",
                             a->items[i].title, 0);
        if (!rc && !a->nitems)
            rc = alarm_entry(b, open.id, verb, a->title, 0);
        store_incident_clear(&open);
        return rc;
    }
    if (rc != BOT_ENOTFOUND)
        return rc;
    if (a->resolved) {
        *status = "ignored"; /* nothing open to update; people close */
        return BOT_OK;
    }
    in.title = a->title;
    in.severity = a->severity >= 0 ? a->severity : default_severity;
    in.state = INCIDENT_OPEN;
    in.platform = (char *)b->platform->ops->name;
    in.alarm_key = a->dedup_key;
    in.alarm_link = a->link;
    in.alarm_details = alarm_details(a);
    in.declared_at = bot_now_ms(b);
    rc = in.alarm_details ? store_incident_insert(b->store, &in, id)
                          : BOT_ENOMEM;
    bot_free(in.alarm_details);
    if (rc)
        return rc;
    b->channels_pending = 1;
    /* the timeline starts when the alarm did, one entry per alert */
    for (size_t i = 0; !rc && i < a->nitems; i++) {
        if (!a->items[i].resolved)
            rc = alarm_entry(b, *id, "fired", a->items[i].title,
                             a->items[i].starts_at ? a->items[i].starts_at
                                                   : a->starts_at);
    }
    if (!rc && !a->nitems)
        rc = alarm_entry(b, *id, "fired", a->title, a->starts_at);
    *status = "opened";
    return rc;
}

/* room_cache_load - every incident channel of this platform, once: the
 * question "is this an incident channel?" comes with every message */
static int
room_cache_load(struct bot *b)
{
    struct incident *list = NULL;
    size_t n = 0;
    int rc;

    if (b->rooms_loaded)
        return BOT_OK;
    while (b->nrooms) /* a failed load may have left a part */
        bot_free(b->room_names[--b->nrooms]);
    rc = store_incident_list(b->store, 0, 0, &list, &n);
    for (size_t i = n; !rc && i > 0; i--) {
        const struct incident *in = &list[i - 1]; /* oldest first */

        if (in->channel && !strcmp(in->platform, b->platform->ops->name))
            rc = bot_room_add(b, in->channel, in->id);
    }
    store_incident_list_free(list, n);
    if (!rc)
        b->rooms_loaded = 1;
    return rc;
}

int
incident_id_for_room(struct bot *b, const char *room, int64_t *id)
{
    int rc;

    if (!room || !b->platform)
        return BOT_ENOTFOUND;
    rc = room_cache_load(b);
    if (rc)
        return rc;
    return bot_room_find(b, room, id);
}

int
incident_for_room(struct bot *b, const char *room, struct incident *out)
{
    if (!room || !b->platform)
        return BOT_ENOTFOUND;
    return store_incident_by_channel(b->store, b->platform->ops->name, room,
                                     out);
}

int
incident_lookup(struct bot *b, const char *ref, struct incident *out)
{
    int64_t id;

    if (!incident_parse_ref(ref, "INC", &id))
        return store_incident_get(b->store, id, out);
    return store_incident_by_channel_name(b->store, ref, out);
}

int
incident_summary(struct bot *b, const struct incident *inc,
                 struct chat_msg *m)
{
    char t[TIMEUTIL_BUFLEN], d[TIMEUTIL_BUFLEN];
    struct timeline_entry *tl = NULL;
    struct action *acts = NULL;
    size_t ntl = 0, nact = 0;
    int64_t now = bot_now_ms(b);
    int rc;

    rc = store_timeline_list(b->store, inc->id, &tl, &ntl);
    if (!rc)
        rc = store_action_list(b->store, inc->id, 0, &acts, &nact);
    if (rc)
        goto out;
    chat_msg_bold(m, "INC-%lld \xc2\xb7 %s \xc2\xb7 %s", (long long)inc->id,
                  incident_sev_name(inc->severity), inc->title);
    chat_msg_nl(m);
    if (inc->state == INCIDENT_RESOLVED)
        chat_msg_text(m, "Status: resolved %s UTC, after %s",
                      timeutil_fmt_minute(inc->resolved_at, t),
                      timeutil_fmt_duration(inc->resolved_at -
                                                inc->declared_at,
                                            d));
    else
        chat_msg_text(m, "Status: open for %s",
                      timeutil_fmt_duration(now - inc->declared_at, d));
    chat_msg_text(m, " \xc2\xb7 declared %s UTC",
                  timeutil_fmt_minute(inc->declared_at, t));
    if (inc->declared_by) {
        chat_msg_text(m, " by ");
        chat_msg_user(m, inc->declared_by);
    }
    chat_msg_nl(m);
    if (inc->channel) {
        chat_msg_text(m, "Channel: ");
        chat_msg_room(m, inc->channel, inc->channel_name);
        chat_msg_text(m, " \xc2\xb7 ");
    }
    chat_msg_text(m, "Timeline: %zu %s \xc2\xb7 Open actions: %zu", ntl,
                  ntl == 1 ? "entry" : "entries", nact);
    rc = m->err;
out:
    store_timeline_list_free(tl, ntl);
    store_action_list_free(acts, nact);
    return rc;
}

/* --- opening the channel --- */

struct opening {
    struct bot *b;
    int64_t id;
    int attempt;
    char *room;
    char *summary_msg;
    char name[CHAT_CHANNEL_NAME_MAX + 1];
};

static void open_next(struct opening *op);

static void
opening_free(struct opening *op)
{
    bot_opening_remove(op->b, op->id);
    bot_free(op->room);
    bot_free(op);
}

static void
on_summary_posted(void *arg, int rc, const char *msg_id)
{
    struct opening *op = arg;
    struct chat_platform *p = op->b->platform;

    if (!rc && msg_id)
        p->ops->pin(p, op->room, msg_id, NULL, NULL);
    opening_free(op);
}

/* invite_responders - the configured responders and whoever declared it. */
static void
invite_responders(struct bot *b, const char *room, const struct incident *in)
{
    const char *users[64];
    const char *sev = in->severity >= 0 && in->severity <= 4
                          ? b->cfg->responders_sev[in->severity]
                          : NULL;
    struct strbuf all;
    char *list, *p, *tok;
    size_t n = 0;

    /* everyone's responders, then this severity's */
    strbuf_init(&all, 0);
    strbuf_printf(&all, "%s,%s", b->cfg->responders ? b->cfg->responders : "",
                  sev ? sev : "");
    list = strbuf_steal(&all);
    p = list;
    if (!list)
        return;
    while (p && n < 63) {
        tok = p;
        p = strchr(p, ',');
        if (p)
            *p++ = '\0';
        while (isspace((unsigned char)*tok))
            tok++;
        for (char *e = tok + strlen(tok); e > tok && isspace((unsigned char)
                                                                 e[-1]);)
            *--e = '\0';
        if (!*tok || (in->declared_by && !strcmp(tok, in->declared_by)))
            continue;
        for (size_t k = 0; k < n && tok; k++) {
            if (!strcmp(users[k], tok))
                tok = NULL; /* listed twice */
        }
        if (tok)
            users[n++] = tok;
    }
    if (in->declared_by)
        users[n++] = in->declared_by;
    if (n)
        b->platform->ops->invite(b->platform, room, users, n, NULL, NULL);
    bot_free(list);
}

struct pin_later {
    struct chat_platform *p;
    char room[]; /* where the message went */
};

/* on_details_posted - pin what the alarm said */
static void
on_details_posted(void *arg, int rc, const char *msg_id)
{
    struct pin_later *pl = arg;

    if (!rc && msg_id)
        pl->p->ops->pin(pl->p, pl->room, msg_id, NULL, NULL);
    bot_free(pl);
}

/* announce_alarm - the alarm's details (pinned), and what happened the
 * last times this alarm fired: the fix promised then comes first now. */
static void
announce_alarm(struct bot *b, const char *room, const struct incident *in)
{
    struct chat_platform *p = b->platform;
    struct incident *prev = NULL;
    struct action *acts = NULL;
    struct pin_later *pl;
    char d[TIMEUTIL_BUFLEN];
    size_t nprev = 0, nacts = 0;
    struct chat_msg m;

    chat_msg_init(&m);
    chat_msg_bold(&m, "Alarm");
    chat_msg_nl(&m);
    chat_msg_text(&m, "%s", in->alarm_details);
    if (in->alarm_link) {
        chat_msg_nl(&m);
        chat_msg_link(&m, in->alarm_link, "Alarm source");
    }
    pl = bot_malloc(sizeof(*pl) + strlen(room) + 1);
    if (pl) {
        pl->p = p;
        memcpy(pl->room, room, strlen(room) + 1);
    }
    if (!m.err && pl)
        p->ops->post(p, &(struct chat_target){.room = room}, &m,
                     on_details_posted, pl);
    else
        bot_free(pl);
    chat_msg_cleanup(&m);

    if (!in->alarm_key ||
        store_incident_list_by_alarm(b->store, in->alarm_key, in->id, &prev,
                                     &nprev) ||
        !nprev)
        goto out;
    chat_msg_init(&m);
    chat_msg_bold(&m, "This alarm fired before");
    for (size_t i = 0; i < nprev; i++) {
        chat_msg_nl(&m);
        chat_msg_text(&m, "INC-%lld %s \xc2\xb7 %s \xc2\xb7 %s",
                      (long long)prev[i].id, prev[i].title,
                      timeutil_fmt_date(prev[i].declared_at, d),
                      prev[i].state == INCIDENT_RESOLVED ? "resolved"
                                                         : "open");
        if (store_action_list(b->store, prev[i].id, 0, &acts, &nacts))
            continue;
        for (size_t j = 0; j < nacts; j++) {
            chat_msg_nl(&m);
            chat_msg_text(&m, "    still open: ACT-%lld %s \xe2\x80\x94 ",
                          (long long)acts[j].id, acts[j].text);
            chat_msg_user(&m, acts[j].assignee);
            chat_msg_text(&m, ", due %s", acts[j].due_date);
        }
        store_action_list_free(acts, nacts);
    }
    if (!m.err)
        p->ops->post(p, &(struct chat_target){.room = room}, &m, NULL, NULL);
    chat_msg_cleanup(&m);
out:
    store_incident_list_free(prev, nprev);
}

/* announce - after the channel is recorded: invite, topic, summary, pin,
 * and a pointer in the room where the incident was declared. */
static void
announce(struct opening *op, const struct incident *in)
{
    struct bot *b = op->b;
    struct chat_platform *p = b->platform;
    struct chat_msg m;
    struct strbuf topic;

    invite_responders(b, op->room, in);
    strbuf_init(&topic, 250);
    strbuf_printf(&topic, "INC-%lld %s: %s", (long long)in->id,
                  incident_sev_name(in->severity), in->title);
    p->ops->set_topic(p, op->room, strbuf_str(&topic), NULL, NULL);
    strbuf_cleanup(&topic);

    if (in->origin_room && strcmp(in->origin_room, op->room)) {
        chat_msg_init(&m);
        chat_msg_text(&m, "INC-%lld (%s) declared: %s. Join ",
                      (long long)in->id, incident_sev_name(in->severity),
                      in->title);
        chat_msg_room(&m, op->room, op->name);
        if (!m.err)
            p->ops->post(p, &(struct chat_target){.room = in->origin_room}, &m,
                         NULL, NULL);
        chat_msg_cleanup(&m);
    }
    if (in->alarm_details)
        announce_alarm(b, op->room, in);
    chat_msg_init(&m);
    incident_summary(b, in, &m);
    chat_msg_nl(&m);
    chat_msg_text(&m, "React with %s to a message to put it on the "
                      "timeline. %cincident note, %cincident sev, "
                      "%cincident resolve; %cpm help for the rest.",
                  b->cfg->timeline_emoji, p->ops->cmd_prefix,
                  p->ops->cmd_prefix, p->ops->cmd_prefix,
                  p->ops->cmd_prefix);
    if (m.err) {
        chat_msg_cleanup(&m);
        opening_free(op);
        return;
    }
    p->ops->post(p, &(struct chat_target){.room = op->room}, &m,
                 on_summary_posted, op);
    chat_msg_cleanup(&m);
}

static void
on_channel_opened(void *arg, int rc, const char *room_id,
                  const char *room_name)
{
    struct opening *op = arg;
    struct bot *b = op->b;
    struct incident in = {0};
    struct strbuf sb;

    if (rc == BOT_EEXIST && op->attempt < MAX_NAME_ATTEMPTS) {
        op->attempt++;
        open_next(op);
        return;
    }
    if (rc) {
        if (rc != BOT_ECANCELED) {
            log_err("incident: INC-%lld: cannot open channel %s: %s; "
                    "trying again in a minute",
                    (long long)op->id, op->name, bot_strerror(rc));
            bot_opening_later(b, op->id, bot_now_ms(b) + 60000);
        }
        opening_free(op);
        return;
    }
    /* the platform may have adjusted the name; it may also pass ours back */
    if (room_name && room_name != op->name)
        snprintf(op->name, sizeof(op->name), "%s", room_name);
    op->room = bot_strdup(room_id);
    strbuf_init(&sb, 0);
    strbuf_printf(&sb, "Emergency channel opened: #%s", op->name);
    rc = op->room ? strbuf_error(&sb) : BOT_ENOMEM;
    /* the room exists now: record it in a commit of its own, never inside
     * a group that could still fail after the channel was announced */
    bot_group_commit_now(b);
    if (!rc)
        rc = store_tx_begin(b->store);
    if (!rc) {
        rc = store_incident_set_channel(b->store, op->id, room_id, op->name);
        if (!rc)
            rc = incident_add_entry(b, op->id, bot_now_ms(b), TIMELINE_AUTO,
                                    strbuf_str(&sb));
        if (!rc)
            rc = store_incident_get(b->store, op->id, &in);
        if (!rc)
            rc = store_tx_commit(b->store);
        if (rc)
            store_tx_rollback(b->store);
    }
    strbuf_cleanup(&sb);
    if (rc) {
        /* the room exists but is not recorded: say so, a human can fix it */
        log_err("incident: INC-%lld: channel %s opened but not recorded: %s",
                (long long)op->id, op->name, bot_strerror(rc));
        store_incident_clear(&in);
        opening_free(op);
        return;
    }
    log_info("incident: INC-%lld: channel #%s open", (long long)op->id,
             op->name);
    if (b->rooms_loaded && bot_room_add(b, room_id, op->id))
        b->rooms_loaded = 0; /* reload on the next lookup */
    announce(op, &in);
    store_incident_clear(&in);
}

/* open_next - ask the platform for the next candidate name; names already
 * used by an incident in the database are skipped without asking. */
static void
open_next(struct opening *op)
{
    struct bot *b = op->b;
    struct incident in = {0};
    int used = 1, rc;

    rc = store_incident_get(b->store, op->id, &in);
    while (!rc && used && op->attempt <= MAX_NAME_ATTEMPTS) {
        chat_channel_name(b->cfg->channel_prefix, in.declared_at, in.title,
                          op->attempt, op->name, sizeof(op->name));
        rc = store_incident_channel_name_used(b->store, op->name, &used);
        if (used)
            op->attempt++;
    }
    store_incident_clear(&in);
    if (rc || used) {
        log_err("incident: INC-%lld: no channel name available",
                (long long)op->id);
        bot_opening_later(b, op->id, bot_now_ms(b) + 60000);
        opening_free(op);
        return;
    }
    b->platform->ops->open_channel(b->platform, op->name, 0, on_channel_opened,
                                   op);
}

void
incident_open_pending(struct bot *b)
{
    struct incident *list = NULL;
    size_t n = 0;

    /* this runs after every commit: ask the database only when an
     * incident may be waiting for its channel */
    if (!b->platform || !b->channels_pending || b->hold_channels ||
        store_incident_list(b->store, 0, 1, &list, &n))
        return;
    if (!n)
        b->channels_pending = 0;
    for (size_t i = 0; i < n; i++) {
        struct opening *op;

        if (strcmp(list[i].platform, b->platform->ops->name) ||
            bot_opening_has(b, list[i].id) ||
            bot_opening_deferred(b, list[i].id, bot_now_ms(b)))
            continue;
        op = bot_calloc(1, sizeof(*op));
        if (!op || bot_opening_add(b, list[i].id)) {
            bot_free(op);
            break;
        }
        op->b = b;
        op->id = list[i].id;
        op->attempt = 1;
        open_next(op);
    }
    store_incident_list_free(list, n);
}

/* --- reactions, edits, deletions --- */

struct tagging {
    struct tagging *next, *prev; /* in b->taggings while the fetch runs */
    int cancelled;               /* untagged or deleted meanwhile */
    struct bot *b;
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
    else if (t->b && t->b->taggings == t)
        t->b->taggings = t->next;
    if (t->next)
        t->next->prev = t->prev;
    bot_free(t->event_id);
    bot_free(t->room);
    bot_free(t->msg_id);
    bot_free(t->user);
    bot_free(t);
}

/* claim - in tx: BOT_OK and *first for a new event (always new if it has
 * no id). */
static int
claim(struct bot *b, const char *event_id, int *first)
{
    *first = 1;
    if (!event_id)
        return BOT_OK;
    return store_event_claim(b->store, b->platform->ops->name, event_id,
                             bot_now_ms(b), first);
}

/* tag - in tx: record message (room, msg_id) on the timeline once, at the
 * message's own time, and remember that tagger (nullable) put a 📌 on it. */
static int
tag(struct bot *b, int64_t incident_id, const struct chat_event *ev,
    const char *author, const char *text, int64_t at)
{
    struct timeline_entry e = {0};
    int64_t id;
    int rc;

    e.incident_id = incident_id;
    e.at = at;
    e.kind = TIMELINE_TAGGED;
    e.text = (char *)text;
    e.msg_room = (char *)ev->room;
    e.msg_id = (char *)ev->msg_id;
    e.author = (char *)author;
    e.created_at = bot_now_ms(b);
    /* tagged already (another 📌 on it): still one entry */
    rc = store_timeline_tag(b->store, &e, &id);
    if (!rc && ev->user)
        rc = store_tagger_add(b->store, id, ev->user);
    return rc;
}

/*
 * event_tx - one event's transaction: claim its id (a redelivered event
 * does nothing more), run fn, commit; any failure rolls it all back, the
 * claim included, so the event can be tried again.
 */
typedef int event_fn(struct bot *b, const struct chat_event *ev,
                     int64_t incident_id, const void *arg);

static int
event_tx(struct bot *b, const char *event_id, event_fn *fn,
         const struct chat_event *ev, int64_t incident_id, const void *arg)
{
    int rc, first;

    rc = bot_tx_begin(b);
    if (rc)
        return rc;
    rc = claim(b, event_id, &first);
    if (!rc && first)
        rc = fn(b, ev, incident_id, arg);
    if (!rc)
        rc = store_tx_commit(b->store);
    if (rc)
        store_tx_rollback(b->store);
    return rc;
}

/* keep_and_tag - a fetched message: remember it, then tag it */
static int
keep_and_tag(struct bot *b, const struct chat_event *ev, int64_t incident_id,
             const void *arg)
{
    const struct chat_message *m = arg;
    struct store_message sm = {0};
    int rc;

    sm.room = (char *)ev->room;
    sm.msg_id = (char *)ev->msg_id;
    sm.user = (char *)m->user;
    sm.text = (char *)m->text;
    sm.thread_id = (char *)m->thread_id;
    sm.at = m->at;
    rc = store_message_put(b->store, b->platform->ops->name, &sm);
    if (!rc)
        rc = tag(b, incident_id, ev, m->user, m->text, m->at);
    return rc;
}

/* nothing - a cancelled tag: its event is claimed, nothing else */
static int
nothing(struct bot *b, const struct chat_event *ev, int64_t incident_id,
        const void *arg)
{
    (void)b;
    (void)ev;
    (void)incident_id;
    (void)arg;
    return BOT_OK;
}

/* cancel_taggings - a 📌 removed (user: by whom), or its message deleted
 * (user NULL: everyone's), while the message was being fetched: that tag
 * must not land afterwards */
static void
cancel_taggings(struct bot *b, const char *room, const char *msg_id,
                const char *user)
{
    for (struct tagging *t = b->taggings; t; t = t->next) {
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

    ev.room = t->room;
    ev.msg_id = t->msg_id;
    ev.user = t->user;
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
            rc = event_tx(t->b, t->event_id,
                          t->cancelled ? nothing : keep_and_tag, &ev,
                          t->incident_id, &clean);
        strbuf_cleanup(&sb);
    }
    bot_finish(t->b, t->done, t->arg, rc);
    tagging_free(t);
}

/* tag_seen - a message pmbot has seen (arg: it, from the cache) */
static int
tag_seen(struct bot *b, const struct chat_event *ev, int64_t incident_id,
         const void *arg)
{
    const struct store_message *m = arg;

    return tag(b, incident_id, ev, m->user, m->text, m->at);
}

/*
 * tag_or_fetch - a 📌 added. A message pmbot has seen is tagged at once;
 * one it has not must be fetched first (*fetch = 1: the caller fetches),
 * unless the event was handled before (a redelivery costs no API call).
 * The lookups change nothing, so a fetch leaves nothing to roll back.
 */
static int
tag_or_fetch(struct bot *b, const struct chat_event *ev, int64_t incident_id,
             int *fetch)
{
    const char *pl = b->platform->ops->name;
    struct store_message m;
    int rc, seen = 0;

    *fetch = 0;
    bot_tx_join(b);
    rc = store_message_get(b->store, pl, ev->room, ev->msg_id, &m);
    if (!rc) {
        rc = event_tx(b, ev->event_id, tag_seen, ev, incident_id, &m);
        store_message_clear(&m);
        return rc;
    }
    if (rc != BOT_ENOTFOUND)
        return rc;
    rc = BOT_OK;
    if (ev->event_id)
        rc = store_event_seen(b->store, pl, ev->event_id, &seen);
    *fetch = !rc && !seen;
    return rc;
}

/* remember - keep a message of an incident channel */
static int
remember(struct bot *b, const struct chat_event *ev, int64_t incident_id,
         const void *arg)
{
    struct store_message m = {0};

    (void)incident_id;
    (void)arg;
    m.room = (char *)ev->room;
    m.msg_id = (char *)ev->msg_id;
    m.user = (char *)ev->user;
    m.text = (char *)(ev->text ? ev->text : "");
    m.thread_id = (char *)ev->thread_id;
    m.at = ev->at;
    return store_message_put(b->store, b->platform->ops->name, &m);
}

static int
is_timeline_emoji(const struct bot *b, const char *r)
{
    size_t n;

    if (!r)
        return 0;
    if (!strcmp(r, b->cfg->timeline_emoji) ||
        !strcmp(r, b->cfg->timeline_emoji_name))
        return 1;
    n = strlen(b->cfg->timeline_emoji_name);
    return r[0] == ':' && !strncmp(r + 1, b->cfg->timeline_emoji_name, n) &&
           !strcmp(r + 1 + n, ":");
}

/* change_entry - untag or delete (arg NULL) or edit (arg: the new text)
 * the entry recorded from ev->msg_id, if there is one; the message cache
 * follows edits and deletions. */
static int
change_entry(struct bot *b, const struct chat_event *ev, int64_t incident_id,
             const void *arg)
{
    const char *text = arg, *pl = b->platform->ops->name;
    struct timeline_entry e;
    int rc = BOT_OK;

    if (ev->kind == CHAT_EV_MESSAGE_CHANGED)
        rc = store_message_set_text(b->store, pl, ev->room, ev->msg_id, text);
    else if (ev->kind == CHAT_EV_MESSAGE_DELETED)
        rc = store_message_remove(b->store, pl, ev->room, ev->msg_id);
    if (!rc)
        rc = store_timeline_by_msg(b->store, incident_id, ev->room,
                                   ev->msg_id, &e);
    if (rc == BOT_ENOTFOUND)
        return BOT_OK; /* not a tagged message: nothing to do */
    if (rc)
        return rc;
    if (ev->kind == CHAT_EV_REACTION_REMOVED && ev->user) {
        int left;

        /* one 📌 of several: the entry stays while any remains */
        rc = store_tagger_remove(b->store, e.id, ev->user, &left);
        if (rc || left) {
            store_timeline_clear(&e);
            return rc;
        }
    }
    if (text)
        rc = store_timeline_set_text(b->store, e.id, text, bot_now_ms(b));
    else
        rc = store_timeline_remove(b->store, e.id);
    store_timeline_clear(&e);
    return rc;
}

static void
handle_event(struct bot *b, const struct chat_event *ev, chat_done_fn *done,
             void *arg)
{
    struct tagging *t;
    int64_t inc_id;
    int rc, fetch;

    rc = incident_id_for_room(b, ev->room, &inc_id);
    if (rc || !ev->msg_id) {
        /* not an incident channel: nothing of ours */
        bot_finish(b, done, arg,
                   rc == BOT_ENOTFOUND || !ev->msg_id ? BOT_OK : rc);
        return;
    }
    switch (ev->kind) {
    case CHAT_EV_MESSAGE:
        rc = event_tx(b, ev->event_id, remember, ev, inc_id, NULL);
        break;
    case CHAT_EV_REACTION_ADDED:
        if (!is_timeline_emoji(b, ev->reaction))
            break;
        rc = tag_or_fetch(b, ev, inc_id, &fetch);
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
        t->b = b;
        t->incident_id = inc_id;
        t->done = done;
        t->arg = arg;
        t->next = b->taggings;
        if (b->taggings)
            b->taggings->prev = t;
        b->taggings = t;
        b->platform->ops->fetch_message(b->platform, ev->room, ev->msg_id,
                                        on_tag_fetched, t);
        return;
    case CHAT_EV_REACTION_REMOVED:
        if (is_timeline_emoji(b, ev->reaction)) {
            cancel_taggings(b, ev->room, ev->msg_id, ev->user);
            rc = event_tx(b, ev->event_id, change_entry, ev, inc_id, NULL);
        }
        break;
    case CHAT_EV_MESSAGE_CHANGED:
        rc = event_tx(b, ev->event_id, change_entry, ev, inc_id,
                      ev->text ? ev->text : "");
        break;
    case CHAT_EV_MESSAGE_DELETED:
        cancel_taggings(b, ev->room, ev->msg_id, NULL);
        rc = event_tx(b, ev->event_id, change_entry, ev, inc_id, NULL);
        break;
    }
    bot_finish(b, done, arg, rc);
}

void
incident_handle_event(struct bot *b, const struct chat_event *ev,
                      chat_done_fn *done, void *arg)
{
    struct chat_event clean;
    struct strbuf sb;
    int64_t id;

    /* only text an incident keeps is worth cleaning (the lookup is in
     * memory; handle_event repeats it) */
    if (!ev->text || incident_id_for_room(b, ev->room, &id)) {
        handle_event(b, ev, done, arg);
        return;
    }
    /* what reaches the timeline and the message cache is clean text */
    strbuf_init(&sb, 0);
    if (chat_text_clean(&sb, ev->text, strlen(ev->text),
                        CHAT_TEXT_MULTILINE)) {
        strbuf_cleanup(&sb);
        bot_finish(b, done, arg, BOT_ENOMEM);
        return;
    }
    clean = *ev;
    clean.text = strbuf_str(&sb);
    handle_event(b, &clean, done, arg);
    strbuf_cleanup(&sb);
}
