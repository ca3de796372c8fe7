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

struct incidents;

/* command_is_command - the text starts with "/incident", "!pm" ... */
int command_is_command(const char *text);

/* command_run - parse and run ev->text ("/incident start x" or, for slash
 * commands, "incident start x") that came from platform p. In a direct
 * conversation with the bot (ev->is_dm) bare words are commands too:
 * "done ACT-3" is "/pm done ACT-3", "help" the help. In tx. */
int command_run(struct incidents *in, struct chat_platform *p,
                const struct chat_event *ev);

#endif
