/*
 * store.c - opening the database, the statement cache, transactions.
 *
 * Owns: the sqlite3 handle and every prepared statement. The SQL of all of
 * pmbot lives in the table below, next to the enum that names it.
 */
#include "store_int.h"

#include "err.h"
#include "log.h"
#include "mem.h"
#include "strbuf.h"

#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define INC_COLS                                                              \
    "id, title, severity, state, platform, channel, channel_name,"            \
    " origin_room, declared_by, alarm_key, declared_at,"                      \
    " coalesce(resolved_at, 0), root_cause, alarm_details, alarm_link"
#define OUTBOX_COLS                                                           \
    "id, platform, kind, room, thread_id, user, flags, coalesce(ref, 0),"   \
    " msg_id, body, extra, attempts, next_at"
#define TL_COLS                                                               \
    "id, incident_id, at, kind, text, msg_room, msg_id, author, created_at"
#define ACT_COLS_BARE                                                         \
    "a.id, a.incident_id, a.text, a.assignee, a.due_date, a.status,"          \
    " a.created_by, a.created_at, coalesce(a.completed_at, 0),"               \
    " a.completed_by, i.title, a.snoozed_until"
/* with its latest history row: one more index lookup a row (about 2 us;
 * ST_ACT_LIST, over every incident, goes without) */
#define ACT_COLS ACT_COLS_BARE ", h.what, h.by, coalesce(h.at, 0), h.detail"
#define ACT_FROM                                                              \
    " FROM actions a JOIN incidents i ON i.id = a.incident_id"                \
    " LEFT JOIN action_history h ON h.id = (SELECT max(id)"                   \
    " FROM action_history WHERE action_id = a.id)"

static const char *const sql[ST__COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT nested",
    [ST_RELEASE] = "RELEASE nested",
    [ST_ROLLBACK_TO] = "ROLLBACK TO nested",
    [ST_MSG_PUT] = "INSERT INTO messages (platform, room, msg_id, user, text,"
                   " thread_id, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                   " ON CONFLICT DO UPDATE SET text = excluded.text",
    [ST_MSG_GET] = "SELECT user, text, thread_id, at FROM messages"
                   " WHERE platform = ?1 AND room = ?2 AND msg_id = ?3",
    [ST_MSG_SET_TEXT] = "UPDATE messages SET text = ?4 WHERE platform = ?1"
                        " AND room = ?2 AND msg_id = ?3",
    [ST_MSG_REMOVE] = "DELETE FROM messages WHERE platform = ?1"
                      " AND room = ?2 AND msg_id = ?3",
    [ST_INC_INSERT] =
        "INSERT INTO incidents (title, severity, state, platform, channel,"
        " channel_name, origin_room, declared_by, alarm_key, declared_at,"
        " resolved_at, root_cause, alarm_details, alarm_link)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
        " ?14)",
    [ST_INC_GET] = "SELECT " INC_COLS " FROM incidents WHERE id = ?1",
    [ST_INC_BY_CHANNEL] = "SELECT " INC_COLS " FROM incidents"
                          " WHERE platform = ?1 AND channel = ?2",
    [ST_INC_BY_CHANNEL_NAME] = "SELECT " INC_COLS " FROM incidents"
                               " WHERE channel_name = ?1"
                               " ORDER BY id DESC LIMIT 1",
    [ST_INC_SET_CHANNEL] =
        "UPDATE incidents SET channel = ?2, channel_name = ?3 WHERE id = ?1",
    [ST_INC_SET_SEV] = "UPDATE incidents SET severity = ?2 WHERE id = ?1",
    [ST_INC_RESOLVE] = "UPDATE incidents SET state = 'resolved',"
                       " resolved_at = ?2 WHERE id = ?1",
    [ST_INC_NAME_USED] =
        "SELECT 1 FROM incidents WHERE channel_name = ?1 LIMIT 1",
    [ST_INC_LIST] = "SELECT " INC_COLS " FROM incidents"
                    " WHERE (?1 = 0 OR state = 'open')"
                    " AND (?2 = 0 OR channel IS NULL) ORDER BY id DESC",
    [ST_INC_OPEN_BY_ALARM] = "SELECT " INC_COLS " FROM incidents"
                             " WHERE alarm_key = ?1 AND state = 'open'"
                             " ORDER BY id DESC LIMIT 1",
    [ST_INC_LIST_BY_ALARM] = "SELECT " INC_COLS " FROM incidents"
                             " WHERE alarm_key = ?1 AND id != ?2"
                             " ORDER BY id DESC LIMIT 10",
    [ST_INC_COUNT_OPEN] =
        "SELECT count(*) FROM incidents WHERE state = 'open'",
    [ST_ACT_COUNT_OPEN] = "SELECT count(*), coalesce(sum(due_date < ?1), 0)"
                          " FROM actions WHERE status = 'open'",
    [ST_TL_ADD] = "INSERT INTO timeline (incident_id, at, kind, text,"
                  " msg_room, msg_id, author, created_at)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_TL_TAG] = "INSERT INTO timeline (incident_id, at, kind, text,"
                  " msg_room, msg_id, author, created_at)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                  " ON CONFLICT (incident_id, msg_room, msg_id) DO NOTHING",
    [ST_TL_ID_BY_MSG] = "SELECT id FROM timeline WHERE incident_id = ?1"
                        " AND msg_room = ?2 AND msg_id = ?3",
    [ST_TAGGER_ADD] = "INSERT INTO timeline_taggers (entry_id, user)"
                      " VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    [ST_TAGGER_REMOVE] = "DELETE FROM timeline_taggers"
                         " WHERE entry_id = ?1 AND user = ?2",
    [ST_TAGGER_COUNT] = "SELECT count(*) FROM timeline_taggers"
                        " WHERE entry_id = ?1",
    [ST_TL_BY_MSG] = "SELECT " TL_COLS " FROM timeline WHERE incident_id = ?1"
                     " AND msg_room = ?2 AND msg_id = ?3",
    [ST_TL_GET_TEXT] = "SELECT text FROM timeline WHERE id = ?1",
    [ST_TL_HISTORY_ADD] = "INSERT INTO timeline_history (entry_id, text,"
                          " replaced_at) VALUES (?1, ?2, ?3)",
    [ST_TL_SET_TEXT] = "UPDATE timeline SET text = ?2 WHERE id = ?1",
    [ST_TL_REMOVE] = "DELETE FROM timeline WHERE id = ?1",
    [ST_TL_LIST] = "SELECT " TL_COLS " FROM timeline WHERE incident_id = ?1"
                   " ORDER BY at, id",
    [ST_TL_EDITS] = "SELECT h.entry_id, t.at, h.text, h.replaced_at"
                    " FROM timeline_history h JOIN timeline t"
                    " ON t.id = h.entry_id WHERE t.incident_id = ?1"
                    " ORDER BY t.at, t.id, h.replaced_at, h.id",
    [ST_ACT_ADD] = "INSERT INTO actions (incident_id, text, assignee,"
                   " due_date, status, created_by, created_at)"
                   " VALUES (?1, ?2, ?3, ?4, 'open', ?5, ?6)",
    [ST_ACT_GET] = "SELECT " ACT_COLS ACT_FROM " WHERE a.id = ?1",
    [ST_ACT_COMPLETE] = "UPDATE actions SET status = 'done',"
                        " completed_at = ?2, completed_by = ?3"
                        " WHERE id = ?1 AND status = 'open'",
    [ST_ACT_LIST] = "SELECT " ACT_COLS_BARE ", NULL, NULL, 0, NULL"
                    " FROM actions a JOIN incidents i"
                    " ON i.id = a.incident_id"
                    " WHERE (?1 = 0 OR a.incident_id = ?1)"
                    " AND (?2 = 1 OR a.status = 'open')"
                    " ORDER BY a.due_date, a.id",
    [ST_EVENT_CLAIM] = "INSERT INTO processed_events (platform, event_id,"
                       " processed_at) VALUES (?1, ?2, ?3)"
                       " ON CONFLICT DO NOTHING",
    [ST_EVENT_SEEN] = "SELECT 1 FROM processed_events"
                      " WHERE platform = ?1 AND event_id = ?2",
    [ST_USER_PUT] = "INSERT INTO users (platform, user_id, name, updated_at)"
                    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO UPDATE"
                    " SET name = excluded.name,"
                    " updated_at = excluded.updated_at",
    [ST_USER_SET_TZ] = "UPDATE users SET tz = ?3 WHERE platform = ?1"
                       " AND user_id = ?2",
    [ST_USER_TZ] = "SELECT tz FROM users WHERE platform = ?1"
                   " AND user_id = ?2 AND tz IS NOT NULL",
    [ST_PERIOD_CLAIM] = "INSERT INTO reminder_periods (kind, subject,"
                        " period, claimed_at) VALUES (?1, ?2, ?3, ?4)"
                        " ON CONFLICT DO NOTHING",
    [ST_PERIOD_SEEN] = "SELECT count(*) FROM reminder_periods"
                       " WHERE kind = ?1 AND subject = ?2 AND period = ?3",
    /* the reminder pass streams what it needs: 100,000 actions held as
     * structs took 40 MB */
#define EACH_COLS                                                              \
    "a.id, a.incident_id, a.text, a.assignee, a.due_date, a.snoozed_until,"   \
    " a.created_at, i.platform, i.channel"
    [ST_ACT_EACH_BY_ASSIGNEE] = "SELECT " EACH_COLS " FROM actions a"
                                " JOIN incidents i ON i.id = a.incident_id"
                                " WHERE a.status = 'open'"
                                " ORDER BY i.platform, a.assignee,"
                                " a.due_date, a.id",
    [ST_ACT_EACH_OVERDUE] = "SELECT " EACH_COLS " FROM actions a"
                            " JOIN incidents i ON i.id = a.incident_id"
                            " WHERE a.status = 'open' AND a.due_date < ?1"
                            " ORDER BY a.id",
    [ST_ACT_EACH_BY_INCIDENT] = "SELECT " EACH_COLS " FROM actions a"
                                " JOIN incidents i ON i.id = a.incident_id"
                                " WHERE a.status = 'open'"
                                " ORDER BY a.incident_id, a.due_date, a.id"
                                " LIMIT ?1",
    [ST_ACT_STATS] = "SELECT"
                     " count(*) FILTER (WHERE status = 'open'),"
                     " count(*) FILTER (WHERE status = 'open'"
                     "  AND due_date < ?3),"
                     " count(*) FILTER (WHERE created_at >= ?1"
                     "  AND created_at < ?2),"
                     " count(*) FILTER (WHERE status = 'done'"
                     "  AND completed_at >= ?1 AND completed_at < ?2),"
                     " count(*) FILTER (WHERE status = 'open'"
                     "  AND created_at <= ?2),"
                     " (SELECT id FROM actions WHERE status = 'open'"
                     "  ORDER BY created_at, id LIMIT 1)"
                     " FROM actions",
    [ST_STATE_GET] = "SELECT value FROM platform_state"
                     " WHERE platform = ?1 AND key = ?2",
    [ST_STATE_PUT] = "INSERT INTO platform_state (platform, key, value,"
                     " updated_at) VALUES (?1, ?2, ?3, ?4)"
                     " ON CONFLICT (platform, key) DO UPDATE SET"
                     " value = excluded.value,"
                     " updated_at = excluded.updated_at",
    [ST_REACTION_PUT] = "INSERT OR IGNORE INTO reaction_refs (platform,"
                        " reaction_id, room, msg_id, emoji, user, at)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_REACTION_GET] = "SELECT room, msg_id, emoji, user FROM"
                        " reaction_refs WHERE platform = ?1"
                        " AND reaction_id = ?2",
    [ST_PRUNE_REACTIONS] = "DELETE FROM reaction_refs WHERE (platform,"
                           " reaction_id) IN (SELECT platform, reaction_id"
                           " FROM reaction_refs WHERE at < ?1 LIMIT ?2)",
    [ST_USER_NAME] = "SELECT name FROM users"
                     " WHERE platform = ?1 AND user_id = ?2",
    /* both walk an index by age (schema 5) and stop at the limit */
    [ST_PRUNE_EVENTS] = "DELETE FROM processed_events WHERE rowid IN"
                        " (SELECT rowid FROM processed_events"
                        " WHERE processed_at < ?1 LIMIT ?2)",
    [ST_PRUNE_MESSAGES] =
        "DELETE FROM messages WHERE rowid IN (SELECT m.rowid"
        " FROM incidents i JOIN messages m ON m.platform = i.platform"
        " AND m.room = i.channel WHERE i.state = 'resolved'"
        " AND i.resolved_at < ?1 LIMIT ?2)",
    [ST_OUTBOX_ADD] = "INSERT INTO outbox (platform, kind, room, thread_id,"
                      " user, flags, ref, msg_id, body, extra, created_at)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
                      " ?11)",
    /* the first pending row of each lane (a room, or a user's DM) */
    [ST_OUTBOX_PENDING] = "SELECT " OUTBOX_COLS " FROM outbox WHERE id IN"
                          " (SELECT min(id) FROM outbox WHERE state = 0"
                          " AND platform = ?1 GROUP BY"
                          " coalesce(room, '@' || coalesce(user, '')))"
                          " ORDER BY id LIMIT ?2",
    [ST_OUTBOX_DONE] = "UPDATE outbox SET state = 1, msg_id ="
                       " coalesce(?2, msg_id), done_at = ?3"
                       " WHERE id = ?1 AND state = 0",
    [ST_OUTBOX_RETRY] = "UPDATE outbox SET attempts = ?2, next_at = ?3"
                        " WHERE id = ?1 AND state = 0",
    [ST_OUTBOX_FAIL] = "UPDATE outbox SET state = 2, done_at = ?2"
                       " WHERE id = ?1 AND state = 0",
    [ST_OUTBOX_RESULT] = "SELECT msg_id, state FROM outbox WHERE id = ?1",
    [ST_OUTBOX_MAX] = "SELECT coalesce(max(id), 0) FROM outbox",
    [ST_OUTBOX_COUNT] = "SELECT count(*) FROM outbox WHERE state = 0",
    /* a post people answer with a reaction stays longer (about) */
    [ST_PRUNE_OUTBOX] = "DELETE FROM outbox WHERE id IN (SELECT id"
                        " FROM outbox WHERE state <> 0 AND done_at < ?1"
                        " AND (extra IS NULL OR extra NOT LIKE 'about:%'"
                        " OR done_at < ?1 - 27 * 86400000) LIMIT ?2)",
    [ST_ASSIGNEE_CHANNEL] = "SELECT i.channel FROM actions a JOIN incidents i"
                            " ON i.id = a.incident_id WHERE i.platform = ?1"
                            " AND a.assignee = ?2 AND a.status = 'open'"
                            " AND i.channel IS NOT NULL"
                            " ORDER BY a.id DESC LIMIT 1",
    [ST_PRUNE_JOBS] = "DELETE FROM jobs WHERE (kind, subject, period) IN"
                      " (SELECT kind, subject, period FROM jobs"
                      " WHERE state = 1 AND done_at < ?1 LIMIT ?2)",
    [ST_PRUNE_PERIODS] = "DELETE FROM reminder_periods WHERE (kind, subject,"
                         " period) IN (SELECT kind, subject, period FROM"
                         " reminder_periods WHERE claimed_at < ?1"
                         " LIMIT ?2)",
    [ST_OUTBOX_ABOUT] = "SELECT substr(extra, 7) FROM outbox"
                        " WHERE platform = ?1 AND msg_id = ?2"
                        " AND extra LIKE 'about:%' AND kind = 0"
                        " AND state = 1",
    [ST_JOB_ADD] = "INSERT INTO jobs (kind, subject, period, due_at)"
                   " VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
    [ST_JOB_DUE] = "SELECT kind, subject, period, due_at FROM jobs"
                   " WHERE state = 0 AND due_at <= ?1 ORDER BY due_at"
                   " LIMIT ?2",
    [ST_JOB_CLAIM] = "UPDATE jobs SET state = 1, done_at = ?4"
                     " WHERE kind = ?1 AND subject = ?2 AND period = ?3"
                     " AND state = 0",
    [ST_JOB_POSTPONE] = "UPDATE jobs SET due_at = ?4 WHERE kind = ?1"
                        " AND subject = ?2 AND period = ?3 AND state = 0",
    [ST_JOB_NEXT] = "SELECT min(due_at) FROM jobs WHERE state = 0",
    [ST_ROLE_SET] = "INSERT INTO roles (incident_id, role, user, how, since)"
                    " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO UPDATE"
                    " SET user = excluded.user, how = excluded.how,"
                    " since = excluded.since",
    /* who posted in the channel or put a 📌 on its timeline */
    [ST_RESPONDERS] = "SELECT user FROM messages m JOIN incidents i"
                      " ON m.platform = i.platform AND m.room = i.channel"
                      " WHERE i.id = ?1 AND m.user IS NOT NULL"
                      " UNION SELECT tt.user FROM timeline_taggers tt"
                      " JOIN timeline t ON t.id = tt.entry_id"
                      " WHERE t.incident_id = ?1"
                      " ORDER BY 1 LIMIT ?2",
    [ST_ROLES_GET] = "SELECT role, user, how FROM roles"
                     " WHERE incident_id = ?1",
    [ST_REVIEW_STARTED] = "SELECT count(*) FROM reviews"
                          " WHERE incident_id = ?1",
    [ST_REVIEW_GET] = "SELECT incident_id, state, step, layers_only,"
                      " coalesce(thread_row, 0), coalesce(found, -1),"
                      " coalesce(applied, -1), caught, asked, skipped,"
                      " coalesce(accepted, -1), coalesce(root_action, 0),"
                      " started_by, started_at, updated_at, thread_id,"
                      " full_done FROM reviews WHERE incident_id = ?1",
    [ST_REVIEW_PUT] = "INSERT OR REPLACE INTO reviews (incident_id, state,"
                      " step, layers_only, thread_row, found, applied,"
                      " caught, asked, skipped, accepted, root_action,"
                      " started_by, started_at, updated_at, thread_id,"
                      " full_done) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
                      " ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    [ST_ANSWER_ADD] = "INSERT INTO answers (incident_id, question, seq,"
                      " answer, answered_by, answered_at) SELECT ?1, ?2,"
                      " coalesce(max(seq), 0) + 1, ?3, ?4, ?5 FROM answers"
                      " WHERE incident_id = ?1 AND question = ?2"
                      " RETURNING seq",
    [ST_ANSWER_SET] = "UPDATE answers SET answer = ?4, answered_by = ?5,"
                      " answered_at = ?6 WHERE incident_id = ?1"
                      " AND question = ?2 AND seq = ?3",
    [ST_ANSWER_LIST] = "SELECT seq, answer, answered_by, answered_at"
                       " FROM answers WHERE incident_id = ?1"
                       " AND question = ?2 ORDER BY seq",
    [ST_INC_SET_ROOT] = "UPDATE incidents SET root_cause = ?2"
                        " WHERE id = ?1",
    /* each change touches no row when it would change nothing */
    [ST_ACT_REOPEN] = "UPDATE actions SET status = 'open',"
                      " completed_at = NULL, completed_by = NULL"
                      " WHERE id = ?1 AND status = 'done'",
    [ST_ACT_REASSIGN] = "UPDATE actions SET assignee = ?2"
                        " WHERE id = ?1 AND assignee IS NOT ?2",
    [ST_ACT_SET_DUE] = "UPDATE actions SET due_date = ?2"
                       " WHERE id = ?1 AND due_date IS NOT ?2",
    [ST_ACT_SNOOZE] = "UPDATE actions SET snoozed_until = ?2"
                      " WHERE id = ?1 AND snoozed_until IS NOT ?2",
    [ST_ACT_HISTORY_ADD] = "INSERT INTO action_history (action_id, at, by,"
                           " what, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_ACT_LIST_LAST] = "SELECT " ACT_COLS ACT_FROM
                         " WHERE a.incident_id = ?1"
                         " AND (?2 = 1 OR a.status = 'open')"
                         " ORDER BY a.due_date, a.id",
    [ST_ACT_HISTORY] = "SELECT action_id, at, by, what, detail"
                       " FROM action_history WHERE action_id = ?1"
                       " ORDER BY id",
};

sqlite3_stmt *
store_stmt(struct store *s, enum stmt_id id)
{
    sqlite3_stmt *st = s->st[id];

    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

int
store_fail(struct store *s, sqlite3_stmt *st, const char *what)
{
    s->err = sqlite3_extended_errcode(s->db);
    log_err("store: %s: %s", what, sqlite3_errmsg(s->db));
    if (st)
        sqlite3_reset(st);
    return BOT_EDB;
}

int
store_done(struct store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    if (rc != SQLITE_DONE)
        return store_fail(s, st, sqlite3_sql(st));
    sqlite3_reset(st);
    return BOT_OK;
}

int
store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (!v)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

int
store_bind_opt_int(sqlite3_stmt *st, int i, int64_t v)
{
    if (!v)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_int64(st, i, v);
}

char *
store_col_text(sqlite3_stmt *st, int i, int *rc)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    char *d;

    if (!t)
        return NULL;
    d = bot_strdup((const char *)t);
    if (!d)
        *rc = BOT_ENOMEM;
    return d;
}

int
store_one(struct store *s, sqlite3_stmt *st,
          int (*read)(sqlite3_stmt *, void *), void *out, const char *what)
{
    int rc = sqlite3_step(st);

    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        return BOT_ENOTFOUND;
    }
    if (rc != SQLITE_ROW)
        return store_fail(s, st, what);
    rc = read(st, out);
    sqlite3_reset(st);
    return rc;
}

int
store_read_i64(sqlite3_stmt *st, void *p)
{
    *(int64_t *)p = sqlite3_column_int64(st, 0);
    return BOT_OK;
}

int
store_read_text(sqlite3_stmt *st, void *p)
{
    int rc = BOT_OK;

    *(char **)p = store_col_text(st, 0, &rc);
    return rc;
}

/* store_update_one - run a bound UPDATE; BOT_ENOTFOUND if it touched no row. */
int
store_update_one(struct store *s, sqlite3_stmt *st)
{
    int rc = store_done(s, st);

    if (rc)
        return rc;
    return sqlite3_changes(s->db) ? BOT_OK : BOT_ENOTFOUND;
}

/*
 * store_collect - step st to the end, reading each row into a growing array of
 * elements of `size` bytes with `read`. On failure frees what it read.
 */
int
store_collect(struct store *s, sqlite3_stmt *st, size_t size,
        int (*read)(sqlite3_stmt *, void *), void (*clear)(void *),
        void **out, size_t *n)
{
    unsigned char *arr = NULL;
    size_t len = 0, cap = 0;
    int rc = BOT_OK, step;

    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            unsigned char *na = bot_realloc(arr, ncap * size);

            if (!na) {
                rc = BOT_ENOMEM;
                break;
            }
            arr = na;
            cap = ncap;
        }
        rc = read(st, arr + len * size);
        if (rc)
            break;
        len++;
    }
    if (!rc && step != SQLITE_DONE)
        rc = store_fail(s, st, "list");
    sqlite3_reset(st);
    if (rc) {
        for (size_t i = 0; i < len; i++)
            clear(arr + i * size);
        bot_free(arr);
        return rc;
    }
    *out = arr;
    *n = len;
    return BOT_OK;
}

static char *
open_reason(const char *path, const char *what)
{
    struct strbuf sb;

    strbuf_init(&sb, 0);
    strbuf_printf(&sb, "cannot open database '%s': %s", path, what);
    return strbuf_steal(&sb);
}

/* pragmas - WAL for concurrent readers, foreign keys for integrity. Also
 * proves the file is a database: the first read fails on anything else. */
static int
pragmas(sqlite3 *db, int synchronous_full)
{
    const char *sync = synchronous_full ? "PRAGMA synchronous = FULL"
                                        : "PRAGMA synchronous = NORMAL";
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL))
        return BOT_EDB;
    /* switching a new file to WAL needs its exclusive lock, which SQLite
     * does not wait for when another process starting at the same moment
     * holds a shared one (it could deadlock): wait here, up to 5 s */
    for (int tries = 0;; tries++) {
        if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st,
                               NULL))
            return BOT_EDB;
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc == SQLITE_ROW)
            break;
        if ((rc & 0xff) != SQLITE_BUSY || tries == 5000)
            return BOT_EDB;
        usleep(1000);
    }
    if (sqlite3_exec(db, sync, NULL, NULL, NULL))
        return BOT_EDB;
    /* 512 KiB of page cache: pmbot's working set (open incidents, recent
     * messages) is small, and memory is a figure it is measured on */
    if (sqlite3_exec(db, "PRAGMA cache_size = -512", NULL, NULL, NULL))
        return BOT_EDB;
    return BOT_OK;
}

/* writer_busy - wait for a lock in 100 µs steps for the first 2 ms (a
 * checkpoint's restart holds it about that long; SQLite's own handler
 * sleeps a whole millisecond, then two, then five), then in steps of 1 ms
 * up to about 5 s (a report reading, another process writing). */
static int
writer_busy(void *arg, int n)
{
    (void)arg;
    if (n >= 20 + 5000)
        return 0;
    usleep(n < 20 ? 100 : 1000);
    return 1;
}

static int open_rw(const char *path, int synchronous_full, int daemon,
                   struct store **out, char **why);

/* prepare_all - every statement, once */
static int
prepare_all(struct store *s, const char *path, char **reason)
{
    for (int i = 0; i < ST__COUNT; i++) {
        if (sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &s->st[i], NULL)) {
            *reason = open_reason(path, sqlite3_errmsg(s->db));
            return BOT_EDB;
        }
    }
    return BOT_OK;
}

/* remember_files - the identity of the database and its -wal, to notice
 * when either is deleted or replaced under us (store_file_check) */
static void
remember_files(struct store *s, const char *path)
{
    struct stat st;
    char wal[4096];

    if (!strcmp(path, ":memory:") || !*path || stat(path, &st))
        return;
    s->path = bot_strdup(path);
    if (!s->path)
        return;
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    if ((size_t)snprintf(wal, sizeof(wal), "%s-wal", path) < sizeof(wal) &&
        !stat(wal, &st) && (s->wal_path = bot_strdup(wal))) {
        s->wal_dev = st.st_dev;
        s->wal_ino = st.st_ino;
    }
}

/* lock_daemon - one daemon per database: an advisory lock on <path>.lock
 * (not on the database itself, whose POSIX locks belong to SQLite and
 * would be dropped by any close of another descriptor of it). The file
 * holds the owner's pid, for the message. */
static int
lock_daemon(struct store *s, const char *path, char **reason)
{
    struct strbuf sb;
    char pid[32];
    ssize_t n;
    int fd;

    strbuf_init(&sb, 0);
    strbuf_printf(&sb, "%s.lock", path);
    if (strbuf_error(&sb))
        return BOT_ENOMEM;
    fd = open(strbuf_str(&sb), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        strbuf_cleanup(&sb);
        *reason = open_reason(path, "cannot create its .lock file");
        return BOT_EIO;
    }
    strbuf_cleanup(&sb);
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        n = pread(fd, pid, sizeof(pid) - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        close(fd);
        strbuf_init(&sb, 0);
        strbuf_printf(&sb,
                      "the database '%s' is in use by another pmbot%s%s%s: "
                      "stop it first, or give this one another database",
                      path, *pid ? " (pid " : "", pid, *pid ? ")" : "");
        *reason = strbuf_steal(&sb);
        return BOT_EEXIST;
    }
    n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) || pwrite(fd, pid, (size_t)n, 0) != n)
        log_warn("store: cannot write the pid into %s.lock", path);
    s->lock_fd = fd;
    return BOT_OK;
}

int
store_open_daemon(const char *path, int synchronous_full, struct store **out,
                  char **why)
{
    return open_rw(path, synchronous_full, 1, out, why);
}

int
store_open(const char *path, int synchronous_full, struct store **out,
           char **why)
{
    return open_rw(path, synchronous_full, 0, out, why);
}

/* open_failed - an open gone wrong: the reason (new) to *why or freed,
 * the half-open store closed (NULL is fine); returns rc */
static int
open_failed(struct store *s, int rc, char *reason, char **why)
{
    if (why)
        *why = reason;
    else
        bot_free(reason);
    store_close(s);
    return rc;
}

static int
open_rw(const char *path, int synchronous_full, int daemon,
        struct store **out, char **why)
{
    struct store *s;
    char *reason = NULL;
    int rc;

    s = bot_calloc(1, sizeof(*s));
    if (!s)
        return BOT_ENOMEM;
    s->lock_fd = -1;
    if (daemon && strcmp(path, ":memory:")) {
        rc = lock_daemon(s, path, &reason);
        if (rc)
            goto fail_close;
    }
    rc = sqlite3_open_v2(path, &s->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                             SQLITE_OPEN_NOMUTEX,
                         NULL);
    if (rc != SQLITE_OK) {
        reason = open_reason(path, s->db ? sqlite3_errmsg(s->db)
                                         : "out of memory");
        rc = BOT_EIO;
        goto fail_close;
    }
    sqlite3_extended_result_codes(s->db, 1);
    /* another pmbot, or the checkpointer, may hold the lock */
    sqlite3_busy_handler(s->db, writer_busy, NULL);
    if (pragmas(s->db, synchronous_full)) {
        reason = open_reason(path, sqlite3_errmsg(s->db));
        rc = BOT_EIO;
        goto fail_close;
    }
    rc = store_migrate(s->db, &s->version, &reason);
    if (!rc)
        rc = prepare_all(s, path, &reason);
    if (rc)
        goto fail_close;
    remember_files(s, path);
    *out = s;
    return BOT_OK;

fail_close:
    return open_failed(s, rc, reason, why);
}

/* immutable_uri - "file:PATH?immutable=1", PATH percent-encoded */
static char *
immutable_uri(const char *path)
{
    struct strbuf sb;

    strbuf_init(&sb, 0);
    strbuf_printf(&sb, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (strchr("%?#", *p) || *p < 0x21 || *p > 0x7e)
            strbuf_printf(&sb, "%%%02X", *p);
        else
            strbuf_putc(&sb, (char)*p);
    }
    strbuf_printf(&sb, "?immutable=1");
    return strbuf_steal(&sb);
}

/* file_size - bytes of path+suffix; 0 if absent */
static long
file_size(const char *path, const char *suffix)
{
    char p[4096];
    struct stat st;

    if ((size_t)snprintf(p, sizeof(p), "%s%s", path, suffix) >= sizeof(p) ||
        stat(p, &st))
        return 0;
    return (long)st.st_size;
}

/* read_version - the version, or the engine's code (CANTOPEN matters) */
static int
read_version(sqlite3 *db, int *v)
{
    return store_read_version(db, v) ? sqlite3_extended_errcode(db)
                                     : SQLITE_OK;
}

/* on_readonly_fs - the file's filesystem is mounted read-only: nobody can
 * change it under us, so reading it as immutable is safe */
static int
on_readonly_fs(const char *path)
{
    struct statvfs vfs;

    return !statvfs(path, &vfs) && (vfs.f_flag & ST_RDONLY);
}

int
store_open_readonly(const char *path, struct store **out, char **why)
{
    struct store *s;
    struct strbuf sb;
    struct stat st;
    char *reason = NULL, *uri = NULL;
    int rc, v = 0;

    if (!strcmp(path, ":memory:") || stat(path, &st)) {
        strbuf_init(&sb, 0);
        strbuf_printf(&sb, "no database at %s", path);
        return open_failed(NULL, BOT_ENOTFOUND, strbuf_steal(&sb), why);
    }
    s = bot_calloc(1, sizeof(*s));
    if (!s)
        return BOT_ENOMEM;
    s->lock_fd = -1;
    rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY |
                         SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(s->db, 1);
        sqlite3_busy_handler(s->db, writer_busy, NULL);
        rc = read_version(s->db, &v);
    }
    /* WAL needs its -shm file, which cannot be made on a read-only
     * filesystem: read the file as it is, unless a WAL holds more */
    if ((rc & 0xff) == SQLITE_CANTOPEN && on_readonly_fs(path)) {
        if (file_size(path, "-wal") > 0) {
            reason = open_reason(path, "it is on a read-only filesystem "
                                       "with a -wal file that only a "
                                       "writable copy can read");
            rc = BOT_EIO;
            goto fail_close;
        }
        sqlite3_close(s->db);
        s->db = NULL;
        uri = immutable_uri(path);
        rc = uri ? sqlite3_open_v2(uri, &s->db,
                                   SQLITE_OPEN_READONLY |
                                       SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI,
                                   NULL)
                 : SQLITE_NOMEM;
        bot_free(uri);
        if (rc == SQLITE_OK)
            rc = read_version(s->db, &v);
    }
    if (rc != SQLITE_OK) {
        reason = open_reason(path, s->db ? sqlite3_errmsg(s->db)
                                         : "out of memory");
        rc = BOT_EIO;
        goto fail_close;
    }
    sqlite3_exec(s->db, "PRAGMA cache_size = -512", NULL, NULL, NULL);
    /* reading never migrates: the file may be a backup, on a read-only
     * mount, or still in use by the older pmbot that wrote it */
    if (v > STORE_SCHEMA_VERSION) {
        rc = store_newer(v, &reason);
        goto fail_close;
    }
    if (v != STORE_SCHEMA_VERSION) {
        strbuf_init(&sb, 0);
        if (!v)
            strbuf_printf(&sb, "%s is not a pmbot database (it is empty)",
                          path);
        else
            strbuf_printf(&sb,
                          "the database %s is at schema version %d and "
                          "this pmbot reads version %d: `pmbot run` "
                          "migrates it (reading never writes)",
                          path, v, STORE_SCHEMA_VERSION);
        reason = strbuf_steal(&sb);
        rc = BOT_EDB;
        goto fail_close;
    }
    s->version = v;
    rc = prepare_all(s, path, &reason);
    if (rc)
        goto fail_close;
    *out = s;
    return BOT_OK;

fail_close:
    return open_failed(s, rc, reason, why);
}

void
store_close(struct store *s)
{
    if (!s)
        return;
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    /* after SQLite let go of the files: the next daemon may start */
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    bot_free(s->path);
    bot_free(s->wal_path);
    bot_free(s);
}

/* on_wal - after each commit of the daemon's connection: the WAL's size */
static int
on_wal(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)db;
    (void)name;
    ((struct store *)arg)->wal_frames = frames;
    return SQLITE_OK;
}

void
store_checkpoint_elsewhere(struct store *s)
{
    /* replaces the automatic checkpoint, which is itself a WAL hook */
    sqlite3_wal_hook(s->db, on_wal, s);
}

long
store_wal_frames(const struct store *s)
{
    return s->wal_frames;
}

/* ckpt_busy - the checkpointer waits for the writer's lock in 100 µs
 * steps, about 20 ms in all, then leaves the restart for next time: it
 * must not queue behind a busy writer for long, nor hold the lock while
 * waiting for a reader (a report) to finish */
static int
ckpt_busy(void *arg, int n)
{
    (void)arg;
    if (n >= 200)
        return 0;
    usleep(100);
    return 1;
}

/*
 * store_checkpoint - why the WAL grew without bound: a PASSIVE checkpoint
 * copies the WAL as it was when it started, and the daemon commits every
 * millisecond or two while it copies, so the copy is never complete when
 * the next transaction begins; SQLite rewinds the WAL only for a writer
 * that starts on a fully copied one, so it never rewound and the file grew
 * by every page ever written (13.8 KB a 📌, 3.7 GB per 100,000 events).
 * Now: PASSIVE twice (the bulk, then what came meanwhile, without any
 * lock), then RESTART, which takes the write lock, copies the few pages
 * committed since (one fsync of the database) and lets the next writer
 * start the WAL from its beginning; TRUNCATE instead when a burst left the
 * file past STORE_WAL_LIMIT, giving that space back.
 */
int
store_checkpoint(const char *path)
{
    sqlite3 *db = NULL;
    int rc, mode, log = 0, done = 0;

    rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(db, 1);
        sqlite3_busy_handler(db, ckpt_busy, NULL);
        sqlite3_exec(db, "PRAGMA cache_size = -64", NULL, NULL, NULL);
        for (int pass = 0; rc == SQLITE_OK && pass < 2; pass++)
            rc = sqlite3_wal_checkpoint_v2(db, NULL,
                                           SQLITE_CHECKPOINT_PASSIVE, &log,
                                           &done);
    }
    if (rc == SQLITE_OK) {
        mode = file_size(path, "-wal") > STORE_WAL_LIMIT
                   ? SQLITE_CHECKPOINT_TRUNCATE
                   : SQLITE_CHECKPOINT_RESTART;
        rc = sqlite3_wal_checkpoint_v2(db, NULL, mode, &log, &done);
    }
    /* a writer, a reader or another checkpoint kept it: next time */
    if ((rc & 0xff) == SQLITE_BUSY)
        rc = SQLITE_OK;
    sqlite3_close(db);
    return rc == SQLITE_OK ? BOT_OK : BOT_EDB;
}

int
store_schema_version(struct store *s)
{
    return s->version;
}

int
store_tx_begin(struct store *s)
{
    int rc = store_done(s, store_stmt(s, s->depth ? ST_SAVEPOINT : ST_BEGIN));

    if (!rc)
        s->depth++;
    return rc;
}

int
store_tx_commit(struct store *s)
{
    int rc;

    BOT_ASSERT(s->depth > 0);
    rc = store_done(s, store_stmt(s, s->depth > 1 ? ST_RELEASE : ST_COMMIT));
    if (!rc)
        s->depth--;
    return rc;
}

void
store_tx_rollback(struct store *s)
{
    if (!s->depth)
        return;
    if (s->depth > 1) {
        store_done(s, store_stmt(s, ST_ROLLBACK_TO));
        store_done(s, store_stmt(s, ST_RELEASE));
    } else if (!sqlite3_get_autocommit(s->db)) {
        store_done(s, store_stmt(s, ST_ROLLBACK));
    }
    s->depth--;
}

int
store_tx_depth(const struct store *s)
{
    return s->depth;
}

/* same_file - 0 when path still names the file (dev, ino) */
static int
same_file(const char *path, dev_t dev, ino_t ino, const char **why,
          const char *deleted, const char *replaced)
{
    struct stat st;

    if (stat(path, &st)) {
        *why = errno == ENOENT ? deleted : "database file cannot be seen";
        return BOT_EIO;
    }
    if (st.st_dev != dev || st.st_ino != ino) {
        *why = replaced;
        return BOT_EIO;
    }
    return BOT_OK;
}

int
store_file_check(struct store *s, const char **why)
{
    if (!s->path)
        return BOT_OK;
    if (same_file(s->path, s->dev, s->ino, why, "database file was deleted",
                  "database file was replaced"))
        return BOT_EIO;
    if (s->wal_path &&
        same_file(s->wal_path, s->wal_dev, s->wal_ino, why,
                  "database -wal file was deleted",
                  "database -wal file was replaced"))
        return BOT_EIO;
    return BOT_OK;
}

const char *
store_fault(const struct store *s)
{
    switch (s->err & 0xff) {
    case SQLITE_FULL:
        return "disk full";
    case SQLITE_IOERR:
        return "database I/O error";
    case SQLITE_READONLY:
        return "database is read-only";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return "database is corrupt";
    case SQLITE_CANTOPEN:
        return "database cannot be opened";
    }
    return NULL;
}

void
store_fault_clear(struct store *s)
{
    s->err = 0;
}

long long
store_disk_free(struct store *s)
{
    struct statvfs vfs;

    if (!s->path || statvfs(s->path, &vfs))
        return -1;
    /* root may use the blocks kept back for it */
    return (long long)(geteuid() ? vfs.f_bavail : vfs.f_bfree) *
           (long long)vfs.f_frsize;
}

int
store_write_probe(struct store *s)
{
    char sql_[64];
    int rc;

    BOT_ASSERT(!s->depth);
    snprintf(sql_, sizeof(sql_),
             "BEGIN IMMEDIATE; PRAGMA user_version = %d; COMMIT",
             s->version);
    rc = sqlite3_exec(s->db, sql_, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        return BOT_OK;
    s->err = sqlite3_extended_errcode(s->db);
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return BOT_EDB;
}

int
store_incident_count_open(struct store *s, long *n)
{
    sqlite3_stmt *st = store_stmt(s, ST_INC_COUNT_OPEN);

    if (sqlite3_step(st) != SQLITE_ROW)
        return store_fail(s, st, "count incidents");
    *n = (long)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return BOT_OK;
}

int
store_action_count_open(struct store *s, const char *today, long *open,
                        long *overdue)
{
    sqlite3_stmt *st = store_stmt(s, ST_ACT_COUNT_OPEN);

    store_bind_text(st, 1, today);
    if (sqlite3_step(st) != SQLITE_ROW)
        return store_fail(s, st, "count actions");
    *open = (long)sqlite3_column_int64(st, 0);
    *overdue = (long)sqlite3_column_int64(st, 1);
    sqlite3_reset(st);
    return BOT_OK;
}

int
store_event_claim(struct store *s, const char *platform, const char *event_id,
                  int64_t at, int *first)
{
    sqlite3_stmt *st = store_stmt(s, ST_EVENT_CLAIM);
    int rc;

    store_bind_text(st, 1, platform);
    store_bind_text(st, 2, event_id);
    sqlite3_bind_int64(st, 3, at);
    rc = store_done(s, st);
    if (rc)
        return rc;
    *first = sqlite3_changes(s->db) > 0;
    return BOT_OK;
}

int
store_event_seen(struct store *s, const char *platform, const char *event_id,
                 int *seen)
{
    sqlite3_stmt *st = store_stmt(s, ST_EVENT_SEEN);
    int rc;

    store_bind_text(st, 1, platform);
    store_bind_text(st, 2, event_id);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, st, "event lookup");
    *seen = rc == SQLITE_ROW;
    sqlite3_reset(st);
    return BOT_OK;
}

/* --- the message cache --- */

int
store_message_put(struct store *s, const char *platform,
                  const struct store_message *m)
{
    sqlite3_stmt *st = store_stmt(s, ST_MSG_PUT);

    store_bind_text(st, 1, platform);
    store_bind_text(st, 2, m->room);
    store_bind_text(st, 3, m->msg_id);
    store_bind_text(st, 4, m->user);
    store_bind_text(st, 5, m->text);
    store_bind_text(st, 6, m->thread_id);
    sqlite3_bind_int64(st, 7, m->at);
    return store_done(s, st);
}

int
store_message_get(struct store *s, const char *platform, const char *room,
                  const char *msg_id, struct store_message *out)
{
    sqlite3_stmt *st = store_stmt(s, ST_MSG_GET);
    int rc;

    store_bind_text(st, 1, platform);
    store_bind_text(st, 2, room);
    store_bind_text(st, 3, msg_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        return BOT_ENOTFOUND;
    }
    if (rc != SQLITE_ROW)
        return store_fail(s, st, "message lookup");
    rc = BOT_OK;
    memset(out, 0, sizeof(*out));
    out->room = bot_strdup(room);
    out->msg_id = bot_strdup(msg_id);
    if (!out->room || !out->msg_id)
        rc = BOT_ENOMEM;
    out->user = store_col_text(st, 0, &rc);
    out->text = store_col_text(st, 1, &rc);
    out->thread_id = store_col_text(st, 2, &rc);
    out->at = sqlite3_column_int64(st, 3);
    sqlite3_reset(st);
    if (rc)
        store_message_clear(out);
    return rc;
}

int
store_message_set_text(struct store *s, const char *platform,
                       const char *room, const char *msg_id, const char *text)
{
    sqlite3_stmt *st = store_stmt(s, ST_MSG_SET_TEXT);

    store_bind_text(st, 1, platform);
    store_bind_text(st, 2, room);
    store_bind_text(st, 3, msg_id);
    store_bind_text(st, 4, text);
    return store_done(s, st);
}

int
store_message_remove(struct store *s, const char *platform, const char *room,
                     const char *msg_id)
{
    sqlite3_stmt *st = store_stmt(s, ST_MSG_REMOVE);

    store_bind_text(st, 1, platform);
    store_bind_text(st, 2, room);
    store_bind_text(st, 3, msg_id);
    return store_done(s, st);
}

void
store_message_clear(struct store_message *m)
{
    if (!m)
        return;
    bot_free(m->room);
    bot_free(m->msg_id);
    bot_free(m->user);
    bot_free(m->text);
    bot_free(m->thread_id);
    memset(m, 0, sizeof(*m));
}
