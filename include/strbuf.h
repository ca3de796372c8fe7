/*
 * strbuf.h - a growable string with a size cap.
 *
 * Owns: its buffer (heap). The buffer is always NUL-terminated, also after a
 * failed append, which leaves the contents as they were.
 * strbuf_append(sb, NULL, 0) is a valid empty append.
 * Errors: appends return BOT_ENOMEM when allocation fails and BOT_EINVAL
 * when the result would exceed the cap; both are sticky in sb->err so a
 * series of appends can be checked once with strbuf_error().
 */
#ifndef PMBOT_STRBUF_H
#define PMBOT_STRBUF_H

#include <stddef.h>

struct strbuf {
    char *buf;  /* NUL-terminated; NULL until the first append */
    size_t len; /* bytes before the NUL */
    size_t cap; /* allocated bytes */
    size_t max; /* largest len allowed */
    int err;    /* first failure, BOT_OK if none */
};

#define STRBUF_DEFAULT_MAX (16u * 1024u * 1024u)

/* strbuf_init - empty buffer limited to max bytes (0: the default cap). */
void strbuf_init(struct strbuf *sb, size_t max);

/* strbuf_cleanup - frees the buffer; the struct may be reused after init. */
void strbuf_cleanup(struct strbuf *sb);

int strbuf_append(struct strbuf *sb, const char *s, size_t n);
int strbuf_puts(struct strbuf *sb, const char *s);
int strbuf_putc(struct strbuf *sb, char c);
int strbuf_printf(struct strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* strbuf_str - the contents, borrowed until the next change; "" if empty. */
const char *strbuf_str(const struct strbuf *sb);

/* strbuf_steal - the contents as a new string (caller frees with bot_free);
 * the strbuf is left empty. NULL on allocation failure. */
char *strbuf_steal(struct strbuf *sb);

void strbuf_reset(struct strbuf *sb);
int strbuf_error(const struct strbuf *sb);

#endif
