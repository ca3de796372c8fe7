/*
 * mem.c - allocation wrappers with failure injection.
 *
 * The countdown is a plain static because tests drive it from one thread and
 * the daemon never touches it (it stays at -1).
 */
#include "mem.h"

#include <stdlib.h>
#include <string.h>

static long fail_countdown = -1;
static int fail_sticky;

static int
should_fail(void)
{
    if (fail_countdown < 0)
        return 0;
    if (fail_countdown == 0) {
        if (!fail_sticky)
            fail_countdown = -1;
        return 1;
    }
    fail_countdown--;
    return 0;
}

void
mem_fail_after(long n, int sticky)
{
    fail_countdown = n;
    fail_sticky = sticky;
}

void *
bot_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *
bot_calloc(size_t nmemb, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(nmemb ? nmemb : 1, size ? size : 1);
}

void *
bot_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

void
bot_free(void *p)
{
    free(p);
}

char *
bot_strndup(const char *s, size_t n)
{
    char *d;
    size_t len;

    if (!s)
        return NULL;
    len = strnlen(s, n);
    d = bot_malloc(len + 1);
    if (!d)
        return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *
bot_strdup(const char *s)
{
    if (!s)
        return NULL;
    return bot_strndup(s, strlen(s));
}
