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

static char *vformat(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

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

/* --- user text --- */

enum text_class { TEXT_DROP = 1, TEXT_INVISIBLE, TEXT_BLANK };

/* What the sanitiser does with each code point outside plain text; code
 * points not listed are kept and show. Sorted, not overlapping. */
static const struct {
    uint32_t lo, hi;
    unsigned char cls;
} text_table[] = {
    {0x0000, 0x0008, TEXT_DROP},      /* C0 (tab and line breaks aside) */
    {0x000B, 0x000C, TEXT_DROP},
    {0x000E, 0x001F, TEXT_DROP},
    {0x0020, 0x0020, TEXT_BLANK},
    {0x007F, 0x009F, TEXT_DROP},      /* DEL, C1 */
    {0x00A0, 0x00A0, TEXT_BLANK},     /* no-break space */
    {0x034F, 0x034F, TEXT_INVISIBLE}, /* combining grapheme joiner */
    {0x061C, 0x061C, TEXT_DROP},      /* Arabic letter mark */
    {0x115F, 0x1160, TEXT_INVISIBLE}, /* Hangul fillers */
    {0x1680, 0x1680, TEXT_BLANK},
    {0x180E, 0x180E, TEXT_DROP},      /* Mongolian vowel separator */
    {0x2000, 0x200A, TEXT_BLANK},
    {0x200B, 0x200B, TEXT_DROP},      /* zero-width space */
    {0x200C, 0x200D, TEXT_INVISIBLE}, /* ZWNJ, ZWJ */
    {0x200E, 0x200F, TEXT_DROP},      /* LRM, RLM */
    {0x202A, 0x202E, TEXT_DROP},      /* bidi embeddings, overrides */
    {0x202F, 0x202F, TEXT_BLANK},
    {0x205F, 0x205F, TEXT_BLANK},
    {0x2060, 0x2064, TEXT_DROP},      /* word joiner, invisible operators */
    {0x2066, 0x2069, TEXT_DROP},      /* bidi isolates */
    {0x3000, 0x3000, TEXT_BLANK},
    {0x3164, 0x3164, TEXT_INVISIBLE}, /* Hangul filler */
    {0xFE00, 0xFE0F, TEXT_INVISIBLE}, /* variation selectors */
    {0xFEFF, 0xFEFF, TEXT_DROP},      /* BOM, zero-width no-break space */
    {0xFFA0, 0xFFA0, TEXT_INVISIBLE}, /* halfwidth Hangul filler */
    {0xE0000, 0xE007F, TEXT_INVISIBLE}, /* tags */
    {0xE0100, 0xE01EF, TEXT_INVISIBLE}, /* variation selectors */
};

static int
text_class(uint32_t cp)
{
    size_t lo = 0, hi = sizeof(text_table) / sizeof(text_table[0]);

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (cp < text_table[mid].lo)
            hi = mid;
        else if (cp > text_table[mid].hi)
            lo = mid + 1;
        else
            return text_table[mid].cls;
    }
    return 0;
}

/*
 * utf8_next - the code point at p (before end) and its length; an invalid
 * or cut sequence, an overlong form, a surrogate or anything past U+10FFFF
 * is U+FFFD of length 1, so the next byte is read afresh.
 */
static size_t
utf8_next(const unsigned char *p, const unsigned char *end, uint32_t *cp)
{
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    size_t n, avail = (size_t)(end - p);
    uint32_t c = p[0];

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
    if (!n || c >= 0xf8 || n > avail)
        goto bad;
    c &= 0x7f >> n;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            goto bad;
        c = c << 6 | (p[i] & 0x3f);
    }
    if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        goto bad;
    *cp = c;
    return n;
bad:
    *cp = 0xfffd;
    return 1;
}

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD in UTF-8 */

/* text_copy - the walk both directions share; show: replace, not drop */
static int
text_copy(struct strbuf *out, const char *s, size_t len, int flags, int show)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    char nl = flags & CHAT_TEXT_MULTILINE ? '\n' : ' ';

    while (p < end) {
        const unsigned char *run = p;
        uint32_t c;
        size_t n;

        /* plain ASCII in one append: the common case */
        while (p < end && *p >= 0x20 && *p < 0x7f)
            p++;
        if (p > run)
            strbuf_append(out, (const char *)run, (size_t)(p - run));
        if (p == end)
            break;
        n = utf8_next(p, end, &c);
        if (c == '\r' && p + 1 < end && p[1] == '\n') {
            p++; /* CR LF is one line break */
            continue;
        }
        p += n;
        if (c == '\n' || c == '\r' || c == 0x2028 || c == 0x2029)
            strbuf_putc(out, nl);
        else if (c == '\t')
            strbuf_putc(out, ' ');
        else if (text_class(c) == TEXT_DROP) {
            if (show)
                strbuf_append(out, REPLACEMENT, 3);
        } else if (c == 0xfffd && n == 1) {
            strbuf_append(out, REPLACEMENT, 3); /* an invalid byte */
        } else {
            strbuf_append(out, (const char *)p - n, n);
        }
    }
    return strbuf_error(out);
}

int
chat_text_clean(struct strbuf *out, const char *s, size_t len, int flags)
{
    return text_copy(out, s, len, flags, 0);
}

int
chat_text_show(struct strbuf *out, const char *s, int flags)
{
    return text_copy(out, s, strlen(s), flags, 1);
}

int
chat_text_visible(const char *s)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);

    while (p < end) {
        uint32_t c;

        p += utf8_next(p, end, &c);
        if (c != '\t' && c != '\n' && c != '\r' && c != 0x2028 &&
            c != 0x2029 && !text_class(c))
            return 1;
    }
    return 0;
}

int
chat_mention_at(const char *s, struct chat_mention *m)
{
    const char *p = s + 2;
    size_t n;

    if (s[0] != '<' || (s[1] != '@' && s[1] != '#'))
        return 0;
    n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                  "0123456789._-");
    if (!n || n > 64)
        return 0;
    memset(m, 0, sizeof(*m));
    m->kind = s[1] == '@' ? CHAT_SPAN_USER : CHAT_SPAN_ROOM;
    m->id = p;
    m->idlen = n;
    p += n;
    if (*p == '|' && m->kind == CHAT_SPAN_ROOM) {
        m->name = ++p;
        m->namelen = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_-");
        if (m->namelen > CHAT_CHANNEL_NAME_MAX)
            return 0;
        p += m->namelen;
    }
    if (*p != '>')
        return 0;
    m->len = (size_t)(p + 1 - s);
    return 1;
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

int
chat_can(const struct chat_platform *p, unsigned cap)
{
    const struct chat_platform_ops *o = p->ops;

    switch (cap) {
    case CHAT_CAN_OPEN_DM: return o->open_dm != NULL;
    case CHAT_CAN_UPDATE: return o->update != NULL;
    case CHAT_CAN_REACT: return o->react != NULL;
    case CHAT_CAN_REDACT: return o->redact != NULL;
    case CHAT_CAN_PIN: return o->pin != NULL;
    case CHAT_CAN_FIND_SENT: return o->find_sent != NULL;
    case CHAT_CAN_UPLOAD: return o->upload != NULL;
    case CHAT_CAN_TOPIC: return o->set_topic != NULL;
    case CHAT_CAN_INVITE: return o->invite != NULL;
    default: return (o->caps & cap) == cap;
    }
}
