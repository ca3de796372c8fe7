/*
 * core.h - what the domain modules (incidents, timeline, actions, the
 * scheduler's duties, commands) share, so none of them needs the router
 * (bot.h): the configuration, the store, the unit runner, the outbox, the
 * connected platforms and the clock.
 *
 * Owns nothing: struct bot (bot.c) owns every member and outlives every
 * user of it. Strings returned are borrowed.
 */
#ifndef PMBOT_CORE_H
#define PMBOT_CORE_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct store;
struct loop;
struct units;
struct outbox;
struct chat_platform;

struct core {
    const struct config *cfg;
    struct store *store;
    struct loop *loop;                 /* NULL in unit tests, offline runs */
    struct units *units;
    struct outbox *outbox;
    struct chat_platform **platforms;  /* connected, in configured order */
    size_t nplatforms;
    int64_t fixed_now;                 /* UTC ms; 0 = the wall clock */
    int jobs_added;                    /* a duty scheduled: the scheduler
                                          looks again after the commit */
};

/* core_now_ms - the bot's clock: PMBOT_NOW / --now / /clock, or the wall. */
int64_t core_now_ms(const struct core *c);

/* core_platform - the connected platform of that name, or NULL. */
struct chat_platform *core_platform(const struct core *c, const char *name);

#endif
