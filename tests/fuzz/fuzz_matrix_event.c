/*
 * fuzz_matrix_event - a fetched event (GET /event: bundled edits, redacted
 * events), a /messages page, the pinned-events content pmbot reads back
 * before it pins, and the raw bytes as formatted_body HTML.
 */
#define FUZZ_QUIET_INIT /* fuzz.h's LLVMFuzzerInitialize */
#include "fuzz.h"

#include "chat.h"
#include "err.h"
#include "matrix_json.h"
#include "strbuf.h"

#include <string.h>

static void
check(int ok)
{
    if (!ok)
        __builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct mx_event e;
    struct mx_room r;
    struct strbuf sb, clean;
    char *end, *pinned;
    size_t i;

    if (!mx_event_parse(buf, size, &e)) {
        check(e.event_id && e.sender);
        check(e.ts >= 0 && e.ts <= 9007199254740992LL);
        check(!e.text || strlen(e.text) <= MX_TEXT_MAX);
        mx_event_clear(&e);
    }
    if (!mx_messages_parse(buf, size, "@pmbot:localhost", &r, &end)) {
        for (i = 1; i < r.nev; i++)
            check(r.ev[i].event_id != NULL);
        for (i = 0; i < r.nev; i++)
            check(strcmp(r.ev[i].sender, "@pmbot:localhost") != 0);
        bot_free(end);
        mx_room_clear(&r);
    }
    if (!mx_pinned_body(buf, size, "$new", &pinned) && pinned)
        check(strstr(pinned, "\"$new\"") != NULL);
    bot_free(pinned);

    /* the HTML: no NUL or surrogate of its own making; clean afterwards */
    strbuf_init(&sb, 0);
    strbuf_init(&clean, 0);
    check(mx_html_to_text(&sb, buf, size) == BOT_OK);
    check(sb.len <= size * 2 + 4);
    check(chat_text_clean(&clean, sb.buf, sb.len, CHAT_TEXT_MULTILINE) ==
          BOT_OK);
    strbuf_cleanup(&sb);
    strbuf_cleanup(&clean);
    return 0;
}
