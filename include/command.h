/*
 * command.h - chat commands: /incident ... and /pm ...
 *
 * Owns: the command table (name, arity, whether it needs an incident
 * channel, handler, usage) and the parsing of each command's words.
 * Does not own: transactions or delivery; command_run runs inside the
 * caller's transaction and queues its replies on the bot.
 * Errors: a refused command has already been answered (bot_reply_now) and
 * returns BOT_EINVAL or BOT_ENOTFOUND, so the caller rolls back; BOT_EDB
 * and BOT_ENOMEM are failures the caller reports.
 */
#ifndef PMBOT_COMMAND_H
#define PMBOT_COMMAND_H

#include "chat.h"

struct bot;

/* command_is_command - the text starts with "/incident", "!pm" ... */
int command_is_command(const char *text);

/* command_run - parse and run ev->text ("/incident start x" or, for slash
 * commands, "incident start x"). In tx. */
int command_run(struct bot *b, const struct chat_event *ev);

/* command_split_action - split "/pm action" arguments "<text> @user
 * <YYYY-MM-DD>" into new strings; *why gets a static reason on
 * BOT_EINVAL. parse_user turns the mention token into a user id. */
int command_split_action(const char *args,
                         int (*parse_user)(void *ctx, const char *token,
                                           char **user),
                         void *ctx, char **text, char **user, char **date,
                         const char **why);

#endif
