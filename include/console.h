/*
 * console.h - the terminal platform: pmbot in a shell, no chat server.
 *
 * Owns: the rooms, messages and reactions of one terminal session (in
 * memory; the incidents themselves are in the database), and the reading of
 * input lines. One local user types; `/as <user>` switches who, `/join
 * <room>` where. Every message shown gets a number n for `/react n 📌`,
 * `/unreact n 📌`, `/edit n <text>` and `/delete n`. `/clock <ISO-8601>`
 * fixes the bot's clock (for rehearsals and scripted tests).
 * Output goes to `out` one line per message, so a pipe can script it.
 */
#ifndef PMBOT_CONSOLE_H
#define PMBOT_CONSOLE_H

#include <stddef.h>
#include <stdio.h>

struct chat_platform;
struct loop;

/* console_new - a terminal platform writing to out (borrowed), starting as
 * user in room "general". Errors: BOT_ENOMEM. */
int console_new(FILE *out, const char *user, struct chat_platform **pout);

/* console_attach - read lines from fd on loop; at end of input the loop is
 * stopped if stop_at_eof. Call after bot_set_platform(). */
int console_attach(struct chat_platform *p, struct loop *loop, int fd,
                   int stop_at_eof);

/* console_line - handle one input line of len bytes, as if typed. A line
 * over CONSOLE_LINE_MAX bytes is refused with a note, whole; otherwise it
 * goes through chat_text_clean() (a NUL byte is dropped with the other
 * control characters, the rest of the line is kept). */
#define CONSOLE_LINE_MAX 8192
void console_line(struct chat_platform *p, const char *line, size_t len);

#endif
