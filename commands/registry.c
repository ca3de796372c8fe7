/*
 * registry.c - finding a command in the tables, checking where and how it is
 * used, and the reply helpers the handlers share.
 */
#include "command.h"

#include "cmd_int.h"
#include "config.h"
#include "core.h"
#include "err.h"
#include "incident.h"
#include "mem.h"
#include "strbuf.h"
#include "timeutil.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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
    if (now) {
        incident_refuse(&c->asker, &m);
        return BOT_OK;
    }
    return incident_reply(&c->asker, &m);
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
                      c->core->cfg->timeline_emoji);
    rc = strbuf_error(&sb);
    if (rc) {
        strbuf_cleanup(&sb);
        return rc;
    }
    chat_msg_init(&m);
    chat_msg_text(&m, "%s", strbuf_str(&sb));
    strbuf_cleanup(&sb);
    return incident_reply(&c->asker, &m);
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

/* The bare words a DM takes: the answers to a reminder, and asking. A
 * reply such as "start on it tomorrow" must not declare an incident. */
static const struct {
    const char *word, *group;
} dm_words[] = {
    {"done", "pm "},    {"reopen", "pm "},  {"reassign", "pm "},
    {"due", "pm "},     {"snooze", "pm "},  {"actions", "pm "},
    {"help", "pm "},    {"status", "incident "},
};

/* dm_group - a DM's bare words: the group its first word belongs to ("" for
 * a group's own name), or NULL when it is none of those (any case: phones
 * capitalise "Done") */
static const char *
dm_group(const char *p)
{
    size_t n = strcspn(p, " \t\n");

    for (size_t g = 0; g < NGROUPS; g++) {
        if (strlen(groups[g].name) == n &&
            !strncasecmp(p, groups[g].name, n))
            return "";
    }
    for (size_t i = 0; i < sizeof(dm_words) / sizeof(dm_words[0]); i++) {
        if (strlen(dm_words[i].word) == n &&
            !strncasecmp(p, dm_words[i].word, n))
            return dm_words[i].group;
    }
    return NULL;
}

int
command_run(struct incidents *in, struct chat_platform *pl,
            const struct chat_event *ev)
{
    struct cmd c = {0};
    const char *p = ev->text, *group = "";
    struct strbuf text;
    int rc, dm_bare = 0;

    c.in = in;
    c.core = incidents_core(in);
    c.p = pl;
    c.ev = ev;
    c.asker.in = in;
    c.asker.p = pl;
    c.asker.ev = ev;
    c.prefix = ev->cmd_prefix ? ev->cmd_prefix : '/';
    if (*p == '/' || *p == '!') {
        c.prefix = *p++;
    } else if (ev->is_dm) {
        dm_bare = 1;
        group = dm_group(cmd_skip_blank(p));
        if (!group)
            return cmd_refuse(&c, "I know commands only: write help for "
                                  "the list, or answer for an action: "
                                  "done ACT-<n>, snooze ACT-<n> 1w, "
                                  "due ACT-<n> <YYYY-MM-DD>, reassign "
                                  "ACT-<n> @user.");
        p = cmd_skip_blank(p);
    }
    if (strlen(p) > COMMAND_MAX)
        return cmd_refuse(&c, "That command is too long (the limit is %d "
                              "bytes).",
                          COMMAND_MAX);
    /* every word a handler sees, and so everything it stores, is clean */
    strbuf_init(&text, 0);
    strbuf_puts(&text, group);
    if (dm_bare) {
        /* a DM's bare word, in the case the tables have */
        size_t n = strcspn(p, " \t\n");

        for (size_t i = 0; i < n; i++)
            strbuf_putc(&text, (char)tolower((unsigned char)p[i]));
        p += n;
    }
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
    rc = incident_for_room(c->in, c->p->ops->name, c->ev->room, &c->inc);
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
