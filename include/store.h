/*
 * store.h - pmbot's storage: the only module that speaks SQL.
 *
 * Owns: the database connection, its prepared statements and the schema
 * (see storage/schema.sql, migrated forward by storage/migrate.c).
 * Does not own: any decision about incidents; it stores and answers.
 * Invariants:
 *   - every value reaches SQL through a bound parameter;
 *   - times are UTC epoch milliseconds;
 *   - nothing SQLite-specific crosses this API, so another engine can
 *     implement it;
 *   - a change spanning several calls is wrapped in store_tx_begin() /
 *     store_tx_commit(); store_tx_rollback() undoes it. Single calls outside
 *     a transaction are atomic on their own.
 * Errors: BOT_EDB for an engine failure (the reason goes to the log once),
 * BOT_ENOTFOUND when a looked-up row does not exist, BOT_ENOMEM.
 * Ownership: structs filled by store_*_get / lists are **new**: free with the
 * matching *_clear / *_list_free. Strings passed in are borrowed.
 */
#ifndef PMBOT_STORE_H
#define PMBOT_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* The schema version this build writes (PRAGMA user_version). */
#define STORE_SCHEMA_VERSION 10

enum incident_state { INCIDENT_OPEN = 0, INCIDENT_RESOLVED = 1 };

struct incident {
    int64_t id;
    char *title;
    int severity; /* 0 (SEV0, worst) .. 4 */
    int state;    /* enum incident_state */
    char *platform;
    char *channel;      /* platform room id; NULL until the channel is open */
    char *channel_name; /* human name, e.g. inc-20261122-db-down; nullable */
    char *origin_room;  /* where it was declared; nullable */
    char *declared_by;  /* platform user id; nullable (alarms) */
    char *alarm_key;    /* dedup key of the alarm that opened it; nullable */
    int64_t declared_at;
    int64_t resolved_at; /* 0 while open */
    char *root_cause;    /* nullable */
    char *alarm_details; /* what the alarm said (labels...); nullable */
    char *alarm_link;    /* the alarm's generator link; nullable */
};

enum timeline_kind {
    TIMELINE_AUTO = 0,
    TIMELINE_TAGGED,
    TIMELINE_NOTE,
    TIMELINE_BACKFILL
};

struct timeline_entry {
    int64_t id;
    int64_t incident_id;
    int64_t at; /* when the event itself happened */
    int kind;   /* enum timeline_kind */
    char *text;
    char *msg_room; /* platform message it came from; nullable */
    char *msg_id;
    char *author; /* nullable */
    int64_t created_at;
};

/* An earlier text of a timeline entry, replaced at replaced_at. */
struct timeline_edit {
    int64_t entry_id;
    int64_t entry_at;
    char *text;
    int64_t replaced_at;
};

/* What can happen to an action: action_history.what, in this order. */
enum action_what {
    ACH_CREATED = 0,
    ACH_DONE,
    ACH_REOPENED,
    ACH_REASSIGNED,
    ACH_DUE,
    ACH_SNOOZED,
    ACH__N
};

/* One row of an action's history: who did what when. */
struct action_change {
    int64_t action_id;
    int64_t at;
    char *by;     /* user id; nullable */
    int what;     /* enum action_what */
    char *detail; /* the new assignee, date or snooze end; nullable */
};

enum action_status { ACTION_OPEN = 0, ACTION_DONE = 1 };

struct action {
    int64_t id;
    int64_t incident_id;
    char *text;
    char *assignee; /* platform user id */
    char *due_date; /* YYYY-MM-DD, a valid calendar date */
    int status;     /* enum action_status */
    char *created_by;
    int64_t created_at;
    int64_t completed_at; /* 0 while open */
    char *completed_by;
    char *incident_title; /* filled by lists, for display; nullable */
    char *snoozed_until;  /* YYYY-MM-DD or NULL: no weekly reminder before */
    struct action_change last; /* its latest history row, when has_last
                                * (not for actions older than the
                                * history); see store_action_list */
    int has_last;
};

/*
 * store_open - open (creating if needed) the database at path and migrate it
 * to STORE_SCHEMA_VERSION. ":memory:" gives a private in-memory database.
 * `synchronous_full` chooses synchronous=FULL (survives power loss) over
 * NORMAL. Processes opening a new database at once migrate it once: each
 * step reads the version under the write lock. On failure *why (if not
 * NULL) gets a new string describing the reason for the user (free with
 * bot_free); BOT_ENEWER when the file was written by a newer pmbot,
 * BOT_EDB or BOT_EIO otherwise.
 */
int store_open(const char *path, int synchronous_full, struct store **out,
               char **why);
/*
 * store_open_daemon - store_open for the one process that serves this
 * database: it first takes an advisory lock on "<path>.lock" (which it
 * leaves behind, holding the pid), released by store_close or the
 * process's exit. BOT_EEXIST, with the holder's pid in *why, when another
 * pmbot has it. Readers (store_open_readonly) do not need the lock.
 */
int store_open_daemon(const char *path, int synchronous_full,
                      struct store **out, char **why);
/*
 * store_open_readonly - for commands that only read (report, actions):
 * never creates, never migrates, never writes. BOT_ENOTFOUND with "no
 * database at PATH" when there is no file; on a read-only filesystem the
 * file is read as immutable (no -shm needed), unless a -wal holds data it
 * could not see (BOT_EIO). A schema older than this build's is refused
 * (BOT_EDB: `pmbot run` migrates it), a newer one too (BOT_ENEWER).
 * Writes through this store fail with BOT_EDB.
 */
int store_open_readonly(const char *path, struct store **out, char **why);
void store_close(struct store *s);

/*
 * Health of the files underneath (see bot_healthy):
 * store_file_check - BOT_OK while the path still names the database and
 * -wal files that are open; else BOT_EIO and *why = a static reason
 * ("database file was deleted", "database file was replaced", the same
 * for the -wal file). Always BOT_OK for :memory:.
 * store_fault - a static reason when the last failure came from the
 * environment ("disk full", "database I/O error", "database is
 * read-only", "database is corrupt"), NULL when it was not (a constraint,
 * a bug) or after store_fault_clear.
 * store_disk_free - bytes free for pmbot on the database's filesystem
 * (-1 unknown).
 * store_write_probe - a real, tiny commit (the schema version written
 * again), outside any transaction: BOT_OK when writing works; BOT_EDB
 * with store_fault set when it does not.
 */
int store_file_check(struct store *s, const char **why);
const char *store_fault(const struct store *s);
void store_fault_clear(struct store *s);
long long store_disk_free(struct store *s);
int store_write_probe(struct store *s);

/*
 * store_checkpoint_elsewhere - the daemon's way of keeping checkpoints out
 * of its commits: store_open's connection stops checkpointing by itself
 * (a checkpoint inside a commit stalls that commit for milliseconds) and
 * notes the WAL's size after each commit (store_wal_frames); the caller
 * runs store_checkpoint(path) on another thread, with its own connection,
 * once the WAL holds STORE_WAL_CHECKPOINT_FRAMES pages or on a timer.
 * store_checkpoint copies the WAL back into the database and rewinds it
 * (see store.c for why both), holding the write lock only for the pages
 * committed while it copied; a -wal file left bigger than STORE_WAL_LIMIT
 * by a burst is truncated. It returns BOT_OK also when a busy writer or
 * reader made it leave the rewind for next time, BOT_EDB on failure
 * (logged by the caller).
 */
#define STORE_WAL_CHECKPOINT_FRAMES 1024 /* 4 MiB of 4 KiB pages */
#define STORE_WAL_LIMIT (8L << 20)
void store_checkpoint_elsewhere(struct store *s);
long store_wal_frames(const struct store *s);
int store_checkpoint(const char *path);

/* store_schema_version - the version the open database is at. */
int store_schema_version(struct store *s);

/* Transactions nest: an inner begin is a savepoint, so one event's changes
 * can be undone inside a batch that commits many events together. */
int store_tx_begin(struct store *s);
int store_tx_commit(struct store *s);
void store_tx_rollback(struct store *s);
/* store_tx_depth - 0 outside any transaction. */
int store_tx_depth(const struct store *s);

/* --- incidents --- */
int store_incident_insert(struct store *s, const struct incident *in,
                          int64_t *id_out);
int store_incident_get(struct store *s, int64_t id, struct incident *out);
int store_incident_by_channel(struct store *s, const char *platform,
                              const char *channel, struct incident *out);
/* store_incident_by_channel_name - by human name (with or without '#'). */
int store_incident_by_channel_name(struct store *s, const char *name,
                                   struct incident *out);
int store_incident_set_channel(struct store *s, int64_t id,
                               const char *channel, const char *name);
int store_incident_set_severity(struct store *s, int64_t id, int severity);
int store_incident_resolve(struct store *s, int64_t id, int64_t at);
/* store_incident_open_by_alarm - the open incident with this alarm key. */
int store_incident_open_by_alarm(struct store *s, const char *alarm_key,
                                 struct incident *out);
/* store_incident_list_by_alarm - every incident with this alarm key but
 * `except`, newest first. */
int store_incident_list_by_alarm(struct store *s, const char *alarm_key,
                                 int64_t except, struct incident **out,
                                 size_t *n);
/* store_incident_count_open - open incidents. */
int store_incident_count_open(struct store *s, long *n);
/* store_action_count_open - open actions, and those past due on today
 * (YYYY-MM-DD). */
int store_action_count_open(struct store *s, const char *today, long *open,
                            long *overdue);

/* store_incident_channel_name_used - *used = 1 if any incident has it. */
int store_incident_channel_name_used(struct store *s, const char *name,
                                     int *used);
/* store_incident_list - incidents, newest first; only open ones if
 * only_open; only those with no channel yet if pending_channel. */
int store_incident_list(struct store *s, int only_open, int pending_channel,
                        struct incident **out, size_t *n);
void store_incident_clear(struct incident *in);
void store_incident_list_free(struct incident *arr, size_t n);

/* --- timeline --- */
int store_timeline_add(struct store *s, const struct timeline_entry *e,
                       int64_t *id_out);
/* store_timeline_tag - add e (with msg_room and msg_id) unless that message
 * is on the incident's timeline already; *id is the entry either way, and
 * *created (nullable) 1 when it is new. */
int store_timeline_tag(struct store *s, const struct timeline_entry *e,
                       int64_t *id, int *created);
/* store_tagger_add - user's 📌 is on the entry (once, however often). */
int store_tagger_add(struct store *s, int64_t entry_id, const char *user);
/* store_tagger_remove - user's 📌 is gone; *left = how many remain.
 * An entry tagged before taggers were kept has none: 0. */
int store_tagger_remove(struct store *s, int64_t entry_id, const char *user,
                        int *left);
/* store_timeline_by_msg - the entry recorded from that message. */
int store_timeline_by_msg(struct store *s, int64_t incident_id,
                          const char *room, const char *msg_id,
                          struct timeline_entry *out);
/* store_timeline_set_text - replace the text, keeping the old one as
 * history (at replaced_at). BOT_ENOTFOUND if no such entry. */
int store_timeline_set_text(struct store *s, int64_t entry_id,
                            const char *text, int64_t replaced_at);
/* store_timeline_remove - delete an entry and its history. */
int store_timeline_remove(struct store *s, int64_t entry_id);
/* store_timeline_list - an incident's entries, oldest first (ties in the
 * order they were recorded). */
int store_timeline_list(struct store *s, int64_t incident_id,
                        struct timeline_entry **out, size_t *n);
int store_timeline_edits(struct store *s, int64_t incident_id,
                         struct timeline_edit **out, size_t *n);
void store_timeline_clear(struct timeline_entry *e);
void store_timeline_list_free(struct timeline_entry *arr, size_t n);
void store_timeline_edits_free(struct timeline_edit *arr, size_t n);

/* --- follow-up actions. Every change writes its history row in the same
 * transaction (a savepoint inside the caller's): both or neither. --- */
/* store_action_add - the action and its 'created' row (by created_by, at
 * created_at). */
int store_action_add(struct store *s, const struct action *a,
                     int64_t *id_out);
/* store_action_get - with its latest change (new: store_action_clear). */
int store_action_get(struct store *s, int64_t id, struct action *out);
/* store_action_complete - mark done; BOT_EEXIST if it already was. */
int store_action_complete(struct store *s, int64_t id, int64_t at,
                          const char *by);
/*
 * store_action_change - what (not ACH_CREATED) happens to action id at
 * `at` by `by`, with detail: ACH_DONE (detail unused), ACH_REOPENED
 * (unused), ACH_REASSIGNED (the new assignee), ACH_DUE (the new
 * YYYY-MM-DD), ACH_SNOOZED (the YYYY-MM-DD it is
 * snoozed until). BOT_ENOTFOUND when there is no such action, BOT_EEXIST
 * when it would change nothing (done already, open already, the same
 * assignee, date or snooze end), BOT_EINVAL for a bad what or a missing
 * detail; nothing is written then.
 */
int store_action_change(struct store *s, int64_t id, int what, int64_t at,
                        const char *by, const char *detail);
/* store_action_history - every change of action id, oldest first (new:
 * store_action_history_free). */
int store_action_history(struct store *s, int64_t id,
                         struct action_change **out, size_t *n);
void store_action_history_free(struct action_change *arr, size_t n);
/* store_action_what_name - "created", "done", ... (static). */
const char *store_action_what_name(int what);
/* store_action_list - incident_id 0 means every incident; include_done 0
 * lists open actions only. Ordered by target date, then id. Each action's
 * last change (has_last) only in the list of one incident: over every
 * incident it would cost a lookup per action. */
int store_action_list(struct store *s, int64_t incident_id, int include_done,
                      struct action **out, size_t *n);
void store_action_clear(struct action *a);
void store_action_list_free(struct action *arr, size_t n);

/* --- the message cache: messages seen in incident channels, so tagging
 * one costs no platform call --- */
struct store_message {
    char *room;
    char *msg_id;
    char *user;      /* nullable */
    char *text;
    char *thread_id; /* nullable */
    int64_t at;
};

/* store_message_put - insert, or update the text of a known message. */
int store_message_put(struct store *s, const char *platform,
                      const struct store_message *m);
int store_message_get(struct store *s, const char *platform,
                      const char *room, const char *msg_id,
                      struct store_message *out);
int store_message_set_text(struct store *s, const char *platform,
                           const char *room, const char *msg_id,
                           const char *text);
int store_message_remove(struct store *s, const char *platform,
                         const char *room, const char *msg_id);
void store_message_clear(struct store_message *m);

/* --- platform event dedupe --- */
/* store_event_claim - record that (platform, event_id) is processed.
 * *first = 1 if it was new, 0 if it had been processed before. */
int store_event_claim(struct store *s, const char *platform,
                      const char *event_id, int64_t at, int *first);
/* store_event_seen - *seen = 1 if (platform, event_id) was processed;
 * changes nothing. */
int store_event_seen(struct store *s, const char *platform,
                     const char *event_id, int *seen);

/* --- pruning what only serves for a while; each call deletes at most
 * `limit` rows (*n = how many), so a batch stays short --- */
/* store_prune_events - dedupe rows of events processed before `before`. */
int store_prune_events(struct store *s, int64_t before, int limit, int *n);
/* store_prune_jobs - scheduler jobs done before `before`. */
int store_prune_jobs(struct store *s, int64_t before, int limit, int *n);
/* store_prune_periods - reminder periods claimed before `before` (long
 * past: no pass looks back that far). */
int store_prune_periods(struct store *s, int64_t before, int limit, int *n);
/* store_prune_messages - cached messages of the channels of incidents
 * resolved before `before` (the timeline keeps its own copy of what was
 * tagged; a later 📌 there fetches the message again). */
int store_prune_messages(struct store *s, int64_t before, int limit, int *n);

/* --- users' display names (to render <@U123> mentions) --- */
/* store_user_put - insert or replace user_id's name, seen at `at`. */
int store_user_put(struct store *s, const char *platform, const char *user_id,
                   const char *name, int64_t at);
/* store_user_set_tz - the user's time zone (a tz database name). */
int store_user_set_tz(struct store *s, const char *platform,
                      const char *user_id, const char *tz);
/* store_user_tz - *tz = a new copy of the user's zone; BOT_ENOTFOUND if
 * the user or their zone is unknown. */
int store_user_tz(struct store *s, const char *platform, const char *user_id,
                  char **tz);
/* store_user_name - *name = a new copy of the known name (free with
 * bot_free); BOT_ENOTFOUND if the user is unknown. */
int store_user_name(struct store *s, const char *platform,
                    const char *user_id, char **name);

/* --- what a platform keeps (storage/store_platform.c) --- */

/* store_state_get - *value = a new copy of platform's key; BOT_ENOTFOUND
 * if it was never put. */
int store_state_get(struct store *s, const char *platform, const char *key,
                    char **value);
/* store_state_put - set platform's key to value (inside a unit). */
int store_state_put(struct store *s, const char *platform, const char *key,
                    const char *value, int64_t at);

/* A reaction, by its own id (reaction_refs). Strings owned. */
struct store_reaction {
    char *room, *msg_id, *emoji, *user;
};

/* store_reaction_put - remember a reaction (kept once: a redelivered one
 * changes nothing). */
int store_reaction_put(struct store *s, const char *platform,
                       const char *reaction_id, const char *room,
                       const char *msg_id, const char *emoji,
                       const char *user, int64_t at);
/* store_reaction_get - BOT_ENOTFOUND if reaction_id is not one. */
int store_reaction_get(struct store *s, const char *platform,
                       const char *reaction_id, struct store_reaction *out);
void store_reaction_clear(struct store_reaction *r);
/* store_prune_reactions - reactions made before `before`. */
int store_prune_reactions(struct store *s, int64_t before, int limit,
                          int *n);

/* --- the outbox: what the bot will do on a platform, written in the
 * transaction of the change that caused it (bot/outbox.c performs it) --- */
enum outbox_kind {
    OUTBOX_POST = 0,
    OUTBOX_UPLOAD,
    OUTBOX_PIN,    /* the message of row `ref` (or msg_id) */
    OUTBOX_INVITE, /* body: user ids, comma-separated */
    OUTBOX_TOPIC,  /* body: the topic */
    OUTBOX_UPDATE, /* body: the new message (JSON) of row ref / msg_id */
    OUTBOX_REACT,  /* body: the emoji */
    OUTBOX_REDACT
};

struct outbox_row {
    int64_t id;
    char *platform;
    int kind;        /* enum outbox_kind */
    char *room;      /* NULL: the direct room of user */
    char *thread_id; /* nullable */
    char *user;      /* nullable: only they see it (ephemeral) / DM to */
    int flags;       /* CHAT_POST_* */
    int64_t ref;     /* 0 or the row whose message this acts on */
    char *msg_id;    /* the message acted on, or (done posts) the result */
    char *body;      /* post/update: the message as JSON; upload: content */
    char *extra;     /* upload: "filename\ntitle"; nullable */
    int attempts;
    int64_t next_at; /* not before (UTC ms) */
};

/* store_outbox_add - a pending row (r->id is ignored); *id its id. */
int store_outbox_add(struct store *s, const struct outbox_row *r,
                     int64_t created_at, int64_t *id);
/* store_outbox_heads - the oldest pending row of each lane (a room, or a
 * user's DM) of platform, at most limit, oldest first (new rows; free with
 * store_outbox_list_free): a lane waiting for a retry holds only itself. */
int store_outbox_heads(struct store *s, const char *platform, int limit,
                       struct outbox_row **out, size_t *n);
/* store_outbox_done - performed; msg_id (nullable) is what it made. */
int store_outbox_done(struct store *s, int64_t id, const char *msg_id,
                      int64_t at);
/* store_outbox_retry - not before next_at, attempts counted. */
int store_outbox_retry(struct store *s, int64_t id, int attempts,
                       int64_t next_at);
/* store_outbox_fail - given up on: it stays, marked failed, for the log. */
int store_outbox_fail(struct store *s, int64_t id, int64_t at);
/* store_outbox_msg_id - *msg_id (new, NULL while not done) of row id;
 * *state 0 pending, 1 done, 2 failed. */
int store_outbox_result(struct store *s, int64_t id, char **msg_id,
                        int *state);
/* store_outbox_max_id - the newest row's id (0 if none). */
int store_outbox_max_id(struct store *s, int64_t *id);
/* store_outbox_count - pending rows. */
int store_outbox_count(struct store *s, long *n);
/* store_outbox_about - *about (new) the subject of the sent post msg_id
 * on platform, written with outbox_post_about; BOT_ENOTFOUND if none. */
int store_outbox_about(struct store *s, const char *platform,
                       const char *msg_id, char **about);
/* store_prune_outbox - done or failed rows older than before (a post
 * about something, 27 days more: it is answered with reactions). */
int store_prune_outbox(struct store *s, int64_t before, int limit, int *n);
void store_outbox_row_clear(struct outbox_row *r);
void store_outbox_list_free(struct outbox_row *arr, size_t n);

/* --- reminder periods: a reminder (kind: "weekly", "overdue", "monthly")
 * for a subject (an assignee "<platform>:<user>", an action "ACT-3", the
 * review channel) once per period ("2026-W49", "w0", "2026-12") --- */
/* store_period_claim - in tx, with the outbox row that sends it: *first
 * 1 for the one caller that claims it, 0 when it was claimed before. */
int store_period_claim(struct store *s, const char *kind, const char *subject,
                       const char *period, int64_t at, int *first);
/* store_period_seen - *seen 1 when claimed; changes nothing (dry runs). */
int store_period_seen(struct store *s, const char *kind, const char *subject,
                      const char *period, int *seen);

/* --- the reminder pass: open actions streamed, not held --- */
struct action_row {
    int64_t id, incident_id, created_at;
    const char *text, *assignee, *due_date;
    const char *snoozed_until; /* nullable */
    const char *platform;      /* the incident's */
    const char *channel;       /* the incident's; nullable */
};
enum store_each {
    STORE_EACH_BY_ASSIGNEE = 0, /* by platform, assignee, due date, id */
    STORE_EACH_OVERDUE,         /* due before `today`, by id */
    STORE_EACH_BY_INCIDENT      /* by incident, due date, id; `limit` rows */
};
/* store_action_each - fn(ctx, row) for each open action in that order;
 * the row's strings are borrowed for the call. fn returning non-zero
 * stops the walk with that code. */
int store_action_each(struct store *s, int which, const char *today,
                      long limit, int (*fn)(void *ctx,
                                            const struct action_row *r),
                      void *ctx);
/* store_assignee_channel - *channel (new) the channel of the newest
 * incident with an open action of user on platform; BOT_ENOTFOUND. */
int store_assignee_channel(struct store *s, const char *platform,
                           const char *user, char **channel);
/* Counts for the monthly review over [since, until): open, open past due
 * on today, opened, completed, open that were opened by `until`, and the
 * oldest open action's id (0: none). */
struct action_stats {
    long open, overdue, opened, completed, open_at_until;
    int64_t oldest;
};
int store_action_stats(struct store *s, int64_t since, int64_t until,
                       const char *today, struct action_stats *out);

/* --- the scheduler's durable jobs: a duty (kind) for a subject (an
 * incident id...) once per period ("24h", "2026-W49") --- */
struct job {
    char *kind;
    int64_t subject;
    char *period;
    int64_t due_at;
};

/* store_job_add - schedule it unless that period is known already. */
int store_job_add(struct store *s, const char *kind, int64_t subject,
                  const char *period, int64_t due_at);
/* store_job_due - up to limit jobs due at `now`, earliest first. */
int store_job_due(struct store *s, int64_t now, int limit, struct job **out,
                  size_t *n);
/* store_job_claim - in tx: take the period: *claimed 1 for the one caller
 * that moved it from due to done, 0 for any other (done already, by this
 * process or another). */
int store_job_claim(struct store *s, const struct job *j, int64_t at,
                    int *claimed);
/* store_job_postpone - a job that could not run waits until due_at. */
int store_job_postpone(struct store *s, const struct job *j, int64_t due_at);
/* store_job_next - the earliest due time of a waiting job; BOT_ENOTFOUND
 * when none waits. */
int store_job_next(struct store *s, int64_t *due_at);
void store_job_list_free(struct job *arr, size_t n);

/* --- roles: who leads (commander), takes notes (scribe), talks to the
 * outside (comms) --- */
enum incident_role { ROLE_COMMANDER = 0, ROLE_SCRIBE, ROLE_COMMS, ROLE__N };

/* how a role was given: it matters for the commander of an alarm, whom the
 * first responder who writes replaces until someone is named */
enum role_how { ROLE_DECLARED = 0, ROLE_DEFAULT, ROLE_FIRST, ROLE_HANDED };

struct roles {
    char *user[ROLE__N]; /* nullable: nobody yet */
    int how[ROLE__N];    /* enum role_how */
};

/* store_role_set - role of incident_id is now user (how, since at). */
int store_role_set(struct store *s, int64_t incident_id, int role,
                   const char *user, int how, int64_t at);
/* store_roles_get - every role of incident_id (new: store_roles_clear). */
int store_roles_get(struct store *s, int64_t incident_id, struct roles *out);
void store_roles_clear(struct roles *r);

/* store_responders - up to limit distinct users who posted in incident_id's
 * channel or tagged its timeline, sorted (new strings: an array of n,
 * free each and the array with bot_free). */
int store_responders(struct store *s, int64_t incident_id, int limit,
                     char ***out, size_t *n);

/* store_review_started - *started 1 once /pm start (or /pm layers) ran. */
int store_review_started(struct store *s, int64_t incident_id, int *started);

/* --- the blameless review (review.h): its state and answers --- */
struct review_row {
    int64_t incident_id;
    int state;           /* enum review_state */
    int step;            /* enum review_step */
    int layers_only;     /* this run is /pm layers alone */
    int64_t thread_row;  /* outbox row of the parent message; 0 none */
    char *thread_id;     /* that message's id, once known; nullable */
    int full_done;       /* the whole questionnaire has been through */
    int found;           /* enum review_found; -1 not answered */
    int64_t applied;     /* mask of layers; -1 not answered */
    unsigned caught;     /* layers answered yes */
    unsigned asked;      /* layers answered */
    unsigned skipped;    /* steps skipped (1 << step) */
    int64_t accepted;    /* proposals accepted (mask); -1 not answered */
    int64_t root_action; /* the action `unknown` made; 0 none */
    char *started_by;    /* nullable */
    int64_t started_at, updated_at;
};
/* store_review_get - BOT_ENOTFOUND when no review ever started (new:
 * store_review_clear). */
int store_review_get(struct store *s, int64_t incident_id,
                     struct review_row *out);
/* store_review_put - insert or replace the whole row. */
int store_review_put(struct store *s, const struct review_row *r);
void store_review_clear(struct review_row *r);

struct answer {
    int64_t seq; /* 1, 2, ... within the question */
    char *text;
    char *by; /* nullable */
    int64_t at;
};
/* store_answer_add - one more answer to question; *seq (nullable) its
 * number. */
int store_answer_add(struct store *s, int64_t incident_id,
                     const char *question, const char *text, const char *by,
                     int64_t at, int64_t *seq);
/* store_answer_set - replace answer seq; BOT_ENOTFOUND if there is none. */
int store_answer_set(struct store *s, int64_t incident_id,
                     const char *question, int64_t seq, const char *text,
                     const char *by, int64_t at);
/* store_answer_list - question's answers in order (new). */
int store_answer_list(struct store *s, int64_t incident_id,
                      const char *question, struct answer **out, size_t *n);
void store_answer_list_free(struct answer *a, size_t n);
/* store_incident_set_root_cause - text (nullable: unknown). */
int store_incident_set_root_cause(struct store *s, int64_t id,
                                  const char *text);

#endif
