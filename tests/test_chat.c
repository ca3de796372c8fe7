/*
 * test_chat.c - unit tests for include/chat.h.
 *
 * Covers: incident channel names (ASCII, transliterated UTF-8, nothing
 * usable, overlong titles, suffixes, invalid UTF-8, hostile mentions) and
 * the message builders with their plain-text rendering, including the
 * sticky out-of-memory error.
 * Runs under ASan/LSan, so every builder path must leave nothing behind
 * after chat_msg_cleanup.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "chat.h"
#include "err.h"
#include "mem.h"
#include "strbuf.h"

#include <string.h>

/* 2026-11-22T00:00:00Z */
#define DAY_20261122 1795305600000LL

/* assert_channel_chars - only a-z, 0-9 and '-', no '-' at either end, no
 * "--", at most CHAT_CHANNEL_NAME_MAX bytes. */
static void
assert_channel_chars(const char *name)
{
    size_t len = strlen(name);

    assert_true(len > 0);
    assert_true(len <= CHAT_CHANNEL_NAME_MAX);
    assert_int_equal(strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-"),
                     len);
    assert_true(name[0] != '-');
    assert_true(name[len - 1] != '-');
    assert_null(strstr(name, "--"));
}

/* --- chat_channel_name --- */

static void
chat_channel_name__ascii_title(void **state)
{
    char out[CHAT_CHANNEL_NAME_MAX + 1];

    (void)state;

    chat_channel_name("inc", DAY_20261122, "Database down!", 0, out,
                      sizeof(out));

    assert_string_equal(out, "inc-20261122-database-down");
}

static void
chat_channel_name__day_inside_the_day(void **state)
{
    char out[CHAT_CHANNEL_NAME_MAX + 1];

    (void)state;

    chat_channel_name("inc", DAY_20261122 + 23 * 3600000LL, "api 500s", 0,
                      out, sizeof(out));

    assert_string_equal(out, "inc-20261122-api-500s");
}

static void
chat_channel_name__other_prefix(void **state)
{
    char out[CHAT_CHANNEL_NAME_MAX + 1];

    (void)state;

    chat_channel_name("ops", DAY_20261122, "Disk full", 0, out, sizeof(out));

    assert_string_equal(out, "ops-20261122-disk-full");
}

static void
chat_channel_name__transliterates_unicode(void **state)
{
    char out[CHAT_CHANNEL_NAME_MAX + 1];

    (void)state;

    chat_channel_name("inc", DAY_20261122, "D\xc3\xa9j\xc3\xa0 vu: Stra\xc3\x9f"
                      "e", 0, out, sizeof(out));

    assert_string_equal(out, "inc-20261122-deja-vu-strasse");
}

static void
chat_channel_name__only_cjk_and_emoji(void **state)
{
    char out[CHAT_CHANNEL_NAME_MAX + 1];

    (void)state;

    /* 数据库 (database) and U+1F525 FIRE */
    chat_channel_name("inc", DAY_20261122,
                      "\xe6\x95\xb0\xe6\x8d\xae\xe5\xba\x93 \xf0\x9f\x94\xa5",
                      0, out, sizeof(out));

    assert_string_equal(out, "inc-20261122-incident");
}

static void
chat_channel_name__empty_title(void **state)
{
    char out[CHAT_CHANNEL_NAME_MAX + 1];

    (void)state;

    chat_channel_name("inc", DAY_20261122, "", 0, out, sizeof(out));

    assert_string_equal(out, "inc-20261122-incident");
}

static void
chat_channel_name__punctuation_collapses(void **state)
{
    char out[CHAT_CHANNEL_NAME_MAX + 1];

    (void)state;

    chat_channel_name("inc", DAY_20261122, "  --Payments   API // 502!!  ", 0,
                      out, sizeof(out));

    assert_string_equal(out, "inc-20261122-payments-api-502");
}

static void
chat_channel_name__long_title_truncated(void **state)
{
    char title[301];
    char out[CHAT_CHANNEL_NAME_MAX + 1];

    (void)state;
    /* "abcd " repeated: a separator every fifth character */
    for (size_t i = 0; i < 300; i++)
        title[i] = i % 5 == 4 ? ' ' : (char)('a' + i % 5);
    title[300] = '\0';

    chat_channel_name("inc", DAY_20261122, title, 0, out, sizeof(out));

    assert_channel_chars(out);
    assert_true(strlen(out) <= CHAT_CHANNEL_NAME_MAX);
    assert_int_equal(strncmp(out, "inc-20261122-abcd-abcd", 22), 0);
}

static void
chat_channel_name__long_title_no_separators(void **state)
{
    char title[301];
    char out[CHAT_CHANNEL_NAME_MAX + 1];

    (void)state;
    memset(title, 'x', 300);
    title[300] = '\0';

    chat_channel_name("inc", DAY_20261122, title, 0, out, sizeof(out));

    assert_channel_chars(out);
    assert_int_equal(strlen(out), CHAT_CHANNEL_NAME_MAX);
}

static void
chat_channel_name__truncation_drops_trailing_dash(void **state)
{
    /* the slug is cut at 67 bytes, which lands right after a separator:
     * 66 letters, then '-' at index 66 */
    char title[128];
    char out[CHAT_CHANNEL_NAME_MAX + 1];

    (void)state;
    memset(title, 'a', 66);
    memcpy(title + 66, " bbbbbbbbbb", 12);

    chat_channel_name("inc", DAY_20261122, title, 0, out, sizeof(out));

    assert_channel_chars(out);
    assert_int_equal(strlen(out), 13 + 66);
}

static void
chat_channel_name__suffix(void **state)
{
    char out[CHAT_CHANNEL_NAME_MAX + 1];

    (void)state;

    chat_channel_name("inc", DAY_20261122, "Database down!", 2, out,
                      sizeof(out));

    assert_string_equal(out, "inc-20261122-database-down-2");
}

static void
chat_channel_name__suffix_one_omitted(void **state)
{
    char out[CHAT_CHANNEL_NAME_MAX + 1];

    (void)state;

    chat_channel_name("inc", DAY_20261122, "Database down!", 1, out,
                      sizeof(out));

    assert_string_equal(out, "inc-20261122-database-down");
}

static void
chat_channel_name__suffix_on_long_title(void **state)
{
    char title[301];
    char out[CHAT_CHANNEL_NAME_MAX + 1];
    size_t len;

    (void)state;
    for (size_t i = 0; i < 300; i++)
        title[i] = i % 7 == 6 ? ' ' : 'q';
    title[300] = '\0';

    chat_channel_name("inc", DAY_20261122, title, 2, out, sizeof(out));

    len = strlen(out);
    assert_channel_chars(out);
    assert_true(len <= CHAT_CHANNEL_NAME_MAX);
    assert_true(len >= 2);
    assert_string_equal(out + len - 2, "-2");
}

static void
chat_channel_name__suffix_large_on_long_title(void **state)
{
    char title[301];
    char out[CHAT_CHANNEL_NAME_MAX + 1];
    size_t len;

    (void)state;
    memset(title, 'z', 300);
    title[300] = '\0';

    chat_channel_name("inc", DAY_20261122, title, 12345, out, sizeof(out));

    len = strlen(out);
    assert_channel_chars(out);
    assert_int_equal(len, CHAT_CHANNEL_NAME_MAX);
    assert_string_equal(out + len - 6, "-12345");
}

static void
chat_channel_name__invalid_utf8(void **state)
{
    char out[CHAT_CHANNEL_NAME_MAX + 1];

    (void)state;

    chat_channel_name("inc", DAY_20261122, "\xff\xfe abc", 0, out,
                      sizeof(out));

    assert_channel_chars(out);
    assert_string_equal(out, "inc-20261122-abc");
}

static void
chat_channel_name__truncated_utf8_sequence(void **state)
{
    char out[CHAT_CHANNEL_NAME_MAX + 1];

    (void)state;

    /* "db" then the first two bytes of a three-byte character */
    chat_channel_name("inc", DAY_20261122, "db \xe6\x95", 0, out, sizeof(out));

    assert_channel_chars(out);
    assert_string_equal(out, "inc-20261122-db");
}

/* The transliteration buffer is 512 bytes: 511 ASCII bytes fill it exactly,
 * and the invalid bytes after them must not be written past its end. */
static void
chat_channel_name__invalid_bytes_after_full_buffer(void **state)
{
    char title[1200];
    char out[CHAT_CHANNEL_NAME_MAX + 1];

    (void)state;
    memset(title, 'a', 511);
    memset(title + 511, 0xff, 600);
    title[1111] = '\0';

    chat_channel_name("inc", DAY_20261122, title, 0, out, sizeof(out));

    assert_channel_chars(out);
    assert_int_equal(strlen(out), CHAT_CHANNEL_NAME_MAX);
    assert_int_equal(strncmp(out, "inc-20261122-aaaa", 17), 0);
}

static void
chat_channel_name__mass_mention(void **state)
{
    char out[CHAT_CHANNEL_NAME_MAX + 1];

    (void)state;

    chat_channel_name("inc", DAY_20261122, "<!channel> @here", 0, out,
                      sizeof(out));

    assert_channel_chars(out);
    assert_null(strchr(out, '<'));
    assert_null(strchr(out, '!'));
    assert_null(strchr(out, '@'));
    assert_string_equal(out, "inc-20261122-channel-here");
}

/* --- chat_msg builders and chat_msg_plain --- */

static void
chat_msg_init__empty(void **state)
{
    struct chat_msg m;
    struct strbuf sb;
    int rc;

    (void)state;
    memset(&m, 0xa5, sizeof(m));
    chat_msg_init(&m);
    strbuf_init(&sb, 0);

    rc = chat_msg_plain(&m, &sb);

    assert_int_equal(rc, BOT_OK);
    assert_int_equal(m.n, 0);
    assert_int_equal(m.err, BOT_OK);
    assert_string_equal(strbuf_str(&sb), "");
    strbuf_cleanup(&sb);
    chat_msg_cleanup(&m);
}

static void
chat_msg_text__formats(void **state)
{
    struct chat_msg m;
    struct strbuf sb;
    int rc;

    (void)state;
    chat_msg_init(&m);
    strbuf_init(&sb, 0);

    rc = chat_msg_text(&m, "incident #%d is %s", 42, "open");

    assert_int_equal(rc, BOT_OK);
    assert_int_equal(m.n, 1);
    assert_int_equal(m.spans[0].kind, CHAT_SPAN_TEXT);
    assert_null(m.spans[0].url);
    assert_int_equal(chat_msg_plain(&m, &sb), BOT_OK);
    assert_string_equal(strbuf_str(&sb), "incident #42 is open");
    strbuf_cleanup(&sb);
    chat_msg_cleanup(&m);
}

static void
chat_msg_bold__plain_has_no_markup(void **state)
{
    struct chat_msg m;
    struct strbuf sb;
    int rc;

    (void)state;
    chat_msg_init(&m);
    strbuf_init(&sb, 0);

    rc = chat_msg_bold(&m, "SEV%d", 1);

    assert_int_equal(rc, BOT_OK);
    assert_int_equal(m.spans[0].kind, CHAT_SPAN_BOLD);
    assert_int_equal(chat_msg_plain(&m, &sb), BOT_OK);
    assert_string_equal(strbuf_str(&sb), "SEV1");
    strbuf_cleanup(&sb);
    chat_msg_cleanup(&m);
}

static void
chat_msg_code__verbatim(void **state)
{
    struct chat_msg m;
    struct strbuf sb;
    int rc;

    (void)state;
    chat_msg_init(&m);
    strbuf_init(&sb, 0);

    rc = chat_msg_code(&m, "SELECT 1; -- %s");

    assert_int_equal(rc, BOT_OK);
    assert_int_equal(m.spans[0].kind, CHAT_SPAN_CODE);
    assert_int_equal(chat_msg_plain(&m, &sb), BOT_OK);
    assert_string_equal(strbuf_str(&sb), "SELECT 1; -- %s");
    strbuf_cleanup(&sb);
    chat_msg_cleanup(&m);
}

static void
chat_msg_user__at_id(void **state)
{
    struct chat_msg m;
    struct strbuf sb;
    int rc;

    (void)state;
    chat_msg_init(&m);
    strbuf_init(&sb, 0);

    rc = chat_msg_user(&m, "U123ABC");

    assert_int_equal(rc, BOT_OK);
    assert_int_equal(m.spans[0].kind, CHAT_SPAN_USER);
    assert_string_equal(m.spans[0].text, "U123ABC");
    assert_int_equal(chat_msg_plain(&m, &sb), BOT_OK);
    assert_string_equal(strbuf_str(&sb), "@U123ABC");
    strbuf_cleanup(&sb);
    chat_msg_cleanup(&m);
}

static void
chat_msg_room__hash_name(void **state)
{
    struct chat_msg m;
    struct strbuf sb;
    int rc;

    (void)state;
    chat_msg_init(&m);
    strbuf_init(&sb, 0);

    rc = chat_msg_room(&m, "C0ROOM", "inc-20261122-database-down");

    assert_int_equal(rc, BOT_OK);
    assert_int_equal(m.spans[0].kind, CHAT_SPAN_ROOM);
    assert_string_equal(m.spans[0].text, "C0ROOM");
    assert_string_equal(m.spans[0].url, "inc-20261122-database-down");
    assert_int_equal(chat_msg_plain(&m, &sb), BOT_OK);
    assert_string_equal(strbuf_str(&sb), "#inc-20261122-database-down");
    strbuf_cleanup(&sb);
    chat_msg_cleanup(&m);
}

static void
chat_msg_room__null_name_uses_id(void **state)
{
    struct chat_msg m;
    struct strbuf sb;
    int rc;

    (void)state;
    chat_msg_init(&m);
    strbuf_init(&sb, 0);

    rc = chat_msg_room(&m, "!abc:example.org", NULL);

    assert_int_equal(rc, BOT_OK);
    assert_int_equal(chat_msg_plain(&m, &sb), BOT_OK);
    assert_string_equal(strbuf_str(&sb), "#!abc:example.org");
    strbuf_cleanup(&sb);
    chat_msg_cleanup(&m);
}

static void
chat_msg_link__label_and_url(void **state)
{
    struct chat_msg m;
    struct strbuf sb;
    int rc;

    (void)state;
    chat_msg_init(&m);
    strbuf_init(&sb, 0);

    rc = chat_msg_link(&m, "https://status.example.org/", "status page");

    assert_int_equal(rc, BOT_OK);
    assert_int_equal(m.spans[0].kind, CHAT_SPAN_LINK);
    assert_string_equal(m.spans[0].text, "status page");
    assert_string_equal(m.spans[0].url, "https://status.example.org/");
    assert_int_equal(chat_msg_plain(&m, &sb), BOT_OK);
    assert_string_equal(strbuf_str(&sb),
                        "status page (https://status.example.org/)");
    strbuf_cleanup(&sb);
    chat_msg_cleanup(&m);
}

static void
chat_msg_link__no_label_shows_url_once(void **state)
{
    struct chat_msg m;
    struct strbuf sb;
    int rc;

    (void)state;
    chat_msg_init(&m);
    strbuf_init(&sb, 0);

    rc = chat_msg_link(&m, "https://example.org/", NULL);

    assert_int_equal(rc, BOT_OK);
    assert_int_equal(chat_msg_plain(&m, &sb), BOT_OK);
    assert_string_equal(strbuf_str(&sb), "https://example.org/");
    strbuf_cleanup(&sb);
    chat_msg_cleanup(&m);
}

static void
chat_msg_nl__newline(void **state)
{
    struct chat_msg m;
    struct strbuf sb;
    int rc;

    (void)state;
    chat_msg_init(&m);
    strbuf_init(&sb, 0);
    assert_int_equal(chat_msg_text(&m, "a"), BOT_OK);

    rc = chat_msg_nl(&m);

    assert_int_equal(rc, BOT_OK);
    assert_int_equal(m.n, 2);
    assert_int_equal(m.spans[1].kind, CHAT_SPAN_NEWLINE);
    assert_int_equal(chat_msg_plain(&m, &sb), BOT_OK);
    assert_string_equal(strbuf_str(&sb), "a\n");
    strbuf_cleanup(&sb);
    chat_msg_cleanup(&m);
}

static void
chat_msg_plain__mixed_message(void **state)
{
    struct chat_msg m;
    struct strbuf sb;
    int rc;

    (void)state;
    chat_msg_init(&m);
    strbuf_init(&sb, 0);
    chat_msg_bold(&m, "Incident %d", 7);
    chat_msg_text(&m, " declared by ");
    chat_msg_user(&m, "U1");
    chat_msg_text(&m, " in ");
    chat_msg_room(&m, "C1", "inc-20261122-db");
    chat_msg_nl(&m);
    chat_msg_text(&m, "Runbook: ");
    chat_msg_link(&m, "https://wiki/db", "db runbook");
    chat_msg_nl(&m);
    chat_msg_code(&m, "<!channel>");
    assert_int_equal(m.err, BOT_OK);

    rc = chat_msg_plain(&m, &sb);

    assert_int_equal(rc, BOT_OK);
    assert_int_equal(m.n, 10);
    assert_string_equal(strbuf_str(&sb),
                        "Incident 7 declared by @U1 in #inc-20261122-db\n"
                        "Runbook: db runbook (https://wiki/db)\n"
                        "<!channel>");
    strbuf_cleanup(&sb);
    chat_msg_cleanup(&m);
}

static void
chat_msg_plain__appends(void **state)
{
    struct chat_msg m;
    struct strbuf sb;
    int rc;

    (void)state;
    chat_msg_init(&m);
    strbuf_init(&sb, 0);
    strbuf_puts(&sb, "> ");
    chat_msg_text(&m, "hello");

    rc = chat_msg_plain(&m, &sb);

    assert_int_equal(rc, BOT_OK);
    assert_string_equal(strbuf_str(&sb), "> hello");
    strbuf_cleanup(&sb);
    chat_msg_cleanup(&m);
}

static void
chat_msg_text__grows_past_initial_capacity(void **state)
{
    struct chat_msg m;
    struct strbuf sb;
    int rc = BOT_OK;

    (void)state;
    chat_msg_init(&m);
    strbuf_init(&sb, 0);

    for (int i = 0; i < 100 && !rc; i++)
        rc = chat_msg_text(&m, "%d,", i % 10);

    assert_int_equal(rc, BOT_OK);
    assert_int_equal(m.n, 100);
    assert_true(m.cap >= 100);
    assert_int_equal(chat_msg_plain(&m, &sb), BOT_OK);
    assert_int_equal(sb.len, 200);
    assert_int_equal(strncmp(strbuf_str(&sb), "0,1,2,3,4,5,6,7,8,9,0,", 22),
                     0);
    strbuf_cleanup(&sb);
    chat_msg_cleanup(&m);
}

static void
chat_msg_cleanup__resets(void **state)
{
    struct chat_msg m;

    (void)state;
    chat_msg_init(&m);
    chat_msg_text(&m, "x");
    chat_msg_link(&m, "https://a", "b");

    chat_msg_cleanup(&m);

    assert_null(m.spans);
    assert_int_equal(m.n, 0);
    assert_int_equal(m.cap, 0);
    assert_int_equal(m.err, BOT_OK);
}

/* --- out of memory --- */

static void
chat_msg_text__enomem_sticky(void **state)
{
    struct chat_msg m;
    struct strbuf sb;
    int rc;

    (void)state;
    chat_msg_init(&m);
    assert_int_equal(chat_msg_text(&m, "before"), BOT_OK);
    mem_fail_after(0, 1);

    rc = chat_msg_text(&m, "lost %d", 1);

    mem_fail_after(-1, 0);
    assert_int_equal(rc, BOT_ENOMEM);
    assert_int_equal(m.err, BOT_ENOMEM);
    assert_int_equal(m.n, 1);
    /* sticky: later calls fail without allocating, even with memory back */
    assert_int_equal(chat_msg_text(&m, "after"), BOT_ENOMEM);
    assert_int_equal(chat_msg_user(&m, "U1"), BOT_ENOMEM);
    assert_int_equal(chat_msg_room(&m, "C1", "room"), BOT_ENOMEM);
    assert_int_equal(chat_msg_link(&m, "https://a", "b"), BOT_ENOMEM);
    assert_int_equal(chat_msg_nl(&m), BOT_ENOMEM);
    assert_int_equal(m.err, BOT_ENOMEM);
    assert_int_equal(m.n, 1);
    strbuf_init(&sb, 0);
    assert_int_equal(chat_msg_plain(&m, &sb), BOT_OK);
    assert_string_equal(strbuf_str(&sb), "before");
    strbuf_cleanup(&sb);
    chat_msg_cleanup(&m);
}

static void
chat_msg_bold__enomem(void **state)
{
    struct chat_msg m;
    int rc;

    (void)state;
    chat_msg_init(&m);
    mem_fail_after(0, 1);

    rc = chat_msg_bold(&m, "x");

    mem_fail_after(-1, 0);
    assert_int_equal(rc, BOT_ENOMEM);
    assert_int_equal(m.err, BOT_ENOMEM);
    assert_int_equal(m.n, 0);
    assert_int_equal(chat_msg_bold(&m, "y"), BOT_ENOMEM);
    chat_msg_cleanup(&m);
}

static void
chat_msg_code__enomem(void **state)
{
    struct chat_msg m;
    int rc;

    (void)state;
    chat_msg_init(&m);
    mem_fail_after(0, 1);

    rc = chat_msg_code(&m, "x");

    mem_fail_after(-1, 0);
    assert_int_equal(rc, BOT_ENOMEM);
    assert_int_equal(m.err, BOT_ENOMEM);
    assert_int_equal(m.n, 0);
    chat_msg_cleanup(&m);
}

static void
chat_msg_user__enomem(void **state)
{
    struct chat_msg m;
    int rc;

    (void)state;
    chat_msg_init(&m);
    mem_fail_after(0, 1);

    rc = chat_msg_user(&m, "U1");

    mem_fail_after(-1, 0);
    assert_int_equal(rc, BOT_ENOMEM);
    assert_int_equal(m.err, BOT_ENOMEM);
    assert_int_equal(m.n, 0);
    assert_int_equal(chat_msg_user(&m, "U2"), BOT_ENOMEM);
    chat_msg_cleanup(&m);
}

static void
chat_msg_room__enomem_each_allocation(void **state)
{
    (void)state;

    /* allocation 0: the name copy, 1: the id copy, 2: the span array */
    for (long n = 0; n < 3; n++) {
        struct chat_msg m;
        int rc;

        chat_msg_init(&m);
        mem_fail_after(n, 1);

        rc = chat_msg_room(&m, "C1", "room");

        mem_fail_after(-1, 0);
        assert_int_equal(rc, BOT_ENOMEM);
        assert_int_equal(m.err, BOT_ENOMEM);
        assert_int_equal(m.n, 0);
        assert_int_equal(chat_msg_room(&m, "C2", "room2"), BOT_ENOMEM);
        chat_msg_cleanup(&m);
    }
}

static void
chat_msg_link__enomem_each_allocation(void **state)
{
    (void)state;

    /* allocation 0: the url copy, 1: the label copy, 2: the span array */
    for (long n = 0; n < 3; n++) {
        struct chat_msg m;
        int rc;

        chat_msg_init(&m);
        mem_fail_after(n, 1);

        rc = chat_msg_link(&m, "https://a", "label");

        mem_fail_after(-1, 0);
        assert_int_equal(rc, BOT_ENOMEM);
        assert_int_equal(m.err, BOT_ENOMEM);
        assert_int_equal(m.n, 0);
        chat_msg_cleanup(&m);
    }
}

static void
chat_msg_nl__enomem(void **state)
{
    struct chat_msg m;
    int rc;

    (void)state;
    chat_msg_init(&m);
    mem_fail_after(0, 1);

    rc = chat_msg_nl(&m);

    mem_fail_after(-1, 0);
    assert_int_equal(rc, BOT_ENOMEM);
    assert_int_equal(m.err, BOT_ENOMEM);
    assert_int_equal(m.n, 0);
    chat_msg_cleanup(&m);
}

static void
chat_msg_text__enomem_on_span_array_growth(void **state)
{
    struct chat_msg m;
    int rc = BOT_OK;

    (void)state;
    chat_msg_init(&m);
    for (int i = 0; i < 8 && !rc; i++)
        rc = chat_msg_text(&m, "%d", i);
    assert_int_equal(rc, BOT_OK);
    assert_int_equal(m.cap, 8);
    /* allocation 0: the text copy succeeds; 1: growing the array fails */
    mem_fail_after(1, 0);

    rc = chat_msg_text(&m, "ninth");

    mem_fail_after(-1, 0);
    assert_int_equal(rc, BOT_ENOMEM);
    assert_int_equal(m.err, BOT_ENOMEM);
    assert_int_equal(m.n, 8);
    assert_string_equal(m.spans[7].text, "7");
    chat_msg_cleanup(&m);
}

/* --- user text --- */

static char *
cleaned(const char *s, size_t len, int flags)
{
    struct strbuf sb;

    strbuf_init(&sb, 0);
    assert_int_equal(chat_text_clean(&sb, s, len, flags), BOT_OK);
    return strbuf_steal(&sb);
}

static char *
shown(const char *s, int flags)
{
    struct strbuf sb;

    strbuf_init(&sb, 0);
    assert_int_equal(chat_text_show(&sb, s, flags), BOT_OK);
    return strbuf_steal(&sb);
}

static void
chat_text_clean__drops_controls_bidi_and_zero_width(void **state)
{
    /* ESC sequences, OSC with BEL, C1 CSI (U+009B), RLO (U+202E), an isolate
     * (U+2066), LRM (U+200E), ZWSP (U+200B), BOM (U+FEFF) */
    static const char in[] = "a\x1b]0;x\x07\x1b[2J b\xc2\x9b" "31m c"
                             "\xe2\x80\xae" "d\xe2\x81\xa6" "e\xe2\x80\x8e"
                             "f\xe2\x80\x8bg\xef\xbb\xbfh";
    char *s = cleaned(in, strlen(in), 0);

    (void)state;
    assert_string_equal(s, "a]0;x[2J b31m cdefgh");
    bot_free(s);
}

static void
chat_text_clean__keeps_the_whole_line_past_a_nul(void **state)
{
    static const char in[] = "before\0after";
    char *s = cleaned(in, sizeof(in) - 1, 0);

    (void)state;
    assert_string_equal(s, "beforeafter");
    bot_free(s);
}

static void
chat_text_clean__line_breaks_tabs_and_joiners(void **state)
{
    /* CR LF, CR, U+2028 are breaks; ZWJ inside an emoji sequence stays */
    static const char in[] = "one\r\ntwo\rthree\xe2\x80\xa8" "four\tfive "
                             "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb";
    char *m = cleaned(in, strlen(in), CHAT_TEXT_MULTILINE);
    char *o = cleaned(in, strlen(in), 0);

    (void)state;
    assert_string_equal(m, "one\ntwo\nthree\nfour five "
                           "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb");
    assert_string_equal(o, "one two three four five "
                           "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb");
    bot_free(m);
    bot_free(o);
}

static void
chat_text_clean__invalid_utf8_becomes_replacement(void **state)
{
    /* a stray continuation, an overlong '/', a surrogate, a cut sequence */
    static const char in[] = "a\x80" "b\xc0\xaf" "c\xed\xa0\x80" "d\xe2\x82";
    char *s = cleaned(in, strlen(in), 0);

    (void)state;
    assert_string_equal(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd"
                           "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                           "d\xef\xbf\xbd\xef\xbf\xbd");
    bot_free(s);
}

static void
chat_text_visible__zero_width_and_blanks_are_not(void **state)
{
    (void)state;
    assert_false(chat_text_visible(""));
    assert_false(chat_text_visible(" \t\n"));
    /* ZWJ, ZWNJ, ZWSP, word joiner, BOM, NBSP, ideographic space, VS16 */
    assert_false(chat_text_visible("\xe2\x80\x8d\xe2\x80\x8c\xe2\x80\x8b"
                                   "\xe2\x81\xa0\xef\xbb\xbf\xc2\xa0"
                                   "\xe3\x80\x80\xef\xb8\x8f"));
    assert_false(chat_text_visible("\xe2\x80\xae\xe2\x81\xa6")); /* bidi */
    assert_true(chat_text_visible("\xe2\x80\x8bx"));
    assert_true(chat_text_visible("\xf0\x9f\x93\x8c")); /* a pushpin */
}

static void
chat_text_show__replaces_what_clean_drops(void **state)
{
    char *s = shown("a\x1b[2Jb\xc2\x9b" "c\xe2\x80\xae" "d\x07\te\nf", 0);
    char *m = shown("e\nf\x7f", CHAT_TEXT_MULTILINE);

    (void)state;
    assert_string_equal(s, "a\xef\xbf\xbd[2Jb\xef\xbf\xbd" "c\xef\xbf\xbd"
                           "d\xef\xbf\xbd e f");
    assert_string_equal(m, "e\nf\xef\xbf\xbd");
    bot_free(s);
    bot_free(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chat_channel_name__ascii_title),
        cmocka_unit_test(chat_channel_name__day_inside_the_day),
        cmocka_unit_test(chat_channel_name__other_prefix),
        cmocka_unit_test(chat_channel_name__transliterates_unicode),
        cmocka_unit_test(chat_channel_name__only_cjk_and_emoji),
        cmocka_unit_test(chat_channel_name__empty_title),
        cmocka_unit_test(chat_channel_name__punctuation_collapses),
        cmocka_unit_test(chat_channel_name__long_title_truncated),
        cmocka_unit_test(chat_channel_name__long_title_no_separators),
        cmocka_unit_test(chat_channel_name__truncation_drops_trailing_dash),
        cmocka_unit_test(chat_channel_name__suffix),
        cmocka_unit_test(chat_channel_name__suffix_one_omitted),
        cmocka_unit_test(chat_channel_name__suffix_on_long_title),
        cmocka_unit_test(chat_channel_name__suffix_large_on_long_title),
        cmocka_unit_test(chat_channel_name__invalid_utf8),
        cmocka_unit_test(chat_channel_name__truncated_utf8_sequence),
        cmocka_unit_test(chat_channel_name__mass_mention),
        cmocka_unit_test(chat_msg_init__empty),
        cmocka_unit_test(chat_msg_text__formats),
        cmocka_unit_test(chat_msg_bold__plain_has_no_markup),
        cmocka_unit_test(chat_msg_code__verbatim),
        cmocka_unit_test(chat_msg_user__at_id),
        cmocka_unit_test(chat_msg_room__hash_name),
        cmocka_unit_test(chat_msg_room__null_name_uses_id),
        cmocka_unit_test(chat_msg_link__label_and_url),
        cmocka_unit_test(chat_msg_link__no_label_shows_url_once),
        cmocka_unit_test(chat_msg_nl__newline),
        cmocka_unit_test(chat_msg_plain__mixed_message),
        cmocka_unit_test(chat_msg_plain__appends),
        cmocka_unit_test(chat_msg_text__grows_past_initial_capacity),
        cmocka_unit_test(chat_msg_cleanup__resets),
        cmocka_unit_test(chat_msg_text__enomem_sticky),
        cmocka_unit_test(chat_msg_bold__enomem),
        cmocka_unit_test(chat_msg_code__enomem),
        cmocka_unit_test(chat_msg_user__enomem),
        cmocka_unit_test(chat_msg_room__enomem_each_allocation),
        cmocka_unit_test(chat_msg_link__enomem_each_allocation),
        cmocka_unit_test(chat_msg_nl__enomem),
        cmocka_unit_test(chat_msg_text__enomem_on_span_array_growth),
        cmocka_unit_test(chat_text_clean__drops_controls_bidi_and_zero_width),
        cmocka_unit_test(chat_text_clean__keeps_the_whole_line_past_a_nul),
        cmocka_unit_test(chat_text_clean__line_breaks_tabs_and_joiners),
        cmocka_unit_test(chat_text_clean__invalid_utf8_becomes_replacement),
        cmocka_unit_test(chat_text_visible__zero_width_and_blanks_are_not),
        cmocka_unit_test(chat_text_show__replaces_what_clean_drops),
        /* last: on the current code it trips ASan and ends the binary */
        cmocka_unit_test(chat_channel_name__invalid_bytes_after_full_buffer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
