/*
 * store_remind.c - reminder periods, claimed once (see store.h).
 */
#include "store_int.h"

#include "err.h"

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
