/*
 * fuzz_commands - chat lines through the real command router: each input
 * is a conversation dispatched with bot_dispatch() into a new bot on a
 * :memory: database and the recording fake platform (tests/fake_platform.c),
 * as tests/test_commands.c builds it. One event per line:
 *   #ROOM       later lines happen in ROOM (default "general"; "D..." is a
 *               direct conversation; incident channels are C1, C2, ...)
 *   @USER       later lines are said by USER (default "alice")
 *   +ID / -ID   USER adds / removes the timeline emoji on message ID
 *   =ID TEXT    message ID now reads TEXT;  ^ID  message ID is deleted
 *   $TEXT       a slash command ("$incident start x")
 *   &TS TEXT    a reply in thread TS
 *   anything else: a message, id m<line number>
 * A line ending in '\' goes on on the next one, the newline kept (Slack
 * messages and slash command texts may span lines).
 * The clock starts at 2026-11-01T04:38Z and moves a minute per line.
 */
#include "fuzz.h"

#include "../fake_platform.h"
#include "bot.h"
#include "chat.h"
#include "config.h"
#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1793507880000LL
#define MAX_EVENTS 64 /* lines read from one input */

static struct config cfg;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_bot_config(&cfg);
    return 0;
}

static void
done(void *arg, int rc)
{
    (void)rc;
    ++*(int *)arg;
}

/* next_line - the next line, continuations joined (new: bot_free) */
static char *
next_line(const uint8_t **data, size_t *size)
{
    char *line = fuzz_line(data, size), *more, *joined;
    size_t n;

    while (line && (n = strlen(line)) && line[n - 1] == '\\' && *size) {
        more = fuzz_line(data, size);
        joined = more ? bot_realloc(line, n + strlen(more) + 1) : NULL;
        if (!joined) {
            bot_free(more);
            return line;
        }
        joined[n - 1] = '\n';
        strcpy(joined + n, more);
        bot_free(more);
        line = joined;
    }
    return line;
}

/* split "ID rest" in place: the id, *rest the text after one blank */
static char *
id_and_rest(char *s, char **rest)
{
    char *sp = strchr(s, ' ');

    *rest = sp ? sp + 1 : "";
    if (sp)
        *sp = '\0';
    return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bot *b = NULL;
    struct chat_platform *p;
    char room[32] = "general", user[32] = "alice", id[32], *line, *rest;
    int ndone = 0, nsent = 0;

    if (bot_new(&cfg, NULL, &b, NULL))
        abort();
    p = fake_platform_new();
    bot_set_platform(b, p);
    bot_start(b);
    b->core.fixed_now = T0;
    for (int n = 1; size && n <= MAX_EVENTS; n++) {
        struct chat_event ev = {0};

        line = next_line(&data, &size);
        if (!line)
            break;
        b->core.fixed_now += 60000;
        ev.room = room;
        ev.user = user;
        ev.at = b->core.fixed_now;
        ev.is_dm = room[0] == 'D';
        ev.cmd_prefix = '/';
        snprintf(id, sizeof(id), "m%d", n);
        switch (line[0]) {
        case '#':
        case '@':
            snprintf(line[0] == '#' ? room : user, sizeof(room), "%s",
                     line[1] ? line + 1 : "x");
            bot_free(line);
            continue;
        case '+':
        case '-':
            ev.kind = line[0] == '+' ? CHAT_EV_REACTION_ADDED
                                     : CHAT_EV_REACTION_REMOVED;
            ev.msg_id = line + 1;
            ev.reaction = cfg.timeline_emoji_name;
            break;
        case '=':
            ev.kind = CHAT_EV_MESSAGE_CHANGED;
            ev.msg_id = id_and_rest(line + 1, &rest);
            ev.text = rest;
            break;
        case '^':
            ev.kind = CHAT_EV_MESSAGE_DELETED;
            ev.msg_id = line + 1;
            break;
        case '$':
            ev.kind = CHAT_EV_COMMAND;
            ev.text = line + 1;
            ev.msg_id = id;
            break;
        case '&':
            ev.kind = CHAT_EV_MESSAGE;
            ev.thread_id = id_and_rest(line + 1, &rest);
            ev.text = rest;
            ev.msg_id = id;
            break;
        default:
            ev.kind = CHAT_EV_MESSAGE;
            ev.text = line;
            ev.msg_id = id;
        }
        /* what a reaction's fetch of this message finds */
        if (ev.msg_id == id && fake_of(p)->nmsgs < 16)
            fake_platform_add_message(p, room, id, user, ev.text, ev.at);
        bot_dispatch(b, &ev, done, &ndone);
        nsent++;
        bot_free(line);
    }
    bot_destroy(b);
    /* every event is answered, also those cancelled by the teardown */
    if (ndone != nsent)
        __builtin_trap();
    return 0;
}
