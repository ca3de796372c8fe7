/*
 * test_report.c - the post-mortem document: section order, tables that
 * hostile text cannot break, and HTML escaping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "err.h"
#include "mem.h"
#include "report.h"
#include "store.h"
#include "strbuf.h"

#include <string.h>

#define T0 1793507880000LL /* 2026-11-01T04:38:00Z */
#define MIN 60000LL

static struct store *
fixture(void)
{
    struct store *s = NULL;
    struct incident in = {0};
    struct timeline_entry e = {0};
    struct action a = {0};
    int64_t id;

    assert_int_equal(store_open(":memory:", 0, &s, NULL), BOT_OK);
    in.title = "Bridge | drained";
    in.severity = 0;
    in.platform = "terminal";
    in.channel = "C1";
    in.channel_name = "inc-20261101-bridge-drained";
    in.declared_at = T0;
    assert_int_equal(store_incident_insert(s, &in, &id), BOT_OK);
    e.incident_id = id;
    e.created_at = T0;
    e.kind = TIMELINE_TAGGED;
    e.at = T0 + 5 * MIN;
    e.text = "attacker tx | 0xdead\nsecond line <script>";
    e.msg_room = "C1";
    e.msg_id = "1";
    assert_int_equal(store_timeline_add(s, &e, NULL), BOT_OK);
    e.kind = TIMELINE_AUTO;
    e.at = T0;
    e.text = "Incident declared (SEV0): Bridge | drained";
    e.msg_room = e.msg_id = NULL;
    assert_int_equal(store_timeline_add(s, &e, NULL), BOT_OK);
    e.kind = TIMELINE_BACKFILL;
    e.at = T0 - 30 * MIN;
    e.text = "- looks like a list item";
    assert_int_equal(store_timeline_add(s, &e, NULL), BOT_OK);
    a.incident_id = id;
    a.text = "Pause | unpause runbook";
    a.assignee = "bob";
    a.due_date = "2026-11-10";
    a.created_at = T0;
    assert_int_equal(store_action_add(s, &a, NULL), BOT_OK);
    assert_int_equal(store_incident_resolve(s, id, T0 + 90 * MIN), BOT_OK);
    return s;
}

static char *
render(struct store *s, int format, int64_t now)
{
    struct strbuf out;

    strbuf_init(&out, 0);
    assert_int_equal(report_render(s, 1, format, now, &out), BOT_OK);
    return strbuf_steal(&out);
}

static void
report_render__sections_in_order(void **state)
{
    struct store *s = fixture();
    char *doc = render(s, REPORT_MD, T0);
    const char *order[] = {"# Post-mortem: INC-1 Bridge \\| drained",
                           "## 1. Incident Timeline",
                           "## 2. Root Cause",
                           "## 3. Worked Well",
                           "## 4. Could Be Better",
                           "## 5. Follow-Up Actions",
                           "## Security Layers"};
    const char *at = doc;

    (void)state;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        const char *next = strstr(at, order[i]);

        if (!next)
            fail_msg("missing or out of order: %s", order[i]);
        at = next;
    }
    bot_free(doc);
    store_close(s);
}

static void
report_render__timeline_oldest_first_and_tables_unbreakable(void **state)
{
    struct store *s = fixture();
    char *doc = render(s, REPORT_MD, T0);
    const char *tl = strstr(doc, "| Time (UTC) | Description |");
    const char *first, *second, *third;

    (void)state;
    assert_non_null(tl);
    first = strstr(tl, "| 2026-11-01 04:08 | \\- looks like a list item |");
    second = strstr(tl, "| 2026-11-01 04:38 | Incident declared (SEV0): "
                        "Bridge \\| drained |");
    third = strstr(tl, "| 2026-11-01 04:43 | attacker tx \\| 0xdead<br>second"
                       " line \\<script\\> |");
    assert_non_null(first);
    assert_non_null(second);
    assert_non_null(third);
    assert_true(first < second && second < third);
    /* every table row has exactly its columns */
    for (const char *line = tl; line && *line == '|';) {
        int bars = 0;
        const char *end = strchr(line, '\n');

        for (const char *p = line; p < end; p++)
            if (*p == '|' && p[-1] != '\\')
                bars++;
        assert_int_equal(bars, 3);
        line = end + 1;
    }
    bot_free(doc);
    store_close(s);
}

static void
report_render__action_status_follows_the_clock(void **state)
{
    struct store *s = fixture();
    char *before = render(s, REPORT_MD, T0);
    char *after = render(s, REPORT_MD, T0 + 30LL * 24 * 60 * MIN);

    (void)state;
    assert_non_null(strstr(before, "| ACT-1 Pause \\| unpause runbook | @bob "
                                   "| 2026-11-10 | Open |"));
    assert_non_null(strstr(after, "| 2026-11-10 | Overdue |"));
    assert_int_equal(store_action_complete(s, 1, T0 + MIN, "bob"), BOT_OK);
    bot_free(after);
    after = render(s, REPORT_MD, T0 + 30LL * 24 * 60 * MIN);
    assert_non_null(strstr(after, "| 2026-11-10 | Done 2026-11-01 |"));
    /* SEV0 gets the security-layers analysis */
    assert_non_null(strstr(after, "Not yet assessed"));
    bot_free(before);
    bot_free(after);
    store_close(s);
}

static void
report_render__html_escapes_everything(void **state)
{
    struct store *s = fixture();
    char *doc = render(s, REPORT_HTML, T0);

    (void)state;
    assert_non_null(strstr(doc, "<title>Post-mortem: INC-1 Bridge | "
                                "drained</title>"));
    assert_non_null(strstr(doc, "second line &lt;script&gt;"));
    assert_null(strstr(doc, "<script>"));
    assert_non_null(strstr(doc, "<h2>1. Incident Timeline</h2>"));
    assert_non_null(strstr(doc, "</body></html>"));
    bot_free(doc);
    store_close(s);
}

static void
report_render__unknown_incident(void **state)
{
    struct store *s = fixture();
    struct strbuf out;

    (void)state;
    strbuf_init(&out, 0);
    assert_int_equal(report_render(s, 42, REPORT_MD, T0, &out),
                     BOT_ENOTFOUND);
    assert_int_equal(out.len, 0);
    strbuf_cleanup(&out);
    store_close(s);
}

static void
report_md_escape__markup_and_control_characters(void **state)
{
    struct strbuf out;

    (void)state;
    strbuf_init(&out, 0);
    report_md_escape(&out, "*bold* _it_ `code` [l](u) a|b \\ <b> &amp;\r\n\x01"
                           "#x");
    assert_string_equal(strbuf_str(&out),
                        "\\*bold\\* \\_it\\_ \\`code\\` \\[l\\](u) a\\|b \\\\ "
                        "\\<b\\> \\&amp;<br>\xef\xbf\xbd#x");
    strbuf_reset(&out);
    report_md_escape(&out, "# not a heading");
    assert_string_equal(strbuf_str(&out), "\\# not a heading");
    strbuf_cleanup(&out);
}

/* no_controls - not one byte of a terminal escape or a bidi override */
static void
no_controls(const char *doc)
{
    for (const unsigned char *p = (const unsigned char *)doc; *p; p++)
        assert_true(*p >= 0x20 || *p == '\n');
    assert_null(strstr(doc, "\xc2\x9b"));     /* C1 CSI */
    assert_null(strstr(doc, "\xe2\x80\xae")); /* RLO */
    assert_null(strstr(doc, "\xe2\x81\xa6")); /* LRI */
}

/* hostile - an incident written by an older pmbot, straight to the store:
 * nothing was cleaned on the way in */
static struct store *
hostile(void)
{
    struct store *s = NULL;
    struct incident in = {0};
    struct timeline_entry e = {0};
    struct action a = {0};
    int64_t id;

    assert_int_equal(store_open(":memory:", 0, &s, NULL), BOT_OK);
    in.title = "DB\x1b]0;owned\x07\x1b[2J down\xc2\x9b" "31m";
    in.severity = 1;
    in.platform = "terminal";
    in.declared_at = T0;
    assert_int_equal(store_incident_insert(s, &in, &id), BOT_OK);
    e.incident_id = id;
    e.created_at = T0;
    e.kind = TIMELINE_NOTE;
    e.at = T0;
    e.text = "evil \xe2\x80\xae" "gnp.exe\xe2\x81\xa6\r\x08\x7f";
    assert_int_equal(store_timeline_add(s, &e, NULL), BOT_OK);
    a.incident_id = id;
    a.text = "\x1b]0;x\x07\x1b[2J";
    a.assignee = "bob\x1b[8m";
    a.due_date = "2026-12-05";
    a.created_at = T0;
    assert_int_equal(store_action_add(s, &a, NULL), BOT_OK);
    return s;
}

static void
report_render__no_control_reaches_either_format(void **state)
{
    struct store *s = hostile();
    char *md = render(s, REPORT_MD, T0);
    char *html = render(s, REPORT_HTML, T0);

    (void)state;
    no_controls(md);
    no_controls(html);
    /* what was there is marked, not hidden */
    assert_non_null(strstr(md, "DB\xef\xbf\xbd\\]0;owned\xef\xbf\xbd"));
    assert_non_null(strstr(html, "<title>Post-mortem: INC-1 DB\xef\xbf\xbd]0;"
                                 "owned\xef\xbf\xbd\xef\xbf\xbd[2J down"));
    bot_free(md);
    bot_free(html);
    store_close(s);
}

static void
report_actions__the_cli_table_shows_no_control(void **state)
{
    struct store *s = hostile();
    struct action *list;
    struct strbuf out;
    size_t n;

    (void)state;
    assert_int_equal(store_action_list(s, 0, 1, &list, &n), BOT_OK);
    strbuf_init(&out, 0);
    assert_int_equal(report_actions(&out, list, n, 1, T0), BOT_OK);
    no_controls(strbuf_str(&out));
    assert_string_equal(strbuf_str(&out),
                        "ACTION   INCIDENT TARGET     STATUS   ASSIGNED TO"
                        "      TEXT\n"
                        "ACT-1    INC-1    2026-12-05 open     "
                        "@bob\xef\xbf\xbd[8m         "
                        "\xef\xbf\xbd]0;x\xef\xbf\xbd\xef\xbf\xbd[2J\n");
    strbuf_reset(&out);
    assert_int_equal(report_actions(&out, NULL, 0, 0, T0), BOT_OK);
    assert_string_equal(strbuf_str(&out), "No open follow-up actions.\n");
    strbuf_cleanup(&out);
    store_action_list_free(list, n);
    store_close(s);
}

static void
report_render__mentions_by_current_name(void **state)
{
    struct store *s = NULL;
    struct incident in = {0};
    struct timeline_entry e = {0};
    struct action a = {0};
    int64_t id;
    char *doc;

    (void)state;
    assert_int_equal(store_open(":memory:", 0, &s, NULL), BOT_OK);
    in.title = "Checkout down for <@U0ALICE>";
    in.severity = 2;
    in.platform = "slack";
    in.channel = "C0000001";
    in.channel_name = "inc-20261101-checkout";
    in.declared_at = T0;
    assert_int_equal(store_incident_insert(s, &in, &id), BOT_OK);
    e.incident_id = id;
    e.created_at = T0;
    e.kind = TIMELINE_TAGGED;
    e.at = T0;
    e.text = "<@U0ALICE> & <@U0CAROL> see <#C0000001>, <#C9|general>, <#C8>";
    assert_int_equal(store_timeline_add(s, &e, NULL), BOT_OK);
    a.incident_id = id;
    a.text = "Pair with <@U0ALICE>";
    a.assignee = "U0BOB";
    a.due_date = "2026-12-05";
    a.created_at = T0;
    assert_int_equal(store_action_add(s, &a, NULL), BOT_OK);
    assert_int_equal(store_user_put(s, "slack", "U0ALICE", "Alice", T0),
                     BOT_OK);
    assert_int_equal(store_user_put(s, "slack", "U0BOB", "Bob <b>", T0),
                     BOT_OK);
    /* renamed since: the document shows the latest name */
    assert_int_equal(store_user_put(s, "slack", "U0ALICE", "Alice Liddell",
                                    T0 + MIN),
                     BOT_OK);
    doc = render(s, REPORT_MD, T0);
    assert_non_null(strstr(doc, "# Post-mortem: INC-1 Checkout down for "
                                "@Alice Liddell\n"));
    assert_non_null(strstr(doc, "| @Alice Liddell \\& @U0CAROL see "
                                "#inc-20261101-checkout, #general, #C8 |"));
    assert_non_null(strstr(doc, "| ACT-1 Pair with @Alice Liddell | "
                                "@Bob \\<b\\> |"));
    assert_null(strstr(doc, "<@"));
    bot_free(doc);
    doc = render(s, REPORT_HTML, T0);
    assert_non_null(strstr(doc, "<td>@Bob &lt;b&gt;</td>"));
    assert_null(strstr(doc, "&lt;@U0ALICE"));
    bot_free(doc);
    store_close(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(report_render__sections_in_order),
        cmocka_unit_test(
            report_render__timeline_oldest_first_and_tables_unbreakable),
        cmocka_unit_test(report_render__action_status_follows_the_clock),
        cmocka_unit_test(report_render__html_escapes_everything),
        cmocka_unit_test(report_render__unknown_incident),
        cmocka_unit_test(report_md_escape__markup_and_control_characters),
        cmocka_unit_test(report_render__no_control_reaches_either_format),
        cmocka_unit_test(report_actions__the_cli_table_shows_no_control),
        cmocka_unit_test(report_render__mentions_by_current_name),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
