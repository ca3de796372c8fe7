/*
 * fuzz_http - bytes from a client as the listener sees them: each input is
 * written into one end of a socketpair whose other end the listener
 * adopts (webhook_adopt, the path every accepted connection takes). The
 * loop runs for a while with the client's side open (so a committed alarm
 * is answered: lws ends a connection at the end of its input), then the
 * write side is shut and the loop runs until the connection is gone.
 * Heads, framing (Content-Length, chunked), credentials (the token is
 * "fuzz-token"), routes and payloads all run for real, on a new bot with a
 * :memory: database and the fake platform each time.
 */
#include "fuzz.h"

#include "../fake_platform.h"
#include "bot.h"
#include "config.h"
#include "err.h"
#include "loop.h"
#include "webhook.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define INPUT_MAX (64 * 1024) /* fits the socketpair's buffer */
#define STEPS_MAX 100000
#define OPEN_MS 20 /* the client's side stays open this long */

static struct config cfg;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_bot_config(&cfg);
    bot_free(cfg.webhook_listen);
    cfg.webhook_listen = bot_strdup("127.0.0.1:0");
    cfg.webhook_token = bot_strdup("fuzz-token");
    cfg.body_timeout = 1; /* a stuck connection ends in a second */
    return 0;
}

static void
on_open_over(void *arg)
{
    *(int *)arg = 1;
}

/* drain - read what the listener answered, so it is never blocked */
static void
drain(int fd)
{
    char buf[4096];

    while (read(fd, buf, sizeof(buf)) > 0)
        ;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct loop *loop = NULL;
    struct bot *b = NULL;
    struct webhook *w = NULL;
    struct loop_timer *t = NULL;
    char *why = NULL;
    int sv[2], over = 0;
    size_t off = 0;

    if (size > INPUT_MAX)
        return 0;
    if (loop_new(&loop))
        abort();
    if (bot_new(&cfg, loop, &b, NULL))
        abort();
    bot_set_platform(b, fake_platform_new());
    bot_start(b);
    bot_set_group_commit(b, 1);
    if (webhook_new(b, &w, &why))
        abort();
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
        abort();
    while (off < size) {
        ssize_t n = write(sv[0], data + off, size - off);

        if (n <= 0)
            abort();
        off += (size_t)n;
    }
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    webhook_adopt(w, sv[1]);
    if (loop_timer_new(loop, on_open_over, &over, &t))
        abort();
    loop_timer_start(t, OPEN_MS, 0);
    for (int i = 0; i < STEPS_MAX && webhook_connections(w) && !over; i++) {
        drain(sv[0]);
        loop_run_once(loop);
    }
    loop_timer_free(t);
    shutdown(sv[0], SHUT_WR);
    for (int i = 0; i < STEPS_MAX && webhook_connections(w); i++) {
        drain(sv[0]);
        loop_run_once(loop);
    }
    if (webhook_connections(w))
        abort(); /* a connection outlived its input and its deadline */
    close(sv[0]);
    webhook_free(w);
    bot_destroy(b);
    loop_free(loop);
    return 0;
}
