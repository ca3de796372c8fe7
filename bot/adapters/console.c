/*
 * console.c - the terminal platform.
 *
 * Rooms are names; a message's id is its number n as text. Everything the
 * bot posts is printed as "[n] #room <pmbot> text"; what the user types as
 * "[n] #room <user> text"; other happenings as "* ...". A multi-line post
 * continues on lines indented by four spaces.
 */
#include "console.h"

#include "bot.h"
#include "chat.h"
#include "command.h"
#include "err.h"
#include "log.h"
#include "loop.h"
#include "mem.h"
#include "strbuf.h"
#include "timeutil.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define BOT_USER  "pmbot"

struct cmsg {
    char *room;
    char *user;
    char *text;
    int64_t at;
};

struct console {
    FILE *out;
    char *user;
    char *room;
    struct cmsg *msgs; /* msgs[i] is message number i + 1 */
    size_t nmsgs, capmsgs;
    char **rooms; /* rooms opened in this session */
    size_t nrooms, caprooms;
    struct loop *loop;
    struct loop_lines *lines;
    int stop_at_eof;
};

static struct console *
con(struct chat_platform *p)
{
    return p->priv;
}

static int
push(void ***arr, size_t *n, size_t *cap, size_t size)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        void *na = bot_realloc(*arr, ncap * size);

        if (!na)
            return BOT_ENOMEM;
        *arr = na;
        *cap = ncap;
    }
    return BOT_OK;
}

/* put_shown - s through chat_text_show: user text reaches the terminal
 * without an escape sequence, a bell or a bidi override in it. Lines after
 * the first are indented (multiline) or joined (not). */
static void
put_shown(struct console *c, const char *s, int multiline)
{
    struct strbuf sb;

    strbuf_init(&sb, 0);
    chat_text_show(&sb, s, multiline ? CHAT_TEXT_MULTILINE : 0);
    for (const char *p = strbuf_str(&sb); *p; p++) {
        fputc(*p, c->out);
        if (*p == '\n')
            fputs("    ", c->out);
    }
    strbuf_cleanup(&sb);
}

/* print_as - "[n] #room <user> text", continuation lines indented; in a
 * thread "[n] #room [t] ...", and a post only one person sees says so */
static void
print_as(struct console *c, size_t n, const char *room, const char *user,
         const char *text, const char *thread, const char *only)
{
    /* a line only one person sees has no number: nobody can react to it */
    if (only)
        fprintf(c->out, "[-] %s", room[0] == '@' ? "" : "#");
    else
        fprintf(c->out, "[%zu] %s", n, room[0] == '@' ? "" : "#");
    put_shown(c, room, 0);
    if (thread) {
        fputs(" [", c->out);
        put_shown(c, thread, 0);
        fputc(']', c->out);
    }
    fputs(" <", c->out);
    put_shown(c, user, 0);
    fputs("> ", c->out);
    if (only) {
        fputs("(only @", c->out);
        put_shown(c, only, 0);
        fputs(" sees this) ", c->out);
    }
    put_shown(c, text, 1);
    fputc('\n', c->out);
    fflush(c->out);
}

static void
print_msg(struct console *c, size_t n, const char *room, const char *user,
          const char *text)
{
    print_as(c, n, room, user, text, NULL, NULL);
}

/* record - keep a message; returns its number or 0 on failure */
static size_t
record(struct console *c, const char *room, const char *user,
       const char *text, int64_t at)
{
    struct cmsg *m;

    if (push((void ***)&c->msgs, &c->nmsgs, &c->capmsgs, sizeof(*c->msgs)))
        return 0;
    m = &c->msgs[c->nmsgs];
    m->room = bot_strdup(room);
    m->user = bot_strdup(user);
    m->text = bot_strdup(text);
    m->at = at;
    if (!m->room || !m->user || !m->text) {
        bot_free(m->room);
        bot_free(m->user);
        bot_free(m->text);
        return 0;
    }
    return ++c->nmsgs;
}

static void note(struct console *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* note - "* ..." on one line; the arguments may hold user text */
static void
note(struct console *c, const char *fmt, ...)
{
    struct strbuf sb;
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    s = n < 0 ? NULL : bot_malloc((size_t)n + 1);
    if (!s)
        return;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    strbuf_init(&sb, 0);
    chat_text_show(&sb, s, 0);
    fprintf(c->out, "* %s\n", strbuf_str(&sb));
    fflush(c->out);
    strbuf_cleanup(&sb);
    bot_free(s);
}

static int
has_room(struct console *c, const char *name)
{
    for (size_t i = 0; i < c->nrooms; i++) {
        if (!strcmp(c->rooms[i], name))
            return 1;
    }
    return 0;
}

static int
set_str(char **dst, const char *v)
{
    char *d = bot_strdup(v);

    if (!d)
        return BOT_ENOMEM;
    bot_free(*dst);
    *dst = d;
    return BOT_OK;
}

/* --- platform operations --- */

static void
op_open_channel(struct chat_platform *p, const char *name, int flags,
                chat_room_fn *cb, void *arg)
{
    struct console *c = con(p);
    char *copy;

    if (has_room(c, name)) {
        if (cb)
            cb(arg, BOT_EEXIST, NULL, NULL);
        return;
    }
    copy = bot_strdup(name);
    if (!copy ||
        push((void ***)&c->rooms, &c->nrooms, &c->caprooms, sizeof(char *))) {
        bot_free(copy);
        if (cb)
            cb(arg, BOT_ENOMEM, NULL, NULL);
        return;
    }
    c->rooms[c->nrooms++] = copy;
    note(c, "pmbot opened #%s%s", name,
         flags & CHAT_CHANNEL_PRIVATE ? " (private)" : "");
    if (cb)
        cb(arg, BOT_OK, name, name);
}

static void
op_invite(struct chat_platform *p, const char *room, const char *const *users,
          size_t n, chat_done_fn *cb, void *arg)
{
    struct console *c = con(p);
    struct strbuf sb;
    int joined = 0;

    strbuf_init(&sb, 0);
    for (size_t i = 0; i < n; i++) {
        strbuf_printf(&sb, "%s@%s", i ? ", " : "", users[i]);
        if (!strcmp(users[i], c->user))
            joined = 1;
    }
    note(c, "pmbot invited %s to #%s", strbuf_str(&sb), room);
    strbuf_cleanup(&sb);
    /* the local user follows an invitation, as a chat client would show */
    if (joined && !set_str(&c->room, room))
        note(c, "%s is now in #%s", c->user, room);
    if (cb)
        cb(arg, BOT_OK);
}

static void
op_set_topic(struct chat_platform *p, const char *room, const char *topic,
             chat_done_fn *cb, void *arg)
{
    note(con(p), "topic of #%s: %s", room, topic);
    if (cb)
        cb(arg, BOT_OK);
}

static void
op_post(struct chat_platform *p, const struct chat_target *to,
        const struct chat_msg *msg, chat_posted_fn *cb, void *arg)
{
    struct console *c = con(p);
    const char *only = to->flags & CHAT_POST_EPHEMERAL ? to->user : NULL;
    struct strbuf sb;
    char id[32];
    size_t n = 0;
    int rc;

    strbuf_init(&sb, 0);
    rc = chat_msg_plain(msg, &sb);
    /* an ephemeral line is shown, not kept: nobody else can react to it */
    if (!rc && !only) {
        n = record(c, to->room, BOT_USER, strbuf_str(&sb),
                   bot_now_ms(p->bot));
        rc = n ? BOT_OK : BOT_ENOMEM;
    }
    if (!rc)
        print_as(c, n, to->room, BOT_USER, strbuf_str(&sb), to->thread_id,
                 only);
    strbuf_cleanup(&sb);
    snprintf(id, sizeof(id), "%zu", n);
    if (cb)
        cb(arg, rc, rc || only ? NULL : id);
}

/* open_dm - a direct room is "@user" */
static void
op_open_dm(struct chat_platform *p, const char *user, chat_room_fn *cb,
           void *arg)
{
    char room[80];

    (void)p;
    snprintf(room, sizeof(room), "@%s", user);
    cb(arg, BOT_OK, room, NULL);
}

/* find - message n (as text) if it exists */
static struct cmsg *
find(struct console *c, const char *id, size_t *n_out)
{
    long n;

    if (parse_long(id, 1, (long)c->nmsgs, &n))
        return NULL;
    if (n_out)
        *n_out = (size_t)n;
    return &c->msgs[n - 1];
}

static void
op_fetch_message(struct chat_platform *p, const char *room,
                 const char *msg_id, chat_fetched_fn *cb, void *arg)
{
    struct cmsg *m = find(con(p), msg_id, NULL);
    struct chat_message cm = {0};

    if (!m || strcmp(m->room, room)) {
        cb(arg, BOT_ENOTFOUND, NULL);
        return;
    }
    cm.room = m->room;
    cm.id = msg_id;
    cm.user = m->user;
    cm.text = m->text;
    cm.at = m->at;
    cb(arg, BOT_OK, &cm);
}

static void
op_pin(struct chat_platform *p, const char *room, const char *msg_id,
       chat_done_fn *cb, void *arg)
{
    note(con(p), "pmbot pinned [%s] in #%s", msg_id, room);
    if (cb)
        cb(arg, BOT_OK);
}

static void
op_update(struct chat_platform *p, const char *room, const char *msg_id,
          const struct chat_msg *msg, const char *key,
          chat_done_fn *cb, void *arg)
{
    (void)key; /* idempotent by itself, or find_sent */
    struct console *c = con(p);
    struct cmsg *m = find(c, msg_id, NULL);
    struct strbuf sb;
    int rc = BOT_ENOTFOUND;

    strbuf_init(&sb, 0);
    if (m && !strcmp(m->room, room) && !strcmp(m->user, BOT_USER) &&
        !(rc = chat_msg_plain(msg, &sb)) &&
        !(rc = set_str(&m->text, strbuf_str(&sb))))
        note(c, "pmbot edited [%s]: %s", msg_id, m->text);
    strbuf_cleanup(&sb);
    if (cb)
        cb(arg, rc);
}

static void
op_react(struct chat_platform *p, const char *room, const char *msg_id,
         const char *emoji, const char *key, chat_done_fn *cb, void *arg)
{
    (void)key; /* idempotent by itself, or find_sent */
    struct cmsg *m = find(con(p), msg_id, NULL);

    if (m && !strcmp(m->room, room))
        note(con(p), "pmbot reacted %s to [%s]", emoji, msg_id);
    if (cb)
        cb(arg, m && !strcmp(m->room, room) ? BOT_OK : BOT_ENOTFOUND);
}

static void
op_redact(struct chat_platform *p, const char *room, const char *msg_id,
          const char *key, chat_done_fn *cb, void *arg)
{
    (void)key; /* idempotent by itself, or find_sent */
    struct console *c = con(p);
    struct cmsg *m = find(c, msg_id, NULL);
    int rc = BOT_ENOTFOUND;

    if (m && !strcmp(m->room, room) && !(rc = set_str(&m->text, "")))
        note(c, "pmbot deleted [%s]", msg_id);
    if (cb)
        cb(arg, rc);
}

static void
op_upload(struct chat_platform *p, const struct chat_target *to,
          const char *filename, const char *title, const char *content,
          size_t len, chat_done_fn *cb, void *arg)
{
    struct console *c = con(p);
    const char *room = to->room;

    struct strbuf sb;

    (void)title;
    (void)len; /* a document: NUL-terminated, no NUL inside */
    note(c, "pmbot published %s in #%s:", filename, room);
    /* the document escapes its own text; this is the terminal's guard */
    strbuf_init(&sb, 0);
    chat_text_show(&sb, content, CHAT_TEXT_MULTILINE);
    fwrite(sb.buf ? sb.buf : "", 1, sb.len, c->out);
    strbuf_cleanup(&sb);
    fputs("* end of document\n", c->out);
    fflush(c->out);
    if (cb)
        cb(arg, BOT_OK);
}

static int
op_parse_user(struct chat_platform *p, const char *token, char **user_out)
{
    const char *s = token + 1;

    (void)p;
    if (token[0] != '@' || !*s || strlen(s) > 64)
        return BOT_EINVAL;
    for (const char *q = s; *q; q++) {
        if (!isalnum((unsigned char)*q) && !strchr("._-", *q))
            return BOT_EINVAL;
    }
    *user_out = bot_strdup(s);
    return *user_out ? BOT_OK : BOT_ENOMEM;
}

static void
op_destroy(struct chat_platform *p)
{
    struct console *c = con(p);

    loop_lines_free(c->lines);
    for (size_t i = 0; i < c->nmsgs; i++) {
        bot_free(c->msgs[i].room);
        bot_free(c->msgs[i].user);
        bot_free(c->msgs[i].text);
    }
    bot_free(c->msgs);
    for (size_t i = 0; i < c->nrooms; i++)
        bot_free(c->rooms[i]);
    bot_free(c->rooms);
    bot_free(c->user);
    bot_free(c->room);
    bot_free(c);
    bot_free(p);
}

static const struct chat_platform_ops console_ops = {
    .name = "terminal",
    .cmd_prefix = '!',
    /* no threads: nobody can reply in one at the prompt */
    .caps = CHAT_CAN_EPHEMERAL | CHAT_CAN_PRIVATE,
    .open_channel = op_open_channel,
    .invite = op_invite,
    .set_topic = op_set_topic,
    .post = op_post,
    .open_dm = op_open_dm,
    .update = op_update,
    .react = op_react,
    .redact = op_redact,
    .fetch_message = op_fetch_message,
    .pin = op_pin,
    .upload = op_upload,
    .parse_user = op_parse_user,
    .destroy = op_destroy,
};

/* --- input --- */

static void
dispatch(struct chat_platform *p, struct chat_event *ev)
{
    struct console *c = con(p);

    if (!ev->room)
        ev->room = c->room;
    ev->user = c->user;
    ev->platform = p;
    ev->is_dm = c->room[0] == '@';
    ev->cmd_prefix = p->ops->cmd_prefix;
    bot_dispatch(p->bot, ev, NULL, NULL);
}

static void
shell_help(struct console *c)
{
    fputs("* shell: /as <user>, /join <room>, /react <n> <emoji>, "
          "/unreact <n> <emoji>, /edit <n> <text>, /delete <n>, "
          "/clock <YYYY-MM-DDTHH:MM:SSZ|now>, /quit; "
          "bot: /incident ..., /pm ... (or !incident, !pm); "
          "anything else is a message\n",
          c->out);
    fflush(c->out);
}

/* message_ref - "<n> rest": message n must exist; *rest after it */
static struct cmsg *
message_ref(struct console *c, const char *args, char *id, size_t idlen,
            const char **rest)
{
    size_t n = strcspn(args, " \t");
    struct cmsg *m;

    snprintf(id, idlen, "%.*s", (int)(n < idlen - 1 ? n : idlen - 1), args);
    m = find(c, id, NULL);
    if (!m) {
        note(c, "no message [%s]", id);
        return NULL;
    }
    args += n;
    while (*args == ' ' || *args == '\t')
        args++;
    *rest = args;
    return m;
}

static void
shell_command(struct chat_platform *p, const char *cmd, const char *args)
{
    struct console *c = con(p);
    struct chat_event ev = {0};
    struct cmsg *m;
    char id[32];
    const char *rest;
    int64_t at;

    if (!strcmp(cmd, "as") && *args) {
        if (!set_str(&c->user, args))
            note(c, "you are %s", c->user);
    } else if (!strcmp(cmd, "join") && *args) {
        if (!set_str(&c->room, args[0] == '#' ? args + 1 : args))
            note(c, "%s is now in #%s", c->user, c->room);
    } else if ((!strcmp(cmd, "react") || !strcmp(cmd, "unreact")) && *args) {
        m = message_ref(c, args, id, sizeof(id), &rest);
        if (!m)
            return;
        if (!*rest) {
            note(c, "which emoji? /%s <n> <emoji>", cmd);
            return;
        }
        ev.kind = cmd[0] == 'r' ? CHAT_EV_REACTION_ADDED
                                : CHAT_EV_REACTION_REMOVED;
        ev.msg_id = id;
        ev.reaction = rest;
        ev.room = m->room; /* a reaction happens in the message's room */
        ev.at = bot_now_ms(p->bot);
        dispatch(p, &ev);
    } else if (!strcmp(cmd, "edit") && *args) {
        m = message_ref(c, args, id, sizeof(id), &rest);
        if (!m || set_str(&m->text, rest))
            return;
        note(c, "[%s] edited", id);
        ev.kind = CHAT_EV_MESSAGE_CHANGED;
        ev.room = m->room;
        ev.msg_id = id;
        ev.text = rest;
        ev.at = bot_now_ms(p->bot);
        dispatch(p, &ev);
    } else if (!strcmp(cmd, "delete") && *args) {
        m = message_ref(c, args, id, sizeof(id), &rest);
        if (!m)
            return;
        note(c, "[%s] deleted", id);
        ev.kind = CHAT_EV_MESSAGE_DELETED;
        ev.room = m->room;
        ev.msg_id = id;
        ev.at = bot_now_ms(p->bot);
        dispatch(p, &ev);
    } else if (!strcmp(cmd, "clock") && *args) {
        /* a clock moved forward runs the duties it passes */
        if (!strcmp(args, "now"))
            bot_set_now(p->bot, 0);
        else if (!timeutil_parse_iso(args, &at))
            bot_set_now(p->bot, at);
        else
            note(c, "the clock takes YYYY-MM-DDTHH:MM[:SS]Z or now");
    } else if (!strcmp(cmd, "quit")) {
        if (c->loop)
            loop_stop(c->loop);
    } else {
        shell_help(c);
    }
}

/* handle_line - a clean line, as typed */
static void
handle_line(struct chat_platform *p, const char *line)
{
    struct console *c = con(p);
    struct chat_event ev = {0};
    char cmd[32];
    size_t n;

    while (*line == ' ' || *line == '\t')
        line++;
    if (!*line)
        return;
    if (line[0] == '/' && !command_is_command(line)) {
        n = strcspn(line + 1, " \t");
        snprintf(cmd, sizeof(cmd), "%.*s", (int)(n < 31 ? n : 31), line + 1);
        line += 1 + n;
        while (*line == ' ' || *line == '\t')
            line++;
        shell_command(p, cmd, line);
        return;
    }
    ev.kind = CHAT_EV_MESSAGE;
    ev.text = line;
    ev.at = bot_now_ms(p->bot);
    if (!command_is_command(line)) {
        /* a message: shown and numbered before the bot sees it */
        n = record(c, c->room, c->user, line, ev.at);
        if (!n)
            return;
        print_msg(c, n, c->room, c->user, line);
        snprintf(cmd, sizeof(cmd), "%zu", n);
        ev.msg_id = cmd;
    }
    dispatch(p, &ev);
}

void
console_line(struct chat_platform *p, const char *line, size_t len)
{
    struct strbuf sb;

    /* refused whole, never cut: a cut "!pm action" loses its assignee */
    if (len > CONSOLE_LINE_MAX) {
        note(con(p), "that line is longer than %d bytes: not sent",
             CONSOLE_LINE_MAX);
        return;
    }
    /* the whole line, through the sanitiser: a NUL byte is dropped like
     * every control character, and what follows it is kept */
    strbuf_init(&sb, 0);
    if (!chat_text_clean(&sb, line, len, 0))
        handle_line(p, strbuf_str(&sb));
    strbuf_cleanup(&sb);
}

static void
on_line(void *arg, const char *line, size_t len)
{
    struct chat_platform *p = arg;
    struct console *c = con(p);

    if (!line) {
        if (c->loop && c->stop_at_eof)
            loop_stop(c->loop);
        return;
    }
    console_line(p, line, len);
}

int
console_attach(struct chat_platform *p, struct loop *loop, int fd,
               int stop_at_eof)
{
    struct console *c = con(p);

    c->loop = loop;
    c->stop_at_eof = stop_at_eof;
    /* one byte over the limit tells a line that is too long from one that
     * is exactly as long as allowed */
    return loop_read_lines(loop, fd, CONSOLE_LINE_MAX + 1, on_line, p,
                           &c->lines);
}

int
console_new(FILE *out, const char *user, struct chat_platform **pout)
{
    struct chat_platform *p = bot_calloc(1, sizeof(*p));
    struct console *c = bot_calloc(1, sizeof(*c));

    if (!p || !c || !(c->user = bot_strdup(user)) ||
        !(c->room = bot_strdup("general"))) {
        if (c) {
            bot_free(c->user);
            bot_free(c);
        }
        bot_free(p);
        return BOT_ENOMEM;
    }
    c->out = out;
    p->ops = &console_ops;
    p->priv = c;
    *pout = p;
    return BOT_OK;
}
