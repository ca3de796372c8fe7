/*
 * reminders.c - the weekly DMs, overdue escalations and the monthly
 * review (reminders.h): one pass over the open actions, each reminder
 * claimed for its period in the transaction that writes it.
 */
#include "incident_int.h"
#include "reminders.h"

#include "config.h"
#include "core.h"
#include "err.h"
#include "mem.h"
#include "outbox.h"
#include "scrub.h"
#include "strbuf.h"
#include "timeutil.h"
#include "zone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY_MS (24 * 3600 * 1000LL)
#define MONTHLY_LINES 60 /* actions the monthly review lists by name */
#define ZONES 64         /* zones whose slots one pass keeps */
#define ROW_STRS 5       /* strings a gathered row copies */
#define WEEKLY_LINES 20  /* actions a weekly DM sends one by one */

/* What one pass knows. */
struct pass {
    struct incidents *in;
    struct store *st;
    const struct config *cfg;
    int64_t now, next;
    struct strbuf *dry;
    int sent;
    struct {
        char name[64];
        struct zone_slot cur, next;
        char today[11];
        char slot_day[11]; /* the local date of cur */
    } zones[ZONES];
    size_t nzones;
    int wday, minute, monthly_minute;
    /* the weekly walk: the assignee being gathered */
    struct action_row *group;
    char **strs; /* the group's copies, ROW_STRS a row */
    size_t ngroup, capgroup;
};

static void
later(struct pass *ps, int64_t at)
{
    if (at > ps->now && (!ps->next || at < ps->next))
        ps->next = at;
}

/* zone_of - the weekly slots and the date in zone at now (cached) */
static int
zone_of(struct pass *ps, const char *zone, size_t *k)
{
    size_t i;
    int rc;

    for (i = 0; i < ps->nzones; i++) {
        if (!strcmp(ps->zones[i].name, zone)) {
            *k = i;
            return BOT_OK;
        }
    }
    if (strlen(zone) >= sizeof(ps->zones[0].name))
        return BOT_EINVAL;
    if (ps->nzones == ZONES)
        ps->nzones = 0; /* many zones: recompute, it is only slower */
    i = ps->nzones;
    rc = zone_weekly(zone, ps->now, ps->wday, ps->minute, &ps->zones[i].cur,
                     &ps->zones[i].next);
    if (!rc)
        rc = zone_date(zone, ps->now, ps->zones[i].today);
    if (!rc)
        rc = zone_date(zone, ps->zones[i].cur.at, ps->zones[i].slot_day);
    if (rc)
        return rc;
    strcpy(ps->zones[i].name, zone);
    ps->nzones++;
    *k = i;
    return BOT_OK;
}

/* claim - the period is ours (dry: it is free) */
static int
claim(struct pass *ps, const char *kind, const char *subject,
      const char *period, int *ours)
{
    int seen = 0, rc;

    if (ps->dry) {
        rc = store_period_seen(ps->st, kind, subject, period, &seen);
        *ours = !rc && !seen;
        return rc;
    }
    return store_period_claim(ps->st, kind, subject, period, ps->now, ours);
}

/* say - post m (taken) to `to`, about `about` (nullable; see
 * outbox_post_about), or in a dry run describe it; a reminder (not each
 * line of one) is counted */
static int
say(struct pass *ps, const char *platform, const struct chat_target *to,
    struct chat_msg *m, const char *about, int reminder)
{
    struct chat_target t = *to;
    int rc;

    /* a reminder is for the people it names, whatever the platform's
     * bots usually do */
    if (reminder)
        t.flags |= CHAT_POST_NOTIFY;
    to = &t;
    if (!about || ps->dry) {
        rc = incident_say(ps->in, platform, to, m, ps->dry);
    } else {
        rc = m->err ? m->err
                    : outbox_post_about(ps->in->c->outbox, platform, to, m,
                                        about, NULL);
        chat_msg_cleanup(m);
    }
    if (!rc && reminder)
        ps->sent++;
    return rc;
}

/* action_line - "ACT-3 text (INC-1) · due 2026-11-20, overdue" */
static void
action_line(struct chat_msg *m, const struct action_row *a,
            const char *today, int with_incident)
{
    char *text = scrub_dup(a->text);

    if (!text) {
        m->err = m->err ? m->err : BOT_ENOMEM;
        return;
    }
    chat_msg_text(m, "\xe2\x80\xa2 ACT-%lld %s", (long long)a->id, text);
    if (with_incident)
        chat_msg_text(m, " (INC-%lld)", (long long)a->incident_id);
    chat_msg_text(m, " \xc2\xb7 due %s%s", a->due_date,
                  strcmp(a->due_date, today) < 0 ? ", overdue" : "");
    bot_free(text);
}

/* --- the weekly DM --- */

/* shown_in - a is in this week's DM: opened before the week's slot, and
 * not snoozed until the slot's day or later (so `snooze 1w` the day of
 * one reminder leaves it out of the next) */
static int
shown_in(const struct pass *ps, size_t k, const struct action_row *a)
{
    return a->created_at <= ps->zones[k].cur.at &&
           !(a->snoozed_until &&
             strcmp(a->snoozed_until, ps->zones[k].slot_day) >= 0);
}

/* weekly_one - the gathered assignee's DM: ps->group, on one platform */
static int
weekly_one(struct pass *ps)
{
    const struct action_row *e = ps->group;
    const char *platform = e[0].platform, *user = e[0].assignee;
    size_t n = ps->ngroup, k, shown = 0;
    struct chat_target to = {0};
    struct strbuf subject;
    struct chat_msg m;
    char *tz = NULL;
    const char *zone;
    int rc, ours = 0;

    rc = store_user_tz(ps->st, platform, user, &tz);
    if (rc && rc != BOT_ENOTFOUND)
        return rc;
    zone = tz ? tz : ps->cfg->timezone;
    rc = zone_of(ps, zone, &k);
    if (rc) {
        /* a zone gone from the system: the default one */
        zone = ps->cfg->timezone;
        rc = zone_of(ps, zone, &k);
    }
    bot_free(tz);
    if (rc)
        return rc;
    later(ps, ps->zones[k].next.at);
    for (size_t i = 0; i < n; i++)
        shown += shown_in(ps, k, &e[i]);
    /* the week is claimed even when it has nothing to say, so what its
     * first pass decided holds: a snooze ending or a reassignment later
     * in the week waits for the next slot */
    strbuf_init(&subject, 0);
    strbuf_printf(&subject, "%s:%s", platform, user);
    rc = strbuf_error(&subject);
    if (!rc)
        rc = claim(ps, "weekly", strbuf_str(&subject),
                   ps->zones[k].cur.period, &ours);
    strbuf_cleanup(&subject);
    if (rc || !ours || !shown)
        return rc;
    /* a message a line, so a ✅ on one completes that action */
    to.user = user;
    chat_msg_init(&m);
    chat_msg_bold(&m, "Your open follow-up action%s (%zu)",
                  shown == 1 ? "" : "s", shown);
    chat_msg_nl(&m);
    chat_msg_text(&m, "React with \xe2\x9c\x85 to one when it is done, or "
                      "answer here: `done ACT-n`, `snooze ACT-n 1w`, `due "
                      "ACT-n YYYY-MM-DD` or `reassign ACT-n @someone`.");
    /* about the assignee: if the DM cannot be delivered (a deactivated
     * user, user_not_found), reminders_failed says so in a channel */
    {
        char about[300];

        snprintf(about, sizeof(about), "dm:%s", user);
        rc = say(ps, platform, &to, &m, about, 1);
    }
    for (size_t i = 0, lines = 0; !rc && i < n; i++) {
        char about[32];

        if (!shown_in(ps, k, &e[i]))
            continue;
        chat_msg_init(&m);
        if (++lines > WEEKLY_LINES) {
            chat_msg_text(&m, "\xe2\x80\xa6 and %zu more: `actions` lists "
                              "them.",
                          shown - WEEKLY_LINES);
            rc = say(ps, platform, &to, &m, NULL, 0);
            break;
        }
        action_line(&m, &e[i], ps->zones[k].today, 1);
        snprintf(about, sizeof(about), "ACT-%lld", (long long)e[i].id);
        rc = say(ps, platform, &to, &m, about, 0);
    }
    return rc;
}

static void
group_clear(struct pass *ps)
{
    for (size_t i = 0; i < ps->ngroup * ROW_STRS; i++)
        bot_free(ps->strs[i]);
    ps->ngroup = 0;
}

/* gather - the walk by assignee: a row of the same assignee on the same
 * platform joins the group, another sends the group's DM first */
static int
gather(void *ctx, const struct action_row *r)
{
    struct pass *ps = ctx;
    struct action_row *g;
    char **c;
    int rc = BOT_OK;

    if (ps->ngroup && (strcmp(ps->group[0].platform, r->platform) ||
                       strcmp(ps->group[0].assignee, r->assignee))) {
        rc = weekly_one(ps);
        group_clear(ps);
        if (rc)
            return rc;
    }
    if (ps->ngroup == ps->capgroup) {
        size_t cap = ps->capgroup ? 2 * ps->capgroup : 16;
        struct action_row *ng = bot_realloc(ps->group, cap * sizeof(*ng));
        char **ns;

        if (!ng)
            return BOT_ENOMEM;
        ps->group = ng;
        ns = bot_realloc(ps->strs, cap * ROW_STRS * sizeof(*ns));
        if (!ns)
            return BOT_ENOMEM;
        ps->strs = ns;
        ps->capgroup = cap;
    }
    g = &ps->group[ps->ngroup];
    c = &ps->strs[ps->ngroup * ROW_STRS];
    *g = *r;
    c[0] = bot_strdup(r->text);
    c[1] = bot_strdup(r->assignee);
    c[2] = bot_strdup(r->platform);
    c[3] = r->snoozed_until ? bot_strdup(r->snoozed_until) : NULL;
    c[4] = bot_strdup(r->due_date);
    ps->ngroup++;
    if (!c[0] || !c[1] || !c[2] || (r->snoozed_until && !c[3]) || !c[4])
        return BOT_ENOMEM;
    g->text = c[0];
    g->assignee = c[1];
    g->platform = c[2];
    g->snoozed_until = c[3];
    g->due_date = c[4];
    g->channel = NULL; /* the DM needs no channel */
    return BOT_OK;
}

static int
weekly(struct pass *ps)
{
    int rc = store_action_each(ps->st, STORE_EACH_BY_ASSIGNEE, NULL, 0,
                               gather, ps);

    if (!rc && ps->ngroup)
        rc = weekly_one(ps);
    group_clear(ps);
    bot_free(ps->group);
    bot_free(ps->strs);
    ps->group = NULL;
    ps->strs = NULL;
    ps->capgroup = 0;
    return rc;
}

/* --- overdue escalation --- */

static int
days_between(const char *from, const char *to, long *days)
{
    int64_t a, b;

    if (timeutil_parse_date(from, &a) || timeutil_parse_date(to, &b))
        return BOT_EINVAL;
    *days = (long)((b - a) / DAY_MS);
    return BOT_OK;
}

struct late {
    struct pass *ps;
    const char *today;
};

static int
overdue_one(void *ctx, const struct action_row *a)
{
    struct late *l = ctx;
    struct pass *ps = l->ps;
    struct chat_target to = {0};
    char subject[32], period[32];
    struct roles r = {0};
    struct chat_msg m;
    char *text, pre;
    long days;
    int rc, ours = 0;

    if (days_between(a->due_date, l->today, &days) || days < 1)
        return BOT_OK;
    to.room = a->channel ? a->channel : ps->cfg->review_channel;
    if (!to.room)
        return BOT_OK;
    snprintf(subject, sizeof(subject), "ACT-%lld", (long long)a->id);
    /* per target date: a new date is a new series of weeks overdue */
    snprintf(period, sizeof(period), "%s/w%ld", a->due_date, (days - 1) / 7);
    rc = claim(ps, "overdue", subject, period, &ours);
    if (rc || !ours)
        return rc;
    if (!(text = scrub_dup(a->text)))
        return BOT_ENOMEM;
    pre = incident_prefix(ps->in, a->platform);
    chat_msg_init(&m);
    chat_msg_bold(&m, "Overdue");
    chat_msg_text(&m, ": ACT-%lld %s (INC-%lld) was due %s, %ld day%s ago. ",
                  (long long)a->id, text, (long long)a->incident_id,
                  a->due_date, days, days == 1 ? "" : "s");
    bot_free(text);
    chat_msg_user(&m, a->assignee);
    rc = store_roles_get(ps->st, a->incident_id, &r);
    if (!rc && r.user[ROLE_COMMANDER] &&
        strcmp(r.user[ROLE_COMMANDER], a->assignee)) {
        chat_msg_text(&m, " (assignee), ");
        chat_msg_user(&m, r.user[ROLE_COMMANDER]);
        chat_msg_text(&m, " (commander)");
    }
    store_roles_clear(&r);
    chat_msg_text(&m, ": `%cpm done ACT-%lld` once it is done, or `%cpm due "
                      "ACT-%lld YYYY-MM-DD` for a new date.",
                  pre, (long long)a->id, pre, (long long)a->id);
    if (rc) {
        chat_msg_cleanup(&m);
        return rc;
    }
    /* about the action: an archived channel hands it to the review
     * channel (reminders_failed) */
    snprintf(subject, sizeof(subject), "overdue:ACT-%lld", (long long)a->id);
    return say(ps, a->platform, &to, &m, subject, 1);
}

static int
overdue(struct pass *ps)
{
    struct zone_slot cur, next;
    struct late l = {ps, NULL};
    char today[11];
    int64_t day;
    struct tm tm;
    int rc;

    rc = zone_date(ps->cfg->timezone, ps->now, today);
    if (rc)
        return rc;
    /* the next pass at the zone's next midnight */
    if (timeutil_parse_date(today, &day) == BOT_OK) {
        time_t t = (time_t)(day / 1000);

        gmtime_r(&t, &tm);
        if (!zone_weekly(ps->cfg->timezone, ps->now, (tm.tm_wday + 1) % 7, 0,
                         &cur, &next))
            later(ps, next.at);
    }
    l.today = today;
    return store_action_each(ps->st, STORE_EACH_OVERDUE, today, 0,
                             overdue_one, &l);
}

/* --- the monthly review --- */

struct listing {
    struct pass *ps;
    struct chat_msg *m;
    const char *today;
    int64_t last_inc;
    const char *platform; /* the first row's, for the post */
    char *platform_copy;
    long listed;
};

static int
list_one(void *ctx, const struct action_row *a)
{
    struct listing *l = ctx;

    if (l->listed == MONTHLY_LINES)
        return BOT_OK;
    if (!l->platform_copy && !(l->platform_copy = bot_strdup(a->platform)))
        return BOT_ENOMEM;
    if (a->incident_id != l->last_inc) {
        struct incident inc;
        int rc = store_incident_get(l->ps->st, a->incident_id, &inc);

        if (rc && rc != BOT_ENOTFOUND)
            return rc;
        l->last_inc = a->incident_id;
        chat_msg_nl(l->m);
        chat_msg_bold(l->m, "INC-%lld", (long long)a->incident_id);
        if (!rc) {
            rc = scrub(&inc.title);
            if (!rc && inc.title)
                chat_msg_text(l->m, " %s", inc.title);
            store_incident_clear(&inc);
            if (rc)
                return rc;
        }
    }
    chat_msg_nl(l->m);
    action_line(l->m, a, l->today, 0);
    chat_msg_text(l->m, " \xe2\x80\x94 ");
    chat_msg_user(l->m, a->assignee);
    l->listed++;
    return l->m->err;
}

static int
monthly(struct pass *ps)
{
    struct zone_slot cur, next, prev, unused;
    struct chat_target to = {0};
    struct action_stats n;
    struct listing l = {0};
    char today[11];
    struct chat_msg m;
    int rc, ours = 0;

    if (!ps->cfg->review_channel || !*ps->cfg->review_channel)
        return BOT_OK;
    rc = zone_monthly(ps->cfg->timezone, ps->now, ps->monthly_minute, &cur,
                      &next);
    if (!rc)
        rc = zone_monthly(ps->cfg->timezone, cur.at - 1, ps->monthly_minute,
                          &prev, &unused);
    if (!rc)
        rc = zone_date(ps->cfg->timezone, ps->now, today);
    if (rc)
        return rc;
    later(ps, next.at);
    rc = store_action_stats(ps->st, prev.at, cur.at, today, &n);
    /* a month reviews what was open at its slot: a first start mid-month
     * does not review last month's nothing */
    if (rc || !n.open || !n.open_at_until)
        return rc;
    rc = claim(ps, "monthly", "review", cur.period, &ours);
    if (rc || !ours)
        return rc;
    chat_msg_init(&m);
    chat_msg_bold(&m, "Monthly review of open follow-up actions, %s",
                  cur.period);
    chat_msg_nl(&m);
    chat_msg_text(&m, "%ld open, %ld overdue. Since the last review: %ld "
                      "opened, %ld completed.",
                  n.open, n.overdue, n.opened, n.completed);
    if (n.oldest) {
        struct action a;
        char since[TIMEUTIL_BUFLEN];

        rc = store_action_get(ps->st, n.oldest, &a);
        if (!rc) {
            struct action_row r = {0};

            r.id = a.id;
            r.incident_id = a.incident_id;
            r.text = a.text;
            r.due_date = a.due_date;
            chat_msg_nl(&m);
            chat_msg_text(&m, "Oldest: ");
            action_line(&m, &r, today, 1);
            chat_msg_text(&m, ", open since %s \xe2\x80\x94 ",
                          timeutil_fmt_date(a.created_at, since));
            chat_msg_user(&m, a.assignee);
            store_action_clear(&a);
        }
    }
    l.ps = ps;
    l.m = &m;
    l.today = today;
    if (!rc)
        rc = store_action_each(ps->st, STORE_EACH_BY_INCIDENT, NULL,
                               MONTHLY_LINES, list_one, &l);
    if (!rc && n.open > l.listed) {
        chat_msg_nl(&m);
        chat_msg_text(&m, "\xe2\x80\xa6 and %ld more: `pmbot actions` lists "
                          "them all.",
                      n.open - l.listed);
    }
    to.room = ps->cfg->review_channel;
    if (!rc && l.platform_copy)
        rc = say(ps, l.platform_copy, &to, &m, NULL, 1);
    else
        chat_msg_cleanup(&m);
    bot_free(l.platform_copy);
    return rc;
}

/* --- the pass --- */

int
reminders_pass(struct incidents *in, int64_t now, struct strbuf *dry,
               int *sent, int64_t *next)
{
    struct pass ps = {0};
    int rc;

    ps.in = in;
    ps.st = in->c->store;
    ps.cfg = in->c->cfg;
    ps.now = now;
    ps.dry = dry;
    ps.wday = config_weekday(ps.cfg->weekly_day);
    if (ps.wday < 0 || timeutil_parse_hhmm(ps.cfg->weekly_time, &ps.minute) ||
        timeutil_parse_hhmm(ps.cfg->monthly_time, &ps.monthly_minute))
        return BOT_EINVAL;
    rc = weekly(&ps);
    if (!rc)
        rc = overdue(&ps);
    if (!rc)
        rc = monthly(&ps);
    if (sent)
        *sent = ps.sent;
    if (next)
        *next = ps.next;
    return rc;
}

int
reminders_ensure(struct incidents *in, int64_t at)
{
    char period[TIMEUTIL_BUFLEN];

    timeutil_fmt_iso(at, period);
    in->c->jobs_added = 1;
    return store_job_add(in->c->store, REMINDERS_JOB, 0, period, at);
}

int
reminders_failed(void *arg, const char *about, const struct outbox_row *r,
                 int why)
{
    struct incidents *in = arg;
    const struct config *cfg = in->c->cfg;
    struct chat_target to = {0};
    struct strbuf subject;
    struct chat_msg m;
    char *channel = NULL;
    int rc, first = 0;

    if (!strncmp(about, "overdue:", 8)) {
        /* the incident's channel is gone: the review channel hears it */
        if (!cfg->review_channel || !*cfg->review_channel || !r->room ||
            !strcmp(r->room, cfg->review_channel))
            return BOT_OK;
        rc = outbox_msg_parse(r->body, &m);
        if (rc)
            return BOT_OK;
        to.room = cfg->review_channel;
        rc = outbox_post(in->c->outbox, r->platform, &to, &m, NULL);
        chat_msg_cleanup(&m);
        return rc;
    }
    if (strncmp(about, "dm:", 3) || !about[3])
        return BOT_OK;
    /* a user who cannot be DMed: said once, where their work is */
    strbuf_init(&subject, 0);
    strbuf_printf(&subject, "%s:%s", r->platform, about + 3);
    rc = strbuf_error(&subject);
    if (!rc)
        rc = store_period_claim(in->c->store, "undeliverable",
                                strbuf_str(&subject), "dm",
                                core_now_ms(in->c), &first);
    strbuf_cleanup(&subject);
    if (rc || !first)
        return rc;
    rc = store_assignee_channel(in->c->store, r->platform, about + 3,
                                &channel);
    if (rc == BOT_ENOTFOUND)
        return BOT_OK;
    if (rc)
        return rc;
    chat_msg_init(&m);
    chat_msg_user(&m, about + 3);
    chat_msg_text(&m, " cannot be reached by DM (%s), so their weekly "
                      "reminders of open follow-up actions do not arrive. "
                      "`%cpm actions` lists this incident's; the commander "
                      "can reassign them.",
                  bot_strerror(why), incident_prefix(in, r->platform));
    to.room = channel;
    rc = m.err ? m.err
               : outbox_post(in->c->outbox, r->platform, &to, &m, NULL);
    chat_msg_cleanup(&m);
    bot_free(channel);
    return rc;
}
