/*
 * fuzz_matrix_error - what the Matrix adapter reads from any answer and
 * writes from any text: the error body (errcode, retry_after_ms), the
 * input as a mention token, and a message rendered from spans cut out of
 * the input. The rendering must never let text become markup or a room
 * mention: no "@room" in body or HTML, and no '<' in the HTML but the
 * renderer's own tags.
 */
#define FUZZ_QUIET_INIT /* fuzz.h's LLVMFuzzerInitialize */
#include "fuzz.h"

#include "chat.h"
#include "err.h"
#include "matrix_json.h"
#include "strbuf.h"

#include <string.h>
#include <strings.h>

static void
check(int ok)
{
    if (!ok)
        __builtin_trap();
}

static void
no_room(const char *s)
{
    for (const char *p = s; (p = strchr(p, '@')); p++)
        check(strncasecmp(p + 1, "room", 4) != 0);
}

/* only_own_tags - every '<' in html starts a tag mx_render writes */
static void
only_own_tags(const char *h)
{
    static const char *const tags[] = {"<b>", "</b>", "<code>", "</code>",
                                       "<br>", "</a>"};

    for (const char *p = h; (p = strchr(p, '<'));) {
        size_t i, n = 0;

        for (i = 0; i < sizeof(tags) / sizeof(tags[0]) && !n; i++) {
            if (!strncmp(p, tags[i], strlen(tags[i])))
                n = strlen(tags[i]);
        }
        if (!n && !strncmp(p, "<a href=\"", 9)) {
            const char *q = strchr(p + 9, '"');

            check(q && q[1] == '>');
            check(!memchr(p + 9, '<', (size_t)(q - (p + 9))));
            n = (size_t)(q + 2 - p);
        }
        check(n > 0);
        p += n;
    }
}

/* spans - one span per line: the first byte picks the kind, the rest is
 * its text, a '|' in it splits off the url of rooms and links */
static void
spans(struct chat_msg *m, const uint8_t *data, size_t size)
{
    while (size && m->n < 64) {
        char *line = fuzz_line(&data, &size), *bar;
        const char *t = *line ? line + 1 : "";
        int kind = *line ? (unsigned char)*line % 7 : 0;

        bar = strchr(line + (*line ? 1 : 0), '|');
        if (bar)
            *bar++ = '\0';
        switch (kind) {
        case CHAT_SPAN_BOLD: chat_msg_bold(m, "%s", t); break;
        case CHAT_SPAN_CODE: chat_msg_code(m, t); break;
        case CHAT_SPAN_USER: chat_msg_user(m, t); break;
        case CHAT_SPAN_ROOM: chat_msg_room(m, t, bar); break;
        case CHAT_SPAN_LINK: chat_msg_link(m, bar ? bar : t, t); break;
        case CHAT_SPAN_NEWLINE: chat_msg_nl(m); break;
        default: chat_msg_text(m, "%s", t);
        }
        bot_free(line);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *code = NULL, *tok = fuzz_cstr(data, size), *user = NULL, *c;
    struct chat_msg m;
    struct strbuf body, html;
    long retry;

    check(mx_error_parse((const char *)data, size, &code, &retry) == BOT_OK);
    check(retry >= -1 && retry <= 3600000);
    bot_free(code);
    if (!mx_parse_user(tok, "localhost", &user))
        check(mx_user_valid(user) && !strchr(user, '<'));
    bot_free(user);
    bot_free(tok);

    chat_msg_init(&m);
    spans(&m, data, size);
    if (!m.err) {
        strbuf_init(&body, 0);
        strbuf_init(&html, 0);
        check(mx_render(&m, &body, &html) == BOT_OK);
        no_room(strbuf_str(&body));
        no_room(strbuf_str(&html));
        only_own_tags(strbuf_str(&html));
        strbuf_cleanup(&body);
        strbuf_cleanup(&html);
        c = mx_message_content(&m, "$thread");
        check(c != NULL);
        no_room(c);
        bot_free(c);
        c = mx_edit_content(&m, "$orig");
        check(c != NULL);
        bot_free(c);
    }
    chat_msg_cleanup(&m);
    return 0;
}
