/*
 * world.c - a bot for unit tests (world.h).
 */
#include "world.h"

#include "bot.h"
#include "err.h"
#include "fake_platform.h"
#include "mem.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void
world_open(struct world *w, int start)
{
    assert_int_equal(bot_new(&w->cfg, NULL, &w->b, NULL), BOT_OK);
    w->p = fake_platform_new();
    bot_set_platform(w->b, w->p);
    w->b->core.fixed_now = w->t0;
    if (start)
        bot_start(w->b);
}

struct world *
world_begin(const char *name, int64_t t0, int start)
{
    struct world *w = calloc(1, sizeof(*w));

    assert_non_null(w);
    snprintf(w->path, sizeof(w->path), "/tmp/pmbot-%s-%d.db", name,
             (int)getpid());
    unlink(w->path);
    assert_int_equal(config_defaults(&w->cfg), BOT_OK);
    bot_free(w->cfg.database);
    w->cfg.database = bot_strdup(w->path);
    w->t0 = t0;
    world_open(w, start);
    return w;
}

void
world_end(struct world *w)
{
    char more[80];

    bot_destroy(w->b);
    config_cleanup(&w->cfg);
    unlink(w->path);
    snprintf(more, sizeof(more), "%s-wal", w->path);
    unlink(more);
    snprintf(more, sizeof(more), "%s-shm", w->path);
    unlink(more);
    snprintf(more, sizeof(more), "%s.lock", w->path);
    unlink(more);
    free(w);
}
