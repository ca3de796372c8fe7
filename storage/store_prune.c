/*
 * store_prune.c - deleting what only serves for a while, in batches small
 * enough to share a group commit without delaying it.
 */
#include "store_int.h"

#include "err.h"

static int
prune(struct store *s, enum stmt_id id, int64_t before, int limit, int *n)
{
    sqlite3_stmt *st = store_stmt(s, id);
    int rc;

    sqlite3_bind_int64(st, 1, before);
    sqlite3_bind_int(st, 2, limit);
    rc = store_done(s, st);
    if (rc)
        return rc;
    *n = sqlite3_changes(s->db);
    return BOT_OK;
}

int
store_prune_events(struct store *s, int64_t before, int limit, int *n)
{
    return prune(s, ST_PRUNE_EVENTS, before, limit, n);
}

int
store_prune_messages(struct store *s, int64_t before, int limit, int *n)
{
    return prune(s, ST_PRUNE_MESSAGES, before, limit, n);
}

int
store_prune_jobs(struct store *s, int64_t before, int limit, int *n)
{
    return prune(s, ST_PRUNE_JOBS, before, limit, n);
}

int
store_prune_reactions(struct store *s, int64_t before, int limit, int *n)
{
    return prune(s, ST_PRUNE_REACTIONS, before, limit, n);
}

int
store_prune_periods(struct store *s, int64_t before, int limit, int *n)
{
    return prune(s, ST_PRUNE_PERIODS, before, limit, n);
}
