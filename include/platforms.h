/*
 * platforms.h - which chat platforms `pmbot run` connects, and why.
 *
 * Owns: the table of platform descriptors (name, which credentials the
 * configuration holds for it) and the rule that picks from it (SPEC "Running
 * it"): every platform whose credentials are all present, in table order
 * (slack, matrix), and the terminal only when none is; `[pmbot] platforms`
 * (env PMBOT_PLATFORM) overrides that with exactly the platforms it lists, in
 * its order; `[pmbot] alarm_platform` names one of those chosen, by default
 * the first. Pure: no I/O, no logging, no environment (config_load has
 * applied it already); it does not connect anything.
 * Does not own: the names' and values' syntax beyond the list (config.c) or
 * the platforms themselves (bot/adapters).
 * Secrets: a reason or an error names a credential by its environment
 * variable (SLACK_BOT_TOKEN), never by its value.
 */
#ifndef PMBOT_PLATFORMS_H
#define PMBOT_PLATFORMS_H

#include <stddef.h>

struct config;

#define PLATFORM_CREDS_MAX 4

/* What the configuration holds of one platform's credentials: names of
 * environment variables (static strings), those set and those still needed. */
struct platform_creds {
    const char *set[PLATFORM_CREDS_MAX];
    const char *missing[PLATFORM_CREDS_MAX];
    int nset, nmissing;
};

struct platform_desc {
    const char *name;
    /*
     * credentials - fill *c (zeroed by the caller) from cfg. The platform
     * can connect when nothing is missing; some set and some missing is a
     * half-done setup. NULL for a platform that needs none (the terminal):
     * without a list it is chosen only when no other platform is.
     */
    void (*credentials)(const struct config *cfg, struct platform_creds *c);
};

/* The built-in table: slack, matrix, terminal. */
extern const struct platform_desc platforms_table[];
extern const size_t platforms_table_len;

#define PLATFORMS_REASON_LEN 192

struct platform_choice {
    const char *name; /* the descriptor's (static, not owned) */
    /* one line for the log, "slack: SLACK_APP_TOKEN and SLACK_BOT_TOKEN are
     * set", "terminal: no platform credentials are set" */
    char reason[PLATFORMS_REASON_LEN];
};

struct platforms {
    struct platform_choice *v; /* owned; in the order to connect */
    int n;                     /* at least 1 on success */
    int alarm;                 /* index in v where alarms open channels */
};

/*
 * platforms_choose_from - the platforms of table (n descriptors) that
 * `pmbot run` connects with cfg. On success *out holds them (release with
 * platforms_cleanup) and *why is NULL. On error *out is zeroed (nothing to
 * release) and *why is a new one-line reason (free with bot_free):
 * BOT_EINVAL for a list naming a platform the table lacks, twice, or one
 * whose credentials are missing ("slack is listed in [pmbot] platforms but
 * SLACK_BOT_TOKEN is not set"); without a list, for half-set credentials
 * ("slack: SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not ...") or a table
 * with nothing to fall back on; for an alarm_platform not among those chosen.
 * BOT_ENOMEM (with *why NULL) when memory runs out.
 */
int platforms_choose_from(const struct platform_desc *table, size_t n,
                          const struct config *cfg, struct platforms *out,
                          char **why);

/* platforms_choose - the same over the built-in table. */
int platforms_choose(const struct config *cfg, struct platforms *out,
                     char **why);

/*
 * platforms_check - the syntax of [pmbot] platforms and alarm_platform
 * against the built-in names (each known, none twice, none empty), without
 * looking at credentials, for config_validate. BOT_EINVAL with a new reason
 * in *why; BOT_OK with *why NULL.
 */
int platforms_check(const struct config *cfg, char **why);

/* platforms_cleanup - release out->v and zero *out; safe twice. */
void platforms_cleanup(struct platforms *out);

#endif
