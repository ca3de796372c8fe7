/*
 * pattern.c - a user's own extended regular expression (see pattern.h).
 */
#include "pattern.h"

#include "err.h"

int
pattern_set(struct pattern *p, const char *src, int flags)
{
    regex_t re;

    if (src && *src && regcomp(&re, src, REG_EXTENDED | flags))
        return BOT_EINVAL;
    pattern_clear(p);
    if (src && *src) {
        p->re = re;
        p->set = 1;
    }
    return BOT_OK;
}

void
pattern_clear(struct pattern *p)
{
    if (p->set)
        regfree(&p->re);
    p->set = 0;
}
