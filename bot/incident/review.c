/*
 * review.c - the blameless review as a conversation (review.h): one
 * question at a time, its state a row of table reviews, every change in
 * the unit of work of the message or command that made it.
 */
#include "incident_int.h"
#include "review.h"

#include "blame.h"
#include "config.h"
#include "core.h"
#include "err.h"
#include "mem.h"
#include "outbox.h"
#include "scrub.h"
#include "strbuf.h"
#include "timeutil.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define DAY_MS (24 * 3600 * 1000LL)
#define TIMELINE_SHOWN 40 /* entries listed in the timeline question */

static const char CHECK[] = "\xe2\x9c\x85"; /* ✅: recorded */

/* What one answer or command works on. */
struct talk {
    struct incidents *in;
    struct chat_platform *p;
    struct incident inc;
    struct review_row r;
    const char *user;   /* who answered or asked; nullable */
    const char *msg_id; /* the answer's message; nullable */
    int64_t now;
};

static const char *const list_q[] = {
    [REVIEW_WELL] = "worked_well",
    [REVIEW_BETTER] = "could_be_better",
};

static int
asks_layers(const struct talk *t)
{
    return t->r.layers_only || t->inc.severity <= 1;
}

/* number - "question 3 of 6" */
static int
q_number(const struct talk *t, int step)
{
    if (t->r.layers_only)
        return 1;
    return step >= REVIEW_FOUND_Q ? 6 : step + 1;
}

static int
q_total(const struct talk *t)
{
    return t->r.layers_only ? 1 : asks_layers(t) ? 6 : 5;
}

static const char *
step_title(int step)
{
    static const char *const t[] = {
        [REVIEW_TIMELINE] = "Timeline",
        [REVIEW_ROOT] = "Root cause",
        [REVIEW_WELL] = "Worked well",
        [REVIEW_BETTER] = "Could be better",
        [REVIEW_ACTIONS] = "Follow-up actions",
    };

    return step < REVIEW_FOUND_Q ? t[step] : "Security layers";
}

/* --- saying things --- */

static int
say(struct talk *t, struct chat_msg *m)
{
    struct core *c = t->in->c;
    int rc = m->err;

    /* in the thread: by its id once known (the parent's outbox row may
     * be pruned by then), else after the parent row */
    if (!rc && t->r.thread_id)
        rc = outbox_post(c->outbox, t->p->ops->name,
                         &(struct chat_target){.room = t->inc.channel,
                                               .thread_id = t->r.thread_id},
                         m, NULL);
    else if (!rc)
        rc = outbox_reply(c->outbox, t->p->ops->name, t->inc.channel,
                          t->r.thread_row, m, NULL);
    chat_msg_cleanup(m);
    return rc;
}

static int
sayf(struct talk *t, const char *text)
{
    struct chat_msg m;

    chat_msg_init(&m);
    chat_msg_text(&m, "%s", text);
    return say(t, &m);
}

/* recorded - ✅ on the answer (skipped where there are no reactions) */
static int
recorded(struct talk *t)
{
    if (!t->msg_id)
        return BOT_OK;
    return outbox_react(t->in->c->outbox, t->p->ops->name, t->inc.channel, 0,
                        t->msg_id, CHECK);
}

static int
nudge_if_blame(struct talk *t, const char *text)
{
    if (!t->user || !blame_found(text))
        return BOT_OK;
    return incident_nudge(t->in, t->p->ops->name, t->inc.channel, t->user,
                          "Your answer is recorded as you wrote it. A "
                          "blameless review describes conditions and "
                          "systems, not people: what made this possible "
                          "(a missing check, an unclear runbook, an alert "
                          "that did not fire)? `edit <n> <text>` replaces "
                          "it.");
}

static const char *
commander(struct talk *t, struct roles *r)
{
    if (store_roles_get(t->in->c->store, t->inc.id, r))
        return t->user;
    return r->user[ROLE_COMMANDER] ? r->user[ROLE_COMMANDER] : t->user;
}

/* new_action - an action for the commander (else who answered), due in
 * `days`; *id the new one */
static int
new_action(struct talk *t, const char *text, int days, int64_t *id,
           struct chat_msg *m)
{
    char due[TIMEUTIL_BUFLEN];
    struct roles r = {0};
    const char *who = commander(t, &r);
    int rc;

    timeutil_fmt_date(t->now + days * DAY_MS, due);
    if (!who)
        who = "nobody";
    rc = action_create(t->in, t->inc.id, text, who, due, t->user, id);
    if (!rc) {
        chat_msg_text(m, "ACT-%lld %s \xe2\x80\x94 ", (long long)*id, text);
        chat_msg_user(m, who);
        chat_msg_text(m, ", by %s.", due);
    }
    store_roles_clear(&r);
    return rc;
}

/* --- the questions --- */

#define ECHO_MAX 300 /* bytes of an earlier answer a question repeats */

/* shown - text as it may be published: pasted secrets redacted
 * (scrub.h), cut after about max bytes (0: whole) at a character with
 * "…", so a question repeating long answers stays one message; a new
 * string, NULL on ENOMEM */
static char *
shown(const char *text, size_t max)
{
    char *s = scrub_dup(text);
    size_t n;

    if (s && max && (n = strlen(s)) > max) {
        char *cut;

        while (max && ((unsigned char)s[max] & 0xc0) == 0x80)
            max--;
        cut = bot_realloc(s, max + 4);
        if (!cut) {
            bot_free(s);
            return NULL;
        }
        s = cut;
        memcpy(s + max, "\xe2\x80\xa6", 4);
    }
    return s;
}

static void
list_answers(struct talk *t, const char *q, struct chat_msg *m, size_t *n)
{
    struct answer *a = NULL;

    *n = 0;
    if (store_answer_list(t->in->c->store, t->inc.id, q, &a, n)) {
        m->err = m->err ? m->err : BOT_EDB;
        return;
    }
    if (*n)
        chat_msg_text(m, "\nSo far:");
    for (size_t i = 0; i < *n; i++) {
        char *s = shown(a[i].text, ECHO_MAX);

        if (!s) {
            m->err = BOT_ENOMEM;
            break;
        }
        chat_msg_text(m, "\n%lld. %s", (long long)a[i].seq, s);
        bot_free(s);
    }
    store_answer_list_free(a, *n);
}

/* timeline_q - the timeline and its silences longer than review_gap while
 * the incident was open */
static void
timeline_q(struct talk *t, struct chat_msg *m)
{
    struct timeline_entry *tl = NULL;
    size_t n = 0, gaps = 0;
    int64_t gap = (int64_t)t->in->c->cfg->review_gap * 60000;
    int64_t from = t->inc.declared_at, to = t->inc.resolved_at;
    char a[TIMEUTIL_BUFLEN], b[TIMEUTIL_BUFLEN], d[TIMEUTIL_BUFLEN];
    int64_t last = from;

    if (store_timeline_list(t->in->c->store, t->inc.id, &tl, &n)) {
        m->err = BOT_EDB;
        return;
    }
    if (!n)
        chat_msg_text(m, "\nThe timeline is empty.");
    for (size_t i = 0; i < n; i++) {
        char *text;

        if (i == TIMELINE_SHOWN) {
            chat_msg_text(m, "\n\xe2\x80\xa6 and %zu more (`%cpm report` "
                             "has them all)",
                          n - i, t->p->ops->cmd_prefix);
            break;
        }
        if (!(text = shown(tl[i].text, ECHO_MAX))) {
            m->err = BOT_ENOMEM;
            break;
        }
        timeutil_fmt_minute(tl[i].at, a);
        chat_msg_text(m, "\n%s  %s", a + 11, text);
        bot_free(text);
    }
    chat_msg_text(m, "\n");
    for (size_t i = 0; i <= n; i++) {
        int64_t at = i < n ? tl[i].at : to;

        if (at < from)
            continue;
        if (at > to)
            at = to;
        if (at - last > gap) {
            timeutil_fmt_minute(last, a);
            timeutil_fmt_minute(at, b);
            chat_msg_text(m, "%s %s\xe2\x80\x93%s UTC (%s)",
                          gaps ? "," : "\nSilences longer than "
                                       "review_gap while it was open:",
                          a + 11, b + 11,
                          timeutil_fmt_duration(at - last, d));
            gaps++;
        }
        if (at > last)
            last = at;
    }
    if (gaps)
        chat_msg_text(m, ". What happened then? Fill a silence with "
                         "`%cincident at HH:MM <text>`.",
                      t->p->ops->cmd_prefix);
    else
        chat_msg_text(m, "\nNo silence longer than %d min while it was "
                         "open.",
                      t->in->c->cfg->review_gap);
    chat_msg_text(m, "\nAnything missing? Add it with `%cincident at HH:MM "
                     "<text>` or a %s on the message; `next` accepts the "
                     "timeline.",
                  t->p->ops->cmd_prefix, t->in->c->cfg->timeline_emoji);
    store_timeline_list_free(tl, n);
}

static void
layers_line(struct chat_msg *m)
{
    for (int i = 0; i < REVIEW_NLAYERS; i++)
        chat_msg_text(m, "%s%s", i ? ", " : "", review_layer_name(i));
}

/* verdict_msg - the verdict and its numbered proposals */
static int
verdict_msg(struct talk *t, struct chat_msg *m)
{
    struct review_verdict v = review_verdict((unsigned)t->r.applied,
                                             t->r.caught);
    char *props[REVIEW_MAX_PROPOSALS];
    struct strbuf name;
    size_t n;
    int rc;

    strbuf_init(&name, 0);
    review_verdict_name(&v, &name);
    rc = strbuf_error(&name) ? BOT_ENOMEM : review_proposals(&v, props, &n);
    if (rc) {
        strbuf_cleanup(&name);
        return rc;
    }
    chat_msg_text(m, "Verdict: ");
    chat_msg_bold(m, "%s", strbuf_str(&name));
    chat_msg_text(m, "\nProposed follow-up actions (for the commander, due "
                     "in 14 days):");
    for (size_t i = 0; i < n; i++)
        chat_msg_text(m, "\n%zu. %s", i + 1, props[i]);
    chat_msg_text(m, "\nReply `accept` (all), `accept` with their numbers "
                     "(some, e.g. `accept 1`) or `next` (none).");
    review_proposals_free(props, n);
    strbuf_cleanup(&name);
    return m->err;
}

/* ask - post the current step's question */
static int
ask(struct talk *t)
{
    struct chat_msg m;
    char pre = t->p->ops->cmd_prefix;
    int step = t->r.step;
    size_t n;

    chat_msg_init(&m);
    if (step < REVIEW_FOUND_Q && !t->r.layers_only)
        chat_msg_bold(&m, "Question %d of %d \xc2\xb7 %s", q_number(t, step),
                      q_total(t), step_title(step));
    else
        chat_msg_bold(&m, "%s%s", t->r.layers_only ? "" : "Question 6 of 6 "
                                                          "\xc2\xb7 ",
                      "Security layers");
    switch (step) {
    case REVIEW_TIMELINE:
        timeline_q(t, &m);
        break;
    case REVIEW_ROOT:
        chat_msg_text(&m, "\nWhat made this incident possible? One answer, "
                          "about conditions and systems; `unknown` if it is "
                          "not known yet (an action is then made for the "
                          "commander to find it).");
        if (t->inc.root_cause) {
            char *s = shown(t->inc.root_cause, 3 * ECHO_MAX);

            chat_msg_text(&m, "\nSo far: %s", s ? s : "");
            if (!s)
                m.err = BOT_ENOMEM;
            bot_free(s);
        }
        break;
    case REVIEW_WELL:
    case REVIEW_BETTER:
        chat_msg_text(&m, step == REVIEW_WELL
                              ? "\nWhat worked well? One item per reply, "
                                "`next` when done."
                              : "\nWhat could be better? One item per "
                                "reply, `next` when done.");
        list_answers(t, list_q[step], &m, &n);
        break;
    case REVIEW_ACTIONS:
        chat_msg_text(&m, "\nFollow-up actions: one `<text> @user "
                          "YYYY-MM-DD` per reply, `next` when done. Each "
                          "needs an owner and a target date (`%cpm "
                          "actions` lists them).",
                      pre);
        break;
    case REVIEW_FOUND_Q:
        chat_msg_text(&m, "\nWhere was the bug found? `production`, "
                          "`pre-production` (the last layer before "
                          "production) or `earlier`.");
        break;
    case REVIEW_APPLIED_Q:
        chat_msg_text(&m, "\nWhich layers were applied? A comma-separated "
                          "list of ");
        layers_line(&m);
        chat_msg_text(&m, ", or `none`.");
        break;
    case REVIEW_VERDICT_Q:
        chat_msg_nl(&m);
        if (verdict_msg(t, &m) && !m.err)
            m.err = BOT_ENOMEM;
        break;
    default: {
        int i = step - REVIEW_LAYER_Q;
        int applied = (unsigned)t->r.applied & (1u << i);

        chat_msg_text(&m, "\nLayer %d of %d \xc2\xb7 %s (%s): %s reasonably "
                          "have caught this bug? `yes` or `no`.",
                      i + 1, REVIEW_NLAYERS, review_layer_name(i),
                      applied ? "applied" : "not applied",
                      applied ? "should it" : "would it");
        break;
    }
    }
    return say(t, &m);
}

/* --- moving on --- */

static int
finish(struct talk *t)
{
    struct chat_msg m;
    char pre = t->p->ops->cmd_prefix;

    t->r.state = REVIEW_DONE;
    t->r.step = REVIEW_END;
    if (!t->r.layers_only)
        t->r.full_done = 1;
    chat_msg_init(&m);
    chat_msg_bold(&m, "%s of INC-%lld is complete.",
                  t->r.layers_only ? "The security-layer analysis"
                                   : "The blameless review",
                  (long long)t->inc.id);
    if (!t->r.layers_only && !asks_layers(t) && t->r.found < 0)
        chat_msg_text(&m, " The security-layer analysis is for SEV1 or "
                          "worse (this is %s); `%cpm layers` runs it anyway.",
                      incident_sev_name(t->inc.severity), pre);
    else if (t->r.found == REVIEW_FOUND_EARLIER)
        chat_msg_text(&m, " Found before the last pre-production layer: "
                          "the layers did their job.");
    chat_msg_text(&m, " `%cpm report` posts the summary and publishes the "
                      "document.",
                  pre);
    return say(t, &m);
}

/* go - to step (the layer analysis only when it is asked), and ask it */
static int
go(struct talk *t, int step)
{
    struct review_verdict v;

    /* not asked below SEV1; not again once /pm layers settled them (found
     * earlier, or the verdict's proposals answered) */
    if (step == REVIEW_FOUND_Q &&
        (!asks_layers(t) ||
         (!t->r.layers_only &&
          (t->r.found == REVIEW_FOUND_EARLIER ||
           (review_row_verdict(&t->r, &v) && t->r.accepted >= 0)))))
        step = REVIEW_END;
    t->r.step = step;
    if (step >= REVIEW_END)
        return finish(t);
    return ask(t);
}

static int
back(struct talk *t)
{
    int step = t->r.step;

    if (step == REVIEW_TIMELINE ||
        (t->r.layers_only && step == REVIEW_FOUND_Q))
        return sayf(t, "This is the first question.");
    t->r.step = step - 1; /* as asked: back never skips a question */
    return ask(t);
}

static int
next(struct talk *t)
{
    struct chat_msg m;

    switch (t->r.step) {
    case REVIEW_ROOT:
        if (!t->inc.root_cause && !t->r.root_action)
            return sayf(t, "The root cause needs one answer first (or "
                           "`unknown`; `skip` leaves it for later).");
        break;
    case REVIEW_FOUND_Q:
        if (t->r.found < 0)
            return sayf(t, "Where was it found? `production`, "
                           "`pre-production` or `earlier`.");
        if (t->r.found == REVIEW_FOUND_EARLIER)
            return go(t, REVIEW_END);
        break;
    case REVIEW_APPLIED_Q:
        if (t->r.applied < 0) {
            chat_msg_init(&m);
            chat_msg_text(&m, "Which layers were applied? ");
            layers_line(&m);
            chat_msg_text(&m, ", or `none`.");
            return say(t, &m);
        }
        break;
    case REVIEW_VERDICT_Q:
        t->r.accepted = 0; /* none taken */
        return go(t, REVIEW_END);
    default:
        if (t->r.step >= REVIEW_LAYER_Q &&
            !(t->r.asked & (1u << (t->r.step - REVIEW_LAYER_Q))))
            return sayf(t, "`yes` or `no`?");
        break;
    }
    return go(t, t->r.step + 1);
}

static int
skip(struct talk *t)
{
    int step = t->r.step;

    if (step >= REVIEW_LAYER_Q && step < REVIEW_VERDICT_Q)
        return sayf(t, "The verdict needs every layer's `yes` or `no`; "
                       "`stop` pauses the review, `back` goes back.");
    t->r.skipped |= 1u << step;
    if (step == REVIEW_FOUND_Q || step == REVIEW_APPLIED_Q) {
        /* no verdict without them */
        t->r.applied = -1;
        if (step == REVIEW_FOUND_Q)
            t->r.found = REVIEW_FOUND_NONE;
        return go(t, REVIEW_END);
    }
    if (step == REVIEW_VERDICT_Q)
        t->r.accepted = 0;
    return go(t, step + 1);
}

static int
status(struct talk *t)
{
    struct chat_msg m;
    size_t nw = 0, nb = 0;
    struct answer *a = NULL;
    struct store *st = t->in->c->store;
    int rc;

    rc = store_answer_list(st, t->inc.id, list_q[REVIEW_WELL], &a, &nw);
    store_answer_list_free(a, nw);
    if (!rc)
        rc = store_answer_list(st, t->inc.id, list_q[REVIEW_BETTER], &a, &nb);
    store_answer_list_free(a, nb);
    if (rc)
        return rc;
    chat_msg_init(&m);
    chat_msg_text(&m, "Review of INC-%lld: ", (long long)t->inc.id);
    if (t->r.layers_only)
        chat_msg_text(&m, "the security-layer analysis");
    else
        chat_msg_text(&m, "question %d of %d (%s)", q_number(t, t->r.step),
                      q_total(t), step_title(t->r.step));
    if (t->r.step >= REVIEW_LAYER_Q && t->r.step < REVIEW_VERDICT_Q)
        chat_msg_text(&m, ", layer %d of %d",
                      t->r.step - REVIEW_LAYER_Q + 1, REVIEW_NLAYERS);
    chat_msg_text(&m, ". Root cause: %s. Worked well: %zu. Could be "
                      "better: %zu.",
                  t->inc.root_cause ? "recorded"
                  : t->r.root_action ? "unknown (an action finds it)"
                                     : "not yet",
                  nw, nb);
    if (t->r.state == REVIEW_STOPPED)
        chat_msg_text(&m, " Paused: `%cpm start` resumes it.",
                      t->p->ops->cmd_prefix);
    return say(t, &m);
}

static int
stop(struct talk *t)
{
    struct chat_msg m;

    t->r.state = REVIEW_STOPPED;
    chat_msg_init(&m);
    chat_msg_text(&m, "Review paused at %s. `%cpm start` resumes it here, "
                      "with every answer so far.",
                  step_title(t->r.step), t->p->ops->cmd_prefix);
    return say(t, &m);
}

static int answer(struct talk *t, const char *text);

static int
edit(struct talk *t, long n, const char *text)
{
    struct store *st = t->in->c->store;
    int step = t->r.step, rc;

    if (step == REVIEW_ROOT) {
        if (n != 1 || !t->inc.root_cause)
            return sayf(t, "The root cause has one answer: `edit 1 <text>` "
                           "replaces it once it is given.");
        return answer(t, text); /* `unknown` too */
    } else if (step == REVIEW_WELL || step == REVIEW_BETTER) {
        rc = store_answer_set(st, t->inc.id, list_q[step], n, text, t->user,
                              t->now);
        if (rc == BOT_ENOTFOUND) {
            struct chat_msg m;

            chat_msg_init(&m);
            chat_msg_text(&m, "There is no answer %ld to this question.", n);
            return say(t, &m);
        }
    } else {
        return sayf(t, "`edit` replaces an answer of the root cause, worked "
                       "well or could be better; here, answer again.");
    }
    if (!rc)
        rc = recorded(t);
    if (!rc)
        rc = nudge_if_blame(t, text);
    return rc;
}

/* --- answers --- */

static int
answer_actions(struct talk *t, const char *text)
{
    struct action a = {0};
    const char *why = NULL;
    struct chat_msg m;
    int64_t id;
    int rc;

    rc = action_add(t->in, t->p, &t->inc, text, t->user, &id, &a, &why);
    chat_msg_init(&m);
    if (rc == BOT_EINVAL) {
        chat_msg_text(&m, "Not added: %s. One action per reply: `<text> "
                          "@user YYYY-MM-DD`.",
                      why);
        return say(t, &m);
    }
    if (rc)
        return rc;
    {
        char *s = shown(a.text, 0);

        chat_msg_text(&m, "ACT-%lld added: %s \xe2\x80\x94 ", (long long)id,
                      s ? s : "");
        if (!s)
            m.err = BOT_ENOMEM;
        bot_free(s);
    }
    chat_msg_user(&m, a.assignee);
    chat_msg_text(&m, ", by %s.", a.due_date);
    store_action_clear(&a);
    rc = say(t, &m);
    if (!rc)
        rc = nudge_if_blame(t, text);
    return rc;
}

static int
answer_layers(struct talk *t, const char *text)
{
    struct chat_msg m;
    unsigned mask;
    char *bad = NULL;
    int rc = review_parse_layers(text, &mask, &bad);

    if (rc == BOT_ENOMEM)
        return rc;
    if (rc) {
        chat_msg_init(&m);
        if (bad) {
            char *s = shown(bad, 0);

            if (!s)
                m.err = BOT_ENOMEM;
            else
                chat_msg_text(&m, "\xe2\x80\x9c%s\xe2\x80\x9d is not a "
                                  "layer. ",
                              s);
            bot_free(s);
        }
        chat_msg_text(&m, "The eight are: ");
        layers_line(&m);
        chat_msg_text(&m, ". Reply with those applied, comma-separated, or "
                          "`none`.");
        bot_free(bad);
        return say(t, &m);
    }
    t->r.applied = mask;
    t->r.caught = t->r.asked = 0;
    t->r.accepted = -1;
    rc = recorded(t);
    return rc ? rc : go(t, REVIEW_LAYER_Q);
}

static int
answer_verdict(struct talk *t, const char *text)
{
    struct review_verdict v = review_verdict((unsigned)t->r.applied,
                                             t->r.caught);
    char *props[REVIEW_MAX_PROPOSALS];
    struct chat_msg m;
    unsigned mask;
    size_t n;
    int rc = review_proposals(&v, props, &n);

    if (rc)
        return rc;
    rc = review_parse_accept(text, n, &mask);
    if (rc) {
        review_proposals_free(props, n);
        chat_msg_init(&m);
        chat_msg_text(&m, "Reply `accept` (all %zu), `accept <n...>` with "
                          "numbers from 1 to %zu, or `next` (none).",
                      n, n);
        return say(t, &m);
    }
    chat_msg_init(&m);
    chat_msg_text(&m, "Accepted:");
    for (size_t i = 0; !rc && i < n; i++) {
        int64_t id;

        if (!(mask & (1u << i)))
            continue;
        chat_msg_nl(&m);
        rc = new_action(t, props[i], 14, &id, &m);
    }
    review_proposals_free(props, n);
    t->r.accepted = mask;
    if (!rc)
        rc = say(t, &m);
    else
        chat_msg_cleanup(&m);
    return rc ? rc : go(t, REVIEW_END);
}

static int
answer(struct talk *t, const char *text)
{
    struct store *st = t->in->c->store;
    struct chat_msg m;
    int step = t->r.step, rc, yes;

    t->r.skipped &= ~(1u << step);
    switch (step) {
    case REVIEW_TIMELINE: {
        chat_msg_init(&m);
        chat_msg_text(&m, "The timeline takes entries with `%cincident at "
                          "HH:MM <text>` or a %s on a message; `next` "
                          "accepts it.",
                      t->p->ops->cmd_prefix, t->in->c->cfg->timeline_emoji);
        return say(t, &m);
    }
    case REVIEW_ROOT: {
        int64_t id;

        if (review_parse_yes(text) < 0 && !strncasecmp(text, "unknown", 7) &&
            strspn(text + 7, " .!") == strlen(text + 7)) {
            if (!t->r.root_action) {
                chat_msg_init(&m);
                chat_msg_text(&m, "Root cause unknown for now: ");
                rc = new_action(t, "Identify and document the root cause", 7,
                                &id, &m);
                if (rc) {
                    chat_msg_cleanup(&m);
                    return rc;
                }
                t->r.root_action = id;
                rc = say(t, &m);
            } else {
                rc = BOT_OK;
            }
            if (!rc)
                rc = store_incident_set_root_cause(st, t->inc.id, NULL);
            return rc ? rc : go(t, REVIEW_WELL);
        }
        rc = store_incident_set_root_cause(st, t->inc.id, text);
        if (!rc)
            rc = recorded(t);
        if (!rc)
            rc = nudge_if_blame(t, text);
        return rc ? rc : go(t, REVIEW_WELL);
    }
    case REVIEW_WELL:
    case REVIEW_BETTER:
        rc = store_answer_add(st, t->inc.id, list_q[step], text, t->user,
                              t->now, NULL);
        if (!rc)
            rc = recorded(t);
        if (!rc)
            rc = nudge_if_blame(t, text);
        return rc;
    case REVIEW_ACTIONS:
        return answer_actions(t, text);
    case REVIEW_FOUND_Q:
        yes = review_parse_found(text);
        if (yes == REVIEW_FOUND_NONE)
            return sayf(t, "Where was it found? `production`, "
                           "`pre-production` (the last layer before "
                           "production) or `earlier`.");
        t->r.found = yes;
        rc = recorded(t);
        if (rc)
            return rc;
        return go(t, t->r.found == REVIEW_FOUND_EARLIER ? REVIEW_END
                                                        : REVIEW_APPLIED_Q);
    case REVIEW_APPLIED_Q:
        return answer_layers(t, text);
    case REVIEW_VERDICT_Q:
        return answer_verdict(t, text);
    default:
        yes = review_parse_yes(text);
        if (yes < 0)
            return sayf(t, "`yes` or `no`?");
        {
            unsigned bit = 1u << (step - REVIEW_LAYER_Q);

            t->r.asked |= bit;
            t->r.caught = yes ? t->r.caught | bit : t->r.caught & ~bit;
        }
        rc = recorded(t);
        return rc ? rc : go(t, step + 1);
    }
}

/* --- entry points --- */

static int
load(struct talk *t, struct incidents *in, struct chat_platform *p,
     int64_t incident_id, int running_only)
{
    int rc;

    memset(t, 0, sizeof(*t));
    t->in = in;
    t->p = p;
    t->now = core_now_ms(in->c);
    rc = store_review_get(in->c->store, incident_id, &t->r);
    /* a message while no review runs costs one lookup, not two */
    if (!rc && (t->r.state == REVIEW_RUNNING || !running_only)) {
        rc = store_incident_get(in->c->store, incident_id, &t->inc);
        if (rc)
            store_review_clear(&t->r);
    }
    return rc;
}

static void
unload(struct talk *t)
{
    store_review_clear(&t->r);
    store_incident_clear(&t->inc);
}

/* in_thread - ev is an answer: a reply in the review's thread, or any
 * message where there is no thread to reply in */
static int
in_thread(struct talk *t, const struct chat_event *ev, int *yes)
{
    char *parent = NULL;
    int state = 0, rc;

    *yes = 0;
    if (!chat_can(t->p, CHAT_CAN_THREAD) || !t->r.thread_row) {
        *yes = 1;
        return BOT_OK;
    }
    if (t->r.thread_id) {
        *yes = ev->thread_id && !strcmp(ev->thread_id, t->r.thread_id);
        return BOT_OK;
    }
    rc = store_outbox_result(t->in->c->store, t->r.thread_row, &parent,
                             &state);
    if (rc == BOT_ENOTFOUND) { /* pruned: the thread is long gone */
        *yes = !ev->thread_id;
        return BOT_OK;
    }
    if (rc)
        return rc;
    if (parent) {
        *yes = ev->thread_id && !strcmp(ev->thread_id, parent);
        t->r.thread_id = parent; /* kept with the review from now on */
        return BOT_OK;
    }
    if (state != 0) /* the parent failed: the questions are in the room */
        *yes = !ev->thread_id;
    return BOT_OK;
}

int
review_hear(struct incidents *in, struct chat_platform *p,
            const struct chat_event *ev, int64_t incident_id, int *heard)
{
    struct talk t;
    const char *text, *arg;
    long n;
    int rc, yes;

    if (heard)
        *heard = 0;
    if (!ev->text || !chat_text_visible(ev->text))
        return BOT_OK;
    rc = load(&t, in, p, incident_id, 1);
    if (rc == BOT_ENOTFOUND)
        return BOT_OK;
    if (rc)
        return rc;
    if (t.r.state != REVIEW_RUNNING) {
        unload(&t);
        return BOT_OK;
    }
    rc = in_thread(&t, ev, &yes);
    if (rc || !yes) {
        unload(&t);
        return rc;
    }
    if (heard)
        *heard = 1;
    t.user = ev->user;
    t.msg_id = ev->msg_id;
    text = ev->text;
    while (isspace((unsigned char)*text))
        text++;
    switch (review_parse_steer(text, &n, &arg)) {
    case REVIEW_NEXT: rc = next(&t); break;
    case REVIEW_BACK: rc = back(&t); break;
    case REVIEW_SKIP: rc = skip(&t); break;
    case REVIEW_STATUS: rc = status(&t); break;
    case REVIEW_STOP: rc = stop(&t); break;
    case REVIEW_EDIT: rc = edit(&t, n, arg); break;
    case REVIEW_USAGE: rc = sayf(&t, arg); break;
    default: rc = answer(&t, text); break;
    }
    if (!rc) {
        t.r.updated_at = t.now;
        rc = store_review_put(in->c->store, &t.r);
    }
    unload(&t);
    return rc;
}

/* intro - the parent message whose thread holds the questions */
static int
intro(struct talk *t)
{
    struct chat_msg m;
    char *title = scrub_dup(t->inc.title);
    int rc;

    if (!title)
        return BOT_ENOMEM;
    chat_msg_init(&m);
    chat_msg_bold(&m, "%s of INC-%lld", t->r.layers_only
                                           ? "Security-layer analysis"
                                           : "Blameless review",
                  (long long)t->inc.id);
    chat_msg_text(&m, " \xc2\xb7 %s\nOne question at a time; %s are the "
                      "answers, from anyone. Steering words: `next`, "
                      "`back`, `skip`, `status`, `stop`, `edit <n> "
                      "<text>`. Describe conditions and systems, not "
                      "people.",
                  title,
                  chat_can(t->p, CHAT_CAN_THREAD) ? "replies in this thread"
                                                  : "messages in this "
                                                    "channel");
    bot_free(title);
    rc = m.err ? m.err
               : outbox_post(t->in->c->outbox, t->p->ops->name,
                             &(struct chat_target){.room = t->inc.channel},
                             &m, &t->r.thread_row);
    chat_msg_cleanup(&m);
    return rc;
}

int
review_start(struct incidents *in, const struct asker *a,
             const struct incident *inc, int layers, const char **why)
{
    struct talk t;
    struct chat_msg m;
    int rc;

    if (inc->state != INCIDENT_RESOLVED) {
        *why = "the review looks back on a resolved incident: "
               "resolve it first";
        return BOT_EINVAL;
    }
    rc = load(&t, in, a->p, inc->id, 0);
    if (rc && rc != BOT_ENOTFOUND)
        return rc;
    if (rc == BOT_ENOTFOUND) {
        rc = store_incident_get(in->c->store, inc->id, &t.inc);
        if (rc)
            return rc;
        t.r.incident_id = inc->id;
        t.r.state = REVIEW_RUNNING;
        t.r.layers_only = layers;
        t.r.step = layers ? REVIEW_FOUND_Q : REVIEW_TIMELINE;
        t.r.found = REVIEW_FOUND_NONE;
        t.r.applied = t.r.accepted = -1;
        t.r.started_at = t.now;
        t.r.started_by = a->ev->user ? bot_strdup(a->ev->user) : NULL;
        rc = intro(&t);
        if (!rc)
            rc = ask(&t);
    } else if (t.r.state == REVIEW_STOPPED) {
        t.r.state = REVIEW_RUNNING;
        rc = sayf(&t, "Resuming the review where it stopped.");
        if (!rc)
            rc = ask(&t);
    } else if (t.r.state == REVIEW_DONE && !layers && !t.r.full_done) {
        /* /pm layers ran alone: now the rest of the questionnaire */
        t.r.state = REVIEW_RUNNING;
        t.r.layers_only = 0;
        t.r.step = REVIEW_TIMELINE;
        rc = sayf(&t, "The rest of the blameless review, from the "
                      "timeline.");
        if (!rc)
            rc = ask(&t);
    } else if (t.r.state == REVIEW_DONE && layers && t.r.found < 0) {
        /* the review ran without the layers: run them now */
        t.r.state = REVIEW_RUNNING;
        t.r.layers_only = 1;
        t.r.step = REVIEW_FOUND_Q;
        t.r.skipped &= ~((1u << REVIEW_FOUND_Q) | (1u << REVIEW_APPLIED_Q));
        rc = sayf(&t, "The security-layer analysis of this incident.");
        if (!rc)
            rc = ask(&t);
    } else {
        chat_msg_init(&m);
        t.user = a->ev->user;
        if (t.r.state == REVIEW_DONE)
            chat_msg_text(&m, "The review of INC-%lld is complete: `%cpm "
                              "report` publishes it.",
                          (long long)inc->id, a->p->ops->cmd_prefix);
        else
            chat_msg_text(&m, "The review of INC-%lld is running, at %s: "
                              "answer %s, or `status` for where it stands.",
                          (long long)inc->id, step_title(t.r.step),
                          chat_can(a->p, CHAT_CAN_THREAD)
                              ? "in its thread"
                              : "here");
        unload(&t);
        return m.err ? m.err : incident_reply(a, &m);
    }
    if (!rc) {
        t.r.updated_at = t.now;
        rc = store_review_put(in->c->store, &t.r);
    }
    unload(&t);
    return rc;
}

/* --- the summary /pm report posts --- */

int
review_summary(struct incidents *in, const struct incident *inc,
               struct chat_msg *m)
{
    struct store *st = in->c->store;
    struct review_row r;
    struct answer *a = NULL;
    struct action *acts = NULL;
    size_t nw = 0, nb = 0, nact = 0;
    struct review_verdict v;
    char *root = NULL;
    int rc, have;

    rc = incident_summary(in, inc, m);
    if (rc)
        return rc;
    rc = store_review_get(st, inc->id, &r);
    have = !rc;
    if (rc && rc != BOT_ENOTFOUND)
        return rc;
    rc = store_answer_list(st, inc->id, list_q[REVIEW_WELL], &a, &nw);
    store_answer_list_free(a, nw);
    if (!rc)
        rc = store_answer_list(st, inc->id, list_q[REVIEW_BETTER], &a, &nb);
    store_answer_list_free(a, nb);
    if (!rc)
        rc = store_action_list(st, inc->id, 0, &acts, &nact);
    if (rc)
        goto out;
    if (inc->root_cause && !(root = scrub_dup(inc->root_cause))) {
        rc = BOT_ENOMEM;
        goto out;
    }
    chat_msg_nl(m);
    chat_msg_text(m, "Root cause: %s", root ? root
                                       : have && r.root_action
                                           ? "unknown (an action finds it)"
                                           : "not yet identified");
    chat_msg_nl(m);
    chat_msg_text(m, "Worked well: %zu \xc2\xb7 Could be better: %zu", nw,
                  nb);
    chat_msg_nl(m);
    chat_msg_text(m, "Security layers: ");
    if (have && r.found == REVIEW_FOUND_EARLIER) {
        chat_msg_text(m, "found earlier, the layers did their job");
    } else if (have && review_row_verdict(&r, &v)) {
        struct strbuf name;

        strbuf_init(&name, 0);
        review_verdict_name(&v, &name);
        chat_msg_bold(m, "%s", strbuf_str(&name));
        strbuf_cleanup(&name);
    } else if (inc->severity > 1 && !(have && r.layers_only)) {
        chat_msg_text(m, "not required for %s",
                      incident_sev_name(inc->severity));
    } else {
        chat_msg_text(m, "not yet assessed");
    }
    for (size_t i = 0; i < nact; i++) {
        char *text = scrub_dup(acts[i].text);

        if (!text) {
            rc = BOT_ENOMEM;
            goto out;
        }
        chat_msg_nl(m);
        chat_msg_text(m, "\xe2\x80\xa2 ACT-%lld %s \xe2\x80\x94 ",
                      (long long)acts[i].id, text);
        chat_msg_user(m, acts[i].assignee);
        chat_msg_text(m, ", by %s", acts[i].due_date);
        bot_free(text);
    }
    rc = m->err;
out:
    bot_free(root);
    store_action_list_free(acts, nact);
    if (have)
        store_review_clear(&r);
    return rc;
}
