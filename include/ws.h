/*
 * ws.h - websocket client connections (libwebsockets on the bot's loop).
 *
 * Owns: the libwebsockets context (which joins the loop as a foreign
 * libuv loop) and every connection made through it, with its send queue
 * and receive buffer.
 * Contract: frames are queued by ws_send and, at the next writable
 * callback, all of them are framed and masked here and written in one
 * send (libwebsockets would write one per callback, with a syscall or
 * three each); text frames only. A message is delivered whole, after
 * its fragments are reassembled. on_close is the last callback of a
 * connection; the connection is freed right after it returns, so the owner
 * drops its pointer there. ws_close() stops all callbacks at once.
 * Errors: BOT_ENOMEM, BOT_EINVAL (bad URL), BOT_EIO.
 */
#ifndef PMBOT_WS_H
#define PMBOT_WS_H

#include <stddef.h>

struct loop;
struct ws_ctx;
struct ws_conn;

struct ws_handler {
    void (*on_open)(void *arg, struct ws_conn *c);
    /* data is borrowed for the call, NUL-terminated */
    void (*on_message)(void *arg, struct ws_conn *c, const char *data,
                       size_t len);
    void (*on_close)(void *arg, struct ws_conn *c);
};

int ws_ctx_new(struct loop *loop, struct ws_ctx **out);
/* ws_ctx_free - closes every connection (no callbacks) and the context;
 * the loop finishes releasing its handles in loop_free(). */
void ws_ctx_free(struct ws_ctx *x);

/* ws_ctx_lws - the struct lws_context *, for a server vhost on it. */
void *ws_ctx_lws(struct ws_ctx *x);

/* ws_connect - ws:// or wss:// URL; callbacks start with on_open or
 * on_close. allow_insecure accepts self-signed certificates (tests). */
int ws_connect(struct ws_ctx *x, const char *url,
               const struct ws_handler *h, void *arg, struct ws_conn **out);

/* ws_send - queue a text frame (copied). */
int ws_send(struct ws_conn *c, const char *text, size_t len);

/* ws_pause - stop (1) or resume (0) reading from c: flow control, so a
 * peer that sends faster than we finish cannot grow our memory. */
void ws_pause(struct ws_conn *c, int paused);

/* ws_close - close gracefully; no callback fires after this returns. */
void ws_close(struct ws_conn *c);

#endif
