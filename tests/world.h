/*
 * world.h - a bot for unit tests: the real bot on a scratch database file
 * with the recording fake platform (fake_platform.h), its clock fixed.
 * Owns: the bot, its configuration and the file (removed by world_end).
 */
#ifndef PMBOT_WORLD_H
#define PMBOT_WORLD_H

#include "config.h"

#include <stdint.h>

struct bot;
struct chat_platform;

struct world {
    struct config cfg;
    struct bot *b;
    struct chat_platform *p; /* a fake_platform */
    char path[64];
    int64_t t0; /* the clock world_open fixes */
};

/* world_begin - defaults, a database /tmp/pmbot-<name>-<pid>.db made new,
 * then world_open(w, start); a new world (free with world_end). */
struct world *world_begin(const char *name, int64_t t0, int start);
/* world_open - a bot on w's database with a new fake platform, its clock
 * at w->t0; started (the outbox and scheduler running) if start. Called
 * again after bot_destroy(w->b), it is a restart. */
void world_open(struct world *w, int start);
/* world_end - destroy the bot, remove the files, free w. */
void world_end(struct world *w);

#endif
