/*
 * test_slack_ops.c - the Slack adapter's operations (chat.h v2) against the
 * loopback Slack (tests/fake_slack.c, started here on 127.0.0.1 and
 * stopped at the end): each op is called directly, as the outbox will,
 * and what the fake recorded is checked through its control API.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bot.h"
#include "chat.h"
#include "config.h"
#include "err.h"
#include "loop.h"
#include "mem.h"
#include "slack.h"
#include "strbuf.h"
#include "ws.h"

#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char fake_path[4096];

struct world {
    struct config cfg;
    struct loop *loop;
    struct ws_ctx *ws;
    struct bot *b;
    struct chat_platform *p;
    struct loop_timer *tick;
    pid_t fake;
    int port;
};

/* what a callback got */
struct res {
    int done, rc;
    char id[96];
};

static void
on_tick(void *arg)
{
    (void)arg; /* wakes loop_run_once, so deadlines are looked at */
}

static double
now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* run - step the loop until *flag is set, for at most secs */
static int
run(struct world *w, const int *flag, double secs)
{
    double end = now_s() + secs;

    while (!*flag && now_s() < end)
        loop_run_once(w->loop);
    return *flag;
}

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
    strbuf_append(arg, data, size * n);
    return size * n;
}

/* ctl - a control call to the fake (blocking: it is another process);
 * its JSON reply (new) */
static json_t *
ctl(struct world *w, const char *name, const char *body)
{
    CURL *c = curl_easy_init();
    struct strbuf out;
    char url[128];
    json_t *j;

    assert_non_null(c);
    strbuf_init(&out, 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/_control/%s", w->port,
             name);
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_cleanup(c);
    j = json_loads(strbuf_str(&out), 0, NULL);
    strbuf_cleanup(&out);
    assert_non_null(j);
    return j;
}

/* calls - the fake's log of one method's calls (new) */
static json_t *
calls(struct world *w, const char *method)
{
    char q[96];
    json_t *j, *c;

    snprintf(q, sizeof(q), "calls?method=%s", method);
    j = ctl(w, q, NULL);
    c = json_incref(json_object_get(j, "calls"));
    json_decref(j);
    return c;
}

/* message - the stored message ts of channel, or NULL (state: new) */
static json_t *
message(json_t *state, const char *channel, const char *ts)
{
    json_t *msgs = json_object_get(json_object_get(state, "messages"),
                                   channel), *m;
    size_t i;

    json_array_foreach(msgs, i, m) {
        if (!strcmp(json_string_value(json_object_get(m, "ts")), ts))
            return m;
    }
    return NULL;
}

static void
start_fake(struct world *w)
{
    int fd[2];
    char line[128] = "";
    FILE *in;

    assert_int_equal(pipe(fd), 0);
    w->fake = fork();
    assert_true(w->fake >= 0);
    if (w->fake == 0) {
        /* gone with the test, even one that dies */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        execl(fake_path, fake_path, "--port", "0", (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    in = fdopen(fd[0], "r");
    assert_non_null(in);
    /* its one line: "listening <port>" */
    if (!fgets(line, sizeof(line), in) ||
        sscanf(line, "listening %d", &w->port) != 1)
        fail_msg("%s did not start (build it: make build/asan/fake_slack)",
                 fake_path);
    fclose(in);
}

static void
stop_fake(struct world *w)
{
    int status = 0;

    if (w->fake <= 0)
        return;
    kill(w->fake, SIGTERM);
    waitpid(w->fake, &status, 0);
    w->fake = 0;
}

static int
connected(struct world *w)
{
    const char *why;

    return w->p->ops->connected(w->p, &why);
}

static int
setup(void **state)
{
    struct world *w = calloc(1, sizeof(*w));
    char url[96];

    start_fake(w);
    assert_int_equal(config_defaults(&w->cfg), BOT_OK);
    bot_free(w->cfg.database);
    w->cfg.database = bot_strdup(":memory:");
    bot_free(w->cfg.slack_bot_token);
    w->cfg.slack_bot_token = bot_strdup("xoxb-test");
    bot_free(w->cfg.slack_app_token);
    w->cfg.slack_app_token = bot_strdup("xapp-test");
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/", w->port);
    bot_free(w->cfg.slack_api_url);
    w->cfg.slack_api_url = bot_strdup(url);
    assert_int_equal(loop_new(&w->loop), BOT_OK);
    assert_int_equal(bot_new(&w->cfg, w->loop, &w->b, NULL), BOT_OK);
    assert_int_equal(ws_ctx_new(w->loop, &w->ws), BOT_OK);
    assert_int_equal(slack_new(w->loop, w->ws, &w->cfg, &w->p), BOT_OK);
    bot_set_platform(w->b, w->p);
    assert_int_equal(loop_timer_new(w->loop, on_tick, w, &w->tick), BOT_OK);
    loop_timer_start(w->tick, 20, 20);
    json_decref(ctl(w, "channel",
                    "{\"id\":\"CT1\",\"name\":\"ops\","
                    "\"members\":[\"UBOT\",\"U2\",\"U9\"]}"));
    *state = w;
    return 0;
}

/* start - slack_start, then wait until connected: auth.test has said who
 * the bot is */
static void
start(struct world *w)
{
    double end = now_s() + 10;
    int up;

    slack_start(w->p);
    while (!(up = connected(w)) && now_s() < end)
        loop_run_once(w->loop);
    assert_true(up);
}

static int
setup_started(void **state)
{
    setup(state);
    start(*state);
    return 0;
}

static int
teardown(void **state)
{
    struct world *w = *state;

    loop_timer_free(w->tick);
    bot_destroy(w->b);
    ws_ctx_free(w->ws);
    loop_free(w->loop);
    config_cleanup(&w->cfg);
    stop_fake(w);
    free(w);
    return 0;
}

/* --- callbacks --- */

static void
posted(void *arg, int rc, const char *id)
{
    struct res *r = arg;

    r->done = 1;
    r->rc = rc;
    snprintf(r->id, sizeof(r->id), "%s", id ? id : "");
}

static void
done(void *arg, int rc)
{
    struct res *r = arg;

    r->done = 1;
    r->rc = rc;
}

static void
roomed(void *arg, int rc, const char *id, const char *name)
{
    struct res *r = arg;

    (void)name;
    r->done = 1;
    r->rc = rc;
    snprintf(r->id, sizeof(r->id), "%s", id ? id : "");
}

static struct res
post(struct world *w, const struct chat_target *to, const char *text)
{
    struct chat_msg m;
    struct res r = {0};

    chat_msg_init(&m);
    chat_msg_text(&m, "%s", text);
    w->p->ops->post(w->p, to, &m, posted, &r);
    chat_msg_cleanup(&m);
    assert_true(run(w, &r.done, 10));
    return r;
}

/* a user's message in CT1 (new ts in out) */
static void
user_message(struct world *w, const char *text, char *out, size_t n)
{
    char body[256];
    json_t *j;

    snprintf(body, sizeof(body),
             "{\"channel\":\"CT1\",\"user\":\"U2\",\"text\":\"%s\","
             "\"deliver\":false}",
             text);
    j = ctl(w, "message", body);
    snprintf(out, n, "%s", json_string_value(json_object_get(j, "ts")));
    json_decref(j);
}

/* --- tests --- */

static void
caps__ephemeral_thread_private_and_the_new_ops(void **state)
{
    struct world *w = *state;

    assert_true(chat_can(w->p, CHAT_CAN_EPHEMERAL));
    assert_true(chat_can(w->p, CHAT_CAN_THREAD));
    assert_true(chat_can(w->p, CHAT_CAN_PRIVATE));
    assert_true(chat_can(w->p, CHAT_CAN_OPEN_DM));
    assert_true(chat_can(w->p, CHAT_CAN_UPDATE));
    assert_true(chat_can(w->p, CHAT_CAN_REACT));
    assert_true(chat_can(w->p, CHAT_CAN_REDACT));
    assert_true(chat_can(w->p, CHAT_CAN_FIND_SENT));
}

static void
find_sent__the_keyed_post_is_found_an_unknown_key_is_not(void **state)
{
    struct world *w = *state;
    struct chat_target to = {.room = "CT1", .key = "pmbot-7"};
    struct res r = post(w, &to, "reminder"), f = {0}, g = {0};
    char ts[32];
    json_t *st, *m, *c;

    assert_int_equal(r.rc, BOT_OK);
    assert_true(r.id[0]);
    /* newer messages, the bot's own among them, do not hide it */
    user_message(w, "after it", ts, sizeof(ts));
    to.key = "pmbot-70";
    assert_int_equal(post(w, &to, "another").rc, BOT_OK);
    st = ctl(w, "state", NULL);
    m = message(st, "CT1", r.id);
    assert_non_null(m);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(m, "metadata"),
                                          "event_type")),
        "pmbot_outbox");
    json_decref(st);

    w->p->ops->find_sent(w->p, "CT1", NULL, "pmbot-7", posted, &f);
    assert_true(run(w, &f.done, 10));
    assert_int_equal(f.rc, BOT_OK);
    assert_string_equal(f.id, r.id);
    c = calls(w, "conversations.history");
    m = json_object_get(json_array_get(c, json_array_size(c) - 1), "args");
    assert_string_equal(
        json_string_value(json_object_get(m, "include_all_metadata")),
        "true");
    json_decref(c);

    w->p->ops->find_sent(w->p, "CT1", NULL, "pmbot-8", posted, &g);
    assert_true(run(w, &g.done, 10));
    assert_int_equal(g.rc, BOT_ENOTFOUND);
    assert_string_equal(g.id, "");
}

static void
find_sent__a_post_in_a_thread_is_found_in_that_thread(void **state)
{
    struct world *w = *state;
    struct chat_target to = {.room = "CT1", .key = "pmbot-1"};
    struct res parent = post(w, &to, "questions"), r, f = {0}, g = {0};
    json_t *c, *a;

    assert_int_equal(parent.rc, BOT_OK);
    to.thread_id = parent.id;
    to.key = "pmbot-2";
    r = post(w, &to, "question 1");
    assert_int_equal(r.rc, BOT_OK);
    /* history holds no thread replies: not there */
    w->p->ops->find_sent(w->p, "CT1", NULL, "pmbot-2", posted, &g);
    assert_true(run(w, &g.done, 10));
    assert_int_equal(g.rc, BOT_ENOTFOUND);
    w->p->ops->find_sent(w->p, "CT1", parent.id, "pmbot-2", posted, &f);
    assert_true(run(w, &f.done, 10));
    assert_int_equal(f.rc, BOT_OK);
    assert_string_equal(f.id, r.id);
    c = calls(w, "conversations.replies");
    assert_int_equal(json_array_size(c), 1);
    a = json_object_get(json_array_get(c, 0), "args");
    assert_string_equal(json_string_value(json_object_get(a, "ts")),
                        parent.id);
    assert_string_equal(
        json_string_value(json_object_get(a, "include_all_metadata")),
        "true");
    json_decref(c);
}

static void
find_sent__waits_for_who_the_bot_is_and_skips_other_apps(void **state)
{
    struct world *w = *state;
    struct chat_target to = {.room = "CT1", .key = "pmbot-7"};
    struct res r, f = {0};
    json_t *c;

    start(w);
    r = post(w, &to, "ours");
    assert_int_equal(r.rc, BOT_OK);
    /* a newer message of another app carrying the same key */
    json_decref(ctl(w, "message",
                    "{\"channel\":\"CT1\",\"user\":\"U9\",\"bot_id\":"
                    "\"B9\",\"text\":\"theirs\",\"deliver\":false,"
                    "\"metadata\":{\"event_type\":\"pmbot_outbox\","
                    "\"event_payload\":{\"key\":\"pmbot-7\"}}}"));
    /* a restart: asked before auth.test, find_sent waits for it */
    bot_take_platform(w->b, w->p);
    w->p->ops->destroy(w->p);
    assert_int_equal(slack_new(w->loop, w->ws, &w->cfg, &w->p), BOT_OK);
    bot_set_platform(w->b, w->p);
    json_decref(ctl(w, "reset_log", "{}"));
    w->p->ops->find_sent(w->p, "CT1", NULL, "pmbot-7", posted, &f);
    /* time enough for an answer, had it been asked */
    assert_false(run(w, &f.done, 0.3));
    c = calls(w, "conversations.history");
    assert_int_equal(json_array_size(c), 0);
    json_decref(c);
    start(w);
    assert_true(run(w, &f.done, 10));
    assert_int_equal(f.rc, BOT_OK);
    assert_string_equal(f.id, r.id);
    c = calls(w, "auth.test");
    assert_int_equal(json_array_size(c), 1);
    json_decref(c);
}

static void
post__in_a_thread(void **state)
{
    struct world *w = *state;
    char parent[32];
    struct chat_target to = {.room = "CT1", .thread_id = parent};
    struct res r;
    json_t *st, *m;

    user_message(w, "the parent", parent, sizeof(parent));
    r = post(w, &to, "a reply");
    assert_int_equal(r.rc, BOT_OK);
    st = ctl(w, "state", NULL);
    m = message(st, "CT1", r.id);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "thread_ts")),
                        parent);
    assert_null(json_object_get(m, "metadata")); /* no key, no metadata */
    json_decref(st);
}

static void
post__ephemeral_goes_to_one_user_and_has_no_id(void **state)
{
    struct world *w = *state;
    struct chat_target to = {.room = "CT1", .user = "U9",
                             .flags = CHAT_POST_EPHEMERAL};
    struct res r = post(w, &to, "only for you");
    json_t *st, *e, *c;

    assert_int_equal(r.rc, BOT_OK);
    assert_string_equal(r.id, "");
    st = ctl(w, "state", NULL);
    assert_int_equal(json_array_size(json_object_get(st, "ephemerals")), 1);
    e = json_array_get(json_object_get(st, "ephemerals"), 0);
    assert_string_equal(json_string_value(json_object_get(e, "user")), "U9");
    assert_string_equal(json_string_value(json_object_get(e, "channel")),
                        "CT1");
    assert_non_null(strstr(json_string_value(json_object_get(e, "text")),
                           "only for you"));
    json_decref(st);
    c = calls(w, "chat.postMessage");
    assert_int_equal(json_array_size(c), 0);
    json_decref(c);
    /* someone not in the channel: final */
    to.user = "U404";
    assert_int_equal(post(w, &to, "for a stranger").rc, BOT_EINVAL);
    /* without its one user, it is refused here */
    to.user = NULL;
    assert_int_equal(post(w, &to, "for whom?").rc, BOT_EINVAL);
}

static void
open_dm__answers_the_dm_channel(void **state)
{
    struct world *w = *state;
    struct res r = {0};
    json_t *c;

    w->p->ops->open_dm(w->p, "U5", roomed, &r);
    assert_true(run(w, &r.done, 10));
    assert_int_equal(r.rc, BOT_OK);
    assert_string_equal(r.id, "DU5");
    c = calls(w, "conversations.open");
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_array_get(c, 0), "args"), "users")),
        "U5");
    json_decref(c);
}

static void
update__replaces_the_bots_text_and_refuses_others(void **state)
{
    struct world *w = *state;
    struct chat_target to = {.room = "CT1"};
    struct res r = post(w, &to, "draft"), u = {0}, v = {0}, x = {0};
    struct chat_msg m;
    char ts[32];
    json_t *st;

    assert_int_equal(r.rc, BOT_OK);
    chat_msg_init(&m);
    chat_msg_text(&m, "final <text>");
    w->p->ops->update(w->p, "CT1", r.id, &m, NULL, done, &u);
    assert_true(run(w, &u.done, 10));
    assert_int_equal(u.rc, BOT_OK);
    st = ctl(w, "state", NULL);
    assert_string_equal(
        json_string_value(json_object_get(message(st, "CT1", r.id), "text")),
        "final &lt;text&gt;");
    json_decref(st);
    /* someone else's message: final (cant_update_message) */
    user_message(w, "not yours", ts, sizeof(ts));
    w->p->ops->update(w->p, "CT1", ts, &m, NULL, done, &v);
    assert_true(run(w, &v.done, 10));
    assert_int_equal(v.rc, BOT_EINVAL);
    /* no such message */
    w->p->ops->update(w->p, "CT1", "1700000000.000001", &m, NULL, done, &x);
    assert_true(run(w, &x.done, 10));
    assert_int_equal(x.rc, BOT_ENOTFOUND);
    chat_msg_cleanup(&m);
}

static void
react__maps_the_character_to_its_name_once(void **state)
{
    struct world *w = *state;
    struct chat_target to = {.room = "CT1"};
    struct res r = post(w, &to, "react to me"), a = {0}, b = {0}, c = {0};
    json_t *st, *rs, *calls_before, *calls_after;

    assert_int_equal(r.rc, BOT_OK);
    w->p->ops->react(w->p, "CT1", r.id, "\u2705", NULL, done, &a);
    assert_true(run(w, &a.done, 10));
    assert_int_equal(a.rc, BOT_OK);
    st = ctl(w, "state", NULL);
    rs = json_array_get(
        json_object_get(message(st, "CT1", r.id), "reactions"), 0);
    assert_string_equal(json_string_value(json_object_get(rs, "name")),
                        "white_check_mark");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(rs, "users"), 0)),
        "UBOT");
    json_decref(st);
    /* already_reacted is done */
    w->p->ops->react(w->p, "CT1", r.id, "\u2705", NULL, done, &b);
    assert_true(run(w, &b.done, 10));
    assert_int_equal(b.rc, BOT_OK);
    /* an emoji without a known name: refused, nothing sent */
    calls_before = calls(w, "reactions.add");
    w->p->ops->react(w->p, "CT1", r.id, "\U0001F984", NULL, done, &c);
    assert_true(run(w, &c.done, 10));
    assert_int_equal(c.rc, BOT_EINVAL);
    calls_after = calls(w, "reactions.add");
    assert_int_equal(json_array_size(calls_after),
                     json_array_size(calls_before));
    json_decref(calls_before);
    json_decref(calls_after);
}

static void
redact__deletes_the_bots_message(void **state)
{
    struct world *w = *state;
    struct chat_target to = {.room = "CT1"};
    struct res r = post(w, &to, "oops"), d = {0}, e = {0};
    json_t *st;

    assert_int_equal(r.rc, BOT_OK);
    w->p->ops->redact(w->p, "CT1", r.id, NULL, done, &d);
    assert_true(run(w, &d.done, 10));
    assert_int_equal(d.rc, BOT_OK);
    st = ctl(w, "state", NULL);
    assert_null(message(st, "CT1", r.id));
    json_decref(st);
    w->p->ops->redact(w->p, "CT1", r.id, NULL, done, &e);
    assert_true(run(w, &e.done, 10));
    assert_int_equal(e.rc, BOT_ENOTFOUND);
}

static void
open_channel__private_with_the_flag(void **state)
{
    struct world *w = *state;
    struct res a = {0}, b = {0};
    json_t *st, *ch;
    size_t i;
    int priv = -1, pub = -1;

    w->p->ops->open_channel(w->p, "inc-secret", CHAT_CHANNEL_PRIVATE, roomed,
                            &a);
    w->p->ops->open_channel(w->p, "inc-open", 0, roomed, &b);
    assert_true(run(w, &a.done, 10) && run(w, &b.done, 10));
    assert_int_equal(a.rc, BOT_OK);
    assert_int_equal(b.rc, BOT_OK);
    st = ctl(w, "state", NULL);
    json_array_foreach(json_object_get(st, "channels"), i, ch) {
        const char *id = json_string_value(json_object_get(ch, "id"));

        if (!strcmp(id, a.id))
            priv = json_is_true(json_object_get(ch, "is_private"));
        if (!strcmp(id, b.id))
            pub = json_is_true(json_object_get(ch, "is_private"));
    }
    assert_int_equal(priv, 1);
    assert_int_equal(pub, 0);
    json_decref(st);
}

static void
upload__in_a_thread(void **state)
{
    struct world *w = *state;
    char parent[32];
    struct chat_target to = {.room = "CT1", .thread_id = parent};
    struct res r = {0};
    json_t *st, *f;

    user_message(w, "the document goes under me", parent, sizeof(parent));
    w->p->ops->upload(w->p, &to, "pm.md", "Post-mortem", "# doc\n", 6, done,
                      &r);
    assert_true(run(w, &r.done, 10));
    assert_int_equal(r.rc, BOT_OK);
    st = ctl(w, "state", NULL);
    f = json_array_get(json_object_get(st, "files"), 0);
    assert_string_equal(json_string_value(json_object_get(f, "channel")),
                        "CT1");
    assert_string_equal(json_string_value(json_object_get(f, "thread_ts")),
                        parent);
    json_decref(st);
}

static void
errors__already_so_is_done_refusals_are_final(void **state)
{
    struct world *w = *state;
    struct chat_target to = {.room = "CT1"}, nowhere = {.room = "CNOPE"};
    struct res r = post(w, &to, "pin me"), a = {0}, b = {0};

    assert_int_equal(r.rc, BOT_OK);
    w->p->ops->pin(w->p, "CT1", r.id, done, &a);
    assert_true(run(w, &a.done, 10));
    w->p->ops->pin(w->p, "CT1", r.id, done, &b);
    assert_true(run(w, &b.done, 10));
    assert_int_equal(a.rc, BOT_OK);
    assert_int_equal(b.rc, BOT_OK); /* already_pinned */
    assert_int_equal(post(w, &nowhere, "x").rc, BOT_ENOTFOUND);
    json_decref(ctl(w, "fail",
                    "{\"method\":\"chat.postMessage\","
                    "\"error\":\"not_in_channel\"}"));
    assert_int_equal(post(w, &to, "x").rc, BOT_EINVAL);
    json_decref(ctl(w, "fail",
                    "{\"method\":\"chat.postMessage\","
                    "\"error\":\"is_archived\"}"));
    assert_int_equal(post(w, &to, "x").rc, BOT_EINVAL);
    /* a transient error is tried again by the queue */
    json_decref(ctl(w, "fail",
                    "{\"method\":\"chat.postMessage\","
                    "\"error\":\"internal_error\"}"));
    assert_int_equal(post(w, &to, "x").rc, BOT_OK);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup_started, teardown)
        T(caps__ephemeral_thread_private_and_the_new_ops),
        T(find_sent__the_keyed_post_is_found_an_unknown_key_is_not),
        T(find_sent__a_post_in_a_thread_is_found_in_that_thread),
        cmocka_unit_test_setup_teardown(
            find_sent__waits_for_who_the_bot_is_and_skips_other_apps, setup,
            teardown),
        T(post__in_a_thread),
        T(post__ephemeral_goes_to_one_user_and_has_no_id),
        T(open_dm__answers_the_dm_channel),
        T(update__replaces_the_bots_text_and_refuses_others),
        T(react__maps_the_character_to_its_name_once),
        T(redact__deletes_the_bots_message),
        T(open_channel__private_with_the_flag),
        T(upload__in_a_thread),
        T(errors__already_so_is_done_refusals_are_final),
    };
    const char *slash = strrchr(argv[0], '/');

    (void)argc;
    /* build/asan/tests/test_slack_ops -> build/asan/fake_slack */
    snprintf(fake_path, sizeof(fake_path), "%.*s/../fake_slack",
             slash ? (int)(slash - argv[0]) : 1, slash ? argv[0] : ".");
    /* the fake's exit must not kill us through a closed pipe */
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    curl_global_cleanup();
    return rc;
}
