/*
 * config.c - the key table, the INI reader (inih) and the environment.
 *
 * One table drives parsing, defaults, environment overrides, validation of
 * bounds and the dump, so a key is added in one place.
 */
#include "config.h"

#include "alarm.h"
#include "blame.h"

#include "err.h"
#include "log.h"
#include "mem.h"
#include "platforms.h"
#include "scrub.h"
#include "strbuf.h"
#include "timeutil.h"
#include "zone.h"

#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum key_type { KEY_STR, KEY_INT, KEY_BOOL };

struct key {
    const char *section;
    const char *name;
    int type;
    size_t offset;
    const char *def; /* default as text; NULL for none */
    long min, max;   /* KEY_INT bounds */
    const char *env; /* overriding environment variable; nullable */
    int secret;
    const char *help; /* one line for the dump */
    int alias;        /* an old name of the key before it: read, not dumped */
};

#define STR(sec, nm, field, def, env, secret, help)                            \
    {sec, nm, KEY_STR, offsetof(struct config, field), def, 0, 0, env,        \
     secret, help, 0}
/* ALIAS - an old name still read from files, into the key before it */
#define ALIAS(sec, nm, field)                                                  \
    {sec, nm, KEY_STR, offsetof(struct config, field), NULL, 0, 0, NULL, 0,  \
     NULL, 1}
#define INT(sec, nm, field, def, min, max, help)                               \
    {sec, nm, KEY_INT, offsetof(struct config, field), def, min, max, NULL,   \
     0, help, 0}
#define BOOL(sec, nm, field, def, help)                                        \
    {sec, nm, KEY_BOOL, offsetof(struct config, field), def, 0, 1, NULL, 0,   \
     help, 0}

static const struct key keys[] = {
    STR("pmbot", "platforms", platforms, NULL, "PMBOT_PLATFORM", 0,
        "comma-separated slack, matrix, terminal; unset: those whose "
        "credentials are set, else the terminal"),
    ALIAS("pmbot", "platform", platforms),
    STR("pmbot", "alarm_platform", alarm_platform, NULL,
        "PMBOT_ALARM_PLATFORM", 0,
        "where alarms open their channel; unset: the first platform"),
    STR("pmbot", "database", database, "pmbot.db", "PMBOT_DB", 0,
        "SQLite file"),
    BOOL("pmbot", "synchronous_full", synchronous_full, "true",
         "fsync every commit (survives power loss)"),
    STR("pmbot", "timeline_emoji", timeline_emoji, "\xf0\x9f\x93\x8c", NULL, 0,
        "reaction that tags a message into the timeline"),
    STR("pmbot", "timeline_emoji_name", timeline_emoji_name, "pushpin", NULL,
        0, "the same emoji's name on Slack"),
    STR("pmbot", "channel_prefix", channel_prefix, "inc", NULL, 0,
        "incident channels are <prefix>-YYYYMMDD-<title>"),
    INT("pmbot", "default_severity", default_severity, "2", 0, 4,
        "severity of an incident declared without one"),
    STR("pmbot", "responders", responders, NULL, "PMBOT_RESPONDERS", 0,
        "user ids invited to every incident channel"),
    STR("pmbot", "responders_sev0", responders_sev[0], NULL, NULL, 0,
        "also invited to SEV0 incidents"),
    STR("pmbot", "responders_sev1", responders_sev[1], NULL, NULL, 0,
        "also invited to SEV1 incidents"),
    STR("pmbot", "responders_sev2", responders_sev[2], NULL, NULL, 0,
        "also invited to SEV2 incidents"),
    STR("pmbot", "responders_sev3", responders_sev[3], NULL, NULL, 0,
        "also invited to SEV3 incidents"),
    STR("pmbot", "responders_sev4", responders_sev[4], NULL, NULL, 0,
        "also invited to SEV4 incidents"),
    STR("pmbot", "default_commander", default_commander, NULL,
        "PMBOT_DEFAULT_COMMANDER", 0,
        "commander of an alarm's incident until a responder writes"),
    STR("pmbot", "review_channel", review_channel, NULL,
        "PMBOT_REVIEW_CHANNEL", 0, "channel for the monthly actions review"),
    STR("pmbot", "publish_channel", publish_channel, NULL,
        "PMBOT_PUBLISH_CHANNEL", 0,
        "room where /pm report also publishes the document"),
    STR("pmbot", "admins", admins, NULL, "PMBOT_ADMINS", 0,
        "user ids (comma-separated) who may change any action"),
    STR("pmbot", "log_level", log_level, "info", "PMBOT_LOG_LEVEL", 0,
        "error, warn, info or debug"),
    STR("review", "blame_patterns", blame_patterns, NULL, NULL, 0,
        "more blaming words to answer privately: one extended regular "
        "expression (alternatives with |), case-insensitive"),
    STR("review", "secret_patterns", secret_patterns, NULL, NULL, 0,
        "more secrets to scrub from what is published: one extended "
        "regular expression (alternatives with |)"),
    INT("review", "review_gap", review_gap, "30", 1, 1440,
        "minutes of silence in an open incident's timeline the review "
        "points at"),
    STR("reminders", "weekly_day", weekly_day, "monday", NULL, 0,
        "the day of the weekly reminder DM to each assignee"),
    STR("reminders", "weekly_time", weekly_time, "09:00", NULL, 0,
        "its time (HH:MM) in the assignee's own time zone"),
    STR("reminders", "timezone", timezone, "UTC", "PMBOT_TIMEZONE", 0,
        "tz database zone for assignees whose platform gives none, for "
        "target dates and the monthly review"),
    STR("reminders", "monthly_time", monthly_time, "10:00", NULL, 0,
        "time (HH:MM) of the monthly open-actions review, on the first "
        "working day"),
    STR("slack", "app_token", slack_app_token, NULL, "SLACK_APP_TOKEN", 1,
        "xapp- app-level token (Socket Mode)"),
    STR("slack", "bot_token", slack_bot_token, NULL, "SLACK_BOT_TOKEN", 1,
        "xoxb- bot token (Web API)"),
    STR("slack", "api_url", slack_api_url, "https://slack.com/api/",
        "SLACK_API_URL", 0, "Web API base"),
    STR("matrix", "homeserver", matrix_homeserver, NULL, "MATRIX_HOMESERVER",
        0, "e.g. https://matrix.example.org"),
    STR("matrix", "user_id", matrix_user_id, NULL, "MATRIX_USER_ID", 0,
        "the bot's account, @pmbot:example.org"),
    STR("matrix", "access_token", matrix_access_token, NULL,
        "MATRIX_ACCESS_TOKEN", 1, "the bot's access token"),
    STR("matrix", "password", matrix_password, NULL, "MATRIX_PASSWORD", 1,
        "or its password, to log in"),
    STR("matrix", "allow_invites_from", matrix_allow_invites, NULL,
        "MATRIX_ALLOW_INVITES_FROM", 0,
        "comma-separated @user:server or server names whose invites the "
        "bot accepts; unset: its own server"),
    STR("matrix", "device_id", matrix_device_id, "PMBOT", "MATRIX_DEVICE_ID",
        0, "the device a password login uses"),
    STR("webhook", "listen", webhook_listen, "127.0.0.1:8088", "PMBOT_LISTEN",
        0, "address:port of the alarm listener"),
    STR("webhook", "token", webhook_token, NULL, "PMBOT_WEBHOOK_TOKEN", 1,
        "secret alarm senders present"),
    INT("webhook", "body_timeout", body_timeout, "10", 1, 300,
        "seconds a sender has for its whole request, from connecting"),
    STR("webhook", "severity_map", severity_map, ALARM_SEVERITY_DEFAULT,
        NULL, 0, "alarm severity label -> SEV (label=0..4, comma-separated)"),
    INT("storage", "dedupe_days", dedupe_days, "3", 1, 3650,
        "days an event id is remembered, so a redelivery does nothing"),
    INT("storage", "cache_days", cache_days, "30", 1, 36500,
        "days the messages of a resolved incident's channel are kept"),
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static char **
str_at(struct config *cfg, const struct key *k)
{
    return (char **)((char *)cfg + k->offset);
}

static int *
int_at(struct config *cfg, const struct key *k)
{
    return (int *)((char *)cfg + k->offset);
}

static int
parse_bool(const char *v, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};

    for (int i = 0; i < 4; i++) {
        if (!strcmp(v, yes[i])) {
            *out = 1;
            return BOT_OK;
        }
        if (!strcmp(v, no[i])) {
            *out = 0;
            return BOT_OK;
        }
    }
    return BOT_EINVAL;
}

/* set - store a textual value; *why gets a static reason on BOT_EINVAL. */
static int
set(struct config *cfg, const struct key *k, const char *v, const char **why)
{
    long n;
    char *d;

    switch (k->type) {
    case KEY_INT:
        if (parse_long(v, k->min, k->max, &n)) {
            *why = "not a whole number in range";
            return BOT_EINVAL;
        }
        *int_at(cfg, k) = (int)n;
        return BOT_OK;
    case KEY_BOOL:
        if (parse_bool(v, int_at(cfg, k))) {
            *why = "not true or false";
            return BOT_EINVAL;
        }
        return BOT_OK;
    }
    d = *v ? bot_strdup(v) : NULL;
    if (*v && !d)
        return BOT_ENOMEM;
    bot_free(*str_at(cfg, k));
    *str_at(cfg, k) = d;
    return BOT_OK;
}

int
config_defaults(struct config *cfg)
{
    const char *why;

    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < NKEYS; i++) {
        if (keys[i].def && set(cfg, &keys[i], keys[i].def, &why)) {
            config_cleanup(cfg);
            return BOT_ENOMEM;
        }
    }
    return BOT_OK;
}

struct parse_state {
    struct config *cfg;
    struct strbuf err;
    int rc;
};

/* mapping_key - a key of a [mapping NAME] section */
static int
mapping_key(struct config *cfg, const char *mname, const char *key,
            const char *value, const char **why)
{
    struct config_mapping *m = NULL, *nm;
    char **field = NULL;

    for (int i = 0; i < cfg->nmappings; i++) {
        if (!strcmp(cfg->mappings[i].name, mname))
            m = &cfg->mappings[i];
    }
    if (!m) {
        if (!*mname || strlen(mname) > 64 ||
            strspn(mname, "abcdefghijklmnopqrstuvwxyz0123456789-_") !=
                strlen(mname)) {
            *why = "a mapping name is 1 to 64 of a-z 0-9 - _";
            return BOT_EINVAL;
        }
        nm = bot_realloc(cfg->mappings,
                         (size_t)(cfg->nmappings + 1) * sizeof(*nm));
        if (!nm)
            return BOT_ENOMEM;
        cfg->mappings = nm;
        m = &cfg->mappings[cfg->nmappings];
        memset(m, 0, sizeof(*m));
        m->name = bot_strdup(mname);
        if (!m->name)
            return BOT_ENOMEM;
        cfg->nmappings++;
    }
    if (!strcmp(key, "title"))
        field = &m->title;
    else if (!strcmp(key, "severity"))
        field = &m->severity;
    else if (!strcmp(key, "description"))
        field = &m->description;
    else if (!strcmp(key, "dedup_key"))
        field = &m->dedup_key;
    else if (!strcmp(key, "link"))
        field = &m->link;
    if (!field) {
        *why = "unknown key (title, severity, description, dedup_key, link)";
        return BOT_EINVAL;
    }
    bot_free(*field);
    *field = bot_strdup(value);
    return *field ? BOT_OK : BOT_ENOMEM;
}

static int
on_ini(void *user, const char *section, const char *name, const char *value)
{
    struct parse_state *ps = user;
    const char *why = "unknown key";

    if (!strncmp(section, "mapping ", 8)) {
        int rc = mapping_key(ps->cfg, section + 8, name, value, &why);

        if (!rc)
            return 1;
        if (!ps->rc) {
            ps->rc = rc;
            strbuf_printf(&ps->err, "[%s] %s: %s", section, name, why);
        }
        return 0;
    }

    for (size_t i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];
        int rc;

        if (strcmp(k->section, section) || strcmp(k->name, name))
            continue;
        rc = set(ps->cfg, k, value, &why);
        if (!rc)
            return 1;
        if (rc == BOT_ENOMEM) {
            ps->rc = rc;
            return 0;
        }
        break;
    }
    /* keep the first error only; a secret's value is never echoed */
    if (!ps->rc) {
        ps->rc = BOT_EINVAL;
        strbuf_printf(&ps->err, "[%s] %s: %s", section, name, why);
    }
    return 0;
}

static int
apply_env(struct config *cfg, char **why)
{
    for (size_t i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];
        const char *v = k->env ? getenv(k->env) : NULL;
        const char *reason;
        int rc;

        if (!v)
            continue;
        rc = set(cfg, k, v, &reason);
        if (rc == BOT_EINVAL) {
            struct strbuf sb;

            strbuf_init(&sb, 0);
            strbuf_printf(&sb, "environment %s: %s", k->env, reason);
            *why = strbuf_steal(&sb);
        }
        if (rc)
            return rc;
    }
    return BOT_OK;
}

int
config_load(struct config *cfg, const char *path, char **why)
{
    struct parse_state ps = {cfg, {0}, BOT_OK};
    struct strbuf sb;
    int rc, line;

    *why = NULL;
    rc = config_defaults(cfg);
    if (rc)
        return rc;
    if (path) {
        strbuf_init(&ps.err, 0);
        line = ini_parse(path, on_ini, &ps);
        if (line == -1) {
            strbuf_cleanup(&ps.err);
            strbuf_init(&sb, 0);
            strbuf_printf(&sb, "cannot read configuration file '%s'", path);
            *why = strbuf_steal(&sb);
            rc = BOT_EIO;
            goto fail;
        }
        if (line != 0 || ps.rc) {
            strbuf_init(&sb, 0);
            strbuf_printf(&sb, "%s:%d: %s", path, line,
                          ps.err.len ? strbuf_str(&ps.err)
                                     : "not a key = value line");
            strbuf_cleanup(&ps.err);
            *why = strbuf_steal(&sb);
            rc = ps.rc ? ps.rc : BOT_EINVAL;
            if (line < 0)
                rc = BOT_ENOMEM;
            goto fail;
        }
        strbuf_cleanup(&ps.err);
    }
    rc = apply_env(cfg, why);
    if (rc)
        goto fail;
    return BOT_OK;

fail:
    config_cleanup(cfg);
    return rc;
}

static int reason(char **why, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
reason(char **why, const char *fmt, ...)
{
    va_list ap;
    char line[512];

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    *why = bot_strdup(line);
    return BOT_EINVAL;
}

int
config_weekday(const char *s)
{
    static const char *const days[] = {"sunday",   "monday", "tuesday",
                                       "wednesday", "thursday", "friday",
                                       "saturday"};

    for (int i = 0; s && i < 7; i++) {
        if (!strcasecmp(s, days[i]) || (strlen(s) == 3 &&
                                         !strncasecmp(s, days[i], 3)))
            return i;
    }
    return -1;
}

int
config_validate(const struct config *cfg, char **why)
{
    int rc;

    *why = NULL;
    rc = platforms_check(cfg, why);
    if (rc)
        return rc;
    if (!cfg->database)
        return reason(why, "[pmbot] database: %s", "must not be empty");
    if (!cfg->log_level || log_set_level_name(cfg->log_level))
        return reason(why, "[pmbot] log_level: '%s' is not error, warn, "
                           "info or debug",
                      cfg->log_level ? cfg->log_level : "");
    if (!cfg->timeline_emoji || !cfg->timeline_emoji_name)
        return reason(why, "[pmbot] timeline_emoji: %s", "must not be empty");
    if (blame_configure(cfg->blame_patterns))
        return reason(why, "[review] blame_patterns: %s",
                      "not an extended regular expression pmbot accepts "
                      "(at most 4096 bytes, no stacked quantifiers like "
                      "a++, no back-references, no huge repetitions)");
    if (scrub_configure(cfg->secret_patterns))
        return reason(why, "[review] secret_patterns: %s",
                      "not an extended regular expression pmbot accepts "
                      "(at most 4096 bytes, no stacked quantifiers like "
                      "a++, no back-references, no huge repetitions)");
    if (config_weekday(cfg->weekly_day) < 0)
        return reason(why, "[reminders] weekly_day: '%s' is not a day of "
                           "the week (monday .. sunday)",
                      cfg->weekly_day ? cfg->weekly_day : "");
    if (!cfg->weekly_time || timeutil_parse_hhmm(cfg->weekly_time, &rc))
        return reason(why, "[reminders] weekly_time: '%s' is not HH:MM",
                      cfg->weekly_time ? cfg->weekly_time : "");
    if (!cfg->monthly_time || timeutil_parse_hhmm(cfg->monthly_time, &rc))
        return reason(why, "[reminders] monthly_time: '%s' is not HH:MM",
                      cfg->monthly_time ? cfg->monthly_time : "");
    if (!zone_known(cfg->timezone))
        return reason(why, "[reminders] timezone: '%s' is not in the time "
                           "zone database (e.g. UTC, Europe/Berlin)",
                      cfg->timezone ? cfg->timezone : "");
    rc = BOT_OK;
    if (!cfg->channel_prefix || strlen(cfg->channel_prefix) > 20 ||
        strspn(cfg->channel_prefix, "abcdefghijklmnopqrstuvwxyz0123456789") !=
            strlen(cfg->channel_prefix))
        return reason(why, "[pmbot] channel_prefix: %s",
                      "1 to 20 lowercase letters or digits");
    {
        struct alarm_severity_map sm;
        const char *why2;

        if (!cfg->severity_map ||
            alarm_severity_map_parse(cfg->severity_map, &sm, &why2))
            return reason(why, "[webhook] severity_map: %s",
                          cfg->severity_map ? why2 : "must not be empty");
    }
    for (int i = 0; i < cfg->nmappings; i++) {
        const struct config_mapping *cm = &cfg->mappings[i];
        struct alarm_mapping am = {cm->name,        cm->title, cm->severity,
                                   cm->description, cm->dedup_key, cm->link};
        const char *why2;

        if (alarm_mapping_check(&am, &why2))
            return reason(why, "[mapping %s]: %s", cm->name, why2);
    }
    /* the shape of what is set; whether it is set is for platforms.c */
    if (cfg->slack_app_token && strncmp(cfg->slack_app_token, "xapp-", 5))
        return reason(why, "%s",
                      "[slack] app_token must be an app-level token "
                      "(xapp-...)");
    if (cfg->slack_bot_token && strncmp(cfg->slack_bot_token, "xoxb-", 5))
        return reason(why, "%s",
                      "[slack] bot_token must be a bot token (xoxb-...)");
    return BOT_OK;
}

int
config_dump(const struct config *cfg, struct strbuf *out)
{
    const char *section = "";

    for (size_t i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];
        struct config *c = (struct config *)cfg;

        if (k->alias)
            continue;
        if (strcmp(section, k->section)) {
            strbuf_printf(out, "%s[%s]\n", *section ? "\n" : "", k->section);
            section = k->section;
        }
        strbuf_printf(out, "; %s\n", k->help);
        if (k->type == KEY_INT)
            strbuf_printf(out, "%s = %d\n", k->name, *int_at(c, k));
        else if (k->type == KEY_BOOL)
            strbuf_printf(out, "%s = %s\n", k->name,
                          *int_at(c, k) ? "true" : "false");
        else if (!*str_at(c, k))
            strbuf_printf(out, "; %s is not set\n", k->name);
        else if (k->secret)
            strbuf_printf(out, "%s = (set, hidden)\n", k->name);
        else
            strbuf_printf(out, "%s = %s\n", k->name, *str_at(c, k));
    }
    for (int i = 0; i < cfg->nmappings; i++) {
        const struct config_mapping *m = &cfg->mappings[i];
        const char *const keys_[] = {"title", "severity", "description",
                                     "dedup_key", "link"};
        const char *const vals[] = {m->title, m->severity, m->description,
                                    m->dedup_key, m->link};

        strbuf_printf(out, "\n[mapping %s]\n", m->name);
        for (int k = 0; k < 5; k++) {
            if (vals[k])
                strbuf_printf(out, "%s = %s\n", keys_[k], vals[k]);
        }
    }
    return strbuf_error(out);
}

void
config_cleanup(struct config *cfg)
{
    for (int i = 0; i < cfg->nmappings; i++) {
        struct config_mapping *m = &cfg->mappings[i];

        bot_free(m->name);
        bot_free(m->title);
        bot_free(m->severity);
        bot_free(m->description);
        bot_free(m->dedup_key);
        bot_free(m->link);
    }
    bot_free(cfg->mappings);
    cfg->mappings = NULL;
    cfg->nmappings = 0;
    for (size_t i = 0; i < NKEYS; i++) {
        if (keys[i].type == KEY_STR && !keys[i].alias) {
            bot_free(*str_at(cfg, &keys[i]));
            *str_at(cfg, &keys[i]) = NULL;
        }
    }
}
