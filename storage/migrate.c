/*
 * migrate.c - forward-only schema migrations.
 *
 * Owns: the ordered list of migrations. Entry i takes the schema from
 * version i to i + 1 and runs in one transaction together with the
 * user_version bump, so a crash leaves the database at i or at i + 1,
 * never between. Migrations are history: never edit one that has shipped,
 * add the next. storage/schema.sql shows the result for readers.
 */
#include "store_int.h"

#include "err.h"
#include "mem.h"
#include "strbuf.h"

#include <stdio.h>

static const char *const migrations[] = {
    /* 0 -> 1: the foundation */
    "CREATE TABLE incidents ("
    " id INTEGER PRIMARY KEY,"
    " title TEXT NOT NULL,"
    " severity INTEGER NOT NULL CHECK (severity BETWEEN 0 AND 4),"
    " state TEXT NOT NULL DEFAULT 'open'"
    "  CHECK (state IN ('open', 'resolved')),"
    " platform TEXT NOT NULL,"
    " channel TEXT,"
    " channel_name TEXT,"
    " origin_room TEXT,"
    " declared_by TEXT,"
    " alarm_key TEXT,"
    " declared_at INTEGER NOT NULL,"
    " resolved_at INTEGER,"
    " root_cause TEXT,"
    " UNIQUE (platform, channel));"
    "CREATE TABLE timeline ("
    " id INTEGER PRIMARY KEY,"
    " incident_id INTEGER NOT NULL REFERENCES incidents (id)"
    "  ON DELETE CASCADE,"
    " at INTEGER NOT NULL,"
    " kind TEXT NOT NULL"
    "  CHECK (kind IN ('auto', 'tagged', 'note', 'backfill')),"
    " text TEXT NOT NULL,"
    " msg_room TEXT,"
    " msg_id TEXT,"
    " author TEXT,"
    " created_at INTEGER NOT NULL,"
    " UNIQUE (incident_id, msg_room, msg_id));"
    "CREATE INDEX timeline_by_incident ON timeline (incident_id, at, id);"
    "CREATE TABLE timeline_history ("
    " id INTEGER PRIMARY KEY,"
    " entry_id INTEGER NOT NULL REFERENCES timeline (id) ON DELETE CASCADE,"
    " text TEXT NOT NULL,"
    " replaced_at INTEGER NOT NULL);"
    "CREATE TABLE actions ("
    " id INTEGER PRIMARY KEY,"
    " incident_id INTEGER NOT NULL REFERENCES incidents (id),"
    " text TEXT NOT NULL,"
    " assignee TEXT NOT NULL,"
    " due_date TEXT NOT NULL,"
    " status TEXT NOT NULL DEFAULT 'open'"
    "  CHECK (status IN ('open', 'done')),"
    " created_by TEXT,"
    " created_at INTEGER NOT NULL,"
    " completed_at INTEGER,"
    " completed_by TEXT);"
    "CREATE INDEX actions_by_incident ON actions (incident_id, id);"
    "CREATE TABLE answers ("
    " incident_id INTEGER NOT NULL REFERENCES incidents (id),"
    " question TEXT NOT NULL,"
    " seq INTEGER NOT NULL,"
    " answer TEXT NOT NULL,"
    " answered_by TEXT,"
    " answered_at INTEGER NOT NULL,"
    " PRIMARY KEY (incident_id, question, seq));"
    "CREATE TABLE processed_events ("
    " platform TEXT NOT NULL,"
    " event_id TEXT NOT NULL,"
    " processed_at INTEGER NOT NULL,"
    " PRIMARY KEY (platform, event_id));"
    "CREATE TABLE reminders_sent ("
    " kind TEXT NOT NULL,"
    " subject_id INTEGER NOT NULL,"
    " period TEXT NOT NULL,"
    " sent_at INTEGER NOT NULL,"
    " PRIMARY KEY (kind, subject_id, period));",
    /* 1 -> 2: messages of incident channels, so a tag needs no API call */
    "CREATE TABLE messages ("
    " platform TEXT NOT NULL,"
    " room TEXT NOT NULL,"
    " msg_id TEXT NOT NULL,"
    " user TEXT,"
    " text TEXT NOT NULL,"
    " thread_id TEXT,"
    " at INTEGER NOT NULL,"
    " PRIMARY KEY (platform, room, msg_id));",
    /* 2 -> 3: incidents opened by alarms keep what the alarm said */
    "ALTER TABLE incidents ADD COLUMN alarm_details TEXT;"
    "ALTER TABLE incidents ADD COLUMN alarm_link TEXT;"
    "CREATE INDEX incidents_by_alarm ON incidents (alarm_key, state);",
    /* 3 -> 4: who tagged an entry, so it stays while any 📌 remains */
    "CREATE TABLE timeline_taggers ("
    " entry_id INTEGER NOT NULL REFERENCES timeline (id) ON DELETE CASCADE,"
    " user TEXT NOT NULL,"
    " PRIMARY KEY (entry_id, user)) WITHOUT ROWID;",
    /* 4 -> 5: users' display names, to render mentions; dedupe rows and
     * cached messages found by age, so old ones can be pruned */
    "CREATE TABLE users ("
    " platform TEXT NOT NULL,"
    " user_id TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " updated_at INTEGER NOT NULL,"
    " PRIMARY KEY (platform, user_id)) WITHOUT ROWID;"
    "CREATE INDEX processed_events_by_age ON processed_events"
    " (processed_at);"
    "CREATE INDEX incidents_by_resolved ON incidents (resolved_at)"
    " WHERE state = 'resolved';",
    /* 5 -> 6: the durable outbox and the scheduler's jobs */
    "CREATE TABLE outbox ("
    " id INTEGER PRIMARY KEY,"
    " platform TEXT NOT NULL,"
    " kind INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 7),"
    " room TEXT,"
    " thread_id TEXT,"
    " user TEXT,"
    " flags INTEGER NOT NULL DEFAULT 0,"
    " ref INTEGER,"
    " msg_id TEXT,"
    " body TEXT NOT NULL,"
    " extra TEXT,"
    " state INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2)),"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_at INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL,"
    " done_at INTEGER);"
    "CREATE INDEX outbox_lanes ON outbox"
    " (platform, coalesce(room, '@' || coalesce(user, '')), id)"
    " WHERE state = 0;"
    "CREATE INDEX outbox_by_age ON outbox (done_at) WHERE state <> 0;"
    "CREATE TABLE jobs ("
    " kind TEXT NOT NULL,"
    " subject INTEGER NOT NULL,"
    " period TEXT NOT NULL,"
    " due_at INTEGER NOT NULL,"
    " state INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1)),"
    " done_at INTEGER,"
    " PRIMARY KEY (kind, subject, period)) WITHOUT ROWID;"
    "CREATE INDEX jobs_due ON jobs (due_at) WHERE state = 0;",
    /* 6 -> 7: the incident's roles */
    "CREATE TABLE roles ("
    " incident_id INTEGER NOT NULL REFERENCES incidents (id),"
    " role INTEGER NOT NULL CHECK (role BETWEEN 0 AND 2),"
    " user TEXT NOT NULL,"
    " how INTEGER NOT NULL CHECK (how BETWEEN 0 AND 3),"
    " since INTEGER NOT NULL,"
    " PRIMARY KEY (incident_id, role)) WITHOUT ROWID;",
    /* 7 -> 8: the blameless review's state */
    "CREATE TABLE reviews ("
    " incident_id INTEGER PRIMARY KEY REFERENCES incidents (id),"
    " state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 2),"
    " step INTEGER NOT NULL,"
    " layers_only INTEGER NOT NULL DEFAULT 0,"
    " thread_row INTEGER,"
    " thread_id TEXT,"
    " full_done INTEGER NOT NULL DEFAULT 0,"
    " found INTEGER CHECK (found BETWEEN 0 AND 2),"
    " applied INTEGER,"
    " caught INTEGER NOT NULL DEFAULT 0,"
    " asked INTEGER NOT NULL DEFAULT 0,"
    " skipped INTEGER NOT NULL DEFAULT 0,"
    " accepted INTEGER,"
    " root_action INTEGER,"
    " started_by TEXT,"
    " started_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL);",
    /* 8 -> 9: follow-up actions tracked to completion (issue 11) */
    "ALTER TABLE actions ADD COLUMN snoozed_until TEXT;"
    "CREATE TABLE action_history ("
    " id INTEGER PRIMARY KEY,"
    " action_id INTEGER NOT NULL REFERENCES actions (id),"
    " at INTEGER NOT NULL,"
    " by TEXT,"
    " what TEXT NOT NULL CHECK (what IN ('created', 'done', 'reopened',"
    "  'reassigned', 'due', 'snoozed')),"
    " detail TEXT);"
    "CREATE INDEX action_history_by_action ON action_history"
    " (action_id, id);"
    "ALTER TABLE users ADD COLUMN tz TEXT;"
    "DROP TABLE reminders_sent;"
    "CREATE TABLE reminder_periods ("
    " kind TEXT NOT NULL,"
    " subject TEXT NOT NULL,"
    " period TEXT NOT NULL,"
    " claimed_at INTEGER NOT NULL,"
    " PRIMARY KEY (kind, subject, period)) WITHOUT ROWID;"
    "CREATE INDEX outbox_about ON outbox (platform, msg_id)"
    " WHERE extra LIKE 'about:%';",
    /* 9 -> 10: what a platform keeps between runs (issue 12, Matrix) */
    "CREATE TABLE platform_state ("
    " platform TEXT NOT NULL,"
    " key TEXT NOT NULL,"
    " value TEXT NOT NULL,"
    " updated_at INTEGER NOT NULL,"
    " PRIMARY KEY (platform, key)) WITHOUT ROWID;"
    "CREATE TABLE reaction_refs ("
    " platform TEXT NOT NULL,"
    " reaction_id TEXT NOT NULL,"
    " room TEXT NOT NULL,"
    " msg_id TEXT NOT NULL,"
    " emoji TEXT NOT NULL,"
    " user TEXT NOT NULL,"
    " at INTEGER NOT NULL,"
    " PRIMARY KEY (platform, reaction_id)) WITHOUT ROWID;"
    "CREATE INDEX reaction_refs_by_age ON reaction_refs (at);",
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) ==
                   STORE_SCHEMA_VERSION,
               "one migration per schema version");

static char *
reason(const char *what, sqlite3 *db)
{
    struct strbuf sb;

    strbuf_init(&sb, 0);
    strbuf_printf(&sb, "%s: %s", what, sqlite3_errmsg(db));
    return strbuf_steal(&sb);
}

int
store_read_version(sqlite3 *db, int *version)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL))
        return BOT_EDB;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? BOT_OK : BOT_EDB;
}

int
store_newer(int v, char **why)
{
    struct strbuf sb;

    strbuf_init(&sb, 0);
    strbuf_printf(&sb,
                  "the database was written by a newer pmbot (schema "
                  "version %d; this pmbot knows up to %d): upgrade "
                  "pmbot, or use another database",
                  v, STORE_SCHEMA_VERSION);
    *why = strbuf_steal(&sb);
    return BOT_ENEWER;
}

/*
 * store_migrate - each step reads the version again under the write lock
 * (BEGIN IMMEDIATE), so two processes starting at once on a new database
 * do not both run step 0 ("table incidents already exists"): the second
 * waits, then finds the work done.
 */
int
store_migrate(sqlite3 *db, int *version, char **why)
{
    int v, rc;

    if (store_read_version(db, &v)) {
        *why = reason("cannot read the schema version", db);
        return BOT_EDB;
    }
    if (v > STORE_SCHEMA_VERSION)
        return store_newer(v, why);
    while (v < STORE_SCHEMA_VERSION) {
        char bump[64];

        rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = store_read_version(db, &v) ? SQLITE_ERROR : SQLITE_OK;
        if (rc == SQLITE_OK && v >= STORE_SCHEMA_VERSION) {
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
            if (v > STORE_SCHEMA_VERSION)
                return store_newer(v, why);
            break;
        }
        snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", v + 1);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(db, migrations[v], NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(db, bump, NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            *why = reason("migration failed", db);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return BOT_EDB;
        }
        v++;
    }
    *version = v;
    return BOT_OK;
}
