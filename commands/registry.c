/*
 * registry.c - finding a command in the tables, checking where and how it is
 * used, and the reply helpers the handlers share.
 */
#include "command.h"

#include "bot.h"
#include "cmd_int.h"
#include "config.h"
#include "err.h"
#include "incident.h"
#include "mem.h"
#include "strbuf.h"
#include "timeutil.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define COMMAND_MAX 8192

static const struct {
    const char *name;
    const struct command_def *defs;
} groups[] = {
    {"incident", cmd_incident_defs},
    {"pm", cmd_pm_defs},
};

#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

const char *
cmd_skip_blank(const char *p)
{
    /* every character that ends a word, or a word-splitter that stops on
     * one this does not skip (a newline) never moves on */
    while (isspace((unsigned char)*p))
        p++;
    return p;
}

char *
cmd_word(const char **p)
{
    const char *s = cmd_skip_blank(*p), *e = s;
    char *w;

    while (*e && !isspace((unsigned char)*e))
        e++;
    if (e == s)
        return NULL;
    w = bot_strndup(s, (size_t)(e - s));
    *p = cmd_skip_blank(e);
    return w;
}

/* group_of - the group a word names ("incident", "pm"), or NULL. */
static const struct command_def *
group_of(const char *w, size_t n, const char **name)
{
    for (size_t i = 0; i < NGROUPS; i++) {
        if (strlen(groups[i].name) == n && !strncmp(w, groups[i].name, n)) {
            *name = groups[i].name;
            return groups[i].defs;
        }
    }
    return NULL;
}

int
command_is_command(const char *text)
{
    const char *p = text, *e, *name;

    if (*p != '/' && *p != '!')
        return 0;
    e = ++p;
    while (*e && !isspace((unsigned char)*e))
        e++;
    return group_of(p, (size_t)(e - p), &name) != NULL;
}

static int vreply(struct cmd *c, int now, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static int
vreply(struct cmd *c, int now, const char *fmt, va_list ap)
{
    struct chat_msg m;
    va_list cp;
    char *text;
    int n;

    va_copy(cp, ap);
    n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    chat_msg_init(&m);
    text = n < 0 ? NULL : bot_malloc((size_t)n + 1);
    if (!text)
        return BOT_ENOMEM;
    vsnprintf(text, (size_t)n + 1, fmt, ap);
    chat_msg_text(&m, "%s", text);
    bot_free(text);
    n = m.err;
    if (now)
        bot_reply_now(c->b, c->ev, &m);
    else
        bot_reply(c->b, c->ev, &m);
    return n;
}

int
cmd_reply(struct cmd *c, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vreply(c, 0, fmt, ap);
    va_end(ap);
    return rc;
}

int
cmd_refuse(struct cmd *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreply(c, 1, fmt, ap);
    va_end(ap);
    return BOT_EINVAL;
}

int
cmd_usage(struct cmd *c, const struct command_def *def)
{
    return cmd_refuse(c, "Usage: %c%s %s", c->prefix, def->group, def->usage);
}

int
cmd_help(struct cmd *c, const char *group)
{
    struct strbuf sb;
    struct chat_msg m;
    int rc;

    strbuf_init(&sb, 0);
    for (size_t g = 0; g < NGROUPS; g++) {
        if (group && strcmp(group, groups[g].name))
            continue;
        for (const struct command_def *d = groups[g].defs; d->name; d++)
            strbuf_printf(&sb, "%s%c%s %s \xe2\x80\x94 %s", sb.len ? "\n" : "",
                          c->prefix, d->group, d->usage, d->help);
    }
    if (!group || !strcmp(group, "incident"))
        strbuf_printf(&sb,
                      "\nReact with %s to a message in an incident channel "
                      "to put it on the timeline; remove the reaction to "
                      "take it off.",
                      c->b->cfg->timeline_emoji);
    rc = strbuf_error(&sb);
    if (rc) {
        strbuf_cleanup(&sb);
        return rc;
    }
    chat_msg_init(&m);
    chat_msg_text(&m, "%s", strbuf_str(&sb));
    strbuf_cleanup(&sb);
    rc = m.err;
    bot_reply(c->b, c->ev, &m);
    return rc;
}

static int
count_words(const char *p)
{
    int n = 0;

    while (*(p = cmd_skip_blank(p))) {
        n++;
        while (*p && !isspace((unsigned char)*p))
            p++;
    }
    return n;
}

static int run(struct cmd *c, const char *p);

int
command_run(struct bot *b, const struct chat_event *ev)
{
    struct cmd c = {0};
    const char *p = ev->text;
    struct strbuf text;
    int rc;

    c.b = b;
    c.ev = ev;
    c.prefix = ev->cmd_prefix ? ev->cmd_prefix : '/';
    if (*p == '/' || *p == '!')
        c.prefix = *p++;
    if (strlen(p) > COMMAND_MAX)
        return cmd_refuse(&c, "That command is too long (the limit is %d "
                              "bytes).",
                          COMMAND_MAX);
    /* every word a handler sees, and so everything it stores, is clean */
    strbuf_init(&text, 0);
    rc = chat_text_clean(&text, p, strlen(p), CHAT_TEXT_MULTILINE);
    if (!rc)
        rc = run(&c, strbuf_str(&text));
    strbuf_cleanup(&text);
    return rc;
}

/* run - command_run on the cleaned text after the prefix */
static int
run(struct cmd *c, const char *p)
{
    const struct command_def *defs, *d;
    const char *w, *name;
    char sub[32];
    size_t n;
    int rc;

    w = p;
    while (*p && !isspace((unsigned char)*p))
        p++;
    defs = group_of(w, (size_t)(p - w), &name);
    if (!defs)
        return cmd_refuse(c, "Unknown command. Try %cpm help.", c->prefix);
    c->group = name;
    p = cmd_skip_blank(p);
    w = p;
    while (*p && !isspace((unsigned char)*p))
        p++;
    n = (size_t)(p - w);
    if (!n || (n == 4 && !strncmp(w, "help", 4)))
        return cmd_help(c, name);
    snprintf(sub, sizeof(sub), "%.*s", (int)(n < 31 ? n : 31), w);
    for (d = defs; d->name; d++) {
        if (!strcmp(d->name, sub))
            break;
    }
    if (!d->name)
        return cmd_refuse(c, "Unknown command %c%s %s. Try %c%s help.",
                          c->prefix, name, sub, c->prefix, name);
    c->args = cmd_skip_blank(p);
    if (count_words(c->args) < d->min_words)
        return cmd_usage(c, d);
    rc = incident_for_room(c->b, c->ev->room, &c->inc);
    if (rc && rc != BOT_ENOTFOUND)
        return rc;
    c->has_inc = !rc;
    if (d->needs_incident && !c->has_inc)
        return cmd_refuse(c,
                          "%c%s %s works in an incident channel; this room "
                          "is not one. Use it in the incident's channel.",
                          c->prefix, name, sub);
    rc = d->handler(c);
    if (c->has_inc)
        store_incident_clear(&c->inc);
    return rc;
}

/* is_date_word - looks like a date, so it cannot be the assignee */
static int
is_date_like(const char *w)
{
    return isdigit((unsigned char)w[0]);
}

int
command_split_action(const char *args,
                     int (*parse_user)(void *ctx, const char *token,
                                       char **user),
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
