/*
 * matrix_int.h - what the Matrix adapter's files share; no one else
 * includes it.
 *
 * matrix.c owns struct matrix, the platform operations, the descriptor of
 * the Web API queue (what a homeserver's answers mean), the login and the
 * DM rooms; matrix_sync.c the /sync loop, its batches and their
 * position, invites, and events turned into chat events. The JSON is
 * matrix_json.c's (include/matrix_json.h).
 */
#ifndef PMBOT_MATRIX_INT_H
#define PMBOT_MATRIX_INT_H

#include "chat.h"
#include "matrix_json.h"
#include "webapi.h"

#include <stddef.h>
#include <stdint.h>

struct config;
struct loop;
struct loop_timer;
struct mx_batch;
struct mx_dm_wait;

#define MX_WARNED 16

enum mx_filter { FILTER_FIRST, FILTER_SYNC, FILTER_MESSAGES };

struct matrix {
    struct chat_platform *p;
    const struct config *cfg;
    struct webapi *api;
    struct webapi_desc desc;
    char *base;      /* "<homeserver>/_matrix/" */
    char *token;     /* the access token in use; never logged */
    char *self;      /* @pmbot:server, from whoami or login */
    const char *server; /* in self, after ':' */
    char *device;
    char *nonce;     /* platform_state txn_nonce: txnIds of this database */
    uint64_t txn_seq; /* txnIds of sends without an outbox key */
    int64_t started_ms;
    /* the login and the sync (matrix_sync.c) */
    int authing;     /* whoami or login under way, the queue held */
    int stopped;     /* the token was refused for good: nothing is sent */
    int destroying;
    int auth_out;    /* a login or whoami is out */
    int relogin;     /* the token was refused: retries log in */
    int64_t last_login_ms; /* the last good password login; 0: none */
    unsigned backoff_ms;
    struct loop_timer *timer; /* login and sync retries */
    struct loop_timer *cursor; /* a batch's position to write */
    char *since;     /* the position: NULL before the first sync */
    char *filters[3]; /* %-escaped, by enum mx_filter; made for self */
    int syncing;     /* a /sync is out */
    int synced;      /* at least one /sync answered this run */
    int64_t last_sync_ms; /* when the last /sync answered */
    int64_t sync_sent_ms; /* when the last /sync left */
    int since_loaded; /* the stored position was read (once a run) */
    int since_user_kept; /* platform_state since_user written this run */
    int sync_failing; /* the last /sync failed: backing off */
    int fail_streak; /* batches of the same position that failed */
    int64_t fail_since_ms; /* the first of them */
    char **done_ids; /* events of those that went through (not again) */
    size_t ndone;
    struct mx_batch *batch; /* the batch being handled, if any */
    /* DMs: the m.direct account data */
    char *direct_json;
    int direct_ready; /* m.direct was read: DMs can be looked up */
    struct mx_direct *direct_later; /* DMs joined before that */
    size_t nlater;
    struct mx_direct *direct;
    size_t ndirect;
    struct mx_dm_wait *dm_waits; /* open_dm calls waiting for a room */
    /* warn_once */
    char warned[MX_WARNED][96];
    unsigned nwarned;
};

/* --- matrix.c --- */

/* mx_api - queue a call: key names its gate ("send", "join", ...), verb
 * "PUT" or NULL (POST with a body, else GET), body taken (NULL: none),
 * path a printf-like format whose every %s argument is %-escaped (ids in
 * paths), appended to base. NULL when fn already ran (BOT_ENOMEM, or
 * BOT_EIO once the token was refused). */
struct webapi_call *mx_api(struct matrix *m, const char *key,
                           const char *verb, char *body, webapi_fn *fn,
                           void *cb, void *arg, const char *fmt, ...);
/* mx_log_failure - a webapi_fn for calls nothing waits for: a failure
 * is a warning "could not <arg>" (arg a static string) */
void mx_log_failure(struct webapi_call *c, int rc, const char *body,
                    size_t len);
/* mx_warn_once - one log line per kind of failure */
void mx_warn_once(struct matrix *m, const char *what, const char *line);
/* mx_token_refused - the homeserver refused the token (M_UNKNOWN_TOKEN):
 * log in again with the password if there is one, else stop. */
void mx_token_refused(struct matrix *m);
/* mx_is_dm - 1 when room is one of the bot's DM rooms */
int mx_is_dm(const struct matrix *m, const char *room);
/* mx_direct_set - new m.direct content (json, from /sync) */
void mx_direct_set(struct matrix *m, const char *json);
/* mx_direct_add - user's DM is room: the map, and the account data */
void mx_direct_add(struct matrix *m, const char *user, const char *room);
/* mx_direct_drop - user left room */
void mx_direct_drop(struct matrix *m, const char *user, const char *room);
/* mx_logged_in - whoami or login answered: the queue goes, sync starts */
void mx_logged_in(struct matrix *m);
/* mx_auth_retry - the timer while logging in: whoami or login again */
void mx_auth_retry(struct matrix *m);

/* --- matrix_sync.c --- */

/* mx_sync_start - the first /sync (or the next) */
void mx_sync_start(struct matrix *m);
/* mx_sync_timer - the retry timer's callback (arg: m): login or sync */
void mx_sync_timer(void *arg);
/* mx_backoff - schedule the timer with capped exponential backoff and
 * jitter (or after ms when ms > 0) */
void mx_backoff(struct matrix *m, long ms);
/* mx_cursor_timer - the position timer's callback (arg: m) */
void mx_cursor_timer(void *arg);
/* mx_filters_free - the filters are for another self */
void mx_filters_free(struct matrix *m);
/* mx_done_forget - free done_ids */
void mx_done_forget(struct matrix *m);
/* mx_sync_cancel - at destroy: the batch forgets m */
void mx_sync_cancel(struct matrix *m);
int mx_sync_connected(struct matrix *m, const char **why);

#endif
