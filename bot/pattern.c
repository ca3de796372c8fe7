/*
 * pattern.c - a user's own extended regular expression (see pattern.h).
 */
#include "pattern.h"

#include "err.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define PATTERN_MAX_LEN 4096
#define PATTERN_MAX_COPIES 20000L /* ~ a few MB compiled */
#define DEPTH 32

/*
 * copies - roughly how many pieces glibc's regcomp builds for src: it
 * copies a repeated expression once per repetition (a+ is a a*, a{3} is
 * a a a), so `a++++…` or `((a{99}){99}){99}` takes gigabytes to compile.
 * Counted per group, multiplied by the quantifiers (an optional run
 * {m,n} by more: its compiling is quadratic); stops (returns the limit +
 * 1) once over PATTERN_MAX_COPIES, at a quantifier stacked on another, or
 * at a back-reference.
 */
static long
copies(const char *s)
{
    long sum[DEPTH + 1] = {0}, last[DEPTH + 1] = {0};
    int d = 0, quantified = 0;

    for (; *s; s++) {
        long w = 1, k;
        char *end;

        /* a++ or a*{3}: undefined in POSIX, and glibc's closure over it
         * is exponential */
        if (quantified && strchr("*+?{", *s))
            return PATTERN_MAX_COPIES + 1;
        quantified = 0;

        switch (*s) {
        case '\\':
            /* a back-reference makes matching backtrack: (.*)(.*)\2\1
             * takes minutes over a short message */
            if (s[1] >= '1' && s[1] <= '9')
                return PATTERN_MAX_COPIES + 1;
            if (s[1])
                s++;
            break;
        case '[':
            /* a bracket expression is one piece; ']' first is literal */
            s++;
            if (*s == '^')
                s++;
            if (*s == ']')
                s++;
            while (*s && *s != ']')
                s++;
            if (!*s)
                return PATTERN_MAX_COPIES + 1; /* regcomp refuses it */
            break;
        case '(':
            if (d == DEPTH)
                return PATTERN_MAX_COPIES + 1;
            d++;
            sum[d] = last[d] = 0;
            continue;
        case ')':
            if (d == 0)
                break; /* a literal ')' in an ERE */
            w = sum[d--];
            break;
        case '|':
            last[d] = 0;
            continue;
        case '*':
        case '+':
        case '?':
        case '{':
            k = 2;
            if (*s == '{') {
                long lo = strtol(s + 1, &end, 10);

                if (lo > PATTERN_MAX_COPIES)
                    return PATTERN_MAX_COPIES + 1;
                k = lo;
                if (*end == ',' && isdigit((unsigned char)end[1])) {
                    k = strtol(end + 1, &end, 10);
                    if (k > PATTERN_MAX_COPIES)
                        return PATTERN_MAX_COPIES + 1;
                    /* an optional run costs about its square to
                     * compile: (a{0,2000}) 50 ms, (a{0,20000}) 13 s */
                    if (k > lo)
                        k += (k - lo) * (k - lo) / 200;
                } else if (*end == ',') {
                    k = lo + 1;
                }
                if (k > PATTERN_MAX_COPIES)
                    return PATTERN_MAX_COPIES + 1;
                if (k < 1)
                    k = 1;
                s = strchr(s, '}') ? strchr(s, '}') : s + strlen(s) - 1;
            }
            /* the last piece, k times over */
            sum[d] += last[d] * (k - 1);
            last[d] *= k;
            quantified = 1;
            if (sum[d] > PATTERN_MAX_COPIES)
                return PATTERN_MAX_COPIES + 1;
            continue;
        default:
            break;
        }
        sum[d] += w;
        last[d] = w;
        if (sum[d] > PATTERN_MAX_COPIES)
            return PATTERN_MAX_COPIES + 1;
    }
    return sum[0];
}

int
pattern_set(struct pattern *p, const char *src, int flags)
{
    regex_t re;

    if (src && *src &&
        (strlen(src) > PATTERN_MAX_LEN || copies(src) > PATTERN_MAX_COPIES ||
         regcomp(&re, src, REG_EXTENDED | flags)))
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
