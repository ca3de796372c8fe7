/*
 * report.c - renders the post-mortem document as Markdown or HTML.
 *
 * The document is written once, against a small set of writers (heading,
 * paragraph, table) that each format implements, so the two formats
 * cannot drift apart.
 */
#include "report.h"

#include "review.h"
#include "chat.h"
#include "err.h"
#include "incident.h"
#include "mem.h"
#include "scrub.h"
#include "store.h"
#include "strbuf.h"
#include "timeutil.h"

#include <stdio.h>
#include <string.h>

struct writer {
    void (*begin)(struct strbuf *o, const char *title);
    void (*heading)(struct strbuf *o, int level, const char *text);
    void (*para)(struct strbuf *o, const char *text, int emphasis);
    void (*table)(struct strbuf *o, const char *const *cells, size_t n,
                  int header);
    void (*table_end)(struct strbuf *o);
    /* a bulleted list: item per entry (first opens it), then list_end */
    void (*item)(struct strbuf *o, const char *text, int first);
    void (*list_end)(struct strbuf *o);
    void (*end)(struct strbuf *o);
};

enum { PLAIN = 0, EMPHASIS = 1, STRONG = 2 }; /* para's emphasis */

/* --- Markdown --- */

/* shown - text as chat_text_show() has it (a new string, NULL on ENOMEM):
 * the escapers below never see a control character or a bidi override. */
static char *
shown(const char *text)
{
    struct strbuf sb;

    strbuf_init(&sb, 0);
    if (chat_text_show(&sb, text, CHAT_TEXT_MULTILINE)) {
        strbuf_cleanup(&sb);
        return NULL;
    }
    return sb.buf ? strbuf_steal(&sb) : bot_strdup("");
}

int
report_md_escape(struct strbuf *out, const char *raw)
{
    const char *special = "\\`*_[]<>|~&!";
    char *text = shown(raw);

    if (!text) {
        out->err = out->err ? out->err : BOT_ENOMEM;
        return out->err;
    }
    /* a leading marker would start a list, quote or heading */
    if (text[0] && strchr("-+>=#", text[0]))
        strbuf_putc(out, '\\');
    for (const char *p = text; *p; p++) {
        unsigned char c = (unsigned char)*p;

        if (c == '\n')
            strbuf_puts(out, "<br>");
        else if (c == '\r')
            continue;
        else if (c < 0x20 || c == 0x7f)
            strbuf_putc(out, ' ');
        else if (strchr(special, c)) {
            strbuf_putc(out, '\\');
            strbuf_putc(out, (char)c);
        } else
            strbuf_putc(out, (char)c);
    }
    bot_free(text);
    return strbuf_error(out);
}

static void
md_begin(struct strbuf *o, const char *title)
{
    strbuf_puts(o, "# ");
    report_md_escape(o, title);
    strbuf_puts(o, "\n");
}

static void
md_heading(struct strbuf *o, int level, const char *text)
{
    strbuf_printf(o, "\n%.*s ", level, "######");
    report_md_escape(o, text);
    strbuf_puts(o, "\n\n");
}

static void
md_para(struct strbuf *o, const char *text, int emphasis)
{
    const char *mark = emphasis == STRONG ? "**" : emphasis ? "_" : "";

    strbuf_puts(o, mark);
    report_md_escape(o, text);
    strbuf_puts(o, mark);
    strbuf_puts(o, "\n");
}

static void
md_item(struct strbuf *o, const char *text, int first)
{
    (void)first;
    strbuf_puts(o, "- ");
    report_md_escape(o, text);
    strbuf_puts(o, "\n");
}

static void
md_table(struct strbuf *o, const char *const *cells, size_t n, int header)
{
    strbuf_puts(o, "|");
    for (size_t i = 0; i < n; i++) {
        strbuf_putc(o, ' ');
        report_md_escape(o, cells[i]);
        strbuf_puts(o, " |");
    }
    strbuf_puts(o, "\n");
    if (header) {
        strbuf_puts(o, "|");
        for (size_t i = 0; i < n; i++)
            strbuf_puts(o, "---|");
        strbuf_puts(o, "\n");
    }
}

static void
md_nothing(struct strbuf *o)
{
    (void)o;
}

static const struct writer md = {md_begin,   md_heading, md_para,
                                 md_table,   md_nothing, md_item,
                                 md_nothing, md_nothing};

/* --- HTML --- */

int
report_html_escape(struct strbuf *out, const char *raw)
{
    char *text = shown(raw);

    if (!text) {
        out->err = out->err ? out->err : BOT_ENOMEM;
        return out->err;
    }
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '&':
            strbuf_puts(out, "&amp;");
            break;
        case '<':
            strbuf_puts(out, "&lt;");
            break;
        case '>':
            strbuf_puts(out, "&gt;");
            break;
        case '"':
            strbuf_puts(out, "&quot;");
            break;
        case '\'':
            strbuf_puts(out, "&#39;");
            break;
        case '\n':
            strbuf_puts(out, "<br>");
            break;
        default:
            strbuf_putc(out, *p);
        }
    }
    bot_free(text);
    return strbuf_error(out);
}

static void
html_begin(struct strbuf *o, const char *title)
{
    strbuf_puts(o, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                   "<title>");
    report_html_escape(o, title);
    /* one printable page: a document for the meeting, no external
     * assets (tables keep their rows whole, headings their content) */
    strbuf_puts(o, "</title>\n<style>\n"
                   "@page{size:auto;margin:18mm 16mm}\n"
                   "html{background:#fff}\n"
                   "body{font:11pt/1.5 Charter,Georgia,Cambria,"
                   "Times New Roman,serif;color:#222;max-width:50em;"
                   "margin:2em auto;padding:0 1.5em}\n"
                   "h1,h2,h3{font-family:system-ui,Segoe UI,Helvetica,Arial,"
                   "sans-serif;line-height:1.25;color:#111;"
                   "break-after:avoid}\n"
                   "h1{font-size:1.6em;margin:0 0 .6em;padding-bottom:.3em;"
                   "border-bottom:2px solid #333}\n"
                   "h2{font-size:1.2em;margin:1.6em 0 .5em;"
                   "padding-bottom:.15em;border-bottom:1px solid #bbb}\n"
                   "h3{font-size:1.05em;margin:1.2em 0 .4em}\n"
                   "p,ul{margin:.5em 0}ul{padding-left:1.4em}li{"
                   "margin:.2em 0}\n"
                   "table{border-collapse:collapse;width:100%;"
                   "margin:.6em 0 1em;font-size:.95em}\n"
                   "tr{break-inside:avoid}\n"
                   "th,td{border:1px solid #999;padding:.3em .55em;"
                   "text-align:left;vertical-align:top}\n"
                   "th{background:#e8e8e8;vertical-align:bottom;"
                   "font-family:system-ui,Segoe UI,Helvetica,Arial,"
                   "sans-serif;font-size:.9em;font-weight:600}\n"
                   "h1+table{width:auto;font-size:.9em;margin-bottom:.4em}\n"
                   "h1+table+p,h1+table+p+p{margin:.15em 0;font-size:.9em;"
                   "color:#444}\n"
                   "p.note{color:#666;font-size:.95em}\n"
                   "p strong{display:block;font-family:system-ui,Segoe UI,"
                   "Helvetica,Arial,sans-serif;font-weight:600;"
                   "font-size:.95em;margin:1.2em 0 .2em;padding:.4em .7em;"
                   "border-left:4px solid #333;background:#f0f0f0;"
                   "break-after:avoid}\n"
                   "@media print{body{max-width:none;margin:0;padding:0 2px;"
                   "color:#000;font-size:10.5pt}h1,h2,h3,th{color:#000}th,"
                   "p strong{-webkit-print-color-adjust:exact;"
                   "print-color-adjust:exact}a{color:#000}}\n"
                   "</style></head><body>\n<h1>");
    report_html_escape(o, title);
    strbuf_puts(o, "</h1>\n");
}

static void
html_heading(struct strbuf *o, int level, const char *text)
{
    strbuf_printf(o, "<h%d>", level);
    report_html_escape(o, text);
    strbuf_printf(o, "</h%d>\n", level);
}

static void
html_para(struct strbuf *o, const char *text, int emphasis)
{
    strbuf_puts(o, emphasis == STRONG ? "<p><strong>"
                   : emphasis         ? "<p class=\"note\"><em>"
                                      : "<p>");
    report_html_escape(o, text);
    strbuf_puts(o, emphasis == STRONG ? "</strong></p>\n"
                   : emphasis         ? "</em></p>\n"
                                      : "</p>\n");
}

static void
html_item(struct strbuf *o, const char *text, int first)
{
    strbuf_puts(o, first ? "<ul>\n<li>" : "<li>");
    report_html_escape(o, text);
    strbuf_puts(o, "</li>\n");
}

static void
html_list_end(struct strbuf *o)
{
    strbuf_puts(o, "</ul>\n");
}

static void
html_table(struct strbuf *o, const char *const *cells, size_t n, int header)
{
    /* every table starts with its header row */
    if (header)
        strbuf_puts(o, "<table>\n");
    strbuf_puts(o, "<tr>");
    for (size_t i = 0; i < n; i++) {
        strbuf_puts(o, header ? "<th>" : "<td>");
        report_html_escape(o, cells[i]);
        strbuf_puts(o, header ? "</th>" : "</td>");
    }
    strbuf_puts(o, "</tr>\n");
}

static void
html_table_end(struct strbuf *o)
{
    strbuf_puts(o, "</table>\n");
}

static void
html_end(struct strbuf *o)
{
    strbuf_puts(o, "</body></html>\n");
}

static const struct writer html = {html_begin, html_heading,   html_para,
                                   html_table, html_table_end, html_item,
                                   html_list_end, html_end};

/* --- the actions listing --- */

/* put_cell - s shown on one line, padded to width columns (0: none) */
static void
put_cell(struct strbuf *o, const char *s, int width)
{
    size_t start = o->len, cols = 0;

    chat_text_show(o, s, 0);
    for (size_t i = start; i < o->len; i++)
        cols += ((unsigned char)o->buf[i] & 0xc0) != 0x80;
    for (; (int)cols < width; cols++)
        strbuf_putc(o, ' ');
}

int
report_actions(struct strbuf *out, const struct action *list, size_t n,
               int all, int64_t now)
{
    char today[TIMEUTIL_BUFLEN];

    timeutil_fmt_date(now, today);
    if (!n) {
        strbuf_printf(out, "No %sfollow-up actions.\n", all ? "" : "open ");
        return strbuf_error(out);
    }
    strbuf_printf(out, "%-8s %-8s %-10s %-8s %-16s %s\n", "ACTION",
                  "INCIDENT", "TARGET", "STATUS", "ASSIGNED TO", "TEXT");
    for (size_t i = 0; i < n; i++) {
        const struct action *a = &list[i];
        const char *status = a->status == ACTION_DONE ? "done"
                             : strcmp(a->due_date, today) < 0 ? "overdue"
                                                              : "open";
        char id[32], inc[32];

        snprintf(id, sizeof(id), "ACT-%lld", (long long)a->id);
        snprintf(inc, sizeof(inc), "INC-%lld", (long long)a->incident_id);
        strbuf_printf(out, "%-8s %-8s ", id, inc);
        put_cell(out, a->due_date, 10);
        strbuf_printf(out, " %-8s @", status);
        put_cell(out, a->assignee, 15);
        strbuf_putc(out, ' ');
        put_cell(out, a->text, 0);
        strbuf_putc(out, '\n');
    }
    return strbuf_error(out);
}

/* --- the document --- */

struct doc {
    struct incident inc;
    char *roles; /* "Commander: @Alice · Scribe: nobody · Comms: nobody" */
    struct timeline_entry *tl;
    size_t ntl;
    struct action *acts;
    size_t nacts;
    struct timeline_edit *edits;
    size_t nedits;
    struct review_row rev; /* has_rev: the review started */
    int has_rev;
    struct answer *well, *better;
    size_t nwell, nbetter;
};

static void
doc_free(struct doc *d)
{
    store_incident_clear(&d->inc);
    bot_free(d->roles);
    store_timeline_list_free(d->tl, d->ntl);
    store_action_list_free(d->acts, d->nacts);
    store_timeline_edits_free(d->edits, d->nedits);
    if (d->has_rev)
        store_review_clear(&d->rev);
    store_answer_list_free(d->well, d->nwell);
    store_answer_list_free(d->better, d->nbetter);
}

/* user_name - the name the store has for a user id (new), or NULL */
static char *
user_name(struct store *s, const char *platform, const char *id, size_t n)
{
    char *idz = bot_strndup(id, n), *name = NULL;

    if (idz && store_user_name(s, platform, idz, &name))
        name = NULL;
    bot_free(idz);
    return name;
}

/* room_name - the name pmbot knows for a room id (new), or NULL */
static char *
room_name(struct store *s, const char *platform, const char *id, size_t n)
{
    char *idz = bot_strndup(id, n), *name = NULL;
    struct incident in;

    if (idz && !store_incident_by_channel(s, platform, idz, &in)) {
        name = in.channel_name ? bot_strdup(in.channel_name) : NULL;
        store_incident_clear(&in);
    }
    bot_free(idz);
    return name;
}

/*
 * by_name - *text with its mentions (chat.h) shown as people and rooms are
 * named: <@U1> as @name (the latest name the store has, else @U1), <#C1>
 * as #name (the name it came with, else the incident channel's, else #C1).
 * Replaces *text; BOT_ENOMEM leaves it.
 */
static int
by_name(struct store *s, const char *platform, char **text)
{
    struct strbuf sb;
    const char *p = *text;

    if (!p || !strchr(p, '<'))
        return BOT_OK;
    strbuf_init(&sb, 0);
    while (*p) {
        struct chat_mention m;
        size_t n = strcspn(p + 1, "<") + 1;
        char *name;

        if (!chat_mention_at(p, &m)) {
            strbuf_append(&sb, p, n);
            p += n;
            continue;
        }
        if (m.kind == CHAT_SPAN_USER) {
            name = user_name(s, platform, m.id, m.idlen);
            strbuf_putc(&sb, '@');
        } else {
            name = m.namelen ? bot_strndup(m.name, m.namelen)
                             : room_name(s, platform, m.id, m.idlen);
            strbuf_putc(&sb, '#');
        }
        if (name)
            strbuf_puts(&sb, name);
        else
            strbuf_append(&sb, m.id, m.idlen);
        bot_free(name);
        p += m.len;
    }
    if (strbuf_error(&sb)) {
        strbuf_cleanup(&sb);
        return BOT_ENOMEM;
    }
    bot_free(*text);
    *text = strbuf_steal(&sb);
    return *text ? BOT_OK : BOT_ENOMEM;
}

/* roles_line - who had which role, with mentions (by_name shows them) */
static int
roles_line(struct store *s, int64_t id, char **out)
{
    struct strbuf sb;
    struct roles r;
    int rc = store_roles_get(s, id, &r);

    *out = NULL;
    if (rc)
        return rc;
    strbuf_init(&sb, 0);
    for (int i = 0; i < ROLE__N; i++) {
        strbuf_printf(&sb, "%s%s: ", i ? " \xc2\xb7 " : "",
                      incident_role_title(i));
        if (r.user[i])
            strbuf_printf(&sb, "<@%s>", r.user[i]);
        else
            strbuf_puts(&sb, "nobody");
    }
    store_roles_clear(&r);
    if (strbuf_error(&sb)) {
        strbuf_cleanup(&sb);
        return BOT_ENOMEM;
    }
    *out = strbuf_steal(&sb);
    return BOT_OK;
}

/* rename_user - *id (nullable) by its name when the store has one */
static void
rename_user(struct store *s, const char *platform, char **id)
{
    char *name = *id ? user_name(s, platform, *id, strlen(*id)) : NULL;

    if (name) {
        bot_free(*id);
        *id = name;
    }
}

/* names - every user text of the document by name, and each assignee */
static int
names(struct store *s, struct doc *d)
{
    const char *pl = d->inc.platform ? d->inc.platform : "";
    int rc = by_name(s, pl, &d->inc.title);

    if (!rc)
        rc = by_name(s, pl, &d->roles);

    if (!rc)
        rc = by_name(s, pl, &d->inc.root_cause);
    for (size_t i = 0; !rc && i < d->ntl; i++)
        rc = by_name(s, pl, &d->tl[i].text);
    for (size_t i = 0; !rc && i < d->nedits; i++)
        rc = by_name(s, pl, &d->edits[i].text);
    for (size_t i = 0; !rc && i < d->nwell; i++)
        rc = by_name(s, pl, &d->well[i].text);
    for (size_t i = 0; !rc && i < d->nbetter; i++)
        rc = by_name(s, pl, &d->better[i].text);
    for (size_t i = 0; !rc && i < d->nacts; i++) {
        struct action *a = &d->acts[i];

        rc = by_name(s, pl, &a->text);
        rename_user(s, pl, &a->assignee);
        rename_user(s, pl, &a->created_by);
        rename_user(s, pl, &a->last.by);
        if (a->last.what == ACH_REASSIGNED)
            rename_user(s, pl, &a->last.detail);
    }
    return rc;
}

/* scrub_doc - no pasted secret in what is published (scrub.h) */
static int
scrub_doc(struct doc *d)
{
    int rc = scrub(&d->inc.title);

    if (!rc)
        rc = scrub(&d->inc.root_cause);
    if (!rc)
        rc = scrub(&d->inc.alarm_details);
    for (size_t i = 0; !rc && i < d->ntl; i++)
        rc = scrub(&d->tl[i].text);
    for (size_t i = 0; !rc && i < d->nedits; i++)
        rc = scrub(&d->edits[i].text);
    for (size_t i = 0; !rc && i < d->nwell; i++)
        rc = scrub(&d->well[i].text);
    for (size_t i = 0; !rc && i < d->nbetter; i++)
        rc = scrub(&d->better[i].text);
    for (size_t i = 0; !rc && i < d->nacts; i++)
        rc = scrub(&d->acts[i].text);
    return rc;
}

static int
doc_load(struct store *s, int64_t id, struct doc *d)
{
    int rc;

    memset(d, 0, sizeof(*d));
    rc = store_incident_get(s, id, &d->inc);
    if (!rc)
        rc = store_timeline_list(s, id, &d->tl, &d->ntl);
    if (!rc)
        rc = store_action_list(s, id, 1, &d->acts, &d->nacts);
    if (!rc)
        rc = store_timeline_edits(s, id, &d->edits, &d->nedits);
    if (!rc)
        rc = roles_line(s, id, &d->roles);
    if (!rc) {
        rc = store_review_get(s, id, &d->rev);
        d->has_rev = !rc;
        if (rc == BOT_ENOTFOUND)
            rc = BOT_OK;
    }
    if (!rc)
        rc = store_answer_list(s, id, "worked_well", &d->well, &d->nwell);
    if (!rc)
        rc = store_answer_list(s, id, "could_be_better", &d->better,
                               &d->nbetter);
    if (!rc)
        rc = names(s, d);
    if (!rc)
        rc = scrub_doc(d);
    if (rc)
        doc_free(d);
    return rc;
}

static void
summary_table(const struct writer *w, struct strbuf *o, const struct doc *d)
{
    static const char *const head[] = {"Severity", "Status",
                                       "Declared (UTC)", "Resolved (UTC)",
                                       "Duration"};
    char decl[TIMEUTIL_BUFLEN], res[TIMEUTIL_BUFLEN], dur[TIMEUTIL_BUFLEN];
    const char *row[5];
    int resolved = d->inc.state == INCIDENT_RESOLVED;

    row[0] = incident_sev_name(d->inc.severity);
    row[1] = resolved ? "Resolved" : "Open";
    row[2] = timeutil_fmt_minute(d->inc.declared_at, decl);
    row[3] = resolved ? timeutil_fmt_minute(d->inc.resolved_at, res) : "";
    row[4] = resolved ? timeutil_fmt_duration(d->inc.resolved_at -
                                                  d->inc.declared_at,
                                              dur)
                      : "ongoing";
    strbuf_puts(o, "\n");
    w->table(o, head, 5, 1);
    w->table(o, row, 5, 0);
    w->table_end(o);
}

static void
timeline_section(const struct writer *w, struct strbuf *o,
                 const struct doc *d)
{
    static const char *const head[] = {"Time (UTC)", "Description"};
    char t[TIMEUTIL_BUFLEN];

    w->heading(o, 2, "1. Incident Timeline");
    w->table(o, head, 2, 1);
    for (size_t i = 0; i < d->ntl; i++) {
        const char *row[2] = {timeutil_fmt_minute(d->tl[i].at, t),
                              d->tl[i].text};

        w->table(o, row, 2, 0);
    }
    w->table_end(o);
}

/* last_change - "reassigned to @carol by @bob, 2026-11-20": the latest
 * history row (an action older than the history: its creation) */
static void
last_change(struct strbuf *sb, const struct action *a)
{
    const struct action_change *ch = &a->last;
    char day[TIMEUTIL_BUFLEN];
    const char *by = a->has_last ? ch->by : a->created_by;
    int64_t at = a->has_last ? ch->at : a->created_at;
    const char *detail = ch->detail ? ch->detail : "";

    switch (a->has_last ? ch->what : ACH_CREATED) {
    case ACH_DONE:
        strbuf_puts(sb, "done");
        break;
    case ACH_REOPENED:
        strbuf_puts(sb, "reopened");
        break;
    case ACH_REASSIGNED:
        strbuf_printf(sb, "reassigned to @%s", detail);
        break;
    case ACH_DUE:
        strbuf_printf(sb, "moved to %s", detail);
        break;
    case ACH_SNOOZED:
        strbuf_printf(sb, "snoozed until %s", detail);
        break;
    default:
        strbuf_puts(sb, "created");
        break;
    }
    if (by)
        strbuf_printf(sb, " by @%s", by);
    strbuf_printf(sb, ", %s", timeutil_fmt_date(at, day));
}

static void
actions_section(const struct writer *w, struct strbuf *o, const struct doc *d,
                int64_t now)
{
    static const char *const head[] = {"Action", "Assigned To",
                                       "Target Complete", "Status",
                                       "Last Change"};
    char today[TIMEUTIL_BUFLEN], done[TIMEUTIL_BUFLEN];
    struct strbuf cell, who, status, last;

    timeutil_fmt_date(now, today);
    w->heading(o, 2, "5. Follow-Up Actions");
    if (!d->nacts) {
        w->para(o, "No follow-up actions yet.", 1);
        return;
    }
    w->table(o, head, 5, 1);
    strbuf_init(&cell, 0);
    strbuf_init(&who, 0);
    strbuf_init(&status, 0);
    strbuf_init(&last, 0);
    for (size_t i = 0; i < d->nacts; i++) {
        const struct action *a = &d->acts[i];
        const char *row[5];

        strbuf_reset(&cell);
        strbuf_reset(&who);
        strbuf_reset(&status);
        strbuf_reset(&last);
        strbuf_printf(&cell, "ACT-%lld %s", (long long)a->id, a->text);
        strbuf_printf(&who, "@%s", a->assignee);
        if (a->status == ACTION_DONE)
            strbuf_printf(&status, "Done %s",
                          timeutil_fmt_date(a->completed_at, done));
        else if (strcmp(a->due_date, today) < 0)
            strbuf_puts(&status, "Overdue");
        else
            strbuf_puts(&status, "Open");
        last_change(&last, a);
        row[0] = strbuf_str(&cell);
        row[1] = strbuf_str(&who);
        row[2] = a->due_date;
        row[3] = strbuf_str(&status);
        row[4] = strbuf_str(&last);
        w->table(o, row, 5, 0);
    }
    w->table_end(o);
    strbuf_cleanup(&cell);
    strbuf_cleanup(&who);
    strbuf_cleanup(&status);
    strbuf_cleanup(&last);
}

static int
skipped(const struct doc *d, int step)
{
    return d->has_rev && (d->rev.skipped & (1u << step));
}

/* layers_asked - the analysis belongs in this document */
static int
layers_asked(const struct doc *d)
{
    return d->inc.severity <= 1 || (d->has_rev && d->rev.layers_only);
}

static int
layers_settled(const struct doc *d)
{
    struct review_verdict v;

    return d->has_rev && (d->rev.found == REVIEW_FOUND_EARLIER ||
                          review_row_verdict(&d->rev, &v));
}

/* missing_note - before the review is complete: what it still lacks */
static void
missing_note(const struct writer *w, struct strbuf *o, const struct doc *d)
{
    const char *miss[5];
    size_t n = 0;
    struct strbuf sb;

    /* /pm layers alone asks none of the rest */
    if (d->has_rev && d->rev.full_done)
        return;
    if (!d->inc.root_cause && !(d->has_rev && d->rev.root_action))
        miss[n++] = "Root Cause";
    if (!d->nwell)
        miss[n++] = "Worked Well";
    if (!d->nbetter)
        miss[n++] = "Could Be Better";
    if (!d->nacts)
        miss[n++] = "Follow-Up Actions";
    if (layers_asked(d) && !layers_settled(d))
        miss[n++] = "Security Layers";
    if (!n)
        return;
    strbuf_init(&sb, 0);
    strbuf_puts(&sb, d->has_rev ? "The blameless review is not complete"
                                : "The blameless review has not run yet");
    strbuf_puts(&sb, "; still missing: ");
    for (size_t i = 0; i < n; i++)
        strbuf_printf(&sb, "%s%s", i ? ", " : "", miss[i]);
    strbuf_puts(&sb, ".");
    strbuf_puts(o, w == &md ? "\n" : "");
    w->para(o, strbuf_str(&sb), EMPHASIS);
    strbuf_cleanup(&sb);
}

static void
root_section(const struct writer *w, struct strbuf *o, const struct doc *d)
{
    struct strbuf sb;

    w->heading(o, 2, "2. Root Cause");
    if (d->inc.root_cause) {
        w->para(o, d->inc.root_cause, PLAIN);
    } else if (d->has_rev && d->rev.root_action) {
        strbuf_init(&sb, 0);
        strbuf_printf(&sb,
                      "Unknown at the review: ACT-%lld (Identify and "
                      "document the root cause) finds it.",
                      (long long)d->rev.root_action);
        w->para(o, strbuf_str(&sb), EMPHASIS);
        strbuf_cleanup(&sb);
    } else if (skipped(d, REVIEW_ROOT)) {
        w->para(o, "Skipped at the review.", EMPHASIS);
    } else {
        w->para(o,
                "Not yet identified: the blameless review has not recorded "
                "it.",
                EMPHASIS);
    }
}

static void
list_section(const struct writer *w, struct strbuf *o, const struct doc *d,
             const char *title, int step, const struct answer *a, size_t n)
{
    w->heading(o, 2, title);
    for (size_t i = 0; i < n; i++)
        w->item(o, a[i].text, i == 0);
    if (n)
        w->list_end(o);
    else if (skipped(d, step))
        w->para(o, "Skipped at the review.", EMPHASIS);
    else if (d->has_rev && d->rev.step > step)
        w->para(o, "Nothing was named at the review.", EMPHASIS);
    else
        w->para(o, "Not yet reviewed.", EMPHASIS);
}

static const char *
yes_no(unsigned mask, int i)
{
    return mask & (1u << i) ? "yes" : "no";
}

static void
verdict_part(const struct writer *w, struct strbuf *o,
             const struct doc *d, const struct review_verdict *v)
{
    static const char *const found[] = {"production", "pre-production"};
    static const char *const head[] = {"Layer", "Applied",
                                       "Should / would it have caught it?"};
    unsigned applied = (unsigned)d->rev.applied;
    char *props[REVIEW_MAX_PROPOSALS];
    struct strbuf sb;
    size_t n = 0;

    strbuf_init(&sb, 0);
    strbuf_printf(&sb, "Found in %s. A severe bug found there asks which "
                       "layers were applied, and which of them should, or "
                       "would, reasonably have caught it.",
                  found[d->rev.found]);
    w->para(o, strbuf_str(&sb), PLAIN);
    strbuf_puts(o, w == &md ? "\n" : "");
    w->table(o, head, 3, 1);
    for (int i = 0; i < REVIEW_NLAYERS; i++) {
        const char *row[3] = {review_layer_name(i), yes_no(applied, i),
                              d->rev.asked & (1u << i)
                                  ? yes_no(d->rev.caught, i)
                                  : "not answered"};

        w->table(o, row, 3, 0);
    }
    w->table_end(o);
    strbuf_puts(o, w == &md ? "\n" : "");
    strbuf_reset(&sb);
    strbuf_puts(&sb, "Verdict: ");
    if (v->kinds & REVIEW_UNDERPERFORMED) {
        struct review_verdict only = *v;

        only.kinds = REVIEW_UNDERPERFORMED;
        review_verdict_name(&only, &sb);
        w->para(o, strbuf_str(&sb), STRONG);
        strbuf_puts(o, w == &md ? "\n" : "");
        strbuf_reset(&sb);
        strbuf_puts(&sb, "Applied, and should reasonably have caught this "
                         "bug: ");
        review_layer_list(v->under, &sb);
        strbuf_puts(&sb, ". It underperformed; the action is to strengthen "
                         "it.");
        w->para(o, strbuf_str(&sb), PLAIN);
    }
    if (v->kinds & REVIEW_NOT_ENOUGH_LAYERS) {
        strbuf_reset(&sb);
        strbuf_puts(&sb, v->kinds & REVIEW_UNDERPERFORMED
                             ? "And: Not enough layers"
                             : "Verdict: Not enough layers");
        strbuf_puts(o, w == &md && (v->kinds & REVIEW_UNDERPERFORMED)
                           ? "\n"
                           : "");
        w->para(o, strbuf_str(&sb), STRONG);
        strbuf_puts(o, w == &md ? "\n" : "");
        strbuf_reset(&sb);
        strbuf_puts(&sb, "Not applied, and would reasonably have caught it: ");
        review_layer_list(v->missing, &sb);
        strbuf_puts(&sb, ". The risk or complexity was misclassified, so the "
                         "classification process must be strengthened.");
        w->para(o, strbuf_str(&sb), PLAIN);
    }
    if (v->kinds & REVIEW_NOT_DEMANDING) {
        w->para(o, "Verdict: Requirements not demanding enough", STRONG);
        strbuf_puts(o, w == &md ? "\n" : "");
        w->para(o,
                "Every layer that could reasonably catch it was applied and "
                "performed: the requirements table is not demanding enough. "
                "Shift it left, so the same risk and complexity get more "
                "layers.",
                PLAIN);
    }
    if (!review_proposals(v, props, &n) && n) {
        strbuf_puts(o, w == &md ? "\n" : "");
        w->para(o, "Proposed follow-up actions:", PLAIN);
        strbuf_puts(o, w == &md ? "\n" : "");
        for (size_t i = 0; i < n; i++) {
            strbuf_reset(&sb);
            strbuf_printf(&sb, "%s (%s)", props[i],
                          d->rev.accepted < 0 ? "not answered yet"
                          : d->rev.accepted & (1 << i)
                              ? "accepted: a follow-up action"
                              : "not taken");
            w->item(o, strbuf_str(&sb), i == 0);
        }
        w->list_end(o);
        review_proposals_free(props, n);
    }
    strbuf_cleanup(&sb);
}

static void
layers_section(const struct writer *w, struct strbuf *o, const struct doc *d)
{
    struct review_verdict v;
    struct strbuf sb;

    w->heading(o, 2, "Security Layers");
    if (d->has_rev && d->rev.found == REVIEW_FOUND_EARLIER) {
        w->para(o,
                "Found before the last pre-production layer: the layers did "
                "their job. No verdict is needed.",
                PLAIN);
    } else if (d->has_rev && review_row_verdict(&d->rev, &v)) {
        verdict_part(w, o, d, &v);
    } else if (!layers_asked(d)) {
        strbuf_init(&sb, 0);
        strbuf_printf(&sb,
                      "Not assessed: the analysis applies to SEV1 or worse, "
                      "and this was %s. \"pm layers\" assesses it anyway (/pm "
                      "layers on Slack, !pm layers in the terminal and on "
                      "Matrix).",
                      incident_sev_name(d->inc.severity));
        w->para(o, strbuf_str(&sb), EMPHASIS);
        strbuf_cleanup(&sb);
    } else if (skipped(d, REVIEW_FOUND_Q) || skipped(d, REVIEW_APPLIED_Q)) {
        w->para(o, "Skipped at the review.", EMPHASIS);
    } else {
        w->para(o,
                "Not yet assessed: the review asks which layers were applied "
                "and which should reasonably have caught this bug.",
                EMPHASIS);
    }
}

static void
edits_appendix(const struct writer *w, struct strbuf *o, const struct doc *d)
{
    static const char *const head[] = {"Entry time (UTC)", "Earlier text",
                                       "Replaced (UTC)"};
    char at[TIMEUTIL_BUFLEN], rep[TIMEUTIL_BUFLEN];

    if (!d->nedits)
        return;
    w->heading(o, 2, "Appendix: Timeline Edits");
    w->para(o,
            "Tagged messages edited after they were recorded; the timeline "
            "shows their latest text.",
            0);
    strbuf_puts(o, w == &md ? "\n" : "");
    w->table(o, head, 3, 1);
    for (size_t i = 0; i < d->nedits; i++) {
        const char *row[3] = {timeutil_fmt_minute(d->edits[i].entry_at, at),
                              d->edits[i].text,
                              timeutil_fmt_minute(d->edits[i].replaced_at,
                                                  rep)};

        w->table(o, row, 3, 0);
    }
    w->table_end(o);
}

int
report_render(struct store *s, int64_t incident_id, int format, int64_t now,
              struct strbuf *out)
{
    const struct writer *w = format == REPORT_HTML ? &html : &md;
    struct strbuf title;
    struct doc d;
    int rc;

    rc = doc_load(s, incident_id, &d);
    if (rc)
        return rc;
    strbuf_init(&title, 0);
    strbuf_printf(&title, "Post-mortem: INC-%lld %s", (long long)d.inc.id,
                  d.inc.title);
    w->begin(out, strbuf_str(&title));
    strbuf_cleanup(&title);
    summary_table(w, out, &d);
    if (d.inc.channel_name) {
        strbuf_puts(out, w == &md ? "\n" : "");
        strbuf_printf(&title, "Channel: #%s", d.inc.channel_name);
        w->para(out, strbuf_str(&title), 0);
        strbuf_cleanup(&title);
    }
    if (d.roles) {
        strbuf_puts(out, w == &md ? "\n" : "");
        w->para(out, d.roles, 0);
    }

    missing_note(w, out, &d);
    timeline_section(w, out, &d);
    root_section(w, out, &d);
    list_section(w, out, &d, "3. Worked Well", REVIEW_WELL, d.well, d.nwell);
    list_section(w, out, &d, "4. Could Be Better", REVIEW_BETTER, d.better,
                 d.nbetter);
    actions_section(w, out, &d, now);
    layers_section(w, out, &d);
    edits_appendix(w, out, &d);
    w->end(out);
    doc_free(&d);
    return strbuf_error(out);
}
