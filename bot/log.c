/*
 * log.c - level-checked log lines on stderr.
 */
#include "log.h"

#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int log_level_current = LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int
log_set_level_name(const char *name)
{
    for (int i = 0; i < 4; i++) {
        if (!strcmp(name, level_names[i])) {
            log_level_current = i;
            return BOT_OK;
        }
    }
    return BOT_EINVAL;
}

void
log_write(int level, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    /* one write per record, so lines from a crash dump never interleave */
    fprintf(stderr, "pmbot %s: %s\n", level_names[level], line);
}

void
log_assert_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "pmbot: assertion failed: %s (%s:%d)\n", what, file,
            line);
    abort();
}
