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

/* What one pass knows. */
struct pass {
    struct incidents *in;
    struct store *st;
    const struct config *cfg;
    int64_t now, next;
    struct strbuf *dry;
    int sent;
    struct action *acts; /* every action, open and done */
    size_t nacts;
    struct incident **inc; /* by id, loaded as needed */
    size_t ninc;
    struct {
        const char *zone;
        struct zone_slot cur, next;
        char today[11];
    } zones[ZONES];
    size_t nzones;
    int wday, minute, monthly_minute;
};

static void
later(struct pass *ps, int64_t at)
{
    if (at > ps->now && (!ps->next || at < ps->next))
        ps->next = at;
}

/* incident_of - the action's incident (borrowed; NULL when gone) */
static const struct incident *
incident_of(struct pass *ps, int64_t id, int *rc)
{
    if (id <= 0 || (size_t)id >= ps->ninc)
        return NULL;
    if (!ps->inc[id]) {
        struct incident *in = bot_calloc(1, sizeof(*in));

        if (!in) {
            *rc = BOT_ENOMEM;
            return NULL;
        }
        *rc = store_incident_get(ps->st, id, in);
        if (*rc) {
            bot_free(in);
            if (*rc == BOT_ENOTFOUND)
                *rc = BOT_OK;
            return NULL;
        }
        ps->inc[id] = in;
    }
    return ps->inc[id];
}

/* zone_of - the weekly slots and the date in zone at now (cached) */
static int
zone_of(struct pass *ps, const char *zone, size_t *k)
{
    size_t i;
    int rc;

    for (i = 0; i < ps->nzones; i++) {
        if (!strcmp(ps->zones[i].zone, zone)) {
            *k = i;
            return BOT_OK;
        }
    }
    if (ps->nzones == ZONES)
        ps->nzones = 0; /* many zones: recompute, it is only slower */
    i = ps->nzones;
    rc = zone_weekly(zone, ps->now, ps->wday, ps->minute, &ps->zones[i].cur,
                     &ps->zones[i].next);
    if (!rc)
        rc = zone_date(zone, ps->now, ps->zones[i].today);
    if (rc)
        return rc;
    ps->zones[i].zone = zone;
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

static int
say(struct pass *ps, const char *platform, const struct chat_target *to,
    struct chat_msg *m)
{
    int rc = incident_say(ps->in, platform, to, m, ps->dry);

    if (!rc)
        ps->sent++;
    return rc;
}

/* action_line - "ACT-3 text (INC-1 title) · due 2026-11-20, overdue" */
static void
action_line(struct pass *ps, struct chat_msg *m, const struct action *a,
            const char *today, int with_incident)
{
    char *text = bot_strdup(a->text);

    if (!text || scrub(&text)) {
        bot_free(text);
        m->err = m->err ? m->err : BOT_ENOMEM;
        return;
    }
    (void)ps;
    chat_msg_text(m, "\xe2\x80\xa2 ACT-%lld %s", (long long)a->id, text);
    if (with_incident)
        chat_msg_text(m, " (INC-%lld)", (long long)a->incident_id);
    chat_msg_text(m, " \xc2\xb7 due %s%s", a->due_date,
                  strcmp(a->due_date, today) < 0 ? ", overdue" : "");
    bot_free(text);
}

/* --- the weekly DM --- */

/* An open action with the platform of its incident: its assignee is a
 * user there. */
struct entry {
    const struct action *a;
    const char *platform;
};

static int
by_assignee(const void *x, const void *y)
{
    const struct entry *a = x, *b = y;
    int c = strcmp(a->platform, b->platform);

    if (!c)
        c = strcmp(a->a->assignee, b->a->assignee);
    /* overdue first is the due date's order; then the id */
    if (!c)
        c = strcmp(a->a->due_date, b->a->due_date);
    return c ? c : (a->a->id > b->a->id) - (a->a->id < b->a->id);
}

/* shown_in - a is in this week's DM: opened before the slot, and not
 * snoozed past today */
static int
shown_in(const struct pass *ps, size_t k, const struct action *a)
{
    return a->created_at <= ps->zones[k].cur.at &&
           !(a->snoozed_until &&
             strcmp(a->snoozed_until, ps->zones[k].today) > 0);
}

/* weekly_one - one assignee's DM: e[0..n) are theirs, on one platform */
static int
weekly_one(struct pass *ps, const struct entry *e, size_t n)
{
    const char *platform = e[0].platform, *user = e[0].a->assignee;
    struct chat_target to = {0};
    struct strbuf subject;
    struct chat_msg m;
    char *tz = NULL;
    const char *zone;
    size_t k, shown = 0;
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
    if (rc) {
        bot_free(tz);
        return rc;
    }
    later(ps, ps->zones[k].next.at);
    for (size_t i = 0; i < n; i++)
        shown += shown_in(ps, k, e[i].a);
    strbuf_init(&subject, 0);
    strbuf_printf(&subject, "%s:%s", platform, user);
    rc = strbuf_error(&subject);
    if (!rc && shown)
        rc = claim(ps, "weekly", strbuf_str(&subject),
                   ps->zones[k].cur.period, &ours);
    strbuf_cleanup(&subject);
    if (rc || !ours) {
        bot_free(tz);
        return rc;
    }
    chat_msg_init(&m);
    chat_msg_bold(&m, "Your open follow-up action%s (%zu)",
                  shown == 1 ? "" : "s", shown);
    for (size_t i = 0; i < n; i++) {
        if (!shown_in(ps, k, e[i].a))
            continue;
        chat_msg_nl(&m);
        action_line(ps, &m, e[i].a, ps->zones[k].today, 1);
    }
    chat_msg_nl(&m);
    chat_msg_text(&m, "Answer here: `done ACT-n`, `snooze ACT-n 1w`, "
                      "`due ACT-n YYYY-MM-DD` or `reassign ACT-n @someone`.");
    to.user = user;
    rc = say(ps, platform, &to, &m);
    bot_free(tz);
    return rc;
}

static int
weekly(struct pass *ps)
{
    struct entry *e = bot_calloc(ps->nacts ? ps->nacts : 1, sizeof(*e));
    size_t n = 0;
    int rc = BOT_OK;

    if (!e)
        return BOT_ENOMEM;
    for (size_t i = 0; !rc && i < ps->nacts; i++) {
        const struct incident *inc;

        if (ps->acts[i].status != ACTION_OPEN)
            continue;
        inc = incident_of(ps, ps->acts[i].incident_id, &rc);
        if (inc) {
            e[n].a = &ps->acts[i];
            e[n++].platform = inc->platform;
        }
    }
    qsort(e, n, sizeof(*e), by_assignee);
    for (size_t i = 0, j; !rc && i < n; i = j) {
        for (j = i + 1; j < n && !strcmp(e[j].platform, e[i].platform) &&
                        !strcmp(e[j].a->assignee, e[i].a->assignee);
             j++)
            ;
        rc = weekly_one(ps, e + i, j - i);
    }
    bot_free(e);
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

static int
overdue_one(struct pass *ps, const struct action *a, const char *today)
{
    struct chat_target to = {0};
    const struct incident *inc;
    char subject[32], period[32];
    struct roles r = {0};
    struct chat_msg m;
    char *text;
    long days;
    int rc = BOT_OK, ours = 0;

    if (days_between(a->due_date, today, &days) || days < 1)
        return BOT_OK;
    inc = incident_of(ps, a->incident_id, &rc);
    if (!inc)
        return rc;
    to.room = inc->channel ? inc->channel : ps->cfg->review_channel;
    if (!to.room)
        return BOT_OK;
    snprintf(subject, sizeof(subject), "ACT-%lld", (long long)a->id);
    snprintf(period, sizeof(period), "w%ld", (days - 1) / 7);
    rc = claim(ps, "overdue", subject, period, &ours);
    if (rc || !ours)
        return rc;
    text = bot_strdup(a->text);
    if (!text || scrub(&text)) {
        bot_free(text);
        return BOT_ENOMEM;
    }
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
                  incident_prefix(ps->in, inc->platform), (long long)a->id,
                  incident_prefix(ps->in, inc->platform), (long long)a->id);
    if (rc) {
        chat_msg_cleanup(&m);
        return rc;
    }
    return say(ps, inc->platform, &to, &m);
}

static int
overdue(struct pass *ps)
{
    struct zone_slot cur, next;
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
    for (size_t i = 0; !rc && i < ps->nacts; i++) {
        if (ps->acts[i].status == ACTION_OPEN &&
            strcmp(ps->acts[i].due_date, today) < 0)
            rc = overdue_one(ps, &ps->acts[i], today);
    }
    return rc;
}

/* --- the monthly review --- */

static const char *
platform_of_any(struct pass *ps, int *rc)
{
    const struct incident *inc;

    for (size_t i = 0; !*rc && i < ps->nacts; i++) {
        if (ps->acts[i].status == ACTION_OPEN &&
            (inc = incident_of(ps, ps->acts[i].incident_id, rc)))
            return inc->platform;
    }
    return NULL;
}

static int
monthly(struct pass *ps)
{
    struct zone_slot cur, next, prev, unused;
    struct chat_target to = {0};
    const struct action *oldest = NULL;
    long open = 0, opened = 0, completed = 0, late = 0, listed = 0;
    const char *platform;
    char today[11], month[16];
    struct chat_msg m;
    int64_t last_inc = 0;
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
    platform = platform_of_any(ps, &rc);
    if (rc || !platform)
        return rc; /* nothing open: nothing to review */
    /* a month reviews what was open at its slot: a first start mid-month
     * does not review last month's nothing */
    for (size_t i = 0; i < ps->nacts && !oldest; i++) {
        if (ps->acts[i].status == ACTION_OPEN &&
            ps->acts[i].created_at <= cur.at)
            oldest = &ps->acts[i];
    }
    if (!oldest)
        return BOT_OK;
    oldest = NULL;
    rc = claim(ps, "monthly", "review", cur.period, &ours);
    if (rc || !ours)
        return rc;
    for (size_t i = 0; i < ps->nacts; i++) {
        const struct action *a = &ps->acts[i];

        if (a->created_at >= prev.at && a->created_at < cur.at)
            opened++;
        if (a->status == ACTION_DONE && a->completed_at >= prev.at &&
            a->completed_at < cur.at)
            completed++;
        if (a->status != ACTION_OPEN)
            continue;
        open++;
        late += strcmp(a->due_date, today) < 0;
        if (!oldest || a->created_at < oldest->created_at)
            oldest = a;
    }
    snprintf(month, sizeof(month), "%s", cur.period);
    chat_msg_init(&m);
    chat_msg_bold(&m, "Monthly review of open follow-up actions, %s", month);
    chat_msg_nl(&m);
    chat_msg_text(&m, "%ld open, %ld overdue. Since the last review: %ld "
                      "opened, %ld completed.",
                  open, late, opened, completed);
    if (oldest) {
        char since[TIMEUTIL_BUFLEN];

        chat_msg_nl(&m);
        chat_msg_text(&m, "Oldest: ");
        action_line(ps, &m, oldest, today, 1);
        chat_msg_text(&m, ", open since %s \xe2\x80\x94 ",
                      timeutil_fmt_date(oldest->created_at, since));
        chat_msg_user(&m, oldest->assignee);
    }
    /* grouped by incident: the list is by due date, so a group per pass */
    for (size_t i = 0; i < ps->nacts && listed < MONTHLY_LINES; i++) {
        const struct action *a = &ps->acts[i];
        int64_t id = a->incident_id;
        const struct incident *inc;

        if (a->status != ACTION_OPEN || id == last_inc)
            continue;
        last_inc = id;
        inc = incident_of(ps, id, &rc);
        if (rc)
            break;
        chat_msg_nl(&m);
        chat_msg_bold(&m, "INC-%lld", (long long)id);
        if (inc) {
            char *title = bot_strdup(inc->title);

            if (!title || scrub(&title)) {
                bot_free(title);
                rc = BOT_ENOMEM;
                break;
            }
            chat_msg_text(&m, " %s", title);
            bot_free(title);
        }
        for (size_t j = 0; j < ps->nacts && listed < MONTHLY_LINES; j++) {
            if (ps->acts[j].status != ACTION_OPEN ||
                ps->acts[j].incident_id != id)
                continue;
            chat_msg_nl(&m);
            action_line(ps, &m, &ps->acts[j], today, 0);
            chat_msg_text(&m, " \xe2\x80\x94 ");
            chat_msg_user(&m, ps->acts[j].assignee);
            listed++;
        }
    }
    if (open > listed) {
        chat_msg_nl(&m);
        chat_msg_text(&m, "\xe2\x80\xa6 and %ld more: `pmbot actions` lists "
                          "them all.",
                      open - listed);
    }
    if (rc) {
        chat_msg_cleanup(&m);
        return rc;
    }
    to.room = ps->cfg->review_channel;
    return say(ps, platform, &to, &m);
}

/* --- the pass --- */

int
reminders_pass(struct incidents *in, int64_t now, struct strbuf *dry,
               int *sent, int64_t *next)
{
    struct pass ps = {0};
    int64_t maxid = 0;
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
    rc = store_action_list(ps.st, 0, 1, &ps.acts, &ps.nacts);
    for (size_t i = 0; !rc && i < ps.nacts; i++) {
        if (ps.acts[i].incident_id > maxid)
            maxid = ps.acts[i].incident_id;
    }
    if (!rc) {
        ps.ninc = (size_t)maxid + 1;
        ps.inc = bot_calloc(ps.ninc, sizeof(*ps.inc));
        if (!ps.inc)
            rc = BOT_ENOMEM;
    }
    if (!rc)
        rc = weekly(&ps);
    if (!rc)
        rc = overdue(&ps);
    if (!rc)
        rc = monthly(&ps);
    for (size_t i = 0; ps.inc && i < ps.ninc; i++) {
        if (ps.inc[i]) {
            store_incident_clear(ps.inc[i]);
            bot_free(ps.inc[i]);
        }
    }
    bot_free(ps.inc);
    store_action_list_free(ps.acts, ps.nacts);
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
