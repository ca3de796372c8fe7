/*
 * fuzz_alarm.h - the alarm targets' oracle: every invariant alarm.h
 * promises of a parsed alarm, checked on each success (a broken promise
 * traps, so libFuzzer keeps the input). Also the default severity map.
 */
#ifndef PMBOT_FUZZ_ALARM_H
#define PMBOT_FUZZ_ALARM_H

#include "alarm.h"
#include "err.h"

#include <stddef.h>
#include <string.h>

#define FUZZ_REQUIRE(cond)                                                     \
    do {                                                                       \
        if (!(cond))                                                           \
            __builtin_trap();                                                  \
    } while (0)

/* fuzz_utf8_next - the code point at s (valid UTF-8 required: traps). */
static inline unsigned
fuzz_utf8_next(const unsigned char **s)
{
    const unsigned char *p = *s;
    unsigned c = p[0], n, min;

    if (c < 0x80) {
        *s = p + 1;
        return c;
    }
    n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
    FUZZ_REQUIRE(c >= 0xc2 && c <= 0xf4);
    min = n == 1 ? 0x80 : n == 2 ? 0x800 : 0x10000;
    c &= 0x3f >> n;
    for (unsigned i = 1; i <= n; i++) {
        FUZZ_REQUIRE((p[i] & 0xc0) == 0x80);
        c = c << 6 | (p[i] & 0x3fu);
    }
    FUZZ_REQUIRE(c >= min && c <= 0x10ffff && (c < 0xd800 || c > 0xdfff));
    *s = p + n + 1;
    return c;
}

/* fuzz_text - s is NULL (when nullable) or a non-empty, trimmed, valid
 * UTF-8 string of at most max bytes without controls; multi: "\n" kept */
static inline void
fuzz_text(const char *s, int nullable, size_t max, int multi)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n;

    if (!s) {
        FUZZ_REQUIRE(nullable);
        return;
    }
    n = strlen(s);
    FUZZ_REQUIRE(n > 0 && n <= max);
    FUZZ_REQUIRE(s[0] != ' ' && s[0] != '\n' && s[n - 1] != ' ' &&
                 s[n - 1] != '\n');
    while (*p) {
        unsigned c = fuzz_utf8_next(&p);

        FUZZ_REQUIRE(c >= 0x20 || (multi && c == '\n'));
        FUZZ_REQUIRE(c < 0x7f || c > 0x9f);
        FUZZ_REQUIRE(c < 0x2028 || c > 0x202e);
        FUZZ_REQUIRE(c < 0x2066 || c > 0x2069);
    }
}

static inline void
fuzz_alarm_check(const struct alarm *a)
{
    fuzz_text(a->title, 0, ALARM_TITLE_MAX, 0);
    fuzz_text(a->dedup_key, 0, ALARM_KEY_MAX, 0);
    fuzz_text(a->source, 1, ALARM_SOURCE_MAX, 0);
    fuzz_text(a->description, 1, ALARM_TEXT_MAX, 1);
    fuzz_text(a->link, 1, ALARM_LINK_MAX, 0);
    FUZZ_REQUIRE(a->severity >= -1 && a->severity <= 4);
    FUZZ_REQUIRE(a->starts_at >= 0);
    FUZZ_REQUIRE(a->nitems <= ALARM_ITEMS_MAX);
    FUZZ_REQUIRE(!a->nitems == !a->items);
    for (size_t i = 0; i < a->nitems; i++) {
        const struct alarm_item *it = &a->items[i];

        fuzz_text(it->title, 0, ALARM_TITLE_MAX, 0);
        fuzz_text(it->fingerprint, 1, ALARM_KEY_MAX, 0);
        fuzz_text(it->generator_url, 1, ALARM_LINK_MAX, 0);
        fuzz_text(it->details, 1, ALARM_TEXT_MAX, 1);
        FUZZ_REQUIRE(it->severity >= -1 && it->severity <= 4);
        FUZZ_REQUIRE(it->starts_at >= 0);
    }
}

/* fuzz_severity_map - the daemon's default vocabulary */
static inline const struct alarm_severity_map *
fuzz_severity_map(void)
{
    static struct alarm_severity_map m;
    static int done;
    const char *why;

    if (!done) {
        FUZZ_REQUIRE(!alarm_severity_map_parse(ALARM_SEVERITY_DEFAULT, &m,
                                               &why));
        done = 1;
    }
    return &m;
}

/* fuzz_alarm_done - a parser's result judged, then freed: a success keeps
 * alarm.h's invariants; an error gives a reason for the 400 and leaves
 * nothing to free */
static inline void
fuzz_alarm_done(int rc, struct alarm *a, const char *why)
{
    if (!rc)
        fuzz_alarm_check(a);
    FUZZ_REQUIRE(!rc || ((rc != BOT_EINVAL || why) && !a->title && !a->items));
    alarm_clear(a);
}

#endif
