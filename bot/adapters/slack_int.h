/*
 * slack_int.h - what the Slack adapter's files share; no one else includes
 * it.
 *
 * slack.c owns struct slack, the platform operations, the Web API
 * descriptor (what Slack's answers mean: bot/webapi.c runs the queue) and
 * users' names; slack_history.c the fetches of messages from history,
 * batched per channel, and find_sent; slack_socket.c auth.test, Socket
 * Mode (connections, envelopes between arrival and ack, reconnects).
 */
#ifndef PMBOT_SLACK_INT_H
#define PMBOT_SLACK_INT_H

#include "chat.h"
#include "webapi.h"

#include <stddef.h>

struct config;
struct loop;
struct loop_timer;
struct slack_env;
struct slack_find;
struct slack_room;
struct slack_sock;
struct ws_ctx;

#define SLACK_WARNED 8

struct slack {
    struct chat_platform *p;
    struct loop *loop;
    const struct config *cfg;
    struct webapi *api;
    struct webapi_desc desc;
    struct ws_ctx *ws; /* borrowed: shared with the webhook listener */
    char *self_user, *self_bot; /* from auth.test */
    /* Socket Mode (slack_socket.c) */
    struct slack_sock *socks;
    int connecting; /* apps.connections.open or a handshake under way */
    int stopped;    /* link_disabled or bad token: no more reconnects */
    int authing;    /* auth.test has not answered yet */
    unsigned backoff_ms;
    struct loop_timer *reconnect;
    struct slack_env *envs; /* not yet acked */
    size_t nenvs;
    int paused; /* reading stopped: too many envelopes in progress */
    /* history (slack_history.c): channels with messages to fetch */
    struct slack_room *rooms;
    struct slack_find *finds; /* find_sent waiting for auth.test */
    int destroying; /* op_destroy: no new calls */
    /* slack.c */
    char warned[SLACK_WARNED][64]; /* final errors already logged */
    unsigned nwarned;
    char **users; /* ids whose name is known or asked for */
    size_t nusers, capusers;
};

/* --- slack.c --- */

/* slack_api - queue a Web API call (webapi_call): the body is JSON unless
 * form is set. NULL when fn already ran with BOT_ENOMEM. */
struct webapi_call *slack_api(struct slack *s, const char *method,
                              char *body, int form, webapi_fn *fn, void *cb,
                              void *arg);
/* slack_api_get - a read method, arguments in the query string; pairs are
 * NULL-terminated name, value; extra (taken) goes to c->extra. */
struct webapi_call *slack_api_get(struct slack *s, const char *method,
                                  const char *const *pairs, webapi_fn *fn,
                                  void *cb, void *arg, char *extra);
/* slack_final_error - 1 for the errors of the app's setup (a bad token, a
 * missing scope): no retry can help. */
int slack_final_error(const char *error);
/* slack_learn_users - ask for the names of the people text mentions. */
void slack_learn_users(struct slack *s, const char *text);
/* slack_user_change - keep the new name of a user_change envelope (data).
 * BOT_EPROTO without a usable user; a store error. */
int slack_user_change(struct slack *s, const char *data, size_t len);

/* --- slack_history.c --- */

void slack_fetch(struct slack *s, const char *room, const char *msg_id,
                 chat_fetched_fn *cb, void *arg);
/* slack_find_sent - find_sent of chat.h (thread nullable). */
void slack_find_sent(struct slack *s, const char *room, const char *thread,
                     const char *key, chat_posted_fn *cb, void *arg);
/* slack_history_authed - auth.test answered (or failed for good): the
 * find_sent calls waiting for it go out. */
void slack_history_authed(struct slack *s);
/* slack_history_cancel - every waiting fetch gets BOT_ECANCELED; then,
 * once the queue is freed, slack_history_free releases the rooms. */
void slack_history_cancel(struct slack *s);
void slack_history_free(struct slack *s);

/* --- slack_socket.c --- */

/* slack_socket_start - auth.test, then Socket Mode. */
void slack_socket_start(struct slack *s);
/* slack_socket_timer - the reconnect timer's callback (arg: s). */
void slack_socket_timer(void *arg);
/* slack_socket_close - close every socket, drop unacked envelopes. */
void slack_socket_close(struct slack *s);
int slack_socket_connected(struct slack *s, const char **why);

#endif
