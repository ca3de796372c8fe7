/*
 * matrix_json.c - the Matrix codec (include/matrix_json.h). Shapes follow
 * the client-server API as summarised in shared/protocols.md section D and
 * what Synapse 1.163 answers (section E1). Everything goes through jansson
 * trees: a /sync answer is keyed by room ids, and it comes once per
 * long-poll, not once per event.
 *
 * Answers are read with JSON_ALLOW_NUL: a "\u0000" in one person's message
 * must not make a whole /sync answer unreadable (the bot would ask for the
 * same batch forever). Ids with a NUL are refused; text is cleaned, which
 * drops it.
 */
#include "matrix_json.h"

#include "chat.h"
#include "err.h"
#include "mem.h"
#include "strbuf.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTML_FORMAT "org.matrix.custom.html"
#define MATRIX_TO "https://matrix.to/#/"
#define TS_MAX 9007199254740992LL  /* 2^53 */
#define RETRY_MAX_MS 3600000L       /* a longer retry_after_ms is an hour */
#define TOPIC_MAX 250
#define WJ "\xe2\x81\xa0"           /* U+2060 WORD JOINER */

/* --- helpers --- */

static json_t *
load(const char *buf, size_t len)
{
    json_error_t err;

    if (!buf)
        return NULL;
    return json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
                      &err);
}

/* dump - the tree as compact JSON (new, bot_free), taking root; NULL if
 * root is NULL or on failure */
static char *
dump(json_t *root)
{
    char *s = root ? json_dumps(root, JSON_COMPACT) : NULL;
    char *d = s ? bot_strdup(s) : NULL;

    free(s);
    json_decref(root);
    return d;
}

/* set - root[k] = v (taken); on any failure root is freed and NULL is
 * returned, so a chain of set() is checked once at the end */
static json_t *
set(json_t *root, const char *k, json_t *v)
{
    if (root && (!v || json_object_set_new(root, k, v))) {
        json_decref(root);
        return NULL;
    }
    if (!root)
        json_decref(v);
    return root;
}

static json_t *
at(json_t *obj, const char *key)
{
    return json_is_object(obj) ? json_object_get(obj, key) : NULL;
}

/* str - the string value of v with no NUL inside, or NULL */
static const char *
str(json_t *v)
{
    const char *s;

    if (!json_is_string(v))
        return NULL;
    s = json_string_value(v);
    return strlen(s) == json_string_length(v) ? s : NULL;
}

/* id_ok - an id as Matrix writes them: 1 to MX_ID_MAX printable ASCII
 * bytes (room, event and user ids, tokens of state keys) */
static int
id_ok(const char *s)
{
    size_t n = 0;

    if (!s)
        return 0;
    for (; s[n]; n++) {
        if ((unsigned char)s[n] < 0x21 || (unsigned char)s[n] > 0x7e ||
            n >= MX_ID_MAX)
            return 0;
    }
    return n > 0;
}

/* id_dup - a new copy of v when it is a valid id; NULL with *rc set to
 * BOT_EPROTO (not an id) or BOT_ENOMEM */
static char *
id_dup(json_t *v, int *rc)
{
    const char *s = str(v);
    char *d;

    if (!id_ok(s)) {
        *rc = BOT_EPROTO;
        return NULL;
    }
    d = bot_strdup(s);
    if (!d)
        *rc = BOT_ENOMEM;
    return d;
}

/* starts_ci - s starts with the lowercase ASCII word w, whatever the case */
static int
starts_ci(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);

    return n >= k && !strncasecmp(s, w, k);
}

/* break_room - append s (n bytes) with U+2060 after every '@' that starts
 * "@room" (any case), so no push rule or client reads a room mention */
static int
break_room(struct strbuf *out, const char *s, size_t n)
{
    size_t i, last = 0;

    if (!n)
        return strbuf_error(out);
    for (i = 0; i < n; i++) {
        if (s[i] == '@' && starts_ci(s + i + 1, n - i - 1, "room")) {
            strbuf_append(out, s + last, i + 1 - last);
            strbuf_puts(out, WJ);
            last = i + 1;
        }
    }
    strbuf_append(out, s + last, n - last);
    return strbuf_error(out);
}

/* --- errors and simple answers --- */

int
mx_error_parse(const char *buf, size_t len, char **errcode, long *retry_ms)
{
    json_t *root = load(buf, len), *r;
    const char *code;

    if (errcode)
        *errcode = NULL;
    *retry_ms = -1;
    if (!json_is_object(root)) {
        json_decref(root);
        return BOT_OK;
    }
    r = json_object_get(root, "retry_after_ms");
    /* round up; a negative value counts as absent, anything over an hour
     * is an hour: a broken server must not park pmbot for days */
    if (json_is_integer(r) && json_integer_value(r) >= 0)
        *retry_ms = json_integer_value(r) > RETRY_MAX_MS
                        ? RETRY_MAX_MS
                        : (long)json_integer_value(r);
    else if (json_is_real(r) && json_real_value(r) >= 0) {
        double d = json_real_value(r);
        long whole = d > RETRY_MAX_MS ? RETRY_MAX_MS : (long)d;

        *retry_ms = whole + (whole < RETRY_MAX_MS && (double)whole < d);
    }
    code = str(json_object_get(root, "errcode"));
    if (errcode && id_ok(code)) {
        *errcode = bot_strdup(code);
        if (!*errcode) {
            json_decref(root);
            return BOT_ENOMEM;
        }
    }
    json_decref(root);
    return BOT_OK;
}

int
mx_answer_string(const char *buf, size_t len, const char *key, char **out)
{
    json_t *root = load(buf, len);
    const char *s = str(at(root, key));
    int rc = BOT_EPROTO;

    *out = NULL;
    if (s) {
        *out = bot_strdup(s);
        rc = *out ? BOT_OK : BOT_ENOMEM;
    }
    json_decref(root);
    return rc;
}

/* --- HTML to text --- */

/*
 * This is not an HTML parser: formatted_body is a small, documented subset
 * (spec "m.room.message msgtypes"), and all pmbot needs is its text. A tag
 * is '<' to the next '>' (a '>' inside a quoted attribute ends it early:
 * only the text after it shows, which is harmless); a '<' with no '>'
 * after it is text. Every scan forward either consumes what it scanned or
 * sets a flag that it will never find its target again, so the whole is
 * linear in the input.
 */
struct h2t {
    const char *s;
    size_t n;
    struct strbuf *out;
    int no_gt;       /* no '>' after this point */
    int no_close_a;  /* no "</a" after this point */
    int no_close_r;  /* no "</mx-reply>" after this point */
};

/* find_ci - the offset of the first w (lowercase ASCII) at or after from,
 * or n */
static size_t
find_ci(const char *s, size_t n, size_t from, const char *w)
{
    size_t k = strlen(w);

    for (size_t i = from; i + k <= n; i++) {
        if ((s[i] | 0x20) == (w[0] | 0x20) && starts_ci(s + i, n - i, w))
            return i;
    }
    return n;
}

static void
put_utf8(struct strbuf *out, unsigned long c)
{
    char b[4];

    if (c == 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        c = 0xfffd;
    if (c < 0x80) {
        strbuf_putc(out, (char)c);
    } else if (c < 0x800) {
        b[0] = (char)(0xc0 | (c >> 6));
        b[1] = (char)(0x80 | (c & 0x3f));
        strbuf_append(out, b, 2);
    } else if (c < 0x10000) {
        b[0] = (char)(0xe0 | (c >> 12));
        b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        b[2] = (char)(0x80 | (c & 0x3f));
        strbuf_append(out, b, 3);
    } else {
        b[0] = (char)(0xf0 | (c >> 18));
        b[1] = (char)(0x80 | ((c >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((c >> 6) & 0x3f));
        b[3] = (char)(0x80 | (c & 0x3f));
        strbuf_append(out, b, 4);
    }
}

/* entity - decode the entity at s (s[0] == '&'); the bytes it used, or 0
 * when it is not one pmbot decodes (then '&' is text) */
static size_t
entity(const char *s, size_t n, struct strbuf *out)
{
    static const struct {
        const char *name;
        const char *text;
    } named[] = {{"amp", "&"},  {"lt", "<"},   {"gt", ">"},
                 {"quot", "\""}, {"apos", "'"}, {"nbsp", "\xc2\xa0"}};
    size_t semi, i;

    for (semi = 1; semi < n && semi < 32 && s[semi] != ';'; semi++)
        ;
    if (semi >= n || s[semi] != ';' || semi < 2)
        return 0;
    if (s[1] == '#') {
        unsigned long c = 0;
        int hex = s[2] == 'x' || s[2] == 'X';
        size_t d = hex ? 3 : 2;

        if (d >= semi)
            return 0;
        for (i = d; i < semi; i++) {
            int v;

            if (s[i] >= '0' && s[i] <= '9')
                v = s[i] - '0';
            else if (hex && (s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'f')
                v = (s[i] | 0x20) - 'a' + 10;
            else
                return 0;
            c = c * (hex ? 16 : 10) + (unsigned long)v;
            if (c > 0x10ffff)
                c = 0x110000; /* stays out of range: U+FFFD */
        }
        put_utf8(out, c);
        return semi + 1;
    }
    for (i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        if (strlen(named[i].name) == semi - 1 &&
            !memcmp(s + 1, named[i].name, semi - 1)) {
            strbuf_puts(out, named[i].text);
            return semi + 1;
        }
    }
    return 0;
}

/* tag_name - the lowercase name of the tag body t (n bytes after '<'),
 * with *close set for "</x" */
static void
tag_name(const char *t, size_t n, char *name, size_t cap, int *close)
{
    size_t i = 0, k = 0;

    *close = n > 0 && t[0] == '/';
    if (*close)
        i = 1;
    while (i < n && k + 1 < cap &&
           ((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
            (t[i] >= '0' && t[i] <= '9') || t[i] == '-'))
        name[k++] = (char)(t[i++] | 0x20);
    name[k] = '\0';
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* pill_user - the user id a matrix.to href names ("https://matrix.to/#/
 * @u:hs", percent-encoded or not, "?via=" left out) into id, or 0 */
static int
pill_user(const char *href, size_t n, char *id, size_t cap)
{
    size_t p = strlen(MATRIX_TO), i, k = 0;

    if (n <= p || strncasecmp(href, MATRIX_TO, p))
        return 0;
    for (i = p; i < n && href[i] != '?' && href[i] != '/' && k + 1 < cap;
         i++) {
        int hi, lo;

        if (href[i] == '%' && i + 2 < n &&
            (hi = hexval(href[i + 1])) >= 0 && (lo = hexval(href[i + 2])) >= 0) {
            if (!hi && !lo)
                return 0; /* %00 would cut the id short */
            id[k++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            id[k++] = href[i];
        }
    }
    id[k] = '\0';
    return mx_user_valid(id);
}

/* href_of - the href attribute of the tag body t (n bytes), or NULL */
static const char *
href_of(const char *t, size_t n, size_t *len)
{
    size_t i = find_ci(t, n, 0, "href"), e;
    char q;

    if (i == n)
        return NULL;
    i += 4;
    while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n'))
        i++;
    if (i >= n || t[i] != '=')
        return NULL;
    i++;
    while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n'))
        i++;
    q = i < n && (t[i] == '"' || t[i] == '\'') ? t[i] : 0;
    if (q)
        i++;
    for (e = i; e < n && (q ? t[e] != q : t[e] != ' ' && t[e] != '/'); e++)
        ;
    *len = e - i;
    return t + i;
}

/* skip_to_close - the offset after the '>' of the first "</name" at or
 * after from, or n when there is none (*none then set for good) */
static size_t
skip_to_close(struct h2t *x, size_t from, const char *close, int *none)
{
    size_t at_ = *none ? x->n : find_ci(x->s, x->n, from, close);
    const char *gt;

    if (at_ == x->n) {
        *none = 1;
        return x->n;
    }
    gt = memchr(x->s + at_, '>', x->n - at_);
    return gt ? (size_t)(gt - x->s) + 1 : x->n;
}

/* line_break - 2 for <br> and <hr> (always a line break), 1 for a block
 * that starts or ends (one unless the text is at a line start already) */
static int
line_break(const char *name)
{
    static const char *const blocks[] = {"p", "div", "li", "tr", "pre",
                                         "blockquote", "h1", "h2", "h3",
                                         "h4", "h5", "h6", "ul", "ol",
                                         "table", "details"};

    if (!strcmp(name, "br") || !strcmp(name, "hr"))
        return 2;
    for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++) {
        if (!strcmp(name, blocks[i]))
            return 1;
    }
    return 0;
}

int
mx_html_to_text(struct strbuf *out, const char *html, size_t len)
{
    struct h2t x = {html, len, out, 0, 0, 0};
    size_t i = 0, text = 0;

    while (i < len) {
        const char *gt;
        char name[16], id[MX_ID_MAX + 1];
        size_t tlen, hlen, used;
        const char *href;
        int close;

        if (html[i] == '&') {
            strbuf_append(out, html + text, i - text);
            used = entity(html + i, len - i, out);
            if (!used)
                strbuf_putc(out, '&');
            i += used ? used : 1;
            text = i;
            continue;
        }
        if (html[i] != '<' || x.no_gt) {
            i++;
            continue;
        }
        gt = memchr(html + i, '>', len - i);
        if (!gt) {
            x.no_gt = 1;
            i++;
            continue;
        }
        strbuf_append(out, html + text, i - text);
        tlen = (size_t)(gt - (html + i)) - 1;
        tag_name(html + i + 1, tlen, name, sizeof(name), &close);
        i = (size_t)(gt - html) + 1;
        if (!close && !strcmp(name, "mx-reply")) {
            i = skip_to_close(&x, i, "</mx-reply>", &x.no_close_r);
        } else if (!close && !strcmp(name, "a") &&
                   (href = href_of(gt - tlen, tlen, &hlen)) &&
                   pill_user(href, hlen, id, sizeof(id))) {
            strbuf_puts(out, id);
            if (!x.no_close_a) {
                size_t end = skip_to_close(&x, i, "</a>", &x.no_close_a);

                if (!x.no_close_a)
                    i = end;
            }
        } else if (line_break(name) == 2 ||
                   (line_break(name) && out->len &&
                    out->buf[out->len - 1] != '\n')) {
            strbuf_putc(out, '\n');
        }
        text = i;
    }
    strbuf_append(out, html + text, len - text);
    return strbuf_error(out);
}

/* --- inbound events --- */

void
mx_event_clear(struct mx_event *e)
{
    bot_free(e->event_id);
    bot_free(e->sender);
    bot_free(e->text);
    bot_free(e->thread_id);
    bot_free(e->rel_id);
    bot_free(e->key);
    bot_free(e->state_key);
    bot_free(e->membership);
    memset(e, 0, sizeof(*e));
}

/* strip_fallback - body without its leading "> " reply-fallback lines and
 * the blank line after them */
static const char *
strip_fallback(const char *b, size_t *n)
{
    const char *s = b, *end = b + *n;
    int stripped = 0;

    while (s < end && s[0] == '>' && (s + 1 == end || s[1] == ' ' ||
                                      s[1] == '\n')) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));

        s = nl ? nl + 1 : end;
        stripped = 1;
    }
    if (stripped && s < end && s[0] == '\n')
        s++;
    *n = (size_t)(end - s);
    return s;
}

/* trim_end - drop the line breaks and blanks html_to_text leaves at the
 * end ("<p>x</p>") */
static void
trim_end(struct strbuf *sb)
{
    while (sb->len && (sb->buf[sb->len - 1] == '\n' ||
                       sb->buf[sb->len - 1] == ' '))
        sb->buf[--sb->len] = '\0';
}

/* content_text - the cleaned text of a message content: formatted_body
 * made plain when it is HTML and shows something, else body without its
 * reply fallback. BOT_EPROTO when over MX_TEXT_MAX. */
static int
content_text(json_t *c, char **out)
{
    json_t *bv = at(c, "body"), *fv = at(c, "formatted_body");
    const char *fmt = str(at(c, "format"));
    struct strbuf raw, clean;
    int rc = BOT_OK;

    *out = NULL;
    strbuf_init(&raw, 4 * (size_t)MX_TEXT_MAX);
    strbuf_init(&clean, MX_TEXT_MAX);
    if (fmt && !strcmp(fmt, HTML_FORMAT) && json_is_string(fv)) {
        if (json_string_length(fv) > 4 * (size_t)MX_TEXT_MAX)
            rc = BOT_EPROTO;
        else
            mx_html_to_text(&raw, json_string_value(fv),
                            json_string_length(fv));
        if (!rc && !raw.err) {
            chat_text_clean(&clean, raw.buf, raw.len, CHAT_TEXT_MULTILINE);
            trim_end(&clean);
            if (!clean.err && !chat_text_visible(strbuf_str(&clean)))
                strbuf_reset(&clean);
        }
    }
    if (!rc && !raw.err && !clean.err && !clean.len && json_is_string(bv)) {
        size_t n = json_string_length(bv);
        const char *b = strip_fallback(json_string_value(bv), &n);

        if (json_string_length(bv) > 4 * (size_t)MX_TEXT_MAX)
            rc = BOT_EPROTO;
        else
            chat_text_clean(&clean, b, n, CHAT_TEXT_MULTILINE);
    }
    if (!rc && (raw.err == BOT_ENOMEM || clean.err == BOT_ENOMEM))
        rc = BOT_ENOMEM;
    else if (!rc && (raw.err || clean.err))
        rc = BOT_EPROTO; /* over the cap */
    if (!rc) {
        *out = clean.len ? strbuf_steal(&clean) : bot_strdup("");
        if (!*out)
            rc = BOT_ENOMEM;
    }
    strbuf_cleanup(&raw);
    strbuf_cleanup(&clean);
    return rc;
}

/* reaction_key - the key cleaned, every U+FE0F removed */
static int
reaction_key(const char *k, char **out)
{
    struct strbuf sb;
    size_t n = strlen(k);

    *out = NULL;
    if (n > MX_ID_MAX)
        return BOT_EPROTO;
    strbuf_init(&sb, 0);
    for (size_t i = 0, from = 0; i <= n; i++) {
        int fe = i + 3 <= n && !memcmp(k + i, "\xef\xb8\x8f", 3);

        if (fe || i == n) {
            chat_text_clean(&sb, k + from, i - from, 0);
            from = i + 3;
            i += fe ? 2 : 0;
        }
    }
    if (sb.err) {
        strbuf_cleanup(&sb);
        return BOT_ENOMEM;
    }
    if (!sb.len) {
        strbuf_cleanup(&sb);
        return BOT_EPROTO;
    }
    *out = strbuf_steal(&sb);
    return *out ? BOT_OK : BOT_ENOMEM;
}

static int
type_is(json_t *ev, const char *t)
{
    const char *s = str(at(ev, "type"));

    return s && !strcmp(s, t);
}

/*
 * parse_event - one client event into *e (cleared first). self non-NULL:
 * self's events are BOT_ENOTFOUND (dropped). bundled: read a bundled
 * latest edit (a fetch). BOT_EPROTO for an event to drop.
 */
static int
parse_event(json_t *ev, const char *self, int bundled, struct mx_event *e)
{
    json_t *c, *rel, *ts, *unsig;
    const char *type = str(at(ev, "type")), *rt;
    int rc = BOT_OK;

    memset(e, 0, sizeof(*e));
    if (!json_is_object(ev) || !type)
        return BOT_EPROTO;
    e->event_id = id_dup(at(ev, "event_id"), &rc);
    if (!rc)
        e->sender = id_dup(at(ev, "sender"), &rc);
    if (rc)
        goto out;
    if (self && !strcmp(e->sender, self)) {
        rc = BOT_ENOTFOUND;
        goto out;
    }
    ts = at(ev, "origin_server_ts");
    if (!json_is_integer(ts) || json_integer_value(ts) < 0 ||
        json_integer_value(ts) > TS_MAX) {
        rc = BOT_EPROTO;
        goto out;
    }
    e->ts = json_integer_value(ts);
    unsig = at(ev, "unsigned");
    e->redacted = json_is_object(at(unsig, "redacted_because"));
    {
        const char *mb = str(at(unsig, "membership"));

        e->not_joined = mb && strcmp(mb, "join");
    }
    c = at(ev, "content");
    rel = at(c, "m.relates_to");
    rt = str(at(rel, "rel_type"));
    if (!strcmp(type, "m.room.message")) {
        const char *mt = str(at(c, "msgtype"));
        json_t *src = c;

        if (rt && !strcmp(rt, "m.replace")) {
            e->type = MX_EV_EDIT;
            e->rel_id = id_dup(at(rel, "event_id"), &rc);
            src = at(c, "m.new_content");
            if (!rc && !json_is_object(src))
                rc = BOT_EPROTO;
        } else {
            json_t *edit = at(at(at(unsig, "m.relations"), "m.replace"),
                              "content");
            const char *es = str(at(at(at(unsig, "m.relations"),
                                       "m.replace"), "sender"));

            e->type = mt && !strcmp(mt, "m.notice") ? MX_EV_NOTICE
                                                    : MX_EV_MESSAGE;
            /* only the sender's own edit is the message's text */
            if (bundled && json_is_object(at(edit, "m.new_content")) &&
                (!es || !strcmp(es, e->sender)))
                src = at(edit, "m.new_content");
            if (rt && !strcmp(rt, "m.thread") &&
                id_ok(str(at(rel, "event_id"))))
                e->thread_id = id_dup(at(rel, "event_id"), &rc);
        }
        if (!rc)
            rc = content_text(src, &e->text);
    } else if (!strcmp(type, "m.reaction")) {
        const char *k = str(at(rel, "key"));

        e->type = MX_EV_REACTION;
        if (!rt || strcmp(rt, "m.annotation") || !k)
            rc = BOT_EPROTO;
        if (!rc)
            e->rel_id = id_dup(at(rel, "event_id"), &rc);
        if (!rc)
            rc = reaction_key(k, &e->key);
    } else if (!strcmp(type, "m.room.redaction")) {
        json_t *r = at(c, "redacts");

        e->type = MX_EV_REDACTION;
        e->rel_id = id_dup(id_ok(str(r)) ? r : at(ev, "redacts"), &rc);
    } else if (!strcmp(type, "m.room.member")) {
        const char *m = str(at(c, "membership"));

        e->type = MX_EV_MEMBER;
        e->state_key = id_dup(at(ev, "state_key"), &rc);
        if (!rc && !id_ok(m))
            rc = BOT_EPROTO;
        if (!rc && !(e->membership = bot_strdup(m)))
            rc = BOT_ENOMEM;
        e->is_direct = json_is_true(at(c, "is_direct"));
    } else if (!strcmp(type, "m.room.encrypted")) {
        e->type = MX_EV_ENCRYPTED;
    }
out:
    if (rc)
        mx_event_clear(e);
    return rc;
}

int
mx_event_parse(const char *buf, size_t len, struct mx_event *out)
{
    json_t *root = load(buf, len);
    int rc = parse_event(root, NULL, 1, out);

    json_decref(root);
    return rc;
}

void
mx_room_clear(struct mx_room *r)
{
    for (size_t i = 0; i < r->nev; i++)
        mx_event_clear(&r->ev[i]);
    bot_free(r->ev);
    bot_free(r->id);
    bot_free(r->prev_batch);
    memset(r, 0, sizeof(*r));
}

/* add_events - the events of the array evs into r (dropping bad and
 * self's), reversed when rev; only BOT_ENOMEM fails */
static int
add_events(struct mx_room *r, json_t *evs, const char *self, int rev)
{
    size_t n = json_array_size(evs), i;
    struct mx_event *grown;

    if (!n)
        return BOT_OK;
    grown = bot_realloc(r->ev, (r->nev + n) * sizeof(*r->ev));
    if (!grown)
        return BOT_ENOMEM;
    r->ev = grown;
    for (i = 0; i < n; i++) {
        json_t *ev = json_array_get(evs, rev ? n - 1 - i : i);
        int rc;

        if (type_is(ev, "m.room.encryption"))
            r->encrypted = 1;
        rc = parse_event(ev, self, 0, &r->ev[r->nev]);
        if (rc == BOT_ENOMEM)
            return rc;
        if (!rc)
            r->nev++;
    }
    return BOT_OK;
}

static int
token_dup(json_t *v, char **out)
{
    const char *s = str(v);

    *out = NULL;
    if (!s || !*s)
        return BOT_EPROTO;
    *out = bot_strdup(s);
    return *out ? BOT_OK : BOT_ENOMEM;
}

int
mx_messages_parse(const char *buf, size_t len, const char *self,
                  struct mx_room *out, char **end)
{
    json_t *root = load(buf, len), *chunk = at(root, "chunk");
    int rc = BOT_EPROTO;

    memset(out, 0, sizeof(*out));
    *end = NULL;
    if (json_is_array(chunk)) {
        rc = add_events(out, chunk, self, 1);
        if (!rc && token_dup(at(root, "end"), end) == BOT_ENOMEM)
            rc = BOT_ENOMEM;
    }
    if (rc) {
        mx_room_clear(out);
        bot_free(*end);
        *end = NULL;
    }
    json_decref(root);
    return rc;
}

void
mx_sync_clear(struct mx_sync *s)
{
    size_t i;

    for (i = 0; i < s->nrooms; i++)
        mx_room_clear(&s->rooms[i]);
    for (i = 0; i < s->ninvites; i++) {
        bot_free(s->invites[i].room);
        bot_free(s->invites[i].sender);
    }
    for (i = 0; i < s->nleft; i++)
        bot_free(s->left[i]);
    bot_free(s->rooms);
    bot_free(s->invites);
    bot_free(s->left);
    bot_free(s->next_batch);
    bot_free(s->direct);
    memset(s, 0, sizeof(*s));
}

static int
sync_join(struct mx_sync *s, json_t *join, const char *self)
{
    const char *id;
    json_t *room;
    size_t n = json_object_size(join);

    if (!n)
        return BOT_OK;
    s->rooms = bot_calloc(n, sizeof(*s->rooms));
    if (!s->rooms)
        return BOT_ENOMEM;
    json_object_foreach(join, id, room) {
        struct mx_room *r = &s->rooms[s->nrooms];
        json_t *tl = at(room, "timeline"), *st = at(at(room, "state"),
                                                    "events");
        const char *pb = str(at(tl, "prev_batch"));
        size_t i;

        if (!id_ok(id) || !json_is_object(room))
            continue;
        s->nrooms++;
        if (!(r->id = bot_strdup(id)))
            return BOT_ENOMEM;
        for (i = 0; i < json_array_size(st); i++) {
            if (type_is(json_array_get(st, i), "m.room.encryption"))
                r->encrypted = 1;
        }
        r->limited = json_is_true(at(tl, "limited"));
        if (pb && *pb && !(r->prev_batch = bot_strdup(pb)))
            return BOT_ENOMEM;
        if (add_events(r, at(tl, "events"), self, 0))
            return BOT_ENOMEM;
    }
    return BOT_OK;
}

static int
sync_invite(struct mx_sync *s, json_t *inv, const char *self)
{
    const char *id;
    json_t *room;
    size_t n = json_object_size(inv);

    if (!n)
        return BOT_OK;
    s->invites = bot_calloc(n, sizeof(*s->invites));
    if (!s->invites)
        return BOT_ENOMEM;
    json_object_foreach(inv, id, room) {
        struct mx_invite *v = &s->invites[s->ninvites];
        json_t *evs = at(at(room, "invite_state"), "events");

        if (!id_ok(id) || !json_is_object(room))
            continue;
        s->ninvites++;
        if (!(v->room = bot_strdup(id)))
            return BOT_ENOMEM;
        for (size_t i = 0; i < json_array_size(evs); i++) {
            json_t *ev = json_array_get(evs, i);
            const char *sk = str(at(ev, "state_key"));
            const char *from = str(at(ev, "sender"));

            if (type_is(ev, "m.room.encryption"))
                v->encrypted = 1;
            if (!type_is(ev, "m.room.member") || !self || !sk ||
                strcmp(sk, self) || !id_ok(from) || v->sender)
                continue;
            if (!(v->sender = bot_strdup(from)))
                return BOT_ENOMEM;
            v->is_direct = json_is_true(at(at(ev, "content"), "is_direct"));
        }
    }
    return BOT_OK;
}

static int
sync_leave(struct mx_sync *s, json_t *leave)
{
    const char *id;
    json_t *room;
    size_t n = json_object_size(leave);

    if (!n)
        return BOT_OK;
    s->left = bot_calloc(n, sizeof(*s->left));
    if (!s->left)
        return BOT_ENOMEM;
    json_object_foreach(leave, id, room) {
        if (!id_ok(id))
            continue;
        if (!(s->left[s->nleft] = bot_strdup(id)))
            return BOT_ENOMEM;
        s->nleft++;
    }
    return BOT_OK;
}

int
mx_sync_parse(const char *buf, size_t len, const char *self,
              struct mx_sync *out)
{
    json_t *root = load(buf, len), *rooms = at(root, "rooms"),
           *ad = at(at(root, "account_data"), "events");
    int rc;

    memset(out, 0, sizeof(*out));
    rc = token_dup(at(root, "next_batch"), &out->next_batch);
    if (!rc)
        rc = sync_join(out, at(rooms, "join"), self);
    if (!rc)
        rc = sync_invite(out, at(rooms, "invite"), self);
    if (!rc)
        rc = sync_leave(out, at(rooms, "leave"));
    for (size_t i = 0; !rc && i < json_array_size(ad); i++) {
        json_t *ev = json_array_get(ad, i), *c = at(ev, "content");

        if (!type_is(ev, "m.direct") || !json_is_object(c))
            continue;
        bot_free(out->direct);
        out->direct = dump(json_incref(c));
        if (!out->direct)
            rc = BOT_ENOMEM;
    }
    if (rc)
        mx_sync_clear(out);
    json_decref(root);
    return rc;
}

/* --- m.direct --- */

void
mx_direct_free(struct mx_direct *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bot_free(d[i].user);
        bot_free(d[i].room);
    }
    bot_free(d);
}

int
mx_direct_parse(const char *json, size_t len, struct mx_direct **out,
                size_t *n)
{
    json_t *root = load(json, len), *rooms;
    const char *user;
    size_t cap = 0;
    int rc = BOT_OK;

    *out = NULL;
    *n = 0;
    if (!json_is_object(root)) {
        json_decref(root);
        return BOT_EPROTO;
    }
    json_object_foreach(root, user, rooms) {
        if (mx_user_valid(user))
            cap += json_array_size(rooms);
    }
    if (cap && !(*out = bot_calloc(cap, sizeof(**out))))
        rc = BOT_ENOMEM;
    json_object_foreach(root, user, rooms) {
        if (rc || !mx_user_valid(user))
            continue;
        for (size_t i = 0; !rc && i < json_array_size(rooms); i++) {
            const char *r = str(json_array_get(rooms, i));
            struct mx_direct *d = &(*out)[*n];

            if (!id_ok(r))
                continue;
            d->user = bot_strdup(user);
            d->room = bot_strdup(r);
            (*n)++;
            if (!d->user || !d->room)
                rc = BOT_ENOMEM;
        }
    }
    json_decref(root);
    if (rc) {
        mx_direct_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

/* has_string - 1 when the array arr holds the string s */
static int
has_string(json_t *arr, const char *s)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *v = str(json_array_get(arr, i));

        if (v && !strcmp(v, s))
            return 1;
    }
    return 0;
}

char *
mx_direct_body(const char *json, const char *user, const char *room)
{
    json_t *root, *list;

    if (!user || !room)
        return NULL;
    root = json ? load(json, strlen(json)) : NULL;
    if (!json_is_object(root)) {
        json_decref(root);
        root = json_object();
    }
    list = at(root, user);
    if (!json_is_array(list)) {
        list = json_array();
        root = set(root, user, list);
    }
    if (root && !has_string(list, room) &&
        json_array_append_new(list, json_string(room))) {
        json_decref(root);
        root = NULL;
    }
    return dump(root);
}

/* --- outbound --- */

/* link_ok - http, https and mailto, whatever the case */
static int
link_ok(const char *url)
{
    return url && (!strncasecmp(url, "http://", 7) ||
                   !strncasecmp(url, "https://", 8) ||
                   !strncasecmp(url, "mailto:", 7));
}

/* url_ok - an address fit for an href: printable ASCII, no blank */
static int
url_ok(const char *u)
{
    for (; *u; u++) {
        if ((unsigned char)*u < 0x21 || (unsigned char)*u > 0x7e)
            return 0;
    }
    return 1;
}

/* escape - append text for HTML, '\n' a <br> */
static void
escape(struct strbuf *out, const char *t)
{
    for (; *t; t++) {
        switch (*t) {
        case '&': strbuf_puts(out, "&amp;"); break;
        case '<': strbuf_puts(out, "&lt;"); break;
        case '>': strbuf_puts(out, "&gt;"); break;
        case '"': strbuf_puts(out, "&quot;"); break;
        case '\'': strbuf_puts(out, "&#39;"); break;
        case '\n': strbuf_puts(out, "<br>"); break;
        default: strbuf_putc(out, *t);
        }
    }
}

/* escape_href - an attribute value: escaped, and an '@' before "room"
 * written %40, so the link still goes where it says but no "@room" is in
 * the HTML (break_room would break the address) */
static void
escape_href(struct strbuf *out, const char *prefix, const char *t)
{
    struct strbuf tmp;

    strbuf_init(&tmp, 0);
    strbuf_puts(&tmp, prefix);
    strbuf_puts(&tmp, t);
    for (const char *p = strbuf_str(&tmp); *p; p++) {
        if (*p == '@' && !strncasecmp(p + 1, "room", 4))
            strbuf_puts(out, "%40");
        else if (*p == '\n')
            strbuf_puts(out, "%0A");
        else {
            char c[2] = {*p, 0};

            escape(out, c);
        }
    }
    if (tmp.err)
        out->err = out->err ? out->err : tmp.err;
    strbuf_cleanup(&tmp);
}

/* clean - span text as valid UTF-8 without controls (the core's text is
 * clean already; this keeps a broken caller from making invalid JSON) */
static const char *
clean(struct strbuf *sb, const char *t)
{
    strbuf_reset(sb);
    if (t)
        chat_text_clean(sb, t, strlen(t), CHAT_TEXT_MULTILINE);
    return strbuf_str(sb);
}

int
mx_render(const struct chat_msg *m, struct strbuf *body, struct strbuf *html)
{
    struct strbuf b, h, t, u;

    strbuf_init(&b, 0);
    strbuf_init(&h, 0);
    strbuf_init(&t, 0);
    strbuf_init(&u, 0);
    for (size_t i = 0; i < m->n; i++) {
        const struct chat_span *s = &m->spans[i];
        const char *text = clean(&t, s->text);

        switch (s->kind) {
        case CHAT_SPAN_BOLD:
            strbuf_puts(&b, text);
            strbuf_puts(&h, "<b>");
            escape(&h, text);
            strbuf_puts(&h, "</b>");
            break;
        case CHAT_SPAN_CODE:
            strbuf_puts(&b, text);
            strbuf_puts(&h, "<code>");
            escape(&h, text);
            strbuf_puts(&h, "</code>");
            break;
        case CHAT_SPAN_NEWLINE:
            strbuf_putc(&b, '\n');
            strbuf_puts(&h, "<br>");
            break;
        case CHAT_SPAN_USER:
            strbuf_puts(&b, text);
            if (mx_user_valid(text)) {
                strbuf_puts(&h, "<a href=\"");
                escape_href(&h, MATRIX_TO, text);
                strbuf_puts(&h, "\">");
                escape(&h, text);
                strbuf_puts(&h, "</a>");
            } else {
                escape(&h, text);
            }
            break;
        case CHAT_SPAN_ROOM: {
            const char *name = s->url && *s->url ? clean(&u, s->url) : NULL;

            if (name)
                strbuf_putc(&b, '#');
            strbuf_puts(&b, name ? name : text);
            if (id_ok(text)) {
                strbuf_puts(&h, "<a href=\"");
                escape_href(&h, MATRIX_TO, text);
                strbuf_puts(&h, "\">");
            }
            if (name)
                strbuf_putc(&h, '#');
            escape(&h, name ? name : text);
            if (id_ok(text))
                strbuf_puts(&h, "</a>");
            break;
        }
        case CHAT_SPAN_LINK: {
            const char *url = s->url ? clean(&u, s->url) : "";
            int same = !strcmp(text, url);

            strbuf_puts(&b, text);
            if (!same && *url)
                strbuf_printf(&b, " (%s)", url);
            if (link_ok(url) && url_ok(url)) {
                strbuf_puts(&h, "<a href=\"");
                escape_href(&h, "", url);
                strbuf_puts(&h, "\">");
                escape(&h, *text ? text : url);
                strbuf_puts(&h, "</a>");
            } else {
                escape(&h, text);
                if (!same && *url) {
                    strbuf_puts(&h, " (");
                    escape(&h, url);
                    strbuf_puts(&h, ")");
                }
            }
            break;
        }
        default:
            strbuf_puts(&b, text);
            escape(&h, text);
        }
    }
    /* after the spans are joined: "@" + "room" from two spans is caught */
    if (!strbuf_error(&b) && !strbuf_error(&h) && !strbuf_error(&t) &&
        !strbuf_error(&u)) {
        break_room(body, b.buf, b.len);
        break_room(html, h.buf, h.len);
    } else {
        body->err = body->err ? body->err : BOT_ENOMEM;
    }
    strbuf_cleanup(&b);
    strbuf_cleanup(&h);
    strbuf_cleanup(&t);
    strbuf_cleanup(&u);
    return strbuf_error(body) ? strbuf_error(body) : strbuf_error(html);
}

/* thread - content with the m.thread relation to root (taken, may be
 * NULL: then NULL) */
static json_t *
thread(json_t *content, const char *root)
{
    if (!root)
        return content;
    return set(content, "m.relates_to",
               json_pack("{s:s, s:s, s:b, s:{s:s}}", "rel_type", "m.thread",
                         "event_id", root, "is_falling_back", 1,
                         "m.in_reply_to", "event_id", root));
}

/* notice - {msgtype m.notice, body, format, formatted_body, m.mentions {}}
 * with prefix before body and HTML (an edit's "* ") */
static json_t *
notice(const struct chat_msg *m, const char *prefix)
{
    struct strbuf b, h;
    json_t *c = NULL;

    strbuf_init(&b, 0);
    strbuf_init(&h, 0);
    strbuf_puts(&b, prefix);
    strbuf_puts(&h, prefix);
    if (!mx_render(m, &b, &h))
        c = json_pack("{s:s, s:s, s:s, s:s, s:{}}", "msgtype", "m.notice",
                      "body", strbuf_str(&b), "format", HTML_FORMAT,
                      "formatted_body", strbuf_str(&h), "m.mentions");
    strbuf_cleanup(&b);
    strbuf_cleanup(&h);
    return c;
}

char *
mx_message_content(const struct chat_msg *m, const char *thread_id)
{
    return dump(thread(notice(m, ""), thread_id));
}

char *
mx_notify_content(const struct chat_msg *m, const char *thread_id)
{
    json_t *c = notice(m, ""), *ids = json_array();

    if (c && ids) {
        for (size_t i = 0; i < m->n; i++) {
            const char *u = m->spans[i].text;

            if (m->spans[i].kind == CHAT_SPAN_USER && u &&
                mx_user_valid(u) && !has_string(ids, u))
                json_array_append_new(ids, json_string(u));
        }
        c = set(c, "msgtype", json_string("m.text"));
        c = set(c, "m.mentions", json_pack("{s:O}", "user_ids", ids));
    }
    json_decref(ids);
    return dump(thread(c, thread_id));
}

char *
mx_edit_content(const struct chat_msg *m, const char *event_id)
{
    json_t *c = notice(m, "* ");

    c = set(c, "m.new_content", notice(m, ""));
    c = set(c, "m.relates_to",
            json_pack("{s:s, s:s}", "rel_type", "m.replace", "event_id",
                      event_id ? event_id : ""));
    return event_id ? dump(c) : (json_decref(c), NULL);
}

char *
mx_reaction_content(const char *event_id, const char *key)
{
    if (!event_id || !key)
        return NULL;
    return dump(json_pack("{s:{s:s, s:s, s:s}}", "m.relates_to", "rel_type",
                          "m.annotation", "event_id", event_id, "key", key));
}

/* broken - s with "@room" broken, as a new json string */
static json_t *
broken(const char *s)
{
    struct strbuf sb;
    json_t *v = NULL;

    strbuf_init(&sb, 0);
    if (!break_room(&sb, s ? s : "", s ? strlen(s) : 0))
        v = json_string(strbuf_str(&sb));
    strbuf_cleanup(&sb);
    return v;
}

char *
mx_file_content(const char *title, const char *filename, const char *mxc,
                const char *mimetype, size_t size, const char *thread_id)
{
    json_t *c;

    if (!filename || !mxc || !mimetype)
        return NULL;
    c = json_pack("{s:s, s:o, s:s, s:s, s:{s:s, s:I}, s:{}}", "msgtype",
                  "m.file", "body", broken(title ? title : filename),
                  "filename", filename, "url", mxc, "info", "mimetype",
                  mimetype, "size", (json_int_t)size, "m.mentions");
    return dump(thread(c, thread_id));
}

char *
mx_topic_content(const char *topic)
{
    struct strbuf sb, br;
    size_t n;
    char *t = NULL;
    json_t *c = NULL;

    strbuf_init(&sb, 0);
    strbuf_init(&br, 0);
    clean(&sb, topic);
    break_room(&br, strbuf_str(&sb), sb.len);
    /* cut after breaking: a cut only removes, so no "@room" comes back */
    n = br.len > TOPIC_MAX ? TOPIC_MAX : br.len;
    while (n > 0 && n < br.len && ((unsigned char)br.buf[n] & 0xc0) == 0x80)
        n--;
    if (!sb.err && !br.err)
        t = bot_strndup(strbuf_str(&br), n);
    if (t)
        c = json_pack("{s:s, s:{s:[{s:s}]}}", "topic", t, "m.topic",
                      "m.text", "body", t);
    bot_free(t);
    strbuf_cleanup(&sb);
    strbuf_cleanup(&br);
    return dump(c);
}

/* the events map Synapse writes into a new room's power levels: the
 * override replaces the whole map (a shallow update), so it is repeated
 * here with pins and the topic added */
static json_t *
power_events(void)
{
    return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}",
                     "m.room.name", 50, "m.room.power_levels", 100,
                     "m.room.history_visibility", 100,
                     "m.room.canonical_alias", 50, "m.room.avatar", 50,
                     "m.room.tombstone", 100, "m.room.server_acl", 100,
                     "m.room.encryption", 100, "m.room.pinned_events", 50,
                     "m.room.topic", 50);
}

char *
mx_create_room_body(const char *name, const char *alias, const char *topic,
                    const char *const *invite, size_t ninvite, int is_direct)
{
    json_t *root, *inv = json_array();

    for (size_t i = 0; inv && i < ninvite; i++) {
        if (json_array_append_new(inv, json_string(invite[i]))) {
            json_decref(inv);
            inv = NULL;
        }
    }
    if (!inv)
        return NULL;
    if (is_direct)
        return dump(json_pack("{s:s, s:s, s:b, s:o}", "preset",
                              "trusted_private_chat", "visibility", "private",
                              "is_direct", 1, "invite", inv));
    root = json_pack("{s:s, s:s, s:o, s:[{s:s, s:s, s:{s:s}}], s:{s:o}}",
                     "preset", "private_chat", "visibility", "private",
                     "invite", inv, "initial_state", "type",
                     "m.room.history_visibility", "state_key", "", "content",
                     "history_visibility", "shared",
                     "power_level_content_override", "events",
                     power_events());
    if (name)
        root = set(root, "name", json_string(name));
    if (alias)
        root = set(root, "room_alias_name", json_string(alias));
    if (topic)
        root = set(root, "topic", broken(topic));
    return dump(root);
}

int
mx_pinned_body(const char *json, size_t len, const char *event_id,
               char **out)
{
    json_t *root = json ? load(json, len) : NULL, *old = at(root, "pinned");
    json_t *list;
    int rc = BOT_OK;

    *out = NULL;
    if (!event_id) {
        json_decref(root);
        return BOT_EINVAL;
    }
    list = json_array();
    if (has_string(old, event_id)) {
        json_decref(root);
        json_decref(list);
        return BOT_OK;
    }
    for (size_t i = 0; list && i < json_array_size(old); i++) {
        if (str(json_array_get(old, i)) &&
            json_array_append(list, json_array_get(old, i))) {
            json_decref(list);
            list = NULL;
        }
    }
    json_decref(root);
    if (list && json_array_append_new(list, json_string(event_id))) {
        json_decref(list);
        list = NULL;
    }
    *out = list ? dump(json_pack("{s:o}", "pinned", list)) : NULL;
    if (!*out)
        rc = BOT_ENOMEM;
    return rc;
}

char *
mx_login_body(const char *user, const char *password, const char *device_id)
{
    json_t *root;

    if (!user || !password)
        return NULL;
    root = json_pack("{s:s, s:{s:s, s:s}, s:s, s:s}", "type",
                     "m.login.password", "identifier", "type", "m.id.user",
                     "user", user, "password", password,
                     "initial_device_display_name", "pmbot");
    if (device_id)
        root = set(root, "device_id", json_string(device_id));
    return dump(root);
}

/* timeline - the room event filter of the timeline and of /messages */
static json_t *
timeline(const char *self, int limit)
{
    json_t *t = json_pack("{s:b, s:[s], s:[s, s, s, s, s]}",
                          "lazy_load_members", 1, "not_senders", self,
                          "types", "m.room.message", "m.reaction",
                          "m.room.redaction", "m.room.member",
                          "m.room.encrypted");

    return limit ? set(t, "limit", json_integer(limit)) : t;
}

char *
mx_sync_filter(const char *self, int limit)
{
    if (!self)
        return NULL;
    return dump(json_pack(
        "{s:{s:[s]}, s:{s:[s]}, s:{s:b, s:{s:[s]}, s:{s:[s]},"
        " s:{s:b, s:[s, s, s]}, s:o}}",
        "presence", "not_types", "*",
        "account_data", "types", "m.direct",
        "room", "include_leave", 0,
        "ephemeral", "not_types", "*",
        "account_data", "not_types", "*",
        "state", "lazy_load_members", 1, "types", "m.room.member",
        "m.room.create", "m.room.encryption",
        "timeline", timeline(self, limit)));
}

char *
mx_messages_filter(const char *self)
{
    return self ? dump(timeline(self, 0)) : NULL;
}

/* --- ids --- */

/* server_ok - a server name: host name or IPv4, or [IPv6], then an
 * optional :port */
static int
server_ok(const char *s)
{
    size_t i = 0, d;

    if (s[0] == '[') {
        for (i = 1; s[i] && s[i] != ']'; i++) {
            if (!strchr("0123456789abcdefABCDEF:.", s[i]))
                return 0;
        }
        if (s[i] != ']' || i < 3)
            return 0;
        i++;
    } else {
        for (; s[i] && s[i] != ':'; i++) {
            if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                  (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-'))
                return 0;
        }
        if (!i)
            return 0;
    }
    if (!s[i])
        return 1;
    if (s[i] != ':')
        return 0;
    for (d = 0, i++; s[i]; i++, d++) {
        if (s[i] < '0' || s[i] > '9' || d >= 5)
            return 0;
    }
    return d > 0;
}

int
mx_user_valid(const char *s)
{
    size_t i;

    if (!s || s[0] != '@' || strlen(s) > MX_ID_MAX)
        return 0;
    for (i = 1; s[i] && s[i] != ':'; i++) {
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return 0;
    }
    return i > 1 && s[i] == ':' && server_ok(s + i + 1);
}

int
mx_parse_user(const char *token, const char *server, char **out)
{
    size_t p = strlen(MATRIX_TO), n;
    char id[MX_ID_MAX + 2];

    *out = NULL;
    if (!token)
        return BOT_EINVAL;
    n = strlen(token);
    while (n && (token[n - 1] == ',' || token[n - 1] == ':'))
        n--;
    if (n > p && !strncasecmp(token, MATRIX_TO, p)) {
        if (!pill_user(token, n, id, sizeof(id)))
            return BOT_EINVAL;
        n = strlen(id);
    } else {
        if (n > MX_ID_MAX)
            return BOT_EINVAL;
        memcpy(id, token, n);
        id[n] = '\0';
    }
    if (id[0] != '@' || strpbrk(id, "<>\"& \t\n"))
        return BOT_EINVAL;
    if (!strchr(id, ':')) {
        if (n < 2 || !server)
            return BOT_EINVAL;
        *out = bot_malloc(n + strlen(server) + 2);
        if (!*out)
            return BOT_ENOMEM;
        memcpy(*out, id, n);
        (*out)[n] = ':';
        strcpy(*out + n + 1, server);
    } else {
        *out = bot_strdup(id);
        if (!*out)
            return BOT_ENOMEM;
    }
    if (!mx_user_valid(*out)) {
        bot_free(*out);
        *out = NULL;
        return BOT_EINVAL;
    }
    return BOT_OK;
}

const char *
mx_server_of(const char *user_id)
{
    const char *c = user_id ? strchr(user_id, ':') : NULL;

    return c && c[1] ? c + 1 : NULL;
}
