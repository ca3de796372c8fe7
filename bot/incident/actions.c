/*
 * actions.c - follow-up actions: the rules for adding and changing one (who
 * may, which dates), shared by /pm, the review and answers in a DM. The
 * history of each change is written by the store with the change.
 */
#include "incident_int.h"

#include "config.h"
#include "core.h"
#include "err.h"
#include "mem.h"
#include "outbox.h"
#include "unit.h"
#include "zone.h"
#include "timeutil.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* is_date_word - looks like a date, so it cannot be the assignee */
static int
is_date_like(const char *w)
{
    return isdigit((unsigned char)w[0]);
}

int
action_split(const char *args,
             int (*parse_user)(void *ctx, const char *token, char **user),
             void *ctx, char **text, char **user, char **date,
             const char **why)
{
    const char *end = args + strlen(args), *w1, *w2, *e1, *e2;
    const char *dw, *uw;
    size_t dn, un;
    char *d = NULL, *u = NULL, *t = NULL, *tok = NULL;
    int64_t ms;
    int rc;

    *text = *user = *date = NULL;
    /* the last two words are the assignee and the date, in either order */
    while (end > args && isspace((unsigned char)end[-1]))
        end--;
    e2 = end;
    w2 = e2;
    while (w2 > args && !isspace((unsigned char)w2[-1]))
        w2--;
    e1 = w2;
    while (e1 > args && isspace((unsigned char)e1[-1]))
        e1--;
    w1 = e1;
    while (w1 > args && !isspace((unsigned char)w1[-1]))
        w1--;
    if (w2 == e2 || w1 == e1 || w1 == args) {
        *why = "an action needs a text, an assignee (@user) and a target "
               "date (YYYY-MM-DD)";
        return BOT_EINVAL;
    }
    if (is_date_like(w2)) {
        dw = w2, dn = (size_t)(e2 - w2), uw = w1, un = (size_t)(e1 - w1);
    } else {
        dw = w1, dn = (size_t)(e1 - w1), uw = w2, un = (size_t)(e2 - w2);
    }
    rc = BOT_ENOMEM;
    d = bot_strndup(dw, dn);
    tok = bot_strndup(uw, un);
    t = bot_strndup(args, (size_t)(w1 - args));
    if (!d || !tok || !t)
        goto fail;
    for (size_t n = strlen(t); n && isspace((unsigned char)t[n - 1]);)
        t[--n] = '\0';
    rc = BOT_EINVAL;
    if (!is_date_like(d)) {
        *why = "an action needs a target date (YYYY-MM-DD)";
        goto fail;
    }
    if (timeutil_parse_date(d, &ms)) {
        *why = "the target date is not a real calendar date (YYYY-MM-DD)";
        goto fail;
    }
    rc = parse_user(ctx, tok, &u);
    if (rc) {
        if (rc == BOT_EINVAL)
            *why = "an action needs an assignee: mention them as @user";
        goto fail;
    }
    bot_free(tok);
    *text = t;
    *user = u;
    *date = d;
    return BOT_OK;

fail:
    bot_free(d);
    bot_free(tok);
    bot_free(t);
    bot_free(u);
    return rc;
}

void
action_today(struct incidents *in, char today[TIMEUTIL_BUFLEN])
{
    int64_t now = core_now_ms(in->c);

    /* target dates are days of [reminders] timezone, as escalations are */
    if (zone_date(in->c->cfg->timezone, now, today))
        timeutil_fmt_date(now, today);
}

static int
parse_user_cb(void *ctx, const char *token, char **user)
{
    struct chat_platform *p = ctx;

    return p->ops->parse_user(p, token, user);
}

int
action_create(struct incidents *in, int64_t incident_id, const char *text,
              const char *assignee, const char *due_date, const char *by,
              int64_t *id)
{
    struct action a = {0};

    a.incident_id = incident_id;
    a.text = (char *)text;
    a.assignee = (char *)assignee;
    a.due_date = (char *)due_date;
    a.created_by = (char *)by;
    a.created_at = core_now_ms(in->c);
    return store_action_add(in->c->store, &a, id);
}

int
action_add(struct incidents *in, struct chat_platform *p,
           const struct incident *inc, const char *args, const char *by,
           int64_t *id, struct action *out, const char **why)
{
    char today[TIMEUTIL_BUFLEN];
    char *text, *user, *date;
    int rc;

    rc = action_split(args, parse_user_cb, p, &text, &user, &date, why);
    if (rc)
        return rc;
    action_today(in, today);
    rc = BOT_EINVAL;
    if (!chat_text_visible(text))
        *why = "the action's text is empty";
    else if (strlen(text) > ACTION_TEXT_MAX)
        *why = "the text is too long (at most 1000 bytes)";
    else if (strcmp(date, today) < 0)
        *why = "the target date is already past";
    else
        rc = action_create(in, inc->id, text, user, date, by, id);
    if (!rc && out)
        rc = store_action_get(in->c->store, *id, out);
    bot_free(text);
    bot_free(user);
    bot_free(date);
    return rc;
}

int
action_lookup(struct incidents *in, const char *ref, struct action *out)
{
    int64_t id;

    if (incident_parse_ref(ref, "ACT", &id))
        return BOT_EINVAL;
    return store_action_get(in->c->store, id, out);
}

int
action_is_admin(const char *admins, const char *user)
{
    size_t n = strlen(user);

    for (const char *p = admins; p && *p;) {
        size_t len;

        p += strspn(p, ", \t");
        len = strcspn(p, ", \t");
        if (len && len == n && !strncmp(p, user, n))
            return 1;
        p += len;
    }
    return 0;
}

int
action_permit(struct incidents *in, const struct action *a, const char *user,
              char **commander)
{
    struct roles r;
    int rc, ok;

    *commander = NULL;
    if (user && !strcmp(a->assignee, user))
        return 1;
    if (user && action_is_admin(in->c->cfg->admins, user))
        return 1;
    rc = store_roles_get(in->c->store, a->incident_id, &r);
    if (rc)
        return rc;
    ok = user && r.user[ROLE_COMMANDER] &&
         !strcmp(r.user[ROLE_COMMANDER], user);
    if (!ok && r.user[ROLE_COMMANDER]) {
        *commander = bot_strdup(r.user[ROLE_COMMANDER]);
        if (!*commander)
            ok = BOT_ENOMEM;
    }
    store_roles_clear(&r);
    return ok;
}

int
action_snooze_date(const char *today, const char *word, char *until,
                   const char **why)
{
    char *end;
    int64_t ms, day;
    long n;

    if (timeutil_parse_date(today, &day))
        return BOT_EINVAL;
    *why = "snooze for 1w, 2w, 3d (weeks or days, up to a year) or until "
           "a date (YYYY-MM-DD)";
    if (isdigit((unsigned char)word[0]) && strlen(word) == 10) {
        if (timeutil_parse_date(word, &ms)) {
            *why = "that is not a real calendar date (YYYY-MM-DD)";
            return BOT_EINVAL;
        }
        if (strcmp(word, today) <= 0) {
            *why = "the date is not in the future";
            return BOT_EINVAL;
        }
        memcpy(until, word, 11);
        return BOT_OK;
    }
    if (!isdigit((unsigned char)word[0]))
        return BOT_EINVAL;
    n = strtol(word, &end, 10);
    if ((end[0] != 'w' && end[0] != 'd') || end[1] || n < 1 ||
        n > ACTION_SNOOZE_MAX_DAYS) /* before it can overflow below */
        return BOT_EINVAL;
    if (end[0] == 'w')
        n *= 7;
    if (n > ACTION_SNOOZE_MAX_DAYS)
        return BOT_EINVAL;
    timeutil_fmt_date(day + n * 86400000LL, until);
    return BOT_OK;
}

int
action_apply(struct incidents *in, struct action *a, int what,
             const char *arg, const char *by, const char **why)
{
    char today[TIMEUTIL_BUFLEN], until[TIMEUTIL_BUFLEN];
    int64_t now = core_now_ms(in->c), ms, id = a->id;
    const char *detail = arg;
    int rc;

    action_today(in, today);
    if (what >= ACH_REASSIGNED && a->status == ACTION_DONE) {
        *why = "it is done; reopen it first";
        return BOT_EINVAL;
    }
    if (what == ACH_DUE) {
        if (!isdigit((unsigned char)arg[0]) || timeutil_parse_date(arg, &ms)) {
            *why = "the target date is not a real calendar date (YYYY-MM-DD)";
            return BOT_EINVAL;
        }
        if (strcmp(arg, today) < 0) {
            *why = "the target date is already past";
            return BOT_EINVAL;
        }
    } else if (what == ACH_SNOOZED) {
        rc = action_snooze_date(today, arg, until, why);
        if (rc)
            return rc;
        detail = until;
    }
    rc = store_action_change(in->c->store, id, what, now, by, detail);
    if (rc)
        return rc;
    store_action_clear(a);
    return store_action_get(in->c->store, id, a);
}

void
action_who_can(struct incidents *in, const struct action *a,
               const char *commander, struct chat_msg *m)
{
    const char *admins = in->c->cfg->admins;
    int any = 0;

    chat_msg_text(m, "Only ACT-%lld's assignee ", (long long)a->id);
    chat_msg_user(m, a->assignee);
    if (commander) {
        chat_msg_text(m, "%s INC-%lld's commander ",
                      admins && *admins ? "," : " or",
                      (long long)a->incident_id);
        chat_msg_user(m, commander);
    }
    for (const char *p = admins; p && *p;) {
        size_t n;
        char *id;

        p += strspn(p, ", \t");
        n = strcspn(p, ", \t");
        if (!n)
            break;
        id = bot_strndup(p, n);
        if (id) {
            chat_msg_text(m, any ? ", " : " or an admin (");
            chat_msg_user(m, id);
            any = 1;
        }
        bot_free(id);
        p += n;
    }
    chat_msg_text(m, "%s can change it.", any ? ")" : "");
}

/* --- ✅ on a reminder's line --- */

int
action_check_emoji(const char *r)
{
    size_t n;

    if (!r)
        return 0;
    n = strlen(r);
    /* U+FE0F (emoji presentation) changes nothing */
    if (n > 3 && !strcmp(r + n - 3, "\xEF\xB8\x8F"))
        n -= 3;
    return (n == 3 && !memcmp(r, "\xE2\x9C\x85", 3)) ||
           !strcmp(r, "white_check_mark") ||
           !strcmp(r, ":white_check_mark:");
}

struct react {
    struct incidents *in;
    struct chat_platform *p;
    const struct chat_event *ev;
};

static int
react_say(struct react *r, struct chat_msg *m)
{
    struct chat_target to = {0};
    int rc = m->err;

    to.room = r->ev->room;
    if (!rc)
        rc = outbox_post(r->in->c->outbox, r->p->ops->name, &to, m, NULL);
    chat_msg_cleanup(m);
    return rc;
}

static int
react_work(void *arg)
{
    struct react *r = arg;
    struct action a = {0};
    struct chat_msg m;
    char *about = NULL, *commander = NULL;
    const char *why = NULL;
    int rc, ok;

    rc = store_outbox_about(r->in->c->store, r->p->ops->name, r->ev->msg_id,
                            &about);
    if (rc == BOT_ENOTFOUND)
        return BOT_OK; /* a message about no action */
    if (!rc)
        rc = action_lookup(r->in, about, &a);
    bot_free(about);
    if (rc == BOT_ENOTFOUND || rc == BOT_EINVAL)
        return BOT_OK;
    if (rc)
        return rc;
    chat_msg_init(&m);
    ok = action_permit(r->in, &a, r->ev->user, &commander);
    if (ok < 0) {
        rc = ok;
    } else if (!ok) {
        action_who_can(r->in, &a, commander, &m);
        rc = react_say(r, &m);
    } else {
        rc = action_apply(r->in, &a, ACH_DONE, NULL, r->ev->user, &why);
        if (rc == BOT_EEXIST) {
            chat_msg_text(&m, "ACT-%lld was already done.", (long long)a.id);
            rc = react_say(r, &m);
        } else if (rc == BOT_EINVAL) {
            chat_msg_text(&m, "ACT-%lld is unchanged: %s.", (long long)a.id,
                          why);
            rc = react_say(r, &m);
        } else if (!rc) {
            chat_msg_text(&m, "ACT-%lld done: %s (INC-%lld).",
                          (long long)a.id, a.text, (long long)a.incident_id);
            rc = react_say(r, &m);
        }
    }
    chat_msg_cleanup(&m);
    bot_free(commander);
    store_action_clear(&a);
    return rc;
}

void
action_react(struct incidents *in, struct chat_platform *p,
             const struct chat_event *ev, chat_done_fn *done, void *arg)
{
    struct react r = {in, p, ev};
    struct unit u = {0};

    if (!ev->msg_id || !ev->user) {
        units_finish(in->c->units, done, arg, BOT_OK);
        return;
    }
    u.source = p->ops->name;
    u.id = ev->event_id;
    u.now = core_now_ms(in->c);
    u.fn = react_work;
    u.arg = &r;
    u.done = done;
    u.done_arg = arg;
    unit_run(in->c->units, &u, NULL);
}
