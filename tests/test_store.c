/*
 * test_store.c - storage: migrations, the schema file, persistence and the
 * queries the incident code relies on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "err.h"
#include "fixture.h"
#include "mem.h"
#include "store.h"
#include "strbuf.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dbpath[64];

static int
tmpdb_setup(void **state)
{
    int fd;

    (void)state;
    snprintf(dbpath, sizeof(dbpath), "/tmp/pmbot-test-XXXXXX");
    fd = mkstemp(dbpath);
    assert_true(fd >= 0);
    close(fd);
    unlink(dbpath); /* sqlite creates it */
    return 0;
}

static int
tmpdb_teardown(void **state)
{
    char p[96];

    (void)state;
    unlink(dbpath);
    snprintf(p, sizeof(p), "%s-wal", dbpath);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", dbpath);
    unlink(p);
    return 0;
}

static struct store *
open_mem(void)
{
    struct store *s = NULL;
    char *why = NULL;

    assert_int_equal(store_open(":memory:", 1, &s, &why), BOT_OK);
    assert_null(why);
    return s;
}

static int64_t
add_incident(struct store *s, const char *title, int64_t at)
{
    struct incident in = {0};
    int64_t id = 0;

    in.title = (char *)title;
    in.severity = 2;
    in.platform = "terminal";
    in.declared_at = at;
    assert_int_equal(store_incident_insert(s, &in, &id), BOT_OK);
    return id;
}

static int64_t
add_entry(struct store *s, int64_t inc, int64_t at, int kind,
          const char *text, const char *msg_id)
{
    struct timeline_entry e = {0};
    int64_t id = 0;

    e.incident_id = inc;
    e.at = at;
    e.kind = kind;
    e.text = (char *)text;
    e.msg_room = msg_id ? "C1" : NULL;
    e.msg_id = (char *)msg_id;
    e.created_at = 1;
    assert_int_equal(store_timeline_add(s, &e, &id), BOT_OK);
    return id;
}

/* schema_of - every table and index SQL of db, normalised, sorted */
static char *
schema_of(sqlite3 *db)
{
    struct strbuf sb;
    sqlite3_stmt *st;

    strbuf_init(&sb, 0);
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "SELECT type, name, tbl_name FROM sqlite_master"
                           " WHERE name NOT LIKE 'sqlite_%' ORDER BY name",
                           -1, &st, NULL),
        SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
        strbuf_printf(&sb, "%s %s %s\n", sqlite3_column_text(st, 0),
                      sqlite3_column_text(st, 1), sqlite3_column_text(st, 2));
    sqlite3_finalize(st);
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "SELECT m.name, p.name, p.type, p.\"notnull\","
                           " p.pk FROM sqlite_master m, pragma_table_info"
                           "(m.name) p WHERE m.type = 'table'"
                           " ORDER BY m.name, p.cid",
                           -1, &st, NULL),
        SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
        strbuf_printf(&sb, "%s.%s %s %d %d\n", sqlite3_column_text(st, 0),
                      sqlite3_column_text(st, 1), sqlite3_column_text(st, 2),
                      sqlite3_column_int(st, 3), sqlite3_column_int(st, 4));
    sqlite3_finalize(st);
    return strbuf_steal(&sb);
}

static char *
read_file(const char *path)
{
    char *s = fixture_load(path, NULL);

    assert_non_null(s);
    return s;
}
static void
store_open__migrates_to_schema_sql(void **state)
{
    sqlite3 *fresh;
    char *sql = read_file("storage/schema.sql"), *want, *got;
    struct store *s;

    (void)state;
    assert_int_equal(sqlite3_open(":memory:", &fresh), SQLITE_OK);
    assert_int_equal(sqlite3_exec(fresh, sql, NULL, NULL, NULL), SQLITE_OK);
    want = schema_of(fresh);
    sqlite3_close(fresh);
    bot_free(sql);

    s = NULL;
    assert_int_equal(store_open(dbpath, 1, &s, NULL), BOT_OK);
    assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
    store_close(s);
    assert_int_equal(sqlite3_open(dbpath, &fresh), SQLITE_OK);
    got = schema_of(fresh);
    sqlite3_close(fresh);

    assert_string_equal(got, want);
    bot_free(want);
    bot_free(got);
}

static void
store_open__refuses_newer_schema(void **state)
{
    sqlite3 *db;
    struct store *s = NULL;
    char *why = NULL;

    (void)state;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL,
                                  NULL),
                     SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(store_open(dbpath, 1, &s, &why), BOT_ENEWER);
    assert_null(s);
    assert_non_null(why);
    assert_non_null(strstr(why, "newer pmbot"));
    assert_non_null(strstr(why, "99"));
    bot_free(why);
}

static void
store_open__refuses_a_file_that_is_not_a_database(void **state)
{
    FILE *f = fopen(dbpath, "w");
    struct store *s = NULL;
    char *why = NULL;

    (void)state;
    fputs("this is not a database, just text that is long enough\n", f);
    fclose(f);
    assert_int_equal(store_open(dbpath, 1, &s, &why), BOT_EIO);
    assert_non_null(strstr(why, dbpath));
    bot_free(why);
}

static void
store_open__missing_directory_fails_clearly(void **state)
{
    struct store *s = NULL;
    char *why = NULL;

    (void)state;
    assert_int_equal(store_open("/nonexistent-dir/x/pmbot.db", 1, &s, &why),
                     BOT_EIO);
    assert_non_null(strstr(why, "/nonexistent-dir/x/pmbot.db"));
    bot_free(why);
}

static void
store__reopen_keeps_everything(void **state)
{
    struct store *s = NULL;
    struct incident in;
    struct timeline_entry *tl;
    size_t n;
    int64_t id;

    (void)state;
    assert_int_equal(store_open(dbpath, 1, &s, NULL), BOT_OK);
    id = add_incident(s, "Disk full", 1000);
    add_entry(s, id, 2000, TIMELINE_NOTE, "cleaned /var", NULL);
    assert_int_equal(store_incident_set_channel(s, id, "C9", "inc-x"),
                     BOT_OK);
    store_close(s);

    s = NULL;
    assert_int_equal(store_open(dbpath, 1, &s, NULL), BOT_OK);
    assert_int_equal(store_incident_by_channel(s, "terminal", "C9", &in),
                     BOT_OK);
    assert_string_equal(in.title, "Disk full");
    assert_string_equal(in.channel_name, "inc-x");
    assert_int_equal(store_timeline_list(s, in.id, &tl, &n), BOT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(tl[0].text, "cleaned /var");
    store_timeline_list_free(tl, n);
    store_incident_clear(&in);
    store_close(s);
}

static void
store_timeline_list__orders_by_event_time_then_insertion(void **state)
{
    struct store *s = open_mem();
    struct timeline_entry *tl;
    int64_t id = add_incident(s, "t", 0);
    size_t n;

    (void)state;
    add_entry(s, id, 3000, TIMELINE_AUTO, "third", NULL);
    add_entry(s, id, 1000, TIMELINE_BACKFILL, "first", NULL);
    add_entry(s, id, 3000, TIMELINE_NOTE, "fourth", NULL);
    add_entry(s, id, 2000, TIMELINE_TAGGED, "second", "1.0");

    assert_int_equal(store_timeline_list(s, id, &tl, &n), BOT_OK);
    assert_int_equal(n, 4);
    assert_string_equal(tl[0].text, "first");
    assert_int_equal(tl[0].kind, TIMELINE_BACKFILL);
    assert_string_equal(tl[1].text, "second");
    assert_int_equal(tl[1].kind, TIMELINE_TAGGED);
    assert_string_equal(tl[2].text, "third");
    assert_string_equal(tl[3].text, "fourth");
    store_timeline_list_free(tl, n);
    store_close(s);
}

static void
store_timeline_add__one_entry_per_message(void **state)
{
    struct store *s = open_mem();
    struct timeline_entry e = {0};
    int64_t id = add_incident(s, "t", 0);

    (void)state;
    add_entry(s, id, 1000, TIMELINE_TAGGED, "x", "1.5");
    e.incident_id = id;
    e.at = 1000;
    e.kind = TIMELINE_TAGGED;
    e.text = "x again";
    e.msg_room = "C1";
    e.msg_id = "1.5";
    assert_int_equal(store_timeline_add(s, &e, NULL), BOT_EDB);
    store_close(s);
}

static void
store_timeline_set_text__keeps_history(void **state)
{
    struct store *s = open_mem();
    struct timeline_entry e, *tl;
    struct timeline_edit *ed;
    int64_t id = add_incident(s, "t", 0);
    size_t n, ne;

    (void)state;
    add_entry(s, id, 1000, TIMELINE_TAGGED, "v1", "9.9");
    assert_int_equal(store_timeline_by_msg(s, id, "C1", "9.9", &e), BOT_OK);
    assert_int_equal(store_timeline_set_text(s, e.id, "v2", 5000), BOT_OK);
    assert_int_equal(store_timeline_set_text(s, e.id, "v2", 6000), BOT_OK);
    assert_int_equal(store_timeline_set_text(s, e.id, "v3", 7000), BOT_OK);

    assert_int_equal(store_timeline_list(s, id, &tl, &n), BOT_OK);
    assert_string_equal(tl[0].text, "v3");
    assert_int_equal(store_timeline_edits(s, id, &ed, &ne), BOT_OK);
    assert_int_equal(ne, 2); /* the unchanged "v2" is not an edit */
    assert_string_equal(ed[0].text, "v1");
    assert_int_equal(ed[0].replaced_at, 5000);
    assert_string_equal(ed[1].text, "v2");

    assert_int_equal(store_timeline_remove(s, e.id), BOT_OK);
    store_timeline_edits_free(ed, ne);
    assert_int_equal(store_timeline_edits(s, id, &ed, &ne), BOT_OK);
    assert_int_equal(ne, 0); /* history goes with its entry */
    assert_int_equal(store_timeline_remove(s, e.id), BOT_ENOTFOUND);
    store_timeline_edits_free(ed, ne);
    store_timeline_list_free(tl, n);
    store_timeline_clear(&e);
    store_close(s);
}

static void
store_action_complete__twice_is_refused(void **state)
{
    struct store *s = open_mem();
    struct action a = {0}, got;
    struct action *list;
    int64_t inc = add_incident(s, "t", 0), id;
    size_t n;

    (void)state;
    a.incident_id = inc;
    a.text = "add alert";
    a.assignee = "bob";
    a.due_date = "2026-12-01";
    a.created_at = 10;
    assert_int_equal(store_action_add(s, &a, &id), BOT_OK);
    assert_int_equal(store_action_complete(s, id, 20, "bob"), BOT_OK);
    assert_int_equal(store_action_complete(s, id, 30, "bob"), BOT_EEXIST);
    assert_int_equal(store_action_complete(s, id + 1, 30, "bob"),
                     BOT_ENOTFOUND);
    assert_int_equal(store_action_get(s, id, &got), BOT_OK);
    assert_int_equal(got.status, ACTION_DONE);
    assert_int_equal(got.completed_at, 20);
    assert_string_equal(got.incident_title, "t");
    store_action_clear(&got);

    assert_int_equal(store_action_list(s, 0, 0, &list, &n), BOT_OK);
    assert_int_equal(n, 0);
    store_action_list_free(list, n);
    assert_int_equal(store_action_list(s, inc, 1, &list, &n), BOT_OK);
    assert_int_equal(n, 1);
    store_action_list_free(list, n);
    store_close(s);
}

static void
store_tx_rollback__undoes_every_change(void **state)
{
    struct store *s = open_mem();
    struct incident *list;
    size_t n;

    (void)state;
    assert_int_equal(store_tx_begin(s), BOT_OK);
    add_incident(s, "half", 1);
    store_tx_rollback(s);
    assert_int_equal(store_incident_list(s, 0, 0, &list, &n), BOT_OK);
    assert_int_equal(n, 0);
    store_incident_list_free(list, n);
    store_close(s);
}

static void
store_event_claim__second_claim_is_not_first(void **state)
{
    struct store *s = open_mem();
    int first = -1;

    (void)state;
    assert_int_equal(store_event_claim(s, "slack", "Ev1", 1, &first), BOT_OK);
    assert_int_equal(first, 1);
    assert_int_equal(store_event_claim(s, "slack", "Ev1", 2, &first), BOT_OK);
    assert_int_equal(first, 0);
    assert_int_equal(store_event_claim(s, "matrix", "Ev1", 2, &first),
                     BOT_OK);
    assert_int_equal(first, 1);
    store_close(s);
}

static void
store_incident__lookups_and_pending_channels(void **state)
{
    struct store *s = open_mem();
    struct incident in, *list;
    int64_t a = add_incident(s, "a", 1), b = add_incident(s, "b", 2);
    size_t n;
    int used = -1;

    (void)state;
    assert_int_equal(store_incident_set_channel(s, a, "C1", "inc-a"), BOT_OK);
    assert_int_equal(store_incident_list(s, 0, 1, &list, &n), BOT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].id, b);
    store_incident_list_free(list, n);

    assert_int_equal(store_incident_by_channel_name(s, "#inc-a", &in),
                     BOT_OK);
    assert_int_equal(in.id, a);
    store_incident_clear(&in);
    assert_int_equal(store_incident_channel_name_used(s, "inc-a", &used),
                     BOT_OK);
    assert_int_equal(used, 1);
    assert_int_equal(store_incident_channel_name_used(s, "inc-b", &used),
                     BOT_OK);
    assert_int_equal(used, 0);
    assert_int_equal(store_incident_get(s, 99, &in), BOT_ENOTFOUND);
    assert_int_equal(store_incident_resolve(s, b, 50), BOT_OK);
    assert_int_equal(store_incident_list(s, 1, 0, &list, &n), BOT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].id, a);
    store_incident_list_free(list, n);
    assert_int_equal(store_incident_set_severity(s, 99, 1), BOT_ENOTFOUND);
    store_close(s);
}

static void
store__hostile_text_is_data(void **state)
{
    struct store *s = open_mem();
    struct incident in;
    int64_t id = add_incident(s, "x'); DROP TABLE incidents; --", 1);

    (void)state;
    assert_int_equal(store_incident_get(s, id, &in), BOT_OK);
    assert_string_equal(in.title, "x'); DROP TABLE incidents; --");
    store_incident_clear(&in);
    store_close(s);
}

static void
store_tx__nested_rollback_undoes_only_the_inner_part(void **state)
{
    struct store *s = open_mem();
    struct incident *list;
    size_t n;

    (void)state;
    assert_int_equal(store_tx_begin(s), BOT_OK);
    add_incident(s, "outer", 1);
    assert_int_equal(store_tx_begin(s), BOT_OK);
    assert_int_equal(store_tx_depth(s), 2);
    add_incident(s, "inner, undone", 2);
    store_tx_rollback(s);
    assert_int_equal(store_tx_begin(s), BOT_OK);
    add_incident(s, "inner, kept", 3);
    assert_int_equal(store_tx_commit(s), BOT_OK);
    assert_int_equal(store_tx_commit(s), BOT_OK);
    assert_int_equal(store_tx_depth(s), 0);
    assert_int_equal(store_incident_list(s, 0, 0, &list, &n), BOT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].title, "inner, kept");
    assert_string_equal(list[1].title, "outer");
    store_incident_list_free(list, n);
    store_close(s);
}

static void
store_message__put_get_edit_remove(void **state)
{
    struct store *s = open_mem();
    struct store_message m = {0}, got;

    (void)state;
    m.room = "C1";
    m.msg_id = "1.1";
    m.user = "U1";
    m.text = "first";
    m.at = 1100;
    assert_int_equal(store_message_put(s, "slack", &m), BOT_OK);
    m.text = "again"; /* a redelivered message updates, never duplicates */
    assert_int_equal(store_message_put(s, "slack", &m), BOT_OK);
    assert_int_equal(store_message_get(s, "slack", "C1", "1.1", &got),
                     BOT_OK);
    assert_string_equal(got.text, "again");
    assert_int_equal(got.at, 1100);
    assert_null(got.thread_id);
    store_message_clear(&got);
    assert_int_equal(store_message_get(s, "matrix", "C1", "1.1", &got),
                     BOT_ENOTFOUND);
    assert_int_equal(store_message_set_text(s, "slack", "C1", "1.1", "v2"),
                     BOT_OK);
    assert_int_equal(store_message_get(s, "slack", "C1", "1.1", &got),
                     BOT_OK);
    assert_string_equal(got.text, "v2");
    store_message_clear(&got);
    assert_int_equal(store_message_remove(s, "slack", "C1", "1.1"), BOT_OK);
    assert_int_equal(store_message_get(s, "slack", "C1", "1.1", &got),
                     BOT_ENOTFOUND);
    store_close(s);
}

static void
store_user__put_replaces_name_lookup_by_platform(void **state)
{
    static const char hostile[] = "x'); DROP TABLE users;--";
    struct store *s = open_mem();
    char *name = NULL;

    (void)state;
    assert_int_equal(store_user_name(s, "slack", "U1", &name), BOT_ENOTFOUND);
    assert_null(name);
    assert_int_equal(store_user_put(s, "slack", "U1", "alice", 1000), BOT_OK);
    assert_int_equal(store_user_put(s, "slack", "U1", "Alice B", 2000),
                     BOT_OK);
    assert_int_equal(store_user_name(s, "slack", "U1", &name), BOT_OK);
    assert_string_equal(name, "Alice B");
    bot_free(name);
    name = NULL;
    assert_int_equal(store_user_name(s, "matrix", "U1", &name),
                     BOT_ENOTFOUND);
    assert_int_equal(store_user_put(s, "slack", "U2", hostile, 3000), BOT_OK);
    assert_int_equal(store_user_name(s, "slack", "U2", &name), BOT_OK);
    assert_string_equal(name, hostile);
    bot_free(name);
    store_close(s);
}

static long
wal_size(void)
{
    char p[96];
    struct stat st;

    snprintf(p, sizeof(p), "%s-wal", dbpath);
    return stat(p, &st) ? 0 : (long)st.st_size;
}

/* put_messages - n messages of `len` bytes each, each its own commit */
static void
put_messages(struct store *s, int from, int n, size_t len)
{
    char id[32], *text = bot_malloc(len + 1);
    struct store_message m = {0};

    assert_non_null(text);
    memset(text, 'x', len);
    text[len] = '\0';
    m.room = "C1";
    m.text = text;
    m.at = 1;
    for (int i = from; i < from + n; i++) {
        snprintf(id, sizeof(id), "%d.000", i);
        m.msg_id = id;
        assert_int_equal(store_message_put(s, "slack", &m), BOT_OK);
    }
    bot_free(text);
}

struct writer {
    struct store *s;
    int n;
    atomic_int done;
};

static void *
writer_run(void *arg)
{
    struct writer *w = arg;
    struct store_message m = {0};
    char id[32];
    int failed = 0;

    m.room = "C1";
    m.text = "a message of a steady stream";
    m.at = 1;
    for (int i = 0; i < w->n && !failed; i++) {
        snprintf(id, sizeof(id), "%d.000", i);
        m.msg_id = id;
        failed = store_message_put(w->s, "slack", &m) != BOT_OK;
        /* the daemon's loop does other work between its commits */
        usleep(50);
    }
    atomic_store(&w->done, failed ? -1 : 1);
    return NULL;
}

/* A writer committing without pause while checkpoints run, as the daemon
 * does under load: a PASSIVE checkpoint alone never saw the WAL fully
 * copied when a transaction began, so the WAL never rewound (reached
 * 30 MB here). */
static void
store_checkpoint__keeps_the_wal_small_under_steady_commits(void **state)
{
    struct writer w = {NULL, 20000, 0};
    pthread_t t;
    long max = 0;
    int done, failed = 0;

    (void)state;
    assert_int_equal(store_open(dbpath, 0, &w.s, NULL), BOT_OK);
    store_checkpoint_elsewhere(w.s);
    assert_int_equal(pthread_create(&t, NULL, writer_run, &w), 0);
    while (!(done = atomic_load(&w.done))) {
        long sz;

        /* asserted after the join: the thread uses w */
        if (store_checkpoint(dbpath))
            failed++;
        sz = wal_size();
        if (sz > max)
            max = sz;
    }
    pthread_join(t, NULL);
    assert_int_equal(done, 1);
    assert_int_equal(failed, 0);
    assert_true(max < STORE_WAL_LIMIT);
    assert_true(store_wal_frames(w.s) > 0);
    store_close(w.s);
}

/* A burst's WAL, past the limit, is given back rather than kept until
 * the next restart. */
static void
store_checkpoint__truncates_a_wal_past_the_limit(void **state)
{
    struct store *s = NULL;
    long frames;

    (void)state;
    assert_int_equal(store_open(dbpath, 0, &s, NULL), BOT_OK);
    store_checkpoint_elsewhere(s);
    assert_int_equal(store_tx_begin(s), BOT_OK);
    put_messages(s, 0, 100, 100000);
    assert_int_equal(store_tx_commit(s), BOT_OK);
    frames = store_wal_frames(s);
    assert_true(frames > STORE_WAL_LIMIT / 4096);
    assert_true(wal_size() > STORE_WAL_LIMIT);
    assert_int_equal(store_checkpoint(dbpath), BOT_OK);
    assert_int_equal(wal_size(), 0);
    /* and what was in it is in the database */
    put_messages(s, 100, 1, 10);
    store_close(s);
    s = NULL;
    assert_int_equal(store_open(dbpath, 0, &s, NULL), BOT_OK);
    {
        struct store_message got;

        assert_int_equal(store_message_get(s, "slack", "C1", "99.000", &got),
                         BOT_OK);
        assert_int_equal(strlen(got.text), 100000);
        store_message_clear(&got);
    }
    store_close(s);
}

/* Processes starting together on a new database: each must migrate it
 * or find it migrated ("table incidents already exists" before). */
static void
store_open__concurrent_first_opens_migrate_once(void **state)
{
    enum { ROUNDS = 4, KIDS = 6 };

    (void)state;
    for (int round = 0; round < ROUNDS; round++) {
        pid_t kids[KIDS];
        int go[2], failed = 0;
        char p[96];

        unlink(dbpath);
        snprintf(p, sizeof(p), "%s-wal", dbpath);
        unlink(p);
        snprintf(p, sizeof(p), "%s-shm", dbpath);
        unlink(p);
        assert_int_equal(pipe(go), 0);
        for (int i = 0; i < KIDS; i++) {
            kids[i] = fork();
            assert_true(kids[i] >= 0);
            if (!kids[i]) {
                struct store *s = NULL;
                char c, *why = NULL;

                close(go[1]);
                /* all start when the parent closes the pipe */
                if (read(go[0], &c, 1) != 0)
                    _exit(3);
                if (store_open(dbpath, 0, &s, &why)) {
                    fprintf(stderr, "child: %s\n", why ? why : "?");
                    _exit(1);
                }
                _exit(store_schema_version(s) == STORE_SCHEMA_VERSION ? 0
                                                                      : 2);
            }
        }
        close(go[0]);
        close(go[1]);
        for (int i = 0; i < KIDS; i++) {
            int st = 0;

            assert_int_equal(waitpid(kids[i], &st, 0), kids[i]);
            failed += !WIFEXITED(st) || WEXITSTATUS(st);
        }
        assert_int_equal(failed, 0);
    }
}

static void
store_open_readonly__never_creates(void **state)
{
    struct store *s = NULL;
    char *why = NULL;

    (void)state;
    assert_int_equal(store_open_readonly(dbpath, &s, &why), BOT_ENOTFOUND);
    assert_null(s);
    assert_non_null(why);
    assert_non_null(strstr(why, "no database at"));
    assert_non_null(strstr(why, dbpath));
    bot_free(why);
    assert_int_equal(access(dbpath, F_OK), -1);
}

static void
store_open_readonly__reads_and_refuses_to_write(void **state)
{
    struct store *s = NULL, *ro = NULL;
    char *name = NULL;

    (void)state;
    assert_int_equal(store_open(dbpath, 0, &s, NULL), BOT_OK);
    assert_int_equal(store_user_put(s, "slack", "U1", "alice", 1), BOT_OK);
    /* alongside a writer, as a report beside the daemon */
    assert_int_equal(store_open_readonly(dbpath, &ro, NULL), BOT_OK);
    assert_int_equal(store_user_name(ro, "slack", "U1", &name), BOT_OK);
    assert_string_equal(name, "alice");
    bot_free(name);
    assert_int_equal(store_user_put(ro, "slack", "U2", "bob", 1), BOT_EDB);
    assert_string_equal(store_fault(ro), "database is read-only");
    store_close(ro);
    store_close(s);
}

static void
store_open_readonly__does_not_migrate_an_older_schema(void **state)
{
    sqlite3 *db;
    struct store *s = NULL;
    char *why = NULL;
    sqlite3_stmt *st;

    (void)state;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE incidents (id INTEGER);"
                                      " PRAGMA user_version = 1",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open_readonly(dbpath, &s, &why), BOT_EDB);
    assert_non_null(strstr(why, "schema version 1"));
    assert_non_null(strstr(why, "pmbot run"));
    bot_free(why);
    why = NULL;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st,
                                        NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
    /* an empty file is no database either, and stays empty */
    fclose(fopen(dbpath, "w"));
    assert_int_equal(store_open_readonly(dbpath, &s, &why), BOT_EDB);
    assert_non_null(strstr(why, "not a pmbot database"));
    bot_free(why);
}

static void
store_open_daemon__one_per_database(void **state)
{
    struct store *a = NULL, *b = NULL, *ro = NULL;
    char *why = NULL, want[64], lock[96];

    (void)state;
    assert_int_equal(store_open_daemon(dbpath, 0, &a, NULL), BOT_OK);
    assert_int_equal(store_open_daemon(dbpath, 0, &b, &why), BOT_EEXIST);
    assert_null(b);
    snprintf(want, sizeof(want), "(pid %ld)", (long)getpid());
    assert_non_null(strstr(why, "in use by another pmbot"));
    assert_non_null(strstr(why, want));
    bot_free(why);
    /* readers need no lock */
    assert_int_equal(store_open_readonly(dbpath, &ro, NULL), BOT_OK);
    store_close(ro);
    store_close(a);
    assert_int_equal(store_open_daemon(dbpath, 0, &b, NULL), BOT_OK);
    store_close(b);
    snprintf(lock, sizeof(lock), "%s.lock", dbpath);
    unlink(lock);
}

/* count - one number from the database file, on a connection of its own */
static int
count(const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int n;

    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void
store_prune_jobs_and_periods__old_go_waiting_and_recent_stay(void **state)
{
    struct store *s = NULL;
    struct job j = {0};
    int first, claimed, n;

    (void)state;
    assert_int_equal(store_open(dbpath, 0, &s, NULL), BOT_OK);
    assert_int_equal(store_job_add(s, "reminders", 0, "a", 1000), BOT_OK);
    assert_int_equal(store_job_add(s, "reminders", 0, "b", 2000), BOT_OK);
    j.kind = (char *)"reminders";
    j.period = (char *)"a";
    j.due_at = 1000;
    assert_int_equal(store_tx_begin(s), BOT_OK);
    assert_int_equal(store_job_claim(s, &j, 1500, &claimed), BOT_OK);
    assert_int_equal(store_period_claim(s, "weekly", "slack:U1", "2026-W01",
                                        1000, &first),
                     BOT_OK);
    assert_int_equal(store_period_claim(s, "weekly", "slack:U1", "2026-W40",
                                        9000, &first),
                     BOT_OK);
    assert_int_equal(store_tx_commit(s), BOT_OK);
    assert_int_equal(claimed, 1);
    assert_int_equal(store_prune_jobs(s, 5000, 100, &n), BOT_OK);
    assert_int_equal(n, 1); /* the done one; the waiting one stays */
    assert_int_equal(count("SELECT count(*) FROM jobs WHERE period = 'b'"), 1);
    assert_int_equal(store_prune_periods(s, 5000, 100, &n), BOT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_period_seen(s, "weekly", "slack:U1", "2026-W40",
                                       &first),
                     BOT_OK);
    assert_int_equal(first, 1);
    store_close(s);
}

static void
store_prune_events__old_go_in_batches_fresh_stay(void **state)
{
    struct store *s = NULL;
    char id[32];
    int first, n;

    (void)state;
    assert_int_equal(store_open(dbpath, 0, &s, NULL), BOT_OK);
    assert_int_equal(store_tx_begin(s), BOT_OK);
    for (int i = 0; i < 1200; i++) {
        snprintf(id, sizeof(id), "Old%d", i);
        assert_int_equal(store_event_claim(s, "slack", id, 1000 + i, &first),
                         BOT_OK);
    }
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof(id), "New%d", i);
        assert_int_equal(store_event_claim(s, "slack", id, 5000, &first),
                         BOT_OK);
    }
    assert_int_equal(store_tx_commit(s), BOT_OK);
    assert_int_equal(store_prune_events(s, 5000, 500, &n), BOT_OK);
    assert_int_equal(n, 500);
    assert_int_equal(store_prune_events(s, 5000, 500, &n), BOT_OK);
    assert_int_equal(n, 500);
    assert_int_equal(store_prune_events(s, 5000, 500, &n), BOT_OK);
    assert_int_equal(n, 200);
    assert_int_equal(store_prune_events(s, 5000, 500, &n), BOT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(count("SELECT count(*) FROM processed_events"), 10);
    assert_int_equal(store_event_seen(s, "slack", "New3", &first), BOT_OK);
    assert_int_equal(first, 1);
    store_close(s);
}

static void
store_prune_messages__only_long_resolved_incidents_lose_theirs(void **state)
{
    struct store *s = NULL;
    struct store_message m = {0}, got;
    const char *rooms[] = {"COLD", "WARM", "OPEN", "NONE"};
    char msg[32];
    int64_t id;
    int n;

    (void)state;
    assert_int_equal(store_open(dbpath, 0, &s, NULL), BOT_OK);
    for (int r = 0; r < 3; r++) {
        struct incident in = {0};

        in.title = "t";
        in.severity = 2;
        in.platform = "slack";
        in.channel = (char *)rooms[r];
        in.declared_at = 10;
        assert_int_equal(store_incident_insert(s, &in, &id), BOT_OK);
        if (r == 0)
            assert_int_equal(store_incident_resolve(s, id, 100), BOT_OK);
        if (r == 1)
            assert_int_equal(store_incident_resolve(s, id, 9000), BOT_OK);
    }
    m.text = "hello";
    m.at = 50;
    for (int r = 0; r < 4; r++) {
        m.room = (char *)rooms[r];
        for (int i = 0; i < 3; i++) {
            snprintf(msg, sizeof(msg), "%d.0", i);
            m.msg_id = msg;
            assert_int_equal(store_message_put(s, "slack", &m), BOT_OK);
        }
    }
    assert_int_equal(store_prune_messages(s, 5000, 2, &n), BOT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(store_prune_messages(s, 5000, 2, &n), BOT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_prune_messages(s, 5000, 2, &n), BOT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_message_get(s, "slack", "COLD", "1.0", &got),
                     BOT_ENOTFOUND);
    for (int r = 1; r < 4; r++) {
        assert_int_equal(store_message_get(s, "slack", rooms[r], "1.0", &got),
                         BOT_OK);
        store_message_clear(&got);
    }
    assert_int_equal(count("SELECT count(*) FROM messages"), 9);
    store_close(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(store_open__migrates_to_schema_sql,
                                        tmpdb_setup, tmpdb_teardown),
        cmocka_unit_test_setup_teardown(store_open__refuses_newer_schema,
                                        tmpdb_setup, tmpdb_teardown),
        cmocka_unit_test_setup_teardown(
            store_open__refuses_a_file_that_is_not_a_database, tmpdb_setup,
            tmpdb_teardown),
        cmocka_unit_test(store_open__missing_directory_fails_clearly),
        cmocka_unit_test_setup_teardown(store__reopen_keeps_everything,
                                        tmpdb_setup, tmpdb_teardown),
        cmocka_unit_test(
            store_timeline_list__orders_by_event_time_then_insertion),
        cmocka_unit_test(store_timeline_add__one_entry_per_message),
        cmocka_unit_test(store_timeline_set_text__keeps_history),
        cmocka_unit_test(store_action_complete__twice_is_refused),
        cmocka_unit_test(store_tx_rollback__undoes_every_change),
        cmocka_unit_test(store_event_claim__second_claim_is_not_first),
        cmocka_unit_test(store_incident__lookups_and_pending_channels),
        cmocka_unit_test(store__hostile_text_is_data),
        cmocka_unit_test(
            store_tx__nested_rollback_undoes_only_the_inner_part),
        cmocka_unit_test(store_message__put_get_edit_remove),
        cmocka_unit_test(store_user__put_replaces_name_lookup_by_platform),
        cmocka_unit_test_setup_teardown(
            store_checkpoint__keeps_the_wal_small_under_steady_commits,
            tmpdb_setup, tmpdb_teardown),
        cmocka_unit_test_setup_teardown(
            store_checkpoint__truncates_a_wal_past_the_limit, tmpdb_setup,
            tmpdb_teardown),
        cmocka_unit_test_setup_teardown(
            store_open__concurrent_first_opens_migrate_once, tmpdb_setup,
            tmpdb_teardown),
        cmocka_unit_test_setup_teardown(store_open_readonly__never_creates,
                                        tmpdb_setup, tmpdb_teardown),
        cmocka_unit_test_setup_teardown(
            store_open_readonly__reads_and_refuses_to_write, tmpdb_setup,
            tmpdb_teardown),
        cmocka_unit_test_setup_teardown(
            store_open_readonly__does_not_migrate_an_older_schema,
            tmpdb_setup, tmpdb_teardown),
        cmocka_unit_test_setup_teardown(store_open_daemon__one_per_database,
                                        tmpdb_setup, tmpdb_teardown),
        cmocka_unit_test_setup_teardown(
            store_prune_events__old_go_in_batches_fresh_stay, tmpdb_setup,
            tmpdb_teardown),
        cmocka_unit_test_setup_teardown(
            store_prune_jobs_and_periods__old_go_waiting_and_recent_stay,
            tmpdb_setup, tmpdb_teardown),
        cmocka_unit_test_setup_teardown(
            store_prune_messages__only_long_resolved_incidents_lose_theirs,
            tmpdb_setup, tmpdb_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
