/*
 * store_review.c - the blameless review's state (table reviews) and its
 * answers (table answers). See store.h.
 */
#include "store_int.h"

#include "err.h"
#include "mem.h"

#include <string.h>

void
store_review_clear(struct review_row *r)
{
    bot_free(r->started_by);
    bot_free(r->thread_id);
    memset(r, 0, sizeof(*r));
}

static int
read_review(sqlite3_stmt *st, void *p)
{
    struct review_row *r = p;
    int rc = BOT_OK;

    r->incident_id = sqlite3_column_int64(st, 0);
    r->state = sqlite3_column_int(st, 1);
    r->step = sqlite3_column_int(st, 2);
    r->layers_only = sqlite3_column_int(st, 3);
    r->thread_row = sqlite3_column_int64(st, 4);
    r->found = sqlite3_column_int(st, 5);
    r->applied = sqlite3_column_int64(st, 6);
    r->caught = (unsigned)sqlite3_column_int64(st, 7);
    r->asked = (unsigned)sqlite3_column_int64(st, 8);
    r->skipped = (unsigned)sqlite3_column_int64(st, 9);
    r->accepted = sqlite3_column_int64(st, 10);
    r->root_action = sqlite3_column_int64(st, 11);
    r->started_by = store_col_text(st, 12, &rc);
    r->started_at = sqlite3_column_int64(st, 13);
    r->updated_at = sqlite3_column_int64(st, 14);
    r->thread_id = store_col_text(st, 15, &rc);
    r->full_done = sqlite3_column_int(st, 16);
    return rc;
}

int
store_review_get(struct store *s, int64_t incident_id, struct review_row *out)
{
    sqlite3_stmt *st = store_stmt(s, ST_REVIEW_GET);
    int rc;

    memset(out, 0, sizeof(*out));
    sqlite3_bind_int64(st, 1, incident_id);
    rc = store_one(s, st, read_review, out, "review");
    if (rc)
        store_review_clear(out);
    return rc;
}

/* bind_opt - -1 (not answered) is NULL */
static void
bind_opt(sqlite3_stmt *st, int i, int64_t v)
{
    if (v < 0)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, v);
}

int
store_review_put(struct store *s, const struct review_row *r)
{
    sqlite3_stmt *st = store_stmt(s, ST_REVIEW_PUT);

    sqlite3_bind_int64(st, 1, r->incident_id);
    sqlite3_bind_int(st, 2, r->state);
    sqlite3_bind_int(st, 3, r->step);
    sqlite3_bind_int(st, 4, r->layers_only);
    store_bind_opt_int(st, 5, r->thread_row);
    bind_opt(st, 6, r->found);
    bind_opt(st, 7, r->applied);
    sqlite3_bind_int64(st, 8, r->caught);
    sqlite3_bind_int64(st, 9, r->asked);
    sqlite3_bind_int64(st, 10, r->skipped);
    bind_opt(st, 11, r->accepted);
    store_bind_opt_int(st, 12, r->root_action);
    store_bind_text(st, 13, r->started_by);
    sqlite3_bind_int64(st, 14, r->started_at);
    sqlite3_bind_int64(st, 15, r->updated_at);
    store_bind_text(st, 16, r->thread_id);
    sqlite3_bind_int(st, 17, r->full_done);
    return store_done(s, st);
}

int
store_answer_add(struct store *s, int64_t incident_id, const char *question,
                 const char *text, const char *by, int64_t at, int64_t *seq)
{
    sqlite3_stmt *st = store_stmt(s, ST_ANSWER_ADD);
    int64_t n = 0;
    int rc;

    sqlite3_bind_int64(st, 1, incident_id);
    store_bind_text(st, 2, question);
    store_bind_text(st, 3, text);
    store_bind_text(st, 4, by);
    sqlite3_bind_int64(st, 5, at);
    rc = store_one(s, st, store_read_i64, &n, "answer");
    if (!rc && seq)
        *seq = n;
    return rc;
}

int
store_answer_set(struct store *s, int64_t incident_id, const char *question,
                 int64_t seq, const char *text, const char *by, int64_t at)
{
    sqlite3_stmt *st = store_stmt(s, ST_ANSWER_SET);

    sqlite3_bind_int64(st, 1, incident_id);
    store_bind_text(st, 2, question);
    sqlite3_bind_int64(st, 3, seq);
    store_bind_text(st, 4, text);
    store_bind_text(st, 5, by);
    sqlite3_bind_int64(st, 6, at);
    return store_update_one(s, st);
}

static int
read_answer(sqlite3_stmt *st, void *p)
{
    struct answer *a = p;
    int rc = BOT_OK;

    a->seq = sqlite3_column_int64(st, 0);
    a->text = store_col_text(st, 1, &rc);
    a->by = store_col_text(st, 2, &rc);
    a->at = sqlite3_column_int64(st, 3);
    if (!rc && !a->text)
        rc = BOT_EDB;
    return rc;
}

static void
clear_answer(void *p)
{
    struct answer *a = p;

    bot_free(a->text);
    bot_free(a->by);
}

int
store_answer_list(struct store *s, int64_t incident_id, const char *question,
                  struct answer **out, size_t *n)
{
    sqlite3_stmt *st = store_stmt(s, ST_ANSWER_LIST);

    *out = NULL;
    *n = 0;
    sqlite3_bind_int64(st, 1, incident_id);
    store_bind_text(st, 2, question);
    return store_collect(s, st, sizeof(**out), read_answer, clear_answer,
                         (void **)out, n);
}

void
store_answer_list_free(struct answer *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        clear_answer(&a[i]);
    bot_free(a);
}

int
store_incident_set_root_cause(struct store *s, int64_t id, const char *text)
{
    sqlite3_stmt *st = store_stmt(s, ST_INC_SET_ROOT);

    sqlite3_bind_int64(st, 1, id);
    store_bind_text(st, 2, text);
    return store_update_one(s, st);
}
