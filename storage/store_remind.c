/*
 * store_remind.c - reminder periods, claimed once (see store.h).
 */
#include "store_int.h"

#include "err.h"

#include <string.h>

int
store_period_claim(struct store *s, const char *kind, const char *subject,
                   const char *period, int64_t at, int *first)
{
    sqlite3_stmt *st = store_stmt(s, ST_PERIOD_CLAIM);
    int rc;

    store_bind_text(st, 1, kind);
    store_bind_text(st, 2, subject);
    store_bind_text(st, 3, period);
    sqlite3_bind_int64(st, 4, at);
    rc = store_done(s, st);
    *first = !rc && sqlite3_changes(s->db) > 0;
    return rc;
}

int
store_period_seen(struct store *s, const char *kind, const char *subject,
                  const char *period, int *seen)
{
    sqlite3_stmt *st = store_stmt(s, ST_PERIOD_SEEN);
    int64_t n = 0;
    int rc;

    store_bind_text(st, 1, kind);
    store_bind_text(st, 2, subject);
    store_bind_text(st, 3, period);
    rc = store_one(s, st, store_read_i64, &n, "reminder period");
    *seen = n > 0;
    return rc;
}

int
store_action_each(struct store *s, int which, const char *today, long limit,
                  int (*fn)(void *ctx, const struct action_row *r),
                  void *ctx)
{
    static const enum stmt_id ids[] = {
        [STORE_EACH_BY_ASSIGNEE] = ST_ACT_EACH_BY_ASSIGNEE,
        [STORE_EACH_OVERDUE] = ST_ACT_EACH_OVERDUE,
        [STORE_EACH_BY_INCIDENT] = ST_ACT_EACH_BY_INCIDENT,
    };
    sqlite3_stmt *st;
    int rc = BOT_OK, step;

    if (which < 0 || which > STORE_EACH_BY_INCIDENT)
        return BOT_EINVAL;
    st = store_stmt(s, ids[which]);
    if (which == STORE_EACH_OVERDUE)
        store_bind_text(st, 1, today);
    else if (which == STORE_EACH_BY_INCIDENT)
        sqlite3_bind_int64(st, 1, limit);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct action_row r;

        r.id = sqlite3_column_int64(st, 0);
        r.incident_id = sqlite3_column_int64(st, 1);
        r.text = (const char *)sqlite3_column_text(st, 2);
        r.assignee = (const char *)sqlite3_column_text(st, 3);
        r.due_date = (const char *)sqlite3_column_text(st, 4);
        r.snoozed_until = (const char *)sqlite3_column_text(st, 5);
        r.created_at = sqlite3_column_int64(st, 6);
        r.platform = (const char *)sqlite3_column_text(st, 7);
        r.channel = (const char *)sqlite3_column_text(st, 8);
        if (!r.text || !r.assignee || !r.due_date || !r.platform)
            continue; /* NOT NULL columns: only a failed allocation */
        rc = fn(ctx, &r);
        if (rc)
            break;
    }
    if (!rc && step != SQLITE_DONE)
        rc = store_fail(s, st, "actions walk");
    sqlite3_reset(st);
    return rc;
}

static int
read_stats(sqlite3_stmt *st, void *p)
{
    struct action_stats *o = p;

    o->open = (long)sqlite3_column_int64(st, 0);
    o->overdue = (long)sqlite3_column_int64(st, 1);
    o->opened = (long)sqlite3_column_int64(st, 2);
    o->completed = (long)sqlite3_column_int64(st, 3);
    o->open_at_until = (long)sqlite3_column_int64(st, 4);
    o->oldest = sqlite3_column_int64(st, 5);
    return BOT_OK;
}

int
store_action_stats(struct store *s, int64_t since, int64_t until,
                   const char *today, struct action_stats *out)
{
    sqlite3_stmt *st = store_stmt(s, ST_ACT_STATS);

    memset(out, 0, sizeof(*out));
    sqlite3_bind_int64(st, 1, since);
    sqlite3_bind_int64(st, 2, until);
    store_bind_text(st, 3, today);
    return store_one(s, st, read_stats, out, "action counts");
}

int
store_assignee_channel(struct store *s, const char *platform,
                       const char *user, char **channel)
{
    sqlite3_stmt *st = store_stmt(s, ST_ASSIGNEE_CHANNEL);

    *channel = NULL;
    store_bind_text(st, 1, platform);
    store_bind_text(st, 2, user);
    return store_one(s, st, store_read_text, channel, "assignee channel");
}
