/*
 * main.c - the pmbot command line: parse arguments, load the configuration,
 * open the database, run the chosen command, map failures to exit codes.
 *
 * Exit codes: 0 success; 1 the thing asked for does not exist (no such
 * incident); 2 bad usage, configuration or database (one line on stderr).
 */
#include "bot.h"
#include "config.h"
#include "console.h"
#include "err.h"
#include "incident.h"
#include "log.h"
#include "loop.h"
#include "mem.h"
#include "platforms.h"
#include "report.h"
#include "matrix.h"
#include "slack.h"
#include "store.h"
#include "webhook.h"
#include "ws.h"
#include "strbuf.h"
#include "timeutil.h"

#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PMBOT_VERSION
#define PMBOT_VERSION "0.1.0"
#endif

#define EXIT_NOTFOUND 1
#define EXIT_SETUP    2

static const char usage_text[] =
    "usage: pmbot <command> [options]\n"
    "\n"
    "commands:\n"
    "  run [-c FILE]                      the bot, on the configured platform\n"
    "  shell [-c FILE]                    the bot in this terminal\n"
    "  report <incident> [--format md|html] [-c FILE]\n"
    "                                     the post-mortem document, to stdout\n"
    "  actions [--all] [-c FILE]          open follow-up actions (--all: "
    "done too)\n"
    "  remind [--now ISO-8601] [--dry-run] [-c FILE]\n"
    "                                     run the due reminders once "
    "(--dry-run:\n"
    "                                     print them, send and record "
    "nothing)\n"
    "  check-config [-c FILE]             validate and print the "
    "configuration\n"
    "  --help, --version\n"
    "\n"
    "<incident> is 3, INC-3 or the channel name. Without -c the built-in\n"
    "defaults apply; the environment overrides both (see README).\n";

struct opts {
    const char *config;
    const char *format;
    const char *incident;
    const char *now;
    int all;
    int dry_run;
};

static int
fail_setup(const char *what, char *why)
{
    fprintf(stderr, "pmbot: %s%s%s\n", what, why ? ": " : "", why ? why : "");
    bot_free(why);
    return EXIT_SETUP;
}

static int
usage_error(const char *msg)
{
    fprintf(stderr, "pmbot: %s\n%s", msg, usage_text);
    return EXIT_SETUP;
}

/* parse_opts - options after the command word; positional goes to
 * o->incident (only `report` takes one). */
static int
parse_opts(int argc, char **argv, struct opts *o, int want_positional)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];

        if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
            if (++i == argc)
                return usage_error("-c needs a file");
            o->config = argv[i];
        } else if (!strcmp(a, "--format")) {
            if (++i == argc)
                return usage_error("--format needs md or html");
            o->format = argv[i];
        } else if (!strcmp(a, "--all")) {
            o->all = 1;
        } else if (!strcmp(a, "--dry-run")) {
            o->dry_run = 1;
        } else if (!strcmp(a, "--now")) {
            if (++i == argc)
                return usage_error("--now needs a time: "
                                   "YYYY-MM-DDTHH:MM:SSZ");
            o->now = argv[i];
        } else if (a[0] != '-' && want_positional && !o->incident) {
            o->incident = a;
        } else {
            fprintf(stderr, "pmbot: unknown argument '%s'\n", a);
            return EXIT_SETUP;
        }
    }
    return 0;
}

static int
load_config(const struct opts *o, struct config *cfg)
{
    char *why = NULL;
    int rc;

    rc = config_load(cfg, o->config, &why);
    if (rc)
        return fail_setup("configuration", why);
    rc = config_validate(cfg, &why);
    if (rc) {
        config_cleanup(cfg);
        return fail_setup("configuration", why);
    }
    return 0;
}

static int
open_bot(const struct config *cfg, struct loop *loop, int mode,
         struct bot **b)
{
    const char *now = getenv("PMBOT_NOW");
    char *why = NULL;
    int64_t fixed = 0;

    if (now && *now && timeutil_parse_iso(now, &fixed))
        return fail_setup("PMBOT_NOW is not YYYY-MM-DDTHH:MM[:SS]Z", NULL);
    if (bot_open(cfg, loop, mode, b, &why))
        return fail_setup("database", why);
    (*b)->core.fixed_now = fixed;
    return 0;
}

static void
on_stop_signal(void *arg, int signum)
{
    log_info("stopping on signal %d", signum);
    loop_stop(arg);
}

/* make_platform - the platform called name; the terminal reads stdin
 * (when stdin_fd >= 0: the shell stops at its end) */
static int
make_platform(const char *name, const struct config *cfg, struct loop *loop,
              struct ws_ctx *ws, struct bot *b, int stdin_fd, int shell)
{
    struct chat_platform *p = NULL;
    const char *user = getenv("USER");

    if (!strcmp(name, "slack")) {
        if (slack_new(loop, ws, cfg, &p))
            return fail_setup("cannot start the Slack platform", NULL);
        if (bot_set_platform(b, p)) {
            p->ops->destroy(p);
            return fail_setup("out of memory", NULL);
        }
        slack_start(p);
        return 0;
    }
    if (!strcmp(name, "matrix")) {
        if (matrix_new(loop, cfg, &p))
            return fail_setup("cannot start the Matrix platform", NULL);
        if (bot_set_platform(b, p)) {
            p->ops->destroy(p);
            return fail_setup("out of memory", NULL);
        }
        matrix_start(p);
        return 0;
    }
    if (strcmp(name, "terminal")) {
        fprintf(stderr, "pmbot: the %s platform is not available yet\n",
                name);
        return EXIT_SETUP;
    }
    if (console_new(stdout, user && *user ? user : "you", &p))
        return fail_setup("out of memory", NULL);
    if (bot_set_platform(b, p)) {
        p->ops->destroy(p);
        return fail_setup("out of memory", NULL);
    }
    if (stdin_fd < 0)
        return 0;
    if (console_attach(p, loop, stdin_fd, shell))
        return fail_setup("cannot read standard input", NULL);
    if (isatty(stdin_fd))
        printf("* pmbot %s on the terminal platform, database %s.\n"
               "* Type messages and !incident / !pm commands; /help for the "
               "shell, /quit to leave.\n",
               PMBOT_VERSION, cfg->database);
    return 0;
}

/* connect - every platform chosen for `pmbot run` (or the terminal for
 * the shell), each logged with why; alarms go to [pmbot] alarm_platform */
static int
connect(struct config *cfg, struct loop *loop, struct ws_ctx *ws,
        struct bot *b, int stdin_fd, int shell)
{
    struct platforms chosen;
    char *why = NULL;
    int rc = 0;

    if (shell)
        return make_platform("terminal", cfg, loop, ws, b, stdin_fd, 1);
    if (platforms_choose(cfg, &chosen, &why))
        return fail_setup("platforms", why);
    for (int i = 0; !rc && i < chosen.n; i++) {
        log_info("connecting %s", chosen.v[i].reason);
        rc = make_platform(chosen.v[i].name, cfg, loop, ws, b, stdin_fd, 0);
    }
    if (!rc && core_platform(&b->core, chosen.v[chosen.alarm].name))
        b->alarm_platform = chosen.v[chosen.alarm].name; /* static */
    platforms_cleanup(&chosen);
    return rc;
}

/* cmd_run - `pmbot run` (the platforms chosen by their credentials) and
 * `pmbot shell` (the terminal, whatever the configuration says). */
static int
cmd_run(struct config *cfg, int shell)
{
    struct loop *loop = NULL;
    struct ws_ctx *ws = NULL;
    struct webhook *hook = NULL;
    struct bot *b = NULL;
    char *why = NULL;
    int rc;

    if (!shell) {
        struct platforms chosen;

        /* refuse a bad platform setup before touching the database */
        if (platforms_choose(cfg, &chosen, &why))
            return fail_setup("platforms", why);
        platforms_cleanup(&chosen);
    }
    if (loop_new(&loop))
        return fail_setup("cannot create the event loop", NULL);
    /* one bot per database: two would answer every event twice */
    rc = open_bot(cfg, loop, BOT_OPEN_DAEMON, &b);
    /* the libwebsockets context for Slack's socket (the listener has its own) */
    if (!rc && ws_ctx_new(loop, &ws))
        rc = fail_setup("cannot start libwebsockets", NULL);
    if (!rc)
        rc = connect(cfg, loop, ws, b, STDIN_FILENO, shell);
    /* the alarm listener runs with the daemon, not in the shell */
    if (!rc && !shell && webhook_new(b, &hook, &why))
        rc = fail_setup("webhook listener", why);
    if (rc)
        goto out;
    loop_on_signal(loop, SIGINT, on_stop_signal, loop);
    loop_on_signal(loop, SIGTERM, on_stop_signal, loop);
    if (!shell) {
        bot_checkpoint_in_background(b);
        bot_watch_health(b);
        bot_prune_in_background(b);
    }
    /* the shell holds the database too: it sends what `pmbot remind`
     * wrote while it ran */
    bot_watch_outbox(b);
    bot_schedule(b);
    bot_start(b);
    loop_run(loop);
    rc = 0;
out:
    webhook_free(hook); /* its pending answers die with it, not the bot */
    bot_destroy(b);
    ws_ctx_free(ws);
    loop_free(loop);
    return rc;
}

static int
cmd_report(const struct config *cfg, const struct opts *o)
{
    struct bot *b = NULL;
    struct incident inc;
    struct strbuf out;
    int format = REPORT_MD, rc;

    if (!o->incident)
        return usage_error("report needs an incident: pmbot report 3");
    if (o->format && !strcmp(o->format, "html"))
        format = REPORT_HTML;
    else if (o->format && strcmp(o->format, "md"))
        return usage_error("--format is md or html");
    rc = open_bot(cfg, NULL, BOT_OPEN_READ, &b);
    if (rc)
        return rc;
    /* by number or by channel name, whatever the platform */
    rc = incident_lookup(b->core.store, o->incident, &inc);
    if (rc == BOT_ENOTFOUND) {
        fprintf(stderr, "pmbot: no incident %s\n", o->incident);
        bot_destroy(b);
        return EXIT_NOTFOUND;
    }
    strbuf_init(&out, 0);
    if (!rc)
        rc = report_render(b->core.store, inc.id, format, bot_now_ms(b), &out);
    if (!rc)
        fwrite(out.buf, 1, out.len, stdout);
    else
        fprintf(stderr, "pmbot: report: %s\n", bot_strerror(rc));
    if (!rc)
        store_incident_clear(&inc);
    strbuf_cleanup(&out);
    bot_destroy(b);
    return rc ? EXIT_SETUP : 0;
}

static int
cmd_actions(const struct config *cfg, const struct opts *o)
{
    struct bot *b = NULL;
    struct action *list = NULL;
    struct strbuf out;
    size_t n = 0;
    int rc;

    rc = open_bot(cfg, NULL, BOT_OPEN_READ, &b);
    if (rc)
        return rc;
    rc = store_action_list(b->core.store, 0, o->all, &list, &n);
    if (rc) {
        bot_destroy(b);
        return fail_setup("database", NULL);
    }
    /* user text through chat_text_show(): no escape reaches the terminal */
    strbuf_init(&out, 0);
    rc = report_actions(&out, list, n, o->all, bot_now_ms(b));
    if (!rc)
        fwrite(out.buf ? out.buf : "", 1, out.len, stdout);
    strbuf_cleanup(&out);
    store_action_list_free(list, n);
    bot_destroy(b);
    return rc ? fail_setup("actions: out of memory", NULL) : 0;
}

#define REMIND_PATIENCE_MS 60000

/* remind_poll - `pmbot remind` waits until what its pass wrote is sent */
struct remind_wait {
    struct bot *b;
    struct loop *loop;
    struct loop_timer *timer;
    int idle;
    uint64_t deadline;
    long pending; /* rows left at the last look */
};

static void
remind_poll(void *arg)
{
    struct remind_wait *w = arg;

    long pending = -1;

    /* idle twice in a row: nothing in flight, nothing started since */
    w->idle = bot_outbox_idle(w->b) ? w->idle + 1 : 0;
    /* while rows keep going out (10,000 DMs take a while), wait on: a
     * minute without progress is a platform that does not answer */
    if (!bot_outbox_pending(w->b, &pending) && pending < w->pending)
        w->deadline = loop_now_ms(w->loop) + REMIND_PATIENCE_MS;
    w->pending = pending;
    if (w->idle >= 2 || loop_now_ms(w->loop) > w->deadline)
        loop_stop(w->loop);
}

/*
 * cmd_remind - one pass of the scheduler. --dry-run reads only and prints
 * what would be sent. Otherwise the due duties are claimed and written to
 * the outbox; a running daemon sends them (it watches the outbox), or,
 * with none, this process connects the platforms and sends them itself.
 */
static int
cmd_remind(struct config *cfg, const struct opts *o)
{
    struct remind_wait w = {0};
    struct loop *loop = NULL;
    struct ws_ctx *ws = NULL;
    struct bot *b = NULL;
    struct strbuf out;
    int64_t now = 0;
    int rc, ran = 0, daemon = 1;
    char *why = NULL;

    if (o->now && timeutil_parse_iso(o->now, &now))
        return usage_error("--now is YYYY-MM-DDTHH:MM[:SS]Z");
    if (o->dry_run) {
        rc = open_bot(cfg, NULL, BOT_OPEN_READ, &b);
        if (rc)
            return rc;
        if (now)
            b->core.fixed_now = now;
        strbuf_init(&out, 0);
        rc = bot_remind(b, bot_now_ms(b), &out, &ran);
        if (!rc)
            printf("%s%d reminder%s due (dry run: nothing sent or "
                   "recorded)\n",
                   strbuf_str(&out), ran, ran == 1 ? "" : "s");
        strbuf_cleanup(&out);
        bot_destroy(b);
        return rc ? fail_setup("remind", NULL) : 0;
    }
    if (loop_new(&loop))
        return fail_setup("cannot create the event loop", NULL);
    /* the one process that sends: with a daemon running, it sends */
    if (bot_open(cfg, loop, BOT_OPEN_DAEMON, &b, &why) == BOT_EEXIST) {
        bot_free(why);
        why = NULL;
        daemon = 0;
        rc = open_bot(cfg, loop, BOT_OPEN_WRITE, &b);
    } else if (!b) {
        rc = fail_setup("database", why);
    } else {
        const char *env = getenv("PMBOT_NOW");

        rc = env && *env && timeutil_parse_iso(env, &b->core.fixed_now)
                 ? fail_setup("PMBOT_NOW is not YYYY-MM-DDTHH:MM[:SS]Z",
                              NULL)
                 : 0;
    }
    if (rc)
        goto out;
    if (now)
        b->core.fixed_now = now;
    /* the sender connects first: messages are phrased for the platform */
    if (daemon)
        rc = ws_ctx_new(loop, &ws)
                 ? fail_setup("cannot start libwebsockets", NULL)
                 : connect(cfg, loop, ws, b, -1, 0);
    if (rc)
        goto out;
    rc = bot_remind(b, bot_now_ms(b), NULL, &ran);
    if (rc) {
        rc = fail_setup("remind: a duty failed; see the log", NULL);
        goto out;
    }
    printf("%d reminder%s due\n", ran, ran == 1 ? "" : "s");
    if (!daemon) {
        printf("the running pmbot sends them\n");
        goto out;
    }
    w.b = b;
    w.loop = loop;
    w.deadline = loop_now_ms(loop) + REMIND_PATIENCE_MS;
    w.pending = -1;
    if (loop_timer_new(loop, remind_poll, &w, &w.timer)) {
        rc = fail_setup("out of memory", NULL);
        goto out;
    }
    loop_timer_start(w.timer, 100, 100);
    bot_start(b);
    loop_run(loop);
    loop_timer_free(w.timer);
out:
    bot_destroy(b);
    ws_ctx_free(ws);
    loop_free(loop);
    return rc;
}

static int
cmd_check_config(const struct config *cfg, const struct opts *o)
{
    struct strbuf out;

    strbuf_init(&out, 0);
    config_dump(cfg, &out);
    fputs(strbuf_str(&out), stdout);
    strbuf_cleanup(&out);
    printf("\n; configuration OK (%s)\n",
           o->config ? o->config : "built-in defaults");
    return 0;
}

int
main(int argc, char **argv)
{
    struct opts o = {0};
    struct config cfg;
    const char *cmd = argc > 1 ? argv[1] : NULL;
    int rc;

    /* one malloc arena and one worker thread: the only work off the loop
     * is the WAL checkpoint */
    mallopt(M_ARENA_MAX, 1);
    /* keep freed memory up to 1 MiB instead of handing it back at once:
     * SQLite frees and retakes its buffers every commit, and each round
     * trip to the kernel (brk, fresh zeroed pages) cost more than the
     * commit's own work */
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
    /* and, as setting that turns off glibc's own tuning, buffers up to
     * 256 KiB (a history page, a burst of acks) come from the heap too
     * rather than an mmap and munmap each */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    setenv("UV_THREADPOOL_SIZE", "1", 0);
    if (!cmd)
        return usage_error("which command?");
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("pmbot %s\n", PMBOT_VERSION);
        return 0;
    }
    if (strcmp(cmd, "run") && strcmp(cmd, "shell") && strcmp(cmd, "report") &&
        strcmp(cmd, "actions") && strcmp(cmd, "check-config") &&
        strcmp(cmd, "remind"))
        return usage_error("unknown command");
    rc = parse_opts(argc, argv, &o, !strcmp(cmd, "report"));
    if (rc)
        return rc;
    rc = load_config(&o, &cfg);
    if (rc)
        return rc;
    if (!strcmp(cmd, "run") || !strcmp(cmd, "shell"))
        rc = cmd_run(&cfg, !strcmp(cmd, "shell"));
    else if (!strcmp(cmd, "report"))
        rc = cmd_report(&cfg, &o);
    else if (!strcmp(cmd, "actions"))
        rc = cmd_actions(&cfg, &o);
    else if (!strcmp(cmd, "remind"))
        rc = cmd_remind(&cfg, &o);
    else
        rc = cmd_check_config(&cfg, &o);
    config_cleanup(&cfg);
    return rc;
}
