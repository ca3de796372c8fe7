/*
 * cmd_pm.c - /pm start|layers|action|done|reopen|reassign|due|snooze|
 * actions|report|help: the review and its follow-up actions. Changing an
 * action is for its assignee, its incident's commander or an admin.
 */
#include "cmd_int.h"
#include "command.h"
#include "config.h"
#include "core.h"
#include "outbox.h"
#include "err.h"
#include "incident.h"
#include "mem.h"
#include "report.h"
#include "review.h"
#include "strbuf.h"
#include "timeutil.h"

#include <stdio.h>
#include <string.h>

static int
do_action(struct cmd *c)
{
    struct action a;
    const char *why = NULL;
    struct chat_msg m;
    int64_t id;
    int rc;

    rc = action_add(c->in, c->p, &c->inc, c->args, c->ev->user, &id, &a,
                    &why);
    if (rc == BOT_EINVAL)
        return cmd_refuse(c, "Not added: %s. Usage: %cpm action <text> @user "
                             "<YYYY-MM-DD>",
                          why, c->prefix);
    if (rc)
        return rc;
    chat_msg_init(&m);
    chat_msg_text(&m, "ACT-%lld added for INC-%lld: %s \xe2\x80\x94 ",
                  (long long)id, (long long)c->inc.id, a.text);
    chat_msg_user(&m, a.assignee);
    chat_msg_text(&m, ", by %s.", a.due_date);
    store_action_clear(&a);
    return incident_reply(&c->asker, &m);
}

/* refuse_who - someone who may not change a: say who may */
static int
refuse_who(struct cmd *c, const struct action *a, const char *commander)
{
    struct chat_msg m;

    chat_msg_init(&m);
    action_who_can(c->in, a, commander, &m);
    incident_refuse(&c->asker, &m);
    return BOT_EINVAL;
}

/* change - /pm done|reopen|reassign|due|snooze <ACT-n> [arg] */
static int
change(struct cmd *c, int what, const char *usage)
{
    const char *p = c->args, *why = NULL;
    char *ref = cmd_word(&p), *arg = NULL, *commander = NULL;
    char *user = NULL;
    struct action a = {0};
    int rc, ok;

    rc = BOT_ENOMEM;
    if (!ref)
        goto out;
    if (what >= ACH_REASSIGNED)
        arg = cmd_word(&p);
    if ((what >= ACH_REASSIGNED && !arg) || *p) {
        rc = cmd_refuse(c, "Usage: %cpm %s", c->prefix, usage);
        goto out;
    }
    rc = action_lookup(c->in, ref, &a);
    if (rc == BOT_EINVAL) {
        rc = cmd_refuse(c, "%s is not an action id (ACT-<n>). Usage: %cpm %s",
                        ref, c->prefix, usage);
        goto out;
    }
    if (rc == BOT_ENOTFOUND) {
        rc = cmd_refuse(c, "There is no %s.", ref);
        goto out;
    }
    if (rc)
        goto out;
    ok = action_permit(c->in, &a, c->ev->user, &commander);
    if (ok <= 0) {
        rc = ok < 0 ? ok : refuse_who(c, &a, commander);
        goto out;
    }
    if (what == ACH_REASSIGNED) {
        rc = c->p->ops->parse_user(c->p, arg, &user);
        if (rc == BOT_EINVAL)
            rc = cmd_refuse(c, "Not reassigned: mention the new assignee as "
                               "@user. Usage: %cpm %s",
                            c->prefix, usage);
        if (rc)
            goto out;
    }
    rc = action_apply(c->in, &a, what, user ? user : arg, c->ev->user, &why);
    if (rc == BOT_EINVAL) {
        rc = cmd_refuse(c, "ACT-%lld is unchanged: %s.", (long long)a.id, why);
        goto out;
    }
    if (rc == BOT_EEXIST) {
        struct chat_msg m;

        chat_msg_init(&m);
        if (what == ACH_DONE)
            chat_msg_text(&m, "ACT-%lld was already done.", (long long)a.id);
        else if (what == ACH_REOPENED)
            chat_msg_text(&m, "ACT-%lld is open already.", (long long)a.id);
        else if (what == ACH_REASSIGNED) {
            chat_msg_text(&m, "ACT-%lld is already assigned to ",
                          (long long)a.id);
            chat_msg_user(&m, user);
            chat_msg_text(&m, ".");
        } else if (what == ACH_DUE)
            chat_msg_text(&m, "ACT-%lld is already due %s.", (long long)a.id,
                          arg);
        else
            chat_msg_text(&m, "ACT-%lld is already snoozed until %s.",
                          (long long)a.id, a.snoozed_until);
        incident_refuse(&c->asker, &m);
        rc = BOT_EINVAL;
        goto out;
    }
    if (rc)
        goto out;
    if (what == ACH_DONE) {
        rc = cmd_reply(c, "ACT-%lld done: %s (INC-%lld).", (long long)a.id,
                       a.text, (long long)a.incident_id);
    } else if (what == ACH_REOPENED) {
        rc = cmd_reply(c, "ACT-%lld reopened: %s (INC-%lld), due %s.",
                       (long long)a.id, a.text, (long long)a.incident_id,
                       a.due_date);
    } else if (what == ACH_REASSIGNED) {
        struct chat_msg m;

        chat_msg_init(&m);
        chat_msg_text(&m, "ACT-%lld reassigned to ", (long long)a.id);
        chat_msg_user(&m, a.assignee);
        chat_msg_text(&m, ": %s (INC-%lld), due %s.", a.text,
                      (long long)a.incident_id, a.due_date);
        rc = incident_reply(&c->asker, &m);
    } else if (what == ACH_DUE) {
        rc = cmd_reply(c, "ACT-%lld is now due %s: %s (INC-%lld).",
                       (long long)a.id, a.due_date, a.text,
                       (long long)a.incident_id);
    } else {
        rc = cmd_reply(c, "ACT-%lld snoozed until %s: no weekly reminder "
                          "for it before then.",
                       (long long)a.id, a.snoozed_until);
    }
out:
    store_action_clear(&a);
    bot_free(ref);
    bot_free(arg);
    bot_free(user);
    bot_free(commander);
    return rc;
}

static int
do_done(struct cmd *c)
{
    return change(c, ACH_DONE, "done <ACT-n>");
}

static int
do_reopen(struct cmd *c)
{
    return change(c, ACH_REOPENED, "reopen <ACT-n>");
}

static int
do_reassign(struct cmd *c)
{
    return change(c, ACH_REASSIGNED, "reassign <ACT-n> @user");
}

static int
do_due(struct cmd *c)
{
    return change(c, ACH_DUE, "due <ACT-n> <YYYY-MM-DD>");
}

static int
do_snooze(struct cmd *c)
{
    return change(c, ACH_SNOOZED, "snooze <ACT-n> <1w|3d|YYYY-MM-DD>");
}

static int
do_actions(struct cmd *c)
{
    struct action *list = NULL;
    struct chat_msg m;
    char today[TIMEUTIL_BUFLEN];
    size_t n = 0;
    int rc;

    rc = store_action_list(c->core->store, c->has_inc ? c->inc.id : 0, 0, &list,
                           &n);
    if (rc)
        return rc;
    action_today(c->in, today);
    chat_msg_init(&m);
    if (!n)
        chat_msg_text(&m, c->has_inc ? "No open actions for INC-%lld."
                                     : "No open actions.",
                      (long long)c->inc.id);
    else if (c->has_inc)
        chat_msg_text(&m, "Open actions for INC-%lld:", (long long)c->inc.id);
    else
        chat_msg_text(&m, "Open actions:");
    for (size_t i = 0; i < n; i++) {
        chat_msg_nl(&m);
        chat_msg_text(&m, "ACT-%lld %s \xe2\x80\x94 ", (long long)list[i].id,
                      list[i].text);
        chat_msg_user(&m, list[i].assignee);
        chat_msg_text(&m, ", by %s%s", list[i].due_date,
                      strcmp(list[i].due_date, today) < 0 ? " (overdue)"
                                                          : "");
        if (!c->has_inc)
            chat_msg_text(&m, " \xc2\xb7 INC-%lld",
                          (long long)list[i].incident_id);
    }
    store_action_list_free(list, n);
    return incident_reply(&c->asker, &m);
}

static int
do_report(struct cmd *c)
{
    struct incident other, *inc = &c->inc;
    struct strbuf doc;
    struct chat_msg m;
    char name[64];
    int rc;

    if (*c->args) {
        rc = incident_lookup(c->core->store, c->args, &other);
        if (rc == BOT_ENOTFOUND)
            return cmd_refuse(c, "There is no incident %s.", c->args);
        if (rc)
            return rc;
        inc = &other;
    } else if (!c->has_inc) {
        return cmd_refuse(c, "Which incident? Use %cpm report in its "
                             "channel, or %cpm report INC-<n>.",
                          c->prefix, c->prefix);
    }
    strbuf_init(&doc, 0);
    rc = report_render(c->core->store, inc->id, REPORT_MD, core_now_ms(c->core),
                       &doc);
    chat_msg_init(&m);
    if (!rc)
        rc = review_summary(c->in, inc, &m);
    if (!rc) {
        const char *also = c->core->cfg->publish_channel;
        struct chat_target to = {0};

        rc = incident_reply(&c->asker, &m);
        to.room = c->ev->room;
        to.thread_id = c->ev->thread_id;
        snprintf(name, sizeof(name), "INC-%lld-postmortem.md",
                 (long long)inc->id);
        if (!rc)
            rc = outbox_upload(c->core->outbox, c->p->ops->name, &to, name,
                               "Post-mortem", strbuf_str(&doc), doc.len);
        /* and where the organisation keeps its post-mortems */
        if (!rc && also && *also && strcmp(also, c->ev->room)) {
            to.room = also;
            to.thread_id = NULL;
            rc = outbox_upload(c->core->outbox, c->p->ops->name, &to, name,
                               "Post-mortem", strbuf_str(&doc), doc.len);
        }
    }
    chat_msg_cleanup(&m);
    strbuf_cleanup(&doc);
    if (inc == &other)
        store_incident_clear(&other);
    return rc;
}

static int
start(struct cmd *c, int layers)
{
    const char *why = NULL;
    int rc = review_start(c->in, &c->asker, &c->inc, layers, &why);

    if (rc == BOT_EINVAL)
        return cmd_refuse(c, "Not started: %s (%cincident resolve).", why,
                          c->prefix);
    return rc;
}

static int
do_start(struct cmd *c)
{
    return start(c, 0);
}

static int
do_layers(struct cmd *c)
{
    return start(c, 1);
}

static int
do_help(struct cmd *c)
{
    return cmd_help(c, NULL);
}

const struct command_def cmd_pm_defs[] = {
    {"pm", "start", 0, 1, do_start, "start",
     "run the blameless review questionnaire in this channel"},
    {"pm", "layers", 0, 1, do_layers, "layers",
     "run only the security-layer analysis"},
    {"pm", "action", 1, 1, do_action, "action <text> @user <YYYY-MM-DD>",
     "add a follow-up action"},
    {"pm", "done", 1, 0, do_done, "done <ACT-n>", "mark an action complete"},
    {"pm", "reopen", 1, 0, do_reopen, "reopen <ACT-n>",
     "open a done action again"},
    {"pm", "reassign", 2, 0, do_reassign, "reassign <ACT-n> @user",
     "hand an action to someone else"},
    {"pm", "due", 2, 0, do_due, "due <ACT-n> <YYYY-MM-DD>",
     "move an action's target date"},
    {"pm", "snooze", 2, 0, do_snooze, "snooze <ACT-n> <1w|3d|YYYY-MM-DD>",
     "leave an action out of the weekly reminders until then"},
    {"pm", "actions", 0, 0, do_actions, "actions",
     "open actions (this incident in its channel, all elsewhere)"},
    {"pm", "report", 0, 0, do_report, "report [INC-n]",
     "post the summary here and publish the full document"},
    {"pm", "help", 0, 0, do_help, "help", "every command"},
    {NULL, NULL, 0, 0, NULL, NULL, NULL},
};
