/*
 * config.h - pmbot's configuration: an INI file, then the environment.
 *
 * Owns: the table of every key (section, name, type, default, bounds,
 * environment variable, secret or not) and the parsed values.
 * Order of precedence: built-in default < file < environment.
 * Secrets (tokens, passwords) are never printed: config_dump() shows only
 * whether they are set.
 * Errors: config_load returns BOT_EIO when the file cannot be read and
 * BOT_EINVAL when a line or value is wrong; *why gets a new one-line reason
 * naming the file and line (free with bot_free).
 */
#ifndef PMBOT_CONFIG_H
#define PMBOT_CONFIG_H

struct strbuf;

/* A [mapping NAME] section: JSON pointers into any alarm body, for
 * POST /hooks/generic/NAME. */
struct config_mapping {
    char *name;
    char *title, *severity, *description, *dedup_key, *link;
};

struct config {
    /* [pmbot] */
    /* comma-separated terminal, slack, matrix; NULL: chosen by credentials
     * (platforms.h). The old key `platform` is read into it too. */
    char *platforms;
    char *alarm_platform; /* one of those connected; NULL: the first */
    char *database;
    int synchronous_full;
    char *timeline_emoji;      /* the character, e.g. 📌 */
    char *timeline_emoji_name; /* its name on Slack, e.g. pushpin */
    char *channel_prefix;
    int default_severity;
    char *responders;     /* comma-separated user ids; nullable */
    char *responders_sev[5]; /* more, by severity 0..4; nullable */
    char *review_channel; /* nullable */
    char *default_commander; /* user id; nullable */
    char *publish_channel;   /* room the document is also published in */
    char *admins;            /* comma-separated user ids; nullable */
    /* [reminders] */
    char *weekly_day;   /* monday .. sunday */
    char *weekly_time;  /* HH:MM, in the assignee's time zone */
    char *timezone;     /* tz database name, for who has none, and months */
    char *monthly_time; /* HH:MM on the first working day of the month */
    /* [review] */
    char *blame_patterns;  /* an extended regex; nullable (blame.h) */
    char *secret_patterns; /* an extended regex; nullable (scrub.h) */
    int review_gap;        /* minutes of silence the review points at */
    char *log_level;
    /* [slack] */
    char *slack_app_token; /* secret */
    char *slack_bot_token; /* secret */
    char *slack_api_url;
    /* [matrix] */
    char *matrix_homeserver;
    char *matrix_user_id;
    char *matrix_access_token; /* secret */
    char *matrix_password;     /* secret */
    char *matrix_allow_invites; /* NULL: the bot's own server */
    char *matrix_device_id;
    /* [webhook] */
    char *webhook_listen;
    char *webhook_token; /* secret */
    char *severity_map;  /* "critical=1,high=2,..." */
    int body_timeout;    /* seconds a client has to send its body */
    struct config_mapping *mappings;
    int nmappings;
    /* [storage] */
    int dedupe_days; /* processed event ids kept this long */
    int cache_days;  /* cached messages kept this long after resolution */
};

/* config_weekday - 0 (sunday) .. 6 for a day's name (any case, or its
 * first three letters), -1 for anything else. */
int config_weekday(const char *s);

/* config_defaults - fill cfg with the built-in defaults (no file, no env). */
int config_defaults(struct config *cfg);

/*
 * config_load - defaults, then path (NULL: none), then the environment.
 * On failure cfg is left cleared.
 */
int config_load(struct config *cfg, const char *path, char **why);

/* config_validate - the values and cross-key checks (platform names, token
 * shapes, severity map, mappings), not whether credentials are present: the
 * offline commands need none, and platforms_choose (platforms.h) judges them
 * for `pmbot run`. BOT_EINVAL with a new reason in *why. It also hands
 * [review] blame_patterns and secret_patterns, once they compile, to the
 * blame finder (blame.h) and the scrubber (scrub.h). */
int config_validate(const struct config *cfg, char **why);

/* config_dump - the effective configuration as INI, secrets hidden. */
int config_dump(const struct config *cfg, struct strbuf *out);

void config_cleanup(struct config *cfg);

#endif
