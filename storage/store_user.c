/*
 * store_user.c - users' display names, kept so a mention (<@U123>) can be
 * shown by name without a platform call.
 */
#include "store_int.h"

#include "err.h"

int
store_user_put(struct store *s, const char *platform, const char *user_id,
               const char *name, int64_t at)
{
    sqlite3_stmt *st = store_stmt(s, ST_USER_PUT);

    store_bind_text(st, 1, platform);
    store_bind_text(st, 2, user_id);
    store_bind_text(st, 3, name);
    sqlite3_bind_int64(st, 4, at);
    return store_done(s, st);
}

int
store_user_set_tz(struct store *s, const char *platform, const char *user_id,
                  const char *tz)
{
    sqlite3_stmt *st = store_stmt(s, ST_USER_SET_TZ);

    store_bind_text(st, 1, platform);
    store_bind_text(st, 2, user_id);
    store_bind_text(st, 3, tz);
    return store_update_one(s, st);
}

int
store_user_tz(struct store *s, const char *platform, const char *user_id,
              char **tz)
{
    sqlite3_stmt *st = store_stmt(s, ST_USER_TZ);

    store_bind_text(st, 1, platform);
    store_bind_text(st, 2, user_id);
    return store_one(s, st, store_read_text, tz, "user zone");
}

int
store_user_name(struct store *s, const char *platform, const char *user_id,
                char **name)
{
    sqlite3_stmt *st = store_stmt(s, ST_USER_NAME);

    store_bind_text(st, 1, platform);
    store_bind_text(st, 2, user_id);
    return store_one(s, st, store_read_text, name, "user lookup");
}
