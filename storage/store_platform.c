/*
 * store_platform.c - what a platform keeps between runs (platform_state)
 * and reactions by their own id (reaction_refs); see store.h.
 */
#include "store_int.h"

#include "err.h"
#include "mem.h"

#include <string.h>

int
store_state_get(struct store *s, const char *platform, const char *key,
                char **value)
{
    sqlite3_stmt *st = store_stmt(s, ST_STATE_GET);

    store_bind_text(st, 1, platform);
    store_bind_text(st, 2, key);
    return store_one(s, st, store_read_text, value, "platform state");
}

int
store_state_put(struct store *s, const char *platform, const char *key,
                const char *value, int64_t at)
{
    sqlite3_stmt *st = store_stmt(s, ST_STATE_PUT);

    store_bind_text(st, 1, platform);
    store_bind_text(st, 2, key);
    store_bind_text(st, 3, value);
    sqlite3_bind_int64(st, 4, at);
    return store_done(s, st);
}

int
store_reaction_put(struct store *s, const char *platform,
                   const char *reaction_id, const char *room,
                   const char *msg_id, const char *emoji, const char *user,
                   int64_t at)
{
    sqlite3_stmt *st = store_stmt(s, ST_REACTION_PUT);

    store_bind_text(st, 1, platform);
    store_bind_text(st, 2, reaction_id);
    store_bind_text(st, 3, room);
    store_bind_text(st, 4, msg_id);
    store_bind_text(st, 5, emoji);
    store_bind_text(st, 6, user);
    sqlite3_bind_int64(st, 7, at);
    return store_done(s, st);
}

static int
read_reaction(sqlite3_stmt *st, void *p)
{
    struct store_reaction *r = p;
    int rc = BOT_OK;

    r->room = store_col_text(st, 0, &rc);
    r->msg_id = store_col_text(st, 1, &rc);
    r->emoji = store_col_text(st, 2, &rc);
    r->user = store_col_text(st, 3, &rc);
    if (rc)
        store_reaction_clear(r);
    return rc;
}

int
store_reaction_get(struct store *s, const char *platform,
                   const char *reaction_id, struct store_reaction *out)
{
    sqlite3_stmt *st = store_stmt(s, ST_REACTION_GET);

    memset(out, 0, sizeof(*out));
    store_bind_text(st, 1, platform);
    store_bind_text(st, 2, reaction_id);
    return store_one(s, st, read_reaction, out, "reaction");
}

void
store_reaction_clear(struct store_reaction *r)
{
    bot_free(r->room);
    bot_free(r->msg_id);
    bot_free(r->emoji);
    bot_free(r->user);
    memset(r, 0, sizeof(*r));
}
