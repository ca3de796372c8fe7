/*
 * fuzz_dm - lines typed in a direct conversation with pmbot, as answers
 * to a weekly reminder (`done ACT-1`, `snooze ACT-2 1w`, `due ACT-1
 * 2027-01-15`, `reassign ACT-2 @carol`, `reopen ACT-1`, anything else),
 * on a new bot on :memory: per input with an incident and two actions:
 * every line gets an answer, nothing crashes, and the actions stay
 * well-formed (an assignee, a real date, open or done).
 * A line starting with '@' sets who types the next ones.
 */
#include "fuzz.h"

#include "../fake_platform.h"
#include "bot.h"
#include "chat.h"
#include "config.h"
#include "err.h"
#include "mem.h"
#include "store.h"
#include "timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1793507880000LL
#define MAX_LINES 32

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

static void
event(struct bot *b, struct chat_platform *p, const char *room,
      const char *user, const char *text, int kind, int n, int *ndone)
{
    struct chat_event ev = {0};
    char id[32];

    snprintf(id, sizeof(id), "d%d", n);
    ev.kind = kind;
    ev.platform = p;
    ev.room = room;
    ev.user = user;
    ev.msg_id = id;
    ev.text = text;
    ev.is_dm = room[0] == 'D';
    ev.cmd_prefix = '/';
    b->core.fixed_now += 60000;
    ev.at = b->core.fixed_now;
    bot_dispatch(b, &ev, done, ndone);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bot *b = NULL;
    struct chat_platform *p;
    struct action *list = NULL;
    char user[32] = "bob";
    size_t n = 0;
    int ndone = 0, nsent = 0;
    char *line;

    if (bot_new(&cfg, NULL, &b, NULL))
        abort();
    p = fake_platform_new();
    bot_set_platform(b, p);
    bot_start(b);
    b->core.fixed_now = T0;
    event(b, p, "general", "alice", "incident start Cache stampede",
          CHAT_EV_COMMAND, -1, &ndone);
    event(b, p, "C1", "alice", "pm action Add jitter @bob 2026-12-01",
          CHAT_EV_COMMAND, -2, &ndone);
    event(b, p, "C1", "alice", "pm action Page on misses @carol 2026-12-02",
          CHAT_EV_COMMAND, -3, &ndone);
    nsent = 3;
    for (int k = 1; size && k <= MAX_LINES; k++) {
        line = fuzz_line(&data, &size);
        if (!line)
            break;
        if (line[0] == '@') {
            snprintf(user, sizeof(user), "%s", line[1] ? line + 1 : "x");
            bot_free(line);
            continue;
        }
        event(b, p, "D-dm", user, line, CHAT_EV_MESSAGE, k, &ndone);
        nsent++;
        bot_free(line);
    }
    if (store_action_list(b->core.store, 0, 1, &list, &n) || n != 2)
        abort();
    for (size_t i = 0; i < n; i++) {
        int64_t ms;

        if (!list[i].assignee || !*list[i].assignee ||
            timeutil_parse_date(list[i].due_date, &ms) ||
            (list[i].status != ACTION_OPEN && list[i].status != ACTION_DONE))
            abort();
    }
    store_action_list_free(list, n);
    bot_destroy(b);
    if (ndone != nsent)
        abort(); /* every line is answered */
    return 0;
}
