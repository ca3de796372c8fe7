/*
 * channel.c - opening an incident's channel and announcing it.
 *
 * Opening a channel follows from the database, never from the command that
 * asked for it: an incident without a channel is opened after every commit
 * and at start, on its own platform. So a crash between the commit and the
 * platform call is finished at restart, and the in-memory `opening` set
 * keeps two openings of the same incident from running at once. Once the
 * platform has made the room, one unit of work records it and writes the
 * whole announcement (invitations, topic, summary and its pin, the alarm's
 * details) to the outbox: a crash after that commit loses none of it.
 */
#include "incident_int.h"

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

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define MAX_NAME_ATTEMPTS 50

struct opening {
    struct incidents *in;
    struct chat_platform *p;
    int64_t id;
    int attempt;
    const char *room_id; /* during the recording unit */
    char name[CHAT_CHANNEL_NAME_MAX + 1];
};

static void open_next(struct opening *op);

static void
later(struct incidents *in, int64_t id, int64_t at)
{
    for (size_t i = 0; i < in->nlater; i++) {
        if (in->later[i].id == id) {
            in->later[i].at = at;
            return;
        }
    }
    if (in->nlater < sizeof(in->later) / sizeof(in->later[0])) {
        in->later[in->nlater].id = id;
        in->later[in->nlater++].at = at;
    }
}

static int
deferred(struct incidents *in, int64_t id, int64_t now)
{
    for (size_t i = 0; i < in->nlater; i++) {
        if (in->later[i].id != id)
            continue;
        if (in->later[i].at > now)
            return 1;
        in->later[i] = in->later[--in->nlater]; /* its time has come */
        return 0;
    }
    return 0;
}

static int
opening_has(const struct incidents *in, int64_t id)
{
    for (size_t i = 0; i < in->nopening; i++) {
        if (in->opening[i] == id)
            return 1;
    }
    return 0;
}

static int
opening_add(struct incidents *in, int64_t id)
{
    if (in->nopening == in->capopening) {
        size_t ncap = in->capopening ? in->capopening * 2 : 4;
        int64_t *n = bot_realloc(in->opening, ncap * sizeof(*n));

        if (!n)
            return BOT_ENOMEM;
        in->opening = n;
        in->capopening = ncap;
    }
    in->opening[in->nopening++] = id;
    return BOT_OK;
}

static void
opening_free(struct opening *op)
{
    struct incidents *in = op->in;

    for (size_t i = 0; i < in->nopening; i++) {
        if (in->opening[i] == op->id) {
            in->opening[i] = in->opening[--in->nopening];
            break;
        }
    }
    bot_free(op);
}

void
incident_hold_channels(struct incidents *in, int on)
{
    in->hold_channels = on;
}

void
incident_channels_pending(struct incidents *in)
{
    in->channels_pending = 1;
}

/* invite_responders - in tx: the configured responders and whoever
 * declared it. */
static int
invite_responders(struct incidents *in, const char *platform,
                  const char *room, const struct incident *inc)
{
    const struct config *cfg = in->c->cfg;
    const char *users[64];
    const char *sev = inc->severity >= 0 && inc->severity <= 4
                          ? cfg->responders_sev[inc->severity]
                          : NULL;
    struct strbuf all;
    char *list, *p, *tok;
    size_t n = 0;
    int rc;

    /* everyone's responders, then this severity's */
    strbuf_init(&all, 0);
    strbuf_printf(&all, "%s,%s", cfg->responders ? cfg->responders : "",
                  sev ? sev : "");
    list = strbuf_steal(&all);
    p = list;
    if (!list)
        return BOT_ENOMEM;
    while (p && n < 63) {
        tok = p;
        p = strchr(p, ',');
        if (p)
            *p++ = '\0';
        while (isspace((unsigned char)*tok))
            tok++;
        for (char *e = tok + strlen(tok);
             e > tok && isspace((unsigned char)e[-1]);)
            *--e = '\0';
        if (!*tok || (inc->declared_by && !strcmp(tok, inc->declared_by)))
            continue;
        for (size_t k = 0; k < n && tok; k++) {
            if (!strcmp(users[k], tok))
                tok = NULL; /* listed twice */
        }
        if (tok)
            users[n++] = tok;
    }
    if (inc->declared_by)
        users[n++] = inc->declared_by;
    rc = outbox_invite(in->c->outbox, platform, room, users, n);
    bot_free(list);
    return rc;
}

/* post - in tx: a message in room (taken); *id its row (nullable) */
static int
post(struct incidents *in, const char *platform, const char *room,
     struct chat_msg *m, int64_t *id)
{
    struct chat_target to = {0};
    int rc = m->err;

    to.room = room;
    if (!rc)
        rc = outbox_post(in->c->outbox, platform, &to, m, id);
    chat_msg_cleanup(m);
    return rc;
}

/* announce_alarm - in tx: the alarm's details (pinned), and what happened
 * the last times this alarm fired: the fix promised then comes first now. */
static int
announce_alarm(struct incidents *in, const char *platform, const char *room,
               const struct incident *inc)
{
    struct store *st = in->c->store;
    struct incident *prev = NULL;
    struct action *acts = NULL;
    char d[TIMEUTIL_BUFLEN];
    size_t nprev = 0, nacts = 0;
    struct chat_msg m;
    int64_t details;
    int rc;

    chat_msg_init(&m);
    chat_msg_bold(&m, "Alarm");
    chat_msg_nl(&m);
    chat_msg_text(&m, "%s", inc->alarm_details);
    if (inc->alarm_link) {
        chat_msg_nl(&m);
        chat_msg_link(&m, inc->alarm_link, "Alarm source");
    }
    rc = post(in, platform, room, &m, &details);
    if (!rc)
        rc = outbox_pin(in->c->outbox, platform, room, details);
    if (rc || !inc->alarm_key)
        return rc;
    rc = store_incident_list_by_alarm(st, inc->alarm_key, inc->id, &prev,
                                      &nprev);
    if (rc || !nprev) {
        store_incident_list_free(prev, nprev);
        return rc;
    }
    chat_msg_init(&m);
    chat_msg_bold(&m, "This alarm fired before");
    for (size_t i = 0; i < nprev; i++) {
        chat_msg_nl(&m);
        chat_msg_text(&m, "INC-%lld %s \xc2\xb7 %s \xc2\xb7 %s",
                      (long long)prev[i].id, prev[i].title,
                      timeutil_fmt_date(prev[i].declared_at, d),
                      prev[i].state == INCIDENT_RESOLVED ? "resolved"
                                                         : "open");
        if (store_action_list(st, prev[i].id, 0, &acts, &nacts))
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
    store_incident_list_free(prev, nprev);
    return post(in, platform, room, &m, NULL);
}

/* announce - in tx, with the channel recorded: invite, topic, a pointer in
 * the room where it was declared, the alarm, the summary and its pin. */
static int
announce(struct opening *op, const struct incident *inc)
{
    struct incidents *in = op->in;
    const char *pl = op->p->ops->name, *room = op->room_id;
    char prefix = op->p->ops->cmd_prefix;
    struct strbuf topic;
    struct chat_msg m;
    int64_t summary;
    int rc;

    rc = invite_responders(in, pl, room, inc);
    strbuf_init(&topic, 250);
    strbuf_printf(&topic, "INC-%lld %s: %s", (long long)inc->id,
                  incident_sev_name(inc->severity), inc->title);
    if (!rc)
        rc = strbuf_error(&topic);
    if (!rc)
        rc = outbox_topic(in->c->outbox, pl, room, strbuf_str(&topic));
    strbuf_cleanup(&topic);
    if (!rc && inc->origin_room && strcmp(inc->origin_room, room)) {
        chat_msg_init(&m);
        chat_msg_text(&m, "INC-%lld (%s) declared: %s. Join ",
                      (long long)inc->id, incident_sev_name(inc->severity),
                      inc->title);
        chat_msg_room(&m, room, op->name);
        rc = post(in, pl, inc->origin_room, &m, NULL);
    }
    if (!rc && inc->alarm_details)
        rc = announce_alarm(in, pl, room, inc);
    if (rc)
        return rc;
    chat_msg_init(&m);
    rc = incident_summary(in, inc, &m);
    chat_msg_nl(&m);
    chat_msg_text(&m, "React with %s to a message to put it on the "
                      "timeline. %cincident note, %cincident sev, "
                      "%cincident resolve; %cpm help for the rest.",
                  in->c->cfg->timeline_emoji, prefix, prefix, prefix,
                  prefix);
    if (rc) {
        chat_msg_cleanup(&m);
        return rc;
    }
    rc = post(in, pl, room, &m, &summary);
    if (!rc)
        rc = outbox_pin(in->c->outbox, pl, room, summary);
    return rc;
}

/* record - the unit that keeps the new room: channel, timeline entry,
 * and every announcement in the outbox */
static int
record(void *arg)
{
    struct opening *op = arg;
    struct incidents *in = op->in;
    struct incident inc = {0};
    struct strbuf sb;
    int rc;

    strbuf_init(&sb, 0);
    strbuf_printf(&sb, "Emergency channel opened: #%s", op->name);
    rc = strbuf_error(&sb);
    if (!rc)
        rc = store_incident_set_channel(in->c->store, op->id, op->room_id,
                                        op->name);
    if (!rc)
        rc = incident_add_entry(in, op->id, core_now_ms(in->c),
                                TIMELINE_AUTO, strbuf_str(&sb));
    strbuf_cleanup(&sb);
    if (!rc)
        rc = store_incident_get(in->c->store, op->id, &inc);
    /* the announcements are published: their title holds no secret */
    if (!rc)
        rc = scrub(&inc.title);
    if (!rc)
        rc = announce(op, &inc);
    store_incident_clear(&inc);
    return rc;
}

static void
on_channel_opened(void *arg, int rc, const char *room_id,
                  const char *room_name)
{
    struct opening *op = arg;
    struct incidents *in = op->in;
    struct unit w = {0};

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
            later(in, op->id, core_now_ms(in->c) + 60000);
        }
        opening_free(op);
        return;
    }
    /* the platform may have adjusted the name; it may also pass ours back */
    if (room_name && room_name != op->name)
        snprintf(op->name, sizeof(op->name), "%s", room_name);
    op->room_id = room_id;
    /* the room exists now: record it in a commit of its own, never inside
     * a group that could still fail after the channel was announced */
    w.fn = record;
    w.arg = op;
    w.flags = UNIT_ALONE;
    rc = unit_run(in->c->units, &w, NULL);
    if (rc) {
        /* the room exists but is not recorded: say so, a human can fix it */
        log_err("incident: INC-%lld: channel %s opened but not recorded: %s",
                (long long)op->id, op->name, bot_strerror(rc));
    } else {
        log_info("incident: INC-%lld: channel #%s open", (long long)op->id,
                 op->name);
        if (in->rooms_loaded &&
            incident_room_add(in, op->p->ops->name, room_id, op->id))
            incident_rooms_stale(in); /* reload on the next lookup */
    }
    opening_free(op);
}

/* open_next - ask the platform for the next candidate name; names already
 * used by an incident in the database are skipped without asking. */
static void
open_next(struct opening *op)
{
    struct incidents *in = op->in;
    struct incident inc = {0};
    int used = 1, rc;

    rc = store_incident_get(in->c->store, op->id, &inc);
    /* a channel's name is published too: none made of a pasted secret */
    if (!rc)
        rc = scrub(&inc.title);
    while (!rc && used && op->attempt <= MAX_NAME_ATTEMPTS) {
        chat_channel_name(in->c->cfg->channel_prefix, inc.declared_at,
                          inc.title, op->attempt, op->name, sizeof(op->name));
        rc = store_incident_channel_name_used(in->c->store, op->name, &used);
        if (used)
            op->attempt++;
    }
    store_incident_clear(&inc);
    if (rc || used) {
        log_err("incident: INC-%lld: no channel name available",
                (long long)op->id);
        later(in, op->id, core_now_ms(in->c) + 60000);
        opening_free(op);
        return;
    }
    op->p->ops->open_channel(op->p, op->name, 0, on_channel_opened, op);
}

void
incident_open_pending(void *arg)
{
    struct incidents *in = arg;
    struct incident *list = NULL;
    size_t n = 0;

    /* this runs after every commit: ask the database only when an
     * incident may be waiting for its channel */
    if (!in->c->nplatforms || !in->channels_pending || in->hold_channels ||
        store_incident_list(in->c->store, 0, 1, &list, &n))
        return;
    if (!n)
        in->channels_pending = 0;
    for (size_t i = 0; i < n; i++) {
        struct chat_platform *p = core_platform(in->c, list[i].platform);
        struct opening *op;

        /* an incident stays on its platform: not connected, it waits */
        if (!p || opening_has(in, list[i].id) ||
            deferred(in, list[i].id, core_now_ms(in->c)))
            continue;
        op = bot_calloc(1, sizeof(*op));
        if (!op || opening_add(in, list[i].id)) {
            bot_free(op);
            break;
        }
        op->in = in;
        op->p = p;
        op->id = list[i].id;
        op->attempt = 1;
        open_next(op);
    }
    store_incident_list_free(list, n);
}
