/*
 * strbuf.c - bounded growable strings.
 */
#include "strbuf.h"

#include "err.h"
#include "mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
strbuf_init(struct strbuf *sb, size_t max)
{
    memset(sb, 0, sizeof(*sb));
    sb->max = max ? max : STRBUF_DEFAULT_MAX;
}

void
strbuf_cleanup(struct strbuf *sb)
{
    bot_free(sb->buf);
    sb->buf = NULL;
    sb->len = sb->cap = 0;
    sb->err = BOT_OK;
}

static int
grow(struct strbuf *sb, size_t extra)
{
    size_t need, ncap;
    char *nb;

    if (sb->err)
        return sb->err;
    if (extra > sb->max - sb->len) {
        sb->err = BOT_EINVAL;
        return sb->err;
    }
    need = sb->len + extra + 1;
    if (need <= sb->cap)
        return BOT_OK;
    ncap = sb->cap ? sb->cap : 64;
    while (ncap < need)
        ncap *= 2;
    nb = bot_realloc(sb->buf, ncap);
    if (!nb) {
        sb->err = BOT_ENOMEM;
        return sb->err;
    }
    if (!sb->buf)
        nb[0] = '\0';
    sb->buf = nb;
    sb->cap = ncap;
    return BOT_OK;
}

int
strbuf_append(struct strbuf *sb, const char *s, size_t n)
{
    int rc = grow(sb, n);

    if (rc)
        return rc;
    if (!n)
        return BOT_OK; /* s may be NULL then (an empty body chunk) */
    memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
    return BOT_OK;
}

int
strbuf_puts(struct strbuf *sb, const char *s)
{
    return strbuf_append(sb, s, strlen(s));
}

int
strbuf_putc(struct strbuf *sb, char c)
{
    return strbuf_append(sb, &c, 1);
}

int
strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    int n, rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        sb->err = sb->err ? sb->err : BOT_EINVAL;
        return sb->err;
    }
    rc = grow(sb, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
    return BOT_OK;
}

const char *
strbuf_str(const struct strbuf *sb)
{
    return sb->buf ? sb->buf : "";
}

char *
strbuf_steal(struct strbuf *sb)
{
    char *s = sb->buf ? sb->buf : bot_strdup("");

    sb->buf = NULL;
    sb->len = sb->cap = 0;
    return s;
}

void
strbuf_reset(struct strbuf *sb)
{
    sb->len = 0;
    sb->err = BOT_OK;
    if (sb->buf)
        sb->buf[0] = '\0';
}

int
strbuf_error(const struct strbuf *sb)
{
    return sb->err;
}
