/*
 * fuzz_matrix_sync - a /sync answer as the Matrix adapter reads it: every
 * event, invite and left room it would act on, and the m.direct map it
 * would keep. What comes out must be fit for the core: ids and text valid
 * UTF-8 without NUL and within bounds, times in 0..2^53.
 */
#define FUZZ_QUIET_INIT /* fuzz.h's LLVMFuzzerInitialize */
#include "fuzz.h"

#include "matrix_json.h"

#include <string.h>

#define SELF "@pmbot:localhost"

/* utf8_ok - s (nullable) is valid UTF-8 (no overlong form, surrogate or
 * code point past U+10FFFF) of at most max bytes */
static int
utf8_ok(const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;

    if (!s)
        return 1;
    while (p[n]) {
        unsigned c = p[n], k, cp;

        if (c < 0x80) {
            n++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            k = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            k = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            k = 3, cp = c & 0x07;
        else
            return 0;
        for (unsigned i = 1; i <= k; i++) {
            if ((p[n + i] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (p[n + i] & 0x3f);
        }
        if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        n += k + 1;
    }
    return n <= max;
}

static void
check(int ok)
{
    if (!ok)
        __builtin_trap();
}

static void
check_event(const struct mx_event *e)
{
    check(e->event_id && e->sender);
    check(utf8_ok(e->event_id, MX_ID_MAX) && utf8_ok(e->sender, MX_ID_MAX));
    check(utf8_ok(e->rel_id, MX_ID_MAX) && utf8_ok(e->thread_id, MX_ID_MAX));
    check(utf8_ok(e->state_key, MX_ID_MAX) && utf8_ok(e->key, MX_ID_MAX));
    check(utf8_ok(e->membership, MX_ID_MAX));
    check(utf8_ok(e->text, MX_TEXT_MAX));
    check(e->ts >= 0 && e->ts <= 9007199254740992LL);
    check(strcmp(e->sender, SELF) != 0);
    check(!e->key || !strstr(e->key, "\xef\xb8\x8f"));
    switch (e->type) {
    case MX_EV_MESSAGE:
    case MX_EV_NOTICE:
        check(e->text != NULL);
        break;
    case MX_EV_EDIT:
        check(e->text && e->rel_id);
        break;
    case MX_EV_REACTION:
        check(e->rel_id && e->key && *e->key);
        break;
    case MX_EV_REDACTION:
        check(e->rel_id != NULL);
        break;
    case MX_EV_MEMBER:
        check(e->state_key && e->membership);
        break;
    default:
        break;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mx_sync s;
    struct mx_direct *d;
    size_t i, j, n;

    if (mx_sync_parse((const char *)data, size, SELF, &s))
        return 0;
    check(s.next_batch && *s.next_batch);
    for (i = 0; i < s.nrooms; i++) {
        check(utf8_ok(s.rooms[i].id, MX_ID_MAX) && s.rooms[i].id);
        for (j = 0; j < s.rooms[i].nev; j++)
            check_event(&s.rooms[i].ev[j]);
    }
    for (i = 0; i < s.ninvites; i++) {
        check(s.invites[i].room && utf8_ok(s.invites[i].room, MX_ID_MAX));
        check(utf8_ok(s.invites[i].sender, MX_ID_MAX));
    }
    for (i = 0; i < s.nleft; i++)
        check(s.left[i] && utf8_ok(s.left[i], MX_ID_MAX));
    if (s.direct && !mx_direct_parse(s.direct, strlen(s.direct), &d, &n)) {
        for (i = 0; i < n; i++)
            check(mx_user_valid(d[i].user) && utf8_ok(d[i].room, MX_ID_MAX));
        mx_direct_free(d, n);
        bot_free(mx_direct_body(s.direct, "@alice:localhost", "!dm"));
    }
    mx_sync_clear(&s);
    return 0;
}
