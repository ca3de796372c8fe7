/*
 * log.h - one-line log records on stderr.
 *
 * Owns: the process-wide log level (one of the few allowed globals).
 * Contract: the level is checked before any formatting; a record is one line
 * prefixed with the level. Callers prefix their module ("store: ...").
 * Secrets never go through here: callers log names of things, not tokens.
 */
#ifndef PMBOT_LOG_H
#define PMBOT_LOG_H

enum log_level { LOG_ERR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern int log_level_current;

/* log_set_level_name - "error", "warn", "info" or "debug"; BOT_EINVAL else. */
int log_set_level_name(const char *name);

void log_write(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_at(lvl, ...)                                                      \
    do {                                                                       \
        if ((lvl) <= log_level_current)                                        \
            log_write((lvl), __VA_ARGS__);                                     \
    } while (0)
#define log_err(...)   log_at(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_at(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)

/* BOT_ASSERT - always on; for programmer errors only, never for input. */
#define BOT_ASSERT(cond)                                                       \
    do {                                                                       \
        if (!(cond))                                                           \
            log_assert_fail(#cond, __FILE__, __LINE__);                        \
    } while (0)

_Noreturn void log_assert_fail(const char *what, const char *file, int line);

#endif
