/*
 * store_action.c - follow-up actions.
 */
#include "store_int.h"

#include "err.h"
#include "mem.h"

#include <string.h>

void
store_action_clear(struct action *a)
{
    if (!a)
        return;
    bot_free(a->text);
    bot_free(a->assignee);
    bot_free(a->due_date);
    bot_free(a->created_by);
    bot_free(a->completed_by);
    bot_free(a->incident_title);
    memset(a, 0, sizeof(*a));
}

void
store_action_list_free(struct action *arr, size_t n)
{
    for (size_t i = 0; arr && i < n; i++)
        store_action_clear(&arr[i]);
    bot_free(arr);
}

static int
read_action(sqlite3_stmt *st, void *p)
{
    struct action *a = p;
    const unsigned char *status;
    int rc = BOT_OK;

    memset(a, 0, sizeof(*a));
    a->id = sqlite3_column_int64(st, 0);
    a->incident_id = sqlite3_column_int64(st, 1);
    a->text = store_col_text(st, 2, &rc);
    a->assignee = store_col_text(st, 3, &rc);
    a->due_date = store_col_text(st, 4, &rc);
    status = sqlite3_column_text(st, 5);
    a->status = status && !strcmp((const char *)status, "done")
                    ? ACTION_DONE
                    : ACTION_OPEN;
    a->created_by = store_col_text(st, 6, &rc);
    a->created_at = sqlite3_column_int64(st, 7);
    a->completed_at = sqlite3_column_int64(st, 8);
    a->completed_by = store_col_text(st, 9, &rc);
    a->incident_title = store_col_text(st, 10, &rc);
    if (rc)
        store_action_clear(a);
    return rc;
}

static void
clear_action_v(void *p)
{
    store_action_clear(p);
}

int
store_action_add(struct store *s, const struct action *a, int64_t *id_out)
{
    sqlite3_stmt *st = store_stmt(s, ST_ACT_ADD);
    int rc;

    sqlite3_bind_int64(st, 1, a->incident_id);
    store_bind_text(st, 2, a->text);
    store_bind_text(st, 3, a->assignee);
    store_bind_text(st, 4, a->due_date);
    store_bind_text(st, 5, a->created_by);
    sqlite3_bind_int64(st, 6, a->created_at);
    rc = store_done(s, st);
    if (rc)
        return rc;
    if (id_out)
        *id_out = sqlite3_last_insert_rowid(s->db);
    return BOT_OK;
}

int
store_action_get(struct store *s, int64_t id, struct action *out)
{
    sqlite3_stmt *st = store_stmt(s, ST_ACT_GET);

    sqlite3_bind_int64(st, 1, id);
    return store_one(s, st, read_action, out, "action lookup");
}

int
store_action_complete(struct store *s, int64_t id, int64_t at, const char *by)
{
    sqlite3_stmt *st = store_stmt(s, ST_ACT_COMPLETE);
    struct action a;
    int rc;

    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, at);
    store_bind_text(st, 3, by);
    rc = store_update_one(s, st);
    if (rc != BOT_ENOTFOUND)
        return rc;
    /* nothing changed: either no such action or it was already done */
    rc = store_action_get(s, id, &a);
    if (rc)
        return rc;
    store_action_clear(&a);
    return BOT_EEXIST;
}

int
store_action_list(struct store *s, int64_t incident_id, int include_done,
                  struct action **out, size_t *n)
{
    sqlite3_stmt *st = store_stmt(s, ST_ACT_LIST);

    sqlite3_bind_int64(st, 1, incident_id);
    sqlite3_bind_int(st, 2, include_done ? 1 : 0);
    return store_collect(s, st, sizeof(**out), read_action, clear_action_v,
                         (void **)out, n);
}
