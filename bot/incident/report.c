/*
 * report.c - renders the post-mortem document as Markdown or HTML.
 *
 * The document is written once, against a small set of writers (heading,
 * paragraph, table) that each format implements, so the two formats
 * cannot drift apart.
 */
#include "report.h"

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
    void (*end)(struct strbuf *o);
};

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
    if (emphasis)
        strbuf_putc(o, '_');
    report_md_escape(o, text);
    if (emphasis)
        strbuf_putc(o, '_');
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

static const struct writer md = {md_begin, md_heading, md_para,
                                 md_table, md_nothing, md_nothing};

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
    strbuf_puts(o, "</title>\n<style>body{font-family:sans-serif;max-width:"
                   "60em;margin:2em auto}table{border-collapse:collapse}"
                   "td,th{border:1px solid #ccc;padding:.3em .6em;"
                   "text-align:left;vertical-align:top}</style>"
                   "</head><body>\n<h1>");
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
    strbuf_puts(o, emphasis ? "<p><em>" : "<p>");
    report_html_escape(o, text);
    strbuf_puts(o, emphasis ? "</em></p>\n" : "</p>\n");
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

static const struct writer html = {html_begin, html_heading, html_para,
                                   html_table, html_table_end, html_end};

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
};

static void
doc_free(struct doc *d)
{
    store_incident_clear(&d->inc);
    bot_free(d->roles);
    store_timeline_list_free(d->tl, d->ntl);
    store_action_list_free(d->acts, d->nacts);
    store_timeline_edits_free(d->edits, d->nedits);
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
    for (size_t i = 0; !rc && i < d->nacts; i++) {
        char *who = user_name(s, pl, d->acts[i].assignee,
                              strlen(d->acts[i].assignee));

        rc = by_name(s, pl, &d->acts[i].text);
        if (who) {
            bot_free(d->acts[i].assignee);
            d->acts[i].assignee = who;
        }
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

static void
actions_section(const struct writer *w, struct strbuf *o, const struct doc *d,
                int64_t now)
{
    static const char *const head[] = {"Action", "Assigned To",
                                       "Target Complete", "Status"};
    char today[TIMEUTIL_BUFLEN], done[TIMEUTIL_BUFLEN];
    struct strbuf cell, who, status;

    timeutil_fmt_date(now, today);
    w->heading(o, 2, "5. Follow-Up Actions");
    if (!d->nacts) {
        w->para(o, "No follow-up actions yet.", 1);
        return;
    }
    w->table(o, head, 4, 1);
    strbuf_init(&cell, 0);
    strbuf_init(&who, 0);
    strbuf_init(&status, 0);
    for (size_t i = 0; i < d->nacts; i++) {
        const struct action *a = &d->acts[i];
        const char *row[4];

        strbuf_reset(&cell);
        strbuf_reset(&who);
        strbuf_reset(&status);
        strbuf_printf(&cell, "ACT-%lld %s", (long long)a->id, a->text);
        strbuf_printf(&who, "@%s", a->assignee);
        if (a->status == ACTION_DONE)
            strbuf_printf(&status, "Done %s",
                          timeutil_fmt_date(a->completed_at, done));
        else if (strcmp(a->due_date, today) < 0)
            strbuf_puts(&status, "Overdue");
        else
            strbuf_puts(&status, "Open");
        row[0] = strbuf_str(&cell);
        row[1] = strbuf_str(&who);
        row[2] = a->due_date;
        row[3] = strbuf_str(&status);
        w->table(o, row, 4, 0);
    }
    w->table_end(o);
    strbuf_cleanup(&cell);
    strbuf_cleanup(&who);
    strbuf_cleanup(&status);
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
    timeline_section(w, out, &d);

    w->heading(out, 2, "2. Root Cause");
    if (d.inc.root_cause)
        w->para(out, d.inc.root_cause, 0);
    else
        w->para(out,
                "Not yet identified: the blameless review has not recorded "
                "it.",
                1);
    w->heading(out, 2, "3. Worked Well");
    w->para(out, "Not yet reviewed.", 1);
    w->heading(out, 2, "4. Could Be Better");
    w->para(out, "Not yet reviewed.", 1);
    actions_section(w, out, &d, now);

    w->heading(out, 2, "Security Layers");
    if (d.inc.severity <= 1)
        w->para(out,
                "Not yet assessed: the review asks which layers were applied "
                "and which should reasonably have caught this bug.",
                1);
    else
        w->para(out, "Not required: the analysis applies to SEV1 or worse.",
                1);
    edits_appendix(w, out, &d);
    w->end(out);
    doc_free(&d);
    return strbuf_error(out);
}
