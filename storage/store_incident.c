/*
 * store_incident.c - incidents and their timelines.
 */
#include "store_int.h"

#include "err.h"
#include "mem.h"

#include <string.h>

static const char *const kind_names[] = {"auto", "tagged", "note",
                                         "backfill"};

static int
kind_from_name(const unsigned char *name)
{
    for (int i = 0; i < 4; i++) {
        if (name && !strcmp((const char *)name, kind_names[i]))
            return i;
    }
    return TIMELINE_AUTO;
}

void
store_incident_clear(struct incident *in)
{
    if (!in)
        return;
    bot_free(in->title);
    bot_free(in->platform);
    bot_free(in->channel);
    bot_free(in->channel_name);
    bot_free(in->origin_room);
    bot_free(in->declared_by);
    bot_free(in->alarm_key);
    bot_free(in->root_cause);
    bot_free(in->alarm_details);
    bot_free(in->alarm_link);
    memset(in, 0, sizeof(*in));
}

void
store_incident_list_free(struct incident *arr, size_t n)
{
    for (size_t i = 0; arr && i < n; i++)
        store_incident_clear(&arr[i]);
    bot_free(arr);
}

static int
read_incident(sqlite3_stmt *st, struct incident *in)
{
    int rc = BOT_OK;

    memset(in, 0, sizeof(*in));
    in->id = sqlite3_column_int64(st, 0);
    in->title = store_col_text(st, 1, &rc);
    in->severity = sqlite3_column_int(st, 2);
    in->state = !strcmp((const char *)sqlite3_column_text(st, 3), "resolved")
                    ? INCIDENT_RESOLVED
                    : INCIDENT_OPEN;
    in->platform = store_col_text(st, 4, &rc);
    in->channel = store_col_text(st, 5, &rc);
    in->channel_name = store_col_text(st, 6, &rc);
    in->origin_room = store_col_text(st, 7, &rc);
    in->declared_by = store_col_text(st, 8, &rc);
    in->alarm_key = store_col_text(st, 9, &rc);
    in->declared_at = sqlite3_column_int64(st, 10);
    in->resolved_at = sqlite3_column_int64(st, 11);
    in->root_cause = store_col_text(st, 12, &rc);
    in->alarm_details = store_col_text(st, 13, &rc);
    in->alarm_link = store_col_text(st, 14, &rc);
    if (rc)
        store_incident_clear(in);
    return rc;
}

static int
read_incident_v(sqlite3_stmt *st, void *p)
{
    return read_incident(st, p);
}

static void
clear_incident_v(void *p)
{
    store_incident_clear(p);
}

static int
one_incident(struct store *s, sqlite3_stmt *st, struct incident *out)
{
    return store_one(s, st, read_incident_v, out, "incident lookup");
}

int
store_incident_insert(struct store *s, const struct incident *in,
                      int64_t *id_out)
{
    sqlite3_stmt *st = store_stmt(s, ST_INC_INSERT);
    int rc;

    store_bind_text(st, 1, in->title);
    sqlite3_bind_int(st, 2, in->severity);
    store_bind_text(st, 3,
                    in->state == INCIDENT_RESOLVED ? "resolved" : "open");
    store_bind_text(st, 4, in->platform);
    store_bind_text(st, 5, in->channel);
    store_bind_text(st, 6, in->channel_name);
    store_bind_text(st, 7, in->origin_room);
    store_bind_text(st, 8, in->declared_by);
    store_bind_text(st, 9, in->alarm_key);
    sqlite3_bind_int64(st, 10, in->declared_at);
    store_bind_opt_int(st, 11, in->resolved_at);
    store_bind_text(st, 12, in->root_cause);
    store_bind_text(st, 13, in->alarm_details);
    store_bind_text(st, 14, in->alarm_link);
    rc = store_done(s, st);
    if (rc)
        return rc;
    if (id_out)
        *id_out = sqlite3_last_insert_rowid(s->db);
    return BOT_OK;
}

int
store_incident_get(struct store *s, int64_t id, struct incident *out)
{
    sqlite3_stmt *st = store_stmt(s, ST_INC_GET);

    sqlite3_bind_int64(st, 1, id);
    return one_incident(s, st, out);
}

int
store_incident_by_channel(struct store *s, const char *platform,
                          const char *channel, struct incident *out)
{
    sqlite3_stmt *st = store_stmt(s, ST_INC_BY_CHANNEL);

    store_bind_text(st, 1, platform);
    store_bind_text(st, 2, channel);
    return one_incident(s, st, out);
}

int
store_incident_by_channel_name(struct store *s, const char *name,
                               struct incident *out)
{
    sqlite3_stmt *st = store_stmt(s, ST_INC_BY_CHANNEL_NAME);

    store_bind_text(st, 1, name[0] == '#' ? name + 1 : name);
    return one_incident(s, st, out);
}

int
store_incident_set_channel(struct store *s, int64_t id, const char *channel,
                           const char *name)
{
    sqlite3_stmt *st = store_stmt(s, ST_INC_SET_CHANNEL);

    sqlite3_bind_int64(st, 1, id);
    store_bind_text(st, 2, channel);
    store_bind_text(st, 3, name);
    return store_update_one(s, st);
}

int
store_incident_set_severity(struct store *s, int64_t id, int severity)
{
    sqlite3_stmt *st = store_stmt(s, ST_INC_SET_SEV);

    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, severity);
    return store_update_one(s, st);
}

int
store_incident_resolve(struct store *s, int64_t id, int64_t at)
{
    sqlite3_stmt *st = store_stmt(s, ST_INC_RESOLVE);

    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, at);
    return store_update_one(s, st);
}

int
store_incident_channel_name_used(struct store *s, const char *name,
                                 int *used)
{
    sqlite3_stmt *st = store_stmt(s, ST_INC_NAME_USED);
    int rc;

    store_bind_text(st, 1, name);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, st, "channel name lookup");
    *used = rc == SQLITE_ROW;
    sqlite3_reset(st);
    return BOT_OK;
}

int
store_incident_list(struct store *s, int only_open, int pending_channel,
                    struct incident **out, size_t *n)
{
    sqlite3_stmt *st = store_stmt(s, ST_INC_LIST);

    sqlite3_bind_int(st, 1, only_open);
    sqlite3_bind_int(st, 2, pending_channel);
    return store_collect(s, st, sizeof(**out), read_incident_v, clear_incident_v,
                   (void **)out, n);
}

int
store_incident_open_by_alarm(struct store *s, const char *alarm_key,
                             struct incident *out)
{
    sqlite3_stmt *st = store_stmt(s, ST_INC_OPEN_BY_ALARM);

    store_bind_text(st, 1, alarm_key);
    return one_incident(s, st, out);
}

int
store_incident_list_by_alarm(struct store *s, const char *alarm_key,
                             int64_t except, struct incident **out, size_t *n)
{
    sqlite3_stmt *st = store_stmt(s, ST_INC_LIST_BY_ALARM);

    store_bind_text(st, 1, alarm_key);
    sqlite3_bind_int64(st, 2, except);
    return store_collect(s, st, sizeof(**out), read_incident_v,
                         clear_incident_v, (void **)out, n);
}

/* --- timeline --- */

void
store_timeline_clear(struct timeline_entry *e)
{
    if (!e)
        return;
    bot_free(e->text);
    bot_free(e->msg_room);
    bot_free(e->msg_id);
    bot_free(e->author);
    memset(e, 0, sizeof(*e));
}

void
store_timeline_list_free(struct timeline_entry *arr, size_t n)
{
    for (size_t i = 0; arr && i < n; i++)
        store_timeline_clear(&arr[i]);
    bot_free(arr);
}

static int
read_entry(sqlite3_stmt *st, void *p)
{
    struct timeline_entry *e = p;
    int rc = BOT_OK;

    memset(e, 0, sizeof(*e));
    e->id = sqlite3_column_int64(st, 0);
    e->incident_id = sqlite3_column_int64(st, 1);
    e->at = sqlite3_column_int64(st, 2);
    e->kind = kind_from_name(sqlite3_column_text(st, 3));
    e->text = store_col_text(st, 4, &rc);
    e->msg_room = store_col_text(st, 5, &rc);
    e->msg_id = store_col_text(st, 6, &rc);
    e->author = store_col_text(st, 7, &rc);
    e->created_at = sqlite3_column_int64(st, 8);
    if (rc)
        store_timeline_clear(e);
    return rc;
}

static void
clear_entry_v(void *p)
{
    store_timeline_clear(p);
}

static int
timeline_insert(struct store *s, enum stmt_id id,
                const struct timeline_entry *e)
{
    sqlite3_stmt *st = store_stmt(s, id);

    if (e->kind < 0 || e->kind > TIMELINE_BACKFILL)
        return BOT_EINVAL;
    sqlite3_bind_int64(st, 1, e->incident_id);
    sqlite3_bind_int64(st, 2, e->at);
    store_bind_text(st, 3, kind_names[e->kind]);
    store_bind_text(st, 4, e->text);
    store_bind_text(st, 5, e->msg_room);
    store_bind_text(st, 6, e->msg_id);
    store_bind_text(st, 7, e->author);
    sqlite3_bind_int64(st, 8, e->created_at);
    return store_done(s, st);
}

int
store_timeline_add(struct store *s, const struct timeline_entry *e,
                   int64_t *id_out)
{
    int rc = timeline_insert(s, ST_TL_ADD, e);

    if (!rc && id_out)
        *id_out = sqlite3_last_insert_rowid(s->db);
    return rc;
}

int
store_timeline_tag(struct store *s, const struct timeline_entry *e,
                   int64_t *id, int *created)
{
    sqlite3_stmt *st;
    int rc;

    if (created)
        *created = 0;
    if (!e->msg_room || !e->msg_id)
        return BOT_EINVAL;
    rc = timeline_insert(s, ST_TL_TAG, e);
    if (rc)
        return rc;
    if (sqlite3_changes(s->db) > 0) {
        *id = sqlite3_last_insert_rowid(s->db);
        if (created)
            *created = 1;
        return BOT_OK;
    }
    /* on the timeline already: find it */
    st = store_stmt(s, ST_TL_ID_BY_MSG);
    sqlite3_bind_int64(st, 1, e->incident_id);
    store_bind_text(st, 2, e->msg_room);
    store_bind_text(st, 3, e->msg_id);
    if (sqlite3_step(st) != SQLITE_ROW)
        return store_fail(s, st, "timeline lookup");
    *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return BOT_OK;
}

int
store_tagger_add(struct store *s, int64_t entry_id, const char *user)
{
    sqlite3_stmt *st = store_stmt(s, ST_TAGGER_ADD);

    sqlite3_bind_int64(st, 1, entry_id);
    store_bind_text(st, 2, user);
    return store_done(s, st);
}

int
store_tagger_remove(struct store *s, int64_t entry_id, const char *user,
                    int *left)
{
    sqlite3_stmt *st = store_stmt(s, ST_TAGGER_REMOVE);
    int rc;

    sqlite3_bind_int64(st, 1, entry_id);
    store_bind_text(st, 2, user);
    rc = store_done(s, st);
    if (rc)
        return rc;
    st = store_stmt(s, ST_TAGGER_COUNT);
    sqlite3_bind_int64(st, 1, entry_id);
    if (sqlite3_step(st) != SQLITE_ROW)
        return store_fail(s, st, "tagger count");
    *left = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return BOT_OK;
}

int
store_timeline_by_msg(struct store *s, int64_t incident_id, const char *room,
                      const char *msg_id, struct timeline_entry *out)
{
    sqlite3_stmt *st = store_stmt(s, ST_TL_BY_MSG);

    sqlite3_bind_int64(st, 1, incident_id);
    store_bind_text(st, 2, room);
    store_bind_text(st, 3, msg_id);
    return store_one(s, st, read_entry, out, "timeline lookup");
}

int
store_timeline_set_text(struct store *s, int64_t entry_id, const char *text,
                        int64_t replaced_at)
{
    sqlite3_stmt *st = store_stmt(s, ST_TL_GET_TEXT);
    char *old;
    int rc;

    sqlite3_bind_int64(st, 1, entry_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        return BOT_ENOTFOUND;
    }
    if (rc != SQLITE_ROW)
        return store_fail(s, st, "timeline text");
    rc = BOT_OK;
    old = store_col_text(st, 0, &rc);
    sqlite3_reset(st);
    if (rc)
        return rc;
    if (old && !strcmp(old, text)) {
        bot_free(old);
        return BOT_OK; /* same text: nothing to record */
    }
    st = store_stmt(s, ST_TL_HISTORY_ADD);
    sqlite3_bind_int64(st, 1, entry_id);
    store_bind_text(st, 2, old ? old : "");
    sqlite3_bind_int64(st, 3, replaced_at);
    rc = store_done(s, st);
    bot_free(old);
    if (rc)
        return rc;
    st = store_stmt(s, ST_TL_SET_TEXT);
    sqlite3_bind_int64(st, 1, entry_id);
    store_bind_text(st, 2, text);
    return store_update_one(s, st);
}

int
store_timeline_remove(struct store *s, int64_t entry_id)
{
    sqlite3_stmt *st = store_stmt(s, ST_TL_REMOVE);

    sqlite3_bind_int64(st, 1, entry_id);
    return store_update_one(s, st);
}

int
store_timeline_list(struct store *s, int64_t incident_id,
                    struct timeline_entry **out, size_t *n)
{
    sqlite3_stmt *st = store_stmt(s, ST_TL_LIST);

    sqlite3_bind_int64(st, 1, incident_id);
    return store_collect(s, st, sizeof(**out), read_entry, clear_entry_v,
                   (void **)out, n);
}

void
store_timeline_edits_free(struct timeline_edit *arr, size_t n)
{
    for (size_t i = 0; arr && i < n; i++)
        bot_free(arr[i].text);
    bot_free(arr);
}

static int
read_edit(sqlite3_stmt *st, void *p)
{
    struct timeline_edit *e = p;
    int rc = BOT_OK;

    e->entry_id = sqlite3_column_int64(st, 0);
    e->entry_at = sqlite3_column_int64(st, 1);
    e->text = store_col_text(st, 2, &rc);
    e->replaced_at = sqlite3_column_int64(st, 3);
    return rc;
}

static void
clear_edit_v(void *p)
{
    struct timeline_edit *e = p;

    bot_free(e->text);
}

int
store_timeline_edits(struct store *s, int64_t incident_id,
                     struct timeline_edit **out, size_t *n)
{
    sqlite3_stmt *st = store_stmt(s, ST_TL_EDITS);

    sqlite3_bind_int64(st, 1, incident_id);
    return store_collect(s, st, sizeof(**out), read_edit, clear_edit_v,
                   (void **)out, n);
}

/* --- the review's start, roles, responders --- */

int
store_review_started(struct store *s, int64_t incident_id, int *started)
{
    sqlite3_stmt *st = store_stmt(s, ST_REVIEW_STARTED);
    int64_t n = 0;
    int rc;

    sqlite3_bind_int64(st, 1, incident_id);
    rc = store_one(s, st, store_read_i64, &n, "review started");
    *started = n > 0;
    return rc;
}

int
store_role_set(struct store *s, int64_t incident_id, int role,
               const char *user, int how, int64_t at)
{
    sqlite3_stmt *st = store_stmt(s, ST_ROLE_SET);

    sqlite3_bind_int64(st, 1, incident_id);
    sqlite3_bind_int(st, 2, role);
    store_bind_text(st, 3, user);
    sqlite3_bind_int(st, 4, how);
    sqlite3_bind_int64(st, 5, at);
    return store_done(s, st);
}

void
store_roles_clear(struct roles *r)
{
    for (int i = 0; i < ROLE__N; i++)
        bot_free(r->user[i]);
    memset(r, 0, sizeof(*r));
}

int
store_roles_get(struct store *s, int64_t incident_id, struct roles *out)
{
    sqlite3_stmt *st = store_stmt(s, ST_ROLES_GET);
    int rc = BOT_OK, step;

    memset(out, 0, sizeof(*out));
    sqlite3_bind_int64(st, 1, incident_id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int role = sqlite3_column_int(st, 0);

        if (role < 0 || role >= ROLE__N)
            continue;
        bot_free(out->user[role]);
        out->user[role] = store_col_text(st, 1, &rc);
        out->how[role] = sqlite3_column_int(st, 2);
    }
    if (!rc && step != SQLITE_DONE)
        rc = store_fail(s, st, "roles");
    sqlite3_reset(st);
    if (rc)
        store_roles_clear(out);
    return rc;
}

static void
clear_user(void *p)
{
    bot_free(*(char **)p);
}

int
store_responders(struct store *s, int64_t incident_id, int limit,
                 char ***out, size_t *n)
{
    sqlite3_stmt *st = store_stmt(s, ST_RESPONDERS);

    *out = NULL;
    *n = 0;
    sqlite3_bind_int64(st, 1, incident_id);
    sqlite3_bind_int(st, 2, limit);
    return store_collect(s, st, sizeof(char *), store_read_text, clear_user,
                         (void **)out, n);
}
