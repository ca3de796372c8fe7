/*
 * chat.c - the platform-neutral message model and channel naming.
 */
#include "chat.h"

#include "err.h"
#include "mem.h"
#include "strbuf.h"
#include "timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
chat_msg_init(struct chat_msg *m)
{
    memset(m, 0, sizeof(*m));
}

void
chat_msg_cleanup(struct chat_msg *m)
{
    for (size_t i = 0; i < m->n; i++) {
        bot_free(m->spans[i].text);
        bot_free(m->spans[i].url);
    }
    bot_free(m->spans);
    memset(m, 0, sizeof(*m));
}

/* add - append a span; takes text and url (freed on failure). */
static int
add(struct chat_msg *m, int kind, char *text, char *url)
{
    if (m->err || !text) {
        bot_free(text);
        bot_free(url);
        if (!m->err)
            m->err = BOT_ENOMEM;
        return m->err;
    }
    if (m->n == m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 8;
        struct chat_span *ns = bot_realloc(m->spans, ncap * sizeof(*ns));

        if (!ns) {
            bot_free(text);
            bot_free(url);
            m->err = BOT_ENOMEM;
            return m->err;
        }
        m->spans = ns;
        m->cap = ncap;
    }
    m->spans[m->n].kind = kind;
    m->spans[m->n].text = text;
    m->spans[m->n].url = url;
    m->n++;
    return BOT_OK;
}

static char *
vformat(const char *fmt, va_list ap)
{
    va_list cp;
    int n;
    char *s;

    va_copy(cp, ap);
    n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return NULL;
    s = bot_malloc((size_t)n + 1);
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

int
chat_msg_text(struct chat_msg *m, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = vformat(fmt, ap);
    va_end(ap);
    return add(m, CHAT_SPAN_TEXT, s, NULL);
}

int
chat_msg_bold(struct chat_msg *m, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = vformat(fmt, ap);
    va_end(ap);
    return add(m, CHAT_SPAN_BOLD, s, NULL);
}

int
chat_msg_code(struct chat_msg *m, const char *text)
{
    return add(m, CHAT_SPAN_CODE, bot_strdup(text), NULL);
}

int
chat_msg_user(struct chat_msg *m, const char *user_id)
{
    return add(m, CHAT_SPAN_USER, bot_strdup(user_id), NULL);
}

int
chat_msg_room(struct chat_msg *m, const char *room_id, const char *name)
{
    char *url = bot_strdup(name ? name : room_id);

    if (!url) {
        m->err = m->err ? m->err : BOT_ENOMEM;
        return m->err;
    }
    return add(m, CHAT_SPAN_ROOM, bot_strdup(room_id), url);
}

int
chat_msg_link(struct chat_msg *m, const char *url, const char *label)
{
    char *u = bot_strdup(url);

    if (!u) {
        m->err = m->err ? m->err : BOT_ENOMEM;
        return m->err;
    }
    return add(m, CHAT_SPAN_LINK, bot_strdup(label ? label : url), u);
}

int
chat_msg_nl(struct chat_msg *m)
{
    return add(m, CHAT_SPAN_NEWLINE, bot_strdup(""), NULL);
}

int
chat_msg_plain(const struct chat_msg *m, struct strbuf *out)
{
    for (size_t i = 0; i < m->n; i++) {
        const struct chat_span *s = &m->spans[i];

        switch (s->kind) {
        case CHAT_SPAN_USER:
            strbuf_printf(out, "@%s", s->text);
            break;
        case CHAT_SPAN_ROOM:
            strbuf_printf(out, "#%s", s->url);
            break;
        case CHAT_SPAN_LINK:
            if (strcmp(s->text, s->url))
                strbuf_printf(out, "%s (%s)", s->text, s->url);
            else
                strbuf_puts(out, s->url);
            break;
        case CHAT_SPAN_NEWLINE:
            strbuf_putc(out, '\n');
            break;
        default:
            strbuf_puts(out, s->text);
        }
    }
    return strbuf_error(out);
}

/*
 * to_ascii - transliterate UTF-8 to ASCII with iconv ("Straße" -> "Strasse")
 * under a private C.UTF-8 locale, so the process locale is untouched.
 * Invalid bytes and untransliterable characters become '?', which the slug
 * step turns into separators.
 */
static void
to_ascii(const char *in, char *out, size_t outlen)
{
    locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    locale_t old = loc ? uselocale(loc) : (locale_t)0;
    iconv_t cd = iconv_open("ASCII//TRANSLIT", "UTF-8");
    char *ip = (char *)in, *op = out;
    size_t il = strlen(in), ol = outlen - 1;

    if (cd == (iconv_t)-1) {
        snprintf(out, outlen, "%s", in);
        goto restore;
    }
    while (il && ol) {
        if (iconv(cd, &ip, &il, &op, &ol) != (size_t)-1)
            break;
        if (errno == E2BIG)
            break;
        /* EILSEQ/EINVAL: skip the bad byte, mark a separator */
        if (!ol)
            break;
        ip++;
        il--;
        *op++ = '?';
        ol--;
    }
    *op = '\0';
    iconv_close(cd);
restore:
    if (loc) {
        uselocale(old);
        freelocale(loc);
    }
}

void
chat_channel_name(const char *prefix, int64_t day_ms, const char *title,
                  int suffix, char *out, size_t outlen)
{
    char ascii[512], slug[CHAT_CHANNEL_NAME_MAX + 1], day[TIMEUTIL_BUFLEN];
    char tail[16] = "";
    size_t n = 0, head, max;
    int dash = 0;

    to_ascii(title, ascii, sizeof(ascii));
    for (const char *p = ascii; *p && n < sizeof(slug) - 1; p++) {
        unsigned char c = (unsigned char)*p;

        if (isalnum(c)) {
            if (dash && n)
                slug[n++] = '-';
            if (n < sizeof(slug) - 1)
                slug[n++] = (char)tolower(c);
            dash = 0;
        } else {
            dash = 1;
        }
    }
    slug[n] = '\0';
    if (!n)
        snprintf(slug, sizeof(slug), "incident");
    if (suffix > 1)
        snprintf(tail, sizeof(tail), "-%d", suffix);
    timeutil_fmt_compact(day_ms, day);
    head = strlen(prefix) + 1 + strlen(day) + 1;
    max = CHAT_CHANNEL_NAME_MAX - head - strlen(tail);
    if (strlen(slug) > max) {
        slug[max] = '\0';
        while (max && slug[max - 1] == '-')
            slug[--max] = '\0';
    }
    snprintf(out, outlen, "%s-%s-%s%s", prefix, day, slug, tail);
}
