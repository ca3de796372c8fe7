/*
 * store_action.c - follow-up actions and their history: each change and its
 * history row go in one savepoint, so neither is ever written alone.
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
    bot_free(a->snoozed_until);
    bot_free(a->last.by);
    bot_free(a->last.detail);
    memset(a, 0, sizeof(*a));
}

void
store_action_list_free(struct action *arr, size_t n)
{
    for (size_t i = 0; arr && i < n; i++)
        store_action_clear(&arr[i]);
    bot_free(arr);
}

static const char *const what_names[ACH__N] = {
    [ACH_CREATED] = "created",       [ACH_DONE] = "done",
    [ACH_REOPENED] = "reopened",     [ACH_REASSIGNED] = "reassigned",
    [ACH_DUE] = "due",               [ACH_SNOOZED] = "snoozed",
};

const char *
store_action_what_name(int what)
{
    return what >= 0 && what < ACH__N ? what_names[what] : "?";
}

static int
what_of(const unsigned char *name)
{
    for (int i = 0; name && i < ACH__N; i++) {
        if (!strcmp((const char *)name, what_names[i]))
            return i;
    }
    return -1;
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
    a->snoozed_until = store_col_text(st, 11, &rc);
    a->last.what = what_of(sqlite3_column_text(st, 12));
    a->has_last = a->last.what >= 0;
    if (a->has_last) {
        a->last.action_id = a->id;
        a->last.by = store_col_text(st, 13, &rc);
        a->last.at = sqlite3_column_int64(st, 14);
        a->last.detail = store_col_text(st, 15, &rc);
    }
    if (rc)
        store_action_clear(a);
    return rc;
}

static void
clear_action_v(void *p)
{
    store_action_clear(p);
}

static int
history_add(struct store *s, int64_t id, int64_t at, const char *by,
            int what, const char *detail)
{
    sqlite3_stmt *st = store_stmt(s, ST_ACT_HISTORY_ADD);

    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, at);
    store_bind_text(st, 3, by);
    store_bind_text(st, 4, what_names[what]);
    store_bind_text(st, 5, detail);
    return store_done(s, st);
}

/* finish - commit the savepoint of a change, or undo it on rc */
static int
finish(struct store *s, int rc)
{
    if (!rc)
        rc = store_tx_commit(s);
    if (rc)
        store_tx_rollback(s);
    return rc;
}

int
store_action_add(struct store *s, const struct action *a, int64_t *id_out)
{
    sqlite3_stmt *st;
    int64_t id = 0;
    int rc = store_tx_begin(s);

    if (rc)
        return rc;
    st = store_stmt(s, ST_ACT_ADD);
    sqlite3_bind_int64(st, 1, a->incident_id);
    store_bind_text(st, 2, a->text);
    store_bind_text(st, 3, a->assignee);
    store_bind_text(st, 4, a->due_date);
    store_bind_text(st, 5, a->created_by);
    sqlite3_bind_int64(st, 6, a->created_at);
    rc = store_done(s, st);
    if (!rc) {
        id = sqlite3_last_insert_rowid(s->db);
        rc = history_add(s, id, a->created_at, a->created_by, ACH_CREATED,
                         NULL);
    }
    rc = finish(s, rc);
    if (!rc && id_out)
        *id_out = id;
    return rc;
}

int
store_action_get(struct store *s, int64_t id, struct action *out)
{
    sqlite3_stmt *st = store_stmt(s, ST_ACT_GET);

    sqlite3_bind_int64(st, 1, id);
    return store_one(s, st, read_action, out, "action lookup");
}

int
store_action_change(struct store *s, int64_t id, int what, int64_t at,
                    const char *by, const char *detail)
{
    static const enum stmt_id stmt[ACH__N] = {
        [ACH_DONE] = ST_ACT_COMPLETE,     [ACH_REOPENED] = ST_ACT_REOPEN,
        [ACH_REASSIGNED] = ST_ACT_REASSIGN, [ACH_DUE] = ST_ACT_SET_DUE,
        [ACH_SNOOZED] = ST_ACT_SNOOZE,
    };
    sqlite3_stmt *st;
    struct action a;
    int rc;

    if (what <= ACH_CREATED || what >= ACH__N ||
        (what >= ACH_REASSIGNED && !detail))
        return BOT_EINVAL;
    rc = store_tx_begin(s);
    if (rc)
        return rc;
    st = store_stmt(s, stmt[what]);
    sqlite3_bind_int64(st, 1, id);
    if (what == ACH_DONE) {
        sqlite3_bind_int64(st, 2, at);
        store_bind_text(st, 3, by);
    } else if (what != ACH_REOPENED) {
        store_bind_text(st, 2, detail);
    }
    rc = store_update_one(s, st);
    if (!rc)
        rc = history_add(s, id, at, by, what,
                         what >= ACH_REASSIGNED ? detail : NULL);
    if (rc == BOT_ENOTFOUND) {
        /* nothing changed: either no such action or nothing to change */
        rc = store_action_get(s, id, &a);
        if (!rc) {
            store_action_clear(&a);
            rc = BOT_EEXIST;
        }
    }
    return finish(s, rc);
}

int
store_action_complete(struct store *s, int64_t id, int64_t at, const char *by)
{
    return store_action_change(s, id, ACH_DONE, at, by, NULL);
}

static int
read_change(sqlite3_stmt *st, void *p)
{
    struct action_change *c = p;
    int rc = BOT_OK;

    memset(c, 0, sizeof(*c));
    c->action_id = sqlite3_column_int64(st, 0);
    c->at = sqlite3_column_int64(st, 1);
    c->by = store_col_text(st, 2, &rc);
    c->what = what_of(sqlite3_column_text(st, 3));
    c->detail = store_col_text(st, 4, &rc);
    if (rc) {
        bot_free(c->by);
        bot_free(c->detail);
    }
    return rc;
}

static void
clear_change_v(void *p)
{
    struct action_change *c = p;

    bot_free(c->by);
    bot_free(c->detail);
}

int
store_action_history(struct store *s, int64_t id, struct action_change **out,
                     size_t *n)
{
    sqlite3_stmt *st = store_stmt(s, ST_ACT_HISTORY);

    sqlite3_bind_int64(st, 1, id);
    return store_collect(s, st, sizeof(**out), read_change, clear_change_v,
                         (void **)out, n);
}

void
store_action_history_free(struct action_change *arr, size_t n)
{
    for (size_t i = 0; arr && i < n; i++)
        clear_change_v(&arr[i]);
    bot_free(arr);
}

int
store_action_list(struct store *s, int64_t incident_id, int include_done,
                  struct action **out, size_t *n)
{
    sqlite3_stmt *st = store_stmt(s, incident_id ? ST_ACT_LIST_LAST
                                                 : ST_ACT_LIST);

    sqlite3_bind_int64(st, 1, incident_id);
    sqlite3_bind_int(st, 2, include_done ? 1 : 0);
    return store_collect(s, st, sizeof(**out), read_action, clear_action_v,
                         (void **)out, n);
}
