/*
 * test_slack_json.c - the Slack codec against payloads shaped as Slack
 * documents them (tests/fixtures/slack, see shared/protocols.md A-C):
 * envelopes, their normalised events, mrkdwn escaping, Web API bodies and
 * answers, mention tokens. Fixtures are read relative to the repository
 * root, where the tests run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "chat.h"
#include "err.h"
#include "fixture.h"
#include "mem.h"
#include "slack_json.h"
#include "strbuf.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define FIXTURES "tests/fixtures/slack/"
#define SELF_USER "UBOT"
#define SELF_BOT "BBOT"

/* load - the fixture's bytes, NUL-terminated (bot_free). */
static char *
load(const char *name, size_t *len)
{
    char path[256];
    char *buf;

    snprintf(path, sizeof(path), FIXTURES "%s", name);
    buf = fixture_load(path, len);
    if (!buf)
        fail_msg("cannot read fixture %s", path);
    return buf;
}
/* parse - slack_envelope_parse of a fixture that must parse. */
static void
parse(const char *name, struct slack_envelope *e)
{
    size_t len;
    char *buf = load(name, &len);

    assert_int_equal(slack_envelope_parse(buf, len, e), BOT_OK);
    bot_free(buf);
}

/* assert_opt_str - a and b both NULL or equal strings. */
static void
assert_opt_str(const char *a, const char *b)
{
    if (!b) {
        assert_null(a);
        return;
    }
    assert_non_null(a);
    assert_string_equal(a, b);
}

/* the fields a parsed envelope should hold; NULL means absent */
struct want {
    int type;
    const char *envelope_id;
    int retry_attempt;
    const char *reason;
    const char *event_id;
    const char *event_type;
    const char *subtype;
    const char *channel;
    const char *user;
    const char *bot_id;
    const char *text;
    const char *ts;
    const char *thread_ts;
    const char *reaction;
    const char *item_type;
    const char *deleted_ts;
    const char *command;
    const char *response_url;
};

static void
assert_envelope(const struct slack_envelope *e, const struct want *w)
{
    assert_int_equal(e->type, w->type);
    assert_opt_str(e->envelope_id, w->envelope_id);
    assert_int_equal(e->retry_attempt, w->retry_attempt);
    assert_opt_str(e->reason, w->reason);
    assert_opt_str(e->event_id, w->event_id);
    assert_opt_str(e->event_type, w->event_type);
    assert_opt_str(e->subtype, w->subtype);
    assert_opt_str(e->channel, w->channel);
    assert_opt_str(e->user, w->user);
    assert_opt_str(e->bot_id, w->bot_id);
    assert_opt_str(e->text, w->text);
    assert_opt_str(e->ts, w->ts);
    assert_opt_str(e->thread_ts, w->thread_ts);
    assert_opt_str(e->reaction, w->reaction);
    assert_opt_str(e->item_type, w->item_type);
    assert_opt_str(e->deleted_ts, w->deleted_ts);
    assert_opt_str(e->command, w->command);
    assert_opt_str(e->response_url, w->response_url);
}

/* parse_and_check - parse a fixture, compare every field, clear. */
static void
parse_and_check(const char *name, const struct want *w)
{
    struct slack_envelope e;

    parse(name, &e);
    assert_envelope(&e, w);
    slack_envelope_clear(&e);
}

/* assert_clear - every field of a failed parse is zero. */
static void
assert_clear(const struct slack_envelope *e)
{
    static const struct slack_envelope zero;

    assert_memory_equal(e, &zero, sizeof(zero));
}

/* event_of - the normalised event of a fixture; e must be cleared after. */
static int
event_of(const char *name, struct slack_envelope *e, struct strbuf *sb,
         struct chat_event *ev)
{
    parse(name, e);
    return slack_envelope_event(e, SELF_USER, SELF_BOT, sb, ev);
}

/* --- slack_envelope_parse --- */

static void
slack_envelope_parse__hello(void **state)
{
    struct want w = {.type = SLACK_ENV_HELLO};

    (void)state;
    parse_and_check("hello.json", &w);
}

static void
slack_envelope_parse__disconnect_refresh_requested(void **state)
{
    struct want w = {.type = SLACK_ENV_DISCONNECT,
                     .reason = "refresh_requested"};

    (void)state;
    parse_and_check("disconnect_refresh.json", &w);
}

static void
slack_envelope_parse__disconnect_link_disabled(void **state)
{
    struct want w = {.type = SLACK_ENV_DISCONNECT, .reason = "link_disabled"};

    (void)state;
    parse_and_check("disconnect_link_disabled.json", &w);
}

static void
slack_envelope_parse__reaction_added_takes_item_channel_and_ts(void **state)
{
    struct want w = {.type = SLACK_ENV_EVENTS,
                     .envelope_id = "dbdd0ef3-1543-4f94-bfb4-133d0e6c1545",
                     .event_id = "Ev0REACT01",
                     .event_type = "reaction_added",
                     .channel = "C123",
                     .user = "U123",
                     .ts = "1360782400.498405",
                     .reaction = "pushpin",
                     .item_type = "message"};

    (void)state;
    parse_and_check("events_reaction_added.json", &w);
}

static void
slack_envelope_parse__reaction_added_retry_keeps_attempt(void **state)
{
    struct want w = {.type = SLACK_ENV_EVENTS,
                     .envelope_id = "3c1a9e7e-5b0e-4d1f-9a51-2f0a8c9d7e11",
                     .retry_attempt = 2,
                     .event_id = "Ev0REACT01",
                     .event_type = "reaction_added",
                     .channel = "C123",
                     .user = "U123",
                     .ts = "1360782400.498405",
                     .reaction = "pushpin",
                     .item_type = "message"};

    (void)state;
    parse_and_check("events_reaction_added_retry.json", &w);
}

static void
slack_envelope_parse__reaction_removed(void **state)
{
    struct want w = {.type = SLACK_ENV_EVENTS,
                     .envelope_id = "a7f1c2d3-0000-4e5f-8a9b-1c2d3e4f5a6b",
                     .event_id = "Ev0REACT02",
                     .event_type = "reaction_removed",
                     .channel = "C123",
                     .user = "U123",
                     .ts = "1360782400.498405",
                     .reaction = "pushpin",
                     .item_type = "message"};

    (void)state;
    parse_and_check("events_reaction_removed.json", &w);
}

static void
slack_envelope_parse__reaction_on_file_has_no_channel(void **state)
{
    struct want w = {.type = SLACK_ENV_EVENTS,
                     .envelope_id = "b8e2d3c4-1111-4f60-9bac-2d3e4f5a6b7c",
                     .event_id = "Ev0REACT03",
                     .event_type = "reaction_added",
                     .user = "U123",
                     .reaction = "pushpin",
                     .item_type = "file"};

    (void)state;
    parse_and_check("events_reaction_file.json", &w);
}

static void
slack_envelope_parse__message_keeps_text_escaped(void **state)
{
    struct want w = {.type = SLACK_ENV_EVENTS,
                     .envelope_id = "c9f3e4d5-2222-4071-acbd-3e4f5a6b7c8d",
                     .event_id = "Ev0MSG0001",
                     .event_type = "message",
                     .channel = "C123",
                     .user = "U123",
                     .text = "db primary is down &lt;again&gt; &amp; failing "
                             "over",
                     .ts = "1355517523.000005"};

    (void)state;
    parse_and_check("events_message.json", &w);
}

static void
slack_envelope_parse__thread_reply(void **state)
{
    struct want w = {.type = SLACK_ENV_EVENTS,
                     .envelope_id = "d0a4f5e6-3333-4182-bdce-4f5a6b7c8d9e",
                     .event_id = "Ev0MSG0002",
                     .event_type = "message",
                     .channel = "C123",
                     .user = "U456",
                     .text = "replica lag is 40s",
                     .ts = "1355517600.000100",
                     .thread_ts = "1355517523.000005"};

    (void)state;
    parse_and_check("events_thread_reply.json", &w);
}

static void
slack_envelope_parse__message_changed_takes_new_version(void **state)
{
    struct want w = {.type = SLACK_ENV_EVENTS,
                     .envelope_id = "e1b5a6f7-4444-4293-cedf-5a6b7c8d9e0f",
                     .event_id = "Ev0MSG0003",
                     .event_type = "message",
                     .subtype = "message_changed",
                     .channel = "C123",
                     .user = "U123",
                     .text = "db primary is down, failover done",
                     .ts = "1355517523.000005"};

    (void)state;
    parse_and_check("events_message_changed.json", &w);
}

static void
slack_envelope_parse__message_deleted(void **state)
{
    struct want w = {.type = SLACK_ENV_EVENTS,
                     .envelope_id = "f2c6b7a8-5555-43a4-dfe0-6b7c8d9e0f1a",
                     .event_id = "Ev0MSG0004",
                     .event_type = "message",
                     .subtype = "message_deleted",
                     .channel = "C1",
                     .ts = "1358878755.000001",
                     .deleted_ts = "1358878749.000002"};

    (void)state;
    parse_and_check("events_message_deleted.json", &w);
}

static void
slack_envelope_parse__own_message(void **state)
{
    struct want w = {.type = SLACK_ENV_EVENTS,
                     .envelope_id = "0a1b2c3d-6666-44b5-e0f1-7c8d9e0f1a2b",
                     .event_id = "Ev0MSG0005",
                     .event_type = "message",
                     .channel = "C123",
                     .user = "UBOT",
                     .bot_id = "BBOT",
                     .text = "/incident start sev1 pmbot echo",
                     .ts = "1355517800.000300"};

    (void)state;
    parse_and_check("events_own_message.json", &w);
}

static void
slack_envelope_parse__other_bot(void **state)
{
    struct want w = {.type = SLACK_ENV_EVENTS,
                     .envelope_id = "1b2c3d4e-7777-45c6-f102-8d9e0f1a2b3c",
                     .event_id = "Ev0MSG0006",
                     .event_type = "message",
                     .subtype = "bot_message",
                     .channel = "C123",
                     .bot_id = "B999",
                     .text = "!incident start sev0 firing",
                     .ts = "1355517900.000400"};

    (void)state;
    parse_and_check("events_other_bot.json", &w);
}

static void
slack_envelope_parse__channel_join(void **state)
{
    struct want w = {.type = SLACK_ENV_EVENTS,
                     .envelope_id = "2c3d4e5f-8888-46d7-0213-9e0f1a2b3c4d",
                     .event_id = "Ev0MSG0007",
                     .event_type = "message",
                     .subtype = "channel_join",
                     .channel = "C123",
                     .user = "U789",
                     .text = "<@U789> has joined the channel",
                     .ts = "1355518000.000500"};

    (void)state;
    parse_and_check("events_channel_join.json", &w);
}

static void
slack_envelope_parse__slash_command(void **state)
{
    struct want w = {
        .type = SLACK_ENV_SLASH,
        .envelope_id = "3d4e5f60-9999-47e8-1324-0f1a2b3c4d5e",
        .channel = "C123",
        .user = "U123",
        .text = "start sev1 Database <@U123|alice> down",
        .command = "/incident",
        .response_url =
            "https://hooks.slack.com/commands/T123/1234567890/AbCdEfGhIjKl"};

    (void)state;
    parse_and_check("slash_incident.json", &w);
}

static void
slack_envelope_parse__garbage_is_eproto(void **state)
{
    struct slack_envelope e;
    size_t len;
    char *buf = load("not_json.txt", &len);

    (void)state;
    memset(&e, 0xa5, sizeof(e)); /* whatever the caller's stack held */
    assert_int_equal(slack_envelope_parse(buf, len, &e), BOT_EPROTO);
    assert_clear(&e);
    slack_envelope_clear(&e);
    bot_free(buf);
}

static void
slack_envelope_parse__truncated_is_eproto(void **state)
{
    struct slack_envelope e;
    size_t len;
    char *buf = load("truncated.json", &len);

    (void)state;
    memset(&e, 0xa5, sizeof(e));
    assert_int_equal(slack_envelope_parse(buf, len, &e), BOT_EPROTO);
    assert_clear(&e);
    slack_envelope_clear(&e);
    bot_free(buf);
}

static void
slack_envelope_parse__object_without_type_is_eproto(void **state)
{
    static const char *const bodies[] = {
        "{\"envelope_id\":\"x\"}", "{\"type\":7}", "[\"hello\"]", "\"hello\"",
        ""};
    struct slack_envelope e;

    (void)state;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        assert_int_equal(
            slack_envelope_parse(bodies[i], strlen(bodies[i]), &e),
            BOT_EPROTO);
        assert_clear(&e);
        slack_envelope_clear(&e);
    }
}

/* --- slack_envelope_event --- */

static void
slack_envelope_event__reaction_added(void **state)
{
    struct slack_envelope e;
    struct strbuf sb;
    struct chat_event ev;

    (void)state;
    strbuf_init(&sb, 0);
    assert_int_equal(event_of("events_reaction_added.json", &e, &sb, &ev),
                     BOT_OK);
    assert_int_equal(ev.kind, CHAT_EV_REACTION_ADDED);
    assert_string_equal(ev.room, "C123");
    assert_string_equal(ev.msg_id, "1360782400.498405");
    assert_string_equal(ev.reaction, "pushpin");
    assert_string_equal(ev.event_id, "Ev0REACT01");
    assert_string_equal(ev.user, "U123");
    assert_null(ev.thread_id);
    assert_int_equal(ev.is_dm, 0);
    slack_envelope_clear(&e);
    strbuf_cleanup(&sb);
}

static void
slack_envelope_event__reaction_retry_is_delivered_with_same_id(void **state)
{
    struct slack_envelope e;
    struct strbuf sb;
    struct chat_event ev;

    (void)state;
    strbuf_init(&sb, 0);
    assert_int_equal(
        event_of("events_reaction_added_retry.json", &e, &sb, &ev), BOT_OK);
    assert_int_equal(ev.kind, CHAT_EV_REACTION_ADDED);
    assert_string_equal(ev.event_id, "Ev0REACT01"); /* the dedupe key */
    assert_string_equal(ev.msg_id, "1360782400.498405");
    slack_envelope_clear(&e);
    strbuf_cleanup(&sb);
}

static void
slack_envelope_event__reaction_removed(void **state)
{
    struct slack_envelope e;
    struct strbuf sb;
    struct chat_event ev;

    (void)state;
    strbuf_init(&sb, 0);
    assert_int_equal(event_of("events_reaction_removed.json", &e, &sb, &ev),
                     BOT_OK);
    assert_int_equal(ev.kind, CHAT_EV_REACTION_REMOVED);
    assert_string_equal(ev.room, "C123");
    assert_string_equal(ev.msg_id, "1360782400.498405");
    assert_string_equal(ev.reaction, "pushpin");
    assert_string_equal(ev.event_id, "Ev0REACT02");
    slack_envelope_clear(&e);
    strbuf_cleanup(&sb);
}

static void
slack_envelope_event__reaction_on_file_is_ignored(void **state)
{
    struct slack_envelope e;
    struct strbuf sb;
    struct chat_event ev;

    (void)state;
    strbuf_init(&sb, 0);
    assert_int_equal(event_of("events_reaction_file.json", &e, &sb, &ev),
                     BOT_ENOTFOUND);
    slack_envelope_clear(&e);
    strbuf_cleanup(&sb);
}

static void
slack_envelope_event__message(void **state)
{
    struct slack_envelope e;
    struct strbuf sb;
    struct chat_event ev;

    (void)state;
    strbuf_init(&sb, 0);
    assert_int_equal(event_of("events_message.json", &e, &sb, &ev), BOT_OK);
    assert_int_equal(ev.kind, CHAT_EV_MESSAGE);
    assert_string_equal(ev.event_id, "Ev0MSG0001");
    assert_string_equal(ev.room, "C123");
    assert_string_equal(ev.user, "U123");
    assert_string_equal(ev.msg_id, "1355517523.000005");
    /* decoded once, on the way in: the core holds plain text */
    assert_string_equal(ev.text, "db primary is down <again> & failing over");
    assert_ptr_equal(ev.text, strbuf_str(&sb));
    assert_null(ev.thread_id);
    assert_int_equal(ev.at, slack_ts_ms("1355517523.000005"));
    assert_int_equal(ev.at, 1355517523000LL);
    assert_int_equal(ev.is_dm, 0);
    assert_int_equal(ev.cmd_prefix, '/');
    slack_envelope_clear(&e);
    strbuf_cleanup(&sb);
}

static void
slack_envelope_event__thread_reply_has_thread_id(void **state)
{
    struct slack_envelope e;
    struct strbuf sb;
    struct chat_event ev;

    (void)state;
    strbuf_init(&sb, 0);
    assert_int_equal(event_of("events_thread_reply.json", &e, &sb, &ev),
                     BOT_OK);
    assert_int_equal(ev.kind, CHAT_EV_MESSAGE);
    assert_string_equal(ev.msg_id, "1355517600.000100");
    assert_string_equal(ev.thread_id, "1355517523.000005");
    assert_string_equal(ev.user, "U456");
    assert_int_equal(ev.at, 1355517600000LL);
    slack_envelope_clear(&e);
    strbuf_cleanup(&sb);
}

static void
slack_envelope_event__message_changed(void **state)
{
    struct slack_envelope e;
    struct strbuf sb;
    struct chat_event ev;

    (void)state;
    strbuf_init(&sb, 0);
    assert_int_equal(event_of("events_message_changed.json", &e, &sb, &ev),
                     BOT_OK);
    assert_int_equal(ev.kind, CHAT_EV_MESSAGE_CHANGED);
    assert_string_equal(ev.msg_id, "1355517523.000005"); /* message.ts */
    assert_string_equal(ev.text, "db primary is down, failover done");
    assert_string_equal(ev.room, "C123");
    assert_string_equal(ev.event_id, "Ev0MSG0003");
    slack_envelope_clear(&e);
    strbuf_cleanup(&sb);
}

static void
slack_envelope_event__message_deleted(void **state)
{
    struct slack_envelope e;
    struct strbuf sb;
    struct chat_event ev;

    (void)state;
    strbuf_init(&sb, 0);
    assert_int_equal(event_of("events_message_deleted.json", &e, &sb, &ev),
                     BOT_OK);
    assert_int_equal(ev.kind, CHAT_EV_MESSAGE_DELETED);
    assert_string_equal(ev.msg_id, "1358878749.000002"); /* deleted_ts */
    assert_string_equal(ev.room, "C1");
    assert_string_equal(ev.event_id, "Ev0MSG0004");
    slack_envelope_clear(&e);
    strbuf_cleanup(&sb);
}

static void
slack_envelope_event__own_message_is_ignored(void **state)
{
    struct slack_envelope e;
    struct strbuf sb;
    struct chat_event ev;

    (void)state;
    strbuf_init(&sb, 0);
    parse("events_own_message.json", &e);
    assert_int_equal(slack_envelope_event(&e, SELF_USER, SELF_BOT, &sb, &ev),
                     BOT_ENOTFOUND);
    /* either id alone is enough to recognise pmbot's own post */
    assert_int_equal(slack_envelope_event(&e, NULL, SELF_BOT, &sb, &ev),
                     BOT_ENOTFOUND);
    assert_int_equal(slack_envelope_event(&e, SELF_USER, NULL, &sb, &ev),
                     BOT_ENOTFOUND);
    slack_envelope_clear(&e);
    strbuf_cleanup(&sb);
}

static void
slack_envelope_event__other_bot_is_ignored(void **state)
{
    struct slack_envelope e;
    struct strbuf sb;
    struct chat_event ev;

    (void)state;
    strbuf_init(&sb, 0);
    assert_int_equal(event_of("events_other_bot.json", &e, &sb, &ev),
                     BOT_ENOTFOUND);
    slack_envelope_clear(&e);
    strbuf_cleanup(&sb);
}

static void
slack_envelope_event__channel_join_is_ignored(void **state)
{
    struct slack_envelope e;
    struct strbuf sb;
    struct chat_event ev;

    (void)state;
    strbuf_init(&sb, 0);
    assert_int_equal(event_of("events_channel_join.json", &e, &sb, &ev),
                     BOT_ENOTFOUND);
    slack_envelope_clear(&e);
    strbuf_cleanup(&sb);
}

static void
slack_envelope_event__control_envelope_is_ignored(void **state)
{
    struct slack_envelope e;
    struct strbuf sb;
    struct chat_event ev;

    (void)state;
    strbuf_init(&sb, 0);
    assert_int_equal(event_of("hello.json", &e, &sb, &ev), BOT_ENOTFOUND);
    slack_envelope_clear(&e);
    assert_int_equal(event_of("disconnect_refresh.json", &e, &sb, &ev),
                     BOT_ENOTFOUND);
    slack_envelope_clear(&e);
    strbuf_cleanup(&sb);
}

static void
slack_envelope_event__slash_command(void **state)
{
    struct slack_envelope e;
    struct strbuf sb;
    struct chat_event ev;

    (void)state;
    strbuf_init(&sb, 0);
    assert_int_equal(event_of("slash_incident.json", &e, &sb, &ev), BOT_OK);
    assert_int_equal(ev.kind, CHAT_EV_COMMAND);
    assert_string_equal(ev.text, "incident start sev1 Database <@U123> down");
    assert_ptr_equal(ev.text, strbuf_str(&sb)); /* lives in text_buf */
    assert_null(ev.event_id);
    assert_string_equal(ev.room, "C123");
    assert_string_equal(ev.user, "U123");
    assert_int_equal(ev.is_dm, 0);
    assert_int_equal(ev.cmd_prefix, '/');
    slack_envelope_clear(&e);
    strbuf_cleanup(&sb);
}

/* --- slack_ts_ms --- */

static void
slack_ts_ms__fraction_truncated_to_milliseconds(void **state)
{
    (void)state;
    assert_int_equal(slack_ts_ms("1360782400.498405"), 1360782400498LL);
    assert_int_equal(slack_ts_ms("1360782400"), 1360782400000LL);
    assert_int_equal(slack_ts_ms("1.5"), 1500);
    assert_int_equal(slack_ts_ms("1355517523.000005"), 1355517523000LL);
}

/* --- slack_escape / slack_render --- */

/* render - slack_render of m as a new string (bot_free). */
static char *
render(const struct chat_msg *m)
{
    struct strbuf out;

    strbuf_init(&out, 0);
    assert_int_equal(slack_render(m, &out), BOT_OK);
    return strbuf_steal(&out);
}

static void
slack_escape__only_amp_lt_gt(void **state)
{
    struct strbuf out;

    (void)state;
    strbuf_init(&out, 0);
    assert_int_equal(slack_escape(&out, "<!channel> & <@U1> \"q\" 'a' *b*"),
                     BOT_OK);
    assert_string_equal(strbuf_str(&out), "&lt;!channel&gt; &amp; &lt;@U1&gt; "
                                          "\"q\" 'a' *b*");
    strbuf_cleanup(&out);
}

static void
slack_render__text_span_pings_no_one(void **state)
{
    struct chat_msg m;
    char *s;

    (void)state;
    chat_msg_init(&m);
    chat_msg_text(&m, "%s", "<!channel> & <@U1>");
    assert_int_equal(m.err, BOT_OK);
    s = render(&m);
    assert_string_equal(s, "&lt;!channel&gt; &amp; &lt;@U1&gt;");
    bot_free(s);
    chat_msg_cleanup(&m);
}

static void
slack_render__user_and_room_mentions(void **state)
{
    struct chat_msg m;
    char *s;

    (void)state;
    chat_msg_init(&m);
    chat_msg_user(&m, "U123");
    chat_msg_text(&m, " opened ");
    chat_msg_room(&m, "C1", "inc-20261101-db");
    assert_int_equal(m.err, BOT_OK);
    s = render(&m);
    assert_string_equal(s, "<@U123> opened <#C1>");
    bot_free(s);
    chat_msg_cleanup(&m);
}

static void
slack_render__bold_and_code_escaped_inside(void **state)
{
    struct chat_msg m;
    char *s;

    (void)state;
    chat_msg_init(&m);
    chat_msg_bold(&m, "%s", "SEV1 <!here> & co");
    chat_msg_nl(&m);
    chat_msg_code(&m, "a<b>&c");
    assert_int_equal(m.err, BOT_OK);
    s = render(&m);
    assert_string_equal(s, "*SEV1 &lt;!here&gt; &amp; co*\n`a&lt;b&gt;&amp;c`");
    bot_free(s);
    chat_msg_cleanup(&m);
}

static void
slack_render__safe_link(void **state)
{
    struct chat_msg m;
    char *s;

    (void)state;
    chat_msg_init(&m);
    chat_msg_link(&m, "https://x.y/z", "label");
    assert_int_equal(m.err, BOT_OK);
    s = render(&m);
    assert_string_equal(s, "<https://x.y/z|label>");
    bot_free(s);
    chat_msg_cleanup(&m);
}

static void
slack_render__link_label_is_escaped(void **state)
{
    struct chat_msg m;
    char *s;

    (void)state;
    chat_msg_init(&m);
    chat_msg_link(&m, "https://x.y/z", "<!channel> & co");
    assert_int_equal(m.err, BOT_OK);
    s = render(&m);
    assert_string_equal(s, "<https://x.y/z|&lt;!channel&gt; &amp; co>");
    bot_free(s);
    chat_msg_cleanup(&m);
}

static void
slack_render__unsafe_link_is_label_only(void **state)
{
    static const char *const urls[] = {
        "https://x.y/z|<!channel>", "https://x.y/z>", "https://x.y/<z",
        "https://x.y/ z"};

    (void)state;
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        struct chat_msg m;
        char *s;

        chat_msg_init(&m);
        chat_msg_link(&m, urls[i], "label");
        assert_int_equal(m.err, BOT_OK);
        s = render(&m);
        assert_string_equal(s, "label");
        bot_free(s);
        chat_msg_cleanup(&m);
    }
}

/* --- builders --- */

/* post - parse a builder's JSON, fail on invalid JSON. */
static json_t *
parse_json(const char *body)
{
    json_error_t jerr;
    json_t *root;

    assert_non_null(body);
    root = json_loads(body, 0, &jerr);
    if (!root)
        fail_msg("invalid JSON (%s): %s", jerr.text, body);
    assert_true(json_is_object(root));
    return root;
}

static const char *
get_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    assert_true(json_is_string(v));
    return json_string_value(v);
}

/* section_text - blocks[i] is a mrkdwn section; its text. */
static const char *
section_text(json_t *blocks, size_t i)
{
    json_t *b = json_array_get(blocks, i), *t;

    assert_true(json_is_object(b));
    assert_string_equal(get_str(b, "type"), "section");
    t = json_object_get(b, "text");
    assert_true(json_is_object(t));
    assert_string_equal(get_str(t, "type"), "mrkdwn");
    return get_str(t, "text");
}

/* joined_sections - every section's text, each <= 3000, concatenated. */
static char *
joined_sections(json_t *root)
{
    json_t *blocks = json_object_get(root, "blocks");
    struct strbuf all;

    assert_true(json_is_array(blocks));
    assert_true(json_array_size(blocks) > 0);
    strbuf_init(&all, 0);
    for (size_t i = 0; i < json_array_size(blocks); i++) {
        const char *t = section_text(blocks, i);

        assert_true(strlen(t) <= 3000);
        assert_true(strlen(t) > 0);
        strbuf_puts(&all, t);
    }
    assert_int_equal(strbuf_error(&all), BOT_OK);
    return strbuf_steal(&all);
}

static void
slack_post_body__channel_text_and_one_section(void **state)
{
    struct chat_msg m;
    char *body;
    json_t *root, *blocks;

    (void)state;
    chat_msg_init(&m);
    chat_msg_bold(&m, "Incident declared");
    chat_msg_text(&m, " %s", "<!channel> & friends");
    assert_int_equal(m.err, BOT_OK);
    body = slack_post_body("C123", &m, NULL, NULL);
    root = parse_json(body);
    assert_string_equal(get_str(root, "channel"), "C123");
    assert_string_equal(get_str(root, "text"),
                        "*Incident declared* &lt;!channel&gt; &amp; friends");
    blocks = json_object_get(root, "blocks");
    assert_true(json_is_array(blocks));
    assert_int_equal(json_array_size(blocks), 1);
    assert_string_equal(section_text(blocks, 0),
                        "*Incident declared* &lt;!channel&gt; &amp; friends");
    assert_null(json_object_get(root, "thread_ts"));
    json_decref(root);
    bot_free(body);
    chat_msg_cleanup(&m);
}

static void
slack_post_body__long_message_split_into_sections(void **state)
{
    struct chat_msg m;
    char big[7001];
    char *body, *rendered, *joined;
    json_t *root;
    size_t i = 0;

    (void)state;
    /* 7000 bytes: 'a', 3499 two-byte "é", 'a' -> byte 3000 is mid-"é" */
    big[i++] = 'a';
    while (i < 6999) {
        big[i++] = (char)0xc3;
        big[i++] = (char)0xa9;
    }
    big[i++] = 'a';
    big[i] = '\0';
    assert_int_equal(strlen(big), 7000);
    chat_msg_init(&m);
    chat_msg_text(&m, "%s", big);
    assert_int_equal(m.err, BOT_OK);
    rendered = render(&m);
    body = slack_post_body("C123", &m, NULL, NULL);
    root = parse_json(body);
    assert_true(json_array_size(json_object_get(root, "blocks")) >= 3);
    joined = joined_sections(root);
    assert_string_equal(joined, rendered);
    /* the notification text is the start of it, under Slack's 4,000 */
    assert_true(strlen(get_str(root, "text")) <= 4000);
    assert_true(strlen(get_str(root, "text")) > 3000);
    assert_int_equal(strncmp(get_str(root, "text"), rendered,
                             strlen(get_str(root, "text"))),
                     0);
    bot_free(joined);
    json_decref(root);
    bot_free(body);
    bot_free(rendered);
    chat_msg_cleanup(&m);
}

static void
slack_post_body__thread_ts_only_when_given(void **state)
{
    struct chat_msg m;
    char *body;
    json_t *root;

    (void)state;
    chat_msg_init(&m);
    chat_msg_text(&m, "reply");
    assert_int_equal(m.err, BOT_OK);
    body = slack_post_body("C123", &m, "1355517523.000005", NULL);
    root = parse_json(body);
    assert_string_equal(get_str(root, "thread_ts"), "1355517523.000005");
    json_decref(root);
    bot_free(body);
    body = slack_post_body("C123", &m, NULL, NULL);
    root = parse_json(body);
    assert_null(json_object_get(root, "thread_ts"));
    json_decref(root);
    bot_free(body);
    chat_msg_cleanup(&m);
}

static void
slack_reply_body__in_channel_or_ephemeral(void **state)
{
    struct chat_msg m;
    char *body, *joined;
    json_t *root;

    (void)state;
    chat_msg_init(&m);
    chat_msg_text(&m, "ok <b>");
    assert_int_equal(m.err, BOT_OK);
    body = slack_reply_body(&m, 1);
    root = parse_json(body);
    assert_string_equal(get_str(root, "response_type"), "in_channel");
    assert_string_equal(get_str(root, "text"), "ok &lt;b&gt;");
    joined = joined_sections(root);
    assert_string_equal(joined, "ok &lt;b&gt;");
    bot_free(joined);
    json_decref(root);
    bot_free(body);
    body = slack_reply_body(&m, 0);
    root = parse_json(body);
    assert_string_equal(get_str(root, "response_type"), "ephemeral");
    json_decref(root);
    bot_free(body);
    chat_msg_cleanup(&m);
}

static void
slack_ack__envelope_id_only(void **state)
{
    char *body = slack_ack("dbdd0ef3-1543-4f94-bfb4-133d0e6c1545");
    json_t *root;

    (void)state;
    root = parse_json(body);
    assert_int_equal(json_object_size(root), 1);
    assert_string_equal(get_str(root, "envelope_id"),
                        "dbdd0ef3-1543-4f94-bfb4-133d0e6c1545");
    json_decref(root);
    bot_free(body);
}

/* --- slack_envelope_parse: the stream parser's own rules --- */

static void
slack_envelope_parse__key_order_and_nesting_do_not_matter(void **state)
{
    /* payload before type; "type", "user" and "ts" also appear deeper, in
     * places that are not the event's; the item comes before the event's
     * own channel */
    static const char body[] =
        "{\"payload\":{\"authorizations\":[{\"user_id\":\"UX\",\"type\":\"x\","
        "\"event\":{\"type\":\"nope\"}}],\"event\":{\"item\":{\"ts\":\"1.2\","
        "\"type\":\"message\",\"channel\":\"C9\"},\"type\":\"reaction_added\","
        "\"user\":\"U1\",\"reaction\":\"pushpin\",\"channel\":\"CWRONG\","
        "\"extra\":{\"user\":\"UY\",\"ts\":\"9.9\"}},\"event_id\":\"Ev1\"},"
        "\"retry_attempt\":2,\"type\":\"events_api\",\"envelope_id\":\"e1\"}";
    struct slack_envelope e;

    (void)state;
    assert_int_equal(slack_envelope_parse(body, strlen(body), &e), BOT_OK);
    assert_int_equal(e.type, SLACK_ENV_EVENTS);
    assert_string_equal(e.envelope_id, "e1");
    assert_int_equal(e.retry_attempt, 2);
    assert_string_equal(e.event_id, "Ev1");
    assert_string_equal(e.event_type, "reaction_added");
    assert_string_equal(e.user, "U1");
    assert_string_equal(e.channel, "C9"); /* the item's */
    assert_string_equal(e.ts, "1.2");
    assert_string_equal(e.item_type, "message");
    assert_string_equal(e.reaction, "pushpin");
    slack_envelope_clear(&e);
}

static void
slack_envelope_parse__wrong_types_count_as_absent(void **state)
{
    static const char body[] =
        "{\"type\":\"events_api\",\"envelope_id\":\"e1\",\"retry_attempt\":"
        "\"3\",\"payload\":{\"event_id\":7,\"event\":{\"type\":"
        "\"message\",\"user\":[\"U1\"],\"text\":null,\"channel\":\"C1\","
        "\"ts\":\"1.0\",\"item\":\"not a map\",\"message\":true}}}";
    static const char again[] = /* a repeated key: the last one counts */
        "{\"type\":\"hello\",\"type\":\"events_api\",\"payload\":{\"event\":"
        "{\"type\":\"message\",\"channel\":\"C1\"},\"event\":{\"type\":"
        "\"message\",\"text\":\"second\"}}}";
    struct slack_envelope e;

    (void)state;
    assert_int_equal(slack_envelope_parse(body, strlen(body), &e), BOT_OK);
    assert_int_equal(e.retry_attempt, 0);
    assert_null(e.event_id);
    assert_null(e.user);
    assert_null(e.text);
    assert_string_equal(e.channel, "C1"); /* no item map: the event's */
    assert_string_equal(e.ts, "1.0");
    assert_null(e.item_type);
    slack_envelope_clear(&e);

    assert_int_equal(slack_envelope_parse(again, strlen(again), &e), BOT_OK);
    assert_int_equal(e.type, SLACK_ENV_EVENTS);
    assert_null(e.channel); /* the first event is forgotten */
    assert_string_equal(e.text, "second");
    slack_envelope_clear(&e);
}

static void
slack_envelope_parse__nul_and_trailing_data_are_eproto(void **state)
{
    static const char *const bodies[] = {
        "{\"type\":\"hello\",\"x\":\"a\\u0000b\"}",
        "{\"type\":\"hel\\u0000lo\"}",
        "{\"type\":\"hello\"} {}",
        "{\"type\":\"hello\"}]",
        "[{\"type\":\"hello\"}]",
        "{\"type\":\"hello\",\"payload\":{\"event\":{\"text\":\"\\ud800\"}}",
    };
    struct slack_envelope e;

    (void)state;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        assert_int_equal(slack_envelope_parse(bodies[i], strlen(bodies[i]),
                                              &e),
                         BOT_EPROTO);
        assert_null(e.envelope_id);
        slack_envelope_clear(&e);
    }
}

/* --- slack_status --- */

static void
slack_status__ok_and_error_at_the_top_only(void **state)
{
    static const struct {
        const char *body;
        int ok;
        const char *error;
    } cases[] = {
        {"{\"ok\":true,\"channel\":{\"id\":\"C1\",\"ok\":false}}", 1, NULL},
        {" {\"ok\":false,\"error\":\"name_taken\"}", 0, "name_taken"},
        /* nested "error" and "ok" are someone else's */
        {"{\"messages\":[{\"error\":\"x\",\"ok\":true}],\"ok\":false,"
         "\"error\":\"ratelimited\",\"warning\":\"w\"}",
         0, "ratelimited"},
        {"{\"ok\":\"true\"}", 0, NULL}, /* only the JSON true counts */
        {"{\"ok\":1}", 0, NULL},
        {"{\"ok\":null,\"error\":7}", 0, NULL},
        {"{\"ok\":true,\"ok\":false}", 0, NULL}, /* the last one wins */
        {"{}", 0, NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *error = (char *)"junk";
        int ok = 7;

        assert_int_equal(slack_status(cases[i].body, strlen(cases[i].body),
                                      &ok, &error),
                         BOT_OK);
        assert_int_equal(ok, cases[i].ok);
        if (cases[i].error)
            assert_string_equal(error, cases[i].error);
        else
            assert_null(error);
        bot_free(error);
    }
}

/* a repeated "ok" or "error" keeps its last value, and a last value of the
 * wrong type counts as absent: it clears what an earlier key set (as
 * jansson's json_object_get would see it) */
static void
slack_status__last_key_wins_even_with_the_wrong_type(void **state)
{
    static const struct {
        const char *body;
        int ok;
        const char *error;
    } cases[] = {
        {"{\"ok\":true,\"ok\":1}", 0, NULL},
        {"{\"ok\":true,\"ok\":1.5}", 0, NULL},
        {"{\"ok\":true,\"ok\":null}", 0, NULL},
        {"{\"ok\":true,\"ok\":\"true\"}", 0, NULL},
        {"{\"ok\":true,\"ok\":{}}", 0, NULL},
        {"{\"ok\":true,\"ok\":[true]}", 0, NULL},
        {"{\"ok\":false,\"ok\":true}", 1, NULL},
        {"{\"ok\":false,\"error\":\"x\",\"error\":5}", 0, NULL},
        {"{\"ok\":false,\"error\":\"x\",\"error\":null}", 0, NULL},
        {"{\"ok\":false,\"error\":\"x\",\"error\":true}", 0, NULL},
        {"{\"ok\":false,\"error\":\"x\",\"error\":{\"a\":\"b\"}}", 0,
         NULL},
        {"{\"ok\":false,\"error\":\"x\",\"error\":[\"y\"]}", 0, NULL},
        {"{\"error\":\"x\",\"error\":\"y\",\"ok\":false}", 0, "y"},
        {"{\"error\":7,\"error\":\"y\"}", 0, "y"},
        /* the wrong-typed "ok" clears "ok" only, not "error" */
        {"{\"error\":\"x\",\"ok\":true,\"ok\":0}", 0, "x"},
        {"{\"ok\":true,\"error\":\"x\",\"error\":2,\"warning\":\"w\"}", 1,
         NULL},
    };

    size_t bad = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *error = (char *)"junk", got[32];
        int ok = 7;

        assert_int_equal(slack_status(cases[i].body, strlen(cases[i].body),
                                      &ok, &error),
                         BOT_OK);
        snprintf(got, sizeof(got), "%s", error ? error : "NULL");
        bot_free(error);
        if (ok != cases[i].ok ||
            strcmp(got, cases[i].error ? cases[i].error : "NULL")) {
            print_error("%s: ok %d error %s, want ok %d error %s\n",
                        cases[i].body, ok, got, cases[i].ok,
                        cases[i].error ? cases[i].error : "NULL");
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

static void
slack_status__not_an_object_is_eproto(void **state)
{
    static const char *const bodies[] = {
        "",         "   ",          "[]",         "\"ok\"",
        "not json", "{\"ok\":true", "{\"ok\":true}{}", "{\"ok\":tru}",
        "{\"error\":\"a\\u0000b\"}x",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        char *error = (char *)"junk";
        int ok = 1;

        assert_int_equal(slack_status(bodies[i], strlen(bodies[i]), &ok,
                                      &error),
                         BOT_EPROTO);
        assert_int_equal(ok, 0);
        assert_null(error);
    }
}

/* --- slack_result --- */

static void
slack_result__ok_with_paths(void **state)
{
    static const char body[] =
        "{\"ok\":true,\"channel\":{\"id\":\"C0INC1\",\"name\":"
        "\"inc-20261101-db\",\"is_channel\":true,\"created\":1793507880},"
        "\"warning\":\"superfluous_charset\"}";
    static const char *const paths[] = {"channel.id", "channel.name",
                                        "channel.created", "ts"};
    char *values[4];
    char *error;
    int ok = 0;

    (void)state;
    assert_int_equal(slack_result(body, strlen(body), &ok, &error, paths,
                                  values, 4),
                     BOT_OK);
    assert_int_equal(ok, 1);
    assert_null(error);
    assert_string_equal(values[0], "C0INC1");
    assert_string_equal(values[1], "inc-20261101-db");
    assert_null(values[2]); /* not a string */
    assert_null(values[3]); /* absent */
    for (size_t i = 0; i < 4; i++)
        bot_free(values[i]);
}

static void
slack_result__error_name_taken(void **state)
{
    static const char body[] = "{\"ok\":false,\"error\":\"name_taken\"}";
    static const char *const paths[] = {"channel.id"};
    char *values[1];
    char *error;
    int ok = 1;

    (void)state;
    assert_int_equal(slack_result(body, strlen(body), &ok, &error, paths,
                                  values, 1),
                     BOT_OK);
    assert_int_equal(ok, 0);
    assert_string_equal(error, "name_taken");
    assert_null(values[0]);
    bot_free(error);
}

static void
slack_result__not_an_object_is_eproto(void **state)
{
    static const char *const bodies[] = {"[1,2]", "<html>502</html>",
                                         "{\"ok\":tr", ""};
    static const char *const paths[] = {"ts"};
    char *values[1];
    char *error;
    int ok = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        assert_int_equal(slack_result(bodies[i], strlen(bodies[i]), &ok,
                                      &error, paths, values, 1),
                         BOT_EPROTO);
        assert_null(error);
        assert_null(values[0]);
    }
}

/* --- slack_find_message --- */

static void
slack_find_message__exact_ts(void **state)
{
    struct slack_message msg;
    size_t len;
    char *body = load("history_answer.json", &len);

    (void)state;
    assert_int_equal(slack_find_message(body, len, "1360782400.498405", &msg),
                     BOT_OK);
    assert_string_equal(msg.ts, "1360782400.498405");
    assert_string_equal(msg.user, "U123");
    assert_string_equal(msg.text, "db primary is down");
    assert_null(msg.thread_ts);
    slack_message_clear(&msg);
    bot_free(body);
}

static void
slack_find_message__older_message_is_not_found(void **state)
{
    struct slack_message msg;
    size_t len;
    char *body = load("history_older.json", &len);

    (void)state;
    assert_int_equal(slack_find_message(body, len, "1360782400.498405", &msg),
                     BOT_ENOTFOUND);
    assert_null(msg.ts);
    assert_null(msg.text);
    slack_message_clear(&msg);
    bot_free(body);
}

static void
slack_find_message__no_messages_is_eproto(void **state)
{
    static const char *const bodies[] = {
        "{\"ok\":false,\"error\":\"channel_not_found\"}",
        "{\"ok\":true,\"messages\":{}}", "not json"};
    struct slack_message msg;

    (void)state;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        assert_int_equal(slack_find_message(bodies[i], strlen(bodies[i]),
                                            "1360782400.498405", &msg),
                         BOT_EPROTO);
        assert_null(msg.ts);
        slack_message_clear(&msg);
    }
}

/* --- slack_find_messages --- */

/* a history page as conversations.history answers oldest..latest: newest
 * first, a thread parent (thread_ts == ts, its replies not listed), a bot
 * message without a user */
static const char page[] =
    "{\"ok\":true,\"messages\":["
    "{\"type\":\"message\",\"user\":\"U3\",\"text\":\"rolled back\","
    "\"ts\":\"1360782500.000300\"},"
    "{\"type\":\"message\",\"subtype\":\"bot_message\",\"bot_id\":\"B9\","
    "\"text\":\"alert fired\",\"ts\":\"1360782450.000250\"},"
    "{\"type\":\"message\",\"user\":\"U2\",\"text\":\"thread start\","
    "\"ts\":\"1360782420.000200\",\"thread_ts\":\"1360782420.000200\","
    "\"reply_count\":1},"
    "{\"type\":\"message\",\"user\":\"U1\",\"text\":\"db primary &lt;down&gt;\","
    "\"ts\":\"1360782400.000100\"}"
    "],\"has_more\":false,\"pin_count\":0}";

static void
slack_find_messages__several_in_one_page(void **state)
{
    /* asked in any order, one twice, two the page lacks: a thread reply
     * between its messages and one older than all of them */
    static const char *const ts[] = {
        "1360782400.000100", "1360782430.000210", "1360782500.000300",
        "1360782420.000200", "1360782300.000050", "1360782450.000250",
        "1360782500.000300"};
    enum { N = sizeof(ts) / sizeof(ts[0]) };
    struct slack_message out[N];
    char oldest[32];
    int has_more = -1;

    (void)state;
    assert_int_equal(slack_find_messages(page, strlen(page), ts, N, out,
                                         &has_more, oldest, sizeof(oldest)),
                     BOT_OK);
    assert_string_equal(out[0].ts, "1360782400.000100");
    assert_string_equal(out[0].user, "U1");
    assert_string_equal(out[0].text, "db primary &lt;down&gt;"); /* raw */
    assert_null(out[0].thread_ts);
    assert_null(out[1].ts); /* a reply: history does not list it */
    assert_null(out[1].user);
    assert_null(out[1].text);
    assert_string_equal(out[2].ts, "1360782500.000300");
    assert_string_equal(out[2].user, "U3");
    assert_string_equal(out[2].text, "rolled back");
    assert_null(out[2].thread_ts);
    assert_string_equal(out[3].ts, "1360782420.000200");
    assert_string_equal(out[3].user, "U2");
    assert_string_equal(out[3].text, "thread start");
    assert_string_equal(out[3].thread_ts, "1360782420.000200");
    assert_null(out[4].ts); /* below the page */
    assert_string_equal(out[5].ts, "1360782450.000250");
    assert_string_equal(out[5].user, "B9"); /* no user: the bot id */
    assert_string_equal(out[5].text, "alert fired");
    assert_string_equal(out[6].ts, "1360782500.000300"); /* asked twice */
    assert_string_equal(out[6].text, "rolled back");
    assert_int_equal(has_more, 0);
    assert_string_equal(oldest, "1360782400.000100"); /* the last one's */
    for (size_t i = 0; i < N; i++)
        slack_message_clear(&out[i]);
}

static void
slack_find_messages__none_found_still_reports_the_span(void **state)
{
    static const char *const ts[] = {"1360782410.000150",
                                     "1360782399.000000"};
    struct slack_message out[2];
    char oldest[32];
    int has_more = -1;

    (void)state;
    memset(out, 0xa5, sizeof(out)); /* whatever the caller's stack held */
    assert_int_equal(slack_find_messages(page, strlen(page), ts, 2, out,
                                         &has_more, oldest, sizeof(oldest)),
                     BOT_OK);
    for (size_t i = 0; i < 2; i++) {
        assert_null(out[i].ts);
        assert_null(out[i].user);
        assert_null(out[i].text);
        assert_null(out[i].thread_ts);
    }
    assert_int_equal(has_more, 0);
    assert_string_equal(oldest, "1360782400.000100");
}

static void
slack_find_messages__has_more_is_read(void **state)
{
    static const char *const ts[] = {"1360782400.498405",
                                     "1360782300.000100"};
    struct slack_message out[2];
    char oldest[32];
    int has_more = 0;
    size_t len;
    char *body = load("history_answer.json", &len);

    (void)state;
    assert_int_equal(slack_find_messages(body, len, ts, 2, out, &has_more,
                                         oldest, sizeof(oldest)),
                     BOT_OK);
    assert_int_equal(has_more, 1);
    assert_string_equal(oldest, "1360782400.498405");
    assert_string_equal(out[0].ts, "1360782400.498405");
    assert_string_equal(out[0].user, "U123");
    assert_string_equal(out[0].text, "db primary is down");
    assert_null(out[0].thread_ts);
    assert_null(out[1].ts); /* below a full page: not in it */
    slack_message_clear(&out[0]);
    slack_message_clear(&out[1]);
    bot_free(body);
}

static void
slack_find_messages__has_more_absent_is_false(void **state)
{
    static const char body[] =
        "{\"ok\":true,\"messages\":[{\"user\":\"U1\",\"text\":\"x\","
        "\"ts\":\"1360782400.000100\"}]}";
    static const char *const ts[] = {"1360782400.000100"};
    struct slack_message out[1];
    char oldest[32];
    int has_more = 1;

    (void)state;
    assert_int_equal(slack_find_messages(body, strlen(body), ts, 1, out,
                                         &has_more, oldest, sizeof(oldest)),
                     BOT_OK);
    assert_int_equal(has_more, 0);
    assert_string_equal(oldest, "1360782400.000100");
    assert_string_equal(out[0].text, "x");
    slack_message_clear(&out[0]);
}

static void
slack_find_messages__empty_page_has_no_oldest(void **state)
{
    static const char *const bodies[] = {
        "{\"ok\":true,\"messages\":[],\"has_more\":false}",
        "{\"ok\":true,\"messages\":[],\"has_more\":true}"};
    static const char *const ts[] = {"1360782400.000100",
                                     "1360782500.000300"};

    (void)state;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct slack_message out[2];
        char oldest[32] = "stale";
        int has_more = -1;

        assert_int_equal(slack_find_messages(bodies[i], strlen(bodies[i]),
                                             ts, 2, out, &has_more, oldest,
                                             sizeof(oldest)),
                         BOT_OK);
        assert_string_equal(oldest, "");
        assert_int_equal(has_more, (int)i);
        assert_null(out[0].ts);
        assert_null(out[1].ts);
    }
}

static void
slack_find_messages__has_more_and_oldest_are_optional(void **state)
{
    static const char *const ts[] = {"1360782420.000200"};
    struct slack_message out[1];

    (void)state;
    assert_int_equal(
        slack_find_messages(page, strlen(page), ts, 1, out, NULL, NULL, 0),
        BOT_OK);
    assert_string_equal(out[0].text, "thread start");
    slack_message_clear(&out[0]);
}

static void
slack_find_messages__no_messages_is_eproto(void **state)
{
    static const char *const bodies[] = {
        "{\"ok\":false,\"error\":\"channel_not_found\"}",
        "{\"ok\":true,\"messages\":{}}", "{\"ok\":true,\"has_more\":true}",
        "[]", "not json", ""};
    static const char *const ts[] = {"1360782400.000100",
                                     "1360782500.000300"};

    (void)state;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct slack_message out[2];
        char oldest[32] = "stale";
        int has_more = 0;

        memset(out, 0xa5, sizeof(out));
        assert_int_equal(slack_find_messages(bodies[i], strlen(bodies[i]),
                                             ts, 2, out, &has_more, oldest,
                                             sizeof(oldest)),
                         BOT_EPROTO);
        assert_null(out[0].ts);
        assert_null(out[0].text);
        assert_null(out[1].ts);
        assert_string_equal(oldest, "");
        slack_message_clear(&out[0]);
        slack_message_clear(&out[1]);
    }
}

/* --- slack_parse_user --- */

static void
slack_parse_user__mention_tokens(void **state)
{
    char *user = NULL;

    (void)state;
    assert_int_equal(slack_parse_user("<@U123>", &user), BOT_OK);
    assert_string_equal(user, "U123");
    bot_free(user);
    user = NULL;
    assert_int_equal(slack_parse_user("<@U123|alice>", &user), BOT_OK);
    assert_string_equal(user, "U123");
    bot_free(user);
}

static void
slack_parse_user__not_a_mention_is_einval(void **state)
{
    static const char *const tokens[] = {"@alice", "<@>",  "<@u123>",
                                         "<#C1>",  "<@U123", ""};

    (void)state;
    for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
        char *user = NULL;

        assert_int_equal(slack_parse_user(tokens[i], &user), BOT_EINVAL);
        assert_null(user);
    }
}

/* --- found defects: expected behaviour, kept last --- */

/* A section boundary must not cut a <url|label> token: each half would be
 * shown as literal text and the link lost (blocks() says it avoids this). */
static void
slack_post_body__sections_keep_links_whole(void **state)
{
    struct chat_msg m;
    char pad[2991];
    char *body;
    json_t *root, *blocks;

    (void)state;
    memset(pad, 'a', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    chat_msg_init(&m);
    chat_msg_text(&m, "%s", pad);
    chat_msg_link(&m, "https://x.y/z", "label"); /* bytes 2990..3010 */
    assert_int_equal(m.err, BOT_OK);
    body = slack_post_body("C123", &m, NULL, NULL);
    root = parse_json(body);
    blocks = json_object_get(root, "blocks");
    for (size_t i = 0; i < json_array_size(blocks); i++) {
        const char *t = section_text(blocks, i);

        assert_int_equal(strchr(t, '<') != NULL, strchr(t, '>') != NULL);
    }
    json_decref(root);
    bot_free(body);
    chat_msg_cleanup(&m);
}

/* Nor an escape: "&am" + "p;" would show as literal "&amp;" text. */
static void
slack_post_body__sections_keep_escapes_whole(void **state)
{
    struct chat_msg m;
    char pad[2999];
    char *body;
    json_t *root, *blocks;

    (void)state;
    memset(pad, 'a', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    chat_msg_init(&m);
    chat_msg_text(&m, "%s & more", pad); /* "&amp;" at bytes 2999..3003 */
    assert_int_equal(m.err, BOT_OK);
    body = slack_post_body("C123", &m, NULL, NULL);
    root = parse_json(body);
    blocks = json_object_get(root, "blocks");
    for (size_t i = 0; i < json_array_size(blocks); i++) {
        const char *t = section_text(blocks, i);
        const char *amp = strrchr(t, '&');

        if (amp)
            assert_true(strchr(amp, ';') != NULL);
        assert_true(t[0] != 'm' || t[1] != 'p' || t[2] != ';');
    }
    json_decref(root);
    bot_free(body);
    chat_msg_cleanup(&m);
}

/* A link span whose address is not a URL must not become a control
 * sequence: "<!channel|label>" is a mass mention (chat.h: hostile text can
 * never become a mass mention). */
static void
slack_render__link_to_non_url_is_label_only(void **state)
{
    static const char *const urls[] = {"!channel", "!here", "@U1", "#C1",
                                       "!subteam^S1"};

    (void)state;
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        struct chat_msg m;
        char *s;

        chat_msg_init(&m);
        chat_msg_link(&m, urls[i], "label");
        assert_int_equal(m.err, BOT_OK);
        s = render(&m);
        assert_null(strstr(s, "<!"));
        assert_null(strstr(s, "<@"));
        assert_null(strstr(s, "<#"));
        bot_free(s);
        chat_msg_cleanup(&m);
    }
}

/* --- slack_decode --- */

static char *
decoded(const char *in)
{
    struct strbuf sb;

    strbuf_init(&sb, 0);
    assert_int_equal(slack_decode(&sb, in), BOT_OK);
    return sb.buf ? strbuf_steal(&sb) : bot_strdup("");
}

static void
slack_decode__entities_mentions_and_links(void **state)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"A &amp; B &lt;b&gt; &amp;amp; &copy; &", "A & B <b> &amp; &copy; &"},
        {"ask <@U0ALICE> and <@W12|bob>", "ask <@U0ALICE> and <@W12>"},
        {"see <#C0123|inc-1-db> and <#C9>", "see <#C0123|inc-1-db> and <#C9>"},
        {"<#C1|Not A Name>", "<#C1>"},
        {"<!here> <!channel|channel> <!everyone>", "@here channel @everyone"},
        {"<!subteam^S1|@oncall> at <!date^1392734382^{date}|Feb 18>",
         "@oncall at Feb 18"},
        {"<https://x.example/a?b=1&amp;c=2>", "https://x.example/a?b=1&c=2"},
        {"<https://x.example|x.example> <mailto:a@b.c|a@b.c>",
         "x.example a@b.c"},
        {"<https://x.example/runbook|the runbook &amp; more>",
         "the runbook & more (https://x.example/runbook)"},
        {"a < b and c > d", "a < b and c > d"},
        {"no close <@U1", "no close <@U1"},
        {"<@u1lower>", "@u1lower"}, /* not an id: shown as written */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = decoded(cases[i].in);

        if (strcmp(got, cases[i].want))
            fail_msg("%s -> '%s', want '%s'", cases[i].in, got,
                     cases[i].want);
        bot_free(got);
    }
}

static void
slack_decode__then_render_escapes_once(void **state)
{
    struct chat_msg m;
    struct strbuf out;
    char *text = decoded("Disk &amp; CPU &lt;!channel&gt; <!channel>");

    (void)state;
    chat_msg_init(&m);
    chat_msg_text(&m, "%s", text);
    strbuf_init(&out, 0);
    assert_int_equal(slack_render(&m, &out), BOT_OK);
    assert_string_equal(strbuf_str(&out),
                        "Disk &amp; CPU &lt;!channel&gt; @channel");
    strbuf_cleanup(&out);
    chat_msg_cleanup(&m);
    bot_free(text);
}

static void
slack_user_of__users_info_and_user_change(void **state)
{
    static const char info[] =
        "{\"ok\":true,\"user\":{\"id\":\"U0ALICE\",\"name\":\"alice\","
        "\"real_name\":\"Alice Liddell\",\"tz\":\"Europe/London\","
        "\"profile\":{\"display_name\":\"\","
        "\"real_name\":\"Alice Liddell\"}}}";
    static const char change[] =
        "{\"type\":\"events_api\",\"envelope_id\":\"e1\",\"payload\":{"
        "\"event\":{\"type\":\"user_change\",\"user\":{\"id\":\"U0ALICE\","
        "\"name\":\"alice\",\"profile\":{\"display_name\":\"Al\"}}}}}";
    char *id, *name, *tz;

    (void)state;
    assert_int_equal(slack_user_of(info, strlen(info), 0, &id, &name, &tz),
                     BOT_OK);
    assert_string_equal(id, "U0ALICE");
    assert_string_equal(name, "Alice Liddell");
    assert_string_equal(tz, "Europe/London");
    bot_free(id);
    bot_free(name);
    bot_free(tz);
    assert_int_equal(slack_user_of(change, strlen(change), 1, &id, &name, &tz),
                     BOT_OK);
    assert_string_equal(name, "Al");
    assert_null(tz); /* none given */
    bot_free(id);
    bot_free(name);
    assert_int_equal(slack_user_of("{\"ok\":false}", 12, 0, &id, &name, NULL),
                     BOT_EPROTO);
    assert_null(id);
    assert_int_equal(slack_user_of("[", 1, 0, &id, &name, NULL), BOT_EPROTO);
}

/* --- platform interface v2 --- */

/* dm_event - is_dm of a message event in channel with channel_type ct
 * (NULL: none) */
static int
dm_event(const char *channel, const char *ct)
{
    char body[512];
    struct slack_envelope e;
    struct strbuf sb;
    struct chat_event ev;
    int dm;

    snprintf(body, sizeof(body),
             "{\"type\":\"events_api\",\"envelope_id\":\"e1\","
             "\"payload\":{\"event_id\":\"Ev1\",\"event\":{\"type\":"
             "\"message\",\"channel\":\"%s\",%s%s%s\"user\":\"U1\","
             "\"text\":\"done ACT-3\",\"ts\":\"1.2\"}}}",
             channel, ct ? "\"channel_type\":\"" : "", ct ? ct : "",
             ct ? "\"," : "");
    strbuf_init(&sb, 0);
    assert_int_equal(slack_envelope_parse(body, strlen(body), &e), BOT_OK);
    assert_int_equal(slack_envelope_event(&e, SELF_USER, SELF_BOT, &sb, &ev),
                     BOT_OK);
    assert_int_equal(ev.kind, CHAT_EV_MESSAGE);
    dm = ev.is_dm;
    slack_envelope_clear(&e);
    strbuf_cleanup(&sb);
    return dm;
}

static void
slack_envelope_event__channel_type_im_is_a_dm(void **state)
{
    (void)state;
    assert_int_equal(dm_event("D123", "im"), 1);
    assert_int_equal(dm_event("C123", "channel"), 0);
    assert_int_equal(dm_event("G123", "group"), 0);
    assert_int_equal(dm_event("C123", "mpim"), 0);
    /* without channel_type, a DM's id says it */
    assert_int_equal(dm_event("D123", NULL), 1);
    assert_int_equal(dm_event("C123", NULL), 0);
}

static void
slack_post_body__key_rides_as_metadata(void **state)
{
    struct chat_msg m;
    char *body;
    json_t *root, *meta;

    (void)state;
    chat_msg_init(&m);
    chat_msg_text(&m, "reminder");
    body = slack_post_body("C123", &m, NULL, "pmbot-42");
    root = parse_json(body);
    meta = json_object_get(root, "metadata");
    assert_string_equal(get_str(meta, "event_type"), "pmbot_outbox");
    assert_string_equal(get_str(json_object_get(meta, "event_payload"), "key"),
                        "pmbot-42");
    json_decref(root);
    bot_free(body);
    body = slack_post_body("C123", &m, NULL, NULL);
    root = parse_json(body);
    assert_null(json_object_get(root, "metadata"));
    json_decref(root);
    bot_free(body);
    chat_msg_cleanup(&m);
}

static void
slack_ephemeral_and_update_bodies(void **state)
{
    struct chat_msg m;
    char *body;
    json_t *root;

    (void)state;
    chat_msg_init(&m);
    chat_msg_text(&m, "a <b> & c");
    body = slack_ephemeral_body("C123", "U9", &m, "1.5");
    root = parse_json(body);
    assert_string_equal(get_str(root, "channel"), "C123");
    assert_string_equal(get_str(root, "user"), "U9");
    assert_string_equal(get_str(root, "thread_ts"), "1.5");
    assert_string_equal(get_str(root, "text"), "a &lt;b&gt; &amp; c");
    assert_non_null(json_object_get(root, "blocks"));
    json_decref(root);
    bot_free(body);
    body = slack_update_body("C123", "1.6", &m);
    root = parse_json(body);
    assert_string_equal(get_str(root, "channel"), "C123");
    assert_string_equal(get_str(root, "ts"), "1.6");
    assert_string_equal(get_str(root, "text"), "a &lt;b&gt; &amp; c");
    assert_null(json_object_get(root, "user"));
    json_decref(root);
    bot_free(body);
    chat_msg_cleanup(&m);
}

static void
slack_upload_complete_body__thread_ts_only_when_given(void **state)
{
    char *body = slack_upload_complete_body("F1", "Doc", "C1", "1.5");
    json_t *root = parse_json(body);

    (void)state;
    assert_string_equal(get_str(root, "channel_id"), "C1");
    assert_string_equal(get_str(root, "thread_ts"), "1.5");
    json_decref(root);
    bot_free(body);
    body = slack_upload_complete_body("F1", "Doc", "C1", NULL);
    root = parse_json(body);
    assert_null(json_object_get(root, "thread_ts"));
    json_decref(root);
    bot_free(body);
}

static const char keyed_page[] =
    "{\"ok\":true,\"messages\":["
    /* another app copying the shape */
    "{\"type\":\"message\",\"bot_id\":\"B9\",\"user\":\"U9\","
    "\"ts\":\"3.0\",\"metadata\":{\"event_type\":\"pmbot_outbox\","
    "\"event_payload\":{\"key\":\"pmbot-7\"}}},"
    "{\"type\":\"message\",\"bot_id\":\"BBOT\",\"user\":\"UBOT\","
    "\"ts\":\"2.0\",\"metadata\":{\"event_type\":\"other\","
    "\"event_payload\":{\"key\":\"pmbot-7\"}}},"
    "{\"type\":\"message\",\"bot_id\":\"BBOT\",\"user\":\"UBOT\","
    "\"ts\":\"1.5\",\"metadata\":{\"event_type\":\"pmbot_outbox\","
    "\"event_payload\":{\"key\":\"pmbot-70\"}}},"
    "{\"type\":\"message\",\"bot_id\":\"BBOT\",\"user\":\"UBOT\","
    "\"ts\":\"1.0\",\"metadata\":{\"event_type\":\"pmbot_outbox\","
    "\"event_payload\":{\"key\":\"pmbot-7\"}}},"
    "{\"type\":\"message\",\"user\":\"U1\",\"ts\":\"0.5\"}"
    "],\"has_more\":false}";

static void
slack_find_keyed__the_bots_own_message_with_the_key(void **state)
{
    size_t n = strlen(keyed_page);
    char *ts = NULL;

    (void)state;
    assert_int_equal(
        slack_find_keyed(keyed_page, n, "pmbot-7", SELF_USER, SELF_BOT, &ts),
        BOT_OK);
    assert_string_equal(ts, "1.0");
    bot_free(ts);
    assert_int_equal(
        slack_find_keyed(keyed_page, n, "pmbot-8", SELF_USER, SELF_BOT, &ts),
        BOT_ENOTFOUND);
    assert_null(ts);
    /* who pmbot is not known yet: the newest with the key */
    assert_int_equal(slack_find_keyed(keyed_page, n, "pmbot-7", NULL, NULL,
                                      &ts),
                     BOT_OK);
    assert_string_equal(ts, "3.0");
    bot_free(ts);
    assert_int_equal(slack_find_keyed("{\"ok\":true}", 11, "pmbot-7",
                                      SELF_USER, SELF_BOT, &ts),
                     BOT_EPROTO);
    assert_int_equal(slack_find_keyed("nope", 4, "pmbot-7", SELF_USER,
                                      SELF_BOT, &ts),
                     BOT_EPROTO);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slack_envelope_parse__hello),
        cmocka_unit_test(slack_envelope_parse__disconnect_refresh_requested),
        cmocka_unit_test(slack_envelope_parse__disconnect_link_disabled),
        cmocka_unit_test(
            slack_envelope_parse__reaction_added_takes_item_channel_and_ts),
        cmocka_unit_test(
            slack_envelope_parse__reaction_added_retry_keeps_attempt),
        cmocka_unit_test(slack_envelope_parse__reaction_removed),
        cmocka_unit_test(slack_envelope_parse__reaction_on_file_has_no_channel),
        cmocka_unit_test(slack_envelope_parse__message_keeps_text_escaped),
        cmocka_unit_test(slack_envelope_parse__thread_reply),
        cmocka_unit_test(
            slack_envelope_parse__message_changed_takes_new_version),
        cmocka_unit_test(slack_envelope_parse__message_deleted),
        cmocka_unit_test(slack_envelope_parse__own_message),
        cmocka_unit_test(slack_envelope_parse__other_bot),
        cmocka_unit_test(slack_envelope_parse__channel_join),
        cmocka_unit_test(slack_envelope_parse__slash_command),
        cmocka_unit_test(slack_envelope_parse__garbage_is_eproto),
        cmocka_unit_test(slack_envelope_parse__truncated_is_eproto),
        cmocka_unit_test(slack_envelope_parse__object_without_type_is_eproto),
        cmocka_unit_test(
            slack_envelope_parse__key_order_and_nesting_do_not_matter),
        cmocka_unit_test(slack_envelope_parse__wrong_types_count_as_absent),
        cmocka_unit_test(slack_envelope_parse__nul_and_trailing_data_are_eproto),
        cmocka_unit_test(slack_envelope_event__reaction_added),
        cmocka_unit_test(
            slack_envelope_event__reaction_retry_is_delivered_with_same_id),
        cmocka_unit_test(slack_envelope_event__reaction_removed),
        cmocka_unit_test(slack_envelope_event__reaction_on_file_is_ignored),
        cmocka_unit_test(slack_envelope_event__message),
        cmocka_unit_test(slack_envelope_event__thread_reply_has_thread_id),
        cmocka_unit_test(slack_envelope_event__message_changed),
        cmocka_unit_test(slack_envelope_event__message_deleted),
        cmocka_unit_test(slack_envelope_event__own_message_is_ignored),
        cmocka_unit_test(slack_envelope_event__other_bot_is_ignored),
        cmocka_unit_test(slack_envelope_event__channel_join_is_ignored),
        cmocka_unit_test(slack_envelope_event__control_envelope_is_ignored),
        cmocka_unit_test(slack_envelope_event__slash_command),
        cmocka_unit_test(slack_ts_ms__fraction_truncated_to_milliseconds),
        cmocka_unit_test(slack_escape__only_amp_lt_gt),
        cmocka_unit_test(slack_render__text_span_pings_no_one),
        cmocka_unit_test(slack_render__user_and_room_mentions),
        cmocka_unit_test(slack_render__bold_and_code_escaped_inside),
        cmocka_unit_test(slack_render__safe_link),
        cmocka_unit_test(slack_render__link_label_is_escaped),
        cmocka_unit_test(slack_render__unsafe_link_is_label_only),
        cmocka_unit_test(slack_post_body__channel_text_and_one_section),
        cmocka_unit_test(slack_post_body__long_message_split_into_sections),
        cmocka_unit_test(slack_post_body__thread_ts_only_when_given),
        cmocka_unit_test(slack_envelope_event__channel_type_im_is_a_dm),
        cmocka_unit_test(slack_post_body__key_rides_as_metadata),
        cmocka_unit_test(slack_ephemeral_and_update_bodies),
        cmocka_unit_test(
            slack_upload_complete_body__thread_ts_only_when_given),
        cmocka_unit_test(slack_find_keyed__the_bots_own_message_with_the_key),
        cmocka_unit_test(slack_reply_body__in_channel_or_ephemeral),
        cmocka_unit_test(slack_ack__envelope_id_only),
        cmocka_unit_test(slack_status__ok_and_error_at_the_top_only),
        cmocka_unit_test(slack_status__last_key_wins_even_with_the_wrong_type),
        cmocka_unit_test(slack_status__not_an_object_is_eproto),
        cmocka_unit_test(slack_result__ok_with_paths),
        cmocka_unit_test(slack_result__error_name_taken),
        cmocka_unit_test(slack_result__not_an_object_is_eproto),
        cmocka_unit_test(slack_find_message__exact_ts),
        cmocka_unit_test(slack_find_message__older_message_is_not_found),
        cmocka_unit_test(slack_find_message__no_messages_is_eproto),
        cmocka_unit_test(slack_find_messages__several_in_one_page),
        cmocka_unit_test(slack_find_messages__none_found_still_reports_the_span),
        cmocka_unit_test(slack_find_messages__has_more_is_read),
        cmocka_unit_test(slack_find_messages__has_more_absent_is_false),
        cmocka_unit_test(slack_find_messages__empty_page_has_no_oldest),
        cmocka_unit_test(slack_find_messages__has_more_and_oldest_are_optional),
        cmocka_unit_test(slack_find_messages__no_messages_is_eproto),
        cmocka_unit_test(slack_parse_user__mention_tokens),
        cmocka_unit_test(slack_parse_user__not_a_mention_is_einval),
        /* found defects, see the comments above each */
        cmocka_unit_test(slack_post_body__sections_keep_links_whole),
        cmocka_unit_test(slack_post_body__sections_keep_escapes_whole),
        cmocka_unit_test(slack_render__link_to_non_url_is_label_only),
        cmocka_unit_test(slack_decode__entities_mentions_and_links),
        cmocka_unit_test(slack_decode__then_render_escapes_once),
        cmocka_unit_test(slack_user_of__users_info_and_user_change),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
