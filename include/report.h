/*
 * report.h - the post-mortem document.
 *
 * Owns: the document's structure (the five sections of SPEC.md in order,
 * then the security-layers analysis and an appendix of timeline edits) and
 * its renderings. Everything a user wrote is escaped for the format, so a
 * '|' or a newline in a message cannot break a Markdown table and '<' cannot
 * become HTML.
 * Errors: BOT_ENOTFOUND (no such incident), BOT_EDB, BOT_ENOMEM.
 */
#ifndef PMBOT_REPORT_H
#define PMBOT_REPORT_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct strbuf;

enum report_format { REPORT_MD = 0, REPORT_HTML };

/*
 * report_render - append incident_id's document to out. now (UTC ms) decides
 * which open actions are overdue.
 */
int report_render(struct store *s, int64_t incident_id, int format,
                  int64_t now, struct strbuf *out);

struct action;

/*
 * report_actions - the table `pmbot actions` prints: a header line, then one
 * line per action of list (n of them, borrowed) with its status on now's
 * date (open, overdue, done), or "No [open ]follow-up actions." when n is 0
 * (all: the list holds done ones too). Text and assignee pass through
 * chat_text_show(), so no escape sequence reaches the terminal.
 */
int report_actions(struct strbuf *out, const struct action *list, size_t n,
                   int all, int64_t now);

/* report_md_escape - append text escaped for a Markdown table cell or list
 * item (backslash escapes, newlines as <br>). */
int report_md_escape(struct strbuf *out, const char *text);

/* report_html_escape - append text with & < > " ' as entities. */
int report_html_escape(struct strbuf *out, const char *text);

#endif
