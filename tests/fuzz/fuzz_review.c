/*
 * fuzz_review - replies to the blameless review, each line one reply in
 * the review's thread of a resolved SEV1 incident on the fake platform
 * (a new bot on :memory: per input), so every answer, steering word,
 * layer list and accept reaches the conversation (bot/incident/review.c);
 * a line starting with '#' is said in the channel outside the thread, one
 * starting with '$' is a slash command. Each line also goes through the
 * pure parsers of review.h, whose promises are checked: a layer mask
 * within the eight, an edit's text inside the reply and non-empty, an
 * accept mask within the proposals. The review's state must stay valid.
 */
#include "fuzz.h"

#include "../fake_platform.h"
#include "bot.h"
#include "chat.h"
#include "config.h"
#include "err.h"
#include "mem.h"
#include "review.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1793507880000LL
#define MAX_LINES 48

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
parsers(const char *line)
{
    unsigned mask;
    char *bad = NULL;
    const char *text;
    long n;
    int steer;

    if (!review_parse_layers(line, &mask, &bad) &&
        (mask & ~REVIEW_ALL_LAYERS))
        abort();
    if (bad && strlen(bad) > 64)
        abort();
    bot_free(bad);
    steer = review_parse_steer(line, &n, &text);
    if (steer == REVIEW_EDIT &&
        (n <= 0 || text < line || text >= line + strlen(line) || !*text))
        abort();
    if (steer == REVIEW_USAGE && !text)
        abort();
    if (!review_parse_accept(line, 3, &mask) && (mask & ~7u))
        abort();
    (void)review_parse_found(line);
    (void)review_parse_yes(line);
}

static void
event(struct bot *b, struct chat_platform *p, int kind, const char *room,
      const char *thread, const char *text, int n)
{
    struct chat_event ev = {0};
    char id[32];

    snprintf(id, sizeof(id), "u%d", n);
    ev.kind = kind;
    ev.platform = p;
    ev.room = room;
    ev.user = n % 2 ? "bob" : "carol";
    ev.msg_id = id;
    ev.thread_id = thread;
    ev.text = text;
    ev.cmd_prefix = '/';
    b->core.fixed_now += 60000;
    ev.at = b->core.fixed_now;
    bot_dispatch(b, &ev, NULL, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bot *b = NULL;
    struct chat_platform *p;
    struct fake_platform *f;
    struct review_row r;
    char thread[32] = "";
    char *line;

    if (bot_new(&cfg, NULL, &b, NULL))
        abort();
    p = fake_platform_new();
    bot_set_platform(b, p);
    bot_start(b);
    b->core.fixed_now = T0;
    event(b, p, CHAT_EV_COMMAND, "general", NULL,
          "incident start sev1 Vault drained", -1);
    event(b, p, CHAT_EV_COMMAND, "C1", NULL, "incident resolve", -2);
    event(b, p, CHAT_EV_COMMAND, "C1", NULL, "pm start", -3);
    f = fake_of(p);
    for (size_t i = 0; i < f->nposts; i++) {
        if (!strncmp(f->posts[i].text, "Blameless review of INC-1 \xc2\xb7",
                     27))
            snprintf(thread, sizeof(thread), "m%zu", i + 1);
    }
    if (!*thread)
        abort(); /* the review did not start */
    for (int n = 1; size && n <= MAX_LINES; n++) {
        line = fuzz_line(&data, &size);
        if (!line)
            break;
        parsers(line);
        if (line[0] == '$')
            event(b, p, CHAT_EV_COMMAND, "C1", NULL, line + 1, n);
        else if (line[0] == '#')
            event(b, p, CHAT_EV_MESSAGE, "C1", NULL, line + 1, n);
        else
            event(b, p, CHAT_EV_MESSAGE, "C1", thread, line, n);
        bot_free(line);
    }
    if (store_review_get(b->core.store, 1, &r) || r.step < 0 ||
        r.step > REVIEW_END || r.state < REVIEW_RUNNING ||
        r.state > REVIEW_DONE || (r.applied > 0 && r.applied > 255))
        abort();
    store_review_clear(&r);
    bot_destroy(b);
    return 0;
}
