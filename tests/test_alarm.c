/*
 * test_alarm.c - the alarm intake codec against payloads shaped as the
 * senders document them (tests/fixtures/alarms, see shared/protocols.md
 * F1-F3): every field of each parser, the refusals with their reasons, the
 * severity vocabulary, JSON pointers, RFC 3339 offsets, and allocation
 * failure at every step. Fixtures are read relative to the repository root,
 * where the tests run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "alarm.h"
#include "err.h"
#include "fixture.h"
#include "mem.h"
#include "strbuf.h"

#include <stdio.h>
#include <string.h>

#define FIXTURES "tests/fixtures/alarms/"

#define T_0418   1795321080000LL /* 2026-11-22T04:18:00Z */
#define T_0420   1795321230000LL /* 2026-11-22T04:20:30Z */
#define AM_GROUP "{}:{alertname=\"DiskFull\"}"

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
/* default_map - the map built from ALARM_SEVERITY_DEFAULT. */
static struct alarm_severity_map
default_map(void)
{
    struct alarm_severity_map m;
    const char *why = NULL;

    assert_int_equal(alarm_severity_map_parse(ALARM_SEVERITY_DEFAULT, &m, &why),
                     BOT_OK);
    return m;
}

enum parser { P_AM, P_GRAFANA, P_GENERIC };

static int
run(enum parser p, const char *body, size_t len, struct alarm *a,
    const char **why)
{
    struct alarm_severity_map m = default_map();

    switch (p) {
    case P_AM:
        return alarm_parse_alertmanager(body, len, &m, a, why);
    case P_GRAFANA:
        return alarm_parse_grafana(body, len, &m, a, why);
    default:
        return alarm_parse_generic(body, len, a, why);
    }
}

/* fixture - parse a fixture that must parse. */
static void
fixture(enum parser p, const char *name, struct alarm *a)
{
    size_t len;
    char *buf = load(name, &len);
    const char *why = NULL;
    int rc = run(p, buf, len, a, &why);

    if (rc)
        fail_msg("%s: rc %d (%s)", name, rc, why ? why : "-");
    bot_free(buf);
}

/* inline_ok - parse a string body that must parse. */
static void
inline_ok(enum parser p, const char *body, struct alarm *a)
{
    const char *why = NULL;
    int rc = run(p, body, strlen(body), a, &why);

    if (rc)
        fail_msg("rc %d (%s) for %s", rc, why ? why : "-", body);
}

static void
assert_cleared(const struct alarm *a)
{
    struct alarm zero;

    memset(&zero, 0, sizeof(zero));
    assert_memory_equal(a, &zero, sizeof(zero));
}

/* refused - the body is BOT_EINVAL with exactly this reason, *out clear. */
static void
refused(enum parser p, const char *body, size_t len, const char *want)
{
    struct alarm a;
    const char *why = NULL;

    memset(&a, 0xa5, sizeof(a)); /* garbage in: the parser must clear it */
    assert_int_equal(run(p, body, len, &a, &why), BOT_EINVAL);
    assert_non_null(why);
    assert_string_equal(why, want);
    assert_cleared(&a);
    alarm_clear(&a);
}

static void
refused_fixture(enum parser p, const char *name, const char *want)
{
    size_t len;
    char *buf = load(name, &len);

    refused(p, buf, len, want);
    bot_free(buf);
}

static void
refused_inline(enum parser p, const char *body, const char *want)
{
    refused(p, body, strlen(body), want);
}

/* ---- Alertmanager ----------------------------------------------- */

static void
alarm_parse_alertmanager__firing_every_field(void **state)
{
    struct alarm a;

    (void)state;
    fixture(P_AM, "alertmanager_firing.json", &a);
    assert_string_equal(a.source, "alertmanager");
    assert_string_equal(a.title, "DiskFull");
    /* no common severity: the worst alert's (critical) */
    assert_int_equal(a.severity, 1);
    /* two alerts, no common annotation: no description */
    assert_null(a.description);
    assert_string_equal(a.dedup_key, AM_GROUP);
    assert_string_equal(a.link, "http://alertmanager:9093");
    assert_false(a.resolved);
    /* earliest start; nanoseconds cut to milliseconds */
    assert_int_equal(a.starts_at, T_0418 + 987);
    assert_int_equal(a.truncated, 0);
    assert_int_equal(a.nitems, 2);
    alarm_clear(&a);
}

static void
alarm_parse_alertmanager__two_alerts_one_alarm(void **state)
{
    struct alarm a;
    const struct alarm_item *it;

    (void)state;
    fixture(P_AM, "alertmanager_firing.json", &a);
    assert_int_equal(a.nitems, 2);
    it = &a.items[0];
    assert_string_equal(it->title, "DiskFull");
    assert_int_equal(it->severity, 1);
    assert_false(it->resolved);
    assert_int_equal(it->starts_at, T_0420 + 123);
    assert_string_equal(it->fingerprint, "c6eadffa33fcdf37");
    assert_string_equal(it->generator_url,
                        "http://prometheus:9090/graph?g0.expr=disk_used_ratio"
                        "+%3E+0.95&g0.tab=1");
    assert_string_equal(it->details,
                        "labels: alertname=DiskFull, instance=db1:9100, "
                        "job=node, severity=critical\n"
                        "annotations: summary=Disk 95% full on db1, "
                        "runbook_url=https://runbooks.example.com/disk");
    it = &a.items[1];
    assert_string_equal(it->title, "DiskFull");
    assert_int_equal(it->severity, 3);
    assert_false(it->resolved);
    assert_int_equal(it->starts_at, T_0418 + 987);
    assert_string_equal(it->fingerprint, "1a2b3c4d5e6f7a8b");
    assert_string_equal(it->details,
                        "labels: alertname=DiskFull, instance=db2:9100, "
                        "job=node, severity=warning\n"
                        "annotations: summary=Disk 91% full on db2");
    alarm_clear(&a);
}

static void
alarm_parse_alertmanager__resolved(void **state)
{
    struct alarm a;

    (void)state;
    fixture(P_AM, "alertmanager_resolved.json", &a);
    assert_string_equal(a.title, "DiskFull");
    assert_int_equal(a.severity, 3); /* commonLabels.severity "warning" */
    assert_string_equal(a.description, "Disk 91% full on db2");
    assert_string_equal(a.dedup_key, AM_GROUP);
    assert_true(a.resolved);
    assert_int_equal(a.nitems, 1);
    assert_true(a.items[0].resolved);
    assert_int_equal(a.starts_at, T_0418 + 987);
    alarm_clear(&a);
}

static void
alarm_parse_alertmanager__offset_normalised_to_utc(void **state)
{
    struct alarm a;

    (void)state;
    /* "2026-11-22T05:18:00.123456789+01:00" is 04:18:00.123 UTC */
    fixture(P_AM, "alertmanager_offset.json", &a);
    assert_int_equal(a.starts_at, T_0418 + 123);
    assert_int_equal(a.items[0].starts_at, T_0418 + 123);
    assert_string_equal(a.title, "HighLatency");
    assert_int_equal(a.severity, 1); /* "page" */
    assert_string_equal(a.description, "p99 latency above 2s");
    alarm_clear(&a);
}

static void
alarm_parse_alertmanager__mixed_status_not_resolved(void **state)
{
    struct alarm a;

    (void)state;
    inline_ok(P_AM,
              "{\"status\":\"firing\",\"groupKey\":\"g\",\"alerts\":["
              "{\"status\":\"resolved\",\"labels\":{\"alertname\":\"A\"}},"
              "{\"status\":\"firing\",\"labels\":{\"alertname\":\"B\"}}]}",
              &a);
    assert_false(a.resolved);
    assert_true(a.items[0].resolved);
    assert_false(a.items[1].resolved);
    assert_string_equal(a.items[1].title, "B");
    alarm_clear(&a);
    /* alerts without a status take the group's */
    inline_ok(P_AM,
              "{\"status\":\"resolved\",\"groupKey\":\"g\",\"alerts\":["
              "{\"labels\":{\"alertname\":\"A\"}}]}",
              &a);
    assert_true(a.resolved);
    assert_true(a.items[0].resolved);
    alarm_clear(&a);
}

static void
alarm_parse_alertmanager__common_severity_wins(void **state)
{
    struct alarm a;

    (void)state;
    inline_ok(P_AM,
              "{\"groupKey\":\"g\",\"commonLabels\":{\"alertname\":\"X\","
              "\"severity\":\"INFO\"},\"alerts\":[{\"labels\":{\"severity\":"
              "\"critical\"}}]}",
              &a);
    assert_int_equal(a.severity, 4);
    assert_int_equal(a.items[0].severity, 1);
    alarm_clear(&a);
    /* nothing known anywhere: -1, the caller's default applies */
    inline_ok(P_AM,
              "{\"groupKey\":\"g\",\"commonLabels\":{\"alertname\":\"X\","
              "\"severity\":\"bogus\"},\"alerts\":[{}]}",
              &a);
    assert_int_equal(a.severity, -1);
    assert_int_equal(a.items[0].severity, -1);
    alarm_clear(&a);
}

static void
alarm_parse_alertmanager__title_and_key_fallbacks(void **state)
{
    struct alarm a;

    (void)state;
    /* groupLabels.alertname before the first alert's */
    inline_ok(P_AM,
              "{\"groupKey\":\"g\",\"groupLabels\":{\"alertname\":\"Grp\"},"
              "\"alerts\":[{\"labels\":{\"alertname\":\"First\"}}]}",
              &a);
    assert_string_equal(a.title, "Grp");
    assert_string_equal(a.items[0].title, "First");
    alarm_clear(&a);
    /* first alert's alertname; no groupKey: first fingerprint; no
     * externalURL: first generatorURL; one alert: its summary */
    inline_ok(P_AM,
              "{\"version\":\"4\",\"alerts\":[{\"labels\":{\"alertname\":"
              "\"First\"},\"annotations\":{\"summary\":\"only one\"},"
              "\"fingerprint\":\"fp1\",\"generatorURL\":\"http://prom/g\"},"
              "{\"fingerprint\":\"fp2\"}]}",
              &a);
    assert_string_equal(a.title, "First");
    assert_string_equal(a.dedup_key, "fp1");
    assert_string_equal(a.link, "http://prom/g");
    assert_null(a.description); /* two alerts: no single summary */
    assert_string_equal(a.items[1].title, "First"); /* the alarm's */
    assert_null(a.items[1].details);
    assert_null(a.items[1].generator_url);
    alarm_clear(&a);
}

static void
alarm_parse_alertmanager__missing_title_or_key_refused(void **state)
{
    (void)state;
    refused_inline(P_AM, "{\"groupKey\":\"g\",\"alerts\":[{\"labels\":{}}]}",
                   "missing field: alertname");
    refused_inline(P_AM,
                   "{\"alerts\":[{\"labels\":{\"alertname\":\"A\"}}]}",
                   "missing field: groupKey");
}

static void
alarm_parse_alertmanager__bad_version_refused(void **state)
{
    (void)state;
    refused_inline(P_AM,
                   "{\"version\":\"3\",\"groupKey\":\"g\",\"alerts\":[{}]}",
                   "version is not \"4\"");
    refused_inline(P_AM, "{\"version\":4,\"groupKey\":\"g\",\"alerts\":[{}]}",
                   "version is not \"4\"");
}

static void
alarm_parse_alertmanager__broken_fixtures_refused(void **state)
{
    (void)state;
    refused_fixture(P_AM, "truncated.json", "not JSON");
    refused_fixture(P_AM, "wrong_types.json", "alerts is not an array");
    refused_fixture(P_AM, "missing_alerts.json", "missing field: alerts");
    refused_fixture(P_AM, "empty_alerts.json", "alerts is empty");
    refused_fixture(P_AM, "not_utf8.bin", "not valid UTF-8");
    refused_fixture(P_AM, "not_object.json", "body is not a JSON object");
    refused(P_AM, "", 0, "empty body");
}

static void
alarm_parse_alertmanager__wrong_member_types_refused(void **state)
{
    (void)state;
    refused_inline(P_AM, "{\"groupKey\":1,\"alerts\":[{}]}",
                   "groupKey is not a string");
    refused_inline(P_AM, "{\"groupKey\":\"g\",\"commonLabels\":[],"
                         "\"alerts\":[{}]}",
                   "commonLabels is not an object");
    refused_inline(P_AM, "{\"groupKey\":\"g\",\"alerts\":[7]}",
                   "alert is not an object");
    refused_inline(P_AM, "{\"groupKey\":\"g\",\"alerts\":[{\"labels\":\"x\"}]}",
                   "labels is not an object");
    refused_inline(P_AM,
                   "{\"groupKey\":\"g\",\"alerts\":[{\"startsAt\":"
                   "\"yesterday\"}]}",
                   "startsAt is not an RFC 3339 time");
    refused_inline(P_AM, "{\"groupKey\":\"g\",\"a\":1,\"a\":2,\"alerts\":[{}]}",
                   "duplicate key");
    refused_inline(P_AM, "{\"groupKey\":\"g\\u0000\",\"alerts\":[{}]}",
                   "NUL character in a string");
}

static void
alarm_parse_alertmanager__too_many_alerts_refused(void **state)
{
    struct strbuf sb;
    struct alarm a;
    const char *why = NULL;

    (void)state;
    strbuf_init(&sb, 0);
    strbuf_puts(&sb, "{\"groupKey\":\"g\",\"commonLabels\":{\"alertname\":"
                     "\"Many\"},\"alerts\":[{}");
    for (unsigned i = 1; i < ALARM_ITEMS_MAX; i++)
        strbuf_puts(&sb, ",{}");
    strbuf_puts(&sb, "]}");
    assert_int_equal(strbuf_error(&sb), BOT_OK);
    /* exactly the limit is fine */
    assert_int_equal(alarm_parse_alertmanager(strbuf_str(&sb), sb.len, NULL,
                                              &a, &why),
                     BOT_OK);
    assert_int_equal(a.nitems, ALARM_ITEMS_MAX);
    alarm_clear(&a);
    sb.len -= 2;
    strbuf_puts(&sb, ",{}]}");
    refused(P_AM, strbuf_str(&sb), sb.len, "too many alerts");
    strbuf_cleanup(&sb);
}

static void
alarm_parse_alertmanager__control_characters_dropped(void **state)
{
    struct alarm a;

    (void)state;
    /* BEL, ESC, a C1 control (U+0085), a bidi override (U+202E), tab and
     * line breaks: one-line fields get blanks, details keep "\n" */
    inline_ok(P_AM,
              "{\"groupKey\":\"g\\u0007k\",\"commonLabels\":{\"alertname\":"
              "\"  Disk\\u001b[31m\\u0085Full\\u202e\\tnow\\n\"},"
              "\"commonAnnotations\":{\"summary\":\"line 1\\r\\nline 2\\r"
              "\"},\"alerts\":[{\"labels\":{\"a\\nb\":\"x\\u0007y\"},"
              "\"annotations\":{\"d\":\"1\\n2\"}}]}",
              &a);
    assert_string_equal(a.title, "Disk[31mFull now");
    assert_string_equal(a.dedup_key, "gk");
    assert_string_equal(a.description, "line 1\nline 2");
    assert_string_equal(a.items[0].details, "labels: a b=xy\n"
                                            "annotations: d=1\n2");
    alarm_clear(&a);
}

static void
alarm_parse_generic__zero_width_title_is_missing(void **state)
{
    static const char body[] = "{\"title\":\"\\u200b\\u200d\\u2060\\ufeff "
                               "\\u202e\"}";

    (void)state;
    refused(P_GENERIC, body, strlen(body), "title is empty");
}

static void
alarm_parse_alertmanager__out_of_memory_at_every_step(void **state)
{
    size_t len;
    char *buf = load("alertmanager_firing.json", &len);
    struct alarm_severity_map m = default_map();
    int ok = 0, failures = 0;

    (void)state;
    for (long n = 0; n < 1000 && !ok; n++) {
        struct alarm a;
        const char *why = NULL;
        int rc;

        mem_fail_after(n, 0);
        rc = alarm_parse_alertmanager(buf, len, &m, &a, &why);
        mem_fail_after(-1, 0);
        if (rc == BOT_OK) {
            ok = 1;
            assert_string_equal(a.title, "DiskFull");
        } else {
            assert_int_equal(rc, BOT_ENOMEM);
            assert_cleared(&a);
            failures++;
        }
        alarm_clear(&a);
    }
    assert_true(ok);
    assert_true(failures > 10);
    bot_free(buf);
}

/* ---- Grafana ---------------------------------------------------- */

static void
alarm_parse_grafana__firing_every_field(void **state)
{
    struct alarm a;
    const struct alarm_item *it;

    (void)state;
    fixture(P_GRAFANA, "grafana_firing.json", &a);
    assert_string_equal(a.source, "grafana");
    assert_string_equal(a.title, "High memory Prod (api-1 high)");
    assert_int_equal(a.severity, 2); /* "high" */
    assert_string_equal(a.description, "Memory above 90% on api-1");
    assert_string_equal(a.dedup_key,
                        "{}/{__grafana_autogenerated__=\"true\"}/"
                        "{__grafana_receiver__=\"pmbot\"}:{alertname=\"High "
                        "memory\", grafana_folder=\"Prod\"}");
    assert_string_equal(a.link, "https://grafana.example.com/");
    assert_false(a.resolved);
    assert_int_equal(a.starts_at, T_0418); /* 06:18+02:00 */
    assert_int_equal(a.nitems, 1);
    it = &a.items[0];
    assert_string_equal(it->title, "High memory");
    assert_int_equal(it->severity, 2);
    assert_string_equal(it->fingerprint, "8f1c2d3e4a5b6c7d");
    assert_string_equal(
        it->generator_url,
        "https://grafana.example.com/alerting/grafana/cdz1x3ab/view?orgId=1");
    assert_string_equal(it->details,
                        "labels: alertname=High memory, grafana_folder=Prod, "
                        "instance=api-1, severity=high\n"
                        "annotations: summary=Memory above 90% on api-1");
    alarm_clear(&a);
}

static void
alarm_parse_grafana__resolved_state_ok(void **state)
{
    struct alarm a;

    (void)state;
    fixture(P_GRAFANA, "grafana_resolved.json", &a);
    assert_true(a.resolved);
    assert_true(a.items[0].resolved);
    assert_string_equal(a.title, "High memory Prod (api-1 high)");
    /* no common annotations: the rendered message, trimmed */
    assert_string_equal(a.description,
                        "**Resolved**\n\nValue: B=41.2, C=0\nLabels:\n - "
                        "alertname = High memory\n - instance = api-1");
    /* empty annotations leave only the labels */
    assert_string_equal(a.items[0].details,
                        "labels: alertname=High memory, grafana_folder=Prod, "
                        "instance=api-1, severity=high");
    alarm_clear(&a);
    /* "state" decides over the alerts' own status */
    inline_ok(P_GRAFANA,
              "{\"groupKey\":\"g\",\"title\":\"t\",\"state\":\"alerting\","
              "\"alerts\":[{\"status\":\"resolved\"}]}",
              &a);
    assert_false(a.resolved);
    alarm_clear(&a);
}

static void
alarm_parse_grafana__title_prefix_stripped(void **state)
{
    static const struct {
        const char *title, *want;
    } cases[] = {
        {"[FIRING:12] Disk full", "Disk full"},
        {"[firing:1]Disk full", "Disk full"},
        {"[RESOLVED] Disk full", "Disk full"},
        {"[RESOLVED:2] Disk full", "Disk full"},
        {"[FIRING:] Disk full", "[FIRING:] Disk full"},
        {"[PENDING] Disk full", "[PENDING] Disk full"},
        {"Disk full", "Disk full"},
        {"[FIRING:1] ", "FromLabels"}, /* nothing left: alertname */
    };
    char body[256];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct alarm a;

        snprintf(body, sizeof(body),
                 "{\"groupKey\":\"g\",\"title\":\"%s\",\"alerts\":[{"
                 "\"labels\":{\"alertname\":\"FromLabels\"}}]}",
                 cases[i].title);
        inline_ok(P_GRAFANA, body, &a);
        assert_string_equal(a.title, cases[i].want);
        alarm_clear(&a);
    }
    refused_inline(P_GRAFANA, "{\"groupKey\":\"g\",\"alerts\":[{}]}",
                   "missing field: title");
}

static void
alarm_parse_grafana__broken_fixtures_refused(void **state)
{
    (void)state;
    refused_fixture(P_GRAFANA, "missing_alerts.json",
                    "missing field: alerts");
    refused_fixture(P_GRAFANA, "not_utf8.bin", "not valid UTF-8");
    refused_inline(P_GRAFANA, "{\"title\":5,\"alerts\":[{}]}",
                   "title is not a string");
}

/* ---- generic ---------------------------------------------------- */

static void
alarm_parse_generic__every_field(void **state)
{
    struct alarm a;

    (void)state;
    fixture(P_GENERIC, "generic.json", &a);
    assert_string_equal(a.source, "guardian-bot");
    assert_string_equal(a.title, "Bridge paused by guardian");
    assert_int_equal(a.severity, 1);
    assert_string_equal(a.description,
                        "Guardian paused the bridge at block 19000000.\n"
                        "Investigating.");
    assert_string_equal(a.dedup_key, "bridge-pause-19000000");
    assert_string_equal(a.link,
                        "https://etherscan.io/tx/0x5e3c1f0a9b7d2e4c6a8b0d1f3e5"
                        "a7c9b2d4f6e8a0c1b3d5f7e9a2c4b6d8f0e1a");
    assert_false(a.resolved);
    assert_int_equal(a.starts_at, T_0418);
    assert_null(a.items);
    assert_int_equal(a.nitems, 0);
    alarm_clear(&a);
}

static void
alarm_parse_generic__title_only_defaults(void **state)
{
    struct alarm a;

    (void)state;
    fixture(P_GENERIC, "generic_min.json", &a);
    assert_string_equal(a.title, "Something is off");
    assert_string_equal(a.source, "generic");
    assert_string_equal(a.dedup_key, "Something is off");
    assert_int_equal(a.severity, -1);
    assert_null(a.description);
    assert_null(a.link);
    assert_false(a.resolved);
    assert_int_equal(a.starts_at, 0);
    alarm_clear(&a);
    /* null members count as absent; resolved may be set */
    inline_ok(P_GENERIC,
              "{\"title\":\"t\",\"severity\":null,\"link\":null,"
              "\"resolved\":true,\"extra\":[1]}",
              &a);
    assert_int_equal(a.severity, -1);
    assert_null(a.link);
    assert_true(a.resolved);
    alarm_clear(&a);
}

static void
alarm_parse_generic__bad_severity_refused(void **state)
{
    (void)state;
    refused_fixture(P_GENERIC, "generic_bad_severity.json",
                    "field 'severity' must be 0-4");
    refused_inline(P_GENERIC, "{\"title\":\"t\",\"severity\":-1}",
                   "field 'severity' must be 0-4");
    refused_inline(P_GENERIC, "{\"title\":\"t\",\"severity\":\"2\"}",
                   "field 'severity' must be 0-4");
    refused_inline(P_GENERIC, "{\"title\":\"t\",\"severity\":1.5}",
                   "field 'severity' must be 0-4");
}

static void
alarm_parse_generic__huge_title_truncated_on_character(void **state)
{
    struct alarm a;

    (void)state;
    /* 199 "A" then "é" (2 bytes): byte 200 would split the first é */
    fixture(P_GENERIC, "huge_title.json", &a);
    assert_int_equal(strlen(a.title), 199);
    assert_int_equal(strspn(a.title, "A"), 199);
    /* the dedup key defaults to the title as stored */
    assert_string_equal(a.dedup_key, a.title);
    assert_int_equal(a.severity, 2);
    alarm_clear(&a);
}

static void
alarm_parse_generic__wrong_members_refused(void **state)
{
    struct strbuf sb;

    (void)state;
    refused_inline(P_GENERIC, "{\"title\":[\"x\"]}", "title is not a string");
    refused_inline(P_GENERIC, "{\"description\":\"x\"}",
                   "missing field: title");
    refused_inline(P_GENERIC, "{\"title\":\" \\u0007\\n \"}",
                   "title is empty");
    refused_inline(P_GENERIC, "{\"title\":\"t\",\"resolved\":\"no\"}",
                   "resolved is not a boolean");
    refused_inline(P_GENERIC, "{\"title\":\"t\",\"starts_at\":\"12:00\"}",
                   "starts_at is not an RFC 3339 time");
    refused_inline(P_GENERIC, "{\"title\":\"t\",\"dedup_key\":5}",
                   "dedup_key is not a string");
    refused_fixture(P_GENERIC, "not_object.json", "body is not a JSON object");
    refused_fixture(P_GENERIC, "truncated.json", "not JSON");
    refused_fixture(P_GENERIC, "not_utf8.bin", "not valid UTF-8");
    /* a dedup key is refused, not cut, when too long */
    strbuf_init(&sb, 0);
    strbuf_puts(&sb, "{\"title\":\"t\",\"dedup_key\":\"");
    for (unsigned i = 0; i <= ALARM_KEY_MAX; i++)
        strbuf_putc(&sb, 'k');
    strbuf_puts(&sb, "\"}");
    refused(P_GENERIC, strbuf_str(&sb), sb.len, "dedup_key too long");
    strbuf_cleanup(&sb);
}

/* ---- mapped and JSON pointers ------------------------------------ */

static void
alarm_parse_mapped__forta(void **state)
{
    struct alarm_mapping m = {.name = "forta",
                              .title = "/alert/name",
                              .severity = "/alert/severity",
                              .description = "/alert/description",
                              .dedup_key = "/alert/hash",
                              .link = "/alert/source/transactionHash"};
    struct alarm_severity_map sev = default_map();
    struct alarm a;
    size_t len;
    char *buf = load("forta.json", &len);
    const char *why = NULL;

    (void)state;
    assert_int_equal(alarm_parse_mapped(buf, len, &m, &sev, &a, &why), BOT_OK);
    assert_string_equal(a.source, "forta");
    assert_string_equal(a.title, "Large Tornado Cash withdrawal");
    assert_int_equal(a.severity, 1); /* "CRITICAL" */
    assert_string_equal(a.description,
                        "0x7f3a...c2 withdrew 1000 ETH from Tornado Cash");
    assert_string_equal(a.dedup_key, "0x8a6e2b1c4d7f9e0a3b5c8d1e4f7a0b3c6d9e2"
                                     "f5a8b1c4d7e0f3a6b9c2d5e8f1a");
    assert_string_equal(a.link, "0x5e3c1f0a9b7d2e4c6a8b0d1f3e5a7c9b2d4f6e8a0"
                                "c1b3d5f7e9a2c4b6d8f0e1a");
    assert_false(a.resolved);
    assert_int_equal(a.starts_at, 0);
    assert_int_equal(a.nitems, 0);
    alarm_clear(&a);
    bot_free(buf);
}

/* mapped_title - the title a pointer finds in body; NULL when refused
 * (*rc_out and *why_out tell why). The result is new (bot_free). */
static char *
mapped_title(const char *body, const char *ptr, int *rc_out,
             const char **why_out)
{
    struct alarm_mapping m = {.title = ptr};
    struct alarm a;
    char *t;

    *why_out = NULL;
    *rc_out = alarm_parse_mapped(body, strlen(body), &m, NULL, &a, why_out);
    if (*rc_out) {
        assert_cleared(&a);
        return NULL;
    }
    assert_string_equal(a.source, "mapped");
    t = bot_strdup(a.title);
    assert_non_null(t);
    alarm_clear(&a);
    return t;
}

static void
expect_title(const char *body, const char *ptr, const char *want)
{
    const char *why;
    int rc;
    char *t = mapped_title(body, ptr, &rc, &why);

    if (!t)
        fail_msg("%s in %s: rc %d (%s)", ptr, body, rc, why ? why : "-");
    assert_string_equal(t, want);
    bot_free(t);
}

static void
expect_not_found(const char *body, const char *ptr)
{
    const char *why;
    int rc;
    char *t = mapped_title(body, ptr, &rc, &why);

    if (t)
        fail_msg("%s in %s found \"%s\"", ptr, body, t);
    assert_int_equal(rc, BOT_EINVAL);
    assert_string_equal(why, "mapped title not found");
}

static void
alarm_parse_mapped__pointer_escapes(void **state)
{
    const char *body = "{\"a/b\":{\"m~n\":\"slash-tilde\"},"
                       "\"~1\":\"tilde-one\",\"\":\"empty key\","
                       "\"/\":\"x\",\"a\":{\"b\":\"plain\"}}";

    (void)state;
    expect_title(body, "/a~1b/m~0n", "slash-tilde");
    /* "~01" is "~1", not "/": ~1 is decoded before ~0 would be */
    expect_title(body, "/~01", "tilde-one");
    expect_title(body, "/", "empty key");
    expect_title(body, "/~1", "x");
    expect_title(body, "/a/b", "plain");
    expect_not_found(body, "/a~1b/m~1n");
    expect_not_found(body, "/a/b/c");
    expect_title("{\"t\":\"whole\"}", "/t", "whole");
}

static void
alarm_parse_mapped__pointer_array_index(void **state)
{
    const char *body = "{\"list\":[\"zero\",\"one\",{\"k\":\"deep\"}],"
                       "\"obj\":{\"0\":\"key zero\"}}";

    (void)state;
    expect_title(body, "/list/0", "zero");
    expect_title(body, "/list/1", "one");
    expect_title(body, "/list/2/k", "deep");
    /* objects take digits as keys */
    expect_title(body, "/obj/0", "key zero");
    expect_not_found(body, "/list/3");
    expect_not_found(body, "/list/01");
    expect_not_found(body, "/list/-");
    expect_not_found(body, "/list/-1");
    expect_not_found(body, "/list/1x");
    expect_not_found(body, "/list/99999999999999999999");
    expect_not_found(body, "/missing/0");
}

static void
alarm_parse_mapped__missing_and_typed_values(void **state)
{
    struct alarm_mapping m = {.name = "ops",
                              .title = "/t",
                              .severity = "/s",
                              .description = "/nowhere",
                              .dedup_key = "/id",
                              .link = "/null"};
    const char *body = "{\"t\":\"T\",\"s\":0,\"id\":12345,\"null\":null}";
    struct alarm a;
    const char *why = NULL;

    (void)state;
    assert_int_equal(
        alarm_parse_mapped(body, strlen(body), &m, NULL, &a, &why), BOT_OK);
    assert_int_equal(a.severity, 0);
    assert_string_equal(a.dedup_key, "12345");
    assert_null(a.description);
    assert_null(a.link);
    assert_string_equal(a.source, "ops");
    alarm_clear(&a);

    body = "{\"t\":\"T\",\"s\":9}";
    assert_int_equal(alarm_parse_mapped(body, strlen(body), &m, NULL, &a, &why),
                     BOT_EINVAL);
    assert_string_equal(why, "field 'severity' must be 0-4");
    assert_cleared(&a);
    body = "{\"t\":\"T\",\"s\":\"weird\",\"id\":[1]}";
    assert_int_equal(alarm_parse_mapped(body, strlen(body), &m, NULL, &a, &why),
                     BOT_EINVAL);
    assert_string_equal(why, "mapped dedup_key is not a string or integer");
    body = "{\"t\":{\"x\":1}}";
    assert_int_equal(alarm_parse_mapped(body, strlen(body), &m, NULL, &a, &why),
                     BOT_EINVAL);
    assert_string_equal(why, "mapped title is not a string");
    /* an unknown severity word is -1, not an error */
    body = "{\"t\":\"T\",\"s\":\"weird\"}";
    assert_int_equal(alarm_parse_mapped(body, strlen(body), &m, NULL, &a, &why),
                     BOT_OK);
    assert_int_equal(a.severity, -1);
    assert_string_equal(a.dedup_key, "T");
    alarm_clear(&a);
}

static void
alarm_mapping_check__bad_pointers_refused(void **state)
{
    struct alarm_mapping m = {.title = "/ok"};
    const char *why = NULL;
    struct alarm a;

    (void)state;
    assert_int_equal(alarm_mapping_check(&m, &why), BOT_OK);
    m.title = "";
    assert_int_equal(alarm_mapping_check(&m, &why), BOT_OK);
    m.title = "alert/name";
    assert_int_equal(alarm_mapping_check(&m, &why), BOT_EINVAL);
    assert_string_equal(why, "JSON pointer must be empty or start with '/'");
    m.title = "/ok";
    m.link = "/a~2b";
    assert_int_equal(alarm_mapping_check(&m, &why), BOT_EINVAL);
    assert_string_equal(why, "JSON pointer has a bad '~' escape");
    m.link = "/a~";
    assert_int_equal(alarm_mapping_check(&m, &why), BOT_EINVAL);
    m.link = NULL;
    m.title = NULL;
    assert_int_equal(alarm_mapping_check(&m, &why), BOT_EINVAL);
    assert_string_equal(why, "mapping has no title pointer");
    /* the parser checks too, before reading the body */
    m.title = "x";
    assert_int_equal(alarm_parse_mapped("{}", 2, &m, NULL, &a, &why),
                     BOT_EINVAL);
    assert_string_equal(why, "JSON pointer must be empty or start with '/'");
    assert_cleared(&a);
}

/* ---- severities ------------------------------------------------- */

static void
alarm_severity_map_parse__default_spec(void **state)
{
    struct alarm_severity_map m = default_map();

    (void)state;
    assert_int_equal(m.n, 9);
    assert_int_equal(alarm_severity_of(&m, "critical"), 1);
    assert_int_equal(alarm_severity_of(&m, "CRITICAL"), 1);
    assert_int_equal(alarm_severity_of(&m, "page"), 1);
    assert_int_equal(alarm_severity_of(&m, "High"), 2);
    assert_int_equal(alarm_severity_of(&m, "error"), 2);
    assert_int_equal(alarm_severity_of(&m, "MEDIUM"), 3);
    assert_int_equal(alarm_severity_of(&m, " warning "), 3);
    assert_int_equal(alarm_severity_of(&m, "low"), 4);
    assert_int_equal(alarm_severity_of(&m, "info"), 4);
    assert_int_equal(alarm_severity_of(&m, "none"), -1);
    assert_int_equal(alarm_severity_of(&m, ""), -1);
    assert_int_equal(alarm_severity_of(&m, NULL), -1);
}

static void
alarm_severity_map_parse__custom_spec(void **state)
{
    struct alarm_severity_map m;
    const char *why = NULL;

    (void)state;
    assert_int_equal(alarm_severity_map_parse(" Disaster = 0 , minor=4,"
                                              "p1=0,sev.x_y-z=2",
                                              &m, &why),
                     BOT_OK);
    assert_int_equal(m.n, 4);
    assert_int_equal(alarm_severity_of(&m, "disaster"), 0);
    assert_int_equal(alarm_severity_of(&m, "MINOR"), 4);
    assert_int_equal(alarm_severity_of(&m, "sev.X_Y-z"), 2);
    /* map entries win over built-ins; other built-ins still apply */
    assert_int_equal(alarm_severity_of(&m, "P1"), 0);
    assert_int_equal(alarm_severity_of(&m, "p2"), 2);
    /* default words are gone with a custom spec */
    assert_int_equal(alarm_severity_of(&m, "critical"), -1);
    assert_int_equal(alarm_severity_map_parse("", &m, &why), BOT_OK);
    assert_int_equal(m.n, 0);
    assert_int_equal(alarm_severity_of(&m, "sev3"), 3);
}

static void
alarm_severity_map_parse__bad_specs_rejected(void **state)
{
    static const struct {
        const char *spec, *why;
    } cases[] = {
        {"critical", "severity map entry is not name=N"},
        {"critical=", "severity map entry is not name=N"},
        {"=1", "severity map entry is not name=N"},
        {"crit ical=1", "severity map entry is not name=N"},
        {"critical=1;high=2", "severity map entry is not name=N"},
        {"bad name!=1", "severity map entry is not name=N"},
        {"critical=5", "severity must be 0-4"},
        {"critical=10", "severity must be 0-4"},
        {"critical=-1", "severity map entry is not name=N"},
        {"critical=1,", "empty entry in severity map"},
        {"critical=1,,high=2", "severity map entry is not name=N"},
        {"critical=1,CRITICAL=2", "duplicate severity name"},
        {"abcdefghijklmnopqrstuvwxyz0123456=1", "severity name too long"},
    };
    struct alarm_severity_map m;
    char many[512];
    size_t off = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *why = NULL;

        memset(&m, 0xa5, sizeof(m));
        if (alarm_severity_map_parse(cases[i].spec, &m, &why) != BOT_EINVAL)
            fail_msg("accepted: %s", cases[i].spec);
        assert_non_null(why);
        if (strcmp(why, cases[i].why))
            fail_msg("%s: \"%s\", want \"%s\"", cases[i].spec, why,
                     cases[i].why);
        assert_int_equal(m.n, 0);
    }
    for (int i = 0; i <= ALARM_SEV_MAP_MAX; i++)
        off += (size_t)snprintf(many + off, sizeof(many) - off, "%sn%d=1",
                                i ? "," : "", i);
    {
        const char *why = NULL;

        assert_int_equal(alarm_severity_map_parse(many, &m, &why), BOT_EINVAL);
        assert_string_equal(why, "too many severity names");
    }
}

static void
alarm_severity_of__builtins(void **state)
{
    static const struct {
        const char *value;
        int want;
    } cases[] = {
        {"0", 0},     {"4", 4},     {"5", -1},   {"SEV0", 0}, {"sev4", 4},
        {"sev5", -1}, {"P1", 1},    {"p2", 2},   {"p3", 3},   {"p4", 4},
        {"p5", 4},    {"p0", -1},   {"p6", -1},  {"\t2 ", 2}, {"sev 1", -1},
        {"01", -1},   {"critical", -1},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = alarm_severity_of(NULL, cases[i].value);

        if (got != cases[i].want)
            fail_msg("\"%s\": %d, want %d", cases[i].value, got,
                     cases[i].want);
    }
}

/* ---- times and clearing ------------------------------------------ */

static void
alarm_parse_time__offsets_and_fractions(void **state)
{
    static const struct {
        const char *s;
        int64_t want;
    } cases[] = {
        {"2026-11-22T04:18:00Z", T_0418},
        {"2026-11-22t04:18:00z", T_0418},
        {"2026-11-22 04:18:00Z", T_0418},
        {"2026-11-22T04:18:00.5Z", T_0418 + 500},
        {"2026-11-22T04:18:00.12Z", T_0418 + 120},
        {"2026-11-22T04:18:00.123456789Z", T_0418 + 123},
        {"2026-11-22T04:18:00.999999999999Z", T_0418 + 999},
        {"2026-11-22T05:18:00.123456789+01:00", T_0418 + 123},
        {"2026-11-22T04:18:00+00:00", T_0418},
        {"2026-11-22T04:18:00-00:00", T_0418},
        {"2026-11-21T22:48:00-05:30", T_0418},
        {"2026-11-23T03:18:00+23:00", T_0418},
        {"2026-01-01T01:00:00+02:00", 1767222000000LL}, /* previous year */
        {"0001-01-01T00:00:00Z", 0},
        {"0001-01-01T00:00:00.000+00:00", 0},
    };
    int64_t ms;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ms = -1;
        if (alarm_parse_time(cases[i].s, &ms))
            fail_msg("refused: %s", cases[i].s);
        if (ms != cases[i].want)
            fail_msg("%s: %lld, want %lld", cases[i].s, (long long)ms,
                     (long long)cases[i].want);
    }
}

static void
alarm_parse_time__malformed_refused(void **state)
{
    static const char *const bad[] = {
        "",
        "2026-11-22",
        "2026-11-22T04:18Z",
        "2026-11-22T04:18:00",
        "2026-11-22T04:18:00.Z",
        "2026-11-22T04:18:00+0100",
        "2026-11-22T04:18:00+1:00",
        "2026-11-22T04:18:00+24:00",
        "2026-11-22T04:18:00+01:60",
        "2026-11-22T04:18:00Z junk",
        "2026-11-22T24:00:00Z",
        "2026-02-30T04:18:00Z",
        "2026-11-22X04:18:00Z",
        "1969-12-31T23:59:59Z",
        "1970-01-01T00:30:00+01:00",
        "2026-11-22T04:18:0aZ",
        "0001-01-01",
        "0001-01-01T12:00:00Z",
        "0001-01-01T00:00:00Z junk",
        "0001-01-01T00:00:00",
    };
    int64_t ms = 42;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (alarm_parse_time(bad[i], &ms) != BOT_EINVAL)
            fail_msg("accepted: \"%s\"", bad[i]);
    }
    assert_int_equal(ms, 42);
    assert_int_equal(alarm_parse_time(NULL, &ms), BOT_EINVAL);
}

static void
alarm_clear__safe_after_error_and_twice(void **state)
{
    struct alarm a;
    const char *why = NULL;

    (void)state;
    assert_int_equal(alarm_parse_generic("{", 1, &a, &why), BOT_EINVAL);
    alarm_clear(&a);
    alarm_clear(&a);
    assert_cleared(&a);
    alarm_clear(NULL);
    fixture(P_AM, "alertmanager_firing.json", &a);
    alarm_clear(&a);
    assert_cleared(&a);
    alarm_clear(&a);
    /* why may be NULL */
    assert_int_equal(alarm_parse_generic("[]", 2, &a, NULL), BOT_EINVAL);
    assert_int_equal(alarm_parse_alertmanager("[]", 2, NULL, &a, NULL),
                     BOT_EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(alarm_parse_alertmanager__firing_every_field),
        cmocka_unit_test(alarm_parse_alertmanager__two_alerts_one_alarm),
        cmocka_unit_test(alarm_parse_alertmanager__resolved),
        cmocka_unit_test(alarm_parse_alertmanager__offset_normalised_to_utc),
        cmocka_unit_test(alarm_parse_alertmanager__mixed_status_not_resolved),
        cmocka_unit_test(alarm_parse_alertmanager__common_severity_wins),
        cmocka_unit_test(alarm_parse_alertmanager__title_and_key_fallbacks),
        cmocka_unit_test(
            alarm_parse_alertmanager__missing_title_or_key_refused),
        cmocka_unit_test(alarm_parse_alertmanager__bad_version_refused),
        cmocka_unit_test(alarm_parse_alertmanager__broken_fixtures_refused),
        cmocka_unit_test(
            alarm_parse_alertmanager__wrong_member_types_refused),
        cmocka_unit_test(alarm_parse_alertmanager__too_many_alerts_refused),
        cmocka_unit_test(
            alarm_parse_alertmanager__control_characters_dropped),
        cmocka_unit_test(alarm_parse_generic__zero_width_title_is_missing),
        cmocka_unit_test(
            alarm_parse_alertmanager__out_of_memory_at_every_step),
        cmocka_unit_test(alarm_parse_grafana__firing_every_field),
        cmocka_unit_test(alarm_parse_grafana__resolved_state_ok),
        cmocka_unit_test(alarm_parse_grafana__title_prefix_stripped),
        cmocka_unit_test(alarm_parse_grafana__broken_fixtures_refused),
        cmocka_unit_test(alarm_parse_generic__every_field),
        cmocka_unit_test(alarm_parse_generic__title_only_defaults),
        cmocka_unit_test(alarm_parse_generic__bad_severity_refused),
        cmocka_unit_test(
            alarm_parse_generic__huge_title_truncated_on_character),
        cmocka_unit_test(alarm_parse_generic__wrong_members_refused),
        cmocka_unit_test(alarm_parse_mapped__forta),
        cmocka_unit_test(alarm_parse_mapped__pointer_escapes),
        cmocka_unit_test(alarm_parse_mapped__pointer_array_index),
        cmocka_unit_test(alarm_parse_mapped__missing_and_typed_values),
        cmocka_unit_test(alarm_mapping_check__bad_pointers_refused),
        cmocka_unit_test(alarm_severity_map_parse__default_spec),
        cmocka_unit_test(alarm_severity_map_parse__custom_spec),
        cmocka_unit_test(alarm_severity_map_parse__bad_specs_rejected),
        cmocka_unit_test(alarm_severity_of__builtins),
        cmocka_unit_test(alarm_parse_time__offsets_and_fractions),
        cmocka_unit_test(alarm_parse_time__malformed_refused),
        cmocka_unit_test(alarm_clear__safe_after_error_and_twice),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
