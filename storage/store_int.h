/*
 * store_int.h - what the storage/ files share and nobody else sees.
 *
 * Every statement is prepared once at store_open(); store_stmt() hands one
 * out reset and with cleared bindings, so no call can see another's values.
 */
#ifndef PMBOT_STORE_INT_H
#define PMBOT_STORE_INT_H

#include "store.h"

#include <sqlite3.h>
#include <sys/types.h>

enum stmt_id {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_MSG_PUT,
    ST_MSG_GET,
    ST_MSG_SET_TEXT,
    ST_MSG_REMOVE,
    ST_INC_INSERT,
    ST_INC_GET,
    ST_INC_BY_CHANNEL,
    ST_INC_BY_CHANNEL_NAME,
    ST_INC_SET_CHANNEL,
    ST_INC_SET_SEV,
    ST_INC_RESOLVE,
    ST_INC_NAME_USED,
    ST_INC_LIST,
    ST_INC_OPEN_BY_ALARM,
    ST_INC_LIST_BY_ALARM,
    ST_INC_COUNT_OPEN,
    ST_ACT_COUNT_OPEN,
    ST_TL_ADD,
    ST_TL_TAG,
    ST_TL_ID_BY_MSG,
    ST_TAGGER_ADD,
    ST_TAGGER_REMOVE,
    ST_TAGGER_COUNT,
    ST_TL_BY_MSG,
    ST_TL_GET_TEXT,
    ST_TL_HISTORY_ADD,
    ST_TL_SET_TEXT,
    ST_TL_REMOVE,
    ST_TL_LIST,
    ST_TL_EDITS,
    ST_ACT_ADD,
    ST_ACT_GET,
    ST_ACT_COMPLETE,
    ST_ACT_LIST,
    ST_EVENT_CLAIM,
    ST_EVENT_SEEN,
    ST_USER_PUT,
    ST_USER_NAME,
    ST_USER_SET_TZ,
    ST_USER_TZ,
    ST_OUTBOX_ABOUT,
    ST_ASSIGNEE_CHANNEL,
    ST_PRUNE_JOBS,
    ST_PRUNE_PERIODS,
    ST_PERIOD_CLAIM,
    ST_PERIOD_SEEN,
    ST_ACT_EACH_BY_ASSIGNEE,
    ST_ACT_EACH_OVERDUE,
    ST_ACT_EACH_BY_INCIDENT,
    ST_ACT_STATS,
    ST_PRUNE_EVENTS,
    ST_PRUNE_MESSAGES,
    ST_OUTBOX_ADD,
    ST_OUTBOX_PENDING,
    ST_OUTBOX_DONE,
    ST_OUTBOX_RETRY,
    ST_OUTBOX_FAIL,
    ST_OUTBOX_RESULT,
    ST_OUTBOX_MAX,
    ST_OUTBOX_COUNT,
    ST_PRUNE_OUTBOX,
    ST_JOB_ADD,
    ST_JOB_DUE,
    ST_JOB_CLAIM,
    ST_JOB_POSTPONE,
    ST_JOB_NEXT,
    ST_REVIEW_STARTED,
    ST_ROLE_SET,
    ST_RESPONDERS,
    ST_ROLES_GET,
    ST_REVIEW_GET,
    ST_REVIEW_PUT,
    ST_ANSWER_ADD,
    ST_ANSWER_SET,
    ST_ANSWER_LIST,
    ST_INC_SET_ROOT,
    ST_ACT_REOPEN,
    ST_ACT_REASSIGN,
    ST_ACT_SET_DUE,
    ST_ACT_SNOOZE,
    ST_ACT_HISTORY_ADD,
    ST_ACT_HISTORY,
    ST_ACT_LIST_LAST,
    ST_STATE_GET,
    ST_STATE_PUT,
    ST_REACTION_PUT,
    ST_REACTION_GET,
    ST_PRUNE_REACTIONS,
    ST__COUNT
};

struct store {
    sqlite3 *db;
    sqlite3_stmt *st[ST__COUNT];
    int version; /* schema version after migration */
    int depth;   /* open transactions: 1 = BEGIN, more = savepoints */
    long wal_frames; /* pages in the WAL after the last commit */
    int lock_fd;     /* the daemon's <path>.lock, or -1 */
    char *path;      /* NULL for :memory: */
    char *wal_path;  /* NULL when there was no -wal to watch */
    int err;         /* extended code of the last failure, see store_fault */
    dev_t dev, wal_dev; /* the files opened, see store_file_check */
    ino_t ino, wal_ino;
};

/* migrate.c: bring db to STORE_SCHEMA_VERSION; *why new on failure. */
int store_migrate(sqlite3 *db, int *version, char **why);
/* store_read_version - PRAGMA user_version into *version; BOT_EDB (the
 * engine's code in sqlite3_extended_errcode) on failure. */
int store_read_version(sqlite3 *db, int *version);
/* store_newer - BOT_ENEWER, *why (new) saying a newer pmbot wrote it. */
int store_newer(int version, char **why);

/* store_stmt - the prepared statement, reset and unbound (borrowed). */
sqlite3_stmt *store_stmt(struct store *s, enum stmt_id id);

/* store_done - step a statement that returns no rows; BOT_OK or BOT_EDB.
 * Leaves the statement reset. */
int store_done(struct store *s, sqlite3_stmt *st);

/* store_fail - log the engine's reason once, reset st; returns BOT_EDB. */
int store_fail(struct store *s, sqlite3_stmt *st, const char *what);

/* Binding helpers: NULL text binds SQL NULL; 0 binds NULL for opt_int. */
int store_bind_text(sqlite3_stmt *st, int i, const char *v);
int store_bind_opt_int(sqlite3_stmt *st, int i, int64_t v);

/* store_col_text - new copy of a text column (NULL stays NULL); *rc gets
 * BOT_ENOMEM on failure, else is untouched. */
char *store_col_text(sqlite3_stmt *st, int i, int *rc);

/* store_one - step a bound lookup of at most one row into out with read;
 * BOT_ENOTFOUND when there is none. Leaves the statement reset. */
int store_one(struct store *s, sqlite3_stmt *st,
              int (*read)(sqlite3_stmt *, void *), void *out,
              const char *what);

/* store_read_i64 - a store_one reader: column 0 into the int64_t at p. */
int store_read_i64(sqlite3_stmt *st, void *p);
/* store_read_text - a reader: a new copy of text column 0 into the char *
 * at p (BOT_ENOMEM). */
int store_read_text(sqlite3_stmt *st, void *p);

/* store_update_one - run a bound UPDATE/DELETE; BOT_ENOTFOUND if it
 * touched no row. */
int store_update_one(struct store *s, sqlite3_stmt *st);

/* store_collect - step st to the end, reading each row with `read` into a
 * new array of `size`-byte elements (*out, *n); frees what it read with
 * `clear` on failure. */
int store_collect(struct store *s, sqlite3_stmt *st, size_t size,
                  int (*read)(sqlite3_stmt *, void *), void (*clear)(void *),
                  void **out, size_t *n);

#endif
