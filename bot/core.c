/*
 * core.c - the clock and the platform lookup the domain modules share.
 */
#include "core.h"

#include "chat.h"
#include "timeutil.h"

#include <string.h>

int64_t
core_now_ms(const struct core *c)
{
    return c->fixed_now ? c->fixed_now : timeutil_now_ms();
}

struct chat_platform *
core_platform(const struct core *c, const char *name)
{
    for (size_t i = 0; i < c->nplatforms; i++) {
        if (!strcmp(c->platforms[i]->ops->name, name))
            return c->platforms[i];
    }
    return NULL;
}
