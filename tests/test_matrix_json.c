/*
 * test_matrix_json.c - the Matrix codec against answers shaped as Synapse
 * 1.163 gives them (tests/fixtures/matrix, see shared/protocols.md D and
 * E1): /sync, /messages, /event, errors, m.direct and pins; rendering
 * (escaping, "@room", m.mentions), formatted_body to text, user ids.
 * Fixtures are read relative to the repository root, where tests run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "chat.h"
#include "err.h"
#include "fixture.h"
#include "matrix_json.h"
#include "mem.h"
#include "strbuf.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define FIXTURES "tests/fixtures/matrix/"
#define SELF "@pmbot:localhost"
#define ROOM_A "!incRoomAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static char *
load_fixture(const char *name, size_t *len)
{
    char path[256];
    char *buf;

    snprintf(path, sizeof(path), FIXTURES "%s", name);
    buf = fixture_load(path, len);
    if (!buf)
        fail_msg("cannot read fixture %s", path);
    return buf;
}

/* html_text - mx_html_to_text of s as a new string */
static char *
html_text(const char *s)
{
    struct strbuf sb;

    strbuf_init(&sb, 0);
    assert_int_equal(mx_html_to_text(&sb, s, strlen(s)), BOT_OK);
    return sb.len ? strbuf_steal(&sb) : bot_strdup("");
}

static void
assert_html_text(const char *html, const char *want)
{
    char *got = html_text(html);

    assert_string_equal(got, want);
    bot_free(got);
}

/* jget - the parsed JSON text s (jansson, json_decref) */
static json_t *
jparse(const char *s)
{
    json_error_t e;
    json_t *j;

    assert_non_null(s);
    j = json_loads(s, 0, &e);
    if (!j)
        fail_msg("not JSON: %s (%s)", s, e.text);
    return j;
}

static const char *
jstr(json_t *o, const char *path)
{
    char key[64];
    const char *dot;

    while ((dot = strchr(path, '/'))) {
        snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
        o = json_object_get(o, key);
        path = dot + 1;
    }
    o = json_object_get(o, path);
    return json_is_string(o) ? json_string_value(o) : NULL;
}

static void
assert_no_room_ping(const char *s)
{
    for (const char *p = s; (p = strchr(p, '@')); p++) {
        if (!strncasecmp(p + 1, "room", 4))
            fail_msg("unbroken @room in %s", s);
    }
}

/* --- sync --- */

static void
mx_sync_parse__synapse_answer(void **state)
{
    struct mx_sync s;
    struct mx_room *a = NULL, *enc = NULL;
    size_t len, i;
    char *buf = load_fixture("sync.json", &len);

    (void)state;
    assert_int_equal(mx_sync_parse(buf, len, SELF, &s), BOT_OK);
    bot_free(buf);
    assert_string_equal(s.next_batch, "s72595_4483_1934");
    assert_int_equal(s.nrooms, 2);
    for (i = 0; i < s.nrooms; i++) {
        if (!strcmp(s.rooms[i].id, ROOM_A))
            a = &s.rooms[i];
        else
            enc = &s.rooms[i];
    }
    assert_non_null(a);
    assert_non_null(enc);
    assert_true(a->limited);
    assert_string_equal(a->prev_batch, "t34-23535_0_0_0_0_0_0_0_0");
    assert_false(a->encrypted);
    /* own notice, the event without id and the one with a real ts dropped */
    assert_int_equal(a->nev, 7);
    assert_int_equal(a->ev[0].type, MX_EV_MESSAGE);
    assert_string_equal(a->ev[0].text, "!incident start Disk full");
    assert_string_equal(a->ev[0].sender, "@alice:localhost");
    assert_int_equal(a->ev[0].ts, 1764650000000LL);
    assert_null(a->ev[0].thread_id);
    /* a reply: the fallback gone, the pill its user id, entities decoded */
    assert_int_equal(a->ev[1].type, MX_EV_MESSAGE);
    assert_string_equal(a->ev[1].text, "what disk? ask @alice:localhost & co");
    assert_int_equal(a->ev[2].type, MX_EV_REACTION);
    assert_string_equal(a->ev[2].rel_id,
                        "$reply000000000000000000000000000000000000000");
    assert_string_equal(a->ev[2].key, "📌"); /* U+FE0F removed */
    assert_int_equal(a->ev[3].type, MX_EV_EDIT);
    assert_string_equal(a->ev[3].text, "disk full on db2");
    assert_string_equal(a->ev[3].rel_id,
                        "$AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg");
    assert_int_equal(a->ev[4].type, MX_EV_REDACTION);
    assert_string_equal(a->ev[4].rel_id,
                        "$react00000000000000000000000000000000000000");
    assert_int_equal(a->ev[5].type, MX_EV_MESSAGE);
    assert_string_equal(a->ev[5].thread_id,
                        "$AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg");
    assert_int_equal(a->ev[6].type, MX_EV_MEMBER);
    assert_string_equal(a->ev[6].state_key, "@carol:localhost");
    assert_string_equal(a->ev[6].membership, "join");
    /* m.room.encryption in the timeline */
    assert_true(enc->encrypted);
    assert_int_equal(enc->nev, 2);
    assert_int_equal(enc->ev[1].type, MX_EV_ENCRYPTED);
    assert_false(enc->limited);

    assert_int_equal(s.ninvites, 1);
    assert_string_equal(s.invites[0].room,
                        "!invRoomCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC");
    assert_string_equal(s.invites[0].sender, "@alice:localhost");
    assert_true(s.invites[0].is_direct);
    assert_false(s.invites[0].encrypted);
    assert_int_equal(s.nleft, 1);
    assert_string_equal(s.left[0],
                        "!goneRoomDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD");
    assert_string_equal(s.direct, "{\"@alice:localhost\":"
                                  "[\"!dmAlice0123456789abcdefghijklmnopqrstuvwxy\"]}");
    mx_sync_clear(&s);
    assert_null(s.next_batch);
    mx_sync_clear(&s); /* clearing a cleared one is a no-op */
}

/* sync1 - one joined room holding the one event ev (JSON text) */
static int
sync1(const char *ev, struct mx_sync *s)
{
    char buf[200000];

    snprintf(buf, sizeof(buf),
             "{\"next_batch\":\"s1\",\"rooms\":{\"join\":{\"!r\":{"
             "\"timeline\":{\"events\":[%s]}}}}}", ev);
    return mx_sync_parse(buf, strlen(buf), SELF, s);
}

/* one_text - the text of the one message event ev, or NULL if dropped */
static char *
one_text(const char *ev)
{
    struct mx_sync s;
    char *t = NULL;

    assert_int_equal(sync1(ev, &s), BOT_OK);
    assert_int_equal(s.nrooms, 1);
    if (s.rooms[0].nev == 1)
        t = bot_strdup(s.rooms[0].ev[0].text);
    mx_sync_clear(&s);
    return t;
}

#define EV(content) \
    "{\"type\":\"m.room.message\",\"event_id\":\"$e\",\"sender\":\"@u:hs\"," \
    "\"origin_server_ts\":1000,\"content\":" content "}"

static void
mx_sync_parse__text_rules(void **state)
{
    char *t;

    (void)state;
    /* formatted_body wins when it is HTML */
    t = one_text(EV("{\"msgtype\":\"m.text\",\"body\":\"Alice: hi\","
                    "\"format\":\"org.matrix.custom.html\",\"formatted_body\":"
                    "\"<a href='https://matrix.to/#/@alice:hs'>Alice</a>: hi\"}"));
    assert_string_equal(t, "@alice:hs: hi");
    bot_free(t);
    /* another format: body */
    t = one_text(EV("{\"msgtype\":\"m.text\",\"body\":\"plain\","
                    "\"format\":\"x.other\",\"formatted_body\":\"<b>no</b>\"}"));
    assert_string_equal(t, "plain");
    bot_free(t);
    /* HTML with nothing visible: body */
    t = one_text(EV("{\"msgtype\":\"m.text\",\"body\":\"fallback\","
                    "\"format\":\"org.matrix.custom.html\","
                    "\"formatted_body\":\"<p> \\u200b </p>\"}"));
    assert_string_equal(t, "fallback");
    bot_free(t);
    /* reply fallback lines out of body; controls and bidi cleaned */
    t = one_text(EV("{\"msgtype\":\"m.text\",\"body\":"
                    "\"> <@a:hs> old\\n> more\\n\\nnew\\u202e\\u0000 text\"}"));
    assert_string_equal(t, "new text");
    bot_free(t);
    /* a notice is typed so the adapter ignores it */
    {
        struct mx_sync s;

        assert_int_equal(sync1(EV("{\"msgtype\":\"m.notice\",\"body\":\"x\"}"),
                               &s), BOT_OK);
        assert_int_equal(s.rooms[0].ev[0].type, MX_EV_NOTICE);
        mx_sync_clear(&s);
    }
}

static void
mx_sync_parse__bad_events_are_dropped_not_fatal(void **state)
{
    char big[MX_TEXT_MAX + 64], longid[MX_ID_MAX + 2], ev[MX_TEXT_MAX + 512];
    const char *bad[] = {
        /* ts out of range, negative, a string */
        "{\"type\":\"m.room.message\",\"event_id\":\"$e\",\"sender\":\"@u:hs\","
        "\"origin_server_ts\":9007199254740993,\"content\":{\"body\":\"x\"}}",
        "{\"type\":\"m.room.message\",\"event_id\":\"$e\",\"sender\":\"@u:hs\","
        "\"origin_server_ts\":-1,\"content\":{\"body\":\"x\"}}",
        "{\"type\":\"m.room.message\",\"event_id\":\"$e\",\"sender\":\"@u:hs\","
        "\"origin_server_ts\":\"1\",\"content\":{\"body\":\"x\"}}",
        /* no sender; an id with a NUL; no type */
        "{\"type\":\"m.room.message\",\"event_id\":\"$e\","
        "\"origin_server_ts\":1,\"content\":{\"body\":\"x\"}}",
        "{\"type\":\"m.room.message\",\"event_id\":\"$e\\u0000x\","
        "\"sender\":\"@u:hs\",\"origin_server_ts\":1,\"content\":{}}",
        "{\"event_id\":\"$e\",\"sender\":\"@u:hs\",\"origin_server_ts\":1}",
        /* a reaction without key, an edit without m.new_content */
        "{\"type\":\"m.reaction\",\"event_id\":\"$e\",\"sender\":\"@u:hs\","
        "\"origin_server_ts\":1,\"content\":{\"m.relates_to\":{\"rel_type\":"
        "\"m.annotation\",\"event_id\":\"$t\"}}}",
        "{\"type\":\"m.room.message\",\"event_id\":\"$e\",\"sender\":\"@u:hs\","
        "\"origin_server_ts\":1,\"content\":{\"body\":\"* x\",\"m.relates_to\":"
        "{\"rel_type\":\"m.replace\",\"event_id\":\"$t\"}}}",
        /* the bot's own */
        "{\"type\":\"m.room.message\",\"event_id\":\"$e\",\"sender\":\"" SELF
        "\",\"origin_server_ts\":1,\"content\":{\"body\":\"x\"}}",
    };
    struct mx_sync s;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(sync1(bad[i], &s), BOT_OK);
        if (s.rooms[0].nev)
            fail_msg("kept bad event %zu", i);
        mx_sync_clear(&s);
    }
    /* an id one byte too long; a text one byte too long; the limits pass */
    memset(longid, 'e', sizeof(longid) - 1);
    longid[0] = '$';
    longid[sizeof(longid) - 1] = '\0';
    snprintf(ev, sizeof(ev),
             "{\"type\":\"m.room.message\",\"event_id\":\"%s\",\"sender\":"
             "\"@u:hs\",\"origin_server_ts\":1,\"content\":{\"body\":\"x\"}}",
             longid);
    assert_int_equal(sync1(ev, &s), BOT_OK);
    assert_int_equal(s.rooms[0].nev, 0);
    mx_sync_clear(&s);
    longid[MX_ID_MAX] = '\0';
    snprintf(ev, sizeof(ev),
             "{\"type\":\"m.room.message\",\"event_id\":\"%s\",\"sender\":"
             "\"@u:hs\",\"origin_server_ts\":1,\"content\":{\"body\":\"x\"}}",
             longid);
    assert_int_equal(sync1(ev, &s), BOT_OK);
    assert_int_equal(s.rooms[0].nev, 1);
    mx_sync_clear(&s);

    memset(big, 'a', MX_TEXT_MAX + 1);
    big[MX_TEXT_MAX + 1] = '\0';
    snprintf(ev, sizeof(ev), EV("{\"body\":\"%s\"}"), big);
    assert_int_equal(sync1(ev, &s), BOT_OK);
    assert_int_equal(s.rooms[0].nev, 0);
    mx_sync_clear(&s);
    big[MX_TEXT_MAX] = '\0';
    snprintf(ev, sizeof(ev), EV("{\"body\":\"%s\"}"), big);
    assert_int_equal(sync1(ev, &s), BOT_OK);
    assert_int_equal(s.rooms[0].nev, 1);
    assert_int_equal(strlen(s.rooms[0].ev[0].text), MX_TEXT_MAX);
    mx_sync_clear(&s);
}

static void
mx_sync_parse__redaction_reads_top_level_redacts_too(void **state)
{
    struct mx_sync s;

    (void)state;
    assert_int_equal(
        sync1("{\"type\":\"m.room.redaction\",\"event_id\":\"$r\",\"sender\":"
              "\"@u:hs\",\"origin_server_ts\":1,\"content\":{},"
              "\"redacts\":\"$old\"}", &s), BOT_OK);
    assert_int_equal(s.rooms[0].ev[0].type, MX_EV_REDACTION);
    assert_string_equal(s.rooms[0].ev[0].rel_id, "$old");
    mx_sync_clear(&s);
}

static void
mx_sync_parse__encryption_in_state_and_invite(void **state)
{
    const char *buf =
        "{\"next_batch\":\"n\",\"rooms\":{\"join\":{\"!j\":{\"state\":"
        "{\"events\":[{\"type\":\"m.room.encryption\",\"state_key\":\"\","
        "\"content\":{}}]},\"timeline\":{\"events\":[]}}},"
        "\"invite\":{\"!i\":{\"invite_state\":{\"events\":["
        "{\"type\":\"m.room.encryption\",\"state_key\":\"\",\"sender\":\"@a:hs\"},"
        "{\"type\":\"m.room.member\",\"state_key\":\"@other:hs\","
        "\"sender\":\"@x:hs\",\"content\":{\"membership\":\"invite\"}},"
        "{\"type\":\"m.room.member\",\"state_key\":\"" SELF "\","
        "\"sender\":\"@a:hs\",\"content\":{\"membership\":\"invite\"}}]}}}}}";
    struct mx_sync s;

    (void)state;
    assert_int_equal(mx_sync_parse(buf, strlen(buf), SELF, &s), BOT_OK);
    assert_int_equal(s.nrooms, 1);
    assert_true(s.rooms[0].encrypted);
    assert_int_equal(s.ninvites, 1);
    assert_true(s.invites[0].encrypted);
    assert_string_equal(s.invites[0].sender, "@a:hs"); /* not @x: self's */
    assert_false(s.invites[0].is_direct);
    assert_null(s.direct);
    mx_sync_clear(&s);
}

static void
mx_sync_parse__not_a_sync_is_eproto(void **state)
{
    const char *bad[] = {"", "[]", "{}", "{\"next_batch\":5}", "{\"next_batch\":",
                         "not json", "{\"next_batch\":\"a\",\"next_batch\":\"b\"}"};
    struct mx_sync s;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(mx_sync_parse(bad[i], strlen(bad[i]), SELF, &s),
                         BOT_EPROTO);
        assert_null(s.next_batch);
        assert_int_equal(s.nrooms, 0);
    }
}

static void
mx_sync_parse__out_of_memory_fails_cleanly(void **state)
{
    size_t len;
    char *buf = load_fixture("sync.json", &len);
    struct mx_sync s;
    int rc = BOT_ENOMEM;

    (void)state;
    for (long n = 0; rc == BOT_ENOMEM; n++) {
        mem_fail_after(n, 1);
        rc = mx_sync_parse(buf, len, SELF, &s);
        mem_fail_after(-1, 0);
        if (rc == BOT_ENOMEM)
            assert_null(s.next_batch);
        assert_true(n < 10000);
    }
    assert_int_equal(rc, BOT_OK);
    mx_sync_clear(&s);
    bot_free(buf);
}

/* --- messages and event --- */

static void
mx_messages_parse__oldest_first_without_self(void **state)
{
    size_t len;
    char *buf = load_fixture("messages.json", &len), *end;
    struct mx_room r;

    (void)state;
    assert_int_equal(mx_messages_parse(buf, len, SELF, &r, &end), BOT_OK);
    bot_free(buf);
    assert_null(r.id);
    assert_int_equal(r.nev, 3);
    assert_string_equal(r.ev[0].event_id, "$m1");
    assert_string_equal(r.ev[1].event_id, "$m2");
    assert_string_equal(r.ev[2].event_id, "$m3");
    assert_string_equal(end, "t44-1_0_0");
    bot_free(end);
    mx_room_clear(&r);

    buf = "{\"chunk\":[],\"start\":\"t1\"}";
    assert_int_equal(mx_messages_parse(buf, strlen(buf), SELF, &r, &end),
                     BOT_OK);
    assert_null(end);
    assert_int_equal(r.nev, 0);
    mx_room_clear(&r);
    buf = "{\"start\":\"t1\"}";
    assert_int_equal(mx_messages_parse(buf, strlen(buf), SELF, &r, &end),
                     BOT_EPROTO);
}

static void
mx_event_parse__bundled_edit_wins(void **state)
{
    size_t len;
    char *buf = load_fixture("event_edited.json", &len);
    struct mx_event e;

    (void)state;
    assert_int_equal(mx_event_parse(buf, len, &e), BOT_OK);
    bot_free(buf);
    assert_int_equal(e.type, MX_EV_MESSAGE);
    assert_string_equal(e.text, "disk full on db2");
    assert_int_equal(e.ts, 1764650000000LL);
    assert_false(e.redacted);
    mx_event_clear(&e);
}

static void
mx_event_parse__edit_by_someone_else_is_not_the_text(void **state)
{
    const char *buf =
        "{\"type\":\"m.room.message\",\"event_id\":\"$o\",\"sender\":\"@a:hs\","
        "\"origin_server_ts\":5,\"content\":{\"body\":\"orig\"},\"unsigned\":"
        "{\"m.relations\":{\"m.replace\":{\"sender\":\"@mallory:hs\",\"content\":"
        "{\"m.new_content\":{\"body\":\"forged\"}}}}}}";
    struct mx_event e;

    (void)state;
    assert_int_equal(mx_event_parse(buf, strlen(buf), &e), BOT_OK);
    assert_string_equal(e.text, "orig");
    mx_event_clear(&e);
}

static void
mx_event_parse__redacted_and_self_kept(void **state)
{
    size_t len;
    char *buf = load_fixture("event_redacted.json", &len);
    struct mx_event e;
    const char *own = "{\"type\":\"m.room.message\",\"event_id\":\"$o\","
                      "\"sender\":\"" SELF "\",\"origin_server_ts\":5,"
                      "\"content\":{\"msgtype\":\"m.notice\",\"body\":\"b\"}}";

    (void)state;
    assert_int_equal(mx_event_parse(buf, len, &e), BOT_OK);
    bot_free(buf);
    assert_true(e.redacted);
    assert_string_equal(e.text, "");
    mx_event_clear(&e);
    assert_int_equal(mx_event_parse(own, strlen(own), &e), BOT_OK);
    assert_string_equal(e.sender, SELF);
    mx_event_clear(&e);
    assert_int_equal(mx_event_parse("{}", 2, &e), BOT_EPROTO);
    assert_null(e.event_id);
}

/* --- html to text --- */

static void
mx_html_to_text__tags_pills_replies_entities(void **state)
{
    (void)state;
    assert_html_text("<b>bold</b> &amp; <code>x&lt;y&gt;z</code>",
                     "bold & x<y>z");
    assert_html_text("a<br>b<br/>c<p>d</p>e<li>f</li>", "a\nb\nc\nd\ne\nf\n");
    assert_html_text("<mx-reply><blockquote>old @room</blockquote></mx-reply>"
                     "new", "new");
    assert_html_text("hi <a href=\"https://matrix.to/#/@bob:hs?via=hs\">Bob"
                     "</a>!", "hi @bob:hs!");
    assert_html_text("<A HREF='https://matrix.to/#/%40bob%3Ahs'>B</A>",
                     "@bob:hs");
    /* a link that is not a user keeps its text */
    assert_html_text("<a href=\"https://example.org\">site</a>", "site");
    assert_html_text("&quot;&#39;&#x27;&apos;&nbsp;&#65;&#x1F4CC;",
                     "\"'''\xc2\xa0" "A\xf0\x9f\x93\x8c");
    /* invalid numeric ones are U+FFFD, never a NUL or a surrogate */
    assert_html_text("&#0;&#xD800;&#x110000;&#99999999999;",
                     "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    /* unknown ones and bare '&' / '<' stay as written */
    assert_html_text("&copy; a & b &#xZZ; 1 < 2", "&copy; a & b &#xZZ; 1 < 2");
}

static void
mx_html_to_text__linear_on_hostile_input(void **state)
{
    size_t n = 1 << 20;
    char *h = bot_malloc(n + 1);
    const char *pat[] = {"<", "<a href=https://matrix.to/#/@u:h>",
                         "<mx-reply>", "&#"};
    struct strbuf sb;

    (void)state;
    assert_non_null(h);
    for (size_t k = 0; k < sizeof(pat) / sizeof(pat[0]); k++) {
        size_t pl = strlen(pat[k]);
        clock_t t0 = clock();

        for (size_t i = 0; i < n; i++)
            h[i] = pat[k][i % pl];
        strbuf_init(&sb, 0);
        assert_int_equal(mx_html_to_text(&sb, h, n), BOT_OK);
        strbuf_cleanup(&sb);
        /* quadratic would be minutes for 1 MiB; linear is milliseconds */
        assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
    }
    bot_free(h);
}

/* --- rendering --- */

static void
render(const struct chat_msg *m, char **body, char **html)
{
    struct strbuf b, h;

    strbuf_init(&b, 0);
    strbuf_init(&h, 0);
    assert_int_equal(mx_render(m, &b, &h), BOT_OK);
    *body = b.len ? strbuf_steal(&b) : bot_strdup("");
    *html = h.len ? strbuf_steal(&h) : bot_strdup("");
}

static void
mx_render__spans(void **state)
{
    struct chat_msg m;
    char *body, *html;

    (void)state;
    chat_msg_init(&m);
    chat_msg_text(&m, "Hi ");
    chat_msg_user(&m, "@al\"ice:hs");
    chat_msg_text(&m, ", ");
    chat_msg_bold(&m, "b");
    chat_msg_code(&m, "c");
    chat_msg_nl(&m);
    chat_msg_room(&m, "!abc", "inc-1");
    chat_msg_text(&m, " ");
    chat_msg_link(&m, "HTTPS://x.org/?a=1&b=2", "doc");
    chat_msg_text(&m, " ");
    chat_msg_link(&m, "javascript:alert(1)", "click");
    chat_msg_text(&m, " ");
    chat_msg_link(&m, "mailto:a@b.org", "mailto:a@b.org");
    assert_int_equal(m.err, BOT_OK);
    render(&m, &body, &html);
    assert_string_equal(body, "Hi @al\"ice:hs, bc\n#inc-1 doc (HTTPS://x.org/?a=1&b=2) "
                              "click (javascript:alert(1)) mailto:a@b.org");
    assert_string_equal(
        html, "Hi <a href=\"https://matrix.to/#/@al&quot;ice:hs\">@al&quot;ice:hs"
              "</a>, <b>b</b><code>c</code><br>"
              "<a href=\"https://matrix.to/#/!abc\">#inc-1</a> "
              "<a href=\"HTTPS://x.org/?a=1&amp;b=2\">doc</a> "
              "click (javascript:alert(1)) "
              "<a href=\"mailto:a@b.org\">mailto:a@b.org</a>");
    bot_free(body);
    bot_free(html);
    chat_msg_cleanup(&m);
}

static void
mx_render__hostile_title_is_escaped_and_pings_no_one(void **state)
{
    struct chat_msg m;
    char *body, *html;

    (void)state;
    chat_msg_init(&m);
    chat_msg_text(&m, "Incident: ");
    chat_msg_bold(&m, "<script>@room & \"x\" 'y'</script>");
    chat_msg_text(&m, " @ROOM @");
    chat_msg_text(&m, "room"); /* split over two spans */
    chat_msg_user(&m, "@room:hs");
    render(&m, &body, &html);
    assert_no_room_ping(body);
    assert_no_room_ping(html);
    assert_null(strstr(html, "<script"));
    assert_non_null(strstr(html, "<b>&lt;script&gt;@\xe2\x81\xa0room &amp; "
                                 "&quot;x&quot; &#39;y&#39;&lt;/script&gt;</b>"));
    assert_non_null(strstr(body, "@\xe2\x81\xa0ROOM @\xe2\x81\xa0room"));
    /* the pill still points at the user: %40 in the address */
    assert_non_null(strstr(html, "href=\"https://matrix.to/#/%40room:hs\""));
    bot_free(body);
    bot_free(html);
    chat_msg_cleanup(&m);
}

static void
mx_notify_content__text_naming_its_people_only(void **state)
{
    struct chat_msg m;
    json_t *j, *ids;
    char *c;

    (void)state;
    chat_msg_init(&m);
    chat_msg_user(&m, "@alice:hs");
    chat_msg_text(&m, ", ACT-1 is overdue (@room). ");
    chat_msg_user(&m, "@bob:hs");
    chat_msg_user(&m, "@alice:hs");
    chat_msg_user(&m, "not an id");
    c = mx_notify_content(&m, "$root");
    j = jparse(c);
    /* a notice would notify no one; this is for the people it names */
    assert_string_equal(jstr(j, "msgtype"), "m.text");
    ids = json_object_get(json_object_get(j, "m.mentions"), "user_ids");
    assert_int_equal(json_array_size(ids), 2);
    assert_string_equal(json_string_value(json_array_get(ids, 0)),
                        "@alice:hs");
    assert_string_equal(json_string_value(json_array_get(ids, 1)), "@bob:hs");
    assert_null(json_object_get(json_object_get(j, "m.mentions"), "room"));
    assert_non_null(strstr(jstr(j, "body"), "@\xe2\x81\xa0room"));
    assert_string_equal(jstr(j, "m.relates_to/rel_type"), "m.thread");
    json_decref(j);
    bot_free(c);
    chat_msg_cleanup(&m);
}

static void
mx_event_parse__before_the_bot_joined(void **state)
{
    static const char *const ev[] = {
        "{\"type\":\"m.room.message\",\"event_id\":\"$a\",\"sender\":"
        "\"@u:hs\",\"origin_server_ts\":1,\"content\":{\"msgtype\":"
        "\"m.text\",\"body\":\"!incident start old\"},\"unsigned\":"
        "{\"membership\":\"leave\"}}",
        "{\"type\":\"m.room.message\",\"event_id\":\"$b\",\"sender\":"
        "\"@u:hs\",\"origin_server_ts\":1,\"content\":{\"msgtype\":"
        "\"m.text\",\"body\":\"new\"},\"unsigned\":{\"membership\":"
        "\"join\"}}",
        "{\"type\":\"m.room.message\",\"event_id\":\"$c\",\"sender\":"
        "\"@u:hs\",\"origin_server_ts\":1,\"content\":{\"msgtype\":"
        "\"m.text\",\"body\":\"no membership said\"}}"};
    const int want[] = {1, 0, 0};
    struct mx_event e;

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(mx_event_parse(ev[i], strlen(ev[i]), &e), BOT_OK);
        assert_int_equal(e.not_joined, want[i]);
        mx_event_clear(&e);
    }
}

static void
mx_message_content__notice_with_empty_mentions(void **state)
{
    struct chat_msg m;
    json_t *j;
    char *c;

    (void)state;
    chat_msg_init(&m);
    chat_msg_text(&m, "hello @room <b>");
    c = mx_message_content(&m, NULL);
    j = jparse(c);
    assert_string_equal(jstr(j, "msgtype"), "m.notice");
    assert_string_equal(jstr(j, "format"), "org.matrix.custom.html");
    assert_string_equal(jstr(j, "body"), "hello @\xe2\x81\xa0room <b>");
    assert_string_equal(jstr(j, "formatted_body"),
                        "hello @\xe2\x81\xa0room &lt;b&gt;");
    assert_true(json_is_object(json_object_get(j, "m.mentions")));
    assert_int_equal(json_object_size(json_object_get(j, "m.mentions")), 0);
    assert_null(json_object_get(j, "m.relates_to"));
    /* non-ASCII written as UTF-8, not \u escapes */
    assert_null(strstr(c, "\\u"));
    json_decref(j);
    bot_free(c);

    c = mx_message_content(&m, "$root");
    j = jparse(c);
    assert_string_equal(jstr(j, "m.relates_to/rel_type"), "m.thread");
    assert_string_equal(jstr(j, "m.relates_to/event_id"), "$root");
    assert_string_equal(jstr(j, "m.relates_to/m.in_reply_to/event_id"), "$root");
    assert_true(json_is_true(json_object_get(json_object_get(j, "m.relates_to"),
                                             "is_falling_back")));
    json_decref(j);
    bot_free(c);
    chat_msg_cleanup(&m);
}

/* found by fuzz_matrix_error: an empty message (no span) */
static void
mx_message_content__empty_message(void **state)
{
    struct chat_msg m;
    char *c;

    (void)state;
    chat_msg_init(&m);
    c = mx_message_content(&m, NULL);
    assert_string_equal(c, "{\"msgtype\":\"m.notice\",\"body\":\"\","
                           "\"format\":\"org.matrix.custom.html\","
                           "\"formatted_body\":\"\",\"m.mentions\":{}}");
    bot_free(c);
    chat_msg_cleanup(&m);
}

static void
mx_edit_content__new_content_has_mentions_too(void **state)
{
    struct chat_msg m;
    json_t *j, *nc;
    char *c;

    (void)state;
    chat_msg_init(&m);
    chat_msg_text(&m, "v2 @room");
    c = mx_edit_content(&m, "$orig");
    j = jparse(c);
    assert_string_equal(jstr(j, "body"), "* v2 @\xe2\x81\xa0room");
    assert_string_equal(jstr(j, "m.relates_to/rel_type"), "m.replace");
    assert_string_equal(jstr(j, "m.relates_to/event_id"), "$orig");
    assert_true(json_is_object(json_object_get(j, "m.mentions")));
    nc = json_object_get(j, "m.new_content");
    assert_string_equal(jstr(nc, "body"), "v2 @\xe2\x81\xa0room");
    assert_string_equal(jstr(nc, "msgtype"), "m.notice");
    assert_true(json_is_object(json_object_get(nc, "m.mentions")));
    assert_int_equal(json_object_size(json_object_get(nc, "m.mentions")), 0);
    json_decref(j);
    bot_free(c);
    chat_msg_cleanup(&m);
}

static void
mx_file_and_reaction_content(void **state)
{
    json_t *j;
    char *c;

    (void)state;
    c = mx_file_content("Review @room", "review.md", "mxc://hs/abc",
                        "text/markdown", 1234, "$t");
    j = jparse(c);
    assert_string_equal(jstr(j, "msgtype"), "m.file");
    assert_string_equal(jstr(j, "body"), "Review @\xe2\x81\xa0room");
    assert_string_equal(jstr(j, "filename"), "review.md");
    assert_string_equal(jstr(j, "url"), "mxc://hs/abc");
    assert_string_equal(jstr(j, "info/mimetype"), "text/markdown");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(j, "info"), "size")), 1234);
    assert_true(json_is_object(json_object_get(j, "m.mentions")));
    assert_string_equal(jstr(j, "m.relates_to/rel_type"), "m.thread");
    json_decref(j);
    bot_free(c);

    c = mx_reaction_content("$e", "✅");
    assert_string_equal(c, "{\"m.relates_to\":{\"rel_type\":\"m.annotation\","
                           "\"event_id\":\"$e\",\"key\":\"✅\"}}");
    bot_free(c);
}

static void
mx_topic_content__cut_on_utf8_and_room_broken(void **state)
{
    char t[400];
    json_t *j;
    char *c;
    const char *v;

    (void)state;
    /* 249 bytes then a 3-byte character: the cut leaves it out whole */
    memset(t, 'a', 249);
    strcpy(t + 249, "€tail");
    c = mx_topic_content(t);
    j = jparse(c);
    v = jstr(j, "topic");
    assert_int_equal(strlen(v), 249);
    assert_string_equal(jstr(json_array_get(json_object_get(json_object_get(
                                 j, "m.topic"), "m.text"), 0), "body"), v);
    json_decref(j);
    bot_free(c);

    c = mx_topic_content("Disk full @room");
    j = jparse(c);
    assert_string_equal(jstr(j, "topic"), "Disk full @\xe2\x81\xa0room");
    json_decref(j);
    bot_free(c);
}

static void
mx_create_room_body__incident_and_dm(void **state)
{
    const char *inv[] = {"@alice:hs"};
    json_t *j, *pl;
    char *c;

    (void)state;
    c = mx_create_room_body("inc-1", "inc-1", "Disk @room", inv, 1, 0);
    j = jparse(c);
    assert_string_equal(jstr(j, "preset"), "private_chat");
    assert_string_equal(jstr(j, "visibility"), "private");
    assert_string_equal(jstr(j, "name"), "inc-1");
    assert_string_equal(jstr(j, "room_alias_name"), "inc-1");
    assert_string_equal(jstr(j, "topic"), "Disk @\xe2\x81\xa0room");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(j, "invite"), 0)), "@alice:hs");
    assert_string_equal(
        jstr(json_array_get(json_object_get(j, "initial_state"), 0),
             "content/history_visibility"), "shared");
    pl = json_object_get(json_object_get(j, "power_level_content_override"),
                         "events");
    assert_int_equal(json_integer_value(json_object_get(pl,
                         "m.room.pinned_events")), 50);
    assert_int_equal(json_integer_value(json_object_get(pl, "m.room.topic")),
                     50);
    /* the override replaces Synapse's map: its defaults are kept */
    assert_int_equal(json_integer_value(json_object_get(pl,
                         "m.room.power_levels")), 100);
    assert_false(json_is_true(json_object_get(j, "is_direct")));
    json_decref(j);
    bot_free(c);

    c = mx_create_room_body(NULL, NULL, NULL, inv, 1, 1);
    j = jparse(c);
    assert_string_equal(jstr(j, "preset"), "trusted_private_chat");
    assert_true(json_is_true(json_object_get(j, "is_direct")));
    assert_null(json_object_get(j, "name"));
    assert_null(json_object_get(j, "room_alias_name"));
    json_decref(j);
    bot_free(c);
}

static void
mx_login_body__and_sync_filter(void **state)
{
    json_t *j, *tl;
    char *c;

    (void)state;
    c = mx_login_body("pmbot", "s3cret", "PMBOT");
    j = jparse(c);
    assert_string_equal(jstr(j, "type"), "m.login.password");
    assert_string_equal(jstr(j, "identifier/type"), "m.id.user");
    assert_string_equal(jstr(j, "identifier/user"), "pmbot");
    assert_string_equal(jstr(j, "password"), "s3cret");
    assert_string_equal(jstr(j, "device_id"), "PMBOT");
    json_decref(j);
    bot_free(c);
    c = mx_login_body("pmbot", "s3cret", NULL);
    j = jparse(c);
    assert_null(json_object_get(j, "device_id"));
    json_decref(j);
    bot_free(c);

    c = mx_sync_filter(SELF, 100);
    j = jparse(c);
    assert_string_equal(json_string_value(json_array_get(json_object_get(
                            json_object_get(j, "presence"), "not_types"), 0)),
                        "*");
    assert_string_equal(json_string_value(json_array_get(json_object_get(
                            json_object_get(j, "account_data"), "types"), 0)),
                        "m.direct");
    tl = json_object_get(json_object_get(j, "room"), "timeline");
    assert_int_equal(json_integer_value(json_object_get(tl, "limit")), 100);
    assert_true(json_is_true(json_object_get(tl, "lazy_load_members")));
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(tl, "not_senders"), 0)), SELF);
    assert_int_equal(json_array_size(json_object_get(tl, "types")), 5);
    assert_true(json_is_true(json_object_get(json_object_get(
        json_object_get(j, "room"), "state"), "lazy_load_members")));
    assert_int_equal(json_array_size(json_object_get(json_object_get(
                         json_object_get(j, "room"), "state"), "types")), 3);
    assert_non_null(json_object_get(json_object_get(json_object_get(j, "room"),
                                                    "ephemeral"), "not_types"));
    assert_non_null(json_object_get(json_object_get(json_object_get(j, "room"),
                                                    "account_data"), "not_types"));
    json_decref(j);
    bot_free(c);

    /* /messages reads the gap with the timeline's own filter, no limit */
    c = mx_messages_filter(SELF);
    j = jparse(c);
    assert_null(json_object_get(j, "limit"));
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(j, "not_senders"), 0)), SELF);
    assert_int_equal(json_array_size(json_object_get(j, "types")), 5);
    json_decref(j);
    bot_free(c);
}

/* --- errors, answers, m.direct, pins --- */

static void
mx_error_parse__codes_and_retry(void **state)
{
    const struct {
        const char *body;
        const char *code;
        long retry;
    } cases[] = {
        {"{\"errcode\":\"M_LIMIT_EXCEEDED\",\"error\":\"Too many\","
         "\"retry_after_ms\":2000}", "M_LIMIT_EXCEEDED", 2000},
        {"{\"errcode\":\"M_LIMIT_EXCEEDED\",\"retry_after_ms\":1500.2}",
         "M_LIMIT_EXCEEDED", 1501},
        {"{\"errcode\":\"M_LIMIT_EXCEEDED\",\"retry_after_ms\":-5}",
         "M_LIMIT_EXCEEDED", -1},
        {"{\"errcode\":\"M_LIMIT_EXCEEDED\",\"retry_after_ms\":1e300}",
         "M_LIMIT_EXCEEDED", 3600000},
        {"{\"errcode\":\"M_LIMIT_EXCEEDED\",\"retry_after_ms\":99999999999}",
         "M_LIMIT_EXCEEDED", 3600000},
        {"{\"errcode\":\"M_UNKNOWN_TOKEN\",\"error\":\"x\",\"soft_logout\":true}",
         "M_UNKNOWN_TOKEN", -1},
        {"{\"error\":\"no code\"}", NULL, -1},
        {"<html>502 Bad Gateway</html>", NULL, -1},
        {"{\"errcode\":5}", NULL, -1},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *code = (char *)"x";
        long retry = 7;

        assert_int_equal(mx_error_parse(cases[i].body, strlen(cases[i].body),
                                        &code, &retry), BOT_OK);
        if (cases[i].code)
            assert_string_equal(code, cases[i].code);
        else
            assert_null(code);
        assert_int_equal(retry, cases[i].retry);
        bot_free(code);
    }
    {
        long retry = 0;

        assert_int_equal(mx_error_parse("{\"retry_after_ms\":3}", 20, NULL,
                                        &retry), BOT_OK);
        assert_int_equal(retry, 3);
    }
}

static void
mx_answer_string__key_or_eproto(void **state)
{
    const char *b = "{\"event_id\":\"$abc\",\"n\":1}";
    char *s;

    (void)state;
    assert_int_equal(mx_answer_string(b, strlen(b), "event_id", &s), BOT_OK);
    assert_string_equal(s, "$abc");
    bot_free(s);
    assert_int_equal(mx_answer_string(b, strlen(b), "n", &s), BOT_EPROTO);
    assert_null(s);
    assert_int_equal(mx_answer_string(b, strlen(b), "room_id", &s), BOT_EPROTO);
    assert_int_equal(mx_answer_string("[1]", 3, "room_id", &s), BOT_EPROTO);
}

static void
mx_direct__parse_and_read_modify_write(void **state)
{
    const char *cur = "{\"@a:hs\":[\"!r1\",\"!r2\",5],\"bad\":[\"!x\"],"
                      "\"@b:hs\":\"!notalist\"}";
    struct mx_direct *d;
    size_t n;
    char *body;
    json_t *j;

    (void)state;
    assert_int_equal(mx_direct_parse(cur, strlen(cur), &d, &n), BOT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(d[0].user, "@a:hs");
    assert_string_equal(d[0].room, "!r1");
    assert_string_equal(d[1].room, "!r2");
    mx_direct_free(d, n);
    assert_int_equal(mx_direct_parse("nope", 4, &d, &n), BOT_EPROTO);
    assert_null(d);
    assert_int_equal(n, 0);

    body = mx_direct_body(cur, "@a:hs", "!r3");
    j = jparse(body);
    assert_int_equal(json_array_size(json_object_get(j, "@a:hs")), 4);
    assert_non_null(json_object_get(j, "bad")); /* others' entries kept */
    json_decref(j);
    bot_free(body);
    body = mx_direct_body(cur, "@a:hs", "!r1"); /* there already: once */
    j = jparse(body);
    assert_int_equal(json_array_size(json_object_get(j, "@a:hs")), 3);
    json_decref(j);
    bot_free(body);
    body = mx_direct_body(NULL, "@c:hs", "!r9");
    assert_string_equal(body, "{\"@c:hs\":[\"!r9\"]}");
    bot_free(body);
    body = mx_direct_body("garbage", "@c:hs", "!r9");
    assert_string_equal(body, "{\"@c:hs\":[\"!r9\"]}");
    bot_free(body);
}

static void
mx_pinned_body__append_or_nothing(void **state)
{
    const char *cur = "{\"pinned\":[\"$a\",\"$b\"]}";
    char *out;

    (void)state;
    assert_int_equal(mx_pinned_body(cur, strlen(cur), "$c", &out), BOT_OK);
    assert_string_equal(out, "{\"pinned\":[\"$a\",\"$b\",\"$c\"]}");
    bot_free(out);
    out = (char *)"x";
    assert_int_equal(mx_pinned_body(cur, strlen(cur), "$b", &out), BOT_OK);
    assert_null(out);
    assert_int_equal(mx_pinned_body(NULL, 0, "$c", &out), BOT_OK);
    assert_string_equal(out, "{\"pinned\":[\"$c\"]}");
    bot_free(out);
    assert_int_equal(mx_pinned_body("{\"errcode\":\"M_NOT_FOUND\"}", 25, "$c",
                                    &out), BOT_OK);
    assert_string_equal(out, "{\"pinned\":[\"$c\"]}");
    bot_free(out);
}

/* --- ids --- */

static void
mx_user_valid__ids(void **state)
{
    const char *good[] = {"@a:hs", "@alice.b=c/d+e-_:example.org",
                          "@a:example.org:8448", "@a:127.0.0.1",
                          "@a:[::1]:8008", "@A!:hs"};
    const char *bad[] = {"", "@", "@:hs", "@a", "@a:", "a:hs", "@a b:hs",
                         "@a:h s", "@a:hs:", "@a:hs:123456", "@a:[zz]",
                         "@a:hs/x", "#a:hs", "@a\x01:hs"};
    char longid[MX_ID_MAX + 2];

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!mx_user_valid(good[i]))
            fail_msg("refused %s", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (mx_user_valid(bad[i]))
            fail_msg("accepted %s", bad[i]);
    memset(longid, 'a', sizeof(longid));
    memcpy(longid, "@a:", 3);
    longid[MX_ID_MAX] = '\0';
    assert_true(mx_user_valid(longid));
    longid[MX_ID_MAX] = 'a';
    longid[MX_ID_MAX + 1] = '\0';
    assert_false(mx_user_valid(longid));
}

static void
mx_parse_user__forms(void **state)
{
    const struct {
        const char *token, *want;
    } cases[] = {
        {"@alice:example.org", "@alice:example.org"},
        {"@alice", "@alice:bot.hs"},
        {"@alice:", "@alice:bot.hs"},
        {"@alice,", "@alice:bot.hs"},
        {"@alice:example.org,", "@alice:example.org"},
        {"https://matrix.to/#/@alice:hs", "@alice:hs"},
        {"https://matrix.to/#/%40alice%3Ahs", "@alice:hs"},
    };
    const char *bad[] = {"alice", "@", "@:hs", "<@alice:hs>", "@al ice",
                         "@alice:h s", "https://matrix.to/#/!room", "", ",",
                         "@a<b:hs", "https://example.org/#/@a:hs",
                         "https://matrix.to/#/@a:hs%00x"};
    char *out;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(mx_parse_user(cases[i].token, "bot.hs", &out), BOT_OK);
        assert_string_equal(out, cases[i].want);
        bot_free(out);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (mx_parse_user(bad[i], "bot.hs", &out) != BOT_EINVAL)
            fail_msg("accepted %s", bad[i]);
        assert_null(out);
    }
    assert_int_equal(mx_parse_user("@alice", NULL, &out), BOT_EINVAL);
}

static void
mx_server_of__after_first_colon(void **state)
{
    (void)state;
    assert_string_equal(mx_server_of("@a:hs:8448"), "hs:8448");
    assert_null(mx_server_of("@a"));
    assert_null(mx_server_of("@a:"));
    assert_null(mx_server_of(NULL));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mx_sync_parse__synapse_answer),
        cmocka_unit_test(mx_sync_parse__text_rules),
        cmocka_unit_test(mx_sync_parse__bad_events_are_dropped_not_fatal),
        cmocka_unit_test(mx_sync_parse__redaction_reads_top_level_redacts_too),
        cmocka_unit_test(mx_sync_parse__encryption_in_state_and_invite),
        cmocka_unit_test(mx_sync_parse__not_a_sync_is_eproto),
        cmocka_unit_test(mx_sync_parse__out_of_memory_fails_cleanly),
        cmocka_unit_test(mx_messages_parse__oldest_first_without_self),
        cmocka_unit_test(mx_event_parse__bundled_edit_wins),
        cmocka_unit_test(mx_event_parse__edit_by_someone_else_is_not_the_text),
        cmocka_unit_test(mx_event_parse__redacted_and_self_kept),
        cmocka_unit_test(mx_html_to_text__tags_pills_replies_entities),
        cmocka_unit_test(mx_html_to_text__linear_on_hostile_input),
        cmocka_unit_test(mx_render__spans),
        cmocka_unit_test(mx_render__hostile_title_is_escaped_and_pings_no_one),
        cmocka_unit_test(mx_message_content__notice_with_empty_mentions),
        cmocka_unit_test(mx_notify_content__text_naming_its_people_only),
        cmocka_unit_test(mx_event_parse__before_the_bot_joined),
        cmocka_unit_test(mx_message_content__empty_message),
        cmocka_unit_test(mx_edit_content__new_content_has_mentions_too),
        cmocka_unit_test(mx_file_and_reaction_content),
        cmocka_unit_test(mx_topic_content__cut_on_utf8_and_room_broken),
        cmocka_unit_test(mx_create_room_body__incident_and_dm),
        cmocka_unit_test(mx_login_body__and_sync_filter),
        cmocka_unit_test(mx_error_parse__codes_and_retry),
        cmocka_unit_test(mx_answer_string__key_or_eproto),
        cmocka_unit_test(mx_direct__parse_and_read_modify_write),
        cmocka_unit_test(mx_pinned_body__append_or_nothing),
        cmocka_unit_test(mx_user_valid__ids),
        cmocka_unit_test(mx_parse_user__forms),
        cmocka_unit_test(mx_server_of__after_first_colon),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
