/*
 * cmd_int.h - what the command files share: the parsed command and the
 * reply helpers. Not for use outside commands/.
 */
#ifndef PMBOT_CMD_INT_H
#define PMBOT_CMD_INT_H

#include "chat.h"
#include "incident.h"
#include "store.h"

#include <stddef.h>

struct core;

struct cmd {
    struct incidents *in;
    struct core *core;
    struct chat_platform *p; /* where it came from */
    const struct chat_event *ev;
    struct asker asker;
    const char *group; /* "incident" or "pm" */
    const char *args;  /* the words after the subcommand, trimmed; "" */
    char prefix;       /* '/' or '!' as the user typed it */
    struct incident inc; /* the room's incident, when has_inc */
    int has_inc;
};

struct command_def {
    const char *group;
    const char *name;
    int min_words;      /* words required in args */
    int needs_incident; /* only in an incident channel */
    int (*handler)(struct cmd *c);
    const char *usage; /* after "/<group> " */
    const char *help;
};

/* The tables of each group, ending with a NULL name. */
extern const struct command_def cmd_incident_defs[];
extern const struct command_def cmd_pm_defs[];

/* reply - queue a reply (sent after commit). Returns BOT_OK or ENOMEM. */
int cmd_reply(struct cmd *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* cmd_refuse - answer at once and return BOT_EINVAL, so the caller's
 * transaction is rolled back: nothing half-written. */
int cmd_refuse(struct cmd *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* cmd_usage - refuse with the usage line of def. */
int cmd_usage(struct cmd *c, const struct command_def *def);

/* cmd_help - reply with every command of a group (NULL: both). */
int cmd_help(struct cmd *c, const char *group);

/* cmd_word - copy the next word of *p into a new string and advance *p
 * past it and the blanks after; NULL at the end or on ENOMEM. */
char *cmd_word(const char **p);

/* cmd_skip_blank - p past white space (newlines too: a Slack message
 * may spread a command over lines). */
const char *cmd_skip_blank(const char *p);

#endif
