/*
 * cmd_pm.c - /pm action|done|actions|report|start|help: the review and its
 * follow-up actions.
 */
#include "bot.h"
#include "cmd_int.h"
#include "command.h"
#include "config.h"
#include "err.h"
#include "incident.h"
#include "mem.h"
#include "report.h"
#include "strbuf.h"
#include "timeutil.h"

#include <stdio.h>
#include <string.h>

#define ACTION_TEXT_MAX 1000

static int
parse_user_cb(void *ctx, const char *token, char **user)
{
    struct chat_platform *p = ctx;

    return p->ops->parse_user(p, token, user);
}

static int
do_action(struct cmd *c)
{
    struct action a = {0};
    char *text, *user, *date;
    const char *why = NULL;
    int64_t id;
    int rc;
    struct chat_msg m;

    rc = command_split_action(c->args, parse_user_cb, c->b->platform, &text,
                              &user, &date, &why);
    if (rc == BOT_EINVAL)
        return cmd_refuse(c, "Not added: %s. Usage: %cpm action <text> @user "
                             "<YYYY-MM-DD>",
                          why, c->prefix);
    if (rc)
        return rc;
    if (!chat_text_visible(text))
        rc = cmd_refuse(c, "Not added: the action's text is empty.");
    else if (strlen(text) > ACTION_TEXT_MAX)
        rc = cmd_refuse(c, "Not added: the text is too long (at most %d "
                           "bytes).",
                        ACTION_TEXT_MAX);
    if (!rc) {
        a.incident_id = c->inc.id;
        a.text = text;
        a.assignee = user;
        a.due_date = date;
        a.created_by = (char *)c->ev->user;
        a.created_at = bot_now_ms(c->b);
        rc = store_action_add(c->b->store, &a, &id);
    }
    if (!rc) {
        chat_msg_init(&m);
        chat_msg_text(&m, "ACT-%lld added for INC-%lld: %s \xe2\x80\x94 ",
                      (long long)id, (long long)c->inc.id, text);
        chat_msg_user(&m, user);
        chat_msg_text(&m, ", by %s.", date);
        rc = m.err;
        bot_reply(c->b, c->ev, &m);
    }
    bot_free(text);
    bot_free(user);
    bot_free(date);
    return rc;
}

static int
do_done(struct cmd *c)
{
    struct action a;
    int64_t id;
    int rc;

    if (incident_parse_ref(c->args, "ACT", &id))
        return cmd_refuse(c, "Which action? %cpm done <ACT-n>", c->prefix);
    rc = store_action_complete(c->b->store, id, bot_now_ms(c->b),
                               c->ev->user);
    if (rc == BOT_ENOTFOUND)
        return cmd_refuse(c, "There is no ACT-%lld.", (long long)id);
    if (rc == BOT_EEXIST)
        return cmd_refuse(c, "ACT-%lld was already done.", (long long)id);
    if (rc)
        return rc;
    rc = store_action_get(c->b->store, id, &a);
    if (rc)
        return rc;
    rc = cmd_reply(c, "ACT-%lld done: %s (INC-%lld).", (long long)id, a.text,
                   (long long)a.incident_id);
    store_action_clear(&a);
    return rc;
}

static int
do_actions(struct cmd *c)
{
    struct action *list = NULL;
    struct chat_msg m;
    char today[TIMEUTIL_BUFLEN];
    size_t n = 0;
    int rc;

    rc = store_action_list(c->b->store, c->has_inc ? c->inc.id : 0, 0, &list,
                           &n);
    if (rc)
        return rc;
    timeutil_fmt_date(bot_now_ms(c->b), today);
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
    rc = m.err;
    bot_reply(c->b, c->ev, &m);
    return rc;
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
        rc = incident_lookup(c->b, c->args, &other);
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
    rc = report_render(c->b->store, inc->id, REPORT_MD, bot_now_ms(c->b),
                       &doc);
    chat_msg_init(&m);
    if (!rc)
        rc = incident_summary(c->b, inc, &m);
    if (!rc) {
        size_t len = doc.len;

        bot_reply(c->b, c->ev, &m);
        snprintf(name, sizeof(name), "INC-%lld-postmortem.md",
                 (long long)inc->id);
        bot_upload(c->b, c->ev->room, name, "Post-mortem", strbuf_steal(&doc),
                   len);
    }
    chat_msg_cleanup(&m);
    strbuf_cleanup(&doc);
    if (inc == &other)
        store_incident_clear(&other);
    return rc;
}

static int
do_start(struct cmd *c)
{
    return cmd_refuse(c, "The review questionnaire is not available yet. "
                         "Meanwhile record follow-ups with %cpm action and "
                         "write the document with %cpm report.",
                      c->prefix, c->prefix);
}

static int
do_help(struct cmd *c)
{
    return cmd_help(c, NULL);
}

const struct command_def cmd_pm_defs[] = {
    {"pm", "start", 0, 1, do_start, "start",
     "run the blameless review questionnaire in this channel"},
    {"pm", "action", 1, 1, do_action, "action <text> @user <YYYY-MM-DD>",
     "add a follow-up action"},
    {"pm", "done", 1, 0, do_done, "done <ACT-n>", "mark an action complete"},
    {"pm", "actions", 0, 0, do_actions, "actions",
     "open actions (this incident in its channel, all elsewhere)"},
    {"pm", "report", 0, 0, do_report, "report [INC-n]",
     "post the summary here and publish the full document"},
    {"pm", "help", 0, 0, do_help, "help", "every command"},
    {NULL, NULL, 0, 0, NULL, NULL, NULL},
};
