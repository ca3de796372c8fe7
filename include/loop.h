/*
 * loop.h - the one event loop of pmbot.
 *
 * Owns: the backend loop (libuv) and the handles made through this API.
 * Only bot/loop.c knows libuv; transports that must share the loop (lws,
 * curl) get the backend handle from loop_backend().
 * Callbacks run on the loop's single thread; none may block.
 * Errors: constructors return BOT_ENOMEM or BOT_EIO and set *out only on
 * success.
 */
#ifndef PMBOT_LOOP_H
#define PMBOT_LOOP_H

#include <stddef.h>
#include <stdint.h>

struct loop;
struct loop_timer;
struct loop_lines;
struct loop_fd;

typedef void loop_timer_fn(void *arg);
typedef void loop_signal_fn(void *arg, int signum);
/* A complete line without its newline, borrowed for the call: len bytes
 * (a line may hold NUL bytes), NUL-terminated after them. NULL at end of
 * input (the reader then stops by itself). */
typedef void loop_line_fn(void *arg, const char *line, size_t len);

int loop_new(struct loop **out);
/* loop_free - closes every handle still open, then the loop. NULL is ok. */
void loop_free(struct loop *l);

/* loop_run - run until loop_stop() or nothing is left to wait for. */
int loop_run(struct loop *l);
/* loop_run_once - wait for what is due next and run it; 0 once nothing is
 * left to wait for (tests and fuzzers step the loop with it). */
int loop_run_once(struct loop *l);
void loop_stop(struct loop *l);

/* loop_work - run work(arg) on a worker thread, then after(arg, rc) back
 * on the loop. work must touch nothing the loop thread uses. */
int loop_work(struct loop *l, int (*work)(void *arg),
              void (*after)(void *arg, int rc), void *arg);

/* loop_on_drained - fn(arg) runs in loop_free() once every handle has
 * closed, before the loop itself is closed (libwebsockets' last step). */
int loop_on_drained(struct loop *l, void (*fn)(void *), void *arg);

/* loop_now_ms - the loop's monotonic clock, ms (for intervals, not dates). */
uint64_t loop_now_ms(struct loop *l);

/* loop_backend - the uv_loop_t *, for transports that join the loop. */
void *loop_backend(struct loop *l);

/* Timers: one-shot when repeat_ms is 0. Restarting replaces the schedule. */
int loop_timer_new(struct loop *l, loop_timer_fn *cb, void *arg,
                   struct loop_timer **out);
void loop_timer_start(struct loop_timer *t, uint64_t after_ms,
                      uint64_t repeat_ms);
void loop_timer_stop(struct loop_timer *t);
/* loop_timer_free - stops it; memory is released once the loop lets go. */
void loop_timer_free(struct loop_timer *t);

/* File descriptor watches: cb gets LOOP_READ/LOOP_WRITE bits that are
 * ready, or LOOP_ERROR. loop_fd_set(w, 0) pauses the watch. */
enum { LOOP_READ = 1, LOOP_WRITE = 2, LOOP_ERROR = 4 };
typedef void loop_fd_fn(void *arg, int fd, int events);
int loop_fd_new(struct loop *l, int fd, loop_fd_fn *cb, void *arg,
                struct loop_fd **out);
int loop_fd_set(struct loop_fd *w, int events);
/* loop_fd_free - stops watching (the fd itself is the caller's). */
void loop_fd_free(struct loop_fd *w);

/* loop_on_signal - cb runs on the loop (not in the handler) for signum. */
int loop_on_signal(struct loop *l, int signum, loop_signal_fn *cb, void *arg);

/*
 * loop_read_lines - read fd line by line (a tty, a pipe, or a regular file)
 * and call cb for each, then cb(arg, NULL, 0) at end of input. Lines longer
 * than max_line are cut at max_line bytes (ask for one byte more than you
 * accept to tell a cut line from a full one).
 */
int loop_read_lines(struct loop *l, int fd, size_t max_line,
                    loop_line_fn *cb, void *arg, struct loop_lines **out);
void loop_lines_free(struct loop_lines *r);

#endif
