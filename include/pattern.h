/*
 * pattern.h - a user's own extended regular expression, as `[review]
 * blame_patterns` and `secret_patterns` give one (blame.h, scrub.h).
 *
 * Owns: the compiled expression. Errors: BOT_EINVAL when it does not
 * compile, is longer than 4096 bytes, or would compile into more than
 * about 20,000 pieces (glibc copies a repeated expression per repetition:
 * `((a{99}){99}){99}` would take gigabytes, `(a{0,20000})` seconds),
 * stacks quantifiers (`a++`, undefined in POSIX, exponential in glibc), or
 * holds a back-reference (`\1`: matching backtracks for minutes); the one
 * before is kept.
 */
#ifndef PMBOT_PATTERN_H
#define PMBOT_PATTERN_H

#include <regex.h>

struct pattern {
    regex_t re;
    int set; /* re holds one */
};

/* pattern_set - src (nullable or "": none) compiled with REG_EXTENDED |
 * flags replaces what p held. */
int pattern_set(struct pattern *p, const char *src, int flags);

/* pattern_clear - p holds none. */
void pattern_clear(struct pattern *p);

#endif
