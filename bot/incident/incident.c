/*
 * incident.c - declaring and resolving incidents, alarms, lookups and the
 * one-message summary; and answering whoever asked.
 */
#include "incident_int.h"

#include "alarm.h"
#include "config.h"
#include "core.h"
#include "err.h"
#include "log.h"
#include "mem.h"
#include "outbox.h"
#include "scrub.h"
#include "strbuf.h"
#include "timeutil.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int
incidents_new(struct core *c, struct incidents **out)
{
    struct incidents *in = bot_calloc(1, sizeof(*in));

    if (!in)
        return BOT_ENOMEM;
    in->c = c;
    in->channels_pending = 1; /* a crash may have left one unopened */
    *out = in;
    return BOT_OK;
}

static void
rooms_clear(struct incidents *in)
{
    for (size_t i = 0; i < in->nrooms; i++) {
        bot_free(in->rooms[i].platform);
        bot_free(in->rooms[i].room);
    }
    in->nrooms = 0;
}

void
incidents_free(struct incidents *in)
{
    if (!in)
        return;
    timeline_cancel_all(in);
    rooms_clear(in);
    bot_free(in->rooms);
    bot_free(in->led);
    bot_free(in->opening);
    bot_free(in);
}

struct core *
incidents_core(const struct incidents *in)
{
    return in->c;
}

/* --- answering --- */

struct pending_reply {
    chat_reply_fn *fn;
    void *arg;
    struct chat_msg msg;
};

static void
reply_run(void *arg)
{
    struct pending_reply *r = arg;

    r->fn(r->arg, &r->msg, 0);
    chat_msg_cleanup(&r->msg);
    bot_free(r);
}

static void
reply_drop(void *arg)
{
    struct pending_reply *r = arg;

    chat_msg_cleanup(&r->msg);
    bot_free(r);
}

int
incident_reply(const struct asker *a, struct chat_msg *m)
{
    const struct chat_event *ev = a->ev;
    struct pending_reply *r;
    int rc = m->err;

    if (rc) {
        chat_msg_cleanup(m);
        return rc;
    }
    if (!ev->reply) {
        struct chat_target to = {0};

        to.room = ev->room;
        to.thread_id = ev->thread_id;
        rc = outbox_post(a->in->c->outbox, a->p->ops->name, &to, m, NULL);
        chat_msg_cleanup(m);
        return rc;
    }
    /* a slash command's answer rides on its ack, which follows the commit */
    r = bot_calloc(1, sizeof(*r));
    if (!r) {
        chat_msg_cleanup(m);
        return BOT_ENOMEM;
    }
    r->fn = ev->reply;
    r->arg = ev->reply_arg;
    r->msg = *m;
    chat_msg_init(m);
    return unit_after(a->in->c->units, reply_run, reply_drop, r);
}

void
incident_refuse(const struct asker *a, struct chat_msg *m)
{
    const struct chat_event *ev = a->ev;
    struct chat_target to = {0};

    if (!m->err && ev->reply) {
        ev->reply(ev->reply_arg, m, 1);
    } else if (!m->err && a->p) {
        to.room = ev->room;
        to.thread_id = ev->thread_id;
        /* only the asker needs to see a refusal; a DM is private already */
        if (ev->user && !ev->is_dm) {
            to.user = ev->user;
            to.flags = CHAT_POST_EPHEMERAL;
        }
        outbox_send_now(a->in->c->outbox, a->p, &to, m);
    }
    chat_msg_cleanup(m);
}

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
incident_add_entry(struct incidents *in, int64_t incident_id, int64_t at,
                   int kind, const char *text)
{
    struct timeline_entry e = {0};

    e.incident_id = incident_id;
    e.at = at;
    e.kind = kind;
    e.text = (char *)text;
    e.created_at = core_now_ms(in->c);
    return store_timeline_add(in->c->store, &e, NULL);
}

/* auto_entry - in tx: sb (cleaned up) as an automatic timeline entry */
static int
auto_entry(struct incidents *in, int64_t id, int64_t at, struct strbuf *sb)
{
    int rc = strbuf_error(sb);

    if (!rc)
        rc = incident_add_entry(in, id, at, TIMELINE_AUTO, strbuf_str(sb));
    strbuf_cleanup(sb);
    return rc;
}

int
incident_declare(struct incidents *in, const char *platform,
                 const char *title, int severity, const char *user,
                 const char *origin_room, const char *alarm_key, int64_t at,
                 int64_t *id_out)
{
    struct incident inc = {0};
    struct strbuf sb;
    int64_t id;
    int rc;

    inc.title = (char *)title;
    inc.severity = severity;
    inc.state = INCIDENT_OPEN;
    inc.platform = (char *)platform;
    inc.origin_room = (char *)origin_room;
    inc.declared_by = (char *)user;
    inc.alarm_key = (char *)alarm_key;
    inc.declared_at = at;
    rc = store_incident_insert(in->c->store, &inc, &id);
    if (!rc && user) /* whoever declares it leads it */
        rc = store_role_set(in->c->store, id, ROLE_COMMANDER, user,
                            ROLE_DECLARED, at);
    if (rc)
        return rc;
    in->channels_pending = 1;
    strbuf_init(&sb, 0);
    strbuf_printf(&sb, "Incident declared (%s): %s",
                  incident_sev_name(severity), title);
    rc = auto_entry(in, id, at, &sb);
    if (rc)
        return rc;
    *id_out = id;
    return BOT_OK;
}

/* invite_to_review - in tx: the key responders (everyone who posted or
 * tagged in the channel) are asked to the review, by when */
static int
invite_to_review(struct incidents *in, const struct incident *inc,
                 int64_t at)
{
    struct chat_target to = {0};
    char due[TIMEUTIL_BUFLEN];
    struct chat_msg m;
    char **who = NULL;
    size_t n = 0;
    int rc;

    if (!inc->channel)
        return BOT_OK;
    rc = store_responders(in->c->store, inc->id, 50, &who, &n);
    if (rc || !n) {
        bot_free(who);
        return rc;
    }
    chat_msg_init(&m);
    chat_msg_text(&m, "Blameless review of INC-%lld by %s UTC: ",
                  (long long)inc->id,
                  timeutil_fmt_minute(at + REVIEW_DUE_MS, due));
    for (size_t i = 0; i < n; i++) {
        chat_msg_text(&m, i ? ", " : "");
        chat_msg_user(&m, who[i]);
        bot_free(who[i]);
    }
    bot_free(who);
    chat_msg_text(&m, ", you were in the response: please join it.");
    to.room = inc->channel;
    rc = m.err ? m.err
               : outbox_post(in->c->outbox, inc->platform, &to, &m, NULL);
    chat_msg_cleanup(&m);
    return rc;
}

int
incident_resolve(struct incidents *in, const struct incident *inc,
                 int64_t at)
{
    int rc;

    if (inc->state == INCIDENT_RESOLVED)
        return BOT_EEXIST;
    rc = store_incident_resolve(in->c->store, inc->id, at);
    if (!rc)
        rc = incident_add_entry(in, inc->id, at, TIMELINE_AUTO,
                                "Incident resolved");
    if (!rc)
        rc = review_clock_start(in, inc->id, at);
    if (!rc)
        rc = invite_to_review(in, inc, at);
    return rc;
}

int
incident_set_severity(struct incidents *in, const struct incident *inc,
                      int severity)
{
    struct strbuf sb;
    int rc;

    if (severity == inc->severity)
        return BOT_EEXIST;
    rc = store_incident_set_severity(in->c->store, inc->id, severity);
    if (rc)
        return rc;
    strbuf_init(&sb, 0);
    strbuf_printf(&sb, "Severity changed from %s to %s",
                  incident_sev_name(inc->severity),
                  incident_sev_name(severity));
    return auto_entry(in, inc->id, core_now_ms(in->c), &sb);
}

/*
 * alarm_entry - "Alarm fired: title" / "Alarm resolved: title" at the
 * alarm's own time. A time that cannot be true (before 2000: an unset
 * clock; more than a day ahead: a skewed sender) falls back to the time
 * pmbot received the alarm, rather than refusing the alarm: the page is
 * real even when the sender's clock is not, and the timeline stays in order.
 */
static int
alarm_entry(struct incidents *in, int64_t id, const char *verb, const char *title,
            int64_t at)
{
    int64_t now = core_now_ms(in->c);
    struct strbuf sb;

    if (at && !timeutil_plausible(at, now)) {
        char t[TIMEUTIL_BUFLEN];

        log_warn("alarm: INC-%lld: start time %s is implausible; using the "
                 "time it was received", (long long)id,
                 timeutil_fmt_iso(at, t));
        at = 0;
    }
    strbuf_init(&sb, 0);
    strbuf_printf(&sb, "Alarm %s: %s", verb, title);
    return auto_entry(in, id, at ? at : now, &sb);
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
incident_take_alarm(struct incidents *in, const char *platform,
                    const struct alarm *a, int default_severity, int64_t *id,
                    const char **status)
{
    struct incident open = {0}, inc = {0};
    const char *verb = a->resolved ? "resolved" : "fired again";
    int rc;

    *id = 0;
    rc = store_incident_open_by_alarm(in->c->store, a->dedup_key, &open);
    if (!rc) {
        *id = open.id;
        *status = "updated";
        if (a->nitems > 1)
            rc = alarm_entry(in, open.id, verb, a->title, 0);
        for (size_t i = 0; !rc && i < a->nitems && a->nitems == 1; i++)
            rc = alarm_entry(in, open.id, a->items[i].resolved
                                             ? "resolved"
                                             : "fired again",
                             a->items[i].title, 0);
        if (!rc && !a->nitems)
            rc = alarm_entry(in, open.id, verb, a->title, 0);
        store_incident_clear(&open);
        return rc;
    }
    if (rc != BOT_ENOTFOUND)
        return rc;
    if (a->resolved) {
        *status = "ignored"; /* nothing open to update; people close */
        return BOT_OK;
    }
    inc.title = a->title;
    inc.severity = a->severity >= 0 ? a->severity : default_severity;
    inc.state = INCIDENT_OPEN;
    inc.platform = (char *)platform;
    inc.alarm_key = a->dedup_key;
    inc.alarm_link = a->link;
    inc.alarm_details = alarm_details(a);
    inc.declared_at = core_now_ms(in->c);
    rc = inc.alarm_details ? store_incident_insert(in->c->store, &inc, id)
                           : BOT_ENOMEM;
    bot_free(inc.alarm_details);
    if (!rc && in->c->cfg->default_commander)
        rc = store_role_set(in->c->store, *id, ROLE_COMMANDER,
                            in->c->cfg->default_commander, ROLE_DEFAULT,
                            inc.declared_at);
    if (rc)
        return rc;
    in->channels_pending = 1;
    /* the timeline starts when the alarm did, one entry per alert */
    for (size_t i = 0; !rc && i < a->nitems; i++) {
        if (!a->items[i].resolved)
            rc = alarm_entry(in, *id, "fired", a->items[i].title,
                             a->items[i].starts_at ? a->items[i].starts_at
                                                   : a->starts_at);
    }
    if (!rc && !a->nitems)
        rc = alarm_entry(in, *id, "fired", a->title, a->starts_at);
    *status = "opened";
    return rc;
}

/* --- roles --- */

static const char *const role_names[ROLE__N] = {"commander", "scribe",
                                                "comms"};
static const char *const role_titles[ROLE__N] = {"Commander", "Scribe",
                                                 "Comms"};

const char *
incident_role_title(int role)
{
    return role >= 0 && role < ROLE__N ? role_titles[role] : NULL;
}

const char *
incident_role_name(int role)
{
    return role >= 0 && role < ROLE__N ? role_names[role] : NULL;
}

int
incident_parse_role(const char *s, int *role)
{
    for (int i = 0; i < ROLE__N; i++) {
        if (!strcasecmp(s, role_names[i])) {
            *role = i;
            return BOT_OK;
        }
    }
    return BOT_EINVAL;
}

static int
led(const struct incidents *in, int64_t id)
{
    for (size_t i = 0; i < in->nled; i++) {
        if (in->led[i] == id)
            return 1;
    }
    return 0;
}

/* remember_led - a commander someone chose: messages stop asking */
static void
remember_led(struct incidents *in, int64_t id)
{
    if (led(in, id))
        return;
    if (in->nled == in->capled) {
        size_t nc = in->capled ? in->capled * 2 : 16;
        int64_t *n = bot_realloc(in->led, nc * sizeof(*n));

        if (!n)
            return; /* only a cache: the store is asked again */
        in->led = n;
        in->capled = nc;
    }
    in->led[in->nled++] = id;
}

int
incident_set_role(struct incidents *in, const struct incident *inc,
                  int role, const char *user, int how)
{
    struct roles r;
    struct strbuf sb;
    int rc;

    rc = store_roles_get(in->c->store, inc->id, &r);
    if (rc)
        return rc;
    rc = r.user[role] && !strcmp(r.user[role], user) ? BOT_EEXIST : BOT_OK;
    store_roles_clear(&r);
    if (!rc)
        rc = store_role_set(in->c->store, inc->id, role, user, how,
                            core_now_ms(in->c));
    if (rc)
        return rc;
    strbuf_init(&sb, 0);
    strbuf_printf(&sb, "%s: <@%s>", role_titles[role], user);
    return auto_entry(in, inc->id, core_now_ms(in->c), &sb);
}

int
incident_first_responder(struct incidents *in, int64_t incident_id,
                         const char *user)
{
    struct incident inc = {0};
    struct roles r;
    int rc, take;

    if (!user || led(in, incident_id))
        return BOT_OK;
    rc = store_roles_get(in->c->store, incident_id, &r);
    if (rc)
        return rc;
    take = !r.user[ROLE_COMMANDER] || r.how[ROLE_COMMANDER] == ROLE_DEFAULT;
    store_roles_clear(&r);
    if (!take) {
        remember_led(in, incident_id);
        return BOT_OK;
    }
    rc = store_incident_get(in->c->store, incident_id, &inc);
    if (!rc)
        rc = incident_set_role(in, &inc, ROLE_COMMANDER, user, ROLE_FIRST);
    store_incident_clear(&inc);
    /* not cached yet: a rollback would leave the cache wrong; the next
     * message finds the commander in the store */
    return rc == BOT_EEXIST ? BOT_OK : rc;
}

int
incident_roles_msg(struct incidents *in, int64_t incident_id,
                   struct chat_msg *m)
{
    struct roles r;
    int rc = store_roles_get(in->c->store, incident_id, &r);

    if (rc)
        return rc;
    for (int i = 0; i < ROLE__N; i++) {
        chat_msg_text(m, "%s%s: ", i ? " \xc2\xb7 " : "", role_titles[i]);
        if (r.user[i])
            chat_msg_user(m, r.user[i]);
        else
            chat_msg_text(m, "nobody");
    }
    store_roles_clear(&r);
    return m->err;
}

/* --- the map of incident channels --- */

int
incident_room_add(struct incidents *in, const char *platform,
                  const char *room, int64_t id)
{
    struct room_ref *r;

    if (in->nrooms == in->caprooms) {
        size_t nc = in->caprooms ? in->caprooms * 2 : 16;
        struct room_ref *nr = bot_realloc(in->rooms, nc * sizeof(*nr));

        if (!nr)
            return BOT_ENOMEM;
        in->rooms = nr;
        in->caprooms = nc;
    }
    r = &in->rooms[in->nrooms];
    r->platform = bot_strdup(platform);
    r->room = bot_strdup(room);
    r->id = id;
    if (!r->platform || !r->room) {
        bot_free(r->platform);
        bot_free(r->room);
        return BOT_ENOMEM;
    }
    in->nrooms++;
    return BOT_OK;
}

void
incident_rooms_stale(struct incidents *in)
{
    in->rooms_loaded = 0;
}

/* room_cache_load - every incident channel, once: the question "is this
 * an incident channel?" comes with every message */
static int
room_cache_load(struct incidents *in)
{
    struct incident *list = NULL;
    size_t n = 0;
    int rc;

    if (in->rooms_loaded)
        return BOT_OK;
    rooms_clear(in); /* a failed load may have left a part */
    rc = store_incident_list(in->c->store, 0, 0, &list, &n);
    for (size_t i = n; !rc && i > 0; i--) {
        const struct incident *inc = &list[i - 1]; /* oldest first */

        if (inc->channel)
            rc = incident_room_add(in, inc->platform, inc->channel, inc->id);
    }
    store_incident_list_free(list, n);
    if (!rc)
        in->rooms_loaded = 1;
    return rc;
}

int
incident_id_for_room(struct incidents *in, const char *platform,
                     const char *room, int64_t *id)
{
    int rc;

    if (!room || !platform)
        return BOT_ENOTFOUND;
    rc = room_cache_load(in);
    if (rc)
        return rc;
    /* newest first: the incidents in progress are the recent ones */
    for (size_t i = in->nrooms; i > 0; i--) {
        const struct room_ref *r = &in->rooms[i - 1];

        if (!strcmp(r->room, room) && !strcmp(r->platform, platform)) {
            *id = r->id;
            return BOT_OK;
        }
    }
    return BOT_ENOTFOUND;
}

int
incident_for_room(struct incidents *in, const char *platform,
                  const char *room, struct incident *out)
{
    if (!room || !platform)
        return BOT_ENOTFOUND;
    return store_incident_by_channel(in->c->store, platform, room, out);
}

int
incident_lookup(struct store *st, const char *ref, struct incident *out)
{
    int64_t id;

    if (!incident_parse_ref(ref, "INC", &id))
        return store_incident_get(st, id, out);
    return store_incident_by_channel_name(st, ref, out);
}

char
incident_prefix(struct incidents *in, const char *platform)
{
    struct chat_platform *p = core_platform(in->c, platform);

    if (p)
        return p->ops->cmd_prefix;
    return strcmp(platform, "slack") ? '!' : '/';
}

int
incident_say(struct incidents *in, const char *platform,
             const struct chat_target *to, struct chat_msg *m,
             struct strbuf *dry)
{
    int rc = m->err;

    if (!rc && dry) {
        strbuf_printf(dry, "%s %s%s: ", platform, to->room ? "#" : "DM @",
                      to->room ? to->room : to->user);
        rc = chat_msg_plain(m, dry);
        strbuf_putc(dry, '\n');
    } else if (!rc) {
        rc = outbox_post(in->c->outbox, platform, to, m, NULL);
    }
    chat_msg_cleanup(m);
    return rc;
}

int
incident_nudge(struct incidents *in, const char *platform, const char *room,
               const char *author, const char *text)
{
    struct chat_target to = {0};
    struct chat_msg m;
    int rc;

    to.room = room;
    to.user = author;
    to.flags = CHAT_POST_EPHEMERAL;
    chat_msg_init(&m);
    chat_msg_text(&m, "%s", text);
    rc = m.err ? m.err : outbox_post(in->c->outbox, platform, &to, &m, NULL);
    chat_msg_cleanup(&m);
    return rc;
}

int
incident_summary(struct incidents *in, const struct incident *inc,
                 struct chat_msg *m)
{
    char *title = NULL;
    char t[TIMEUTIL_BUFLEN], d[TIMEUTIL_BUFLEN];
    struct timeline_entry *tl = NULL;
    struct action *acts = NULL;
    size_t ntl = 0, nact = 0;
    int64_t now = core_now_ms(in->c);
    int rc;

    rc = store_timeline_list(in->c->store, inc->id, &tl, &ntl);
    if (!rc)
        rc = store_action_list(in->c->store, inc->id, 0, &acts, &nact);
    if (rc)
        goto out;
    /* posted, so published: no pasted secret in it (scrub.h) */
    if (!(title = scrub_dup(inc->title))) {
        rc = BOT_ENOMEM;
        goto out;
    }
    chat_msg_bold(m, "INC-%lld \xc2\xb7 %s \xc2\xb7 %s", (long long)inc->id,
                  incident_sev_name(inc->severity), title);
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
    chat_msg_nl(m);
    rc = incident_roles_msg(in, inc->id, m);
    if (rc)
        goto out;
    rc = m->err;
out:
    bot_free(title);
    store_timeline_list_free(tl, ntl);
    store_action_list_free(acts, nact);
    return rc;
}
