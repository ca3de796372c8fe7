/*
 * store_outbox.c - the outbox's rows and the scheduler's jobs.
 */
#include "store_int.h"

#include "err.h"
#include "mem.h"

#include <string.h>

int
store_outbox_add(struct store *s, const struct outbox_row *r,
                 int64_t created_at, int64_t *id)
{
    sqlite3_stmt *st = store_stmt(s, ST_OUTBOX_ADD);
    int rc;

    store_bind_text(st, 1, r->platform);
    sqlite3_bind_int(st, 2, r->kind);
    store_bind_text(st, 3, r->room);
    store_bind_text(st, 4, r->thread_id);
    store_bind_text(st, 5, r->user);
    sqlite3_bind_int(st, 6, r->flags);
    store_bind_opt_int(st, 7, r->ref);
    store_bind_text(st, 8, r->msg_id);
    store_bind_text(st, 9, r->body ? r->body : "");
    store_bind_text(st, 10, r->extra);
    sqlite3_bind_int64(st, 11, created_at);
    rc = store_done(s, st);
    if (!rc && id)
        *id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

void
store_outbox_row_clear(struct outbox_row *r)
{
    bot_free(r->platform);
    bot_free(r->room);
    bot_free(r->thread_id);
    bot_free(r->user);
    bot_free(r->msg_id);
    bot_free(r->body);
    bot_free(r->extra);
    memset(r, 0, sizeof(*r));
}

static void
clear_row(void *p)
{
    store_outbox_row_clear(p);
}

static int
read_row(sqlite3_stmt *st, void *p)
{
    struct outbox_row *r = p;
    int rc = BOT_OK;

    memset(r, 0, sizeof(*r));
    r->id = sqlite3_column_int64(st, 0);
    r->platform = store_col_text(st, 1, &rc);
    r->kind = sqlite3_column_int(st, 2);
    r->room = store_col_text(st, 3, &rc);
    r->thread_id = store_col_text(st, 4, &rc);
    r->user = store_col_text(st, 5, &rc);
    r->flags = sqlite3_column_int(st, 6);
    r->ref = sqlite3_column_int64(st, 7);
    r->msg_id = store_col_text(st, 8, &rc);
    r->body = store_col_text(st, 9, &rc);
    r->extra = store_col_text(st, 10, &rc);
    r->attempts = sqlite3_column_int(st, 11);
    r->next_at = sqlite3_column_int64(st, 12);
    if (rc)
        store_outbox_row_clear(r);
    return rc;
}

int
store_outbox_heads(struct store *s, const char *platform, int limit,
                   struct outbox_row **out, size_t *n)
{
    sqlite3_stmt *st = store_stmt(s, ST_OUTBOX_PENDING);

    store_bind_text(st, 1, platform);
    sqlite3_bind_int(st, 2, limit);
    return store_collect(s, st, sizeof(**out), read_row, clear_row,
                         (void **)out, n);
}

void
store_outbox_list_free(struct outbox_row *arr, size_t n)
{
    for (size_t i = 0; i < n; i++)
        store_outbox_row_clear(&arr[i]);
    bot_free(arr);
}

int
store_outbox_done(struct store *s, int64_t id, const char *msg_id,
                  int64_t at)
{
    sqlite3_stmt *st = store_stmt(s, ST_OUTBOX_DONE);

    sqlite3_bind_int64(st, 1, id);
    store_bind_text(st, 2, msg_id);
    sqlite3_bind_int64(st, 3, at);
    return store_done(s, st);
}

int
store_outbox_retry(struct store *s, int64_t id, int attempts,
                   int64_t next_at)
{
    sqlite3_stmt *st = store_stmt(s, ST_OUTBOX_RETRY);

    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, attempts);
    sqlite3_bind_int64(st, 3, next_at);
    return store_done(s, st);
}

int
store_outbox_fail(struct store *s, int64_t id, int64_t at)
{
    sqlite3_stmt *st = store_stmt(s, ST_OUTBOX_FAIL);

    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, at);
    return store_done(s, st);
}

struct result {
    char **msg_id;
    int *state;
};

static int
read_result(sqlite3_stmt *st, void *p)
{
    struct result *r = p;
    int rc = BOT_OK;

    *r->msg_id = store_col_text(st, 0, &rc);
    *r->state = sqlite3_column_int(st, 1);
    return rc;
}

int
store_outbox_result(struct store *s, int64_t id, char **msg_id, int *state)
{
    sqlite3_stmt *st = store_stmt(s, ST_OUTBOX_RESULT);
    struct result r = {msg_id, state};

    *msg_id = NULL;
    sqlite3_bind_int64(st, 1, id);
    return store_one(s, st, read_result, &r, "outbox result");
}

int
store_outbox_max_id(struct store *s, int64_t *id)
{
    return store_one(s, store_stmt(s, ST_OUTBOX_MAX), store_read_i64, id,
                     "outbox max");
}

int
store_outbox_count(struct store *s, long *n)
{
    int64_t v = 0;
    int rc = store_one(s, store_stmt(s, ST_OUTBOX_COUNT), store_read_i64, &v,
                       "outbox count");

    *n = (long)v;
    return rc;
}

int
store_outbox_about(struct store *s, const char *platform, const char *msg_id,
                   char **about)
{
    sqlite3_stmt *st = store_stmt(s, ST_OUTBOX_ABOUT);

    *about = NULL;
    store_bind_text(st, 1, platform);
    store_bind_text(st, 2, msg_id);
    return store_one(s, st, store_read_text, about, "outbox about");
}

int
store_prune_outbox(struct store *s, int64_t before, int limit, int *n)
{
    sqlite3_stmt *st = store_stmt(s, ST_PRUNE_OUTBOX);
    int rc;

    sqlite3_bind_int64(st, 1, before);
    sqlite3_bind_int(st, 2, limit);
    rc = store_done(s, st);
    *n = rc ? 0 : sqlite3_changes(s->db);
    return rc;
}

/* --- jobs --- */

int
store_job_add(struct store *s, const char *kind, int64_t subject,
              const char *period, int64_t due_at)
{
    sqlite3_stmt *st = store_stmt(s, ST_JOB_ADD);

    store_bind_text(st, 1, kind);
    sqlite3_bind_int64(st, 2, subject);
    store_bind_text(st, 3, period);
    sqlite3_bind_int64(st, 4, due_at);
    return store_done(s, st);
}

static void
clear_job(void *p)
{
    struct job *j = p;

    bot_free(j->kind);
    bot_free(j->period);
}

static int
read_job(sqlite3_stmt *st, void *p)
{
    struct job *j = p;
    int rc = BOT_OK;

    j->kind = store_col_text(st, 0, &rc);
    j->subject = sqlite3_column_int64(st, 1);
    j->period = store_col_text(st, 2, &rc);
    j->due_at = sqlite3_column_int64(st, 3);
    if (rc)
        clear_job(j);
    return rc;
}

int
store_job_due(struct store *s, int64_t now, int limit, struct job **out,
              size_t *n)
{
    sqlite3_stmt *st = store_stmt(s, ST_JOB_DUE);

    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int(st, 2, limit);
    return store_collect(s, st, sizeof(**out), read_job, clear_job,
                         (void **)out, n);
}

void
store_job_list_free(struct job *arr, size_t n)
{
    for (size_t i = 0; i < n; i++)
        clear_job(&arr[i]);
    bot_free(arr);
}

int
store_job_claim(struct store *s, const struct job *j, int64_t at,
                int *claimed)
{
    sqlite3_stmt *st = store_stmt(s, ST_JOB_CLAIM);
    int rc;

    store_bind_text(st, 1, j->kind);
    sqlite3_bind_int64(st, 2, j->subject);
    store_bind_text(st, 3, j->period);
    sqlite3_bind_int64(st, 4, at);
    rc = store_done(s, st);
    *claimed = !rc && sqlite3_changes(s->db) == 1;
    return rc;
}

int
store_job_postpone(struct store *s, const struct job *j, int64_t due_at)
{
    sqlite3_stmt *st = store_stmt(s, ST_JOB_POSTPONE);

    store_bind_text(st, 1, j->kind);
    sqlite3_bind_int64(st, 2, j->subject);
    store_bind_text(st, 3, j->period);
    sqlite3_bind_int64(st, 4, due_at);
    return store_done(s, st);
}

static int
read_next(sqlite3_stmt *st, void *p)
{
    if (sqlite3_column_type(st, 0) == SQLITE_NULL)
        return BOT_ENOTFOUND;
    *(int64_t *)p = sqlite3_column_int64(st, 0);
    return BOT_OK;
}

int
store_job_next(struct store *s, int64_t *due_at)
{
    return store_one(s, store_stmt(s, ST_JOB_NEXT), read_next, due_at,
                     "next job");
}
