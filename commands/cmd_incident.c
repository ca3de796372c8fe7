/*
 * cmd_incident.c - /incident start|sev|note|at|invite|resolve|status.
 */
#include "cmd_int.h"
#include "config.h"
#include "core.h"
#include "outbox.h"
#include "err.h"
#include "incident.h"
#include "mem.h"
#include "strbuf.h"
#include "timeutil.h"

#include <string.h>

/* valid_text - refuses empty or oversize text; what names it for the user.
 * Text of only blanks and zero-width characters is empty. */
static int
valid_text(struct cmd *c, const char *text, size_t max, const char *what)
{
    if (!chat_text_visible(text))
        return cmd_refuse(c, "The %s is empty.", what);
    if (strlen(text) > max)
        return cmd_refuse(c, "The %s is too long (at most %zu bytes).", what,
                          max);
    return BOT_OK;
}

static int
do_start(struct cmd *c)
{
    const char *p = c->args;
    char *first = cmd_word(&p);
    int sev = c->core->cfg->default_severity, rc;
    int64_t id;

    if (!first)
        return BOT_ENOMEM;
    /* a word that reads as a severity but is none is a mistake, not the
     * start of the title: "sev9 x" would open a SEV2 named "sev9 x" */
    if (incident_parse_sev(first, &sev) && incident_looks_like_sev(first)) {
        rc = cmd_refuse(c, "Severity is sev0 (worst) to sev4, not %s: "
                           "%cincident start [sev<0-4>] <title>",
                        first, c->prefix);
        bot_free(first);
        return rc;
    }
    /* "/incident start sev1 Database down" sets the severity at once */
    if (incident_parse_sev(first, &sev) || !*p) {
        sev = c->core->cfg->default_severity;
        p = c->args;
    }
    bot_free(first);
    rc = valid_text(c, p, INCIDENT_TITLE_MAX, "title");
    if (rc)
        return rc;
    rc = incident_declare(c->in, c->p->ops->name, p, sev, c->ev->user,
                          c->ev->room, NULL, core_now_ms(c->core), &id);
    if (rc)
        return rc;
    return cmd_reply(c, "INC-%lld (%s) declared; opening its channel.",
                     (long long)id, incident_sev_name(sev));
}

static int
do_sev(struct cmd *c)
{
    int sev, rc;

    if (incident_parse_sev(c->args, &sev))
        return cmd_refuse(c, "Severity is 0 (worst) to 4: %cincident sev "
                             "<0-4>",
                          c->prefix);
    rc = incident_set_severity(c->in, &c->inc, sev);
    if (rc == BOT_EEXIST)
        return cmd_refuse(c, "INC-%lld is already %s.", (long long)c->inc.id,
                          incident_sev_name(sev));
    if (rc)
        return rc;
    return cmd_reply(c, "INC-%lld is now %s (was %s).", (long long)c->inc.id,
                     incident_sev_name(sev),
                     incident_sev_name(c->inc.severity));
}

static int
do_note(struct cmd *c)
{
    char t[TIMEUTIL_BUFLEN];
    int64_t now = core_now_ms(c->core);
    int rc;

    rc = valid_text(c, c->args, 4000, "note");
    if (!rc)
        rc = incident_add_entry(c->in, c->inc.id, now, TIMELINE_NOTE,
                                c->args);
    if (rc)
        return rc;
    return cmd_reply(c, "Noted on the INC-%lld timeline at %s UTC.",
                     (long long)c->inc.id, timeutil_fmt_minute(now, t) + 11);
}

/* parse_when - "HH:MM" on the incident's day (UTC), or a full
 * "YYYY-MM-DDTHH:MM" for another day. */
static int
parse_when(const struct incident *inc, const char *w, int64_t *at)
{
    int mins;

    if (!timeutil_parse_hhmm(w, &mins)) {
        *at = timeutil_day_start(inc->declared_at) + (int64_t)mins * 60000;
        return BOT_OK;
    }
    return timeutil_parse_iso(w, at);
}

static int
do_at(struct cmd *c)
{
    const char *p = c->args;
    char *when = cmd_word(&p), t[TIMEUTIL_BUFLEN];
    int64_t at;
    int rc;

    if (!when)
        return BOT_ENOMEM;
    rc = parse_when(&c->inc, when, &at);
    bot_free(when);
    if (rc)
        return cmd_refuse(c,
                          "The time is HH:MM (UTC, on the incident's day) or "
                          "YYYY-MM-DDTHH:MM: %cincident at <HH:MM> <text>",
                          c->prefix);
    if (at > core_now_ms(c->core) + 60000)
        return cmd_refuse(c, "%s UTC is in the future; a backfill records "
                             "what already happened.",
                          timeutil_fmt_minute(at, t));
    rc = valid_text(c, p, 4000, "text");
    if (!rc)
        rc = incident_add_entry(c->in, c->inc.id, at, TIMELINE_BACKFILL, p);
    if (rc)
        return rc;
    return cmd_reply(c, "Added to the INC-%lld timeline at %s UTC.",
                     (long long)c->inc.id, timeutil_fmt_minute(at, t));
}

static int
do_invite(struct cmd *c)
{
    struct chat_platform *pl = c->p;
    const char *p = c->args;
    char *users[32], *w;
    size_t n = 0;
    int rc = BOT_OK;
    struct chat_msg m;

    while (rc == BOT_OK && (w = cmd_word(&p))) {
        if (n == 32) {
            rc = cmd_refuse(c, "At most 32 people at a time.");
        } else if (pl->ops->parse_user(pl, w, &users[n])) {
            rc = cmd_refuse(c, "'%s' is not a user mention; write @user.",
                            w);
        } else {
            n++;
        }
        bot_free(w);
    }
    if (!rc && !c->inc.channel)
        rc = cmd_refuse(c, "INC-%lld has no channel yet; try again in a "
                           "moment.",
                        (long long)c->inc.id);
    if (!rc)
        rc = outbox_invite(c->core->outbox, pl->ops->name, c->inc.channel,
                           (const char *const *)users, n);
    if (!rc) {
        chat_msg_init(&m);
        chat_msg_text(&m, "Invited ");
        for (size_t i = 0; i < n; i++) {
            chat_msg_text(&m, i ? ", " : "");
            chat_msg_user(&m, users[i]);
        }
        chat_msg_text(&m, ".");
        rc = incident_reply(&c->asker, &m);
    }
    for (size_t i = 0; i < n; i++)
        bot_free(users[i]);
    return rc;
}

static int
do_resolve(struct cmd *c)
{
    char t[TIMEUTIL_BUFLEN], d[TIMEUTIL_BUFLEN], due[TIMEUTIL_BUFLEN];
    int64_t now = core_now_ms(c->core);
    int rc;

    rc = incident_resolve(c->in, &c->inc, now);
    if (rc == BOT_EEXIST)
        return cmd_refuse(c, "INC-%lld was already resolved at %s UTC.",
                          (long long)c->inc.id,
                          timeutil_fmt_minute(c->inc.resolved_at, t));
    if (rc)
        return rc;
    return cmd_reply(c,
                     "INC-%lld resolved after %s. Hold the blameless review "
                     "within 48 hours, by %s UTC: %cpm start runs it here, "
                     "%cpm report writes the document.",
                     (long long)c->inc.id,
                     timeutil_fmt_duration(now - c->inc.declared_at, d),
                     timeutil_fmt_minute(now + REVIEW_DUE_MS, due),
                     c->prefix, c->prefix);
}

static int
list_open(struct cmd *c)
{
    struct incident *list = NULL;
    struct chat_msg m;
    char d[TIMEUTIL_BUFLEN];
    size_t n = 0;
    int rc;

    rc = store_incident_list(c->core->store, 1, 0, &list, &n);
    if (rc)
        return rc;
    chat_msg_init(&m);
    if (!n)
        chat_msg_text(&m, "No open incidents.");
    else
        chat_msg_text(&m, "Open incidents:");
    for (size_t i = 0; i < n; i++) {
        chat_msg_nl(&m);
        chat_msg_text(&m, "INC-%lld %s %s \xc2\xb7 open for %s",
                      (long long)list[i].id,
                      incident_sev_name(list[i].severity), list[i].title,
                      timeutil_fmt_duration(core_now_ms(c->core) -
                                                list[i].declared_at,
                                            d));
        if (list[i].channel) {
            chat_msg_text(&m, " \xc2\xb7 ");
            chat_msg_room(&m, list[i].channel, list[i].channel_name);
        }
    }
    store_incident_list_free(list, n);
    return incident_reply(&c->asker, &m);
}

static int
do_status(struct cmd *c)
{
    struct chat_msg m;
    int rc;

    if (!c->has_inc)
        return list_open(c);
    chat_msg_init(&m);
    rc = incident_summary(c->in, &c->inc, &m);
    if (rc) {
        chat_msg_cleanup(&m);
        return rc;
    }
    return incident_reply(&c->asker, &m);
}

static int
do_role(struct cmd *c)
{
    const char *p = c->args;
    char *word, *who = NULL;
    struct chat_msg m;
    int role, rc;

    if (!*p) {
        chat_msg_init(&m);
        chat_msg_text(&m, "INC-%lld \xc2\xb7 ", (long long)c->inc.id);
        rc = incident_roles_msg(c->in, c->inc.id, &m);
        if (rc) {
            chat_msg_cleanup(&m);
            return rc;
        }
        return incident_reply(&c->asker, &m);
    }
    word = cmd_word(&p);
    if (!word)
        return BOT_ENOMEM;
    rc = incident_parse_role(word, &role);
    bot_free(word);
    if (rc || !*p)
        return cmd_refuse(c, "Roles are commander, scribe and comms: "
                             "%cincident role <role> @user",
                          c->prefix);
    word = cmd_word(&p);
    if (!word)
        return BOT_ENOMEM;
    rc = c->p->ops->parse_user(c->p, word, &who);
    if (rc == BOT_EINVAL || (!rc && *p))
        rc = cmd_refuse(c, "'%s' is not one user mention; write @user.",
                        word);
    bot_free(word);
    if (!rc)
        rc = incident_set_role(c->in, &c->inc, role, who, ROLE_HANDED);
    if (rc == BOT_EEXIST) {
        chat_msg_init(&m);
        chat_msg_user(&m, who);
        chat_msg_text(&m, " is already the %s of INC-%lld.",
                      incident_role_name(role), (long long)c->inc.id);
        incident_refuse(&c->asker, &m);
        rc = BOT_EINVAL;
    } else if (!rc) {
        chat_msg_init(&m);
        chat_msg_user(&m, who);
        chat_msg_text(&m, " is now the %s of INC-%lld.",
                      incident_role_name(role), (long long)c->inc.id);
        rc = incident_reply(&c->asker, &m);
    }
    bot_free(who);
    return rc;
}

const struct command_def cmd_incident_defs[] = {
    {"incident", "start", 1, 0, do_start, "start [sev<0-4>] <title>",
     "declare an incident: open its channel, invite responders, start the "
     "timeline"},
    {"incident", "sev", 1, 1, do_sev, "sev <0-4>",
     "set the severity (0 is the worst)"},
    {"incident", "note", 1, 1, do_note, "note <text>",
     "add a timeline entry now"},
    {"incident", "at", 2, 1, do_at, "at <HH:MM> <text>",
     "add a timeline entry at a UTC time of the incident's day"},
    {"incident", "invite", 1, 1, do_invite, "invite <@user...>",
     "invite people to the incident channel"},
    {"incident", "role", 0, 1, do_role,
     "role [commander|scribe|comms @user]",
     "hand a role over (without arguments: who has which)"},
    {"incident", "resolve", 0, 1, do_resolve, "resolve",
     "mark resolved and start the 48-hour review clock"},
    {"incident", "status", 0, 0, do_status, "status",
     "this incident in one message (elsewhere: the open incidents)"},
    {NULL, NULL, 0, 0, NULL, NULL, NULL},
};
